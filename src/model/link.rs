//! The wireless uplink: path loss, block fading, and exact transmission times.
//!
//! Rate `r = B · log2(1 + P·g / (N0·B))`, `N0` raised by the noise figure,
//! `g = 10^(−PL(d)/10) · h`, `PL(d) = PL0 + 10·n·log10(d/d0) + X` with
//! shadowing `X ~ N(0, σ²)` drawn once per agent per run. Small-scale fading
//! power `h` is constant over blocks of `coherence_s` aligned to absolute time;
//! successive blocks are independent or Gauss–Markov correlated. A transmission
//! that spans several blocks advances at each block's rate and its end time is
//! computed exactly (SPEC 4.3).

use crate::check;
use crate::units::{BitsPerSec, SimDuration, SimTime, Watts};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma, StandardNormal};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Small-scale fading law of the power gain `h` (mean 1).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub enum Fading {
    /// No fading: `h = 1`.
    None,
    /// Rayleigh: `h ~ Exp(1)`.
    Rayleigh,
    /// Rician with K-factor `k` (line-of-sight to scattered power ratio).
    Rician {
        /// K-factor (linear, ≥ 0).
        #[serde(deserialize_with = "check::non_negative")]
        k: f64,
    },
    /// Nakagami-m: `h ~ Gamma(m, 1/m)`.
    Nakagami {
        /// Shape `m ≥ 0.5`.
        #[serde(deserialize_with = "check::positive")]
        m: f64,
    },
}

/// Log-distance path loss.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PathLoss {
    /// Path loss at the reference distance, dB (default 46.4, 2.4 GHz free space at 1 m).
    #[serde(deserialize_with = "check::decibels")]
    pub pl0_db: f64,
    /// Reference distance `d0`, m (default 1).
    #[serde(deserialize_with = "check::positive")]
    pub d0_m: f64,
    /// Path-loss exponent `n` (default 3).
    #[serde(deserialize_with = "check::non_negative")]
    pub exponent: f64,
    /// Standard deviation of log-normal shadowing, dB (default 0: none).
    #[serde(deserialize_with = "check::decibels_non_negative")]
    pub shadowing_db: f64,
}

impl Default for PathLoss {
    fn default() -> Self {
        PathLoss {
            pl0_db: 46.4,
            d0_m: 1.0,
            exponent: 3.0,
            shadowing_db: 0.0,
        }
    }
}

/// The uplink as written in a scenario.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ChannelConfig {
    /// Bandwidth `B` per agent (dedicated access), Hz (default 20 MHz).
    #[serde(deserialize_with = "check::positive")]
    pub bandwidth_hz: f64,
    /// Transmit power `P`, dBm (default 23).
    #[serde(deserialize_with = "check::decibels")]
    pub tx_power_dbm: f64,
    /// Thermal noise density, dBm/Hz (default −174).
    #[serde(deserialize_with = "check::decibels")]
    pub noise_density_dbm_hz: f64,
    /// Receiver noise figure, dB (default 7).
    #[serde(deserialize_with = "check::decibels_non_negative")]
    pub noise_figure_db: f64,
    /// Log-distance path loss.
    pub path_loss: PathLoss,
    /// Small-scale fading law (default `Rayleigh`).
    pub fading: Fading,
    /// Coherence time: length of a fading block, s (default 0.01).
    #[serde(deserialize_with = "check::positive")]
    pub coherence_s: f64,
    /// Gauss–Markov correlation of successive fading blocks, in `[0, 1)`
    /// (default 0: independent blocks). Not available for Nakagami fading.
    #[serde(deserialize_with = "check::unit_interval")]
    pub rho: f64,
}

impl Default for ChannelConfig {
    fn default() -> Self {
        ChannelConfig {
            bandwidth_hz: 20e6,
            tx_power_dbm: 23.0,
            noise_density_dbm_hz: -174.0,
            noise_figure_db: 7.0,
            path_loss: PathLoss::default(),
            fading: Fading::Rayleigh,
            coherence_s: 0.01,
            rho: 0.0,
        }
    }
}

impl ChannelConfig {
    /// Transmit power.
    pub fn tx_power(&self) -> Watts {
        Watts::from_dbm(self.tx_power_dbm)
    }

    /// Noise power over the band, `N0·F·B`, W.
    pub fn noise_power_w(&self) -> f64 {
        Watts::from_dbm(self.noise_density_dbm_hz + self.noise_figure_db).0 * self.bandwidth_hz
    }

    /// Path loss at distance `d` without shadowing, dB.
    pub fn path_loss_db(&self, distance_m: f64) -> f64 {
        let pl = &self.path_loss;
        pl.pl0_db + 10.0 * pl.exponent * (distance_m.max(1e-3) / pl.d0_m).log10()
    }

    /// Mean SNR (over fading) at distance `d` with shadowing `x_db`, linear.
    pub fn mean_snr(&self, distance_m: f64, shadowing_db: f64) -> f64 {
        let gain = 10f64.powf(-(self.path_loss_db(distance_m) + shadowing_db) / 10.0);
        self.tx_power().0 * gain / self.noise_power_w()
    }

    /// Shannon rate at SNR `snr`: `B log2(1 + snr)`.
    pub fn rate(&self, snr: f64) -> BitsPerSec {
        BitsPerSec(self.bandwidth_hz * (1.0 + snr).log2())
    }
}

/// The fading power gains of one agent's uplink, block by block.
///
/// Blocks are drawn in order from the agent's fading stream, whatever times
/// are asked for, so the gains of a seed do not depend on the policy. Only the
/// blocks from the current one onwards are kept: memory stays flat in the horizon.
#[derive(Debug)]
pub struct FadingProcess {
    law: Fading,
    rho: f64,
    rng: ChaCha8Rng,
    /// Index of the first block held in `gains`.
    first: u64,
    /// Power gains of blocks `first, first+1, ...`.
    gains: VecDeque<f64>,
    /// Complex scattered component of the last drawn block (Gauss–Markov state).
    state: (f64, f64),
    /// Blocks drawn so far.
    drawn: u64,
}

impl FadingProcess {
    /// A fading process drawing from `rng`.
    pub fn new(law: Fading, rho: f64, rng: ChaCha8Rng) -> FadingProcess {
        FadingProcess {
            law,
            rho,
            rng,
            first: 0,
            gains: VecDeque::new(),
            state: (0.0, 0.0),
            drawn: 0,
        }
    }

    fn complex_normal(&mut self) -> (f64, f64) {
        let s = std::f64::consts::FRAC_1_SQRT_2;
        let re: f64 = self.rng.sample(StandardNormal);
        let im: f64 = self.rng.sample(StandardNormal);
        (re * s, im * s)
    }

    /// Draws the next block's power gain.
    fn draw(&mut self) -> f64 {
        self.drawn += 1;
        match self.law {
            Fading::None => 1.0,
            Fading::Nakagami { m } => Gamma::new(m, 1.0 / m)
                .expect("validated shape")
                .sample(&mut self.rng),
            Fading::Rayleigh | Fading::Rician { .. } => {
                let w = self.complex_normal();
                let fresh = (1.0 - self.rho * self.rho).sqrt();
                self.state = if self.drawn == 1 {
                    w
                } else {
                    (
                        self.rho * self.state.0 + fresh * w.0,
                        self.rho * self.state.1 + fresh * w.1,
                    )
                };
                let (re, im) = self.state;
                match self.law {
                    Fading::Rician { k } => {
                        let los = (k / (k + 1.0)).sqrt();
                        let sc = (1.0 / (k + 1.0)).sqrt();
                        (los + sc * re).powi(2) + (sc * im).powi(2)
                    }
                    _ => re * re + im * im,
                }
            }
        }
    }

    /// The power gain of block `k`. Blocks before the last [`forget_before`]
    /// are gone; asking for one is a bug.
    ///
    /// [`forget_before`]: FadingProcess::forget_before
    pub fn gain(&mut self, k: u64) -> f64 {
        assert!(k >= self.first, "fading block {k} already forgotten");
        while self.first + (self.gains.len() as u64) <= k {
            let g = self.draw();
            self.gains.push_back(g);
        }
        self.gains[(k - self.first) as usize]
    }

    /// Drops blocks before `k` (they will not be asked for again).
    pub fn forget_before(&mut self, k: u64) {
        while self.first < k {
            if self.gains.pop_front().is_none() {
                // Not drawn yet: draw and drop so the stream stays in step.
                self.draw();
            }
            self.first += 1;
        }
    }
}

/// One agent's uplink at run time.
#[derive(Debug)]
pub struct Link {
    /// Mean SNR at the agent's distance (path loss and shadowing), linear.
    pub mean_snr: f64,
    bandwidth_hz: f64,
    coherence: SimDuration,
    fading: FadingProcess,
}

impl Link {
    /// A link with the given mean SNR and fading process.
    pub fn new(cfg: &ChannelConfig, mean_snr: f64, fading: FadingProcess) -> Link {
        Link {
            mean_snr,
            bandwidth_hz: cfg.bandwidth_hz,
            coherence: SimDuration::from_secs_round(cfg.coherence_s).max(SimDuration(1)),
            fading,
        }
    }

    fn block_of(&self, t: SimTime) -> u64 {
        t.0 / self.coherence.0
    }

    fn block_rate(&mut self, k: u64) -> f64 {
        let h = self.fading.gain(k);
        self.bandwidth_hz * (1.0 + self.mean_snr * h).log2()
    }

    /// The instantaneous rate at `now` (perfect current CSI).
    pub fn rate_at(&mut self, now: SimTime) -> BitsPerSec {
        self.fading.forget_before(self.block_of(now));
        let k = self.block_of(now);
        BitsPerSec(self.block_rate(k))
    }

    /// The fading power gain at `now`.
    pub fn gain_at(&mut self, now: SimTime) -> f64 {
        self.fading.forget_before(self.block_of(now));
        self.fading.gain(self.block_of(now))
    }

    /// End time of a transmission of `bits` starting at `start`: it advances at
    /// each fading block's rate until all bits are sent. A transmission still
    /// under way at `until` (the end of the run) is cut there and reported as
    /// ending 1 ns later, so no block beyond the run is drawn or held.
    pub fn transmission_end(&mut self, start: SimTime, bits: f64, until: SimTime) -> SimTime {
        self.fading.forget_before(self.block_of(start));
        let mut t = start;
        let mut left = bits;
        loop {
            if left <= 0.0 {
                return t;
            }
            if t >= until {
                return until + SimDuration(1);
            }
            let k = self.block_of(t);
            let rate = self.block_rate(k);
            let block_end = SimTime((k + 1) * self.coherence.0);
            let can_send = rate * (block_end - t).as_secs();
            if can_send >= left {
                let end = t + SimDuration::from_secs_ceil(left / rate);
                return end.min(block_end);
            }
            left -= can_send;
            t = block_end;
        }
    }
}
