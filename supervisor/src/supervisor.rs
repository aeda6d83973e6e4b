//! The static supervisor: an ordered list of children, a strategy, an intensity.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use beamish_process::{CallError, Ctx, Exit, Kind, Message, Node, Pid, RegisterError, SpawnOpts};
use tokio::sync::oneshot;

use crate::core::{Child, Event, Rng, Timers, next_event, now_std, report, shutdown_child};
use crate::emit;
use crate::error::{
    DeleteChildError, RestartChildError, StartChildError, SupervisorStartError, TerminateChildError,
};
use crate::info::{ChildCounts, ChildInfo, ChildStatus, Describe, Flavor, SupervisionTree};
use crate::request::{ChildRef, Handle, Request};
use crate::restarts::{Restarts, Subscribers};
use crate::spec::{ChildSpec, Linker, start_one};
use crate::types::{
    AutoShutdown, ChildKind, DEFAULT_INTENSITY, DEFAULT_PERIOD, Restart, Started, Strategy,
};
use crate::window::RestartWindow;

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
        let addr = node.spawn_kind(Kind::Supervisor, trapping(), move |ctx| run(self, ctx, tx))?;
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
        let addr = ctx.spawn_kind(Kind::Supervisor, trapping(), true, move |c| {
            run(self, c, tx)
        })?;
        finish(ctx.node(), addr, rx).await
    }

    fn validate(&self) -> Result<(), SupervisorStartError> {
        let mut seen = HashSet::new();
        for c in &self.children {
            if !seen.insert(c.id.clone()) {
                return Err(SupervisorStartError::DuplicateChildId(c.id.clone()));
            }
            if let Err(why) = check_spec(c, self.auto_shutdown) {
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

pub(crate) fn check_spec<A>(c: &ChildSpec<A>, auto: AutoShutdown) -> Result<(), &'static str> {
    if c.once && c.restart != Restart::Temporary {
        return Err("a once child (process_once, server_once) must be temporary");
    }
    if c.significant && c.restart == Restart::Permanent {
        return Err("a significant child must be transient or temporary");
    }
    if c.significant && auto == AutoShutdown::Never {
        return Err("a significant child needs auto_shutdown other than never");
    }
    Ok(())
}

/// Registers a supervisor under its name (OTP's `{local, Name}`); a taken name is
/// `already_started` with the holder.
pub(crate) fn register(ctx: &Ctx<Request>, name: &str) -> Result<(), SupervisorStartError> {
    match ctx.register(name) {
        Ok(()) => Ok(()),
        Err(RegisterError::AlreadyRegistered(pid)) => {
            Err(SupervisorStartError::AlreadyStarted(pid))
        }
        Err(e) => Err(SupervisorStartError::Exit(Exit::error(e))),
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
    let handle = Handle {
        addr,
        node: node.clone(),
    };
    match rx.await {
        Ok(Ok(())) => Ok(SupervisorRef { handle }),
        Ok(Err(e)) => {
            // The supervisor exits right after answering; wait for it so that the caller
            // sees a world where it is gone.
            node.monitor(handle.pid()).await;
            Err(e)
        }
        Err(_) => Err(SupervisorStartError::Exit(node.monitor(handle.pid()).await)),
    }
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
        let addr = node.addr::<Request>(pid)?;
        Some(SupervisorRef {
            handle: Handle {
                addr,
                node: node.clone(),
            },
        })
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

/// The supervisor process's state.
struct State {
    linker: Linker,
    strategy: Strategy,
    window: RestartWindow,
    intensity: u32,
    auto_shutdown: AutoShutdown,
    children: Vec<Child<()>>,
    next_key: u64,
    timers: Timers,
    rng: Rng,
    subscribers: Subscribers,
}

/// The supervisor's body: start the children, answer the starter, then one event at a time.
async fn run(
    sup: Supervisor,
    ctx: Ctx<Request>,
    started: oneshot::Sender<Result<(), SupervisorStartError>>,
) -> Exit {
    let mut st = State {
        linker: Linker { ctx },
        strategy: sup.strategy,
        window: RestartWindow::new(sup.intensity, sup.period),
        intensity: sup.intensity,
        auto_shutdown: sup.auto_shutdown,
        children: Vec::with_capacity(sup.children.len()),
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
    // R-SUP-START: in order; a failure stops the started ones in reverse and fails the start.
    for spec in sup.children {
        let key = st.key();
        match start_one(&st.linker, &spec, ()).await {
            Ok(Started::Running(pid)) => {
                st.children
                    .push(Child::new(key, spec, ChildStatus::Running(pid)))
            }
            Ok(Started::Ignore) => {
                if spec.restart != Restart::Temporary {
                    st.children
                        .push(Child::new(key, spec, ChildStatus::Undefined));
                }
            }
            Err(reason) => {
                report::start_error(st.linker.node(), st.pid(), &spec.id, &reason);
                st.terminate_all().await;
                let err = SupervisorStartError::FailedToStartChild {
                    id: spec.id.clone(),
                    reason,
                };
                let exit = err.exit_reason();
                let _ = started.send(Err(err));
                return exit;
            }
        }
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
            Event::Timer(key) => st.delayed_restart(key).await,
            Event::Msg(Message::Exit(e)) => {
                if e.from == parent {
                    st.terminate_all().await;
                    Some(e.reason)
                } else {
                    st.child_exited(e.from, e.reason).await
                }
            }
            // A DOWN from a monitor of a shutdown that already ended.
            Event::Msg(Message::Down(_)) => None,
            Event::Msg(Message::Msg(req)) => st.handle(req).await,
        };
        if let Some(reason) = outcome {
            return reason;
        }
    }
}

impl State {
    fn pid(&self) -> Pid {
        self.linker.pid()
    }

    fn key(&mut self) -> u64 {
        self.next_key += 1;
        self.next_key
    }

    fn index_of_key(&self, key: u64) -> Option<usize> {
        self.children.iter().position(|c| c.key == key)
    }

    fn index_of_id(&self, id: &str) -> Option<usize> {
        self.children.iter().position(|c| &*c.spec.id == id)
    }

    fn index_of_pid(&self, pid: Pid) -> Option<usize> {
        self.children
            .iter()
            .position(|c| c.status == ChildStatus::Running(pid))
    }

    /// Stops child `i` if running; a temporary child's spec goes (R-SUP-RT). Returns whether
    /// the spec was removed.
    async fn stop_child(&mut self, i: usize) -> bool {
        if let ChildStatus::Running(pid) = self.children[i].status {
            let policy = self.children[i].spec.shutdown_policy();
            let id = self.children[i].spec.id.clone();
            shutdown_child(&mut self.linker.ctx, Some(&id), pid, policy).await;
        }
        let c = &mut self.children[i];
        c.status = ChildStatus::Undefined;
        c.waiting = None;
        if c.spec.restart == Restart::Temporary {
            self.children.remove(i);
            true
        } else {
            false
        }
    }

    /// Stops every child in reverse start order (R-SUP-SHUT), before the supervisor exits.
    async fn terminate_all(&mut self) {
        self.timers.clear();
        for i in (0..self.children.len()).rev() {
            self.stop_child(i).await;
        }
    }

    /// A linked child ended (or some other linked process: ignored, as OTP does).
    async fn child_exited(&mut self, pid: Pid, reason: Exit) -> Option<Exit> {
        let i = self.index_of_pid(pid)?;
        let me = self.pid();
        let child = &mut self.children[i];
        let restart = child.restarts_after(&reason);
        let node = self.linker.ctx.node();
        emit::child_exited(node, me, &child.spec.id, pid, &reason, restart);
        report::child_terminated(node, me, &child.spec.id, pid, &reason, child.spec.restart);
        child.status = ChildStatus::Undefined;
        if !restart {
            let significant = child.spec.significant;
            if child.spec.restart == Restart::Temporary {
                self.children.remove(i);
            }
            if significant && self.auto_shutdown_now() {
                self.terminate_all().await;
                return Some(Exit::Shutdown);
            }
            return None;
        }
        let key = child.key;
        child.status = ChildStatus::Restarting;
        if let Some(wait) = child.next_backoff(&mut self.rng) {
            child.waiting = Some(wait);
            emit::backoff_scheduled(node, me, &child.spec.id, wait, child.attempt);
            // The siblings the strategy takes down go now; all come back when the wait ends.
            let id = child.spec.id.clone();
            self.stop_siblings(&id).await;
            self.timers.push(tokio::time::Instant::now() + wait, key);
            return None;
        }
        self.restart(key).await
    }

    /// R-SUP-AUTO: whether the significant children's exits stop the supervisor now.
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

    /// Stops, in reverse start order, the running children of `id`'s group (R-SUP-STRAT).
    async fn stop_siblings(&mut self, id: &str) {
        let group = self.group(id);
        for gid in group.iter().rev() {
            if let Some(j) = self.index_of_id(gid)
                && self.children[j].status.pid().is_some()
            {
                self.stop_child(j).await;
            }
        }
    }

    async fn delayed_restart(&mut self, key: u64) -> Option<Exit> {
        let i = self.index_of_key(key)?;
        if self.children[i].status != ChildStatus::Restarting || self.children[i].waiting.is_none()
        {
            return None;
        }
        self.children[i].waiting = None;
        self.restart(key).await
    }

    /// Restarts the child `key` and its strategy group. Counts toward the intensity; past it,
    /// stops everything and returns `Shutdown` (R-SUP-INT, R-SUP-ESC). A start that fails is
    /// retried through the mailbox, and each retry counts again (R-SUP-RETRY).
    async fn restart(&mut self, key: u64) -> Option<Exit> {
        let i = self.index_of_key(key)?;
        let id = self.children[i].spec.id.clone();
        if !self.window.add(now_std()) {
            report::reached_max_restart_intensity(self.pid(), Some(&id));
            let node = self.linker.ctx.node();
            emit::intensity_reached(node, self.pid(), &id, self.intensity, self.window.period());
            self.terminate_all().await;
            return Some(Exit::Shutdown);
        }
        self.stop_siblings(&id).await;
        let group = self.group(&id);
        let mut failed = false;
        for gid in group {
            let Some(j) = self.index_of_id(&gid) else {
                continue;
            };
            if failed {
                // Not started yet: they come back with the retry.
                self.children[j].status = ChildStatus::Restarting;
                continue;
            }
            match start_one(&self.linker, &self.children[j].spec, ()).await {
                Ok(Started::Running(pid)) => {
                    self.children[j].restarted(pid, &self.linker.ctx, &mut self.subscribers);
                }
                Ok(Started::Ignore) => {
                    self.children[j].status = ChildStatus::Undefined;
                }
                Err(reason) => {
                    report::start_error(self.linker.node(), self.pid(), &gid, &reason);
                    let c = &mut self.children[j];
                    c.status = ChildStatus::Restarting;
                    let _ = self.linker.ctx.addr().send(Request::TryAgain(c.key));
                    failed = true;
                }
            }
        }
        None
    }

    /// One runtime-API request. Returns an exit reason if the supervisor must stop.
    async fn handle(&mut self, req: Request) -> Option<Exit> {
        match req {
            Request::Describe(tx) => {
                let _ = tx.send(Describe {
                    flavor: Flavor::Static(self.strategy),
                    intensity: self.intensity,
                    period: self.window.period(),
                    children: self.children.iter().map(|c| c.info(true)).collect(),
                });
            }
            Request::Count(tx) => {
                let _ = tx.send(count(self.children.iter()));
            }
            Request::Terminate(r, tx) => {
                let i = match r {
                    ChildRef::Id(id) => self.index_of_id(&id),
                    ChildRef::Pid(pid) => self.index_of_pid(pid),
                };
                let res = match i {
                    Some(i) => {
                        self.stop_child(i).await;
                        Ok(())
                    }
                    None => Err(TerminateChildError::NotFound),
                };
                let _ = tx.send(res);
            }
            Request::Restart(id, tx) => {
                let res = match self.index_of_id(&id) {
                    None => Err(RestartChildError::NotFound),
                    Some(i) => match self.children[i].status {
                        ChildStatus::Running(pid) => Err(RestartChildError::Running(pid)),
                        ChildStatus::Restarting => Err(RestartChildError::Restarting),
                        ChildStatus::Undefined => {
                            match start_one(&self.linker, &self.children[i].spec, ()).await {
                                Ok(s) => {
                                    if let Started::Running(pid) = s {
                                        self.children[i].running(pid);
                                    }
                                    Ok(s)
                                }
                                Err(r) => Err(RestartChildError::Failed(r)),
                            }
                        }
                    },
                };
                let _ = tx.send(res);
            }
            Request::Delete(id, tx) => {
                let res = match self.index_of_id(&id) {
                    None => Err(DeleteChildError::NotFound),
                    Some(i) => match self.children[i].status {
                        ChildStatus::Running(pid) => Err(DeleteChildError::Running(pid)),
                        ChildStatus::Restarting => Err(DeleteChildError::Restarting),
                        ChildStatus::Undefined => {
                            self.children.remove(i);
                            Ok(())
                        }
                    },
                };
                let _ = tx.send(res);
            }
            Request::Start(spec, tx) => {
                let res = match spec.downcast::<ChildSpec>() {
                    Ok(spec) => self.start_new(*spec).await,
                    Err(_) => Err(StartChildError::InvalidChildSpec(
                        "a static supervisor takes ChildSpec<()>",
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
                let i = self.index_of_key(key)?;
                if self.children[i].status == ChildStatus::Restarting
                    && self.children[i].waiting.is_none()
                {
                    return self.restart(key).await;
                }
            }
        }
        None
    }

    async fn start_new(&mut self, spec: ChildSpec) -> Result<Started, StartChildError> {
        if let Some(i) = self.index_of_id(&spec.id) {
            return Err(match self.children[i].status {
                ChildStatus::Running(pid) => StartChildError::AlreadyStarted(pid),
                _ => StartChildError::AlreadyPresent,
            });
        }
        check_spec(&spec, self.auto_shutdown).map_err(StartChildError::InvalidChildSpec)?;
        let key = self.key();
        match start_one(&self.linker, &spec, ()).await {
            Ok(Started::Running(pid)) => {
                self.children
                    .push(Child::new(key, spec, ChildStatus::Running(pid)));
                Ok(Started::Running(pid))
            }
            Ok(Started::Ignore) => {
                if spec.restart != Restart::Temporary {
                    self.children
                        .push(Child::new(key, spec, ChildStatus::Undefined));
                }
                Ok(Started::Ignore)
            }
            Err(r) => Err(StartChildError::Failed(r)),
        }
    }
}

pub(crate) fn count<'a, A: 'a>(children: impl Iterator<Item = &'a Child<A>>) -> ChildCounts {
    let mut n = ChildCounts::default();
    for c in children {
        n.specs += 1;
        if c.status.pid().is_some() {
            n.active += 1;
        }
        match c.spec.kind {
            ChildKind::Supervisor => n.supervisors += 1,
            ChildKind::Worker => n.workers += 1,
        }
    }
    n
}
