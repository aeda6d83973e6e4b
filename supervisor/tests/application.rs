//! Application: a tree run until a shutdown request, then stopped in reverse order within its
//! limits (R-SUP-SHUT), with a status that tells whether the stop was clean.

mod common;

use std::time::Duration;

use beamish_process::{Ctx, Exit, SpawnOpts};
use beamish_supervisor::{
    AppExit, Application, ChildSpec, Shutdown, Started, Strategy, Supervisor,
};
use common::{Ev, Log, crash, node, worker};
use tokio::sync::oneshot;

/// A shutdown request stops the tree in reverse start order: a clean stop.
#[tokio::test(start_paused = true)]
async fn a_shutdown_request_stops_the_tree_cleanly_in_reverse_order() {
    let node = node();
    let mut log = Log::new();
    let tree = Supervisor::new(Strategy::OneForOne)
        .child(worker("a", &log))
        .child(worker("b", &log));
    let (signal, received) = oneshot::channel::<()>();
    let app = {
        let node = node.clone();
        tokio::spawn(async move {
            Application::new(tree)
                .run(&node, async {
                    let _ = received.await;
                })
                .await
        })
    };
    log.take(2).await;
    signal.send(()).unwrap();
    assert_eq!(log.take(2).await, [Ev::Stop("b"), Ev::Stop("a")]);
    let outcome = app.await.unwrap();
    assert_eq!(outcome, AppExit::Stopped);
    assert_eq!(outcome.exit_code(), std::process::ExitCode::SUCCESS);
    assert_eq!(node.process_count(), 0);
}

/// A tree that dies by itself ends the application with its reason: not clean.
#[tokio::test(start_paused = true)]
async fn a_tree_that_fails_is_not_a_clean_exit() {
    let node = node();
    let mut log = Log::new();
    let tree = Supervisor::new(Strategy::OneForOne)
        .intensity(0, Duration::from_secs(5))
        .child(worker("a", &log));
    let app = {
        let node = node.clone();
        tokio::spawn(async move {
            Application::new(tree)
                .run(&node, std::future::pending())
                .await
        })
    };
    let a = log.started("a").await;
    crash(&node, a, Exit::error("boom"));
    let outcome = app.await.unwrap();
    assert_eq!(outcome, AppExit::Failed(Exit::Shutdown));
    assert!(!outcome.is_clean());
}

/// A child that will not stop keeps the tree past the overall limit: the tree is killed at
/// the limit and the exit is not clean.
#[tokio::test(start_paused = true)]
async fn a_tree_past_its_overall_limit_is_killed() {
    let node = node();
    let stuck = ChildSpec::new("stuck", |linker| {
        Box::pin(async move {
            let opts = SpawnOpts {
                trap_exit: true,
                ..SpawnOpts::default()
            };
            // Traps exits and never reads them: the shutdown signal waits in its mailbox.
            let addr = linker
                .build()
                .opts(opts)
                .spawn(|_ctx: Ctx<()>| std::future::pending::<()>())?;
            Ok(Started::Running(addr.pid()))
        })
    })
    .shutdown(Shutdown::Infinity);
    let tree = Supervisor::new(Strategy::OneForOne).child(stuck);
    let outcome = Application::new(tree)
        .shutdown_limit(Duration::from_secs(30))
        .run(&node, async {})
        .await;
    assert_eq!(outcome, AppExit::KilledAtLimit);
    assert_eq!(outcome.exit_code(), std::process::ExitCode::FAILURE);
}

/// Issue 13 §2: `Application::start` hands back the running tree's top supervisor, and the
/// running application is then run until a shutdown request like `run`.
#[tokio::test(start_paused = true)]
async fn start_gives_the_top_supervisor_then_runs_until_shutdown() {
    let node = node();
    let mut log = Log::new();
    let tree = Supervisor::new(Strategy::OneForOne).child(worker("a", &log));
    let app = Application::new(tree).start(&node).await.unwrap();
    log.take(1).await;
    let sup = app.supervisor().clone();
    assert_eq!(sup.pid(), app.pid());
    assert_eq!(sup.count_children().await.unwrap().active, 1);
    let (signal, received) = oneshot::channel::<()>();
    let run = tokio::spawn(app.run_until(async {
        let _ = received.await;
    }));
    signal.send(()).unwrap();
    assert_eq!(log.take(1).await, [Ev::Stop("a")]);
    assert_eq!(run.await.unwrap(), AppExit::Stopped);
    assert!(!sup.is_alive());
}
