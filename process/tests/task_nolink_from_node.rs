//! R-TASK-4 for tasks started outside any process (`Task::spawn_nolink`, Elixir's
//! `Task.Supervisor.async_nolink`): monitored, not linked, so a crash is only reported.

use std::time::Duration;

use beamish_process::{Exit, Node, Task, TaskError};

/// R-TASK-4: a task spawned from the node gives its result to `await_timeout`.
#[tokio::test(start_paused = true)]
async fn r_task_4_nolink_task_returns_its_result() {
    let node = Node::start_default().unwrap();
    let task = Task::spawn_nolink(&node, |ctx| async move { ctx.pid() }).unwrap();
    assert_eq!(task.owner(), None);
    let pid = task.pid();
    assert_eq!(task.await_timeout(Duration::from_secs(1)).await, Ok(pid));
}

/// R-TASK-4: a crash of an unlinked task is its `TaskError::Exit`, and nothing else; the
/// node's process table is back to where it was.
#[tokio::test(start_paused = true)]
async fn r_task_4_nolink_task_crash_is_reported_not_propagated() {
    let node = Node::start_default().unwrap();
    let before = node.process_count();
    let task = Task::spawn_nolink(&node, |_| async {
        let v: Vec<u8> = Vec::new();
        v[1]
    })
    .unwrap();
    let pid = task.pid();
    match task.await_default().await {
        Err(TaskError::Exit(Exit::Panic(msg))) => assert!(msg.contains("out of bounds"), "{msg}"),
        other => panic!("expected a panic exit, got {other:?}"),
    }
    let _ = node.monitor(pid).await;
    assert_eq!(node.process_count(), before);
}
