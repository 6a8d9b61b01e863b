//! Per-request decision solvers for quantization-aware collaborative inference.
//!
//! A request splits a model between an energy-budgeted agent and a server.
//! The decision ([`Decision`](crate::model::Decision)) is the pair of
//! bit-widths and the pair of clock frequencies; the objective is a separable
//! distortion table lookup, subject to an end-to-end deadline, an agent energy
//! budget and an optional tightness cap (after Lyu et al., arXiv 2602.13052).
//!
//! [`exhaustive`] is the exact integer optimum, [`paper_joint`] the paper's
//! continuous-relaxation design, and [`max_freq_bits`], [`min_energy`],
//! [`feasible_choices`] / [`random_feasible`] and [`best_effort`] are baselines.

mod exact;
mod model;
mod relaxed;

pub use exact::{
    best_effort, exhaustive, fastest_within_budget, feasible_choices, max_freq_bits, min_energy,
    random_feasible, repair,
};
pub use model::{Evaluation, FreqSet, InvalidProblem, Problem, Side, FEASIBILITY_RTOL};
pub use relaxed::{paper_joint, PaperJointResult, RelaxedOptimum};
