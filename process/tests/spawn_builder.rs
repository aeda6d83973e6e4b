//! The spawn builder: one way to spawn from a node or a process, with link, monitor, kind,
//! capacity, name and exit trapping, all in place before the new process runs.

mod common;

use std::num::NonZeroUsize;

use beamish_process::{Capacity, Ctx, Exit, Kind, Message, RegisterError, SendError, SpawnError};
use common::{Got, dead_pid, exit_after, idle, node, recv, within};
use tokio::sync::oneshot;

/// R-LNK-1, R-MON-1: from a process, `link().monitor()` makes both before the child runs:
/// a child that dies at once is seen with its real reason, by the link (trapped) and by the
/// monitor, and the spawner is its parent.
#[tokio::test(start_paused = true)]
async fn r_lnk_1_link_and_monitor_exist_before_the_child_runs() {
    let node = node();
    let (tx, rx) = oneshot::channel();
    node.spawn(move |mut ctx: Ctx<()>| async move {
        ctx.trap_exit(true);
        let me = ctx.pid();
        let (parent_tx, parent_rx) = oneshot::channel();
        let (child, mref) = ctx
            .build()
            .link()
            .monitor()
            .spawn(move |ctx: Ctx<()>| async move {
                let _ = parent_tx.send(ctx.parent());
                Err::<(), _>(Exit::error("at once"))
            })?;
        let parent = parent_rx.await.ok().flatten();
        let first = recv(&mut ctx).await;
        let second = recv(&mut ctx).await;
        let _ = tx.send((me, parent, child.pid(), mref, first, second));
        Ok::<(), Exit>(())
    })
    .unwrap();
    let (me, parent, child, mref, first, second) = within("the report", rx).await.unwrap();
    assert_eq!(parent, Some(me));
    let exit = Got::Exit {
        from: child,
        reason: Exit::error("at once"),
    };
    let down = Got::Down {
        mref,
        pid: child,
        reason: Exit::error("at once"),
    };
    assert!(
        (first == exit && second == down) || (first == down && second == exit),
        "{first:?} {second:?}"
    );
}

/// From a node: name, kind, capacity and exit trapping are set before the process runs,
/// and the monitor future gives the reason.
#[tokio::test(start_paused = true)]
async fn options_are_in_place_before_the_process_runs() {
    let node = node();
    let (tx, rx) = oneshot::channel();
    let (addr, down) = node
        .build()
        .name("configured")
        .kind(Kind::Other)
        .capacity(Capacity::Bounded(NonZeroUsize::new(1).unwrap()))
        .trap_exit(true)
        .monitor()
        .spawn(move |mut ctx: Ctx<u32>| async move {
            let _ = tx.send((ctx.is_trapping_exits(), ctx.node().whereis("configured")));
            if let Message::Msg(n) = ctx.recv().await {
                return Err(Exit::error(format!("{n}")));
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(node.whereis("configured"), Some(addr.pid()));
    assert_eq!(node.process_info(addr.pid()).unwrap().kind, Kind::Other);
    assert_eq!(addr.send(1), Ok(()));
    assert_eq!(addr.send(2), Err(SendError::Full(2)));
    assert_eq!(
        within("the report", rx).await.unwrap(),
        (true, Some(addr.pid()))
    );
    assert_eq!(within("the end", down).await, Exit::error("1"));
}

/// A name that is taken fails the spawn with `SpawnError::Name`; nothing runs and nothing is
/// left in the table.
#[tokio::test(start_paused = true)]
async fn a_taken_name_fails_the_spawn() {
    let node = node();
    let holder = idle::<()>(&node).pid();
    node.register("taken", holder).unwrap();
    let before = node.process_count();
    let (ran_tx, mut ran) = oneshot::channel::<()>();
    let result = node
        .build()
        .name("taken")
        .spawn(move |_: Ctx<()>| async move {
            let _ = ran_tx.send(());
        });
    assert_eq!(
        result.err(),
        Some(SpawnError::Name(RegisterError::AlreadyRegistered(holder)))
    );
    assert_eq!(node.process_count(), before);
    // The body was dropped without running.
    assert!(ran.try_recv().is_err());
}

/// R-LNK-1, R-LNK-3: `link_to` from a node links the new process to another one (its death
/// reaches the new process); to a dead pid, the new process gets `noproc` and, not trapping,
/// dies of it.
#[tokio::test(start_paused = true)]
async fn r_lnk_3_link_to_from_a_node() {
    let node = node();
    let other = idle::<()>(&node).pid();
    let (linked, down) = node
        .build()
        .link_to(other)
        .monitor()
        .spawn(|_: Ctx<()>| std::future::pending::<()>())
        .unwrap();
    assert_eq!(
        exit_after(&node, other, Exit::error("gone")).await,
        Exit::error("gone")
    );
    assert_eq!(within("the linked end", down).await, Exit::error("gone"));
    assert!(!linked.is_alive());

    let dead = dead_pid(&node, Exit::Normal).await;
    let (_, down) = node
        .build()
        .link_to(dead)
        .monitor()
        .spawn(|_: Ctx<()>| std::future::pending::<()>())
        .unwrap();
    assert_eq!(within("the noproc end", down).await, Exit::NoProc);
}
