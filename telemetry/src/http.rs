//! An operator-facing HTTP endpoint: Prometheus metrics and node snapshots (feature `http`).
//!
//! | request | answer |
//! | --- | --- |
//! | `GET /metrics` | the [`PrometheusReporter`]'s text format, `text/plain; version=0.0.4` (404 if the endpoint was given no reporter) |
//! | `GET /snapshot?sort=S&limit=N&window_ms=M` | a [`NodeSnapshot`](crate::introspect::NodeSnapshot) as JSON from the [`Introspect`] source (404 if it was given none) |
//! | anything else | 404; a known path with another method than `GET`/`HEAD` gets 405 |
//!
//! `/snapshot`'s parameters are all optional: `sort` is `mailbox_len` (the default),
//! `message_rate` or `messages_handled`; `limit` (default 50) caps the process table;
//! `window_ms` (default 0, at most 60000) is how long to sample message rates for. An unknown
//! parameter or a bad value gets 400 with a one-line reason.
//!
//! HTTP/1.1 is parsed by hyper; a request hyper cannot parse gets 400 (or a closed connection)
//! and the server goes on serving others. A client has 10 seconds to send its request head.
//!
//! This is the only place beamish-telemetry opens a socket, and it is compiled only with the
//! `http` feature (`cargo xtask ci` checks that; see xtask/src/deps.rs).
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use beamish_telemetry::http::Endpoint;
//! use beamish_telemetry::metrics::{Metric, PrometheusReporter};
//! use beamish_telemetry::{EventName, Telemetry};
//!
//! const JOB_DONE: EventName = EventName::new(&["my_app", "job", "done"]);
//!
//! let telemetry = Telemetry::new();
//! let reporter = PrometheusReporter::builder()
//!     .metric(Metric::counter("my_app.jobs", &JOB_DONE))
//!     .build()
//!     .expect("valid metrics");
//! reporter.attach(&telemetry).expect("attached once");
//!
//! let endpoint = Endpoint::builder()
//!     .metrics(reporter)
//!     .bind("127.0.0.1:9568".parse().unwrap())
//!     .await?;
//! println!("scrape http://{}/metrics", endpoint.local_addr());
//! // ... run the application; dropping the endpoint (or `shutdown`) stops the server.
//! endpoint.shutdown().await;
//! # Ok(())
//! # }
//! ```

use std::convert::Infallible;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use crate::introspect::{Introspect, SnapshotQuery, SortBy};
use crate::metrics::PrometheusReporter;

/// The content type of the Prometheus text exposition format.
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4";

/// The longest rate-sampling window `/snapshot` accepts, so a request cannot hold a connection
/// (and the source's sampler) for long.
pub const MAX_WINDOW_MS: u64 = 60_000;

/// How long a client has to send its request head before the connection is closed.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How often buffered summary and histogram samples are folded into the registry, so that
/// memory stays bounded between scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// What an [`Endpoint`] serves, before it is bound.
#[derive(Default)]
pub struct EndpointBuilder {
    metrics: Option<PrometheusReporter>,
    introspect: Option<Arc<dyn Introspect>>,
}

impl fmt::Debug for EndpointBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointBuilder")
            .field("metrics", &self.metrics)
            .field("introspect", &self.introspect.is_some())
            .finish()
    }
}

impl EndpointBuilder {
    /// Serves `reporter` at `/metrics`.
    pub fn metrics(mut self, reporter: PrometheusReporter) -> Self {
        self.metrics = Some(reporter);
        self
    }

    /// Serves snapshots of `source` at `/snapshot`.
    pub fn introspect(mut self, source: Arc<dyn Introspect>) -> Self {
        self.introspect = Some(source);
        self
    }

    /// Binds `addr` (port 0 picks a free port; see [`Endpoint::local_addr`]) and starts serving
    /// on the current tokio runtime.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime.
    pub async fn bind(self, addr: SocketAddr) -> io::Result<Endpoint> {
        let listener = TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        let routes = Arc::new(Routes {
            metrics: self.metrics,
            introspect: self.introspect,
        });
        let task = tokio::spawn(serve(listener, routes));
        Ok(Endpoint { local_addr, task })
    }
}

/// A running HTTP endpoint. Serving stops when it is dropped or [shut down](Self::shutdown).
#[derive(Debug)]
pub struct Endpoint {
    local_addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Endpoint {
    /// A builder: what to serve.
    pub fn builder() -> EndpointBuilder {
        EndpointBuilder::default()
    }

    /// Binds `addr` serving nothing but 404s until given a source: a shorthand for
    /// `Endpoint::builder().bind(addr)`.
    pub async fn bind(addr: SocketAddr) -> io::Result<Endpoint> {
        Endpoint::builder().bind(addr).await
    }

    /// The address it listens on (with the real port if it was bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops serving: closes the listener and every open connection. When this returns, the
    /// port is free.
    pub async fn shutdown(mut self) {
        self.task.abort();
        // The accept loop owns the listener and the connections; awaiting the aborted task
        // means they have been dropped.
        let _ = (&mut self.task).await;
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Routes {
    metrics: Option<PrometheusReporter>,
    introspect: Option<Arc<dyn Introspect>>,
}

/// The accept loop. Connections run in a `JoinSet` it owns, so aborting it closes them all.
async fn serve(listener: TcpListener, routes: Arc<Routes>) {
    let mut tasks = JoinSet::new();
    if let Some(reporter) = routes.metrics.clone() {
        tasks.spawn(async move {
            let mut tick = tokio::time::interval(UPKEEP_EVERY);
            loop {
                tick.tick().await;
                reporter.run_upkeep();
            }
        });
    }
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and the like: say so, back off, keep serving.
                tracing::warn!(target: "beamish_telemetry", %error, "endpoint accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        while tasks.try_join_next().is_some() {}
        let routes = routes.clone();
        tasks.spawn(async move {
            let service = service_fn(move |request| {
                let routes = routes.clone();
                async move { Ok::<_, Infallible>(routes.answer(request).await) }
            });
            let served = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service)
                .await;
            if let Err(error) = served {
                tracing::debug!(target: "beamish_telemetry", %peer, %error, "endpoint connection ended");
            }
        });
    }
}

impl Routes {
    async fn answer(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let path = request.uri().path();
        let known = matches!(path, "/metrics" | "/snapshot");
        if !known {
            return text(StatusCode::NOT_FOUND, "not found\n");
        }
        if !matches!(*request.method(), Method::GET | Method::HEAD) {
            let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
            return response;
        }
        match path {
            "/metrics" => match &self.metrics {
                Some(reporter) => {
                    with_type(StatusCode::OK, PROMETHEUS_CONTENT_TYPE, reporter.render())
                }
                None => text(StatusCode::NOT_FOUND, "no metrics here\n"),
            },
            _ => match &self.introspect {
                Some(source) => match parse_query(request.uri().query()) {
                    Ok(query) => {
                        let snapshot = source.snapshot(query).await;
                        match serde_json::to_string(&snapshot) {
                            Ok(json) => with_type(StatusCode::OK, "application/json", json),
                            Err(error) => text(
                                StatusCode::INTERNAL_SERVER_ERROR,
                                &format!("snapshot does not serialize: {error}\n"),
                            ),
                        }
                    }
                    Err(reason) => text(StatusCode::BAD_REQUEST, &format!("{reason}\n")),
                },
                None => text(StatusCode::NOT_FOUND, "no snapshot source here\n"),
            },
        }
    }
}

fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    with_type(status, "text/plain; charset=utf-8", body.to_owned())
}

fn with_type(
    status: StatusCode,
    content_type: &'static str,
    body: String,
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// `/snapshot`'s query string as a [`SnapshotQuery`], or why it is not one.
fn parse_query(query: Option<&str>) -> Result<SnapshotQuery, String> {
    let mut parsed = SnapshotQuery::default();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "sort" => {
                parsed.sort = match value {
                    "mailbox_len" => SortBy::MailboxLen,
                    "message_rate" => SortBy::MessageRate,
                    "messages_handled" => SortBy::MessagesHandled,
                    _ => {
                        return Err(format!(
                            "sort must be mailbox_len, message_rate or messages_handled, not {value:?}"
                        ));
                    }
                }
            }
            "limit" => {
                parsed.limit = value
                    .parse()
                    .map_err(|_| format!("limit must be a count, not {value:?}"))?;
            }
            "window_ms" => {
                let ms: u64 = value
                    .parse()
                    .map_err(|_| format!("window_ms must be milliseconds, not {value:?}"))?;
                if ms > MAX_WINDOW_MS {
                    return Err(format!(
                        "window_ms may be at most {MAX_WINDOW_MS}, not {ms}"
                    ));
                }
                parsed.window = Duration::from_millis(ms);
            }
            _ => {
                return Err(format!(
                    "unknown parameter {key:?} (sort, limit, window_ms)"
                ));
            }
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_parse_or_say_why_not() {
        assert_eq!(parse_query(None), Ok(SnapshotQuery::default()));
        assert_eq!(
            parse_query(Some("sort=message_rate&limit=3&window_ms=250")),
            Ok(SnapshotQuery {
                sort: SortBy::MessageRate,
                limit: 3,
                window: Duration::from_millis(250),
            })
        );
        assert_eq!(
            parse_query(Some("sort=messages_handled&")).map(|q| q.sort),
            Ok(SortBy::MessagesHandled)
        );
        for (bad, says) in [
            ("sort=name", "sort must be"),
            ("limit=-1", "limit must be a count"),
            ("limit", "limit must be a count"),
            ("window_ms=60001", "at most 60000"),
            ("window_ms=1e3", "window_ms must be milliseconds"),
            ("sortby=x", "unknown parameter \"sortby\""),
        ] {
            let err = parse_query(Some(bad)).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
