//! The owner watcher: one small process per registry partition (and per pg scope) that
//! monitors the processes holding entries and runs a cleanup when one of them ends.
//!
//! Registering costs one mailbox push to the watcher the first time a process appears in a
//! partition (no lock besides the partition's own); the watcher then monitors it. Commands are
//! pushed while the caller holds the partition's lock, so the watcher sees `Watch` and
//! `Unwatch` for a pid in the order the partition decided them, whoever sent them. A process
//! that ends before the watcher monitors it yields a `DOWN` with `noproc` at once (R-MON-2), so
//! its entries are removed all the same.

use std::collections::HashMap;
use std::fmt;

use beamish_process::{Addr, Ctx, Message, Node, Pid, Ref, SpawnError};
use tokio::sync::oneshot;

/// What the watcher is asked to do.
pub(crate) enum Cmd {
    /// Monitor this pid, unless it is already monitored.
    Watch(Pid),
    /// Stop monitoring this pid (it holds nothing any more).
    Unwatch(Pid),
    /// Answer once every command and `DOWN` queued before this one is handled.
    Sync(oneshot::Sender<()>),
    /// End the watcher (its registry was dropped).
    Stop,
}

/// Runs when a watched process ends, with its pid; returns `false` once the structure it
/// cleans is gone, which ends the watcher.
pub(crate) type OnDown = Box<dyn FnMut(Pid) -> bool + Send>;

/// A handle to a watcher process.
#[derive(Clone)]
pub(crate) struct Watcher {
    addr: Addr<Cmd>,
}

impl fmt::Debug for Watcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Watcher({})", self.addr.pid())
    }
}

impl Watcher {
    /// Spawns a watcher on `node` that calls `on_down` for every watched process that ends.
    pub(crate) fn spawn(node: &Node, mut on_down: OnDown) -> Result<Watcher, SpawnError> {
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
        Ok(Watcher { addr })
    }

    /// The watcher's pid.
    pub(crate) fn pid(&self) -> Pid {
        self.addr.pid()
    }

    /// Asks the watcher to monitor `pid`. Call with the owning structure's lock held.
    pub(crate) fn watch(&self, pid: Pid) {
        if self.addr.send(Cmd::Watch(pid)).is_err() {
            tracing::warn!(%pid, "registry watcher is gone; entries of this process will stay");
        }
    }

    /// Asks the watcher to stop monitoring `pid`. Call with the owning structure's lock held.
    pub(crate) fn unwatch(&self, pid: Pid) {
        let _ = self.addr.send(Cmd::Unwatch(pid));
    }

    /// Waits until the watcher has handled everything queued before this call.
    pub(crate) async fn sync(&self) {
        let (tx, rx) = oneshot::channel();
        if self.addr.send(Cmd::Sync(tx)).is_ok() {
            let _ = rx.await;
        }
    }

    /// Ends the watcher.
    pub(crate) fn stop(&self) {
        let _ = self.addr.send(Cmd::Stop);
    }
}

/// Watchers to stop when the structure that owns them is dropped.
#[derive(Debug)]
pub(crate) struct StopOnDrop(pub(crate) Vec<Watcher>);

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
