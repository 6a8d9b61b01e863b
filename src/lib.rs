//! coinfer: a deterministic discrete-event simulator of quantization-aware
//! collaborative inference of large AI models on embodied agents.
//!
//! ```text
//! scenarios/x.ron --RawScenario::load--> RawScenario (the file, every field defaulted)
//!     --Study::compile--> Study (resolved, validated; per point: System; policies; seed plan)
//! Runner: for each (point, policy, seed), in parallel:
//!     StudyPoint::world(seed) (agents, links, server; random streams of the seed)
//!     engine::run(&mut World, &mut dyn Policy, &mut RunMetrics) -> RunSummary
//!     (batches of runs also go to OUT/shards/ for reruns and `coinfer merge`)
//! points --report::write_results--> summary.csv, paired.csv, summary.json, plots/
//! ```
//!
//! Where things live, lowest layer first (a module uses only lower ones;
//! `tests/layers.rs` checks it): `units`, `rng`, `fsio`, `check`, `queue`;
//! `quant` (quantizers, bounds, profiles) and `plot`; `model` (agents, links,
//! compute units, server, model profile, decisions); `policy` (decision
//! policies and their solvers); `engine` (the event loop); `metrics` (per-run
//! and per-point results); `scenario` (files) and `study` (compiled
//! scenarios, sweeps); `shard` and `runner` (Monte Carlo, partial results);
//! `report` (statistics files, figures); `cli` (the commands).
//!
//! A run, end to end, from an inline scenario:
//!
//! ```
//! use coinfer::{policy::Registry, runner::Runner, study::Study};
//! let text = r#"(name: "doc", horizon_s: 2.0, seeds: 2,
//!               policies: [(name: "fixed", bits_agent: 4, bits_server: 4)])"#;
//! let study = Study::from_str("doc.ron".as_ref(), text, &Registry::default()).unwrap();
//! let results = Runner::new(&study).threads(1).run().unwrap();
//! let rows = coinfer::report::aggregate(&results.points);
//! assert_eq!(rows[0].policy, "fixed_4_4");
//! assert!(rows[0].completed > 0);
//! ```
#![warn(missing_docs)]

pub(crate) mod check;
pub mod cli;
pub mod engine;
pub mod fsio;
pub mod metrics;
pub mod model;
pub mod plot;
pub mod policy;
pub mod quant;
pub mod queue;
pub mod report;
pub mod rng;
pub mod runner;
pub mod scenario;
pub mod shard;
pub mod study;
pub mod units;
