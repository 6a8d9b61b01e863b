//! Sweeps at scale: identical results whatever the threads or sharding,
//! merge checks, resume, confidence intervals, paired differences.

use crate::util::{bin, coinfer_in, ok_in, root};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A small sweep: 2 x 2 points (one axis zipped with a third), 2 policies, 6 seeds.
const SWEEP: &str = r#"(
    name: "sweep", horizon_s: 4.0, warmup_s: 0.5, seeds: 6,
    agents: (count: 3, arrivals: Poisson(rate_hz: 3.0)),
    server: (workers: 2, service: Exponential),
    policies: [(name: "fixed", bits_agent: 6, bits_server: 8), (name: "exhaustive")],
    reference: "fixed_6_8",
    sweep: [
        (param: "agents.mobility.Static.distance_m", values: [20.0, 120.0]),
        (param: "channel.tx_power_dbm", values: [20.0, 26.0], zip: "radio"),
        (param: "channel.noise_figure_db", values: [9.0, 5.0], zip: "radio"),
    ],
)"#;

/// The result files that must be byte-identical, and summary.json without
/// its provenance block.
fn results(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = ["summary.csv", "paired.csv", "histograms.json", "scenario.ron"]
        .iter()
        .map(|f| (f.to_string(), std::fs::read(dir.join(f)).unwrap()))
        .collect();
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
    assert!(json["provenance"]["wall_time_s"].is_number());
    assert_eq!(json["provenance"]["coinfer_version"], env!("CARGO_PKG_VERSION"));
    json.as_object_mut().unwrap().remove("provenance");
    v.push(("summary.json".into(), json.to_string().into_bytes()));
    v
}

fn assert_same(a: &Path, b: &Path) {
    for ((name, x), (_, y)) in results(a).iter().zip(results(b)) {
        assert!(
            *x == y,
            "{name} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

#[test]
fn threads_and_shards_give_identical_results() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("s.ron"), SWEEP).unwrap();
    ok_in(
        &bin(),
        &["run", "--quiet", "--threads", "1", "--out", "t1", "s.ron"],
        d,
    );
    ok_in(
        &bin(),
        &["run", "--quiet", "--threads", "2", "--out", "t2", "s.ron"],
        d,
    );
    let csv = std::fs::read_to_string(d.join("t1/summary.csv")).unwrap();
    // Points: distance (2) x zipped radio (2) = 4, times 2 policies.
    assert_eq!(csv.lines().count(), 1 + 4 * 2);
    assert!(csv.starts_with(
        "agents.mobility.Static.distance_m,channel.tx_power_dbm,channel.noise_figure_db,policy,"
    ));
    assert!(csv.contains("\n120.0,26.0,5.0,exhaustive,6,"));
    assert_same(&d.join("t1"), &d.join("t2"));
    // 4 shards, merged.
    for i in 0..4 {
        ok_in(
            &bin(),
            &[
                "run",
                "--quiet",
                "--shard",
                &format!("{i}/4"),
                "--out",
                "s4",
                "s.ron",
            ],
            d,
        );
    }
    assert!(!d.join("s4/summary.csv").exists(), "a shard writes no summary");
    ok_in(&bin(), &["merge", "s4"], d);
    assert_same(&d.join("t1"), &d.join("s4"));
    // 3 shards in separate folders, merged in a different order.
    for i in 0..3 {
        ok_in(
            &bin(),
            &[
                "run",
                "--quiet",
                "--shard",
                &format!("{i}/3"),
                "--out",
                &format!("x{i}"),
                "s.ron",
            ],
            d,
        );
    }
    ok_in(
        &bin(),
        &["merge", "x2/shards/2-of-3", "x0", "x1", "--out", "s3"],
        d,
    );
    assert_same(&d.join("t1"), &d.join("s3"));
}

#[test]
fn merge_refuses_incomplete_and_mismatched_shards() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("s.ron"), SWEEP).unwrap();
    for i in [0, 1, 3] {
        ok_in(
            &bin(),
            &[
                "run",
                "--quiet",
                "--shard",
                &format!("{i}/4"),
                "--out",
                "a",
                "s.ron",
            ],
            d,
        );
    }
    let o = coinfer_in(&bin(), &["merge", "a"], d);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("incomplete shard set: missing shards 2-of-4"),
        "{err}"
    );
    assert!(!d.join("a/summary.csv").exists());
    // Shard 2 of another scenario.
    std::fs::write(
        d.join("other.ron"),
        SWEEP.replace("horizon_s: 4.0", "horizon_s: 5.0"),
    )
    .unwrap();
    ok_in(
        &bin(),
        &["run", "--quiet", "--shard", "2/4", "--out", "b", "other.ron"],
        d,
    );
    let o = coinfer_in(&bin(), &["merge", "a", "b"], d);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("shards do not belong together") && err.contains("ran scenario"),
        "{err}"
    );
    // Different shard counts.
    ok_in(
        &bin(),
        &["run", "--quiet", "--shard", "1/2", "--out", "c", "s.ron"],
        d,
    );
    let o = coinfer_in(&bin(), &["merge", "a", "c"], d);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("is one of 4 shards but"),
        "{:?}",
        o
    );
}

#[test]
fn resume_completes_an_interrupted_run_identically() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("s.ron"), SWEEP).unwrap();
    ok_in(&bin(), &["run", "--quiet", "--out", "full", "s.ron"], d);
    // An interrupted run: some batches on disk, manifest not complete, no summary.
    let part = d.join("part/shards/0-of-1");
    std::fs::create_dir_all(&part).unwrap();
    let src = d.join("full/shards/0-of-1");
    for f in ["scenario.ron", "p00000-b0000.bin", "p00002-b0000.bin"] {
        std::fs::copy(src.join(f), part.join(f)).unwrap();
    }
    let manifest = std::fs::read_to_string(src.join("manifest.json")).unwrap();
    std::fs::write(
        part.join("manifest.json"),
        manifest.replace("\"complete\": true", "\"complete\": false"),
    )
    .unwrap();
    // Resuming is the default (`--resume` is still accepted).
    let o = ok_in(&bin(), &["run", "--out", "part", "s.ron"], d);
    let line = String::from_utf8_lossy(&o.stderr);
    assert!(line.contains("48 runs (24 simulated, 24 resumed)"), "{line}");
    assert_same(&d.join("full"), &d.join("part"));
    let o = ok_in(&bin(), &["run", "--resume", "--out", "part", "s.ron"], d);
    let line = String::from_utf8_lossy(&o.stderr);
    assert!(line.contains("48 runs (0 simulated, 48 resumed)"), "{line}");
    // Another scenario is refused; with --force it starts over.
    std::fs::write(d.join("t.ron"), SWEEP.replace("seeds: 6,", "seeds: 5,")).unwrap();
    let o = coinfer_in(&bin(), &["run", "--out", "part", "t.ron"], d);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("holds the runs of scenario `sweep`"));
    let o = ok_in(&bin(), &["run", "--force", "--out", "part", "t.ron"], d);
    assert!(String::from_utf8_lossy(&o.stderr).contains("40 runs (40 simulated, 0 resumed)"));
}

#[test]
fn sweep_errors_name_the_axis() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let cases = [
        (
            SWEEP.replace("channel.tx_power_dbm", "channel.tx_power_w"),
            vec![
                "sweep[1].param",
                "unknown parameter \"channel.tx_power_w\"",
                "channel.bandwidth_hz",
            ],
        ),
        (
            SWEEP.replace("values: [9.0, 5.0]", "values: [9.0]"),
            vec!["zipped as \"radio\" must have equal lengths"],
        ),
        (
            SWEEP.replace("values: [20.0, 120.0]", "values: [20.0, -1.0]"),
            vec![
                "bad.ron:8:",
                "sweep[0].values",
                "at sweep point (agents.mobility.Static.distance_m = -1.0",
                "invalid value -1",
            ],
        ),
        (
            SWEEP.replace("reference: \"fixed_6_8\"", "reference: \"fixed\""),
            vec![
                "reference",
                "unknown policy label \"fixed\"",
                "fixed_6_8, exhaustive",
            ],
        ),
        (
            SWEEP.replace("seeds: 6,", "seeds: 6, filter: [\"agents.count >> 2\"],"),
            vec!["filter[0]", "is neither a number nor a field"],
        ),
    ];
    for (text, parts) in cases {
        std::fs::write(d.join("bad.ron"), &text).unwrap();
        let o = coinfer_in(&bin(), &["run", "--quiet", "--out", "never", "bad.ron"], d);
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        for p in parts {
            assert!(err.contains(p), "{err}\nlacks `{p}`");
        }
        assert!(!d.join("never").exists());
    }
}

#[test]
fn filter_skips_points() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let text = SWEEP.replace(
        "seeds: 6,",
        "seeds: 2, filter: [\"agents.mobility.Static.distance_m * 1 < 100\", \"channel.tx_power_dbm >= 21\"],",
    );
    std::fs::write(d.join("f.ron"), text.replace(" * 1", "")).unwrap();
    ok_in(&bin(), &["run", "--quiet", "--out", "f", "f.ron"], d);
    let csv = std::fs::read_to_string(d.join("f/summary.csv")).unwrap();
    // Only distance 20 with power 26 remains.
    assert_eq!(csv.lines().count(), 1 + 2, "{csv}");
    assert!(csv.lines().skip(1).all(|l| l.starts_with("20.0,26.0,5.0,")));
}

/// One run of 10 seeds of a system whose mean latency is known: no agent
/// compute (split 0), no payload, a server with more workers than requests
/// can occupy, exponential service of mean S = 10 ms.
fn coverage_scenario(base_seed: u64) -> coinfer::study::Study {
    crate::util::scenario(&format!(
        r#"(horizon_s: 5.0, seeds: 10, base_seed: {base_seed},
            model: (blocks: [(params: 1.25e6, lambda: 50.0)], split: 0, payload_bits: 0),
            agents: (count: 2, arrivals: Poisson(rate_hz: 5.0)),
            server: (workers: 64, service: Exponential,
                     cpu: (freqs_ghz: [1.0], cycles_per_weight_bit: 1.0, kappa: 0.0)),
            policies: [(name: "fixed", bits_agent: 8, bits_server: 8)])"#
    ))
}

#[test]
fn ci95_covers_the_true_mean_about_95_percent_of_the_time() {
    let m = coinfer::metrics::METRICS
        .iter()
        .position(|m| m.name == "latency_mean_s")
        .unwrap();
    let truth = 0.01; // S, plus at most 1 ns of rounding
    let mut covered = 0;
    for rep in 0..200u64 {
        let sc = coverage_scenario(1 + rep * 10);
        let study = coinfer::runner::Runner::new(&sc).threads(1).run().unwrap();
        let row = &coinfer::report::aggregate(&study.points)[0];
        if (row.mean[m] - truth).abs() <= row.ci95[m] {
            covered += 1;
        }
    }
    eprintln!("95 % CI covered the true mean latency in {covered} of 200 repetitions");
    // Binomial(200, 0.95): mean 190, sd 3.1; [180, 198] is beyond 3 sd either way.
    assert!((180..=198).contains(&covered), "{covered}/200");
}

#[test]
fn paired_ci_is_narrower_than_unpaired_on_paper() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let mut sc = crate::util::raw(&root().join("scenarios/paper.ron"));
    sc.horizon_s = 10.0;
    sc.seeds = 10;
    std::fs::write(d.join("p.ron"), sc.to_ron()).unwrap();
    ok_in(&bin(), &["run", "--quiet", "--out", "p", "p.ron"], d);
    let text = std::fs::read_to_string(d.join("p/paired.csv")).unwrap();
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let h = r.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let (pol, met, pc, uc) = (
        col("policy"),
        col("metric"),
        col("ci95_paired"),
        col("ci95_unpaired"),
    );
    let (mut checked, mut narrower) = (0, 0);
    for rec in r.records() {
        let rec = rec.unwrap();
        // exhaustive minus the reference paper_joint, seed by seed.
        if &rec[pol] == "exhaustive" && ["distortion_upper_mean", "latency_mean_s"].contains(&&rec[met]) {
            let (p, u): (f64, f64) = (rec[pc].parse().unwrap(), rec[uc].parse().unwrap());
            eprintln!(
                "distance {}: {} diff CI paired ±{p:.3e}, unpaired ±{u:.3e}",
                &rec[0], &rec[met]
            );
            narrower += (p < u) as u32;
            checked += 1;
        }
    }
    assert_eq!(checked, 2 * 9);
    assert!(narrower >= 16, "paired narrower in only {narrower} of 18");
}

#[test]
fn ci_rel_adds_seeds_until_precise() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let text = SWEEP.replace("seeds: 6,", "seeds: 4, ci_rel: 0.05, max_seeds: 40,");
    std::fs::write(d.join("c.ron"), text).unwrap();
    ok_in(
        &bin(),
        &["run", "--quiet", "--threads", "1", "--out", "c1", "c.ron"],
        d,
    );
    ok_in(
        &bin(),
        &["run", "--quiet", "--threads", "2", "--out", "c2", "c.ron"],
        d,
    );
    assert_same(&d.join("c1"), &d.join("c2"));
    let csv = std::fs::read_to_string(d.join("c1/summary.csv")).unwrap();
    let seeds: Vec<u32> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(4).unwrap().parse().unwrap())
        .collect();
    assert!(
        seeds.iter().all(|&s| s % 4 == 0 && (4..=40).contains(&s)),
        "{seeds:?}"
    );
    assert!(
        seeds.iter().any(|&s| s > 4),
        "some point needed more seeds: {seeds:?}"
    );
    let o = coinfer_in(
        &bin(),
        &["run", "--quiet", "--shard", "0/2", "--out", "c3", "c.ron"],
        d,
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("ci_rel"));
}

#[test]
fn trace_writes_one_row_per_request() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("s.ron"), SWEEP.replace("seeds: 6,", "seeds: 1,")).unwrap();
    ok_in(&bin(), &["run", "--quiet", "--trace", "--out", "t", "s.ron"], d);
    let files: Vec<PathBuf> = std::fs::read_dir(d.join("t/trace"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 4 * 2);
    let summary = std::fs::read_to_string(d.join("t/summary.csv")).unwrap();
    let completed: u64 = crate::util::column(&summary, "completed")
        .iter()
        .map(|c| c.parse::<u64>().unwrap())
        .sum();
    let mut counted_rows = 0;
    for f in files {
        let text = std::fs::read_to_string(f).unwrap();
        assert!(text.starts_with("agent,seq,counted,created_s,"));
        counted_rows += text
            .lines()
            .skip(1)
            .filter(|l| l.split(',').nth(2) == Some("true"))
            .count() as u64;
    }
    assert_eq!(counted_rows, completed);
}

#[test]
fn ctrl_c_stops_cleanly_and_resume_finishes_identically() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // Long enough (a few seconds) to be interrupted after its first chunk.
    let text = SWEEP
        .replace("horizon_s: 4.0", "horizon_s: 400.0")
        .replace("seeds: 6,", "seeds: 24,")
        .replace("values: [20.0, 120.0]", "values: [20.0, 60.0, 120.0, 160.0]");
    std::fs::write(d.join("s.ron"), text).unwrap();
    let child = Command::new(bin())
        .args(["run", "--quiet", "--out", "cut", "s.ron"])
        .current_dir(d)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let shard = d.join("cut/shards/0-of-1");
    let started = std::time::Instant::now();
    while !std::fs::read_dir(&shard).is_ok_and(|r| {
        r.filter_map(Result::ok)
            .any(|e| e.path().extension().is_some_and(|x| x == "bin"))
    }) {
        assert!(started.elapsed().as_secs() < 60, "no chunk written");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "the run finished before Ctrl-C: make it longer"
    );
    assert!(
        err.contains("interrupted") && err.contains("run the same command again"),
        "{err}"
    );
    assert!(
        !d.join("cut/summary.csv").exists(),
        "no summary after an interrupt"
    );
    let o = ok_in(&bin(), &["run", "--out", "cut", "s.ron"], d);
    let line = String::from_utf8_lossy(&o.stderr);
    assert!(!line.contains(" 0 resumed"), "{line}");
    ok_in(&bin(), &["run", "--quiet", "--out", "whole", "s.ron"], d);
    assert_same(&d.join("whole"), &d.join("cut"));
}

/// A one-axis sweep over `param` with `values` as written.
fn axis(param: &str, values: &str) -> String {
    format!("(seeds: 1, horizon_s: 1.0, sweep: [(param: \"{param}\", values: {values})])")
}

#[test]
fn generators_expand_to_the_written_lists() {
    let cases = [
        (
            "channel.tx_power_dbm",
            "Range(start: 0.1, stop: 0.3, step: 0.1)",
            "[0.1, 0.2, 0.3]",
        ),
        (
            "channel.tx_power_dbm",
            "Range(start: 1.0, stop: 0.0, step: -0.25)",
            "[1.0, 0.75, 0.5, 0.25, 0.0]",
        ),
        // Integers stay integers, so an integer field takes them.
        (
            "agents.count",
            "Range(start: 10, stop: 1, step: -3)",
            "[10, 7, 4, 1]",
        ),
        ("agents.count", "Range(start: 1, stop: 6, step: 2)", "[1, 3, 5]"),
        (
            "agents.deadline_s",
            "Linspace(start: 0.1, stop: 1.0, n: 10)",
            "[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]",
        ),
        (
            "agents.deadline_s",
            "Linspace(start: 1, stop: 2, n: 3)",
            "[1.0, 1.5, 2.0]",
        ),
        (
            "agents.deadline_s",
            "Linspace(start: 0.3, stop: 0.3, n: 1)",
            "[0.3]",
        ),
        (
            "agents.count",
            "Logspace(start: 1, stop: 8, n: 4)",
            "[1, 2, 4, 8]",
        ),
        (
            "channel.bandwidth_hz",
            "Logspace(start: 1e5, stop: 1e7, n: 3)",
            "[1e5, 1e6, 1e7]",
        ),
    ];
    for (param, generator, list) in cases {
        let generated = crate::util::scenario(&axis(param, generator));
        let written = crate::util::scenario(&axis(param, list));
        assert_eq!(generated.to_ron(), written.to_ron(), "{generator}");
        assert_eq!(generated.hash(), written.hash(), "{generator}");
        assert!(!generated.to_ron().contains(generator.split('(').next().unwrap()));
        let n = list.matches(',').count() + 1;
        assert_eq!(generated.points.len(), n, "{generator}");
    }
    // Numerically clean: the third value of the 0.1 step is 0.3 exactly.
    let study = crate::util::scenario(&axis(
        "channel.tx_power_dbm",
        "Range(start: 0.1, stop: 0.3, step: 0.1)",
    ));
    let values: Vec<&str> = study.points.iter().map(|p| p.params[0].1.as_str()).collect();
    assert_eq!(values, ["0.1", "0.2", "0.3"]);
}

#[test]
fn result_files_show_generated_values_as_written() {
    let tmp = crate::util::run_in_tmp(
        &axis("channel.tx_power_dbm", "Range(start: 0.1, stop: 0.3, step: 0.1)"),
        &[],
    );
    let out = tmp.path().join("out");
    let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert_eq!(
        crate::util::column(&csv, "channel.tx_power_dbm"),
        ["0.1", "0.2", "0.3"]
    );
    let resolved = std::fs::read_to_string(out.join("scenario.ron")).unwrap();
    assert!(!resolved.contains("Range") && !resolved.contains("0.30000000000000004"));
}

/// Points that differ only outside the model and quantizer share one
/// measured-distortion table per seed (built once by the runner); a point
/// with another quantizer has its own, and tables differ by seed.
#[test]
fn points_with_one_model_share_measured_tables() {
    let text = SWEEP
        .replace(
            "(param: \"channel.noise_figure_db\", values: [9.0, 5.0], zip: \"radio\"),",
            "(param: \"channel.noise_figure_db\", values: [9.0, 5.0], zip: \"radio\"),
        (param: \"quantizer.kind\", values: [\"PotLog\", \"LloydMax\"]),",
        )
        .replace("seeds: 6,", "seeds: 6, quantizer: (sample_weights: 4096),");
    let study = crate::util::scenario(&text);
    let ids: Vec<usize> = study.points.iter().map(|p| p.model_id).collect();
    assert_eq!(ids, [0, 1, 0, 1, 0, 1, 0, 1]);
    for p in &study.points {
        let first = &study.points[p.model_id];
        assert_eq!(p.measured_table(7), first.measured_table(7));
    }
    let (pot_log, lloyd) = (&study.points[0], &study.points[1]);
    assert_ne!(pot_log.measured_table(7), lloyd.measured_table(7));
    assert_ne!(pot_log.measured_table(7), pot_log.measured_table(8));
}
