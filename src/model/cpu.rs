//! Compute units with DVFS: cycles, time and energy of running part of a model.
//!
//! Cycles to run `N` weights at `b` bits: `C = c · N · b` (`c` cycles per
//! weight-bit). At frequency `f`: time `T = C / f`, energy
//! `E = κ · C · f² + P_static · T`. Frequencies are a discrete list of DVFS
//! states or a continuous range; changing state costs a switch latency and
//! energy (SPEC 4.2).

use crate::check;
use crate::units::{Bits, Hertz, Joules, SimDuration, Watts};
use serde::{Deserialize, Serialize};

/// A compute unit as written in a scenario (agent or server). Every field is
/// optional: what is not written comes from the side's preset
/// ([`CpuConfig::agent_preset`], [`CpuConfig::server_preset`]), see
/// [`CpuConfig::resolved`].
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CpuConfig {
    /// Discrete DVFS states in GHz (default: the preset's states). Give either
    /// this or `freq_range_ghz`.
    #[serde(
        deserialize_with = "check::positive_list_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub freqs_ghz: Option<Vec<f64>>,
    /// Continuous frequency range `(min, max)` in GHz instead of states.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub freq_range_ghz: Option<(f64, f64)>,
    /// Effective cycles per weight-bit `c` (may be < 1 for parallel hardware).
    #[serde(deserialize_with = "check::positive_opt")]
    pub cycles_per_weight_bit: Option<f64>,
    /// Effective switched capacitance `κ` in J/(cycle·Hz²): dynamic energy `κ·C·f²`.
    #[serde(deserialize_with = "check::non_negative_opt")]
    pub kappa: Option<f64>,
    /// Static power while busy, W (default 0).
    #[serde(deserialize_with = "check::non_negative_opt")]
    pub static_power_w: Option<f64>,
    /// Latency of a change of DVFS state, s (default 0).
    #[serde(deserialize_with = "check::non_negative_opt")]
    pub switch_latency_s: Option<f64>,
    /// Energy of a change of DVFS state, J (default 0).
    #[serde(deserialize_with = "check::non_negative_opt")]
    pub switch_energy_j: Option<f64>,
}

/// Highest frequency a compute unit may list, GHz (a larger number is
/// almost surely hertz written as gigahertz).
pub const MAX_GHZ: f64 = 1e6;

/// Highest static power a compute unit may draw, W.
pub const MAX_STATIC_POWER_W: f64 = 1e6;

/// Most DVFS states a compute unit may list.
pub const MAX_STATES: usize = 4096;

impl CpuConfig {
    /// The paper's embodied agent: states 0.4–2.0 GHz, 0.05 cycles per
    /// weight-bit, κ = 2e-27 (a mobile SoC running a quantized model).
    pub fn agent_preset() -> CpuConfig {
        CpuConfig {
            freqs_ghz: Some(vec![0.4, 0.8, 1.2, 1.6, 2.0]),
            freq_range_ghz: None,
            cycles_per_weight_bit: Some(0.05),
            kappa: Some(2e-27),
            static_power_w: Some(0.0),
            switch_latency_s: Some(0.0),
            switch_energy_j: Some(0.0),
        }
    }

    /// The paper's edge server: one 10 GHz state, 0.02 cycles per weight-bit,
    /// κ = 1e-28 (an accelerator).
    pub fn server_preset() -> CpuConfig {
        CpuConfig {
            freqs_ghz: Some(vec![10.0]),
            cycles_per_weight_bit: Some(0.02),
            kappa: Some(1e-28),
            ..CpuConfig::agent_preset()
        }
    }

    /// This unit with every field it does not set taken from `preset`. The
    /// frequencies go together: writing `freqs_ghz` or `freq_range_ghz`
    /// replaces both of the preset's.
    pub fn resolved(&self, preset: &CpuConfig) -> CpuConfig {
        let freqs_given = self.freqs_ghz.is_some() || self.freq_range_ghz.is_some();
        let (freqs_ghz, freq_range_ghz) = if freqs_given {
            (self.freqs_ghz.clone(), self.freq_range_ghz)
        } else {
            (preset.freqs_ghz.clone(), preset.freq_range_ghz)
        };
        CpuConfig {
            freqs_ghz,
            freq_range_ghz,
            cycles_per_weight_bit: self.cycles_per_weight_bit.or(preset.cycles_per_weight_bit),
            kappa: self.kappa.or(preset.kappa),
            static_power_w: self.static_power_w.or(preset.static_power_w),
            switch_latency_s: self.switch_latency_s.or(preset.switch_latency_s),
            switch_energy_j: self.switch_energy_j.or(preset.switch_energy_j),
        }
    }

    /// The runtime compute unit of a resolved config; `Err` carries the
    /// field and the reason.
    pub fn build(&self) -> Result<Cpu, (&'static str, String)> {
        if self.static_power_w.is_some_and(|p| p > MAX_STATIC_POWER_W) {
            let msg = format!("above {MAX_STATIC_POWER_W} W: expected the power of one compute unit");
            return Err(("static_power_w", msg));
        }
        let too_fast = |ghz: &f64| *ghz > MAX_GHZ;
        if self.freqs_ghz.iter().flatten().any(too_fast) {
            return Err((
                "freqs_ghz",
                format!("a state above {MAX_GHZ} GHz: expected GHz, not Hz"),
            ));
        }
        if self
            .freq_range_ghz
            .is_some_and(|(lo, hi)| too_fast(&lo) || too_fast(&hi))
        {
            return Err((
                "freq_range_ghz",
                format!("a bound above {MAX_GHZ} GHz: expected GHz, not Hz"),
            ));
        }
        let freqs = match (&self.freqs_ghz, self.freq_range_ghz) {
            (Some(_), Some(_)) => {
                return Err((
                    "freq_range_ghz",
                    "give either freqs_ghz (DVFS states) or freq_range_ghz (continuous), not both".into(),
                ))
            }
            (None, None) => return Err(("freqs_ghz", "give freqs_ghz or freq_range_ghz".into())),
            (None, Some((lo, hi))) if !(lo.is_finite() && hi.is_finite() && lo > 0.0 && lo <= hi) => {
                return Err((
                    "freq_range_ghz",
                    format!("invalid range ({lo}, {hi}): expected 0 < min <= max, finite"),
                ))
            }
            (None, Some((lo, hi))) => FreqSet::Continuous {
                min: lo * 1e9,
                max: hi * 1e9,
            },
            (Some(list), None) if list.len() > MAX_STATES => {
                return Err((
                    "freqs_ghz",
                    format!("{} DVFS states: expected at most {MAX_STATES}", list.len()),
                ))
            }
            (Some(list), None) => {
                let mut v: Vec<f64> = list.iter().map(|&g| g * 1e9).collect();
                v.sort_by(f64::total_cmp);
                v.dedup();
                FreqSet::Discrete(v)
            }
        };
        let need = |v: Option<f64>, field: &'static str| {
            v.ok_or_else(|| {
                (
                    field,
                    "missing: expected a number (the preset has none)".to_string(),
                )
            })
        };
        Ok(Cpu {
            freqs,
            cycles_per_weight_bit: need(self.cycles_per_weight_bit, "cycles_per_weight_bit")?,
            kappa: need(self.kappa, "kappa")?,
            static_power: Watts(self.static_power_w.unwrap_or(0.0)),
            switch_latency: SimDuration::from_secs_round(self.switch_latency_s.unwrap_or(0.0)),
            switch_energy: Joules(self.switch_energy_j.unwrap_or(0.0)),
        })
    }
}

/// Clock frequencies a side may run at, in Hz.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FreqSet {
    /// Discrete DVFS states, strictly ascending.
    Discrete(Vec<f64>),
    /// Any frequency in the closed range `[min, max]`.
    Continuous {
        /// Lowest frequency (Hz).
        min: f64,
        /// Highest frequency (Hz).
        max: f64,
    },
}

impl FreqSet {
    /// Highest available frequency.
    pub fn max(&self) -> f64 {
        match self {
            FreqSet::Discrete(states) => states[states.len() - 1],
            FreqSet::Continuous { max, .. } => *max,
        }
    }

    /// Lowest available frequency.
    pub fn min(&self) -> f64 {
        match self {
            FreqSet::Discrete(states) => states[0],
            FreqSet::Continuous { min, .. } => *min,
        }
    }

    /// Lowest available frequency `≥ f`, or the maximum when `f` exceeds it.
    pub fn at_or_above(&self, f: f64) -> f64 {
        match self {
            FreqSet::Discrete(states) => states
                .iter()
                .copied()
                .find(|&s| s >= f)
                .unwrap_or(states[states.len() - 1]),
            FreqSet::Continuous { min, max } => f.clamp(*min, *max),
        }
    }
}

/// A compute unit at run time.
#[derive(Clone, Debug, PartialEq)]
pub struct Cpu {
    /// Available frequencies (Hz).
    pub freqs: FreqSet,
    /// Cycles per weight-bit `c`.
    pub cycles_per_weight_bit: f64,
    /// Dynamic energy coefficient `κ` (J per cycle per Hz²).
    pub kappa: f64,
    /// Static power while busy.
    pub static_power: Watts,
    /// Latency of a DVFS state change.
    pub switch_latency: SimDuration,
    /// Energy of a DVFS state change.
    pub switch_energy: Joules,
}

impl Cpu {
    /// Cycles to run `weights` weights at `bits` bits: `C = c · N · b`.
    pub fn cycles(&self, weights: f64, bits: Bits) -> f64 {
        self.cycles_per_weight_bit * weights * f64::from(bits)
    }

    /// Busy time of `cycles` cycles at `f`, in seconds: `T = C / f`.
    pub fn busy_secs(&self, cycles: f64, f: Hertz) -> f64 {
        cycles / f.0
    }

    /// The highest frequency.
    pub fn max_freq(&self) -> Hertz {
        Hertz(self.freqs.max())
    }

    /// The frequency the unit really runs at when `f` is asked for: the lowest
    /// state at or above it (the highest if none), or `f` clamped to the range.
    pub fn clamp(&self, f: Hertz) -> Hertz {
        Hertz(self.freqs.at_or_above(f.0))
    }

    /// Energy of `cycles` cycles at `f`: `κ·C·f² + P_static·C/f`, evaluated
    /// as `κ·C·f·f + (P_static·C)/f`.
    ///
    /// This is the one energy formula of the crate: the engine charges it and
    /// the solvers predict with it, so both agree to the last bit.
    pub fn energy(&self, cycles: f64, f: Hertz) -> Joules {
        let (dynamic, busy_static) = self.energy_parts(cycles, f);
        dynamic + busy_static
    }

    /// The two parts of [`Cpu::energy`]: dynamic `κ·C·f²` and static while
    /// busy `P_static·C/f`.
    pub fn energy_parts(&self, cycles: f64, f: Hertz) -> (Joules, Joules) {
        (
            Joules(self.kappa * cycles * f.0 * f.0),
            Joules(self.static_power.0 * cycles / f.0),
        )
    }
}
