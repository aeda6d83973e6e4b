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
    /// The monitors among `monitors` that were set by name (R-MON-2): ref -> the name, for
    /// their `DOWN`'s object. Empty (and unallocated) unless `monitor_name` was used.
    pub(crate) monitored_names: HashMap<Ref, Arc<str>, FastHash>,
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
            + map::<(Ref, Arc<str>)>(self.monitored_names.capacity())
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
/// other behaviours choose theirs with [`SpawnBuilder::kind`](crate::SpawnBuilder::kind).
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

/// `Core::started` before the process first runs.
const NOT_STARTED: u64 = u64::MAX;

/// The non-generic part of a process cell. Kept small: it is paid once per process.
#[derive(Debug)]
#[repr(C)]
pub(crate) struct Core {
    /// The process's pid. (Only the serial is not derivable from the node, but keeping the
    /// whole pid also sized the cell at 176 bytes, which packs with tokio's 128-byte-aligned
    /// task allocations under glibc: 544 resident bytes per idle process against 672 at 160;
    /// measured with 200,000 spawns, see the closing note of the foundation issue. At 184
    /// bytes, since the start time became atomic, it still takes the same malloc chunk.)
    pub(crate) pid: Pid,
    pub(crate) exit_reason: OnceLock<Exit>,
    relations: Mutex<Option<Box<Relations>>>,
    pub(crate) trap_exit: AtomicBool,
    pub(crate) kind: Kind,
    status: AtomicU8,
    handled: AtomicU64,
    /// When the process first ran, in milliseconds since the node started ([`NOT_STARTED`]
    /// until then). Stamped by the process's first poll, not by the spawner: the clock read
    /// (about 26 ns here) then runs on the worker that starts the process, off the path of a
    /// process that spawns many (issue 2, spawn). The cell grows from 176 to 184 bytes, and
    /// its allocation stays in the same 208-byte malloc chunk.
    started: AtomicU64,
}

impl Core {
    pub(crate) fn new(pid: Pid, kind: Kind, relations: Option<Box<Relations>>) -> Core {
        Core {
            pid,
            started: AtomicU64::new(NOT_STARTED),
            trap_exit: AtomicBool::new(false),
            status: AtomicU8::new(Status::Waiting as u8),
            handled: AtomicU64::new(0),
            exit_reason: OnceLock::new(),
            relations: Mutex::new(relations),
            kind,
        }
    }

    /// When the process first ran, in milliseconds since its node started; `None` before.
    pub(crate) fn started_ms(&self) -> Option<u64> {
        let ms = self.started.load(Ordering::Relaxed);
        (ms != NOT_STARTED).then_some(ms)
    }

    /// Records that the process runs for the first time, `now_ms` after its node started.
    pub(crate) fn mark_started(&self, now_ms: u64) {
        self.started
            .store(now_ms.min(NOT_STARTED - 1), Ordering::Relaxed);
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
///
/// In this order (`repr(C)`): the mailbox, which senders lock, first; what the process
/// itself writes on every poll and message (the status and counter, at the end of the core)
/// last, at least a cache line away. Call with 100 callers, 8 alternating runs: median 6.37M
/// against 5.93M calls/s; the server's status writes no longer evict its callers' line.
#[repr(C)]
pub(crate) struct Cell<M> {
    pub(crate) mailbox: Mailbox<Signal, Message<M>>,
    /// The node the process runs on: for signals at termination, and for callers' timers.
    pub(crate) node: Node,
    pub(crate) core: Core,
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
    /// Closes the mailbox and drops what it held: the messages, and the receiver's waker.
    fn close_mailbox(&self);
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
    fn close_mailbox(&self) {
        drop(self.mailbox.close());
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

    /// The cell is 184 bytes whatever the message type: with the `Arc`'s counts that is a
    /// 200-byte allocation, which glibc serves from the same 208-byte chunk as the 176-byte
    /// cell it was before the start time became atomic (see `Core::started`).
    #[test]
    fn the_cell_stays_at_184_bytes() {
        assert_eq!(std::mem::size_of::<Core>(), 96);
        assert_eq!(std::mem::size_of::<Cell<u64>>(), 184);
        assert_eq!(std::mem::size_of::<Cell<[u8; 256]>>(), 184);
    }

    #[test]
    fn the_start_time_is_unknown_until_the_first_run() {
        let pid = Pid::from_parts(crate::pid::NodeId::LOCAL, 1, 0);
        let c = Core::new(pid, Kind::Process, None);
        assert_eq!(c.started_ms(), None);
        c.mark_started(999_999_999_999);
        assert_eq!(c.started_ms(), Some(999_999_999_999));
        c.mark_started(u64::MAX);
        assert_eq!(c.started_ms(), Some(u64::MAX - 1));
    }
}

#[cfg(test)]
mod layout {
    use super::*;
    use std::mem::{offset_of, size_of};

    /// What the process writes on every poll and message (its status and counter) is at
    /// least a cache line away from every byte of its mailbox, which other processes' sends
    /// lock: a server's bookkeeping never evicts the line its callers push on. And the cell
    /// keeps its size (one 208-byte malloc chunk per process).
    #[test]
    fn the_owners_counters_are_a_cache_line_from_the_mailbox() {
        type C = Cell<u64>;
        let mailbox_end = offset_of!(C, mailbox) + size_of::<Mailbox<Signal, Message<u64>>>();
        let status = offset_of!(C, core) + offset_of!(Core, status);
        let handled = offset_of!(C, core) + offset_of!(Core, handled);
        assert!(offset_of!(C, mailbox) == 0, "the mailbox comes first");
        assert!(
            status.min(handled) >= mailbox_end + 64,
            "{status}, {handled}, {mailbox_end}"
        );
        assert!(size_of::<C>() <= 184, "{}", size_of::<C>());
    }
}
