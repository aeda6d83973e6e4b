//! Elixir-style `Registry` instances: keys to processes, with values, partitions, listeners
//! and automatic cleanup when an owner ends (R-REG-1..7).

use std::any::Any;
use std::borrow::Borrow;
use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};

use beamish_process::{Addr, Ctx, Exit, Node, Pid, SpawnError};
use beamish_telemetry::Value;
use beamish_telemetry::events::registry as events;

use crate::error::RegisterError;
pub use crate::table::Entry;
use crate::table::{KeyRule, Table};
use crate::watch::{OwnerWatcher, StopOnDrop};

/// How a registry treats keys (Elixir's `:keys` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Keys {
    /// A key maps to at most one process (`:unique`). Partitioned by key, so a key stays
    /// unique whatever the number of partitions (R-REG-6).
    Unique,
    /// Any number of entries per key, the same process included (`:duplicate`, which Elixir
    /// calls `{:duplicate, :pid}`): partitioned by pid, so registering never contends across
    /// processes; reading a key visits every partition.
    Duplicate,
    /// Duplicate keys kept in the partition of the key (`{:duplicate, :key}`): reading a key
    /// visits one partition, and `dispatch` runs once (R-REG-5).
    DuplicateByKey,
}

impl Keys {
    fn by_key(self) -> bool {
        !matches!(self, Keys::Duplicate)
    }

    /// What the partition tables enforce for a key.
    fn rule(self) -> KeyRule {
        match self {
            Keys::Unique => KeyRule::Unique,
            Keys::Duplicate | Keys::DuplicateByKey => KeyRule::Duplicate,
        }
    }

    /// As Elixir writes the option, for telemetry.
    fn as_str(self) -> &'static str {
        match self {
            Keys::Unique => "unique",
            Keys::Duplicate => "duplicate",
            Keys::DuplicateByKey => "duplicate_by_key",
        }
    }
}

/// What a registry tells its listeners (R-REG-7).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event<K, V> {
    /// `{:register, registry, key, pid, value}`: `pid` registered `key` with `value`.
    Register {
        /// The key.
        key: K,
        /// The process that registered it.
        pid: Pid,
        /// The entry's value.
        value: V,
    },
    /// `{:unregister, registry, key, pid}`: `pid` removed its entries under `key` with
    /// [`Registry::unregister`] or [`Registry::unregister_match`]. Not sent when entries go
    /// because their owner ended (as in Elixir).
    Unregister {
        /// The key.
        key: K,
        /// The process that unregistered it.
        pid: Pid,
    },
}

type Listener<K, V> = Arc<dyn Fn(&Event<K, V>) + Send + Sync>;

/// One shard: its table behind its own lock, and the watcher of its owners.
struct Partition<K, V> {
    table: Arc<RwLock<Table<K, V>>>,
    watcher: OwnerWatcher,
}

impl<K, V> Partition<K, V> {
    fn read(&self) -> RwLockReadGuard<'_, Table<K, V>> {
        self.table
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Table<K, V>> {
        self.table
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

struct Inner<K, V> {
    node: Node,
    keys: Keys,
    hasher: ahash::RandomState,
    parts: Box<[Partition<K, V>]>,
    listeners: Box<[Listener<K, V>]>,
    meta: RwLock<HashMap<Arc<str>, Arc<dyn Any + Send + Sync>, ahash::RandomState>>,
    _watchers: StopOnDrop,
}

/// A registry: a local, partitioned key-to-process store, as Elixir's `Registry`.
///
/// Each entry is a key, the process that registered it (its *owner*) and a value. With
/// [`Keys::Unique`] a key has at most one owner; with [`Keys::Duplicate`] any number of
/// entries share a key, the same process included (R-REG-1). A process registers itself
/// ([`register`](Self::register) takes its [`Ctx`]) and removes its own entries; when it ends,
/// its entries are removed by the registry (R-REG-2: asynchronously, so a lookup may briefly
/// return a pid that has just ended; a unique key whose owner has ended can be taken at once).
///
/// The entries live in N partitions, each behind its own `RwLock` (by default one per worker
/// thread of the runtime). Lookups take one read lock, registration one write lock; there is
/// no lock over the whole registry. Each partition has a small watcher process that monitors
/// the owners of its entries.
///
/// Cheap to clone: every clone is the same registry. Dropping the last clone stops the
/// watchers.
pub struct Registry<K, V> {
    inner: Arc<Inner<K, V>>,
}

impl<K, V> Clone for Registry<K, V> {
    fn clone(&self) -> Self {
        Registry {
            inner: self.inner.clone(),
        }
    }
}

impl<K, V> fmt::Debug for Registry<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("keys", &self.inner.keys)
            .field("partitions", &self.inner.parts.len())
            .finish()
    }
}

/// Options for a new [`Registry`]: `Registry::builder(Keys::Unique).partitions(4).start(&node)`.
pub struct Builder<K, V> {
    keys: Keys,
    partitions: Option<usize>,
    listeners: Vec<Listener<K, V>>,
}

impl<K, V> fmt::Debug for Builder<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("keys", &self.keys)
            .field("partitions", &self.partitions)
            .field("listeners", &self.listeners.len())
            .finish()
    }
}

impl<K, V> Builder<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// The number of partitions (at least 1). By default, the number of worker threads of the
    /// current tokio runtime (Elixir defaults to 1; sharding is the point here).
    pub fn partitions(mut self, n: usize) -> Self {
        self.partitions = Some(n.max(1));
        self
    }

    /// Adds a listener process: it receives an [`Event`] (converted into its message type)
    /// for every registration and explicit unregistration (R-REG-7).
    pub fn listener<M>(self, addr: Addr<M>) -> Self
    where
        M: From<Event<K, V>> + Send + 'static,
    {
        self.listener_fn(move |e: &Event<K, V>| {
            let _ = addr.send(M::from(e.clone()));
        })
    }

    /// Adds a listener function, called in the registering process after each registration
    /// and explicit unregistration (R-REG-7). It must not block.
    pub fn listener_fn(mut self, f: impl Fn(&Event<K, V>) + Send + Sync + 'static) -> Self {
        self.listeners.push(Arc::new(f));
        self
    }

    /// Starts the registry on `node`: spawns one watcher process per partition.
    pub fn start(self, node: &Node) -> Result<Registry<K, V>, SpawnError> {
        let n = self.partitions.unwrap_or_else(|| {
            tokio::runtime::Handle::try_current()
                .map(|h| h.metrics().num_workers())
                .unwrap_or(1)
                .max(1)
        });
        let mut parts = Vec::with_capacity(n);
        let mut watchers = Vec::with_capacity(n);
        for _ in 0..n {
            let table = Arc::new(RwLock::new(Table::new(self.keys.rule())));
            let weak: Weak<RwLock<Table<K, V>>> = Arc::downgrade(&table);
            let watcher = OwnerWatcher::spawn(node, move |pid| match weak.upgrade() {
                Some(t) => {
                    t.write()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .remove_owner(pid);
                    true
                }
                None => false,
            });
            let watcher = match watcher {
                Ok(w) => w,
                Err(e) => {
                    drop(StopOnDrop(watchers));
                    return Err(e);
                }
            };
            watchers.push(watcher.clone());
            parts.push(Partition { table, watcher });
        }
        Ok(Registry {
            inner: Arc::new(Inner {
                node: node.clone(),
                keys: self.keys,
                hasher: ahash::RandomState::new(),
                parts: parts.into_boxed_slice(),
                listeners: self.listeners.into_boxed_slice(),
                meta: RwLock::new(HashMap::default()),
                _watchers: StopOnDrop(watchers),
            }),
        })
    }
}

impl<K, V> Registry<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// Options for a new registry with the given key kind.
    pub fn builder(keys: Keys) -> Builder<K, V> {
        Builder {
            keys,
            partitions: None,
            listeners: Vec::new(),
        }
    }

    /// A registry with default options (one partition per worker thread, no listeners).
    pub fn start(node: &Node, keys: Keys) -> Result<Registry<K, V>, SpawnError> {
        Self::builder(keys).start(node)
    }

    /// How this registry treats keys.
    pub fn keys_kind(&self) -> Keys {
        self.inner.keys
    }

    /// The number of partitions.
    pub fn partitions(&self) -> usize {
        self.inner.parts.len()
    }

    /// The node the registry serves.
    pub fn node(&self) -> &Node {
        &self.inner.node
    }

    /// The partitions' watcher processes (see `child.rs`).
    pub(crate) fn watcher_pids(&self) -> Vec<Pid> {
        self.inner.parts.iter().map(|p| p.watcher.pid()).collect()
    }

    fn part_of_key<Q>(&self, key: &Q) -> &Partition<K, V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let i = self.inner.hasher.hash_one(key) as usize % self.inner.parts.len();
        &self.inner.parts[i]
    }

    fn part_of_pid(&self, pid: Pid) -> &Partition<K, V> {
        let i = self.inner.hasher.hash_one(pid) as usize % self.inner.parts.len();
        &self.inner.parts[i]
    }

    /// The partition that holds `pid`'s entries under `key`.
    fn part_for<Q>(&self, key: &Q, pid: Pid) -> &Partition<K, V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if self.inner.keys.by_key() {
            self.part_of_key(key)
        } else {
            self.part_of_pid(pid)
        }
    }

    /// The partitions that may hold entries under `key`.
    fn parts_for_key<Q>(&self, key: &Q) -> &[Partition<K, V>]
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if self.inner.keys.by_key() {
            std::slice::from_ref(self.part_of_key(key))
        } else {
            &self.inner.parts
        }
    }

    fn notify(&self, event: impl FnOnce() -> Event<K, V>) {
        if self.inner.listeners.is_empty() {
            return;
        }
        let event = event();
        for l in &*self.inner.listeners {
            l(&event);
        }
    }

    // ---- registering -------------------------------------------------------------------

    /// Registers the calling process under `key` with `value` (R-REG-1). On a unique registry,
    /// fails with [`RegisterError::AlreadyRegistered`] if a live process holds the key, the
    /// caller included. On a duplicate registry it always succeeds, and a process may register
    /// the same key several times. Listeners hear of it (R-REG-7). The entry goes when the
    /// process ends (R-REG-2).
    pub fn register<M: Send + 'static>(
        &self,
        ctx: &Ctx<M>,
        key: K,
        value: V,
    ) -> Result<(), RegisterError> {
        self.insert(ctx.pid(), key, value)
    }

    /// Registers `pid` (which the caller has checked is a live local process).
    pub(crate) fn insert(&self, pid: Pid, key: K, value: V) -> Result<(), RegisterError> {
        let event = (!self.inner.listeners.is_empty()).then(|| Event::Register {
            key: key.clone(),
            pid,
            value: value.clone(),
        });
        let part = self.part_for(&key, pid);
        let size = {
            let mut t = part.write();
            let node = &self.inner.node;
            let inserted = t
                .insert(key, pid, value, |owner| node.is_alive(owner))
                .map_err(RegisterError::AlreadyRegistered)?;
            // Pushed under the lock, so the watcher sees watch/unwatch in table order.
            if let Some(dead) = inserted.released {
                part.watcher.unwatch(dead);
            }
            if inserted.new_owner {
                part.watcher.watch(pid);
            }
            t.len()
        };
        if let Some(e) = event {
            self.notify(|| e);
        }
        // After the lock is released: a handler may use the registry.
        self.inner.node.telemetry().emit(
            &events::REGISTERED,
            &[
                ("partition_size", size.into()),
                ("partitions", self.inner.parts.len().into()),
            ],
            &[
                ("pid", pid.into()),
                ("keys", Value::Str(self.inner.keys.as_str())),
            ],
        );
        Ok(())
    }

    /// Removes every entry the calling process holds under `key`, duplicates included
    /// (R-REG-3). Listeners hear of it if there was any.
    pub fn unregister<M: Send + 'static>(&self, ctx: &Ctx<M>, key: &K) {
        self.unregister_match(ctx, key, |_| true);
    }

    /// Removes the calling process's entries under `key` whose value satisfies `pred`
    /// (R-REG-3). Returns how many went.
    pub fn unregister_match<M: Send + 'static>(
        &self,
        ctx: &Ctx<M>,
        key: &K,
        pred: impl FnMut(&V) -> bool,
    ) -> usize {
        let pid = ctx.pid();
        let part = self.part_for(key, pid);
        let (removed, size) = {
            let mut t = part.write();
            let removed = t.remove(pid, key, pred);
            if removed.owner_gone {
                part.watcher.unwatch(pid);
            }
            (removed.count, t.len())
        };
        if removed > 0 {
            self.notify(|| Event::Unregister {
                key: key.clone(),
                pid,
            });
            self.inner.node.telemetry().emit(
                &events::UNREGISTERED,
                &[
                    ("removed", removed.into()),
                    ("partition_size", size.into()),
                    ("partitions", self.inner.parts.len().into()),
                ],
                &[
                    ("pid", pid.into()),
                    ("keys", Value::Str(self.inner.keys.as_str())),
                ],
            );
        }
        removed
    }

    // ---- reading -----------------------------------------------------------------------

    /// Every entry under `key`, as `(pid, value)`, in no particular order. On a unique
    /// registry, at most one. An owner that has just ended may still show (R-REG-2).
    pub fn lookup<Q>(&self, key: &Q) -> Vec<(Pid, V)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.match_values(key, |_| true)
    }

    /// The owner of a key, if any: the one owner on a unique registry, one of them otherwise.
    pub fn whereis<Q>(&self, key: &Q) -> Option<Pid>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.parts_for_key(key)
            .iter()
            .find_map(|p| p.read().first_owner(key))
    }

    /// The entries under `key` whose value satisfies `pred` (Elixir's `match`).
    pub fn match_values<Q>(&self, key: &Q, mut pred: impl FnMut(&V) -> bool) -> Vec<(Pid, V)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut out = Vec::new();
        for p in self.parts_for_key(key) {
            if let Some(entries) = p.read().get(key) {
                out.extend(
                    entries
                        .iter()
                        .filter(|e| pred(e.value()))
                        .map(|e| (e.pid(), e.value().clone())),
                );
            }
        }
        out
    }

    /// The number of entries in the registry.
    pub fn count(&self) -> usize {
        self.inner.parts.iter().map(|p| p.read().len()).sum()
    }

    /// The number of entries under `key`.
    pub fn count_key<Q>(&self, key: &Q) -> usize
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.parts_for_key(key)
            .iter()
            .map(|p| p.read().get(key).map_or(0, |e| e.len()))
            .sum()
    }

    /// The number of entries under `key` whose value satisfies `pred`.
    pub fn count_match<Q>(&self, key: &Q, mut pred: impl FnMut(&V) -> bool) -> usize
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.parts_for_key(key)
            .iter()
            .map(|p| {
                p.read()
                    .get(key)
                    .map_or(0, |e| e.iter().filter(|e| pred(e.value())).count())
            })
            .sum()
    }

    /// The keys `pid` holds, once per entry (a key registered twice shows twice).
    pub fn keys(&self, pid: Pid) -> Vec<K> {
        let parts = if self.inner.keys.by_key() {
            &self.inner.parts[..]
        } else {
            std::slice::from_ref(self.part_of_pid(pid))
        };
        let mut out = Vec::new();
        for p in parts {
            for (k, n) in p.read().keys_of(pid) {
                out.extend(std::iter::repeat_n(k, n).cloned());
            }
        }
        out
    }

    /// The values `pid` holds under `key`.
    pub fn values<Q>(&self, key: &Q, pid: Pid) -> Vec<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let t = self.part_for(key, pid).read();
        t.get(key).map_or_else(Vec::new, |entries| {
            entries
                .iter()
                .filter(|e| e.pid() == pid)
                .map(|e| e.value().clone())
                .collect()
        })
    }

    /// Runs `f` with the entries under `key`, once for each partition that holds some
    /// (R-REG-5), one after another in the calling process; never for a key with no entries.
    /// `f` runs without any registry lock held (it reads a shared snapshot of the key's
    /// entries, copied only if someone changes them meanwhile), so it may send, register or
    /// unregister freely. Returns how many times `f` ran.
    pub fn dispatch<Q>(&self, key: &Q, mut f: impl FnMut(&[Entry<V>])) -> usize
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut calls = 0;
        for p in self.parts_for_key(key) {
            let snapshot = p.read().get(key).cloned();
            if let Some(entries) = snapshot.filter(|e| !e.is_empty()) {
                f(&entries);
                calls += 1;
            }
        }
        calls
    }

    /// Like [`dispatch`](Self::dispatch), but each partition's call runs in its own task, the
    /// partitions concurrently (R-REG-5, `parallel: true`); waits for all of them. A call that
    /// panics makes this return its reason ([`Exit::Panic`]), as a linked task's crash would
    /// reach the caller. Returns how many times `f` ran.
    pub async fn dispatch_parallel<Q, F>(&self, key: &Q, f: F) -> Result<usize, Exit>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        F: Fn(&[Entry<V>]) + Send + Sync + 'static,
        V: Send + Sync + 'static,
    {
        let f = Arc::new(f);
        let mut tasks = Vec::new();
        for p in self.parts_for_key(key) {
            let snapshot = p.read().get(key).cloned();
            if let Some(entries) = snapshot.filter(|e| !e.is_empty()) {
                let f = f.clone();
                tasks.push(tokio::spawn(async move { f(&entries) }));
            }
        }
        let calls = tasks.len();
        let mut failed = None;
        for t in tasks {
            if let Err(e) = t.await {
                let reason = match e.try_into_panic() {
                    Ok(payload) => match payload.downcast::<String>() {
                        Ok(s) => Exit::Panic((*s).into()),
                        Err(p) => match p.downcast::<&'static str>() {
                            Ok(s) => Exit::Panic((*s).into()),
                            Err(_) => Exit::Panic("a dispatch call panicked".into()),
                        },
                    },
                    Err(_) => Exit::Killed,
                };
                failed.get_or_insert(reason);
            }
        }
        match failed {
            Some(reason) => Err(reason),
            None => Ok(calls),
        }
    }

    /// Waits until the entries of every owner that had ended when this was called are
    /// removed. The watchers remove them on their own shortly after each end (R-REG-2); this
    /// only waits for that, for tests and for code that must not see a dead owner.
    pub async fn sync(&self) {
        for p in &*self.inner.parts {
            p.watcher.sync().await;
        }
    }

    // ---- metadata ----------------------------------------------------------------------

    /// Stores a metadata value under `name` (Elixir's `put_meta`), replacing any previous one.
    pub fn put_meta<T: Any + Send + Sync>(&self, name: &str, value: T) {
        self.inner
            .meta
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(Arc::from(name), Arc::new(value));
    }

    /// The metadata value under `name`, if there is one of type `T` (Elixir's `meta`).
    pub fn meta<T: Any + Send + Sync + Clone>(&self, name: &str) -> Option<T> {
        let meta = self
            .inner
            .meta
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        meta.get(name)?.downcast_ref::<T>().cloned()
    }

    /// Removes the metadata under `name`; returns whether there was any.
    pub fn delete_meta(&self, name: &str) -> bool {
        self.inner
            .meta
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(name)
            .is_some()
    }
}
