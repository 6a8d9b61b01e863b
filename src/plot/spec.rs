//! What a figure shows, as written in a scenario's `figures:` list or in a
//! `coinfer plot --figures FILE`: the kind, the metrics, the axes and the
//! look. Checking the names against a study's metrics and sweep axes is the
//! study's job; drawing it from a result folder is the report's.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The kinds of figure a spec can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FigureKind {
    /// Each `y` metric against a numeric sweep axis `x`, a line per series.
    Line,
    /// Each `y` metric at each value of `x` (an axis, or `policy`), grouped bars with CI whiskers.
    Bar,
    /// The latency CDF of each series at each point.
    Cdf,
    /// One metric (`y`) against another (`x`), a point per sweep point.
    Scatter,
    /// Each `y` metric over two sweep axes, `x` and `rows`, one map per policy.
    Heatmap,
}

/// One figure of a study, or one per `y` metric and per combination of the
/// values of the sweep parameters the spec does not place (each file named
/// by those values; `include` narrows them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FigureSpec {
    /// What to draw.
    pub kind: FigureKind,
    /// Metrics (summary.csv columns) on the y axis: a figure each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub y: Vec<String>,
    /// The x axis: a sweep parameter, `policy` (bars), or a metric (scatter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// What each line, bar colour or map is: `policy` (default) or a sweep parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<String>,
    /// A heatmap's y axis: a sweep parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<String>,
    /// Log-scaled x axis.
    #[serde(default, skip_serializing_if = "is_false")]
    pub log_x: bool,
    /// Log-scaled y axis.
    #[serde(default, skip_serializing_if = "is_false")]
    pub log_y: bool,
    /// x axis limits `(low, high)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_limits: Option<(f64, f64)>,
    /// y axis limits `(low, high)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y_limits: Option<(f64, f64)>,
    /// Title (default: the other parameters' values, if any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// x axis label (default: from the name and unit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_label: Option<String>,
    /// y axis label (default: from the metric and unit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y_label: Option<String>,
    /// Lines: shade the 95 % CI as a band instead of error bars.
    #[serde(default, skip_serializing_if = "is_false")]
    pub band: bool,
    /// Only the points whose parameter takes one of the listed values
    /// (`{"channel.distance_m": [100, 200]}`); policies by label under `policy`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub include: BTreeMap<String, Vec<ron::Value>>,
    /// The file stem (default: from the kind, metric and axis).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl FigureSpec {
    /// A spec of `kind` with every other field at its default.
    pub fn new(kind: FigureKind) -> FigureSpec {
        FigureSpec {
            kind,
            y: Vec::new(),
            x: None,
            series: None,
            rows: None,
            log_x: false,
            log_y: false,
            x_limits: None,
            y_limits: None,
            title: None,
            x_label: None,
            y_label: None,
            band: false,
            include: BTreeMap::new(),
            name: None,
        }
    }

    /// What each series is: `policy` unless the spec says otherwise.
    pub fn series_by(&self) -> &str {
        self.series.as_deref().unwrap_or("policy")
    }

    /// The sweep parameters this spec names (`x` only where it is an axis).
    pub fn axes(&self) -> impl Iterator<Item = (&'static str, &str)> {
        let x = match self.kind {
            FigureKind::Scatter | FigureKind::Cdf => None,
            _ => self.x.as_deref(),
        };
        [
            ("x", x),
            ("series", self.series.as_deref()),
            ("rows", self.rows.as_deref()),
        ]
        .into_iter()
        .filter_map(|(field, v)| v.map(|v| (field, v)))
        .filter(|(_, v)| *v != "policy")
    }
}
