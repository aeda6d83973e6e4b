//! beamish: Erlang/OTP's failure model and concurrency in Rust, on tokio.
//!
//! Programs are made of many small **processes**: lightweight tasks that share nothing, each with a
//! mailbox, an identity ([`Pid`]) and an exit reason ([`Exit`]). They talk only by messages.
//! When one fails, even by panicking, only that process ends; the failure then travels along
//! the relations you declared, by OTP's rules:
//!
//! * a **monitor** tells the watcher why the process ended (a `DOWN` message);
//! * a **link** takes the linked process down with the same reason, unless it *traps exits*:
//!   then the exit signal arrives as a [`Message::Exit`](prelude::Message::Exit) and it
//!   carries on. Supervisors are built from that.
//!
//! On top of plain processes, [`GenServer`](prelude::GenServer) is OTP's `gen_server`: a
//! process that owns a state and handles calls (with timeouts), casts and plain messages, one
//! at a time. Exit reasons and rules are named as in Erlang/OTP (`normal`, `shutdown`,
//! `killed`, `noproc`, ...), so that an Erlang user reads them at once.
//!
//! This crate is a facade: it re-exports the beamish crates, one module each, plus a
//! [`prelude`] of the names nearly every program needs. It holds no logic of its own.
//!
//! # Crates
//!
//! | module         | crate                | what it holds                                         |
//! |----------------|----------------------|-------------------------------------------------------|
//! | [`process`]    | `beamish-process`    | [`Node`], spawn, links, monitors, exits, `GenServer`  |
//! | [`mailbox`]    | `beamish-mailbox`    | the two-lane mailbox, selective receive, capacity     |
//! | [`supervisor`] | `beamish-supervisor` | supervisors, dynamic supervisors, restart backoff     |
//! | [`registry`]   | `beamish-registry`   | local names, `Registry` (via names), `pg` groups      |
//! | [`pubsub`]     | `beamish-pubsub`     | publish/subscribe topics, Presence (a delta CRDT)     |
//! | `dist`         | `beamish-dist`       | planned: distribution, pids and monitors across nodes |
//! | `flow`         | `beamish-flow`       | planned: demand-driven pipelines (GenStage-like)      |
//! | `telemetry`    | `beamish-telemetry`  | planned: the events the other crates emit             |
//!
//! The planned crates will appear here as modules, the optional ones behind one facade feature
//! each.
//!
//! # Example
//!
//! A counter server, a crash seen by a monitor, and a link that takes one process down while a
//! process that traps exits receives the exit signal as a message.
//!
//! ```
//! use beamish::prelude::*;
//!
//! #[derive(Default)]
//! struct Counter(u64);
//!
//! impl GenServer for Counter {
//!     type Call = (); // "what is the count?"
//!     type Reply = u64;
//!     type Cast = u64; // "add this much"
//!     type Info = ();
//!
//!     async fn handle_call(&mut self, _: (), _: Caller<'_, u64>, _: &mut ServerCtx<Self>)
//!         -> Result<Reply<u64>, Exit> {
//!         Ok(Reply::Now(self.0))
//!     }
//!
//!     async fn handle_cast(&mut self, n: u64, _: &mut ServerCtx<Self>) -> Result<(), Exit> {
//!         self.0 += n;
//!         Ok(())
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let node = Node::start_default()?;
//!
//!     // A GenServer: casts do not wait; a call waits for the reply (5 s timeout by default).
//!     let counter = node.start(Counter::default()).await?;
//!     counter.cast(1)?;
//!     counter.cast(2)?;
//!     assert_eq!(counter.call(()).await?, 3);
//!
//!     // A process that panics on its first message. A monitor sees why it ended; nothing
//!     // else is disturbed.
//!     let crasher = node.spawn(|mut ctx: Ctx<&'static str>| async move {
//!         if let Message::Msg(m) = ctx.recv().await {
//!             panic!("{m}");
//!         }
//!     })?;
//!     let down = node.monitor(crasher.pid());
//!     crasher.send("boom")?;
//!     assert_eq!(down.await, Exit::Panic("boom".into()));
//!     assert_eq!(counter.call(()).await?, 3);
//!
//!     // Links: `worker` is linked to a process that crashes, so it goes down with the same
//!     // reason. `guard` is linked to `worker` but traps exits: the exit signal arrives as a
//!     // message and `guard` stays alive.
//!     let (report, reported) = tokio::sync::oneshot::channel();
//!     let guard = node.spawn(|mut ctx: Ctx<()>| async move {
//!         ctx.trap_exit(true);
//!         let worker = ctx.build().link().spawn(|mut ctx: Ctx<()>| async move {
//!             let crasher = ctx.build().link().spawn(|mut ctx: Ctx<&'static str>| async move {
//!                 if let Message::Msg(m) = ctx.recv().await {
//!                     panic!("{m}");
//!                 }
//!             })?;
//!             crasher.send("disk on fire")?;
//!             // The crash's exit signal ends this process at this `.await`.
//!             ctx.recv().await;
//!             Ok::<(), Exit>(())
//!         })?;
//!         if let Message::Exit(exit) = ctx.recv().await {
//!             let _ = report.send((exit.from == worker.pid(), exit.reason));
//!         }
//!         // Still alive: wait for a message to stop.
//!         ctx.recv().await;
//!         Ok::<(), Exit>(())
//!     })?;
//!     let (from_worker, reason) = reported.await?;
//!     assert!(from_worker);
//!     assert_eq!(reason, Exit::Panic("disk on fire".into()));
//!     assert!(node.is_alive(guard.pid()));
//!
//!     let guard_down = node.monitor(guard.pid());
//!     guard.send(())?;
//!     assert_eq!(guard_down.await, Exit::Normal);
//!     Ok(())
//! }
//! ```
//!
//! A process's body returns its exit reason: `()` is [`Exit::Normal`], and a
//! `Result<(), E>` lets the body use `?` with any error that converts into an [`Exit`].
//!
//! # An application
//!
//! Everything here comes from the prelude: a supervision tree run as an [`Application`]
//! (`prelude::Application`), a dynamic supervisor started under it, Elixir's
//! `Task.async_stream` consumed with plain `.next().await` and `.collect().await` (no stream
//! trait to import), and a timer.
//!
//! [`Application`]: supervisor::Application
//!
//! ```
//! use beamish::prelude::*;
//! use std::time::Duration;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let node = Node::new(NodeConfig { executor: Executor::Auto, ..NodeConfig::default() })?;
//!
//!     // One process per element, at most `max_concurrency` at a time; a panic stays in its
//!     // element's process and comes back as an `Err`.
//!     let mut lengths = async_stream(&node, ["a", "bb", "ccc"], |s: &str| async move { s.len() });
//!     let mut total = 0;
//!     while let Some(len) = lengths.next().await {
//!         total += len?;
//!     }
//!     assert_eq!(total, 6);
//!     let checked: Vec<Result<u32, TaskError>> =
//!         async_stream(&node, 0..3, |i: u32| async move { assert_ne!(i, 1); i }).collect().await;
//!     assert!(checked[0].is_ok() && checked[1].is_err() && checked[2].is_ok());
//!
//!     // A dynamic supervisor; a child that arms a timer and stops when it fires.
//!     let workers: DynamicSupervisorRef = DynamicSupervisor::new().start(&node).await?;
//!     let (fired, on_fire) = tokio::sync::oneshot::channel();
//!     let fired = std::sync::Mutex::new(Some(fired));
//!     let spec = ChildSpec::process("ticker", move |mut ctx: Ctx<&'static str>| {
//!         let fired = fired.lock().unwrap().take();
//!         async move {
//!             let _timer: TimerRef = ctx.addr().send_after("tick", Duration::from_millis(1));
//!             if let Message::Msg("tick") = ctx.recv().await {
//!                 let _ = fired.map(|f| f.send(()));
//!             }
//!         }
//!     })
//!     .restart(Restart::Temporary);
//!     let started: Result<Started, StartChildError> = workers.start_child(spec).await;
//!     assert!(started?.pid().is_some());
//!     on_fire.await?;
//!
//!     // An application: the tree runs until the shutdown future resolves (here at once;
//!     // with the feature `signals`, `run_until_signal` waits for SIGTERM or Ctrl-C).
//!     let tree = Supervisor::new(Strategy::OneForOne).child(ChildSpec::process(
//!         "idle",
//!         |mut ctx: Ctx<()>| async move {
//!             ctx.recv().await;
//!         },
//!     ));
//!     let outcome = Application::new(tree).run(&node, std::future::ready(())).await;
//!     assert_eq!(outcome, AppExit::Stopped);
//!     Ok(())
//! }
//! ```
//!
//! # Features
//!
//! All off by default:
//!
//! * `metrics`: metrics in the style of `Telemetry.Metrics`, with a Prometheus reporter
//!   (`beamish-telemetry`).
//! * `http`: the operator endpoint, `/metrics` and `/snapshot` over HTTP
//!   (`beamish-telemetry`); the only code that opens a socket.
//! * `signals`: `Application::run_until_signal`, which stops the tree on SIGTERM or Ctrl-C
//!   (`beamish-supervisor`, through tokio's signal handling).
#![forbid(unsafe_code)]

pub use beamish_mailbox as mailbox;
pub use beamish_process as process;
pub use beamish_pubsub as pubsub;
pub use beamish_registry as registry;
pub use beamish_supervisor as supervisor;
pub use beamish_telemetry as telemetry;

pub use beamish_process::{Exit, Node, Pid};

/// The names nearly every beamish program needs: `use beamish::prelude::*;`.
///
/// Processes and servers ([`Node`], [`Ctx`](prelude::Ctx), [`GenServer`](prelude::GenServer)
/// and their errors), what a process receives ([`Message`](prelude::Message) with its `EXIT`
/// and `DOWN`), tasks ([`Task`](prelude::Task), [`async_stream`](prelude::async_stream)),
/// timers, supervisors and applications with their start errors. Everything else lives in
/// the crate modules, [`process`], [`supervisor`], [`registry`], [`pubsub`] and [`mailbox`].
pub mod prelude {
    pub use beamish_process::{
        Addr, AsyncStream, CallError, Caller, Capacity, CastError, Ctx, Dest, DownMsg, Executor,
        Exit, ExitMsg, GenServer, Kind, LinkError, Message, Monitored, Node, NodeConfig, OnTimeout,
        Pid, Ref, RegisterError, Reply, ReplyTo, SendError, ServerCtx, ServerRef, SpawnError,
        SpawnOpts, StartError, Task, TaskError, Term, Timeout, TimerRef, async_stream,
        block_in_place, consume_reductions,
    };
    pub use beamish_supervisor::{
        AppExit, Application, ChildSpec, DynamicSupervisor, DynamicSupervisorRef, Restart,
        Shutdown, StartChildError, Started, Strategy, Supervisor, SupervisorRef,
        SupervisorStartError,
    };
}

/// The session example (`examples/session.rs`: an idle timeout, `handle_continue` and a
/// periodic heartbeat), run as a doc test so that CI runs it.
#[cfg(doctest)]
#[doc = concat!("```\n", include_str!("../examples/session.rs"), "\n```")]
struct SessionExample;

/// The chat tree example (`examples/chat_tree.rs`: Registry, PubSub, Presence, named dynamic
/// supervisors and a TCP listener in one tree), run as a doc test so that CI runs it.
#[cfg(doctest)]
#[doc = concat!("```\n", include_str!("../examples/chat_tree.rs"), "\n```")]
struct ChatTreeExample;

/// The README's example, compiled and run as a doc test so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeExample;
