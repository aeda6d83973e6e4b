//! R-TASK-4: `Task.await` with a timeout: when no result comes in time the caller gets
//! `TaskError::Timeout` (Elixir exits the caller with `{:timeout, ...}`), and the task, which
//! the caller's exit would take down in Elixir, is killed. The caller lives on, unharmed.

use std::time::Duration;

use beamish_process::{Ctx, Exit, Node, Task, TaskError};
use tokio::sync::oneshot;
use tokio::time::Instant;

/// R-TASK-4: `await_timeout` gives up after its timeout; the task is killed, the caller is
/// not (the task is unlinked before the kill) and its mailbox stays empty.
#[tokio::test(start_paused = true)]
async fn r_task_4_await_timeout_returns_timeout_and_kills_the_task() {
    let node = Node::start_default().unwrap();
    let (tx, rx) = oneshot::channel();
    let caller = node
        .spawn(move |mut ctx: Ctx<()>| async move {
            ctx.trap_exit(true);
            let task = Task::spawn(&ctx, |_| async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                1
            })?;
            let task_down = ctx.node().monitor(task.pid());
            let start = Instant::now();
            let result = task.await_timeout(Duration::from_secs(1)).await;
            let waited = start.elapsed();
            let reason = task_down.await;
            tokio::task::yield_now().await;
            let mailbox = std::iter::from_fn(|| ctx.try_recv()).count();
            let _ = tx.send((result, waited, reason, mailbox, ctx.links()));
            Ok::<(), Exit>(())
        })
        .unwrap();
    let caller_down = node.monitor(caller.pid());
    let (result, waited, reason, mailbox, links) = rx.await.unwrap();
    assert_eq!(result, Err(TaskError::Timeout));
    assert_eq!(
        waited,
        Duration::from_secs(1),
        "virtual time: exactly the timeout"
    );
    assert_eq!(reason, Exit::Killed);
    assert_eq!(
        mailbox, 0,
        "no EXIT from the killed task: it was unlinked first"
    );
    assert!(links.is_empty());
    assert_eq!(
        caller_down.await,
        Exit::Normal,
        "the caller carried on and ended normally"
    );
}

/// R-TASK-4: `await_default` waits Elixir's default of five seconds.
#[tokio::test(start_paused = true)]
async fn r_task_4_await_default_times_out_after_five_seconds() {
    let node = Node::start_default().unwrap();
    let task = Task::spawn_nolink(&node, |_| async {
        tokio::time::sleep(Duration::from_secs(6)).await;
    })
    .unwrap();
    let start = Instant::now();
    assert_eq!(task.await_default().await, Err(TaskError::Timeout));
    assert_eq!(start.elapsed(), Duration::from_secs(5));
}
