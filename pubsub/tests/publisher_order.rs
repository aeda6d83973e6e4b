//! R-PS-3: delivery happens in the publisher's process, so each publisher's messages reach
//! every subscriber in publish order (nothing is promised between publishers).

mod common;

use std::collections::HashMap;

use beamish_process::Pid;
use beamish_pubsub::PubSub;
use common::{Client, node, within};

/// R-PS-3: four publishers on a multi-thread runtime, each publishing 200 numbered messages
/// to 8 subscribers: every subscriber sees each publisher's numbers in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn r_ps_3_per_publisher_order_is_kept() {
    const PER_PUBLISHER: u32 = 200;
    let node = node();
    let hub: PubSub<(Pid, u32)> = PubSub::with_partitions(&node, 4).unwrap();
    let mut subscribers: Vec<Client<(Pid, u32)>> = (0..8).map(|_| Client::spawn(&node)).collect();
    for s in &subscribers {
        let h = hub.clone();
        s.run(move |ctx| h.subscribe(ctx, "t")).await;
    }
    let publishers: Vec<Client<(Pid, u32)>> = (0..4).map(|_| Client::spawn(&node)).collect();
    // Every publisher gets its job before any waits: they publish at the same time, each
    // from inside its own process.
    let done: Vec<_> = publishers
        .iter()
        .map(|p| {
            let h = hub.clone();
            p.start(move |ctx| {
                let me = ctx.pid();
                for n in 0..PER_PUBLISHER {
                    h.broadcast("t", (me, n));
                }
            })
        })
        .collect();
    for rx in done {
        within("a publisher", rx).await.unwrap();
    }
    for s in &mut subscribers {
        let mut next: HashMap<Pid, u32> = HashMap::new();
        for _ in 0..PER_PUBLISHER * 4 {
            let m = s.next().await;
            let (from, n) = *m;
            let want = next.entry(from).or_insert(0);
            assert_eq!(n, *want, "out of order from {from}");
            *want += 1;
        }
        assert!(next.values().all(|n| *n == PER_PUBLISHER));
    }
}
