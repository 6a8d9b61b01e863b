//! Issue 13: the compute side as it behaves (payload from the split).

use crate::util::column;
use coinfer::model::link::{ChannelConfig, Fading};

/// The payload is the output of the last agent-side block, so a split sweep
/// sends what each split's block outputs (no fading: exact times).
#[test]
fn a_split_sweep_sends_each_blocks_output() {
    let text = "(seeds: 2, horizon_s: 10, channel: (fading: None),
        model: (feature_bits: 8, blocks: [
            (name: \"a\", params: 1e6, lambda: 50, output_bits: Some(2e6)),
            (name: \"b\", params: 1e6, lambda: 50, output_elems: Some(50000)),
            (name: \"c\", params: 1e6, lambda: 50)]),
        policies: [(name: \"fixed\", bits_agent: 8, bits_server: 8)],
        sweep: [(param: \"model.split\", values: [1, 2])])";
    let summary = crate::regression::run_quiet(text);
    let cfg = ChannelConfig {
        fading: Fading::None,
        ..ChannelConfig::default()
    };
    let rate = cfg.rate(cfg.mean_snr(30.0, 0.0)).0;
    let tx: Vec<f64> = column(&summary, "tx_time_mean_s")
        .iter()
        .map(|v| v.parse().unwrap())
        .collect();
    for (got, bits) in tx.iter().zip([2e6, 50000.0 * 8.0]) {
        assert!((got - bits / rate).abs() < 2e-9, "{got} vs {}", bits / rate);
    }
    // `model.payload_bits` overrides the blocks.
    let s = crate::util::scenario(
        "(model: (payload_bits: Some(123.0), split: 1, blocks: [(params: 1, lambda: 1, output_bits: Some(9.0)), (params: 1, lambda: 1)]))",
    );
    assert_eq!(s.points[0].system.laim.payload_bits, 123.0);
}

/// Latency and decision of each completed request.
#[derive(Default)]
struct Done(Vec<(f64, f64, bool, bool)>);

impl coinfer::engine::Recorder for Done {
    fn on_complete(&mut self, r: &coinfer::model::request::Request) {
        let missed = r.done > r.deadline;
        self.0.push((
            r.predicted_latency_s,
            r.latency().as_secs(),
            r.decision.feasible,
            missed,
        ));
    }
}

/// A burst at one agent (frames every 0.1 s, each computing for longer):
/// each request's predicted latency includes the backlog ahead of it and
/// equals the measured latency when the channel does not fade.
#[test]
fn predicted_latency_includes_the_agents_backlog() {
    for policy in [
        "(name: \"fixed\", bits_agent: 8, bits_server: 8)",
        "(name: \"exhaustive\")",
    ] {
        let s = crate::util::scenario(&format!(
            "(horizon_s: 30, warmup_s: 0, channel: (fading: None),
              agents: (arrivals: Periodic(period_s: 0.1, phase_s: Some(0.0)), deadline_s: Some(100.0), energy_budget_j: 100),
              server: (workers: 64), policies: [{policy}])"
        ));
        let mut done = Done::default();
        crate::util::run_one(&s, 1, &mut done);
        assert!(done.0.len() > 5, "{policy}");
        let longest = done.0.iter().map(|d| d.1).fold(0.0, f64::max);
        assert!(longest > 1.0, "{policy}: the backlog must build up ({longest} s)");
        for (predicted, measured, ..) in &done.0 {
            assert!(
                (predicted - measured).abs() < 1e-6,
                "{policy}: predicted {predicted} vs {measured}"
            );
        }
    }
}

/// Each change of DVFS state is charged once, and `exhaustive`, which now
/// pays for switches, never calls feasible a decision that then misses (no
/// fading, ample server workers).
#[test]
fn switches_are_charged_once_and_predicted() {
    use coinfer::model::request::Request;
    #[derive(Default)]
    struct Compute(Vec<(f64, f64, f64)>);
    impl coinfer::engine::Recorder for Compute {
        fn on_complete(&mut self, r: &Request) {
            self.0
                .push((r.created.as_secs(), r.decision.freq_agent.0, r.compute_energy.0));
        }
    }
    let s = |policy: &str| {
        crate::util::scenario(&format!(
            "(horizon_s: 20, warmup_s: 0, channel: (fading: None),
              agents: (arrivals: Poisson(rate_hz: 3.0), cpu: (switch_latency_s: 0.05, switch_energy_j: 0.25)),
              server: (workers: 64), policies: [(name: \"{policy}\")])"
        ))
    };
    let (random, s) = (s("random"), s("exhaustive"));
    let mut c = Compute::default();
    crate::util::run_one(&random, 2, &mut c);
    let sys = &s.points[0].system;
    let cpu = &sys.agent_cpu;
    let mut clock = cpu.max_freq().0;
    let (mut switches, mut charged) = (0, 0.0);
    let mut rows = c.0.clone();
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (_, f, energy) in rows {
        let bits_energy = energy - if f != clock { 0.25 } else { 0.0 };
        switches += usize::from(f != clock);
        charged += energy - bits_energy;
        clock = f;
        assert!(bits_energy > 0.0);
    }
    assert!(switches > 3, "the run must switch ({switches})");
    assert!((charged - 0.25 * switches as f64).abs() < 1e-9);
    let mut done = Done::default();
    crate::util::run_one(&s, 2, &mut done);
    let feasible_missed = done.0.iter().filter(|d| d.2 && d.3).count();
    assert_eq!(feasible_missed, 0);
}
