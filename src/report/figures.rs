//! The standard figure set, drawn from a result folder's files alone
//! (`summary.csv`, `paired.csv`, `histograms.json`; `distortion.csv` and
//! `output.csv` for `coinfer distortion`), so `coinfer plot` redraws exactly
//! what `coinfer run` drew. Each figure is written as SVG and/or PNG, with its
//! data as a tidy CSV beside it (see [`crate::plot`]).
//!
//! A policy keeps the same style (colour, marker, dash) in every figure: its
//! position in the scenario's policy list.

use crate::metrics::schema;
use crate::plot::{render, Figure, Format, Kind, PlotError, Point, Series};
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

/// Policies in order of first appearance, which is scenario order.
fn policies(t: &Table) -> Result<Vec<String>, FigureError> {
    let c = t.need("policy")?;
    let mut v: Vec<String> = Vec::new();
    for r in &t.rows {
        if !v.contains(&r[c]) {
            v.push(r[c].clone());
        }
    }
    Ok(v)
}

/// For each axis: groups of rows sharing the other parameters' values, each
/// with a name suffix and a title naming those values.
fn slices(t: &Table, params: &[usize], axis: usize) -> Vec<(String, Option<String>, Vec<usize>)> {
    let others: Vec<usize> = params.iter().copied().filter(|&p| p != axis).collect();
    let mut groups: Vec<(Vec<String>, Vec<usize>)> = Vec::new();
    for (i, r) in t.rows.iter().enumerate() {
        let key: Vec<String> = others.iter().map(|&o| r[o].clone()).collect();
        match groups.iter_mut().find(|g| g.0 == key) {
            Some(g) => g.1.push(i),
            None => groups.push((key, vec![i])),
        }
    }
    let many = groups.len() > 1;
    groups
        .into_iter()
        .enumerate()
        .map(|(k, (key, rows))| {
            let title = (!others.is_empty()).then(|| {
                others
                    .iter()
                    .zip(&key)
                    .map(|(&o, v)| format!("{} = {v}", short(&t.header[o])))
                    .collect::<Vec<_>>()
                    .join(", ")
            });
            (if many { format!("_{k}") } else { String::new() }, title, rows)
        })
        .collect()
}

/// Draws the figures of a simulation result folder into `dir/plots/`.
pub fn draw_results(dir: &Path, formats: &[Format], metrics: &[String]) -> Result<Vec<PathBuf>, FigureError> {
    let out = dir.join("plots");
    let summary = Table::read(&dir.join("summary.csv"))?;
    let names = policies(&summary)?;
    let style = |p: &str| names.iter().position(|n| n == p).unwrap_or(0);
    let params = summary.params("policy");
    let pc = summary.need("policy")?;
    let mut figures = Vec::new();

    // Each key metric against each numeric sweep axis, one line per policy.
    for &axis in &params {
        if summary.rows.iter().any(|r| r[axis].parse::<f64>().is_err()) {
            continue;
        }
        for (suffix, title, rows) in slices(&summary, &params, axis) {
            for m in metrics {
                let Some(mc) = summary.col(m) else { continue };
                let ci = summary.col(&format!("{m}_ci95"));
                let series = names
                    .iter()
                    .map(|p| Series {
                        label: p.clone(),
                        style: style(p),
                        points: rows
                            .iter()
                            .map(|&i| &summary.rows[i])
                            .filter(|r| r[pc] == *p)
                            .map(|r| Point {
                                x: num(&r[axis]),
                                y: num(&r[mc]),
                                err: ci.map(|c| num(&r[c])).filter(|e| e.is_finite()),
                            })
                            .collect(),
                    })
                    .collect();
                figures.push(Figure {
                    name: format!("{m}_vs_{}{suffix}", short(&summary.header[axis])),
                    title: title.clone(),
                    x_label: label_of(&summary.header[axis]),
                    y_label: label_of(m),
                    y_log: m.starts_with("distortion_"),
                    kind: Kind::Lines,
                    series,
                    ..Figure::default()
                });
            }
        }
    }

    // Energy–distortion trade-off: one point per (policy, sweep point).
    if let (Some(e), Some(d)) = (
        summary.col("agent_energy_mean_j"),
        summary.col("distortion_upper_mean"),
    ) {
        figures.push(Figure {
            name: "energy_distortion".into(),
            x_label: label_of("agent_energy_mean_j"),
            y_label: label_of("distortion_upper_mean"),
            y_log: true,
            kind: Kind::Scatter,
            series: names
                .iter()
                .map(|p| Series {
                    label: p.clone(),
                    style: style(p),
                    points: summary
                        .rows
                        .iter()
                        .filter(|r| r[pc] == *p)
                        .map(|r| Point::new(num(&r[e]), num(&r[d])))
                        .collect(),
                })
                .collect(),
            ..Figure::default()
        });
    }

    // Paired differences against the reference policy.
    let paired_path = dir.join("paired.csv");
    if paired_path.exists() {
        let paired = Table::read(&paired_path)?;
        let pp = paired.params("policy");
        let (pol, refc, met, diff, ci) = (
            paired.need("policy")?,
            paired.need("reference")?,
            paired.need("metric")?,
            paired.need("mean_diff")?,
            paired.need("ci95_paired")?,
        );
        let reference = paired.rows.first().map(|r| r[refc].clone()).unwrap_or_default();
        for &axis in &pp {
            if paired.rows.iter().any(|r| r[axis].parse::<f64>().is_err()) {
                continue;
            }
            for (suffix, title, rows) in slices(&paired, &pp, axis) {
                for m in metrics {
                    let series: Vec<Series> = names
                        .iter()
                        .filter(|p| **p != reference)
                        .map(|p| Series {
                            label: p.clone(),
                            style: style(p),
                            points: rows
                                .iter()
                                .map(|&i| &paired.rows[i])
                                .filter(|r| r[pol] == *p && r[met] == *m)
                                .map(|r| Point::with_err(num(&r[axis]), num(&r[diff]), num(&r[ci])))
                                .collect(),
                        })
                        .collect();
                    if series.iter().all(|s| s.points.is_empty()) {
                        continue;
                    }
                    figures.push(Figure {
                        name: format!("paired_{m}_vs_{}{suffix}", short(&paired.header[axis])),
                        title: title.clone(),
                        x_label: label_of(&paired.header[axis]),
                        y_label: format!("Δ {} vs {reference}", short_label(m)),
                        kind: Kind::Lines,
                        series,
                        ..Figure::default()
                    });
                }
            }
        }
    }

    // Latency CDF per policy at each sweep point, with the deadline.
    figures.extend(latency_cdfs(&dir.join("histograms.json"), &names)?);
    figures.extend(timelines(&dir.join("trace"), &names)?);

    let mut files = Vec::new();
    for f in &figures {
        files.extend(render(f, &out, formats)?);
    }
    Ok(files)
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
fn timelines(trace: &Path, names: &[String]) -> Result<Vec<Figure>, FigureError> {
    let Ok(entries) = std::fs::read_dir(trace) else {
        return Ok(Vec::new());
    };
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
                        style: *p,
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

fn latency_cdfs(path: &Path, names: &[String]) -> Result<Vec<Figure>, FigureError> {
    let input = |message: String| FigureError::Input {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| input(e.to_string()))?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| input(e.to_string()))?;
    let points = doc["points"]
        .as_array()
        .ok_or_else(|| input("no `points` list".into()))?;
    let mut de = Deserializer::new();
    let mut figures = Vec::new();
    for (k, pt) in points.iter().enumerate() {
        let params = pt["params"].as_object().cloned().unwrap_or_default();
        let title = (!params.is_empty()).then(|| {
            params
                .iter()
                .map(|(p, v)| format!("{} = {}", short(p), v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(", ")
        });
        let mut series = Vec::new();
        for p in pt["policies"].as_array().into_iter().flatten() {
            let label = p["policy"].as_str().unwrap_or_default().to_string();
            let hex = p["hdr_v2"].as_str().unwrap_or_default();
            let bytes: Vec<u8> = hex
                .as_bytes()
                .chunks(2)
                .map(|pair| {
                    std::str::from_utf8(pair)
                        .ok()
                        .and_then(|s| u8::from_str_radix(s, 16).ok())
                })
                .collect::<Option<_>>()
                .ok_or_else(|| input(format!("the histogram of `{label}` is not hex text")))?;
            let hist: Histogram<u64> = de
                .deserialize(&mut bytes.as_slice())
                .map_err(|e| input(format!("bad histogram: {e:?}")))?;
            series.push(Series {
                style: names.iter().position(|n| *n == label).unwrap_or(0),
                label,
                points: cdf_points(&hist),
            });
        }
        let deadline = pt["deadline_s"].as_f64();
        figures.push(Figure {
            name: if points.len() > 1 {
                format!("latency_cdf_{k}")
            } else {
                "latency_cdf".into()
            },
            title,
            x_label: "Latency (s)".into(),
            y_label: "Fraction of requests".into(),
            kind: Kind::Step,
            series,
            vlines: deadline
                .map(|d| vec![(d, "deadline".to_string())])
                .unwrap_or_default(),
            ..Figure::default()
        });
    }
    Ok(figures)
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
                label: "D_U (upper bound)".into(),
                style: 0,
                points: bound(up),
            },
            Series {
                label: "D_L (lower bound)".into(),
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
