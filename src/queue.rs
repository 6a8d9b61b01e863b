//! The event queue: a binary heap keyed by `(time, seq)` (also the server's
//! EDF waiting room, keyed by deadline).
//!
//! `seq` is the insertion count, so events scheduled for the same instant come
//! out in the order they were scheduled (SPEC 1). std's `BinaryHeap` was chosen
//! over the `priority-queue` crate by measurement (`benches/engine.rs`): we
//! never change a priority, and the plain heap is faster.

use crate::units::SimTime;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A min-queue of events ordered by `(time, seq)`.
#[derive(Debug)]
pub struct EventQueue<E> {
    heap: BinaryHeap<Reverse<(SimTime, u64, Entry<E>)>>,
    seq: u64,
}

/// Wrapper so that heap order depends only on `(time, seq)`.
#[derive(Debug)]
struct Entry<E>(E);
impl<E> PartialEq for Entry<E> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl<E> Ord for Entry<E> {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            seq: 0,
        }
    }
}

impl<E> EventQueue<E> {
    /// Schedules `event` at `time`.
    pub fn push(&mut self, time: SimTime, event: E) {
        self.seq += 1;
        self.heap.push(Reverse((time, self.seq, Entry(event))));
    }

    /// Removes the earliest event (first scheduled among equal times).
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.heap.pop().map(|Reverse((t, _, Entry(e)))| (t, e))
    }

    /// The time of the earliest event.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|Reverse((t, _, _))| *t)
    }

    /// The pending events, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &E> {
        self.heap.iter().map(|Reverse((_, _, Entry(e)))| e)
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether no event is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}
