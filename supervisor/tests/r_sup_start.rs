//! R-SUP-START: children start in spec order; a failing start stops the started children in
//! reverse order and fails the supervisor's start with a typed error naming the child;
//! `Ignore` keeps the spec with no pid.

mod common;

use beamish_process::Exit;
use beamish_supervisor::{
    ChildSpec, ChildStatus, Restart, Started, Strategy, Supervisor, SupervisorStartError,
};
use common::{Ev, Log, node, worker};

fn failing(id: &'static str, reason: Exit) -> ChildSpec {
    ChildSpec::new(id, move |_| {
        let reason = reason.clone();
        Box::pin(async move { Err(reason) })
    })
}

/// R-SUP-START: in order, and `which_children` sees every one running.
#[tokio::test(start_paused = true)]
async fn r_sup_start_children_start_in_order() {
    let node = node();
    let mut log = Log::new();
    let sup = Supervisor::new(Strategy::OneForOne)
        .children(["a", "b", "c"].map(|id| worker(id, &log)))
        .start(&node)
        .await
        .unwrap();
    let evs = log.take(3).await;
    let ids: Vec<_> = evs
        .iter()
        .map(|e| match e {
            Ev::Start(id, _) => *id,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ids, ["a", "b", "c"]);
    let kids = sup.which_children().await.unwrap();
    assert!(kids.iter().all(|c| c.status.pid().is_some()));
}

/// R-SUP-START: a start error stops the started ones in reverse, and the start fails naming
/// the child and its reason; the supervisor is gone.
#[tokio::test(start_paused = true)]
async fn r_sup_start_failure_stops_the_started_in_reverse() {
    let node = node();
    let mut log = Log::new();
    let before = node.process_count();
    let err = Supervisor::new(Strategy::OneForOne)
        .child(worker("a", &log))
        .child(worker("b", &log))
        .child(failing("c", Exit::error("no database")))
        .child(worker("d", &log))
        .start(&node)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        SupervisorStartError::FailedToStartChild {
            id: "c".into(),
            reason: Exit::error("no database"),
        }
    );
    let evs = log.take(4).await;
    assert!(matches!(evs[0], Ev::Start("a", _)));
    assert!(matches!(evs[1], Ev::Start("b", _)));
    assert_eq!(evs[2..], [Ev::Stop("b"), Ev::Stop("a")]);
    assert_eq!(node.process_count(), before, "supervisor and children gone");
    log.assert_quiet();
}

/// R-SUP-START: a panicking start is a start error, not the supervisor's crash.
#[tokio::test(start_paused = true)]
async fn r_sup_start_a_panicking_start_is_a_start_error() {
    let node = node();
    let err = Supervisor::new(Strategy::OneForOne)
        .child(ChildSpec::new("p", |_| panic!("bad start")))
        .start(&node)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        SupervisorStartError::FailedToStartChild {
            id: "p".into(),
            reason: Exit::Panic("bad start".into()),
        }
    );
}

/// R-SUP-START: `Ignore` keeps the spec without a pid (a temporary one is dropped), and
/// `restart_child` can start it later.
#[tokio::test(start_paused = true)]
async fn r_sup_start_ignore_keeps_the_spec() {
    let node = node();
    let ignore = |id: &'static str| ChildSpec::new(id, |_| Box::pin(async { Ok(Started::Ignore) }));
    let sup = Supervisor::new(Strategy::OneForOne)
        .child(ignore("kept"))
        .child(ignore("dropped").restart(Restart::Temporary))
        .start(&node)
        .await
        .unwrap();
    let kids = sup.which_children().await.unwrap();
    assert_eq!(kids.len(), 1);
    assert_eq!(kids[0].id.as_deref(), Some("kept"));
    assert_eq!(kids[0].status, ChildStatus::Undefined);
    let counts = sup.count_children().await.unwrap();
    assert_eq!((counts.specs, counts.active), (1, 0));
}

/// Specs are checked before anything starts: duplicate ids are refused.
#[tokio::test(start_paused = true)]
async fn duplicate_child_ids_are_refused() {
    let node = node();
    let log = Log::new();
    let err = Supervisor::new(Strategy::OneForOne)
        .child(worker("a", &log))
        .child(worker("a", &log))
        .start(&node)
        .await
        .unwrap_err();
    assert_eq!(err, SupervisorStartError::DuplicateChildId("a".into()));
}
