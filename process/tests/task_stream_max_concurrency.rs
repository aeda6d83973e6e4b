//! R-TASK-1: at most `max_concurrency` elements of an `async_stream` run at once; the
//! default is the number of scheduler (tokio worker) threads.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use beamish_process::{Node, async_stream};

/// Counts the elements running at once and remembers the highest count.
#[derive(Default)]
struct Gauge {
    now: AtomicUsize,
    max: AtomicUsize,
}

impl Gauge {
    fn enter(&self) {
        let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(n, Ordering::SeqCst);
    }
    fn leave(&self) {
        self.now.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn run(node: &Node, items: usize, limit: Option<usize>) -> usize {
    let gauge = Arc::new(Gauge::default());
    let g = gauge.clone();
    let stream = async_stream(node, 0..items, move |i| {
        let g = g.clone();
        async move {
            g.enter();
            // Simulated work (virtual time).
            tokio::time::sleep(Duration::from_millis(10 + (i as u64 % 3))).await;
            g.leave();
            i
        }
    });
    let stream = match limit {
        Some(n) => stream.max_concurrency(n),
        None => stream,
    };
    let results: Vec<_> = stream.collect().await;
    assert_eq!(results, (0..items).map(Ok).collect::<Vec<_>>());
    gauge.max.load(Ordering::SeqCst)
}

/// R-TASK-1: with `max_concurrency(3)`, never more than three run, and three do.
#[tokio::test(start_paused = true)]
async fn r_task_1_max_concurrency_bounds_running_elements() {
    let node = Node::start_default().unwrap();
    assert_eq!(run(&node, 20, Some(3)).await, 3);
    assert_eq!(run(&node, 20, Some(1)).await, 1);
}

/// R-TASK-1: the default is the runtime's worker count: one on a current-thread runtime.
#[tokio::test(start_paused = true)]
async fn r_task_1_default_max_concurrency_is_the_worker_count_current_thread() {
    let node = Node::start_default().unwrap();
    assert_eq!(run(&node, 8, None).await, 1);
}

/// R-TASK-1: on a runtime with two workers the default lets two elements run together:
/// each element waits at a two-party barrier, which only a pair running at once can pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_task_1_default_max_concurrency_is_the_worker_count_multi_thread() {
    let node = Node::start_default().unwrap();
    let gauge = Arc::new(Gauge::default());
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let g = gauge.clone();
    let stream = async_stream(&node, 0..6, move |i| {
        let (g, barrier) = (g.clone(), barrier.clone());
        async move {
            g.enter();
            barrier.wait().await;
            g.leave();
            i
        }
    })
    .ordered(false)
    // The barrier proves the pairs; the timeout only guards against a hang.
    .timeout(Duration::from_secs(60));
    let results: Vec<_> = stream.collect().await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(gauge.max.load(Ordering::SeqCst), 2);
}
