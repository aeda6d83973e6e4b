//! R-MBX-1: a selective receive takes the first matching message and leaves the others in
//! their original order.

use beamish_mailbox::{Inbox, Mailbox};
use proptest::prelude::*;
use std::task::{Context, Poll, Waker};

#[test]
fn r_mbx_1_selective_receive_takes_first_match_and_keeps_the_rest_in_order() {
    let mb: Mailbox<(), u32> = Mailbox::default();
    let mut inbox = Inbox::new();
    let mut cx = Context::from_waker(Waker::noop());
    for m in [1, 2, 3, 4, 5, 6] {
        mb.send(m).unwrap();
    }
    assert_eq!(
        inbox.poll_recv_matching(&mb, &mut cx, |m| *m > 3),
        Poll::Ready(Some(4))
    );
    // Nothing matches: pending, and nothing is lost or reordered.
    assert_eq!(
        inbox.poll_recv_matching(&mb, &mut cx, |m| *m == 42),
        Poll::Pending
    );
    mb.send(7).unwrap();
    assert_eq!(
        inbox.poll_recv_matching(&mb, &mut cx, |m| *m == 7),
        Poll::Ready(Some(7))
    );
    let rest: Vec<u32> = std::iter::from_fn(|| match inbox.poll_recv(&mb, &mut cx) {
        Poll::Ready(m) => m,
        Poll::Pending => None,
    })
    .collect();
    assert_eq!(rest, vec![1, 2, 3, 5, 6]);
}

#[test]
fn remove_matching_flushes_from_buffer_and_shared_queue() {
    let mb: Mailbox<(), u32> = Mailbox::default();
    let mut inbox = Inbox::new();
    let mut cx = Context::from_waker(Waker::noop());
    mb.send(10).unwrap();
    mb.send(11).unwrap();
    // Pull both into the private buffer, then add more to the shared queue.
    assert_eq!(inbox.poll_recv(&mb, &mut cx), Poll::Ready(Some(10)));
    mb.send(10).unwrap();
    mb.send(12).unwrap();
    assert_eq!(mb.len(), 3);
    assert_eq!(inbox.remove_matching(&mb, |m| *m == 10), 1);
    assert_eq!(mb.len(), 2);
    assert_eq!(inbox.poll_recv(&mb, &mut cx), Poll::Ready(Some(11)));
    assert_eq!(inbox.poll_recv(&mb, &mut cx), Poll::Ready(Some(12)));
}

#[derive(Debug, Clone)]
enum Op {
    Send(u8),
    Recv,
    RecvMatching(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..8).prop_map(Op::Send),
        Just(Op::Recv),
        (0u8..8).prop_map(Op::RecvMatching),
    ]
}

proptest! {
    /// The mailbox behaves like a plain ordered list under any mix of sends, receives and
    /// selective receives (R-MBX-1, R-ORD-1), in bounded-free mode.
    #[test]
    fn r_mbx_1_matches_a_simple_list_model(ops in proptest::collection::vec(op(), 0..200)) {
        let mb: Mailbox<(), u8> = Mailbox::default();
        let mut inbox = Inbox::new();
        let mut model: Vec<u8> = Vec::new();
        let mut cx = Context::from_waker(Waker::noop());
        for op in ops {
            match op {
                Op::Send(m) => { mb.send(m).unwrap(); model.push(m); }
                Op::Recv => {
                    let expect = if model.is_empty() { None } else { Some(model.remove(0)) };
                    let got = match inbox.poll_recv(&mb, &mut cx) { Poll::Ready(m) => m, Poll::Pending => None };
                    prop_assert_eq!(got, expect);
                }
                Op::RecvMatching(k) => {
                    let expect = model.iter().position(|m| *m == k).map(|i| model.remove(i));
                    let got = match inbox.poll_recv_matching(&mb, &mut cx, |m| *m == k) {
                        Poll::Ready(m) => m, Poll::Pending => None };
                    prop_assert_eq!(got, expect);
                }
            }
            prop_assert_eq!(mb.len(), model.len());
        }
    }
}
