//! Rate–distortion bounds on the per-weight mean absolute error of a `b`-bit
//! quantizer for Laplace(λ) weights. The sign bit is free of error, so the
//! magnitude `|w| ~ Exp(λ)` is coded with rate `R = b - 1` bits.
//!
//! * Lower bound (Shannon lower bound form): `D_L(b, λ) = 2^-(b-1) / (2λ)`.
//! * Upper bound (Verdú, exponential source under absolute error):
//!   `D_U(b, λ) = min(2^-(b-1), ln 2) / λ`. For every supported `b >= 2`,
//!   `2^-(b-1) <= 1/2 < ln 2`, so the `ln 2` cap never binds here.
//!
//! `κ_Q = measured / D_U` says how close a practical quantizer gets to the
//! bound (κ_Q <= 1 means it beats the upper bound).

use crate::units::Bits;

/// `2^-(b-1)`, after checking the rate.
fn check(bits: Bits, lambda: f64) -> f64 {
    assert!(lambda > 0.0, "Laplace rate must be positive, got {lambda}");
    (-f64::from(bits.magnitude_bits())).exp2()
}

/// Lower bound `D_L = 2^-(b-1) / (2λ)` on the per-weight mean absolute error.
///
/// # Panics
/// Panics if `lambda <= 0`.
pub fn lower_bound(bits: Bits, lambda: f64) -> f64 {
    check(bits, lambda) / (2.0 * lambda)
}

/// Upper bound `D_U = min(2^-(b-1), ln 2) / λ` on the per-weight mean absolute
/// error.
///
/// # Panics
/// Panics if `lambda <= 0`.
pub fn upper_bound(bits: Bits, lambda: f64) -> f64 {
    check(bits, lambda).min(std::f64::consts::LN_2) / lambda
}

/// Quantizer efficiency `κ_Q = measured / D_U(b, λ)`.
///
/// # Panics
/// Panics if `lambda <= 0`.
pub fn kappa_q(measured: f64, bits: Bits, lambda: f64) -> f64 {
    measured / upper_bound(bits, lambda)
}
