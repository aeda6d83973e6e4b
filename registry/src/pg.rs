//! Process groups, as Erlang's `pg` (R-PG-1..4), on one node.
//!
//! A [`Scope`] holds named groups of processes. A group exists while it has members and reads
//! as empty otherwise; a process may join a group several times and then appears that many
//! times, until it leaves as many times. Members that end are removed, and the scope tells
//! its monitors (a group's or the whole scope's) of every join and leave.
//!
//! Only local processes join. Remote members arrive with the `dist` crate; the state (groups
//! of pids, events as joins and leaves of pid lists) is shaped so that a remote scope's view
//! can be merged in later.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};

use beamish_process::{Addr, Ctx, Node, Pid, Ref, SpawnError};

use crate::error::{JoinError, LeaveError};
use crate::watch::{OwnerWatcher, StopOnDrop};

/// Whether a [`GroupEvent`] reports processes joining or leaving.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Change {
    /// `{Ref, join, Group, Pids}`.
    Join,
    /// `{Ref, leave, Group, Pids}`.
    Leave,
}

/// What a group or scope monitor receives (R-PG-4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEvent<G> {
    /// The monitor's reference, as [`Scope::monitor_group`] or [`Scope::monitor_scope`]
    /// returned it.
    pub mref: Ref,
    /// Join or leave.
    pub change: Change,
    /// The group.
    pub group: G,
    /// The processes that joined or left (a process that had joined twice and ends shows
    /// twice).
    pub pids: Vec<Pid>,
}

type Notify<G> = Arc<dyn Fn(GroupEvent<G>) -> bool + Send + Sync>;

struct State<G> {
    groups: HashMap<G, Vec<Pid>, ahash::RandomState>,
    /// One group per join of each member.
    joined: HashMap<Pid, Vec<G>, ahash::RandomState>,
    group_monitors: HashMap<G, Vec<(Ref, Notify<G>)>, ahash::RandomState>,
    scope_monitors: Vec<(Ref, Notify<G>)>,
}

impl<G: Eq + Hash + Clone> State<G> {
    /// Tells the group's monitors and the scope's monitors; drops those whose process has
    /// ended.
    fn emit(&mut self, group: &G, change: Change, pids: &[Pid]) {
        let event = |mref| GroupEvent {
            mref,
            change,
            group: group.clone(),
            pids: pids.to_vec(),
        };
        if let Some(ms) = self.group_monitors.get_mut(group) {
            ms.retain(|(mref, notify)| notify(event(*mref)));
            if ms.is_empty() {
                self.group_monitors.remove(group);
            }
        }
        self.scope_monitors
            .retain(|(mref, notify)| notify(event(*mref)));
    }

    /// Removes every membership of a process that ended, and reports the leaves.
    fn remove_member(&mut self, pid: Pid) {
        let Some(groups) = self.joined.remove(&pid) else {
            return;
        };
        let mut counts: Vec<(G, usize)> = Vec::new();
        for g in groups {
            match counts.iter_mut().find(|(h, _)| *h == g) {
                Some((_, n)) => *n += 1,
                None => counts.push((g, 1)),
            }
        }
        for (g, n) in counts {
            if let Some(members) = self.groups.get_mut(&g) {
                members.retain(|p| *p != pid);
                if members.is_empty() {
                    self.groups.remove(&g);
                }
            }
            self.emit(&g, Change::Leave, &vec![pid; n]);
        }
    }
}

struct Inner<G> {
    node: Node,
    state: Arc<RwLock<State<G>>>,
    watcher: OwnerWatcher,
    _stop: StopOnDrop,
}

/// A `pg` scope: independent groups of local processes (R-PG-1..4). Cheap to clone; every
/// clone is the same scope. Dropping the last clone stops its watcher process.
pub struct Scope<G> {
    inner: Arc<Inner<G>>,
}

impl<G> Clone for Scope<G> {
    fn clone(&self) -> Self {
        Scope {
            inner: self.inner.clone(),
        }
    }
}

impl<G> fmt::Debug for Scope<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope")
            .field("watcher", &self.inner.watcher)
            .finish()
    }
}

impl<G> Scope<G>
where
    G: Eq + Hash + Clone + Send + Sync + 'static,
{
    /// Starts a scope on `node` (spawns its watcher process, which monitors the members).
    pub fn start(node: &Node) -> Result<Scope<G>, SpawnError> {
        let state = Arc::new(RwLock::new(State {
            groups: HashMap::default(),
            joined: HashMap::default(),
            group_monitors: HashMap::default(),
            scope_monitors: Vec::new(),
        }));
        let weak: Weak<RwLock<State<G>>> = Arc::downgrade(&state);
        let watcher = OwnerWatcher::spawn(node, move |pid| match weak.upgrade() {
            Some(s) => {
                s.write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .remove_member(pid);
                true
            }
            None => false,
        })?;
        Ok(Scope {
            inner: Arc::new(Inner {
                node: node.clone(),
                state,
                watcher: watcher.clone(),
                _stop: StopOnDrop(vec![watcher]),
            }),
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, State<G>> {
        self.inner
            .state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State<G>> {
        self.inner
            .state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds `pid` to `group` (`pg:join/3`), creating the group if needed (R-PG-1). A process
    /// may join a group several times. Fails if `pid` is not a process of this node. A
    /// member that ends is removed (R-PG-2).
    pub fn join(&self, group: G, pid: Pid) -> Result<(), JoinError> {
        if pid.node() != self.inner.node.id() {
            return Err(JoinError::NotLocal(pid));
        }
        let mut s = self.write();
        s.groups.entry(group.clone()).or_default().push(pid);
        let joined = s.joined.entry(pid).or_default();
        let first = joined.is_empty();
        joined.push(group.clone());
        if first {
            self.inner.watcher.watch(pid);
        }
        s.emit(&group, Change::Join, &[pid]);
        Ok(())
    }

    /// Removes one membership of `pid` in `group` (`pg:leave/3`). Fails with
    /// [`LeaveError::NotJoined`] if it is not a member (R-PG-1).
    pub fn leave(&self, group: &G, pid: Pid) -> Result<(), LeaveError> {
        let mut s = self.write();
        let Some(members) = s.groups.get_mut(group) else {
            return Err(LeaveError::NotJoined);
        };
        let Some(i) = members.iter().position(|p| *p == pid) else {
            return Err(LeaveError::NotJoined);
        };
        members.remove(i);
        if members.is_empty() {
            s.groups.remove(group);
        }
        if let Some(groups) = s.joined.get_mut(&pid) {
            if let Some(i) = groups.iter().position(|g| g == group) {
                groups.remove(i);
            }
            if groups.is_empty() {
                s.joined.remove(&pid);
                self.inner.watcher.unwatch(pid);
            }
        }
        s.emit(group, Change::Leave, &[pid]);
        Ok(())
    }

    /// The members of `group`, once per join, in no particular order (R-PG-3). A group that
    /// does not exist reads as empty.
    pub fn members(&self, group: &G) -> Vec<Pid> {
        self.read().groups.get(group).cloned().unwrap_or_default()
    }

    /// The groups that have members.
    pub fn which_groups(&self) -> Vec<G> {
        self.read().groups.keys().cloned().collect()
    }

    /// Monitors `group` (`pg:monitor/2`, R-PG-4): returns a reference and the current
    /// members; from then on, `notify` receives a [`GroupEvent`] for every join and leave of
    /// the group, in the order they happen. The monitor goes with
    /// [`demonitor`](Self::demonitor), or when `notify`'s process has ended.
    pub fn monitor_group<M>(&self, group: G, notify: Addr<M>) -> (Ref, Vec<Pid>)
    where
        M: From<GroupEvent<G>> + Send + 'static,
    {
        let mref = self.inner.node.make_ref();
        let mut s = self.write();
        let members = s.groups.get(&group).cloned().unwrap_or_default();
        s.group_monitors
            .entry(group)
            .or_default()
            .push((mref, notifier(notify)));
        (mref, members)
    }

    /// Monitors the whole scope (`pg:monitor_scope/1`, R-PG-4): returns a reference and every
    /// group with its members; from then on `notify` receives every join and leave in the
    /// scope.
    pub fn monitor_scope<M>(&self, notify: Addr<M>) -> (Ref, HashMap<G, Vec<Pid>>)
    where
        M: From<GroupEvent<G>> + Send + 'static,
    {
        let mref = self.inner.node.make_ref();
        let mut s = self.write();
        let groups = s
            .groups
            .iter()
            .map(|(g, m)| (g.clone(), m.clone()))
            .collect();
        s.scope_monitors.push((mref, notifier(notify)));
        (mref, groups)
    }

    /// Removes a group or scope monitor; returns whether it existed. No event is sent for it
    /// after this returns; events already in the monitoring process's mailbox stay there. To
    /// take those back too, as `pg:demonitor` does, call
    /// [`demonitor_flush`](Self::demonitor_flush) from the monitoring process.
    pub fn demonitor(&self, mref: Ref) -> bool {
        let mut s = self.write();
        let before = s.scope_monitors.len();
        s.scope_monitors.retain(|(r, _)| *r != mref);
        if s.scope_monitors.len() != before {
            return true;
        }
        let mut found = None;
        for (g, ms) in s.group_monitors.iter_mut() {
            let before = ms.len();
            ms.retain(|(r, _)| *r != mref);
            if ms.len() != before {
                found = Some((g.clone(), ms.is_empty()));
                break;
            }
        }
        match found {
            Some((g, empty)) => {
                if empty {
                    s.group_monitors.remove(&g);
                }
                true
            }
            None => false,
        }
    }

    /// Removes a monitor and flushes its events already queued in the calling (monitoring)
    /// process's mailbox (`pg:demonitor/1`, R-PG-4). `event_ref` tells which queued messages
    /// are this monitor's events: it returns the event's `mref` for a message that carries a
    /// [`GroupEvent`], `None` for any other message. Returns whether the monitor existed.
    pub fn demonitor_flush<M: Send + 'static>(
        &self,
        ctx: &mut Ctx<M>,
        mref: Ref,
        event_ref: impl Fn(&M) -> Option<Ref>,
    ) -> bool {
        let existed = self.demonitor(mref);
        ctx.flush(|m| event_ref(m) == Some(mref));
        existed
    }

    /// Waits until every member that had ended when this was called is removed (and its
    /// leaves reported), which the scope does on its own shortly after each end (R-PG-2).
    pub async fn sync(&self) {
        self.inner.watcher.sync().await;
    }
}

/// Sends events to a process; `false` once it has ended.
fn notifier<G, M>(addr: Addr<M>) -> Notify<G>
where
    M: From<GroupEvent<G>> + Send + 'static,
{
    Arc::new(move |e| addr.send(M::from(e)).is_ok() || addr.is_alive())
}
