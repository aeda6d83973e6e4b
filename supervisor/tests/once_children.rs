//! Issue 13 §2: a child that owns a value moved into it (a socket) with no `Mutex<Option<_>>`.
//! OTP restarts from the spec, and a value moves once, so such a child is temporary.

mod common;

use beamish_process::{Ctx, Exit, Message};
use beamish_supervisor::{
    ChildSpec, DynamicSupervisor, Restart, StartChildError, Strategy, Supervisor,
    SupervisorStartError,
};
use common::{exit_of, node, pids, within};

/// R-SUP-RT: the moved value reaches the process; the spec is temporary, so after the child
/// crashes it is not restarted and its spec is gone.
#[tokio::test(start_paused = true)]
async fn r_sup_rt_a_once_child_owns_its_value_and_is_temporary() {
    let node = node();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let owned = String::from("the socket");
    let spec = ChildSpec::process_once(
        "owner",
        owned,
        move |mut ctx: Ctx<()>, s: String| async move {
            let _ = tx.send(s);
            ctx.recv().await;
        },
    );
    assert_eq!(spec.restart_type(), Restart::Temporary);
    let sup = Supervisor::new(Strategy::OneForOne)
        .child(spec)
        .start(&node)
        .await
        .unwrap();
    assert_eq!(within("the value", rx).await.unwrap(), "the socket");
    let pid = pids(&sup).await["owner"];
    node.exit(pid, Exit::Kill);
    assert_eq!(exit_of(&node, pid).await, Exit::Killed);
    assert_eq!(sup.count_children().await.unwrap().specs, 0);
}

/// A once spec made restartable is refused, by a static and by a dynamic supervisor, before
/// anything starts.
#[tokio::test(start_paused = true)]
async fn a_once_child_that_is_not_temporary_is_refused() {
    let node = node();
    let spec = || {
        ChildSpec::process_once("owner", 1u8, |_ctx: Ctx<()>, _v| async {})
            .restart(Restart::Permanent)
    };
    let err = Supervisor::new(Strategy::OneForOne)
        .child(spec())
        .start(&node)
        .await
        .unwrap_err();
    assert!(matches!(err, SupervisorStartError::InvalidChildSpec { .. }));
    let ds = DynamicSupervisor::new().start(&node).await.unwrap();
    assert!(matches!(
        ds.start_child(spec()).await,
        Err(StartChildError::InvalidChildSpec(_))
    ));
}

/// A clone of a once spec cannot start a second process: its second start is a start error.
#[tokio::test(start_paused = true)]
async fn a_once_spec_starts_one_process_only() {
    let node = node();
    let spec = ChildSpec::process_once("owner", (), |mut ctx: Ctx<()>, ()| async move {
        while let Message::Msg(()) = ctx.recv().await {}
    });
    let ds = DynamicSupervisor::new().start(&node).await.unwrap();
    assert!(ds.start_child(spec.clone()).await.is_ok());
    assert!(matches!(
        ds.start_child(spec).await,
        Err(StartChildError::Failed(_))
    ));
}
