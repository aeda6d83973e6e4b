//! R-REG-2: when a process ends, its entries are removed; the removal is asynchronous, but a
//! unique key whose owner has ended can be taken again at once.

mod common;

use beamish_process::Exit;
use beamish_registry::{Keys, Registry};
use common::{Agent, node};

/// R-REG-2: an owner's death clears all its entries, in every partition, and only its own.
#[tokio::test]
async fn r_reg_2_owner_death_clears_its_entries() {
    let node = node();
    for keys in [Keys::Unique, Keys::Duplicate, Keys::DuplicateByKey] {
        let reg: Registry<u32, ()> = Registry::builder(keys).partitions(4).start(&node).unwrap();
        let (a, b) = (Agent::spawn(&node), Agent::spawn(&node));
        let r = reg.clone();
        a.run(move |ctx| {
            for k in 0..16 {
                r.register(ctx, k, ()).unwrap();
            }
        })
        .await;
        let r = reg.clone();
        b.run(move |ctx| r.register(ctx, 100, ()).unwrap()).await;
        assert_eq!(reg.count(), 17);

        a.kill(&node, Exit::error("crash")).await;
        reg.sync().await;
        assert_eq!(reg.count(), 1, "{keys:?}");
        assert!(reg.keys(a.pid()).is_empty());
        assert!((0..16).all(|k| reg.lookup(&k).is_empty()));
        assert_eq!(reg.lookup(&100), vec![(b.pid(), ())]);
    }
}

/// R-REG-2: a unique key is reusable as soon as its owner has ended, before the registry's
/// cleanup has run, and after it as well.
#[tokio::test]
async fn r_reg_2_key_is_reusable_after_owner_death() {
    let node = node();
    let reg: Registry<&'static str, u32> = Registry::start(&node, Keys::Unique).unwrap();
    let first = Agent::spawn(&node);
    let r = reg.clone();
    first
        .run(move |ctx| r.register(ctx, "svc", 1))
        .await
        .unwrap();
    first.kill(&node, Exit::Kill).await;

    // No sync: the old entry may still be there, but its owner is dead.
    let second = Agent::spawn(&node);
    let r = reg.clone();
    assert_eq!(
        second.run(move |ctx| r.register(ctx, "svc", 2)).await,
        Ok(())
    );
    assert_eq!(reg.lookup(&"svc"), vec![(second.pid(), 2)]);

    // The late cleanup of the first owner does not touch the new entry.
    reg.sync().await;
    assert_eq!(reg.lookup(&"svc"), vec![(second.pid(), 2)]);
    assert_eq!(reg.count(), 1);

    // And once the second owner ends and the cleanup has run, the key is simply free.
    second.kill(&node, Exit::Shutdown).await;
    reg.sync().await;
    assert_eq!(reg.count(), 0);
    let third = Agent::spawn(&node);
    let r = reg.clone();
    assert_eq!(
        third.run(move |ctx| r.register(ctx, "svc", 3)).await,
        Ok(())
    );
}

/// R-REG-2: a process that unregistered everything and registered again is still watched:
/// its entries go when it ends.
#[tokio::test]
async fn r_reg_2_reregistered_owner_is_still_cleaned() {
    let node = node();
    let reg: Registry<&'static str, ()> = Registry::builder(Keys::Unique)
        .partitions(1)
        .start(&node)
        .unwrap();
    let a = Agent::spawn(&node);
    let r = reg.clone();
    a.run(move |ctx| {
        r.register(ctx, "x", ()).unwrap();
        r.unregister(ctx, &"x");
        r.register(ctx, "y", ()).unwrap();
    })
    .await;
    reg.sync().await;
    assert_eq!(reg.lookup(&"y"), vec![(a.pid(), ())]);
    a.kill(&node, Exit::Shutdown).await;
    reg.sync().await;
    assert_eq!(reg.count(), 0);
}

/// R-REG-2: on a multi-thread runtime, where the test may learn of an owner's end before the
/// registry's watcher does, `sync` still waits for that end to be applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_reg_2_cleanup_observed_from_another_thread() {
    let node = node();
    let reg: Registry<u32, ()> = Registry::builder(Keys::Duplicate)
        .partitions(2)
        .start(&node)
        .unwrap();
    for round in 0..50 {
        let a = Agent::spawn(&node);
        let r = reg.clone();
        a.run(move |ctx| r.register(ctx, round, ()).unwrap()).await;
        a.kill(&node, Exit::Kill).await;
        reg.sync().await;
        assert!(reg.lookup(&round).is_empty(), "round {round}");
    }
    assert_eq!(reg.count(), 0);
}
