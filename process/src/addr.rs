//! Typed handles to processes.

use std::fmt;
use std::sync::Arc;

use beamish_mailbox::TrySendError;

use crate::cell::{Cell, Status};
use crate::error::SendError;
use crate::pid::Pid;
use crate::signal::Message;

/// A typed handle to a process that takes messages of type `M`.
///
/// Sending through an `Addr` goes straight to the mailbox, with no table lookup; it is the
/// fast path. An `Addr` does not keep the process alive: once the process ends, sends fail
/// with [`SendError::NoProc`].
pub struct Addr<M> {
    cell: Arc<Cell<M>>,
}

impl<M> Clone for Addr<M> {
    fn clone(&self) -> Self {
        Addr {
            cell: self.cell.clone(),
        }
    }
}

impl<M> fmt::Debug for Addr<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Addr({})", self.cell.pid())
    }
}

impl<M> PartialEq for Addr<M> {
    fn eq(&self, other: &Self) -> bool {
        self.cell.pid() == other.cell.pid()
    }
}

impl<M> Eq for Addr<M> {}

impl<M: Send + 'static> Addr<M> {
    pub(crate) fn from_cell(cell: Arc<Cell<M>>) -> Addr<M> {
        Addr { cell }
    }

    pub(crate) fn cell(&self) -> &Arc<Cell<M>> {
        &self.cell
    }

    /// The process's pid.
    pub fn pid(&self) -> Pid {
        self.cell.pid()
    }

    /// Sends a message without waiting (R-MBX-2). Fails with [`SendError::Full`] if the mailbox
    /// is bounded and full, and [`SendError::NoProc`] if the process has ended; either way the
    /// message comes back.
    #[inline]
    pub fn send(&self, msg: M) -> Result<(), SendError<M>> {
        match self.cell.mailbox.send(Message::Msg(msg)) {
            Ok(len) => {
                crate::emit::mailbox_len(&self.cell.node, || self.cell.pid(), len);
                Ok(())
            }
            Err(TrySendError::Full(Message::Msg(m))) => Err(SendError::Full(m)),
            Err(e) => match e.into_inner() {
                Message::Msg(m) => Err(SendError::NoProc(m)),
                _ => unreachable!("we sent a Msg"),
            },
        }
    }

    /// Sends a message, waiting for room if the mailbox is bounded and full.
    pub async fn send_wait(&self, msg: M) -> Result<(), SendError<M>> {
        match self.cell.mailbox.send_wait(Message::Msg(msg)).await {
            Ok(len) => {
                crate::emit::mailbox_len(&self.cell.node, || self.cell.pid(), len);
                Ok(())
            }
            Err(closed) => match closed.0 {
                Message::Msg(m) => Err(SendError::NoProc(m)),
                _ => unreachable!("we sent a Msg"),
            },
        }
    }

    /// Whether the process is still running.
    pub fn is_alive(&self) -> bool {
        self.cell.core.exit_reason.get().is_none()
    }

    /// Queued data messages.
    pub fn mailbox_len(&self) -> usize {
        self.cell.mailbox.len()
    }

    /// What the process is doing now.
    pub fn status(&self) -> Status {
        self.cell.core.status()
    }
}
