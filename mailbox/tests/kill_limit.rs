//! A kill limit (`Capacity::KillAbove`, R-MBX-2): senders are never held back, and the push
//! that passes the limit marks the mailbox for its owner to die, through the control flag.

use beamish_mailbox::{Capacity, Inbox, Mailbox};
use std::num::NonZeroUsize;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

fn kill_above(n: usize) -> Mailbox<(), u32> {
    Mailbox::new(Capacity::KillAbove(NonZeroUsize::new(n).unwrap()))
}

/// Counts its wake-ups.
struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// R-MBX-2: up to the limit nothing happens; the push past it is accepted, marks the mailbox
/// over its limit, raises the control flag and wakes the receiver even though it did not
/// park for data.
#[test]
fn r_mbx_2_the_push_past_the_limit_marks_the_mailbox_and_wakes_the_owner() {
    let mb = kill_above(2);
    let count = Arc::new(Count(AtomicUsize::new(0)));
    mb.register_receiver(&Waker::from(count.clone()));
    assert_eq!(mb.send(1), Ok(1));
    assert_eq!(mb.send(2), Ok(2));
    assert!(!mb.is_over_limit());
    assert!(!mb.has_control());
    assert_eq!(count.0.load(Ordering::Relaxed), 0);

    assert_eq!(mb.send(3), Ok(3), "a kill limit never refuses a message");
    assert!(mb.is_over_limit());
    assert!(mb.has_control());
    assert_eq!(count.0.load(Ordering::Relaxed), 1);
    assert_eq!(
        mb.capacity(),
        Capacity::KillAbove(NonZeroUsize::new(2).unwrap())
    );
}

/// R-MBX-2: `send().await` does not wait at a kill limit either; it passes it at once.
#[test]
fn r_mbx_2_send_never_waits_at_a_kill_limit() {
    let mb = kill_above(1);
    let mut cx = Context::from_waker(Waker::noop());
    assert_eq!(pin!(mb.send_wait(1)).poll(&mut cx), Poll::Ready(Ok(1)));
    assert!(!mb.is_over_limit());
    assert_eq!(pin!(mb.send_wait(2)).poll(&mut cx), Poll::Ready(Ok(2)));
    assert!(mb.is_over_limit());
}

/// The queue counts what the receiver holds in its private buffer too: taking a batch out
/// does not make room under the limit.
#[test]
fn the_kill_limit_counts_the_receivers_buffer() {
    let mb = kill_above(3);
    let mut inbox = Inbox::new();
    let mut cx = Context::from_waker(Waker::noop());
    for i in 0..3 {
        mb.send(i).unwrap();
    }
    // One receive moves the whole queue into the buffer: two are still queued.
    assert_eq!(inbox.poll_recv(&mb, &mut cx), Poll::Ready(Some(0)));
    mb.send(3).unwrap();
    assert!(!mb.is_over_limit());
    mb.send(4).unwrap();
    assert!(mb.is_over_limit());
}

/// `Inbox::return_to` puts the buffered messages back before the shared queue, in order, so
/// that closing the mailbox hands them all to whoever discards them.
#[test]
fn returned_messages_go_back_in_front_and_drain_with_the_close() {
    let mb: Mailbox<(), u32> = Mailbox::default();
    let mut inbox = Inbox::new();
    let mut cx = Context::from_waker(Waker::noop());
    for i in 0..4 {
        mb.send(i).unwrap();
    }
    assert_eq!(inbox.poll_recv(&mb, &mut cx), Poll::Ready(Some(0)));
    assert_eq!(inbox.buffered(), 3);
    mb.send(4).unwrap();
    inbox.return_to(&mb);
    assert_eq!(inbox.buffered(), 0);
    assert_eq!(mb.len(), 4);
    let drained = mb.close();
    assert_eq!(drained.data, [1, 2, 3, 4]);
}

/// A control item that arrived while messages sat in the buffer keeps its place after they
/// go back: a message put at its place lands after them and after what preceded it.
#[test]
fn returned_messages_keep_control_places_right() {
    let mb: Mailbox<&str, u32> = Mailbox::default();
    let mut inbox = Inbox::new();
    let mut cx = Context::from_waker(Waker::noop());
    mb.send(0).unwrap();
    mb.send(1).unwrap();
    assert_eq!(inbox.poll_recv(&mb, &mut cx), Poll::Ready(Some(0)));
    mb.send(2).unwrap();
    mb.push_control("exit").unwrap();
    mb.send(3).unwrap();
    inbox.return_to(&mb);
    let (_, slot) = mb.take_control().unwrap();
    mb.push_data_at(slot, 99).unwrap();
    assert_eq!(mb.close().data, [1, 2, 99, 3]);
}

/// R-MBX-2: taking the last control item does not lower the control flag of a mailbox over
/// its limit, or an owner that drained its control lane while the limit was passed would
/// never look again.
#[test]
fn r_mbx_2_draining_the_control_lane_keeps_the_flag_of_a_mailbox_over_its_limit() {
    let mb: Mailbox<&str, u32> = Mailbox::new(Capacity::KillAbove(NonZeroUsize::MIN));
    mb.push_control("monitor").unwrap();
    mb.send(1).unwrap();
    mb.send(2).unwrap();
    assert!(mb.is_over_limit());
    assert_eq!(mb.take_control().map(|(c, _)| c), Some("monitor"));
    assert!(mb.take_control().is_none());
    assert!(mb.has_control(), "the owner must still be told");
}
