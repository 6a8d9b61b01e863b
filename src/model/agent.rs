//! Embodied agents: request arrivals, deadlines, energy budgets, position.
//!
//! Each agent generates inference requests (camera frames) periodically or as a
//! Poisson process, each with a deadline and an energy budget (SPEC 4.1). Its
//! compute unit serves its own requests FIFO; an optional `max_queue` drops the
//! oldest waiting frame (frame skipping). Its distance to the access point
//! follows a mobility model evaluated analytically at any instant (SPEC 4.4).

use crate::check;
use crate::model::cpu::CpuConfig;
pub use crate::model::mobility::Mobility;
use crate::units::{SimDuration, SimTime};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// How an agent generates requests.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum Arrivals {
    /// One request every `period_s`, from a random phase in `[0, period)`
    /// drawn per agent, each delayed by a uniform jitter in `[0, jitter_s)`.
    Periodic {
        /// Period, s.
        #[serde(deserialize_with = "check::positive")]
        period_s: f64,
        /// Maximum jitter, s (default 0; must be below the period).
        #[serde(default, deserialize_with = "check::non_negative")]
        jitter_s: f64,
        /// The first request's time for every agent, s, in `[0, period)`
        /// (synchronised sensors); default: a random phase per agent.
        #[serde(
            default,
            deserialize_with = "check::non_negative_opt",
            skip_serializing_if = "Option::is_none"
        )]
        phase_s: Option<f64>,
    },
    /// A Poisson process of rate `rate_hz`.
    Poisson {
        /// Mean request rate, 1/s.
        #[serde(deserialize_with = "check::positive")]
        rate_hz: f64,
    },
}

impl Arrivals {
    /// Mean number of requests per second.
    pub fn rate_hz(&self) -> f64 {
        match self {
            Arrivals::Periodic { period_s, .. } => 1.0 / period_s,
            Arrivals::Poisson { rate_hz } => *rate_hz,
        }
    }
}

/// One group of agents (all alike; each gets its own random streams).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AgentsConfig {
    /// The group's name in `summary_groups.csv` (default `group<k>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Number of agents (default 1).
    #[serde(deserialize_with = "check::count")]
    pub count: u32,
    /// Request arrivals (default periodic, 0.5 s).
    pub arrivals: Arrivals,
    /// Deadline after a request's creation, s (default 0.5; `None`: no deadline).
    #[serde(deserialize_with = "check::positive_opt")]
    pub deadline_s: Option<f64>,
    /// Agent energy budget per request (compute + transmit), J (default 3).
    #[serde(deserialize_with = "check::positive")]
    pub energy_budget_j: f64,
    /// Longest queue of frames waiting for the compute unit; a new frame beyond
    /// it drops the oldest waiting one (default: unbounded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_queue: Option<u32>,
    /// The agent's compute unit (default: the paper's agent preset).
    pub cpu: CpuConfig,
    /// Mobility (default static at 30 m).
    pub mobility: Mobility,
    /// Battery capacity, J (default: none, the agent never runs out). The
    /// compute unit's static power drains it at every instant, busy or not;
    /// dynamic compute, DVFS switch and transmit energy as they are spent.
    #[serde(
        default,
        deserialize_with = "check::positive_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub battery_j: Option<f64>,
}

impl Default for AgentsConfig {
    fn default() -> Self {
        AgentsConfig {
            name: None,
            count: 1,
            arrivals: Arrivals::Periodic {
                period_s: 0.5,
                jitter_s: 0.0,
                phase_s: None,
            },
            deadline_s: Some(0.5),
            energy_budget_j: 3.0,
            max_queue: None,
            cpu: CpuConfig::agent_preset(),
            mobility: Mobility::default(),
            battery_j: None,
        }
    }
}

/// The agents of a scenario: one group (`agents: (...)`) or several
/// (`agents: [(...), (...)]`), each a full [`AgentsConfig`] with its own
/// defaults. Groups may differ in `count`, `arrivals` and `mobility`; the
/// deadline, energy budget, frame queue and compute unit are shared (the
/// first group's; a scenario whose groups differ there is refused).
#[derive(Clone, Debug, PartialEq)]
pub struct Agents(pub Vec<AgentsConfig>);

impl Default for Agents {
    fn default() -> Self {
        Agents(vec![AgentsConfig::default()])
    }
}

impl Agents {
    /// The settings every group shares (the first group).
    pub fn shared(&self) -> &AgentsConfig {
        &self.0[0]
    }

    /// Agents in all groups.
    pub fn count(&self) -> u64 {
        self.0.iter().map(|g| u64::from(g.count)).sum()
    }

    /// Mean request rate of all agents, 1/s.
    pub fn rate_hz(&self) -> f64 {
        self.0.iter().map(|g| g.count as f64 * g.arrivals.rate_hz()).sum()
    }

    /// Group names (`group<k>` when not given).
    pub fn names(&self) -> Vec<String> {
        (0..self.0.len())
            .map(|k| self.0[k].name.clone().unwrap_or_else(|| format!("group{k}")))
            .collect()
    }

    /// The group of each agent, by agent index.
    pub fn group_of(&self) -> Vec<u32> {
        (0..self.0.len() as u32)
            .flat_map(|k| std::iter::repeat_n(k, self.0[k as usize].count as usize))
            .collect()
    }
}

impl Serialize for Agents {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => one.serialize(s),
            many => many.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Agents {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Agents;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an agents block `(...)` or a list of groups `[(...), ...]`")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Agents, A::Error> {
                let one = AgentsConfig::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(Agents(vec![one]))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Agents, A::Error> {
                let groups =
                    Vec::<AgentsConfig>::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))?;
                if groups.is_empty() {
                    return Err(serde::de::Error::invalid_length(
                        0,
                        &"at least one group of agents",
                    ));
                }
                Ok(Agents(groups))
            }
        }
        d.deserialize_any(V)
    }
}

/// One agent's arrival times, drawn from its arrivals stream.
#[derive(Debug)]
pub struct ArrivalProcess {
    law: Arrivals,
    rng: ChaCha8Rng,
    /// Index of the next periodic arrival.
    k: u64,
    /// Periodic phase.
    phase: SimDuration,
    /// Time of the last arrival (Poisson).
    last: SimTime,
}

impl ArrivalProcess {
    /// The arrival process of one agent, drawing from `rng`.
    pub fn new(law: &Arrivals, mut rng: ChaCha8Rng) -> ArrivalProcess {
        let phase = match law {
            Arrivals::Periodic { phase_s: Some(p), .. } => SimDuration::from_secs_round(*p),
            Arrivals::Periodic { period_s, .. } => SimDuration::from_secs_round(rng.gen::<f64>() * period_s),
            Arrivals::Poisson { .. } => SimDuration::ZERO,
        };
        ArrivalProcess {
            law: law.clone(),
            rng,
            k: 0,
            phase,
            last: SimTime::ZERO,
        }
    }

    /// The time of the next request.
    pub fn next_arrival(&mut self) -> SimTime {
        match self.law {
            Arrivals::Periodic {
                period_s, jitter_s, ..
            } => {
                let nominal =
                    SimTime::ZERO + self.phase + SimDuration::from_secs_round(self.k as f64 * period_s);
                self.k += 1;
                let jitter = if jitter_s > 0.0 {
                    SimDuration::from_secs_round(self.rng.gen::<f64>() * jitter_s)
                } else {
                    SimDuration::ZERO
                };
                nominal + jitter
            }
            Arrivals::Poisson { rate_hz } => {
                let u: f64 = self.rng.gen();
                let gap = -(1.0 - u).ln() / rate_hz;
                self.last = self.last + SimDuration::from_secs_ceil(gap);
                self.last
            }
        }
    }
}
