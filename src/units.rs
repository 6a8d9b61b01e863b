//! Typed physical units for values that cross module boundaries.
//!
//! Simulation time is an integer count of nanoseconds ([`SimTime`] for instants,
//! [`SimDuration`] for spans), so event ordering is exact and reproducible.
//! Physical quantities stay `f64` inside newtypes that only carry the operators
//! that make physical sense (`Watts * SimDuration -> Joules`, ...). A weight
//! bit-width is a [`Bits`], valid by construction.

use serde::{Deserialize, Serialize};
use std::fmt;
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
}

impl SimDuration {
    /// The empty span.
    pub const ZERO: SimDuration = SimDuration(0);

    /// The longest span (about 584 years): "never".
    pub const MAX: SimDuration = SimDuration(u64::MAX);

    /// A computed duration of `s` seconds, rounded **up** to the next nanosecond
    /// (SPEC 1: durations computed in floating point are rounded up);
    /// saturates at [`SimDuration::MAX`], +∞ included (the gap after a
    /// Poisson rate of 1e-320 Hz: never).
    pub fn from_secs_ceil(s: f64) -> SimDuration {
        debug_assert!(s >= 0.0, "duration {s} s is negative or not a number");
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
    /// This frequency in gigahertz.
    pub fn ghz(self) -> f64 {
        self.0 / 1e9
    }
}

/// A data rate in bits per second.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
pub struct BitsPerSec(pub f64);

/// A weight bit-width: 1 sign bit plus 1 to 15 magnitude bits, so always in
/// `2..=16` (checked at construction and when deserialized).
///
/// Serialized as a plain integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u8")]
pub struct Bits(u8);

impl Bits {
    /// The smallest bit-width, 2 (1 sign bit + 1 magnitude bit).
    pub const MIN: Bits = Bits(2);
    /// The largest bit-width, 16 (1 sign bit + 15 magnitude bits).
    pub const MAX: Bits = Bits(16);

    /// `b` as a bit-width, or `None` outside `2..=16`.
    pub const fn new(b: u8) -> Option<Bits> {
        if Bits::MIN.0 <= b && b <= Bits::MAX.0 {
            Some(Bits(b))
        } else {
            None
        }
    }

    /// The nearest bit-width to `x`, saturating at [`Bits::MIN`] and
    /// [`Bits::MAX`] (NaN gives [`Bits::MIN`]).
    pub fn nearest(x: f64) -> Bits {
        Bits((x.round() as u8).clamp(Bits::MIN.0, Bits::MAX.0))
    }

    /// The number of bits.
    pub const fn get(self) -> u8 {
        self.0
    }

    /// Magnitude bits `b − 1` (the sign takes one bit).
    pub const fn magnitude_bits(self) -> u8 {
        self.0 - 1
    }

    /// The bit-widths `lo..=hi`, ascending (empty if `lo > hi`).
    pub fn range(lo: Bits, hi: Bits) -> impl DoubleEndedIterator<Item = Bits> + ExactSizeIterator + Clone {
        (lo.0..=hi.0).map(Bits)
    }

    /// Every bit-width, `2..=16`.
    pub fn all() -> impl DoubleEndedIterator<Item = Bits> + ExactSizeIterator + Clone {
        Bits::range(Bits::MIN, Bits::MAX)
    }
}

impl fmt::Display for Bits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Why a number is not a [`Bits`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidBits(pub u32);

impl fmt::Display for InvalidBits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid bit-width {}: expected an integer in 2..=16 (1 sign bit + at least 1 magnitude bit)",
            self.0
        )
    }
}

impl std::error::Error for InvalidBits {}

impl TryFrom<u32> for Bits {
    type Error = InvalidBits;
    fn try_from(b: u32) -> Result<Bits, InvalidBits> {
        u8::try_from(b).ok().and_then(Bits::new).ok_or(InvalidBits(b))
    }
}

impl From<Bits> for u8 {
    fn from(b: Bits) -> u8 {
        b.0
    }
}

/// For indexing tables stored as `[_; 17]` (entries 0 and 1 unused).
impl From<Bits> for usize {
    fn from(b: Bits) -> usize {
        usize::from(b.0)
    }
}

impl From<Bits> for f64 {
    fn from(b: Bits) -> f64 {
        f64::from(b.0)
    }
}
