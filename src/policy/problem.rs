//! The one-request decision problem of the paper, as seen from a decision
//! context: compute units, distortion tables, the channel rate estimate, the
//! budgets and the options of the deciding policy.

use super::solver::{Evaluation, Problem, Side};
use super::{Decision, DecisionContext};
use crate::model::cpu::Cpu;
use crate::model::distortion::DistortionTable;
use crate::model::laim::Side as ModelSide;
use crate::model::server::Batching;
use crate::model::System;
use crate::units::{Bits, BitsPerSec};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// What the optimising policies minimise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// The output upper bound `D_out,U` (default, as in the paper).
    #[default]
    Upper,
    /// The approximation `Σ A_l n_l d_l(b)` with the scenario quantizer's
    /// distortion on reference weights of each block's law.
    Approx,
    /// The output lower bound `D_out,L`.
    Lower,
}

/// What an optimising policy does when no decision meets the deadline, the
/// budget and the gap cap.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum OnInfeasible {
    /// The lowest bits at the highest frequencies (default): the fastest
    /// decision, whatever it costs.
    #[default]
    LowestBits,
    /// The fastest decision that keeps the energy budget (the lowest bits,
    /// the highest agent frequency within the budget); the lowest bits at the
    /// highest frequencies when even that breaks the budget.
    FastestFeasibleLatency,
    /// Do not process the frame: it is counted in `skip_rate`.
    Skip,
}

/// Which uplink rate an optimising policy plans the transmission with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum ChannelView {
    /// The channel estimate at decision time (default).
    #[default]
    Instant,
    /// The mean SNR at the agent's position, ignoring fading.
    Mean,
    /// The rate one block's fading exceeds with probability `1 − eps`, so a
    /// transmission within one block is at least that fast with that
    /// probability (`0 < eps < 1`): for coherence longer than a transmission.
    Outage {
        /// Outage probability.
        eps: f64,
    },
    /// The ergodic rate `B·E[log2(1 + γ̄h)]` over the fading law at the
    /// mean SNR: what a transmission spanning many independent blocks gets.
    Ergodic,
}

impl ChannelView {
    /// The rate planned with at the decision `ctx`.
    pub fn rate(&self, ctx: &DecisionContext) -> BitsPerSec {
        let ch = &ctx.system.channel;
        match *self {
            ChannelView::Instant => ctx.rate,
            ChannelView::Mean => ch.rate(ctx.mean_snr),
            ChannelView::Outage { eps } => ch.rate(ctx.mean_snr * ch.fading.quantile(eps)),
            ChannelView::Ergodic => {
                let q = &ctx.system.fading_quantiles;
                let mean = q.iter().map(|h| (1.0 + ctx.mean_snr * h).log2()).sum::<f64>() / q.len() as f64;
                BitsPerSec(ch.bandwidth_hz * mean)
            }
        }
    }
}

/// Options shared by the optimising policies.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Options {
    /// What to minimise.
    pub objective: Objective,
    /// Optional cap on `D_out,U − D_out,L`.
    pub gap_max: Option<f64>,
    /// Smallest bit-width allowed.
    pub bits_min: Bits,
    /// Largest bit-width allowed.
    pub bits_max: Bits,
    /// The fallback when nothing is feasible.
    pub on_infeasible: OnInfeasible,
    /// The uplink rate the transmission is planned with.
    pub channel_view: ChannelView,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            objective: Objective::Upper,
            gap_max: None,
            bits_min: Bits::MIN,
            bits_max: Bits::MAX,
            on_infeasible: OnInfeasible::LowestBits,
            channel_view: ChannelView::Instant,
        }
    }
}

fn side<'a>(
    system: &'a System,
    cpu: &'a Cpu,
    which: ModelSide,
    table: &'a DistortionTable,
    clock_now: Option<f64>,
) -> Side<'a> {
    let constants = &system.sides[which as usize];
    Side {
        cpu: Cow::Borrowed(cpu),
        weights: constants.params,
        distortion: Cow::Borrowed(table.side_values(which)),
        gap: Cow::Borrowed(&constants.gap),
        relaxed_weight: constants.relaxed_weight,
        clock_now,
    }
}

/// The decision problem of the request in `ctx`, with the policy's options
/// and a predicted server wait (0 for the paper's static design). The
/// agent's backlog delays its compute and its uplink ([`Backlog`]), and a
/// clock other than the agent's current one costs the switch latency and
/// energy.
///
/// [`Backlog`]: super::Backlog
pub fn problem<'a>(ctx: &DecisionContext<'a>, opts: &Options, server_wait_s: f64) -> Problem<'a> {
    problem_at_rate(ctx, opts, server_wait_s, opts.channel_view.rate(ctx))
}

/// [`problem`] with the transmission planned at `rate`.
pub(super) fn problem_at_rate<'a>(
    ctx: &DecisionContext<'a>,
    opts: &Options,
    server_wait_s: f64,
    rate: BitsPerSec,
) -> Problem<'a> {
    let s = ctx.system;
    let table = match opts.objective {
        Objective::Upper => &s.upper,
        Objective::Approx => &s.approx,
        Objective::Lower => &s.lower,
    };
    let tx_time_s = if s.laim.payload_bits > 0.0 {
        s.laim.payload_bits / rate.0
    } else {
        0.0
    };
    let (batch_scale, batch_wait_s) = batch_view(ctx);
    let mut server = side(s, &s.server_cpu, ModelSide::Server, table, None);
    server.weights *= batch_scale;
    Problem {
        agent: side(s, &s.agent_cpu, ModelSide::Agent, table, Some(ctx.agent_clock.0)),
        server,
        tx_time_s,
        tx_energy_j: s.tx_power.0 * tx_time_s,
        server_wait_s: server_wait_s + batch_wait_s,
        agent_wait_s: ctx.backlog.compute_s,
        radio_free_s: ctx.backlog.radio_s,
        deadline_s: s.deadline.as_secs(),
        energy_budget_j: s.energy_budget.0,
        bits_min: opts.bits_min,
        bits_max: opts.bits_max,
        gap_max: opts.gap_max,
        relaxed_scale: if opts.objective == Objective::Lower {
            0.5
        } else {
            1.0
        },
    }
}

/// How batching changes a request's service, as seen at decision time: it
/// is expected to join the requests waiting now, in a batch of
/// `k = min(max_batch, waiting + 1)` taking `1 + beta (k − 1)` times its own
/// time (the scale returned), and to wait `max_wait_s` for a batch that does
/// not fill. `(1, 0)` without batching.
fn batch_view(ctx: &DecisionContext) -> (f64, f64) {
    match ctx.system.batching {
        Batching::None => (1.0, 0.0),
        Batching::Batch {
            max_batch,
            max_wait_s,
            beta,
        } => {
            let k = (ctx.server.queue_len + 1).min(max_batch as usize);
            let wait = if k < max_batch as usize { max_wait_s } else { 0.0 };
            (1.0 + beta * (k - 1) as f64, wait)
        }
    }
}

/// The static model's prediction of a decision at the frequencies the units
/// really run (no queueing, the rate the decision assumed, else the
/// estimate at decision time, for the whole transmission).
pub fn predict(ctx: &DecisionContext, d: &Decision) -> Evaluation {
    let s = ctx.system;
    let run = Decision {
        freq_agent: s.agent_cpu.clamp(d.freq_agent),
        freq_server: s.server_cpu.clamp(d.freq_server),
        ..*d
    };
    let rate = d.assumed_rate.unwrap_or(ctx.rate);
    problem_at_rate(ctx, &Options::default(), 0.0, rate).evaluate(&run)
}
