//! The handler table: attach, detach, emit.

use std::collections::HashMap;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use crate::event::{Event, EventName, Measurements, Metadata, Value};
use crate::events;

/// What a handler is: a function of the event, run by the emitter.
pub type HandlerFn = dyn Fn(&Event<'_>) + Send + Sync + 'static;

/// A set of event handlers, as Erlang's `:telemetry` keeps them: attach a handler to event
/// names under an id, emit events, detach by id.
///
/// There is no global table: a `Telemetry` is a cheap-to-clone handle (every clone is the same
/// table), and a beamish `Node` carries one, so two nodes in one test never see each other's
/// events.
///
/// Handlers run synchronously in the emitting process, in the order they were attached. A
/// handler that panics is detached (as `:telemetry` does) and reported, through `tracing` and
/// through the [`events::telemetry::HANDLER_FAILURE`] event; the emitter carries on.
///
/// Emitting an event that no handler listens to costs one atomic load and a branch (see
/// [`Telemetry::enabled`]), so the runtime emits everywhere.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use beamish_telemetry::{EventName, Telemetry};
///
/// const DONE: EventName = EventName::new(&["my_app", "job", "done"]);
///
/// let telemetry = Telemetry::new();
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let sink = seen.clone();
/// telemetry
///     .attach("count-jobs", &[DONE], move |event| {
///         sink.lock().unwrap().push(event.measurement("items").unwrap().as_f64());
///     })
///     .unwrap();
///
/// telemetry.emit(&DONE, &[("items", 3u64.into())], &[("queue", "default".into())]);
/// assert_eq!(*seen.lock().unwrap(), vec![3.0]);
///
/// assert!(telemetry.detach("count-jobs"));
/// telemetry.emit(&DONE, &[("items", 4u64.into())], &[]);
/// assert_eq!(seen.lock().unwrap().len(), 1);
/// ```
#[derive(Clone, Default)]
pub struct Telemetry {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// One bit per event-name hash (mod 64) that some handler listens to. Read on every emit;
    /// written only under `table`'s write lock.
    mask: AtomicU64,
    /// Copy-on-write: emitters clone the `Arc` and let go of the lock before running handlers,
    /// so a handler may attach or detach (even itself) without deadlocking.
    table: RwLock<Arc<Table>>,
}

#[derive(Default, Clone)]
struct Table {
    /// Handlers in attach order.
    handlers: Vec<Arc<Handler>>,
    /// Event-name hash -> handlers listening to a name with that hash, in attach order.
    by_hash: HashMap<u64, Vec<Arc<Handler>>>,
}

struct Handler {
    id: Arc<str>,
    events: Vec<EventName>,
    run: Box<HandlerFn>,
}

/// A handler as [`Telemetry::handlers`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerInfo {
    /// Its id.
    pub id: Arc<str>,
    /// The events it listens to.
    pub events: Vec<EventName>,
}

/// Why a handler could not be attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachError {
    /// A handler with this id is already attached (`{error, already_exists}`).
    AlreadyExists(Arc<str>),
    /// The handler listens to no event.
    NoEvents,
}

impl fmt::Display for AttachError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttachError::AlreadyExists(id) => {
                write!(f, "a telemetry handler with id {id:?} is already attached")
            }
            AttachError::NoEvents => f.write_str("a telemetry handler must listen to some event"),
        }
    }
}

impl std::error::Error for AttachError {}

impl fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<_> = self.handlers().into_iter().map(|h| h.id).collect();
        f.debug_struct("Telemetry").field("handlers", &ids).finish()
    }
}

impl Telemetry {
    /// An empty handler table.
    pub fn new() -> Telemetry {
        Telemetry::default()
    }

    /// Whether `a` and `b` are the same table.
    pub fn same(a: &Telemetry, b: &Telemetry) -> bool {
        Arc::ptr_eq(&a.inner, &b.inner)
    }

    /// Attaches `handler` to `events` under `id` (`:telemetry.attach_many`). Ids are unique
    /// within a table.
    pub fn attach(
        &self,
        id: impl Into<Arc<str>>,
        events: &[EventName],
        handler: impl Fn(&Event<'_>) + Send + Sync + 'static,
    ) -> Result<(), AttachError> {
        let id = id.into();
        if events.is_empty() {
            return Err(AttachError::NoEvents);
        }
        let mut events = events.to_vec();
        events.dedup();
        let handler = Arc::new(Handler {
            id,
            events,
            run: Box::new(handler),
        });
        self.update(|table| {
            if table.handlers.iter().any(|h| h.id == handler.id) {
                return Err(AttachError::AlreadyExists(handler.id.clone()));
            }
            table.handlers.push(handler.clone());
            Ok(())
        })
    }

    /// Detaches the handler `id`; false if there was none (`{error, not_found}`).
    pub fn detach(&self, id: &str) -> bool {
        self.update(|table| {
            let before = table.handlers.len();
            table.handlers.retain(|h| &*h.id != id);
            table.handlers.len() != before
        })
    }

    /// The handlers listening to an event whose name starts with `prefix` (all handlers for an
    /// empty prefix), in attach order (`:telemetry.list_handlers`).
    pub fn handlers_for(&self, prefix: &[&str]) -> Vec<HandlerInfo> {
        self.load()
            .handlers
            .iter()
            .filter(|h| h.events.iter().any(|e| e.starts_with(prefix)))
            .map(|h| HandlerInfo {
                id: h.id.clone(),
                events: h.events.clone(),
            })
            .collect()
    }

    /// Every handler, in attach order.
    pub fn handlers(&self) -> Vec<HandlerInfo> {
        self.handlers_for(&[])
    }

    /// Whether some handler may listen to `event`: one relaxed atomic load. False means no
    /// handler does; true means one probably does (64 bits, so names can share a bit). Use it
    /// to skip building measurements that cost something to compute.
    #[inline]
    pub fn enabled(&self, event: &EventName) -> bool {
        self.inner.mask.load(Ordering::Relaxed) & event.bit() != 0
    }

    /// Emits `event` to the handlers attached to it (`:telemetry.execute`). Costs one atomic
    /// load when none is.
    #[inline]
    pub fn emit(&self, event: &EventName, measurements: Measurements<'_>, metadata: Metadata<'_>) {
        if self.enabled(event) {
            self.dispatch(&Event {
                name: event,
                measurements,
                metadata,
            });
        }
    }

    /// Emits an event whose measurements and metadata are built by `build`, which runs only if
    /// some handler may listen.
    #[inline]
    pub fn emit_with(&self, event: &EventName, build: impl FnOnce(&mut dyn FnMut(&Event<'_>))) {
        if self.enabled(event) {
            build(&mut |e: &Event<'_>| self.dispatch(e));
        }
    }

    #[cold]
    #[inline(never)]
    fn dispatch(&self, event: &Event<'_>) {
        let table = self.load();
        let Some(handlers) = table.by_hash.get(&event.name.hash()) else {
            return;
        };
        for handler in handlers {
            if !handler.events.contains(event.name) {
                continue;
            }
            let outcome = catch_unwind(AssertUnwindSafe(|| (handler.run)(event)));
            if let Err(payload) = outcome {
                self.handler_failed(handler, event, &panic_message(&*payload));
            }
        }
    }

    fn handler_failed(&self, handler: &Arc<Handler>, event: &Event<'_>, reason: &str) {
        // Detach this very handler, not a newer one attached under the same id.
        let detached = self.update(|table| {
            let before = table.handlers.len();
            table.handlers.retain(|h| !Arc::ptr_eq(h, handler));
            table.handlers.len() != before
        });
        if !detached {
            return;
        }
        tracing::error!(
            target: "beamish_telemetry",
            handler = %handler.id,
            event = %event.name,
            reason,
            "telemetry handler failed and was detached"
        );
        let name = event.name.to_string();
        self.emit(
            &events::telemetry::HANDLER_FAILURE,
            &[],
            &[
                ("handler_id", Value::Str(&handler.id)),
                ("event_name", Value::Str(&name)),
                ("reason", Value::Str(reason)),
            ],
        );
    }

    fn load(&self) -> Arc<Table> {
        self.inner
            .table
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Edits a copy of the table, rebuilds its index and the mask, and publishes it.
    fn update<R>(&self, edit: impl FnOnce(&mut Table) -> R) -> R {
        let mut guard = self
            .inner
            .table
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let mut table = Table::clone(&guard);
        let result = edit(&mut table);
        table.by_hash.clear();
        let mut mask = 0;
        for handler in &table.handlers {
            let mut hashes: Vec<u64> = handler.events.iter().map(|e| e.hash()).collect();
            hashes.sort_unstable();
            hashes.dedup();
            for hash in hashes {
                table.by_hash.entry(hash).or_default().push(handler.clone());
            }
            for event in &handler.events {
                mask |= event.bit();
            }
        }
        *guard = Arc::new(table);
        self.inner.mask.store(mask, Ordering::Relaxed);
        result
    }
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}
