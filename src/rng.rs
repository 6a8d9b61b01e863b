//! Random streams: one ChaCha generator per (run seed, entity, purpose).
//!
//! Every random draw in a run comes from a stream named by a [`StreamId`], so
//! agent 3's arrivals never share draws with agent 3's fading or with agent 4.
//! Streams do not depend on the policy: all policies see the same arrivals and
//! channels for the same seed (common random numbers, hence paired
//! comparisons), and adding an agent leaves the other agents' draws unchanged.
//! A policy is handed only its own [`Purpose::Policy`] stream.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// What a random stream is used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Purpose {
    /// Request arrival times of one agent.
    Arrivals = 1,
    /// Small-scale fading of one agent's uplink.
    Fading = 2,
    /// Log-normal shadowing of one agent's uplink (one draw per run).
    Shadowing = 3,
    /// Random mobility of one agent.
    Mobility = 4,
    /// Random service-time factors of one agent's requests at the server.
    Service = 5,
    /// Synthetic weights of one model block (for measured distortion).
    Weights = 6,
    /// The decision policy's own draws.
    Policy = 7,
    /// Channel-state estimation error seen by one agent's decisions.
    Csi = 8,
}

/// The name of one random stream within a run: a purpose and an entity index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    /// What the stream drives.
    pub purpose: Purpose,
    /// Which entity (agent index, block index, ...).
    pub index: u32,
}

impl StreamId {
    /// A stream for `purpose` of entity `index`.
    pub fn new(purpose: Purpose, index: u32) -> StreamId {
        StreamId { purpose, index }
    }

    /// The ChaCha stream number: purpose in the high 32 bits, index in the low.
    pub fn to_u64(self) -> u64 {
        ((self.purpose as u64) << 32) | self.index as u64
    }
}

/// The generator of stream `id` in the run with seed `seed`.
///
/// ```
/// use coinfer::rng::{stream, Purpose, StreamId};
/// use rand::Rng;
/// let a: u64 = stream(7, StreamId::new(Purpose::Arrivals, 3)).gen();
/// let b: u64 = stream(7, StreamId::new(Purpose::Arrivals, 3)).gen();
/// let c: u64 = stream(7, StreamId::new(Purpose::Fading, 3)).gen();
/// assert_eq!(a, b);
/// assert_ne!(a, c);
/// ```
pub fn stream(seed: u64, id: StreamId) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(id.to_u64());
    rng
}
