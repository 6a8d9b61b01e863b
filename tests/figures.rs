//! The standard figure set: files, legends and labels, data equal to the
//! summary, and `coinfer plot` redrawing from a copied result folder.

use crate::util::{bin, fails_with, ok, snapshot};
use std::collections::BTreeMap;
use std::path::Path;

const SCENARIO: &str = r#"(
    name: "fig", horizon_s: 3.0, warmup_s: 0.5, seeds: 3,
    agents: (count: 2),
    policies: [(name: "fixed", bits_agent: 8, bits_server: 8), (name: "exhaustive"), (name: "paper_joint")],
    sweep: [(param: "agents.mobility.Static.distance_m", values: [30.0, 150.0])],
)"#;

fn run(dir: &Path) {
    std::fs::write(dir.join("s.ron"), SCENARIO).unwrap();
    ok(&["run", "--quiet", "--out", "r", "s.ron"], dir);
}

const POLICIES: [&str; 3] = ["fixed_8_8", "exhaustive", "paper_joint"];

fn expected_figures() -> Vec<(String, Vec<&'static str>)> {
    let mut v: Vec<(String, Vec<&str>)> = Vec::new();
    for (m, label) in [
        ("distortion_upper_mean", "Output distortion bound DU"),
        ("distortion_measured_mean", "Measured output distortion"),
        ("miss_rate", "Deadline miss rate"),
        ("latency_p99_s", "p99 latency (s)"),
        ("agent_energy_mean_j", "Agent energy per request (J)"),
    ] {
        v.push((format!("{m}_vs_distance_m"), vec!["distance (m)", label]));
        if m != "latency_p99_s" {
            v.push((
                format!("paired_{m}_vs_distance_m"),
                vec!["distance (m)", "vs fixed_8_8"],
            ));
        }
    }
    v.push((
        "energy_distortion".into(),
        vec!["Agent energy per request (J)", "Output distortion bound DU"],
    ));
    for d in ["30.0", "150.0"] {
        v.push((
            format!("latency_cdf_distance_m={d}"),
            vec!["Latency (s)", "Fraction of requests", "deadline"],
        ));
    }
    v
}

#[test]
fn every_figure_exists_with_legend_labels_and_size() {
    let tmp = tempfile::tempdir().unwrap();
    run(tmp.path());
    let plots = tmp.path().join("r/plots");
    for (name, labels) in expected_figures() {
        let svg = std::fs::read_to_string(plots.join(format!("{name}.svg")))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{name}.svg is not XML: {e}"));
        let text: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
        let has = |s: &str| text.iter().any(|t| t.contains(s));
        for l in labels {
            assert!(has(l), "{name}.svg lacks the text `{l}`");
        }
        let legend: Vec<&str> = if name.starts_with("paired_") {
            POLICIES[1..].to_vec()
        } else {
            POLICIES.to_vec()
        };
        for p in legend {
            assert!(has(p), "{name}.svg lacks policy {p} in its legend");
        }
        // 3.5 in at 432 dpi.
        let png = plots.join(format!("{name}.png"));
        assert_eq!(crate::util::png_size(&png), (1512, 1134), "{name}.png");
        assert!(plots.join(format!("{name}.csv")).exists());
    }
}

#[test]
fn plotted_series_equal_the_summary() {
    let tmp = tempfile::tempdir().unwrap();
    run(tmp.path());
    let r = tmp.path().join("r");
    // (policy, distance) -> (miss_rate, ci) from summary.csv
    let mut summary = BTreeMap::new();
    let mut rd = csv::Reader::from_path(r.join("summary.csv")).unwrap();
    let h = rd.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|c| c == n).unwrap();
    let (d, p, m, c) = (
        col("agents.mobility.Static.distance_m"),
        col("policy"),
        col("miss_rate"),
        col("miss_rate_ci95"),
    );
    for rec in rd.records() {
        let rec = rec.unwrap();
        let key = (rec[p].to_string(), rec[d].parse::<f64>().unwrap().to_bits());
        summary.insert(
            key,
            (rec[m].parse::<f64>().unwrap(), rec[c].parse::<f64>().unwrap()),
        );
    }
    let mut fig = csv::Reader::from_path(r.join("plots/miss_rate_vs_distance_m.csv")).unwrap();
    assert_eq!(fig.headers().unwrap(), vec!["series", "x", "y", "err"]);
    let mut n = 0;
    for rec in fig.records() {
        let rec = rec.unwrap();
        let key = (rec[0].to_string(), rec[1].parse::<f64>().unwrap().to_bits());
        let (y, err) = summary[&key];
        assert_eq!(rec[2].parse::<f64>().unwrap(), y, "{rec:?}");
        assert_eq!(rec[3].parse::<f64>().unwrap(), err, "{rec:?}");
        n += 1;
    }
    assert_eq!(n, summary.len());
}

#[test]
fn plot_redraws_the_same_figures_from_a_copied_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    run(d);
    let copy = d.join("copy");
    std::fs::create_dir(&copy).unwrap();
    for f in ["summary.csv", "paired.csv", "histograms.json"] {
        std::fs::copy(d.join("r").join(f), copy.join(f)).unwrap();
    }
    ok(&["plot", "copy"], d);
    let mut names: Vec<String> = std::fs::read_dir(d.join("r/plots"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let mut again: Vec<String> = std::fs::read_dir(copy.join("plots"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    again.sort();
    assert_eq!(names, again);
    for n in names {
        let a = std::fs::read(d.join("r/plots").join(&n)).unwrap();
        let b = std::fs::read(copy.join("plots").join(&n)).unwrap();
        assert!(a == b, "{n} differs when redrawn");
    }
    // A bad metric name is a clear error.
    fails_with(
        &bin(),
        &["plot", "copy", "--metrics", "nope"],
        d,
        "unknown metric `nope`",
    );
}

/// Issue 14: the texts of an SVG figure (its `<desc>`: glyphs are outlines).
fn desc(svg: &Path) -> String {
    let text = std::fs::read_to_string(svg).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", svg.display()));
    doc.descendants()
        .find(|n| n.tag_name().name() == "desc")
        .and_then(|n| n.text())
        .unwrap_or_default()
        .to_string()
}

/// Policy labels of a result folder, from its summary.
fn policy_labels(dir: &Path) -> Vec<String> {
    let mut labels = crate::util::column(
        &std::fs::read_to_string(dir.join("summary.csv")).unwrap(),
        "policy",
    );
    labels.dedup();
    labels.sort();
    labels.dedup();
    labels
}

/// The SVG figures of a folder whose texts hold every one of `labels`.
fn comparing(dir: &Path, labels: &[String]) -> Vec<String> {
    std::fs::read_dir(dir.join("plots"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "svg"))
        .filter(|p| {
            let lines: Vec<String> = desc(p).lines().map(String::from).collect();
            labels.iter().all(|l| lines.contains(l))
        })
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn every_shipped_scenario_gets_a_figure_comparing_all_its_policies() {
    let tmp = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(crate::util::root().join("scenarios")).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "ron") {
            continue;
        }
        let out = tmp.path().join(path.file_stem().unwrap());
        let (o, p) = (out.to_str().unwrap(), path.to_str().unwrap());
        ok(
            &["run", "--quiet", "--seeds", "2", "--plots", "svg", "--out", o, p],
            tmp.path(),
        );
        let labels = policy_labels(&out);
        let figs = comparing(&out, &labels);
        // A bar or line figure of a metric, not only the latency CDF.
        assert!(
            figs.iter().any(|f| f.contains("_by_") || f.contains("_vs_")),
            "{}: no figure compares {labels:?}; figures with all of them: {figs:?}",
            path.display()
        );
    }
}

const CATEGORICAL: &str = r#"(
    name: "cat", horizon_s: 2.0, seeds: 2,
    agents: (count: 3),
    policies: [(name: "fixed", bits_agent: 8, bits_server: 8), (name: "exhaustive"), (name: "paper_joint")],
    sweep: [
        (param: "server.discipline", values: ["Fifo", "Edf"]),
        (param: "channel.fading", values: ["None", "Rayleigh", {"Nakagami": {"m": 2.0}}]),
    ],
)"#;

#[test]
fn a_categorical_sweep_gets_bars_named_by_value() {
    let tmp = crate::util::run_in_tmp(CATEGORICAL, &["--plots", "svg"]);
    let out = tmp.path().join("out");
    let labels = policy_labels(&out);
    let figs = comparing(&out, &labels);
    for name in [
        "miss_rate_by_discipline_fading=Rayleigh.svg",
        "miss_rate_by_fading_discipline=Edf.svg",
        "latency_cdf_discipline=Fifo_fading=Nakagami_m=2.0.svg",
    ] {
        assert!(
            figs.iter().any(|f| f == name),
            "no {name} with every policy in {figs:?}"
        );
    }
    // Titles and categories show variants with fields readably, not as JSON.
    let d = desc(&out.join("plots/miss_rate_by_fading_discipline=Edf.svg"));
    assert!(d.contains("Nakagami(m=2.0)") && !d.contains('{'), "{d}");
    assert!(d.lines().any(|l| l == "discipline = Edf"), "{d}");
}

const KINDS: &str = r#"(
    name: "kinds", horizon_s: 2.0, seeds: 2,
    agents: (count: 2),
    policies: [(name: "fixed", bits_agent: 8, bits_server: 8), (name: "exhaustive")],
    sweep: [
        (param: "agents.mobility.Static.distance_m", values: [50.0, 150.0]),
        (param: "channel.tx_power_dbm", values: [10.0, 20.0]),
    ],
    plots: [Svg, Pdf, Png],
    figures: [
        (kind: Line, x: "agents.mobility.Static.distance_m", y: ["latency_mean_s"], band: true,
         log_y: true, y_limits: (0.01, 10.0), x_label: "Distance d_{k} (m)", name: "line"),
        (kind: Bar, x: "policy", y: ["agent_energy_mean_j", "miss_rate"],
         include: {"channel.tx_power_dbm": [20], "agents.mobility.Static.distance_m": [150]}, name: "bar"),
        (kind: Cdf, include: {"agents.mobility.Static.distance_m": [50], "channel.tx_power_dbm": [10]}),
        (kind: Scatter, x: "agent_energy_mean_j", y: ["distortion_upper_mean"], log_y: true, name: "scatter"),
        (kind: Heatmap, x: "agents.mobility.Static.distance_m", rows: "channel.tx_power_dbm",
         y: ["latency_mean_s"], name: "heat"),
    ],
)"#;

/// A PDF's page size in points, from its `/MediaBox`.
fn pdf_page(path: &Path) -> (f64, f64) {
    let bytes = std::fs::read(path).unwrap();
    assert!(bytes.starts_with(b"%PDF-"), "{}: no PDF header", path.display());
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.trim_end().ends_with("%%EOF"),
        "{}: no PDF trailer",
        path.display()
    );
    let at = text
        .find("/MediaBox [")
        .unwrap_or_else(|| panic!("{}: no MediaBox", path.display()));
    let nums: Vec<f64> = text[at + 11..]
        .split(']')
        .next()
        .unwrap()
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    (nums[2] - nums[0], nums[3] - nums[1])
}

#[test]
fn each_kind_of_a_figures_spec_draws_in_svg_pdf_and_png() {
    let tmp = crate::util::run_in_tmp(KINDS, &[]);
    let plots = tmp.path().join("out/plots");
    let expected: [(&str, &[&str]); 7] = [
        (
            "line_channel.tx_power_dbm=10.0",
            &["Distance dk (m)", "Mean latency (s)", "fixed_8_8", "exhaustive"],
        ),
        (
            "bar_agent_energy_mean_j",
            &[
                "Policy",
                "Agent energy per request (J)",
                "fixed_8_8",
                "exhaustive",
            ],
        ),
        ("bar_miss_rate", &["Policy", "Deadline miss rate"]),
        (
            "latency_cdf",
            &["Latency (s)", "Fraction of requests", "fixed_8_8", "exhaustive"],
        ),
        (
            "scatter",
            &[
                "Agent energy per request (J)",
                "Output distortion bound DU",
                "fixed_8_8",
                "exhaustive",
            ],
        ),
        (
            "heat_fixed_8_8",
            &["distance (m)", "tx power (dBm)", "fixed_8_8", "Mean latency (s)"],
        ),
        (
            "heat_exhaustive",
            &["distance (m)", "tx power (dBm)", "exhaustive"],
        ),
    ];
    for (name, texts) in expected {
        let name = name.replace("channel.", "");
        let lines: Vec<String> = desc(&plots.join(format!("{name}.svg")))
            .lines()
            .map(String::from)
            .collect();
        for t in texts {
            assert!(
                lines.iter().any(|l| l == t || l.starts_with(&format!("{t}:"))),
                "{name}.svg lacks `{t}`: {lines:?}"
            );
        }
        let (w, h) = pdf_page(&plots.join(format!("{name}.pdf")));
        assert!(
            (w - 252.0).abs() < 0.5 && (h - 189.0).abs() < 0.5,
            "{name}.pdf is {w} x {h} pt, not 3.5 x 2.625 in"
        );
        // 3.5 in at 432 dpi.
        let png = plots.join(format!("{name}.png"));
        assert_eq!(crate::util::png_size(&png), (1512, 1134), "{name}.png");
    }
    // Redrawn in new processes, every file is the same, byte for byte (the
    // band's transparency once made the PDFs vary).
    let before = snapshot(&plots);
    for _ in 0..3 {
        ok(&["plot", "out"], tmp.path());
        assert!(snapshot(&plots) == before, "a redrawn figure differs");
    }
    // The Cdf's include kept one point.
    let cdfs = std::fs::read_dir(&plots).unwrap().filter(|e| {
        e.as_ref()
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("latency_cdf")
    });
    assert_eq!(cdfs.count(), 4, "svg, pdf, png and csv of one CDF");
}

#[test]
fn a_policys_style_is_the_same_in_studies_with_other_policy_lists() {
    use coinfer::report::figures::{figures_of, FigureOptions};
    let first = SCENARIO;
    let second = SCENARIO.replace(
        r#"[(name: "fixed", bits_agent: 8, bits_server: 8), (name: "exhaustive"), (name: "paper_joint")]"#,
        r#"[(name: "paper_joint"), (name: "min_energy", bits_agent: 8, bits_server: 8), (name: "random"), (name: "exhaustive")]"#,
    );
    assert_ne!(first, second);
    let styles = |text: &str| {
        let tmp = crate::util::run_in_tmp(text, &["--plots", "svg"]);
        let metrics = vec!["miss_rate".to_string()];
        let opts = FigureOptions {
            formats: &[],
            specs: &[],
            metrics: &metrics,
            styles: &BTreeMap::new(),
        };
        let mut by_label = BTreeMap::new();
        for fig in figures_of(&tmp.path().join("out"), &opts).unwrap() {
            for s in fig.series {
                let old = by_label.insert(s.label.clone(), s.style);
                assert!(
                    old.is_none_or(|o| o == s.style),
                    "{} changes style within a study",
                    s.label
                );
            }
        }
        by_label
    };
    let (a, b) = (styles(first), styles(&second));
    for label in ["exhaustive", "paper_joint"] {
        assert_eq!(a[label], b[label], "{label}");
    }
    // Within a study every policy looks different.
    let mut seen: Vec<usize> = b.values().copied().collect();
    seen.dedup();
    assert_eq!(seen.len(), b.len(), "{b:?}");
    assert_ne!(a["fixed_8_8"], a["exhaustive"]);
}

/// Issue 14: `figures`, `plots` and `styles` are not part of the study: a
/// rerun with other formats simulates nothing, and `plots/` then holds only
/// the formats asked for (none with `--plots none`).
#[test]
fn changing_only_the_figures_redraws_without_simulating() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("s.ron"), "(seeds: 2, horizon_s: 2.0)").unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["run"];
        args.extend_from_slice(extra);
        args.extend(["--out", "o", "s.ron"]);
        ok(&args, d)
    };
    let extensions = || {
        let mut v: Vec<String> = std::fs::read_dir(d.join("o/plots"))
            .map(|r| {
                r.map(|e| {
                    e.unwrap()
                        .path()
                        .extension()
                        .unwrap()
                        .to_string_lossy()
                        .into_owned()
                })
                .collect()
            })
            .unwrap_or_default();
        v.sort();
        v.dedup();
        v
    };
    run(&[]);
    assert_eq!(extensions(), ["csv", "png", "svg"]);
    std::fs::write(
        d.join("s.ron"),
        "(seeds: 2, horizon_s: 2.0, plots: [Pdf], styles: {\"fixed_8_8\": 3})",
    )
    .unwrap();
    assert!(run(&[]).contains("(0 simulated, 2 resumed)"));
    assert_eq!(extensions(), ["csv", "pdf"]);
    assert!(run(&["--plots", "none"]).contains("(0 simulated, 2 resumed)"));
    assert!(!d.join("o/plots").exists());
}

/// Review of issue 14, found by trying specs as a user would: each was
/// silently wrong or lost figures before its fix.
mod review {
    use super::*;

    const BASE: &str = r#"(
    name: "rv", horizon_s: 1.0, seeds: 2,
    policies: [(name: "fixed", bits_agent: 4, bits_server: 8), (name: "fixed", bits_agent: 8, bits_server: 16)],
    sweep: [
        (param: "server.discipline", values: ["Fifo", "Edf"]),
        (param: "channel.fading", values: ["None", "Rayleigh"]),
    ],
    figures: FIGURES,
)"#;

    fn with(figures: &str) -> String {
        BASE.replace("FIGURES", figures)
    }

    #[test]
    fn a_series_over_a_parameter_splits_the_policies() {
        let tmp = crate::util::run_in_tmp(
            &with(
                r#"[(kind: Bar, x: "server.discipline", series: "channel.fading", y: ["miss_rate"], name: "m")]"#,
            ),
            &["--plots", "svg"],
        );
        let plots = tmp.path().join("out/plots");
        for policy in ["fixed_4_8", "fixed_8_16"] {
            let csv = std::fs::read_to_string(plots.join(format!("m_policy={policy}.csv"))).unwrap();
            // One bar per (series, x): two fadings × two disciplines.
            assert_eq!(csv.lines().count(), 1 + 4, "{csv}");
            assert!(
                desc(&plots.join(format!("m_policy={policy}.svg"))).contains(&format!("policy = {policy}"))
            );
        }
    }

    #[test]
    fn two_policies_never_share_a_look() {
        let tmp = crate::util::run_in_tmp(
            &with(
                r#"[(kind: Bar, x: "policy", y: ["latency_mean_s"], include: {"server.discipline": ["Fifo"], "channel.fading": ["None"]}, name: "b")]"#,
            ),
            &["--plots", "pdf"],
        );
        let d = tmp.path();
        use coinfer::report::figures::{figures_of, FigureOptions};
        let opts = FigureOptions {
            formats: &[],
            specs: &[],
            metrics: &["miss_rate".to_string()],
            styles: &BTreeMap::new(),
        };
        let fig = figures_of(&d.join("out"), &opts).unwrap().remove(0);
        assert_eq!(
            coinfer::plot::label_style("fixed_4_8"),
            coinfer::plot::label_style("fixed_8_16"),
            "the hash collides"
        );
        assert_ne!(fig.series[0].style, fig.series[1].style, "{:?}", fig.series);
    }

    #[test]
    fn bad_specs_are_refused_before_simulating_or_keep_the_figures() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        for (figures, says) in [
            (
                r#"[(kind: Line, x: "channel.fading", y: ["miss_rate"])]"#,
                "use kind: Bar",
            ),
            (
                r#"[(kind: Heatmap, x: "channel.fading", rows: "channel.fading", y: ["miss_rate"])]"#,
                "name two parameters",
            ),
            (
                r#"[(kind: Bar, x: "policy", y: ["miss_rate"], y_limits: (0, inf))]"#,
                "finite low < high",
            ),
        ] {
            std::fs::write(d.join("s.ron"), with(figures)).unwrap();
            let err = fails_with(&bin(), &["check", "s.ron"], d, says);
            assert!(err.contains("figures[0]") && err.contains("s.ron:"), "{err}");
        }
        std::fs::write(d.join("s.ron"), with("[]")).unwrap();
        ok(&["run", "--quiet", "--out", "o", "s.ron"], d);
        let before = std::fs::read_dir(d.join("o/plots")).unwrap().count();
        for (figures, says) in [
            (
                r#"[(kind: Cdf, include: {"channel.fading": ["Rician"]})]"#,
                "selects no point",
            ),
            (
                r#"[(kind: Bar, x: "policy", y: ["miss_rate"], name: "a"), (kind: Bar, x: "policy", y: ["latency_mean_s"], name: "a")]"#,
                "two figures would be written",
            ),
        ] {
            std::fs::write(d.join("f.ron"), figures).unwrap();
            fails_with(&bin(), &["plot", "o", "--figures", "f.ron"], d, says);
            assert_eq!(
                std::fs::read_dir(d.join("o/plots")).unwrap().count(),
                before,
                "figures lost"
            );
        }
    }

    #[test]
    fn an_unsharded_run_clears_the_shards_of_an_earlier_sharded_one() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        std::fs::write(d.join("s.ron"), with("[]")).unwrap();
        for shard in ["0/2", "1/2"] {
            ok(
                &[
                    "run", "--quiet", "--plots", "none", "--shard", shard, "--out", "o", "s.ron",
                ],
                d,
            );
        }
        ok(&["merge", "o"], d);
        ok(&["run", "--quiet", "--plots", "none", "--out", "o", "s.ron"], d);
        ok(&["merge", "o"], d);
        assert!(!d.join("o/shards/0-of-2").exists());
    }
}
