//! The discrete-event engine: one single-threaded loop per run.
//!
//! Events sit in a `(time, seq)` priority queue; handlers change the [`World`]
//! and schedule new events. Events at the same instant run in the order they
//! were scheduled. The loop stops at the horizon: arrivals are generated in
//! `[0, horizon)`, events after the horizon are not run, and requests still in
//! the system are counted as in flight. Requests created before the warm-up
//! ends are simulated but not counted in the metrics. No wall-clock time is read.
//!
//! One request, end to end (SPEC 4.6): arrival → policy decision → wait for the
//! agent's compute unit → agent compute → uplink → server queue → server
//! compute → done.

use crate::fsio::Fnv64;
use crate::model::laim::Side;
use crate::model::request::Request;
use crate::model::server::Batching;
use crate::model::World;
use crate::model::{Agent, System};
use crate::policy::{Backlog, DecisionContext, Policy, ServerView};
use crate::queue::EventQueue;
use crate::units::{BitsPerSec, Hertz, Joules, SimDuration, SimTime};

/// What happens at an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Agent `i` creates a request.
    Arrival(u32),
    /// Agent `i` finishes computing its current request.
    ComputeDone(u32),
    /// Agent `i` finishes transmitting its current request, if the
    /// transmission's version is still the second number (a shared uplink
    /// re-times transmissions, leaving stale events behind).
    TxDone(u32, u32),
    /// Server worker `w` finishes its request.
    ServiceDone(u32),
    /// The result downlink in slot `k` ends.
    DownlinkDone(u32),
    /// Agent `i`'s battery runs out, if its version is still the second number.
    BatteryEmpty(u32, u32),
    /// A waiting request has waited `max_wait_s` for its batch to fill.
    BatchDue,
}

/// Why a run stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum StopReason {
    /// The next event was beyond the horizon.
    Horizon,
    /// No event was left before the horizon.
    Drained,
}

/// Request counts and ledgers of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    /// Why the run stopped.
    pub stop: Option<StopReason>,
    /// Events handled.
    pub events: u64,
    /// Requests created (all, including warm-up).
    pub generated: u64,
    /// Requests created after the warm-up (counted in the metrics).
    pub counted: u64,
    /// Requests completed.
    pub completed: u64,
    /// Frames dropped by frame skipping.
    pub dropped: u64,
    /// Frames the policy decided not to process.
    pub skipped: u64,
    /// Requests whose uplink failed after its last retransmission.
    pub failed: u64,
    /// Requests still in the system at the horizon.
    pub in_flight: u64,
    /// Total agent energy spent (compute, switches, transmit).
    pub agent_energy: Joules,
    /// Total server energy spent.
    pub server_energy: Joules,
    /// Server busy time inside `[warmup, horizon]`, summed over workers.
    pub server_busy: SimDuration,
    /// Per agent with a battery, how it ended the run.
    pub batteries: Vec<Option<BatteryEnd>>,
    /// Hash of every arrival time and the channel gain each decision saw:
    /// depends only on the seed's random streams, not on the policy.
    pub fingerprint: u64,
}

/// An agent's battery at the end of a run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatteryEnd {
    /// Capacity, J.
    pub capacity_j: f64,
    /// Energy left, J.
    pub left_j: f64,
    /// When `left_j` was taken (the horizon, or the agent's death), s.
    pub at_s: f64,
    /// When it ran out, s.
    pub dead_at_s: Option<f64>,
}

impl BatteryEnd {
    /// Its lifetime: the time of death, or, for an agent still alive, the
    /// time its battery would last at the mean drain so far (NaN without drain).
    pub fn lifetime_s(&self) -> f64 {
        match self.dead_at_s {
            Some(t) => t,
            None => {
                let used = self.capacity_j - self.left_j;
                if used > 0.0 {
                    self.at_s * self.capacity_j / used
                } else {
                    f64::NAN
                }
            }
        }
    }
}

/// Hooks the engine calls; all default to doing nothing.
pub trait Recorder {
    /// A request was created (its decision made).
    fn on_create(&mut self, _req: &Request) {}
    /// A request completed.
    fn on_complete(&mut self, _req: &Request) {}
    /// A waiting frame was dropped (frame skipping).
    fn on_drop(&mut self, _req: &Request) {}
    /// The policy decided not to process a frame (`on_infeasible: Skip`).
    fn on_skip(&mut self, _req: &Request) {}
    /// A request's uplink failed (`FixedRate` link, retransmissions exhausted).
    fn on_fail(&mut self, _req: &Request) {}
}

/// The recorder that records nothing (benchmarks).
impl Recorder for () {}

/// Weight of the newest request in the smoothed server wait.
const RECENT_WAIT_WEIGHT: f64 = 0.1;

struct Engine<'w, 'a, 'p, 'r> {
    world: &'w mut World<'a>,
    policy: &'p mut dyn Policy,
    recorder: &'r mut dyn Recorder,
    events: EventQueue<Event>,
    now: SimTime,
    out: Outcome,
    /// Hash of what the seed's random streams produced (see [`Outcome::fingerprint`]).
    fingerprint: Fnv64,
    /// Smoothed server queueing wait, observable by policies.
    recent_wait_s: f64,
    /// Agent and server energy of the requests that ended (completed or
    /// dropped): with the in-flight ones, the ledger's totals.
    settled: (Joules, Joules),
    /// An empty batch whose capacity the next finished worker takes.
    spare: Vec<Request>,
}

/// A request ends (completed or dropped): its energy joins the `settled`
/// (agent, server) sums. Debug builds check its ledger: no negative part,
/// and the parts add up to the totals.
fn settle(settled: &mut (Joules, Joules), r: &Request) {
    debug_assert!(
        r.compute_energy.0 >= 0.0 && r.tx_energy.0 >= 0.0 && r.rx_energy.0 >= 0.0 && r.server_energy.0 >= 0.0,
        "negative energy in {r:?}"
    );
    debug_assert!(
        r.compute_energy == r.switch_energy + (r.compute_dynamic + r.compute_static)
            && r.server_energy == r.server_dynamic + r.server_static,
        "energy parts do not add up in {r:?}"
    );
    settled.0 += r.agent_energy();
    settled.1 += r.server_energy;
}

/// The agent's work ahead of a request arriving at `now` (see [`Backlog`]),
/// with its uplink at `rate`, and the clock its compute will start from.
fn backlog(system: &System, agent: &Agent, now: SimTime, rate: BitsPerSec) -> (Backlog, Hertz) {
    let cpu = &system.agent_cpu;
    let payload = system.laim.payload_bits;
    let tx_s = if payload > 0.0 { payload / rate.0 } else { 0.0 };
    let left = |until: SimTime| if until > now { (until - now).as_secs() } else { 0.0 };
    let mut compute = if agent.computing.is_some() {
        left(agent.compute_until)
    } else {
        0.0
    };
    let mut radio = if agent.transmitting.is_some() {
        left(agent.radio_until)
    } else {
        0.0
    };
    radio += agent.tx_queue.len() as f64 * tx_s;
    if agent.computing.is_some() {
        radio = radio.max(compute) + tx_s;
    }
    let mut clock = agent.freq;
    for r in &agent.compute_queue {
        let f = cpu.clamp(r.decision.freq_agent);
        if f != clock {
            compute += cpu.switch_latency.as_secs();
            clock = f;
        }
        compute += cpu.busy_secs(
            cpu.cycles(system.laim.side_params(Side::Agent), r.decision.bits_agent),
            f,
        );
        radio = radio.max(compute) + tx_s;
    }
    let backlog = Backlog {
        compute_queue: agent.compute_queue.len() as u32,
        radio_queue: agent.tx_queue.len() as u32,
        compute_s: compute,
        radio_s: radio,
        wait_s: compute.max(radio),
    };
    (backlog, clock)
}

/// Runs one simulation to its horizon and returns its counts and ledgers.
pub fn run(world: &mut World, policy: &mut dyn Policy, recorder: &mut dyn Recorder) -> Outcome {
    let mut eng = Engine {
        world,
        policy,
        recorder,
        events: EventQueue::default(),
        now: SimTime::ZERO,
        recent_wait_s: 0.0,
        settled: (Joules(0.0), Joules(0.0)),
        spare: Vec::new(),
        out: Outcome::default(),
        fingerprint: Fnv64::new(),
    };
    for i in 0..eng.world.agents.len() as u32 {
        eng.schedule_arrival(i);
        eng.drain(i, Joules(0.0));
    }
    let horizon = eng.world.horizon;
    eng.out.stop = Some(loop {
        match eng.events.peek_time() {
            None => break StopReason::Drained,
            Some(t) if t > horizon => break StopReason::Horizon,
            Some(_) => {}
        }
        let (t, ev) = eng.events.pop().expect("peeked");
        debug_assert!(t >= eng.now, "time went back from {:?} to {t:?}", eng.now);
        eng.now = t;
        eng.out.events += 1;
        match ev {
            Event::Arrival(i) => eng.arrival(i),
            Event::ComputeDone(i) => eng.compute_done(i),
            Event::TxDone(i, v) => eng.tx_done(i, v),
            Event::ServiceDone(w) => eng.service_done(w),
            Event::DownlinkDone(k) => eng.downlink_done(k),
            Event::BatteryEmpty(i, v) => eng.battery_empty(i, v),
            Event::BatchDue => eng.dispatch(),
        }
    });
    eng.now = eng.now.max(horizon);
    for i in 0..eng.world.agents.len() as u32 {
        eng.drain(i, Joules(0.0));
    }
    let agents = &eng.world.agents;
    eng.out.batteries = agents
        .iter()
        .map(|a| {
            a.battery.map(|b| BatteryEnd {
                capacity_j: b.capacity_j,
                left_j: b.left_j.max(0.0),
                at_s: b.at.as_secs(),
                dead_at_s: a.dead_at.map(SimTime::as_secs),
            })
        })
        .collect();
    eng.out.in_flight = eng.world.in_flight().count() as u64;
    eng.out.fingerprint = eng.fingerprint.finish();
    eng.check_ledger();
    eng.out
}

impl World<'_> {
    /// Shared uplink: each transmission's share of the band, `1/n` with `n`
    /// agents transmitting (1 when none is).
    fn uplink_share(&self) -> f64 {
        1.0 / self
            .agents
            .iter()
            .filter(|a| a.transmitting.is_some())
            .count()
            .max(1) as f64
    }

    /// Requests still in the system (agent queues, radios, server).
    pub fn in_flight(&self) -> impl Iterator<Item = &Request> {
        self.agents
            .iter()
            .flat_map(|a| {
                a.compute_queue
                    .iter()
                    .chain(a.computing.iter())
                    .chain(a.tx_queue.iter())
                    .chain(a.transmitting.iter())
            })
            .chain(self.server_queue.iter())
            .chain(self.workers.iter().flatten())
            .chain(self.downlinks.iter().flatten())
    }
}

impl Engine<'_, '_, '_, '_> {
    /// Debug builds: every request created ended exactly once (completed,
    /// dropped, skipped, failed or still in flight), and the energy ledger's totals are the
    /// sums of the requests' own energies.
    fn check_ledger(&self) {
        if !cfg!(debug_assertions) {
            return;
        }
        let o = &self.out;
        let ended = o.completed + o.dropped + o.skipped + o.failed;
        assert_eq!(o.generated, ended + o.in_flight, "requests not conserved: {o:?}");
        let (mut agent, mut server) = self.settled;
        for r in self.world.in_flight() {
            agent += r.agent_energy();
            server += r.server_energy;
        }
        let close =
            |a: Joules, b: Joules| a == b || (a.0 - b.0).abs() <= 1e-9 * a.0.abs().max(b.0.abs()).max(1e-300);
        assert!(
            close(agent, o.agent_energy),
            "agent ledger {agent:?} != {:?}",
            o.agent_energy
        );
        assert!(
            close(server, o.server_energy),
            "server ledger {server:?} != {:?}",
            o.server_energy
        );
    }

    fn schedule_arrival(&mut self, i: u32) {
        let t = self.world.agents[i as usize].arrivals.next_arrival();
        if t < self.world.horizon {
            self.events.push(t, Event::Arrival(i));
        }
    }

    fn server_view(&self) -> ServerView {
        ServerView {
            queue_len: self.world.server_queue.len(),
            busy_workers: self.world.workers.iter().filter(|w| !w.is_empty()).count() as u32,
            workers: self.world.workers.len() as u32,
            recent_wait_s: self.recent_wait_s,
        }
    }

    fn arrival(&mut self, i: u32) {
        if self.world.agents[i as usize].dead_at.is_some() {
            return;
        }
        let now = self.now;
        let server = self.server_view();
        let system = self.world.system;
        let agent = &mut self.world.agents[i as usize];
        let seen = agent.link.estimate(now);
        for v in [i as u64, now.0, seen.gain.to_bits()] {
            self.fingerprint.write_u64(v);
        }
        let factor = self.world.service.draw(&mut agent.service_rng);
        let (backlog, agent_clock) = backlog(system, agent, now, seen.rate);
        let ctx = DecisionContext {
            now,
            agent: i,
            system,
            rate: seen.rate,
            mean_snr: seen.mean_snr,
            server,
            backlog,
            agent_clock,
            battery_j: agent
                .battery
                .map(|b| b.left_j - system.agent_cpu.static_power.0 * (now - b.at).as_secs()),
        };
        let (decision, predicted) = self.policy.decide_predicted(&ctx);
        let agent = &mut self.world.agents[i as usize];
        let mut req = Request::new(
            i,
            agent.created,
            now,
            system.deadline,
            now >= self.world.warmup,
            decision,
            factor,
        );
        req.predicted_latency_s = predicted.total_time_s;
        req.predicted_agent_energy_j = predicted.agent_energy_j;
        let planned_rate = decision.assumed_rate.unwrap_or(seen.rate);
        req.predicted_tx_s = system.laim.payload_bits / planned_rate.0;
        req.distance_m = seen.distance_m;
        agent.created += 1;
        self.out.generated += 1;
        self.out.counted += req.counted as u64;
        self.recorder.on_create(&req);
        if req.decision.skip {
            self.out.skipped += 1;
            self.recorder.on_skip(&req);
        } else if agent.computing.is_none() {
            self.start_compute(i, req);
        } else {
            agent.compute_queue.push_back(req);
            if let Some(max) = self.world.max_queue {
                while agent.compute_queue.len() > max as usize {
                    let dropped = agent.compute_queue.pop_front().expect("non-empty");
                    self.out.dropped += 1;
                    settle(&mut self.settled, &dropped);
                    self.recorder.on_drop(&dropped);
                }
            }
        }
        self.schedule_arrival(i);
    }

    fn start_compute(&mut self, i: u32, mut req: Request) {
        let cpu = &self.world.system.agent_cpu;
        let agent = &mut self.world.agents[i as usize];
        let f = cpu.clamp(req.decision.freq_agent);
        let mut delay = SimDuration::ZERO;
        if f != agent.freq {
            delay = cpu.switch_latency;
            req.compute_energy += cpu.switch_energy;
            req.switch_energy += cpu.switch_energy;
            agent.freq = f;
        }
        let cycles = cpu.cycles(
            self.world.system.laim.side_params(Side::Agent),
            req.decision.bits_agent,
        );
        let (dynamic, busy_static) = cpu.energy_parts(cycles, f);
        req.compute_energy += dynamic + busy_static;
        (req.compute_dynamic, req.compute_static) = (dynamic, busy_static);
        let lump = dynamic + req.switch_energy;
        self.out.agent_energy += req.compute_energy;
        req.compute_start = self.now;
        let end = self.now + delay + SimDuration::from_secs_ceil(cpu.busy_secs(cycles, f));
        agent.compute_until = end;
        agent.computing = Some(req);
        self.events.push(end, Event::ComputeDone(i));
        self.drain(i, lump);
    }

    fn compute_done(&mut self, i: u32) {
        let agent = &mut self.world.agents[i as usize];
        let req = agent.computing.take().expect("agent was computing");
        if agent.transmitting.is_none() {
            self.start_tx(i, req);
        } else {
            agent.tx_queue.push_back(req);
        }
        if let Some(next) = self.world.agents[i as usize].compute_queue.pop_front() {
            self.start_compute(i, next);
        }
    }

    fn start_tx(&mut self, i: u32, mut req: Request) {
        req.tx_start = self.now;
        if self.world.shared_uplink {
            self.advance_shared();
            let agent = &mut self.world.agents[i as usize];
            agent.tx_left = self.world.system.laim.payload_bits;
            agent.tx_since = self.now;
            agent.link.pin(Some(self.now));
            req.tx_attempts = 1;
            req.tx_delivered = true;
            agent.transmitting = Some(req);
            return self.retime_shared();
        }
        let payload = self.world.system.laim.payload_bits;
        let agent = &mut self.world.agents[i as usize];
        let tx = agent.link.transmit(self.now, payload, self.world.horizon);
        req.tx_attempts = tx.attempts;
        req.tx_delivered = tx.delivered;
        req.tx_energy = self.world.system.tx_power * (tx.end - self.now);
        self.out.agent_energy += req.tx_energy;
        let lump = req.tx_energy;
        agent.transmitting = Some(req);
        agent.radio_until = tx.end;
        self.events.push(tx.end, Event::TxDone(i, agent.tx_version));
        self.drain(i, lump);
    }

    /// Shared uplink: brings every transmission's bits left up to now, at
    /// the share it has had since its last update.
    fn advance_shared(&mut self) {
        let (now, share) = (self.now, self.world.uplink_share());
        for a in self.world.agents.iter_mut().filter(|a| a.transmitting.is_some()) {
            a.tx_left -= a.link.sent(a.tx_since, now, share);
            a.tx_since = now;
            a.link.pin(Some(now));
        }
    }

    /// Shared uplink: new end events for every transmission at the current share.
    fn retime_shared(&mut self) {
        let (now, horizon, share) = (self.now, self.world.horizon, self.world.uplink_share());
        for (i, a) in self.world.agents.iter_mut().enumerate() {
            if a.transmitting.is_some() {
                let end = a.link.shared_end(now, a.tx_left.max(0.0), horizon, share);
                a.tx_version = a.tx_version.wrapping_add(1);
                a.radio_until = end;
                self.events.push(end, Event::TxDone(i as u32, a.tx_version));
            }
        }
    }

    fn tx_done(&mut self, i: u32, version: u32) {
        if version != self.world.agents[i as usize].tx_version {
            return;
        }
        if self.world.shared_uplink {
            self.advance_shared();
        }
        let agent = &mut self.world.agents[i as usize];
        let mut req = agent.transmitting.take().expect("agent was transmitting");
        req.server_arrival = self.now;
        if self.world.shared_uplink {
            agent.link.pin(None);
            req.tx_energy = self.world.system.tx_power * (self.now - req.tx_start);
            self.out.agent_energy += req.tx_energy;
            self.drain(i, req.tx_energy);
            self.retime_shared();
        }
        let agent = &mut self.world.agents[i as usize];
        if let Some(next) = agent.tx_queue.pop_front() {
            self.start_tx(i, next);
        }
        if !req.tx_delivered {
            req.done = self.now;
            self.out.failed += 1;
            settle(&mut self.settled, &req);
            self.recorder.on_fail(&req);
            return;
        }
        self.world.server_queue.push(req.deadline, req);
        if let Batching::Batch { max_wait_s, .. } = self.world.batching {
            let due = self.now + SimDuration::from_secs_ceil(max_wait_s);
            self.events.push(due, Event::BatchDue);
        }
        self.dispatch();
    }

    /// Gives waiting requests to idle workers: one each, or a batch once
    /// `max_batch` wait or the oldest has waited `max_wait_s`.
    fn dispatch(&mut self) {
        while let Some(w) = self.world.workers.iter().position(Vec::is_empty) {
            let queue = &mut self.world.server_queue;
            let take = match self.world.batching {
                Batching::None => 1,
                Batching::Batch {
                    max_batch,
                    max_wait_s,
                    ..
                } => {
                    let oldest = queue.iter().map(|r| r.server_arrival).min();
                    let due = oldest.is_some_and(|t| self.now >= t + SimDuration::from_secs_ceil(max_wait_s));
                    if queue.len() < max_batch as usize && !due {
                        return;
                    }
                    max_batch as usize
                }
            };
            let worker = &mut self.world.workers[w];
            worker.extend(std::iter::from_fn(|| queue.pop()).take(take));
            if worker.is_empty() {
                return;
            }
            self.start_batch(w as u32);
        }
    }

    /// Worker `w` serves its batch at the highest clock its requests ask for,
    /// for `T_1·(1 + beta·(k − 1))`; the energy is split in proportion to the
    /// requests' own cycles.
    fn start_batch(&mut self, w: u32) {
        let cpu = &self.world.system.server_cpu;
        let params = self.world.system.laim.side_params(Side::Server);
        let batch = &mut self.world.workers[w as usize];
        let f = batch
            .iter()
            .map(|r| cpu.clamp(r.decision.freq_server))
            .fold(Hertz(0.0), |a, b| if b.0 > a.0 { b } else { a });
        let own = |r: &Request| cpu.cycles(params, r.decision.bits_server) * r.service_factor;
        let beta = match self.world.batching {
            Batching::Batch { beta, .. } => beta,
            Batching::None => 0.0,
        };
        let k = batch.len() as f64;
        let cycles = match batch.as_slice() {
            [one] => own(one),
            many => many.iter().map(own).fold(0.0, f64::max) * (1.0 + beta * (k - 1.0)),
        };
        let (dynamic, busy_static) = cpu.energy_parts(cycles, f);
        let total: f64 = batch.iter().map(own).sum();
        for req in batch.iter_mut() {
            // A server side with no work (no blocks) splits its nothing evenly.
            let share = if total > 0.0 { own(req) / total } else { 1.0 / k };
            (req.server_dynamic, req.server_static) =
                (Joules(dynamic.0 * share), Joules(busy_static.0 * share));
            req.server_energy = req.server_dynamic + req.server_static;
            self.out.server_energy += req.server_energy;
            req.service_start = self.now;
            self.recent_wait_s += RECENT_WAIT_WEIGHT * (req.server_wait().as_secs() - self.recent_wait_s);
        }
        let end = self.now + SimDuration::from_secs_ceil(cpu.busy_secs(cycles, f));
        let (lo, hi) = (self.now.max(self.world.warmup), end.min(self.world.horizon));
        if hi > lo {
            self.out.server_busy = self.out.server_busy + (hi - lo);
        }
        self.events.push(end, Event::ServiceDone(w));
    }

    fn service_done(&mut self, w: u32) {
        // The worker takes the spare (empty) batch; the finished one, emptied,
        // becomes the spare: no allocation per batch.
        let spare = std::mem::take(&mut self.spare);
        let mut batch = std::mem::replace(&mut self.world.workers[w as usize], spare);
        self.dispatch();
        for req in batch.drain(..) {
            self.deliver(req);
        }
        self.spare = batch;
    }

    /// A served request: completed, or its result sent back first.
    fn deliver(&mut self, mut req: Request) {
        req.service_end = self.now;
        let result_bits = self.world.system.laim.result_bits;
        if result_bits <= 0.0 {
            return self.complete(req);
        }
        // The result goes back over the agent's channel (same blocks, Shannon rate).
        let link = &mut self.world.agents[req.agent as usize].link;
        let end = link.transmission_end(self.now, result_bits, self.world.horizon);
        req.rx_energy = Joules(self.world.system.channel.rx_power_w * (end - self.now).as_secs());
        self.out.agent_energy += req.rx_energy;
        self.drain(req.agent, req.rx_energy);
        let slots = &mut self.world.downlinks;
        let k = slots.iter().position(Option::is_none).unwrap_or_else(|| {
            slots.push(None);
            slots.len() - 1
        });
        slots[k] = Some(req);
        self.events.push(end, Event::DownlinkDone(k as u32));
    }

    /// Battery of agent `i`: static drain up to now, then `lump`; schedules
    /// the instant static drain alone would empty it, or kills the agent.
    fn drain(&mut self, i: u32, lump: Joules) {
        let now = self.now;
        let power = self.world.system.agent_cpu.static_power.0;
        let agent = &mut self.world.agents[i as usize];
        let Some(b) = agent.battery.as_mut().filter(|_| agent.dead_at.is_none()) else {
            return;
        };
        b.left_j -= power * (now - b.at).as_secs() + lump.0;
        b.at = now;
        b.version = b.version.wrapping_add(1);
        if b.left_j <= 0.0 {
            return self.die(i);
        }
        if power > 0.0 {
            let empty = now + SimDuration::from_secs_ceil(b.left_j / power);
            self.events.push(empty, Event::BatteryEmpty(i, b.version));
        }
    }

    fn battery_empty(&mut self, i: u32, version: u32) {
        if self.world.agents[i as usize]
            .battery
            .is_some_and(|b| b.version == version)
        {
            self.drain(i, Joules(0.0));
            self.die(i);
        }
    }

    /// Agent `i` stops: no more frames; those waiting for its compute unit
    /// or radio are dropped, the work under way finishes.
    fn die(&mut self, i: u32) {
        let agent = &mut self.world.agents[i as usize];
        if agent.dead_at.is_some() {
            return;
        }
        agent.dead_at = Some(self.now);
        let waiting: Vec<Request> = agent
            .compute_queue
            .drain(..)
            .chain(agent.tx_queue.drain(..))
            .collect();
        for r in waiting {
            self.out.dropped += 1;
            settle(&mut self.settled, &r);
            self.recorder.on_drop(&r);
        }
    }

    fn downlink_done(&mut self, k: u32) {
        let req = self.world.downlinks[k as usize]
            .take()
            .expect("downlink was busy");
        self.complete(req);
    }

    fn complete(&mut self, mut req: Request) {
        req.done = self.now;
        self.out.completed += 1;
        settle(&mut self.settled, &req);
        self.recorder.on_complete(&req);
    }
}
