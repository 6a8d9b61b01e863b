//! How many seeds each (point, policy) gets: a fixed number, or batches until
//! the confidence intervals of chosen metrics are narrow enough (`ci_rel`).
//!
//! The plan is part of a study's identity: the shard manifest records it, so
//! `coinfer merge` can check that an adaptive run stopped where its rule says.

use crate::metrics::stats::precise;
use crate::metrics::{PointResults, METRICS};
use serde::{Deserialize, Serialize};

/// The seeds of every (point, policy): run `i` uses seed `base_seed + i`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SeedPlan {
    /// Exactly `seeds` runs.
    Fixed {
        /// Runs per point and policy.
        seeds: u32,
    },
    /// Batches of `batch` seeds until, for every policy, the 95 % CI
    /// half-width of each of `metrics` is within `max(ci_rel × |mean|,
    /// ci_abs)`, or `max_seeds` are run.
    Adaptive {
        /// Seeds per batch (the scenario's `seeds`).
        batch: u32,
        /// Target relative half-width.
        ci_rel: f64,
        /// Absolute floor of the target half-width.
        ci_abs: f64,
        /// The per-run metrics (names in [`METRICS`]) that must be precise.
        metrics: Vec<String>,
        /// Most seeds per point.
        max_seeds: u32,
    },
}

impl SeedPlan {
    /// Seeds of the first batch.
    pub fn first(&self) -> u32 {
        match *self {
            SeedPlan::Fixed { seeds } => seeds,
            SeedPlan::Adaptive { batch, max_seeds, .. } => batch.min(max_seeds),
        }
    }

    /// The most seeds a point can get.
    pub fn max_seeds(&self) -> u32 {
        match *self {
            SeedPlan::Fixed { seeds } => seeds,
            SeedPlan::Adaptive { max_seeds, .. } => max_seeds,
        }
    }

    /// After `done` seeds with `results`, how many seeds the point needs in
    /// all, or `None` when it is finished.
    pub fn next(&self, done: u32, results: &PointResults) -> Option<u32> {
        match self {
            SeedPlan::Fixed { .. } => None,
            SeedPlan::Adaptive {
                batch,
                ci_rel,
                ci_abs,
                max_seeds,
                ..
            } => (done < *max_seeds && !results.precise(&self.metric_indices(), *ci_rel, *ci_abs))
                .then(|| (done + batch).min(*max_seeds)),
        }
    }

    /// Whether one policy's means and CI half-widths (in [`METRICS`] order)
    /// meet the target; `None` for a fixed plan.
    pub fn target_met(&self, mean: &[f64], ci95: &[f64]) -> Option<bool> {
        let SeedPlan::Adaptive { ci_rel, ci_abs, .. } = self else {
            return None;
        };
        Some(
            self.metric_indices()
                .into_iter()
                .all(|m| precise(mean[m], ci95[m], *ci_rel, *ci_abs)),
        )
    }

    /// Indices in [`METRICS`] of the metrics the target applies to.
    fn metric_indices(&self) -> Vec<usize> {
        let SeedPlan::Adaptive { metrics, .. } = self else {
            return Vec::new();
        };
        metrics
            .iter()
            .filter_map(|n| METRICS.iter().position(|m| m.name == n))
            .collect()
    }
}
