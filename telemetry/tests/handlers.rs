//! Handlers: attach, detach, order, failure isolation (issue 5, item 1).

use std::sync::{Arc, Mutex};

use beamish_telemetry::events::telemetry::HANDLER_FAILURE;
use beamish_telemetry::{AttachError, EventName, Telemetry, Value};

const A: EventName = EventName::new(&["test", "a"]);
const B: EventName = EventName::new(&["test", "b"]);
const UNHEARD: EventName = EventName::new(&["test", "unheard"]);

type BoxedHandler = Box<dyn Fn(&beamish_telemetry::Event<'_>) + Send + Sync>;

fn recorder() -> (Arc<Mutex<Vec<String>>>, impl Fn(&str) -> BoxedHandler) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let make = move |tag: &str| {
        let sink = sink.clone();
        let tag = tag.to_owned();
        Box::new(move |e: &beamish_telemetry::Event<'_>| {
            sink.lock().unwrap().push(format!("{tag}:{}", e.name));
        }) as BoxedHandler
    };
    (seen, make)
}

#[test]
fn handlers_see_only_their_events_in_attach_order() {
    let t = Telemetry::new();
    let (seen, make) = recorder();
    t.attach("one", &[A], make("one")).unwrap();
    t.attach("two", &[A, B], make("two")).unwrap();
    t.emit(&A, &[], &[]);
    t.emit(&B, &[], &[]);
    t.emit(&UNHEARD, &[], &[]);
    assert_eq!(
        *seen.lock().unwrap(),
        vec!["one:test.a", "two:test.a", "two:test.b"]
    );
}

#[test]
fn measurements_and_metadata_reach_the_handler() {
    let t = Telemetry::new();
    let got = Arc::new(Mutex::new(None));
    let sink = got.clone();
    t.attach("m", &[A], move |e| {
        let pid = e.meta("pid").and_then(|v| v.as_pid()).unwrap();
        *sink.lock().unwrap() = Some((
            e.measurement("len").unwrap().as_f64(),
            pid.to_string(),
            e.meta("why").unwrap().to_string(),
        ));
    })
    .unwrap();
    let pid = beamish_telemetry::ProcessId {
        node: 0,
        serial: (7 << 32) | 65,
        creation: 0,
    };
    let reason = Some("boom");
    t.emit(
        &A,
        &[("len", 12u64.into())],
        &[("pid", pid.into()), ("why", Value::Debug(&reason))],
    );
    assert_eq!(
        got.lock().unwrap().clone().unwrap(),
        (12.0, "<0.65.7>".to_owned(), "Some(\"boom\")".to_owned())
    );
}

#[test]
fn ids_are_unique_and_detach_stops_delivery() {
    let t = Telemetry::new();
    let (seen, make) = recorder();
    t.attach("h", &[A], make("h")).unwrap();
    assert_eq!(
        t.attach("h", &[B], make("again")),
        Err(AttachError::AlreadyExists("h".into()))
    );
    assert_eq!(
        t.attach("none", &[], make("none")),
        Err(AttachError::NoEvents)
    );
    assert!(t.enabled(&A));
    assert!(t.detach("h"));
    assert!(!t.detach("h"), "detaching twice finds nothing");
    assert!(!t.enabled(&A), "no handler left: the fast path says so");
    t.emit(&A, &[], &[]);
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn list_handlers_by_prefix() {
    let t = Telemetry::new();
    let (_seen, make) = recorder();
    t.attach("a", &[A], make("a")).unwrap();
    t.attach("b", &[B], make("b")).unwrap();
    let ids = |p: &[&str]| -> Vec<String> {
        t.handlers_for(p).iter().map(|h| h.id.to_string()).collect()
    };
    assert_eq!(ids(&["test"]), vec!["a", "b"]);
    assert_eq!(ids(&["test", "b"]), vec!["b"]);
    assert!(ids(&["other"]).is_empty());
}

/// A panicking handler is detached and reported; the emitter and the other handlers go on.
#[test]
fn a_failing_handler_is_detached_and_reported_never_crashing_the_emitter() {
    let t = Telemetry::new();
    let (seen, make) = recorder();
    t.attach("bad", &[A], |_| panic!("handler bug")).unwrap();
    t.attach("good", &[A], make("good")).unwrap();
    let failures = Arc::new(Mutex::new(Vec::new()));
    let sink = failures.clone();
    t.attach("failures", &[HANDLER_FAILURE], move |e| {
        sink.lock().unwrap().push((
            e.meta("handler_id").unwrap().to_string(),
            e.meta("event_name").unwrap().to_string(),
            e.meta("reason").unwrap().to_string(),
        ));
    })
    .unwrap();

    t.emit(&A, &[], &[]); // must not panic here
    t.emit(&A, &[], &[]);

    assert_eq!(*seen.lock().unwrap(), vec!["good:test.a", "good:test.a"]);
    assert_eq!(
        *failures.lock().unwrap(),
        vec![("bad".into(), "test.a".into(), "handler bug".into())],
        "reported once, then gone"
    );
    let ids: Vec<_> = t.handlers().iter().map(|h| h.id.to_string()).collect();
    assert_eq!(ids, vec!["good", "failures"]);
}

/// A handler may detach itself (or attach others) while running: the table is not locked
/// while handlers run.
#[test]
fn a_handler_may_detach_itself() {
    let t = Telemetry::new();
    let t2 = t.clone();
    let count = Arc::new(Mutex::new(0));
    let c = count.clone();
    t.attach("once", &[A], move |_| {
        *c.lock().unwrap() += 1;
        t2.detach("once");
    })
    .unwrap();
    t.emit(&A, &[], &[]);
    t.emit(&A, &[], &[]);
    assert_eq!(*count.lock().unwrap(), 1);
}

#[test]
fn emit_with_builds_nothing_when_nobody_listens() {
    let t = Telemetry::new();
    let mut built = false;
    t.emit_with(&A, |emit| {
        built = true;
        emit(&beamish_telemetry::Event {
            name: &A,
            measurements: &[],
            metadata: &[],
        });
    });
    assert!(!built);
    let (seen, make) = recorder();
    t.attach("a", &[A], make("a")).unwrap();
    t.emit_with(&A, |emit| {
        emit(&beamish_telemetry::Event {
            name: &A,
            measurements: &[],
            metadata: &[],
        })
    });
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[test]
fn separate_tables_share_nothing() {
    let one = Telemetry::new();
    let two = Telemetry::new();
    let (seen, make) = recorder();
    one.attach("a", &[A], make("a")).unwrap();
    two.emit(&A, &[], &[]);
    assert!(seen.lock().unwrap().is_empty());
    assert!(Telemetry::same(&one, &one.clone()));
    assert!(!Telemetry::same(&one, &two));
}
