//! Typed physical units for values that cross module boundaries.
//!
//! Simulation time is an integer count of nanoseconds ([`SimTime`] for instants,
//! [`SimDuration`] for spans), so event ordering is exact and reproducible.
//! Physical quantities stay `f64` inside newtypes that only carry the operators
//! that make physical sense (`Watts * SimDuration -> Joules`, ...).

use serde::{Deserialize, Serialize};
use std::ops::{Add, AddAssign, Mul, Sub};

/// Nanoseconds per second.
pub const NS_PER_S: f64 = 1e9;

/// An instant of simulation time, in nanoseconds since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SimTime(pub u64);

/// A span of simulation time, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SimDuration(pub u64);

impl SimTime {
    /// The start of a run.
    pub const ZERO: SimTime = SimTime(0);

    /// This instant in seconds.
    pub fn as_secs(self) -> f64 {
        self.0 as f64 / NS_PER_S
    }

    /// The instant `s` seconds after the start, rounded to the nearest nanosecond
    /// (for configured times such as the horizon).
    pub fn from_secs_round(s: f64) -> SimTime {
        SimTime(SimDuration::from_secs_round(s).0)
    }

    /// The span since `earlier`, or zero if `earlier` is later.
    pub fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    /// The empty span.
    pub const ZERO: SimDuration = SimDuration(0);

    /// The longest span (about 584 years): "never".
    pub const MAX: SimDuration = SimDuration(u64::MAX);

    /// A computed duration of `s` seconds, rounded **up** to the next nanosecond
    /// (SPEC 1: durations computed in floating point are rounded up);
    /// saturates at [`SimDuration::MAX`].
    pub fn from_secs_ceil(s: f64) -> SimDuration {
        debug_assert!(
            s.is_finite() && s >= 0.0,
            "duration {s} s is not a finite non-negative number"
        );
        SimDuration((s * NS_PER_S).ceil() as u64)
    }

    /// A configured duration of `s` seconds, rounded to the nearest
    /// nanosecond; saturates at [`SimDuration::MAX`] (`as` casts saturate).
    pub fn from_secs_round(s: f64) -> SimDuration {
        SimDuration((s * NS_PER_S).round() as u64)
    }

    /// This span in seconds.
    pub fn as_secs(self) -> f64 {
        self.0 as f64 / NS_PER_S
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    /// Saturates at the end of representable time (about 584 years), which
    /// reads as "never" (e.g. the deadline of a scenario without one).
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    /// Saturates like `SimTime + SimDuration`.
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(d.0))
    }
}

impl Sub for SimTime {
    type Output = SimDuration;
    /// Panics if `rhs` is later than `self`: a negative span is a bug.
    fn sub(self, rhs: SimTime) -> SimDuration {
        SimDuration(self.0.checked_sub(rhs.0).expect("negative simulation duration"))
    }
}

/// Energy in joules.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
pub struct Joules(pub f64);

impl Add for Joules {
    type Output = Joules;
    fn add(self, o: Joules) -> Joules {
        Joules(self.0 + o.0)
    }
}

impl AddAssign for Joules {
    fn add_assign(&mut self, o: Joules) {
        self.0 += o.0;
    }
}

/// Power in watts.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
pub struct Watts(pub f64);

impl Watts {
    /// Power from decibel-milliwatts: `10^((dBm − 30)/10)` W.
    pub fn from_dbm(dbm: f64) -> Watts {
        Watts(10f64.powf((dbm - 30.0) / 10.0))
    }
}

impl Mul<SimDuration> for Watts {
    type Output = Joules;
    fn mul(self, d: SimDuration) -> Joules {
        Joules(self.0 * d.as_secs())
    }
}

/// Frequency in hertz (cycles per second).
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
pub struct Hertz(pub f64);

impl Hertz {
    /// A frequency given in gigahertz.
    pub fn from_ghz(ghz: f64) -> Hertz {
        Hertz(ghz * 1e9)
    }

    /// This frequency in gigahertz.
    pub fn ghz(self) -> f64 {
        self.0 / 1e9
    }
}

/// A data rate in bits per second.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
pub struct BitsPerSec(pub f64);
