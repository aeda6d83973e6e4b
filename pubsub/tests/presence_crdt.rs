//! R-PR-1: the Presence state is a delta CRDT (an add-wins observed-remove set): merge is
//! commutative, associative and idempotent; replicas that exchange states converge, a
//! concurrent add winning over a remove that did not observe it; and merging every delta
//! gives the same state as merging the full states.

use beamish_process::{NodeId, Pid};
use beamish_pubsub::crdt::{Entry, Replica, ReplicaId, Store};
use proptest::prelude::*;

const REPLICAS: usize = 3;

/// One step of a random history.
#[derive(Debug, Clone)]
enum Op {
    /// Replica `r` tracks key `k`.
    Add { r: usize, k: u8 },
    /// Replica `r` removes its `i`-th live entry (modulo how many it has), if any.
    Remove { r: usize, i: usize },
    /// Replica `to` merges replica `from`'s full state.
    Sync { from: usize, to: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..REPLICAS, 0u8..4).prop_map(|(r, k)| Op::Add { r, k }),
        (0..REPLICAS, 0usize..8).prop_map(|(r, i)| Op::Remove { r, i }),
        (0..REPLICAS, 0..REPLICAS).prop_map(|(from, to)| Op::Sync { from, to }),
    ]
}

fn entry(r: usize, k: u8) -> Entry<u8> {
    Entry {
        topic: "room".into(),
        pid: Pid::from_parts(NodeId(r as u64 + 1), 1, 0),
        key: format!("user{k}"),
        meta: k,
        prev: None,
    }
}

/// Runs a history; returns the replicas' final stores and every delta produced.
fn run(ops: &[Op]) -> (Vec<Store<u8>>, Vec<Store<u8>>) {
    let mut replicas: Vec<Replica<u8>> = (0..REPLICAS)
        .map(|i| Replica::new(ReplicaId(i as u64)))
        .collect();
    let mut deltas = Vec::new();
    for op in ops {
        match *op {
            Op::Add { r, k } => {
                let (_, d) = replicas[r].add(entry(r, k));
                deltas.push(d);
            }
            Op::Remove { r, i } => {
                let tags: Vec<_> = replicas[r].store().entries().map(|(t, _)| *t).collect();
                if !tags.is_empty() {
                    let (_, d) = replicas[r].remove(tags[i % tags.len()]).unwrap();
                    deltas.push(d);
                }
            }
            Op::Sync { from, to } => {
                let s = replicas[from].store().clone();
                replicas[to].merge(&s);
            }
        }
    }
    (replicas.iter().map(|r| r.store().clone()).collect(), deltas)
}

proptest! {
    /// R-PR-1: merge is commutative, associative and idempotent on reachable states.
    #[test]
    fn r_pr_1_merge_is_commutative_associative_idempotent(ops in prop::collection::vec(op(), 0..40)) {
        let (s, _) = run(&ops);
        prop_assert_eq!(s[0].join(&s[1]), s[1].join(&s[0]));
        prop_assert_eq!(s[0].join(&s[1]).join(&s[2]), s[0].join(&s[1].join(&s[2])));
        prop_assert_eq!(s[0].join(&s[0]), s[0].clone());
        prop_assert_eq!(s[0].join(&s[1]).join(&s[1]), s[0].join(&s[1]));
    }

    /// R-PR-1: replicas that merge each other's states, in any order, converge.
    #[test]
    fn r_pr_1_replicas_converge(ops in prop::collection::vec(op(), 0..40), order in Just(()).prop_perturb(|_, mut rng| {
        let mut o: Vec<usize> = (0..REPLICAS).collect();
        for i in (1..o.len()).rev() { o.swap(i, rng.random_range(0..=i)); }
        o
    })) {
        let (s, _) = run(&ops);
        let mut a = Store::new();
        for i in &order { a.merge(&s[*i]); }
        let mut b = Store::new();
        for i in order.iter().rev() { b.merge(&s[*i]); }
        prop_assert_eq!(a, b);
    }

    /// R-PR-1: merging every delta (in any order) equals merging every full state.
    #[test]
    fn r_pr_1_deltas_equal_full_state_merge(ops in prop::collection::vec(op(), 0..40), seed in any::<u64>()) {
        let (s, mut deltas) = run(&ops);
        let mut full = Store::new();
        for st in &s { full.merge(st); }
        // A deterministic shuffle of the deltas.
        let n = deltas.len();
        let mut x = seed | 1;
        for i in (1..n).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            deltas.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let mut from_deltas = Store::new();
        for d in &deltas { from_deltas.merge(d); }
        prop_assert_eq!(from_deltas, full);
    }
}

/// R-PR-1: a concurrent add and remove converge the same way on every replica: the add wins,
/// the removal takes only what it observed.
#[test]
fn r_pr_1_concurrent_add_and_remove_converge_add_wins() {
    let mut a = Replica::new(ReplicaId(1));
    let mut b = Replica::new(ReplicaId(2));
    let (t1, d1) = a.add(entry(0, 1));
    b.merge(&d1);
    // Concurrently: b removes the entry it saw; a adds the same key again.
    let (_, removal) = b.remove(t1).unwrap();
    let (t2, d2) = a.add(entry(0, 1));
    let a_changes = a.merge(&removal);
    let b_changes = b.merge(&d2);
    assert_eq!(a.store(), b.store());
    let live: Vec<_> = a.store().entries().map(|(t, _)| *t).collect();
    assert_eq!(live, vec![t2]);
    // Each side reports what changed for it: a saw t1 leave, b saw t2 join.
    assert_eq!(a_changes.leaves.len(), 1);
    assert_eq!(a_changes.leaves[0].0, t1);
    assert_eq!(b_changes.joins.len(), 1);
    assert_eq!(b_changes.joins[0].0, t2);
}
