//! `Application::run_until_signal` stops the tree gracefully on a real SIGTERM sent to this
//! OS process by `kill`, and reports a clean exit (needs the `signals` feature).
#![cfg(all(feature = "signals", unix))]

use beamish_process::{Ctx, Node};
use beamish_supervisor::{AppExit, Application, ChildSpec, Strategy, Supervisor};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_tree_gracefully_with_a_clean_exit() {
    let node = Node::start_default().unwrap();
    let (up_tx, up_rx) = std::sync::mpsc::channel::<()>();
    let up_tx = std::sync::Mutex::new(up_tx);
    let tree = Supervisor::new(Strategy::OneForOne).child(ChildSpec::process(
        "worker",
        move |mut ctx: Ctx<()>| {
            let _ = up_tx.lock().unwrap().send(());
            async move {
                ctx.recv().await;
            }
        },
    ));
    let app = tokio::spawn({
        let node = node.clone();
        async move { Application::new(tree).run_until_signal(&node).await }
    });
    // The handlers are installed before the tree starts; once the worker is up, signal.
    tokio::task::spawn_blocking(move || up_rx.recv().unwrap())
        .await
        .unwrap();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .expect("the kill command");
    assert!(status.success());
    let outcome = app.await.unwrap();
    assert_eq!(outcome, AppExit::Stopped);
    assert!(outcome.is_clean());
    assert_eq!(node.process_count(), 0);
}
