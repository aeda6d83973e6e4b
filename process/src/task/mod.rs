//! Elixir's `Task`: run one computation in its own process and collect its result
//! (`Task.async`, `await`, `yield`, `shutdown`), and map a function over a stream of inputs,
//! one process per element (`Task.async_stream`, see [`async_stream`](crate::async_stream)).
//!
//! # How a result travels
//!
//! A task process hands its result to the [`Task`] handle on a oneshot, and reports its end
//! through a monitor whose `DOWN` goes to a oneshot too (a *waiter*), never through the
//! caller's mailbox. So awaiting a task leaves nothing behind in the caller's mailbox, and a
//! reply that comes after the caller gave up is simply dropped.
//!
//! The monitor is set up with the spawn, before the task runs, so it is answered whatever
//! way the task ends. A task process sends its link exit signals before it notifies
//! its monitors (ARCHITECTURE.md, termination step 6), so when a linked task crashes, the exit
//! signal is in the caller's control lane before the caller can see the `DOWN`: a caller that
//! does not trap exits dies before [`Task::await_timeout`] can return the error, as in Elixir
//! (R-TASK-3).
//!
//! A task that finishes unlinks itself from its caller before handing over its result, so a
//! caller that traps exits does not get `{'EXIT', Task, normal}` in its mailbox (Elixir leaves
//! one there).

mod stream;

pub use stream::{
    AsyncStream, KeepInput, NoInput, OnTimeout, ZipInput, async_stream, async_stream_from,
};

use std::convert::Infallible;
use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::addr::Addr;
use crate::cell::{AnyCell, Kind};
use crate::ctx::Ctx;
use crate::error::SpawnError;
use crate::exit::Exit;
use crate::node::Node;
use crate::pid::Pid;
use crate::process::{SpawnOpts, SpawnSpec, current_pid, send_exit, spawn};
use crate::signal::{Signal, Watcher};

/// The default timeout of [`Task::await_default`] and of each element of an
/// [`async_stream`]: five seconds, as in Elixir (R-TASK-2, R-TASK-4).
pub const DEFAULT_TASK_TIMEOUT: Duration = Duration::from_secs(5);

/// The context a task body runs with. A task takes no messages of its own (its message type
/// is uninhabited), but it can trap exits, monitor, and spawn tasks of its own.
pub type TaskCtx = Ctx<Infallible>;

/// Why a task gave no result. A caller that lets it end it (`?`) exits as in Elixir: with
/// the task's reason for [`Exit`](TaskError::Exit), else with an [`Exit::Error`] holding this
/// error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskError {
    /// No result within the timeout (R-TASK-2, R-TASK-4). Elixir exits the caller with
    /// `{:timeout, {Task, :await, ...}}`; here the caller gets this value and lives on.
    Timeout,
    /// The task ended without a result, with this exit reason: [`Exit::Panic`] if it
    /// panicked, [`Exit::Killed`] if it was killed, and so on (Elixir's `{:exit, reason}`).
    Exit(Exit),
    /// The task process could not be spawned (an [`async_stream`] element past the node's
    /// process limit).
    Spawn(SpawnError),
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::Timeout => f.write_str("task timed out"),
            TaskError::Exit(r) => write!(f, "task exited: {r}"),
            TaskError::Spawn(e) => write!(f, "task could not be spawned: {e}"),
        }
    }
}

impl std::error::Error for TaskError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TaskError::Exit(r) => r.as_error(),
            TaskError::Spawn(e) => Some(e),
            TaskError::Timeout => None,
        }
    }
}

/// The process a task is linked to: its caller.
#[derive(Clone)]
pub(crate) struct Owner {
    pid: Pid,
    cell: Arc<dyn AnyCell>,
}

impl Owner {
    fn of<M: Send + 'static>(ctx: &Ctx<M>) -> Owner {
        let cell: Arc<dyn AnyCell> = ctx.addr().cell().clone();
        Owner {
            pid: ctx.pid(),
            cell,
        }
    }

    /// The process whose code is running now, if any.
    fn current(node: &Node) -> Option<Owner> {
        let pid = current_pid()?;
        let cell = node.lookup(pid)?;
        Some(Owner { pid, cell })
    }

    /// Removes the link to `task` from the owner's side: an exit signal from `task` that
    /// arrives after this is dropped (R-EXIT-1), and `task` is told to drop its side.
    fn unlink(&self, node: &Node, task: Pid) {
        if self.cell.core().relations(|r| r.links.remove(&task)) {
            let _ = node.signal(task, Signal::Unlink { from: self.pid });
        }
    }
}

/// A running computation in its own process, whose result can be awaited: Elixir's `Task`.
///
/// Made by [`Task::spawn`] (`Task.async`: linked to the calling process) or
/// [`Task::spawn_nolink`] (`Task.Supervisor.async_nolink`: from anywhere, not linked). Collect
/// the result with [`await_timeout`](Task::await_timeout) /
/// [`await_default`](Task::await_default), poll for it with
/// [`yield_timeout`](Task::yield_timeout), or stop the task with
/// [`shutdown`](Task::shutdown).
///
/// Dropping a `Task` detaches it: the task runs on (still linked to its caller) and its
/// result is dropped.
///
/// # Example
/// ```
/// use beamish_process::{Ctx, Exit, Node, Task, TaskError};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let node = Node::start_default()?;
/// let (tx, rx) = tokio::sync::oneshot::channel();
/// node.spawn(|ctx: Ctx<()>| async move {
///     // Task.async / Task.await: linked to this process.
///     let task = Task::spawn(&ctx, |_| async { 6 * 7 })?;
///     let answer = task.await_default().await?;
///
///     // A task that panics: this process traps exits, so it gets the reason instead of
///     // dying with it.
///     ctx.trap_exit(true);
///     let crash = Task::spawn(&ctx, |_| async { panic!("boom") })?;
///     let failed = crash.await_default().await.map(|()| ());
///     let _ = tx.send((answer, failed));
///     Ok::<(), Exit>(())
/// })?;
/// let (answer, failed) = rx.await?;
/// assert_eq!(answer, 42);
/// assert_eq!(failed, Err(TaskError::Exit(Exit::Panic("boom".into()))));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub struct Task<T> {
    addr: Addr<Infallible>,
    node: Node,
    /// The linked caller, if the task was spawned linked.
    owner: Option<Owner>,
    /// The result; `None` once taken, or once the task dropped it unsent (it then ended).
    reply: Option<oneshot::Receiver<T>>,
    /// The task's exit reason, from the monitor set up with the spawn; `None` once the
    /// outcome has been handed out.
    down: Option<oneshot::Receiver<Exit>>,
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("pid", &self.addr.pid())
            .field("owner", &self.owner.as_ref().map(|o| o.pid))
            .finish()
    }
}

impl<T: Send + 'static> Task<T> {
    /// Spawns `body` in a new process linked to the calling process (Elixir's `Task.async`)
    /// and returns a handle to await its result.
    ///
    /// The link exists before the task runs (R-LNK-1). If the task crashes, its exit signal
    /// takes the caller down, unless the caller traps exits: then the caller gets
    /// `Message::Exit` in its mailbox and the awaiting call returns
    /// [`TaskError::Exit`] (R-TASK-3). If the caller dies, the task dies with it (unless the
    /// caller's reason is `normal` or the task traps exits).
    ///
    /// The body gets the task's own [`TaskCtx`]; whatever its future returns is the result.
    pub fn spawn<M, F, Fut>(ctx: &Ctx<M>, body: F) -> Result<Task<T>, SpawnError>
    where
        M: Send + 'static,
        F: FnOnce(TaskCtx) -> Fut + Send + 'static,
        Fut: Future<Output = T> + Send + 'static,
    {
        spawn_task(ctx.node(), Some(Owner::of(ctx)), body)
    }

    /// Spawns `body` in a new process that nobody is linked to, and returns a handle to await
    /// its result (Elixir's `Task.Supervisor.async_nolink`). Usable from outside any process.
    ///
    /// The handle monitors the task: a crash is reported as [`TaskError::Exit`] by the
    /// awaiting call and touches nothing else.
    pub fn spawn_nolink<F, Fut>(node: &Node, body: F) -> Result<Task<T>, SpawnError>
    where
        F: FnOnce(TaskCtx) -> Fut + Send + 'static,
        Fut: Future<Output = T> + Send + 'static,
    {
        spawn_task(node, None, body)
    }

    /// Waits at most `timeout` for the task's result (Elixir's `Task.await/2`, R-TASK-4).
    ///
    /// * `Ok(value)` once the task has returned.
    /// * [`TaskError::Exit`] with the task's reason if it ended without a result (a linked
    ///   caller that does not trap exits has died of that reason already and never sees it).
    /// * [`TaskError::Timeout`] if neither happened in time. Elixir exits the caller then,
    ///   which takes the linked task down; here the caller lives on, so the task is killed on
    ///   its behalf (and unlinked first, so that its `killed` does not reach the caller). Use
    ///   [`yield_timeout`](Self::yield_timeout) to keep the task running.
    ///
    /// Nothing is left in the caller's mailbox either way.
    pub async fn await_timeout(mut self, timeout: Duration) -> Result<T, TaskError> {
        if self.down.is_none() {
            return Err(TaskError::Exit(Exit::NoProc));
        }
        match tokio::time::timeout(timeout, poll_fn(|cx| self.poll_outcome(cx))).await {
            Ok(outcome) => outcome,
            Err(_) => {
                self.kill();
                Err(TaskError::Timeout)
            }
        }
    }

    /// [`await_timeout`](Self::await_timeout) with Elixir's default of five seconds
    /// ([`DEFAULT_TASK_TIMEOUT`]).
    pub async fn await_default(self) -> Result<T, TaskError> {
        self.await_timeout(DEFAULT_TASK_TIMEOUT).await
    }

    /// Waits at most `timeout` for the task's outcome, leaving the task running if there is
    /// none yet (Elixir's `Task.yield/2`, R-TASK-4): `None` on timeout, and then it may be
    /// called again; `Some(Ok(value))` or `Some(Err(TaskError::Exit(reason)))` once the task
    /// has ended.
    ///
    /// After the outcome has been returned once, further calls return
    /// `Some(Err(TaskError::Exit(Exit::NoProc)))` at once, as Elixir's `shutdown` does for a
    /// task whose result was already received.
    pub async fn yield_timeout(&mut self, timeout: Duration) -> Option<Result<T, TaskError>> {
        if self.down.is_none() {
            return Some(Err(TaskError::Exit(Exit::NoProc)));
        }
        tokio::time::timeout(timeout, poll_fn(|cx| self.poll_outcome(cx)))
            .await
            .ok()
    }

    /// Unlinks the task, stops it, and returns its result if it finished meanwhile (Elixir's
    /// `Task.shutdown/2`).
    ///
    /// Sends the task an exit signal `shutdown` and waits up to `timeout` for it to end; a
    /// task still running then (it traps exits) is killed. With a zero `timeout` the task is
    /// killed at once (`:brutal_kill`). Returns:
    ///
    /// * `Some(Ok(value))` if the task had produced its result;
    /// * `None` if it stopped because of this call: with `shutdown`, or `killed` when
    ///   `timeout` is zero;
    /// * `Some(Err(TaskError::Exit(reason)))` if it ended otherwise: it crashed before, or it
    ///   had to be killed after the timeout (`reason` is then [`Exit::Killed`], as in
    ///   Elixir).
    pub async fn shutdown(mut self, timeout: Duration) -> Option<Result<T, TaskError>> {
        if self.down.is_none() {
            return Some(Err(TaskError::Exit(Exit::NoProc)));
        }
        let pid = self.pid();
        if let Some(owner) = &self.owner {
            owner.unlink(&self.node, pid);
        }
        let from = self.signal_from();
        let brutal = timeout.is_zero();
        let first = if brutal { Exit::Kill } else { Exit::Shutdown };
        send_exit(&self.node, from, pid, first);
        let reason = if brutal {
            poll_fn(|cx| self.poll_down(cx)).await
        } else {
            match tokio::time::timeout(timeout, poll_fn(|cx| self.poll_down(cx))).await {
                Ok(reason) => reason,
                Err(_) => {
                    send_exit(&self.node, from, pid, Exit::Kill);
                    poll_fn(|cx| self.poll_down(cx)).await
                }
            }
        };
        if let Some(value) = self.take_reply() {
            return Some(Ok(value));
        }
        match reason {
            Exit::Shutdown if !brutal => None,
            Exit::Killed if brutal => None,
            reason => Some(Err(TaskError::Exit(reason))),
        }
    }

    /// The task's outcome, once it has one. The result wins over the `DOWN`: a task sends its
    /// result before it ends.
    fn poll_outcome(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, TaskError>> {
        if let Some(rx) = &mut self.reply {
            match Pin::new(rx).poll(cx) {
                Poll::Ready(Ok(value)) => {
                    self.reply = None;
                    self.down = None;
                    return Poll::Ready(Ok(value));
                }
                // The body was dropped without a result: the reason comes with the DOWN.
                Poll::Ready(Err(_)) => self.reply = None,
                Poll::Pending => {}
            }
        }
        let reason = std::task::ready!(self.poll_down(cx));
        // The result may have come between the two polls above.
        if let Some(value) = self.take_reply() {
            return Poll::Ready(Ok(value));
        }
        Poll::Ready(Err(TaskError::Exit(reason)))
    }

    /// The task's exit reason, once it has ended. Takes the monitor.
    fn poll_down(&mut self, cx: &mut Context<'_>) -> Poll<Exit> {
        let Some(rx) = &mut self.down else {
            return Poll::Ready(Exit::NoProc);
        };
        let reason = match std::task::ready!(Pin::new(rx).poll(cx)) {
            Ok(reason) => reason,
            // The DOWN was dropped unsent: the task was torn down with its runtime. Its reason
            // is stored first, if it got that far.
            Err(_) => self.exit_reason().unwrap_or(Exit::NoProc),
        };
        self.down = None;
        Poll::Ready(reason)
    }

    fn take_reply(&mut self) -> Option<T> {
        self.reply.take().and_then(|mut rx| rx.try_recv().ok())
    }

    fn exit_reason(&self) -> Option<Exit> {
        self.addr.cell().core.exit_reason.get().cloned()
    }
}

impl<T> Task<T> {
    /// The task's pid.
    pub fn pid(&self) -> Pid {
        self.addr.pid()
    }

    /// The process the task is linked to (its caller), or `None` for
    /// [`spawn_nolink`](Task::spawn_nolink).
    pub fn owner(&self) -> Option<Pid> {
        self.owner.as_ref().map(|o| o.pid)
    }

    /// Whether the task process is still running.
    pub fn is_alive(&self) -> bool {
        self.addr.is_alive()
    }

    /// Who exit signals sent on the caller's behalf come from.
    fn signal_from(&self) -> Pid {
        current_pid().unwrap_or_else(|| self.node.pid())
    }

    /// Unlinks and kills the task (`brutal_kill`), without waiting for it to end.
    fn kill(&self) {
        let pid = self.addr.pid();
        if let Some(owner) = &self.owner {
            owner.unlink(&self.node, pid);
        }
        send_exit(&self.node, self.signal_from(), pid, Exit::Kill);
    }
}

/// Spawns a task process, linked to `owner` if given.
fn spawn_task<T, F, Fut>(node: &Node, owner: Option<Owner>, body: F) -> Result<Task<T>, SpawnError>
where
    T: Send + 'static,
    F: FnOnce(TaskCtx) -> Fut + Send + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    let (reply_tx, reply_rx) = oneshot::channel();
    let (down_tx, down_rx) = oneshot::channel();
    let owner_pid = owner.as_ref().map(|o| o.pid);
    let run = move |ctx: TaskCtx| async move {
        let me = ctx.addr();
        let node = ctx.node().clone();
        let value = body(ctx).await;
        // Unlink before replying: the caller handles the `Unlink` (control lane) before it
        // can see the result, and a caller that traps exits gets no `{'EXIT', _, normal}`.
        if let Some(owner) = owner_pid {
            if me.cell().core.relations(|r| r.links.remove(&owner)) {
                let _ = node.signal(owner, Signal::Unlink { from: me.pid() });
            }
        }
        let _ = reply_tx.send(value);
    };
    let mut spec = SpawnSpec::top(Kind::Task, SpawnOpts::default());
    // The monitor exists before the task runs, so its DOWN is sent however the task ends,
    // even if it is killed before its body first runs.
    spec.monitor = Some((node.make_ref(), Watcher::Waiter(down_tx)));
    if let Some(o) = &owner {
        spec.link = Some(o.pid);
        spec.parent = Some(o.pid);
    }
    let addr = spawn(node, spec, run)?;
    let task = Task {
        addr,
        node: node.clone(),
        owner,
        reply: Some(reply_rx),
        down: Some(down_rx),
    };
    if let Some(o) = &task.owner {
        let core = o.cell.core();
        core.relations(|r| r.links.insert(task.pid()));
        // An owner that is already terminating may have taken its links before the insert:
        // its task must not outlive it.
        if core.exit_reason.get().is_some() {
            send_exit(node, o.pid, task.pid(), Exit::Kill);
        }
    }
    Ok(task)
}
