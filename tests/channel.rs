//! The uplink against theory. One agent, Rayleigh fading, mean SNR 10
//! (1 W, 20 dB path loss, noise 1e-9 W/Hz over 1 MHz), 1e5-bit payload, no
//! agent-side compute (split 0), so a request's transmission time is
//! `server_arrival − tx_start`.

use crate::util::{run_one, scenario};
use coinfer::engine::Recorder;
use coinfer::model::request::Request;
use rand::{Rng, SeedableRng};

const SNR: f64 = 10.0;
const BITS: f64 = 1e5;
const BW: f64 = 1e6;

#[derive(Default)]
struct TxTimes(Vec<f64>);

impl Recorder for TxTimes {
    fn on_complete(&mut self, r: &Request) {
        self.0.push((r.server_arrival - r.tx_start).as_secs());
    }
}

fn tx_times(coherence_s: f64, arrivals: &str, horizon_s: f64, seeds: u64) -> Vec<f64> {
    let sc = scenario(&format!(
        r#"(
        horizon_s: {horizon_s},
        model: (blocks: [(params: 1e6, lambda: 50.0)], split: 0, payload_bits: {BITS}),
        agents: (count: 1, arrivals: {arrivals}, deadline_s: 100.0),
        channel: (bandwidth_hz: {BW}, tx_power_dbm: 30.0, noise_density_dbm_hz: -60.0,
                  noise_figure_db: 0.0, path_loss: (pl0_db: 20.0, exponent: 0.0),
                  fading: Rayleigh, coherence_s: {coherence_s}),
        server: (cpu: (freqs_ghz: [1.0], cycles_per_weight_bit: 1e-9, kappa: 0.0)),
    )"#
    ));
    let mut times = TxTimes::default();
    for seed in 0..seeds {
        run_one(&sc, seed, &mut times);
    }
    times.0
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

#[test]
fn slow_fading_transmission_time_quantiles() {
    // Coherence 10 s, one request every 20 s: each transmission sees its own
    // block and almost never leaves it. P(T <= t) = exp(-(2^(S/(B t)) - 1)/snr),
    // so the q-quantile is t_q = S / (B log2(1 - snr ln q)).
    let mut t = tx_times(10.0, "Periodic(period_s: 20.0)", 20.0 * 5000.0, 16);
    assert!(t.len() >= 79_990, "{} transmissions", t.len());
    t.sort_by(f64::total_cmp);
    for q in [0.1f64, 0.5, 0.9] {
        let theory = BITS / (BW * (1.0 - SNR * q.ln()).log2());
        let got = quantile(&t, q);
        let rel = (got - theory).abs() / theory;
        eprintln!("q={q}: simulated {got:.6} s, theory {theory:.6} s, rel. error {rel:.4}");
        assert!(rel < 0.03, "quantile {q}: {got} vs {theory}");
    }
}

/// Mean transmission time when a transmission starting at a uniform offset in
/// a block of length `tc` moves on to fresh independent blocks: brute force,
/// independent of the simulator's code.
fn spanning_mean(tc: f64, samples: usize) -> f64 {
    let mut rng = rand::rngs::StdRng::seed_from_u64(99);
    let mut total = 0.0;
    for _ in 0..samples {
        let mut left = BITS;
        let mut t = 0.0;
        let mut room = tc * rng.gen::<f64>();
        loop {
            let h = -(1.0 - rng.gen::<f64>()).ln();
            let rate = BW * (1.0 + SNR * h).log2();
            if rate * room >= left {
                t += left / rate;
                break;
            }
            left -= rate * room;
            t += room;
            room = tc;
        }
        total += t;
    }
    total / samples as f64
}

#[test]
fn fast_fading_transmissions_span_blocks_with_finite_mean() {
    // Coherence 10 ms, below the median transmission time: most transmissions
    // span blocks. Poisson arrivals (0.5/s) start transmissions at uniform
    // offsets within a block, and rarely overlap.
    let tc = 0.01;
    let t = tx_times(tc, "Poisson(rate_hz: 0.5)", 10_000.0, 4);
    let mean = t.iter().sum::<f64>() / t.len() as f64;
    let expected = spanning_mean(tc, 400_000);
    let rel = (mean - expected).abs() / expected;
    eprintln!(
        "coherence {tc} s: simulated mean {mean:.6} s over {} tx, brute force {expected:.6} s, rel {rel:.4}",
        t.len()
    );
    assert!(rel < 0.03, "mean transmission time {mean} vs {expected}");
    // With block fading the worst transmission is a few blocks long, not a
    // deep-fade outlier as in the slow-fading limit.
    let max = t.iter().cloned().fold(0.0, f64::max);
    assert!(max < 20.0 * tc, "longest transmission {max} s");
}
