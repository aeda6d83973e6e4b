//! R-REG-1: a unique registry maps a key to at most one process, and registering a taken key
//! fails with the owner's pid, even for the owner itself; a duplicate registry lets any
//! number of entries share a key, the same process included. Lookup, match, count, keys and
//! values read the entries; `register` registers the calling process.

mod common;

use beamish_registry::{Keys, RegisterError, Registry};
use common::{Agent, node, sorted};

/// R-REG-1: unique keys, `AlreadyRegistered(owner)` for everybody, the owner included.
#[tokio::test]
async fn r_reg_1_unique_key_has_one_owner() {
    let node = node();
    let reg: Registry<&'static str, u32> = Registry::start(&node, Keys::Unique).unwrap();
    let (a, b) = (Agent::spawn(&node), Agent::spawn(&node));

    let r = reg.clone();
    assert_eq!(a.run(move |ctx| r.register(ctx, "k", 1)).await, Ok(()));
    let r = reg.clone();
    assert_eq!(
        a.run(move |ctx| r.register(ctx, "k", 2)).await,
        Err(RegisterError::AlreadyRegistered(a.pid()))
    );
    let r = reg.clone();
    assert_eq!(
        b.run(move |ctx| r.register(ctx, "k", 3)).await,
        Err(RegisterError::AlreadyRegistered(a.pid()))
    );
    assert_eq!(reg.lookup(&"k"), vec![(a.pid(), 1)]);
    assert_eq!(reg.whereis(&"k"), Some(a.pid()));
    assert_eq!(reg.lookup(&"free"), vec![]);
    assert_eq!(reg.whereis(&"free"), None);

    // `register` registers the caller: b takes another key, and each holds its own.
    let r = reg.clone();
    assert_eq!(b.run(move |ctx| r.register(ctx, "j", 4)).await, Ok(()));
    assert_eq!(reg.keys(a.pid()), vec!["k"]);
    assert_eq!(reg.keys(b.pid()), vec!["j"]);
    assert_eq!(reg.values(&"k", a.pid()), vec![1]);
    assert_eq!(reg.values(&"k", b.pid()), Vec::<u32>::new());
    assert_eq!(reg.count(), 2);
}

/// R-REG-1: duplicate keys, the same process registering twice; reads see every entry.
#[tokio::test]
async fn r_reg_1_duplicate_key_takes_every_entry() {
    let node = node();
    for keys in [Keys::Duplicate, Keys::DuplicateByKey] {
        let reg: Registry<&'static str, u32> =
            Registry::builder(keys).partitions(4).start(&node).unwrap();
        let (a, b) = (Agent::spawn(&node), Agent::spawn(&node));
        let r = reg.clone();
        a.run(move |ctx| {
            r.register(ctx, "topic", 1).unwrap();
            r.register(ctx, "topic", 2).unwrap();
            r.register(ctx, "other", 3).unwrap();
        })
        .await;
        let r = reg.clone();
        b.run(move |ctx| r.register(ctx, "topic", 10).unwrap())
            .await;

        assert_eq!(
            sorted(&reg.lookup(&"topic")),
            sorted(&[(a.pid(), 1), (a.pid(), 2), (b.pid(), 10)])
        );
        assert_eq!(
            sorted(&reg.match_values(&"topic", |v| *v >= 2)),
            sorted(&[(a.pid(), 2), (b.pid(), 10)])
        );
        assert_eq!(reg.count(), 4);
        assert_eq!(reg.count_key(&"topic"), 3);
        assert_eq!(reg.count_match(&"topic", |v| *v < 10), 2);
        assert_eq!(sorted(&reg.keys(a.pid())), vec!["other", "topic", "topic"]);
        assert_eq!(sorted(&reg.values(&"topic", a.pid())), vec![1, 2]);
        assert_eq!(reg.keys_kind(), keys);
        assert_eq!(reg.partitions(), 4);
    }
}
