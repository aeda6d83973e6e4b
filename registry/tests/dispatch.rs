//! R-REG-5: `dispatch` runs the function in the caller, once for each partition that holds
//! entries under the key, and never for a key without entries.

mod common;

use std::collections::HashSet;

use beamish_registry::{Keys, Registry};
use common::{Agent, node};

async fn fill(reg: &Registry<&'static str, u32>, agents: &[Agent]) {
    for (i, a) in agents.iter().enumerate() {
        let r = reg.clone();
        a.run(move |ctx| r.register(ctx, "topic", i as u32).unwrap())
            .await;
    }
}

/// R-REG-5: one call per partition holding entries; all entries seen exactly once; none for
/// an empty key; the calls run in the calling thread of execution.
#[tokio::test]
async fn r_reg_5_dispatch_once_per_partition_with_entries() {
    let node = node();
    let agents: Vec<Agent> = (0..64).map(|_| Agent::spawn(&node)).collect();
    for (keys, partitions) in [
        (Keys::Duplicate, 1),
        (Keys::Duplicate, 4),
        (Keys::DuplicateByKey, 4),
        (Keys::Unique, 4),
    ] {
        let reg: Registry<&'static str, u32> = Registry::builder(keys)
            .partitions(partitions)
            .start(&node)
            .unwrap();
        let agents = if keys == Keys::Unique {
            &agents[..1]
        } else {
            &agents[..]
        };
        fill(&reg, agents).await;

        let caller = std::thread::current().id();
        let mut seen = Vec::new();
        let mut batches = 0;
        let calls = reg.dispatch(&"topic", |entries| {
            assert_eq!(std::thread::current().id(), caller);
            assert!(!entries.is_empty());
            batches += 1;
            seen.extend(entries.iter().map(|e| *e.value()));
        });
        assert_eq!(calls, batches);
        seen.sort_unstable();
        let want: Vec<u32> = (0..agents.len() as u32).collect();
        assert_eq!(seen, want, "{keys:?}/{partitions}");
        match (keys, partitions) {
            // 64 pids spread over 4 partitions by hash: every partition has some (the chance
            // that one is empty is 4 * (3/4)^64, about 4e-8).
            (Keys::Duplicate, 4) => assert_eq!(calls, 4),
            // One partition, or every entry of a key in its key's partition: one call.
            _ => assert_eq!(calls, 1, "{keys:?}/{partitions}"),
        }

        let mut called = false;
        assert_eq!(reg.dispatch(&"empty", |_| called = true), 0);
        assert!(!called, "dispatch must not run for a key without entries");
    }
}

/// R-REG-5: the registered processes take no part: dispatch to entries whose owners are busy
/// (never receiving) still runs, and the function may use the registry freely.
#[tokio::test]
async fn r_reg_5_dispatch_runs_without_the_registered_processes() {
    let node = node();
    let reg: Registry<&'static str, u32> = Registry::builder(Keys::Duplicate)
        .partitions(2)
        .start(&node)
        .unwrap();
    let a = Agent::spawn(&node);
    let r = reg.clone();
    a.run(move |ctx| r.register(ctx, "topic", 1).unwrap()).await;
    let mut pids = HashSet::new();
    let r = reg.clone();
    reg.dispatch(&"topic", |entries| {
        // No lock is held: reading the registry from inside is fine.
        assert_eq!(r.count_key(&"topic"), 1);
        pids.extend(entries.iter().map(|e| e.pid()));
    });
    assert_eq!(pids, HashSet::from([a.pid()]));
}

/// R-REG-5 with `parallel: true`: one task per partition holding entries, all entries seen
/// once, none for an empty key; a panicking call comes back as the caller's error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_reg_5_parallel_dispatch_runs_one_task_per_partition() {
    use std::sync::{Arc, Mutex};
    let node = node();
    let agents: Vec<Agent> = (0..64).map(|_| Agent::spawn(&node)).collect();
    let reg: Registry<&'static str, u32> = Registry::builder(Keys::Duplicate)
        .partitions(4)
        .start(&node)
        .unwrap();
    fill(&reg, &agents).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let calls = reg
        .dispatch_parallel(&"topic", move |entries| {
            s.lock().unwrap().extend(entries.iter().map(|e| *e.value()));
        })
        .await
        .unwrap();
    assert_eq!(calls, 4);
    let mut seen = seen.lock().unwrap().clone();
    seen.sort_unstable();
    assert_eq!(seen, (0..64).collect::<Vec<u32>>());
    assert_eq!(reg.dispatch_parallel(&"empty", |_| {}).await, Ok(0));
    let failed = reg
        .dispatch_parallel(&"topic", |_| panic!("subscriber list corrupt"))
        .await;
    assert_eq!(
        failed,
        Err(beamish_process::Exit::Panic(
            "subscriber list corrupt".into()
        ))
    );
}
