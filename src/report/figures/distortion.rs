//! The figures of `coinfer distortion`: per-weight distortion against bits
//! with the bounds, and the output approximation against forward passes.

use super::{num, replace_plots, FigureError, Table};
use crate::plot::{Figure, Format, Kind, Point, Series};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Draws `coinfer distortion`'s figures from `dir/distortion.csv` and
/// `dir/output.csv` into `dir/plots/` (replacing the figures there).
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
    figures.push(output_figure(dir)?);
    replace_plots(dir, &figures, formats)
}

/// Predicted against measured output distortion of the held-out mixes.
fn output_figure(dir: &Path) -> Result<Figure, FigureError> {
    let o = Table::read(&dir.join("output.csv"))?;
    let oc = |n: &str| o.need(n);
    let (q, form, set, pred, measd) = (
        oc("quantizer")?,
        oc("form")?,
        oc("set")?,
        oc("predicted")?,
        oc("measured")?,
    );
    let points = o.rows.iter().filter(|r| r[set] == "heldout").map(|r| {
        let label = format!("{} {}", r[q], r[form]);
        (label, Point::new(num(&r[measd]), num(&r[pred])))
    });
    Ok(approximation_figure(
        "output_approximation",
        "held-out bit-width mixes",
        "Measured output distortion E‖y − ŷ‖₁",
        points,
    ))
}

/// A log-log scatter of predicted against measured output distortion, one
/// series per label in order of first appearance.
pub fn approximation_figure(
    name: &str,
    what: &str,
    x_label: &str,
    points: impl IntoIterator<Item = (String, Point)>,
) -> Figure {
    let mut series: Vec<Series> = Vec::new();
    for (label, p) in points {
        match series.iter_mut().find(|s| s.label == label) {
            Some(s) => s.points.push(p),
            None => series.push(Series {
                label,
                style: series.len(),
                points: vec![p],
            }),
        }
    }
    Figure {
        name: name.into(),
        title: Some(format!("{what} (ideal: predicted = measured)")),
        x_label: x_label.into(),
        y_label: "Predicted output distortion".into(),
        x_log: true,
        y_log: true,
        kind: Kind::Scatter,
        series,
        ..Figure::default()
    }
}
