//! R-TASK-3 (links, as for `Task.async`): a caller that dies takes its tasks down.

use std::time::Duration;

use beamish_process::{Ctx, Exit, Node, Task};
use tokio::sync::oneshot;

/// R-TASK-3: the caller exits with an error while its task runs; the task dies with the
/// caller's reason.
#[tokio::test(start_paused = true)]
async fn r_task_3_dying_caller_takes_its_task_down() {
    let node = Node::start_default().unwrap();
    let (pid_tx, pid_rx) = oneshot::channel();
    let caller = node
        .spawn(move |mut ctx: Ctx<()>| async move {
            let task = Task::spawn(&ctx, |_| async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            })?;
            let _ = pid_tx.send(task.pid());
            // Wait for the go, then fail.
            let _ = ctx.recv().await;
            Err::<(), Exit>(Exit::error("caller failed"))
        })
        .unwrap();
    let task = pid_rx.await.unwrap();
    let task_down = node.monitor(task);
    caller.send(()).unwrap();
    assert_eq!(task_down.await, Exit::error("caller failed"));
}
