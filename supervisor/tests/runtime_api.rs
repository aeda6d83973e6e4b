//! The runtime API of a static supervisor (R-SUP-REPORT for `which_children`'s order):
//! which_children, count_children, terminate_child, restart_child, delete_child, start_child.

mod common;

use beamish_process::Exit;
use beamish_supervisor::{
    ChildKind, ChildStatus, DeleteChildError, Restart, RestartChildError, StartChildError, Started,
    Strategy, Supervisor, TerminateChildError,
};
use common::{Ev, Log, node, worker};

#[tokio::test(start_paused = true)]
async fn which_children_lists_in_reverse_start_order_and_counts() {
    let node = node();
    let log = Log::new();
    let sup = Supervisor::new(Strategy::OneForOne)
        .child(worker("a", &log))
        .child(worker("b", &log))
        .child(Supervisor::new(Strategy::OneForOne).into_child_spec("sub"))
        .start(&node)
        .await
        .unwrap();
    let ids: Vec<_> = sup
        .which_children()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id.unwrap().to_string())
        .collect();
    assert_eq!(ids, ["sub", "b", "a"]);
    let n = sup.count_children().await.unwrap();
    assert_eq!((n.specs, n.active, n.supervisors, n.workers), (3, 3, 1, 2));
    assert_eq!(
        sup.which_children().await.unwrap()[0].kind,
        ChildKind::Supervisor
    );
}

#[tokio::test(start_paused = true)]
async fn terminate_restart_and_delete_a_child() {
    let node = node();
    let mut log = Log::new();
    let sup = Supervisor::new(Strategy::OneForOne)
        .child(worker("a", &log))
        .start(&node)
        .await
        .unwrap();
    let a = log.started("a").await;
    assert_eq!(
        sup.restart_child("a").await,
        Err(RestartChildError::Running(a))
    );
    assert_eq!(
        sup.delete_child("a").await,
        Err(DeleteChildError::Running(a))
    );

    sup.terminate_child("a").await.unwrap();
    assert_eq!(log.next().await, Ev::Stop("a"));
    assert_eq!(
        sup.which_children().await.unwrap()[0].status,
        ChildStatus::Undefined
    );
    assert_eq!(
        sup.terminate_child("zz").await,
        Err(TerminateChildError::NotFound)
    );

    let again = sup.restart_child("a").await.unwrap();
    assert_eq!(Some(log.started("a").await), again.pid());

    sup.terminate_child("a").await.unwrap();
    sup.delete_child("a").await.unwrap();
    assert!(sup.which_children().await.unwrap().is_empty());
    assert_eq!(sup.delete_child("a").await, Err(DeleteChildError::NotFound));
    assert_eq!(
        sup.restart_child("a").await,
        Err(RestartChildError::NotFound)
    );
}

#[tokio::test(start_paused = true)]
async fn start_child_adds_a_spec_at_the_end() {
    let node = node();
    let mut log = Log::new();
    let sup = Supervisor::new(Strategy::RestForOne)
        .child(worker("a", &log))
        .start(&node)
        .await
        .unwrap();
    log.started("a").await;
    let b = sup.start_child(worker("b", &log)).await.unwrap();
    assert_eq!(Some(log.started("b").await), b.pid());
    assert_eq!(
        sup.start_child(worker("b", &log)).await,
        Err(StartChildError::AlreadyStarted(b.pid().unwrap()))
    );
    // The new child is last in start order: a's crash takes it down (rest_for_one).
    let a = common::pids(&sup).await["a"];
    common::crash(&node, a, Exit::error("boom"));
    assert_eq!(log.next().await, Ev::Stop("b"));
    log.started("a").await;
    log.started("b").await;

    // A failed start keeps no spec.
    let failing =
        beamish_supervisor::ChildSpec::new("f", |_| Box::pin(async { Err(Exit::error("nope")) }));
    assert_eq!(
        sup.start_child(failing).await,
        Err(StartChildError::Failed(Exit::error("nope")))
    );
    assert_eq!(sup.count_children().await.unwrap().specs, 2);

    // An ignored one keeps its spec (unless temporary), and then it is "already present".
    let ignore =
        || beamish_supervisor::ChildSpec::new("i", |_| Box::pin(async { Ok(Started::Ignore) }));
    assert_eq!(sup.start_child(ignore()).await, Ok(Started::Ignore));
    assert_eq!(
        sup.start_child(ignore()).await,
        Err(StartChildError::AlreadyPresent)
    );
    assert_eq!(
        sup.start_child(ignore().restart(Restart::Temporary)).await,
        Err(StartChildError::AlreadyPresent)
    );
}

/// Calls to a supervisor that has gone fail with a typed error.
#[tokio::test(start_paused = true)]
async fn calls_to_a_stopped_supervisor_fail() {
    let node = node();
    let sup = Supervisor::new(Strategy::OneForOne)
        .start(&node)
        .await
        .unwrap();
    sup.stop(Exit::Shutdown).await.unwrap();
    assert_eq!(
        sup.count_children().await,
        Err(beamish_process::CallError::NoProc)
    );
}
