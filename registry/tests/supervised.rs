//! Issue 13 §2: a registry in a supervision tree. A via-named server is a supervised child
//! that re-registers under its key when restarted (R-REG-4, R-REG-2); the registry itself is
//! a child that fails, and escalates, when one of its processes ends.

mod common;

use std::time::Duration;

use beamish_process::{Caller, Exit, GenServer, Reply, ServerCtx};
use beamish_registry::{Keys, Registry};
use beamish_supervisor::{Strategy, Supervisor, SupervisorStartError};
use common::{node, within};

/// A call answers with the server's pid-independent count of calls.
struct Counter(u64);

impl GenServer for Counter {
    type Call = ();
    type Reply = u64;
    type Cast = ();
    type Info = ();

    async fn handle_call(
        &mut self,
        _: (),
        _: Caller<'_, u64>,
        _: &mut ServerCtx<Self>,
    ) -> Result<Reply<u64>, Exit> {
        self.0 += 1;
        Ok(Reply::Now(self.0))
    }
}

/// R-REG-4, R-REG-2, R-GS-7: a via-named child is reachable by its key; killed, it is
/// restarted (awaited on the restart stream, not polled) and the same key reaches the new
/// process, whose state started afresh.
#[tokio::test(start_paused = true)]
async fn r_reg_4_a_via_child_is_reachable_by_its_key_after_a_restart() {
    let node = node();
    let names: Registry<String, ()> = Registry::start(&node, Keys::Unique).unwrap();
    let key = "counter".to_string();
    let sup = Supervisor::new(Strategy::OneForOne)
        .child(names.via_spec("counter", key.clone(), (), || Counter(0)))
        .start(&node)
        .await
        .unwrap();
    assert_eq!(names.call::<Counter>(&key, ()).await.unwrap(), 1);
    assert_eq!(names.call::<Counter>(&key, ()).await.unwrap(), 2);
    let first = names.whereis(&key).unwrap();
    let mut restarts = sup.restarts().await.unwrap();
    node.exit(first, Exit::Kill);
    let r = within("the restart", restarts.of("counter")).await.unwrap();
    assert_eq!(r.old, first);
    assert_eq!(names.whereis(&key), Some(r.new));
    assert_eq!(names.call::<Counter>(&key, ()).await.unwrap(), 1);
}

/// R-REG-4: a key held by another live process fails the child's start with
/// `already_started`, and so the supervisor's (R-SUP-START).
#[tokio::test(start_paused = true)]
async fn r_reg_4_a_via_child_whose_key_is_taken_fails_to_start() {
    let node = node();
    let names: Registry<String, ()> = Registry::start(&node, Keys::Unique).unwrap();
    let holder = names
        .start_via("k".to_string(), (), Counter(0))
        .await
        .unwrap();
    let err = Supervisor::new(Strategy::OneForOne)
        .child(names.via_spec("k", "k".to_string(), (), || Counter(0)))
        .start(&node)
        .await
        .unwrap_err();
    let SupervisorStartError::FailedToStartChild { reason, .. } = err else {
        panic!("expected a failed child start, got {err:?}")
    };
    assert!(
        reason.to_string().contains(&holder.pid().to_string()),
        "{reason}"
    );
}

/// R-SUP-RETRY, R-SUP-INT: the registry as a child stands for its watcher processes. One of
/// them ending fails the child; its restarts are refused while the watcher is gone, each
/// counted, until the supervisor gives up with `shutdown`.
#[tokio::test(start_paused = true)]
async fn r_sup_retry_a_registry_whose_watcher_ends_escalates() {
    let node = node();
    let names: Registry<String, ()> = Registry::builder(Keys::Unique)
        .partitions(2)
        .start(&node)
        .unwrap();
    let sup = Supervisor::new(Strategy::OneForOne)
        .intensity(2, Duration::from_secs(5))
        .child(names.child_spec("registry"))
        .start(&node)
        .await
        .unwrap();
    let down = node.monitor(sup.pid());
    assert_eq!(names.processes().len(), 2);
    node.exit(names.processes()[1], Exit::Kill);
    assert_eq!(within("the supervisor's end", down).await, Exit::Shutdown);
}

/// Stopping the tree stops the registry's child, not the registry: its processes run on and
/// its entries stay (they belong to the handle, as the module docs say).
#[tokio::test(start_paused = true)]
async fn stopping_the_registry_child_keeps_the_registry() {
    let node = node();
    let names: Registry<String, ()> = Registry::start(&node, Keys::Unique).unwrap();
    let sup = Supervisor::new(Strategy::OneForOne)
        .child(names.child_spec("registry"))
        .start(&node)
        .await
        .unwrap();
    let server = names.start_via("s".into(), (), Counter(0)).await.unwrap();
    sup.stop(Exit::Normal).await.unwrap();
    assert!(names.processes().iter().all(|p| node.is_alive(*p)));
    assert_eq!(names.whereis("s"), Some(server.pid()));
}
