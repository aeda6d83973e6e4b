//! A worker thread's loop: where it finds its next task, when it steals, how it parks.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::task::TaskRef;
use super::{HAS_PENDING, LOCAL, Local, MAX_NEXT_STREAK, Queued, STEAL_AGE, Shared};
use crate::clock::ticks;

/// The longest a parked worker sleeps between looks at young work in other queues.
const MAX_WATCH: Duration = Duration::from_millis(1);

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
    /// The least it sleeps while other queues hold only young work: zero at first (it
    /// sleeps until the oldest would be ripe), then from [`STEAL_AGE`] doubling up to
    /// [`MAX_WATCH`] each time such a sleep ends with nothing to take (the busy worker got
    /// to its work first: it keeps up). After a sleep, work comes only from the injection
    /// queue or another worker's: taking some resets it.
    backoff: Duration,
    /// The last sleep ended by its timeout, and nothing was taken since.
    timed_out: bool,
    /// Polls begun and ended, published in `Watched::polls`: odd while polling.
    polls: u32,
}

impl State {
    /// A worker that has not run yet.
    fn new(index: usize) -> State {
        State {
            index,
            tick: 0,
            streak: 0,
            searching: false,
            backoff: Duration::ZERO,
            timed_out: false,
            polls: 0,
        }
    }

    /// Took a task from outside its own queue: the next sleep is a short one again.
    fn found_work(&mut self) {
        self.backoff = Duration::ZERO;
        self.timed_out = false;
    }
}

/// What a worker with nothing to do finds in the other queues.
#[derive(PartialEq, Eq, Debug)]
enum Look {
    /// A task it may take: in the injection queue, or one that has waited [`STEAL_AGE`].
    Ripe,
    /// Tasks that have not waited long enough to be moved; the first will have in this
    /// long.
    Young(Duration),
    Nothing,
}

/// Runs worker `index` until the scheduler stops.
pub(super) fn run(shared: Arc<Shared>, index: usize) {
    let _runtime = shared.rt.enter();
    if shared.rt.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread {
        crate::clock::enable_on_this_thread();
    }
    super::mark_worker_thread();
    LOCAL.set(Some(Local {
        shared: Arc::clone(&shared),
        index,
        next: None,
        pending: Vec::with_capacity(super::SPAWN_BATCH),
        blocking: false,
    }));
    let mut state = State::new(index);
    let watched = &shared.workers[index].watched;
    while !shared.shutdown.load(Ordering::Acquire) {
        match next_task(&shared, &mut state) {
            Some(task) => {
                if state.searching {
                    state.searching = false;
                    shared.searching.fetch_sub(1, Ordering::SeqCst);
                    if look(&shared) == Look::Ripe {
                        shared.notify_one();
                    }
                }
                super::fresh_budgets();
                state.polls = state.polls.wrapping_add(1);
                watched.polls.store(state.polls, Ordering::Relaxed);
                let requeue = task.run();
                state.polls = state.polls.wrapping_add(1);
                watched.polls.store(state.polls, Ordering::Relaxed);
                if HAS_PENDING.get() {
                    flush_pending();
                }
                if let Some(task) = requeue {
                    if shared.workers[index].push_all(std::iter::once(task), ticks()) {
                        shared.after_push_into_empty();
                    }
                }
                if watched.long_poll.load(Ordering::Relaxed) != 0 {
                    settle_long_poll(&shared, &mut state);
                }
            }
            None if watched.long_poll.load(Ordering::Relaxed) != 0 => {
                // Marked as the last poll ended: settle it before parking.
                settle_long_poll(&shared, &mut state);
            }
            None => {
                // Back from a timed sleep with nothing to take: straight back to sleep.
                if state.timed_out || !spin_for_work(&shared, &mut state) {
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
    let own = &shared.workers[state.index];
    if state.tick % INJECT_INTERVAL == 0 {
        if let Some(task) = take_injected(shared, state) {
            return Some(task);
        }
    }
    let serve_queue_first =
        state.streak >= MAX_NEXT_STREAK && own.queue_len.load(Ordering::Acquire) > 0;
    if !serve_queue_first {
        if let Some(task) = take_next() {
            state.streak += 1;
            return Some(task);
        }
    }
    if serve_queue_first {
        // The `next` task goes first in the queue, where it runs after the task taken
        // now, as it would have from `next`, and where another worker can take it should
        // that task's poll be a long one.
        if let Some(next) = take_next() {
            own.push_front(next, ticks());
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
    if let Some(task) = take_injected(shared, state) {
        return Some(task);
    }
    steal(shared, state)
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
fn take_injected(shared: &Shared, state: &mut State) -> Option<TaskRef> {
    let index = state.index;
    if shared.inject_len.load(Ordering::Acquire) == 0 {
        return None;
    }
    // One queue lock at a time, as in `steal`.
    let (first, batch): (TaskRef, Vec<TaskRef>) = {
        let mut inject = shared.inject.lock().unwrap_or_else(|e| e.into_inner());
        let first = inject.pop_front()?;
        let share = (inject.len() / shared.core).min(INJECT_BATCH);
        let batch = inject.drain(..share).collect();
        shared.inject_len.store(inject.len(), Ordering::Release);
        (first, batch)
    };
    if !batch.is_empty() {
        // Work from outside may be taken by any worker at once, as in the injection queue.
        shared.workers[index].push_all(batch, 0);
    }
    state.found_work();
    Some(first)
}

/// Takes half of another worker's queue, if its front has waited [`STEAL_AGE`]; returns
/// the first of them.
fn steal(shared: &Shared, state: &mut State) -> Option<TaskRef> {
    let (n, index) = (shared.slots().len(), state.index);
    let now = ticks();
    for offset in 1..n {
        let victim = &shared.workers[(index + offset) % n];
        if !victim.front_is_ripe(now) {
            continue;
        }
        // One queue lock at a time: never hold a victim's lock while taking our own.
        let mut stolen: std::collections::VecDeque<Queued> = {
            let mut theirs = victim.queue.lock().unwrap_or_else(|e| e.into_inner());
            let take = theirs.len().div_ceil(2);
            let stolen = theirs.drain(..take).collect();
            victim.publish(&theirs);
            stolen
        };
        let Some(first) = stolen.pop_front() else {
            continue;
        };
        if !stolen.is_empty() {
            let own = &shared.workers[index];
            let mut mine = own.queue.lock().unwrap_or_else(|e| e.into_inner());
            mine.extend(stolen);
            own.publish(&mine);
        }
        state.found_work();
        return Some(first.task);
    }
    None
}

/// What the queues hold for an idle worker.
fn look(shared: &Shared) -> Look {
    if shared.inject_len.load(Ordering::SeqCst) > 0 {
        return Look::Ripe;
    }
    let now = ticks();
    let mut soonest: Option<u64> = None;
    for w in shared.slots() {
        if w.queue_len.load(Ordering::SeqCst) > 0 {
            let ripe_in = w.ripe_in(now);
            if ripe_in == 0 {
                return Look::Ripe;
            }
            soonest = Some(soonest.map_or(ripe_in, |s| s.min(ripe_in)));
        }
    }
    match soonest {
        Some(ticks) => Look::Young(crate::clock::duration_of(ticks)),
        None => Look::Nothing,
    }
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
        if look(shared) == Look::Ripe || shared.shutdown.load(Ordering::Relaxed) {
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

/// Parks until `notify_one` or the scheduler's stop wakes this worker; while other queues
/// hold young work, only until the first of it is ripe (or for its backoff, if it keeps
/// finding that the busy worker got there first), so that work a busy worker does not get
/// to (a long poll holds it) is taken once it has waited long enough.
fn park(shared: &Shared, state: &mut State) {
    let slept_in_vain = std::mem::take(&mut state.timed_out);
    let slot = &shared.workers[state.index];
    slot.parked.store(true, Ordering::SeqCst);
    shared.idle.fetch_add(1, Ordering::SeqCst);
    // Counted as sleeping until notified before the last look, so that a push into an
    // empty queue after it is heard (see `Shared::after_push`).
    shared.idle_untimed.fetch_add(1, Ordering::SeqCst);
    if state.searching {
        state.searching = false;
        shared.searching.fetch_sub(1, Ordering::SeqCst);
    }
    // The last look, after announcing ourselves idle: a task queued before a notifier could
    // see us idle is found here (see `Shared::notify_one`).
    let found = look(shared);
    if found == Look::Ripe || shared.shutdown.load(Ordering::SeqCst) {
        shared.idle_untimed.fetch_sub(1, Ordering::SeqCst);
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
    let until = if let Look::Young(ripe_in) = found {
        shared.idle_untimed.fetch_sub(1, Ordering::SeqCst);
        if slept_in_vain {
            state.backoff = (state.backoff * 2).clamp(STEAL_AGE, MAX_WATCH);
        }
        Some(Instant::now() + ripe_in.max(state.backoff))
    } else {
        None
    };
    while slot.parked.load(Ordering::SeqCst) && !shared.shutdown.load(Ordering::SeqCst) {
        match until {
            None => std::thread::park(),
            Some(until) => {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                std::thread::park_timeout(left);
            }
        }
    }
    if until.is_none() {
        shared.idle_untimed.fetch_sub(1, Ordering::SeqCst);
    }
    if shared.shutdown.load(Ordering::SeqCst) {
        return;
    }
    if slot
        .parked
        .compare_exchange(true, false, Ordering::SeqCst, Ordering::SeqCst)
        .is_ok()
    {
        // Our own timeout: nobody counted us as searching.
        shared.idle.fetch_sub(1, Ordering::SeqCst);
        state.timed_out = true;
    } else {
        // `notify_one` cleared our flag, took us off `idle` and counted us as searching.
        state.searching = true;
    }
}

/// After a poll the monitor marked as long (or as the previous one ended): reports it if it
/// was this poll, and takes this worker off the stuck count. If the relief workers started
/// meanwhile make one worker too many, this one retires: it hands its tasks to the others
/// and parks as a spare until the monitor needs it again.
fn settle_long_poll(shared: &Arc<Shared>, state: &mut State) {
    let index = state.index;
    let slot = &shared.workers[index];
    let (ran, retire) = {
        let mut relief = shared.relief.lock().unwrap_or_else(|e| e.into_inner());
        let marked = slot.watched.long_poll.swap(0, Ordering::AcqRel);
        if marked == 0 {
            return;
        }
        relief.stuck -= 1;
        let ran = (marked == state.polls.wrapping_sub(1)).then(|| {
            let since = slot.watched.long_since.load(Ordering::Relaxed);
            crate::clock::duration_of(ticks().saturating_sub(since))
        });
        let retire = relief.active - relief.stuck > shared.core;
        if retire {
            relief.active -= 1;
            slot.spare.store(true, Ordering::SeqCst);
            relief.spares.push(index);
        }
        (ran, retire)
    };
    if let (Some(ran), Some(report)) = (ran, shared.on_long_poll.get()) {
        report(ran);
    }
    if !retire {
        return;
    }
    let tasks = LOCAL.with_borrow_mut(|local| {
        local
            .as_mut()
            .expect("a worker thread has its local state")
            .take_all()
    });
    shared.inject_all(tasks);
    while slot.spare.load(Ordering::SeqCst) && !shared.shutdown.load(Ordering::SeqCst) {
        std::thread::park();
    }
    *state = State {
        polls: state.polls,
        ..State::new(index)
    };
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
    for queued in own {
        queued.task.cancel();
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
    /// Queues a task at the front, stamped `since`.
    fn push_front(&self, task: TaskRef, since: u64) {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        q.push_front(Queued { task, since });
        self.publish(&q);
    }

    fn pop(&self) -> Option<TaskRef> {
        if self.queue_len.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let queued = q.pop_front();
        self.publish(&q);
        queued.map(|queued| queued.task)
    }
}

#[cfg(test)]
mod tests {
    use super::super::task::Task;
    use super::*;

    fn tasks(shared: &Arc<Shared>, n: usize) -> Vec<TaskRef> {
        (0..n)
            .map(|_| Task::new(Arc::clone(shared), async {}) as TaskRef)
            .collect()
    }

    fn queued(shared: &Shared, index: usize) -> usize {
        shared.workers[index].queue_len.load(Ordering::SeqCst)
    }

    fn cancel_all(shared: &Shared) {
        for slot in shared.workers.iter() {
            for queued in slot.queue.lock().unwrap().drain(..) {
                queued.task.cancel();
            }
        }
    }

    /// An idle worker leaves alone the work a busy worker queued less than [`STEAL_AGE`] ago
    /// (that worker will get to it sooner than moving it would take), and takes half of the
    /// work that has waited longer.
    #[test]
    fn only_work_that_has_waited_is_stolen() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let shared = Arc::new(Shared::new(rt.handle().clone(), 2, 0));
        let mut thief = State::new(1);
        assert!(look(&shared) == Look::Nothing);
        // Stamped a second ahead: young however long this thread is descheduled meanwhile.
        let young = ticks() + crate::clock::ticks_in(Duration::from_secs(1));
        shared.workers[0].push_all(tasks(&shared, 4), young);
        assert!(matches!(look(&shared), Look::Young(_)));
        assert!(steal(&shared, &mut thief).is_none());
        assert_eq!(queued(&shared, 0), 4);

        cancel_all(&shared);
        // Stamped at the counter's start: long ripe.
        shared.workers[0].push_all(tasks(&shared, 4), 0);
        assert!(look(&shared) == Look::Ripe);
        assert!(steal(&shared, &mut thief).is_some());
        assert_eq!((queued(&shared, 0), queued(&shared, 1)), (2, 1));
        cancel_all(&shared);
    }
}
