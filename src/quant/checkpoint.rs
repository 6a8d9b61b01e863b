//! Read access to the float tensors of a `.safetensors` checkpoint.
//!
//! The file is memory-mapped (never read whole into memory) and its header is
//! parsed once with `safetensors`. F32, F16 and BF16 tensors are kept, in the
//! order of their data offsets in the file (ties, i.e. empty tensors, by
//! name); tensors of other dtypes and empty ones are listed as skipped.
//! Tensors are grouped into blocks by the first `group_depth` dot-separated
//! components of their name.

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use safetensors::{Dtype, SafeTensorError, SafeTensors};
use serde::{Deserialize, Serialize};

/// A tensor that was not profiled because of its dtype or size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedTensor {
    /// Tensor name.
    pub name: String,
    /// Its dtype, e.g. `"I64"`.
    pub dtype: String,
    /// Why it was skipped (not a float tensor, or empty).
    pub reason: String,
}

/// Errors reading a checkpoint.
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
}

/// Which float tensors a quantized deployment quantizes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Quantize {
    /// Weight matrices only (default): tensors with at least two dimensions
    /// larger than 1. Vectors (biases, LayerNorm gains) and scalars stay at
    /// 16 bits, as real low-bit deployments keep them.
    #[default]
    Matrices,
    /// Every float tensor.
    All,
}

impl Quantize {
    /// Whether a tensor of this shape is quantized.
    pub fn covers(self, shape: &[usize]) -> bool {
        self == Quantize::All || shape.iter().filter(|&&d| d > 1).count() >= 2
    }
}

/// One float tensor's place in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    /// Tensor name.
    pub name: String,
    /// Its shape.
    pub shape: Vec<usize>,
    dtype: Dtype,
    bytes: std::ops::Range<usize>,
}

/// A memory-mapped checkpoint and its float tensors in file order.
#[derive(Debug)]
pub struct Checkpoint {
    path: PathBuf,
    mmap: Mmap,
    /// Float tensors, ordered by data offset (ties by name).
    pub tensors: Vec<TensorInfo>,
    /// Tensors skipped because they are not F32, F16 or BF16, or are empty.
    pub skipped: Vec<SkippedTensor>,
}

impl Checkpoint {
    /// Maps and parses the file; refuses a file without float tensors.
    pub fn open(path: &Path) -> Result<Checkpoint, ProfileError> {
        let mmap = map(path)?;
        let (tensors, skipped) = {
            let st = SafeTensors::deserialize(&mmap).map_err(|source| ProfileError::Format {
                path: path.to_owned(),
                what: describe(&source),
                source,
            })?;
            float_tensors(&st, mmap.as_ptr() as usize)
        };
        if tensors.is_empty() {
            return Err(ProfileError::NoFloatTensors {
                path: path.to_owned(),
                skipped,
            });
        }
        Ok(Checkpoint {
            path: path.to_owned(),
            mmap,
            tensors,
            skipped,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The weights of tensor `t`.
    pub fn weights(&self, t: &TensorInfo) -> Weights<'_> {
        Weights {
            dtype: t.dtype,
            bytes: &self.mmap[t.bytes.clone()],
        }
    }

    /// Blocks of tensors (indices into [`Checkpoint::tensors`]) in order of
    /// first appearance.
    pub fn blocks(&self, group_depth: usize) -> Vec<(String, Vec<usize>)> {
        let mut blocks: Vec<(String, Vec<usize>)> = Vec::new();
        for (i, t) in self.tensors.iter().enumerate() {
            let b = block_of(&t.name, group_depth);
            match blocks.iter_mut().find(|(n, _)| n == b) {
                Some((_, members)) => members.push(i),
                None => blocks.push((b.to_owned(), vec![i])),
            }
        }
        blocks
    }

    /// The tensors of block `name`; an error if it has none.
    pub fn block(&self, name: &str, group_depth: usize) -> Result<Vec<&TensorInfo>, ProfileError> {
        let members: Vec<&TensorInfo> = self
            .tensors
            .iter()
            .filter(|t| block_of(&t.name, group_depth) == name)
            .collect();
        if members.is_empty() {
            return Err(ProfileError::BlockNotFound {
                path: self.path.clone(),
                block: name.to_owned(),
                group_depth,
            });
        }
        Ok(members)
    }

    /// One streaming pass over a tensor; refuses NaN or infinite weights.
    pub fn stats(&self, t: &TensorInfo) -> Result<TensorStats, ProfileError> {
        let s = self.weights(t).stats();
        if !s.finite {
            return Err(ProfileError::NonFinite {
                path: self.path.clone(),
                tensor: t.name.clone(),
            });
        }
        Ok(s)
    }
}

/// Summary of a tensor's magnitudes from one pass over all its weights.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TensorStats {
    /// Number of weights.
    pub n: usize,
    /// `Σ|w|`.
    pub sum_abs: f64,
    /// Largest magnitude (the per-tensor quantization scale).
    pub max_abs: f64,
    /// Smallest magnitude.
    pub min_abs: f64,
    /// No NaN or infinite weight.
    pub finite: bool,
}

impl TensorStats {
    /// Every magnitude is the same (all zeros, a constant, a single weight):
    /// every quantizer reproduces it exactly and no exponential law fits.
    pub fn degenerate(&self) -> bool {
        self.max_abs == self.min_abs
    }
}

/// The weights of one tensor, decoded on access from little-endian bytes
/// (the map gives no alignment guarantee, so no slice casting).
#[derive(Debug, Clone, Copy)]
pub struct Weights<'a> {
    dtype: Dtype,
    bytes: &'a [u8],
}

impl<'a> Weights<'a> {
    /// Number of weights.
    pub fn len(&self) -> usize {
        self.bytes.len() / self.dtype.size()
    }

    /// Whether the tensor is empty.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Weight `i`.
    ///
    /// # Panics
    /// Panics if `i` is out of range.
    pub fn get(&self, i: usize) -> f32 {
        let k = self.dtype.size();
        decode(self.dtype, &self.bytes[i * k..(i + 1) * k])
    }

    /// Calls `f` on every weight in order.
    pub fn for_each(&self, mut f: impl FnMut(f32)) {
        self.bytes
            .chunks_exact(self.dtype.size())
            .for_each(|c| f(decode(self.dtype, c)));
    }

    /// Weights `range`, decoded.
    pub fn slice(&self, range: std::ops::Range<usize>) -> Vec<f32> {
        range.map(|i| self.get(i)).collect()
    }

    /// Count, `Σ|w|`, extreme magnitudes and finiteness in one pass.
    pub fn stats(&self) -> TensorStats {
        let mut s = TensorStats {
            n: self.len(),
            sum_abs: 0.0,
            max_abs: 0.0,
            min_abs: f64::INFINITY,
            finite: true,
        };
        self.for_each(|x| {
            let m = f64::from(x.abs());
            s.finite &= x.is_finite();
            s.sum_abs += m;
            s.max_abs = s.max_abs.max(m);
            s.min_abs = s.min_abs.min(m);
        });
        s
    }
}

fn decode(dtype: Dtype, c: &[u8]) -> f32 {
    match dtype {
        Dtype::F32 => f32::from_le_bytes([c[0], c[1], c[2], c[3]]),
        Dtype::F16 => half::f16::from_le_bytes([c[0], c[1]]).to_f32(),
        Dtype::BF16 => half::bf16::from_le_bytes([c[0], c[1]]).to_f32(),
        other => unreachable!("non-float dtype {other:?} is filtered out before decoding"),
    }
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
/// skipped ones in the same order.
fn float_tensors(st: &SafeTensors, base: usize) -> (Vec<TensorInfo>, Vec<SkippedTensor>) {
    let mut all: Vec<(String, Dtype, Vec<usize>, std::ops::Range<usize>)> = st
        .tensors()
        .into_iter()
        .map(|(name, v)| {
            let start = v.data().as_ptr() as usize - base;
            (name, v.dtype(), v.shape().to_vec(), start..start + v.data().len())
        })
        .collect();
    all.sort_by(|a, b| a.3.start.cmp(&b.3.start).then_with(|| a.0.cmp(&b.0)));
    let mut skipped = Vec::new();
    let mut tensors = Vec::new();
    for (name, dtype, shape, bytes) in all {
        let float = matches!(dtype, Dtype::F32 | Dtype::F16 | Dtype::BF16);
        if float && !bytes.is_empty() {
            tensors.push(TensorInfo {
                name,
                shape,
                dtype,
                bytes,
            });
        } else {
            skipped.push(SkippedTensor {
                name,
                dtype: format!("{dtype:?}"),
                reason: if float { "empty" } else { "not a float tensor" }.into(),
            });
        }
    }
    (tensors, skipped)
}
