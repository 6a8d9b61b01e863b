//! Campaigns (issue 14): a result folder belongs to one scenario, a rerun
//! runs only what is missing, `index.csv` lists the studies; adaptive
//! precision on chosen metrics (`ci_metrics`, `ci_abs`).

use crate::util::{bin, coinfer_in, column, ok, scenario, snapshot};
use coinfer::metrics::METRICS;
use coinfer::runner::Runner;
use statrs::distribution::{ContinuousCDF, StudentsT};
use std::path::Path;

fn summary_hash(dir: &Path) -> String {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
    v["provenance"]["scenario_hash"].as_str().unwrap().to_string()
}

const A: &str = r#"(name: "alpha", horizon_s: 1.0, seeds: 3,
    policies: [(name: "fixed", bits_agent: 4, bits_server: 8), (name: "exhaustive")],
    sweep: [(param: "agents.deadline_s", values: [0.3, 0.6])])"#;
const B: &str = r#"(name: "beta", horizon_s: 1.5, seeds: 2)"#;

#[test]
fn another_scenario_is_refused_without_a_change_then_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("a.ron"), A).unwrap();
    std::fs::write(d.join("b.ron"), B).unwrap();
    ok(&["run", "--quiet", "--out", "o", "a.ron"], d);
    let before = snapshot(&d.join("o"));
    let (ha, hb) = (summary_hash(&d.join("o")), scenario(B).hash());
    for shard in [&[][..], &["--shard", "0/2"][..]] {
        let mut args = vec!["run", "--quiet", "--out", "o"];
        args.extend_from_slice(shard);
        args.push("b.ron");
        let o = coinfer_in(&bin(), &args, d);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?}");
        for part in ["`alpha`", "`beta`", &ha, &hb, "o holds the runs", "--force"] {
            assert!(err.contains(part), "{part} not in: {err}");
        }
        assert!(snapshot(&d.join("o")) == before, "{args:?} changed the folder");
    }
    let err = ok(&["run", "--quiet", "--force", "--out", "o", "b.ron"], d);
    assert!(err.contains("deleting the runs of scenario `alpha`"), "{err}");
    assert_eq!(summary_hash(&d.join("o")), hb);
    let left: Vec<String> = snapshot(&d.join("o")).into_keys().collect();
    assert!(
        left.iter()
            .all(|f| !f.contains("deadline_s") && !f.contains("shards/0-of-2")),
        "{left:?}"
    );
    ok(&["merge", "o", "--out", "m"], d);
    assert_eq!(summary_hash(&d.join("m")), hb);
}

#[test]
fn a_rerun_simulates_nothing_and_rewrites_identical_files() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("a.ron"), A).unwrap();
    let err = ok(&["run", "--out", "o", "a.ron"], d);
    assert!(err.contains("12 runs (12 simulated, 0 resumed)"), "{err}");
    let (folder, index) = (
        snapshot(&d.join("o")),
        std::fs::read(d.join("index.csv")).unwrap(),
    );
    assert!(folder
        .keys()
        .any(|f| f.starts_with("plots/") && f.ends_with(".png")));
    // A second later: a new date or wall time would show.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    for extra in [&[][..], &["--resume"][..]] {
        let mut args = vec!["run", "--out", "o"];
        args.extend_from_slice(extra);
        args.push("a.ron");
        let err = ok(&args, d);
        assert!(err.contains("12 runs (0 simulated, 12 resumed)"), "{err}");
        let again = snapshot(&d.join("o"));
        assert_eq!(
            again.keys().collect::<Vec<_>>(),
            folder.keys().collect::<Vec<_>>()
        );
        for (name, bytes) in &again {
            assert!(folder[name] == *bytes, "{name} differs after a rerun");
        }
        assert!(std::fs::read(d.join("index.csv")).unwrap() == index);
    }
}

#[test]
fn the_index_lists_every_study_beside_the_output_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("a.ron"), A).unwrap();
    std::fs::write(d.join("b.ron"), B).unwrap();
    ok(&["run", "--quiet", "a.ron"], d);
    ok(&["run", "--quiet", "--out", "results/second", "b.ron"], d);
    let index = std::fs::read_to_string(d.join("results/index.csv")).unwrap();
    assert_eq!(
        index.lines().next().unwrap(),
        "name,scenario_hash,date,commit,runs,wall_time_s,folder"
    );
    assert_eq!(column(&index, "name"), ["alpha", "beta"], "{index}");
    assert_eq!(column(&index, "folder"), ["alpha", "second"]);
    assert_eq!(column(&index, "runs"), ["12", "2"]);
    let hashes = [
        summary_hash(&d.join("results/alpha")),
        summary_hash(&d.join("results/second")),
    ];
    assert_eq!(column(&index, "scenario_hash"), hashes);
    for date in column(&index, "date") {
        humantime::parse_rfc3339(&date).unwrap_or_else(|e| panic!("{date}: {e}"));
    }
    assert!(column(&index, "commit").iter().all(|c| !c.is_empty()));
    assert!(column(&index, "wall_time_s")
        .iter()
        .all(|w| w.parse::<f64>().is_ok()));
    let ls = coinfer_in(&bin(), &["ls"], d);
    assert_eq!(String::from_utf8_lossy(&ls.stdout), index);
}

/// The seeds where an adaptive run must stop, by hand: batches of `batch`
/// seeds until the Student-t 95 % half-width `t(0.975; n−1)·s/√n` of the
/// per-seed `values` is within `max(rel·|mean|, abs)`, or `max` seeds.
fn hand_stop(values: &[f64], batch: usize, max: usize, rel: f64, abs: f64) -> usize {
    (batch..=max)
        .step_by(batch)
        .find(|&n| half_width(&values[..n]) <= (rel * mean(&values[..n]).abs()).max(abs))
        .unwrap_or(max)
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn half_width(v: &[f64]) -> f64 {
    let (n, m) = (v.len() as f64, mean(v));
    let sd = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    StudentsT::new(0.0, 1.0, n - 1.0).unwrap().inverse_cdf(0.975) * sd / n.sqrt()
}

const CI: &str = r#"name: "ci", horizon_s: 3.0, base_seed: 7,
    agents: (count: 2, deadline_s: 1.0, arrivals: Poisson(rate_hz: 4.0)),
    policies: [(name: "fixed", bits_agent: 8, bits_server: 8)]"#;

/// Each seed's value of `metric` over 40 seeds of [`CI`].
fn per_seed(metric: &str) -> Vec<f64> {
    let m = METRICS.iter().position(|x| x.name == metric).unwrap();
    let sc = scenario(&format!("({CI}, seeds: 40)"));
    let runs = &Runner::new(&sc).run().unwrap().points[0].policies[0].runs;
    let v: Vec<f64> = runs.iter().map(|r| r.values[m]).collect();
    assert!(v.iter().all(|x| x.is_finite()), "{metric}: {v:?}");
    v
}

/// Seeds of the adaptive run of [`CI`] with `extra` fields.
fn adaptive_seeds(extra: &str) -> usize {
    let sc = scenario(&format!("({CI}, seeds: 4, max_seeds: 40, {extra})"));
    Runner::new(&sc).run().unwrap().points[0].policies[0].runs.len()
}

#[test]
fn ci_metrics_stop_where_the_hand_computed_interval_says() {
    let latency = per_seed("latency_mean_s");
    let rel_width = |n: usize| half_width(&latency[..n]) / mean(&latency[..n]).abs();
    // A target first met after the first batch: halfway between the first
    // width narrower than every earlier one and the narrowest earlier one.
    let n = (8..=40)
        .step_by(4)
        .find(|&n| (4..n).step_by(4).all(|k| rel_width(k) > rel_width(n)))
        .unwrap();
    let best_before = (4..n).step_by(4).map(rel_width).fold(f64::INFINITY, f64::min);
    let rel = (rel_width(n) + best_before) / 2.0;
    assert_eq!(hand_stop(&latency, 4, 40, rel, 0.0), n);
    let got = adaptive_seeds(&format!("ci_rel: {rel:e}, ci_metrics: [\"latency_mean_s\"]"));
    assert_eq!(got, n, "ci_rel {rel}");
    // Another metric stops elsewhere: the rule follows `ci_metrics`.
    let misses = per_seed("miss_rate");
    let other = hand_stop(&misses, 4, 40, rel, 0.0);
    assert_ne!(other, n);
    assert_eq!(
        adaptive_seeds(&format!("ci_rel: {rel:e}, ci_metrics: [\"miss_rate\"]")),
        other
    );
}

#[test]
fn ci_abs_lets_a_near_zero_rate_stop() {
    let misses = per_seed("miss_rate");
    let m = mean(&misses);
    assert!(m > 0.0 && m < 0.05, "the test needs a rare miss: {m}");
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let run = |extra: &str, out: &str| {
        let text =
            format!("({CI}, seeds: 4, max_seeds: 40, ci_rel: 0.05, ci_metrics: [\"miss_rate\"]{extra})");
        std::fs::write(d.join("s.ron"), text).unwrap();
        let err = ok(&["run", "--quiet", "--out", out, "s.ron"], d);
        (
            std::fs::read_to_string(d.join(out).join("summary.csv")).unwrap(),
            err,
        )
    };
    // The relative target alone is out of reach: max_seeds, and a warning.
    let (s, err) = run("", "rel");
    assert_eq!(hand_stop(&misses, 4, 40, 0.05, 0.0), 40);
    assert_eq!(
        (column(&s, "seeds"), column(&s, "ci_target_met")),
        (vec!["40".into()], vec!["false".into()])
    );
    assert!(
        err.contains("warning: 1 of 1 rows missed the ci_rel target at max_seeds = 40"),
        "{err}"
    );
    // An absolute floor of 0.03 stops where the hand computation says.
    let (s, err) = run(", ci_abs: 0.03", "abs");
    let want = hand_stop(&misses, 4, 40, 0.05, 0.03);
    assert!(want < 40);
    assert_eq!(column(&s, "seeds"), [want.to_string()]);
    assert_eq!(column(&s, "ci_target_met"), ["true"]);
    assert!(!err.contains("warning"), "{err}");
    // Without ci_rel the column is empty.
    let plain = crate::regression::run_quiet(&format!("({CI}, seeds: 2)"));
    assert_eq!(column(&plain, "ci_target_met"), [""]);
}

#[test]
fn ci_metrics_are_checked_against_the_schema() {
    let err = |text: &str| {
        coinfer::study::Study::from_str("t.ron".as_ref(), text, &coinfer::policy::Registry::default())
            .unwrap_err()
            .to_string()
    };
    let e = err("(ci_rel: 0.1,\n ci_metrics: [\"latency_mean\"])");
    assert!(
        e.starts_with("t.ron:2:2: field `ci_metrics`: unknown metric `latency_mean`")
            && e.ends_with("did you mean `latency_mean_s`?"),
        "{e}"
    );
    let e = err("(ci_rel: 0.1, ci_metrics: [\"latency_p95_s\"])");
    assert!(e.contains("pooled over seeds"), "{e}");
    let e = err("(ci_rel: 0.1, ci_metrics: [])");
    assert!(e.contains("at least one metric"), "{e}");
    let e = err("(ci_abs: 0.1)");
    assert!(e.contains("expected ci_rel to be set too"), "{e}");
    // The default: latency, agent energy, and each policy's objective.
    let sc =
        scenario(r#"(ci_rel: 0.1, policies: [(name: "fixed"), (name: "exhaustive", objective: approx)])"#);
    assert_eq!(
        sc.scenario().ci_metrics.as_deref().unwrap(),
        [
            "latency_mean_s",
            "agent_energy_mean_j",
            "distortion_upper_mean",
            "distortion_approx_mean"
        ]
    );
}

/// Review of issue 14: a rerun reused the batches another build of coinfer
/// had simulated (its model may differ), with nothing said. They are
/// simulated again; `--trace` also simulates again, so the trace is whole.
#[test]
fn batches_of_another_build_or_without_a_trace_are_simulated_again() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("b.ron"), B).unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["run", "--out", "o", "--plots", "none"];
        args.extend_from_slice(extra);
        args.push("b.ron");
        ok(&args, d)
    };
    assert!(run(&[]).contains("(2 simulated, 0 resumed)"));
    assert!(run(&[]).contains("(0 simulated, 2 resumed)"));
    let m = d.join("o/shards/0-of-1/manifest.json");
    let text = std::fs::read_to_string(&m).unwrap();
    let build = coinfer::shard::build();
    assert!(text.contains(&build), "{text}");
    std::fs::write(&m, text.replace(&build, "0.0.1 an older commit")).unwrap();
    assert!(run(&[]).contains("(2 simulated, 0 resumed)"));
    assert!(run(&["--trace"]).contains("(2 simulated, 0 resumed)"));
    assert_eq!(std::fs::read_dir(d.join("o/trace")).unwrap().count(), 2);
}
