//! The command line (SPEC 9): parses arguments and runs a subcommand.
//! `anyhow` lives here only; library modules return typed errors.

mod distortion;
mod profile;
mod run;
mod solve;

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// coinfer: quantization-aware collaborative inference simulator.
#[derive(Debug, Parser)]
#[command(name = "coinfer", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Simulate every policy × seed of a scenario and write the results.
    Run {
        /// Scenario file (RON).
        scenario: PathBuf,
        /// Output folder (default: results/<scenario name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Seeds per policy (default: the scenario's `seeds`).
        #[arg(long)]
        seeds: Option<u32>,
        /// Worker threads (default: one per core).
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Validate a scenario and print it resolved, with expected counts.
    Check {
        /// Scenario file (RON).
        scenario: PathBuf,
    },
    /// The paper's one-shot static problem at one channel: each policy's decision.
    Solve(solve::Args),
    /// Per-weight and output distortion against bit-width: bounds, quantizers,
    /// and the output approximation against forward passes.
    Distortion(distortion::Args),
    /// Fit a model profile (params, λ per block) from a .safetensors file.
    Profile(profile::Args),
}

/// Parses the process arguments and runs the command.
pub fn main() -> Result<()> {
    run(Cli::parse())
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run {
            scenario,
            out,
            seeds,
            threads,
            quiet,
        } => run::run(&scenario, out, seeds, threads, quiet),
        Command::Check { scenario } => run::check(&scenario),
        Command::Solve(args) => solve::run(args),
        Command::Distortion(args) => distortion::run(args),
        Command::Profile(args) => profile::run(args),
    }
}
