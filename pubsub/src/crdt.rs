//! Presence state as a delta CRDT: an add-wins observed-remove set (R-PR-1).
//!
//! Every added entry carries a unique [`Tag`] (the replica that added it and that replica's
//! clock at the time, a "dot"). A [`Store`] holds the live entries by tag and a causal
//! [`Context`]: every tag the store has seen, live or since removed. Merging two stores keeps
//! an entry if both have it, or if one has it and the other has never seen its tag; an entry
//! one side has seen and removed goes. So a removal only removes what it observed, and a
//! concurrent add wins.
//!
//! Deltas are stores too: [`Replica::add`] and [`Replica::remove`] return the small store that
//! describes the change, and merging the deltas of a replica into another store gives the same
//! result as merging that replica's full store. `merge` is commutative, associative and
//! idempotent (property tests in `tests/presence_crdt.rs`).
//!
//! The context is kept compact: per replica, the highest clock below which every tag has been
//! seen, plus the few tags seen out of order. Two stores that have seen the same tags and hold
//! the same entries are equal (`==`), however they got there.

use std::collections::{BTreeMap, BTreeSet};

use beamish_process::Pid;

/// Identifies a replica (in practice, one presence tracker on one node).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReplicaId(pub u64);

/// A unique tag for one added entry: which replica added it, and that replica's clock. Also
/// serves as the entry's `phx_ref`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag {
    /// The replica that added the entry.
    pub replica: ReplicaId,
    /// That replica's clock when it added the entry (from 1).
    pub clock: u64,
}

/// One tracked presence: a process, on a topic, under a key, with metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<M> {
    /// The topic.
    pub topic: String,
    /// The tracked process.
    pub pid: Pid,
    /// The key (a user id, for example).
    pub key: String,
    /// The metadata.
    pub meta: M,
    /// The tag of the entry this one replaced by an update (`phx_ref_prev`), if any.
    pub prev: Option<Tag>,
}

/// The causal context: every tag a store has seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// Per replica, every clock from 1 up to this one has been seen.
    contiguous: BTreeMap<ReplicaId, u64>,
    /// Tags seen above their replica's contiguous clock.
    cloud: BTreeSet<Tag>,
}

impl Context {
    /// Whether `tag` has been seen.
    pub fn contains(&self, tag: &Tag) -> bool {
        self.contiguous
            .get(&tag.replica)
            .is_some_and(|c| tag.clock <= *c)
            || self.cloud.contains(tag)
    }

    fn insert(&mut self, tag: Tag) {
        if !self.contains(&tag) {
            self.cloud.insert(tag);
            self.compact();
        }
    }

    fn union(&mut self, other: &Context) {
        for (r, c) in &other.contiguous {
            let mine = self.contiguous.entry(*r).or_insert(0);
            *mine = (*mine).max(*c);
        }
        self.cloud.extend(other.cloud.iter().copied());
        self.compact();
    }

    /// Moves cloud tags that extend a contiguous range into it, and drops those below it, so
    /// that equal sets of tags have one representation.
    fn compact(&mut self) {
        let cloud = std::mem::take(&mut self.cloud);
        for tag in cloud {
            let c = self.contiguous.get(&tag.replica).copied().unwrap_or(0);
            if tag.clock == c + 1 {
                self.contiguous.insert(tag.replica, tag.clock);
            } else if tag.clock > c {
                self.cloud.insert(tag);
            }
        }
    }
}

/// A presence state, or a delta of one: live entries by tag, and the tags seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store<M> {
    entries: BTreeMap<Tag, Entry<M>>,
    context: Context,
}

impl<M> Default for Store<M> {
    fn default() -> Self {
        Store {
            entries: BTreeMap::new(),
            context: Context::default(),
        }
    }
}

/// What a merge changed in the store merged into: entries that appeared and entries that
/// went (R-PR-1's `{state, joins, leaves}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes<M> {
    /// Entries that appeared, with their tags.
    pub joins: Vec<(Tag, Entry<M>)>,
    /// Entries that went, with their tags.
    pub leaves: Vec<(Tag, Entry<M>)>,
}

impl<M> Default for Changes<M> {
    fn default() -> Self {
        Changes {
            joins: Vec::new(),
            leaves: Vec::new(),
        }
    }
}

impl<M: Clone> Store<M> {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The live entries, by tag.
    pub fn entries(&self) -> impl Iterator<Item = (&Tag, &Entry<M>)> {
        self.entries.iter()
    }

    /// The number of live entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is no live entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The tags this store has seen.
    pub fn context(&self) -> &Context {
        &self.context
    }

    /// Merges `other` into this store (the join of the two states; `other` may be a delta).
    /// Commutative, associative and idempotent. Returns the entries that appeared and went.
    pub fn merge(&mut self, other: &Store<M>) -> Changes<M> {
        let mut changes = Changes::default();
        // Ours that the other side has seen and no longer holds: removed there.
        let gone: Vec<Tag> = self
            .entries
            .keys()
            .filter(|t| !other.entries.contains_key(t) && other.context.contains(t))
            .copied()
            .collect();
        for t in gone {
            if let Some(e) = self.entries.remove(&t) {
                changes.leaves.push((t, e));
            }
        }
        // Theirs that we have never seen: added there.
        for (t, e) in &other.entries {
            if !self.entries.contains_key(t) && !self.context.contains(t) {
                self.entries.insert(*t, e.clone());
                changes.joins.push((*t, e.clone()));
            }
        }
        self.context.union(&other.context);
        changes
    }

    /// The merge of two stores, as a new store.
    pub fn join(&self, other: &Store<M>) -> Store<M> {
        let mut s = self.clone();
        s.merge(other);
        s
    }
}

/// One replica's presence state: its id, its clock, and its store.
#[derive(Debug, Clone)]
pub struct Replica<M> {
    id: ReplicaId,
    clock: u64,
    store: Store<M>,
}

impl<M: Clone> Replica<M> {
    /// A new replica with an empty store.
    pub fn new(id: ReplicaId) -> Self {
        Replica {
            id,
            clock: 0,
            store: Store::new(),
        }
    }

    /// The replica's id.
    pub fn id(&self) -> ReplicaId {
        self.id
    }

    /// The replica's store.
    pub fn store(&self) -> &Store<M> {
        &self.store
    }

    /// Adds an entry under a fresh tag; returns the tag and the delta to send to other
    /// replicas.
    pub fn add(&mut self, entry: Entry<M>) -> (Tag, Store<M>) {
        self.clock += 1;
        let tag = Tag {
            replica: self.id,
            clock: self.clock,
        };
        let mut delta = Store::new();
        delta.entries.insert(tag, entry);
        delta.context.insert(tag);
        self.store.merge(&delta);
        (tag, delta)
    }

    /// Removes the entry with `tag`, if this replica holds it; returns it and the delta
    /// (an empty store whose context has seen the tag).
    pub fn remove(&mut self, tag: Tag) -> Option<(Entry<M>, Store<M>)> {
        let entry = self.store.entries.get(&tag)?.clone();
        let mut delta = Store::new();
        delta.context.insert(tag);
        self.store.merge(&delta);
        Some((entry, delta))
    }

    /// Merges another replica's store or delta into this one.
    pub fn merge(&mut self, other: &Store<M>) -> Changes<M> {
        self.store.merge(other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str) -> Entry<u32> {
        Entry {
            topic: "t".into(),
            pid: Pid::from_parts(beamish_process::NodeId::LOCAL, 1, 0),
            key: key.into(),
            meta: 0,
            prev: None,
        }
    }

    #[test]
    fn context_is_compacted_to_one_representation() {
        let r = ReplicaId(1);
        let mut a = Context::default();
        let mut b = Context::default();
        for c in [3, 1, 2] {
            a.insert(Tag {
                replica: r,
                clock: c,
            });
        }
        for c in [1, 2, 3] {
            b.insert(Tag {
                replica: r,
                clock: c,
            });
        }
        assert_eq!(a, b);
        assert!(a.cloud.is_empty());
    }

    #[test]
    fn concurrent_add_wins_over_a_remove_that_did_not_see_it() {
        let mut a = Replica::new(ReplicaId(1));
        let mut b = Replica::new(ReplicaId(2));
        let (t1, d1) = a.add(entry("x"));
        b.merge(&d1);
        // b removes what it saw; a concurrently adds the same key again.
        let (_, rm) = b.remove(t1).unwrap();
        let (t2, d2) = a.add(entry("x"));
        a.merge(&rm);
        b.merge(&d2);
        assert_eq!(a.store(), b.store());
        let tags: Vec<Tag> = a.store().entries().map(|(t, _)| *t).collect();
        assert_eq!(tags, vec![t2]);
    }
}
