"""The reference model (benches/reference.ron) as a plain Python heapq loop.

Integer-nanosecond clock, one random.Random per agent (arrivals, fading) and
one for service times; fading drawn only for the blocks a transmission touches.
Usage: python3 heapq_loop.py [HORIZON_S] [SEED]   (defaults 4000 and 1)
"""
import heapq
import math
import random
import sys
import time
from collections import deque

AGENTS, RATE_HZ, COMPUTE_NS = 50, 5.0, 20_000_000
PAYLOAD_BITS, BANDWIDTH_HZ, MEAN_SNR, BLOCK_NS = 1e6, 20e6, 10.0, 10_000_000
WORKERS, SERVICE_MEAN_S = 4, 0.015
ARRIVAL, COMPUTE_DONE, TX_DONE, SERVICE_DONE = 0, 1, 2, 3


def ns(s):
    return math.ceil(s * 1e9)


def main():
    horizon_s = float(sys.argv[1]) if len(sys.argv) > 1 else 4000.0
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    start = time.perf_counter()
    horizon = ns(horizon_s)
    rngs = [random.Random(seed * 1000 + i) for i in range(AGENTS)]
    service_rng = random.Random(seed * 1000 + 999)
    computing = [None] * AGENTS
    compute_q = [deque() for _ in range(AGENTS)]
    sending = [None] * AGENTS
    tx_q = [deque() for _ in range(AGENTS)]
    block = [(-1, 0.0)] * AGENTS
    server_q, workers, latencies = deque(), [None] * WORKERS, []
    heap, seq = [], 0

    def push(t, kind, who):
        nonlocal seq
        seq += 1
        heapq.heappush(heap, (t, seq, kind, who))

    def tx_end(i, now):
        t, left = now, PAYLOAD_BITS
        while True:
            k = t // BLOCK_NS
            b, g = block[i]
            if b != k:
                g = rngs[i].expovariate(1.0)
                block[i] = (k, g)
            rate = BANDWIDTH_HZ * math.log2(1.0 + MEAN_SNR * g)
            block_end = (k + 1) * BLOCK_NS
            can = rate * (block_end - t) * 1e-9
            if can >= left:
                return min(t + ns(left / rate), block_end)
            left -= can
            t = block_end

    def dispatch(now):
        for w in range(WORKERS):
            if workers[w] is None and server_q:
                workers[w] = server_q.popleft()
                push(now + ns(service_rng.expovariate(1.0) * SERVICE_MEAN_S), SERVICE_DONE, w)

    for i in range(AGENTS):
        t = ns(rngs[i].expovariate(1.0) / RATE_HZ)
        if t < horizon:
            push(t, ARRIVAL, i)
    events = 0
    while heap:
        now, _, kind, i = heapq.heappop(heap)
        if now > horizon:
            break
        events += 1
        if kind == ARRIVAL:
            if computing[i] is None:
                computing[i] = now
                push(now + COMPUTE_NS, COMPUTE_DONE, i)
            else:
                compute_q[i].append(now)
            nxt = now + ns(rngs[i].expovariate(1.0) / RATE_HZ)
            if nxt < horizon:
                push(nxt, ARRIVAL, i)
        elif kind == COMPUTE_DONE:
            created, computing[i] = computing[i], None
            if sending[i] is None:
                sending[i] = created
                push(tx_end(i, now), TX_DONE, i)
            else:
                tx_q[i].append(created)
            if compute_q[i]:
                computing[i] = compute_q[i].popleft()
                push(now + COMPUTE_NS, COMPUTE_DONE, i)
        elif kind == TX_DONE:
            created, sending[i] = sending[i], None
            if tx_q[i]:
                sending[i] = tx_q[i].popleft()
                push(tx_end(i, now), TX_DONE, i)
            server_q.append(created)
            dispatch(now)
        else:
            created, workers[i] = workers[i], None
            latencies.append((now - created) * 1e-9)
            dispatch(now)
    latencies.sort()
    n = len(latencies)
    q = lambda p: latencies[max(math.ceil(p * n) - 1, 0)]
    print(f"peer=heapq requests={n} mean_s={sum(latencies) / n:.6f} p50_s={q(0.5):.6f} "
          f"p99_s={q(0.99):.6f} events={events} wall_s={time.perf_counter() - start:.3f}")


if __name__ == "__main__":
    main()
