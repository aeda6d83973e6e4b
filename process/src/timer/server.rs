//! Timers in a [`GenServer`]: the idle timeout (`{noreply, State, Timeout}`, then
//! `handle_info(timeout)`), `handle_continue`, and timed infos to the server itself.
//!
//! What a callback asks for is kept in its context ([`ServerNext`], allocated on first use,
//! so a plain process's context pays one pointer), and the server's loop takes it after the
//! callback returns: first the continue, run before any message; then the idle timeout, for
//! the wait that follows.

use std::time::Duration;

use super::{Timeout, TimerRef};
use crate::ctx::Ctx;
use crate::server::{GenServer, ServerMsg};

/// What a GenServer's callbacks asked its loop to do next. `M` is the server's data-lane type
/// (`ServerMsg<S>`); a continue is kept as `ServerMsg::Info(arg)`.
#[derive(Debug)]
pub(crate) struct ServerNext<M> {
    timeout: Option<Duration>,
    cont: Option<M>,
}

impl<M: Send + 'static> Ctx<M> {
    fn server_next(&mut self) -> &mut ServerNext<M> {
        self.next.get_or_insert_with(|| {
            Box::new(ServerNext {
                timeout: None,
                cont: None,
            })
        })
    }
}

impl<S: GenServer> Ctx<ServerMsg<S>> {
    /// Arms the server's idle timeout for the wait that follows the current callback
    /// (`{noreply, State, Timeout}`, `{reply, R, State, Timeout}`, `{ok, State, Timeout}`
    /// from `init`): if no message arrives within `after`,
    /// [`handle_timeout`](GenServer::handle_timeout) runs. Any message (call, cast, info,
    /// trapped exit, `DOWN`) cancels it; it applies to one wait only, so a server that wants
    /// it again arms it again. Set twice, the later one counts. It is never early.
    pub fn idle_timeout(&mut self, after: Duration) {
        self.server_next().timeout = Some(after);
    }

    /// Withdraws an idle timeout armed by this callback (or an earlier continue).
    pub fn clear_idle_timeout(&mut self) {
        if let Some(n) = &mut self.next {
            n.timeout = None;
        }
    }

    /// Runs [`handle_continue`](GenServer::handle_continue) with `arg` once the current
    /// callback returns, before the server takes any message (`{continue, Arg}`): from
    /// `init`, after the starter has been released. The continue's argument is an `Info`
    /// (a server with several kinds of continue makes them variants of its `Info`). Set
    /// twice, the later one counts.
    pub fn continue_with(&mut self, arg: S::Info) {
        self.server_next().cont = Some(ServerMsg::Info(arg));
    }

    /// Sends `info` to this server's `handle_info` once `after` has passed.
    pub fn send_info_after(&self, info: S::Info, after: Duration) -> TimerRef {
        self.addr().send_after(ServerMsg::Info(info), after)
    }

    /// Sends a copy of `info` to this server's `handle_info` every `every`, the first after
    /// one period, until the timer is cancelled or the server ends (periodic work without a
    /// task of its own; see [`Addr::send_interval`](crate::Addr::send_interval)).
    pub fn send_info_interval(&self, info: S::Info, every: Duration) -> TimerRef
    where
        S::Info: Clone,
    {
        let job = Box::new(super::EveryToCell {
            to: std::sync::Arc::downgrade(self.addr().cell()),
            msg: InfoOf::<S>(info),
            period: super::period_ticks(every),
        });
        self.node()
            .set_timer(Duration::from_millis(job.period), job)
    }

    /// The continue a callback asked for, taken.
    pub(crate) fn take_continue(&mut self) -> Option<S::Info> {
        match self.next.as_mut()?.cont.take() {
            Some(ServerMsg::Info(arg)) => Some(arg),
            _ => None,
        }
    }

    /// The idle timeout for the wait about to start, taken.
    pub(crate) fn take_idle_timeout(&mut self) -> Option<Duration> {
        self.next.as_mut()?.timeout.take()
    }
}

/// An `Info` that clones into a `ServerMsg::Info` (which itself cannot be `Clone`: calls carry
/// reply handles).
struct InfoOf<S: GenServer>(S::Info);

impl<S: GenServer> Clone for InfoOf<S>
where
    S::Info: Clone,
{
    fn clone(&self) -> Self {
        InfoOf(self.0.clone())
    }
}

impl<S: GenServer> From<InfoOf<S>> for ServerMsg<S> {
    fn from(i: InfoOf<S>) -> Self {
        ServerMsg::Info(i.0)
    }
}

/// A GenServer takes `start_timer`'s [`Timeout`]s as infos: `ctx.start_timer(msg, after)`
/// in a callback reaches `handle_info` when `S::Info: From<Timeout<T>>`.
impl<S: GenServer, T> From<Timeout<T>> for ServerMsg<S>
where
    S::Info: From<Timeout<T>>,
{
    fn from(t: Timeout<T>) -> Self {
        ServerMsg::Info(S::Info::from(t))
    }
}
