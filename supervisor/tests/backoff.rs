//! Restart backoff (beyond OTP): exponential waits with a cap; the supervisor stays
//! responsive while a child waits; the delayed restart counts toward the intensity when it
//! happens (R-SUP-INT).

mod common;

use std::time::Duration;

use beamish_process::Exit;
use beamish_supervisor::{Backoff, ChildStatus, Strategy, Supervisor};
use common::{Log, crash, node, worker};
use tokio::time::Instant;

fn backoff() -> Backoff {
    Backoff::new(Duration::from_secs(1), Duration::from_secs(4))
}

/// The waits double up to the cap: 1 s, 2 s, 4 s, 4 s.
#[tokio::test(start_paused = true)]
async fn backoff_waits_double_up_to_the_cap() {
    let node = node();
    let mut log = Log::new();
    let _sup = Supervisor::new(Strategy::OneForOne)
        .intensity(100, Duration::from_secs(5))
        .child(worker("w", &log).backoff(backoff()))
        .start(&node)
        .await
        .unwrap();
    let mut pid = log.started("w").await;
    let mut waits = Vec::new();
    for _ in 0..4 {
        let t0 = Instant::now();
        crash(&node, pid, Exit::error("boom"));
        pid = log.started("w").await;
        waits.push(t0.elapsed().as_secs());
    }
    assert_eq!(waits, [1, 2, 4, 4]);
}

/// While one child waits out its backoff, the supervisor answers calls (the child shows as
/// restarting, with its wait) and restarts another child at once.
#[tokio::test(start_paused = true)]
async fn the_supervisor_stays_responsive_during_a_backoff() {
    let node = node();
    let mut log = Log::new();
    let sup = Supervisor::new(Strategy::OneForOne)
        .child(worker("slow", &log).backoff(Backoff::new(
            Duration::from_secs(60),
            Duration::from_secs(60),
        )))
        .child(worker("fast", &log))
        .start(&node)
        .await
        .unwrap();
    let slow = log.started("slow").await;
    let fast = log.started("fast").await;
    let t0 = Instant::now();
    crash(&node, slow, Exit::error("boom"));
    common::exit_of(&node, slow).await;
    let kids = sup.which_children().await.unwrap();
    assert_eq!(kids[1].status, ChildStatus::Restarting);
    assert_eq!(kids[1].backoff, Some(Duration::from_secs(60)));
    crash(&node, fast, Exit::error("boom"));
    log.started("fast").await;
    assert_eq!(t0.elapsed(), Duration::ZERO);
    log.started("slow").await;
    assert_eq!(t0.elapsed(), Duration::from_secs(60));
    assert_eq!(sup.which_children().await.unwrap()[1].backoff, None);
}

/// R-SUP-INT: the delayed restart counts when it happens: with intensity 0 the supervisor is
/// alive during the wait and stops when the restart comes due.
#[tokio::test(start_paused = true)]
async fn a_delayed_restart_counts_toward_intensity_when_it_happens() {
    let node = node();
    let mut log = Log::new();
    let sup = Supervisor::new(Strategy::OneForOne)
        .intensity(0, Duration::from_secs(5))
        .child(worker("w", &log).backoff(backoff()))
        .start(&node)
        .await
        .unwrap();
    let pid = log.started("w").await;
    let t0 = Instant::now();
    let down = node.monitor(sup.pid());
    crash(&node, pid, Exit::error("boom"));
    common::exit_of(&node, pid).await;
    assert_eq!(sup.count_children().await.unwrap().active, 0);
    assert_eq!(
        common::within("the supervisor's exit", down).await,
        Exit::Shutdown
    );
    assert_eq!(t0.elapsed(), Duration::from_secs(1));
}

/// A backoff longer than the period spreads restarts out: a child crashing at once after
/// every restart never trips an intensity of 1 in 5 s.
#[tokio::test(start_paused = true)]
async fn a_backoff_longer_than_the_period_keeps_a_flapping_child_supervised() {
    let node = node();
    let mut log = Log::new();
    let sup = Supervisor::new(Strategy::OneForOne)
        .intensity(1, Duration::from_secs(5))
        .child(
            worker("w", &log).backoff(Backoff::new(Duration::from_secs(6), Duration::from_secs(6))),
        )
        .start(&node)
        .await
        .unwrap();
    let mut pid = log.started("w").await;
    for _ in 0..5 {
        crash(&node, pid, Exit::error("boom"));
        pid = log.started("w").await;
    }
    assert!(sup.is_alive());
    assert_eq!(sup.which_children().await.unwrap()[0].restarts, 5);
}
