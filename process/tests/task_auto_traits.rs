//! The task handles cross threads and live in process bodies (which must be `Send`), and the
//! error is a well-behaved `std::error::Error` (R-TASK-4's typed errors).

use beamish_process::{Node, OnTimeout, Task, TaskError, async_stream};
use futures::Stream;

fn send_sync<T: Send + Sync>() {}
fn send_stream<S: Stream + Send>(_: &S) {}
fn error<E: std::error::Error + Send + Sync + 'static>() {}

/// R-TASK-4: `Task<T>` and `TaskError` are `Send + Sync`; `TaskError` is an error type.
#[test]
fn r_task_4_task_handles_and_errors_are_send_and_sync() {
    send_sync::<Task<String>>();
    send_sync::<TaskError>();
    send_sync::<OnTimeout>();
    error::<TaskError>();
}

/// R-TASK-1: an `AsyncStream` can be held across `.await` in a process body (it is `Send`),
/// with or without `zip_input_on_exit`.
#[tokio::test]
async fn r_task_1_async_stream_is_send() {
    let node = Node::start_default().unwrap();
    send_stream(&async_stream(&node, vec![1], |x: i32| async move { x + 1 }));
    send_stream(&async_stream(&node, vec![1], |x: i32| async move { x }).zip_input_on_exit());
}
