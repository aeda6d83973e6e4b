//! R-SUP-RT: permanent children restart even after `normal`; transient ones only after an
//! abnormal exit; temporary ones never, and their spec goes, also when a sibling's failure
//! takes them down.

mod common;

use beamish_process::Exit;
use beamish_supervisor::{Restart, Strategy, Supervisor};
use common::{Ev, Log, crash, node, pids, worker};

/// R-SUP-RT: a permanent child is restarted after every kind of exit, `normal` included.
#[tokio::test(start_paused = true)]
async fn r_sup_rt_permanent_restarts_even_after_normal() {
    let node = node();
    let mut log = Log::new();
    let sup = Supervisor::new(Strategy::OneForOne)
        .intensity(10, std::time::Duration::from_secs(5))
        .child(worker("p", &log))
        .start(&node)
        .await
        .unwrap();
    let mut pid = log.started("p").await;
    for reason in [
        Exit::Normal,
        Exit::Shutdown,
        Exit::shutdown_with("x"),
        Exit::error("e"),
    ] {
        crash(&node, pid, reason);
        let next = log.started("p").await;
        assert_ne!(next, pid);
        pid = next;
    }
    assert_eq!(sup.which_children().await.unwrap()[0].restarts, 4);
}

/// R-SUP-RT: a transient child is restarted only after an abnormal exit.
#[tokio::test(start_paused = true)]
async fn r_sup_rt_transient_restarts_only_after_abnormal_exits() {
    let node = node();
    for reason in [Exit::Normal, Exit::Shutdown, Exit::shutdown_with("x")] {
        let mut log = Log::new();
        let sup = Supervisor::new(Strategy::OneForOne)
            .child(worker("t", &log).restart(Restart::Transient))
            .start(&node)
            .await
            .unwrap();
        let pid = log.started("t").await;
        crash(&node, pid, reason.clone());
        common::exit_of(&node, pid).await;
        let kids = sup.which_children().await.unwrap();
        assert_eq!(kids[0].status.pid(), None, "{reason} must not restart it");
        assert_eq!(sup.count_children().await.unwrap().specs, 1, "spec kept");
        log.assert_quiet();
    }
    let mut log = Log::new();
    let _sup = Supervisor::new(Strategy::OneForOne)
        .child(worker("t", &log).restart(Restart::Transient))
        .start(&node)
        .await
        .unwrap();
    let pid = log.started("t").await;
    crash(&node, pid, Exit::Killed);
    assert_ne!(log.started("t").await, pid);
}

/// R-SUP-RT: a temporary child is never restarted and its spec is removed when it ends.
#[tokio::test(start_paused = true)]
async fn r_sup_rt_temporary_never_restarts_and_its_spec_goes() {
    let node = node();
    let mut log = Log::new();
    let sup = Supervisor::new(Strategy::OneForOne)
        .child(worker("tmp", &log).restart(Restart::Temporary))
        .start(&node)
        .await
        .unwrap();
    let pid = log.started("tmp").await;
    crash(&node, pid, Exit::error("boom"));
    common::exit_of(&node, pid).await;
    assert!(sup.which_children().await.unwrap().is_empty());
    log.assert_quiet();
}

/// R-SUP-RT: a temporary child taken down by a sibling under one_for_all is not restarted,
/// and its spec goes too.
#[tokio::test(start_paused = true)]
async fn r_sup_rt_temporary_taken_down_by_a_sibling_is_not_restarted() {
    let node = node();
    let mut log = Log::new();
    let sup = Supervisor::new(Strategy::OneForAll)
        .child(worker("a", &log))
        .child(worker("tmp", &log).restart(Restart::Temporary))
        .start(&node)
        .await
        .unwrap();
    let a = log.started("a").await;
    log.started("tmp").await;
    crash(&node, a, Exit::error("boom"));
    assert_eq!(log.next().await, Ev::Stop("tmp"));
    log.started("a").await;
    let kids = pids(&sup).await;
    assert_eq!(kids.len(), 1);
    assert!(kids.contains_key("a"));
    log.assert_quiet();
}
