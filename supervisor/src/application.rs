//! An application: a top-level supervision tree run from `main` until a shutdown request.

use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;

use beamish_process::{Exit, Node};
use futures::future::Either;

use crate::error::SupervisorStartError;
use crate::supervisor::Supervisor;

/// A top-level supervision tree, run from `main` until a shutdown request (typically SIGTERM
/// or Ctrl-C), then stopped gracefully: children in reverse start order, each within its own
/// shutdown policy, the whole within an optional overall limit.
///
/// This crate does not install signal handlers itself (tokio's `signal` feature would bring
/// OS event machinery into every user of supervisors); the binary passes the future that
/// resolves on its signals, for example with tokio's `signal` feature:
///
/// ```text
/// let shutdown = async {
///     let mut term = tokio::signal::unix::signal(SignalKind::terminate()).unwrap();
///     tokio::select! { _ = tokio::signal::ctrl_c() => {}, _ = term.recv() => {} }
/// };
/// let outcome = Application::new(tree).run(&node, shutdown).await;
/// return outcome.exit_code();
/// ```
///
/// A runnable example with a oneshot standing in for the signal:
///
/// ```
/// use beamish_process::{Ctx, Node};
/// use beamish_supervisor::{AppExit, Application, ChildSpec, Strategy, Supervisor};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let node = Node::start_default().unwrap();
/// let tree = Supervisor::new(Strategy::OneForOne).child(ChildSpec::process(
///     "idle",
///     |mut ctx: Ctx<()>| async move {
///         ctx.recv().await;
///     },
/// ));
/// let (signal, received) = tokio::sync::oneshot::channel::<()>();
/// let app = tokio::spawn(async move {
///     Application::new(tree).run(&node, async { let _ = received.await; }).await
/// });
/// signal.send(()).unwrap(); // "SIGTERM"
/// let outcome = app.await.unwrap();
/// assert_eq!(outcome, AppExit::Stopped);
/// assert!(outcome.is_clean());
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct Application {
    tree: Supervisor,
    limit: Option<Duration>,
}

/// How an application ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AppExit {
    /// Stopped on request, cleanly: the whole tree ended within its limits.
    Stopped,
    /// Stopped on request, but the tree outlived the overall limit and was killed.
    KilledAtLimit,
    /// The top supervisor ended by itself (for example past its restart intensity).
    Failed(Exit),
    /// The tree could not start.
    StartFailed(SupervisorStartError),
}

impl AppExit {
    /// Whether the application stopped on request and cleanly.
    pub fn is_clean(&self) -> bool {
        *self == AppExit::Stopped
    }

    /// The process exit code to return from `main`: success only for a clean stop.
    pub fn exit_code(&self) -> ExitCode {
        if self.is_clean() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}

impl Application {
    /// An application running `tree`, with no overall shutdown limit (each child still has
    /// its own).
    pub fn new(tree: Supervisor) -> Application {
        Application { tree, limit: None }
    }

    /// Kills the tree if its graceful stop takes longer than `limit`.
    pub fn shutdown_limit(mut self, limit: Duration) -> Application {
        self.limit = Some(limit);
        self
    }

    /// Starts the tree, runs until `shutdown` resolves or the tree ends by itself, then stops
    /// it gracefully (R-SUP-SHUT).
    pub async fn run(self, node: &Node, shutdown: impl Future<Output = ()>) -> AppExit {
        let sup = match self.tree.start(node).await {
            Ok(s) => s,
            Err(e) => return AppExit::StartFailed(e),
        };
        let down = node.monitor(sup.pid());
        futures::pin_mut!(down);
        futures::pin_mut!(shutdown);
        if let Either::Left((reason, _)) = futures::future::select(&mut down, shutdown).await {
            return AppExit::Failed(reason);
        }
        tracing::info!(target: "beamish_supervisor", supervisor = %sup.pid(), "application stopping");
        // The stop request goes through the mailbox; the monitor above sees the end.
        sup.request_stop(Exit::Shutdown);
        let reason = match self.limit {
            None => down.await,
            Some(limit) => match tokio::time::timeout(limit, &mut down).await {
                Ok(r) => r,
                Err(_) => {
                    node.exit(sup.pid(), Exit::Kill);
                    down.await;
                    return AppExit::KilledAtLimit;
                }
            },
        };
        if reason == Exit::Shutdown {
            AppExit::Stopped
        } else {
            AppExit::Failed(reason)
        }
    }
}
