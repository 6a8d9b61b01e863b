//! Monte Carlo: every (policy × seed) run of a scenario, in parallel across
//! runs, each run single-threaded; results gathered in a fixed order so they
//! do not depend on the thread count.

use crate::engine;
use crate::metrics::{RunMetrics, RunSummary};
use crate::policy::Registry;
use crate::quant::ProfileError;
use crate::rng::{stream, Purpose, StreamId};
use crate::scenario::Scenario;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use std::io::IsTerminal;

/// All runs of one policy, in seed order.
#[derive(Debug)]
pub struct PolicyRuns {
    /// The policy's label.
    pub label: String,
    /// One summary per seed, in seed order.
    pub runs: Vec<RunSummary>,
}

/// Configures and runs the Monte Carlo of a scenario.
#[derive(Debug)]
pub struct Runner<'s> {
    scenario: &'s Scenario,
    registry: Registry,
    threads: usize,
    seeds: u32,
    progress: bool,
}

impl<'s> Runner<'s> {
    /// A runner with the scenario's seeds, all cores, no progress bar.
    pub fn new(scenario: &'s Scenario) -> Self {
        Runner {
            scenario,
            registry: Registry::default(),
            threads: 0,
            seeds: scenario.seeds,
            progress: false,
        }
    }

    /// Uses `registry` to build the scenario's policies.
    pub fn registry(mut self, registry: Registry) -> Self {
        self.registry = registry;
        self
    }

    /// Number of worker threads (0: one per core).
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = n;
        self
    }

    /// Number of seeds per policy, overriding the scenario's.
    pub fn seeds(mut self, n: u32) -> Self {
        self.seeds = n;
        self
    }

    /// Shows a progress bar on stderr when it is a terminal.
    pub fn progress(mut self, on: bool) -> Self {
        self.progress = on;
        self
    }

    /// Runs everything. Fails only if the model's weights file cannot be
    /// read; panics only on a broken invariant (a bug).
    pub fn run(self) -> Result<Vec<PolicyRuns>, ProfileError> {
        let sc = self.scenario;
        let factories = sc
            .policy_factories(&self.registry)
            .unwrap_or_else(|(i, f, m)| panic!("scenario was validated, yet policies[{i}].{f}: {m}"));
        let system = sc.system();
        let seeds: Vec<u64> = (0..self.seeds as u64).map(|i| sc.base_seed + i).collect();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.threads)
            .build()
            .expect("thread pool");
        // Measured distortion: once per seed, shared by every policy.
        let measured = pool.install(|| sc.measured_tables(&system.laim, &seeds))?;
        let jobs: Vec<(usize, usize)> = (0..factories.len())
            .flat_map(|p| (0..seeds.len()).map(move |s| (p, s)))
            .collect();
        let bar = if self.progress && std::io::stderr().is_terminal() {
            let b = ProgressBar::with_draw_target(Some(jobs.len() as u64), ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template("{bar:30} {pos}/{len} runs  {per_sec}  eta {eta}")
                    .expect("valid template"),
            );
            b
        } else {
            ProgressBar::hidden()
        };
        let window_s = sc.horizon_s - sc.warmup_s;
        let run_one = |&(p, s): &(usize, usize)| {
            let seed = seeds[s];
            let mut world = sc.world(&system, seed);
            let mut policy = factories[p]
                .1
                .build(stream(seed, StreamId::new(Purpose::Policy, 0)));
            let mut metrics = RunMetrics::new(&system, &measured[s]);
            let outcome = engine::run(&mut world, policy.as_mut(), &mut metrics);
            bar.inc(1);
            metrics.finish(seed, &outcome, system.workers, window_s)
        };
        let mut summaries = pool
            .install(|| jobs.par_iter().map(run_one).collect::<Vec<_>>())
            .into_iter();
        bar.finish_and_clear();
        Ok(factories
            .iter()
            .map(|(label, _)| PolicyRuns {
                label: label.clone(),
                runs: summaries.by_ref().take(seeds.len()).collect(),
            })
            .collect())
    }
}
