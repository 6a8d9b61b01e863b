//! Integration tests of `coinfer::quant`: quantizers against the
//! rate–distortion bounds, Laplace fitting, safetensors profiling, NNLS and
//! the calibrated output-distortion model.

use std::path::Path;

use crate::util::bw;

use coinfer::quant::{
    block_of, calibrate, fit_lambda, kappa_q, ks_distance, lower_bound, mean_abs_error,
    measure_output_distortion, nnls, profile_safetensors, random_inputs, sample_laplace, upper_bound,
    Aggregation, CalibrationDesign, Checkpoint, LloydMax, NetConfig, PotLog, ProfileError, Quantize,
    Quantizer, QuantizerKind, SyntheticNet, Uniform, NAMES,
};
use nalgebra::{DMatrix, DVector};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use safetensors::tensor::TensorView;
use safetensors::Dtype;

fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

#[test]
fn bounds_match_hand_computed_values() {
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-15 * b.abs().max(1e-300);
    // b = 2, λ = 50: 2^-1 / 100 = 0.005 and 2^-1 / 50 = 0.01.
    assert!(close(lower_bound(bw(2), 50.0), 0.005));
    assert!(close(upper_bound(bw(2), 50.0), 0.01));
    // b = 4, λ = 10: 2^-3 / 20 = 0.00625 and 2^-3 / 10 = 0.0125.
    assert!(close(lower_bound(bw(4), 10.0), 0.00625));
    assert!(close(upper_bound(bw(4), 10.0), 0.0125));
    // The ln 2 cap of D_U never binds for b >= 2 (2^-1 = 0.5 < ln 2 = 0.693):
    // at b = 2 the formula is 0.5/λ, not ln2/λ.
    assert!(close(upper_bound(bw(2), 0.1), 5.0));
    // b = 16, λ = 200: 2^-15 / 400.
    assert!(close(lower_bound(bw(16), 200.0), 1.0 / (32768.0 * 400.0)));
    assert!(close(kappa_q(0.02, bw(2), 50.0), 2.0));
}

/// Per-weight distortion is never below D_L(b, λ), for every quantizer,
/// b in 2..=16 and λ in {10, 50, 200}.
///
/// Tolerance: measured >= 0.99 · D_L. With n = 1e5 weights the relative
/// standard error of a mean absolute error is about 1/√n ≈ 0.3 %, so 1 % is
/// more than 3σ; the true margin is much larger (the fixed-rate optimum for
/// exponential magnitudes is 2^-(b-1)/λ = 2 D_L).
///
/// lloyd_max is designed on one sample and evaluated on a fresh one. The
/// bound is a property of a quantizer applied to the source, not of a
/// codebook fitted to the very samples it is scored on: with 2^15 levels and
/// 1e5 samples, an in-sample codebook gives almost every sample its own level
/// and an error near zero, a finite-sample artefact. uniform and pot_log only
/// take one scalar (max|w|) from the data, so they are scored in-sample.
#[test]
fn distortion_is_at_least_lower_bound() {
    const N: usize = 100_000;
    let lloyd = LloydMax::default();
    for (i, &lambda) in [10.0, 50.0, 200.0].iter().enumerate() {
        let mut r = rng(100 + i as u64);
        let train = sample_laplace(&mut r, lambda, N);
        let test = sample_laplace(&mut r, lambda, N);
        for bits in 2..=16u8 {
            let bound = lower_bound(bw(bits), lambda);
            let measured = [
                ("uniform", Uniform::default().distortion(&test, bw(bits))),
                ("pot_log", PotLog.distortion(&test, bw(bits))),
                (
                    "lloyd_max",
                    mean_abs_error(&test, &lloyd.design(&train, bw(bits)).apply(&test)),
                ),
            ];
            for (name, d) in measured {
                assert!(
                    d >= 0.99 * bound,
                    "{name} b={bits} λ={lambda}: distortion {d:e} below D_L {bound:e}"
                );
            }
        }
    }
}

/// Magnitudes uniform on [0, s]: the rounding error is uniform on [0, Δ/2],
/// so the mean absolute error is Δ/4 with Δ = s/(2^(b-1) - 1). Its standard
/// error at n = 1e5 is (Δ/(2√12))/√n ≈ 0.18 % of Δ/4; tolerance 1 %.
#[test]
fn uniform_error_on_uniform_magnitudes_is_quarter_step() {
    let s = 0.75f32;
    let mut r = rng(2);
    let mut w: Vec<f32> = (0..100_000).map(|_| r.gen_range(-s..=s)).collect();
    w[0] = s; // pin the scale max|w| to exactly s
    for bits in [2u8, 3, 4, 6, 8, 12, 16] {
        let delta = f64::from(s) / ((1u32 << (bits - 1)) - 1) as f64;
        let d = Uniform::default().distortion(&w, bw(bits));
        let rel = (d / (delta / 4.0) - 1.0).abs();
        assert!(rel < 0.01, "b={bits}: error {d:e} vs Δ/4 {:e}", delta / 4.0);
    }
}

#[test]
fn uniform_group_scale_and_pot_log_levels() {
    // Each group keeps its own max exactly, and signs are kept.
    let w = [0.1f32, -0.4, 0.2, 0.0, 3.0, -1.0, 2.0, 0.5];
    let q = Uniform { group_size: Some(4) }.quantize(&w, bw(3)); // 4 levels: 0, s/3, 2s/3, s
    assert_eq!(q[1], -0.4);
    assert_eq!(q[4], 3.0);
    assert!((q[0] - 0.4 / 3.0).abs() < 1e-7 && (q[5] + 1.0).abs() < 1e-7);
    assert_eq!(q[3], 0.0);
    // pot_log: powers of two below the max are reproduced exactly at enough
    // bits; at b = 2 the levels are {s, 0}.
    let w = [1.0f32, -0.5, 0.25, 0.125, 0.3];
    assert_eq!(PotLog.quantize(&w, bw(4)), vec![1.0, -0.5, 0.25, 0.125, 0.25]);
    assert_eq!(PotLog.quantize(&w, bw(2)), vec![1.0, -1.0, 0.0, 0.0, 0.0]);
    // b = 3: levels {1, 0.5, 0.25, 0}; 0.125 is exactly halfway between 0.25
    // and 0 and goes to 0.25; 0.1 goes to 0.
    assert_eq!(PotLog.quantize(&[1.0, 0.125, 0.1], bw(3)), vec![1.0, 0.25, 0.0]);
    // b = 16 stays finite for a tensor spanning the whole f32 range.
    let w = [f32::MAX, 1.0, f32::MIN_POSITIVE, 1e-45, 0.0];
    let q = PotLog.quantize(&w, bw(16));
    assert!(q.iter().all(|x| x.is_finite()));
    assert_eq!(q[0], f32::MAX);
    // 1.0 is not a level: log2(f32::MAX / 1) = 127.99.. rounds to 128.
    assert_eq!(q[1], (f64::from(f32::MAX) * (-128f64).exp2()) as f32);
    assert!(q[3] > 0.0 && q[4] == 0.0);
}

/// lloyd_max (scored out of sample since issue 11) never has a larger error
/// than uniform at the same bits; the relative slack 1e-9 only covers f32
/// rounding of uniform's levels.
#[test]
fn lloyd_max_never_worse_than_uniform() {
    let w = sample_laplace(&mut rng(3), 50.0, 50_000);
    for bits in 2..=16u8 {
        let u = Uniform::default().distortion(&w, bw(bits));
        let l = LloydMax::default().distortion(&w, bw(bits));
        assert!(l <= u * (1.0 + 1e-9), "b={bits}: lloyd {l:e} > uniform {u:e}");
    }
    // Data with no more distinct magnitudes than levels, each repeated: the
    // codebook designed on them reproduces them exactly.
    let small: Vec<f32> = sample_laplace(&mut rng(4), 50.0, 100).repeat(10);
    let q = LloydMax::default().quantize(&small, bw(12));
    assert_eq!(coinfer::quant::mean_abs_error(&small, &q), 0.0);
}

/// MLE λ from 1e6 weights: relative standard error 1/√n = 0.1 %, check 1 %.
#[test]
fn fitted_lambda_within_one_percent() {
    for (seed, lambda) in [(5u64, 10.0), (6, 50.0), (7, 200.0)] {
        let w = sample_laplace(&mut rng(seed), lambda, 1_000_000);
        let (fit, n) = fit_lambda(w.iter().copied());
        assert_eq!(n, 1_000_000);
        assert!((fit / lambda - 1.0).abs() < 0.01, "λ={lambda}: fitted {fit}");
        // KS of 1e6 samples against the fitted law is ~1e-3; uniform data is far.
        assert!(ks_distance(&w, fit) < 0.003);
    }
    let uniform: Vec<f32> = (0..10_000).map(|i| i as f32 / 10_000.0).collect();
    let (fit, _) = fit_lambda(uniform.iter().copied());
    assert!(ks_distance(&uniform, fit) > 0.1);
    assert!(fit_lambda(std::iter::empty()).0.is_nan());
}

#[test]
fn quantizer_kind_names_and_build() {
    for &name in NAMES {
        let kind = QuantizerKind::from_name(name).expect("known name");
        assert_eq!(kind.name(), name);
        assert_eq!(kind.build().name(), name);
    }
    assert_eq!(QuantizerKind::from_name("kmeans"), None);
    let grouped = QuantizerKind::Uniform { group_size: Some(2) }.build();
    assert_eq!(
        grouped.quantize(&[1.0, 0.2, 0.1, 0.02], bw(2)),
        vec![1.0, 0.0, 0.1, 0.0]
    );
}

/// The κ_Q table quoted in the report (λ = 50, 1e6 samples, seed 11).
/// Every measured error is at least D_L = D_U/2, so κ_Q >= 0.5.
#[test]
fn kappa_table() {
    let lambda = 50.0;
    let w = sample_laplace(&mut rng(11), lambda, 1_000_000);
    eprintln!("kappa_Q at lambda = {lambda} (n = 1e6):");
    for q in [&Uniform::default() as &dyn Quantizer, &PotLog] {
        for bits in [2u8, 4, 8] {
            let d = q.distortion(&w, bw(bits));
            let k = kappa_q(d, bw(bits), lambda);
            eprintln!("  {:8} b={bits}: d = {d:.4e}, kappa_Q = {k:.3}", q.name());
            assert!(k >= 0.5 && k.is_finite());
        }
    }
}

/// Residual norm of `a x - b`.
fn residual(a: &DMatrix<f64>, b: &DVector<f64>, x: &DVector<f64>) -> f64 {
    (a * x - b).norm()
}

/// Brute force: the NNLS optimum is the best feasible (all >= 0)
/// unconstrained least-squares solution over all subsets of free variables.
fn nnls_brute(a: &DMatrix<f64>, b: &DVector<f64>) -> (DVector<f64>, f64) {
    let n = a.ncols();
    let mut best = (DVector::zeros(n), b.norm());
    for mask in 1u32..(1 << n) {
        let cols: Vec<usize> = (0..n).filter(|&j| mask >> j & 1 == 1).collect();
        let sub = a.select_columns(cols.iter());
        let sol = sub.svd(true, true).solve(b, 1e-12).unwrap();
        if sol.iter().all(|&v| v >= 0.0) {
            let mut x = DVector::zeros(n);
            for (k, &c) in cols.iter().enumerate() {
                x[c] = sol[k];
            }
            let r = residual(a, b, &x);
            if r < best.1 {
                best = (x, r);
            }
        }
    }
    best
}

#[test]
fn nnls_matches_brute_force() {
    let mut r = rng(8);
    let mut constrained = 0;
    for trial in 0..200 {
        let (m, n) = (r.gen_range(3..10), r.gen_range(1..6));
        let a = DMatrix::from_fn(m, n, |_, _| r.gen_range(-1.0..1.0));
        let b = DVector::from_fn(m, |_, _| r.gen_range(-1.0..1.0));
        let x = nnls(&a, &b);
        let (xb, rb) = nnls_brute(&a, &b);
        assert!(x.iter().all(|&v| v >= 0.0), "trial {trial}: infeasible {x}");
        let rx = residual(&a, &b, &x);
        assert!(
            (rx - rb).abs() <= 1e-9 * (1.0 + rb),
            "trial {trial}: {rx} vs {rb}"
        );
        if m >= n {
            // Full column rank (almost surely): the optimum is unique.
            assert!((&x - &xb).amax() < 1e-7, "trial {trial}: {x} vs {xb}");
        }
        constrained += usize::from(x.iter().any(|&v| v == 0.0));
    }
    // Make sure the constraint was active in a good share of the problems.
    assert!(constrained > 50, "only {constrained} constrained problems");
}

/// The calibrated model predicts held-out measurements.
///
/// Finding: the LINEAR form `Σ_l A_l n_l d_l` reaches only R² ≈ 0.76 on
/// held-out mixes (R² of the log ≈ 0.90): per-layer output errors are nearly
/// independent, so they add in quadrature and the linear sum over-predicts
/// mixes where several layers contribute comparably (by up to ~1.4x), while
/// under-predicting single-layer configurations it was also fitted on. The
/// QUADRATURE form `(Σ_l (A_l n_l d_l)²)^½` fixes this. The R² ≥ 0.9
/// requirement is asserted on the quadrature model; the linear model is
/// printed and must be worse.
#[test]
fn calibrated_model_predicts_heldout_configurations() {
    let net = SyntheticNet::new(NetConfig::default(), &mut rng(9));
    let inputs = random_inputs(&mut rng(10), net.config().width, 64);
    let quantizer = Uniform::default();
    let run = |aggregation, min_bits| {
        let design = CalibrationDesign {
            aggregation,
            min_bits,
            ..CalibrationDesign::default()
        };
        let cal = calibrate(&net, &quantizer, &design, &inputs);
        eprintln!(
            "{aggregation:?}, bits {min_bits}..={}: held-out ({} configs) R2 = {:.4}, \
             R2(log) = {:.4}, mean rel. error = {:.4}, A_l = {:.4?}",
            design.max_bits,
            cal.heldout.len(),
            cal.r2,
            cal.r2_log,
            cal.rel_error,
            cal.coefficients
        );
        assert_eq!(cal.heldout.len(), design.heldout_mixes);
        assert!(cal
            .heldout
            .iter()
            .all(|h| !cal.train.iter().any(|t| t.bits == h.bits)));
        assert!(cal.coefficients.iter().all(|&a| a >= 0.0));
        cal
    };
    let linear = run(Aggregation::Linear, bw(3));
    let quad = run(Aggregation::Quadrature, bw(3));
    // Reported only: 2-bit layers leave the small-perturbation regime.
    run(Aggregation::Quadrature, bw(2));
    assert!(quad.r2 >= 0.9, "held-out R2 {}", quad.r2);
    assert!(quad.r2_log >= 0.9, "held-out log R2 {}", quad.r2_log);
    assert!(quad.r2 > linear.r2 && quad.rel_error < linear.rel_error);
    // Cross-check one row against the public measurement function.
    let row = &quad.heldout[0];
    let direct = measure_output_distortion(&net, &quantizer, &row.bits, &inputs);
    assert!((direct - row.measured).abs() <= 1e-12 * direct);
}

// ---------------------------------------------------------------- safetensors

fn f32_bytes(w: &[f32]) -> Vec<u8> {
    w.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn f16_bytes(w: &[f32]) -> Vec<u8> {
    w.iter()
        .flat_map(|&x| half::f16::from_f32(x).to_le_bytes())
        .collect()
}

fn bf16_bytes(w: &[f32]) -> Vec<u8> {
    w.iter()
        .flat_map(|&x| half::bf16::from_f32(x).to_le_bytes())
        .collect()
}

/// Writes a small checkpoint: two encoder layers (F32, F16) at λ = 50, a
/// decoder head (BF16) at λ = 200 and an I64 counter. Returns its bytes and
/// the F32 weights of `enc.layers.0.weight`.
pub(crate) fn write_checkpoint(path: &Path) -> (Vec<u8>, Vec<f32>) {
    let mut r = rng(12);
    let enc0 = sample_laplace(&mut r, 50.0, 200 * 200);
    let enc1 = sample_laplace(&mut r, 50.0, 200 * 200);
    let head = sample_laplace(&mut r, 200.0, 100 * 200);
    let (b0, b1, b2) = (f32_bytes(&enc0), f16_bytes(&enc1), bf16_bytes(&head));
    let step: Vec<u8> = 42i64.to_le_bytes().to_vec();
    let tensors = vec![
        (
            "enc.layers.0.weight",
            TensorView::new(Dtype::F32, vec![200, 200], &b0).unwrap(),
        ),
        (
            "enc.layers.1.weight",
            TensorView::new(Dtype::F16, vec![200, 200], &b1).unwrap(),
        ),
        (
            "dec.head.weight",
            TensorView::new(Dtype::BF16, vec![100, 200], &b2).unwrap(),
        ),
        ("meta.step", TensorView::new(Dtype::I64, vec![1], &step).unwrap()),
    ];
    let bytes = safetensors::serialize(tensors, &None).unwrap();
    std::fs::write(path, &bytes).unwrap();
    (bytes, enc0)
}

#[test]
fn safetensors_profile_blocks_and_lambda() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    let (_, enc0) = write_checkpoint(&path);
    let profile = profile_safetensors(&path, 2, Quantize::Matrices).unwrap();
    // serialize() lays out tensors by decreasing dtype alignment, then name:
    // I64, F32 (enc.layers.0), BF16 (dec.head), F16 (enc.layers.1).
    let names: Vec<&str> = profile.blocks.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["enc.layers", "dec.head"]);
    assert_eq!(profile.blocks[0].params, 80_000);
    assert_eq!(profile.blocks[1].params, 20_000);
    assert_eq!(profile.skipped.len(), 1);
    assert_eq!(profile.skipped[0].name, "meta.step");
    assert_eq!(profile.skipped[0].dtype, "I64");
    // Standard errors: 1/√8e4 = 0.35 %, 1/√2e4 = 0.7 %; f16/bf16 rounding is
    // unbiased to well below that. Tolerances 2 % and 3 %.
    let (enc, dec) = (&profile.blocks[0], &profile.blocks[1]);
    let (enc_l, dec_l) = (enc.lambda.unwrap(), dec.lambda.unwrap());
    assert!((enc_l / 50.0 - 1.0).abs() < 0.02, "enc λ {enc_l}");
    assert!((dec_l / 200.0 - 1.0).abs() < 0.03, "dec λ {dec_l}");
    let (enc_ks, dec_ks) = (enc.ks.unwrap(), dec.ks.unwrap());
    assert!(enc_ks < 0.02 && dec_ks < 0.03, "ks {enc_ks} {dec_ks}");

    let ron = profile.to_ron(Path::new("model.safetensors"));
    assert!(ron.starts_with("// coinfer profile of model.safetensors (group depth 2, quantize Matrices)\n"));
    assert!(ron.contains(
        "    source: \"model.safetensors\",\n    group_depth: 2,\n    quantize: Matrices,\n    blocks: [\n"
    ));
    assert!(ron.contains("        (name: \"enc.layers\", params: 80000, lambda: "));
    assert!(ron.contains("// skipped: meta.step (I64)"));
    assert!(ron.trim_end().ends_with("    ],\n)"));

    // Depth 1 merges by first component; block_of handles short names.
    let p1 = profile_safetensors(&path, 1, Quantize::Matrices).unwrap();
    let names: Vec<&str> = p1.blocks.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["enc", "dec"]);
    assert_eq!(block_of("vision.layers.0.q.weight", 2), "vision.layers");
    assert_eq!(block_of("bias", 3), "bias");

    // Tensor access: weights in file order, decoded; unknown blocks refused.
    let ck = Checkpoint::open(&path).unwrap();
    let t = ck
        .tensors
        .iter()
        .find(|t| t.name == "enc.layers.0.weight")
        .unwrap();
    assert_eq!(ck.weights(t).slice(0..40_000), enc0);
    assert_eq!(ck.block("enc.layers", 2).unwrap().len(), 2);
    let err = ck.block("nope", 2).unwrap_err();
    assert!(matches!(err, ProfileError::BlockNotFound { .. }), "{err}");
}

#[test]
fn safetensors_errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("model.safetensors");
    let (bytes, _) = write_checkpoint(&good);

    let truncated = dir.path().join("truncated.safetensors");
    std::fs::write(&truncated, &bytes[..bytes.len() - 1000]).unwrap();
    let msg = profile_safetensors(&truncated, 2, Quantize::Matrices)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("truncated.safetensors"), "{msg}");
    assert!(msg.contains("not a valid safetensors file"), "{msg}");
    assert!(msg.contains("truncated file"), "{msg}");

    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "these are not tensors, just some text").unwrap();
    let msg = profile_safetensors(&text, 2, Quantize::Matrices)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("notes.txt is not a valid safetensors file"), "{msg}");

    let empty = dir.path().join("empty.safetensors");
    std::fs::write(&empty, b"").unwrap();
    let msg = profile_safetensors(&empty, 2, Quantize::Matrices)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("shorter than the 8-byte header"), "{msg}");

    let missing = dir.path().join("missing.safetensors");
    let err = profile_safetensors(&missing, 2, Quantize::Matrices).unwrap_err();
    assert!(matches!(err, ProfileError::Io { .. }));
    assert!(err.to_string().starts_with("cannot read "), "{err}");
    assert!(err.to_string().contains("missing.safetensors"), "{err}");

    let ints = dir.path().join("ints.safetensors");
    let data = 7i64.to_le_bytes();
    let view = TensorView::new(Dtype::I64, vec![1], &data).unwrap();
    std::fs::write(
        &ints,
        safetensors::serialize(vec![("step", view)], &None).unwrap(),
    )
    .unwrap();
    let msg = profile_safetensors(&ints, 2, Quantize::Matrices)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("contains no F32, F16 or BF16 tensors"), "{msg}");
}
