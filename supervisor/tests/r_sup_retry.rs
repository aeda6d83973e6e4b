//! R-SUP-RETRY: a restart whose start fails is retried, and every retry counts toward the
//! intensity: a child that can never start again ends with the supervisor shutting down; one
//! that starts again after a few failures is running.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use beamish_process::{Ctx, Exit, Message};
use beamish_supervisor::{ChildSpec, Started, Strategy, Supervisor};
use common::{Reports, exit_of, node};

/// A child that starts the first `ok` times, then fails `fail` times, then starts again.
fn flaky(starts: Arc<AtomicU32>, ok: u32, fail: u32) -> ChildSpec {
    ChildSpec::new("flaky", move |linker| {
        let n = starts.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            if n >= ok && n < ok + fail {
                return Err(Exit::error("cannot start"));
            }
            let addr = linker.spawn_link(|mut ctx: Ctx<Exit>| async move {
                match ctx.recv().await {
                    Message::Msg(r) => r,
                    _ => Exit::Normal,
                }
            })?;
            Ok(Started::Running(addr.pid()))
        })
    })
}

/// R-SUP-RETRY: the crash's restart fails, and so does every retry: with intensity 3 that is
/// one restart and two retries allowed, and the third retry stops the supervisor.
#[tokio::test(start_paused = true)]
async fn r_sup_retry_every_failed_restart_counts() {
    let node = node();
    let (reports, _g) = Reports::install();
    let starts = Arc::new(AtomicU32::new(0));
    let sup = Supervisor::new(Strategy::OneForOne)
        .child(flaky(starts.clone(), 1, u32::MAX))
        .start(&node)
        .await
        .unwrap();
    let pid = sup.which_children().await.unwrap()[0].status.pid().unwrap();
    node.send(pid, Exit::error("boom")).unwrap();
    assert_eq!(exit_of(&node, sup.pid()).await, Exit::Shutdown);
    // The first start, then 3 restart attempts allowed (all failing); the 4th is refused.
    assert_eq!(starts.load(Ordering::SeqCst), 4);
    let kinds: Vec<_> = reports.take().into_iter().map(|r| r.report).collect();
    assert_eq!(
        kinds,
        [
            "child_terminated",
            "start_error",
            "start_error",
            "start_error",
            "reached_max_restart_intensity"
        ]
    );
}

/// R-SUP-RETRY: a child that fails to restart twice and then starts is running again, and
/// the supervisor answered calls meanwhile.
#[tokio::test(start_paused = true)]
async fn r_sup_retry_a_retry_that_succeeds_brings_the_child_back() {
    let node = node();
    let starts = Arc::new(AtomicU32::new(0));
    let sup = Supervisor::new(Strategy::OneForOne)
        .intensity(5, Duration::from_secs(5))
        .child(flaky(starts.clone(), 1, 2))
        .start(&node)
        .await
        .unwrap();
    let pid = sup.which_children().await.unwrap()[0].status.pid().unwrap();
    node.send(pid, Exit::error("boom")).unwrap();
    exit_of(&node, pid).await;
    let child = loop {
        let c = sup.which_children().await.unwrap().remove(0);
        if c.status.pid().is_some() {
            break c;
        }
    };
    assert_eq!(starts.load(Ordering::SeqCst), 4);
    assert_eq!(child.restarts, 1);
    assert!(sup.is_alive());
}
