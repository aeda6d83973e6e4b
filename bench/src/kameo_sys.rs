//! kameo 0.22 with its default features: `Spawn::spawn` (default bounded mailbox of 64),
//! `ActorRef::tell(..).await` for sends, `ActorRef::ask(..).await` for request/reply.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use kameo::Actor;
use kameo::actor::{ActorRef, Spawn, WeakActorRef};
use kameo::error::{ActorStopReason, Infallible};
use kameo::message::{Context, Message};
use tokio::sync::oneshot;

use crate::common::{
    CallRun, FanoutRun, Latch, Outcome, PingPongRun, RingRun, SkynetRun, SpawnRun, SubStats,
    Workload, rss_bytes,
};

/// Runs one workload on the ambient multi-thread tokio runtime.
pub(crate) async fn run(w: Workload) -> Outcome {
    match w {
        Workload::Spawn { n } => spawn(n).await.outcome(),
        Workload::PingPong { n } => pingpong(n).await.outcome(),
        Workload::Ring { nodes, hops } => ring(nodes, hops).await.outcome(),
        Workload::Skynet { leaves } => skynet(leaves).await.outcome(),
        Workload::Call { callers, total } => call(callers, total).await.outcome(),
        // Its calls come from tokio tasks (actix: tasks on its arbiter) anyway.
        Workload::OutCall { callers, total } => call(callers, total).await.outcome_as("outcall"),
        Workload::Fanout { subs, msgs } => fanout(subs, msgs).await.outcome(),
        Workload::SupRestart { .. }
        | Workload::SupLoop { .. }
        | Workload::Observe { .. }
        | Workload::PubSub { .. }
        | Workload::Registry { .. }
        | Workload::Emit { .. }
        | Workload::MainCall { .. }
        | Workload::Fairness { .. }
        | Workload::Timers { .. }
        | Workload::Chat(_) => {
            unreachable!("main runs only the workloads a system implements")
        }
    }
}

// ---- spawn ----

struct Idle {
    ready: Arc<Latch>,
    done: Arc<Latch>,
}

impl Actor for Idle {
    type Args = Self;
    type Error = Infallible;

    async fn on_start(idle: Self, _me: ActorRef<Self>) -> Result<Self, Infallible> {
        idle.ready.count_down();
        Ok(idle)
    }

    async fn on_stop(
        &mut self,
        _me: WeakActorRef<Self>,
        _why: ActorStopReason,
    ) -> Result<(), Infallible> {
        self.done.count_down();
        Ok(())
    }
}

struct Stop;

impl Message<Stop> for Idle {
    type Reply = ();

    async fn handle(&mut self, _: Stop, ctx: &mut Context<Self, ()>) {
        ctx.stop();
    }
}

async fn spawn(n: usize) -> SpawnRun {
    let ready = Latch::new(n);
    let done = Latch::new(n);
    let mut refs = Vec::with_capacity(n);
    let rss_before = rss_bytes();
    let t0 = Instant::now();
    for _ in 0..n {
        refs.push(Idle::spawn(Idle {
            ready: ready.clone(),
            done: done.clone(),
        }));
    }
    let spawn_loop = t0.elapsed();
    ready.wait().await;
    let all_started = t0.elapsed();
    let rss_started = rss_bytes();
    let t1 = Instant::now();
    let mut stops_sent = 0;
    for r in &refs {
        stops_sent += usize::from(r.tell(Stop).await.is_ok());
    }
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

// ---- ping-pong ----

#[derive(Actor, Default)]
struct Player {
    peer: Option<ActorRef<Player>>,
    /// Set on the pinger only.
    finished: Option<oneshot::Sender<u64>>,
    got: u64,
}

struct Peer(ActorRef<Player>);
struct Serve(u64, oneshot::Sender<u64>);
struct Ball(u64);
struct Received;

impl Player {
    async fn hit(&self, k: u64) {
        if let Some(peer) = &self.peer {
            let _ = peer.tell(Ball(k)).await;
        }
    }
}

impl Message<Peer> for Player {
    type Reply = ();

    async fn handle(&mut self, Peer(p): Peer, _: &mut Context<Self, ()>) {
        self.peer = Some(p);
    }
}

impl Message<Serve> for Player {
    type Reply = ();

    async fn handle(&mut self, Serve(n, finished): Serve, _: &mut Context<Self, ()>) {
        self.finished = Some(finished);
        self.hit(n).await;
    }
}

impl Message<Ball> for Player {
    type Reply = ();

    async fn handle(&mut self, Ball(k): Ball, _: &mut Context<Self, ()>) {
        self.got += 1;
        if self.finished.is_none() {
            self.hit(k).await;
        } else if k > 1 {
            self.hit(k - 1).await;
        } else if let Some(finished) = self.finished.take() {
            let _ = finished.send(self.got);
        }
    }
}

impl Message<Received> for Player {
    type Reply = u64;

    async fn handle(&mut self, _: Received, _: &mut Context<Self, u64>) -> u64 {
        self.got
    }
}

async fn pingpong(n: usize) -> PingPongRun {
    let ping = Player::spawn(Player::default());
    let pong = Player::spawn(Player::default());
    ping.tell(Peer(pong.clone())).await.expect("send");
    pong.tell(Peer(ping.clone())).await.expect("send");
    let (finished, pinger_got) = oneshot::channel();
    let t0 = Instant::now();
    ping.tell(Serve(n as u64, finished)).await.expect("send");
    let pinger_got = pinger_got.await.unwrap_or(0);
    let elapsed = t0.elapsed();
    let ponger_got = pong.ask(Received).await.unwrap_or(0);
    ping.kill();
    pong.kill();
    PingPongRun {
        n,
        elapsed,
        pinger_got,
        ponger_got,
    }
}

// ---- ring ----

#[derive(Actor)]
struct RingNode {
    index: usize,
    next: Option<ActorRef<RingNode>>,
    handled: u64,
    done: Arc<Latch>,
    last: Arc<AtomicUsize>,
}

struct Next(ActorRef<RingNode>);
struct Token(u64);
struct Handled;

impl Message<Next> for RingNode {
    type Reply = ();

    async fn handle(&mut self, Next(next): Next, _: &mut Context<Self, ()>) {
        self.next = Some(next);
    }
}

impl Message<Token> for RingNode {
    type Reply = ();

    async fn handle(&mut self, Token(k): Token, _: &mut Context<Self, ()>) {
        self.handled += 1;
        if k == 0 {
            self.last.store(self.index, Ordering::Relaxed);
            self.done.count_down();
        } else if let Some(next) = &self.next {
            let _ = next.tell(Token(k - 1)).await;
        }
    }
}

impl Message<Handled> for RingNode {
    type Reply = u64;

    async fn handle(&mut self, _: Handled, _: &mut Context<Self, u64>) -> u64 {
        self.handled
    }
}

async fn ring(nodes: usize, hops: usize) -> RingRun {
    let done = Latch::new(1);
    let last = Arc::new(AtomicUsize::new(usize::MAX));
    let refs: Vec<_> = (0..nodes)
        .map(|index| {
            RingNode::spawn(RingNode {
                index,
                next: None,
                handled: 0,
                done: done.clone(),
                last: last.clone(),
            })
        })
        .collect();
    for (i, node) in refs.iter().enumerate() {
        node.tell(Next(refs[(i + 1) % nodes].clone()))
            .await
            .expect("send");
    }
    let t0 = Instant::now();
    refs[0].tell(Token(hops as u64)).await.expect("send");
    done.wait().await;
    let elapsed = t0.elapsed();
    let mut handled = 0;
    for node in &refs {
        handled += node.ask(Handled).await.unwrap_or(0);
        node.kill();
    }
    RingRun {
        nodes,
        hops,
        elapsed,
        handled,
        last_node: last.load(Ordering::Relaxed),
    }
}

// ---- skynet ----

enum Parent {
    Node(ActorRef<Sky>),
    Root(oneshot::Sender<u64>),
}

impl Parent {
    async fn send(self, v: u64) {
        match self {
            Parent::Node(p) => {
                let _ = p.tell(Sum(v)).await;
            }
            Parent::Root(tx) => {
                let _ = tx.send(v);
            }
        }
    }
}

struct Sky {
    parent: Option<Parent>,
    sum: u64,
    left: u32,
}

struct SkyArgs {
    num: u64,
    size: u64,
    parent: Parent,
}

struct Sum(u64);

impl Actor for Sky {
    type Args = SkyArgs;
    type Error = Infallible;

    async fn on_start(a: SkyArgs, me: ActorRef<Self>) -> Result<Self, Infallible> {
        if a.size == 1 {
            a.parent.send(a.num).await;
            let _ = me.stop_gracefully().await;
            return Ok(Sky {
                parent: None,
                sum: 0,
                left: 0,
            });
        }
        let child = a.size / 10;
        for i in 0..10 {
            Sky::spawn(SkyArgs {
                num: a.num + i * child,
                size: child,
                parent: Parent::Node(me.clone()),
            });
        }
        Ok(Sky {
            parent: Some(a.parent),
            sum: 0,
            left: 10,
        })
    }
}

impl Message<Sum> for Sky {
    type Reply = ();

    async fn handle(&mut self, Sum(v): Sum, ctx: &mut Context<Self, ()>) {
        self.sum += v;
        self.left -= 1;
        if self.left == 0 {
            if let Some(p) = self.parent.take() {
                p.send(self.sum).await;
            }
            ctx.stop();
        }
    }
}

async fn skynet(leaves: u64) -> SkynetRun {
    let t0 = Instant::now();
    let (tx, rx) = oneshot::channel();
    let _root = Sky::spawn(SkyArgs {
        num: 0,
        size: leaves,
        parent: Parent::Root(tx),
    });
    let sum = rx.await.unwrap_or(0);
    SkynetRun {
        leaves,
        elapsed: t0.elapsed(),
        sum,
    }
}

// ---- call ----

#[derive(Actor, Default)]
struct Counter {
    count: u64,
}

struct Incr;

impl Message<Incr> for Counter {
    type Reply = u64;

    async fn handle(&mut self, _: Incr, _: &mut Context<Self, u64>) -> u64 {
        self.count += 1;
        self.count
    }
}

async fn call(callers: usize, total: usize) -> CallRun {
    let server = Counter::spawn(Counter::default());
    let per = total / callers;
    let done = Latch::new(callers);
    let t0 = Instant::now();
    for _ in 0..callers {
        let (server, done) = (server.clone(), done.clone());
        tokio::spawn(async move {
            for _ in 0..per {
                std::hint::black_box(server.ask(Incr).await.unwrap_or(0));
            }
            done.count_down();
        });
    }
    done.wait().await;
    let elapsed = t0.elapsed();
    let final_reply = server.ask(Incr).await.unwrap_or(0);
    server.kill();
    CallRun {
        callers,
        calls: per * callers,
        elapsed,
        final_reply,
    }
}

// ---- fan-out ----

#[derive(Actor)]
struct Sub {
    stats: SubStats,
    msgs: u64,
    done: Arc<Latch>,
}

struct Pub(u64);
struct Stats;

/// kameo replies must implement its `Reply` trait; the shared stats type stays kameo-free.
#[derive(kameo::Reply)]
struct StatsReply(SubStats);

impl Message<Pub> for Sub {
    type Reply = ();

    async fn handle(&mut self, Pub(v): Pub, _: &mut Context<Self, ()>) {
        self.stats.record(v);
        if self.stats.count == self.msgs {
            self.done.count_down();
        }
    }
}

impl Message<Stats> for Sub {
    type Reply = StatsReply;

    async fn handle(&mut self, _: Stats, _: &mut Context<Self, StatsReply>) -> StatsReply {
        StatsReply(self.stats)
    }
}

async fn fanout(subs: usize, msgs: usize) -> FanoutRun {
    let done = Latch::new(subs);
    let refs: Vec<_> = (0..subs)
        .map(|_| {
            Sub::spawn(Sub {
                stats: SubStats::default(),
                msgs: msgs as u64,
                done: done.clone(),
            })
        })
        .collect();
    let t0 = Instant::now();
    for m in 0..msgs as u64 {
        for sub in &refs {
            let _ = sub.tell(Pub(m)).await;
        }
    }
    done.wait().await;
    let elapsed = t0.elapsed();
    let mut stats = Vec::with_capacity(subs);
    for sub in &refs {
        stats.push(
            sub.ask(Stats)
                .await
                .map_or_else(|_| SubStats::default(), |r| r.0),
        );
        sub.kill();
    }
    FanoutRun {
        subs,
        msgs,
        elapsed,
        stats,
    }
}
