//! `coinfer forward` (feature `forward`) on tiny random BERT checkpoints:
//! the candle forward pass against an f64 re-implementation, the measured
//! output error of one quantized block against a hand computation,
//! distortion against bits, determinism, the fitted profile and bad input.

use crate::util::{bin, bw, column, fails_with, ok_in};
use coinfer::quant::forward::{masked_mae, pooled_cosine, random_tokens, Bert, Inputs, Setting};
use coinfer::quant::{sample_laplace, Quantize, Quantizer, QuantizerKind, Uniform};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use safetensors::tensor::TensorView;
use safetensors::Dtype;
use std::collections::BTreeMap;
use std::path::Path;

const VOCAB: usize = 64;
const HIDDEN: usize = 16;
const HEADS: usize = 2;
const INTER: usize = 32;
const MAX_POS: usize = 16;
const EPS: f64 = 1e-12;

/// Tensors of a tiny BERT: name → (shape, weights).
type Tensors = BTreeMap<String, (Vec<usize>, Vec<f32>)>;

/// Random weights of a `layers`-layer tiny BERT (Laplace matrices and
/// biases, LayerNorm gains near 1), plus a pooler the forward pass ignores.
fn tiny_bert(layers: usize, seed: u64) -> Tensors {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut t = Tensors::new();
    let mut add = |name: String, shape: Vec<usize>, lambda: f64, offset: f32| {
        let n = shape.iter().product();
        let w = sample_laplace(&mut rng, lambda, n)
            .iter()
            .map(|x| x + offset)
            .collect();
        t.insert(name, (shape, w));
    };
    let linear = |add: &mut dyn FnMut(String, Vec<usize>, f64, f32), p: &str, o: usize, i: usize| {
        add(format!("{p}.weight"), vec![o, i], 4.0, 0.0);
        add(format!("{p}.bias"), vec![o], 20.0, 0.0);
    };
    let ln = |add: &mut dyn FnMut(String, Vec<usize>, f64, f32), p: &str| {
        add(format!("{p}.LayerNorm.weight"), vec![HIDDEN], 20.0, 1.0);
        add(format!("{p}.LayerNorm.bias"), vec![HIDDEN], 20.0, 0.0);
    };
    add(
        "embeddings.word_embeddings.weight".into(),
        vec![VOCAB, HIDDEN],
        2.0,
        0.0,
    );
    add(
        "embeddings.position_embeddings.weight".into(),
        vec![MAX_POS, HIDDEN],
        2.0,
        0.0,
    );
    add(
        "embeddings.token_type_embeddings.weight".into(),
        vec![2, HIDDEN],
        2.0,
        0.0,
    );
    ln(&mut add, "embeddings");
    for l in 0..layers {
        let p = format!("encoder.layer.{l}");
        for m in ["query", "key", "value"] {
            linear(&mut add, &format!("{p}.attention.self.{m}"), HIDDEN, HIDDEN);
        }
        linear(&mut add, &format!("{p}.attention.output.dense"), HIDDEN, HIDDEN);
        ln(&mut add, &format!("{p}.attention.output"));
        linear(&mut add, &format!("{p}.intermediate.dense"), INTER, HIDDEN);
        linear(&mut add, &format!("{p}.output.dense"), HIDDEN, INTER);
        ln(&mut add, &format!("{p}.output"));
    }
    linear(&mut add, "pooler.dense", HIDDEN, HIDDEN);
    t
}

/// Writes `config.json` (with `model_type`) and `model.safetensors` to `dir`.
fn write_model(dir: &Path, t: &Tensors, layers: usize, model_type: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let config = serde_json::json!({
        "architectures": ["BertModel"], "model_type": model_type,
        "vocab_size": VOCAB, "hidden_size": HIDDEN, "num_hidden_layers": layers,
        "num_attention_heads": HEADS, "intermediate_size": INTER, "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1, "max_position_embeddings": MAX_POS, "type_vocab_size": 2,
        "initializer_range": 0.02, "layer_norm_eps": EPS, "pad_token_id": 0,
    });
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = t
        .iter()
        .map(|(n, (s, w))| {
            (
                n.clone(),
                s.clone(),
                w.iter().flat_map(|x| x.to_le_bytes()).collect(),
            )
        })
        .collect();
    let views: Vec<(String, TensorView)> = bytes
        .iter()
        .map(|(n, s, b)| (n.clone(), TensorView::new(Dtype::F32, s.clone(), b).unwrap()))
        .collect();
    safetensors::serialize_to_file(views, &None, &dir.join("model.safetensors")).unwrap();
}

/// A tiny model in a fresh temporary folder (`dir/m`).
fn model(layers: usize) -> (tempfile::TempDir, Tensors) {
    let tmp = tempfile::tempdir().unwrap();
    let t = tiny_bert(layers, 5);
    write_model(&tmp.path().join("m"), &t, layers, "bert");
    (tmp, t)
}

/// The tensors with every matrix of the blocks whose name starts with
/// `prefix` quantized by `q` at `bits`, tensor by tensor.
fn quantized(t: &Tensors, prefix: &str, q: &dyn Quantizer, bits: u8) -> Tensors {
    let mut out = t.clone();
    for (name, (shape, w)) in out.iter_mut() {
        if name.starts_with(prefix) && shape.len() == 2 {
            *w = q.quantize(w, bw(bits));
        }
    }
    out
}

// ---- An f64 BERT encoder, written from the BERT paper's equations. ----

fn get<'a>(t: &'a Tensors, name: &str) -> &'a [f32] {
    &t[name].1
}

/// `x Wᵀ + b` for every row of `x`.
fn linear(t: &Tensors, p: &str, x: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let (w, b) = (get(t, &format!("{p}.weight")), get(t, &format!("{p}.bias")));
    let inp = x[0].len();
    x.iter()
        .map(|row| {
            (0..b.len())
                .map(|o| f64::from(b[o]) + (0..inp).map(|i| f64::from(w[o * inp + i]) * row[i]).sum::<f64>())
                .collect()
        })
        .collect()
}

fn layer_norm(t: &Tensors, p: &str, x: &mut [Vec<f64>]) {
    let (g, b) = (
        get(t, &format!("{p}.LayerNorm.weight")),
        get(t, &format!("{p}.LayerNorm.bias")),
    );
    for row in x.iter_mut() {
        let n = row.len() as f64;
        let mean = row.iter().sum::<f64>() / n;
        let var = row.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        for (i, v) in row.iter_mut().enumerate() {
            *v = (*v - mean) / (var + EPS).sqrt() * f64::from(g[i]) + f64::from(b[i]);
        }
    }
}

fn add(a: &mut [Vec<f64>], b: &[Vec<f64>]) {
    for (r, s) in a.iter_mut().zip(b) {
        for (x, y) in r.iter_mut().zip(s) {
            *x += y;
        }
    }
}

fn attention(t: &Tensors, p: &str, x: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let s = format!("{p}.attention.self");
    let (q, k, v) = (
        linear(t, &format!("{s}.query"), x),
        linear(t, &format!("{s}.key"), x),
        linear(t, &format!("{s}.value"), x),
    );
    let dh = HIDDEN / HEADS;
    let mut ctx = vec![vec![0.0; HIDDEN]; x.len()];
    for h in 0..HEADS {
        let r = h * dh..(h + 1) * dh;
        for i in 0..x.len() {
            let scores: Vec<f64> = (0..x.len())
                .map(|j| {
                    q[i][r.clone()]
                        .iter()
                        .zip(&k[j][r.clone()])
                        .map(|(a, b)| a * b)
                        .sum::<f64>()
                        / (dh as f64).sqrt()
                })
                .collect();
            let m = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let e: Vec<f64> = scores.iter().map(|s| (s - m).exp()).collect();
            let z: f64 = e.iter().sum();
            for (j, ej) in e.iter().enumerate() {
                for d in r.clone() {
                    ctx[i][d] += ej / z * v[j][d];
                }
            }
        }
    }
    let mut out = linear(t, &format!("{p}.attention.output.dense"), &ctx);
    add(&mut out, x);
    layer_norm(t, &format!("{p}.attention.output"), &mut out);
    out
}

fn gelu(x: f64) -> f64 {
    0.5 * x * (1.0 + statrs::function::erf::erf(x / std::f64::consts::SQRT_2))
}

/// Final hidden states of one token sequence, `seq × HIDDEN`.
fn reference(t: &Tensors, layers: usize, ids: &[u32]) -> Vec<Vec<f64>> {
    let emb = |name: &str, row: usize| -> Vec<f64> {
        get(t, &format!("embeddings.{name}.weight"))[row * HIDDEN..(row + 1) * HIDDEN]
            .iter()
            .map(|&w| f64::from(w))
            .collect()
    };
    let mut x: Vec<Vec<f64>> = ids
        .iter()
        .enumerate()
        .map(|(pos, &id)| {
            let (w, p, ty) = (
                emb("word_embeddings", id as usize),
                emb("position_embeddings", pos),
                emb("token_type_embeddings", 0),
            );
            (0..HIDDEN).map(|d| w[d] + p[d] + ty[d]).collect()
        })
        .collect();
    layer_norm(t, "embeddings", &mut x);
    for l in 0..layers {
        let p = format!("encoder.layer.{l}");
        let a = attention(t, &p, &x);
        let mut inter = linear(t, &format!("{p}.intermediate.dense"), &a);
        inter.iter_mut().flatten().for_each(|v| *v = gelu(*v));
        let mut out = linear(t, &format!("{p}.output.dense"), &inter);
        add(&mut out, &a);
        layer_norm(t, &format!("{p}.output"), &mut out);
        x = out;
    }
    x
}

/// The reference's hidden states of every input, flattened like candle's.
fn reference_all(t: &Tensors, layers: usize, inputs: &Inputs) -> Vec<f64> {
    inputs
        .ids
        .chunks(inputs.seq_len)
        .flat_map(|seq| reference(t, layers, seq).into_iter().flatten())
        .collect()
}

fn max_diff(a: &[f32], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) - y).abs())
        .fold(0.0, f64::max)
}

/// Runs `coinfer forward` in `dir` with the space-separated `args`.
fn forward(dir: &Path, args: &str) {
    let mut all = vec!["forward"];
    all.extend(args.split_whitespace());
    ok_in(&bin(), &all, dir);
}

fn uniform(bits: u8) -> Setting {
    Setting {
        kind: QuantizerKind::Uniform { group_size: None },
        bits: bw(bits),
    }
}

/// candle's forward pass equals the f64 re-implementation to f32 rounding,
/// at full precision and with every matrix at 16 bits; 16 bits moves the
/// output by less than 1e-3 of its scale.
#[test]
fn forward_pass_matches_an_f64_reference_at_full_precision_and_16_bits() {
    let (tmp, t) = model(2);
    let bert = Bert::load(&tmp.path().join("m"), Quantize::Matrices).unwrap();
    let names: Vec<&str> = bert.blocks.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["embeddings", "encoder.layer.0", "encoder.layer.1"]);
    let inputs = random_tokens(VOCAB, 3, 10, 9);
    let clean = bert.hidden_states(&[None, None, None], &inputs).unwrap();
    let want = reference_all(&t, 2, &inputs);
    let scale = want.iter().map(|v| v.abs()).sum::<f64>() / want.len() as f64;
    assert!(
        max_diff(&clean, &want) < 1e-5 * (1.0 + scale),
        "{}",
        max_diff(&clean, &want)
    );
    let q16: Vec<_> = (0..3).map(|l| bert.quantize_block(l, uniform(16))).collect();
    let out16 = bert
        .hidden_states(&[Some(&q16[0]), Some(&q16[1]), Some(&q16[2])], &inputs)
        .unwrap();
    let want16 = reference_all(&quantized(&t, "", &Uniform::default(), 16), 2, &inputs);
    assert!(max_diff(&out16, &want16) < 1e-5 * (1.0 + scale));
    let moved = coinfer::quant::mean_abs_error(&clean, &out16);
    assert!(
        moved > 0.0 && moved < 1e-3 * scale,
        "16-bit MAE {moved} vs scale {scale}"
    );
}

/// On a 1-layer model, the MAE `coinfer forward` reports for the encoder
/// layer alone at 3 bits is the f64 hand computation's, to f32 rounding.
#[test]
fn one_quantized_block_error_matches_the_hand_computation() {
    let (tmp, t) = model(1);
    let d = tmp.path();
    forward(
        d,
        "m --bits 3 --quantizers uniform --inputs 4 --seq-len 12 --heldout 0 --seed 3 --out o",
    );
    let csv = std::fs::read_to_string(d.join("o/forward.csv")).unwrap();
    let bits = column(&csv, "bits");
    let row = bits.iter().position(|b| b == "fp-3").unwrap();
    let measured: f64 = column(&csv, "measured_mae")[row].parse().unwrap();
    let inputs = random_tokens(VOCAB, 4, 12, 3);
    let clean = reference_all(&t, 1, &inputs);
    let q = reference_all(
        &quantized(&t, "encoder.layer.0.", &Uniform::default(), 3),
        1,
        &inputs,
    );
    let want = clean.iter().zip(&q).map(|(a, b)| (a - b).abs()).sum::<f64>() / clean.len() as f64;
    assert!(want > 1e-3, "3 bits must move the output: {want}");
    assert!((measured - want).abs() <= 1e-4 * want, "{measured} vs {want}");
    // The embeddings alone: a different block, a different error.
    let row = bits.iter().position(|b| b == "3-fp").unwrap();
    assert_ne!(
        column(&csv, "measured_mae")[row],
        column(&csv, "measured_mae")[bits.iter().position(|b| b == "fp-3").unwrap()]
    );
}

/// Each block's measured output error falls at every added bit, for both
/// quantizers; the pooled cosine rises towards 1.
#[test]
fn output_distortion_falls_as_bits_rise() {
    let (tmp, _) = model(2);
    let d = tmp.path();
    forward(d, "m --bits 2..12 --heldout 4 --seq-len 8 --out o");
    let csv = std::fs::read_to_string(d.join("o/forward.csv")).unwrap();
    let (set, group, bits) = (column(&csv, "set"), column(&csv, "group"), column(&csv, "bits"));
    let (mae, cos) = (column(&csv, "measured_mae"), column(&csv, "cosine"));
    for q in ["uniform", "lloyd_max"] {
        for l in 0..3 {
            let sweep: Vec<(f64, f64)> = (0..set.len())
                .filter(|&i| set[i] == "calibration" && group[i] == q)
                .filter(|&i| bits[i].split('-').nth(l).unwrap() != "fp")
                .map(|i| (mae[i].parse().unwrap(), cos[i].parse().unwrap()))
                .collect();
            assert_eq!(sweep.len(), 11);
            for w in sweep.windows(2) {
                assert!(w[1].0 < w[0].0, "{q} block {l}: {sweep:?}");
            }
            assert!(sweep[10].1 > 0.9999 && sweep[10].1 <= 1.0 + 1e-9, "{sweep:?}");
        }
    }
    assert_eq!(set.iter().filter(|s| *s == "heldout").count(), 12);
}

/// Same seed, byte-identical CSV and JSON; the fitted profile feeds a
/// scenario whose approximation uses its coefficients.
#[test]
fn forward_is_deterministic_and_writes_a_usable_profile() {
    let (tmp, _) = model(1);
    let d = tmp.path();
    for out in ["a", "b"] {
        let args =
            format!("m --bits 3..6 --heldout 5 --seq-len 6 --seed 4 --out {out} --fit-profile {out}/p.ron");
        forward(d, &args);
    }
    for f in ["forward.csv", "forward.json", "p.ron"] {
        assert_eq!(
            std::fs::read(d.join("a").join(f)).unwrap(),
            std::fs::read(d.join("b").join(f)).unwrap(),
            "{f}"
        );
    }
    assert!(d.join("a/plots/forward_approximation.svg").is_file());
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("a/forward.json")).unwrap()).unwrap();
    let coef: Vec<f64> = json["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["coef_quadrature"].as_f64().unwrap())
        .collect();
    assert_eq!(coef.len(), 2);
    std::fs::write(
        d.join("a/s.ron"),
        r#"(seeds: 1, horizon_s: 2, model: (profile: "p.ron", split: 1, payload_bits: 1e4))"#,
    )
    .unwrap();
    let study = coinfer::study::Study::load(&d.join("a/s.ron"), &Default::default()).unwrap();
    let laim = &study.points[0].system.laim;
    assert_eq!(laim.combine, coinfer::quant::Aggregation::Quadrature);
    // RON and JSON print f64 each their own way: equal to a few ulps.
    for (b, want) in laim.blocks.iter().zip(&coef) {
        assert!(
            *want > 0.0 && (b.coef - want).abs() <= 1e-14 * want,
            "{} vs {want}",
            b.coef
        );
    }
}

#[test]
fn bad_model_folders_and_arguments_are_clear_errors() {
    let (tmp, t) = model(1);
    let d = tmp.path();
    fails_with(&bin(), &["forward", "nowhere"], d, "nowhere is not a folder");
    std::fs::create_dir(d.join("empty")).unwrap();
    fails_with(&bin(), &["forward", "empty"], d, "config.json");
    write_model(&d.join("gpt"), &t, 1, "gpt2");
    fails_with(
        &bin(),
        &["forward", "gpt"],
        d,
        "unsupported architecture (model_type \"gpt2\")",
    );
    fails_with(
        &bin(),
        &["forward", "m", "--bits", "1..4"],
        d,
        "bit-width 1 outside 2..=16",
    );
    fails_with(
        &bin(),
        &["forward", "m", "--seq-len", "17"],
        d,
        "sequence length 17 outside 1..=16",
    );
    std::fs::write(d.join("m/model.safetensors"), "not a model").unwrap();
    fails_with(&bin(), &["forward", "m"], d, "not a valid safetensors file");
}

/// A word-level `tokenizer.json` for the tiny vocabulary (ids 0 `[PAD]`,
/// 1 `[UNK]`, 2 `[CLS]`, 3 `[SEP]`, then `w4`, `w5`, ...), with the fixed
/// padding to 20 and truncation a shipped tokenizer may carry.
fn write_tokenizer(path: &Path) {
    let mut vocab = serde_json::Map::new();
    for (i, t) in ["[PAD]", "[UNK]", "[CLS]", "[SEP]"].iter().enumerate() {
        vocab.insert(t.to_string(), i.into());
    }
    for i in 4..VOCAB {
        vocab.insert(format!("w{i}"), i.into());
    }
    let tok = serde_json::json!({
        "version": "1.0",
        "truncation": {"max_length": 20, "strategy": "LongestFirst", "stride": 0, "direction": "Right"},
        "padding": {"strategy": {"Fixed": 20}, "direction": "Right", "pad_to_multiple_of": null,
                    "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"},
        "added_tokens": [], "normalizer": null,
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": {"type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                               "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},
        "decoder": null,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "[UNK]"},
    });
    std::fs::write(path, tok.to_string()).unwrap();
}

/// `--text`: one sequence per non-empty line, `[CLS] words [SEP]`, padded to
/// the longest line with the padding masked out (the tokenizer's own fixed
/// padding is ignored), cut at `--seq-len`.
#[test]
fn text_lines_are_tokenized_padded_and_masked() {
    let (tmp, _) = model(1);
    let d = tmp.path();
    write_tokenizer(&d.join("m/tokenizer.json"));
    let text = "w4 w5 w6\n\nw7 nope\n";
    let inputs = Inputs::from_text(&d.join("m/tokenizer.json"), text, 16, 0).unwrap();
    assert_eq!((inputs.count, inputs.seq_len), (2, 5));
    assert_eq!(inputs.ids, [2, 4, 5, 6, 3, 2, 7, 1, 3, 0]);
    assert_eq!(inputs.mask, [1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
    let cut = Inputs::from_text(&d.join("m/tokenizer.json"), text, 3, 0).unwrap();
    assert_eq!(cut.ids, [2, 4, 5, 2, 7, 1]);
    // Padding tokens count in neither the error nor the pooled embedding.
    let (a, b) = ([1.0, 1.0, 5.0, 5.0], [0.0, 0.0, 0.0, 9.0]);
    assert_eq!(masked_mae(&a, &b, &[1, 0], 2), 1.0);
    let cos = |mask: &[u32]| pooled_cosine(&a, &[2.0, 2.0, 0.0, 9.0], mask, 1, 2);
    assert!((cos(&[1, 0]) - 1.0).abs() < 1e-12 && cos(&[1, 1]) < 0.9);
    std::fs::write(d.join("t.txt"), text).unwrap();
    forward(
        d,
        "m --text t.txt --bits 4 --quantizers uniform --heldout 0 --out o",
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("o/forward.json")).unwrap()).unwrap();
    assert_eq!(
        (json["sequences"].as_u64(), json["tokens"].as_u64()),
        (Some(2), Some(9))
    );
}
