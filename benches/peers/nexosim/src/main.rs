//! The reference model (`benches/reference.ron`) on nexosim, written the way
//! the framework is meant to be used: one model per component, connected by
//! ports, each scheduling its own completions in simulated time.
//!
//! ```text
//! Source[i] ──request──► Compute[i] ──request──► Uplink[i] ──request──┐
//!  (Poisson)              (FIFO, 20 ms)           (FIFO, fading)      ▼
//!                                               Server (FIFO, 4 workers) ──latency──► sink
//! ```
//!
//! Same laws and measurement as `bare_rust`: integer-nanosecond times
//! (`MonotonicTime` from the epoch), ChaCha8 streams, fading drawn only for
//! the blocks a transmission touches, latency from arrival to end of service
//! for requests served by the horizon, no warm-up. One executor thread.
//!
//! Usage: `nexosim_peer [HORIZON_S] [SEED]` (defaults 4000 and 1).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use nexosim::model::{schedulable, Context, Model};
use nexosim::ports::{event_queue, EventSinkReader, Output, QuerySource, SinkState};
use nexosim::simulation::{Mailbox, SimInit, SimulationError};
use nexosim::time::MonotonicTime;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::Exp1;
use serde::{Deserialize, Serialize};

const AGENTS: usize = 50;
const RATE_HZ: f64 = 5.0;
const COMPUTE_NS: u64 = 20_000_000;
const PAYLOAD_BITS: f64 = 1e6;
const BANDWIDTH_HZ: f64 = 20e6;
const MEAN_SNR: f64 = 10.0;
const BLOCK_NS: u64 = 10_000_000;
const WORKERS: usize = 4;
const SERVICE_MEAN_S: f64 = 0.015;

/// Seconds to whole nanoseconds, rounded up; at least 1 ns, since nexosim
/// only schedules strictly in the future.
fn ns(s: f64) -> u64 {
    ((s * 1e9).ceil() as u64).max(1)
}

/// Nanoseconds since the epoch the simulation starts at.
fn ns_of(t: MonotonicTime) -> u64 {
    t.duration_since(MonotonicTime::EPOCH).as_nanos() as u64
}

fn at(t_ns: u64) -> MonotonicTime {
    MonotonicTime::EPOCH + Duration::from_nanos(t_ns)
}

fn stream(seed: u64, id: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(id);
    r
}

/// A request, as it moves from model to model.
#[derive(Clone, Copy, Serialize, Deserialize)]
pub struct Request {
    created: MonotonicTime,
}

/// An agent's Poisson source: arrivals strictly before the horizon.
#[derive(Serialize, Deserialize)]
pub struct Source {
    pub request: Output<Request>,
    rng: ChaCha8Rng,
    horizon_ns: u64,
    events: u64,
}

#[Model]
impl Source {
    fn new(rng: ChaCha8Rng, horizon_ns: u64) -> Self {
        Self {
            request: Output::default(),
            rng,
            horizon_ns,
            events: 0,
        }
    }

    fn schedule_next(&mut self, cx: &Context<Self>) {
        let gap: f64 = self.rng.sample(Exp1);
        let next = ns_of(cx.time()) + ns(gap / RATE_HZ);
        if next < self.horizon_ns {
            cx.schedule_event(at(next), schedulable!(Self::arrive), ())
                .unwrap();
        }
    }

    #[nexosim(init)]
    async fn init(&mut self, cx: &Context<Self>) {
        self.schedule_next(cx);
    }

    #[nexosim(schedulable)]
    async fn arrive(&mut self, _: (), cx: &Context<Self>) {
        self.events += 1;
        self.request.send(Request { created: cx.time() }).await;
        self.schedule_next(cx);
    }

    pub async fn events(&mut self) -> u64 {
        self.events
    }
}

/// An agent's compute unit: FIFO, one request at a time, fixed duration.
#[derive(Serialize, Deserialize)]
pub struct Compute {
    pub done: Output<Request>,
    busy: Option<Request>,
    queue: VecDeque<Request>,
    events: u64,
}

#[Model]
impl Compute {
    fn new() -> Self {
        Self {
            done: Output::default(),
            busy: None,
            queue: VecDeque::new(),
            events: 0,
        }
    }

    fn start(&mut self, r: Request, cx: &Context<Self>) {
        self.busy = Some(r);
        cx.schedule_event(Duration::from_nanos(COMPUTE_NS), schedulable!(Self::finish), ())
            .unwrap();
    }

    pub async fn request(&mut self, r: Request, cx: &Context<Self>) {
        if self.busy.is_none() {
            self.start(r, cx);
        } else {
            self.queue.push_back(r);
        }
    }

    #[nexosim(schedulable)]
    async fn finish(&mut self, _: (), cx: &Context<Self>) {
        self.events += 1;
        let r = self.busy.take().expect("computing");
        self.done.send(r).await;
        if let Some(next) = self.queue.pop_front() {
            self.start(next, cx);
        }
    }

    pub async fn events(&mut self) -> u64 {
        self.events
    }
}

/// An agent's uplink: FIFO, one transmission at a time over Rayleigh block
/// fading; a transmission spanning blocks sends at each block's rate.
#[derive(Serialize, Deserialize)]
pub struct Uplink {
    pub delivered: Output<Request>,
    rng: ChaCha8Rng,
    /// The block whose gain is held, and the gain.
    block: Option<(u64, f64)>,
    busy: Option<Request>,
    queue: VecDeque<Request>,
    events: u64,
}

#[Model]
impl Uplink {
    fn new(rng: ChaCha8Rng) -> Self {
        Self {
            delivered: Output::default(),
            rng,
            block: None,
            busy: None,
            queue: VecDeque::new(),
            events: 0,
        }
    }

    fn gain(&mut self, k: u64) -> f64 {
        match self.block {
            Some((b, g)) if b == k => g,
            _ => {
                let g: f64 = self.rng.sample(Exp1);
                self.block = Some((k, g));
                g
            }
        }
    }

    /// End of a transmission starting at `now`, block by block.
    fn tx_end(&mut self, now: u64) -> u64 {
        let (mut t, mut left) = (now, PAYLOAD_BITS);
        loop {
            let k = t / BLOCK_NS;
            let rate = BANDWIDTH_HZ * (1.0 + MEAN_SNR * self.gain(k)).log2();
            let block_end = (k + 1) * BLOCK_NS;
            let can = rate * (block_end - t) as f64 * 1e-9;
            if can >= left {
                return (t + ns(left / rate)).min(block_end);
            }
            left -= can;
            t = block_end;
        }
    }

    fn start(&mut self, r: Request, cx: &Context<Self>) {
        self.busy = Some(r);
        let end = self.tx_end(ns_of(cx.time()));
        cx.schedule_event(at(end), schedulable!(Self::finish), ())
            .unwrap();
    }

    pub async fn request(&mut self, r: Request, cx: &Context<Self>) {
        if self.busy.is_none() {
            self.start(r, cx);
        } else {
            self.queue.push_back(r);
        }
    }

    #[nexosim(schedulable)]
    async fn finish(&mut self, _: (), cx: &Context<Self>) {
        self.events += 1;
        let r = self.busy.take().expect("sending");
        if let Some(next) = self.queue.pop_front() {
            self.start(next, cx);
        }
        self.delivered.send(r).await;
    }

    pub async fn events(&mut self) -> u64 {
        self.events
    }
}

/// The shared edge server: one FIFO queue, `WORKERS` workers, exponential
/// service; emits each request's latency when its service ends.
#[derive(Serialize, Deserialize)]
pub struct Server {
    pub latency: Output<f64>,
    rng: ChaCha8Rng,
    queue: VecDeque<Request>,
    workers: Vec<Option<Request>>,
    events: u64,
}

#[Model]
impl Server {
    fn new(rng: ChaCha8Rng) -> Self {
        Self {
            latency: Output::default(),
            rng,
            queue: VecDeque::new(),
            workers: vec![None; WORKERS],
            events: 0,
        }
    }

    fn dispatch(&mut self, cx: &Context<Self>) {
        while let Some(w) = self.workers.iter().position(Option::is_none) {
            let Some(r) = self.queue.pop_front() else { return };
            self.workers[w] = Some(r);
            let s: f64 = self.rng.sample(Exp1);
            let service = Duration::from_nanos(ns(s * SERVICE_MEAN_S));
            cx.schedule_event(service, schedulable!(Self::finish), w).unwrap();
        }
    }

    pub async fn request(&mut self, r: Request, cx: &Context<Self>) {
        self.queue.push_back(r);
        self.dispatch(cx);
    }

    #[nexosim(schedulable)]
    async fn finish(&mut self, w: usize, cx: &Context<Self>) {
        self.events += 1;
        let r = self.workers[w].take().expect("serving");
        self.latency
            .send(cx.time().duration_since(r.created).as_secs_f64())
            .await;
        self.dispatch(cx);
    }

    pub async fn events(&mut self) -> u64 {
        self.events
    }
}

fn main() -> Result<(), SimulationError> {
    let args: Vec<String> = std::env::args().collect();
    let horizon_s: f64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(4000.0);
    let seed: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let start = Instant::now();
    let horizon_ns = ns(horizon_s);

    let mut bench = SimInit::with_num_threads(1);
    let mut counters = Vec::new();

    let mut server = Server::new(stream(seed, u64::MAX));
    let server_mbox = Mailbox::new();
    let (sink, mut latencies) = event_queue(SinkState::Enabled);
    server.latency.connect_sink(sink);
    counters.push(
        QuerySource::new()
            .connect(Server::events, &server_mbox)
            .register(&mut bench),
    );

    for i in 0..AGENTS {
        let mut source = Source::new(stream(seed, i as u64), horizon_ns);
        let mut compute = Compute::new();
        let mut uplink = Uplink::new(stream(seed, (AGENTS + i) as u64));
        let (source_mbox, compute_mbox, uplink_mbox) = (Mailbox::new(), Mailbox::new(), Mailbox::new());
        source.request.connect(Compute::request, &compute_mbox);
        compute.done.connect(Uplink::request, &uplink_mbox);
        uplink.delivered.connect(Server::request, &server_mbox);
        counters.push(
            QuerySource::new()
                .connect(Source::events, &source_mbox)
                .register(&mut bench),
        );
        counters.push(
            QuerySource::new()
                .connect(Compute::events, &compute_mbox)
                .register(&mut bench),
        );
        counters.push(
            QuerySource::new()
                .connect(Uplink::events, &uplink_mbox)
                .register(&mut bench),
        );
        bench = bench
            .add_model(source, source_mbox, &format!("source{i}"))
            .add_model(compute, compute_mbox, &format!("compute{i}"))
            .add_model(uplink, uplink_mbox, &format!("uplink{i}"));
    }
    let mut simu = bench
        .add_model(server, server_mbox, "server")
        .init(MonotonicTime::EPOCH)?;

    // Run in slices of one simulated second, draining the latency sink after
    // each so that it never holds more than a second's worth.
    let mut l = Vec::new();
    let mut t = 0;
    while t < horizon_ns {
        t = (t + 1_000_000_000).min(horizon_ns);
        simu.step_until(at(t))?;
        while let Some(x) = latencies.try_read() {
            l.push(x);
        }
    }

    let mut events = 0u64;
    for q in &counters {
        events += simu.process_query(q, ())?;
    }
    l.sort_by(f64::total_cmp);
    let q = |p: f64| {
        l.get(((p * l.len() as f64).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or(f64::NAN)
    };
    let mean = l.iter().sum::<f64>() / l.len() as f64;
    println!(
        "peer=nexosim requests={} mean_s={mean:.6} p50_s={:.6} p99_s={:.6} events={events} wall_s={:.3}",
        l.len(),
        q(0.5),
        q(0.99),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
