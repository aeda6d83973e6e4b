//! The dynamic supervisor (Elixir's `DynamicSupervisor`): children started on demand, one for
//! one, shut down all at once.

use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use beamish_process::{CallError, Ctx, Exit, Kind, Node, Pid};
use tokio::sync::oneshot;

use crate::core::{Child, shutdown_concurrently};
use crate::error::{StartChildError, SupervisorStartError, TerminateChildError};
use crate::info::{ChildCounts, ChildInfo, Flavor, SupervisionTree};
use crate::request::{ChildRef, Handle, Request};
use crate::restarts::Restarts;
use crate::run_loop::{self, Flavour, Sup};
use crate::spec::{ChildSpec, Linker};
use crate::supervisor::trapping;
use crate::types::{AutoShutdown, ChildKind, DEFAULT_INTENSITY, DEFAULT_PERIOD, Started};

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
        let addr = node
            .build()
            .kind(Kind::Supervisor)
            .opts(trapping())
            .spawn(move |ctx| run(self, ctx, tx))?;
        finish(node, addr, rx).await
    }

    /// Starts the supervisor linked to the process `ctx` belongs to, its parent.
    pub async fn start_link<M: Send + 'static>(
        self,
        ctx: &Ctx<M>,
    ) -> Result<DynamicSupervisorRef<A>, SupervisorStartError> {
        let (tx, rx) = oneshot::channel();
        let addr = ctx
            .build()
            .link()
            .kind(Kind::Supervisor)
            .opts(trapping())
            .spawn(move |c| run(self, c, tx))?;
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
    let handle = Handle::started(node, addr, rx).await?;
    Ok(DynamicSupervisorRef {
        handle,
        _extra: PhantomData,
    })
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
        let handle = Handle::at(node, pid)?;
        Some(DynamicSupervisorRef {
            handle,
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

/// The dynamic flavour's part of the supervisor's state: its children, found by key (timers
/// and retries name a key) and by pid (exits and `terminate_child` name a pid).
struct Dynamic<A> {
    max_children: Option<usize>,
    extra: A,
    children: HashMap<u64, Child<A>>,
    /// The key of every running child.
    by_pid: HashMap<Pid, u64>,
}

/// The supervisor's body (see [`run_loop::run`]).
async fn run<A: Clone + Send + Sync + 'static>(
    sup: DynamicSupervisor<A>,
    ctx: Ctx<Request>,
    started: oneshot::Sender<Result<(), SupervisorStartError>>,
) -> Exit {
    let flavour = Dynamic {
        max_children: sup.max_children,
        extra: sup.extra,
        children: HashMap::new(),
        by_pid: HashMap::new(),
    };
    let st = Sup::new(ctx, sup.intensity, sup.period, flavour);
    run_loop::run(st, sup.name, started).await
}

impl<A: Clone + Send + Sync + 'static> Flavour for Dynamic<A> {
    type Extra = A;
    const NAMED: bool = false;
    const KEEPS_STOPPED: bool = false;
    const WRONG_SPEC: &'static str = "the spec's extra-argument type is not the supervisor's";

    fn flavor(&self) -> Flavor {
        Flavor::Dynamic
    }

    fn extra(&self) -> A {
        self.extra.clone()
    }

    fn children(&self) -> impl Iterator<Item = &Child<A>> {
        self.children.values()
    }

    fn child(&self, key: u64) -> Option<&Child<A>> {
        self.children.get(&key)
    }

    fn child_mut(&mut self, key: u64) -> Option<&mut Child<A>> {
        self.children.get_mut(&key)
    }

    /// Children are known by pid only (R-DS-1, R-DS-3).
    fn key_of(&self, r: &ChildRef) -> Option<u64> {
        match r {
            ChildRef::Pid(pid) => self.by_pid.get(pid).copied(),
            ChildRef::Id(_) => None,
        }
    }

    fn insert(&mut self, child: Child<A>) {
        if let Some(pid) = child.status.pid() {
            self.by_pid.insert(pid, child.key);
        }
        self.children.insert(child.key, child);
    }

    fn remove(&mut self, key: u64) {
        self.children.remove(&key);
    }

    fn running(&mut self, key: u64, pid: Pid) {
        self.by_pid.insert(pid, key);
    }

    fn not_running(&mut self, pid: Pid) {
        self.by_pid.remove(&pid);
    }

    fn admit(&self, spec: &ChildSpec<A>) -> Result<(), StartChildError> {
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
        spec.check(AutoShutdown::Never)
            .map_err(StartChildError::InvalidChildSpec)
    }

    /// No children at start (R-DS-1).
    async fn init(_: &mut Sup<Self>) -> Result<(), SupervisorStartError> {
        Ok(())
    }

    /// All at once (R-DS-4).
    async fn terminate_all(sup: &mut Sup<Self>) {
        let running: Vec<_> = sup
            .flavour
            .children
            .values()
            .filter_map(|c| c.status.pid().map(|p| (p, c.spec.shutdown_policy())))
            .collect();
        sup.flavour.children.clear();
        sup.flavour.by_pid.clear();
        shutdown_concurrently(&mut sup.linker.ctx, running).await;
    }

    /// One for one: the child alone, with the supervisor's extra arguments (R-DS-4).
    async fn restart_group(sup: &mut Sup<Self>, key: u64) {
        sup.start_again(key).await;
    }

    /// One for one: no siblings go with it.
    async fn stop_group(_: &mut Sup<Self>, _: u64) {}
}
