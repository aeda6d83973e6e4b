//! R-SUP-INT: with intensity N, the (N+1)-th restart inside the period stops the supervisor:
//! it stops the remaining children in reverse start order and exits with `shutdown`.
//! Restarts that have left the window do not count. Elixir's defaults: 3 in 5 s.

mod common;

use std::time::Duration;

use beamish_process::Exit;
use beamish_supervisor::{Strategy, Supervisor};
use common::{Ev, Log, crash, exit_of, node, worker};

/// R-SUP-INT: 3 restarts in 5 s are fine (the defaults); the 4th trips it, the remaining
/// children stop in reverse order, and the supervisor exits with `shutdown`.
#[tokio::test(start_paused = true)]
async fn r_sup_int_the_fourth_restart_in_the_period_trips_the_defaults() {
    let node = node();
    let mut log = Log::new();
    let sup = Supervisor::new(Strategy::OneForOne)
        .child(worker("a", &log))
        .child(worker("b", &log))
        .child(worker("flaky", &log))
        .start(&node)
        .await
        .unwrap();
    log.take(2).await;
    let mut pid = log.started("flaky").await;
    for _ in 0..3 {
        crash(&node, pid, Exit::error("boom"));
        pid = log.started("flaky").await;
    }
    let down = node.monitor(sup.pid());
    crash(&node, pid, Exit::error("boom"));
    assert_eq!(log.take(2).await, [Ev::Stop("b"), Ev::Stop("a")]);
    assert_eq!(
        common::within("the supervisor's exit", down).await,
        Exit::Shutdown
    );
    log.assert_quiet();
}

/// R-SUP-INT: restarts older than the period leave the window (paused clock: the 5-second
/// steps take no time).
#[tokio::test(start_paused = true)]
async fn r_sup_int_restarts_outside_the_period_do_not_count() {
    let node = node();
    let mut log = Log::new();
    let sup = Supervisor::new(Strategy::OneForOne)
        .intensity(2, Duration::from_secs(5))
        .child(worker("w", &log))
        .start(&node)
        .await
        .unwrap();
    let mut pid = log.started("w").await;
    // Two restarts 3 s apart, ten times over: never more than 2 inside any 5 s.
    for _ in 0..10 {
        crash(&node, pid, Exit::error("boom"));
        pid = log.started("w").await;
        tokio::time::advance(Duration::from_secs(3)).await;
    }
    assert!(sup.is_alive());
    // Now three inside one period, once the window is clear.
    tokio::time::advance(Duration::from_secs(6)).await;
    for _ in 0..2 {
        crash(&node, pid, Exit::error("boom"));
        pid = log.started("w").await;
    }
    crash(&node, pid, Exit::error("boom"));
    assert_eq!(exit_of(&node, sup.pid()).await, Exit::Shutdown);
}

/// R-SUP-INT: intensity 0 means the first restart stops the supervisor.
#[tokio::test(start_paused = true)]
async fn r_sup_int_zero_intensity_stops_at_the_first_restart() {
    let node = node();
    let mut log = Log::new();
    let sup = Supervisor::new(Strategy::OneForOne)
        .intensity(0, Duration::from_secs(5))
        .child(worker("w", &log))
        .start(&node)
        .await
        .unwrap();
    let pid = log.started("w").await;
    crash(&node, pid, Exit::error("boom"));
    assert_eq!(exit_of(&node, sup.pid()).await, Exit::Shutdown);
    log.assert_quiet();
}
