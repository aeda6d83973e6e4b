//! What an exit signal does to its receiver: dropped, deadly, or a message, by the receive
//! rules of R-EXIT-1 and R-EXIT-2; and which reasons count as errors (R-EXIT-3).

mod common;

use beamish_process::{Ctx, Exit, SpawnOpts};
use common::{Got, Probe, exit_after, exit_of, idle, node, recv, within};
use tokio::sync::oneshot;

/// R-EXIT-1: an explicit `normal` exit signal to a process that does not trap exits is
/// dropped.
#[tokio::test(start_paused = true)]
async fn r_exit_1_explicit_normal_is_dropped_without_trapping() {
    let node = node();
    let mut a = Probe::<&str>::spawn(&node, |_| {}).await;
    node.exit(a.pid(), Exit::Normal);
    // Signals are handled before later messages from the same sender (R-ORD-1).
    a.send("still here");
    assert_eq!(a.next().await, Some(Got::Msg("still here")));
}

/// R-EXIT-1: a `normal` exit over a link is dropped by a process that does not trap exits.
#[tokio::test(start_paused = true)]
async fn r_exit_1_normal_over_a_link_is_dropped_without_trapping() {
    let node = node();
    let (go_tx, go) = oneshot::channel::<()>();
    let b = node
        .spawn(move |_: Ctx<()>| async move {
            let _ = go.await;
        })
        .unwrap();
    let bpid = b.pid();
    let mut a = Probe::<&str>::spawn(&node, move |ctx| ctx.link(bpid).unwrap()).await;
    let b_down = node.monitor(bpid);
    go_tx.send(()).unwrap();
    assert_eq!(within("B's end", b_down).await, Exit::Normal);
    a.send("still here");
    assert_eq!(a.next().await, Some(Got::Msg("still here")));
}

/// R-EXIT-1: a trapping process receives `normal` exits as messages, explicit or over a link.
#[tokio::test(start_paused = true)]
async fn r_exit_1_normal_becomes_a_message_when_trapping() {
    let node = node();
    let (go_tx, go) = oneshot::channel::<()>();
    let b = node
        .spawn(move |_: Ctx<()>| async move {
            let _ = go.await;
        })
        .unwrap();
    let bpid = b.pid();
    let mut a = Probe::<()>::trapping(&node, move |ctx| ctx.link(bpid).unwrap()).await;
    go_tx.send(()).unwrap();
    assert_eq!(
        a.next().await,
        Some(Got::Exit {
            from: bpid,
            reason: Exit::Normal
        })
    );
    node.exit(a.pid(), Exit::Normal);
    assert_eq!(
        a.next().await,
        Some(Got::Exit {
            from: node.pid(),
            reason: Exit::Normal
        })
    );
}

/// R-EXIT-1 (c): `exit(self(), normal)` ends the process, even when it traps exits.
#[tokio::test(start_paused = true)]
async fn r_exit_1_exit_self_normal_kills_even_when_trapping() {
    let node = node();
    let a = node
        .spawn(|mut ctx: Ctx<()>| async move {
            ctx.trap_exit(true);
            ctx.exit(ctx.pid(), Exit::Normal);
            let got = recv(&mut ctx).await;
            Exit::error(format!("survived exit(self, normal): {got:?}"))
        })
        .unwrap();
    assert_eq!(exit_of(&node, a.pid()).await, Exit::Normal);
}

/// R-EXIT-1 (b): a process that does not trap exits dies of any other reason, with that
/// reason, whether the signal was explicit or came over a link.
#[tokio::test(start_paused = true)]
async fn r_exit_1_abnormal_signal_kills_with_its_reason() {
    let node = node();
    for reason in [
        Exit::error("boom"),
        Exit::Shutdown,
        Exit::shutdown_with("x"),
    ] {
        // Explicit.
        let a = idle::<()>(&node);
        assert_eq!(exit_after(&node, a.pid(), reason.clone()).await, reason);
        // Over a link.
        let b = idle::<()>(&node);
        let bpid = b.pid();
        let a = Probe::<()>::spawn(&node, move |ctx| ctx.link(bpid).unwrap()).await;
        let a_down = node.monitor(a.pid());
        node.exit(bpid, reason.clone());
        assert_eq!(within("A's end", a_down).await, reason);
    }
}

/// R-EXIT-1: an exit signal preempts a process at its next `.await`, whatever it awaits.
#[tokio::test(start_paused = true)]
async fn r_exit_1_exit_signal_preempts_any_await() {
    let node = node();
    let (_never_tx, never) = oneshot::channel::<()>();
    let a = node
        .spawn(move |_: Ctx<()>| async move {
            let _ = never.await;
            Exit::error("the gate opened")
        })
        .unwrap();
    assert_eq!(
        exit_after(&node, a.pid(), Exit::error("stop")).await,
        Exit::error("stop")
    );
}

/// R-EXIT-1, R-EXIT-2: an explicit `kill` ends the target with `killed`, even when it traps
/// exits.
#[tokio::test(start_paused = true)]
async fn r_exit_2_explicit_kill_gives_killed_even_when_trapping() {
    let node = node();
    for trapping in [false, true] {
        let opts = SpawnOpts {
            trap_exit: trapping,
            ..SpawnOpts::default()
        };
        let a = Probe::<()>::spawn_with(&node, opts, |_| {}).await;
        let down = node.monitor(a.pid());
        node.exit(a.pid(), Exit::Kill);
        assert_eq!(
            within("A's end", down).await,
            Exit::Killed,
            "trap={trapping}"
        );
    }
    // The same from another process (`exit(Pid, kill)` in a process).
    let victim = Probe::<()>::trapping(&node, |_| {}).await;
    let vpid = victim.pid();
    let down = node.monitor(vpid);
    node.spawn(move |ctx: Ctx<()>| async move { ctx.exit(vpid, Exit::Kill) })
        .unwrap();
    assert_eq!(within("the victim's end", down).await, Exit::Killed);
}

/// R-EXIT-1: `kill` arriving over a link is not turned into `killed`: a non-trapping process
/// dies with `kill`, a trapping one receives it as a message and lives.
#[tokio::test(start_paused = true)]
async fn r_exit_1_kill_over_a_link_is_not_converted() {
    let node = node();
    // A process that exits with reason `kill` of its own accord, when told.
    let spawn_killer = || {
        let (go_tx, go) = oneshot::channel::<()>();
        let b = node
            .spawn(move |_: Ctx<()>| async move {
                let _ = go.await;
                Exit::Kill
            })
            .unwrap();
        (b.pid(), go_tx)
    };

    let (bpid, go) = spawn_killer();
    let a = Probe::<()>::spawn(&node, move |ctx| ctx.link(bpid).unwrap()).await;
    let a_down = node.monitor(a.pid());
    go.send(()).unwrap();
    assert_eq!(within("A's end", a_down).await, Exit::Kill);

    let (bpid, go) = spawn_killer();
    let mut a = Probe::<()>::trapping(&node, move |ctx| ctx.link(bpid).unwrap()).await;
    go.send(()).unwrap();
    assert_eq!(
        a.next().await,
        Some(Got::Exit {
            from: bpid,
            reason: Exit::Kill
        })
    );
    a.send(());
    assert_eq!(a.next().await, Some(Got::Msg(())));
}

/// R-EXIT-1: while trapping, exit signals arrive as [`Message::Exit`] with their sender and
/// reason, and the process carries on.
///
/// [`Message::Exit`]: beamish_process::Message
#[tokio::test(start_paused = true)]
async fn r_exit_1_trap_exit_turns_signals_into_messages() {
    let node = node();
    let b = idle::<()>(&node);
    let bpid = b.pid();
    let mut a = Probe::<&str>::trapping(&node, move |ctx| ctx.link(bpid).unwrap()).await;
    node.exit(bpid, Exit::error("b failed"));
    assert_eq!(
        a.next().await,
        Some(Got::Exit {
            from: bpid,
            reason: Exit::error("b failed")
        })
    );
    node.exit(a.pid(), Exit::Shutdown);
    assert_eq!(
        a.next().await,
        Some(Got::Exit {
            from: node.pid(),
            reason: Exit::Shutdown
        })
    );
    a.send("alive");
    assert_eq!(a.next().await, Some(Got::Msg("alive")));
    assert!(node.process_info(a.pid()).unwrap().trap_exit);
}

/// R-EXIT-1: trapping can be turned on and off at run time; `trap_exit` returns the old flag.
#[tokio::test(start_paused = true)]
async fn r_exit_1_trap_exit_toggles() {
    let node = node();
    let (flags_tx, flags) = oneshot::channel();
    let (off_tx, off) = oneshot::channel();
    let a = node
        .spawn(move |mut ctx: Ctx<()>| async move {
            let was = ctx.trap_exit(true);
            let _ = flags_tx.send((was, ctx.is_trapping_exits()));
            // Trapping: the first exit signal is a message.
            let first = recv(&mut ctx).await;
            let was = ctx.trap_exit(false);
            let _ = off_tx.send((first, was));
            // Not trapping: the second one ends the process.
            let second = recv(&mut ctx).await;
            Exit::error(format!("survived: {second:?}"))
        })
        .unwrap();
    let down = node.monitor(a.pid());
    assert_eq!(within("A's flags", flags).await, Ok((false, true)));
    node.exit(a.pid(), Exit::error("first"));
    let first = Got::Exit {
        from: node.pid(),
        reason: Exit::error("first"),
    };
    assert_eq!(within("A's first exit", off).await, Ok((first, true)));
    node.exit(a.pid(), Exit::error("second"));
    assert_eq!(within("A's end", down).await, Exit::error("second"));
}

/// R-EXIT-2: the processes linked to a killed process receive `killed`, not `kill`: a
/// trapping one as a message, a non-trapping one dies with `killed`.
#[tokio::test(start_paused = true)]
async fn r_exit_2_links_of_a_killed_process_receive_killed() {
    let node = node();
    let b = idle::<()>(&node);
    let bpid = b.pid();
    let mut trapping = Probe::<()>::trapping(&node, move |ctx| ctx.link(bpid).unwrap()).await;
    let plain = Probe::<()>::spawn(&node, move |ctx| ctx.link(bpid).unwrap()).await;
    let plain_down = node.monitor(plain.pid());
    node.exit(bpid, Exit::Kill);
    assert_eq!(
        trapping.next().await,
        Some(Got::Exit {
            from: bpid,
            reason: Exit::Killed
        })
    );
    assert_eq!(
        within("the plain one's end", plain_down).await,
        Exit::Killed
    );
}

/// R-EXIT-3: `normal`, `shutdown` and `{shutdown, _}` are not errors; every other reason is.
#[test]
fn r_exit_3_which_reasons_are_errors() {
    for r in [Exit::Normal, Exit::Shutdown, Exit::shutdown_with("bye")] {
        assert!(r.is_normal_or_shutdown() && !r.is_abnormal(), "{r}");
    }
    for r in [
        Exit::Kill,
        Exit::Killed,
        Exit::NoProc,
        Exit::NoConnection,
        Exit::Panic("p".into()),
        Exit::error("e"),
    ] {
        assert!(r.is_abnormal() && !r.is_normal_or_shutdown(), "{r}");
    }
}

/// R-EXIT-1: `shutdown` is only "not an error" for supervisors; as a signal it is not
/// `normal`, so it ends a linked process that does not trap exits.
#[tokio::test(start_paused = true)]
async fn r_exit_1_shutdown_over_a_link_kills_a_non_trapping_process() {
    let node = node();
    let (go_tx, go) = oneshot::channel::<()>();
    let b = node
        .spawn(move |_: Ctx<()>| async move {
            let _ = go.await;
            Exit::Shutdown
        })
        .unwrap();
    let bpid = b.pid();
    let a = Probe::<()>::spawn(&node, move |ctx| ctx.link(bpid).unwrap()).await;
    let down = node.monitor(a.pid());
    go_tx.send(()).unwrap();
    assert_eq!(within("A's end", down).await, Exit::Shutdown);
}
