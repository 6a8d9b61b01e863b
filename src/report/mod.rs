//! Results over seeds: means with 95 % confidence intervals, paired
//! differences against a reference policy, latency quantiles from merged
//! histograms, and the result files (SPEC 9).
//!
//! Files are written atomically: to a temporary file in the output folder,
//! then renamed, so a reader never sees a half-written file. Every number is
//! written in Rust's shortest round-trip form, so equal results give equal bytes.

pub mod campaign;
pub mod figures;

use crate::fsio::{sync_folder, write_atomic};
use crate::metrics::stats::{mean_ci95, unpaired_ci95};
use crate::metrics::{Metric, PointResults, METRICS, N_METRICS, N_POOLED, POOLED, SCHEMA};
use crate::plot::Format;
use crate::study::{SeedPlan, Study};
use figures::{FigureError, FigureOptions, KEY_METRICS};
use hdrhistogram::serialization::{Serializer, V2Serializer};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// One row of `summary.csv`: a policy's metrics over seeds at one point.
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryRow {
    /// `(param, value)` of the sweep point.
    pub params: Vec<(String, String)>,
    /// Policy label.
    pub policy: String,
    /// Number of seeds.
    pub seeds: usize,
    /// With `ci_rel`, whether every metric of `ci_metrics` met the target
    /// (see [`set_ci_targets`]); `None` without.
    pub ci_target_met: Option<bool>,
    /// Counted requests created, over all seeds.
    pub requests: u64,
    /// Counted requests completed, over all seeds.
    pub completed: u64,
    /// Mean over seeds of each per-run metric, in [`METRICS`] order.
    pub mean: [f64; N_METRICS],
    /// Half-width of the 95 % Student-t confidence interval of each mean.
    pub ci95: [f64; N_METRICS],
    /// Each pooled column (latency quantiles over all seeds' requests), in
    /// [`POOLED`] order.
    pub pooled: [f64; N_POOLED],
    /// With batteries, per seed, when each agent's ran out (s, `None`: alive).
    pub deaths_s: Vec<Vec<Option<f64>>>,
}

/// One row of `paired.csv`: a policy minus the reference policy, seed by seed.
#[derive(Clone, Debug, PartialEq)]
pub struct PairedRow {
    /// `(param, value)` of the sweep point.
    pub params: Vec<(String, String)>,
    /// Policy label.
    pub policy: String,
    /// Reference policy label.
    pub reference: String,
    /// Metric name.
    pub metric: &'static str,
    /// Seeds paired.
    pub seeds: usize,
    /// Mean of the per-seed differences.
    pub mean_diff: f64,
    /// 95 % CI half-width of the paired differences.
    pub ci95_paired: f64,
    /// 95 % CI half-width of the difference of means if the runs were
    /// independent (what an unpaired design would give).
    pub ci95_unpaired: f64,
}

/// Aggregates each point's policies into summary rows (point-major).
pub fn aggregate(points: &[PointResults]) -> Vec<SummaryRow> {
    let mut rows = Vec::new();
    for pt in points {
        for pr in &pt.policies {
            let mut mean = [0.0; N_METRICS];
            let mut ci95 = [0.0; N_METRICS];
            for m in 0..N_METRICS {
                (mean[m], ci95[m]) = mean_ci95(pr.runs.iter().map(|r| r.values[m]));
            }
            rows.push(SummaryRow {
                params: pt.params.clone(),
                policy: pr.label.clone(),
                seeds: pr.runs.len(),
                ci_target_met: None,
                requests: pr.runs.iter().map(|r| r.requests).sum(),
                completed: pr.runs.iter().map(|r| r.completed).sum(),
                mean,
                ci95,
                pooled: POOLED.map(|m| m.pooled_value(&pr.latency)),
                deaths_s: pr
                    .runs
                    .iter()
                    .map(|r| r.deaths_s.clone())
                    .filter(|d| !d.is_empty())
                    .collect(),
            });
        }
    }
    rows
}

/// Fills in each row's `ci_target_met` from its means and CIs under `plan`.
pub fn set_ci_targets(rows: &mut [SummaryRow], plan: &SeedPlan) {
    for r in rows {
        r.ci_target_met = plan.target_met(&r.mean, &r.ci95);
    }
}

/// The rows of a study's results, with their `ci_target_met`.
pub fn summary_rows(study: &Study, points: &[PointResults]) -> Vec<SummaryRow> {
    let mut rows = aggregate(points);
    set_ci_targets(&mut rows, &study.seeds);
    rows
}

/// The runs of each group of agents as points of their own, with a `group`
/// parameter after the sweep's (latency histograms are not kept per group,
/// so the pooled latency columns stay empty).
fn by_group(points: &[PointResults], names: &[String]) -> Vec<PointResults> {
    let mut out = Vec::new();
    for pt in points {
        for (g, name) in names.iter().enumerate() {
            let mut params = pt.params.clone();
            params.push(("group".into(), name.clone()));
            let mut gp = PointResults::new(params, &[]);
            gp.policies = pt
                .policies
                .iter()
                .map(|p| crate::metrics::PolicyRuns {
                    label: p.label.clone(),
                    runs: p.runs.iter().filter_map(|r| r.groups.get(g).cloned()).collect(),
                    latency: crate::metrics::latency_histogram(),
                })
                .collect();
            out.push(gp);
        }
    }
    out
}

/// Paired differences of every policy against policy `reference` (an index),
/// per point and metric.
pub fn paired(points: &[PointResults], reference: usize) -> Vec<PairedRow> {
    let mut rows = Vec::new();
    for pt in points {
        let refp = &pt.policies[reference];
        for pr in pt.policies.iter().filter(|p| p.label != refp.label) {
            for (m, metric) in METRICS.iter().enumerate() {
                let a: Vec<f64> = pr.runs.iter().map(|r| r.values[m]).collect();
                let b: Vec<f64> = refp.runs.iter().map(|r| r.values[m]).collect();
                let diffs: Vec<f64> = a
                    .iter()
                    .zip(&b)
                    .map(|(x, y)| x - y)
                    .filter(|d| !d.is_nan())
                    .collect();
                let (mean_diff, ci95_paired) = mean_ci95(diffs.iter().copied());
                rows.push(PairedRow {
                    params: pt.params.clone(),
                    policy: pr.label.clone(),
                    reference: refp.label.clone(),
                    metric: metric.name,
                    seeds: diffs.len(),
                    mean_diff,
                    ci95_paired,
                    ci95_unpaired: unpaired_ci95(&a, &b),
                });
            }
        }
    }
    rows
}

/// A summary row's numbers of one [`SCHEMA`] column.
enum Cell {
    /// A per-run metric: mean over seeds and CI half-width.
    PerRun(f64, f64),
    /// A pooled column's value.
    Pooled(f64),
}

impl SummaryRow {
    /// Every [`SCHEMA`] column with its numbers, in order.
    fn cells(&self) -> impl Iterator<Item = (&'static Metric, Cell)> + '_ {
        let (mut run, mut pooled) = (0..N_METRICS, 0..N_POOLED);
        SCHEMA.iter().map(move |m| {
            let cell = if m.is_pooled() {
                Cell::Pooled(self.pooled[pooled.next().expect("one value per pooled column")])
            } else {
                let i = run.next().expect("one value per metric");
                Cell::PerRun(self.mean[i], self.ci95[i])
            };
            (m, cell)
        })
    }
}

/// Column names of `summary.csv` after the point's parameters: each
/// [`SCHEMA`] column, a per-run one followed by its `_ci95`.
pub fn summary_columns() -> Vec<String> {
    let mut cols: Vec<String> = ["policy", "seeds", "ci_target_met", "requests", "completed"]
        .map(String::from)
        .to_vec();
    for m in SCHEMA {
        cols.push(m.name.to_string());
        if !m.is_pooled() {
            cols.push(format!("{}_ci95", m.name));
        }
    }
    cols
}

/// A float as written in result files: shortest round-trip form, empty for NaN.
fn num(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else {
        format!("{x}")
    }
}

fn json_num(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else {
        Value::Null
    }
}

fn csv_text(header: Vec<String>, records: impl Iterator<Item = Vec<String>>) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).expect("in-memory write");
    for r in records {
        w.write_record(r).expect("in-memory write");
    }
    String::from_utf8(w.into_inner().expect("flush")).expect("utf-8")
}

fn param_names(params: Option<&Vec<(String, String)>>) -> Vec<String> {
    params
        .map(|p| p.iter().map(|(k, _)| k.clone()).collect())
        .unwrap_or_default()
}

/// `summary.csv` as text: the point's parameters, then the normative columns.
pub fn summary_csv(rows: &[SummaryRow]) -> String {
    let mut header = param_names(rows.first().map(|r| &r.params));
    header.extend(summary_columns());
    csv_text(
        header,
        rows.iter().map(|r| {
            let mut rec: Vec<String> = r.params.iter().map(|(_, v)| v.clone()).collect();
            rec.extend([
                r.policy.clone(),
                r.seeds.to_string(),
                r.ci_target_met.map_or(String::new(), |m| m.to_string()),
                r.requests.to_string(),
                r.completed.to_string(),
            ]);
            for (_, cell) in r.cells() {
                match cell {
                    Cell::PerRun(mean, ci95) => rec.extend([num(mean), num(ci95)]),
                    Cell::Pooled(v) => rec.push(num(v)),
                }
            }
            rec
        }),
    )
}

/// `tidy.csv` as text: the summary in long format, one row per (point,
/// policy, column) with its mean, CI half-width (empty for pooled latency
/// quantiles), number of seeds and unit, for pandas or xarray (parameter
/// values made [`pandas_safe`]).
pub fn tidy_csv(rows: &[SummaryRow]) -> String {
    let mut header = param_names(rows.first().map(|r| &r.params));
    header.extend(["policy", "metric", "mean", "ci95", "n", "unit"].map(String::from));
    csv_text(
        header,
        rows.iter().flat_map(|r| {
            r.cells().map(move |(m, cell)| {
                let (mean, ci95) = match cell {
                    Cell::PerRun(mean, ci95) => (num(mean), num(ci95)),
                    Cell::Pooled(v) => (num(v), String::new()),
                };
                let mut rec: Vec<String> = r.params.iter().map(|(_, v)| pandas_safe(v)).collect();
                rec.extend([
                    r.policy.clone(),
                    m.name.into(),
                    mean,
                    ci95,
                    r.seeds.to_string(),
                    m.unit.into(),
                ]);
                rec
            })
        }),
    )
}

/// Words pandas' `read_csv` takes for a missing value by default.
const PANDAS_NA: [&str; 10] = [
    "None", "NA", "N/A", "n/a", "NULL", "null", "NaN", "nan", "<NA>", "#N/A",
];

/// A parameter value as `tidy.csv` writes it: a unit variant that pandas
/// would read as missing (fading `None`) gets the empty field list of a
/// variant, `None()`, so it stays a category.
fn pandas_safe(value: &str) -> String {
    if PANDAS_NA.contains(&value) {
        format!("{value}()")
    } else {
        value.to_string()
    }
}

/// `paired.csv` as text, one row per (point, policy, metric).
pub fn paired_csv(rows: &[PairedRow]) -> String {
    let mut header = param_names(rows.first().map(|r| &r.params));
    header.extend(
        [
            "policy",
            "reference",
            "metric",
            "seeds",
            "mean_diff",
            "ci95_paired",
            "ci95_unpaired",
        ]
        .map(String::from),
    );
    csv_text(
        header,
        rows.iter().map(|r| {
            let mut rec: Vec<String> = r.params.iter().map(|(_, v)| v.clone()).collect();
            rec.extend([
                r.policy.clone(),
                r.reference.clone(),
                r.metric.to_string(),
                r.seeds.to_string(),
                num(r.mean_diff),
                num(r.ci95_paired),
                num(r.ci95_unpaired),
            ]);
            rec
        }),
    )
}

/// Who, what and when produced a result folder: everything in it but this
/// block is the same for the same scenario. A rerun that simulates nothing
/// keeps the block of the run that simulated the results.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Provenance {
    /// Version of coinfer.
    pub coinfer_version: String,
    /// Git commit coinfer was built from.
    pub git_commit: String,
    /// Hash of the resolved scenario.
    pub scenario_hash: String,
    /// Seed of run 0.
    pub base_seed: u64,
    /// Wall time of the run (or merge), s.
    pub wall_time_s: f64,
    /// When the run finished (UTC, RFC 3339; empty in older folders).
    #[serde(default)]
    pub date: String,
    /// The machine's host name.
    pub host: String,
}

impl Provenance {
    /// The provenance of `study` run now by this build, in `wall_time_s` s
    /// (kept to the millisecond, so the number reads back exactly).
    pub fn now(study: &Study, wall_time_s: f64) -> Provenance {
        let host = std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_default();
        Provenance {
            coinfer_version: env!("CARGO_PKG_VERSION").into(),
            git_commit: env!("COINFER_GIT_COMMIT").into(),
            scenario_hash: study.hash(),
            base_seed: study.base_seed,
            wall_time_s: (wall_time_s * 1e3).round() / 1e3,
            date: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            host,
        }
    }

    /// The provenance in `dir/summary.json`, if it is readable.
    pub fn read(dir: &Path) -> Option<Provenance> {
        Provenance::of(&summary_doc(dir)?)
    }

    /// The provenance block of a parsed `summary.json`.
    pub fn of(summary: &Value) -> Option<Provenance> {
        serde_json::from_value(summary.get("provenance")?.clone()).ok()
    }
}

/// `dir/summary.json` parsed, if it is readable.
pub fn summary_doc(dir: &Path) -> Option<Value> {
    serde_json::from_slice(&std::fs::read(dir.join("summary.json")).ok()?).ok()
}

/// `summary.json` as text: provenance, the scenario, and every row.
pub fn summary_json(scenario_name: &str, prov: &Provenance, rows: &[SummaryRow]) -> String {
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut o = serde_json::Map::new();
            let params: serde_json::Map<String, Value> =
                r.params.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            o.insert("params".into(), Value::Object(params));
            o.insert("policy".into(), json!(r.policy));
            o.insert("seeds".into(), json!(r.seeds));
            o.insert("ci_target_met".into(), json!(r.ci_target_met));
            o.insert("requests".into(), json!(r.requests));
            o.insert("completed".into(), json!(r.completed));
            for (name, cell) in r.cells() {
                let v = match cell {
                    Cell::PerRun(mean, ci95) => json!({"mean": json_num(mean), "ci95": json_num(ci95)}),
                    Cell::Pooled(v) => json_num(v),
                };
                o.insert(name.name.to_string(), v);
            }
            if !r.deaths_s.is_empty() {
                o.insert("agent_death_s".into(), json!(r.deaths_s));
            }
            Value::Object(o)
        })
        .collect();
    let doc = json!({
        "provenance": prov,
        "scenario": scenario_name,
        "rows": rows,
    });
    serde_json::to_string_pretty(&doc).expect("json") + "\n"
}

/// `histograms.json`: each point's deadline and merged latency histogram per
/// policy, HDR V2-serialized and hex-encoded (for `coinfer plot`).
pub fn histograms_json(points: &[PointResults], deadlines_s: &[Option<f64>]) -> String {
    let mut ser = V2Serializer::new();
    let pts: Vec<Value> = points
        .iter()
        .zip(deadlines_s)
        .map(|(pt, deadline)| {
            let params: serde_json::Map<String, Value> =
                pt.params.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            let policies: Vec<Value> = pt
                .policies
                .iter()
                .map(|p| {
                    let mut bytes = Vec::new();
                    ser.serialize(&p.latency, &mut bytes)
                        .expect("in-memory serialization");
                    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                    json!({"policy": p.label, "hdr_v2": hex})
                })
                .collect();
            json!({"params": params, "deadline_s": deadline, "policies": policies})
        })
        .collect();
    serde_json::to_string(&json!({"unit": "ns", "points": pts})).expect("json") + "\n"
}

/// Why result files could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// A result file could not be written.
    #[error("cannot write {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A figure could not be drawn.
    #[error(transparent)]
    Figure(#[from] FigureError),
}

/// Writes every result file of a finished study into `out`: `scenario.ron`,
/// `summary.csv`, `tidy.csv`, `paired.csv`, `histograms.json`, `summary.json`
/// and the figures: the scenario's `figures` (default: a set for the sweep's
/// shape) in its `plots` formats (default SVG and PNG). Returns the rows of
/// `summary.csv`.
///
/// ```no_run
/// # use coinfer::{policy::Registry, runner::Runner, study::Study};
/// let study = Study::load("scenarios/paper.ron".as_ref(), &Registry::default()).unwrap();
/// let results = Runner::new(&study).run().unwrap();
/// let prov = coinfer::report::Provenance::now(&study, 0.0);
/// coinfer::report::write_results("results/paper".as_ref(), &study, &results.points, &prov).unwrap();
/// ```
pub fn write_results(
    out: &Path,
    study: &Study,
    points: &[PointResults],
    prov: &Provenance,
) -> Result<Vec<SummaryRow>, ReportError> {
    // Marks the folder as being written until every file is in: a run that
    // fails half-way (disk full) leaves the mark, and `coinfer plot` refuses
    // to draw the mix of old and new files.
    let mark = out.join(WRITING_MARK);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ReportError::Io { path, source }
    };
    write_atomic(&mark, study.hash().as_bytes()).map_err(io(&mark))?;
    let rows = summary_rows(study, points);
    let paired_rows = paired(points, study.reference);
    let deadlines: Vec<Option<f64>> = study.points.iter().map(|p| p.deadline_s()).collect();
    let files = [
        ("scenario.ron", study.to_ron()),
        ("summary.csv", summary_csv(&rows)),
        ("tidy.csv", tidy_csv(&rows)),
        ("paired.csv", paired_csv(&paired_rows)),
        ("histograms.json", histograms_json(points, &deadlines)),
        ("summary.json", summary_json(&study.name, prov, &rows)),
    ];
    for (name, text) in files {
        let path = out.join(name);
        write_atomic(&path, text.as_bytes()).map_err(|source| ReportError::Io { path, source })?;
    }
    let groups = study.scenario().agents.names();
    if groups.len() > 1 {
        let path = out.join("summary_groups.csv");
        let text = summary_csv(&summary_rows(study, &by_group(points, &groups)));
        write_atomic(&path, text.as_bytes()).map_err(|source| ReportError::Io { path, source })?;
    }
    let sc = study.scenario();
    let formats = sc.plots.clone().unwrap_or_else(|| DEFAULT_PLOTS.to_vec());
    let metrics: Vec<String> = KEY_METRICS.map(String::from).to_vec();
    let opts = FigureOptions {
        formats: &formats,
        specs: &sc.figures,
        metrics: &metrics,
        styles: &sc.styles,
    };
    // The data are complete: a figure that fails leaves them usable by `coinfer plot`.
    std::fs::remove_file(&mark).map_err(io(&mark))?;
    let drawn = figures::draw_results(out, &opts);
    sync_folder(out).map_err(io(out))?;
    drawn?;
    Ok(rows)
}

/// The figure formats of a scenario that does not set `plots`.
pub const DEFAULT_PLOTS: [Format; 2] = [Format::Svg, Format::Png];

/// The file that marks a result folder as being written (see [`write_results`]).
pub const WRITING_MARK: &str = ".coinfer-writing";
