//! When a process dies its mailbox is discarded: queued messages are dropped, never delivered
//! elsewhere, and a restarted process starts empty (R-MBX-3).

mod common;

use beamish_process::{Ctx, Exit, Message, SendError};
use common::{DropFlag, Got, dropped, exit_after, exit_of, node, recv, within};
use tokio::sync::oneshot;

/// R-MBX-3: messages still queued when a process is killed are dropped, including those it had
/// already looked at and skipped in a selective receive.
#[tokio::test(start_paused = true)]
async fn r_mbx_3_queued_messages_are_dropped_on_death() {
    let node = node();
    let (skipped_tx, skipped) = oneshot::channel();
    let a = node
        .spawn(move |mut ctx: Ctx<(u32, DropFlag)>| async move {
            // Look past the first message (it stays queued), then wait for ever.
            let _ = skipped_tx.send(());
            ctx.recv_matching(|m| matches!(m, Message::Msg((n, _)) if *n == 99))
                .await;
        })
        .unwrap();
    let (f1, seen) = DropFlag::new();
    let (f2, unseen) = DropFlag::new();
    a.send((1, f1)).unwrap();
    within("A running", skipped).await.unwrap();
    a.send((2, f2)).unwrap();
    assert_eq!(
        exit_after(&node, a.pid(), Exit::error("die")).await,
        Exit::error("die")
    );
    dropped(seen).await;
    dropped(unseen).await;
}

/// R-MBX-3: a crash on a poison message does not replay it, nor the messages behind it: the
/// restarted process starts with an empty mailbox, and the old address refuses new messages,
/// giving them back.
#[tokio::test(start_paused = true)]
async fn r_mbx_3_restart_does_not_replay_the_mailbox() {
    let node = node();
    let worker = |ctx: Ctx<&'static str>| async move {
        let mut ctx = ctx;
        let mut seen = Vec::new();
        while let Got::Msg(m) = recv(&mut ctx).await {
            if m == "poison" {
                panic!("poisoned after {seen:?}");
            }
            seen.push(m);
            if m == "report" {
                return Exit::error(format!("{seen:?}"));
            }
        }
        Exit::Normal
    };
    let old = node.spawn(worker).unwrap();
    let down = node.monitor(old.pid());
    for m in ["a", "poison", "b", "c"] {
        old.send(m).unwrap();
    }
    assert_eq!(
        within("the crash", down).await,
        Exit::Panic(r#"poisoned after ["a"]"#.into())
    );
    assert!(matches!(old.send("late"), Err(SendError::NoProc("late"))));

    let new = node.spawn(worker).unwrap();
    assert_eq!(node.process_info(new.pid()).unwrap().mailbox_len, 0);
    new.send("report").unwrap();
    assert_eq!(
        exit_of(&node, new.pid()).await,
        Exit::error(r#"["report"]"#)
    );
}

/// R-MBX-3: a process that ends by returning also drops what is left in its mailbox.
#[tokio::test(start_paused = true)]
async fn r_mbx_3_normal_exit_drops_the_rest() {
    let node = node();
    let (go_tx, go) = oneshot::channel::<()>();
    let a = node
        .spawn(move |_: Ctx<DropFlag>| async move {
            let _ = go.await;
        })
        .unwrap();
    let (flag, rx) = DropFlag::new();
    a.send(flag).unwrap();
    go_tx.send(()).unwrap();
    dropped(rx).await;
    assert!(!a.is_alive());
}
