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
