//! Introspection: the process table as data, for observers and telemetry (issue 5).
//!
//! Every read here is safe while the node runs at full load: the table is locked one shard
//! at a time, and each process only while its own figures are read, with the same locks a
//! sender takes; nothing here stops the world.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use crate::cell::{AnyCell, Kind, Status};
use crate::node::Node;
use crate::pid::Pid;

/// A snapshot of one process, as `erlang:process_info/1` gives, with what an observer shows
/// (issue 5: behaviour, age, memory).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProcessInfo {
    /// The process.
    pub pid: Pid,
    /// Its registered name, if any.
    pub name: Option<Arc<str>>,
    /// What it is doing.
    pub status: Status,
    /// Its current behaviour type (plain process, `GenServer`, task, supervisor, or another
    /// behaviour built on plain processes), set when it was spawned.
    #[doc(alias = "behaviour")]
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
    /// When it started (first ran: a process is stamped by its first poll, and one that has
    /// not run yet shows the snapshot's time), by the wall clock: the node's start time plus
    /// the process's start offset on the runtime's monotonic clock (so it does not move if
    /// the wall clock is changed later). Millisecond resolution.
    pub started_at: SystemTime,
    /// How long it has been running when this snapshot was taken, on the runtime's
    /// monotonic clock (tokio's, so a paused test clock pauses it too). Millisecond
    /// resolution.
    pub age: Duration,
    /// An estimate of the memory the process holds, in bytes: its cell (with the `Arc`'s
    /// counts), its mailbox's queues at their capacity times the slot size (plus the messages
    /// in its private receive buffer), and its links, monitors and name if it has any.
    /// Not counted: the scheduler's task with the process's future (its state and whatever the
    /// future holds across an `.await`), the table slot, and anything the queued messages
    /// point to. Comparable between processes, not an exact figure.
    pub memory_bytes: usize,
}

fn info_of(node: &Node, cell: &dyn AnyCell, now_ms: u64) -> ProcessInfo {
    let core = cell.core();
    let (name, links, monitors, monitored_by, rel_bytes) = core
        .read_relations(|r| {
            (
                r.name.clone(),
                r.links.iter().copied().collect(),
                r.monitors.values().copied().collect(),
                r.watchers.len(),
                r.heap_bytes(),
            )
        })
        .unwrap_or_default();
    // A process that has not run yet starts now, as far as its age goes.
    let started_ms = core.started_ms().unwrap_or(now_ms);
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
        started_at: node.inner.started_wall + Duration::from_millis(started_ms),
        age: Duration::from_millis(now_ms.saturating_sub(started_ms)),
        memory_bytes: cell.cell_bytes() + rel_bytes,
    }
}

impl Node {
    /// Milliseconds since the node started, on the clock processes' start times use.
    pub(crate) fn now_ms(&self) -> u64 {
        self.inner.started.elapsed().as_millis() as u64
    }

    /// Information about one live process.
    pub fn process_info(&self, pid: Pid) -> Option<ProcessInfo> {
        self.lookup(pid).map(|c| info_of(self, &*c, self.now_ms()))
    }

    /// Information about every live process. Each shard of the table is locked only while its
    /// entries are copied, and each process only while its own figures are read, so this is
    /// safe while the node runs at full load and does not stall spawns or sends.
    pub fn processes(&self) -> Vec<ProcessInfo> {
        let now = self.now_ms();
        self.inner
            .table
            .snapshot()
            .iter()
            .map(|c| info_of(self, &**c, now))
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
        let now = self.now_ms();
        all.iter().map(|(_, c)| info_of(self, &**c, now)).collect()
    }

    /// How many messages every live process has handled so far: one sample for
    /// [`top_by_rate_between`](Self::top_by_rate_between) (issue 5). Cheap enough to take
    /// every second with 100,000 processes: one counter read per process under its table
    /// shard's lock, 16 bytes per process, no [`ProcessInfo`].
    pub fn handled_counts(&self) -> HandledCounts {
        let mut counts = Vec::with_capacity(self.process_count());
        self.inner
            .table
            .for_each(|c| counts.push((c.core().pid.serial(), c.core().handled())));
        counts.sort_unstable_by_key(|&(serial, _)| serial);
        HandledCounts { counts }
    }

    /// The `n` processes that handled the most messages between two samples of this node's
    /// [`handled_counts`](Self::handled_counts), busiest first, with how many they handled
    /// in between: recon's `proc_window` on samples the caller takes (an observer that
    /// refreshes every second computes rates between its own samples, without waiting).
    ///
    /// A process missing from `later` (it died) is left out; one missing from `earlier` (it
    /// was born in between) counts from 0. Only the top `n` get a [`ProcessInfo`]; one that
    /// dies before it is read is left out, so fewer than `n` may come back.
    #[doc(alias = "proc_window")]
    pub fn top_by_rate_between(
        &self,
        earlier: &HandledCounts,
        later: &HandledCounts,
        n: usize,
    ) -> Vec<(ProcessInfo, u64)> {
        let mut diffs = Vec::with_capacity(later.counts.len());
        let mut old = earlier.counts.iter().peekable();
        for &(serial, now) in &later.counts {
            while old.next_if(|(s, _)| *s < serial).is_some() {}
            let before = old.next_if(|(s, _)| *s == serial).map_or(0, |(_, c)| *c);
            diffs.push((now.saturating_sub(before), serial));
        }
        // Busiest first; ties by serial, so the answer does not depend on the table's order.
        let busiest_first = |a: &(u64, u64), b: &(u64, u64)| b.0.cmp(&a.0).then(a.1.cmp(&b.1));
        if n < diffs.len() {
            diffs.select_nth_unstable_by(n, busiest_first);
            diffs.truncate(n);
        }
        diffs.sort_unstable_by(busiest_first);
        let now = self.now_ms();
        diffs
            .into_iter()
            .filter_map(|(d, serial)| {
                let cell = self.inner.table.get(serial)?;
                Some((info_of(self, &*cell, now), d))
            })
            .collect()
    }

    /// The `n` processes that handle the most messages over the next `window`, busiest
    /// first, with how many each handled in it: recon's `proc_window` (issue 5). Samples every
    /// process's counter, waits `window` on the runtime's clock, samples again; see
    /// [`top_by_rate_between`](Self::top_by_rate_between) for processes born or dead in the
    /// window. The window starts when this is called (the first sample is taken at once),
    /// not when the future is first polled.
    #[doc(alias = "proc_window")]
    pub fn top_by_rate(
        &self,
        n: usize,
        window: Duration,
    ) -> impl Future<Output = Vec<(ProcessInfo, u64)>> + Send + 'static + use<> {
        let node = self.clone();
        let earlier = self.handled_counts();
        let sleep = tokio::time::sleep(window);
        async move {
            sleep.await;
            let later = node.handled_counts();
            node.top_by_rate_between(&earlier, &later, n)
        }
    }

    /// The node's counters at this instant (issue 5): live processes, spawns, exits and
    /// supervisor restarts since the node started. Two samples give rates, see
    /// [`NodeTotals::rates_since`]. Reads the 64 table shards' counters, each pair under its
    /// shard's lock, so `spawned - exited == processes` within one sample.
    pub fn totals(&self) -> NodeTotals {
        let (spawned, exited) = self.inner.table.counts();
        NodeTotals {
            processes: spawned - exited,
            spawned,
            exited,
            restarts: self.inner.restarts.load(Ordering::Relaxed),
            process_limit: self.inner.limit,
        }
    }

    /// Counts one child restart in [`NodeTotals::restarts`]: called by supervisors when they
    /// restart a child (each child of a strategy group counts once). A relaxed atomic add.
    pub fn count_restart(&self) {
        self.inner.restarts.fetch_add(1, Ordering::Relaxed);
    }
}

/// How many messages each live process had handled at one instant, from
/// [`Node::handled_counts`]; compare two with [`Node::top_by_rate_between`].
#[derive(Debug, Clone, Default)]
pub struct HandledCounts {
    /// `(serial, handled)`, sorted by serial for a merge with another sample.
    counts: Vec<(u64, u64)>,
}

impl HandledCounts {
    /// Processes in the sample.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// Whether the sample holds no process.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// How many messages `pid` had handled when the sample was taken, if it was alive then.
    pub fn get(&self, pid: Pid) -> Option<u64> {
        let serial = pid.serial();
        self.counts
            .binary_search_by_key(&serial, |&(s, _)| s)
            .ok()
            .map(|i| self.counts[i].1)
    }
}

/// A node's counters at one instant, from [`Node::totals`] (issue 5). All but `processes`
/// only grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct NodeTotals {
    /// Live processes (`spawned - exited`).
    pub processes: u64,
    /// Processes spawned since the node started.
    pub spawned: u64,
    /// Processes that have ended since the node started (left the process table).
    pub exited: u64,
    /// Child restarts by supervisors since the node started ([`Node::count_restart`]).
    pub restarts: u64,
    /// The process limit (R-PROC-1).
    pub process_limit: usize,
}

/// Per-second rates between two [`NodeTotals`], from [`NodeTotals::rates_since`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub struct NodeRates {
    /// Spawns per second.
    pub spawns: f64,
    /// Exits per second.
    pub exits: f64,
    /// Supervisor restarts per second.
    pub restarts: f64,
}

impl NodeTotals {
    /// The rates between an `earlier` sample and this one, taken `elapsed` apart (an
    /// observer measures `elapsed` on its own clock). A zero `elapsed` gives zero rates; a
    /// counter that went back (samples swapped) counts as 0.
    pub fn rates_since(&self, earlier: &NodeTotals, elapsed: Duration) -> NodeRates {
        let secs = elapsed.as_secs_f64();
        let rate = |now: u64, then: u64| {
            if secs > 0.0 {
                now.saturating_sub(then) as f64 / secs
            } else {
                0.0
            }
        };
        NodeRates {
            spawns: rate(self.spawned, earlier.spawned),
            exits: rate(self.exited, earlier.exited),
            restarts: rate(self.restarts, earlier.restarts),
        }
    }
}
