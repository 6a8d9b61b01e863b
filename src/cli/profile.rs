//! `coinfer profile MODEL.safetensors`: per-block params and fitted λ as a RON
//! profile a scenario can include with `model: (profile: "x.ron")`.

use crate::fsio::write_durable;
use crate::quant::{profile_safetensors, Quantize};
use anyhow::{Context, Result};
use std::path::PathBuf;

/// Arguments of `coinfer profile`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Model file (.safetensors; f32, f16 and bf16 tensors are read).
    model: PathBuf,
    /// Tensors whose names share their first N dot-separated components form
    /// one block (e.g. 2: `vision.layers.0.q.weight` -> `vision.layers`).
    #[arg(long, default_value_t = 2)]
    group_by: usize,
    /// Which tensors are quantized: `matrices` (vectors such as biases and
    /// LayerNorm gains stay at 16 bits and are listed apart) or `all`.
    #[arg(long, value_enum, default_value = "matrices")]
    quantize: QuantizeArg,
    /// Write the profile here instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// `--quantize` values.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum QuantizeArg {
    /// Tensors with at least two dimensions larger than 1.
    Matrices,
    /// Every float tensor.
    All,
}

pub(super) fn run(args: Args) -> Result<()> {
    if let Some(out) = &args.out {
        let same = |a: &std::path::Path, b: &std::path::Path| match (a.canonicalize(), b.canonicalize()) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        };
        anyhow::ensure!(
            !same(out, &args.model),
            "--out {} is the model file itself: refusing to write over an input; choose another file, e.g. {}",
            out.display(),
            args.model.with_extension("ron").display()
        );
    }
    let quantize = match args.quantize {
        QuantizeArg::Matrices => Quantize::Matrices,
        QuantizeArg::All => Quantize::All,
    };
    let profile = profile_safetensors(&args.model, args.group_by, quantize)?;
    // The profile names its model file relative to where the profile is written.
    let source = match &args.out {
        Some(out) => relative_to(&args.model, out.parent().unwrap_or(std::path::Path::new(""))),
        None => args.model.clone(),
    };
    let text = profile.to_ron(&source);
    eprintln!("{:<40} {:>14} {:>12} {:>8}", "block", "params", "lambda", "KS");
    for b in &profile.blocks {
        let (lambda, ks) = match (b.lambda, b.ks) {
            (Some(l), Some(k)) => (format!("{l:.4}"), format!("{k:.4}")),
            _ => ("-".into(), "-".into()),
        };
        let warn = match b.ks {
            Some(k) if k > 0.1 => "  <- exponential law fits poorly",
            None if b.params > 0 => "  <- degenerate: every quantized tensor is constant",
            None => "  <- no quantized tensor",
            _ => "",
        };
        eprintln!("{:<40} {:>14} {lambda:>12} {ks:>8}{warn}", b.name, b.params);
        for (t, n) in &b.fixed16 {
            eprintln!("  kept at 16 bits: {t} ({n} weights)");
        }
        for (t, n) in &b.degenerate {
            eprintln!("  degenerate (constant magnitude): {t} ({n} weights)");
        }
    }
    for t in &profile.skipped {
        eprintln!("skipped {} ({}): {}", t.name, t.dtype, t.reason);
    }
    match args.out {
        Some(out) => {
            if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            }
            write_durable(&out, text.as_bytes()).with_context(|| format!("cannot write {}", out.display()))?
        }
        None => {
            use std::io::Write;
            write!(std::io::stdout().lock(), "{text}")?
        }
    }
    Ok(())
}

/// `path` as seen from folder `base` (absolute if it cannot be made relative).
pub(super) fn relative_to(path: &std::path::Path, base: &std::path::Path) -> PathBuf {
    // Absolute, with `x/..` folded lexically.
    let abs = |p: &std::path::Path| {
        let a = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        let mut out = PathBuf::new();
        for c in a.components() {
            match c {
                std::path::Component::ParentDir if out.parent().is_some() => {
                    out.pop();
                }
                c => out.push(c),
            }
        }
        out
    };
    let (p, b) = (abs(path), abs(base));
    let common = p
        .components()
        .zip(b.components())
        .take_while(|(x, y)| x == y)
        .count();
    if common == 0 {
        return p;
    }
    let mut rel = PathBuf::new();
    for _ in b.components().skip(common) {
        rel.push("..");
    }
    for c in p.components().skip(common) {
        rel.push(c);
    }
    rel
}
