//! Checks figure specs (a scenario's `figures:`, or `coinfer plot
//! --figures FILE`) against the metrics and a study's sweep parameters.

use crate::metrics::schema;
use crate::plot::spec::{FigureKind, FigureSpec};
use crate::scenario::did_you_mean;

/// Checks one spec; `axes` are the study's sweep parameters, `categorical`
/// those among them whose values are not all numbers. The error names the
/// field within the spec (`y[0]`, `x`, …) and what is wrong.
pub fn check_figure(
    spec: &FigureSpec,
    axes: &[String],
    categorical: &[String],
) -> Result<(), (String, String)> {
    for (i, y) in spec.y.iter().enumerate() {
        metric(y).map_err(|m| (format!("y[{i}]"), m))?;
    }
    let need = |field: &str, v: Option<&String>| {
        v.map(|_| ()).ok_or_else(|| {
            (
                field.to_string(),
                format!("a {:?} figure needs `{field}`", spec.kind),
            )
        })
    };
    match spec.kind {
        FigureKind::Cdf => {
            if !spec.y.is_empty() || spec.x.is_some() {
                return Err((
                    "y".into(),
                    "a Cdf figure draws latency: give no `x` or `y`".into(),
                ));
            }
        }
        FigureKind::Scatter => {
            need("x", spec.x.as_ref())?;
            metric(spec.x.as_deref().unwrap_or_default()).map_err(|m| ("x".to_string(), m))?;
        }
        FigureKind::Line | FigureKind::Bar | FigureKind::Heatmap => {
            need("x", spec.x.as_ref())?;
            if spec.kind == FigureKind::Heatmap {
                need("rows", spec.rows.as_ref())?;
            }
        }
    }
    if spec.y.is_empty() && spec.kind != FigureKind::Cdf {
        return Err((
            "y".into(),
            format!("a {:?} figure needs at least one metric in `y`", spec.kind),
        ));
    }
    let x = spec.x.as_deref().unwrap_or_default();
    if spec.kind == FigureKind::Line && (x == "policy" || categorical.iter().any(|c| c == x)) {
        return Err((
            "x".into(),
            format!("a Line figure needs a numeric sweep parameter as `x`, and `{x}` takes other values: use kind: Bar"),
        ));
    }
    if spec.kind != FigureKind::Scatter
        && x != "policy"
        && (spec.series.as_deref() == Some(x) || spec.rows.as_deref() == Some(x))
    {
        return Err((
            "x".into(),
            format!("`{x}` is both `x` and the series or rows: name two parameters"),
        ));
    }
    if matches!(spec.kind, FigureKind::Heatmap | FigureKind::Cdf) && spec.series_by() != "policy" {
        return Err((
            "series".into(),
            format!("a {:?} figure draws one policy per series", spec.kind),
        ));
    }
    for (field, name) in spec.axes() {
        axis(name, axes).map_err(|m| (field.to_string(), m))?;
    }
    for name in spec.include.keys().filter(|k| *k != "policy") {
        axis(name, axes).map_err(|m| (format!("include.{name}"), m))?;
    }
    for (field, limits, log) in [
        ("x_limits", spec.x_limits, spec.log_x),
        ("y_limits", spec.y_limits, spec.log_y),
    ] {
        if let Some((lo, hi)) = limits {
            if !(lo.is_finite() && hi.is_finite() && lo < hi) || (log && lo <= 0.0) {
                return Err((
                    field.into(),
                    format!(
                        "invalid limits ({lo}, {hi}): expected finite low < high, and low > 0 on a log axis"
                    ),
                ));
            }
        }
    }
    check_name(spec.name.as_deref())
}

fn metric(name: &str) -> Result<(), String> {
    if schema::find(name).is_some() {
        return Ok(());
    }
    let names: Vec<&str> = schema::SCHEMA.iter().map(|m| m.name).collect();
    let hint = did_you_mean(name, &names);
    Err(format!(
        "unknown metric `{name}`: expected a summary.csv column such as latency_mean_s{hint}"
    ))
}

fn axis(name: &str, axes: &[String]) -> Result<(), String> {
    if axes.iter().any(|a| a == name) {
        return Ok(());
    }
    let names: Vec<&str> = axes.iter().map(String::as_str).collect();
    let hint = did_you_mean(name, &names);
    let known = if axes.is_empty() {
        "the study sweeps nothing".to_string()
    } else {
        format!("expected `policy` or a swept parameter: {}", names.join(", "))
    };
    Err(format!("`{name}` is not swept: {known}{hint}"))
}

fn check_name(name: Option<&str>) -> Result<(), (String, String)> {
    match name {
        Some(n) if !super::is_plain_name(n) => Err((
            "name".into(),
            format!("invalid figure name {n:?}: expected 1 to 128 letters, digits, `-`, `_`, `.`, `+` or `=`, not starting with `.`"),
        )),
        _ => Ok(()),
    }
}
