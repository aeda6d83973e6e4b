//! Exit reasons.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// Why a process ended, or the reason carried by an exit signal. Named as in OTP so that an
/// Erlang user reads them at once.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Exit {
    /// `normal`: the process finished its work. Not an error (R-EXIT-3); an exit signal with
    /// this reason is dropped by a process that does not trap exits (R-EXIT-1).
    Normal,
    /// `shutdown`: ordered to stop, typically by its supervisor. Not an error.
    Shutdown,
    /// `{shutdown, Term}`: a shutdown with a detail. Not an error.
    ShutdownWith(Arc<str>),
    /// `kill`: sent with [`Ctx::exit`](crate::Ctx::exit) it cannot be trapped, and the target
    /// dies with [`Exit::Killed`] (R-EXIT-2).
    Kill,
    /// `killed`: the reason of a process that received an untrappable `kill`.
    Killed,
    /// `noproc`: the process did not exist (R-LNK-3, R-MON-2).
    NoProc,
    /// `noconnection`: the connection to the process's node was lost (R-LNK-3, R-MON-5).
    NoConnection,
    /// The process panicked; the panic message.
    Panic(Arc<str>),
    /// The process failed with an error; its description.
    Error(Arc<str>),
}

impl Exit {
    /// An [`Exit::Error`] with the given description.
    pub fn error(msg: impl fmt::Display) -> Exit {
        Exit::Error(msg.to_string().into())
    }

    /// An [`Exit::ShutdownWith`] with the given detail.
    pub fn shutdown_with(detail: impl fmt::Display) -> Exit {
        Exit::ShutdownWith(detail.to_string().into())
    }

    /// `normal`, `shutdown` and `{shutdown, _}` are not errors (R-EXIT-3): supervisors do not
    /// report them and transient children are not restarted after them.
    pub fn is_normal_or_shutdown(&self) -> bool {
        matches!(self, Exit::Normal | Exit::Shutdown | Exit::ShutdownWith(_))
    }

    /// Whether this reason is an error (the opposite of [`is_normal_or_shutdown`](Self::is_normal_or_shutdown)).
    pub fn is_abnormal(&self) -> bool {
        !self.is_normal_or_shutdown()
    }

    pub(crate) fn from_panic(payload: &(dyn std::any::Any + Send)) -> Exit {
        let msg = if let Some(s) = payload.downcast_ref::<&'static str>() {
            (*s).to_owned()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "panic with a non-string payload".to_owned()
        };
        Exit::Panic(msg.into())
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exit::Normal => f.write_str("normal"),
            Exit::Shutdown => f.write_str("shutdown"),
            Exit::ShutdownWith(d) => write!(f, "{{shutdown, {d}}}"),
            Exit::Kill => f.write_str("kill"),
            Exit::Killed => f.write_str("killed"),
            Exit::NoProc => f.write_str("noproc"),
            Exit::NoConnection => f.write_str("noconnection"),
            Exit::Panic(m) => write!(f, "panic: {m}"),
            Exit::Error(m) => write!(f, "error: {m}"),
        }
    }
}

impl fmt::Debug for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Exit {}

/// What a process body may return: its exit reason.
///
/// `()` is [`Exit::Normal`]; `Result<(), E>` is `Normal` or the error turned into an exit
/// reason, so a body can use `?`.
pub trait IntoExit {
    /// The exit reason.
    fn into_exit(self) -> Exit;
}

impl IntoExit for () {
    fn into_exit(self) -> Exit {
        Exit::Normal
    }
}

impl IntoExit for Exit {
    fn into_exit(self) -> Exit {
        self
    }
}

impl<E: Into<Exit>> IntoExit for Result<(), E> {
    fn into_exit(self) -> Exit {
        match self {
            Ok(()) => Exit::Normal,
            Err(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_exit_3_normal_shutdown_and_shutdown_with_are_not_errors() {
        assert!(Exit::Normal.is_normal_or_shutdown());
        assert!(Exit::Shutdown.is_normal_or_shutdown());
        assert!(Exit::shutdown_with("bye").is_normal_or_shutdown());
        for r in [
            Exit::Kill,
            Exit::Killed,
            Exit::NoProc,
            Exit::NoConnection,
            Exit::Panic("x".into()),
            Exit::error("x"),
        ] {
            assert!(r.is_abnormal(), "{r} must be abnormal");
        }
    }

    #[test]
    fn exit_reasons_round_trip_through_serde() {
        let r = Exit::Panic("boom".into());
        let s = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<Exit>(&s).unwrap(), r);
    }
}
