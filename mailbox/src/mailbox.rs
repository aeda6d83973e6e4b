//! The shared half of a mailbox: what senders touch.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::num::{NonZeroU32, NonZeroUsize};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::error::{Closed, TrySendError};
use crate::sync::{AtomicBool, AtomicU32, Mutex, MutexGuard, Ordering, lock};

/// How many data messages a mailbox holds, and what happens past that.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Capacity {
    /// No limit, like a BEAM process's mailbox (R-MBX-2). Sending never waits.
    #[default]
    Unbounded,
    /// At most this many data messages are queued; `send_wait().await` waits for room and
    /// `send` fails with [`TrySendError::Full`]. The control lane is never limited.
    /// This holds senders back (backpressure); the BEAM has no such bound.
    Bounded(NonZeroUsize),
    /// Senders are never held back, but the push that makes the queue longer than this
    /// many data messages marks the mailbox [over its limit](Mailbox::is_over_limit): its
    /// owner is to die, as a BEAM process whose `max_heap_size` (with `kill => true`) is
    /// passed dies with `killed` (R-MBX-2). The message that passes the limit is queued
    /// (and discarded with the rest when the owner dies); so are any sent before it does.
    /// The mark also sets the control flag ([`Mailbox::has_control`]) and wakes the
    /// receiver, so an owner that looks at its control lane before each step sees it there.
    KillAbove(NonZeroUsize),
}

/// The shared half of a process's mailbox: a control lane, always read first, and a data lane.
///
/// Senders use `&Mailbox` (it is meant to live inside an `Arc` next to other per-process
/// state); the single receiver keeps an [`Inbox`](crate::Inbox), its private buffer, and passes
/// the mailbox to it. One mutex guards both lanes, so an item pushed to the control lane after a
/// data message is never observed before that message has been queued (R-ORD-1), and closing is
/// atomic with respect to every push.
///
/// An empty, unbounded mailbox allocates nothing: the queues grow on first use.
///
/// # Wakers
/// The receiver's waker is woken with the mailbox's lock held: waking after unlocking would
/// need a clone of the waker (an atomic increment) on every wake-up, on the send path. So a
/// waker given to [`register_receiver`](Self::register_receiver) (or to a receive through an
/// [`Inbox`](crate::Inbox)) must not touch this mailbox from `wake` or `wake_by_ref`: it
/// would deadlock on the lock. beamish's scheduler and tokio's wakers only queue their task,
/// which is polled later, and a `Waker::noop` does nothing. Senders waiting for room are
/// woken after the lock is released, as their wakers are arbitrary.
pub struct Mailbox<C, D> {
    inner: Mutex<Inner<C, D>>,
    /// Set (under the lock) when a control item is queued, cleared when the lane is drained:
    /// lets the receiver skip the lock when there is no control traffic, the common case.
    control_pending: AtomicBool,
    /// Data messages held in the receiver's private buffer, published for `len()`.
    pub(crate) buffered: AtomicU32,
    /// Immutable copy of `inner.capacity.is_some()`, readable without the lock.
    bounded: bool,
}

pub(crate) struct Inner<C, D> {
    pub(crate) data: VecDeque<D>,
    /// The receiver's waker; kept across wake-ups so that a wake costs no clone.
    waker: Option<Waker>,
    /// The control lane and the waiting senders, allocated on first use: most processes never
    /// see a control item or a full mailbox, and the header of an idle process stays small.
    extra: Option<Box<Extra<C>>>,
    /// The capacity, if bounded. Kept under the lock (it sits in what would be padding).
    capacity: Option<NonZeroU32>,
    /// The receiver is parked waiting for data: the next data push must wake it.
    pub(crate) data_wanted: bool,
    closed: bool,
    /// The capacity is a kill limit ([`Capacity::KillAbove`]), not a bound on senders.
    kill_above: bool,
    /// A push has passed the kill limit (see [`Mailbox::is_over_limit`]).
    over_limit: bool,
}

struct Extra<C> {
    /// Control items with their place in the data lane: the shared queue's length when they
    /// arrived. A signal that turns into a message goes to that place, after the data sent
    /// before it and before the data sent after it (R-ORD-1).
    /// Stored as `place - shift`: a message put at the head item's place moves every later
    /// place one on, and bumping one counter instead of every item keeps a burst of N
    /// signals turned messages O(N) rather than O(N^2).
    control: VecDeque<(C, usize)>,
    /// Messages put at control places since the lane was last empty.
    shift: usize,
    /// Senders waiting for room in a bounded mailbox, oldest first.
    send_waiters: VecDeque<(u64, Waker)>,
    next_waiter: u64,
}

impl<C, D> Inner<C, D> {
    fn extra(&mut self) -> &mut Extra<C> {
        self.extra.get_or_insert_with(|| {
            Box::new(Extra {
                control: VecDeque::new(),
                shift: 0,
                send_waiters: VecDeque::new(),
                next_waiter: 0,
            })
        })
    }

    fn control_len(&self) -> usize {
        self.extra.as_ref().map_or(0, |e| e.control.len())
    }

    /// While a control item waits, the receiver takes nothing more from the shared queue:
    /// what it holds in its private buffer then always predates every waiting control item,
    /// and a control item's place in the shared queue stays valid.
    pub(crate) fn control_waiting(&self) -> bool {
        self.extra.as_ref().is_some_and(|e| !e.control.is_empty())
    }

    /// Puts `front` before everything in the shared queue (emptying `front`), keeping the
    /// places of the waiting control items right: they all arrived after `front`'s items,
    /// which the receiver had already taken.
    pub(crate) fn prepend_data(&mut self, front: &mut VecDeque<D>) {
        let moved = front.len();
        front.append(&mut self.data);
        std::mem::swap(&mut self.data, front);
        if let Some(extra) = &mut self.extra {
            if !extra.control.is_empty() {
                extra.shift += moved;
            }
        }
    }

    /// Removes the shared-queue items for which `remove` says so, keeping the places of the
    /// waiting control items right. Returns how many were removed.
    pub(crate) fn remove_data(&mut self, mut remove: impl FnMut(&D) -> bool) -> usize {
        let mut removed_before = Vec::new();
        let mut kept = VecDeque::with_capacity(self.data.len());
        for (i, d) in std::mem::take(&mut self.data).into_iter().enumerate() {
            if remove(&d) {
                removed_before.push(i);
            } else {
                kept.push_back(d);
            }
        }
        self.data = kept;
        if let Some(extra) = &mut self.extra {
            let shift = extra.shift;
            for (_, raw) in extra.control.iter_mut() {
                let place = *raw + shift;
                let gone = removed_before.iter().filter(|&&i| i < place).count();
                *raw = place - gone - shift;
            }
        }
        removed_before.len()
    }
}

/// Where in the data lane a control item arrived; see [`Mailbox::push_data_at`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataSlot(usize);

/// Everything that was still queued when the mailbox closed.
#[derive(Debug)]
pub struct Drained<C, D> {
    /// Control items, in arrival order.
    pub control: VecDeque<C>,
    /// Data messages from the shared queue, in arrival order (the receiver's private buffer is
    /// the receiver's own business).
    pub data: VecDeque<D>,
}

impl<C, D> Default for Mailbox<C, D> {
    fn default() -> Self {
        Self::new(Capacity::Unbounded)
    }
}

impl<C, D> fmt::Debug for Mailbox<C, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailbox")
            .field("len", &self.len())
            .field("control_len", &self.control_len())
            .field("capacity", &self.capacity())
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl<C, D> Mailbox<C, D> {
    /// An empty mailbox with the given capacity for data messages.
    ///
    /// A capacity above `u32::MAX` is treated as `u32::MAX`.
    pub fn new(capacity: Capacity) -> Self {
        let to_u32 = |n: NonZeroUsize| NonZeroU32::new(u32::try_from(n.get()).unwrap_or(u32::MAX));
        let (cap, kill_above) = match capacity {
            Capacity::Unbounded => (None, false),
            Capacity::Bounded(n) => (to_u32(n), false),
            Capacity::KillAbove(n) => (to_u32(n), true),
        };
        Mailbox {
            inner: Mutex::new(Inner {
                data: VecDeque::new(),
                waker: None,
                extra: None,
                capacity: cap,
                data_wanted: false,
                closed: false,
                kill_above,
                over_limit: false,
            }),
            control_pending: AtomicBool::new(false),
            buffered: AtomicU32::new(0),
            // Only a bound that holds senders back makes the receiver hand room on one
            // message at a time.
            bounded: cap.is_some() && !kill_above,
        }
    }

    /// The data capacity, if any.
    pub fn capacity(&self) -> Capacity {
        let inner = self.lock();
        match inner.capacity {
            None => Capacity::Unbounded,
            Some(n) => {
                let n = NonZeroUsize::new(n.get() as usize).unwrap_or(NonZeroUsize::MIN);
                if inner.kill_above {
                    Capacity::KillAbove(n)
                } else {
                    Capacity::Bounded(n)
                }
            }
        }
    }

    /// Whether a push has passed the mailbox's kill limit ([`Capacity::KillAbove`]): its
    /// owner is to die (with `killed`, R-MBX-2). Takes the lock; an owner asks only when
    /// [`has_control`](Self::has_control) says something is pending.
    pub fn is_over_limit(&self) -> bool {
        self.lock().over_limit
    }

    /// Marks the mailbox over its kill limit, with the lock held, and wakes the receiver as
    /// a control item does.
    fn pass_limit(&self, inner: &mut Inner<C, D>) {
        inner.over_limit = true;
        self.control_pending.store(true, Ordering::Release);
        if let Some(w) = &inner.waker {
            w.wake_by_ref();
        }
    }

    pub(crate) fn is_bounded(&self) -> bool {
        self.bounded
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner<C, D>> {
        lock(&self.inner)
    }

    /// Queues a control item (an exit signal, a link, a monitor, ...). The control lane has no
    /// capacity limit and always wakes the receiver, whatever it is waiting for.
    pub fn push_control(&self, item: C) -> Result<(), Closed<C>> {
        let mut inner = self.lock();
        if inner.closed {
            return Err(Closed(item));
        }
        let len = inner.data.len();
        let extra = inner.extra();
        if extra.control.is_empty() {
            extra.shift = 0;
        }
        let raw = len - extra.shift;
        extra.control.push_back((item, raw));
        self.control_pending.store(true, Ordering::Release);
        if let Some(w) = &inner.waker {
            w.wake_by_ref();
        }
        Ok(())
    }

    /// Whether control items may be queued. A cheap atomic read: `false` means the receiver can
    /// skip [`take_control`](Self::take_control).
    pub fn has_control(&self) -> bool {
        self.control_pending.load(Ordering::Acquire)
    }

    /// Takes the oldest control item, if any, with the place in the data lane where it
    /// arrived (for [`push_data_at`](Self::push_data_at)).
    pub fn take_control(&self) -> Option<(C, DataSlot)> {
        if !self.has_control() {
            return None;
        }
        let mut inner = self.lock();
        let over_limit = inner.over_limit;
        let extra = inner.extra.as_mut()?;
        let item = extra.control.pop_front();
        // A mailbox over its kill limit keeps the flag up: its owner must see that too.
        if extra.control.is_empty() && !over_limit {
            self.control_pending.store(false, Ordering::Release);
        }
        let shift = extra.shift;
        item.map(|(c, raw)| (c, DataSlot(raw + shift)))
    }

    /// Puts a data message at the place where a control item arrived: after everything sent
    /// before that item, before everything sent after it (a trapped exit signal or a `DOWN`
    /// keeps its order among one sender's messages, R-ORD-1). Ignores the capacity, like
    /// [`push_data_unchecked`](Self::push_data_unchecked).
    pub fn push_data_at(&self, slot: DataSlot, msg: D) -> Result<(), Closed<D>> {
        let mut inner = self.lock();
        if inner.closed {
            return Err(Closed(msg));
        }
        let at = slot.0.min(inner.data.len());
        inner.data.insert(at, msg);
        // Every waiting control item arrived after the one whose place this is, so every
        // one of their places moves on by one.
        if let Some(extra) = &mut inner.extra {
            if extra.control.is_empty() {
                extra.shift = 0;
            } else {
                extra.shift += 1;
            }
        }
        if inner.data_wanted {
            inner.data_wanted = false;
            if let Some(w) = &inner.waker {
                w.wake_by_ref();
            }
        }
        Ok(())
    }

    /// Records the receiver's waker, used to wake it for control items (always) and for data
    /// (when it parked waiting for data). Cheap when the waker has not changed. Does nothing
    /// once the mailbox is closed: nothing will wake the receiver any more, and a closed
    /// mailbox must not keep its receiver's task alive. The waker is woken with the lock
    /// held and must not touch this mailbox (see [`Mailbox`], "Wakers").
    pub fn register_receiver(&self, waker: &Waker) {
        let mut inner = self.lock();
        if !inner.closed {
            Self::store_waker(&mut inner, waker);
        }
    }

    pub(crate) fn store_waker(inner: &mut Inner<C, D>, waker: &Waker) {
        match &inner.waker {
            Some(w) if w.will_wake(waker) => {}
            _ => inner.waker = Some(waker.clone()),
        }
    }

    /// Queues a data message unless the mailbox is full or closed. Never waits.
    ///
    /// Returns the number of data messages queued with this one, as [`len`](Self::len) would
    /// have seen it right after the push: read under the lock the push takes anyway, so a
    /// sender can watch for long queues for free. From one data push to the next the count
    /// goes up by one at most (the receiver only takes messages away), so a sender watching
    /// for a threshold sees it reached exactly.
    ///
    /// With [`Capacity::KillAbove`] it never fails for lack of room: the push that passes the
    /// limit marks the mailbox [over its limit](Self::is_over_limit) instead.
    pub fn send(&self, msg: D) -> Result<usize, TrySendError<D>> {
        let mut inner = self.lock();
        if inner.closed {
            return Err(TrySendError::Closed(msg));
        }
        if self.is_full(&inner) {
            if !inner.kill_above {
                return Err(TrySendError::Full(msg));
            }
            self.pass_limit(&mut inner);
        }
        Self::push_data_locked(&mut inner, msg);
        Ok(self.len_locked(&inner))
    }

    /// The queued data messages, with the lock held: the shared queue, plus the receiver's
    /// private buffer (which the receiver publishes under the lock when it refills it).
    fn len_locked(&self, inner: &Inner<C, D>) -> usize {
        inner.data.len() + self.buffered.load(Ordering::Relaxed) as usize
    }

    /// Queues a data message ignoring the capacity: for messages the runtime itself produces
    /// (a trapped exit, a `DOWN`), which OTP never drops for lack of room.
    pub fn push_data_unchecked(&self, msg: D) -> Result<(), Closed<D>> {
        let mut inner = self.lock();
        if inner.closed {
            return Err(Closed(msg));
        }
        Self::push_data_locked(&mut inner, msg);
        Ok(())
    }

    fn is_full(&self, inner: &Inner<C, D>) -> bool {
        inner.capacity.is_some_and(|cap| {
            inner.data.len() + self.buffered.load(Ordering::Relaxed) as usize >= cap.get() as usize
        })
    }

    fn push_data_locked(inner: &mut Inner<C, D>, msg: D) {
        inner.data.push_back(msg);
        if inner.data_wanted {
            inner.data_wanted = false;
            if let Some(w) = &inner.waker {
                w.wake_by_ref();
            }
        }
    }

    /// Queues a data message, waiting for room if the mailbox is bounded and full.
    /// Fails only if the mailbox is (or becomes) closed; the message is returned. On success,
    /// the number of data messages queued with it (see [`send`](Self::send)).
    pub fn send_wait(&self, msg: D) -> SendFuture<'_, C, D> {
        SendFuture {
            mailbox: self,
            msg: Some(msg),
            waiter: None,
        }
    }

    /// Wakes the oldest sender waiting for room. Called by the receiver after it took a message
    /// from a bounded mailbox.
    pub(crate) fn wake_one_sender(inner: &mut Inner<C, D>) {
        if let Some((_, w)) = inner
            .extra
            .as_mut()
            .and_then(|e| e.send_waiters.pop_front())
        {
            w.wake();
        }
    }

    /// Number of queued data messages (shared queue plus the receiver's private buffer).
    pub fn len(&self) -> usize {
        self.len_locked(&self.lock())
    }

    /// An estimate of the heap bytes the mailbox's queues hold, for introspection: the shared
    /// data queue's capacity plus the messages in the receiver's private buffer (its length:
    /// the buffer's capacity is the receiver's own business), times the slot size
    /// `size_of::<D>()`; and, once allocated, the control lane and the queue of waiting
    /// senders at their capacity. What the messages themselves point to is not counted. Takes
    /// the lock once, like [`len`](Self::len); nothing on the send or receive path changes.
    pub fn allocated_bytes(&self) -> usize {
        let inner = self.lock();
        let slots = inner.data.capacity() + self.buffered.load(Ordering::Relaxed) as usize;
        let extra = inner.extra.as_ref().map_or(0, |e| {
            std::mem::size_of::<Extra<C>>()
                + e.control.capacity() * std::mem::size_of::<(C, usize)>()
                + e.send_waiters.capacity() * std::mem::size_of::<(u64, Waker)>()
        });
        slots * std::mem::size_of::<D>() + extra
    }

    /// Whether no data message is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of queued control items.
    pub fn control_len(&self) -> usize {
        self.lock().control_len()
    }

    /// Whether the mailbox has been closed.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    pub(crate) fn is_closed_locked(&self, inner: &Inner<C, D>) -> bool {
        inner.closed
    }

    /// Closes the mailbox: every later push fails, waiting senders wake up and get their
    /// message back. Returns what was queued, for the terminating process to answer (links,
    /// monitors) or drop (R-MBX-3). Closing twice returns empty queues the second time.
    pub fn close(&self) -> Drained<C, D> {
        let (drained, waiters) = {
            let mut inner = self.lock();
            inner.closed = true;
            inner.waker = None;
            self.control_pending.store(false, Ordering::Release);
            let (control, waiters) = match inner.extra.take() {
                Some(e) => (
                    e.control.into_iter().map(|(c, _)| c).collect(),
                    e.send_waiters,
                ),
                None => Default::default(),
            };
            let drained = Drained {
                control,
                data: std::mem::take(&mut inner.data),
            };
            (drained, waiters)
        };
        // Woken outside the lock: a waiter's wake may run arbitrary scheduler code.
        for (_, w) in waiters {
            w.wake();
        }
        drained
    }
}

/// Future returned by [`Mailbox::send`].
#[must_use = "futures do nothing unless polled"]
pub struct SendFuture<'a, C, D> {
    mailbox: &'a Mailbox<C, D>,
    msg: Option<D>,
    /// Our place among the waiting senders, if we queued one.
    waiter: Option<u64>,
}

impl<C, D> fmt::Debug for SendFuture<'_, C, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendFuture")
            .field("waiting", &self.waiter.is_some())
            .finish()
    }
}

// The future holds no self-references; it may move between polls.
impl<C, D> Unpin for SendFuture<'_, C, D> {}

impl<C, D> Future for SendFuture<'_, C, D> {
    type Output = Result<usize, Closed<D>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let msg = this.msg.take().expect("SendFuture polled after completion");
        let mut inner = this.mailbox.lock();
        if let Some(id) = this.waiter.take() {
            inner.extra().send_waiters.retain(|(w, _)| *w != id);
        }
        if inner.closed {
            return Poll::Ready(Err(Closed(msg)));
        }
        let full = this.mailbox.is_full(&inner);
        if full && inner.kill_above {
            // A kill limit never holds a sender back (see `Capacity::KillAbove`).
            this.mailbox.pass_limit(&mut inner);
        }
        if !full || inner.kill_above {
            Mailbox::push_data_locked(&mut inner, msg);
            return Poll::Ready(Ok(this.mailbox.len_locked(&inner)));
        }
        let extra = inner.extra();
        let id = extra.next_waiter;
        extra.next_waiter += 1;
        extra.send_waiters.push_back((id, cx.waker().clone()));
        this.waiter = Some(id);
        this.msg = Some(msg);
        Poll::Pending
    }
}

impl<C, D> Drop for SendFuture<'_, C, D> {
    fn drop(&mut self) {
        let Some(id) = self.waiter else { return };
        let mut inner = self.mailbox.lock();
        if inner.closed {
            return;
        }
        let waiters = &mut inner.extra().send_waiters;
        let before = waiters.len();
        waiters.retain(|(w, _)| *w != id);
        if waiters.len() == before {
            // We were woken for a free slot but give up before using it: pass the wake-up on,
            // or the next waiting sender would sleep while there is room.
            Mailbox::wake_one_sender(&mut inner);
        }
    }
}
