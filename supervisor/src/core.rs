//! What both supervisor flavours share: children's bookkeeping, stopping children, reports,
//! restart timers.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use beamish_process::{Ctx, Exit, Message, Node, Pid, Ref};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::time::Instant;

use crate::emit;
use crate::info::{ChildInfo, ChildStatus};
use crate::request::Request;
use crate::restarts::Subscribers;
use crate::spec::ChildSpec;
use crate::types::{Restart, Shutdown};

/// A supervised child: its spec and where it stands.
pub(crate) struct Child<A> {
    /// Unique within the supervisor, stable across restarts (timers and retries name it).
    pub(crate) key: u64,
    pub(crate) spec: ChildSpec<A>,
    pub(crate) status: ChildStatus,
    pub(crate) restarts: u64,
    /// When the current instance started (for the backoff's reset).
    pub(crate) started_at: Instant,
    /// Consecutive backoff attempts.
    pub(crate) attempt: u32,
    /// The backoff being waited out.
    pub(crate) waiting: Option<Duration>,
    /// The pid of the latest instance (kept while the child is not running, so that a
    /// restart can say which process it replaces).
    pub(crate) last_pid: Option<Pid>,
}

impl<A> Child<A> {
    pub(crate) fn new(key: u64, spec: ChildSpec<A>, status: ChildStatus) -> Child<A> {
        Child {
            key,
            spec,
            status,
            restarts: 0,
            started_at: Instant::now(),
            attempt: 0,
            waiting: None,
            last_pid: status.pid(),
        }
    }

    pub(crate) fn info(&self, with_id: bool) -> ChildInfo {
        ChildInfo {
            id: with_id.then(|| self.spec.id.clone()),
            status: self.status,
            kind: self.spec.kind,
            restart: self.spec.restart,
            restarts: self.restarts,
            backoff: self.waiting,
        }
    }

    /// The child is running again as `pid` after a restart: the one place both flavours
    /// count a restart, in the child's info and in the node's totals (issue 5), emit its
    /// event and tell the restart subscribers.
    pub(crate) fn restarted(&mut self, pid: Pid, ctx: &Ctx<Request>, subs: &mut Subscribers) {
        self.status = ChildStatus::Running(pid);
        self.started_at = Instant::now();
        self.restarts += 1;
        self.waiting = None;
        let old = self.last_pid.replace(pid);
        ctx.node().count_restart();
        emit::child_restarted(ctx.node(), ctx.pid(), &self.spec.id, pid, self.restarts);
        subs.notify(&self.spec.id, old, pid, self.restarts);
    }

    /// The child runs as `pid` after a start that is not a restart (`restart_child`).
    pub(crate) fn running(&mut self, pid: Pid) {
        self.status = ChildStatus::Running(pid);
        self.started_at = Instant::now();
        self.last_pid = Some(pid);
    }

    /// Whether an exit with `reason` restarts this child (R-SUP-RT).
    pub(crate) fn restarts_after(&self, reason: &Exit) -> bool {
        match self.spec.restart {
            Restart::Permanent => true,
            Restart::Transient => reason.is_abnormal(),
            Restart::Temporary => false,
        }
    }

    /// The backoff wait before the next restart, if the child has a backoff.
    pub(crate) fn next_backoff(&mut self, rng: &mut Rng) -> Option<Duration> {
        let b = self.spec.backoff?;
        if self.started_at.elapsed() >= b.reset_window() {
            self.attempt = 0;
        }
        let d = b.delay(self.attempt, rng.next_f64());
        self.attempt = self.attempt.saturating_add(1);
        Some(d)
    }
}

/// Reports (R-SUP-REPORT), each both a `tracing` event with target `beamish_supervisor` and a
/// field `report` naming the OTP report, and a telemetry event (`emit.rs`).
pub(crate) mod report {
    use super::*;

    /// Whether OTP reports this exit as `child_terminated` (checked on OTP 25.2.3): every exit
    /// of a permanent child (it is restarted, so it counts, even after `normal`), and only the
    /// abnormal exits of transient and temporary children (R-SUP-REPORT, R-EXIT-3).
    pub(crate) fn is_reported(restart: Restart, reason: &Exit) -> bool {
        restart == Restart::Permanent || reason.is_abnormal()
    }

    pub(crate) fn child_terminated(
        node: &Node,
        sup: Pid,
        id: &str,
        pid: Pid,
        reason: &Exit,
        restart: Restart,
    ) {
        if !is_reported(restart, reason) {
            return;
        }
        tracing::error!(
            target: "beamish_supervisor",
            report = "child_terminated",
            supervisor = %sup,
            child = id,
            pid = %pid,
            reason = %reason,
            "child terminated"
        );
        emit::child_terminated(node, sup, id, pid, reason, restart);
    }

    pub(crate) fn start_error(node: &Node, sup: Pid, id: &str, reason: &Exit) {
        tracing::error!(
            target: "beamish_supervisor",
            report = "start_error",
            supervisor = %sup,
            child = id,
            reason = %reason,
            "child failed to start"
        );
        emit::start_error(node, sup, id, reason);
    }

    pub(crate) fn shutdown_error(node: &Node, sup: Pid, id: Option<&str>, pid: Pid, reason: &Exit) {
        tracing::error!(
            target: "beamish_supervisor",
            report = "shutdown_error",
            supervisor = %sup,
            child = id.unwrap_or("undefined"),
            pid = %pid,
            reason = %reason,
            "child did not shut down cleanly"
        );
        emit::shutdown_error(node, sup, id, pid, reason);
    }

    pub(crate) fn reached_max_restart_intensity(sup: Pid, id: Option<&str>) {
        tracing::error!(
            target: "beamish_supervisor",
            report = "reached_max_restart_intensity",
            supervisor = %sup,
            child = id.unwrap_or("undefined"),
            "restart intensity reached: shutting down"
        );
    }
}

/// Whether a shutdown ended as it should: `shutdown` (or already gone, or a clean exit) after
/// a shutdown signal, `killed` after a brutal kill.
fn expected(policy: Shutdown, reason: &Exit) -> bool {
    match policy {
        Shutdown::BrutalKill => matches!(reason, Exit::Killed | Exit::NoProc),
        _ => reason.is_normal_or_shutdown() || *reason == Exit::NoProc,
    }
}

async fn wait_down(ctx: &mut Ctx<Request>, mref: Ref) -> Exit {
    match ctx.recv_matching(|m| m.down_ref() == Some(mref)).await {
        Message::Down(d) => d.reason,
        _ => unreachable!("only a DOWN matches"),
    }
}

/// Stops one child (R-SUP-SHUT): watched through a monitor, not the link (so a child that
/// unlinked cannot hang the supervisor), unlinked so that its exit signal does not come back
/// as a message, then sent `shutdown` (or `kill`), and killed if it outlives its timeout.
/// Reports a `shutdown_error` for an unexpected reason.
pub(crate) async fn shutdown_child(
    ctx: &mut Ctx<Request>,
    id: Option<&str>,
    pid: Pid,
    policy: Shutdown,
) -> Exit {
    let mref = ctx.monitor(pid);
    ctx.unlink(pid);
    let reason = match policy {
        Shutdown::BrutalKill => {
            ctx.exit(pid, Exit::Kill);
            wait_down(ctx, mref).await
        }
        Shutdown::Timeout(t) => {
            ctx.exit(pid, Exit::Shutdown);
            match tokio::time::timeout(t, wait_down(ctx, mref)).await {
                Ok(r) => r,
                Err(_) => {
                    ctx.exit(pid, Exit::Kill);
                    wait_down(ctx, mref).await
                }
            }
        }
        Shutdown::Infinity => {
            ctx.exit(pid, Exit::Shutdown);
            wait_down(ctx, mref).await
        }
    };
    if !expected(policy, &reason) {
        report::shutdown_error(ctx.node(), ctx.pid(), id, pid, &reason);
    }
    reason
}

/// Stops many children at once, as a dynamic supervisor does when it terminates (R-DS-4,
/// R-SUP-SHUT): every child gets its signal at the same time and each one still running when
/// its own timeout runs out is killed. Used only when the supervisor is about to exit; it does
/// not read its mailbox meanwhile (what is queued there is dropped with it, and callers see
/// its exit).
///
/// The monitors here report to the supervisor's code directly (one `Node::monitor` each)
/// rather than as `DOWN` messages: 100,000 children ending together would otherwise put
/// 100,000 signals in the supervisor's control lane at once, and turning each into a message
/// costs time in proportion to the signals still waiting.
pub(crate) async fn shutdown_concurrently(
    ctx: &mut Ctx<Request>,
    children: impl IntoIterator<Item = (Pid, Shutdown)>,
) {
    let node = ctx.node().clone();
    let now = Instant::now();
    let mut downs = FuturesUnordered::new();
    let mut deadlines = Vec::new();
    let mut done = Vec::new();
    for (i, (pid, policy)) in children.into_iter().enumerate() {
        let down = node.monitor(pid);
        ctx.unlink(pid);
        match policy {
            Shutdown::BrutalKill => ctx.exit(pid, Exit::Kill),
            Shutdown::Timeout(t) => {
                ctx.exit(pid, Exit::Shutdown);
                deadlines.push((now + t, i, pid));
            }
            Shutdown::Infinity => ctx.exit(pid, Exit::Shutdown),
        }
        done.push(false);
        downs.push(async move { (i, pid, policy, down.await) });
    }
    // Latest first, so that the next deadline is at the end.
    deadlines.sort_by_key(|&(t, _, _)| Reverse(t));
    let me = ctx.pid();
    loop {
        // Unconstrained: under tokio's cooperative budget, every exhausted poll of a waiting
        // monitor would wake itself, and the set would poll all its futures again for each
        // one that finishes (quadratic with 100,000 children).
        let next_down = tokio::task::coop::unconstrained(downs.next());
        let next = match deadlines.last() {
            Some(&(t, _, _)) => tokio::time::timeout_at(t, next_down).await.ok(),
            None => Some(next_down.await),
        };
        match next {
            // A timeout ran out: kill whoever is still running at theirs. Their `killed` is
            // then reported as a shutdown error, as in OTP.
            None => {
                let now = Instant::now();
                while let Some(&(t, i, pid)) = deadlines.last() {
                    if t > now {
                        break;
                    }
                    deadlines.pop();
                    if !done[i] {
                        ctx.exit(pid, Exit::Kill);
                    }
                }
            }
            Some(Some((i, pid, policy, reason))) => {
                done[i] = true;
                if !expected(policy, &reason) {
                    report::shutdown_error(&node, me, None, pid, &reason);
                }
            }
            Some(None) => return,
        }
    }
}

/// Restart timers for children waiting out a backoff, earliest first.
#[derive(Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<(Instant, u64)>>,
}

impl Timers {
    pub(crate) fn push(&mut self, at: Instant, key: u64) {
        self.heap.push(Reverse((at, key)));
    }

    pub(crate) fn clear(&mut self) {
        self.heap.clear();
    }
}

/// What the supervisor loop handles next.
pub(crate) enum Event {
    Msg(Message<Request>),
    /// The backoff of the child with this key has run out.
    Timer(u64),
}

/// The next message, or the next restart timer if it fires first.
pub(crate) async fn next_event(ctx: &mut Ctx<Request>, timers: &mut Timers) -> Event {
    loop {
        let Some(&Reverse((at, key))) = timers.heap.peek() else {
            return Event::Msg(ctx.recv().await);
        };
        if at <= Instant::now() {
            timers.heap.pop();
            return Event::Timer(key);
        }
        if let Ok(m) = tokio::time::timeout_at(at, ctx.recv()).await {
            return Event::Msg(m);
        }
    }
}

/// A small random source for the backoff's jitter (xorshift, seeded by the std hasher's
/// random keys): no dependency for a few random numbers.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new() -> Rng {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(0x9e37_79b9_7f4a_7c15);
        Rng(h.finish() | 1)
    }

    pub(crate) fn next_f64(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The supervisor's "now" for its restart window.
pub(crate) fn now_std() -> std::time::Instant {
    Instant::now().into_std()
}
