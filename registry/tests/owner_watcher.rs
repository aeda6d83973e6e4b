//! R-REG-2, R-PG-2, R-PR-2: the `OwnerWatcher` that registry partitions, pg scopes and
//! Presence share runs its cleanup for a watched process that ends, not for one it was told
//! to unwatch, and ends when the cleanup says the structure is gone.

mod common;

use std::sync::{Arc, Mutex};

use beamish_process::{Ctx, Exit, Node, Pid};
use beamish_registry::OwnerWatcher;
use common::{node, within};

/// A process that waits for one message, then ends normally.
fn idle(node: &Node) -> beamish_process::Addr<()> {
    node.spawn(|mut ctx: Ctx<()>| async move {
        ctx.recv().await;
    })
    .unwrap()
}

async fn end(node: &Node, addr: &beamish_process::Addr<()>) {
    let down = node.monitor(addr.pid());
    addr.send(()).unwrap();
    assert_eq!(within("the process's end", down).await, Exit::Normal);
}

/// R-REG-2: the cleanup runs for a watched process that ends, and not for an unwatched one,
/// even when it is watched again and unwatched in between (no `DOWN` of a dropped monitor
/// counts: the watcher drops it by its ref, without flushing).
#[tokio::test]
async fn r_reg_2_cleanup_runs_for_watched_owners_only() {
    let node = node();
    let ended: Arc<Mutex<Vec<Pid>>> = Arc::default();
    let log = ended.clone();
    let watcher = OwnerWatcher::spawn(&node, move |pid| {
        log.lock().unwrap().push(pid);
        true
    })
    .unwrap();
    let (kept, dropped, rewatched) = (idle(&node), idle(&node), idle(&node));
    watcher.watch(kept.pid());
    watcher.watch(kept.pid()); // twice is harmless: one cleanup
    watcher.watch(dropped.pid());
    watcher.unwatch(dropped.pid());
    watcher.watch(rewatched.pid());
    watcher.unwatch(rewatched.pid());
    watcher.watch(rewatched.pid());

    end(&node, &dropped).await;
    end(&node, &kept).await;
    end(&node, &rewatched).await;
    within("the watcher's sync", watcher.sync()).await;
    let mut got = ended.lock().unwrap().clone();
    got.sort();
    let mut expected = vec![kept.pid(), rewatched.pid()];
    expected.sort();
    assert_eq!(got, expected);
    watcher.stop();
}

/// R-REG-2: a cleanup that answers `false` (its structure is gone) ends the watcher, and a
/// sync on an ended watcher returns at once.
#[tokio::test]
async fn r_reg_2_watcher_ends_when_its_structure_is_gone() {
    let node = node();
    let watcher = OwnerWatcher::spawn(&node, |_| false).unwrap();
    let watcher_down = node.monitor(watcher.pid());
    let owner = idle(&node);
    watcher.watch(owner.pid());
    end(&node, &owner).await;
    assert_eq!(
        within("the watcher's end", watcher_down).await,
        Exit::Normal
    );
    within("a sync on an ended watcher", watcher.sync()).await;
}
