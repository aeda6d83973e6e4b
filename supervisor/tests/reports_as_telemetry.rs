//! Issue 13 §3: the supervisor's reports (R-SUP-REPORT) as telemetry events a program can
//! observe without a `tracing` subscriber: `child_terminated` for exactly the exits OTP 25
//! reports, and `start_error`. A handler forwards copies into a channel; the tests wait on
//! monitors and calls, never on sleeps.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use beamish_process::{Ctx, Exit, Node};
use beamish_supervisor::{ChildSpec, Restart, Started, Strategy, Supervisor, SupervisorStartError};
use beamish_telemetry::events::supervisor::{CHILD_TERMINATED, START_ERROR};
use beamish_telemetry::{EventName, EventRecord, capture};
use common::{Log, crash, exit_of, node, pids, within, worker};
use tokio::sync::mpsc;

fn listen(node: &Node, names: &[EventName]) -> mpsc::UnboundedReceiver<EventRecord> {
    capture(node.telemetry(), "test-listener", names).expect("attach the test listener")
}

fn drain(rx: &mut mpsc::UnboundedReceiver<EventRecord>) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        let field = |k| e.meta(k).unwrap_or("-").to_owned();
        out.push((field("child_id"), field("reason"), field("restart_type")));
    }
    out
}

/// R-SUP-REPORT, R-EXIT-3 (OTP 25.2.3): every exit of a permanent child is reported as
/// `child_terminated`, `normal` included; a transient or temporary child's only when it is
/// abnormal, never for `normal`, `shutdown` or `{shutdown, _}`.
#[tokio::test(start_paused = true)]
async fn r_sup_report_child_terminated_only_for_the_exits_otp_reports() {
    let node = node();
    let mut rx = listen(&node, &[CHILD_TERMINATED]);
    let mut log = Log::new();
    let cases: Vec<(&'static str, Restart, Exit)> = vec![
        ("perm_normal", Restart::Permanent, Exit::Normal),
        ("perm_shutdown", Restart::Permanent, Exit::Shutdown),
        ("trans_normal", Restart::Transient, Exit::Normal),
        ("trans_shutdown", Restart::Transient, Exit::Shutdown),
        (
            "trans_shutdown_with",
            Restart::Transient,
            Exit::shutdown_with("bye"),
        ),
        ("trans_error", Restart::Transient, Exit::error("boom")),
        ("temp_normal", Restart::Temporary, Exit::Normal),
        ("temp_error", Restart::Temporary, Exit::error("bang")),
    ];
    let sup = Supervisor::new(Strategy::OneForOne)
        .intensity(100, std::time::Duration::from_secs(5))
        .children(cases.iter().map(|(id, r, _)| worker(id, &log).restart(*r)))
        .start(&node)
        .await
        .unwrap();
    log.take(cases.len()).await;
    let running = pids(&sup).await;
    for (id, _, reason) in &cases {
        let pid = running[*id];
        crash(&node, pid, reason.clone());
        assert_eq!(&exit_of(&node, pid).await, reason);
        // The supervisor has the EXIT before this call (it arrived first), so its report,
        // if any, is in the channel when the call returns.
        within("which_children", sup.which_children())
            .await
            .unwrap();
    }
    let got = drain(&mut rx);
    assert_eq!(
        got,
        [
            ("perm_normal", "normal", "permanent"),
            ("perm_shutdown", "shutdown", "permanent"),
            ("trans_error", "error: boom", "transient"),
            ("temp_error", "error: bang", "temporary"),
        ]
        .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()))
    );
}

/// A start function that succeeds, then fails `fails` times, then succeeds again.
fn flaky(id: &'static str, fails: usize) -> (ChildSpec, Arc<AtomicUsize>) {
    let starts = Arc::new(AtomicUsize::new(0));
    let n = starts.clone();
    let spec = ChildSpec::new(id, move |linker| {
        let attempt = n.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            if attempt >= 1 && attempt <= fails {
                return Err(Exit::error("cannot start now"));
            }
            let a = linker.spawn_link(|mut ctx: Ctx<()>| async move {
                ctx.recv().await;
            })?;
            Ok(Started::Running(a.pid()))
        })
    });
    (spec, starts)
}

/// R-SUP-REPORT, R-SUP-RETRY: a restart whose start fails is a `start_error` event with the
/// child and the reason; the retry then succeeds (awaited on the restart stream).
#[tokio::test(start_paused = true)]
async fn r_sup_report_a_failed_restart_is_a_start_error_event() {
    let node = node();
    let mut rx = listen(&node, &[START_ERROR]);
    let (spec, starts) = flaky("flaky", 1);
    let sup = Supervisor::new(Strategy::OneForOne)
        .child(spec)
        .start(&node)
        .await
        .unwrap();
    let first = pids(&sup).await["flaky"];
    let mut restarts = sup.restarts().await.unwrap();
    node.exit(first, Exit::Kill);
    let r = within("the retried restart", restarts.of("flaky"))
        .await
        .unwrap();
    assert_eq!((r.old, r.restarts), (first, 1));
    assert_eq!(
        starts.load(Ordering::SeqCst),
        3,
        "first start, failed restart, retry"
    );
    let e = rx
        .try_recv()
        .expect("start_error was emitted before the retry");
    assert_eq!(e.name, "beamish.supervisor.start_error");
    assert_eq!(e.meta("child_id"), Some("flaky"));
    assert_eq!(e.meta("reason"), Some("error: cannot start now"));
    assert!(rx.try_recv().is_err(), "one failed start, one event");
}

/// R-SUP-START, R-SUP-REPORT: a child that fails at the supervisor's own start is a
/// `start_error` event too.
#[tokio::test(start_paused = true)]
async fn r_sup_start_a_child_failing_at_start_is_a_start_error_event() {
    let node = node();
    let mut rx = listen(&node, &[START_ERROR]);
    let broken = ChildSpec::new("broken", |_| {
        Box::pin(async { Err(Exit::error("no config")) })
    });
    let err = Supervisor::new(Strategy::OneForOne)
        .child(broken)
        .start(&node)
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        SupervisorStartError::FailedToStartChild { .. }
    ));
    let e = rx.try_recv().expect("emitted before the start failed");
    assert_eq!(e.meta("child_id"), Some("broken"));
    assert_eq!(e.meta("reason"), Some("error: no config"));
}
