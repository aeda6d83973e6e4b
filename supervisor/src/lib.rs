//! Supervisors for [beamish](https://example.invalid/beamish): OTP's `supervisor` and Elixir's
//! `DynamicSupervisor` on beamish processes, plus restart backoff.
//!
//! A supervisor is a process that traps exits and starts its children linked to itself. When a
//! child ends, the supervisor decides by the child's [`Restart`] type whether to restart it,
//! by its [`Strategy`] which siblings go down and come back with it, and by its restart
//! intensity whether it should give up: past `intensity` restarts within `period` it stops
//! every remaining child and exits with `shutdown`, so that its own supervisor sees one
//! failure (R-SUP-*). The rules, and the names, are OTP's.
//!
//! * [`Supervisor`]: a static list of [`ChildSpec`]s started in order, strategies
//!   one-for-one, one-for-all and rest-for-one, shutdown policies, `auto_shutdown`, and the
//!   runtime API on [`SupervisorRef`] (`which_children`, `count_children`,
//!   `terminate_child`, `restart_child`, `delete_child`, `start_child`).
//! * [`DynamicSupervisor`]: children started on demand, extra arguments, `max_children`, all
//!   children stopped at once (R-DS-*); it handles hundreds of thousands of children.
//! * Names: [`Supervisor::name`] and [`DynamicSupervisor::name`] register the supervisor on
//!   its node, so a tree's inner supervisors are found with [`SupervisorRef::whereis`] and
//!   [`DynamicSupervisorRef::whereis`] (or from a pid), and found again after a restart.
//! * Child specs for every shape of child: a start function ([`ChildSpec::new`]), a process
//!   or server made afresh at each start ([`ChildSpec::process`], [`ChildSpec::server`]), a
//!   value moved in once, such as a socket ([`ChildSpec::process_once`], temporary), and a
//!   stand-in for processes started elsewhere ([`ChildSpec::stand_in`], which is how a
//!   registry, a `PubSub` or a `Presence` joins a tree).
//! * [`Restarts`]: await a restart instead of polling `which_children`.
//! * [`Backoff`]: an optional per-child exponential restart delay with jitter and a cap, during
//!   which the supervisor stays responsive (beyond OTP).
//! * [`SupervisionTree`]: the whole tree as data ([`SupervisorRef::tree`]).
//! * [`RestartWindow`]: the intensity rule on its own.
//! * [`Fuses`]: circuit breakers (the `fuse` library's model, R-FUSE-*): asking a fuse takes
//!   no process round trip.
//!
//! Reports (R-SUP-REPORT) are `tracing` events with target `beamish_supervisor` and a field
//! `report`: `child_terminated`, `start_error`, `shutdown_error`,
//! `reached_max_restart_intensity`. Each is also a telemetry event on the node
//! (`beamish.supervisor.child_terminated`, `start_error`, `shutdown_error`,
//! `intensity_reached`; see `beamish_telemetry::events::supervisor`), so a program observes
//! them by attaching a handler, with no `tracing` subscriber. `child_terminated` follows OTP
//! 25: every exit of a permanent child, only abnormal exits of the others.
//!
//! * [`Application`]: a top-level tree run from `main` until a shutdown request (SIGTERM,
//!   Ctrl-C), then stopped gracefully, with an exit status that says whether it was clean;
//!   [`Application::start`] gives the [`RunningApp`] and its top [`SupervisorRef`] first.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use beamish_process::{Ctx, Exit, Message, Node};
//! use beamish_supervisor::{ChildSpec, Strategy, Supervisor};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let node = Node::start_default()?;
//!
//! // A worker that crashes when told to.
//! let worker = ChildSpec::process("worker", |mut ctx: Ctx<&'static str>| async move {
//!     while let Message::Msg(m) = ctx.recv().await {
//!         if m == "crash" {
//!             return Err(Exit::error("told to crash"));
//!         }
//!     }
//!     Ok(())
//! });
//! let sup = Supervisor::new(Strategy::OneForOne)
//!     .intensity(3, Duration::from_secs(5))
//!     .child(worker)
//!     .start(&node)
//!     .await?;
//!
//! let first = sup.which_children().await?[0].status.pid().unwrap();
//! let mut restarts = sup.restarts().await?; // subscribe before the failure
//! let down = node.monitor(first);
//! node.send(first, "crash")?;
//! assert_eq!(down.await, Exit::error("told to crash"));
//!
//! // The supervisor restarts it: a new pid, one restart counted (awaited, not polled).
//! let restarted = restarts.of("worker").await.unwrap();
//! assert_eq!((restarted.old, restarted.restarts), (first, 1));
//! let child = sup.which_children().await?.remove(0);
//! assert_eq!(child.status.pid(), Some(restarted.new));
//!
//! // Stopped with the default reason, as OTP's `supervisor:stop/1`.
//! sup.stop(Exit::Normal).await?;
//! assert!(!node.is_alive(restarted.new));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! # Where this differs from OTP
//!
//! * The intensity window uses the monotonic clock at full resolution, not whole seconds.
//! * A start function is a Rust closure returning a future ([`StartFuture`]) that runs inside
//!   the supervisor and starts the child through a [`Linker`]; its error is an [`Exit`]
//!   reason. A panicking start function is a start error, as a crashing start is in OTP.
//! * Ids are strings. A dynamic supervisor's extra arguments are one value of a type `A`
//!   handed to every child's start function (see [`DynamicSupervisor`]).
//!
//! [`Exit`]: beamish_process::Exit
#![forbid(unsafe_code)]

mod application;
mod core;
mod dynamic;
mod emit;
mod error;
mod fuse;
mod info;
pub mod observe;
mod request;
mod restarts;
mod run_loop;
mod spec;
mod supervisor;
mod types;
mod window;

pub use application::{AppExit, Application, RunningApp};
pub use dynamic::{DynamicSupervisor, DynamicSupervisorRef};
pub use error::{
    DeleteChildError, RestartChildError, StartChildError, SupervisorStartError, TerminateChildError,
};
pub use fuse::{
    AlarmEvent, AlarmEvents, FuseError, FuseEvent, FuseEvents, FusePolicy, FuseState, Fuses,
    RunError,
};
pub use info::{ChildCounts, ChildInfo, ChildStatus, Flavor, SupervisionTree, TreeChild};
pub use restarts::{Restarted, Restarts};
pub use spec::{Backoff, ChildSpec, Linker, StartFuture, StartResult};
pub use supervisor::{Supervisor, SupervisorRef};
pub use types::{
    AutoShutdown, ChildKind, DEFAULT_INTENSITY, DEFAULT_PERIOD, DEFAULT_WORKER_SHUTDOWN, Restart,
    Shutdown, Started, Strategy,
};
pub use window::RestartWindow;
