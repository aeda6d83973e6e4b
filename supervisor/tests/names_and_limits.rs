//! Issue 13 §2-3: named supervisors (static and dynamic) found by name, again after a
//! restart; handles from a pid; `max_restarts` and `max_seconds` one at a time; stopping with
//! the default reason `normal`.

mod common;

use std::time::Duration;

use beamish_process::{Ctx, Exit};
use beamish_supervisor::{
    ChildSpec, DynamicSupervisor, DynamicSupervisorRef, Flavor, Started, Strategy, Supervisor,
    SupervisorRef, SupervisorStartError,
};
use common::{exit_of, node, pids, within};

fn idle(id: &'static str) -> ChildSpec {
    ChildSpec::process(id, |mut ctx: Ctx<()>| async move {
        ctx.recv().await;
    })
}

/// R-LNK-2, R-SUP-ESC: a named child supervisor is found by its name; killed, it is
/// restarted by its parent and its successor holds the name at once.
#[tokio::test(start_paused = true)]
async fn r_lnk_2_a_named_supervisor_is_found_again_after_its_restart() {
    let node = node();
    let inner = Supervisor::new(Strategy::OneForOne)
        .name("inner")
        .child(idle("w"));
    let top = Supervisor::new(Strategy::OneForOne)
        .child(inner.into_child_spec("inner"))
        .start(&node)
        .await
        .unwrap();
    let first = SupervisorRef::whereis(&node, "inner").expect("registered");
    assert_eq!(first.pid(), pids(&top).await["inner"]);
    assert_eq!(first.count_children().await.unwrap().active, 1);
    let mut restarts = top.restarts().await.unwrap();
    node.exit(first.pid(), Exit::Kill);
    let r = within("inner's restart", restarts.of("inner"))
        .await
        .unwrap();
    let again = SupervisorRef::whereis(&node, "inner").expect("registered again");
    assert_eq!((again.pid(), r.old), (r.new, first.pid()));
}

/// R-DS-1: a named dynamic supervisor under a tree (`into_child_spec`) is reached by name or
/// from its pid, and takes children.
#[tokio::test(start_paused = true)]
async fn r_ds_1_a_named_dynamic_supervisor_in_a_tree_takes_children() {
    let node = node();
    let top = Supervisor::new(Strategy::OneForOne)
        .child(
            DynamicSupervisor::new()
                .name("rooms")
                .into_child_spec("rooms"),
        )
        .start(&node)
        .await
        .unwrap();
    let rooms = DynamicSupervisorRef::<()>::whereis(&node, "rooms").expect("registered");
    let by_pid = DynamicSupervisorRef::<()>::from_pid(&node, pids(&top).await["rooms"]).unwrap();
    assert_eq!(rooms.pid(), by_pid.pid());
    assert!(matches!(
        rooms.start_child(idle("room")).await,
        Ok(Started::Running(_))
    ));
    assert_eq!(by_pid.count_children().await.unwrap().active, 1);
}

/// A name already taken fails the start with `already_started` and the holder; the loser
/// exits without starting a child.
#[tokio::test(start_paused = true)]
async fn a_taken_name_is_already_started() {
    let node = node();
    let first = Supervisor::new(Strategy::OneForOne)
        .name("sup")
        .start(&node)
        .await
        .unwrap();
    let err = Supervisor::new(Strategy::OneForOne)
        .name("sup")
        .child(idle("never"))
        .start(&node)
        .await
        .unwrap_err();
    assert_eq!(err, SupervisorStartError::AlreadyStarted(first.pid()));
    let err = DynamicSupervisor::new()
        .name("sup")
        .start(&node)
        .await
        .unwrap_err();
    assert_eq!(err, SupervisorStartError::AlreadyStarted(first.pid()));
    assert_eq!(node.process_count(), 1);
}

/// R-DS-1, R-DS-4: `max_restarts` and `max_seconds` set one at a time keep the other
/// default (3 restarts, 5 s); `max_restarts(0)` alone makes the first crash stop the
/// supervisor with `shutdown`.
#[tokio::test(start_paused = true)]
async fn r_ds_4_max_restarts_and_max_seconds_one_at_a_time() {
    let node = node();
    let a = DynamicSupervisor::new().max_seconds(Duration::from_secs(30));
    let a = a.start(&node).await.unwrap().tree().await.unwrap();
    assert_eq!((a.intensity, a.period), (3, Duration::from_secs(30)));
    assert_eq!(a.flavor, Flavor::Dynamic);
    let s = Supervisor::new(Strategy::OneForOne).max_restarts(7);
    let s = s.start(&node).await.unwrap().tree().await.unwrap();
    assert_eq!((s.intensity, s.period), (7, Duration::from_secs(5)));

    let ds = DynamicSupervisor::new()
        .max_restarts(0)
        .start(&node)
        .await
        .unwrap();
    let Started::Running(child) = ds.start_child(idle("c")).await.unwrap() else {
        panic!("runs")
    };
    node.exit(child, Exit::Kill);
    assert_eq!(exit_of(&node, ds.pid()).await, Exit::Shutdown);
}

/// R-EXIT-3: stopping with the default reason `normal` (OTP's `supervisor:stop/1`) stops the
/// children and does not take down a process linked to the supervisor.
#[tokio::test(start_paused = true)]
async fn r_exit_3_stop_with_the_default_reason_normal() {
    let node = node();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let owner = node
        .spawn(move |ctx: Ctx<()>| async move {
            let sup = Supervisor::new(Strategy::OneForOne)
                .child(idle("w"))
                .start_link(&ctx)
                .await
                .unwrap();
            let _ = tx.send(sup);
            let _ = stop_rx.await;
        })
        .unwrap();
    let sup = rx.await.unwrap();
    let child = node.monitor(pids(&sup).await["w"]);
    sup.stop(Exit::Normal).await.unwrap();
    assert_eq!(within("the child's end", child).await, Exit::Shutdown);
    assert!(
        node.is_alive(owner.pid()),
        "normal is not an error to a link"
    );
    stop_tx.send(()).unwrap();
}
