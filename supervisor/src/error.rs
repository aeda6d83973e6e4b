//! This crate's errors, one enum per operation.

use std::fmt;
use std::sync::Arc;

use beamish_process::{CallError, Exit, Pid, SpawnError, Term};

/// Why a supervisor could not start (R-SUP-START).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SupervisorStartError {
    /// The supervisor process could not be spawned.
    Spawn(SpawnError),
    /// A child failed to start (`{shutdown, {failed_to_start_child, Id, Reason}}`); the
    /// children already started were stopped in reverse order and the supervisor exited.
    FailedToStartChild {
        /// The child's id.
        id: Arc<str>,
        /// Why its start failed.
        reason: Exit,
    },
    /// Two children have this id.
    DuplicateChildId(Arc<str>),
    /// A child spec is invalid (for example a permanent significant child).
    InvalidChildSpec {
        /// The child's id.
        id: Arc<str>,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The supervisor's name is taken by this process (`{already_started, Pid}`); the new
    /// supervisor exited `normal` without starting any child.
    AlreadyStarted(Pid),
    /// The supervisor ended before it answered, with this reason.
    Exit(Exit),
}

impl fmt::Display for SupervisorStartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SupervisorStartError::Spawn(e) => write!(f, "could not spawn the supervisor: {e}"),
            SupervisorStartError::FailedToStartChild { id, reason } => {
                write!(f, "failed_to_start_child {id}: {reason}")
            }
            SupervisorStartError::DuplicateChildId(id) => write!(f, "duplicate child id {id}"),
            SupervisorStartError::InvalidChildSpec { id, why } => {
                write!(f, "invalid child spec {id}: {why}")
            }
            SupervisorStartError::AlreadyStarted(p) => write!(f, "already started as {p}"),
            SupervisorStartError::Exit(r) => write!(f, "supervisor exited during start: {r}"),
        }
    }
}

impl std::error::Error for SupervisorStartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SupervisorStartError::Spawn(e) => Some(e),
            SupervisorStartError::FailedToStartChild { reason, .. }
            | SupervisorStartError::Exit(reason) => reason.as_error(),
            _ => None,
        }
    }
}

impl From<SpawnError> for SupervisorStartError {
    fn from(e: SpawnError) -> Self {
        SupervisorStartError::Spawn(e)
    }
}

impl SupervisorStartError {
    /// The reason the supervisor exits with after this failure: for a child that failed to
    /// start, `{shutdown, {failed_to_start_child, Id, Reason}}` (not an error to its own
    /// parent's restart logic, as in OTP), an [`Exit::ShutdownWith`] whose detail is this
    /// error itself, so `reason.downcast_ref::<SupervisorStartError>()` gives it back; the
    /// reason it ended with for [`Exit`](SupervisorStartError::Exit); else an
    /// [`Exit::Error`] holding this error.
    ///
    /// (`?` on this error in a process body gives an [`Exit::Error`] holding it; a starter
    /// linked to the supervisor that does not trap exits has been ended by the supervisor's
    /// exit signal, with this reason, by then.)
    pub fn exit_reason(&self) -> Exit {
        match self {
            SupervisorStartError::FailedToStartChild { .. } => {
                Exit::ShutdownWith(Term::error(self.clone()))
            }
            SupervisorStartError::Exit(r) => r.clone(),
            SupervisorStartError::AlreadyStarted(_) => Exit::Normal,
            other => Exit::Error(Term::error(other.clone())),
        }
    }
}

/// Why `start_child` failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StartChildError {
    /// A child with this id is running (`{already_started, Pid}`).
    AlreadyStarted(Pid),
    /// A child spec with this id exists and is not running (`already_present`).
    AlreadyPresent,
    /// The spec is invalid.
    InvalidChildSpec(&'static str),
    /// The dynamic supervisor already has `max_children` children (R-DS-2); nothing was
    /// spawned.
    MaxChildren,
    /// The start function failed with this reason; the spec was not kept.
    Failed(Exit),
    /// The supervisor could not be reached.
    Supervisor(CallError),
}

/// Why `terminate_child` failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TerminateChildError {
    /// No such child (R-DS-3: `{error, not_found}`).
    NotFound,
    /// The supervisor could not be reached.
    Supervisor(CallError),
}

/// Why `restart_child` failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RestartChildError {
    /// No such child.
    NotFound,
    /// The child is running.
    Running(Pid),
    /// The child is waiting for a restart already.
    Restarting,
    /// The start function failed with this reason; the spec is kept.
    Failed(Exit),
    /// The supervisor could not be reached.
    Supervisor(CallError),
}

/// Why `delete_child` failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeleteChildError {
    /// No such child.
    NotFound,
    /// The child is running: terminate it first.
    Running(Pid),
    /// The child is waiting for a restart: terminate it first.
    Restarting,
    /// The supervisor could not be reached.
    Supervisor(CallError),
}

macro_rules! display {
    ($t:ty { $($pat:pat => $($fmt:expr),+;)* }) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $($pat => write!(f, $($fmt),+),)*
                }
            }
        }
        impl std::error::Error for $t {}
        impl From<CallError> for $t {
            fn from(e: CallError) -> Self {
                <$t>::Supervisor(e)
            }
        }
    };
}

display!(StartChildError {
    StartChildError::AlreadyStarted(p) => "child already started as {}", p;
    StartChildError::AlreadyPresent => "{}", "child spec already present";
    StartChildError::InvalidChildSpec(why) => "invalid child spec: {}", why;
    StartChildError::MaxChildren => "{}", "max_children reached";
    StartChildError::Failed(r) => "child failed to start: {}", r;
    StartChildError::Supervisor(e) => "supervisor unavailable: {}", e;
});

display!(TerminateChildError {
    TerminateChildError::NotFound => "{}", "no such child (not_found)";
    TerminateChildError::Supervisor(e) => "supervisor unavailable: {}", e;
});

display!(RestartChildError {
    RestartChildError::NotFound => "{}", "no such child (not_found)";
    RestartChildError::Running(p) => "child is running as {}", p;
    RestartChildError::Restarting => "{}", "child is restarting";
    RestartChildError::Failed(r) => "child failed to start: {}", r;
    RestartChildError::Supervisor(e) => "supervisor unavailable: {}", e;
});

display!(DeleteChildError {
    DeleteChildError::NotFound => "{}", "no such child (not_found)";
    DeleteChildError::Running(p) => "child is running as {}", p;
    DeleteChildError::Restarting => "{}", "child is restarting";
    DeleteChildError::Supervisor(e) => "supervisor unavailable: {}", e;
});
