//! R-TASK-3 (links, as for `Task.async`): a task that crashes takes its caller down, unless
//! the caller traps exits; then the caller gets the `EXIT` message and the await returns the
//! task's reason.

use beamish_process::{Ctx, Exit, ExitMsg, Message, Node, Task, TaskError};
use tokio::sync::oneshot;

/// R-TASK-3: a caller that does not trap exits dies with the task's panic, before its await
/// can return.
#[tokio::test(start_paused = true)]
async fn r_task_3_crashing_task_takes_the_caller_down() {
    let node = Node::start_default().unwrap();
    let (tx, rx) = oneshot::channel::<Result<(), TaskError>>();
    let caller = node
        .spawn(move |ctx: Ctx<()>| async move {
            let task = Task::spawn(&ctx, |_| async { panic!("boom") })?;
            let outcome = task.await_default().await;
            // Never reached: the link's exit signal is handled before the await can see
            // the task's end.
            let _ = tx.send(outcome);
            Ok::<(), Exit>(())
        })
        .unwrap();
    let down = node.monitor(caller.pid());
    assert_eq!(down.await, Exit::Panic("boom".into()));
    assert!(rx.await.is_err(), "the await never returned to the caller");
}

/// R-TASK-3: a caller that traps exits survives; the await returns the panic as
/// `TaskError::Exit`, and the `EXIT` message is in its mailbox.
#[tokio::test(start_paused = true)]
async fn r_task_3_trapping_caller_gets_the_tasks_reason() {
    let node = Node::start_default().unwrap();
    let (tx, rx) = oneshot::channel();
    node.spawn(move |mut ctx: Ctx<()>| async move {
        ctx.trap_exit(true);
        let task = Task::spawn(&ctx, |_| async { panic!("boom") })?;
        let pid = task.pid();
        let outcome: Result<(), TaskError> = task.await_default().await;
        let msg = ctx.recv().await;
        let _ = tx.send((pid, outcome, msg));
        Ok::<(), Exit>(())
    })
    .unwrap();
    let (pid, outcome, msg) = rx.await.unwrap();
    assert_eq!(outcome, Err(TaskError::Exit(Exit::Panic("boom".into()))));
    assert_eq!(
        msg,
        Message::Exit(Box::new(ExitMsg {
            from: pid,
            reason: Exit::Panic("boom".into())
        }))
    );
}
