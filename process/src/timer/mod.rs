//! Timers: `send_after`, `start_timer`, `send_interval`, `cancel_timer` and `read_timer`
//! (`erlang:send_after/3`, `erlang:start_timer/3`, `timer:send_interval/2`,
//! `erlang:cancel_timer/1`, `erlang:read_timer/1`), served by one timer service per node.
//!
//! A timer is not a task: it is an entry in the node's [`Store`] (a slab entry and a heap
//! item, plus one small allocation holding the message and a weak reference to the
//! destination's cell). One *driver* task per node, started by the first timer, sleeps on a
//! single tokio timer until the earliest deadline, takes the timers then due (in batches, under
//! the store's lock), and delivers them outside the lock, as plain sends to the destination's
//! mailbox. A timer to a process that has ended delivers nothing; a repeating timer whose
//! destination has ended is removed at its next tick.
//!
//! Deadlines are whole milliseconds on tokio's clock, rounded *up*; a timer fires at the first
//! look at or after its deadline, never before (the property test in `store.rs`, and
//! `process/tests/timers_never_fire_early.rs`). With tokio's paused clock (tests), the runtime
//! jumps straight to the next deadline.
//!
//! # Example
//! ```
//! use std::time::Duration;
//! use beamish_process::{Ctx, Message, Node, Timeout};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap().block_on(async {
//! let node = Node::start_default()?;
//! let done = node.spawn(|mut ctx: Ctx<Timeout<&'static str>>| async move {
//!     let first = ctx.start_timer("first", Duration::from_millis(50));
//!     let second = ctx.start_timer("second", Duration::from_millis(100));
//!     // Cancelled in time: the answer is the time it had left, and it never arrives.
//!     assert_eq!(ctx.cancel_timer(first), Some(Duration::from_millis(50)));
//!     let Message::Msg(t) = ctx.recv().await else { unreachable!() };
//!     // The message carries its timer's ref: a stale timeout is recognisable.
//!     assert_eq!((t.tref, t.msg), (second, "second"));
//!     assert_eq!(ctx.read_timer(second), None);
//! })?;
//! assert_eq!(node.monitor(done.pid()).await, beamish_process::Exit::Normal);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

mod server;
mod store;

use std::fmt;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Poll, Waker};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

use crate::addr::Addr;
use crate::cell::Cell;
use crate::ctx::Ctx;
use crate::error::SendError;
use crate::node::{Node, NodeInner};
use crate::pid::NodeId;
use crate::server::Dest;

pub(crate) use server::ServerNext;
use store::{Key, Payload, Store};

/// Names one timer: returned when it is set, carried by its [`Timeout`] message, and given to
/// [`cancel_timer`](Node::cancel_timer) and [`read_timer`](Node::read_timer). Unique on its
/// node for the node's life; a ref whose timer has fired or was cancelled stays
/// recognisable (it never names a later timer).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimerRef {
    node: NodeId,
    creation: u32,
    slot: u32,
    id: u64,
}

impl TimerRef {
    fn key(&self) -> Key {
        Key {
            slot: self.slot,
            id: self.id,
        }
    }
}

impl fmt::Display for TimerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#TimerRef<{}.{}.{}>",
            self.node.0 as u32, self.creation, self.id
        )
    }
}

impl fmt::Debug for TimerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The message a timer set with `start_timer` delivers: `{timeout, TimerRef, Msg}`. The ref
/// tells a current timeout from a stale one (a timer cancelled too late, whose message was
/// already on its way or queued).
///
/// A process receives it as its message type `M` through `M: From<Timeout<T>>`: take
/// `Timeout<T>` itself as the message type, or implement `From` for an enum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeout<T> {
    /// The timer that fired.
    pub tref: TimerRef,
    /// The message it was set with.
    pub msg: T,
}

/// One pending timer's delivery, type-erased. One small allocation per timer.
pub(crate) trait Fire: Send {
    /// The period in ticks of a repeating timer, 0 for a one-shot one.
    fn period(&self) -> u64 {
        0
    }
    /// A one-shot delivery for the current tick of a repeating timer.
    fn again(&self) -> Box<dyn Fire> {
        unreachable!("only repeating timers fire again")
    }
    /// Delivers; `false` if the destination is gone.
    fn fire(self: Box<Self>, tref: TimerRef) -> bool;
}

impl Payload for Box<dyn Fire> {
    fn period(&self) -> u64 {
        (**self).period()
    }
    fn again(&self) -> Self {
        (**self).again()
    }
}

/// A message to a process's cell.
struct ToCell<M> {
    to: Weak<Cell<M>>,
    msg: M,
}

fn deliver<M: Send + 'static>(to: &Weak<Cell<M>>, msg: M) -> bool {
    match to.upgrade() {
        Some(cell) => !matches!(Addr::from_cell(cell).send(msg), Err(SendError::NoProc(_))),
        None => false,
    }
}

impl<M: Send + 'static> Fire for ToCell<M> {
    fn fire(self: Box<Self>, _: TimerRef) -> bool {
        deliver(&self.to, self.msg)
    }
}

/// A `Timeout` (carrying the timer's ref) to a process's cell.
struct TimeoutToCell<M, T> {
    to: Weak<Cell<M>>,
    msg: T,
}

impl<M: From<Timeout<T>> + Send + 'static, T: Send + 'static> Fire for TimeoutToCell<M, T> {
    fn fire(self: Box<Self>, tref: TimerRef) -> bool {
        let TimeoutToCell { to, msg } = *self;
        deliver(&to, M::from(Timeout { tref, msg }))
    }
}

/// A message to whoever holds a name when the timer fires (Erlang resolves a name then too).
struct ToName<M> {
    node: Weak<NodeInner>,
    name: Arc<str>,
    msg: M,
}

impl<M: Send + 'static> Fire for ToName<M> {
    fn fire(self: Box<Self>, _: TimerRef) -> bool {
        match self.node.upgrade() {
            Some(inner) => (Node { inner }).send_named(&self.name, self.msg).is_ok(),
            None => false,
        }
    }
}

/// A copy of a message to a process's cell, every `period` ticks; `T` converts into the
/// cell's message type (a GenServer's info into its `ServerMsg`).
struct EveryToCell<M, T> {
    to: Weak<Cell<M>>,
    msg: T,
    period: u64,
}

impl<M, T> Fire for EveryToCell<M, T>
where
    M: From<T> + Send + 'static,
    T: Clone + Send + 'static,
{
    fn period(&self) -> u64 {
        self.period
    }
    fn again(&self) -> Box<dyn Fire> {
        Box::new(ToCell {
            to: self.to.clone(),
            msg: M::from(self.msg.clone()),
        })
    }
    fn fire(self: Box<Self>, _: TimerRef) -> bool {
        deliver(&self.to, M::from(self.msg))
    }
}

/// Timers the driver takes from the store per lock, and delivers before it yields.
const BATCH: usize = 1024;

/// The node's timer service: the store, and the driver's state.
pub(crate) struct Timers {
    /// Tick 0: ticks are milliseconds since this instant, on tokio's clock.
    epoch: Instant,
    node: NodeId,
    creation: u32,
    inner: Mutex<Inner>,
}

struct Inner {
    store: Store<Box<dyn Fire>>,
    next_id: u64,
    /// The tick the driver sleeps until (or will, once it has polled); `None`: it waits for
    /// a first timer. A timer due earlier wakes it.
    armed: Option<u64>,
    waker: Option<Waker>,
    started: bool,
}

impl Timers {
    pub(crate) fn new(node: NodeId, creation: u32) -> Arc<Timers> {
        Arc::new(Timers {
            epoch: Instant::now(),
            node,
            creation,
            inner: Mutex::new(Inner {
                store: Store::new(),
                next_id: 1,
                armed: None,
                waker: None,
                started: false,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The tick at which a timer set now for `after` is due: rounded up, so never early.
    fn deadline_after(&self, after: Duration) -> u64 {
        let ns = Instant::now()
            .saturating_duration_since(self.epoch)
            .as_nanos()
            + after.as_nanos();
        // Far enough for any timer (some 146 million years), and no overflow in `instant`.
        ns.div_ceil(1_000_000).min(u128::from(u64::MAX >> 12)) as u64
    }

    /// Whole ticks elapsed now: a timer due at tick `d` may fire once this is `>= d`.
    fn now_tick(&self) -> u64 {
        Instant::now()
            .saturating_duration_since(self.epoch)
            .as_millis() as u64
    }

    fn instant(&self, tick: u64) -> Instant {
        self.epoch
            .checked_add(Duration::from_millis(tick))
            .unwrap_or_else(|| self.epoch + Duration::from_secs(86_400 * 365 * 30))
    }

    fn tref(&self, key: Key) -> TimerRef {
        TimerRef {
            node: self.node,
            creation: self.creation,
            slot: key.slot,
            id: key.id,
        }
    }

    /// Sets a timer; starts the driver on `rt` if this is the node's first.
    fn insert(
        self: &Arc<Self>,
        rt: &tokio::runtime::Handle,
        after: Duration,
        job: Box<dyn Fire>,
    ) -> TimerRef {
        let deadline = self.deadline_after(after);
        let (key, wake) = {
            let mut g = self.lock();
            let id = g.next_id;
            g.next_id += 1;
            let key = g.store.insert(id, deadline, job);
            if !g.started {
                g.started = true;
                rt.spawn(drive(Arc::downgrade(self)));
            }
            let wake = if g.armed.is_none_or(|a| deadline < a) {
                g.armed = Some(deadline);
                g.waker.take()
            } else {
                None
            };
            (key, wake)
        };
        if let Some(w) = wake {
            w.wake();
        }
        self.tref(key)
    }

    fn mine(&self, tref: TimerRef) -> bool {
        tref.node == self.node && tref.creation == self.creation
    }

    fn left(&self, deadline: u64) -> Duration {
        self.instant(deadline)
            .saturating_duration_since(Instant::now())
    }

    pub(crate) fn cancel(&self, tref: TimerRef) -> Option<Duration> {
        if !self.mine(tref) {
            return None;
        }
        let removed = self.lock().store.cancel(tref.key());
        // The message is dropped outside the lock.
        removed.map(|(deadline, _job)| self.left(deadline))
    }

    pub(crate) fn read(&self, tref: TimerRef) -> Option<Duration> {
        if !self.mine(tref) {
            return None;
        }
        let deadline = self.lock().store.deadline(tref.key())?;
        Some(self.left(deadline))
    }

    pub(crate) fn pending(&self) -> usize {
        self.lock().store.len()
    }

    pub(crate) fn allocated_bytes(&self) -> usize {
        self.lock().store.allocated_bytes()
    }
}

impl Drop for Timers {
    fn drop(&mut self) {
        // The node is gone: let the driver see it and end.
        let g = self.inner.get_mut().unwrap_or_else(PoisonError::into_inner);
        if let Some(w) = g.waker.take() {
            w.wake();
        }
    }
}

/// The driver: sleeps until the earliest deadline, delivers what is due, and again; ends with
/// its node.
async fn drive(timers: Weak<Timers>) {
    let mut sleep: Option<Pin<Box<Sleep>>> = None;
    let mut due = Vec::new();
    loop {
        let go = poll_fn(|cx| {
            let Some(t) = timers.upgrade() else {
                return Poll::Ready(false);
            };
            let next = {
                let mut g = t.lock();
                match &mut g.waker {
                    Some(w) => w.clone_from(cx.waker()),
                    None => g.waker = Some(cx.waker().clone()),
                }
                let next = g.store.next_deadline();
                g.armed = next;
                next
            };
            let Some(next) = next else {
                return Poll::Pending;
            };
            let at = t.instant(next);
            drop(t);
            let s = match &mut sleep {
                Some(s) => {
                    if s.deadline() != at {
                        s.as_mut().reset(at);
                    }
                    s
                }
                None => sleep.insert(Box::pin(tokio::time::sleep_until(at))),
            };
            s.as_mut().poll(cx).map(|()| true)
        })
        .await;
        if !go {
            return;
        }
        loop {
            let Some(t) = timers.upgrade() else {
                return;
            };
            let now = t.now_tick();
            let more = t.lock().store.pop_due(now, BATCH, &mut due);
            for (key, job) in due.drain(..) {
                if !job.fire(t.tref(key)) {
                    // A repeating timer whose destination has gone ends here (a one-shot
                    // timer has left the store already).
                    let _ = t.cancel(t.tref(key));
                }
            }
            drop(t);
            if !more {
                break;
            }
            // Many due at once: let the receivers (on a current-thread runtime, everything
            // else) run between batches.
            tokio::task::yield_now().await;
        }
    }
}

/// The delivery to `dest`, checked now for a pid (typed), resolved at fire time for a name.
fn job_to<'a, M: Send + 'static>(
    node: &Node,
    dest: Dest<'a>,
    msg: M,
) -> Result<Box<dyn Fire>, SendError<M>> {
    match dest {
        Dest::Pid(pid) => {
            let Some(cell) = node.lookup(pid) else {
                return Err(SendError::NoProc(msg));
            };
            match cell.into_any().downcast::<Cell<M>>() {
                Ok(cell) => Ok(Box::new(ToCell {
                    to: Arc::downgrade(&cell),
                    msg,
                })),
                Err(_) => Err(SendError::WrongType(msg)),
            }
        }
        Dest::Name(name) => Ok(Box::new(ToName {
            node: Arc::downgrade(&node.inner),
            name: Arc::from(name),
            msg,
        })),
    }
}

/// A period in ticks: at least one.
fn period_ticks(every: Duration) -> u64 {
    (every
        .as_nanos()
        .div_ceil(1_000_000)
        .clamp(1, u128::from(u64::MAX >> 12))) as u64
}

impl Node {
    fn set_timer(&self, after: Duration, job: Box<dyn Fire>) -> TimerRef {
        self.inner.timers.insert(&self.inner.rt, after, job)
    }

    /// Sends `msg` to `dest` once `after` has passed (`erlang:send_after/3`,
    /// `Process.send_after/3`). A pid is checked now: [`SendError::NoProc`] if it is not
    /// alive, [`SendError::WrongType`] if it takes another message type (the message comes
    /// back). A name is resolved when the timer fires, as in Erlang; a free name then drops
    /// the message. If the process ends before the timer fires, nothing is delivered.
    ///
    /// The message never arrives before `after` (counted in whole milliseconds, rounded up).
    pub fn send_after<'a, M: Send + 'static>(
        &self,
        dest: impl Into<Dest<'a>>,
        msg: M,
        after: Duration,
    ) -> Result<TimerRef, SendError<M>> {
        let job = job_to(self, dest.into(), msg)?;
        Ok(self.set_timer(after, job))
    }

    /// Cancels a timer (`erlang:cancel_timer/1`): the time it had left, or `None` if it has
    /// fired already, was cancelled, or never was (Erlang's `false`). A cancelled timer's
    /// message is never delivered, unless it was already on its way: a timer's delivery
    /// starts at its deadline, so a cancel racing with it may come too late; `start_timer`'s
    /// [`Timeout`] carries the ref, to recognise such a stale message. A repeating timer
    /// answers with the time left to its next tick, and ticks no more.
    pub fn cancel_timer(&self, tref: TimerRef) -> Option<Duration> {
        self.inner.timers.cancel(tref)
    }

    /// The time a timer has left (`erlang:read_timer/1`), or `None` if it has fired, was
    /// cancelled, or never was. Zero for a timer due and not yet delivered.
    pub fn read_timer(&self, tref: TimerRef) -> Option<Duration> {
        self.inner.timers.read(tref)
    }

    /// Timers pending on this node (one-shot timers not yet fired, repeating timers not yet
    /// cancelled).
    pub fn pending_timers(&self) -> usize {
        self.inner.timers.pending()
    }

    /// Bytes the node's timer store takes at its capacity, for the pending timers (not their
    /// messages, one small allocation each).
    pub fn timer_store_bytes(&self) -> usize {
        self.inner.timers.allocated_bytes()
    }
}

impl<M: Send + 'static> Addr<M> {
    /// Sends `msg` to this process once `after` has passed (see [`Node::send_after`]). If the
    /// process has ended by then, nothing is delivered.
    pub fn send_after(&self, msg: M, after: Duration) -> TimerRef {
        let job = Box::new(ToCell {
            to: Arc::downgrade(self.cell()),
            msg,
        });
        self.cell().node.set_timer(after, job)
    }

    /// Sends this process a [`Timeout`] carrying the timer's ref and `msg` once `after` has
    /// passed (`erlang:start_timer/3`).
    pub fn start_timer<T: Send + 'static>(&self, msg: T, after: Duration) -> TimerRef
    where
        M: From<Timeout<T>>,
    {
        let job = Box::new(TimeoutToCell {
            to: Arc::downgrade(self.cell()),
            msg,
        });
        self.cell().node.set_timer(after, job)
    }

    /// Sends a copy of `msg` to this process every `every` (at least a millisecond), the
    /// first after one period, until the timer is cancelled or the process ends
    /// (`timer:send_interval/3`). A tick that could not be kept (the node too busy, or a
    /// paused clock that jumped) is skipped, not made up in a burst.
    pub fn send_interval(&self, msg: M, every: Duration) -> TimerRef
    where
        M: Clone,
    {
        let period = period_ticks(every);
        let job = Box::new(EveryToCell {
            to: Arc::downgrade(self.cell()),
            msg,
            period,
        });
        self.cell()
            .node
            .set_timer(Duration::from_millis(period), job)
    }
}

impl<M: Send + 'static> Ctx<M> {
    /// Sends `msg` to `dest` once `after` has passed (see [`Node::send_after`]).
    pub fn send_after<'a, N: Send + 'static>(
        &self,
        dest: impl Into<Dest<'a>>,
        msg: N,
        after: Duration,
    ) -> Result<TimerRef, SendError<N>> {
        self.node().send_after(dest, msg, after)
    }

    /// Sends `msg` to this process once `after` has passed
    /// (`Process.send_after(self(), msg, after)`).
    pub fn send_self_after(&self, msg: M, after: Duration) -> TimerRef {
        self.addr().send_after(msg, after)
    }

    /// Sends this process a [`Timeout`] with the timer's ref and `msg` once `after` has
    /// passed (`erlang:start_timer(After, self(), Msg)`).
    pub fn start_timer<T: Send + 'static>(&self, msg: T, after: Duration) -> TimerRef
    where
        M: From<Timeout<T>>,
    {
        self.addr().start_timer(msg, after)
    }

    /// Sends a copy of `msg` to this process every `every` (`timer:send_interval/2`; see
    /// [`Addr::send_interval`]).
    pub fn send_interval(&self, msg: M, every: Duration) -> TimerRef
    where
        M: Clone,
    {
        self.addr().send_interval(msg, every)
    }

    /// Cancels a timer (see [`Node::cancel_timer`]).
    pub fn cancel_timer(&self, tref: TimerRef) -> Option<Duration> {
        self.node().cancel_timer(tref)
    }

    /// The time a timer has left (see [`Node::read_timer`]).
    pub fn read_timer(&self, tref: TimerRef) -> Option<Duration> {
        self.node().read_timer(tref)
    }
}

#[cfg(all(test, target_pointer_width = "64"))]
mod tests {
    use super::*;

    /// A pending timer costs a 32-byte slab entry and a 16-byte heap item in the store, plus
    /// its delivery (a 16-byte allocation for a small message: glibc's smallest chunk, 32).
    #[test]
    fn a_timer_entry_is_small() {
        assert_eq!(std::mem::size_of::<Box<dyn Fire>>(), 16);
        assert_eq!(std::mem::size_of::<TimerRef>(), 24);
        assert_eq!(std::mem::size_of::<ToCell<u64>>(), 16);
    }
}
