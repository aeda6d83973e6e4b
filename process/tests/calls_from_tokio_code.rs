//! Calls from tokio code (an HTTP handler's task, `#[tokio::main]`'s body) into processes on
//! beamish's workers: when the call finds its server idle, the calling thread polls the
//! server right away instead of waking a worker thread, so the reply is there at the
//! caller's first look. These tests pin where the server runs and that nothing else changes:
//! many callers, nested calls, crashes and deadlines behave as on the workers.

mod common;

use std::time::Duration;

use beamish_process::{
    CallError, Caller, Executor, Exit, GenServer, Node, NodeConfig, Reply, ServerCtx, ServerRef,
};
use common::within;

fn node() -> Node {
    Node::new(NodeConfig {
        executor: Executor::Workers(2),
        ..NodeConfig::default()
    })
    .expect("inside a tokio runtime")
}

fn thread_name() -> String {
    std::thread::current().name().unwrap_or("?").to_string()
}

/// Answers with the name of the thread it handled the call on, and counts calls.
#[derive(Default)]
struct Where(u64);

impl GenServer for Where {
    type Call = ();
    type Reply = (u64, String);
    type Cast = ();
    type Info = ();

    async fn handle_call(
        &mut self,
        _: (),
        _: Caller<'_, Self::Reply>,
        _: &mut ServerCtx<Self>,
    ) -> Result<Reply<Self::Reply>, Exit> {
        self.0 += 1;
        Ok(Reply::Now((self.0, thread_name())))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_from_a_tokio_task_is_served_on_the_callers_thread() {
    let node = node();
    let server = node.start(Where::default()).await.unwrap();
    let answers = tokio::spawn(async move {
        let mut answers = Vec::new();
        for _ in 0..100 {
            let (_, served_on) = server.call(()).await.unwrap();
            answers.push((served_on, thread_name()));
        }
        answers
    })
    .await
    .unwrap();
    // The server was idle at every call (one caller): each was served by the calling thread.
    for (served_on, caller_on) in answers {
        assert_eq!(served_on, caller_on);
        assert!(caller_on.starts_with("tokio-"), "{caller_on}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_from_a_process_is_still_served_on_the_workers() {
    let node = node();
    let server = node.start(Where::default()).await.unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    node.spawn(move |_: beamish_process::Ctx<()>| async move {
        let _ = tx.send(server.call(()).await.unwrap().1);
    })
    .unwrap();
    let served_on = within("the reply", rx).await.unwrap();
    assert!(served_on.starts_with("beamish-worker-"), "{served_on}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tokio_callers_each_get_their_own_answers() {
    let node = node();
    let server = node.start(Where::default()).await.unwrap();
    let callers: Vec<_> = (0..100)
        .map(|_| {
            let server = server.clone();
            tokio::spawn(async move {
                let mut last = 0;
                for _ in 0..200 {
                    let (n, _) = server.call(()).await.unwrap();
                    assert!(n > last, "replies out of order: {n} after {last}");
                    last = n;
                }
            })
        })
        .collect();
    for caller in callers {
        within("a caller", caller).await.unwrap();
    }
    assert_eq!(server.call(()).await.unwrap().0, 100 * 200 + 1);
}

/// Calls another server from inside its own call.
struct Front(ServerRef<Where>);

impl GenServer for Front {
    type Call = ();
    type Reply = (String, String);
    type Cast = ();
    type Info = ();

    async fn handle_call(
        &mut self,
        _: (),
        _: Caller<'_, Self::Reply>,
        _: &mut ServerCtx<Self>,
    ) -> Result<Reply<Self::Reply>, Exit> {
        let here = thread_name();
        let (_, back_on) = self
            .0
            .call(())
            .await
            .map_err(|e| Exit::error(format!("{e:?}")))?;
        Ok(Reply::Now((here, back_on)))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_polled_by_a_caller_calls_another_through_the_workers() {
    let node = node();
    let back = node.start(Where::default()).await.unwrap();
    let front = node.start(Front(back)).await.unwrap();
    let (front_on, back_on) = within("the nested call", front.call(())).await.unwrap();
    // The front server may have run here or on a worker (it awaited the back one); the
    // back one was called from a server, which never polls its callee itself.
    assert!(
        back_on.starts_with("beamish-worker-"),
        "{back_on} ({front_on})"
    );
}

/// Panics on a call.
struct Crasher;

impl GenServer for Crasher {
    type Call = ();
    type Reply = ();
    type Cast = ();
    type Info = ();

    async fn handle_call(
        &mut self,
        _: (),
        _: Caller<'_, ()>,
        _: &mut ServerCtx<Self>,
    ) -> Result<Reply<()>, Exit> {
        panic!("bad request")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_crashes_while_the_caller_polls_it_ends_only_itself() {
    let node = node();
    let crasher = node.start(Crasher).await.unwrap();
    let down = node.monitor(crasher.pid());
    let result = tokio::spawn(async move { crasher.call(()).await })
        .await
        .expect("the calling task survives the server's panic");
    assert!(
        matches!(&result, Err(CallError::Exit(Exit::Panic(m))) if m.contains("bad request")),
        "{result:?}"
    );
    assert!(matches!(within("DOWN", down).await, Exit::Panic(_)));
    // The node goes on.
    let server = node.start(Where::default()).await.unwrap();
    assert_eq!(server.call(()).await.unwrap().0, 1);
}

/// Takes longer to answer than its callers wait.
struct Slow;

impl GenServer for Slow {
    type Call = ();
    type Reply = ();
    type Cast = ();
    type Info = ();

    async fn handle_call(
        &mut self,
        _: (),
        _: Caller<'_, ()>,
        _: &mut ServerCtx<Self>,
    ) -> Result<Reply<()>, Exit> {
        std::future::pending::<()>().await;
        Ok(Reply::Now(()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_from_outside_still_times_out() {
    let node = node();
    let slow = node.start(Slow).await.unwrap();
    let result = within(
        "the timeout",
        slow.call_timeout((), Duration::from_millis(20)),
    )
    .await;
    assert!(
        matches!(&result, Err(CallError::Timeout(t)) if t.server == slow.pid()),
        "{result:?}"
    );
}
