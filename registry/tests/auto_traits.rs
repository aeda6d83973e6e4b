//! The public handles can be shared across threads and moved into processes.

use beamish_registry::pg::{GroupEvent, Scope};
use beamish_registry::{
    Builder, Event, JoinError, Keys, LeaveError, OwnerWatcher, RegisterError, Registry, ViaError,
};

fn send_sync<T: Send + Sync>() {}

/// Handles, events and errors are `Send + Sync` (for `Send + Sync` keys and values).
#[test]
fn public_types_are_send_and_sync() {
    send_sync::<Registry<String, u32>>();
    send_sync::<Builder<String, u32>>();
    send_sync::<Scope<String>>();
    send_sync::<Event<String, u32>>();
    send_sync::<GroupEvent<String>>();
    send_sync::<Keys>();
    send_sync::<RegisterError>();
    send_sync::<JoinError>();
    send_sync::<LeaveError>();
    send_sync::<ViaError>();
    send_sync::<OwnerWatcher>();
}
