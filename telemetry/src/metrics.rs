//! Metrics over events, in the style of Elixir's `Telemetry.Metrics`, reported to Prometheus.
//!
//! A [`Metric`] says how to turn one event into one number in a time series: which event, which
//! measurement, which metadata keys become labels ("tags"), which unit to convert to, and how
//! to aggregate (`counter`, `sum`, `last_value`, `summary`, `distribution`). A
//! [`PrometheusReporter`] holds a set of metrics and a registry of its own (the
//! `metrics-exporter-prometheus` recorder, never installed as a global), attaches one handler for
//! the whole set to a [`Telemetry`](crate::Telemetry), and renders the Prometheus text format.
//!
//! ```
//! use beamish_telemetry::{EventName, Telemetry};
//! use beamish_telemetry::metrics::{Metric, PrometheusReporter, Unit};
//!
//! const CALL_STOP: EventName = EventName::new(&["beamish", "call", "stop"]);
//!
//! let reporter = PrometheusReporter::builder()
//!     .metric(Metric::counter("beamish.call.count", &CALL_STOP).tags(["server"]))
//!     .metric(
//!         Metric::distribution("beamish.call.duration", &CALL_STOP, "duration")
//!             .unit(Unit::Nanosecond.to(Unit::Millisecond))
//!             .buckets([1.0, 10.0, 100.0])
//!             .tags(["server"])
//!             .description("How long calls take"),
//!     )
//!     .build()
//!     .unwrap();
//!
//! let telemetry = Telemetry::new();
//! reporter.attach(&telemetry).unwrap();
//! telemetry.emit(&CALL_STOP, &[("duration", 5_000_000u64.into())], &[("server", "cache".into())]);
//!
//! let text = reporter.render();
//! assert!(text.contains("beamish_call_count_total{server=\"cache\"} 1\n"));
//! assert!(text.contains("beamish_call_duration_milliseconds_bucket{server=\"cache\",le=\"10\"} 1\n"));
//! ```
//!
//! # What a Prometheus user sees
//!
//! Names are sanitized to Prometheus names (every character outside `[a-zA-Z0-9_:]` becomes `_`,
//! so `beamish.call.duration` is `beamish_call_duration`), and the exporter's recommended naming
//! is on: counters end in `_total`, and a metric with a unit gets the unit's plural as a suffix
//! before `_bucket`/`_sum`/`_count` (`_milliseconds`, `_seconds`, `_bytes`, ...). Each metric
//! gets a `# HELP` line with its description (a generated one if none was given).
//!
//! | metric | Prometheus type | series for `Metric::<kind>("a.b", ..)` with unit ms |
//! | --- | --- | --- |
//! | [`counter`](Metric::counter) | counter | `a_b_total` (no unit) |
//! | [`sum`](Metric::sum) | gauge | `a_b_milliseconds` |
//! | [`last_value`](Metric::last_value) | gauge | `a_b_milliseconds` |
//! | [`summary`](Metric::summary) | summary | `a_b_milliseconds{quantile="0.5"}`, `_sum`, `_count` |
//! | [`distribution`](Metric::distribution) | histogram | `a_b_milliseconds_bucket{le="10"}` (cumulative, then `le="+Inf"`), `_sum`, `_count` |
//!
//! A `sum` is a gauge, not a counter: the registry's counters hold whole numbers that only go
//! up, while a sum of measurements may be fractional (after a unit conversion) or negative.
//! Summary quantiles are estimates (a DDSketch with about 1% relative error) over a rolling
//! window of about a minute (three 20-second buckets; a quantile with no sample in the window
//! shows 0), while a summary's `_sum` and `_count` are totals since the start, as Prometheus
//! expects. A distribution's buckets are exact and never reset.
//!
//! A tag whose metadata key is missing from an event gets the empty value, which Prometheus
//! treats as no label. An event that lacks the measurement a metric reads is not recorded by
//! that metric.

mod prometheus;

use std::fmt;
use std::sync::Arc;

use crate::event::{Event, EventName};

pub use prometheus::{MetricsError, PrometheusReporter, PrometheusReporterBuilder};

/// How a metric aggregates the values it is given.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MetricKind {
    /// Counts events.
    Counter,
    /// Adds up a measurement.
    Sum,
    /// Keeps the latest value of a measurement.
    LastValue,
    /// Quantiles of a measurement, with its sum and count.
    Summary,
    /// A histogram of a measurement over the given bucket upper bounds (ascending).
    Distribution {
        /// Upper bounds of the buckets, ascending; `+Inf` is implied.
        buckets: Vec<f64>,
    },
}

impl MetricKind {
    fn label(&self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Sum => "sum",
            MetricKind::LastValue => "last value",
            MetricKind::Summary => "summary",
            MetricKind::Distribution { .. } => "distribution",
        }
    }
}

/// A unit of measurement, for converting values before they are recorded.
///
/// Time units convert among themselves, byte units among themselves (binary multiples, as the
/// Prometheus registry's units are: a kibibyte is 1024 bytes). beamish measures durations in
/// nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unit {
    /// 10^-9 s; the unit of every beamish duration measurement.
    Nanosecond,
    /// 10^-6 s.
    Microsecond,
    /// 10^-3 s.
    Millisecond,
    /// A second.
    Second,
    /// A byte.
    Byte,
    /// 1024 bytes.
    Kibibyte,
    /// 1024^2 bytes.
    Mebibyte,
    /// 1024^3 bytes.
    Gibibyte,
}

#[derive(PartialEq, Eq)]
enum Dimension {
    Time,
    Bytes,
}

impl Unit {
    /// A conversion from this unit to `to`.
    ///
    /// # Panics
    ///
    /// If the units measure different things (time and bytes), as Elixir's `Telemetry.Metrics`
    /// raises: a metric definition is code, and this is a bug in it.
    pub fn to(self, to: Unit) -> UnitConversion {
        assert!(
            self.dimension() == to.dimension(),
            "cannot convert {self:?} to {to:?}: they measure different things"
        );
        UnitConversion { from: self, to }
    }

    fn dimension(self) -> Dimension {
        match self {
            Unit::Nanosecond | Unit::Microsecond | Unit::Millisecond | Unit::Second => {
                Dimension::Time
            }
            Unit::Byte | Unit::Kibibyte | Unit::Mebibyte | Unit::Gibibyte => Dimension::Bytes,
        }
    }

    /// How many of the base unit (nanosecond, byte) one of this unit is.
    fn scale(self) -> f64 {
        match self {
            Unit::Nanosecond | Unit::Byte => 1.0,
            Unit::Microsecond => 1e3,
            Unit::Millisecond => 1e6,
            Unit::Second => 1e9,
            Unit::Kibibyte => 1024.0,
            Unit::Mebibyte => 1024.0 * 1024.0,
            Unit::Gibibyte => 1024.0 * 1024.0 * 1024.0,
        }
    }

    /// The registry's name for this unit (which decides the Prometheus name suffix).
    pub(crate) fn registry_unit(self) -> ::metrics::Unit {
        match self {
            Unit::Nanosecond => ::metrics::Unit::Nanoseconds,
            Unit::Microsecond => ::metrics::Unit::Microseconds,
            Unit::Millisecond => ::metrics::Unit::Milliseconds,
            Unit::Second => ::metrics::Unit::Seconds,
            Unit::Byte => ::metrics::Unit::Bytes,
            Unit::Kibibyte => ::metrics::Unit::Kibibytes,
            Unit::Mebibyte => ::metrics::Unit::Mebibytes,
            Unit::Gibibyte => ::metrics::Unit::Gibibytes,
        }
    }
}

/// A unit conversion: measurements arrive in `from` and are recorded in `to`. Made by
/// [`Unit::to`]; a plain [`Unit`] converts into the identity conversion (it only names the unit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitConversion {
    from: Unit,
    to: Unit,
}

impl UnitConversion {
    /// The unit measurements arrive in.
    pub fn source(&self) -> Unit {
        self.from
    }

    /// The unit values are recorded (and shown) in.
    pub fn target(&self) -> Unit {
        self.to
    }

    /// `value` (in `from`) expressed in `to`.
    pub fn convert(&self, value: f64) -> f64 {
        if self.from == self.to {
            value
        } else {
            value * self.from.scale() / self.to.scale()
        }
    }
}

impl From<Unit> for UnitConversion {
    fn from(unit: Unit) -> Self {
        UnitConversion {
            from: unit,
            to: unit,
        }
    }
}

type TagValuesFn = dyn Fn(&Event<'_>) -> Vec<(&'static str, String)> + Send + Sync;
type KeepFn = dyn Fn(&Event<'_>) -> bool + Send + Sync;

/// One metric: an event, a measurement, tags, a unit, and how to aggregate.
///
/// Made by one of the constructors named after the aggregations ([`Metric::counter`],
/// [`Metric::sum`], [`Metric::last_value`], [`Metric::summary`], [`Metric::distribution`]) and
/// refined by the builder methods; then given to a [`PrometheusReporter`].
#[derive(Clone)]
pub struct Metric {
    pub(crate) name: String,
    pub(crate) event: EventName,
    pub(crate) measurement: Option<&'static str>,
    pub(crate) kind: MetricKind,
    pub(crate) tags: Vec<&'static str>,
    pub(crate) tag_values: Option<Arc<TagValuesFn>>,
    pub(crate) keep: Option<Arc<KeepFn>>,
    pub(crate) unit: Option<UnitConversion>,
    pub(crate) description: Option<String>,
}

impl fmt::Debug for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metric")
            .field("name", &self.name)
            .field("event", &self.event)
            .field("measurement", &self.measurement)
            .field("kind", &self.kind)
            .field("tags", &self.tags)
            .field("tag_values", &self.tag_values.is_some())
            .field("keep", &self.keep.is_some())
            .field("unit", &self.unit)
            .field("description", &self.description)
            .finish()
    }
}

impl Metric {
    fn new(
        name: impl Into<String>,
        event: &EventName,
        measurement: Option<&'static str>,
        kind: MetricKind,
    ) -> Metric {
        Metric {
            name: name.into(),
            event: *event,
            measurement,
            kind,
            tags: Vec::new(),
            tag_values: None,
            keep: None,
            unit: None,
            description: None,
        }
    }

    /// Counts the occurrences of `event`.
    pub fn counter(name: impl Into<String>, event: &EventName) -> Metric {
        Metric::new(name, event, None, MetricKind::Counter)
    }

    /// Adds up the `measurement` of `event`.
    pub fn sum(name: impl Into<String>, event: &EventName, measurement: &'static str) -> Metric {
        Metric::new(name, event, Some(measurement), MetricKind::Sum)
    }

    /// Keeps the latest `measurement` of `event`.
    pub fn last_value(
        name: impl Into<String>,
        event: &EventName,
        measurement: &'static str,
    ) -> Metric {
        Metric::new(name, event, Some(measurement), MetricKind::LastValue)
    }

    /// Quantiles (and sum and count) of the `measurement` of `event`; the quantiles are the
    /// reporter's ([`PrometheusReporterBuilder::quantiles`]).
    pub fn summary(
        name: impl Into<String>,
        event: &EventName,
        measurement: &'static str,
    ) -> Metric {
        Metric::new(name, event, Some(measurement), MetricKind::Summary)
    }

    /// A histogram of the `measurement` of `event`. Give its buckets with [`Metric::buckets`];
    /// a distribution without buckets is refused when the reporter is built.
    pub fn distribution(
        name: impl Into<String>,
        event: &EventName,
        measurement: &'static str,
    ) -> Metric {
        Metric::new(
            name,
            event,
            Some(measurement),
            MetricKind::Distribution {
                buckets: Vec::new(),
            },
        )
    }

    /// The upper bounds of a distribution's buckets, ascending, in the unit values are recorded
    /// in (after conversion). Ignored by the other kinds.
    pub fn buckets(mut self, bounds: impl IntoIterator<Item = f64>) -> Metric {
        if let MetricKind::Distribution { buckets } = &mut self.kind {
            *buckets = bounds.into_iter().collect();
        }
        self
    }

    /// Metadata keys whose values become labels.
    pub fn tags(mut self, keys: impl IntoIterator<Item = &'static str>) -> Metric {
        self.tags = keys.into_iter().collect();
        self
    }

    /// Computes tag values from the event, for tags whose label should not be the metadata
    /// value as displayed (a pid reduced to its node, a path to its route). A tag `f` returns
    /// wins over the metadata value of the same key; tags not listed in [`Metric::tags`] are
    /// ignored.
    pub fn tag_values(
        mut self,
        f: impl Fn(&Event<'_>) -> Vec<(&'static str, String)> + Send + Sync + 'static,
    ) -> Metric {
        self.tag_values = Some(Arc::new(f));
        self
    }

    /// Records only the events for which `f` is true (`Telemetry.Metrics`'s `keep`).
    pub fn keep(mut self, f: impl Fn(&Event<'_>) -> bool + Send + Sync + 'static) -> Metric {
        self.keep = Some(Arc::new(f));
        self
    }

    /// The unit values are recorded in, or a conversion into it ([`Unit::to`]). It also names
    /// the Prometheus series (`_milliseconds`, ...). Ignored by counters.
    pub fn unit(mut self, unit: impl Into<UnitConversion>) -> Metric {
        self.unit = Some(unit.into());
        self
    }

    /// The text of the Prometheus `# HELP` line.
    pub fn description(mut self, text: impl Into<String>) -> Metric {
        self.description = Some(text.into());
        self
    }

    /// The metric's name as given (dotted).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The event it listens to.
    pub fn event(&self) -> &EventName {
        &self.event
    }

    /// The measurement it reads (none for a counter).
    pub fn measurement(&self) -> Option<&'static str> {
        self.measurement
    }

    /// How it aggregates.
    pub fn kind(&self) -> &MetricKind {
        &self.kind
    }

    /// The description, or one made from the definition.
    pub(crate) fn help(&self) -> String {
        match (&self.description, self.measurement) {
            (Some(text), _) => text.clone(),
            (None, Some(m)) => format!("{} of {} {m}", self.kind.label(), self.event),
            (None, None) => format!("{} of {}", self.kind.label(), self.event),
        }
    }

    /// The value to record for `event`, converted; `None` if the metric skips the event.
    /// Counters record 1.
    pub(crate) fn value(&self, event: &Event<'_>) -> Option<f64> {
        if let Some(keep) = &self.keep {
            if !keep(event) {
                return None;
            }
        }
        let Some(key) = self.measurement else {
            return Some(1.0);
        };
        let value = event.measurement(key)?.as_f64();
        Some(self.unit.map_or(value, |u| u.convert(value)))
    }

    /// The label values for `event`, one per tag, in tag order.
    pub(crate) fn labels(&self, event: &Event<'_>) -> Vec<(&'static str, String)> {
        let computed = self
            .tag_values
            .as_ref()
            .map(|f| f(event))
            .unwrap_or_default();
        self.tags
            .iter()
            .map(|tag| {
                let value = computed
                    .iter()
                    .find(|(k, _)| k == tag)
                    .map(|(_, v)| v.clone())
                    .or_else(|| event.meta(tag).map(|v| v.to_string()))
                    .unwrap_or_default();
                (*tag, value)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const E: EventName = EventName::new(&["t", "e"]);

    #[test]
    fn conversions_scale_between_units_of_one_dimension() {
        let ms = Unit::Nanosecond.to(Unit::Millisecond);
        assert_eq!(ms.convert(2_500_000.0), 2.5);
        assert_eq!(Unit::Second.to(Unit::Microsecond).convert(1.5), 1_500_000.0);
        assert_eq!(Unit::Byte.to(Unit::Kibibyte).convert(2048.0), 2.0);
        assert_eq!(UnitConversion::from(Unit::Second).convert(3.0), 3.0);
    }

    #[test]
    fn time_and_bytes_do_not_convert() {
        let err = std::panic::catch_unwind(|| Unit::Second.to(Unit::Byte)).unwrap_err();
        let text = err.downcast_ref::<String>().unwrap();
        assert!(text.contains("cannot convert Second to Byte"), "{text}");
    }

    #[test]
    fn values_and_labels_come_from_the_event() {
        let m = Metric::sum("s", &E, "bytes")
            .unit(Unit::Byte.to(Unit::Kibibyte))
            .tags(["queue", "missing", "node"])
            .tag_values(|e| vec![("node", format!("n{}", e.meta("queue").is_some()))])
            .keep(|e| e.meta("skip").is_none());
        let event = Event {
            name: &E,
            measurements: &[("bytes", 512u64.into())],
            metadata: &[("queue", "default".into())],
        };
        assert_eq!(m.value(&event), Some(0.5));
        assert_eq!(
            m.labels(&event),
            [
                ("queue", "default".to_owned()),
                ("missing", String::new()),
                ("node", "ntrue".to_owned())
            ]
        );
        let skipped = Event {
            metadata: &[("skip", true.into())],
            ..event
        };
        assert_eq!(m.value(&skipped), None);
        let no_measurement = Event {
            measurements: &[],
            ..event
        };
        assert_eq!(m.value(&no_measurement), None);
        assert_eq!(Metric::counter("c", &E).value(&no_measurement), Some(1.0));
        assert_eq!(m.help(), "sum of t.e bytes");
    }
}
