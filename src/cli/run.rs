//! `coinfer run` and `coinfer check`.

use crate::report;
use crate::runner::Runner;
use crate::scenario::Scenario;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::time::Instant;

pub(super) fn check(path: &Path) -> Result<()> {
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

pub(super) fn run(
    path: &Path,
    out: Option<PathBuf>,
    seeds: Option<u32>,
    threads: usize,
    quiet: bool,
) -> Result<()> {
    let mut sc = Scenario::load(path)?;
    if let Some(n) = seeds {
        anyhow::ensure!(n >= 1, "--seeds must be at least 1");
        sc.seeds = n;
    }
    let out = out.unwrap_or_else(|| sc.default_out_dir());
    let started = Instant::now();
    let results = Runner::new(&sc).threads(threads).progress(!quiet).run()?;
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
