"""The reference model (benches/reference.ron) in SimPy, written the usual way:
one process per request holding each agent's compute unit and uplink
(Resource, capacity 1) in turn, then one of the server's 4 workers.

Float time in seconds; fading drawn only for the blocks a transmission touches.
Usage: python3 simpy_model.py [HORIZON_S] [SEED]   (defaults 4000 and 1)
"""
import math
import random
import sys
import time

import simpy

AGENTS, RATE_HZ, COMPUTE_S = 50, 5.0, 0.020
PAYLOAD_BITS, BANDWIDTH_HZ, MEAN_SNR, BLOCK_S = 1e6, 20e6, 10.0, 0.010
WORKERS, SERVICE_MEAN_S = 4, 0.015


class Agent:
    def __init__(self, env, rng):
        self.env, self.rng = env, rng
        self.cpu = simpy.Resource(env, capacity=1)
        self.radio = simpy.Resource(env, capacity=1)
        self.block = (-1, 0.0)

    def tx_time(self):
        now = self.env.now
        t, left = now, PAYLOAD_BITS
        while True:
            k = math.floor(t / BLOCK_S + 1e-9)
            if self.block[0] != k:
                self.block = (k, self.rng.expovariate(1.0))
            rate = BANDWIDTH_HZ * math.log2(1.0 + MEAN_SNR * self.block[1])
            block_end = (k + 1) * BLOCK_S
            can = rate * (block_end - t)
            if can >= left:
                return min(t + left / rate, block_end) - now
            left -= can
            t = block_end


def request(env, agent, server, service_rng, latencies):
    created = env.now
    with agent.cpu.request() as r:
        yield r
        yield env.timeout(COMPUTE_S)
    with agent.radio.request() as r:
        yield r
        yield env.timeout(agent.tx_time())
    with server.request() as r:
        yield r
        yield env.timeout(service_rng.expovariate(1.0 / SERVICE_MEAN_S))
    latencies.append(env.now - created)


def source(env, agent, horizon, server, service_rng, latencies):
    while True:
        yield env.timeout(agent.rng.expovariate(RATE_HZ))
        if env.now >= horizon:
            return
        env.process(request(env, agent, server, service_rng, latencies))


def main():
    horizon = float(sys.argv[1]) if len(sys.argv) > 1 else 4000.0
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    start = time.perf_counter()
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=WORKERS)
    service_rng = random.Random(seed * 1000 + 999)
    latencies = []
    for i in range(AGENTS):
        agent = Agent(env, random.Random(seed * 1000 + i))
        env.process(source(env, agent, horizon, server, service_rng, latencies))
    events = 0
    try:
        while env.peek() <= horizon:
            env.step()
            events += 1
    except simpy.core.EmptySchedule:
        pass
    latencies.sort()
    n = len(latencies)
    q = lambda p: latencies[max(math.ceil(p * n) - 1, 0)]
    print(f"peer=simpy requests={n} mean_s={sum(latencies) / n:.6f} p50_s={q(0.5):.6f} "
          f"p99_s={q(0.99):.6f} events={events} wall_s={time.perf_counter() - start:.3f}")


if __name__ == "__main__":
    main()
