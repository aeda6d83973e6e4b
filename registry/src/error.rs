//! This crate's errors, one enum per operation.

use std::fmt;

use beamish_process::Pid;

/// Why [`Registry::register`](crate::Registry::register) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegisterError {
    /// The unique key is taken by this live process, which may be the caller itself
    /// (`{:error, {:already_registered, pid}}`, R-REG-1).
    AlreadyRegistered(Pid),
}

impl fmt::Display for RegisterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegisterError::AlreadyRegistered(p) => write!(f, "key already registered by {p}"),
        }
    }
}

impl std::error::Error for RegisterError {}

/// Why [`Scope::join`](crate::pg::Scope::join) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JoinError {
    /// Only processes of the scope's own node may join (R-PG-1).
    NotLocal(Pid),
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::NotLocal(p) => write!(f, "{p} is not a local process"),
        }
    }
}

impl std::error::Error for JoinError {}

/// Why [`Scope::leave`](crate::pg::Scope::leave) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LeaveError {
    /// The process is not a member of the group (`not_joined`, R-PG-1).
    NotJoined,
}

impl fmt::Display for LeaveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LeaveError::NotJoined => f.write_str("not_joined: the process is not in the group"),
        }
    }
}

impl std::error::Error for LeaveError {}

/// Why [`Registry::server`](crate::Registry::server) found no server of the asked type under
/// a via name (R-REG-4).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ViaError {
    /// Nobody holds the key.
    NotRegistered,
    /// The key's owner has ended; its entry goes shortly (R-REG-2).
    NoProc(Pid),
    /// The key's owner is alive but is not a server of the asked type: a plain process, or a
    /// server of another type (where Elixir would send it a call it cannot answer).
    WrongType {
        /// The key's owner.
        pid: Pid,
        /// The server type asked for (`std::any::type_name`).
        expected: &'static str,
    },
}

impl fmt::Display for ViaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ViaError::NotRegistered => f.write_str("no process is registered under that key"),
            ViaError::NoProc(p) => write!(f, "the key's owner {p} has ended"),
            ViaError::WrongType { pid, expected } => {
                write!(
                    f,
                    "the key's owner {pid} is not a server of type {expected}"
                )
            }
        }
    }
}

impl std::error::Error for ViaError {}
