//! A timer never fires before its time: not by a paused clock's jump, not by rounding to
//! tokio's millisecond, not on a real clock with two workers (`erlang:send_after/3`).

mod common;

use std::time::Duration;

use beamish_process::{Ctx, Executor, Message, Node, NodeConfig, Timeout};
use common::{Got, Probe, node, within};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Durations that straddle the millisecond: each must be rounded up, never down.
const AFTERS_US: [u64; 10] = [
    0, 1, 999, 1_000, 1_001, 1_500, 2_999, 10_000, 10_001, 250_333,
];

#[tokio::test(start_paused = true)]
async fn on_a_paused_clock_every_timer_fires_at_or_after_its_deadline() {
    let node = node();
    // The receiver notes the clock as each message arrives.
    let (tx, mut rx) = mpsc::unbounded_channel();
    let receiver = node
        .spawn(move |mut ctx: Ctx<usize>| async move {
            while let Message::Msg(i) = ctx.recv().await {
                let _ = tx.send((i, Instant::now()));
            }
        })
        .unwrap();
    let mut deadlines = Vec::new();
    for (i, us) in AFTERS_US.iter().enumerate() {
        let after = Duration::from_micros(*us);
        deadlines.push(Instant::now() + after);
        receiver.send_after(i, after);
        // Stagger the starts off the millisecond grid.
        tokio::time::advance(Duration::from_micros(337)).await;
    }
    for _ in AFTERS_US {
        let (i, at) = within("a timer", rx.recv()).await.unwrap();
        assert!(
            at >= deadlines[i],
            "timer {i} ({} us) fired {:?} early",
            AFTERS_US[i],
            deadlines[i] - at
        );
        // And at most a millisecond of rounding late, plus, for the timers due while the
        // test was still setting the others, the two stagger steps it takes the driver and
        // then the receiver to run.
        let slack = Duration::from_micros(1_000 + 2 * 337);
        assert!(
            at <= deadlines[i] + slack,
            "timer {i} late by {:?}",
            at - deadlines[i]
        );
    }
    assert_eq!(node.pending_timers(), 0);
}

#[tokio::test(start_paused = true)]
async fn timers_fire_in_deadline_order_whatever_order_they_were_set_in() {
    let node = node();
    let mut probe = Probe::<u64>::spawn(&node, |_| {}).await;
    for ms in [50u64, 10, 40, 20, 30, 0] {
        probe.addr().send_after(ms, Duration::from_millis(ms));
    }
    let mut got = Vec::new();
    for _ in 0..6 {
        let Some(Got::Msg(ms)) = probe.next().await else {
            panic!("the probe died")
        };
        got.push(ms);
    }
    assert_eq!(got, [0, 10, 20, 30, 40, 50]);
}

/// The same on a real clock, with beamish's two workers: each process checks the clock when
/// its timer's message arrives. Short timers, so the test takes some 30 ms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_real_clock_with_two_workers_no_timer_fires_early() {
    let node = Node::new(NodeConfig {
        executor: Executor::Workers(2),
        ..NodeConfig::default()
    })
    .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    const N: u64 = 200;
    for i in 0..N {
        let tx = tx.clone();
        node.spawn(move |mut ctx: Ctx<Timeout<Instant>>| async move {
            let after = Duration::from_micros(i * 137 % 20_000);
            let at = Instant::now() + after;
            let tref = ctx.start_timer(at, after);
            if let Message::Msg(t) = ctx.recv().await {
                let now = Instant::now();
                let _ = tx.send((t.tref == tref, now >= t.msg, now - at.min(now)));
            }
        })
        .unwrap();
    }
    drop(tx);
    let mut n = 0;
    while let Some((own, on_time, _late)) = within("the timers", rx.recv()).await {
        assert!(own, "a process got another's timer");
        assert!(on_time, "a timer fired early");
        n += 1;
    }
    assert_eq!(n, N);
}
