//! The command line (SPEC 9): parses arguments and runs a subcommand.
//! `anyhow` lives here only; library modules return typed errors.

use crate::report;
use crate::runner::Runner;
use crate::scenario::Scenario;
use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::time::Instant;

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
        } => cmd_run(&scenario, out, seeds, threads, quiet),
        Command::Check { scenario } => cmd_check(&scenario),
    }
}

fn cmd_check(path: &Path) -> Result<()> {
    let sc = Scenario::load(path)?;
    print!("{}", sc.to_ron());
    let requests = sc.expected_requests();
    println!(
        "// expected per run: {requests:.0} requests, about {:.0} events (4 per request: arrival, compute, uplink, service)",
        4.0 * requests
    );
    println!(
        "// runs: {} policies x {} seeds = {}",
        sc.policies.len(),
        sc.seeds,
        sc.policies.len() as u64 * sc.seeds as u64
    );
    Ok(())
}

fn cmd_run(path: &Path, out: Option<PathBuf>, seeds: Option<u32>, threads: usize, quiet: bool) -> Result<()> {
    let mut sc = Scenario::load(path)?;
    if let Some(n) = seeds {
        anyhow::ensure!(n >= 1, "--seeds must be at least 1");
        sc.seeds = n;
    }
    let out = out.unwrap_or_else(|| sc.default_out_dir());
    let started = Instant::now();
    let results = Runner::new(&sc).threads(threads).progress(!quiet).run();
    let rows = report::aggregate(&results);
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let write = |name: &str, text: String| {
        report::write_atomic(&out.join(name), text.as_bytes())
            .with_context(|| format!("cannot write {}", out.join(name).display()))
    };
    write("scenario.ron", sc.to_ron())?;
    write("summary.csv", report::summary_csv(&rows))?;
    write(
        "summary.json",
        report::summary_json(&sc.name, &sc.seed_list(), &rows),
    )?;
    if !quiet {
        let runs: usize = results.iter().map(|p| p.runs.len()).sum();
        eprintln!(
            "{runs} runs in {:.2} s -> {}",
            started.elapsed().as_secs_f64(),
            out.display()
        );
    }
    Ok(())
}
