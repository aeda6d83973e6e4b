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

/// R-PG-4: `demonitor_flush`, called by the monitoring process, also takes back the monitor's
/// events already in its mailbox, and leaves its other messages in order.
#[tokio::test]
async fn r_pg_4_demonitor_flushes_pending_events() {
    use beamish_process::{Ctx, Message};
    let node = node();
    let scope: Scope<&'static str> = Scope::start(&node).unwrap();
    let member = Agent::spawn(&node);
    let (go_tx, go_rx) = tokio::sync::oneshot::channel::<beamish_process::Ref>();
    let (out_tx, out_rx) = tokio::sync::oneshot::channel();
    let watcher = {
        let scope = scope.clone();
        node.spawn(move |mut ctx: Ctx<Ev>| async move {
            let mref = go_rx.await.unwrap();
            let existed = scope.demonitor_flush(&mut ctx, mref, |e: &Ev| Some(e.mref));
            let mut left = Vec::new();
            while let Some(Message::Msg(e)) = ctx.try_recv() {
                left.push(e);
            }
            let _ = out_tx.send((existed, left));
        })
        .unwrap()
    };
    let (mref, _) = scope.monitor_group("g", watcher.clone());
    scope.join("g", member.pid()).unwrap();
    scope.leave(&"g", member.pid()).unwrap();
    // Another message for the watcher that is not one of this monitor's events.
    let other = ev(node.make_ref(), Change::Join, "unrelated", member.pid());
    watcher.send(other.clone()).unwrap();
    go_tx.send(mref).unwrap();
    let (existed, left) = out_rx.await.unwrap();
    assert!(existed);
    assert_eq!(left, vec![other]);
}
