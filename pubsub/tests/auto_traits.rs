//! The public handles can be shared across threads and moved into processes.

use beamish_pubsub::crdt::{Changes, Store};
use beamish_pubsub::{Diff, Presence, PubSub, Subscription, TrackError, UpdateError};

fn send_sync<T: Send + Sync>() {}

/// Handles, diffs, CRDT states and errors are `Send + Sync`.
#[test]
fn public_types_are_send_and_sync() {
    send_sync::<PubSub<String>>();
    send_sync::<Subscription<String>>();
    send_sync::<Presence<String>>();
    send_sync::<Diff<String>>();
    send_sync::<Store<String>>();
    send_sync::<Changes<String>>();
    send_sync::<TrackError>();
    send_sync::<UpdateError>();
}
