//! Shared helpers: scenarios from inline RON, single runs with a recorder.

use coinfer::engine::Recorder;
use coinfer::engine::{self, Outcome};
use coinfer::policy::Registry;
use coinfer::rng::{stream, Purpose, StreamId};
use coinfer::scenario::Scenario;
use coinfer::units::Bits;
use std::path::PathBuf;

/// The bit-width `b`; panics outside `2..=16`.
pub fn bw(b: u8) -> Bits {
    Bits::new(b).unwrap_or_else(|| panic!("invalid bit-width {b}"))
}

/// A validated scenario from RON text.
pub fn scenario(text: &str) -> Scenario {
    Scenario::from_str_with("test.ron".as_ref(), text, &Registry::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs one seed of the first policy of `sc` with `recorder`.
pub fn run_one(sc: &Scenario, seed: u64, recorder: &mut dyn Recorder) -> Outcome {
    let system = sc.system();
    let mut world = sc.world(&system, seed);
    let factories = sc.policy_factories(&Registry::default()).expect("valid");
    let mut policy = factories[0]
        .1
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
