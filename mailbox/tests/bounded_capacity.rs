//! A bounded mailbox: `send` returns the message in `Full`, `send_wait().await` waits for room,
//! and closing gives waiting senders their message back.

use beamish_mailbox::{Capacity, Closed, Inbox, Mailbox, TrySendError};
use futures::FutureExt;
use std::num::NonZeroUsize;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

fn bounded(n: usize) -> Mailbox<(), u32> {
    Mailbox::new(Capacity::Bounded(NonZeroUsize::new(n).unwrap()))
}

#[test]
fn send_to_a_full_mailbox_returns_the_message() {
    let mb = bounded(2);
    mb.send(1).unwrap();
    mb.send(2).unwrap();
    assert_eq!(mb.send(3), Err(TrySendError::Full(3)));
    assert_eq!(mb.len(), 2);
    // The control lane is not limited.
    mb.push_control(()).unwrap();
    // Runtime-made messages (trapped exits, DOWN) are never refused for room.
    mb.push_data_unchecked(9).unwrap();
    assert_eq!(mb.len(), 3);
}

#[test]
fn send_waits_for_room_and_completes_after_a_receive() {
    let mb = bounded(1);
    let mut inbox = Inbox::new();
    mb.send(1).unwrap();
    let mut fut = pin!(mb.send_wait(2));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(fut.as_mut().poll(&mut cx).is_pending());
    assert_eq!(inbox.poll_recv(&mb, &mut cx), Poll::Ready(Some(1)));
    assert_eq!(fut.as_mut().poll(&mut cx), Poll::Ready(Ok(1)));
    assert_eq!(inbox.poll_recv(&mb, &mut cx), Poll::Ready(Some(2)));
}

#[test]
fn a_cancelled_waiting_sender_passes_its_wake_up_on() {
    let mb = bounded(1);
    let mut inbox = Inbox::new();
    let mut cx = Context::from_waker(Waker::noop());
    mb.send(1).unwrap();
    let mut first = Box::pin(mb.send_wait(2));
    let mut second = pin!(mb.send_wait(3));
    assert!(first.as_mut().poll(&mut cx).is_pending());
    assert!(second.as_mut().poll(&mut cx).is_pending());
    assert_eq!(inbox.poll_recv(&mb, &mut cx), Poll::Ready(Some(1)));
    drop(first); // woken, but gives up
    assert_eq!(second.as_mut().poll(&mut cx), Poll::Ready(Ok(1)));
    assert_eq!(inbox.poll_recv(&mb, &mut cx), Poll::Ready(Some(3)));
}

#[test]
fn closing_returns_queued_items_and_refuses_later_pushes() {
    let mb = bounded(1);
    mb.send(1).unwrap();
    mb.push_control(()).unwrap();
    let mut waiting = pin!(mb.send_wait(2));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(waiting.as_mut().poll(&mut cx).is_pending());
    let drained = mb.close();
    assert_eq!(drained.data, [1]);
    assert_eq!(drained.control.len(), 1);
    assert_eq!(waiting.as_mut().poll(&mut cx), Poll::Ready(Err(Closed(2))));
    assert_eq!(mb.send(3), Err(TrySendError::Closed(3)));
    assert_eq!(mb.push_control(()), Err(Closed(())));
    assert!(mb.send_wait(4).now_or_never().unwrap().is_err());
    let mut inbox = Inbox::new();
    assert_eq!(inbox.poll_recv(&mb, &mut cx), Poll::Ready(None));
}

/// A closed mailbox keeps no receiver waker: one registered before the close is dropped by
/// it, and one registered after is not kept (the receiver's task must not be held alive by a
/// mailbox nobody will push to again).
#[test]
fn a_closed_mailbox_keeps_no_receiver_waker() {
    struct Noop;
    impl std::task::Wake for Noop {
        fn wake(self: std::sync::Arc<Self>) {}
    }
    let mb: Mailbox<(), u32> = Mailbox::new(Default::default());
    let arc = std::sync::Arc::new(Noop);
    let waker = Waker::from(arc.clone());
    mb.register_receiver(&waker);
    assert_eq!(std::sync::Arc::strong_count(&arc), 3, "kept while open");
    drop(mb.close());
    assert_eq!(
        std::sync::Arc::strong_count(&arc),
        2,
        "dropped by the close"
    );
    mb.register_receiver(&waker);
    assert_eq!(
        std::sync::Arc::strong_count(&arc),
        2,
        "not kept once closed"
    );
}
