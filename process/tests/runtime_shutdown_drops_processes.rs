//! When the tokio runtime a node's workers run in shuts down, the processes still waiting are
//! dropped with their state, as tokio drops its own tasks: destructors run (buffers get
//! flushed, files closed, guards released) instead of leaking until the OS process ends.

use std::sync::mpsc;
use std::time::Duration;

use beamish_process::{Ctx, Executor, Message, Node, NodeConfig};

/// Tells a channel when it is dropped.
struct Guard(mpsc::Sender<&'static str>);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.send("dropped");
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Processes blocked in `recv` (held only by their mailbox's waker) and one waiting on a
/// timer are all dropped when the runtime goes.
#[test]
fn waiting_processes_are_dropped_with_the_runtime() {
    let (tx, rx) = mpsc::channel();
    let rt = runtime();
    rt.block_on(async {
        let node = Node::new(NodeConfig {
            executor: Executor::Workers(2),
            ..NodeConfig::default()
        })
        .unwrap();
        let (started_tx, mut started_rx) = tokio::sync::mpsc::unbounded_channel();
        for _ in 0..3 {
            let (guard, started) = (Guard(tx.clone()), started_tx.clone());
            node.spawn(move |mut ctx: Ctx<()>| async move {
                let _guard = guard;
                let _ = started.send(());
                while let Message::Msg(()) = ctx.recv().await {}
            })
            .unwrap();
        }
        let (guard, started) = (Guard(tx.clone()), started_tx.clone());
        node.spawn(move |_: Ctx<()>| async move {
            let _guard = guard;
            let _ = started.send(());
            // Not a wait of the test: the state under test is a process parked on a timer
            // that will not fire before the runtime goes.
            tokio::time::sleep(Duration::from_secs(3_600)).await;
        })
        .unwrap();
        for _ in 0..4 {
            started_rx.recv().await.unwrap();
        }
    });
    drop(tx);
    drop(rt);
    for n in 0..4 {
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(10)),
            Ok("dropped"),
            "guard {n} of 4 was not dropped with the runtime"
        );
    }
}

/// Panics when dropped, after saying so.
struct PanicsOnDrop(mpsc::Sender<&'static str>);

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        let _ = self.0.send("dropped");
        panic!("a destructor panics at shutdown");
    }
}

/// A destructor that panics while the runtime drops a waiting process ends only that
/// destructor: the runtime's drop returns, and every other process's state is dropped too
/// (nothing panics across a process boundary, whatever thread drops it). On beamish's
/// workers and on tokio's.
#[test]
fn a_panicking_destructor_at_shutdown_stays_inside_its_process() {
    panicking_destructors_at_shutdown(Executor::Workers(2));
    panicking_destructors_at_shutdown(Executor::Tokio);
}

fn panicking_destructors_at_shutdown(executor: Executor) {
    let (tx, rx) = mpsc::channel();
    let rt = runtime();
    rt.block_on(async {
        let node = Node::new(NodeConfig {
            executor,
            ..NodeConfig::default()
        })
        .unwrap();
        let (started_tx, mut started_rx) = tokio::sync::mpsc::unbounded_channel();
        for n in 0..4 {
            let (tx, started) = (tx.clone(), started_tx.clone());
            node.spawn(move |mut ctx: Ctx<()>| async move {
                let (_guard, _bomb) = (Guard(tx.clone()), PanicsOnDrop(tx));
                let _ = started.send(());
                if n % 2 == 0 {
                    while let Message::Msg(()) = ctx.recv().await {}
                } else {
                    // The state under test: a process parked on a timer that will not fire.
                    tokio::time::sleep(Duration::from_secs(3_600)).await;
                }
            })
            .unwrap();
        }
        for _ in 0..4 {
            started_rx.recv().await.unwrap();
        }
    });
    drop(tx);
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(rt)));
    assert!(
        dropped.is_ok(),
        "{executor:?}: a process's destructor panicked out of the runtime's drop"
    );
    for n in 0..8 {
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(10)),
            Ok("dropped"),
            "{executor:?}: destructor {n} of 8 did not run"
        );
    }
}
