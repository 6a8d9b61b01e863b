//! Sweeps: axes over scenario fields whose cartesian product gives the
//! points of a study (SPEC 7). Axes sharing a `zip` tag move together.
//!
//! A parameter is a dotted path into the resolved scenario, e.g.
//! `channel.tx_power_dbm`, `agents.mobility.Static.distance_m` (a struct
//! variant is addressed by its name) or `model.blocks.0.lambda` (list items by
//! index). Values are numbers, or strings naming a unit variant
//! (`"Rayleigh"`), or maps for a variant with fields
//! (`{"Rician": {"k": 3.0}}`).

use super::{RawScenario, RUN_CONTROL};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// One sweep axis.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SweepAxis {
    /// Dotted path of the swept field.
    pub param: String,
    /// Values the field takes, in order. Written as a list, or as
    /// `Range(..)`, `Linspace(..)` or `Logspace(..)`, which
    /// [`RawScenario::parse`] expands into the list.
    #[serde(deserialize_with = "list_or_generator")]
    pub values: Vec<ron::Value>,
    /// Axes with the same tag move together (equal lengths) instead of
    /// forming a product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
}

/// A list of values, or a generator (a struct: the parser drops its name),
/// kept as one value until [`RawScenario::parse`] expands it.
fn list_or_generator<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<ron::Value>, D::Error> {
    match ron::Value::deserialize(d)? {
        ron::Value::Seq(v) => Ok(v),
        generator @ ron::Value::Map(_) => Ok(vec![generator]),
        other => Err(serde::de::Error::custom(format!(
            "`{}` is not a list of values: {}",
            value_text(&other),
            super::generate::EXPECTED
        ))),
    }
}

/// One point of a sweep: its parameter values and its scenario.
#[derive(Clone, Debug)]
pub struct Point {
    /// `(param, value)` in axis order, values as written in result files.
    pub params: Vec<(String, String)>,
    /// The scenario at this point (its `sweep` is empty).
    pub scenario: RawScenario,
}

/// A RON value as JSON (how serde sees scenario fields).
fn to_json(v: &ron::Value) -> Json {
    match v {
        ron::Value::Bool(b) => Json::Bool(*b),
        ron::Value::Char(c) => Json::String(c.to_string()),
        ron::Value::Number(ron::Number::Integer(i)) => Json::from(*i),
        ron::Value::Number(ron::Number::Float(f)) => {
            serde_json::Number::from_f64(f.get()).map_or(Json::Null, Json::Number)
        }
        ron::Value::String(s) => Json::String(s.clone()),
        ron::Value::Seq(s) => Json::Array(s.iter().map(to_json).collect()),
        ron::Value::Map(m) => Json::Object(
            m.iter()
                .map(|(k, v)| {
                    let key = match k {
                        ron::Value::String(s) => s.clone(),
                        other => to_json(other).to_string(),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
        ron::Value::Option(Some(v)) => to_json(v),
        ron::Value::Option(None) | ron::Value::Unit => Json::Null,
    }
}

/// Whether every number in `v` is finite.
fn finite(v: &ron::Value) -> bool {
    match v {
        ron::Value::Number(ron::Number::Float(f)) => f.get().is_finite(),
        ron::Value::Seq(s) => s.iter().all(finite),
        ron::Value::Map(m) => m.iter().all(|(k, v)| finite(k) && finite(v)),
        ron::Value::Option(Some(v)) => finite(v),
        _ => true,
    }
}

/// How a value is written in result files: numbers as numbers, strings bare.
pub fn value_text(v: &ron::Value) -> String {
    match to_json(v) {
        Json::String(s) => s,
        other => other.to_string(),
    }
}

/// Every sweepable path of `sc` (numbers, strings and enum variants of the
/// model and physics; run-control fields are not sweepable).
pub fn sweepable(sc: &RawScenario) -> Vec<String> {
    fn walk(v: &Json, prefix: &str, out: &mut Vec<String>) {
        let join = |k: &str| {
            if prefix.is_empty() {
                k.to_string()
            } else {
                format!("{prefix}.{k}")
            }
        };
        match v {
            Json::Object(m) => {
                for (k, v) in m {
                    // A struct variant `{Variant: {..}}`: the variant itself is sweepable too.
                    if k.starts_with(char::is_uppercase) && m.len() == 1 {
                        out.push(prefix.to_string());
                    }
                    walk(v, &join(k), out);
                }
            }
            Json::Array(a) if prefix != "policies" && prefix != "sweep" => {
                for (i, v) in a.iter().enumerate() {
                    walk(v, &join(&i.to_string()), out);
                }
            }
            Json::Number(_) | Json::String(_) | Json::Bool(_) => out.push(prefix.to_string()),
            _ => {}
        }
    }
    let mut out = Vec::new();
    let mut base = sc.clone();
    base.sweep.clear();
    walk(
        &serde_json::to_value(&base).expect("scenario serializes"),
        "",
        &mut out,
    );
    out.retain(|p| !RUN_CONTROL.contains(&p.split('.').next().unwrap_or_default()));
    out.dedup();
    out
}

/// Sets the field at `path` in the JSON form of a scenario; `Err` when the
/// path does not lead to a field.
fn set(root: &mut Json, path: &str, value: Json) -> Result<(), ()> {
    let mut cur = root;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        cur = match cur {
            Json::Object(m) if last => {
                m.insert(part.to_string(), value);
                return Ok(());
            }
            Json::Object(m) => m.get_mut(*part).ok_or(())?,
            Json::Array(a) => {
                let idx: usize = part.parse().map_err(|_| ())?;
                if last {
                    *a.get_mut(idx).ok_or(())? = value;
                    return Ok(());
                }
                a.get_mut(idx).ok_or(())?
            }
            _ => return Err(()),
        };
    }
    Err(())
}

/// Refuses two axes of which one sets the other or a part of it (e.g.
/// `agents.arrivals` and `agents.arrivals.Periodic.period_s`): whichever is
/// applied last would silently undo the other.
fn check_overlaps(axes: &[SweepAxis]) -> Result<(), (String, String)> {
    let within = |a: &str, b: &str| a == b || b.strip_prefix(a).is_some_and(|r| r.starts_with('.'));
    for (i, a) in axes.iter().enumerate() {
        if let Some((j, b)) = axes
            .iter()
            .enumerate()
            .skip(i + 1)
            .find(|(_, b)| within(&a.param, &b.param) || within(&b.param, &a.param))
        {
            return Err((
                format!("sweep[{j}].param"),
                format!(
                    "axes `{}` (sweep[{i}]) and `{}` overlap: one sets the other or a part of it, so one would undo the other; sweep only one of them",
                    a.param, b.param
                ),
            ));
        }
    }
    Ok(())
}

/// Most points one study may have.
pub const MAX_POINTS: usize = 20_000;

/// Number of points before filtering: the product of the axis lengths, an
/// axis of a zip group counted once per group.
fn point_count(axes: &[SweepAxis]) -> f64 {
    let mut seen: Vec<&str> = Vec::new();
    let mut n = 1.0;
    for a in axes {
        match a.zip.as_deref() {
            Some(tag) if seen.contains(&tag) => {}
            tag => {
                seen.extend(tag);
                n *= a.values.len() as f64;
            }
        }
    }
    n
}

/// Index tuples of the sweep: one product dimension per zip group (or per
/// untagged axis), each axis of a group taking the group's index.
fn combinations(axes: &[SweepAxis]) -> Result<Vec<Vec<usize>>, String> {
    // groups: (tag, axis indices)
    let mut groups: Vec<(Option<&str>, Vec<usize>)> = Vec::new();
    for (i, a) in axes.iter().enumerate() {
        match a.zip.as_deref() {
            Some(tag) => match groups.iter_mut().find(|g| g.0 == Some(tag)) {
                Some(g) => g.1.push(i),
                None => groups.push((Some(tag), vec![i])),
            },
            None => groups.push((None, vec![i])),
        }
    }
    for (tag, members) in &groups {
        let n = axes[members[0]].values.len();
        if let Some(&bad) = members.iter().find(|&&m| axes[m].values.len() != n) {
            return Err(format!(
                "axes zipped as \"{}\" must have equal lengths: `{}` has {n} values, `{}` has {}",
                tag.unwrap_or_default(),
                axes[members[0]].param,
                axes[bad].param,
                axes[bad].values.len()
            ));
        }
    }
    let mut combos = vec![vec![0usize; axes.len()]];
    for (_, members) in &groups {
        let n = axes[members[0]].values.len();
        combos = combos
            .into_iter()
            .flat_map(|c| {
                (0..n).map(move |k| {
                    let mut c = c.clone();
                    for &m in members {
                        c[m] = k;
                    }
                    c
                })
            })
            .collect();
    }
    Ok(combos)
}

/// The number a filter term stands for: a literal, or the value at a path.
fn number_at(doc: &Json, term: &str) -> Result<f64, String> {
    let term = term.trim();
    if let Ok(x) = term.parse::<f64>() {
        return Ok(x);
    }
    let mut cur = doc;
    for part in term.split('.') {
        cur = match cur {
            Json::Object(m) => m.get(part),
            Json::Array(a) => part.parse::<usize>().ok().and_then(|i| a.get(i)),
            _ => None,
        }
        .ok_or_else(|| format!("`{term}` is neither a number nor a field of the scenario"))?;
    }
    cur.as_f64().ok_or_else(|| format!("`{term}` is not a number"))
}

/// Whether a point (as JSON) meets the constraint `expr` = `"A op B"`.
fn meets(doc: &Json, expr: &str) -> Result<bool, String> {
    for op in ["<=", ">=", "==", "!=", "<", ">"] {
        if let Some((a, b)) = expr.split_once(op) {
            let (a, b) = (number_at(doc, a)?, number_at(doc, b)?);
            return Ok(match op {
                "<=" => a <= b,
                ">=" => a >= b,
                "==" => a == b,
                "!=" => a != b,
                "<" => a < b,
                _ => a > b,
            });
        }
    }
    Err(format!(
        "`{expr}` has no comparison: expected \"A op B\" with op one of < <= > >= == !="
    ))
}

/// The points of `base`'s sweep in order (the last axis varies fastest), or
/// the base itself when it has no sweep. `Err` carries the field path of the
/// offending axis and the reason.
pub fn points(base: &RawScenario) -> Result<Vec<Point>, (String, String)> {
    if base.sweep.is_empty() && base.filter.is_empty() {
        return Ok(vec![Point {
            params: Vec::new(),
            scenario: base.clone(),
        }]);
    }
    let valid = sweepable(base);
    for (i, a) in base.sweep.iter().enumerate() {
        if a.values.is_empty() {
            return Err((
                format!("sweep[{i}].values"),
                "empty list: expected at least one value".into(),
            ));
        }
        if let Some(k) = a.values.iter().position(|v| !finite(v)) {
            return Err((
                format!("sweep[{i}].values[{k}]"),
                "NaN or infinity is not a value: expected finite numbers".to_string(),
            ));
        }
        let top = a.param.split('.').next().unwrap_or_default();
        if RUN_CONTROL.contains(&top) {
            return Err((
                format!("sweep[{i}].param"),
                format!(
                    "`{top}` controls how the study is run, not what is simulated, so it cannot be swept (run-control fields: {}); sweep model and physics fields, or run the study once per value",
                    RUN_CONTROL.join(", ")
                ),
            ));
        }
        if !valid.contains(&a.param) {
            return Err((
                format!("sweep[{i}].param"),
                format!(
                    "unknown parameter \"{}\": expected one of {}",
                    a.param,
                    valid.join(", ")
                ),
            ));
        }
    }
    check_overlaps(&base.sweep)?;
    let count = point_count(&base.sweep);
    if count > MAX_POINTS as f64 {
        return Err((
            "sweep".to_string(),
            format!("the sweep has {count:.3e} points: expected at most {MAX_POINTS} (split it into several studies)"),
        ));
    }
    let combos = combinations(&base.sweep).map_err(|m| ("sweep".to_string(), m))?;
    let mut out = Vec::new();
    let mut template = base.clone();
    template.sweep.clear();
    template.filter.clear();
    let json = serde_json::to_value(&template).expect("scenario serializes");
    for combo in combos {
        let mut doc = json.clone();
        let mut params = Vec::new();
        for (i, (a, &k)) in base.sweep.iter().zip(&combo).enumerate() {
            let v = &a.values[k];
            if set(&mut doc, &a.param, to_json(v)).is_err() {
                // Unreachable after `check_overlaps`; kept as an error, not a panic.
                return Err((
                    format!("sweep[{i}].param"),
                    format!("`{}` is not a field at this point", a.param),
                ));
            }
            params.push((a.param.clone(), value_text(v)));
        }
        let mut keep = true;
        for (i, f) in base.filter.iter().enumerate() {
            keep &= meets(&doc, f).map_err(|m| (format!("filter[{i}]"), m))?;
        }
        if !keep {
            continue;
        }
        let at = params
            .iter()
            .map(|(p, v)| format!("{p} = {v}"))
            .collect::<Vec<_>>()
            .join(", ");
        let scenario: RawScenario = serde_path_to_error::deserialize(doc).map_err(|e| {
            let path = e.path().to_string();
            let axis = base.sweep.iter().position(|a| path.starts_with(&a.param));
            let field = axis.map_or("sweep".to_string(), |i| format!("sweep[{i}].values"));
            (
                field,
                format!("at sweep point ({at}): `{path}`: {}", e.into_inner()),
            )
        })?;
        out.push(Point { params, scenario });
    }
    if out.is_empty() {
        return Err(("filter".into(), "no sweep point meets every filter".into()));
    }
    Ok(out)
}
