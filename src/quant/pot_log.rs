//! Power-of-two (logarithmic) quantization: magnitudes are mapped to the
//! levels `s·2^(-j)`, `j = 0..=J` with `J = 2^(b-1) - 2`, plus zero, where `s`
//! is the largest magnitude of the tensor. This is what shift-only hardware
//! multipliers implement: the relative error is bounded, the absolute error
//! is large for big weights.

use super::{magnitude_levels, Quantizer};
use crate::units::Bits;

/// Power-of-two quantizer with a per-tensor scale `s = max|w|`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PotLog;

impl Quantizer for PotLog {
    fn name(&self) -> &str {
        "pot_log"
    }

    /// See [`PotGrid::apply`], with `s` the tensor's largest magnitude.
    fn quantize(&self, w: &[f32], bits: Bits) -> Vec<f32> {
        let s = w.iter().fold(0.0f64, |m, &x| m.max(f64::from(x.abs())));
        let grid = PotGrid::new(s, bits);
        w.iter().map(|&x| grid.apply(x)).collect()
    }
}

/// The levels of a `b`-bit power-of-two quantizer with scale `s`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PotGrid {
    s: f64,
    last: f64,
    smallest: f64,
}

impl PotGrid {
    /// The grid `s·2^(-j)`, `j = 0..=J`, plus zero.
    pub(crate) fn new(s: f64, bits: Bits) -> PotGrid {
        let nominal_last = (magnitude_levels(bits) - 2) as f64;
        // At b = 16 the nominal last level s·2^-32766 is not representable
        // (f64 underflows below 2^-1074). Levels below f64::MIN_POSITIVE are
        // treated as zero, so the last representable level index is
        // floor(log2(s / MIN_POSITIVE)). For f32 inputs this cap never changes
        // a result: s <= 2^128 and any nonzero f32 magnitude is >= 2^-149, so
        // round(log2(s/m)) <= 277, far below the cap (>= 873 for s >= 2^-149).
        let last = nominal_last.min((s / f64::MIN_POSITIVE).log2().floor());
        PotGrid {
            s,
            last,
            smallest: s * (-last).exp2(),
        }
    }

    /// A magnitude `m > 0` goes to `j = round(log2(s/m))` (nearest level in
    /// the log domain); beyond the last level `j = J` it goes to whichever of
    /// `s·2^(-J)` and 0 is nearer in absolute distance. Sign kept; 0 when
    /// `s = 0`.
    pub(crate) fn apply(&self, x: f32) -> f32 {
        let m = f64::from(x.abs());
        if m == 0.0 || self.s == 0.0 {
            return 0.0;
        }
        let j = (self.s / m).log2().round().max(0.0);
        let q = if j <= self.last {
            self.s * (-j).exp2()
        } else if m < self.smallest - m {
            0.0
        } else {
            self.smallest
        };
        (q as f32).copysign(x)
    }
}
