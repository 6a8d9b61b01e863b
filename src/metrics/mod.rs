//! Per-run metrics: the engine pushes finished requests to a [`Recorder`];
//! [`RunMetrics`] streams them into running sums and a latency histogram, so
//! memory does not grow with the horizon. Which metrics there are, and how
//! each is computed, is declared once in [`schema::SCHEMA`].

mod point;
pub mod schema;
pub mod stats;

pub use point::{PointResults, PolicyRuns};
pub use schema::{Metric, MetricKind, RunTotals, Sample, METRICS, N_METRICS, N_POOLED, POOLED, SCHEMA};

use crate::engine::{Outcome, Recorder};
use crate::model::distortion::DistortionTable;
use crate::model::request::Request;
use crate::model::System;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// An empty latency histogram: 1 ns to 1 h at 3 significant figures
/// (longer latencies are recorded as 1 h).
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000_000, 3).expect("valid bounds")
}

/// Streams one run's counted requests into sums, for all agents and, with
/// several groups of agents, for each group.
#[derive(Debug)]
pub struct RunMetrics<'a> {
    system: &'a System,
    measured: &'a DistortionTable,
    /// Per group (only with several): the group of each agent, and its metrics.
    group_of: Vec<u32>,
    groups: Vec<RunMetrics<'a>>,
    counted: u64,
    n: u64,
    dropped: u64,
    skipped: u64,
    failed: u64,
    /// Sums of the per-request metrics (entries of run-level ones stay 0).
    sums: [f64; N_METRICS],
    latency: Histogram<u64>,
}

impl<'a> RunMetrics<'a> {
    /// Empty metrics for a run of `system` whose quantized weights have the
    /// distortion table `measured`.
    pub fn new(system: &'a System, measured: &'a DistortionTable) -> Self {
        RunMetrics {
            system,
            measured,
            group_of: Vec::new(),
            groups: Vec::new(),
            counted: 0,
            n: 0,
            dropped: 0,
            skipped: 0,
            failed: 0,
            sums: [0.0; N_METRICS],
            latency: latency_histogram(),
        }
    }

    /// Also keeps metrics per group of agents, given each agent's group
    /// (nothing changes with a single group).
    pub fn with_groups(mut self, group_of: Vec<u32>) -> Self {
        let n = group_of.iter().max().map_or(0, |&g| g as usize + 1);
        if n > 1 {
            self.groups = (0..n)
                .map(|_| RunMetrics::new(self.system, self.measured))
                .collect();
            self.group_of = group_of;
        }
        self
    }

    fn group(&mut self, r: &Request) -> Option<&mut RunMetrics<'a>> {
        let g = *self.group_of.get(r.agent as usize)?;
        self.groups.get_mut(g as usize)
    }

    /// The run's summary and latency histogram, given the engine's outcome.
    pub fn finish(
        mut self,
        seed: u64,
        outcome: &Outcome,
        workers: u32,
        window_s: f64,
    ) -> (RunSummary, Histogram<u64>) {
        let groups = std::mem::take(&mut self.groups)
            .into_iter()
            .map(|g| g.finish(seed, outcome, workers, window_s).0)
            .collect();
        let totals = RunTotals {
            outcome,
            counted: self.counted,
            completed: self.n,
            dropped: self.dropped,
            skipped: self.skipped,
            failed: self.failed,
            workers,
            window_s,
        };
        let values = std::array::from_fn(|m| match METRICS[m].kind {
            MetricKind::PerRun(f) => f(&totals),
            _ if self.n == 0 => f64::NAN,
            _ => self.sums[m] / self.n as f64,
        });
        let summary = RunSummary {
            seed,
            completed: self.n,
            dropped: self.dropped,
            generated: outcome.generated,
            requests: self.counted,
            in_flight: outcome.in_flight,
            events: outcome.events,
            fingerprint: outcome.fingerprint,
            values,
            groups,
            deaths_s: match outcome.batteries.iter().any(Option::is_some) {
                true => outcome
                    .batteries
                    .iter()
                    .map(|b| b.and_then(|b| b.dead_at_s))
                    .collect(),
                false => Vec::new(),
            },
        };
        (summary, self.latency)
    }
}

impl Recorder for RunMetrics<'_> {
    fn on_create(&mut self, r: &Request) {
        if let Some(g) = self.group(r) {
            g.on_create(r);
        }
        self.counted += u64::from(r.counted);
    }

    fn on_complete(&mut self, r: &Request) {
        if let Some(g) = self.group(r) {
            g.on_complete(r);
        }
        if !r.counted {
            return;
        }
        self.n += 1;
        let sample = Sample {
            request: r,
            system: self.system,
            measured: self.measured,
        };
        for (sum, m) in self.sums.iter_mut().zip(METRICS) {
            if let MetricKind::PerRequest(f) = m.kind {
                *sum += f(&sample);
            }
        }
        self.latency.saturating_record(r.latency().0);
    }

    fn on_drop(&mut self, r: &Request) {
        if let Some(g) = self.group(r) {
            g.on_drop(r);
        }
        if r.counted {
            self.dropped += 1;
        }
    }

    fn on_skip(&mut self, r: &Request) {
        if let Some(g) = self.group(r) {
            g.on_skip(r);
        }
        if r.counted {
            self.skipped += 1;
        }
    }

    fn on_fail(&mut self, r: &Request) {
        if let Some(g) = self.group(r) {
            g.on_fail(r);
        }
        if r.counted {
            self.failed += 1;
        }
    }
}

/// What one run contributes to the results (with its latency histogram,
/// which is merged separately).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
    #[serde(with = "per_metric")]
    pub values: [f64; N_METRICS],
    /// With several groups of agents, each group's summary (their own
    /// `groups` empty; `generated`, `in_flight`, `events` and `fingerprint`
    /// are the whole run's).
    pub groups: Vec<RunSummary>,
    /// With batteries, when each agent's ran out, s (`None`: it did not);
    /// empty without batteries.
    pub deaths_s: Vec<Option<f64>>,
}

/// One run's results: which policy and seed, its summary and latency histogram.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunRecord {
    /// Index of the policy in the scenario.
    pub policy: u32,
    /// Index of the seed (`seed = base_seed + seed_index`).
    pub seed_index: u32,
    /// The run's summary.
    pub summary: RunSummary,
    /// Its latency histogram (serialized as its HDR V2 bytes).
    #[serde(with = "hdr_v2")]
    pub latency: Histogram<u64>,
}

/// Serde form of per-run metric values: a sequence of one value per metric
/// (any other length is refused), so no array-size limit applies.
mod per_metric {
    use super::N_METRICS;
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(values: &[f64; N_METRICS], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(values)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[f64; N_METRICS], D::Error> {
        let v = Vec::<f64>::deserialize(d)?;
        v.try_into()
            .map_err(|v: Vec<f64>| D::Error::invalid_length(v.len(), &"one value per metric"))
    }
}

/// Serde form of a latency histogram: its HDR V2-serialized bytes.
mod hdr_v2 {
    use hdrhistogram::serialization::{Deserializer as HdrDe, Serializer as _, V2Serializer};
    use hdrhistogram::Histogram;
    use serde::{de, ser, Deserialize, Deserializer, Serializer};
    use serde_bytes::ByteBuf;

    pub fn serialize<S: Serializer>(h: &Histogram<u64>, s: S) -> Result<S::Ok, S::Error> {
        let mut bytes = Vec::new();
        V2Serializer::new()
            .serialize(h, &mut bytes)
            .map_err(|e| ser::Error::custom(format!("latency histogram: {e:?}")))?;
        s.serialize_bytes(&bytes)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Histogram<u64>, D::Error> {
        let bytes = ByteBuf::deserialize(d)?;
        HdrDe::new()
            .deserialize(&mut bytes.as_slice())
            .map_err(|e| de::Error::custom(format!("bad latency histogram: {e}")))
    }
}
