//! Call timeouts without a tokio timer per call.
//!
//! Arming a tokio timer for every call (registering it in the wheel, converting its deadline
//! to ticks, cancelling it) costs about a third of a call. A waiting call instead *files* its
//! deadline and its waker in a node-wide table, sharded by the calling thread's home shard
//! (one uncontended lock to file, one to take the entry out). One *sweeper* task per node,
//! started by the first filing, sleeps on a single tokio timer until the earliest deadline it
//! knows of, wakes every caller whose deadline has passed, and sleeps again. A caller woken
//! so finds its deadline passed and returns `Timeout`; so a stuck server cannot hold a caller
//! past its deadline (plus tokio's millisecond timer resolution).
//!
//! Each shard keeps a `floor`: an instant by which the sweeper has promised to look. A
//! deadline at or after the floor is filed without a word to the sweeper, so a steady stream
//! of calls with one timeout never moves the sweeper's timer. An earlier deadline lowers the
//! floor and tells the sweeper (a second lock, rare). Entries of finished calls leave the
//! table at once; the sweeper may then wake for a deadline nobody waits for any more, look,
//! and sleep until the earliest one left: about once per timeout period under steady calls.
//!
//! The sweeper uses tokio's clock and timer, so a paused clock (tests) jumps straight to the
//! next deadline, as it did with a timer per call.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Poll, Waker};

use slab::Slab;
use tokio::time::{Instant, Sleep};

use crate::table::{SHARDS, home_shard};

/// The deadlines of a node's waiting calls, and the state of its sweeper.
pub(crate) struct Deadlines {
    shards: Box<[Mutex<Shard>]>,
    sweeper: Mutex<Sweeper>,
}

#[derive(Default)]
struct Shard {
    entries: Slab<Entry>,
    /// The sweeper looks at or before this instant; a deadline at or after it needs no word
    /// to the sweeper. `None`: no promise, the next filing tells the sweeper.
    floor: Option<Instant>,
}

struct Entry {
    deadline: Instant,
    /// The waiting caller; taken when the sweeper wakes it for its deadline.
    waker: Option<Waker>,
}

#[derive(Default)]
struct Sweeper {
    /// When the sweeper must look next: the earliest deadline it has been told of since its
    /// last look. `None`: nothing to wait for.
    next: Option<Instant>,
    /// The sweeper task's waker while it waits.
    waker: Option<Waker>,
    started: bool,
}

/// A filed deadline: where its entry is.
#[derive(Debug)]
pub(crate) struct Filed {
    shard: usize,
    key: usize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Deadlines {
    pub(crate) fn new() -> Arc<Deadlines> {
        Arc::new(Deadlines {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            sweeper: Mutex::default(),
        })
    }

    /// Files `deadline` for the task of `waker`: once it has passed, the sweeper wakes the task
    /// (once). The entry stays until [`remove`](Self::remove).
    pub(crate) fn file(
        self: &Arc<Self>,
        rt: &tokio::runtime::Handle,
        deadline: Instant,
        waker: &Waker,
    ) -> Filed {
        let shard = home_shard();
        let mut s = lock(&self.shards[shard]);
        let key = s.entries.insert(Entry {
            deadline,
            waker: Some(waker.clone()),
        });
        if s.floor.is_none_or(|f| deadline < f) {
            // Told under the shard lock (order: shard, then sweeper; the sweeper never holds
            // both), so that nobody files after this floor before the sweeper knows of it.
            s.floor = Some(deadline);
            self.tell(rt, deadline);
        }
        Filed { shard, key }
    }

    /// Replaces the waker of a filed entry, if the task's waker changed since it was filed.
    pub(crate) fn rewake(&self, filed: &Filed, waker: &Waker) {
        let mut s = lock(&self.shards[filed.shard]);
        if let Some(w) = s.entries.get_mut(filed.key).and_then(|e| e.waker.as_mut()) {
            if !w.will_wake(waker) {
                w.clone_from(waker);
            }
        }
    }

    /// Takes a filed entry out.
    pub(crate) fn remove(&self, filed: Filed) {
        let entry = lock(&self.shards[filed.shard])
            .entries
            .try_remove(filed.key);
        // The waker (if still there) is dropped outside the lock.
        drop(entry);
    }

    /// Makes the sweeper look at or before `deadline`, starting it if need be.
    fn tell(self: &Arc<Self>, rt: &tokio::runtime::Handle, deadline: Instant) {
        let wake = {
            let mut sw = lock(&self.sweeper);
            if !sw.started {
                sw.started = true;
                rt.spawn(sweep_loop(Arc::downgrade(self)));
            }
            if sw.next.is_none_or(|n| deadline < n) {
                sw.next = Some(deadline);
                sw.waker.take()
            } else {
                None
            }
        };
        if let Some(w) = wake {
            w.wake();
        }
    }

    /// Wakes the callers whose deadline has passed; sets each shard's floor and the sweeper's
    /// next look to the earliest deadline still waiting.
    fn sweep(&self) {
        // Forget the old next look first: whatever is told from now on is kept, and what was
        // filed before is seen in the shards below.
        lock(&self.sweeper).next = None;
        let now = Instant::now();
        let mut earliest: Option<Instant> = None;
        let mut due = Vec::new();
        for shard in self.shards.iter() {
            let mut s = lock(shard);
            if s.entries.is_empty() {
                s.floor = None;
                continue;
            }
            let mut floor: Option<Instant> = None;
            for (_, e) in s.entries.iter_mut() {
                if e.waker.is_none() {
                    continue;
                }
                if e.deadline <= now {
                    due.extend(e.waker.take());
                } else if floor.is_none_or(|f| e.deadline < f) {
                    floor = Some(e.deadline);
                }
            }
            s.floor = floor;
            if let Some(f) = floor {
                if earliest.is_none_or(|x| f < x) {
                    earliest = Some(f);
                }
            }
        }
        if let Some(e) = earliest {
            let mut sw = lock(&self.sweeper);
            if sw.next.is_none_or(|n| e < n) {
                sw.next = Some(e);
            }
        }
        for w in due {
            w.wake();
        }
    }
}

impl Drop for Deadlines {
    fn drop(&mut self) {
        // The node is gone: let the sweeper see it and end.
        let sw = self
            .sweeper
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(w) = sw.waker.take() {
            w.wake();
        }
    }
}

/// The sweeper: sleeps until the next look, looks, and again; ends with its node.
async fn sweep_loop(deadlines: Weak<Deadlines>) {
    let mut timer: Option<Pin<Box<Sleep>>> = None;
    loop {
        let look = poll_fn(|cx| {
            let Some(d) = deadlines.upgrade() else {
                return Poll::Ready(false);
            };
            let next = {
                let mut sw = lock(&d.sweeper);
                match &mut sw.waker {
                    Some(w) => w.clone_from(cx.waker()),
                    None => sw.waker = Some(cx.waker().clone()),
                }
                sw.next
            };
            drop(d);
            let Some(next) = next else {
                return Poll::Pending;
            };
            let t = match &mut timer {
                Some(t) => {
                    if t.deadline() != next {
                        t.as_mut().reset(next);
                    }
                    t
                }
                None => timer.insert(Box::pin(tokio::time::sleep_until(next))),
            };
            t.as_mut().poll(cx).map(|()| true)
        })
        .await;
        if !look {
            return;
        }
        match deadlines.upgrade() {
            Some(d) => d.sweep(),
            None => return,
        }
    }
}
