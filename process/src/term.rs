//! A user's value as an exit reason: an error with its `source()` chain, or a term of the
//! user's own type, kept as it is on its node and described (type name, message, chain,
//! optional serde payload) when it crosses to another.

use std::any::Any;
use std::error::Error;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A value of the user's inside an exit reason ([`Exit::Error`](crate::Exit::Error),
/// [`Exit::ShutdownWith`](crate::Exit::ShutdownWith)): Erlang's `Term` in `{error, Term}` or
/// `{shutdown, Term}`.
///
/// On the node that made it, a term is the value itself behind an `Arc` (a clone, as every
/// link and monitor gets, is a reference count): [`downcast_ref`](Term::downcast_ref) gives
/// it back, and for an error [`as_error`](Term::as_error) and [`sources`](Term::sources)
/// give its `source()` chain. Made with:
///
/// * [`Term::error`]: a `std::error::Error` (what `?` makes of an error in a process body or a
///   callback); shown by its `Display`.
/// * [`Term::new`]: any value (an enum of reasons, say); shown by its `Debug`, as Erlang
///   prints a term.
/// * [`Term::serde`] and [`Term::serde_error`]: the same, for a type that serde can encode,
///   so that a remote node can [`decode`](Term::decode) it back into that type.
/// * [`Term::message`]: a plain message ([`Exit::error`](crate::Exit::error)).
///
/// Its wire form ([`WireTerm`], also its `Serialize`) is the type name, the message, the
/// messages of the source chain and, for a serde term, the value's postcard encoding. Decoded
/// on another node, a term is a *remote* term: it shows the same message, has the same type
/// name and chain (as errors whose `Display` is the original message), and [`decode`](Term::decode)
/// gives the value back for a serde term; `downcast_ref` finds nothing there.
///
/// Two terms are equal when they have the same type name, message and chain: what the wire
/// form keeps, so a term and its decoded copy compare equal.
#[derive(Clone)]
pub struct Term(Arc<dyn Value>);

/// What a term holds, whichever way it was made.
trait Value: Send + Sync + 'static {
    /// The user's value, for downcasts.
    fn value(&self) -> &(dyn Any + Send + Sync);
    fn type_name(&self) -> &str;
    fn message(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
    fn as_error(&self) -> Option<&(dyn Error + 'static)>;
    /// The serde payload: encoded now for a local value, as received for a remote one.
    fn payload(&self) -> Option<Vec<u8>>;
    fn is_remote(&self) -> bool {
        false
    }
}

/// How a local value is encoded for the wire, if it can be.
type Encode<T> = fn(&T) -> Option<Vec<u8>>;

/// A value made on this node: the value and how to show, chain and encode it.
struct Local<T> {
    value: T,
    type_name: &'static str,
    any: fn(&T) -> &(dyn Any + Send + Sync),
    message: fn(&T, &mut fmt::Formatter<'_>) -> fmt::Result,
    error: fn(&T) -> Option<&(dyn Error + 'static)>,
    encode: Option<Encode<T>>,
}

impl<T: Send + Sync + 'static> Value for Local<T> {
    fn value(&self) -> &(dyn Any + Send + Sync) {
        (self.any)(&self.value)
    }
    fn type_name(&self) -> &str {
        self.type_name
    }
    fn message(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (self.message)(&self.value, f)
    }
    fn as_error(&self) -> Option<&(dyn Error + 'static)> {
        (self.error)(&self.value)
    }
    fn payload(&self) -> Option<Vec<u8>> {
        self.encode.and_then(|encode| encode(&self.value))
    }
}

fn itself<T: Any + Send + Sync>(v: &T) -> &(dyn Any + Send + Sync) {
    v
}
fn display<T: fmt::Display>(v: &T, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    fmt::Display::fmt(v, f)
}
fn debug<T: fmt::Debug>(v: &T, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    fmt::Debug::fmt(v, f)
}
fn an_error<E: Error + 'static>(e: &E) -> Option<&(dyn Error + 'static)> {
    Some(e)
}
fn no_error<T>(_: &T) -> Option<&(dyn Error + 'static)> {
    None
}
fn postcard<T: Serialize>(v: &T) -> Option<Vec<u8>> {
    postcard::to_allocvec(v).ok()
}

/// A plain message ([`Term::message`]): downcasts to `String`, and is an error whose
/// `Display` is the message.
struct Message(String);

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl Error for Message {}

/// A term decoded from its wire form: the description, and the payload as received. It is an
/// error whose chain is the received chain.
struct Remote {
    type_name: String,
    message: String,
    source: Option<Box<Remote>>,
    payload: Option<Vec<u8>>,
}

impl fmt::Debug for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl fmt::Display for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl Error for Remote {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|s| s as &(dyn Error + 'static))
    }
}

impl Value for Remote {
    fn value(&self) -> &(dyn Any + Send + Sync) {
        self
    }
    fn type_name(&self) -> &str {
        &self.type_name
    }
    fn message(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
    fn as_error(&self) -> Option<&(dyn Error + 'static)> {
        Some(self)
    }
    fn payload(&self) -> Option<Vec<u8>> {
        self.payload.clone()
    }
    fn is_remote(&self) -> bool {
        true
    }
}

impl Term {
    fn local<T: Send + Sync + 'static>(value: Local<T>) -> Term {
        Term(Arc::new(value))
    }

    /// An error, kept as it is: [`downcast_ref::<E>`](Term::downcast_ref) gives it back on
    /// this node and [`sources`](Term::sources) walks its `source()` chain. Shown by its
    /// `Display`. Crossing nodes, it is described (type name, message, chain).
    pub fn error<E: Error + Send + Sync + 'static>(error: E) -> Term {
        Term::local(Local {
            value: error,
            type_name: std::any::type_name::<E>(),
            any: itself::<E>,
            message: display::<E>,
            error: an_error::<E>,
            encode: None,
        })
    }

    /// An error that serde can encode: as [`Term::error`], and its wire form carries the
    /// value, so a remote node can [`decode`](Term::decode) it back into `E`.
    pub fn serde_error<E: Error + Serialize + Send + Sync + 'static>(error: E) -> Term {
        Term::local(Local {
            value: error,
            type_name: std::any::type_name::<E>(),
            any: itself::<E>,
            message: display::<E>,
            error: an_error::<E>,
            encode: Some(postcard::<E>),
        })
    }

    /// A value of the user's own type as a reason (Erlang's `{error, 42}`, here
    /// `MyReason::Overloaded { queue: 42 }`), matched with
    /// [`downcast_ref`](Term::downcast_ref). Shown by its `Debug`, as Erlang prints a term.
    pub fn new<T: fmt::Debug + Send + Sync + 'static>(value: T) -> Term {
        Term::local(Local {
            value,
            type_name: std::any::type_name::<T>(),
            any: itself::<T>,
            message: debug::<T>,
            error: no_error::<T>,
            encode: None,
        })
    }

    /// A value that serde can encode: as [`Term::new`], and its wire form carries the value
    /// (postcard, encoded only when the reason is serialized), so a remote node can
    /// [`decode`](Term::decode) it back into `T`.
    pub fn serde<T: fmt::Debug + Serialize + Send + Sync + 'static>(value: T) -> Term {
        Term::local(Local {
            value,
            type_name: std::any::type_name::<T>(),
            any: itself::<T>,
            message: debug::<T>,
            error: no_error::<T>,
            encode: Some(postcard::<T>),
        })
    }

    /// A plain message: shown as it is, downcasts to `String`, and decodes as `String` on
    /// another node.
    pub fn message(message: impl fmt::Display) -> Term {
        Term::local(Local {
            value: Message(message.to_string()),
            type_name: std::any::type_name::<String>(),
            any: |m| &m.0,
            message: display::<Message>,
            error: an_error::<Message>,
            encode: Some(|m| postcard(&m.0)),
        })
    }

    /// The value, if it is a `T` made on this node.
    pub fn downcast_ref<T: Any>(&self) -> Option<&T> {
        self.0.value().downcast_ref::<T>()
    }

    /// Whether the value is a `T` made on this node.
    pub fn is<T: Any>(&self) -> bool {
        self.0.value().is::<T>()
    }

    /// The value as a `T`, wherever it was made: the value itself (cloned) on its own node,
    /// or, for a term decoded from another node, its serde payload decoded, if it was sent
    /// by a [`Term::serde`] or [`Term::serde_error`] of a type with the same name
    /// (`std::any::type_name`: the same type built from the same source has the same name).
    pub fn decode<T: DeserializeOwned + Clone + Any>(&self) -> Option<T> {
        if let Some(v) = self.downcast_ref::<T>() {
            return Some(v.clone());
        }
        if !self.0.is_remote() || self.type_name() != std::any::type_name::<T>() {
            return None;
        }
        postcard::from_bytes(&self.0.payload()?).ok()
    }

    /// The name of the value's type (`std::any::type_name`), as made or as received.
    pub fn type_name(&self) -> &str {
        self.0.type_name()
    }

    /// The value as an error: a [`Term::error`], [`Term::serde_error`] or [`Term::message`]
    /// made here, or any term received from another node (an error showing the original
    /// message, whose chain is the original chain). `None` for a plain [`Term::new`] term.
    pub fn as_error(&self) -> Option<&(dyn Error + 'static)> {
        self.0.as_error()
    }

    /// The error's source chain, nearest first (empty for a term that is no error).
    pub fn sources(&self) -> impl Iterator<Item = &(dyn Error + 'static)> + '_ {
        std::iter::successors(self.as_error().and_then(|e| e.source()), |e| (*e).source())
    }

    /// Whether this term was decoded from another node's wire form.
    pub fn is_remote(&self) -> bool {
        self.0.is_remote()
    }

    /// The wire form: type name, message, chain and serde payload.
    pub fn to_wire(&self) -> WireTerm {
        WireTerm {
            type_name: self.type_name().to_owned(),
            message: self.to_string(),
            chain: self.sources().map(|e| e.to_string()).collect(),
            payload: self.0.payload(),
        }
    }

    /// A remote term from its wire form.
    pub fn from_wire(wire: WireTerm) -> Term {
        let source = wire.chain.into_iter().rev().fold(None, |source, message| {
            Some(Box::new(Remote {
                type_name: String::new(),
                message,
                source,
                payload: None,
            }))
        });
        Term(Arc::new(Remote {
            type_name: wire.type_name,
            message: wire.message,
            source,
            payload: wire.payload,
        }))
    }

    fn chain_strings(&self) -> impl Iterator<Item = String> + '_ {
        self.sources().map(|e| e.to_string())
    }
}

/// A [`Term`]'s wire form: what another node needs to show, classify and, for a serde term,
/// decode it. `Term`'s own `Serialize` and `Deserialize` go through it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WireTerm {
    /// The value's type name (`std::any::type_name`).
    pub type_name: String,
    /// Its message: `Display` for an error, `Debug` for a term.
    pub message: String,
    /// The messages of its source chain, nearest first.
    pub chain: Vec<String>,
    /// The value encoded with postcard, for a [`Term::serde`] or [`Term::serde_error`].
    pub payload: Option<Vec<u8>>,
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.message(f)
    }
}

impl fmt::Debug for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.message(f)
    }
}

impl PartialEq for Term {
    fn eq(&self, other: &Term) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
            || (self.type_name() == other.type_name()
                && self.to_string() == other.to_string()
                && self.chain_strings().eq(other.chain_strings()))
    }
}

impl Eq for Term {}

impl Hash for Term {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.type_name().hash(state);
        self.to_string().hash(state);
        for s in self.chain_strings() {
            s.hash(state);
        }
    }
}

impl Serialize for Term {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_wire().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Term {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Term, D::Error> {
        WireTerm::deserialize(deserializer).map(Term::from_wire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("cannot load the config")
        }
    }
    impl Error for Outer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_remote_copy_keeps_message_type_and_chain_and_equals_the_original() {
        let t = Term::error(Outer(std::io::Error::other("disk on fire")));
        let r = Term::from_wire(t.to_wire());
        assert!(r.is_remote() && !t.is_remote());
        assert_eq!(r.to_string(), "cannot load the config");
        assert_eq!(r.type_name(), t.type_name());
        let chain: Vec<_> = r.sources().map(|e| e.to_string()).collect();
        assert_eq!(chain, ["disk on fire"]);
        assert_eq!(r, t);
        assert!(r.downcast_ref::<Outer>().is_none());
        assert!(t.downcast_ref::<Outer>().is_some());
    }

    #[test]
    fn a_message_downcasts_to_a_string_here_and_decodes_as_one_there() {
        let t = Term::message("boom");
        assert_eq!(t.downcast_ref::<String>().map(String::as_str), Some("boom"));
        let r = Term::from_wire(t.to_wire());
        assert_eq!(r.decode::<String>().as_deref(), Some("boom"));
        assert_eq!(r.decode::<u32>(), None, "another type name");
    }
}
