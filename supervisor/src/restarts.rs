//! Awaiting restarts: a supervisor tells each subscriber about every restart it makes, so a
//! program (or a test) waits for the event instead of polling `which_children`.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use beamish_process::Pid;
use tokio::sync::mpsc;

/// One restart, as a supervisor makes it: the child's spec id, the pid that ended and the
/// pid that now runs in its place.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Restarted {
    /// The child spec's id (for a dynamic supervisor's child, the id its spec was given).
    pub id: Arc<str>,
    /// The process that ended (or was stopped by the strategy) and was replaced.
    pub old: Pid,
    /// The restarted process.
    pub new: Pid,
    /// The child's restarts so far, this one included.
    pub restarts: u64,
}

/// The restarts a supervisor makes from the moment of subscription on
/// ([`SupervisorRef::restarts`](crate::SupervisorRef::restarts),
/// [`DynamicSupervisorRef::restarts`](crate::DynamicSupervisorRef::restarts)). Ends (`None`)
/// when the supervisor ends. Also a [`futures::Stream`].
///
/// Unbounded: a subscriber that never reads keeps every restart in memory until it is
/// dropped, so drop it when done.
#[derive(Debug)]
pub struct Restarts {
    rx: mpsc::UnboundedReceiver<Restarted>,
}

impl Restarts {
    pub(crate) fn channel() -> (mpsc::UnboundedSender<Restarted>, Restarts) {
        let (tx, rx) = mpsc::unbounded_channel();
        (tx, Restarts { rx })
    }

    /// The next restart, or `None` once the supervisor has ended.
    pub async fn next(&mut self) -> Option<Restarted> {
        self.rx.recv().await
    }

    /// The next restart of the child with spec id `id`, skipping the others.
    pub async fn of(&mut self, id: &str) -> Option<Restarted> {
        loop {
            let r = self.next().await?;
            if &*r.id == id {
                return Some(r);
            }
        }
    }

    /// The restart that replaces the process `old`, skipping the others (the way to wait for
    /// a dynamic supervisor's child, known by pid).
    pub async fn of_pid(&mut self, old: Pid) -> Option<Restarted> {
        loop {
            let r = self.next().await?;
            if r.old == old {
                return Some(r);
            }
        }
    }
}

impl futures::Stream for Restarts {
    type Item = Restarted;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Restarted>> {
        self.rx.poll_recv(cx)
    }
}

/// A supervisor's restart subscribers.
#[derive(Default)]
pub(crate) struct Subscribers(Vec<mpsc::UnboundedSender<Restarted>>);

impl Subscribers {
    pub(crate) fn add(&mut self, tx: mpsc::UnboundedSender<Restarted>) {
        self.0.push(tx);
    }

    /// Tells every subscriber; forgets those that were dropped.
    pub(crate) fn notify(&mut self, id: &Arc<str>, old: Option<Pid>, new: Pid, restarts: u64) {
        if self.0.is_empty() {
            return;
        }
        let r = Restarted {
            id: id.clone(),
            old: old.unwrap_or(new),
            new,
            restarts,
        };
        self.0.retain(|tx| tx.send(r.clone()).is_ok());
    }
}
