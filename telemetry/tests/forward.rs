//! The tracing bridge and the event log (issue 5, items 3 and 6).

use std::io::Write;
use std::sync::{Arc, Mutex};

use beamish_telemetry::{EventLog, EventName, Telemetry, forward_to_tracing};

const DONE: EventName = EventName::new(&["test", "job", "done"]);
const OTHER: EventName = EventName::new(&["test", "other"]);

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A `tracing-subscriber` user sees forwarded events with no more setup than a subscriber.
#[test]
fn forwarded_events_reach_a_tracing_subscriber() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let t = Telemetry::new();
    forward_to_tracing(&t, "tracing", &[DONE], tracing::Level::WARN).unwrap();
    tracing::subscriber::with_default(subscriber, || {
        t.emit(
            &DONE,
            &[("items", 3u64.into())],
            &[("queue", "mail".into())],
        );
        t.emit(&OTHER, &[("items", 4u64.into())], &[]);
    });
    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "only the attached event: {text}");
    for part in [
        "WARN",
        "beamish_telemetry",
        "event=test.job.done",
        "measurements=items=3",
        "metadata=queue=mail",
    ] {
        assert!(lines[0].contains(part), "{part:?} missing from {text}");
    }
}

#[test]
fn the_event_log_keeps_the_newest_records() {
    let t = Telemetry::new();
    let log = EventLog::new(3);
    log.attach(&t, "log", &[DONE, OTHER]).unwrap();
    for n in 0..5u64 {
        t.emit(&DONE, &[("n", n.into())], &[("q", "x".into())]);
    }
    t.emit(&OTHER, &[], &[]);
    let recent = log.recent();
    assert_eq!(log.total(), 6);
    let names: Vec<_> = recent.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, vec!["test.job.done", "test.job.done", "test.other"]);
    assert_eq!(recent[0].measurements, vec![("n".to_owned(), 3.0)]);
    assert_eq!(recent[0].metadata, vec![("q".to_owned(), "x".to_owned())]);
}
