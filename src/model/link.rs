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
use crate::model::mobility::Trajectory;
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

impl Fading {
    /// The power gain `x` with `P(h <= x) = p`, for `0 < p < 1`: the gain
    /// one block's fading falls below with probability `p`.
    pub fn quantile(&self, p: f64) -> f64 {
        match *self {
            Fading::None => 1.0,
            Fading::Rayleigh => -(-p).ln_1p(),
            Fading::Nakagami { m } => {
                use statrs::distribution::{ContinuousCDF, Gamma as G};
                G::new(m, m).map_or(f64::NAN, |g| g.inverse_cdf(p))
            }
            Fading::Rician { k } => bisect(|x| rician_cdf(k, x), p),
        }
    }
}

/// Bessel function `J0(x)` (Abramowitz & Stegun 9.4.1 and 9.4.3, absolute
/// error below 5e-8).
pub fn bessel_j0(x: f64) -> f64 {
    let x = x.abs();
    if x <= 3.0 {
        let y = (x / 3.0).powi(2);
        let c = [
            1.0,
            -2.249_999_7,
            1.265_620_8,
            -0.316_386_6,
            0.044_447_9,
            -0.003_944_4,
            0.000_210_0,
        ];
        return c.iter().rev().fold(0.0, |acc, &k| acc * y + k);
    }
    let y = 3.0 / x;
    let f = [
        0.797_884_56,
        -0.000_000_77,
        -0.005_527_40,
        -0.000_095_12,
        0.001_372_37,
        -0.000_728_05,
        0.000_144_76,
    ];
    // The first coefficient is −π/4 to the table's 8 decimals.
    let t = [
        -std::f64::consts::FRAC_PI_4,
        -0.041_663_97,
        -0.000_039_54,
        0.002_625_73,
        -0.000_541_25,
        -0.000_293_33,
        0.000_135_58,
    ];
    let poly = |c: &[f64]| c.iter().rev().fold(0.0, |acc, &k| acc * y + k);
    poly(&f) / x.sqrt() * (x + poly(&t)).cos()
}

/// CDF of the Rician power gain with K-factor `k` (mean 1): `2(k+1)h` is
/// noncentral χ² with 2 degrees of freedom and noncentrality `2k`, a
/// Poisson(`k`) mixture of Gamma(j+1, 1) laws at `(k+1)h`, whose CDFs follow
/// by recurrence.
fn rician_cdf(k: f64, h: f64) -> f64 {
    let z = (k + 1.0) * h;
    let (mut weight, mut term) = ((-k).exp(), (-z).exp()); // Poisson(k) at 0; e^-z z^0/0!
    let mut gamma_cdf = 1.0 - term; // P(1, z)
    let mut cdf = weight * gamma_cdf;
    let mut j = 0.0;
    let mut mass = weight;
    while mass < 1.0 - 1e-15 && j < 10_000.0 {
        j += 1.0;
        weight *= k / j;
        term *= z / j;
        gamma_cdf -= term;
        cdf += weight * gamma_cdf.max(0.0);
        mass += weight;
    }
    cdf
}

/// The `x >= 0` with `cdf(x) = p` for an increasing CDF, by bisection.
fn bisect(cdf: impl Fn(f64) -> f64, p: f64) -> f64 {
    let mut hi = 1.0;
    while cdf(hi) < p && hi < 1e12 {
        hi *= 2.0;
    }
    let mut lo = 0.0;
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if cdf(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
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

/// How agents use the band.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub enum Access {
    /// Each agent has a band of its own (default).
    #[default]
    Dedicated,
    /// One band shared equally in time by the agents transmitting at the same
    /// moment: with `n` of them, each advances at `1/n` of its own rate.
    SharedEqual,
}

/// How the uplink turns capacity into delivered bits.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq)]
pub enum LinkMode {
    /// The rate follows the Shannon capacity of each block (default).
    #[default]
    Shannon,
    /// A fixed rate: a block whose capacity is below it is an outage, and
    /// the packet sent into it is lost and sent again from the next block;
    /// after `max_retx` retransmissions the request fails.
    FixedRate {
        /// Transmission rate, bit/s.
        #[serde(deserialize_with = "check::positive")]
        rate_bps: f64,
        /// Retransmissions allowed after the first attempt.
        max_retx: u32,
    },
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
    /// Gauss–Markov correlation of the complex gains of successive fading
    /// blocks, in `[0, 1)` (default 0: independent blocks); the power gains
    /// correlate `rho²`. Nakagami blocks follow a Gamma AR(1) process whose
    /// power gains correlate `rho²` too.
    #[serde(deserialize_with = "check::unit_interval")]
    pub rho: f64,
    /// Maximum Doppler shift, Hz: sets `rho = J0(2π f_D T_c)` (Jakes'
    /// model, `T_c` = `coherence_s`) instead of giving `rho`.
    #[serde(
        default,
        deserialize_with = "check::non_negative_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub doppler_hz: Option<f64>,
    /// Power the agent draws while receiving a result downlink, W (default 0).
    #[serde(deserialize_with = "check::non_negative")]
    pub rx_power_w: f64,
    /// Shannon-rate or fixed-rate (outage and retransmission) uplink.
    pub link: LinkMode,
    /// Dedicated bands or one shared band.
    pub access: Access,
    /// Age of the channel estimate a decision sees, s (default 0: current).
    #[serde(deserialize_with = "check::non_negative")]
    pub csi_delay_s: f64,
    /// Standard deviation of the log-normal error of the estimated fading
    /// gain, dB (default 0: exact).
    #[serde(deserialize_with = "check::decibels_non_negative")]
    pub csi_error_db: f64,
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
            doppler_hz: None,
            rx_power_w: 0.0,
            link: LinkMode::Shannon,
            access: Access::Dedicated,
            csi_delay_s: 0.0,
            csi_error_db: 0.0,
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

    /// The block-to-block correlation of the complex gains: `rho`, or
    /// `J0(2π f_D T_c)` from `doppler_hz` (which may be negative).
    pub fn block_rho(&self) -> f64 {
        match self.doppler_hz {
            Some(f) => bessel_j0(2.0 * std::f64::consts::PI * f * self.coherence_s),
            None => self.rho,
        }
    }

    /// Shannon rate at SNR `snr`: `B log2(1 + snr)`.
    pub fn rate(&self, snr: f64) -> BitsPerSec {
        BitsPerSec(self.bandwidth_hz * (1.0 + snr).log2())
    }
}

/// A counter-based generator: the SplitMix64 sequence from a state that is a
/// hash of (key, block), so each fading block has a short stream of its own
/// and any block can be drawn without drawing the ones before it.
#[derive(Clone, Debug)]
struct BlockRng(u64);

/// SplitMix64's increment (the golden ratio in 64 bits).
const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// SplitMix64's finaliser: a bijective mix of 64 bits.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl BlockRng {
    /// The stream of block `k` under `key`.
    fn new(key: u64, k: u64) -> BlockRng {
        BlockRng(mix64(key ^ mix64(k.wrapping_mul(GOLDEN))))
    }
}

impl rand::RngCore for BlockRng {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        mix64(self.0)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

/// A standard complex normal draw `(re, im)`, each part of variance 1/2.
fn complex_normal(rng: &mut BlockRng) -> (f64, f64) {
    let s = std::f64::consts::FRAC_1_SQRT_2;
    let re: f64 = rng.sample(StandardNormal);
    let im: f64 = rng.sample(StandardNormal);
    (re * s, im * s)
}

/// The power gain of a complex fading coefficient `(re, im)` (scattered
/// part, variance 1): `|w|²` for Rayleigh, with the line of sight for Rician.
fn power(law: Fading, (re, im): (f64, f64)) -> f64 {
    match law {
        Fading::Rician { k } => {
            let los = (k / (k + 1.0)).sqrt();
            let sc = (1.0 / (k + 1.0)).sqrt();
            (los + sc * re).powi(2) + (sc * im).powi(2)
        }
        _ => re * re + im * im,
    }
}

/// Gamma(m, 1/m), the Nakagami-m power gain; 1 if `m` is not a valid shape.
fn nakagami(m: f64, rng: &mut BlockRng) -> f64 {
    Gamma::new(m, 1.0 / m).map_or(1.0, |g| g.sample(rng))
}

/// The fading power gains of one agent's uplink, block by block.
///
/// Block `k`'s random numbers come from a stream of its own, keyed by the
/// agent's fading stream and `k`, so a gain is a function of (seed, agent,
/// block) only: the same whatever the policy asks and in whatever order.
/// Independent blocks (`rho = 0`, the default) are drawn on demand and
/// nothing is stored; a Rayleigh block is one Exp(1) draw. Correlated blocks
/// (`rho ≠ 0`) form a chain from block 0, so they are drawn in order and the
/// blocks from the oldest still needed onwards are kept: memory stays flat in
/// the horizon.
#[derive(Debug)]
pub struct FadingProcess {
    law: Fading,
    rho: f64,
    /// Key of the per-block streams.
    key: u64,
    /// Correlated blocks: index of the first block held in `gains`.
    first: u64,
    /// Correlated blocks: power gains of blocks `first, first+1, ...`.
    gains: VecDeque<f64>,
    /// Correlated blocks: complex scattered component of the last drawn
    /// block (Gauss–Markov state); for Nakagami, the last power gain in `.0`.
    state: (f64, f64),
    /// Correlated blocks: blocks drawn so far.
    drawn: u64,
}

impl FadingProcess {
    /// A fading process keyed by the first draw of `rng` (the agent's
    /// fading stream).
    pub fn new(law: Fading, rho: f64, mut rng: ChaCha8Rng) -> FadingProcess {
        FadingProcess {
            law,
            rho,
            key: rng.gen(),
            first: 0,
            gains: VecDeque::new(),
            state: (0.0, 0.0),
            drawn: 0,
        }
    }

    /// Whether successive blocks are independent.
    fn independent(&self) -> bool {
        self.rho == 0.0 || self.law == Fading::None
    }

    /// The gain of block `k` of an independent process.
    fn fresh(&self, k: u64) -> f64 {
        let mut rng = BlockRng::new(self.key, k);
        match self.law {
            Fading::None => 1.0,
            Fading::Rayleigh => rng.sample(rand_distr::Exp1),
            Fading::Rician { .. } => power(self.law, complex_normal(&mut rng)),
            Fading::Nakagami { m } => nakagami(m, &mut rng),
        }
    }

    /// The innovation of the Gamma AR(1) process `X_n = a X_{n−1} + ε_n`
    /// with Gamma(m, 1/m) marginal (Gaver & Lewis 1980): `ε = Σ_{i≤N} a^{U_i}
    /// E_i` with `N ~ Poisson(−m ln a)`, `U_i ~ U(0, 1)`, `E_i ~ Exp(m)`.
    fn gamma_innovation(m: f64, a: f64, rng: &mut BlockRng) -> f64 {
        let n = rand_distr::Poisson::new(-m * a.ln()).map_or(0.0, |p| p.sample(rng));
        (0..n as u64)
            .map(|_| {
                let u: f64 = rng.gen();
                let e: f64 = rng.sample(rand_distr::Exp1);
                a.powf(u) * e / m
            })
            .sum()
    }

    /// Draws the next block of a correlated process.
    fn draw(&mut self) -> f64 {
        let mut rng = BlockRng::new(self.key, self.drawn);
        let first = self.drawn == 0;
        self.drawn += 1;
        match self.law {
            Fading::None => 1.0,
            Fading::Nakagami { m } => {
                let a = self.rho * self.rho;
                self.state.0 = if first {
                    nakagami(m, &mut rng)
                } else {
                    a * self.state.0 + Self::gamma_innovation(m, a, &mut rng)
                };
                self.state.0
            }
            Fading::Rayleigh | Fading::Rician { .. } => {
                let w = complex_normal(&mut rng);
                let fresh = (1.0 - self.rho * self.rho).sqrt();
                self.state = if first {
                    w
                } else {
                    (
                        self.rho * self.state.0 + fresh * w.0,
                        self.rho * self.state.1 + fresh * w.1,
                    )
                };
                power(self.law, self.state)
            }
        }
    }

    /// The power gain of block `k`. Correlated blocks before the last
    /// [`forget_before`] are gone; asking for one is a bug.
    ///
    /// [`forget_before`]: FadingProcess::forget_before
    pub fn gain(&mut self, k: u64) -> f64 {
        if self.independent() {
            return self.fresh(k);
        }
        assert!(k >= self.first, "fading block {k} already forgotten");
        while self.first + (self.gains.len() as u64) <= k {
            let g = self.draw();
            self.gains.push_back(g);
        }
        self.gains[(k - self.first) as usize]
    }

    /// Drops correlated blocks before `k` (they will not be asked for again).
    pub fn forget_before(&mut self, k: u64) {
        if self.independent() {
            return;
        }
        while self.first < k {
            if self.gains.pop_front().is_none() {
                // Not drawn yet: draw and drop to keep the chain.
                self.draw();
            }
            self.first += 1;
        }
    }
}

/// What a decision sees of its uplink (SPEC 4.3): the gain of
/// `csi_delay_s` ago, with a log-normal estimation error of `csi_error_db`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChannelEstimate {
    /// Estimated rate `B log2(1 + γ̂)`.
    pub rate: BitsPerSec,
    /// Estimated fading power gain (the block's gain times the error).
    pub gain: f64,
    /// Mean SNR (path loss and shadowing, no fading) at the agent's current
    /// position, linear: what the agent knows without fading.
    pub mean_snr: f64,
    /// The agent's distance to the access point, m.
    pub distance_m: f64,
}

/// How one transmission went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transmission {
    /// When it ended (delivered or given up).
    pub end: SimTime,
    /// Attempts made (1 + retransmissions).
    pub attempts: u32,
    /// Whether the packet got through.
    pub delivered: bool,
}

/// One agent's uplink at run time.
#[derive(Debug)]
pub struct Link {
    channel: ChannelConfig,
    shadowing_db: f64,
    trajectory: Trajectory,
    coherence: SimDuration,
    csi_delay: SimDuration,
    fading: FadingProcess,
    csi_rng: ChaCha8Rng,
    /// The mean SNR of a static agent (it never changes).
    static_snr: Option<f64>,
    /// First block a shared transmission still needs.
    pinned: Option<u64>,
}

impl Link {
    /// A link with shadowing `shadowing_db`, the agent moving along
    /// `trajectory`, its fading process and its CSI-error stream.
    pub fn new(
        cfg: &ChannelConfig,
        shadowing_db: f64,
        mut trajectory: Trajectory,
        fading: FadingProcess,
        csi_rng: ChaCha8Rng,
    ) -> Link {
        let static_snr = trajectory
            .is_static()
            .then(|| cfg.mean_snr(trajectory.distance_m(0.0), shadowing_db));
        Link {
            static_snr,
            channel: cfg.clone(),
            shadowing_db,
            trajectory,
            coherence: SimDuration::from_secs_round(cfg.coherence_s).max(SimDuration(1)),
            csi_delay: SimDuration::from_secs_round(cfg.csi_delay_s),
            fading,
            csi_rng,
            pinned: None,
        }
    }

    fn block_of(&self, t: SimTime) -> u64 {
        t.0 / self.coherence.0
    }

    /// Mean SNR at the agent's position at `t` (path loss and shadowing).
    pub fn mean_snr_at(&mut self, t: SimTime) -> f64 {
        if let Some(snr) = self.static_snr {
            return snr;
        }
        let d = self.trajectory.distance_m(t.as_secs());
        self.channel.mean_snr(d, self.shadowing_db)
    }

    /// Rate of block `k`: its fading gain at the distance of its start.
    fn block_rate(&mut self, k: u64) -> f64 {
        let h = self.fading.gain(k);
        let snr = self.mean_snr_at(SimTime(k * self.coherence.0));
        self.channel.bandwidth_hz * (1.0 + snr * h).log2()
    }

    /// Blocks before the one `csi_delay_s` before `t` are no longer needed.
    fn forget_before(&mut self, t: SimTime) {
        let k = self.block_of(SimTime(t.0.saturating_sub(self.csi_delay.0)));
        self.fading.forget_before(self.pinned.map_or(k, |p| k.min(p)));
    }

    /// What a decision at `now` sees (perfect current CSI by default).
    pub fn estimate(&mut self, now: SimTime) -> ChannelEstimate {
        self.forget_before(now);
        let seen = SimTime(now.0.saturating_sub(self.csi_delay.0));
        let mut gain = self.fading.gain(self.block_of(seen));
        if self.channel.csi_error_db > 0.0 {
            let z: f64 = self.csi_rng.sample(StandardNormal);
            gain *= 10f64.powf(self.channel.csi_error_db * z / 10.0);
        }
        let snr = self.mean_snr_at(seen) * gain;
        ChannelEstimate {
            rate: BitsPerSec(self.channel.bandwidth_hz * (1.0 + snr).log2()),
            gain,
            mean_snr: self.mean_snr_at(now),
            distance_m: self.trajectory.distance_m(now.as_secs()),
        }
    }

    /// The true fading power gain at `now`.
    pub fn gain_at(&mut self, now: SimTime) -> f64 {
        self.forget_before(now);
        self.fading.gain(self.block_of(now))
    }

    /// A transmission of `bits` from `start` in the configured [`LinkMode`].
    pub fn transmit(&mut self, start: SimTime, bits: f64, until: SimTime) -> Transmission {
        match self.channel.link {
            LinkMode::Shannon => Transmission {
                end: self.transmission_end(start, bits, until),
                attempts: 1,
                delivered: true,
            },
            LinkMode::FixedRate { rate_bps, max_retx } => {
                self.fixed_rate(start, bits, until, rate_bps, max_retx)
            }
        }
    }

    /// Fixed-rate transmission with retransmission (see [`LinkMode::FixedRate`]).
    fn fixed_rate(
        &mut self,
        start: SimTime,
        bits: f64,
        until: SimTime,
        rate: f64,
        max_retx: u32,
    ) -> Transmission {
        self.forget_before(start);
        let length = SimDuration::from_secs_ceil(bits / rate);
        let mut t = start;
        let mut attempts = 1;
        loop {
            if t >= until {
                return Transmission {
                    end: until + SimDuration(1),
                    attempts,
                    delivered: false,
                };
            }
            // The first block of the attempt in outage, if any.
            let end = t + length;
            let mut k = self.block_of(t);
            let lost = loop {
                if SimTime(k.saturating_mul(self.coherence.0)) >= until {
                    // Still sending at the end of the run: cut there.
                    return Transmission {
                        end: until + SimDuration(1),
                        attempts,
                        delivered: false,
                    };
                }
                if self.block_rate(k) < rate {
                    break Some(k);
                }
                if SimTime((k + 1).saturating_mul(self.coherence.0)) >= end {
                    break None;
                }
                k += 1;
            };
            match lost {
                None => {
                    return Transmission {
                        end,
                        attempts,
                        delivered: true,
                    }
                }
                Some(k) => {
                    t = SimTime((k + 1) * self.coherence.0);
                    if attempts > max_retx {
                        return Transmission {
                            end: t,
                            attempts,
                            delivered: false,
                        };
                    }
                    attempts += 1;
                }
            }
        }
    }

    /// End time of a transmission of `bits` starting at `start`: it advances at
    /// each fading block's rate until all bits are sent. A transmission still
    /// under way at `until` (the end of the run) is cut there and reported as
    /// ending 1 ns later, so no block beyond the run is drawn or held.
    pub fn transmission_end(&mut self, start: SimTime, bits: f64, until: SimTime) -> SimTime {
        self.shared_end(start, bits, until, 1.0)
    }

    /// [`Link::transmission_end`] at the fraction `share` of each block's rate.
    pub fn shared_end(&mut self, start: SimTime, bits: f64, until: SimTime, share: f64) -> SimTime {
        self.forget_before(start);
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
            let rate = self.block_rate(k) * share;
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

    /// Bits sent in `[from, to]` at the fraction `share` of each block's rate.
    pub fn sent(&mut self, from: SimTime, to: SimTime, share: f64) -> f64 {
        let mut t = from;
        let mut bits = 0.0;
        while t < to {
            let k = self.block_of(t);
            let block_end = SimTime((k + 1) * self.coherence.0).min(to);
            bits += self.block_rate(k) * share * (block_end - t).as_secs();
            t = block_end;
        }
        bits
    }

    /// Keeps the fading blocks from `t` on (a shared transmission's progress
    /// is integrated from there later); `None` releases them.
    pub fn pin(&mut self, t: Option<SimTime>) {
        self.pinned = t.map(|t| self.block_of(t));
    }
}
