//! A registry in a supervision tree: the registry as a child, and via-named servers as
//! children that re-register under their key at every restart.
//!
//! # Where this differs from Elixir
//!
//! In Elixir a `Registry` is a supervisor of partition processes that own its ETS tables: a
//! registry restarted by its supervisor starts empty. Here the tables belong to the
//! [`Registry`] handle (every clone shares them) and its processes are the partitions'
//! watchers, started by [`Registry::start`]. So the handle is made first, and shared by the
//! children that need it, and [`Registry::child_spec`] puts the registry's processes in the
//! tree: the child fails when a watcher ends, and is refused a restart while one is gone,
//! so the tree escalates (R-SUP-RETRY, R-SUP-INT). Stopping or restarting the child keeps the
//! entries; they go when their owners end (R-REG-2).

use std::hash::Hash;
use std::sync::Arc;

use beamish_process::{GenServer, Pid, ServerRef, StartError};
use beamish_supervisor::{ChildSpec, Linker, Started};

use crate::registry::Registry;

impl<K, V> Registry<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// The registry's own processes: one watcher per partition, which removes the entries of
    /// owners that end.
    pub fn processes(&self) -> Vec<Pid> {
        self.watcher_pids()
    }

    /// This registry as a child of a supervisor (Elixir's `{Registry, keys: ..., name: ...}`
    /// in a children list): a [`ChildSpec::stand_in`] for its watcher processes, which keeps
    /// a clone of the handle (so the registry lives as long as the tree's spec).
    ///
    /// Where this differs from Elixir: there a registry is a supervisor of partition
    /// processes that own its ETS tables, so a restarted registry starts empty. Here the
    /// tables belong to the handle (every clone shares them), so the handle is made first and
    /// shared by the children that use it. The child fails when a watcher ends, and is
    /// refused a restart while one is gone, so the tree escalates (R-SUP-RETRY, R-SUP-INT);
    /// stopping or restarting the child keeps the entries, which go when their owners end
    /// (R-REG-2).
    ///
    /// ```
    /// use beamish_process::Node;
    /// use beamish_registry::{Keys, Registry};
    /// use beamish_supervisor::{Strategy, Supervisor};
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let node = Node::start_default()?;
    /// let names: Registry<String, ()> = Registry::start(&node, Keys::Unique)?;
    /// let sup = Supervisor::new(Strategy::RestForOne)
    ///     .child(names.child_spec("registry"))
    ///     .start(&node)
    ///     .await?;
    /// assert_eq!(sup.count_children().await?.active, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn child_spec(&self, id: impl Into<Arc<str>>) -> ChildSpec {
        let registry = self.clone();
        ChildSpec::stand_in(id, move || registry.processes())
    }

    /// Starts `server` linked to the supervisor that runs this start function, and registers
    /// it under `key` with `value`: [`start_link_via`](Self::start_link_via) for a start
    /// function, which has a [`Linker`], not a `Ctx`. A key held by a live process fails with
    /// [`StartError::AlreadyStarted`] (R-REG-4); the key of the process this one replaces is
    /// free as soon as that process has ended (R-REG-2).
    ///
    /// # Panics
    /// On a duplicate registry.
    pub async fn start_supervised_via<S: GenServer>(
        &self,
        linker: &Linker,
        key: K,
        value: V,
        server: S,
    ) -> Result<ServerRef<S>, StartError> {
        self.assert_unique();
        self.check_free(&key)?;
        let server = linker.start_link(server).await?;
        self.claim(server, key, value).await
    }

    /// A child that is a [`GenServer`] named by `key` in this registry (Elixir's child with
    /// `name: {:via, Registry, {registry, key, value}}`): at every (re)start `make` builds
    /// the server, which is started linked to the supervisor and registered under `key`, so
    /// after a restart the key reaches the new process ([`call`](Self::call),
    /// [`server`](Self::server)). A key held by another live process is a start error
    /// (`already_started`).
    ///
    /// ```
    /// use beamish_process::{Caller, Exit, GenServer, Node, Reply, ServerCtx};
    /// use beamish_registry::{Keys, Registry};
    /// use beamish_supervisor::{Strategy, Supervisor};
    ///
    /// struct Counter(u32);
    /// impl GenServer for Counter {
    ///     type Call = ();
    ///     type Reply = u32;
    ///     type Cast = ();
    ///     type Info = ();
    ///     async fn handle_call(&mut self, _: (), _: Caller<'_, u32>, _: &mut ServerCtx<Self>)
    ///         -> Result<Reply<u32>, Exit> {
    ///         self.0 += 1;
    ///         Ok(Reply::Now(self.0))
    ///     }
    /// }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let node = Node::start_default()?;
    /// let names: Registry<&'static str, ()> = Registry::start(&node, Keys::Unique)?;
    /// let sup = Supervisor::new(Strategy::OneForOne)
    ///     .child(names.via_spec("counter", "counter", (), || Counter(0)))
    ///     .start(&node)
    ///     .await?;
    /// assert_eq!(names.call::<Counter>(&"counter", ()).await?, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Panics
    /// At start, on a duplicate registry (R-REG-4).
    pub fn via_spec<S, F>(&self, id: impl Into<Arc<str>>, key: K, value: V, make: F) -> ChildSpec
    where
        S: GenServer,
        F: Fn() -> S + Send + Sync + 'static,
    {
        let registry = self.clone();
        ChildSpec::new(id, move |linker| {
            let (registry, key, value, server) =
                (registry.clone(), key.clone(), value.clone(), make());
            Box::pin(async move {
                let r = registry
                    .start_supervised_via(linker, key, value, server)
                    .await?;
                Ok(Started::Running(r.pid()))
            })
        })
    }
}
