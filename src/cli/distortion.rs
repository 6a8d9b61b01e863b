//! `coinfer distortion PROFILE_OR_SCENARIO`: per-weight distortion of each
//! quantizer against the rate–distortion bounds at every bit-width, and the
//! output-distortion approximation against forward passes.

use crate::fsio::write_atomic;
use crate::model::laim::BlockConfig;
use crate::policy::Registry;
use crate::quant::study::{
    block_rows, checkpoint_rows, output_calibrations, BlockRow, BlockWeights, TensorRows,
};
use crate::quant::{sample_laplace, Aggregation, Checkpoint, Quantize, QuantizerKind, Role};
use crate::rng::{stream, Purpose, StreamId};
use crate::scenario::{parse_ron, ProfileFile};
use crate::study::Study;
use crate::units::Bits;
use anyhow::{Context, Result};
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Arguments of `coinfer distortion`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A profile (from `coinfer profile`) or a scenario file.
    input: PathBuf,
    /// Bit-widths: a range `2..16` (inclusive) or a list `2,4,8`.
    #[arg(long, default_value = "2..16", value_parser = parse_bits)]
    bits: BitList,
    /// Quantizers to measure (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "uniform,pot_log,lloyd_max")]
    quantizers: Vec<QuantizerArg>,
    /// Scale-group length of the uniform quantizer (default: per tensor).
    #[arg(long)]
    group_size: Option<usize>,
    /// Weights per block to measure on (default: the scenario's
    /// `quantizer.sample_weights`, else 100000).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=crate::check::MAX_SAMPLE_WEIGHTS as u64))]
    samples: Option<u64>,
    /// Seed of the synthetic weights and network.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Layers of the synthetic network for the output check.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=64))]
    net_depth: u64,
    /// Width of the synthetic network.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=4096))]
    net_width: u64,
    /// Output folder (default: results/distortion-<input name>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also fit each block's sensitivity A_l (on a proxy network with one
    /// layer per block, with the first of --quantizers) and write the input's
    /// blocks with these coefficients as a profile to this file.
    #[arg(long)]
    fit_profile: Option<PathBuf>,
    /// The output model the coefficients are fitted for (--fit-profile).
    #[arg(long, value_enum, default_value = "quadrature")]
    combine: CombineArg,
}

/// `--combine` values.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub(super) enum CombineArg {
    /// D_out = Σ A_l n_l d_l.
    Linear,
    /// D_out = (Σ (A_l n_l d_l)²)^½.
    Quadrature,
}

impl CombineArg {
    /// The output model chosen.
    pub(super) fn aggregation(self) -> Aggregation {
        match self {
            CombineArg::Linear => Aggregation::Linear,
            CombineArg::Quadrature => Aggregation::Quadrature,
        }
    }
}

/// A quantizer named on the command line.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub(super) enum QuantizerArg {
    /// Symmetric round-to-nearest (per tensor, or per `--group-size` weights).
    Uniform,
    /// Power-of-two levels.
    #[value(name = "pot_log")]
    PotLog,
    /// Lloyd–Max: the distortion-optimal scalar codebook.
    #[value(name = "lloyd_max")]
    LloydMax,
}

impl QuantizerArg {
    pub(super) fn kind(self, group_size: Option<usize>) -> QuantizerKind {
        match self {
            QuantizerArg::Uniform => QuantizerKind::Uniform { group_size },
            QuantizerArg::PotLog => QuantizerKind::PotLog,
            QuantizerArg::LloydMax => QuantizerKind::LloydMax,
        }
    }
}

/// A list of bit-widths.
#[derive(Clone, Debug)]
pub(super) struct BitList(pub(super) Vec<Bits>);

pub(super) fn parse_bits(s: &str) -> Result<BitList, String> {
    let parse = |t: &str| -> Result<Bits, String> {
        let b: u8 = t
            .trim()
            .parse()
            .map_err(|_| format!("`{t}` is not a bit-width"))?;
        Bits::new(b).ok_or_else(|| format!("bit-width {b} outside 2..=16"))
    };
    let v = match s.split_once("..") {
        Some((lo, hi)) => {
            let (lo, hi) = (parse(lo)?, parse(hi.trim_start_matches('='))?);
            if lo > hi {
                return Err(format!("empty range {s}"));
            }
            Bits::range(lo, hi).collect()
        }
        None => s.split(',').map(parse).collect::<Result<Vec<_>, _>>()?,
    };
    Ok(BitList(v))
}

/// Blocks, where their weights come from, and the default sample size.
struct Source {
    /// The profile file, when the input is one.
    profile: Option<ProfileFile>,
    blocks: Vec<BlockConfig>,
    weights_file: Option<WeightsFile>,
    samples: usize,
}

impl Source {
    /// The input as a profile: the profile itself, or a scenario's model.
    fn profile_of(&self, input: &Path) -> ProfileFile {
        self.profile.clone().unwrap_or_else(|| {
            let dir = input.parent().unwrap_or(Path::new("."));
            ProfileFile {
                source: self.weights_file.as_ref().map(|f| {
                    let p = f.path.strip_prefix(dir).unwrap_or(&f.path);
                    p.display().to_string()
                }),
                group_depth: self.weights_file.as_ref().map(|f| f.group_depth),
                quantize: self.weights_file.as_ref().map(|f| f.quantize).unwrap_or_default(),
                combine: None,
                blocks: self.blocks.clone(),
            }
        })
    }
}

/// A checkpoint and how its tensors form blocks.
struct WeightsFile {
    path: PathBuf,
    group_depth: usize,
    quantize: Quantize,
}

/// Reads a profile or a scenario; if it is neither, both reasons are given,
/// so a broken profile is not reported as a bad scenario only.
fn load_source(path: &Path, registry: &Registry) -> Result<Source> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let as_profile = match parse_ron::<ProfileFile>(path, &text) {
        Ok(profile) => {
            let dir = path.parent().unwrap_or(Path::new("."));
            return Ok(Source {
                weights_file: profile.source.as_ref().map(|s| WeightsFile {
                    path: dir.join(s),
                    group_depth: profile.group_depth.unwrap_or(1),
                    quantize: profile.quantize,
                }),
                blocks: profile.blocks.clone(),
                profile: Some(profile),
                samples: 100_000,
            });
        }
        Err(e) => e,
    };
    let study = match Study::load(path, registry) {
        Ok(study) => study,
        Err(as_scenario) => anyhow::bail!(
            "{} is neither a profile nor a scenario\n  as a profile: {as_profile}\n  as a scenario: {as_scenario}",
            path.display()
        ),
    };
    let sc = study.scenario();
    Ok(Source {
        profile: None,
        blocks: sc.model.blocks.clone().unwrap_or_default(),
        weights_file: sc.model.weights_file.as_ref().map(|f| WeightsFile {
            path: PathBuf::from(f),
            group_depth: sc.model.group_depth,
            quantize: sc.model.quantize,
        }),
        samples: sc.quantizer.sample_weights,
    })
}

/// The block rows, and the per-tensor rows when the weights are real.
fn measure(
    src: &Source,
    args: &Args,
    kinds: &[QuantizerKind],
    samples: usize,
) -> Result<(Vec<BlockRow>, Vec<TensorRows>)> {
    // A degenerate block has no law: λ = ∞ (bounds 0, synthetic weights all 0).
    let lambda = |b: &BlockConfig| b.lambda.unwrap_or(f64::INFINITY);
    if let Some(f) = &src.weights_file {
        let ck = Checkpoint::open(&f.path)?;
        let blocks: Vec<(String, f64, f64)> = src
            .blocks
            .iter()
            .map(|b| (b.name.clone(), b.params, lambda(b)))
            .collect();
        return Ok(checkpoint_rows(
            &ck,
            &blocks,
            f.group_depth,
            f.quantize,
            kinds,
            &args.bits.0,
            samples,
        )?);
    }
    let blocks: Vec<BlockWeights> = src
        .blocks
        .iter()
        .enumerate()
        .map(|(l, b)| BlockWeights {
            name: b.name.clone(),
            params: b.params,
            lambda: lambda(b),
            weights: match b.lambda {
                Some(lambda) => sample_laplace(
                    &mut stream(args.seed, StreamId::new(Purpose::Weights, l as u32)),
                    lambda,
                    samples,
                ),
                None => Vec::new(),
            },
        })
        .collect();
    Ok((block_rows(&blocks, kinds, &args.bits.0), Vec::new()))
}

pub(super) fn run(args: Args, registry: &Registry) -> Result<()> {
    let src = load_source(&args.input, registry)?;
    let samples = args.samples.map_or(src.samples, |s| s as usize);
    anyhow::ensure!(args.group_size != Some(0), "--group-size must be at least 1");
    let kinds: Vec<QuantizerKind> = args.quantizers.iter().map(|q| q.kind(args.group_size)).collect();
    let (rows, tensor_rows) = measure(&src, &args, &kinds, samples)?;
    let stem = args.input.file_stem().and_then(|s| s.to_str()).unwrap_or("model");
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from("results").join(format!("distortion-{stem}")));
    let real = src.weights_file.is_some();
    let mut stdout = std::io::stdout().lock();
    print_table(&mut stdout, &rows, &kinds, real)?;

    let mut calib = Vec::new();
    for kind in &kinds {
        for (agg, c) in output_calibrations(
            *kind,
            args.net_depth as usize,
            args.net_width as usize,
            50.0,
            args.seed,
        ) {
            calib.push((kind.name(), agg, c));
        }
    }
    writeln!(
        stdout,
        "\nOutput distortion: approximation vs forward passes of a synthetic FC+LayerNorm network"
    )?;
    writeln!(
        stdout,
        "({} layers of {}, Laplace(50) weights, ReLU; A_l fitted by NNLS, scored on held-out bit mixes)",
        args.net_depth, args.net_width
    )?;
    writeln!(
        stdout,
        "{:<10} {:<24} {:>8} {:>8} {:>10}",
        "quantizer", "form", "R2", "R2(log)", "rel.err"
    )?;
    for (q, agg, c) in &calib {
        let form = match agg {
            Aggregation::Linear => "linear  sum A n d",
            Aggregation::Quadrature => "quadrature sqrt(sum ^2)",
        };
        writeln!(
            stdout,
            "{q:<10} {form:<24} {:>8.3} {:>8.3} {:>9.1}%",
            c.r2,
            c.r2_log,
            100.0 * c.rel_error
        )?;
    }

    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "block",
        "params",
        "lambda",
        "quantizer",
        "bits",
        "measured",
        "std_error",
        "lower",
        "upper",
        "kappa_q",
    ])?;
    for r in &rows {
        w.write_record([
            r.block.clone(),
            r.params.to_string(),
            r.lambda.to_string(),
            r.quantizer.to_string(),
            r.bits.to_string(),
            r.measured.to_string(),
            r.std_error.map(|e| e.to_string()).unwrap_or_default(),
            r.lower.to_string(),
            r.upper.to_string(),
            r.kappa_q.to_string(),
        ])?;
    }
    write_atomic(&out.join("distortion.csv"), &w.into_inner()?)?;
    if !tensor_rows.is_empty() {
        write_atomic(
            &out.join("tensors.csv"),
            &tensors_csv(&tensor_rows, &args.bits.0)?,
        )?;
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["quantizer", "form", "set", "bits", "predicted", "measured"])?;
    for (q, agg, c) in &calib {
        for (set, rows) in [("train", &c.train), ("heldout", &c.heldout)] {
            for r in rows.iter() {
                let bits: Vec<String> = r.bits.iter().map(|b| b.to_string()).collect();
                w.write_record([
                    q.to_string(),
                    format!("{agg:?}").to_lowercase(),
                    set.to_string(),
                    bits.join("-"),
                    r.predicted.to_string(),
                    r.measured.to_string(),
                ])?;
            }
        }
    }
    write_atomic(&out.join("output.csv"), &w.into_inner()?)?;
    let summary = json!({
        "input": args.input.display().to_string(),
        "weights": if real { "real tensors: the bounds use the fitted lambda and are references, not guarantees" }
                   else { "synthetic Laplace weights drawn from each block's lambda" },
        "samples_per_block": samples,
        "calibration": calib.iter().map(|(q, agg, c)| json!({
            "quantizer": q, "form": format!("{agg:?}").to_lowercase(),
            "coefficients": c.coefficients, "r2": c.r2, "r2_log": c.r2_log, "rel_error": c.rel_error,
        })).collect::<Vec<_>>(),
    });
    write_atomic(
        &out.join("distortion.json"),
        (serde_json::to_string_pretty(&summary)? + "\n").as_bytes(),
    )?;
    let drawn =
        crate::report::figures::draw_distortion(&out, &[crate::plot::Format::Svg, crate::plot::Format::Png]);
    crate::fsio::sync_folder(&out)?;
    drawn?;
    eprintln!("wrote {}", out.display());
    if let Some(file) = &args.fit_profile {
        let combine = args.combine.aggregation();
        let fit = super::fit_profile::Fit {
            quantizer: kinds[0],
            combine,
            width: args.net_width as usize,
            seed: args.seed,
        };
        fit.write(&src.profile_of(&args.input), &args.input, file)?;
    }
    Ok(())
}

/// `tensors.csv`: one row per tensor, quantizer and bit-width.
fn tensors_csv(rows: &[TensorRows], bits: &[Bits]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "block",
        "tensor",
        "params",
        "role",
        "scored",
        "quantizer",
        "bits",
        "measured",
        "std_error",
    ])?;
    for r in rows {
        for t in &r.tensors {
            let role = match t.role {
                Role::Quantized => "quantized",
                Role::Degenerate => "degenerate",
                Role::Fixed16 => "fixed16",
            };
            for &b in bits {
                w.write_record([
                    r.block.clone(),
                    t.name.clone(),
                    t.params.to_string(),
                    role.to_string(),
                    t.scored.to_string(),
                    r.quantizer.to_string(),
                    b.to_string(),
                    t.distortion[usize::from(b)].to_string(),
                    t.std_error[usize::from(b)].to_string(),
                ])?;
            }
        }
    }
    Ok(w.into_inner()?)
}

fn print_table(
    out: &mut impl Write,
    rows: &[BlockRow],
    kinds: &[QuantizerKind],
    real: bool,
) -> std::io::Result<()> {
    if real {
        writeln!(
            out,
            "Weights: real tensors, each with its own scale from all its weights (d: weighted mean over the\nblock's quantized tensors, estimated on a stratified random sample, ± its standard error).\nD_L and D_U use the fitted lambda: references, not guarantees."
        )?;
    } else {
        writeln!(
            out,
            "Weights: synthetic Laplace(lambda). Every quantizer must stay above D_L."
        )?;
    }
    let mut blocks: Vec<&str> = rows.iter().map(|r| r.block.as_str()).collect();
    blocks.dedup();
    for block in blocks {
        let of_block: Vec<&BlockRow> = rows.iter().filter(|r| r.block == block).collect();
        let (params, lambda) = (of_block[0].params, of_block[0].lambda);
        writeln!(out, "\nblock {block}: {params} weights, lambda {lambda}")?;
        write!(out, "{:>4} {:>11} {:>11}", "bits", "D_L", "D_U")?;
        for k in kinds {
            write!(out, " {:>11} {:>7}", k.name(), "kappa")?;
            if real {
                write!(out, " {:<10}", " s.e.")?;
            }
        }
        writeln!(out)?;
        let mut bits: Vec<Bits> = of_block.iter().map(|r| r.bits).collect();
        bits.sort();
        bits.dedup();
        for b in bits {
            let at: Vec<&&BlockRow> = of_block.iter().filter(|r| r.bits == b).collect();
            write!(out, "{b:>4} {:>11.4e} {:>11.4e}", at[0].lower, at[0].upper)?;
            for k in kinds {
                if let Some(r) = at.iter().find(|r| r.quantizer == k.name()) {
                    write!(out, " {:>11.4e} {:>7.3}", r.measured, r.kappa_q)?;
                    if let Some(se) = r.std_error {
                        write!(out, " ±{:<9.2e}", se)?;
                    }
                }
            }
            writeln!(out)?;
        }
    }
    Ok(())
}
