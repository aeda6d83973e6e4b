//! Names for [beamish](https://example.invalid/beamish) processes: local names, Elixir-style
//! registries (with "via" names) and process groups, on one node.
//!
//! * [`local`]: Erlang's `register`/`whereis`/`unregister`, one name per process, released
//!   before the owner's exit signals go out (R-LNK-2).
//! * [`Registry`]: Elixir's `Registry`. Unique or duplicate keys, a value per entry, lookup,
//!   match, count, dispatch, metadata, listeners, partitions, and automatic removal of a
//!   process's entries when it ends (R-REG-1..7).
//! * via names: a [`GenServer`](beamish_process::GenServer) started under a key of a unique
//!   registry ([`Registry::start_via`]), or one that registered itself, called, cast to and
//!   sent to by that key ([`Registry::call`], [`Registry::cast`], [`Registry::send`]); an
//!   owner of another type is a typed error ([`ViaError`]) (R-REG-4).
//! * [`OwnerWatcher`]: the process that removes an ended owner's entries, shared by registry
//!   partitions, pg scopes and `beamish-pubsub`'s Presence (R-REG-2).
//! * In a supervision tree: [`Registry::child_spec`] puts the registry's processes in the
//!   tree, and [`Registry::via_spec`] is a server child named by a key, registered again at
//!   every restart ([`Registry::child_spec`] says how this differs from Elixir, where the
//!   tables die with the registry process).
//! * [`pg`]: Erlang's process groups: scopes, groups joined several times, group and scope
//!   monitors (R-PG-1..4).
//!
//! Non-goals for now: anything across nodes. The `dist` crate will spread registries and
//! groups across a cluster; their state is kept as plain maps of keys to pids so that it can.
//!
//! # How entries go away
//!
//! A registry partition (and a pg scope) has a small watcher process. The first time a
//! process takes an entry in a partition, the partition asks its watcher to monitor it; when
//! the process ends, the watcher's `DOWN` removes its entries. So removal is asynchronous
//! (R-REG-2), as in Elixir: a lookup may briefly return a pid that has just ended. A unique key
//! whose owner has ended can be registered again at once all the same (the registry checks
//! that the old owner is dead).
//!
//! # Example
//! ```
//! use beamish_process::{Caller, Ctx, Exit, GenServer, Message, Node, Reply, ServerCtx, StartError};
//! use beamish_registry::{Keys, Registry, RegisterError};
//!
//! struct Room(Vec<String>);
//!
//! impl GenServer for Room {
//!     type Call = String; // post a line, get the number of lines
//!     type Reply = usize;
//!     type Cast = ();
//!     type Info = ();
//!     async fn handle_call(&mut self, line: String, _: Caller<'_, usize>, _: &mut ServerCtx<Self>)
//!         -> Result<Reply<usize>, Exit> {
//!         self.0.push(line);
//!         Ok(Reply::Now(self.0.len()))
//!     }
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let node = Node::start_default()?;
//!
//! // A process per chat room, found by the room's name (a "via" name).
//! let rooms: Registry<String, ()> = Registry::start(&node, Keys::Unique)?;
//! let lobby = rooms.start_via("lobby".to_string(), (), Room(Vec::new())).await?;
//! assert_eq!(rooms.call::<Room>(&"lobby".to_string(), "hello".into()).await?, 1);
//! assert!(matches!(
//!     rooms.start_via("lobby".to_string(), (), Room(Vec::new())).await,
//!     Err(StartError::AlreadyStarted(pid)) if pid == lobby.pid()
//! ));
//!
//! // A process registers itself; the key is taken until it unregisters or ends.
//! let (tx, rx) = tokio::sync::oneshot::channel();
//! let r = rooms.clone();
//! let owner = node.spawn(move |mut ctx: Ctx<()>| async move {
//!     r.register(&ctx, "attic".to_string(), ()).unwrap();
//!     let again = r.register(&ctx, "attic".to_string(), ());
//!     let _ = tx.send(again == Err(RegisterError::AlreadyRegistered(ctx.pid())));
//!     ctx.recv().await; // wait until told to stop
//! })?;
//! assert!(rx.await?);
//! assert_eq!(rooms.lookup(&"attic".to_string()), vec![(owner.pid(), ())]);
//! let down = node.monitor(owner.pid());
//! owner.send(())?;
//! assert_eq!(down.await, Exit::Normal);
//! rooms.sync().await; // the registry has seen the end: the entry is gone (R-REG-2)
//! assert!(rooms.lookup(&"attic".to_string()).is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
#![forbid(unsafe_code)]

mod child;
mod error;
pub mod local;
pub mod pg;
mod registry;
mod table;
mod via;
mod watch;

pub use error::{JoinError, LeaveError, RegisterError, ViaError};
pub use registry::{Builder, Entry, Event, Keys, Registry};
pub use watch::OwnerWatcher;
