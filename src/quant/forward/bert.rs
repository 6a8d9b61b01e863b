//! A BERT-family checkpoint (`config.json` + `model.safetensors`) run by
//! candle on the CPU, with chosen blocks' weight matrices quantized.
//!
//! Blocks are the embeddings and each encoder layer: a tensor whose name
//! has an `embeddings` component belongs to the block named up to it, one
//! with `encoder.layer.N` to the block named up to `N`. Other tensors (a
//! pooler, task heads) do not reach the final hidden states and stay as
//! they are. Within a block the tensors [`Quantize`] covers are quantized
//! one by one, each with its own scale, by the same [`Quantizer`] code as
//! `coinfer distortion`, then dequantized to f32 for the forward pass.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use rayon::prelude::*;

use crate::quant::profile::profile_block;
use crate::quant::{mean_abs_error, BlockProfile, Checkpoint, ProfileError, Quantize, QuantizerKind};
use crate::units::Bits;

/// Errors loading or running a checkpoint.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ForwardError {
    /// The model folder or its `config.json` cannot be read.
    #[error("cannot read {}", path.display())]
    Io {
        /// File or folder concerned.
        path: PathBuf,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// `config.json` is not a BERT configuration.
    #[error("{}: {what}", path.display())]
    Config {
        /// The `config.json`.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// The weights file cannot be read.
    #[error(transparent)]
    Checkpoint(#[from] ProfileError),
    /// The checkpoint has no embeddings or encoder-layer tensors.
    #[error("{}: no tensor named like `embeddings.*` or `encoder.layer.N.*`: not a BERT checkpoint", path.display())]
    NoBlocks {
        /// The weights file.
        path: PathBuf,
    },
    /// The inputs do not fit the model.
    #[error("{0}")]
    Inputs(String),
    /// candle failed to build or run the model.
    #[error("candle: {0}")]
    Candle(String),
}

impl From<candle_core::Error> for ForwardError {
    fn from(e: candle_core::Error) -> Self {
        ForwardError::Candle(e.to_string())
    }
}

/// How one block is quantized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// The quantizer.
    pub kind: QuantizerKind,
    /// Its bit-width.
    pub bits: Bits,
}

/// One block's quantized tensors and their per-weight distortion.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizedBlock {
    /// Dequantized weights of the block's quantized tensors, in block order.
    tensors: Vec<Vec<f32>>,
    /// `d = Σ_t Σ_i |w_i − Q(w_i)| / n` over the block's `n` quantized weights.
    pub distortion: f64,
}

/// Token ids of `count` sequences of `seq_len` tokens each (padded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inputs {
    /// Row-major `count × seq_len` token ids.
    pub ids: Vec<u32>,
    /// Attention mask, like `ids`: 1 for a token, 0 for padding.
    pub mask: Vec<u32>,
    /// Number of sequences.
    pub count: usize,
    /// Tokens per sequence.
    pub seq_len: usize,
}

impl Inputs {
    /// The lines of `text`, each one sequence, tokenized by the
    /// `tokenizer.json` at `tokenizer` (special tokens added; its own padding
    /// and truncation settings ignored), cut to `seq_len` tokens and padded
    /// with `pad` to the longest (padding masked out).
    pub fn from_text(tokenizer: &Path, text: &str, seq_len: usize, pad: u32) -> Result<Inputs, ForwardError> {
        let bad = |e: tokenizers::Error| ForwardError::Inputs(format!("{}: {e}", tokenizer.display()));
        let mut tok = tokenizers::Tokenizer::from_file(tokenizer).map_err(bad)?;
        tok.with_padding(None).with_truncation(None).map_err(bad)?;
        let seqs = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let ids = tok.encode(l, true).map_err(bad)?.get_ids().to_vec();
                Ok(ids[..ids.len().min(seq_len)].to_vec())
            })
            .collect::<Result<Vec<Vec<u32>>, ForwardError>>()?;
        let len = seqs.iter().map(Vec::len).max().unwrap_or(0);
        if len == 0 {
            return Err(ForwardError::Inputs("the text has no non-empty line".into()));
        }
        let mut inputs = Inputs {
            ids: Vec::new(),
            mask: Vec::new(),
            count: seqs.len(),
            seq_len: len,
        };
        for s in seqs {
            inputs
                .mask
                .extend(s.iter().map(|_| 1).chain((s.len()..len).map(|_| 0)));
            inputs
                .ids
                .extend(s.iter().copied().chain((s.len()..len).map(|_| pad)));
        }
        Ok(inputs)
    }
}

/// A loaded BERT checkpoint: its configuration, clean weights and blocks.
#[derive(Debug)]
pub struct Bert {
    config: Config,
    /// Every float tensor: name, shape and clean f32 weights.
    tensors: Vec<(String, Vec<usize>, Vec<f32>)>,
    /// Per tensor, its block and position among the block's quantized tensors.
    owner: Vec<Option<(usize, usize)>>,
    /// Each block's quantized tensors (indices into `tensors`).
    members: Vec<Vec<usize>>,
    /// Each block's law and parameter count, as `coinfer profile` fits them.
    pub blocks: Vec<BlockProfile>,
}

impl Bert {
    /// Loads `dir/config.json` and `dir/model.safetensors`; refuses a
    /// configuration whose `model_type` is not `bert`.
    pub fn load(dir: &Path, quantize: Quantize) -> Result<Bert, ForwardError> {
        let config = read_config(&dir.join("config.json"))?;
        let ck = Checkpoint::open(&dir.join("model.safetensors"))?;
        let mut blocks: Vec<(String, Vec<usize>)> = Vec::new();
        for (i, t) in ck.tensors.iter().enumerate() {
            let Some(b) = block_of_bert(&t.name) else { continue };
            if !quantize.covers(&t.shape) {
                continue;
            }
            match blocks.iter_mut().find(|(n, _)| n == b) {
                Some((_, m)) => m.push(i),
                None => blocks.push((b.to_owned(), vec![i])),
            }
        }
        if blocks.is_empty() {
            return Err(ForwardError::NoBlocks {
                path: ck.path().to_owned(),
            });
        }
        let profiles = blocks
            .iter()
            .map(|(name, m)| profile_block(&ck, name.clone(), m, quantize))
            .collect::<Result<Vec<_>, _>>()?;
        let mut owner = vec![None; ck.tensors.len()];
        for (l, (_, m)) in blocks.iter().enumerate() {
            for (k, &i) in m.iter().enumerate() {
                owner[i] = Some((l, k));
            }
        }
        let tensors = ck
            .tensors
            .iter()
            .map(|t| {
                let w = ck.weights(t);
                (t.name.clone(), t.shape.clone(), w.slice(0..w.len()))
            })
            .collect();
        Ok(Bert {
            config,
            tensors,
            owner,
            members: blocks.into_iter().map(|(_, m)| m).collect(),
            blocks: profiles,
        })
    }

    /// Vocabulary size (token ids are below it).
    pub fn vocab_size(&self) -> usize {
        self.config.vocab_size
    }

    /// Width of the hidden states.
    pub fn hidden_size(&self) -> usize {
        self.config.hidden_size
    }

    /// The padding token id.
    pub fn pad_token_id(&self) -> u32 {
        self.config.pad_token_id as u32
    }

    /// Block `l`'s quantized tensors under `setting` (tensors in parallel).
    pub fn quantize_block(&self, l: usize, setting: Setting) -> QuantizedBlock {
        let q = setting.kind.build();
        let tensors: Vec<Vec<f32>> = self.members[l]
            .par_iter()
            .map(|&i| q.quantize(&self.tensors[i].2, setting.bits))
            .collect();
        let (mut sum, mut n) = (0.0, 0usize);
        for (&i, t) in self.members[l].iter().zip(&tensors) {
            let w = &self.tensors[i].2;
            sum += mean_abs_error(w, t) * w.len() as f64;
            n += w.len();
        }
        QuantizedBlock {
            tensors,
            distortion: sum / n.max(1) as f64,
        }
    }

    /// Final hidden states (row-major `count × seq_len × hidden`) with block
    /// `l`'s quantized tensors taken from `quantized[l]` when it is `Some`.
    ///
    /// # Panics
    /// Panics if `quantized` does not have one entry per block.
    pub fn hidden_states(
        &self,
        quantized: &[Option<&QuantizedBlock>],
        inputs: &Inputs,
    ) -> Result<Vec<f32>, ForwardError> {
        assert_eq!(quantized.len(), self.blocks.len(), "one entry per block");
        self.check(inputs)?;
        let dev = Device::Cpu;
        let mut map = HashMap::with_capacity(self.tensors.len());
        for (i, (name, shape, clean)) in self.tensors.iter().enumerate() {
            let w = match self.owner[i] {
                Some((l, k)) => quantized[l].map_or(clean, |q| &q.tensors[k]),
                None => clean,
            };
            map.insert(name.clone(), Tensor::from_slice(w, shape.as_slice(), &dev)?);
        }
        let model = BertModel::load(VarBuilder::from_tensors(map, DType::F32, &dev), &self.config)?;
        let shape = (inputs.count, inputs.seq_len);
        let ids = Tensor::from_slice(&inputs.ids, shape, &dev)?;
        let types = ids.zeros_like()?;
        let mask = Tensor::from_slice(&inputs.mask, shape, &dev)?;
        let out = model.forward(&ids, &types, Some(&mask))?;
        Ok(out.flatten_all()?.to_vec1::<f32>()?)
    }

    fn check(&self, inputs: &Inputs) -> Result<(), ForwardError> {
        let c = &self.config;
        if inputs.seq_len == 0 || inputs.seq_len > c.max_position_embeddings {
            return Err(ForwardError::Inputs(format!(
                "sequence length {} outside 1..={} (the model's max_position_embeddings)",
                inputs.seq_len, c.max_position_embeddings
            )));
        }
        let n = inputs.count * inputs.seq_len;
        if inputs.ids.len() != n || inputs.mask.len() != n {
            return Err(ForwardError::Inputs(format!(
                "{} ids and {} mask entries for {} sequences of {} tokens",
                inputs.ids.len(),
                inputs.mask.len(),
                inputs.count,
                inputs.seq_len
            )));
        }
        match inputs.ids.iter().find(|&&t| t as usize >= c.vocab_size) {
            Some(t) => Err(ForwardError::Inputs(format!(
                "token id {t} is not below the vocabulary size {}",
                c.vocab_size
            ))),
            None => Ok(()),
        }
    }
}

/// The block of a BERT tensor name (see the module docs), if it has one.
fn block_of_bert(name: &str) -> Option<&str> {
    let parts: Vec<&str> = name.split('.').collect();
    let end = match parts.iter().position(|&p| p == "embeddings") {
        Some(i) => i + 1,
        None => {
            let i = parts
                .windows(3)
                .position(|w| w[0] == "encoder" && w[1] == "layer" && w[2].parse::<u32>().is_ok())?;
            i + 3
        }
    };
    let len = parts[..end].iter().map(|p| p.len() + 1).sum::<usize>() - 1;
    Some(&name[..len])
}

/// Reads a BERT `config.json`: `model_type` must be `bert` (or absent with
/// a `Bert*` architecture).
fn read_config(path: &Path) -> Result<Config, ForwardError> {
    let text = std::fs::read_to_string(path).map_err(|source| ForwardError::Io {
        path: path.to_owned(),
        source,
    })?;
    let bad = |what: String| ForwardError::Config {
        path: path.to_owned(),
        what,
    };
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
    let model_type = v.get("model_type").and_then(|t| t.as_str());
    let bert_arch = v
        .get("architectures")
        .and_then(|a| a.as_array())
        .is_some_and(|a| {
            a.iter()
                .any(|x| x.as_str().is_some_and(|s| s.starts_with("Bert")))
        });
    if model_type.map_or(!bert_arch, |t| t != "bert") {
        return Err(bad(format!(
            "unsupported architecture (model_type {}): coinfer forward runs BERT-family checkpoints (model_type \"bert\")",
            model_type.map_or("missing".into(), |t| format!("{t:?}"))
        )));
    }
    serde_json::from_value(v).map_err(|e| bad(format!("not a BERT configuration: {e}")))
}

#[cfg(test)]
mod tests {
    use super::block_of_bert;

    #[test]
    fn blocks_are_the_embeddings_and_each_encoder_layer() {
        assert_eq!(
            block_of_bert("embeddings.word_embeddings.weight"),
            Some("embeddings")
        );
        assert_eq!(
            block_of_bert("bert.embeddings.LayerNorm.bias"),
            Some("bert.embeddings")
        );
        assert_eq!(
            block_of_bert("encoder.layer.11.attention.self.query.weight"),
            Some("encoder.layer.11")
        );
        assert_eq!(block_of_bert("pooler.dense.weight"), None);
        assert_eq!(block_of_bert("encoder.layer.x.weight"), None);
    }
}
