//! Regression tests, named after the issue that reported the bug.

use crate::util::{bin, coinfer_in, column, fails_with, ok_in, root, scenario};
use coinfer::policy::Registry;
use coinfer::study::Study;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Runs the shards `0/n` … `n-1/n` of `file` into `out`, one after another.
fn run_shards(n: u32, out: &str, file: &str, dir: &Path) {
    for i in 0..n {
        ok_in(
            &bin(),
            &[
                "run",
                "--quiet",
                "--shard",
                &format!("{i}/{n}"),
                "--out",
                out,
                file,
            ],
            dir,
        );
    }
}

fn compile_err(text: &str) -> String {
    Study::from_str("t.ron".as_ref(), text, &Registry::default())
        .unwrap_err()
        .to_string()
}

fn same_files(a: &Path, b: &Path, names: &[&str]) {
    for n in names {
        let (x, y) = (
            std::fs::read(a.join(n)).unwrap(),
            std::fs::read(b.join(n)).unwrap(),
        );
        assert!(x == y, "{n} differs between {} and {}", a.display(), b.display());
    }
}

const RESULT_FILES: [&str; 5] = [
    "summary.csv",
    "tidy.csv",
    "paired.csv",
    "histograms.json",
    "scenario.ron",
];

/// Issue 9: sweeping `seeds` or `base_seed` gave identical rows silently.
#[test]
fn issue_9_run_control_fields_cannot_be_swept() {
    for (field, values) in [
        ("seeds", "[2, 5]"),
        ("base_seed", "[1, 100]"),
        ("ci_rel", "[0.1, 0.2]"),
        ("max_seeds", "[10, 20]"),
        ("reference", "[\"fixed_8_8\"]"),
        ("name", "[\"a\", \"b\"]"),
    ] {
        let err = compile_err(&format!("(sweep: [(param: \"{field}\", values: {values})])"));
        assert!(
            err.contains("sweep[0].param")
                && err.contains(&format!("`{field}`"))
                && err.contains("cannot be swept"),
            "{field}: {err}"
        );
    }
}

/// Issue 9: `agents: (cpu: (freqs_ghz: [1.0, 2.0]))` was refused for the
/// fields it left out.
#[test]
fn issue_9_partial_blocks_take_the_documented_defaults() {
    let text = r#"(horizon_s: 2.0, seeds: 2,
        model: (split: 1),
        agents: (cpu: (freqs_ghz: [1.0, 2.0])),
        channel: (bandwidth_hz: 1e7, path_loss: (exponent: 2.5)),
        server: (cpu: (kappa: 2e-28)),
        quantizer: (sample_weights: 1000))"#;
    let study = scenario(text);
    let c = study.scenario();
    assert_eq!(c.agents.shared().cpu.freqs_ghz, Some(vec![1.0, 2.0]));
    assert_eq!(c.agents.shared().cpu.cycles_per_weight_bit, Some(0.05));
    assert_eq!(c.agents.shared().cpu.kappa, Some(2e-27));
    assert_eq!(c.server.cpu.freqs_ghz, Some(vec![10.0]));
    assert_eq!(c.server.cpu.kappa, Some(2e-28));
    assert_eq!(c.server.cpu.cycles_per_weight_bit, Some(0.02));
    assert_eq!(c.channel.path_loss.pl0_db, 46.4);
    let results = coinfer::runner::Runner::new(&study).threads(1).run().unwrap();
    assert!(results.points[0].policies[0].runs.iter().all(|r| r.completed > 0));
    // `check` shows the defaults filled in, without Some(..), numbers readable.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("p.ron"), text).unwrap();
    let o = ok_in(&bin(), &["check", "p.ron"], tmp.path());
    let out = String::from_utf8_lossy(&o.stdout);
    for part in [
        "cycles_per_weight_bit: 0.05",
        "kappa: 2e-27",
        "kappa: 2e-28",
        "bandwidth_hz: 1e7",
        "exponent: 2.5",
    ] {
        assert!(out.contains(part), "lacks `{part}`:\n{out}");
    }
    assert!(!out.contains("Some(") && !out.contains("0.0000000"), "{out}");
}

/// Issue 9: a misspelt field lists the valid names; now it also suggests one.
#[test]
fn issue_9_unknown_field_suggests_the_closest_name() {
    let err = compile_err("(channel: (bandwith_hz: 1e6))");
    assert!(err.contains("did you mean `bandwidth_hz`?"), "{err}");
    assert!(err.contains("t.ron:1:"), "{err}");
    let err = compile_err("(channel: (fading: Rayleight))");
    assert!(err.contains("did you mean `Rayleigh`?"), "{err}");
}

/// Issue 9: an I/O error printed its cause twice.
#[test]
fn issue_9_io_error_names_the_path_and_cause_once() {
    let o = Command::new(bin())
        .args(["run", "/nonexistent/x.ron"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert_eq!(err.matches("No such file").count(), 1, "{err}");
    assert_eq!(err.matches("/nonexistent/x.ron").count(), 1, "{err}");
}

const ADAPTIVE: &str = r#"(
    name: "adaptive", horizon_s: 3.0, seeds: 3, ci_rel: 0.02, max_seeds: 12,
    agents: (count: 2, arrivals: Poisson(rate_hz: 4.0)),
    policies: [(name: "fixed", bits_agent: 8, bits_server: 8), (name: "exhaustive")],
    sweep: [(param: "channel.tx_power_dbm", values: [15.0, 23.0])],
)"#;

/// Issue 9: `coinfer merge` refused a complete adaptive run ("point 0 has 6
/// runs, expected 2"); an interrupted one must resume identically too.
#[test]
fn issue_9_adaptive_runs_merge_and_resume_identically() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("a.ron"), ADAPTIVE).unwrap();
    ok_in(&bin(), &["run", "--quiet", "--out", "full", "a.ron"], d);
    let summary = std::fs::read_to_string(d.join("full/summary.csv")).unwrap();
    assert!(
        summary.lines().skip(1).any(|l| !l.contains(",3,")),
        "the test needs a point that adds seeds:\n{summary}"
    );
    ok_in(&bin(), &["merge", "full", "--out", "merged"], d);
    same_files(&d.join("full"), &d.join("merged"), &RESULT_FILES);
    // An interrupted run: the manifest not complete, the later batches missing.
    ok_in(&bin(), &["run", "--quiet", "--out", "cut", "a.ron"], d);
    let shard = d.join("cut/shards/0-of-1");
    for f in std::fs::read_dir(&shard).unwrap().flatten() {
        let name = f.file_name().to_string_lossy().into_owned();
        if name.ends_with(".bin") && !name.ends_with("-b0000.bin") {
            std::fs::remove_file(f.path()).unwrap();
        }
    }
    let m = shard.join("manifest.json");
    let text = std::fs::read_to_string(&m)
        .unwrap()
        .replace("\"complete\": true", "\"complete\": false");
    std::fs::write(&m, text).unwrap();
    std::fs::remove_file(d.join("cut/summary.csv")).unwrap();
    let o = coinfer_in(&bin(), &["merge", "cut", "--out", "x"], d);
    assert!(!o.status.success(), "merging an unfinished run must fail");
    ok_in(&bin(), &["run", "--quiet", "--out", "cut", "a.ron"], d);
    same_files(&d.join("full"), &d.join("cut"), &RESULT_FILES);
}

/// Issue 9: `coinfer solve --json | head` panicked on the closed pipe.
#[test]
fn issue_9_closed_stdout_is_not_a_crash() {
    let mut child = Command::new(bin())
        .args(["solve", "--json"])
        .arg(root().join("scenarios/paper.ron"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success() && !err.contains("panicked"),
        "{:?}: {err}",
        o.status
    );
}

/// Issue 9: `coinfer plot` on a summary without a `policy` column panicked.
#[test]
fn issue_9_plot_of_a_foreign_summary_is_an_error_not_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let header = "distortion_upper_mean,distortion_measured_mean,miss_rate,latency_p99_s,agent_energy_mean_j";
    std::fs::write(tmp.path().join("summary.csv"), format!("{header}\n1,2,3,4,5\n")).unwrap();
    let o = coinfer_in(&bin(), &["plot", "."], tmp.path());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && !err.contains("panicked"), "{err}");
    assert!(err.contains("summary.csv") && err.contains("policy"), "{err}");
}

/// The example binary `examples/custom_policy.rs`, built with the cargo
/// that runs the tests (`cargo test` builds examples only as test harnesses).
fn custom_policy_exe() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let o = Command::new(cargo)
        .args(["build", "--quiet", "--example", "custom_policy"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    bin().parent().unwrap().join("examples/custom_policy")
}

/// Issue 9: a policy registered in a user's own binary works with every
/// subcommand through `coinfer::cli::main_with`.
#[test]
fn issue_9_custom_policy_runs_through_every_subcommand() {
    let exe = custom_policy_exe();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(
        d.join("c.ron"),
        r#"(name: "custom", horizon_s: 3.0, seeds: 4, channel: (fading: None),
            policies: [(name: "rate_threshold"), (name: "fixed", bits_agent: 12, bits_server: 12)],
            sweep: [(param: "agents.mobility.Static.distance_m", values: [20.0, 300.0])])"#,
    )
    .unwrap();
    ok_in(&exe, &["run", "--quiet", "--out", "whole", "c.ron"], d);
    for i in 0..2 {
        let shard = format!("{i}/2");
        ok_in(
            &exe,
            &["run", "--quiet", "--shard", &shard, "--out", "parts", "c.ron"],
            d,
        );
    }
    ok_in(&exe, &["merge", "parts"], d);
    same_files(&d.join("whole"), &d.join("parts"), &RESULT_FILES);
    let summary = std::fs::read_to_string(d.join("whole/summary.csv")).unwrap();
    let rows: Vec<&str> = summary
        .lines()
        .filter(|l| l.contains(",rate_threshold,"))
        .collect();
    assert_eq!(rows.len(), 2, "{summary}");
    // Near the access point it keeps 12 bits, far away it halves them.
    let header: Vec<&str> = summary.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "bits_agent_mean").unwrap();
    let bits: Vec<f64> = rows
        .iter()
        .map(|r| r.split(',').nth(col).unwrap().parse().unwrap())
        .collect();
    assert_eq!(bits, [12.0, 6.0], "{summary}");
    let o = ok_in(&exe, &["solve", "--json", "c.ron"], d);
    assert!(String::from_utf8_lossy(&o.stdout).contains("rate_threshold"));
    ok_in(&exe, &["plot", "whole"], d);
    assert!(d.join("whole/plots").read_dir().unwrap().count() > 0);
    // The stock binary does not know the policy, and says which it knows.
    let o = coinfer_in(&bin(), &["check", "c.ron"], d);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("unknown policy \"rate_threshold\""),
        "{err}"
    );
}

pub(crate) fn run_quiet(text: &str) -> String {
    let tmp = crate::util::run_in_tmp(text, &[]);
    std::fs::read_to_string(tmp.path().join("out/summary.csv")).unwrap()
}

/// Issue 10: `deadline_s: 1e30` (meant as "none") overflowed the nanosecond
/// clock and marked every request missed.
#[test]
fn issue_10_huge_or_absent_deadline_is_never_missed() {
    for deadline in ["1e30", "2e10", "None"] {
        let s = run_quiet(&format!(
            "(horizon_s: 3.0, seeds: 2, agents: (deadline_s: {deadline}))"
        ));
        assert_eq!(column(&s, "miss_rate"), ["0"], "deadline {deadline}:\n{s}");
    }
}

/// Issue 10: `coinfer profile m.safetensors --out m.safetensors` overwrote the model.
#[test]
fn issue_10_profile_refuses_to_overwrite_its_input() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("m.safetensors");
    crate::quant::write_checkpoint(&model);
    let before = std::fs::read(&model).unwrap();
    let o = coinfer_in(
        &bin(),
        &["profile", "m.safetensors", "--out", "./m.safetensors"],
        tmp.path(),
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("refusing to write over an input"),
        "{err}"
    );
    assert_eq!(std::fs::read(&model).unwrap(), before);
}

/// Issue 10: names like `..` or `/abs/path` wrote results outside `results/`.
#[test]
fn issue_10_unsafe_scenario_names_are_refused() {
    for name in ["..", "../x", "/abs/path", "", ".hidden", "a/b"] {
        let err = compile_err(&format!("(name: {name:?})"));
        assert!(
            err.contains("field `name`") && err.contains("folder name"),
            "{name}: {err}"
        );
    }
    scenario("(name: \"paper-v2_distance=100\")");
}

/// Issue 10: `Uniform(group_size: 0)` passed `check`, then panicked in `run`.
#[test]
fn issue_10_zero_group_size_and_absurd_samples_are_refused() {
    let err = compile_err("(quantizer: (kind: Uniform(group_size: 0)))");
    assert!(err.contains("group_size") && err.contains("count >= 1"), "{err}");
    let err = compile_err("(quantizer: (sample_weights: 18446744073709551615))");
    assert!(
        err.contains("sample_weights") && err.contains("1..=10000000"),
        "{err}"
    );
}

/// Issue 10: `--threads 5000` panicked building the thread pool.
#[test]
fn issue_10_threads_beyond_the_cores_are_capped() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("s.ron"), "(horizon_s: 1.0, seeds: 2)").unwrap();
    let o = ok_in(
        &bin(),
        &["run", "--quiet", "--threads", "5000", "--out", "o", "s.ron"],
        tmp.path(),
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("warning: --threads 5000"));
}

/// Issue 10: `--out` naming a file said only "File exists".
#[test]
fn issue_10_out_naming_a_file_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("s.ron"), "(horizon_s: 1.0, seeds: 2)").unwrap();
    std::fs::write(tmp.path().join("taken"), "x").unwrap();
    fails_with(
        &bin(),
        &["run", "--quiet", "--out", "taken", "s.ron"],
        tmp.path(),
        "taken is a file: expected a folder",
    );
}

/// Issue 10: a killed write left `plots/.NAME.svg.PID.N.tmp` forever.
#[test]
fn issue_10_stale_temporary_files_are_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("s.ron"), "(horizon_s: 1.0, seeds: 2)").unwrap();
    std::fs::create_dir_all(d.join("o/plots")).unwrap();
    std::fs::write(d.join("o/plots/.coinfer-x1y2.tmp"), "half").unwrap();
    std::fs::write(d.join("o/.coinfer-z3.tmp"), "half").unwrap();
    ok_in(&bin(), &["run", "--quiet", "--out", "o", "s.ron"], d);
    assert!(!d.join("o/plots/.coinfer-x1y2.tmp").exists() && !d.join("o/.coinfer-z3.tmp").exists());
}

/// Issue 10: two runs into one folder mixed their batches; one died on a
/// missing manifest. Now the folder is locked for the run.
#[test]
fn issue_10_concurrent_runs_into_one_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let text = "(horizon_s: 20.0, seeds: 8, agents: (count: 4), policies: [(name: \"exhaustive\")])";
    std::fs::write(d.join("s.ron"), text).unwrap();
    ok_in(&bin(), &["run", "--quiet", "--out", "reference", "s.ron"], d);
    // A lock held by another process: refused, nothing written.
    std::fs::create_dir_all(d.join("held")).unwrap();
    let lock = coinfer::fsio::try_lock_dir(&d.join("held"), "results")
        .unwrap()
        .unwrap();
    fails_with(
        &bin(),
        &["run", "--quiet", "--out", "held", "s.ron"],
        d,
        "in use by another coinfer process",
    );
    assert!(!d.join("held/summary.csv").exists() && !d.join("held/shards").exists());
    drop(lock);
    // Two processes started together: whichever order they get, one waits
    // out or is refused, and the results are the reference's.
    let spawn = || {
        Command::new(bin())
            .args(["run", "--quiet", "--out", "both", "s.ron"])
            .current_dir(d)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    assert!(outs.iter().any(|o| o.status.success()));
    for o in outs.iter().filter(|o| !o.status.success()) {
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("in use by another coinfer process"), "{err}");
    }
    same_files(
        &d.join("reference"),
        &d.join("both"),
        &["summary.csv", "paired.csv", "histograms.json"],
    );
    // Shards of one study run side by side into one folder (the README's
    // cluster recipe): each locks only its own shard.
    let shards: Vec<_> = (0..3)
        .map(|i| {
            Command::new(bin())
                .args([
                    "run",
                    "--quiet",
                    "--shard",
                    &format!("{i}/3"),
                    "--out",
                    "sharded",
                    "s.ron",
                ])
                .current_dir(d)
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for s in shards {
        let o = s.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    ok_in(&bin(), &["merge", "sharded"], d);
    same_files(
        &d.join("reference"),
        &d.join("sharded"),
        &["summary.csv", "paired.csv", "histograms.json"],
    );
}

/// Review of issue 10: a second study run into the folder of a first left the
/// first's figures, traces and shards behind (now it needs `--force`).
#[test]
fn issue_10_a_new_run_clears_the_old_studys_files() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let sweep = "(horizon_s: 1.0, seeds: 2, sweep: [(param: \"agents.deadline_s\", values: [0.3, 0.6])])";
    std::fs::write(d.join("a.ron"), sweep).unwrap();
    std::fs::write(d.join("b.ron"), "(horizon_s: 1.0, seeds: 2)").unwrap();
    run_shards(2, "o", "a.ron", d);
    ok_in(&bin(), &["merge", "o"], d);
    ok_in(&bin(), &["run", "--quiet", "--trace", "--out", "o", "a.ron"], d);
    fails_with(
        &bin(),
        &["run", "--quiet", "--out", "o", "b.ron"],
        d,
        "pass --force to delete them",
    );
    ok_in(&bin(), &["run", "--quiet", "--force", "--out", "o", "b.ron"], d);
    let names = |sub: &str| -> Vec<String> {
        std::fs::read_dir(d.join("o").join(sub))
            .map(|r| {
                r.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(
        names("plots").iter().all(|n| !n.contains("deadline_s")),
        "{:?}",
        names("plots")
    );
    assert!(
        names("trace").is_empty() && names("shards") == ["0-of-1"],
        "{:?}",
        names("shards")
    );
    ok_in(&bin(), &["merge", "o", "--out", "again"], d);
}

/// Issue 10: absurd sizes started and died (or ran for hours) instead of
/// being refused with the field that drives the cost.
#[test]
fn issue_10_absurd_sizes_are_refused_with_an_estimate() {
    for (text, driver) in [
        ("(horizon_s: 1e15)", "coherence_s"),
        ("(seeds: 1000000000)", "number of runs"),
        ("(agents: (count: 1000000000))", "agents.count"),
        ("(server: (workers: 4294967295))", "server.workers"),
        ("(channel: (coherence_s: 1e-9))", "coherence_s"),
        (
            "(agents: (arrivals: Periodic(period_s: 1e-9)))",
            "requests per run",
        ),
        (
            "(seeds: 3, ci_rel: 1e-12, max_seeds: 4294967295)",
            "number of runs",
        ),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("s.ron"), text).unwrap();
        let o = coinfer_in(&bin(), &["run", "--quiet", "--out", "o", "s.ron"], tmp.path());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && err.contains("--force") && err.contains(driver),
            "{text}: {err}"
        );
        assert!(
            !tmp.path().join("o/shards").exists(),
            "{text}: nothing may be written"
        );
        let o = ok_in(&bin(), &["check", "s.ron"], tmp.path());
        assert!(String::from_utf8_lossy(&o.stdout).contains("too large to run without --force"));
    }
    let err = compile_err(&format!(
        "(sweep: [{}])",
        [
            "channel.tx_power_dbm",
            "channel.noise_figure_db",
            "horizon_s",
            "channel.rho",
            "agents.deadline_s"
        ]
        .map(|p| format!("(param: \"{p}\", values: [1.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95])"))
        .join(", ")
    ));
    assert!(err.contains("the sweep has 1.000e5 points"), "{err}");
}

/// Issue 10: a 100 km uplink (transmissions far longer than the run) held a
/// fading block for every coherence time of the transmission.
#[test]
fn issue_10_transmissions_beyond_the_horizon_stop_there() {
    let s = run_quiet("(horizon_s: 2.0, seeds: 2, agents: (mobility: Static(distance_m: 100000.0)))");
    assert_eq!(column(&s, "completed"), ["0"], "{s}");
}

/// Issue 10: with the manifest deleted, `run other.ron --resume` reused
/// another scenario's batches and labelled them with the new hash. (The
/// summary names the folder's scenario; without it, the batches do.)
#[test]
fn issue_10_resume_refuses_another_scenarios_batches() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("a.ron"), "(horizon_s: 2.0, seeds: 3)").unwrap();
    std::fs::write(d.join("b.ron"), "(horizon_s: 2.5, seeds: 3)").unwrap();
    ok_in(&bin(), &["run", "--quiet", "--out", "o", "a.ron"], d);
    std::fs::remove_file(d.join("o/shards/0-of-1/manifest.json")).unwrap();
    let args = ["run", "--quiet", "--resume", "--out", "o", "b.ron"];
    fails_with(&bin(), &args, d, "holds the runs of scenario");
    std::fs::remove_file(d.join("o/summary.json")).unwrap();
    fails_with(&bin(), &args, d, "batch of another place");
}

/// Issue 10: `merge` accepted a batch copied from another shard, an edited
/// `shards/*/scenario.ron` and a flipped float.
#[test]
fn issue_10_merge_refuses_tampered_shards() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("s.ron"), "(horizon_s: 2.0, seeds: 20, agents: (count: 2))").unwrap();
    run_shards(2, "o", "s.ron", d);
    let fresh = d.join("fresh");
    let copy = |name: &str| {
        let to = d.join(name);
        let _ = std::fs::remove_dir_all(&to);
        Command::new("cp")
            .arg("-r")
            .arg(d.join("o"))
            .arg(&to)
            .status()
            .unwrap();
        to
    };
    ok_in(&bin(), &["merge", "o", "--out", fresh.to_str().unwrap()], d);
    let refuse = |dir: &Path, what: &str| {
        let o = coinfer_in(&bin(), &["merge", dir.to_str().unwrap()], d);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && err.contains(what),
            "{}: {err}",
            dir.display()
        );
        assert!(!dir.join("summary.csv").exists());
    };
    // A batch of shard 1 copied into shard 0 as a further batch.
    let dup = copy("dup");
    std::fs::copy(
        dup.join("shards/1-of-2/p00000-b0000.bin"),
        dup.join("shards/0-of-2/p00000-b0003.bin"),
    )
    .unwrap();
    refuse(&dup, "batch of another place");
    // An edited scenario copy relabels rows.
    let edited = copy("edited");
    let s = edited.join("shards/0-of-2/scenario.ron");
    let text = std::fs::read_to_string(&s)
        .unwrap()
        .replace("horizon_s: 2.0", "horizon_s: 3.0");
    std::fs::write(&s, text).unwrap();
    refuse(&edited, "does not match its manifest");
    // One flipped bit in a record.
    let flipped = copy("flipped");
    let b = flipped.join("shards/1-of-2/p00000-b0001.bin");
    let mut bytes = std::fs::read(&b).unwrap();
    let at = bytes.len() - 100;
    bytes[at] ^= 0x04;
    std::fs::write(&b, bytes).unwrap();
    refuse(&flipped, "corrupt coinfer batch file");
}

/// Writes a safetensors file of F32 tensors `(name, values)`.
fn write_f32_tensors(path: &Path, tensors: &[(&str, Vec<f32>)]) {
    use safetensors::tensor::{Dtype, TensorView};
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, w)| w.iter().flat_map(|x| x.to_le_bytes()).collect())
        .collect();
    let views: Vec<(&str, TensorView)> = tensors
        .iter()
        .zip(&bytes)
        .map(|((n, w), b)| (*n, TensorView::new(Dtype::F32, vec![w.len()], b).unwrap()))
        .collect();
    std::fs::write(path, safetensors::serialize(views, &None).unwrap()).unwrap();
}

/// Issue 10: `profile` on NaN, inf, empty or all-zero tensors wrote
/// λ = NaN / inf / 0 (KS 0.0000, a "perfect fit"), which `check` then
/// rejected. NaN and inf stay clear errors; issue 11: all-zero, constant and
/// single-weight tensors are degenerate (zero distortion, no λ), and profile
/// and run.
#[test]
fn issue_10_11_profile_of_non_finite_or_degenerate_tensors() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let good: Vec<f32> = (1..=100).map(|i| i as f32 * 1e-3).collect();
    let profile = ["profile", "m.safetensors", "--group-by", "1", "--quantize", "all"];
    for (bad, values) in [
        ("nan", vec![0.1, f32::NAN, 0.2]),
        ("inf", vec![0.1, f32::INFINITY]),
    ] {
        let name = format!("b.{bad}");
        write_f32_tensors(
            &d.join("m.safetensors"),
            &[("a.w", good.clone()), (&name, values)],
        );
        let o = coinfer_in(&bin(), &profile, d);
        let err = String::from_utf8_lossy(&o.stderr);
        let expected = format!("tensor \"b.{bad}\" holds NaN or infinite weights");
        assert!(!o.status.success() && err.contains(&expected), "{bad}: {err}");
        assert!(o.stdout.is_empty(), "{bad}: nothing may be written");
    }
    // An empty tensor is skipped and listed; degenerate ones profile.
    write_f32_tensors(
        &d.join("m.safetensors"),
        &[
            ("a.w", good.clone()),
            ("a.zero", vec![0.0; 50]),
            ("b.empty", vec![]),
            ("c.const", vec![-0.25, 0.25, 0.25]),
            ("c.single", vec![3.0]),
        ],
    );
    let o = ok_in(&bin(), &[&profile[..], &["--out", "p.ron"]].concat(), d);
    assert!(String::from_utf8_lossy(&o.stderr).contains("skipped b.empty (F32): empty"));
    let text = std::fs::read_to_string(d.join("p.ron")).unwrap();
    // λ of block a from a.w alone: 100 / Σ|w| (a.zero is degenerate).
    let lambda = 100.0 / good.iter().map(|&w| f64::from(w)).sum::<f64>();
    assert!(
        text.contains(&format!("name: \"a\", params: 150, lambda: {lambda:?}")),
        "{text}"
    );
    assert!(
        text.contains("name: \"c\", params: 4, degenerate: true"),
        "{text}"
    );
    assert!(
        text.contains(
            "// degenerate (all magnitudes equal: zero distortion, not in lambda): a.zero (50 weights)"
        ),
        "{text}"
    );
    assert!(!text.contains(": inf") && !text.contains("NaN"), "{text}");
    std::fs::write(
        d.join("s.ron"),
        "(seeds: 2, horizon_s: 20, model: (profile: \"p.ron\", split: 1), policies: [(name: \"fixed\", bits_agent: 4, bits_server: 4)])",
    )
    .unwrap();
    ok_in(&bin(), &["run", "--quiet", "--out", "out", "s.ron"], d);
    let summary = std::fs::read_to_string(d.join("out/summary.csv")).unwrap();
    let measured: f64 = column(&summary, "distortion_measured_mean")[0].parse().unwrap();
    // Only a.w (100 of the 154 weights) has distortion; c is degenerate.
    assert!(measured > 0.0 && measured.is_finite(), "{summary}");
}

/// Issue 10: unclear errors for an unclosed string, a fractional count, a
/// NaN sweep value, invalid UTF-8, deep nesting and a negative `--snr-db`.
#[test]
fn issue_10_bad_input_gets_a_clear_error() {
    for (text, parts) in [
        (
            "(\n  name: \"abc,\n  seeds: 3,\n)",
            &["t.ron:2:", "unclosed string: it opens here"][..],
        ),
        (
            "(agents: (count: 2.5))",
            &["field `agents.count`", "expected a whole number"],
        ),
        (
            "(sweep: [(param: \"channel.tx_power_dbm\", values: [1.0, NaN])])",
            &["field `sweep[0].values[1]`", "expected finite numbers"],
        ),
    ] {
        let err = compile_err(text);
        for p in parts {
            assert!(err.contains(p), "{text}: {err} lacks {p}");
        }
    }
    let deep = format!(
        "(sweep: [(param: \"horizon_s\", values: {}{})])",
        "[".repeat(400),
        "]".repeat(400)
    );
    let err = compile_err(&deep);
    assert!(
        err.contains("nested too deeply") && !err.contains("serde_stacker") && err.len() < 300,
        "{err}"
    );
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("bin.ron"), b"(seeds: 3)\xff\xfe").unwrap();
    let o = coinfer_in(&bin(), &["check", "bin.ron"], tmp.path());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("not UTF-8 text (invalid byte at offset 10)"),
        "{err}"
    );
    let paper = root().join("scenarios/paper.ron");
    let o = ok_in(
        &bin(),
        &["solve", "--snr-db", "-3", paper.to_str().unwrap()],
        tmp.path(),
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("SNR -3.0 dB"));
    let o = coinfer_in(
        &bin(),
        &["solve", "--snr-db", "NaN", paper.to_str().unwrap()],
        tmp.path(),
    );
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("finite"));
}

/// Issue 10: after a run failed half-way over an old folder, the folder
/// mixed new and old files and `coinfer plot` drew the mix.
#[test]
fn issue_10_a_half_written_result_folder_is_not_drawn() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("a.ron"), "(horizon_s: 1.0, seeds: 2)").unwrap();
    ok_in(&bin(), &["run", "--quiet", "--out", "o", "a.ron"], d);
    // The rerun's `paired.csv` cannot be written (a folder is in the way),
    // after `summary.csv` was. (Figures come after the data, so a figure
    // that fails leaves a complete folder: issue 14.)
    std::fs::remove_file(d.join("o/paired.csv")).unwrap();
    std::fs::create_dir(d.join("o/paired.csv")).unwrap();
    std::fs::write(d.join("o/paired.csv/x"), "in the way").unwrap();
    let o = coinfer_in(&bin(), &["run", "--quiet", "--out", "o", "a.ron"], d);
    assert!(!o.status.success());
    std::fs::remove_dir_all(d.join("o/paired.csv")).unwrap();
    fails_with(&bin(), &["plot", "o"], d, "were being written when a run stopped");
    // Running again completes the folder, and it draws.
    ok_in(&bin(), &["run", "--quiet", "--out", "o", "a.ron"], d);
    ok_in(&bin(), &["plot", "o"], d);
}

/// Issue 11: the unpaired CI used a Welch standard error with `n_a + n_b − 2`
/// degrees of freedom. Hand computation for a = 1, 2, 3, 4 and b = 2, 4, 6:
/// s_a²/n_a = 1.6667/4 = 0.41667, s_b²/n_b = 4/3 = 1.33333, se² = 1.75,
/// df = 1.75² / (0.41667²/3 + 1.33333²/2) = 3.0625 / 0.94676 = 3.2347, and
/// t(0.975; 3.2347) = 3.0557 (bisection on the Student-t density integrated
/// numerically, independent of statrs), so the half-width is
/// 3.0557 × √1.75 = 4.0423.
#[test]
fn issue_11_unpaired_ci_uses_welch_degrees_of_freedom() {
    use coinfer::metrics::stats::unpaired_ci95;
    let ci = unpaired_ci95(&[1.0, 2.0, 3.0, 4.0], &[2.0, 4.0, 6.0]);
    assert!((ci - 4.0423).abs() < 1e-3, "{ci}");
    // With pooled n_a + n_b − 2 = 5 degrees of freedom it would be 2.571 × 1.3229 = 3.401.
    assert_eq!(unpaired_ci95(&[1.0, 1.0], &[2.0, 2.0, 2.0]), 0.0);
    assert!(unpaired_ci95(&[1.0], &[2.0, 3.0]).is_nan());
    // Found by fuzzing: infinite variances gave NaN degrees of freedom, and
    // the t quantile panicked.
    assert!(unpaired_ci95(&[1e308, -1e308], &[1.0, 2.0]).is_nan());
    assert!(coinfer::metrics::stats::mean_ci95([1e308, -1e308].into_iter())
        .1
        .is_infinite());
}

/// Issue 10: `Periodic(period_s: 1e15, jitter_s: 0.05)` panicked with
/// "fading block 2 already forgotten" (the arrival time wrapped around).
#[test]
fn issue_10_huge_period_runs_without_requests() {
    let s =
        run_quiet("(horizon_s: 2.0, seeds: 2, agents: (arrivals: Periodic(period_s: 1e15, jitter_s: 0.05)))");
    assert_eq!(column(&s, "requests"), ["0"], "{s}");
}

/// Decisions of `paper_joint`, `paper_joint_repaired` and `exhaustive` at every
/// point of a shipped scenario, at SNRs from −5 to 40 dB.
fn decisions_across_channels(
    file: &str,
    mut check: impl FnMut(&coinfer::model::System, f64, [coinfer::policy::Decision; 3]),
) {
    use coinfer::policy::DecisionContext;
    use coinfer::rng::{stream, Purpose, StreamId};
    let raw = crate::util::raw(&root().join("scenarios").join(file));
    let channel = raw.channel.clone();
    let study = crate::util::compile(raw);
    let find = |name: &str| study.policies.iter().find(|p| p.label == name).unwrap();
    let policies = ["paper_joint", "paper_joint_repaired", "exhaustive"].map(find);
    for point in &study.points {
        let system = &point.system;
        for snr_db in (-5..=40).step_by(3) {
            let snr = 10f64.powf(snr_db as f64 / 10.0);
            let rate = channel.rate(snr);
            let ctx = DecisionContext::one_shot(system, snr);
            let d = policies.map(|p| {
                p.factory
                    .build(stream(1, StreamId::new(Purpose::Policy, 0)))
                    .decide(&ctx)
            });
            check(system, rate.0, d);
        }
    }
}

/// Issue 11: `paper_joint` called a budget-breaking decision feasible
/// (3.12 J against the 3 J budget on `paper.ron`). Its `feasible` now
/// describes the executed decision: recomputed here from the formulas
/// (SPEC 4.2–4.3), independently of the solver.
#[test]
fn issue_11_paper_joint_feasible_describes_the_executed_decision() {
    let mut broke = 0;
    for file in ["paper.ron", "budgets.ron"] {
        decisions_across_channels(file, |s, rate_bps, [pj, _, _]| {
            let n_a: f64 = s.laim.blocks[..s.laim.split].iter().map(|b| b.params).sum();
            let n_s: f64 = s.laim.blocks[s.laim.split..].iter().map(|b| b.params).sum();
            let (a, v) = (&s.agent_cpu, &s.server_cpu);
            let c_a = a.cycles_per_weight_bit * n_a * f64::from(pj.bits_agent.get());
            let c_s = v.cycles_per_weight_bit * n_s * f64::from(pj.bits_server.get());
            let t_tx = s.laim.payload_bits / rate_bps;
            let (f_a, f_s) = (pj.freq_agent.0, pj.freq_server.0);
            let time = c_a / f_a + t_tx + c_s / f_s;
            let energy = a.kappa * c_a * f_a * f_a + a.static_power.0 * c_a / f_a + s.tx_power.0 * t_tx;
            let ok =
                time <= s.deadline.as_secs() * (1.0 + 1e-9) && energy <= s.energy_budget.0 * (1.0 + 1e-9);
            assert_eq!(
                pj.feasible, ok,
                "{file}: {pj:?}: time {time} s, energy {energy} J"
            );
            broke += pj.rounding_broke_budget as u32;
        });
    }
    assert!(
        broke > 0,
        "the scenarios should include decisions that rounding breaks"
    );
}

/// Issue 11: `paper_joint_repaired` is feasible wherever `exhaustive` is, and
/// never worse than `paper_joint` where that is feasible.
#[test]
fn issue_11_paper_joint_repaired_is_feasible_where_exhaustive_is() {
    let (mut repaired_better, mut cases) = (0, 0);
    for file in ["paper.ron", "budgets.ron"] {
        decisions_across_channels(file, |s, _, [pj, rep, ex]| {
            let d_u = |d: &coinfer::policy::Decision| s.upper.pair(d.bits_agent, d.bits_server);
            cases += 1;
            assert_eq!(
                rep.feasible, ex.feasible,
                "{file}: repaired {rep:?} vs exhaustive {ex:?}"
            );
            if rep.feasible {
                assert!(d_u(&rep) >= d_u(&ex) * (1.0 - 1e-12), "beats the optimum?");
            }
            if pj.feasible {
                assert!(
                    d_u(&rep) <= d_u(&pj),
                    "{file}: repaired {rep:?} worse than {pj:?}"
                );
            }
            repaired_better += (rep.feasible && !pj.feasible) as u32;
        });
    }
    assert!(
        repaired_better > 0,
        "no case where the repair mattered ({cases} cases)"
    );
}

/// Issue 11: an optimising policy that found nothing feasible fell back to
/// 2/2 bits silently. `on_infeasible` chooses the fallback; `Skip` does not
/// process the frame and counts it in `skip_rate`.
#[test]
fn issue_11_on_infeasible_chooses_the_fallback() {
    // A 10 ms deadline no decision meets; a 0.3 J budget that 2 bits meet
    // only at 0.8 GHz (κ·c·N·b·f² = 2e-27 × 0.05 × 1.107e9 × 2 × f²: 0.14 J
    // at 0.8 GHz, 0.32 J at 1.2 GHz, 0.89 J at 2 GHz).
    let s = run_quiet(
        r#"(horizon_s: 3.0, seeds: 2, agents: (deadline_s: 0.01, energy_budget_j: 0.3),
            policies: [(name: "exhaustive"), (name: "exhaustive", on_infeasible: FastestFeasibleLatency),
                       (name: "exhaustive", on_infeasible: Skip)])"#,
    );
    let col = |name: &str| column(&s, name);
    assert_eq!(
        col("policy"),
        [
            "exhaustive",
            "exhaustive[fastestfeasiblelatency]",
            "exhaustive[skip]"
        ]
    );
    assert_eq!(col("infeasible_rate")[..2], ["1", "1"]);
    assert_eq!(col("bits_agent_mean")[..2], ["2", "2"]);
    assert_eq!(col("freq_agent_mean_ghz")[..2], ["2", "0.8"]);
    assert_eq!(col("budget_violation_rate")[..2], ["1", "0"]);
    assert_eq!(col("skip_rate"), ["0", "0", "1"]);
    assert_eq!(col("completed")[2], "0");
}

/// Review of issue 9: sweeping a variant and one of its fields panicked
/// ("valid path") in one order and silently gave identical rows in the other.
#[test]
fn issue_9_overlapping_sweep_axes_are_refused() {
    for axes in [
        r#"(param: "agents.arrivals", values: [{"Poisson": {"rate_hz": 2.0}}]), (param: "agents.arrivals.Periodic.period_s", values: [0.1, 0.2])"#,
        r#"(param: "agents.arrivals.Periodic.period_s", values: [0.1, 0.2]), (param: "agents.arrivals", values: [{"Poisson": {"rate_hz": 2.0}}])"#,
        r#"(param: "channel.fading", values: ["Rayleigh"]), (param: "channel.fading", values: ["None"])"#,
    ] {
        let err = compile_err(&format!("(sweep: [{axes}])"));
        assert!(err.contains("sweep[1].param") && err.contains("overlap"), "{err}");
    }
}

/// Review of issue 10: reachable panics and silent infinities.
#[test]
fn issue_10_more_edges_are_errors_not_panics_or_infinities() {
    let err = compile_err("(base_seed: 18446744073709551610, seeds: 10)");
    assert!(
        err.contains("field `base_seed`") && err.contains("expected base_seed <="),
        "{err}"
    );
    let err = compile_err("(agents: (cpu: (freq_range_ghz: (1.0, 1e300))))");
    assert!(
        err.contains("agents.cpu.freq_range_ghz") && err.contains("GHz"),
        "{err}"
    );
    let err = compile_err("(server: (cpu: (freqs_ghz: [2e9])))");
    assert!(err.contains("server.cpu.freqs_ghz"), "{err}");
    let tmp = tempfile::tempdir().unwrap();
    let paper = root().join("scenarios/paper.ron");
    for flag in ["--net-width", "--net-depth", "--samples"] {
        let o = coinfer_in(
            &bin(),
            &["distortion", paper.to_str().unwrap(), flag, "0"],
            tmp.path(),
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && !err.contains("panicked") && err.contains(flag),
            "{flag}: {err}"
        );
    }
    // A histogram that is not hex text in histograms.json.
    let d = tmp.path();
    std::fs::write(d.join("s.ron"), "(horizon_s: 1.0, seeds: 2)").unwrap();
    ok_in(&bin(), &["run", "--quiet", "--out", "o", "s.ron"], d);
    let h = d.join("o/histograms.json");
    let text = std::fs::read_to_string(&h).unwrap();
    let start = text.find("\"hdr_v2\":\"").unwrap() + 10;
    std::fs::write(&h, format!("{}é{}", &text[..start], &text[start + 2..])).unwrap();
    let o = coinfer_in(&bin(), &["plot", "o"], d);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && !err.contains("panicked") && err.contains("not hex"),
        "{err}"
    );
}

/// Review of issue 9: `solve` took the first point's system but the base
/// scenario's distance, and printed a huge number for "no deadline".
#[test]
fn issue_9_solve_works_at_one_named_sweep_point() {
    let paper = root().join("scenarios/paper.ron");
    let tmp = tempfile::tempdir().unwrap();
    let o = ok_in(
        &bin(),
        &["solve", "--json", "--point", "8", paper.to_str().unwrap()],
        tmp.path(),
    );
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["params"]["agents.mobility.Static.distance_m"], "200.0");
    // 23 dBm − (46.4 + 30·log10 200 = 115.4 dB) − (−174 + 7 + 73.0 dBm) = 1.6 dB.
    assert!((doc["snr_db"].as_f64().unwrap() - 1.59).abs() < 0.05, "{doc}");
    std::fs::write(tmp.path().join("n.ron"), "(agents: (deadline_s: None))").unwrap();
    let o = ok_in(&bin(), &["solve", "--json", "n.ron"], tmp.path());
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(doc["deadline_s"].is_null(), "{doc}");
}

/// Review of issue 9: the adaptive merge test ran every point to
/// `max_seeds`. Here one point is exactly reproducible (no fading, all runs
/// alike: its CIs are 0) and stops after its first batch, the other fades and
/// runs to `max_seeds`; merge must replay exactly that, and refuse a run
/// beyond where the plan stops.
#[test]
fn issue_9_adaptive_merge_replays_an_early_stop() {
    use coinfer::shard::{decode, encode, BatchId};
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(
        d.join("a.ron"),
        r#"(horizon_s: 3.1, seeds: 3, ci_rel: 0.01, max_seeds: 9,
            policies: [(name: "fixed", bits_agent: 2, bits_server: 2)],
            sweep: [(param: "channel.fading", values: ["None", "Rayleigh"])])"#,
    )
    .unwrap();
    ok_in(&bin(), &["run", "--quiet", "--out", "o", "a.ron"], d);
    let s = std::fs::read_to_string(d.join("o/summary.csv")).unwrap();
    assert_eq!(column(&s, "seeds"), ["3", "9"], "{s}");
    ok_in(&bin(), &["merge", "o", "--out", "m"], d);
    same_files(&d.join("o"), &d.join("m"), &RESULT_FILES);
    // A batch of 5 more runs for the point that stopped at 3 seeds.
    let shard = d.join("o/shards/0-of-1");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(shard.join("manifest.json")).unwrap()).unwrap();
    let hash = manifest["scenario_hash"].as_str().unwrap().to_string();
    let id = |point, batch| BatchId {
        scenario_hash: hash.clone(),
        shard: (0, 1),
        point,
        batch,
    };
    let more = decode(&std::fs::read(shard.join("p00001-b0001.bin")).unwrap(), &id(1, 1)).unwrap();
    std::fs::write(shard.join("p00000-b0001.bin"), encode(&id(0, 1), &more)).unwrap();
    fails_with(
        &bin(),
        &["merge", "o", "--out", "x"],
        d,
        "beyond the 3 seeds where its seed plan stops",
    );
}

/// Issue 11: Lloyd–Max started from data quantiles and stopped at 200
/// iterations: κ_Q = measured / D_U was 1.50 at 8 bits and 2.3 at 12 on
/// Exp(λ) weights. Designed on 1e5 weights and scored on a fresh 1e5, it now
/// stays within 5 % of D_U at 4..=12 bits, and below uniform at every width.
#[test]
fn issue_11_lloyd_max_is_converged_and_scored_out_of_sample() {
    use coinfer::quant::{sample_laplace, upper_bound, LloydMax, Quantizer, Uniform};
    use rand::SeedableRng;
    let lambda = 50.0;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let (design, fresh) = (
        sample_laplace(&mut rng, lambda, 100_000),
        sample_laplace(&mut rng, lambda, 100_000),
    );
    let mae = |q: &[f32]| {
        fresh
            .iter()
            .zip(q)
            .map(|(a, b)| f64::from((a - b).abs()))
            .sum::<f64>()
            / fresh.len() as f64
    };
    let mut report = Vec::new();
    for b in 2..=16u8 {
        let bits = crate::util::bw(b);
        let lloyd = mae(&LloydMax::default().design(&design, bits).apply(&fresh));
        let uniform = Uniform::default().distortion(&fresh, bits);
        let kappa = lloyd / upper_bound(bits, lambda);
        report.push(format!(
            "b={b}: kappa {kappa:.4}, uniform {:.4}",
            uniform / upper_bound(bits, lambda)
        ));
        if (4..=12).contains(&b) {
            assert!(kappa <= 1.05, "{}", report.join("\n"));
        }
        assert!(lloyd <= uniform, "{}", report.join("\n"));
    }
    println!("{}", report.join("\n"));
    // A small tensor is no longer memorised: 768 weights at 11 bits.
    let small = sample_laplace(&mut rng, lambda, 768);
    assert!(LloydMax::default().distortion(&small, crate::util::bw(11)) > 0.0);
}
/// Issue 10 (found by fuzzing): `(horizon_s: 1.0, seeds: 4096)` ran for
/// minutes under an estimate of 0.2 s: measuring each seed's distortion
/// table (3 blocks × 1e5 weights × 15 bit-widths) was not counted.
#[test]
fn issue_10_fuzz_distortion_measurement_is_estimated() {
    let seconds = |text: &str| scenario(text).estimate(1).seconds;
    let uniform = seconds("(horizon_s: 1.0, seeds: 4096)");
    assert!(uniform > 60.0, "{uniform} s");
    let lloyd_max = seconds("(horizon_s: 1.0, seeds: 4096, quantizer: (kind: LloydMax))");
    assert!(lloyd_max > 10.0 * uniform, "{lloyd_max} s");
    let e = scenario("(horizon_s: 1.0, seeds: 400000)").estimate(1);
    let err = e.check(&coinfer::study::Limits::default()).unwrap_err();
    assert!(err.contains("quantizer.sample_weights"), "{err}");
}

/// Issue 10 (found by fuzzing): `coherence_s: 1e-9` with `fading: None` ran
/// for minutes under an estimate of 0 s: the link steps through every
/// coherence block whatever the law, and the estimate counted none for `None`.
#[test]
fn issue_10_fuzz_coherence_blocks_without_fading_are_estimated() {
    let e = scenario("(seeds: 1, channel: (coherence_s: 1e-9, fading: None))").estimate(1);
    assert!(e.seconds > 60.0 && e.driver.contains("coherence_s"), "{e:?}");
}

/// Issue 10 (found by fuzzing): after `Poisson(rate_hz: 5e-324)` the next
/// arrival is +inf s away, which failed a debug assertion; it means never.
#[test]
fn issue_10_fuzz_vanishing_poisson_rate_is_not_a_crash() {
    let study = scenario("(horizon_s: 3.0, seeds: 2, agents: (arrivals: Poisson(rate_hz: 5e-324)))");
    let results = coinfer::runner::Runner::new(&study).threads(1).run().unwrap();
    assert!(results.points[0].policies[0].runs.iter().all(|r| r.requests == 0));
}

/// Issue 10 (found by fuzzing): `base_seed: 18446744073709551615` with two
/// seeds overflowed `base_seed + 1` in the runner.
#[test]
fn issue_10_fuzz_seeds_beyond_u64_are_refused() {
    let err = compile_err("(horizon_s: 1.0, seeds: 2, base_seed: 18446744073709551615)");
    assert!(
        err.contains("field `base_seed`") && err.contains("expected base_seed <= 18446744073709551614"),
        "{err}"
    );
    let err = compile_err("(seeds: 2, ci_rel: 0.1, max_seeds: 5, base_seed: 18446744073709551613)");
    assert!(err.contains("base_seed <= 18446744073709551611"), "{err}");
    let study = scenario("(horizon_s: 1.0, seeds: 2, base_seed: 18446744073709551614)");
    coinfer::runner::Runner::new(&study).threads(1).run().unwrap();
}

/// Issue 10 (found by fuzzing): `LogNormal(sigma: 1e308)` overflowed σ², so
/// a service factor was NaN (a failed debug assertion; zero service time in
/// release).
#[test]
fn issue_10_fuzz_huge_log_normal_sigma_is_refused() {
    let err = compile_err("(server: (service: LogNormal(sigma: 1e308)))");
    assert!(err.contains("server.service") && err.contains("[0, 26]"), "{err}");
    let err = compile_err(
        "(sweep: [(param: \"server.service.LogNormal.sigma\", values: [0.3, 1e308])], server: (service: LogNormal(sigma: 0.5)))",
    );
    assert!(
        err.contains("sweep[0].values") && err.contains("[0, 26]"),
        "{err}"
    );
    let study =
        scenario("(horizon_s: 2.0, seeds: 2, agents: (count: 3), server: (service: LogNormal(sigma: 26.0)))");
    coinfer::runner::Runner::new(&study).threads(1).run().unwrap();
}

/// Issue 10 (found by fuzzing): an axis over `agents.arrivals.Periodic.period_s`
/// after one setting `agents.arrivals` to Poisson panicked ("valid path").
#[test]
fn issue_10_fuzz_sweep_axis_inside_a_swept_variant_is_an_error() {
    let err = compile_err(
        r#"(sweep: [(param: "agents.arrivals", values: [{"Poisson": {"rate_hz": 2.0}}]),
                    (param: "agents.arrivals.Periodic.period_s", values: [0.25])])"#,
    );
    assert!(err.contains("sweep[1].param") && err.contains("overlap"), "{err}");
}

/// Issue 10 (found by fuzzing, seed 7 case 1092): `tx_power_dbm: 1e9` is an
/// infinite power; with an infinite rate the transmit energy was inf × 0 = NaN
/// (the engine's debug invariant caught it). Decibel levels are now bounded.
#[test]
fn issue_10_fuzz_absurd_decibels_are_refused() {
    for field in ["tx_power_dbm", "noise_density_dbm_hz", "noise_figure_db"] {
        let err = compile_err(&format!("(channel: ({field}: 1e9))"));
        assert!(
            err.contains(&format!("channel.{field}")) && err.contains("..=300"),
            "{err}"
        );
    }
    let err = compile_err(r#"(sweep: [(param: "channel.tx_power_dbm", values: [1e9, 0.1])])"#);
    assert!(err.contains("sweep") && err.contains("-300..=300"), "{err}");
}

/// Issue 10 (found by fuzzing, seed 8): a static power of 1e308 W made the
/// energies infinite, and the engine's ledger check compared inf with inf as
/// unequal. Static power is bounded, and equal ledgers are equal.
#[test]
fn issue_10_fuzz_infinite_static_power_is_refused() {
    let err = compile_err("(agents: (cpu: (static_power_w: 1e308)))");
    assert!(
        err.contains("agents.cpu.static_power_w") && err.contains("1000000 W"),
        "{err}"
    );
    let err = compile_err(r#"(sweep: [(param: "server.cpu.static_power_w", values: [1e308, 0.5])])"#);
    assert!(err.contains("server.cpu.static_power_w"), "{err}");
}

/// Issue 11: `coinfer distortion` on a profile that fails to load reported
/// only the scenario parser's complaint ("unknown field `source`"), hiding
/// the profile's own error.
#[test]
fn issue_11_distortion_reports_a_broken_profiles_own_error() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(
        d.join("p.ron"),
        "(source: \"m.safetensors\", group_depth: 1, blocks: [(name: \"a\", params: 10, lamda: 3.0)])",
    )
    .unwrap();
    let o = coinfer_in(&bin(), &["distortion", "p.ron", "--out", "x"], d);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(err.contains("as a profile:") && err.contains("lamda"), "{err}");
    assert!(err.contains("as a scenario:"), "{err}");
}

/// Issues 12 and 13, found by fuzzing: a server with no blocks split its
/// batch energy 0/0 = NaN (the debug ledger check fired), Nakagami m = 1e8
/// with correlated blocks hung drawing its Gamma innovations, and a batch
/// cost beta = 1e300 gave NaN energy.
#[test]
fn issue_13_server_without_blocks_and_huge_nakagami_m() {
    let summary = run_quiet("(horizon_s: 3, seeds: 2, model: (split: 3), policies: [(name: \"fixed\", bits_agent: 8, bits_server: 8)])");
    assert_eq!(column(&summary, "server_energy_mean_j")[0], "0");
    let err = compile_err("(channel: (doppler_hz: Some(10.0), fading: Nakagami(m: 100000000)))");
    assert!(
        err.contains("invalid Nakagami m = 100000000") && err.contains("fading: None"),
        "{err}"
    );
    // beta = 1e300 made a batch's cycles infinite and its energy NaN.
    let err = compile_err("(server: (batching: Batch(max_batch: 1, beta: 1e300)))");
    assert!(
        err.contains("server.batching.beta") && err.contains("expected 0 <= beta <= 100"),
        "{err}"
    );
}

/// Issue 12, found by fuzzing: `FixedRate(rate_bps: 1e-300)` hung walking
/// fading blocks towards a packet end beyond any horizon.
#[test]
fn issue_12_fixed_rate_too_slow_to_finish_is_cut_at_the_horizon() {
    let summary =
        run_quiet("(horizon_s: 1, seeds: 2, channel: (link: FixedRate(rate_bps: 1e-300, max_retx: 2)))");
    assert_eq!(column(&summary, "completed")[0], "0");
}
