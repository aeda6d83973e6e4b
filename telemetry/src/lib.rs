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
//! # The events beamish emits
//!
//! Their names are constants in [`events`]. Durations are in nanoseconds. Handlers run in the
//! emitting process, so an event's place among other effects is part of its definition.
//!
//! | name | when | measurements | metadata |
//! |---|---|---|---|
//! | `beamish.process.spawned` | a process was spawned; emitted by the spawner before the process first runs | | `pid`, `kind`, `parent` (if linked to it) |
//! | `beamish.process.exited` | a process ended; emitted by it after leaving the process table, before its links and monitors are told | `lifetime` (ns since it started, millisecond resolution) | `pid`, `kind`, `reason` |
//! | `beamish.process.exit_signal` | a process handled an exit signal (R-EXIT-1); emitted by the receiver | | `from`, `to`, `reason`, `link`, `outcome` (`killed`, `trapped`, `ignored`) |
//! | `beamish.process.down` | a monitor fired; emitted by the monitored process before the `DOWN` is delivered (by the watcher for `noproc`) | | `watcher` (the node's pid for a monitor that reports to a future), `watched`, `reason` |
//! | `beamish.process.call_timeout` | a `GenServer` call timed out (R-GS-2); emitted by the caller | `timeout` | `caller`, `server` |
//! | `beamish.process.mailbox_long` | a send made a mailbox as long as `NodeConfig::mailbox_alert` (once per upward crossing); emitted by the sender | `length` | `pid`, `threshold` |
//! | `beamish.process.long_poll` | a poll held its worker thread past 2 ms (the BEAM's `long_schedule`); emitted by its worker after the poll | `duration` (at least) | `pid` |
//! | `beamish.process.mailbox_killed` | a send passed the process's mailbox kill limit (`Capacity::KillAbove`); emitted by the process as it dies `killed` | `length` | `pid`, `limit` |
//! | `beamish.supervisor.child_started` | a supervisor started a child (first start, `start_child`, restart) | | `supervisor`, `child_id`, `child_pid` |
//! | `beamish.supervisor.child_exited` | a child ended on its own and its supervisor learnt of it | | `supervisor`, `child_id`, `child_pid`, `reason`, `restart` |
//! | `beamish.supervisor.child_terminated` | a child exit OTP reports: any exit of a permanent child, abnormal exits of the others (R-SUP-REPORT) | | `supervisor`, `child_id`, `child_pid`, `reason`, `restart_type` |
//! | `beamish.supervisor.start_error` | a child's start function failed (at start or in a restart) | | `supervisor`, `child_id`, `reason` |
//! | `beamish.supervisor.child_restarted` | a child was restarted | `restarts` | `supervisor`, `child_id`, `child_pid` (the new one) |
//! | `beamish.supervisor.backoff_scheduled` | a restart waits out a backoff | `delay`, `attempt` | `supervisor`, `child_id` |
//! | `beamish.supervisor.intensity_reached` | the restart intensity is exceeded; the supervisor shuts down (R-SUP-INT) | `restarts`, `intensity`, `period` | `supervisor`, `child_id` |
//! | `beamish.supervisor.shutdown_error` | a child did not stop cleanly: killed after its timeout, or an unexpected reason | | `supervisor`, `child_id`, `child_pid`, `reason` |
//! | `beamish.registry.registered` | a process registered a key | `partition_size`, `partitions` | `pid`, `keys` |
//! | `beamish.registry.unregistered` | a process unregistered entries of a key | `removed`, `partition_size`, `partitions` | `pid`, `keys` |
//! | `beamish.pubsub.subscribed` | a process subscribed to a topic | `subscribers` | `topic`, `pid` |
//! | `beamish.pubsub.unsubscribed` | a process unsubscribed from a topic | `subscribers` | `topic`, `pid` |
//! | `beamish.pubsub.broadcast` | a message was broadcast; emitted by the publisher after delivery | `recipients` | `topic`, `from` (`broadcast_from` only) |
//! | `telemetry.handler.failure` | a handler panicked and was detached | | `handler_id`, `event_name`, `reason` |
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

pub use event::{Event, EventName, Measurements, Metadata, Number, ProcessId, Typed, Value};
pub use forward::forward_to_tracing;
pub use handlers::{AttachError, HandlerFn, HandlerInfo, Telemetry};
pub use log::{EventLog, EventRecord, capture};
pub use span::SpanName;

#[cfg(test)]
mod tests {
    /// Every event name defined in `events.rs` has a row in the table of the crate docs, so
    /// the two cannot drift apart (issue 5).
    #[test]
    fn the_crate_docs_table_lists_every_event() {
        let events = include_str!("events.rs");
        let docs: String = include_str!("lib.rs")
            .lines()
            .filter(|l| l.starts_with("//! | `"))
            .collect::<Vec<_>>()
            .join("\n");
        let mut names = Vec::new();
        for rest in events.split("EventName::new(&[").skip(1) {
            let path = &rest[..rest.find("])").expect("a closed path")];
            let dotted: Vec<&str> = path
                .split(',')
                .map(|s| s.trim().trim_matches('"'))
                .filter(|s| !s.is_empty())
                .collect();
            names.push(dotted.join("."));
        }
        let consts = events.matches("pub const ").count();
        assert_eq!(
            names.len(),
            consts,
            "every constant is made by EventName::new"
        );
        assert!(names.len() >= 18, "found only {names:?}");
        for name in &names {
            assert!(
                docs.contains(&format!("| `{name}` |")),
                "{name} has no row in the crate docs' event table"
            );
        }
        let rows = docs.lines().count();
        assert_eq!(
            rows,
            names.len(),
            "the table has a row for an event that does not exist"
        );
    }
}
