//! `coinfer distortion PROFILE_OR_SCENARIO`: per-weight distortion of each
//! quantizer against the rate–distortion bounds at every bit-width, and the
//! output-distortion approximation against forward passes.

use crate::fsio::write_atomic;
use crate::model::laim::BlockConfig;
use crate::policy::Registry;
use crate::quant::study::{block_rows, output_calibrations, BlockRow, BlockWeights};
use crate::quant::{load_block_weights, sample_laplace, Aggregation, QuantizerKind};
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
}

/// A quantizer named on the command line.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum QuantizerArg {
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
    fn kind(self, group_size: Option<usize>) -> QuantizerKind {
        match self {
            QuantizerArg::Uniform => QuantizerKind::Uniform { group_size },
            QuantizerArg::PotLog => QuantizerKind::PotLog,
            QuantizerArg::LloydMax => QuantizerKind::LloydMax,
        }
    }
}

/// A list of bit-widths.
#[derive(Clone, Debug)]
struct BitList(Vec<Bits>);

fn parse_bits(s: &str) -> Result<BitList, String> {
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
    blocks: Vec<BlockConfig>,
    weights_file: Option<(PathBuf, usize)>,
    samples: usize,
}

fn load_source(path: &Path, registry: &Registry) -> Result<Source> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    if let Ok(profile) = parse_ron::<ProfileFile>(path, &text) {
        let dir = path.parent().unwrap_or(Path::new("."));
        return Ok(Source {
            weights_file: profile
                .source
                .map(|s| (dir.join(s), profile.group_depth.unwrap_or(1))),
            blocks: profile.blocks,
            samples: 100_000,
        });
    }
    let study = Study::load(path, registry).context("not a profile, and not a valid scenario")?;
    let sc = study.scenario();
    Ok(Source {
        blocks: sc.model.blocks.clone().unwrap_or_default(),
        weights_file: sc
            .model
            .weights_file
            .as_ref()
            .map(|f| (PathBuf::from(f), sc.model.group_depth)),
        samples: sc.quantizer.sample_weights,
    })
}

pub(super) fn run(args: Args, registry: &Registry) -> Result<()> {
    let src = load_source(&args.input, registry)?;
    let samples = args.samples.map_or(src.samples, |s| s as usize);
    anyhow::ensure!(args.group_size != Some(0), "--group-size must be at least 1");
    let kinds: Vec<QuantizerKind> = args.quantizers.iter().map(|q| q.kind(args.group_size)).collect();
    let mut blocks = Vec::new();
    for (l, b) in src.blocks.iter().enumerate() {
        let weights = match &src.weights_file {
            Some((file, depth)) => load_block_weights(file, &b.name, *depth, samples)?,
            None => sample_laplace(
                &mut stream(args.seed, StreamId::new(Purpose::Weights, l as u32)),
                b.lambda,
                samples,
            ),
        };
        blocks.push(BlockWeights {
            name: b.name.clone(),
            params: b.params,
            lambda: b.lambda,
            weights,
        });
    }
    let rows = block_rows(&blocks, &kinds, &args.bits.0);
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
            r.lower.to_string(),
            r.upper.to_string(),
            r.kappa_q.to_string(),
        ])?;
    }
    write_atomic(&out.join("distortion.csv"), &w.into_inner()?)?;
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
    crate::report::figures::draw_distortion(&out, &[crate::plot::Format::Svg, crate::plot::Format::Png])?;
    eprintln!("wrote {}", out.display());
    Ok(())
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
            "Weights: real tensors. D_L and D_U use the fitted lambda: references, not guarantees."
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
                }
            }
            writeln!(out)?;
        }
    }
    Ok(())
}
