//! R-PR-2, R-PR-3: track (refused for a tracked (pid, topic, key)), list as key -> metas,
//! update as a leave plus a join carrying the previous ref, diffs to the topic's
//! subscribers, and a tracked process that ends leaves.

mod common;

use std::collections::BTreeMap;

use beamish_process::{Exit, Node};
use beamish_pubsub::crdt::ReplicaId;
use beamish_pubsub::{Diff, Meta, Presence, TrackError, UpdateError};
use common::{Client, node, within};

type D = Diff<&'static str>;

fn metas(d: &BTreeMap<String, Vec<Meta<&'static str>>>, key: &str) -> Vec<&'static str> {
    d.get(key)
        .map_or_else(Vec::new, |m| m.iter().map(|m| m.meta).collect())
}

/// A tracker, and a client subscribed to the diffs of its topic `"room"`.
async fn tracker_with_a_room_subscriber(node: &Node) -> (Presence<&'static str>, Client<D>) {
    let presence: Presence<&'static str> = Presence::start(node, ReplicaId(1)).unwrap();
    let watcher = Client::<D>::spawn(node);
    let p = presence.clone();
    watcher.run(move |ctx| p.subscribe(ctx, "room")).await;
    (presence, watcher)
}

/// R-PR-2, R-PR-3: track, refuse a duplicate, list, diffs for joins and leaves.
#[tokio::test]
async fn r_pr_2_track_list_untrack_with_diffs() {
    let node = node();
    let (presence, mut watcher) = tracker_with_a_room_subscriber(&node).await;
    let (a, b) = (Client::<()>::spawn(&node), Client::<()>::spawn(&node));

    let ra = presence.track(a.pid(), "room", "alice", "web").unwrap();
    assert_eq!(
        presence.track(a.pid(), "room", "alice", "again"),
        Err(TrackError::AlreadyTracked {
            pid: a.pid(),
            topic: "room".into(),
            key: "alice".into()
        })
    );
    // The same key from another process, and another key from the same process, are fine.
    presence.track(b.pid(), "room", "alice", "phone").unwrap();
    presence.track(a.pid(), "room", "bob", "web").unwrap();
    presence
        .track(a.pid(), "elsewhere", "alice", "web")
        .unwrap();

    let list = presence.list("room");
    assert_eq!(list.len(), 2);
    let mut alice = metas(&list, "alice");
    alice.sort_unstable();
    assert_eq!(alice, vec!["phone", "web"]);
    assert_eq!(metas(&list, "bob"), vec!["web"]);
    assert!(presence.list("nowhere").is_empty());

    let d = watcher.next().await;
    assert_eq!(metas(&d.joins, "alice"), vec!["web"]);
    assert_eq!(d.joins["alice"][0].phx_ref, ra);
    assert!(d.leaves.is_empty());
    assert_eq!(metas(&watcher.next().await.joins, "alice"), vec!["phone"]);
    assert_eq!(metas(&watcher.next().await.joins, "bob"), vec!["web"]);

    assert!(presence.untrack(a.pid(), "room", "bob"));
    assert!(!presence.untrack(a.pid(), "room", "bob"));
    let d = watcher.next().await;
    assert_eq!(metas(&d.leaves, "bob"), vec!["web"]);
    assert!(d.joins.is_empty());
    assert!(!presence.list("room").contains_key("bob"));
}

/// R-PR-2: update is a leave of the old meta and a join of the new, with a new ref that
/// points to the old one, in one diff.
#[tokio::test]
async fn r_pr_2_update_is_a_leave_plus_a_join() {
    let node = node();
    let (presence, mut watcher) = tracker_with_a_room_subscriber(&node).await;
    let a = Client::<()>::spawn(&node);

    let old = presence.track(a.pid(), "room", "alice", "online").unwrap();
    let _join = watcher.next().await;
    let new = presence.update(a.pid(), "room", "alice", "away").unwrap();
    assert_ne!(old, new);
    let d = watcher.next().await;
    assert_eq!(d.topic, "room");
    assert_eq!(
        d.leaves["alice"],
        vec![Meta {
            pid: a.pid(),
            meta: "online",
            phx_ref: old,
            phx_ref_prev: None
        }]
    );
    assert_eq!(
        d.joins["alice"],
        vec![Meta {
            pid: a.pid(),
            meta: "away",
            phx_ref: new,
            phx_ref_prev: Some(old)
        }]
    );
    assert_eq!(metas(&presence.list("room"), "alice"), vec!["away"]);
    assert_eq!(
        presence.update(a.pid(), "room", "nobody", "x"),
        Err(UpdateError::NotTracked)
    );
}

/// R-PR-2: a tracked process that ends leaves every topic, and subscribers get the leave.
#[tokio::test]
async fn r_pr_2_tracked_process_that_ends_leaves() {
    let node = node();
    let (presence, mut watcher) = tracker_with_a_room_subscriber(&node).await;
    let (a, b) = (Client::<()>::spawn(&node), Client::<()>::spawn(&node));
    presence.track(a.pid(), "room", "alice", "web").unwrap();
    presence.track(a.pid(), "lobby", "alice", "web").unwrap();
    presence.track(b.pid(), "room", "bob", "web").unwrap();
    let _ = (watcher.next().await, watcher.next().await);

    a.kill(&node, Exit::error("crash")).await;
    presence.sync().await;
    assert!(presence.list("lobby").is_empty());
    assert_eq!(
        presence.list("room").keys().collect::<Vec<_>>(),
        vec!["bob"]
    );
    let d = watcher.next().await;
    assert_eq!(metas(&d.leaves, "alice"), vec!["web"]);
    assert!(d.joins.is_empty());
}

/// R-PR-2: the tracker watches a process while it has presences and stops when it has none:
/// one that untracked everything and tracked again still leaves when it ends, and one that
/// untracked everything before ending causes no second leave.
#[tokio::test]
async fn r_pr_2_retracked_process_leaves_once_when_it_ends() {
    let node = node();
    let (presence, mut watcher) = tracker_with_a_room_subscriber(&node).await;
    let (a, b) = (Client::<()>::spawn(&node), Client::<()>::spawn(&node));

    presence.track(a.pid(), "room", "alice", "web").unwrap();
    assert!(presence.untrack(a.pid(), "room", "alice"));
    presence.track(a.pid(), "room", "alice", "phone").unwrap();
    presence.track(b.pid(), "room", "bob", "web").unwrap();
    assert!(presence.untrack(b.pid(), "room", "bob"));
    for _ in 0..5 {
        watcher.next().await;
    }

    b.kill(&node, Exit::error("crash")).await;
    a.kill(&node, Exit::error("crash")).await;
    within("the tracker to see the ends", presence.sync()).await;
    assert!(presence.list("room").is_empty());
    let d = watcher.next().await;
    assert_eq!(metas(&d.leaves, "alice"), vec!["phone"]);
    assert!(d.joins.is_empty() && !d.leaves.contains_key("bob"));
    watcher
        .assert_nothing_more(Diff {
            topic: "marker".into(),
            joins: BTreeMap::new(),
            leaves: BTreeMap::new(),
        })
        .await;
}

/// R-PR-1: two trackers (replicas) exchange states and converge; the merge announces the
/// remote joins to local subscribers.
#[tokio::test]
async fn r_pr_1_trackers_merge_and_announce_remote_joins() {
    let node = node();
    let one: Presence<&'static str> = Presence::start(&node, ReplicaId(1)).unwrap();
    let two: Presence<&'static str> = Presence::start(&node, ReplicaId(2)).unwrap();
    let mut watcher = Client::<D>::spawn(&node);
    let p = two.clone();
    watcher.run(move |ctx| p.subscribe(ctx, "room")).await;
    let (a, b) = (Client::<()>::spawn(&node), Client::<()>::spawn(&node));
    one.track(a.pid(), "room", "alice", "one").unwrap();
    two.track(b.pid(), "room", "bob", "two").unwrap();
    let _bob = watcher.next().await;

    let changes = two.merge(&one.state());
    assert_eq!(changes.joins.len(), 1);
    one.merge(&two.state());
    assert_eq!(one.state(), two.state());
    assert_eq!(one.list("room"), two.list("room"));
    assert_eq!(metas(&watcher.next().await.joins, "alice"), vec!["one"]);
}

/// R-PR-1: shipping a tracker's deltas (tracks, an update, an exit) to another replica gives
/// the same state as shipping its whole state.
#[tokio::test]
async fn r_pr_1_shipped_deltas_equal_the_full_state() {
    let node = node();
    let one: Presence<&'static str> = Presence::start(&node, ReplicaId(1)).unwrap();
    let by_delta: Presence<&'static str> = Presence::start(&node, ReplicaId(2)).unwrap();
    let by_state: Presence<&'static str> = Presence::start(&node, ReplicaId(3)).unwrap();
    let (a, b) = (Client::<()>::spawn(&node), Client::<()>::spawn(&node));

    one.track(a.pid(), "room", "alice", "web").unwrap();
    one.track(b.pid(), "room", "bob", "web").unwrap();
    by_delta.merge(&one.take_delta());
    one.update(a.pid(), "room", "alice", "away").unwrap();
    b.kill(&node, Exit::Shutdown).await;
    one.sync().await;
    by_delta.merge(&one.take_delta());
    assert!(one.take_delta().is_empty());

    by_state.merge(&one.state());
    assert_eq!(by_delta.state(), by_state.state());
    assert_eq!(by_delta.state(), one.state());
    assert_eq!(metas(&by_delta.list("room"), "alice"), vec!["away"]);
    assert!(!by_delta.list("room").contains_key("bob"));
}
