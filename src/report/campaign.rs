//! Result folders as campaigns: a folder belongs to one scenario (by hash),
//! and the folder above result folders holds `index.csv`, one row per study,
//! rebuilt from the studies' `summary.json` files.

use super::{summary_doc, Provenance, ReportError, WRITING_MARK};
use crate::fsio::write_atomic;
use crate::scenario::RawScenario;
use std::io;
use std::path::{Path, PathBuf};

/// The files and folders of a result folder, shards aside.
pub const RESULT_ENTRIES: [&str; 11] = [
    "scenario.ron",
    "summary.csv",
    "tidy.csv",
    "paired.csv",
    "histograms.json",
    "summary.json",
    "summary_groups.csv",
    WRITING_MARK,
    "plots",
    "trace",
    "shards",
];

/// A study whose results or shard batches are in a folder.
#[derive(Clone, Debug, PartialEq)]
pub struct Owner {
    /// Hash of its resolved scenario.
    pub hash: String,
    /// Its name (empty when unknown).
    pub name: String,
    /// The file that says so.
    pub file: PathBuf,
}

/// The studies found in result folder `out`: its `summary.json`, its
/// `.coinfer-writing` mark and each shard's manifest.
pub fn owners(out: &Path) -> Vec<Owner> {
    let mut found = Vec::new();
    let summary = out.join("summary.json");
    if let Some(doc) = summary_doc(out) {
        if let Some(p) = Provenance::of(&doc) {
            found.push(Owner {
                hash: p.scenario_hash,
                name: doc["scenario"].as_str().unwrap_or_default().to_string(),
                file: summary,
            });
        }
    }
    let mark = out.join(WRITING_MARK);
    if let Ok(hash) = std::fs::read_to_string(&mark) {
        found.push(Owner {
            hash,
            name: scenario_name(&out.join("scenario.ron")),
            file: mark,
        });
    }
    found.extend(shard_owners(out));
    found
}

/// The study of each shard folder under `out/shards/`, by its manifest.
fn shard_owners(out: &Path) -> Vec<Owner> {
    let Ok(dirs) = std::fs::read_dir(out.join("shards")) else {
        return Vec::new();
    };
    let mut found: Vec<Owner> = dirs
        .flatten()
        .filter_map(|d| {
            let file = d.path().join("manifest.json");
            let m: crate::shard::Manifest = serde_json::from_slice(&std::fs::read(&file).ok()?).ok()?;
            Some(Owner {
                hash: m.scenario_hash,
                name: scenario_name(&d.path().join("scenario.ron")),
                file,
            })
        })
        .collect();
    found.sort_by(|a, b| a.file.cmp(&b.file));
    found
}

/// The `name` of a scenario file, empty if it cannot be read.
fn scenario_name(path: &Path) -> String {
    RawScenario::load(path).map(|r| r.name).unwrap_or_default()
}

/// Removes from `out` what studies other than `hash` left: their shard
/// folders and, if the results are theirs, every result file. What is
/// already gone is fine (shards of one study may clear side by side).
pub fn clear_others(out: &Path, hash: &str) -> io::Result<()> {
    let found = owners(out);
    let theirs = |file: &Path| found.iter().any(|o| o.file == file && o.hash != hash);
    let shards = found
        .iter()
        .filter(|o| o.hash != hash && o.file.ends_with("manifest.json"));
    for o in shards {
        remove_any(o.file.parent().unwrap_or(out))?;
    }
    if theirs(&out.join("summary.json")) || theirs(&out.join(WRITING_MARK)) {
        for e in RESULT_ENTRIES.iter().filter(|&&e| e != "shards") {
            remove_any(&out.join(e))?;
        }
    }
    Ok(())
}

/// Removes every shard folder but the unsharded run's (`shards/0-of-1`).
pub fn clear_other_shard_sets(out: &Path) -> io::Result<()> {
    let Ok(entries) = std::fs::read_dir(out.join("shards")) else {
        return Ok(());
    };
    for e in entries.flatten().filter(|e| e.file_name() != "0-of-1") {
        remove_any(&e.path())?;
    }
    Ok(())
}

/// Removes a file or a folder; a missing one is fine.
fn remove_any(path: &Path) -> io::Result<()> {
    let removed = match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) => Err(e),
    };
    match removed {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// One row of `index.csv`: a study in a folder beside the others.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct IndexRow {
    /// Scenario name.
    pub name: String,
    /// Hash of its resolved scenario.
    pub scenario_hash: String,
    /// When the run that simulated the results finished (UTC, RFC 3339).
    pub date: String,
    /// Git commit of the coinfer that simulated them.
    pub commit: String,
    /// Runs over every point, policy and seed.
    pub runs: u64,
    /// Wall time of the run that simulated them, s.
    pub wall_time_s: f64,
    /// The result folder's name.
    pub folder: String,
}

/// The index row of result folder `dir`, if it holds a readable `summary.json`.
fn index_row(dir: &Path) -> Option<IndexRow> {
    let doc = summary_doc(dir)?;
    let prov = Provenance::of(&doc)?;
    let runs = doc["rows"]
        .as_array()?
        .iter()
        .filter_map(|r| r["seeds"].as_u64())
        .sum();
    Some(IndexRow {
        name: doc["scenario"].as_str().unwrap_or_default().to_string(),
        scenario_hash: prov.scenario_hash,
        date: prov.date,
        commit: prov.git_commit,
        runs,
        wall_time_s: prov.wall_time_s,
        folder: dir.file_name()?.to_string_lossy().into_owned(),
    })
}

/// The studies in the folders of `parent`, by folder name.
pub fn index(parent: &Path) -> io::Result<Vec<IndexRow>> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(parent)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    Ok(dirs.iter().filter_map(|d| index_row(d)).collect())
}

/// `index.csv` as text.
pub fn index_csv(rows: &[IndexRow]) -> String {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    let header = [
        "name",
        "scenario_hash",
        "date",
        "commit",
        "runs",
        "wall_time_s",
        "folder",
    ];
    w.write_record(header).expect("in-memory write");
    for r in rows {
        w.serialize(r).expect("in-memory write");
    }
    String::from_utf8(w.into_inner().expect("flush")).expect("utf-8")
}

/// Rebuilds `index.csv` in the folder above result folder `out` from every
/// study there, written atomically; returns its path.
pub fn update_index(out: &Path) -> Result<PathBuf, ReportError> {
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ReportError::Io { path, source }
    };
    let full = std::fs::canonicalize(out).map_err(io_err(out))?;
    let parent = full.parent().unwrap_or(&full);
    let path = parent.join("index.csv");
    let text = index_csv(&index(parent).map_err(io_err(parent))?);
    write_atomic(&path, text.as_bytes()).map_err(io_err(&path))?;
    Ok(path)
}
