//! The local runtime: process table, counters, names, and the operations on pids.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use beamish_telemetry::Telemetry;
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::addr::Addr;
use crate::cell::{AnyCell, Cell};
use crate::deadlines::Deadlines;
use crate::error::{NodeError, RegisterError, SendError};
use crate::exit::Exit;
use crate::pid::{NodeId, Pid, Ref};
use crate::signal::{Signal, Watcher};
use crate::table::Table;

/// Default process limit, as the BEAM's `+P` default (R-PROC-1).
pub const DEFAULT_PROCESS_LIMIT: usize = 1 << 20;

/// How to start a [`Node`].
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// The node's name (`name@host`), or `None` for an unnamed node whose pids show as `<0.N.C>`.
    pub name: Option<String>,
    /// The node's incarnation; a restarted node should use a new one so that old pids do not
    /// alias new processes.
    pub creation: u32,
    /// Spawning past this many live processes fails with `SystemLimit` (R-PROC-1).
    pub process_limit: usize,
    /// The handler table the node and everything built on it emit events into. Clone one in
    /// to share it between nodes, or attach to [`Node::telemetry`] after the start.
    pub telemetry: Telemetry,
    /// Emit `beamish.process.mailbox_long` when a send makes a process's mailbox this long
    /// (once per upward crossing). `None`, the default, (or `Some(0)`) checks nothing; with a
    /// threshold, a send compares the length its push saw with it, one comparison.
    pub mailbox_alert: Option<usize>,
    /// Where the node's processes run: beamish's own worker threads or tokio tasks on the
    /// runtime the node starts in ([`Executor::Auto`] by default).
    pub executor: Executor,
    /// On beamish's workers, how many relief worker threads the node may start beyond its
    /// own while processes hold workers in long polls (a computation without an `.await`):
    /// a worker stuck in one poll for a few milliseconds, while work waits, hands its role
    /// to a relief worker, so that one process's long poll never holds up the others (see
    /// `ARCHITECTURE.md`, "Scheduling"). Relief threads are started only when needed and
    /// kept parked for reuse. 0 turns relief off. Default 64.
    pub max_relief_workers: usize,
}

/// Where a node's processes run.
///
/// Both run the same processes with the same semantics; they differ in where a process
/// runs when it is woken. On beamish's workers a process woken by another runs next on the
/// same thread, and idle workers are woken only for work that waits, so a conversation
/// between processes stays on one thread while parallel work spreads over all of them (see
/// `ARCHITECTURE.md`, "Scheduling"). On tokio, processes are ordinary tasks of the ambient
/// runtime and share its threads with everything else it runs.
///
/// In both cases processes may use `tokio::time`, `tokio::sync`, `tokio::net` and
/// `tokio::spawn`: beamish's workers enter the runtime the node was started in, whose threads
/// drive the timers and I/O.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Executor {
    /// On a multi-thread tokio runtime, beamish's scheduler with as many workers as the
    /// runtime has; on a current-thread runtime, tasks on that one thread (everything stays
    /// on it, as a single-threaded program, or a test with a paused clock, expects).
    #[default]
    Auto,
    /// beamish's scheduler with this many worker threads (at least one).
    Workers(usize),
    /// Tasks on the tokio runtime the node is started in.
    Tokio,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            name: None,
            creation: 0,
            process_limit: DEFAULT_PROCESS_LIMIT,
            telemetry: Telemetry::new(),
            mailbox_alert: None,
            executor: Executor::default(),
            max_relief_workers: crate::sched::DEFAULT_MAX_RELIEF,
        }
    }
}

/// A local beamish runtime: it owns the process table and spawns processes as tasks on the
/// tokio runtime it was started in. Cheap to clone; every clone is the same node.
///
/// Several nodes may live in one OS process (handy for tests): they share nothing.
#[derive(Clone)]
pub struct Node {
    pub(crate) inner: Arc<NodeInner>,
}

/// A value on cache lines of its own (two 64-byte lines, as adjacent-line prefetchers pair
/// them), so that writing it never evicts its neighbours from other cores' caches.
#[repr(align(128))]
pub(crate) struct OwnLines<T>(pub(crate) T);

impl<T> std::ops::Deref for OwnLines<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

pub(crate) struct NodeInner {
    pub(crate) id: NodeId,
    name: Arc<str>,
    pub(crate) creation: u32,
    pub(crate) table: Table,
    pub(crate) limit: usize,
    /// Written by every spawn and exit, on every worker: on cache lines of its own, away
    /// from what every send and spawn reads here (`limit`, `mailbox_alert`, `table`).
    pub(crate) live: OwnLines<AtomicUsize>,
    next_ref: AtomicU64,
    /// Child restarts counted by supervisors (`Node::count_restart`).
    pub(crate) restarts: AtomicU64,
    /// When the node started, on the runtime's clock: processes store their start as an
    /// offset from it (see `Core::started_ms`).
    pub(crate) started: Instant,
    /// The wall-clock time at `started`, to show start times as dates.
    pub(crate) started_wall: std::time::SystemTime,
    names: Mutex<HashMap<Arc<str>, Pid, ahash::RandomState>>,
    pub(crate) rt: tokio::runtime::Handle,
    /// beamish's own workers, unless the node runs its processes as tokio tasks.
    pub(crate) sched: Option<crate::sched::Scheduler>,
    pub(crate) telemetry: Telemetry,
    /// `NodeConfig::mailbox_alert`, 0 for none (a send never sees an empty mailbox).
    pub(crate) mailbox_alert: usize,
    /// The deadlines of waiting calls, watched by one sweeper task (see `deadlines`).
    pub(crate) deadlines: Arc<Deadlines>,
    /// The node's timers, served by one driver task (see `timer`).
    pub(crate) timers: Arc<crate::timer::Timers>,
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node")
            .field("name", &self.inner.name)
            .field("processes", &self.process_count())
            .finish()
    }
}

impl Node {
    /// Starts a node with the default configuration, on the current tokio runtime.
    pub fn start_default() -> Result<Node, NodeError> {
        Node::new(NodeConfig::default())
    }

    /// Starts a node on the current tokio runtime. Its processes run on that runtime's
    /// worker threads.
    pub fn new(config: NodeConfig) -> Result<Node, NodeError> {
        let rt = tokio::runtime::Handle::try_current().map_err(|_| NodeError::NoRuntime)?;
        let executor = match config.executor {
            Executor::Auto => match rt.runtime_flavor() {
                tokio::runtime::RuntimeFlavor::CurrentThread => Executor::Tokio,
                _ => Executor::Workers(rt.metrics().num_workers()),
            },
            other => other,
        };
        let sched = match executor {
            Executor::Auto => unreachable!("resolved above"),
            Executor::Workers(n) => Some(
                crate::sched::Scheduler::start(rt.clone(), n, config.max_relief_workers)
                    .map_err(|e| NodeError::Workers(e.to_string()))?,
            ),
            Executor::Tokio => None,
        };
        let (id, name) = match &config.name {
            Some(n) => (NodeId::from_name(n), Arc::from(n.as_str())),
            None => (NodeId::LOCAL, Arc::from("nonode@nohost")),
        };
        let node = Node {
            inner: Arc::new(NodeInner {
                id,
                name,
                creation: config.creation,
                table: Table::new(),
                limit: config.process_limit,
                live: OwnLines(AtomicUsize::new(0)),
                next_ref: AtomicU64::new(1),
                restarts: AtomicU64::new(0),
                started: Instant::now(),
                started_wall: std::time::SystemTime::now(),
                names: Mutex::new(HashMap::default()),
                rt,
                sched,
                deadlines: Deadlines::new(),
                timers: crate::timer::Timers::new(id, config.creation),
                telemetry: config.telemetry,
                mailbox_alert: config.mailbox_alert.unwrap_or(0),
            }),
        };
        if let Some(sched) = &node.inner.sched {
            // When the runtime shuts down, the processes still waiting are dropped, as tokio
            // drops its tasks (see `release_processes`).
            let weak = Arc::downgrade(&node.inner);
            sched.on_runtime_shutdown(Box::new(move || {
                if let Some(inner) = weak.upgrade() {
                    (Node { inner }).release_processes();
                }
            }));
            let weak = Arc::downgrade(&node.inner);
            sched.on_long_poll(Box::new(move |ran| {
                if let (Some(inner), Some(pid)) =
                    (weak.upgrade(), crate::process::last_polled_pid())
                {
                    crate::emit::long_poll(&Node { inner }, pid, ran);
                }
            }));
        }
        Ok(node)
    }

    /// At the shutdown of the runtime the node's workers run in: empties the process table
    /// and closes every mailbox. A waiting process is held only by the waker its mailbox
    /// keeps (its task holds its cell, whose mailbox holds the task's waker: a cycle), so
    /// its future and everything its state owns are dropped here, destructors and all, as
    /// tokio drops its tasks when its runtime shuts down. Nothing is signalled (no exit
    /// signals, no `DOWN`): the runtime is going away.
    fn release_processes(&self) {
        let cells = self.inner.table.take_all();
        self.inner.live.fetch_sub(cells.len(), Ordering::Relaxed);
        for cell in &cells {
            cell.close_mailbox();
        }
        // The cells go after their tasks (which hold them) have been dropped.
        drop(cells);
    }

    /// The node's telemetry: attach handlers here to see its events (the list is in
    /// `beamish_telemetry`'s crate docs).
    pub fn telemetry(&self) -> &Telemetry {
        &self.inner.telemetry
    }

    /// The mailbox length that triggers `beamish.process.mailbox_long`, if any
    /// ([`NodeConfig::mailbox_alert`]).
    pub fn mailbox_alert(&self) -> Option<usize> {
        (self.inner.mailbox_alert != 0).then_some(self.inner.mailbox_alert)
    }

    /// The node's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The node's name, shared (for the `{Name, Node}` of a name monitor's `DOWN`).
    pub(crate) fn name_arc(&self) -> Arc<str> {
        self.inner.name.clone()
    }

    /// The node's id, as found in its pids.
    pub fn id(&self) -> NodeId {
        self.inner.id
    }

    /// The pid that stands for the node itself: the sender of signals that come from outside
    /// any process (for example [`Node::exit`]).
    pub fn pid(&self) -> Pid {
        Pid::from_parts(self.inner.id, 0, self.inner.creation)
    }

    /// The threads processes run on: the node's worker threads, or the tokio runtime's
    /// workers ([`Executor`]).
    pub fn workers(&self) -> usize {
        match &self.inner.sched {
            Some(s) => s.workers(),
            None => self.inner.rt.metrics().num_workers().max(1),
        }
    }

    /// Relief worker threads this node has started so far, running or parked as spares (at
    /// most [`NodeConfig::max_relief_workers`]; always 0 off beamish's workers).
    pub fn relief_workers(&self) -> usize {
        self.inner.sched.as_ref().map_or(0, |s| s.relief_threads())
    }

    /// Live processes on this node.
    pub fn process_count(&self) -> usize {
        self.inner.live.load(Ordering::Relaxed)
    }

    /// Processes spawned since the node started.
    pub fn spawned_count(&self) -> u64 {
        self.inner.table.spawned()
    }

    /// A new unique reference.
    pub fn make_ref(&self) -> Ref {
        let id = self.inner.next_ref.fetch_add(1, Ordering::Relaxed);
        Ref::new(self.inner.id, id, self.inner.creation)
    }

    pub(crate) fn pid_for(&self, serial: u64) -> Pid {
        Pid::from_parts(self.inner.id, serial, self.inner.creation)
    }

    pub(crate) fn lookup(&self, pid: Pid) -> Option<Arc<dyn AnyCell>> {
        if pid.node() != self.inner.id || pid.creation() != self.inner.creation {
            return None;
        }
        self.inner.table.get(pid.serial())
    }

    /// Whether `pid` names a live process of this node.
    pub fn is_alive(&self, pid: Pid) -> bool {
        self.lookup(pid)
            .is_some_and(|c| c.core().exit_reason.get().is_none())
    }

    /// A typed handle to `pid`, if it is alive and takes messages of type `M`.
    pub fn addr<M: Send + 'static>(&self, pid: Pid) -> Option<Addr<M>> {
        let cell = self.lookup(pid)?;
        cell.into_any()
            .downcast::<Cell<M>>()
            .ok()
            .map(Addr::from_cell)
    }

    /// Sends `msg` to `pid`. Fails, giving the message back, if there is no such process, its
    /// bounded mailbox is full, or it takes another message type.
    pub fn send<M: Send + 'static>(&self, pid: Pid, msg: M) -> Result<(), SendError<M>> {
        let Some(cell) = self.lookup(pid) else {
            return Err(SendError::NoProc(msg));
        };
        match cell.into_any().downcast::<Cell<M>>() {
            Ok(cell) => Addr::from_cell(cell).send(msg),
            Err(_) => Err(SendError::WrongType(msg)),
        }
    }

    /// Sends `msg` to the process registered as `name`. Sending to a free name is an error
    /// (R-ORD-4), not a silent drop.
    pub fn send_named<M: Send + 'static>(&self, name: &str, msg: M) -> Result<(), SendError<M>> {
        match self.whereis(name) {
            Some(pid) => self.send(pid, msg),
            None => Err(SendError::NotRegistered(msg)),
        }
    }

    /// Pushes a control signal to `to`. Gives the signal back if `to` is gone.
    pub(crate) fn signal(&self, to: Pid, sig: Signal) -> Result<(), Signal> {
        match self.lookup(to) {
            Some(cell) => cell.push_control(sig).map_err(|c| c.0),
            None => Err(sig),
        }
    }

    /// Sends an exit signal to `pid` from outside any process (`exit/2`). With
    /// [`Exit::Kill`] the target dies with [`Exit::Killed`] even if it traps exits (R-EXIT-2).
    pub fn exit(&self, pid: Pid, reason: Exit) {
        let _ = self.signal(
            pid,
            Signal::Exit {
                from: self.pid(),
                reason,
                link: false,
            },
        );
    }

    /// Waits for `pid` to end and returns its exit reason: a monitor for code that runs
    /// outside any process. [`Exit::NoProc`] at once if there is no such process (R-MON-2).
    pub fn monitor(&self, pid: Pid) -> impl Future<Output = Exit> + Send + 'static + use<> {
        let (tx, rx) = oneshot::channel();
        let mref = self.make_ref();
        let watcher = Watcher::Waiter(tx);
        let early = match self.signal(pid, Signal::Monitor { watcher, mref }) {
            Ok(()) => None,
            Err(_) => {
                crate::emit::down(self, self.pid(), pid, &Exit::NoProc);
                Some(Exit::NoProc)
            }
        };
        async move {
            match early {
                Some(r) => r,
                // A dropped sender means the target vanished without answering, which only
                // happens if its node is torn down: treat it as gone.
                None => rx.await.unwrap_or(Exit::NoProc),
            }
        }
    }

    /// [`monitor`](Self::monitor) by registered name: the name is looked up once, now
    /// (`monitor(process, Name)`), and a name that stands for no process gives
    /// [`Exit::NoProc`] at once (R-MON-2).
    pub fn monitor_name(&self, name: &str) -> impl Future<Output = Exit> + Send + 'static + use<> {
        let target = self.whereis(name).map(|pid| self.monitor(pid));
        if target.is_none() {
            crate::emit::down(self, self.pid(), self.pid(), &Exit::NoProc);
        }
        async move {
            match target {
                Some(down) => down.await,
                None => Exit::NoProc,
            }
        }
    }

    // ---- names -----------------------------------------------------------------------

    fn names(&self) -> MutexGuard<'_, HashMap<Arc<str>, Pid, ahash::RandomState>> {
        self.inner
            .names
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers `pid` under `name` (Erlang's `register/2`). A process has at most one name;
    /// the name is released before the process's exit signals go out (R-LNK-2), so a
    /// supervisor can register a restarted process under it at once.
    pub fn register(&self, name: &str, pid: Pid) -> Result<(), RegisterError> {
        let cell = self.lookup(pid).ok_or(RegisterError::NoProc)?;
        let mut names = self.names();
        if let Some(owner) = names.get(name) {
            return Err(RegisterError::AlreadyRegistered(*owner));
        }
        let name: Arc<str> = Arc::from(name);
        cell.core().relations(|r| match &r.name {
            Some(n) => Err(RegisterError::HasName(n.clone())),
            None => {
                r.name = Some(name.clone());
                Ok(())
            }
        })?;
        // Registered while the names lock is held; a process that ended meanwhile has
        // already released (nothing) and closed its mailbox: check and undo.
        if cell.core().exit_reason.get().is_some() {
            return Err(RegisterError::NoProc);
        }
        names.insert(name, pid);
        Ok(())
    }

    /// Removes a name. Returns whether it was registered.
    pub fn unregister(&self, name: &str) -> bool {
        let Some(pid) = self.names().remove(name) else {
            return false;
        };
        if let Some(cell) = self.lookup(pid) {
            cell.core().relations(|r| r.name = None);
        }
        true
    }

    /// The pid registered under `name`, if any.
    pub fn whereis(&self, name: &str) -> Option<Pid> {
        self.names().get(name).copied()
    }

    /// Every registered name.
    pub fn registered(&self) -> Vec<(Arc<str>, Pid)> {
        self.names().iter().map(|(n, p)| (n.clone(), *p)).collect()
    }

    pub(crate) fn release_name(&self, name: &str, pid: Pid) {
        let mut names = self.names();
        if names.get(name) == Some(&pid) {
            names.remove(name);
        }
    }

    /// Delivers a `DOWN` to a watcher.
    pub(crate) fn notify_down(&self, watcher: Watcher, mref: Ref, pid: Pid, reason: Exit) {
        match watcher {
            Watcher::Process(w) => {
                crate::emit::down(self, w, pid, &reason);
                let _ = self.signal(w, Signal::Down { mref, pid, reason });
            }
            Watcher::Waiter(tx) => {
                crate::emit::down(self, self.pid(), pid, &reason);
                let _ = tx.send(reason);
            }
        }
    }
}
