//! Fairness: a process with a long queue yields to the scheduler after a budget of messages,
//! so a neighbour on the same worker thread runs long before the queue is drained.

use beamish_process::{Ctx, Message, Node};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::oneshot;

const QUEUED: usize = 100_000;

#[tokio::test(flavor = "current_thread")]
async fn a_hot_process_yields_so_its_neighbour_runs_before_the_queue_drains() {
    let node = Node::start_default().unwrap();
    let handled = Arc::new(AtomicUsize::new(0));

    let h = handled.clone();
    let hot = node
        .spawn(move |mut ctx: Ctx<u32>| async move {
            for _ in 0..QUEUED {
                if let Message::Msg(_) = ctx.recv().await {
                    h.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
        .unwrap();
    // Everything is queued before the hot process first runs (one thread, and we do not yield).
    for i in 0..QUEUED {
        hot.send(i as u32).unwrap();
    }

    let (seen_tx, seen_rx) = oneshot::channel();
    let h = handled.clone();
    let neighbour = node
        .spawn(move |mut ctx: Ctx<()>| async move {
            ctx.recv().await;
            let _ = seen_tx.send(h.load(Ordering::Relaxed));
        })
        .unwrap();
    neighbour.send(()).unwrap();

    let seen = seen_rx.await.unwrap();
    assert!(
        seen < QUEUED / 10,
        "the neighbour ran only after {seen} of {QUEUED} messages: no fairness"
    );
    // And the hot process still gets through its whole queue.
    let down = node.monitor(hot.pid());
    assert_eq!(down.await, beamish_process::Exit::Normal);
    assert_eq!(handled.load(Ordering::Relaxed), QUEUED);
}
