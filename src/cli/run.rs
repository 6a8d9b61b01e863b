//! `coinfer run`, `coinfer check`, `coinfer merge` and `coinfer plot`.

use crate::metrics::PointResults;
use crate::plot::Format;
use crate::policy::Registry;
use crate::report::campaign;
use crate::report::figures::{self, KEY_METRICS};
use crate::report::Provenance;
use crate::runner::{RunError, Runner};
use crate::scenario::RawScenario;
use crate::shard;
use crate::study::{Limits, SeedPlan, Study};
use anyhow::{bail, Context, Result};
use std::io::Write;
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
    /// Reuse the batches of runs already on disk (the default: a rerun of
    /// the same scenario runs only what is missing). Kept for scripts.
    #[arg(long = "resume")]
    _resume: bool,
    /// Also write one CSV row per request to OUT/trace/ (large; simulates
    /// every run again, as reused runs have no trace).
    #[arg(long)]
    trace: bool,
    /// No progress bar and no final line.
    #[arg(long)]
    quiet: bool,
    /// Run even when the estimated time or memory is beyond the limits; and
    /// when the output folder holds another scenario's results or shards,
    /// delete them and run this one there (never deletes this scenario's runs).
    #[arg(long)]
    force: bool,
    /// Figure formats: `none`, or any of `svg,pdf,png` (default: the
    /// scenario's `plots`, else svg,png).
    #[arg(long, value_parser = parse_plots)]
    plots: Option<Formats>,
}

/// Figure formats from the command line.
#[derive(Clone, Debug)]
struct Formats(Vec<Format>);

fn parse_plots(s: &str) -> Result<Formats, String> {
    if s == "none" {
        return Ok(Formats(Vec::new()));
    }
    s.split(',')
        .map(|f| match f.trim() {
            "svg" => Ok(Format::Svg),
            "pdf" => Ok(Format::Pdf),
            "png" => Ok(Format::Png),
            other => Err(format!(
                "`{other}` is not a figure format: expected none, or svg, pdf, png separated by commas"
            )),
        })
        .collect::<Result<_, _>>()
        .map(Formats)
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

pub(super) fn check(path: &Path, registry: &Registry) -> Result<()> {
    let study = Study::load(path, registry)?;
    let mut out = std::io::stdout().lock();
    write!(out, "{}", study.to_ron())?;
    let points = &study.points;
    let requests: f64 = points.iter().map(|p| p.expected_requests()).sum::<f64>() / points.len() as f64;
    writeln!(
        out,
        "// expected per run: {requests:.0} requests, about {:.0} events (4 per request: arrival, compute, uplink, service)",
        4.0 * requests
    )?;
    let seeds = match &study.seeds {
        SeedPlan::Fixed { seeds } => seeds.to_string(),
        SeedPlan::Adaptive {
            batch,
            max_seeds,
            metrics,
            ..
        } => format!("{batch} to {max_seeds} (until precise: {})", metrics.join(", ")),
    };
    writeln!(
        out,
        "// runs: {} points x {} policies x {seeds} seeds",
        points.len(),
        study.policies.len(),
    )?;
    let estimate = study.estimate(capped_threads(0));
    writeln!(out, "// estimate: {}", estimate.summary(&study.seeds))?;
    if let Err(why) = estimate.check(&Limits::default()) {
        writeln!(out, "// too large to run without --force: {why}")?;
    }
    Ok(())
}

/// The part of an output folder a process writes: the result files (an
/// unsharded run, a merge) or one shard's batches.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Part {
    Results,
    Shard(u32, u32),
}

/// Creates the output folder and locks this process's part of it (another
/// coinfer process writing the same part is refused; shards of one study run
/// side by side), then removes the temporary files a killed run left there.
fn claim(out: &Path, part: Part) -> Result<crate::fsio::DirLock> {
    anyhow::ensure!(
        !out.exists() || out.is_dir(),
        "--out {} is a file: expected a folder for the results",
        out.display()
    );
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let (name, dirs) = match part {
        Part::Results => {
            let dirs = vec![out.to_path_buf(), out.join("plots"), shard::shard_dir(out, 0, 1)];
            ("results".to_string(), dirs)
        }
        Part::Shard(i, n) => (format!("shard-{i}-of-{n}"), vec![shard::shard_dir(out, i, n)]),
    };
    let lock =
        crate::fsio::try_lock_dir(out, &name).with_context(|| format!("cannot lock {}", out.display()))?;
    let Some(lock) = lock else {
        bail!(
            "{} is in use by another coinfer process: wait for it to finish, or choose another --out",
            out.display()
        );
    };
    for d in &dirs {
        crate::fsio::remove_stale_temps(d).with_context(|| format!("cannot clean {}", d.display()))?;
    }
    Ok(lock)
}

/// Refuses an output folder that holds another scenario's results or
/// shards (changing nothing), unless `force`.
fn check_owner(out: &Path, study: &Study, force: bool) -> Result<()> {
    let hash = study.hash();
    let Some(other) = campaign::owners(out).into_iter().find(|o| o.hash != hash) else {
        return Ok(());
    };
    anyhow::ensure!(
        force,
        "{} holds the runs of scenario `{}` (hash {}, per {}), not of `{}` (hash {}): choose another --out, or pass --force to delete them and run `{}` there",
        out.display(),
        other.name,
        other.hash,
        other.file.display(),
        study.name,
        hash,
        study.name
    );
    eprintln!(
        "warning: deleting the runs of scenario `{}` (hash {}) in {} (--force)",
        other.name,
        other.hash,
        out.display()
    );
    Ok(())
}

/// Writes the result files of a finished study into `out` and rebuilds the
/// index beside it; returns the rows of `summary.csv`. With `keep` (a rerun
/// that simulated nothing), the provenance of the run that did is kept, so
/// every file stays byte-identical.
fn write_results(
    out: &Path,
    study: &Study,
    points: &[PointResults],
    wall_time_s: f64,
    keep: bool,
) -> Result<Vec<crate::report::SummaryRow>> {
    let prov = Provenance::read(out)
        .filter(|p| keep && p.scenario_hash == study.hash())
        .unwrap_or_else(|| Provenance::now(study, wall_time_s));
    let rows = crate::report::write_results(out, study, points, &prov)?;
    if let Err(e) = campaign::update_index(out) {
        eprintln!("warning: index not updated: {:#}", anyhow::Error::from(e));
    }
    Ok(rows)
}

pub(super) fn run(args: Args, registry: &Registry) -> Result<()> {
    let mut raw = RawScenario::load(&args.scenario)?;
    if let Some(n) = args.seeds {
        anyhow::ensure!(n >= 1, "--seeds must be at least 1");
        raw.seeds = n;
    }
    if let Some(Formats(f)) = args.plots {
        raw.plots = Some(f);
    }
    let study = Study::compile(raw, registry)?;
    let threads = capped_threads(args.threads);
    if let Err(why) = study.estimate(threads).check(&Limits::default()) {
        anyhow::ensure!(
            args.force,
            "{why}: refusing to start (use --force to run it anyway)"
        );
        eprintln!("warning: {why}; running anyway (--force)");
    }
    let (si, sn) = args.shard.unwrap_or((0, 1));
    if sn > 1 && matches!(study.seeds, SeedPlan::Adaptive { .. }) {
        bail!("ci_rel adds seeds until the results are precise, which needs every shard's runs: run without --shard");
    }
    let out = args.out.unwrap_or_else(|| study.default_out_dir());
    let part = if sn == 1 {
        Part::Results
    } else {
        Part::Shard(si, sn)
    };
    if !args.force {
        // Refused before the folder is touched (with --force, the check under the lock warns).
        check_owner(&out, &study, false)?;
    }
    let _lock = claim(&out, part)?;
    // Checked again under the lock; `--force` clears what another scenario left.
    check_owner(&out, &study, args.force)?;
    campaign::clear_others(&out, &study.hash()).with_context(|| format!("cannot clear {}", out.display()))?;
    // Ctrl-C: finish the runs under way, start no new ones, write no summary.
    // (Failing to install the handler only loses that courtesy.)
    let _ = ctrlc::set_handler(|| STOP.store(true, Ordering::Relaxed));
    let started = Instant::now();
    let results = Runner::new(&study)
        .threads(threads)
        .progress(!args.quiet)
        .shard(si, sn)
        .out_dir(&out)
        // A trace needs every run simulated: reused batches have none.
        .resume(!args.trace)
        .trace(args.trace)
        .interrupt(&STOP)
        .run();
    let results = match results {
        Err(e @ RunError::Interrupted { .. }) => bail!("{e}"),
        other => other?,
    };
    let wall = started.elapsed().as_secs_f64();
    let runs = results.simulated + results.resumed;
    if sn == 1 {
        let rows = write_results(&out, &study, &results.points, wall, results.simulated == 0)?;
        warn_imprecise(&study, &rows);
        // The results now stand on their own: shards of an earlier sharded
        // run of this study would only confuse a later merge.
        campaign::clear_other_shard_sets(&out).with_context(|| format!("cannot clear {}", out.display()))?;
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
            results.simulated,
            results.resumed,
            results.simulated as f64 / wall.max(1e-9),
        );
    }
    Ok(())
}

/// Warns when some (point, policy) stopped at `max_seeds` short of `ci_rel`.
fn warn_imprecise(study: &Study, rows: &[crate::report::SummaryRow]) {
    let missed = rows.iter().filter(|r| r.ci_target_met == Some(false)).count();
    if missed > 0 {
        eprintln!(
            "warning: {missed} of {} rows missed the ci_rel target at max_seeds = {} (see ci_target_met in summary.csv)",
            rows.len(),
            study.seeds.max_seeds()
        );
    }
}

/// `--threads`, capped at the cores the machine has (with a warning).
/// 0 means all cores.
fn capped_threads(asked: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if asked == 0 {
        return cores;
    }
    if asked > cores {
        eprintln!("warning: --threads {asked} is more than the {cores} cores here; using {cores}");
        return cores;
    }
    asked
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

pub(super) fn merge(args: MergeArgs, registry: &Registry) -> Result<()> {
    let started = Instant::now();
    let (study, points) = shard::merge(&args.dirs, registry)?;
    let out = args.out.unwrap_or_else(|| args.dirs[0].clone());
    check_owner(&out, &study, false)?;
    let _lock = claim(&out, Part::Results)?;
    write_results(&out, &study, &points, started.elapsed().as_secs_f64(), false)?;
    eprintln!("merged {} points into {}", points.len(), out.display());
    Ok(())
}

/// Arguments of `coinfer plot`.
#[derive(Debug, clap::Args)]
pub struct PlotArgs {
    /// A result folder of `coinfer run`, `coinfer merge` or `coinfer distortion`.
    dir: PathBuf,
    /// Figure formats: any of `svg,pdf,png` (default: the scenario's
    /// `plots`, else svg,png).
    #[arg(long, value_parser = parse_plots)]
    plots: Option<Formats>,
    /// Metrics of the default line and bar figures (comma-separated summary.csv columns).
    #[arg(long, value_delimiter = ',')]
    metrics: Option<Vec<String>>,
    /// A RON list of figure specs (the syntax of a scenario's `figures:`)
    /// drawn instead of the scenario's.
    #[arg(long)]
    figures: Option<PathBuf>,
}

pub(super) fn plot(args: PlotArgs) -> Result<()> {
    anyhow::ensure!(
        !args.dir.join(crate::report::WRITING_MARK).exists(),
        "the results in {} were being written when a run stopped, so they may mix two runs: run the study again (it reuses its finished runs)",
        args.dir.display()
    );
    let files = if args.dir.join("summary.csv").exists() {
        // The resolved scenario beside the results gives the figures and
        // styles (results without one get the defaults).
        let scenario = args.dir.join("scenario.ron");
        let sc = match scenario.exists() {
            true => RawScenario::load(&scenario)?,
            false => RawScenario::default(),
        };
        let specs = match &args.figures {
            Some(f) => {
                let text =
                    std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
                crate::scenario::parse_ron(f, &text)?
            }
            None => sc.figures.clone(),
        };
        let formats = match args.plots {
            Some(Formats(f)) => f,
            None => sc
                .plots
                .clone()
                .unwrap_or_else(|| crate::report::DEFAULT_PLOTS.to_vec()),
        };
        let metrics = args
            .metrics
            .unwrap_or_else(|| KEY_METRICS.map(String::from).to_vec());
        if let Some(m) = metrics.iter().find(|m| crate::metrics::schema::find(m).is_none()) {
            bail!(
                "unknown metric `{m}`: expected summary.csv columns such as {}",
                KEY_METRICS.join(", ")
            );
        }
        let opts = figures::FigureOptions {
            formats: &formats,
            specs: &specs,
            metrics: &metrics,
            styles: &sc.styles,
        };
        figures::draw_results(&args.dir, &opts)?
    } else if args.dir.join("distortion.csv").exists() {
        let formats = args
            .plots
            .map_or_else(|| crate::report::DEFAULT_PLOTS.to_vec(), |f| f.0);
        figures::draw_distortion(&args.dir, &formats)?
    } else {
        bail!("{} holds no summary.csv nor distortion.csv", args.dir.display());
    };
    crate::fsio::sync_folder(&args.dir)?;
    eprintln!("{} files in {}", files.len(), args.dir.join("plots").display());
    Ok(())
}

/// Arguments of `coinfer ls`.
#[derive(Debug, clap::Args)]
pub struct LsArgs {
    /// The folder above the result folders.
    #[arg(default_value = "results")]
    dir: PathBuf,
}

/// Prints the index of the studies in a folder (as `index.csv`).
pub(super) fn ls(args: LsArgs) -> Result<()> {
    let rows = campaign::index(&args.dir).with_context(|| format!("cannot read {}", args.dir.display()))?;
    std::io::stdout()
        .lock()
        .write_all(campaign::index_csv(&rows).as_bytes())?;
    Ok(())
}
