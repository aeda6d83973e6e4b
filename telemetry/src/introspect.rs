//! The introspection data model: what an observer reads from a node.
//!
//! These are plain serde types. The process and supervisor crates fill them; the HTTP endpoint
//! serves them as JSON; `cargo xtask observe` reads them back. Keeping them here, in the crate
//! every other one depends on, gives server and observer one definition.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::event::ProcessId;
use crate::log::EventRecord;

/// One process, as an observer lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessRow {
    /// The process.
    pub pid: ProcessId,
    /// Its registered name, if any.
    pub name: Option<String>,
    /// What it is doing (`running`, `waiting`, ...).
    pub status: String,
    /// Its behaviour (`process`, `gen_server`, `task`, `supervisor`, ...).
    pub behaviour: String,
    /// Queued messages.
    pub mailbox_len: u64,
    /// Messages handled since it started.
    pub messages_handled: u64,
    /// Messages handled per second over the last sampling window, if one was taken.
    pub message_rate: Option<f64>,
    /// Processes it is linked to.
    pub links: Vec<ProcessId>,
    /// Processes it monitors.
    pub monitors: Vec<ProcessId>,
    /// How long it has been running, in milliseconds.
    pub age_ms: u64,
    /// An estimate of the memory it holds, in bytes.
    pub memory_bytes: u64,
}

/// Node-wide figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeTotalsRow {
    /// The node's name.
    pub node: String,
    /// Live processes.
    pub processes: u64,
    /// Processes spawned since the node started.
    pub spawned: u64,
    /// Processes that have exited since the node started.
    pub exited: u64,
    /// Children restarted by supervisors since the node started.
    pub restarts: u64,
    /// Spawns per second over the last sampling window.
    pub spawn_rate: f64,
    /// Exits per second over the last sampling window.
    pub exit_rate: f64,
}

/// A supervisor and its children, recursively.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreeRow {
    /// The supervisor.
    pub pid: ProcessId,
    /// Its registered name, if any.
    pub name: Option<String>,
    /// `one_for_one`, `one_for_all`, `rest_for_one` or `dynamic`.
    pub strategy: String,
    /// Its restart intensity.
    pub intensity: u32,
    /// Its restart period, in milliseconds.
    pub period_ms: u64,
    /// Its children in start order.
    pub children: Vec<TreeChildRow>,
}

/// One child in a [`TreeRow`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreeChildRow {
    /// Its id (none under a dynamic supervisor).
    pub id: Option<String>,
    /// Its pid, if running.
    pub pid: Option<ProcessId>,
    /// `running`, `restarting` or `undefined`.
    pub status: String,
    /// `worker` or `supervisor`.
    pub kind: String,
    /// How many times it was restarted.
    pub restarts: u64,
    /// Its own tree, if it is a running supervisor.
    pub tree: Option<Box<TreeRow>>,
}

/// Which processes an observer wants first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortBy {
    /// Longest mailbox first.
    #[default]
    MailboxLen,
    /// Most messages handled in the sampling window first (recon's `proc_window`).
    MessageRate,
    /// Most messages handled since start first.
    MessagesHandled,
}

/// What an observer asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotQuery {
    /// The order of the process table.
    pub sort: SortBy,
    /// How many processes to return.
    pub limit: usize,
    /// How long to sample message rates for (zero: rates since the previous snapshot taken
    /// by the same source, if any).
    pub window: Duration,
}

impl Default for SnapshotQuery {
    fn default() -> Self {
        SnapshotQuery {
            sort: SortBy::MailboxLen,
            limit: 50,
            window: Duration::ZERO,
        }
    }
}

/// Everything an observer shows at one refresh.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeSnapshot {
    /// When it was taken, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// Node-wide figures.
    pub totals: NodeTotalsRow,
    /// The top processes, in the order asked for.
    pub processes: Vec<ProcessRow>,
    /// The supervision trees the source knows of.
    pub trees: Vec<TreeRow>,
    /// Recent events, oldest first.
    pub events: Vec<EventRecord>,
}

/// A boxed future, as [`Introspect::snapshot`] returns it.
pub type SnapshotFuture<'a> = Pin<Box<dyn Future<Output = NodeSnapshot> + Send + 'a>>;

/// Something that can describe a node: what an introspection endpoint serves.
pub trait Introspect: Send + Sync + 'static {
    /// A snapshot for `query`. May wait (for a rate window, or for supervisors to answer).
    fn snapshot(&self, query: SnapshotQuery) -> SnapshotFuture<'_>;
}
