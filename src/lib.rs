//! coinfer: a deterministic discrete-event simulator of quantization-aware
//! collaborative inference of large AI models on embodied agents.
//!
//! ```text
//! scenarios/x.ron --Scenario::load--> Scenario (validated)
//! Scenario --Runner--> for each (policy, seed), in parallel:
//!     World (agents, links, server; random streams of the seed)
//!     engine::run(&mut World, &mut dyn Policy, &mut RunMetrics) -> RunSummary
//! Vec<RunSummary> --report::aggregate--> summary.csv, summary.json
//! ```
//!
//! A run, end to end, from an inline scenario:
//!
//! ```
//! use coinfer::{policy::Registry, runner::Runner, scenario::Scenario};
//! let text = r#"(name: "doc", horizon_s: 2.0, seeds: 2,
//!               policies: [(name: "fixed", bits_agent: 4, bits_server: 4)])"#;
//! let sc = Scenario::from_str_with("doc.ron".as_ref(), text, &Registry::default()).unwrap();
//! let study = Runner::new(&sc).threads(1).run().unwrap();
//! let rows = coinfer::report::aggregate(&study.points);
//! assert_eq!(rows[0].policy, "fixed_4_4");
//! assert!(rows[0].completed > 0);
//! ```
#![warn(missing_docs)]

pub mod check;
pub mod cli;
pub mod engine;
pub mod metrics;
pub mod model;
pub mod plot;
pub mod policy;
pub mod quant;
pub mod report;
pub mod rng;
pub mod runner;
pub mod scenario;
pub mod shard;
pub mod units;
