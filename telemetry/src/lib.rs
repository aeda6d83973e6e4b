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
