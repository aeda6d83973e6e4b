//! R-TASK-3, Elixir's form (`AsyncStream::link`): the elements are linked to the process
//! that runs the stream. A crashing element takes that process down; a process that traps
//! exits sees the crash as an `Err(TaskError::Exit(reason))` item instead.

use beamish_process::{Ctx, Exit, Message, Node, TaskError, async_stream};
use tokio::sync::oneshot;

/// R-TASK-3: without trapping, the caller dies with the element's reason.
#[tokio::test(start_paused = true)]
async fn r_task_3_linked_crashing_element_takes_the_caller_down() {
    let node = Node::start_default().unwrap();
    let (tx, rx) = oneshot::channel::<Vec<Result<i32, TaskError>>>();
    let caller = node
        .spawn(move |ctx: Ctx<()>| async move {
            let results: Vec<_> = async_stream(ctx.node(), 0..4, |i| async move {
                if i == 1 {
                    panic!("linked failure");
                }
                i
            })
            .link()
            .collect()
            .await;
            let _ = tx.send(results);
        })
        .unwrap();
    assert_eq!(
        node.monitor(caller.pid()).await,
        Exit::Panic("linked failure".into())
    );
    assert!(rx.await.is_err(), "the stream never finished in the caller");
}

/// R-TASK-3: a trapping caller gets `Err(TaskError::Exit(reason))` for the crashed element
/// and exactly one `EXIT` message (from that element); the elements that finished leave
/// nothing behind.
#[tokio::test(start_paused = true)]
async fn r_task_3_linked_trapping_caller_sees_the_exit_in_the_stream() {
    let node = Node::start_default().unwrap();
    let (tx, rx) = oneshot::channel();
    node.spawn(move |mut ctx: Ctx<()>| async move {
        ctx.trap_exit(true);
        let results: Vec<_> = async_stream(ctx.node(), 0..4, |i| async move {
            if i == 1 {
                panic!("linked failure");
            }
            i
        })
        .link()
        .max_concurrency(2)
        .collect()
        .await;
        tokio::task::yield_now().await;
        let mailbox: Vec<_> = std::iter::from_fn(|| ctx.try_recv()).collect();
        let _ = tx.send((results, mailbox, ctx.links()));
    })
    .unwrap();
    let (results, mailbox, links) = rx.await.unwrap();
    assert_eq!(
        results,
        [
            Ok(0),
            Err(TaskError::Exit(Exit::Panic("linked failure".into()))),
            Ok(2),
            Ok(3)
        ]
    );
    assert_eq!(mailbox.len(), 1, "{mailbox:?}");
    assert!(matches!(
        &mailbox[0],
        Message::Exit(e) if e.reason == Exit::Panic("linked failure".into())
    ));
    assert!(links.is_empty(), "no element is still linked");
}
