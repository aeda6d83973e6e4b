//! Helpers shared by the behaviour tests of `beamish-registry`.
//!
//! Tests wait on events (oneshots, monitors, messages, [`Registry::sync`]), never on sleeps.
//! Every wait goes through [`within`], which turns a hang into a failure.
//!
//! `Registry::sync()` waits until the registry has applied the end of every owner that had
//! ended when it was called, so a test that has seen an owner die (through a monitor) can
//! then check that its entries are gone, on any runtime flavour.

#![allow(dead_code)] // each test binary uses its own subset

use std::fmt::Debug;
use std::future::Future;
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

/// A closure an [`Agent`] runs in its own process.
type JobFn = Box<dyn FnOnce(&Ctx<Job>) + Send>;

/// A job an [`Agent`] runs in its own process.
pub(crate) struct Job(JobFn);

/// A process that runs closures in itself on request: the test's hands inside a process,
/// for operations that act on "the calling process" (register, unregister).
#[derive(Debug, Clone)]
pub(crate) struct Agent {
    addr: Addr<Job>,
}

impl Agent {
    /// Spawns an agent that runs jobs until it is told to stop.
    pub(crate) fn spawn(node: &Node) -> Agent {
        let addr = node
            .spawn(|mut ctx: Ctx<Job>| async move {
                while let Message::Msg(Job(f)) = ctx.recv().await {
                    f(&ctx);
                }
            })
            .expect("spawn an agent");
        Agent { addr }
    }

    /// The agent's pid.
    pub(crate) fn pid(&self) -> Pid {
        self.addr.pid()
    }

    /// Runs `f` in the agent's process and returns its result.
    pub(crate) async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Ctx<Job>) -> R + Send + 'static,
    ) -> R {
        let (tx, rx) = oneshot::channel();
        let job = Job(Box::new(move |ctx| {
            let _ = tx.send(f(ctx));
        }));
        assert!(self.addr.send(job).is_ok(), "the agent is alive");
        within("an agent's job", rx)
            .await
            .expect("the agent died during a job")
    }

    /// Ends the agent with `reason` and waits until it has ended.
    pub(crate) async fn kill(&self, node: &Node, reason: Exit) {
        let down = node.monitor(self.pid());
        node.exit(self.pid(), reason);
        within("an agent to exit", down).await;
    }
}

/// A process that forwards every message it receives to the test, in order.
#[derive(Debug)]
pub(crate) struct Probe<T> {
    addr: Addr<T>,
    rx: mpsc::UnboundedReceiver<T>,
}

impl<T: Send + Debug + 'static> Probe<T> {
    /// Spawns a probe.
    pub(crate) fn spawn(node: &Node) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let addr = node
            .spawn(move |mut ctx: Ctx<T>| async move {
                while let Message::Msg(m) = ctx.recv().await {
                    if tx.send(m).is_err() {
                        break;
                    }
                }
            })
            .expect("spawn a probe");
        Probe { addr, rx }
    }

    /// The probe's address.
    pub(crate) fn addr(&self) -> Addr<T> {
        self.addr.clone()
    }

    /// The probe's pid.
    pub(crate) fn pid(&self) -> Pid {
        self.addr.pid()
    }

    /// The next message the probe received.
    pub(crate) async fn next(&mut self) -> T {
        within("a probe's next message", self.rx.recv())
            .await
            .expect("the probe is alive")
    }

    /// A message already received, if any (to check that nothing more came).
    pub(crate) fn try_next(&mut self) -> Option<T> {
        self.rx.try_recv().ok()
    }
}

/// Sorted copy, for comparing answers given in no particular order.
pub(crate) fn sorted<T: Ord + Clone>(v: &[T]) -> Vec<T> {
    let mut v = v.to_vec();
    v.sort();
    v
}
