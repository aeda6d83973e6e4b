//! Spawning, the wrapper future that runs a process, and termination.

use std::cell::Cell as StdCell;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use beamish_mailbox::{Capacity, DataSlot};

use crate::addr::Addr;
use crate::cell::{AnyCell, Cell, Core, Kind, Relations, Status};
use crate::ctx::Ctx;
use crate::emit;
use crate::error::SpawnError;
use crate::exit::{Exit, IntoExit};
use crate::node::Node;
use crate::pid::{Pid, Ref};
use crate::signal::{ExitAction, Message, Monitored, Signal, Watcher, exit_action};

thread_local! {
    static CURRENT: StdCell<Option<Pid>> = const { StdCell::new(None) };
    /// The process this thread polled last: kept after the poll, for the scheduler's report
    /// of a poll that ran too long.
    static LAST_POLLED: StdCell<Option<Pid>> = const { StdCell::new(None) };
}

/// The process whose poll ended last on this thread.
pub(crate) fn last_polled_pid() -> Option<Pid> {
    LAST_POLLED.get()
}

/// The pid of the process whose code is running on this thread, if any.
pub fn current_pid() -> Option<Pid> {
    CURRENT.with(|c| c.get())
}

/// Restores the previous current pid when a poll ends, even by panic.
pub(crate) struct CurrentGuard(Option<Pid>);

impl CurrentGuard {
    pub(crate) fn enter(pid: Pid) -> CurrentGuard {
        LAST_POLLED.set(Some(pid));
        CurrentGuard(CURRENT.with(|c| c.replace(Some(pid))))
    }
}

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
    }
}

/// Options for a spawn. `Default` is an unlinked, unmonitored process with an unbounded
/// mailbox.
#[derive(Debug, Clone, Default)]
pub struct SpawnOpts {
    /// The mailbox's capacity for data messages: unbounded (the default, as on the BEAM), a
    /// bound that holds senders back ([`Capacity::Bounded`]: `send` fails with
    /// [`SendError::Full`](crate::SendError::Full), `send_wait` waits), or a kill limit
    /// ([`Capacity::KillAbove`]: senders are never held back, and the process dies with
    /// [`Exit::Killed`] once its queue passes the limit, as with `max_heap_size` and
    /// `kill => true`, R-MBX-2; its supervisor restarts it as for any other exit).
    pub capacity: Capacity,
    /// Start with exits trapped, as if the first thing the process did was `trap_exit(true)`.
    pub trap_exit: bool,
}

/// Everything the spawn path needs besides the body.
pub(crate) struct SpawnSpec {
    pub(crate) opts: SpawnOpts,
    pub(crate) kind: Kind,
    /// Link to this (spawning) process, atomically with the spawn.
    pub(crate) link: Option<Pid>,
    /// Monitored by this (spawning) process under this reference, atomically with the spawn.
    pub(crate) monitor: Option<(Ref, Watcher)>,
    /// The spawner, for behaviours that treat an exit from their parent specially.
    pub(crate) parent: Option<Pid>,
    /// Registered under this name before the process runs.
    pub(crate) name: Option<Arc<str>>,
}

impl SpawnSpec {
    pub(crate) fn top(kind: Kind, opts: SpawnOpts) -> SpawnSpec {
        SpawnSpec {
            opts,
            kind,
            link: None,
            monitor: None,
            parent: None,
            name: None,
        }
    }
}

/// Spawns a process running `body(ctx)`.
pub(crate) fn spawn<M, F, Fut>(node: &Node, spec: SpawnSpec, body: F) -> Result<Addr<M>, SpawnError>
where
    M: Send + 'static,
    F: FnOnce(Ctx<M>) -> Fut + Send + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: IntoExit,
{
    let cell = new_cell::<M>(node, spec)?;
    let fut = ProcessFuture {
        cell: cell.clone(),
        registered: false,
        body: Body::Start { f: body },
    };
    match &node.inner.sched {
        Some(sched) => sched.spawn(fut),
        None => drop(node.inner.rt.spawn(fut)),
    }
    Ok(Addr::from_cell(cell))
}

/// Makes a process's cell and files it in the table, under the process limit (R-PROC-1),
/// linked and monitored as `spec` says; announces it (`spawned`) before it can run.
#[inline]
pub(crate) fn new_cell<M: Send + 'static>(
    node: &Node,
    spec: SpawnSpec,
) -> Result<Arc<Cell<M>>, SpawnError> {
    let inner = &node.inner;
    if inner.live.fetch_add(1, Ordering::Relaxed) >= inner.limit {
        inner.live.fetch_sub(1, Ordering::Relaxed);
        return Err(SpawnError::SystemLimit { limit: inner.limit });
    }
    let relations =
        (spec.link.is_some() || spec.monitor.is_some() || spec.parent.is_some()).then(|| {
            let mut r = Box::<Relations>::default();
            r.parent = spec.parent;
            if let Some(p) = spec.link {
                r.links.insert(p);
            }
            if let Some((mref, watcher)) = spec.monitor {
                r.watchers.insert(mref, watcher);
            }
            r
        });
    let capacity = spec.opts.capacity;
    let kind = spec.kind;
    let cell = inner.table.insert_with(|serial| {
        let core = Core::new(node.pid_for(serial), kind, relations);
        Arc::new(Cell::<M>::new(core, capacity, node.clone()))
    });
    if let Some(name) = &spec.name {
        if let Err(taken) = node.register(name, cell.pid()) {
            // Nothing ran and nobody knows of it: undo the spawn.
            drop(cell.mailbox.close());
            inner.table.remove(cell.pid().serial());
            inner.live.fetch_sub(1, Ordering::Relaxed);
            return Err(SpawnError::Name(taken));
        }
    }
    if spec.opts.trap_exit {
        cell.core.trap_exit.store(true, Ordering::Relaxed);
    }
    // Before the process first runs, so before any event of its own.
    crate::emit::spawned(node, cell.pid(), kind, spec.parent);
    Ok(cell)
}

pin_project_lite::pin_project! {
    /// The user's code: first the closure, then the future it returned. Calling the closure
    /// inside the process (not in the spawner) keeps even its panics in the process, and
    /// its context is made there too, off the spawner's path. The future lives inline in
    /// the task: no second allocation per spawn.
    #[project = BodyProj]
    #[project_replace = BodyTaken]
    enum Body<F, Fut> {
        Start { f: F },
        Running { #[pin] fut: Fut },
        Done,
    }
}

pin_project_lite::pin_project! {
    /// Runs one process: handles its control lane before each poll of the user's future,
    /// catches panics, and terminates it.
    struct ProcessFuture<M, F, Fut> {
        cell: Arc<Cell<M>>,
        // The task's waker is handed to the mailbox once: a task's waker never changes (on
        // beamish's scheduler and on tokio alike).
        registered: bool,
        #[pin]
        body: Body<F, Fut>,
    }
}

impl<M, F, Fut> Future for ProcessFuture<M, F, Fut>
where
    M: Send + 'static,
    F: FnOnce(Ctx<M>) -> Fut,
    Fut: Future,
    Fut::Output: IntoExit,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        if let BodyProj::Done = this.body.as_mut().project() {
            return Poll::Ready(());
        }
        if !*this.registered {
            // The first poll: the process starts now (its age in `process_info`, issue 5).
            this.cell.core.mark_started(this.cell.node.now_ms());
            this.cell.mailbox.register_receiver(cx.waker());
            *this.registered = true;
        }
        let core = &this.cell.core;
        let _current = CurrentGuard::enter(this.cell.pid());
        core.set_status(Status::Running);

        // The flag is read here, so that a poll with no signal waiting calls nothing.
        if this.cell.mailbox.has_control() {
            if this.cell.mailbox.is_over_limit() {
                // A send passed the mailbox's kill limit (`Capacity::KillAbove`): like
                // `max_heap_size` with `kill`, untrappable, reason `killed` (R-MBX-2).
                let mailbox = &this.cell.mailbox;
                let limit = match mailbox.capacity() {
                    Capacity::KillAbove(limit) => limit.get(),
                    _ => mailbox.len(),
                };
                crate::emit::mailbox_killed(&this.cell.node, this.cell.pid(), mailbox.len(), limit);
                finish(this.cell, this.body, Exit::Killed);
                return Poll::Ready(());
            }
            while let Some((sig, slot)) = this.cell.mailbox.take_control() {
                if let Some(reason) = handle_signal(this.cell, sig, slot) {
                    finish(this.cell, this.body, reason);
                    return Poll::Ready(());
                }
            }
        }

        let mut body = this.body.as_mut();
        let polled = catch_unwind(AssertUnwindSafe(|| {
            if let BodyProj::Start { .. } = body.as_mut().project() {
                let BodyTaken::Start { f } = body.as_mut().project_replace(Body::Done) else {
                    unreachable!("the body was just seen to be starting")
                };
                body.set(Body::Running {
                    fut: f(Ctx::new(Arc::clone(this.cell))),
                });
            }
            match body.as_mut().project() {
                BodyProj::Running { fut } => fut.poll(cx).map(IntoExit::into_exit),
                _ => unreachable!("the body is running"),
            }
        }));
        let reason = match polled {
            Ok(Poll::Pending) => {
                core.set_status(Status::Waiting);
                return Poll::Pending;
            }
            Ok(Poll::Ready(reason)) => reason,
            Err(payload) => Exit::from_panic(&*payload),
        };
        finish(this.cell, this.body, reason);
        Poll::Ready(())
    }
}

fn finish<M: Send + 'static, F, Fut>(
    cell: &Cell<M>,
    mut body: Pin<&mut Body<F, Fut>>,
    reason: Exit,
) {
    let core = &cell.core;
    core.set_status(Status::Exiting);
    // (1) The reason is stored before anything the process owns is dropped, so that a
    // caller whose reply handle is dropped below can read it.
    let _ = core.exit_reason.set(reason.clone());
    // (2) Drop the user's state in place. A panicking destructor must not escape either.
    let _ = catch_unwind(AssertUnwindSafe(|| body.set(Body::Done)));
    terminate(cell, reason);
}

/// Applies one control signal. Returns the exit reason if the signal ends the process.
pub(crate) fn handle_signal<M: Send + 'static>(
    cell: &Cell<M>,
    sig: Signal,
    slot: DataSlot,
) -> Option<Exit> {
    let core = &cell.core;
    match sig {
        Signal::Exit { from, reason, link } => {
            let linked = link && core.relations(|r| r.links.remove(&from));
            let action = exit_action(&reason, from == cell.pid(), link, linked, core.trapping());
            let outcome = match action {
                ExitAction::Ignore => emit::Outcome::Ignored,
                ExitAction::Die(_) => emit::Outcome::Killed,
                ExitAction::Deliver => emit::Outcome::Trapped,
            };
            emit::exit_signal(&cell.node, from, cell.pid(), &reason, link, outcome);
            match action {
                ExitAction::Ignore => None,
                ExitAction::Die(r) => Some(r),
                ExitAction::Deliver => {
                    let _ = cell.mailbox.push_data_at(slot, Message::exit(from, reason));
                    None
                }
            }
        }
        Signal::Link { from } => {
            core.relations(|r| r.links.insert(from));
            None
        }
        Signal::Unlink { from } => {
            core.relations(|r| r.links.remove(&from));
            None
        }
        Signal::Monitor { watcher, mref } => {
            core.relations(|r| r.watchers.insert(mref, watcher));
            None
        }
        Signal::Demonitor { mref } => {
            core.relations(|r| r.watchers.remove(&mref));
            None
        }
        Signal::Down { mref, pid, reason } => {
            // A DOWN for a monitor that was removed is dropped (R-MON-4).
            let object = core.relations(|r| {
                r.monitors.remove(&mref)?;
                let name = match r.monitored_names.is_empty() {
                    true => None,
                    false => r.monitored_names.remove(&mref),
                };
                Some(match name {
                    Some(name) => Monitored::Name {
                        name,
                        node: cell.node.name_arc(),
                    },
                    None => Monitored::Pid(pid),
                })
            });
            if let Some(object) = object {
                let _ = cell
                    .mailbox
                    .push_data_at(slot, Message::down(mref, pid, object, reason));
            }
            None
        }
    }
}

/// The end of a process, after its state is dropped: release the name, close the mailbox,
/// answer what arrived before the close, tell links and monitors, leave the table.
pub(crate) fn terminate<M: Send + 'static>(cell: &Cell<M>, reason: Exit) {
    let node = &cell.node;
    let core = &cell.core;
    let me = cell.pid();
    let rel = core.take_relations();
    // (3) R-LNK-2: the name goes before the exit signals.
    if let Some(name) = rel.as_ref().and_then(|r| r.name.as_ref()) {
        node.release_name(name, me);
    }
    // (4) After this, every push to us fails and its sender treats us as gone. Our slot
    // under the process limit is given back before anyone can learn of our end, so that a
    // supervisor restarting us on our exit signal does not hit the limit (R-PROC-1).
    // It also leaves the table, so that whoever learns of its end finds it gone.
    let drained = cell.mailbox.close();
    node.inner.live.fetch_sub(1, Ordering::Relaxed);
    node.inner.table.remove(me.serial());
    // Gone from the table, and no link or monitor told yet: a handler sees `exited` before
    // anyone can receive this process's exit signal or `DOWN`.
    emit::exited(node, me, core.kind, core.started_ms(), &reason);
    if rel.is_none() && drained.control.is_empty() {
        // The common case of a process that never linked or was monitored: nothing to tell.
        drop(drained.data);
        return;
    }
    let mut rel = rel.unwrap_or_default();
    // (5) Signals that arrived before the close count as received.
    for sig in drained.control {
        match sig {
            Signal::Link { from } => {
                rel.links.insert(from);
            }
            Signal::Unlink { from } => {
                rel.links.remove(&from);
            }
            Signal::Monitor { watcher, mref } => {
                rel.watchers.insert(mref, watcher);
            }
            Signal::Demonitor { mref } => {
                rel.watchers.remove(&mref);
            }
            Signal::Exit { .. } | Signal::Down { .. } => {}
        }
    }
    // (6) Exit signals to links (R-LNK-2), DOWN to watchers (R-MON-1), and our own monitors
    // removed from their targets so that they do not accumulate there.
    for pid in rel.links.drain() {
        let _ = node.signal(
            pid,
            Signal::Exit {
                from: me,
                reason: reason.clone(),
                link: true,
            },
        );
    }
    for (mref, watcher) in rel.watchers.drain() {
        node.notify_down(watcher, mref, me, reason.clone());
    }
    for (mref, pid) in rel.monitors.drain() {
        let _ = node.signal(pid, Signal::Demonitor { mref });
    }
    // (7) The discarded messages drop with `drained` (R-MBX-3).
    drop(drained.data);
}

/// Sends an exit signal from `from` to `to`.
pub(crate) fn send_exit(node: &Node, from: Pid, to: Pid, reason: Exit) {
    let _ = node.signal(
        to,
        Signal::Exit {
            from,
            reason,
            link: false,
        },
    );
}

/// Pushes a signal to `cell` itself (used when a target is gone and the answer is ours).
pub(crate) fn signal_self(cell: &dyn AnyCell, sig: Signal) {
    let _ = cell.push_control(sig);
}

impl Node {
    /// Spawns a process running `body`, from outside any process: unlinked, with default
    /// options: the shorthand for `node.build().spawn(body)`. A monitor, a kind, a capacity, a
    /// name or trapped exits are asked for through [`Node::build`] (see
    /// [`SpawnBuilder`](crate::SpawnBuilder)).
    /// The body gets the process's [`Ctx`]; whatever it returns is the exit reason (`()` is
    /// [`Exit::Normal`]).
    ///
    /// Fails with [`SpawnError::SystemLimit`] past the node's process limit (R-PROC-1).
    ///
    /// A body must produce a value: an async block that only loops forever (`loop { .. }`)
    /// or only panics has type `!`, which stable Rust cannot accept here. Write the receive
    /// loop as `while let Message::Msg(m) = ctx.recv().await { .. }`, or end the block with a
    /// value (`Ok::<(), Exit>(())`).
    pub fn spawn<M, F, Fut>(&self, body: F) -> Result<Addr<M>, SpawnError>
    where
        M: Send + 'static,
        F: FnOnce(Ctx<M>) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoExit,
    {
        self.build().spawn(body)
    }
}
