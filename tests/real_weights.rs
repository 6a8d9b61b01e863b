//! Issue 11.1: distortion measured on real tensors equals an exact
//! computation over all their weights, each tensor with its own scale.

use crate::util::bw;
use coinfer::quant::{
    allocate, block_distortion, measure_block, profile_safetensors, sample_indices, Checkpoint, LloydMax,
    PotLog, Quantize, Quantizer, QuantizerKind, Role, Uniform, KS_MAX_SAMPLES, MIN_TENSOR_SAMPLE,
};
use coinfer::units::Bits;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StudentT};
use safetensors::tensor::TensorView;
use safetensors::Dtype;
use std::path::Path;

/// Writes F32 tensors `(name, shape, weights)` in the given order.
fn write(path: &Path, tensors: &[(&str, Vec<usize>, Vec<f32>)]) {
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, _, w)| w.iter().flat_map(|x| x.to_le_bytes()).collect())
        .collect();
    let views: Vec<(&str, TensorView)> = tensors
        .iter()
        .zip(&bytes)
        .map(|((n, shape, _), b)| (*n, TensorView::new(Dtype::F32, shape.clone(), b).unwrap()))
        .collect();
    std::fs::write(path, safetensors::serialize(views, &None).unwrap()).unwrap();
}

/// Student-t (3 degrees of freedom) weights scaled by `s`: heavy tails.
fn heavy(rng: &mut ChaCha8Rng, n: usize, s: f64) -> Vec<f32> {
    let t = StudentT::new(3.0).unwrap();
    (0..n).map(|_| (s * t.sample(rng)) as f32).collect()
}

/// A block of heavy-tailed tensors of different sizes. The largest has 300,001
/// weights; a strided sample of 1e5 (every 4th weight) would miss its eight
/// outliers at positions ≡ 1 (mod 4), which set its true scale.
fn model(path: &Path) -> Vec<(&'static str, Vec<usize>, Vec<f32>)> {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut big = heavy(&mut rng, 300_001, 0.01);
    for k in 0..8 {
        big[4 * (10_000 * k + 17) + 1] = if k % 2 == 0 { 2.0 } else { -2.0 };
    }
    let strided_max = big.iter().step_by(4).fold(0.0f32, |m, x| m.max(x.abs()));
    assert!(
        strided_max < 1.0,
        "the outliers must hide from a stride-4 sample ({strided_max})"
    );
    let tensors = vec![
        ("blk.big.weight", vec![547, 548], big[..547 * 548].to_vec()),
        ("blk.mid.weight", vec![250, 200], heavy(&mut rng, 50_000, 0.05)),
        ("blk.small.weight", vec![24, 32], heavy(&mut rng, 768, 0.2)),
        ("blk.bias", vec![548], heavy(&mut rng, 548, 0.01)),
    ];
    // The big tensor is 547 × 548 = 299,756 weights: keep the outliers in.
    assert!(tensors[0].2.iter().filter(|x| x.abs() == 2.0).count() == 8);
    write(path, &tensors);
    tensors
}

/// The exact mean error over ALL weights of one tensor of the quantizer a
/// deployment applies: uniform and pot_log with scales from all weights;
/// Lloyd–Max with the codebook designed on the measurement's design sample.
fn exact(kind: QuantizerKind, name: &str, w: &[f32], share: usize, b: Bits) -> f64 {
    let q = match kind {
        QuantizerKind::Uniform { group_size } => Uniform { group_size }.quantize(w, b),
        QuantizerKind::PotLog => PotLog.quantize(w, b),
        QuantizerKind::LloydMax => {
            let design: Vec<f32> = sample_indices(name, w.len(), share, 1)
                .iter()
                .map(|&i| w[i])
                .collect();
            LloydMax::default().design(&design, b).apply(w)
        }
    };
    w.iter()
        .zip(&q)
        .map(|(&a, &b)| (f64::from(a) - f64::from(b)).abs())
        .sum::<f64>()
        / w.len() as f64
}

#[test]
fn measured_distortion_equals_the_exact_one_over_all_weights() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    let tensors = model(&path);
    let ck = Checkpoint::open(&path).unwrap();
    let samples = 20_000;
    let quantized: usize = tensors.iter().map(|t| t.2.len()).sum();
    let kinds = [
        QuantizerKind::Uniform { group_size: None },
        QuantizerKind::Uniform {
            group_size: Some(128),
        },
        QuantizerKind::PotLog,
        QuantizerKind::LloydMax,
    ];
    let (mut z2, mut sampled) = (0.0, 0);
    // All kinds in one call: each tensor is read and sampled once.
    let per_kind = measure_block(&ck, "blk", 1, Quantize::All, &kinds, samples).unwrap();
    for (kind, measured) in kinds.into_iter().zip(per_kind) {
        assert_eq!(measured.len(), tensors.len());
        for t in &measured {
            let (name, _, w) = tensors.iter().find(|x| x.0 == t.name).unwrap();
            assert_eq!((t.params, t.role), (w.len(), Role::Quantized));
            let share = allocate(w.len(), quantized, samples, MIN_TENSOR_SAMPLE);
            assert_eq!(t.exact(), share >= w.len(), "{name}");
            for b in Bits::all() {
                let (got, se) = (t.distortion[usize::from(b)], t.std_error[usize::from(b)]);
                let want = exact(kind, name, w, share, b);
                let tol = 5.0 * se + 1e-12 * want;
                assert!(
                    (got - want).abs() <= tol,
                    "{kind:?} {name} b={b}: {got} vs exact {want} (se {se})"
                );
                if !t.exact() && se > 0.0 {
                    z2 += ((got - want) / se).powi(2);
                    sampled += 1;
                }
            }
        }
    }
    // The standard errors are honest: the mean squared z-score is about 1.
    let mean_z2 = z2 / sampled as f64;
    assert!(
        sampled > 50 && (0.4..2.0).contains(&mean_z2),
        "mean z² {mean_z2} over {sampled}"
    );
}

#[test]
fn the_per_tensor_scale_sees_outliers_a_strided_sample_misses() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    let tensors = model(&path);
    let ck = Checkpoint::open(&path).unwrap();
    let d = measure_block(
        &ck,
        "blk",
        1,
        Quantize::All,
        &[QuantizerKind::Uniform { group_size: None }],
        100_000,
    )
    .unwrap()
    .remove(0);
    let big = &tensors[0].2;
    // The old measurement: every 4th weight, scaled by that sample's max.
    let strided: Vec<f32> = big.iter().step_by(4).copied().collect();
    let old = Uniform::default().distortion(&strided, bw(8));
    let true_d = exact(QuantizerKind::Uniform { group_size: None }, "", big, 0, bw(8));
    assert!(
        true_d > 2.0 * old,
        "outliers set the scale: exact {true_d} vs strided {old}"
    );
    let t = d.iter().find(|t| t.name == "blk.big.weight").unwrap();
    let got = t.distortion[8];
    assert!((got - true_d).abs() <= 5.0 * t.std_error[8], "{got} vs {true_d}");
}

#[test]
fn vectors_stay_at_16_bits_unless_all_are_quantized() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    let tensors = model(&path);
    let ck = Checkpoint::open(&path).unwrap();
    let kind = QuantizerKind::PotLog;
    let m = measure_block(&ck, "blk", 1, Quantize::Matrices, &[kind], 20_000)
        .unwrap()
        .remove(0);
    // File order: by name.
    assert_eq!(m[0].name, "blk.bias");
    assert_eq!(m[0].role, Role::Fixed16);
    let block = block_distortion(&m);
    let matrices: usize = tensors[..3].iter().map(|t| t.2.len()).sum();
    assert_eq!(block.quantized_params, matrices);
    let weighted: f64 = m[1..]
        .iter()
        .map(|t| t.params as f64 * t.distortion[4])
        .sum::<f64>()
        / matrices as f64;
    assert!((block.distortion[4] - weighted).abs() <= 1e-15 * weighted);
    let all = block_distortion(&measure_block(&ck, "blk", 1, Quantize::All, &[kind], 20_000).unwrap()[0]);
    assert_eq!(all.quantized_params, matrices + 548);

    // The profile fits λ on what is quantized and lists the vector apart.
    let p = profile_safetensors(&path, 1, Quantize::Matrices).unwrap();
    let b = &p.blocks[0];
    assert_eq!(b.params as usize, matrices);
    assert_eq!(b.fixed16, [("blk.bias".to_string(), 548)]);
    let sum: f64 = tensors[..3]
        .iter()
        .flat_map(|t| &t.2)
        .map(|&w| f64::from(w.abs()))
        .sum();
    assert!((b.lambda.unwrap() - matrices as f64 / sum).abs() < 1e-9 * b.lambda.unwrap());
    let ron = p.to_ron(Path::new("m.safetensors"));
    assert!(
        ron.contains("// kept at 16 bits: blk.bias (548 weights)"),
        "{ron}"
    );
}

/// The KS sample is random within each tensor: on 1.2e6 weights whose even
/// and odd columns follow different laws, a stride-2 sample (what a 1e6
/// cap gave) would see only the even columns.
#[test]
fn ks_sample_does_not_alias_with_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    let (rows, cols) = (3125, 384);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let w: Vec<f32> = (0..rows * cols)
        .map(|i| {
            let scale = if i % 2 == 0 { 0.01 } else { 0.1 };
            (-scale * (1.0 - rng.gen::<f64>()).ln()) as f32
        })
        .collect();
    assert!(w.len() > KS_MAX_SAMPLES);
    write(&path, &[("x.w", vec![rows, cols], w.clone())]);
    let p = profile_safetensors(&path, 1, Quantize::Matrices).unwrap();
    let (lambda, ks) = (p.blocks[0].lambda.unwrap(), p.blocks[0].ks.unwrap());
    // KS distance of all weights against Exp(λ), computed here.
    let mut all: Vec<f64> = w.iter().map(|&x| f64::from(x)).collect();
    all.sort_by(f64::total_cmp);
    let n = all.len() as f64;
    let full = all
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let f = 1.0 - (-lambda * x).exp();
            (f - i as f64 / n).abs().max(((i + 1) as f64 / n - f).abs())
        })
        .fold(0.0, f64::max);
    assert!((ks - full).abs() < 0.005, "sample KS {ks} vs all weights {full}");
}
