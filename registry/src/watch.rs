//! [`OwnerWatcher`]: a small process that monitors the owners of entries in some structure
//! and runs a cleanup when one of them ends. A registry partition has one, a pg scope one, a
//! Presence tracker (`beamish-pubsub`) one.
//!
//! Registering costs one mailbox push to the watcher the first time a process appears in a
//! structure (no lock besides the structure's own); the watcher then monitors it. Commands are
//! pushed while the caller holds the structure's lock, so the watcher sees `watch` and
//! `unwatch` for a pid in the order the structure decided them, whoever sent them. A process
//! that ends before the watcher monitors it yields a `DOWN` with `noproc` at once (R-MON-2), so
//! its entries are removed all the same.

use std::collections::HashMap;
use std::fmt;

use beamish_process::{Addr, Ctx, Message, Node, Pid, Ref, SpawnError};
use tokio::sync::oneshot;

/// What the watcher is asked to do.
enum Cmd {
    /// Monitor this pid, unless it is already monitored.
    Watch(Pid),
    /// Stop monitoring this pid (it holds nothing any more).
    Unwatch(Pid),
    /// Answer once every command and `DOWN` queued before this one is handled.
    Sync(oneshot::Sender<()>),
    /// End the watcher (its registry was dropped).
    Stop,
}

/// A handle to an owner watcher: a process that monitors the pids it is told to watch and
/// calls a cleanup with the pid of each one that ends (R-REG-2, R-PG-2, R-PR-2).
///
/// It is public so that every structure that maps processes to entries (a
/// [`Registry`](crate::Registry) partition, a [`pg`](crate::pg) scope, a Presence tracker in
/// `beamish-pubsub`, your own index) cleans up the same way, at the same cost: one monitor per
/// owner however many entries it holds, no flush on `unwatch` (a `DOWN` already queued for a
/// dropped monitor is recognised by its ref and ignored, where a flush would scan the whole
/// backlog at every unwatch), and a [`sync`](Self::sync) that waits for the cleanup of every
/// owner that has already ended.
///
/// The protocol: keep a count of entries per owner under your structure's lock; call
/// [`watch`](Self::watch) when an owner gets its first entry and [`unwatch`](Self::unwatch)
/// when it loses its last, both with that lock held, so the watcher sees them in the order
/// the structure decided them. The cleanup runs in the watcher's process: it takes the same
/// lock and removes the owner's entries. Calling `watch` twice for a pid is harmless.
///
/// Cheap to clone; every clone is the same watcher. Dropping the handles does not end the
/// process: call [`stop`](Self::stop), or return `false` from the cleanup.
///
/// # Example
/// ```
/// use std::sync::{Arc, Mutex};
/// use beamish_process::{Ctx, Exit, Node};
/// use beamish_registry::OwnerWatcher;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let node = Node::start_default()?;
/// let ended = Arc::new(Mutex::new(Vec::new()));
/// let log = ended.clone();
/// let watcher = OwnerWatcher::spawn(&node, move |pid| {
///     log.lock().unwrap().push(pid);
///     true // keep watching
/// })?;
///
/// let owner = node.spawn(|mut ctx: Ctx<()>| async move {
///     ctx.recv().await;
/// })?;
/// watcher.watch(owner.pid());
/// let down = node.monitor(owner.pid());
/// owner.send(())?;
/// assert_eq!(down.await, Exit::Normal);
/// watcher.sync().await; // the cleanup of every owner that had ended has run
/// assert_eq!(*ended.lock().unwrap(), vec![owner.pid()]);
/// watcher.stop();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct OwnerWatcher {
    addr: Addr<Cmd>,
}

impl fmt::Debug for OwnerWatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OwnerWatcher({})", self.addr.pid())
    }
}

impl OwnerWatcher {
    /// Spawns a watcher on `node` that calls `on_down` with the pid of every watched process
    /// that ends, in the watcher's own process. `on_down` returns `false` once the structure
    /// it cleans is gone (its `Weak` no longer upgrades), which ends the watcher.
    pub fn spawn(
        node: &Node,
        mut on_down: impl FnMut(Pid) -> bool + Send + 'static,
    ) -> Result<OwnerWatcher, SpawnError> {
        let addr = node.spawn(move |mut ctx: Ctx<Cmd>| async move {
            let mut watched: HashMap<Pid, Ref, ahash::RandomState> = HashMap::default();
            // Syncs waiting for the DOWNs of watched processes that had already ended.
            let mut pending: Vec<(Vec<Pid>, oneshot::Sender<()>)> = Vec::new();
            loop {
                match ctx.recv().await {
                    Message::Msg(Cmd::Watch(pid)) => {
                        watched.entry(pid).or_insert_with(|| ctx.monitor(pid));
                    }
                    Message::Msg(Cmd::Unwatch(pid)) => {
                        if let Some(mref) = watched.remove(&pid) {
                            // No flush: a DOWN already queued for this monitor is ignored below
                            // (its ref no longer matches), and flushing would scan the whole
                            // backlog at every unwatch, quadratic when the watcher falls behind.
                            ctx.demonitor(mref, false);
                        }
                        settle(&mut pending, pid);
                    }
                    Message::Msg(Cmd::Sync(done)) => {
                        // A process whose end the caller has seen may not have pushed its DOWN
                        // here yet (a dying process tells its watchers in no set order): wait for
                        // the DOWN of every watched process that has already ended.
                        let dead: Vec<Pid> = watched
                            .keys()
                            .filter(|p| !ctx.node().is_alive(**p))
                            .copied()
                            .collect();
                        if dead.is_empty() {
                            let _ = done.send(());
                        } else {
                            pending.push((dead, done));
                        }
                    }
                    Message::Msg(Cmd::Stop) => break,
                    Message::Down(down) => {
                        if watched.get(&down.pid) == Some(&down.mref) {
                            watched.remove(&down.pid);
                            let more = on_down(down.pid);
                            settle(&mut pending, down.pid);
                            if !more {
                                break;
                            }
                        }
                    }
                    Message::Exit(_) => {}
                }
            }
        })?;
        Ok(OwnerWatcher { addr })
    }

    /// The watcher's pid.
    pub fn pid(&self) -> Pid {
        self.addr.pid()
    }

    /// Asks the watcher to monitor `pid` (the first entry of an owner). Call with the owning
    /// structure's lock held.
    pub fn watch(&self, pid: Pid) {
        if self.addr.send(Cmd::Watch(pid)).is_err() {
            tracing::warn!(%pid, "owner watcher is gone; entries of this process will stay");
        }
    }

    /// Asks the watcher to stop monitoring `pid` (its last entry went). Call with the owning
    /// structure's lock held.
    pub fn unwatch(&self, pid: Pid) {
        let _ = self.addr.send(Cmd::Unwatch(pid));
    }

    /// Waits until the watcher has handled everything queued before this call, and has run
    /// the cleanup of every watched process that had ended by then (its `DOWN` may not have
    /// arrived yet: a dying process tells its monitors in no set order). Returns at once if
    /// the watcher has ended.
    pub async fn sync(&self) {
        let (tx, rx) = oneshot::channel();
        if self.addr.send(Cmd::Sync(tx)).is_ok() {
            let _ = rx.await;
        }
    }

    /// Ends the watcher; the processes it watched are no longer cleaned up after.
    pub fn stop(&self) {
        let _ = self.addr.send(Cmd::Stop);
    }
}

/// Watchers to stop when the structure that owns them is dropped.
#[derive(Debug)]
pub(crate) struct StopOnDrop(pub(crate) Vec<OwnerWatcher>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        for w in &self.0 {
            w.stop();
        }
    }
}

/// Marks `pid`'s end as handled for the waiting syncs; answers those that wait for nothing
/// more.
fn settle(pending: &mut Vec<(Vec<Pid>, oneshot::Sender<()>)>, pid: Pid) {
    let mut i = 0;
    while i < pending.len() {
        pending[i].0.retain(|p| *p != pid);
        if pending[i].0.is_empty() {
            let (_, done) = pending.swap_remove(i);
            let _ = done.send(());
        } else {
            i += 1;
        }
    }
}
