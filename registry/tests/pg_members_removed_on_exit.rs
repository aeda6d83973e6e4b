//! R-PG-2: a member that ends is removed from every group it joined, however many times,
//! and the scope reports the leave.

mod common;

use beamish_process::Exit;
use beamish_registry::pg::{Change, GroupEvent, Scope};
use common::{Agent, Probe, node};

/// R-PG-2: an ended member leaves all its groups; the others stay.
#[tokio::test]
async fn r_pg_2_ended_member_is_removed() {
    let node = node();
    let scope: Scope<&'static str> = Scope::start(&node).unwrap();
    let (a, b) = (Agent::spawn(&node), Agent::spawn(&node));
    scope.join("g", a.pid()).unwrap();
    scope.join("g", a.pid()).unwrap();
    scope.join("h", a.pid()).unwrap();
    scope.join("g", b.pid()).unwrap();
    let mut monitor = Probe::<GroupEvent<&'static str>>::spawn(&node);
    let (mref, _) = scope.monitor_scope(monitor.addr());

    a.kill(&node, Exit::error("crash")).await;
    scope.sync().await;
    assert_eq!(scope.members(&"g"), vec![b.pid()]);
    assert!(scope.members(&"h").is_empty());
    assert_eq!(scope.which_groups(), vec!["g"]);

    let mut leaves = vec![monitor.next().await, monitor.next().await];
    leaves.sort_by_key(|e| e.group);
    assert_eq!(
        leaves,
        vec![
            GroupEvent {
                mref,
                change: Change::Leave,
                group: "g",
                pids: vec![a.pid(), a.pid()]
            },
            GroupEvent {
                mref,
                change: Change::Leave,
                group: "h",
                pids: vec![a.pid()]
            },
        ]
    );

    // A process that left everything and joined again is still watched.
    scope.leave(&"g", b.pid()).unwrap();
    scope.join("g", b.pid()).unwrap();
    b.kill(&node, Exit::Shutdown).await;
    scope.sync().await;
    assert!(scope.which_groups().is_empty());
}
