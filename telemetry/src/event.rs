//! Event names, measurements and metadata: what an event carries.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The name of an event: a static path of segments, as Erlang's `[beamish, process, spawned]`.
///
/// Names are made at compile time (`EventName::new` is a `const fn`), which also computes a hash
/// of the path; the hash is what lets [`Telemetry::enabled`](crate::Telemetry::enabled) answer
/// with one atomic load. Two names are equal when their paths are equal.
///
/// ```
/// use beamish_telemetry::EventName;
///
/// const REQUEST_DONE: EventName = EventName::new(&["my_app", "request", "done"]);
/// assert_eq!(REQUEST_DONE.to_string(), "my_app.request.done");
/// ```
#[derive(Clone, Copy)]
pub struct EventName {
    segments: &'static [&'static str],
    hash: u64,
}

impl EventName {
    /// A name from its path. Panics (at compile time, in a `const`) on an empty path.
    pub const fn new(segments: &'static [&'static str]) -> EventName {
        assert!(
            !segments.is_empty(),
            "an event name has at least one segment"
        );
        // FNV-1a over the segments, with a separator so that ["ab"] and ["a", "b"] differ.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let mut i = 0;
        while i < segments.len() {
            let bytes = segments[i].as_bytes();
            let mut j = 0;
            while j < bytes.len() {
                hash ^= bytes[j] as u64;
                hash = hash.wrapping_mul(0x0100_0000_01b3);
                j += 1;
            }
            hash ^= 0xff;
            hash = hash.wrapping_mul(0x0100_0000_01b3);
            i += 1;
        }
        EventName { segments, hash }
    }

    /// The path's segments.
    pub const fn segments(&self) -> &'static [&'static str] {
        self.segments
    }

    /// Whether this name starts with `prefix` (segment by segment).
    pub fn starts_with(&self, prefix: &[&str]) -> bool {
        self.segments.len() >= prefix.len() && self.segments.iter().zip(prefix).all(|(a, b)| a == b)
    }

    /// The bit this name sets in a handler mask (one of 64).
    pub(crate) const fn bit(&self) -> u64 {
        1 << (self.hash % 64)
    }

    pub(crate) const fn hash(&self) -> u64 {
        self.hash
    }
}

impl PartialEq for EventName {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && self.segments == other.segments
    }
}

impl Eq for EventName {}

impl std::hash::Hash for EventName {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

/// Dotted, as metric names are written: `beamish.process.spawned`.
impl fmt::Display for EventName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.segments.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            f.write_str(s)?;
        }
        Ok(())
    }
}

impl fmt::Debug for EventName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.segments)
    }
}

/// A measurement: a number, kept in the type it was measured in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    /// A count or size.
    U64(u64),
    /// A signed quantity.
    I64(i64),
    /// A ratio or rate.
    F64(f64),
}

impl Number {
    /// As a float, for metrics (exact for integers below 2^53).
    pub fn as_f64(self) -> f64 {
        match self {
            Number::U64(n) => n as f64,
            Number::I64(n) => n as f64,
            Number::F64(n) => n,
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::U64(n) => n.fmt(f),
            Number::I64(n) => n.fmt(f),
            Number::F64(n) => n.fmt(f),
        }
    }
}

impl From<u64> for Number {
    fn from(n: u64) -> Self {
        Number::U64(n)
    }
}
impl From<usize> for Number {
    fn from(n: usize) -> Self {
        Number::U64(n as u64)
    }
}
impl From<u32> for Number {
    fn from(n: u32) -> Self {
        Number::U64(u64::from(n))
    }
}
impl From<i64> for Number {
    fn from(n: i64) -> Self {
        Number::I64(n)
    }
}
impl From<f64> for Number {
    fn from(n: f64) -> Self {
        Number::F64(n)
    }
}
/// A duration is measured in nanoseconds (saturating at `u64::MAX`).
impl From<Duration> for Number {
    fn from(d: Duration) -> Self {
        Number::U64(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    }
}

/// A process identity in event metadata, as the process crate's `Pid` (which converts into
/// it): telemetry sits below every other beamish crate, so it carries the parts, not the type.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ProcessId {
    /// The node's id (0 for an unnamed node).
    pub node: u64,
    /// The process's serial on its node.
    pub serial: u64,
    /// The node incarnation that spawned it.
    pub creation: u32,
}

/// Shown as the process crate shows a `Pid`: `<node.low.high>`.
impl fmt::Display for ProcessId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "<{}.{}.{}>",
            self.node as u32,
            self.serial & 0xffff_ffff,
            self.serial >> 32
        )
    }
}

impl fmt::Debug for ProcessId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A metadata value: typed, borrowed from the emitter (building metadata allocates nothing).
#[derive(Clone, Copy)]
pub enum Value<'a> {
    /// A flag.
    Bool(bool),
    /// An unsigned integer.
    U64(u64),
    /// A signed integer.
    I64(i64),
    /// A float.
    F64(f64),
    /// Text.
    Str(&'a str),
    /// A process.
    Pid(ProcessId),
    /// Anything else, shown through its `Debug` (keys, ...).
    Debug(&'a dyn fmt::Debug),
    /// A value a handler may take back as its type with [`Value::downcast_ref`] (exit
    /// reasons: `beamish_process::Exit`), shown through its `Debug` as [`Value::Debug`] is.
    Typed(&'a dyn Typed),
}

/// A value of some `'static` type, for [`Value::Typed`]: anything `Debug`.
pub trait Typed: fmt::Debug {
    /// The value, to downcast.
    fn as_any(&self) -> &dyn std::any::Any;
}

impl<T: fmt::Debug + 'static> Typed for T {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl Value<'_> {
    /// The process, if this is one.
    pub fn as_pid(&self) -> Option<ProcessId> {
        match self {
            Value::Pid(p) => Some(*p),
            _ => None,
        }
    }

    /// The value, if this is a [`Value::Typed`] of type `T`.
    pub fn downcast_ref<T: std::any::Any>(&self) -> Option<&T> {
        match *self {
            Value::Typed(v) => v.as_any().downcast_ref(),
            _ => None,
        }
    }

    /// The text, if this is text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The number, if this is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::U64(n) => Some(*n as f64),
            Value::I64(n) => Some(*n as f64),
            Value::F64(n) => Some(*n),
            _ => None,
        }
    }
}

/// Text as written (no quotes), numbers plainly, pids as `<0.1.0>`, others by `Debug`.
impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => b.fmt(f),
            Value::U64(n) => n.fmt(f),
            Value::I64(n) => n.fmt(f),
            Value::F64(n) => n.fmt(f),
            Value::Str(s) => f.write_str(s),
            Value::Pid(p) => p.fmt(f),
            Value::Debug(d) => write!(f, "{d:?}"),
            Value::Typed(d) => write!(f, "{d:?}"),
        }
    }
}

impl fmt::Debug for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => write!(f, "{s:?}"),
            other => fmt::Display::fmt(other, f),
        }
    }
}

impl From<bool> for Value<'_> {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<u64> for Value<'_> {
    fn from(v: u64) -> Self {
        Value::U64(v)
    }
}
impl From<usize> for Value<'_> {
    fn from(v: usize) -> Self {
        Value::U64(v as u64)
    }
}
impl From<u32> for Value<'_> {
    fn from(v: u32) -> Self {
        Value::U64(u64::from(v))
    }
}
impl From<i64> for Value<'_> {
    fn from(v: i64) -> Self {
        Value::I64(v)
    }
}
impl From<f64> for Value<'_> {
    fn from(v: f64) -> Self {
        Value::F64(v)
    }
}
impl<'a> From<&'a str> for Value<'a> {
    fn from(v: &'a str) -> Self {
        Value::Str(v)
    }
}
impl From<ProcessId> for Value<'_> {
    fn from(v: ProcessId) -> Self {
        Value::Pid(v)
    }
}

/// Measurements: named numbers.
pub type Measurements<'a> = &'a [(&'static str, Number)];

/// Metadata: named typed values.
pub type Metadata<'a> = &'a [(&'static str, Value<'a>)];

/// One event as a handler sees it.
#[derive(Clone, Copy)]
pub struct Event<'a> {
    /// Its name.
    pub name: &'a EventName,
    /// Its measurements.
    pub measurements: Measurements<'a>,
    /// Its metadata.
    pub metadata: Metadata<'a>,
}

impl<'a> Event<'a> {
    /// The measurement called `key`.
    pub fn measurement(&self, key: &str) -> Option<Number> {
        self.measurements
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    }

    /// The metadata value called `key`.
    pub fn meta(&self, key: &str) -> Option<Value<'a>> {
        self.metadata
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    }
}

/// `beamish.process.spawned {count=1} {pid=<0.1.0>}`
impl fmt::Debug for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {{", self.name)?;
        for (i, (k, v)) in self.measurements.iter().enumerate() {
            write!(f, "{}{k}={v}", if i > 0 { ", " } else { "" })?;
        }
        f.write_str("} {")?;
        for (i, (k, v)) in self.metadata.iter().enumerate() {
            write!(f, "{}{k}={v:?}", if i > 0 { ", " } else { "" })?;
        }
        f.write_str("}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_by_path_and_separate_segments() {
        const A: EventName = EventName::new(&["ab"]);
        const B: EventName = EventName::new(&["a", "b"]);
        const C: EventName = EventName::new(&["a", "b"]);
        assert_ne!(A, B);
        assert_eq!(B, C);
        assert_eq!(B.to_string(), "a.b");
        assert!(B.starts_with(&["a"]));
        assert!(!A.starts_with(&["a"]));
    }

    #[test]
    fn durations_are_nanoseconds() {
        assert_eq!(Number::from(Duration::from_micros(3)), Number::U64(3_000));
        assert_eq!(Number::from(Duration::MAX), Number::U64(u64::MAX));
    }
}
