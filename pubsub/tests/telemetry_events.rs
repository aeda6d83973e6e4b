//! The pubsub events of issue 5: `subscribed` and `unsubscribed` carry the topic's
//! subscriptions after the change, `broadcast` the deliveries made; each is emitted by the
//! calling process before the call returns. A handler forwards owned copies into a channel.

mod common;

use beamish_process::{Node, Pid};
use beamish_pubsub::PubSub;
use beamish_telemetry::events::pubsub::{BROADCAST, SUBSCRIBED, UNSUBSCRIBED};
use beamish_telemetry::{EventName, EventRecord, ProcessId, capture};
use common::{Client, node};
use tokio::sync::mpsc;

fn listen(node: &Node, names: &[EventName]) -> mpsc::UnboundedReceiver<EventRecord> {
    capture(node.telemetry(), "test-listener", names).expect("attach the test listener")
}

fn shown(pid: Pid) -> String {
    ProcessId::from(pid).to_string()
}

/// Issue 5, R-PS-1: subscribing twice counts twice; unsubscribing removes both.
#[tokio::test]
async fn subscribed_and_unsubscribed_carry_the_subscriber_count() {
    let node = node();
    let mut rx = listen(&node, &[SUBSCRIBED, UNSUBSCRIBED]);
    let hub: PubSub<u32> = PubSub::start(&node).unwrap();
    let a = Client::<u32>::spawn(&node);
    for n in 1..=2 {
        let h = hub.clone();
        a.run(move |ctx| h.subscribe(ctx, "t")).await;
        let e = rx.try_recv().expect("emitted before subscribe returned");
        assert_eq!(e.name, "beamish.pubsub.subscribed");
        assert_eq!(e.measurement("subscribers"), Some(f64::from(n)));
        assert_eq!(e.meta("topic"), Some("t"));
        assert_eq!(e.meta("pid"), Some(shown(a.pid()).as_str()));
    }
    let h = hub.clone();
    a.run(move |ctx| h.unsubscribe(ctx, "t")).await;
    let e = rx.try_recv().expect("emitted before unsubscribe returned");
    assert_eq!(e.name, "beamish.pubsub.unsubscribed");
    assert_eq!(e.measurement("subscribers"), Some(0.0));
    assert_eq!(e.meta("topic"), Some("t"));
}

/// Issue 5, R-PS-2: `broadcast` counts the deliveries, the sender included for `broadcast`
/// and left out (and named) for `broadcast_from`; a topic nobody follows delivers to none.
#[tokio::test]
async fn broadcast_counts_recipients() {
    let node = node();
    let mut rx = listen(&node, &[BROADCAST]);
    let hub: PubSub<u32> = PubSub::start(&node).unwrap();
    let mut a = Client::<u32>::spawn(&node);
    let mut b = Client::<u32>::spawn(&node);
    for c in [&a, &b] {
        let h = hub.clone();
        c.run(move |ctx| h.subscribe(ctx, "t")).await;
    }
    assert_eq!(hub.broadcast("t", 1), 2);
    let e = rx.try_recv().expect("emitted before broadcast returned");
    assert_eq!(e.name, "beamish.pubsub.broadcast");
    assert_eq!(e.measurement("recipients"), Some(2.0));
    assert_eq!(e.meta("topic"), Some("t"));
    assert_eq!(e.meta("from"), None);
    assert_eq!(*a.next().await, 1);
    assert_eq!(*b.next().await, 1);

    assert_eq!(hub.broadcast_from(a.pid(), "t", 2), 1);
    let e = rx
        .try_recv()
        .expect("emitted before broadcast_from returned");
    assert_eq!(e.measurement("recipients"), Some(1.0));
    assert_eq!(e.meta("from"), Some(shown(a.pid()).as_str()));
    assert_eq!(*b.next().await, 2);

    assert_eq!(hub.broadcast("nobody", 3), 0);
    let e = rx.try_recv().expect("emitted for an empty topic too");
    assert_eq!(e.measurement("recipients"), Some(0.0));
    assert_eq!(e.meta("topic"), Some("nobody"));
}
