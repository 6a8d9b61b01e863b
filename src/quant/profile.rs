//! Profiling of real checkpoints: fits the Laplace rate λ of every block of
//! a `.safetensors` file, so the synthetic weight model and the quantization
//! bounds can be parameterised by real models.
//!
//! Per block, over the tensors a deployment quantizes ([`Quantize`]):
//! the parameter count (degenerate tensors included), the pooled MLE
//! `λ = Σn / Σ|w|` over the non-degenerate ones, and the KS distance of `|w|`
//! against `Exp(λ)` on a seeded random sample of at most [`KS_MAX_SAMPLES`]
//! of their weights, stratified by tensor size. Tensors left at 16 bits and
//! degenerate tensors (all magnitudes equal: no law fits) are listed by name.
//! A block whose quantized tensors are all degenerate is marked `degenerate`
//! (zero distortion, no λ); a block with no quantized tensor is not a model
//! block and is only listed.

use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::checkpoint::{Checkpoint, ProfileError, Quantize, SkippedTensor};
use super::laplace::ks_sorted;
use super::measure::{allocate, sample_indices};
use super::KS_MAX_SAMPLES;

/// Profile of one block of tensors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockProfile {
    /// Block name: the first `group_depth` components of its tensor names.
    pub name: String,
    /// Number of quantized weights (degenerate tensors included).
    pub params: u64,
    /// Pooled MLE rate `1 / mean|w|` of the non-degenerate quantized
    /// weights; `None` when every quantized tensor is degenerate.
    pub lambda: Option<f64>,
    /// KS distance of `|w|` against `Exp(lambda)` (on a sample).
    pub ks: Option<f64>,
    /// Quantized tensors whose magnitudes are all equal, with their sizes.
    pub degenerate: Vec<(String, u64)>,
    /// Tensors kept at 16 bits, with their sizes.
    pub fixed16: Vec<(String, u64)>,
}

/// Per-block Laplace profile of a safetensors file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Number of name components defining a block.
    pub group_depth: usize,
    /// Which tensors are quantized.
    pub quantize: Quantize,
    /// Blocks in first-appearance order (tensors ordered by file offset).
    pub blocks: Vec<BlockProfile>,
    /// Tensors skipped because they are not F32, F16 or BF16, or are empty.
    pub skipped: Vec<SkippedTensor>,
}

/// Profiles every block of the safetensors file at `path` (see module docs).
pub fn profile_safetensors(
    path: &Path,
    group_depth: usize,
    quantize: Quantize,
) -> Result<Profile, ProfileError> {
    let ck = Checkpoint::open(path)?;
    let blocks = ck
        .blocks(group_depth)
        .into_iter()
        .map(|(name, members)| profile_block(&ck, name, &members, quantize))
        .collect::<Result<_, _>>()?;
    Ok(Profile {
        group_depth,
        quantize,
        blocks,
        skipped: ck.skipped.clone(),
    })
}

pub(crate) fn profile_block(
    ck: &Checkpoint,
    name: String,
    members: &[usize],
    quantize: Quantize,
) -> Result<BlockProfile, ProfileError> {
    let mut b = BlockProfile {
        name,
        params: 0,
        lambda: None,
        ks: None,
        degenerate: Vec::new(),
        fixed16: Vec::new(),
    };
    // Non-degenerate quantized tensors: (index, n).
    let mut fitted = Vec::new();
    let mut sum_abs = 0.0;
    for &i in members {
        let t = &ck.tensors[i];
        let s = ck.stats(t)?;
        if !quantize.covers(&t.shape) {
            b.fixed16.push((t.name.clone(), s.n as u64));
            continue;
        }
        b.params += s.n as u64;
        if s.degenerate() {
            b.degenerate.push((t.name.clone(), s.n as u64));
        } else {
            fitted.push((i, s.n));
            sum_abs += s.sum_abs;
        }
    }
    let n_fit: usize = fitted.iter().map(|&(_, n)| n).sum();
    if n_fit > 0 {
        let lambda = n_fit as f64 / sum_abs;
        let mut sample = Vec::new();
        for &(i, n) in &fitted {
            let t = &ck.tensors[i];
            let w = ck.weights(t);
            let m = allocate(n, n_fit, KS_MAX_SAMPLES, 0);
            sample.extend(
                sample_indices(&t.name, n, m, 2)
                    .iter()
                    .map(|&j| f64::from(w.get(j).abs())),
            );
        }
        b.lambda = Some(lambda);
        b.ks = Some(ks_sorted(&mut sample, lambda));
    }
    Ok(b)
}

impl Profile {
    /// RON text of the profile; `source` is recorded as given. Skipped,
    /// degenerate and 16-bit tensors are listed in comments; blocks without
    /// quantized weights are left out of `blocks` (listed in a comment).
    pub fn to_ron(&self, source: &Path) -> String {
        let mut s = String::new();
        let src = source.display().to_string();
        // `write!` into a String cannot fail.
        let _ = writeln!(
            s,
            "// coinfer profile of {} (group depth {}, quantize {:?})",
            src.escape_debug(),
            self.group_depth,
            self.quantize
        );
        let _ = writeln!(
            s,
            "// block: quantized params, lambda (MLE 1/mean|w| of the non-degenerate ones), KS distance of |w| vs Exp(lambda)"
        );
        for t in &self.skipped {
            let _ = writeln!(
                s,
                "// skipped: {} ({}): {}",
                t.name.escape_debug(),
                t.dtype,
                t.reason
            );
        }
        for b in &self.blocks {
            for (t, n) in &b.fixed16 {
                let _ = writeln!(s, "// kept at 16 bits: {} ({n} weights)", t.escape_debug());
            }
            for (t, n) in &b.degenerate {
                let _ = writeln!(
                    s,
                    "// degenerate (all magnitudes equal: zero distortion, not in lambda): {} ({n} weights)",
                    t.escape_debug()
                );
            }
            if b.params == 0 {
                let _ = writeln!(
                    s,
                    "// block {:?} has no quantized tensor: not a model block",
                    b.name
                );
            }
        }
        let _ = writeln!(s, "(");
        let _ = writeln!(s, "    source: {src:?},");
        let _ = writeln!(s, "    group_depth: {},", self.group_depth);
        let _ = writeln!(s, "    quantize: {:?},", self.quantize);
        let _ = writeln!(s, "    blocks: [");
        for b in self.blocks.iter().filter(|b| b.params > 0) {
            let law = match (b.lambda, b.ks) {
                (Some(l), Some(ks)) => format!("lambda: {l:?}, ks: {ks:?}"),
                _ => "degenerate: true".into(),
            };
            let _ = writeln!(s, "        (name: {:?}, params: {}, {law}),", b.name, b.params);
        }
        let _ = writeln!(s, "    ],");
        let _ = writeln!(s, ")");
        s
    }
}
