//! Telemetry for beamish: events in the style of Erlang's `:telemetry`, spans, a bridge to
//! `tracing`, a log of recent events, and the data model of node introspection.
//!
//! An event has a static name (`beamish.process.spawned`), measurements (numbers) and metadata
//! (typed values, pids among them). Handlers attach to names on a [`Telemetry`] table and run in
//! the emitting process; a handler that panics is detached and reported, and the emitter goes
//! on. An event nobody listens to costs one atomic load, so beamish emits everywhere.
//!
//! ```
//! use std::sync::{Arc, atomic::{AtomicU64, Ordering}};
//! use beamish_telemetry::{SpanName, Telemetry, span_name};
//!
//! const CHECKOUT: SpanName = span_name!("shop", "checkout");
//!
//! let telemetry = Telemetry::new();
//! let total_ns = Arc::new(AtomicU64::new(0));
//! let sink = total_ns.clone();
//! telemetry
//!     .attach("checkout-time", &[CHECKOUT.stop], move |event| {
//!         let ns = event.measurement("duration").unwrap().as_f64() as u64;
//!         sink.fetch_add(ns, Ordering::Relaxed);
//!     })
//!     .unwrap();
//!
//! let paid = telemetry.span(&CHECKOUT, &[("items", 2u64.into())], || "paid");
//! assert_eq!(paid, "paid");
//! ```
//!
//! There are no globals: a beamish `Node` carries its `Telemetry`, and every crate above this
//! one emits into the node's table.
//!
//! # Metrics and the endpoint
//!
//! Two optional features, both off by default, turn events into something an operator scrapes:
//!
//! * `metrics`: the `metrics` module, metrics in the style of Elixir's `Telemetry.Metrics`
//!   (`counter`, `sum`, `last_value`, `summary`, `distribution`) defined over event names,
//!   measurements and metadata tags, recorded by a `PrometheusReporter` into a registry of its
//!   own (never a process-wide recorder) and rendered in the Prometheus text format.
//! * `http` (implies `metrics`): the `http` module, an `Endpoint` serving `GET /metrics` and
//!   `GET /snapshot` (a [`NodeSnapshot`](introspect::NodeSnapshot) as JSON) on an address of
//!   your choice. It is the only code in this crate that opens a socket, so without the feature
//!   the crate stays network-free (`cargo xtask ci` checks it).
//!
//! ```toml
//! beamish-telemetry = { version = "0.1", features = ["http"] }
//! ```
//!
//! The `metrics` module's documentation shows defining metrics and what a Prometheus user sees
//! for each kind; the `http` module's shows starting the endpoint.
#![forbid(unsafe_code)]

mod event;
pub mod events;
mod forward;
mod handlers;
#[cfg(feature = "http")]
pub mod http;
pub mod introspect;
mod log;
#[cfg(feature = "metrics")]
pub mod metrics;
mod span;

pub use event::{Event, EventName, Measurements, Metadata, Number, ProcessId, Value};
pub use forward::forward_to_tracing;
pub use handlers::{AttachError, HandlerFn, HandlerInfo, Telemetry};
pub use log::{EventLog, EventRecord};
pub use span::SpanName;
