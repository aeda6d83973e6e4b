//! The receiver's half of a mailbox: a private buffer that amortises locking.

use std::collections::VecDeque;
use std::fmt;
use std::task::{Context, Poll};

use crate::error::TryRecvError;
use crate::mailbox::{Inner, Mailbox};
use crate::sync::Ordering;

/// The single receiver's private state for one [`Mailbox`].
///
/// In an unbounded mailbox, `recv` takes the whole shared data queue in one swap (one lock per
/// batch, not per message) and then serves messages from this buffer. A selective receive moves
/// only the messages that arrived since the last look into the buffer, so repeated selective
/// receives never copy the queue; unmatched messages keep their order (R-MBX-1).
pub struct Inbox<D> {
    local: VecDeque<D>,
}

impl<D> Default for Inbox<D> {
    fn default() -> Self {
        Self::new()
    }
}

impl<D> fmt::Debug for Inbox<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inbox")
            .field("buffered", &self.local.len())
            .finish()
    }
}

impl<D> Inbox<D> {
    /// An empty inbox. Allocates nothing.
    pub const fn new() -> Self {
        Inbox {
            local: VecDeque::new(),
        }
    }

    /// Messages in the private buffer (already taken from the shared queue).
    pub fn buffered(&self) -> usize {
        self.local.len()
    }

    fn publish<C>(&self, mb: &Mailbox<C, D>) {
        // A plain store, not a read-modify-write: only the receiver writes this counter.
        mb.buffered.store(
            u32::try_from(self.local.len()).unwrap_or(u32::MAX),
            Ordering::Relaxed,
        );
    }

    /// Takes the oldest data message from the shared queue, with its lock held and the
    /// private buffer empty: in an unbounded mailbox the whole queue moves to the buffer.
    /// `None` if the queue is empty or a control item waits.
    fn refill<C>(&mut self, mb: &Mailbox<C, D>, inner: &mut Inner<C, D>) -> Option<D> {
        if inner.control_waiting() {
            // The control item comes first (see `Inner::control_waiting`).
            return None;
        }
        if mb.is_bounded() {
            // Bounded: take one at a time so that room is handed to waiting senders at once.
            let d = inner.data.pop_front()?;
            Mailbox::wake_one_sender(inner);
            return Some(d);
        }
        if inner.data.is_empty() {
            return None;
        }
        std::mem::swap(&mut inner.data, &mut self.local);
        let d = self.local.pop_front();
        // Published under the lock, so that a sender's count (shared queue plus this
        // buffer, read under the lock) never sees the batch in neither place.
        self.publish(mb);
        d
    }

    fn after_take<C>(&self, mb: &Mailbox<C, D>) {
        self.publish(mb);
        if mb.is_bounded() {
            Mailbox::wake_one_sender(&mut mb.lock());
        }
    }

    /// Takes the oldest data message without waiting.
    pub fn try_recv<C>(&mut self, mb: &Mailbox<C, D>) -> Result<D, TryRecvError> {
        if let Some(d) = self.local.pop_front() {
            self.after_take(mb);
            return Ok(d);
        }
        // One lock to look at the shared queue and, if it is empty, at the closed flag.
        let mut inner = mb.lock();
        match self.refill(mb, &mut inner) {
            Some(d) => Ok(d),
            None if mb.is_closed_locked(&inner) => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Polls for the oldest data message. `Ready(None)` once the mailbox is closed and empty.
    /// When it returns `Pending`, the task is woken by the next data message (or control item).
    pub fn poll_recv<C>(&mut self, mb: &Mailbox<C, D>, cx: &mut Context<'_>) -> Poll<Option<D>> {
        if let Some(d) = self.local.pop_front() {
            self.after_take(mb);
            return Poll::Ready(Some(d));
        }
        // One lock both to look at the shared queue and, if there is nothing to take, to
        // park: a sender's push either comes before (and is taken here) or after (and sees
        // `data_wanted`). A process waiting for its next message takes the lock once, not
        // twice.
        let mut inner = mb.lock();
        if let Some(d) = self.refill(mb, &mut inner) {
            return Poll::Ready(Some(d));
        }
        if inner.control_waiting() {
            // A control item arrived before what is queued: the receiver must see it first.
            // Its push has woken the task already; wake again in case it came mid-poll on an
            // executor that drops such wake-ups.
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if mb.is_closed_locked(&inner) {
            return Poll::Ready(None);
        }
        Mailbox::store_waker(&mut inner, cx.waker());
        inner.data_wanted = true;
        Poll::Pending
    }

    /// Polls for the first data message that satisfies `matches`, leaving the others queued in
    /// their order (R-MBX-1). The predicate never runs under the mailbox lock.
    pub fn poll_recv_matching<C>(
        &mut self,
        mb: &Mailbox<C, D>,
        cx: &mut Context<'_>,
        mut matches: impl FnMut(&D) -> bool,
    ) -> Poll<Option<D>> {
        let mut scanned = 0;
        loop {
            if let Some(i) = self.local.range(scanned..).position(&mut matches) {
                let d = self.local.remove(scanned + i);
                self.after_take(mb);
                return Poll::Ready(d);
            }
            scanned = self.local.len();
            let mut inner = mb.lock();
            if inner.control_waiting() {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            if inner.data.is_empty() {
                if mb.is_closed_locked(&inner) {
                    return Poll::Ready(None);
                }
                Mailbox::store_waker(&mut inner, cx.waker());
                inner.data_wanted = true;
                return Poll::Pending;
            }
            // Only the arrivals since the last look are moved; the buffer is never copied.
            self.local.append(&mut inner.data);
            self.publish(mb);
            drop(inner);
        }
    }

    /// Removes every queued data message (buffered or shared) that satisfies `matches`, and
    /// returns how many were removed. Used, for example, to flush a `DOWN` on demonitor.
    pub fn remove_matching<C>(
        &mut self,
        mb: &Mailbox<C, D>,
        mut matches: impl FnMut(&D) -> bool,
    ) -> usize {
        let before = self.local.len();
        self.local.retain(|d| !matches(d));
        let mut removed = before - self.local.len();
        removed += mb.lock().remove_data(&mut matches);
        self.after_take(mb);
        removed
    }

    /// Hands the private buffer back to the mailbox: its messages go before everything in
    /// the shared queue, in their order, as if they had never been taken. For a receiver
    /// that goes away before its mailbox closes (a process's context is dropped with its
    /// body, before the runtime signals its links): its messages are then discarded with
    /// the mailbox's [`close`](Mailbox::close), not with the receiver (R-MBX-3). On a closed
    /// mailbox the messages are dropped here, after the lock is released. Does nothing (takes
    /// no lock) when the buffer is empty.
    pub fn return_to<C>(&mut self, mb: &Mailbox<C, D>) {
        if self.local.is_empty() {
            return;
        }
        let mut inner = mb.lock();
        if mb.is_closed_locked(&inner) {
            drop(inner);
            self.local.clear();
            self.publish(mb);
        } else {
            inner.prepend_data(&mut self.local);
            // Under the lock, as in `refill`: a sender's count never sees the messages in
            // both places.
            self.publish(mb);
        }
    }

    /// Iterates over the buffered messages (not those still in the shared queue), oldest first.
    pub fn iter_buffered(&self) -> impl Iterator<Item = &D> {
        self.local.iter()
    }
}
