//! The shared per-process state: what senders, the table and the process itself hold.

use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use beamish_mailbox::{Capacity, Closed, Mailbox};

use crate::exit::Exit;
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

/// Keys here (pids, refs) are made by the node, not by an adversary, so a fixed-key hasher is
/// enough, and it keeps the maps free of per-map random state.
pub(crate) type FastHash = std::hash::BuildHasherDefault<ahash::AHasher>;

/// The non-generic part of a process cell.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) pid: Pid,
    pub(crate) trap_exit: AtomicBool,
    status: AtomicU8,
    handled: AtomicU64,
    pub(crate) exit_reason: OnceLock<Exit>,
    relations: Mutex<Option<Box<Relations>>>,
    pub(crate) kind: &'static str,
}

impl Core {
    pub(crate) fn new(pid: Pid, kind: &'static str, relations: Option<Box<Relations>>) -> Core {
        Core {
            pid,
            trap_exit: AtomicBool::new(false),
            status: AtomicU8::new(Status::Waiting as u8),
            handled: AtomicU64::new(0),
            exit_reason: OnceLock::new(),
            relations: Mutex::new(relations),
            kind,
        }
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

/// A process's shared cell: its core and its typed mailbox.
pub(crate) struct Cell<M> {
    pub(crate) core: Core,
    pub(crate) mailbox: Mailbox<Signal, Message<M>>,
}

impl<M> Cell<M> {
    pub(crate) fn new(core: Core, capacity: Capacity) -> Cell<M> {
        Cell {
            core,
            mailbox: Mailbox::new(capacity),
        }
    }
}

/// The untyped view of a cell, for the process table and for signals, which need no
/// knowledge of the message type.
pub(crate) trait AnyCell: Send + Sync + 'static {
    fn core(&self) -> &Core;
    fn push_control(&self, s: Signal) -> Result<(), Closed<Signal>>;
    fn mailbox_len(&self) -> usize;
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
}

impl<M: Send + 'static> AnyCell for Cell<M> {
    fn core(&self) -> &Core {
        &self.core
    }
    fn push_control(&self, s: Signal) -> Result<(), Closed<Signal>> {
        self.mailbox.push_control(s)
    }
    fn mailbox_len(&self) -> usize {
        self.mailbox.len()
    }
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
}
