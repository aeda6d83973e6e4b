//! Spans: a start event, then a stop or an exception event with the duration.

use std::future::Future;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use crate::event::{EventName, Metadata, Number, Value};
use crate::handlers::Telemetry;

/// The three events of a span (`prefix ++ [start]`, `[stop]`, `[exception]`), as
/// `:telemetry.span/3` emits them. Make one with [`span_name!`](crate::span_name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanName {
    /// Emitted when the span begins, with `system_time` (nanoseconds since the Unix epoch).
    pub start: EventName,
    /// Emitted when it ends normally, with `duration` (nanoseconds, monotonic).
    pub stop: EventName,
    /// Emitted when it panics or is dropped unfinished, with `duration`; metadata gains `kind`
    /// (`"panic"` or `"cancelled"`).
    pub exception: EventName,
}

/// Makes a [`SpanName`] from a prefix, at compile time.
///
/// ```
/// use beamish_telemetry::{SpanName, span_name};
///
/// const QUERY: SpanName = span_name!("my_app", "db", "query");
/// assert_eq!(QUERY.stop.to_string(), "my_app.db.query.stop");
/// ```
#[macro_export]
macro_rules! span_name {
    ($($segment:literal),+ $(,)?) => {
        $crate::SpanName {
            start: $crate::EventName::new(&[$($segment,)+ "start"]),
            stop: $crate::EventName::new(&[$($segment,)+ "stop"]),
            exception: $crate::EventName::new(&[$($segment,)+ "exception"]),
        }
    };
}

/// Emits `stop` or `exception` when dropped, whichever the way out was.
struct Guard<'t, 'm> {
    telemetry: &'t Telemetry,
    span: &'t SpanName,
    metadata: Metadata<'m>,
    started: Instant,
    finished: bool,
}

impl<'t, 'm> Guard<'t, 'm> {
    fn start(telemetry: &'t Telemetry, span: &'t SpanName, metadata: Metadata<'m>) -> Self {
        if telemetry.enabled(&span.start) {
            let system_time = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            telemetry.emit(
                &span.start,
                &[("system_time", Number::from(system_time))],
                metadata,
            );
        }
        Guard {
            telemetry,
            span,
            metadata,
            started: Instant::now(),
            finished: false,
        }
    }
}

impl Drop for Guard<'_, '_> {
    fn drop(&mut self) {
        let duration = Number::from(self.started.elapsed());
        if self.finished {
            self.telemetry
                .emit(&self.span.stop, &[("duration", duration)], self.metadata);
            return;
        }
        if !self.telemetry.enabled(&self.span.exception) {
            return;
        }
        let kind = if std::thread::panicking() {
            "panic"
        } else {
            "cancelled"
        };
        let mut metadata: Vec<(&'static str, Value<'_>)> = self.metadata.to_vec();
        metadata.push(("kind", Value::Str(kind)));
        self.telemetry
            .emit(&self.span.exception, &[("duration", duration)], &metadata);
    }
}

impl Telemetry {
    /// Runs `f` inside a span: `start` before, `stop` with the duration after, or `exception`
    /// (kind `"panic"`) if it panics, after which the panic goes on. Durations come from
    /// tokio's clock, so a test with a paused clock measures exactly what it advanced.
    ///
    /// ```
    /// use beamish_telemetry::{SpanName, Telemetry, span_name};
    ///
    /// const WORK: SpanName = span_name!("my_app", "work");
    /// let telemetry = Telemetry::new();
    /// let answer = telemetry.span(&WORK, &[("size", 3u64.into())], || 6 * 7);
    /// assert_eq!(answer, 42);
    /// ```
    pub fn span<R>(&self, span: &SpanName, metadata: Metadata<'_>, f: impl FnOnce() -> R) -> R {
        let mut guard = Guard::start(self, span, metadata);
        let result = f();
        guard.finished = true;
        result
    }

    /// [`span`](Self::span) around a future: the span starts at the first poll and stops when
    /// the future completes; a future dropped before completing emits `exception` with kind
    /// `"cancelled"`.
    pub async fn span_async<F: Future>(
        &self,
        span: &SpanName,
        metadata: Metadata<'_>,
        future: F,
    ) -> F::Output {
        let mut guard = Guard::start(self, span, metadata);
        let output = future.await;
        guard.finished = true;
        output
    }
}
