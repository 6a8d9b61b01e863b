//! Output-distortion tables: per side and bit-width, the bounds' and the
//! measured sums `Σ A_l n_l d_l(b)`, with the bound gap and relaxed weight.
//!
//! A layer `l` with importance `A_l`, `n_l` weights and Laplace-like scale
//! `λ_l` contributes `A_l n_l D(b, λ_l)` to its side's distortion, where the
//! upper bound is `D_U(b, λ) = min(2^-(b-1), ln 2) / λ` and the lower bound is
//! `D_L(b, λ) = 2^-(b-1) / (2λ)`. The tightness gap is `Σ A_l n_l (D_U − D_L)`.
//! For `b ≥ 2` the `ln 2` cap never binds, so a table equals
//! `scale · W · 2^-(b-1)` with `W = Σ A_l n_l / λ_l` and `scale` from [`Bound`],
//! which is exactly the relaxed objective used by the paper's joint design.

use crate::model::laim::Side;
use crate::quant::Aggregation;
use crate::units::Bits;

/// Which analytic distortion bound a table uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// `D_U(b, λ) = min(2^-(b-1), ln 2) / λ` (relaxed scale 1).
    Upper,
    /// `D_L(b, λ) = 2^-(b-1) / (2λ)` (relaxed scale 1/2).
    Lower,
}

impl Bound {
    /// Constant in front of `W · 2^-(b-1)` for this bound.
    pub fn scale(self) -> f64 {
        match self {
            Bound::Upper => 1.0,
            Bound::Lower => 0.5,
        }
    }

    /// Per-weight distortion at `bits` for scale parameter `lambda`.
    pub fn per_weight(self, bits: Bits, lambda: f64) -> f64 {
        match self {
            Bound::Upper => crate::quant::upper_bound(bits, lambda),
            Bound::Lower => crate::quant::lower_bound(bits, lambda),
        }
    }
}

/// Statistics of one layer assigned to a side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Layer {
    /// Importance `A_l`.
    pub importance: f64,
    /// Number of weights `n_l`.
    pub weights: f64,
    /// Scale parameter `λ_l > 0`.
    pub lambda: f64,
}

/// Distortion table, gap table and relaxed weight of one side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SideTables {
    /// `Σ A_l n_l D(b, λ_l)` for `b` in `2..=16` (entries 0 and 1 are 0).
    pub distortion: [f64; 17],
    /// `Σ A_l n_l (D_U − D_L)(b, λ_l)` for `b` in `2..=16`.
    pub gap: [f64; 17],
    /// `W = Σ A_l n_l / λ_l`.
    pub relaxed_weight: f64,
}

/// Builds a side's tables from its layers using `bound` for the distortion.
pub fn side_tables(layers: &[Layer], bound: Bound) -> SideTables {
    let mut distortion = [0.0; 17];
    let mut gap = [0.0; 17];
    for bits in Bits::all() {
        for l in layers {
            let mass = l.importance * l.weights;
            distortion[usize::from(bits)] += mass * bound.per_weight(bits, l.lambda);
            gap[usize::from(bits)] +=
                mass * (Bound::Upper.per_weight(bits, l.lambda) - Bound::Lower.per_weight(bits, l.lambda));
        }
    }
    let relaxed_weight = layers.iter().map(|l| l.importance * l.weights / l.lambda).sum();
    SideTables {
        distortion,
        gap,
        relaxed_weight,
    }
}

/// Per-side sums of the blocks' terms `t_l(b) = A_l n_l d_l(b)` for every
/// bit-width, so a pair's output distortion is two table look-ups.
///
/// With [`Aggregation::Linear`] the sides hold `Σ t_l` and a pair's
/// distortion is their sum; with [`Aggregation::Quadrature`] they hold
/// `Σ t_l²` and a pair's distortion is `√(S_a + S_s)`. Either way the pair
/// ordering is that of `side(a) + side(s)`, so solvers minimise that sum.
#[derive(Clone, Debug, PartialEq)]
pub struct DistortionTable {
    /// `[side][bits]`, valid for bits in 2..=16.
    values: [[f64; 17]; 2],
    combine: Aggregation,
}

impl DistortionTable {
    /// The linear table of the two sides' per-bit sums.
    pub fn from_sides(agent: [f64; 17], server: [f64; 17]) -> DistortionTable {
        DistortionTable {
            values: [agent, server],
            combine: Aggregation::Linear,
        }
    }

    /// The table of per-block terms `terms(l, b) = A_l n_l d_l(b)` of the
    /// blocks `l` on each side (`side_of(l)`), combined by `combine`.
    pub fn from_terms(
        blocks: usize,
        side_of: impl Fn(usize) -> Side,
        combine: Aggregation,
        terms: impl Fn(usize, Bits) -> f64,
    ) -> DistortionTable {
        let mut values = [[0.0; 17]; 2];
        for l in 0..blocks {
            for b in Bits::all() {
                let t = terms(l, b);
                values[side_of(l) as usize][usize::from(b)] += match combine {
                    Aggregation::Linear => t,
                    Aggregation::Quadrature => t * t,
                };
            }
        }
        DistortionTable { values, combine }
    }

    /// The contribution of one side at `bits` (a sum of squares for a
    /// quadrature table): what solvers add up.
    pub fn side(&self, side: Side, bits: Bits) -> f64 {
        self.values[side as usize][usize::from(bits)]
    }

    /// One side's contributions by bit-width (entries 0 and 1 are 0).
    pub fn side_values(&self, side: Side) -> &[f64; 17] {
        &self.values[side as usize]
    }

    /// The output distortion of the pair `(bits_agent, bits_server)`.
    pub fn pair(&self, bits_agent: Bits, bits_server: Bits) -> f64 {
        let sum = self.side(Side::Agent, bits_agent) + self.side(Side::Server, bits_server);
        match self.combine {
            Aggregation::Linear => sum,
            Aggregation::Quadrature => sum.sqrt(),
        }
    }
}
