//! R-SUP-SHUT: brutal_kill is immediate; a child that ignores `shutdown` is killed at its
//! timeout; `Infinity` waits; children stop one at a time in reverse order, so a static
//! supervisor's stop takes the sum of the waits; the supervisor watches children through
//! monitors, so a child that unlinks cannot hang it.

mod common;

use std::time::Duration;

use beamish_process::{Ctx, Exit, Message, SpawnOpts};
use beamish_supervisor::{ChildSpec, Shutdown, Started, Strategy, Supervisor};
use common::{Reports, node};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// A child that traps exits and, on its supervisor's shutdown signal, takes `linger` before
/// it ends (forever if `None`). It reports its pid at start; with `unlink`, it unlinks from
/// its supervisor first.
fn stubborn(
    id: &'static str,
    linger: Option<Duration>,
    unlink: bool,
    pids: mpsc::UnboundedSender<beamish_process::Pid>,
) -> ChildSpec {
    ChildSpec::new(id, move |linker| {
        let pids = pids.clone();
        Box::pin(async move {
            let opts = SpawnOpts {
                trap_exit: true,
                ..SpawnOpts::default()
            };
            let addr = linker
                .build()
                .opts(opts)
                .spawn(move |mut ctx: Ctx<()>| async move {
                    if unlink {
                        ctx.unlink(ctx.parent().unwrap());
                    }
                    loop {
                        if let Message::Exit(_) = ctx.recv().await {
                            match linger {
                                Some(d) => {
                                    tokio::time::sleep(d).await;
                                    return Exit::Shutdown;
                                }
                                None => {
                                    // Ignores the signal and waits for ever.
                                    std::future::pending::<()>().await;
                                }
                            }
                        }
                    }
                })?;
            let _ = pids.send(addr.pid());
            Ok(Started::Running(addr.pid()))
        })
    })
}

/// R-SUP-SHUT: brutal_kill kills at once, even a child that would linger.
#[tokio::test(start_paused = true)]
async fn r_sup_shut_brutal_kill_is_immediate() {
    let node = node();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let sup = Supervisor::new(Strategy::OneForOne)
        .child(stubborn("c", None, false, tx).shutdown(Shutdown::BrutalKill))
        .start(&node)
        .await
        .unwrap();
    let pid = rx.recv().await.unwrap();
    let down = node.monitor(pid);
    let t0 = Instant::now();
    sup.terminate_child("c").await.unwrap();
    assert_eq!(t0.elapsed(), Duration::ZERO);
    assert_eq!(down.await, Exit::Killed);
}

/// R-SUP-SHUT: a child that ignores `shutdown` is killed when its timeout runs out, and that
/// is reported as a shutdown error (R-SUP-REPORT).
#[tokio::test(start_paused = true)]
async fn r_sup_shut_a_child_that_ignores_shutdown_is_killed_at_its_timeout() {
    let node = node();
    let (reports, _g) = Reports::install();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let sup = Supervisor::new(Strategy::OneForOne)
        .child(
            stubborn("c", None, false, tx).shutdown(Shutdown::Timeout(Duration::from_millis(700))),
        )
        .start(&node)
        .await
        .unwrap();
    let pid = rx.recv().await.unwrap();
    let down = node.monitor(pid);
    let t0 = Instant::now();
    sup.terminate_child("c").await.unwrap();
    assert_eq!(t0.elapsed(), Duration::from_millis(700));
    assert_eq!(down.await, Exit::Killed);
    let r = reports.take();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].report, "shutdown_error");
    assert_eq!(r[0].reason.as_deref(), Some("killed"));
}

/// R-SUP-SHUT: `Infinity` waits as long as the child takes (an hour here, on the paused
/// clock), without killing it.
#[tokio::test(start_paused = true)]
async fn r_sup_shut_infinity_waits() {
    let node = node();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let sup = Supervisor::new(Strategy::OneForOne)
        .child(
            stubborn("c", Some(Duration::from_secs(3600)), false, tx).shutdown(Shutdown::Infinity),
        )
        .start(&node)
        .await
        .unwrap();
    let pid = rx.recv().await.unwrap();
    let down = node.monitor(pid);
    let t0 = Instant::now();
    sup.terminate_child("c").await.unwrap();
    assert_eq!(t0.elapsed(), Duration::from_secs(3600));
    assert_eq!(down.await, Exit::Shutdown);
}

/// R-SUP-SHUT: the supervisor's own stop takes its children down one at a time in reverse
/// order, so it lasts the sum of their waits.
#[tokio::test(start_paused = true)]
async fn r_sup_shut_a_static_stop_takes_the_sum_of_the_waits() {
    let node = node();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let sup = Supervisor::new(Strategy::OneForOne)
        .child(stubborn(
            "a",
            Some(Duration::from_millis(100)),
            false,
            tx.clone(),
        ))
        .child(stubborn(
            "b",
            Some(Duration::from_millis(200)),
            false,
            tx.clone(),
        ))
        .child(
            stubborn("c", None, false, tx).shutdown(Shutdown::Timeout(Duration::from_millis(300))),
        )
        .start(&node)
        .await
        .unwrap();
    for _ in 0..3 {
        rx.recv().await.unwrap();
    }
    let t0 = Instant::now();
    sup.stop(Exit::Shutdown).await.unwrap();
    assert_eq!(t0.elapsed(), Duration::from_millis(600));
}

/// R-SUP-SHUT: a child that unlinked from its supervisor is still stopped (the supervisor
/// watches it with a monitor), and the stop does not hang.
#[tokio::test(start_paused = true)]
async fn r_sup_shut_a_child_that_unlinks_cannot_hang_the_supervisor() {
    let node = node();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let sup = Supervisor::new(Strategy::OneForOne)
        .child(stubborn("c", Some(Duration::from_millis(10)), true, tx))
        .start(&node)
        .await
        .unwrap();
    let pid = rx.recv().await.unwrap();
    // Wait until the child has removed the link (it does so first thing).
    while node.process_info(pid).unwrap().links.contains(&sup.pid()) {
        tokio::task::yield_now().await;
    }
    let down = node.monitor(pid);
    common::within("the stop", sup.stop(Exit::Shutdown))
        .await
        .unwrap();
    assert_eq!(down.await, Exit::Shutdown);
}

/// R-SUP-SHUT: an exit signal from the parent stops the supervisor, children first in reverse
/// order; for a supervisor started from outside any process the parent is the node
/// (`Node::exit`).
#[tokio::test(start_paused = true)]
async fn r_sup_shut_an_exit_signal_from_the_parent_stops_the_tree() {
    let node = node();
    let mut log = common::Log::new();
    let sup = Supervisor::new(Strategy::OneForOne)
        .child(common::worker("a", &log))
        .child(common::worker("b", &log))
        .start(&node)
        .await
        .unwrap();
    log.take(2).await;
    let down = node.monitor(sup.pid());
    node.exit(sup.pid(), Exit::Shutdown);
    assert_eq!(
        log.take(2).await,
        [common::Ev::Stop("b"), common::Ev::Stop("a")]
    );
    assert_eq!(down.await, Exit::Shutdown);
}
