//! Errors of this crate's operations, one enum per operation. Each gives back what was not
//! delivered.

use std::fmt;
use std::sync::Arc;

use crate::exit::{CallTimeout, Exit};
use crate::pid::Pid;

/// Why a spawn failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpawnError {
    /// The node's process limit is reached (`system_limit`, R-PROC-1). The node keeps running.
    SystemLimit {
        /// The configured limit.
        limit: usize,
    },
    /// The name asked for ([`SpawnBuilder::name`](crate::SpawnBuilder::name)) could not be
    /// registered; nothing was spawned.
    Name(RegisterError),
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpawnError::SystemLimit { limit } => {
                write!(f, "system_limit: the node already runs {limit} processes")
            }
            SpawnError::Name(e) => write!(f, "cannot register the new process: {e}"),
        }
    }
}

impl std::error::Error for SpawnError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SpawnError::Name(e) => Some(e),
            SpawnError::SystemLimit { .. } => None,
        }
    }
}

/// Why a message was not delivered. The message is given back.
#[derive(PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError<M> {
    /// No such process (it has ended, or never was). Erlang drops such a send silently
    /// (R-ORD-4); we say so, and the caller may ignore it.
    NoProc(M),
    /// The process has a bounded mailbox and it is full.
    Full(M),
    /// The process exists but does not accept this message type.
    WrongType(M),
    /// No process is registered under the name (R-ORD-4: sending to a free name fails).
    NotRegistered(M),
}

impl<M> SendError<M> {
    /// Takes back the message that was not delivered.
    pub fn into_inner(self) -> M {
        match self {
            SendError::NoProc(m)
            | SendError::Full(m)
            | SendError::WrongType(m)
            | SendError::NotRegistered(m) => m,
        }
    }
}

impl<M> fmt::Debug for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = match self {
            SendError::NoProc(_) => "NoProc",
            SendError::Full(_) => "Full",
            SendError::WrongType(_) => "WrongType",
            SendError::NotRegistered(_) => "NotRegistered",
        };
        write!(f, "{v}(..)")
    }
}

impl<M> fmt::Display for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SendError::NoProc(_) => "no such process",
            SendError::Full(_) => "mailbox is full",
            SendError::WrongType(_) => "the process does not take messages of this type",
            SendError::NotRegistered(_) => "no process is registered under that name",
        })
    }
}

impl<M> std::error::Error for SendError<M> {}

/// Why a link could not be made ([`Ctx::link`](crate::Ctx::link)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkError {
    /// The process does not exist (R-LNK-3): Erlang's `link/1` fails with `noproc` when the
    /// caller does not trap exits. (A caller that traps exits gets no error but the exit
    /// signal `noproc`, as a message.)
    NoProc(Pid),
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkError::NoProc(p) => write!(f, "cannot link to {p}: no such process (noproc)"),
        }
    }
}

impl std::error::Error for LinkError {}

/// Why a cast was not delivered ([`ServerRef::cast`](crate::ServerRef::cast)). The message is
/// given back.
///
/// A cast to a server that is gone is not an error (R-GS-5); only a bound that the server
/// was started with, and that is reached, is: OTP has no such bound, so it never says so.
#[derive(PartialEq, Eq)]
#[non_exhaustive]
pub enum CastError<M> {
    /// The server's mailbox is bounded ([`Capacity::Bounded`](crate::Capacity::Bounded)) and
    /// full: the cast was not queued.
    Full(M),
}

impl<M> CastError<M> {
    /// Takes back the message that was not delivered.
    pub fn into_inner(self) -> M {
        match self {
            CastError::Full(m) => m,
        }
    }
}

impl<M> fmt::Debug for CastError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CastError::Full(_) => f.write_str("Full(..)"),
        }
    }
}

impl<M> fmt::Display for CastError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CastError::Full(_) => f.write_str("the server's mailbox is full"),
        }
    }
}

impl<M> std::error::Error for CastError<M> {}

/// Why a `call` failed (R-GS-1..4). A caller that lets it end it (`?`) exits as in OTP:
/// [`Timeout`](CallError::Timeout) with [`Exit::CallTimeout`], [`Exit`](CallError::Exit) with
/// the server's reason, [`NoProc`](CallError::NoProc) with [`Exit::NoProc`], the others with
/// an [`Exit::Error`] holding this error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallError {
    /// No reply within the timeout (R-GS-2): what was called, and how long the caller waited.
    /// A reply that comes later is dropped.
    /// (Behind an `Arc`, to keep a call's result small.)
    Timeout(Arc<CallTimeout>),
    /// The server did not exist when called (R-GS-3).
    NoProc,
    /// The server ended before replying, with this reason (R-GS-3).
    Exit(Exit),
    /// A process called itself (R-GS-4): it would wait forever.
    CallingSelf,
    /// No process is registered under the name.
    NotRegistered,
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Timeout(t) => write!(f, "call timed out: {t}"),
            CallError::NoProc => f.write_str("call to a process that does not exist (noproc)"),
            CallError::Exit(r) => write!(f, "server exited during the call: {r}"),
            CallError::CallingSelf => f.write_str("a process called itself (calling_self)"),
            CallError::NotRegistered => f.write_str("no process is registered under that name"),
        }
    }
}

impl std::error::Error for CallError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CallError::Exit(r) => r.as_error(),
            _ => None,
        }
    }
}

/// Why starting a [`GenServer`](crate::GenServer) failed. A starter that lets it end it
/// (`?`) exits with the init's reason for [`Init`](StartError::Init) (as in OTP, where a
/// linked starter gets that reason as an exit signal too), else with an [`Exit::Error`]
/// holding this error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StartError {
    /// The process could not be spawned.
    Spawn(SpawnError),
    /// `init` returned an error or panicked; the server has exited with this reason.
    Init(Exit),
    /// The name is taken (`{error, {already_started, Pid}}`).
    AlreadyStarted(Pid),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Spawn(e) => write!(f, "could not spawn the server: {e}"),
            StartError::Init(r) => write!(f, "server init failed: {r}"),
            StartError::AlreadyStarted(p) => write!(f, "already started as {p}"),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartError::Spawn(e) => Some(e),
            StartError::Init(r) => r.as_error(),
            StartError::AlreadyStarted(_) => None,
        }
    }
}

impl From<SpawnError> for StartError {
    fn from(e: SpawnError) -> Self {
        StartError::Spawn(e)
    }
}

/// Why a name could not be registered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegisterError {
    /// The name is taken by this process.
    AlreadyRegistered(Pid),
    /// The process already has another name.
    HasName(Arc<str>),
    /// The process does not exist.
    NoProc,
}

impl fmt::Display for RegisterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegisterError::AlreadyRegistered(p) => write!(f, "name already registered by {p}"),
            RegisterError::HasName(n) => write!(f, "process is already registered as {n}"),
            RegisterError::NoProc => f.write_str("no such process"),
        }
    }
}

impl std::error::Error for RegisterError {}

/// Why a node could not start.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeError {
    /// `Node::start` was called outside a tokio runtime.
    NoRuntime,
    /// The operating system refused a worker thread of the node's scheduler; the message is
    /// its error.
    Workers(String),
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeError::NoRuntime => f.write_str(
                "a node must be started inside a tokio runtime (or use beamish_process::run)",
            ),
            NodeError::Workers(e) => write!(f, "could not start the node's worker threads: {e}"),
        }
    }
}

impl std::error::Error for NodeError {}
