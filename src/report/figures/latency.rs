//! Latency figures: the CDF per policy at each point, and `--trace` timelines.

use super::xy::figure_name;
use super::{compact, distinct, file_part, listed, num, short, slices, FigureError, Results, Table};
use crate::plot::spec::{FigureKind, FigureSpec};
use crate::plot::{Figure, Kind, Point, Series};
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::Histogram;
use std::path::{Path, PathBuf};

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
pub(super) fn timelines(trace: &Path, res: &Results) -> Result<Vec<Figure>, FigureError> {
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
    // Sweep point k of the trace files is the k-th slice of the summary.
    let at_points = slices(res, &FigureSpec::new(FigureKind::Line));
    let points: std::collections::BTreeSet<String> = runs.keys().map(|k| k.0.clone()).collect();
    for point in points {
        let slice = point
            .strip_prefix('p')
            .and_then(|k| k.parse::<usize>().ok())
            .and_then(|k| at_points.get(k));
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
                name: format!(
                    "timeline_{q}{}",
                    slice.map_or(format!("_{point}"), |s| s.suffix.clone())
                ),
                title: slice.and_then(|s| s.title.clone()),
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
pub(super) fn latency_cdfs(
    path: &Path,
    res: &Results,
    spec: &FigureSpec,
) -> Result<Vec<Figure>, FigureError> {
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
                .map(|p| {
                    (
                        p.clone(),
                        pt["params"][p].as_str().unwrap_or_default().to_string(),
                    )
                })
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
