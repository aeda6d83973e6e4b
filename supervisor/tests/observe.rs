//! `NodeIntrospector`: the snapshot an observer reads (issue 5, items 5 and 6).

use std::time::Duration;

use beamish_process::{Ctx, Exit, Message, Node, Pid};
use beamish_supervisor::observe::NodeIntrospector;
use beamish_supervisor::{ChildSpec, Strategy, Supervisor};
use beamish_telemetry::introspect::{Introspect, SnapshotQuery, SortBy};
use beamish_telemetry::{EventLog, EventName};

async fn idle(mut ctx: Ctx<u64>) {
    while let Message::Msg(_) = ctx.recv().await {}
}

/// Never receives: its mailbox only grows.
async fn deaf(ctx: Ctx<u64>) {
    ctx.register("deaf").unwrap();
    std::future::pending::<()>().await;
}

/// The snapshot shows the flooded process first by mailbox, the tree with its strategy and
/// nested supervisor, node totals, and the event log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_shows_the_flooded_process_first_and_the_tree() {
    let node = Node::start_default().unwrap();
    let sup = Supervisor::new(Strategy::RestForOne)
        .child(ChildSpec::process("deaf", deaf))
        .child(ChildSpec::process("idle", idle))
        .child(
            Supervisor::new(Strategy::OneForAll)
                .child(ChildSpec::process("inner", idle))
                .into_child_spec("nested"),
        )
        .start(&node)
        .await
        .unwrap();
    let deaf_pid = loop {
        if let Some(pid) = node.whereis("deaf") {
            break pid;
        }
        tokio::task::yield_now().await;
    };
    for n in 0..500u64 {
        node.send(deaf_pid, n).unwrap();
    }
    const NOTE: EventName = EventName::new(&["test", "note"]);
    let log = EventLog::new(10);
    log.attach(node.telemetry(), "log", &[NOTE]).unwrap();
    node.telemetry()
        .emit(&NOTE, &[("n", 1u64.into())], &[("who", "test".into())]);

    let introspector = NodeIntrospector::new(&node)
        .supervisor(sup.pid())
        .events(log);
    let snap = introspector
        .snapshot(SnapshotQuery {
            sort: SortBy::MailboxLen,
            limit: 3,
            window: Duration::ZERO,
        })
        .await;

    assert_eq!(snap.processes.len(), 3);
    let first = &snap.processes[0];
    assert_eq!(Pid::from(first.pid), deaf_pid);
    assert_eq!(first.name.as_deref(), Some("deaf"));
    assert_eq!(first.mailbox_len, 500);
    assert_eq!(first.behaviour, "process");
    assert!(first.memory_bytes > 500 * 8, "{}", first.memory_bytes);
    assert_eq!(first.message_rate, None, "no baseline yet: no rate");

    // supervisor, deaf, idle, nested, inner
    assert_eq!(snap.totals.processes, 5);
    assert!(snap.totals.spawned >= 5);
    assert_eq!(snap.trees.len(), 1);
    let tree = &snap.trees[0];
    assert_eq!(tree.strategy, "rest_for_one");
    let ids: Vec<_> = tree
        .children
        .iter()
        .map(|c| c.id.clone().unwrap())
        .collect();
    assert_eq!(ids, vec!["deaf", "idle", "nested"]);
    let nested = tree.children[2].tree.as_ref().expect("nested tree");
    assert_eq!(nested.strategy, "one_for_all");
    assert_eq!(nested.children[0].id.as_deref(), Some("inner"));
    assert_eq!(nested.children[0].status, "running");

    assert_eq!(snap.events.len(), 1);
    assert_eq!(snap.events[0].name, "test.note");

    // The JSON an endpoint serves reads back the same.
    let json = serde_json::to_string(&snap).unwrap();
    let back: beamish_telemetry::introspect::NodeSnapshot = serde_json::from_str(&json).unwrap();
    assert_eq!(back, snap);
    sup.stop(Exit::Shutdown).await.unwrap();
}

/// Sorting by rate puts the process that handled the most messages since the previous
/// snapshot first, with a per-second rate; restarts show in the tree and the totals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rates_come_from_the_previous_snapshot_and_restarts_are_counted() {
    let node = Node::start_default().unwrap();
    let sup = Supervisor::new(Strategy::OneForOne)
        .intensity(100, Duration::from_secs(5))
        .child(ChildSpec::process("busy", idle))
        .child(ChildSpec::process("quiet", idle))
        .child(ChildSpec::process(
            "crasher",
            |mut ctx: Ctx<u64>| async move {
                match ctx.recv().await {
                    Message::Msg(_) => Err(Exit::error("told to crash")),
                    _ => Ok(()),
                }
            },
        ))
        .start(&node)
        .await
        .unwrap();
    let introspector = NodeIntrospector::new(&node).supervisor(sup.pid());
    let query = SnapshotQuery {
        sort: SortBy::MessageRate,
        limit: 2,
        window: Duration::ZERO,
    };
    introspector.snapshot(query).await; // the baseline

    let children = sup.which_children().await.unwrap();
    let pid_of = |id: &str| {
        children
            .iter()
            .find(|c| c.id.as_deref() == Some(id))
            .and_then(|c| c.status.pid())
            .unwrap()
    };
    let (busy, crasher) = (pid_of("busy"), pid_of("crasher"));
    for n in 0..300u64 {
        node.send(busy, n).unwrap();
    }
    let down = node.monitor(crasher);
    node.send(crasher, 0u64).unwrap();
    assert_eq!(down.await, Exit::error("told to crash"));
    // Wait until busy has handled all 300 and the crasher is back.
    loop {
        let done = node.process_info(busy).unwrap().messages_handled == 300;
        let restarted = sup
            .which_children()
            .await
            .unwrap()
            .iter()
            .any(|c| c.id.as_deref() == Some("crasher") && c.restarts == 1);
        if done && restarted {
            break;
        }
        tokio::task::yield_now().await;
    }

    let snap = introspector.snapshot(query).await;
    assert_eq!(Pid::from(snap.processes[0].pid), busy);
    assert!(snap.processes[0].message_rate.unwrap() > 0.0);
    assert_eq!(snap.totals.restarts, 1);
    let crasher_row = &snap.trees[0].children[2];
    assert_eq!(crasher_row.restarts, 1);
    assert_ne!(crasher_row.pid.map(Pid::from), Some(crasher), "a new pid");
    sup.stop(Exit::Shutdown).await.unwrap();
}

/// A window in the query samples over that window (recon's `proc_window`), under the paused
/// clock here, so the rate is exact.
#[tokio::test(start_paused = true)]
async fn a_query_window_measures_rates_over_the_window() {
    let node = Node::start_default().unwrap();
    let busy = node.spawn(idle).unwrap().pid();
    let feeder_node = node.clone();
    let feeder = tokio::spawn(async move {
        for n in 0..100u64 {
            tokio::time::sleep(Duration::from_millis(10)).await;
            let _ = feeder_node.send(busy, n);
        }
    });
    let snap = NodeIntrospector::new(&node)
        .snapshot(SnapshotQuery {
            sort: SortBy::MessageRate,
            limit: 1,
            window: Duration::from_millis(500),
        })
        .await;
    assert_eq!(Pid::from(snap.processes[0].pid), busy);
    let rate = snap.processes[0].message_rate.unwrap();
    assert!((90.0..=110.0).contains(&rate), "{rate} messages/s");
    feeder.await.unwrap();
}
