//! Publish/subscribe for [beamish](https://example.invalid/beamish) processes, and Presence,
//! on one node: Phoenix.PubSub and Phoenix.Presence.
//!
//! * [`PubSub`]: topics. `subscribe` (twice means two deliveries), `unsubscribe` (removes
//!   all), `broadcast` (the sender included), `broadcast_from` (the sender left out),
//!   `local_broadcast`, a custom dispatcher per broadcast. Subscribers that end are removed
//!   (R-PS-1..3). Built on a duplicate [`Registry`](beamish_registry::Registry).
//! * Fan-out shares the message: one `Arc` per broadcast, a clone of it per subscriber, no
//!   lock held while sending. One publisher's messages reach each subscriber in order
//!   (R-PS-3).
//! * [`Presence`]: track processes under keys on topics with metadata; `list`; joins and
//!   leaves announced as [`Diff`]s; a tracked process that ends leaves (R-PR-2, R-PR-3). The
//!   state is a delta CRDT, an add-wins observed-remove set ([`crdt`], R-PR-1), so that
//!   replicas on several nodes converge once the `dist` crate carries their deltas.
//! * In a supervision tree: [`PubSub::child_spec`] and [`Presence::child_spec`] stand for
//!   the handle's processes; the state stays with the handle.
//!
//! # Example
//! ```
//! use std::sync::Arc;
//! use beamish_process::{Ctx, Message, Node};
//! use beamish_pubsub::PubSub;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let node = Node::start_default()?;
//! let hub: PubSub<String> = PubSub::start(&node)?;
//!
//! // A subscriber that reports the first message it gets.
//! let (ready_tx, ready) = tokio::sync::oneshot::channel();
//! let (got_tx, got) = tokio::sync::oneshot::channel();
//! let h = hub.clone();
//! node.spawn(move |mut ctx: Ctx<Arc<String>>| async move {
//!     h.subscribe(&ctx, "room:lobby");
//!     let _ = ready_tx.send(());
//!     if let Message::Msg(m) = ctx.recv().await {
//!         let _ = got_tx.send(m);
//!     }
//! })?;
//! ready.await?;
//!
//! assert_eq!(hub.broadcast("room:lobby", "hello".to_string()), 1);
//! assert_eq!(*got.await?, "hello");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
#![forbid(unsafe_code)]

mod child;
pub mod crdt;
mod error;
mod presence;
mod topics;

pub use beamish_registry::Entry;
pub use error::{TrackError, UpdateError};
pub use presence::{Diff, Meta, Presence, Presences};
pub use topics::{PubSub, Subscription};
