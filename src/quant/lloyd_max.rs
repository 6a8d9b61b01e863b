//! Distortion-optimal fixed-rate scalar quantization (Lloyd–Max) of weight
//! magnitudes under the MEAN ABSOLUTE error criterion.
//!
//! With `L = 2^(b-1)` levels, Lloyd's algorithm alternates two optimality
//! conditions on the empirical distribution of the magnitudes:
//! * nearest-neighbour: each magnitude goes to its nearest level, i.e. cell
//!   boundaries are the midpoints between consecutive levels;
//! * centroid: each level moves to the point minimising the mean absolute
//!   error of its cell, which is the cell's MEDIAN (not the mean, which would
//!   minimise the squared error).
//!
//! Neither step can increase the error, so the iteration stops when the
//! levels no longer change (or after `max_iterations`). Working on the sorted
//! magnitudes makes every cell a contiguous index range: boundaries are found
//! by one merge sweep (O(n + L) per iteration) and medians are O(1) lookups.

use super::{magnitude_levels, mean_abs_error, Quantizer};
use crate::units::Bits;

/// Lloyd–Max quantizer minimising the mean absolute error on the data.
///
/// `quantize` designs the codebook on the tensor itself and applies it to the
/// same tensor; use [`LloydMax::design`] + [`Codebook::apply`] to evaluate on
/// data the codebook was not trained on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LloydMax {
    /// Cap on Lloyd iterations per initialisation.
    pub max_iterations: usize,
}

impl Default for LloydMax {
    /// Up to 1000 iterations, stopping earlier when an iteration lowers the
    /// error by less than 1e-9 of it.
    fn default() -> Self {
        Self { max_iterations: 1000 }
    }
}

/// Fewer weights per level than this and Lloyd's refinement would fit the
/// sample rather than the law: the compander is used as it is.
pub const FEW_PER_LEVEL: usize = 8;

/// Relative error decrease below which Lloyd's iterations stop.
const TOLERANCE: f64 = 1e-9;

/// Sorted, strictly increasing magnitude levels of a designed quantizer.
#[derive(Debug, Clone, PartialEq)]
pub struct Codebook {
    /// Magnitude levels, strictly increasing (at most `2^(b-1)` of them).
    pub levels: Vec<f64>,
}

impl Codebook {
    /// Maps every weight to `sign(w)·level` with the level nearest to `|w|`.
    pub fn apply(&self, w: &[f32]) -> Vec<f32> {
        w.iter()
            .map(|&x| {
                let m = f64::from(x.abs());
                (self.nearest(m) as f32).copysign(x)
            })
            .collect()
    }

    /// The level nearest to `m` (ties go to the lower level); 0 if empty.
    fn nearest(&self, m: f64) -> f64 {
        let lv = &self.levels;
        let i = lv.partition_point(|&c| c < m);
        match (i.checked_sub(1).map(|k| lv[k]), lv.get(i)) {
            (Some(lo), Some(&hi)) => {
                if m - lo <= hi - m {
                    lo
                } else {
                    hi
                }
            }
            (Some(lo), None) => lo,
            (None, Some(&hi)) => hi,
            (None, None) => 0.0,
        }
    }
}

impl LloydMax {
    /// Designs a codebook of at most `2^(bits-1)` magnitude levels for `w`.
    ///
    /// Initialisation is deterministic. Data with no more distinct magnitudes
    /// than levels, each repeated (or with many weights per level), get the
    /// distinct magnitudes as levels (zero error). With fewer than
    /// [`FEW_PER_LEVEL`] weights per level, refining on the data would
    /// memorise it, so the codebook is the compander (a) or the uniform grid
    /// (c) below, unrefined, whichever has the smaller error on `w` (the
    /// compander assumes an exponential law, which heavy tails break).
    /// Otherwise Lloyd runs from three starts, and the codebook with the
    /// smaller error on `w` is kept:
    /// (a) the compander with the high-resolution optimal point density for
    /// absolute error, `∝ p(m)^(1/2)`: for magnitudes `~ Exp(λ)` (λ fitted as
    /// `1/mean`) that density is `Exp(λ/2)`, so level `k` of `L` sits at
    /// `−(2/λ)·ln(1 − (k + ½)/L)`; its error is `2^-(b-1)/λ = D_U` at high
    /// resolution, which Lloyd then only refines;
    /// (b) the mid-cell quantiles of the sorted magnitudes;
    /// (c) the [`Uniform`] levels `k·max/(L-1)`, which guarantees the result
    /// is never worse than the uniform quantizer on the same data, because
    /// Lloyd steps never increase the error.
    ///
    /// [`Uniform`]: super::Uniform
    pub fn design(&self, w: &[f32], bits: Bits) -> Codebook {
        let n_levels = magnitude_levels(bits);
        let mut x: Vec<f64> = w.iter().map(|v| f64::from(v.abs())).collect();
        x.sort_by(f64::total_cmp);
        let mut distinct = x.clone();
        distinct.dedup();
        let n = x.len();
        let lambda = n as f64 / x.iter().sum::<f64>();
        // -(2/λ)·ln(1 − (k + ½)/L): strictly increasing for a finite λ > 0.
        let compander: Vec<f64> = (0..n_levels)
            .map(|k| -(2.0 / lambda) * (1.0 - (k as f64 + 0.5) / n_levels as f64).ln())
            .collect();
        let discrete = distinct.len() <= n_levels;
        if discrete && (2 * distinct.len() <= n || n >= FEW_PER_LEVEL * n_levels) {
            return Codebook { levels: distinct };
        }
        let s = x[n - 1];
        let uniform: Vec<f64> = (0..n_levels)
            .map(|k| k as f64 * s / (n_levels - 1) as f64)
            .collect();
        let err = |c: &Codebook| mean_abs_error(w, &c.apply(w));
        if n < FEW_PER_LEVEL * n_levels && lambda.is_finite() {
            // Two fixed grids, neither fitted to the sample: the better one.
            let (c, u) = (Codebook { levels: compander }, Codebook { levels: uniform });
            return if err(&u) < err(&c) { u } else { c };
        }
        if discrete {
            return Codebook { levels: distinct };
        }
        let quantile: Vec<f64> = (0..n_levels)
            .map(|k| x[((2 * k + 1) * n) / (2 * n_levels)])
            .collect();
        let mut best: Option<(f64, Codebook)> = None;
        for start in [compander, strictly_increasing(quantile), uniform] {
            let c = self.iterate(&x, start);
            let e = err(&c);
            if best.as_ref().is_none_or(|b| e < b.0) {
                best = Some((e, c));
            }
        }
        best.map_or(Codebook { levels: distinct }, |b| b.1)
    }

    /// Lloyd iterations on the sorted magnitudes `x` from strictly increasing
    /// `levels`. Levels stay strictly increasing: medians of consecutive
    /// non-empty cells are distinct data values in increasing order, and an
    /// empty cell keeps its level, which lies between its neighbours' cells.
    fn iterate(&self, x: &[f64], mut levels: Vec<f64>) -> Codebook {
        let mut next = levels.clone();
        let mut error = f64::INFINITY;
        for _ in 0..self.max_iterations {
            let mut cell_error = 0.0;
            // Merge sweep: cell k holds x in [t_{k-1}, t_k), t_k the midpoint
            // between levels k and k+1.
            let mut i = 0;
            for k in 0..levels.len() {
                let start = i;
                match levels.get(k + 1) {
                    Some(&up) => {
                        let t = 0.5 * (levels[k] + up);
                        while i < x.len() && x[i] < t {
                            i += 1;
                        }
                    }
                    None => i = x.len(),
                }
                // Median of the cell minimises its mean absolute error; an
                // empty cell keeps its level.
                next[k] = if i > start {
                    x[(start + i - 1) / 2]
                } else {
                    levels[k]
                };
                cell_error += x[start..i].iter().map(|m| (m - next[k]).abs()).sum::<f64>();
            }
            let converged = next == levels || error - cell_error <= TOLERANCE * cell_error;
            std::mem::swap(&mut levels, &mut next);
            error = cell_error;
            if converged {
                break;
            }
        }
        Codebook { levels }
    }
}

/// Removes repeated values from a sorted vector (quantiles of data with ties).
fn strictly_increasing(mut v: Vec<f64>) -> Vec<f64> {
    v.dedup();
    v
}

impl Quantizer for LloydMax {
    fn name(&self) -> &str {
        "lloyd_max"
    }

    /// Designs the codebook on `w` ([`LloydMax::design`]) and applies it to `w`.
    fn quantize(&self, w: &[f32], bits: Bits) -> Vec<f32> {
        self.design(w, bits).apply(w)
    }

    /// Out of sample: the codebook is designed on the weights at even
    /// positions and scored on those at odd positions, so a sample with few
    /// weights per level is not memorised (in sample, 768 weights at 11 bits
    /// would score 0). A single weight is scored in sample.
    fn distortion(&self, w: &[f32], bits: Bits) -> f64 {
        if w.len() < 2 {
            return mean_abs_error(w, &self.quantize(w, bits));
        }
        let design: Vec<f32> = w.iter().step_by(2).copied().collect();
        let score: Vec<f32> = w.iter().skip(1).step_by(2).copied().collect();
        mean_abs_error(&score, &self.design(&design, bits).apply(&score))
    }
}
