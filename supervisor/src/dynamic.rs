//! The dynamic supervisor (Elixir's `DynamicSupervisor`): children started on demand, one for
//! one, shut down all at once.

use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use beamish_process::{CallError, Ctx, Exit, Kind, Message, Node, Pid};
use tokio::sync::oneshot;

use crate::core::{
    Child, Event, Rng, Timers, next_event, now_std, report, shutdown_child, shutdown_concurrently,
};
use crate::emit;
use crate::error::{StartChildError, SupervisorStartError, TerminateChildError};
use crate::info::{ChildCounts, ChildInfo, ChildStatus, Describe, Flavor, SupervisionTree};
use crate::request::{ChildRef, Handle, Request};
use crate::restarts::{Restarts, Subscribers};
use crate::spec::{ChildSpec, Linker, start_one};
use crate::supervisor::{check_spec, count, register, trapping};
use crate::types::{AutoShutdown, ChildKind, DEFAULT_INTENSITY, DEFAULT_PERIOD, Started};
use crate::window::RestartWindow;

/// A dynamic supervisor: no children at start, children added with
/// [`start_child`](DynamicSupervisorRef::start_child), strategy one for one (R-DS-1).
///
/// `A` is the type of its *extra arguments* (Elixir's `:extra_arguments`, R-DS-5): a value
/// given once to the supervisor and handed, cloned, to the start function of every child it
/// starts or restarts, before the child's own arguments (which the child's start function
/// captured, and which a restart reuses). With no extra arguments, `A = ()`.
///
/// At termination every child is sent its shutdown signal at once and each one still running
/// when its own timeout runs out is killed (R-DS-4), so stopping the supervisor takes as long
/// as its slowest child, not the sum.
pub struct DynamicSupervisor<A = ()> {
    intensity: u32,
    period: Duration,
    max_children: Option<usize>,
    name: Option<Arc<str>>,
    extra: A,
}

impl<A: Clone> Clone for DynamicSupervisor<A> {
    fn clone(&self) -> Self {
        DynamicSupervisor {
            intensity: self.intensity,
            period: self.period,
            max_children: self.max_children,
            name: self.name.clone(),
            extra: self.extra.clone(),
        }
    }
}

impl<A> fmt::Debug for DynamicSupervisor<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamicSupervisor")
            .field("intensity", &self.intensity)
            .field("period", &self.period)
            .field("max_children", &self.max_children)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl DynamicSupervisor<()> {
    /// A dynamic supervisor with no extra arguments, intensity 3 in 5 s and no child limit.
    pub fn new() -> DynamicSupervisor<()> {
        DynamicSupervisor::with_extra_arguments(())
    }
}

impl Default for DynamicSupervisor<()> {
    fn default() -> Self {
        DynamicSupervisor::new()
    }
}

impl<A: Clone + Send + Sync + 'static> DynamicSupervisor<A> {
    /// A dynamic supervisor whose children's start functions all receive `extra` first
    /// (R-DS-5).
    pub fn with_extra_arguments(extra: A) -> DynamicSupervisor<A> {
        DynamicSupervisor {
            intensity: DEFAULT_INTENSITY,
            period: DEFAULT_PERIOD,
            max_children: None,
            name: None,
            extra,
        }
    }

    /// Allows at most `intensity` restarts in any `period` (`max_restarts`, `max_seconds`).
    pub fn intensity(mut self, intensity: u32, period: Duration) -> Self {
        self.intensity = intensity;
        self.period = period;
        self
    }

    /// Sets the intensity alone (Elixir's `max_restarts:`, default 3), keeping the period.
    pub fn max_restarts(mut self, n: u32) -> Self {
        self.intensity = n;
        self
    }

    /// Sets the period alone (Elixir's `max_seconds:`, default 5 s), keeping the intensity.
    pub fn max_seconds(mut self, period: Duration) -> Self {
        self.period = period;
        self
    }

    /// Registers the supervisor under `name` on its node when it starts (Elixir's `name:`),
    /// so that [`DynamicSupervisorRef::whereis`] finds it, and finds its restarted successor
    /// under the same name (the name is released before its exit signals go out, R-LNK-2).
    /// A name already taken fails the start with [`SupervisorStartError::AlreadyStarted`].
    pub fn name(mut self, name: impl Into<Arc<str>>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Refuses `start_child` with [`StartChildError::MaxChildren`] while this many children
    /// are supervised (R-DS-2).
    pub fn max_children(mut self, n: usize) -> Self {
        self.max_children = Some(n);
        self
    }

    /// This supervisor as a child of another supervisor, of kind [`ChildKind::Supervisor`].
    /// Its handle is made at each (re)start inside the parent; to reach it, give it a
    /// [`name`](Self::name) and use [`DynamicSupervisorRef::whereis`] (which always names the
    /// current instance), or [`DynamicSupervisorRef::from_pid`] with the pid from the
    /// parent's `which_children`.
    pub fn into_child_spec(self, id: impl Into<Arc<str>>) -> ChildSpec {
        ChildSpec::new(id, move |linker| {
            let sup = self.clone();
            Box::pin(async move {
                let r = sup.start_link(&linker.ctx).await?;
                Ok(Started::Running(r.pid()))
            })
        })
        .kind(ChildKind::Supervisor)
    }

    /// Starts the supervisor from outside any process (unlinked).
    pub async fn start(self, node: &Node) -> Result<DynamicSupervisorRef<A>, SupervisorStartError> {
        let (tx, rx) = oneshot::channel();
        let addr = node.spawn_kind(Kind::Supervisor, trapping(), move |ctx| run(self, ctx, tx))?;
        finish(node, addr, rx).await
    }

    /// Starts the supervisor linked to the process `ctx` belongs to, its parent.
    pub async fn start_link<M: Send + 'static>(
        self,
        ctx: &Ctx<M>,
    ) -> Result<DynamicSupervisorRef<A>, SupervisorStartError> {
        let (tx, rx) = oneshot::channel();
        let addr = ctx.spawn_kind(Kind::Supervisor, trapping(), true, move |c| {
            run(self, c, tx)
        })?;
        finish(ctx.node(), addr, rx).await
    }
}

impl Linker {
    /// Starts a dynamic supervisor linked to this linker's supervisor.
    pub async fn start_dynamic_supervisor<A: Clone + Send + Sync + 'static>(
        &self,
        sup: DynamicSupervisor<A>,
    ) -> Result<DynamicSupervisorRef<A>, SupervisorStartError> {
        sup.start_link(&self.ctx).await
    }
}

async fn finish<A>(
    node: &Node,
    addr: beamish_process::Addr<Request>,
    rx: oneshot::Receiver<Result<(), SupervisorStartError>>,
) -> Result<DynamicSupervisorRef<A>, SupervisorStartError> {
    let handle = Handle {
        addr,
        node: node.clone(),
    };
    match rx.await {
        Ok(Ok(())) => Ok(DynamicSupervisorRef {
            handle,
            _extra: PhantomData,
        }),
        Ok(Err(e)) => {
            node.monitor(handle.pid()).await;
            Err(e)
        }
        Err(_) => Err(SupervisorStartError::Exit(node.monitor(handle.pid()).await)),
    }
}

/// A handle to a running dynamic supervisor whose children take extra arguments of type `A`.
pub struct DynamicSupervisorRef<A = ()> {
    handle: Handle,
    _extra: PhantomData<fn(A)>,
}

impl<A> Clone for DynamicSupervisorRef<A> {
    fn clone(&self) -> Self {
        DynamicSupervisorRef {
            handle: self.handle.clone(),
            _extra: PhantomData,
        }
    }
}

impl<A> fmt::Debug for DynamicSupervisorRef<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DynamicSupervisorRef({})", self.handle.pid())
    }
}

impl<A: Clone + Send + Sync + 'static> DynamicSupervisorRef<A> {
    /// A handle to the dynamic supervisor running as `pid`, if there is a supervisor there.
    /// The extra-argument type `A` is not checked here (it is not in the pid):
    /// [`start_child`](Self::start_child) with a spec of another `A` fails with
    /// [`StartChildError::InvalidChildSpec`].
    pub fn from_pid(node: &Node, pid: Pid) -> Option<DynamicSupervisorRef<A>> {
        let addr = node.addr::<Request>(pid)?;
        Some(DynamicSupervisorRef {
            handle: Handle {
                addr,
                node: node.clone(),
            },
            _extra: PhantomData,
        })
    }

    /// A handle to the dynamic supervisor registered under `name` on `node`
    /// ([`DynamicSupervisor::name`]), if there is one; as [`from_pid`](Self::from_pid).
    pub fn whereis(node: &Node, name: &str) -> Option<DynamicSupervisorRef<A>> {
        DynamicSupervisorRef::from_pid(node, node.whereis(name)?)
    }

    /// Subscribes to the supervisor's restarts (see [`SupervisorRef::restarts`]); a child is
    /// best awaited by the pid it had, with [`Restarts::of_pid`].
    ///
    /// [`SupervisorRef::restarts`]: crate::SupervisorRef::restarts
    pub async fn restarts(&self) -> Result<Restarts, CallError> {
        self.handle.restarts().await
    }

    /// The supervisor's pid.
    pub fn pid(&self) -> Pid {
        self.handle.pid()
    }

    /// Whether the supervisor is running.
    pub fn is_alive(&self) -> bool {
        self.handle.addr.is_alive()
    }

    /// Starts a child from `spec`, its start function given the supervisor's extra arguments
    /// (R-DS-5). Fails with [`StartChildError::MaxChildren`], spawning nothing, at the limit
    /// (R-DS-2). A child that answers [`Started::Ignore`] is not kept. The spec's id is only
    /// for reports: children of a dynamic supervisor are known by pid.
    pub async fn start_child(&self, spec: ChildSpec<A>) -> Result<Started, StartChildError> {
        self.handle
            .call(|tx| Request::Start(Box::new(spec), tx))
            .await?
    }

    /// Stops the child `pid` by its shutdown policy and forgets it; `NotFound` if this
    /// supervisor does not supervise it (R-DS-3).
    pub async fn terminate_child(&self, pid: Pid) -> Result<(), TerminateChildError> {
        self.handle
            .call(|tx| Request::Terminate(ChildRef::Pid(pid), tx))
            .await?
    }

    /// The children, in no particular order; their ids are `None` (R-DS-1).
    pub async fn which_children(&self) -> Result<Vec<ChildInfo>, CallError> {
        Ok(self.handle.call(Request::Describe).await?.children)
    }

    /// How many children, running children, supervisors and workers.
    pub async fn count_children(&self) -> Result<ChildCounts, CallError> {
        self.handle.call(Request::Count).await
    }

    /// Stops the supervisor with `reason`, its children all at once (R-DS-4). Waits for the
    /// exit. The default reason, as Elixir's `DynamicSupervisor.stop/1`, is `normal`:
    /// `sup.stop(Exit::Normal)`.
    pub async fn stop(&self, reason: Exit) -> Result<(), CallError> {
        self.handle.stop(reason).await
    }

    /// The supervision tree below this supervisor.
    pub async fn tree(&self) -> Result<SupervisionTree, CallError> {
        self.handle.tree().await
    }
}

struct State<A> {
    linker: Linker,
    window: RestartWindow,
    intensity: u32,
    max_children: Option<usize>,
    extra: A,
    /// Children by key; `by_pid` finds the key of a running child.
    children: HashMap<u64, Child<A>>,
    by_pid: HashMap<Pid, u64>,
    next_key: u64,
    timers: Timers,
    rng: Rng,
    subscribers: Subscribers,
}

async fn run<A: Clone + Send + Sync + 'static>(
    sup: DynamicSupervisor<A>,
    ctx: Ctx<Request>,
    started: oneshot::Sender<Result<(), SupervisorStartError>>,
) -> Exit {
    let mut st = State {
        linker: Linker { ctx },
        window: RestartWindow::new(sup.intensity, sup.period),
        intensity: sup.intensity,
        max_children: sup.max_children,
        extra: sup.extra,
        children: HashMap::new(),
        by_pid: HashMap::new(),
        next_key: 0,
        timers: Timers::default(),
        rng: Rng::new(),
        subscribers: Subscribers::default(),
    };
    if let Some(name) = &sup.name
        && let Err(e) = register(&st.linker.ctx, name)
    {
        let _ = started.send(Err(e));
        return Exit::Normal;
    }
    let _ = started.send(Ok(()));
    // A supervisor started from outside any process has the node as its parent: an exit
    // signal sent with `Node::exit` stops it as its parent's would.
    let parent = st
        .linker
        .ctx
        .parent()
        .unwrap_or_else(|| st.linker.ctx.node().pid());
    loop {
        let event = next_event(&mut st.linker.ctx, &mut st.timers).await;
        let outcome = match event {
            Event::Timer(key) => match st.children.get_mut(&key) {
                Some(c) if c.waiting.is_some() => {
                    c.waiting = None;
                    st.restart(key).await
                }
                _ => None,
            },
            Event::Msg(Message::Exit(e)) => {
                if e.from == parent {
                    st.terminate_all().await;
                    Some(e.reason)
                } else {
                    st.child_exited(e.from, e.reason).await
                }
            }
            Event::Msg(Message::Down(_)) => None,
            Event::Msg(Message::Msg(req)) => st.handle(req).await,
        };
        if let Some(reason) = outcome {
            return reason;
        }
    }
}

impl<A: Clone + Send + Sync + 'static> State<A> {
    fn pid(&self) -> Pid {
        self.linker.pid()
    }

    async fn terminate_all(&mut self) {
        self.timers.clear();
        let running: Vec<_> = self
            .children
            .values()
            .filter_map(|c| c.status.pid().map(|p| (p, c.spec.shutdown_policy())))
            .collect();
        self.children.clear();
        self.by_pid.clear();
        shutdown_concurrently(&mut self.linker.ctx, running).await;
    }

    async fn child_exited(&mut self, pid: Pid, reason: Exit) -> Option<Exit> {
        let key = self.by_pid.remove(&pid)?;
        let me = self.pid();
        let child = self.children.get_mut(&key)?;
        let restart = child.restarts_after(&reason);
        let node = self.linker.ctx.node();
        emit::child_exited(node, me, &child.spec.id, pid, &reason, restart);
        report::child_terminated(node, me, &child.spec.id, pid, &reason, child.spec.restart);
        if !restart {
            self.children.remove(&key);
            return None;
        }
        child.status = ChildStatus::Restarting;
        if let Some(wait) = child.next_backoff(&mut self.rng) {
            child.waiting = Some(wait);
            emit::backoff_scheduled(node, me, &child.spec.id, wait, child.attempt);
            self.timers.push(tokio::time::Instant::now() + wait, key);
            return None;
        }
        self.restart(key).await
    }

    /// Restarts one child with the supervisor's extra arguments; counts toward the intensity
    /// and retries a failed start through the mailbox (R-SUP-INT, R-SUP-RETRY, R-DS-4).
    async fn restart(&mut self, key: u64) -> Option<Exit> {
        if !self.window.add(now_std()) {
            report::reached_max_restart_intensity(self.pid(), None);
            if let Some(c) = self.children.get(&key) {
                let node = self.linker.ctx.node();
                let period = self.window.period();
                emit::intensity_reached(node, self.pid(), &c.spec.id, self.intensity, period);
            }
            self.terminate_all().await;
            return Some(Exit::Shutdown);
        }
        let child = self.children.get(&key)?;
        match start_one(&self.linker, &child.spec, self.extra.clone()).await {
            Ok(Started::Running(pid)) => {
                let c = self.children.get_mut(&key)?;
                c.restarted(pid, &self.linker.ctx, &mut self.subscribers);
                self.by_pid.insert(pid, key);
            }
            // As Elixir's DynamicSupervisor: a child that ignores its restart is forgotten.
            Ok(Started::Ignore) => {
                self.children.remove(&key);
            }
            Err(reason) => {
                report::start_error(self.linker.node(), self.pid(), &child.spec.id, &reason);
                let _ = self.linker.ctx.addr().send(Request::TryAgain(key));
            }
        }
        None
    }

    async fn handle(&mut self, req: Request) -> Option<Exit> {
        match req {
            Request::Describe(tx) => {
                let _ = tx.send(Describe {
                    flavor: Flavor::Dynamic,
                    intensity: self.intensity,
                    period: self.window.period(),
                    children: self.children.values().map(|c| c.info(false)).collect(),
                });
            }
            Request::Count(tx) => {
                let _ = tx.send(count(self.children.values()));
            }
            Request::Terminate(r, tx) => {
                let found = match r {
                    ChildRef::Pid(pid) => self.by_pid.remove(&pid),
                    ChildRef::Id(_) => None,
                };
                let res = match found.and_then(|k| self.children.remove(&k)) {
                    Some(c) => {
                        if let ChildStatus::Running(pid) = c.status {
                            shutdown_child(
                                &mut self.linker.ctx,
                                None,
                                pid,
                                c.spec.shutdown_policy(),
                            )
                            .await;
                        }
                        Ok(())
                    }
                    None => Err(TerminateChildError::NotFound),
                };
                let _ = tx.send(res);
            }
            Request::Restart(_, tx) => {
                let _ = tx.send(Err(crate::error::RestartChildError::NotFound));
            }
            Request::Delete(_, tx) => {
                let _ = tx.send(Err(crate::error::DeleteChildError::NotFound));
            }
            Request::Start(spec, tx) => {
                let res = match spec.downcast::<ChildSpec<A>>() {
                    Ok(spec) => self.start_new(*spec).await,
                    Err(_) => Err(StartChildError::InvalidChildSpec(
                        "the spec's extra-argument type is not the supervisor's",
                    )),
                };
                let _ = tx.send(res);
            }
            Request::Stop(reason) => {
                self.terminate_all().await;
                return Some(reason);
            }
            Request::Subscribe(tx, ack) => {
                self.subscribers.add(tx);
                let _ = ack.send(());
            }
            Request::TryAgain(key) => {
                if self
                    .children
                    .get(&key)
                    .is_some_and(|c| c.status == ChildStatus::Restarting && c.waiting.is_none())
                {
                    return self.restart(key).await;
                }
            }
        }
        None
    }

    async fn start_new(&mut self, spec: ChildSpec<A>) -> Result<Started, StartChildError> {
        if self
            .max_children
            .is_some_and(|max| self.children.len() >= max)
        {
            return Err(StartChildError::MaxChildren);
        }
        if spec.significant {
            return Err(StartChildError::InvalidChildSpec(
                "a dynamic supervisor has no significant children",
            ));
        }
        check_spec(&spec, AutoShutdown::Never).map_err(StartChildError::InvalidChildSpec)?;
        match start_one(&self.linker, &spec, self.extra.clone()).await {
            Ok(Started::Running(pid)) => {
                self.next_key += 1;
                let key = self.next_key;
                self.children
                    .insert(key, Child::new(key, spec, ChildStatus::Running(pid)));
                self.by_pid.insert(pid, key);
                Ok(Started::Running(pid))
            }
            Ok(Started::Ignore) => Ok(Started::Ignore),
            Err(r) => Err(StartChildError::Failed(r)),
        }
    }
}
