//! The registry events of issue 5: `registered` and `unregistered` carry the size of the
//! key's partition after the change, and are emitted by the registering process before the
//! call returns. A handler forwards owned copies into a channel.

mod common;

use beamish_process::{Node, Pid};
use beamish_registry::{Keys, Registry};
use beamish_telemetry::events::registry::{REGISTERED, UNREGISTERED};
use beamish_telemetry::{EventName, EventRecord, ProcessId, capture};
use common::{Agent, node};
use tokio::sync::mpsc;

fn listen(node: &Node, names: &[EventName]) -> mpsc::UnboundedReceiver<EventRecord> {
    capture(node.telemetry(), "test-listener", names).expect("attach the test listener")
}

fn shown(pid: Pid) -> String {
    ProcessId::from(pid).to_string()
}

/// Issue 5, R-REG-1: each registration emits `registered` with the partition's size after
/// it; a refused one (the key is taken) emits nothing.
#[tokio::test]
async fn registered_carries_the_partition_size() {
    let node = node();
    let mut rx = listen(&node, &[REGISTERED]);
    let reg: Registry<&'static str, u32> = Registry::builder(Keys::Unique)
        .partitions(1)
        .start(&node)
        .unwrap();
    let agent = Agent::spawn(&node);
    for (n, key) in ["a", "b"].into_iter().enumerate() {
        let r = reg.clone();
        agent.run(move |ctx| r.register(ctx, key, 0)).await.unwrap();
        let e = rx.try_recv().expect("emitted before register returned");
        assert_eq!(e.name, "beamish.registry.registered");
        assert_eq!(e.measurement("partition_size"), Some((n + 1) as f64));
        assert_eq!(e.measurement("partitions"), Some(1.0));
        assert_eq!(e.meta("pid"), Some(shown(agent.pid()).as_str()));
        assert_eq!(e.meta("keys"), Some("unique"));
    }
    let r = reg.clone();
    assert!(agent.run(move |ctx| r.register(ctx, "a", 1)).await.is_err());
    assert!(
        rx.try_recv().is_err(),
        "a refused registration changes nothing"
    );
}

/// Issue 5, R-REG-3: `unregistered` counts the entries removed (duplicates included) and the
/// partition's size after; unregistering a key one does not hold emits nothing.
#[tokio::test]
async fn unregistered_counts_the_removed_entries() {
    let node = node();
    let mut rx = listen(&node, &[UNREGISTERED]);
    let reg: Registry<&'static str, u32> = Registry::builder(Keys::Duplicate)
        .partitions(1)
        .start(&node)
        .unwrap();
    let agent = Agent::spawn(&node);
    let r = reg.clone();
    agent
        .run(move |ctx| {
            r.register(ctx, "k", 1).unwrap();
            r.register(ctx, "k", 2).unwrap();
            r.register(ctx, "other", 3).unwrap();
            r.unregister(ctx, &"k");
        })
        .await;
    let e = rx.try_recv().expect("emitted before unregister returned");
    assert_eq!(e.name, "beamish.registry.unregistered");
    assert_eq!(e.measurement("removed"), Some(2.0));
    assert_eq!(e.measurement("partition_size"), Some(1.0));
    assert_eq!(e.meta("pid"), Some(shown(agent.pid()).as_str()));
    assert_eq!(e.meta("keys"), Some("duplicate"));
    let r = reg.clone();
    agent.run(move |ctx| r.unregister(ctx, &"k")).await;
    assert!(rx.try_recv().is_err(), "nothing was removed");
}
