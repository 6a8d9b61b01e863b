//! Partial results on disk (SPEC 8): every batch of runs of a shard is written
//! as one file of per-run records (metric values and a serialized HDR latency
//! histogram) behind a versioned header that lists the metrics, next to a
//! manifest naming the scenario by hash. Merging reads
//! the records back in canonical order, so a merged set of shards gives files
//! byte-identical to one unsharded run.
//!
//! Layout: `OUT/shards/<I>-of-<N>/{manifest.json, scenario.ron, p<point>-b<batch>.bin}`.

use crate::fsio::Fnv64;
use crate::metrics::{PointResults, RunRecord, METRICS};
use crate::policy::Registry;
use crate::study::{SeedPlan, Study};
use serde::{Deserialize, Serialize};
use std::io;
use std::path::{Path, PathBuf};

/// The first eight bytes of a batch file.
const MAGIC: [u8; 8] = *b"COINFERB";

/// The first eight bytes of a batch file of format 1 (a hand-written codec).
const FORMAT_1_MAGIC: &[u8; 8] = b"COINFR01";

/// The batch file format this build writes and reads. Bump it when the
/// layout of a batch file or of a [`RunRecord`] changes (not for a change of the
/// metric list, which files carry).
pub const FORMAT: u32 = 5;

/// Where a batch belongs: written into the file, checked when it is read, so
/// a batch copied from another shard, point or study is refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchId {
    /// Hash of the resolved scenario.
    pub scenario_hash: String,
    /// Shard index `I` and count `N`.
    pub shard: (u32, u32),
    /// Sweep point index.
    pub point: u32,
    /// Batch index within the point.
    pub batch: u32,
}

/// A batch file: [postcard](https://docs.rs/postcard)-encoded, a header
/// (magic, format, metric names, identity, checksum of the records) then the
/// records' bytes. Decoding reads the fields one by one, so each mismatch
/// gets its own message.
#[derive(Serialize)]
struct BatchFile<'a> {
    magic: [u8; 8],
    format: u32,
    metrics: Vec<&'static str>,
    id: &'a BatchId,
    checksum: u64,
    #[serde(with = "serde_bytes")]
    records: &'a [u8],
}

/// The names of the per-run metrics, in value order.
fn metric_names() -> Vec<&'static str> {
    METRICS.iter().map(|m| m.name).collect()
}

fn checksum(bytes: &[u8]) -> u64 {
    let mut h = Fnv64::new();
    h.write_bytes(bytes);
    h.finish()
}

/// Encodes the records of batch `id`.
pub fn encode(id: &BatchId, records: &[RunRecord]) -> Vec<u8> {
    let records = postcard::to_allocvec(records).expect("in-memory serialization");
    let file = BatchFile {
        magic: MAGIC,
        format: FORMAT,
        metrics: metric_names(),
        id,
        checksum: checksum(&records),
        records: &records,
    };
    postcard::to_allocvec(&file).expect("in-memory serialization")
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// Decodes the next value of a batch file.
fn take<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> io::Result<(T, &'a [u8])> {
    postcard::take_from_bytes(bytes).map_err(|e| match e {
        postcard::Error::DeserializeUnexpectedEnd => invalid("truncated coinfer batch file".into()),
        e => invalid(format!("corrupt coinfer batch file: {e}")),
    })
}

/// Checks a batch file's magic and format; returns the bytes after them.
fn header(bytes: &[u8]) -> io::Result<&[u8]> {
    let version_error = |found: u32| {
        invalid(format!(
            "batch file written by a different coinfer version (format {found}, this build reads \
             format {FORMAT}); run it again"
        ))
    };
    let Some(rest) = bytes.strip_prefix(&MAGIC) else {
        return Err(if bytes.starts_with(FORMAT_1_MAGIC) {
            version_error(1)
        } else if MAGIC.starts_with(bytes) {
            invalid("truncated coinfer batch file".into())
        } else {
            invalid("not a coinfer batch file".into())
        });
    };
    match take::<u32>(rest)? {
        (FORMAT, rest) => Ok(rest),
        (found, _) => Err(version_error(found)),
    }
}

/// Checks that a batch file's metric list is this build's.
fn check_metrics(theirs: &[String]) -> io::Result<()> {
    let ours = metric_names();
    let Some(i) = (0..theirs.len().max(ours.len()))
        .find(|&i| theirs.get(i).map(String::as_str) != ours.get(i).copied())
    else {
        return Ok(());
    };
    let name = |n: Option<&str>| n.map_or("nothing".to_string(), |n| format!("`{n}`"));
    Err(invalid(format!(
        "batch file written with a different metric list ({} metrics, this build has {}; metric {i} is {} \
         where this build has {}); run it again",
        theirs.len(),
        ours.len(),
        name(theirs.get(i).map(String::as_str)),
        name(ours.get(i).copied()),
    )))
}

/// Decodes the records of a batch file that must be batch `expected`.
/// Refuses, with a message saying why, a file that is not a coinfer batch,
/// one of another format or metric list, one that belongs elsewhere (another
/// study, shard, point or batch), and a truncated or corrupt one (checksum).
pub fn decode(bytes: &[u8], expected: &BatchId) -> io::Result<Vec<RunRecord>> {
    let rest = header(bytes)?;
    let (metrics, rest): (Vec<String>, _) = take(rest)?;
    check_metrics(&metrics)?;
    let (id, rest): (BatchId, _) = take(rest)?;
    if id != *expected {
        return Err(invalid(format!(
            "batch of another place: it holds {id:?}, expected {expected:?} (copied or renamed?)"
        )));
    }
    let (sum, rest): (u64, _) = take(rest)?;
    let (records, rest): (&[u8], _) = take(rest)?;
    if !rest.is_empty() {
        return Err(invalid(format!(
            "corrupt coinfer batch file: {} bytes after the last record",
            rest.len()
        )));
    }
    if checksum(records) != sum {
        return Err(invalid(
            "corrupt coinfer batch file: its checksum does not match".into(),
        ));
    }
    postcard::from_bytes(records).map_err(|e| invalid(format!("corrupt coinfer batch file: {e}")))
}

/// What a shard folder holds.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// Hash of the resolved scenario text.
    pub scenario_hash: String,
    /// This shard's index `I`.
    pub shard: u32,
    /// Number of shards `N`.
    pub of: u32,
    /// Seeds of run 0 and the plan of how many seeds each point gets.
    pub base_seed: u64,
    /// How many seeds each (point, policy) gets.
    pub seeds: SeedPlan,
    /// Whether every batch of the shard is on disk.
    pub complete: bool,
    /// The coinfer that simulated the batches ([`build`]): another build's
    /// are simulated again, not reused.
    #[serde(default)]
    pub build: String,
}

/// This program's version and git commit, which name the code that
/// simulated a batch.
pub fn build() -> String {
    format!("{} {}", env!("CARGO_PKG_VERSION"), env!("COINFER_GIT_COMMIT"))
}

impl Manifest {
    /// The manifest of shard `shard` of `of` of a study, not yet complete.
    pub fn new(study: &Study, shard: u32, of: u32) -> Manifest {
        Manifest {
            scenario_hash: study.hash(),
            shard,
            of,
            base_seed: study.base_seed,
            seeds: study.seeds.clone(),
            complete: false,
            build: build(),
        }
    }

    /// The manifest as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// The folder of shard `i` of `n` under `out`.
pub fn shard_dir(out: &Path, i: u32, n: u32) -> PathBuf {
    out.join("shards").join(format!("{i}-of-{n}"))
}

/// The file of batch `batch` of point `point` in a shard folder.
pub fn batch_file(dir: &Path, point: usize, batch: u32) -> PathBuf {
    dir.join(format!("p{point:05}-b{batch:04}.bin"))
}

/// Why shards cannot be merged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MergeError {
    /// A shard file cannot be read.
    #[error("{path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// No shard folder was found under the given folders.
    #[error("no shards found under {0}")]
    NoShards(String),
    /// Shards of different scenarios or shard counts.
    #[error("shards do not belong together: {0}")]
    Mismatch(String),
    /// Shards or runs are missing.
    #[error("incomplete shard set: {0}")]
    Incomplete(String),
    /// The shards' scenario copy is not valid.
    #[error(transparent)]
    Scenario(#[from] crate::scenario::ScenarioError),
}

fn read(path: &Path) -> Result<Vec<u8>, MergeError> {
    std::fs::read(path).map_err(|source| MergeError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Shard folders under `dirs`: each is a shard folder itself, or a result
/// folder with `shards/*`.
fn shard_dirs(dirs: &[PathBuf]) -> Result<Vec<PathBuf>, MergeError> {
    let mut out = Vec::new();
    for d in dirs {
        if d.join("manifest.json").exists() {
            out.push(d.clone());
        } else if d.join("shards").is_dir() {
            let mut sub: Vec<PathBuf> = std::fs::read_dir(d.join("shards"))
                .map_err(|source| MergeError::Io {
                    path: d.join("shards"),
                    source,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.join("manifest.json").exists())
                .collect();
            sub.sort();
            out.extend(sub);
        }
    }
    if out.is_empty() {
        let names: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        return Err(MergeError::NoShards(names.join(", ")));
    }
    Ok(out)
}

/// Reads a complete set of shards and returns the study and each point's
/// results, gathered in the same order as an unsharded run.
pub fn merge(dirs: &[PathBuf], registry: &Registry) -> Result<(Study, Vec<PointResults>), MergeError> {
    let dirs = shard_dirs(dirs)?;
    let manifests = dirs
        .iter()
        .map(|d| read_manifest(&d.join("manifest.json")))
        .collect::<Result<Vec<_>, _>>()?;
    check_shard_set(&dirs, &manifests)?;
    let study = Study::load(&dirs[0].join("scenario.ron"), registry)?;
    if study.hash() != manifests[0].scenario_hash || study.seeds != manifests[0].seeds {
        return Err(MergeError::Mismatch(format!(
            "{} does not match its manifest (edited after the run?)",
            dirs[0].join("scenario.ron").display()
        )));
    }
    let labels = study.labels();
    let mut out = Vec::new();
    for (index, point) in study.points.iter().enumerate() {
        let mut records = Vec::new();
        for (d, m) in dirs.iter().zip(&manifests) {
            for batch in 0.. {
                let f = batch_file(d, index, batch);
                if !f.exists() {
                    break;
                }
                let id = BatchId {
                    scenario_hash: m.scenario_hash.clone(),
                    shard: (m.shard, m.of),
                    point: index as u32,
                    batch,
                };
                records.extend(decode(&read(&f)?, &id).map_err(|source| MergeError::Io { path: f, source })?);
            }
        }
        records.sort_by_key(|r| (r.seed_index, r.policy));
        let results = replay(&study, index, point.params.clone(), &labels, records)?;
        out.push(results);
    }
    Ok((study, out))
}

fn read_manifest(path: &Path) -> Result<Manifest, MergeError> {
    serde_json::from_slice(&read(path)?).map_err(|e| MergeError::Io {
        path: path.to_path_buf(),
        source: io::Error::new(io::ErrorKind::InvalidData, e),
    })
}

/// Checks that the manifests name one scenario, one shard count, every shard
/// once, each complete.
fn check_shard_set(dirs: &[PathBuf], manifests: &[Manifest]) -> Result<(), MergeError> {
    let first = &manifests[0];
    for (d, m) in dirs.iter().zip(manifests) {
        if m.scenario_hash != first.scenario_hash {
            return Err(MergeError::Mismatch(format!(
                "{} ran scenario {} but {} ran scenario {}",
                dirs[0].display(),
                first.scenario_hash,
                d.display(),
                m.scenario_hash
            )));
        }
        if m.shard >= m.of {
            return Err(MergeError::Mismatch(format!(
                "{} names shard {} of {}: expected a shard index below {}",
                d.display(),
                m.shard,
                m.of,
                m.of
            )));
        }
        if m.build != first.build {
            return Err(MergeError::Mismatch(format!(
                "{} was simulated by coinfer {} but {} by coinfer {}: run the shards with one build",
                dirs[0].display(),
                first.build,
                d.display(),
                m.build
            )));
        }
        if m.of != first.of {
            return Err(MergeError::Mismatch(format!(
                "{} is one of {} shards but {} is one of {}",
                dirs[0].display(),
                first.of,
                d.display(),
                m.of
            )));
        }
        if !m.complete {
            return Err(MergeError::Incomplete(format!(
                "shard {}-of-{} in {} did not finish (run it again: it continues where it stopped)",
                m.shard,
                m.of,
                d.display()
            )));
        }
    }
    let n = first.of;
    let mut seen = vec![false; n as usize];
    for m in manifests {
        if std::mem::replace(&mut seen[m.shard as usize], true) {
            return Err(MergeError::Mismatch(format!(
                "shard {}-of-{n} given twice",
                m.shard
            )));
        }
    }
    let missing: Vec<String> = (0..n)
        .filter(|&i| !seen[i as usize])
        .map(|i| format!("{i}-of-{n}"))
        .collect();
    if !missing.is_empty() {
        return Err(MergeError::Incomplete(format!(
            "missing shards {}",
            missing.join(", ")
        )));
    }
    Ok(())
}

/// Rebuilds a point's results from its records (sorted by seed, then
/// policy) by replaying the seed plan: every policy must have exactly the
/// seeds `0..n`, where `n` is where the plan stops.
fn replay(
    study: &Study,
    index: usize,
    params: Vec<(String, String)>,
    labels: &[String],
    records: Vec<RunRecord>,
) -> Result<PointResults, MergeError> {
    let k = labels.len();
    let bad = |what: String| MergeError::Incomplete(format!("point {index}: {what}"));
    for (i, r) in records.iter().enumerate() {
        let (seed, policy) = ((i / k) as u32, (i % k) as u32);
        if (r.seed_index, r.policy) != (seed, policy) {
            return Err(bad(format!(
                "expected the run of seed index {seed} and policy {policy}, found seed index {} and policy {} (missing, duplicated or foreign runs)",
                r.seed_index, r.policy
            )));
        }
    }
    let mut results = PointResults::new(params, labels);
    let mut rest = records.into_iter();
    let mut target = study.seeds.first();
    let mut done = 0;
    loop {
        let batch: Vec<RunRecord> = rest.by_ref().take((target - done) as usize * k).collect();
        if batch.len() != (target - done) as usize * k {
            return Err(bad(format!(
                "has {} runs, expected {}",
                done as usize * k + batch.len(),
                target as usize * k
            )));
        }
        results.add(batch);
        done = target;
        match study.seeds.next(done, &results) {
            Some(next) => target = next,
            None if rest.next().is_some() => {
                return Err(bad(format!(
                    "has runs beyond the {done} seeds where its seed plan stops"
                )))
            }
            None => return Ok(results),
        }
    }
}
