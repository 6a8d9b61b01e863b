//! Data flows one way (issue 9): a module may name `crate::X` only if `X` sits
//! in a lower layer. Every `crate::` path in `src/` (imports, inline paths,
//! serde attributes) is checked against the table below, so a new cycle
//! fails this test with the file and line that introduced it.

use crate::util::root;
use std::path::Path;

/// Layers, lowest first. A module may use modules of strictly lower rank only.
const LAYERS: &[(&str, u32)] = &[
    ("units", 0),
    ("rng", 0),
    ("fsio", 0),
    ("check", 0),
    ("queue", 1),
    ("quant", 2),
    ("plot", 2),
    ("model", 3),
    ("policy", 4),
    ("engine", 5),
    ("metrics", 6),
    ("scenario", 7),
    ("study", 8),
    ("shard", 9),
    ("runner", 10),
    ("report", 11),
    ("cli", 12),
];

fn rank(module: &str) -> Option<u32> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|&(_, r)| r)
}

/// The top-level module a source file belongs to (`src/model/link.rs` → `model`).
fn module_of(rel: &Path) -> String {
    let first = rel.components().next().unwrap().as_os_str().to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Every `crate::NAME` in the code of `text` (comments skipped), with its line.
fn crate_refs(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(p) = rest.find("crate::") {
            let after = &rest[p + 7..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push((i + 1, name));
            }
            rest = after;
        }
        // `use crate::{a, b}` groups.
        if let Some(p) = code.find("crate::{") {
            let group = &code[p + 8..];
            for part in group.split([',', '}']) {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.push((i + 1, name));
                }
            }
        }
    }
    out
}

#[test]
fn modules_import_only_lower_layers() {
    let src = root().join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let mut violations = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let module = module_of(rel);
        if module == "lib" || module == "main" {
            continue;
        }
        let Some(own) = rank(&module) else {
            violations.push(format!(
                "{}: module `{module}` is not in the layer table",
                rel.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(f).unwrap();
        for (line, name) in crate_refs(&text) {
            if name == module {
                continue;
            }
            match rank(&name) {
                Some(r) if r < own => {}
                Some(r) => violations.push(format!(
                    "{}:{line}: `{module}` (layer {own}) uses `crate::{name}` (layer {r})",
                    rel.display()
                )),
                None => violations.push(format!(
                    "{}:{line}: `crate::{name}` is not a module in the layer table",
                    rel.display()
                )),
            }
        }
    }
    assert!(
        violations.is_empty(),
        "layer violations:\n{}",
        violations.join("\n")
    );
}
