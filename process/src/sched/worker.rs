//! A worker thread's loop: where it finds its next task, when it steals, how it parks.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::task::TaskRef;
use super::{BUDGET, BUDGET_LEFT, HAS_PENDING, LOCAL, Local, MAX_NEXT_STREAK, Shared};

/// Every this many tasks a worker looks at the injection queue before its own work, so that
/// wake-ups from outside (timers, other threads) are not starved by a busy worker.
const INJECT_INTERVAL: u32 = 61;

/// Rounds of busy-waiting before parking (see `spin_for_work`): a short spin, then a few
/// yields of the thread.
const SPIN_ROUNDS: u32 = 8;
const YIELD_ROUNDS: u32 = 16;

/// At most this many tasks move from the injection queue to a worker at once.
const INJECT_BATCH: usize = 64;

/// The worker's own view of its progress.
struct State {
    index: usize,
    tick: u32,
    /// Polls of the `next` slot in a row.
    streak: u32,
    /// Woken by `notify_one` and counted in `Shared::searching` until it finds a task.
    searching: bool,
}

/// Runs worker `index` until the scheduler stops.
pub(super) fn run(shared: Arc<Shared>, index: usize) {
    let _runtime = shared.rt.enter();
    if shared.rt.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread {
        crate::clock::enable_on_this_thread();
    }
    LOCAL.set(Some(Local {
        shared: Arc::clone(&shared),
        index,
        next: None,
        pending: Vec::with_capacity(super::SPAWN_BATCH),
        blocking: false,
    }));
    let mut state = State {
        index,
        tick: 0,
        streak: 0,
        searching: false,
    };
    while !shared.shutdown.load(Ordering::Acquire) {
        match next_task(&shared, &mut state) {
            Some(task) => {
                if state.searching {
                    state.searching = false;
                    shared.searching.fetch_sub(1, Ordering::SeqCst);
                    if has_waiting_work(&shared) {
                        shared.notify_one();
                    }
                }
                BUDGET_LEFT.set(Some(BUDGET));
                let requeue = task.run();
                if HAS_PENDING.get() {
                    flush_pending();
                }
                if let Some(task) = requeue {
                    shared.workers[index].push(task);
                    shared.notify_one();
                }
            }
            None => {
                if !spin_for_work(&shared, &mut state) {
                    park(&shared, &mut state);
                }
            }
        }
    }
    drain(&shared, index);
}

/// The next task to poll: the `next` slot (bounded while others wait), the worker's queue,
/// the injection queue, then other workers' queues.
fn next_task(shared: &Shared, state: &mut State) -> Option<TaskRef> {
    state.tick = state.tick.wrapping_add(1);
    if state.tick % INJECT_INTERVAL == 0 {
        if let Some(task) = take_injected(shared, state.index) {
            return Some(task);
        }
    }
    let own = &shared.workers[state.index];
    let serve_queue_first =
        state.streak >= MAX_NEXT_STREAK && own.queue_len.load(Ordering::Acquire) > 0;
    if !serve_queue_first {
        if let Some(task) = take_next() {
            state.streak += 1;
            return Some(task);
        }
    }
    state.streak = 0;
    if let Some(task) = own.pop() {
        return Some(task);
    }
    // The queue looked non-empty but a thief emptied it meanwhile: the `next` task is still
    // ours, and nobody else can run it, so never leave it behind to park.
    if let Some(task) = take_next() {
        return Some(task);
    }
    if let Some(task) = take_injected(shared, state.index) {
        return Some(task);
    }
    steal(shared, state.index)
}

/// Moves the tasks that the last poll spawned to this worker's queue.
fn flush_pending() {
    LOCAL.with_borrow_mut(|local| {
        local
            .as_mut()
            .expect("a worker thread has its local state")
            .flush_pending();
    });
}

/// Takes the task in this worker's `next` slot.
fn take_next() -> Option<TaskRef> {
    LOCAL.with_borrow_mut(|local| {
        local
            .as_mut()
            .expect("a worker thread has its local state")
            .next
            .take()
    })
}

/// Moves a batch from the injection queue to this worker; returns the first.
fn take_injected(shared: &Shared, index: usize) -> Option<TaskRef> {
    if shared.inject_len.load(Ordering::Acquire) == 0 {
        return None;
    }
    // One queue lock at a time, as in `steal`.
    let (first, batch): (TaskRef, Vec<TaskRef>) = {
        let mut inject = shared.inject.lock().unwrap_or_else(|e| e.into_inner());
        let first = inject.pop_front()?;
        let share = (inject.len() / shared.workers.len()).min(INJECT_BATCH);
        let batch = inject.drain(..share).collect();
        shared.inject_len.store(inject.len(), Ordering::Release);
        (first, batch)
    };
    if !batch.is_empty() {
        let own = &shared.workers[index];
        let mut q = own.queue.lock().unwrap_or_else(|e| e.into_inner());
        q.extend(batch);
        own.queue_len.store(q.len(), Ordering::Release);
    }
    Some(first)
}

/// Takes half of another worker's queue; returns the first of them.
fn steal(shared: &Shared, index: usize) -> Option<TaskRef> {
    let n = shared.workers.len();
    for offset in 1..n {
        let victim = &shared.workers[(index + offset) % n];
        if victim.queue_len.load(Ordering::Acquire) == 0 {
            continue;
        }
        // One queue lock at a time: never hold a victim's lock while taking our own.
        let mut stolen: Vec<TaskRef> = {
            let mut theirs = victim.queue.lock().unwrap_or_else(|e| e.into_inner());
            let take = theirs.len().div_ceil(2);
            let stolen = theirs.drain(..take).collect();
            victim.queue_len.store(theirs.len(), Ordering::Release);
            stolen
        };
        if stolen.is_empty() {
            continue;
        }
        let first = stolen.remove(0);
        if !stolen.is_empty() {
            let own = &shared.workers[index];
            let mut mine = own.queue.lock().unwrap_or_else(|e| e.into_inner());
            mine.extend(stolen);
            own.queue_len.store(mine.len(), Ordering::Release);
        }
        return Some(first);
    }
    None
}

/// Whether any queue holds a task that could be stolen or taken.
fn has_waiting_work(shared: &Shared) -> bool {
    shared.inject_len.load(Ordering::SeqCst) > 0
        || shared
            .workers
            .iter()
            .any(|w| w.queue_len.load(Ordering::SeqCst) > 0)
}

/// Busy-waits a little for work before parking: a request that comes back within tens of
/// microseconds (a caller outside the workers, the next message of a burst) then costs no
/// futex wake-up and no context switch. Counts as searching, so that nobody wakes another
/// worker for work this one is about to take. `true` if there is work.
fn spin_for_work(shared: &Shared, state: &mut State) -> bool {
    if !state.searching {
        state.searching = true;
        shared.searching.fetch_add(1, Ordering::SeqCst);
    }
    for round in 0..SPIN_ROUNDS + YIELD_ROUNDS {
        if has_waiting_work(shared) || shared.shutdown.load(Ordering::Relaxed) {
            return true;
        }
        if round < SPIN_ROUNDS {
            for _ in 0..32 {
                std::hint::spin_loop();
            }
        } else {
            // Let the thread that will send the work run, on a machine with few cores.
            std::thread::yield_now();
        }
    }
    false
}

/// Parks until `notify_one` or the scheduler's stop wakes this worker.
fn park(shared: &Shared, state: &mut State) {
    let slot = &shared.workers[state.index];
    slot.parked.store(true, Ordering::SeqCst);
    shared.idle.fetch_add(1, Ordering::SeqCst);
    if state.searching {
        state.searching = false;
        shared.searching.fetch_sub(1, Ordering::SeqCst);
    }
    // The last look, after announcing ourselves idle: a task queued before a notifier could
    // see us idle is found here (see `Shared::notify_one`).
    if has_waiting_work(shared) || shared.shutdown.load(Ordering::SeqCst) {
        if slot
            .parked
            .compare_exchange(true, false, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            shared.idle.fetch_sub(1, Ordering::SeqCst);
        } else {
            // A notifier got here first and counted us as searching.
            state.searching = true;
        }
        return;
    }
    while slot.parked.load(Ordering::SeqCst) && !shared.shutdown.load(Ordering::SeqCst) {
        std::thread::park();
    }
    if !shared.shutdown.load(Ordering::SeqCst) {
        // `notify_one` cleared our flag, took us off `idle` and counted us as searching.
        state.searching = true;
    }
}

/// At shutdown: drops this worker's tasks and whatever is left in the injection queue.
fn drain(shared: &Shared, index: usize) {
    if let Some(local) = LOCAL.with_borrow_mut(Option::take) {
        for task in local.next.into_iter().chain(local.pending) {
            task.cancel();
        }
    }
    let own: Vec<_> = shared.workers[index]
        .queue
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .drain(..)
        .collect();
    for task in own {
        task.cancel();
    }
    let injected: Vec<_> = shared
        .inject
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .drain(..)
        .collect();
    for task in injected {
        task.cancel();
    }
}

impl super::WorkerSlot {
    fn pop(&self) -> Option<TaskRef> {
        if self.queue_len.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let task = q.pop_front();
        self.queue_len.store(q.len(), Ordering::Release);
        task
    }
}
