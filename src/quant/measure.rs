//! Distortion of a quantizer on the real tensors of a checkpoint, as a
//! deployment quantizes them (SPEC 3.1): every tensor separately, with the
//! scale of each tensor (or of each group of `group_size` consecutive
//! weights) taken from ALL its weights.
//!
//! The error `mean |w − Q_b(w)|` of a large tensor is estimated on a seeded
//! random sample of its weights, drawn without replacement within the tensor
//! (stratified: the block's sample budget is shared in proportion to tensor
//! size, with at least [`MIN_TENSOR_SAMPLE`] weights per tensor), and
//! reported with its standard error. A tensor no larger than its share is
//! scored whole: the value is then exact. A block's distortion is the
//! weight-count-weighted mean over its quantized tensors.
//!
//! Lloyd–Max designs each tensor's codebook on the tensor itself (on a second,
//! independent sample when the tensor is larger than its share), as a
//! deployment would; the error is scored on the first sample.
//!
//! Tensors whose magnitudes are all equal (all zeros, a constant, a single
//! weight) are *degenerate*: every quantizer reproduces them exactly, so their
//! distortion is 0 at every bit-width. Tensors that `quantize` leaves at 16
//! bits (see [`Quantize`]) carry no distortion here.

use super::checkpoint::{Checkpoint, ProfileError, Quantize, TensorInfo, TensorStats, Weights};
use super::pot_log::PotGrid;
use super::uniform::round_to_grid;
use super::{magnitude_levels, LloydMax, QuantizerKind};
use crate::fsio::Fnv64;
use crate::rng::{stream, Purpose, StreamId};
use crate::units::Bits;
use rand::seq::index;

/// Fewest weights of a tensor the error is estimated on (all, if fewer).
pub const MIN_TENSOR_SAMPLE: usize = 4096;

/// What a tensor is in the quantized deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Quantized with `b` bits.
    Quantized,
    /// Quantized, but all its magnitudes are equal: zero distortion, no law.
    Degenerate,
    /// Kept at 16 bits (a vector under [`Quantize::Matrices`]).
    Fixed16,
}

/// Distortion of one tensor at every bit-width.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorDistortion {
    /// Tensor name.
    pub name: String,
    /// Its number of weights.
    pub params: usize,
    /// Its role in the deployment.
    pub role: Role,
    /// Weights the error was scored on (`params` when exact, 0 when not quantized).
    pub scored: usize,
    /// `mean |w − Q_b(w)|` over all the tensor's weights (estimated), index `b`.
    pub distortion: [f64; 17],
    /// Standard error of `distortion` (0 when every weight was scored).
    pub std_error: [f64; 17],
}

impl TensorDistortion {
    /// Whether every weight was scored (no sampling error).
    pub fn exact(&self) -> bool {
        self.scored == self.params
    }
}

/// The weighted mean distortion of a block's quantized tensors.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockDistortion {
    /// Weights quantized with `b` bits (degenerate tensors included).
    pub quantized_params: usize,
    /// `Σ n_t d_t(b) / Σ n_t` over the quantized tensors, index `b`.
    pub distortion: [f64; 17],
    /// Its standard error (the tensors' samples are independent).
    pub std_error: [f64; 17],
}

/// Measures each quantizer of `kinds` at every bit-width on every tensor of
/// block `block` (tensors in file order), with a budget of `samples` scored
/// weights: one list per kind. Each tensor is read, summarised and sampled
/// once for all the kinds.
pub fn measure_block(
    ck: &Checkpoint,
    block: &str,
    group_depth: usize,
    quantize: Quantize,
    kinds: &[QuantizerKind],
    samples: usize,
) -> Result<Vec<Vec<TensorDistortion>>, ProfileError> {
    let tensors = ck.block(block, group_depth)?;
    let sizes: Vec<usize> = tensors.iter().map(|t| ck.weights(t).len()).collect();
    let quantized: usize = tensors
        .iter()
        .zip(&sizes)
        .filter(|(t, _)| quantize.covers(&t.shape))
        .map(|(_, &n)| n)
        .sum();
    let mut out = vec![Vec::with_capacity(tensors.len()); kinds.len()];
    for (t, &n) in tensors.iter().zip(&sizes) {
        let stats = ck.stats(t)?;
        let share = allocate(n, quantized, samples, MIN_TENSOR_SAMPLE);
        let measured = if !quantize.covers(&t.shape) {
            vec![untouched(t, n, Role::Fixed16); kinds.len()]
        } else if stats.degenerate() {
            vec![untouched(t, n, Role::Degenerate); kinds.len()]
        } else {
            measure_tensor(ck.weights(t), t, &stats, kinds, share)
        };
        for (per_kind, m) in out.iter_mut().zip(measured) {
            per_kind.push(m);
        }
    }
    Ok(out)
}

/// The weight-count-weighted mean over the quantized tensors (0 if none).
pub fn block_distortion(tensors: &[TensorDistortion]) -> BlockDistortion {
    let q: Vec<&TensorDistortion> = tensors.iter().filter(|t| t.role != Role::Fixed16).collect();
    let total: usize = q.iter().map(|t| t.params).sum();
    let mut distortion = [0.0; 17];
    let mut variance = [0.0; 17];
    for t in &q {
        let w = t.params as f64 / total as f64;
        for b in Bits::all() {
            let b = usize::from(b);
            distortion[b] += w * t.distortion[b];
            variance[b] += (w * t.std_error[b]).powi(2);
        }
    }
    BlockDistortion {
        quantized_params: total,
        distortion,
        std_error: variance.map(f64::sqrt),
    }
}

/// Sample size of a tensor of `n` weights out of `total`, when `budget`
/// weights are shared in proportion to size with at least `floor` each.
pub fn allocate(n: usize, total: usize, budget: usize, floor: usize) -> usize {
    let share = (budget as f64 * n as f64 / total.max(1) as f64).ceil() as usize;
    n.min(share.max(floor))
}

/// `m` distinct indices of `0..n` (all of them if `m >= n`), sorted, drawn
/// from stream `purpose_index` of a generator seeded by the tensor's name.
pub fn sample_indices(name: &str, n: usize, m: usize, stream_index: u32) -> Vec<usize> {
    if m >= n {
        return (0..n).collect();
    }
    let mut h = Fnv64::new();
    h.write_bytes(name.as_bytes());
    let mut rng = stream(h.finish(), StreamId::new(Purpose::Weights, stream_index));
    let mut idx = index::sample(&mut rng, n, m).into_vec();
    idx.sort_unstable();
    idx
}

fn untouched(t: &TensorInfo, n: usize, role: Role) -> TensorDistortion {
    TensorDistortion {
        name: t.name.clone(),
        params: n,
        role,
        scored: if role == Role::Degenerate { n } else { 0 },
        distortion: [0.0; 17],
        std_error: [0.0; 17],
    }
}

/// Each of `kinds` on one tensor, all scored on the same sample.
fn measure_tensor(
    w: Weights,
    t: &TensorInfo,
    stats: &TensorStats,
    kinds: &[QuantizerKind],
    share: usize,
) -> Vec<TensorDistortion> {
    let n = stats.n;
    let idx = sample_indices(&t.name, n, share, 0);
    let x: Vec<f32> = idx.iter().map(|&i| w.get(i)).collect();
    kinds
        .iter()
        .map(|&kind| {
            let quantizer = Fitted::new(w, &t.name, stats, kind, &idx, share);
            let mut distortion = [0.0; 17];
            let mut std_error = [0.0; 17];
            for b in Bits::all() {
                let q = quantizer.apply(&x, b);
                let (mean, se) = mean_and_error(&x, &q, n);
                distortion[usize::from(b)] = mean;
                std_error[usize::from(b)] = se;
            }
            TensorDistortion {
                name: t.name.clone(),
                params: n,
                role: Role::Quantized,
                scored: idx.len(),
                distortion,
                std_error,
            }
        })
        .collect()
}

/// Mean of `|x − q|` and its standard error as an estimate of the mean over
/// a population of `n` (sampling without replacement: finite-population
/// correction, so a sample of everything has error 0).
fn mean_and_error(x: &[f32], q: &[f32], n: usize) -> (f64, f64) {
    let m = x.len() as f64;
    let e: Vec<f64> = x
        .iter()
        .zip(q)
        .map(|(&a, &b)| (f64::from(a) - f64::from(b)).abs())
        .collect();
    let mean = e.iter().sum::<f64>() / m;
    if x.len() < 2 {
        return (mean, 0.0);
    }
    let var = e.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (m - 1.0);
    let fpc = (1.0 - m / n as f64).max(0.0);
    (mean, (var / m * fpc).sqrt())
}

/// A quantizer fitted to one tensor: its scales, or its design sample.
enum Fitted {
    /// Uniform: the scale of the group of each scored weight.
    Uniform(Vec<f64>),
    /// Power of two with the tensor's scale.
    PotLog(f64),
    /// Lloyd–Max codebooks are designed per bit-width on these weights.
    LloydMax(Vec<f32>),
}

impl Fitted {
    fn new(
        w: Weights,
        name: &str,
        stats: &TensorStats,
        kind: QuantizerKind,
        idx: &[usize],
        share: usize,
    ) -> Fitted {
        match kind {
            QuantizerKind::Uniform { group_size: None } => Fitted::Uniform(vec![stats.max_abs; idx.len()]),
            QuantizerKind::Uniform { group_size: Some(g) } => Fitted::Uniform(group_scales(w, idx, g)),
            QuantizerKind::PotLog => Fitted::PotLog(stats.max_abs),
            QuantizerKind::LloydMax => {
                let design = sample_indices(name, stats.n, share, 1);
                Fitted::LloydMax(design.iter().map(|&i| w.get(i)).collect())
            }
        }
    }

    fn apply(&self, x: &[f32], bits: Bits) -> Vec<f32> {
        match self {
            Fitted::Uniform(scales) => {
                let steps = (magnitude_levels(bits) - 1) as f64;
                x.iter()
                    .zip(scales)
                    .map(|(&v, &s)| round_to_grid(v, s, steps))
                    .collect()
            }
            Fitted::PotLog(s) => {
                let grid = PotGrid::new(*s, bits);
                x.iter().map(|&v| grid.apply(v)).collect()
            }
            Fitted::LloydMax(design) => LloydMax::default().design(design, bits).apply(x),
        }
    }
}

/// The largest magnitude of the `g`-weight group holding each index of the
/// sorted `idx` (each group read once).
fn group_scales(w: Weights, idx: &[usize], g: usize) -> Vec<f64> {
    let g = g.max(1);
    let mut cached: Option<(usize, f64)> = None;
    idx.iter()
        .map(|&i| {
            let k = i / g;
            match cached {
                Some((ck, s)) if ck == k => s,
                _ => {
                    let end = ((k + 1) * g).min(w.len());
                    let s = (k * g..end).fold(0.0f64, |m, j| m.max(f64::from(w.get(j).abs())));
                    cached = Some((k, s));
                    s
                }
            }
        })
        .collect()
}
