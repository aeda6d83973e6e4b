//! beamish: plain processes (`Node::spawn` / `Ctx::spawn` with a typed `Ctx<M>`, sends through
//! typed `Addr<M>` handles) written the way the Erlang side is, and a `GenServer` for the call
//! workload, a `Supervisor` (the `beamish-supervisor` crate) for suprestart and a `PubSub` hub
//! (the `beamish-pubsub` crate) for pubsub. Messages are bare `u64`s moved into the mailbox: no boxing, no envelope.
//!
//! Runs on the same two-worker tokio runtime as `tokio`, `ractor` and `kameo`.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use beamish_process::{
    Addr, Caller, Ctx, Executor, Exit, GenServer, Message, Node, NodeConfig, Reply, ServerCtx,
    ServerRef,
};
use beamish_pubsub::PubSub;
use beamish_registry::{Keys, Registry};
use beamish_supervisor::{ChildSpec, Started, Strategy, Supervisor};
use beamish_telemetry::events::process::SPAWNED;
use tokio::sync::{mpsc, oneshot};

use crate::common::{
    CallRun, EmitRun, FairnessRun, FanoutRun, HOG_CHUNK, HOG_CHUNKS, Latch, ObserveRun, Outcome,
    PingPongRun, RegistryRun, RingRun, SkynetRun, SpawnRun, SubStats, SupLoopRun, SupRestartRun,
    TimersRun, Workload, compute_for, rss_bytes, timers_lead,
};

/// Asks a ring node, subscriber or ponger to report its own count, and then to stop. Like the raw-tokio side,
/// the processes take a bare `u64` and reserve this value (never a real token or payload) rather
/// than widen every message with an enum for a request made once, after the timed part.
const REPORT: u64 = u64::MAX;

/// Runs one workload on a node started in the ambient tokio runtime: on a multi-thread one
/// (`beamish`) the node runs beamish's own scheduler with as many workers; on a current-thread
/// one (`beamish-st`) its processes are tasks of that one thread.
pub(crate) async fn run(w: Workload) -> Outcome {
    run_on(w, Executor::Auto).await
}

/// [`run`] with the node's processes on `executor` (`beamish-tokio` runs the chat workload
/// with `Executor::Tokio`).
pub(crate) async fn run_on(w: Workload, executor: Executor) -> Outcome {
    // Skynet has up to 1.11M processes alive at once; like the BEAM's `+P 5000000`, raise the
    // limit above the default of 2^20 so that the workload, not the limit, decides.
    let node = Node::new(NodeConfig {
        process_limit: 5_000_000,
        executor,
        ..NodeConfig::default()
    })
    .expect("inside a tokio runtime");
    match w {
        // The application's main task binds the listener and starts the processes.
        Workload::Chat(size) => return crate::chat::beamish::run(&node, size).await,
        Workload::Emit { n } => return emit(&node, n).outcome(),
        // Called from tokio code, not from a process: the driver is the tokio task (or, for
        // maincall, the `block_on` body) that `main` runs this in.
        Workload::OutCall { callers, total } => {
            return outcall(&node, callers, total).await.outcome_as("outcall");
        }
        Workload::MainCall { total } => {
            return maincall(&node, total).await.outcome_as("maincall");
        }
        Workload::Fairness { hogs } => return fairness(&node, hogs).await.outcome(),
        _ => {}
    }
    // The driver is a process, as on the BEAM (`beamish_bench.erl` spawns one): what it
    // spawns, sends and calls starts on a worker, where an application's processes would.
    let (tx, rx) = oneshot::channel();
    node.spawn(move |ctx: Ctx<()>| async move {
        let _ = tx.send(drive(ctx.node().clone(), w).await);
    })
    .expect("spawn the driver");
    rx.await.expect("the driver reports")
}

/// Runs workload `w` from inside a process.
async fn drive(node: Node, w: Workload) -> Outcome {
    let node = &node;
    match w {
        Workload::Spawn { n } => spawn(node, n).await.outcome(),
        Workload::PingPong { n } => pingpong(node, n).await.outcome(),
        Workload::Ring { nodes, hops } => ring(node, nodes, hops).await.outcome(),
        Workload::Skynet { leaves } => skynet(node, leaves).await.outcome(),
        Workload::Call { callers, total } => call(node, callers, total).await.outcome(),
        Workload::Fanout { subs, msgs } => fanout(node, subs, msgs).await.outcome(),
        Workload::SupRestart { kills } => suprestart(node, kills).await.outcome(),
        Workload::SupLoop { restarts } => suploop(node, restarts).await.outcome(),
        Workload::Observe { n, idle } => observe(node, n, idle).await.outcome(),
        Workload::PubSub { subs, msgs } => pubsub(node, subs, msgs).await.outcome_as("pubsub"),
        Workload::Registry {
            procs,
            partitions,
            rounds,
        } => registry(node, procs, partitions, rounds).await.outcome(),
        Workload::Emit { n } => emit(node, n).outcome(),
        Workload::OutCall { .. }
        | Workload::MainCall { .. }
        | Workload::Fairness { .. }
        | Workload::Chat(_) => {
            unreachable!("run drives these from tokio code")
        }
        Workload::Timers { n } => timers(node, n).await.outcome(),
    }
}

/// `n` timers (`Addr::send_after`) to one receiving process, all due at one instant: the
/// node's timer service holds them (no task per timer), and its driver delivers them.
async fn timers(node: &Node, n: usize) -> TimersRun {
    let (done_tx, done_rx) = oneshot::channel();
    let receiver = node
        .spawn(move |mut ctx: Ctx<u64>| async move {
            let (mut got, mut sum) = (0u64, 0u64);
            let mut first = None;
            while got < n as u64 {
                let v = next(&mut ctx).await;
                first.get_or_insert_with(Instant::now);
                got += 1;
                sum += v;
            }
            let _ = done_tx.send((got, sum, first, Instant::now()));
        })
        .expect("spawn the receiver");
    let rss_before = rss_bytes();
    let t0 = Instant::now();
    let due = t0 + timers_lead(n);
    let due_at = tokio::time::Instant::from_std(due);
    for i in 0..n {
        let after = due_at.saturating_duration_since(tokio::time::Instant::now());
        receiver.send_after(i as u64, after);
    }
    let set = t0.elapsed();
    let set_in_time = Instant::now() < due;
    let rss_pending = rss_bytes();
    let (got, sum, first, last) = done_rx.await.expect("the receiver reports");
    TimersRun {
        n,
        set,
        set_in_time,
        rss_before,
        rss_pending,
        fire_all: last.saturating_duration_since(due),
        got,
        sum,
        first_on_time: first.is_some_and(|f| f >= due),
    }
}

/// `n` emits of `beamish.process.spawned`, with a measurement and a pid in the metadata as
/// the runtime emits it, while no handler is attached: one relaxed atomic load and a branch
/// each. `black_box` keeps the loop from being folded away.
fn emit(node: &Node, n: usize) -> EmitRun {
    use std::hint::black_box;
    let telemetry = node.telemetry();
    let pid = node.pid();
    let t0 = Instant::now();
    for i in 0..n {
        black_box(telemetry).emit(
            black_box(&SPAWNED),
            &[("n", (i as u64).into())],
            &[("pid", pid.into())],
        );
    }
    let elapsed = t0.elapsed();
    EmitRun {
        n,
        elapsed,
        enabled: telemetry.enabled(&SPAWNED),
    }
}

/// Receives the next user message, skipping anything else (these processes neither trap exits
/// nor monitor, so nothing else arrives).
async fn next<M: Send + 'static>(ctx: &mut Ctx<M>) -> M {
    loop {
        if let Message::Msg(m) = ctx.recv().await {
            return m;
        }
    }
}

async fn spawn(node: &Node, n: usize) -> SpawnRun {
    let ready = Latch::new(n);
    let done = Latch::new(n);
    let mut addrs = Vec::with_capacity(n);
    let rss_before = rss_bytes();
    let t0 = Instant::now();
    for _ in 0..n {
        let (ready, done) = (ready.clone(), done.clone());
        let addr = node
            .spawn(move |mut ctx: Ctx<()>| async move {
                // The "start hook": the process is running.
                ready.count_down();
                drop(ready);
                next(&mut ctx).await;
                done.count_down();
            })
            .expect("spawn");
        addrs.push(addr);
    }
    let spawn_loop = t0.elapsed();
    ready.wait().await;
    let all_started = t0.elapsed();
    let rss_started = rss_bytes();
    let t1 = Instant::now();
    let stops_sent = addrs.iter().filter(|a| a.send(()).is_ok()).count();
    done.wait().await;
    SpawnRun {
        n,
        spawn_loop,
        all_started,
        all_stopped: t1.elapsed(),
        rss_before,
        rss_started,
        stops_sent,
        ready,
        done,
    }
}

async fn pingpong(node: &Node, n: usize) -> PingPongRun {
    let (peer_tx, peer_rx) = oneshot::channel::<Addr<u64>>();
    let (start_tx, start_rx) = oneshot::channel::<()>();
    let (finished_tx, finished_rx) = oneshot::channel::<u64>();
    let (pong_count_tx, pong_count_rx) = oneshot::channel::<u64>();
    // The pinger learns its peer's address once, at set-up, so that the ball stays a bare u64.
    let ping = node
        .spawn(move |mut ctx: Ctx<u64>| async move {
            let (Ok(pong), Ok(())) = (peer_rx.await, start_rx.await) else {
                return;
            };
            let mut got = 0;
            if pong.send(n as u64).is_ok() {
                loop {
                    let k = next(&mut ctx).await;
                    got += 1;
                    if k == 1 || pong.send(k - 1).is_err() {
                        break;
                    }
                }
            }
            let _ = finished_tx.send(got);
        })
        .expect("spawn");
    let pong = {
        let ping = ping.clone();
        node.spawn(move |mut ctx: Ctx<u64>| async move {
            let mut got = 0u64;
            loop {
                match next(&mut ctx).await {
                    REPORT => {
                        let _ = pong_count_tx.send(got);
                        return;
                    }
                    k => {
                        got += 1;
                        let _ = ping.send(k);
                    }
                }
            }
        })
        .expect("spawn")
    };
    let _ = peer_tx.send(pong.clone());
    let t0 = Instant::now();
    let _ = start_tx.send(());
    let pinger_got = finished_rx.await.unwrap_or(0);
    let elapsed = t0.elapsed();
    let _ = pong.send(REPORT);
    PingPongRun {
        n,
        elapsed,
        pinger_got,
        ponger_got: pong_count_rx.await.unwrap_or(0),
    }
}

/// Ping-pong among `idle` idle processes, in four segments of `n / 4` round trips: alone,
/// observed, observed, alone (so drift over the run weighs on both modes alike). While
/// observed, a task on the same runtime reads the whole process table every 10 ms
/// (`processes()`, `top_by_mailbox(5)`, `totals()`), as an observer refreshing its view would,
/// only far more often.
async fn observe(node: &Node, n: usize, idle: usize) -> ObserveRun {
    let _idle: Vec<_> = (0..idle)
        .map(|_| {
            node.spawn(|mut ctx: Ctx<()>| async move {
                let _ = ctx.recv().await;
            })
            .expect("spawn")
        })
        .collect();
    // One observer pass on the quiet node, for scale.
    let t0 = Instant::now();
    std::hint::black_box((node.processes(), node.top_by_mailbox(5), node.totals()));
    let quiet_read = t0.elapsed();
    let seg = n / 4;
    let mut run = ObserveRun {
        n: 2 * seg,
        idle,
        alone: Duration::ZERO,
        observed: Duration::ZERO,
        reads: 0,
        read_time: Duration::ZERO,
        got: [0; 2],
        min_seen: usize::MAX,
        quiet_read,
    };
    for watched in [false, true, true, false] {
        // The observer is an OS thread of its own, as a scraper or a debugger would be: run as
        // a task it would occupy a tokio worker and change how the two players are scheduled
        // (both on the other worker, no cross-thread wake-ups), which made the observed run
        // look faster than the quiet one. So the two modes differ only by the reads.
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let observer = watched.then(|| {
            let node = node.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let (mut reads, mut time, mut min_seen) = (0, Duration::ZERO, usize::MAX);
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(10));
                    let t0 = Instant::now();
                    let all = node.processes();
                    let top = node.top_by_mailbox(5);
                    let totals = node.totals();
                    time += t0.elapsed();
                    reads += 1;
                    min_seen = min_seen.min(all.len());
                    std::hint::black_box((top, totals));
                }
                (reads, time, min_seen)
            })
        });
        let pp = pingpong(node, seg).await;
        stop.store(true, Ordering::Relaxed);
        if let Some(o) = observer {
            let joined = tokio::task::spawn_blocking(move || o.join())
                .await
                .expect("the join task");
            let (reads, time, min_seen) = joined.expect("the observer panicked");
            run.reads += reads;
            run.read_time += time;
            run.min_seen = run.min_seen.min(min_seen);
        }
        if watched {
            run.observed += pp.elapsed;
        } else {
            run.alone += pp.elapsed;
        }
        run.got[0] += pp.pinger_got;
        run.got[1] += pp.ponger_got;
    }
    run
}

/// What a ring node shares with the driver.
struct RingShared {
    done: Arc<Latch>,
    reported: Arc<Latch>,
    last: AtomicUsize,
    handled: AtomicU64,
}

async fn ring_node(
    mut ctx: Ctx<u64>,
    index: usize,
    next_node: Option<Addr<u64>>,
    head_link: Option<oneshot::Receiver<Addr<u64>>>,
    shared: Arc<RingShared>,
) {
    // Every node but the head knows its successor when it is spawned; the head learns it
    // once the ring is built, like Erlang's `{next, Pid}`.
    let next_node = match (next_node, head_link) {
        (Some(n), _) => n,
        (None, Some(rx)) => match rx.await {
            Ok(n) => n,
            Err(_) => return,
        },
        (None, None) => return,
    };
    let mut handled = 0u64;
    loop {
        match next(&mut ctx).await {
            REPORT => {
                shared.handled.fetch_add(handled, Ordering::Relaxed);
                shared.reported.count_down();
                return;
            }
            0 => {
                handled += 1;
                shared.last.store(index, Ordering::Relaxed);
                shared.done.count_down();
            }
            k => {
                handled += 1;
                let _ = next_node.send(k - 1);
            }
        }
    }
}

async fn ring(node: &Node, nodes: usize, hops: usize) -> RingRun {
    let shared = Arc::new(RingShared {
        done: Latch::new(1),
        reported: Latch::new(nodes),
        last: AtomicUsize::new(usize::MAX),
        handled: AtomicU64::new(0),
    });
    // Node 0 (the head) first; then nodes n-1, n-2, ..., 1, each spawned with its successor.
    let (head_tx, head_rx) = oneshot::channel();
    let head = {
        let shared = shared.clone();
        node.spawn(move |ctx: Ctx<u64>| ring_node(ctx, 0, None, Some(head_rx), shared))
            .expect("spawn")
    };
    let mut addrs = Vec::with_capacity(nodes);
    addrs.push(head.clone());
    let mut succ = head.clone();
    for index in (1..nodes).rev() {
        let shared = shared.clone();
        let next_node = succ.clone();
        succ = node
            .spawn(move |ctx: Ctx<u64>| ring_node(ctx, index, Some(next_node), None, shared))
            .expect("spawn");
        addrs.push(succ.clone());
    }
    let _ = head_tx.send(succ);
    let t0 = Instant::now();
    let _ = head.send(hops as u64);
    shared.done.wait().await;
    let elapsed = t0.elapsed();
    for a in &addrs {
        let _ = a.send(REPORT);
    }
    shared.reported.wait().await;
    RingRun {
        nodes,
        hops,
        elapsed,
        handled: shared.handled.load(Ordering::Relaxed),
        last_node: shared.last.load(Ordering::Relaxed),
    }
}

/// Where a skynet node sends its sum.
enum Parent {
    Node(Addr<u64>),
    Root(oneshot::Sender<u64>),
}

impl Parent {
    fn send(self, v: u64) {
        match self {
            Parent::Node(p) => {
                let _ = p.send(v);
            }
            Parent::Root(tx) => {
                let _ = tx.send(v);
            }
        }
    }
}

type SkyFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// One skynet process: a leaf sends its number up; an inner node spawns its ten children and
/// sends up the sum of their answers. Boxed because a process body that spawns its own kind is
/// a recursive type; that is one allocation per process, as for the raw-tokio baseline.
fn sky(mut ctx: Ctx<u64>, num: u64, size: u64, parent: Parent) -> SkyFuture {
    Box::pin(async move {
        if size == 1 {
            parent.send(num);
            return;
        }
        let child = size / 10;
        for i in 0..10 {
            let up = Parent::Node(ctx.addr());
            ctx.spawn(move |c: Ctx<u64>| sky(c, num + i * child, child, up))
                .expect("spawn");
        }
        let mut sum = 0;
        for _ in 0..10 {
            sum += next(&mut ctx).await;
        }
        parent.send(sum);
    })
}

async fn skynet(node: &Node, leaves: u64) -> SkynetRun {
    let t0 = Instant::now();
    let (tx, rx) = oneshot::channel();
    node.spawn(move |ctx: Ctx<u64>| sky(ctx, 0, leaves, Parent::Root(tx)))
        .expect("spawn");
    let sum = rx.await.unwrap_or(0);
    SkynetRun {
        leaves,
        elapsed: t0.elapsed(),
        sum,
    }
}

/// The call workload's server: `gen_server` with a counter as its state.
#[derive(Debug, Default)]
struct Counter(u64);

impl GenServer for Counter {
    type Call = ();
    type Reply = u64;
    type Cast = ();
    type Info = ();

    async fn handle_call(
        &mut self,
        _: (),
        _: Caller<'_, u64>,
        _: &mut ServerCtx<Self>,
    ) -> Result<Reply<u64>, Exit> {
        self.0 += 1;
        Ok(Reply::Now(self.0))
    }
}

async fn call(node: &Node, callers: usize, total: usize) -> CallRun {
    let server = node.start(Counter::default()).await.expect("start");
    let per = total / callers;
    let done = Latch::new(callers);
    let t0 = Instant::now();
    for _ in 0..callers {
        let (server, done) = (server.clone(), done.clone());
        // Callers are processes too, as on the BEAM; `call` carries the default five-second
        // timeout, as `gen_server:call/2` does.
        node.spawn(move |_: Ctx<()>| async move {
            for _ in 0..per {
                std::hint::black_box(server.call(()).await.unwrap_or(0));
            }
            done.count_down();
        })
        .expect("spawn");
    }
    done.wait().await;
    let elapsed = t0.elapsed();
    let final_reply = server.call(()).await.unwrap_or(0);
    CallRun {
        callers,
        calls: per * callers,
        elapsed,
        final_reply,
    }
}

/// `total` calls split over `callers` tokio tasks, as HTTP handlers would make them.
async fn outcall(node: &Node, callers: usize, total: usize) -> CallRun {
    let server = node.start(Counter::default()).await.expect("start");
    let per = total / callers;
    let done = Latch::new(callers);
    let t0 = Instant::now();
    for _ in 0..callers {
        let (server, done) = (server.clone(), done.clone());
        tokio::spawn(async move {
            for _ in 0..per {
                std::hint::black_box(server.call(()).await.unwrap_or(0));
            }
            done.count_down();
        });
    }
    done.wait().await;
    let elapsed = t0.elapsed();
    let final_reply = server.call(()).await.unwrap_or(0);
    CallRun {
        callers,
        calls: per * callers,
        elapsed,
        final_reply,
    }
}

/// `total` sequential calls from the caller's own code (the `block_on` body).
async fn maincall(node: &Node, total: usize) -> CallRun {
    let server = node.start(Counter::default()).await.expect("start");
    let t0 = Instant::now();
    for _ in 0..total {
        std::hint::black_box(server.call(()).await.unwrap_or(0));
    }
    let elapsed = t0.elapsed();
    let final_reply = server.call(()).await.unwrap_or(0);
    CallRun {
        callers: 1,
        calls: total,
        elapsed,
        final_reply,
    }
}

/// A process that sleeps 1 ms at a time beside `hogs` processes that compute in chunks
/// without awaiting: the gaps between its ticks while they compute.
async fn fairness(node: &Node, hogs: usize) -> FairnessRun {
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let (gaps_tx, gaps_rx) = oneshot::channel();
    let (m, st) = (measuring.clone(), stop.clone());
    node.spawn(move |_: Ctx<()>| async move {
        let mut gaps = Vec::with_capacity(4096);
        let mut last = Instant::now();
        while !st.load(Ordering::Acquire) {
            tokio::time::sleep(Duration::from_millis(1)).await;
            let now = Instant::now();
            if m.load(Ordering::Acquire) {
                gaps.push(now - last);
            }
            last = now;
        }
        let _ = gaps_tx.send(gaps);
    })
    .expect("spawn the ticker");
    tokio::time::sleep(Duration::from_millis(20)).await;
    measuring.store(true, Ordering::Release);
    let done = Latch::new(hogs);
    let finished = Arc::new(AtomicUsize::new(0));
    for _ in 0..hogs {
        let (done, finished) = (done.clone(), finished.clone());
        node.spawn(move |_: Ctx<()>| async move {
            for _ in 0..HOG_CHUNKS {
                compute_for(HOG_CHUNK);
                tokio::task::yield_now().await;
            }
            finished.fetch_add(1, Ordering::AcqRel);
            done.count_down();
        })
        .expect("spawn a hog");
    }
    done.wait().await;
    measuring.store(false, Ordering::Release);
    stop.store(true, Ordering::Release);
    FairnessRun {
        hogs,
        gaps: gaps_rx.await.unwrap_or_default(),
        hogs_done: finished.load(Ordering::Acquire),
    }
}

async fn fanout(node: &Node, subs: usize, msgs: usize) -> FanoutRun {
    let done = Latch::new(subs);
    let reported = Latch::new(subs);
    let all_stats = Arc::new(Mutex::new(Vec::with_capacity(subs)));
    let mut addrs = Vec::with_capacity(subs);
    for _ in 0..subs {
        let (done, reported, all_stats) = (done.clone(), reported.clone(), all_stats.clone());
        let addr = node
            .spawn(move |mut ctx: Ctx<u64>| async move {
                let mut stats = SubStats::default();
                loop {
                    match next(&mut ctx).await {
                        REPORT => {
                            all_stats.lock().expect("not poisoned").push(stats);
                            reported.count_down();
                            return;
                        }
                        v => {
                            stats.record(v);
                            if stats.count == msgs as u64 {
                                done.count_down();
                            }
                        }
                    }
                }
            })
            .expect("spawn");
        addrs.push(addr);
    }
    let t0 = Instant::now();
    for m in 0..msgs as u64 {
        for a in &addrs {
            let _ = a.send(m);
        }
    }
    done.wait().await;
    let elapsed = t0.elapsed();
    for a in &addrs {
        let _ = a.send(REPORT);
    }
    reported.wait().await;
    let stats = std::mem::take(&mut *all_stats.lock().expect("not poisoned"));
    FanoutRun {
        subs,
        msgs,
        elapsed,
        stats,
    }
}

/// The supervised server of suprestart: answers `ping` with its own pid, like the anchors'
/// child (`{pong, self()}`).
#[derive(Debug)]
struct Pinger;

impl GenServer for Pinger {
    type Call = ();
    type Reply = beamish_process::Pid;
    type Cast = ();
    type Info = ();

    async fn handle_call(
        &mut self,
        _: (),
        _: Caller<'_, Self::Reply>,
        ctx: &mut ServerCtx<Self>,
    ) -> Result<Reply<Self::Reply>, Exit> {
        Ok(Reply::Now(ctx.pid()))
    }
}

/// The supervisor's intensity: far more restarts than any run makes, so it never gives up;
/// the anchors' (and `bench/erl/bench_sup.erl`'s) 1,000,000 restarts in one second.
const SUP_INTENSITY: u32 = 1_000_000;
const SUP_PERIOD: Duration = Duration::from_secs(1);

async fn suprestart(node: &Node, kills: usize) -> SupRestartRun {
    // The child's start function tells the driver that the server is up once `start_link`
    // has returned, that is once the server's `init` has run: the anchors' "mode 1", where
    // the child's `init` sends `{child_up, self()}` to the benchmark process.
    let (up_tx, mut up) = mpsc::unbounded_channel::<ServerRef<Pinger>>();
    let child = ChildSpec::new("child", move |linker| {
        let up_tx = up_tx.clone();
        Box::pin(async move {
            let server = linker.start_link(Pinger).await?;
            let pid = server.pid();
            let _ = up_tx.send(server);
            Ok(Started::Running(pid))
        })
    });
    let sup = Supervisor::new(Strategy::OneForOne)
        .intensity(SUP_INTENSITY, SUP_PERIOD)
        .child(child)
        .start(node)
        .await
        .expect("supervisor start");
    let mut server = up.recv().await.expect("the first child is up");
    let mut latencies = Vec::with_capacity(kills);
    let mut same_pid = 0;
    for _ in 0..kills {
        let killed = server.pid();
        let t0 = Instant::now();
        node.exit(killed, Exit::Kill);
        let Some(next) = up.recv().await else { break };
        let Ok(answered) = next.call(()).await else {
            break;
        };
        latencies.push(t0.elapsed());
        if answered == killed {
            same_pid += 1;
        }
        server = next;
    }
    let restarts = sup
        .which_children()
        .await
        .ok()
        .and_then(|c| c.first().map(|c| c.restarts))
        .unwrap_or(0);
    let _ = sup.stop(Exit::Shutdown).await;
    SupRestartRun {
        kills,
        latencies,
        restarts,
        same_pid,
    }
}

/// A tight crash loop: the child's start function spawns a linked process that fails at once,
/// so the supervisor restarts it again and again; the `restarts + 1`-th start spawns one that
/// stays up and tells the driver.
async fn suploop(node: &Node, restarts: usize) -> SupLoopRun {
    let starts = Arc::new(AtomicUsize::new(0));
    let (done_tx, done_rx) = oneshot::channel::<()>();
    let done_tx = Arc::new(Mutex::new(Some(done_tx)));
    let child = {
        let starts = starts.clone();
        ChildSpec::new("child", move |linker| {
            let n = starts.fetch_add(1, Ordering::Relaxed) + 1;
            let done_tx = done_tx.clone();
            Box::pin(async move {
                let addr = if n > restarts {
                    if let Some(tx) = done_tx.lock().expect("not poisoned").take() {
                        let _ = tx.send(());
                    }
                    linker.spawn_link(|mut ctx: Ctx<()>| async move {
                        ctx.recv().await;
                    })
                } else {
                    linker.spawn_link(|_: Ctx<()>| async { Err::<(), _>(Exit::error("crash")) })
                };
                let addr = addr.map_err(Exit::from)?;
                Ok(Started::Running(addr.pid()))
            })
        })
    };
    let t0 = Instant::now();
    let sup = Supervisor::new(Strategy::OneForOne)
        .intensity(SUP_INTENSITY, SUP_PERIOD)
        .child(child)
        .start(node)
        .await
        .expect("supervisor start");
    let _ = done_rx.await;
    let elapsed = t0.elapsed();
    let counted = sup
        .which_children()
        .await
        .ok()
        .and_then(|c| c.first().map(|c| c.restarts))
        .unwrap_or(0);
    let _ = sup.stop(Exit::Shutdown).await;
    SupLoopRun {
        restarts,
        elapsed,
        starts: starts.load(Ordering::Relaxed),
        counted,
    }
}

/// Pub/sub fan-out through a `PubSub` hub: every subscriber subscribes itself to one topic and
/// the publisher broadcasts; the subscribers count as in fan-out.
async fn pubsub(node: &Node, subs: usize, msgs: usize) -> FanoutRun {
    const TOPIC: &str = "bench";
    let hub: PubSub<u64> = PubSub::start(node).expect("pubsub hub");
    let subscribed = Latch::new(subs);
    let done = Latch::new(subs);
    let reported = Latch::new(subs);
    let all_stats = Arc::new(Mutex::new(Vec::with_capacity(subs)));
    let mut addrs = Vec::with_capacity(subs);
    for _ in 0..subs {
        let (hub, subscribed) = (hub.clone(), subscribed.clone());
        let (done, reported, all_stats) = (done.clone(), reported.clone(), all_stats.clone());
        let addr = node
            .spawn(move |mut ctx: Ctx<Arc<u64>>| async move {
                hub.subscribe(&ctx, TOPIC);
                subscribed.count_down();
                let mut stats = SubStats::default();
                loop {
                    match *next(&mut ctx).await {
                        REPORT => {
                            all_stats.lock().expect("not poisoned").push(stats);
                            reported.count_down();
                            return;
                        }
                        v => {
                            stats.record(v);
                            if stats.count == msgs as u64 {
                                done.count_down();
                            }
                        }
                    }
                }
            })
            .expect("spawn");
        addrs.push(addr);
    }
    subscribed.wait().await;
    assert_eq!(
        hub.subscriber_count(TOPIC),
        subs,
        "every subscriber registered"
    );
    let (elapsed_tx, elapsed_rx) = oneshot::channel();
    // The publisher is a process, as on the BEAM; it broadcasts 0, 1, 2, ...
    let publisher = hub.clone();
    let done_pub = done.clone();
    node.spawn(move |_: Ctx<()>| async move {
        let t0 = Instant::now();
        for m in 0..msgs as u64 {
            publisher.broadcast(TOPIC, m);
        }
        done_pub.wait().await;
        let _ = elapsed_tx.send(t0.elapsed());
    })
    .expect("spawn");
    let elapsed = elapsed_rx.await.expect("the publisher reports");
    for a in &addrs {
        let _ = a.send(Arc::new(REPORT));
    }
    reported.wait().await;
    let stats = std::mem::take(&mut *all_stats.lock().expect("not poisoned"));
    FanoutRun {
        subs,
        msgs,
        elapsed,
        stats,
    }
}

/// Registry throughput: `procs` processes, each registering a key of its own (unique keys),
/// looking it up (`whereis`, the lookup of a unique key) and unregistering it, round after
/// round. With two processes both runtime threads work at once, so one partition is shared
/// and two partitions (the registry partitions by the registering pid) can split the load.
async fn registry(node: &Node, procs: usize, partitions: usize, rounds: usize) -> RegistryRun {
    let reg: Registry<u64, ()> = Registry::builder(Keys::Unique)
        .partitions(partitions)
        .start(node)
        .expect("registry");
    let per = rounds / procs;
    let done = Latch::new(procs);
    let good = Arc::new(AtomicUsize::new(0));
    let (go_tx, _) = tokio::sync::broadcast::channel::<()>(1);
    for p in 0..procs {
        let (reg, done, good) = (reg.clone(), done.clone(), good.clone());
        let mut go = go_tx.subscribe();
        node.spawn(move |ctx: Ctx<()>| async move {
            let _ = go.recv().await;
            let me = ctx.pid();
            let mut ok = 0;
            // Keys of process p: p, p + procs, p + 2 procs, ...: never another's.
            for i in 0..per as u64 {
                let key = i * procs as u64 + p as u64;
                let registered = reg.register(&ctx, key, ()).is_ok();
                let found = reg.whereis(&key) == Some(me);
                reg.unregister(&ctx, &key);
                ok += usize::from(registered && found);
            }
            good.fetch_add(ok, Ordering::Relaxed);
            done.count_down();
        })
        .expect("spawn");
    }
    // Give every worker the time to reach its start line, then start them together.
    while go_tx.receiver_count() < procs {
        tokio::task::yield_now().await;
    }
    let t0 = Instant::now();
    let _ = go_tx.send(());
    done.wait().await;
    // Each first entry of a process asks the partition's watcher to monitor it and each last
    // removal to stop: wait until the watchers have caught up, so that their share of the work
    // is inside the time too.
    reg.sync().await;
    let elapsed = t0.elapsed();
    RegistryRun {
        procs,
        partitions,
        rounds: per * procs,
        elapsed,
        good: good.load(Ordering::Relaxed),
        left: reg.count(),
    }
}
