//! R-SUP-AUTO: with `AnySignificant` the supervisor stops when any significant child ends
//! without being restarted; with `AllSignificant`, when the last one does; a significant
//! child must be transient or temporary, and needs an auto shutdown.

mod common;

use beamish_process::Exit;
use beamish_supervisor::{
    AutoShutdown, Restart, StartChildError, Strategy, Supervisor, SupervisorStartError,
};
use common::{Ev, Log, crash, exit_of, node, worker};

/// R-SUP-AUTO: any_significant: one significant child's normal exit stops the supervisor,
/// which stops the others first.
#[tokio::test(start_paused = true)]
async fn r_sup_auto_any_significant() {
    let node = node();
    let mut log = Log::new();
    let sup = Supervisor::new(Strategy::OneForOne)
        .auto_shutdown(AutoShutdown::AnySignificant)
        .child(worker("other", &log))
        .child(
            worker("job", &log)
                .restart(Restart::Transient)
                .significant(true),
        )
        .start(&node)
        .await
        .unwrap();
    log.started("other").await;
    let job = log.started("job").await;
    let down = node.monitor(sup.pid());
    crash(&node, job, Exit::Normal);
    assert_eq!(log.next().await, Ev::Stop("other"));
    assert_eq!(down.await, Exit::Shutdown);
}

/// R-SUP-AUTO: a significant transient child that crashes is restarted, not a reason to stop.
#[tokio::test(start_paused = true)]
async fn r_sup_auto_a_restarted_significant_child_does_not_stop_it() {
    let node = node();
    let mut log = Log::new();
    let sup = Supervisor::new(Strategy::OneForOne)
        .auto_shutdown(AutoShutdown::AnySignificant)
        .child(
            worker("job", &log)
                .restart(Restart::Transient)
                .significant(true),
        )
        .start(&node)
        .await
        .unwrap();
    let job = log.started("job").await;
    crash(&node, job, Exit::error("boom"));
    log.started("job").await;
    assert!(sup.is_alive());
}

/// R-SUP-AUTO: all_significant: the supervisor stops only when the last significant child
/// has ended.
#[tokio::test(start_paused = true)]
async fn r_sup_auto_all_significant() {
    let node = node();
    let mut log = Log::new();
    let sup = Supervisor::new(Strategy::OneForOne)
        .auto_shutdown(AutoShutdown::AllSignificant)
        .child(
            worker("j1", &log)
                .restart(Restart::Temporary)
                .significant(true),
        )
        .child(
            worker("j2", &log)
                .restart(Restart::Transient)
                .significant(true),
        )
        .start(&node)
        .await
        .unwrap();
    let j1 = log.started("j1").await;
    let j2 = log.started("j2").await;
    crash(&node, j1, Exit::Normal);
    exit_of(&node, j1).await;
    assert_eq!(sup.count_children().await.unwrap().active, 1);
    assert!(sup.is_alive());
    crash(&node, j2, Exit::Shutdown);
    assert_eq!(exit_of(&node, sup.pid()).await, Exit::Shutdown);
}

/// R-SUP-AUTO: a permanent significant child, or a significant child under `Never`, is an
/// invalid spec.
#[tokio::test(start_paused = true)]
async fn r_sup_auto_invalid_significant_specs_are_refused() {
    let node = node();
    let log = Log::new();
    let err = Supervisor::new(Strategy::OneForOne)
        .auto_shutdown(AutoShutdown::AnySignificant)
        .child(worker("p", &log).significant(true))
        .start(&node)
        .await
        .unwrap_err();
    assert!(matches!(err, SupervisorStartError::InvalidChildSpec { .. }));
    let sup = Supervisor::new(Strategy::OneForOne)
        .start(&node)
        .await
        .unwrap();
    let err = sup
        .start_child(
            worker("t", &log)
                .restart(Restart::Transient)
                .significant(true),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StartChildError::InvalidChildSpec(_)));
}
