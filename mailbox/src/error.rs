//! Errors of the mailbox operations. Each gives back what was not delivered.

use std::fmt;

/// Why [`Mailbox::send`](crate::Mailbox::send) did not enqueue a message.
#[derive(PartialEq, Eq, Clone, Copy)]
#[non_exhaustive]
pub enum TrySendError<D> {
    /// The mailbox has a capacity and it is reached; the message is returned.
    Full(D),
    /// The mailbox is closed (its process has terminated); the message is returned.
    Closed(D),
}

impl<D> TrySendError<D> {
    /// Takes back the message that was not delivered.
    pub fn into_inner(self) -> D {
        match self {
            TrySendError::Full(d) | TrySendError::Closed(d) => d,
        }
    }
}

impl<D> fmt::Debug for TrySendError<D> {
    // Messages need not be Debug; the variant is what matters in a report.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<D> fmt::Display for TrySendError<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("mailbox is full"),
            TrySendError::Closed(_) => f.write_str("mailbox is closed"),
        }
    }
}

impl<D> std::error::Error for TrySendError<D> {}

/// The mailbox is closed; the item that could not be delivered is returned.
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct Closed<T>(pub T);

impl<T> fmt::Debug for Closed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Closed(..)")
    }
}

impl<T> fmt::Display for Closed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("mailbox is closed")
    }
}

impl<T> std::error::Error for Closed<T> {}

/// Why [`Inbox::try_recv`](crate::Inbox::try_recv) returned nothing.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
#[non_exhaustive]
pub enum TryRecvError {
    /// No data message is queued right now.
    Empty,
    /// The mailbox is closed and empty.
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("mailbox is empty"),
            TryRecvError::Closed => f.write_str("mailbox is closed"),
        }
    }
}

impl std::error::Error for TryRecvError {}
