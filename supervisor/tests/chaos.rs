//! Chaos: a three-level tree of 1,000 workers under a steady message load while random
//! workers are killed. Afterwards every worker is alive again, each worker's restart count
//! matches its kills, and no supervisor was restarted (none exceeded its intensity). Then one
//! leaf supervisor is pushed past its intensity: the escalation goes exactly one level up
//! (R-SUP-ESC).

mod common;

use std::collections::HashMap;
use std::time::Duration;

use beamish_process::{Ctx, Exit, Message, Node, Pid};
use beamish_supervisor::{ChildSpec, Strategy, SupervisionTree, Supervisor, SupervisorRef};
use common::{node, within};

const MIDS: usize = 10;
const LEAVES: usize = 10;
const WORKERS: usize = 10;
const KILLS: usize = 300;

fn worker(id: String) -> ChildSpec {
    ChildSpec::process(id, |mut ctx: Ctx<u64>| async move {
        let mut sum = 0u64;
        while let Message::Msg(n) = ctx.recv().await {
            sum = sum.wrapping_add(n);
        }
        let _ = sum;
    })
}

fn tree() -> Supervisor {
    let leaf = |m: usize, l: usize| {
        Supervisor::new(Strategy::OneForOne)
            .intensity(3, Duration::from_secs(5))
            .children((0..WORKERS).map(|w| worker(format!("w{m}.{l}.{w}"))))
            .into_child_spec(format!("leaf{m}.{l}"))
    };
    let mid = |m: usize| {
        Supervisor::new(Strategy::OneForOne)
            .intensity(3, Duration::from_secs(5))
            .children((0..LEAVES).map(|l| leaf(m, l)))
            .into_child_spec(format!("mid{m}"))
    };
    Supervisor::new(Strategy::OneForOne)
        .intensity(3, Duration::from_secs(5))
        .children((0..MIDS).map(mid))
}

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn leaf_pids(t: &SupervisionTree) -> Vec<Pid> {
    t.children
        .iter()
        .flat_map(|mid| mid.tree.as_ref().unwrap().children.iter())
        .map(|leaf| leaf.child.status.pid().unwrap())
        .collect()
}

async fn kill(node: &Node, pid: Pid) {
    let down = node.monitor(pid);
    node.exit(pid, Exit::Kill);
    within("a killed worker's exit", down).await;
}

#[tokio::test(start_paused = true)]
async fn chaos_in_a_three_level_tree() {
    let node = node();
    let top = tree().start(&node).await.unwrap();
    let t = top.tree().await.unwrap();
    assert_eq!(
        t.walk().len(),
        MIDS + MIDS * LEAVES + MIDS * LEAVES * WORKERS
    );
    let leaves = leaf_pids(&t);
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut kills: HashMap<String, u64> = HashMap::new();

    for i in 0..KILLS {
        // Message load on random workers between the kills.
        let leaf = SupervisorRef::from_pid(&node, leaves[rng.below(leaves.len())]).unwrap();
        let kids = leaf.which_children().await.unwrap();
        for _ in 0..10 {
            let c = &kids[rng.below(kids.len())];
            let _ = node.send(c.status.pid().unwrap(), i as u64);
        }
        let victim = &kids[rng.below(kids.len())];
        *kills
            .entry(victim.id.as_deref().unwrap().to_owned())
            .or_default() += 1;
        kill(&node, victim.status.pid().unwrap()).await;
        // Kills of one leaf are spread out in time, so no leaf exceeds 3 restarts in 5 s.
        tokio::time::advance(Duration::from_secs(2)).await;
    }

    let t = top.tree().await.unwrap();
    let mut workers = 0;
    for (depth, c) in t.walk() {
        assert!(c.status.pid().is_some(), "{:?} is running", c.id);
        if depth == 3 {
            workers += 1;
            let id = c.id.as_deref().unwrap();
            assert_eq!(c.restarts, kills.get(id).copied().unwrap_or(0), "{id}");
        } else {
            assert_eq!(c.restarts, 0, "supervisor {:?} never restarted", c.id);
        }
    }
    assert_eq!(workers, MIDS * LEAVES * WORKERS);

    // Four kills in one leaf at once: it exceeds 3 in 5 s, exits `shutdown`, and its mid
    // supervisor restarts it once; nothing above moves.
    tokio::time::advance(Duration::from_secs(10)).await;
    let leaf_pid = leaves[0];
    let leaf = SupervisorRef::from_pid(&node, leaf_pid).unwrap();
    let leaf_down = node.monitor(leaf_pid);
    for _ in 0..4 {
        let kid = leaf.which_children().await.unwrap()[0]
            .status
            .pid()
            .unwrap();
        kill(&node, kid).await;
    }
    assert_eq!(within("the leaf's exit", leaf_down).await, Exit::Shutdown);
    let t = top.tree().await.unwrap();
    let mid0 = t.children[0].tree.as_ref().unwrap();
    assert_eq!(t.children.iter().map(|c| c.child.restarts).sum::<u64>(), 0);
    assert_eq!(mid0.children[0].child.restarts, 1);
    assert_ne!(mid0.children[0].child.status.pid(), Some(leaf_pid));
    assert!(t.walk().iter().all(|(_, c)| c.status.pid().is_some()));
    top.stop(Exit::Shutdown).await.unwrap();
    assert_eq!(node.process_count(), 0);
}
