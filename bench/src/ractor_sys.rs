//! ractor 0.16 with its default features: `Actor::spawn` (awaits the child's `pre_start`),
//! `ActorRef::cast` for sends, `call!` with an `RpcReplyPort` for request/reply, and its process
//! groups (`ractor::pg`) for pubsub.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use ractor::GroupName;
use ractor::pg;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use tokio::sync::oneshot;

use crate::common::{
    CallRun, FanoutRun, Latch, Outcome, PingPongRun, RingRun, SkynetRun, SpawnRun, SubStats,
    Workload, rss_bytes,
};

type Handled = Result<(), ActorProcessingErr>;

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
        Workload::PubSub { subs, msgs } => pubsub(subs, msgs).await.outcome_as("pubsub"),
        Workload::SupRestart { .. }
        | Workload::SupLoop { .. }
        | Workload::Observe { .. }
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

struct Idle;

struct Hooks {
    ready: Arc<Latch>,
    done: Arc<Latch>,
}

enum IdleMsg {
    Stop,
}

impl Actor for Idle {
    type Msg = IdleMsg;
    type State = Arc<Hooks>;
    type Arguments = Arc<Hooks>;

    async fn pre_start(
        &self,
        _me: ActorRef<IdleMsg>,
        hooks: Arc<Hooks>,
    ) -> Result<Arc<Hooks>, ActorProcessingErr> {
        hooks.ready.count_down();
        Ok(hooks)
    }

    async fn handle(&self, me: ActorRef<IdleMsg>, msg: IdleMsg, _s: &mut Arc<Hooks>) -> Handled {
        match msg {
            IdleMsg::Stop => me.stop(None),
        }
        Ok(())
    }

    async fn post_stop(&self, _me: ActorRef<IdleMsg>, hooks: &mut Arc<Hooks>) -> Handled {
        hooks.done.count_down();
        Ok(())
    }
}

async fn spawn(n: usize) -> SpawnRun {
    let hooks = Arc::new(Hooks {
        ready: Latch::new(n),
        done: Latch::new(n),
    });
    let mut refs = Vec::with_capacity(n);
    let rss_before = rss_bytes();
    let t0 = Instant::now();
    for _ in 0..n {
        let (actor, _) = Actor::spawn(None, Idle, hooks.clone())
            .await
            .expect("spawn");
        refs.push(actor);
    }
    let spawn_loop = t0.elapsed();
    hooks.ready.wait().await;
    let all_started = t0.elapsed();
    let rss_started = rss_bytes();
    let t1 = Instant::now();
    let stops_sent = refs
        .iter()
        .filter(|r| r.cast(IdleMsg::Stop).is_ok())
        .count();
    hooks.done.wait().await;
    SpawnRun {
        n,
        spawn_loop,
        all_started,
        all_stopped: t1.elapsed(),
        rss_before,
        rss_started,
        stops_sent,
        ready: hooks.ready.clone(),
        done: hooks.done.clone(),
    }
}

// ---- ping-pong ----

struct Player;

enum PlayerMsg {
    Peer(ActorRef<PlayerMsg>),
    /// Serve `n` balls; report the number received on the sender when done.
    Serve(u64, oneshot::Sender<u64>),
    Ball(u64),
    Received(RpcReplyPort<u64>),
}

#[derive(Default)]
struct PlayerState {
    peer: Option<ActorRef<PlayerMsg>>,
    /// Set on the pinger only.
    finished: Option<oneshot::Sender<u64>>,
    got: u64,
}

impl Actor for Player {
    type Msg = PlayerMsg;
    type State = PlayerState;
    type Arguments = ();

    async fn pre_start(
        &self,
        _me: ActorRef<PlayerMsg>,
        _: (),
    ) -> Result<PlayerState, ActorProcessingErr> {
        Ok(PlayerState::default())
    }

    async fn handle(
        &self,
        _me: ActorRef<PlayerMsg>,
        msg: PlayerMsg,
        s: &mut PlayerState,
    ) -> Handled {
        match msg {
            PlayerMsg::Peer(p) => s.peer = Some(p),
            PlayerMsg::Serve(n, finished) => {
                s.finished = Some(finished);
                peer(s).cast(PlayerMsg::Ball(n))?;
            }
            PlayerMsg::Ball(k) => {
                s.got += 1;
                if s.finished.is_none() {
                    peer(s).cast(PlayerMsg::Ball(k))?;
                } else if k > 1 {
                    peer(s).cast(PlayerMsg::Ball(k - 1))?;
                } else if let Some(finished) = s.finished.take() {
                    let _ = finished.send(s.got);
                }
            }
            PlayerMsg::Received(reply) => {
                let _ = reply.send(s.got);
            }
        }
        Ok(())
    }
}

fn peer(s: &PlayerState) -> &ActorRef<PlayerMsg> {
    s.peer.as_ref().expect("peer is set before the first ball")
}

async fn pingpong(n: usize) -> PingPongRun {
    let (ping, _) = Actor::spawn(None, Player, ()).await.expect("spawn");
    let (pong, _) = Actor::spawn(None, Player, ()).await.expect("spawn");
    ping.cast(PlayerMsg::Peer(pong.clone())).expect("send");
    pong.cast(PlayerMsg::Peer(ping.clone())).expect("send");
    let (finished, pinger_got) = oneshot::channel();
    let t0 = Instant::now();
    ping.cast(PlayerMsg::Serve(n as u64, finished))
        .expect("send");
    let pinger_got = pinger_got.await.unwrap_or(0);
    let elapsed = t0.elapsed();
    let ponger_got = ractor::call!(pong, PlayerMsg::Received).unwrap_or(0);
    ping.stop(None);
    pong.stop(None);
    PingPongRun {
        n,
        elapsed,
        pinger_got,
        ponger_got,
    }
}

// ---- ring ----

struct RingNode;

enum RingMsg {
    Next(ActorRef<RingMsg>),
    Token(u64),
    Handled(RpcReplyPort<u64>),
}

struct RingArgs {
    index: usize,
    done: Arc<Latch>,
    last: Arc<AtomicUsize>,
}

struct RingState {
    args: RingArgs,
    next: Option<ActorRef<RingMsg>>,
    handled: u64,
}

impl Actor for RingNode {
    type Msg = RingMsg;
    type State = RingState;
    type Arguments = RingArgs;

    async fn pre_start(
        &self,
        _me: ActorRef<RingMsg>,
        args: RingArgs,
    ) -> Result<RingState, ActorProcessingErr> {
        Ok(RingState {
            args,
            next: None,
            handled: 0,
        })
    }

    async fn handle(&self, _me: ActorRef<RingMsg>, msg: RingMsg, s: &mut RingState) -> Handled {
        match msg {
            RingMsg::Next(next) => s.next = Some(next),
            RingMsg::Token(k) => {
                s.handled += 1;
                if k == 0 {
                    s.args.last.store(s.args.index, Ordering::Relaxed);
                    s.args.done.count_down();
                } else if let Some(next) = &s.next {
                    next.cast(RingMsg::Token(k - 1))?;
                }
            }
            RingMsg::Handled(reply) => {
                let _ = reply.send(s.handled);
            }
        }
        Ok(())
    }
}

async fn ring(nodes: usize, hops: usize) -> RingRun {
    let done = Latch::new(1);
    let last = Arc::new(AtomicUsize::new(usize::MAX));
    let mut refs = Vec::with_capacity(nodes);
    for index in 0..nodes {
        let args = RingArgs {
            index,
            done: done.clone(),
            last: last.clone(),
        };
        refs.push(Actor::spawn(None, RingNode, args).await.expect("spawn").0);
    }
    for (i, node) in refs.iter().enumerate() {
        node.cast(RingMsg::Next(refs[(i + 1) % nodes].clone()))
            .expect("send");
    }
    let t0 = Instant::now();
    refs[0].cast(RingMsg::Token(hops as u64)).expect("send");
    done.wait().await;
    let elapsed = t0.elapsed();
    let mut handled = 0;
    for node in &refs {
        handled += ractor::call!(node, RingMsg::Handled).unwrap_or(0);
        node.stop(None);
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

struct Sky;

enum Parent {
    Node(ActorRef<SkyMsg>),
    Root(oneshot::Sender<u64>),
}

impl Parent {
    fn send(self, v: u64) {
        match self {
            Parent::Node(p) => {
                let _ = p.cast(SkyMsg::Sum(v));
            }
            Parent::Root(tx) => {
                let _ = tx.send(v);
            }
        }
    }
}

struct SkyArgs {
    num: u64,
    size: u64,
    parent: Parent,
}

enum SkyMsg {
    Sum(u64),
}

struct SkyState {
    num: u64,
    size: u64,
    parent: Option<Parent>,
    sum: u64,
    left: u32,
}

impl Actor for Sky {
    type Msg = SkyMsg;
    type State = SkyState;
    type Arguments = SkyArgs;

    async fn pre_start(
        &self,
        _me: ActorRef<SkyMsg>,
        a: SkyArgs,
    ) -> Result<SkyState, ActorProcessingErr> {
        Ok(SkyState {
            num: a.num,
            size: a.size,
            parent: Some(a.parent),
            sum: 0,
            left: 10,
        })
    }

    // Children are spawned after start, not in pre_start: ractor's spawn awaits pre_start,
    // so spawning there would hold every ancestor's spawn open down to the leaves.
    async fn post_start(&self, me: ActorRef<SkyMsg>, s: &mut SkyState) -> Handled {
        if s.size == 1 {
            if let Some(p) = s.parent.take() {
                p.send(s.num);
            }
            me.stop(None);
            return Ok(());
        }
        let child = s.size / 10;
        for i in 0..10 {
            let args = SkyArgs {
                num: s.num + i * child,
                size: child,
                parent: Parent::Node(me.clone()),
            };
            Actor::spawn(None, Sky, args).await?;
        }
        Ok(())
    }

    async fn handle(
        &self,
        me: ActorRef<SkyMsg>,
        SkyMsg::Sum(v): SkyMsg,
        s: &mut SkyState,
    ) -> Handled {
        s.sum += v;
        s.left -= 1;
        if s.left == 0 {
            if let Some(p) = s.parent.take() {
                p.send(s.sum);
            }
            me.stop(None);
        }
        Ok(())
    }
}

async fn skynet(leaves: u64) -> SkynetRun {
    let t0 = Instant::now();
    let (tx, rx) = oneshot::channel();
    let root = SkyArgs {
        num: 0,
        size: leaves,
        parent: Parent::Root(tx),
    };
    Actor::spawn(None, Sky, root).await.expect("spawn");
    let sum = rx.await.unwrap_or(0);
    SkynetRun {
        leaves,
        elapsed: t0.elapsed(),
        sum,
    }
}

// ---- call ----

struct Counter;

enum CounterMsg {
    Incr(RpcReplyPort<u64>),
}

impl Actor for Counter {
    type Msg = CounterMsg;
    type State = u64;
    type Arguments = ();

    async fn pre_start(&self, _me: ActorRef<CounterMsg>, _: ()) -> Result<u64, ActorProcessingErr> {
        Ok(0)
    }

    async fn handle(&self, _me: ActorRef<CounterMsg>, msg: CounterMsg, count: &mut u64) -> Handled {
        let CounterMsg::Incr(reply) = msg;
        *count += 1;
        let _ = reply.send(*count);
        Ok(())
    }
}

async fn call(callers: usize, total: usize) -> CallRun {
    let (server, _) = Actor::spawn(None, Counter, ()).await.expect("spawn");
    let per = total / callers;
    let done = Latch::new(callers);
    let t0 = Instant::now();
    for _ in 0..callers {
        let (server, done) = (server.clone(), done.clone());
        tokio::spawn(async move {
            for _ in 0..per {
                std::hint::black_box(ractor::call!(server, CounterMsg::Incr).unwrap_or(0));
            }
            done.count_down();
        });
    }
    done.wait().await;
    let elapsed = t0.elapsed();
    let final_reply = ractor::call!(server, CounterMsg::Incr).unwrap_or(0);
    server.stop(None);
    CallRun {
        callers,
        calls: per * callers,
        elapsed,
        final_reply,
    }
}

// ---- fan-out ----

struct Sub;

enum SubMsg {
    Pub(u64),
    Stats(RpcReplyPort<SubStats>),
}

struct SubState {
    stats: SubStats,
    msgs: u64,
    done: Arc<Latch>,
}

impl Actor for Sub {
    type Msg = SubMsg;
    type State = SubState;
    /// Messages to expect, the latch to count down, and for pubsub the process group to join.
    type Arguments = (u64, Arc<Latch>, Option<GroupName>);

    async fn pre_start(
        &self,
        me: ActorRef<SubMsg>,
        (msgs, done, group): (u64, Arc<Latch>, Option<GroupName>),
    ) -> Result<SubState, ActorProcessingErr> {
        if let Some(group) = group {
            pg::join(group, vec![me.get_cell()]);
        }
        Ok(SubState {
            stats: SubStats::default(),
            msgs,
            done,
        })
    }

    async fn handle(&self, _me: ActorRef<SubMsg>, msg: SubMsg, s: &mut SubState) -> Handled {
        match msg {
            SubMsg::Pub(v) => {
                s.stats.record(v);
                if s.stats.count == s.msgs {
                    s.done.count_down();
                }
            }
            SubMsg::Stats(reply) => {
                let _ = reply.send(s.stats);
            }
        }
        Ok(())
    }
}

async fn fanout(subs: usize, msgs: usize) -> FanoutRun {
    let done = Latch::new(subs);
    let mut refs = Vec::with_capacity(subs);
    for _ in 0..subs {
        let args = (msgs as u64, done.clone(), None);
        refs.push(Actor::spawn(None, Sub, args).await.expect("spawn").0);
    }
    let t0 = Instant::now();
    for m in 0..msgs as u64 {
        for sub in &refs {
            let _ = sub.cast(SubMsg::Pub(m));
        }
    }
    done.wait().await;
    let elapsed = t0.elapsed();
    let mut stats = Vec::with_capacity(subs);
    for sub in &refs {
        stats.push(ractor::call!(sub, SubMsg::Stats).unwrap_or_default());
        sub.stop(None);
    }
    FanoutRun {
        subs,
        msgs,
        elapsed,
        stats,
    }
}

/// Fan-out through ractor's process groups: every subscriber joins the group in `pre_start`
/// and the publisher sends each message to `pg::get_members`, as the BEAM side does with `pg`.
async fn pubsub(subs: usize, msgs: usize) -> FanoutRun {
    let group: GroupName = "bench".to_owned();
    let done = Latch::new(subs);
    let mut refs = Vec::with_capacity(subs);
    for _ in 0..subs {
        let args = (msgs as u64, done.clone(), Some(group.clone()));
        refs.push(Actor::spawn(None, Sub, args).await.expect("spawn").0);
    }
    assert_eq!(
        pg::get_members(&group).len(),
        subs,
        "every subscriber joined"
    );
    // The publisher is a task of its own, like the other systems' publisher process.
    let publisher = tokio::spawn({
        let (group, done) = (group.clone(), done.clone());
        async move {
            let t0 = Instant::now();
            for m in 0..msgs as u64 {
                for member in pg::get_members(&group) {
                    let _ = member.send_message(SubMsg::Pub(m));
                }
            }
            done.wait().await;
            t0.elapsed()
        }
    });
    let elapsed = publisher.await.expect("the publisher finished");
    let mut stats = Vec::with_capacity(subs);
    for sub in &refs {
        stats.push(ractor::call!(sub, SubMsg::Stats).unwrap_or_default());
        sub.stop(None);
    }
    FanoutRun {
        subs,
        msgs,
        elapsed,
        stats,
    }
}
