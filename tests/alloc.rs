//! Issue 15: the per-request path of a run of the `fixed` policy allocates
//! nothing. A counting global allocator (its own test binary, so no other
//! test shares it) counts this thread's allocations during a run of the
//! reference model with full metrics at two horizons: what grows with the
//! horizon is per-request allocation.

use coinfer::engine;
use coinfer::metrics::RunMetrics;
use coinfer::policy::Registry;
use coinfer::rng::{stream, Purpose, StreamId};
use coinfer::study::Study;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// Allocations during one run of the reference model at `horizon_s`, and
/// the requests it created.
fn allocations(horizon_s: f64) -> (u64, u64) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/reference.ron");
    let text = std::fs::read_to_string(path).expect("reference.ron");
    let text = text.replace("horizon_s: 4000.0", &format!("horizon_s: {horizon_s:?}"));
    let study = Study::from_str(path.as_ref(), &text, &Registry::default()).expect("valid");
    let point = &study.points[0];
    let measured = &point.measured_table(1);
    let mut world = point.world(1);
    let mut policy = study.policies[0]
        .factory
        .build(stream(1, StreamId::new(Purpose::Policy, 0)));
    let mut metrics = RunMetrics::new(&point.system, measured);
    let before = ALLOCATIONS.with(Cell::get);
    let outcome = engine::run(&mut world, policy.as_mut(), &mut metrics);
    (ALLOCATIONS.with(Cell::get) - before, outcome.generated)
}

#[test]
fn fixed_policy_allocates_nothing_per_request() {
    let (short, n_short) = allocations(50.0);
    let (long, n_long) = allocations(200.0);
    assert!(n_long > n_short + 30_000, "{n_short} then {n_long} requests");
    // Queues and the event heap may still grow to a new longest length.
    assert!(
        long <= short + 20,
        "{short} allocations for {n_short} requests, {long} for {n_long}"
    );
}
