//! R-TASK-3: a caller that dies takes its `async_stream` tasks down. In Rust the stream is
//! owned by the caller, so this is "dropping the stream kills its running elements", which
//! also covers a caller process that dies (its body, and the stream with it, is dropped).

use std::time::Duration;

use beamish_process::{Ctx, Exit, Node, Pid, async_stream, current_pid};
use tokio::sync::{mpsc, oneshot};

const HOUR: Duration = Duration::from_secs(3600);

fn pid_reporter(
    tx: mpsc::UnboundedSender<(u64, Pid)>,
) -> impl Fn(u64) -> std::pin::Pin<Box<dyn Future<Output = u64> + Send>> + Send + Sync + 'static {
    move |i| {
        let tx = tx.clone();
        Box::pin(async move {
            let _ = tx.send((i, current_pid().unwrap()));
            if i > 0 {
                tokio::time::sleep(HOUR).await;
            }
            i
        })
    }
}

/// R-TASK-3: dropping the stream mid-way kills the elements that were running.
#[tokio::test(start_paused = true)]
async fn r_task_3_dropping_the_stream_kills_running_elements() {
    let node = Node::start_default().unwrap();
    let (tx, mut pids) = mpsc::unbounded_channel();
    let mut stream = async_stream(&node, 0..10u64, pid_reporter(tx))
        .max_concurrency(3)
        .timeout(2 * HOUR);
    assert_eq!(stream.next().await, Some(Ok(0)));
    // Elements 0, 1 and 2 were started; 0 has finished, 1 and 2 run.
    let mut downs = Vec::new();
    for _ in 0..3 {
        let (i, pid) = pids.recv().await.unwrap();
        downs.push((i, node.monitor(pid)));
    }
    downs.sort_by_key(|(i, _)| *i);
    drop(stream);
    let reasons = futures::future::join_all(downs.into_iter().map(|(_, d)| d)).await;
    assert_eq!(
        reasons,
        [Exit::NoProc, Exit::Killed, Exit::Killed],
        "element 0 had finished, the running ones are killed"
    );
    assert!(
        pids.try_recv().is_err(),
        "no element started after the drop"
    );
}

/// R-TASK-3: a caller process killed while it runs a stream takes the stream's elements
/// down with it.
#[tokio::test(start_paused = true)]
async fn r_task_3_dying_caller_takes_its_stream_tasks_down() {
    let node = Node::start_default().unwrap();
    let (tx, mut pids) = mpsc::unbounded_channel();
    let (started_tx, started_rx) = oneshot::channel();
    let caller = node
        .spawn(move |ctx: Ctx<()>| async move {
            let mut stream = async_stream(ctx.node(), 1..=2u64, pid_reporter(tx))
                .max_concurrency(2)
                .timeout(2 * HOUR);
            let _ = started_tx.send(());
            while stream.next().await.is_some() {}
        })
        .unwrap();
    started_rx.await.unwrap();
    let downs = vec![
        node.monitor(pids.recv().await.unwrap().1),
        node.monitor(pids.recv().await.unwrap().1),
    ];
    let caller_down = node.monitor(caller.pid());
    node.exit(caller.pid(), Exit::Kill);
    assert_eq!(caller_down.await, Exit::Killed);
    assert_eq!(
        futures::future::join_all(downs).await,
        [Exit::Killed, Exit::Killed]
    );
}
