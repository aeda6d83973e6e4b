//! Malformed requests get 400 or a closed connection, never a crash, and the endpoint keeps
//! serving; shutting it down frees the port (issue 5, item 6).
#![cfg(feature = "http")]

mod support;

use beamish_telemetry::http::Endpoint;
use beamish_telemetry::metrics::{Metric, PrometheusReporter};
use beamish_telemetry::{EventName, Telemetry};
use tokio::net::TcpStream;

use support::{exchange, get, parse_exposition};

const PING: EventName = EventName::new(&["test", "ping"]);

/// Issue 5 (item 6): garbage over a raw TCP stream is answered with 400 (or the connection is
/// closed), and a good request afterwards is served as usual.
#[tokio::test]
async fn garbage_gets_400_or_a_close_and_the_server_goes_on() {
    let telemetry = Telemetry::new();
    let reporter = PrometheusReporter::builder()
        .metric(Metric::counter("test.pings", &PING))
        .build()
        .unwrap();
    reporter.attach(&telemetry).unwrap();
    telemetry.emit(&PING, &[], &[]);
    let endpoint = Endpoint::builder()
        .metrics(reporter)
        .bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = endpoint.local_addr();

    let huge_header = format!(
        "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(1 << 20)
    );
    let garbage: Vec<Vec<u8>> = vec![
        b"\x00\x01\x02\xff\xfe garbage \r\n\r\n".to_vec(),
        b"GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n".to_vec(),
        b"GET\r\n\r\n".to_vec(),
        b"GET /metrics HTTP/9.9\r\n\r\n".to_vec(),
        b"GET /metrics HTTP/1.1\r\nContent-Length: -4\r\n\r\n".to_vec(),
        // A truncated head: the client gives up half way.
        b"GET /metr".to_vec(),
        huge_header.into_bytes(),
    ];
    let mut answered_400 = 0;
    for raw in &garbage {
        let reply = exchange(addr, raw).await;
        let text = String::from_utf8_lossy(&reply);
        assert!(
            reply.is_empty()
                || text.starts_with("HTTP/1.1 400")
                || text.starts_with("HTTP/1.1 431"),
            "{:?} got {text:?}",
            String::from_utf8_lossy(&raw[..raw.len().min(60)])
        );
        if !reply.is_empty() {
            answered_400 += 1;
        }
        // The server is still there after each one.
        let good = get(addr, "/metrics").await;
        assert_eq!(good.status, 200);
        assert_eq!(
            parse_exposition(&good.body).value("test_pings_total", &[]),
            1.0
        );
    }
    assert!(
        answered_400 > 0,
        "hyper answers unparsable requests with 400"
    );

    endpoint.shutdown().await;
    let refused = TcpStream::connect(addr).await;
    assert!(refused.is_err(), "the port is closed after shutdown");
}

/// Issue 5 (item 6): dropping the endpoint stops it too.
#[tokio::test]
async fn dropping_the_endpoint_stops_serving() {
    let endpoint = Endpoint::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = endpoint.local_addr();
    assert_eq!(get(addr, "/").await.status, 404);
    drop(endpoint);
    // The abort lands when the runtime next polls the accept task; yield until it has.
    let mut refused = false;
    for _ in 0..1000 {
        tokio::task::yield_now().await;
        if TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
    }
    assert!(refused, "the port is closed after drop");
}
