//! A pid and a mailbox for a stretch of tokio code: [`Node::scope`].
//!
//! Code outside any process (a test, a request handler, a shell command) often needs to *be*
//! a process for a while: to receive a `DOWN` or an `EXIT`, to be linked and monitored, to be
//! the sender of an exit signal. ExUnit gives every test such a process. Here the calling task
//! itself becomes one: its body runs in place, on the caller's thread and in the caller's
//! task (nothing is spawned), with a [`Ctx`] of its own. Its mailbox wakes the caller's task.
//!
//! The scope is a process like any other while it lasts, with one difference: it runs until
//! its body returns, so its end is the body's end.
//! * The body returns `v`: the scope ends with [`Exit::Normal`] and gives back `Ok(v)`.
//! * An exit signal ends it (R-EXIT-1: a link that dies abnormally while the scope does not
//!   trap exits, or `Exit::Kill`): its body is dropped at its next `.await`, as a process's
//!   would be, and the scope gives back `Err(ScopeError::Exited(reason))`.
//! * The body panics: the scope ends with [`Exit::Panic`] (its links and monitors hear it),
//!   and the panic then carries on in the caller, as a panic in plain Rust code does.
//! * The scope's future is dropped before its end (a `select!`, a timeout, a cancelled task):
//!   it ends with [`Exit::Shutdown`], so processes linked to it do not outlive it.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::cell::{Cell, Kind, Status};
use crate::ctx::Ctx;
use crate::error::SpawnError;
use crate::exit::Exit;
use crate::node::Node;
use crate::process::{CurrentGuard, SpawnOpts, SpawnSpec, handle_signal, new_cell, terminate};

/// Why [`Node::scope`] gave no value.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ScopeError {
    /// The scope could not become a process: the node is at its process limit (R-PROC-1).
    Spawn(SpawnError),
    /// An exit signal ended the scope before its body returned; its body was dropped.
    Exited(Exit),
}

impl std::fmt::Display for ScopeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScopeError::Spawn(e) => write!(f, "the scope could not start: {e}"),
            ScopeError::Exited(reason) => write!(f, "the scope was ended by {reason}"),
        }
    }
}

impl std::error::Error for ScopeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ScopeError::Spawn(e) => Some(e),
            ScopeError::Exited(_) => None,
        }
    }
}

impl Node {
    /// Runs `body` as a process of its own, in the calling task: the body gets a [`Ctx`]
    /// (a pid and a mailbox of message type `M`) that lasts until it returns. So tokio code
    /// can link to processes, monitor them, receive their `EXIT` and `DOWN` messages, trap
    /// exits, and send exit signals as a process, without writing a helper process: as an
    /// ExUnit test process does.
    ///
    /// Nothing is spawned: the body is polled by whoever polls the returned future, so it may
    /// borrow from the caller, and it need not be `Send` or `'static`.
    ///
    /// Returns the body's value, or [`ScopeError::Exited`] with the reason when an exit
    /// signal ended the scope first (a linked process crashed while the scope did not trap
    /// exits). The scope's own end reaches its links and monitors as any process's does:
    /// `normal` when the body returned, the panic when it panicked (the panic then goes on in
    /// the caller), and `shutdown` when the future is dropped before the end.
    ///
    /// ```
    /// use beamish_process::{Ctx, Exit, Message, Node};
    ///
    /// # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
    /// # async fn main() {
    /// let node = Node::new(Default::default()).unwrap();
    /// // A request handler that starts a worker and waits for its end, as a process would.
    /// let reason = node
    ///     .scope(|mut ctx: Ctx<()>| async move {
    ///         let worker = ctx.spawn(|_: Ctx<()>| async { Exit::error("disk full") }).unwrap();
    ///         ctx.monitor(worker.pid());
    ///         match ctx.recv().await {
    ///             Message::Down(down) => down.reason,
    ///             other => panic!("expected the worker's DOWN, got {other:?}"),
    ///         }
    ///     })
    ///     .await
    ///     .unwrap();
    /// assert_eq!(reason, Exit::error("disk full"));
    /// # }
    /// ```
    pub async fn scope<M, F, Fut>(&self, body: F) -> Result<Fut::Output, ScopeError>
    where
        M: Send + 'static,
        F: FnOnce(Ctx<M>) -> Fut,
        Fut: Future,
    {
        let spec = SpawnSpec::top(Kind::Process, SpawnOpts::default());
        let cell = new_cell::<M>(self, spec).map_err(ScopeError::Spawn)?;
        cell.core.mark_started(self.now_ms());
        let ctx = Ctx::new(Arc::clone(&cell));
        let running = {
            let _current = CurrentGuard::enter(cell.pid());
            catch_unwind(AssertUnwindSafe(|| body(ctx)))
        };
        match running {
            Ok(fut) => {
                Running {
                    cell,
                    body: Body::Running { fut },
                }
                .await
            }
            Err(payload) => {
                end::<M, Fut>(&cell, None, Exit::from_panic(&*payload));
                resume_unwind(payload)
            }
        }
    }
}

/// Ends the scope's process, in a process's order: the reason is stored, then the body
/// (its state) is dropped, then links, monitors and the name are told (R-LNK-2).
fn end<M: Send + 'static, Fut>(cell: &Cell<M>, body: Option<Pin<&mut Body<Fut>>>, reason: Exit) {
    cell.core.set_status(Status::Exiting);
    let _ = cell.core.exit_reason.set(reason.clone());
    if let Some(mut body) = body {
        // A panicking destructor must not escape either.
        let _ = catch_unwind(AssertUnwindSafe(|| body.set(Body::Done)));
    }
    terminate(cell, reason);
}

pin_project_lite::pin_project! {
    #[project = BodyProj]
    enum Body<Fut> {
        Running { #[pin] fut: Fut },
        Done,
    }
}

pin_project_lite::pin_project! {
    /// The scope while its body runs: the control lane is handled before each poll of the
    /// body, as [`crate::process`]'s wrapper does for a spawned process.
    struct Running<M, Fut>
    where
        M: Send,
        M: 'static,
    {
        cell: Arc<Cell<M>>,
        #[pin]
        body: Body<Fut>,
    }

    impl<M, Fut> PinnedDrop for Running<M, Fut>
    where
        M: Send,
        M: 'static,
    {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            if let BodyProj::Running { .. } = this.body.as_mut().project() {
                // Left before its end: its links and monitors hear `shutdown`.
                end(this.cell, Some(this.body), Exit::Shutdown);
            }
        }
    }
}

impl<M: Send + 'static, Fut: Future> Future for Running<M, Fut> {
    type Output = Result<Fut::Output, ScopeError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let BodyProj::Running { .. } = this.body.as_mut().project() else {
            panic!("a scope polled after it ended");
        };
        // Unlike a spawned task's, the waker may change from poll to poll (the scope may
        // sit in a `select!` or move between tasks): the mailbox keeps the latest.
        this.cell.mailbox.register_receiver(cx.waker());
        let _current = CurrentGuard::enter(this.cell.pid());
        this.cell.core.set_status(Status::Running);
        if this.cell.mailbox.has_control() {
            while let Some((sig, slot)) = this.cell.mailbox.take_control() {
                if let Some(reason) = handle_signal(this.cell, sig, slot) {
                    end(this.cell, Some(this.body), reason.clone());
                    return Poll::Ready(Err(ScopeError::Exited(reason)));
                }
            }
        }
        let polled = catch_unwind(AssertUnwindSafe(|| match this.body.as_mut().project() {
            BodyProj::Running { fut } => fut.poll(cx),
            BodyProj::Done => unreachable!("checked above"),
        }));
        match polled {
            Ok(Poll::Pending) => {
                this.cell.core.set_status(Status::Waiting);
                Poll::Pending
            }
            Ok(Poll::Ready(value)) => {
                end(this.cell, Some(this.body), Exit::Normal);
                Poll::Ready(Ok(value))
            }
            Err(payload) => {
                end(this.cell, Some(this.body), Exit::from_panic(&*payload));
                resume_unwind(payload)
            }
        }
    }
}
