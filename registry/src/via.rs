//! "via" names: start a [`GenServer`] under a key of a unique registry, and call, cast to and
//! send to it by that key (Elixir's `{:via, Registry, {registry, key}}`, R-REG-4).
//!
//! A via name is a plain lookup of the key, as Elixir's `whereis_name` is: whoever holds the
//! key is reached, a server started by [`Registry::start_via`] or one that registered itself
//! with [`Registry::register`]. The entry keeps only the pid; a call or cast turns it into a
//! typed [`ServerRef`] through the node's process table, and an owner of another type is a
//! typed error ([`ViaError::WrongType`]), never a panic.

use std::hash::Hash;
use std::time::Duration;

use beamish_process::{
    CallError, Ctx, DEFAULT_CALL_TIMEOUT, Exit, GenServer, SendError, ServerRef, StartError,
};

use crate::error::{RegisterError, ViaError};
use crate::registry::{Keys, Registry};

impl<K, V> Registry<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    pub(crate) fn assert_unique(&self) {
        assert!(
            self.keys_kind() == Keys::Unique,
            "via names need a unique registry (R-REG-4: Elixir raises ArgumentError)"
        );
    }

    /// Starts `server` from outside any process and registers it under `key` with `value`
    /// (`GenServer.start(mod, arg, name: {:via, Registry, {reg, key, value}})`). Fails with
    /// [`StartError::AlreadyStarted`] if a live process holds the key (R-REG-4).
    ///
    /// The key is checked before the server starts. If another start takes the key while
    /// this server runs its `init`, this server is stopped with `normal` and the start fails
    /// with `AlreadyStarted` (where OTP would not have run `init` at all).
    ///
    /// # Panics
    /// On a duplicate registry (R-REG-4: a programming error, `ArgumentError` in Elixir).
    pub async fn start_via<S: GenServer>(
        &self,
        key: K,
        value: V,
        server: S,
    ) -> Result<ServerRef<S>, StartError> {
        self.assert_unique();
        self.check_free(&key)?;
        let server = self.node().start(server).await?;
        self.claim(server, key, value).await
    }

    /// Starts `server` linked to the calling process (`start_link` with a via name), and
    /// registers it under `key` with `value`; see [`start_via`](Self::start_via).
    ///
    /// # Panics
    /// On a duplicate registry.
    pub async fn start_link_via<S: GenServer, M: Send + 'static>(
        &self,
        ctx: &Ctx<M>,
        key: K,
        value: V,
        server: S,
    ) -> Result<ServerRef<S>, StartError> {
        self.assert_unique();
        self.check_free(&key)?;
        let server = ctx.start_link(server).await?;
        self.claim(server, key, value).await
    }

    pub(crate) fn check_free(&self, key: &K) -> Result<(), StartError> {
        match self.whereis(key) {
            Some(pid) if self.node().is_alive(pid) => Err(StartError::AlreadyStarted(pid)),
            _ => Ok(()),
        }
    }

    pub(crate) async fn claim<S: GenServer>(
        &self,
        server: ServerRef<S>,
        key: K,
        value: V,
    ) -> Result<ServerRef<S>, StartError> {
        match self.insert(server.pid(), key, value) {
            Ok(()) => Ok(server),
            Err(RegisterError::AlreadyRegistered(winner)) => {
                let _ = server.stop(Exit::Normal, DEFAULT_CALL_TIMEOUT).await;
                Err(StartError::AlreadyStarted(winner))
            }
        }
    }

    /// A typed handle to the server that holds `key`, whether [`start_via`](Self::start_via)
    /// started it or it registered itself with [`register`](Self::register) (R-REG-4). Fails
    /// with [`ViaError::NotRegistered`] for a free key, [`ViaError::NoProc`] if the owner has
    /// ended (R-REG-2), and [`ViaError::WrongType`] if the owner is not a server of type `S`.
    pub fn server<S: GenServer>(&self, key: &K) -> Result<ServerRef<S>, ViaError> {
        let pid = self.whereis(key).ok_or(ViaError::NotRegistered)?;
        match self.node().server::<S>(pid) {
            Ok(server) => Ok(server),
            // `Node::server` says `NoProc` for both; the table tells them apart.
            Err(_) if self.node().is_alive(pid) => Err(ViaError::WrongType {
                pid,
                expected: std::any::type_name::<S>(),
            }),
            Err(_) => Err(ViaError::NoProc(pid)),
        }
    }

    /// Calls the server that holds `key` (R-REG-4), with the default five-second timeout.
    /// Fails with [`CallError::NotRegistered`] for a free key, and with
    /// [`CallError::NoProc`] if the owner has ended or is not a server of type `S` (as
    /// [`Node::call`](beamish_process::Node::call) to such a pid; [`server`](Self::server)
    /// tells these apart); otherwise as [`ServerRef::call`].
    ///
    /// # Panics
    /// On a duplicate registry.
    pub async fn call<S: GenServer>(
        &self,
        key: &K,
        request: S::Call,
    ) -> Result<S::Reply, CallError> {
        self.call_timeout::<S>(key, request, DEFAULT_CALL_TIMEOUT)
            .await
    }

    /// [`call`](Self::call) with a timeout.
    ///
    /// # Panics
    /// On a duplicate registry.
    pub async fn call_timeout<S: GenServer>(
        &self,
        key: &K,
        request: S::Call,
        timeout: Duration,
    ) -> Result<S::Reply, CallError> {
        self.assert_unique();
        match self.server::<S>(key) {
            Ok(s) => s.call_timeout(request, timeout).await,
            Err(ViaError::NotRegistered) => Err(CallError::NotRegistered),
            Err(ViaError::NoProc(_) | ViaError::WrongType { .. }) => Err(CallError::NoProc),
        }
    }

    /// Casts to the server that holds `key`. Casting to a free key fails with
    /// [`SendError::NotRegistered`] (R-REG-4, R-ORD-4), to an owner that is not a server of
    /// type `S` with [`SendError::WrongType`], and to a server with a full bounded mailbox
    /// with [`SendError::Full`], as [`ServerRef::cast`]; one whose owner has just ended is
    /// dropped (R-GS-5).
    ///
    /// # Panics
    /// On a duplicate registry.
    pub fn cast<S: GenServer>(&self, key: &K, message: S::Cast) -> Result<(), SendError<S::Cast>> {
        self.assert_unique();
        match self.server::<S>(key) {
            Ok(s) => s
                .cast(message)
                .map_err(|full| SendError::Full(full.into_inner())),
            Err(ViaError::NotRegistered) => Err(SendError::NotRegistered(message)),
            Err(ViaError::WrongType { .. }) => Err(SendError::WrongType(message)),
            Err(ViaError::NoProc(_)) => Ok(()),
        }
    }

    /// Sends `message` to the process registered under `key` (any process, not only servers
    /// started by a via name). Sending to a free key fails with [`SendError::NotRegistered`]
    /// (R-REG-4, R-ORD-4), not a silent drop; otherwise as `Node::send`.
    ///
    /// # Panics
    /// On a duplicate registry.
    pub fn send<M: Send + 'static>(&self, key: &K, message: M) -> Result<(), SendError<M>> {
        self.assert_unique();
        match self.whereis(key) {
            Some(pid) => self.node().send(pid, message),
            None => Err(SendError::NotRegistered(message)),
        }
    }
}

#[cfg(test)]
mod tests {
    use beamish_process::{Caller, Ctx, Node, Reply, ServerCtx};

    use super::*;

    struct Echo;

    impl GenServer for Echo {
        type Call = u8;
        type Reply = u8;
        type Cast = ();
        type Info = ();

        async fn handle_call(
            &mut self,
            n: u8,
            _: Caller<'_, u8>,
            _: &mut ServerCtx<Self>,
        ) -> Result<Reply<u8>, Exit> {
            Ok(Reply::Now(n))
        }
    }

    /// R-REG-4, R-REG-2: an owner that has ended while its entry is still in the table (its
    /// watcher has not run yet) is `ViaError::NoProc`; a call to it is `NoProc` and a cast is
    /// dropped, as to any ended server. On a current-thread runtime nothing else runs between
    /// the insert and the lookups, so the entry is certainly still there.
    #[tokio::test(flavor = "current_thread")]
    async fn r_reg_2_via_name_of_an_ended_owner_is_noproc() {
        let node = Node::start_default().unwrap();
        let reg: Registry<u8, ()> = Registry::start(&node, Keys::Unique).unwrap();
        let owner = node.spawn(|_: Ctx<()>| async {}).unwrap();
        let dead = owner.pid();
        assert_eq!(node.monitor(dead).await, Exit::Normal);

        reg.insert(dead, 1, ()).unwrap();
        assert_eq!(reg.whereis(&1), Some(dead));
        assert_eq!(
            reg.server::<Echo>(&1).map(|s| s.pid()),
            Err(ViaError::NoProc(dead))
        );
        assert_eq!(reg.cast::<Echo>(&1, ()).map_err(|e| e.to_string()), Ok(()));
        assert_eq!(reg.call::<Echo>(&1, 5).await, Err(CallError::NoProc));

        reg.sync().await;
        assert_eq!(
            reg.server::<Echo>(&1).map(|s| s.pid()),
            Err(ViaError::NotRegistered)
        );
    }
}
