//! The GenServer behaviour: a process with state, synchronous calls, casts and infos.

use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use beamish_mailbox::TrySendError;
use futures::FutureExt;
use spin::mutex::{SpinMutex, SpinMutexGuard};
use tokio::sync::oneshot;

use crate::addr::Addr;
use crate::cell::{Cell, Kind};
use crate::ctx::Ctx;
use crate::deadlines::{Deadlines, Look, Promise, Registration, Timed};
use crate::error::{CallError, CastError, SendError, StartError};
use crate::exit::{CallTimeout, Exit};
use crate::node::Node;
use crate::pid::Pid;
use crate::process::{SpawnOpts, SpawnSpec, current_pid, spawn};
use crate::signal::Message;

/// The default call timeout, as in OTP (R-GS-1): five seconds.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// The context a [`GenServer`]'s callbacks get.
pub type ServerCtx<S> = Ctx<ServerMsg<S>>;

/// What `handle_call` decides.
#[derive(Debug, PartialEq, Eq)]
pub enum Reply<R> {
    /// Reply now with this value.
    Now(R),
    /// No reply yet (`{noreply, State}`): the server keeps the [`ReplyTo`] and answers later
    /// with [`ReplyTo::reply`] (R-GS-6).
    Later,
}

/// A GenServer: a process that owns a state (the value implementing this trait) and handles
/// calls (request/reply), casts (fire and forget) and infos (anything else: plain messages,
/// trapped exits, `DOWN`s), one at a time.
///
/// Every callback gets `&mut self` across `.await`. A callback that returns `Err(reason)`
/// stops the server with that reason, after [`terminate`](Self::terminate). A callback that
/// panics stops it with [`Exit::Panic`], also after `terminate`; a caller waiting on the
/// server gets the reason (R-GS-3), and the node and other processes carry on.
///
/// `terminate` also runs when the server traps exits and its parent (the process that
/// started it linked, such as a supervisor) sends it an exit signal (R-GS-7). Without
/// trapping, such a signal ends the server at once and `terminate` does not run.
pub trait GenServer: Sized + Send + 'static {
    /// Requests for [`handle_call`](Self::handle_call).
    type Call: Send + 'static;
    /// Replies to calls.
    type Reply: Send + 'static;
    /// Messages for [`handle_cast`](Self::handle_cast).
    type Cast: Send + 'static;
    /// Plain messages for [`handle_info`](Self::handle_info).
    type Info: Send + 'static;

    /// Runs in the new process before any message; the starter waits for it. An error stops
    /// the server and makes the start fail with [`StartError::Init`].
    fn init(&mut self, ctx: &mut ServerCtx<Self>) -> impl Future<Output = Result<(), Exit>> + Send {
        let _ = ctx;
        async { Ok(()) }
    }

    /// Handles a call. Return [`Reply::Now`] to answer; or take the reply handle with
    /// [`Caller::defer`], keep it, return [`Reply::Later`], and answer later with
    /// [`ReplyTo::reply`] (R-GS-6).
    fn handle_call(
        &mut self,
        request: Self::Call,
        caller: Caller<'_, Self::Reply>,
        ctx: &mut ServerCtx<Self>,
    ) -> impl Future<Output = Result<Reply<Self::Reply>, Exit>> + Send;

    /// Handles a cast. The default ignores it.
    fn handle_cast(
        &mut self,
        message: Self::Cast,
        ctx: &mut ServerCtx<Self>,
    ) -> impl Future<Output = Result<(), Exit>> + Send {
        let _ = (message, ctx);
        async { Ok(()) }
    }

    /// Handles a plain message, a trapped exit or a `DOWN`. The default ignores it.
    fn handle_info(
        &mut self,
        message: Message<Self::Info>,
        ctx: &mut ServerCtx<Self>,
    ) -> impl Future<Output = Result<(), Exit>> + Send {
        let _ = (message, ctx);
        async { Ok(()) }
    }

    /// Runs the continue a callback asked for with
    /// [`ServerCtx::continue_with`](Ctx::continue_with), once that callback has returned and
    /// before the server takes any message (OTP's `handle_continue/2`). The default hands
    /// `arg` to [`handle_info`](Self::handle_info).
    fn handle_continue(
        &mut self,
        arg: Self::Info,
        ctx: &mut ServerCtx<Self>,
    ) -> impl Future<Output = Result<(), Exit>> + Send {
        self.handle_info(Message::Msg(arg), ctx)
    }

    /// Runs when the idle timeout armed with
    /// [`ServerCtx::idle_timeout`](Ctx::idle_timeout) passes with no message
    /// (`handle_info(timeout, State)` in OTP). The default does nothing.
    fn handle_timeout(
        &mut self,
        ctx: &mut ServerCtx<Self>,
    ) -> impl Future<Output = Result<(), Exit>> + Send {
        let _ = ctx;
        async { Ok(()) }
    }

    /// Runs when the server stops: after a callback returned an error or panicked, and on an
    /// exit signal from its parent while trapping exits (R-GS-7).
    fn terminate(
        &mut self,
        reason: &Exit,
        ctx: &mut ServerCtx<Self>,
    ) -> impl Future<Output = ()> + Send {
        let _ = (reason, ctx);
        async {}
    }
}

/// The data lane of a GenServer process.
pub enum ServerMsg<S: GenServer> {
    /// A call and where to reply.
    Call(S::Call, ReplyTo<S::Reply>),
    /// A cast.
    Cast(S::Cast),
    /// A plain message.
    Info(S::Info),
    /// A request to stop with this reason, from [`ServerRef::stop`]: the server runs
    /// `terminate` and exits with the reason (OTP's `gen_server:stop/3`).
    Stop(Exit),
}

impl<S: GenServer> fmt::Debug for ServerMsg<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ServerMsg::Call(..) => "Call(..)",
            ServerMsg::Cast(..) => "Cast(..)",
            ServerMsg::Info(..) => "Info(..)",
            ServerMsg::Stop(..) => "Stop(..)",
        })
    }
}

/// The caller of the call being handled. Answer by returning [`Reply::Now`], or take the
/// reply handle with [`defer`](Caller::defer) to answer later.
pub struct Caller<'a, R> {
    slot: &'a mut Option<ReplyTo<R>>,
}

impl<R> fmt::Debug for Caller<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Caller").field("pid", &self.pid()).finish()
    }
}

impl<R> Caller<'_, R> {
    /// The calling process, if the call came from one.
    pub fn pid(&self) -> Option<Pid> {
        self.slot.as_ref().and_then(|r| r.caller)
    }

    /// Takes the reply handle, to answer later (`{noreply, State}` then `gen_server:reply`).
    /// After this, a [`Reply::Now`] returned by the callback is ignored.
    pub fn defer(self) -> ReplyTo<R> {
        self.slot
            .take()
            .expect("a call's reply handle is taken once")
    }
}

/// Where to send the reply to one call. Dropping it without replying leaves the caller to
/// time out (or to see the server's exit reason if the server ends).
pub struct ReplyTo<R> {
    /// Shared with the waiting caller; `None` once the reply went out.
    slot: Option<Arc<ReplySlot<R>>>,
    caller: Option<Pid>,
}

impl<R> fmt::Debug for ReplyTo<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplyTo")
            .field("caller", &self.caller)
            .finish()
    }
}

impl<R> ReplyTo<R> {
    /// Sends the reply (`gen_server:reply/2`). If the caller has given up (timed out), the
    /// reply is dropped: it never lands in anybody's mailbox (R-GS-2).
    pub fn reply(mut self, value: R) {
        if let Some(slot) = self.slot.take() {
            ReplySlot::settle(slot, Settled::Replied(value));
        }
    }

    /// The calling process, if the call came from one.
    pub fn caller(&self) -> Option<Pid> {
        self.caller
    }

    /// Whether the caller is still waiting.
    pub fn is_waiting(&self) -> bool {
        self.slot.as_ref().is_some_and(|s| s.is_waiting())
    }
}

impl<R> Drop for ReplyTo<R> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            ReplySlot::settle(slot, Settled::Dropped);
        }
    }
}

/// The meeting point of one call: the caller's waker until the reply (or the handle's drop)
/// settles it. The caller takes its lock twice per call and the server once (and the node's
/// deadline sweeper now and then, see `deadlines`), each for a handful of stores, so it is a
/// spin lock: releasing it is a plain store, where std's mutex swaps to look for sleepers,
/// one atomic read-modify-write less per lock. Call with 100 callers, 10 and 12 runs in
/// rotating order, both builds aligned (ARCHITECTURE.md, "Measuring"): medians 7.48M
/// against 6.95M and 8.16M against 7.68M calls/s.
struct ReplySlot<R> {
    inner: SpinMutex<SlotInner<R>>,
    /// Its place among the slots the sweeper looks at, from its first wait with a deadline
    /// until it is dropped.
    registration: OnceLock<Registration>,
    /// Taken by a call (of a handle's own slot; see `Spare`). Released when the call is over
    /// and no reply handle can settle the slot any more: by the caller when it has the
    /// answer, or gives up after it came, else by the reply handle when it goes.
    busy: AtomicBool,
}

struct SlotInner<R> {
    state: SlotState<R>,
    /// The sweeper's promise as this slot's caller last saw it (see `deadlines`).
    seen: Promise,
}

enum SlotState<R> {
    /// The caller waits: its waker and its deadline (if any) once it has been polled.
    Waiting {
        waker: Option<Waker>,
        deadline: Option<tokio::time::Instant>,
    },
    /// Settled by the server, not yet taken by the caller.
    Settled(Settled<R>),
    /// The caller has its answer, or gave up: a reply now is dropped.
    Closed,
}

/// What the caller finds when it polls its slot.
enum Polled<R> {
    Answer(Settled<R>),
    /// Not yet answered; `tell`: the sweeper must hear of the deadline just stored.
    Waiting {
        tell: bool,
    },
}

enum Settled<R> {
    Replied(R),
    /// The reply handle was dropped without a reply.
    Dropped,
}

impl<R> ReplySlot<R> {
    fn new() -> Arc<ReplySlot<R>> {
        Arc::new(ReplySlot {
            inner: SpinMutex::new(SlotInner {
                state: SlotState::idle(),
                seen: Promise::default(),
            }),
            registration: OnceLock::new(),
            busy: AtomicBool::new(false),
        })
    }

    fn lock(&self) -> SpinMutexGuard<'_, SlotInner<R>> {
        self.inner.lock()
    }

    /// The server's side: settles the call and lets go of the slot before waking the caller,
    /// so that the caller finds the slot its own again and can reuse it.
    fn settle(this: Arc<Self>, how: Settled<R>) {
        let mut inner = this.lock();
        let SlotState::Waiting { waker, .. } = &mut inner.state else {
            // The caller is gone: the reply is dropped here, outside any mailbox (R-GS-2),
            // and the slot is free for its handle's next call.
            inner.state = SlotState::idle();
            drop(inner);
            this.busy.store(false, Ordering::Release);
            return;
        };
        let waker = waker.take();
        inner.state = SlotState::Settled(how);
        drop(inner);
        drop(this);
        if let Some(w) = waker {
            w.wake();
        }
    }

    fn is_waiting(&self) -> bool {
        !matches!(self.lock().state, SlotState::Closed)
    }

    /// The caller's side: the settled answer, or the waker stored. The first time, the
    /// deadline (if any) is stored too, for the sweeper, and `tell` says
    /// the sweeper's promise as last seen does not cover it: call [`watch`](Self::watch).
    /// Once answered, the slot is ready for another call: nobody else can settle it any more
    /// (the reply handle is spent).
    fn poll_settled(
        &self,
        cx: &mut Context<'_>,
        deadline: Option<(tokio::time::Instant, &Deadlines)>,
    ) -> Polled<R> {
        let mut inner = self.lock();
        let inner = &mut *inner;
        match &mut inner.state {
            SlotState::Waiting { waker: Some(w), .. } => {
                if !w.will_wake(cx.waker()) {
                    w.clone_from(cx.waker());
                }
                Polled::Waiting { tell: false }
            }
            SlotState::Waiting { waker, deadline: d } => {
                *waker = Some(cx.waker().clone());
                let Some((deadline, deadlines)) = deadline else {
                    return Polled::Waiting { tell: false };
                };
                *d = Some(deadline);
                // Read under this lock, after the deadline is written (see `deadlines`).
                Polled::Waiting {
                    tell: !deadlines.covers(&inner.seen, deadline),
                }
            }
            SlotState::Settled(_) => match std::mem::replace(&mut inner.state, SlotState::idle()) {
                SlotState::Settled(s) => Polled::Answer(s),
                _ => unreachable!("just seen settled"),
            },
            SlotState::Closed => unreachable!("polled after its answer"),
        }
    }

    /// Makes sure the sweeper looks at or before `deadline` (already in the slot), and keeps
    /// its promise for the next calls' checks.
    fn watch(&self, node: &crate::node::NodeInner, deadline: tokio::time::Instant) {
        let promise = node.deadlines.watch(&node.rt, deadline);
        self.lock().seen = promise;
    }

    /// The caller gives up: a later reply is dropped. If the reply handle is spent already
    /// (a reply came too late, or the request never went out), the slot is free at once;
    /// else the handle frees it when it goes.
    fn close(&self) {
        let mut inner = self.lock();
        let spent = matches!(inner.state, SlotState::Settled(_));
        let next = if spent {
            SlotState::idle()
        } else {
            SlotState::Closed
        };
        let old = std::mem::replace(&mut inner.state, next);
        drop(inner);
        if spent {
            self.busy.store(false, Ordering::Release);
        }
        // A reply settled meanwhile (or the caller's waker) is dropped outside the lock.
        drop(old);
    }
}

impl<R> SlotState<R> {
    /// Ready for a call: nobody waits yet.
    fn idle() -> SlotState<R> {
        SlotState::Waiting {
            waker: None,
            deadline: None,
        }
    }
}

impl<R: Send + 'static> Timed for ReplySlot<R> {
    fn look(&self, now: tokio::time::Instant) -> Look {
        match &mut self.lock().state {
            SlotState::Waiting {
                waker: Some(w),
                deadline: deadline @ Some(_),
            } => match *deadline {
                Some(d) if d > now => Look::Until(d),
                // Woken once for this deadline; the caller sees that it has passed.
                _ => {
                    *deadline = None;
                    Look::Due(w.clone())
                }
            },
            _ => Look::Idle,
        }
    }
}

/// A typed handle to a running [`GenServer`].
pub struct ServerRef<S: GenServer> {
    addr: Addr<ServerMsg<S>>,
    /// The server's pid and node, copied out of its cell, so that a call touches nothing of
    /// the server's cell but its mailbox. The pid shares a cache line with the status and
    /// message counter that the server writes on every poll and message: reading it there
    /// cost a caller on another worker a cache miss per call.
    server: Pid,
    node: Node,
    /// This handle's own reply slot, allocated by its first call and used by every call
    /// that finds it free: such a call allocates nothing. Each clone has its own.
    spare: Spare<S::Reply>,
}

impl<S: GenServer> Clone for ServerRef<S> {
    fn clone(&self) -> Self {
        ServerRef::from_addr(self.addr.clone())
    }
}

/// A handle's own reply slot (see [`ServerRef`]).
struct Spare<R>(OnceLock<Arc<ReplySlot<R>>>);

impl<R> Spare<R> {
    /// The handle's own slot if it is free (it is then this call's until the call releases
    /// it, see `WaitReply`'s `Drop`), else a new one. Never waits: a handle that several
    /// tasks call through at once just allocates.
    fn take(&self) -> Taken<'_, R> {
        let own = self.0.get_or_init(ReplySlot::new);
        if own.busy.swap(true, Ordering::Acquire) {
            Taken::New(ReplySlot::new())
        } else {
            Taken::Own(own)
        }
    }
}

/// The slot a call uses.
enum Taken<'a, R> {
    Own(&'a Arc<ReplySlot<R>>),
    New(Arc<ReplySlot<R>>),
}

impl<R> std::ops::Deref for Taken<'_, R> {
    type Target = Arc<ReplySlot<R>>;

    fn deref(&self) -> &Arc<ReplySlot<R>> {
        match self {
            Taken::Own(s) => s,
            Taken::New(s) => s,
        }
    }
}

impl<S: GenServer> fmt::Debug for ServerRef<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServerRef({})", self.pid())
    }
}

impl<S: GenServer> ServerRef<S> {
    fn from_addr(addr: Addr<ServerMsg<S>>) -> ServerRef<S> {
        ServerRef {
            server: addr.pid(),
            node: addr.cell().node.clone(),
            addr,
            spare: Spare(OnceLock::new()),
        }
    }

    /// The server's pid.
    pub fn pid(&self) -> Pid {
        self.server
    }

    /// The underlying process handle.
    pub fn addr(&self) -> &Addr<ServerMsg<S>> {
        &self.addr
    }

    /// Whether the server is still running.
    pub fn is_alive(&self) -> bool {
        self.addr.is_alive()
    }

    /// Calls the server with the default timeout of five seconds (R-GS-1).
    pub fn call(
        &self,
        request: S::Call,
    ) -> impl Future<Output = Result<S::Reply, CallError>> + Send + '_ {
        call_until(self, request, Some(DEFAULT_CALL_TIMEOUT))
    }

    /// Calls the server and waits at most `timeout` for the reply (R-GS-1..4):
    /// [`CallError::Timeout`] when it does not come (a later reply is dropped),
    /// [`CallError::Exit`] with the server's reason as soon as the server ends,
    /// [`CallError::NoProc`] if it had already ended, [`CallError::CallingSelf`] from the
    /// server itself. The timeout counts from the first poll.
    pub fn call_timeout(
        &self,
        request: S::Call,
        timeout: Duration,
    ) -> impl Future<Output = Result<S::Reply, CallError>> + Send + '_ {
        call_until(self, request, Some(timeout))
    }

    /// Calls the server and waits for the reply as long as it takes (`infinity`); still
    /// fails at once if the server ends.
    pub fn call_infinity(
        &self,
        request: S::Call,
    ) -> impl Future<Output = Result<S::Reply, CallError>> + Send + '_ {
        call_until(self, request, None)
    }

    /// Stops the server (OTP's `gen_server:stop/3`): it handles the messages queued before
    /// this request, runs `terminate` with `reason`, and exits with it. Waits at most
    /// `timeout` for the exit. Fails with [`CallError::NoProc`] if the server was not running,
    /// [`CallError::Exit`] if it ended with another reason first, and
    /// [`CallError::Timeout`] if it has not ended in time (it is left running).
    pub async fn stop(&self, reason: Exit, timeout: Duration) -> Result<(), CallError> {
        let cell = self.addr.cell();
        let down = cell.node.monitor(self.pid());
        let deadline = tokio::time::Instant::now() + timeout;
        let sent = tokio::time::timeout_at(
            deadline,
            cell.mailbox
                .send_wait(Message::Msg(ServerMsg::Stop(reason.clone()))),
        )
        .await;
        match sent {
            Err(_) => {
                return Err(CallError::Timeout(
                    CallTimeout::new(self.pid(), timeout).into(),
                ));
            }
            Ok(Err(_)) => return Err(CallError::NoProc),
            Ok(Ok(_)) => {}
        }
        match tokio::time::timeout_at(deadline, down).await {
            Err(_) => Err(CallError::Timeout(
                CallTimeout::new(self.pid(), timeout).into(),
            )),
            Ok(r) if r == reason => Ok(()),
            Ok(other) => Err(CallError::Exit(other)),
        }
    }

    /// Casts a message (R-GS-5): never waits, and succeeds whether or not the server is
    /// alive. The one failure is a server started with a bounded mailbox
    /// ([`Capacity::Bounded`](crate::Capacity::Bounded)) that is full: the cast is not
    /// queued, and [`CastError::Full`] gives it back (OTP has no such bound; a silent drop
    /// would hide lost work).
    pub fn cast(&self, message: S::Cast) -> Result<(), CastError<S::Cast>> {
        let cell = self.addr.cell();
        match cell.mailbox.send(Message::Msg(ServerMsg::Cast(message))) {
            Ok(len) => {
                crate::emit::mailbox_len(&self.node, || self.server, len);
                Ok(())
            }
            Err(TrySendError::Full(Message::Msg(ServerMsg::Cast(m)))) => Err(CastError::Full(m)),
            // A server that is gone: a cast to it is not an error (R-GS-5).
            Err(_) => Ok(()),
        }
    }

    /// Sends a plain message, delivered to `handle_info`.
    pub fn send(&self, message: S::Info) -> Result<(), SendError<S::Info>> {
        self.addr
            .send(ServerMsg::Info(message))
            .map_err(|e| match e {
                SendError::NoProc(ServerMsg::Info(m)) => SendError::NoProc(m),
                SendError::Full(ServerMsg::Info(m)) => SendError::Full(m),
                SendError::WrongType(ServerMsg::Info(m)) => SendError::WrongType(m),
                SendError::NotRegistered(ServerMsg::Info(m)) => SendError::NotRegistered(m),
                _ => unreachable!("an Info went in"),
            })
    }
}

/// One call, as one future: `call`, `call_timeout` and `call_infinity` return it as it is,
/// rather than each wrapping it in a state machine of its own.
async fn call_until<S: GenServer>(
    to: &ServerRef<S>,
    request: S::Call,
    timeout: Option<Duration>,
) -> Result<S::Reply, CallError> {
    let deadline = timeout.map(|t| crate::clock::not_before_now() + t);
    let (cell, spare, server) = (to.addr.cell(), &to.spare, to.server);
    let caller = current_pid();
    if caller == Some(server) {
        return Err(CallError::CallingSelf);
    }
    let slot = spare.take();
    let reply_to = ReplyTo {
        slot: Some(Arc::clone(&slot)),
        caller,
    };
    // Made before the request goes out: however the call ends from here, its `Drop` releases
    // the slot (at once, or through the reply handle when that is still out).
    let mut wait = WaitReply {
        node: &to.node,
        slot: &slot,
        deadline,
        parked: false,
        done: false,
    };
    let msg = Message::Msg(ServerMsg::Call(request, reply_to));
    // The common case, room in the mailbox, costs no timer; only a full bounded mailbox makes
    // the caller wait for room, within the same deadline.
    match crate::sched::run_woken_here(|| cell.mailbox.send(msg)) {
        Ok(len) => crate::emit::mailbox_len(&to.node, || server, len),
        Err(TrySendError::Full(msg)) => {
            let sent = match deadline {
                Some(d) => match tokio::time::timeout_at(d, cell.mailbox.send_wait(msg)).await {
                    Ok(r) => r,
                    Err(_) => return Err(timed_out(to, timeout)),
                },
                None => cell.mailbox.send_wait(msg).await,
            };
            if sent.is_err() {
                return Err(CallError::NoProc);
            }
        }
        Err(_) => return Err(CallError::NoProc),
    }
    let settled = (&mut wait).await;
    drop(wait);
    match settled {
        Some(Settled::Replied(v)) => Ok(v),
        None => Err(timed_out(to, timeout)),
        // The reply handle was dropped: the server ended (its reason is stored before its
        // state is dropped), or it dropped the handle on purpose and we wait for its end.
        Some(Settled::Dropped) => {
            if let Some(reason) = cell.core.exit_reason.get() {
                return Err(CallError::Exit(reason.clone()));
            }
            let down = wait_for_exit(cell, server);
            let reason = match deadline {
                Some(d) => tokio::time::timeout_at(d, down)
                    .await
                    .map_err(|_| timed_out(to, timeout))?,
                None => down.await,
            };
            Err(CallError::Exit(reason))
        }
    }
}

/// A call's timeout error, announced to telemetry (`beamish.process.call_timeout`) when
/// anybody listens.
#[cold]
fn timed_out<S: GenServer>(to: &ServerRef<S>, timeout: Option<Duration>) -> CallError {
    let node = &to.node;
    if let Some(timeout) = timeout
        && node
            .telemetry()
            .enabled(&beamish_telemetry::events::process::CALL_TIMEOUT)
    {
        let caller = current_pid().unwrap_or_else(|| node.pid());
        crate::emit::call_timeout(node, caller, to.pid(), timeout);
    }
    // A wait without a timeout never times out; `MAX` only for completeness.
    CallError::Timeout(CallTimeout::new(to.pid(), timeout.unwrap_or(Duration::MAX)).into())
}

/// Waits for the reply slot to settle until `deadline` (if any); `None` on timeout. No timer
/// is armed: the first wait writes the deadline beside the waker in the slot, which the node's
/// sweeper looks at (see `deadlines`) and wakes once the deadline has passed. A wait that
/// ends without its answer closes the slot, so that a late reply is dropped.
struct WaitReply<'a, R> {
    node: &'a Node,
    slot: &'a Arc<ReplySlot<R>>,
    deadline: Option<tokio::time::Instant>,
    /// Polled once already (and the deadline is with the sweeper).
    parked: bool,
    /// The slot gave its answer (and is ready for another call).
    done: bool,
}

impl<R: Send + 'static> Future for WaitReply<'_, R> {
    type Output = Option<Settled<R>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let node = &this.node.inner;
        if !this.parked && this.deadline.is_some() && this.slot.registration.get().is_none() {
            // Before the deadline is written: a sweep that misses the registration then
            // cannot miss the deadline (see `deadlines`).
            let weak: Weak<dyn Timed> = Arc::downgrade(this.slot) as Weak<ReplySlot<R>>;
            let _ = this.slot.registration.set(node.deadlines.register(weak));
        }
        let first = match this.deadline {
            Some(d) if !this.parked => Some((d, &*node.deadlines)),
            _ => None,
        };
        let tell = match this.slot.poll_settled(cx, first) {
            Polled::Answer(s) => {
                this.done = true;
                return Poll::Ready(Some(s));
            }
            Polled::Waiting { tell } => tell,
        };
        let Some(deadline) = this.deadline else {
            return Poll::Pending;
        };
        if !this.parked {
            this.parked = true;
            if tell {
                this.slot.watch(node, deadline);
            }
        } else if tokio::time::Instant::now() >= deadline {
            // Woken by the sweeper for the deadline (or by something else, a `select!`
            // around the call, say, after it).
            return Poll::Ready(None);
        }
        Poll::Pending
    }
}

impl<R> Drop for WaitReply<'_, R> {
    fn drop(&mut self) {
        if self.done {
            // Answered: the reply handle is spent, and the slot was left ready.
            self.slot.busy.store(false, Ordering::Release);
        } else {
            self.slot.close();
        }
    }
}

async fn wait_for_exit<M: Send + 'static>(cell: &Arc<Cell<M>>, pid: Pid) -> Exit {
    // Waiter refs only need to be unique among one process's watchers; they come from their
    // own counter (top bit set) so that they never collide with the node's refs.
    static WAITER_REFS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1 << 63);
    let id = WAITER_REFS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (tx, rx) = oneshot::channel();
    let mref = crate::pid::Ref::new(pid.node(), id, pid.creation());
    let sig = crate::signal::Signal::Monitor {
        watcher: crate::signal::Watcher::Waiter(tx),
        mref,
    };
    if cell.mailbox.push_control(sig).is_err() {
        return cell.core.exit_reason.get().cloned().unwrap_or(Exit::NoProc);
    }
    // A caller that gives up first (timeout, or its future dropped) removes the monitor, as
    // OTP's `gen:call` does with `demonitor(Mref, [flush])`: else every abandoned call would
    // leave a watcher behind at a server that lives on.
    let mut demonitor = DemonitorOnDrop {
        cell,
        mref: Some(mref),
    };
    let reason = rx.await.unwrap_or(Exit::NoProc);
    demonitor.mref = None;
    reason
}

/// Removes a caller's monitor from the server unless disarmed.
struct DemonitorOnDrop<'a, M> {
    cell: &'a Cell<M>,
    mref: Option<crate::pid::Ref>,
}

impl<M> Drop for DemonitorOnDrop<'_, M> {
    fn drop(&mut self) {
        if let Some(mref) = self.mref.take() {
            let _ = self
                .cell
                .mailbox
                .push_control(crate::signal::Signal::Demonitor { mref });
        }
    }
}

/// The server process's body: init, then one message at a time.
async fn run<S: GenServer>(
    mut state: S,
    mut ctx: ServerCtx<S>,
    started: oneshot::Sender<Result<(), Exit>>,
) -> Exit {
    // A server serves many: woken while other processes wait on its worker, it goes behind
    // them and takes their requests together (see `sched::schedule`).
    crate::sched::wake_in_turn();
    let init = AssertUnwindSafe(state.init(&mut ctx)).catch_unwind().await;
    match init {
        Ok(Ok(())) => {
            let _ = started.send(Ok(()));
        }
        Ok(Err(reason)) => {
            let _ = started.send(Err(reason.clone()));
            return reason;
        }
        Err(panic) => {
            let reason = Exit::from_panic(&*panic);
            let _ = started.send(Err(reason.clone()));
            return reason;
        }
    }
    let reason = 'serve: loop {
        // A continue runs before any message (`{continue, Arg}`), and may ask for another.
        while let Some(arg) = ctx.take_continue() {
            if let Err(reason) = guarded(state.handle_continue(arg, &mut ctx)).await {
                break 'serve reason;
            }
        }
        let msg = match ctx.take_idle_timeout() {
            None => ctx.recv().await,
            Some(after) => match ctx.recv_timeout(after).await {
                Some(msg) => msg,
                None => match guarded(state.handle_timeout(&mut ctx)).await {
                    Ok(()) => continue,
                    Err(reason) => break reason,
                },
            },
        };
        if let Err(reason) = guarded(dispatch(&mut state, msg, &mut ctx)).await {
            break reason;
        }
    };
    let _ = AssertUnwindSafe(state.terminate(&reason, &mut ctx))
        .catch_unwind()
        .await;
    reason
}

/// Runs one callback; a panic becomes the server's exit reason.
async fn guarded(callback: impl Future<Output = Result<(), Exit>>) -> Result<(), Exit> {
    match AssertUnwindSafe(callback).catch_unwind().await {
        Ok(r) => r,
        Err(panic) => Err(Exit::from_panic(&*panic)),
    }
}

/// Hands one message to the right callback.
async fn dispatch<S: GenServer>(
    state: &mut S,
    msg: Message<ServerMsg<S>>,
    ctx: &mut ServerCtx<S>,
) -> Result<(), Exit> {
    match msg {
        Message::Msg(ServerMsg::Call(request, from)) => {
            handle_call(state, request, from, ctx).await
        }
        Message::Msg(ServerMsg::Cast(m)) => state.handle_cast(m, ctx).await,
        Message::Msg(ServerMsg::Info(m)) => state.handle_info(Message::Msg(m), ctx).await,
        Message::Msg(ServerMsg::Stop(reason)) => Err(reason),
        // R-GS-7: an exit from the parent while trapping: terminate, then exit with the
        // parent's reason.
        Message::Exit(e) if Some(e.from) == ctx.parent() => Err(e.reason),
        Message::Exit(e) => state.handle_info(Message::Exit(e), ctx).await,
        Message::Down(d) => state.handle_info(Message::Down(d), ctx).await,
    }
}

async fn handle_call<S: GenServer>(
    state: &mut S,
    request: S::Call,
    from: ReplyTo<S::Reply>,
    ctx: &mut ServerCtx<S>,
) -> Result<(), Exit> {
    let mut slot = Some(from);
    let decided = state
        .handle_call(request, Caller { slot: &mut slot }, ctx)
        .await?;
    if let (Reply::Now(v), Some(to)) = (decided, slot) {
        to.reply(v);
    }
    Ok(())
}

impl Node {
    /// Starts a [`GenServer`] from outside any process, unlinked, and waits until its `init`
    /// has run.
    pub async fn start<S: GenServer>(&self, server: S) -> Result<ServerRef<S>, StartError> {
        start(
            self,
            SpawnSpec::top(Kind::GenServer, SpawnOpts::default()),
            server,
        )
        .await
    }

    /// Starts a [`GenServer`] with spawn options, from outside any process.
    pub async fn start_with<S: GenServer>(
        &self,
        opts: SpawnOpts,
        server: S,
    ) -> Result<ServerRef<S>, StartError> {
        start(self, SpawnSpec::top(Kind::GenServer, opts), server).await
    }
}

impl<M: Send + 'static> Ctx<M> {
    /// Starts a [`GenServer`] linked to this process (`gen_server:start_link`), and waits
    /// until its `init` has run. This process is the server's parent (R-GS-7).
    pub async fn start_link<S: GenServer>(&self, server: S) -> Result<ServerRef<S>, StartError> {
        self.start_link_with(SpawnOpts::default(), server).await
    }

    /// [`start_link`](Self::start_link) with spawn options (for example `trap_exit`, so that
    /// the server's `terminate` runs when its parent shuts it down).
    pub async fn start_link_with<S: GenServer>(
        &self,
        opts: SpawnOpts,
        server: S,
    ) -> Result<ServerRef<S>, StartError> {
        let (started, result) = oneshot::channel();
        let addr = self
            .build()
            .kind(Kind::GenServer)
            .opts(opts)
            .link()
            .spawn(move |ctx| run(server, ctx, started))?;
        finish_start(addr, result).await
    }
}

async fn start<S: GenServer>(
    node: &Node,
    spec: SpawnSpec,
    server: S,
) -> Result<ServerRef<S>, StartError> {
    let (started, result) = oneshot::channel();
    let addr = spawn(node, spec, move |ctx| run(server, ctx, started))?;
    finish_start(addr, result).await
}

async fn finish_start<S: GenServer>(
    addr: Addr<ServerMsg<S>>,
    result: oneshot::Receiver<Result<(), Exit>>,
) -> Result<ServerRef<S>, StartError> {
    match result.await {
        Ok(Ok(())) => Ok(ServerRef::from_addr(addr)),
        Ok(Err(reason)) => Err(StartError::Init(reason)),
        // Killed before init answered.
        Err(_) => Err(StartError::Init(
            addr.cell()
                .core
                .exit_reason
                .get()
                .cloned()
                .unwrap_or(Exit::Killed),
        )),
    }
}

/// Where a message or call goes: a pid, or a name registered on the node. Erlang accepts
/// either wherever a process is addressed; so do [`Node::call`], [`Node::cast`] and
/// [`Node::send_to`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dest<'a> {
    /// A process by pid.
    Pid(Pid),
    /// A process by its registered name.
    Name(&'a str),
}

impl From<Pid> for Dest<'_> {
    fn from(pid: Pid) -> Self {
        Dest::Pid(pid)
    }
}

impl<'a> From<&'a str> for Dest<'a> {
    fn from(name: &'a str) -> Self {
        Dest::Name(name)
    }
}

impl Node {
    /// The pid a destination stands for now, if any.
    pub fn resolve<'a>(&self, dest: impl Into<Dest<'a>>) -> Option<Pid> {
        match dest.into() {
            Dest::Pid(pid) => Some(pid),
            Dest::Name(name) => self.whereis(name),
        }
    }

    /// A typed handle to the [`GenServer`] at `dest`: [`CallError::NotRegistered`] for a free
    /// name, [`CallError::NoProc`] for a pid that is not alive or not a server of type `S`.
    pub fn server<'a, S: GenServer>(
        &self,
        dest: impl Into<Dest<'a>>,
    ) -> Result<ServerRef<S>, CallError> {
        let pid = match dest.into() {
            Dest::Pid(pid) => pid,
            Dest::Name(name) => self.whereis(name).ok_or(CallError::NotRegistered)?,
        };
        self.addr::<ServerMsg<S>>(pid)
            .map(ServerRef::from_addr)
            .ok_or(CallError::NoProc)
    }

    /// Calls the [`GenServer`] at `dest` (a pid or a registered name) with the default
    /// timeout (R-GS-1..4). A free name fails with [`CallError::NotRegistered`], as
    /// `gen_server:call` to an unregistered name exits with `noproc`. A timeout by name says
    /// the name ([`CallTimeout::name`]).
    pub async fn call<'a, S: GenServer>(
        &self,
        dest: impl Into<Dest<'a>>,
        request: S::Call,
    ) -> Result<S::Reply, CallError> {
        let dest = dest.into();
        let result = self.server::<S>(dest)?.call(request).await;
        match (result, dest) {
            (Err(CallError::Timeout(t)), Dest::Name(name)) => Err(CallError::Timeout(
                Arc::unwrap_or_clone(t).by_name(name).into(),
            )),
            (result, _) => result,
        }
    }

    /// Casts to the [`GenServer`] at `dest`. Succeeds whether or not anybody is there
    /// (R-GS-5); fails only on a full bounded mailbox, as [`ServerRef::cast`].
    pub fn cast<'a, S: GenServer>(
        &self,
        dest: impl Into<Dest<'a>>,
        message: S::Cast,
    ) -> Result<(), CastError<S::Cast>> {
        match self.server::<S>(dest) {
            Ok(server) => server.cast(message),
            Err(_) => Ok(()),
        }
    }

    /// Sends a plain message to the process at `dest`. Sending to a free name is an error
    /// (R-ORD-4), as is sending to a process that takes another message type.
    pub fn send_to<'a, M: Send + 'static>(
        &self,
        dest: impl Into<Dest<'a>>,
        msg: M,
    ) -> Result<(), SendError<M>> {
        match dest.into() {
            Dest::Pid(pid) => self.send(pid, msg),
            Dest::Name(name) => self.send_named(name, msg),
        }
    }
}
