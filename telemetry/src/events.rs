//! The names of the events beamish itself emits. The table in the crate docs lists each
//! one's measurements and metadata; a test keeps the two in sync.
//!
//! Durations are measured in nanoseconds, as span durations are. Pids are [`Value::Pid`],
//! exit reasons [`Value::Typed`] (a handler takes back the `Exit` with
//! [`Value::downcast_ref`], or formats it), other runtime values [`Value::Debug`] (formatted
//! only if a handler looks), names of kinds and outcomes [`Value::Str`].
//!
//! [`Value::Pid`]: crate::Value::Pid
//! [`Value::Typed`]: crate::Value::Typed
//! [`Value::downcast_ref`]: crate::Value::downcast_ref
//! [`Value::Debug`]: crate::Value::Debug
//! [`Value::Str`]: crate::Value::Str

/// Events about telemetry itself.
pub mod telemetry {
    use crate::EventName;

    /// A handler panicked and was detached. Metadata: `handler_id`, `event_name` (dotted),
    /// `reason` (the panic message).
    pub const HANDLER_FAILURE: EventName = EventName::new(&["telemetry", "handler", "failure"]);
}

/// Events of processes: life, signals, calls, mailboxes (`beamish-process`).
pub mod process {
    use crate::EventName;

    /// A process was spawned, emitted by the spawner before the new process first runs (so
    /// before any event of its own). Metadata: `pid`, `kind` (`"process"`, `"gen_server"`,
    /// `"task"`, `"supervisor"`, `"other"`), `parent` (the spawning process, only when it
    /// linked the new one as its parent).
    pub const SPAWNED: EventName = EventName::new(&["beamish", "process", "spawned"]);

    /// A process ended, emitted by it once it has left the process table and before its links
    /// and monitors are told (so before any `DOWN` or exit signal it causes is received).
    /// Measurement: `lifetime` (nanoseconds since it started, at millisecond resolution).
    /// Metadata: `pid`, `kind`, `reason` (its exit reason).
    pub const EXITED: EventName = EventName::new(&["beamish", "process", "exited"]);

    /// A process handled an exit signal (from a link or from `exit/2`), emitted by the
    /// receiver as it applies the receive rules (R-EXIT-1). Metadata: `from`, `to`, `reason`,
    /// `link` (whether it came over a link), `outcome`: `"killed"` (the receiver dies of it),
    /// `"trapped"` (it became an `'EXIT'` message) or `"ignored"`.
    pub const EXIT_SIGNAL: EventName = EventName::new(&["beamish", "process", "exit_signal"]);

    /// A monitor fired, emitted by the monitored process as it sends the `DOWN` (so before the
    /// watcher receives it), or by the monitoring process at once for a target that does not
    /// exist (R-MON-2). Metadata: `watcher` (the monitoring process; the node's pid for a
    /// monitor that reports to a future rather than to a mailbox: `Node::monitor`, a caller
    /// waiting on a server that dropped its reply handle), `watched`, `reason`.
    pub const DOWN: EventName = EventName::new(&["beamish", "process", "down"]);

    /// A `GenServer` call timed out (R-GS-2), emitted by the caller. Measurements: `timeout`
    /// (the call's timeout, ns). Metadata: `caller` (the calling process; the node's pid from
    /// outside any process), `server`.
    pub const CALL_TIMEOUT: EventName = EventName::new(&["beamish", "process", "call_timeout"]);

    /// A message made a mailbox exactly as long as the node's alert threshold
    /// (`NodeConfig::mailbox_alert`), emitted by the sender: once per upward crossing, not for
    /// every message above it. Measurements: `length` (queued data messages). Metadata: `pid`
    /// (the receiver), `threshold`.
    pub const MAILBOX_LONG: EventName = EventName::new(&["beamish", "process", "mailbox_long"]);

    /// A process's poll held its worker thread for a long time (the BEAM's `long_schedule`
    /// system monitor): on beamish's workers, a poll the scheduler's monitor found still
    /// running after 2 ms, emitted by the process's worker right after the poll.
    /// Measurements: `duration` (ns; at least this long, and at most about a millisecond
    /// longer). Metadata: `pid`.
    pub const LONG_POLL: EventName = EventName::new(&["beamish", "process", "long_poll"]);

    /// A process was killed because a send passed its mailbox's kill limit
    /// (`Capacity::KillAbove`, like `max_heap_size` with `kill`), emitted by the process as it
    /// dies, before its links and monitors hear `killed`. Measurements: `length` (queued data
    /// messages). Metadata: `pid`, `limit`.
    pub const MAILBOX_KILLED: EventName = EventName::new(&["beamish", "process", "mailbox_killed"]);
}

/// Events of supervisors, static and dynamic (`beamish-supervisor`). All are emitted by the
/// supervisor process; `child_id` is the child spec's id.
pub mod supervisor {
    use crate::EventName;

    /// A child was started (at the supervisor's start, by `start_child`, or as a restart).
    /// Metadata: `supervisor`, `child_id`, `child_pid`.
    pub const CHILD_STARTED: EventName =
        EventName::new(&["beamish", "supervisor", "child_started"]);

    /// A child ended on its own (not stopped by its supervisor), as the supervisor learns of
    /// it. Metadata: `supervisor`, `child_id`, `child_pid`, `reason`, `restart` (whether the
    /// child's restart type restarts it after this reason, R-SUP-RT).
    pub const CHILD_EXITED: EventName = EventName::new(&["beamish", "supervisor", "child_exited"]);

    /// A child's exit that OTP reports as `child_terminated` (R-SUP-REPORT, checked on OTP
    /// 25.2.3): every exit of a permanent child (it is restarted, so even `normal` counts),
    /// and only the abnormal exits (not `normal`, `shutdown`, `{shutdown, _}`) of transient
    /// and temporary children. Emitted right after `child_exited`. Metadata: `supervisor`,
    /// `child_id`, `child_pid`, `reason`, `restart_type` (`"permanent"`, `"transient"`,
    /// `"temporary"`).
    pub const CHILD_TERMINATED: EventName =
        EventName::new(&["beamish", "supervisor", "child_terminated"]);

    /// A child's start function failed, at the supervisor's start or in a restart
    /// (R-SUP-REPORT's `start_error`; a failed restart is retried, R-SUP-RETRY). Metadata:
    /// `supervisor`, `child_id`, `reason`.
    pub const START_ERROR: EventName = EventName::new(&["beamish", "supervisor", "start_error"]);

    /// A child was restarted after it ended. Measurements: `restarts` (the child's restarts so
    /// far, this one included). Metadata: `supervisor`, `child_id`, `child_pid` (the new
    /// process).
    pub const CHILD_RESTARTED: EventName =
        EventName::new(&["beamish", "supervisor", "child_restarted"]);

    /// A child's restart waits out a backoff. Measurements: `delay` (ns), `attempt` (the
    /// consecutive backoff attempt, from 1). Metadata: `supervisor`, `child_id`.
    pub const BACKOFF_SCHEDULED: EventName =
        EventName::new(&["beamish", "supervisor", "backoff_scheduled"]);

    /// A restart would exceed the restart intensity: the supervisor gives up, stops its
    /// children and exits with `shutdown` (R-SUP-INT). Measurements: `restarts` (restarts in
    /// the window, the refused one included), `intensity`, `period` (ns). Metadata:
    /// `supervisor`, `child_id` (the child whose restart was refused).
    pub const INTENSITY_REACHED: EventName =
        EventName::new(&["beamish", "supervisor", "intensity_reached"]);

    /// A child did not stop as asked: killed after its shutdown timeout, or ended with an
    /// unexpected reason (R-SUP-REPORT's `shutdown_error`). Metadata: `supervisor`,
    /// `child_id` (`"undefined"` for a dynamic supervisor's child, R-DS-1), `child_pid`,
    /// `reason`.
    pub const SHUTDOWN_ERROR: EventName =
        EventName::new(&["beamish", "supervisor", "shutdown_error"]);
}

/// Events of registries (`beamish-registry`).
pub mod registry {
    use crate::EventName;

    /// A process registered a key. Measurements: `partition_size` (entries in the key's
    /// partition after the change), `partitions` (so `partition_size * partitions` estimates
    /// the registry's size without visiting every partition). Metadata: `pid`, `keys`
    /// (`"unique"`, `"duplicate"`, `"duplicate_by_key"`).
    pub const REGISTERED: EventName = EventName::new(&["beamish", "registry", "registered"]);

    /// A process unregistered entries of a key (explicitly, as R-REG-7's listeners hear;
    /// entries of an ended owner go silently). Measurements: `removed` (entries removed),
    /// `partition_size`, `partitions`. Metadata: `pid`, `keys`.
    pub const UNREGISTERED: EventName = EventName::new(&["beamish", "registry", "unregistered"]);
}

/// Events of publish/subscribe hubs (`beamish-pubsub`).
pub mod pubsub {
    use crate::EventName;

    /// A process subscribed to a topic. Measurements: `subscribers` (the topic's
    /// subscriptions after the change). Metadata: `topic`, `pid`.
    pub const SUBSCRIBED: EventName = EventName::new(&["beamish", "pubsub", "subscribed"]);

    /// A process unsubscribed from a topic. Measurements: `subscribers` (after the change).
    /// Metadata: `topic`, `pid`.
    pub const UNSUBSCRIBED: EventName = EventName::new(&["beamish", "pubsub", "unsubscribed"]);

    /// A message was broadcast, emitted by the publisher after delivering it. Measurements:
    /// `recipients` (deliveries made). Metadata: `topic`, `from` (the excluded sender, only for
    /// `broadcast_from`).
    pub const BROADCAST: EventName = EventName::new(&["beamish", "pubsub", "broadcast"]);
}

/// The built-in events worth a line in an observer's log ([`EventLog`](crate::EventLog)):
/// lifecycle changes and trouble, not the per-message or per-process stream (`spawned`,
/// `exited`, `down`, `exit_signal`, sizes), which would drown them on a busy node.
pub static NOTABLE: &[crate::EventName] = &[
    supervisor::CHILD_RESTARTED,
    supervisor::CHILD_EXITED,
    supervisor::BACKOFF_SCHEDULED,
    supervisor::INTENSITY_REACHED,
    supervisor::SHUTDOWN_ERROR,
    supervisor::START_ERROR,
    process::CALL_TIMEOUT,
    process::MAILBOX_LONG,
    process::LONG_POLL,
    process::MAILBOX_KILLED,
    telemetry::HANDLER_FAILURE,
];
