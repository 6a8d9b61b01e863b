//! Engine benchmarks: the bare event loop (std `BinaryHeap`, as used, against
//! the `priority-queue` crate), one full run of `scenarios/paper.ron`, one run
//! of the reference model (`benches/reference.ron`, at 400 s) with full
//! metrics, and the `paper.ron` sweep (2 seeds, 10 s) on 1 and 2 threads.

use coinfer::metrics::RunMetrics;
use coinfer::policy::Registry;
use coinfer::queue::EventQueue;
use coinfer::rng::{stream, Purpose, StreamId};
use coinfer::runner::Runner;
use coinfer::scenario::RawScenario;
use coinfer::study::Study;
use coinfer::units::SimTime;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use priority_queue::PriorityQueue;
use std::cmp::Reverse;

/// Events handled per iteration of the bare-loop benchmarks.
const EVENTS: u64 = 100_000;
/// Events pending at any time (about one per agent and server worker).
const PENDING: u64 = 64;

/// A deterministic pseudo-random delay in ns (xorshift), so both queues see
/// the same schedule.
fn delay(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    1 + *state % 10_000_000
}

fn bare_loop(c: &mut Criterion) {
    let mut g = c.benchmark_group("event_loop");
    g.throughput(Throughput::Elements(EVENTS));
    g.bench_function("binary_heap", |b| {
        b.iter(|| {
            let mut q = EventQueue::default();
            let mut s = 1u64;
            for i in 0..PENDING {
                q.push(SimTime(delay(&mut s)), i);
            }
            for _ in 0..EVENTS {
                let (t, e) = q.pop().expect("pending");
                q.push(SimTime(t.0 + delay(&mut s)), e);
            }
            q.len()
        })
    });
    g.bench_function("priority_queue_crate", |b| {
        b.iter(|| {
            let mut q = PriorityQueue::new();
            let mut s = 1u64;
            let mut seq = 0u64;
            for i in 0..PENDING {
                seq += 1;
                q.push(seq, Reverse((delay(&mut s), seq, i)));
            }
            for _ in 0..EVENTS {
                let (_, Reverse((t, _, e))) = q.pop().expect("pending");
                seq += 1;
                q.push(seq, Reverse((t + delay(&mut s), seq, e)));
            }
            q.len()
        })
    });
    g.finish();
}

fn paper_run(c: &mut Criterion) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/paper.ron");
    let study = Study::load(path.as_ref(), &Registry::default()).expect("paper.ron is valid");
    let point = &study.points[0];
    let mut g = c.benchmark_group("paper");
    g.sample_size(20);
    g.bench_function("one_run_fixed_8_8", |b| {
        b.iter_batched(
            || point.world(1),
            |mut world| coinfer::engine::run(&mut world, first_policy(&study).as_mut(), &mut ()).events,
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

/// The study's first policy for the run with seed 1.
fn first_policy(study: &Study) -> Box<dyn coinfer::policy::Policy> {
    study.policies[0]
        .factory
        .build(stream(1, StreamId::new(Purpose::Policy, 0)))
}

/// A study from a file of this repository, with its horizon and seeds cut.
fn study(file: &str, horizon_s: f64, seeds: u32) -> Study {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let mut raw = RawScenario::load(&path).expect("valid scenario");
    raw.horizon_s = horizon_s;
    raw.warmup_s = raw.warmup_s.min(horizon_s / 2.0);
    raw.seeds = seeds;
    Study::compile(raw, &Registry::default()).expect("valid scenario")
}

fn reference_run(c: &mut Criterion) {
    let study = study("benches/reference.ron", 400.0, 1);
    let point = &study.points[0];
    let measured = &point.measured_table(1);
    let mut g = c.benchmark_group("reference");
    g.sample_size(10);
    g.throughput(Throughput::Elements(point.expected_requests() as u64));
    g.bench_function("one_run_400s_full_metrics", |b| {
        b.iter_batched(
            || point.world(1),
            |mut world| {
                let mut metrics = RunMetrics::new(&point.system, measured);
                coinfer::engine::run(&mut world, first_policy(&study).as_mut(), &mut metrics).events
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn paper_sweep(c: &mut Criterion) {
    let study = study("scenarios/paper.ron", 10.0, 2);
    let mut g = c.benchmark_group("paper_sweep_10s_2_seeds");
    g.sample_size(10);
    for threads in [1, 2] {
        g.bench_function(format!("{threads}_threads"), |b| {
            b.iter(|| Runner::new(&study).threads(threads).run().expect("runs"))
        });
    }
    g.finish();
}

criterion_group!(benches, bare_loop, paper_run, reference_run, paper_sweep);
criterion_main!(benches);
