//! Call timeouts without a tokio timer, and without any bookkeeping, per call.
//!
//! Arming a tokio timer for every call (registering it in the wheel, converting its deadline
//! to ticks, cancelling it) costs about a third of a call; so did filing each call's deadline
//! in a table and taking it out again. Instead, a call's reply slot (which outlives the call:
//! a `ServerRef` keeps it for its next call) holds the waiting caller's waker and its deadline,
//! and the slot is *registered* once, when it first waits, in a node-wide table of weak
//! references (sharded by the registering thread's home shard). It leaves the table when the
//! slot is dropped. A waiting call therefore costs only the deadline written beside the waker,
//! under the slot lock the wait takes anyway, and one relaxed load (the floor, below).
//!
//! One *sweeper* task per node, started by the first registration that needs it, sleeps on a
//! single tokio timer until the earliest deadline it knows of, looks at every registered slot,
//! wakes the callers whose deadline has passed, and sleeps again. A caller woken so finds its
//! deadline passed and returns `Timeout`; so a stuck server cannot hold a caller past its
//! deadline (plus tokio's millisecond timer resolution).
//!
//! The *floor* is the instant by which the sweeper has promised to look (its next look), as an
//! atomic mirror of that promise. A deadline at or after the floor needs no word to the
//! sweeper, so a steady stream of calls with one timeout never moves the sweeper's timer. An
//! earlier deadline (or no promise) tells the sweeper (a lock, rare). A sweep withdraws the
//! promise before it looks: a caller whose deadline the look misses wrote it under its slot's
//! lock after the sweep took that lock, so it reads the withdrawn (or a newer) floor and tells.
//! The sweeper may wake for a deadline nobody waits for any more, look, and sleep until the
//! earliest one left: about once per timeout period under steady calls. A look visits every
//! registered slot, idle ones too.
//!
//! The sweeper uses tokio's clock and timer, so a paused clock (tests) jumps straight to the
//! next deadline, as it did with a timer per call.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Poll, Waker};

use slab::Slab;
use tokio::time::{Instant, Sleep};

use crate::table::{SHARDS, home_shard};

/// Something a caller waits on until a deadline: a reply slot.
pub(crate) trait Timed: Send + Sync {
    /// At a look at `now`: the waiter's waker if its deadline has passed (it is then woken, and
    /// not again for this deadline), else its deadline if it waits for one.
    fn look(&self, now: Instant) -> Look;
}

/// What a look found at one registered slot.
pub(crate) enum Look {
    /// Nobody waits here with a deadline.
    Idle,
    /// A waiter whose deadline is still ahead.
    Until(Instant),
    /// A waiter whose deadline has passed: wake it.
    Due(Waker),
}

/// One shard of the registered slots.
type Shard = Slab<Weak<dyn Timed>>;

/// The deadlines of a node's waiting calls, and the state of its sweeper.
pub(crate) struct Deadlines {
    shards: Box<[Mutex<Shard>]>,
    /// Which promise (`Sweeper::next`) stands: bumped, under the sweeper lock, whenever it
    /// changes. Read without a lock by every waiting call, to check that the promise it last
    /// saw still stands.
    promise: AtomicU64,
    sweeper: Mutex<Sweeper>,
}

#[derive(Default)]
struct Sweeper {
    /// When the sweeper must look next: the earliest deadline it has been told of since its
    /// last look. `None`: nothing to wait for.
    next: Option<Instant>,
    /// The value of `Deadlines::promise` for `next`.
    seq: u64,
    /// The sweeper task's waker while it waits.
    waker: Option<Waker>,
    started: bool,
}

/// A registered slot's place in the table; it takes itself out when the slot is dropped.
#[derive(Debug)]
pub(crate) struct Registration {
    deadlines: Weak<Deadlines>,
    shard: usize,
    key: usize,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(d) = self.deadlines.upgrade() {
            let entry = lock(&d.shards[self.shard]).try_remove(self.key);
            // Dropped outside the lock (a weak reference: nothing runs).
            drop(entry);
        }
    }
}

/// The sweeper's promise, as a caller last saw it: it looks at or before `next`, as long as
/// the promise numbered `seq` stands.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Promise {
    /// 0: none seen (promises count from 1).
    seq: u64,
    next: Option<Instant>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Deadlines {
    pub(crate) fn new() -> Arc<Deadlines> {
        Arc::new(Deadlines {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            promise: AtomicU64::new(0),
            sweeper: Mutex::default(),
        })
    }

    /// Registers a slot, to be looked at by every sweep until the returned registration is
    /// dropped. The slot's `Drop` must drop the registration (and no sweep holds a shard lock
    /// while a slot may drop).
    pub(crate) fn register(self: &Arc<Self>, slot: Weak<dyn Timed>) -> Registration {
        let shard = home_shard();
        let key = lock(&self.shards[shard]).insert(slot);
        Registration {
            deadlines: Arc::downgrade(self),
            shard,
            key,
        }
    }

    /// Whether a deadline (just written into its registered slot, under the slot's lock,
    /// which is still held) is covered by the promise `seen`, which still stands: then the
    /// sweeper need not hear of it. One relaxed load.
    pub(crate) fn covers(&self, seen: &Promise, deadline: Instant) -> bool {
        seen.seq == self.promise.load(Ordering::Relaxed) && seen.next.is_some_and(|n| n <= deadline)
    }

    /// Makes sure the sweeper looks at or before `deadline` (written into its registered
    /// slot), and returns the promise that stands now.
    pub(crate) fn watch(
        self: &Arc<Self>,
        rt: &tokio::runtime::Handle,
        deadline: Instant,
    ) -> Promise {
        let (promise, wake) = {
            let mut sw = lock(&self.sweeper);
            if !sw.started {
                sw.started = true;
                rt.spawn(sweep_loop(Arc::downgrade(self)));
            }
            let wake = if sw.next.is_none_or(|n| deadline < n) {
                self.promise(&mut sw, Some(deadline));
                sw.waker.take()
            } else {
                None
            };
            (
                Promise {
                    seq: sw.seq,
                    next: sw.next,
                },
                wake,
            )
        };
        if let Some(w) = wake {
            w.wake();
        }
        promise
    }

    /// Sets the sweeper's next look, a new promise (with the sweeper lock held).
    fn promise(&self, sw: &mut Sweeper, next: Option<Instant>) {
        sw.next = next;
        sw.seq += 1;
        self.promise.store(sw.seq, Ordering::Relaxed);
    }

    /// Wakes the callers whose deadline has passed; sets the sweeper's next look (and the
    /// floor) to the earliest deadline still waiting.
    fn sweep(&self) {
        // Withdraw the promise first: whatever is told from now on is kept, and a deadline
        // written before a slot's look below is seen there (module docs).
        self.promise(&mut lock(&self.sweeper), None);
        let now = Instant::now();
        let mut earliest: Option<Instant> = None;
        let mut due = Vec::new();
        let mut slots: Vec<Arc<dyn Timed>> = Vec::new();
        for shard in self.shards.iter() {
            // Upgraded under the shard lock, looked at (and released, which may drop a slot
            // and take this lock again) outside it.
            slots.extend(lock(shard).iter().filter_map(|(_, w)| w.upgrade()));
            for slot in slots.drain(..) {
                match slot.look(now) {
                    Look::Idle => {}
                    Look::Until(d) => {
                        if earliest.is_none_or(|e| d < e) {
                            earliest = Some(d);
                        }
                    }
                    Look::Due(w) => due.push(w),
                }
            }
        }
        if let Some(e) = earliest {
            let mut sw = lock(&self.sweeper);
            if sw.next.is_none_or(|n| e < n) {
                self.promise(&mut sw, Some(e));
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
