//! The one ordering guarantee: what one sender sends to one receiver arrives in order,
//! messages and signals alike, so everything a process sent before it died arrives before its
//! exit signal or `DOWN` (R-ORD-1).

mod common;

use beamish_process::{Addr, Ctx, Exit};
use common::{Got, Probe, node, recv, within};
use tokio::sync::oneshot;

const N: u32 = 2_000;

/// R-ORD-1: messages from one sender arrive in the order sent.
#[tokio::test(start_paused = true)]
async fn r_ord_1_one_sender_in_order() {
    let node = node();
    let (tx, rx) = oneshot::channel();
    let receiver = node
        .spawn(move |mut ctx: Ctx<u32>| async move {
            let mut got = Vec::new();
            for _ in 0..N {
                if let Got::Msg(n) = recv(&mut ctx).await {
                    got.push(n);
                }
            }
            let _ = tx.send(got);
        })
        .unwrap();
    for n in 0..N {
        receiver.send(n).unwrap();
    }
    let got = within("the receiver's report", rx).await.unwrap();
    assert_eq!(got, (0..N).collect::<Vec<_>>());
}

/// R-ORD-1, R-ORD-2: two senders on two worker threads interleave in any way, but each one's
/// messages keep their order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_ord_1_per_sender_order_across_threads() {
    let node = node();
    let (tx, rx) = oneshot::channel();
    let receiver = node
        .spawn(move |mut ctx: Ctx<(u8, u32)>| async move {
            let mut got = Vec::new();
            for _ in 0..2 * N {
                if let Got::Msg(m) = recv(&mut ctx).await {
                    got.push(m);
                }
            }
            let _ = tx.send(got);
        })
        .unwrap();
    for sender in 0..2u8 {
        let to: Addr<(u8, u32)> = receiver.clone();
        node.spawn(move |_: Ctx<()>| async move {
            for n in 0..N {
                to.send((sender, n)).unwrap();
                if n % 64 == 0 {
                    // Let the other sender in now and then.
                    tokio::task::yield_now().await;
                }
            }
        })
        .unwrap();
    }
    let got = within("the receiver's report", rx).await.unwrap();
    for sender in 0..2u8 {
        let mine: Vec<u32> = got
            .iter()
            .filter(|(s, _)| *s == sender)
            .map(|(_, n)| *n)
            .collect();
        assert_eq!(mine, (0..N).collect::<Vec<_>>(), "sender {sender}");
    }
}

/// R-ORD-1: a process's messages arrive before its `DOWN` and before its exit signal, also
/// when the receiver is slower than the sender and on another thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_ord_1_messages_before_down_and_exit() {
    let node = node();
    for round in 0..20 {
        let (tx, rx) = oneshot::channel();
        // The receiver traps exits, links to the sender and monitors it.
        node.build()
            .trap_exit(true)
            .spawn(move |mut ctx: Ctx<u32>| async move {
                let me = ctx.addr();
                let sender = ctx
                    .build()
                    .link()
                    .spawn(move |_: Ctx<()>| async move {
                        for n in 0..N {
                            me.send(n).unwrap();
                        }
                        Exit::error(format!("round {round}"))
                    })
                    .unwrap();
                ctx.monitor(sender.pid());
                let mut got = Vec::new();
                let mut signals = 0;
                while signals < 2 {
                    let m = recv(&mut ctx).await;
                    if !m.is_msg() {
                        signals += 1;
                    }
                    got.push(m);
                }
                let _ = tx.send(got);
            })
            .unwrap();
        let got = within("the receiver's report", rx).await.unwrap();
        let msgs: Vec<u32> = got
            .iter()
            .take_while(|m| m.is_msg())
            .map(|m| match m {
                Got::Msg(n) => *n,
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(msgs, (0..N).collect::<Vec<_>>(), "round {round}");
        let tail = &got[N as usize..];
        assert_eq!(tail.len(), 2);
        assert!(
            tail.iter().any(|m| matches!(m, Got::Exit { reason, .. } if *reason == Exit::error(format!("round {round}")))),
            "{tail:?}"
        );
        assert!(
            tail.iter().any(|m| matches!(m, Got::Down { reason, .. } if *reason == Exit::error(format!("round {round}")))),
            "{tail:?}"
        );
    }
}

/// R-ORD-1: a message sent before an exit signal is received before the trapped exit, and
/// one sent after it is received after it: the signal takes its place among the sender's
/// messages.
#[tokio::test(start_paused = true)]
async fn r_ord_1_message_sent_before_an_exit_signal_is_received_first() {
    let node = node();
    let mut a = Probe::<&str>::trapping(&node, |_| {}).await;
    let apid = a.pid();
    let (tx, rx) = oneshot::channel();
    node.spawn(move |ctx: Ctx<()>| async move {
        let to = ctx.node().addr::<&'static str>(apid).unwrap();
        for m in ["one", "two"] {
            to.send(m).unwrap();
        }
        ctx.exit(apid, Exit::error("signal"));
        to.send("three").unwrap();
        let _ = tx.send(ctx.pid());
    })
    .unwrap();
    let spid = within("the sender", rx).await.unwrap();
    for m in ["one", "two"] {
        assert_eq!(a.next().await, Some(Got::Msg(m)));
    }
    assert_eq!(
        a.next().await,
        Some(Got::Exit {
            from: spid,
            reason: Exit::error("signal")
        })
    );
    assert_eq!(a.next().await, Some(Got::Msg("three")));
}
