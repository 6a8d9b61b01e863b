//! `coinfer distortion --fit-profile FILE`: fits each block's output
//! sensitivity `A_l` and writes the blocks with these coefficients (and the
//! output model they were fitted for) as a profile a scenario can use.

use crate::fsio::write_durable;
use crate::quant::study::fit_block_coefficients;
use crate::quant::{Aggregation, QuantizerKind};
use crate::scenario::ProfileFile;
use anyhow::{Context, Result};
use std::path::Path;

/// Most blocks the proxy network fits (one layer each).
const MAX_BLOCKS: usize = 64;

/// How the coefficients are fitted.
pub(super) struct Fit {
    /// Quantizer whose distortion the fit uses.
    pub quantizer: QuantizerKind,
    /// Output model fitted.
    pub combine: Aggregation,
    /// Width of the proxy network's layers.
    pub width: usize,
    /// Seed of the proxy network and its inputs.
    pub seed: u64,
}

impl Fit {
    /// Fits `profile`'s blocks (read from `input`) and writes the result to `out`.
    pub fn write(&self, profile: &ProfileFile, input: &Path, out: &Path) -> Result<()> {
        let fitted: Vec<usize> = (0..profile.blocks.len())
            .filter(|&l| profile.blocks[l].lambda.is_some())
            .collect();
        anyhow::ensure!(
            !fitted.is_empty(),
            "--fit-profile: every block is degenerate: nothing to fit"
        );
        anyhow::ensure!(
            fitted.len() <= MAX_BLOCKS,
            "--fit-profile fits one proxy layer per block: {} blocks is more than {MAX_BLOCKS}; group the tensors into fewer blocks (coinfer profile --group-by)",
            fitted.len()
        );
        let blocks: Vec<(f64, f64)> = fitted
            .iter()
            .map(|&l| {
                (
                    profile.blocks[l].params,
                    profile.blocks[l].lambda.unwrap_or(f64::INFINITY),
                )
            })
            .collect();
        let (coef, calib) =
            fit_block_coefficients(self.quantizer, &blocks, self.width, self.combine, self.seed);
        let mut out_profile = profile.clone();
        for (&l, c) in fitted.iter().zip(coef) {
            out_profile.blocks[l].coef = Some(c);
        }
        out_profile.combine = Some(self.combine);
        let in_dir = input.parent().unwrap_or(Path::new(""));
        let out_dir = out.parent().unwrap_or(Path::new(""));
        out_profile.source = profile.source.as_ref().map(|s| {
            super::profile::relative_to(&in_dir.join(s), out_dir)
                .display()
                .to_string()
        });
        let score = if calib.heldout.is_empty() {
            "no held-out configurations (a single block)".to_string()
        } else {
            format!(
                "held-out R2 {:.3}, R2(log) {:.3}, mean relative error {:.1} %",
                calib.r2,
                calib.r2_log,
                100.0 * calib.rel_error
            )
        };
        let header = format!(
            "// coinfer profile with output sensitivities A_l fitted by `coinfer distortion --fit-profile`\n\
             // quantizer {}, output model {:?}, proxy: one {w}x{w} FC+LayerNorm layer per block with its lambda, seed {}\n\
             // {score}\n",
            self.quantizer.name(),
            self.combine,
            self.seed,
            w = self.width,
        );
        write_profile(out, &header, &out_profile)?;
        eprintln!("wrote {} (A_l for {:?}; {score})", out.display(), self.combine);
        Ok(())
    }
}

/// Writes `profile` as pretty RON after the comment lines `header` to `out`
/// (atomically, creating its folder).
pub(super) fn write_profile(out: &Path, header: &str, profile: &ProfileFile) -> Result<()> {
    let pretty = ron::ser::PrettyConfig::new()
        .struct_names(false)
        .indentor("    ".into())
        .extensions(ron::extensions::Extensions::IMPLICIT_SOME);
    let body = ron::ser::to_string_pretty(profile, pretty).context("profile serializes")?;
    let out_dir = out.parent().unwrap_or(Path::new(""));
    if !out_dir.as_os_str().is_empty() {
        std::fs::create_dir_all(out_dir).with_context(|| format!("cannot create {}", out_dir.display()))?;
    }
    write_durable(out, format!("{header}{body}\n").as_bytes())
        .with_context(|| format!("cannot write {}", out.display()))
}
