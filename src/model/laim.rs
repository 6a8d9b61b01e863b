//! The large AI model (LAIM) profile: a chain of blocks split between the agent
//! and the server, and the output-distortion bounds of a bit-width pair.
//!
//! Block `l` has `n_l` weights whose magnitudes follow `Exp(λ_l)` and an output
//! sensitivity `A_l` (default `1/Σn`, so output distortion reads as a mean
//! per-weight error). Blocks `0..split` run on the agent at `b_a` bits, the rest
//! on the server at `b_s` bits. The output distortion is approximated by
//! `D_out(b_a, b_s) ≈ Σ_l A_l · n_l · d_l(b_side(l))` (SPEC 3.3); replacing
//! `d_l` by the rate–distortion bounds `D_L`, `D_U` gives the output bounds.

use crate::check;
use crate::model::distortion::{self, DistortionTable, Layer, SideTables};
use crate::quant::{
    block_distortion, measure_block, Aggregation, Checkpoint, ProfileError, Quantize, Quantizer,
    QuantizerKind,
};
use crate::units::Bits;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// One block of the model as written in a scenario or profile.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BlockConfig {
    /// Block name (for reports).
    #[serde(default)]
    pub name: String,
    /// Number of weights `n_l`.
    #[serde(deserialize_with = "check::positive")]
    pub params: f64,
    /// Rate `λ_l` of the exponential law of weight magnitudes (`E|w| = 1/λ`);
    /// required unless the block is `degenerate`.
    #[serde(
        default,
        deserialize_with = "check::positive_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub lambda: Option<f64>,
    /// Every quantized weight of the block has the same magnitude (as
    /// `coinfer profile` finds for all-zero or constant tensors): no
    /// exponential law fits and the distortion is 0 at every bit-width.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub degenerate: bool,
    /// Output sensitivity `A_l` (default `1/Σn`).
    #[serde(
        default,
        deserialize_with = "check::non_negative_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub coef: Option<f64>,
    /// Size of the block's output features, bits: what is sent when the
    /// split falls right after this block (unless `model.payload_bits` is given).
    #[serde(
        default,
        deserialize_with = "check::non_negative_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub output_bits: Option<f64>,
    /// The block's output size in elements, each of `model.feature_bits`
    /// bits (instead of `output_bits`).
    #[serde(
        default,
        deserialize_with = "check::non_negative_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub output_elems: Option<f64>,
    /// Kolmogorov–Smirnov distance of `|w|` to `Exp(λ)`, when fitted from a
    /// model file (informative only).
    #[serde(
        default,
        deserialize_with = "check::non_negative_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub ks: Option<f64>,
}

/// Which side of the split runs a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The embodied agent (blocks `0..split`).
    Agent = 0,
    /// The edge server (blocks `split..`).
    Server = 1,
}

/// A validated model profile.
#[derive(Clone, Debug, PartialEq)]
pub struct Laim {
    /// The blocks in chain order, each with its resolved `A_l`.
    pub blocks: Vec<Block>,
    /// Blocks `0..split` run on the agent.
    pub split: usize,
    /// Size of the intermediate features sent at the split, bits.
    pub payload_bits: f64,
    /// Size of the result sent back to the agent, bits (0: none).
    pub result_bits: f64,
    /// How the blocks' terms `A_l n_l d_l` combine in the measured and
    /// approximated output distortion (the bounds are always linear).
    pub combine: Aggregation,
}

/// A block with its sensitivity resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// Block name.
    pub name: String,
    /// Number of weights.
    pub params: f64,
    /// Exponential rate of weight magnitudes (`∞` for a degenerate block:
    /// zero distortion, zero relaxed weight).
    pub lambda: f64,
    /// Output sensitivity `A_l`.
    pub coef: f64,
}

impl Laim {
    /// Resolves default sensitivities (`1/Σn`) from block configs.
    pub fn new(blocks: &[BlockConfig], split: usize, payload_bits: f64, combine: Aggregation) -> Laim {
        let total: f64 = blocks.iter().map(|b| b.params).sum();
        let blocks = blocks
            .iter()
            .map(|b| Block {
                name: b.name.clone(),
                params: b.params,
                lambda: b.lambda.unwrap_or(f64::INFINITY),
                coef: b.coef.unwrap_or(1.0 / total),
            })
            .collect();
        Laim {
            blocks,
            split,
            payload_bits,
            result_bits: 0.0,
            combine,
        }
    }

    /// The side that runs block `l`.
    pub fn side_of(&self, l: usize) -> Side {
        if l < self.split {
            Side::Agent
        } else {
            Side::Server
        }
    }

    /// Number of weights on one side.
    pub fn side_params(&self, side: Side) -> f64 {
        (0..self.blocks.len())
            .filter(|&l| self.side_of(l) == side)
            .map(|l| self.blocks[l].params)
            .sum()
    }

    /// The blocks of one side as the solver's layers (`A_l`, `n_l`, `λ_l`).
    pub fn layers(&self, side: Side) -> Vec<Layer> {
        (0..self.blocks.len())
            .filter(|&l| self.side_of(l) == side)
            .map(|l| Layer {
                importance: self.blocks[l].coef,
                weights: self.blocks[l].params,
                lambda: self.blocks[l].lambda,
            })
            .collect()
    }

    /// Each side's tables of the output bound `bound` (`Σ A_l n_l D(b, λ_l)`),
    /// the gap `D_out,U − D_out,L`, and the relaxed weight `Σ A_l n_l / λ_l`.
    pub fn side_tables(&self, bound: distortion::Bound) -> [SideTables; 2] {
        [Side::Agent, Side::Server].map(|side| distortion::side_tables(&self.layers(side), bound))
    }

    /// The table of `Σ A_l n_l d_l(b)` where `d_l(b)` is what quantizer `q`
    /// really achieves on the weights `weights(l)` of block `l`.
    /// Degenerate blocks (`λ = ∞`) contribute 0.
    pub fn quantizer_table(&self, q: &dyn Quantizer, weights: impl Fn(usize) -> Vec<f32>) -> DistortionTable {
        let d: Vec<[f64; 17]> = self
            .blocks
            .iter()
            .enumerate()
            .map(|(l, block)| {
                if block.lambda.is_infinite() {
                    return [0.0; 17];
                }
                let w = weights(l);
                let mut d = [0.0; 17];
                for b in Bits::all() {
                    d[usize::from(b)] = q.distortion(&w, b);
                }
                d
            })
            .collect();
        self.table(|l| d[l])
    }

    /// The table of this model's terms `A_l n_l d[l][b]`.
    fn table(&self, d: impl Fn(usize) -> [f64; 17]) -> DistortionTable {
        DistortionTable::from_terms(
            self.blocks.len(),
            |l| self.side_of(l),
            self.combine,
            |l, b| {
                let block = &self.blocks[l];
                block.coef * block.params * d(l)[usize::from(b)]
            },
        )
    }

    /// The table of `Σ A_l n_l d_l(b)` where `d_l(b)` is what the quantizer
    /// `kind` achieves on the real tensors of block `l` in `checkpoint`
    /// (blocks by name at `group_depth`; see [`measure_block`]).
    pub fn checkpoint_table(
        &self,
        checkpoint: &Checkpoint,
        group_depth: usize,
        quantize: Quantize,
        kind: QuantizerKind,
        samples: usize,
    ) -> Result<DistortionTable, ProfileError> {
        let per_block = self
            .blocks
            .par_iter()
            .map(|b| measure_block(checkpoint, &b.name, group_depth, quantize, &[kind], samples))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self.table(|l| block_distortion(&per_block[l][0]).distortion))
    }
}
