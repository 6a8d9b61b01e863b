//! Calibration and validation of the output-distortion approximation on
//! forward passes of a real checkpoint, as [`calibrate`](crate::quant::calibrate)
//! does on the synthetic network.
//!
//! The measured output distortion of a configuration (a quantizer and
//! bit-width per block, or none) is the mean absolute error of the final
//! hidden states against full precision, over every input, token and
//! dimension; the cosine similarity of the mean-pooled embeddings is reported
//! beside it as a task-level proxy. The approximation predicts it from the
//! blocks' features `f_l = n_l d_l(b_l)` (quantized weights times their
//! measured per-weight distortion) as `Σ_l A_l f_l` (linear) or
//! `(Σ_l (A_l f_l)²)^½` (quadrature).
//!
//! `A_l` is fitted (NNLS, relative errors, [`Aggregation::fit`]) on
//! single-block perturbations: block `l` quantized at every bit-width of the
//! range by every quantizer, the others at full precision (a perturbation
//! that leaves the output exact is left out). It is scored on
//! held-out configurations where every block is quantized: per quantizer,
//! bit-widths drawn per block; with several quantizers, also configurations
//! drawing each block's quantizer too (group `mixed`).

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::bert::{Bert, ForwardError, Inputs, QuantizedBlock, Setting};
use crate::quant::{mean_abs_error, r_squared, Aggregation, QuantizerKind};
use crate::units::Bits;

/// Which configurations calibrate and test the approximation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Design {
    /// Quantizers (a block's quantizer in every configuration is one of them).
    pub quantizers: Vec<QuantizerKind>,
    /// Bit-widths of the calibration sweeps and the held-out draws.
    pub bits: Vec<Bits>,
    /// Held-out configurations per quantizer, and as many mixing quantizers
    /// (fewer if the range has fewer distinct ones).
    pub heldout: usize,
    /// Seed of the held-out draws.
    pub seed: u64,
}

/// Whether a configuration fits `A_l` or tests it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Set {
    /// A single-block perturbation, used to fit `A_l`.
    Calibration,
    /// A held-out configuration with every block quantized.
    Heldout,
}

/// One evaluated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Calibration or held-out.
    pub set: Set,
    /// The quantizer's name, or `mixed`.
    pub group: String,
    /// Each block's setting (`None`: full precision).
    pub settings: Vec<Option<Setting>>,
    /// Each block's feature `n_l d_l(b_l)` (0 at full precision).
    pub features: Vec<f64>,
    /// Measured mean absolute error of the final hidden states.
    pub mae: f64,
    /// Mean cosine similarity of the mean-pooled embeddings.
    pub cosine: f64,
    /// Predictions of the linear and the quadrature form.
    pub predicted: [f64; 2],
}

/// Held-out scores of one form on one group of configurations.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// A quantizer's name, `mixed`, or `all`.
    pub group: String,
    /// The form scored.
    pub form: Aggregation,
    /// Number of configurations.
    pub count: usize,
    /// `R²` of predicted against measured.
    pub r2: f64,
    /// `R²` on their logarithms.
    pub r2_log: f64,
    /// Spearman rank correlation.
    pub spearman: f64,
    /// Mean of `|pred − meas| / meas`.
    pub mean_rel_error: f64,
    /// Largest `|pred − meas| / meas`, and the index of its row.
    pub worst_rel_error: (f64, usize),
}

/// The result of [`validate`].
#[derive(Debug, Clone, PartialEq)]
pub struct Validation {
    /// Fitted `A_l` of the linear and the quadrature form.
    pub coef: [Vec<f64>; 2],
    /// Every configuration, calibration first.
    pub rows: Vec<Row>,
    /// Held-out scores per group and form.
    pub scores: Vec<Score>,
    /// Wall-clock seconds of each forward pass (clean one included).
    pub pass_seconds: Vec<f64>,
}

/// The two forms, in the order of [`Row::predicted`] and [`Validation::coef`].
pub const FORMS: [Aggregation; 2] = [Aggregation::Linear, Aggregation::Quadrature];

/// `count` sequences of `seq_len` token ids drawn uniformly below `vocab`.
pub fn random_tokens(vocab: usize, count: usize, seq_len: usize, seed: u64) -> Inputs {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let ids = (0..count * seq_len)
        .map(|_| rng.gen_range(0..vocab.max(1)) as u32)
        .collect();
    Inputs {
        ids,
        mask: vec![1; count * seq_len],
        count,
        seq_len,
    }
}

/// Runs every configuration of `design` on `inputs`, fits `A_l` and scores
/// the held-out configurations (see the module docs).
///
/// # Panics
/// Panics if the design has no quantizer or no bit-width.
pub fn validate(bert: &Bert, design: &Design, inputs: &Inputs) -> Result<Validation, ForwardError> {
    assert!(!design.quantizers.is_empty(), "at least one quantizer");
    assert!(!design.bits.is_empty(), "at least one bit-width");
    let mut runner = Runner::new(bert, inputs)?;
    let mut rows = Vec::new();
    for (set, group, settings) in configurations(bert.blocks.len(), design) {
        let (features, mae, cosine) = runner.measure(&settings)?;
        rows.push(Row {
            set,
            group,
            settings,
            features,
            mae,
            cosine,
            predicted: [0.0; 2],
        });
    }
    // A configuration that leaves the output exact carries no sensitivity
    // (and the fit weighs rows by 1/D).
    let train: Vec<(Vec<f64>, f64)> = rows
        .iter()
        .filter(|r| r.set == Set::Calibration && r.mae > 0.0)
        .map(|r| (r.features.clone(), r.mae))
        .collect();
    let coef = FORMS.map(|form| form.fit(&train));
    for r in &mut rows {
        r.predicted = [0, 1].map(|k| FORMS[k].predict(&r.features, &coef[k]));
    }
    let scores = scores(&rows, &design.quantizers);
    Ok(Validation {
        coef,
        rows,
        scores,
        pass_seconds: runner.seconds,
    })
}

/// The configurations of a design: calibration sweeps, then held-out draws.
fn configurations(blocks: usize, design: &Design) -> Vec<(Set, String, Vec<Option<Setting>>)> {
    let bits = &design.bits;
    let mut out = Vec::new();
    for &kind in &design.quantizers {
        for l in 0..blocks {
            for &b in bits {
                let mut s = vec![None; blocks];
                s[l] = Some(Setting { kind, bits: b });
                out.push((Set::Calibration, kind.name().to_string(), s));
            }
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(design.seed);
    rng.set_stream(1);
    let mut groups: Vec<(String, Vec<QuantizerKind>)> = design
        .quantizers
        .iter()
        .map(|&k| (k.name().to_string(), vec![k]))
        .collect();
    if design.quantizers.len() > 1 {
        groups.push(("mixed".into(), design.quantizers.clone()));
    }
    let distinct = (bits.len() as f64).powi(blocks as i32);
    for (group, kinds) in groups {
        let wanted = design.heldout.min(distinct as usize);
        let mut drawn: Vec<Vec<Option<Setting>>> = Vec::new();
        for _ in 0..1000 * (wanted + 1) {
            if drawn.len() == wanted {
                break;
            }
            let s: Vec<Option<Setting>> = (0..blocks)
                .map(|_| {
                    Some(Setting {
                        kind: kinds[rng.gen_range(0..kinds.len())],
                        bits: bits[rng.gen_range(0..bits.len())],
                    })
                })
                .collect();
            if !drawn.contains(&s) {
                drawn.push(s);
            }
        }
        out.extend(drawn.into_iter().map(|s| (Set::Heldout, group.clone(), s)));
    }
    out
}

/// Runs configurations, quantizing each block at each setting once.
struct Runner<'a> {
    bert: &'a Bert,
    inputs: &'a Inputs,
    clean: Vec<f32>,
    /// Per block, the settings quantized so far.
    cache: Vec<Vec<(Setting, QuantizedBlock)>>,
    seconds: Vec<f64>,
}

impl<'a> Runner<'a> {
    fn new(bert: &'a Bert, inputs: &'a Inputs) -> Result<Self, ForwardError> {
        let mut r = Runner {
            bert,
            inputs,
            clean: Vec::new(),
            cache: vec![Vec::new(); bert.blocks.len()],
            seconds: Vec::new(),
        };
        r.clean = r.pass(&vec![None; bert.blocks.len()])?;
        Ok(r)
    }

    fn pass(&mut self, quantized: &[Option<&QuantizedBlock>]) -> Result<Vec<f32>, ForwardError> {
        let start = Instant::now();
        let out = self.bert.hidden_states(quantized, self.inputs)?;
        self.seconds.push(start.elapsed().as_secs_f64());
        Ok(out)
    }

    /// Features, MAE and cosine of one configuration.
    fn measure(&mut self, settings: &[Option<Setting>]) -> Result<(Vec<f64>, f64, f64), ForwardError> {
        for (l, s) in settings.iter().enumerate() {
            if let Some(s) = *s {
                if !self.cache[l].iter().any(|(c, _)| *c == s) {
                    let q = self.bert.quantize_block(l, s);
                    self.cache[l].push((s, q));
                }
            }
        }
        let cache = std::mem::take(&mut self.cache);
        let quantized: Vec<Option<&QuantizedBlock>> = settings
            .iter()
            .zip(&cache)
            .map(|(s, c)| s.and_then(|s| c.iter().find(|(k, _)| *k == s).map(|(_, q)| q)))
            .collect();
        let features = quantized
            .iter()
            .zip(&self.bert.blocks)
            .map(|(q, b)| q.map_or(0.0, |q| q.distortion * b.params as f64))
            .collect();
        let result = self.pass(&quantized);
        self.cache = cache;
        let out = result?;
        let h = self.bert.hidden_size();
        let mask = &self.inputs.mask;
        Ok((
            features,
            masked_mae(&self.clean, &out, mask, h),
            pooled_cosine(&self.clean, &out, mask, self.inputs.count, h),
        ))
    }
}

/// Mean absolute difference of `a` and `b` (tokens of `hidden` values) over
/// the tokens whose `mask` is 1.
pub fn masked_mae(a: &[f32], b: &[f32], mask: &[u32], hidden: usize) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for ((x, y), &m) in a.chunks(hidden).zip(b.chunks(hidden)).zip(mask) {
        if m == 1 {
            sum += mean_abs_error(x, y) * hidden as f64;
            n += hidden;
        }
    }
    sum / n.max(1) as f64
}

/// Mean over the `count` sequences of the cosine similarity of the
/// mean-pooled hidden states (over the tokens whose `mask` is 1) of `a` and `b`.
pub fn pooled_cosine(a: &[f32], b: &[f32], mask: &[u32], count: usize, hidden: usize) -> f64 {
    let tokens = mask.len() / count.max(1);
    let pool = |x: &[f32], m: &[u32]| -> Vec<f64> {
        let mut v = vec![0.0; hidden];
        for (tok, _) in x.chunks(hidden).zip(m).filter(|(_, &m)| m == 1) {
            for (s, &t) in v.iter_mut().zip(tok) {
                *s += f64::from(t);
            }
        }
        v
    };
    let norm = |v: &[f64]| v.iter().map(|p| p * p).sum::<f64>().sqrt();
    let cos: f64 = (0..count)
        .map(|i| {
            let (t, r) = (
                i * tokens..(i + 1) * tokens,
                i * tokens * hidden..(i + 1) * tokens * hidden,
            );
            let (x, y) = (pool(&a[r.clone()], &mask[t.clone()]), pool(&b[r], &mask[t]));
            let dot: f64 = x.iter().zip(&y).map(|(p, q)| p * q).sum();
            dot / (norm(&x) * norm(&y))
        })
        .sum();
    cos / count.max(1) as f64
}

/// Held-out scores per quantizer group (`mixed` too) and overall, per form.
fn scores(rows: &[Row], quantizers: &[QuantizerKind]) -> Vec<Score> {
    let mut groups: Vec<String> = quantizers.iter().map(|k| k.name().to_string()).collect();
    if quantizers.len() > 1 {
        groups.push("mixed".into());
    }
    groups.push("all".into());
    let mut out = Vec::new();
    for g in groups {
        let idx: Vec<usize> = (0..rows.len())
            .filter(|&i| rows[i].set == Set::Heldout && (g == "all" || rows[i].group == g))
            .collect();
        if idx.is_empty() {
            continue;
        }
        for (k, form) in FORMS.into_iter().enumerate() {
            out.push(score(rows, &idx, k, form, &g));
        }
    }
    out
}

fn score(rows: &[Row], idx: &[usize], k: usize, form: Aggregation, group: &str) -> Score {
    let pairs: Vec<(f64, f64)> = idx.iter().map(|&i| (rows[i].predicted[k], rows[i].mae)).collect();
    let logs: Vec<(f64, f64)> = pairs.iter().map(|(p, m)| (p.ln(), m.ln())).collect();
    let rel: Vec<f64> = pairs.iter().map(|(p, m)| (p - m).abs() / m).collect();
    let worst = (0..rel.len()).fold(0, |w, i| if rel[i] > rel[w] { i } else { w });
    Score {
        group: group.to_string(),
        form,
        count: idx.len(),
        r2: r_squared(&pairs),
        r2_log: r_squared(&logs),
        spearman: spearman(&pairs),
        mean_rel_error: rel.iter().sum::<f64>() / rel.len() as f64,
        worst_rel_error: (rel[worst], idx[worst]),
    }
}

/// Spearman's rank correlation of the pairs (ties get their mean rank).
pub fn spearman(pairs: &[(f64, f64)]) -> f64 {
    let rx = ranks(&pairs.iter().map(|p| p.0).collect::<Vec<_>>());
    let ry = ranks(&pairs.iter().map(|p| p.1).collect::<Vec<_>>());
    let n = rx.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let cov: f64 = rx.iter().zip(&ry).map(|(a, b)| (a - mx) * (b - my)).sum();
    let var = |r: &[f64], m: f64| r.iter().map(|a| (a - m).powi(2)).sum::<f64>();
    cov / (var(&rx, mx) * var(&ry, my)).sqrt()
}

/// 1-based ranks, ties sharing their mean rank.
fn ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && v[order[j + 1]] == v[order[i]] {
            j += 1;
        }
        for &o in &order[i..=j] {
            r[o] = (i + j) as f64 / 2.0 + 1.0;
        }
        i = j + 1;
    }
    r
}
