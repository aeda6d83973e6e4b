//! The monitor: finds workers stuck in a long poll and hands their role to relief workers.
//!
//! Rust cannot preempt a poll: a process that computes for a second without an `.await`
//! holds its worker thread for that second. What the runtime can do is not let that poll hold
//! up everything else, as Go's runtime does for a thread stuck in a system call (it hands the
//! stuck thread's run queue to another thread) and as the BEAM's dirty schedulers do for long
//! native work. One monitor thread per node looks at every worker each [`PERIOD`]:
//!
//! - Each worker counts its polls in [`Watched::polls`](super::Watched), odd while it polls.
//!   The same odd value seen at two looks [`LONG_POLL`] apart is a long poll: the monitor
//!   marks the worker stuck (and the worker reports the poll with the `on_long_poll` hook,
//!   `beamish.process.long_poll`, when it returns).
//! - While fewer than half the node's own number of workers (at least one) are running
//!   processes (stuck ones not counted) and work waits (in the injection queue or a
//!   worker's queue), the monitor wakes a spare relief worker, or starts a thread for one, up to the node's cap. A relief
//!   worker is an ordinary worker: it takes the injected work and steals from the stuck
//!   worker's queue.
//! - A worker back from a long poll finds itself one too many and retires: it hands what it
//!   holds to the injection queue and parks as a spare.
//!
//! So with `k` processes each holding a thread at once, up to `k` plus the node's workers
//! threads are running, and the OS shares the cores between them: a process that only waits
//! is served within a few milliseconds however many threads compute. The cost: one thread
//! that wakes every [`PERIOD`] while the node is busy (every [`IDLE_PERIOD`] after a quiet
//! spell), two plain stores per poll, and a thread per concurrent long poll (kept parked for
//! reuse, at most the cap, `NodeConfig::max_relief_workers`).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{Relief, Shared};
use crate::clock::ticks;

/// How often the monitor looks at the workers while any of them is busy.
const PERIOD: Duration = Duration::from_millis(1);

/// How long a poll runs before it counts as long (its worker as stuck): seen in the same
/// poll at two looks this far apart, so the poll has run between this and this plus
/// [`PERIOD`].
pub(super) const LONG_POLL: Duration = Duration::from_millis(2);

/// How often the monitor looks while the node is quiet.
const IDLE_PERIOD: Duration = Duration::from_millis(20);

/// Looks without a poll in progress before the monitor slows down to [`IDLE_PERIOD`].
const QUIET_LOOKS: u32 = 200;

/// Starts the monitor thread of a scheduler; it ends when the scheduler stops.
pub(super) fn start(shared: Arc<Shared>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("beamish-monitor".into())
        .spawn(move || run(&shared))?;
    Ok(())
}

/// What the monitor remembers of one worker between looks.
#[derive(Clone, Copy)]
struct Seen {
    polls: u32,
    since: Instant,
}

fn run(shared: &Arc<Shared>) {
    let mut seen: Vec<Seen> = Vec::new();
    let mut quiet = 0u32;
    while !shared.shutdown.load(Ordering::Acquire) {
        let period = if quiet >= QUIET_LOOKS {
            IDLE_PERIOD
        } else {
            PERIOD
        };
        std::thread::park_timeout(period);
        if shared.shutdown.load(Ordering::Acquire) {
            return;
        }
        if look(shared, &mut seen, Instant::now()) {
            quiet = 0;
        } else {
            quiet = quiet.saturating_add(1);
        }
    }
}

/// One look at every worker: marks the ones stuck in a long poll, relieves them if work
/// waits. Whether any worker was polling.
fn look(shared: &Arc<Shared>, seen: &mut Vec<Seen>, now: Instant) -> bool {
    let slots = shared.slots();
    seen.resize(
        slots.len(),
        Seen {
            polls: 0,
            since: now,
        },
    );
    let mut busy = false;
    let mut newly_stuck = Vec::new();
    for (index, (slot, seen)) in slots.iter().zip(seen.iter_mut()).enumerate() {
        let polls = slot.watched.polls.load(Ordering::Relaxed);
        if polls != seen.polls {
            *seen = Seen { polls, since: now };
            busy |= polls % 2 == 1;
            continue;
        }
        if polls % 2 == 0 {
            continue;
        }
        busy = true;
        if now.duration_since(seen.since) >= LONG_POLL
            && slot.watched.long_poll.load(Ordering::Relaxed) != polls
        {
            newly_stuck.push((index, polls, seen.since));
        }
    }
    if !busy {
        return false;
    }
    let mut relief = shared.relief.lock().unwrap_or_else(|e| e.into_inner());
    for (index, polls, since) in newly_stuck {
        let watched = &shared.workers[index].watched;
        let age = crate::clock::ticks_in(now.saturating_duration_since(since));
        watched
            .long_since
            .store(ticks().saturating_sub(age), Ordering::Relaxed);
        // Under the lock, as the worker settles it: the stuck count and the marks agree.
        if watched.long_poll.swap(polls, Ordering::AcqRel) == 0 {
            relief.stuck += 1;
        }
    }
    while relief.active - relief.stuck < min_free(shared.core) && work_waits(shared) {
        if !relieve(shared, &mut relief) {
            break;
        }
    }
    true
}

/// How many workers must stay free of long polls (running the queues) before the monitor
/// starts relief workers: half the node's own, at least one. Not all of them: while free
/// workers serve the waiting work, one more thread only makes more threads than cores
/// compete (fan-out 10k x 100 from a driver process that sends in one long poll, 2 cores,
/// 4 rounds: median 10.1M deliveries/s with relief beside the free worker, 22.8M without;
/// see docs/perf-notes.md).
fn min_free(core: usize) -> usize {
    core.div_ceil(2)
}

/// Whether some task is queued where a relief worker would find it.
fn work_waits(shared: &Shared) -> bool {
    shared.inject_len.load(Ordering::Acquire) > 0
        || shared
            .slots()
            .iter()
            .any(|slot| slot.queue_len.load(Ordering::Acquire) > 0)
}

/// Sets one more worker running: a parked spare, else a new thread in the next free slot.
/// `false` at the cap (or if the OS refuses a thread).
fn relieve(shared: &Arc<Shared>, relief: &mut Relief) -> bool {
    if let Some(index) = relief.spares.pop() {
        relief.active += 1;
        let slot = &shared.workers[index];
        slot.spare.store(false, Ordering::SeqCst);
        if let Some(thread) = slot.thread.get() {
            thread.unpark();
        }
        return true;
    }
    let index = shared.in_use.load(Ordering::Acquire);
    if index == shared.workers.len() {
        return false;
    }
    // Counted in before its thread runs, so that every loop over the workers sees its queue.
    shared.in_use.store(index + 1, Ordering::Release);
    if shared.start_worker(index).is_err() {
        shared.in_use.store(index, Ordering::Release);
        return false;
    }
    relief.active += 1;
    true
}
