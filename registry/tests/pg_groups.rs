//! R-PG-1, R-PG-3: groups appear with their first member and vanish with their last; a
//! process may join several times and must leave as many times; leaving a group one is not in
//! is `NotJoined`; only local processes join; scopes are independent.

mod common;

use beamish_process::{NodeId, Pid};
use beamish_registry::pg::Scope;
use beamish_registry::{JoinError, LeaveError};
use common::{Agent, node, sorted};

/// R-PG-1: join twice, leave twice, then `NotJoined`; the group comes and goes.
#[tokio::test]
async fn r_pg_1_join_several_times_leave_as_many() {
    let node = node();
    let scope: Scope<&'static str> = Scope::start(&node).unwrap();
    let (a, b) = (Agent::spawn(&node), Agent::spawn(&node));
    assert!(scope.members(&"g").is_empty());
    assert!(scope.which_groups().is_empty());

    scope.join("g", a.pid()).unwrap();
    scope.join("g", a.pid()).unwrap();
    scope.join("g", b.pid()).unwrap();
    scope.join("h", b.pid()).unwrap();
    assert_eq!(
        sorted(&scope.members(&"g")),
        sorted(&[a.pid(), a.pid(), b.pid()])
    );
    assert_eq!(sorted(&scope.which_groups()), vec!["g", "h"]);

    scope.leave(&"g", a.pid()).unwrap();
    assert_eq!(sorted(&scope.members(&"g")), sorted(&[a.pid(), b.pid()]));
    scope.leave(&"g", a.pid()).unwrap();
    assert_eq!(scope.leave(&"g", a.pid()), Err(LeaveError::NotJoined));
    assert_eq!(scope.leave(&"nowhere", a.pid()), Err(LeaveError::NotJoined));
    scope.leave(&"g", b.pid()).unwrap();
    assert!(scope.members(&"g").is_empty());
    assert_eq!(scope.which_groups(), vec!["h"]);
}

/// R-PG-1: only local processes join.
#[tokio::test]
async fn r_pg_1_only_local_processes_join() {
    let node = node();
    let scope: Scope<u32> = Scope::start(&node).unwrap();
    let remote = Pid::from_parts(NodeId::from_name("other@host"), 1, 0);
    assert_eq!(scope.join(1, remote), Err(JoinError::NotLocal(remote)));
    assert!(scope.members(&1).is_empty());
}

/// R-PG-3: scopes are independent.
#[tokio::test]
async fn r_pg_3_scopes_are_independent() {
    let node = node();
    let one: Scope<&'static str> = Scope::start(&node).unwrap();
    let two: Scope<&'static str> = Scope::start(&node).unwrap();
    let a = Agent::spawn(&node);
    one.join("g", a.pid()).unwrap();
    assert_eq!(one.members(&"g"), vec![a.pid()]);
    assert!(two.members(&"g").is_empty());
    assert_eq!(two.leave(&"g", a.pid()), Err(LeaveError::NotJoined));
}
