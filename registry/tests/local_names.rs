//! Local names through this crate: one name per process, released before the owner's exit
//! signals (R-LNK-2), and sending to a free name fails (R-ORD-4).

mod common;

use beamish_process::{Ctx, Exit, Message, SendError};
use beamish_registry::local;
use common::{Agent, node, within};
use tokio::sync::oneshot;

/// R-ORD-4: register, whereis, send, unregister; a free name is an error.
#[tokio::test]
async fn r_ord_4_local_names_resolve_until_unregistered() {
    let node = node();
    let (tx, rx) = oneshot::channel();
    let a = node
        .spawn(move |mut ctx: Ctx<&'static str>| async move {
            if let Message::Msg(m) = ctx.recv().await {
                let _ = tx.send(m);
            }
        })
        .unwrap();
    local::register(&node, "a", a.pid()).unwrap();
    assert_eq!(local::whereis(&node, "a"), Some(a.pid()));
    assert_eq!(local::registered(&node), vec![("a".into(), a.pid())]);
    local::send(&node, "a", "hello").unwrap();
    assert_eq!(within("the message", rx).await.unwrap(), "hello");
    let _ = within("a's exit", node.monitor(a.pid())).await;
    assert!(!local::unregister(&node, "a"));
    assert!(matches!(
        local::send(&node, "a", "again"),
        Err(SendError::NotRegistered("again"))
    ));
}

/// R-LNK-2: a process that monitors a named process can take the name as soon as it sees the
/// `DOWN`.
#[tokio::test]
async fn r_lnk_2_name_is_free_when_the_down_arrives() {
    let node = node();
    let owner = Agent::spawn(&node);
    local::register(&node, "svc", owner.pid()).unwrap();
    let (tx, rx) = oneshot::channel();
    let opid = owner.pid();
    let (ready_tx, ready) = oneshot::channel();
    node.spawn(move |mut ctx: Ctx<()>| async move {
        ctx.monitor(opid);
        let _ = ready_tx.send(());
        if let Message::Down(_) = ctx.recv().await {
            let _ = tx.send(ctx.register("svc"));
        }
    })
    .unwrap();
    within("the watcher's monitor", ready).await.unwrap();
    owner.kill(&node, Exit::error("crash")).await;
    assert_eq!(within("the watcher's attempt", rx).await.unwrap(), Ok(()));
}
