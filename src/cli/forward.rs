//! `coinfer forward MODEL_DIR` (feature `forward`): the output-distortion
//! approximation calibrated and validated on forward passes of a real
//! quantized BERT checkpoint. Writes `forward.csv` (one row per
//! configuration), `forward.json` (fitted `A_l`, held-out scores),
//! `timing.json` (seconds per forward pass: the one file that differs
//! between identical runs) and `plots/forward_approximation.{svg,png}`;
//! with `--fit-profile`, a profile whose blocks carry the fitted `A_l`.

use super::distortion::{parse_bits, BitList, CombineArg, QuantizerArg};
use crate::fsio::{sync_folder, write_atomic};
use crate::model::laim::BlockConfig;
use crate::plot::{render, Figure, Format, Point};
use crate::quant::forward::{
    random_tokens, validate, Bert, Design, Inputs, Row, Score, Set, Validation, FORMS,
};
use crate::quant::{Aggregation, Quantize};
use crate::report::figures::approximation_figure;
use crate::scenario::ProfileFile;
use anyhow::{Context, Result};
use serde_json::json;
use std::path::{Path, PathBuf};

/// Arguments of `coinfer forward`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder with the checkpoint's config.json and model.safetensors.
    model_dir: PathBuf,
    /// Bit-widths: a range `2..12` (inclusive) or a list `2,4,8`.
    #[arg(long, default_value = "2..12", value_parser = parse_bits)]
    bits: BitList,
    /// Quantizers (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "uniform,lloyd_max")]
    quantizers: Vec<QuantizerArg>,
    /// Scale-group length of the uniform quantizer (default: per tensor).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    group_size: Option<u64>,
    /// Held-out configurations per quantizer (and as many mixing them).
    #[arg(long, default_value_t = 40)]
    heldout: usize,
    /// Input sequences of random token ids (unless --text).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=4096))]
    inputs: u64,
    /// A text file: each non-empty line is one input, tokenized by the
    /// model folder's tokenizer.json (instead of random token ids).
    #[arg(long)]
    text: Option<PathBuf>,
    /// Tokens per sequence (random inputs), or the most kept per line (--text).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=4096))]
    seq_len: u64,
    /// Seed of the inputs and of the held-out draws.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output folder (default: results/forward-<model folder name>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also write the blocks with their fitted A_l as a profile to this file.
    #[arg(long)]
    fit_profile: Option<PathBuf>,
    /// The form whose A_l go into the profile (--fit-profile).
    #[arg(long, value_enum, default_value = "quadrature")]
    combine: CombineArg,
}

pub(super) fn run(args: Args) -> Result<()> {
    let dir = &args.model_dir;
    anyhow::ensure!(dir.is_dir(), "{} is not a folder", dir.display());
    let bert = Bert::load(dir, Quantize::Matrices)?;
    let group_size = args.group_size.map(|g| g as usize);
    let design = Design {
        quantizers: args.quantizers.iter().map(|q| q.kind(group_size)).collect(),
        bits: args.bits.0.clone(),
        heldout: args.heldout,
        seed: args.seed,
    };
    let inputs = match &args.text {
        Some(file) => {
            let text =
                std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
            let tokenizer = dir.join("tokenizer.json");
            Inputs::from_text(&tokenizer, &text, args.seq_len as usize, bert.pad_token_id())?
        }
        None => random_tokens(
            bert.vocab_size(),
            args.inputs as usize,
            args.seq_len as usize,
            args.seed,
        ),
    };
    let v = validate(&bert, &design, &inputs)?;
    let name = dir.file_name().and_then(|s| s.to_str()).unwrap_or("model");
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(format!("forward-{name}")));
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    write_atomic(&out.join("forward.csv"), &rows_csv(&v.rows)?)?;
    write_atomic(
        &out.join("forward.json"),
        &summary_json(&args, &bert, &v, &inputs)?,
    )?;
    write_atomic(&out.join("timing.json"), &timing_json(&v, &inputs)?)?;
    let drawn = render(&figure(&v.rows), &out.join("plots"), &[Format::Svg, Format::Png]);
    sync_folder(&out)?;
    drawn?;
    print_scores(&bert, &v);
    eprintln!("wrote {}", out.display());
    if let Some(file) = &args.fit_profile {
        write_fitted(&args, &bert, &v, file)?;
    }
    Ok(())
}

/// A configuration's settings as `bits` and `quantizers` columns (`fp`:
/// full precision), blocks joined by `-`.
fn settings_columns(r: &Row) -> (String, String) {
    let (bits, kinds): (Vec<String>, Vec<&str>) = r
        .settings
        .iter()
        .map(|s| s.map_or(("fp".into(), "fp"), |s| (s.bits.to_string(), s.kind.name())))
        .unzip();
    (bits.join("-"), kinds.join("-"))
}

fn set_name(set: Set) -> &'static str {
    match set {
        Set::Calibration => "calibration",
        Set::Heldout => "heldout",
    }
}

fn rows_csv(rows: &[Row]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "set",
        "group",
        "bits",
        "quantizers",
        "measured_mae",
        "cosine",
        "predicted_linear",
        "predicted_quadrature",
    ])?;
    for r in rows {
        let (bits, kinds) = settings_columns(r);
        w.write_record([
            set_name(r.set).to_string(),
            r.group.clone(),
            bits,
            kinds,
            r.mae.to_string(),
            r.cosine.to_string(),
            r.predicted[0].to_string(),
            r.predicted[1].to_string(),
        ])?;
    }
    Ok(w.into_inner()?)
}

fn form_name(form: Aggregation) -> &'static str {
    match form {
        Aggregation::Linear => "linear",
        Aggregation::Quadrature => "quadrature",
    }
}

fn summary_json(args: &Args, bert: &Bert, v: &Validation, inputs: &Inputs) -> Result<Vec<u8>> {
    let blocks: Vec<_> = bert
        .blocks
        .iter()
        .enumerate()
        .map(|(l, b)| {
            json!({"name": b.name, "params": b.params, "lambda": b.lambda,
                   "coef_linear": v.coef[0][l], "coef_quadrature": v.coef[1][l]})
        })
        .collect();
    let scores: Vec<_> = v
        .scores
        .iter()
        .map(|s| {
            let (bits, kinds) = settings_columns(&v.rows[s.worst_rel_error.1]);
            json!({"group": s.group, "form": form_name(s.form), "count": s.count,
                   "r2": s.r2, "r2_log": s.r2_log, "spearman": s.spearman,
                   "mean_rel_error": s.mean_rel_error, "worst_rel_error": s.worst_rel_error.0,
                   "worst_bits": bits, "worst_quantizers": kinds})
        })
        .collect();
    let summary = json!({
        "model": args.model_dir.display().to_string(),
        "measured": "mean absolute error of the final hidden states against full precision",
        "text": args.text.as_ref().map(|t| t.display().to_string()),
        "sequences": inputs.count, "seq_len": inputs.seq_len, "tokens": inputs.mask.iter().sum::<u32>(),
        "seed": args.seed,
        "bits": args.bits.0.iter().map(|b| b.get()).collect::<Vec<_>>(),
        "quantizers": args.quantizers.iter().map(|q| q.kind(None).name()).collect::<Vec<_>>(),
        "group_size": args.group_size,
        "heldout_per_group": args.heldout,
        "blocks": blocks,
        "heldout_scores": scores,
    });
    Ok((serde_json::to_string_pretty(&summary)? + "\n").into_bytes())
}

fn timing_json(v: &Validation, inputs: &Inputs) -> Result<Vec<u8>> {
    let n = v.pass_seconds.len().max(1) as f64;
    let mean = v.pass_seconds.iter().sum::<f64>() / n;
    let t = json!({
        "forward_passes": v.pass_seconds.len(),
        "seconds_per_pass": mean,
        "seconds_per_sequence": mean / inputs.count.max(1) as f64,
        "sequences_per_pass": inputs.count, "seq_len": inputs.seq_len,
        "rayon_threads": rayon::current_num_threads(),
    });
    Ok((serde_json::to_string_pretty(&t)? + "\n").into_bytes())
}

/// Predicted against measured MAE of the held-out configurations.
fn figure(rows: &[Row]) -> Figure {
    let points = rows.iter().filter(|r| r.set == Set::Heldout).flat_map(|r| {
        FORMS.into_iter().enumerate().map(move |(k, form)| {
            let label = format!("{} {}", r.group, form_name(form));
            (label, Point::new(r.mae, r.predicted[k]))
        })
    });
    approximation_figure(
        "forward_approximation",
        "held-out configurations",
        "Measured output MAE E|y − ŷ|",
        points,
    )
}

fn print_scores(bert: &Bert, v: &Validation) {
    println!(
        "{:<24} {:>10} {:>12} {:>12}",
        "block", "params", "A_l linear", "A_l quadr."
    );
    for (l, b) in bert.blocks.iter().enumerate() {
        println!(
            "{:<24} {:>10} {:>12.4e} {:>12.4e}",
            b.name, b.params, v.coef[0][l], v.coef[1][l]
        );
    }
    println!("\n{SCORE_HEADER}");
    for s in &v.scores {
        println!("{}", score_row(s));
    }
}

/// Column names of [`score_row`].
const SCORE_HEADER: &str = "group      form          n      R2 R2(log) spearman  mean rel worst rel";

/// One held-out score as a table row under [`SCORE_HEADER`].
fn score_row(s: &Score) -> String {
    format!(
        "{:<10} {:<10} {:>4} {:>7.3} {:>7.3} {:>8.3} {:>8.1}% {:>8.1}%",
        s.group,
        form_name(s.form),
        s.count,
        s.r2,
        s.r2_log,
        s.spearman,
        100.0 * s.mean_rel_error,
        100.0 * s.worst_rel_error.0
    )
}

/// The blocks with the fitted `A_l` of `--combine`, as a profile (no
/// `source`: a scenario using it needs no model file).
fn write_fitted(args: &Args, bert: &Bert, v: &Validation, file: &Path) -> Result<()> {
    let combine = args.combine.aggregation();
    let k = FORMS.iter().position(|&f| f == combine).unwrap_or(0);
    let blocks = bert
        .blocks
        .iter()
        .zip(&v.coef[k])
        .map(|(b, &a)| BlockConfig {
            name: b.name.clone(),
            params: b.params as f64,
            lambda: b.lambda,
            degenerate: b.lambda.is_none(),
            coef: Some(a),
            output_bits: None,
            output_elems: None,
            ks: b.ks,
        })
        .collect();
    let profile = ProfileFile {
        source: None,
        group_depth: None,
        quantize: Quantize::Matrices,
        combine: Some(combine),
        blocks,
    };
    let mut kinds = args
        .quantizers
        .iter()
        .map(|q| q.kind(None).name())
        .collect::<Vec<_>>()
        .join(",");
    if let Some(g) = args.group_size {
        kinds += &format!(" (group size {g})");
    }
    let bits: Vec<String> = args.bits.0.iter().map(|b| b.to_string()).collect();
    let model = args.model_dir.file_name().unwrap_or(args.model_dir.as_os_str());
    let score = v
        .scores
        .iter()
        .find(|s| s.group == "all" && s.form == combine)
        .map_or("no held-out configurations".into(), |s| {
            format!("held-out scores:\n// {SCORE_HEADER}\n// {}", score_row(s))
        });
    let header = format!(
        "// coinfer profile with output sensitivities A_l fitted by `coinfer forward` on the model folder {}\n\
         // output model {:?} (D_out: mean absolute error of the final hidden states); quantizers {}, bits {}, inputs {}, held-out {} per group, seed {}\n\
         // {score}\n",
        model.to_string_lossy(),
        combine,
        kinds,
        bits.join(","),
        args.text.as_ref().map_or(format!("{} x {} random tokens", args.inputs, args.seq_len), |t| t.display().to_string()),
        args.heldout,
        args.seed,
    );
    super::fit_profile::write_profile(file, &header, &profile)?;
    eprintln!("wrote {} (A_l for {combine:?})", file.display());
    Ok(())
}
