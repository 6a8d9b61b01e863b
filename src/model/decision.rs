//! What a decision policy chooses for one request: bit-widths and clock
//! frequencies on each side of the split, and whether it met the budgets.

use crate::units::{Bits, BitsPerSec, Hertz};

/// A policy's (or a solver's) decision for one request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Decision {
    /// Agent-side bit-width `b_a`.
    pub bits_agent: Bits,
    /// Server-side bit-width `b_s`.
    pub bits_server: Bits,
    /// Agent compute frequency `f_a`.
    pub freq_agent: Hertz,
    /// Requested server frequency `f_s` (clamped to the server's states).
    pub freq_server: Hertz,
    /// False when the policy found no decision meeting the budgets and fell
    /// back to its best effort.
    pub feasible: bool,
    /// True when rounding a relaxed solution broke the deadline or budget
    /// that the relaxed solution met (`paper_joint`).
    pub rounding_broke_budget: bool,
    /// True when the frame is not processed at all (`on_infeasible: Skip`):
    /// it leaves the system at its arrival, counted in `skip_rate`.
    pub skip: bool,
    /// The uplink rate the decision planned the transmission with (`None`:
    /// the channel estimate at decision time).
    pub assumed_rate: Option<BitsPerSec>,
}

impl Decision {
    /// A decision marked feasible, with no rounding problem.
    pub fn new(bits_agent: Bits, bits_server: Bits, freq_agent: Hertz, freq_server: Hertz) -> Decision {
        Decision {
            bits_agent,
            bits_server,
            freq_agent,
            freq_server,
            feasible: true,
            rounding_broke_budget: false,
            skip: false,
            assumed_rate: None,
        }
    }
}
