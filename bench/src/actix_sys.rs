//! actix 0.13 with its defaults: everything runs on the single-threaded `System` arbiter;
//! `Actor::start`, `Addr::do_send` for sends, `Addr::send(..).await` for request/reply.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use actix::prelude::*;
use tokio::sync::oneshot;

use crate::common::{
    CallRun, FanoutRun, Latch, Outcome, PingPongRun, RingRun, SkynetRun, SpawnRun, SubStats,
    Workload, rss_bytes,
};

/// Runs one workload; the caller runs it inside an actix `System`.
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
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Context<Self>) {
        self.ready.count_down();
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.done.count_down();
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct Stop;

impl Handler<Stop> for Idle {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

async fn spawn(n: usize) -> SpawnRun {
    let ready = Latch::new(n);
    let done = Latch::new(n);
    let mut addrs = Vec::with_capacity(n);
    let rss_before = rss_bytes();
    let t0 = Instant::now();
    for _ in 0..n {
        addrs.push(
            Idle {
                ready: ready.clone(),
                done: done.clone(),
            }
            .start(),
        );
    }
    let spawn_loop = t0.elapsed();
    ready.wait().await;
    let all_started = t0.elapsed();
    let rss_started = rss_bytes();
    let t1 = Instant::now();
    let stops_sent = addrs.iter().filter(|a| a.try_send(Stop).is_ok()).count();
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

#[derive(Default)]
struct Player {
    peer: Option<Addr<Player>>,
    /// Set on the pinger only.
    finished: Option<oneshot::Sender<u64>>,
    got: u64,
}

impl Actor for Player {
    type Context = Context<Self>;
}

#[derive(Message)]
#[rtype(result = "()")]
struct Peer(Addr<Player>);

#[derive(Message)]
#[rtype(result = "()")]
struct Serve(u64, oneshot::Sender<u64>);

#[derive(Message)]
#[rtype(result = "()")]
struct Ball(u64);

#[derive(Message)]
#[rtype(result = "u64")]
struct Received;

impl Player {
    fn hit(&self, k: u64) {
        if let Some(peer) = &self.peer {
            peer.do_send(Ball(k));
        }
    }
}

impl Handler<Peer> for Player {
    type Result = ();

    fn handle(&mut self, Peer(p): Peer, _: &mut Context<Self>) {
        self.peer = Some(p);
    }
}

impl Handler<Serve> for Player {
    type Result = ();

    fn handle(&mut self, Serve(n, finished): Serve, _: &mut Context<Self>) {
        self.finished = Some(finished);
        self.hit(n);
    }
}

impl Handler<Ball> for Player {
    type Result = ();

    fn handle(&mut self, Ball(k): Ball, _: &mut Context<Self>) {
        self.got += 1;
        if self.finished.is_none() {
            self.hit(k);
        } else if k > 1 {
            self.hit(k - 1);
        } else if let Some(finished) = self.finished.take() {
            let _ = finished.send(self.got);
        }
    }
}

impl Handler<Received> for Player {
    type Result = u64;

    fn handle(&mut self, _: Received, _: &mut Context<Self>) -> u64 {
        self.got
    }
}

async fn pingpong(n: usize) -> PingPongRun {
    let ping = Player::default().start();
    let pong = Player::default().start();
    ping.do_send(Peer(pong.clone()));
    pong.do_send(Peer(ping.clone()));
    let (finished, pinger_got) = oneshot::channel();
    let t0 = Instant::now();
    ping.do_send(Serve(n as u64, finished));
    let pinger_got = pinger_got.await.unwrap_or(0);
    let elapsed = t0.elapsed();
    let ponger_got = pong.send(Received).await.unwrap_or(0);
    PingPongRun {
        n,
        elapsed,
        pinger_got,
        ponger_got,
    }
}

// ---- ring ----

struct RingNode {
    index: usize,
    next: Option<Addr<RingNode>>,
    handled: u64,
    done: Arc<Latch>,
    /// Everything runs on one thread here, so the last node is recorded without atomics.
    last: Rc<Cell<usize>>,
}

impl Actor for RingNode {
    type Context = Context<Self>;
}

#[derive(Message)]
#[rtype(result = "()")]
struct Next(Addr<RingNode>);

#[derive(Message)]
#[rtype(result = "()")]
struct Token(u64);

#[derive(Message)]
#[rtype(result = "u64")]
struct Handled;

impl Handler<Next> for RingNode {
    type Result = ();

    fn handle(&mut self, Next(next): Next, _: &mut Context<Self>) {
        self.next = Some(next);
    }
}

impl Handler<Token> for RingNode {
    type Result = ();

    fn handle(&mut self, Token(k): Token, _: &mut Context<Self>) {
        self.handled += 1;
        if k == 0 {
            self.last.set(self.index);
            self.done.count_down();
        } else if let Some(next) = &self.next {
            next.do_send(Token(k - 1));
        }
    }
}

impl Handler<Handled> for RingNode {
    type Result = u64;

    fn handle(&mut self, _: Handled, _: &mut Context<Self>) -> u64 {
        self.handled
    }
}

async fn ring(nodes: usize, hops: usize) -> RingRun {
    let done = Latch::new(1);
    let last = Rc::new(Cell::new(usize::MAX));
    let addrs: Vec<_> = (0..nodes)
        .map(|index| {
            RingNode {
                index,
                next: None,
                handled: 0,
                done: done.clone(),
                last: last.clone(),
            }
            .start()
        })
        .collect();
    for (i, node) in addrs.iter().enumerate() {
        node.do_send(Next(addrs[(i + 1) % nodes].clone()));
    }
    let t0 = Instant::now();
    addrs[0].do_send(Token(hops as u64));
    done.wait().await;
    let elapsed = t0.elapsed();
    let mut handled = 0;
    for node in &addrs {
        handled += node.send(Handled).await.unwrap_or(0);
    }
    RingRun {
        nodes,
        hops,
        elapsed,
        handled,
        last_node: last.get(),
    }
}

// ---- skynet ----

enum Parent {
    Node(Addr<Sky>),
    Root(oneshot::Sender<u64>),
}

impl Parent {
    fn send(self, v: u64) {
        match self {
            Parent::Node(p) => p.do_send(Sum(v)),
            Parent::Root(tx) => {
                let _ = tx.send(v);
            }
        }
    }
}

struct Sky {
    num: u64,
    size: u64,
    parent: Option<Parent>,
    sum: u64,
    left: u32,
}

impl Sky {
    fn new(num: u64, size: u64, parent: Parent) -> Self {
        Sky {
            num,
            size,
            parent: Some(parent),
            sum: 0,
            left: 10,
        }
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct Sum(u64);

impl Actor for Sky {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        if self.size == 1 {
            if let Some(p) = self.parent.take() {
                p.send(self.num);
            }
            ctx.stop();
            return;
        }
        let child = self.size / 10;
        let me = ctx.address();
        for i in 0..10 {
            Sky::new(self.num + i * child, child, Parent::Node(me.clone())).start();
        }
    }
}

impl Handler<Sum> for Sky {
    type Result = ();

    fn handle(&mut self, Sum(v): Sum, ctx: &mut Context<Self>) {
        self.sum += v;
        self.left -= 1;
        if self.left == 0 {
            if let Some(p) = self.parent.take() {
                p.send(self.sum);
            }
            ctx.stop();
        }
    }
}

async fn skynet(leaves: u64) -> SkynetRun {
    let t0 = Instant::now();
    let (tx, rx) = oneshot::channel();
    let _root = Sky::new(0, leaves, Parent::Root(tx)).start();
    let sum = rx.await.unwrap_or(0);
    SkynetRun {
        leaves,
        elapsed: t0.elapsed(),
        sum,
    }
}

// ---- call ----

#[derive(Default)]
struct Counter {
    count: u64,
}

impl Actor for Counter {
    type Context = Context<Self>;
}

#[derive(Message)]
#[rtype(result = "u64")]
struct Incr;

impl Handler<Incr> for Counter {
    type Result = u64;

    fn handle(&mut self, _: Incr, _: &mut Context<Self>) -> u64 {
        self.count += 1;
        self.count
    }
}

async fn call(callers: usize, total: usize) -> CallRun {
    let server = Counter::default().start();
    let per = total / callers;
    let done = Latch::new(callers);
    let t0 = Instant::now();
    for _ in 0..callers {
        let (server, done) = (server.clone(), done.clone());
        actix::spawn(async move {
            for _ in 0..per {
                std::hint::black_box(server.send(Incr).await.unwrap_or(0));
            }
            done.count_down();
        });
    }
    done.wait().await;
    let elapsed = t0.elapsed();
    let final_reply = server.send(Incr).await.unwrap_or(0);
    CallRun {
        callers,
        calls: per * callers,
        elapsed,
        final_reply,
    }
}

// ---- fan-out ----

struct Sub {
    stats: SubStats,
    msgs: u64,
    done: Arc<Latch>,
}

impl Actor for Sub {
    type Context = Context<Self>;
}

#[derive(Message)]
#[rtype(result = "()")]
struct Pub(u64);

#[derive(Message)]
#[rtype(result = "SubStats")]
struct Stats;

impl Handler<Pub> for Sub {
    type Result = ();

    fn handle(&mut self, Pub(v): Pub, _: &mut Context<Self>) {
        self.stats.record(v);
        if self.stats.count == self.msgs {
            self.done.count_down();
        }
    }
}

impl Handler<Stats> for Sub {
    type Result = MessageResult<Stats>;

    fn handle(&mut self, _: Stats, _: &mut Context<Self>) -> MessageResult<Stats> {
        MessageResult(self.stats)
    }
}

async fn fanout(subs: usize, msgs: usize) -> FanoutRun {
    let done = Latch::new(subs);
    let addrs: Vec<_> = (0..subs)
        .map(|_| {
            Sub {
                stats: SubStats::default(),
                msgs: msgs as u64,
                done: done.clone(),
            }
            .start()
        })
        .collect();
    let t0 = Instant::now();
    for m in 0..msgs as u64 {
        for sub in &addrs {
            sub.do_send(Pub(m));
        }
    }
    done.wait().await;
    let elapsed = t0.elapsed();
    let mut stats = Vec::with_capacity(subs);
    for sub in &addrs {
        stats.push(sub.send(Stats).await.unwrap_or_default());
    }
    FanoutRun {
        subs,
        msgs,
        elapsed,
        stats,
    }
}
