//! What is simulated: agents, their uplinks and compute units, the edge server,
//! the model split between them, and requests.
//!
//! [`System`] is the static part shared by all runs of a scenario point (model
//! profile, compute units, budgets, distortion tables). [`World`] is one run's
//! state: random processes of each agent, queues and workers.

pub mod agent;
pub mod cpu;
mod decision;
pub mod distortion;
pub mod laim;
pub mod link;
pub mod mobility;
pub mod request;
pub mod server;

use crate::quant::{sample_laplace, QuantizerKind};
use crate::rng::{stream, Purpose, StreamId};
use crate::units::{Joules, SimDuration, SimTime, Watts};
use agent::{Agents, ArrivalProcess};
use cpu::Cpu;
pub use decision::Decision;
use distortion::{Bound, DistortionTable, SideTables};
use laim::{Laim, Side};
use link::{Access, ChannelConfig, FadingProcess, Link};
use mobility::Trajectory;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use request::Request;
use serde::{Deserialize, Serialize};
use server::{Batching, ServerConfig, ServiceLaw, WaitingRoom};
use std::collections::VecDeque;

/// The static system: what every run of a scenario point shares.
#[derive(Clone, Debug)]
pub struct System {
    /// The model and its split.
    pub laim: Laim,
    /// The agents' compute unit.
    pub agent_cpu: Cpu,
    /// Each server worker's compute unit.
    pub server_cpu: Cpu,
    /// Agent transmit power.
    pub tx_power: Watts,
    /// The uplink's configuration (fading law, coherence, bandwidth, CSI).
    pub channel: ChannelConfig,
    /// The fading power gain at the mid-quantiles `(i + ½)/N` of its law
    /// (N = [`FADING_QUANTILES`]): expectations over fading by quadrature.
    pub fading_quantiles: Vec<f64>,
    /// Deadline of a request after its creation ([`SimDuration::MAX`]: none).
    pub deadline: SimDuration,
    /// Agent energy budget per request.
    pub energy_budget: Joules,
    /// Number of server workers.
    pub workers: u32,
    /// Mean request rate offered to the server by all agents, 1/s.
    pub request_rate_hz: f64,
    /// Squared coefficient of variation of the service-time factor.
    pub service_scv: f64,
    /// How server workers batch requests.
    pub batching: Batching,
    /// Output upper bound `D_out,U` per side and bits.
    pub upper: DistortionTable,
    /// What a decision needs of each side (`[agent, server]`).
    pub sides: [SideConstants; 2],
    /// Output lower bound `D_out,L` per side and bits.
    pub lower: DistortionTable,
    /// Output distortion approximation `Σ A_l n_l d_l(b)` with `d_l` the
    /// scenario quantizer's distortion on weights drawn from block `l`'s
    /// exponential law (a fixed reference sample, the same for every seed):
    /// what a policy can know before it sees the real weights.
    pub approx: DistortionTable,
}

/// What a decision needs of one side of the split, computed once per point
/// so that the per-request problem only borrows it.
#[derive(Debug, Clone, PartialEq)]
pub struct SideConstants {
    /// Weights `N_x` executed on the side.
    pub params: f64,
    /// Tightness gap `D_out,U − D_out,L` of the side per bit-width.
    pub gap: [f64; 17],
    /// The relaxed objective's weight `W_x` (of the upper bound).
    pub relaxed_weight: f64,
}

/// Which quantizer is applied to the model's weights, and on how many weights
/// per block its distortion is measured.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct QuantizerConfig {
    /// The quantizer (default `Uniform(group_size: None)`, per-tensor scale).
    pub kind: QuantizerKind,
    /// Weights per block on which distortion is measured: synthetic draws per
    /// seed, or the sample budget shared by the real tensors of the block
    /// (at least 4096 each, each tensor with its own scale; default 1e5).
    #[serde(deserialize_with = "crate::check::sample_count")]
    pub sample_weights: usize,
}

impl Default for QuantizerConfig {
    fn default() -> Self {
        QuantizerConfig {
            kind: QuantizerKind::Uniform { group_size: None },
            sample_weights: 100_000,
        }
    }
}

/// Number of fading quantiles in [`System::fading_quantiles`].
pub const FADING_QUANTILES: usize = 256;

/// Seed of the reference weight sample behind [`System::approx`].
const REFERENCE_SEED: u64 = 0x5EED_0FA4;

/// The table behind [`System::approx`]: the quantizer's distortion on a
/// fixed reference sample of each block's law (the same for every seed).
pub fn reference_table(laim: &Laim, quantizer: &QuantizerConfig) -> DistortionTable {
    synthetic_table(laim, quantizer, REFERENCE_SEED)
}

impl System {
    /// The static system of a scenario point, with its compute units built
    /// and its [`reference_table`] (shared by points with the same model and
    /// quantizer).
    pub fn new(
        laim: Laim,
        agent_cpu: Cpu,
        server_cpu: Cpu,
        agents: &Agents,
        channel: &ChannelConfig,
        server: &ServerConfig,
        approx: DistortionTable,
    ) -> System {
        let [upper, lower] = [laim.side_tables(Bound::Upper), laim.side_tables(Bound::Lower)];
        let table = |[a, s]: [SideTables; 2]| DistortionTable::from_sides(a.distortion, s.distortion);
        let side = |which: Side| SideConstants {
            params: laim.side_params(which),
            gap: std::array::from_fn(|b| {
                upper[which as usize].distortion[b] - lower[which as usize].distortion[b]
            }),
            relaxed_weight: upper[which as usize].relaxed_weight,
        };
        System {
            sides: [side(Side::Agent), side(Side::Server)],
            upper: table(upper),
            lower: table(lower),
            approx,
            laim,
            agent_cpu,
            server_cpu,
            tx_power: channel.tx_power(),
            channel: channel.clone(),
            fading_quantiles: (0..FADING_QUANTILES)
                .map(|i| {
                    channel
                        .fading
                        .quantile((i as f64 + 0.5) / FADING_QUANTILES as f64)
                })
                .collect(),
            deadline: agents
                .shared()
                .deadline_s
                .map_or(SimDuration::MAX, SimDuration::from_secs_round),
            energy_budget: Joules(agents.shared().energy_budget_j),
            workers: server.workers,
            request_rate_hz: agents.rate_hz(),
            service_scv: server.service.scv(),
            batching: server.batching,
        }
    }
}

/// The table of `Σ A_l n_l d_l(b)` with `d_l` measured on synthetic
/// Laplace(λ_l) weights drawn from the `Weights` streams of `seed`.
pub fn synthetic_table(laim: &Laim, quantizer: &QuantizerConfig, seed: u64) -> DistortionTable {
    let q = quantizer.kind.build();
    laim.quantizer_table(q.as_ref(), |l| {
        let mut rng = stream(seed, StreamId::new(Purpose::Weights, l as u32));
        sample_laplace(&mut rng, laim.blocks[l].lambda, quantizer.sample_weights)
    })
}

/// One agent during a run.
#[derive(Debug)]
pub struct Agent {
    /// Request arrival times.
    pub arrivals: ArrivalProcess,
    /// The uplink.
    pub link: Link,
    /// Stream of service-time factors of this agent's requests.
    pub service_rng: ChaCha8Rng,
    /// Requests waiting for the compute unit, oldest first.
    pub compute_queue: VecDeque<Request>,
    /// The request being computed.
    pub computing: Option<Request>,
    /// Requests waiting for the radio, oldest first.
    pub tx_queue: VecDeque<Request>,
    /// The request being transmitted.
    pub transmitting: Option<Request>,
    /// Shared uplink: bits of the current transmission left at `tx_since`.
    pub tx_left: f64,
    /// Shared uplink: when `tx_left` was last brought up to date.
    pub tx_since: SimTime,
    /// Version of the current transmission's end event (older ones are stale).
    pub tx_version: u32,
    /// When the request computing now finishes.
    pub compute_until: SimTime,
    /// When the request transmitting now is expected to finish.
    pub radio_until: SimTime,
    /// The battery, if the agent has one.
    pub battery: Option<Battery>,
    /// When the battery ran out (the agent then stops).
    pub dead_at: Option<SimTime>,
    /// Current DVFS state of the compute unit.
    pub freq: crate::units::Hertz,
    /// Requests created so far.
    pub created: u64,
}

/// An agent's battery.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Battery {
    /// Energy left at `at`, J.
    pub left_j: f64,
    /// Capacity, J.
    pub capacity_j: f64,
    /// When `left_j` was last brought up to date (static drain).
    pub at: SimTime,
    /// Version of the pending "battery empty" event (older ones are stale).
    pub version: u32,
}

/// One run's state.
#[derive(Debug)]
pub struct World<'a> {
    /// The static system.
    pub system: &'a System,
    /// The agents, indexed by agent id.
    pub agents: Vec<Agent>,
    /// Requests waiting for a server worker.
    pub server_queue: WaitingRoom<Request>,
    /// Server workers: the batch each one serves (empty: idle).
    pub workers: Vec<Vec<Request>>,
    /// How workers batch requests.
    pub batching: Batching,
    /// Requests whose result is on its way back to the agent.
    pub downlinks: Vec<Option<Request>>,
    /// The agents share one band ([`Access::SharedEqual`]).
    pub shared_uplink: bool,
    /// Service-time factor law.
    pub service: ServiceLaw,
    /// Frame-skipping limit of an agent's compute queue.
    pub max_queue: Option<u32>,
    /// End of the run.
    pub horizon: SimTime,
    /// End of the warm-up: requests created earlier are not counted.
    pub warmup: SimTime,
}

impl<'a> World<'a> {
    /// The initial state of the run with seed `seed`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        system: &'a System,
        agents: &Agents,
        channel: &ChannelConfig,
        server: &ServerConfig,
        horizon_s: f64,
        warmup_s: f64,
        seed: u64,
    ) -> World<'a> {
        let group_of = agents.group_of();
        let agents_vec = (0..group_of.len() as u32)
            .map(|i| {
                let group = &agents.0[group_of[i as usize] as usize];
                let shadow_db = if channel.path_loss.shadowing_db > 0.0 {
                    let z: f64 =
                        StandardNormal.sample(&mut stream(seed, StreamId::new(Purpose::Shadowing, i)));
                    z * channel.path_loss.shadowing_db
                } else {
                    0.0
                };
                let trajectory = Trajectory::new(
                    &group.mobility,
                    Some(stream(seed, StreamId::new(Purpose::Mobility, i))),
                );
                let fading = FadingProcess::new(
                    channel.fading,
                    channel.block_rho(),
                    stream(seed, StreamId::new(Purpose::Fading, i)),
                );
                Agent {
                    arrivals: ArrivalProcess::new(
                        &group.arrivals,
                        stream(seed, StreamId::new(Purpose::Arrivals, i)),
                    ),
                    link: Link::new(
                        channel,
                        shadow_db,
                        trajectory,
                        fading,
                        stream(seed, StreamId::new(Purpose::Csi, i)),
                    ),
                    service_rng: stream(seed, StreamId::new(Purpose::Service, i)),
                    compute_queue: VecDeque::new(),
                    computing: None,
                    tx_queue: VecDeque::new(),
                    transmitting: None,
                    tx_left: 0.0,
                    tx_since: SimTime::ZERO,
                    tx_version: 0,
                    compute_until: SimTime::ZERO,
                    radio_until: SimTime::ZERO,
                    battery: group.battery_j.map(|j| Battery {
                        left_j: j,
                        capacity_j: j,
                        at: SimTime::ZERO,
                        version: 0,
                    }),
                    dead_at: None,
                    freq: system.agent_cpu.max_freq(),
                    created: 0,
                }
            })
            .collect();
        World {
            system,
            agents: agents_vec,
            server_queue: WaitingRoom::new(server.discipline),
            workers: (0..server.workers).map(|_| Vec::new()).collect(),
            batching: server.batching,
            downlinks: Vec::new(),
            shared_uplink: channel.access == Access::SharedEqual,
            service: server.service,
            max_queue: agents.shared().max_queue,
            horizon: SimTime::from_secs_round(horizon_s),
            warmup: SimTime::from_secs_round(warmup_s),
        }
    }
}
