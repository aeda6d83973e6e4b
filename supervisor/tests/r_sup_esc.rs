//! R-SUP-ESC: a supervisor that exceeds its intensity exits with `shutdown`, and its parent
//! sees one child terminating: it restarts it (a permanent child) and counts one restart.

mod common;

use std::time::Duration;

use beamish_process::Exit;
use beamish_supervisor::{ChildKind, Strategy, Supervisor, SupervisorRef};
use common::{Log, crash, exit_of, node, worker};

#[tokio::test(start_paused = true)]
async fn r_sup_esc_a_child_supervisor_past_its_intensity_is_one_restart_above() {
    let node = node();
    let mut log = Log::new();
    let inner = Supervisor::new(Strategy::OneForOne)
        .intensity(1, Duration::from_secs(5))
        .child(worker("w", &log));
    let top = Supervisor::new(Strategy::OneForOne)
        .intensity(1, Duration::from_secs(5))
        .child(worker("sibling", &log))
        .child(inner.into_child_spec("inner"))
        .start(&node)
        .await
        .unwrap();
    let sibling = log.started("sibling").await;
    let w = log.started("w").await;
    let kids = top.which_children().await.unwrap();
    let inner1 = kids[0].status.pid().unwrap();
    assert_eq!(kids[0].kind, ChildKind::Supervisor);

    // Two crashes inside the inner period: the second trips the inner supervisor.
    crash(&node, w, Exit::error("boom"));
    let w = log.started("w").await;
    crash(&node, w, Exit::error("boom"));
    assert_eq!(exit_of(&node, inner1).await, Exit::Shutdown);

    // The top supervisor restarts it once; the sibling is untouched, top still runs.
    log.started("w").await;
    let kids = top.which_children().await.unwrap();
    assert_eq!(kids[0].restarts, 1);
    let inner2 = kids[0].status.pid().unwrap();
    assert_ne!(inner2, inner1);
    assert_eq!(kids[1].status.pid(), Some(sibling));
    assert!(top.is_alive());
    // The restarted inner supervisor is a supervisor like the first one.
    let inner = SupervisorRef::from_pid(&node, inner2).unwrap();
    assert_eq!(inner.count_children().await.unwrap().active, 1);
}
