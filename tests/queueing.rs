//! The server queue against queueing theory. Poisson arrivals from many agents,
//! zero payload and no agent-side blocks (split 0), so requests reach the
//! server as a Poisson stream; service time S = c·N·b/f = 10 ms.

use crate::util::scenario;
use coinfer::report::aggregate;
use coinfer::runner::Runner;

/// Mean server wait over all seeds (mean of per-run means) and its CI.
fn mean_wait(text: &str) -> (f64, f64) {
    let sc = scenario(text);
    let rows = aggregate(&Runner::new(&sc).run().unwrap().points);
    let i = coinfer::metrics::METRICS
        .iter()
        .position(|m| m.name == "server_wait_mean_s")
        .unwrap();
    (rows[0].mean[i], rows[0].ci95[i])
}

fn system(rate_per_agent: f64, workers: u32, service: &str, horizon: f64) -> String {
    format!(
        r#"(
        horizon_s: {horizon}, warmup_s: 20.0, seeds: 8,
        model: (blocks: [(params: 1.25e6, lambda: 50.0)], split: 0, payload_bits: 0),
        agents: (count: 20, arrivals: Poisson(rate_hz: {rate_per_agent})),
        server: (workers: {workers}, service: {service},
                 cpu: (freqs_ghz: [1.0], cycles_per_weight_bit: 1.0, kappa: 0.0)),
        policies: [(name: "fixed", bits_agent: 8, bits_server: 8)],
    )"#
    )
}

#[test]
fn md1_wait_matches_pollaczek_khinchine() {
    // lambda = 70/s, S = 0.01 s: rho = 0.7, Wq = rho S / (2 (1 - rho)).
    let (s, rho) = (0.01, 0.7);
    let expected = rho * s / (2.0 * (1.0 - rho));
    let (got, ci) = mean_wait(&system(70.0 / 20.0, 1, "Deterministic", 2000.0));
    let rel = (got - expected).abs() / expected;
    eprintln!("M/D/1 rho=0.7: Wq = {got:.6} s (CI ±{ci:.6}), P-K {expected:.6} s, rel. error {rel:.4}");
    assert!(
        rel < 0.03,
        "M/D/1 mean wait {got} vs Pollaczek-Khinchine {expected}"
    );
}

/// Erlang C probability of waiting in M/M/c with offered load `a = λS`.
fn erlang_c(c: u32, a: f64) -> f64 {
    let rho = a / c as f64;
    let mut term = 1.0;
    let mut sum = 0.0;
    for k in 0..c {
        if k > 0 {
            term *= a / k as f64;
        }
        sum += term;
    }
    let last = term * a / c as f64 / (1.0 - rho);
    last / (sum + last)
}

#[test]
fn erlang_c_closed_form() {
    // M/M/1: P(wait) = rho.
    assert!((erlang_c(1, 0.7) - 0.7).abs() < 1e-12);
    // M/M/2 with a = 1: C = (1/2 * 1/(1/2)) / (1 + 1 + 1) = 1/3.
    assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
}

#[test]
fn mm4_wait_matches_erlang_c() {
    // lambda = 320/s, S = 0.01 s, c = 4: rho = 0.8, Wq = C(4, 3.2) S / (c (1 - rho)).
    let (s, c, lambda) = (0.01, 4u32, 320.0);
    let a = lambda * s;
    let expected = erlang_c(c, a) * s / (c as f64 * (1.0 - a / c as f64));
    let (got, ci) = mean_wait(&system(lambda / 20.0, c, "Exponential", 600.0));
    let rel = (got - expected).abs() / expected;
    eprintln!("M/M/4 rho=0.8: Wq = {got:.6} s (CI ±{ci:.6}), Erlang C {expected:.6} s, rel. error {rel:.4}");
    assert!(rel < 0.03, "M/M/4 mean wait {got} vs Erlang C {expected}");
}

#[test]
fn edf_waiting_room_serves_earliest_deadline_first_ties_in_arrival_order() {
    use coinfer::model::server::{Discipline, WaitingRoom};
    use coinfer::units::SimTime;
    let mut edf = WaitingRoom::new(Discipline::Edf);
    let mut fifo = WaitingRoom::new(Discipline::Fifo);
    for (deadline, id) in [(30, "a"), (10, "b"), (30, "c"), (20, "d"), (10, "e")] {
        edf.push(SimTime(deadline), id);
        fifo.push(SimTime(deadline), id);
    }
    assert_eq!(edf.len(), 5);
    let order: Vec<&str> = std::iter::from_fn(|| edf.pop()).collect();
    assert_eq!(order, ["b", "e", "d", "a", "c"]);
    let order: Vec<&str> = std::iter::from_fn(|| fifo.pop()).collect();
    assert_eq!(order, ["a", "b", "c", "d", "e"]);
}
