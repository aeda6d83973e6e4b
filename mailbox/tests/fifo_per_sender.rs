//! R-ORD-1: messages from one sender arrive in the order they were sent, whatever other
//! senders do concurrently.

use beamish_mailbox::{Inbox, Mailbox};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

#[test]
fn r_ord_1_each_senders_messages_arrive_in_send_order() {
    const SENDERS: u32 = 4;
    const PER_SENDER: u32 = 20_000;
    let mb: Arc<Mailbox<(), (u32, u32)>> = Arc::new(Mailbox::default());
    let threads: Vec<_> = (0..SENDERS)
        .map(|s| {
            let mb = mb.clone();
            std::thread::spawn(move || {
                for i in 0..PER_SENDER {
                    mb.send((s, i)).unwrap();
                }
            })
        })
        .collect();
    let mut inbox = Inbox::new();
    let mut next = [0u32; SENDERS as usize];
    let mut cx = Context::from_waker(Waker::noop());
    let mut received = 0;
    while received < SENDERS * PER_SENDER {
        if let Poll::Ready(Some((s, i))) = inbox.poll_recv(&mb, &mut cx) {
            assert_eq!(next[s as usize], i, "sender {s} reordered");
            next[s as usize] += 1;
            received += 1;
        } else {
            std::thread::yield_now();
        }
    }
    for t in threads {
        t.join().unwrap();
    }
    assert!(mb.is_empty());
}
