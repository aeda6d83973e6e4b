//! Local names (Erlang's `register/2`, `whereis/1`, `unregister/1`): one name per process,
//! kept by the [`Node`] itself.
//!
//! These are thin functions over [`Node::register`], [`Node::whereis`], [`Node::unregister`]
//! and [`Node::send_named`], gathered here so that every way of naming a process is found in
//! one crate. A name is released before its owner's exit signals go out (R-LNK-2), so a
//! supervisor that sees the exit can register a restarted process under the same name at
//! once; sending to a free name fails (R-ORD-4).

use std::sync::Arc;

use beamish_process::{Node, Pid, RegisterError, SendError};

/// Registers `pid` under `name` (`register/2`); see [`Node::register`].
pub fn register(node: &Node, name: &str, pid: Pid) -> Result<(), RegisterError> {
    node.register(name, pid)
}

/// The pid registered under `name` (`whereis/1`).
pub fn whereis(node: &Node, name: &str) -> Option<Pid> {
    node.whereis(name)
}

/// Removes a name (`unregister/1`); returns whether it was registered.
pub fn unregister(node: &Node, name: &str) -> bool {
    node.unregister(name)
}

/// Every registered name (`registered/0`).
pub fn registered(node: &Node) -> Vec<(Arc<str>, Pid)> {
    node.registered()
}

/// Sends `msg` to the process registered as `name` (`Name ! Msg`); a free name is an error
/// ([`SendError::NotRegistered`], R-ORD-4).
pub fn send<M: Send + 'static>(node: &Node, name: &str, msg: M) -> Result<(), SendError<M>> {
    node.send_named(name, msg)
}
