//! `coinfer profile MODEL.safetensors`: per-block params and fitted λ as a RON
//! profile a scenario can include with `model: (profile: "x.ron")`.

use crate::fsio::write_atomic;
use crate::quant::profile_safetensors;
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
    /// Write the profile here instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
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
    let profile = profile_safetensors(&args.model, args.group_by)?;
    // The profile names its model file relative to where the profile is written.
    let source = match &args.out {
        Some(out) => relative_to(&args.model, out.parent().unwrap_or(std::path::Path::new(""))),
        None => args.model.clone(),
    };
    let text = profile.to_ron(&source);
    eprintln!("{:<40} {:>14} {:>12} {:>8}", "block", "params", "lambda", "KS");
    for b in &profile.blocks {
        let warn = if b.ks > 0.1 {
            "  <- exponential law fits poorly"
        } else {
            ""
        };
        eprintln!(
            "{:<40} {:>14} {:>12.4} {:>8.4}{warn}",
            b.name, b.params, b.lambda, b.ks
        );
    }
    for t in &profile.skipped {
        eprintln!("skipped {} ({}): {}", t.name, t.dtype, t.reason);
    }
    match args.out {
        Some(out) => {
            write_atomic(&out, text.as_bytes()).with_context(|| format!("cannot write {}", out.display()))?
        }
        None => {
            use std::io::Write;
            write!(std::io::stdout().lock(), "{text}")?
        }
    }
    Ok(())
}

/// `path` as seen from folder `base` (absolute if it cannot be made relative).
fn relative_to(path: &std::path::Path, base: &std::path::Path) -> PathBuf {
    let abs = |p: &std::path::Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
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
