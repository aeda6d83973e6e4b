//! The shared per-process state: what senders, the table and the process itself hold.

use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use beamish_mailbox::{Capacity, Closed, Mailbox};

use crate::exit::Exit;
use crate::node::Node;
use crate::pid::{Pid, Ref};
use crate::signal::{Message, Signal, Watcher};

/// What a process is doing, for introspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Status {
    /// Being polled right now.
    Running,
    /// Parked, waiting for a message or some other event.
    Waiting,
    /// Terminating: sending its exit signals.
    Exiting,
}

impl Status {
    fn from_u8(v: u8) -> Status {
        match v {
            0 => Status::Running,
            1 => Status::Waiting,
            _ => Status::Exiting,
        }
    }
}

/// Links, monitors and name of a process. Allocated on first use; touched by the owning
/// process, and read by introspection.
#[derive(Debug, Default)]
pub(crate) struct Relations {
    pub(crate) links: HashSet<Pid, FastHash>,
    /// Monitors this process holds on others: ref -> monitored pid.
    pub(crate) monitors: HashMap<Ref, Pid, FastHash>,
    /// Monitors others hold on this process: ref -> who to tell.
    pub(crate) watchers: HashMap<Ref, Watcher, FastHash>,
    pub(crate) name: Option<Arc<str>>,
    /// The process that spawned this one linked (OTP's parent).
    pub(crate) parent: Option<Pid>,
}

impl Relations {
    /// An estimate of the heap bytes the relations hold: the box, the maps at their capacity
    /// (with hashbrown's control byte per bucket) and the name's allocation.
    pub(crate) fn heap_bytes(&self) -> usize {
        fn map<T>(cap: usize) -> usize {
            cap * (std::mem::size_of::<T>() + 1)
        }
        std::mem::size_of::<Relations>()
            + map::<Pid>(self.links.capacity())
            + map::<(Ref, Pid)>(self.monitors.capacity())
            + map::<(Ref, Watcher)>(self.watchers.capacity())
            + self
                .name
                .as_ref()
                .map_or(0, |n| n.len() + 2 * std::mem::size_of::<usize>())
    }
}

/// Keys here (pids, refs) are made by the node, not by an adversary, so a fixed-key hasher is
/// enough, and it keeps the maps free of per-map random state.
pub(crate) type FastHash = std::hash::BuildHasherDefault<ahash::AHasher>;

/// What kind of process this is, for introspection: its current behaviour type, as
/// `process_info(Pid, current_function)` and observer's "behaviour" column show (issue 5).
/// Set at spawn: a plain spawn is a `Process`, `Node::start` a `GenServer`, `Task::spawn` and
/// `async_stream` elements a `Task`, supervisors (static and dynamic) a `Supervisor`, and
/// other behaviours choose theirs with `spawn_kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// A plain process running a closure.
    Process,
    /// A [`GenServer`](crate::GenServer).
    GenServer,
    /// A task (Elixir's `Task`).
    Task,
    /// A supervisor.
    Supervisor,
    /// Some other behaviour built on plain processes.
    Other,
}

impl Kind {
    /// The kind's name as Erlang tools show it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Kind::Process => "process",
            Kind::GenServer => "gen_server",
            Kind::Task => "task",
            Kind::Supervisor => "supervisor",
            Kind::Other => "other",
        }
    }
}

/// The largest start offset a cell stores (40 bits of milliseconds); later ones saturate.
const MAX_STARTED_MS: u64 = (1 << 40) - 1;

/// The non-generic part of a process cell. Kept small: it is paid once per process.
#[derive(Debug)]
pub(crate) struct Core {
    /// The process's pid. (Only the serial is not derivable from the node, but keeping the
    /// whole pid also sizes the cell at 176 bytes, which packs with tokio's 128-byte-aligned
    /// task allocations under glibc: 544 resident bytes per idle process against 672 at 160;
    /// measured with 200,000 spawns, see the closing note of the foundation issue.)
    pub(crate) pid: Pid,
    pub(crate) trap_exit: AtomicBool,
    status: AtomicU8,
    pub(crate) kind: Kind,
    handled: AtomicU64,
    /// When the process started: milliseconds since the node started, in 40 bits (34 years).
    /// Five bytes fill what was padding, so the cell stays at 176 bytes (issue 5).
    started: [u8; 5],
    pub(crate) exit_reason: OnceLock<Exit>,
    relations: Mutex<Option<Box<Relations>>>,
}

impl Core {
    pub(crate) fn new(
        pid: Pid,
        kind: Kind,
        relations: Option<Box<Relations>>,
        started_ms: u64,
    ) -> Core {
        let b = started_ms.min(MAX_STARTED_MS).to_le_bytes();
        Core {
            pid,
            started: [b[0], b[1], b[2], b[3], b[4]],
            trap_exit: AtomicBool::new(false),
            status: AtomicU8::new(Status::Waiting as u8),
            handled: AtomicU64::new(0),
            exit_reason: OnceLock::new(),
            relations: Mutex::new(relations),
            kind,
        }
    }

    /// When the process started, in milliseconds since its node started.
    pub(crate) fn started_ms(&self) -> u64 {
        let s = self.started;
        u64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], 0, 0, 0])
    }

    pub(crate) fn set_status(&self, s: Status) {
        self.status.store(s as u8, Ordering::Relaxed);
    }

    pub(crate) fn status(&self) -> Status {
        Status::from_u8(self.status.load(Ordering::Relaxed))
    }

    /// Counts one handled message. Only the owner writes, so a load and a store suffice.
    pub(crate) fn count_handled(&self) {
        let n = self.handled.load(Ordering::Relaxed);
        self.handled.store(n + 1, Ordering::Relaxed);
    }

    pub(crate) fn handled(&self) -> u64 {
        self.handled.load(Ordering::Relaxed)
    }

    pub(crate) fn trapping(&self) -> bool {
        self.trap_exit.load(Ordering::Relaxed)
    }

    fn lock_relations(&self) -> MutexGuard<'_, Option<Box<Relations>>> {
        self.relations
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `f` on the relations, allocating them on first use.
    pub(crate) fn relations<R>(&self, f: impl FnOnce(&mut Relations) -> R) -> R {
        let mut g = self.lock_relations();
        f(g.get_or_insert_with(Default::default))
    }

    /// Runs `f` on the relations if there are any (never allocates).
    pub(crate) fn read_relations<R>(&self, f: impl FnOnce(&Relations) -> R) -> Option<R> {
        self.lock_relations().as_deref().map(f)
    }

    /// Takes the relations out, for termination.
    pub(crate) fn take_relations(&self) -> Option<Box<Relations>> {
        self.lock_relations().take()
    }
}

/// A process's shared cell: its core, its typed mailbox, and its node.
pub(crate) struct Cell<M> {
    pub(crate) core: Core,
    pub(crate) mailbox: Mailbox<Signal, Message<M>>,
    /// The node the process runs on: for signals at termination, and for callers' timers.
    pub(crate) node: Node,
}

impl<M> Cell<M> {
    pub(crate) fn new(core: Core, capacity: Capacity, node: Node) -> Cell<M> {
        Cell {
            core,
            mailbox: Mailbox::new(capacity),
            node,
        }
    }

    pub(crate) fn pid(&self) -> Pid {
        self.core.pid
    }
}

/// The untyped view of a cell, for the process table and for signals, which need no
/// knowledge of the message type.
pub(crate) trait AnyCell: Send + Sync + 'static {
    fn core(&self) -> &Core;
    fn pid(&self) -> Pid;
    fn push_control(&self, s: Signal) -> Result<(), Closed<Signal>>;
    fn mailbox_len(&self) -> usize;
    /// An estimate of the bytes the cell and its mailbox hold (not the relations, which the
    /// caller reads under their own lock); see `ProcessInfo::memory_bytes`.
    fn cell_bytes(&self) -> usize;
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
}

impl<M: Send + 'static> AnyCell for Cell<M> {
    fn core(&self) -> &Core {
        &self.core
    }
    fn pid(&self) -> Pid {
        Cell::pid(self)
    }
    fn push_control(&self, s: Signal) -> Result<(), Closed<Signal>> {
        self.mailbox.push_control(s)
    }
    fn mailbox_len(&self) -> usize {
        self.mailbox.len()
    }
    fn cell_bytes(&self) -> usize {
        // The Arc's allocation (two reference counts and the cell), and the queues.
        2 * std::mem::size_of::<usize>()
            + std::mem::size_of::<Self>()
            + self.mailbox.allocated_bytes()
    }
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
}

#[cfg(all(test, target_pointer_width = "64"))]
mod tests {
    use super::*;

    /// The cell is 176 bytes whatever the message type (issue 5 added the start time in
    /// padding): the size packs with tokio's task allocations, see `Core::pid`.
    #[test]
    fn the_cell_stays_at_176_bytes() {
        assert_eq!(std::mem::size_of::<Core>(), 88);
        assert_eq!(std::mem::size_of::<Cell<u64>>(), 176);
        assert_eq!(std::mem::size_of::<Cell<[u8; 256]>>(), 176);
    }

    #[test]
    fn the_start_offset_round_trips_and_saturates() {
        let pid = Pid::from_parts(crate::pid::NodeId::LOCAL, 1, 0);
        let c = Core::new(pid, Kind::Process, None, 999_999_999_999);
        assert_eq!(c.started_ms(), 999_999_999_999);
        let c = Core::new(pid, Kind::Process, None, u64::MAX);
        assert_eq!(c.started_ms(), MAX_STARTED_MS);
    }
}
