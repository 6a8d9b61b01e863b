//! Results over seeds: means with 95 % confidence intervals, latency
//! quantiles from merged histograms, and the result files (SPEC 9).
//!
//! Files are written atomically: to a temporary file in the output folder,
//! then renamed, so a reader never sees a half-written file.

use crate::metrics::{latency_histogram, METRICS, N_METRICS};
use crate::runner::PolicyRuns;
use serde_json::{json, Value};
use statrs::distribution::{ContinuousCDF, StudentsT};
use std::io::Write;
use std::path::Path;

/// One row of `summary.csv`: a policy's metrics over seeds.
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryRow {
    /// Policy label.
    pub policy: String,
    /// Number of seeds.
    pub seeds: usize,
    /// Counted requests created, over all seeds.
    pub requests: u64,
    /// Counted requests completed, over all seeds.
    pub completed: u64,
    /// Mean over seeds of each per-run metric, in [`METRICS`] order.
    pub mean: [f64; N_METRICS],
    /// Half-width of the 95 % Student-t confidence interval of each mean.
    pub ci95: [f64; N_METRICS],
    /// Latency quantiles p50, p95, p99 and max over all seeds' requests, s.
    pub latency_quantiles: [f64; 4],
}

/// Mean and 95 % CI half-width (Student t, n − 1 degrees of freedom) of
/// `xs`, skipping NaN values; the half-width is NaN with fewer than 2 values.
pub fn mean_ci95(xs: impl Iterator<Item = f64>) -> (f64, f64) {
    let v: Vec<f64> = xs.filter(|x| !x.is_nan()).collect();
    let n = v.len() as f64;
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mean = v.iter().sum::<f64>() / n;
    if v.len() < 2 {
        return (mean, f64::NAN);
    }
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let t = StudentsT::new(0.0, 1.0, n - 1.0)
        .expect("dof > 0")
        .inverse_cdf(0.975);
    (mean, t * (var / n).sqrt())
}

/// Aggregates each policy's runs into a summary row.
pub fn aggregate(results: &[PolicyRuns]) -> Vec<SummaryRow> {
    results
        .iter()
        .map(|pr| {
            let mut mean = [0.0; N_METRICS];
            let mut ci95 = [0.0; N_METRICS];
            for m in 0..N_METRICS {
                (mean[m], ci95[m]) = mean_ci95(pr.runs.iter().map(|r| r.values[m]));
            }
            let mut hist = latency_histogram();
            for r in &pr.runs {
                hist.add(&r.latency).expect("same bounds");
            }
            let q = |p: f64| {
                if hist.is_empty() {
                    f64::NAN
                } else {
                    hist.value_at_quantile(p) as f64 / 1e9
                }
            };
            SummaryRow {
                policy: pr.label.clone(),
                seeds: pr.runs.len(),
                requests: pr.runs.iter().map(|r| r.requests).sum(),
                completed: pr.runs.iter().map(|r| r.completed).sum(),
                mean,
                ci95,
                latency_quantiles: [
                    q(0.5),
                    q(0.95),
                    q(0.99),
                    if hist.is_empty() {
                        f64::NAN
                    } else {
                        hist.max() as f64 / 1e9
                    },
                ],
            }
        })
        .collect()
}

const QUANTILE_COLUMNS: [&str; 4] = ["latency_p50_s", "latency_p95_s", "latency_p99_s", "latency_max_s"];

/// Column names of `summary.csv`.
pub fn summary_columns() -> Vec<String> {
    let mut cols: Vec<String> = ["policy", "seeds", "requests", "completed"]
        .map(String::from)
        .to_vec();
    for m in METRICS {
        cols.push(m.to_string());
        cols.push(format!("{m}_ci95"));
        if m == "latency_mean_s" {
            cols.extend(QUANTILE_COLUMNS.map(String::from));
        }
    }
    cols
}

/// A float as written in result files: shortest round-trip form, empty for NaN.
fn num(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else {
        format!("{x}")
    }
}

fn json_num(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else {
        Value::Null
    }
}

/// `summary.csv` as text.
pub fn summary_csv(rows: &[SummaryRow]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(summary_columns()).expect("in-memory write");
    for r in rows {
        let mut rec = vec![
            r.policy.clone(),
            r.seeds.to_string(),
            r.requests.to_string(),
            r.completed.to_string(),
        ];
        for (m, name) in METRICS.iter().enumerate() {
            rec.push(num(r.mean[m]));
            rec.push(num(r.ci95[m]));
            if *name == "latency_mean_s" {
                rec.extend(r.latency_quantiles.map(num));
            }
        }
        w.write_record(rec).expect("in-memory write");
    }
    String::from_utf8(w.into_inner().expect("flush")).expect("utf-8")
}

/// `summary.json` as text: the scenario, seeds, and each row's metrics.
pub fn summary_json(scenario_name: &str, seeds: &[u64], rows: &[SummaryRow]) -> String {
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut o = serde_json::Map::new();
            o.insert("policy".into(), json!(r.policy));
            o.insert("seeds".into(), json!(r.seeds));
            o.insert("requests".into(), json!(r.requests));
            o.insert("completed".into(), json!(r.completed));
            for (m, name) in METRICS.iter().enumerate() {
                o.insert(
                    name.to_string(),
                    json!({"mean": json_num(r.mean[m]), "ci95": json_num(r.ci95[m])}),
                );
            }
            for (q, name) in QUANTILE_COLUMNS.iter().enumerate() {
                o.insert(name.to_string(), json_num(r.latency_quantiles[q]));
            }
            Value::Object(o)
        })
        .collect();
    let doc = json!({
        "coinfer_version": env!("CARGO_PKG_VERSION"),
        "scenario": scenario_name,
        "seeds": seeds,
        "rows": rows,
    });
    serde_json::to_string_pretty(&doc).expect("json") + "\n"
}

/// Writes `contents` to `path` atomically (temporary file, then rename).
pub fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let tmp = dir.join(format!(".{name}.tmp"));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}
