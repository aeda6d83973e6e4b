//! Forwarding events to `tracing`.

use tracing::Level;

use crate::event::{Event, EventName};
use crate::handlers::{AttachError, Telemetry};

/// Attaches a handler under `id` that turns each of `events` into a `tracing` event at
/// `level`, with target `beamish_telemetry` and the fields `event` (the dotted name),
/// `measurements` and `metadata` (`key=value` lists). A `tracing-subscriber` user sees them
/// with no more setup.
///
/// ```
/// use beamish_telemetry::{EventName, Telemetry, forward_to_tracing};
///
/// const DONE: EventName = EventName::new(&["my_app", "job", "done"]);
/// let telemetry = Telemetry::new();
/// forward_to_tracing(&telemetry, "to-tracing", &[DONE], tracing::Level::INFO).unwrap();
/// telemetry.emit(&DONE, &[("items", 3u64.into())], &[("queue", "default".into())]);
/// ```
pub fn forward_to_tracing(
    telemetry: &Telemetry,
    id: &str,
    events: &[EventName],
    level: Level,
) -> Result<(), AttachError> {
    telemetry.attach(id, events, move |event| emit_tracing(event, level))
}

fn emit_tracing(event: &Event<'_>, level: Level) {
    let measurements = KeyValues(event.measurements.iter().map(|(k, v)| (*k, v.to_string())));
    let metadata = KeyValues(event.metadata.iter().map(|(k, v)| (*k, v.to_string())));
    macro_rules! at {
        ($level:expr) => {
            tracing::event!(
                target: "beamish_telemetry",
                $level,
                event = %event.name,
                measurements = %measurements,
                metadata = %metadata,
            )
        };
    }
    match level {
        Level::ERROR => at!(Level::ERROR),
        Level::WARN => at!(Level::WARN),
        Level::INFO => at!(Level::INFO),
        Level::DEBUG => at!(Level::DEBUG),
        Level::TRACE => at!(Level::TRACE),
    }
}

/// `k=v k=v`, formatted lazily (only if a subscriber records the event).
struct KeyValues<I>(I);

impl<I> std::fmt::Display for KeyValues<I>
where
    I: Iterator<Item = (&'static str, String)> + Clone,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (k, v)) in self.0.clone().enumerate() {
            write!(f, "{}{k}={v}", if i > 0 { " " } else { "" })?;
        }
        Ok(())
    }
}
