//! Figures of metrics over the summary: lines, bars, scatter, heatmaps, and
//! the paired differences.

use super::{
    compact, distinct, file_part, label_of, num, short, short_label, slices, FigureError, Results, Slice,
    Table,
};
use crate::plot::spec::{FigureKind, FigureSpec};
use crate::plot::{Figure, Heat, Kind, Point, Series};
use std::collections::BTreeMap;
use std::path::Path;

/// The figures of one spec over the summary.
pub(super) fn spec_figures(res: &Results, spec: &FigureSpec) -> Vec<Figure> {
    let mut figures = Vec::new();
    for slice in slices(res, spec) {
        for m in &spec.y {
            match spec.kind {
                FigureKind::Heatmap => figures.extend(heatmaps(res, spec, &slice, m)),
                _ => figures.push(xy_figure(res, spec, &slice, m)),
            }
        }
    }
    figures
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
pub(super) fn figure_name(spec: &FigureSpec, base: &str, m: &str, suffix: &str) -> String {
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

/// Paired differences against the reference policy, against each numeric axis.
pub(super) fn paired_figures(
    dir: &Path,
    res: &Results,
    metrics: &[String],
) -> Result<Vec<Figure>, FigureError> {
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
        looks: BTreeMap::new(),
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
