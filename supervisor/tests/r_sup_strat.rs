//! R-SUP-STRAT: one_for_one restarts only the failed child; one_for_all terminates the others
//! (reverse start order) and restarts all (start order); rest_for_one does the same for the
//! children started after the failed one.

mod common;

use beamish_process::Exit;
use beamish_supervisor::{Strategy, Supervisor, SupervisorRef};
use common::{Ev, Log, crash, node, worker};

async fn four(
    node: &beamish_process::Node,
    strategy: Strategy,
    log: &mut Log,
) -> (SupervisorRef, Vec<beamish_process::Pid>) {
    let sup = Supervisor::new(strategy)
        .children(["a", "b", "c", "d"].map(|id| worker(id, log)))
        .start(node)
        .await
        .unwrap();
    let pids = log.take(4).await.iter().map(|e| e.pid().unwrap()).collect();
    (sup, pids)
}

fn names(evs: &[Ev]) -> Vec<String> {
    evs.iter()
        .map(|e| match e {
            Ev::Start(id, _) => format!("start {id}"),
            Ev::Stop(id) => format!("stop {id}"),
        })
        .collect()
}

/// R-SUP-STRAT: one_for_one.
#[tokio::test(start_paused = true)]
async fn r_sup_strat_one_for_one_restarts_only_the_failed_child() {
    let node = node();
    let mut log = Log::new();
    let (sup, pids) = four(&node, Strategy::OneForOne, &mut log).await;
    crash(&node, pids[1], Exit::error("boom"));
    let new_b = log.started("b").await;
    assert_ne!(new_b, pids[1]);
    // A call after the restart: everything the supervisor did is logged by now.
    let kids = common::pids(&sup).await;
    assert_eq!(kids["a"], pids[0]);
    assert_eq!(kids["b"], new_b);
    assert_eq!(kids["c"], pids[2]);
    log.assert_quiet();
}

/// R-SUP-STRAT: one_for_all: the others stop in reverse start order, then all start in order.
#[tokio::test(start_paused = true)]
async fn r_sup_strat_one_for_all_restarts_everyone_in_order() {
    let node = node();
    let mut log = Log::new();
    let (sup, pids) = four(&node, Strategy::OneForAll, &mut log).await;
    crash(&node, pids[1], Exit::error("boom"));
    let evs = log.take(7).await;
    assert_eq!(
        names(&evs),
        [
            "stop d", "stop c", "stop a", "start a", "start b", "start c", "start d"
        ]
    );
    sup.count_children().await.unwrap();
    log.assert_quiet();
}

/// R-SUP-STRAT: rest_for_one: those after the failed child stop in reverse, then the failed
/// one and they start in order; those before are untouched.
#[tokio::test(start_paused = true)]
async fn r_sup_strat_rest_for_one_restarts_the_rest_in_order() {
    let node = node();
    let mut log = Log::new();
    let (sup, pids) = four(&node, Strategy::RestForOne, &mut log).await;
    crash(&node, pids[1], Exit::error("boom"));
    let evs = log.take(5).await;
    assert_eq!(
        names(&evs),
        ["stop d", "stop c", "start b", "start c", "start d"]
    );
    let kids = common::pids(&sup).await;
    assert_eq!(kids["a"], pids[0]);
    log.assert_quiet();
}
