//! What every system shares: the workload definitions, the count-down latch that tells the
//! driver a workload is complete, resident-memory readings, and the one result line.
//!
//! Each system module measures; the functions here turn its raw measurements into an
//! [`Outcome`], so that the metrics and the checks are computed the same way for every system.

use std::fmt::{self, Display};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

use crate::chat::ChatSize;

/// One workload with its sizes, as given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Workload {
    /// Spawn `n` idle actors, wait until all have started, then stop them all.
    Spawn { n: usize },
    /// `n` round trips between two actors.
    PingPong { n: usize },
    /// A token passed `hops` times around a ring of `nodes` actors.
    Ring { nodes: usize, hops: usize },
    /// A 10-ary tree of actors with `leaves` leaves (a power of ten) summing the leaf numbers.
    Skynet { leaves: u64 },
    /// `total` synchronous calls to one counter server, split over `callers` callers.
    Call { callers: usize, total: usize },
    /// One publisher sends `msgs` messages to each of `subs` subscribers.
    Fanout { subs: usize, msgs: usize },
    /// A permanent server under a one-for-one supervisor is killed `kills` times; per kill,
    /// the time until the restarted server has answered a call.
    SupRestart { kills: usize },
    /// A permanent child under a one-for-one supervisor crashes as soon as it starts,
    /// `restarts` times in a row: restarts per second in a tight crash loop.
    SupLoop { restarts: usize },
    /// One publisher broadcasts `msgs` messages on one topic of the system's own pub/sub (or
    /// process groups) to `subs` subscribers.
    PubSub { subs: usize, msgs: usize },
    /// Ping-pong of `n` round trips among `idle` idle processes, alone and then with an
    /// observer reading the whole process table every 10 ms (beamish only, issue 5).
    Observe { n: usize, idle: usize },
    /// `procs` processes each register, look up and unregister their own unique keys in one
    /// registry with `partitions` partitions, `rounds` rounds in all.
    Registry {
        procs: usize,
        partitions: usize,
        rounds: usize,
    },
    /// `n` telemetry emits of an event no handler listens to: the cost the runtime's built-in
    /// events add to its hot paths when nobody attaches (beamish only).
    Emit { n: usize },
    /// `total` calls to one counter server split over `callers` plain tokio tasks (an HTTP
    /// handler's view): what a call from outside the actor system costs.
    OutCall { callers: usize, total: usize },
    /// `total` sequential calls from the `block_on` body itself (`#[tokio::main]`'s thread).
    MainCall { total: usize },
    /// `hogs` actors each compute for [`HOG_CHUNKS`] x [`HOG_CHUNK`] without awaiting
    /// inside a chunk, beside an actor that sleeps 1 ms at a time: its gaps between ticks.
    Fairness { hogs: usize },
    /// `n` timers set at once to one receiving process, all due at the same instant, some
    /// time after the last is set: bytes per pending timer (resident memory), then fires per
    /// second from that instant until the receiver has them all (issue 14).
    Timers { n: usize },
    /// A TCP chat server on 127.0.0.1 loaded from another OS process (`crate::chat`): a
    /// burst (deliveries per second) and a paced phase (latency).
    Chat(ChatSize),
}

/// How long after the start of the timers workload its timers are due: long enough for
/// setting `n` of them, on the slowest system, to end well before.
pub(crate) fn timers_lead(n: usize) -> Duration {
    Duration::from_secs(1) + Duration::from_micros(2 * n as u64)
}

/// How many chunks each hog of the fairness workload computes.
pub(crate) const HOG_CHUNKS: usize = 5;
/// How long one chunk computes, without an `.await`.
pub(crate) const HOG_CHUNK: Duration = Duration::from_millis(200);

/// The skynet size the anchors use: a million leaves, 1.11M actors.
pub(crate) const SKYNET_LEAVES: u64 = 1_000_000;

impl Workload {
    /// Parses `<workload> [args]`; numbers may contain `_` separators.
    pub(crate) fn parse(name: &str, args: &[String]) -> Result<Self, String> {
        let nums = args
            .iter()
            .map(|a| {
                a.replace('_', "")
                    .parse::<u64>()
                    .map_err(|e| format!("bad number {a:?}: {e}"))
            })
            .collect::<Result<Vec<u64>, String>>()?;
        let want = |k: usize| {
            if nums.len() == k {
                Ok(())
            } else {
                Err(format!("{name} takes {k} argument(s), got {}", nums.len()))
            }
        };
        let us = |i: usize| nums[i] as usize;
        let w = match name {
            "spawn" => want(1).map(|()| Workload::Spawn { n: us(0) }),
            "pingpong" => want(1).map(|()| Workload::PingPong { n: us(0) }),
            "ring" => want(2).map(|()| Workload::Ring {
                nodes: us(0),
                hops: us(1),
            }),
            "skynet" => match nums.as_slice() {
                [] => Ok(Workload::Skynet {
                    leaves: SKYNET_LEAVES,
                }),
                [l] => Ok(Workload::Skynet { leaves: *l }),
                _ => Err("skynet takes at most 1 argument (LEAVES)".to_string()),
            },
            "call" => want(2).map(|()| Workload::Call {
                callers: us(0),
                total: us(1),
            }),
            "fanout" => want(2).map(|()| Workload::Fanout {
                subs: us(0),
                msgs: us(1),
            }),
            "registry" => want(3).map(|()| Workload::Registry {
                procs: us(0),
                partitions: us(1),
                rounds: us(2),
            }),
            "suprestart" => want(1).map(|()| Workload::SupRestart { kills: us(0) }),
            "suploop" => want(1).map(|()| Workload::SupLoop { restarts: us(0) }),
            "observe" => want(2).map(|()| Workload::Observe {
                n: us(0),
                idle: us(1),
            }),
            "emit" => want(1).map(|()| Workload::Emit { n: us(0) }),
            "outcall" => want(2).map(|()| Workload::OutCall {
                callers: us(0),
                total: us(1),
            }),
            "maincall" => want(1).map(|()| Workload::MainCall { total: us(0) }),
            "fairness" => want(1).map(|()| Workload::Fairness { hogs: us(0) }),
            "timers" => want(1).map(|()| Workload::Timers { n: us(0) }),
            "chat" => want(4).map(|()| {
                Workload::Chat(ChatSize {
                    clients: us(0),
                    rooms: us(1),
                    burst: us(2),
                    rate: us(3),
                })
            }),
            "pubsub" => want(2).map(|()| Workload::PubSub {
                subs: us(0),
                msgs: us(1),
            }),
            other => Err(format!("unknown workload {other:?}")),
        }?;
        w.validate()?;
        Ok(w)
    }

    fn validate(self) -> Result<(), String> {
        let ok = match self {
            Workload::Spawn { n }
            | Workload::PingPong { n }
            | Workload::Emit { n }
            | Workload::Timers { n } => n > 0,
            Workload::MainCall { total } => total > 0,
            Workload::Fairness { hogs } => hogs > 0,
            Workload::OutCall { callers, total } => callers > 0 && total >= callers,
            Workload::Ring { nodes, hops } => nodes > 0 && hops > 0,
            // Every inner node has exactly ten children, so the leaf count is a power of ten.
            Workload::Skynet { leaves } => leaves >= 1 && 10u64.pow(leaves.ilog10()) == leaves,
            Workload::Call { callers, total } => callers > 0 && total >= callers,
            Workload::Fanout { subs, msgs } | Workload::PubSub { subs, msgs } => {
                subs > 0 && msgs > 0
            }
            Workload::SupRestart { kills } => kills > 0,
            Workload::SupLoop { restarts } => restarts > 0,
            // Split into four segments, alternately observed.
            Workload::Observe { n, .. } => n >= 4,
            Workload::Registry {
                procs,
                partitions,
                rounds,
            } => procs > 0 && partitions > 0 && rounds >= procs,
            Workload::Chat(size) => size.valid(),
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "invalid sizes for {}: counts must be positive, skynet leaves a power of ten, \
                 call TOTAL >= CALLERS, observe N >= 4, chat ROOMS <= CLIENTS",
                self.name()
            ))
        }
    }

    /// The name used in the result line.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Workload::Spawn { .. } => "spawn",
            Workload::PingPong { .. } => "pingpong",
            Workload::Ring { .. } => "ring",
            Workload::Skynet { .. } => "skynet",
            Workload::Call { .. } => "call",
            Workload::Fanout { .. } => "fanout",
            Workload::SupRestart { .. } => "suprestart",
            Workload::SupLoop { .. } => "suploop",
            Workload::Observe { .. } => "observe",
            Workload::PubSub { .. } => "pubsub",
            Workload::Registry { .. } => "registry",
            Workload::Emit { .. } => "emit",
            Workload::OutCall { .. } => "outcall",
            Workload::MainCall { .. } => "maincall",
            Workload::Fairness { .. } => "fairness",
            Workload::Timers { .. } => "timers",
            Workload::Chat(_) => "chat",
        }
    }
}

/// Raw measurements of the fairness workload: the ticker's gaps while the hogs computed.
#[derive(Debug)]
pub(crate) struct FairnessRun {
    pub(crate) hogs: usize,
    /// The gaps between consecutive ticks while any hog was computing.
    pub(crate) gaps: Vec<Duration>,
    /// Hogs that finished every chunk.
    pub(crate) hogs_done: usize,
}

impl FairnessRun {
    pub(crate) fn outcome(mut self) -> Outcome {
        self.gaps.sort_unstable();
        let ms = |d: Duration| Fmt1(nanos(d) / 1e6);
        let at = |q: f64| {
            let i = ((self.gaps.len() as f64 * q).ceil() as usize).saturating_sub(1);
            self.gaps.get(i).copied().unwrap_or_default()
        };
        let worst = self.gaps.last().copied().unwrap_or_default();
        Outcome::new("fairness")
            .field("hogs", self.hogs)
            .field("worst_gap_ms", ms(worst))
            .field("p99_gap_ms", ms(at(0.99)))
            .field("p50_gap_ms", ms(at(0.5)))
            .field("ticks", self.gaps.len())
            .require(self.hogs_done == self.hogs, || {
                format!("{} of {} hogs finished", self.hogs_done, self.hogs)
            })
            .require(self.gaps.len() >= 2, || {
                "the ticker never ticked".to_string()
            })
    }
}

/// Computes for `span` without yielding (the fairness workload's hogs).
pub(crate) fn compute_for(span: Duration) {
    let start = std::time::Instant::now();
    let mut x = 0u64;
    while start.elapsed() < span {
        for i in 0..1_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
    }
}

/// Count-down latch: actors count down, the last one wakes the single waiting driver.
///
/// The count is signed so that a workload which counts down more often than expected is seen
/// (the count goes below zero) instead of wrapping around.
#[derive(Debug)]
pub(crate) struct Latch {
    left: AtomicIsize,
    notify: Notify,
}

impl Latch {
    /// A latch that opens after `n` count-downs.
    pub(crate) fn new(n: usize) -> Arc<Self> {
        Arc::new(Latch {
            left: AtomicIsize::new(n as isize),
            notify: Notify::new(),
        })
    }

    /// Counts one down; the one that reaches zero wakes the waiter.
    #[inline]
    pub(crate) fn count_down(&self) {
        if self.left.fetch_sub(1, Ordering::AcqRel) == 1 {
            // notify_one stores a permit when nobody waits yet, so the wake-up is never lost.
            self.notify.notify_one();
        }
    }

    /// Waits until the count has reached zero.
    pub(crate) async fn wait(&self) {
        while self.left.load(Ordering::Acquire) > 0 {
            self.notify.notified().await;
        }
    }

    /// The count now: zero once complete, negative after surplus count-downs.
    pub(crate) fn left(&self) -> isize {
        self.left.load(Ordering::Acquire)
    }
}

/// Resident set size of this process, in bytes (`/proc/self/statm` times the page size).
pub(crate) fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * page_size()
}

/// The page size from the auxiliary vector (`AT_PAGESZ`), so that statm's page counts are
/// right on kernels with pages other than 4 KiB; falls back to 4 KiB.
fn page_size() -> u64 {
    const AT_PAGESZ: u64 = 6;
    let auxv = std::fs::read("/proc/self/auxv").unwrap_or_default();
    auxv.chunks_exact(16)
        .map(|e| {
            let word = |b: &[u8]| u64::from_ne_bytes(b.try_into().expect("8 bytes"));
            (word(&e[..8]), word(&e[8..]))
        })
        .find(|&(key, _)| key == AT_PAGESZ)
        .map_or(4096, |(_, v)| v)
}

/// Nanoseconds in `d`, as a float for per-item division.
pub(crate) fn nanos(d: Duration) -> f64 {
    d.as_nanos() as f64
}

/// A finished workload: its metrics and whether its own result checked out.
#[derive(Debug)]
pub(crate) struct Outcome {
    workload: &'static str,
    fields: Vec<(&'static str, String)>,
    failures: Vec<String>,
}

impl Outcome {
    /// An outcome of `workload` with no fields yet.
    pub(crate) fn new(workload: &'static str) -> Self {
        Outcome {
            workload,
            fields: Vec::new(),
            failures: Vec::new(),
        }
    }

    /// Adds `key=value` to the result line.
    pub(crate) fn field(mut self, key: &'static str, value: impl Display) -> Self {
        self.fields.push((key, value.to_string()));
        self
    }

    /// Records a failed check unless `ok`.
    pub(crate) fn require(mut self, ok: bool, what: impl FnOnce() -> String) -> Self {
        if !ok {
            self.failures.push(what());
        }
        self
    }

    /// Whether every check passed.
    pub(crate) fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// Prints the one `RESULT` line for `system`; returns the process exit code.
    pub(crate) fn print(&self, system: &str) -> i32 {
        let line = self.line(system);
        let mut out = std::io::stdout().lock();
        // The process exits without unwinding right after this, so flush here.
        let written = writeln!(out, "{line}").and_then(|()| out.flush());
        if written.is_err() || !self.passed() {
            1
        } else {
            0
        }
    }

    fn line(&self, system: &str) -> String {
        let mut s = format!("RESULT\t{system}\t{}", self.workload);
        for (k, v) in &self.fields {
            s.push_str(&format!("\t{k}={v}"));
        }
        if self.passed() {
            s.push_str("\tcheck=ok");
        } else {
            // Keep the line one tab-separated record: no tabs or newlines inside the detail.
            let detail = self.failures.join("; ").replace(['\t', '\n'], " ");
            s.push_str(&format!("\tcheck=FAILED\tdetail={detail}"));
        }
        s
    }
}

fn per(total: f64, n: usize) -> Fmt1 {
    Fmt1(total / n as f64)
}

fn rate(count: usize, elapsed: Duration) -> Fmt0 {
    Fmt0(count as f64 / elapsed.as_secs_f64())
}

/// One decimal.
struct Fmt1(f64);
impl Display for Fmt1 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.1}", self.0)
    }
}

/// No decimals.
struct Fmt0(f64);
impl Display for Fmt0 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.0}", self.0)
    }
}

/// Raw measurements of the spawn workload.
#[derive(Debug)]
pub(crate) struct SpawnRun {
    pub(crate) n: usize,
    /// From the first spawn call until the spawn loop returned.
    pub(crate) spawn_loop: Duration,
    /// From the first spawn call until every actor's start hook had run.
    pub(crate) all_started: Duration,
    /// From the first stop message until every actor had stopped.
    pub(crate) all_stopped: Duration,
    pub(crate) rss_before: u64,
    pub(crate) rss_started: u64,
    /// How many stop messages were accepted by the mailboxes.
    pub(crate) stops_sent: usize,
    pub(crate) ready: Arc<Latch>,
    pub(crate) done: Arc<Latch>,
}

impl SpawnRun {
    pub(crate) fn outcome(self) -> Outcome {
        let n = self.n;
        let rss = (self.rss_started as f64 - self.rss_before as f64) / n as f64;
        Outcome::new("spawn")
            .field("n", n)
            .field("ns_per", per(nanos(self.all_started), n))
            .field("rss_bytes_per", Fmt1(rss))
            .field("loop_ns_per", per(nanos(self.spawn_loop), n))
            .field("stop_ns_per", per(nanos(self.all_stopped), n))
            .require(self.stops_sent == n, || {
                format!("{} of {n} stop messages accepted", self.stops_sent)
            })
            .require(self.ready.left() == 0 && self.done.left() == 0, || {
                format!(
                    "start/stop hooks ran {} / {} times for {n} actors",
                    n as isize - self.ready.left(),
                    n as isize - self.done.left()
                )
            })
    }
}

/// Raw measurements of ping-pong: both players count the balls they received.
#[derive(Debug)]
pub(crate) struct PingPongRun {
    pub(crate) n: usize,
    pub(crate) elapsed: Duration,
    pub(crate) pinger_got: u64,
    pub(crate) ponger_got: u64,
}

impl PingPongRun {
    pub(crate) fn outcome(self) -> Outcome {
        let n = self.n;
        Outcome::new("pingpong")
            .field("n", n)
            .field("ns_per_rt", per(nanos(self.elapsed), n))
            .require(
                self.pinger_got == n as u64 && self.ponger_got == n as u64,
                || {
                    format!(
                        "pinger received {}, ponger received {}, expected {n} each",
                        self.pinger_got, self.ponger_got
                    )
                },
            )
    }
}

/// Raw measurements of the ring: each node counts the tokens it handled.
#[derive(Debug)]
pub(crate) struct RingRun {
    pub(crate) nodes: usize,
    pub(crate) hops: usize,
    pub(crate) elapsed: Duration,
    /// Sum of every node's count of tokens received (the driver's first send included).
    pub(crate) handled: u64,
    /// Index of the node that received the token with value zero.
    pub(crate) last_node: usize,
}

impl RingRun {
    pub(crate) fn outcome(self) -> Outcome {
        let (nodes, hops) = (self.nodes, self.hops);
        Outcome::new("ring")
            .field("nodes", nodes)
            .field("hops", hops)
            .field("msgs_per_s", rate(hops, self.elapsed))
            .field("ms", Fmt1(nanos(self.elapsed) / 1e6))
            .require(self.handled == hops as u64 + 1, || {
                format!(
                    "nodes handled {} tokens, expected {} (hops + the first send)",
                    self.handled,
                    hops + 1
                )
            })
            .require(self.last_node == hops % nodes, || {
                format!(
                    "token ended at node {}, expected node {}",
                    self.last_node,
                    hops % nodes
                )
            })
    }
}

/// The sum of the leaf numbers `0..leaves`.
pub(crate) fn skynet_expected(leaves: u64) -> u64 {
    leaves * (leaves - 1) / 2
}

/// Raw measurements of skynet.
#[derive(Debug)]
pub(crate) struct SkynetRun {
    pub(crate) leaves: u64,
    pub(crate) elapsed: Duration,
    pub(crate) sum: u64,
}

impl SkynetRun {
    pub(crate) fn outcome(self) -> Outcome {
        let want = skynet_expected(self.leaves);
        Outcome::new("skynet")
            .field("leaves", self.leaves)
            .field("ms", Fmt1(nanos(self.elapsed) / 1e6))
            .field("sum", self.sum)
            .require(self.sum == want, || {
                format!("sum {} != expected {want}", self.sum)
            })
    }
}

/// Raw measurements of the call workload.
#[derive(Debug)]
pub(crate) struct CallRun {
    pub(crate) callers: usize,
    /// Calls made in the timed part: `callers * (total / callers)`.
    pub(crate) calls: usize,
    pub(crate) elapsed: Duration,
    /// The server's answer to one more call after the timed part: its own count.
    pub(crate) final_reply: u64,
}

impl CallRun {
    pub(crate) fn outcome(self) -> Outcome {
        self.outcome_as("call")
    }

    /// The same figures under another workload's name (calls from outside the system), with
    /// the time per call too: one caller's calls are sequential.
    pub(crate) fn outcome_as(self, workload: &'static str) -> Outcome {
        let ns_per_call = per(nanos(self.elapsed), self.calls / self.callers);
        self.outcome_named(workload)
            .field("ns_per_call", ns_per_call)
    }

    fn outcome_named(self, workload: &'static str) -> Outcome {
        let want = self.calls as u64 + 1;
        Outcome::new(workload)
            .field("callers", self.callers)
            .field("calls", self.calls)
            .field("calls_per_s", rate(self.calls, self.elapsed))
            .require(self.final_reply == want, || {
                format!(
                    "server counted {} calls, expected {}",
                    self.final_reply.saturating_sub(1),
                    self.calls
                )
            })
    }
}

/// What one fan-out subscriber saw.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SubStats {
    pub(crate) count: u64,
    pub(crate) sum: u64,
    /// Messages that did not arrive in the order they were published.
    pub(crate) out_of_order: u64,
}

impl SubStats {
    /// Records published value `v` (the publisher sends `0, 1, 2, ...`).
    #[inline]
    pub(crate) fn record(&mut self, v: u64) {
        if v != self.count {
            self.out_of_order += 1;
        }
        self.count += 1;
        self.sum += v;
    }
}

/// Raw measurements of fan-out.
#[derive(Debug)]
pub(crate) struct FanoutRun {
    pub(crate) subs: usize,
    pub(crate) msgs: usize,
    pub(crate) elapsed: Duration,
    /// Every subscriber's own stats, asked after the timed part.
    pub(crate) stats: Vec<SubStats>,
}

impl FanoutRun {
    pub(crate) fn outcome(self) -> Outcome {
        self.outcome_as("fanout")
    }

    /// The same figures and checks under another workload's name (`pubsub` measures the same
    /// thing through each system's pub/sub layer).
    pub(crate) fn outcome_as(self, workload: &'static str) -> Outcome {
        let (subs, msgs) = (self.subs, self.msgs as u64);
        let want = SubStats {
            count: msgs,
            sum: msgs * (msgs - 1) / 2,
            out_of_order: 0,
        };
        let bad = self.stats.iter().filter(|s| **s != want).count();
        let delivered: u64 = self.stats.iter().map(|s| s.count).sum();
        Outcome::new(workload)
            .field("subs", subs)
            .field("msgs", msgs)
            .field("deliveries_per_s", rate(subs * self.msgs, self.elapsed))
            .require(self.stats.len() == subs && bad == 0, || {
                format!(
                    "{bad} of {} subscribers saw a wrong count, sum or order; \
                     {delivered} deliveries, expected {}",
                    self.stats.len(),
                    subs as u64 * msgs
                )
            })
    }
}

/// The nearest-rank percentile `p` (0 < p <= 1) of `sorted` (ascending, not empty): the
/// smallest value with at least `p` of the values at or below it. `bench/erl` uses the same.
pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median of `sorted` (ascending, not empty): the middle value, or the mean of the two.
pub(crate) fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// Raw measurements of suprestart.
#[derive(Debug)]
pub(crate) struct SupRestartRun {
    pub(crate) kills: usize,
    /// Per observed restart: from the kill until the new server's reply to a call.
    pub(crate) latencies: Vec<Duration>,
    /// Restarts the supervisor itself counted for the child.
    pub(crate) restarts: u64,
    /// Restarts whose server had the same pid as the one killed (must be none).
    pub(crate) same_pid: usize,
}

impl SupRestartRun {
    pub(crate) fn outcome(self) -> Outcome {
        let kills = self.kills;
        let mut us: Vec<f64> = self.latencies.iter().map(|d| nanos(*d) / 1e3).collect();
        us.sort_by(f64::total_cmp);
        let (med, p50, p99) = if us.is_empty() {
            (f64::NAN, f64::NAN, f64::NAN)
        } else {
            (median(&us), percentile(&us, 0.5), percentile(&us, 0.99))
        };
        Outcome::new("suprestart")
            .field("kills", kills)
            .field("us_per_restart", Fmt1(med))
            .field("p50_us", Fmt1(p50))
            .field("p99_us", Fmt1(p99))
            .require(us.len() == kills && self.same_pid == 0, || {
                format!(
                    "{} of {kills} restarts observed, {} with the killed server's pid",
                    us.len(),
                    self.same_pid
                )
            })
            .require(self.restarts == kills as u64, || {
                format!(
                    "the supervisor counted {} restarts for {kills} kills",
                    self.restarts
                )
            })
    }
}

/// Raw measurements of suploop.
#[derive(Debug)]
pub(crate) struct SupLoopRun {
    pub(crate) restarts: usize,
    /// From the supervisor's start until the child's `restarts + 1`-th start.
    pub(crate) elapsed: Duration,
    /// Child starts seen (must be `restarts + 1`: the first start and every restart).
    pub(crate) starts: usize,
    /// Restarts the supervisor itself counted (must be `restarts`; beamish only: OTP has no
    /// such count, and the BEAM side reports the starts it saw instead).
    pub(crate) counted: u64,
}

impl SupLoopRun {
    pub(crate) fn outcome(self) -> Outcome {
        let n = self.restarts;
        Outcome::new("suploop")
            .field("restarts", n)
            .field("restarts_per_s", rate(n, self.elapsed))
            .require(self.starts == n + 1, || {
                format!(
                    "{} child starts for {n} restarts (want {})",
                    self.starts,
                    n + 1
                )
            })
            .require(self.counted == n as u64, || {
                format!("the supervisor counted {} restarts, want {n}", self.counted)
            })
    }
}

/// Raw measurements of observe: the same ping-pong alone and under an observer.
#[derive(Debug)]
pub(crate) struct ObserveRun {
    pub(crate) n: usize,
    pub(crate) idle: usize,
    /// Round trips timed without and with the observer (`n` each).
    pub(crate) alone: Duration,
    pub(crate) observed: Duration,
    /// Observer passes (each: `processes()`, `top_by_mailbox(5)`, `totals()`) and their
    /// total time.
    pub(crate) reads: usize,
    pub(crate) read_time: Duration,
    /// Balls counted by the players, summed over the segments (must be `n` per mode and
    /// player).
    pub(crate) got: [u64; 2],
    /// Processes each observer pass saw, at least (the idle ones and the players).
    pub(crate) min_seen: usize,
    /// One observer pass on the quiet node, before the ping-pong.
    pub(crate) quiet_read: Duration,
}

impl ObserveRun {
    pub(crate) fn outcome(self) -> Outcome {
        let n = self.n;
        let alone = nanos(self.alone) / n as f64;
        let observed = nanos(self.observed) / n as f64;
        Outcome::new("observe")
            .field("n", n)
            .field("idle", self.idle)
            .field("observed_ns_per_rt", Fmt1(observed))
            .field("alone_ns_per_rt", Fmt1(alone))
            .field("ratio", Fmt3(observed / alone))
            .field("reads", self.reads)
            .field(
                "read_us",
                Fmt1(nanos(self.read_time) / 1e3 / self.reads.max(1) as f64),
            )
            .field("quiet_read_us", Fmt1(nanos(self.quiet_read) / 1e3))
            .require(self.got == [2 * n as u64; 2], || {
                format!(
                    "players received {:?}, expected {} each over both modes",
                    self.got,
                    2 * n
                )
            })
            .require(self.reads > 0, || "the observer never ran".to_string())
            .require(self.min_seen >= self.idle, || {
                format!(
                    "an observer pass saw {} processes, fewer than the {} idle ones",
                    self.min_seen, self.idle
                )
            })
    }
}

/// Three decimals.
struct Fmt3(f64);
impl Display for Fmt3 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3}", self.0)
    }
}

/// Raw measurements of the registry workload.
#[derive(Debug)]
pub(crate) struct RegistryRun {
    pub(crate) procs: usize,
    pub(crate) partitions: usize,
    /// Rounds made: `procs * (rounds / procs)`; each is a register, a lookup, an unregister.
    pub(crate) rounds: usize,
    pub(crate) elapsed: Duration,
    /// Rounds where every step did what it should (registered, found itself, gone after).
    pub(crate) good: usize,
    /// Entries left in the registry afterwards (must be none).
    pub(crate) left: usize,
}

impl RegistryRun {
    pub(crate) fn outcome(self) -> Outcome {
        let rounds = self.rounds;
        Outcome::new("registry")
            .field("procs", self.procs)
            .field("partitions", self.partitions)
            .field("rounds", rounds)
            .field("ops_per_s", rate(3 * rounds, self.elapsed))
            .require(self.good == rounds && self.left == 0, || {
                format!(
                    "{} of {rounds} rounds went right; {} entries left",
                    self.good, self.left
                )
            })
    }
}

/// Raw measurements of the emit workload.
#[derive(Debug)]
pub(crate) struct EmitRun {
    pub(crate) n: usize,
    pub(crate) elapsed: Duration,
    /// Whether the event was enabled (must not be: the workload measures the no-handler path).
    pub(crate) enabled: bool,
}

impl EmitRun {
    pub(crate) fn outcome(self) -> Outcome {
        let n = self.n;
        Outcome::new("emit")
            .field("n", n)
            .field(
                "ns_per_emit",
                format!("{:.2}", self.elapsed.as_nanos() as f64 / n as f64),
            )
            .require(!self.enabled, || {
                "a handler listens to the event".to_string()
            })
    }
}

/// Raw measurements of the timers workload.
#[derive(Debug)]
pub(crate) struct TimersRun {
    pub(crate) n: usize,
    /// Setting all `n` timers.
    pub(crate) set: Duration,
    /// Whether setting them ended before they were due (else the figures mean little).
    pub(crate) set_in_time: bool,
    pub(crate) rss_before: u64,
    /// With all `n` timers pending.
    pub(crate) rss_pending: u64,
    /// From the instant the timers were due until the receiver had the last one.
    pub(crate) fire_all: Duration,
    /// Messages the receiver got, and their sum (the timers carry `0..n`).
    pub(crate) got: u64,
    pub(crate) sum: u64,
    /// Whether the first message arrived at or after the instant the timers were due.
    pub(crate) first_on_time: bool,
}

impl TimersRun {
    pub(crate) fn outcome(self) -> Outcome {
        let n = self.n;
        let want = (n as u64) * (n as u64).saturating_sub(1) / 2;
        let bytes = (self.rss_pending as f64 - self.rss_before as f64) / n as f64;
        Outcome::new("timers")
            .field("n", n)
            .field("fires_per_s", rate(n, self.fire_all))
            .field("bytes_per_timer", Fmt1(bytes))
            .field("set_ns_per", per(nanos(self.set), n))
            .field("fire_ms", Fmt1(nanos(self.fire_all) / 1e6))
            .require(self.got == n as u64 && self.sum == want, || {
                format!(
                    "the receiver got {} messages summing to {}, expected {n} summing to {want}",
                    self.got, self.sum
                )
            })
            .require(self.first_on_time, || {
                "a timer fired before its deadline".to_string()
            })
            .require(self.set_in_time, || {
                "setting the timers took longer than the lead before they were due".to_string()
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn parses_workloads() {
        assert_eq!(
            Workload::parse("ring", &args(&["10_000", "1000000"])),
            Ok(Workload::Ring {
                nodes: 10_000,
                hops: 1_000_000
            })
        );
        assert_eq!(
            Workload::parse("skynet", &[]),
            Ok(Workload::Skynet { leaves: 1_000_000 })
        );
        assert!(Workload::parse("skynet", &args(&["1500"])).is_err());
        assert!(Workload::parse("spawn", &args(&[])).is_err());
        assert!(Workload::parse("call", &args(&["10", "5"])).is_err());
        assert_eq!(
            Workload::parse("suprestart", &args(&["2_000"])),
            Ok(Workload::SupRestart { kills: 2000 })
        );
        assert_eq!(
            Workload::parse("registry", &args(&["2", "1", "10_000"])),
            Ok(Workload::Registry {
                procs: 2,
                partitions: 1,
                rounds: 10_000
            })
        );
        assert!(Workload::parse("registry", &args(&["3", "1", "2"])).is_err());
        assert_eq!(
            Workload::parse("pubsub", &args(&["10000", "100"])),
            Ok(Workload::PubSub {
                subs: 10_000,
                msgs: 100
            })
        );
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), 50.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert_eq!(percentile(&v, 1.0), 100.0);
        assert_eq!(percentile(&[7.0], 0.99), 7.0);
        assert_eq!(median(&v), 50.5);
        assert_eq!(median(&[1.0, 2.0, 9.0]), 2.0);
    }

    #[test]
    fn suprestart_checks_every_restart() {
        let run = |observed: usize, restarts: u64| SupRestartRun {
            kills: 3,
            latencies: vec![Duration::from_micros(10); observed],
            restarts,
            same_pid: 0,
        };
        let ok = run(3, 3).outcome();
        assert!(ok.passed());
        assert!(
            ok.line("beamish")
                .contains("\tus_per_restart=10.0\tp50_us=10.0\tp99_us=10.0\t")
        );
        assert!(!run(2, 3).outcome().passed());
        assert!(!run(3, 4).outcome().passed());
    }

    #[test]
    fn skynet_sum_of_a_million_leaves() {
        assert_eq!(skynet_expected(1_000_000), 499_999_500_000);
    }

    #[test]
    fn failed_check_is_one_record() {
        let o = SkynetRun {
            leaves: 10,
            elapsed: Duration::from_millis(1),
            sum: 44,
        }
        .outcome();
        assert!(!o.passed());
        let line = o.line("tokio");
        assert!(line.starts_with("RESULT\ttokio\tskynet\tleaves=10\tms=1.0\tsum=44\t"));
        assert!(line.ends_with("check=FAILED\tdetail=sum 44 != expected 45"));
    }

    #[test]
    fn latch_counts_to_zero_and_below() {
        let l = Latch::new(2);
        l.count_down();
        l.count_down();
        assert_eq!(l.left(), 0);
        l.count_down();
        assert_eq!(l.left(), -1);
    }

    #[test]
    fn rss_is_read() {
        assert!(rss_bytes() > 0);
        assert!(page_size().is_power_of_two());
    }
}
