//! The pure table of one registry partition: keys to their entries, and each owner's keys.
//!
//! No locks, no processes, no clocks: [`Registry`](crate::Registry) keeps one `Table` per
//! partition behind that partition's `RwLock`, asks it what to do, and acts on the answer
//! (watching a new owner, unwatching one that holds nothing any more). Whether an owner is
//! alive is the caller's to say, so the unique-key rule (R-REG-1, with a dead owner's key
//! free at once, R-REG-2) is decided here from a plain predicate.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use beamish_process::Pid;

/// One registration: the process that registered (its owner) and the value it gave, as
/// [`Registry::dispatch`](crate::Registry::dispatch) hands them out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<V> {
    pid: Pid,
    value: V,
}

impl<V> Entry<V> {
    /// The process that registered the entry.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// The entry's value.
    pub fn value(&self) -> &V {
        &self.value
    }
}

/// A key's entries. Shared copy-on-write: `dispatch` takes a clone of the `Arc` under the
/// read lock and reads the entries after releasing it, so a broadcast to many subscribers
/// copies nothing and touches no per-entry counter; a registration that changes the key while
/// such a reader holds it copies the vector once.
pub(crate) type Entries<V> = Arc<Vec<Entry<V>>>;

/// An owner's keys, with the number of its entries under each.
type KeyCounts<K> = HashMap<K, usize, ahash::RandomState>;

/// Whether a key holds at most one entry or any number (the table's half of [`Keys`]).
///
/// [`Keys`]: crate::Keys
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyRule {
    /// At most one entry under a key, held by one live owner.
    Unique,
    /// Any number of entries under a key, the same owner's included.
    Duplicate,
}

/// What an accepted [`Table::insert`] changed in the set of owners.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Inserted {
    /// The new entry's owner held nothing here before: start watching it.
    pub(crate) new_owner: bool,
    /// A dead owner whose unique key was taken over and who now holds nothing here: stop
    /// watching it.
    pub(crate) released: Option<Pid>,
}

/// What a [`Table::remove`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Removed {
    /// How many entries went.
    pub(crate) count: usize,
    /// The owner held some entries here and now holds none: stop watching it.
    pub(crate) owner_gone: bool,
}

/// The entries of one partition, and which keys each owner holds there.
#[derive(Debug)]
pub(crate) struct Table<K, V> {
    rule: KeyRule,
    keys: HashMap<K, Entries<V>, ahash::RandomState>,
    /// The keys each owner holds, with how many entries under each (a map, so that removing
    /// one of a process's many keys costs O(1), not a scan). An owner with no entries left is
    /// not in it.
    owners: HashMap<Pid, KeyCounts<K>, ahash::RandomState>,
    len: usize,
}

impl<K: Eq + Hash + Clone, V: Clone> Table<K, V> {
    /// An empty table that applies `rule` to its keys.
    pub(crate) fn new(rule: KeyRule) -> Self {
        Table {
            rule,
            keys: HashMap::default(),
            owners: HashMap::default(),
            len: 0,
        }
    }

    /// The number of entries.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The entries under `key`, if any (never an empty vector).
    pub(crate) fn get<Q>(&self, key: &Q) -> Option<&Entries<V>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.keys.get(key)
    }

    /// The owner of the first entry under `key`: the one owner under a unique key.
    pub(crate) fn first_owner<Q>(&self, key: &Q) -> Option<Pid>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.keys.get(key).and_then(|e| e.first()).map(|e| e.pid)
    }

    /// The keys `pid` holds, with the number of its entries under each.
    pub(crate) fn keys_of(&self, pid: Pid) -> impl Iterator<Item = (&K, usize)> {
        self.owners
            .get(&pid)
            .into_iter()
            .flat_map(|keys| keys.iter().map(|(k, n)| (k, *n)))
    }

    /// Adds an entry of `pid` under `key`. Under a unique key held by another owner that
    /// `is_alive` says is alive, or by `pid` itself, refuses with that owner (R-REG-1); a dead
    /// owner's entry is replaced (R-REG-2: its cleanup is on its way, and the key is free).
    pub(crate) fn insert(
        &mut self,
        key: K,
        pid: Pid,
        value: V,
        is_alive: impl FnOnce(Pid) -> bool,
    ) -> Result<Inserted, Pid> {
        let mut released = None;
        if self.rule == KeyRule::Unique {
            if let Some(owner) = self.first_owner(&key) {
                if owner == pid || is_alive(owner) {
                    return Err(owner);
                }
                if self.remove(owner, &key, |_| true).owner_gone {
                    released = Some(owner);
                }
            }
        }
        let mut new_owner = false;
        self.owners
            .entry(pid)
            .or_insert_with(|| {
                new_owner = true;
                KeyCounts::default()
            })
            .entry(key.clone())
            .and_modify(|n| *n += 1)
            .or_insert(1);
        Arc::make_mut(self.keys.entry(key).or_default()).push(Entry { pid, value });
        self.len += 1;
        Ok(Inserted {
            new_owner,
            released,
        })
    }

    /// Removes `pid`'s entries under `key` whose value satisfies `pred`.
    pub(crate) fn remove(
        &mut self,
        pid: Pid,
        key: &K,
        mut pred: impl FnMut(&V) -> bool,
    ) -> Removed {
        let none = Removed {
            count: 0,
            owner_gone: false,
        };
        let Some(entries) = self.keys.get_mut(key) else {
            return none;
        };
        // Checked before `make_mut`, so that a miss never copies a shared vector (and without
        // `pred`, which runs once per entry of `pid`).
        if !entries.iter().any(|e| e.pid == pid) {
            return none;
        }
        let entries = Arc::make_mut(entries);
        let before = entries.len();
        entries.retain(|e| !(e.pid == pid && pred(&e.value)));
        let count = before - entries.len();
        if entries.is_empty() {
            self.keys.remove(key);
        }
        if count == 0 {
            return none;
        }
        self.len -= count;
        let mut owner_gone = false;
        if let Some(keys) = self.owners.get_mut(&pid) {
            if let Some(n) = keys.get_mut(key) {
                *n = n.saturating_sub(count);
                if *n == 0 {
                    keys.remove(key);
                }
            }
            if keys.is_empty() {
                self.owners.remove(&pid);
                owner_gone = true;
            }
        }
        Removed { count, owner_gone }
    }

    /// Removes every entry of `pid` (an owner that ended); returns how many went.
    pub(crate) fn remove_owner(&mut self, pid: Pid) -> usize {
        let Some(keys) = self.owners.remove(&pid) else {
            return 0;
        };
        let mut count = 0;
        for key in keys.into_keys() {
            if let Some(entries) = self.keys.get_mut(&key) {
                let entries = Arc::make_mut(entries);
                let before = entries.len();
                entries.retain(|e| e.pid != pid);
                count += before - entries.len();
                if entries.is_empty() {
                    self.keys.remove(&key);
                }
            }
        }
        self.len -= count;
        count
    }
}

#[cfg(test)]
mod tests;
