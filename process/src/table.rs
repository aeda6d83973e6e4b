//! The process table: pid -> cell, sharded so that spawns on different worker threads do not
//! contend on one lock, and slab-backed so that a million entries sit in one dense array
//! (no rehashing, and a freed slot is the next one reused, still warm in cache).
//!
//! A serial is `generation << 32 | index << SHARD_BITS | shard`, like an Erlang pid's number
//! and serial: the index finds the slot, the generation tells a new process in a reused slot
//! from the one that was there before.

use std::cell::Cell as StdCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use slab::Slab;

use crate::cell::AnyCell;

const SHARD_BITS: u32 = 6;
pub(crate) const SHARDS: usize = 1 << SHARD_BITS;
const INDEX_MASK: u64 = (1 << (32 - SHARD_BITS)) - 1;

struct Shard {
    /// A slot's serial is in its cell, so a slot costs only the pointer.
    slots: Slab<Arc<dyn AnyCell>>,
    /// Inserts so far; the low 32 bits are the next generation.
    inserts: u64,
    /// Removes so far. Counted under the lock `remove` already holds, so exits touch no
    /// shared counter; a pid is inserted and removed in the same shard, so per shard
    /// `removes <= inserts` always holds.
    removes: u64,
}

pub(crate) struct Table {
    shards: Box<[Mutex<Shard>]>,
}

/// Hands each thread its own home shard, so that the spawns of one worker thread take a lock
/// no other worker takes (except for lookups of those pids).
pub(crate) fn home_shard() -> usize {
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

fn split(serial: u64) -> (usize, usize) {
    let low = serial & 0xffff_ffff;
    (
        (low as usize) & (SHARDS - 1),
        ((low >> SHARD_BITS) & INDEX_MASK) as usize,
    )
}

impl Table {
    pub(crate) fn new() -> Table {
        Table {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        slots: Slab::new(),
                        inserts: 0,
                        removes: 0,
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
        shard.inserts += 1;
        // Generation 0 never occurs, so serial 0 stays free for the node itself.
        let generation = (shard.inserts as u32).max(1) as u64;
        let entry = shard.slots.vacant_entry();
        let index = entry.key() as u64;
        assert!(index <= INDEX_MASK, "process table shard full");
        let serial = (generation << 32) | (index << SHARD_BITS) | i as u64;
        let cell = make(serial);
        entry.insert(cell.clone());
        cell
    }

    pub(crate) fn get(&self, serial: u64) -> Option<Arc<dyn AnyCell>> {
        let (shard, index) = split(serial);
        match self.shard(shard).slots.get(index) {
            Some(cell) if cell.core().pid.serial() == serial => Some(cell.clone()),
            _ => None,
        }
    }

    pub(crate) fn remove(&self, serial: u64) {
        let (shard, index) = split(serial);
        let removed = {
            let mut shard = self.shard(shard);
            match shard.slots.get(index) {
                Some(cell) if cell.core().pid.serial() == serial => {
                    shard.removes += 1;
                    Some(shard.slots.remove(index))
                }
                _ => None,
            }
        };
        // The cell (and whatever its mailbox still holds) is dropped outside the lock.
        drop(removed);
    }

    /// Every live cell, shard by shard; each shard is locked only while it is copied.
    pub(crate) fn snapshot(&self) -> Vec<Arc<dyn AnyCell>> {
        let mut out = Vec::new();
        for i in 0..SHARDS {
            out.extend(self.shard(i).slots.iter().map(|(_, c)| c.clone()));
        }
        out
    }

    /// Takes every cell out of the table (the node's runtime is shutting down).
    pub(crate) fn take_all(&self) -> Vec<Arc<dyn AnyCell>> {
        let mut out = Vec::new();
        for i in 0..SHARDS {
            let mut shard = self.shard(i);
            shard.removes += shard.slots.len() as u64;
            out.extend(shard.slots.drain());
        }
        out
    }

    /// Total spawns so far.
    pub(crate) fn spawned(&self) -> u64 {
        (0..SHARDS).map(|i| self.shard(i).inserts).sum()
    }

    /// Total spawns and removes so far, each shard's pair read under one lock (so
    /// `removes <= inserts`).
    pub(crate) fn counts(&self) -> (u64, u64) {
        (0..SHARDS).fold((0, 0), |(i, r), s| {
            let s = self.shard(s);
            (i + s.inserts, r + s.removes)
        })
    }

    /// Calls `f` on every live cell, each shard under its lock: for cheap reads (an atomic
    /// counter) of every process without cloning 100,000 `Arc`s.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&dyn AnyCell)) {
        for i in 0..SHARDS {
            for (_, c) in self.shard(i).slots.iter() {
                f(&**c);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_split_back_into_shard_and_index() {
        let serial = (7u64 << 32) | (12345 << SHARD_BITS) | 9;
        assert_eq!(split(serial), (9, 12345));
    }
}
