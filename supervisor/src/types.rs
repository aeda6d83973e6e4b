//! The small value types every other module names: how a child is restarted and stopped,
//! what it is, what its start achieved, and a supervisor's strategy and defaults. They live in
//! this leaf module, which uses no other module of the crate, so that specs, requests,
//! introspection, telemetry and both supervisor flavours can all use them without a cycle
//! between those modules.

use std::time::Duration;

use beamish_process::Pid;

/// The default restart intensity (Elixir's `max_restarts`: 3).
pub const DEFAULT_INTENSITY: u32 = 3;
/// The default restart period (Elixir's `max_seconds`: 5 s).
pub const DEFAULT_PERIOD: Duration = Duration::from_secs(5);

/// Which children a failure takes down and restarts (R-SUP-STRAT). Terminations go in
/// reverse start order, restarts in start order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Strategy {
    /// Only the child that terminated is restarted. The default.
    #[default]
    OneForOne,
    /// All the other children are terminated, then all are restarted.
    OneForAll,
    /// The children started after the one that terminated are terminated, then it and they
    /// are restarted.
    RestForOne,
}

/// When the supervisor itself stops because significant children ended (R-SUP-AUTO).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AutoShutdown {
    /// Never (the default); significant children are then not allowed.
    #[default]
    Never,
    /// When any significant child ends and is not restarted.
    AnySignificant,
    /// When the last running significant child ends and is not restarted.
    AllSignificant,
}

/// The default shutdown time of a worker (OTP: 5000 ms).
pub const DEFAULT_WORKER_SHUTDOWN: Duration = Duration::from_millis(5000);

/// When a terminated child is restarted (R-SUP-RT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Restart {
    /// Always restarted, even after a `normal` exit. The default.
    #[default]
    Permanent,
    /// Restarted only after an abnormal exit: never after `normal`, `shutdown` or
    /// `{shutdown, _}` (R-EXIT-3).
    Transient,
    /// Never restarted, not even when a sibling's failure takes it down; its spec is removed
    /// once it terminates.
    Temporary,
}

/// How a child is stopped (R-SUP-SHUT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shutdown {
    /// An untrappable `kill` at once.
    BrutalKill,
    /// A `shutdown` exit signal, then a `kill` if the child has not ended after this long.
    Timeout(Duration),
    /// A `shutdown` exit signal, and as long a wait as it takes (the default for supervisors).
    Infinity,
}

/// What a child is: a worker, or a supervisor (which gets `Infinity` as its default shutdown
/// and is walked by [`tree`](crate::SupervisorRef::tree)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ChildKind {
    /// Any process that is not a supervisor. The default.
    #[default]
    Worker,
    /// A supervisor.
    Supervisor,
}

/// What a child's start function achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Started {
    /// The child runs, linked to the supervisor, as this pid.
    Running(Pid),
    /// The child chose not to run (OTP's `ignore`). A static supervisor keeps the spec (unless
    /// temporary) with no pid; a dynamic supervisor forgets it.
    Ignore,
}

impl Started {
    /// The pid, if the child runs.
    pub fn pid(&self) -> Option<Pid> {
        match self {
            Started::Running(p) => Some(*p),
            Started::Ignore => None,
        }
    }
}

impl From<Pid> for Started {
    fn from(pid: Pid) -> Started {
        Started::Running(pid)
    }
}
