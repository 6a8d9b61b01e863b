//! Non-negative least squares, `min ‖A x − b‖₂` subject to `x ≥ 0`, by the
//! Lawson–Hanson active-set method (Lawson & Hanson, "Solving Least Squares
//! Problems", 1974, ch. 23). Used to calibrate the non-negative sensitivity
//! coefficients of the output-distortion model; problems are small (tens of
//! unknowns), so each inner least-squares solve is a fresh SVD.

use nalgebra::{DMatrix, DVector};

/// Solves `min ‖a x − b‖₂` subject to `x ≥ 0` (Lawson–Hanson).
///
/// The passive set `P` holds the variables allowed to be positive. Outer
/// loop: add the variable with the largest positive gradient component
/// `w = aᵀ(b − a x)`. Inner loop: solve the unconstrained least squares on
/// `P`; if some passive variable would go non-positive, step from `x` toward
/// that solution only as far as feasibility allows and drop the variables
/// that hit zero. Stops when no variable outside `P` has `w_j > tol`.
///
/// # Panics
/// Panics if `a.nrows() != b.len()`.
pub fn nnls(a: &DMatrix<f64>, b: &DVector<f64>) -> DVector<f64> {
    assert_eq!(a.nrows(), b.len(), "NNLS: rows of A and length of b differ");
    let n = a.ncols();
    let mut x = DVector::<f64>::zeros(n);
    let mut passive = vec![false; n];
    // Tolerance on the gradient, relative to the problem's scale.
    let tol = 1e-10 * a.norm().max(1e-300) * b.norm().max(1e-300);
    // Lawson–Hanson terminates in finitely many steps; the cap is a guard
    // against floating-point cycling.
    for _ in 0..3 * n + 10 {
        let w = a.transpose() * (b - a * &x);
        let candidate = (0..n)
            .filter(|&j| !passive[j] && w[j] > tol)
            .max_by(|&i, &j| w[i].total_cmp(&w[j]));
        let Some(j) = candidate else { break };
        passive[j] = true;
        loop {
            let z = solve_on(a, b, &passive);
            let blocked: Vec<usize> = (0..n).filter(|&i| passive[i] && z[i] <= 0.0).collect();
            if blocked.is_empty() {
                x = z;
                break;
            }
            // Largest step alpha in [0, 1) keeping x + alpha (z - x) >= 0; the
            // variable that limits the step (`hit`) leaves the passive set.
            let (alpha, hit) = blocked
                .iter()
                .map(|&i| (x[i] / (x[i] - z[i]), i))
                .fold((f64::INFINITY, 0), |best, c| if c.0 < best.0 { c } else { best });
            x += (z - &x) * alpha;
            x[hit] = 0.0;
            passive[hit] = false;
            let scale = x.amax();
            for i in 0..n {
                if passive[i] && x[i] <= 1e-14 * scale {
                    passive[i] = false;
                    x[i] = 0.0;
                }
            }
        }
    }
    x
}

/// Unconstrained least squares restricted to the columns where `mask` is
/// true (minimum-norm solution via SVD); other entries are zero.
fn solve_on(a: &DMatrix<f64>, b: &DVector<f64>, mask: &[bool]) -> DVector<f64> {
    let cols: Vec<usize> = (0..mask.len()).filter(|&i| mask[i]).collect();
    let mut z = DVector::zeros(mask.len());
    if cols.is_empty() {
        return z;
    }
    let sub = a.select_columns(cols.iter());
    let svd = sub.svd(true, true);
    let eps = 1e-12 * svd.singular_values.max() * a.nrows().max(cols.len()) as f64;
    let sol = svd.solve(b, eps).expect("SVD computed with U and V");
    for (k, &c) in cols.iter().enumerate() {
        z[c] = sol[k];
    }
    z
}
