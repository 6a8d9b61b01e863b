//! Decision policies in the simulation: queue awareness under congestion,
//! option errors, the static `solve` table, and the M/G/c wait model.

use crate::util::{bin, root, scenario};
use coinfer::metrics::METRICS;
use coinfer::policy::mgc_wait;
use coinfer::runner::Runner;
use std::process::Command;

fn metric(name: &str) -> usize {
    METRICS.iter().position(|m| m.name == name).unwrap()
}

#[test]
fn queue_aware_misses_fewer_deadlines_than_exhaustive_under_congestion() {
    let mut sc = crate::util::raw(&root().join("scenarios/congested.ron"));
    sc.horizon_s = 12.0;
    sc.seeds = 4;
    let sc = crate::util::compile(sc);
    let runs = Runner::new(&sc).run().unwrap().points.remove(0).policies;
    let by = |label: &str| runs.iter().find(|p| p.label == label).unwrap();
    let (ex, qa) = (by("exhaustive"), by("queue_aware"));
    let m = metric("miss_rate");
    for (e, q) in ex.runs.iter().zip(&qa.runs) {
        assert_eq!(
            e.fingerprint, q.fingerprint,
            "paired runs see the same arrivals and channels"
        );
        eprintln!(
            "seed {}: miss exhaustive {:.3}, queue_aware {:.3}",
            e.seed, e.values[m], q.values[m]
        );
        assert!(q.values[m] < e.values[m], "seed {}", e.seed);
    }
}

#[test]
fn exhaustive_decisions_meet_their_budgets_in_the_simulation() {
    let sc = scenario(
        r#"(horizon_s: 5.0, seeds: 3, agents: (count: 3),
            policies: [(name: "exhaustive"), (name: "paper_joint"), (name: "random")])"#,
    );
    let runs = Runner::new(&sc).run().unwrap().points.remove(0).policies;
    let (inf, viol, round) = (
        metric("infeasible_rate"),
        metric("budget_violation_rate"),
        metric("rounding_violation_rate"),
    );
    for r in &runs[0].runs {
        // Energy is exact unless the channel changes mid-transmission.
        assert_eq!(r.values[inf], 0.0);
        assert!(r.values[viol] < 0.02, "{}", r.values[viol]);
    }
    // On this system the paper's rounding breaks the 3 J budget (11 bits at 1.6 GHz).
    assert!(runs[1].runs.iter().all(|r| r.values[round] > 0.9));
    // `random` only picks feasible decisions.
    assert!(runs[2].runs.iter().all(|r| r.values[inf] == 0.0));
}

#[test]
fn mgc_wait_matches_closed_forms() {
    // M/M/1: W = rho S / (1 - rho).
    let w = mgc_wait(70.0, 0.01, 1, 1.0);
    assert!((w - 0.7 * 0.01 / 0.3).abs() < 1e-12);
    // M/D/1: half of that (Pollaczek-Khinchine).
    let w = mgc_wait(70.0, 0.01, 1, 0.0);
    assert!((w - 0.7 * 0.01 / 0.6).abs() < 1e-12);
    // M/M/2, a = 1: C = 1/3, W = C S / (2 (1 - 1/2)) = S / 3.
    assert!((mgc_wait(100.0, 0.01, 2, 1.0) - 0.01 / 3.0).abs() < 1e-12);
    assert!(mgc_wait(100.0, 0.02, 2, 1.0).is_infinite());
}

fn bad(text: &str, parts: &[&str]) {
    let err = coinfer::study::Study::from_str("p.ron".as_ref(), text, &coinfer::policy::Registry::default())
        .unwrap_err()
        .to_string();
    for p in parts {
        assert!(err.contains(p), "{err}\nlacks `{p}`");
    }
}

#[test]
fn policy_option_errors_name_what_is_valid() {
    bad(
        "(policies: [(name: \"exhaustive\", bits_agent: 8)])",
        &[
            "policies[0].bits_agent",
            "does not apply to policy `exhaustive`",
            "objective, gap_max, bits_min, bits_max",
        ],
    );
    bad(
        "(policies: [(name: \"paper_joint\", objective: Middle)])",
        &["policies[0].objective", "Middle", "upper", "approx", "lower"],
    );
    bad(
        "(policies: [\n(name: \"exhaustive\", bits_min: 9, bits_max: 4)])",
        &["p.ron:2:", "policies[0].bits_min", "above bits_max"],
    );
    bad(
        "(model: (blocks: [(params: 1e6, lambda: 9.0)], split: 1), policies: [(name: \"exhaustive\")])",
        &["policies[0].name", "0 < split < 1"],
    );
}

#[test]
fn solve_prints_each_policy_and_json() {
    let paper = root().join("scenarios/paper.ron");
    let o = Command::new(bin()).arg("solve").arg(&paper).output().unwrap();
    assert!(o.status.success());
    let table = String::from_utf8(o.stdout).unwrap();
    for p in [
        "exhaustive",
        "paper_joint",
        "rounding broke budget",
        "SNR 40.6 dB",
    ] {
        assert!(table.contains(p), "{table}");
    }
    let o = Command::new(bin())
        .args(["solve", "--json", "--snr-db", "10"])
        .arg(&paper)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = doc["policies"].as_array().unwrap();
    let get = |label: &str| rows.iter().find(|r| r["policy"] == label).unwrap();
    let ex = get("exhaustive");
    assert_eq!(ex["feasible"], true);
    assert!(ex["time_total_s"].as_f64().unwrap() <= 0.5 + 1e-9);
    assert!(
        ex["energy_agent_compute_j"].as_f64().unwrap() + ex["energy_tx_j"].as_f64().unwrap() <= 3.0 + 1e-9
    );
    // The exact optimum is no worse than any feasible baseline.
    for r in rows
        .iter()
        .filter(|r| r["feasible"] == true && r["meets_budget"] == true && r["meets_deadline"] == true)
    {
        assert!(
            ex["distortion_upper"].as_f64().unwrap()
                <= r["distortion_upper"].as_f64().unwrap() * (1.0 + 1e-12)
        );
    }
}

/// `queue_aware` walks the bit pairs in preference order and stops at the
/// first feasible one; it must pick what a scan of every pair picks: the
/// feasible pair of least objective, then fewest bits, first in scan order,
/// also with server batching (requests waiting scale the server's work).
#[test]
fn queue_aware_picks_the_best_pair_of_a_full_scan() {
    for batching in ["None", "Batch(max_batch: 4, max_wait_s: 0.01, beta: 0.5)"] {
        queue_aware_matches_full_scan(batching);
    }
}

fn queue_aware_matches_full_scan(batching: &str) {
    use coinfer::policy::{problem, solver, Decision, DecisionContext};
    use coinfer::rng::{stream, Purpose, StreamId};
    use coinfer::units::Bits;
    let study = scenario(&format!(
        r#"(agents: (count: 8, arrivals: Poisson(rate_hz: 2.0), deadline_s: 0.6, energy_budget_j: 2.0),
            server: (batching: {batching}),
            policies: [(name: "queue_aware"), (name: "queue_aware", gap_max: 0.02, bits_min: 4, bits_max: 12),
                       (name: "queue_aware", objective: approx)])"#
    ));
    let sys = &study.points[0].system;
    let mut decided = 0;
    for (policy, spec) in study.policies.iter().zip(&study.scenario().policies) {
        let opts = spec.options().unwrap();
        let mut run = policy.factory.build(stream(1, StreamId::new(Purpose::Policy, 0)));
        for k in 0..60 {
            let mut ctx = DecisionContext::one_shot(sys, 10f64.powf(k as f64 / 10.0 - 1.0));
            ctx.server.queue_len = k % 5;
            let got = run.decide(&ctx);
            let p = problem(&ctx, &opts, 0.0);
            let mut best: Option<(f64, u8, Decision)> = None;
            for bs in Bits::range(p.bits_min, p.bits_max) {
                let service_s = p.server.cycles(bs) / p.server.cpu.freqs.max();
                let wait = mgc_wait(sys.request_rate_hz, service_s, sys.workers, sys.service_scv);
                let pw = solver::Problem {
                    server_wait_s: wait,
                    ..p.clone()
                };
                for ba in Bits::range(p.bits_min, p.bits_max) {
                    let Some(c) = solver::min_energy(&pw, ba, bs).filter(|c| wait.is_finite() && c.feasible)
                    else {
                        continue;
                    };
                    let key = (p.objective(ba, bs), ba.get() + bs.get());
                    if best
                        .as_ref()
                        .is_none_or(|b| key.0 < b.0 || (key.0 == b.0 && key.1 < b.1))
                    {
                        best = Some((key.0, key.1, c));
                    }
                }
            }
            match best {
                Some((_, _, want)) => {
                    decided += 1;
                    let pick = |d: &Decision| {
                        (
                            d.bits_agent,
                            d.bits_server,
                            d.freq_agent,
                            d.freq_server,
                            d.feasible,
                        )
                    };
                    assert_eq!(pick(&got), pick(&want), "{} at k = {k}", policy.label);
                }
                None => assert!(!got.feasible, "{} at k = {k}", policy.label),
            }
        }
    }
    assert!(
        decided > 60 && decided < 180,
        "both feasible and infeasible cases: {decided}"
    );
}
