//! An application: a top-level supervision tree run from `main` until a shutdown request.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::time::Duration;

use beamish_process::{Exit, Node, Pid};
use futures::future::Either;

use crate::error::SupervisorStartError;
use crate::supervisor::{Supervisor, SupervisorRef};

/// A top-level supervision tree, run from `main` until a shutdown request (typically SIGTERM
/// or Ctrl-C), then stopped gracefully: children in reverse start order, each within its own
/// shutdown policy, the whole within an optional overall limit.
///
/// With this crate's `signals` feature, `Application::run_until_signal`
/// stops the tree on SIGTERM or Ctrl-C. Without it (the default: tokio's signal handling
/// brings OS event machinery that most users of supervisors do not need), the binary passes
/// the future that resolves on its signals, for example:
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
    /// it gracefully (R-SUP-SHUT). The same as [`start`](Self::start) then
    /// [`RunningApp::run_until`].
    pub async fn run(self, node: &Node, shutdown: impl Future<Output = ()>) -> AppExit {
        match self.start(node).await {
            Ok(app) => app.run_until(shutdown).await,
            Err(e) => AppExit::StartFailed(e),
        }
    }

    /// Starts the tree and hands back the running application, whose
    /// [`supervisor`](RunningApp::supervisor) is the top supervisor's handle (to start
    /// children, look at the tree, subscribe to restarts), before it is run until a shutdown
    /// request ([`RunningApp::run_until`]) or stopped ([`RunningApp::stop`]).
    ///
    /// ```
    /// use beamish_process::{Ctx, Node};
    /// use beamish_supervisor::{AppExit, Application, ChildSpec, Strategy, Supervisor};
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let node = Node::start_default()?;
    /// let tree = Supervisor::new(Strategy::OneForOne).child(ChildSpec::process(
    ///     "idle",
    ///     |mut ctx: Ctx<()>| async move {
    ///         ctx.recv().await;
    ///     },
    /// ));
    /// let app = Application::new(tree).start(&node).await?;
    /// assert_eq!(app.supervisor().count_children().await?.active, 1);
    /// assert_eq!(app.stop().await, AppExit::Stopped);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn start(self, node: &Node) -> Result<RunningApp, SupervisorStartError> {
        let sup = self.tree.start(node).await?;
        // Watched from the start, so an end before `run_until` is still seen with its reason.
        let down = Box::pin(node.monitor(sup.pid()));
        Ok(RunningApp {
            sup,
            node: node.clone(),
            limit: self.limit,
            down,
        })
    }
}

/// A started [`Application`]: its top supervisor runs. Run it until a shutdown request with
/// [`run_until`](Self::run_until), or stop it now with [`stop`](Self::stop); either gives the
/// [`AppExit`]. Dropping it leaves the tree running.
pub struct RunningApp {
    sup: SupervisorRef,
    node: Node,
    limit: Option<Duration>,
    down: Pin<Box<dyn Future<Output = Exit> + Send>>,
}

impl fmt::Debug for RunningApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningApp")
            .field("supervisor", &self.sup)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl RunningApp {
    /// The top supervisor.
    pub fn supervisor(&self) -> &SupervisorRef {
        &self.sup
    }

    /// The top supervisor's pid.
    pub fn pid(&self) -> Pid {
        self.sup.pid()
    }

    /// Runs until `shutdown` resolves or the tree ends by itself, then stops the tree
    /// gracefully (R-SUP-SHUT) within the application's overall limit.
    pub async fn run_until(mut self, shutdown: impl Future<Output = ()>) -> AppExit {
        futures::pin_mut!(shutdown);
        if let Either::Left((reason, _)) = futures::future::select(&mut self.down, shutdown).await {
            return AppExit::Failed(reason);
        }
        self.stop().await
    }

    /// Stops the tree now, gracefully (children in reverse start order, each by its shutdown
    /// policy, the whole within the overall limit), and says how it ended.
    pub async fn stop(mut self) -> AppExit {
        tracing::info!(target: "beamish_supervisor", supervisor = %self.sup.pid(), "application stopping");
        // The stop request goes through the mailbox; the monitor sees the end.
        self.sup.request_stop(Exit::Shutdown);
        let reason = match self.limit {
            None => self.down.await,
            Some(limit) => match tokio::time::timeout(limit, &mut self.down).await {
                Ok(r) => r,
                Err(_) => {
                    self.node.exit(self.sup.pid(), Exit::Kill);
                    self.down.await;
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

#[cfg(feature = "signals")]
impl Application {
    /// Runs until the OS process gets SIGTERM or Ctrl-C (SIGINT), then stops the tree
    /// gracefully; `main` returns [`AppExit::exit_code`] so the exit status tells whether the
    /// stop was clean. The signal handlers are installed before the tree starts, so a signal
    /// that arrives while it starts is not missed. Needs the `signals` feature.
    pub async fn run_until_signal(self, node: &Node) -> AppExit {
        let signals = ShutdownSignals::install();
        self.run(node, signals.wait()).await
    }
}

/// SIGTERM and Ctrl-C, installed eagerly.
#[cfg(feature = "signals")]
struct ShutdownSignals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
}

#[cfg(feature = "signals")]
impl ShutdownSignals {
    fn install() -> ShutdownSignals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let term = signal(SignalKind::terminate())
                .inspect_err(|e| tracing::warn!(target: "beamish_supervisor", error = %e, "cannot watch SIGTERM"))
                .ok();
            let int = signal(SignalKind::interrupt())
                .inspect_err(|e| tracing::warn!(target: "beamish_supervisor", error = %e, "cannot watch SIGINT"))
                .ok();
            ShutdownSignals { term, int }
        }
        #[cfg(not(unix))]
        {
            ShutdownSignals {}
        }
    }

    async fn wait(self) {
        #[cfg(unix)]
        {
            let ShutdownSignals { term, int } = self;
            let recv = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let (t, i) = (recv(term), recv(int));
            futures::pin_mut!(t, i);
            futures::future::select(t, i).await;
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
