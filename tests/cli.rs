//! End-to-end runs from the command line: the summary's columns, and `check`
//! prints the resolved scenario (every shipped scenario's short run is in
//! `golden.rs`).

use crate::util::{bin, root};
use std::process::Command;

#[test]
fn summary_has_the_normative_columns() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(bin())
        .args(["run", "--quiet", "--seeds", "2", "--out"])
        .arg(dir.path())
        .arg(root().join("scenarios/minimal.ron"))
        .output()
        .unwrap();
    assert!(o.status.success());
    let csv = std::fs::read_to_string(dir.path().join("summary.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    for col in [
        "policy",
        "seeds",
        "requests",
        "completed",
        "miss_rate",
        "budget_violation_rate",
        "infeasible_rate",
        "latency_mean_s",
        "latency_p50_s",
        "latency_p95_s",
        "latency_p99_s",
        "latency_max_s",
        "agent_energy_mean_j",
        "server_energy_mean_j",
        "bits_agent_mean",
        "bits_server_mean",
        "freq_agent_mean_ghz",
        "distortion_upper_mean",
        "distortion_lower_mean",
        "server_utilization",
        "latency_mean_s_ci95",
    ] {
        assert!(header.contains(&col), "missing column {col}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("summary.json")).unwrap()).unwrap();
    assert_eq!(json["rows"][0]["policy"], "fixed_8_8");
}

#[test]
fn check_prints_resolved_scenario_and_counts() {
    let o = Command::new(bin())
        .args(["check"])
        .arg(root().join("scenarios/paper.ron"))
        .output()
        .unwrap();
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    // 10 agents x 2 requests/s x 60 s.
    assert!(text.contains("expected per run: 1200 requests"), "{text}");
    assert!(text.contains("language_model"));
}

/// Issue 14.5: `tidy.csv` is the summary in long format: one row per point,
/// policy and column, with the same numbers, the seeds and the unit.
#[test]
fn tidy_csv_is_the_summary_in_long_format() {
    let tmp = crate::util::run_in_tmp(
        "(seeds: 3, horizon_s: 5, policies: [(name: \"exhaustive\"), (name: \"fixed\", bits_agent: 8, bits_server: 8)],
          sweep: [(param: \"channel.fading\", values: [\"None\", \"Rayleigh\"])])",
        &[],
    );
    let d = tmp.path();
    let summary = std::fs::read_to_string(d.join("out/summary.csv")).unwrap();
    let tidy = std::fs::read_to_string(d.join("out/tidy.csv")).unwrap();
    let n = coinfer::metrics::SCHEMA.len();
    assert_eq!(tidy.lines().count(), 1 + 4 * n);
    let (fading, policy, metric, mean, ci, seeds, unit) = (
        crate::util::column(&tidy, "channel.fading"),
        crate::util::column(&tidy, "policy"),
        crate::util::column(&tidy, "metric"),
        crate::util::column(&tidy, "mean"),
        crate::util::column(&tidy, "ci95"),
        crate::util::column(&tidy, "n"),
        crate::util::column(&tidy, "unit"),
    );
    // pandas reads `None` (quoted or not) as a missing value: it is written
    // `None()`, the empty field list of a variant; other values stay as written.
    assert_eq!(fading[0], "None()");
    assert_eq!(fading[fading.len() - 1], "Rayleigh");
    for (i, row) in (0..4).zip(0..) {
        for m in ["latency_mean_s", "miss_rate", "agent_energy_mean_j"] {
            let k = (0..metric.len())
                .find(|&k| k / n == row && metric[k] == m)
                .unwrap();
            assert_eq!(mean[k], crate::util::column(&summary, m)[i], "{m}");
            assert_eq!(
                ci[k],
                crate::util::column(&summary, &format!("{m}_ci95"))[i],
                "{m}"
            );
            assert_eq!(policy[k], crate::util::column(&summary, "policy")[i]);
            assert_eq!(seeds[k], "3");
        }
    }
    let k = metric.iter().position(|m| m == "latency_mean_s").unwrap();
    assert_eq!(unit[k], "s");
    let p95 = metric.iter().position(|m| m == "latency_p95_s").unwrap();
    assert_eq!(ci[p95], "", "pooled quantiles have no CI");
}
