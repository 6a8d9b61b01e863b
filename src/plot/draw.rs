//! Layout and drawing of a [`Figure`] on any plotters backend.
//!
//! All geometry is in design units (1 unit = 0.5 pt at the 3.5-inch target width) and is
//! multiplied by the backend scale only when emitting primitives, so SVG and PNG share one layout.

use plotters::coord::Shift;
use plotters::element::{Drawable, PointCollection};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::Axis;
use super::style::{series_style, Marker, SeriesStyle};
use super::{Figure, Kind, DESIGN_H, DESIGN_W, FONT_FAMILY};

/// Tick labels and legend: 8 pt.
const TICK_EM: f64 = 16.0;
/// Axis labels and title: 9 pt.
const LABEL_EM: f64 = 18.0;
/// Legend text: 8 pt, or 7 pt (the usual minimum in print) for long legends.
const LEGEND_EM: f64 = 16.0;
const LEGEND_EM_LONG: f64 = 14.0;
/// Legends with more entries than this use the compact font and swatch.
const LEGEND_LONG: usize = 4;
const PAD: f64 = 6.0;
const TICK_LEN: f64 = 5.0;
const LINE_W: f64 = 2.4;
const ERR_W: f64 = 1.4;
const CAP_HALF: f64 = 4.0;
const MARKER_R: f64 = 4.2;
const FRAME_W: f64 = 1.2;
const SWATCH_LEN: f64 = 30.0;
const SWATCH_LEN_LONG: f64 = 22.0;
const GRID: RGBColor = RGBColor(0xDD, 0xDD, 0xDD);
const GREY: RGBColor = RGBColor(0x55, 0x55, 0x55);

type Res = Result<(), String>;

/// Thin wrapper that converts design units to backend pixels.
struct Canvas<'a, DB: DrawingBackend> {
    area: &'a DrawingArea<DB, Shift>,
    s: f64,
}

impl<DB: DrawingBackend> Canvas<'_, DB> {
    fn p(&self, (x, y): (f64, f64)) -> (i32, i32) {
        ((x * self.s).round() as i32, (y * self.s).round() as i32)
    }

    fn width(&self, w: f64) -> u32 {
        (w * self.s).round().max(1.0) as u32
    }

    fn draw<E>(&self, e: &E) -> Res
    where
        for<'b> &'b E: PointCollection<'b, (i32, i32)>,
        E: Drawable<DB>,
    {
        self.area.draw(e).map_err(|e| e.to_string())
    }

    fn path(&self, pts: &[(f64, f64)], color: RGBColor, w: f64, dash: &[f64]) -> Res {
        let style = ShapeStyle {
            color: color.to_rgba(),
            filled: false,
            stroke_width: self.width(w),
        };
        for part in dash_split(pts, dash) {
            let px: Vec<(i32, i32)> = part.iter().map(|&q| self.p(q)).collect();
            self.draw(&PathElement::new(px, style))?;
        }
        Ok(())
    }

    fn polygon(&self, pts: &[(f64, f64)], color: RGBColor) -> Res {
        let px: Vec<(i32, i32)> = pts.iter().map(|&q| self.p(q)).collect();
        self.draw(&Polygon::new(px, color.filled()))
    }

    fn marker(&self, m: Marker, (x, y): (f64, f64), color: RGBColor) -> Res {
        let r = MARKER_R;
        match m {
            Marker::Circle => self.draw(&Circle::new(
                self.p((x, y)),
                (r * self.s).round() as i32,
                color.filled(),
            )),
            Marker::Square => {
                let h = r * 0.85;
                self.polygon(
                    &[(x - h, y - h), (x + h, y - h), (x + h, y + h), (x - h, y + h)],
                    color,
                )
            }
            Marker::TriangleUp | Marker::TriangleDown => {
                let k = if m == Marker::TriangleUp { 1.0 } else { -1.0 };
                let (rr, c30) = (r * 1.2, 0.866);
                let apex = (x, y - k * rr);
                self.polygon(
                    &[
                        apex,
                        (x - rr * c30, y + k * rr * 0.5),
                        (x + rr * c30, y + k * rr * 0.5),
                    ],
                    color,
                )
            }
            Marker::Diamond => {
                let (h, v) = (r * 0.95, r * 1.25);
                self.polygon(&[(x, y - v), (x + h, y), (x, y + v), (x - h, y)], color)
            }
            Marker::Cross => {
                let h = r * 0.9;
                self.path(&[(x - h, y - h), (x + h, y + h)], color, LINE_W * 0.9, &[])?;
                self.path(&[(x - h, y + h), (x + h, y - h)], color, LINE_W * 0.9, &[])
            }
            Marker::Plus => {
                let h = r * 1.15;
                self.path(&[(x - h, y), (x + h, y)], color, LINE_W * 0.9, &[])?;
                self.path(&[(x, y - h), (x, y + h)], color, LINE_W * 0.9, &[])
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn text(&self, t: &str, at: (f64, f64), em: f64, color: RGBColor, h: HPos, v: VPos, rotate: bool) -> Res {
        if t.is_empty() {
            return Ok(());
        }
        let mut font = FontDesc::new(
            FontFamily::Name(FONT_FAMILY),
            em * 1.24 * self.s,
            FontStyle::Normal,
        );
        if rotate {
            font = font.transform(FontTransform::Rotate270);
        }
        let style = TextStyle::from(font).color(&color).pos(Pos::new(h, v));
        self.area
            .draw_text(t, &style, self.p(at))
            .map_err(|e| e.to_string())
    }
}

/// Text width in design units (measured at a fixed scale so SVG and PNG layouts agree).
fn text_w(t: &str, em: f64) -> f64 {
    const M: f64 = 4.0;
    let font = FontDesc::new(FontFamily::Name(FONT_FAMILY), em * 1.24 * M, FontStyle::Normal);
    font.box_size(&super::typeset::plain(t))
        .map(|(w, _)| f64::from(w) / M)
        .unwrap_or(em * 0.6 * t.chars().count() as f64)
}

/// Splits a polyline into the "on" pieces of a dash pattern, continuing the phase across vertices.
fn dash_split(pts: &[(f64, f64)], pattern: &[f64]) -> Vec<Vec<(f64, f64)>> {
    if pts.len() < 2 {
        return vec![];
    }
    if pattern.is_empty() || pattern.iter().any(|&d| d <= 0.0) {
        return vec![pts.to_vec()];
    }
    let mut out = Vec::new();
    let mut cur = vec![pts[0]];
    let (mut idx, mut left, mut on) = (0usize, pattern[0], true);
    for w in pts.windows(2) {
        let (a, b) = (w[0], w[1]);
        let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        let mut pos = 0.0;
        while len - pos > left {
            pos += left;
            let t = pos / len;
            let q = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
            if on {
                cur.push(q);
                out.push(std::mem::take(&mut cur));
            } else {
                cur = vec![q];
            }
            on = !on;
            idx = (idx + 1) % pattern.len();
            left = pattern[idx];
        }
        left -= len - pos;
        if on {
            cur.push(b);
        }
    }
    if on && cur.len() >= 2 {
        out.push(cur);
    }
    out
}

/// A series with invalid points removed, in data coordinates.
struct Prepared {
    style: SeriesStyle,
    /// Continuous runs (broken where a point is invalid), sorted by x unless scatter.
    runs: Vec<Vec<(f64, f64)>>,
    /// Valid points with valid error half-widths.
    points: Vec<(f64, f64, Option<f64>)>,
}

fn prepare(fig: &Figure) -> Vec<Prepared> {
    let within = |v: f64, range: Option<(f64, f64)>| range.is_none_or(|(lo, hi)| v >= lo && v <= hi);
    let ok_x = |x: f64| x.is_finite() && (!fig.x_log || x > 0.0) && within(x, fig.x_range);
    let ok_y = |y: f64| y.is_finite() && (!fig.y_log || y > 0.0) && within(y, fig.y_range);
    fig.series
        .iter()
        .map(|s| {
            let mut pts: Vec<_> = s.points.iter().filter(|p| ok_x(p.x)).collect();
            if fig.kind != Kind::Scatter && fig.kind != Kind::Bar {
                pts.sort_by(|a, b| a.x.total_cmp(&b.x));
            }
            let mut runs = vec![];
            let mut run = vec![];
            for p in &pts {
                if ok_y(p.y) {
                    run.push((p.x, p.y));
                } else if !run.is_empty() {
                    runs.push(std::mem::take(&mut run));
                }
            }
            if !run.is_empty() {
                runs.push(run);
            }
            let points = pts
                .iter()
                .filter(|p| ok_y(p.y))
                .map(|p| (p.x, p.y, p.err.filter(|e| e.is_finite() && *e > 0.0)))
                .collect();
            Prepared {
                style: series_style(s.style),
                runs,
                points,
            }
        })
        .collect()
}

/// Lays out and draws the whole figure on `area` (size `DESIGN_* × s`).
pub(crate) fn draw_figure<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, fig: &Figure, s: f64) -> Res {
    let c = Canvas { area, s };
    area.fill(&WHITE).map_err(|e| e.to_string())?;
    let (w, h) = (f64::from(DESIGN_W), f64::from(DESIGN_H));
    let prepared = prepare(fig);

    // ---- axes ----
    let mut xs = vec![];
    let mut ys = vec![];
    for p in prepared.iter().flat_map(|p| &p.points) {
        xs.push(p.0);
        ys.push(p.1);
        if let Some(e) = p.2 {
            ys.push(p.1 + e);
            if !fig.y_log || p.1 - e > 0.0 {
                ys.push(p.1 - e);
            }
        }
    }
    if fig.kind == Kind::Bar && !fig.y_log && !xs.is_empty() {
        ys.push(0.0);
    }
    let has_data = !xs.is_empty() || fig.heat.as_ref().is_some_and(|h| !h.values.is_empty());
    let vlines: Vec<&(f64, String)> = fig
        .vlines
        .iter()
        .filter(|(x, _)| x.is_finite() && (!fig.x_log || *x > 0.0))
        .collect();
    if has_data {
        xs.extend(vlines.iter().map(|v| v.0));
    }
    let mut xa = axis_for(&xs, fig.x_log, &fig.x_categories, fig.x_range);
    let ya = axis_for(&ys, fig.y_log, &fig.y_categories, fig.y_range);

    // ---- horizontal layout ----
    let line = |em: f64| em * 1.2;
    let ytick_w = ya.labels.iter().map(|l| text_w(l, TICK_EM)).fold(0.0, f64::max);
    let left = PAD + line(LABEL_EM) + 3.0 + ytick_w + 3.0 + TICK_LEN;
    let edge = w - PAD - if fig.heat.is_some() { COLORBAR_W } else { 0.0 };
    let mut right = edge;
    // Fewer x ticks until neighbouring labels keep a clear gap; keep the last label inside.
    for target in (2..=6).rev() {
        xa.retarget(target);
        let last_half = xa.labels.last().map_or(0.0, |l| text_w(l, TICK_EM) / 2.0);
        let last_x = xa.major.last().map_or(0.0, |&v| xa.frac(v));
        right = edge.min(edge - (last_half - (1.0 - last_x) * (edge - left)).max(0.0));
        let centres: Vec<f64> = xa
            .major
            .iter()
            .map(|&v| left + xa.frac(v) * (right - left))
            .collect();
        let fits =
            xa.labels.windows(2).zip(centres.windows(2)).all(|(l, cx)| {
                cx[1] - cx[0] >= (text_w(&l[0], TICK_EM) + text_w(&l[1], TICK_EM)) / 2.0 + 8.0
            });
        if fits {
            break;
        }
    }
    let xmap = |v: f64| left + xa.frac(v) * (right - left);

    // ---- vertical layout (top down) ----
    let mut top = PAD;
    let title_y = top;
    if fig.title.is_some() {
        top += line(LABEL_EM) + 2.0;
    }
    let legend = Legend::layout(fig, w);
    let legend_top = top;
    top += legend.height();
    // Reference-line labels sit in rows above the frame, staggered when they would collide.
    let mut vl_rows: Vec<f64> = vec![];
    let mut vl_place = vec![];
    for (x, label) in &vlines {
        if label.is_empty() || !has_data {
            continue;
        }
        let lw = text_w(label, TICK_EM);
        let cx = xmap(*x).clamp(PAD + lw / 2.0, w - PAD - lw / 2.0);
        let row = match vl_rows.iter().position(|&end| cx - lw / 2.0 > end + 6.0) {
            Some(r) => r,
            None => {
                vl_rows.push(f64::NEG_INFINITY);
                vl_rows.len() - 1
            }
        };
        vl_rows[row] = cx + lw / 2.0;
        vl_place.push((cx, row, label.as_str()));
    }
    let vl_top = top;
    let offset_row = ya.offset.is_some() && vl_rows.is_empty();
    top += line(TICK_EM) * vl_rows.len() as f64;
    if offset_row {
        top += line(TICK_EM);
    }
    // Room for the top y tick label, which is centred on the frame edge.
    top += line(TICK_EM) / 2.0 + 2.0;
    let bottom = h - PAD - line(LABEL_EM) - 2.0 - line(TICK_EM) - 2.0 - TICK_LEN;
    let ymap = |v: f64| bottom - ya.frac(v) * (bottom - top);

    // ---- grid ----
    for &v in xa.major.iter().filter(|_| fig.x_categories.is_empty()) {
        c.path(&[(xmap(v), top), (xmap(v), bottom)], GRID, 0.8, &[])?;
    }
    for &v in &ya.major {
        c.path(&[(left, ymap(v)), (right, ymap(v))], GRID, 0.8, &[])?;
    }

    // ---- reference lines ----
    for (x, _) in &vlines {
        if has_data {
            c.path(&[(xmap(*x), top), (xmap(*x), bottom)], GREY, 1.4, &[5.0, 3.0])?;
        }
    }
    for (cx, row, label) in vl_place {
        let y = vl_top + line(TICK_EM) * (row as f64 + 0.5);
        c.text(label, (cx, y), TICK_EM, GREY, HPos::Center, VPos::Center, false)?;
    }

    // ---- data ----
    let plot = Plot {
        xmap: &xmap,
        ymap: &ymap,
        top,
        bottom,
    };
    match fig.kind {
        Kind::Bar => draw_bars(&c, fig, &prepared, &plot)?,
        Kind::Heatmap => draw_heat(&c, fig, &plot, edge)?,
        _ => draw_lines(&c, fig, &prepared, &plot)?,
    }

    // ---- frame, ticks, tick labels, axis labels ----
    let frame = Frame {
        left,
        right,
        top,
        bottom,
    };
    draw_axes(&c, fig, (&xa, &ya), &frame, &plot)?;

    // ---- title and legend ----
    let black = RGBColor(0, 0, 0);
    if let Some(t) = &fig.title {
        // A long title shrinks to fit the width rather than being cut off.
        let em = LABEL_EM.min(LABEL_EM * (w - 2.0 * PAD) / text_w(t, LABEL_EM).max(1.0));
        c.text(t, (w / 2.0, title_y), em, black, HPos::Center, VPos::Top, false)?;
    }
    let x0 = ((left + right) / 2.0 - legend.width / 2.0).clamp(PAD, (w - PAD - legend.width).max(PAD));
    legend.draw(&c, fig, &prepared, (x0, legend_top))?;
    if !has_data {
        let at = ((left + right) / 2.0, (top + bottom) / 2.0);
        c.text("no data", at, LABEL_EM, GREY, HPos::Center, VPos::Center, false)?;
    }
    Ok(())
}

/// The legend above the plot area: as many columns as fit, row-major order,
/// rows balanced (2 + 2, not 3 + 1), each column as wide as its widest entry.
struct Legend {
    em: f64,
    swatch: f64,
    cols: usize,
    rows: usize,
    /// Left edge of each column, from the legend's left.
    col_x: Vec<f64>,
    width: f64,
    row_h: f64,
}

impl Legend {
    fn layout(fig: &Figure, w: f64) -> Legend {
        let long = fig.series.len() > LEGEND_LONG;
        let (em, swatch, gap) = if long {
            (LEGEND_EM_LONG, SWATCH_LEN_LONG, 10.0)
        } else {
            (LEGEND_EM, SWATCH_LEN, 14.0)
        };
        let entry_w: Vec<f64> = fig
            .series
            .iter()
            .map(|s| swatch + 5.0 + text_w(&s.label, em))
            .collect();
        let widest = |from: &[f64]| from.iter().fold(0.0, |m: f64, &e| m.max(e));
        let n = entry_w.len();
        let fit = ((w - 2.0 * PAD + gap) / (widest(&entry_w) + gap))
            .floor()
            .clamp(1.0, n.max(1) as f64) as usize;
        let rows = n.div_ceil(fit);
        let cols = if rows > 0 { n.div_ceil(rows) } else { fit };
        let col_w: Vec<f64> = (0..cols)
            .map(|c| widest(&entry_w.iter().skip(c).step_by(cols).copied().collect::<Vec<_>>()))
            .collect();
        let col_x = col_w.iter().scan(0.0, |x, cw| {
            let this = *x;
            *x += cw + gap;
            Some(this)
        });
        Legend {
            em,
            swatch,
            cols,
            rows,
            col_x: col_x.collect(),
            width: col_w.iter().sum::<f64>() + gap * cols.saturating_sub(1) as f64,
            row_h: em * 1.2 + 1.0,
        }
    }

    /// The room it takes above the plot.
    fn height(&self) -> f64 {
        match self.rows {
            0 => 0.0,
            r => r as f64 * self.row_h + 4.0,
        }
    }

    /// Draws each series' swatch and label from `(x0, top)`.
    fn draw<DB: DrawingBackend>(
        &self,
        c: &Canvas<DB>,
        fig: &Figure,
        prepared: &[Prepared],
        (x0, top): (f64, f64),
    ) -> Res {
        let swatch = self.swatch;
        for (i, (series, p)) in fig.series.iter().zip(prepared).enumerate() {
            let x = x0 + self.col_x[i % self.cols];
            let y = top + ((i / self.cols) as f64 + 0.5) * self.row_h;
            if fig.kind == Kind::Bar {
                let (l, r, hh) = (x + swatch * 0.1, x + swatch * 0.9, self.row_h * 0.38);
                bar(c, (l, r, y + hh, y - hh), &p.style)?;
                c.marker(p.style.marker, (x + swatch / 2.0, y), on_fill(&p.style))?;
            } else {
                if fig.kind != Kind::Scatter {
                    c.path(&[(x, y), (x + swatch, y)], p.style.color, LINE_W, p.style.dash)?;
                }
                c.marker(p.style.marker, (x + swatch / 2.0, y), p.style.color)?;
            }
            let at = (x + swatch + 5.0, y);
            c.text(
                &series.label,
                at,
                self.em,
                RGBColor(0, 0, 0),
                HPos::Left,
                VPos::Center,
                false,
            )?;
        }
        Ok(())
    }
}

/// The plot area's edges.
struct Frame {
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
}

/// The frame, minor and major ticks, tick labels, scale offsets and axis labels.
fn draw_axes<DB: DrawingBackend>(
    c: &Canvas<DB>,
    fig: &Figure,
    (xa, ya): (&Axis, &Axis),
    f: &Frame,
    plot: &Plot,
) -> Res {
    let (xmap, ymap) = (plot.xmap, plot.ymap);
    let black = RGBColor(0, 0, 0);
    let (l, r, t, b) = (f.left, f.right, f.top, f.bottom);
    c.path(&[(l, t), (r, t), (r, b), (l, b), (l, t)], black, FRAME_W, &[])?;
    for &v in &xa.minor {
        c.path(
            &[(xmap(v), b), (xmap(v), b + TICK_LEN * 0.6)],
            black,
            FRAME_W * 0.8,
            &[],
        )?;
    }
    for &v in &ya.minor {
        c.path(
            &[(l - TICK_LEN * 0.6, ymap(v)), (l, ymap(v))],
            black,
            FRAME_W * 0.8,
            &[],
        )?;
    }
    for (&v, label) in xa.major.iter().zip(&xa.labels) {
        c.path(&[(xmap(v), b), (xmap(v), b + TICK_LEN)], black, FRAME_W, &[])?;
        let at = (xmap(v), b + TICK_LEN + 2.0);
        c.text(label, at, TICK_EM, black, HPos::Center, VPos::Top, false)?;
    }
    for (&v, label) in ya.major.iter().zip(&ya.labels) {
        c.path(&[(l - TICK_LEN, ymap(v)), (l, ymap(v))], black, FRAME_W, &[])?;
        let at = (l - TICK_LEN - 3.0, ymap(v));
        c.text(label, at, TICK_EM, black, HPos::Right, VPos::Center, false)?;
    }
    if let Some(off) = &ya.offset {
        c.text(off, (l, t - 3.0), TICK_EM, black, HPos::Left, VPos::Bottom, false)?;
    }
    let xl_y = f64::from(DESIGN_H) - PAD - LABEL_EM * 1.2 / 2.0;
    c.text(
        &fig.x_label,
        ((l + r) / 2.0, xl_y),
        LABEL_EM,
        black,
        HPos::Center,
        VPos::Center,
        false,
    )?;
    if let Some(off) = &xa.offset {
        c.text(off, (r, xl_y), TICK_EM, black, HPos::Right, VPos::Center, false)?;
    }
    let yl_x = PAD + LABEL_EM * 1.2 / 2.0;
    c.text(
        &fig.y_label,
        (yl_x, (t + b) / 2.0),
        LABEL_EM,
        black,
        HPos::Center,
        VPos::Center,
        true,
    )
}

/// Where data go on the canvas: the axes' maps and the frame's vertical extent.
struct Plot<'a> {
    xmap: &'a dyn Fn(f64) -> f64,
    ymap: &'a dyn Fn(f64) -> f64,
    top: f64,
    bottom: f64,
}

/// Width kept right of a heatmap for its colour bar and labels.
const COLORBAR_W: f64 = 100.0;
/// Strength of a CI band's colour (the rest is white).
const BAND_ALPHA: f64 = 0.18;

/// An axis for `values`, or over the categories, or over a fixed range.
fn axis_for(values: &[f64], log: bool, categories: &[String], range: Option<(f64, f64)>) -> Axis {
    match range {
        _ if !categories.is_empty() => Axis::categories(categories),
        Some((lo, hi)) if lo < hi && (!log || lo > 0.0) => Axis::limited(lo, hi, log, 6),
        _ => Axis::new(values, log, 6),
    }
}

/// A vertical error bar with caps, clipped to the frame (no lower cap below zero on log axes).
fn error_bar<DB: DrawingBackend>(
    c: &Canvas<DB>,
    fig: &Figure,
    plot: &Plot,
    (cx, y, e): (f64, f64, f64),
    color: RGBColor,
) -> Res {
    let in_y = |v: f64| v.clamp(plot.top, plot.bottom);
    let hi = (plot.ymap)(y + e);
    let (lo, lo_cap) = if fig.y_log && y - e <= 0.0 {
        (plot.bottom, false)
    } else {
        ((plot.ymap)(y - e), true)
    };
    c.path(&[(cx, in_y(lo)), (cx, in_y(hi))], color, ERR_W, &[])?;
    if hi >= plot.top {
        c.path(&[(cx - CAP_HALF, hi), (cx + CAP_HALF, hi)], color, ERR_W, &[])?;
    }
    if lo_cap && lo <= plot.bottom {
        c.path(&[(cx - CAP_HALF, lo), (cx + CAP_HALF, lo)], color, ERR_W, &[])?;
    }
    Ok(())
}

/// Lines, steps or scatter: CI bands (or error bars), lines, then markers on top.
fn draw_lines<DB: DrawingBackend>(c: &Canvas<DB>, fig: &Figure, prepared: &[Prepared], plot: &Plot) -> Res {
    let (xmap, ymap) = (plot.xmap, plot.ymap);
    if fig.band {
        for p in prepared {
            let with_err: Vec<(f64, f64, f64)> = p
                .points
                .iter()
                .filter_map(|&(x, y, e)| e.map(|e| (x, y, e)))
                .collect();
            let floor = |v: f64| {
                if fig.y_log && v <= 0.0 {
                    plot.bottom
                } else {
                    ymap(v)
                }
            };
            let mut poly: Vec<(f64, f64)> = with_err
                .iter()
                .map(|&(x, y, e)| (xmap(x), ymap(y + e).max(plot.top)))
                .collect();
            poly.extend(
                with_err
                    .iter()
                    .rev()
                    .map(|&(x, y, e)| (xmap(x), floor(y - e).min(plot.bottom))),
            );
            if poly.len() >= 4 {
                // Opaque (the colour lightened), with its edges drawn: PDF
                // transparency would make the file's bytes vary run to run.
                let RGBColor(r, g, b) = p.style.color;
                let light =
                    |v: u8| (f64::from(v) + (255.0 - f64::from(v)) * (1.0 - BAND_ALPHA)).round() as u8;
                c.polygon(&poly, RGBColor(light(r), light(g), light(b)))?;
                let n = poly.len() / 2;
                c.path(&poly[..n], p.style.color, ERR_W * 0.5, &[])?;
                c.path(&poly[n..], p.style.color, ERR_W * 0.5, &[])?;
            }
        }
    }
    for p in prepared.iter().filter(|_| fig.kind != Kind::Scatter) {
        for run in &p.runs {
            let mut px: Vec<(f64, f64)> = Vec::with_capacity(run.len() * 2);
            for (i, &(x, y)) in run.iter().enumerate() {
                if fig.kind == Kind::Step && i > 0 {
                    px.push((xmap(x), ymap(run[i - 1].1)));
                }
                px.push((xmap(x), ymap(y)));
            }
            c.path(&px, p.style.color, LINE_W, p.style.dash)?;
        }
    }
    for p in prepared.iter().filter(|_| !fig.band) {
        for &(x, y, e) in &p.points {
            if let Some(e) = e {
                error_bar(c, fig, plot, (xmap(x), y, e), p.style.color)?;
            }
        }
    }
    for (si, p) in prepared.iter().enumerate() {
        let n = p.points.len();
        // Thin out markers on dense lines (~10 per series), staggered between series.
        let (stride, offset) = if fig.kind != Kind::Scatter && n > 15 {
            let stride = n.div_ceil(10);
            (stride, (si % 4) * stride / 4)
        } else {
            (1, 0)
        };
        for (i, &(x, y, _)) in p.points.iter().enumerate() {
            if i % stride == offset || (stride > 1 && i + 1 == n && fig.kind != Kind::Step) {
                c.marker(p.style.marker, (xmap(x), ymap(y)), p.style.color)?;
            }
        }
    }
    Ok(())
}

/// Share of a category's width its group of bars takes.
const BAR_GROUP: f64 = 0.8;

/// Grouped bars: at each category, the series with a value there share the
/// group's width in series order (one series alone gets it all).
fn draw_bars<DB: DrawingBackend>(c: &Canvas<DB>, fig: &Figure, prepared: &[Prepared], plot: &Plot) -> Res {
    let base = if fig.y_log {
        plot.bottom
    } else {
        (plot.ymap)(0.0).clamp(plot.top, plot.bottom)
    };
    let at = |p: &Prepared, x: f64| p.points.iter().any(|q| q.0 == x);
    for (k, p) in prepared.iter().enumerate() {
        for &(x, y, e) in &p.points {
            let n = prepared.iter().filter(|q| at(q, x)).count() as f64;
            let slot_k = prepared[..k].iter().filter(|q| at(q, x)).count() as f64;
            let slot = BAR_GROUP / n;
            let x0 = x - BAR_GROUP / 2.0 + slot * slot_k;
            let (l, r) = ((plot.xmap)(x0 + 0.08 * slot), (plot.xmap)(x0 + 0.92 * slot));
            let top = (plot.ymap)(y).clamp(plot.top, plot.bottom);
            bar(c, (l, r, base, top), &p.style)?;
            if (base - top).abs() > 3.0 * MARKER_R {
                c.marker(
                    p.style.marker,
                    ((l + r) / 2.0, base - 1.6 * MARKER_R),
                    on_fill(&p.style),
                )?;
            }
            if let Some(e) = e {
                error_bar(c, fig, plot, ((l + r) / 2.0, y, e), RGBColor(0, 0, 0))?;
            }
        }
    }
    Ok(())
}

/// The colour of a marker drawn on a bar: white on the full colour, else the colour.
fn on_fill(style: &SeriesStyle) -> RGBColor {
    if style.fill == style.color {
        RGBColor(255, 255, 255)
    } else {
        style.color
    }
}

/// A bar (`left, right, base, top`): the style's fill, outlined in its colour.
fn bar<DB: DrawingBackend>(c: &Canvas<DB>, (l, r, b, t): (f64, f64, f64, f64), style: &SeriesStyle) -> Res {
    c.polygon(&[(l, b), (r, b), (r, t), (l, t)], style.fill)?;
    c.path(&[(l, b), (l, t), (r, t), (r, b)], style.color, ERR_W, &[])
}

/// Viridis at `t` in 0..=1 (a linear interpolation of nine of its stops).
fn viridis(t: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 9] = [
        (68, 1, 84),
        (71, 44, 122),
        (59, 81, 139),
        (44, 113, 142),
        (33, 144, 141),
        (39, 173, 129),
        (92, 200, 99),
        (170, 220, 50),
        (253, 231, 37),
    ];
    let u = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let (i, f) = (
        (u.floor() as usize).min(STOPS.len() - 2),
        u - u.floor().min((STOPS.len() - 2) as f64),
    );
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Heatmap cells, then a colour bar with its label in the [`COLORBAR_W`] from `bar` on.
fn draw_heat<DB: DrawingBackend>(c: &Canvas<DB>, fig: &Figure, plot: &Plot, bar: f64) -> Res {
    let Some(heat) = &fig.heat else { return Ok(()) };
    let finite: Vec<f64> = heat
        .values
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let scale = Axis::new(&finite, false, 4);
    let t = |v: f64| scale.frac(v);
    for (r, row) in heat.values.iter().enumerate() {
        for (col, &v) in row.iter().enumerate().filter(|(_, v)| v.is_finite()) {
            let (x, y) = (col as f64, r as f64);
            let (l, rr) = ((plot.xmap)(x - 0.5), (plot.xmap)(x + 0.5));
            let (b, tp) = ((plot.ymap)(y - 0.5), (plot.ymap)(y + 0.5));
            c.polygon(&[(l, b), (rr, b), (rr, tp), (l, tp)], viridis(t(v)))?;
        }
    }
    let (x0, x1) = (bar + 8.0, bar + 20.0);
    let h = plot.bottom - plot.top;
    const STEPS: usize = 48;
    for i in 0..STEPS {
        let (lo, hi) = (i as f64 / STEPS as f64, (i + 1) as f64 / STEPS as f64);
        let (yb, yt) = (plot.bottom - lo * h, plot.bottom - hi * h - 0.5);
        c.polygon(
            &[(x0, yb), (x1, yb), (x1, yt), (x0, yt)],
            viridis((lo + hi) / 2.0),
        )?;
    }
    let black = RGBColor(0, 0, 0);
    for (&v, l) in scale.major.iter().zip(&scale.labels) {
        let y = plot.bottom - t(v) * h;
        if (plot.top..=plot.bottom).contains(&y) {
            c.path(&[(x1, y), (x1 + 3.0, y)], black, FRAME_W, &[])?;
            c.text(l, (x1 + 5.0, y), TICK_EM, black, HPos::Left, VPos::Center, false)?;
        }
    }
    let at = (bar + COLORBAR_W - LABEL_EM * 0.6, (plot.top + plot.bottom) / 2.0);
    c.text(&heat.label, at, TICK_EM, black, HPos::Center, VPos::Center, true)
}

#[cfg(test)]
mod tests {
    use super::dash_split;

    #[test]
    fn dashes_cover_expected_length() {
        let parts = dash_split(&[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0)], &[2.0, 2.0]);
        let on: f64 = parts
            .iter()
            .flat_map(|p| p.windows(2))
            .map(|w| ((w[1].0 - w[0].0).powi(2) + (w[1].1 - w[0].1).powi(2)).sqrt())
            .sum();
        assert!((on - 10.0).abs() < 1e-9, "{on}");
        assert_eq!(dash_split(&[(0.0, 0.0), (1.0, 1.0)], &[]).len(), 1);
    }
}
