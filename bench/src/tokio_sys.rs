//! Raw tokio, the floor for any tokio-based runtime: an actor is a `tokio::spawn`ed task that
//! owns the receiving end of a `tokio::sync::mpsc::unbounded_channel`; a call sends a
//! `tokio::sync::oneshot` sender along. The same code runs as `tokio` (two workers) and
//! `tokio-st` (current-thread runtime).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use crate::common::{
    CallRun, FairnessRun, FanoutRun, HOG_CHUNK, HOG_CHUNKS, Latch, Outcome, PingPongRun, RingRun,
    SkynetRun, SpawnRun, SubStats, TimersRun, Workload, compute_for, rss_bytes, timers_lead,
};

/// Runs one workload; the caller provides the runtime.
pub(crate) async fn run(w: Workload) -> Outcome {
    match w {
        Workload::Spawn { n } => spawn(n).await.outcome(),
        Workload::PingPong { n } => pingpong(n).await.outcome(),
        Workload::Ring { nodes, hops } => ring(nodes, hops).await.outcome(),
        Workload::Skynet { leaves } => skynet(leaves).await.outcome(),
        Workload::Call { callers, total } => call(callers, total).await.outcome(),
        Workload::Fanout { subs, msgs } => fanout(subs, msgs).await.outcome(),
        // Tokio's calls come from tokio tasks anyway: the same round trip.
        Workload::OutCall { callers, total } => call(callers, total).await.outcome_as("outcall"),
        Workload::MainCall { total } => maincall(total).await.outcome_as("maincall"),
        Workload::Fairness { hogs } => fairness(hogs).await.outcome(),
        Workload::Timers { n } => timers(n).await.outcome(),
        Workload::Chat(size) => crate::chat::tokio::run(size).await,
        Workload::SupRestart { .. }
        | Workload::SupLoop { .. }
        | Workload::Observe { .. }
        | Workload::PubSub { .. }
        | Workload::Registry { .. }
        | Workload::Emit { .. } => {
            unreachable!("main runs only the workloads a system implements")
        }
    }
}

async fn spawn(n: usize) -> SpawnRun {
    let ready = Latch::new(n);
    let done = Latch::new(n);
    let mut mailboxes = Vec::with_capacity(n);
    let rss_before = rss_bytes();
    let t0 = Instant::now();
    for _ in 0..n {
        let (tx, mut rx) = mpsc::unbounded_channel::<()>();
        let (ready, done) = (ready.clone(), done.clone());
        tokio::spawn(async move {
            // The "start hook": the task has been polled once.
            ready.count_down();
            drop(ready);
            if rx.recv().await.is_some() {
                done.count_down();
            }
        });
        mailboxes.push(tx);
    }
    let spawn_loop = t0.elapsed();
    ready.wait().await;
    let all_started = t0.elapsed();
    let rss_started = rss_bytes();
    let t1 = Instant::now();
    let stops_sent = mailboxes.iter().filter(|tx| tx.send(()).is_ok()).count();
    done.wait().await;
    SpawnRun {
        n,
        spawn_loop,
        all_started,
        all_stopped: t1.elapsed(),
        rss_before,
        rss_started,
        stops_sent,
        ready,
        done,
    }
}

async fn pingpong(n: usize) -> PingPongRun {
    let (to_ping, mut ping_rx) = mpsc::unbounded_channel::<u64>();
    let (to_pong, mut pong_rx) = mpsc::unbounded_channel::<u64>();
    let (pong_count_tx, pong_count_rx) = oneshot::channel::<u64>();
    let (finished_tx, finished_rx) = oneshot::channel::<u64>();
    // The ponger returns every ball; its mailbox closes when the pinger is done.
    tokio::spawn(async move {
        let mut got = 0;
        while let Some(k) = pong_rx.recv().await {
            got += 1;
            if to_ping.send(k).is_err() {
                break;
            }
        }
        let _ = pong_count_tx.send(got);
    });
    let (start_tx, start_rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let mut got = 0;
        if start_rx.await.is_ok() && to_pong.send(n as u64).is_ok() {
            while let Some(k) = ping_rx.recv().await {
                got += 1;
                if k == 1 || to_pong.send(k - 1).is_err() {
                    break;
                }
            }
        }
        let _ = finished_tx.send(got);
    });
    let t0 = Instant::now();
    let _ = start_tx.send(());
    let pinger_got = finished_rx.await.unwrap_or(0);
    let elapsed = t0.elapsed();
    PingPongRun {
        n,
        elapsed,
        pinger_got,
        ponger_got: pong_count_rx.await.unwrap_or(0),
    }
}

/// Asks a ring node or subscriber to report its count. Raw tokio's messages stay a bare `u64`
/// (this value, never a real token or payload) rather than an enum with a reply channel: that
/// would double the slot size of every mailbox and slow the baseline down by some 15% on the
/// ring, flattering everything compared with it.
const REPORT: u64 = u64::MAX;

async fn ring(nodes: usize, hops: usize) -> RingRun {
    let done = Latch::new(1);
    let reported = Latch::new(nodes);
    let last = Arc::new(AtomicUsize::new(usize::MAX));
    let handled_total = Arc::new(AtomicU64::new(0));
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..nodes).map(|_| mpsc::unbounded_channel::<u64>()).unzip();
    for (i, mut rx) in rxs.into_iter().enumerate() {
        let next = txs[(i + 1) % nodes].clone();
        let (done, reported) = (done.clone(), reported.clone());
        let (last, handled_total) = (last.clone(), handled_total.clone());
        tokio::spawn(async move {
            let mut handled = 0u64;
            while let Some(k) = rx.recv().await {
                if k == REPORT {
                    handled_total.fetch_add(handled, Ordering::Relaxed);
                    reported.count_down();
                    continue;
                }
                handled += 1;
                if k == 0 {
                    last.store(i, Ordering::Relaxed);
                    done.count_down();
                } else {
                    let _ = next.send(k - 1);
                }
            }
        });
    }
    let t0 = Instant::now();
    let _ = txs[0].send(hops as u64);
    done.wait().await;
    let elapsed = t0.elapsed();
    for tx in &txs {
        let _ = tx.send(REPORT);
    }
    reported.wait().await;
    RingRun {
        nodes,
        hops,
        elapsed,
        handled: handled_total.load(Ordering::Relaxed),
        last_node: last.load(Ordering::Relaxed),
    }
}

/// One skynet node: a leaf sends its number up; an inner node spawns ten children with their
/// own mailbox and sends up the sum of their answers. Boxed because the future is recursive.
fn sky(
    num: u64,
    size: u64,
    parent: mpsc::UnboundedSender<u64>,
) -> Pin<Box<dyn Future<Output = ()> + Send>> {
    Box::pin(async move {
        if size == 1 {
            let _ = parent.send(num);
            return;
        }
        let (tx, mut rx) = mpsc::unbounded_channel::<u64>();
        let child = size / 10;
        for i in 0..10 {
            tokio::spawn(sky(num + i * child, child, tx.clone()));
        }
        drop(tx);
        let mut sum = 0;
        for _ in 0..10 {
            sum += rx.recv().await.unwrap_or(0);
        }
        let _ = parent.send(sum);
    })
}

async fn skynet(leaves: u64) -> SkynetRun {
    let t0 = Instant::now();
    let (tx, mut rx) = mpsc::unbounded_channel::<u64>();
    tokio::spawn(sky(0, leaves, tx));
    let sum = rx.recv().await.unwrap_or(0);
    SkynetRun {
        leaves,
        elapsed: t0.elapsed(),
        sum,
    }
}

async fn call(callers: usize, total: usize) -> CallRun {
    let (server, mut requests) = mpsc::unbounded_channel::<oneshot::Sender<u64>>();
    tokio::spawn(async move {
        let mut count = 0u64;
        while let Some(reply) = requests.recv().await {
            count += 1;
            let _ = reply.send(count);
        }
    });
    let per = total / callers;
    let done = Latch::new(callers);
    let t0 = Instant::now();
    for _ in 0..callers {
        let (server, done) = (server.clone(), done.clone());
        tokio::spawn(async move {
            for _ in 0..per {
                let (reply, answer) = oneshot::channel();
                if server.send(reply).is_err() {
                    break;
                }
                std::hint::black_box(answer.await.unwrap_or(0));
            }
            done.count_down();
        });
    }
    done.wait().await;
    let elapsed = t0.elapsed();
    let (reply, answer) = oneshot::channel();
    let _ = server.send(reply);
    CallRun {
        callers,
        calls: per * callers,
        elapsed,
        final_reply: answer.await.unwrap_or(0),
    }
}

/// `total` sequential request/reply round trips from the `block_on` body to a task.
async fn maincall(total: usize) -> CallRun {
    let (server, mut requests) = mpsc::unbounded_channel::<oneshot::Sender<u64>>();
    tokio::spawn(async move {
        let mut count = 0u64;
        while let Some(reply) = requests.recv().await {
            count += 1;
            let _ = reply.send(count);
        }
    });
    let ask = || {
        let (reply, answer) = oneshot::channel();
        let _ = server.send(reply);
        answer
    };
    let t0 = Instant::now();
    for _ in 0..total {
        std::hint::black_box(ask().await.unwrap_or(0));
    }
    let elapsed = t0.elapsed();
    CallRun {
        callers: 1,
        calls: total,
        elapsed,
        final_reply: ask().await.unwrap_or(0),
    }
}

/// A task that sleeps 1 ms at a time beside `hogs` tasks that compute in chunks without
/// awaiting: the gaps between its ticks while they compute.
async fn fairness(hogs: usize) -> FairnessRun {
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let (m, st) = (measuring.clone(), stop.clone());
    let ticker = tokio::spawn(async move {
        let mut gaps = Vec::with_capacity(4096);
        let mut last = Instant::now();
        while !st.load(Ordering::Acquire) {
            tokio::time::sleep(Duration::from_millis(1)).await;
            let now = Instant::now();
            if m.load(Ordering::Acquire) {
                gaps.push(now - last);
            }
            last = now;
        }
        gaps
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    measuring.store(true, Ordering::Release);
    let done = Latch::new(hogs);
    let finished = Arc::new(AtomicUsize::new(0));
    for _ in 0..hogs {
        let (done, finished) = (done.clone(), finished.clone());
        tokio::spawn(async move {
            for _ in 0..HOG_CHUNKS {
                compute_for(HOG_CHUNK);
                tokio::task::yield_now().await;
            }
            finished.fetch_add(1, Ordering::AcqRel);
            done.count_down();
        });
    }
    done.wait().await;
    measuring.store(false, Ordering::Release);
    stop.store(true, Ordering::Release);
    FairnessRun {
        hogs,
        gaps: ticker.await.unwrap_or_default(),
        hogs_done: finished.load(Ordering::Acquire),
    }
}

async fn fanout(subs: usize, msgs: usize) -> FanoutRun {
    let done = Latch::new(subs);
    let reported = Latch::new(subs);
    let all_stats = Arc::new(Mutex::new(Vec::with_capacity(subs)));
    let mut txs = Vec::with_capacity(subs);
    for _ in 0..subs {
        let (tx, mut rx) = mpsc::unbounded_channel::<u64>();
        let (done, reported, all_stats) = (done.clone(), reported.clone(), all_stats.clone());
        tokio::spawn(async move {
            let mut stats = SubStats::default();
            while let Some(v) = rx.recv().await {
                if v == REPORT {
                    all_stats.lock().expect("not poisoned").push(stats);
                    reported.count_down();
                    continue;
                }
                stats.record(v);
                if stats.count == msgs as u64 {
                    done.count_down();
                }
            }
        });
        txs.push(tx);
    }
    let t0 = Instant::now();
    for m in 0..msgs as u64 {
        for tx in &txs {
            let _ = tx.send(m);
        }
    }
    done.wait().await;
    let elapsed = t0.elapsed();
    for tx in &txs {
        let _ = tx.send(REPORT);
    }
    reported.wait().await;
    let stats = std::mem::take(&mut *all_stats.lock().expect("not poisoned"));
    FanoutRun {
        subs,
        msgs,
        elapsed,
        stats,
    }
}

/// `n` timers the tokio way: a task per timer that sleeps until the instant they are all due
/// and sends its number to one receiving task.
async fn timers(n: usize) -> TimersRun {
    let (tx, mut rx) = mpsc::unbounded_channel::<u64>();
    let receiver = tokio::spawn(async move {
        let (mut got, mut sum) = (0u64, 0u64);
        let mut first = None;
        while got < n as u64 {
            let Some(v) = rx.recv().await else { break };
            first.get_or_insert_with(Instant::now);
            got += 1;
            sum += v;
        }
        (got, sum, first, Instant::now())
    });
    let armed = Latch::new(n);
    let rss_before = rss_bytes();
    let t0 = Instant::now();
    let due = t0 + timers_lead(n);
    let due_at = tokio::time::Instant::from_std(due);
    for i in 0..n {
        let (tx, armed) = (tx.clone(), armed.clone());
        tokio::spawn(async move {
            let sleep = tokio::time::sleep_until(due_at);
            armed.count_down();
            drop(armed);
            sleep.await;
            let _ = tx.send(i as u64);
        });
    }
    drop(tx);
    // Every task has run once, so every sleep is in tokio's timer wheel.
    armed.wait().await;
    let set = t0.elapsed();
    let set_in_time = Instant::now() < due;
    let rss_pending = rss_bytes();
    let (got, sum, first, last) = receiver.await.expect("the receiver reports");
    TimersRun {
        n,
        set,
        set_in_time,
        rss_before,
        rss_pending,
        fire_all: last.saturating_duration_since(due),
        got,
        sum,
        first_on_time: first.is_some_and(|f| f >= due),
    }
}
