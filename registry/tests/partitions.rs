//! R-REG-6: a partitioned registry keeps unique keys unique, and answers lookups, counts,
//! matches and dispatch the same whatever the number of partitions.

mod common;

use std::sync::Arc;

use beamish_process::{Ctx, Message, Pid};
use beamish_registry::{Keys, RegisterError, Registry};
use common::{Agent, node, sorted, within};
use tokio::sync::{Barrier, mpsc};

/// R-REG-6, R-REG-1: many processes on a multi-thread runtime race for the same unique keys
/// of an 8-partition registry: each key has exactly one winner, and every loser is told who.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn r_reg_6_unique_keys_stay_unique_under_concurrent_registration() {
    const KEYS: u32 = 32;
    const RACERS: usize = 128;
    let node = node();
    let reg: Registry<u32, Pid> = Registry::builder(Keys::Unique)
        .partitions(8)
        .start(&node)
        .unwrap();
    let barrier = Arc::new(Barrier::new(RACERS));
    let (tx, mut rx) = mpsc::unbounded_channel();
    for _ in 0..RACERS {
        let (reg, barrier, tx) = (reg.clone(), barrier.clone(), tx.clone());
        node.spawn(move |mut ctx: Ctx<()>| async move {
            barrier.wait().await;
            let results: Vec<_> = (0..KEYS)
                .map(|k| (k, reg.register(&ctx, k, ctx.pid())))
                .collect();
            let _ = tx.send((ctx.pid(), results));
            // Stay alive (holding the keys won) until the test ends.
            let _: Message<()> = ctx.recv().await;
        })
        .unwrap();
    }
    let mut winners: Vec<Option<Pid>> = vec![None; KEYS as usize];
    let mut losses = Vec::new();
    for _ in 0..RACERS {
        let (pid, results) = within("a racer's results", rx.recv()).await.unwrap();
        for (k, r) in results {
            match r {
                Ok(()) => {
                    let w = &mut winners[k as usize];
                    assert_eq!(*w, None, "two winners for key {k}");
                    *w = Some(pid);
                }
                Err(RegisterError::AlreadyRegistered(owner)) => losses.push((k, pid, owner)),
                Err(e) => panic!("unexpected {e:?}"),
            }
        }
    }
    assert_eq!(losses.len(), KEYS as usize * (RACERS - 1));
    for (k, loser, owner) in losses {
        assert_eq!(Some(owner), winners[k as usize], "key {k}");
        assert_ne!(loser, owner);
    }
    for k in 0..KEYS {
        let w = winners[k as usize].expect("every key has a winner");
        assert_eq!(reg.lookup(&k), vec![(w, w)]);
    }
    assert_eq!(reg.count(), KEYS as usize);
}

/// R-REG-6: the same registrations give the same answers with 1 and with 8 partitions.
#[tokio::test]
async fn r_reg_6_answers_do_not_depend_on_partitions() {
    let node = node();
    let agents: Vec<Agent> = (0..16).map(|_| Agent::spawn(&node)).collect();
    for keys in [Keys::Unique, Keys::Duplicate, Keys::DuplicateByKey] {
        let one: Registry<u32, u32> = Registry::builder(keys).partitions(1).start(&node).unwrap();
        let many: Registry<u32, u32> = Registry::builder(keys).partitions(8).start(&node).unwrap();
        for (i, a) in agents.iter().enumerate() {
            let (r1, r8) = (one.clone(), many.clone());
            let i = i as u32;
            a.run(move |ctx| {
                for k in 0..8 {
                    // Unique: agent i takes keys (i + k) % 8 if free; duplicate: all of them.
                    let key = (i + k) % 8;
                    assert_eq!(
                        r1.register(ctx, key, i).is_ok(),
                        r8.register(ctx, key, i).is_ok()
                    );
                }
            })
            .await;
        }
        assert_eq!(one.count(), many.count(), "{keys:?}");
        for k in 0..8 {
            assert_eq!(
                sorted(&one.lookup(&k)),
                sorted(&many.lookup(&k)),
                "{keys:?}"
            );
            assert_eq!(one.count_key(&k), many.count_key(&k));
            assert_eq!(
                sorted(&one.match_values(&k, |v| v % 2 == 0)),
                sorted(&many.match_values(&k, |v| v % 2 == 0))
            );
            let (mut d1, mut d8) = (Vec::new(), Vec::new());
            one.dispatch(&k, |e| d1.extend(e.iter().map(|e| (e.pid(), *e.value()))));
            many.dispatch(&k, |e| d8.extend(e.iter().map(|e| (e.pid(), *e.value()))));
            assert_eq!(sorted(&d1), sorted(&d8));
        }
        for a in &agents {
            assert_eq!(sorted(&one.keys(a.pid())), sorted(&many.keys(a.pid())));
        }
    }
}

/// R-REG-6: by default a registry has one partition per worker thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn r_reg_6_default_partitions_follow_worker_threads() {
    let node = node();
    let reg: Registry<u32, ()> = Registry::start(&node, Keys::Unique).unwrap();
    assert_eq!(reg.partitions(), 3);
}
