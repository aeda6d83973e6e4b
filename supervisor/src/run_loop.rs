//! The run loop both supervisor flavours share: registering the name, answering the starter,
//! then one event at a time (the parent's exit, a child's exit, a backoff running out, a
//! request), with the restart intensity, the restarts, the stops and the requests both
//! flavours answer alike. What differs between a static and a dynamic supervisor, how the
//! children are stored and which of them a restart takes along, is behind [`Flavour`]; each
//! flavour's file implements it.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use beamish_process::{Ctx, Exit, Message, Pid, RegisterError};
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::core::{Child, Event, Rng, Timers, next_event, now_std, report, shutdown_child};
use crate::emit;
use crate::error::{
    DeleteChildError, RestartChildError, StartChildError, SupervisorStartError, TerminateChildError,
};
use crate::info::{ChildCounts, ChildStatus, Describe, Flavor};
use crate::request::{ChildRef, Request};
use crate::restarts::Subscribers;
use crate::spec::{ChildSpec, Linker, StartResult, start_one};
use crate::types::{ChildKind, Restart, Started};
use crate::window::RestartWindow;

/// What a supervisor flavour decides for itself: how it stores its children, which children
/// a restart takes along, how it stops them all. The loop ([`run`]) and [`Sup`] do the rest,
/// the same way for both.
pub(crate) trait Flavour: Sized + Send + 'static {
    /// The extra arguments every start function gets: `()` under a static supervisor, the
    /// dynamic supervisor's `A` (R-DS-5).
    type Extra: Clone + Send + Sync + 'static;
    /// Whether children are known by id (static), or only by pid, their ids `undefined` in
    /// `which_children` and the reports (dynamic, R-DS-1).
    const NAMED: bool;
    /// Whether a child that is not running keeps its spec, as `undefined` (static, as OTP),
    /// or is forgotten (dynamic, as Elixir). A temporary child's spec goes either way.
    const KEEPS_STOPPED: bool;
    /// Why `start_child` refuses a spec whose extra-argument type is not [`Self::Extra`].
    const WRONG_SPEC: &'static str;

    /// Static with its strategy, or dynamic (for `which_children` and the tree).
    fn flavor(&self) -> Flavor;
    /// The extra arguments for one start.
    fn extra(&self) -> Self::Extra;

    /// Every child, in the order the flavour lists them.
    fn children(&self) -> impl Iterator<Item = &Child<Self::Extra>>;
    /// The child with this key.
    fn child(&self, key: u64) -> Option<&Child<Self::Extra>>;
    /// The child with this key, to change.
    fn child_mut(&mut self, key: u64) -> Option<&mut Child<Self::Extra>>;
    /// The key of the child an operation names (by pid: only a running child).
    fn key_of(&self, r: &ChildRef) -> Option<u64>;
    /// Adds a child after the others.
    fn insert(&mut self, child: Child<Self::Extra>);
    /// Forgets the child with this key.
    fn remove(&mut self, key: u64);
    /// The child `key` runs (again) as `pid`: a flavour that finds children by pid notes it.
    fn running(&mut self, _key: u64, _pid: Pid) {}
    /// The child that ran as `pid` does not any more.
    fn not_running(&mut self, _pid: Pid) {}
    /// Whether `start_child` may add this spec (before it is started).
    fn admit(&self, spec: &ChildSpec<Self::Extra>) -> Result<(), StartChildError>;
    /// Whether the significant children's exits stop the supervisor now (R-SUP-AUTO).
    fn auto_shutdown_now(&self) -> bool {
        false
    }

    /// Starts the children the supervisor begins with (R-SUP-START), before the starter is
    /// answered.
    fn init(sup: &mut Sup<Self>) -> impl Future<Output = Result<(), SupervisorStartError>> + Send;
    /// Stops every child, before the supervisor exits (R-SUP-SHUT, R-DS-4).
    fn terminate_all(sup: &mut Sup<Self>) -> impl Future<Output = ()> + Send;
    /// Restarts the child `key` and the children the flavour restarts with it, the intensity
    /// having allowed it.
    fn restart_group(sup: &mut Sup<Self>, key: u64) -> impl Future<Output = ()> + Send;
    /// The child `key` waits out a backoff: the children restarted with it stop now.
    fn stop_group(sup: &mut Sup<Self>, key: u64) -> impl Future<Output = ()> + Send;
}

/// A supervisor process's state: what both flavours keep, and the flavour's own part.
pub(crate) struct Sup<F> {
    pub(crate) linker: Linker,
    window: RestartWindow,
    intensity: u32,
    next_key: u64,
    timers: Timers,
    rng: Rng,
    subscribers: Subscribers,
    pub(crate) flavour: F,
}

/// The supervisor's body: register its name, start its first children, answer the starter,
/// then one event at a time until it exits.
pub(crate) async fn run<F: Flavour>(
    mut sup: Sup<F>,
    name: Option<Arc<str>>,
    started: oneshot::Sender<Result<(), SupervisorStartError>>,
) -> Exit {
    if let Some(name) = &name
        && let Err(e) = register(&sup.linker.ctx, name)
    {
        let _ = started.send(Err(e));
        return Exit::Normal;
    }
    if let Err(err) = F::init(&mut sup).await {
        let exit = err.exit_reason();
        let _ = started.send(Err(err));
        return exit;
    }
    let _ = started.send(Ok(()));
    // A supervisor started from outside any process has the node as its parent: an exit
    // signal sent with `Node::exit` stops it as its parent's would.
    let parent = sup
        .linker
        .ctx
        .parent()
        .unwrap_or_else(|| sup.linker.ctx.node().pid());
    loop {
        let event = next_event(&mut sup.linker.ctx, &mut sup.timers).await;
        let outcome = match event {
            Event::Timer(key) => sup.delayed_restart(key).await,
            Event::Msg(Message::Exit(e)) => {
                if e.from == parent {
                    sup.terminate_all().await;
                    Some(e.reason)
                } else {
                    sup.child_exited(e.from, e.reason).await
                }
            }
            // A DOWN from a monitor of a shutdown that already ended.
            Event::Msg(Message::Down(_)) => None,
            Event::Msg(Message::Msg(req)) => sup.handle(req).await,
        };
        if let Some(reason) = outcome {
            return reason;
        }
    }
}

/// Registers a supervisor under its name (OTP's `{local, Name}`); a taken name is
/// `already_started` with the holder.
fn register(ctx: &Ctx<Request>, name: &str) -> Result<(), SupervisorStartError> {
    match ctx.register(name) {
        Ok(()) => Ok(()),
        Err(RegisterError::AlreadyRegistered(pid)) => {
            Err(SupervisorStartError::AlreadyStarted(pid))
        }
        Err(e) => Err(SupervisorStartError::Exit(Exit::error(e))),
    }
}

impl<F: Flavour> Sup<F> {
    /// A supervisor with no children yet, allowing `intensity` restarts in `period`.
    pub(crate) fn new(ctx: Ctx<Request>, intensity: u32, period: Duration, flavour: F) -> Sup<F> {
        Sup {
            linker: Linker { ctx },
            window: RestartWindow::new(intensity, period),
            intensity,
            next_key: 0,
            timers: Timers::default(),
            rng: Rng::new(),
            subscribers: Subscribers::default(),
            flavour,
        }
    }

    pub(crate) fn pid(&self) -> Pid {
        self.linker.pid()
    }

    fn key(&mut self) -> u64 {
        self.next_key += 1;
        self.next_key
    }

    /// Stops every child (R-SUP-SHUT): no backoff fires after this.
    pub(crate) async fn terminate_all(&mut self) {
        self.timers.clear();
        F::terminate_all(self).await;
    }

    /// Starts a new child from `spec` and keeps it if it runs, or if it ignored its start and
    /// the flavour keeps stopped children (not a temporary one, R-SUP-RT).
    pub(crate) async fn start_spec(&mut self, spec: ChildSpec<F::Extra>) -> StartResult {
        let result = start_one(&self.linker, &spec, self.flavour.extra()).await;
        let status = match result {
            Ok(Started::Running(pid)) => ChildStatus::Running(pid),
            Ok(Started::Ignore) if F::KEEPS_STOPPED && spec.restart != Restart::Temporary => {
                ChildStatus::Undefined
            }
            _ => return result,
        };
        let key = self.key();
        self.flavour.insert(Child::new(key, spec, status));
        result
    }

    /// Stops the child `key` if it runs, by its shutdown policy. A flavour that keeps stopped
    /// children keeps its spec, unless it is temporary (R-SUP-RT).
    pub(crate) async fn stop_child(&mut self, key: u64) {
        let Some(c) = self.flavour.child(key) else {
            return;
        };
        if let ChildStatus::Running(pid) = c.status {
            let policy = c.spec.shutdown_policy();
            let id = F::NAMED.then(|| c.spec.id.clone());
            shutdown_child(&mut self.linker.ctx, id.as_deref(), pid, policy).await;
            self.flavour.not_running(pid);
        }
        let Some(c) = self.flavour.child_mut(key) else {
            return;
        };
        if F::KEEPS_STOPPED && c.spec.restart != Restart::Temporary {
            c.status = ChildStatus::Undefined;
            c.waiting = None;
        } else {
            self.flavour.remove(key);
        }
    }

    /// Starts the child `key` again, as part of a restart. Returns `false` if its start
    /// failed: the retry goes through the mailbox, and counts again (R-SUP-RETRY).
    pub(crate) async fn start_again(&mut self, key: u64) -> bool {
        let Some(c) = self.flavour.child(key) else {
            return true;
        };
        let result = start_one(&self.linker, &c.spec, self.flavour.extra()).await;
        let Some(c) = self.flavour.child_mut(key) else {
            return true;
        };
        match result {
            Ok(Started::Running(pid)) => {
                c.restarted(pid, &self.linker.ctx, &mut self.subscribers);
                self.flavour.running(key, pid);
            }
            // As Elixir's DynamicSupervisor, a dynamic one forgets a child that ignores its
            // restart; a static one keeps it, not running.
            Ok(Started::Ignore) => {
                if F::KEEPS_STOPPED {
                    c.status = ChildStatus::Undefined;
                } else {
                    self.flavour.remove(key);
                }
            }
            Err(reason) => {
                report::start_error(self.linker.node(), self.linker.pid(), &c.spec.id, &reason);
                c.status = ChildStatus::Restarting;
                let _ = self.linker.ctx.addr().send(Request::TryAgain(key));
                return false;
            }
        }
        true
    }

    /// A linked child ended (or some other linked process: ignored, as OTP does).
    async fn child_exited(&mut self, pid: Pid, reason: Exit) -> Option<Exit> {
        let key = self.flavour.key_of(&ChildRef::Pid(pid))?;
        self.flavour.not_running(pid);
        let me = self.linker.pid();
        let node = self.linker.node();
        let child = self.flavour.child_mut(key)?;
        let restart = child.restarts_after(&reason);
        emit::child_exited(node, me, &child.spec.id, pid, &reason, restart);
        report::child_terminated(node, me, &child.spec.id, pid, &reason, child.spec.restart);
        child.status = ChildStatus::Undefined;
        if !restart {
            let significant = child.spec.significant;
            if !F::KEEPS_STOPPED || child.spec.restart == Restart::Temporary {
                self.flavour.remove(key);
            }
            if significant && self.flavour.auto_shutdown_now() {
                self.terminate_all().await;
                return Some(Exit::Shutdown);
            }
            return None;
        }
        child.status = ChildStatus::Restarting;
        if let Some(wait) = child.next_backoff(&mut self.rng) {
            child.waiting = Some(wait);
            emit::backoff_scheduled(node, me, &child.spec.id, wait, child.attempt);
            // The siblings the strategy takes down go now; all come back when the wait ends.
            F::stop_group(self, key).await;
            self.timers.push(Instant::now() + wait, key);
            return None;
        }
        self.restart(key).await
    }

    /// The backoff of the child `key` ran out: restart it, unless something else restarted
    /// or stopped it meanwhile.
    async fn delayed_restart(&mut self, key: u64) -> Option<Exit> {
        let c = self.flavour.child_mut(key)?;
        if c.status != ChildStatus::Restarting || c.waiting.is_none() {
            return None;
        }
        c.waiting = None;
        self.restart(key).await
    }

    /// Restarts the child `key` and those the flavour restarts with it. Counts toward the
    /// intensity; past it, stops everything and returns `Shutdown` (R-SUP-INT, R-SUP-ESC).
    async fn restart(&mut self, key: u64) -> Option<Exit> {
        let id = self.flavour.child(key)?.spec.id.clone();
        if !self.window.add(now_std()) {
            report::reached_max_restart_intensity(self.pid(), F::NAMED.then_some(&*id));
            let period = self.window.period();
            emit::intensity_reached(self.linker.node(), self.pid(), &id, self.intensity, period);
            self.terminate_all().await;
            return Some(Exit::Shutdown);
        }
        F::restart_group(self, key).await;
        None
    }

    /// One runtime-API request. Returns an exit reason if the supervisor must stop.
    async fn handle(&mut self, req: Request) -> Option<Exit> {
        match req {
            Request::Describe(tx) => {
                let _ = tx.send(Describe {
                    flavor: self.flavour.flavor(),
                    intensity: self.intensity,
                    period: self.window.period(),
                    children: self.flavour.children().map(|c| c.info(F::NAMED)).collect(),
                });
            }
            Request::Count(tx) => {
                let _ = tx.send(count(self.flavour.children()));
            }
            Request::Terminate(r, tx) => {
                let res = match self.flavour.key_of(&r) {
                    Some(key) => {
                        self.stop_child(key).await;
                        Ok(())
                    }
                    None => Err(TerminateChildError::NotFound),
                };
                let _ = tx.send(res);
            }
            Request::Restart(id, tx) => {
                let res = self.restart_child(ChildRef::Id(id)).await;
                let _ = tx.send(res);
            }
            Request::Delete(id, tx) => {
                let res = self.delete_child(ChildRef::Id(id));
                let _ = tx.send(res);
            }
            Request::Start(spec, tx) => {
                let res = match spec.downcast::<ChildSpec<F::Extra>>() {
                    Ok(spec) => self.start_new(*spec).await,
                    Err(_) => Err(StartChildError::InvalidChildSpec(F::WRONG_SPEC)),
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
                    .flavour
                    .child(key)
                    .is_some_and(|c| c.status == ChildStatus::Restarting && c.waiting.is_none())
                {
                    return self.restart(key).await;
                }
            }
        }
        None
    }

    /// `restart_child`: starts a kept, stopped child again (not a restart: not counted).
    async fn restart_child(&mut self, r: ChildRef) -> Result<Started, RestartChildError> {
        let key = self.flavour.key_of(&r).ok_or(RestartChildError::NotFound)?;
        let c = self.flavour.child(key).ok_or(RestartChildError::NotFound)?;
        match c.status {
            ChildStatus::Running(pid) => Err(RestartChildError::Running(pid)),
            ChildStatus::Restarting => Err(RestartChildError::Restarting),
            ChildStatus::Undefined => {
                let s = start_one(&self.linker, &c.spec, self.flavour.extra())
                    .await
                    .map_err(RestartChildError::Failed)?;
                if let (Started::Running(pid), Some(c)) = (s, self.flavour.child_mut(key)) {
                    c.running(pid);
                    self.flavour.running(key, pid);
                }
                Ok(s)
            }
        }
    }

    /// `delete_child`: forgets a kept, stopped child.
    fn delete_child(&mut self, r: ChildRef) -> Result<(), DeleteChildError> {
        let key = self.flavour.key_of(&r).ok_or(DeleteChildError::NotFound)?;
        let c = self.flavour.child(key).ok_or(DeleteChildError::NotFound)?;
        match c.status {
            ChildStatus::Running(pid) => Err(DeleteChildError::Running(pid)),
            ChildStatus::Restarting => Err(DeleteChildError::Restarting),
            ChildStatus::Undefined => {
                self.flavour.remove(key);
                Ok(())
            }
        }
    }

    /// `start_child`: adds a child, if the flavour admits it, and starts it.
    async fn start_new(&mut self, spec: ChildSpec<F::Extra>) -> Result<Started, StartChildError> {
        self.flavour.admit(&spec)?;
        self.start_spec(spec).await.map_err(StartChildError::Failed)
    }
}

fn count<'a, A: 'a>(children: impl Iterator<Item = &'a Child<A>>) -> ChildCounts {
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
