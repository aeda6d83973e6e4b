//! Child specifications: how to start a child, when to restart it, how to stop it.

use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use beamish_process::{
    Addr, Ctx, Exit, FromProcess, GenServer, IntoExit, Message, Node, Pid, ServerRef, SpawnBuilder,
    SpawnError, SpawnOpts, StartError,
};
use futures::FutureExt;

use crate::request::Request;
use crate::types::{AutoShutdown, ChildKind, DEFAULT_WORKER_SHUTDOWN, Restart, Shutdown, Started};

/// What a start function returns: the child, `Ignore`, or why it could not start.
pub type StartResult = Result<Started, Exit>;

/// The future a start function returns. It runs inside the supervisor, which waits for it (as
/// OTP's supervisor waits for `start_link`), and it may borrow the [`Linker`].
pub type StartFuture<'a> = Pin<Box<dyn Future<Output = StartResult> + Send + 'a>>;

type StartFn<A> = Arc<dyn for<'a> Fn(&'a Linker, A) -> StartFuture<'a> + Send + Sync>;

/// What a start function starts children with: the supervisor's own context, so that each
/// child is linked to the supervisor from its first instant (`spawn_link`, `start_link`) and
/// sees the supervisor as its parent (R-GS-7).
pub struct Linker {
    pub(crate) ctx: Ctx<Request>,
}

impl fmt::Debug for Linker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Linker")
            .field("supervisor", &self.pid())
            .finish()
    }
}

impl Linker {
    /// The supervisor's pid.
    pub fn pid(&self) -> Pid {
        self.ctx.pid()
    }

    /// The node the supervisor runs on.
    pub fn node(&self) -> &Node {
        self.ctx.node()
    }

    /// Spawns a process linked to the supervisor.
    pub fn spawn_link<N, F, Fut>(&self, body: F) -> Result<Addr<N>, SpawnError>
    where
        N: Send + 'static,
        F: FnOnce(Ctx<N>) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoExit,
    {
        self.ctx.build().link().spawn(body)
    }

    /// A [`SpawnBuilder`] for a child linked to the supervisor, for any other option
    /// (`linker.build().capacity(..).spawn(body)`); it is already linked.
    pub fn build(&self) -> SpawnBuilder<'_, FromProcess> {
        self.ctx.build().link()
    }

    /// Starts a [`GenServer`] linked to the supervisor and waits for its `init`.
    pub async fn start_link<S: GenServer>(&self, server: S) -> Result<ServerRef<S>, StartError> {
        self.ctx.start_link(server).await
    }

    /// Starts a [`GenServer`] linked to the supervisor, with options (`trap_exit`, so that its
    /// `terminate` runs at shutdown, R-GS-7).
    pub async fn start_link_with<S: GenServer>(
        &self,
        opts: SpawnOpts,
        server: S,
    ) -> Result<ServerRef<S>, StartError> {
        self.ctx.start_link_with(opts, server).await
    }
}

/// Exponential restart backoff with jitter and a cap (beyond OTP).
///
/// A child with a backoff is not restarted at once: its `n`-th consecutive restart waits
/// `min(max, initial * 2^n)`, shortened or lengthened at random by up to `jitter` of itself.
/// Restarts are consecutive while each instance lived less than `reset_after` (default: `max`);
/// a child that stayed up that long starts again from `initial`.
///
/// While a child waits the supervisor stays responsive: it answers calls and handles other
/// children's exits. Under `OneForAll` and `RestForOne` the siblings are stopped at once and
/// restarted with the child when the wait ends. The delayed restart counts toward the
/// supervisor's intensity when it happens, not when the child died: so a backoff longer than
/// the period spreads restarts out and keeps a flapping child from tripping the intensity,
/// while a burst of different children failing together still does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub(crate) initial: Duration,
    pub(crate) max: Duration,
    pub(crate) jitter: f64,
    pub(crate) reset_after: Option<Duration>,
}

impl Backoff {
    /// Waits of `initial`, doubling up to `max`, with no jitter.
    pub fn new(initial: Duration, max: Duration) -> Backoff {
        Backoff {
            initial,
            max: max.max(initial),
            jitter: 0.0,
            reset_after: None,
        }
    }

    /// Randomises each wait by up to this fraction of itself either way (clamped to `0..=1`).
    pub fn jitter(mut self, fraction: f64) -> Backoff {
        self.jitter = fraction.clamp(0.0, 1.0);
        self
    }

    /// How long an instance must live for its next failure to count as the first again.
    pub fn reset_after(mut self, d: Duration) -> Backoff {
        self.reset_after = Some(d);
        self
    }

    /// The wait before the `attempt`-th consecutive restart (0-based), given a uniform random
    /// number `r` in `[0, 1)`.
    pub fn delay(&self, attempt: u32, r: f64) -> Duration {
        let base = self
            .initial
            .checked_mul(1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX))
            .unwrap_or(self.max)
            .min(self.max);
        let spread = self.jitter * (2.0 * r - 1.0);
        base.mul_f64((1.0 + spread).max(0.0)).min(self.max)
    }

    pub(crate) fn reset_window(&self) -> Duration {
        self.reset_after.unwrap_or(self.max)
    }
}

/// A child specification (OTP's child spec map): an id, a start function, and the policies
/// for restarting and stopping the child.
///
/// `A` is the type of the *extra arguments* a [`DynamicSupervisor`](crate::DynamicSupervisor)
/// hands to every child it starts (Elixir's `:extra_arguments`, R-DS-5); a static supervisor's
/// children take none (`A = ()`). The child's own arguments are whatever its start function
/// captured, so a restart reuses them.
pub struct ChildSpec<A = ()> {
    pub(crate) id: Arc<str>,
    pub(crate) start: StartFn<A>,
    pub(crate) restart: Restart,
    pub(crate) shutdown: Option<Shutdown>,
    pub(crate) kind: ChildKind,
    pub(crate) significant: bool,
    pub(crate) backoff: Option<Backoff>,
    /// Made by a `*_once` constructor: it can start only once, so it must be temporary.
    pub(crate) once: bool,
}

impl<A> Clone for ChildSpec<A> {
    fn clone(&self) -> Self {
        ChildSpec {
            id: self.id.clone(),
            start: self.start.clone(),
            restart: self.restart,
            shutdown: self.shutdown,
            kind: self.kind,
            significant: self.significant,
            backoff: self.backoff,
            once: self.once,
        }
    }
}

impl<A> fmt::Debug for ChildSpec<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildSpec")
            .field("id", &self.id)
            .field("restart", &self.restart)
            .field("shutdown", &self.shutdown_policy())
            .field("kind", &self.kind)
            .field("significant", &self.significant)
            .field("backoff", &self.backoff)
            .finish()
    }
}

impl ChildSpec<()> {
    /// A child started by `start`, which must start a process linked to the supervisor
    /// (through the [`Linker`]) and return its pid, [`Started::Ignore`], or an error.
    ///
    /// ```
    /// use beamish_process::{Ctx, Exit};
    /// use beamish_supervisor::{ChildSpec, Started};
    ///
    /// let spec = ChildSpec::new("worker", |linker| {
    ///     Box::pin(async move {
    ///         let addr = linker.spawn_link(|mut ctx: Ctx<()>| async move {
    ///             ctx.recv().await;
    ///         })?;
    ///         Ok(Started::Running(addr.pid()))
    ///     })
    /// });
    /// assert_eq!(spec.id(), "worker");
    /// ```
    pub fn new<F>(id: impl Into<Arc<str>>, start: F) -> ChildSpec<()>
    where
        F: for<'a> Fn(&'a Linker) -> StartFuture<'a> + Send + Sync + 'static,
    {
        ChildSpec::with_args(id, move |linker, ()| start(linker))
    }

    /// A child that is a plain process running `body`, spawned linked to the supervisor
    /// afresh at every (re)start.
    pub fn process<M, F, Fut>(id: impl Into<Arc<str>>, body: F) -> ChildSpec<()>
    where
        M: Send + 'static,
        F: Fn(Ctx<M>) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoExit,
    {
        let body = Arc::new(body);
        ChildSpec::new(id, move |linker| {
            let body = body.clone();
            Box::pin(async move {
                let addr = linker.spawn_link(move |ctx| body(ctx))?;
                Ok(Started::Running(addr.pid()))
            })
        })
    }

    /// A child that is a [`GenServer`], made afresh by `make` at every (re)start and started
    /// linked to the supervisor (its `init` runs before the supervisor moves on).
    pub fn server<S, F>(id: impl Into<Arc<str>>, make: F) -> ChildSpec<()>
    where
        S: GenServer,
        F: Fn() -> S + Send + Sync + 'static,
    {
        ChildSpec::new(id, move |linker| {
            let server = make();
            Box::pin(async move {
                let r = linker.start_link(server).await?;
                Ok(Started::Running(r.pid()))
            })
        })
    }
}

impl ChildSpec<()> {
    /// A child that is a plain process running `body` with `value` moved into it: for a child
    /// that owns something it cannot make twice, such as a bound socket (Rust's `FnOnce`; no
    /// `Mutex<Option<_>>` needed).
    ///
    /// OTP restarts a child from its spec, and this spec can start a process only once, so it
    /// is [`Restart::Temporary`]: never restarted, its spec dropped when it ends (R-SUP-RT).
    /// Setting another restart type makes the spec invalid (the supervisor refuses it). A
    /// child that must come back after a crash takes a factory instead: [`process`](Self::process)
    /// with a body that makes the resource (binds the socket) at each start.
    ///
    /// ```
    /// use beamish_process::{Ctx, Node};
    /// use beamish_supervisor::{ChildSpec, Restart, Strategy, Supervisor};
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let node = Node::start_default()?;
    /// let socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// let port = socket.local_addr()?.port();
    /// let spec = ChildSpec::process_once("udp", socket, |mut ctx: Ctx<()>, socket| async move {
    ///     ctx.recv().await; // owns `socket` until told to stop
    ///     drop(socket);
    /// });
    /// assert_eq!(spec.restart_type(), Restart::Temporary);
    /// let sup = Supervisor::new(Strategy::OneForOne).child(spec).start(&node).await?;
    /// assert!(std::net::UdpSocket::bind(("127.0.0.1", port)).is_err()); // still held
    /// # sup.stop(beamish_process::Exit::Normal).await?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn process_once<M, T, F, Fut>(id: impl Into<Arc<str>>, value: T, body: F) -> ChildSpec<()>
    where
        M: Send + 'static,
        T: Send + 'static,
        F: FnOnce(Ctx<M>, T) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoExit,
    {
        let slot = Mutex::new(Some((value, body)));
        let mut spec = ChildSpec::new(id, move |linker| {
            let taken = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
            Box::pin(async move {
                let (value, body) = taken.ok_or_else(already_used)?;
                let addr = linker.spawn_link(move |ctx| body(ctx, value))?;
                Ok(Started::Running(addr.pid()))
            })
        })
        .restart(Restart::Temporary);
        spec.once = true;
        spec
    }

    /// A child that is this [`GenServer`] value, started once (see
    /// [`process_once`](Self::process_once): temporary, for a server that owns what it
    /// cannot make twice). A server that must be restarted takes a factory:
    /// [`server`](Self::server).
    pub fn server_once<S: GenServer>(id: impl Into<Arc<str>>, server: S) -> ChildSpec<()> {
        let slot = Mutex::new(Some(server));
        let mut spec = ChildSpec::new(id, move |linker| {
            let taken = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
            Box::pin(async move {
                let server = taken.ok_or_else(already_used)?;
                let r = linker.start_link(server).await?;
                Ok(Started::Running(r.pid()))
            })
        })
        .restart(Restart::Temporary);
        spec.once = true;
        spec
    }

    /// A child that stands, in the tree, for processes that something else started and owns
    /// (a [`Registry`]'s partition watchers, say): a process linked to the supervisor that
    /// monitors every pid `processes` gives at its start and ends, with an error naming the
    /// one that ended and its reason, as soon as any of them ends. So the supervisor hears of
    /// the failure (a report, a restart counted); the restart checks the processes again, and
    /// fails to start (`start_error`, retried, R-SUP-RETRY) while one of them is gone, so a
    /// broken service escalates past the intensity instead of failing unseen. Stopping this
    /// child does not stop the processes it stands for.
    ///
    /// [`Registry`]: https://docs.rs/beamish-registry
    pub fn stand_in<F>(id: impl Into<Arc<str>>, processes: F) -> ChildSpec<()>
    where
        F: Fn() -> Vec<Pid> + Send + Sync + 'static,
    {
        let id: Arc<str> = id.into();
        let name = id.clone();
        ChildSpec::new(id, move |linker| {
            let pids = processes();
            let name = name.clone();
            Box::pin(async move {
                let node = linker.node();
                if let Some(dead) = pids.iter().find(|p| !node.is_alive(**p)) {
                    return Err(Exit::error(format_args!(
                        "{name}: process {dead} is not running"
                    )));
                }
                let addr = linker.spawn_link(move |mut ctx: Ctx<()>| async move {
                    for pid in &pids {
                        ctx.monitor(*pid);
                    }
                    loop {
                        if let Message::Down(d) = ctx.recv().await {
                            return Err::<(), _>(Exit::error(format_args!(
                                "{name}: process {} ended: {}",
                                d.pid, d.reason
                            )));
                        }
                    }
                })?;
                Ok(Started::Running(addr.pid()))
            })
        })
    }
}

fn already_used() -> Exit {
    Exit::error("a once child spec was already started (it holds one value; see process_once)")
}

impl<A: Send + 'static> ChildSpec<A> {
    /// A child whose start function also takes the extra arguments of the dynamic supervisor
    /// that starts it (R-DS-5).
    pub fn with_args<F>(id: impl Into<Arc<str>>, start: F) -> ChildSpec<A>
    where
        F: for<'a> Fn(&'a Linker, A) -> StartFuture<'a> + Send + Sync + 'static,
    {
        ChildSpec {
            id: id.into(),
            start: Arc::new(start),
            restart: Restart::Permanent,
            shutdown: None,
            kind: ChildKind::Worker,
            significant: false,
            backoff: None,
            once: false,
        }
    }
}

impl<A> ChildSpec<A> {
    /// Sets the restart type (default [`Restart::Permanent`]).
    pub fn restart(mut self, restart: Restart) -> Self {
        self.restart = restart;
        self
    }

    /// Sets how the child is stopped (default: 5000 ms for a worker, `Infinity` for a
    /// supervisor).
    pub fn shutdown(mut self, shutdown: Shutdown) -> Self {
        self.shutdown = Some(shutdown);
        self
    }

    /// Sets the child's kind (default [`ChildKind::Worker`]).
    pub fn kind(mut self, kind: ChildKind) -> Self {
        self.kind = kind;
        self
    }

    /// Marks the child significant for the supervisor's
    /// [`AutoShutdown`](crate::AutoShutdown) (R-SUP-AUTO). A significant child must be
    /// transient or temporary.
    pub fn significant(mut self, significant: bool) -> Self {
        self.significant = significant;
        self
    }

    /// Delays the child's restarts with an exponential [`Backoff`].
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = Some(backoff);
        self
    }

    /// The child's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The child's restart type.
    pub fn restart_type(&self) -> Restart {
        self.restart
    }

    /// How the child is stopped, defaults applied.
    pub fn shutdown_policy(&self) -> Shutdown {
        self.shutdown.unwrap_or(match self.kind {
            ChildKind::Worker => Shutdown::Timeout(DEFAULT_WORKER_SHUTDOWN),
            ChildKind::Supervisor => Shutdown::Infinity,
        })
    }

    /// The child's kind.
    pub fn child_kind(&self) -> ChildKind {
        self.kind
    }

    /// Whether the child is significant.
    pub fn is_significant(&self) -> bool {
        self.significant
    }

    /// What is wrong with this spec under a supervisor with this auto shutdown, if anything
    /// (checked at the supervisor's start and at `start_child`).
    pub(crate) fn check(&self, auto: AutoShutdown) -> Result<(), &'static str> {
        if self.once && self.restart != Restart::Temporary {
            return Err("a once child (process_once, server_once) must be temporary");
        }
        if self.significant && self.restart == Restart::Permanent {
            return Err("a significant child must be transient or temporary");
        }
        if self.significant && auto == AutoShutdown::Never {
            return Err("a significant child needs auto_shutdown other than never");
        }
        Ok(())
    }
}

/// Runs a start function inside the supervisor; a panic in it is a start error, not the
/// supervisor's death (OTP catches a crashing start too).
pub(crate) async fn start_one<A>(linker: &Linker, spec: &ChildSpec<A>, extra: A) -> StartResult {
    let fut = match std::panic::catch_unwind(AssertUnwindSafe(|| (spec.start)(linker, extra))) {
        Ok(f) => f,
        Err(p) => return Err(panic_exit(&*p)),
    };
    let result = match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(r) => r,
        Err(p) => Err(panic_exit(&*p)),
    };
    if let Ok(Started::Running(pid)) = result {
        crate::emit::child_started(linker.node(), linker.pid(), &spec.id, pid);
    }
    result
}

fn panic_exit(payload: &(dyn std::any::Any + Send)) -> Exit {
    let msg = if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    };
    Exit::Panic(msg.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        let d: Vec<_> = (0..6).map(|n| b.delay(n, 0.5).as_millis()).collect();
        assert_eq!(d, vec![100, 200, 400, 800, 1000, 1000]);
        assert_eq!(b.delay(1000, 0.5), Duration::from_secs(1));
    }

    #[test]
    fn jitter_stays_within_its_fraction_and_the_cap() {
        let b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1)).jitter(0.5);
        assert_eq!(b.delay(0, 0.0), Duration::from_millis(50));
        assert!(b.delay(0, 0.999) < Duration::from_millis(150));
        assert_eq!(b.delay(10, 0.999), Duration::from_secs(1));
    }
}
