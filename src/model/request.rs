//! One inference request and the record of its journey.

use crate::model::Decision;
use crate::units::{Joules, SimDuration, SimTime};

/// An inference request (one camera frame) from arrival to completion.
#[derive(Clone, Debug)]
pub struct Request {
    /// Index of the agent that created it.
    pub agent: u32,
    /// Sequence number within its agent.
    pub seq: u64,
    /// Creation (arrival) time.
    pub created: SimTime,
    /// Absolute deadline.
    pub deadline: SimTime,
    /// Whether it arrived after the warm-up (and so counts in the metrics).
    pub counted: bool,
    /// The policy's decision.
    pub decision: Decision,
    /// Random factor (mean 1) of its server service time.
    pub service_factor: f64,
    /// Latency the static model predicted for the decision (no queueing), s.
    pub predicted_latency_s: f64,
    /// Agent energy the static model predicted for the decision, J.
    pub predicted_agent_energy_j: f64,
    /// Uplink time the decision planned with (payload over its assumed rate), s.
    pub predicted_tx_s: f64,
    /// The agent's distance to the access point when it decided, m.
    pub distance_m: f64,
    /// Agent compute start, including any DVFS switch.
    pub compute_start: SimTime,
    /// Uplink transmission start.
    pub tx_start: SimTime,
    /// Uplink attempts (1 + retransmissions; 0 before the uplink).
    pub tx_attempts: u32,
    /// Whether the uplink delivered the features (false: the request failed).
    pub tx_delivered: bool,
    /// Arrival at the server queue.
    pub server_arrival: SimTime,
    /// Start of service at a server worker.
    pub service_start: SimTime,
    /// End of service (the result downlink, if any, follows).
    pub service_end: SimTime,
    /// Completion.
    pub done: SimTime,
    /// Agent compute energy (dynamic + static + DVFS switch).
    pub compute_energy: Joules,
    /// Its dynamic part `κ·C·f²`.
    pub compute_dynamic: Joules,
    /// Its static part while busy, `P_static·C/f`.
    pub compute_static: Joules,
    /// Its DVFS switch part.
    pub switch_energy: Joules,
    /// Uplink transmit energy.
    pub tx_energy: Joules,
    /// Energy of receiving the result downlink.
    pub rx_energy: Joules,
    /// Server compute energy.
    pub server_energy: Joules,
    /// Its dynamic part.
    pub server_dynamic: Joules,
    /// Its static part while busy.
    pub server_static: Joules,
}

impl Request {
    /// A new request with its decision, before any stage has run.
    pub fn new(
        agent: u32,
        seq: u64,
        created: SimTime,
        deadline: SimDuration,
        counted: bool,
        decision: Decision,
        service_factor: f64,
    ) -> Request {
        Request {
            agent,
            seq,
            created,
            deadline: created + deadline,
            counted,
            decision,
            service_factor,
            predicted_latency_s: f64::NAN,
            predicted_agent_energy_j: f64::NAN,
            predicted_tx_s: f64::NAN,
            distance_m: f64::NAN,
            compute_start: created,
            tx_start: created,
            tx_attempts: 0,
            tx_delivered: false,
            server_arrival: created,
            service_start: created,
            service_end: created,
            done: created,
            compute_energy: Joules(0.0),
            compute_dynamic: Joules(0.0),
            compute_static: Joules(0.0),
            switch_energy: Joules(0.0),
            tx_energy: Joules(0.0),
            rx_energy: Joules(0.0),
            server_energy: Joules(0.0),
            server_dynamic: Joules(0.0),
            server_static: Joules(0.0),
        }
    }

    /// End-to-end latency (completion − creation).
    pub fn latency(&self) -> SimDuration {
        self.done - self.created
    }

    /// Agent energy: compute + transmit + receive.
    pub fn agent_energy(&self) -> Joules {
        self.compute_energy + self.tx_energy + self.rx_energy
    }

    /// Time spent waiting in the server queue.
    pub fn server_wait(&self) -> SimDuration {
        self.service_start - self.server_arrival
    }
}
