//! The command line (SPEC 9): parses arguments and runs a subcommand.
//! `anyhow` lives here only; library modules return typed errors.
//!
//! A program with its own policies gets every subcommand unchanged by
//! handing its registry to [`main_with`]:
//!
//! ```no_run
//! use coinfer::policy::Registry;
//! fn main() -> std::process::ExitCode {
//!     let registry = Registry::default(); // .register("my_policy", &[], my_constructor)
//!     coinfer::cli::main_with(registry)
//! }
//! ```

mod distortion;
mod fit_profile;
#[cfg(feature = "forward")]
mod forward;
mod profile;
mod run;
mod solve;

use crate::policy::Registry;
use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

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
    /// List the studies in the result folders of a folder (as its index.csv).
    Ls(run::LsArgs),
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
    /// Calibrate and validate the output-distortion approximation on forward
    /// passes of a real quantized BERT checkpoint (feature `forward`).
    #[cfg(feature = "forward")]
    Forward(forward::Args),
}

/// The `coinfer` program with the built-in policies.
pub fn main() -> ExitCode {
    main_with(Registry::default())
}

/// The `coinfer` program with the policies of `registry`: parses the process
/// arguments, runs the command and reports errors. Output cut short by a
/// closed pipe (`coinfer solve --json | head`) is not an error.
pub fn main_with(registry: Registry) -> ExitCode {
    match run(Cli::parse(), &registry) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}

/// Runs a parsed command line with the policies of `registry`.
pub fn run(cli: Cli, registry: &Registry) -> Result<()> {
    match cli.command {
        Command::Run(args) => run::run(args, registry),
        Command::Merge(args) => run::merge(args, registry),
        Command::Plot(args) => run::plot(args),
        Command::Ls(args) => run::ls(args),
        Command::Check { scenario } => run::check(&scenario, registry),
        Command::Solve(args) => solve::run(args, registry),
        Command::Distortion(args) => distortion::run(args, registry),
        Command::Profile(args) => profile::run(args),
        #[cfg(feature = "forward")]
        Command::Forward(args) => forward::run(args),
    }
}
