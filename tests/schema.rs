//! The metrics schema is the one list of result columns: `summary.csv`,
//! `summary.json`, `paired.csv` and the figures follow it.

use crate::util::scenario;
use coinfer::metrics::{MetricKind, METRICS, N_METRICS, N_POOLED, POOLED, SCHEMA};
use coinfer::report::{self, figures};
use coinfer::runner::Runner;

#[test]
fn names_are_unique_and_split_into_per_run_and_pooled() {
    for (i, m) in SCHEMA.iter().enumerate() {
        assert!(SCHEMA[..i].iter().all(|o| o.name != m.name), "{} twice", m.name);
    }
    assert_eq!(N_METRICS + N_POOLED, SCHEMA.len());
    assert!(METRICS.iter().all(|m| !m.is_pooled()));
    assert!(POOLED.iter().all(|m| matches!(m.kind, MetricKind::Pooled(_))));
    let order = |ms: &[&coinfer::metrics::Metric]| ms.iter().map(|m| m.name).collect::<Vec<_>>();
    let in_schema = |pooled: bool| {
        SCHEMA
            .iter()
            .filter(|m| m.is_pooled() == pooled)
            .collect::<Vec<_>>()
    };
    assert_eq!(order(&METRICS), order(&in_schema(false)));
    assert_eq!(order(&POOLED), order(&in_schema(true)));
}

#[test]
fn summary_and_paired_files_follow_the_schema() {
    let sc = scenario(
        r#"(name: "schema", horizon_s: 2.0, seeds: 2,
            policies: [(name: "fixed", bits_agent: 4, bits_server: 8), (name: "exhaustive")])"#,
    );
    let points = Runner::new(&sc).threads(1).run().unwrap().points;
    let rows = report::aggregate(&points);
    let csv = report::summary_csv(&rows);
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let mut expected = vec!["policy", "seeds", "ci_target_met", "requests", "completed"];
    let ci: Vec<String> = SCHEMA.iter().map(|m| format!("{}_ci95", m.name)).collect();
    for (m, ci) in SCHEMA.iter().zip(&ci) {
        expected.push(m.name);
        if !m.is_pooled() {
            expected.push(ci);
        }
    }
    assert_eq!(header, expected);
    assert_eq!(report::summary_columns(), expected);
    // The latency quantiles follow the mean latency and its CI.
    let at = |c: &str| header.iter().position(|h| *h == c).unwrap();
    assert_eq!(at("latency_p50_s"), at("latency_mean_s_ci95") + 1);

    let paired = report::paired(&points, 0);
    let metrics: Vec<&str> = paired.iter().map(|r| r.metric).collect();
    assert_eq!(metrics, METRICS.map(|m| m.name));

    let prov = report::Provenance::now(&sc, 0.0);
    let json: serde_json::Value =
        serde_json::from_str(&report::summary_json("schema", &prov, &rows)).unwrap();
    let row = json["rows"][0].as_object().unwrap();
    for m in SCHEMA {
        let v = &row[m.name];
        assert_eq!(v.is_object(), !m.is_pooled(), "{}: {v}", m.name);
    }
}

#[test]
fn figure_labels_come_from_the_schema() {
    for m in SCHEMA {
        assert_eq!(figures::label_of(m.name), m.axis_label());
    }
    assert_eq!(
        figures::label_of("agent_energy_mean_j"),
        "Agent energy per request (J)"
    );
    assert_eq!(figures::label_of("latency_p99_s"), "p99 latency (s)");
    // Names outside the schema (sweep parameters) are labelled by suffix.
    assert_eq!(
        figures::label_of("agents.mobility.Static.distance_m"),
        "distance (m)"
    );
    for k in figures::KEY_METRICS {
        assert!(
            SCHEMA.iter().any(|m| m.name == k),
            "key metric {k} is not in the schema"
        );
    }
}
