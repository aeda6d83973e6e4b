//! `PubSub` and `Presence` in a supervision tree.
//!
//! As with [`Registry::child_spec`](beamish_registry::Registry::child_spec), the handle is
//! made first ([`PubSub::start`], [`Presence::start`]) and shared by the children that use
//! it; its child spec is a [`ChildSpec::stand_in`] for the processes it started, so the
//! supervisor hears when one of them ends and the tree escalates while it is gone. Where
//! Phoenix restarts a crashed `PubSub` or `Presence` with empty state, here the state belongs
//! to the handle: stopping or restarting the child keeps subscriptions and presences, which
//! go when their processes end (R-PS-1, R-PR-2).

use std::sync::Arc;

use beamish_process::Pid;
use beamish_supervisor::ChildSpec;

use crate::presence::Presence;
use crate::topics::PubSub;

impl<T: Send + Sync + 'static> PubSub<T> {
    /// This hub as a child of a supervisor (Phoenix's `{Phoenix.PubSub, name: ...}` in a
    /// children list): a [`ChildSpec::stand_in`] for its processes. Unlike Phoenix, whose
    /// restarted hub starts empty, the subscriptions belong to the handle: stopping or
    /// restarting the child keeps them (they go when their subscribers end, R-PS-1).
    pub fn child_spec(&self, id: impl Into<Arc<str>>) -> ChildSpec {
        let hub = self.clone();
        ChildSpec::stand_in(id, move || hub.processes())
    }
}

impl<M: Clone + Send + Sync + 'static> Presence<M> {
    /// The tracker's own processes: the watcher that untracks ended processes, and the
    /// watchers of the hub that carries its diffs.
    pub fn processes(&self) -> Vec<Pid> {
        self.processes_inner()
    }

    /// This tracker as a child of a supervisor (a `Phoenix.Presence` module in a children
    /// list): a [`ChildSpec::stand_in`] for its processes. The presences belong to the
    /// handle: stopping or restarting the child keeps them (a tracked process that ends
    /// leaves, R-PR-2).
    pub fn child_spec(&self, id: impl Into<Arc<str>>) -> ChildSpec {
        let tracker = self.clone();
        ChildSpec::stand_in(id, move || tracker.processes())
    }
}
