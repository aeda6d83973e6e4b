//! Issue 13 §2: `PubSub` and `Presence` as children of a supervision tree: each child stands
//! for the processes its handle started, so their failure is the tree's (R-SUP-INT), and
//! stopping the tree leaves the handle's state (subscriptions, presences) to its processes.

use std::sync::Arc;
use std::time::Duration;

use beamish_process::{Ctx, Exit, Message, Node};
use beamish_pubsub::crdt::ReplicaId;
use beamish_pubsub::{Presence, PubSub};
use beamish_supervisor::{Strategy, Supervisor};
use common::within;

mod common;

/// R-SUP-INT: with intensity 0, the presence tracker's watcher ending fails its child and so
/// the tree, at once, with `shutdown`; the hub's child is stopped with it.
#[tokio::test]
async fn r_sup_int_a_tracker_whose_process_ends_fails_the_tree() {
    let node = Node::start_default().unwrap();
    let hub: PubSub<String> = PubSub::start(&node).unwrap();
    let presence: Presence<()> = Presence::start(&node, ReplicaId(1)).unwrap();
    let sup = Supervisor::new(Strategy::OneForOne)
        .intensity(0, Duration::from_secs(5))
        .child(hub.child_spec("pubsub"))
        .child(presence.child_spec("presence"))
        .start(&node)
        .await
        .unwrap();
    assert_eq!(sup.count_children().await.unwrap().active, 2);
    let down = node.monitor(sup.pid());
    let watcher = *presence.processes().last().unwrap();
    node.exit(watcher, Exit::Kill);
    assert_eq!(within("the tree's end", down).await, Exit::Shutdown);
    assert!(hub.processes().iter().all(|p| node.is_alive(*p)));
}

/// R-PS-1: stopping the tree stops the hub's child, not the hub: a subscriber still gets the
/// next broadcast.
#[tokio::test]
async fn r_ps_1_stopping_the_hub_child_keeps_the_subscriptions() {
    let node = Node::start_default().unwrap();
    let hub: PubSub<String> = PubSub::start(&node).unwrap();
    let sup = Supervisor::new(Strategy::OneForOne)
        .child(hub.child_spec("pubsub"))
        .start(&node)
        .await
        .unwrap();
    let (ready_tx, ready) = tokio::sync::oneshot::channel();
    let (got_tx, got) = tokio::sync::oneshot::channel();
    let h = hub.clone();
    node.spawn(move |mut ctx: Ctx<Arc<String>>| async move {
        h.subscribe(&ctx, "t");
        let _ = ready_tx.send(());
        if let Message::Msg(m) = ctx.recv().await {
            let _ = got_tx.send(m);
        }
    })
    .unwrap();
    ready.await.unwrap();
    sup.stop(Exit::Normal).await.unwrap();
    assert_eq!(hub.broadcast("t", "still here".to_string()), 1);
    assert_eq!(*within("the broadcast", got).await.unwrap(), "still here");
}
