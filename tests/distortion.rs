//! `coinfer profile` and `coinfer distortion` end to end, and the measured
//! distortion of simulated requests on real tensors.

use crate::quant::write_checkpoint;
use crate::util::{bin, bw, column, ok_in, root};
use coinfer::quant::{lower_bound, Checkpoint, Quantizer, Uniform};
use coinfer::units::Bits;
use std::process::Command;

#[test]
fn profile_feeds_a_scenario_whose_measured_distortion_uses_real_tensors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_checkpoint(&d.join("model.safetensors"));
    std::fs::create_dir(d.join("prof")).unwrap();
    let o = ok_in(
        &bin(),
        &[
            "profile",
            "model.safetensors",
            "--group-by",
            "2",
            "--out",
            "prof/model.ron",
        ],
        d,
    );
    let report = String::from_utf8(o.stderr).unwrap();
    assert!(
        report.contains("enc.layers") && report.contains("skipped meta.step (I64)"),
        "{report}"
    );
    let profile = std::fs::read_to_string(d.join("prof/model.ron")).unwrap();
    assert!(profile.contains("source: \"../model.safetensors\""), "{profile}");

    std::fs::write(
        d.join("sc.ron"),
        r#"(name: "real", horizon_s: 3.0, seeds: 3,
            model: (profile: "prof/model.ron", split: 1, payload_bits: 1e5),
            quantizer: (kind: Uniform(), sample_weights: 1000000),
            policies: [(name: "fixed", bits_agent: 4, bits_server: 6)])"#,
    )
    .unwrap();
    ok_in(&bin(), &["run", "--quiet", "--out", "out", "sc.ron"], d);
    let summary = std::fs::read_to_string(d.join("out/summary.csv")).unwrap();
    let got: f64 = column(&summary, "distortion_measured_mean")[0].parse().unwrap();
    // Independently: Σ A_l n_l d_l(b) with A_l = 1/Σn, the uniform quantizer
    // applied to each whole tensor with its own scale (the sample budget
    // exceeds the block sizes, so every weight is scored).
    let ck = Checkpoint::open(&d.join("model.safetensors")).unwrap();
    let tensor = |name: &str| {
        let t = ck.tensors.iter().find(|t| t.name == name).unwrap();
        let w = ck.weights(t);
        w.slice(0..w.len())
    };
    let q = Uniform { group_size: None };
    let sum_nd = |names: &[&str], b: u8| -> f64 {
        names
            .iter()
            .map(|n| {
                let w = tensor(n);
                w.len() as f64 * q.distortion(&w, bw(b))
            })
            .sum()
    };
    let enc_nd = sum_nd(&["enc.layers.0.weight", "enc.layers.1.weight"], 4);
    let expected = (enc_nd + sum_nd(&["dec.head.weight"], 6)) / 100_000.0;
    assert!((got - expected).abs() <= 1e-12 * expected, "{got} vs {expected}");
    // Real weights are the same for every seed.
    assert!(matches!(
        column(&summary, "distortion_measured_mean_ci95")[0].as_str(),
        "0" | ""
    ));

    // `coinfer distortion` on the profile measures the same d on the same tensors.
    ok_in(
        &bin(),
        &[
            "distortion",
            "prof/model.ron",
            "--bits",
            "4",
            "--quantizers",
            "uniform",
            "--samples",
            "1000000",
            "--net-width",
            "32",
            "--out",
            "dist",
        ],
        d,
    );
    let csv_text = std::fs::read_to_string(d.join("dist/distortion.csv")).unwrap();
    let measured = column(&csv_text, "measured");
    assert_eq!(column(&csv_text, "block"), ["enc.layers", "dec.head"]);
    let enc_d: f64 = measured[0].parse().unwrap();
    assert!((enc_d - enc_nd / 80_000.0).abs() < 1e-15);
    let json = std::fs::read_to_string(d.join("dist/distortion.json")).unwrap();
    assert!(json.contains("references, not guarantees"));
}

#[test]
fn distortion_on_synthetic_weights_stays_above_the_lower_bound() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let paper = root().join("scenarios/paper.ron");
    let args = [
        "distortion",
        paper.to_str().unwrap(),
        "--bits",
        "2,8",
        "--quantizers",
        "uniform,pot_log",
        "--samples",
        "20000",
        "--out",
        "d",
    ];
    let o = ok_in(&bin(), &args, d);
    let table = String::from_utf8(o.stdout).unwrap();
    assert!(
        table.contains("block language_model") && table.contains("kappa"),
        "{table}"
    );
    let text = std::fs::read_to_string(d.join("d/distortion.csv")).unwrap();
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let mut rows = 0;
    for rec in r.records() {
        let rec = rec.unwrap();
        let (bits, lambda, measured): (Bits, f64, f64) = (
            bw(rec[4].parse().unwrap()),
            rec[2].parse().unwrap(),
            rec[5].parse().unwrap(),
        );
        // 2e4 samples: relative standard error < 1 %.
        assert!(measured >= 0.97 * lower_bound(bits, lambda), "{rec:?}");
        rows += 1;
    }
    assert_eq!(rows, 3 * 2 * 2);
    let out = std::fs::read_to_string(d.join("d/output.csv")).unwrap();
    assert!(out.lines().any(|l| l.contains(",heldout,")));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("d/distortion.json")).unwrap()).unwrap();
    let quad = json["calibration"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["quantizer"] == "uniform" && c["form"] == "quadrature")
        .unwrap();
    assert!(quad["r2"].as_f64().unwrap() >= 0.9, "{quad}");
    // Its figures: per-weight distortion per block, and the output approximation.
    let svg = std::fs::read_to_string(d.join("d/plots/distortion_language_model.svg")).unwrap();
    for text in [
        "DU (upper bound)",
        "DL (lower bound)",
        "uniform",
        "pot_log",
        "Bit-width b (bits)",
    ] {
        assert!(svg.contains(text), "lacks {text}");
    }
    let svg = std::fs::read_to_string(d.join("d/plots/output_approximation.svg")).unwrap();
    assert!(svg.contains("uniform quadrature") && svg.contains("Predicted output distortion"));
}

#[test]
fn profile_of_a_non_safetensors_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.safetensors"), "hello, not a model").unwrap();
    let o = Command::new(bin())
        .args(["profile", "x.safetensors"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("x.safetensors") && err.contains("not a valid safetensors file"),
        "{err}"
    );
}

/// Issue 11.4: `combine: Quadrature` gives `√(Σ_l (A_l n_l d_l)²)`; with
/// the same blocks and one block per side it is the hypotenuse of the
/// linear table's two sides, and with two blocks on a side their squares add.
#[test]
fn quadrature_combines_block_terms_as_a_root_sum_of_squares() {
    let model = |combine: &str| {
        crate::util::scenario(&format!(
            "(model: (combine: {combine}, split: 2, blocks: [(params: 1e6, lambda: 50), (params: 2e6, lambda: 80), (params: 3e6, lambda: 60)]))"
        ))
    };
    let (lin, quad) = (model("Linear"), model("Quadrature"));
    let (lin, quad) = (&lin.points[0].system, &quad.points[0].system);
    // Per-block terms from single-block models (same reference weights: the
    // reference sample of block l is drawn from stream l).
    let term = |l: usize, b: u8| {
        let blocks: Vec<String> = (0..3)
            .map(|k| {
                let (n, lambda) = [(1e6, 50), (2e6, 80), (3e6, 60)][k];
                let coef = if k == l { 1.0 / 6e6 } else { 0.0 };
                format!("(params: {n:e}, lambda: {lambda}, coef: {coef:e})")
            })
            .collect();
        let s = crate::util::scenario(&format!("(model: (split: 2, blocks: [{}]))", blocks.join(", ")));
        s.points[0].system.approx.pair(bw(b), bw(b))
    };
    for (a, s) in [(2u8, 2u8), (4, 8), (8, 4), (16, 3)] {
        let t = [term(0, a), term(1, a), term(2, s)];
        let want_lin = t.iter().sum::<f64>();
        let want_quad = t.iter().map(|x| x * x).sum::<f64>().sqrt();
        let (got_lin, got_quad) = (lin.approx.pair(bw(a), bw(s)), quad.approx.pair(bw(a), bw(s)));
        assert!(
            (got_lin - want_lin).abs() <= 1e-12 * want_lin,
            "{a}/{s}: {got_lin} vs {want_lin}"
        );
        assert!(
            (got_quad - want_quad).abs() <= 1e-12 * want_quad,
            "{a}/{s}: {got_quad} vs {want_quad}"
        );
        assert!(got_quad < got_lin);
    }
    // The bounds stay linear.
    assert_eq!(lin.upper, quad.upper);
}

/// Issue 11.4: `distortion --fit-profile` writes the blocks with fitted A_l
/// and `combine`; a scenario using that profile picks both up and runs
/// `exhaustive` with `objective: approx` on the quadrature form.
#[test]
fn fitted_profile_feeds_the_approx_objective() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_checkpoint(&d.join("model.safetensors"));
    ok_in(
        &bin(),
        &["profile", "model.safetensors", "--out", "p/model.ron"],
        d,
    );
    let o = ok_in(
        &bin(),
        &[
            "distortion",
            "p/model.ron",
            "--bits",
            "4",
            "--quantizers",
            "uniform",
            "--net-width",
            "32",
            "--out",
            "dist",
            "--fit-profile",
            "fit/fitted.ron",
        ],
        d,
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("A_l for Quadrature; held-out R2"));
    let text = std::fs::read_to_string(d.join("fit/fitted.ron")).unwrap();
    assert!(
        text.contains("combine: Quadrature") && text.contains("source: \"../model.safetensors\""),
        "{text}"
    );
    std::fs::write(
        d.join("s.ron"),
        r#"(seeds: 1, horizon_s: 10, model: (profile: "fit/fitted.ron", split: 1, payload_bits: 1e5),
            agents: (deadline_s: Some(1.0)),
            policies: [(name: "exhaustive", objective: approx)])"#,
    )
    .unwrap();
    let study = coinfer::study::Study::load(&d.join("s.ron"), &Default::default()).unwrap();
    let sys = &study.points[0].system;
    assert_eq!(
        study.scenario().model.combine,
        Some(coinfer::quant::Aggregation::Quadrature)
    );
    assert!(
        sys.laim.blocks.iter().all(|b| b.coef != 1.0 / 100_000.0),
        "fitted coefficients used"
    );
    // `solve` reports the quadrature approximation of the decision.
    let out = ok_in(&bin(), &["solve", "s.ron", "--json"], d);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let dec = &json["policies"][0];
    let (a, s) = (
        dec["bits_agent"].as_u64().unwrap() as u8,
        dec["bits_server"].as_u64().unwrap() as u8,
    );
    let want = sys.approx.pair(bw(a), bw(s));
    assert!((dec["distortion_approx"].as_f64().unwrap() - want).abs() <= 1e-12 * want);
    ok_in(&bin(), &["run", "--quiet", "--out", "out", "s.ron"], d);
}
