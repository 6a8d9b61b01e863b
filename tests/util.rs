//! Shared helpers: studies from inline RON, single runs with a recorder.

use coinfer::engine::{self, Outcome, Recorder};
use coinfer::policy::Registry;
use coinfer::rng::{stream, Purpose, StreamId};
use coinfer::scenario::RawScenario;
use coinfer::study::Study;
use coinfer::units::Bits;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The bit-width `b`; panics outside `2..=16`.
pub fn bw(b: u8) -> Bits {
    Bits::new(b).unwrap_or_else(|| panic!("invalid bit-width {b}"))
}

/// A compiled study from RON text.
pub fn scenario(text: &str) -> Study {
    Study::from_str("test.ron".as_ref(), text, &Registry::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// A scenario file as written (to change before compiling).
pub fn raw(path: &Path) -> RawScenario {
    RawScenario::load(path).unwrap_or_else(|e| panic!("{e}"))
}

/// Compiles a scenario with the built-in policies.
pub fn compile(raw: RawScenario) -> Study {
    Study::compile(raw, &Registry::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs one seed of the first policy at the first point of `study` with `recorder`.
pub fn run_one(study: &Study, seed: u64, recorder: &mut dyn Recorder) -> Outcome {
    let mut world = study.points[0].world(seed);
    let mut policy = study.policies[0]
        .factory
        .build(stream(seed, StreamId::new(Purpose::Policy, 0)));
    engine::run(&mut world, policy.as_mut(), recorder)
}

/// The `coinfer` binary built for these tests.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_coinfer"))
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The values of column `name` of a CSV text, in row order.
pub fn column(csv_text: &str, name: &str) -> Vec<String> {
    let mut r = csv::Reader::from_reader(csv_text.as_bytes());
    let i = r.headers().unwrap().iter().position(|h| h == name).unwrap();
    r.records().map(|rec| rec.unwrap()[i].to_string()).collect()
}

/// Writes scenario `text` to `s.ron` in a fresh temporary folder and runs
/// `coinfer run --quiet --out out s.ron` there, with `extra` arguments after
/// `run`; panics with its error output if it fails. The results are in `out/`
/// of the returned folder.
pub fn run_in_tmp(text: &str, extra: &[&str]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("s.ron"), text).unwrap();
    let mut args = vec!["run"];
    args.extend_from_slice(extra);
    args.extend(["--quiet", "--out", "out", "s.ron"]);
    let o = std::process::Command::new(bin())
        .args(&args)
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    tmp
}

/// The size of a PNG file, which must decode whole.
pub fn png_size(path: &std::path::Path) -> (u32, u32) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().expect("PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("buffer size")];
    let info = reader.next_frame(&mut buf).expect("PNG must decode");
    (info.width, info.height)
}

/// Runs `exe` with `args` in `dir`.
pub fn coinfer_in(exe: &Path, args: &[&str], dir: &Path) -> Output {
    Command::new(exe).args(args).current_dir(dir).output().unwrap()
}

/// Runs `exe` with `args` in `dir`, expecting success.
pub fn ok_in(exe: &Path, args: &[&str], dir: &Path) -> Output {
    let o = coinfer_in(exe, args, dir);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// Runs coinfer with `args` in `dir`, expecting success; returns its error
/// output (warnings and the final line).
pub fn ok(args: &[&str], dir: &Path) -> String {
    String::from_utf8_lossy(&ok_in(&bin(), args, dir).stderr).into_owned()
}

/// Runs `exe` with `args` in `dir`, expects it to fail with `part` in its
/// error output, and returns that output.
pub fn fails_with(exe: &Path, args: &[&str], dir: &Path, part: &str) -> String {
    let o = coinfer_in(exe, args, dir);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!o.status.success() && err.contains(part), "{args:?}: {err}");
    err
}

/// Every file under `dir` (relative path → bytes), folders as empty entries.
pub fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            if p.is_dir() {
                out.insert(format!("{rel}/"), Vec::new());
                walk(root, &p, out);
            } else {
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}
