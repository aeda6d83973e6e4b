//! Presence: who is on a topic, with metadata, kept as a delta CRDT and announced as diffs
//! (R-PR-1..3).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use beamish_process::{Ctx, Node, Pid, SpawnError};
use beamish_registry::OwnerWatcher;

use crate::crdt::{Changes, Entry, Replica, ReplicaId, Store, Tag};
use crate::error::{TrackError, UpdateError};
use crate::topics::PubSub;

/// One presence of a key, as [`Presence::list`] and [`Diff`] show it (a Phoenix "meta").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta<M> {
    /// The tracked process.
    pub pid: Pid,
    /// The metadata.
    pub meta: M,
    /// This presence's unique reference (`phx_ref`).
    pub phx_ref: Tag,
    /// The reference of the presence this one replaced by an update (`phx_ref_prev`).
    pub phx_ref_prev: Option<Tag>,
}

/// Keys to their metas, as `list` returns and diffs carry them (R-PR-3).
pub type Presences<M> = BTreeMap<String, Vec<Meta<M>>>;

/// A `presence_diff`: what joined and what left a topic (R-PR-3). Subscribers of the topic
/// receive it as an `Arc<Diff<M>>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff<M> {
    /// The topic.
    pub topic: String,
    /// Presences that joined, by key.
    pub joins: Presences<M>,
    /// Presences that left, by key.
    pub leaves: Presences<M>,
}

fn meta_of<M: Clone>(tag: Tag, e: &Entry<M>) -> Meta<M> {
    Meta {
        pid: e.pid,
        meta: e.meta.clone(),
        phx_ref: tag,
        phx_ref_prev: e.prev,
    }
}

/// Groups a merge's changes by topic.
fn diffs_of<M: Clone>(changes: &Changes<M>) -> BTreeMap<String, Diff<M>> {
    let mut out: BTreeMap<String, Diff<M>> = BTreeMap::new();
    for (tag, e) in &changes.joins {
        out.entry(e.topic.clone())
            .or_insert_with(|| empty_diff(&e.topic))
            .joins
            .entry(e.key.clone())
            .or_default()
            .push(meta_of(*tag, e));
    }
    for (tag, e) in &changes.leaves {
        out.entry(e.topic.clone())
            .or_insert_with(|| empty_diff(&e.topic))
            .leaves
            .entry(e.key.clone())
            .or_default()
            .push(meta_of(*tag, e));
    }
    out
}

fn empty_diff<M>(topic: &str) -> Diff<M> {
    Diff {
        topic: topic.to_owned(),
        joins: BTreeMap::new(),
        leaves: BTreeMap::new(),
    }
}

/// The tracker's state: the CRDT replica, and an index of what is tracked locally.
struct Tracked<M> {
    replica: Replica<M>,
    /// (pid, topic, key) to the tag of its entry.
    index: HashMap<(Pid, String, String), Tag, ahash::RandomState>,
    /// How many entries each local process has, to watch it while it has any (the
    /// [`OwnerWatcher`] protocol: watch at the first, unwatch at the last, under the lock).
    per_pid: HashMap<Pid, usize, ahash::RandomState>,
    /// The join of the local deltas not yet taken by [`Presence::take_delta`].
    outgoing: Store<M>,
}

impl<M: Clone> Tracked<M> {
    /// Adds an entry locally, keeping its delta for other replicas.
    fn add(&mut self, entry: Entry<M>) -> Tag {
        let (tag, delta) = self.replica.add(entry);
        self.outgoing.merge(&delta);
        tag
    }

    /// Removes an entry locally, keeping the delta for other replicas.
    fn remove(&mut self, tag: Tag) -> Option<Entry<M>> {
        let (entry, delta) = self.replica.remove(tag)?;
        self.outgoing.merge(&delta);
        Some(entry)
    }
}

struct Inner<M> {
    state: Arc<Mutex<Tracked<M>>>,
    diffs: PubSub<Diff<M>>,
    /// Monitors the tracked local processes, the registry's own watcher.
    watcher: OwnerWatcher,
}

impl<M> Drop for Inner<M> {
    fn drop(&mut self) {
        self.watcher.stop();
    }
}

/// Phoenix.Presence on one node (R-PR-1..3): track processes under keys on topics with
/// metadata, list them, and announce joins and leaves as [`Diff`]s to the topic's
/// subscribers. A tracked process that ends leaves. The state is a delta CRDT
/// ([`crate::crdt`]), so replicas on several nodes can later converge with
/// [`merge`](Self::merge).
///
/// Cheap to clone: every clone is the same tracker.
pub struct Presence<M> {
    inner: Arc<Inner<M>>,
}

impl<M> Clone for Presence<M> {
    fn clone(&self) -> Self {
        Presence {
            inner: self.inner.clone(),
        }
    }
}

impl<M> fmt::Debug for Presence<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Presence").finish_non_exhaustive()
    }
}

impl<M: Clone + Send + Sync + 'static> Presence<M> {
    /// Starts a tracker on `node` as replica `replica` (unique among the replicas that will
    /// merge with each other). Spawns a watcher process for tracked processes, and a PubSub
    /// hub for the diffs.
    pub fn start(node: &Node, replica: ReplicaId) -> Result<Presence<M>, SpawnError> {
        let state = Arc::new(Mutex::new(Tracked {
            replica: Replica::new(replica),
            index: HashMap::default(),
            per_pid: HashMap::default(),
            outgoing: Store::new(),
        }));
        let diffs = PubSub::start(node)?;
        let weak = Arc::downgrade(&state);
        let on_down_diffs = diffs.clone();
        let watcher =
            OwnerWatcher::spawn(node, move |pid| untrack_pid(&weak, &on_down_diffs, pid))?;
        Ok(Presence {
            inner: Arc::new(Inner {
                state,
                diffs,
                watcher,
            }),
        })
    }

    /// The tracker's own processes, its watcher's and its diff hub's (see `child.rs`).
    pub(crate) fn processes_inner(&self) -> Vec<Pid> {
        let mut pids = self.inner.diffs.processes();
        pids.push(self.inner.watcher.pid());
        pids
    }

    fn lock(&self) -> MutexGuard<'_, Tracked<M>> {
        lock(&self.inner.state)
    }

    /// Subscribes the calling process to `topic`'s diffs: it receives an `Arc<Diff<M>>` for
    /// every change (converted into its message type).
    pub fn subscribe<T>(&self, ctx: &Ctx<T>, topic: &str)
    where
        T: From<Arc<Diff<M>>> + Send + 'static,
    {
        self.inner.diffs.subscribe(ctx, topic);
    }

    /// Stops the calling process's subscriptions to `topic`'s diffs.
    pub fn unsubscribe<T: Send + 'static>(&self, ctx: &Ctx<T>, topic: &str) {
        self.inner.diffs.unsubscribe(ctx, topic);
    }

    /// Tracks `pid` under `key` on `topic` with `meta` (R-PR-2). Refused with
    /// [`TrackError::AlreadyTracked`] if that (pid, topic, key) is tracked already; the same key
    /// may be tracked by several processes. Subscribers get a join diff. Returns the
    /// presence's `phx_ref`.
    pub fn track(&self, pid: Pid, topic: &str, key: &str, meta: M) -> Result<Tag, TrackError> {
        let mut s = self.lock();
        let id = (pid, topic.to_owned(), key.to_owned());
        if s.index.contains_key(&id) {
            return Err(TrackError::AlreadyTracked {
                pid,
                topic: id.1,
                key: id.2,
            });
        }
        let entry = Entry {
            topic: topic.to_owned(),
            pid,
            key: key.to_owned(),
            meta,
            prev: None,
        };
        let tag = s.add(entry.clone());
        s.index.insert(id, tag);
        let n = s.per_pid.entry(pid).or_insert(0);
        *n += 1;
        if *n == 1 {
            self.inner.watcher.watch(pid);
        }
        let changes = Changes {
            joins: vec![(tag, entry)],
            leaves: Vec::new(),
        };
        // Under the tracker's lock, so that subscribers see diffs in the state's order.
        announce(&self.inner.diffs, &changes);
        Ok(tag)
    }

    /// Stops tracking `pid` under `key` on `topic`; subscribers get a leave diff. Returns
    /// whether it was tracked.
    pub fn untrack(&self, pid: Pid, topic: &str, key: &str) -> bool {
        let mut s = self.lock();
        let Some(tag) = s.index.remove(&(pid, topic.to_owned(), key.to_owned())) else {
            return false;
        };
        let removed = s.remove(tag);
        if release(&mut s, pid) {
            self.inner.watcher.unwatch(pid);
        }
        let Some(entry) = removed else {
            return false;
        };
        announce(
            &self.inner.diffs,
            &Changes {
                joins: Vec::new(),
                leaves: vec![(tag, entry)],
            },
        );
        true
    }

    /// Replaces the metadata of a tracked (pid, topic, key) (R-PR-2): a leave of the old
    /// presence and a join of a new one, whose `phx_ref_prev` is the old `phx_ref`, announced
    /// as one diff. Returns the new `phx_ref`.
    pub fn update(&self, pid: Pid, topic: &str, key: &str, meta: M) -> Result<Tag, UpdateError> {
        let mut s = self.lock();
        let id = (pid, topic.to_owned(), key.to_owned());
        let Some(old_tag) = s.index.get(&id).copied() else {
            return Err(UpdateError::NotTracked);
        };
        let Some(old) = s.remove(old_tag) else {
            return Err(UpdateError::NotTracked);
        };
        let entry = Entry {
            topic: topic.to_owned(),
            pid,
            key: key.to_owned(),
            meta,
            prev: Some(old_tag),
        };
        let tag = s.add(entry.clone());
        s.index.insert(id, tag);
        announce(
            &self.inner.diffs,
            &Changes {
                joins: vec![(tag, entry)],
                leaves: vec![(old_tag, old)],
            },
        );
        Ok(tag)
    }

    /// The presences on `topic`: each key with one meta per tracked (pid, key) (R-PR-3).
    pub fn list(&self, topic: &str) -> Presences<M> {
        let s = self.lock();
        let mut out: Presences<M> = BTreeMap::new();
        for (tag, e) in s.replica.store().entries() {
            if e.topic == topic {
                out.entry(e.key.clone()).or_default().push(meta_of(*tag, e));
            }
        }
        out
    }

    /// The local changes since the last call, as one delta (the join of the deltas of every
    /// local track, untrack, update and exit), to send to other replicas: merging it there
    /// has the same effect as merging this replica's whole state (R-PR-1).
    pub fn take_delta(&self) -> Store<M> {
        std::mem::take(&mut self.lock().outgoing)
    }

    /// A copy of the whole CRDT state, to send to another replica.
    pub fn state(&self) -> Store<M> {
        self.lock().replica.store().clone()
    }

    /// Merges another replica's state or delta (R-PR-1), and announces what joined and left.
    /// Remote presences are not watched here: their replica removes them.
    pub fn merge(&self, remote: &Store<M>) -> Changes<M> {
        let mut s = self.lock();
        let changes = s.replica.merge(remote);
        announce(&self.inner.diffs, &changes);
        changes
    }

    /// Waits until every tracked process that had ended when this was called has left (and
    /// its leaves are announced), which the tracker does on its own shortly after each end.
    pub async fn sync(&self) {
        self.inner.watcher.sync().await;
    }
}

fn lock<M>(state: &Mutex<Tracked<M>>) -> MutexGuard<'_, Tracked<M>> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One entry fewer for `pid`; whether it has none left.
fn release<M>(s: &mut Tracked<M>, pid: Pid) -> bool {
    match s.per_pid.get_mut(&pid) {
        Some(n) if *n > 1 => {
            *n -= 1;
            false
        }
        Some(_) => {
            s.per_pid.remove(&pid);
            true
        }
        None => false,
    }
}

fn announce<M: Clone + Send + Sync + 'static>(diffs: &PubSub<Diff<M>>, changes: &Changes<M>) {
    for (topic, diff) in diffs_of(changes) {
        diffs.broadcast(&topic, diff);
    }
}

/// Removes every presence of a process that ended (R-PR-2) and announces the leaves.
/// Returns `false` once the tracker is gone, which ends its watcher.
fn untrack_pid<M: Clone + Send + Sync + 'static>(
    state: &Weak<Mutex<Tracked<M>>>,
    diffs: &PubSub<Diff<M>>,
    pid: Pid,
) -> bool {
    let Some(state) = state.upgrade() else {
        return false;
    };
    let mut s = lock(&state);
    s.per_pid.remove(&pid);
    let ids: Vec<_> = s.index.keys().filter(|id| id.0 == pid).cloned().collect();
    let mut changes = Changes::default();
    for id in ids {
        if let Some(tag) = s.index.remove(&id) {
            if let Some(entry) = s.remove(tag) {
                changes.leaves.push((tag, entry));
            }
        }
    }
    announce(diffs, &changes);
    true
}
