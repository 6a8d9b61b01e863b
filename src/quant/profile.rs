//! Profiling of real checkpoints: fits the Laplace rate λ of every block of
//! a `.safetensors` file, so the synthetic weight model and the quantization
//! bounds can be parameterised by real models.
//!
//! The file is memory-mapped (never read whole into memory) and parsed with
//! `safetensors`. F32, F16 and BF16 tensors are profiled; tensors of other
//! dtypes are listed as skipped. Tensors are grouped into blocks by the first
//! `group_depth` dot-separated components of their name; tensors are visited
//! in the order of their data offsets in the file (ties, i.e. empty tensors,
//! by name), and blocks are listed in order of first appearance in that
//! sequence, so the result is deterministic. Per block: total parameter
//! count, pooled MLE `λ = Σn / Σ|w|`, and the KS distance of `|w|` against
//! `Exp(λ)` on a deterministic subsample of at most [`KS_MAX_SAMPLES`]
//! weights (every `k`-th weight of the block's concatenated tensors).

use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensorError, SafeTensors};
use serde::{Deserialize, Serialize};

use super::laplace::ks_sorted;
use super::KS_MAX_SAMPLES;

/// Profile of one block of tensors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockProfile {
    /// Block name: the first `group_depth` components of its tensor names.
    pub name: String,
    /// Total number of weights in the block's float tensors.
    pub params: u64,
    /// Pooled MLE Laplace rate `1 / mean|w|`.
    pub lambda: f64,
    /// KS distance of `|w|` against `Exp(lambda)` (on a subsample).
    pub ks: f64,
}

/// A tensor that was not profiled because of its dtype.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedTensor {
    /// Tensor name.
    pub name: String,
    /// Its dtype, e.g. `"I64"`.
    pub dtype: String,
    /// Why it was skipped (not a float tensor, or empty).
    pub reason: String,
}

/// Per-block Laplace profile of a safetensors file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Number of name components defining a block.
    pub group_depth: usize,
    /// Blocks in first-appearance order (tensors ordered by file offset).
    pub blocks: Vec<BlockProfile>,
    /// Tensors skipped because they are not F32, F16 or BF16.
    pub skipped: Vec<SkippedTensor>,
}

/// Errors of [`profile_safetensors`] and [`load_block_weights`].
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The file could not be opened or mapped.
    #[error("cannot read {}", path.display())]
    Io {
        /// File concerned.
        path: PathBuf,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// The bytes are not a valid safetensors file.
    #[error("{} is not a valid safetensors file: {what}", path.display())]
    Format {
        /// File concerned.
        path: PathBuf,
        /// Plain-language description of what is wrong.
        what: &'static str,
        /// Error reported by the safetensors parser.
        source: SafeTensorError,
    },
    /// The file holds no F32, F16 or BF16 tensor.
    #[error("{} contains no F32, F16 or BF16 tensors ({} tensors of other dtypes skipped)", path.display(), skipped.len())]
    NoFloatTensors {
        /// File concerned.
        path: PathBuf,
        /// The tensors that were skipped.
        skipped: Vec<SkippedTensor>,
    },
    /// No float tensor belongs to the requested block.
    #[error("{} has no float tensors in block {block:?} at group depth {group_depth}", path.display())]
    BlockNotFound {
        /// File concerned.
        path: PathBuf,
        /// Requested block name.
        block: String,
        /// Group depth used to form blocks.
        group_depth: usize,
    },
    /// A tensor holds NaN or infinite weights.
    #[error("{}: tensor {tensor:?} holds NaN or infinite weights: no distortion or law can be fitted; fix or drop the tensor", path.display())]
    NonFinite {
        /// File concerned.
        path: PathBuf,
        /// The tensor.
        tensor: String,
    },
    /// Every weight of a block is zero, so `λ = 1/mean|w|` is undefined.
    #[error("{}: every one of the {params} weights of block {block:?} is zero, so no exponential law fits (lambda = 1/mean|w| would be infinite); group it with other tensors (--group-by) or drop it", path.display())]
    AllZero {
        /// File concerned.
        path: PathBuf,
        /// The block.
        block: String,
        /// Its weights.
        params: usize,
    },
}

/// Block name of a tensor: its first `group_depth` dot-separated components
/// (the whole name if it has fewer). E.g. depth 2:
/// `"vision.layers.0.q.weight"` → `"vision.layers"`. Depth 0 gives `""`.
pub fn block_of(name: &str, group_depth: usize) -> &str {
    if group_depth == 0 {
        // Depth 0: the whole file is one block with the empty name.
        return "";
    }
    match name.match_indices('.').nth(group_depth - 1) {
        Some((i, _)) => &name[..i],
        None => name,
    }
}

/// Profiles every block of the safetensors file at `path` (see module docs).
pub fn profile_safetensors(path: &Path, group_depth: usize) -> Result<Profile, ProfileError> {
    let mmap = map(path)?;
    let st = parse(path, &mmap)?;
    let (tensors, skipped) = float_tensors(&st, &mmap);
    if tensors.is_empty() {
        return Err(ProfileError::NoFloatTensors {
            path: path.to_owned(),
            skipped,
        });
    }
    let blocks = group(&tensors, group_depth)
        .into_iter()
        .map(|(name, members)| {
            let n: usize = members.iter().map(|&i| count(&tensors[i].1)).sum();
            let step = n.div_ceil(KS_MAX_SAMPLES).max(1);
            let mut sum = 0.0f64;
            let mut sub = Vec::with_capacity(n.div_ceil(step));
            let mut idx = 0usize;
            for &i in &members {
                let (tensor, v) = (&tensors[i].0, &tensors[i].1);
                let mut finite = true;
                visit(v, |x| {
                    finite &= x.is_finite();
                    let m = f64::from(x.abs());
                    sum += m;
                    if idx.is_multiple_of(step) {
                        sub.push(m);
                    }
                    idx += 1;
                });
                if !finite {
                    return Err(ProfileError::NonFinite {
                        path: path.to_owned(),
                        tensor: tensor.clone(),
                    });
                }
            }
            if sum == 0.0 {
                return Err(ProfileError::AllZero {
                    path: path.to_owned(),
                    block: name,
                    params: n,
                });
            }
            let lambda = n as f64 / sum;
            Ok(BlockProfile {
                name,
                params: n as u64,
                lambda,
                ks: ks_sorted(&mut sub, lambda),
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Profile {
        group_depth,
        blocks,
        skipped,
    })
}

/// Deterministic subsample of at most `max_samples` weights of block
/// `block_name`: every `k`-th weight, `k = ceil(n / max_samples)`, of the
/// block's float tensors concatenated in file-offset order. Use it to
/// measure quantizer distortion on real weights.
pub fn load_block_weights(
    path: &Path,
    block_name: &str,
    group_depth: usize,
    max_samples: usize,
) -> Result<Vec<f32>, ProfileError> {
    let mmap = map(path)?;
    let st = parse(path, &mmap)?;
    let (tensors, _) = float_tensors(&st, &mmap);
    let views: Vec<&TensorView> = tensors
        .iter()
        .filter(|(name, _)| block_of(name, group_depth) == block_name)
        .map(|(_, v)| v)
        .collect();
    if views.is_empty() {
        return Err(ProfileError::BlockNotFound {
            path: path.to_owned(),
            block: block_name.to_owned(),
            group_depth,
        });
    }
    let n: usize = views.iter().map(|v| count(v)).sum();
    let step = n.div_ceil(max_samples.max(1)).max(1);
    let mut out = Vec::with_capacity(n.div_ceil(step).min(max_samples));
    let mut idx = 0usize;
    for v in views {
        visit(v, |x| {
            if idx.is_multiple_of(step) && out.len() < max_samples {
                out.push(x);
            }
            idx += 1;
        });
    }
    Ok(out)
}

impl Profile {
    /// RON text of the profile; `source` is recorded as given. Skipped
    /// tensors are listed in comments.
    pub fn to_ron(&self, source: &Path) -> String {
        let mut s = String::new();
        let src = source.display().to_string();
        // `write!` into a String cannot fail.
        let _ = writeln!(
            s,
            "// coinfer profile of {} (group depth {})",
            src.escape_debug(),
            self.group_depth
        );
        let _ = writeln!(
            s,
            "// block: params, lambda (MLE 1/mean|w|), KS distance of |w| vs Exp(lambda)"
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
        let _ = writeln!(s, "(");
        let _ = writeln!(s, "    source: {src:?},");
        let _ = writeln!(s, "    group_depth: {},", self.group_depth);
        let _ = writeln!(s, "    blocks: [");
        for b in &self.blocks {
            let _ = writeln!(
                s,
                "        (name: {:?}, params: {}, lambda: {:?}, ks: {:?}),",
                b.name, b.params, b.lambda, b.ks
            );
        }
        let _ = writeln!(s, "    ],");
        let _ = writeln!(s, ")");
        s
    }
}

fn map(path: &Path) -> Result<Mmap, ProfileError> {
    let io = |source| ProfileError::Io {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    // SAFETY: the map is only read. As with any file mapping, another process
    // truncating or rewriting the file while we read it is undefined
    // behaviour; checkpoints are not expected to change during profiling.
    unsafe { Mmap::map(&file) }.map_err(io)
}

fn parse<'a>(path: &Path, mmap: &'a Mmap) -> Result<SafeTensors<'a>, ProfileError> {
    SafeTensors::deserialize(mmap).map_err(|source| ProfileError::Format {
        path: path.to_owned(),
        what: describe(&source),
        source,
    })
}

fn describe(e: &SafeTensorError) -> &'static str {
    use SafeTensorError as E;
    match e {
        E::HeaderTooSmall => "the file is shorter than the 8-byte header length prefix",
        E::HeaderTooLarge | E::InvalidHeaderLength => {
            "the header length prefix is larger than the file (truncated file or not a safetensors file)"
        }
        E::InvalidHeader | E::InvalidHeaderStart | E::InvalidHeaderDeserialization => {
            "the JSON header is malformed (not a safetensors file?)"
        }
        E::MetadataIncompleteBuffer => {
            "the file size does not match the tensor data the header declares (truncated file?)"
        }
        _ => "the tensor table in the header is inconsistent",
    }
}

/// Float tensors sorted by their offset in the file (ties by name), and the
/// skipped non-float tensors in the same order.
fn float_tensors<'a>(
    st: &SafeTensors<'a>,
    mmap: &Mmap,
) -> (Vec<(String, TensorView<'a>)>, Vec<SkippedTensor>) {
    let base = mmap.as_ptr() as usize;
    let mut all = st.tensors();
    all.sort_by(|(na, a), (nb, b)| {
        let off = |v: &TensorView| v.data().as_ptr() as usize - base;
        off(a).cmp(&off(b)).then_with(|| na.cmp(nb))
    });
    let mut skipped = Vec::new();
    let tensors = all
        .into_iter()
        .filter(|(name, v)| {
            let float = matches!(v.dtype(), Dtype::F32 | Dtype::F16 | Dtype::BF16);
            let empty = count(v) == 0;
            if !float || empty {
                skipped.push(SkippedTensor {
                    name: name.clone(),
                    dtype: format!("{:?}", v.dtype()),
                    reason: if float { "empty" } else { "not a float tensor" }.into(),
                });
            }
            float && !empty
        })
        .collect();
    (tensors, skipped)
}

/// Groups tensor indices into blocks, in order of first appearance.
fn group(tensors: &[(String, TensorView)], group_depth: usize) -> Vec<(String, Vec<usize>)> {
    let mut blocks: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, (name, _)) in tensors.iter().enumerate() {
        let b = block_of(name, group_depth);
        match blocks.iter_mut().find(|(n, _)| n == b) {
            Some((_, members)) => members.push(i),
            None => blocks.push((b.to_owned(), vec![i])),
        }
    }
    blocks
}

fn count(v: &TensorView) -> usize {
    v.data().len() / v.dtype().size()
}

/// Calls `f` on every element of a float tensor, decoded from little-endian
/// bytes (the map gives no alignment guarantee, so no slice casting).
fn visit(v: &TensorView, mut f: impl FnMut(f32)) {
    let data = v.data();
    match v.dtype() {
        Dtype::F32 => data
            .chunks_exact(4)
            .for_each(|c| f(f32::from_le_bytes([c[0], c[1], c[2], c[3]]))),
        Dtype::F16 => data
            .chunks_exact(2)
            .for_each(|c| f(half::f16::from_le_bytes([c[0], c[1]]).to_f32())),
        Dtype::BF16 => data
            .chunks_exact(2)
            .for_each(|c| f(half::bf16::from_le_bytes([c[0], c[1]]).to_f32())),
        other => unreachable!("non-float dtype {other:?} is filtered out before decoding"),
    }
}
