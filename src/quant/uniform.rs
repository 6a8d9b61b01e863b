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

impl Uniform {
    /// The groups of consecutive weights sharing a scale, each with its
    /// scale (the group's largest magnitude).
    ///
    /// # Panics
    /// Panics if the group size is 0.
    fn scaled_groups<'w>(&self, w: &'w [f32]) -> impl Iterator<Item = (&'w [f32], f64)> {
        let group = self.group_size.unwrap_or(w.len().max(1));
        assert!(group > 0, "uniform quantizer group size must be positive");
        w.chunks(group)
            .map(|c| (c, c.iter().fold(0.0f64, |m, &x| m.max(f64::from(x.abs())))))
    }
}

impl Quantizer for Uniform {
    fn name(&self) -> &str {
        "uniform"
    }

    /// # Panics
    /// Panics if the group size is 0.
    fn quantize(&self, w: &[f32], bits: Bits) -> Vec<f32> {
        let steps = (magnitude_levels(bits) - 1) as f64;
        let mut out = Vec::with_capacity(w.len());
        for (chunk, s) in self.scaled_groups(w) {
            out.extend(chunk.iter().map(|&x| round_to_grid(x, s, steps)));
        }
        out
    }

    /// The mean absolute error of [`Uniform::quantize`], bit for bit, in one
    /// pass without building the quantized tensor.
    fn distortion(&self, w: &[f32], bits: Bits) -> f64 {
        if w.is_empty() {
            return 0.0;
        }
        let steps = (magnitude_levels(bits) - 1) as f64;
        let mut sum = 0.0;
        for (chunk, s) in self.scaled_groups(w) {
            if s == 0.0 {
                sum = chunk.iter().fold(sum, |acc, &x| acc + f64::from(x.abs()));
                continue;
            }
            let delta = s / steps;
            // Errors are computed 8 at a time (the compiler vectorizes the
            // divisions) and added in order, as the mean of `quantize` does.
            let mut errs = [0.0f64; 8];
            for part in chunk.chunks(8) {
                for (e, &x) in errs.iter_mut().zip(part) {
                    let a = f64::from(x.abs());
                    *e = (a - f64::from(snap(a, delta))).abs();
                }
                sum = errs[..part.len()].iter().fold(sum, |acc, e| acc + e);
            }
        }
        sum / w.len() as f64
    }
}

/// `x` rounded to the nearest of the levels `k·scale/steps`, `k = 0..=steps`
/// (sign kept), for `|x| <= scale`; 0 when the scale is 0.
pub(crate) fn round_to_grid(x: f32, scale: f64, steps: f64) -> f32 {
    if scale == 0.0 {
        return 0.0;
    }
    snap(f64::from(x.abs()), scale / steps).copysign(x)
}

/// The magnitude `a` rounded to the nearest level `k·delta`; the level index
/// `k = round(a/Δ)` is in `0..=steps` since `a <= scale`.
fn snap(a: f64, delta: f64) -> f32 {
    (round_nonnegative(a / delta) * delta) as f32
}

/// `v.round()` for `0 <= v < 2^31`, without the libm call `round` compiles
/// to on baseline x86-64 (the truncating cast and the subtraction are exact).
fn round_nonnegative(v: f64) -> f64 {
    let k = v as i32 as f64;
    if v - k >= 0.5 {
        k + 1.0
    } else {
        k
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::mean_abs_error;

    #[test]
    fn round_nonnegative_is_round() {
        let below_half = 0.5 - f64::EPSILON / 4.0;
        for v in [
            0.0,
            below_half,
            0.5,
            1.5,
            2.5,
            2.0 - 1e-12,
            7.499999,
            32767.5,
            1e9 + 0.5,
        ] {
            assert_eq!(round_nonnegative(v), v.round(), "{v}");
        }
    }

    #[test]
    fn distortion_is_mean_error_of_quantize() {
        let w: Vec<f32> = (0..1000)
            .map(|i| ((i * 7919 % 1000) as f32 - 500.0) * 1e-3)
            .collect();
        for group_size in [None, Some(1), Some(7), Some(128)] {
            let q = Uniform { group_size };
            for bits in Bits::all() {
                let direct = mean_abs_error(&w, &q.quantize(&w, bits));
                assert_eq!(q.distortion(&w, bits), direct, "{group_size:?} {bits:?}");
            }
        }
        assert_eq!(
            Uniform::default().distortion(&[], Bits::all().next().unwrap()),
            0.0
        );
    }
}
