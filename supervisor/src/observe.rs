//! A node described for observers: processes, totals and supervision trees as
//! [`beamish_telemetry::introspect`] data, behind the [`Introspect`] trait an endpoint serves.
//!
//! It lives here, not in the process crate, because the supervision tree is this crate's: the
//! process crate gives the table and the counters, this crate adds the trees and puts the two
//! together.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use beamish_process::{HandledCounts, Kind, Node, NodeTotals, Pid, ProcessInfo, Status};
use beamish_telemetry::EventLog;
use beamish_telemetry::introspect::{
    Introspect, NodeSnapshot, NodeTotalsRow, ProcessRow, SnapshotFuture, SnapshotQuery, SortBy,
    TreeChildRow, TreeRow,
};
use tokio::time::Instant;

use crate::info::{ChildStatus, Flavor, SupervisionTree};
use crate::supervisor::SupervisorRef;
use crate::types::{ChildKind, Strategy};

/// Describes a node to an observer: its busiest processes, its totals and rates, the trees of
/// the supervisors it was told about, and the recent events of an [`EventLog`].
///
/// Rates come from the previous snapshot this introspector took (an observer refreshing every
/// second sees per-second rates without waiting), or from a window the query asks for
/// (recon's `proc_window`).
///
/// ```
/// use std::time::Duration;
/// use beamish_process::Node;
/// use beamish_supervisor::{Strategy, Supervisor};
/// use beamish_supervisor::observe::NodeIntrospector;
/// use beamish_telemetry::introspect::{Introspect, SnapshotQuery};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let node = Node::start_default()?;
/// let sup = Supervisor::new(Strategy::OneForOne).start(&node).await?;
/// let introspector = NodeIntrospector::new(&node).supervisor(sup.pid());
/// let snapshot = introspector.snapshot(SnapshotQuery::default()).await;
/// assert_eq!(snapshot.totals.processes, 1);
/// assert_eq!(snapshot.trees[0].strategy, "one_for_one");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct NodeIntrospector {
    node: Node,
    supervisors: Vec<Pid>,
    log: Option<EventLog>,
    previous: Mutex<Option<Arc<Sample>>>,
}

/// The counters at one instant, to compute rates against.
#[derive(Debug)]
struct Sample {
    at: Instant,
    totals: NodeTotals,
    handled: HandledCounts,
}

impl NodeIntrospector {
    /// Describes `node`, with no supervision tree and no event log yet.
    pub fn new(node: &Node) -> NodeIntrospector {
        NodeIntrospector {
            node: node.clone(),
            supervisors: Vec::new(),
            log: None,
            previous: Mutex::new(None),
        }
    }

    /// Adds the tree under the supervisor `pid` (static or dynamic) to every snapshot.
    pub fn supervisor(mut self, pid: Pid) -> NodeIntrospector {
        self.supervisors.push(pid);
        self
    }

    /// Adds the recent events of `log` to every snapshot.
    pub fn events(mut self, log: EventLog) -> NodeIntrospector {
        self.log = Some(log);
        self
    }

    fn sample(&self) -> Arc<Sample> {
        Arc::new(Sample {
            at: Instant::now(),
            totals: self.node.totals(),
            handled: self.node.handled_counts(),
        })
    }

    /// The sample to measure rates from: a fresh one `window` ago, or the previous snapshot's.
    async fn baseline(&self, window: Duration) -> Option<Arc<Sample>> {
        if window.is_zero() {
            return self
                .previous
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
        }
        let earlier = self.sample();
        tokio::time::sleep(window).await;
        Some(earlier)
    }

    async fn take(&self, query: SnapshotQuery) -> NodeSnapshot {
        let baseline = self.baseline(query.window).await;
        let now = self.sample();
        *self.previous.lock().unwrap_or_else(PoisonError::into_inner) = Some(now.clone());
        let elapsed = baseline
            .as_ref()
            .map_or(Duration::ZERO, |b| now.at.duration_since(b.at));
        let per_second = |n: u64| {
            let secs = elapsed.as_secs_f64();
            (secs > 0.0).then(|| n as f64 / secs)
        };

        let rows: Vec<(ProcessInfo, Option<u64>)> = match (query.sort, &baseline) {
            (SortBy::MessageRate, Some(b)) => self
                .node
                .top_by_rate_between(&b.handled, &now.handled, query.limit)
                .into_iter()
                .map(|(info, n)| (info, Some(n)))
                .collect(),
            (SortBy::MessageRate, None) | (SortBy::MessagesHandled, _) => {
                let mut all = self.node.processes();
                all.sort_by_key(|p| std::cmp::Reverse(p.messages_handled));
                all.truncate(query.limit);
                self.with_window_counts(all, baseline.as_deref(), &now)
            }
            (SortBy::MailboxLen, _) => {
                let top = self.node.top_by_mailbox(query.limit);
                self.with_window_counts(top, baseline.as_deref(), &now)
            }
        };
        let processes = rows
            .into_iter()
            .map(|(info, handled)| process_row(info, handled.and_then(per_second)))
            .collect();

        let rates = baseline
            .as_ref()
            .map(|b| now.totals.rates_since(&b.totals, elapsed));
        let totals = NodeTotalsRow {
            node: self.node.name().to_owned(),
            processes: now.totals.processes,
            spawned: now.totals.spawned,
            exited: now.totals.exited,
            restarts: now.totals.restarts,
            spawn_rate: rates.map_or(0.0, |r| r.spawns),
            exit_rate: rates.map_or(0.0, |r| r.exits),
        };

        let mut trees = Vec::new();
        for &pid in &self.supervisors {
            let Some(sup) = SupervisorRef::from_pid(&self.node, pid) else {
                continue;
            };
            if let Ok(tree) = sup.tree().await {
                trees.push(self.tree_row(&tree));
            }
        }

        NodeSnapshot {
            at_ms: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
            totals,
            processes,
            trees,
            events: self.log.as_ref().map(EventLog::recent).unwrap_or_default(),
        }
    }

    /// Pairs each process with the messages it handled since the baseline, if there is one.
    fn with_window_counts(
        &self,
        infos: Vec<ProcessInfo>,
        baseline: Option<&Sample>,
        now: &Sample,
    ) -> Vec<(ProcessInfo, Option<u64>)> {
        infos
            .into_iter()
            .map(|info| {
                let handled = baseline.map(|b| {
                    let before = b.handled.get(info.pid).unwrap_or(0);
                    now.handled
                        .get(info.pid)
                        .unwrap_or(info.messages_handled)
                        .saturating_sub(before)
                });
                (info, handled)
            })
            .collect()
    }

    fn tree_row(&self, tree: &SupervisionTree) -> TreeRow {
        let name = |pid: Pid| {
            self.node
                .process_info(pid)
                .and_then(|i| i.name.map(|n| n.to_string()))
        };
        TreeRow {
            pid: tree.pid.into(),
            name: name(tree.pid),
            strategy: match tree.flavor {
                Flavor::Static(Strategy::OneForOne) => "one_for_one",
                Flavor::Static(Strategy::OneForAll) => "one_for_all",
                Flavor::Static(Strategy::RestForOne) => "rest_for_one",
                Flavor::Dynamic => "dynamic",
            }
            .to_owned(),
            intensity: tree.intensity,
            period_ms: tree.period.as_millis() as u64,
            children: tree
                .children
                .iter()
                .map(|c| TreeChildRow {
                    id: c.child.id.as_deref().map(str::to_owned),
                    pid: c.child.status.pid().map(Into::into),
                    status: match c.child.status {
                        ChildStatus::Running(_) => "running",
                        ChildStatus::Restarting => "restarting",
                        ChildStatus::Undefined => "undefined",
                    }
                    .to_owned(),
                    kind: match c.child.kind {
                        ChildKind::Worker => "worker",
                        ChildKind::Supervisor => "supervisor",
                    }
                    .to_owned(),
                    restarts: c.child.restarts,
                    tree: c.tree.as_ref().map(|t| Box::new(self.tree_row(t))),
                })
                .collect(),
        }
    }
}

impl Introspect for NodeIntrospector {
    fn snapshot(&self, query: SnapshotQuery) -> SnapshotFuture<'_> {
        Box::pin(self.take(query))
    }
}

fn process_row(info: ProcessInfo, message_rate: Option<f64>) -> ProcessRow {
    ProcessRow {
        pid: info.pid.into(),
        name: info.name.map(|n| n.to_string()),
        status: match info.status {
            Status::Running => "running",
            Status::Waiting => "waiting",
            Status::Exiting => "exiting",
            _ => "other",
        }
        .to_owned(),
        behaviour: match info.kind {
            Kind::Process => "process",
            Kind::GenServer => "gen_server",
            Kind::Task => "task",
            Kind::Supervisor => "supervisor",
            _ => "other",
        }
        .to_owned(),
        mailbox_len: info.mailbox_len as u64,
        messages_handled: info.messages_handled,
        message_rate,
        links: info.links.into_iter().map(Into::into).collect(),
        monitors: info.monitors.into_iter().map(Into::into).collect(),
        age_ms: info.age.as_millis() as u64,
        memory_bytes: info.memory_bytes as u64,
    }
}
