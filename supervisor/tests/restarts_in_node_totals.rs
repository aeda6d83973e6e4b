//! Supervisors count each child restart in the node's totals (`Node::count_restart`, issue 5),
//! static and dynamic alike; a first start, or a child that is not restarted, does not count.

mod common;

use beamish_process::Exit;
use beamish_supervisor::{ChildSpec, DynamicSupervisor, Restart, Strategy, Supervisor};
use common::{Log, crash, node, worker};

/// one_for_all restarts the whole group: each restarted child counts once.
#[tokio::test(start_paused = true)]
async fn a_static_supervisor_counts_each_restarted_child() {
    let node = node();
    let mut log = Log::new();
    let sup = Supervisor::new(Strategy::OneForAll)
        .children(["a", "b", "c"].map(|id| worker(id, &log)))
        .start(&node)
        .await
        .unwrap();
    let pids: Vec<_> = log.take(3).await.iter().map(|e| e.pid().unwrap()).collect();
    assert_eq!(node.totals().restarts, 0, "first starts are not restarts");

    crash(&node, pids[0], Exit::error("boom"));
    log.take(5).await; // stop c, stop b, start a, b, c
    sup.count_children().await.unwrap(); // the restart is over by the time this answers
    assert_eq!(node.totals().restarts, 3);
    let rates = node
        .totals()
        .rates_since(&Default::default(), std::time::Duration::from_secs(3));
    assert_eq!(rates.restarts, 1.0);
}

/// A dynamic supervisor counts a restarted child; a temporary one that ends is not restarted
/// and does not count.
#[tokio::test(start_paused = true)]
async fn a_dynamic_supervisor_counts_a_restart() {
    let node = node();
    let mut log = Log::new();
    let sup = DynamicSupervisor::new().start(&node).await.unwrap();
    sup.start_child(worker("p", &log)).await.unwrap();
    let temp: ChildSpec = worker("t", &log).restart(Restart::Temporary);
    sup.start_child(temp).await.unwrap();
    let p = log.started("p").await;
    let t = log.started("t").await;

    crash(&node, t, Exit::error("boom"));
    // Its exit signal reached the supervisor before its DOWN reaches us, so the count
    // below is answered after the supervisor handled it.
    common::exit_of(&node, t).await;
    assert_eq!(sup.count_children().await.unwrap().active, 1);
    assert_eq!(
        node.totals().restarts,
        0,
        "a temporary child is not restarted"
    );
    crash(&node, p, Exit::error("boom"));
    assert_ne!(log.started("p").await, p);
    sup.count_children().await.unwrap();
    assert_eq!(node.totals().restarts, 1);
}
