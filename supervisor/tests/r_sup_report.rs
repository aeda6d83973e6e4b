//! R-SUP-REPORT: a report for each child exit handled as a failure (every exit of a permanent
//! child; abnormal exits only of the others), each failed start, each unexpected shutdown
//! reason, and reaching the intensity; as `tracing` events with a `report` field.

mod common;

use std::time::Duration;

use beamish_process::Exit;
use beamish_supervisor::{Restart, Strategy, Supervisor};
use common::{Log, Report, Reports, crash, exit_of, node, worker};

fn report(kind: &str, child: &str, reason: Option<&str>) -> Report {
    Report {
        report: kind.into(),
        child: child.into(),
        reason: reason.map(Into::into),
    }
}

#[tokio::test(start_paused = true)]
async fn r_sup_report_child_terminated_by_restart_type() {
    let node = node();
    let (reports, _g) = Reports::install();
    let mut log = Log::new();
    let sup = Supervisor::new(Strategy::OneForOne)
        .intensity(10, Duration::from_secs(5))
        .child(worker("perm", &log))
        .child(worker("trans", &log).restart(Restart::Transient))
        .child(worker("temp", &log).restart(Restart::Temporary))
        .start(&node)
        .await
        .unwrap();
    let perm = log.started("perm").await;
    let trans = log.started("trans").await;
    let temp = log.started("temp").await;
    // A permanent child's normal exit is reported (it is restarted, so it counts).
    crash(&node, perm, Exit::Normal);
    log.started("perm").await;
    // A transient child's normal exit is not; its crash is.
    crash(&node, trans, Exit::error("bad"));
    let trans = log.started("trans").await;
    crash(&node, trans, Exit::Normal);
    exit_of(&node, trans).await;
    // A temporary child's shutdown is not.
    crash(&node, temp, Exit::Shutdown);
    exit_of(&node, temp).await;
    sup.count_children().await.unwrap();
    assert_eq!(
        reports.take(),
        [
            report("child_terminated", "perm", Some("normal")),
            report("child_terminated", "trans", Some("error: bad")),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn r_sup_report_intensity_reached() {
    let node = node();
    let (reports, _g) = Reports::install();
    let mut log = Log::new();
    let sup = Supervisor::new(Strategy::OneForOne)
        .intensity(0, Duration::from_secs(5))
        .child(worker("w", &log))
        .start(&node)
        .await
        .unwrap();
    let w = log.started("w").await;
    crash(&node, w, Exit::error("x"));
    exit_of(&node, sup.pid()).await;
    assert_eq!(
        reports.take(),
        [
            report("child_terminated", "w", Some("error: x")),
            report("reached_max_restart_intensity", "w", None),
        ]
    );
}
