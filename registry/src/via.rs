//! "via" names: start a [`GenServer`] under a key of a unique registry, and call, cast to and
//! send to it by that key (Elixir's `{:via, Registry, {registry, key}}`, R-REG-4).

use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use beamish_process::{
    CallError, Ctx, DEFAULT_CALL_TIMEOUT, Exit, GenServer, SendError, ServerRef, StartError,
};

use crate::error::RegisterError;
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
        let handle = Arc::new(server.clone());
        match self.insert(server.pid(), key, value, Some(handle)) {
            Ok(()) => Ok(server),
            Err(RegisterError::AlreadyRegistered(winner)) => {
                let _ = server.stop(Exit::Normal, DEFAULT_CALL_TIMEOUT).await;
                Err(StartError::AlreadyStarted(winner))
            }
        }
    }

    /// The server registered under `key` by [`start_via`](Self::start_via), if there is one
    /// of type `S`.
    pub fn server<S: GenServer>(&self, key: &K) -> Option<ServerRef<S>> {
        let (_, handle) = self.handle(key)?;
        handle?.downcast_ref::<ServerRef<S>>().cloned()
    }

    /// Calls the server registered under `key` (R-REG-4), with the default five-second
    /// timeout. Fails with [`CallError::NotRegistered`] if no server of type `S` was started
    /// under the key by [`start_via`](Self::start_via); otherwise as
    /// [`ServerRef::call`].
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
            Some(s) => s.call_timeout(request, timeout).await,
            None => Err(CallError::NotRegistered),
        }
    }

    /// Casts to the server registered under `key`. Casting to a free key fails with
    /// [`SendError::NotRegistered`] (R-REG-4, R-ORD-4); a cast to a registered server never
    /// fails, as [`ServerRef::cast`].
    ///
    /// # Panics
    /// On a duplicate registry.
    pub fn cast<S: GenServer>(&self, key: &K, message: S::Cast) -> Result<(), SendError<S::Cast>> {
        self.assert_unique();
        match self.server::<S>(key) {
            Some(s) => {
                s.cast(message);
                Ok(())
            }
            None => Err(SendError::NotRegistered(message)),
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
