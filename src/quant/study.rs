//! The distortion study behind `coinfer distortion`: every quantizer at every
//! bit-width on each block's weights, against the rate–distortion bounds, and
//! the output-distortion approximation against forward passes of a synthetic
//! network.

use super::{
    calibrate, kappa_q, lower_bound, random_inputs, upper_bound, Aggregation, Calibration, CalibrationDesign,
    NetConfig, QuantizerKind, SyntheticNet,
};
use crate::rng::{stream, Purpose, StreamId};
use crate::units::Bits;

/// The weights of one block, to be quantized.
#[derive(Clone, Debug)]
pub struct BlockWeights {
    /// Block name.
    pub name: String,
    /// Number of weights in the whole block (the sample may be smaller).
    pub params: f64,
    /// Exponential rate of the magnitudes (fitted or given).
    pub lambda: f64,
    /// The weights the quantizers are measured on.
    pub weights: Vec<f32>,
}

/// One quantizer at one bit-width on one block.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockRow {
    /// Block name.
    pub block: String,
    /// Weights in the block.
    pub params: f64,
    /// Exponential rate λ.
    pub lambda: f64,
    /// Quantizer name.
    pub quantizer: &'static str,
    /// Bit-width.
    pub bits: Bits,
    /// Measured per-weight distortion `d(b) = mean |w − Q_b(w)|`.
    pub measured: f64,
    /// Shannon lower bound `D_L(b, λ)`.
    pub lower: f64,
    /// Verdú upper bound `D_U(b, λ)`.
    pub upper: f64,
    /// Empirical upper constant `κ_Q = d / D_U`.
    pub kappa_q: f64,
}

/// Measures every quantizer at every bit-width on every block.
pub fn block_rows(blocks: &[BlockWeights], quantizers: &[QuantizerKind], bits: &[Bits]) -> Vec<BlockRow> {
    let mut rows = Vec::new();
    for b in blocks {
        for kind in quantizers {
            let q = kind.build();
            for &bw in bits {
                let measured = q.distortion(&b.weights, bw);
                rows.push(BlockRow {
                    block: b.name.clone(),
                    params: b.params,
                    lambda: b.lambda,
                    quantizer: kind.name(),
                    bits: bw,
                    measured,
                    lower: lower_bound(bw, b.lambda),
                    upper: upper_bound(bw, b.lambda),
                    kappa_q: kappa_q(measured, bw, b.lambda),
                });
            }
        }
    }
    rows
}

/// The output-level check: calibrate `A_l` on a synthetic FC + LayerNorm
/// network of `depth` layers of `width` with Laplace(λ) weights, once per
/// aggregation form (linear, as in SPEC 3.3, and quadrature).
pub fn output_calibrations(
    quantizer: QuantizerKind,
    depth: usize,
    width: usize,
    lambda: f64,
    seed: u64,
) -> Vec<(Aggregation, Calibration)> {
    let mut rng = stream(seed, StreamId::new(Purpose::Weights, u32::MAX));
    let net = SyntheticNet::new(
        NetConfig {
            width,
            lambdas: vec![lambda; depth],
            ..NetConfig::default()
        },
        &mut rng,
    );
    let inputs = random_inputs(&mut rng, width, 64);
    let q = quantizer.build();
    [Aggregation::Linear, Aggregation::Quadrature]
        .into_iter()
        .map(|aggregation| {
            let design = CalibrationDesign {
                aggregation,
                ..CalibrationDesign::default()
            };
            (aggregation, calibrate(&net, q.as_ref(), &design, &inputs))
        })
        .collect()
}
