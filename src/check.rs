//! Field validators used while deserializing scenario files.
//!
//! Each function is a serde `deserialize_with` hook: it reads the value and
//! rejects it on the spot, so the RON parser reports the file, line and column
//! of the bad value, and `serde_path_to_error` adds the field path. The message
//! says what was found and what is valid.

use serde::de::Error;
use serde::{Deserialize, Deserializer};

fn check<E: Error>(v: f64, ok: bool, expected: &str) -> Result<f64, E> {
    if ok {
        Ok(v)
    } else {
        Err(E::custom(format!("invalid value {v}: expected {expected}")))
    }
}

/// A level in decibels (dB, dBm): finite and within ±300, so that
/// `10^(x/10)` stays a finite power (`1e9` dBm would be an infinite one).
pub fn decibels<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = f64::deserialize(d)?;
    check(
        v,
        v.is_finite() && v.abs() <= 300.0,
        "a level in dB within -300..=300",
    )
}

/// A non-negative level in decibels (a noise figure, a standard deviation),
/// at most 300.
pub fn decibels_non_negative<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = f64::deserialize(d)?;
    check(v, (0.0..=300.0).contains(&v), "a level in dB within 0..=300")
}

/// A finite number > 0.
pub fn positive<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = f64::deserialize(d)?;
    check(v, v.is_finite() && v > 0.0, "a finite number > 0")
}

/// A finite number ≥ 0.
pub fn non_negative<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = f64::deserialize(d)?;
    check(v, v.is_finite() && v >= 0.0, "a finite number >= 0")
}

/// An optional finite number ≥ 0.
pub fn non_negative_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Option::<f64>::deserialize(d)?
        .map(|v| check(v, v.is_finite() && v >= 0.0, "a finite number >= 0"))
        .transpose()
}

/// Largest log-normal σ: the squared coefficient of variation of the
/// factor, `exp(σ²) − 1`, stays finite (and its draws are never NaN).
pub const MAX_LOG_SIGMA: f64 = 26.0;

/// A log-normal σ in `[0, MAX_LOG_SIGMA]`.
pub fn log_sigma<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = f64::deserialize(d)?;
    check(
        v,
        (0.0..=MAX_LOG_SIGMA).contains(&v),
        "a number in [0, 26] (the variance of the factor, exp(σ²) - 1, must be finite)",
    )
}

/// A number in `[0, 1)` (a correlation coefficient or probability).
pub fn unit_interval<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = f64::deserialize(d)?;
    check(v, (0.0..1.0).contains(&v), "a number in [0, 1)")
}

/// An optional non-empty list of finite numbers > 0.
pub fn positive_list_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<f64>>, D::Error> {
    let Some(v) = Option::<Vec<f64>>::deserialize(d)? else {
        return Ok(None);
    };
    if v.is_empty() {
        return Err(D::Error::custom("empty list: expected at least one value"));
    }
    for x in &v {
        check::<D::Error>(*x, x.is_finite() && *x > 0.0, "finite numbers > 0")?;
    }
    Ok(Some(v))
}

/// A count ≥ 1 that fits in a `u32`. Read as a number first, so `2.5` is
/// refused as "not a whole number" at the field (not as a syntax error).
pub fn count<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = f64::deserialize(d)?;
    if v.fract() != 0.0 || !v.is_finite() {
        return Err(D::Error::custom(format!(
            "invalid value {v}: expected a whole number >= 1"
        )));
    }
    if !(1.0..=u32::MAX as f64).contains(&v) {
        return Err(D::Error::custom(format!(
            "invalid value {v}: expected a count >= 1 and <= {}",
            u32::MAX
        )));
    }
    Ok(v as u32)
}

/// Most weights per block that distortion may be measured on.
pub const MAX_SAMPLE_WEIGHTS: usize = 10_000_000;

/// A count of sample weights in `1..=MAX_SAMPLE_WEIGHTS` (memory grows with it).
pub fn sample_count<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    let v = u64::deserialize(d)?;
    if v == 0 || v > MAX_SAMPLE_WEIGHTS as u64 {
        return Err(D::Error::custom(format!(
            "invalid value {v}: expected a count in 1..={MAX_SAMPLE_WEIGHTS} (weights per block held in memory to measure distortion)"
        )));
    }
    Ok(v as usize)
}

/// An optional count ≥ 1.
pub fn count_opt<'de, D: Deserializer<'de>, T: Deserialize<'de> + From<u8> + PartialEq>(
    d: D,
) -> Result<Option<T>, D::Error> {
    match Option::<T>::deserialize(d)? {
        Some(v) if v == T::from(0) => Err(D::Error::custom("invalid value 0: expected a count >= 1")),
        v => Ok(v),
    }
}

/// An optional finite number > 0.
pub fn positive_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Option::<f64>::deserialize(d)?
        .map(|v| check(v, v.is_finite() && v > 0.0, "a finite number > 0"))
        .transpose()
}
