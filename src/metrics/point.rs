//! The runs of one sweep point: per policy, every seed's summary in seed
//! order and the merged latency histogram.

use super::stats::{mean_ci95, precise};
use super::{latency_histogram, RunRecord, RunSummary, N_METRICS};
use hdrhistogram::Histogram;

/// All runs of one policy at one point.
#[derive(Clone, Debug)]
pub struct PolicyRuns {
    /// The policy's label.
    pub label: String,
    /// One summary per seed, in seed order.
    pub runs: Vec<RunSummary>,
    /// Latencies of every run, merged.
    pub latency: Histogram<u64>,
}

/// The results of one sweep point.
#[derive(Clone, Debug)]
pub struct PointResults {
    /// `(param, value)` of the point (empty without a sweep).
    pub params: Vec<(String, String)>,
    /// One entry per policy, in scenario order.
    pub policies: Vec<PolicyRuns>,
}

impl PointResults {
    /// Empty results for a point and the policy labels.
    pub fn new(params: Vec<(String, String)>, labels: &[String]) -> Self {
        PointResults {
            params,
            policies: labels
                .iter()
                .map(|l| PolicyRuns {
                    label: l.clone(),
                    runs: Vec::new(),
                    latency: latency_histogram(),
                })
                .collect(),
        }
    }

    /// Adds records; each policy's records must come in seed order.
    pub fn add(&mut self, records: Vec<RunRecord>) {
        for r in records {
            let p = &mut self.policies[r.policy as usize];
            p.latency.add(&r.latency).expect("same histogram bounds");
            p.runs.push(r.summary);
        }
    }

    /// Whether, for every policy, each metric of `metrics` (indices of
    /// per-run metrics) is [`precise`] with `rel` and `abs`.
    pub fn precise(&self, metrics: &[usize], rel: f64, abs: f64) -> bool {
        self.policies.iter().all(|p| {
            metrics.iter().filter(|&&m| m < N_METRICS).all(|&m| {
                let (mean, ci) = mean_ci95(p.runs.iter().map(|r| r.values[m]));
                precise(mean, ci, rel, abs)
            })
        })
    }
}
