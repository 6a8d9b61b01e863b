//! Golden fingerprints (issue 10): a short run of every file in `scenarios/`
//! (it must run, give one row per point and policy, and write a resolved
//! copy that compiles to the same study) whose `summary.csv` is committed in
//! `tests/golden/`. Any change of a number
//! fails here until the golden file is updated in the same commit, with the
//! reason in the commit message: run the tests with `COINFER_BLESS=1` to
//! rewrite the files, then review `git diff tests/golden`.

use crate::util::{bin, compile, raw, root};
use std::process::Command;

/// The short version of a scenario: at most 3 s of simulated time, 2 seeds,
/// and its profile file (if any) named from the folder the copy runs in.
fn short(path: &std::path::Path) -> coinfer::scenario::RawScenario {
    let mut sc = raw(path);
    let dir = path.parent().unwrap();
    sc.model.profile = sc.model.profile.map(|p| dir.join(p).display().to_string());
    sc.horizon_s = sc.horizon_s.min(3.0);
    sc.warmup_s = sc.warmup_s.min(0.5);
    sc.seeds = 2;
    sc
}

#[test]
fn every_scenario_matches_its_golden_summary() {
    let bless = std::env::var_os("COINFER_BLESS").is_some();
    let tmp = tempfile::tempdir().unwrap();
    let mut paths: Vec<_> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    paths.sort();
    let mut stale = Vec::new();
    for path in paths {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let sc = short(&path);
        let file = tmp.path().join(format!("{name}.ron"));
        std::fs::write(&file, sc.to_ron()).unwrap();
        let out = tmp.path().join(&name);
        let o = Command::new(bin())
            .args(["run", "--quiet", "--out"])
            .arg(&out)
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let got = std::fs::read_to_string(out.join("summary.csv")).unwrap();
        // One row per point and policy; the resolved copy compiles to the same study.
        let study = compile(sc);
        assert_eq!(
            got.lines().count(),
            1 + study.points.len() * study.policies.len(),
            "{name}"
        );
        let copy = compile(raw(&out.join("scenario.ron")));
        assert_eq!(copy.to_ron(), study.to_ron(), "{name}");
        let golden = root().join("tests/golden").join(format!("{name}.summary.csv"));
        if bless {
            std::fs::write(&golden, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&golden).unwrap_or_default();
        if got != want {
            let line = got.lines().zip(want.lines()).position(|(a, b)| a != b);
            stale.push(format!(
                "{name}: first difference on line {}\n  golden: {}\n  got:    {}",
                line.map_or(0, |l| l + 1),
                line.and_then(|l| want.lines().nth(l)).unwrap_or("(missing)"),
                line.and_then(|l| got.lines().nth(l)).unwrap_or("(missing)")
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "summaries differ from tests/golden (rerun with COINFER_BLESS=1 if the change is meant):\n{}",
        stale.join("\n")
    );
}
