//! Laplace weight model: weights are `sign · Exp(λ)` with a fair random sign,
//! so the magnitudes are exponential with mean `1/λ`. The maximum-likelihood
//! estimate of λ from magnitudes is `1 / mean|w|`; goodness of fit is the
//! Kolmogorov–Smirnov distance between the empirical CDF of `|w|` and the
//! `Exp(λ̂)` CDF `1 - e^(-λ̂ x)`.

use rand::Rng;
use rand_distr::{Distribution, Exp};

/// Largest number of magnitudes [`ks_distance`] sorts; longer inputs are
/// subsampled deterministically (every `k`-th element, `k = ceil(n / 1e6)`).
pub const KS_MAX_SAMPLES: usize = 1_000_000;

/// Draws `n` Laplace weights `sign · Exp(λ)` (fair sign) from `rng`.
///
/// # Panics
/// Panics if `lambda` is not a positive finite number.
pub fn sample_laplace(rng: &mut impl Rng, lambda: f64, n: usize) -> Vec<f32> {
    assert!(
        lambda.is_finite() && lambda > 0.0,
        "Laplace rate must be positive and finite, got {lambda}"
    );
    let exp = Exp::new(lambda).expect("positive finite rate");
    (0..n)
        .map(|_| {
            let m = exp.sample(rng) as f32;
            if rng.gen::<bool>() {
                m
            } else {
                -m
            }
        })
        .collect()
}

/// Streaming MLE of the Laplace rate: returns `(λ̂ = n / Σ|w|, n)` with the sum
/// accumulated in f64. An empty input gives `(NaN, 0)`; all-zero weights give
/// `(inf, n)`.
pub fn fit_lambda(w: impl Iterator<Item = f32>) -> (f64, usize) {
    let (sum, n) = w.fold((0.0f64, 0usize), |(s, n), x| (s + f64::from(x.abs()), n + 1));
    if n == 0 {
        (f64::NAN, 0)
    } else {
        (n as f64 / sum, n)
    }
}

/// Kolmogorov–Smirnov distance `sup_x |F_n(x) - (1 - e^(-λx))|` between the
/// empirical CDF of `|w|` and `Exp(λ)`.
///
/// Inputs longer than [`KS_MAX_SAMPLES`] are thinned deterministically to
/// every `k`-th element, `k = ceil(n / KS_MAX_SAMPLES)`, which bounds the sort
/// to 1e6 values; the statistic's own sampling error at that size is
/// ~1/√1e6 = 0.001. An empty input gives NaN.
pub fn ks_distance(w: &[f32], lambda: f64) -> f64 {
    let step = w.len().div_ceil(KS_MAX_SAMPLES).max(1);
    let mut m: Vec<f64> = w.iter().step_by(step).map(|x| f64::from(x.abs())).collect();
    ks_sorted(&mut m, lambda)
}

/// KS distance of magnitudes `m` (sorted in place) against `Exp(lambda)`.
pub(super) fn ks_sorted(m: &mut [f64], lambda: f64) -> f64 {
    if m.is_empty() {
        return f64::NAN;
    }
    m.sort_by(f64::total_cmp);
    let n = m.len() as f64;
    m.iter().enumerate().fold(0.0f64, |d, (i, &x)| {
        let cdf = -(-lambda * x).exp_m1();
        let above = (i + 1) as f64 / n - cdf;
        let below = cdf - i as f64 / n;
        d.max(above).max(below)
    })
}
