//! R-TASK-1: `async_stream` emits results in input order by default (`ordered: true`),
//! buffering those that finish early.

use std::time::Duration;

use beamish_process::{Node, async_stream};

/// R-TASK-1: later elements finish first, yet the results come in input order.
#[tokio::test(start_paused = true)]
async fn r_task_1_ordered_by_default() {
    let node = Node::start_default().unwrap();
    let results: Vec<_> = async_stream(&node, 0..6u64, |i| async move {
        // Element i takes (6 - i) * 10 ms: the last one finishes first.
        tokio::time::sleep(Duration::from_millis((6 - i) * 10)).await;
        i
    })
    .max_concurrency(6)
    .collect()
    .await;
    assert_eq!(results, (0..6).map(Ok).collect::<Vec<_>>());
}

/// R-TASK-1: a slow first element does not hold up the others: they run (and are buffered)
/// meanwhile, so the whole stream takes as long as the slowest element.
#[tokio::test(start_paused = true)]
async fn r_task_1_ordered_buffers_without_blocking_the_others() {
    let node = Node::start_default().unwrap();
    let start = tokio::time::Instant::now();
    let results: Vec<_> = async_stream(&node, [100u64, 10, 10, 10, 10], |ms| async move {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        ms
    })
    .max_concurrency(2)
    .collect()
    .await;
    assert_eq!(results, [100, 10, 10, 10, 10].map(Ok));
    // Element 0 holds one slot for 100 ms; the four others pass through the other slot in
    // 4 x 10 ms = 40 ms meanwhile (virtual time).
    assert_eq!(start.elapsed(), Duration::from_millis(100));
}
