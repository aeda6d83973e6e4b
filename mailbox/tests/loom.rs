//! loom models of the mailbox's concurrency (run by `cargo xtask ci --full`):
//! `RUSTFLAGS="--cfg loom" cargo test --release -p beamish-mailbox --test loom`.
#![cfg(loom)]

use beamish_mailbox::{Capacity, Inbox, Mailbox};
use loom::sync::Arc;
use loom::thread;
use std::future::poll_fn;
use std::num::NonZeroUsize;

/// A receiver that parks on an empty mailbox is always woken by a concurrent send: no lost
/// wake-up, and the message arrives.
#[test]
fn data_send_wakes_a_parked_receiver() {
    loom::model(|| {
        let mb: Arc<Mailbox<(), u32>> = Arc::new(Mailbox::default());
        let tx = mb.clone();
        let sender = thread::spawn(move || {
            tx.send(7).unwrap();
        });
        let mut inbox = Inbox::new();
        let got = loom::future::block_on(poll_fn(|cx| inbox.poll_recv(&mb, cx)));
        assert_eq!(got, Some(7));
        sender.join().unwrap();
    });
}

/// A control item wakes a receiver that registered its waker, even while data is not wanted.
#[test]
fn control_push_wakes_a_registered_receiver() {
    loom::model(|| {
        let mb: Arc<Mailbox<u8, u32>> = Arc::new(Mailbox::default());
        let tx = mb.clone();
        let sender = thread::spawn(move || {
            tx.push_control(1).unwrap();
        });
        let got = loom::future::block_on(poll_fn(|cx| {
            mb.register_receiver(cx.waker());
            match mb.take_control() {
                Some((c, _)) => std::task::Poll::Ready(c),
                None => std::task::Poll::Pending,
            }
        }));
        assert_eq!(got, 1);
        sender.join().unwrap();
    });
}

/// Close racing a push: the item is either in what `close` returned or handed back to the
/// sender, never lost and never both.
#[test]
fn close_and_push_never_lose_an_item() {
    loom::model(|| {
        let mb: Arc<Mailbox<u8, u32>> = Arc::new(Mailbox::default());
        let tx = mb.clone();
        let sender = thread::spawn(move || tx.push_control(5).is_ok());
        let drained = mb.close();
        let accepted = sender.join().unwrap();
        assert_eq!(accepted, drained.control.len() == 1);
    });
}

/// A sender waiting for room in a bounded mailbox is woken when the receiver takes a message.
#[test]
fn bounded_sender_is_woken_when_room_appears() {
    loom::model(|| {
        let mb: Arc<Mailbox<(), u32>> = Arc::new(Mailbox::new(Capacity::Bounded(
            NonZeroUsize::new(1).unwrap(),
        )));
        mb.send(1).unwrap();
        let tx = mb.clone();
        let sender = thread::spawn(move || {
            loom::future::block_on(tx.send_wait(2)).unwrap();
        });
        let mut inbox = Inbox::new();
        let a = loom::future::block_on(poll_fn(|cx| inbox.poll_recv(&mb, cx)));
        let b = loom::future::block_on(poll_fn(|cx| inbox.poll_recv(&mb, cx)));
        assert_eq!((a, b), (Some(1), Some(2)));
        sender.join().unwrap();
    });
}

/// R-ORD-1 under every interleaving: a receiver that handles control items before receiving
/// (as a process does) sees a signal turned message between the data sent around it.
#[test]
fn signal_turned_message_keeps_its_place() {
    loom::model(|| {
        let mb: Arc<Mailbox<u8, u32>> = Arc::new(Mailbox::default());
        let tx = mb.clone();
        let sender = thread::spawn(move || {
            tx.send(1).unwrap();
            tx.push_control(0).unwrap();
            tx.send(2).unwrap();
        });
        let mut inbox = Inbox::new();
        let mut got = Vec::new();
        while got.len() < 3 {
            let m = loom::future::block_on(poll_fn(|cx| {
                mb.register_receiver(cx.waker());
                while let Some((_, slot)) = mb.take_control() {
                    mb.push_data_at(slot, 99).unwrap();
                }
                inbox.poll_recv(&mb, cx)
            }));
            got.push(m.unwrap());
        }
        assert_eq!(got, [1, 99, 2]);
        sender.join().unwrap();
    });
}
