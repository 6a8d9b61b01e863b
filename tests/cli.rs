//! End-to-end runs from the command line: every scenario file runs, `check`
//! prints the resolved scenario, and the resolved copy loads back.

use crate::util::{bin, root};
use std::process::Command;

#[test]
fn every_scenario_file_runs_a_short_horizon() {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(root().join("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        let mut sc = crate::util::raw(&path);
        sc.horizon_s = sc.horizon_s.min(3.0);
        sc.warmup_s = sc.warmup_s.min(0.5);
        let short = dir.path().join(path.file_name().unwrap());
        std::fs::write(&short, sc.to_ron()).unwrap();
        let out = dir.path().join("out");
        let o = Command::new(bin())
            .args(["run", "--quiet", "--seeds", "2", "--out"])
            .arg(&out)
            .arg(&short)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&o.stderr)
        );
        let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
        let points = crate::util::compile(sc.clone()).points.len();
        assert_eq!(
            csv.lines().count(),
            1 + points * sc.policies.len(),
            "{}",
            path.display()
        );
        // The resolved copy (with the seeds actually run) compiles to the same study.
        sc.seeds = 2;
        let copy = crate::util::compile(crate::util::raw(&out.join("scenario.ron")));
        assert_eq!(copy.to_ron(), crate::util::compile(sc).to_ron());
    }
}

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
