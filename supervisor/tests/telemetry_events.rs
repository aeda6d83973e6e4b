//! The supervisor events of issue 5: each one arrives at its documented moment, with its
//! measurements and metadata. A handler forwards owned copies into a channel; the tests wait
//! on that channel and on the workers' log, under the paused clock, never on sleeps.

mod common;

use std::time::Duration;

use beamish_process::{Ctx, Exit, Node, Pid, SpawnOpts};
use beamish_supervisor::{
    Backoff, ChildSpec, DynamicSupervisor, Shutdown, Started, Strategy, Supervisor,
};
use beamish_telemetry::events::supervisor::{
    BACKOFF_SCHEDULED, CHILD_EXITED, CHILD_RESTARTED, CHILD_STARTED, INTENSITY_REACHED,
    SHUTDOWN_ERROR,
};
use beamish_telemetry::{EventName, EventRecord, ProcessId, capture};
use common::{Log, crash, exit_of, node, within, worker};
use tokio::sync::mpsc;

fn listen(node: &Node, names: &[EventName]) -> mpsc::UnboundedReceiver<EventRecord> {
    capture(node.telemetry(), "test-listener", names).expect("attach the test listener")
}

async fn next(rx: &mut mpsc::UnboundedReceiver<EventRecord>) -> EventRecord {
    within("a telemetry event", rx.recv())
        .await
        .expect("the listener is attached")
}

fn shown(pid: Pid) -> String {
    ProcessId::from(pid).to_string()
}

/// A child that traps exits and never ends on its own: only `kill` stops it.
fn stubborn<A: Send + 'static>(id: &'static str) -> ChildSpec<A> {
    ChildSpec::with_args(id, |linker, _| {
        Box::pin(async move {
            let opts = SpawnOpts {
                trap_exit: true,
                ..SpawnOpts::default()
            };
            let a = linker
                .build()
                .opts(opts)
                .spawn(|_ctx: Ctx<()>| std::future::pending::<()>())?;
            Ok(Started::Running(a.pid()))
        })
    })
    .shutdown(Shutdown::Timeout(Duration::from_millis(100)))
}

/// Issue 5, R-SUP-START: `child_started` names the supervisor, the child's id and pid, and is
/// emitted before the supervisor's start returns.
#[tokio::test(start_paused = true)]
async fn child_started_names_supervisor_child_and_pid() {
    let node = node();
    let mut rx = listen(&node, &[CHILD_STARTED]);
    let mut log = Log::new();
    let sup = Supervisor::new(Strategy::OneForOne)
        .child(worker("a", &log))
        .child(worker("b", &log))
        .start(&node)
        .await
        .unwrap();
    for id in ["a", "b"] {
        let pid = log.started(id).await;
        let e = rx.try_recv().expect("emitted before start returned");
        assert_eq!(e.name, "beamish.supervisor.child_started");
        assert_eq!(e.meta("supervisor"), Some(shown(sup.pid()).as_str()));
        assert_eq!(e.meta("child_id"), Some(id));
        assert_eq!(e.meta("child_pid"), Some(shown(pid).as_str()));
    }
}

/// Issue 5, R-SUP-RT: `child_exited` carries the reason and whether the restart type restarts
/// the child; then the restart shows as `child_started` and `child_restarted`, which carries
/// the new pid and the restart count.
#[tokio::test(start_paused = true)]
async fn child_exited_then_child_restarted_with_the_new_pid() {
    let node = node();
    let mut rx = listen(&node, &[CHILD_EXITED, CHILD_STARTED, CHILD_RESTARTED]);
    let mut log = Log::new();
    let sup = Supervisor::new(Strategy::OneForOne)
        .child(worker("w", &log))
        .start(&node)
        .await
        .unwrap();
    let mut old = log.started("w").await;
    assert_eq!(next(&mut rx).await.name, "beamish.supervisor.child_started");
    for n in 1..=2 {
        crash(&node, old, Exit::error("boom"));
        let new = log.started("w").await;
        let exited = next(&mut rx).await;
        assert_eq!(exited.name, "beamish.supervisor.child_exited");
        assert_eq!(exited.meta("supervisor"), Some(shown(sup.pid()).as_str()));
        assert_eq!(exited.meta("child_id"), Some("w"));
        assert_eq!(exited.meta("child_pid"), Some(shown(old).as_str()));
        let reason = format!("{:?}", Exit::error("boom"));
        assert_eq!(exited.meta("reason"), Some(reason.as_str()));
        assert_eq!(exited.meta("restart"), Some("true"));
        let started = next(&mut rx).await;
        assert_eq!(started.name, "beamish.supervisor.child_started");
        let restarted = next(&mut rx).await;
        assert_eq!(restarted.name, "beamish.supervisor.child_restarted");
        assert_eq!(restarted.meta("child_pid"), Some(shown(new).as_str()));
        assert_eq!(restarted.measurement("restarts"), Some(f64::from(n)));
        old = new;
    }

    // A transient child that ends normally is not restarted (R-SUP-RT): restart is false.
    let t = worker("t", &log).restart(beamish_supervisor::Restart::Transient);
    sup.start_child(t).await.unwrap();
    let tpid = log.started("t").await;
    assert_eq!(next(&mut rx).await.name, "beamish.supervisor.child_started");
    crash(&node, tpid, Exit::Normal);
    let exited = next(&mut rx).await;
    assert_eq!(exited.meta("child_id"), Some("t"));
    assert_eq!(exited.meta("restart"), Some("false"));
}

/// Issue 5, backoff (beyond OTP): `backoff_scheduled` carries the wait (ns) and the attempt,
/// when the child ends, before the wait begins.
#[tokio::test(start_paused = true)]
async fn backoff_scheduled_carries_delay_and_attempt() {
    let node = node();
    let mut rx = listen(&node, &[BACKOFF_SCHEDULED]);
    let mut log = Log::new();
    let sup = Supervisor::new(Strategy::OneForOne)
        .intensity(100, Duration::from_secs(5))
        .child(
            worker("w", &log).backoff(Backoff::new(Duration::from_secs(1), Duration::from_secs(4))),
        )
        .start(&node)
        .await
        .unwrap();
    let mut pid = log.started("w").await;
    for (attempt, secs) in [(1u32, 1u64), (2, 2), (3, 4)] {
        crash(&node, pid, Exit::error("boom"));
        let e = next(&mut rx).await;
        assert_eq!(e.name, "beamish.supervisor.backoff_scheduled");
        assert_eq!(e.meta("supervisor"), Some(shown(sup.pid()).as_str()));
        assert_eq!(e.meta("child_id"), Some("w"));
        assert_eq!(e.measurement("delay"), Some(secs as f64 * 1e9));
        assert_eq!(e.measurement("attempt"), Some(f64::from(attempt)));
        pid = log.started("w").await;
    }
}

/// Issue 5, R-SUP-INT: with intensity 1, the second restart inside the period trips it:
/// `intensity_reached` carries restarts, intensity and period, and is emitted before the
/// supervisor exits with `shutdown`.
#[tokio::test(start_paused = true)]
async fn intensity_reached_before_the_supervisor_gives_up() {
    let node = node();
    let mut rx = listen(&node, &[INTENSITY_REACHED]);
    let mut log = Log::new();
    let sup = Supervisor::new(Strategy::OneForOne)
        .intensity(1, Duration::from_secs(5))
        .child(worker("w", &log))
        .start(&node)
        .await
        .unwrap();
    let pid = log.started("w").await;
    crash(&node, pid, Exit::error("boom"));
    let pid = log.started("w").await;
    assert!(
        rx.try_recv().is_err(),
        "one restart is within the intensity"
    );
    let down = node.monitor(sup.pid());
    crash(&node, pid, Exit::error("boom"));
    assert_eq!(within("the supervisor to exit", down).await, Exit::Shutdown);
    let e = rx.try_recv().expect("emitted before the supervisor exited");
    assert_eq!(e.name, "beamish.supervisor.intensity_reached");
    assert_eq!(e.meta("supervisor"), Some(shown(sup.pid()).as_str()));
    assert_eq!(e.meta("child_id"), Some("w"));
    assert_eq!(e.measurement("restarts"), Some(2.0));
    assert_eq!(e.measurement("intensity"), Some(1.0));
    assert_eq!(e.measurement("period"), Some(5e9));
}

/// Issue 5, R-SUP-SHUT, R-SUP-REPORT: a child that outlives its shutdown timeout is killed,
/// and `shutdown_error` reports it with reason `killed`, from a static supervisor (with the
/// child's id) and from a dynamic one (id `undefined`, R-DS-1, R-DS-4).
#[tokio::test(start_paused = true)]
async fn shutdown_error_when_a_child_must_be_killed() {
    let node = node();
    let mut rx = listen(&node, &[SHUTDOWN_ERROR]);
    let sup = Supervisor::new(Strategy::OneForOne)
        .child(stubborn("s"))
        .start(&node)
        .await
        .unwrap();
    let pid = common::pids(&sup).await["s"];
    sup.terminate_child("s").await.unwrap();
    let e = rx
        .try_recv()
        .expect("emitted before terminate_child returned");
    assert_eq!(e.name, "beamish.supervisor.shutdown_error");
    assert_eq!(e.meta("supervisor"), Some(shown(sup.pid()).as_str()));
    assert_eq!(e.meta("child_id"), Some("s"));
    assert_eq!(e.meta("child_pid"), Some(shown(pid).as_str()));
    let killed = format!("{:?}", Exit::Killed);
    assert_eq!(e.meta("reason"), Some(killed.as_str()));

    let ds = DynamicSupervisor::new().start(&node).await.unwrap();
    let Started::Running(dpid) = ds.start_child(stubborn("d")).await.unwrap() else {
        panic!("the stubborn child runs");
    };
    ds.stop(Exit::Shutdown).await.unwrap();
    assert_eq!(exit_of(&node, ds.pid()).await, Exit::NoProc);
    let e = rx
        .try_recv()
        .expect("emitted before the dynamic supervisor exited");
    assert_eq!(e.meta("supervisor"), Some(shown(ds.pid()).as_str()));
    assert_eq!(e.meta("child_id"), Some("undefined"));
    assert_eq!(e.meta("child_pid"), Some(shown(dpid).as_str()));
    assert_eq!(e.meta("reason"), Some(killed.as_str()));
}
