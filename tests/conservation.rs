//! Conservation: every request is completed, dropped or still in flight, and
//! the energy ledgers equal the sum of the requests' parts.

use crate::util::{run_one, scenario};
use coinfer::engine::Recorder;
use coinfer::model::request::Request;
use coinfer::rng::{stream, Purpose, StreamId};

#[derive(Default)]
struct Ledger {
    completed: u64,
    dropped: u64,
    agent_j: f64,
    server_j: f64,
}

impl Recorder for Ledger {
    fn on_complete(&mut self, r: &Request) {
        self.completed += 1;
        self.agent_j += r.agent_energy().0;
        self.server_j += r.server_energy.0;
        assert!(r.created <= r.compute_start && r.compute_start <= r.tx_start);
        assert!(
            r.tx_start <= r.server_arrival
                && r.server_arrival <= r.service_start
                && r.service_start <= r.done
        );
    }
    fn on_drop(&mut self, r: &Request) {
        self.dropped += 1;
        assert_eq!(r.agent_energy().0, 0.0, "a dropped frame was never computed");
    }
}

/// An overloaded system with frame skipping, DVFS switches and static power,
/// stopped mid-flight by the horizon.
const BUSY: &str = r#"(
    horizon_s: 20.0, warmup_s: 2.0,
    agents: (count: 6, arrivals: Poisson(rate_hz: 3.0), max_queue: 2,
             cpu: (freqs_ghz: [0.8, 2.0], cycles_per_weight_bit: 0.05, kappa: 2e-27,
                   static_power_w: 0.5, switch_latency_s: 0.001, switch_energy_j: 0.01)),
    server: (workers: 2, service: LogNormal(sigma: 0.5), discipline: Edf),
    policies: [(name: "fixed", bits_agent: 8, bits_server: 8)],
)"#;

#[test]
fn requests_and_energy_are_conserved() {
    let sc = scenario(BUSY);
    for seed in 1..4 {
        let mut world = sc.points[0].world(seed);
        let mut policy = sc.policies[0]
            .factory
            .build(stream(seed, StreamId::new(Purpose::Policy, 0)));
        let mut ledger = Ledger::default();
        let out = coinfer::engine::run(&mut world, policy.as_mut(), &mut ledger);
        assert!(
            out.dropped > 0 && out.in_flight > 0,
            "the scenario should drop frames and end mid-flight: {out:?}"
        );
        assert_eq!(out.generated, ledger.completed + ledger.dropped + out.in_flight);
        assert_eq!(out.completed, ledger.completed);
        let (in_agent, in_server) = world.in_flight().fold((0.0, 0.0), |(a, s), r| {
            (a + r.agent_energy().0, s + r.server_energy.0)
        });
        let agent = ledger.agent_j + in_agent;
        let server = ledger.server_j + in_server;
        assert!(
            (agent - out.agent_energy.0).abs() <= 1e-9 * agent,
            "{agent} vs {}",
            out.agent_energy.0
        );
        assert!(
            (server - out.server_energy.0).abs() <= 1e-9 * server,
            "{server} vs {}",
            out.server_energy.0
        );
    }
}

#[test]
fn per_request_energy_follows_the_formulas() {
    // No fading, one agent, fixed 8/8 at 2 GHz: every request costs the same.
    let sc = scenario(
        r#"(horizon_s: 10.0, channel: (fading: None),
            policies: [(name: "fixed", bits_agent: 8, bits_server: 8)])"#,
    );
    #[derive(Default)]
    struct Last(Vec<Request>);
    impl Recorder for Last {
        fn on_complete(&mut self, r: &Request) {
            self.0.push(r.clone());
        }
    }
    let mut rec = Last::default();
    run_one(&sc, 1, &mut rec);
    let r = &rec.0[3];
    // Agent: C = 0.05 * 1.107e9 * 8, E = 2e-27 * C * (2e9)^2.
    let c = 0.05 * 1.107e9 * 8.0;
    assert!((r.compute_energy.0 - 2e-27 * c * 4e18).abs() < 1e-9);
    // Server: C = 0.02 * 2.65e9 * 8 at 10 GHz, E = 1e-28 * C * 1e20.
    let cs = 0.02 * 2.65e9 * 8.0;
    assert!((r.server_energy.0 - 1e-28 * cs * 1e20).abs() < 1e-9);
    assert_eq!((r.done - r.service_start).0, (cs / 1e10 * 1e9).ceil() as u64);
    // Uplink: 0.2 W for S / (B log2(1 + snr)) seconds, snr from -174+7 dBm/Hz,
    // 46.4 + 30 log10(30) dB.
    let snr = 0.19952623149688797 * 10f64.powf(-(46.4 + 30.0 * 30f64.log10()) / 10.0)
        / (10f64.powf((-174.0 + 7.0 - 30.0) / 10.0) * 20e6);
    let t_tx = 1310720.0 / (20e6 * (1.0 + snr).log2());
    assert!(((r.server_arrival - r.tx_start).as_secs() - t_tx).abs() < 2e-9);
    assert!((r.tx_energy.0 - 0.19952623149688797 * t_tx).abs() < 1e-9);
}
