//! Control items are seen before data, and a control push wakes the receiver even when it is
//! not waiting for data.

use beamish_mailbox::{Inbox, Mailbox};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

struct CountingWaker(AtomicUsize);
impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn control_items_are_taken_before_data_in_their_own_order() {
    let mb: Mailbox<&str, u32> = Mailbox::default();
    mb.send(1).unwrap();
    mb.push_control("link").unwrap();
    mb.send(2).unwrap();
    mb.push_control("exit").unwrap();
    assert!(mb.has_control());
    assert_eq!(mb.control_len(), 2);
    assert_eq!(mb.take_control().map(|(c, _)| c), Some("link"));
    assert_eq!(mb.take_control().map(|(c, _)| c), Some("exit"));
    assert!(mb.take_control().is_none());
    assert!(!mb.has_control());
    let mut inbox = Inbox::new();
    let mut cx = Context::from_waker(Waker::noop());
    assert_eq!(inbox.poll_recv(&mb, &mut cx), Poll::Ready(Some(1)));
    assert_eq!(inbox.poll_recv(&mb, &mut cx), Poll::Ready(Some(2)));
}

#[test]
fn control_push_always_wakes_data_push_only_when_data_is_wanted() {
    let mb: Mailbox<&str, u32> = Mailbox::default();
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let waker = Waker::from(counter.clone());
    mb.register_receiver(&waker);

    // The receiver is busy with something else: data does not wake it, control does.
    mb.send(1).unwrap();
    assert_eq!(counter.0.load(Ordering::SeqCst), 0);
    mb.push_control("exit").unwrap();
    assert_eq!(counter.0.load(Ordering::SeqCst), 1);
    assert!(mb.take_control().is_some());

    // Once it parks on an empty data lane, the next data message wakes it exactly once.
    let mut inbox = Inbox::new();
    let mut cx = Context::from_waker(&waker);
    assert_eq!(inbox.poll_recv(&mb, &mut cx), Poll::Ready(Some(1)));
    assert_eq!(inbox.poll_recv(&mb, &mut cx), Poll::Pending);
    mb.send(2).unwrap();
    mb.send(3).unwrap();
    assert_eq!(counter.0.load(Ordering::SeqCst), 2);
}

/// R-ORD-1: a control item that becomes a message takes the place where it arrived, between
/// the data sent before it and the data sent after it.
#[test]
fn r_ord_1_a_signal_turned_message_keeps_its_place_among_data() {
    let mb: Mailbox<&str, u32> = Mailbox::default();
    let mut inbox = Inbox::new();
    let mut cx = Context::from_waker(Waker::noop());
    mb.send(1).unwrap();
    mb.push_control("exit-a").unwrap();
    mb.send(2).unwrap();
    mb.push_control("exit-b").unwrap();
    mb.send(3).unwrap();
    // While control items wait, nothing more is taken from the shared queue.
    assert_eq!(inbox.poll_recv(&mb, &mut cx), Poll::Pending);
    let (a, slot_a) = mb.take_control().unwrap();
    assert_eq!(a, "exit-a");
    mb.push_data_at(slot_a, 100).unwrap();
    let (b, slot_b) = mb.take_control().unwrap();
    assert_eq!(b, "exit-b");
    mb.push_data_at(slot_b, 200).unwrap();
    let got: Vec<u32> = std::iter::from_fn(|| match inbox.poll_recv(&mb, &mut cx) {
        Poll::Ready(m) => m,
        Poll::Pending => None,
    })
    .collect();
    assert_eq!(got, [1, 100, 2, 200, 3]);
}

/// A flush of the shared queue keeps the places of waiting control items right.
#[test]
fn removing_data_keeps_control_places() {
    let mb: Mailbox<&str, u32> = Mailbox::default();
    let mut inbox = Inbox::new();
    let mut cx = Context::from_waker(Waker::noop());
    mb.send(7).unwrap();
    mb.send(1).unwrap();
    mb.push_control("exit").unwrap();
    mb.send(2).unwrap();
    assert_eq!(inbox.remove_matching(&mb, |m| *m == 7), 1);
    let (_, slot) = mb.take_control().unwrap();
    mb.push_data_at(slot, 100).unwrap();
    let got: Vec<u32> = std::iter::from_fn(|| match inbox.poll_recv(&mb, &mut cx) {
        Poll::Ready(m) => m,
        Poll::Pending => None,
    })
    .collect();
    assert_eq!(got, [1, 100, 2]);
}

/// R-ORD-1 with many signals waiting at once (a supervisor hit by a burst of exits): every
/// signal turned message lands right after the data sent before it.
#[test]
fn r_ord_1_many_waiting_signals_keep_their_places() {
    const N: u32 = 10_000;
    let mb: Mailbox<u32, u32> = Mailbox::default();
    for i in 0..N {
        mb.send(2 * i).unwrap();
        mb.push_control(i).unwrap();
    }
    while let Some((i, slot)) = mb.take_control() {
        mb.push_data_at(slot, 2 * i + 1).unwrap();
    }
    let mut inbox = Inbox::new();
    let mut cx = Context::from_waker(Waker::noop());
    for want in 0..2 * N {
        assert_eq!(inbox.poll_recv(&mb, &mut cx), Poll::Ready(Some(want)));
    }
}
