//! Call timeouts fire on time without a timer per call (R-GS-1, R-GS-2): on the real clock, a
//! caller of a stuck server gets `Timeout` within a few milliseconds of its deadline; a short
//! timeout filed after long ones still fires first; many callers with mixed timeouts each time
//! out at their own deadline; and a server that answers in time is never cut short.

mod common;

use std::time::Duration;

use beamish_process::{CallError, Node, ServerRef};
use common::{SLACK, Stuck, until_held, within};
use futures::FutureExt;
use tokio::sync::oneshot;
use tokio::time::Instant;

async fn timed_call(
    server: &ServerRef<Stuck>,
    timeout: Duration,
) -> (Result<u32, CallError>, Duration) {
    let start = Instant::now();
    let r = server.call_timeout(None, timeout).await;
    (r, start.elapsed())
}

fn assert_on_time(got: (Result<u32, CallError>, Duration), timeout: Duration) {
    let (r, waited) = got;
    assert!(
        matches!(&r, Err(CallError::Timeout(t)) if t.timeout == timeout),
        "{r:?}"
    );
    assert!(
        waited >= timeout && waited < timeout + SLACK,
        "timeout {timeout:?}, waited {waited:?}"
    );
}

/// R-GS-1: a call to a server that never answers times out at its deadline, on the real clock.
#[tokio::test]
async fn r_gs_1_stuck_server_times_out_on_time() {
    let node = Node::start_default().unwrap();
    let server = node.start(Stuck::default()).await.unwrap();
    for ms in [20, 50, 5] {
        let t = Duration::from_millis(ms);
        assert_on_time(within("the call", timed_call(&server, t)).await, t);
    }
    assert_eq!(server.call(Some(3)).await, Ok(3));
}

/// R-GS-1: a short timeout filed while long ones wait still fires at its own deadline (the
/// sweeper is told of the earlier deadline), and the long ones keep waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_gs_1_short_timeout_after_long_ones_fires_first() {
    let node = Node::start_default().unwrap();
    let server = node.start(Stuck::default()).await.unwrap();
    let mut long = Vec::new();
    for _ in 0..3 {
        let s = server.clone();
        long.push(tokio::spawn(async move {
            timed_call(&s, Duration::from_secs(3)).await
        }));
    }
    // The long calls have filed their deadlines once the server holds them (a caller files
    // in the same poll that sends its request).
    until_held(&server, 3).await;
    let t = Duration::from_millis(40);
    assert_on_time(within("the short call", timed_call(&server, t)).await, t);
    assert!(
        long.iter().all(|h| !h.is_finished()),
        "long calls still wait"
    );
    for h in long {
        h.abort();
    }
}

/// R-GS-1, R-GS-2: many callers on two worker threads, with mixed timeouts, each time out at
/// their own deadline; callers that get their answer in time are unaffected, and no late
/// reply lands anywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_gs_1_mixed_timeouts_each_fire_at_their_deadline() {
    let node = Node::start_default().unwrap();
    let server = node.start(Stuck::default()).await.unwrap();
    let mut calls = Vec::new();
    for i in 0..40u64 {
        let s = server.clone();
        let t = Duration::from_millis(10 + (i * 37) % 120);
        let (tx, rx) = oneshot::channel();
        node.spawn(move |_: beamish_process::Ctx<()>| async move {
            // Answered calls before and after do not disturb the waiting one.
            assert_eq!(s.call(Some(1)).await, Ok(1));
            let got = timed_call(&s, t).await;
            assert_eq!(s.call(Some(2)).await, Ok(2));
            let _ = tx.send(got);
        })
        .unwrap();
        calls.push((t, rx));
    }
    for (t, rx) in calls {
        assert_on_time(within("a caller", rx).await.unwrap(), t);
    }
}

/// R-GS-1: a call dropped while it waits (its caller gave up on it) leaves nothing behind
/// that could wake anybody later; the next calls time out on time.
#[tokio::test]
async fn r_gs_1_abandoned_wait_leaves_no_deadline() {
    let node = Node::start_default().unwrap();
    let server = node.start(Stuck::default()).await.unwrap();
    // One poll sends the request and arms the 30 ms deadline; dropping the future abandons
    // the wait, with no race against a second timer on a loaded machine.
    let abandoned = server
        .call_timeout(None, Duration::from_millis(30))
        .now_or_never();
    assert_eq!(abandoned, None, "a stuck server cannot answer at once");
    let t = Duration::from_millis(60);
    assert_on_time(within("the call", timed_call(&server, t)).await, t);
}
