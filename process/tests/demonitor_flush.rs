//! `demonitor`: stops delivery, `flush` removes a `DOWN` already queued, and the result says
//! whether the monitor was still active (R-MON-4).

mod common;

use beamish_process::{Ctx, Exit, Message};
use common::{Got, Probe, dead_pid, exit_after, idle, node, recv, within};
use tokio::sync::oneshot;

/// R-MON-4: after `demonitor`, the monitored process's death yields no `DOWN`; a second,
/// still active monitor on the same process does fire.
#[tokio::test(start_paused = true)]
async fn r_mon_4_demonitor_stops_delivery() {
    let node = node();
    let b = idle::<()>(&node);
    let bpid = b.pid();
    let (tx, rx) = oneshot::channel();
    let mut a = Probe::<&str>::spawn(&node, move |ctx| {
        let gone = ctx.monitor(bpid);
        let kept = ctx.monitor(bpid);
        let active = ctx.demonitor(gone, false);
        let _ = tx.send((gone, kept, active));
    })
    .await;
    let (gone, kept, active) = rx.await.unwrap();
    assert!(active, "demonitor of an active monitor returns true");
    assert_eq!(
        exit_after(&node, bpid, Exit::error("b")).await,
        Exit::error("b")
    );
    a.send("marker");
    assert_eq!(
        a.next().await,
        Some(Got::Down {
            mref: kept,
            pid: bpid,
            reason: Exit::error("b")
        })
    );
    assert_eq!(
        a.next().await,
        Some(Got::Msg("marker")),
        "no DOWN for {gone}"
    );
}

/// R-MON-4: a `DOWN` that arrives for a monitor removed in the meantime is dropped, even one
/// already on its way (here the `noproc` of a monitor on a dead pid, queued at once).
#[tokio::test(start_paused = true)]
async fn r_mon_4_demonitor_drops_a_down_in_flight() {
    let node = node();
    let dead = dead_pid(&node, Exit::Normal).await;
    let (tx, rx) = oneshot::channel();
    node.spawn(move |mut ctx: Ctx<&'static str>| async move {
        let mref = ctx.monitor(dead); // its DOWN noproc is queued now
        let active = ctx.demonitor(mref, false);
        // Queued signals are handled at the next await: the DOWN is dropped there.
        tokio::task::yield_now().await;
        ctx.addr().send("marker").unwrap();
        let _ = tx.send((active, recv(&mut ctx).await));
    })
    .unwrap();
    let (active, got) = within("A's report", rx).await.unwrap();
    // The DOWN had not been received: the monitor still counted as active.
    assert!(active);
    assert_eq!(got, Got::Msg("marker"));
}

/// R-MON-4: `demonitor` with `flush` removes a `DOWN` that is already in the mailbox; without
/// `flush` it stays there. Either way the monitor had fired, so the result is `false`.
#[tokio::test(start_paused = true)]
async fn r_mon_4_flush_removes_a_queued_down() {
    let node = node();
    for flush in [true, false] {
        let b = idle::<()>(&node);
        let bpid = b.pid();
        let (ready_tx, ready) = oneshot::channel();
        let (tx, rx) = oneshot::channel();
        let a = node
            .spawn(move |mut ctx: Ctx<&'static str>| async move {
                let mref = ctx.monitor(bpid);
                let _ = ready_tx.send(());
                // Wait for "go", leaving the DOWN (which arrives first) queued.
                let go = ctx.recv_matching(|m| matches!(m, Message::Msg("go"))).await;
                let queued = ctx.mailbox_len();
                let active = ctx.demonitor(mref, flush);
                let left = ctx.mailbox_len();
                let next = ctx.try_recv().map(Got::from);
                let _ = tx.send((mref, Got::from(go), queued, active, left, next));
            })
            .unwrap();
        within("A's monitor", ready).await.unwrap();
        exit_after(&node, bpid, Exit::error("b")).await;
        a.send("go").unwrap();
        let (mref, go, queued, active, left, next) = within("A's report", rx).await.unwrap();
        assert_eq!(go, Got::Msg("go"));
        assert_eq!(queued, 1, "the DOWN is queued");
        assert!(!active, "the monitor had fired");
        if flush {
            assert_eq!((left, next), (0, None), "flush removes the DOWN");
        } else {
            let down = Got::Down {
                mref,
                pid: bpid,
                reason: Exit::error("b"),
            };
            assert_eq!(
                (left, next),
                (1, Some(down)),
                "without flush the DOWN stays"
            );
        }
    }
}

/// R-MON-4: `flush` removes only the `DOWN` of the given monitor; other messages, and the
/// `DOWN` of another monitor, stay queued in order.
#[tokio::test(start_paused = true)]
async fn r_mon_4_flush_removes_only_that_down() {
    let node = node();
    let b = idle::<()>(&node);
    let bpid = b.pid();
    let (ready_tx, ready) = oneshot::channel();
    let (tx, rx) = oneshot::channel();
    let a = node
        .spawn(move |mut ctx: Ctx<&'static str>| async move {
            let flushed = ctx.monitor(bpid);
            let kept = ctx.monitor(bpid);
            let _ = ready_tx.send(());
            let _ = ctx.recv_matching(|m| matches!(m, Message::Msg("go"))).await;
            ctx.demonitor(flushed, true);
            let mut rest = Vec::new();
            while let Some(m) = ctx.try_recv() {
                rest.push(Got::from(m));
            }
            let _ = tx.send((kept, rest));
        })
        .unwrap();
    within("A's monitors", ready).await.unwrap();
    a.send("before").unwrap();
    exit_after(&node, bpid, Exit::error("b")).await;
    a.send("go").unwrap();
    a.send("after").unwrap();
    let (kept, rest) = within("A's report", rx).await.unwrap();
    assert_eq!(
        rest,
        vec![
            Got::Msg("before"),
            Got::Down {
                mref: kept,
                pid: bpid,
                reason: Exit::error("b")
            },
            Got::Msg("after"),
        ]
    );
}

/// R-MON-4 (`info`): `demonitor` returns `false` once the monitor has fired and its `DOWN`
/// was received, and for a reference that names no monitor.
#[tokio::test(start_paused = true)]
async fn r_mon_4_demonitor_returns_false_after_firing() {
    let node = node();
    let b = idle::<()>(&node);
    let bpid = b.pid();
    let (tx, rx) = oneshot::channel();
    node.spawn(move |mut ctx: Ctx<()>| async move {
        let mref = ctx.monitor(bpid);
        ctx.node().exit(bpid, Exit::error("b"));
        let down = recv(&mut ctx).await;
        let after = ctx.demonitor(mref, false);
        let again = ctx.demonitor(mref, true);
        let unknown = ctx.demonitor(ctx.node().make_ref(), false);
        let _ = tx.send((mref, down, after, again, unknown));
    })
    .unwrap();
    let (mref, down, after, again, unknown) = within("A's report", rx).await.unwrap();
    assert_eq!(
        down,
        Got::Down {
            mref,
            pid: bpid,
            reason: Exit::error("b")
        }
    );
    assert_eq!((after, again, unknown), (false, false, false));
}

/// R-MON-4: the monitored process stops counting a removed monitor.
#[tokio::test(start_paused = true)]
async fn r_mon_4_demonitor_removes_the_monitor_at_the_target() {
    let node = node();
    let mut b = Probe::<&str>::spawn(&node, |_| {}).await;
    let bpid = b.pid();
    let (tx, rx) = oneshot::channel();
    let a = node
        .spawn(
            move |mut ctx: Ctx<oneshot::Sender<Vec<beamish_process::Pid>>>| async move {
                let mref = ctx.monitor(bpid);
                let _ = tx.send(());
                if let Got::Msg(done) = recv(&mut ctx).await {
                    ctx.demonitor(mref, false);
                    let _ = done.send(ctx.node().process_info(ctx.pid()).unwrap().monitors);
                }
                std::future::pending::<()>().await;
            },
        )
        .unwrap();
    within("A's monitor", rx).await.unwrap();
    b.send("sync");
    assert_eq!(b.next().await, Some(Got::Msg("sync")));
    assert_eq!(node.process_info(bpid).unwrap().monitored_by, 1);
    assert_eq!(node.process_info(a.pid()).unwrap().monitors, vec![bpid]);
    let (done_tx, done) = oneshot::channel();
    a.send(done_tx).unwrap();
    assert_eq!(within("A's demonitor", done).await.unwrap(), vec![]);
    // B handles the demonitor signal before the next message.
    b.send("sync");
    assert_eq!(b.next().await, Some(Got::Msg("sync")));
    assert_eq!(node.process_info(bpid).unwrap().monitored_by, 0);
}
