//! Issue 16: `scenarios/minilm.ron` runs on `profiles/minilm.ron`, whose
//! `A_l` were fitted by `coinfer forward` on all-MiniLM-L6-v2, with no model
//! file; its `distortion_approx` is the calibrated quadrature form
//! `(Σ_l (A_l n_l d_l(b_l))²)^½`, recomputed here from the profile's
//! coefficients and each block's distortion `d_l`.

use crate::util::{bw, column, root, run_in_tmp, scenario};
use coinfer::quant::Aggregation;
use coinfer::scenario::{parse_ron, ProfileFile};

/// `d_l(b)` of block `l` alone: a model with the profile's blocks where only
/// block `l` has a coefficient, `1/n_l`, on the linear form (the reference
/// sample of block `l` depends on its position and `λ_l` only).
fn block_distortion(p: &ProfileFile, l: usize, bits: u8) -> f64 {
    let blocks: Vec<String> = p
        .blocks
        .iter()
        .enumerate()
        .map(|(k, b)| {
            let coef = if k == l { 1.0 / b.params } else { 0.0 };
            format!(
                "(params: {:e}, lambda: {:e}, coef: {coef:e})",
                b.params,
                b.lambda.unwrap()
            )
        })
        .collect();
    let s = scenario(&format!(
        "(model: (combine: Linear, split: 1, blocks: [{}]))",
        blocks.join(", ")
    ));
    s.points[0].system.approx.pair(bw(bits), bw(bits))
}

#[test]
fn minilm_scenario_uses_the_calibrated_quadrature_form() {
    let path = root().join("profiles/minilm.ron");
    let profile: ProfileFile = parse_ron(&path, &std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(profile.combine, Some(Aggregation::Quadrature));
    assert!(
        profile.source.is_none(),
        "the scenario must run without the model file"
    );
    let text = std::fs::read_to_string(root().join("scenarios/minilm.ron")).unwrap();
    let sc = coinfer::scenario::RawScenario::parse(&root().join("scenarios/minilm.ron"), &text).unwrap();
    let split = sc.model.split;
    // The scenario's `fixed` policy: 6 bits on the robot, 8 on the server.
    let (ba, bs) = (6u8, 8u8);
    let terms: Vec<f64> = profile
        .blocks
        .iter()
        .enumerate()
        .map(|(l, b)| {
            let bits = if l < split { ba } else { bs };
            b.coef.unwrap() * b.params * block_distortion(&profile, l, bits)
        })
        .collect();
    let want = terms.iter().map(|t| t * t).sum::<f64>().sqrt();
    let linear: f64 = terms.iter().sum();
    let scenario_text = text.replace("../profiles/", &format!("{}/", root().join("profiles").display()));
    let tmp = run_in_tmp(&scenario_text, &["--seeds", "1"]);
    let csv = std::fs::read_to_string(tmp.path().join("out/summary.csv")).unwrap();
    let policies = column(&csv, "policy");
    let row = policies.iter().position(|p| p.starts_with("fixed")).unwrap();
    assert_eq!(column(&csv, "bits_agent_mean")[row], ba.to_string());
    let got: f64 = column(&csv, "distortion_approx_mean")[row].parse().unwrap();
    assert!((got - want).abs() <= 1e-9 * want, "{got} vs {want}");
    assert!(got < 0.5 * linear, "quadrature, not the linear sum {linear}");
}
