//! A process that computes without an `.await` holds its worker thread, but not the node:
//! the scheduler's monitor hands a stuck worker's role to a relief worker, so a process that
//! only waits keeps its rhythm while every worker is stuck in a long poll (the BEAM preempts
//! such a process after its reductions; Rust cannot preempt a poll). Each test measures the
//! worst gap of a process that ticks every millisecond while hogs compute, on a real clock
//! and a loaded machine: the bounds are generous (a tenth of the hog's poll or more), and the
//! last test shows that without relief the same measure fails.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use beamish_process::{Ctx, Executor, Exit, Node, NodeConfig, Pid};
use beamish_telemetry::events::process::LONG_POLL;
use tokio::sync::mpsc;

const WORKERS: usize = 2;

/// How long each hog computes in one poll.
const HOG_POLL: Duration = Duration::from_millis(400);

fn node(max_relief_workers: usize) -> Node {
    Node::new(NodeConfig {
        executor: Executor::Workers(WORKERS),
        max_relief_workers,
        ..NodeConfig::default()
    })
    .expect("inside a tokio runtime")
}

/// Computes for `span` without yielding.
fn compute_for(span: Duration) {
    let start = Instant::now();
    let mut x = 0u64;
    while start.elapsed() < span {
        for i in 0..1_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
    }
}

/// Ticks every millisecond until `stop`; says when it first ticked, and sends the longest
/// gap it saw while `measure` was set.
fn spawn_ticker(
    node: &Node,
    measure: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
) -> (
    tokio::sync::oneshot::Receiver<()>,
    mpsc::UnboundedReceiver<Duration>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let (ticking_tx, ticking) = tokio::sync::oneshot::channel();
    node.spawn(move |_: Ctx<()>| async move {
        let mut ticking_tx = Some(ticking_tx);
        let mut worst = Duration::ZERO;
        let mut last = Instant::now();
        while !stop.load(Ordering::Acquire) {
            tokio::time::sleep(Duration::from_millis(1)).await;
            if let Some(ticking) = ticking_tx.take() {
                let _ = ticking.send(());
            }
            let now = Instant::now();
            if measure.load(Ordering::Acquire) {
                worst = worst.max(now - last);
            }
            last = now;
        }
        let _ = tx.send(worst);
    })
    .unwrap();
    (ticking, rx)
}

/// Runs `hogs` processes that each compute for [`HOG_POLL`] in one poll (all of them at once:
/// each waits until every hog has started) beside a ticking process; the ticker's worst gap
/// while they computed.
async fn worst_gap_beside(node: &Node, hogs: usize) -> Duration {
    let measure = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let (ticking, mut worst) = spawn_ticker(node, measure.clone(), stop.clone());
    // The ticker is ticking before the hogs start.
    ticking.await.expect("the ticker ticks");
    let started = Arc::new(AtomicUsize::new(0));
    let mut downs = Vec::new();
    measure.store(true, Ordering::Release);
    for _ in 0..hogs {
        let started = started.clone();
        let hog = node
            .spawn(move |_: Ctx<()>| async move {
                started.fetch_add(1, Ordering::AcqRel);
                // Every hog holds its thread at once (bounded, should one never start):
                // two hogs run one after the other on one worker would leave the other
                // worker to the ticker, and the control below would prove nothing.
                let t0 = std::time::Instant::now();
                while started.load(Ordering::Acquire) < hogs && t0.elapsed() < HOG_POLL * 10 {
                    std::hint::spin_loop();
                }
                compute_for(HOG_POLL);
            })
            .unwrap();
        downs.push(node.monitor(hog.pid()));
    }
    for down in downs {
        assert_eq!(down.await, Exit::Normal);
    }
    measure.store(false, Ordering::Release);
    stop.store(true, Ordering::Release);
    assert_eq!(started.load(Ordering::Acquire), hogs);
    worst.recv().await.expect("the ticker reports")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_keeps_ticking_while_every_worker_computes() {
    let node = node(64);
    let worst = worst_gap_beside(&node, WORKERS).await;
    assert!(
        worst < HOG_POLL / 4,
        "the ticker waited {worst:?} while {WORKERS} hogs held the {WORKERS} workers for {HOG_POLL:?}"
    );
    assert!(node.relief_workers() >= 1, "no relief worker was started");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_keeps_ticking_beside_twice_as_many_hogs_as_workers() {
    let node = node(64);
    let worst = worst_gap_beside(&node, 2 * WORKERS).await;
    assert!(
        worst < HOG_POLL / 4,
        "the ticker waited {worst:?} beside {} hogs on {WORKERS} workers",
        2 * WORKERS
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relief_workers_are_reused_and_capped() {
    let node = node(3);
    for _ in 0..3 {
        let _ = worst_gap_beside(&node, 2 * WORKERS).await;
    }
    let relief = node.relief_workers();
    assert!(
        (1..=3).contains(&relief),
        "{relief} relief workers for a cap of 3"
    );
}

/// The control: with relief turned off, two hogs on two workers hold the ticker for their
/// whole poll. (If this passed with a short gap, the tests above would prove nothing.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_relief_the_hogs_hold_the_ticker_for_their_whole_poll() {
    let node = node(0);
    let worst = worst_gap_beside(&node, WORKERS).await;
    assert!(
        worst >= HOG_POLL / 2,
        "the ticker waited only {worst:?} with both workers held for {HOG_POLL:?}"
    );
    assert_eq!(node.relief_workers(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_poll_is_reported_with_its_process_and_duration() {
    let node = node(64);
    let seen: Arc<Mutex<Vec<(Pid, Duration)>>> = Arc::default();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let record = seen.clone();
    node.telemetry()
        .attach("long-poll-test", &[LONG_POLL], move |event| {
            let pid = event.meta("pid").and_then(|v| v.as_pid());
            let ran = event.measurement("duration").map(|n| n.as_f64());
            if let (Some(pid), Some(ns)) = (pid, ran) {
                let ran = Duration::from_nanos(ns as u64);
                record.lock().unwrap().push((Pid::from(pid), ran));
                let _ = tx.send(());
            }
        })
        .unwrap();
    let short = node
        .spawn(|_: Ctx<()>| async { compute_for(Duration::from_micros(100)) })
        .unwrap();
    let hog = node
        .spawn(|_: Ctx<()>| async { compute_for(Duration::from_millis(50)) })
        .unwrap();
    rx.recv().await.expect("a long poll is reported");
    let seen = seen.lock().unwrap().clone();
    assert!(
        seen.iter()
            .any(|(pid, ran)| *pid == hog.pid() && *ran >= Duration::from_millis(20)),
        "no report of the 50 ms poll of {}: {seen:?}",
        hog.pid()
    );
    assert!(seen.iter().all(|(pid, _)| *pid != short.pid()));
}

/// On one worker with relief turned off, a long loop that counts its reductions yields now
/// and then, so a neighbour woken meanwhile runs long before the loop ends; the same loop
/// without the yield point holds the worker to its end (the control).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loop_that_consumes_reductions_lets_its_neighbours_run() {
    const ROUNDS: u64 = 200_000;
    for yielding in [true, false] {
        let node = Node::new(NodeConfig {
            executor: Executor::Workers(1),
            max_relief_workers: 0,
            ..NodeConfig::default()
        })
        .unwrap();
        let progress = Arc::new(AtomicUsize::new(0));
        let (tx, mut rx) = mpsc::unbounded_channel();
        let p = progress.clone();
        let hog = node
            .spawn(move |ctx: Ctx<()>| async move {
                // The neighbour is ready to run from the first round: it waits for this
                // worker.
                let watched = p.clone();
                ctx.node()
                    .spawn(move |_: Ctx<()>| async move {
                        let _ = tx.send(watched.load(Ordering::Relaxed));
                    })
                    .unwrap();
                for round in 0..ROUNDS {
                    std::hint::black_box(round.wrapping_mul(round));
                    p.store(round as usize, Ordering::Relaxed);
                    if yielding {
                        beamish_process::consume_reductions(1).await;
                    }
                }
            })
            .unwrap();
        let done = node.monitor(hog.pid());
        let seen = rx.recv().await.unwrap() as u64;
        assert_eq!(done.await, Exit::Normal);
        if yielding {
            assert!(
                seen < ROUNDS - 1,
                "the neighbour ran only after the loop ({seen})"
            );
        } else {
            assert_eq!(
                seen,
                ROUNDS - 1,
                "without the yield point the loop ran to its end"
            );
        }
    }
}
