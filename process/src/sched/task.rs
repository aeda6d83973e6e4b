//! One scheduled process: its future, and the state machine that makes sure it is queued at
//! most once and polled by one worker at a time.
//!
//! The future lives inline in the task's allocation (one allocation per spawn, not a task and
//! a boxed future). Polling it needs a pinned reference to it inside its mutex, which is the
//! one `unsafe fn` of this crate, called in three places; see [`pinned`].

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures::task::{ArcWake, waker_ref};

use super::Shared;

/// Not queued, not running: waiting for a wake-up.
const IDLE: u8 = 0;
/// In exactly one run queue (or a worker's next slot), not running.
const SCHEDULED: u8 = 1;
/// Being polled by a worker.
const RUNNING: u8 = 2;
/// Being polled, and woken meanwhile: the worker queues it again after the poll.
const NOTIFIED: u8 = 3;
/// Its future has finished (or panicked) and is gone; wake-ups are ignored.
const DONE: u8 = 4;

/// A task as the queues hold it, whatever its future's type.
pub(crate) type TaskRef = Arc<dyn Runnable>;

/// What a worker does with a task, without knowing its future's type.
pub(crate) trait Runnable: Send + Sync + 'static {
    /// Polls the task once. Called only by the worker that took it from a queue. Returns the
    /// task if it was woken during the poll and must be queued again.
    fn run(self: Arc<Self>) -> Option<TaskRef>;
    /// Drops the future without polling it (the scheduler is shutting down).
    fn cancel(&self);
    /// The scheduler the task belongs to.
    fn shared(&self) -> &Arc<Shared>;
    /// Whether a wake-up queues it behind the work its worker already has (see `schedule`).
    fn wakes_in_turn(&self) -> bool;
}

/// A task of the beamish scheduler. Its `Arc` is the waker; the queue holds the same `Arc`.
pub(crate) struct Task<F> {
    state: AtomicU8,
    /// A wake-up queues it behind the work its worker already has, rather than in the
    /// `next` slot (a server: see `schedule`). Set by its own poll, once.
    in_turn: AtomicBool,
    shared: Arc<Shared>,
    /// Locked only by the worker that polls it (the state machine makes that one worker at a
    /// time), so the lock is never contended; it makes the task `Sync` without unsafe code.
    /// `None` once the future has finished and been dropped (in place).
    future: Mutex<Option<F>>,
}

impl<F: Future<Output = ()> + Send + 'static> Task<F> {
    /// A task that is scheduled from its creation (its first poll starts the process).
    pub(super) fn new(shared: Arc<Shared>, future: F) -> Arc<Task<F>> {
        Arc::new(Task {
            state: AtomicU8::new(SCHEDULED),
            in_turn: AtomicBool::new(false),
            shared,
            future: Mutex::new(Some(future)),
        })
    }

    /// Polls the future once; `true` if it finished (or panicked) and was dropped.
    fn poll_future(self: &Arc<Self>) -> bool {
        // Borrowed, not cloned: a poll that stores no waker touches no reference count.
        let waker = waker_ref(self);
        let mut cx = Context::from_waker(&waker);
        let mut guard = self.future.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: this task's own future slot, under its lock (see `pinned`).
        #[allow(unsafe_code)]
        let mut slot = unsafe { pinned(&mut guard) };
        let polled = match slot.as_mut().as_pin_mut() {
            // A process's own panics are caught inside its future (they end the process with
            // a reason); this catches anything else so that a worker never dies.
            Some(fut) => catch_unwind(AssertUnwindSafe(|| fut.poll(&mut cx))),
            None => Ok(Poll::Ready(())),
        };
        match polled {
            Ok(Poll::Pending) => false,
            Ok(Poll::Ready(())) | Err(_) => {
                // Dropping a future can panic too (a destructor); keep the worker alive.
                let _ = catch_unwind(AssertUnwindSafe(|| slot.set(None)));
                true
            }
        }
    }
}

impl<F: Future<Output = ()> + Send + 'static> Runnable for Task<F> {
    fn run(self: Arc<Self>) -> Option<TaskRef> {
        self.state.store(RUNNING, Ordering::Release);
        if self.poll_future() {
            self.state.store(DONE, Ordering::Release);
            return None;
        }
        if super::take_wake_in_turn() {
            self.in_turn.store(true, Ordering::Relaxed);
        }
        match self
            .state
            .compare_exchange(RUNNING, IDLE, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => None,
            Err(_) => {
                // NOTIFIED: woken while it ran; it is ours to queue again.
                self.state.store(SCHEDULED, Ordering::Release);
                Some(self)
            }
        }
    }

    fn cancel(&self) {
        self.state.store(DONE, Ordering::Release);
        let mut guard = self.future.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: this task's own future slot, under its lock (see `pinned`).
        #[allow(unsafe_code)]
        let mut slot = unsafe { pinned(&mut guard) };
        let _ = catch_unwind(AssertUnwindSafe(|| slot.set(None)));
    }

    fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    fn wakes_in_turn(&self) -> bool {
        self.in_turn.load(Ordering::Relaxed)
    }
}

/// The task's future slot, pinned where it lies.
///
/// # Safety
/// `slot` must be the `future` field of a [`Task`], reached through its lock or through
/// `&mut Task` in its `Drop`. The task lives only inside its `Arc` allocation, so the slot
/// never moves; and the future must never be moved out of the slot afterwards: the mutex is
/// never taken apart (no `into_inner`; `get_mut` only in `Task`'s `Drop`, which passes the
/// slot straight here), and the slot is only changed through the returned pin (`set(None)`
/// drops the future in place).
#[allow(unsafe_code)]
unsafe fn pinned<F>(slot: &mut Option<F>) -> Pin<&mut Option<F>> {
    // SAFETY: the caller's promise above is `Pin::new_unchecked`'s contract: the pointee
    // neither moves nor is moved out of until it is dropped.
    unsafe { Pin::new_unchecked(slot) }
}

impl<F> Drop for Task<F> {
    /// A future still here belongs to a process that never finished and that no worker
    /// cancelled: the last waker holding it went some other way (with the runtime's timers,
    /// or with the mailboxes the node closes at shutdown), on whatever thread dropped it. Its
    /// destructors may panic; that must end nothing but this drop.
    fn drop(&mut self) {
        // `&mut self`: no lock to take (a finished process's task, the common case, costs
        // one check).
        let future = self.future.get_mut().unwrap_or_else(|e| e.into_inner());
        if future.is_some() {
            // SAFETY: this task's own future slot, through `&mut self` while the task is
            // still in its allocation (see `pinned`).
            #[allow(unsafe_code)]
            let mut slot = unsafe { pinned(future) };
            let _ = catch_unwind(AssertUnwindSafe(|| slot.set(None)));
        }
    }
}

impl<F> Task<F> {
    /// Marks the task scheduled if it was idle; `true` if the caller must now queue it.
    fn transition_to_scheduled(&self) -> bool {
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            let next = match state {
                IDLE => SCHEDULED,
                RUNNING => NOTIFIED,
                _ => return false,
            };
            match self
                .state
                .compare_exchange_weak(state, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return next == SCHEDULED,
                Err(actual) => state = actual,
            }
        }
    }
}

impl<F: Future<Output = ()> + Send + 'static> ArcWake for Task<F> {
    fn wake(self: Arc<Self>) {
        if self.transition_to_scheduled() {
            super::schedule::<false>(self);
        }
    }

    fn wake_by_ref(arc_self: &Arc<Self>) {
        if arc_self.transition_to_scheduled() {
            super::schedule::<false>(Arc::clone(arc_self) as TaskRef);
        }
    }
}
