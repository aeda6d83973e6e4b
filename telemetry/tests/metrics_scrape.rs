//! Metrics defined over events, scraped from the HTTP endpoint over real TCP and parsed as the
//! Prometheus text format (issue 5, items 4 and 6).
#![cfg(feature = "http")]

mod support;

use beamish_telemetry::http::Endpoint;
use beamish_telemetry::metrics::{Metric, PrometheusReporter, Unit};
use beamish_telemetry::{EventName, Telemetry, Value};

use support::{get, parse_exposition};

const CALL_STOP: EventName = EventName::new(&["beamish", "call", "stop"]);
const QUEUE_SAMPLED: EventName = EventName::new(&["app", "queue", "sampled"]);
const BYTES_WRITTEN: EventName = EventName::new(&["app", "io", "written"]);

fn reporter() -> PrometheusReporter {
    PrometheusReporter::builder()
        .quantiles(&[0.0, 0.5, 1.0])
        .metric(
            Metric::counter("beamish.call.count", &CALL_STOP)
                .tags(["server", "outcome"])
                .tag_values(|e| {
                    let failed = e.meta("error").is_some();
                    vec![("outcome", if failed { "error" } else { "ok" }.to_owned())]
                })
                .description("Calls answered"),
        )
        .metric(
            Metric::sum("app.io.written", &BYTES_WRITTEN, "bytes")
                .unit(Unit::Byte.to(Unit::Kibibyte))
                .tags(["device"]),
        )
        .metric(Metric::last_value("app.queue.length", &QUEUE_SAMPLED, "len").tags(["queue"]))
        .metric(
            Metric::summary("beamish.call.latency", &CALL_STOP, "duration")
                .unit(Unit::Nanosecond.to(Unit::Millisecond))
                .tags(["server"]),
        )
        .metric(
            Metric::distribution("beamish.call.duration", &CALL_STOP, "duration")
                .unit(Unit::Nanosecond.to(Unit::Millisecond))
                .buckets([1.0, 5.0, 10.0, 50.0])
                .tags(["server"])
                .description("How long calls take"),
        )
        .build()
        .expect("valid metrics")
}

fn call(telemetry: &Telemetry, server: &str, ms: f64, failed: bool) {
    let duration = (ms * 1e6) as u64;
    let mut metadata = vec![("server", Value::Str(server))];
    if failed {
        metadata.push(("error", Value::Str("timeout")));
    }
    telemetry.emit(&CALL_STOP, &[("duration", duration.into())], &metadata);
}

/// Issue 5 (item 4, item 6): every metric kind renders as its Prometheus type with the right
/// values, tags become labels, and `/metrics` serves it with the exposition content type.
#[tokio::test]
async fn a_scrape_shows_every_metric_kind_with_tags_as_labels() {
    let telemetry = Telemetry::new();
    let reporter = reporter();
    reporter.attach(&telemetry).unwrap();

    for (ms, failed) in [
        (0.5, false),
        (5.0, false),
        (7.0, true),
        (7.0, false),
        (100.0, false),
    ] {
        call(&telemetry, "cache", ms, failed);
    }
    call(&telemetry, "db", 3.0, false);
    for bytes in [512u64, 1024, 2048] {
        telemetry.emit(
            &BYTES_WRITTEN,
            &[("bytes", bytes.into())],
            &[("device", "sda".into())],
        );
    }
    for len in [10u64, 3] {
        telemetry.emit(
            &QUEUE_SAMPLED,
            &[("len", len.into())],
            &[("queue", "mail".into())],
        );
    }
    // No `queue` in the metadata: the label is empty, which Prometheus reads as absent.
    telemetry.emit(&QUEUE_SAMPLED, &[("len", 8u64.into())], &[]);
    // No `len` measurement: the last value metric skips the event.
    telemetry.emit(&QUEUE_SAMPLED, &[], &[("queue", "mail".into())]);

    let endpoint = Endpoint::builder()
        .metrics(reporter.clone())
        .bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let reply = get(endpoint.local_addr(), "/metrics").await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; version=0.0.4")
    );
    let scrape = parse_exposition(&reply.body);

    // counter: `_total`, one series per tag combination, the mapper's tag included.
    assert_eq!(scrape.types["beamish_call_count_total"], "counter");
    assert_eq!(scrape.help["beamish_call_count_total"], "Calls answered");
    let count = |server, outcome| {
        scrape.value(
            "beamish_call_count_total",
            &[("server", server), ("outcome", outcome)],
        )
    };
    assert_eq!(count("cache", "ok"), 4.0);
    assert_eq!(count("cache", "error"), 1.0);
    assert_eq!(count("db", "ok"), 1.0);
    assert_eq!(scrape.matching("beamish_call_count_total", &[]).len(), 3);

    // sum: a gauge in the converted unit, named for it; a made-up description.
    assert_eq!(scrape.types["app_io_written_kibibytes"], "gauge");
    assert_eq!(
        scrape.help["app_io_written_kibibytes"],
        "sum of app.io.written bytes"
    );
    assert_eq!(
        scrape.value("app_io_written_kibibytes", &[("device", "sda")]),
        3.5
    );

    // last_value: the latest value per tag set.
    assert_eq!(scrape.types["app_queue_length"], "gauge");
    assert_eq!(scrape.value("app_queue_length", &[("queue", "mail")]), 3.0);
    assert_eq!(scrape.value("app_queue_length", &[("queue", "")]), 8.0);

    // summary: quantiles (estimates, within 1%), exact sum and count.
    let summary = "beamish_call_latency_milliseconds";
    assert_eq!(scrape.types[summary], "summary");
    for (q, expected) in [("0", 0.5), ("0.5", 7.0), ("1", 100.0)] {
        let got = scrape.value(summary, &[("server", "cache"), ("quantile", q)]);
        assert!(
            (got - expected).abs() <= expected * 0.01,
            "quantile {q}: {got} is not about {expected}"
        );
    }
    assert_eq!(scrape.matching(summary, &[("server", "cache")]).len(), 3);
    let sum_name = format!("{summary}_sum");
    let count_name = format!("{summary}_count");
    assert_eq!(scrape.value(&sum_name, &[("server", "cache")]), 119.5);
    assert_eq!(scrape.value(&count_name, &[("server", "cache")]), 5.0);
    assert_eq!(scrape.value(&count_name, &[("server", "db")]), 1.0);

    // distribution: a histogram with cumulative buckets, `+Inf`, `_sum`, `_count`.
    let histogram = "beamish_call_duration_milliseconds";
    assert_eq!(scrape.types[histogram], "histogram");
    assert_eq!(scrape.help[histogram], "How long calls take");
    let bucket_name = format!("{histogram}_bucket");
    let buckets = |server: &str| -> Vec<(f64, f64)> {
        let mut found: Vec<(f64, f64)> = scrape
            .matching(&bucket_name, &[("server", server)])
            .iter()
            .map(|s| (s.labels["le"].parse::<f64>().unwrap(), s.value))
            .collect();
        found.sort_by(|a, b| a.0.total_cmp(&b.0));
        found
    };
    let inf = f64::INFINITY;
    assert_eq!(
        buckets("cache"),
        [(1.0, 1.0), (5.0, 2.0), (10.0, 4.0), (50.0, 4.0), (inf, 5.0)]
    );
    assert_eq!(
        buckets("db"),
        [(1.0, 0.0), (5.0, 1.0), (10.0, 1.0), (50.0, 1.0), (inf, 1.0)]
    );
    let h_sum = format!("{histogram}_sum");
    let h_count = format!("{histogram}_count");
    assert_eq!(scrape.value(&h_sum, &[("server", "cache")]), 119.5);
    assert_eq!(scrape.value(&h_count, &[("server", "cache")]), 5.0);
    assert_eq!(scrape.value(&h_sum, &[("server", "db")]), 3.0);

    // Nothing else: five families.
    assert_eq!(scrape.types.len(), 5, "{:?}", scrape.types);

    // A second scrape after more events: histograms keep counting, gauges move.
    call(&telemetry, "db", 60.0, false);
    let again = parse_exposition(&get(endpoint.local_addr(), "/metrics").await.body);
    let db_buckets: Vec<f64> = ["1", "5", "10", "50", "+Inf"]
        .iter()
        .map(|le| again.value(&bucket_name, &[("server", "db"), ("le", le)]))
        .collect();
    assert_eq!(db_buckets, [0.0, 1.0, 1.0, 1.0, 2.0]);
    assert_eq!(again.value(&h_sum, &[("server", "db")]), 63.0);
    endpoint.shutdown().await;
}

/// Issue 5 (item 4): a reporter records only what its own tables emit; a second reporter in
/// the same test (no global recorder) sees nothing of it.
#[tokio::test]
async fn reporters_are_separate_registries() {
    let (t1, t2) = (Telemetry::new(), Telemetry::new());
    let (r1, r2) = (reporter(), reporter());
    r1.attach(&t1).unwrap();
    r2.attach(&t2).unwrap();
    call(&t1, "cache", 1.0, false);
    call(&t1, "cache", 1.0, false);
    call(&t2, "cache", 1.0, false);
    let one = parse_exposition(&r1.render());
    let two = parse_exposition(&r2.render());
    let ok = [("server", "cache"), ("outcome", "ok")];
    assert_eq!(one.value("beamish_call_count_total", &ok), 2.0);
    assert_eq!(two.value("beamish_call_count_total", &ok), 1.0);
}
