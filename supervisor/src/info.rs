//! Introspection: children, counts and the supervision tree as data.

use std::sync::Arc;
use std::time::Duration;

use beamish_process::Pid;

use crate::types::{ChildKind, Restart, Strategy};

/// Where a child stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChildStatus {
    /// Running as this pid.
    Running(Pid),
    /// Waiting for a restart (a failed restart being retried, or a backoff).
    Restarting,
    /// Not running: ignored at start, or terminated with `terminate_child` (OTP's
    /// `undefined`).
    Undefined,
}

impl ChildStatus {
    /// The pid, if running.
    pub fn pid(&self) -> Option<Pid> {
        match self {
            ChildStatus::Running(p) => Some(*p),
            _ => None,
        }
    }
}

/// One child, as `which_children` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChildInfo {
    /// The child's id; `None` under a dynamic supervisor (R-DS-1: ids are `undefined`).
    pub id: Option<Arc<str>>,
    /// Running, restarting or not running.
    pub status: ChildStatus,
    /// Worker or supervisor.
    pub kind: ChildKind,
    /// Its restart type.
    pub restart: Restart,
    /// How many times this supervisor has restarted it.
    pub restarts: u64,
    /// The backoff it is waiting out, if it is waiting for a delayed restart.
    pub backoff: Option<Duration>,
}

/// `count_children`: how many specs, running children, supervisors and workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ChildCounts {
    /// Child specs, running or not.
    pub specs: usize,
    /// Children running.
    pub active: usize,
    /// Specs of kind supervisor.
    pub supervisors: usize,
    /// Specs of kind worker.
    pub workers: usize,
}

/// Which kind of supervisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// A [`Supervisor`](crate::Supervisor) with this strategy.
    Static(Strategy),
    /// A [`DynamicSupervisor`](crate::DynamicSupervisor).
    Dynamic,
}

/// One supervisor and its children, recursively: the supervision tree as data, for telemetry
/// and observers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SupervisionTree {
    /// The supervisor.
    pub pid: Pid,
    /// Static (with its strategy) or dynamic.
    pub flavor: Flavor,
    /// Its restart intensity.
    pub intensity: u32,
    /// Its restart period.
    pub period: Duration,
    /// Its children in start order, each with its own tree if it is a running supervisor.
    pub children: Vec<TreeChild>,
}

/// A child in a [`SupervisionTree`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TreeChild {
    /// The child.
    pub child: ChildInfo,
    /// Its own tree, if it is a supervisor that was running when asked.
    pub tree: Option<SupervisionTree>,
}

impl SupervisionTree {
    /// Every child in the tree, depth first, with its depth (1 for this supervisor's
    /// children).
    pub fn walk(&self) -> Vec<(usize, &ChildInfo)> {
        let mut out = Vec::new();
        fn go<'a>(t: &'a SupervisionTree, depth: usize, out: &mut Vec<(usize, &'a ChildInfo)>) {
            for c in &t.children {
                out.push((depth, &c.child));
                if let Some(sub) = &c.tree {
                    go(sub, depth + 1, out);
                }
            }
        }
        go(self, 1, &mut out);
        out
    }
}

/// What a supervisor says about itself (one level of the tree).
#[derive(Debug)]
pub(crate) struct Describe {
    pub(crate) flavor: Flavor,
    pub(crate) intensity: u32,
    pub(crate) period: Duration,
    pub(crate) children: Vec<ChildInfo>,
}
