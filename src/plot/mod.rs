//! Publication-quality figures (SVG, PDF, PNG) plus tidy CSV of the plotted data.
//!
//! A [`Figure`] is rendered by [`render`] into `DIR/NAME.svg`, `.pdf`, `.png` (as requested) and
//! always `DIR/NAME.csv`. Geometry is designed for a 3.5-inch single column: the SVG and PDF
//! declare a physical size of 3.5 in × 2.625 in, the PNG is 1512 × 1134 px (432 dpi at 3.5 in,
//! recorded in its `pHYs` chunk). Text uses an embedded DejaVu Sans: the SVG carries it as
//! outlines, the PDF embeds a subset, so no system font is needed to draw or to view a figure.
//! Labels may use the [`typeset`] mini syntax for sub- and superscripts (`D_{U}`).

mod axis;
mod draw;
pub mod spec;
mod style;
pub mod typeset;

pub use style::{label_style, POLICY_COLOURS};

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::prelude::{IntoDrawingArea, SVGBackend};

/// Design width in units of 0.5 pt (504 units = 3.5 in).
const DESIGN_W: u32 = 504;
/// Design height in units of 0.5 pt (378 units = 2.625 in).
const DESIGN_H: u32 = 378;
/// SVG coordinates per design unit (finer than the design grid for sub-unit precision).
const SVG_SCALE: u32 = 2;
/// PNG pixels per design unit.
const PNG_SCALE: u32 = 3;
/// PNG pixel width.
pub const PNG_WIDTH: u32 = DESIGN_W * PNG_SCALE;
/// PNG pixel height.
pub const PNG_HEIGHT: u32 = DESIGN_H * PNG_SCALE;
/// Physical figure width in inches (SVG `width`, PNG `pHYs`).
pub const WIDTH_INCHES: f64 = 3.5;

/// Font family name used for registration and written into SVG `font-family` (CSS fallback list).
const FONT_FAMILY: &str = "DejaVu Sans, sans-serif";
static FONT_BYTES: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/fonts/DejaVuSans.ttf"
));

/// How the points of each series are drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Kind {
    /// Markers joined by lines (points sorted by x).
    #[default]
    Lines,
    /// Markers only.
    Scatter,
    /// Staircase (post-step), for empirical CDFs.
    Step,
    /// Grouped bars at categorical x positions, one bar per series, CI whiskers.
    Bar,
    /// Coloured cells of [`Figure::heat`] over categorical x and y axes.
    Heatmap,
}

/// One data point; `err` is a symmetric error-bar half-width (e.g. 95 % CI) in y units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// X value.
    pub x: f64,
    /// Y value.
    pub y: f64,
    /// Symmetric error-bar half-width; `None` (or non-finite / non-positive) draws no bar.
    pub err: Option<f64>,
}

impl Point {
    /// Point without an error bar.
    pub fn new(x: f64, y: f64) -> Self {
        Point { x, y, err: None }
    }

    /// Point with a symmetric error bar of half-width `err`.
    pub fn with_err(x: f64, y: f64, err: f64) -> Self {
        Point { x, y, err: Some(err) }
    }
}

/// A labelled data series.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// Stable style index: the same index gives the same colour, marker and dash in every figure.
    pub style: usize,
    /// Data points; non-finite points (and non-positive ones on log axes) are skipped when drawn.
    pub points: Vec<Point>,
}

/// A complete figure description.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figure {
    /// File stem of the output files (no path separators).
    pub name: String,
    /// Optional title (papers usually put this in the caption instead).
    pub title: Option<String>,
    /// X axis label, including units.
    pub x_label: String,
    /// Y axis label, including units.
    pub y_label: String,
    /// Log10 x axis.
    pub x_log: bool,
    /// Log10 y axis.
    pub y_log: bool,
    /// Drawing kind applied to all series.
    pub kind: Kind,
    /// Data series, drawn and listed in the legend in this order.
    pub series: Vec<Series>,
    /// Vertical reference lines `(x, label)`, e.g. a deadline.
    pub vlines: Vec<(f64, String)>,
    /// Names of a categorical x axis (bars, heatmap columns): point `x` is an index into it.
    pub x_categories: Vec<String>,
    /// Names of the heatmap's rows.
    pub y_categories: Vec<String>,
    /// Lines: shade each point's error as a band instead of drawing bars.
    pub band: bool,
    /// Fixed x range (points outside are left out).
    pub x_range: Option<(f64, f64)>,
    /// Fixed y range (points outside are left out).
    pub y_range: Option<(f64, f64)>,
    /// The cells of a [`Kind::Heatmap`].
    pub heat: Option<Heat>,
}

/// The values of a heatmap: `values[row][col]` over `y_categories × x_categories`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Heat {
    /// Cell values (non-finite cells are left blank).
    pub values: Vec<Vec<f64>>,
    /// What the colour shows, with its unit (the colour bar's label).
    pub label: String,
}

/// Output image format. All three come from one SVG drawing, so they agree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Format {
    /// Scalable vector graphics, text as outlines of the embedded font: it
    /// renders identically anywhere, with no font installed.
    Svg,
    /// 1512 × 1134 px RGB PNG, for a quick look.
    Png,
    /// PDF with the font embedded (subset), for LaTeX.
    Pdf,
}

impl Format {
    /// File extension without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Svg => "svg",
            Format::Png => "png",
            Format::Pdf => "pdf",
        }
    }
}

/// Errors from [`render`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlotError {
    /// Creating the directory or writing/renaming a file failed.
    #[error("I/O error on {}", path.display())]
    Io {
        /// File or directory involved.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Drawing or encoding the image failed.
    #[error("failed to draw {}: {cause}", path.display())]
    Draw {
        /// Output file being produced.
        path: PathBuf,
        /// Description of the failure.
        cause: String,
    },
    /// The figure name is empty or is not a plain file stem.
    #[error("invalid figure name {name:?}: must be a non-empty file stem without path separators")]
    InvalidName {
        /// The rejected name.
        name: String,
    },
}

/// Registers the embedded font with plotters exactly once.
fn ensure_font(path: &Path) -> Result<(), PlotError> {
    static FONT: OnceLock<Result<(), String>> = OnceLock::new();
    FONT.get_or_init(|| {
        plotters::style::register_font(FONT_FAMILY, plotters::style::FontStyle::Normal, FONT_BYTES)
            .map_err(|_| "embedded DejaVu Sans font could not be parsed".to_string())
    })
    .clone()
    .map_err(|cause| PlotError::Draw {
        path: path.to_path_buf(),
        cause,
    })
}

/// Renders `fig` into `dir` (created if missing) in each requested format, plus `NAME.csv`.
///
/// Every file is written to a temporary file in `dir` and renamed into place, so readers never
/// see a partial file. Returns the written paths: images in the order requested (duplicates
/// ignored), then the CSV.
pub fn render(fig: &Figure, dir: &Path, formats: &[Format]) -> Result<Vec<PathBuf>, PlotError> {
    let name = &fig.name;
    if name.is_empty()
        || name == "."
        || name == ".."
        || name.contains(['/', '\\', '\0'])
        || Path::new(name).components().count() != 1
    {
        return Err(PlotError::InvalidName { name: name.clone() });
    }
    fs::create_dir_all(dir).map_err(|source| PlotError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut written = Vec::new();
    let mut done: Vec<Format> = Vec::new();
    let mut tree = None;
    for &format in formats {
        if done.contains(&format) {
            continue;
        }
        done.push(format);
        let path = dir.join(format!("{name}.{}", format.extension()));
        let draw_err = |cause: String| PlotError::Draw {
            path: path.clone(),
            cause,
        };
        if tree.is_none() {
            ensure_font(&path)?;
            tree = Some(svg_tree(fig).map_err(draw_err)?);
        }
        let tree = tree.as_ref().expect("drawn above");
        let bytes = match format {
            Format::Svg => Ok(svg_bytes(tree)),
            Format::Png => png_bytes(tree),
            Format::Pdf => pdf_bytes(tree),
        }
        .map_err(draw_err)?;
        write_atomic(&path, &bytes)?;
        written.push(path);
    }
    let csv_path = dir.join(format!("{name}.csv"));
    write_atomic(&csv_path, tidy_csv(fig).as_bytes())?;
    written.push(csv_path);
    Ok(written)
}

/// The figure drawn once as SVG by plotters, its label mini syntax typeset
/// (see [`typeset`]), and parsed by usvg with the embedded font, which lays
/// the text out as outlines.
fn svg_tree(fig: &Figure) -> Result<usvg::Tree, String> {
    let mut svg = String::new();
    {
        let backend = SVGBackend::with_string(&mut svg, (DESIGN_W * SVG_SCALE, DESIGN_H * SVG_SCALE));
        let root = backend.into_drawing_area();
        draw::draw_figure(&root, fig, f64::from(SVG_SCALE))?;
        root.present().map_err(|e| e.to_string())?;
    }
    // The physical size: usvg then sizes the tree in CSS pixels (96 per inch).
    let height_in = WIDTH_INCHES * f64::from(DESIGN_H) / f64::from(DESIGN_W);
    let drawn = format!(
        "<svg width=\"{}\" height=\"{}\"",
        DESIGN_W * SVG_SCALE,
        DESIGN_H * SVG_SCALE
    );
    let sized = format!("<svg width=\"{WIDTH_INCHES}in\" height=\"{height_in}in\"");
    let svg = svg.replacen(&drawn, &sized, 1);
    let mut opt = usvg::Options {
        font_family: "DejaVu Sans".into(),
        ..usvg::Options::default()
    };
    opt.fontdb_mut().load_font_data(FONT_BYTES.to_vec());
    usvg::Tree::from_str(&typeset::svg_text(&svg), &opt).map_err(|e| e.to_string())
}

/// Every text the figure shows, in drawing order, markup removed.
pub fn texts(tree: &usvg::Tree) -> Vec<String> {
    fn walk(g: &usvg::Group, out: &mut Vec<String>) {
        for n in g.children() {
            match n {
                usvg::Node::Group(g) => walk(g, out),
                usvg::Node::Text(t) => out.extend(t.chunks().iter().map(|c| c.text().to_string())),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(tree.root(), &mut out);
    out
}

/// The SVG file: text as paths, with the physical size declared, and the
/// texts in a `<desc>` (one per line) for screen readers and search.
fn svg_bytes(tree: &usvg::Tree) -> Vec<u8> {
    let svg = tree.to_string(&usvg::WriteOptions::default());
    let escape = |t: &str| t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let desc: Vec<String> = texts(tree).iter().map(|t| escape(t)).collect();
    let desc = format!("<desc>{}</desc>", desc.join("\n"));
    let svg = match svg.find('>') {
        Some(end) => format!("{}\n{desc}{}", &svg[..=end], &svg[end + 1..]),
        None => svg,
    };
    let size = tree.size();
    let height_in = WIDTH_INCHES * f64::from(DESIGN_H) / f64::from(DESIGN_W);
    let old = format!("width=\"{}\" height=\"{}\"", size.width(), size.height());
    let new = format!("width=\"{WIDTH_INCHES}in\" height=\"{height_in}in\"");
    svg.replacen(&old, &new, 1).into_bytes()
}

/// The PDF file: a 3.5-inch page (usvg sizes the drawing in CSS pixels, 96 per inch).
fn pdf_bytes(tree: &usvg::Tree) -> Result<Vec<u8>, String> {
    let page = svg2pdf::PageOptions { dpi: 96.0 };
    svg2pdf::to_pdf(tree, svg2pdf::ConversionOptions::default(), page).map_err(|e| e.to_string())
}

fn png_bytes(tree: &usvg::Tree) -> Result<Vec<u8>, String> {
    let mut pixmap =
        resvg::tiny_skia::Pixmap::new(PNG_WIDTH, PNG_HEIGHT).ok_or("cannot allocate the image")?;
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    let k = PNG_WIDTH as f32 / tree.size().width();
    resvg::render(
        tree,
        resvg::tiny_skia::Transform::from_scale(k, k),
        &mut pixmap.as_mut(),
    );
    // Opaque white background: dropping alpha loses nothing.
    let rgb: Vec<u8> = pixmap
        .data()
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, PNG_WIDTH, PNG_HEIGHT);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let ppm = (f64::from(PNG_WIDTH) / (WIDTH_INCHES * 0.0254)).round() as u32;
    enc.set_pixel_dims(Some(png::PixelDimensions {
        xppu: ppm,
        yppu: ppm,
        unit: png::Unit::Meter,
    }));
    let mut writer = enc.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(&rgb).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

/// Writes `bytes` to `path` atomically.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PlotError> {
    crate::fsio::write_atomic(path, bytes).map_err(|source| PlotError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Tidy CSV of all points (including non-finite ones), header `series,x,y,err`; a
/// categorical x is written by name. A heatmap's cells are written as `x,y,value`.
///
/// Numbers use Rust's shortest round-trip `Display` (`NaN`, `inf`, `-inf` for non-finite values),
/// `err` is empty when `None`, and labels are quoted per RFC 4180 when needed.
pub fn tidy_csv(fig: &Figure) -> String {
    let name = |names: &[String], v: f64| match names.get(v as usize) {
        Some(n) if v >= 0.0 && v.fract() == 0.0 => csv_field(n),
        _ => v.to_string(),
    };
    if let Some(heat) = &fig.heat {
        let mut out = String::from("x,y,value\n");
        for (r, row) in heat.values.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                let (x, y) = (
                    name(&fig.x_categories, c as f64),
                    name(&fig.y_categories, r as f64),
                );
                let _ = writeln!(out, "{x},{y},{v}");
            }
        }
        return out;
    }
    let mut out = String::from("series,x,y,err\n");
    for s in &fig.series {
        let label = csv_field(&s.label);
        for p in &s.points {
            let _ = write!(out, "{label},{},{},", name(&fig.x_categories, p.x), p.y);
            if let Some(e) = p.err {
                let _ = write!(out, "{e}");
            }
            out.push('\n');
        }
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) || s.trim() != s {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
