//! Links: bidirectional, at most one between two processes, created atomically by
//! `spawn_link`, removable from either side, and a link to a dead pid fails with `noproc` or,
//! when trapping, yields the exit signal `noproc`
//! (R-LNK-1, R-LNK-2, R-LNK-3).

mod common;

use beamish_process::{Ctx, Exit, LinkError, NodeId, Pid};
use common::{Got, Probe, dead_pid, exit_after, idle, node, recv, within};
use tokio::sync::oneshot;

/// R-LNK-2: the death of a linked process reaches the other side with its exit reason.
#[tokio::test(start_paused = true)]
async fn r_lnk_2_exit_signal_carries_the_exit_reason() {
    let node = node();
    for reason in [
        Exit::error("boom"),
        Exit::Shutdown,
        Exit::shutdown_with("bye"),
        Exit::Panic("oops".into()),
    ] {
        let b = idle::<()>(&node);
        let bpid = b.pid();
        let mut a = Probe::<()>::trapping(&node, move |ctx| ctx.link(bpid).unwrap()).await;
        node.exit(bpid, reason.clone());
        assert_eq!(
            a.next().await,
            Some(Got::Exit {
                from: bpid,
                reason: reason.clone()
            })
        );
    }
}

/// R-LNK-1: a link works both ways, whichever side created it.
#[tokio::test(start_paused = true)]
async fn r_lnk_1_links_are_bidirectional() {
    let node = node();
    // B, which did not call link, learns of A's death.
    let mut b = Probe::<()>::trapping(&node, |_| {}).await;
    let bpid = b.pid();
    let a = node
        .spawn(move |mut ctx: Ctx<()>| async move {
            ctx.link(bpid).unwrap();
            // Dies when told to.
            let _ = recv(&mut ctx).await;
            Exit::error("a died")
        })
        .unwrap();
    a.send(()).unwrap();
    assert_eq!(
        b.next().await,
        Some(Got::Exit {
            from: a.pid(),
            reason: Exit::error("a died")
        })
    );

    // And A, which called link, learns of B's death.
    let c = idle::<()>(&node);
    let cpid = c.pid();
    let mut a2 = Probe::<()>::trapping(&node, move |ctx| ctx.link(cpid).unwrap()).await;
    node.exit(cpid, Exit::error("c died"));
    assert_eq!(
        a2.next().await,
        Some(Got::Exit {
            from: cpid,
            reason: Exit::error("c died")
        })
    );
}

/// R-LNK-1: both sides see the link in introspection.
#[tokio::test(start_paused = true)]
async fn r_lnk_1_both_sides_record_the_link() {
    let node = node();
    let mut b = Probe::<&str>::spawn(&node, |_| {}).await;
    let bpid = b.pid();
    let (tx, rx) = oneshot::channel();
    let a = Probe::<()>::spawn(&node, move |ctx| {
        ctx.link(bpid).unwrap();
        let _ = tx.send(ctx.links());
    })
    .await;
    assert_eq!(rx.await.unwrap(), vec![bpid]);
    // B handles the link before the next message.
    b.send("sync");
    assert_eq!(b.next().await, Some(Got::Msg("sync")));
    assert_eq!(node.process_info(a.pid()).unwrap().links, vec![bpid]);
    assert_eq!(node.process_info(bpid).unwrap().links, vec![a.pid()]);
}

/// R-LNK-1: linking twice makes one link, so a single unlink removes it: the death of the
/// other side then leaves this (non-trapping) process alive.
#[tokio::test(start_paused = true)]
async fn r_lnk_1_link_twice_is_one_link() {
    let node = node();
    let b = idle::<()>(&node);
    let bpid = b.pid();
    let (tx, links) = oneshot::channel();
    let mut a = Probe::<&str>::spawn(&node, move |ctx| {
        ctx.link(bpid).unwrap();
        ctx.link(bpid).unwrap();
        let twice = ctx.links();
        ctx.unlink(bpid);
        let _ = tx.send((twice, ctx.links()));
    })
    .await;
    assert_eq!(links.await.unwrap(), (vec![bpid], vec![]));

    assert_eq!(
        exit_after(&node, bpid, Exit::error("crash")).await,
        Exit::error("crash")
    );
    // B's exit signal, had there been a link left, is queued at A before this ping.
    a.send("ping");
    assert_eq!(a.next().await, Some(Got::Msg("ping")));
}

/// R-LNK-1: linking twice delivers one exit signal, not two.
#[tokio::test(start_paused = true)]
async fn r_lnk_1_link_twice_gives_one_exit_signal() {
    let node = node();
    let b = idle::<()>(&node);
    let bpid = b.pid();
    let mut a = Probe::<&str>::trapping(&node, move |ctx| {
        ctx.link(bpid).unwrap();
        ctx.link(bpid).unwrap();
    })
    .await;
    exit_after(&node, bpid, Exit::error("once")).await;
    a.send("marker");
    assert_eq!(
        a.next().await,
        Some(Got::Exit {
            from: bpid,
            reason: Exit::error("once")
        })
    );
    assert_eq!(a.next().await, Some(Got::Msg("marker")));
}

/// R-LNK-1: either side can unlink: B removes a link that A created, and A's death then
/// leaves B (not trapping) alive.
#[tokio::test(start_paused = true)]
async fn r_lnk_1_either_side_can_unlink() {
    #[derive(Debug)]
    enum Cmd {
        Unlink(Pid, oneshot::Sender<Vec<Pid>>),
        Ping(oneshot::Sender<&'static str>),
    }
    let node = node();
    let b = node
        .spawn(|mut ctx: Ctx<Cmd>| async move {
            while let Got::Msg(cmd) = recv(&mut ctx).await {
                match cmd {
                    Cmd::Unlink(pid, reply) => {
                        let before = ctx.links();
                        ctx.unlink(pid);
                        let _ = reply.send(before);
                    }
                    Cmd::Ping(reply) => {
                        let _ = reply.send("pong");
                    }
                }
            }
        })
        .unwrap();
    let bpid = b.pid();
    let mut a = Probe::<()>::spawn(&node, move |ctx| ctx.link(bpid).unwrap()).await;
    let apid = a.pid();

    let (tx, rx) = oneshot::channel();
    b.send(Cmd::Unlink(apid, tx)).unwrap();
    assert_eq!(within("B unlinked", rx).await.unwrap(), vec![apid]);
    // A has handled B's unlink before the next message: the link is gone on both sides.
    a.send(());
    assert_eq!(a.next().await, Some(Got::Msg(())));
    assert!(node.process_info(apid).unwrap().links.is_empty());

    assert_eq!(
        exit_after(&node, apid, Exit::error("a crashed")).await,
        Exit::error("a crashed")
    );
    let (tx, rx) = oneshot::channel();
    b.send(Cmd::Ping(tx)).unwrap();
    assert_eq!(within("B's pong", rx).await, Ok("pong"));
    assert!(node.process_info(bpid).unwrap().links.is_empty());
}

/// R-LNK-1: `spawn_link` links before the child runs, so a child that fails at once is seen
/// with its own reason, never as `noproc`. Run on two workers, many times, so that the child
/// may run and die on the other thread while the parent is still inside `spawn_link`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_lnk_1_spawn_link_is_atomic() {
    let node = node();
    for i in 0..200 {
        let (tx, rx) = oneshot::channel();
        node.spawn(move |mut ctx: Ctx<()>| async move {
            ctx.trap_exit(true);
            let child = ctx
                .build()
                .link()
                .spawn(move |_: Ctx<()>| async move { Exit::error(format!("child {i}")) })
                .unwrap();
            let _ = tx.send((child.pid(), recv(&mut ctx).await));
        })
        .unwrap();
        let (child, got) = within("the child's exit signal", rx).await.unwrap();
        assert_eq!(
            got,
            Got::Exit {
                from: child,
                reason: Exit::error(format!("child {i}"))
            }
        );
    }
}

/// R-LNK-1, R-LNK-2: with `spawn_link`, a parent that dies before its child has run still
/// takes the child with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_lnk_1_spawn_link_parent_dying_at_once_takes_the_child() {
    let node = node();
    for _ in 0..50 {
        let (tx, rx) = oneshot::channel();
        node.spawn(move |ctx: Ctx<()>| async move {
            let child = ctx
                .build()
                .link()
                .spawn(|_: Ctx<()>| std::future::pending::<()>())
                .unwrap();
            // Watch the child before dying, so that its end is seen with its reason.
            let _ = tx.send(ctx.node().monitor(child.pid()));
            Exit::error("parent gone")
        })
        .unwrap();
        let child_down = within("the child's monitor", rx).await.unwrap();
        assert_eq!(
            within("the child's end", child_down).await,
            Exit::error("parent gone")
        );
    }
}

/// R-LNK-3: linking to a dead pid from a process that traps exits succeeds, and the exit
/// signal `noproc` arrives as a message.
#[tokio::test(start_paused = true)]
async fn r_lnk_3_link_to_dead_pid_traps_noproc() {
    let node = node();
    let dead = dead_pid(&node, Exit::Normal).await;
    let never = Pid::from_parts(NodeId::LOCAL, 1 << 40, 0);
    let mut a = Probe::<()>::trapping(&node, move |ctx| {
        assert_eq!(ctx.link(dead), Ok(()));
        assert_eq!(ctx.link(never), Ok(()));
    })
    .await;
    assert_eq!(
        a.next().await,
        Some(Got::Exit {
            from: dead,
            reason: Exit::NoProc
        })
    );
    assert_eq!(
        a.next().await,
        Some(Got::Exit {
            from: never,
            reason: Exit::NoProc
        })
    );
}

/// R-LNK-3: a process that does not trap exits and links to a dead pid fails at the call
/// with `LinkError::NoProc`, as Erlang's `link/1` raises `noproc`: no exit signal follows,
/// no link is left, and the process lives on (unless it lets the error end it, with
/// `noproc`).
#[tokio::test(start_paused = true)]
async fn r_lnk_3_link_to_dead_pid_fails_at_the_call_without_trapping() {
    let node = node();
    let dead = dead_pid(&node, Exit::error("long gone")).await;
    let (tx, rx) = oneshot::channel();
    let a = node
        .spawn(move |mut ctx: Ctx<()>| async move {
            let linked = ctx.link(dead);
            let links = ctx.links();
            let _ = tx.send((linked, links));
            // Alive: a queued `noproc` signal would have ended it at this await.
            let _ = recv(&mut ctx).await;
            linked?;
            Ok::<(), Exit>(())
        })
        .unwrap();
    let (linked, links) = within("A's report", rx).await.unwrap();
    assert_eq!(linked, Err(LinkError::NoProc(dead)));
    assert_eq!(links, Vec::<Pid>::new());
    let down = node.monitor(a.pid());
    a.send(()).unwrap();
    // `?` on the error ends the process with `noproc`.
    assert_eq!(within("A's end", down).await, Exit::NoProc);
}

/// R-LNK-1, R-EXIT-1: `unlink` drops an exit signal still in flight over the removed link:
/// once `unlink` has returned, the link has no effect. Here the signal (the `noproc` of a
/// trapping process's link to a dead pid) is queued but not yet handled when the process
/// unlinks: no `EXIT` message comes of it.
#[tokio::test(start_paused = true)]
async fn r_lnk_1_unlink_drops_a_queued_noproc_signal() {
    let node = node();
    let dead = dead_pid(&node, Exit::Normal).await;
    let (tx, rx) = oneshot::channel();
    let a = node
        .spawn(move |mut ctx: Ctx<()>| async move {
            ctx.trap_exit(true);
            ctx.link(dead).unwrap();
            ctx.unlink(dead);
            // The queued signal is handled at the next await.
            tokio::task::yield_now().await;
            let _ = tx.send(ctx.try_recv().map(Got::from));
        })
        .unwrap();
    let down = node.monitor(a.pid());
    assert_eq!(within("A to report", rx).await, Ok(None));
    assert_eq!(within("A's end", down).await, Exit::Normal);
}

/// R-LNK-1, R-EXIT-1: `unlink` drops the exit signal of a linked process that has already
/// died, when that signal is queued but not yet handled. A blocks its worker thread (so that
/// it cannot handle its signals) while B dies on the other worker, then unlinks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_lnk_1_unlink_drops_an_exit_signal_in_flight() {
    let node = node();
    let b = idle::<()>(&node);
    let bpid = b.pid();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let (ready_tx, ready) = oneshot::channel();
    let (done_tx, done) = oneshot::channel();
    let a = node
        .spawn(move |mut ctx: Ctx<&'static str>| async move {
            ctx.link(bpid).unwrap();
            let _ = ready_tx.send(());
            // Block this task (not the worker's other tasks) until B is dead and its exit
            // signal is queued here.
            beamish_process::block_in_place(|| go_rx.recv()).unwrap();
            ctx.unlink(bpid);
            // The queued signal is handled at the next await; it must be dropped.
            tokio::task::yield_now().await;
            let got = recv(&mut ctx).await;
            let _ = done_tx.send(got);
        })
        .unwrap();
    let a_down = node.monitor(a.pid());
    within("A linked", ready).await.unwrap();
    // B signals its links before its monitors: once our DOWN arrives, its exit signal is
    // queued at A. (The monitor is set before the exit, which may end B at once on the other
    // worker.)
    assert_eq!(
        exit_after(&node, bpid, Exit::error("b crashed")).await,
        Exit::error("b crashed")
    );
    go_tx.send(()).unwrap();
    a.send("ping").unwrap();
    assert_eq!(within("A's report", done).await, Ok(Got::Msg("ping")));
    assert_eq!(within("A's end", a_down).await, Exit::Normal);
}

/// R-LNK-2, R-LNK-3: a link that reaches a process after its exit signal (so the process is
/// still there, but dying) is answered with its real exit reason, not `noproc`.
#[tokio::test(start_paused = true)]
async fn r_lnk_2_link_to_a_dying_process_gets_its_reason() {
    let node = node();
    let b = idle::<()>(&node);
    let bpid = b.pid();
    let mut a = Probe::<()>::trapping(&node, move |ctx| {
        // Both signals are queued at B before it runs again: the kill first.
        ctx.node().exit(bpid, Exit::Kill);
        ctx.link(bpid).unwrap();
    })
    .await;
    assert_eq!(
        a.next().await,
        Some(Got::Exit {
            from: bpid,
            reason: Exit::Killed
        })
    );
}

/// R-LNK-1: when `spawn_link` returns, both sides already hold the link, before the child
/// has run at all (on this current-thread runtime it cannot run until the parent awaits).
#[tokio::test(start_paused = true)]
async fn r_lnk_1_spawn_link_links_both_sides_before_returning() {
    let node = node();
    let (tx, rx) = oneshot::channel();
    node.spawn(move |ctx: Ctx<()>| async move {
        let child = ctx
            .build()
            .link()
            .spawn(|_: Ctx<()>| std::future::pending::<()>())
            .unwrap();
        let info = ctx.node().process_info(child.pid()).unwrap();
        let _ = tx.send((ctx.pid(), ctx.links(), child.pid(), info.links, info.status));
        std::future::pending::<()>().await;
    })
    .unwrap();
    let (parent, parent_links, child, child_links, status) =
        within("the parent's report", rx).await.unwrap();
    assert_eq!(parent_links, vec![child]);
    assert_eq!(child_links, vec![parent]);
    assert_eq!(
        status,
        beamish_process::Status::Waiting,
        "the child has not run"
    );
}
