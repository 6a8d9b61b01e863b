//! Statistics over seeds: means with Student-t 95 % confidence intervals.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// The 97.5 % quantile of Student's t with `dof` degrees of freedom; NaN
/// when `dof` is not a positive number (e.g. Welch's from infinite variances).
fn t975(dof: f64) -> f64 {
    match StudentsT::new(0.0, 1.0, dof) {
        Ok(t) if dof.is_finite() => t.inverse_cdf(0.975),
        _ if dof == f64::INFINITY => 1.959_963_984_540_054,
        _ => f64::NAN,
    }
}

fn mean_var(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var)
}

/// Mean and 95 % CI half-width (Student t, n − 1 degrees of freedom) of
/// `xs`, skipping NaN values; the half-width is NaN with fewer than 2 values.
pub fn mean_ci95(xs: impl Iterator<Item = f64>) -> (f64, f64) {
    let v: Vec<f64> = xs.filter(|x| !x.is_nan()).collect();
    match v.len() {
        0 => (f64::NAN, f64::NAN),
        1 => (v[0], f64::NAN),
        n => {
            let (mean, var) = mean_var(&v);
            (mean, t975(n as f64 - 1.0) * (var / n as f64).sqrt())
        }
    }
}

/// Whether a mean with 95 % CI half-width `ci95` is precise enough: the
/// half-width is within `max(rel × |mean|, abs)`. A NaN mean (no value) is;
/// a NaN half-width (one value) is not.
pub fn precise(mean: f64, ci95: f64, rel: f64, abs: f64) -> bool {
    mean.is_nan() || ci95 <= (rel * mean.abs()).max(abs)
}

/// 95 % CI half-width of `mean(a) − mean(b)` for independent samples with
/// unequal variances (Welch): standard error `√(s_a²/n_a + s_b²/n_b)`,
/// Welch–Satterthwaite degrees of freedom
/// `(s_a²/n_a + s_b²/n_b)² / ((s_a²/n_a)²/(n_a−1) + (s_b²/n_b)²/(n_b−1))`.
/// NaN with fewer than 2 values each; 0 when both samples are constant.
pub fn unpaired_ci95(a: &[f64], b: &[f64]) -> f64 {
    let a: Vec<f64> = a.iter().copied().filter(|x| !x.is_nan()).collect();
    let b: Vec<f64> = b.iter().copied().filter(|x| !x.is_nan()).collect();
    if a.len() < 2 || b.len() < 2 {
        return f64::NAN;
    }
    let ((_, va), (_, vb)) = (mean_var(&a), mean_var(&b));
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (qa, qb) = (va / na, vb / nb);
    if qa + qb == 0.0 {
        return 0.0;
    }
    let dof = (qa + qb).powi(2) / (qa * qa / (na - 1.0) + qb * qb / (nb - 1.0));
    t975(dof) * (qa + qb).sqrt()
}
