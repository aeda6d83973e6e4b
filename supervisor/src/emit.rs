//! The events supervisors emit (see `beamish_telemetry::events::supervisor`), all from the
//! supervisor process. Each checks the node's handler mask first: with no handler attached an
//! event costs one atomic load.

use std::time::Duration;

use beamish_process::{Exit, Node, Pid};
use beamish_telemetry::Value;
use beamish_telemetry::events::supervisor::{
    BACKOFF_SCHEDULED, CHILD_EXITED, CHILD_RESTARTED, CHILD_STARTED, CHILD_TERMINATED,
    INTENSITY_REACHED, SHUTDOWN_ERROR, START_ERROR,
};

use crate::types::Restart;

pub(crate) fn child_started(node: &Node, sup: Pid, id: &str, pid: Pid) {
    node.telemetry().emit(
        &CHILD_STARTED,
        &[],
        &[
            ("supervisor", sup.into()),
            ("child_id", Value::Str(id)),
            ("child_pid", pid.into()),
        ],
    );
}

pub(crate) fn child_exited(
    node: &Node,
    sup: Pid,
    id: &str,
    pid: Pid,
    reason: &Exit,
    restart: bool,
) {
    node.telemetry().emit(
        &CHILD_EXITED,
        &[],
        &[
            ("supervisor", sup.into()),
            ("child_id", Value::Str(id)),
            ("child_pid", pid.into()),
            ("reason", Value::Typed(reason)),
            ("restart", Value::Bool(restart)),
        ],
    );
}

pub(crate) fn child_restarted(node: &Node, sup: Pid, id: &str, pid: Pid, restarts: u64) {
    node.telemetry().emit(
        &CHILD_RESTARTED,
        &[("restarts", restarts.into())],
        &[
            ("supervisor", sup.into()),
            ("child_id", Value::Str(id)),
            ("child_pid", pid.into()),
        ],
    );
}

pub(crate) fn backoff_scheduled(node: &Node, sup: Pid, id: &str, delay: Duration, attempt: u32) {
    node.telemetry().emit(
        &BACKOFF_SCHEDULED,
        &[("delay", delay.into()), ("attempt", attempt.into())],
        &[("supervisor", sup.into()), ("child_id", Value::Str(id))],
    );
}

/// The restart that trips the intensity is the (intensity + 1)-th in the window (R-SUP-INT).
pub(crate) fn intensity_reached(node: &Node, sup: Pid, id: &str, intensity: u32, period: Duration) {
    node.telemetry().emit(
        &INTENSITY_REACHED,
        &[
            ("restarts", (u64::from(intensity) + 1).into()),
            ("intensity", intensity.into()),
            ("period", period.into()),
        ],
        &[("supervisor", sup.into()), ("child_id", Value::Str(id))],
    );
}

pub(crate) fn shutdown_error(node: &Node, sup: Pid, id: Option<&str>, pid: Pid, reason: &Exit) {
    node.telemetry().emit(
        &SHUTDOWN_ERROR,
        &[],
        &[
            ("supervisor", sup.into()),
            ("child_id", Value::Str(id.unwrap_or("undefined"))),
            ("child_pid", pid.into()),
            ("reason", Value::Typed(reason)),
        ],
    );
}

/// Only for the exits OTP reports (`report::is_reported`, R-SUP-REPORT).
pub(crate) fn child_terminated(
    node: &Node,
    sup: Pid,
    id: &str,
    pid: Pid,
    reason: &Exit,
    restart: Restart,
) {
    node.telemetry().emit(
        &CHILD_TERMINATED,
        &[],
        &[
            ("supervisor", sup.into()),
            ("child_id", Value::Str(id)),
            ("child_pid", pid.into()),
            ("reason", Value::Typed(reason)),
            ("restart_type", Value::Str(restart_name(restart))),
        ],
    );
}

pub(crate) fn start_error(node: &Node, sup: Pid, id: &str, reason: &Exit) {
    node.telemetry().emit(
        &START_ERROR,
        &[],
        &[
            ("supervisor", sup.into()),
            ("child_id", Value::Str(id)),
            ("reason", Value::Typed(reason)),
        ],
    );
}

fn restart_name(restart: Restart) -> &'static str {
    match restart {
        Restart::Permanent => "permanent",
        Restart::Transient => "transient",
        Restart::Temporary => "temporary",
    }
}
