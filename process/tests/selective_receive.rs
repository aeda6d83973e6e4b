//! Selective receive takes the first matching message and leaves the others queued in their
//! order (R-MBX-1).

mod common;

use beamish_process::{Ctx, Message};
use common::{Got, node, recv, within};
use tokio::sync::oneshot;

/// R-MBX-1: matching messages are taken first, in order; the others keep their order.
#[tokio::test(start_paused = true)]
async fn r_mbx_1_selective_receive_keeps_the_rest_in_order() {
    let node = node();
    let (go_tx, go) = oneshot::channel::<()>();
    let (tx, rx) = oneshot::channel();
    let a = node
        .spawn(move |mut ctx: Ctx<u32>| async move {
            let _ = go.await; // everything is queued before the first look
            let even = |m: &Message<u32>| matches!(m, Message::Msg(n) if n % 2 == 0);
            let mut got = Vec::new();
            for _ in 0..3 {
                got.push(Got::from(ctx.recv_matching(even).await));
            }
            for _ in 0..4 {
                got.push(recv(&mut ctx).await);
            }
            let _ = tx.send(got);
        })
        .unwrap();
    for n in 1..=7 {
        a.send(n).unwrap();
    }
    go_tx.send(()).unwrap();
    let got = within("A's report", rx).await.unwrap();
    let want: Vec<Got<u32>> = [2, 4, 6, 1, 3, 5, 7].into_iter().map(Got::Msg).collect();
    assert_eq!(got, want);
}

/// R-MBX-1: a selective receive with no match waits for one, and messages that arrive
/// meanwhile queue up behind the old ones.
#[tokio::test(start_paused = true)]
async fn r_mbx_1_selective_receive_waits_for_a_match() {
    let node = node();
    let (waiting_tx, waiting) = oneshot::channel();
    let (tx, rx) = oneshot::channel();
    let a = node
        .spawn(move |mut ctx: Ctx<&'static str>| async move {
            let first = recv(&mut ctx).await; // "a": the process is now running
            let _ = waiting_tx.send(());
            let wanted = ctx
                .recv_matching(|m| matches!(m, Message::Msg("wanted")))
                .await;
            let mut rest = vec![first, Got::from(wanted)];
            while let Some(m) = ctx.try_recv() {
                rest.push(m.into());
            }
            let _ = tx.send(rest);
        })
        .unwrap();
    a.send("a").unwrap();
    a.send("b").unwrap();
    within("A running", waiting).await.unwrap();
    a.send("c").unwrap();
    a.send("wanted").unwrap();
    a.send("d").unwrap();
    let got = within("A's report", rx).await.unwrap();
    let want: Vec<Got<&str>> = ["a", "wanted", "b", "c", "d"]
        .into_iter()
        .map(Got::Msg)
        .collect();
    assert_eq!(got, want);
}

/// R-MBX-1: repeated selective receives over a long queue each take the first match, and a
/// plain receive afterwards sees the untouched messages in arrival order.
#[tokio::test(start_paused = true)]
async fn r_mbx_1_many_selective_receives() {
    let node = node();
    let (go_tx, go) = oneshot::channel::<()>();
    let (tx, rx) = oneshot::channel();
    let a = node
        .spawn(move |mut ctx: Ctx<u32>| async move {
            let _ = go.await;
            let mut picked = Vec::new();
            // Take the multiples of 3 from the back end of the range first.
            for target in (0..300u32).rev().filter(|n| n % 3 == 0) {
                let m = ctx
                    .recv_matching(move |m| matches!(m, Message::Msg(n) if *n == target))
                    .await;
                picked.push(m.into_msg().unwrap());
            }
            let mut rest = Vec::new();
            while let Some(m) = ctx.try_recv() {
                rest.push(m.into_msg().unwrap());
            }
            let _ = tx.send((picked, rest));
        })
        .unwrap();
    for n in 0..300 {
        a.send(n).unwrap();
    }
    go_tx.send(()).unwrap();
    let (picked, rest) = within("A's report", rx).await.unwrap();
    assert_eq!(
        picked,
        (0..300u32).rev().filter(|n| n % 3 == 0).collect::<Vec<_>>()
    );
    assert_eq!(rest, (0..300u32).filter(|n| n % 3 != 0).collect::<Vec<_>>());
}
