//! The events this crate emits (see `beamish_telemetry::events::process`). Each is a check of
//! the node's handler mask, inlined at the call site, and a cold out-of-line emitter: with no
//! handler attached an event costs one atomic load and a branch.

use std::time::Duration;

use beamish_telemetry::Value;
use beamish_telemetry::events::process::{
    CALL_TIMEOUT, DOWN, EXIT_SIGNAL, EXITED, LONG_POLL, MAILBOX_KILLED, MAILBOX_LONG, SPAWNED,
};

use crate::cell::Kind;
use crate::exit::Exit;
use crate::node::Node;
use crate::pid::Pid;

#[inline]
pub(crate) fn spawned(node: &Node, pid: Pid, kind: Kind, parent: Option<Pid>) {
    if node.telemetry().enabled(&SPAWNED) {
        spawned_cold(node, pid, kind, parent);
    }
}

#[cold]
#[inline(never)]
fn spawned_cold(node: &Node, pid: Pid, kind: Kind, parent: Option<Pid>) {
    let t = node.telemetry();
    let pid = ("pid", pid.into());
    let kind = ("kind", Value::Str(kind.as_str()));
    match parent {
        Some(p) => t.emit(&SPAWNED, &[], &[pid, kind, ("parent", p.into())]),
        None => t.emit(&SPAWNED, &[], &[pid, kind]),
    }
}

#[inline]
pub(crate) fn exited(node: &Node, pid: Pid, kind: Kind, started_ms: Option<u64>, reason: &Exit) {
    if node.telemetry().enabled(&EXITED) {
        exited_cold(node, pid, kind, started_ms, reason);
    }
}

#[cold]
#[inline(never)]
fn exited_cold(node: &Node, pid: Pid, kind: Kind, started_ms: Option<u64>, reason: &Exit) {
    // Start times have millisecond resolution (see `Core::started_ms`), so the lifetime does.
    // A process that ended before it ever ran lived for no time.
    let now = node.now_ms();
    let lifetime_ms = now.saturating_sub(started_ms.unwrap_or(now));
    let lifetime = std::time::Duration::from_millis(lifetime_ms);
    node.telemetry().emit(
        &EXITED,
        &[("lifetime", lifetime.into())],
        &[
            ("pid", pid.into()),
            ("kind", Value::Str(kind.as_str())),
            ("reason", Value::Typed(reason)),
        ],
    );
}

/// What an exit signal did to its receiver, for `exit_signal`'s `outcome`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Outcome {
    Killed,
    Trapped,
    Ignored,
}

#[inline]
pub(crate) fn exit_signal(
    node: &Node,
    from: Pid,
    to: Pid,
    reason: &Exit,
    link: bool,
    outcome: Outcome,
) {
    if node.telemetry().enabled(&EXIT_SIGNAL) {
        exit_signal_cold(node, from, to, reason, link, outcome);
    }
}

#[cold]
#[inline(never)]
fn exit_signal_cold(node: &Node, from: Pid, to: Pid, reason: &Exit, link: bool, outcome: Outcome) {
    let outcome = match outcome {
        Outcome::Killed => "killed",
        Outcome::Trapped => "trapped",
        Outcome::Ignored => "ignored",
    };
    node.telemetry().emit(
        &EXIT_SIGNAL,
        &[],
        &[
            ("from", from.into()),
            ("to", to.into()),
            ("reason", Value::Typed(reason)),
            ("link", Value::Bool(link)),
            ("outcome", Value::Str(outcome)),
        ],
    );
}

#[inline]
pub(crate) fn down(node: &Node, watcher: Pid, watched: Pid, reason: &Exit) {
    if node.telemetry().enabled(&DOWN) {
        down_cold(node, watcher, watched, reason);
    }
}

#[cold]
#[inline(never)]
fn down_cold(node: &Node, watcher: Pid, watched: Pid, reason: &Exit) {
    node.telemetry().emit(
        &DOWN,
        &[],
        &[
            ("watcher", watcher.into()),
            ("watched", watched.into()),
            ("reason", Value::Typed(reason)),
        ],
    );
}

#[cold]
#[inline(never)]
pub(crate) fn call_timeout(node: &Node, caller: Pid, server: Pid, timeout: Duration) {
    node.telemetry().emit(
        &CALL_TIMEOUT,
        &[("timeout", timeout.into())],
        &[("caller", caller.into()), ("server", server.into())],
    );
}

/// After a send that made `pid`'s mailbox `len` long: one comparison unless the length is
/// exactly the node's alert threshold (never, when there is none: a push leaves at least one).
///
/// The pid is asked for only then: a sender reads nothing of the receiver's cell but its
/// mailbox (the pid sits near what the receiver writes on every poll).
#[inline]
pub(crate) fn mailbox_len(node: &Node, pid: impl FnOnce() -> Pid, len: usize) {
    let threshold = node.inner.mailbox_alert;
    if len == threshold {
        mailbox_long_cold(node, pid(), len);
    }
}

#[cold]
#[inline(never)]
fn mailbox_long_cold(node: &Node, pid: Pid, len: usize) {
    node.telemetry().emit(
        &MAILBOX_LONG,
        &[("length", len.into())],
        &[("pid", pid.into()), ("threshold", len.into())],
    );
}

/// After a poll of `pid` that the scheduler's monitor found too long: it ran at least `ran`.
#[cold]
#[inline(never)]
pub(crate) fn long_poll(node: &Node, pid: Pid, ran: Duration) {
    if node.telemetry().enabled(&LONG_POLL) {
        node.telemetry().emit(
            &LONG_POLL,
            &[("duration", ran.into())],
            &[("pid", pid.into())],
        );
    }
}

/// As `pid` dies of its mailbox's kill limit, with `length` messages queued.
#[cold]
#[inline(never)]
pub(crate) fn mailbox_killed(node: &Node, pid: Pid, length: usize, limit: usize) {
    node.telemetry().emit(
        &MAILBOX_KILLED,
        &[("length", length.into())],
        &[("pid", pid.into()), ("limit", limit.into())],
    );
}
