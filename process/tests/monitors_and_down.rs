//! Monitors: a `DOWN` with the reference, the pid and the reason; `noproc` at once for a dead
//! pid; each monitor independent; one-way (R-MON-1, R-MON-2, R-MON-3).

mod common;

use beamish_process::{Ctx, Exit, Message, NodeId, Pid};
use common::{Got, Probe, dead_pid, exit_after, idle, node, recv, within};
use tokio::sync::oneshot;

/// R-MON-1: when the monitored process ends, the monitoring one receives `DOWN` with the
/// monitor's reference, the pid and the exit reason.
#[tokio::test(start_paused = true)]
async fn r_mon_1_down_carries_ref_pid_and_reason() {
    let node = node();
    for (signal, reason) in [
        (Exit::error("boom"), Exit::error("boom")),
        (Exit::Shutdown, Exit::Shutdown),
        (Exit::Kill, Exit::Killed),
    ] {
        let b = idle::<()>(&node);
        let bpid = b.pid();
        let (tx, rx) = oneshot::channel();
        let mut a = Probe::<()>::spawn(&node, move |ctx| {
            let _ = tx.send(ctx.monitor(bpid));
        })
        .await;
        let mref = rx.await.unwrap();
        node.exit(bpid, signal);
        assert_eq!(
            a.next().await,
            Some(Got::Down {
                mref,
                pid: bpid,
                reason
            })
        );
    }
}

/// R-MON-1: a process that ends by returning is seen with its own reason, `normal` included.
#[tokio::test(start_paused = true)]
async fn r_mon_1_down_for_a_process_that_returns() {
    let node = node();
    for reason in [Exit::Normal, Exit::error("done badly")] {
        let (go_tx, go) = oneshot::channel::<()>();
        let r = reason.clone();
        let b = node
            .spawn(move |_: Ctx<()>| async move {
                let _ = go.await;
                r
            })
            .unwrap();
        let bpid = b.pid();
        let (tx, rx) = oneshot::channel();
        let mut a = Probe::<()>::spawn(&node, move |ctx| {
            let _ = tx.send(ctx.monitor(bpid));
        })
        .await;
        let mref = rx.await.unwrap();
        go_tx.send(()).unwrap();
        assert_eq!(
            a.next().await,
            Some(Got::Down {
                mref,
                pid: bpid,
                reason
            })
        );
    }
}

/// R-MON-1: a monitor is one-way: the death of the monitoring process leaves the monitored
/// one alone, and it no longer counts the monitor.
#[tokio::test(start_paused = true)]
async fn r_mon_1_monitors_are_one_way() {
    let node = node();
    let mut b = Probe::<&str>::spawn(&node, |_| {}).await;
    let bpid = b.pid();
    let a = Probe::<()>::spawn(&node, move |ctx| {
        ctx.monitor(bpid);
    })
    .await;
    b.send("sync"); // B has now handled the monitor signal
    assert_eq!(b.next().await, Some(Got::Msg("sync")));
    assert_eq!(node.process_info(bpid).unwrap().monitored_by, 1);
    assert_eq!(node.process_info(a.pid()).unwrap().monitors, vec![bpid]);

    assert_eq!(
        exit_after(&node, a.pid(), Exit::error("monitoring side crashed")).await,
        Exit::error("monitoring side crashed")
    );
    b.send("still here");
    assert_eq!(b.next().await, Some(Got::Msg("still here")));
    assert_eq!(node.process_info(bpid).unwrap().monitored_by, 0);
}

/// R-MON-2: monitoring a pid that does not exist gives `DOWN` with `noproc` at once, both for
/// a process that has ended and for a pid that never was.
#[tokio::test(start_paused = true)]
async fn r_mon_2_monitor_of_a_dead_pid_is_down_noproc_at_once() {
    let node = node();
    let dead = dead_pid(&node, Exit::error("gone")).await;
    let never = Pid::from_parts(NodeId::LOCAL, 1 << 40, 0);
    let (tx, rx) = oneshot::channel();
    let mut a = Probe::<()>::spawn(&node, move |ctx| {
        let _ = tx.send((ctx.monitor(dead), ctx.monitor(never)));
    })
    .await;
    let (r1, r2) = rx.await.unwrap();
    assert_eq!(
        a.next().await,
        Some(Got::Down {
            mref: r1,
            pid: dead,
            reason: Exit::NoProc
        })
    );
    assert_eq!(
        a.next().await,
        Some(Got::Down {
            mref: r2,
            pid: never,
            reason: Exit::NoProc
        })
    );
    // The same from outside any process.
    assert_eq!(within("noproc", node.monitor(dead)).await, Exit::NoProc);
    assert_eq!(within("noproc", node.monitor(never)).await, Exit::NoProc);
}

/// R-MON-3: each call to `monitor` makes an independent monitor with its own reference, and
/// each one yields its own `DOWN`.
#[tokio::test(start_paused = true)]
async fn r_mon_3_independent_monitors_each_fire() {
    let node = node();
    let b = idle::<()>(&node);
    let bpid = b.pid();
    let (tx, rx) = oneshot::channel();
    let mut a = Probe::<()>::spawn(&node, move |ctx| {
        let _ = tx.send([ctx.monitor(bpid), ctx.monitor(bpid), ctx.monitor(bpid)]);
    })
    .await;
    let refs = rx.await.unwrap();
    assert!(refs[0] != refs[1] && refs[1] != refs[2] && refs[0] != refs[2]);
    let outside = [node.monitor(bpid), node.monitor(bpid)];
    node.exit(bpid, Exit::error("x"));
    let mut seen = Vec::new();
    for _ in 0..3 {
        match a.next().await {
            Some(Got::Down { mref, pid, reason }) => {
                assert_eq!((pid, reason), (bpid, Exit::error("x")));
                seen.push(mref);
            }
            other => panic!("expected a DOWN, got {other:?}"),
        }
    }
    seen.sort();
    let mut want = refs.to_vec();
    want.sort();
    assert_eq!(seen, want);
    for down in outside {
        assert_eq!(within("DOWN", down).await, Exit::error("x"));
    }
}

/// R-MON-1: `spawn_monitor` monitors before the child runs, so a child that fails at once is
/// seen with its own reason, not `noproc`. Two workers, many rounds, to let the child race.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_mon_1_spawn_monitor_is_atomic() {
    let node = node();
    for i in 0..200 {
        let (tx, rx) = oneshot::channel();
        node.spawn(move |mut ctx: Ctx<()>| async move {
            let (child, mref) = ctx
                .build()
                .monitor()
                .spawn(move |_: Ctx<()>| async move { Exit::error(format!("child {i}")) })
                .unwrap();
            let _ = tx.send((child.pid(), mref, recv(&mut ctx).await));
        })
        .unwrap();
        let (child, mref, got) = within("the child's DOWN", rx).await.unwrap();
        assert_eq!(
            got,
            Got::Down {
                mref,
                pid: child,
                reason: Exit::error(format!("child {i}"))
            }
        );
    }
}

/// R-MON-1: monitors work across worker threads: many processes monitor one, which ends on
/// another thread; each gets its `DOWN`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_mon_1_down_reaches_monitors_on_other_threads() {
    let node = node();
    let target = idle::<()>(&node);
    let tpid = target.pid();
    let mut watchers = Vec::new();
    for _ in 0..20 {
        let (ready_tx, ready) = oneshot::channel();
        let (tx, rx) = oneshot::channel();
        node.spawn(move |mut ctx: Ctx<()>| async move {
            let mref = ctx.monitor(tpid);
            let _ = ready_tx.send(());
            let _ = tx.send((mref, recv(&mut ctx).await));
        })
        .unwrap();
        within("a watcher's monitor", ready).await.unwrap();
        watchers.push(rx);
    }
    node.exit(tpid, Exit::error("bye"));
    for rx in watchers {
        let (mref, got) = within("a DOWN", rx).await.unwrap();
        assert_eq!(
            got,
            Got::Down {
                mref,
                pid: tpid,
                reason: Exit::error("bye")
            }
        );
    }
}

/// R-MON-1: [`Node::monitor`] from outside any process yields the reason; its future owns
/// what it needs, so it can outlive the node handle it was made from and move to another task.
///
/// [`Node::monitor`]: beamish_process::Node::monitor
#[tokio::test(start_paused = true)]
async fn r_mon_1_node_monitor_future_is_independent_of_the_handle() {
    let node = node();
    let b = idle::<()>(&node);
    let down = {
        let handle = node.clone();
        handle.monitor(b.pid())
    };
    let task = tokio::spawn(down);
    node.exit(b.pid(), Exit::error("late"));
    assert_eq!(
        within("the monitor task", task).await.unwrap(),
        Exit::error("late")
    );
}

/// R-MON-1: a `DOWN` can be picked out by its reference with a selective receive, ahead of
/// older messages.
#[tokio::test(start_paused = true)]
async fn r_mon_1_down_matched_by_reference() {
    let node = node();
    let b = idle::<()>(&node);
    let bpid = b.pid();
    let (tx, rx) = oneshot::channel();
    node.spawn(move |mut ctx: Ctx<u32>| async move {
        let mref = ctx.monitor(bpid);
        ctx.addr().send(1).unwrap();
        ctx.addr().send(2).unwrap();
        ctx.node().exit(bpid, Exit::error("b"));
        let down: Got<u32> = ctx
            .recv_matching(|m: &Message<u32>| m.down_ref() == Some(mref))
            .await
            .into();
        let rest = [recv(&mut ctx).await, recv(&mut ctx).await];
        let _ = tx.send((mref, down, rest));
    })
    .unwrap();
    let (mref, down, rest) = within("A's report", rx).await.unwrap();
    assert_eq!(
        down,
        Got::Down {
            mref,
            pid: bpid,
            reason: Exit::error("b")
        }
    );
    assert_eq!(rest, [Got::Msg(1), Got::Msg(2)]);
}

/// R-MON-1, R-MON-2: a monitor that reaches a process after its exit signal (so the process
/// is still there, but dying) fires with its real exit reason, not `noproc`.
#[tokio::test(start_paused = true)]
async fn r_mon_1_monitor_of_a_dying_process_gets_its_reason() {
    let node = node();
    let b = idle::<()>(&node);
    let bpid = b.pid();
    let (tx, rx) = oneshot::channel();
    let mut a = Probe::<()>::spawn(&node, move |ctx| {
        // Both signals are queued at B before it runs again: the kill first.
        ctx.node().exit(bpid, Exit::Kill);
        let _ = tx.send(ctx.monitor(bpid));
    })
    .await;
    let mref = rx.await.unwrap();
    assert_eq!(
        a.next().await,
        Some(Got::Down {
            mref,
            pid: bpid,
            reason: Exit::Killed
        })
    );
}

/// R-MON-1: when `spawn_monitor` returns, the child is already monitored, before it has run
/// at all (on this current-thread runtime it cannot run until the parent awaits).
#[tokio::test(start_paused = true)]
async fn r_mon_1_spawn_monitor_monitors_before_returning() {
    let node = node();
    let (tx, rx) = oneshot::channel();
    node.spawn(move |ctx: Ctx<()>| async move {
        let (child, _) = ctx
            .build()
            .monitor()
            .spawn(|_: Ctx<()>| std::future::pending::<()>())
            .unwrap();
        let info = ctx.node().process_info(child.pid()).unwrap();
        let mine = ctx.node().process_info(ctx.pid()).unwrap();
        let _ = tx.send((child.pid(), info.monitored_by, mine.monitors));
        std::future::pending::<()>().await;
    })
    .unwrap();
    let (child, monitored_by, monitors) = within("the parent's report", rx).await.unwrap();
    assert_eq!(monitored_by, 1);
    assert_eq!(monitors, vec![child]);
}
