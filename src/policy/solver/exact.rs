//! Exact integer solvers and simple baseline policies.
//!
//! For fixed bits, [`min_energy`] picks frequencies lexicographically minimising
//! (agent energy, server energy, agent clock, server clock) among those meeting
//! the deadline. Server energy is unbudgeted, so the loosest agent time share is
//! obtained with the server at its maximum clock; the agent then takes the
//! cheapest deadline-meeting state. Static power makes energy per cycle
//! `κ f² + P / f` non-monotone in `f`, so discrete states are all scanned and
//! continuous ranges use the minimiser `(P / 2κ)^(1/3)` clamped to the feasible
//! interval `[max(f_min, C / τ), f_max]` (a convex function's constrained
//! minimum). A bit pair is feasible iff that minimal agent energy fits the budget.
//!
//! Feasibility is monotone: more bits on either side only add cycles, hence
//! time and energy. [`exhaustive`] therefore walks the feasible staircase
//! (largest feasible `b_a` for each `b_s`, non-increasing in `b_s`) with
//! `O(b_max − b_min)` feasibility checks, then scans every pair below it for the
//! objective and the gap cap (which need not be monotone). Ties between bit
//! pairs go to the lower objective, then fewer total bits, then fewer agent bits.

use super::model::{within, FreqSet, Problem, Side};
use crate::model::Decision;
use crate::units::{Bits, Hertz};
use rand::Rng;

/// Lowest-energy clock in `[max(min, cycles / slack), max]` for a continuous range.
fn continuous_pick(side: &Side, min: f64, max: f64, cycles: f64, slack_s: f64) -> f64 {
    let needed = if slack_s > 0.0 {
        cycles / slack_s
    } else {
        f64::INFINITY
    };
    let lo = needed.max(min).min(max);
    side.energy_minimiser().clamp(lo, max)
}

/// Calls `visit(f_a, T_a)` for every agent candidate clock that meets the
/// deadline with the server at its maximum clock.
fn for_each_agent_candidate(p: &Problem, cycles_a: f64, cycles_s: f64, mut visit: impl FnMut(f64, f64)) {
    let server_time_min = cycles_s / p.server.cpu.freqs.max();
    let mut try_clock = |f: f64| {
        let t = p.agent.time_s(cycles_a, f);
        if within(p.total_time(t, server_time_min), p.deadline_s) {
            visit(f, t);
        }
    };
    match &p.agent.cpu.freqs {
        FreqSet::Discrete(states) => states.iter().copied().for_each(&mut try_clock),
        FreqSet::Continuous { min, max } => {
            let slack = p.deadline_s - p.tx_time_s - p.waits_s() - server_time_min;
            try_clock(continuous_pick(&p.agent, *min, *max, cycles_a, slack));
        }
    }
}

/// Cheapest server clock (and its energy) meeting the deadline after an agent
/// time `agent_time_s`; the maximum clock is the fallback and always qualifies
/// when the agent candidate was admitted.
fn server_pick(p: &Problem, cycles_s: f64, agent_time_s: f64) -> (f64, f64) {
    let meets = |f: f64| within(p.total_time(agent_time_s, cycles_s / f), p.deadline_s);
    let max = p.server.cpu.freqs.max();
    let mut best = (max, p.server.energy_j(cycles_s, max));
    match &p.server.cpu.freqs {
        FreqSet::Discrete(states) => {
            for &f in states.iter().filter(|&&f| meets(f)) {
                let e = p.server.energy_j(cycles_s, f);
                if e < best.1 || (e == best.1 && f < best.0) {
                    best = (f, e);
                }
            }
        }
        FreqSet::Continuous { min, max } => {
            let slack = p.deadline_s - (agent_time_s + p.tx_time_s + p.waits_s());
            let f = continuous_pick(&p.server, *min, *max, cycles_s, slack);
            if meets(f) {
                best = (f, p.server.energy_j(cycles_s, f));
            }
        }
    }
    best
}

/// Minimal agent energy (compute + transmission) over deadline-meeting clocks.
fn min_agent_energy(p: &Problem, bits_agent: Bits, bits_server: Bits) -> Option<f64> {
    let cycles_a = p.agent.cycles(bits_agent);
    let mut best: Option<f64> = None;
    for_each_agent_candidate(p, cycles_a, p.server.cycles(bits_server), |f, _| {
        let e = p.agent.energy_j(cycles_a, f) + p.tx_energy_j;
        if best.is_none_or(|b| e < b) {
            best = Some(e);
        }
    });
    best
}

/// Given bits, the frequencies meeting the deadline with the least agent
/// energy (ties: less server energy, then lower agent and server clocks).
///
/// The energy budget is not enforced here: the decision is marked feasible
/// only if it also meets the budget and the gap cap. `None` means the deadline
/// cannot be met even at maximum clocks.
pub fn min_energy(p: &Problem, bits_agent: Bits, bits_server: Bits) -> Option<Decision> {
    let cycles_a = p.agent.cycles(bits_agent);
    let cycles_s = p.server.cycles(bits_server);
    // (agent energy, server energy, agent clock, server clock)
    let mut best: Option<(f64, f64, f64, f64)> = None;
    for_each_agent_candidate(p, cycles_a, cycles_s, |fa, ta| {
        let ea = p.agent.energy_j(cycles_a, fa);
        if best.is_some_and(|b| ea > b.0) {
            return;
        }
        let (fs, es) = server_pick(p, cycles_s, ta);
        let key = (ea, es, fa, fs);
        if best.is_none_or(|b| key < b) {
            best = Some(key);
        }
    });
    let (_, _, fa, fs) = best?;
    let d = Decision::new(bits_agent, bits_server, Hertz(fa), Hertz(fs));
    Some(Decision {
        feasible: p.evaluate(&d).feasible(),
        ..d
    })
}

/// Best bit pair under a feasibility predicate that is monotone (more bits on
/// either side never turn infeasible into feasible); also enforces the gap cap.
fn best_bits(p: &Problem, mut feasible: impl FnMut(Bits, Bits) -> bool) -> Option<(Bits, Bits)> {
    let (lo, hi) = (p.bits_min, p.bits_max);
    // Candidates for the largest feasible agent bits, from the top down; by
    // monotonicity, one infeasible with `s` bits stays so for larger `s`.
    let mut tops = Bits::range(lo, hi).rev().peekable();
    // (objective, total bits, agent bits)
    let mut best: Option<(f64, u8, Bits, Bits)> = None;
    for s in Bits::range(lo, hi) {
        while tops.next_if(|&a| !feasible(a, s)).is_some() {}
        let Some(&a_top) = tops.peek() else { break };
        for a in Bits::range(lo, a_top).filter(|&a| p.meets_gap(a, s)) {
            let key = (p.objective(a, s), a.get() + s.get(), a, s);
            if best.is_none_or(|b| key < b) {
                best = Some(key);
            }
        }
    }
    best.map(|b| (b.2, b.3))
}

/// Exact integer optimum: minimum objective over all bit pairs and
/// frequencies meeting deadline, budget and gap cap, with [`min_energy`]
/// frequencies for the chosen pair; `None` when nothing is feasible.
pub fn exhaustive(p: &Problem) -> Option<Decision> {
    let (a, s) = best_bits(p, |a, s| {
        min_agent_energy(p, a, s).is_some_and(|e| within(e, p.energy_budget_j))
    })?;
    min_energy(p, a, s)
}

/// Both sides at their maximum clock with the best bit pair that meets
/// deadline, budget and gap cap there; `None` when none does.
pub fn max_freq_bits(p: &Problem) -> Option<Decision> {
    let at_max = |a, s| Decision::new(a, s, p.agent.cpu.max_freq(), p.server.cpu.max_freq());
    let (a, s) = best_bits(p, |a, s| {
        let e = p.evaluate(&at_max(a, s));
        e.meets_deadline && e.meets_budget
    })?;
    Some(at_max(a, s))
}

/// The repair of a rounded decision (`paper_joint_repaired`): among the bit
/// pairs within Chebyshev distance `r` of `around`'s bits, for the smallest
/// `r` that holds a feasible pair, the best one (objective, then fewest bits),
/// at its [`min_energy`] frequencies. A feasible `around` is found at `r = 0`,
/// so the repair is never worse; it widens until it is [`exhaustive`] over all
/// bit pairs, so it is feasible wherever that is. `None` when nothing is.
pub fn repair(p: &Problem, around: &Decision) -> Option<Decision> {
    let dist = |b: Bits, c: Bits| b.get().abs_diff(c.get());
    let feasible = |a: Bits, s: Bits| {
        p.meets_gap(a, s) && min_agent_energy(p, a, s).is_some_and(|e| within(e, p.energy_budget_j))
    };
    for r in 0..=Bits::MAX.get() - Bits::MIN.get() {
        let mut best: Option<(f64, u8, Bits, Bits)> = None;
        for s in Bits::range(p.bits_min, p.bits_max).filter(|&s| dist(s, around.bits_server) <= r) {
            for a in Bits::range(p.bits_min, p.bits_max).filter(|&a| dist(a, around.bits_agent) <= r) {
                let key = (p.objective(a, s), a.get() + s.get(), a, s);
                if best.is_none_or(|b| key < b) && feasible(a, s) {
                    best = Some(key);
                }
            }
        }
        if let Some((_, _, a, s)) = best {
            return min_energy(p, a, s);
        }
    }
    None
}

/// The fastest decision that keeps the energy budget, deadline given up: the
/// lowest bits on both sides (least time and energy at any clock), the server
/// at its highest clock, the agent at the highest clock within the budget
/// (energy `κCf² + PC/f` is convex in `f`, so its sublevel set is an
/// interval). `None` when even the most frugal clock breaks the budget.
/// Marked infeasible unless it happens to meet everything.
pub fn fastest_within_budget(p: &Problem) -> Option<Decision> {
    let b = p.bits_min;
    let cycles = p.agent.cycles(b);
    let ok = |f: f64| within(p.agent.energy_j(cycles, f) + p.tx_energy_j, p.energy_budget_j);
    let f = match &p.agent.cpu.freqs {
        FreqSet::Discrete(states) => states.iter().rev().copied().find(|&f| ok(f))?,
        &FreqSet::Continuous { min, max } => {
            let frugal = p.agent.energy_minimiser().clamp(min, max);
            if ok(max) {
                max
            } else if !ok(frugal) {
                return None;
            } else {
                let (mut lo, mut hi) = (frugal, max);
                for _ in 0..100 {
                    let mid = 0.5 * (lo + hi);
                    if ok(mid) {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                lo
            }
        }
    };
    let d = Decision::new(b, b, Hertz(f), p.server.cpu.max_freq());
    Some(Decision {
        feasible: p.evaluate(&d).feasible(),
        ..d
    })
}

/// Lowest bits and highest clocks: the fallback when nothing is feasible,
/// marked infeasible.
pub fn best_effort(p: &Problem) -> Decision {
    Decision {
        feasible: false,
        ..Decision::new(
            p.bits_min,
            p.bits_min,
            p.agent.cpu.max_freq(),
            p.server.cpu.max_freq(),
        )
    }
}

/// Every feasible (bits, clocks) combination: all discrete states, and for a
/// continuous side its energy-minimising clock given the other side (agent
/// with the server at maximum, server given the agent's time). Ordered by
/// server bits, agent bits, agent clock, server clock.
pub fn feasible_choices(p: &Problem) -> Vec<Decision> {
    let mut out = Vec::new();
    for bits_server in Bits::range(p.bits_min, p.bits_max) {
        for bits_agent in Bits::range(p.bits_min, p.bits_max) {
            if !p.meets_gap(bits_agent, bits_server) {
                continue;
            }
            let cycles_a = p.agent.cycles(bits_agent);
            let cycles_s = p.server.cycles(bits_server);
            for_each_agent_candidate(p, cycles_a, cycles_s, |fa, ta| {
                let servers = match &p.server.cpu.freqs {
                    FreqSet::Discrete(states) => states.clone(),
                    FreqSet::Continuous { .. } => vec![server_pick(p, cycles_s, ta).0],
                };
                for fs in servers {
                    let c = Decision::new(bits_agent, bits_server, Hertz(fa), Hertz(fs));
                    if p.evaluate(&c).feasible() {
                        out.push(c);
                    }
                }
            });
        }
    }
    out
}

/// Uniformly random element of [`feasible_choices`]; `None` when empty.
pub fn random_feasible<R: Rng + ?Sized>(p: &Problem, rng: &mut R) -> Option<Decision> {
    let all = feasible_choices(p);
    if all.is_empty() {
        None
    } else {
        Some(all[rng.gen_range(0..all.len())])
    }
}
