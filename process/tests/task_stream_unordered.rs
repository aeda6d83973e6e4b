//! R-TASK-1: with `ordered(false)`, `async_stream` emits results in completion order.

use std::time::Duration;

use beamish_process::{Node, async_stream};

/// R-TASK-1: the element that finishes first comes out first.
#[tokio::test(start_paused = true)]
async fn r_task_1_unordered_emits_in_completion_order() {
    let node = Node::start_default().unwrap();
    let results: Vec<_> = async_stream(&node, 0..6u64, |i| async move {
        tokio::time::sleep(Duration::from_millis((6 - i) * 10)).await;
        i
    })
    .max_concurrency(6)
    .ordered(false)
    .collect()
    .await;
    assert_eq!(results, (0..6).rev().map(Ok).collect::<Vec<_>>());
}
