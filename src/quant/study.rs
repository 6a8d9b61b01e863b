//! The distortion study behind `coinfer distortion`: every quantizer at every
//! bit-width on each block's weights, against the rate–distortion bounds, and
//! the output-distortion approximation against forward passes of a synthetic
//! network.

use super::{
    block_distortion, calibrate, kappa_q, lower_bound, measure_block, random_inputs, upper_bound,
    Aggregation, Calibration, CalibrationDesign, Checkpoint, NetConfig, ProfileError, Quantize,
    QuantizerKind, SyntheticNet, TensorDistortion,
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
    /// Its standard error on real tensors (`None` for synthetic weights).
    pub std_error: Option<f64>,
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
                    std_error: None,
                    lower: lower_bound(bw, b.lambda),
                    upper: upper_bound(bw, b.lambda),
                    kappa_q: kappa_q(measured, bw, b.lambda),
                });
            }
        }
    }
    rows
}

/// One quantizer's per-tensor measurements on one block of a checkpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorRows {
    /// Block name.
    pub block: String,
    /// Quantizer name.
    pub quantizer: &'static str,
    /// The block's tensors.
    pub tensors: Vec<TensorDistortion>,
}

/// Measures every quantizer at every bit-width on the real tensors of each
/// block `(name, params, λ)` of a checkpoint ([`measure_block`]): the block
/// rows (the weighted mean over its quantized tensors, with its standard
/// error) and the per-tensor measurements.
pub fn checkpoint_rows(
    ck: &Checkpoint,
    blocks: &[(String, f64, f64)],
    group_depth: usize,
    quantize: Quantize,
    quantizers: &[QuantizerKind],
    bits: &[Bits],
    samples: usize,
) -> Result<(Vec<BlockRow>, Vec<TensorRows>), ProfileError> {
    let mut rows = Vec::new();
    let mut tensors = Vec::new();
    for (name, params, lambda) in blocks {
        let per_kind = measure_block(ck, name, group_depth, quantize, quantizers, samples)?;
        for (kind, measured) in quantizers.iter().zip(per_kind) {
            let d = block_distortion(&measured);
            for &bw in bits {
                let b = usize::from(bw);
                rows.push(BlockRow {
                    block: name.clone(),
                    params: *params,
                    lambda: *lambda,
                    quantizer: kind.name(),
                    bits: bw,
                    measured: d.distortion[b],
                    std_error: Some(d.std_error[b]),
                    lower: lower_bound(bw, *lambda),
                    upper: upper_bound(bw, *lambda),
                    kappa_q: kappa_q(d.distortion[b], bw, *lambda),
                });
            }
            tensors.push(TensorRows {
                block: name.clone(),
                quantizer: kind.name(),
                tensors: measured,
            });
        }
    }
    Ok((rows, tensors))
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

/// Fits the sensitivity `A_l` of each block for the output model `combine`,
/// on a proxy network with one `width × width` FC + LayerNorm layer per
/// block whose weights follow the block's Laplace(λ_l) law, and returns each
/// block's coefficient transferred to its real size: `A_l · width² / n_l`, so
/// that the term `A_l n_l d_l(b)` of a block equals that of its proxy layer.
/// `blocks` are `(n_l, λ_l)`; the calibration's held-out scores come with it.
///
/// # Panics
/// Panics if a λ is not positive and finite, or `blocks` is empty.
pub fn fit_block_coefficients(
    quantizer: QuantizerKind,
    blocks: &[(f64, f64)],
    width: usize,
    combine: Aggregation,
    seed: u64,
) -> (Vec<f64>, Calibration) {
    let mut rng = stream(seed, StreamId::new(Purpose::Weights, u32::MAX - 1));
    let net = SyntheticNet::new(
        NetConfig {
            width,
            lambdas: blocks.iter().map(|b| b.1).collect(),
            ..NetConfig::default()
        },
        &mut rng,
    );
    let inputs = random_inputs(&mut rng, width, 64);
    // Mixed configurations draw every layer's bits from the design's range;
    // a few layers have few distinct mixes (one layer: none beyond the
    // single-layer sweep), so training and held-out share what there is.
    let d = CalibrationDesign::default();
    let range = (d.max_bits.get() - d.min_bits.get() + 1) as usize;
    let mixes = match blocks.len() {
        1 => 0,
        n => range.saturating_pow(n.min(32) as u32),
    };
    let train_mixes = d.train_mixes.min(mixes / 2);
    let design = CalibrationDesign {
        aggregation: combine,
        train_mixes,
        heldout_mixes: d.heldout_mixes.min(mixes - train_mixes),
        ..d
    };
    let calibration = calibrate(&net, quantizer.build().as_ref(), &design, &inputs);
    let proxy = (width * width) as f64;
    let coef = calibration
        .coefficients
        .iter()
        .zip(blocks)
        .map(|(a, (n, _))| a * proxy / n)
        .collect();
    (coef, calibration)
}
