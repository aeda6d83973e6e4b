//! Every exit reason round-trips through its wire form (postcard, the distribution's codec):
//! the decoded reason shows the same, is classified the same (R-EXIT-3), has the same type
//! name and source chain, and compares equal; decoding it again changes nothing; a serde
//! term decodes as its type on the other side.

use std::error::Error;
use std::fmt;
use std::time::Duration;

use beamish_process::{CallTimeout, Exit, NodeId, Pid, Term};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

/// A user's error with a chain of any length.
#[derive(Debug)]
struct Chained {
    message: String,
    source: Option<Box<Chained>>,
}

impl fmt::Display for Chained {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error for Chained {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|s| s as &(dyn Error + 'static))
    }
}

fn chained(messages: Vec<String>) -> Chained {
    let mut it = messages.into_iter().rev();
    let mut e = Chained {
        message: it.next().unwrap_or_default(),
        source: None,
    };
    for message in it {
        e = Chained {
            message,
            source: Some(Box::new(e)),
        };
    }
    e
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum MyReason {
    Overloaded { queue: u32 },
    Gone(String),
}

fn my_reason() -> impl Strategy<Value = MyReason> {
    prop_oneof![
        any::<u32>().prop_map(|queue| MyReason::Overloaded { queue }),
        ".*".prop_map(MyReason::Gone),
    ]
}

fn term() -> impl Strategy<Value = Term> {
    prop_oneof![
        ".*".prop_map(Term::message),
        prop::collection::vec(".*", 1..5).prop_map(|m| Term::error(chained(m))),
        my_reason().prop_map(Term::new),
        my_reason().prop_map(Term::serde),
    ]
}

fn reason() -> impl Strategy<Value = Exit> {
    prop_oneof![
        Just(Exit::Normal),
        Just(Exit::Shutdown),
        Just(Exit::Kill),
        Just(Exit::Killed),
        Just(Exit::NoProc),
        Just(Exit::NoConnection),
        ".*".prop_map(|m| Exit::Panic(m.into())),
        term().prop_map(Exit::Error),
        term().prop_map(Exit::ShutdownWith),
        (
            any::<u64>(),
            any::<u32>(),
            proptest::option::of("[a-z_]{1,12}"),
            any::<u64>()
        )
            .prop_map(|(serial, creation, name, ms)| {
                let pid = Pid::from_parts(NodeId::from_name("a@host"), serial, creation);
                let mut t = CallTimeout::new(pid, Duration::from_millis(ms));
                if let Some(name) = name {
                    t = t.by_name(name);
                }
                Exit::CallTimeout(t.into())
            }),
    ]
}

fn chain(reason: &Exit) -> Vec<String> {
    reason
        .as_term()
        .map(|t| t.sources().map(|e| e.to_string()).collect())
        .unwrap_or_default()
}

proptest! {
    /// R-EXIT-3 across nodes: the wire form keeps what a remote node needs.
    #[test]
    fn any_reason_round_trips_through_its_wire_form(local in reason()) {
        let remote = Exit::from_bytes(&local.to_bytes()).unwrap();
        prop_assert_eq!(remote.to_string(), local.to_string());
        prop_assert_eq!(remote.is_normal_or_shutdown(), local.is_normal_or_shutdown());
        prop_assert_eq!(
            remote.as_term().map(|t| t.type_name().to_owned()),
            local.as_term().map(|t| t.type_name().to_owned())
        );
        prop_assert_eq!(chain(&remote), chain(&local));
        prop_assert_eq!(&remote, &local);
        // A relay that passes it on changes nothing.
        let again = Exit::from_bytes(&remote.to_bytes()).unwrap();
        prop_assert_eq!(again.to_bytes(), remote.to_bytes());
    }

    /// A serde term decodes as its own type on the other side.
    #[test]
    fn a_serde_term_decodes_as_its_type(value in my_reason()) {
        let local = Exit::Error(Term::serde(value.clone()));
        let remote = Exit::from_bytes(&local.to_bytes()).unwrap();
        let term = remote.as_term().unwrap();
        prop_assert!(term.is_remote());
        prop_assert_eq!(term.decode::<MyReason>(), Some(value));
        prop_assert!(remote.downcast_ref::<MyReason>().is_none());
    }
}

/// Garbage is an error, not a panic.
#[test]
fn bytes_that_are_no_reason_are_an_error() {
    assert!(Exit::from_bytes(&[0xff, 0xff, 0xff]).is_err());
    assert!(Exit::from_bytes(&[]).is_err());
}
