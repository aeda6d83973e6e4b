//! Introspection at scale and under churn (issue 5): with 100,000 live processes it still
//! finds the flooded mailbox and the busiest process first; read in a loop while other
//! processes spawn, send and exit on two worker threads, it neither deadlocks nor returns
//! inconsistent figures.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use beamish_process::{Ctx, Message, Pid};
use common::{idle, node, within};
use tokio::sync::oneshot;

const LIVE: usize = 100_000;

/// Among 100,000 idle processes, the one with 10,000 queued messages tops `top_by_mailbox`,
/// and the one handling messages while the others idle tops `top_by_rate`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outliers_among_100k_processes_come_first() {
    let node = node();
    let idle: Vec<_> = (0..LIVE).map(|_| idle::<u32>(&node)).collect();
    let flooded = &idle[LIVE / 2];
    for n in 0..10_000 {
        flooded.send(n).unwrap();
    }
    // A few short queues, so the flooded one must beat other non-empty mailboxes.
    for (i, p) in idle.iter().step_by(10_007).enumerate() {
        for n in 0..=i as u32 {
            let _ = p.send(n);
        }
    }

    let top = node.top_by_mailbox(5);
    assert_eq!(top.len(), 5);
    assert_eq!((top[0].pid, top[0].mailbox_len), (flooded.pid(), 10_000));
    assert!(top.windows(2).all(|w| w[0].mailbox_len >= w[1].mailbox_len));
    assert!(top[0].memory_bytes >= 10_000 * 16);

    // One process handles messages (its own, sent to itself) while the others idle.
    let stop = Arc::new(AtomicBool::new(false));
    let (started_tx, started) = oneshot::channel();
    let busy = node
        .spawn({
            let stop = stop.clone();
            move |mut ctx: Ctx<u32>| async move {
                let me = ctx.addr();
                let _ = started_tx.send(());
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    me.send(n).unwrap();
                    if let Message::Msg(m) = ctx.recv().await {
                        n = m + 1;
                    }
                    if n % 64 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            }
        })
        .unwrap();
    within("the busy process", started).await.unwrap();
    let top = within(
        "top_by_rate",
        node.top_by_rate(3, Duration::from_millis(200)),
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    assert_eq!(top.len(), 3);
    assert_eq!(top[0].0.pid, busy.pid());
    assert!(top[0].1 > 0);
    assert!(top[1..].iter().all(|(_, d)| *d == 0), "the others idle");
    common::exit_of(&node, busy.pid()).await;
}

/// `processes` and `totals` read in a loop while four spawners each start (and monitor)
/// thousands of short-lived children and send them and a sink messages: no deadlock, no pid
/// twice in one snapshot, no pid again once it was seen gone, spawns and exits never go
/// back and never cross, and at the end every child is counted as exited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_while_processes_churn_stays_consistent() {
    const SPAWNERS: usize = 4;
    const CHILDREN: usize = 2_500;
    let node = node();
    let sink = node
        .spawn(|mut ctx: Ctx<u64>| async move { while let Message::Msg(_) = ctx.recv().await {} })
        .unwrap();
    let base = node.totals();
    let mut done = Vec::new();
    for _ in 0..SPAWNERS {
        let (tx, rx) = oneshot::channel();
        done.push(rx);
        let sink = sink.clone();
        node.spawn(move |mut ctx: Ctx<u64>| async move {
            for i in 0..CHILDREN {
                let (child, _) = ctx
                    .build()
                    .monitor()
                    .spawn(|mut c: Ctx<u64>| async move {
                        let _ = c.recv().await;
                    })
                    .unwrap();
                child.send(i as u64).unwrap();
                for n in 0..4 {
                    sink.send(n).unwrap();
                }
            }
            let mut downs = 0;
            while downs < CHILDREN {
                if let Message::Down(_) = ctx.recv().await {
                    downs += 1;
                }
            }
            let _ = tx.send(());
        })
        .unwrap();
    }

    let mut all_done = Box::pin(futures_join(done));
    let mut last = base;
    let mut gone: HashSet<Pid> = HashSet::new();
    let mut reads = 0;
    loop {
        let snapshot = node.processes();
        let pids: HashSet<Pid> = snapshot.iter().map(|i| i.pid).collect();
        assert_eq!(pids.len(), snapshot.len(), "a pid twice in one snapshot");
        assert!(pids.is_disjoint(&gone), "a pid seen gone came back");
        // Some of this snapshot's pids may be gone already: remember them.
        gone.extend(pids.iter().filter(|p| node.process_info(**p).is_none()));

        let t = node.totals();
        assert!(t.spawned >= last.spawned && t.exited >= last.exited);
        assert!(t.spawned >= t.exited);
        assert_eq!(t.processes, t.spawned - t.exited);
        last = t;
        let _ = node.top_by_mailbox(3);
        reads += 1;
        tokio::select! {
            () = &mut all_done => break,
            () = tokio::task::yield_now() => {}
        }
    }
    assert!(reads > 0);
    let end = node.totals();
    let children = (SPAWNERS * CHILDREN) as u64;
    assert_eq!(end.spawned - base.spawned, children + SPAWNERS as u64);
    // Every child is gone (its DOWN came); a spawner may still be finishing.
    assert!(end.exited - base.exited >= children);
    let left: HashSet<Pid> = node.processes().iter().map(|i| i.pid).collect();
    assert!(left.is_disjoint(&gone));
    assert!(left.len() <= 1 + SPAWNERS);
}

/// Waits for every receiver.
async fn futures_join(rxs: Vec<oneshot::Receiver<()>>) {
    for rx in rxs {
        within("a spawner", rx).await.unwrap();
    }
}
