//! R-TASK-4: `Task.await` returns the task's result, and leaves nothing in the caller's
//! mailbox: no reply message, no `DOWN`, and (our choice, see `Task`) no
//! `{'EXIT', Task, normal}` for a caller that traps exits.

use std::time::Duration;

use beamish_process::{Ctx, DEFAULT_TASK_TIMEOUT, Exit, Node, Pid, Task};
use tokio::sync::oneshot;

#[derive(Debug)]
struct Seen {
    value: Result<u32, beamish_process::TaskError>,
    linked_while_running: bool,
    links_after: Vec<Pid>,
    mailbox_after: usize,
}

async fn await_in_process(node: &Node, trap: bool) -> Seen {
    let (tx, rx) = oneshot::channel();
    node.spawn(move |mut ctx: Ctx<()>| async move {
        ctx.trap_exit(trap);
        let task = Task::spawn(&ctx, |_| async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            6 * 7
        })?;
        let pid = task.pid();
        let linked_while_running = ctx.links().contains(&pid);
        let value = task.await_default().await;
        // Wait until the task process has fully ended, so that anything it was going to send
        // us has been sent, then look at the mailbox.
        let _ = ctx.node().monitor(pid).await;
        tokio::task::yield_now().await;
        let seen = Seen {
            value,
            linked_while_running,
            links_after: ctx.links(),
            mailbox_after: std::iter::from_fn(|| ctx.try_recv()).count(),
        };
        let _ = tx.send(seen);
        Ok::<(), Exit>(())
    })
    .unwrap();
    rx.await.unwrap()
}

/// R-TASK-4: `await_default` returns the value the task's body returned.
#[tokio::test(start_paused = true)]
async fn r_task_4_await_returns_the_tasks_value() {
    let node = Node::start_default().unwrap();
    let seen = await_in_process(&node, false).await;
    assert_eq!(seen.value, Ok(42));
    assert!(
        seen.linked_while_running,
        "Task::spawn links the task to its caller"
    );
    assert!(
        seen.links_after.is_empty(),
        "a finished task is no longer linked"
    );
    assert_eq!(seen.mailbox_after, 0);
}

/// R-TASK-4: a caller that traps exits still finds its mailbox empty after the await.
#[tokio::test(start_paused = true)]
async fn r_task_4_await_leaves_nothing_in_a_trapping_callers_mailbox() {
    let node = Node::start_default().unwrap();
    let seen = await_in_process(&node, true).await;
    assert_eq!(seen.value, Ok(42));
    assert!(seen.links_after.is_empty());
    assert_eq!(
        seen.mailbox_after, 0,
        "no reply, DOWN or EXIT message is left behind"
    );
}

/// R-TASK-4: the default await timeout is Elixir's 5000 ms.
#[test]
fn r_task_4_default_timeout_is_five_seconds() {
    assert_eq!(DEFAULT_TASK_TIMEOUT, Duration::from_secs(5));
}
