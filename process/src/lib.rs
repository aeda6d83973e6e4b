//! Processes for [beamish](https://example.invalid/beamish): Erlang/OTP's process model on
//! tokio.
//!
//! A process is a task of the node's scheduler (beamish's own worker threads on a multi-thread
//! tokio runtime, or the runtime's one thread; see [`Executor`]) with a
//! [mailbox](beamish_mailbox), an identity ([`Pid`]), links
//! and monitors. It ends with an [`Exit`] reason, which travels to linked processes as an exit
//! signal and to monitoring processes as a `DOWN` message, by the rules of Erlang/OTP
//! (R-LNK-*, R-EXIT-*, R-MON-*). A panic ends only the process that panicked.
//!
//! On top of plain processes, [`GenServer`] is OTP's `gen_server`: state, calls with
//! timeouts, casts and infos; [`Task`] and [`async_stream`] are Elixir's `Task`: one
//! computation, or one per element of a stream, each in its own process (R-TASK-*).
//!
//! # Example
//! ```
//! use beamish_process::{Caller, Exit, GenServer, Message, Node, Reply, ServerCtx};
//!
//! #[derive(Default)]
//! struct Counter(u64);
//!
//! impl GenServer for Counter {
//!     type Call = ();
//!     type Reply = u64;
//!     type Cast = u64;
//!     type Info = ();
//!     async fn handle_call(&mut self, _: (), _: Caller<'_, u64>, _: &mut ServerCtx<Self>)
//!         -> Result<Reply<u64>, Exit> {
//!         Ok(Reply::Now(self.0))
//!     }
//!     async fn handle_cast(&mut self, n: u64, _: &mut ServerCtx<Self>) -> Result<(), Exit> {
//!         self.0 += n;
//!         Ok(())
//!     }
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let node = Node::start_default()?;
//! let counter = node.start(Counter::default()).await?;
//! counter.cast(2)?;
//! assert_eq!(counter.call(()).await?, 2);
//!
//! // A plain process that crashes; a monitor sees why, and nothing else is disturbed.
//! // (`node.build()` is the spawn builder: link, monitor, name, capacity, kind, trap_exit.)
//! let crasher = node.build().spawn(|mut ctx: beamish_process::Ctx<&'static str>| async move {
//!     if let Message::Msg(m) = ctx.recv().await {
//!         panic!("{m}");
//!     }
//! })?;
//! let down = node.monitor(crasher.pid());
//! crasher.send("boom").unwrap();
//! assert_eq!(down.await, Exit::Panic("boom".into()));
//! assert_eq!(counter.call(()).await?, 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
// Unsafe code is denied everywhere but where it is allowed by name, each use with its
// `SAFETY` note: pinning a scheduled process's future inside its task (`sched/task.rs`, the
// `unsafe fn pinned` and its three call sites), which saves an allocation per spawn, and
// reading the time-stamp counter (`clock.rs`).
#![deny(unsafe_code)]

mod addr;
mod cell;
mod clock;
mod ctx;
mod deadlines;
mod emit;
mod error;
mod exit;
mod info;
mod node;
mod pid;
mod process;
mod sched;
mod scope;
mod server;
mod signal;
mod spawn;
mod table;
mod task;
mod term;
mod timer;

pub use addr::Addr;
pub use beamish_mailbox::Capacity;
pub use cell::{Kind, Status};
pub use ctx::Ctx;
pub use error::{
    CallError, CastError, LinkError, NodeError, RegisterError, SendError, SpawnError, StartError,
};
pub use exit::{CallTimeout, Exit, IntoExit, WireError};
pub use info::{HandledCounts, NodeRates, NodeTotals, ProcessInfo};
pub use node::{DEFAULT_PROCESS_LIMIT, Executor, Node, NodeConfig};
pub use pid::{NodeId, Pid, Ref};
pub use process::{SpawnOpts, current_pid};
pub use sched::{REDUCTIONS, block_in_place, consume_reductions};
pub use scope::ScopeError;
pub use server::{
    Caller, DEFAULT_CALL_TIMEOUT, Dest, GenServer, Reply, ReplyTo, ServerCtx, ServerMsg, ServerRef,
};
pub use signal::{DownMsg, ExitMsg, Message, Monitored};
pub use spawn::{FromNode, FromProcess, NoMonitor, SpawnBuilder, WithMonitor};
pub use task::{
    AsyncStream, DEFAULT_TASK_TIMEOUT, KeepInput, NoInput, OnTimeout, Task, TaskCtx, TaskError,
    ZipInput, async_stream, async_stream_from,
};
pub use term::{Term, WireTerm};
pub use timer::{Timeout, TimerRef};
