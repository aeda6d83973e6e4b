//! The spawn builder: one way to spawn, from a [`Node`] or from a process's [`Ctx`], with
//! any mix of link, monitor, kind, mailbox capacity, name and exit trapping.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use beamish_mailbox::Capacity;

use crate::addr::Addr;
use crate::cell::{Core, Kind};
use crate::ctx::Ctx;
use crate::error::SpawnError;
use crate::exit::{Exit, IntoExit};
use crate::node::Node;
use crate::pid::{Pid, Ref};
use crate::process::{SpawnOpts, SpawnSpec, spawn};
use crate::signal::{Signal, Watcher};

/// A [`SpawnBuilder`] made by [`Node::build`]: spawning from outside any process.
#[derive(Debug, Clone, Copy)]
pub struct FromNode;

/// A [`SpawnBuilder`] made by [`Ctx::build`]: spawning from a process, which may link to
/// the new process ([`SpawnBuilder::link`]) and becomes its parent if it does.
#[derive(Debug, Clone, Copy)]
pub struct FromProcess;

/// A [`SpawnBuilder`] that spawns without a monitor.
#[derive(Debug, Clone, Copy)]
pub struct NoMonitor;

/// A [`SpawnBuilder`] that monitors the new process from its first instant (see
/// [`SpawnBuilder::monitor`]).
#[derive(Debug, Clone, Copy)]
pub struct WithMonitor;

/// How to spawn a process: made by [`Node::build`] or [`Ctx::build`], configured, then
/// [`spawn`](Self::spawn)ed. Everything asked for exists before the new process runs: its
/// links (R-LNK-1, `spawn_link`), its monitor (so even a process that ends at once reports
/// its real reason, never `noproc`), its name.
///
/// ```
/// # use beamish_process::{Capacity, Ctx, Exit, Kind, Message, Node};
/// # use std::num::NonZeroUsize;
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let node = Node::start_default()?;
/// // From outside any process: a named worker with a bounded mailbox, monitored.
/// let (worker, down) = node
///     .build()
///     .name("worker")
///     .capacity(Capacity::Bounded(NonZeroUsize::new(100).unwrap()))
///     .monitor()
///     .spawn(|mut ctx: Ctx<u32>| async move {
///         // From a process: a linked, monitored helper that traps exits.
///         let (_helper, _mref) = ctx
///             .build()
///             .link()
///             .monitor()
///             .trap_exit(true)
///             .kind(Kind::Other)
///             .spawn(|_: Ctx<()>| async {})?;
///         if let Message::Msg(n) = ctx.recv().await {
///             return Err(Exit::error(format!("got {n}")));
///         }
///         Ok(())
///     })?;
/// assert_eq!(node.whereis("worker"), Some(worker.pid()));
/// worker.send(7)?;
/// assert_eq!(down.await, Exit::error("got 7"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[must_use = "a builder spawns nothing until `spawn` is called"]
pub struct SpawnBuilder<'a, O = FromNode, W = NoMonitor> {
    node: &'a Node,
    /// The spawning process, for a builder made by `Ctx::build`.
    spawner: Option<(Pid, &'a Core)>,
    kind: Kind,
    opts: SpawnOpts,
    link_to: Option<Pid>,
    name: Option<Arc<str>>,
    _marker: PhantomData<(O, W)>,
}

impl<O, W> fmt::Debug for SpawnBuilder<'_, O, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpawnBuilder")
            .field("spawner", &self.spawner.map(|(p, _)| p))
            .field("kind", &self.kind)
            .field("opts", &self.opts)
            .field("link_to", &self.link_to)
            .field("name", &self.name)
            .finish()
    }
}

impl Node {
    /// Starts a [`SpawnBuilder`] for a process spawned from outside any process.
    pub fn build(&self) -> SpawnBuilder<'_, FromNode> {
        SpawnBuilder::new(self, None)
    }
}

impl<M: Send + 'static> Ctx<M> {
    /// Starts a [`SpawnBuilder`] for a process spawned by this one.
    pub fn build(&self) -> SpawnBuilder<'_, FromProcess> {
        SpawnBuilder::new(self.node(), Some((self.pid(), self.core())))
    }
}

impl<'a, O, W> SpawnBuilder<'a, O, W> {
    fn new(node: &'a Node, spawner: Option<(Pid, &'a Core)>) -> Self {
        SpawnBuilder {
            node,
            spawner,
            kind: Kind::Process,
            opts: SpawnOpts::default(),
            link_to: None,
            name: None,
            _marker: PhantomData,
        }
    }

    fn retype<W2>(self) -> SpawnBuilder<'a, O, W2> {
        SpawnBuilder {
            node: self.node,
            spawner: self.spawner,
            kind: self.kind,
            opts: self.opts,
            link_to: self.link_to,
            name: self.name,
            _marker: PhantomData,
        }
    }

    /// What introspection shows the process as ([`ProcessInfo::kind`](crate::ProcessInfo));
    /// [`Kind::Process`] by default.
    pub fn kind(mut self, kind: Kind) -> Self {
        self.kind = kind;
        self
    }

    /// The mailbox's capacity (see [`SpawnOpts::capacity`]); unbounded by default.
    pub fn capacity(mut self, capacity: Capacity) -> Self {
        self.opts.capacity = capacity;
        self
    }

    /// Starts the process with exits trapped (see [`SpawnOpts::trap_exit`]).
    pub fn trap_exit(mut self, on: bool) -> Self {
        self.opts.trap_exit = on;
        self
    }

    /// All the options at once (capacity and exit trapping).
    pub fn opts(mut self, opts: SpawnOpts) -> Self {
        self.opts = opts;
        self
    }

    /// Registers the process under `name` before it runs (as [`Node::register`]); a name
    /// that is taken fails the spawn with [`SpawnError::Name`], and nothing runs.
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(Arc::from(name));
        self
    }

    /// Links the new process to `pid` before it runs. If `pid` does not exist, the new
    /// process receives the exit signal `noproc` first (R-LNK-3): it dies of it unless it
    /// starts trapping exits.
    pub fn link_to(mut self, pid: Pid) -> Self {
        self.link_to = Some(pid);
        self
    }

    /// Spawns with `monitor` as the new process's first watcher.
    fn launch<N, F, Fut>(
        self,
        monitor: Option<(Ref, Watcher)>,
        body: F,
    ) -> Result<Addr<N>, SpawnError>
    where
        N: Send + 'static,
        F: FnOnce(Ctx<N>) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoExit,
    {
        let me = self.spawner.map(|(pid, _)| pid);
        let to_spawner = self.link_to.is_some() && self.link_to == me;
        let spec = SpawnSpec {
            opts: self.opts,
            kind: self.kind,
            link: self.link_to,
            monitor,
            // OTP's parent: the process that spawned this one linked.
            parent: to_spawner.then_some(me).flatten(),
            name: self.name,
        };
        let addr = spawn(self.node, spec, body)?;
        match (self.link_to, self.spawner) {
            (Some(_), Some((_, core))) if to_spawner => {
                core.relations(|r| r.links.insert(addr.pid()));
            }
            (Some(pid), _) => {
                let linked = self.node.signal(pid, Signal::Link { from: addr.pid() });
                if linked.is_err() {
                    crate::process::signal_self(
                        &**addr.cell(),
                        Signal::Exit {
                            from: pid,
                            reason: Exit::NoProc,
                            link: true,
                        },
                    );
                }
            }
            (None, _) => {}
        }
        Ok(addr)
    }
}

impl<'a, W> SpawnBuilder<'a, FromProcess, W> {
    /// Links the new process to the spawning one (`spawn_link`, R-LNK-1): neither can die
    /// unnoticed, and the spawner is the new process's parent.
    pub fn link(self) -> Self {
        let me = self.spawner.map(|(pid, _)| pid);
        SpawnBuilder {
            link_to: me,
            ..self
        }
    }
}

impl<'a, O> SpawnBuilder<'a, O, NoMonitor> {
    /// Monitors the new process from before it runs (`spawn_monitor`, R-MON-1): from a
    /// process, [`spawn`](SpawnBuilder::spawn) also returns the monitor's [`Ref`] and the
    /// `DOWN` arrives as a message; from a node, it returns a future of the exit reason.
    pub fn monitor(self) -> SpawnBuilder<'a, O, WithMonitor> {
        self.retype()
    }

    /// Spawns the process running `body`. The body gets the process's [`Ctx`]; whatever it
    /// returns is the exit reason (`()` is [`Exit::Normal`]). Fails with
    /// [`SpawnError::SystemLimit`] past the node's process limit (R-PROC-1), and with
    /// [`SpawnError::Name`] if the name asked for is taken.
    pub fn spawn<N, F, Fut>(self, body: F) -> Result<Addr<N>, SpawnError>
    where
        N: Send + 'static,
        F: FnOnce(Ctx<N>) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoExit,
    {
        self.launch(None, body)
    }
}

impl SpawnBuilder<'_, FromNode, WithMonitor> {
    /// Spawns the process, monitored: the future resolves to its exit reason.
    pub fn spawn<N, F, Fut>(
        self,
        body: F,
    ) -> Result<
        (
            Addr<N>,
            impl Future<Output = Exit> + Send + 'static + use<N, F, Fut>,
        ),
        SpawnError,
    >
    where
        N: Send + 'static,
        F: FnOnce(Ctx<N>) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoExit,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let mref = self.node.make_ref();
        let addr = self.launch(Some((mref, Watcher::Waiter(tx))), body)?;
        Ok((addr, async move { rx.await.unwrap_or(Exit::NoProc) }))
    }
}

impl SpawnBuilder<'_, FromProcess, WithMonitor> {
    /// Spawns the process, monitored by the spawning one: its `DOWN` arrives as a
    /// [`Message::Down`](crate::Message::Down) with the returned reference.
    pub fn spawn<N, F, Fut>(self, body: F) -> Result<(Addr<N>, Ref), SpawnError>
    where
        N: Send + 'static,
        F: FnOnce(Ctx<N>) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoExit,
    {
        let mref = self.node.make_ref();
        let (me, core) = self.spawner.expect("a FromProcess builder has its spawner");
        let addr = self.launch(Some((mref, Watcher::Process(me))), body)?;
        core.relations(|r| r.monitors.insert(mref, addr.pid()));
        Ok((addr, mref))
    }
}
