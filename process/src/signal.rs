//! Signals (the control lane) and messages (the data lane), and the exit receive rules.

use std::sync::Arc;

use crate::exit::Exit;
use crate::pid::{Pid, Ref};
use tokio::sync::oneshot;

/// What a process receives: one of its own messages, or a signal that became a message.
///
/// Trapped exits and `DOWN`s are boxed so that a mailbox slot costs no more than the user's
/// message type (plus a tag): they are rare, user messages are not.
#[derive(Debug, PartialEq, Eq)]
pub enum Message<M> {
    /// A message sent to the process.
    Msg(M),
    /// `{'EXIT', From, Reason}`: an exit signal received while trapping exits (R-EXIT-1).
    Exit(Box<ExitMsg>),
    /// `{'DOWN', Ref, process, Object, Reason}`: a monitored process ended (R-MON-1), or a
    /// monitored name stood for no process (R-MON-2).
    Down(Box<DownMsg>),
}

/// A trapped exit signal, as [`Message::Exit`] carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitMsg {
    /// The process the signal came from.
    pub from: Pid,
    /// The reason it carried.
    pub reason: Exit,
}

/// A monitor's notification, as [`Message::Down`] carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownMsg {
    /// The monitor's reference, as returned by `monitor` or `monitor_name`.
    pub mref: Ref,
    /// The process that ended. For a monitor by name that found no process under the name,
    /// there is none: this is then the node's own pid ([`Node::pid`](crate::Node::pid));
    /// [`object`](Self::object) says what was monitored.
    pub pid: Pid,
    /// What was monitored, as the `DOWN` names it: the pid, or `{Name, Node}` for a monitor
    /// by name (R-MON-2).
    pub object: Monitored,
    /// Its exit reason ([`Exit::NoProc`] if there was no such process).
    pub reason: Exit,
}

/// What a monitor watches, as its `DOWN` message names it (the fourth element of Erlang's
/// `{'DOWN', Ref, process, Object, Reason}`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Monitored {
    /// A process by pid (`monitor(process, Pid)`, [`Ctx::monitor`](crate::Ctx::monitor)).
    Pid(Pid),
    /// A registered name on a node (`monitor(process, Name)`,
    /// [`Ctx::monitor_name`](crate::Ctx::monitor_name)): the object is `{Name, Node}`
    /// whether or not the name stood for a process (R-MON-2).
    Name {
        /// The registered name.
        name: Arc<str>,
        /// The name of the node it was looked up on ([`Node::name`](crate::Node::name)).
        node: Arc<str>,
    },
}

impl<M> Message<M> {
    /// The user message, if this is one.
    pub fn into_msg(self) -> Option<M> {
        match self {
            Message::Msg(m) => Some(m),
            _ => None,
        }
    }

    /// The monitor reference, if this is a `DOWN`.
    pub fn down_ref(&self) -> Option<Ref> {
        match self {
            Message::Down(d) => Some(d.mref),
            _ => None,
        }
    }

    pub(crate) fn exit(from: Pid, reason: Exit) -> Message<M> {
        Message::Exit(Box::new(ExitMsg { from, reason }))
    }

    pub(crate) fn down(mref: Ref, pid: Pid, object: Monitored, reason: Exit) -> Message<M> {
        Message::Down(Box::new(DownMsg {
            mref,
            pid,
            object,
            reason,
        }))
    }
}

/// Who is told when a monitored process ends.
#[derive(Debug)]
pub(crate) enum Watcher {
    /// A process: it gets a `Down` signal, which becomes a `DOWN` message.
    Process(Pid),
    /// Code outside any process (a caller waiting for a reply, `Node::monitor`): the reason is
    /// sent on a oneshot.
    Waiter(oneshot::Sender<Exit>),
}

/// A control-lane item. Always handled before the next data message.
#[derive(Debug)]
pub(crate) enum Signal {
    Exit { from: Pid, reason: Exit, link: bool },
    Link { from: Pid },
    Unlink { from: Pid },
    Monitor { watcher: Watcher, mref: Ref },
    Demonitor { mref: Ref },
    Down { mref: Ref, pid: Pid, reason: Exit },
}

/// What an exit signal does to its receiver.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ExitAction {
    /// Nothing: the signal is dropped.
    Ignore,
    /// The receiver terminates with this reason.
    Die(Exit),
    /// The receiver traps exits: the signal becomes `Message::Exit`.
    Deliver,
}

/// The exit receive rules of R-EXIT-1 and R-EXIT-2, as one pure function.
///
/// `linked` says whether, for a link-borne signal, the link was still active when the signal
/// arrived (a signal over a link that has since been removed is dropped).
pub(crate) fn exit_action(
    reason: &Exit,
    from_self: bool,
    link: bool,
    linked: bool,
    trapping: bool,
) -> ExitAction {
    if link && !linked {
        return ExitAction::Ignore;
    }
    if !link && *reason == Exit::Kill {
        // exit(Pid, kill): untrappable, and the victim's reason is `killed`.
        return ExitAction::Die(Exit::Killed);
    }
    if !link && from_self && *reason == Exit::Normal {
        // exit(self(), normal) terminates the caller even when trapping.
        return ExitAction::Die(Exit::Normal);
    }
    if trapping {
        return ExitAction::Deliver;
    }
    if *reason == Exit::Normal {
        return ExitAction::Ignore;
    }
    ExitAction::Die(reason.clone())
}

#[cfg(test)]
mod tests {
    use super::ExitAction::*;
    use super::*;

    /// R-EXIT-1, R-EXIT-2: every combination that the rules name.
    #[test]
    fn r_exit_1_receive_rules_table() {
        let e = || Exit::error("boom");
        // (reason, from_self, link, linked, trapping) -> action
        let table = [
            // a deactivated link drops everything
            (e(), false, true, false, false, Ignore),
            (Exit::Kill, false, true, false, true, Ignore),
            // normal from another process: dropped unless trapping
            (Exit::Normal, false, false, false, false, Ignore),
            (Exit::Normal, false, true, true, false, Ignore),
            (Exit::Normal, false, true, true, true, Deliver),
            (Exit::Normal, false, false, false, true, Deliver),
            // exit(self(), normal) kills even when trapping
            (Exit::Normal, true, false, false, true, Die(Exit::Normal)),
            // explicit kill -> killed, even when trapping (R-EXIT-2)
            (Exit::Kill, false, false, false, false, Die(Exit::Killed)),
            (Exit::Kill, false, false, false, true, Die(Exit::Killed)),
            // kill over a link is not converted, and a trapping receiver gets a message
            (Exit::Kill, false, true, true, false, Die(Exit::Kill)),
            (Exit::Kill, false, true, true, true, Deliver),
            // other reasons kill a non-trapping receiver with the same reason
            (e(), false, true, true, false, Die(e())),
            (e(), false, false, false, false, Die(e())),
            (
                Exit::Shutdown,
                false,
                true,
                true,
                false,
                Die(Exit::Shutdown),
            ),
            (e(), false, true, true, true, Deliver),
        ];
        for (reason, from_self, link, linked, trapping, want) in table {
            assert_eq!(
                exit_action(&reason, from_self, link, linked, trapping),
                want,
                "reason={reason} self={from_self} link={link} linked={linked} trap={trapping}"
            );
        }
    }
}
