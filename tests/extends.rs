//! `extends`: a scenario written as changes to another resolves to the
//! scenario written out in full; errors point at the file that wrote them.

use crate::util::root;
use coinfer::policy::Registry;
use coinfer::study::Study;
use std::path::Path;

fn load(path: &Path) -> Study {
    Study::load(path, &Registry::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn load_err(path: &Path) -> String {
    match Study::load(path, &Registry::default()) {
        Ok(_) => panic!("{} accepted", path.display()),
        Err(e) => e.to_string(),
    }
}

/// `text` with `from` replaced by `to`; panics if `from` is not in it.
fn edit(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "`{from}` not in the text");
    text.replacen(from, to, 1)
}

#[test]
fn extends_with_overrides_equals_the_written_out_file() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let paper = std::fs::read_to_string(root().join("scenarios/paper.ron")).unwrap();
    std::fs::write(d.join("paper.ron"), &paper).unwrap();
    std::fs::create_dir(d.join("sub")).unwrap();
    let child = d.join("sub/child.ron");
    std::fs::write(
        &child,
        r#"(
            extends: "../paper.ron",
            seeds: 3,
            channel: (bandwidth_hz: 1e6),
            agents: (arrivals: Poisson(rate_hz: 2.0), cpu: (kappa: 1e-27)),
            sweep: [(param: "agents.mobility.Static.distance_m", values: Range(start: 50, stop: 100, step: 25))],
        )"#,
    )
    .unwrap();
    let mut full = edit(&paper, "seeds: 20", "seeds: 3");
    full = edit(&full, "bandwidth_hz: 20e6", "bandwidth_hz: 1e6");
    full = edit(
        &full,
        "arrivals: Periodic(period_s: 0.5)",
        "arrivals: Poisson(rate_hz: 2.0)",
    );
    full = edit(&full, "kappa: 2e-27", "kappa: 1e-27");
    full = edit(
        &full,
        "[10.0, 25.0, 50.0, 75.0, 100.0, 125.0, 150.0, 175.0, 200.0]",
        "[50, 75, 100]",
    );
    std::fs::write(d.join("full.ron"), full).unwrap();
    let (a, b) = (load(&child), load(&d.join("full.ron")));
    assert_eq!(a.to_ron(), b.to_ron());
    assert_eq!(a.hash(), b.hash());
    assert_eq!(a.name, "paper");
    assert_ne!(a.hash(), load(&d.join("paper.ron")).hash());
    assert!(!a.to_ron().contains("extends"));
}

#[test]
fn a_parents_profile_is_found_from_the_parent() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::create_dir(d.join("base")).unwrap();
    std::fs::write(
        d.join("base/profile.ron"),
        r#"(blocks: [(name: "a", params: 1e6, lambda: 7.0), (name: "b", params: 2e6, lambda: 9.0)])"#,
    )
    .unwrap();
    std::fs::write(
        d.join("base/parent.ron"),
        r#"(model: (profile: "profile.ron", split: 1))"#,
    )
    .unwrap();
    std::fs::write(d.join("child.ron"), r#"(extends: "base/parent.ron", seeds: 2)"#).unwrap();
    let study = load(&d.join("child.ron"));
    let blocks = study.scenario().model.blocks.clone().unwrap();
    assert_eq!(
        blocks.iter().map(|b| b.name.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(study.scenario().model.split, 1);
}

#[test]
fn an_extends_cycle_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("a.ron"), r#"(extends: "b.ron", seeds: 2)"#).unwrap();
    std::fs::write(d.join("b.ron"), "(\n  extends: \"a.ron\",\n)").unwrap();
    let err = load_err(&d.join("a.ron"));
    assert!(
        err.contains("b.ron:2:3: field `extends`: `extends` makes a cycle"),
        "{err}"
    );
    assert!(
        err.contains("a.ron extends") && err.contains("b.ron extends"),
        "{err}"
    );
}

#[test]
fn errors_point_at_the_file_that_wrote_the_field() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("parent.ron"), "(\n  horizon_s: 5.0,\n  warmup_s: 4.0,\n)").unwrap();
    // Checked while parsing: the child's line and column.
    std::fs::write(
        d.join("bad.ron"),
        "(\n  extends: \"parent.ron\",\n  channel: (\n    bandwidth_hz: -1.0),\n)",
    )
    .unwrap();
    let err = load_err(&d.join("bad.ron"));
    assert!(
        err.contains("bad.ron:4:") && err.contains("channel.bandwidth_hz"),
        "{err}"
    );
    // A cross-field rule: the child's horizon_s is too short for the parent's warm-up,
    // which the parent wrote.
    std::fs::write(
        d.join("short.ron"),
        "(\n  extends: \"parent.ron\",\n  horizon_s: 3.0,\n)",
    )
    .unwrap();
    let err = load_err(&d.join("short.ron"));
    assert!(err.contains("parent.ron:3:3: field `warmup_s`"), "{err}");
    // An error in the parent names the parent.
    std::fs::write(d.join("parent.ron"), "(\n  horizon_s: 5.0,\n  seeds: -2,\n)").unwrap();
    let err = load_err(&d.join("short.ron"));
    assert!(err.contains("parent.ron:3:") && err.contains("seeds"), "{err}");
}
