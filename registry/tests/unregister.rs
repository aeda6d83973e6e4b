//! R-REG-3: `unregister` removes every entry the caller holds under a key, duplicates
//! included, and nobody else's; `unregister_match` removes only the entries whose value
//! matches.

mod common;

use beamish_registry::{Keys, Registry};
use common::{Agent, node, sorted};

/// R-REG-3: unregister takes all of the caller's entries under the key, and only those.
#[tokio::test]
async fn r_reg_3_unregister_removes_all_the_callers_entries() {
    let node = node();
    let reg: Registry<&'static str, u32> = Registry::builder(Keys::Duplicate)
        .partitions(2)
        .start(&node)
        .unwrap();
    let (a, b) = (Agent::spawn(&node), Agent::spawn(&node));
    let r = reg.clone();
    a.run(move |ctx| {
        r.register(ctx, "k", 1).unwrap();
        r.register(ctx, "k", 2).unwrap();
        r.register(ctx, "other", 3).unwrap();
    })
    .await;
    let r = reg.clone();
    b.run(move |ctx| r.register(ctx, "k", 4).unwrap()).await;

    let r = reg.clone();
    a.run(move |ctx| r.unregister(ctx, &"k")).await;
    assert_eq!(reg.lookup(&"k"), vec![(b.pid(), 4)]);
    assert_eq!(reg.keys(a.pid()), vec!["other"]);
    // Unregistering a key one does not hold does nothing.
    let r = reg.clone();
    a.run(move |ctx| r.unregister(ctx, &"k")).await;
    assert_eq!(reg.count(), 2);
}

/// R-REG-3: unregister_match removes only the matching entries.
#[tokio::test]
async fn r_reg_3_unregister_match_removes_only_matching_values() {
    let node = node();
    let reg: Registry<&'static str, u32> = Registry::start(&node, Keys::Duplicate).unwrap();
    let a = Agent::spawn(&node);
    let r = reg.clone();
    let removed = a
        .run(move |ctx| {
            for v in 1..=5 {
                r.register(ctx, "k", v).unwrap();
            }
            r.unregister_match(ctx, &"k", |v| v % 2 == 0)
        })
        .await;
    assert_eq!(removed, 2);
    let values: Vec<u32> = reg.lookup(&"k").into_iter().map(|(_, v)| v).collect();
    assert_eq!(sorted(&values), vec![1, 3, 5]);
    assert_eq!(reg.keys(a.pid()).len(), 3);
}

/// R-REG-3: on a unique registry, unregistering frees the key for others.
#[tokio::test]
async fn r_reg_3_unregister_frees_a_unique_key() {
    let node = node();
    let reg: Registry<&'static str, ()> = Registry::start(&node, Keys::Unique).unwrap();
    let (a, b) = (Agent::spawn(&node), Agent::spawn(&node));
    let r = reg.clone();
    a.run(move |ctx| {
        r.register(ctx, "k", ()).unwrap();
        r.unregister(ctx, &"k");
    })
    .await;
    let r = reg.clone();
    assert_eq!(b.run(move |ctx| r.register(ctx, "k", ())).await, Ok(()));
    assert_eq!(reg.whereis(&"k"), Some(b.pid()));
}
