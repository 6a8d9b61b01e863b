//! Sweep value generators: `values: Range(start, stop, step)`,
//! `Linspace(start, stop, n)` and `Logspace(start, stop, n)`, expanded into
//! the list they stand for before the scenario is read, so a generator and
//! the same list written out are the same scenario.

use super::tree::Node;

/// Most values one generator may give.
const MAX_VALUES: usize = 100_000;

/// Where a generator is wrong: byte offset, field path, message.
pub(super) type Fault = (usize, String, String);

const GENERATORS: [&str; 3] = ["Range", "Linspace", "Logspace"];

/// What `values` may be, for error messages.
pub(super) const EXPECTED: &str = "expected `[..]`, Range(start: .., stop: .., step: ..), Linspace(start: .., stop: .., n: ..) or Logspace(start: .., stop: .., n: ..)";

/// Replaces every generator in the sweep axes of `root` with its list.
pub(super) fn expand(root: &mut Node) -> Result<(), Fault> {
    let Some(Node::List { items: axes, .. }) = root.field_mut("sweep") else {
        return Ok(());
    };
    for (i, axis) in axes.iter_mut().enumerate() {
        let field = format!("sweep[{i}].values");
        let Some(values) = axis.field_mut("values") else {
            continue;
        };
        match values {
            Node::List { .. } => {}
            Node::Struct { name, fields, at } if GENERATORS.contains(&name.as_str()) => {
                let list = generate(name, fields, *at).map_err(|(at, m)| (at, field, m))?;
                *values = Node::List { items: list, at: 0 };
            }
            other => return Err((other.at(), field, not_a_generator(other))),
        }
    }
    Ok(())
}

fn not_a_generator(node: &Node) -> String {
    let hint = match node {
        Node::Struct { name, .. } if !name.is_empty() => super::did_you_mean(name, &GENERATORS),
        _ => String::new(),
    };
    format!("`{node}` is not a list of values: {EXPECTED}{hint}")
}

fn too_many(name: &str, n: f64) -> String {
    format!("{name} gives about {n:.3e} values: expected at most {MAX_VALUES} (a larger step or a smaller n)")
}

/// A number as written: integer or float.
#[derive(Clone, Copy, Debug)]
enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    /// As written: `2`, `2.0`.
    fn text(self) -> String {
        match self {
            Num::Int(i) => i.to_string(),
            Num::Float(x) => format!("{x:?}"),
        }
    }

    fn get(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(x) => x,
        }
    }
}

/// The arguments of a generator by name; `Err` names a missing, unknown or
/// non-numeric one.
struct Args<'a> {
    name: &'a str,
    at: usize,
    fields: &'a [(String, Node)],
}

impl Args<'_> {
    fn num(&self, key: &str) -> Result<(Num, usize), (usize, String)> {
        let Some((_, node)) = self.fields.iter().find(|(k, _)| k == key) else {
            return Err((self.at, format!("{} needs `{key}`", self.name)));
        };
        let at = node.at();
        let bad = || {
            (
                at,
                format!("`{key}: {node}` is not a number: expected a finite number"),
            )
        };
        let value: ron::Value = ron::from_str(&node.to_string()).map_err(|_| bad())?;
        match value {
            ron::Value::Number(ron::Number::Integer(i)) => Ok((Num::Int(i), at)),
            ron::Value::Number(ron::Number::Float(f)) if f.get().is_finite() => Ok((Num::Float(f.get()), at)),
            _ => Err(bad()),
        }
    }

    fn only(&self, keys: &[&str]) -> Result<(), (usize, String)> {
        match self.fields.iter().find(|(k, _)| !keys.contains(&k.as_str())) {
            Some((k, v)) => Err((
                v.at(),
                format!("{} has no field `{k}`: expected {}", self.name, keys.join(", ")),
            )),
            None => Ok(()),
        }
    }

    /// `n`: a whole number of values, at least 1 and at most [`MAX_VALUES`].
    fn count(&self) -> Result<usize, (usize, String)> {
        let (n, at) = self.num("n")?;
        match n {
            Num::Int(n) if n >= 1 && n as u64 <= MAX_VALUES as u64 => Ok(n as usize),
            Num::Int(n) if n >= 1 => Err((at, too_many(self.name, n as f64))),
            _ => Err((
                at,
                format!("invalid n = {}: expected a whole number >= 1", n.text()),
            )),
        }
    }
}

/// The values of generator `name` with arguments `fields`.
fn generate(name: &str, fields: &[(String, Node)], at: usize) -> Result<Vec<Node>, (usize, String)> {
    let values = values_of(name, fields, at)?;
    if values.windows(2).any(|w| leaf_text(&w[0]) == leaf_text(&w[1])) {
        return Err((
            at,
            format!("{name} repeats values once rounded to 12 significant digits: expected a larger step, a wider range or a smaller n"),
        ));
    }
    if name != "Range" && values.len() == 1 && args_differ(fields) {
        return Err((
            at,
            format!("{name} with n = 1 gives start alone, not stop: expected n >= 2, or start = stop"),
        ));
    }
    Ok(values)
}

/// The text of a value (empty for a struct or list).
fn leaf_text(v: &Node) -> &str {
    match v {
        Node::Leaf { text, .. } => text,
        _ => "",
    }
}

/// Whether a generator's `start` and `stop` are written differently.
fn args_differ(fields: &[(String, Node)]) -> bool {
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| leaf_text(v));
    get("start") != get("stop")
}

/// The values of generator `name`, before the checks of [`generate`].
fn values_of(name: &str, fields: &[(String, Node)], at: usize) -> Result<Vec<Node>, (usize, String)> {
    let args = Args { name, at, fields };
    match name {
        "Range" => {
            args.only(&["start", "stop", "step"])?;
            range(&args)
        }
        "Linspace" => {
            args.only(&["start", "stop", "n"])?;
            let ((start, _), (stop, _)) = (args.num("start")?, args.num("stop")?);
            let n = args.count()?;
            let (a, b) = (start.get(), stop.get());
            let step = if n > 1 { (b - a) / (n - 1) as f64 } else { 0.0 };
            let ints = matches!((start, stop), (Num::Int(_), Num::Int(_)));
            Ok(spaced(
                n,
                |i| {
                    if i + 1 == n && n > 1 {
                        b
                    } else {
                        a + i as f64 * step
                    }
                },
                ints,
            ))
        }
        _ => {
            args.only(&["start", "stop", "n"])?;
            let ((start, sat), (stop, eat)) = (args.num("start")?, args.num("stop")?);
            for (v, at, key) in [(start, sat, "start"), (stop, eat, "stop")] {
                if v.get() <= 0.0 {
                    return Err((at, format!("invalid {key} = {}: Logspace takes the values themselves (not exponents), so expected a number > 0", v.text())));
                }
            }
            let n = args.count()?;
            let (a, b) = (start.get(), stop.get());
            let ratio = b / a;
            let exp = |i: usize| if n > 1 { i as f64 / (n - 1) as f64 } else { 0.0 };
            let ints = matches!((start, stop), (Num::Int(_), Num::Int(_)));
            Ok(spaced(
                n,
                |i| {
                    if i + 1 == n && n > 1 {
                        b
                    } else {
                        a * ratio.powf(exp(i))
                    }
                },
                ints,
            ))
        }
    }
}

/// `Range`: `start + i·step` up to `stop` (included when it lands on it).
fn range(args: &Args) -> Result<Vec<Node>, (usize, String)> {
    let ((start, _), (stop, _), (step, step_at)) = (args.num("start")?, args.num("stop")?, args.num("step")?);
    let (a, b, s) = (start.get(), stop.get(), step.get());
    if s == 0.0 {
        return Err((
            step_at,
            "step 0 never reaches stop: expected a step other than 0".into(),
        ));
    }
    if (b - a) * s < 0.0 {
        let want = if b > a { "> 0" } else { "< 0" };
        return Err((
            step_at,
            format!("step {s} goes away from stop = {b} (start = {a}): expected a step {want}"),
        ));
    }
    let steps = (b - a) / s;
    let near = steps.round();
    let last = if (steps - near).abs() <= 1e-9 * near.abs().max(1.0) {
        near
    } else {
        steps.floor()
    };
    if last + 1.0 > MAX_VALUES as f64 {
        return Err((args.at, too_many(args.name, last + 1.0)));
    }
    let n = last as usize + 1;
    Ok(match (start, step) {
        (Num::Int(a), Num::Int(s)) => (0..n)
            .map(|i| leaf((i128::from(a) + i as i128 * i128::from(s)).to_string()))
            .collect(),
        _ => spaced(n, |i| a + i as f64 * s, false),
    })
}

/// `n` values `f(i)`, rounded to 12 significant digits; written as
/// integers when `ints` and every one is a whole number.
fn spaced(n: usize, f: impl Fn(usize) -> f64, ints: bool) -> Vec<Node> {
    let values: Vec<f64> = (0..n).map(|i| clean(f(i))).collect();
    let whole = ints && values.iter().all(|x| x.fract() == 0.0 && x.abs() < 9.0e15);
    values
        .into_iter()
        .map(|x| match whole {
            true => leaf(format!("{}", x as i64)),
            false => leaf(format!("{x:?}")),
        })
        .collect()
}

/// `x` rounded to 12 significant digits: `0.1 + 2 × 0.1` is `0.3`.
fn clean(x: f64) -> f64 {
    format!("{x:.11e}").parse().unwrap_or(x)
}

fn leaf(text: String) -> Node {
    Node::Leaf { text, at: 0 }
}
