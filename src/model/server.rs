//! The edge server: `workers` identical units behind one shared queue.
//!
//! The queue discipline is `Fifo` or `Edf` (earliest deadline first). A request
//! is served at the frequency its decision asked for, clamped to the server's
//! states; its service time is the model's compute time scaled by a random
//! factor of mean 1 drawn from the service law (SPEC 4.5).

use crate::check;
use crate::model::cpu::CpuConfig;
use crate::queue::EventQueue;
use crate::units::SimTime;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp1, StandardNormal};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Order in which waiting requests are served.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum Discipline {
    /// First in, first out.
    Fifo,
    /// Earliest deadline first (ties: first in).
    Edf,
}

/// Law of the random factor (mean 1) that scales a request's service time.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub enum ServiceLaw {
    /// Factor 1: service time is the model's compute time.
    Deterministic,
    /// Factor ~ Exp(1).
    Exponential,
    /// Factor ~ LogNormal(−σ²/2, σ), mean 1 (output lengths of language models vary).
    LogNormal {
        /// Standard deviation of the log factor (at most 26).
        #[serde(deserialize_with = "check::log_sigma")]
        sigma: f64,
    },
}

impl ServiceLaw {
    /// Draws one factor.
    pub fn draw(&self, rng: &mut ChaCha8Rng) -> f64 {
        match *self {
            ServiceLaw::Deterministic => 1.0,
            ServiceLaw::Exponential => Exp1.sample(rng),
            ServiceLaw::LogNormal { sigma } => {
                let z: f64 = rng.sample(StandardNormal);
                (sigma * z - 0.5 * sigma * sigma).exp()
            }
        }
    }

    /// Squared coefficient of variation of the factor.
    pub fn scv(&self) -> f64 {
        match *self {
            ServiceLaw::Deterministic => 0.0,
            ServiceLaw::Exponential => 1.0,
            ServiceLaw::LogNormal { sigma } => (sigma * sigma).exp() - 1.0,
        }
    }
}

/// The edge server as written in a scenario.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Identical compute units behind the queue (default 4).
    #[serde(deserialize_with = "check::count")]
    pub workers: u32,
    /// Queue discipline (default `Fifo`).
    pub discipline: Discipline,
    /// Each unit's compute model (default: the paper's server preset).
    pub cpu: CpuConfig,
    /// Service-time factor law (default `Deterministic`).
    pub service: ServiceLaw,
    /// Whether a worker serves several requests at once (default `None`).
    pub batching: Batching,
}

/// Batched service, as language-model servers decode several requests at
/// once (the weights are read once per step for the whole batch).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq)]
pub enum Batching {
    /// One request per worker.
    #[default]
    None,
    /// A free worker takes up to `max_batch` waiting requests, as soon as
    /// that many wait or the oldest has waited `max_wait_s`. A batch of `k`
    /// takes `T_1·(1 + beta·(k − 1))`, where `T_1` is the longest
    /// single-request time in it (its widest bit-width and largest service
    /// factor) at the highest clock its requests ask for.
    Batch {
        /// Most requests in one batch (≥ 1).
        #[serde(deserialize_with = "check::count")]
        max_batch: u32,
        /// Longest a request waits for a batch to fill, s.
        #[serde(default, deserialize_with = "check::non_negative")]
        max_wait_s: f64,
        /// Cost of each further request relative to the first (0: free, 1: no gain).
        #[serde(deserialize_with = "check::non_negative")]
        beta: f64,
    },
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            workers: 4,
            discipline: Discipline::Fifo,
            cpu: CpuConfig::server_preset(),
            service: ServiceLaw::Deterministic,
            batching: Batching::None,
        }
    }
}

/// The server's waiting room, ordered by the discipline (EDF ties: first in).
#[derive(Debug)]
pub struct WaitingRoom<T> {
    discipline: Discipline,
    fifo: VecDeque<T>,
    edf: EventQueue<T>,
}

impl<T> WaitingRoom<T> {
    /// An empty waiting room.
    pub fn new(discipline: Discipline) -> Self {
        WaitingRoom {
            discipline,
            fifo: VecDeque::new(),
            edf: EventQueue::default(),
        }
    }

    /// Adds a request with absolute deadline `deadline`.
    pub fn push(&mut self, deadline: SimTime, item: T) {
        match self.discipline {
            Discipline::Fifo => self.fifo.push_back(item),
            Discipline::Edf => self.edf.push(deadline, item),
        }
    }

    /// Takes the next request to serve.
    pub fn pop(&mut self) -> Option<T> {
        match self.discipline {
            Discipline::Fifo => self.fifo.pop_front(),
            Discipline::Edf => self.edf.pop().map(|(_, t)| t),
        }
    }

    /// Number of waiting requests.
    pub fn len(&self) -> usize {
        self.fifo.len() + self.edf.len()
    }

    /// The waiting requests, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.fifo.iter().chain(self.edf.iter())
    }

    /// Whether no request waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
