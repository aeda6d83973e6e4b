//! A send reports the queue length it made, counting the receiver's private buffer too, so a
//! sender can watch for a long mailbox without another lock (issue 5, mailbox alerts).

use std::num::NonZeroUsize;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use beamish_mailbox::{Capacity, Inbox, Mailbox};

#[test]
fn send_counts_the_shared_queue_and_the_private_buffer() {
    let mb: Mailbox<(), u32> = Mailbox::default();
    let mut inbox = Inbox::new();
    let mut cx = Context::from_waker(Waker::noop());
    assert_eq!(mb.send(1), Ok(1));
    assert_eq!(mb.send(2), Ok(2));
    assert_eq!(mb.send(3), Ok(3));
    // The receiver takes the whole queue into its buffer and one message out of it.
    assert_eq!(inbox.poll_recv(&mb, &mut cx), Poll::Ready(Some(1)));
    assert_eq!(inbox.buffered(), 2);
    // Two still buffered, plus the new one.
    assert_eq!(mb.send(4), Ok(3));
    assert_eq!(mb.len(), 3);
}

#[test]
fn a_waiting_send_reports_the_length_too() {
    let mb: Mailbox<(), u32> = Mailbox::new(Capacity::Bounded(NonZeroUsize::new(2).unwrap()));
    let mut cx = Context::from_waker(Waker::noop());
    assert_eq!(mb.send(1), Ok(1));
    let fut = pin!(mb.send_wait(2));
    assert_eq!(fut.poll(&mut cx), Poll::Ready(Ok(2)));
}
