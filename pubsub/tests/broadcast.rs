//! R-PS-2: `broadcast` reaches every subscriber, the sender included; `broadcast_from` leaves
//! the sender out; `local_broadcast(_from)` do the same on this node; subscribers that ended
//! get nothing, and that is not an error; they are removed.

mod common;

use beamish_process::Exit;
use beamish_pubsub::PubSub;
use common::{Client, node};

/// R-PS-2: a publisher that subscribes gets its own broadcast, not its broadcast_from.
#[tokio::test]
async fn r_ps_2_broadcast_includes_the_sender_broadcast_from_does_not() {
    let node = node();
    let hub: PubSub<&'static str> = PubSub::start(&node).unwrap();
    let mut publisher = Client::spawn(&node);
    let mut other = Client::spawn(&node);
    for c in [&publisher, &other] {
        let h = hub.clone();
        c.run(move |ctx| h.subscribe(ctx, "t")).await;
    }

    let h = hub.clone();
    assert_eq!(publisher.run(move |_| h.broadcast("t", "all")).await, 2);
    assert_eq!(*publisher.next().await, "all");
    assert_eq!(*other.next().await, "all");

    let h = hub.clone();
    let me = publisher.pid();
    assert_eq!(
        publisher
            .run(move |_| h.broadcast_from(me, "t", "others"))
            .await,
        1
    );
    assert_eq!(*other.next().await, "others");

    assert_eq!(hub.local_broadcast("t", "local"), 2);
    assert_eq!(hub.local_broadcast_from(me, "t", "local-others"), 1);
    assert_eq!(*publisher.next().await, "local");
    assert_eq!(*other.next().await, "local");
    assert_eq!(*other.next().await, "local-others");
    publisher.assert_nothing_more("marker").await;

    // A topic nobody subscribes to: nothing to do, no error.
    assert_eq!(hub.broadcast("empty", "x"), 0);
}

/// R-PS-2: a subscriber that ended gets nothing, no error, and its subscriptions go.
#[tokio::test]
async fn r_ps_2_ended_subscribers_are_skipped_and_removed() {
    let node = node();
    let hub: PubSub<u32> = PubSub::start(&node).unwrap();
    let gone = Client::<u32>::spawn(&node);
    let mut stays = Client::<u32>::spawn(&node);
    for c in [&gone, &stays] {
        let h = hub.clone();
        c.run(move |ctx| h.subscribe(ctx, "t")).await;
    }
    gone.kill(&node, Exit::Killed).await;
    // Before the cleanup: the dead subscriber is skipped silently.
    assert_eq!(hub.broadcast("t", 1), 1);
    assert_eq!(*stays.next().await, 1);
    hub.sync().await;
    assert_eq!(hub.subscribers("t"), vec![stays.pid()]);
}
