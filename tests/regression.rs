//! Regression tests, named after the issue that reported the bug.

use crate::util::{bin, root, scenario};
use coinfer::policy::Registry;
use coinfer::study::Study;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn coinfer_in(exe: &Path, args: &[&str], dir: &Path) -> Output {
    Command::new(exe).args(args).current_dir(dir).output().unwrap()
}

fn ok_in(exe: &Path, args: &[&str], dir: &Path) -> Output {
    let o = coinfer_in(exe, args, dir);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
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

const RESULT_FILES: [&str; 4] = ["summary.csv", "paired.csv", "histograms.json", "scenario.ron"];

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
    assert_eq!(c.agents.cpu.freqs_ghz, Some(vec![1.0, 2.0]));
    assert_eq!(c.agents.cpu.cycles_per_weight_bit, Some(0.05));
    assert_eq!(c.agents.cpu.kappa, Some(2e-27));
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
    ok_in(
        &bin(),
        &["run", "--quiet", "--resume", "--out", "cut", "a.ron"],
        d,
    );
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

fn run_quiet(text: &str) -> String {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("s.ron"), text).unwrap();
    ok_in(&bin(), &["run", "--quiet", "--out", "out", "s.ron"], tmp.path());
    std::fs::read_to_string(tmp.path().join("out/summary.csv")).unwrap()
}

fn column(csv_text: &str, name: &str) -> Vec<String> {
    let mut r = csv::Reader::from_reader(csv_text.as_bytes());
    let i = r.headers().unwrap().iter().position(|h| h == name).unwrap();
    r.records().map(|rec| rec.unwrap()[i].to_string()).collect()
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
        err.contains("sample_weights") && err.contains("1..=100000000"),
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
    let o = coinfer_in(&bin(), &["run", "--quiet", "--out", "taken", "s.ron"], tmp.path());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("taken is a file: expected a folder"),
        "{err}"
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
    let lock = coinfer::fsio::try_lock_dir(&d.join("held")).unwrap().unwrap();
    let o = coinfer_in(&bin(), &["run", "--quiet", "--out", "held", "s.ron"], d);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("in use by another coinfer process"),
        "{err}"
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
    assert!(
        err.contains("sweep[1].param")
            && err.contains("`agents.arrivals.Periodic.period_s` is not a field")
            && err.contains("once `agents.arrivals` = {\"Poisson\":{\"rate_hz\":2.0}}"),
        "{err}"
    );
}
