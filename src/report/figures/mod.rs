//! A study's figures, drawn from a result folder's files alone
//! (`summary.csv`, `paired.csv`, `histograms.json`, `scenario.ron`;
//! `distortion.csv` and `output.csv` for `coinfer distortion`), so `coinfer
//! plot` redraws exactly what `coinfer run` drew: the scenario's figure specs,
//! or a default set chosen from the sweep's shape. Each figure is written in
//! the formats asked for, with its data as a tidy CSV beside it (see
//! [`crate::plot`]).
//!
//! A policy keeps the same style (colour, marker, dash) in every figure of
//! every study: [`label_style`] of its label, unless the scenario's `styles`
//! says otherwise.

mod distortion;
mod latency;
mod xy;

pub use distortion::{approximation_figure, draw_distortion};

use crate::metrics::schema;
use crate::plot::spec::{FigureKind, FigureSpec};
use crate::plot::{label_style, render, Figure, Format, PlotError};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Metrics drawn against each sweep axis by default.
pub const KEY_METRICS: [&str; 5] = [
    "distortion_upper_mean",
    "distortion_measured_mean",
    "miss_rate",
    "latency_p99_s",
    "agent_energy_mean_j",
];

/// Why figures cannot be drawn.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FigureError {
    /// A result file is missing or unreadable.
    #[error("{path}: {message}")]
    Input {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Drawing or writing a figure failed.
    #[error(transparent)]
    Plot(#[from] PlotError),
    /// A figure spec does not fit the results.
    #[error("{0}")]
    Spec(String),
}

/// A CSV file as a header and rows of fields.
struct Table {
    path: PathBuf,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn read(path: &Path) -> Result<Table, FigureError> {
        let input = |message: String| FigureError::Input {
            path: path.to_path_buf(),
            message,
        };
        let mut r = csv::Reader::from_path(path).map_err(|e| input(e.to_string()))?;
        let header = r
            .headers()
            .map_err(|e| input(e.to_string()))?
            .iter()
            .map(String::from)
            .collect();
        let rows = r
            .records()
            .map(|rec| rec.map(|r| r.iter().map(String::from).collect()))
            .collect::<Result<_, _>>()
            .map_err(|e| input(e.to_string()))?;
        Ok(Table {
            path: path.to_path_buf(),
            header,
            rows,
        })
    }

    fn col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The index of a column the file must have.
    fn need(&self, name: &str) -> Result<usize, FigureError> {
        self.col(name).ok_or_else(|| FigureError::Input {
            path: self.path.clone(),
            message: format!("no `{name}` column: expected a file written by coinfer"),
        })
    }

    /// Parameter columns: those before `first`.
    fn params(&self, first: &str) -> Vec<usize> {
        (0..self.col(first).unwrap_or(0)).collect()
    }
}

fn num(s: &str) -> f64 {
    s.parse().unwrap_or(f64::NAN)
}

/// An axis label with its unit: a metric's from the schema, any other
/// field's (a sweep parameter) from its name's suffix.
pub fn label_of(name: &str) -> String {
    if let Some(m) = schema::find(name) {
        return m.axis_label();
    }
    let last = name.rsplit('.').next().unwrap_or(name);
    const UNITS: [(&str, &str); 11] = [
        ("_ghz", "GHz"),
        ("_hz", "Hz"),
        ("_dbm", "dBm"),
        ("_db", "dB"),
        ("_s", "s"),
        ("_m", "m"),
        ("_j", "J"),
        ("_w", "W"),
        ("_bits", "bits"),
        ("_mean", ""),
        ("_rate", ""),
    ];
    for (suffix, unit) in UNITS {
        if let Some(stem) = last.strip_suffix(suffix) {
            let stem = stem.replace('_', " ");
            return if unit.is_empty() {
                stem
            } else {
                format!("{stem} ({unit})")
            };
        }
    }
    last.replace('_', " ")
}

/// A short name of a metric, for paired-difference axes.
fn short_label(name: &str) -> String {
    schema::find(name).map_or_else(|| label_of(name).to_lowercase(), |m| m.short_axis_label())
}

/// A short file-name form of a parameter path (its last component).
fn short(param: &str) -> &str {
    param.rsplit('.').next().unwrap_or(param)
}

/// A parameter value as shown in titles and on axes: a variant with fields
/// as `Nakagami(m=2)`, not JSON.
pub fn compact(value: &str) -> String {
    fn show(v: &serde_json::Value) -> String {
        match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Object(m) if m.len() == 1 => {
                let (k, inner) = m.iter().next().expect("one entry");
                match inner {
                    serde_json::Value::Object(f) => {
                        let fields: Vec<String> = f.iter().map(|(n, x)| format!("{n}={}", show(x))).collect();
                        format!("{k}({})", fields.join(", "))
                    }
                    other => format!("{k}({})", show(other)),
                }
            }
            other => other.to_string(),
        }
    }
    match serde_json::from_str::<serde_json::Value>(value) {
        Ok(v @ (serde_json::Value::Object(_) | serde_json::Value::Array(_))) => show(&v),
        _ => value.to_string(),
    }
}

/// A value as part of a file name: [`compact`], other characters than
/// letters, digits, `.`, `=`, `+` and `-` made `_`.
fn file_part(value: &str) -> String {
    let mut out = String::new();
    for c in compact(value).chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '.' | '=' | '+' | '-') {
            c
        } else {
            '_'
        };
        if !(c == '_' && (out.is_empty() || out.ends_with('_'))) {
            out.push(c);
        }
    }
    out.trim_end_matches('_').to_string()
}

/// How a study's figures are drawn.
#[derive(Clone, Copy, Debug)]
pub struct FigureOptions<'a> {
    /// Image formats (none: only the CSV data files… and not even those).
    pub formats: &'a [Format],
    /// The figures; empty: the default set for the sweep's shape.
    pub specs: &'a [FigureSpec],
    /// Metrics of the default set's line and bar figures.
    pub metrics: &'a [String],
    /// Style index by series label, before [`label_style`].
    pub styles: &'a BTreeMap<String, usize>,
}

/// The summary of a result folder, ready to slice into figures.
struct Results {
    summary: Table,
    /// Sweep parameters (the columns before `policy`).
    params: Vec<String>,
    /// The style of each policy label.
    looks: BTreeMap<String, usize>,
}

/// Styles a palette has: colour × marker × dash.
const LOOKS: usize = 8 * 7 * 5;

impl Results {
    fn new(summary: Table, styles: &BTreeMap<String, usize>) -> Results {
        let params = summary
            .params("policy")
            .iter()
            .map(|&c| summary.header[c].clone())
            .collect();
        let mut res = Results {
            summary,
            params,
            looks: BTreeMap::new(),
        };
        let all: Vec<usize> = (0..res.summary.rows.len()).collect();
        let mut labels = distinct(&res, &all, "policy");
        labels.sort();
        // By hand first; then each label's own style, or, if an earlier
        // label (alphabetically) already looks so, the next look of its colour.
        let mut taken: Vec<usize> = labels.iter().filter_map(|l| styles.get(l).copied()).collect();
        for label in labels {
            let look = match styles.get(&label) {
                Some(&s) => s,
                None => {
                    let own = label_style(&label);
                    let s = (0..LOOKS / 8)
                        .map(|k| (own + 8 * k) % LOOKS)
                        .find(|s| !taken.contains(s))
                        .unwrap_or(own);
                    taken.push(s);
                    s
                }
            };
            res.looks.insert(label, look);
        }
        res
    }

    fn style(&self, label: &str) -> usize {
        self.looks
            .get(label)
            .copied()
            .unwrap_or_else(|| label_style(label))
    }

    /// The value of column `name` in row `r` (`policy` included).
    fn value<'r>(&self, r: &'r [String], name: &str) -> &'r str {
        self.summary.col(name).map_or("", |c| &r[c])
    }

    fn numeric(&self, param: &str) -> bool {
        self.summary
            .rows
            .iter()
            .all(|r| self.value(r, param).parse::<f64>().is_ok())
    }
}

/// The default figures for a sweep's shape: each metric against each
/// numeric axis (lines), at each value of each categorical axis or, without
/// a sweep, of each policy (bars); the latency CDFs; energy against distortion.
fn default_specs(res: &Results, metrics: &[String]) -> Vec<FigureSpec> {
    let mut specs = Vec::new();
    let axes: Vec<String> = if res.params.is_empty() {
        vec!["policy".into()]
    } else {
        res.params.clone()
    };
    for axis in axes {
        let kind = if axis != "policy" && res.numeric(&axis) {
            FigureKind::Line
        } else {
            FigureKind::Bar
        };
        for m in metrics {
            let mut spec = FigureSpec::new(kind);
            spec.x = Some(axis.clone());
            spec.y = vec![m.clone()];
            spec.log_y = m.starts_with("distortion_");
            specs.push(spec);
        }
    }
    specs.push(FigureSpec::new(FigureKind::Cdf));
    if res.summary.col("agent_energy_mean_j").is_some() && res.summary.col("distortion_upper_mean").is_some()
    {
        let mut spec = FigureSpec::new(FigureKind::Scatter);
        spec.x = Some("agent_energy_mean_j".into());
        spec.y = vec!["distortion_upper_mean".into()];
        spec.log_y = true;
        spec.name = Some("energy_distortion".into());
        specs.push(spec);
    }
    specs
}

/// Whether a row's value is one of those listed (numbers compared as numbers).
fn listed(value: &str, allowed: &[ron::Value]) -> bool {
    allowed.iter().any(|a| {
        let a = crate::scenario::sweep::value_text(a);
        a == value || matches!((a.parse::<f64>(), value.parse::<f64>()), (Ok(x), Ok(y)) if x == y)
    })
}

/// Rows of a slice: the values of the parameters the spec leaves free.
struct Slice {
    /// `_p=v` for each free parameter that varies, for file names.
    suffix: String,
    /// `p = v, …` for each free parameter, for the title.
    title: Option<String>,
    rows: Vec<usize>,
}

/// The included rows, split by the values of the parameters the spec does not place.
fn slices(res: &Results, spec: &FigureSpec) -> Vec<Slice> {
    // A scatter plots metric against metric: every point goes in one figure.
    let placed: Vec<&str> = match spec.kind {
        FigureKind::Scatter => res.params.iter().map(String::as_str).collect(),
        _ => spec.axes().map(|(_, a)| a).collect(),
    };
    let mut free: Vec<&str> = res
        .params
        .iter()
        .map(String::as_str)
        .filter(|p| !placed.contains(p))
        .collect();
    // Series over a parameter: each policy gets figures of its own.
    if spec.series_by() != "policy" && spec.x.as_deref() != Some("policy") {
        free.push("policy");
    }
    let rows: Vec<usize> = (0..res.summary.rows.len())
        .filter(|&i| {
            let r = &res.summary.rows[i];
            spec.include
                .iter()
                .all(|(p, allowed)| listed(res.value(r, p), allowed))
        })
        .collect();
    let varies: Vec<bool> = free
        .iter()
        .map(|p| {
            rows.iter()
                .any(|&i| res.value(&res.summary.rows[i], p) != res.value(&res.summary.rows[rows[0]], p))
        })
        .collect();
    let mut groups: Vec<(Vec<&str>, Vec<usize>)> = Vec::new();
    for &i in &rows {
        let key: Vec<&str> = free.iter().map(|p| res.value(&res.summary.rows[i], p)).collect();
        match groups.iter_mut().find(|g| g.0 == key) {
            Some(g) => g.1.push(i),
            None => groups.push((key, vec![i])),
        }
    }
    groups
        .into_iter()
        .map(|(key, rows)| {
            let suffix = free
                .iter()
                .zip(&key)
                .zip(&varies)
                .filter(|(_, v)| **v)
                .map(|((p, v), _)| format!("_{}={}", short(p), file_part(v)))
                .collect();
            let parts: Vec<String> = free
                .iter()
                .zip(&key)
                .map(|(p, v)| format!("{} = {}", short(p), compact(v)))
                .collect();
            Slice {
                suffix,
                title: (!parts.is_empty()).then(|| parts.join(", ")),
                rows,
            }
        })
        .collect()
}

/// Distinct values of `col` over `rows`, in order of first appearance.
fn distinct(res: &Results, rows: &[usize], col: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for &i in rows {
        let v = res.value(&res.summary.rows[i], col);
        if !out.iter().any(|o| o == v) {
            out.push(v.to_string());
        }
    }
    out
}

/// Draws the figures of a simulation result folder into `dir/plots/`: the
/// specs' (or the default set, with paired differences and `--trace`
/// timelines), in each format, each with its data as CSV.
///
/// The figures of an earlier drawing are removed first, so `plots/` holds
/// just what these options draw (nothing with no format).
pub fn draw_results(dir: &Path, opts: &FigureOptions) -> Result<Vec<PathBuf>, FigureError> {
    // Every figure is made before the old ones go: a bad spec keeps them.
    let figures = if opts.formats.is_empty() {
        Vec::new()
    } else {
        figures_of(dir, opts)?
    };
    replace_plots(dir, &figures, opts.formats)
}

/// Replaces the figures in `dir/plots/` with `figures`, in each format.
fn replace_plots(dir: &Path, figures: &[Figure], formats: &[Format]) -> Result<Vec<PathBuf>, FigureError> {
    let out = dir.join("plots");
    if out.is_dir() {
        std::fs::remove_dir_all(&out).map_err(|e| FigureError::Input {
            path: out.clone(),
            message: format!("cannot clear the earlier figures: {e}"),
        })?;
    }
    let mut files = Vec::new();
    for f in figures {
        files.extend(render(f, &out, formats)?);
    }
    Ok(files)
}

/// The figures [`draw_results`] draws, from the files of a result folder.
/// A spec that selects nothing, or two figures with one file name, is an error.
pub fn figures_of(dir: &Path, opts: &FigureOptions) -> Result<Vec<Figure>, FigureError> {
    let summary = Table::read(&dir.join("summary.csv"))?;
    summary.need("policy")?;
    let res = Results::new(summary, opts.styles);
    let defaults = opts.specs.is_empty();
    let specs = if defaults {
        default_specs(&res, opts.metrics)
    } else {
        opts.specs.to_vec()
    };
    let categorical: Vec<String> = res.params.iter().filter(|p| !res.numeric(p)).cloned().collect();
    let mut figures = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let spec_err = |m: String| FigureError::Spec(format!("figures[{i}]: {m}"));
        crate::study::check_figure(spec, &res.params, &categorical)
            .map_err(|(f, m)| spec_err(format!("{f}: {m}")))?;
        let made = match spec.kind {
            FigureKind::Cdf => latency::latency_cdfs(&dir.join("histograms.json"), &res, spec)?,
            _ => xy::spec_figures(&res, spec),
        };
        if made.is_empty() {
            return Err(spec_err("selects no point or policy: check its `include`".into()));
        }
        figures.extend(made);
    }
    if defaults {
        figures.extend(xy::paired_figures(dir, &res, opts.metrics)?);
        figures.extend(latency::timelines(&dir.join("trace"), &res)?);
    }
    let mut names = std::collections::BTreeSet::new();
    if let Some(f) = figures.iter().find(|f| !names.insert(f.name.as_str())) {
        return Err(FigureError::Spec(format!(
            "two figures would be written to {}: give the specs different `name`s or `y`s",
            f.name
        )));
    }
    Ok(figures)
}
