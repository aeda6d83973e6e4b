//! R-TASK-2: each `async_stream` element has a timeout (5 s by default). With
//! `on_timeout: :exit` (the default) the stream yields `Err(Timeout)` and ends, killing the
//! running elements (the Rust rendering of "the caller exits"); with `:kill_task` the late
//! element is killed, yields `Err(Timeout)` in its place, and the stream carries on.

use futures::StreamExt;
use std::time::Duration;

use beamish_process::{Exit, Node, OnTimeout, TaskError, async_stream, current_pid};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Runs `sleeps` (in ms) through a stream, reporting each element's pid as it starts.
fn sleeper(
    node: &Node,
    sleeps: Vec<u64>,
) -> (
    impl futures::Stream<Item = Result<u64, TaskError>>,
    mpsc::UnboundedReceiver<(u64, beamish_process::Pid)>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let stream = async_stream(node, sleeps, move |ms| {
        let tx = tx.clone();
        async move {
            let _ = tx.send((ms, current_pid().expect("runs in a process")));
            tokio::time::sleep(Duration::from_millis(ms)).await;
            ms
        }
    })
    .max_concurrency(3);
    (stream, rx)
}

/// R-TASK-2: the default (`OnTimeout::Exit`, 5 s): the first late element makes the stream
/// yield `Err(Timeout)` and end; the element still running is killed.
#[tokio::test(start_paused = true)]
async fn r_task_2_default_timeout_ends_the_stream_and_kills_the_rest() {
    let node = Node::start_default().unwrap();
    let (stream, mut pids) = sleeper(&node, vec![10, 6_000, 7_000, 20]);
    let mut stream = Box::pin(stream);
    let start = Instant::now();
    assert_eq!(stream.next().await, Some(Ok(10)));
    // All three first elements have started; watch the 7 s one.
    let mut slow = None;
    for _ in 0..3 {
        let (ms, pid) = pids.recv().await.unwrap();
        if ms == 7_000 {
            slow = Some(node.monitor(pid));
        }
    }
    assert_eq!(stream.next().await, Some(Err(TaskError::Timeout)));
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(5),
        "the default timeout"
    );
    assert_eq!(
        stream.next().await,
        None,
        "the stream ends after the timeout"
    );
    assert_eq!(slow.unwrap().await, Exit::Killed);
}

/// R-TASK-2: `OnTimeout::KillTask`: the late element is killed and yields `Err(Timeout)` in
/// its place; the others carry on, in order.
#[tokio::test(start_paused = true)]
async fn r_task_2_kill_task_yields_timeout_and_carries_on() {
    let node = Node::start_default().unwrap();
    let (tx, mut pids) = mpsc::unbounded_channel();
    let mut stream = async_stream(&node, vec![10u64, 3_000, 20, 30], move |ms| {
        let tx = tx.clone();
        async move {
            let _ = tx.send((ms, current_pid().unwrap()));
            tokio::time::sleep(Duration::from_millis(ms)).await;
            ms
        }
    })
    .max_concurrency(4)
    .timeout(Duration::from_secs(1))
    .on_timeout(OnTimeout::KillTask);
    let start = Instant::now();
    let mut results = vec![stream.next().await.unwrap()];
    // All four have started; watch the slow one.
    let mut slow = None;
    for _ in 0..4 {
        let (ms, pid) = pids.recv().await.unwrap();
        if ms == 3_000 {
            slow = Some(node.monitor(pid));
        }
    }
    results.extend(stream.collect::<Vec<_>>().await);
    assert_eq!(
        results,
        [Ok(10), Err(TaskError::Timeout), Ok(20), Ok(30)],
        "the late element's place holds the timeout"
    );
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(1),
        "the custom timeout"
    );
    assert_eq!(slow.unwrap().await, Exit::Killed);
}
