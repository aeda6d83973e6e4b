//! Process and reference identifiers: node-aware, `Copy`, ordered, serialisable.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Identifies a node in a cluster: a stable 64-bit hash of the node's name, or
/// [`NodeId::LOCAL`] for an unnamed node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NodeId(pub u64);

impl NodeId {
    /// The id of an unnamed node (Erlang's `nonode@nohost`); its pids display as `<0.N.C>`.
    pub const LOCAL: NodeId = NodeId(0);

    /// The id of the node called `name`: FNV-1a over the name's bytes, the same on every
    /// machine and every build, so two nodes agree on it without talking. Never `LOCAL`.
    pub fn from_name(name: &str) -> NodeId {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in name.as_bytes() {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        NodeId(h.max(1))
    }
}

/// A process identifier: which node, which process on it, which incarnation of that node.
///
/// `Copy + Hash + Ord` and serde-serialisable, so a pid can travel in messages and across
/// nodes unchanged. It displays like Erlang's `<A.B.C>`: `A` is the node (`0` for an unnamed
/// node; a named node shows its id's low 32 bits), `B` the process's slot number and `C` the
/// slot's generation, so `<0.123.1>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Pid {
    node: NodeId,
    serial: u64,
    creation: u32,
}

impl Pid {
    /// Builds a pid from its parts. Mostly for the distribution layer and tests: a pid made up
    /// by hand refers to no process unless one has that identity.
    pub const fn from_parts(node: NodeId, serial: u64, creation: u32) -> Pid {
        Pid {
            node,
            serial,
            creation,
        }
    }

    /// The node this process lives on.
    pub const fn node(&self) -> NodeId {
        self.node
    }

    /// The process's number on its node; never reused while the node runs.
    pub const fn serial(&self) -> u64 {
        self.serial
    }

    /// The incarnation of the node that spawned the process.
    pub const fn creation(&self) -> u32 {
        self.creation
    }
}

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "<{}.{}.{}>",
            self.node.0 as u32,
            self.serial & 0xffff_ffff,
            self.serial >> 32
        )
    }
}

impl fmt::Debug for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A unique reference, as made by Erlang's `make_ref()`: names a monitor (and, later, other
/// one-off conversations). Unique per node and node incarnation.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Ref {
    node: NodeId,
    id: u64,
    creation: u32,
}

impl Ref {
    pub(crate) const fn new(node: NodeId, id: u64, creation: u32) -> Ref {
        Ref { node, id, creation }
    }

    /// The node that made the reference.
    pub const fn node(&self) -> NodeId {
        self.node
    }
}

impl fmt::Display for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#Ref<{}.{}.{}>",
            self.node.0 as u32, self.creation, self.id
        )
    }
}

impl fmt::Debug for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_like_erlang() {
        let p = Pid::from_parts(NodeId::LOCAL, (1 << 32) | 123, 0);
        assert_eq!(p.to_string(), "<0.123.1>");
        assert_eq!(format!("{p:?}"), "<0.123.1>");
    }

    #[test]
    fn node_ids_are_stable_and_never_local() {
        assert_eq!(NodeId::from_name("a@host"), NodeId::from_name("a@host"));
        assert_ne!(NodeId::from_name("a@host"), NodeId::from_name("b@host"));
        assert_ne!(NodeId::from_name(""), NodeId::LOCAL);
    }

    #[test]
    fn pids_order_by_node_then_serial() {
        let a = Pid::from_parts(NodeId(1), 5, 0);
        let b = Pid::from_parts(NodeId(1), 6, 0);
        let c = Pid::from_parts(NodeId(2), 1, 0);
        assert!(a < b && b < c);
    }
}

impl From<Pid> for beamish_telemetry::ProcessId {
    fn from(pid: Pid) -> Self {
        beamish_telemetry::ProcessId {
            node: pid.node.0,
            serial: pid.serial,
            creation: pid.creation,
        }
    }
}

impl From<beamish_telemetry::ProcessId> for Pid {
    fn from(id: beamish_telemetry::ProcessId) -> Self {
        Pid::from_parts(NodeId(id.node), id.serial, id.creation)
    }
}

/// A pid in telemetry metadata.
impl From<Pid> for beamish_telemetry::Value<'_> {
    fn from(pid: Pid) -> Self {
        beamish_telemetry::Value::Pid(pid.into())
    }
}

#[cfg(test)]
mod telemetry_tests {
    use super::*;

    #[test]
    fn a_pid_shows_the_same_through_telemetry() {
        let pid = Pid::from_parts(NodeId(3), (9 << 32) | 130, 2);
        let id = beamish_telemetry::ProcessId::from(pid);
        assert_eq!(id.to_string(), pid.to_string());
        assert_eq!(Pid::from(id), pid);
    }
}
