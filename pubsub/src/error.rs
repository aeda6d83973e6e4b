//! This crate's errors, one enum per operation.

use std::fmt;

use beamish_process::Pid;

/// Why [`Presence::track`](crate::Presence::track) refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrackError {
    /// `{:error, {:already_tracked, pid, topic, key}}` (R-PR-2).
    AlreadyTracked {
        /// The process.
        pid: Pid,
        /// The topic.
        topic: String,
        /// The key.
        key: String,
    },
}

impl fmt::Display for TrackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrackError::AlreadyTracked { pid, topic, key } => {
                write!(f, "{pid} is already tracked under {key:?} on {topic:?}")
            }
        }
    }
}

impl std::error::Error for TrackError {}

/// Why [`Presence::update`](crate::Presence::update) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UpdateError {
    /// The (pid, topic, key) is not tracked.
    NotTracked,
}

impl fmt::Display for UpdateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UpdateError::NotTracked => f.write_str("not tracked"),
        }
    }
}

impl std::error::Error for UpdateError {}
