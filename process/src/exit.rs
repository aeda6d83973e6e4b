//! Exit reasons.
//!
//! A reason keeps its structure. The runtime's own reasons are variants to match
//! ([`Exit::Normal`], [`Exit::Shutdown`], [`Exit::Killed`], [`Exit::NoProc`],
//! [`Exit::NoConnection`], [`Exit::CallTimeout`] with what was called, ...); a user's reason is
//! a [`Term`] in [`Exit::Error`] (or the detail of [`Exit::ShutdownWith`]): the user's error
//! or value itself, behind an `Arc`, so every link and monitor gets a reference count, and
//! whoever receives the reason on the same node can `downcast_ref` it and walk its `source()`
//! chain.
//!
//! `?` turns any `std::error::Error + Send + Sync + 'static` into an [`Exit`]: the runtime's
//! own errors into the reasons OTP gives them (a [`CallError::Timeout`] into
//! [`Exit::CallTimeout`], a server's reason carried by [`CallError::Exit`] or
//! [`StartError::Init`] into that reason, [`CallError::NoProc`] into [`Exit::NoProc`]), every
//! other error into [`Exit::Error`] holding it. So `Exit` itself is no `std::error::Error`
//! (it converts into `Box<dyn Error + Send + Sync>` for a `main` that wants one).
//!
//! Wire form: `Exit` is `Serialize` and `Deserialize` (and [`Exit::to_bytes`] /
//! [`Exit::from_bytes`] use postcard, the distribution's codec). A term travels as its type
//! name, message, source chain and, for a serde term, its encoded value ([`WireTerm`]); the
//! decoded reason shows the same, compares equal and is classified the same
//! ([`Exit::is_normal_or_shutdown`], R-EXIT-3).

use serde::{Deserialize, Serialize};
use std::any::Any;
use std::error::Error;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{CallError, LinkError, StartError};
use crate::pid::Pid;
use crate::task::TaskError;
use crate::term::Term;
#[cfg(doc)]
use crate::term::WireTerm;

/// Why a process ended, or the reason carried by an exit signal. Named as in OTP so that an
/// Erlang user reads them at once.
///
/// Matching a user's reason: `reason.downcast_ref::<MyError>()` (or
/// `reason.as_term()` for the [`Term`]); the runtime's: match the variant.
///
/// ```
/// use beamish_process::{Exit, Term};
///
/// #[derive(Debug, PartialEq)]
/// enum MyReason { Overloaded { queue: usize } }
///
/// let reason = Exit::Error(Term::new(MyReason::Overloaded { queue: 42 }));
/// assert_eq!(reason.to_string(), "error: Overloaded { queue: 42 }");
/// assert_eq!(
///     reason.downcast_ref::<MyReason>(),
///     Some(&MyReason::Overloaded { queue: 42 })
/// );
///
/// let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no config");
/// let reason = Exit::from(io);
/// assert_eq!(reason.downcast_ref::<std::io::Error>().unwrap().kind(), std::io::ErrorKind::NotFound);
/// assert!(reason.is_abnormal());
/// ```
// New variants go at the end: the wire form numbers them in order.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Exit {
    /// `normal`: the process finished its work. Not an error (R-EXIT-3); an exit signal with
    /// this reason is dropped by a process that does not trap exits (R-EXIT-1).
    Normal,
    /// `shutdown`: ordered to stop, typically by its supervisor. Not an error.
    Shutdown,
    /// `{shutdown, Term}`: a shutdown with a detail, a message or a structured [`Term`] (a
    /// supervisor whose child failed to start exits with its typed start error here). Not an
    /// error.
    ShutdownWith(Term),
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
    /// The process failed with a reason of the user's: an error (what `?` makes of it) or a
    /// term, kept as a [`Term`].
    Error(Term),
    /// `{timeout, {gen_server, call, [Server, _, Timeout]}}`: a call timed out and the caller
    /// let the failure end it (R-GS-2). Behind an `Arc`, so that a reason stays three words
    /// (it is stored in every process's cell).
    CallTimeout(Arc<CallTimeout>),
}

/// What a call that timed out had called ([`Exit::CallTimeout`], [`CallError::Timeout`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CallTimeout {
    /// The server called.
    pub server: Pid,
    /// The name it was called by, if it was called by name.
    pub name: Option<Arc<str>>,
    /// How long the caller waited.
    pub timeout: Duration,
}

impl CallTimeout {
    /// A call to `server` that waited `timeout`.
    pub fn new(server: Pid, timeout: Duration) -> CallTimeout {
        CallTimeout {
            server,
            name: None,
            timeout,
        }
    }

    /// The same call, made by the name `name`.
    pub fn by_name(mut self, name: impl Into<Arc<str>>) -> CallTimeout {
        self.name = Some(name.into());
        self
    }
}

/// `{gen_server, call, [Server, _, Timeout]}`, the server by name if it was called by one and
/// the timeout in milliseconds, as Erlang shows it (the request is not kept).
impl fmt::Display for CallTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{gen_server, call, [")?;
        match &self.name {
            Some(name) => f.write_str(name)?,
            None => write!(f, "{}", self.server)?,
        }
        write!(f, ", _, {}]}}", self.timeout.as_millis())
    }
}

/// Why a reason could not be decoded from its bytes ([`Exit::from_bytes`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WireError(String);

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot decode an exit reason: {}", self.0)
    }
}

impl Error for WireError {}

impl Exit {
    /// An [`Exit::Error`] with a plain message ([`Term::message`]).
    pub fn error(msg: impl fmt::Display) -> Exit {
        Exit::Error(Term::message(msg))
    }

    /// An [`Exit::Error`] holding a value of the user's own type ([`Term::new`]).
    pub fn term<T: fmt::Debug + Send + Sync + 'static>(value: T) -> Exit {
        Exit::Error(Term::new(value))
    }

    /// An [`Exit::ShutdownWith`] with a plain message as its detail.
    pub fn shutdown_with(detail: impl fmt::Display) -> Exit {
        Exit::ShutdownWith(Term::message(detail))
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

    /// The user's term: of an [`Exit::Error`], or the detail of an [`Exit::ShutdownWith`].
    pub fn as_term(&self) -> Option<&Term> {
        match self {
            Exit::Error(t) | Exit::ShutdownWith(t) => Some(t),
            _ => None,
        }
    }

    /// The user's value in the reason ([`as_term`](Self::as_term)), if it is a `T` made on
    /// this node.
    pub fn downcast_ref<T: Any>(&self) -> Option<&T> {
        self.as_term()?.downcast_ref()
    }

    /// The user's value as an error, to walk its `source()` chain
    /// ([`Term::as_error`]).
    pub fn as_error(&self) -> Option<&(dyn Error + 'static)> {
        self.as_term()?.as_error()
    }

    /// The reason encoded with postcard: its wire form, for another node.
    pub fn to_bytes(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("an exit reason always encodes")
    }

    /// A reason decoded from [`to_bytes`](Self::to_bytes); its terms are remote terms.
    pub fn from_bytes(bytes: &[u8]) -> Result<Exit, WireError> {
        postcard::from_bytes(bytes).map_err(|e| WireError(e.to_string()))
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
            Exit::CallTimeout(c) => write!(f, "{{timeout, {c}}}"),
        }
    }
}

impl fmt::Debug for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl From<Term> for Exit {
    /// An [`Exit::Error`] holding the term.
    fn from(term: Term) -> Exit {
        Exit::Error(term)
    }
}

/// What `?` makes of an error in a process body or a callback. The runtime's own errors
/// become the reasons OTP gives them: a call that timed out [`Exit::CallTimeout`], a server
/// that ended during a call or its start the server's reason, a call to nobody
/// [`Exit::NoProc`], a link to nobody [`Exit::NoProc`], a task that ended without a result the task's reason. Any other error
/// (these runtime errors' other cases too) becomes [`Exit::Error`] holding it: downcastable
/// on this node, with its chain. (A [`SendError`](crate::SendError) keeps its undelivered
/// message, so `?` on one needs a `Sync` message.)
impl<E: Error + Send + Sync + 'static> From<E> for Exit {
    fn from(error: E) -> Exit {
        let mut slot = Some(error);
        let any: &mut dyn Any = &mut slot;
        if let Some(e) = take::<CallError>(any) {
            return match e {
                CallError::Timeout(t) => Exit::CallTimeout(t),
                CallError::Exit(r) => r,
                CallError::NoProc => Exit::NoProc,
                other => Exit::Error(Term::error(other)),
            };
        }
        if let Some(e) = take::<StartError>(any) {
            return match e {
                // As in OTP: a linked starter gets the init's reason as an exit signal too.
                StartError::Init(r) => r,
                other => Exit::Error(Term::error(other)),
            };
        }
        if let Some(LinkError::NoProc(_)) = take::<LinkError>(any) {
            // As Erlang's `link/1` raises `noproc`.
            return Exit::NoProc;
        }
        if let Some(e) = take::<TaskError>(any) {
            return match e {
                TaskError::Exit(r) => r,
                other => Exit::Error(Term::error(other)),
            };
        }
        Exit::Error(Term::error(slot.take().expect("not taken above")))
    }
}

/// The `T` in `slot`, taken out, if `slot` is an `Option<T>`.
fn take<T: 'static>(slot: &mut dyn Any) -> Option<T> {
    slot.downcast_mut::<Option<T>>().and_then(Option::take)
}

/// The reason as an error (for a `main` returning `Box<dyn Error + Send + Sync>`): shows the
/// reason, and its source is the user's error, if any.
impl From<Exit> for Box<dyn Error + Send + Sync + 'static> {
    fn from(reason: Exit) -> Self {
        Box::new(ExitError(reason))
    }
}

/// The reason as an error (for a `main` returning `Box<dyn Error>`).
impl From<Exit> for Box<dyn Error + 'static> {
    fn from(reason: Exit) -> Self {
        Box::new(ExitError(reason))
    }
}

/// An exit reason boxed as an error.
struct ExitError(Exit);

impl fmt::Debug for ExitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Display for ExitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Error for ExitError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.0.as_error()
    }
}

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
            Exit::term(42),
            Exit::CallTimeout(
                CallTimeout::new(
                    Pid::from_parts(crate::pid::NodeId::LOCAL, 1, 0),
                    Duration::from_secs(5),
                )
                .into(),
            ),
        ] {
            assert!(r.is_abnormal(), "{r} must be abnormal");
        }
    }

    #[test]
    fn a_reason_is_three_words() {
        assert_eq!(
            std::mem::size_of::<Exit>(),
            3 * std::mem::size_of::<usize>()
        );
    }

    #[test]
    fn the_runtimes_errors_become_their_otp_reasons() {
        let pid = Pid::from_parts(crate::pid::NodeId::LOCAL, 1, 0);
        let t = Arc::new(CallTimeout::new(pid, Duration::from_secs(5)));
        assert_eq!(
            Exit::from(CallError::Timeout(t.clone())),
            Exit::CallTimeout(t)
        );
        assert_eq!(Exit::from(CallError::NoProc), Exit::NoProc);
        assert_eq!(Exit::from(CallError::Exit(Exit::Killed)), Exit::Killed);
        assert_eq!(
            Exit::from(StartError::Init(Exit::shutdown_with("bye"))),
            Exit::shutdown_with("bye")
        );
        assert_eq!(Exit::from(TaskError::Exit(Exit::Normal)), Exit::Normal);
        let other = Exit::from(StartError::AlreadyStarted(pid));
        assert_eq!(
            other.downcast_ref::<StartError>(),
            Some(&StartError::AlreadyStarted(pid))
        );
        assert_eq!(
            Exit::from(CallError::CallingSelf).downcast_ref::<CallError>(),
            Some(&CallError::CallingSelf)
        );
    }

    #[test]
    fn exit_reasons_round_trip_through_serde() {
        let r = Exit::Panic("boom".into());
        let s = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<Exit>(&s).unwrap(), r);
    }
}
