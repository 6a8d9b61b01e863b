//! Per-run metrics: the engine pushes finished requests to a [`Recorder`];
//! [`RunMetrics`] streams them into running sums and a latency histogram, so
//! memory does not grow with the horizon.

mod point;
pub mod stats;

pub use point::{PointResults, PolicyRuns};

use crate::engine::{Outcome, Recorder};
use crate::model::distortion::DistortionTable;
use crate::model::request::Request;
use crate::model::System;
use hdrhistogram::Histogram;

/// An empty latency histogram: 1 ns to 1 h at 3 significant figures
/// (longer latencies are recorded as 1 h).
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000_000, 3).expect("valid bounds")
}

/// Names of the per-run metrics, in column order. Each is a mean over the
/// counted (post-warm-up) completed requests of one run, except
/// `server_utilization` (busy fraction of the workers after the warm-up).
pub const METRICS: [&str; 18] = [
    "miss_rate",
    "budget_violation_rate",
    "infeasible_rate",
    "rounding_violation_rate",
    "predicted_vs_measured_latency_error",
    "latency_mean_s",
    "agent_energy_mean_j",
    "server_energy_mean_j",
    "bits_agent_mean",
    "bits_server_mean",
    "freq_agent_mean_ghz",
    "distortion_upper_mean",
    "distortion_lower_mean",
    "distortion_approx_mean",
    "distortion_measured_mean",
    "server_wait_mean_s",
    "server_utilization",
    "drop_rate",
];

/// Number of per-run metrics.
pub const N_METRICS: usize = METRICS.len();

/// The first `PER_REQUEST` metrics are means over requests; the rest are
/// run-level (server utilization, drop rate).
const PER_REQUEST: usize = N_METRICS - 2;

/// Streams one run's counted requests into sums.
#[derive(Debug)]
pub struct RunMetrics<'a> {
    system: &'a System,
    measured: &'a DistortionTable,
    n: u64,
    dropped: u64,
    sums: [f64; PER_REQUEST],
    latency: Histogram<u64>,
}

impl<'a> RunMetrics<'a> {
    /// Empty metrics for a run of `system` whose quantized weights have the
    /// distortion table `measured`.
    pub fn new(system: &'a System, measured: &'a DistortionTable) -> Self {
        RunMetrics {
            system,
            measured,
            n: 0,
            dropped: 0,
            sums: [0.0; PER_REQUEST],
            latency: latency_histogram(),
        }
    }

    /// The run's summary and latency histogram, given the engine's outcome.
    pub fn finish(
        self,
        seed: u64,
        outcome: &Outcome,
        workers: u32,
        window_s: f64,
    ) -> (RunSummary, Histogram<u64>) {
        let n = self.n as f64;
        let mut values = [f64::NAN; N_METRICS];
        if self.n > 0 {
            for (v, s) in values.iter_mut().zip(&self.sums) {
                *v = s / n;
            }
        }
        let counted_total = self.n + self.dropped;
        values[PER_REQUEST] = outcome.server_busy.as_secs() / (workers as f64 * window_s);
        values[PER_REQUEST + 1] = if counted_total == 0 {
            0.0
        } else {
            self.dropped as f64 / counted_total as f64
        };
        let summary = RunSummary {
            seed,
            completed: self.n,
            dropped: self.dropped,
            generated: outcome.generated,
            requests: outcome.counted,
            in_flight: outcome.in_flight,
            events: outcome.events,
            fingerprint: outcome.fingerprint,
            values,
        };
        (summary, self.latency)
    }
}

impl Recorder for RunMetrics<'_> {
    fn on_complete(&mut self, r: &Request) {
        if !r.counted {
            return;
        }
        let s = self.system;
        let d = &r.decision;
        let latency = r.latency();
        self.n += 1;
        let row = [
            (r.done > r.deadline) as u8 as f64,
            (r.agent_energy().0 > s.energy_budget.0) as u8 as f64,
            (!d.feasible) as u8 as f64,
            d.rounding_broke_budget as u8 as f64,
            (latency.as_secs() - r.predicted_latency_s) / r.predicted_latency_s,
            latency.as_secs(),
            r.agent_energy().0,
            r.server_energy.0,
            f64::from(d.bits_agent),
            f64::from(d.bits_server),
            s.agent_cpu.clamp(d.freq_agent).ghz(),
            s.upper.pair(d.bits_agent, d.bits_server),
            s.lower.pair(d.bits_agent, d.bits_server),
            s.approx.pair(d.bits_agent, d.bits_server),
            self.measured.pair(d.bits_agent, d.bits_server),
            r.server_wait().as_secs(),
        ];
        for (sum, v) in self.sums.iter_mut().zip(row) {
            *sum += v;
        }
        self.latency.saturating_record(latency.0);
    }

    fn on_drop(&mut self, r: &Request) {
        if r.counted {
            self.dropped += 1;
        }
    }
}

/// What one run contributes to the results (with its latency histogram,
/// which is merged separately).
#[derive(Clone, Debug, PartialEq)]
pub struct RunSummary {
    /// The run's seed.
    pub seed: u64,
    /// Counted requests completed.
    pub completed: u64,
    /// Counted frames dropped.
    pub dropped: u64,
    /// All requests created (including warm-up).
    pub generated: u64,
    /// Requests created after the warm-up.
    pub requests: u64,
    /// Requests in the system at the horizon.
    pub in_flight: u64,
    /// Events handled.
    pub events: u64,
    /// Hash of the seed's arrivals and channel draws (policy-independent).
    pub fingerprint: u64,
    /// Per-run metric values, in [`METRICS`] order.
    pub values: [f64; N_METRICS],
}

/// One run's results: which policy and seed, its summary and latency histogram.
#[derive(Clone, Debug)]
pub struct RunRecord {
    /// Index of the policy in the scenario.
    pub policy: u32,
    /// Index of the seed (`seed = base_seed + seed_index`).
    pub seed_index: u32,
    /// The run's summary.
    pub summary: RunSummary,
    /// Its latency histogram.
    pub latency: Histogram<u64>,
}
