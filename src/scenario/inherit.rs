//! Reading a scenario file: each file is first parsed alone (so an error in
//! it names that file, line and column), then its sweep generators are
//! expanded and, with `extends: "parent.ron"`, it is merged into its parent:
//! a struct block it writes is merged field by field into the parent's, and
//! anything else (lists, numbers, strings, enum values) replaces the parent's.

use super::tree::{Doc, Node};
use super::{generate, parse_ron, ron_options, RawScenario, ScenarioError, Source};
use std::path::{Path, PathBuf};

/// Most files in one `extends` chain.
const MAX_CHAIN: usize = 32;

/// One file read, its parents merged in.
pub(super) struct Read {
    /// The scenario as text: generators expanded, parents merged in.
    pub doc: Doc,
    /// The file and the files it extends.
    pub source: Source,
}

/// Whether a file parsed alone says more than it parsed to: it extends
/// another, or an axis has a generator (kept as one struct value by the
/// parser; a list of one map reads the same and is merely read again).
pub(super) fn rewrites(alone: &RawScenario) -> bool {
    let generator = |v: &[ron::Value]| matches!(v, [ron::Value::Map(_)]);
    alone.extends.is_some() || alone.sweep.iter().any(|a| generator(&a.values))
}

/// The file's path as a key of the `extends` chain.
pub(super) fn key(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Reads `text` (the file `path`); `chain` holds the files that extend it.
pub(super) fn read(path: &Path, text: &str, chain: &mut Vec<PathBuf>) -> Result<Read, ScenarioError> {
    let alone: RawScenario = parse_ron(path, text)?;
    let mut source = Source {
        path: path.to_path_buf(),
        text: text.to_string(),
        extends: None,
    };
    let structure = "cannot read the structure of the file here".to_string();
    let mut doc = Doc::parse(text).map_err(|at| source.error_at_offset(at, "", structure))?;
    generate::expand(&mut doc.root).map_err(|(at, f, m)| source.error_at_offset(at, &f, m))?;
    let Some(extends) = alone.extends else {
        return Ok(Read { doc, source });
    };
    if let Some(fields) = doc.fields_mut() {
        fields.retain(|(k, _)| k != "extends");
    }
    let parent = parent(&source, &extends, chain)?;
    source.extends = Some(Box::new(parent.source));
    let mut merged = parent.doc;
    for a in doc.attrs {
        if !merged.attrs.contains(&a) {
            merged.attrs.push(a);
        }
    }
    merge_root(&mut merged.root, doc.root);
    Ok(Read { doc: merged, source })
}

/// Reads the file `child` extends, its paths made relative to the child.
fn parent(child: &Source, extends: &str, chain: &mut Vec<PathBuf>) -> Result<Read, ScenarioError> {
    let path = match child.path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(extends),
        _ => PathBuf::from(extends),
    };
    let key = key(&path);
    if chain.contains(&key) {
        let files: Vec<String> = chain
            .iter()
            .chain([&key])
            .map(|p| p.display().to_string())
            .collect();
        let msg = format!("`extends` makes a cycle: {}", files.join(" extends "));
        return Err(child.error_at("extends", msg));
    }
    if chain.len() >= MAX_CHAIN {
        let msg = format!("more than {MAX_CHAIN} files extend one another: expected a shorter chain");
        return Err(child.error_at("extends", msg));
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| child.error_at("extends", format!("cannot read {}: {e}", path.display())))?;
    chain.push(key);
    let mut parent = read(&path, &text, chain)?;
    chain.pop();
    let dir = Path::new(extends).parent().unwrap_or(Path::new(""));
    rebase_profile(&mut parent.doc, dir);
    Ok(parent)
}

/// Makes a relative `model.profile` of the parent relative to the child,
/// which is `dir` away from it.
fn rebase_profile(doc: &mut Doc, dir: &Path) {
    if dir.as_os_str().is_empty() {
        return;
    }
    let profile = doc.root.field_mut("model").and_then(|m| m.field_mut("profile"));
    let Some(Node::Leaf { text, .. }) = profile else {
        return;
    };
    let Ok(Some(p)) = ron_options().from_str::<Option<String>>(text) else {
        return;
    };
    if Path::new(&p).is_relative() {
        if let Ok(t) = ron::to_string(&dir.join(p).display().to_string()) {
            *text = t;
        }
    }
}

/// Merges the child's top-level fields into the parent's, whatever the
/// struct names written.
fn merge_root(parent: &mut Node, child: Node) {
    match (parent, child) {
        (Node::Struct { fields, .. }, Node::Struct { fields: child, .. }) => merge_fields(fields, child),
        (parent, child) => *parent = child,
    }
}

/// A plain struct block written in the child is merged into the parent's;
/// anything else replaces it.
fn merge(parent: &mut Node, child: Node) {
    match (parent, child) {
        (
            Node::Struct { name, fields, .. },
            Node::Struct {
                name: n,
                fields: child,
                ..
            },
        ) if name.is_empty() && n.is_empty() => merge_fields(fields, child),
        (parent, child) => *parent = child,
    }
}

fn merge_fields(parent: &mut Vec<(String, Node)>, child: Vec<(String, Node)>) {
    for (k, v) in child {
        match parent.iter_mut().find(|(pk, _)| *pk == k) {
            Some((_, pv)) => merge(pv, v),
            None => parent.push((k, v)),
        }
    }
}
