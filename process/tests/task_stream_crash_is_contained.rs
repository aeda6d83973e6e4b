//! R-TASK-3, default form: an `async_stream` element that crashes yields
//! `Err(TaskError::Exit(reason))` and the stream carries on. Elixir links the elements to the
//! caller (see `task_stream_link.rs` for that form); our default is the typed, contained one.

use beamish_process::{Ctx, Exit, Node, TaskError, async_stream};
use tokio::sync::oneshot;

/// R-TASK-3: a panicking element is an error item; the others succeed, and the process that
/// runs the stream is not disturbed (no exit, nothing in its mailbox).
#[tokio::test(start_paused = true)]
async fn r_task_3_crashing_element_yields_its_exit_and_the_stream_carries_on() {
    let node = Node::start_default().unwrap();
    let (tx, rx) = oneshot::channel();
    let caller = node
        .spawn(move |mut ctx: Ctx<()>| async move {
            let results: Vec<_> = async_stream(ctx.node(), 0..4, |i| async move {
                if i == 2 {
                    panic!("element {i} failed");
                }
                i * 10
            })
            .max_concurrency(2)
            .collect()
            .await;
            tokio::task::yield_now().await;
            let mailbox = std::iter::from_fn(|| ctx.try_recv()).count();
            let _ = tx.send((results, mailbox));
        })
        .unwrap();
    let caller_down = node.monitor(caller.pid());
    let (results, mailbox) = rx.await.unwrap();
    assert_eq!(
        results,
        [
            Ok(0),
            Ok(10),
            Err(TaskError::Exit(Exit::Panic("element 2 failed".into()))),
            Ok(30)
        ]
    );
    assert_eq!(mailbox, 0);
    assert_eq!(caller_down.await, Exit::Normal);
}
