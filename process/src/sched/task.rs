//! One scheduled process: its future, and the state machine that makes sure it is queued at
//! most once and polled by one worker at a time.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

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

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A task of the beamish scheduler. Its `Arc` is the waker; the queue holds the same `Arc`.
pub(crate) struct Task {
    state: AtomicU8,
    pub(super) shared: Arc<Shared>,
    /// Locked only by the worker that polls it (the state machine makes that one worker at a
    /// time), so the lock is never contended; it makes the task `Sync` without unsafe code.
    future: Mutex<Option<BoxFuture>>,
}

/// What a worker should do with a task after polling it.
pub(super) enum After {
    /// The task waits for a wake-up (or finished): nothing to do.
    Nothing,
    /// It was woken during the poll (a yield, or a message that arrived meanwhile): queue it
    /// behind the others.
    Requeue,
}

impl Task {
    /// A task that is scheduled from its creation (its first poll starts the process).
    pub(super) fn new(shared: Arc<Shared>, future: BoxFuture) -> Arc<Task> {
        Arc::new(Task {
            state: AtomicU8::new(SCHEDULED),
            shared,
            future: Mutex::new(Some(future)),
        })
    }

    /// Polls the task once. Called only by the worker that took it from a queue.
    pub(super) fn run(self: &Arc<Self>) -> After {
        self.state.store(RUNNING, Ordering::Release);
        let waker = Waker::from(Arc::clone(self));
        let mut cx = Context::from_waker(&waker);
        let finished = {
            let mut slot = self.future.lock().unwrap_or_else(|e| e.into_inner());
            let polled = match slot.as_mut() {
                // A process's own panics are caught inside its future (they end the process
                // with a reason); this catches anything else so that a worker never dies.
                Some(fut) => catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(&mut cx))),
                None => Ok(Poll::Ready(())),
            };
            match polled {
                Ok(Poll::Pending) => false,
                Ok(Poll::Ready(())) | Err(_) => {
                    // Dropping a future can panic too (a destructor); keep the worker alive.
                    let fut = slot.take();
                    let _ = catch_unwind(AssertUnwindSafe(move || drop(fut)));
                    true
                }
            }
        };
        if finished {
            self.state.store(DONE, Ordering::Release);
            return After::Nothing;
        }
        match self
            .state
            .compare_exchange(RUNNING, IDLE, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => After::Nothing,
            Err(_) => {
                // NOTIFIED: woken while it ran; it is ours to queue again.
                self.state.store(SCHEDULED, Ordering::Release);
                After::Requeue
            }
        }
    }

    /// Drops the future without polling it (the scheduler is shutting down).
    pub(super) fn cancel(&self) {
        self.state.store(DONE, Ordering::Release);
        let fut = self.future.lock().unwrap_or_else(|e| e.into_inner()).take();
        let _ = catch_unwind(AssertUnwindSafe(move || drop(fut)));
    }

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

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        if self.transition_to_scheduled() {
            super::schedule(self);
        }
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.transition_to_scheduled() {
            super::schedule(Arc::clone(self));
        }
    }
}
