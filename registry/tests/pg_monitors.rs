//! R-PG-4: monitoring a group or a whole scope returns the current membership, then reports
//! every join and leave in order; demonitor stops the reports.

mod common;

use beamish_registry::pg::{Change, GroupEvent, Scope};
use common::{Agent, Probe, node};

type Ev = GroupEvent<&'static str>;

fn ev(
    mref: beamish_process::Ref,
    change: Change,
    group: &'static str,
    pid: beamish_process::Pid,
) -> Ev {
    GroupEvent {
        mref,
        change,
        group,
        pids: vec![pid],
    }
}

/// R-PG-4: a group monitor sees the group's joins and leaves only, after its current members.
#[tokio::test]
async fn r_pg_4_group_monitor_reports_joins_and_leaves() {
    let node = node();
    let scope: Scope<&'static str> = Scope::start(&node).unwrap();
    let (a, b) = (Agent::spawn(&node), Agent::spawn(&node));
    scope.join("g", a.pid()).unwrap();

    let mut probe = Probe::<Ev>::spawn(&node);
    let (mref, members) = scope.monitor_group("g", probe.addr());
    assert_eq!(members, vec![a.pid()]);

    scope.join("other", b.pid()).unwrap(); // not this group: not reported
    scope.join("g", b.pid()).unwrap();
    scope.leave(&"g", a.pid()).unwrap();
    assert_eq!(probe.next().await, ev(mref, Change::Join, "g", b.pid()));
    assert_eq!(probe.next().await, ev(mref, Change::Leave, "g", a.pid()));

    assert!(scope.demonitor(mref));
    assert!(!scope.demonitor(mref));
    scope.join("g", a.pid()).unwrap();
    // Nothing more: a second monitor set up now gets the next event, the first gets none.
    let mut second = Probe::<Ev>::spawn(&node);
    let (mref2, _) = scope.monitor_group("g", second.addr());
    scope.leave(&"g", a.pid()).unwrap();
    assert_eq!(second.next().await, ev(mref2, Change::Leave, "g", a.pid()));
    // The first monitor's process gets nothing: a marker sent now is the next thing it sees.
    let marker = ev(mref, Change::Join, "marker", a.pid());
    probe.addr().send(marker.clone()).unwrap();
    assert_eq!(probe.next().await, marker);
}

/// R-PG-4: a scope monitor sees every group's joins and leaves, after the current state.
#[tokio::test]
async fn r_pg_4_scope_monitor_reports_every_group() {
    let node = node();
    let scope: Scope<&'static str> = Scope::start(&node).unwrap();
    let (a, b) = (Agent::spawn(&node), Agent::spawn(&node));
    scope.join("g", a.pid()).unwrap();

    let mut probe = Probe::<Ev>::spawn(&node);
    let (mref, groups) = scope.monitor_scope(probe.addr());
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[&"g"], vec![a.pid()]);

    scope.join("h", b.pid()).unwrap();
    scope.leave(&"g", a.pid()).unwrap();
    assert_eq!(probe.next().await, ev(mref, Change::Join, "h", b.pid()));
    assert_eq!(probe.next().await, ev(mref, Change::Leave, "g", a.pid()));
    assert!(scope.demonitor(mref));
}
