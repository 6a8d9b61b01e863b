//! Monte Carlo over a study: every (sweep point × policy × seed) run, in
//! parallel across all runs, each run single-threaded. Results are gathered
//! in a fixed order (point, policy, seed), so they do not depend on the thread
//! count or on sharding.
//!
//! With an output folder, every batch of runs is also written to the shard's
//! folder as soon as it is done (see [`crate::shard`]), which is what
//! `--shard`, `coinfer merge` and reruns (which reuse finished batches) build on.
//!
//! ```
//! use coinfer::{policy::Registry, runner::Runner, study::Study};
//! let study = Study::from_str("doc.ron".as_ref(), "(horizon_s: 2.0, seeds: 2)", &Registry::default()).unwrap();
//! let results = Runner::new(&study).threads(1).run().unwrap();
//! assert_eq!(results.points[0].policies[0].runs.len(), 2);
//! ```

use crate::engine::{self, Recorder};
use crate::fsio::{sync_folder, write_atomic, write_durable};
use crate::metrics::{PointResults, RunMetrics, RunRecord};
use crate::model::distortion::DistortionTable;
use crate::model::request::Request;
use crate::rng::{stream, Purpose, StreamId};
use crate::shard::{self, batch_file, shard_dir, BatchId, Manifest};
use crate::study::{Study, StudyPoint};
use crate::units::Bits;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// The results of a finished run of a study.
#[derive(Debug)]
pub struct Results {
    /// One entry per sweep point, in sweep order.
    pub points: Vec<PointResults>,
    /// Runs simulated now.
    pub simulated: usize,
    /// Runs read back from disk (a rerun, or one after an interruption).
    pub resumed: usize,
}

/// Why a study did not finish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// A result file could not be written or read.
    #[error("{path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A per-request trace could not be written.
    #[error("{path}: cannot write the trace")]
    Trace {
        /// The trace file.
        path: PathBuf,
        /// The cause.
        source: csv::Error,
    },
    /// The shard folder holds runs of another scenario.
    #[error("cannot resume: {dir} holds runs of another scenario (hash {found}); choose another folder, or run with --force to start over")]
    Stale {
        /// The shard folder.
        dir: PathBuf,
        /// The hash found there.
        found: String,
    },
    /// Stopped by the user; finished batches are on disk.
    #[error("interrupted: {saved} finished runs are saved; run the same command again to continue")]
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

/// Configures and runs the Monte Carlo of a study.
#[derive(Debug)]
pub struct Runner<'s> {
    study: &'s Study,
    threads: usize,
    progress: bool,
    shard: (u32, u32),
    out: Option<PathBuf>,
    resume: bool,
    trace: bool,
    interrupt: Option<&'s AtomicBool>,
}

impl<'s> Runner<'s> {
    /// A runner of the study's seed plan on all cores, nothing on disk.
    pub fn new(study: &'s Study) -> Self {
        Runner {
            study,
            threads: 0,
            progress: false,
            shard: (0, 1),
            out: None,
            resume: false,
            trace: false,
            interrupt: None,
        }
    }

    /// Number of worker threads (0: one per core).
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = n;
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
    pub fn run(self) -> Result<Results, RunError> {
        let study = self.study;
        let (si, sn) = self.shard;
        let dir = self.out.as_ref().map(|o| shard_dir(o, si, sn));
        let mut manifest = Manifest::new(study, si, sn);
        if let Some(dir) = &dir {
            self.prepare_shard_dir(dir, &manifest)?;
        }
        let per_point = (study.policies.len() as u32 * study.seeds.first().div_ceil(sn)) as u64;
        let bar = progress_bar(self.progress, per_point * study.points.len() as u64);
        let counts = (AtomicUsize::new(0), AtomicUsize::new(0));
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.threads)
            .build()
            .map_err(|e| io_err(Path::new("thread pool"))(std::io::Error::other(e)))?;
        let ctx = PointCtx {
            runner: &self,
            hash: study.hash(),
            dir: dir.as_deref(),
            bar: &bar,
            counts: &counts,
            measured: MeasuredTables::default(),
        };
        let results: Result<Vec<PointResults>, RunError> = pool.install(|| {
            study
                .points
                .par_iter()
                .enumerate()
                .map(|(i, p)| ctx.run_point(i, p))
                .collect()
        });
        bar.finish_and_clear();
        let results = results.map_err(|e| match e {
            RunError::Interrupted { .. } => RunError::Interrupted {
                saved: counts.0.load(Ordering::Relaxed) + counts.1.load(Ordering::Relaxed),
            },
            e => e,
        });
        if let Some(dir) = &dir {
            if results.is_ok() {
                manifest.complete = true;
                write_manifest(dir, &manifest)?;
            }
            // Every batch saved, even of an interrupted run, is made durable.
            sync_folder(dir).map_err(io_err(dir))?;
        }
        let points = results?;
        Ok(Results {
            points,
            simulated: counts.0.into_inner(),
            resumed: counts.1.into_inner(),
        })
    }

    /// Creates the shard folder; refuses another scenario's runs on resume and
    /// clears old batches on a fresh run.
    fn prepare_shard_dir(&self, dir: &Path, manifest: &Manifest) -> Result<(), RunError> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let m = dir.join("manifest.json");
        let old: Option<Manifest> = std::fs::read(&m)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        if let Some(old) = old
            .as_ref()
            .filter(|o| self.resume && o.scenario_hash != manifest.scenario_hash)
        {
            return Err(RunError::Stale {
                dir: dir.to_path_buf(),
                found: old.scenario_hash.clone(),
            });
        }
        // Batches of a fresh run, or of another build of coinfer (whose
        // model may differ), are not reused.
        if !self.resume || old.is_some_and(|o| o.build != manifest.build) {
            for e in std::fs::read_dir(dir).map_err(io_err(dir))?.flatten() {
                if e.path().extension().is_some_and(|x| x == "bin") {
                    std::fs::remove_file(e.path()).map_err(io_err(&e.path()))?;
                }
            }
        }
        write_manifest(dir, manifest)?;
        let s = dir.join("scenario.ron");
        write_atomic(&s, self.study.to_ron().as_bytes()).map_err(io_err(&s))
    }
}

fn progress_bar(on: bool, len: u64) -> ProgressBar {
    if !(on && std::io::stderr().is_terminal()) {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} runs  {per_sec}  eta {eta}") {
        b.set_style(style);
    }
    b
}

fn write_manifest(dir: &Path, manifest: &Manifest) -> Result<(), RunError> {
    let m = dir.join("manifest.json");
    write_atomic(&m, manifest.to_json().as_bytes()).map_err(io_err(&m))
}

/// Seeds per file of results on disk.
const CHUNK_SEEDS: u32 = 8;

/// What every point's task shares.
struct PointCtx<'a, 's> {
    runner: &'a Runner<'s>,
    /// The study's hash, written into every batch file.
    hash: String,
    dir: Option<&'a Path>,
    bar: &'a ProgressBar,
    /// (runs simulated, runs resumed)
    counts: &'a (AtomicUsize, AtomicUsize),
    measured: MeasuredTables,
}

/// The measured-distortion tables of a run, by (model id, seed): points
/// with the same model and quantizer ([`StudyPoint::model_id`]) share them,
/// and each is built once, by the first run that needs it.
#[derive(Default)]
struct MeasuredTables(Mutex<HashMap<(usize, u64), TableCell>>);

/// One table, built once however many runs ask for it at the same time.
type TableCell = Arc<OnceLock<Arc<DistortionTable>>>;

impl MeasuredTables {
    /// The table of `point` and `seed`.
    fn get(&self, point: &StudyPoint, seed: u64) -> Arc<DistortionTable> {
        let cell = {
            let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(map.entry((point.model_id, seed)).or_default())
        };
        // A run that needs a table being built waits for it. Building one is
        // sequential: were it to use rayon, that wait could hold up the
        // worker that would finish it.
        Arc::clone(cell.get_or_init(|| Arc::new(point.measured_table(seed))))
    }
}

impl PointCtx<'_, '_> {
    /// Runs one point's seeds in chunks of [`CHUNK_SEEDS`] (one file each, so
    /// an interrupted run loses little) until the seed plan says it is done.
    fn run_point(&self, index: usize, point: &StudyPoint) -> Result<PointResults, RunError> {
        let study = self.runner.study;
        let (si, sn) = self.runner.shard;
        let mut results = PointResults::new(point.params.clone(), &study.labels());
        let (mut done, mut chunk) = (0u32, 0u32);
        let mut target = study.seeds.first();
        loop {
            let hi = (done + CHUNK_SEEDS).min(target);
            let seed_idx: Vec<u32> = (done..hi).filter(|s| s % sn == si).collect();
            let id = BatchId {
                scenario_hash: self.hash.clone(),
                shard: (si, sn),
                point: index as u32,
                batch: chunk,
            };
            let file = self.dir.map(|d| (batch_file(d, index, chunk), id));
            let records = match &file {
                Some((f, id)) if self.runner.resume && f.exists() => self.read_batch(f, id)?,
                _ => self.run_batch(index, point, &seed_idx, file.as_ref())?,
            };
            results.add(records);
            (done, chunk) = (hi, chunk + 1);
            if done < target {
                continue;
            }
            match study.seeds.next(done, &results) {
                None => return Ok(results),
                Some(next) => {
                    let more = study.policies.len() as u32 * (next - target).div_ceil(sn);
                    self.bar.inc_length(more as u64);
                    target = next;
                }
            }
        }
    }

    fn read_batch(&self, f: &Path, id: &BatchId) -> Result<Vec<RunRecord>, RunError> {
        let bytes = std::fs::read(f).map_err(io_err(f))?;
        let recs = shard::decode(&bytes, id).map_err(io_err(f))?;
        self.counts.1.fetch_add(recs.len(), Ordering::Relaxed);
        self.bar.inc(recs.len() as u64);
        Ok(recs)
    }

    /// Runs every policy on the seeds `seed_idx` and saves the batch to `file`.
    fn run_batch(
        &self,
        index: usize,
        point: &StudyPoint,
        seed_idx: &[u32],
        file: Option<&(PathBuf, BatchId)>,
    ) -> Result<Vec<RunRecord>, RunError> {
        let study = self.runner.study;
        let seeds: Vec<u64> = seed_idx.iter().map(|&s| study.base_seed + s as u64).collect();
        let measured: Vec<_> = seeds.par_iter().map(|&s| self.measured.get(point, s)).collect();
        let jobs: Vec<(usize, usize)> = (0..study.policies.len())
            .flat_map(|p| (0..seeds.len()).map(move |k| (p, k)))
            .collect();
        let runs: Vec<Option<RunRecord>> = jobs
            .par_iter()
            .map(|&(p, k)| {
                if self.runner.interrupt.is_some_and(|f| f.load(Ordering::Relaxed)) {
                    return Ok(None);
                }
                let rec = self.run_one(index, point, p, seeds[k], &measured[k])?;
                self.bar.inc(1);
                Ok(Some(RunRecord {
                    seed_index: seed_idx[k],
                    ..rec
                }))
            })
            .collect::<Result<_, RunError>>()?;
        let Some(recs) = runs.into_iter().collect::<Option<Vec<_>>>() else {
            return Err(RunError::Interrupted { saved: 0 });
        };
        if let Some((f, id)) = file {
            write_durable(f, &shard::encode(id, &recs)).map_err(io_err(f))?;
        }
        self.counts.0.fetch_add(recs.len(), Ordering::Relaxed);
        Ok(recs)
    }

    /// One run of policy `p` with `seed`; its record's `seed_index` is left 0.
    fn run_one(
        &self,
        index: usize,
        point: &StudyPoint,
        p: usize,
        seed: u64,
        measured: &DistortionTable,
    ) -> Result<RunRecord, RunError> {
        let study = self.runner.study;
        let mut world = point.world(seed);
        let mut policy = study.policies[p]
            .factory
            .build(stream(seed, StreamId::new(Purpose::Policy, 0)));
        let metrics = RunMetrics::new(&point.system, measured).with_groups(point.config.agents.group_of());
        let trace = match (self.runner.trace, self.dir) {
            (true, Some(_)) => Some(self.trace_file(index, &study.policies[p].label, seed)?),
            _ => None,
        };
        let mut rec = Traced {
            metrics,
            trace,
            error: None,
        };
        let outcome = engine::run(&mut world, policy.as_mut(), &mut rec);
        rec.finish_trace()?;
        let (summary, latency) = rec
            .metrics
            .finish(seed, &outcome, point.system.workers, point.window_s());
        Ok(RunRecord {
            policy: p as u32,
            seed_index: 0,
            summary,
            latency,
        })
    }

    fn trace_file(&self, point: usize, label: &str, seed: u64) -> Result<TraceFile, RunError> {
        let out = self.runner.out.as_deref().unwrap_or(Path::new("."));
        let dir = out.join("trace");
        std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let path = dir.join(format!("p{point:05}-{}-s{seed}.csv", trace_label(label)));
        let writer = csv::Writer::from_path(&path).map_err(|source| RunError::Trace {
            path: path.clone(),
            source,
        })?;
        Ok(TraceFile { path, writer })
    }
}

/// A policy label as written in trace file names
/// (`trace/p<point>-<label>-s<seed>.csv`): other characters than ASCII
/// letters, digits, `_` and `-` become `_`.
pub fn trace_label(label: &str) -> String {
    label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// One row of a per-request trace (`--trace`).
#[derive(serde::Serialize)]
struct TraceRow {
    agent: u32,
    seq: u64,
    counted: bool,
    created_s: f64,
    distance_m: f64,
    compute_start_s: f64,
    tx_start_s: f64,
    server_arrival_s: f64,
    service_start_s: f64,
    done_s: f64,
    latency_s: f64,
    missed: bool,
    bits_agent: Bits,
    bits_server: Bits,
    freq_agent_ghz: f64,
    freq_server_ghz: f64,
    compute_energy_j: f64,
    tx_energy_j: f64,
    server_energy_j: f64,
    predicted_latency_s: f64,
    feasible: bool,
}

impl TraceRow {
    fn of(r: &Request) -> TraceRow {
        let d = &r.decision;
        TraceRow {
            agent: r.agent,
            seq: r.seq,
            counted: r.counted,
            created_s: r.created.as_secs(),
            distance_m: r.distance_m,
            compute_start_s: r.compute_start.as_secs(),
            tx_start_s: r.tx_start.as_secs(),
            server_arrival_s: r.server_arrival.as_secs(),
            service_start_s: r.service_start.as_secs(),
            done_s: r.done.as_secs(),
            latency_s: r.latency().as_secs(),
            missed: r.done > r.deadline,
            bits_agent: d.bits_agent,
            bits_server: d.bits_server,
            freq_agent_ghz: d.freq_agent.ghz(),
            freq_server_ghz: d.freq_server.ghz(),
            compute_energy_j: r.compute_energy.0,
            tx_energy_j: r.tx_energy.0,
            server_energy_j: r.server_energy.0,
            predicted_latency_s: r.predicted_latency_s,
            feasible: d.feasible,
        }
    }
}

/// An open trace file.
struct TraceFile {
    path: PathBuf,
    writer: csv::Writer<std::fs::File>,
}

/// The run's metrics, plus an optional per-request trace.
struct Traced<'a> {
    metrics: RunMetrics<'a>,
    trace: Option<TraceFile>,
    /// The first trace write error (the trace stops there).
    error: Option<csv::Error>,
}

impl Traced<'_> {
    /// Flushes the trace; reports the first write error.
    fn finish_trace(&mut self) -> Result<(), RunError> {
        let Some(mut t) = self.trace.take() else {
            return Ok(());
        };
        let flushed = t.writer.flush().map_err(csv::Error::from);
        match self.error.take().map_or(flushed, Err) {
            Ok(()) => Ok(()),
            Err(source) => Err(RunError::Trace { path: t.path, source }),
        }
    }
}

impl Recorder for Traced<'_> {
    fn on_create(&mut self, r: &Request) {
        self.metrics.on_create(r);
    }

    fn on_complete(&mut self, r: &Request) {
        self.metrics.on_complete(r);
        if let (Some(t), None) = (&mut self.trace, &self.error) {
            self.error = t.writer.serialize(TraceRow::of(r)).err();
        }
    }

    fn on_drop(&mut self, r: &Request) {
        self.metrics.on_drop(r);
    }

    fn on_skip(&mut self, r: &Request) {
        self.metrics.on_skip(r);
    }

    fn on_fail(&mut self, r: &Request) {
        self.metrics.on_fail(r);
    }
}
