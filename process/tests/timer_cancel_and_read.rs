//! `cancel_timer` and `read_timer` answer with the time left, or `None` once the timer has
//! fired or was cancelled, as `erlang:cancel_timer/1` and `erlang:read_timer/1` answer
//! `false`; a cancelled timer never delivers.

mod common;

use std::time::Duration;

use common::{Got, Probe, node};

const MS: Duration = Duration::from_millis(1);

#[tokio::test(start_paused = true)]
async fn cancel_returns_the_time_left_and_then_none() {
    let node = node();
    let mut probe = Probe::<&'static str>::spawn(&node, |_| {}).await;
    let cancelled = probe.addr().send_after("cancelled", 100 * MS);
    let kept = probe.addr().send_after("kept", 200 * MS);
    assert_eq!(node.read_timer(cancelled), Some(100 * MS));
    tokio::time::advance(30 * MS).await;
    assert_eq!(node.read_timer(cancelled), Some(70 * MS));
    assert_eq!(node.cancel_timer(cancelled), Some(70 * MS));
    // Cancelled: gone for both, and a second cancel is `false`.
    assert_eq!(node.read_timer(cancelled), None);
    assert_eq!(node.cancel_timer(cancelled), None);
    assert_eq!(node.pending_timers(), 1);
    // The kept one arrives; the cancelled one never does (it would have come first).
    assert_eq!(probe.next().await, Some(Got::Msg("kept")));
    // Fired: `false` for both.
    assert_eq!(node.read_timer(kept), None);
    assert_eq!(node.cancel_timer(kept), None);
    assert_eq!(node.pending_timers(), 0);
}

#[tokio::test(start_paused = true)]
async fn an_interval_ticks_each_period_until_cancelled() {
    let node = node();
    let mut probe = Probe::<&'static str>::spawn(&node, |_| {}).await;
    let start = tokio::time::Instant::now();
    let every = probe.addr().send_interval("tick", 10 * MS);
    for k in 1..=3u32 {
        assert_eq!(probe.next().await, Some(Got::Msg("tick")));
        assert_eq!(tokio::time::Instant::now() - start, k * 10 * MS);
    }
    assert_eq!(node.read_timer(every), Some(10 * MS));
    tokio::time::advance(4 * MS).await;
    assert_eq!(node.cancel_timer(every), Some(6 * MS));
    assert_eq!(node.cancel_timer(every), None);
    // No tick after the cancel: a one-shot timer set later arrives first and alone.
    probe.addr().send_after("after", 50 * MS);
    assert_eq!(probe.next().await, Some(Got::Msg("after")));
    assert_eq!(node.pending_timers(), 0);
}

#[tokio::test(start_paused = true)]
async fn refs_of_other_nodes_and_of_reused_slots_name_nothing() {
    let node = node();
    let other = beamish_process::Node::new(beamish_process::NodeConfig {
        creation: 7,
        ..Default::default()
    })
    .unwrap();
    let probe = Probe::<u8>::spawn(&node, |_| {}).await;
    let first = probe.addr().send_after(1, 100 * MS);
    assert_eq!(other.cancel_timer(first), None);
    assert!(node.cancel_timer(first).is_some());
    // The next timer takes the same slot; the old ref does not name it.
    let second = probe.addr().send_after(2, 100 * MS);
    assert_ne!(first, second);
    assert_eq!(node.read_timer(first), None);
    assert_eq!(node.cancel_timer(first), None);
    assert_eq!(node.read_timer(second), Some(100 * MS));
}
