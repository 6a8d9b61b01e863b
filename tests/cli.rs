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
