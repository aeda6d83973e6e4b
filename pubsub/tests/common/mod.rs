//! Helpers shared by the behaviour tests of `beamish-pubsub`.
//!
//! Tests wait on events (messages, oneshots, `sync`), never on sleeps; every wait goes through
//! [`within`], which turns a hang into a failure.

#![allow(dead_code)] // each test binary uses its own subset

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use beamish_process::{Addr, Ctx, Exit, Message, Node, Pid};
use tokio::sync::{mpsc, oneshot};

/// How long [`within`] waits before calling a test stuck.
pub(crate) const GUARD: Duration = Duration::from_secs(30);

/// A node with the default configuration on the current runtime.
pub(crate) fn node() -> Node {
    Node::start_default().expect("tests run inside a tokio runtime")
}

/// Awaits `fut`, failing the test if it never completes.
pub(crate) async fn within<F: Future>(what: &str, fut: F) -> F::Output {
    match tokio::time::timeout(GUARD, fut).await {
        Ok(v) => v,
        Err(_) => panic!("stuck waiting for {what}"),
    }
}

/// A closure run inside a [`Client`]'s process.
type JobFn<T> = Box<dyn FnOnce(&Ctx<In<T>>) + Send>;

/// What a [`Client`] process receives: a shared message from a hub, or a job to run.
pub(crate) enum In<T> {
    /// A delivered message.
    Got(Arc<T>),
    /// Something to do as this process (subscribe, publish, ...).
    Job(JobFn<T>),
}

impl<T> From<Arc<T>> for In<T> {
    fn from(m: Arc<T>) -> Self {
        In::Got(m)
    }
}

/// A process that runs jobs on request and forwards every message it gets to the test.
#[derive(Debug)]
pub(crate) struct Client<T> {
    addr: Addr<In<T>>,
    rx: mpsc::UnboundedReceiver<Arc<T>>,
}

impl<T: Send + Sync + Debug + 'static> Client<T> {
    /// Spawns a client.
    pub(crate) fn spawn(node: &Node) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let addr = node
            .spawn(move |mut ctx: Ctx<In<T>>| async move {
                while let Message::Msg(m) = ctx.recv().await {
                    match m {
                        In::Got(m) => {
                            let _ = tx.send(m);
                        }
                        In::Job(f) => f(&ctx),
                    }
                }
            })
            .expect("spawn a client");
        Client { addr, rx }
    }

    /// The client's pid.
    pub(crate) fn pid(&self) -> Pid {
        self.addr.pid()
    }

    /// Runs `f` in the client's process and returns its result.
    pub(crate) async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Ctx<In<T>>) -> R + Send + 'static,
    ) -> R {
        let rx = self.start(f);
        within("a client's job", rx).await.expect("the client died")
    }

    /// Hands `f` to the client's process at once, without waiting; the receiver gets its
    /// result.
    pub(crate) fn start<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Ctx<In<T>>) -> R + Send + 'static,
    ) -> oneshot::Receiver<R> {
        let (tx, rx) = oneshot::channel();
        let job = In::Job(Box::new(move |ctx| {
            let _ = tx.send(f(ctx));
        }));
        assert!(self.addr.send(job).is_ok(), "the client is alive");
        rx
    }

    /// The next message the client received.
    pub(crate) async fn next(&mut self) -> Arc<T> {
        within("a client's next message", self.rx.recv())
            .await
            .expect("the client is alive")
    }

    /// Asserts that nothing more was delivered: a marker sent directly now is the next
    /// thing the client sees.
    pub(crate) async fn assert_nothing_more(&mut self, marker: T)
    where
        T: PartialEq,
    {
        let marker = Arc::new(marker);
        assert!(self.addr.send(In::Got(marker.clone())).is_ok());
        assert_eq!(self.next().await, marker);
    }

    /// Ends the client with `reason` and waits until it has ended.
    pub(crate) async fn kill(&self, node: &Node, reason: Exit) {
        let down = node.monitor(self.pid());
        node.exit(self.pid(), reason);
        within("a client to exit", down).await;
    }
}
