//! beamish's own scheduler: a fixed set of worker threads that run processes, placed for
//! locality rather than spread eagerly.
//!
//! On these 2-core machines tokio's multi-thread scheduler loses most of its time in
//! request/response workloads to waking the idle worker, which then steals one half of a
//! conversation (its LIFO slot is limited to three polls in a row). This scheduler keeps a
//! conversation on one worker and spreads only work that can run in parallel:
//!
//! - A process woken by a process on a worker runs next on *that* worker (its `next` slot,
//!   not stealable), as on tokio; the slot's previous occupant goes to the worker's queue.
//! - An idle worker takes a task from another worker's queue only once it has waited there
//!   [`STEAL_AGE`] (50 us, about what a move costs here). Work that its worker keeps up
//!   with stays where it is: a ping-pong, a ring with one token, and a hundred callers of
//!   one server each stay on one thread, while skynet, spawn loops and fan-out, whose
//!   queues back up, spread to every worker. An idle worker that sees young work sleeps
//!   until it would be ripe (backing off while its worker keeps getting there first), so
//!   the busy worker pays no wake-up for it and a long poll never strands the work queued
//!   behind it. Work from outside the workers wakes an idle worker at once.
//! - Wake-ups from outside the workers (timers, tokio tasks, other threads) go to the
//!   shared injection queue.
//!
//! Worker threads enter the tokio runtime the node was started in, so `tokio::time`,
//! `tokio::sync`, `tokio::net` and `tokio::spawn` work inside processes as before; that
//! runtime's threads drive the timers and I/O. The scheduler stops when that runtime shuts
//! down (a guard task is dropped with it), dropping the processes it still holds.
//!
//! Fairness: each poll of a process gets a budget of [`BUDGET`] messages (see
//! [`poll_proceed`]); a process that uses it up yields to the back of its worker's queue, and
//! a worker serves its `next` slot at most [`MAX_NEXT_STREAK`] times in a row while its queue
//! holds others.

mod monitor;
mod task;
mod worker;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::thread::Thread;

use task::{Task, TaskRef};

/// Messages a process may receive in one poll before it yields (tokio's coop budget is 128
/// operations).
pub(crate) const BUDGET: u32 = 128;

/// Tasks displaced by spawns gathered before they move to the worker's shared queue in one
/// lock (see `Local::pending`).
const SPAWN_BATCH: usize = 32;

/// The same for tasks displaced by wake-ups: smaller, since a woken task often answers
/// someone who waits (measured, see `schedule`).
const WAKE_BATCH: usize = 8;

/// Polls of the `next` slot in a row before a worker serves its queue.
const MAX_NEXT_STREAK: u32 = 32;

/// How long a task waits in a worker's queue before an idle worker may take it (see
/// `worker::steal`): about what moving it costs, a thread wake-up on these VMs.
const STEAL_AGE: std::time::Duration = std::time::Duration::from_micros(50);

/// [`STEAL_AGE`] in ticks of [`crate::clock::ticks`].
fn steal_age_ticks() -> u64 {
    static AGE: OnceLock<u64> = OnceLock::new();
    *AGE.get_or_init(|| crate::clock::ticks_in(STEAL_AGE))
}

/// A task in a worker's queue, and when it went there.
struct Queued {
    task: TaskRef,
    since: u64,
}

/// Relief workers a node may start beyond its own, by default (see [`monitor`]).
pub(crate) const DEFAULT_MAX_RELIEF: usize = 64;

/// The worker threads of one node, shared by its handles and its tasks.
pub(crate) struct Shared {
    /// Every slot a worker thread may take: the node's own `core` workers first, then room
    /// for relief workers. Only the first `in_use` have ever had a thread.
    workers: Box<[WorkerSlot]>,
    /// The node's own number of workers: how many threads should be running processes at
    /// once.
    core: usize,
    /// Slots that have (or had) a thread: what loops over the workers look at.
    in_use: AtomicUsize,
    /// Who is running, stuck or spare (see [`monitor`]); taken only off the hot path.
    relief: Mutex<Relief>,
    /// Called by a worker after a poll the monitor found too long, with how long it ran at
    /// least (set by the node: it emits `beamish.process.long_poll`).
    on_long_poll: OnceLock<Box<dyn Fn(std::time::Duration) + Send + Sync>>,
    /// Tasks scheduled from outside the workers.
    inject: Mutex<VecDeque<TaskRef>>,
    /// Called once when the runtime the workers run in shuts down (the node drops its waiting
    /// processes), not when the node itself is dropped.
    on_runtime_shutdown: Mutex<Option<Box<dyn FnOnce() + Send>>>,
    inject_len: AtomicUsize,
    /// Workers parked, waiting for work.
    idle: AtomicUsize,
    /// Of those, the ones parked with no timeout: only a notification wakes them.
    idle_untimed: AtomicUsize,
    /// Workers woken to look for work that have not found it yet: while one is, nobody else
    /// is woken (one wake-up per burst, not per task).
    searching: AtomicUsize,
    shutdown: AtomicBool,
    rt: tokio::runtime::Handle,
}

/// What other threads see of a worker. Each on cache lines of its own (two 64-byte lines, as
/// adjacent-line prefetchers pair them): the slots sit side by side in one slice, and one
/// worker's queue traffic then never evicts what another reads of its own slot. Call with 100
/// callers, 8 alternating runs: median 6.52M against 6.06M calls/s.
#[repr(align(128))]
struct WorkerSlot {
    /// Tasks waiting on this worker; others steal from its front when idle.
    queue: Mutex<VecDeque<Queued>>,
    queue_len: AtomicUsize,
    /// When the task at the queue's front was queued ([`crate::clock::ticks`]); `u64::MAX`
    /// while the queue is empty.
    front_since: AtomicU64,
    /// Set by the worker before it parks, cleared by whoever wakes it.
    parked: AtomicBool,
    /// A relief worker with nothing to relieve: parked until the monitor needs it again;
    /// `notify_one` leaves it alone.
    spare: AtomicBool,
    thread: OnceLock<Thread>,
    /// What the monitor reads, on a line of its own: written by the worker around every
    /// poll, so that thieves reading the queue's length never miss on it.
    watched: Watched,
}

/// A worker's poll counter and the monitor's finding, on a cache line of their own.
#[repr(align(64))]
struct Watched {
    /// Odd while the worker polls a task, even between polls; one plain store before and
    /// one after each poll. The monitor finds a long poll by seeing the same odd value twice.
    polls: AtomicU32,
    /// The odd `polls` value of a poll the monitor found too long (and counted as stuck),
    /// 0 if none: the worker settles it after the poll.
    long_poll: AtomicU32,
    /// When the monitor first saw that poll ([`crate::clock::ticks`]).
    long_since: AtomicU64,
}

/// The monitor's and the workers' shared account of who runs processes.
struct Relief {
    /// Slots whose thread runs the worker loop (spares excluded): the core workers and the
    /// relief workers started for stuck ones.
    active: usize,
    /// Of those, the ones the monitor found in a long poll, not yet back from it.
    stuck: usize,
    /// Parked relief workers, ready to be woken before a new thread is started.
    spares: Vec<usize>,
}

/// The scheduler handle a node keeps.
pub(crate) struct Scheduler {
    shared: Arc<Shared>,
}

/// Stops the scheduler when dropped: a task on the node's tokio runtime owns one, so the
/// workers end with that runtime.
struct StopOnDrop(Arc<Shared>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop();
        let release = self
            .0
            .on_runtime_shutdown
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(release) = release {
            release();
        }
    }
}

impl Drop for Scheduler {
    /// The node is gone (no process and no handle is left): its workers end.
    fn drop(&mut self) {
        self.shared.stop();
    }
}

impl Scheduler {
    /// Starts `workers` threads inside the tokio runtime `rt`, and the monitor that starts
    /// up to `max_relief` more while some of them are stuck in long polls.
    pub(crate) fn start(
        rt: tokio::runtime::Handle,
        workers: usize,
        max_relief: usize,
    ) -> std::io::Result<Scheduler> {
        let workers = workers.max(1);
        let shared = Arc::new(Shared::new(rt.clone(), workers, max_relief));
        for index in 0..workers {
            shared.start_worker(index)?;
        }
        monitor::start(Arc::clone(&shared))?;
        // The guard lives as long as the runtime: dropping the runtime drops its tasks.
        let guard = StopOnDrop(Arc::clone(&shared));
        rt.spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        });
        Ok(Scheduler { shared })
    }

    /// Sets what to do when the runtime the workers run in shuts down, after the workers
    /// are told to stop.
    pub(crate) fn on_runtime_shutdown(&self, release: Box<dyn FnOnce() + Send>) {
        *self
            .shared
            .on_runtime_shutdown
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(release);
    }

    /// The number of worker threads (relief workers not counted).
    pub(crate) fn workers(&self) -> usize {
        self.shared.core
    }

    /// Sets what a worker does after a poll that ran too long: `f` gets how long it ran at
    /// least, on the worker's thread, right after the poll.
    pub(crate) fn on_long_poll(&self, f: Box<dyn Fn(std::time::Duration) + Send + Sync>) {
        let _ = self.shared.on_long_poll.set(f);
    }

    /// Relief threads started so far (spares included).
    pub(crate) fn relief_threads(&self) -> usize {
        self.shared.in_use.load(Ordering::Acquire) - self.shared.core
    }

    /// Runs `future` as a new task.
    pub(crate) fn spawn(&self, future: impl Future<Output = ()> + Send + 'static) {
        schedule::<true>(Task::new(Arc::clone(&self.shared), future));
    }
}

impl Shared {
    /// The state of `workers` workers and room for `max_relief` more, before their threads
    /// start.
    fn new(rt: tokio::runtime::Handle, workers: usize, max_relief: usize) -> Shared {
        Shared {
            workers: (0..workers + max_relief)
                .map(|_| WorkerSlot {
                    queue: Mutex::new(VecDeque::new()),
                    queue_len: AtomicUsize::new(0),
                    front_since: AtomicU64::new(u64::MAX),
                    parked: AtomicBool::new(false),
                    spare: AtomicBool::new(false),
                    thread: OnceLock::new(),
                    watched: Watched {
                        polls: AtomicU32::new(0),
                        long_poll: AtomicU32::new(0),
                        long_since: AtomicU64::new(0),
                    },
                })
                .collect(),
            core: workers,
            in_use: AtomicUsize::new(workers),
            relief: Mutex::new(Relief {
                active: workers,
                stuck: 0,
                spares: Vec::new(),
            }),
            on_long_poll: OnceLock::new(),
            inject: Mutex::new(VecDeque::new()),
            on_runtime_shutdown: Mutex::new(None),
            inject_len: AtomicUsize::new(0),
            idle: AtomicUsize::new(0),
            idle_untimed: AtomicUsize::new(0),
            searching: AtomicUsize::new(0),
            shutdown: AtomicBool::new(false),
            rt,
        }
    }

    /// Starts the thread of slot `index`.
    fn start_worker(self: &Arc<Self>, index: usize) -> std::io::Result<()> {
        let for_worker = Arc::clone(self);
        let thread = std::thread::Builder::new()
            .name(format!("beamish-worker-{index}"))
            .spawn(move || worker::run(for_worker, index))?;
        let _ = self.workers[index].thread.set(thread.thread().clone());
        Ok(())
    }

    /// The slots that have (or had) a thread.
    fn slots(&self) -> &[WorkerSlot] {
        &self.workers[..self.in_use.load(Ordering::Acquire)]
    }

    /// Asks every worker to stop, and wakes them.
    fn stop(&self) {
        self.shutdown.store(true, Ordering::SeqCst);
        for slot in self.workers.iter() {
            slot.parked.store(false, Ordering::SeqCst);
            if let Some(t) = slot.thread.get() {
                t.unpark();
            }
        }
    }

    /// Queues tasks a worker hands off (it blocks, or retires) where every worker finds
    /// them, and wakes one.
    fn inject_all(&self, tasks: Vec<TaskRef>) {
        if !tasks.is_empty() {
            let mut inject = self.inject.lock().unwrap_or_else(|e| e.into_inner());
            inject.extend(tasks);
            self.inject_len.store(inject.len(), Ordering::Release);
        }
        self.notify_one();
    }

    /// Queues a task from outside the workers.
    fn inject(&self, task: TaskRef) {
        {
            let mut q = self.inject.lock().unwrap_or_else(|e| e.into_inner());
            q.push_back(task);
            self.inject_len.store(q.len(), Ordering::Release);
        }
        self.notify_one();
        if self.shutdown.load(Ordering::SeqCst) {
            // The workers are gone or going, and may have emptied this queue already (a
            // timer fired by the runtime's shutdown wakes its process after that): drop
            // what is queued here, or it would stay forever, holding its process's cell and,
            // through it, this scheduler.
            let queued: Vec<TaskRef> = {
                let mut q = self.inject.lock().unwrap_or_else(|e| e.into_inner());
                self.inject_len.store(0, Ordering::Release);
                q.drain(..).collect()
            };
            for task in queued {
                task.cancel();
            }
        }
    }

    /// After a worker queued tasks on its own queue, which was empty before: wakes a worker
    /// that sleeps until notified, so that it watches the queue from then on. (A worker that
    /// sleeps with a timeout wakes by itself when the queue's front is ripe; the busy worker
    /// pays no wake-up for it.)
    fn after_push_into_empty(&self) {
        std::sync::atomic::fence(Ordering::SeqCst);
        if self.idle_untimed.load(Ordering::SeqCst) > 0 {
            self.notify_one();
        }
    }

    /// Wakes one parked worker if there is one and no other is already looking for work.
    fn notify_one(&self) {
        // Pairs with the parking worker's `idle` increment followed by its last look at the
        // queues: the fence orders our push (a store) before our load of `idle`, so either it
        // sees our task, or we see it idle.
        std::sync::atomic::fence(Ordering::SeqCst);
        if self.idle.load(Ordering::SeqCst) == 0 || self.searching.load(Ordering::SeqCst) > 0 {
            return;
        }
        for slot in self.slots() {
            if slot.parked.load(Ordering::SeqCst)
                && slot
                    .parked
                    .compare_exchange(true, false, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok()
            {
                self.idle.fetch_sub(1, Ordering::SeqCst);
                self.searching.fetch_add(1, Ordering::SeqCst);
                if let Some(t) = slot.thread.get() {
                    t.unpark();
                }
                return;
            }
        }
    }
}

/// The worker this thread is, if it is one.
struct Local {
    shared: Arc<Shared>,
    index: usize,
    /// The task to run next: the last one a task on this worker woke. Never stolen.
    next: Option<TaskRef>,
    /// Tasks displaced from `next` during the current poll, not yet in the shared queue: they
    /// move there in one lock (and one wake-up of an idle worker) when the poll ends, when a
    /// batch has gathered or when a worker is idle, rather than one lock and one fence each
    /// (see `schedule`).
    pending: Vec<TaskRef>,
    /// Inside [`block_in_place`]: wake-ups go to the injection queue, where other workers
    /// find them.
    blocking: bool,
}

thread_local! {
    static LOCAL: RefCell<Option<Local>> = const { RefCell::new(None) };
    /// Whether this worker's `Local::pending` holds tasks: a flag the worker reads after each
    /// poll without borrowing its local state.
    static HAS_PENDING: Cell<bool> = const { Cell::new(false) };
    /// The message budget of the process being polled on this worker; `None` off the workers.
    static BUDGET_LEFT: Cell<Option<u32>> = const { Cell::new(None) };
    /// Set by the process being polled to ask for [`wake_in_turn`].
    static WAKE_IN_TURN: Cell<bool> = const { Cell::new(false) };
    /// The reductions left to the process being polled on this worker (see
    /// [`consume_reductions`]).
    static REDUCTIONS_LEFT: Cell<u32> = const { Cell::new(REDUCTIONS) };
}

/// Reductions a process may spend in one poll through [`consume_reductions`] before it
/// yields: the BEAM's slice of 4,000 reductions.
pub const REDUCTIONS: u32 = 4_000;

/// Gives a poll its budgets: [`BUDGET`] messages and [`REDUCTIONS`] reductions.
fn fresh_budgets() {
    BUDGET_LEFT.set(Some(BUDGET));
    REDUCTIONS_LEFT.set(REDUCTIONS);
}

/// A cooperative yield point for long loops: counts `n` reductions against the current
/// poll's slice of [`REDUCTIONS`], and yields to the scheduler (the process goes to the back
/// of its worker's queue) once the slice is spent, as the BEAM preempts a process after its
/// reductions. Cheap when it does not yield: a thread-local decrement.
///
/// What a reduction is worth is the caller's choice: one unit of work of a loop (a row, a
/// chunk of a hash, a step of a search) that takes a microsecond or less keeps the process
/// within about a millisecond per poll. Without it a long computation still cannot hold the
/// node (a stuck worker is relieved after 2 ms), but it holds its thread and its process's
/// other work.
///
/// Off beamish's workers (on [`Executor::Tokio`](crate::Executor), or outside any process)
/// each call spends a unit of tokio's cooperative budget instead
/// ([`tokio::task::consume_budget`]), whatever `n` is.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let node = beamish_process::Node::start_default()?;
/// let summer = node.spawn(|_: beamish_process::Ctx<()>| async {
///     let mut sum = 0u64;
///     for row in 0..100_000u64 {
///         sum = sum.wrapping_add(row * row);
///         beamish_process::consume_reductions(1).await;
///     }
///     assert!(sum > 0);
/// })?;
/// assert_eq!(node.monitor(summer.pid()).await, beamish_process::Exit::Normal);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub async fn consume_reductions(n: u32) {
    if BUDGET_LEFT.get().is_none() {
        return tokio::task::consume_budget().await;
    }
    let left = REDUCTIONS_LEFT.get();
    if n < left {
        REDUCTIONS_LEFT.set(left - n);
        return;
    }
    REDUCTIONS_LEFT.set(0);
    YieldOnce(false).await;
}

/// Pending once (after waking itself), then ready.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Schedules a task that was just made `SCHEDULED`: into this worker's `next` slot when the
/// waker runs on one of the task's workers, otherwise into the injection queue.
///
/// The task it displaces from `next` waits in `pending` and goes to the worker's queue with
/// others, in one queue lock and one fence per batch: at once if a worker is idle or searching
/// (it could take it now), else when [`SPAWN_BATCH`] (after spawns) or [`WAKE_BATCH`] (after
/// wake-ups) have gathered, else when the poll ends. Measured with alternating runs:
/// - spawns in batches of 32: spawn 1M, median 525 against 586 ns per process (8 runs);
/// - wake-ups in batches of 8: fan-out 10k x 100, median 44.8M against 29.2M deliveries/s,
///   and call with 100 callers 5.43M against 4.87M calls/s (7 runs each). Batches of 32
///   without the idle check cost call with 100 callers 15%: a worker that ran dry waited
///   for callers held back in the other's batch.
///
/// A task that asked to be woken in turn (a server, see [`wake_in_turn`]) skips the `next`
/// slot when the worker has other work (in `next`, `pending` or its queue): it goes behind
/// that work, as on the BEAM, and finds the requests of the processes ahead of it together,
/// one poll for the batch. Through `next` it would run after each caller in turn, one poll
/// per request (callgrind, call with 100 callers on one worker: 1.94 polls per call
/// against 1.01).
fn schedule<const SPAWNED: bool>(task: TaskRef) {
    let task = LOCAL.with_borrow_mut(|local| match local {
        Some(local) if !local.blocking && Arc::ptr_eq(&local.shared, task.shared()) => {
            let displaced = if !SPAWNED && task.wakes_in_turn() && local.has_work() {
                Some(task)
            } else {
                local.next.replace(task)
            };
            if let Some(queued) = displaced {
                local.pending.push(queued);
                let batch = if SPAWNED { SPAWN_BATCH } else { WAKE_BATCH };
                // A worker that is idle or looking for work could take it (and one that
                // sleeps until notified must hear of it): no reason to wait. Also, should
                // this poll turn out a long one, only the queue is in reach of others.
                if local.pending.len() >= batch
                    || local.shared.idle.load(Ordering::Relaxed) > 0
                    || local.shared.searching.load(Ordering::Relaxed) > 0
                {
                    local.flush_pending();
                } else {
                    HAS_PENDING.set(true);
                }
            }
            None
        }
        _ => Some(task),
    });
    if let Some(task) = task {
        if OUTSIDE.get() == Outside::Armed {
            // A call from outside the workers woke it: the caller polls it (see
            // `run_woken_here`). Only the first; any other goes to the workers.
            match CAPTURED.take() {
                None => CAPTURED.set(Some(task)),
                Some(first) => {
                    CAPTURED.set(Some(first));
                    let shared = Arc::clone(task.shared());
                    shared.inject(task);
                }
            }
            return;
        }
        let shared = Arc::clone(task.shared());
        shared.inject(task);
    }
}

/// Where a thread that is none of beamish's workers stands with [`run_woken_here`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outside {
    /// Not inside `run_woken_here`: wake-ups go to the injection queue.
    Off,
    /// Inside its `send`: the first process woken is captured.
    Armed,
    /// Polling a captured process: wake-ups it makes go to the injection queue, and a call
    /// it makes does not poll its server here too (no nesting).
    Running,
    /// A worker thread of some node: never captures.
    Worker,
}

thread_local! {
    static OUTSIDE: Cell<Outside> = const { Cell::new(Outside::Off) };
    static CAPTURED: Cell<Option<TaskRef>> = const { Cell::new(None) };
}

/// Polls a woken process again at most this many times on the calling thread when it was
/// woken again during the poll (another caller's request came in), before leaving it to the
/// workers.
const INLINE_POLLS: u32 = 8;

/// Runs `send`, a call's request going into a server's mailbox, and, when this thread is
/// none of beamish's workers (a tokio task, `#[tokio::main]`'s body, a plain thread) and
/// the send woke the idle server, polls the server here and now instead of waking a worker
/// thread for it: the server takes the request and replies, and the caller finds the
/// reply at its first look, with no thread woken on either side. This is what a call from
/// tokio code costs as much as a tokio channel round trip rather than two futex wake-ups.
///
/// The poll runs after `send` has returned (so after the mailbox's lock is released), under
/// the same state machine as on a worker (a process is polled by one thread at a time), and
/// at most [`INLINE_POLLS`] times; if the server is woken once more, it goes to the
/// workers. Wake-ups the server makes meanwhile go to the workers, and a call it makes
/// itself does not nest another such poll.
pub(crate) fn run_woken_here<R>(send: impl FnOnce() -> R) -> R {
    if OUTSIDE.get() != Outside::Off {
        return send();
    }
    OUTSIDE.set(Outside::Armed);
    struct Disarm;
    impl Drop for Disarm {
        fn drop(&mut self) {
            OUTSIDE.set(Outside::Off);
        }
    }
    let disarm = Disarm;
    let sent = send();
    let Some(mut task) = CAPTURED.take() else {
        return sent;
    };
    OUTSIDE.set(Outside::Running);
    // The server's receives count against a budget of its own, as on a worker, not against
    // the calling tokio task's: once that ran out, the server could take nothing here.
    struct OwnBudget;
    impl Drop for OwnBudget {
        fn drop(&mut self) {
            BUDGET_LEFT.set(None);
        }
    }
    let own_budget = OwnBudget;
    for _ in 0..INLINE_POLLS {
        fresh_budgets();
        match task.run() {
            None => return sent,
            Some(again) => task = again,
        }
    }
    drop(own_budget);
    drop(disarm);
    let shared = Arc::clone(task.shared());
    shared.inject(task);
    sent
}

/// Marks this thread as a worker: [`run_woken_here`] never polls here.
fn mark_worker_thread() {
    OUTSIDE.set(Outside::Worker);
}

/// Runs `f`, which may block this thread for a while, without holding other processes up.
///
/// On beamish's workers, the process that `f` belongs to keeps its worker, so the worker first
/// hands every task it holds (its queue, and the one it would have run next, which no other
/// worker may otherwise take) to the others, and sends any wake-up that `f` makes to them
/// too. Elsewhere it is [`tokio::task::block_in_place`] (which panics on a current-thread
/// runtime).
pub fn block_in_place<R>(f: impl FnOnce() -> R) -> R {
    let handed_off = LOCAL.with_borrow_mut(|local| {
        let local = local.as_mut()?;
        local.blocking = true;
        Some((Arc::clone(&local.shared), local.take_all()))
    });
    let Some((shared, tasks)) = handed_off else {
        return tokio::task::block_in_place(f);
    };
    shared.inject_all(tasks);
    struct Unblock;
    impl Drop for Unblock {
        fn drop(&mut self) {
            LOCAL.with_borrow_mut(|local| {
                if let Some(local) = local {
                    local.blocking = false;
                }
            });
        }
    }
    let _unblock = Unblock;
    f()
}

impl WorkerSlot {
    /// Queues tasks at the back, stamped `since`; whether the queue was empty before.
    fn push_all(&self, tasks: impl IntoIterator<Item = TaskRef>, since: u64) -> bool {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let was_empty = q.is_empty();
        q.extend(tasks.into_iter().map(|task| Queued { task, since }));
        self.publish(&q);
        was_empty
    }

    /// Publishes the queue's length and its front's age to the other workers; called with
    /// the queue locked after each change.
    fn publish(&self, q: &VecDeque<Queued>) {
        self.front_since
            .store(q.front().map_or(u64::MAX, |f| f.since), Ordering::Relaxed);
        self.queue_len.store(q.len(), Ordering::Release);
    }

    /// Whether the task at the front has waited [`STEAL_AGE`] at `now`.
    fn front_is_ripe(&self, now: u64) -> bool {
        self.queue_len.load(Ordering::Acquire) > 0 && self.ripe_in(now) == 0
    }

    /// In how many ticks the task at the front will have waited [`STEAL_AGE`] (0: it has);
    /// the queue is non-empty.
    fn ripe_in(&self, now: u64) -> u64 {
        let waited = now.saturating_sub(self.front_since.load(Ordering::Relaxed));
        steal_age_ticks().saturating_sub(waited)
    }
}

impl Local {
    /// Takes every task this worker holds: the one it would run next (which no other worker
    /// may otherwise take), the displaced ones and its queue.
    fn take_all(&mut self) -> Vec<TaskRef> {
        let mut tasks: Vec<TaskRef> = self.next.take().into_iter().collect();
        tasks.append(&mut self.pending);
        HAS_PENDING.set(false);
        let own = &self.shared.workers[self.index];
        let mut q = own.queue.lock().unwrap_or_else(|e| e.into_inner());
        tasks.extend(q.drain(..).map(|queued| queued.task));
        own.publish(&q);
        tasks
    }

    /// Whether this worker has a task to run other than the one being polled.
    fn has_work(&self) -> bool {
        self.next.is_some()
            || !self.pending.is_empty()
            || self.shared.workers[self.index]
                .queue_len
                .load(Ordering::Relaxed)
                > 0
    }

    /// Moves the gathered displaced tasks to this worker's shared queue, where idle workers
    /// can steal them, and wakes one if none is looking for work.
    fn flush_pending(&mut self) {
        HAS_PENDING.set(false);
        if self.pending.is_empty() {
            return;
        }
        let own = &self.shared.workers[self.index];
        if own.push_all(self.pending.drain(..), crate::clock::ticks()) {
            self.shared.after_push_into_empty();
        }
    }
}

/// Asks that wake-ups of the process being polled queue it behind the work its worker
/// already has (see [`schedule`]). Sticky; no effect off beamish's workers.
pub(crate) fn wake_in_turn() {
    WAKE_IN_TURN.set(true);
}

/// Whether the poll that just ended asked for [`wake_in_turn`]; clears the request.
pub(super) fn take_wake_in_turn() -> bool {
    WAKE_IN_TURN.replace(false)
}

/// Spends one unit of the current process's message budget: `Pending` (after asking to be
/// polled again) when it is used up. Off beamish's workers it defers to tokio's coop budget,
/// so processes keep their fairness on a tokio-scheduled node too.
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<Progress> {
    match BUDGET_LEFT.get() {
        Some(0) => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        Some(n) => {
            BUDGET_LEFT.set(Some(n - 1));
            Poll::Ready(Progress::Own)
        }
        None => tokio::task::coop::poll_proceed(cx).map(Progress::Tokio),
    }
}

/// A unit of budget taken by [`poll_proceed`]; `made_progress` keeps it spent.
pub(crate) enum Progress {
    Own,
    Tokio(tokio::task::coop::RestoreOnPending),
}

impl Progress {
    /// The operation completed: the unit stays spent (otherwise it is given back).
    pub(crate) fn made_progress(self) {
        match self {
            Progress::Own => {}
            Progress::Tokio(r) => r.made_progress(),
        }
    }
}
