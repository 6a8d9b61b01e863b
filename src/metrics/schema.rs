//! The metrics schema (issue 9): one table, [`SCHEMA`], declares every result
//! column — name, unit, order, how it is aggregated and its figure labels.
//! The recorder ([`RunMetrics`](super::RunMetrics)), `summary.csv`,
//! `summary.json`, `paired.csv`, the figures' labels and the shard batch files
//! all read it.

use crate::engine::Outcome;
use crate::model::distortion::DistortionTable;
use crate::model::request::Request;
use crate::model::System;
use hdrhistogram::Histogram;

/// What a per-request metric sees: one counted, completed request, the system
/// it ran on and the distortion table measured on the run's quantized weights.
#[derive(Clone, Copy, Debug)]
pub struct Sample<'a> {
    /// The completed request.
    pub request: &'a Request,
    /// The system of the run.
    pub system: &'a System,
    /// The run's measured distortion table.
    pub measured: &'a DistortionTable,
}

impl Sample<'_> {
    /// `table`'s output distortion at the request's pair of bit-widths.
    fn distortion(&self, table: &DistortionTable) -> f64 {
        let d = &self.request.decision;
        table.pair(d.bits_agent, d.bits_server)
    }
}

/// What a run-level metric sees at the end of a run.
#[derive(Clone, Copy, Debug)]
pub struct RunTotals<'a> {
    /// The engine's outcome.
    pub outcome: &'a Outcome,
    /// Counted requests created (after the warm-up).
    pub counted: u64,
    /// Counted requests completed.
    pub completed: u64,
    /// Counted frames dropped.
    pub dropped: u64,
    /// Counted frames the policy did not process.
    pub skipped: u64,
    /// Counted requests whose uplink failed.
    pub failed: u64,
    /// Server workers.
    pub workers: u32,
    /// Length of the measured window (horizon − warm-up), s.
    pub window_s: f64,
}

/// How a column's numbers are made.
#[derive(Clone, Copy, Debug)]
pub enum MetricKind {
    /// Per run, the mean over its counted completed requests: the values are
    /// summed in completion order, then divided by their number (NaN if none).
    PerRequest(fn(&Sample) -> f64),
    /// Per run, one value from the run's totals.
    PerRun(fn(&RunTotals) -> f64),
    /// No per-run value: one number per policy and point, from the latency
    /// histogram (ns) merged over all its seeds; no confidence interval.
    Pooled(fn(&Histogram<u64>) -> f64),
}

/// One column of the results.
#[derive(Clone, Copy, Debug)]
pub struct Metric {
    /// Column name in `summary.csv`, `summary.json` and `paired.csv`.
    pub name: &'static str,
    /// Unit, shown in parentheses on axes; empty for dimensionless numbers
    /// (rates, bit-widths, distortions).
    pub unit: &'static str,
    /// Axis label, without the unit.
    pub label: &'static str,
    /// Short axis label of paired differences, without the unit; `None`:
    /// the axis label in lower case.
    pub short_label: Option<&'static str>,
    /// How the values are made.
    pub kind: MetricKind,
}

impl Metric {
    /// Whether the column is pooled over seeds (no per-run value, no CI).
    pub const fn is_pooled(&self) -> bool {
        matches!(self.kind, MetricKind::Pooled(_))
    }

    /// A pooled column's value from a merged latency histogram (ns).
    ///
    /// # Panics
    /// If the column is per-run (it has no pooled value).
    pub fn pooled_value(&self, latency: &Histogram<u64>) -> f64 {
        match self.kind {
            MetricKind::Pooled(f) => f(latency),
            _ => panic!("`{}` is a per-run metric, not a pooled column", self.name),
        }
    }

    /// The axis label: label and unit.
    pub fn axis_label(&self) -> String {
        with_unit(self.label, self.unit)
    }

    /// The short axis label of paired differences.
    pub fn short_axis_label(&self) -> String {
        match self.short_label {
            Some(s) => with_unit(s, self.unit),
            None => self.axis_label().to_lowercase(),
        }
    }
}

fn with_unit(label: &str, unit: &str) -> String {
    if unit.is_empty() {
        label.to_string()
    } else {
        format!("{label} ({unit})")
    }
}

/// 1 if `b`, else 0: the mean of a flag is a rate.
fn flag(b: bool) -> f64 {
    f64::from(u8::from(b))
}

/// A latency quantile (s) of a histogram of ns; NaN if it is empty.
fn quantile(h: &Histogram<u64>, q: f64) -> f64 {
    if h.is_empty() {
        f64::NAN
    } else {
        h.value_at_quantile(q) as f64 / 1e9
    }
}

/// The largest latency (s) of a histogram of ns; NaN if it is empty.
fn max_latency(h: &Histogram<u64>) -> f64 {
    if h.is_empty() {
        f64::NAN
    } else {
        h.max() as f64 / 1e9
    }
}

/// Every result column, in `summary.csv` order. A per-run column (kind
/// `PerRequest` or `PerRun`) is followed there by its `_ci95` column and is
/// also a row of `paired.csv`; a `Pooled` column stands alone.
///
/// **To add a metric**, add one entry here, where its column should go, with
/// its name (a `_s`, `_j`, `_ghz` … suffix by convention), unit, labels and
/// kind: a function of one [`Sample`] (averaged over the run's requests), of
/// the [`RunTotals`], or of the merged latency histogram. No other code
/// changes: [`METRICS`], [`N_METRICS`], the recorder, the result files, the
/// figures' labels and the batch files' metric list follow this table. Then
/// describe the column in the README's `summary.csv` table. (Batch files
/// written before the change are refused by `--resume` and `merge`, since
/// their metric list differs: run them again.)
pub const SCHEMA: &[Metric] = &[
    Metric {
        name: "miss_rate",
        unit: "",
        label: "Deadline miss rate",
        short_label: None,
        kind: MetricKind::PerRequest(|s| flag(s.request.done > s.request.deadline)),
    },
    Metric {
        name: "tx_overrun_rate",
        unit: "",
        label: "Uplink slower than planned",
        short_label: Some("tx overrun"),
        // The transmission took longer than the payload over the rate the
        // decision planned with (its channel view), beyond rounding to 1 ns.
        kind: MetricKind::PerRequest(|s| {
            let r = s.request;
            flag((r.server_arrival - r.tx_start).as_secs() > r.predicted_tx_s + 2e-9)
        }),
    },
    Metric {
        name: "budget_violation_rate",
        unit: "",
        label: "budget violation",
        short_label: None,
        kind: MetricKind::PerRequest(|s| flag(s.request.agent_energy().0 > s.system.energy_budget.0)),
    },
    Metric {
        name: "infeasible_rate",
        unit: "",
        label: "infeasible",
        short_label: None,
        kind: MetricKind::PerRequest(|s| flag(!s.request.decision.feasible)),
    },
    Metric {
        name: "rounding_violation_rate",
        unit: "",
        label: "rounding violation",
        short_label: None,
        kind: MetricKind::PerRequest(|s| flag(s.request.decision.rounding_broke_budget)),
    },
    Metric {
        name: "predicted_vs_measured_latency_error",
        unit: "",
        label: "predicted vs measured latency error",
        short_label: None,
        kind: MetricKind::PerRequest(|s| {
            let r = s.request;
            (r.latency().as_secs() - r.predicted_latency_s) / r.predicted_latency_s
        }),
    },
    Metric {
        name: "latency_mean_s",
        unit: "s",
        label: "Mean latency",
        short_label: None,
        kind: MetricKind::PerRequest(|s| s.request.latency().as_secs()),
    },
    Metric {
        name: "latency_p50_s",
        unit: "s",
        label: "latency p50",
        short_label: None,
        kind: MetricKind::Pooled(|h| quantile(h, 0.5)),
    },
    Metric {
        name: "latency_p95_s",
        unit: "s",
        label: "latency p95",
        short_label: None,
        kind: MetricKind::Pooled(|h| quantile(h, 0.95)),
    },
    Metric {
        name: "latency_p99_s",
        unit: "s",
        label: "p99 latency",
        short_label: None,
        kind: MetricKind::Pooled(|h| quantile(h, 0.99)),
    },
    Metric {
        name: "latency_max_s",
        unit: "s",
        label: "latency max",
        short_label: None,
        kind: MetricKind::Pooled(max_latency),
    },
    Metric {
        name: "agent_energy_mean_j",
        unit: "J",
        label: "Agent energy per request",
        short_label: Some("agent energy"),
        kind: MetricKind::PerRequest(|s| s.request.agent_energy().0),
    },
    Metric {
        name: "server_energy_mean_j",
        unit: "J",
        label: "Server energy per request",
        short_label: Some("server energy"),
        kind: MetricKind::PerRequest(|s| s.request.server_energy.0),
    },
    Metric {
        name: "agent_dynamic_mean_j",
        unit: "J",
        label: "Agent dynamic compute energy per request",
        short_label: Some("agent dynamic"),
        kind: MetricKind::PerRequest(|s| s.request.compute_dynamic.0),
    },
    Metric {
        name: "agent_static_mean_j",
        unit: "J",
        label: "Agent static energy while computing, per request",
        short_label: Some("agent static"),
        kind: MetricKind::PerRequest(|s| s.request.compute_static.0),
    },
    Metric {
        name: "agent_switch_mean_j",
        unit: "J",
        label: "Agent DVFS switch energy per request",
        short_label: Some("agent switches"),
        kind: MetricKind::PerRequest(|s| s.request.switch_energy.0),
    },
    Metric {
        name: "agent_tx_mean_j",
        unit: "J",
        label: "Agent transmit energy per request",
        short_label: Some("transmit energy"),
        kind: MetricKind::PerRequest(|s| s.request.tx_energy.0),
    },
    Metric {
        name: "agent_rx_mean_j",
        unit: "J",
        label: "Agent receive energy per request",
        short_label: Some("receive energy"),
        kind: MetricKind::PerRequest(|s| s.request.rx_energy.0),
    },
    Metric {
        name: "server_dynamic_mean_j",
        unit: "J",
        label: "Server dynamic energy per request",
        short_label: Some("server dynamic"),
        kind: MetricKind::PerRequest(|s| s.request.server_dynamic.0),
    },
    Metric {
        name: "server_static_mean_j",
        unit: "J",
        label: "Server static energy while busy, per request",
        short_label: Some("server static"),
        kind: MetricKind::PerRequest(|s| s.request.server_static.0),
    },
    Metric {
        name: "bits_agent_mean",
        unit: "",
        label: "Agent bit-width b_{a}",
        short_label: Some("b_{a}"),
        kind: MetricKind::PerRequest(|s| f64::from(s.request.decision.bits_agent)),
    },
    Metric {
        name: "bits_server_mean",
        unit: "",
        label: "Server bit-width b_{s}",
        short_label: Some("b_{s}"),
        kind: MetricKind::PerRequest(|s| f64::from(s.request.decision.bits_server)),
    },
    Metric {
        name: "freq_agent_mean_ghz",
        unit: "GHz",
        label: "Agent frequency f_{a}",
        short_label: Some("f_{a}"),
        kind: MetricKind::PerRequest(|s| s.system.agent_cpu.clamp(s.request.decision.freq_agent).ghz()),
    },
    Metric {
        name: "distortion_upper_mean",
        unit: "",
        label: "Output distortion bound D_{U}",
        short_label: Some("D_{U}"),
        kind: MetricKind::PerRequest(|s| s.distortion(&s.system.upper)),
    },
    Metric {
        name: "distortion_lower_mean",
        unit: "",
        label: "Output distortion bound D_{L}",
        short_label: Some("D_{L}"),
        kind: MetricKind::PerRequest(|s| s.distortion(&s.system.lower)),
    },
    Metric {
        name: "distortion_approx_mean",
        unit: "",
        label: "Approximated output distortion",
        short_label: Some("approx. distortion"),
        kind: MetricKind::PerRequest(|s| s.distortion(&s.system.approx)),
    },
    Metric {
        name: "distortion_measured_mean",
        unit: "",
        label: "Measured output distortion",
        short_label: Some("measured distortion"),
        kind: MetricKind::PerRequest(|s| s.distortion(s.measured)),
    },
    Metric {
        name: "server_wait_mean_s",
        unit: "s",
        label: "server wait mean",
        short_label: None,
        kind: MetricKind::PerRequest(|s| s.request.server_wait().as_secs()),
    },
    Metric {
        name: "tx_time_mean_s",
        unit: "s",
        label: "Uplink time per request",
        short_label: None,
        kind: MetricKind::PerRequest(|s| (s.request.server_arrival - s.request.tx_start).as_secs()),
    },
    Metric {
        name: "server_utilization",
        unit: "",
        label: "server utilization",
        short_label: None,
        // Busy fraction of the workers over the measured window.
        kind: MetricKind::PerRun(|t| t.outcome.server_busy.as_secs() / (t.workers as f64 * t.window_s)),
    },
    Metric {
        name: "drop_rate",
        unit: "",
        label: "drop",
        short_label: None,
        // Dropped frames over counted frames (completed or dropped).
        kind: MetricKind::PerRun(|t| match t.completed + t.dropped {
            0 => 0.0,
            total => t.dropped as f64 / total as f64,
        }),
    },
    Metric {
        name: "skip_rate",
        unit: "",
        label: "Skipped frame rate",
        short_label: None,
        // Frames the policy did not process (`on_infeasible: Skip`) over counted frames.
        kind: MetricKind::PerRun(|t| per_counted(t, t.skipped)),
    },
    Metric {
        name: "failed_rate",
        unit: "",
        label: "Failed request rate",
        short_label: None,
        // Requests whose fixed-rate uplink gave up after `max_retx`, over counted frames.
        kind: MetricKind::PerRun(|t| per_counted(t, t.failed)),
    },
    Metric {
        name: "retx_mean",
        unit: "",
        label: "Uplink retransmissions per request",
        short_label: Some("retransmissions"),
        kind: MetricKind::PerRequest(|s| f64::from(s.request.tx_attempts.saturating_sub(1))),
    },
    Metric {
        name: "agents_dead",
        unit: "",
        label: "Agents out of battery",
        short_label: Some("dead agents"),
        // Agents whose battery ran out before the horizon (the whole run's, also per group).
        kind: MetricKind::PerRun(|t| {
            t.outcome
                .batteries
                .iter()
                .flatten()
                .filter(|b| b.dead_at_s.is_some())
                .count() as f64
        }),
    },
    Metric {
        name: "lifetime_s",
        unit: "s",
        label: "Agent battery lifetime",
        short_label: Some("lifetime"),
        // Mean over agents with a battery of its time of death, or of how
        // long it would last at its mean drain so far; NaN without batteries.
        kind: MetricKind::PerRun(|t| {
            let life: Vec<f64> = t
                .outcome
                .batteries
                .iter()
                .flatten()
                .map(|b| b.lifetime_s())
                .collect();
            life.iter().sum::<f64>() / life.len() as f64
        }),
    },
];

/// Number of [`SCHEMA`] columns that are pooled (`true`) or per-run (`false`).
const fn count(pooled: bool) -> usize {
    let (mut i, mut n) = (0, 0);
    while i < SCHEMA.len() {
        if SCHEMA[i].is_pooled() == pooled {
            n += 1;
        }
        i += 1;
    }
    n
}

/// The [`SCHEMA`] columns that are pooled (`true`) or per-run (`false`), in order.
const fn select<const N: usize>(pooled: bool) -> [&'static Metric; N] {
    let mut out = [&SCHEMA[0]; N];
    let (mut i, mut k) = (0, 0);
    while i < SCHEMA.len() {
        if SCHEMA[i].is_pooled() == pooled {
            out[k] = &SCHEMA[i];
            k += 1;
        }
        i += 1;
    }
    out
}

/// Number of per-run metrics.
pub const N_METRICS: usize = count(false);

/// Number of pooled columns.
pub const N_POOLED: usize = count(true);

/// The per-run metrics, in [`SCHEMA`] order: `RunSummary::values[m]` is the
/// value of `METRICS[m]`.
pub static METRICS: [&Metric; N_METRICS] = select(false);

/// The pooled columns, in [`SCHEMA`] order.
pub static POOLED: [&Metric; N_POOLED] = select(true);

/// The column named `name`, if any.
pub fn find(name: &str) -> Option<&'static Metric> {
    SCHEMA.iter().find(|m| m.name == name)
}

/// `n` over the run's counted frames (0 without any).
fn per_counted(t: &RunTotals, n: u64) -> f64 {
    match t.counted {
        0 => 0.0,
        total => n as f64 / total as f64,
    }
}
