//! The static supervisor: an ordered list of children, a strategy, an intensity.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use beamish_process::{CallError, Ctx, Exit, Kind, Node, Pid, SpawnOpts};
use tokio::sync::oneshot;

use crate::core::{Child, report};
use crate::error::{
    DeleteChildError, RestartChildError, StartChildError, SupervisorStartError, TerminateChildError,
};
use crate::info::{ChildCounts, ChildInfo, ChildStatus, Flavor, SupervisionTree};
use crate::request::{ChildRef, Handle, Request};
use crate::restarts::Restarts;
use crate::run_loop::{self, Flavour, Sup};
use crate::spec::{ChildSpec, Linker};
use crate::types::{AutoShutdown, ChildKind, DEFAULT_INTENSITY, DEFAULT_PERIOD, Started, Strategy};

/// A static supervisor: a builder holding its strategy, intensity and children, and the
/// functions that start it. Cheap to clone (a supervisor under another supervisor is started
/// from a clone at every restart).
///
/// The supervisor is a beamish process of kind [`Kind::Supervisor`] that traps exits. It
/// starts its children in order, each linked to it; a child's exit arrives as an exit signal
/// and is handled by the strategy, restart types and intensity, as OTP's `supervisor` does.
#[derive(Clone)]
pub struct Supervisor {
    strategy: Strategy,
    intensity: u32,
    period: Duration,
    auto_shutdown: AutoShutdown,
    name: Option<Arc<str>>,
    children: Vec<ChildSpec>,
}

impl fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Supervisor")
            .field("strategy", &self.strategy)
            .field("intensity", &self.intensity)
            .field("period", &self.period)
            .field("auto_shutdown", &self.auto_shutdown)
            .field("name", &self.name)
            .field("children", &self.children)
            .finish()
    }
}

impl Supervisor {
    /// A supervisor with this strategy, intensity 3 in 5 s (Elixir's defaults), and no
    /// children yet.
    pub fn new(strategy: Strategy) -> Supervisor {
        Supervisor {
            strategy,
            intensity: DEFAULT_INTENSITY,
            period: DEFAULT_PERIOD,
            auto_shutdown: AutoShutdown::Never,
            name: None,
            children: Vec::new(),
        }
    }

    /// Allows at most `intensity` restarts in any `period` (R-SUP-INT).
    pub fn intensity(mut self, intensity: u32, period: Duration) -> Supervisor {
        self.intensity = intensity;
        self.period = period;
        self
    }

    /// Sets the intensity alone (Elixir's `max_restarts:`, default 3), keeping the period.
    pub fn max_restarts(mut self, n: u32) -> Supervisor {
        self.intensity = n;
        self
    }

    /// Sets the period alone (Elixir's `max_seconds:`, default 5 s), keeping the intensity.
    pub fn max_seconds(mut self, period: Duration) -> Supervisor {
        self.period = period;
        self
    }

    /// Registers the supervisor under `name` on its node ([`Node::register`]) before it starts
    /// its children (OTP's `{local, Name}`), so it can be found with
    /// [`SupervisorRef::whereis`]. The name is released before the supervisor's exit signals
    /// go out (R-LNK-2), so its restart, from the same builder, registers it again. A name
    /// already taken fails the start with [`SupervisorStartError::AlreadyStarted`].
    pub fn name(mut self, name: impl Into<Arc<str>>) -> Supervisor {
        self.name = Some(name.into());
        self
    }

    /// Sets the auto shutdown (R-SUP-AUTO).
    pub fn auto_shutdown(mut self, auto: AutoShutdown) -> Supervisor {
        self.auto_shutdown = auto;
        self
    }

    /// Adds a child after those already added.
    pub fn child(mut self, spec: ChildSpec) -> Supervisor {
        self.children.push(spec);
        self
    }

    /// Adds children after those already added.
    pub fn children(mut self, specs: impl IntoIterator<Item = ChildSpec>) -> Supervisor {
        self.children.extend(specs);
        self
    }

    /// This supervisor as a child of another supervisor: started linked to the parent at
    /// every (re)start, of kind [`ChildKind::Supervisor`] (shutdown `Infinity` by default).
    /// Give it a [`name`](Self::name) to reach it later from anywhere on the node
    /// ([`SupervisorRef::whereis`]); or take its pid from the parent's `which_children` and
    /// use [`SupervisorRef::from_pid`].
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

    /// Starts the supervisor from outside any process (unlinked), and waits until all its
    /// children have started (R-SUP-START).
    pub async fn start(self, node: &Node) -> Result<SupervisorRef, SupervisorStartError> {
        self.validate()?;
        let (tx, rx) = oneshot::channel();
        let addr = node
            .build()
            .kind(Kind::Supervisor)
            .opts(trapping())
            .spawn(move |ctx| run(self, ctx, tx))?;
        finish(node, addr, rx).await
    }

    /// Starts the supervisor linked to the process `ctx` belongs to (which becomes its
    /// parent: an exit signal from it stops the supervisor, children first), and waits until
    /// all its children have started. A start function starts a nested supervisor this way,
    /// with its [`Linker`].
    pub async fn start_link<M: Send + 'static>(
        self,
        ctx: &Ctx<M>,
    ) -> Result<SupervisorRef, SupervisorStartError> {
        self.validate()?;
        let (tx, rx) = oneshot::channel();
        let addr = ctx
            .build()
            .link()
            .kind(Kind::Supervisor)
            .opts(trapping())
            .spawn(move |c| run(self, c, tx))?;
        finish(ctx.node(), addr, rx).await
    }

    fn validate(&self) -> Result<(), SupervisorStartError> {
        let mut seen = HashSet::new();
        for c in &self.children {
            if !seen.insert(c.id.clone()) {
                return Err(SupervisorStartError::DuplicateChildId(c.id.clone()));
            }
            if let Err(why) = c.check(self.auto_shutdown) {
                return Err(SupervisorStartError::InvalidChildSpec {
                    id: c.id.clone(),
                    why,
                });
            }
        }
        Ok(())
    }
}

impl Linker {
    /// Starts a static supervisor linked to this linker's supervisor.
    pub async fn start_supervisor(
        &self,
        sup: Supervisor,
    ) -> Result<SupervisorRef, SupervisorStartError> {
        sup.start_link(&self.ctx).await
    }
}

pub(crate) fn trapping() -> SpawnOpts {
    SpawnOpts {
        trap_exit: true,
        ..SpawnOpts::default()
    }
}

async fn finish(
    node: &Node,
    addr: beamish_process::Addr<Request>,
    rx: oneshot::Receiver<Result<(), SupervisorStartError>>,
) -> Result<SupervisorRef, SupervisorStartError> {
    let handle = Handle::started(node, addr, rx).await?;
    Ok(SupervisorRef { handle })
}

/// A handle to a running static supervisor: the runtime API (`which_children`,
/// `count_children`, `terminate_child`, `restart_child`, `delete_child`, `start_child`),
/// introspection, restart notifications ([`restarts`](Self::restarts)) and stop. Cheap to
/// clone.
#[derive(Clone)]
pub struct SupervisorRef {
    handle: Handle,
}

impl fmt::Debug for SupervisorRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SupervisorRef({})", self.pid())
    }
}

impl SupervisorRef {
    /// A handle to the static supervisor running as `pid`, if there is one.
    pub fn from_pid(node: &Node, pid: Pid) -> Option<SupervisorRef> {
        let handle = Handle::at(node, pid)?;
        Some(SupervisorRef { handle })
    }

    /// A handle to the supervisor registered under `name` on `node`
    /// ([`Supervisor::name`]), if there is one.
    pub fn whereis(node: &Node, name: &str) -> Option<SupervisorRef> {
        SupervisorRef::from_pid(node, node.whereis(name)?)
    }

    /// The supervisor's pid.
    pub fn pid(&self) -> Pid {
        self.handle.pid()
    }

    /// Whether the supervisor is running.
    pub fn is_alive(&self) -> bool {
        self.handle.addr.is_alive()
    }

    /// Subscribes to the supervisor's restarts: every restart it makes after this call
    /// returns is in the stream, in order, until the supervisor ends. Subscribe first, then
    /// cause the failure, then await [`Restarts::of`]: no polling, no sleep.
    ///
    /// ```
    /// use beamish_process::{Ctx, Exit, Node};
    /// use beamish_supervisor::{ChildSpec, Strategy, Supervisor};
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let node = Node::start_default()?;
    /// let idle = ChildSpec::process("idle", |mut ctx: Ctx<()>| async move {
    ///     ctx.recv().await;
    /// });
    /// let sup = Supervisor::new(Strategy::OneForOne).child(idle).start(&node).await?;
    /// let first = sup.which_children().await?[0].status.pid().unwrap();
    ///
    /// let mut restarts = sup.restarts().await?;
    /// node.exit(first, Exit::Kill);
    /// let r = restarts.of("idle").await.unwrap();
    /// assert_eq!((r.old, r.restarts), (first, 1));
    /// assert!(node.is_alive(r.new));
    /// sup.stop(Exit::Normal).await?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn restarts(&self) -> Result<Restarts, CallError> {
        self.handle.restarts().await
    }

    /// The children, in reverse start order as OTP lists them.
    pub async fn which_children(&self) -> Result<Vec<ChildInfo>, CallError> {
        let d = self.handle.call(Request::Describe).await?;
        Ok(d.children.into_iter().rev().collect())
    }

    /// How many specs, running children, supervisors and workers.
    pub async fn count_children(&self) -> Result<ChildCounts, CallError> {
        self.handle.call(Request::Count).await
    }

    /// Stops the child `id` by its shutdown policy and keeps its spec (a temporary child's
    /// spec is removed).
    pub async fn terminate_child(&self, id: &str) -> Result<(), TerminateChildError> {
        let id = ChildRef::Id(id.into());
        self.handle.call(|tx| Request::Terminate(id, tx)).await?
    }

    /// Starts the child `id` again from its kept spec, if it is not running.
    pub async fn restart_child(&self, id: &str) -> Result<Started, RestartChildError> {
        let id: Arc<str> = id.into();
        self.handle.call(|tx| Request::Restart(id, tx)).await?
    }

    /// Removes the spec of the child `id`, which must not be running.
    pub async fn delete_child(&self, id: &str) -> Result<(), DeleteChildError> {
        let id: Arc<str> = id.into();
        self.handle.call(|tx| Request::Delete(id, tx)).await?
    }

    /// Adds a child spec after the others and starts the child.
    pub async fn start_child(&self, spec: ChildSpec) -> Result<Started, StartChildError> {
        self.handle
            .call(|tx| Request::Start(Box::new(spec), tx))
            .await?
    }

    /// Stops the supervisor with `reason`: its children stop in reverse start order, each by
    /// its shutdown policy, then it exits. Waits for the exit. The default reason, as OTP's
    /// `supervisor:stop/1` and Elixir's `Supervisor.stop/1` use it, is `normal`:
    /// `sup.stop(Exit::Normal)` (not an error to anyone linked to it, R-EXIT-3).
    pub async fn stop(&self, reason: Exit) -> Result<(), CallError> {
        self.handle.stop(reason).await
    }

    /// Asks the supervisor to stop, without waiting.
    pub(crate) fn request_stop(&self, reason: Exit) {
        let _ = self.handle.addr.send(Request::Stop(reason));
    }

    /// The supervision tree below this supervisor, walking every running child supervisor
    /// (static or dynamic).
    pub async fn tree(&self) -> Result<SupervisionTree, CallError> {
        self.handle.tree().await
    }
}

/// The static flavour's part of the supervisor's state: its children in start order, and
/// what decides which of them a failure takes along.
struct Static {
    strategy: Strategy,
    auto_shutdown: AutoShutdown,
    children: Vec<Child<()>>,
    /// The specs to start, in order, before the starter is answered; empty after.
    pending: Vec<ChildSpec>,
}

/// The supervisor's body (see [`run_loop::run`]).
async fn run(
    sup: Supervisor,
    ctx: Ctx<Request>,
    started: oneshot::Sender<Result<(), SupervisorStartError>>,
) -> Exit {
    let flavour = Static {
        strategy: sup.strategy,
        auto_shutdown: sup.auto_shutdown,
        children: Vec::with_capacity(sup.children.len()),
        pending: sup.children,
    };
    let st = Sup::new(ctx, sup.intensity, sup.period, flavour);
    run_loop::run(st, sup.name, started).await
}

impl Static {
    fn index_of_key(&self, key: u64) -> Option<usize> {
        self.children.iter().position(|c| c.key == key)
    }

    fn index_of_id(&self, id: &str) -> Option<usize> {
        self.children.iter().position(|c| &*c.spec.id == id)
    }

    /// The ids the strategy restarts when `id` fails, in start order.
    fn group(&self, id: &str) -> Vec<Arc<str>> {
        let Some(i) = self.index_of_id(id) else {
            return Vec::new();
        };
        let ids = self.children.iter().map(|c| c.spec.id.clone());
        match self.strategy {
            Strategy::OneForOne => vec![self.children[i].spec.id.clone()],
            Strategy::OneForAll => ids.collect(),
            Strategy::RestForOne => ids.skip(i).collect(),
        }
    }
}

/// Stops, in reverse start order, the running children of `id`'s group (R-SUP-STRAT).
async fn stop_siblings(sup: &mut Sup<Static>, id: &str) {
    let group = sup.flavour.group(id);
    for gid in group.iter().rev() {
        if let Some(j) = sup.flavour.index_of_id(gid)
            && sup.flavour.children[j].status.pid().is_some()
        {
            let key = sup.flavour.children[j].key;
            sup.stop_child(key).await;
        }
    }
}

impl Flavour for Static {
    type Extra = ();
    const NAMED: bool = true;
    const KEEPS_STOPPED: bool = true;
    const WRONG_SPEC: &'static str = "a static supervisor takes ChildSpec<()>";

    fn flavor(&self) -> Flavor {
        Flavor::Static(self.strategy)
    }

    fn extra(&self) {}

    fn children(&self) -> impl Iterator<Item = &Child<()>> {
        self.children.iter()
    }

    fn child(&self, key: u64) -> Option<&Child<()>> {
        self.children.iter().find(|c| c.key == key)
    }

    fn child_mut(&mut self, key: u64) -> Option<&mut Child<()>> {
        self.children.iter_mut().find(|c| c.key == key)
    }

    fn key_of(&self, r: &ChildRef) -> Option<u64> {
        let i = match r {
            ChildRef::Id(id) => self.index_of_id(id),
            ChildRef::Pid(pid) => self
                .children
                .iter()
                .position(|c| c.status == ChildStatus::Running(*pid)),
        };
        Some(self.children[i?].key)
    }

    fn insert(&mut self, child: Child<()>) {
        self.children.push(child);
    }

    fn remove(&mut self, key: u64) {
        if let Some(i) = self.index_of_key(key) {
            self.children.remove(i);
        }
    }

    fn admit(&self, spec: &ChildSpec) -> Result<(), StartChildError> {
        if let Some(i) = self.index_of_id(&spec.id) {
            return Err(match self.children[i].status {
                ChildStatus::Running(pid) => StartChildError::AlreadyStarted(pid),
                _ => StartChildError::AlreadyPresent,
            });
        }
        spec.check(self.auto_shutdown)
            .map_err(StartChildError::InvalidChildSpec)
    }

    fn auto_shutdown_now(&self) -> bool {
        match self.auto_shutdown {
            AutoShutdown::Never => false,
            AutoShutdown::AnySignificant => true,
            AutoShutdown::AllSignificant => !self
                .children
                .iter()
                .any(|c| c.spec.significant && c.status.pid().is_some()),
        }
    }

    /// R-SUP-START: in order; a failure stops the started ones in reverse and fails the start.
    async fn init(sup: &mut Sup<Self>) -> Result<(), SupervisorStartError> {
        for spec in std::mem::take(&mut sup.flavour.pending) {
            let id = spec.id.clone();
            if let Err(reason) = sup.start_spec(spec).await {
                report::start_error(sup.linker.node(), sup.pid(), &id, &reason);
                sup.terminate_all().await;
                return Err(SupervisorStartError::FailedToStartChild { id, reason });
            }
        }
        Ok(())
    }

    /// One at a time, in reverse start order (R-SUP-SHUT).
    async fn terminate_all(sup: &mut Sup<Self>) {
        let keys: Vec<u64> = sup.flavour.children.iter().rev().map(|c| c.key).collect();
        for key in keys {
            sup.stop_child(key).await;
        }
    }

    /// The strategy's group, stopped in reverse start order and started in start order; a
    /// start that fails leaves the rest of the group to its retry (R-SUP-RETRY).
    async fn restart_group(sup: &mut Sup<Self>, key: u64) {
        let Some(i) = sup.flavour.index_of_key(key) else {
            return;
        };
        let id = sup.flavour.children[i].spec.id.clone();
        stop_siblings(sup, &id).await;
        let group = sup.flavour.group(&id);
        let mut failed = false;
        for gid in group {
            let Some(j) = sup.flavour.index_of_id(&gid) else {
                continue;
            };
            if failed {
                // Not started yet: they come back with the retry.
                sup.flavour.children[j].status = ChildStatus::Restarting;
                continue;
            }
            let key = sup.flavour.children[j].key;
            failed = !sup.start_again(key).await;
        }
    }

    async fn stop_group(sup: &mut Sup<Self>, key: u64) {
        if let Some(i) = sup.flavour.index_of_key(key) {
            let id = sup.flavour.children[i].spec.id.clone();
            stop_siblings(sup, &id).await;
        }
    }
}
