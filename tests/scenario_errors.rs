//! Bad scenario files get clear errors with file, line, column and field, and
//! nothing is written.

use crate::util::bin;
use std::process::Command;

/// Writes `text` to a scenario file, runs `coinfer run` on it, and returns
/// stderr; asserts it failed and created no output folder.
fn run_bad(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.ron");
    std::fs::write(&path, text).unwrap();
    let out = dir.path().join("out");
    let o = Command::new(bin())
        .args(["run", "--quiet", "--out"])
        .arg(&out)
        .arg(&path)
        .output()
        .unwrap();
    assert!(!o.status.success(), "accepted:\n{text}");
    assert!(!out.exists(), "output folder created on error");
    String::from_utf8(o.stderr).unwrap()
}

fn expect(text: &str, parts: &[&str]) {
    let err = run_bad(text);
    for p in parts {
        assert!(err.contains(p), "error message\n  {err}\nlacks `{p}`");
    }
}

#[test]
fn syntax_error_has_line_and_column() {
    expect(
        "(\n  horizon_s: 10.0,\n  seeds: 3\n  warmup_s: 1.0,\n)",
        &["bad.ron:4:", "Expected"],
    );
}

#[test]
fn non_positive_bandwidth() {
    expect(
        "(\n  channel: (\n    bandwidth_hz: -2e6,\n  ),\n)",
        &[
            "bad.ron:3:",
            "channel.bandwidth_hz",
            "invalid value -2000000",
            "expected a finite number > 0",
        ],
    );
}

#[test]
fn bits_out_of_range() {
    expect(
        "(policies: [\n (name: \"fixed\", bits_agent: 17),\n])",
        &[
            "bad.ron:2:",
            "policies[0].bits_agent",
            "invalid bit-width 17",
            "2..=16",
        ],
    );
}

#[test]
fn split_beyond_the_model() {
    expect(
        "(\n model: (\n  blocks: [(params: 1e6, lambda: 10.0)],\n  split: 3,\n ),\n)",
        &[
            "bad.ron:4:",
            "model.split",
            "invalid value 3",
            "0..=1",
            "the model has 1 blocks",
        ],
    );
}

#[test]
fn empty_frequency_list() {
    expect(
        "(agents: (cpu: (freqs_ghz: [], cycles_per_weight_bit: 0.05, kappa: 2e-27)))",
        &["bad.ron:1:", "agents.cpu.freqs_ghz", "empty list"],
    );
}

#[test]
fn unknown_policy_lists_known_names() {
    expect(
        "(\n policies: [\n  (name: \"fixed\"),\n  (name: \"greedy\"),\n ],\n)",
        &[
            "bad.ron:4:",
            "policies[1].name",
            "unknown policy \"greedy\"",
            "expected one of fixed",
        ],
    );
}

#[test]
fn nan_is_rejected() {
    expect(
        "(\n  horizon_s: NaN,\n)",
        &["bad.ron:2:", "horizon_s", "invalid value NaN", "finite"],
    );
}

#[test]
fn infinity_is_rejected() {
    expect(
        "(agents: (deadline_s: inf))",
        &["agents.deadline_s", "invalid value inf"],
    );
}

#[test]
fn warmup_not_below_horizon() {
    expect(
        "(\n  horizon_s: 5.0,\n  warmup_s: 5.0,\n)",
        &["bad.ron:3:", "warmup_s", "shorter than horizon_s = 5"],
    );
}

#[test]
fn unknown_field_lists_valid_ones() {
    expect(
        "(\n  agents: (cuont: 3),\n)",
        &["bad.ron:2:", "agents", "cuont", "count"],
    );
}

#[test]
fn unknown_enum_variant_lists_valid_ones() {
    expect(
        "(channel: (fading: Rayleih))",
        &["channel.fading", "Rayleih", "Rayleigh", "Nakagami"],
    );
}

#[test]
fn zero_agents() {
    expect("(agents: (count: 0))", &["agents.count", "count >= 1"]);
}

#[test]
fn duplicate_policy_labels() {
    expect(
        "(policies: [(name: \"fixed\", bits_agent: 8, bits_server: 8), (name: \"fixed\", bits_agent: 8, bits_server: 8)])",
        &["policies[1].label", "duplicate policy label \"fixed_8_8\""],
    );
}

#[test]
fn option_not_for_this_policy() {
    // `fixed` has options bits_agent/bits_server only; a made-up field is unknown.
    expect(
        "(policies: [(name: \"fixed\", gap: 1.0)])",
        &[
            "bad.ron:1:",
            "policies[0].gap",
            "Unexpected field named `gap`",
            "bits_agent",
        ],
    );
}

#[test]
fn jitter_not_below_period() {
    expect(
        "(agents: (arrivals: Periodic(period_s: 0.1, jitter_s: 0.2)))",
        &["agents.arrivals.jitter_s", "below period_s = 0.1"],
    );
}

#[test]
fn missing_file() {
    let o = Command::new(bin())
        .args(["run", "/nonexistent/x.ron"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/x.ron: cannot read"));
}

/// A scenario whose one sweep axis has `values` on line 3.
fn generator(values: &str) -> String {
    format!("(\n  sweep: [(param: \"channel.tx_power_dbm\",\n    values: {values}),\n  ],\n)")
}

#[test]
fn bad_generators_name_the_axis() {
    let cases = [
        ("Range(start: 1, stop: 5, step: 0)", "step 0 never reaches stop"),
        (
            "Range(start: 1.0, stop: 5.0, step: -1.0)",
            "goes away from stop = 5",
        ),
        ("Range(start: 5, stop: 1, step: 1)", "expected a step < 0"),
        (
            "Logspace(start: 0, stop: 100, n: 3)",
            "invalid start = 0: Logspace takes the values themselves",
        ),
        ("Logspace(start: 1, stop: -10.0, n: 3)", "invalid stop = -10.0"),
        (
            "Linspace(start: 0.0, stop: 1.0, n: 0)",
            "invalid n = 0: expected a whole number >= 1",
        ),
        ("Linspace(start: 0.0, stop: 1.0, n: 2.5)", "invalid n = 2.5"),
        (
            "Linspace(start: 0.0, stop: 1.0, n: 1000000000)",
            "Linspace gives about 1.000e9 values: expected at most 100000",
        ),
        (
            "Range(start: 0, stop: 1e9, step: 1)",
            "Range gives about 1.000e9 values",
        ),
        ("Range(start: 0, stop: 10)", "Range needs `step`"),
        (
            "Range(start: 0, stop: NaN, step: 1)",
            "`stop: NaN` is not a number",
        ),
        ("Lnispace(start: 0, stop: 1, n: 2)", "did you mean `Linspace`?"),
        // Review of issue 14: these gave ten 1.0s, five 100.0s and a lone 1.
        (
            "Range(start: 1, stop: 1.00000000000001, step: 1e-15)",
            "repeats values once rounded",
        ),
        (
            "Linspace(start: 100, stop: 100.0000000001, n: 5)",
            "repeats values once rounded",
        ),
        ("Linspace(start: 1, stop: 2, n: 1)", "n = 1 gives start alone"),
    ];
    for (values, message) in cases {
        expect(&generator(values), &["bad.ron:3:", "sweep[0].values", message]);
    }
}
