//! R-TASK-4: `Task.yield` returns `nil` on timeout and leaves the task running; it can be
//! called again, and returns the outcome once there is one.

use std::time::Duration;

use beamish_process::{Exit, Node, Task, TaskError};

/// R-TASK-4: `yield_timeout` gives `None` while the task runs, and the result once it is done.
#[tokio::test(start_paused = true)]
async fn r_task_4_yield_returns_none_on_timeout_and_the_task_keeps_running() {
    let node = Node::start_default().unwrap();
    let mut task = Task::spawn_nolink(&node, |_| async {
        tokio::time::sleep(Duration::from_secs(10)).await;
        7
    })
    .unwrap();
    assert_eq!(task.yield_timeout(Duration::from_secs(1)).await, None);
    assert!(task.is_alive(), "the task runs on after a yield times out");
    assert_eq!(task.yield_timeout(Duration::from_secs(1)).await, None);
    assert_eq!(
        task.yield_timeout(Duration::from_secs(60)).await,
        Some(Ok(7))
    );
    // The outcome is handed out once; afterwards the task reads as gone.
    assert_eq!(
        task.yield_timeout(Duration::from_secs(1)).await,
        Some(Err(TaskError::Exit(Exit::NoProc)))
    );
}

/// R-TASK-4: `yield_timeout` reports a crash as `Some(Err(TaskError::Exit(reason)))`
/// (Elixir's `{:exit, reason}`).
#[tokio::test(start_paused = true)]
async fn r_task_4_yield_reports_the_exit_of_a_crashed_task() {
    let node = Node::start_default().unwrap();
    let mut task = Task::spawn_nolink(&node, |_| async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        panic!("late failure");
    })
    .unwrap();
    let none: Option<Result<(), TaskError>> = task.yield_timeout(Duration::from_secs(1)).await;
    assert_eq!(none, None);
    assert_eq!(
        task.yield_timeout(Duration::from_secs(5)).await,
        Some(Err(TaskError::Exit(Exit::Panic("late failure".into()))))
    );
}
