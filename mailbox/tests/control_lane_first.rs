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
    mb.try_send(1).unwrap();
    mb.push_control("link").unwrap();
    mb.try_send(2).unwrap();
    mb.push_control("exit").unwrap();
    assert!(mb.has_control());
    assert_eq!(mb.control_len(), 2);
    assert_eq!(mb.take_control(), Some("link"));
    assert_eq!(mb.take_control(), Some("exit"));
    assert_eq!(mb.take_control(), None);
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
    mb.try_send(1).unwrap();
    assert_eq!(counter.0.load(Ordering::SeqCst), 0);
    mb.push_control("exit").unwrap();
    assert_eq!(counter.0.load(Ordering::SeqCst), 1);

    // Once it parks on an empty data lane, the next data message wakes it exactly once.
    let mut inbox = Inbox::new();
    let mut cx = Context::from_waker(&waker);
    assert_eq!(inbox.poll_recv(&mb, &mut cx), Poll::Ready(Some(1)));
    assert_eq!(inbox.poll_recv(&mb, &mut cx), Poll::Pending);
    mb.try_send(2).unwrap();
    mb.try_send(3).unwrap();
    assert_eq!(counter.0.load(Ordering::SeqCst), 2);
}
