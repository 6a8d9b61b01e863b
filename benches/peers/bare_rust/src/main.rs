//! The reference model (`benches/reference.ron`) as a bare Rust loop over a
//! `BinaryHeap`: integer-nanosecond clock, one ChaCha8 stream per agent,
//! fading drawn only for the blocks a transmission touches (one Exp(1) per
//! new block, independent blocks), latencies kept in a `Vec` and sorted.
//!
//! Usage: `bare_rust [HORIZON_S] [SEED]` (defaults 4000 and 1).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::Exp1;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::time::Instant;

const AGENTS: usize = 50;
const RATE_HZ: f64 = 5.0;
const COMPUTE_NS: u64 = 20_000_000;
const PAYLOAD_BITS: f64 = 1e6;
const BANDWIDTH_HZ: f64 = 20e6;
const MEAN_SNR: f64 = 10.0;
const BLOCK_NS: u64 = 10_000_000;
const WORKERS: usize = 4;
const SERVICE_MEAN_S: f64 = 0.015;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Arrival(u32),
    ComputeDone(u32),
    TxDone(u32),
    ServiceDone(u32),
}

#[derive(Default)]
struct Agent {
    computing: Option<u64>,
    compute_q: VecDeque<u64>,
    sending: Option<u64>,
    tx_q: VecDeque<u64>,
    /// The block whose gain is held, and the gain.
    block: Option<(u64, f64)>,
}

fn ns(s: f64) -> u64 {
    (s * 1e9).ceil() as u64
}

struct Sim {
    now: u64,
    seq: u64,
    heap: BinaryHeap<Reverse<(u64, u64, Ev)>>,
    agents: Vec<Agent>,
    rngs: Vec<ChaCha8Rng>,
    service_rng: ChaCha8Rng,
    server_q: VecDeque<u64>,
    workers: Vec<Option<u64>>,
    latencies: Vec<f64>,
}

impl Sim {
    fn push(&mut self, t: u64, e: Ev) {
        self.seq += 1;
        self.heap.push(Reverse((t, self.seq, e)));
    }

    fn gain(&mut self, i: usize, k: u64) -> f64 {
        match self.agents[i].block {
            Some((b, g)) if b == k => g,
            _ => {
                let g: f64 = self.rngs[i].sample(Exp1);
                self.agents[i].block = Some((k, g));
                g
            }
        }
    }

    /// End of a transmission from `now`, block by block.
    fn tx_end(&mut self, i: usize) -> u64 {
        let (mut t, mut left) = (self.now, PAYLOAD_BITS);
        loop {
            let k = t / BLOCK_NS;
            let rate = BANDWIDTH_HZ * (1.0 + MEAN_SNR * self.gain(i, k)).log2();
            let block_end = (k + 1) * BLOCK_NS;
            let can = rate * (block_end - t) as f64 * 1e-9;
            if can >= left {
                return (t + ns(left / rate)).min(block_end);
            }
            left -= can;
            t = block_end;
        }
    }

    fn start_compute(&mut self, i: usize, created: u64) {
        self.agents[i].computing = Some(created);
        self.push(self.now + COMPUTE_NS, Ev::ComputeDone(i as u32));
    }

    fn start_tx(&mut self, i: usize, created: u64) {
        self.agents[i].sending = Some(created);
        let end = self.tx_end(i);
        self.push(end, Ev::TxDone(i as u32));
    }

    fn dispatch(&mut self) {
        while let Some(w) = self.workers.iter().position(Option::is_none) {
            let Some(created) = self.server_q.pop_front() else { return };
            self.workers[w] = Some(created);
            let s: f64 = self.service_rng.sample(Exp1);
            self.push(self.now + ns(s * SERVICE_MEAN_S), Ev::ServiceDone(w as u32));
        }
    }

    fn handle(&mut self, e: Ev, horizon: u64) {
        match e {
            Ev::Arrival(i) => {
                let i = i as usize;
                if self.agents[i].computing.is_none() {
                    self.start_compute(i, self.now);
                } else {
                    self.agents[i].compute_q.push_back(self.now);
                }
                let gap: f64 = self.rngs[i].sample(Exp1);
                let next = self.now + ns(gap / RATE_HZ);
                if next < horizon {
                    self.push(next, Ev::Arrival(i as u32));
                }
            }
            Ev::ComputeDone(i) => {
                let i = i as usize;
                let created = self.agents[i].computing.take().expect("computing");
                if self.agents[i].sending.is_none() {
                    self.start_tx(i, created);
                } else {
                    self.agents[i].tx_q.push_back(created);
                }
                if let Some(next) = self.agents[i].compute_q.pop_front() {
                    self.start_compute(i, next);
                }
            }
            Ev::TxDone(i) => {
                let i = i as usize;
                let created = self.agents[i].sending.take().expect("sending");
                if let Some(next) = self.agents[i].tx_q.pop_front() {
                    self.start_tx(i, next);
                }
                self.server_q.push_back(created);
                self.dispatch();
            }
            Ev::ServiceDone(w) => {
                let created = self.workers[w as usize].take().expect("serving");
                self.latencies.push((self.now - created) as f64 * 1e-9);
                self.dispatch();
            }
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let horizon_s: f64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(4000.0);
    let seed: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let start = Instant::now();
    let horizon = ns(horizon_s);
    let stream = |id: u64| {
        let mut r = ChaCha8Rng::seed_from_u64(seed);
        r.set_stream(id);
        r
    };
    let mut sim = Sim {
        now: 0,
        seq: 0,
        heap: BinaryHeap::new(),
        agents: (0..AGENTS).map(|_| Agent::default()).collect(),
        rngs: (0..AGENTS as u64).map(stream).collect(),
        service_rng: stream(u64::MAX),
        server_q: VecDeque::new(),
        workers: vec![None; WORKERS],
        latencies: Vec::new(),
    };
    for i in 0..AGENTS {
        let gap: f64 = sim.rngs[i].sample(Exp1);
        let t = ns(gap / RATE_HZ);
        if t < horizon {
            sim.push(t, Ev::Arrival(i as u32));
        }
    }
    let mut events = 0u64;
    while let Some(Reverse((t, _, e))) = sim.heap.pop() {
        if t > horizon {
            break;
        }
        sim.now = t;
        events += 1;
        sim.handle(e, horizon);
    }
    let mut l = sim.latencies;
    l.sort_by(f64::total_cmp);
    let q = |p: f64| l.get(((p * l.len() as f64).ceil() as usize).saturating_sub(1)).copied().unwrap_or(f64::NAN);
    let mean = l.iter().sum::<f64>() / l.len() as f64;
    println!(
        "peer=bare_rust requests={} mean_s={mean:.6} p50_s={:.6} p99_s={:.6} events={events} wall_s={:.3}",
        l.len(),
        q(0.5),
        q(0.99),
        start.elapsed().as_secs_f64()
    );
}
