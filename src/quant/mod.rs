//! Weight quantization for collaborative inference: this module models how
//! storing a model's weights with `b` bits (1 sign bit plus `b - 1`
//! magnitude bits) perturbs the weights and, through the network, the output.
//!
//! It contains
//! * three scalar quantizers behind the [`Quantizer`] trait
//!   ([`Uniform`], [`PotLog`], [`LloydMax`]) and a serde-friendly selector
//!   [`QuantizerKind`];
//! * rate–distortion bounds for Laplace weights ([`lower_bound`],
//!   [`upper_bound`], [`kappa_q`]);
//! * Laplace sampling and maximum-likelihood fitting ([`sample_laplace`],
//!   [`fit_lambda`], [`ks_distance`]);
//! * a synthetic fully connected network used to calibrate the linear
//!   output-distortion model `D_out ≈ Σ_l A_l n_l d_l(b_l)` or its
//!   quadrature form ([`SyntheticNet`], [`calibrate`], [`Aggregation`]) with
//!   a non-negative least-squares solver ([`nnls`]);
//! * memory-mapped access to `.safetensors` checkpoints ([`Checkpoint`]), a
//!   profiler fitting each block's law ([`profile_safetensors`]) and the
//!   quantizers' distortion on the real tensors ([`measure_block`]);
//! * with the `forward` feature, forward passes of a real quantized BERT
//!   checkpoint and the approximation checked against them ([`forward`]).

mod bounds;
mod checkpoint;
#[cfg(feature = "forward")]
pub mod forward;
mod laplace;
mod lloyd_max;
mod measure;
mod nnls;
mod pot_log;
mod profile;
pub mod study;
mod synthetic;
mod uniform;

pub use bounds::{kappa_q, lower_bound, upper_bound};
pub use checkpoint::{
    block_of, Checkpoint, ProfileError, Quantize, SkippedTensor, TensorInfo, TensorStats, Weights,
};
pub use laplace::{fit_lambda, ks_distance, sample_laplace, KS_MAX_SAMPLES};
pub use lloyd_max::{Codebook, LloydMax};
pub use measure::{
    allocate, block_distortion, measure_block, sample_indices, BlockDistortion, Role, TensorDistortion,
    MIN_TENSOR_SAMPLE,
};
pub use nnls::nnls;
pub use pot_log::PotLog;
pub use profile::{profile_safetensors, BlockProfile, Profile};
pub use synthetic::{
    calibrate, measure_output_distortion, r_squared, random_inputs, Activation, Aggregation, Calibration,
    CalibrationDesign, CalibrationRow, NetConfig, SyntheticNet,
};
pub use uniform::Uniform;

use crate::units::Bits;
use serde::{Deserialize, Serialize};

/// Names accepted by [`QuantizerKind::from_name`], in a fixed order.
pub const NAMES: &[&str] = &["uniform", "pot_log", "lloyd_max"];

/// A scalar weight quantizer: keeps each weight's sign and maps its magnitude
/// to one of `2^(bits-1)` levels.
///
/// Implement this trait to add a quantizer; `distortion` comes for free.
pub trait Quantizer: Send + Sync {
    /// Short snake_case name (e.g. `"uniform"`).
    fn name(&self) -> &str;

    /// Quantizes `w` with `bits` bits per weight; the output has the same
    /// length as `w`.
    fn quantize(&self, w: &[f32], bits: Bits) -> Vec<f32>;

    /// Per-weight distortion `d(b) = E|w - Q_b(w)|` on the tensor `w`,
    /// computed in f64.
    fn distortion(&self, w: &[f32], bits: Bits) -> f64 {
        mean_abs_error(w, &self.quantize(w, bits))
    }
}

/// Mean absolute difference `(1/n) Σ |w_i - q_i|` in f64 (0 for empty input).
///
/// # Panics
/// Panics if the slices have different lengths.
pub fn mean_abs_error(w: &[f32], q: &[f32]) -> f64 {
    assert_eq!(w.len(), q.len(), "tensor and its quantization differ in length");
    if w.is_empty() {
        return 0.0;
    }
    let sum: f64 = w
        .iter()
        .zip(q)
        .map(|(&a, &b)| (f64::from(a) - f64::from(b)).abs())
        .sum();
    sum / w.len() as f64
}

/// Number of magnitude levels of a `bits`-bit quantizer, `2^(bits-1)`.
pub fn magnitude_levels(bits: Bits) -> usize {
    1usize << bits.magnitude_bits()
}

/// Serializable choice of quantizer.
///
/// In RON: `Uniform(group_size: None)` (per-tensor scale),
/// `Uniform(group_size: Some(128))` (one scale per 128 consecutive weights),
/// `PotLog`, `LloydMax`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum QuantizerKind {
    /// Symmetric round-to-nearest uniform quantizer, see [`Uniform`].
    Uniform {
        /// Scale-group length (≥ 1); `None` means one scale for the whole tensor.
        #[serde(default, deserialize_with = "crate::check::count_opt")]
        group_size: Option<usize>,
    },
    /// Power-of-two (logarithmic) quantizer, see [`PotLog`].
    PotLog,
    /// Distortion-optimal (mean-absolute-error) quantizer, see [`LloydMax`].
    LloydMax,
}

impl QuantizerKind {
    /// Parses one of [`NAMES`]; `"uniform"` gives a per-tensor scale.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "uniform" => Some(Self::Uniform { group_size: None }),
            "pot_log" => Some(Self::PotLog),
            "lloyd_max" => Some(Self::LloydMax),
            _ => None,
        }
    }

    /// The snake_case name of this kind (an element of [`NAMES`]).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Uniform { .. } => "uniform",
            Self::PotLog => "pot_log",
            Self::LloydMax => "lloyd_max",
        }
    }

    /// Instantiates the quantizer with default parameters.
    pub fn build(&self) -> Box<dyn Quantizer> {
        match *self {
            Self::Uniform { group_size } => Box::new(Uniform { group_size }),
            Self::PotLog => Box::new(PotLog),
            Self::LloydMax => Box::new(LloydMax::default()),
        }
    }
}
