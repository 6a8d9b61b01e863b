//! How many seeds each (point, policy) gets: a fixed number, or batches until
//! the confidence intervals are narrow enough (`ci_rel`).
//!
//! The plan is part of a study's identity: the shard manifest records it, so
//! `coinfer merge` can check that an adaptive run stopped where its rule says.

use crate::metrics::PointResults;
use serde::{Deserialize, Serialize};

/// The seeds of every (point, policy): run `i` uses seed `base_seed + i`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum SeedPlan {
    /// Exactly `seeds` runs.
    Fixed {
        /// Runs per point and policy.
        seeds: u32,
    },
    /// Batches of `batch` seeds until every mean's 95 % CI half-width is
    /// within `ci_rel × |mean|` for every policy, or `max_seeds` are run.
    Adaptive {
        /// Seeds per batch (the scenario's `seeds`).
        batch: u32,
        /// Target relative half-width.
        ci_rel: f64,
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
        match *self {
            SeedPlan::Fixed { .. } => None,
            SeedPlan::Adaptive {
                batch,
                ci_rel,
                max_seeds,
            } => (done < max_seeds && !results.precise(ci_rel)).then(|| (done + batch).min(max_seeds)),
        }
    }
}
