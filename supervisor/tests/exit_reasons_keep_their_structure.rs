//! Exit reasons keep their structure through supervisors (issue 13): a child's start failure
//! keeps the child's typed error, a supervisor that could not start its children exits with
//! its typed start error as the `{shutdown, _}` detail (R-SUP-START, R-EXIT-3), and a
//! child's exit reaches telemetry handlers as the `Exit` itself.

mod common;

use std::error::Error;
use std::fmt;

use beamish_process::{Caller, Ctx, Exit, GenServer, Message, Reply, ServerCtx};
use beamish_supervisor::{ChildSpec, Restart, Strategy, Supervisor, SupervisorStartError};
use beamish_telemetry::events::supervisor::CHILD_EXITED;
use common::{node, within};
use tokio::sync::{mpsc, oneshot};

#[derive(Debug)]
struct NoDatabase(std::io::Error);

impl fmt::Display for NoDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no database")
    }
}

impl Error for NoDatabase {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}

fn connect() -> Result<(), NoDatabase> {
    Err(NoDatabase(std::io::Error::other("connection refused")))
}

/// A server whose `init` fails with the user's error, through `?`.
struct Db;

impl GenServer for Db {
    type Call = ();
    type Reply = ();
    type Cast = ();
    type Info = ();

    async fn init(&mut self, _: &mut ServerCtx<Self>) -> Result<(), Exit> {
        connect()?;
        Ok(())
    }

    async fn handle_call(
        &mut self,
        _: (),
        _: Caller<'_, ()>,
        _: &mut ServerCtx<Self>,
    ) -> Result<Reply<()>, Exit> {
        Ok(Reply::Now(()))
    }
}

fn assert_is_no_database(reason: &Exit) {
    assert!(
        reason.downcast_ref::<NoDatabase>().is_some(),
        "not a NoDatabase: {reason}"
    );
    let chain: Vec<_> = reason
        .as_term()
        .unwrap()
        .sources()
        .map(|e| e.to_string())
        .collect();
    assert_eq!(chain, ["connection refused"]);
}

/// R-SUP-START: the start error names the child and keeps its init's typed error.
#[tokio::test(start_paused = true)]
async fn r_sup_start_a_childs_start_failure_keeps_its_typed_error() {
    let node = node();
    let err = Supervisor::new(Strategy::OneForOne)
        .child(ChildSpec::server("db", || Db))
        .start(&node)
        .await
        .unwrap_err();
    match &err {
        SupervisorStartError::FailedToStartChild { id, reason } => {
            assert_eq!(&**id, "db");
            assert_is_no_database(reason);
        }
        other => panic!("{other}"),
    }
    let source = err.source().expect("the child's error is the source");
    assert_eq!(source.to_string(), "no database");
}

/// R-SUP-START, R-EXIT-3: a supervisor whose child failed to start exits with
/// `{shutdown, {failed_to_start_child, Id, Reason}}`, not an error; its detail is the typed
/// start error, which a trapping parent downcasts from the `EXIT`, down to the child's error.
#[tokio::test(start_paused = true)]
async fn r_sup_start_the_supervisors_exit_carries_its_typed_start_error() {
    let node = node();
    let (tx, rx) = oneshot::channel();
    node.spawn(move |mut ctx: Ctx<()>| async move {
        ctx.trap_exit(true);
        let started = Supervisor::new(Strategy::OneForOne)
            .child(ChildSpec::server("db", || Db))
            .start_link(&ctx)
            .await;
        assert!(started.is_err());
        let _ = tx.send(ctx.recv().await);
    })
    .unwrap();
    let reason = match within("the supervisor's EXIT", rx).await.unwrap() {
        Message::Exit(e) => e.reason,
        other => panic!("{other:?}"),
    };
    assert!(reason.is_normal_or_shutdown(), "R-EXIT-3: {reason}");
    assert!(matches!(reason, Exit::ShutdownWith(_)));
    match reason.downcast_ref::<SupervisorStartError>() {
        Some(SupervisorStartError::FailedToStartChild { id, reason }) => {
            assert_eq!(&**id, "db");
            assert_is_no_database(reason);
        }
        other => panic!("{other:?}"),
    }
    // Across nodes: the same text, the same class, the same type name.
    let remote = Exit::from_bytes(&reason.to_bytes()).unwrap();
    assert_eq!(remote.to_string(), reason.to_string());
    assert!(remote.is_normal_or_shutdown());
    assert_eq!(
        remote.as_term().unwrap().type_name(),
        std::any::type_name::<SupervisorStartError>()
    );
    assert_eq!(remote, reason);
}

/// Issue 5's `child_exited` event carries the reason as the `Exit` itself: a handler takes
/// it back and downcasts the child's error.
#[tokio::test(start_paused = true)]
async fn child_exited_hands_telemetry_the_reason_itself() {
    let node = node();
    let (tx, mut rx) = mpsc::unbounded_channel();
    node.telemetry()
        .attach("test-reasons", &[CHILD_EXITED], move |e| {
            let reason = e
                .meta("reason")
                .and_then(|v| v.downcast_ref::<Exit>().cloned());
            let _ = tx.send(reason);
        })
        .unwrap();
    let _sup = Supervisor::new(Strategy::OneForOne)
        .child(
            ChildSpec::process("w", |_: Ctx<()>| async move { connect() })
                .restart(Restart::Temporary),
        )
        .start(&node)
        .await
        .unwrap();
    let reason = within("child_exited", rx.recv())
        .await
        .unwrap()
        .expect("the reason is an Exit");
    assert_is_no_database(&reason);
}
