//! The standard figure set: files, legends and labels, data equal to the
//! summary, and `coinfer plot` redrawing from a copied result folder.

use crate::util::bin;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const SCENARIO: &str = r#"(
    name: "fig", horizon_s: 3.0, warmup_s: 0.5, seeds: 3,
    agents: (count: 2),
    policies: [(name: "fixed", bits_agent: 8, bits_server: 8), (name: "exhaustive"), (name: "paper_joint")],
    sweep: [(param: "agents.mobility.Static.distance_m", values: [30.0, 150.0])],
)"#;

fn ok(args: &[&str], dir: &Path) {
    let o = Command::new(bin()).args(args).current_dir(dir).output().unwrap();
    assert!(
        o.status.success(),
        "coinfer {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn run(dir: &Path) {
    std::fs::write(dir.join("s.ron"), SCENARIO).unwrap();
    ok(&["run", "--quiet", "--out", "r", "s.ron"], dir);
}

const POLICIES: [&str; 3] = ["fixed_8_8", "exhaustive", "paper_joint"];

fn expected_figures() -> Vec<(String, Vec<&'static str>)> {
    let mut v: Vec<(String, Vec<&str>)> = Vec::new();
    for (m, label) in [
        ("distortion_upper_mean", "Output distortion bound D_U"),
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
        vec!["Agent energy per request (J)", "Output distortion bound D_U"],
    ));
    for k in 0..2 {
        v.push((
            format!("latency_cdf_{k}"),
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
        let png = std::fs::File::open(plots.join(format!("{name}.png"))).unwrap();
        let info = png::Decoder::new(std::io::BufReader::new(png))
            .read_info()
            .unwrap()
            .info()
            .clone();
        // 3.5 in at 432 dpi.
        assert_eq!((info.width, info.height), (1512, 1134), "{name}.png");
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
    let o = Command::new(bin())
        .args(["plot", "copy", "--metrics", "nope"])
        .current_dir(d)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown metric `nope`"));
}
