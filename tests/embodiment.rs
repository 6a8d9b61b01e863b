//! Issue 12: agents that move, decide on stale or noisy channel estimates,
//! and plan their uplink with a channel view.

use crate::util::{column, scenario};
use coinfer::model::link::{ChannelConfig, Fading, FadingProcess, Link};
use coinfer::model::mobility::{Mobility, Trajectory};
use coinfer::rng::{stream, Purpose, StreamId};
use coinfer::units::SimTime;

fn close(a: (f64, f64), b: (f64, f64)) -> bool {
    (a.0 - b.0).abs() < 1e-9 && (a.1 - b.1).abs() < 1e-9
}

#[test]
fn waypoints_follow_hand_computed_points() {
    // Legs: (0,0)→(30,40) is 50 m (5 s at 10 m/s), (30,40)→(30,0) is 40 m (4 s).
    let points = vec![(0.0, 0.0), (30.0, 40.0), (30.0, 0.0)];
    let open = Mobility::Waypoints {
        points: points.clone(),
        speed_mps: 10.0,
        looped: false,
    };
    let mut t = Trajectory::new(&open, None);
    for (time, want) in [
        (0.0, (0.0, 0.0)),
        (2.5, (15.0, 20.0)),
        (5.0, (30.0, 40.0)),
        (7.0, (30.0, 20.0)),
        (9.0, (30.0, 0.0)),
        (100.0, (30.0, 0.0)),
    ] {
        assert!(
            close(t.position(time), want),
            "t={time}: {:?} vs {want:?}",
            t.position(time)
        );
    }
    assert!((t.distance_m(2.5) - 25.0).abs() < 1e-9);
    assert_eq!(t.speed_mps(100.0), 0.0);
    // Looped: back to (0,0) over 30 m (3 s); period 12 s.
    let looped = Mobility::Waypoints {
        points,
        speed_mps: 10.0,
        looped: true,
    };
    let mut t = Trajectory::new(&looped, None);
    for (time, want) in [
        (10.5, (15.0, 0.0)),
        (12.0, (0.0, 0.0)),
        (14.5, (15.0, 20.0)),
        (24.0 + 7.0, (30.0, 20.0)),
    ] {
        assert!(
            close(t.position(time), want),
            "t={time}: {:?} vs {want:?}",
            t.position(time)
        );
    }
}

/// Random waypoint: positions stay in the area, and the time-stationary
/// speed law has density `1/(v ln(hi/lo))` on `[lo, hi]` (speed decay), not
/// the uniform law legs are drawn from.
#[test]
fn random_waypoint_stays_in_its_area_with_the_stationary_speed_law() {
    let (lo, hi) = (1.0f64, 10.0f64);
    let m = Mobility::RandomWaypoint {
        area_m: (100.0, 60.0),
        speed_mps: (lo, hi),
        pause_s: 0.0,
    };
    let mut t = Trajectory::new(&m, Some(stream(3, StreamId::new(Purpose::Mobility, 0))));
    let mut speeds = Vec::new();
    for k in 0..40_000 {
        let time = 1000.0 + 5.0 * k as f64;
        let (x, y) = t.position(time);
        assert!(x.abs() <= 50.0 && y.abs() <= 30.0, "({x}, {y}) left the area");
        speeds.push(t.speed_mps(time));
    }
    let n = speeds.len() as f64;
    for v in [1.5, 2.0, 3.0, 5.0, 8.0] {
        let empirical = speeds.iter().filter(|&&s| s <= v).count() as f64 / n;
        let stationary = (v / lo).ln() / (hi / lo).ln();
        assert!(
            (empirical - stationary).abs() < 0.02,
            "F({v}) = {empirical}, stationary {stationary}"
        );
    }
    let mean = speeds.iter().sum::<f64>() / n;
    let want = (hi - lo) / (hi / lo).ln(); // 3.91 m/s, not the 5.5 of a leg
    assert!((mean / want - 1.0).abs() < 0.03, "mean speed {mean} vs {want}");
}

fn link(cfg: &ChannelConfig, mobility: &Mobility) -> Link {
    let fading = FadingProcess::new(cfg.fading, cfg.rho, stream(1, StreamId::new(Purpose::Fading, 0)));
    let trajectory = Trajectory::new(mobility, None);
    Link::new(
        cfg,
        0.0,
        trajectory,
        fading,
        stream(1, StreamId::new(Purpose::Csi, 0)),
    )
}

#[test]
fn the_link_follows_the_distance_at_every_instant() {
    let cfg = ChannelConfig {
        fading: Fading::None,
        ..ChannelConfig::default()
    };
    let away = Mobility::Waypoints {
        points: vec![(10.0, 0.0), (210.0, 0.0)],
        speed_mps: 5.0,
        looped: false,
    };
    let mut l = link(&cfg, &away);
    for s in [0.0f64, 10.0, 20.0, 40.0, 100.0] {
        let want = cfg.mean_snr(10.0 + 5.0 * s.min(40.0), 0.0);
        let got = l.mean_snr_at(SimTime::from_secs_round(s));
        assert!((got / want - 1.0).abs() < 1e-12, "t={s}: {got} vs {want}");
    }
    // A transmission advances at each block's rate, at the distance of that block.
    let cfg = ChannelConfig {
        coherence_s: 1.0,
        ..cfg
    };
    let mut l = link(&cfg, &away);
    let rate = |d: f64| cfg.rate(cfg.mean_snr(d, 0.0)).0;
    let bits = rate(10.0) * 0.5 + rate(15.0) * 0.25;
    let end = l.transmission_end(
        SimTime::from_secs_round(0.5),
        bits,
        SimTime::from_secs_round(100.0),
    );
    assert!((end.as_secs() - 1.25).abs() < 2e-9, "{end:?}");
}

fn correlation(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let cov: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let vx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let vy: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
    cov / (vx * vy).sqrt()
}

/// A decision `k` blocks stale sees a gain independent of the current one
/// with independent blocks, and correlated `ρ^(2k)` in power with
/// Gauss–Markov blocks (the complex gains correlate `ρ^k`).
#[test]
fn stale_csi_decorrelates_as_the_fading_law_says() {
    for (rho, k) in [(0.0, 3u64), (0.9, 3), (0.95, 1)] {
        let cfg = ChannelConfig {
            rho,
            csi_delay_s: 0.01 * k as f64,
            ..ChannelConfig::default()
        };
        let mut l = link(&cfg, &Mobility::default());
        let (mut seen, mut now) = (Vec::new(), Vec::new());
        for i in 0..40_000u64 {
            let t = SimTime::from_secs_round(0.01 * i as f64 + 0.005);
            seen.push(l.estimate(t).gain);
            now.push(l.gain_at(t));
        }
        let want = rho.powi(2 * k as i32);
        let got = correlation(&seen, &now);
        assert!((got - want).abs() < 0.03, "rho {rho}, lag {k}: {got} vs {want}");
    }
}

/// The log-normal estimation error: `10 log10(ĥ/h) ~ N(0, σ²)`.
#[test]
fn csi_error_is_log_normal_with_the_given_spread() {
    let cfg = ChannelConfig {
        csi_error_db: 3.0,
        ..ChannelConfig::default()
    };
    let mut l = link(&cfg, &Mobility::default());
    let e: Vec<f64> = (0..20_000u64)
        .map(|i| {
            let t = SimTime::from_secs_round(0.01 * i as f64);
            10.0 * (l.estimate(t).gain / l.gain_at(t)).log10()
        })
        .collect();
    let n = e.len() as f64;
    let mean = e.iter().sum::<f64>() / n;
    let sd = (e.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
    assert!(
        mean.abs() < 0.07 && (sd - 3.0).abs() < 0.07,
        "mean {mean} dB, sd {sd} dB"
    );
}

/// `Outage { eps }` plans with the rate one block exceeds with probability
/// `1 − eps`. With coherence far longer than a transmission the share of
/// transmissions slower than planned is `eps`; with short coherence a
/// transmission averages over blocks and overruns less.
#[test]
fn outage_view_overruns_with_probability_eps() {
    let run = |coherence: f64| {
        let text = format!(
            "(seeds: 10, horizon_s: 200, warmup_s: 0,
              agents: (count: 2, arrivals: Poisson(rate_hz: 2), deadline_s: Some(5.0), energy_budget_j: 100, mobility: Static(distance_m: 80)),
              channel: (coherence_s: {coherence}),
              policies: [(name: \"exhaustive\", channel_view: Outage(eps: 0.1))])"
        );
        let summary = crate::regression::run_quiet(&text);
        column(&summary, "tx_overrun_rate")[0].parse::<f64>().unwrap()
    };
    let long = run(5.0);
    assert!(
        (long - 0.1).abs() < 0.025,
        "coherence 5 s: overrun {long}, eps 0.1"
    );
    let short = run(0.001);
    assert!(short < 0.05, "coherence 1 ms: overrun {short}");
}

#[test]
fn outage_and_ergodic_rates_match_closed_forms() {
    let s = scenario("(channel: (fading: Rayleigh))");
    let sys = &s.points[0].system;
    let snr = 10.0;
    let ctx = coinfer::policy::DecisionContext::one_shot(sys, snr);
    let b = sys.channel.bandwidth_hz;
    let outage = coinfer::policy::ChannelView::Outage { eps: 0.05 }.rate(&ctx).0;
    assert!((outage / (b * (1.0 + snr * -(0.95f64).ln()).log2()) - 1.0).abs() < 1e-12);
    // Ergodic Rayleigh capacity: B e^{1/γ} E1(1/γ) / ln 2 (E1(0.1) = 1.8229240).
    let ergodic = coinfer::policy::ChannelView::Ergodic.rate(&ctx).0;
    let want = b * (0.1f64).exp() * 1.822_924_0 / std::f64::consts::LN_2;
    assert!((ergodic / want - 1.0).abs() < 0.005, "{ergodic} vs {want}");
    // Rician quantiles: K = 0 is Rayleigh; a large K concentrates near 1.
    for p in [0.01, 0.1, 0.5, 0.9] {
        let r = Fading::Rician { k: 0.0 }.quantile(p);
        assert!((r + (-p).ln_1p()).abs() < 1e-9, "p {p}: {r}");
    }
    let q = Fading::Rician { k: 100.0 }.quantile(0.5);
    assert!((q - 1.0).abs() < 0.02, "{q}");
}

/// Nakagami blocks with `rho`: Gamma(m, 1/m) marginal (KS test) and power
/// gains correlated `rho²` from one block to the next.
#[test]
fn correlated_nakagami_keeps_its_marginal_and_correlates_rho_squared() {
    use statrs::distribution::{ContinuousCDF, Gamma};
    for (m, rho) in [(0.7, 0.8), (2.5, 0.9), (1.0, 0.5)] {
        let mut f = FadingProcess::new(
            Fading::Nakagami { m },
            rho,
            stream(9, StreamId::new(Purpose::Fading, 0)),
        );
        let h: Vec<f64> = (0..50_000u64).map(|k| f.gain(k)).collect();
        let mut sorted = h.clone();
        sorted.sort_by(f64::total_cmp);
        let law = Gamma::new(m, m).unwrap();
        let n = sorted.len() as f64;
        let ks = sorted
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let c = law.cdf(x);
                (c - i as f64 / n).abs().max(((i + 1) as f64 / n - c).abs())
            })
            .fold(0.0, f64::max);
        // Correlated samples: the KS tolerance is wider than 1.36/√n.
        assert!(ks < 0.03, "m {m}, rho {rho}: KS {ks}");
        let lag1 = correlation(&h[..h.len() - 1], &h[1..]);
        assert!(
            (lag1 - rho * rho).abs() < 0.03,
            "m {m}: lag-1 {lag1} vs {}",
            rho * rho
        );
    }
}

#[test]
fn doppler_sets_rho_by_jakes_model() {
    // J0(1) = 0.7651976866, J0(5) = −0.1775967713 (tables).
    let at = |x: f64| {
        ChannelConfig {
            doppler_hz: Some(x / (2.0 * std::f64::consts::PI * 0.01)),
            ..ChannelConfig::default()
        }
        .block_rho()
    };
    assert!((at(1.0) - 0.765_197_686_6).abs() < 1e-7);
    assert!((at(5.0) + 0.177_596_771_3).abs() < 1e-7);
    let s = scenario("(channel: (doppler_hz: Some(10.0), coherence_s: 0.01, fading: Nakagami(m: 2.0)))");
    assert!(
        (s.points[0].system.channel.block_rho()
            - coinfer::model::link::bessel_j0(0.2 * std::f64::consts::PI))
        .abs()
            < 1e-15
    );
}

/// `FixedRate`: with each attempt inside one independent Rayleigh block, the
/// retransmissions of a packet are geometric with the outage probability
/// `p = 1 − exp(−(2^(R/B) − 1)/γ̄)`, truncated at `max_retx`.
#[test]
fn fixed_rate_retransmissions_are_geometric_in_the_outage_probability() {
    use coinfer::model::link::LinkMode;
    for max_retx in [50u32, 1] {
        let base = ChannelConfig {
            coherence_s: 0.01,
            ..ChannelConfig::default()
        };
        let snr = base.mean_snr(120.0, 0.0);
        let rate = base.bandwidth_hz * 2.0; // 2 bit/s/Hz: threshold SNR 3
        let p = 1.0 - (-3.0 / snr).exp();
        let cfg = ChannelConfig {
            link: LinkMode::FixedRate {
                rate_bps: rate,
                max_retx,
            },
            ..base
        };
        let mut l = link(&cfg, &Mobility::Static { distance_m: 120.0 });
        let bits = rate * 0.001; // 1 ms of a 10 ms block
        let n = 20_000u64;
        let (mut retx, mut failed, mut first_ok) = (0u64, 0u64, 0u64);
        for i in 0..n {
            let start = SimTime::from_secs_round(0.2 * i as f64);
            let tx = l.transmit(start, bits, SimTime::from_secs_round(1e6));
            retx += u64::from(tx.attempts - 1);
            failed += u64::from(!tx.delivered);
            first_ok += u64::from(tx.attempts == 1 && tx.delivered);
        }
        let n = n as f64;
        assert!(
            (first_ok as f64 / n - (1.0 - p)).abs() < 0.015,
            "P(no retx) {} vs {}",
            first_ok as f64 / n,
            1.0 - p
        );
        if max_retx == 50 {
            let want = p / (1.0 - p);
            assert!(
                (retx as f64 / n / want - 1.0).abs() < 0.05,
                "mean retx {} vs {want}",
                retx as f64 / n
            );
            assert_eq!(failed, 0);
        } else {
            let want = p * p;
            assert!(
                (failed as f64 / n - want).abs() < 0.015,
                "failed {} vs {want}",
                failed as f64 / n
            );
        }
    }
}

/// Failed requests end (conservation is checked by the engine in debug
/// builds), are counted in `failed_rate`, and a result downlink adds exactly
/// `result_bits / rate` to every latency on a non-fading channel.
#[test]
fn failed_requests_and_the_result_downlink_end_to_end() {
    let run = |channel: &str, model: &str| {
        let text = format!(
            "(seeds: 3, horizon_s: 60, agents: (count: 2, deadline_s: None), channel: ({channel}),
              model: ({model}), policies: [(name: \"fixed\", bits_agent: 8, bits_server: 8)])"
        );
        crate::regression::run_quiet(&text)
    };
    let lossy = run(
        "link: FixedRate(rate_bps: 3e8, max_retx: 0), coherence_s: 0.001",
        "",
    );
    let failed: f64 = column(&lossy, "failed_rate")[0].parse().unwrap();
    assert!(failed > 0.05 && failed < 1.0, "failed_rate {failed}");
    let plain = run("fading: None", "");
    let back = run("fading: None, rx_power_w: 0.5", "result_bits: 1e6");
    let lat = |s: &str| column(s, "latency_mean_s")[0].parse::<f64>().unwrap();
    let cfg = ChannelConfig {
        fading: Fading::None,
        ..ChannelConfig::default()
    };
    let downlink = 1e6 / cfg.rate(cfg.mean_snr(30.0, 0.0)).0;
    let rx: f64 = column(&back, "agent_rx_mean_j")[0].parse().unwrap();
    assert!((rx - 0.5 * downlink).abs() < 1e-9, "receive energy {rx}");
    assert!(
        (lat(&back) - lat(&plain) - downlink).abs() < 2e-9,
        "{} vs {}",
        lat(&back) - lat(&plain),
        downlink
    );
}

/// Each completed request's uplink `(tx_start, server_arrival)`, s.
#[derive(Default)]
struct Uplinks(Vec<(f64, f64)>);

impl coinfer::engine::Recorder for Uplinks {
    fn on_complete(&mut self, r: &coinfer::model::request::Request) {
        self.0.push((r.tx_start.as_secs(), r.server_arrival.as_secs()));
    }
}

fn shared(agents: u32, arrivals: &str) -> (coinfer::study::Study, f64) {
    let s = scenario(&format!(
        "(horizon_s: 30, model: (payload_bits: 2e6),
          agents: (count: {agents}, arrivals: {arrivals}, deadline_s: None, energy_budget_j: 100),
          channel: (fading: None, access: SharedEqual),
          policies: [(name: \"fixed\", bits_agent: 8, bits_server: 8)])"
    ));
    let ch = &s.points[0].system.channel;
    let single = 2e6 / ch.rate(ch.mean_snr(30.0, 0.0)).0;
    (s, single)
}

#[test]
fn shared_uplink_n_simultaneous_senders_take_n_times_as_long() {
    for n in [1u32, 2, 4] {
        let (s, single) = shared(n, "Periodic(period_s: 1.0, phase_s: Some(0.1))");
        let mut up = Uplinks::default();
        crate::util::run_one(&s, 7, &mut up);
        assert!(up.0.len() >= 25 * n as usize);
        for (start, end) in &up.0 {
            let t = end - start;
            assert!(
                (t - n as f64 * single).abs() < 3e-9,
                "n {n}: {t} vs {}",
                n as f64 * single
            );
        }
    }
}

/// Staggered starts: every uplink ends when an independent processor-sharing
/// fluid computation of the same starts says it does.
#[test]
fn shared_uplink_staggered_starts_match_processor_sharing() {
    let (s, single) = shared(5, "Poisson(rate_hz: 2.0)");
    let mut up = Uplinks::default();
    let mut world = s.points[0].world(3);
    let mut policy = s.policies[0]
        .factory
        .build(stream(3, StreamId::new(Purpose::Policy, 0)));
    coinfer::engine::run(&mut world, policy.as_mut(), &mut up);
    let mut starts: Vec<f64> = up.0.iter().map(|u| u.0).collect();
    starts.extend(
        world
            .agents
            .iter()
            .filter_map(|a| a.transmitting.as_ref())
            .map(|r| r.tx_start.as_secs()),
    );
    starts.sort_by(f64::total_cmp);
    // Fluid processor sharing: every active transmission advances at 1/n of
    // the full rate; `work` is in seconds of full-rate transmission.
    let mut active: Vec<(f64, f64)> = Vec::new(); // (start, work left)
    let mut ends: Vec<(f64, f64)> = Vec::new();
    let (mut t, mut next) = (0.0, 0);
    while next < starts.len() || !active.is_empty() {
        let n = active.len() as f64;
        let finish = match active.len() {
            0 => f64::INFINITY,
            _ => active.iter().map(|a| a.1).fold(f64::INFINITY, f64::min) * n,
        };
        let arrive = starts.get(next).map_or(f64::INFINITY, |&s| s - t);
        let dt = finish.min(arrive);
        for a in &mut active {
            a.1 -= dt / n.max(1.0);
        }
        t += dt;
        if arrive <= finish {
            active.push((starts[next], single));
            next += 1;
        } else {
            let k = active
                .iter()
                .enumerate()
                .min_by(|a, b| a.1 .1.total_cmp(&b.1 .1))
                .unwrap()
                .0;
            ends.push((active.swap_remove(k).0, t));
        }
    }
    let mut overlapping = 0;
    for (start, end) in &up.0 {
        let want = ends.iter().find(|e| (e.0 - start).abs() < 1e-12).unwrap().1;
        assert!((end - want).abs() < 1e-7, "start {start}: {end} vs {want}");
        overlapping += usize::from(end - start > single * 1.5);
    }
    assert!(
        overlapping > 10,
        "the case must have overlapping uplinks ({overlapping})"
    );
}

/// With `--trace`, `run` draws timelines; the distance timeline of agents on
/// waypoints follows their path (out at 2 m/s from 10 m, back after 120 s).
#[test]
fn traced_runs_draw_timelines_that_follow_the_path() {
    let tmp = crate::util::run_in_tmp(
        "(horizon_s: 240, warmup_s: 0, seeds: 2, agents: (count: 2, arrivals: Periodic(period_s: 0.5),
          mobility: Waypoints(points: [(10.0, 0.0), (250.0, 0.0)], speed_mps: 2.0, looped: true)),
          policies: [(name: \"exhaustive\")])",
        &["--trace"],
    );
    let d = tmp.path();
    let csv_text = std::fs::read_to_string(d.join("out/plots/timeline_distance_m.csv")).unwrap();
    let (xs, ys) = (column(&csv_text, "x"), column(&csv_text, "y"));
    assert_eq!(xs.len(), 60);
    for (x, y) in xs.iter().zip(&ys) {
        let (t, got): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
        let want = if t < 120.0 {
            10.0 + 2.0 * t
        } else {
            250.0 - 2.0 * (t - 120.0)
        };
        // A 4 s bin spans 8 m of path.
        assert!((got - want).abs() <= 4.5, "t {t}: {got} vs {want}");
    }
    assert!(d.join("out/plots/timeline_bits_agent.svg").exists());
}

/// Groups of agents: `summary_groups.csv` breaks the metrics down per group.
/// With enough server workers the agents do not interact, so the first
/// group's row equals a run of that group alone (same streams: agents 0..n).
#[test]
fn groups_of_agents_are_broken_down_and_match_a_run_of_the_group_alone() {
    let far = "(name: \"far\", count: 2, arrivals: Periodic(period_s: 0.5, jitter_s: 0.1), mobility: Static(distance_m: 200.0))";
    let near = "(name: \"near\", count: 3, arrivals: Poisson(rate_hz: 3.0), mobility: Waypoints(points: [(5.0, 5.0), (60.0, 0.0)], speed_mps: 1.0))";
    let common = "seeds: 3, horizon_s: 20, server: (workers: 64), policies: [(name: \"exhaustive\"), (name: \"fixed\", bits_agent: 8, bits_server: 8)]";
    let run = |agents: &str| crate::util::run_in_tmp(&format!("({common}, agents: {agents})"), &[]);
    let (both, far_alone) = (run(&format!("[{far}, {near}]")), run(far));
    let read = |tmp: &tempfile::TempDir, file: &str| {
        std::fs::read_to_string(tmp.path().join("out").join(file)).unwrap()
    };
    let groups = read(&both, "summary_groups.csv");
    let alone = read(&far_alone, "summary.csv");
    assert_eq!(
        column(&groups, "group"),
        ["far", "far", "near", "near"].map(String::from)
    );
    for m in [
        "requests",
        "completed",
        "latency_mean_s",
        "miss_rate",
        "bits_agent_mean",
        "agent_energy_mean_j",
        "tx_time_mean_s",
    ] {
        let (g, a) = (column(&groups, m), column(&alone, m));
        assert_eq!([&g[0], &g[1]], [&a[0], &a[1]], "{m}");
    }
    // The groups add up to the whole.
    let whole = read(&both, "summary.csv");
    let n = |s: &str, m: &str, i: usize| column(s, m)[i].parse::<u64>().unwrap();
    assert_eq!(
        n(&groups, "requests", 0) + n(&groups, "requests", 2),
        n(&whole, "requests", 0)
    );
    assert_eq!(
        n(&groups, "completed", 1) + n(&groups, "completed", 3),
        n(&whole, "completed", 1)
    );

    // What groups share must agree.
    let err = coinfer::study::Study::from_str(
        "g.ron".as_ref(),
        "(agents: [(count: 1), (count: 2, deadline_s: Some(0.9))])",
        &Default::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("agents[1].deadline_s") && err.contains("groups of agents share"),
        "{err}"
    );
}

/// Issue 12's hypothesis on `paper.ron` at 200 m, as measured (README,
/// "Embodied agents"): a 5 % per-block outage rate leaves no decision
/// feasible, so `exhaustive` falls back to 2/2 bits on every frame and
/// misses nothing; the ergodic rate finds every decision feasible.
#[test]
fn outage_view_at_200_m_falls_back_on_every_frame() {
    let mut sc = crate::util::raw(&crate::util::root().join("scenarios/paper.ron"));
    sc.sweep.clear();
    sc.seeds = 2;
    sc.horizon_s = 10.0;
    sc.agents.0[0].mobility = Mobility::Static { distance_m: 200.0 };
    let spec = |view| coinfer::policy::PolicySpec {
        name: "exhaustive".into(),
        channel_view: Some(view),
        ..Default::default()
    };
    use coinfer::policy::ChannelView;
    sc.policies = vec![
        spec(ChannelView::Outage { eps: 0.05 }),
        spec(ChannelView::Ergodic),
    ];
    sc.reference = None;
    let summary = crate::regression::run_quiet(&sc.to_ron());
    let col = |m: &str| {
        column(&summary, m)
            .iter()
            .map(|v| v.parse::<f64>().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(col("infeasible_rate"), [1.0, 0.0]);
    assert_eq!(col("bits_agent_mean")[0], 2.0);
    assert_eq!(col("miss_rate")[0], 0.0);
    assert!(col("distortion_upper_mean")[0] > 100.0 * col("distortion_upper_mean")[1]);
}
