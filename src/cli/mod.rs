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
    /// Simulate every sweep point × policy × seed of a scenario and write the results.
    Run(run::Args),
    /// Merge the shards of a run (`run --shard I/N`) into one set of results.
    Merge(run::MergeArgs),
    /// Redraw the figures of a result folder from its files.
    Plot(run::PlotArgs),
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
        Command::Run(args) => run::run(args),
        Command::Merge(args) => run::merge(args),
        Command::Plot(args) => run::plot(args),
        Command::Check { scenario } => run::check(&scenario),
        Command::Solve(args) => solve::run(args),
        Command::Distortion(args) => distortion::run(args),
        Command::Profile(args) => profile::run(args),
    }
}
