//! Fan-out shares the message: every subscriber receives a clone of one `Arc`, never a copy;
//! and a custom dispatcher decides whom a broadcast reaches (Phoenix's `dispatcher`).

mod common;

use std::sync::Arc;

use beamish_pubsub::PubSub;
use common::{Client, node};

/// R-PS-2: 1,000 subscribers all receive the very same allocation.
#[tokio::test]
async fn r_ps_2_fan_out_shares_one_arc() {
    let node = node();
    let hub: PubSub<Vec<u8>> = PubSub::with_partitions(&node, 4).unwrap();
    let mut subs: Vec<Client<Vec<u8>>> = (0..1000).map(|_| Client::spawn(&node)).collect();
    for s in &subs {
        let h = hub.clone();
        s.run(move |ctx| h.subscribe(ctx, "t")).await;
    }
    let message = Arc::new(vec![7u8; 1024]);
    assert_eq!(hub.broadcast("t", message.clone()), 1000);
    for s in &mut subs {
        assert!(Arc::ptr_eq(&s.next().await, &message));
    }
}

/// R-PS-2: a custom dispatcher sees every subscription once, with the shared message, and
/// delivers to whom it chooses.
#[tokio::test]
async fn r_ps_2_custom_dispatcher_chooses_the_recipients() {
    let node = node();
    let hub: PubSub<u32> = PubSub::with_partitions(&node, 2).unwrap();
    let mut subs: Vec<Client<u32>> = (0..6).map(|_| Client::spawn(&node)).collect();
    for s in &subs {
        let h = hub.clone();
        s.run(move |ctx| h.subscribe(ctx, "t")).await;
    }
    let chosen = subs[2].pid();
    let mut seen = 0;
    hub.broadcast_with("t", 42, |batch, message| {
        for sub in batch {
            seen += 1;
            if sub.pid() == chosen {
                assert!(sub.value().send(message));
            }
        }
    });
    assert_eq!(seen, 6);
    assert_eq!(*subs[2].next().await, 42);
    for (i, s) in subs.iter_mut().enumerate() {
        if i != 2 {
            s.assert_nothing_more(0).await;
        }
    }
}
