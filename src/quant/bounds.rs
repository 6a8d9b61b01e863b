//! Rate–distortion bounds per weight for exponential weight magnitudes.

/// Shannon lower bound `D_L(b, λ) = 2^-(b-1) / (2λ)`.
pub fn lower_bound(bits: u8, lambda: f64) -> f64 {
    0.5f64.powi(bits as i32 - 1) / (2.0 * lambda)
}

/// Verdú's upper bound `D_U(b, λ) = min(2^-(b-1), ln 2) / λ`.
pub fn upper_bound(bits: u8, lambda: f64) -> f64 {
    0.5f64.powi(bits as i32 - 1).min(std::f64::consts::LN_2) / lambda
}
