//! `Task.shutdown` (R-TASK-4's companion): unlinks the task, sends it `shutdown`, kills it
//! after the timeout (at once with a zero timeout, `:brutal_kill`), and returns the result if
//! the task had finished.

use std::time::Duration;

use beamish_process::{Ctx, Exit, Node, Task, TaskError};
use tokio::sync::oneshot;
use tokio::time::Instant;

const HOUR: Duration = Duration::from_secs(3600);

/// R-TASK-4: shutting down a running task returns `None`; the task ends with `shutdown`, and
/// its caller, unlinked first, is neither killed nor sent an `EXIT`.
#[tokio::test(start_paused = true)]
async fn r_task_4_shutdown_stops_a_running_task() {
    let node = Node::start_default().unwrap();
    let (tx, rx) = oneshot::channel();
    let caller = node
        .spawn(move |mut ctx: Ctx<()>| async move {
            ctx.trap_exit(true);
            let task = Task::spawn(&ctx, |_| async { tokio::time::sleep(HOUR).await })?;
            let down = ctx.node().monitor(task.pid());
            let outcome = task.shutdown(Duration::from_secs(5)).await;
            let reason = down.await;
            tokio::task::yield_now().await;
            let mailbox = std::iter::from_fn(|| ctx.try_recv()).count();
            let _ = tx.send((outcome, reason, mailbox, ctx.links()));
            Ok::<(), Exit>(())
        })
        .unwrap();
    let caller_down = node.monitor(caller.pid());
    let (outcome, reason, mailbox, links) = rx.await.unwrap();
    assert_eq!(outcome, None);
    assert_eq!(reason, Exit::Shutdown);
    assert_eq!(mailbox, 0);
    assert!(links.is_empty());
    assert_eq!(caller_down.await, Exit::Normal);
}

/// R-TASK-4: a task that had already produced its result gives it back from `shutdown`.
#[tokio::test(start_paused = true)]
async fn r_task_4_shutdown_returns_the_result_of_a_finished_task() {
    let node = Node::start_default().unwrap();
    let task = Task::spawn_nolink(&node, |_| async { "done" }).unwrap();
    let _ = node.monitor(task.pid()).await;
    assert_eq!(
        task.shutdown(Duration::from_secs(5)).await,
        Some(Ok("done"))
    );
}

/// R-TASK-4: with a zero timeout the task is killed at once (`:brutal_kill`), and `shutdown`
/// returns `None`.
#[tokio::test(start_paused = true)]
async fn r_task_4_shutdown_with_zero_timeout_is_brutal_kill() {
    let node = Node::start_default().unwrap();
    let task = Task::spawn_nolink(&node, |_| async { tokio::time::sleep(HOUR).await }).unwrap();
    let down = node.monitor(task.pid());
    assert_eq!(task.shutdown(Duration::ZERO).await, None);
    assert_eq!(down.await, Exit::Killed);
}

/// R-TASK-4: a task that traps exits and ignores `shutdown` is killed when the timeout runs
/// out; `shutdown` then reports `killed`, as Elixir's does.
#[tokio::test(start_paused = true)]
async fn r_task_4_shutdown_kills_a_task_that_outlives_the_timeout() {
    let node = Node::start_default().unwrap();
    let (trapping_tx, trapping_rx) = oneshot::channel();
    let task = Task::spawn_nolink(&node, |ctx| async move {
        ctx.trap_exit(true);
        let _ = trapping_tx.send(());
        tokio::time::sleep(HOUR).await;
    })
    .unwrap();
    trapping_rx.await.unwrap();
    let start = Instant::now();
    assert_eq!(
        task.shutdown(Duration::from_secs(2)).await,
        Some(Err(TaskError::Exit(Exit::Killed)))
    );
    assert_eq!(start.elapsed(), Duration::from_secs(2));
}

/// R-TASK-4: a task that had crashed reports its reason from `shutdown`.
#[tokio::test(start_paused = true)]
async fn r_task_4_shutdown_reports_an_earlier_crash() {
    let node = Node::start_default().unwrap();
    let task = Task::spawn_nolink(&node, |_| async { panic!("early") }).unwrap();
    let _ = node.monitor(task.pid()).await;
    let outcome: Option<Result<(), TaskError>> = task.shutdown(Duration::from_secs(5)).await;
    assert_eq!(
        outcome,
        Some(Err(TaskError::Exit(Exit::Panic("early".into()))))
    );
}
