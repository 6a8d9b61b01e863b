//! Monte Carlo over a study: every (sweep point × policy × seed) run, in
//! parallel across all runs, each run single-threaded. Results are gathered
//! in a fixed order (point, policy, seed), so they do not depend on the thread
//! count or on sharding.
//!
//! With an output folder, every batch of runs is also written to the shard's
//! folder as soon as it is done (see [`crate::shard`]), which is what
//! `--shard`, `coinfer merge` and `--resume` build on.

use crate::engine;
use crate::engine::Recorder;
use crate::fsio::write_atomic;
use crate::metrics::{PointResults, RunMetrics, RunRecord};
use crate::model::request::Request;
use crate::policy::Registry;
use crate::quant::ProfileError;
use crate::rng::{stream, Purpose, StreamId};
use crate::scenario::{sweep, Point, Scenario};
use crate::shard::{self, batch_file, shard_dir, Manifest};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// A finished study.
#[derive(Debug)]
pub struct Study {
    /// One entry per sweep point, in sweep order.
    pub points: Vec<PointResults>,
    /// Runs simulated now.
    pub simulated: usize,
    /// Runs read back from disk (`--resume`).
    pub resumed: usize,
}

/// Why a study did not finish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The model's weights file could not be read.
    #[error(transparent)]
    Weights(#[from] ProfileError),
    /// A result file could not be written or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// `--resume` found the results of another scenario.
    #[error("cannot resume: {dir} holds runs of another scenario (hash {found}); run without --resume to start over")]
    Stale {
        /// The shard folder.
        dir: PathBuf,
        /// The hash found there.
        found: String,
    },
    /// Stopped by the user; finished batches are on disk.
    #[error("interrupted: {saved} finished runs are saved; run again with --resume to continue")]
    Interrupted {
        /// Runs saved in finished batches.
        saved: usize,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Configures and runs the Monte Carlo of a scenario.
#[derive(Debug)]
pub struct Runner<'s> {
    scenario: &'s Scenario,
    registry: Registry,
    threads: usize,
    seeds: u32,
    progress: bool,
    shard: (u32, u32),
    out: Option<PathBuf>,
    resume: bool,
    trace: bool,
    interrupt: Option<&'s AtomicBool>,
}

impl<'s> Runner<'s> {
    /// A runner with the scenario's seeds, all cores, nothing on disk.
    pub fn new(scenario: &'s Scenario) -> Self {
        Runner {
            scenario,
            registry: Registry::default(),
            threads: 0,
            seeds: scenario.seeds,
            progress: false,
            shard: (0, 1),
            out: None,
            resume: false,
            trace: false,
            interrupt: None,
        }
    }

    /// Uses `registry` to build the scenario's policies.
    pub fn registry(mut self, registry: Registry) -> Self {
        self.registry = registry;
        self
    }

    /// Number of worker threads (0: one per core).
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = n;
        self
    }

    /// Seeds per point and policy (per batch with `ci_rel`), overriding the scenario's.
    pub fn seeds(mut self, n: u32) -> Self {
        self.seeds = n;
        self
    }

    /// Shows a progress bar on stderr when it is a terminal.
    pub fn progress(mut self, on: bool) -> Self {
        self.progress = on;
        self
    }

    /// Runs only the seeds with `index % n == i`.
    pub fn shard(mut self, i: u32, n: u32) -> Self {
        self.shard = (i, n);
        self
    }

    /// Writes every finished batch under `out/shards/` (and traces under `out/trace/`).
    pub fn out_dir(mut self, out: &Path) -> Self {
        self.out = Some(out.to_path_buf());
        self
    }

    /// Reads batches already on disk instead of running them again.
    pub fn resume(mut self, on: bool) -> Self {
        self.resume = on;
        self
    }

    /// Streams one CSV row per request to `out/trace/` (needs [`Runner::out_dir`]).
    pub fn trace(mut self, on: bool) -> Self {
        self.trace = on;
        self
    }

    /// Stops starting runs once `flag` is set.
    pub fn interrupt(mut self, flag: &'s AtomicBool) -> Self {
        self.interrupt = Some(flag);
        self
    }

    /// Runs the study.
    pub fn run(self) -> Result<Study, RunError> {
        let sc = self.scenario;
        let points =
            sweep::points(sc).unwrap_or_else(|(f, m)| panic!("scenario was validated, yet {f}: {m}"));
        let labels: Vec<String> = sc
            .policy_factories(&self.registry)
            .unwrap_or_else(|(i, f, m)| panic!("scenario was validated, yet policies[{i}].{f}: {m}"))
            .into_iter()
            .map(|(l, _)| l)
            .collect();
        let (si, sn) = self.shard;
        let dir = self.out.as_ref().map(|o| shard_dir(o, si, sn));
        let mut manifest = Manifest {
            scenario_hash: crate::fsio::hash_hex(&sc.to_ron()),
            shard: si,
            of: sn,
            complete: false,
        };
        if let Some(dir) = &dir {
            std::fs::create_dir_all(dir).map_err(io_err(dir))?;
            let m = dir.join("manifest.json");
            let old: Option<Manifest> = std::fs::read(&m)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok());
            if self.resume {
                if let Some(old) = old.filter(|o| o.scenario_hash != manifest.scenario_hash) {
                    return Err(RunError::Stale {
                        dir: dir.clone(),
                        found: old.scenario_hash,
                    });
                }
            } else {
                // A fresh run: batches of an earlier run here are not ours.
                for e in std::fs::read_dir(dir).map_err(io_err(dir))?.flatten() {
                    if e.path().extension().is_some_and(|x| x == "bin") {
                        std::fs::remove_file(e.path()).map_err(io_err(&e.path()))?;
                    }
                }
            }
            write_manifest(dir, &manifest)?;
            let s = dir.join("scenario.ron");
            write_atomic(&s, sc.to_ron().as_bytes()).map_err(io_err(&s))?;
        }
        let per_point = (labels.len() as u32 * self.seeds.div_ceil(sn)) as u64;
        let bar = if self.progress && std::io::stderr().is_terminal() {
            let b = ProgressBar::with_draw_target(
                Some(per_point * points.len() as u64),
                ProgressDrawTarget::stderr(),
            );
            b.set_style(
                ProgressStyle::with_template("{bar:30} {pos}/{len} runs  {per_sec}  eta {eta}")
                    .expect("valid template"),
            );
            b
        } else {
            ProgressBar::hidden()
        };
        let counts = (AtomicUsize::new(0), AtomicUsize::new(0));
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.threads)
            .build()
            .expect("thread pool");
        let ctx = PointCtx {
            runner: &self,
            labels: &labels,
            dir: dir.as_deref(),
            bar: &bar,
            counts: &counts,
        };
        let results: Result<Vec<PointResults>, RunError> = pool.install(|| {
            points
                .par_iter()
                .enumerate()
                .map(|(i, p)| ctx.run_point(i, p))
                .collect()
        });
        bar.finish_and_clear();
        let points = match results {
            Ok(p) => p,
            Err(RunError::Interrupted { .. }) => {
                return Err(RunError::Interrupted {
                    saved: counts.0.load(Ordering::Relaxed) + counts.1.load(Ordering::Relaxed),
                })
            }
            Err(e) => return Err(e),
        };
        if let Some(dir) = &dir {
            manifest.complete = true;
            write_manifest(dir, &manifest)?;
        }
        Ok(Study {
            points,
            simulated: counts.0.into_inner(),
            resumed: counts.1.into_inner(),
        })
    }
}

fn write_manifest(dir: &Path, manifest: &Manifest) -> Result<(), RunError> {
    let m = dir.join("manifest.json");
    let json = serde_json::to_string_pretty(manifest).expect("json");
    write_atomic(&m, json.as_bytes()).map_err(io_err(&m))
}

/// Seeds per file of results on disk.
const CHUNK_SEEDS: u32 = 8;

/// What every point's task shares.
struct PointCtx<'a, 's> {
    runner: &'a Runner<'s>,
    labels: &'a [String],
    dir: Option<&'a Path>,
    bar: &'a ProgressBar,
    /// (runs simulated, runs resumed)
    counts: &'a (AtomicUsize, AtomicUsize),
}

impl PointCtx<'_, '_> {
    fn run_point(&self, index: usize, point: &Point) -> Result<PointResults, RunError> {
        let r = self.runner;
        let sc = &point.scenario;
        let base = r.scenario;
        let system = sc.system();
        let factories = sc.policy_factories(&r.registry).expect("validated");
        let (si, sn) = r.shard;
        let max_seeds = match base.ci_rel {
            Some(_) => base.max_seeds.unwrap_or(10 * r.seeds).max(r.seeds),
            None => r.seeds,
        };
        let window_s = sc.horizon_s - sc.warmup_s;
        let mut results = PointResults::new(point.params.clone(), self.labels);
        // Seeds are run in chunks of CHUNK_SEEDS (one file each, so an
        // interrupted run loses little); with `ci_rel`, precision is checked
        // after each batch of `seeds` seeds.
        let (mut done, mut chunk) = (0u32, 0u32);
        let mut target = r.seeds.min(max_seeds);
        loop {
            let lo = done;
            let hi = (lo + CHUNK_SEEDS).min(target);
            let seed_idx: Vec<u32> = (lo..hi).filter(|s| s % sn == si).collect();
            let file = self.dir.map(|d| batch_file(d, index, chunk));
            let records = match &file {
                Some(f) if r.resume && f.exists() => {
                    let bytes = std::fs::read(f).map_err(io_err(f))?;
                    let recs = shard::decode(&bytes).map_err(io_err(f))?;
                    self.counts.1.fetch_add(recs.len(), Ordering::Relaxed);
                    self.bar.inc(recs.len() as u64);
                    recs
                }
                _ => {
                    let seeds: Vec<u64> = seed_idx.iter().map(|&s| base.base_seed + s as u64).collect();
                    let measured = sc.measured_tables(&system.laim, &seeds)?;
                    let jobs: Vec<(usize, usize)> = (0..factories.len())
                        .flat_map(|p| (0..seeds.len()).map(move |k| (p, k)))
                        .collect();
                    let runs: Vec<Option<RunRecord>> = jobs
                        .par_iter()
                        .map(|&(p, k)| {
                            if r.interrupt.is_some_and(|f| f.load(Ordering::Relaxed)) {
                                return Ok(None);
                            }
                            let seed = seeds[k];
                            let mut world = sc.world(&system, seed);
                            let mut policy = factories[p]
                                .1
                                .build(stream(seed, StreamId::new(Purpose::Policy, 0)));
                            let metrics = RunMetrics::new(&system, &measured[k]);
                            let trace = match (r.trace, self.dir) {
                                (true, Some(_)) => Some(self.trace_file(index, &self.labels[p], seed)?),
                                _ => None,
                            };
                            let mut rec = Traced { metrics, trace };
                            let outcome = engine::run(&mut world, policy.as_mut(), &mut rec);
                            if let Some((path, mut w)) = rec.trace.take() {
                                w.flush().map_err(io_err(&path))?;
                            }
                            let (summary, latency) =
                                rec.metrics.finish(seed, &outcome, system.workers, window_s);
                            self.bar.inc(1);
                            Ok(Some(RunRecord {
                                policy: p as u32,
                                seed_index: seed_idx[k],
                                summary,
                                latency,
                            }))
                        })
                        .collect::<Result<_, RunError>>()?;
                    let Some(recs) = runs.into_iter().collect::<Option<Vec<_>>>() else {
                        return Err(RunError::Interrupted { saved: 0 });
                    };
                    if let Some(f) = &file {
                        write_atomic(f, &shard::encode(&recs)).map_err(io_err(f))?;
                    }
                    self.counts.0.fetch_add(recs.len(), Ordering::Relaxed);
                    recs
                }
            };
            results.add(records);
            (done, chunk) = (hi, chunk + 1);
            if done < target {
                continue;
            }
            let precise = base.ci_rel.is_none_or(|rel| results.precise(rel));
            if done >= max_seeds || precise {
                return Ok(results);
            }
            let next = (target + r.seeds).min(max_seeds);
            self.bar
                .inc_length((self.labels.len() as u32 * (next - target).div_ceil(sn)) as u64);
            target = next;
        }
    }

    fn trace_file(
        &self,
        point: usize,
        label: &str,
        seed: u64,
    ) -> Result<(PathBuf, BufWriter<std::fs::File>), RunError> {
        let out = self.runner.out.as_ref().expect("trace needs an output folder");
        let dir = out.join("trace");
        std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let safe: String = label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = dir.join(format!("p{point:05}-{safe}-s{seed}.csv"));
        let mut w = BufWriter::new(std::fs::File::create(&path).map_err(io_err(&path))?);
        w.write_all(TRACE_HEADER.as_bytes()).map_err(io_err(&path))?;
        Ok((path, w))
    }
}

const TRACE_HEADER: &str = "agent,seq,counted,created_s,compute_start_s,tx_start_s,server_arrival_s,service_start_s,done_s,latency_s,missed,bits_agent,bits_server,freq_agent_ghz,freq_server_ghz,compute_energy_j,tx_energy_j,server_energy_j,predicted_latency_s,feasible\n";

/// The run's metrics, plus an optional per-request trace.
struct Traced<'a> {
    metrics: RunMetrics<'a>,
    trace: Option<(PathBuf, BufWriter<std::fs::File>)>,
}

impl Recorder for Traced<'_> {
    fn on_complete(&mut self, r: &Request) {
        self.metrics.on_complete(r);
        if let Some((_, w)) = &mut self.trace {
            let d = &r.decision;
            // A write error surfaces at the final flush.
            let _ = writeln!(
                w,
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                r.agent,
                r.seq,
                r.counted,
                r.created.as_secs(),
                r.compute_start.as_secs(),
                r.tx_start.as_secs(),
                r.server_arrival.as_secs(),
                r.service_start.as_secs(),
                r.done.as_secs(),
                r.latency().as_secs(),
                r.done > r.deadline,
                d.bits_agent,
                d.bits_server,
                d.freq_agent.ghz(),
                d.freq_server.ghz(),
                r.compute_energy.0,
                r.tx_energy.0,
                r.server_energy.0,
                r.predicted_latency_s,
                d.feasible,
            );
        }
    }

    fn on_drop(&mut self, r: &Request) {
        self.metrics.on_drop(r);
    }
}
