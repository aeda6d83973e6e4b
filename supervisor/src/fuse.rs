//! A circuit breaker (the `fuse` library's model): named fuses that blow after too many melts
//! in a window and heal after a delay.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
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
/// A fuse installed with [`install_fault_injection`](Fuses::install_fault_injection) also
/// answers `blown` at random at a given rate (R-FUSE-3). An alarm is raised when a fuse blows
/// and cleared after three consecutive `ok` answers once it has healed (the `fuse` library's
/// alarm handler); [`alarms`](Fuses::alarms) lists the raised ones and
/// [`subscribe_alarms`](Fuses::subscribe_alarms) streams the changes.
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
    alarm_subscribers: Mutex<Vec<mpsc::UnboundedSender<AlarmEvent>>>,
}

/// An alarm about a fuse was raised (it blew) or cleared (three `ok` answers in a row after
/// it healed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmEvent {
    /// The fuse.
    pub name: Arc<str>,
    /// `true` when raised, `false` when cleared.
    pub raised: bool,
}

/// `ok` answers in a row that clear a fuse's alarm.
const OKS_TO_CLEAR_ALARM: u32 = 3;

struct Fuse {
    name: Arc<str>,
    blown: AtomicBool,
    disabled: AtomicBool,
    /// Raised while blown, and until `OKS_TO_CLEAR_ALARM` ok answers in a row after healing.
    alarm: AtomicBool,
    oks_since_heal: AtomicU32,
    /// `Some(rate)` for a fault-injection fuse: the share of asks answered `blown` at random.
    fault_rate: Option<f64>,
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
        self.install_with(name, policy, None);
    }

    /// Installs a fault-injection fuse (`{fault_injection, Rate, MaxR, MaxT}`, R-FUSE-3): it
    /// behaves as an ordinary fuse with `policy`, and besides answers `blown` at random to a
    /// share `rate` (0.0 to 1.0) of the asks, to test how callers cope with a blown fuse.
    pub fn install_fault_injection(&self, name: &str, rate: f64, policy: FusePolicy) {
        self.install_with(name, policy, Some(rate.clamp(0.0, 1.0)));
    }

    fn install_with(&self, name: &str, policy: FusePolicy, fault_rate: Option<f64>) {
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
            alarm: AtomicBool::new(false),
            oks_since_heal: AtomicU32::new(0),
            fault_rate,
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
        if fuse.fault_rate.is_some_and(|rate| random_unit() < rate) {
            return Ok(FuseState::Blown);
        }
        if !fuse.blown.load(Ordering::Acquire) {
            if fuse.alarm.load(Ordering::Acquire) {
                let fuse = fuse.clone();
                drop(map);
                self.count_ok(&fuse);
            }
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
            self.count_ok(&fuse);
            FuseState::Ok
        })
    }

    /// One more `ok` answer for a fuse whose alarm is raised; the third in a row clears it.
    fn count_ok(&self, fuse: &Fuse) {
        let oks = fuse.oks_since_heal.fetch_add(1, Ordering::AcqRel) + 1;
        if oks >= OKS_TO_CLEAR_ALARM && fuse.alarm.swap(false, Ordering::AcqRel) {
            self.publish_alarm(&fuse.name, false);
        }
    }

    /// The fuses whose alarm is raised.
    pub fn alarms(&self) -> Vec<Arc<str>> {
        let mut v: Vec<Arc<str>> = self
            .read()
            .values()
            .filter(|f| f.alarm.load(Ordering::Acquire))
            .map(|f| f.name.clone())
            .collect();
        v.sort();
        v
    }

    /// A stream of alarm changes: raised when a fuse blows, cleared after three `ok` answers
    /// in a row once it has healed (R-FUSE-3).
    pub fn subscribe_alarms(&self) -> AlarmEvents {
        let (tx, rx) = mpsc::unbounded_channel();
        self.inner
            .alarm_subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(tx);
        AlarmEvents { rx }
    }

    fn publish_alarm(&self, name: &Arc<str>, raised: bool) {
        let ev = AlarmEvent {
            name: name.clone(),
            raised,
        };
        self.inner
            .alarm_subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|s| s.send(ev.clone()).is_ok());
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
        fuse.oks_since_heal.store(0, Ordering::Release);
        self.publish(&fuse.name, FuseState::Blown);
        if !fuse.alarm.swap(true, Ordering::AcqRel) {
            self.publish_alarm(&fuse.name, true);
        }
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
        fuse.oks_since_heal.store(0, Ordering::Release);
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

/// A number in `[0, 1)` from a per-thread xorshift generator seeded from the standard
/// library's random hash keys: cheap enough for every `ask` of a fault-injection fuse, and
/// no dependency for a testing aid.
fn random_unit() -> f64 {
    use std::cell::Cell;
    use std::hash::{BuildHasher, Hasher};
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(0x9e37_79b9_7f4a_7c15);
            h.finish() | 1
        });
    }
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}

/// The receiving end of [`Fuses::subscribe_alarms`].
#[derive(Debug)]
pub struct AlarmEvents {
    rx: mpsc::UnboundedReceiver<AlarmEvent>,
}

impl AlarmEvents {
    /// The next alarm change; `None` once the table is gone.
    pub async fn recv(&mut self) -> Option<AlarmEvent> {
        self.rx.recv().await
    }

    /// The next alarm change if one is waiting.
    pub fn try_recv(&mut self) -> Option<AlarmEvent> {
        self.rx.try_recv().ok()
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
