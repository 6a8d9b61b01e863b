//! The standard figure set, drawn from a result folder's files alone
//! (`summary.csv`, `paired.csv`, `histograms.json`; `distortion.csv` and
//! `output.csv` for `coinfer distortion`), so `coinfer plot` redraws exactly
//! what `coinfer run` drew. Each figure is written as SVG and/or PNG, with its
//! data as a tidy CSV beside it (see [`crate::plot`]).
//!
//! A policy keeps the same style (colour, marker, dash) in every figure of
//! every study: [`label_style`] of its label, unless the scenario's `styles`
//! says otherwise.

use crate::metrics::schema;
use crate::plot::spec::{FigureKind, FigureSpec};
use crate::plot::{label_style, render, Figure, Format, Heat, Kind, PlotError, Point, Series};
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::Histogram;
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
struct Results<'a> {
    summary: Table,
    /// Sweep parameters (the columns before `policy`).
    params: Vec<String>,
    styles: &'a BTreeMap<String, usize>,
}

impl Results<'_> {
    fn style(&self, label: &str) -> usize {
        self.styles
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
    let free: Vec<&String> = res
        .params
        .iter()
        .filter(|p| !placed.contains(&p.as_str()))
        .collect();
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

/// The figures of one spec over the summary.
fn spec_figures(res: &Results, spec: &FigureSpec) -> Result<Vec<Figure>, FigureError> {
    let x = spec.x.as_deref().unwrap_or("policy");
    if spec.kind == FigureKind::Line && !res.numeric(x) {
        return Err(FigureError::Spec(format!(
            "a Line figure needs a numeric x, and `{x}` takes other values: use kind: Bar"
        )));
    }
    let mut figures = Vec::new();
    for slice in slices(res, spec) {
        for m in &spec.y {
            match spec.kind {
                FigureKind::Heatmap => figures.extend(heatmaps(res, spec, &slice, m)),
                _ => figures.push(xy_figure(res, spec, &slice, m)),
            }
        }
    }
    Ok(figures)
}

/// A Line, Bar or Scatter figure of metric `m` over a slice.
fn xy_figure(res: &Results, spec: &FigureSpec, slice: &Slice, m: &str) -> Figure {
    let x = spec.x.as_deref().unwrap_or("policy");
    let by = spec.series_by();
    let categories = match spec.kind {
        FigureKind::Bar => distinct(res, &slice.rows, x),
        _ => Vec::new(),
    };
    let ci = format!("{m}_ci95");
    let series = distinct(res, &slice.rows, by)
        .into_iter()
        .enumerate()
        .map(|(k, label)| {
            let points = slice
                .rows
                .iter()
                .map(|&i| &res.summary.rows[i])
                .filter(|r| res.value(r, by) == label)
                .map(|r| {
                    let xv = match spec.kind {
                        FigureKind::Bar => {
                            categories.iter().position(|c| c == res.value(r, x)).unwrap_or(0) as f64
                        }
                        _ => num(res.value(r, x)),
                    };
                    let err = (spec.kind != FigureKind::Scatter)
                        .then(|| num(res.value(r, &ci)))
                        .filter(|e| e.is_finite());
                    Point {
                        x: xv,
                        y: num(res.value(r, m)),
                        err,
                    }
                })
                .collect();
            let style = if by == "policy" { res.style(&label) } else { k };
            Series {
                label: compact(&label),
                style,
                points,
            }
        })
        .collect();
    let base = match spec.kind {
        FigureKind::Bar => format!("{m}_by_{}", short(x)),
        _ => format!("{m}_vs_{}", short(x)),
    };
    Figure {
        name: figure_name(spec, &base, m, &slice.suffix),
        title: spec.title.clone().or_else(|| slice.title.clone()),
        x_label: spec.x_label.clone().unwrap_or_else(|| {
            if x == "policy" {
                "Policy".into()
            } else {
                label_of(x)
            }
        }),
        y_label: spec.y_label.clone().unwrap_or_else(|| label_of(m)),
        x_log: spec.log_x,
        y_log: spec.log_y,
        kind: match spec.kind {
            FigureKind::Bar => Kind::Bar,
            FigureKind::Scatter => Kind::Scatter,
            _ => Kind::Lines,
        },
        series,
        x_categories: categories.iter().map(|c| compact(c)).collect(),
        band: spec.band,
        x_range: spec.x_limits,
        y_range: spec.y_limits,
        ..Figure::default()
    }
}

/// A spec's file stem: its `name` (with the metric when it has several), or `base`.
fn figure_name(spec: &FigureSpec, base: &str, m: &str, suffix: &str) -> String {
    match &spec.name {
        Some(n) if spec.y.len() > 1 => format!("{n}_{m}{suffix}"),
        Some(n) => format!("{n}{suffix}"),
        None => format!("{base}{suffix}"),
    }
}

/// One heatmap of metric `m` over `x` × `rows` per policy of the slice.
fn heatmaps(res: &Results, spec: &FigureSpec, slice: &Slice, m: &str) -> Vec<Figure> {
    let (x, rows) = (
        spec.x.as_deref().unwrap_or_default(),
        spec.rows.as_deref().unwrap_or_default(),
    );
    let (xs, ys) = (distinct(res, &slice.rows, x), distinct(res, &slice.rows, rows));
    distinct(res, &slice.rows, "policy")
        .into_iter()
        .map(|policy| {
            let mut values = vec![vec![f64::NAN; xs.len()]; ys.len()];
            for r in slice
                .rows
                .iter()
                .map(|&i| &res.summary.rows[i])
                .filter(|r| res.value(r, "policy") == policy)
            {
                let c = xs.iter().position(|v| v == res.value(r, x));
                let w = ys.iter().position(|v| v == res.value(r, rows));
                if let (Some(c), Some(w)) = (c, w) {
                    values[w][c] = num(res.value(r, m));
                }
            }
            let base = format!("{m}_{}_{}", short(x), short(rows));
            let suffix = format!("_{}{}", file_part(&policy), slice.suffix);
            let title = slice
                .title
                .as_ref()
                .map_or(policy.clone(), |t| format!("{policy}: {t}"));
            Figure {
                name: figure_name(spec, &base, m, &suffix),
                title: Some(spec.title.clone().unwrap_or(title)),
                x_label: spec.x_label.clone().unwrap_or_else(|| label_of(x)),
                y_label: spec.y_label.clone().unwrap_or_else(|| label_of(rows)),
                kind: Kind::Heatmap,
                x_categories: xs.iter().map(|v| compact(v)).collect(),
                y_categories: ys.iter().map(|v| compact(v)).collect(),
                heat: Some(Heat {
                    values,
                    label: label_of(m),
                }),
                ..Figure::default()
            }
        })
        .collect()
}

/// Draws the figures of a simulation result folder into `dir/plots/`: the
/// specs' (or the default set, with paired differences and `--trace`
/// timelines), in each format, each with its data as CSV.
///
/// The figures of an earlier drawing are removed first, so `plots/` holds
/// just what these options draw (nothing with no format).
pub fn draw_results(dir: &Path, opts: &FigureOptions) -> Result<Vec<PathBuf>, FigureError> {
    let out = dir.join("plots");
    if out.is_dir() {
        std::fs::remove_dir_all(&out).map_err(|e| FigureError::Input {
            path: out.clone(),
            message: format!("cannot clear the earlier figures: {e}"),
        })?;
    }
    if opts.formats.is_empty() {
        return Ok(Vec::new());
    }
    let mut files = Vec::new();
    for f in &figures_of(dir, opts)? {
        files.extend(render(f, &out, opts.formats)?);
    }
    Ok(files)
}

/// The figures [`draw_results`] draws, from the files of a result folder.
pub fn figures_of(dir: &Path, opts: &FigureOptions) -> Result<Vec<Figure>, FigureError> {
    let summary = Table::read(&dir.join("summary.csv"))?;
    summary.need("policy")?;
    let params = summary
        .params("policy")
        .iter()
        .map(|&c| summary.header[c].clone())
        .collect();
    let res = Results {
        summary,
        params,
        styles: opts.styles,
    };
    let defaults = opts.specs.is_empty();
    let specs = if defaults {
        default_specs(&res, opts.metrics)
    } else {
        opts.specs.to_vec()
    };
    let mut figures = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        crate::study::check_figure(spec, &res.params)
            .map_err(|(f, m)| FigureError::Spec(format!("figures[{i}].{f}: {m}")))?;
        figures.extend(match spec.kind {
            FigureKind::Cdf => latency_cdfs(&dir.join("histograms.json"), &res, spec)?,
            _ => spec_figures(&res, spec)?,
        });
    }
    if defaults {
        figures.extend(paired_figures(dir, &res, opts.metrics)?);
        figures.extend(timelines(&dir.join("trace"), &res)?);
    }
    Ok(figures)
}

/// Paired differences against the reference policy, against each numeric axis.
fn paired_figures(dir: &Path, res: &Results, metrics: &[String]) -> Result<Vec<Figure>, FigureError> {
    let path = dir.join("paired.csv");
    if !path.exists() {
        return Ok(Vec::new());
    }
    let paired = Table::read(&path)?;
    if paired.rows.is_empty() {
        return Ok(Vec::new());
    }
    let (pol, refc, met, diff, ci) = (
        paired.need("policy")?,
        paired.need("reference")?,
        paired.need("metric")?,
        paired.need("mean_diff")?,
        paired.need("ci95_paired")?,
    );
    let reference = paired.rows.first().map(|r| r[refc].clone()).unwrap_or_default();
    let pres = Results {
        params: res.params.clone(),
        summary: paired,
        styles: res.styles,
    };
    let mut figures = Vec::new();
    for axis in res.params.iter().filter(|a| pres.numeric(a)) {
        let mut spec = FigureSpec::new(FigureKind::Line);
        spec.x = Some(axis.clone());
        let ac = pres.summary.need(axis)?;
        for slice in slices(&pres, &spec) {
            for m in metrics {
                let series: Vec<Series> = distinct(&pres, &slice.rows, "policy")
                    .into_iter()
                    .map(|p| Series {
                        style: res.style(&p),
                        points: slice
                            .rows
                            .iter()
                            .map(|&i| &pres.summary.rows[i])
                            .filter(|r| r[pol] == p && r[met] == *m)
                            .map(|r| Point::with_err(num(&r[ac]), num(&r[diff]), num(&r[ci])))
                            .collect(),
                        label: p,
                    })
                    .filter(|s| !s.points.is_empty())
                    .collect();
                if series.is_empty() {
                    continue;
                }
                figures.push(Figure {
                    name: format!("paired_{m}_vs_{}{}", short(axis), slice.suffix),
                    title: slice.title.clone(),
                    x_label: label_of(axis),
                    y_label: format!("Δ {} vs {reference}", short_label(m)),
                    kind: Kind::Lines,
                    series,
                    ..Figure::default()
                });
            }
        }
    }
    Ok(figures)
}

/// Per-request quantities drawn against time from `--trace` files.
const TIMELINE: [(&str, &str); 4] = [
    ("bits_agent", "Agent bit-width"),
    ("latency_s", "Latency (s)"),
    ("distance_m", "Distance to the access point (m)"),
    ("freq_agent_ghz", "Agent frequency (GHz)"),
];

/// A traced request: its creation time and its [`TIMELINE`] quantities.
type TracedRequest = (f64, [f64; 4]);

/// Time bins of a timeline figure.
const TIMELINE_BINS: usize = 60;

/// With `--trace`: each [`TIMELINE`] quantity against request creation time,
/// the mean over all seeds' requests in each of [`TIMELINE_BINS`] bins, one
/// line per policy, at each sweep point (`timeline_<q>_p<point>`).
fn timelines(trace: &Path, res: &Results) -> Result<Vec<Figure>, FigureError> {
    let Ok(entries) = std::fs::read_dir(trace) else {
        return Ok(Vec::new());
    };
    let all: Vec<usize> = (0..res.summary.rows.len()).collect();
    let names = distinct(res, &all, "policy");
    let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    // (point, policy) → rows of (created, values).
    let mut runs: std::collections::BTreeMap<(String, usize), Vec<TracedRequest>> = Default::default();
    for f in &files {
        let stem = f.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        let Some((point, rest)) = stem.split_once('-') else {
            continue;
        };
        let label = rest.rsplit_once("-s").map_or(rest, |(l, _)| l);
        let Some(p) = names.iter().position(|n| crate::runner::trace_label(n) == label) else {
            continue;
        };
        let t = Table::read(f)?;
        let created = t.need("created_s")?;
        let cols: Vec<usize> = TIMELINE
            .iter()
            .map(|(c, _)| t.need(c))
            .collect::<Result<_, _>>()?;
        let rows = runs.entry((point.to_string(), p)).or_default();
        rows.extend(
            t.rows
                .iter()
                .map(|r| (num(&r[created]), std::array::from_fn(|k| num(&r[cols[k]])))),
        );
    }
    let end = runs.values().flatten().map(|r| r.0).fold(0.0, f64::max);
    let width = end / TIMELINE_BINS as f64;
    let mut figures = Vec::new();
    let points: std::collections::BTreeSet<String> = runs.keys().map(|k| k.0.clone()).collect();
    for point in points {
        for (k, (q, label)) in TIMELINE.iter().enumerate() {
            let series = runs
                .iter()
                .filter(|((pt, _), _)| *pt == point)
                .map(|((_, p), rows)| {
                    let mut bins = vec![(0.0, 0usize); TIMELINE_BINS];
                    for (t, v) in rows.iter().filter(|r| r.1[k].is_finite()) {
                        let b = ((t / width) as usize).min(TIMELINE_BINS - 1);
                        bins[b].0 += v[k];
                        bins[b].1 += 1;
                    }
                    Series {
                        label: names[*p].clone(),
                        style: res.style(&names[*p]),
                        points: bins
                            .iter()
                            .enumerate()
                            .filter(|(_, b)| b.1 > 0)
                            .map(|(i, b)| Point::new((i as f64 + 0.5) * width, b.0 / b.1 as f64))
                            .collect(),
                    }
                })
                .collect();
            figures.push(Figure {
                name: format!("timeline_{q}_{point}"),
                x_label: "Time (s)".into(),
                y_label: (*label).into(),
                kind: Kind::Lines,
                series,
                ..Figure::default()
            });
        }
    }
    Ok(figures)
}

/// The latency CDF of each policy at each included sweep point, with the deadline.
fn latency_cdfs(path: &Path, res: &Results, spec: &FigureSpec) -> Result<Vec<Figure>, FigureError> {
    let input = |message: String| FigureError::Input {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| input(e.to_string()))?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| input(e.to_string()))?;
    let points = doc["points"]
        .as_array()
        .ok_or_else(|| input("no `points` list".into()))?;
    // The included points, each with its parameters in the sweep's order
    // (a JSON object's keys come sorted).
    let included = |p: &str, v: &str| spec.include.get(p).is_none_or(|allowed| listed(v, allowed));
    let points: Vec<(Vec<(String, String)>, &serde_json::Value)> = points
        .iter()
        .map(|pt| {
            let params: Vec<(String, String)> = res
                .params
                .iter()
                .filter_map(|p| Some((p.clone(), pt["params"][p].as_str()?.to_string())))
                .collect();
            (params, pt)
        })
        .filter(|(params, _)| params.iter().all(|(p, v)| included(p, v)))
        .collect();
    let varies = |k: usize| points.iter().any(|(ps, _)| ps[k].1 != points[0].0[k].1);
    let mut figures = Vec::new();
    for (params, pt) in &points {
        let mut series = Vec::new();
        for p in pt["policies"].as_array().into_iter().flatten() {
            let label = p["policy"].as_str().unwrap_or_default().to_string();
            if included("policy", &label) {
                let hist = decode_histogram(p["hdr_v2"].as_str().unwrap_or_default())
                    .map_err(|e| input(format!("the histogram of `{label}`: {e}")))?;
                series.push(Series {
                    style: res.style(&label),
                    label,
                    points: cdf_points(&hist),
                });
            }
        }
        let suffix: String = params
            .iter()
            .enumerate()
            .filter(|(k, _)| varies(*k))
            .map(|(_, (p, v))| format!("_{}={}", short(p), file_part(v)))
            .collect();
        let title = params
            .iter()
            .map(|(p, v)| format!("{} = {}", short(p), compact(v)))
            .collect::<Vec<_>>()
            .join(", ");
        figures.push(Figure {
            name: figure_name(spec, "latency_cdf", "latency", &suffix),
            title: spec.title.clone().or((!title.is_empty()).then_some(title)),
            x_label: spec.x_label.clone().unwrap_or_else(|| "Latency (s)".into()),
            y_label: spec
                .y_label
                .clone()
                .unwrap_or_else(|| "Fraction of requests".into()),
            x_log: spec.log_x,
            x_range: spec.x_limits,
            y_range: spec.y_limits,
            kind: Kind::Step,
            series,
            vlines: pt["deadline_s"]
                .as_f64()
                .map(|d| vec![(d, "deadline".to_string())])
                .unwrap_or_default(),
            ..Figure::default()
        });
    }
    Ok(figures)
}

/// A latency histogram from its hex-encoded HDR V2 form.
fn decode_histogram(hex: &str) -> Result<Histogram<u64>, String> {
    let bytes: Vec<u8> = hex
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|s| u8::from_str_radix(s, 16).ok())
        })
        .collect::<Option<_>>()
        .ok_or("not hex text")?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("bad histogram: {e:?}"))
}

/// The empirical CDF of a latency histogram (ns) as (seconds, fraction)
/// steps: one point per distinct recorded value, thinned to at most ~400.
fn cdf_points(h: &Histogram<u64>) -> Vec<Point> {
    if h.is_empty() {
        return Vec::new();
    }
    let total = h.len() as f64;
    let recorded: Vec<(u64, u64)> = h
        .iter_recorded()
        .map(|v| (v.value_iterated_to(), v.count_since_last_iteration()))
        .collect();
    let stride = recorded.len().div_ceil(400).max(1);
    let mut cum = 0u64;
    let mut out = vec![Point::new(h.min() as f64 / 1e9, 0.0)];
    for (i, (value, count)) in recorded.iter().enumerate() {
        cum += count;
        if i % stride == 0 || i + 1 == recorded.len() {
            out.push(Point::new(
                h.highest_equivalent(*value) as f64 / 1e9,
                cum as f64 / total,
            ));
        }
    }
    out
}

/// Draws `coinfer distortion`'s figures from `dir/distortion.csv` and
/// `dir/output.csv` into `dir/plots/`.
pub fn draw_distortion(dir: &Path, formats: &[Format]) -> Result<Vec<PathBuf>, FigureError> {
    let t = Table::read(&dir.join("distortion.csv"))?;
    let c = |n: &str| t.need(n);
    let (block, quant, bits, meas, lo, up) = (
        c("block")?,
        c("quantizer")?,
        c("bits")?,
        c("measured")?,
        c("lower")?,
        c("upper")?,
    );
    let mut blocks: Vec<String> = Vec::new();
    let mut quantizers: Vec<String> = Vec::new();
    for r in &t.rows {
        if !blocks.contains(&r[block]) {
            blocks.push(r[block].clone());
        }
        if !quantizers.contains(&r[quant]) {
            quantizers.push(r[quant].clone());
        }
    }
    let mut figures = Vec::new();
    for b in &blocks {
        let rows: Vec<&Vec<String>> = t.rows.iter().filter(|r| r[block] == *b).collect();
        // Bounds once per bit-width (they do not depend on the quantizer).
        let bound = |col: usize| -> Vec<Point> {
            let mut m: BTreeMap<u8, f64> = BTreeMap::new();
            for r in &rows {
                m.entry(r[bits].parse().unwrap_or(0)).or_insert(num(&r[col]));
            }
            m.into_iter().map(|(b, v)| Point::new(b as f64, v)).collect()
        };
        let mut series = vec![
            Series {
                label: "D_{U} (upper bound)".into(),
                style: 0,
                points: bound(up),
            },
            Series {
                label: "D_{L} (lower bound)".into(),
                style: 1,
                points: bound(lo),
            },
        ];
        for (k, q) in quantizers.iter().enumerate() {
            series.push(Series {
                label: q.clone(),
                style: 2 + k,
                points: rows
                    .iter()
                    .filter(|r| r[quant] == *q)
                    .map(|r| Point::new(num(&r[bits]), num(&r[meas])))
                    .collect(),
            });
        }
        let safe: String = b
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        figures.push(Figure {
            name: format!("distortion_{safe}"),
            title: Some(format!("block {b}")),
            x_label: "Bit-width b (bits)".into(),
            y_label: "Per-weight distortion E|w − Q(w)|".into(),
            y_log: true,
            kind: Kind::Lines,
            series,
            ..Figure::default()
        });
    }
    let o = Table::read(&dir.join("output.csv"))?;
    let oc = |n: &str| o.need(n);
    let (q, form, set, pred, measd) = (
        oc("quantizer")?,
        oc("form")?,
        oc("set")?,
        oc("predicted")?,
        oc("measured")?,
    );
    let mut groups: Vec<(String, Vec<Point>)> = Vec::new();
    for r in o.rows.iter().filter(|r| r[set] == "heldout") {
        let label = format!("{} {}", r[q], r[form]);
        let p = Point::new(num(&r[measd]), num(&r[pred]));
        match groups.iter_mut().find(|g| g.0 == label) {
            Some(g) => g.1.push(p),
            None => groups.push((label, vec![p])),
        }
    }
    let series: Vec<Series> = groups
        .into_iter()
        .enumerate()
        .map(|(k, (label, points))| Series {
            label,
            style: k,
            points,
        })
        .collect();
    figures.push(Figure {
        name: "output_approximation".into(),
        title: Some("held-out bit-width mixes (ideal: predicted = measured)".into()),
        x_label: "Measured output distortion E‖y − ŷ‖₁".into(),
        y_label: "Predicted output distortion".into(),
        x_log: true,
        y_log: true,
        kind: Kind::Scatter,
        series,
        ..Figure::default()
    });
    let out = dir.join("plots");
    let mut files = Vec::new();
    for f in &figures {
        files.extend(render(f, &out, formats)?);
    }
    Ok(files)
}
