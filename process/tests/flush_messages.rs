//! `Ctx::flush` takes back queued messages that match, leaving the others in order.

use beamish_process::{Ctx, Message, Node};
use tokio::sync::oneshot;

#[tokio::test]
async fn flush_removes_matching_messages_and_keeps_the_order_of_the_rest() {
    let node = Node::start_default().unwrap();
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let (out_tx, out_rx) = oneshot::channel();
    let p = node
        .spawn(move |mut ctx: Ctx<u32>| async move {
            let _ = go_rx.await;
            let removed = ctx.flush(|m| m % 2 == 0);
            let mut rest = Vec::new();
            while let Some(Message::Msg(m)) = ctx.try_recv() {
                rest.push(m);
            }
            let _ = out_tx.send((removed, rest));
        })
        .unwrap();
    for m in 1..=6 {
        p.send(m).unwrap();
    }
    go_tx.send(()).unwrap();
    assert_eq!(out_rx.await.unwrap(), (3, vec![1, 3, 5]));
}
