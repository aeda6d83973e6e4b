//! Spans: start/stop/exception with monotonic durations under tokio's paused clock
//! (issue 5, item 1).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use beamish_telemetry::{SpanName, Telemetry, span_name};

const WORK: SpanName = span_name!("test", "work");

type Log = Arc<Mutex<Vec<(String, Option<f64>, Option<String>)>>>;

fn watch(t: &Telemetry) -> Log {
    let log: Log = Arc::default();
    let sink = log.clone();
    t.attach("span", &[WORK.start, WORK.stop, WORK.exception], move |e| {
        sink.lock().unwrap().push((
            e.name.segments().last().unwrap().to_string(),
            e.measurement("duration").map(|d| d.as_f64()),
            e.meta("kind").map(|k| k.to_string()),
        ));
    })
    .unwrap();
    log
}

#[tokio::test(start_paused = true)]
async fn async_span_measures_the_paused_clock_exactly() {
    let t = Telemetry::new();
    let log = watch(&t);
    let out = t
        .span_async(&WORK, &[("job", 1u64.into())], async {
            tokio::time::sleep(Duration::from_millis(250)).await;
            7
        })
        .await;
    assert_eq!(out, 7);
    let log = log.lock().unwrap();
    assert_eq!(log[0].0, "start");
    assert_eq!(log[1], ("stop".into(), Some(250_000_000.0), None));
}

/// With the clock paused, a synchronous span measures exactly the time the clock moved: none.
#[tokio::test(start_paused = true)]
async fn sync_span_stop_carries_the_paused_clock_duration() {
    let t = Telemetry::new();
    let log = watch(&t);
    let sum = t.span(&WORK, &[], || (1..=10u64).sum::<u64>());
    assert_eq!(sum, 55);
    let log = log.lock().unwrap();
    assert_eq!(
        log.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(),
        vec!["start", "stop"]
    );
    assert_eq!(log[1].1, Some(0.0));
}

#[test]
fn a_panicking_span_emits_exception_and_the_panic_goes_on() {
    let t = Telemetry::new();
    let log = watch(&t);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        t.span(&WORK, &[], || panic!("inside the span"))
    }));
    assert!(result.is_err(), "the panic is not swallowed");
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[1].0, "exception");
    assert_eq!(log[1].2.as_deref(), Some("panic"));
}

#[tokio::test(start_paused = true)]
async fn a_span_dropped_unfinished_is_an_exception_of_kind_cancelled() {
    let t = Telemetry::new();
    let log = watch(&t);
    let outcome = tokio::time::timeout(
        Duration::from_secs(1),
        t.span_async(&WORK, &[], std::future::pending::<()>()),
    )
    .await;
    assert!(outcome.is_err());
    let log = log.lock().unwrap();
    assert_eq!(
        log[1],
        (
            "exception".into(),
            Some(1_000_000_000.0),
            Some("cancelled".into())
        )
    );
}
