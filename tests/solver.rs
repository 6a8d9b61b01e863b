//! Integration tests of the per-request solvers.
//!
//! Random instances are built feasible by construction: an anchor decision
//! (bits and clocks) is drawn first and the deadline and budget are set a
//! random slack above its time and energy. A naive brute force written here
//! (every bit pair × every state pair; continuous ranges by a grid plus both
//! endpoints and an independently written closed-form energy minimiser) gives
//! the reference optimum. The objective depends on bits only, so comparing
//! objectives is exact even when continuous clocks differ.

use crate::util::bw;
use coinfer::model::cpu::Cpu;
use coinfer::model::distortion::{side_tables, Bound, Layer};
use coinfer::model::Decision;
use coinfer::policy::solver::{
    best_effort, exhaustive, feasible_choices, max_freq_bits, min_energy, paper_joint, random_feasible,
    FreqSet, Problem, Side,
};
use coinfer::units::{Bits, Hertz, Joules, SimDuration, Watts};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::borrow::Cow;

/// Grid points per continuous range in the brute force.
const GRID: usize = 12;

/// Candidate clocks for the brute force on one side with `slack_s` seconds left.
fn brute_clocks(side: &Side, cycles: f64, slack_s: f64) -> Vec<f64> {
    match &side.cpu.freqs {
        FreqSet::Discrete(states) => states.clone(),
        FreqSet::Continuous { min, max } => {
            let mut v: Vec<f64> = (0..=GRID)
                .map(|i| min + (max - min) * i as f64 / GRID as f64)
                .collect();
            // Energy per cycle κ f² + P/f is convex with stationary point (P/2κ)^(1/3).
            let (kappa, static_power_w) = (side.cpu.kappa, side.cpu.static_power.0);
            let stationary = if kappa > 0.0 {
                (static_power_w / kappa / 2.0).cbrt()
            } else if static_power_w > 0.0 {
                *max
            } else {
                0.0
            };
            let needed = if slack_s > 0.0 { cycles / slack_s } else { *max };
            let lo = needed.max(*min).min(*max);
            v.push(stationary.max(lo).min(*max));
            v.push(lo);
            v
        }
    }
}

/// Reference optimum objective over everything the brute force tries.
fn brute_force(p: &Problem) -> Option<f64> {
    let mut best: Option<f64> = None;
    for a in Bits::range(p.bits_min, p.bits_max) {
        for s in Bits::range(p.bits_min, p.bits_max) {
            let ca = p.agent.cpu.cycles_per_weight_bit * p.agent.weights * f64::from(a);
            let cs = p.server.cpu.cycles_per_weight_bit * p.server.weights * f64::from(s);
            let server_fastest = cs / p.server.cpu.freqs.max();
            let agent_slack = p.deadline_s - p.tx_time_s - p.server_wait_s - server_fastest;
            for fa in brute_clocks(&p.agent, ca, agent_slack) {
                let server_slack = p.deadline_s - (ca / fa + p.tx_time_s + p.server_wait_s);
                for fs in brute_clocks(&p.server, cs, server_slack) {
                    let c = Decision::new(a, s, Hertz(fa), Hertz(fs));
                    let e = p.evaluate(&c);
                    if e.meets_deadline && e.meets_budget && e.meets_gap {
                        best = Some(best.map_or(e.distortion, |b: f64| b.min(e.distortion)));
                    }
                }
            }
        }
    }
    best
}

/// Relaxed objective at agent share `tau`, written independently of the crate;
/// `None` where a side cannot reach `b_min`.
fn relaxed_at(p: &Problem, tau: f64) -> Option<f64> {
    let share = p.deadline_s - p.tx_time_s - p.server_wait_s;
    let energy = p.energy_budget_j - p.tx_energy_j;
    let per_bit_a = p.agent.cpu.cycles_per_weight_bit * p.agent.weights;
    let per_bit_s = p.server.cpu.cycles_per_weight_bit * p.server.weights;
    let by_energy = (energy * tau * tau / p.agent.cpu.kappa).cbrt();
    let ba = (p.agent.cpu.freqs.max() * tau).min(by_energy) / per_bit_a;
    let bs = p.server.cpu.freqs.max() * (share - tau) / per_bit_s;
    let (lo, hi) = (f64::from(p.bits_min), f64::from(p.bits_max));
    if !(ba >= lo && bs >= lo) {
        return None;
    }
    let term = |w: f64, b: f64| w * 2f64.powf(-(b.min(hi) - 1.0));
    Some(p.relaxed_scale * (term(p.agent.relaxed_weight, ba) + term(p.server.relaxed_weight, bs)))
}

/// Dense grid over `(0, share)` refined by repeated zooming around the best point.
fn relaxed_grid_min(p: &Problem) -> Option<f64> {
    const N: usize = 2000;
    let share = p.deadline_s - p.tx_time_s - p.server_wait_s;
    let (mut lo, mut hi) = (0.0, share);
    let mut best: Option<f64> = None;
    for _ in 0..12 {
        let step = (hi - lo) / N as f64;
        // The argmin of this round (its centre may repeat the last best).
        let mut round: Option<(f64, f64)> = None;
        for i in 0..=N {
            let t = lo + step * i as f64;
            if let Some(v) = relaxed_at(p, t) {
                if round.is_none_or(|(b, _)| v < b) {
                    round = Some((v, t));
                }
            }
        }
        if let Some((v, t)) = round {
            best = Some(best.map_or(v, |b: f64| b.min(v)));
            (lo, hi) = ((t - step).max(0.0), (t + step).min(share));
        }
    }
    best
}

fn freq_strategy() -> impl Strategy<Value = FreqSet> {
    prop_oneof![
        prop::collection::vec(1e8f64..5e9, 1..=6).prop_map(|mut v| {
            v.sort_by(f64::total_cmp);
            v.dedup();
            FreqSet::Discrete(v)
        }),
        (1e8f64..2e9, 1.0f64..6.0).prop_map(|(min, r)| FreqSet::Continuous { min, max: min * r }),
    ]
}

/// Side physics without tables: (weights, c, κ, static power, clocks, layers).
type SideParams = (f64, f64, f64, f64, FreqSet, Vec<(f64, f64)>);

fn side_strategy() -> impl Strategy<Value = SideParams> {
    (
        6.0f64..10.0,
        -3.0f64..0.0,
        -29.0f64..-26.0,
        prop_oneof![Just(0.0), (-2.0f64..1.0).prop_map(|x| 10f64.powf(x))],
        freq_strategy(),
        prop::collection::vec((0.1f64..1.0, 10.0f64..100.0), 1..=3),
    )
        .prop_map(|(w, c, k, ps, f, l)| (10f64.powf(w), 10f64.powf(c), 10f64.powf(k), ps, f, l))
}

/// A compute unit with no DVFS switch costs.
fn cpu(cycles_per_weight_bit: f64, kappa: f64, static_power_w: f64, freqs: FreqSet) -> Cpu {
    Cpu {
        freqs,
        cycles_per_weight_bit,
        kappa,
        static_power: Watts(static_power_w),
        switch_latency: SimDuration::ZERO,
        switch_energy: Joules(0.0),
    }
}

fn build_side((weights, c, kappa, static_power_w, freqs, layers): SideParams, bound: Bound) -> Side<'static> {
    let total: f64 = layers.iter().map(|l| l.0).sum();
    let layers: Vec<Layer> = layers
        .iter()
        .map(|&(frac, lambda)| Layer {
            importance: 1e-9,
            weights: weights * frac / total,
            lambda,
        })
        .collect();
    let t = side_tables(&layers, bound);
    Side {
        cpu: Cow::Owned(cpu(c, kappa, static_power_w, freqs)),
        weights,
        distortion: Cow::Owned(t.distortion),
        gap: Cow::Owned(t.gap),
        relaxed_weight: t.relaxed_weight,
        clock_now: None,
    }
}

fn anchor_clock(freqs: &FreqSet, u: f64) -> f64 {
    match freqs {
        FreqSet::Discrete(v) => v[((u * v.len() as f64) as usize).min(v.len() - 1)],
        FreqSet::Continuous { min, max } => min + u * (max - min),
    }
}

/// Feasible random problem with tables consistent with the relaxed objective.
fn problem_strategy() -> impl Strategy<Value = Problem<'static>> {
    (
        (side_strategy(), side_strategy(), any::<bool>()),
        (-4.0f64..-1.0, -4.0f64..-1.0, prop_oneof![Just(0.0), 0.0f64..0.1]),
        (
            2u8..=6,
            prop_oneof![Just(14u8), 0u8..=14],
            0.0f64..1.0,
            0.0f64..1.0,
        ),
        (0.0f64..1.0, 0.0f64..1.0, -3.0f64..0.0, -3.0f64..0.0),
        prop::option::of(0.0f64..1.0),
    )
        .prop_map(|((sa, ss, upper), (tx_t, tx_e, wait), bits, anchor, gap)| {
            let bound = if upper { Bound::Upper } else { Bound::Lower };
            let (bits_min, extra, ua, us) = bits;
            let bits_max = (bits_min + extra).min(16);
            let pick =
                |u: f64| bits_min + ((u * f64::from(bits_max - bits_min + 1)) as u8).min(bits_max - bits_min);
            let (fa_u, fs_u, slack_t, slack_e) = anchor;
            let mut p = Problem {
                agent: build_side(sa, bound),
                server: build_side(ss, bound),
                tx_time_s: 10f64.powf(tx_t),
                tx_energy_j: 10f64.powf(tx_e),
                server_wait_s: wait,
                agent_wait_s: 0.0,
                radio_free_s: 0.0,
                deadline_s: 1.0,
                energy_budget_j: 1.0,
                bits_min: bw(bits_min),
                bits_max: bw(bits_max),
                gap_max: None,
                relaxed_scale: bound.scale(),
            };
            let anchor = Decision::new(
                bw(pick(ua)),
                bw(pick(us)),
                Hertz(anchor_clock(&p.agent.cpu.freqs, fa_u)),
                Hertz(anchor_clock(&p.server.cpu.freqs, fs_u)),
            );
            let e = p.evaluate(&anchor);
            p.deadline_s = e.total_time_s * (1.0 + 10f64.powf(slack_t));
            p.energy_budget_j = e.agent_energy_j * (1.0 + 10f64.powf(slack_e));
            p.gap_max = gap.map(|g| e.gap * (1.0 + g));
            p
        })
}

/// Checks shared by both property tests; returns the exhaustive objective.
fn check_exact(p: &Problem, seed: u64) -> Result<f64, TestCaseError> {
    prop_assert!(p.validate().is_ok());
    let reference = brute_force(p);
    prop_assert!(reference.is_some(), "anchor makes every instance feasible");
    let ex = exhaustive(p).expect("feasible instance");
    let ev = p.evaluate(&ex);
    prop_assert!(ev.meets_deadline && ev.meets_budget && ev.meets_gap, "{ev:?}");
    prop_assert!((p.bits_min..=p.bits_max).contains(&ex.bits_agent));
    prop_assert!((p.bits_min..=p.bits_max).contains(&ex.bits_server));
    prop_assert_eq!(Some(ev.distortion), reference);
    let best = ev.distortion;

    let all = feasible_choices(p);
    prop_assert!(all.iter().all(|c| p.evaluate(c).feasible()));
    let min_all = all
        .iter()
        .map(|c| p.evaluate(c).distortion)
        .fold(f64::INFINITY, f64::min);
    prop_assert_eq!(min_all, best);

    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut others: Vec<Decision> = vec![best_effort(p), paper_joint(p).decision];
    others.extend(random_feasible(p, &mut rng));
    if let Some(c) = max_freq_bits(p) {
        prop_assert!(p.evaluate(&c).feasible());
        others.push(c);
    }
    let (lo, hi) = (p.bits_min.get(), p.bits_max.get());
    let (a, s) = (
        bw(lo + (seed % 7) as u8 % (hi - lo + 1)),
        bw(lo + (seed % 11) as u8 % (hi - lo + 1)),
    );
    if let Some(c) = min_energy(p, a, s) {
        prop_assert!(p.evaluate(&c).meets_deadline);
        others.push(c);
    }
    for c in others {
        let e = p.evaluate(&c);
        if e.feasible() {
            prop_assert!(best <= e.distortion, "{c:?} beats exhaustive");
        }
    }
    Ok(best)
}

proptest! {
    #![proptest_config(ProptestConfig { rng_seed: RngSeed::Fixed(0xC0FF_EE01), ..ProptestConfig::with_cases(1000) })]

    #[test]
    fn exhaustive_matches_brute_force_and_bounds_relaxation(p in problem_strategy(), seed in any::<u64>()) {
        let best = check_exact(&p, seed)?;
        let r = paper_joint(&p);
        let relaxed = r.relaxed.expect("integer-feasible implies relaxed-feasible");
        prop_assert!(relaxed.objective <= best * (1.0 + 1e-6), "{} > {best}", relaxed.objective);
        let grid = relaxed_grid_min(&p).expect("grid finds a relaxed-feasible share");
        prop_assert!((grid - relaxed.objective).abs() <= 1e-6 * relaxed.objective,
            "grid {grid} vs golden {}", relaxed.objective);
        prop_assert!(r.decision.rounding_broke_budget != (r.evaluation.meets_deadline && r.evaluation.meets_budget));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { rng_seed: RngSeed::Fixed(0xC0FF_EE02), ..ProptestConfig::with_cases(300) })]

    #[test]
    fn exhaustive_handles_arbitrary_tables(
        p in problem_strategy(),
        seed in any::<u64>(),
        steps in prop::collection::vec(0.0f64..1.0, 17),
        gaps in prop::collection::vec(0.0f64..1.0, 17),
        monotone in any::<bool>(),
    ) {
        let mut p = p;
        // Measured-style tables: decreasing in b (cumulative sums), or arbitrary.
        let mut acc = 0.0;
        for b in (0..17).rev() {
            acc += steps[b];
            p.agent.distortion.to_mut()[b] = if monotone { acc } else { steps[b] };
            p.server.distortion.to_mut()[b] = if monotone { 2.0 * acc } else { steps[16 - b] };
            p.agent.gap.to_mut()[b] = gaps[b];
            p.server.gap.to_mut()[b] = gaps[16 - b];
        }
        if p.gap_max.is_some() {
            p.gap_max = Some(gaps[0] + gaps[16] + 0.5);
        }
        // The gap cap may now exclude everything: only compare when feasible.
        if brute_force(&p).is_some() {
            check_exact(&p, seed)?;
        } else {
            prop_assert!(exhaustive(&p).is_none());
        }
    }
}

fn blip2() -> Problem<'static> {
    let importance = 1.0 / (1.0e9 + 1.07e8 + 2.65e9);
    let layer = |weights, lambda| Layer {
        importance,
        weights,
        lambda,
    };
    let a = side_tables(&[layer(1.0e9, 50.0), layer(1.07e8, 40.0)], Bound::Upper);
    let s = side_tables(&[layer(2.65e9, 45.0)], Bound::Upper);
    Problem {
        agent: Side {
            cpu: Cow::Owned(cpu(
                0.05,
                2e-27,
                0.0,
                FreqSet::Discrete(vec![0.4e9, 0.8e9, 1.2e9, 1.6e9, 2.0e9]),
            )),
            weights: 1.107e9,
            distortion: Cow::Owned(a.distortion),
            gap: Cow::Owned(a.gap),
            relaxed_weight: a.relaxed_weight,
            clock_now: None,
        },
        server: Side {
            cpu: Cow::Owned(cpu(
                0.02,
                1e-28,
                0.0,
                FreqSet::Discrete(vec![2.5e9, 5e9, 7.5e9, 10e9]),
            )),
            weights: 2.65e9,
            distortion: Cow::Owned(s.distortion),
            gap: Cow::Owned(s.gap),
            relaxed_weight: s.relaxed_weight,
            clock_now: None,
        },
        tx_time_s: 0.0075,
        tx_energy_j: 0.0015,
        server_wait_s: 0.0,
        agent_wait_s: 0.0,
        radio_free_s: 0.0,
        deadline_s: 0.5,
        energy_budget_j: 3.0,
        bits_min: Bits::MIN,
        bits_max: Bits::MAX,
        gap_max: None,
        relaxed_scale: 1.0,
    }
}

#[test]
fn blip2_example_is_consistent() {
    let p = blip2();
    assert!(p.validate().is_ok());
    let ex = exhaustive(&p).expect("feasible");
    let ev = p.evaluate(&ex);
    assert!(ev.feasible());
    assert_eq!(Some(ev.distortion), brute_force(&p));
    let r = paper_joint(&p);
    let relaxed = r.relaxed.expect("relaxed feasible");
    assert!(relaxed.objective <= ev.distortion);
    assert!(relaxed.bits_agent >= 2.0 && relaxed.bits_server <= 16.0);
    assert_eq!(r.evaluation, p.evaluate(&r.decision));
}

#[test]
fn static_power_prefers_interior_clock() {
    let mut p = blip2();
    let cpu = p.agent.cpu.to_mut();
    cpu.kappa = 1e-27;
    cpu.static_power = Watts(2.0); // energy per cycle minimised at (P/2κ)^(1/3) = 1 GHz
    cpu.freqs = FreqSet::Discrete(vec![0.5e9, 1e9, 2e9, 3e9]);
    let c = min_energy(&p, bw(2), bw(2)).expect("deadline reachable");
    assert_eq!(c.freq_agent, Hertz(1e9));
    let cycles = p.agent.cycles(bw(2));
    assert!(p.agent.energy_j(cycles, 0.5e9) > p.agent.energy_j(cycles, 1e9));
    p.agent.cpu.to_mut().freqs = FreqSet::Continuous { min: 0.1e9, max: 3e9 };
    let c = min_energy(&p, bw(2), bw(2)).expect("deadline reachable");
    assert!((c.freq_agent.0 - 1e9).abs() < 1.0);
}

#[test]
fn continuous_server_runs_at_lowest_deadline_clock_without_static_power() {
    let mut p = blip2();
    p.server.cpu.to_mut().freqs = FreqSet::Continuous { min: 1e6, max: 10e9 };
    let c = min_energy(&p, bw(4), bw(4)).expect("deadline reachable");
    let e = p.evaluate(&c);
    assert!(e.meets_deadline);
    assert!((e.total_time_s - p.deadline_s).abs() <= 1e-9 * p.deadline_s);
}

#[test]
fn ties_go_to_fewest_bits() {
    let mut p = blip2();
    p.agent.distortion = Cow::Owned([0.0; 17]);
    p.server.distortion = Cow::Owned([0.0; 17]);
    let c = exhaustive(&p).expect("feasible");
    assert_eq!((c.bits_agent, c.bits_server), (bw(2), bw(2)));
}

#[test]
fn infeasible_problems_fall_back() {
    let mut p = blip2();
    p.energy_budget_j = p.tx_energy_j / 2.0;
    assert_eq!(exhaustive(&p), None);
    assert_eq!(max_freq_bits(&p), None);
    assert!(feasible_choices(&p).is_empty());
    let r = paper_joint(&p);
    assert_eq!(r.relaxed, None);
    assert_eq!(r.decision, best_effort(&p));
    assert!(!r.decision.rounding_broke_budget);
    p.energy_budget_j = 3.0;
    p.deadline_s = p.tx_time_s;
    assert_eq!(exhaustive(&p), None);
    assert_eq!(min_energy(&p, bw(2), bw(2)), None);
}

#[test]
fn gap_cap_is_enforced() {
    let mut p = blip2();
    for b in 0..17 {
        p.agent.gap.to_mut()[b] = b as f64;
        p.server.gap.to_mut()[b] = b as f64;
    }
    let free = exhaustive(&p).expect("feasible");
    assert!(p.evaluate(&free).gap > 12.0, "cap must bind");
    p.gap_max = Some(12.0);
    let capped = exhaustive(&p).expect("small bits stay feasible");
    let e = p.evaluate(&capped);
    assert!(e.meets_gap && e.gap <= 12.0);
    assert_eq!(Some(e.distortion), brute_force(&p));
}

#[test]
fn tables_match_relaxed_objective() {
    let layers = [
        Layer {
            importance: 0.3,
            weights: 1e6,
            lambda: 20.0,
        },
        Layer {
            importance: 0.7,
            weights: 3e5,
            lambda: 70.0,
        },
    ];
    for bound in [Bound::Upper, Bound::Lower] {
        let t = side_tables(&layers, bound);
        for b in 2..=16u8 {
            let relaxed = bound.scale() * t.relaxed_weight * 2f64.powi(1 - i32::from(b));
            assert!((t.distortion[usize::from(b)] - relaxed).abs() <= 1e-12 * relaxed);
            assert!(t.gap[usize::from(b)] >= 0.0);
        }
    }
}

#[test]
fn validate_rejects_bad_inputs() {
    let mut p = blip2();
    p.bits_min = bw(9);
    p.bits_max = bw(8);
    assert!(p.validate().is_err());
    let mut p = blip2();
    p.agent.cpu.to_mut().freqs = FreqSet::Discrete(vec![2e9, 1e9]);
    assert!(p.validate().is_err());
    let mut p = blip2();
    p.server.cpu.to_mut().freqs = FreqSet::Continuous { min: 2e9, max: 1e9 };
    assert!(p.validate().is_err());
}
