//! Decision policies: map what an agent knows when a request arrives to a
//! decision `(b_a, b_s, f_a, f_s)` (SPEC 5).
//!
//! A policy has two parts: a [`PolicyFactory`], `Send + Sync` configuration
//! built once from the scenario, and a [`Policy`], per-run state built by the
//! factory for each run with the run's own policy random stream (and no other:
//! a policy cannot disturb the arrivals or channels of a seed). The
//! [`Registry`] maps the names written in scenario files to factories; users
//! add a policy by implementing the two traits and registering a name.

mod fixed;
mod optimizers;
mod problem;
pub mod solver;

pub use fixed::Fixed;
pub use optimizers::{
    mgc_wait, Exhaustive, MaxFreqBits, MinEnergy, PaperJoint, PaperJointRepaired, QueueAware, RandomFeasible,
};
pub use problem::{predict, problem, ChannelView, Objective, OnInfeasible, Options};

pub use crate::model::Decision;
use crate::model::System;
use crate::units::{Bits, BitsPerSec, Hertz, SimTime};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use solver::Evaluation;
use std::fmt::Debug;

/// What the server lets agents observe when they decide.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ServerView {
    /// Requests waiting in the server queue.
    pub queue_len: usize,
    /// Workers currently serving.
    pub busy_workers: u32,
    /// Total workers.
    pub workers: u32,
    /// Exponentially smoothed server queueing wait of recently served
    /// requests (weight 0.1 per request), s.
    pub recent_wait_s: f64,
}

/// Everything a policy may use to decide on one request.
#[derive(Clone, Copy, Debug)]
pub struct DecisionContext<'a> {
    /// Decision time (the request's arrival).
    pub now: SimTime,
    /// Index of the deciding agent.
    pub agent: u32,
    /// The static system: model profile, compute units, budgets, distortion tables.
    pub system: &'a System,
    /// The agent's estimate of its uplink rate at decision time (its
    /// channel estimate, see `channel.csi_delay_s` and `csi_error_db`).
    pub rate: BitsPerSec,
    /// Mean SNR at the agent's current position (path loss and shadowing,
    /// no fading), linear. The fading law and coherence are in
    /// `system.channel`.
    pub mean_snr: f64,
    /// The observable server state.
    pub server: ServerView,
    /// The agent's own queue ahead of this request.
    pub backlog: Backlog,
    /// The agent's current compute clock (DVFS state): another one costs
    /// `system.agent_cpu.switch_latency` and `switch_energy`.
    pub agent_clock: Hertz,
    /// Energy left in the agent's battery, J (`None`: no battery).
    pub battery_j: Option<f64>,
}

/// The agent's own work ahead of a new request.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Backlog {
    /// Requests waiting for the compute unit (not counting the one computing).
    pub compute_queue: u32,
    /// Requests waiting for the radio (not counting the one transmitting).
    pub radio_queue: u32,
    /// Time until the compute unit is free of the requests ahead, s.
    pub compute_s: f64,
    /// Time until the radio is free of the requests ahead (their
    /// transmissions at the estimated rate, after their compute), s.
    pub radio_s: f64,
    /// The wait this request faces beyond its own compute and uplink,
    /// `max(compute_s, radio_s)`: exact when the radio is free by the time
    /// its compute ends, conservative otherwise (its own compute then
    /// overlaps part of the radio's backlog), s.
    pub wait_s: f64,
}

impl<'a> DecisionContext<'a> {
    /// The paper's one-shot static problem: agent 0 at time 0 whose uplink
    /// has SNR `snr` (linear, fading included), an idle server.
    pub fn one_shot(system: &'a System, snr: f64) -> Self {
        DecisionContext {
            now: SimTime::ZERO,
            agent: 0,
            system,
            rate: system.channel.rate(snr),
            mean_snr: snr,
            server: ServerView {
                workers: system.workers,
                ..ServerView::default()
            },
            backlog: Backlog::default(),
            agent_clock: system.agent_cpu.max_freq(),
            battery_j: None,
        }
    }
}

/// Per-run decision state.
pub trait Policy {
    /// Decides on one request.
    fn decide(&mut self, ctx: &DecisionContext) -> Decision;

    /// Decides on one request and gives the static model's prediction of
    /// the decision ([`predict`]), which the engine records. A policy that
    /// evaluates that prediction anyway returns it instead of having it
    /// computed twice.
    fn decide_predicted(&mut self, ctx: &DecisionContext) -> (Decision, Evaluation) {
        let d = self.decide(ctx);
        (d, predict(ctx, &d))
    }
}

/// A policy's configuration; builds per-run state.
pub trait PolicyFactory: Send + Sync + Debug {
    /// The per-run policy, handed its own random stream.
    fn build(&self, rng: ChaCha8Rng) -> Box<dyn Policy>;

    /// Whether the policy chooses bits on both sides of the split, and so
    /// needs blocks on both (`0 < split < L`). Default: true.
    fn needs_both_sides(&self) -> bool {
        true
    }
}

/// A policy as written in a scenario: a registered name and its options.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    /// Registered policy name (see [`Registry::names`]).
    pub name: String,
    /// Name in result files (default: the name, plus the bits for `fixed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Agent bit-width for policies with given bits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bits_agent: Option<Bits>,
    /// Server bit-width for policies with given bits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bits_server: Option<Bits>,
    /// What optimising policies minimise (default `upper`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objective: Option<Objective>,
    /// Cap on the bound gap `D_out,U − D_out,L` (default: none).
    #[serde(
        default,
        deserialize_with = "crate::check::non_negative_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub gap_max: Option<f64>,
    /// Smallest bit-width an optimising policy may choose (default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bits_min: Option<Bits>,
    /// What an optimising policy does when nothing is feasible (default
    /// `LowestBits`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_infeasible: Option<OnInfeasible>,
    /// Largest bit-width an optimising policy may choose (default 16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bits_max: Option<Bits>,
    /// The uplink rate an optimising policy plans with (default `Instant`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_view: Option<ChannelView>,
}

impl PolicySpec {
    /// The option fields that are set, by name.
    fn options_set(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.bits_agent.is_some() {
            v.push("bits_agent");
        }
        if self.bits_server.is_some() {
            v.push("bits_server");
        }
        if self.objective.is_some() {
            v.push("objective");
        }
        if self.gap_max.is_some() {
            v.push("gap_max");
        }
        if self.bits_min.is_some() {
            v.push("bits_min");
        }
        if self.bits_max.is_some() {
            v.push("bits_max");
        }
        if self.on_infeasible.is_some() {
            v.push("on_infeasible");
        }
        if self.channel_view.is_some() {
            v.push("channel_view");
        }
        v
    }

    /// The optimising options, defaults filled in.
    pub fn options(&self) -> Result<Options, (&'static str, String)> {
        let d = Options::default();
        let o = Options {
            objective: self.objective.unwrap_or(d.objective),
            gap_max: self.gap_max,
            bits_min: self.bits_min.unwrap_or(d.bits_min),
            bits_max: self.bits_max.unwrap_or(d.bits_max),
            on_infeasible: self.on_infeasible.unwrap_or(d.on_infeasible),
            channel_view: self.channel_view.unwrap_or(d.channel_view),
        };
        if let ChannelView::Outage { eps } = o.channel_view {
            if !(eps > 0.0 && eps < 1.0) {
                return Err((
                    "channel_view",
                    format!("invalid outage probability eps = {eps}: expected 0 < eps < 1"),
                ));
            }
        }
        if o.bits_min > o.bits_max {
            return Err((
                "bits_min",
                format!(
                    "bits_min = {} is above bits_max = {}: expected bits_min <= bits_max",
                    o.bits_min, o.bits_max
                ),
            ));
        }
        Ok(o)
    }
}

/// A policy's label (its name in result files) and factory.
pub type NamedFactory = (String, Box<dyn PolicyFactory>);

/// Builds a factory from a spec, or names the bad option and says what is wrong.
pub type Constructor = fn(&PolicySpec) -> Result<NamedFactory, (&'static str, String)>;

#[derive(Debug)]
struct Entry {
    name: &'static str,
    options: &'static [&'static str],
    build: Constructor,
}

/// Maps policy names to constructors.
#[derive(Debug)]
pub struct Registry {
    entries: Vec<Entry>,
}

impl Default for Registry {
    /// The built-in policies.
    fn default() -> Self {
        let mut r = Registry { entries: Vec::new() };
        const OPT: &[&str] = &[
            "objective",
            "gap_max",
            "bits_min",
            "bits_max",
            "on_infeasible",
            "channel_view",
        ];
        r.register("fixed", &["bits_agent", "bits_server"], fixed::construct);
        r.register("max_freq_bits", OPT, optimizers::max_freq_bits);
        r.register(
            "min_energy",
            &["bits_agent", "bits_server"],
            optimizers::min_energy,
        );
        r.register("paper_joint", OPT, optimizers::paper_joint);
        r.register("paper_joint_repaired", OPT, optimizers::paper_joint_repaired);
        r.register("exhaustive", OPT, optimizers::exhaustive);
        r.register("queue_aware", OPT, optimizers::queue_aware);
        r.register("random", OPT, optimizers::random);
        r
    }
}

impl Registry {
    /// Registers a policy under `name`, accepting the listed options.
    pub fn register(&mut self, name: &'static str, options: &'static [&'static str], build: Constructor) {
        self.entries.retain(|e| e.name != name);
        self.entries.push(Entry { name, options, build });
    }

    /// Registered names, in registration order.
    pub fn names(&self) -> Vec<&'static str> {
        self.entries.iter().map(|e| e.name).collect()
    }

    /// Builds `(label, factory)` for a spec. Errors name the bad field and list
    /// what is valid.
    pub fn build(&self, spec: &PolicySpec) -> Result<NamedFactory, (&'static str, String)> {
        let Some(entry) = self.entries.iter().find(|e| e.name == spec.name) else {
            return Err((
                "name",
                format!(
                    "unknown policy \"{}\": expected one of {}",
                    spec.name,
                    self.names().join(", ")
                ),
            ));
        };
        for opt in spec.options_set() {
            if !entry.options.contains(&opt) {
                return Err((
                    opt,
                    format!(
                        "option `{opt}` does not apply to policy `{}`; its options are: label{}{}",
                        entry.name,
                        if entry.options.is_empty() { "" } else { ", " },
                        entry.options.join(", ")
                    ),
                ));
            }
        }
        let (default_label, factory) = (entry.build)(spec)?;
        Ok((spec.label.clone().unwrap_or(default_label), factory))
    }
}
