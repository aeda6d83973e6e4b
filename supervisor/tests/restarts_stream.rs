//! Issue 13 §3: awaiting a restart instead of polling `which_children`. A subscription sees
//! every restart made after it, with the old and the new pid, and ends with the supervisor.

mod common;

use beamish_process::{Ctx, Exit};
use beamish_supervisor::{ChildSpec, DynamicSupervisor, Started, Strategy, Supervisor};
use common::{Log, node, pids, within, worker};

fn idle() -> ChildSpec {
    ChildSpec::process("idle", |mut ctx: Ctx<()>| async move {
        ctx.recv().await;
    })
}

/// R-SUP-STRAT: under one-for-all the failed child and its sibling are both restarted, each
/// a `Restarted` with the pid it replaces, in start order.
#[tokio::test(start_paused = true)]
async fn r_sup_strat_each_restart_of_a_group_is_announced_in_start_order() {
    let node = node();
    let mut log = Log::new();
    let sup = Supervisor::new(Strategy::OneForAll)
        .child(worker("a", &log))
        .child(worker("b", &log))
        .start(&node)
        .await
        .unwrap();
    log.take(2).await;
    let before = pids(&sup).await;
    let mut restarts = sup.restarts().await.unwrap();
    node.exit(before["b"], Exit::Kill);
    let first = within("a's restart", restarts.next()).await.unwrap();
    let second = within("b's restart", restarts.next()).await.unwrap();
    assert_eq!((&*first.id, first.old), ("a", before["a"]));
    assert_eq!((&*second.id, second.old), ("b", before["b"]));
    let after = pids(&sup).await;
    assert_eq!((first.new, second.new), (after["a"], after["b"]));
}

/// R-DS-1: a dynamic supervisor's child is awaited by the pid it had.
#[tokio::test(start_paused = true)]
async fn r_ds_1_a_dynamic_child_is_awaited_by_its_old_pid() {
    let node = node();
    let ds = DynamicSupervisor::new().start(&node).await.unwrap();
    let Started::Running(a) = ds.start_child(idle()).await.unwrap() else {
        panic!("runs")
    };
    let Started::Running(b) = ds.start_child(idle()).await.unwrap() else {
        panic!("runs")
    };
    let mut restarts = ds.restarts().await.unwrap();
    node.exit(a, Exit::Kill);
    node.exit(b, Exit::Kill);
    let rb = within("b's restart", restarts.of_pid(b)).await.unwrap();
    assert_eq!(rb.old, b);
    assert!(node.is_alive(rb.new));
    assert_eq!(ds.count_children().await.unwrap().active, 2);
}

/// The stream ends when the supervisor does; a restart made before subscribing is not in it.
#[tokio::test(start_paused = true)]
async fn the_stream_ends_with_the_supervisor() {
    let node = node();
    let sup = Supervisor::new(Strategy::OneForOne)
        .child(idle())
        .start(&node)
        .await
        .unwrap();
    let mut restarts = sup.restarts().await.unwrap();
    sup.stop(Exit::Normal).await.unwrap();
    assert_eq!(within("the end of the stream", restarts.next()).await, None);
}
