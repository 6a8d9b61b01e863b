//! Quantization and distortion (SPEC 3).
pub mod bounds;
