//! Integration tests for `coinfer::plot`: SVG/PNG output, tidy CSV round-trip, robustness.
//!
//! Set `COINFER_PLOT_KEEP=DIR` to also write the test figures into `DIR` for visual inspection.

use std::path::{Path, PathBuf};

use coinfer::plot::{render, tidy_csv, Figure, Format, Kind, Point, Series, PNG_HEIGHT, PNG_WIDTH};

// At least 300 dpi at the 3.5-inch column width.
const _: () = assert!(PNG_WIDTH >= 1050);

fn sweep_figure() -> Figure {
    let xs = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0];
    let series = ["greedy", "round-robin", "coinfer (ours)"]
        .iter()
        .enumerate()
        .map(|(i, label)| Series {
            label: label.to_string(),
            style: i,
            points: xs
                .iter()
                .map(|&x| Point::with_err(x, 0.1 + 0.3 * (i as f64) + 0.02 * x, 0.03 + 0.01 * i as f64))
                .collect(),
        })
        .collect();
    Figure {
        name: "sweep".into(),
        x_label: "Offered load (req/s)".into(),
        y_label: "Mean latency (ms)".into(),
        series,
        ..Figure::default()
    }
}

fn log_figure() -> Figure {
    let series = (0..2)
        .map(|i| Series {
            label: format!("policy {}", i + 1),
            style: i + 3,
            points: (0..12)
                .map(|k| {
                    let x = 0.1 * (k as f64 + 1.0);
                    Point::with_err(x, 10f64.powf(-(k as f64) * (0.4 + 0.2 * i as f64)), 1e-4)
                })
                .collect(),
        })
        .collect();
    Figure {
        name: "miss_rate_log".into(),
        title: Some("Deadline-miss probability".into()),
        x_label: "Utilisation".into(),
        y_label: "P(miss)".into(),
        y_log: true,
        series,
        ..Figure::default()
    }
}

fn cdf_figure() -> Figure {
    let series = (0..4)
        .map(|i| {
            let n = 200;
            let scale = 10.0 + 8.0 * i as f64;
            Series {
                label: format!("scheduler {}", (b'A' + i as u8) as char),
                style: i,
                points: (0..n)
                    .map(|k| {
                        let q = (k as f64 + 0.5) / n as f64;
                        Point::new(-scale * (1.0 - q).ln(), (k + 1) as f64 / n as f64)
                    })
                    .collect(),
            }
        })
        .collect();
    Figure {
        name: "latency_cdf".into(),
        x_label: "Response time (ms)".into(),
        y_label: "CDF".into(),
        kind: Kind::Step,
        series,
        vlines: vec![(50.0, "deadline".into())],
        ..Figure::default()
    }
}

fn scatter_figure() -> Figure {
    let series = (0..3)
        .map(|i| Series {
            label: format!("cluster {i}"),
            style: i + 1,
            points: (0..40)
                .map(|k| {
                    let t = k as f64 * 0.7 + i as f64;
                    Point::new(
                        1e5 * (1.0 + t.sin() + i as f64),
                        0.002 * (1.0 + (1.3 * t).cos()) + 0.001 * i as f64,
                    )
                })
                .collect(),
        })
        .collect();
    Figure {
        name: "scatter".into(),
        x_label: "Tokens processed".into(),
        y_label: "Energy per token (J)".into(),
        kind: Kind::Scatter,
        series,
        ..Figure::default()
    }
}

fn out_dir(tmp: &Path) -> PathBuf {
    std::env::var_os("COINFER_PLOT_KEEP")
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.to_path_buf())
}

/// Collects the text content of every `<text>` element.
/// The texts an SVG shows, from its `<desc>`; the SVG itself must carry
/// no `<text>` (every glyph is an outline, so no font is needed to view it).
fn svg_texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("SVG must be well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    assert!(
        !doc.descendants().any(|n| n.tag_name().name() == "text"),
        "text left as <text>"
    );
    doc.descendants()
        .filter(|n| n.tag_name().name() == "desc")
        .flat_map(|n| {
            n.text()
                .unwrap_or_default()
                .lines()
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect()
}

fn check_figure(fig: &Figure, extra_texts: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = out_dir(tmp.path());
    let written = render(fig, &dir, &[Format::Svg, Format::Png]).unwrap();
    let names: Vec<_> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            format!("{}.svg", fig.name),
            format!("{}.png", fig.name),
            format!("{}.csv", fig.name)
        ]
    );

    let svg = std::fs::read_to_string(&written[0]).unwrap();
    let texts = svg_texts(&svg);
    let mut wanted: Vec<&str> = fig.series.iter().map(|s| s.label.as_str()).collect();
    wanted.extend([fig.x_label.as_str(), fig.y_label.as_str()]);
    wanted.extend(extra_texts);
    for w in wanted.iter().map(|w| coinfer::plot::typeset::plain(w)) {
        assert!(
            texts.contains(&w),
            "{}: text {w:?} missing from SVG; have {texts:?}",
            fig.name
        );
    }
    assert!(!svg.contains("font-family"), "no font named: glyphs are outlines");
    assert!(svg.contains("width=\"3.5in\""), "physical width declared");

    assert_eq!(crate::util::png_size(&written[1]), (PNG_WIDTH, PNG_HEIGHT));

    // No temporary files are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn lines_with_error_bars() {
    check_figure(&sweep_figure(), &[]);
}

#[test]
fn log_y_axis() {
    check_figure(&log_figure(), &["Deadline-miss probability"]);
}

#[test]
fn cdf_step_with_vline() {
    check_figure(&cdf_figure(), &["deadline"]);
}

#[test]
fn scatter() {
    check_figure(&scatter_figure(), &[]);
}

#[test]
fn single_x_value_and_empty_figure() {
    let mut fig = sweep_figure();
    fig.name = "single_x".into();
    for s in &mut fig.series {
        s.points.truncate(1);
    }
    check_figure(&fig, &[]);

    let empty = Figure {
        name: "empty".into(),
        x_label: "x (s)".into(),
        y_label: "y (s)".into(),
        y_log: true,
        ..Figure::default()
    };
    check_figure(&empty, &["no data"]);
}

fn parse_csv(csv: &str) -> Vec<(String, f64, f64, Option<f64>)> {
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("series,x,y,err"));
    lines
        .map(|line| {
            // Labels in these tests contain no quotes; a quoted label contains a comma.
            let (label, rest) = if let Some(stripped) = line.strip_prefix('"') {
                let end = stripped.find("\",").expect("closing quote");
                (stripped[..end].replace("\"\"", "\""), &stripped[end + 2..])
            } else {
                let (l, r) = line.split_once(',').unwrap();
                (l.to_string(), r)
            };
            let f: Vec<&str> = rest.split(',').collect();
            assert_eq!(f.len(), 3, "{line}");
            let err = (!f[2].is_empty()).then(|| f[2].parse().unwrap());
            (label, f[0].parse().unwrap(), f[1].parse().unwrap(), err)
        })
        .collect()
}

#[test]
fn tidy_csv_round_trips_exactly() {
    let mut fig = sweep_figure();
    fig.series[0]
        .points
        .push(Point::with_err(0.1 + 0.2, 1.0 / 3.0, 1e-300));
    fig.series[1].points.push(Point::new(f64::NAN, f64::INFINITY));
    fig.series[2].label = "ours, \"tuned\"".into();
    let rows = parse_csv(&tidy_csv(&fig));
    let expected: Vec<_> = fig
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(move |p| (s.label.clone(), p.x, p.y, p.err)))
        .collect();
    assert_eq!(rows.len(), expected.len());
    for (got, want) in rows.iter().zip(&expected) {
        assert_eq!(got.0, want.0);
        assert_eq!(got.1.to_bits(), want.1.to_bits(), "x");
        assert_eq!(got.2.to_bits(), want.2.to_bits(), "y");
        assert_eq!(got.3.map(f64::to_bits), want.3.map(f64::to_bits), "err");
    }
    // The CSV written by render is the same text.
    let tmp = tempfile::tempdir().unwrap();
    let written = render(&fig, tmp.path(), &[]).unwrap();
    assert_eq!(std::fs::read_to_string(&written[0]).unwrap(), tidy_csv(&fig));
}

#[test]
fn nan_and_inf_points_are_skipped() {
    let mut fig = sweep_figure();
    fig.name = "nan".into();
    fig.x_log = true;
    fig.y_log = true;
    fig.series[0].points[2].y = f64::NAN;
    fig.series[1].points[0].x = f64::INFINITY;
    fig.series[1].points[3].err = Some(f64::NAN);
    fig.series[2].points[1].y = -1.0; // invalid on a log axis
    fig.series.push(Series {
        label: "all NaN".into(),
        style: 7,
        points: vec![Point::with_err(f64::NAN, f64::NAN, f64::NAN); 3],
    });
    fig.vlines.push((f64::NAN, "bad line".into()));
    check_figure(&fig, &["all NaN"]);
    for kind in [Kind::Step, Kind::Scatter] {
        fig.kind = kind;
        fig.name = format!("nan_{kind:?}");
        check_figure(&fig, &["all NaN"]);
    }
}

#[test]
fn invalid_name_is_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    for name in ["", "../x", "a/b", ".."] {
        let fig = Figure {
            name: name.into(),
            ..Figure::default()
        };
        assert!(render(&fig, tmp.path(), &[Format::Svg]).is_err(), "{name:?}");
    }
}

/// Issue 14: a long title (a sweep point with several variant values) is
/// drawn whole, shrunk to the figure's width, not cut off.
#[test]
fn a_long_title_shrinks_to_fit() {
    let mut fig = sweep_figure();
    fig.title = Some(
        "service = LogNormal(sigma=0.5), fading = Nakagami(m=2.0), discipline = Edf, distance_m = 150.0"
            .into(),
    );
    let tmp = tempfile::tempdir().unwrap();
    let written = render(&fig, tmp.path(), &[Format::Svg]).unwrap();
    let svg = std::fs::read_to_string(&written[0]).unwrap();
    assert!(svg_texts(&svg).contains(fig.title.as_ref().unwrap()));
    // Every glyph outline lies within the 1008-unit-wide drawing.
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let max_x = doc
        .descendants()
        .filter_map(|n| n.attribute("d"))
        .flat_map(|d| {
            d.split(['M', 'L', 'C', 'Q', 'Z'])
                .map(str::trim)
                .collect::<Vec<_>>()
        })
        .filter_map(|pair| pair.split_whitespace().next().and_then(|x| x.parse::<f64>().ok()))
        .fold(0.0, f64::max);
    assert!(max_x <= 1008.0, "drawn up to x = {max_x}");
}
