//! `/snapshot` serves a `NodeSnapshot` as JSON from an `Introspect` source, with the query taken
//! from the URL; other paths and bad queries get 404 and 400 (issue 5, item 6).
#![cfg(feature = "http")]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use beamish_telemetry::http::Endpoint;
use beamish_telemetry::introspect::{
    Introspect, NodeSnapshot, NodeTotalsRow, ProcessRow, SnapshotFuture, SnapshotQuery, SortBy,
    TreeChildRow, TreeRow,
};
use beamish_telemetry::{EventRecord, ProcessId};

use support::{get, request};

/// A source that answers with a fixed snapshot and records the queries it was asked.
struct Fixed {
    snapshot: NodeSnapshot,
    asked: Mutex<Vec<SnapshotQuery>>,
}

impl Introspect for Fixed {
    fn snapshot(&self, query: SnapshotQuery) -> SnapshotFuture<'_> {
        self.asked.lock().unwrap().push(query);
        Box::pin(async move { self.snapshot.clone() })
    }
}

fn pid(serial: u64) -> ProcessId {
    ProcessId {
        node: 0,
        serial,
        creation: 1,
    }
}

fn known_snapshot() -> NodeSnapshot {
    NodeSnapshot {
        at_ms: 1_700_000_000_000,
        totals: NodeTotalsRow {
            node: "test@localhost".into(),
            processes: 2,
            spawned: 5,
            exited: 3,
            restarts: 1,
            spawn_rate: 0.5,
            exit_rate: 0.25,
        },
        processes: vec![ProcessRow {
            pid: pid(7),
            name: Some("cache".into()),
            status: "waiting".into(),
            behaviour: "gen_server".into(),
            mailbox_len: 12,
            messages_handled: 340,
            message_rate: Some(17.5),
            links: vec![pid(1)],
            monitors: vec![],
            age_ms: 9_000,
            memory_bytes: 4096,
        }],
        trees: vec![TreeRow {
            pid: pid(1),
            name: Some("root".into()),
            strategy: "one_for_one".into(),
            intensity: 3,
            period_ms: 5_000,
            children: vec![TreeChildRow {
                id: Some("cache".into()),
                pid: Some(pid(7)),
                status: "running".into(),
                kind: "worker".into(),
                restarts: 1,
                tree: None,
            }],
        }],
        events: vec![EventRecord {
            at_ms: 1_699_999_999_000,
            name: "beamish.process.spawned".into(),
            measurements: vec![("count".into(), 1.0)],
            metadata: vec![("pid".into(), "<0.7.0>".into())],
        }],
    }
}

/// Issue 5 (item 6): the JSON parses back into the very snapshot the source gave, and the
/// source was asked for what the URL said (defaults where it said nothing).
#[tokio::test]
async fn snapshot_serves_the_sources_answer_as_json() {
    let source = Arc::new(Fixed {
        snapshot: known_snapshot(),
        asked: Mutex::new(Vec::new()),
    });
    let endpoint = Endpoint::builder()
        .introspect(source.clone())
        .bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = endpoint.local_addr();

    let reply = get(addr, "/snapshot?sort=message_rate&limit=5&window_ms=250").await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let parsed: NodeSnapshot = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(parsed, known_snapshot());

    let reply = get(addr, "/snapshot").await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let reply = get(addr, "/snapshot?sort=messages_handled").await;
    assert_eq!(reply.status, 200, "{reply:?}");

    assert_eq!(
        *source.asked.lock().unwrap(),
        [
            SnapshotQuery {
                sort: SortBy::MessageRate,
                limit: 5,
                window: Duration::from_millis(250),
            },
            SnapshotQuery::default(),
            SnapshotQuery {
                sort: SortBy::MessagesHandled,
                ..SnapshotQuery::default()
            },
        ]
    );

    // A bad query is the client's fault: 400 with the reason, and the source is not asked.
    for bad in [
        "/snapshot?sort=name",
        "/snapshot?limit=lots",
        "/snapshot?window_ms=3600000",
        "/snapshot?top=3",
    ] {
        let reply = get(addr, bad).await;
        assert_eq!(reply.status, 400, "{bad}: {reply:?}");
        assert!(!reply.body.is_empty(), "{bad}: a 400 says why");
    }
    assert_eq!(source.asked.lock().unwrap().len(), 3);

    // Without a reporter there is no /metrics; unknown paths and methods are refused.
    assert_eq!(get(addr, "/metrics").await.status, 404);
    assert_eq!(get(addr, "/").await.status, 404);
    assert_eq!(get(addr, "/snapshot/extra").await.status, 404);
    let post = request(addr, "POST", "/snapshot").await;
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), Some("GET, HEAD"));
    endpoint.shutdown().await;
}

/// Issue 5 (item 6): an endpoint given no source answers 404 on both routes.
#[tokio::test]
async fn an_endpoint_without_sources_answers_404() {
    let endpoint = Endpoint::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = endpoint.local_addr();
    assert_ne!(addr.port(), 0);
    assert_eq!(get(addr, "/snapshot").await.status, 404);
    assert_eq!(get(addr, "/metrics").await.status, 404);
}
