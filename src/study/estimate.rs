//! What a study will cost before it runs: simulated work, memory and time,
//! from the scenario alone. `coinfer check` prints it; `coinfer run` refuses
//! a study beyond [`Limits`] (unless `--force`) and names the field that
//! drives the cost.
//!
//! Work is counted in *steps*: one event (four per request: arrival, compute,
//! uplink, service) or one fading block drawn (every coherence time of every
//! agent). A step costs about [`NS_PER_STEP`] on one core. Measuring each
//! seed's distortion table (every block's weight sample quantized at every
//! bit-width) is counted in steps of the same cost.

use super::{SeedPlan, Study, StudyPoint};
use crate::quant::QuantizerKind;
use crate::units::Bits;

/// CPU time per step on one core (measured on `paper.ron`: ~270 ns per event
/// with decisions; rounded up).
pub const NS_PER_STEP: f64 = 400.0;

/// Memory of one agent's state during a run (queues, streams, link), bytes.
const AGENT_BYTES: f64 = 2048.0;
/// Memory of one server worker, bytes.
const WORKER_BYTES: f64 = 256.0;
/// Memory of one fading block held while a transmission spans it, bytes.
const BLOCK_BYTES: f64 = 8.0;

/// The most a study may cost without `--force`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// Estimated wall time, s.
    pub seconds: f64,
    /// Estimated memory of one run, bytes.
    pub run_bytes: f64,
}

impl Default for Limits {
    /// Two hours, 4 GiB per run.
    fn default() -> Self {
        Limits {
            seconds: 2.0 * 3600.0,
            run_bytes: 4.0 * 1024.0 * 1024.0 * 1024.0,
        }
    }
}

/// The estimated cost of a study.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    /// Runs, at most (adaptive seeds may stop earlier).
    pub runs: f64,
    /// Mean requests per run.
    pub requests_per_run: f64,
    /// Steps of all runs (events, fading blocks and distortion measurement).
    pub steps: f64,
    /// Memory of the largest run, bytes.
    pub run_bytes: f64,
    /// Wall time on `threads` cores, s.
    pub seconds: f64,
    /// The field that drives the steps of the costliest point.
    pub driver: String,
}

/// Steps of one decision of an optimising policy: about one with the
/// paper's 5 + 1 DVFS states, growing with the square of the states (the
/// solvers pair every agent state with the server's).
fn decision_steps(p: &StudyPoint) -> f64 {
    let states = |f: &crate::model::cpu::FreqSet| match f {
        crate::model::cpu::FreqSet::Discrete(v) => v.len() as f64,
        crate::model::cpu::FreqSet::Continuous { .. } => 2.0,
    };
    let n = states(&p.system.agent_cpu.freqs) + states(&p.system.server_cpu.freqs);
    (n / 6.0).powi(2).max(1.0)
}

/// CPU time to quantize one weight at one bit-width and measure its error,
/// ns (measured on the default model: uniform ~5, pot_log ~18, lloyd_max
/// ~200; rounded up).
fn quantizer_ns(kind: &QuantizerKind) -> f64 {
    match kind {
        QuantizerKind::Uniform { .. } => 8.0,
        QuantizerKind::PotLog => 25.0,
        QuantizerKind::LloydMax => 300.0,
    }
}

/// Requests of one run at a point, steps of its `seeds` seeds of `policies`
/// policies (`optimising` ones search the DVFS states at every decision),
/// and the field that drives them.
fn point_steps(p: &StudyPoint, seeds: f64, policies: f64, optimising: bool) -> (f64, f64, &'static str) {
    let c = &p.config;
    let requests = p.expected_requests();
    // Every law, `None` too: the link steps through the blocks.
    let blocks = c.agents.count() as f64 * c.horizon_s / c.channel.coherence_s;
    // Each seed's distortion table, shared by the policies (real weights
    // from a file are measured once per batch of seeds: an upper bound).
    let tables = seeds * p.system.laim.blocks.len() as f64 * c.quantizer.sample_weights as f64;
    let measure = tables * Bits::all().len() as f64 * quantizer_ns(&c.quantizer.kind) / NS_PER_STEP;
    let (events, blocks) = (4.0 * requests * seeds * policies, blocks * seeds * policies);
    let decisions = if optimising {
        requests * seeds * policies * decision_steps(p)
    } else {
        0.0
    };
    let driver = if decisions > measure.max(events).max(blocks) {
        "the DVFS states (agents.cpu / server.cpu freqs_ghz): every decision searches their pairs"
    } else if measure > events.max(blocks) {
        "quantizer.sample_weights × the model's blocks × seeds (each seed's distortion is measured on its own weights; quantizer.kind LloydMax costs most)"
    } else if blocks > events {
        "horizon_s over channel.coherence_s (a fading block is drawn every coherence time of every agent)"
    } else {
        "horizon_s × agents.count × the arrival rate (requests per run)"
    };
    (requests, events + blocks + measure + decisions, driver)
}

/// Memory of one run at a point, bytes, and the field that drives it.
fn point_bytes(p: &StudyPoint) -> (f64, &'static str) {
    let c = &p.config;
    let agents = c.agents.count() as f64 * AGENT_BYTES;
    let workers = c.server.workers as f64 * WORKER_BYTES;
    let weights = c.quantizer.sample_weights as f64 * 4.0 * p.system.laim.blocks.len() as f64;
    // A transmission keeps every fading block it spans (rate at the mean SNR).
    let snr = c
        .channel
        .mean_snr(c.agents.shared().mobility.mean_distance_m(c.horizon_s), 0.0);
    let tx_s = (p.system.laim.payload_bits / c.channel.rate(snr).0.max(1e-300)).min(c.horizon_s);
    let spanned = (tx_s / c.channel.coherence_s).min(1e30) * c.agents.count() as f64 * BLOCK_BYTES;
    let parts = [
        (agents, "agents.count"),
        (workers, "server.workers"),
        (weights, "quantizer.sample_weights"),
        (
            spanned,
            "the transmission time (payload, bandwidth, power, path loss, noise) over channel.coherence_s",
        ),
    ];
    let total = parts.iter().map(|p| p.0).sum();
    let driver = parts
        .iter()
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map_or("", |p| p.1);
    (total, driver)
}

impl Study {
    /// The estimated cost of running the study on `threads` cores.
    pub fn estimate(&self, threads: usize) -> Estimate {
        let seeds = self.seeds.max_seeds() as f64;
        let per_point = self.policies.len() as f64 * seeds;
        let optimising = self.policies.iter().any(|p| p.factory.needs_both_sides());
        let (mut steps, mut requests, mut run_bytes) = (0.0, 0.0, 0.0f64);
        let (mut worst, mut driver) = (0.0, String::new());
        for p in &self.points {
            let (r, s, d) = point_steps(p, seeds, self.policies.len() as f64, optimising);
            steps += s;
            requests += r;
            if s > worst {
                (worst, driver) = (s, d.to_string());
            }
            let (b, bd) = point_bytes(p);
            if b > run_bytes {
                run_bytes = b;
                if b > Limits::default().run_bytes {
                    driver = bd.to_string();
                }
            }
        }
        let runs = self.points.len() as f64 * per_point;
        if runs > 1e6 && run_bytes <= Limits::default().run_bytes {
            driver = "the number of runs: seeds (max_seeds with ci_rel) × policies × sweep points".into();
        }
        Estimate {
            runs,
            requests_per_run: requests / self.points.len() as f64,
            steps,
            run_bytes,
            seconds: steps * NS_PER_STEP * 1e-9 / threads.max(1) as f64,
            driver,
        }
    }
}

impl Estimate {
    /// `Err` with the reason when the estimate is beyond `limits`.
    pub fn check(&self, limits: &Limits) -> Result<(), String> {
        if over(self.run_bytes, limits.run_bytes) {
            return Err(format!(
                "one run would need about {} of memory (limit {}), driven by {}",
                bytes(self.run_bytes),
                bytes(limits.run_bytes),
                self.driver
            ));
        }
        if over(self.seconds, limits.seconds) {
            return Err(format!(
                "the study would take about {} ({:.1e} runs, {:.1e} simulation steps; limit {}), driven by {}",
                duration(self.seconds),
                self.runs,
                self.steps,
                duration(limits.seconds),
                self.driver
            ));
        }
        Ok(())
    }

    /// One line for `coinfer check`.
    pub fn summary(&self, plan: &SeedPlan) -> String {
        let upto = if matches!(plan, SeedPlan::Adaptive { .. }) {
            "at most "
        } else {
            ""
        };
        format!(
            "{upto}{:.0} runs, {:.3e} simulation steps, about {} on this machine, {} per run",
            self.runs,
            self.steps,
            duration(self.seconds),
            bytes(self.run_bytes)
        )
    }
}

/// `x` beyond `limit`, or not a number (an estimate that overflowed).
fn over(x: f64, limit: f64) -> bool {
    x.is_nan() || x > limit
}

fn bytes(b: f64) -> String {
    match b {
        b if b >= 1024f64.powi(3) => format!("{:.1} GiB", b / 1024f64.powi(3)),
        b if b >= 1024f64.powi(2) => format!("{:.1} MiB", b / 1024f64.powi(2)),
        b => format!("{:.0} KiB", b / 1024.0),
    }
}

fn duration(s: f64) -> String {
    match s {
        s if s >= 86400.0 * 365.0 => format!("{:.1e} years", s / (86400.0 * 365.0)),
        s if s >= 86400.0 => format!("{:.1} days", s / 86400.0),
        s if s >= 3600.0 => format!("{:.1} h", s / 3600.0),
        s if s >= 60.0 => format!("{:.1} min", s / 60.0),
        s => format!("{s:.1} s"),
    }
}
