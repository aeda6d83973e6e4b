//! The process table: pid -> cell, sharded so that spawns on different worker threads do not
//! contend on one lock.

use std::cell::Cell as StdCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::cell::AnyCell;

const SHARD_BITS: u32 = 6;
const SHARDS: usize = 1 << SHARD_BITS;

struct Shard {
    cells: HashMap<u64, Arc<dyn AnyCell>, crate::cell::FastHash>,
    /// Next per-shard sequence number; serial = seq << SHARD_BITS | shard index.
    next: u64,
}

pub(crate) struct Table {
    shards: Box<[Mutex<Shard>]>,
}

/// Hands each thread its own home shard, so that the spawns of one worker thread take a lock
/// no other worker takes (except for lookups of those pids).
fn home_shard() -> usize {
    static NEXT_THREAD: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static HOME: StdCell<usize> = const { StdCell::new(usize::MAX) };
    }
    HOME.with(|h| {
        if h.get() == usize::MAX {
            h.set(NEXT_THREAD.fetch_add(1, Ordering::Relaxed) % SHARDS);
        }
        h.get()
    })
}

impl Table {
    pub(crate) fn new() -> Table {
        Table {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        cells: HashMap::default(),
                        // Serial 0 is the node itself (the sender of exit signals that come
                        // from outside any process).
                        next: 1,
                    })
                })
                .collect(),
        }
    }

    fn shard(&self, i: usize) -> MutexGuard<'_, Shard> {
        self.shards[i]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Allocates a serial, builds the cell for it with `make`, and inserts it.
    pub(crate) fn insert_with<C: AnyCell>(&self, make: impl FnOnce(u64) -> Arc<C>) -> Arc<C> {
        let i = home_shard();
        let mut shard = self.shard(i);
        let serial = (shard.next << SHARD_BITS) | i as u64;
        shard.next += 1;
        let cell = make(serial);
        shard.cells.insert(serial, cell.clone());
        cell
    }

    pub(crate) fn get(&self, serial: u64) -> Option<Arc<dyn AnyCell>> {
        let i = (serial as usize) & (SHARDS - 1);
        self.shard(i).cells.get(&serial).cloned()
    }

    pub(crate) fn remove(&self, serial: u64) {
        let i = (serial as usize) & (SHARDS - 1);
        let removed = self.shard(i).cells.remove(&serial);
        // The cell (and whatever its mailbox still holds) is dropped outside the lock.
        drop(removed);
    }

    /// Every live cell, shard by shard; each shard is locked only while it is copied.
    pub(crate) fn snapshot(&self) -> Vec<Arc<dyn AnyCell>> {
        let mut out = Vec::new();
        for i in 0..SHARDS {
            out.extend(self.shard(i).cells.values().cloned());
        }
        out
    }

    /// Total spawns so far (each shard's sequence counts them).
    pub(crate) fn spawned(&self) -> u64 {
        (0..SHARDS).map(|i| self.shard(i).next - 1).sum()
    }
}
