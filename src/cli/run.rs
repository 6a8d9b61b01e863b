//! `coinfer run`, `coinfer check` and `coinfer merge`.

use crate::metrics::PointResults;
use crate::plot::Format;
use crate::policy::Registry;
use crate::report::figures::{self, KEY_METRICS};
use crate::report::{self, Provenance};
use crate::runner::{RunError, Runner};
use crate::scenario::{sweep, Scenario};
use crate::shard;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Arguments of `coinfer run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario file (RON).
    scenario: PathBuf,
    /// Output folder (default: results/<scenario name>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Seeds per point and policy (default: the scenario's `seeds`).
    #[arg(long)]
    seeds: Option<u32>,
    /// Worker threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Run only the seeds with index % N == I and write partial results to
    /// OUT/shards/I-of-N/ (combine them with `coinfer merge OUT`).
    #[arg(long, value_parser = parse_shard)]
    shard: Option<(u32, u32)>,
    /// Skip batches of runs already on disk from an interrupted run.
    #[arg(long)]
    resume: bool,
    /// Also write one CSV row per request to OUT/trace/ (large).
    #[arg(long)]
    trace: bool,
    /// No progress bar and no final line.
    #[arg(long)]
    quiet: bool,
}

fn parse_shard(s: &str) -> Result<(u32, u32), String> {
    let err = || format!("`{s}` is not a shard: expected I/N with 0 <= I < N, e.g. 3/8");
    let (i, n) = s.split_once('/').ok_or_else(err)?;
    let (i, n): (u32, u32) = (i.parse().map_err(|_| err())?, n.parse().map_err(|_| err())?);
    if n == 0 || i >= n {
        return Err(err());
    }
    Ok((i, n))
}

pub(super) fn check(path: &Path) -> Result<()> {
    let sc = Scenario::load(path)?;
    print!("{}", sc.to_ron());
    let points = sweep::points(&sc).expect("validated");
    let requests: f64 =
        points.iter().map(|p| p.scenario.expected_requests()).sum::<f64>() / points.len() as f64;
    println!(
        "// expected per run: {requests:.0} requests, about {:.0} events (4 per request: arrival, compute, uplink, service)",
        4.0 * requests
    );
    println!(
        "// runs: {} points x {} policies x {} seeds = {}",
        points.len(),
        sc.policies.len(),
        sc.seeds,
        points.len() as u64 * sc.policies.len() as u64 * sc.seeds as u64
    );
    Ok(())
}

/// Writes the result files of a finished study into `out`.
fn write_results(out: &Path, sc: &Scenario, points: &[PointResults], wall_time_s: f64) -> Result<()> {
    let rows = report::aggregate(points);
    let reference = match &sc.reference {
        Some(r) => points[0]
            .policies
            .iter()
            .position(|p| &p.label == r)
            .expect("validated"),
        None => 0,
    };
    let paired = report::paired(points, reference);
    let prov = Provenance {
        scenario_hash: crate::fsio::hash_hex(&sc.to_ron()),
        base_seed: sc.base_seed,
        wall_time_s,
    };
    let deadlines: Vec<f64> = sweep::points(sc)
        .expect("validated")
        .iter()
        .map(|p| p.scenario.agents.deadline_s)
        .collect();
    let files = [
        ("scenario.ron", sc.to_ron()),
        ("summary.csv", report::summary_csv(&rows)),
        ("paired.csv", report::paired_csv(&paired)),
        ("histograms.json", report::histograms_json(points, &deadlines)),
        ("summary.json", report::summary_json(&sc.name, &prov, &rows)),
    ];
    for (name, text) in files {
        let path = out.join(name);
        crate::fsio::write_atomic(&path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let metrics: Vec<String> = KEY_METRICS.map(String::from).to_vec();
    figures::draw_results(out, &[Format::Svg, Format::Png], &metrics)?;
    Ok(())
}

pub(super) fn run(args: Args) -> Result<()> {
    let mut sc = Scenario::load(&args.scenario)?;
    if let Some(n) = args.seeds {
        anyhow::ensure!(n >= 1, "--seeds must be at least 1");
        sc.seeds = n;
    }
    let (si, sn) = args.shard.unwrap_or((0, 1));
    if sn > 1 && sc.ci_rel.is_some() {
        bail!("ci_rel adds seeds until the results are precise, which needs every shard's runs: run without --shard");
    }
    let out = args.out.unwrap_or_else(|| sc.default_out_dir());
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    // Ctrl-C: finish the runs under way, start no new ones, write no summary.
    // (Failing to install the handler only loses that courtesy.)
    let _ = ctrlc::set_handler(|| STOP.store(true, Ordering::Relaxed));
    let started = Instant::now();
    let study = Runner::new(&sc)
        .threads(args.threads)
        .progress(!args.quiet)
        .shard(si, sn)
        .out_dir(&out)
        .resume(args.resume)
        .trace(args.trace)
        .interrupt(&STOP)
        .run();
    let study = match study {
        Err(e @ RunError::Interrupted { .. }) => bail!("{e}"),
        other => other?,
    };
    let wall = started.elapsed().as_secs_f64();
    let runs = study.simulated + study.resumed;
    if sn == 1 {
        write_results(&out, &sc, &study.points, wall)?;
    }
    if !args.quiet {
        let what = if sn == 1 {
            format!("results in {}", out.display())
        } else {
            format!(
                "shard {si}-of-{sn} in {} (merge with: coinfer merge {})",
                shard::shard_dir(&out, si, sn).display(),
                out.display()
            )
        };
        eprintln!(
            "{runs} runs ({} simulated, {} resumed) in {wall:.2} s, {:.0} runs/s; {what}",
            study.simulated,
            study.resumed,
            study.simulated as f64 / wall.max(1e-9),
        );
    }
    Ok(())
}

/// Set by Ctrl-C.
static STOP: AtomicBool = AtomicBool::new(false);

/// Arguments of `coinfer merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Result folders holding shards/ (or shard folders themselves).
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Where to write the merged results (default: the first folder).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub(super) fn merge(args: MergeArgs) -> Result<()> {
    let started = Instant::now();
    let (sc, points) = shard::merge(&args.dirs, &Registry::default())?;
    let out = args.out.unwrap_or_else(|| args.dirs[0].clone());
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    write_results(&out, &sc, &points, started.elapsed().as_secs_f64())?;
    eprintln!("merged {} points into {}", points.len(), out.display());
    Ok(())
}

/// Arguments of `coinfer plot`.
#[derive(Debug, clap::Args)]
pub struct PlotArgs {
    /// A result folder of `coinfer run`, `coinfer merge` or `coinfer distortion`.
    dir: PathBuf,
    /// Image formats (comma-separated): svg, png.
    #[arg(long, value_delimiter = ',', default_value = "svg,png")]
    format: Vec<String>,
    /// Metrics drawn against each sweep axis (comma-separated summary.csv columns).
    #[arg(long, value_delimiter = ',')]
    metrics: Option<Vec<String>>,
}

pub(super) fn plot(args: PlotArgs) -> Result<()> {
    let mut formats = Vec::new();
    for f in &args.format {
        formats.push(match f.as_str() {
            "svg" => Format::Svg,
            "png" => Format::Png,
            other => bail!("unknown format `{other}`: expected svg or png"),
        });
    }
    let files = if args.dir.join("summary.csv").exists() {
        let metrics = args
            .metrics
            .unwrap_or_else(|| KEY_METRICS.map(String::from).to_vec());
        let header = std::fs::read_to_string(args.dir.join("summary.csv"))?;
        let header: Vec<&str> = header.lines().next().unwrap_or_default().split(',').collect();
        if let Some(m) = metrics.iter().find(|m| !header.contains(&m.as_str())) {
            bail!(
                "unknown metric `{m}`: expected summary.csv columns such as {}",
                KEY_METRICS.join(", ")
            );
        }
        figures::draw_results(&args.dir, &formats, &metrics)?
    } else if args.dir.join("distortion.csv").exists() {
        figures::draw_distortion(&args.dir, &formats)?
    } else {
        bail!("{} holds no summary.csv nor distortion.csv", args.dir.display());
    };
    eprintln!("{} files in {}", files.len(), args.dir.join("plots").display());
    Ok(())
}
