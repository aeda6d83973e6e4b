//! Introspection: the supervision tree as data (supervisors, children, pids, restart counts),
//! walking static and dynamic supervisors.

mod common;

use beamish_process::{Exit, Kind};
use beamish_supervisor::{ChildKind, DynamicSupervisor, Flavor, Strategy, Supervisor};
use common::{Log, crash, node, worker};

#[tokio::test(start_paused = true)]
async fn the_tree_shows_every_level() {
    let node = node();
    let mut log = Log::new();
    let leaf = Supervisor::new(Strategy::OneForAll).child(worker("w", &log));
    let top = Supervisor::new(Strategy::RestForOne)
        .child(worker("a", &log))
        .child(leaf.into_child_spec("leaf"))
        .child(DynamicSupervisor::new().into_child_spec("pool"))
        .start(&node)
        .await
        .unwrap();
    log.started("a").await;
    let w = log.started("w").await;
    crash(&node, w, Exit::error("boom"));
    log.started("w").await;

    let tree = top.tree().await.unwrap();
    assert_eq!(tree.pid, top.pid());
    assert_eq!(tree.flavor, Flavor::Static(Strategy::RestForOne));
    let ids: Vec<_> = tree
        .children
        .iter()
        .map(|c| c.child.id.as_deref().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["a", "leaf", "pool"]);
    let leaf = tree.children[1].tree.as_ref().unwrap();
    assert_eq!(leaf.flavor, Flavor::Static(Strategy::OneForAll));
    assert_eq!(leaf.children[0].child.restarts, 1);
    assert_eq!(
        node.process_info(leaf.pid).unwrap().kind,
        Kind::Supervisor,
        "a supervisor is a process of kind supervisor"
    );
    let pool = tree.children[2].tree.as_ref().unwrap();
    assert_eq!(pool.flavor, Flavor::Dynamic);
    assert!(pool.children.is_empty());
    assert!(tree.children[0].tree.is_none());

    let walked: Vec<_> = tree
        .walk()
        .into_iter()
        .map(|(depth, c)| (depth, c.id.as_deref().unwrap_or("?").to_owned(), c.kind))
        .collect();
    assert_eq!(
        walked,
        [
            (1, "a".to_owned(), ChildKind::Worker),
            (1, "leaf".to_owned(), ChildKind::Supervisor),
            (2, "w".to_owned(), ChildKind::Worker),
            (1, "pool".to_owned(), ChildKind::Supervisor),
        ]
    );
}
