//! Synthetic network for output distortion: `depth` fully connected layers
//! `y = act(LayerNorm(W x))` with Laplace(λ_l) weights, used to measure how
//! per-layer weight quantization propagates to the output and to calibrate
//! the linear model
//!
//! `D_out(b_1..b_L) ≈ Σ_l A_l · n_l · d_l(b_l)`,
//!
//! where `n_l` is the number of weights of layer `l`, `d_l(b)` their measured
//! per-weight distortion at `b` bits and `A_l >= 0` a sensitivity fitted by
//! non-negative least squares ([`Aggregation::Linear`]).
//!
//! Measurements show that the per-layer terms do not add linearly: the
//! output errors caused by different layers are nearly independent random
//! vectors, so their norms add in quadrature, `‖e_1 + e_2‖ ≈ (‖e_1‖² +
//! ‖e_2‖²)^½`, and the linear sum over-predicts configurations where several
//! layers contribute comparably. [`Aggregation::Quadrature`] models
//! `D_out² ≈ Σ_l (A_l n_l d_l)²` (NNLS on the squares, unknowns `A_l² >= 0`);
//! both models agree when a single layer is quantized. LayerNorm has no learned parameters
//! (`(z − mean) / (std + eps)` per input vector); both activations are
//! 1-Lipschitz with `act(0) = 0`. Inputs have `‖x‖₁ = 1`; the output
//! distortion is the mean over inputs of `‖y − ŷ‖₁`.

use nalgebra::{DMatrix, DVector};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{mean_abs_error, nnls, sample_laplace, Quantizer};
use crate::units::Bits;

/// Element-wise activation of the synthetic network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Activation {
    /// `max(0, z)`.
    Relu,
    /// `tanh(z)`.
    Tanh,
}

impl Activation {
    fn apply(self, z: f64) -> f64 {
        match self {
            Self::Relu => z.max(0.0),
            Self::Tanh => z.tanh(),
        }
    }
}

/// Shape and weight statistics of a [`SyntheticNet`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetConfig {
    /// Width of every layer (each weight matrix is `width × width`).
    pub width: usize,
    /// Laplace rate λ of each layer's weights; its length is the depth.
    pub lambdas: Vec<f64>,
    /// Activation after every LayerNorm.
    pub activation: Activation,
    /// LayerNorm epsilon added to the standard deviation.
    pub eps: f64,
}

impl Default for NetConfig {
    /// 4 layers of width 256, λ = 50 everywhere, ReLU, eps = 1e-5.
    fn default() -> Self {
        Self {
            width: 256,
            lambdas: vec![50.0; 4],
            activation: Activation::Relu,
            eps: 1e-5,
        }
    }
}

/// A fully connected network with Laplace weights (see the module docs).
#[derive(Debug, Clone)]
pub struct SyntheticNet {
    config: NetConfig,
    /// Row-major `width × width` weights per layer, as stored (f32).
    weights: Vec<Vec<f32>>,
}

impl SyntheticNet {
    /// Draws every layer's weights from Laplace(λ_l) using `rng`.
    ///
    /// # Panics
    /// Panics if the config has zero width or no layers.
    pub fn new(config: NetConfig, rng: &mut impl Rng) -> Self {
        assert!(config.width > 0, "network width must be positive");
        assert!(!config.lambdas.is_empty(), "network needs at least one layer");
        let n = config.width * config.width;
        let weights = config
            .lambdas
            .iter()
            .map(|&lambda| sample_laplace(rng, lambda, n))
            .collect();
        Self { config, weights }
    }

    /// The configuration the network was built from.
    pub fn config(&self) -> &NetConfig {
        &self.config
    }

    /// Number of layers.
    pub fn depth(&self) -> usize {
        self.weights.len()
    }

    /// Row-major weights of layer `l`.
    pub fn layer_weights(&self, l: usize) -> &[f32] {
        &self.weights[l]
    }

    /// Forward pass with the clean weights; `inputs` holds one input per
    /// column (`width` rows), the result one output per column.
    pub fn forward(&self, inputs: &DMatrix<f64>) -> DMatrix<f64> {
        let layers: Vec<DMatrix<f64>> = self.weights.iter().map(|w| self.matrix(w)).collect();
        self.run(&layers, inputs)
    }

    /// Forward pass with layer `l`'s weights quantized by `quantizer` at
    /// `bits[l]` bits.
    ///
    /// # Panics
    /// Panics if `bits.len()` differs from the depth.
    pub fn forward_quantized(
        &self,
        quantizer: &dyn Quantizer,
        bits: &[Bits],
        inputs: &DMatrix<f64>,
    ) -> DMatrix<f64> {
        let (layers, _) = self.quantized_layers(quantizer, bits);
        self.run(&layers, inputs)
    }

    /// Quantized weight matrices and per-weight distortion `d_l(b_l)` per layer.
    fn quantized_layers(&self, quantizer: &dyn Quantizer, bits: &[Bits]) -> (Vec<DMatrix<f64>>, Vec<f64>) {
        assert_eq!(bits.len(), self.depth(), "one bit-width per layer is required");
        self.weights
            .iter()
            .zip(bits)
            .map(|(w, &b)| {
                let q = quantizer.quantize(w, b);
                let d = mean_abs_error(w, &q);
                (self.matrix(&q), d)
            })
            .unzip()
    }

    fn matrix(&self, w: &[f32]) -> DMatrix<f64> {
        let n = self.config.width;
        DMatrix::from_row_iterator(n, n, w.iter().map(|&x| f64::from(x)))
    }

    fn run(&self, layers: &[DMatrix<f64>], inputs: &DMatrix<f64>) -> DMatrix<f64> {
        assert_eq!(inputs.nrows(), self.config.width, "input size must equal width");
        let mut x = inputs.clone();
        for w in layers {
            let mut z = w * &x;
            for mut col in z.column_iter_mut() {
                let n = col.len() as f64;
                let mean = col.sum() / n;
                let std = (col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
                let denom = std + self.config.eps;
                col.apply(|v| *v = self.config.activation.apply((*v - mean) / denom));
            }
            x = z;
        }
        x
    }
}

/// `count` random inputs as columns of a `width × count` matrix: Laplace
/// vectors normalised to `‖x‖₁ = 1`.
pub fn random_inputs(rng: &mut impl Rng, width: usize, count: usize) -> DMatrix<f64> {
    let mut m = DMatrix::zeros(width, count);
    for mut col in m.column_iter_mut() {
        let v = sample_laplace(rng, 1.0, width);
        let l1: f64 = v.iter().map(|x| f64::from(x.abs())).sum();
        for (dst, &x) in col.iter_mut().zip(&v) {
            *dst = f64::from(x) / l1.max(f64::MIN_POSITIVE);
        }
    }
    m
}

/// Mean over inputs (columns) of `‖y − ŷ‖₁` between the clean network and the
/// network with layer `l` quantized at `bits_per_layer[l]`.
pub fn measure_output_distortion(
    net: &SyntheticNet,
    quantizer: &dyn Quantizer,
    bits_per_layer: &[Bits],
    inputs: &DMatrix<f64>,
) -> f64 {
    mean_l1(
        &net.forward(inputs),
        &net.forward_quantized(quantizer, bits_per_layer, inputs),
    )
}

fn mean_l1(y: &DMatrix<f64>, yq: &DMatrix<f64>) -> f64 {
    (y - yq).abs().sum() / y.ncols().max(1) as f64
}

/// How per-layer contributions `A_l n_l d_l` combine into `D_out`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Aggregation {
    /// `D_out ≈ Σ_l A_l n_l d_l` (first-order, triangle-inequality form).
    #[default]
    Linear,
    /// `D_out ≈ (Σ_l (A_l n_l d_l)²)^½` (independent per-layer errors).
    Quadrature,
}

impl Aggregation {
    /// The exponent `p` of the form: 1 (linear) or 2 (quadrature).
    fn power(self) -> i32 {
        match self {
            Aggregation::Linear => 1,
            Aggregation::Quadrature => 2,
        }
    }

    /// `(Σ_l (A_l f_l)^p)^(1/p)`: the prediction for features `f_l = n_l d_l`.
    pub fn predict(self, features: &[f64], coef: &[f64]) -> f64 {
        let p = self.power();
        self.root(features.iter().zip(coef).map(|(x, c)| (x * c).powi(p)).sum())
    }

    /// `x^(1/p)`, as `sqrt` for p = 2: correctly rounded, so the result does
    /// not depend on whether the compiler turned `powf(x, 0.5)` into it.
    fn root(self, x: f64) -> f64 {
        match self {
            Aggregation::Linear => x,
            Aggregation::Quadrature => x.sqrt(),
        }
    }

    /// Fits `A_l >= 0` to `(features f_l = n_l d_l, measured D)` rows.
    ///
    /// The model is linear in its unknowns after raising everything to the
    /// power p: `Σ_l c_l f_l^p ≈ D^p`, with `c_l = A_l^p`, solved by NNLS
    /// with relative-error weighting (row r divided by `D_r^p`). A block
    /// whose feature is 0 in every row gets `A_l = 0`.
    pub fn fit(self, rows: &[(Vec<f64>, f64)]) -> Vec<f64> {
        let p = self.power();
        let depth = rows.first().map_or(0, |r| r.0.len());
        let a = DMatrix::from_fn(rows.len(), depth, |r, l| (rows[r].0[l] / rows[r].1).powi(p));
        let b = DVector::from_element(rows.len(), 1.0);
        nnls(&a, &b).iter().map(|&c| self.root(c)).collect()
    }
}

/// Which bit-width configurations are used to fit and to test the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalibrationDesign {
    /// Smallest bit-width of a quantized layer.
    pub min_bits: Bits,
    /// Largest bit-width of a quantized layer.
    pub max_bits: Bits,
    /// Bit-width of the "unquantized" layers in single-layer sweeps.
    pub reference_bits: Bits,
    /// Number of random mixed configurations added to training.
    pub train_mixes: usize,
    /// Number of random mixed held-out configurations.
    pub heldout_mixes: usize,
    /// Seed of the configuration generators (training and held-out use
    /// distinct ChaCha8 streams derived from it).
    pub seed: u64,
    /// Model form that is fitted.
    pub aggregation: Aggregation,
}

impl Default for CalibrationDesign {
    /// Bits 3..=8 with 16-bit reference layers, 16 training mixes, 32
    /// held-out mixes, seed 7, linear aggregation. At 2 bits the uniform
    /// quantizer zeroes almost every Laplace weight (levels {0, max|w|}),
    /// which is outside the small-perturbation regime the models describe.
    fn default() -> Self {
        Self {
            min_bits: Bits::new(3).expect("valid"),
            max_bits: Bits::new(8).expect("valid"),
            reference_bits: Bits::MAX,
            train_mixes: 16,
            heldout_mixes: 32,
            seed: 7,
            aggregation: Aggregation::Linear,
        }
    }
}

/// One evaluated configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationRow {
    /// Bit-width per layer.
    pub bits: Vec<Bits>,
    /// Model prediction `Σ_l A_l n_l d_l(b_l)`.
    pub predicted: f64,
    /// Measured output distortion (mean `‖y − ŷ‖₁`).
    pub measured: f64,
}

/// Result of [`calibrate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Fitted sensitivity `A_l >= 0` per layer.
    pub coefficients: Vec<f64>,
    /// Training configurations with in-sample predictions.
    pub train: Vec<CalibrationRow>,
    /// Held-out configurations (disjoint from training).
    pub heldout: Vec<CalibrationRow>,
    /// Held-out `R² = 1 − SS_res/SS_tot` on the distortion itself.
    pub r2: f64,
    /// Held-out `R²` on `ln(distortion)` (scale-free view across bit-widths).
    pub r2_log: f64,
    /// Held-out mean relative error `mean |pred − meas| / meas`.
    pub rel_error: f64,
}

/// Fits `A_l` on the training configurations of `design` and evaluates the
/// model on the held-out ones.
///
/// The model form is `design.aggregation`. Training = every layer alone at every `b` in `min_bits..=max_bits` (the
/// others at `reference_bits`), plus `train_mixes` configurations with every
/// layer uniform in the bit range. Held-out = `heldout_mixes` such random
/// configurations from a separate generator, rejecting any that occur in
/// training. Each row of the NNLS problem is divided by its target (the
/// measured distortion, or its square for [`Aggregation::Quadrature`]), so
/// the fit minimises squared RELATIVE error; otherwise the low-bit
/// configurations, whose distortion is orders of magnitude larger, would
/// decide the fit alone.
///
/// # Panics
/// Panics if the bit range is empty, or if it is too small to draw the
/// requested number of distinct held-out configurations.
pub fn calibrate(
    net: &SyntheticNet,
    quantizer: &dyn Quantizer,
    design: &CalibrationDesign,
    inputs: &DMatrix<f64>,
) -> Calibration {
    let (lo, hi) = (design.min_bits, design.max_bits);
    assert!(lo <= hi, "calibration bit range {lo}..={hi} is empty");
    let range = Bits::range(lo, hi);
    let depth = net.depth();
    // A configuration with every layer uniform in the bit range.
    let draw = |rng: &mut ChaCha8Rng| -> Vec<Bits> {
        (0..depth)
            .map(|_| Bits::new(rng.gen_range(lo.get()..=hi.get())).expect("drawn in a valid range"))
            .collect()
    };
    let mut train_cfgs = Vec::new();
    for l in 0..depth {
        for b in range.clone() {
            let mut cfg = vec![design.reference_bits; depth];
            cfg[l] = b;
            train_cfgs.push(cfg);
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(design.seed);
    while train_cfgs.len() < depth * range.len() + design.train_mixes {
        let cfg = draw(&mut rng);
        if !train_cfgs.contains(&cfg) {
            train_cfgs.push(cfg);
        }
    }
    let mut heldout_cfgs: Vec<Vec<Bits>> = Vec::new();
    let mut rng = ChaCha8Rng::seed_from_u64(design.seed);
    rng.set_stream(1);
    let mut attempts = 0usize;
    while heldout_cfgs.len() < design.heldout_mixes {
        attempts += 1;
        assert!(
            attempts < 1000 * (design.heldout_mixes + 1),
            "bit range too small for the held-out set"
        );
        let cfg = draw(&mut rng);
        if !train_cfgs.contains(&cfg) && !heldout_cfgs.contains(&cfg) {
            heldout_cfgs.push(cfg);
        }
    }

    let clean = net.forward(inputs);
    let sizes: Vec<f64> = (0..depth).map(|l| net.layer_weights(l).len() as f64).collect();
    // Features n_l d_l(b_l) and measured D_out of one configuration.
    let evaluate = |bits: &Vec<Bits>| -> (Vec<f64>, f64) {
        let (layers, d) = net.quantized_layers(quantizer, bits);
        let measured = mean_l1(&clean, &net.run(&layers, inputs));
        let features = d.iter().zip(&sizes).map(|(d, n)| d * n).collect();
        (features, measured)
    };
    let train: Vec<(Vec<f64>, f64)> = train_cfgs.iter().map(evaluate).collect();
    let heldout: Vec<(Vec<f64>, f64)> = heldout_cfgs.iter().map(evaluate).collect();

    let coef = design.aggregation.fit(&train);
    let predict = |f: &[f64]| design.aggregation.predict(f, &coef);
    let rows = |cfgs: &[Vec<Bits>], data: &[(Vec<f64>, f64)]| -> Vec<CalibrationRow> {
        cfgs.iter()
            .zip(data)
            .map(|(bits, (f, m))| CalibrationRow {
                bits: bits.clone(),
                predicted: predict(f),
                measured: *m,
            })
            .collect()
    };
    let train_rows = rows(&train_cfgs, &train);
    let heldout_rows = rows(&heldout_cfgs, &heldout);
    let pairs = |log: bool| -> Vec<(f64, f64)> {
        heldout_rows
            .iter()
            .map(|r| {
                if log {
                    (r.predicted.ln(), r.measured.ln())
                } else {
                    (r.predicted, r.measured)
                }
            })
            .collect()
    };
    let rel_error = heldout_rows
        .iter()
        .map(|r| (r.predicted - r.measured).abs() / r.measured)
        .sum::<f64>()
        / heldout_rows.len().max(1) as f64;
    Calibration {
        coefficients: coef,
        train: train_rows,
        r2: r_squared(&pairs(false)),
        r2_log: r_squared(&pairs(true)),
        heldout: heldout_rows,
        rel_error,
    }
}

/// `1 − Σ(meas − pred)² / Σ(meas − mean(meas))²` over `(pred, meas)` pairs.
pub fn r_squared(pairs: &[(f64, f64)]) -> f64 {
    let n = pairs.len() as f64;
    let mean = pairs.iter().map(|p| p.1).sum::<f64>() / n;
    let ss_res: f64 = pairs.iter().map(|(p, m)| (m - p).powi(2)).sum();
    let ss_tot: f64 = pairs.iter().map(|(_, m)| (m - mean).powi(2)).sum();
    1.0 - ss_res / ss_tot
}
