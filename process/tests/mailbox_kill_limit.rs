//! A mailbox kill limit (R-MBX-2, like `max_heap_size` with `kill => true`): senders are never
//! held back, and a process whose queue passes the limit dies with `killed`, which its links
//! and monitors hear as usual.

mod common;

use std::num::NonZeroUsize;

use beamish_process::{Capacity, Ctx, Exit, SpawnOpts};
use common::{Got, node, recv, within};
use tokio::sync::oneshot;

fn kill_above(n: usize) -> SpawnOpts {
    SpawnOpts {
        capacity: Capacity::KillAbove(NonZeroUsize::new(n).unwrap()),
        ..SpawnOpts::default()
    }
}

/// R-MBX-2: a process that does not read its mailbox is killed by the send that passes its
/// limit; every send succeeds, and a linked process that traps exits gets `killed`.
#[tokio::test(start_paused = true)]
async fn r_mbx_2_passing_the_kill_limit_kills_with_killed() {
    let node = node();
    let (victim_tx, victim_rx) = oneshot::channel();
    let (heard_tx, heard) = oneshot::channel();
    node.spawn(move |mut ctx: Ctx<()>| async move {
        ctx.trap_exit(true);
        let victim = ctx
            .build()
            .link()
            .opts(kill_above(3))
            .spawn(|_: Ctx<u32>| async move {
                std::future::pending::<()>().await;
            })?;
        let _ = victim_tx.send(victim);
        let _ = heard_tx.send(recv(&mut ctx).await);
        Ok::<(), Exit>(())
    })
    .unwrap();
    let victim = within("the victim", victim_rx).await.unwrap();
    let down = node.monitor(victim.pid());
    for i in 0..3 {
        victim.send(i).unwrap();
    }
    // At the limit, not past it: the process lives on.
    tokio::task::yield_now().await;
    assert!(victim.is_alive());
    assert_eq!(
        victim.send(3),
        Ok(()),
        "a kill limit never refuses a message"
    );
    assert_eq!(within("the victim's end", down).await, Exit::Killed);
    assert_eq!(
        within("the EXIT", heard).await.unwrap(),
        Got::Exit {
            from: victim.pid(),
            reason: Exit::Killed
        }
    );
}

/// R-MBX-2: the kill cannot be trapped, as `max_heap_size`'s is not: a process that traps
/// exits dies too.
#[tokio::test(start_paused = true)]
async fn r_mbx_2_a_trapping_process_is_killed_too() {
    let node = node();
    let opts = SpawnOpts {
        trap_exit: true,
        ..kill_above(1)
    };
    let victim = node
        .build()
        .opts(opts)
        .spawn(|_: Ctx<u32>| async move {
            std::future::pending::<()>().await;
        })
        .unwrap();
    let down = node.monitor(victim.pid());
    victim.send(1).unwrap();
    victim.send(2).unwrap();
    assert_eq!(within("the victim's end", down).await, Exit::Killed);
}

/// A process that keeps up with its mailbox is never killed: the limit is on what waits,
/// not on what passes through.
#[tokio::test(start_paused = true)]
async fn a_process_that_keeps_up_is_not_killed() {
    let node = node();
    let (done_tx, done) = oneshot::channel();
    let worker = node
        .build()
        .opts(kill_above(2))
        .spawn(move |mut ctx: Ctx<u32>| async move {
            let mut sum = 0;
            while let Got::Msg(n) = recv(&mut ctx).await {
                sum += n;
                if n == 99 {
                    break;
                }
            }
            let _ = done_tx.send(sum);
        })
        .unwrap();
    let down = node.monitor(worker.pid());
    for i in 0..10 {
        worker.send(i).unwrap();
        tokio::task::yield_now().await;
    }
    worker.send(99).unwrap();
    assert_eq!(within("the sum", done).await, Ok(45 + 99));
    assert_eq!(within("the worker's end", down).await, Exit::Normal);
}

/// R-MBX-2: a kill by the mailbox limit is observable as the telemetry event
/// `beamish.process.mailbox_killed`, with the queue's length, the limit and the pid, emitted
/// before the process's monitors hear `killed`.
#[tokio::test(start_paused = true)]
async fn r_mbx_2_a_kill_by_the_limit_emits_mailbox_killed() {
    use beamish_telemetry::events::process::MAILBOX_KILLED;
    let node = node();
    let mut events =
        beamish_telemetry::capture(node.telemetry(), "kill-listener", &[MAILBOX_KILLED])
            .expect("attach the listener");
    let victim = node
        .build()
        .opts(kill_above(2))
        .spawn(|_: Ctx<u32>| async move {
            std::future::pending::<()>().await;
        })
        .unwrap();
    let down = node.monitor(victim.pid());
    for n in 0..3 {
        victim.send(n).unwrap();
    }
    assert_eq!(within("the victim's end", down).await, Exit::Killed);
    let event = events.try_recv().expect("emitted before the DOWN");
    assert_eq!(event.name, "beamish.process.mailbox_killed");
    assert_eq!(
        event.meta("pid"),
        Some(
            beamish_telemetry::ProcessId::from(victim.pid())
                .to_string()
                .as_str()
        )
    );
    assert_eq!(event.meta("limit"), Some("2"));
    assert_eq!(event.measurement("length"), Some(3.0));
}
