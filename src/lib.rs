//! coinfer: a deterministic discrete-event simulator of quantization-aware
//! collaborative inference of large AI models on embodied agents.
//!
//! ```text
//! scenarios/x.ron --Scenario::load--> Scenario (validated) --sweep::points--> points
//! Runner: for each (point, policy, seed), in parallel:
//!     World (agents, links, server; random streams of the seed)
//!     engine::run(&mut World, &mut dyn Policy, &mut RunMetrics) -> RunSummary
//!     (batches of runs also go to OUT/shards/ for --resume and `coinfer merge`)
//! points --report::aggregate / paired--> summary.csv, paired.csv, summary.json
//! result files --report::figures--> plots/*.svg, *.png, *.csv
//! ```
//!
//! Where things live: `model` (agents, links, compute units, server, model
//! profile), `engine` (the event loop), `policy` (decisions and their solvers),
//! `quant` (quantizers, bounds, profiles), `scenario` (files, validation,
//! sweeps), `runner` and `shard` (Monte Carlo, partial results), `report` and
//! `plot` (statistics, files, figures), `cli` (the commands).
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
pub mod units;
