//! A bounded log of recent events, for observers.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::event::{Event, EventName};
use crate::handlers::{AttachError, Telemetry};

/// One event as the log keeps it: owned, with text for metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    /// When it was logged, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// The dotted event name.
    pub name: String,
    /// Its measurements.
    pub measurements: Vec<(String, f64)>,
    /// Its metadata, each value as text.
    pub metadata: Vec<(String, String)>,
}

impl EventRecord {
    /// The metadata value called `key`, as text.
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.metadata
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The measurement called `key`.
    pub fn measurement(&self, key: &str) -> Option<f64> {
        self.measurements
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| *v)
    }

    /// An owned copy of `event`, stamped now.
    pub fn of(event: &Event<'_>) -> EventRecord {
        let at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or_default();
        EventRecord {
            at_ms,
            name: event.name.to_string(),
            measurements: event
                .measurements
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.as_f64()))
                .collect(),
            metadata: event
                .metadata
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.to_string()))
                .collect(),
        }
    }
}

/// The last `capacity` events of the names it is attached to, oldest first: the "recent
/// events" pane of an observer. Cheap to clone (clones share the log).
///
/// ```
/// use beamish_telemetry::{EventLog, EventName, Telemetry};
///
/// const TICK: EventName = EventName::new(&["my_app", "tick"]);
/// let telemetry = Telemetry::new();
/// let log = EventLog::new(2);
/// log.attach(&telemetry, "log", &[TICK]).unwrap();
/// for n in 0..3u64 {
///     telemetry.emit(&TICK, &[("n", n.into())], &[]);
/// }
/// let kept: Vec<f64> = log.recent().iter().map(|r| r.measurements[0].1).collect();
/// assert_eq!(kept, vec![1.0, 2.0]);
/// ```
#[derive(Debug, Clone)]
pub struct EventLog {
    inner: Arc<Mutex<Ring>>,
}

#[derive(Debug)]
struct Ring {
    capacity: usize,
    records: VecDeque<EventRecord>,
    total: u64,
}

impl EventLog {
    /// A log that keeps the last `capacity` events (at least one).
    pub fn new(capacity: usize) -> EventLog {
        let capacity = capacity.max(1);
        EventLog {
            inner: Arc::new(Mutex::new(Ring {
                capacity,
                records: VecDeque::with_capacity(capacity),
                total: 0,
            })),
        }
    }

    /// Attaches the log to `events` under `id`.
    pub fn attach(
        &self,
        telemetry: &Telemetry,
        id: &str,
        events: &[EventName],
    ) -> Result<(), AttachError> {
        let log = self.clone();
        telemetry.attach(id, events, move |event| log.push(EventRecord::of(event)))
    }

    /// Adds a record, dropping the oldest if full.
    pub fn push(&self, record: EventRecord) {
        let mut ring = self.lock();
        if ring.records.len() == ring.capacity {
            ring.records.pop_front();
        }
        ring.records.push_back(record);
        ring.total += 1;
    }

    /// The kept records, oldest first.
    pub fn recent(&self) -> Vec<EventRecord> {
        self.lock().records.iter().cloned().collect()
    }

    /// How many events were ever logged (kept or since dropped).
    pub fn total(&self) -> u64 {
        self.lock().total
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Attaches a handler under `id` that sends an owned copy of each of `events` into a channel,
/// and returns the receiving end: events handed to another task, or awaited in a test.
/// Sending never blocks the emitter (the channel is unbounded); once the receiver is dropped,
/// copies are discarded until the handler is detached.
///
/// ```
/// use beamish_telemetry::{EventName, Telemetry, capture};
///
/// const DONE: EventName = EventName::new(&["my_app", "job", "done"]);
/// let telemetry = Telemetry::new();
/// let mut events = capture(&telemetry, "capture", &[DONE]).unwrap();
/// telemetry.emit(&DONE, &[("items", 3u64.into())], &[("queue", "mail".into())]);
/// let got = events.try_recv().unwrap();
/// assert_eq!(got.measurement("items"), Some(3.0));
/// assert_eq!(got.meta("queue"), Some("mail"));
/// ```
pub fn capture(
    telemetry: &Telemetry,
    id: &str,
    events: &[EventName],
) -> Result<tokio::sync::mpsc::UnboundedReceiver<EventRecord>, AttachError> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    telemetry.attach(id, events, move |event| {
        let _ = tx.send(EventRecord::of(event));
    })?;
    Ok(rx)
}
