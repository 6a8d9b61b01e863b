//! Problem model for one request's joint bit-width / frequency decision.
//!
//! Each side `x ∈ {agent, server}` runs `N_x` weights at `b_x` bits on its
//! compute unit ([`Cpu`]), which costs `C_x = c_x · N_x · b_x` cycles. At clock
//! `f` this takes `T = C / f` seconds and `E = κ_x · C · f² + P_static,x · C / f`
//! joules ([`Cpu::cycles`], [`Cpu::energy`]). The request meets its deadline when
//! `T_a + T_tx + W + T_s ≤ T_max` and its agent budget when `E_a + E_tx ≤ E_max`
//! (server energy is not budgeted). Distortion and tightness gap are separable
//! per-side tables indexed by bit-width.
//!
//! Constraint checks use the relative tolerance [`FEASIBILITY_RTOL`] so that
//! closed-form continuous frequencies (`f = C / τ`) are not rejected because of
//! one-ulp rounding; every solver decides feasibility with exactly the predicates
//! used by [`Problem::evaluate`], so any returned decision replays as feasible.

use crate::model::cpu::Cpu;
pub use crate::model::cpu::FreqSet;
use crate::model::Decision;
use crate::units::{Bits, Hertz};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// Relative slack allowed on the deadline and the energy budget.
pub const FEASIBILITY_RTOL: f64 = 1e-9;

/// `value ≤ limit` up to the relative tolerance [`FEASIBILITY_RTOL`].
pub(crate) fn within(value: f64, limit: f64) -> bool {
    value <= limit + FEASIBILITY_RTOL * limit.abs()
}

/// One side (agent or server) of the collaborative split.
#[derive(Debug, Clone, PartialEq)]
pub struct Side<'a> {
    /// The compute unit: borrowed from the system when a policy builds the
    /// problem of a request, owned when built by hand.
    pub cpu: Cow<'a, Cpu>,
    /// Number of weights `N_x` executed on this side.
    pub weights: f64,
    /// Distortion `g_x[b]`; only indices `2..=16` are used (borrowed from
    /// the system's tables by a policy).
    pub distortion: Cow<'a, [f64; 17]>,
    /// Tightness gap `gap_x[b]`; only indices `2..=16` are used.
    pub gap: Cow<'a, [f64; 17]>,
    /// Aggregate `W_x = Σ A_l n_l / λ_l` of the relaxed objective.
    pub relaxed_weight: f64,
    /// The clock the unit runs at now: any other costs the unit's switch
    /// latency and energy (`None`: switches are free, as in the paper).
    pub clock_now: Option<f64>,
}

impl Side<'_> {
    /// Cycles `c_x · N_x · b` needed at bit-width `bits` ([`Cpu::cycles`]).
    pub fn cycles(&self, bits: Bits) -> f64 {
        self.cpu.cycles(self.weights, bits)
    }

    /// Cycles `c_x · N_x` per bit of bit-width (the relaxation's `B ↦ C` slope).
    pub(crate) fn cycles_per_bit(&self) -> f64 {
        self.cpu.cycles_per_weight_bit * self.weights
    }

    /// Energy in joules of `cycles` at `f` Hz ([`Cpu::energy`]), plus the
    /// switch energy if `f` is not the current clock.
    pub fn energy_j(&self, cycles: f64, f: f64) -> f64 {
        let switch = if self.switches_to(f) {
            self.cpu.switch_energy.0
        } else {
            0.0
        };
        self.cpu.energy(cycles, Hertz(f)).0 + switch
    }

    /// Time in seconds of `cycles` at `f` Hz, plus the switch latency if `f`
    /// is not the current clock.
    pub fn time_s(&self, cycles: f64, f: f64) -> f64 {
        let switch = if self.switches_to(f) {
            self.cpu.switch_latency.as_secs()
        } else {
            0.0
        };
        cycles / f + switch
    }

    fn switches_to(&self, f: f64) -> bool {
        self.clock_now.is_some_and(|now| now != f)
    }

    /// Frequency minimising energy per cycle `κ f² + P / f` over `f > 0`.
    pub(crate) fn energy_minimiser(&self) -> f64 {
        let (kappa, static_power_w) = (self.cpu.kappa, self.cpu.static_power.0);
        if kappa > 0.0 {
            (static_power_w / (2.0 * kappa)).cbrt()
        } else if static_power_w > 0.0 {
            f64::INFINITY
        } else {
            0.0
        }
    }

    fn check(&self) -> Result<(), InvalidProblem> {
        let positive = |x: f64| x.is_finite() && x > 0.0;
        let non_negative = |x: f64| x.is_finite() && x >= 0.0;
        let cpu = &*self.cpu;
        if !positive(self.weights) || !positive(cpu.cycles_per_weight_bit) {
            return Err(InvalidProblem("weights and cycles must be positive"));
        }
        if !non_negative(cpu.kappa) || !non_negative(cpu.static_power.0) {
            return Err(InvalidProblem("kappa and static power must be non-negative"));
        }
        if !non_negative(self.relaxed_weight) {
            return Err(InvalidProblem("relaxed weight must be non-negative"));
        }
        let tables = self.distortion[2..].iter().chain(&self.gap[2..]);
        if !tables.into_iter().all(|v| v.is_finite()) {
            return Err(InvalidProblem("tables must be finite"));
        }
        match &cpu.freqs {
            FreqSet::Discrete(states) => {
                if states.is_empty() || !states.iter().all(|&f| positive(f)) {
                    return Err(InvalidProblem("discrete states must be positive"));
                }
                if states.windows(2).any(|w| w[0] >= w[1]) {
                    return Err(InvalidProblem("discrete states must be ascending"));
                }
            }
            FreqSet::Continuous { min, max } => {
                if !positive(*min) || !positive(*max) || min > max {
                    return Err(InvalidProblem("continuous range must be 0 < min <= max"));
                }
            }
        }
        Ok(())
    }
}

/// Constraints and sides for one request's decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem<'a> {
    /// The agent (budgeted) side.
    pub agent: Side<'a>,
    /// The server side.
    pub server: Side<'a>,
    /// Transmission time `T_tx` (s).
    pub tx_time_s: f64,
    /// Transmission energy `E_tx` charged to the agent (J).
    pub tx_energy_j: f64,
    /// Server queueing wait `W` (s); 0 for non-queue-aware policies.
    pub server_wait_s: f64,
    /// Wait for the agent's compute unit: the requests ahead of this one
    /// (s; 0 for an idle agent).
    pub agent_wait_s: f64,
    /// When the agent's radio is free of the requests ahead (s from now; 0
    /// for an idle agent): the uplink starts at
    /// `max(agent_wait_s + T_a, radio_free_s)`.
    pub radio_free_s: f64,
    /// End-to-end deadline `T_max` (s).
    pub deadline_s: f64,
    /// Agent energy budget `E_max` (J).
    pub energy_budget_j: f64,
    /// Smallest allowed bit-width (both sides).
    pub bits_min: Bits,
    /// Largest allowed bit-width (both sides).
    pub bits_max: Bits,
    /// Optional cap on `gap_a[b_a] + gap_s[b_s]`.
    pub gap_max: Option<f64>,
    /// Constant in front of the relaxed objective (1 upper bound, 1/2 lower).
    pub relaxed_scale: f64,
}

/// Costs and constraint status of a [`Decision`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Agent compute time (s).
    pub agent_time_s: f64,
    /// Server compute time (s).
    pub server_time_s: f64,
    /// End-to-end time including transmission and queueing wait (s).
    pub total_time_s: f64,
    /// Agent energy: compute plus transmission (J).
    pub agent_energy_j: f64,
    /// Server compute energy (J), not budgeted.
    pub server_energy_j: f64,
    /// Objective `g_a[b_a] + g_s[b_s]`.
    pub distortion: f64,
    /// Tightness gap `gap_a[b_a] + gap_s[b_s]`.
    pub gap: f64,
    /// Whether the deadline holds (within [`FEASIBILITY_RTOL`]).
    pub meets_deadline: bool,
    /// Whether the agent energy budget holds (within [`FEASIBILITY_RTOL`]).
    pub meets_budget: bool,
    /// Whether the gap cap holds (always true without a cap).
    pub meets_gap: bool,
}

impl Evaluation {
    /// Whether deadline, budget and gap cap all hold.
    pub fn feasible(&self) -> bool {
        self.meets_deadline && self.meets_budget && self.meets_gap
    }
}

/// Why [`Problem::validate`] rejected a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidProblem(pub &'static str);

impl fmt::Display for InvalidProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid problem: {}", self.0)
    }
}

impl std::error::Error for InvalidProblem {}

impl Problem<'_> {
    /// Checks the assumptions the solvers rely on; solver results are
    /// unspecified (they may panic) for problems rejected here.
    pub fn validate(&self) -> Result<(), InvalidProblem> {
        if self.bits_min > self.bits_max {
            return Err(InvalidProblem("need bits_min <= bits_max"));
        }
        let non_negative = |x: f64| x.is_finite() && x >= 0.0;
        if !non_negative(self.tx_time_s)
            || !non_negative(self.tx_energy_j)
            || !non_negative(self.server_wait_s)
            || !non_negative(self.agent_wait_s)
            || !non_negative(self.radio_free_s)
        {
            return Err(InvalidProblem("tx time, tx energy and wait must be >= 0"));
        }
        let deadline_ok = self.deadline_s.is_finite() && self.deadline_s > 0.0;
        if !(deadline_ok && self.energy_budget_j.is_finite()) {
            return Err(InvalidProblem("deadline must be positive, budget finite"));
        }
        if self.gap_max.is_some_and(f64::is_nan) {
            return Err(InvalidProblem("gap cap must not be NaN"));
        }
        if !(self.relaxed_scale.is_finite() && self.relaxed_scale > 0.0) {
            return Err(InvalidProblem("relaxed scale must be positive"));
        }
        self.agent.check()?;
        self.server.check()
    }

    /// End-to-end time for the given compute times (shared by all checks).
    pub(crate) fn total_time(&self, agent_time_s: f64, server_time_s: f64) -> f64 {
        let uplink_start = (self.agent_wait_s + agent_time_s).max(self.radio_free_s);
        uplink_start + self.tx_time_s + self.server_wait_s + server_time_s
    }

    /// The waits as a fixed time, for the closed forms: the agent's backlog
    /// `max(agent_wait_s, radio_free_s)` (an upper bound on its share of
    /// [`Problem::total_time`]) plus the server wait.
    pub(crate) fn waits_s(&self) -> f64 {
        self.agent_wait_s.max(self.radio_free_s) + self.server_wait_s
    }

    /// Objective `g_a[b_a] + g_s[b_s]` (depends on bits only).
    pub fn objective(&self, bits_agent: Bits, bits_server: Bits) -> f64 {
        self.agent.distortion[usize::from(bits_agent)] + self.server.distortion[usize::from(bits_server)]
    }

    /// Whether `gap_a[b_a] + gap_s[b_s]` respects the optional cap.
    pub fn meets_gap(&self, bits_agent: Bits, bits_server: Bits) -> bool {
        let gap = self.agent.gap[usize::from(bits_agent)] + self.server.gap[usize::from(bits_server)];
        self.gap_max.is_none_or(|cap| gap <= cap)
    }

    /// Times, energies, objective and constraint status of `c` at the
    /// frequencies it names (its `feasible` flags are ignored).
    pub fn evaluate(&self, c: &Decision) -> Evaluation {
        let agent_cycles = self.agent.cycles(c.bits_agent);
        let server_cycles = self.server.cycles(c.bits_server);
        let agent_time_s = self.agent.time_s(agent_cycles, c.freq_agent.0);
        let server_time_s = self.server.time_s(server_cycles, c.freq_server.0);
        let total_time_s = self.total_time(agent_time_s, server_time_s);
        let agent_energy_j = self.agent.energy_j(agent_cycles, c.freq_agent.0) + self.tx_energy_j;
        let server_energy_j = self.server.energy_j(server_cycles, c.freq_server.0);
        let gap = self.agent.gap[usize::from(c.bits_agent)] + self.server.gap[usize::from(c.bits_server)];
        Evaluation {
            agent_time_s,
            server_time_s,
            total_time_s,
            agent_energy_j,
            server_energy_j,
            distortion: self.objective(c.bits_agent, c.bits_server),
            gap,
            meets_deadline: within(total_time_s, self.deadline_s),
            meets_budget: within(agent_energy_j, self.energy_budget_j),
            meets_gap: self.meets_gap(c.bits_agent, c.bits_server),
        }
    }
}
