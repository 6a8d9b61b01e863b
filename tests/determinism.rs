//! Determinism: same scenario and seed give identical results whatever the
//! thread count; the policy never changes a seed's arrivals or channel.

use crate::util::{run_one, scenario};
use coinfer::engine::Recorder;
use coinfer::model::request::Request;
use coinfer::runner::Runner;

const SMALL: &str = r#"(
    name: "det", horizon_s: 5.0, warmup_s: 0.5, seeds: 6,
    agents: (count: 4, arrivals: Poisson(rate_hz: 3.0)),
    server: (workers: 2, service: Exponential),
    policies: [(name: "fixed", bits_agent: 6, bits_server: 8), (name: "fixed", bits_agent: 12, bits_server: 12)],
)"#;

#[test]
fn same_seed_same_run() {
    let sc = scenario(SMALL);
    let a = Runner::new(&sc)
        .threads(1)
        .run()
        .unwrap()
        .points
        .remove(0)
        .policies;
    let b = Runner::new(&sc)
        .threads(2)
        .run()
        .unwrap()
        .points
        .remove(0)
        .policies;
    for (pa, pb) in a.iter().zip(&b) {
        for (ra, rb) in pa.runs.iter().zip(&pb.runs) {
            assert_eq!(ra.values.map(f64::to_bits), rb.values.map(f64::to_bits));
            assert_eq!(ra.fingerprint, rb.fingerprint);
            assert_eq!(ra.events, rb.events);
        }
    }
}

#[test]
fn policies_see_the_same_arrivals_and_channels() {
    let sc = scenario(SMALL);
    let both = Runner::new(&sc).run().unwrap().points.remove(0).policies;
    // Different policies, same seeds: same fingerprint per seed.
    for (r0, r1) in both[0].runs.iter().zip(&both[1].runs) {
        assert_eq!(r0.fingerprint, r1.fingerprint, "seed {}", r0.seed);
        assert_eq!(r0.requests, r1.requests);
    }
    // Different seeds differ.
    assert_ne!(both[0].runs[0].fingerprint, both[0].runs[1].fingerprint);
    // Dropping the first policy from the list leaves the second's runs as they were.
    let mut only = sc.scenario().clone();
    only.policies.remove(0);
    let only = crate::util::compile(only);
    let alone = Runner::new(&only).run().unwrap().points.remove(0).policies;
    for (ra, rb) in alone[0].runs.iter().zip(&both[1].runs) {
        assert_eq!(ra.fingerprint, rb.fingerprint);
        assert_eq!(ra.values.map(f64::to_bits), rb.values.map(f64::to_bits));
    }
}

#[test]
fn adding_an_agent_keeps_the_others_streams() {
    // Agent 0's arrivals, compute and uplink are its own: with one more agent
    // (sharing only the server) they are exactly the same.
    #[derive(Default)]
    struct Agent0(Vec<(u64, u64, u64)>);
    impl Recorder for Agent0 {
        fn on_complete(&mut self, r: &Request) {
            if r.agent == 0 {
                self.0.push((r.created.0, r.tx_start.0, r.server_arrival.0));
            }
        }
    }
    let trace = |count: u32| {
        let sc = scenario(&SMALL.replace("count: 4", &format!("count: {count}")));
        let mut rec = Agent0::default();
        run_one(&sc, 3, &mut rec);
        // Requests well before the horizon have all completed.
        let mut v: Vec<_> = rec.0.into_iter().filter(|r| r.0 < 4_000_000_000).collect();
        v.sort();
        v
    };
    let (one, three) = (trace(1), trace(3));
    assert!(one.len() > 5);
    assert_eq!(one, three);
}
