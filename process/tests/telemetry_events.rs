//! The process events of issue 5: each one arrives at its documented moment, with its
//! measurements and metadata. A handler forwards owned copies into a channel; the tests wait
//! on that channel, on monitors and on probes, never on sleeps.

mod common;

use std::time::Duration;

use beamish_process::{
    CallError, CallTimeout, Caller, Ctx, Exit, GenServer, Message, Node, NodeConfig, Pid, Reply,
    ReplyTo, ServerCtx,
};
use beamish_telemetry::events::process::{
    CALL_TIMEOUT, DOWN, EXIT_SIGNAL, EXITED, MAILBOX_LONG, SPAWNED,
};
use beamish_telemetry::events::telemetry::HANDLER_FAILURE;
use beamish_telemetry::{EventName, EventRecord, ProcessId, capture};
use common::{Got, Probe, dead_pid, exit_after, idle, node, within};
use tokio::sync::{mpsc, oneshot};

fn listen(node: &Node, names: &[EventName]) -> mpsc::UnboundedReceiver<EventRecord> {
    capture(node.telemetry(), "test-listener", names).expect("attach the test listener")
}

/// The next event, waited for.
async fn next(rx: &mut mpsc::UnboundedReceiver<EventRecord>) -> EventRecord {
    within("a telemetry event", rx.recv())
        .await
        .expect("the listener is attached")
}

/// A pid as event metadata shows it.
fn shown(pid: Pid) -> String {
    ProcessId::from(pid).to_string()
}

fn reason(r: &Exit) -> String {
    format!("{r:?}")
}

/// Issue 5: `spawned` is emitted by the spawner before `spawn` returns (so before the process
/// runs), with the pid and kind, and with the parent when the spawner linked the child as its
/// own (R-LNK-1's `spawn_link`).
#[tokio::test(start_paused = true)]
async fn spawned_comes_from_the_spawner_with_pid_kind_and_parent() {
    let node = node();
    let mut rx = listen(&node, &[SPAWNED]);
    let a = idle::<()>(&node);
    let e = rx.try_recv().expect("emitted before spawn returned");
    assert_eq!(e.name, "beamish.process.spawned");
    assert_eq!(e.meta("pid"), Some(shown(a.pid()).as_str()));
    assert_eq!(e.meta("kind"), Some("process"));
    assert_eq!(e.meta("parent"), None);

    let (tx, rx_child) = oneshot::channel();
    let parent = node
        .spawn(move |ctx: Ctx<()>| async move {
            let child = ctx
                .build()
                .link()
                .spawn(|_c: Ctx<()>| std::future::pending::<()>())
                .unwrap();
            let _ = tx.send(child.pid());
            std::future::pending::<()>().await
        })
        .unwrap();
    let child = within("the child's pid", rx_child).await.unwrap();
    let first = next(&mut rx).await;
    assert_eq!(first.meta("pid"), Some(shown(parent.pid()).as_str()));
    let second = next(&mut rx).await;
    assert_eq!(second.meta("pid"), Some(shown(child).as_str()));
    assert_eq!(second.meta("parent"), Some(shown(parent.pid()).as_str()));
    node.exit(parent.pid(), Exit::Kill);
}

/// Issue 5, R-LNK-2: `exited` carries the reason and is emitted after the process left the
/// table and before its monitors are told, so it is in the channel by the time a monitor
/// resolves, even with two worker threads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exited_is_emitted_before_any_monitor_sees_the_down() {
    let node = node();
    let mut rx = listen(&node, &[EXITED]);
    for (signal, expected) in [
        (Exit::Kill, Exit::Killed),
        (Exit::error("boom"), Exit::error("boom")),
    ] {
        let a = idle::<()>(&node);
        assert_eq!(exit_after(&node, a.pid(), signal).await, expected);
        let e = rx.try_recv().expect("exited came before the DOWN");
        assert_eq!(e.name, "beamish.process.exited");
        assert_eq!(e.meta("pid"), Some(shown(a.pid()).as_str()));
        assert_eq!(e.meta("kind"), Some("process"));
        assert_eq!(e.meta("reason"), Some(reason(&expected).as_str()));
    }
}

/// Issue 5: `exited` measures the process's lifetime on the runtime's clock (exact here,
/// under the paused clock, at millisecond resolution).
#[tokio::test(start_paused = true)]
async fn exited_measures_the_lifetime() {
    let node = node();
    let mut rx = listen(&node, &[EXITED]);
    let a = node
        .spawn(|_ctx: beamish_process::Ctx<()>| async {
            tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
        })
        .unwrap();
    let e = next(&mut rx).await;
    assert_eq!(e.meta("pid"), Some(shown(a.pid()).as_str()));
    assert_eq!(e.measurements, vec![("lifetime".to_owned(), 1.5e9)]);
}

/// Issue 5, R-EXIT-1, R-EXIT-2: `exit_signal` tells what the receive rules did: a `normal`
/// signal to a process that does not trap is ignored, a signal to a trapping one becomes a
/// message (over a link: `link` is true), and `kill` kills.
#[tokio::test(start_paused = true)]
async fn exit_signal_reports_ignored_trapped_and_killed() {
    let node = node();
    let mut rx = listen(&node, &[EXIT_SIGNAL]);
    let a = idle::<()>(&node);

    node.exit(a.pid(), Exit::Normal);
    let e = next(&mut rx).await;
    assert_eq!(e.meta("from"), Some(shown(node.pid()).as_str()));
    assert_eq!(e.meta("to"), Some(shown(a.pid()).as_str()));
    assert_eq!(e.meta("reason"), Some(reason(&Exit::Normal).as_str()));
    assert_eq!(e.meta("link"), Some("false"));
    assert_eq!(e.meta("outcome"), Some("ignored"));
    assert!(a.is_alive());

    // A trapping probe linked to a process that crashes: trapped, over the link.
    let (tx, rx_pid) = oneshot::channel();
    let mut probe = Probe::<()>::trapping(&node, move |ctx| {
        let c = ctx
            .build()
            .link()
            .spawn(|_c: Ctx<()>| async { Exit::error("crash") })
            .unwrap();
        let _ = tx.send(c.pid());
    })
    .await;
    let crashed = rx_pid.await.unwrap();
    let e = next(&mut rx).await;
    assert_eq!(e.meta("from"), Some(shown(crashed).as_str()));
    assert_eq!(e.meta("to"), Some(shown(probe.pid()).as_str()));
    assert_eq!(e.meta("link"), Some("true"));
    assert_eq!(e.meta("outcome"), Some("trapped"));
    assert_eq!(
        probe.next().await,
        Some(Got::Exit {
            from: crashed,
            reason: Exit::error("crash")
        })
    );

    // `kill` cannot be trapped: the probe dies of it.
    assert_eq!(
        exit_after(&node, probe.pid(), Exit::Kill).await,
        Exit::Killed
    );
    let e = next(&mut rx).await;
    assert_eq!(e.meta("to"), Some(shown(probe.pid()).as_str()));
    assert_eq!(e.meta("reason"), Some(reason(&Exit::Kill).as_str()));
    assert_eq!(e.meta("outcome"), Some("killed"));
    node.exit(a.pid(), Exit::Kill);
}

/// Issue 5, R-MON-1, R-MON-2: `down` names the watcher, the watched process and the reason;
/// it is emitted before the watcher receives its `DOWN`; a monitor of a dead pid fires at
/// once with `noproc`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_is_emitted_before_the_watcher_gets_its_down() {
    let node = node();
    let mut rx = listen(&node, &[DOWN]);
    let b = idle::<()>(&node);
    let bpid = b.pid();
    let mut probe = Probe::<()>::spawn(&node, move |ctx| {
        ctx.monitor(bpid);
    })
    .await;
    node.exit(bpid, Exit::Shutdown);
    match probe.next().await {
        Some(Got::Down { pid, reason, .. }) => {
            assert_eq!((pid, reason), (bpid, Exit::Shutdown));
        }
        other => panic!("expected a DOWN, got {other:?}"),
    }
    let e = rx
        .try_recv()
        .expect("down came before the DOWN was received");
    assert_eq!(e.name, "beamish.process.down");
    assert_eq!(e.meta("watcher"), Some(shown(probe.pid()).as_str()));
    assert_eq!(e.meta("watched"), Some(shown(bpid).as_str()));
    assert_eq!(e.meta("reason"), Some(reason(&Exit::Shutdown).as_str()));

    let dead = dead_pid(&node, Exit::Normal).await;
    // `dead_pid` waited on a node-level monitor: its watcher is the node.
    let e = next(&mut rx).await;
    assert_eq!(e.meta("watcher"), Some(shown(node.pid()).as_str()));
    assert_eq!(e.meta("watched"), Some(shown(dead).as_str()));
    let mut probe2 = Probe::<()>::spawn(&node, move |ctx| {
        ctx.monitor(dead);
    })
    .await;
    let e = next(&mut rx).await;
    assert_eq!(e.meta("watcher"), Some(shown(probe2.pid()).as_str()));
    assert_eq!(e.meta("reason"), Some(reason(&Exit::NoProc).as_str()));
    assert!(matches!(probe2.next().await, Some(Got::Down { .. })));
}

/// A server that never answers: it keeps every reply handle.
struct Silent(Vec<ReplyTo<()>>);

impl GenServer for Silent {
    type Call = ();
    type Reply = ();
    type Cast = ();
    type Info = ();
    async fn handle_call(
        &mut self,
        _: (),
        caller: Caller<'_, ()>,
        _: &mut ServerCtx<Self>,
    ) -> Result<Reply<()>, Exit> {
        // Keep the reply handle: the caller waits until its timeout.
        self.0.push(caller.defer());
        Ok(Reply::Later)
    }
}

/// Issue 5, R-GS-2: `call_timeout` is emitted by the caller when its call times out, with
/// the timeout in nanoseconds.
#[tokio::test(start_paused = true)]
async fn call_timeout_names_caller_server_and_timeout() {
    let node = node();
    let mut rx = listen(&node, &[CALL_TIMEOUT]);
    let server = node.start(Silent(Vec::new())).await.unwrap();
    let got = server.call_timeout((), Duration::from_millis(100)).await;
    assert_eq!(
        got,
        Err(CallError::Timeout(
            CallTimeout::new(server.pid(), Duration::from_millis(100)).into()
        ))
    );
    let e = rx.try_recv().expect("emitted before the call returned");
    assert_eq!(e.name, "beamish.process.call_timeout");
    assert_eq!(e.measurement("timeout"), Some(100_000_000.0));
    assert_eq!(e.meta("caller"), Some(shown(node.pid()).as_str()));
    assert_eq!(e.meta("server"), Some(shown(server.pid()).as_str()));
}

/// Issue 5, R-MBX-2: with `mailbox_alert` set, `mailbox_long` fires when a send makes the
/// mailbox exactly that long, once per upward crossing: not for the messages above it, and
/// again only after the queue went below the threshold and back up.
#[tokio::test(start_paused = true)]
async fn mailbox_long_fires_once_per_upward_crossing() {
    let node = Node::new(NodeConfig {
        mailbox_alert: Some(3),
        ..NodeConfig::default()
    })
    .unwrap();
    assert_eq!(node.mailbox_alert(), Some(3));
    let mut rx = listen(&node, &[MAILBOX_LONG]);
    let (gate_tx, mut gate) = mpsc::unbounded_channel::<()>();
    let (drained_tx, mut drained) = mpsc::unbounded_channel::<usize>();
    // Reads nothing until the gate opens, then drains its mailbox and reports.
    let slow = node
        .spawn(move |mut ctx: Ctx<u32>| async move {
            while gate.recv().await.is_some() {
                let mut n = 0;
                while ctx.try_recv().is_some() {
                    n += 1;
                }
                let _ = drained_tx.send(n);
            }
        })
        .unwrap();
    for i in 1..=5 {
        slow.send(i).unwrap();
        let alert = rx.try_recv().ok();
        if i == 3 {
            let e = alert.expect("the third message crosses the threshold");
            assert_eq!(e.measurement("length"), Some(3.0));
            assert_eq!(e.meta("pid"), Some(shown(slow.pid()).as_str()));
            assert_eq!(e.meta("threshold"), Some("3"));
        } else {
            assert!(alert.is_none(), "no alert at length {i}");
        }
    }
    gate_tx.send(()).unwrap();
    assert_eq!(within("the drain", drained.recv()).await, Some(5));
    for i in 1..=3 {
        slow.send(i).unwrap();
    }
    let e = rx.try_recv().expect("crossing again after the drain");
    assert_eq!(e.measurement("length"), Some(3.0));
    assert!(rx.try_recv().is_err());

    // A node without a threshold never alerts.
    let quiet = common::node();
    let mut quiet_rx = listen(&quiet, &[MAILBOX_LONG]);
    assert_eq!(quiet.mailbox_alert(), None);
    let q = idle::<u32>(&quiet);
    for i in 0..10 {
        q.send(i).unwrap();
    }
    assert!(quiet_rx.try_recv().is_err());
    node.exit(slow.pid(), Exit::Kill);
}

/// Issue 5, failure isolation: a handler that panics on `spawned` runs in the spawner, yet
/// spawning succeeds, the process runs, the handler is detached and reported as
/// `telemetry.handler.failure`, and the next spawn emits to the remaining handlers only.
#[tokio::test(start_paused = true)]
async fn a_panicking_spawned_handler_does_not_break_spawning() {
    let node = node();
    let mut failures = listen(&node, &[HANDLER_FAILURE, SPAWNED]);
    node.telemetry()
        .attach("bad", &[SPAWNED], |_| panic!("handler bug"))
        .unwrap();
    let (addr, down) = node
        .build()
        .monitor()
        .spawn(|_ctx: Ctx<()>| async { Exit::Normal })
        .expect("spawning still works");
    assert_eq!(within("the process to run", down).await, Exit::Normal);
    let spawned = next(&mut failures).await;
    assert_eq!(spawned.name, "beamish.process.spawned");
    assert_eq!(spawned.meta("pid"), Some(shown(addr.pid()).as_str()));
    let failure = next(&mut failures).await;
    assert_eq!(failure.name, "telemetry.handler.failure");
    assert_eq!(failure.meta("handler_id"), Some("bad"));
    assert_eq!(failure.meta("reason"), Some("handler bug"));
    assert!(node.telemetry().handlers().iter().all(|h| &*h.id != "bad"));

    let b = node
        .build()
        .spawn(|mut ctx: Ctx<u8>| async move {
            if matches!(ctx.recv().await, Message::Msg(1)) {
                Exit::Normal
            } else {
                Exit::error("wrong")
            }
        })
        .unwrap();
    let e = next(&mut failures).await;
    assert_eq!(e.meta("pid"), Some(shown(b.pid()).as_str()));
    let down = node.monitor(b.pid());
    b.send(1).unwrap();
    assert_eq!(within("b to end", down).await, Exit::Normal);
}
