//! R-PS-1: subscribing twice means two deliveries of each message; unsubscribing removes
//! every subscription of the caller to the topic.

mod common;

use beamish_pubsub::PubSub;
use common::{Client, node};

/// R-PS-1: duplicates deliver twice; unsubscribe removes all of them, and only the caller's.
#[tokio::test]
async fn r_ps_1_duplicate_subscriptions_and_unsubscribe() {
    let node = node();
    let hub: PubSub<u32> = PubSub::start(&node).unwrap();
    let mut a = Client::<u32>::spawn(&node);
    let mut b = Client::<u32>::spawn(&node);
    let h = hub.clone();
    a.run(move |ctx| {
        h.subscribe(ctx, "t");
        h.subscribe(ctx, "t");
    })
    .await;
    let h = hub.clone();
    b.run(move |ctx| h.subscribe(ctx, "t")).await;
    assert_eq!(hub.subscriber_count("t"), 3);

    assert_eq!(hub.broadcast("t", 1), 3);
    assert_eq!(*a.next().await, 1);
    assert_eq!(*a.next().await, 1);
    assert_eq!(*b.next().await, 1);

    let h = hub.clone();
    a.run(move |ctx| h.unsubscribe(ctx, "t")).await;
    assert_eq!(hub.subscribers("t"), vec![b.pid()]);
    assert_eq!(hub.broadcast("t", 2), 1);
    assert_eq!(*b.next().await, 2);
    a.assert_nothing_more(0).await;
}
