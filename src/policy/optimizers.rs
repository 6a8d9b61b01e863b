//! The optimising policies (SPEC 5): each builds the request's decision
//! problem from its context and hands it to a solver. When no decision is
//! feasible they return the best effort (lowest bits, highest frequencies)
//! marked infeasible.
//!
//! | name | solver |
//! | --- | --- |
//! | `max_freq_bits` | maximum frequencies, best bits meeting both budgets |
//! | `min_energy` | given bits, the lowest-energy frequencies meeting the deadline |
//! | `paper_joint` | continuous relaxation, bits rounded to nearest, frequencies up |
//! | `paper_joint_repaired` | `paper_joint`, then the best feasible decision in the nearest integer neighbourhood |
//! | `exhaustive` | exact integer optimum |
//! | `queue_aware` | exact optimum with the predicted M/G/c server wait of each server bit-width |
//! | `random` | uniform over feasible decisions, from the policy's own stream |

use super::problem::{problem, problem_at_rate, ChannelView, OnInfeasible, Options};
use super::solver::{self, best_effort};
use super::{Decision, DecisionContext, NamedFactory, Policy, PolicyFactory, PolicySpec};
use crate::units::{Bits, BitsPerSec};
use rand_chacha::ChaCha8Rng;

/// A solver's feasible decision, or the policy's fallback (`on_infeasible`),
/// marked infeasible.
fn or_fallback(decision: Option<Decision>, p: &solver::Problem, on: OnInfeasible) -> Decision {
    decision.unwrap_or_else(|| match on {
        OnInfeasible::LowestBits => best_effort(p),
        OnInfeasible::FastestFeasibleLatency => {
            solver::fastest_within_budget(p).unwrap_or_else(|| best_effort(p))
        }
        OnInfeasible::Skip => Decision {
            skip: true,
            ..best_effort(p)
        },
    })
}

/// The request's problem under `options`, with the uplink rate it plans the
/// transmission with (the decision's `assumed_rate`), computed once.
fn planned<'a>(ctx: &DecisionContext<'a>, options: &Options) -> (solver::Problem<'a>, BitsPerSec) {
    let rate = options.channel_view.rate(ctx);
    (problem_at_rate(ctx, options, 0.0, rate), rate)
}

/// Label suffix for non-default options, e.g. `exhaustive[lower,gap<=0.01]`.
fn label(name: &str, o: &Options) -> String {
    let mut parts = Vec::new();
    if o.objective != Default::default() {
        parts.push(format!("{:?}", o.objective).to_lowercase());
    }
    if let Some(g) = o.gap_max {
        parts.push(format!("gap<={g}"));
    }
    if (o.bits_min, o.bits_max) != (Bits::MIN, Bits::MAX) {
        parts.push(format!("bits{}-{}", o.bits_min, o.bits_max));
    }
    if o.on_infeasible != OnInfeasible::default() {
        parts.push(format!("{:?}", o.on_infeasible).to_lowercase());
    }
    match o.channel_view {
        ChannelView::Instant => {}
        ChannelView::Mean => parts.push("mean".into()),
        ChannelView::Ergodic => parts.push("ergodic".into()),
        ChannelView::Outage { eps } => parts.push(format!("outage{eps}")),
    }
    if parts.is_empty() {
        name.to_string()
    } else {
        format!("{name}[{}]", parts.join(","))
    }
}

macro_rules! optimizer {
    ($(#[$doc:meta])* $ty:ident, $name:literal, $ctor:ident, |$self:ident, $ctx:ident, $p:ident| $body:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub struct $ty {
            /// Objective, gap cap and bits range.
            pub options: Options,
        }

        pub(super) fn $ctor(spec: &PolicySpec) -> Result<NamedFactory, (&'static str, String)> {
            let options = spec.options()?;
            Ok((label($name, &options), Box::new($ty { options })))
        }

        impl PolicyFactory for $ty {
            fn build(&self, _rng: ChaCha8Rng) -> Box<dyn Policy> {
                Box::new(*self)
            }
        }

        impl Policy for $ty {
            fn decide(&mut self, ctx: &DecisionContext) -> Decision {
                let ($self, $ctx) = (&*self, ctx);
                let ($p, rate) = planned($ctx, &$self.options);
                let decision: Decision = $body;
                Decision {
                    assumed_rate: Some(rate),
                    ..decision
                }
            }
        }
    };
}

optimizer!(
    /// Maximum frequencies; the best bits that meet both budgets there.
    MaxFreqBits, "max_freq_bits", max_freq_bits, |s, ctx, p| or_fallback(solver::max_freq_bits(&p), &p, s.options.on_infeasible)
);

optimizer!(
    /// The paper's joint design: the continuous relaxation solved exactly,
    /// bits rounded to nearest and frequencies up to the next state.
    PaperJoint, "paper_joint", paper_joint, |s, ctx, p| {
        let r = solver::paper_joint(&p);
        match r.relaxed {
            Some(_) => r.decision,
            None => or_fallback(None, &p, s.options.on_infeasible),
        }
    }
);

optimizer!(
    /// `paper_joint`, repaired: after rounding, the best feasible decision in
    /// the smallest integer neighbourhood (bits, with their lowest-energy
    /// frequency states) of the rounded one that holds any (beyond the paper).
    PaperJointRepaired, "paper_joint_repaired", paper_joint_repaired, |s, ctx, p| {
        let rounded = solver::paper_joint(&p).decision;
        or_fallback(solver::repair(&p, &rounded), &p, s.options.on_infeasible)
    }
);

optimizer!(
    /// The exact integer optimum over all bit and frequency states.
    Exhaustive, "exhaustive", exhaustive, |s, ctx, p| or_fallback(solver::exhaustive(&p), &p, s.options.on_infeasible)
);

/// `exhaustive` with the predicted server wait of each server bit-width
/// taken off the delay budget (beyond the paper): the wait is the M/G/c
/// approximation (Erlang C scaled by `(1 + c_s²)/2`) at the offered
/// request rate, as if every request used that bit-width.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QueueAware {
    /// Objective, gap cap and bits range.
    pub options: Options,
}

pub(super) fn queue_aware(spec: &PolicySpec) -> Result<NamedFactory, (&'static str, String)> {
    let options = spec.options()?;
    Ok((label("queue_aware", &options), Box::new(QueueAware { options })))
}

impl PolicyFactory for QueueAware {
    fn build(&self, _rng: ChaCha8Rng) -> Box<dyn Policy> {
        Box::new(QueueAwareRun {
            options: self.options,
            order: Vec::new(),
        })
    }
}

/// `queue_aware` during a run.
#[derive(Debug)]
struct QueueAwareRun {
    options: Options,
    /// The bit pairs from the most preferred: least objective, then fewest
    /// bits, then scan order. The objective's tables and the bits range are
    /// fixed for a run, so it is sorted once, at the first request.
    order: Vec<(Bits, Bits)>,
}

impl Policy for QueueAwareRun {
    /// The first pair in preference order that is feasible with its
    /// server wait: the least-objective feasible pair, found without
    /// solving for every pair.
    fn decide(&mut self, ctx: &DecisionContext) -> Decision {
        let (p, rate) = planned(ctx, &self.options);
        if self.order.is_empty() {
            self.order = preference_order(&p);
        }
        let sys = ctx.system;
        let mut waits = [None; 17];
        let found = self.order.iter().find_map(|&(ba, bs)| {
            let wait = *waits[usize::from(bs)].get_or_insert_with(|| {
                let service_s = p.server.cycles(bs) / p.server.cpu.freqs.max();
                mgc_wait(sys.request_rate_hz, service_s, sys.workers, sys.service_scv)
            });
            if !wait.is_finite() {
                return None;
            }
            let pw = solver::Problem {
                server_wait_s: wait,
                ..p.clone()
            };
            solver::min_energy(&pw, ba, bs).filter(|c| c.feasible)
        });
        let decision = or_fallback(found, &p, self.options.on_infeasible);
        Decision {
            assumed_rate: Some(rate),
            ..decision
        }
    }
}

/// Every bit pair of `p`'s range, sorted by objective, then total bits, then
/// server and agent bits.
fn preference_order(p: &solver::Problem) -> Vec<(Bits, Bits)> {
    let bits = || Bits::range(p.bits_min, p.bits_max);
    let mut order: Vec<(Bits, Bits)> = bits().flat_map(|bs| bits().map(move |ba| (ba, bs))).collect();
    order.sort_by(|&(a1, s1), &(a2, s2)| {
        let key = |a: Bits, s: Bits| (p.objective(a, s), a.get() + s.get(), s, a);
        let (k1, k2) = (key(a1, s1), key(a2, s2));
        k1.0.total_cmp(&k2.0)
            .then((k1.1, k1.2, k1.3).cmp(&(k2.1, k2.2, k2.3)))
    });
    order
}

/// Mean queueing wait of an M/G/c queue with arrival rate `lambda`, mean
/// service `s`, `c` servers and service SCV `scv`: Erlang C times
/// `s / (c (1 − ρ))`, scaled by `(1 + scv)/2` (Allen–Cunneen). Infinite when
/// `ρ ≥ 1`.
pub fn mgc_wait(lambda: f64, s: f64, c: u32, scv: f64) -> f64 {
    let a = lambda * s;
    let rho = a / c as f64;
    if rho >= 1.0 {
        return f64::INFINITY;
    }
    let (mut term, mut sum) = (1.0, 0.0);
    for k in 0..c {
        if k > 0 {
            term *= a / k as f64;
        }
        sum += term;
    }
    let last = term * a / c as f64 / (1.0 - rho);
    let erlang_c = last / (sum + last);
    erlang_c * s / (c as f64 * (1.0 - rho)) * (1.0 + scv) / 2.0
}

/// Given bits; the lowest-energy frequencies that meet the deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MinEnergy {
    /// Agent bit-width.
    pub bits_agent: Bits,
    /// Server bit-width.
    pub bits_server: Bits,
}

pub(super) fn min_energy(spec: &PolicySpec) -> Result<NamedFactory, (&'static str, String)> {
    let m = MinEnergy {
        bits_agent: spec.bits_agent.unwrap_or(Bits::MAX),
        bits_server: spec.bits_server.unwrap_or(Bits::MAX),
    };
    Ok((
        format!("min_energy_{}_{}", m.bits_agent, m.bits_server),
        Box::new(m),
    ))
}

impl PolicyFactory for MinEnergy {
    fn build(&self, _rng: ChaCha8Rng) -> Box<dyn Policy> {
        Box::new(*self)
    }
}

impl Policy for MinEnergy {
    /// Feasible when the chosen frequencies also meet the energy budget;
    /// the highest frequencies, infeasible, when the deadline cannot be met.
    fn decide(&mut self, ctx: &DecisionContext) -> Decision {
        let p = problem(ctx, &Options::default(), 0.0);
        let (a, s) = (self.bits_agent, self.bits_server);
        solver::min_energy(&p, a, s).unwrap_or(Decision {
            feasible: false,
            ..Decision::new(a, s, p.agent.cpu.max_freq(), p.server.cpu.max_freq())
        })
    }
}

/// Configuration of `random`: uniform over feasible decisions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RandomFeasible {
    /// Objective (unused by the draw), gap cap and bits range.
    pub options: Options,
}

pub(super) fn random(spec: &PolicySpec) -> Result<NamedFactory, (&'static str, String)> {
    let options = spec.options()?;
    Ok((label("random", &options), Box::new(RandomFeasible { options })))
}

impl PolicyFactory for RandomFeasible {
    fn build(&self, rng: ChaCha8Rng) -> Box<dyn Policy> {
        Box::new(RandomRun {
            options: self.options,
            rng,
        })
    }
}

/// `random` during a run: draws from the policy's own stream only.
#[derive(Debug)]
struct RandomRun {
    options: Options,
    rng: ChaCha8Rng,
}

impl Policy for RandomRun {
    fn decide(&mut self, ctx: &DecisionContext) -> Decision {
        let p = problem(ctx, &self.options, 0.0);
        or_fallback(
            solver::random_feasible(&p, &mut self.rng),
            &p,
            self.options.on_infeasible,
        )
    }
}
