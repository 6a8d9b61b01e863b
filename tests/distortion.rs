//! `coinfer profile` and `coinfer distortion` end to end, and the measured
//! distortion of simulated requests on real tensors.

use crate::quant::write_checkpoint;
use crate::util::{bin, bw, root};
use coinfer::quant::{load_block_weights, lower_bound, Quantizer, Uniform};
use coinfer::units::Bits;
use std::process::Command;

fn coinfer(args: &[&str], dir: &std::path::Path) -> std::process::Output {
    let o = Command::new(bin()).args(args).current_dir(dir).output().unwrap();
    assert!(
        o.status.success(),
        "coinfer {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn column(csv_text: &str, name: &str) -> Vec<String> {
    let mut r = csv::Reader::from_reader(csv_text.as_bytes());
    let i = r.headers().unwrap().iter().position(|h| h == name).unwrap();
    r.records().map(|rec| rec.unwrap()[i].to_string()).collect()
}

#[test]
fn profile_feeds_a_scenario_whose_measured_distortion_uses_real_tensors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_checkpoint(&d.join("model.safetensors"));
    std::fs::create_dir(d.join("prof")).unwrap();
    let o = coinfer(
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
    coinfer(&["run", "--quiet", "--out", "out", "sc.ron"], d);
    let summary = std::fs::read_to_string(d.join("out/summary.csv")).unwrap();
    let got: f64 = column(&summary, "distortion_measured_mean")[0].parse().unwrap();
    // Independently: Σ A_l n_l d_l(b) with A_l = 1/Σn, uniform quantizer on
    // every weight of each block (the sample cap exceeds the block sizes).
    let file = d.join("model.safetensors");
    let enc = load_block_weights(&file, "enc.layers", 2, usize::MAX).unwrap();
    let dec = load_block_weights(&file, "dec.head", 2, usize::MAX).unwrap();
    let q = Uniform { group_size: None };
    let n = (enc.len() + dec.len()) as f64;
    let expected =
        (enc.len() as f64 * q.distortion(&enc, bw(4)) + dec.len() as f64 * q.distortion(&dec, bw(6))) / n;
    assert!((got - expected).abs() <= 1e-12 * expected, "{got} vs {expected}");
    // Real weights are the same for every seed.
    assert!(matches!(
        column(&summary, "distortion_measured_mean_ci95")[0].as_str(),
        "0" | ""
    ));

    // `coinfer distortion` on the profile measures the same d on the same tensors.
    coinfer(
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
    assert!((enc_d - q.distortion(&enc, bw(4))).abs() < 1e-15);
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
    let o = coinfer(&args, d);
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
        "D_U (upper bound)",
        "D_L (lower bound)",
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
