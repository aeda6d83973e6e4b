//! Introspection for an observer (issue 5): each process's age, start time and memory
//! estimate, per-process message rates between two samples (recon's `proc_window`), and the
//! node's totals (spawns, exits, restarts) with their rates.

mod common;

use std::time::Duration;

use beamish_process::{Ctx, Exit, Kind, Message, Node, Pid};
use common::{exit_after, idle, node, within};
use tokio::sync::oneshot;

/// What a counting process takes: ticks to handle, and a sync that answers once every earlier
/// tick is handled.
enum Cmd {
    Tick,
    Sync(oneshot::Sender<()>),
}

/// A process that handles whatever it is sent, forever.
fn counter(node: &Node) -> beamish_process::Addr<Cmd> {
    node.spawn(|mut ctx: Ctx<Cmd>| async move {
        while let Message::Msg(m) = ctx.recv().await {
            if let Cmd::Sync(tx) = m {
                let _ = tx.send(());
            }
        }
    })
    .unwrap()
}

/// Sends `ticks` ticks and a sync, and waits for the sync: `ticks + 1` handled messages.
async fn handle(addr: &beamish_process::Addr<Cmd>, ticks: usize) {
    for _ in 0..ticks {
        addr.send(Cmd::Tick).unwrap();
    }
    let (tx, rx) = oneshot::channel();
    addr.send(Cmd::Sync(tx)).unwrap();
    within("the counter's sync", rx).await.unwrap();
}

/// A process's age grows with the runtime's clock from its start (its first run, which a
/// spawn is followed by as soon as the spawner lets the thread go; the sync waits for it),
/// and the start times of two processes are as far apart as their starts.
#[tokio::test(start_paused = true)]
async fn age_and_start_time_follow_the_start() {
    let node = node();
    let a = counter(&node);
    handle(&a, 0).await;
    tokio::time::advance(Duration::from_secs(5)).await;
    let b = counter(&node);
    handle(&b, 0).await;
    tokio::time::advance(Duration::from_millis(2_250)).await;
    let ia = node.process_info(a.pid()).unwrap();
    let ib = node.process_info(b.pid()).unwrap();
    assert_eq!(ia.age, Duration::from_millis(7_250));
    assert_eq!(ib.age, Duration::from_millis(2_250));
    assert_eq!(
        ib.started_at.duration_since(ia.started_at).unwrap(),
        Duration::from_secs(5)
    );
    // The same figures come from every entry point.
    let listed = node.processes();
    let la = listed.iter().find(|i| i.pid == a.pid()).unwrap();
    assert_eq!((la.age, la.started_at), (ia.age, ia.started_at));
}

/// The memory estimate counts the cell, the queued messages' slots, and the relations.
#[tokio::test(start_paused = true)]
async fn memory_bytes_counts_the_cell_the_queue_and_the_relations() {
    let node = node();
    let quiet = idle::<u64>(&node);
    let idle_bytes = node.process_info(quiet.pid()).unwrap().memory_bytes;
    assert!(
        (184..1024).contains(&idle_bytes),
        "an idle process: its 184-byte cell and little else, got {idle_bytes}"
    );

    let flooded = idle::<u64>(&node);
    for n in 0..1_000 {
        flooded.send(n).unwrap();
    }
    let flooded_bytes = node.process_info(flooded.pid()).unwrap().memory_bytes;
    // A slot is a `Message<u64>`: 16 bytes.
    assert!(
        flooded_bytes >= idle_bytes + 1_000 * 16,
        "1,000 queued u64s: {flooded_bytes} against {idle_bytes} idle"
    );

    let named = idle::<u64>(&node);
    node.register("a_name_for_it", named.pid()).unwrap();
    let named_bytes = node.process_info(named.pid()).unwrap().memory_bytes;
    assert!(named_bytes > idle_bytes, "a name allocates the relations");
}

/// The kind is the behaviour: a plain process, a `GenServer`, a task.
#[tokio::test(start_paused = true)]
async fn kind_is_the_behaviour() {
    let node = node();
    let (tx, rx) = oneshot::channel();
    let p = node
        .spawn(move |ctx: Ctx<()>| async move {
            // Kept until this process ends: the task waits meanwhile.
            let (_go_tx, go) = oneshot::channel::<()>();
            let task = beamish_process::Task::spawn(&ctx, move |_| async move {
                let _ = go.await;
            })
            .unwrap();
            let _ = tx.send(task.pid());
            std::future::pending::<()>().await;
        })
        .unwrap();
    let task = within("the task's pid", rx).await.unwrap();
    assert_eq!(node.process_info(p.pid()).unwrap().kind, Kind::Process);
    assert_eq!(node.process_info(task).unwrap().kind, Kind::Task);
    assert_eq!(Kind::Task.as_str(), "task");
}

/// Between two samples: the busiest first, with how many each handled; a process born in
/// between counts from 0; one that died is left out; `n` bounds the answer.
#[tokio::test(start_paused = true)]
async fn top_by_rate_between_two_samples() {
    let node = node();
    let a = counter(&node);
    let b = counter(&node);
    let c = counter(&node);
    handle(&a, 100).await; // before the window: not counted
    let earlier = node.handled_counts();
    assert_eq!(earlier.len(), 3);

    handle(&a, 10).await; // 11 in the window
    handle(&b, 3).await; // 4
    let d = counter(&node);
    handle(&d, 5).await; // 6, from birth
    handle(&c, 50).await; // the busiest, but it dies before the second sample
    exit_after(&node, c.pid(), Exit::Kill).await;
    let later = node.handled_counts();

    let top = |n| -> Vec<(Pid, u64)> {
        node.top_by_rate_between(&earlier, &later, n)
            .into_iter()
            .map(|(i, d)| (i.pid, d))
            .collect()
    };
    assert_eq!(top(2), vec![(a.pid(), 11), (d.pid(), 6)]);
    assert_eq!(
        top(10),
        vec![(a.pid(), 11), (d.pid(), 6), (b.pid(), 4)],
        "c died in the window"
    );
    assert!(top(0).is_empty());
    let (info, _) = &node.top_by_rate_between(&earlier, &later, 1)[0];
    assert_eq!(info.messages_handled, 101 + 11);
}

/// `top_by_rate` samples at once, waits the window, and samples again: what was handled
/// before the call does not count, what is handled in the window does.
#[tokio::test(start_paused = true)]
async fn top_by_rate_counts_only_the_window() {
    let node = node();
    let before = counter(&node);
    let during = counter(&node);
    handle(&before, 1_000).await;
    let window = node.top_by_rate(2, Duration::from_secs(1));
    handle(&during, 20).await;
    let top: Vec<_> = within("the window", window)
        .await
        .into_iter()
        .map(|(i, d)| (i.pid, d))
        .collect();
    assert_eq!(top, vec![(during.pid(), 21), (before.pid(), 0)]);
}

/// Totals: spawns and exits only grow, processes is their difference, and two samples give
/// per-second rates.
#[tokio::test(start_paused = true)]
async fn totals_count_spawns_and_exits() {
    let node = node();
    let t0 = node.totals();
    assert_eq!(
        (t0.processes, t0.spawned, t0.exited, t0.restarts),
        (0, 0, 0, 0)
    );
    assert_eq!(t0.process_limit, beamish_process::DEFAULT_PROCESS_LIMIT);
    let keep: Vec<_> = (0..3).map(|_| idle::<()>(&node)).collect();
    let t1 = node.totals();
    assert_eq!((t1.processes, t1.spawned, t1.exited), (3, 3, 0));
    for _ in 0..4 {
        common::dead_pid(&node, Exit::Normal).await;
    }
    exit_after(&node, keep[0].pid(), Exit::Kill).await;
    let t2 = node.totals();
    assert_eq!(
        (t2.processes, t2.spawned, t2.exited, t2.restarts),
        (2, 7, 5, 0)
    );
    assert_eq!(t2.processes as usize, node.process_count());
    assert_eq!(t2.spawned, node.spawned_count());

    node.count_restart();
    let t3 = node.totals();
    let r = t3.rates_since(&t1, Duration::from_secs(2));
    assert_eq!((r.spawns, r.exits, r.restarts), (2.0, 2.5, 0.5));
    assert_eq!(t3.rates_since(&t1, Duration::ZERO).spawns, 0.0);
    assert_eq!(t1.rates_since(&t3, Duration::from_secs(1)).exits, 0.0);
}
