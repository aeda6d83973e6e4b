//! Introspection: the process table as data, for observers and telemetry.

use std::sync::Arc;

use crate::cell::{AnyCell, Kind, Status};
use crate::node::Node;
use crate::pid::Pid;

/// A snapshot of one process, as `erlang:process_info/1` gives.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProcessInfo {
    /// The process.
    pub pid: Pid,
    /// Its registered name, if any.
    pub name: Option<Arc<str>>,
    /// What it is doing.
    pub status: Status,
    /// What kind of process it is.
    pub kind: Kind,
    /// Queued data messages.
    pub mailbox_len: usize,
    /// Messages it has received so far.
    pub messages_handled: u64,
    /// Processes it is linked to.
    pub links: Vec<Pid>,
    /// Processes it monitors.
    pub monitors: Vec<Pid>,
    /// Number of monitors others hold on it.
    pub monitored_by: usize,
    /// Whether it traps exits.
    pub trap_exit: bool,
}

fn info_of(cell: &dyn AnyCell) -> ProcessInfo {
    let core = cell.core();
    let (name, links, monitors, monitored_by) = core
        .read_relations(|r| {
            (
                r.name.clone(),
                r.links.iter().copied().collect(),
                r.monitors.values().copied().collect(),
                r.watchers.len(),
            )
        })
        .unwrap_or_default();
    ProcessInfo {
        pid: cell.pid(),
        name,
        status: core.status(),
        kind: core.kind,
        mailbox_len: cell.mailbox_len(),
        messages_handled: core.handled(),
        links,
        monitors,
        monitored_by,
        trap_exit: core.trapping(),
    }
}

impl Node {
    /// Information about one live process.
    pub fn process_info(&self, pid: Pid) -> Option<ProcessInfo> {
        self.lookup(pid).map(|c| info_of(&*c))
    }

    /// Information about every live process. Each shard of the table is locked only while its
    /// entries are copied, and each process only while its own figures are read, so this is
    /// safe while the node runs at full load and does not stall spawns or sends.
    pub fn processes(&self) -> Vec<ProcessInfo> {
        self.inner
            .table
            .snapshot()
            .iter()
            .map(|c| info_of(&**c))
            .collect()
    }

    /// The `n` processes with the longest mailboxes, longest first.
    pub fn top_by_mailbox(&self, n: usize) -> Vec<ProcessInfo> {
        // Each length is read once: mailboxes change while we sort, and a sort key that moves
        // under the sort is not a total order (the standard sort may panic on it).
        let mut all: Vec<_> = self
            .inner
            .table
            .snapshot()
            .into_iter()
            .map(|c| (c.mailbox_len(), c))
            .collect();
        all.sort_by_key(|(len, _)| std::cmp::Reverse(*len));
        all.truncate(n);
        all.iter().map(|(_, c)| info_of(&**c)).collect()
    }
}
