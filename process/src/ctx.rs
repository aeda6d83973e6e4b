//! The context a process body runs with: receive, links, monitors, exits, spawning.

use std::fmt;
use std::future::{Future, poll_fn};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Duration;

use beamish_mailbox::Inbox;

use crate::addr::Addr;
use crate::cell::Cell;
use crate::error::{LinkError, SpawnError};
use crate::exit::{Exit, IntoExit};
use crate::node::Node;
use crate::pid::{Pid, Ref};
use crate::process::{send_exit, signal_self};
use crate::signal::{Message, Signal, Watcher};

/// A process's own view of itself: its mailbox, links, monitors and exit flags. Handed to the
/// process body at spawn; owned by the process.
pub struct Ctx<M> {
    cell: Arc<Cell<M>>,
    inbox: Inbox<Message<M>>,
    /// What a GenServer's callback asked its loop to do next (idle timeout, continue); see
    /// `timer/server.rs`. Allocated on first use.
    pub(crate) next: Option<Box<crate::timer::ServerNext<M>>>,
}

impl<M> fmt::Debug for Ctx<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ctx")
            .field("pid", &self.cell.pid())
            .finish()
    }
}

impl<M> Drop for Ctx<M> {
    /// The messages the process had taken into its private buffer go back to its mailbox,
    /// so that they are discarded with the rest of it (R-MBX-3) at the end of termination,
    /// after its links and monitors are told (R-LNK-2), not with the body, before them. One
    /// lock, only if the buffer holds anything.
    fn drop(&mut self) {
        self.inbox.return_to(&self.cell.mailbox);
    }
}

impl<M: Send + 'static> Ctx<M> {
    pub(crate) fn new(cell: Arc<Cell<M>>) -> Ctx<M> {
        Ctx {
            cell,
            inbox: Inbox::new(),
            next: None,
        }
    }

    /// This process's pid (`self()`).
    pub fn pid(&self) -> Pid {
        self.cell.pid()
    }

    /// A typed handle to this process, to hand to others.
    pub fn addr(&self) -> Addr<M> {
        Addr::from_cell(self.cell.clone())
    }

    /// The node this process runs on.
    pub fn node(&self) -> &Node {
        &self.cell.node
    }

    /// The process that spawned this one with a link, if any (OTP's parent).
    pub fn parent(&self) -> Option<Pid> {
        self.cell.core.read_relations(|r| r.parent).flatten()
    }

    // ---- receiving -------------------------------------------------------------------

    /// Receives the next message: the oldest data message, or a trapped exit or `DOWN` in the
    /// order the signals arrived. Each message spends one unit of the task's cooperative
    /// budget, so a process with a long queue yields to its neighbours now and then.
    pub async fn recv(&mut self) -> Message<M> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next message (see [`recv`](Self::recv)).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Message<M>> {
        let coop = std::task::ready!(crate::sched::poll_proceed(cx));
        match self.inbox.poll_recv(&self.cell.mailbox, cx) {
            Poll::Ready(Some(m)) => {
                coop.made_progress();
                self.cell.core.count_handled();
                Poll::Ready(m)
            }
            // The mailbox closes after the body is dropped, or when the runtime shuts down
            // (`Node::release_processes`): then the process waits, without a waker, until
            // its task is dropped.
            Poll::Ready(None) | Poll::Pending => Poll::Pending,
        }
    }

    /// Receives the next message if one is queued, without waiting.
    pub fn try_recv(&mut self) -> Option<Message<M>> {
        let m = self.inbox.try_recv(&self.cell.mailbox).ok()?;
        self.cell.core.count_handled();
        Some(m)
    }

    /// Selective receive: the first message that satisfies `matches`; the others stay queued
    /// in their order (R-MBX-1).
    pub async fn recv_matching(
        &mut self,
        mut matches: impl FnMut(&Message<M>) -> bool,
    ) -> Message<M> {
        poll_fn(|cx| {
            let coop = std::task::ready!(crate::sched::poll_proceed(cx));
            match self
                .inbox
                .poll_recv_matching(&self.cell.mailbox, cx, &mut matches)
            {
                Poll::Ready(Some(m)) => {
                    coop.made_progress();
                    self.cell.core.count_handled();
                    Poll::Ready(m)
                }
                Poll::Ready(None) | Poll::Pending => Poll::Pending,
            }
        })
        .await
    }

    /// Removes every queued message `m` for which `matches(&m)` holds, keeping the others in
    /// their order, and returns how many were removed. For behaviours that must take back
    /// notifications they queued (a process-group monitor's events on demonitor, R-PG-4),
    /// as `demonitor(Ref, [flush])` does for a `DOWN`.
    pub fn flush(&mut self, mut matches: impl FnMut(&M) -> bool) -> usize {
        self.inbox.remove_matching(&self.cell.mailbox, |m| match m {
            Message::Msg(m) => matches(m),
            _ => false,
        })
    }

    /// `receive ... after Timeout`: the next message, or `None` if none arrives in time.
    pub async fn recv_timeout(&mut self, timeout: Duration) -> Option<Message<M>> {
        tokio::time::timeout(timeout, self.recv()).await.ok()
    }

    /// Queued data messages (including trapped exits and `DOWN`s).
    pub fn mailbox_len(&self) -> usize {
        self.cell.mailbox.len()
    }

    // ---- exits -----------------------------------------------------------------------

    /// Turns exit trapping on or off (`process_flag(trap_exit, On)`); returns the old value.
    /// While trapping, exit signals other than an explicit `kill` arrive as
    /// [`Message::Exit`] (R-EXIT-1).
    pub fn trap_exit(&self, on: bool) -> bool {
        self.cell.core.trap_exit.swap(on, Ordering::Relaxed)
    }

    /// Whether this process traps exits.
    pub fn is_trapping_exits(&self) -> bool {
        self.cell.core.trapping()
    }

    /// Sends an exit signal to `pid` (`exit(Pid, Reason)`). To oneself with
    /// [`Exit::Normal`], it ends this process even when trapping; [`Exit::Kill`] cannot be
    /// trapped and ends the target with [`Exit::Killed`] (R-EXIT-1, R-EXIT-2). The signal takes
    /// effect at this process's next `.await` when sent to itself.
    pub fn exit(&self, pid: Pid, reason: Exit) {
        send_exit(&self.cell.node, self.pid(), pid, reason);
    }

    // ---- links -----------------------------------------------------------------------

    /// Links this process to `pid` (R-LNK-1): at most one link between two processes, so
    /// linking again (or to oneself) does nothing.
    ///
    /// If `pid` does not exist (R-LNK-3), the answer depends on whether this process traps
    /// exits, as for Erlang's `link/1`: if it does not, the call fails with
    /// [`LinkError::NoProc`] and nothing else happens (no link, no exit signal; `?` on it
    /// ends the process with [`Exit::NoProc`], as `link/1` raises `noproc`); if it traps,
    /// the call succeeds and the exit signal `noproc` arrives as a [`Message::Exit`].
    ///
    /// ```
    /// # use beamish_process::{Ctx, Exit, LinkError, Message, Node};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let node = Node::start_default()?;
    /// let gone = node.spawn(|_: Ctx<()>| async {})?.pid();
    /// assert_eq!(node.monitor(gone).await, Exit::Normal);
    /// let (tx, rx) = tokio::sync::oneshot::channel();
    /// node.spawn(move |mut ctx: Ctx<()>| async move {
    ///     let plain = ctx.link(gone);
    ///     ctx.trap_exit(true);
    ///     let trapping = ctx.link(gone);
    ///     let Message::Exit(exit) = ctx.recv().await else { unreachable!() };
    ///     let _ = tx.send((plain, trapping, exit.reason));
    /// })?;
    /// assert_eq!(rx.await?, (Err(LinkError::NoProc(gone)), Ok(()), Exit::NoProc));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn link(&self, pid: Pid) -> Result<(), LinkError> {
        let me = self.pid();
        if pid == me {
            return Ok(());
        }
        if !self.cell.core.relations(|r| r.links.insert(pid)) {
            return Ok(());
        }
        if let Err(_gone) = self.cell.node.signal(pid, Signal::Link { from: me }) {
            if !self.cell.core.trapping() {
                self.cell.core.relations(|r| r.links.remove(&pid));
                return Err(LinkError::NoProc(pid));
            }
            signal_self(
                &*self.cell,
                Signal::Exit {
                    from: pid,
                    reason: Exit::NoProc,
                    link: true,
                },
            );
        }
        Ok(())
    }

    /// Removes the link to `pid`, if any. An exit signal from `pid` still in flight over the
    /// old link is dropped (R-EXIT-1).
    pub fn unlink(&self, pid: Pid) {
        let me = self.pid();
        if self.cell.core.relations(|r| r.links.remove(&pid)) {
            let _ = self.cell.node.signal(pid, Signal::Unlink { from: me });
        }
    }

    /// The processes this one is linked to.
    pub fn links(&self) -> Vec<Pid> {
        self.cell
            .core
            .read_relations(|r| r.links.iter().copied().collect())
            .unwrap_or_default()
    }

    // ---- monitors --------------------------------------------------------------------

    /// Monitors `pid` (R-MON-1): when it ends, this process receives
    /// [`Message::Down`] with the returned reference and its reason. Each call makes an
    /// independent monitor (R-MON-3). A `pid` that does not exist yields a `DOWN` with
    /// [`Exit::NoProc`] at once (R-MON-2).
    pub fn monitor(&self, pid: Pid) -> Ref {
        let me = self.pid();
        let mref = self.cell.node.make_ref();
        self.cell.core.relations(|r| r.monitors.insert(mref, pid));
        let sig = Signal::Monitor {
            watcher: Watcher::Process(me),
            mref,
        };
        if self.cell.node.signal(pid, sig).is_err() {
            crate::emit::down(&self.cell.node, me, pid, &Exit::NoProc);
            signal_self(
                &*self.cell,
                Signal::Down {
                    mref,
                    pid,
                    reason: Exit::NoProc,
                },
            );
        }
        mref
    }

    /// Monitors the process registered as `name` (`monitor(process, Name)`, R-MON-2): the
    /// name is looked up once, now, and the monitor then watches that process, as
    /// [`monitor`](Self::monitor) does. Its `DOWN` names the object as `{Name, Node}`
    /// ([`Monitored::Name`](crate::Monitored::Name)); a name that stands for no process
    /// gives that `DOWN` at once, with [`Exit::NoProc`].
    ///
    /// ```
    /// # use beamish_process::{Ctx, Exit, Message, Monitored, Node};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let node = Node::start_default()?;
    /// let (tx, rx) = tokio::sync::oneshot::channel();
    /// node.spawn(move |mut ctx: Ctx<()>| async move {
    ///     ctx.monitor_name("nobody");
    ///     let Message::Down(down) = ctx.recv().await else { unreachable!() };
    ///     let _ = tx.send(*down);
    /// })?;
    /// let down = rx.await?;
    /// assert_eq!(down.reason, Exit::NoProc);
    /// assert_eq!(
    ///     down.object,
    ///     Monitored::Name { name: "nobody".into(), node: node.name().into() }
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn monitor_name(&self, name: &str) -> Ref {
        let node = &self.cell.node;
        let me = self.pid();
        let mref = node.make_ref();
        let target = node.whereis(name);
        // A name that stands for nobody has no pid to report; the node's own stands in (see
        // `DownMsg::pid`).
        let pid = target.unwrap_or_else(|| node.pid());
        let name: Arc<str> = Arc::from(name);
        self.cell.core.relations(|r| {
            r.monitors.insert(mref, pid);
            r.monitored_names.insert(mref, name);
        });
        let sig = Signal::Monitor {
            watcher: Watcher::Process(me),
            mref,
        };
        if target.is_none() || node.signal(pid, sig).is_err() {
            crate::emit::down(node, me, pid, &Exit::NoProc);
            signal_self(
                &*self.cell,
                Signal::Down {
                    mref,
                    pid,
                    reason: Exit::NoProc,
                },
            );
        }
        mref
    }

    /// Removes a monitor (R-MON-4). A `DOWN` for it that has not been received yet will never
    /// be; with `flush`, one already queued is removed too. Returns `false` if the monitor had
    /// already fired or never existed (`demonitor(Ref, [info])`).
    pub fn demonitor(&mut self, mref: Ref, flush: bool) -> bool {
        let target = self.cell.core.relations(|r| {
            if !r.monitored_names.is_empty() {
                r.monitored_names.remove(&mref);
            }
            r.monitors.remove(&mref)
        });
        if let Some(pid) = target {
            let _ = self.cell.node.signal(pid, Signal::Demonitor { mref });
        }
        if flush {
            self.inbox
                .remove_matching(&self.cell.mailbox, |m| m.down_ref() == Some(mref));
        }
        target.is_some()
    }

    // ---- spawning --------------------------------------------------------------------

    /// The process's core, for the spawn builder.
    pub(crate) fn core(&self) -> &crate::cell::Core {
        &self.cell.core
    }

    /// Spawns a process, unlinked, with default options: the shorthand for
    /// `ctx.build().spawn(body)`. Linking, monitoring, a kind, a capacity, a name or trapped
    /// exits are asked for through [`Ctx::build`] (see [`SpawnBuilder`](crate::SpawnBuilder)).
    pub fn spawn<N, F, Fut>(&self, body: F) -> Result<Addr<N>, SpawnError>
    where
        N: Send + 'static,
        F: FnOnce(Ctx<N>) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoExit,
    {
        self.build().spawn(body)
    }

    /// Registers this process under `name` (see [`Node::register`]).
    pub fn register(&self, name: &str) -> Result<(), crate::error::RegisterError> {
        self.cell.node.register(name, self.pid())
    }
}
