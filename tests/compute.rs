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

/// An idle agent's static power drains its battery: it dies at exactly
/// `battery_j / static_power_w`; a busy one sooner, and creates no frame after.
#[test]
fn batteries_run_out_and_agents_stop() {
    let s = |arrivals: &str| {
        crate::util::scenario(&format!(
            "(horizon_s: 20, warmup_s: 0, agents: (count: 2, arrivals: {arrivals}, battery_j: Some(10.0),
              cpu: (static_power_w: 2.0)), policies: [(name: \"fixed\", bits_agent: 8, bits_server: 8)])"
        ))
    };
    let idle = crate::util::run_one(&s("Poisson(rate_hz: 1e-9)"), 1, &mut ());
    for b in idle.batteries.iter().flatten() {
        assert_eq!(b.dead_at_s, Some(5.0));
        assert_eq!(b.lifetime_s(), 5.0);
    }
    #[derive(Default)]
    struct Created(Vec<(u32, f64)>);
    impl coinfer::engine::Recorder for Created {
        fn on_create(&mut self, r: &coinfer::model::request::Request) {
            self.0.push((r.agent, r.created.as_secs()));
        }
    }
    let mut created = Created::default();
    let busy = crate::util::run_one(&s("Periodic(period_s: 0.5)"), 1, &mut created);
    for (i, b) in busy.batteries.iter().enumerate() {
        let died = b.unwrap().dead_at_s.unwrap();
        assert!(died < 5.0, "agent {i} died at {died}");
        assert!(created.0.iter().all(|&(a, t)| a != i as u32 || t <= died));
    }
    assert!(busy.dropped + busy.completed + busy.in_flight == busy.generated);
}

/// The energy ledger: per request, compute = dynamic + static + switch and
/// server = dynamic + static (a debug assertion in every run); in
/// `summary.csv` the agent parts add up to the agent energy.
#[test]
fn energy_ledger_parts_add_up() {
    let summary = crate::regression::run_quiet(
        "(seeds: 3, horizon_s: 20, agents: (count: 3, arrivals: Poisson(rate_hz: 2.0),
          cpu: (static_power_w: 0.5, switch_latency_s: 0.001, switch_energy_j: 0.05)),
          server: (cpu: (static_power_w: 20.0)), policies: [(name: \"random\"), (name: \"exhaustive\")])",
    );
    let col = |m: &str| {
        column(&summary, m)
            .iter()
            .map(|v| v.parse::<f64>().unwrap())
            .collect::<Vec<_>>()
    };
    let parts: Vec<f64> = [
        "agent_dynamic_mean_j",
        "agent_static_mean_j",
        "agent_switch_mean_j",
        "agent_tx_mean_j",
        "agent_rx_mean_j",
    ]
    .iter()
    .map(|m| col(m))
    .fold(vec![0.0; 2], |acc, v| {
        acc.iter().zip(&v).map(|(a, b)| a + b).collect()
    });
    for (p, total) in parts.iter().zip(col("agent_energy_mean_j")) {
        assert!((p - total).abs() <= 1e-12 * total, "{p} vs {total}");
    }
    assert!(col("agent_switch_mean_j")[0] > 0.0 && col("agent_static_mean_j")[0] > 0.0);
    let server: Vec<f64> = col("server_dynamic_mean_j")
        .iter()
        .zip(col("server_static_mean_j"))
        .map(|(a, b)| a + b)
        .collect();
    for (p, total) in server.iter().zip(col("server_energy_mean_j")) {
        assert!((p - total).abs() <= 1e-12 * total, "{p} vs {total}");
    }
}

/// Completions of a run: (service start, done, server energy).
#[derive(Default)]
struct Served(Vec<(f64, f64, f64)>);

impl coinfer::engine::Recorder for Served {
    fn on_complete(&mut self, r: &coinfer::model::request::Request) {
        self.0
            .push((r.service_start.as_secs(), r.done.as_secs(), r.server_energy.0));
    }
}

fn batching(batching: &str, agents: u32, period: f64) -> (coinfer::study::Study, Served) {
    let s = crate::util::scenario(&format!(
        "(horizon_s: 20, warmup_s: 0, channel: (fading: None), model: (payload_bits: Some(1e4)),
          agents: (count: {agents}, arrivals: Periodic(period_s: {period}), deadline_s: None, energy_budget_j: 100),
          server: (workers: 1, batching: {batching}),
          policies: [(name: \"fixed\", bits_agent: 8, bits_server: 8)])"
    ));
    let mut served = Served::default();
    crate::util::run_one(&s, 4, &mut served);
    (s, served)
}

/// Saturated server: with `beta = 0` a batch of k serves k times as many
/// requests per second; with `beta = 1` batching gains nothing.
#[test]
fn batching_multiplies_throughput_by_the_batch_size_when_free() {
    let throughput = |b: &str| {
        let (_, s) = batching(b, 40, 0.2);
        s.0.iter().filter(|d| d.1 > 5.0 && d.1 <= 20.0).count() as f64 / 15.0
    };
    let one = throughput("None");
    let free = throughput("Batch(max_batch: 4, beta: 0.0)");
    let costly = throughput("Batch(max_batch: 4, beta: 1.0)");
    assert!((free / one - 4.0).abs() < 0.1, "{free} vs {one}");
    assert!((costly / one - 1.0).abs() < 0.05, "{costly} vs {one}");
}

/// One frame a second and batches of up to 4: each frame waits exactly
/// `max_wait_s` for company, then is served alone.
#[test]
fn a_lone_request_waits_max_wait_s() {
    let (s, served) = batching("Batch(max_batch: 4, max_wait_s: 0.2, beta: 0.5)", 1, 1.0);
    let summary = crate::regression::run_quiet(&s.to_ron());
    let wait: f64 = column(&summary, "server_wait_mean_s")[0].parse().unwrap();
    assert!((wait - 0.2).abs() < 1e-9, "{wait}");
    assert!(served.0.len() > 15);
    // The prediction knows the batching rule: it waits for the batch too.
    let mut done = Done::default();
    crate::util::run_one(&s, 4, &mut done);
    for (predicted, measured, ..) in &done.0 {
        assert!(
            (predicted - measured).abs() < 1e-6,
            "predicted {predicted} vs {measured}"
        );
    }
}

/// The energy of a batch of k (`beta = 0.5`) is that of `T_1 (1 + beta (k − 1))`
/// of busy time, and the requests' shares add up to it.
#[test]
fn batch_energy_is_shared_and_adds_up() {
    let (s, served) = batching("Batch(max_batch: 3, beta: 0.5)", 12, 0.2);
    let sys = &s.points[0].system;
    let cpu = &sys.server_cpu;
    let single = cpu.cycles(
        sys.laim.side_params(coinfer::model::laim::Side::Server),
        crate::util::bw(8),
    );
    let mut batches: std::collections::BTreeMap<u64, (usize, f64)> = Default::default();
    for (start, _, e) in &served.0 {
        let b = batches.entry((start * 1e9).round() as u64).or_default();
        b.0 += 1;
        b.1 += e;
    }
    assert!(batches.values().any(|b| b.0 == 3));
    for (k, energy) in batches.values() {
        let want = cpu
            .energy(single * (1.0 + 0.5 * (*k as f64 - 1.0)), cpu.max_freq())
            .0;
        assert!((energy - want).abs() <= 1e-12 * want, "k {k}: {energy} vs {want}");
    }
}

/// `summary.json` lists each agent's time of death per seed.
#[test]
fn summary_json_lists_deaths_per_agent_and_seed() {
    let tmp = crate::util::run_in_tmp(
        "(seeds: 2, horizon_s: 20, warmup_s: 0, agents: (count: 3, arrivals: Poisson(rate_hz: 1e-9),
          battery_j: Some(10.0), cpu: (static_power_w: 2.0)), policies: [(name: \"fixed\", bits_agent: 8, bits_server: 8)])",
        &[],
    );
    let json = std::fs::read_to_string(tmp.path().join("out/summary.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        doc["rows"][0]["agent_death_s"],
        serde_json::json!([[5.0, 5.0, 5.0], [5.0, 5.0, 5.0]])
    );
    assert_eq!(doc["rows"][0]["agents_dead"]["mean"], serde_json::json!(3.0));
}
