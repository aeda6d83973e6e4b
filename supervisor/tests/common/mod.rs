//! Helpers shared by the supervisor's behaviour tests.
//!
//! Tests wait on events (a log of what workers did, monitors, calls), never on sleeps; every
//! wait goes through [`within`], which under the paused clock fires only when the awaited
//! event can no longer happen. Workers log their starts and their shutdowns to the test, so a
//! test reads the order in which a supervisor stopped and started them.

#![allow(dead_code)] // each test binary uses its own subset

use std::collections::HashMap;
use std::fmt::Debug;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use beamish_process::{Ctx, Exit, Message, Node, Pid, SpawnOpts};
use beamish_supervisor::{ChildSpec, Started, SupervisorRef};
use tokio::sync::mpsc;

/// How long [`within`] waits before calling a test stuck.
pub(crate) const GUARD: Duration = Duration::from_secs(3600);

pub(crate) fn node() -> Node {
    Node::start_default().expect("tests run inside a tokio runtime")
}

/// Awaits `fut`, failing the test if it never completes.
pub(crate) async fn within<F: Future>(what: &str, fut: F) -> F::Output {
    match tokio::time::timeout(GUARD, fut).await {
        Ok(v) => v,
        Err(_) => panic!("stuck waiting for {what}"),
    }
}

/// The exit reason of `pid`, once it has ended.
pub(crate) async fn exit_of(node: &Node, pid: Pid) -> Exit {
    within("a process to exit", node.monitor(pid)).await
}

/// What a worker did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ev {
    /// Started as this pid.
    Start(&'static str, Pid),
    /// Got its supervisor's shutdown signal (it traps exits) and ends with `shutdown`.
    Stop(&'static str),
}

impl Ev {
    pub(crate) fn pid(&self) -> Option<Pid> {
        match self {
            Ev::Start(_, p) => Some(*p),
            Ev::Stop(_) => None,
        }
    }
}

/// The test's end of the workers' log.
pub(crate) struct Log {
    rx: mpsc::UnboundedReceiver<Ev>,
    pub(crate) tx: mpsc::UnboundedSender<Ev>,
}

impl Log {
    pub(crate) fn new() -> Log {
        let (tx, rx) = mpsc::unbounded_channel();
        Log { rx, tx }
    }

    /// The next thing a worker did.
    pub(crate) async fn next(&mut self) -> Ev {
        within("a worker event", self.rx.recv())
            .await
            .expect("the log stays open")
    }

    /// The next `n` events.
    pub(crate) async fn take(&mut self, n: usize) -> Vec<Ev> {
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(self.next().await);
        }
        v
    }

    /// The next start of `id`, its pid.
    pub(crate) async fn started(&mut self, id: &'static str) -> Pid {
        match self.next().await {
            Ev::Start(i, p) if i == id => p,
            other => panic!("expected {id} to start, got {other:?}"),
        }
    }

    /// Nothing more was logged (so far).
    pub(crate) fn assert_quiet(&mut self) {
        if let Ok(ev) = self.rx.try_recv() {
            panic!("unexpected worker event {ev:?}");
        }
    }
}

/// A worker that logs its start (from its start function, so in the order the supervisor
/// starts children), traps exits from birth so that it logs its shutdown (then exits with the
/// signal's reason), and otherwise ends with whatever exit reason it is sent as a message.
pub(crate) fn worker(id: &'static str, log: &Log) -> ChildSpec {
    let tx = log.tx.clone();
    ChildSpec::new(id, move |linker| {
        let tx = tx.clone();
        Box::pin(async move {
            let stop = tx.clone();
            let opts = SpawnOpts {
                trap_exit: true,
                ..SpawnOpts::default()
            };
            let addr = linker
                .build()
                .opts(opts)
                .spawn(move |mut ctx: Ctx<Exit>| async move {
                    loop {
                        match ctx.recv().await {
                            Message::Msg(reason) => return reason,
                            Message::Exit(e) if Some(e.from) == ctx.parent() => {
                                let _ = stop.send(Ev::Stop(id));
                                return e.reason;
                            }
                            _ => {}
                        }
                    }
                })?;
            let _ = tx.send(Ev::Start(id, addr.pid()));
            Ok(Started::Running(addr.pid()))
        })
    })
}

/// Makes the worker `pid` exit with `reason`.
pub(crate) fn crash(node: &Node, pid: Pid, reason: Exit) {
    node.send(pid, reason).expect("the worker is alive");
}

/// The pids of the running children, by id, as `which_children` says.
pub(crate) async fn pids(sup: &SupervisorRef) -> HashMap<String, Pid> {
    sup.which_children()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|c| Some((c.id?.to_string(), c.status.pid()?)))
        .collect()
}

/// A supervisor report, as captured from `tracing`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Report {
    pub(crate) report: String,
    pub(crate) child: String,
    pub(crate) reason: Option<String>,
}

/// Captures the supervisor's `tracing` reports on this thread (tests run on a current-thread
/// runtime, so every process runs here).
///
/// One global subscriber forwards events to the capture of the thread they happen on: a
/// per-thread `set_default` would race with tracing's per-callsite interest cache when tests
/// run in parallel threads.
#[derive(Clone, Default)]
pub(crate) struct Reports(Arc<Mutex<Vec<Report>>>);

thread_local! {
    static CAPTURE: std::cell::RefCell<Option<Reports>> = const { std::cell::RefCell::new(None) };
}

/// Removes the thread's capture when dropped.
pub(crate) struct CaptureGuard;

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        CAPTURE.with(|c| c.borrow_mut().take());
    }
}

impl Reports {
    /// Captures this thread's reports for the rest of the test (while the guard lives).
    pub(crate) fn install() -> (Reports, CaptureGuard) {
        static GLOBAL: std::sync::Once = std::sync::Once::new();
        GLOBAL.call_once(|| {
            tracing::subscriber::set_global_default(Forward).expect("no other global subscriber");
        });
        let r = Reports::default();
        CAPTURE.with(|c| *c.borrow_mut() = Some(r.clone()));
        (r, CaptureGuard)
    }

    /// Everything captured so far, oldest first, emptying the capture.
    pub(crate) fn take(&self) -> Vec<Report> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

/// The global subscriber: hands each report to the current thread's capture, if any.
struct Forward;

#[derive(Default)]
struct Fields(HashMap<String, String>);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl tracing::Subscriber for Forward {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut f = Fields::default();
        event.record(&mut f);
        let Some(report) = f.0.remove("report") else {
            return;
        };
        let report = Report {
            report,
            child: f.0.remove("child").unwrap_or_default(),
            reason: f.0.remove("reason"),
        };
        CAPTURE.with(|c| {
            if let Some(r) = &*c.borrow() {
                r.0.lock().unwrap().push(report);
            }
        });
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}
