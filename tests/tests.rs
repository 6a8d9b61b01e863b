//! The integration test binary: one module per behaviour.

mod bits;
mod calibrated;
mod campaign;
mod channel;
mod cli;
mod compute;
mod conservation;
mod determinism;
mod distortion;
mod embodiment;
mod extends;
mod figures;
#[cfg(feature = "forward")]
mod forward;
mod fuzz;
mod golden;
mod layers;
mod plot;
mod policies;
mod quant;
mod queueing;
mod real_weights;
mod regression;
mod scenario_errors;
mod schema;
mod shard_codec;
mod solver;
mod sweeps;
mod util;
