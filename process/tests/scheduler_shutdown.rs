//! The scheduler's worker threads end with their node: when the node is dropped (no handle
//! and no process left), and when the tokio runtime it was started in shuts down.
//!
//! One test in its own binary, because it counts this OS process's worker threads.

use std::time::{Duration, Instant};

use beamish_process::{Ctx, Executor, Node, NodeConfig};

/// Threads of this OS process whose name starts with `beamish-worker`.
fn worker_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("Linux /proc")
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("beamish-worker"))
        .count()
}

/// Waits (yielding the thread, never sleeping) until `n` worker threads are left.
fn until_workers(n: usize, what: &str) {
    let t0 = Instant::now();
    while worker_threads() != n {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "{what}: {} workers left",
            worker_threads()
        );
        std::thread::yield_now();
    }
}

#[test]
fn workers_end_with_their_node_and_with_the_runtime() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    // A node whose last process has ended and whose handles are dropped.
    rt.block_on(async {
        let node = Node::new(NodeConfig {
            executor: Executor::Workers(3),
            ..NodeConfig::default()
        })
        .unwrap();
        until_workers(3, "at the start");
        let p = node.spawn(|_: Ctx<()>| async {}).unwrap();
        let down = node.monitor(p.pid());
        down.await;
        drop(p);
        drop(node);
    });
    until_workers(0, "after the node was dropped");

    // A node that still has a live process when its runtime shuts down.
    rt.block_on(async {
        let node = Node::new(NodeConfig {
            executor: Executor::Workers(2),
            ..NodeConfig::default()
        })
        .unwrap();
        node.spawn(|mut ctx: Ctx<()>| async move {
            ctx.recv().await;
        })
        .unwrap();
        until_workers(2, "at the second start");
    });
    drop(rt);
    until_workers(0, "after the runtime shut down");
}
