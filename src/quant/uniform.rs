//! Symmetric uniform (round-to-nearest) quantization: the magnitude of every
//! weight is rounded to the nearest of `L = 2^(b-1)` equally spaced levels
//! `k·s/(L-1)`, `k = 0..L`, where the scale `s` is the largest magnitude of
//! the tensor (or of each group of consecutive weights). Both 0 and `s` are
//! levels, so the step is `Δ = s/(L-1)` and nothing is clipped.

use super::{magnitude_levels, Quantizer};
use crate::units::Bits;

/// Uniform symmetric quantizer with an optional per-group scale.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Uniform {
    /// Number of consecutive weights sharing one scale; `None` = whole tensor.
    pub group_size: Option<usize>,
}

impl Quantizer for Uniform {
    fn name(&self) -> &str {
        "uniform"
    }

    /// # Panics
    /// Panics if the group size is 0.
    fn quantize(&self, w: &[f32], bits: Bits) -> Vec<f32> {
        let steps = (magnitude_levels(bits) - 1) as f64;
        let group = self.group_size.unwrap_or(w.len().max(1));
        assert!(group > 0, "uniform quantizer group size must be positive");
        let mut out = Vec::with_capacity(w.len());
        for chunk in w.chunks(group) {
            let s = chunk.iter().fold(0.0f64, |m, &x| m.max(f64::from(x.abs())));
            out.extend(chunk.iter().map(|&x| round_to_grid(x, s, steps)));
        }
        out
    }
}

/// `x` rounded to the nearest of the levels `k·scale/steps`, `k = 0..=steps`
/// (sign kept), for `|x| <= scale`; 0 when the scale is 0.
pub(crate) fn round_to_grid(x: f32, scale: f64, steps: f64) -> f32 {
    if scale == 0.0 {
        return 0.0;
    }
    let delta = scale / steps;
    // Magnitude level index k = round(|x|/Δ) is in 0..=steps since |x| <= scale.
    let k = (f64::from(x.abs()) / delta).round();
    ((k * delta) as f32).copysign(x)
}
