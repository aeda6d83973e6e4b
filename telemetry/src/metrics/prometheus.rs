//! The Prometheus reporter: a private `metrics-exporter-prometheus` registry fed by one handler.

use std::fmt;
use std::sync::Arc;

use ::metrics::{Key, Label, Level, Metadata, Recorder, SharedString};
use metrics_exporter_prometheus::formatting::sanitize_metric_name;
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

use super::{Metric, MetricKind};
use crate::event::{Event, EventName};
use crate::handlers::{AttachError, Telemetry};

/// What the registry is told about where a value comes from (it ignores it, but asks).
const METADATA: Metadata<'static> = Metadata::new(
    "beamish_telemetry",
    Level::INFO,
    Some("beamish_telemetry::metrics"),
);

/// Why a set of metrics was refused.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MetricsError {
    /// A metric's name has no character at all.
    EmptyName,
    /// Two metrics would render as the same Prometheus name (shown sanitized).
    DuplicateName(String),
    /// A distribution was given no buckets.
    NoBuckets(String),
    /// A distribution's buckets are not finite and strictly ascending.
    BadBuckets(String),
    /// A summary quantile outside `0.0..=1.0`.
    BadQuantile(f64),
}

impl fmt::Display for MetricsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetricsError::EmptyName => f.write_str("a metric name may not be empty"),
            MetricsError::DuplicateName(name) => {
                write!(f, "two metrics are both named {name:?} in Prometheus")
            }
            MetricsError::NoBuckets(name) => {
                write!(
                    f,
                    "distribution {name:?} has no buckets (use Metric::buckets)"
                )
            }
            MetricsError::BadBuckets(name) => write!(
                f,
                "the buckets of distribution {name:?} are not finite and strictly ascending"
            ),
            MetricsError::BadQuantile(q) => write!(f, "quantile {q} is not within 0..=1"),
        }
    }
}

impl std::error::Error for MetricsError {}

/// Builds a [`PrometheusReporter`]: the metrics, and the quantiles of its summaries.
#[derive(Debug, Default)]
pub struct PrometheusReporterBuilder {
    metrics: Vec<Metric>,
    quantiles: Option<Vec<f64>>,
}

impl PrometheusReporterBuilder {
    /// Adds a metric.
    pub fn metric(mut self, metric: Metric) -> Self {
        self.metrics.push(metric);
        self
    }

    /// Adds metrics.
    pub fn metrics(mut self, metrics: impl IntoIterator<Item = Metric>) -> Self {
        self.metrics.extend(metrics);
        self
    }

    /// The quantiles every summary reports (default: 0, 0.5, 0.9, 0.95, 0.99, 0.999, 1).
    pub fn quantiles(mut self, quantiles: &[f64]) -> Self {
        self.quantiles = Some(quantiles.to_vec());
        self
    }

    /// Checks the metrics and makes the reporter (not yet attached to any table).
    pub fn build(self) -> Result<PrometheusReporter, MetricsError> {
        let mut builder = PrometheusBuilder::new().with_recommended_naming(true);
        if let Some(quantiles) = &self.quantiles {
            if let Some(bad) = quantiles.iter().find(|q| !(0.0..=1.0).contains(*q)) {
                return Err(MetricsError::BadQuantile(*bad));
            }
            builder = builder
                .set_quantiles(quantiles)
                .map_err(|_| MetricsError::BadQuantile(f64::NAN))?;
        }
        let mut names: Vec<String> = Vec::new();
        for metric in &self.metrics {
            if metric.name.is_empty() {
                return Err(MetricsError::EmptyName);
            }
            let name = sanitize_metric_name(&metric.name);
            if names.contains(&name) {
                return Err(MetricsError::DuplicateName(name));
            }
            if let MetricKind::Distribution { buckets } = &metric.kind {
                if buckets.is_empty() {
                    return Err(MetricsError::NoBuckets(metric.name.clone()));
                }
                let ascending = buckets.windows(2).all(|w| w[0] < w[1]);
                if !ascending || buckets.iter().any(|b| !b.is_finite()) {
                    return Err(MetricsError::BadBuckets(metric.name.clone()));
                }
                // The exporter matches sanitized names; buckets make it a histogram, and
                // every other distribution-like metric (a summary) stays a summary.
                builder = builder
                    .set_buckets_for_metric(Matcher::Full(name.clone()), buckets)
                    .map_err(|_| MetricsError::NoBuckets(metric.name.clone()))?;
            }
            names.push(name);
        }
        let recorder = builder.build_recorder();
        for metric in &self.metrics {
            let name = ::metrics::KeyName::from(metric.name.clone());
            let unit = match metric.kind {
                MetricKind::Counter => None,
                _ => metric.unit.map(|u| u.target().registry_unit()),
            };
            let help = SharedString::from(metric.help());
            match metric.kind {
                MetricKind::Counter => recorder.describe_counter(name, unit, help),
                MetricKind::Sum | MetricKind::LastValue => {
                    recorder.describe_gauge(name, unit, help);
                }
                MetricKind::Summary | MetricKind::Distribution { .. } => {
                    recorder.describe_histogram(name, unit, help);
                }
            }
        }
        let mut events: Vec<EventName> = Vec::new();
        for metric in &self.metrics {
            if !events.contains(&metric.event) {
                events.push(metric.event);
            }
        }
        Ok(PrometheusReporter {
            inner: Arc::new(Inner {
                handle: recorder.handle(),
                recorder,
                metrics: self.metrics,
                events,
            }),
        })
    }
}

/// A set of [`Metric`]s recorded into a Prometheus registry of its own, rendered as the
/// Prometheus text format.
///
/// The registry is never installed as the process-wide `metrics` recorder: two reporters in one
/// program (or one test) see only what was emitted to the tables they are attached to. A
/// reporter is a cheap-to-clone handle; every clone is the same registry.
///
/// Summaries and distributions keep samples in a buffer that [`render`](Self::render) and
/// [`run_upkeep`](Self::run_upkeep) fold into the registry; the HTTP endpoint runs upkeep every
/// few seconds, and a program that never renders should call `run_upkeep` now and then.
#[derive(Clone)]
pub struct PrometheusReporter {
    inner: Arc<Inner>,
}

struct Inner {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    metrics: Vec<Metric>,
    /// Every event some metric listens to, once each.
    events: Vec<EventName>,
}

impl fmt::Debug for PrometheusReporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.inner.metrics.iter().map(|m| m.name()).collect();
        f.debug_struct("PrometheusReporter")
            .field("metrics", &names)
            .finish()
    }
}

impl PrometheusReporter {
    /// A builder for a reporter.
    pub fn builder() -> PrometheusReporterBuilder {
        PrometheusReporterBuilder::default()
    }

    /// Attaches one handler for all of this reporter's metrics to `telemetry`, under
    /// [`handler_id`](Self::handler_id). Fails with [`AttachError::AlreadyExists`] if this
    /// reporter is already attached there, and with [`AttachError::NoEvents`] if it has no
    /// metrics.
    pub fn attach(&self, telemetry: &Telemetry) -> Result<(), AttachError> {
        let inner = self.inner.clone();
        telemetry.attach(self.handler_id(), &self.inner.events, move |event| {
            inner.record(event);
        })
    }

    /// Detaches this reporter's handler from `telemetry`; false if it was not attached.
    pub fn detach(&self, telemetry: &Telemetry) -> bool {
        telemetry.detach(&self.handler_id())
    }

    /// The id this reporter's handler is attached under; unique per reporter (clones share it).
    pub fn handler_id(&self) -> String {
        format!(
            "beamish_telemetry::metrics::PrometheusReporter@{:p}",
            Arc::as_ptr(&self.inner)
        )
    }

    /// The metrics, as given.
    pub fn metrics(&self) -> &[Metric] {
        &self.inner.metrics
    }

    /// Every metric in the Prometheus text exposition format (version 0.0.4). A metric appears
    /// once it has recorded something.
    pub fn render(&self) -> String {
        self.inner.handle.render()
    }

    /// Folds buffered summary and distribution samples into the registry.
    pub fn run_upkeep(&self) {
        self.inner.handle.run_upkeep();
    }
}

impl Inner {
    fn record(&self, event: &Event<'_>) {
        for metric in self.metrics.iter().filter(|m| m.event == *event.name) {
            let Some(value) = metric.value(event) else {
                continue;
            };
            let labels: Vec<Label> = metric
                .labels(event)
                .into_iter()
                .map(|(k, v)| Label::new(k, v))
                .collect();
            let key = Key::from_parts(metric.name.clone(), labels);
            match metric.kind {
                MetricKind::Counter => self.recorder.register_counter(&key, &METADATA).increment(1),
                MetricKind::Sum => self
                    .recorder
                    .register_gauge(&key, &METADATA)
                    .increment(value),
                MetricKind::LastValue => self.recorder.register_gauge(&key, &METADATA).set(value),
                MetricKind::Summary | MetricKind::Distribution { .. } => {
                    self.recorder
                        .register_histogram(&key, &METADATA)
                        .record(value);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const E: EventName = EventName::new(&["t", "e"]);

    #[test]
    fn bad_definitions_are_refused() {
        let build = |m: Metric| PrometheusReporter::builder().metric(m).build().map(|_| ());
        assert_eq!(
            build(Metric::distribution("d", &E, "v")),
            Err(MetricsError::NoBuckets("d".into()))
        );
        assert_eq!(
            build(Metric::distribution("d", &E, "v").buckets([2.0, 1.0])),
            Err(MetricsError::BadBuckets("d".into()))
        );
        assert_eq!(build(Metric::counter("", &E)), Err(MetricsError::EmptyName));
        let twice = PrometheusReporter::builder()
            .metric(Metric::counter("a.b", &E))
            .metric(Metric::sum("a_b", &E, "v"))
            .build();
        assert_eq!(
            twice.map(|_| ()),
            Err(MetricsError::DuplicateName("a_b".into()))
        );
        let quantile = PrometheusReporter::builder().quantiles(&[0.5, 1.5]).build();
        assert_eq!(quantile.map(|_| ()), Err(MetricsError::BadQuantile(1.5)));
    }

    #[test]
    fn two_reporters_do_not_see_each_other() {
        let a = PrometheusReporter::builder()
            .metric(Metric::counter("seen", &E))
            .build()
            .unwrap();
        let b = PrometheusReporter::builder()
            .metric(Metric::counter("seen", &E))
            .build()
            .unwrap();
        let (ta, tb) = (Telemetry::new(), Telemetry::new());
        a.attach(&ta).unwrap();
        b.attach(&tb).unwrap();
        b.attach(&ta).unwrap();
        assert_eq!(
            a.attach(&ta),
            Err(AttachError::AlreadyExists(a.handler_id().into()))
        );
        ta.emit(&E, &[], &[]);
        tb.emit(&E, &[], &[]);
        tb.emit(&E, &[], &[]);
        assert!(a.render().contains("\nseen_total 1\n"), "{}", a.render());
        assert!(b.render().contains("\nseen_total 3\n"), "{}", b.render());
        assert!(a.detach(&ta));
        assert!(!a.detach(&ta));
        ta.emit(&E, &[], &[]);
        assert!(a.render().contains("\nseen_total 1\n"), "{}", a.render());
    }
}
