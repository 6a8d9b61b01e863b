//! Criterion benchmark of one decision with BLIP-2-like numbers: 5 agent and
//! 4 server DVFS states, bits 2..=16, `D_U` tables; the solvers alone, and
//! one decision of each policy of `scenarios/paper.ron` through the policy
//! API (the first point, at 20 dB).

use coinfer::model::cpu::Cpu;
use coinfer::model::distortion::{side_tables, Bound, Layer, SideTables};
use coinfer::policy::solver::{exhaustive, paper_joint, FreqSet, Problem, Side};
use coinfer::policy::{DecisionContext, Registry};
use coinfer::rng::{stream, Purpose, StreamId};
use coinfer::study::Study;
use coinfer::units::{Bits, Joules, SimDuration, Watts};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::borrow::Cow;

fn side(weights: f64, c: f64, kappa: f64, ghz: &[f64], tables: SideTables) -> Side<'static> {
    Side {
        cpu: Cow::Owned(Cpu {
            freqs: FreqSet::Discrete(ghz.iter().map(|g| g * 1e9).collect()),
            cycles_per_weight_bit: c,
            kappa,
            static_power: Watts(0.0),
            switch_latency: SimDuration::ZERO,
            switch_energy: Joules(0.0),
        }),
        weights,
        distortion: Cow::Owned(tables.distortion),
        gap: Cow::Owned(tables.gap),
        relaxed_weight: tables.relaxed_weight,
        clock_now: None,
    }
}

fn blip2() -> Problem<'static> {
    let importance = 1.0 / (1.0e9 + 1.07e8 + 2.65e9);
    let layer = |weights, lambda| Layer {
        importance,
        weights,
        lambda,
    };
    let agent = side_tables(&[layer(1.0e9, 50.0), layer(1.07e8, 40.0)], Bound::Upper);
    let server = side_tables(&[layer(2.65e9, 45.0)], Bound::Upper);
    Problem {
        agent: side(1.107e9, 0.05, 2e-27, &[0.4, 0.8, 1.2, 1.6, 2.0], agent),
        server: side(2.65e9, 0.02, 1e-28, &[2.5, 5.0, 7.5, 10.0], server),
        tx_time_s: 0.0075,
        tx_energy_j: 0.0015,
        server_wait_s: 0.0,
        agent_wait_s: 0.0,
        radio_free_s: 0.0,
        deadline_s: 0.5,
        energy_budget_j: 3.0,
        bits_min: Bits::MIN,
        bits_max: Bits::MAX,
        gap_max: None,
        relaxed_scale: Bound::Upper.scale(),
    }
}

fn bench(c: &mut Criterion) {
    let p = blip2();
    c.bench_function("paper_joint", |b| b.iter(|| paper_joint(black_box(&p))));
    c.bench_function("exhaustive", |b| b.iter(|| exhaustive(black_box(&p))));
}

fn policies(c: &mut Criterion) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/paper.ron");
    let study = Study::load(path.as_ref(), &Registry::default()).expect("paper.ron is valid");
    let ctx = DecisionContext::one_shot(&study.points[0].system, 100.0);
    let mut g = c.benchmark_group("decision");
    for p in &study.policies {
        let mut policy = p.factory.build(stream(1, StreamId::new(Purpose::Policy, 0)));
        g.bench_function(&p.label, |b| b.iter(|| policy.decide_predicted(black_box(&ctx))));
    }
    g.finish();
}

criterion_group!(benches, bench, policies);
criterion_main!(benches);
