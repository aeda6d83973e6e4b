//! The per-process mailbox of [beamish](https://example.invalid/beamish).
//!
//! A [`Mailbox`] has two lanes:
//!
//! * a **control lane** for signals (exit signals, link and unlink, monitor and `DOWN`, system
//!   requests), which the process always handles before its next data message, and
//! * a **data lane** for messages, FIFO per sender (R-ORD-1), unbounded by default like the BEAM
//!   (R-MBX-2), or bounded by a [`Capacity`], where `send_wait().await` waits for room and
//!   [`Mailbox::send`] gives the message back in [`TrySendError::Full`].
//!
//! The receiver keeps an [`Inbox`], its private buffer: a plain receive takes the whole shared
//! queue in one swap, and a selective receive ([`Inbox::poll_recv_matching`]) takes the first
//! message that matches, leaving the others in order (R-MBX-1), without copying the queue.
//!
//! An idle, empty mailbox is a small fixed header with no heap allocation; the queues allocate on
//! first use. That matters when a node holds a million idle processes.
//!
//! This crate knows nothing of processes or runtimes: it is generic over the control type `C`
//! and the data type `D`, and works with any executor's `Waker`.
//!
//! # Non-goals
//! Several receivers (a mailbox belongs to one process), priorities beyond the two lanes.
//!
//! # Example
//! ```
//! use beamish_mailbox::{Capacity, Inbox, Mailbox, TrySendError};
//! use std::num::NonZeroUsize;
//! use std::task::{Context, Poll, Waker};
//!
//! let mb: Mailbox<&str, u32> = Mailbox::new(Capacity::Bounded(NonZeroUsize::new(2).unwrap()));
//! let mut inbox = Inbox::new();
//! mb.send(1).unwrap();
//! mb.send(2).unwrap();
//! assert_eq!(mb.send(3), Err(TrySendError::Full(3)));
//! mb.push_control("exit").unwrap();
//!
//! // The control lane first, then data in order.
//! assert_eq!(mb.take_control().map(|(c, _)| c), Some("exit"));
//! let mut cx = Context::from_waker(Waker::noop());
//! // Selective receive: take the first even message, leave 1 queued.
//! assert_eq!(inbox.poll_recv_matching(&mb, &mut cx, |m| m % 2 == 0), Poll::Ready(Some(2)));
//! assert_eq!(inbox.poll_recv(&mb, &mut cx), Poll::Ready(Some(1)));
//! assert_eq!(inbox.poll_recv(&mb, &mut cx), Poll::Pending);
//! ```
#![forbid(unsafe_code)]

mod error;
mod inbox;
mod mailbox;
mod sync;

pub use error::{Closed, TryRecvError, TrySendError};
pub use inbox::Inbox;
pub use mailbox::{Capacity, DataSlot, Drained, Mailbox, SendFuture};
