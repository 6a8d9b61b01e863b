//! The paper's joint design via continuous relaxation.
//!
//! For fixed bits the best clock is the lowest meeting the side's time share,
//! so clocks are eliminated. With agent share `τ_a`, server share
//! `τ_s = T_max − T_tx − W − τ_a` and energy left `E' = E_max − E_tx`, the
//! largest bit-widths are
//! `B_a(τ_a) = min(f_a,max τ_a, (E' τ_a² / κ_a)^(1/3)) / (c_a N_a)` and
//! `B_s(τ_s) = f_s,max τ_s / (c_s N_s)`.
//!
//! Static power is ignored in the relaxation (only the dynamic energy
//! `κ C³ / τ²` is charged) and so are the minimum clocks and the discreteness of
//! DVFS states. Every change only enlarges the feasible set, so the relaxed
//! optimum stays a lower bound on the integer optimum whenever the integer
//! tables equal `scale · W · 2^-(b-1)` (true for `D_U`/`D_L` at `b ≥ 2`).
//!
//! Both `B`s are monotone, so the shares where both reach `b_min` form an
//! interval `[τ_lo, τ_hi]`; an empty interval means the relaxation is
//! infeasible. On that interval `B_a` is concave increasing, `B_s` concave in
//! `τ_a`, the upper clip `min(B, b_max)` keeps concavity and `W 2^-(B-1)` is
//! convex decreasing, so the objective is convex and golden-section search to a
//! relative width of 1e-12 finds its minimum. Bits are then rounded to the
//! nearest integer and clocks set to the lowest state at or above `C / τ`.

use super::exact::best_effort;
use super::model::{Evaluation, Problem};
use crate::model::Decision;
use crate::units::{Bits, Hertz};

/// Relative width at which the golden-section search stops.
const TAU_RTOL: f64 = 1e-12;

/// The continuous optimum of the relaxed problem.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RelaxedOptimum {
    /// Agent time share `τ_a` (s).
    pub tau_agent_s: f64,
    /// Relaxed agent bit-width `B_a(τ_a)`, clipped to `[b_min, b_max]`.
    pub bits_agent: f64,
    /// Relaxed server bit-width `B_s(τ_s)`, clipped to `[b_min, b_max]`.
    pub bits_server: f64,
    /// `scale · (W_a 2^-(B_a-1) + W_s 2^-(B_s-1))` at the optimum.
    pub objective: f64,
}

/// Outcome of [`paper_joint`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PaperJointResult {
    /// The relaxed optimum; `None` when even `b_min` is relaxed-infeasible.
    pub relaxed: Option<RelaxedOptimum>,
    /// Rounded decision, or [`best_effort`] (marked infeasible) when the
    /// relaxation is infeasible. Its `rounding_broke_budget` is set when the
    /// relaxation was feasible but the rounded decision misses the deadline or
    /// the budget (rounding up bits or clocks, static power, `f_min`).
    pub decision: Decision,
    /// [`Problem::evaluate`] of `decision`.
    pub evaluation: Evaluation,
}

/// Relaxed bit-width curves of one problem.
struct Relaxation<'a> {
    p: &'a Problem<'a>,
    share_s: f64,
    energy_left_j: f64,
    agent_cycles_per_bit: f64,
    server_cycles_per_bit: f64,
}

impl Relaxation<'_> {
    /// Unclipped `B_a(τ_a)`.
    fn agent_bits(&self, tau: f64) -> f64 {
        let a = &self.p.agent.cpu;
        let cycles = if a.kappa > 0.0 {
            (a.freqs.max() * tau).min((self.energy_left_j * tau * tau / a.kappa).cbrt())
        } else {
            a.freqs.max() * tau
        };
        cycles / self.agent_cycles_per_bit
    }

    /// Unclipped `B_s(τ_total − τ_a)`.
    fn server_bits(&self, tau_agent: f64) -> f64 {
        self.p.server.cpu.freqs.max() * (self.share_s - tau_agent) / self.server_cycles_per_bit
    }

    /// Clipped relaxed bits and objective at agent share `tau`.
    fn at(&self, tau: f64) -> (f64, f64, f64) {
        let (lo, hi) = (f64::from(self.p.bits_min), f64::from(self.p.bits_max));
        let ba = self.agent_bits(tau).clamp(lo, hi);
        let bs = self.server_bits(tau).clamp(lo, hi);
        let obj = self.p.relaxed_scale
            * (self.p.agent.relaxed_weight * (1.0 - ba).exp2()
                + self.p.server.relaxed_weight * (1.0 - bs).exp2());
        (ba, bs, obj)
    }

    /// Agent shares where both sides reach `b_min`, if any.
    fn interval(&self) -> Option<(f64, f64)> {
        let b_min = f64::from(self.p.bits_min);
        let a = &self.p.agent.cpu;
        let cycles = self.agent_cycles_per_bit * b_min;
        let by_energy = if a.kappa > 0.0 {
            (a.kappa * cycles * cycles * cycles / self.energy_left_j).sqrt()
        } else {
            0.0
        };
        let lo = (cycles / a.freqs.max()).max(by_energy);
        let hi = self.share_s - self.server_cycles_per_bit * b_min / self.p.server.cpu.freqs.max();
        (self.energy_left_j >= 0.0 && lo <= hi).then_some((lo, hi))
    }

    /// Minimises the convex relaxed objective on `[lo, hi]`.
    fn minimise(&self, lo: f64, hi: f64) -> RelaxedOptimum {
        let inv_phi = (5f64.sqrt() - 1.0) / 2.0;
        let (mut a, mut b) = (lo, hi);
        let mut x1 = b - inv_phi * (b - a);
        let mut x2 = a + inv_phi * (b - a);
        let (mut f1, mut f2) = (self.at(x1).2, self.at(x2).2);
        while b - a > TAU_RTOL * b {
            if f1 <= f2 {
                b = x2;
                (x2, f2) = (x1, f1);
                x1 = b - inv_phi * (b - a);
                f1 = self.at(x1).2;
            } else {
                a = x1;
                (x1, f1) = (x2, f2);
                x2 = a + inv_phi * (b - a);
                f2 = self.at(x2).2;
            }
        }
        let mut best = (lo, self.at(lo));
        for t in [hi, 0.5 * (a + b)] {
            let cur = self.at(t);
            if cur.2 < best.1 .2 {
                best = (t, cur);
            }
        }
        let (tau, (ba, bs, objective)) = best;
        RelaxedOptimum {
            tau_agent_s: tau,
            bits_agent: ba,
            bits_server: bs,
            objective,
        }
    }
}

/// The paper's joint bit-width and frequency design (continuous relaxation,
/// then rounding); see the module documentation for the exact procedure.
pub fn paper_joint(p: &Problem) -> PaperJointResult {
    let relaxation = Relaxation {
        p,
        share_s: p.deadline_s - p.tx_time_s - p.waits_s(),
        energy_left_j: p.energy_budget_j - p.tx_energy_j,
        agent_cycles_per_bit: p.agent.cycles_per_bit(),
        server_cycles_per_bit: p.server.cycles_per_bit(),
    };
    let relaxed = relaxation.interval().map(|(lo, hi)| relaxation.minimise(lo, hi));
    let Some(r) = relaxed else {
        let decision = best_effort(p);
        return PaperJointResult {
            relaxed,
            decision,
            evaluation: p.evaluate(&decision),
        };
    };
    let round = |b: f64| Bits::nearest(b).clamp(p.bits_min, p.bits_max);
    let (bits_agent, bits_server) = (round(r.bits_agent), round(r.bits_server));
    let tau_s = relaxation.share_s - r.tau_agent_s;
    let decision = Decision::new(
        bits_agent,
        bits_server,
        p.agent
            .cpu
            .clamp(Hertz(p.agent.cycles(bits_agent) / r.tau_agent_s)),
        p.server.cpu.clamp(Hertz(p.server.cycles(bits_server) / tau_s)),
    );
    let evaluation = p.evaluate(&decision);
    PaperJointResult {
        relaxed,
        decision: Decision {
            feasible: evaluation.feasible(),
            rounding_broke_budget: !(evaluation.meets_deadline && evaluation.meets_budget),
            ..decision
        },
        evaluation,
    }
}
