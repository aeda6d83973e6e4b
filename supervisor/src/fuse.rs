//! A circuit breaker (the `fuse` library's model): named fuses that blow after too many melts
//! in a window and heal after a delay.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::window::RestartWindow;

/// A fuse's policy (R-FUSE-1): blown on the `(max_melts + 1)`-th melt within `window` (melts
/// less than `window` old count), healed `reset` after it blew.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FusePolicy {
    /// Melts tolerated inside the window (`MaxR`); 0 blows on the first melt.
    pub max_melts: u32,
    /// The window (`MaxT`).
    pub window: Duration,
    /// How long after blowing the fuse heals by itself (`ResetMs`).
    pub reset: Duration,
}

/// What `ask` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FuseState {
    /// Calls may go through.
    Ok,
    /// The fuse is blown (or its circuit disabled): do not call.
    Blown,
}

/// No fuse has that name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FuseError {
    /// `{error, not_found}`.
    NotFound,
}

impl fmt::Display for FuseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no such fuse (not_found)")
    }
}

impl std::error::Error for FuseError {}

/// A fuse blew or healed (R-FUSE-3: `{Name, blown | ok}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuseEvent {
    /// The fuse.
    pub name: Arc<str>,
    /// Its new state.
    pub state: FuseState,
}

/// A table of named fuses. Cheap to clone; every clone is the same table.
///
/// [`ask`](Fuses::ask) takes a read lock on the table and reads two atomic flags: no process
/// round trip, so it can guard every call to a downstream service. Melting, resetting and
/// installing take the fuse's own lock. A blown fuse heals `reset` after it blew, by a timer
/// on the current tokio runtime (and, without one, at the first `ask` after that time).
///
/// Not modelled: `fault_injection` fuses and the alarm raised while a fuse is blown.
#[derive(Clone, Default)]
pub struct Fuses {
    inner: Arc<Inner>,
}

impl fmt::Debug for Fuses {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fuses")
            .field("fuses", &self.read().len())
            .finish()
    }
}

#[derive(Default)]
struct Inner {
    fuses: RwLock<HashMap<Arc<str>, Arc<Fuse>>>,
    subscribers: Mutex<Vec<mpsc::UnboundedSender<FuseEvent>>>,
}

struct Fuse {
    name: Arc<str>,
    blown: AtomicBool,
    disabled: AtomicBool,
    /// Bumped at every blow, reset and reinstall, so that a stale heal timer does nothing.
    generation: AtomicU64,
    state: Mutex<FuseInner>,
}

struct FuseInner {
    policy: FusePolicy,
    melts: RestartWindow,
    heal_at: Option<Instant>,
}

impl Fuses {
    /// An empty table.
    pub fn new() -> Fuses {
        Fuses::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<Arc<str>, Arc<Fuse>>> {
        self.inner
            .fuses
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn get(&self, name: &str) -> Result<Arc<Fuse>, FuseError> {
        self.read().get(name).cloned().ok_or(FuseError::NotFound)
    }

    /// Installs the fuse `name` with `policy`, healthy. Reinstalling resets its melts and
    /// options but not a disabled circuit (R-FUSE-3).
    pub fn install(&self, name: &str, policy: FusePolicy) {
        let mut map = self
            .inner
            .fuses
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let disabled = map
            .get(name)
            .is_some_and(|f| f.disabled.load(Ordering::Acquire));
        let name: Arc<str> = name.into();
        let fuse = Fuse {
            name: name.clone(),
            blown: AtomicBool::new(false),
            disabled: AtomicBool::new(disabled),
            generation: AtomicU64::new(0),
            state: Mutex::new(FuseInner {
                policy,
                melts: RestartWindow::exclusive(policy.max_melts, policy.window),
                heal_at: None,
            }),
        };
        if let Some(old) = map.insert(name, Arc::new(fuse)) {
            // A heal timer of the old fuse must not touch anything.
            old.generation.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// `ok`, `blown`, or `NotFound` (R-FUSE-2). A disabled circuit is blown whatever its melts
    /// (R-FUSE-3).
    pub fn ask(&self, name: &str) -> Result<FuseState, FuseError> {
        let map = self.read();
        let fuse = map.get(name).ok_or(FuseError::NotFound)?;
        if fuse.disabled.load(Ordering::Acquire) {
            return Ok(FuseState::Blown);
        }
        if !fuse.blown.load(Ordering::Acquire) {
            return Ok(FuseState::Ok);
        }
        let fuse = fuse.clone();
        drop(map);
        // Blown: heal here if its time has come and no timer did it.
        let due = fuse.lock().heal_at.is_some_and(|t| t <= Instant::now());
        if due {
            self.heal(&fuse, None);
        }
        Ok(if fuse.blown.load(Ordering::Acquire) {
            FuseState::Blown
        } else {
            FuseState::Ok
        })
    }

    /// Records a failure (R-FUSE-1). The `(max_melts + 1)`-th melt inside the window blows the
    /// fuse, which then heals `reset` later.
    pub fn melt(&self, name: &str) -> Result<(), FuseError> {
        let fuse = self.get(name)?;
        let mut st = fuse.lock();
        if fuse.blown.load(Ordering::Acquire) {
            return Ok(());
        }
        if st.melts.add(Instant::now().into_std()) {
            return Ok(());
        }
        let reset = st.policy.reset;
        st.heal_at = Some(Instant::now() + reset);
        fuse.blown.store(true, Ordering::Release);
        let generation = fuse.generation.fetch_add(1, Ordering::AcqRel) + 1;
        drop(st);
        self.publish(&fuse.name, FuseState::Blown);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let fuses = self.clone();
            let fuse = fuse.clone();
            rt.spawn(async move {
                tokio::time::sleep(reset).await;
                fuses.heal(&fuse, Some(generation));
            });
        }
        Ok(())
    }

    /// Heals the fuse at once, melts forgotten (R-FUSE-2).
    pub fn reset(&self, name: &str) -> Result<(), FuseError> {
        let fuse = self.get(name)?;
        fuse.generation.fetch_add(1, Ordering::AcqRel);
        self.heal(&fuse, None);
        Ok(())
    }

    /// Removes the fuse; asking it then answers `NotFound`.
    pub fn remove(&self, name: &str) -> Result<(), FuseError> {
        let removed = self
            .inner
            .fuses
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(name)
            .ok_or(FuseError::NotFound)?;
        removed.generation.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    /// Forces the fuse blown until [`circuit_enable`](Self::circuit_enable), whatever its
    /// melts (R-FUSE-3).
    pub fn circuit_disable(&self, name: &str) -> Result<(), FuseError> {
        self.get(name)?.disabled.store(true, Ordering::Release);
        Ok(())
    }

    /// Ends a [`circuit_disable`](Self::circuit_disable): the fuse answers by its melts again.
    pub fn circuit_enable(&self, name: &str) -> Result<(), FuseError> {
        self.get(name)?.disabled.store(false, Ordering::Release);
        Ok(())
    }

    /// Asks the fuse and, if it is ok, runs `f`; an error from `f` melts the fuse. A blown
    /// fuse answers `Ok(Err(FuseState::Blown))` without running `f` (`fuse:run/3`).
    pub async fn run<T, E, F, Fut>(
        &self,
        name: &str,
        f: F,
    ) -> Result<Result<T, RunError<E>>, FuseError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if self.ask(name)? == FuseState::Blown {
            return Ok(Err(RunError::Blown));
        }
        match f().await {
            Ok(v) => Ok(Ok(v)),
            Err(e) => {
                self.melt(name)?;
                Ok(Err(RunError::Failed(e)))
            }
        }
    }

    /// A stream of the table's events: every blow and every heal (R-FUSE-3).
    pub fn subscribe(&self) -> FuseEvents {
        let (tx, rx) = mpsc::unbounded_channel();
        self.inner
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(tx);
        FuseEvents { rx }
    }

    fn heal(&self, fuse: &Fuse, generation: Option<u64>) {
        let mut st = fuse.lock();
        if generation.is_some_and(|g| g != fuse.generation.load(Ordering::Acquire)) {
            return;
        }
        st.melts.clear();
        st.heal_at = None;
        let was_blown = fuse.blown.swap(false, Ordering::AcqRel);
        drop(st);
        if was_blown {
            self.publish(&fuse.name, FuseState::Ok);
        }
    }

    fn publish(&self, name: &Arc<str>, state: FuseState) {
        let ev = FuseEvent {
            name: name.clone(),
            state,
        };
        self.inner
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|s| s.send(ev.clone()).is_ok());
    }
}

impl Fuse {
    fn lock(&self) -> std::sync::MutexGuard<'_, FuseInner> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Why [`Fuses::run`] did not return a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunError<E> {
    /// The fuse is blown; nothing ran.
    Blown,
    /// The function failed (and melted the fuse).
    Failed(E),
}

/// The receiving end of [`Fuses::subscribe`].
#[derive(Debug)]
pub struct FuseEvents {
    rx: mpsc::UnboundedReceiver<FuseEvent>,
}

impl FuseEvents {
    /// The next event; `None` once the table is gone.
    pub async fn recv(&mut self) -> Option<FuseEvent> {
        self.rx.recv().await
    }

    /// The next event if one is waiting.
    pub fn try_recv(&mut self) -> Option<FuseEvent> {
        self.rx.try_recv().ok()
    }
}
