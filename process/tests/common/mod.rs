//! Helpers shared by the behaviour tests of `beamish-process`.
//!
//! Tests wait on events (messages, monitors, oneshot gates), never on sleeps. Every wait goes
//! through [`within`], which turns a hang into a failure: under tokio's paused clock it fires
//! only once the runtime has nothing left to do, that is, when the awaited event can no longer
//! happen; on a real clock it is a generous guard, never a speed assertion.
//!
//! [`Got`] is the one place that knows the shape of [`Message`]: tests compare what processes
//! receive as `Got` values, so a change in how `Message` carries exits and `DOWN`s touches
//! only this file.
//!
//! A note on current-thread runtimes, which many tests rely on to observe that something did
//! *not* happen: a process terminates within one poll of its task (release the name, close the
//! mailbox, signal links and monitors, leave the table). On a current-thread runtime no other
//! task runs in between, so once `node.monitor(pid)` resolves, every signal the dead process
//! sent is queued at its receivers, and a message sent afterwards is seen after them.

#![allow(dead_code)] // each test binary uses its own subset

use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;

use beamish_process::{Addr, Ctx, Exit, Message, Node, Pid, Ref, SpawnOpts};
use tokio::sync::{mpsc, oneshot};

/// How long [`within`] waits before calling a test stuck.
pub(crate) const GUARD: Duration = Duration::from_secs(30);

/// A node with the default configuration on the current runtime.
pub(crate) fn node() -> Node {
    Node::start_default().expect("tests run inside a tokio runtime")
}

/// Awaits `fut`, failing the test if it never completes (see the module docs).
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

/// Sends `reason` to `pid` from outside and waits for its end. The monitor is set first: on a
/// multi-thread runtime the target may end before a monitor set afterwards could see it (and
/// that monitor would then report `noproc`).
pub(crate) async fn exit_after(node: &Node, pid: Pid, reason: Exit) -> Exit {
    let down = node.monitor(pid);
    node.exit(pid, reason);
    within("a process to exit", down).await
}

/// What a process received, in a form tests can compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Got<T> {
    /// A plain message.
    Msg(T),
    /// A trapped exit signal (`{'EXIT', From, Reason}`).
    Exit { from: Pid, reason: Exit },
    /// A monitor fired (`{'DOWN', Ref, process, Pid, Reason}`).
    Down { mref: Ref, pid: Pid, reason: Exit },
}

impl<T> From<Message<T>> for Got<T> {
    fn from(m: Message<T>) -> Got<T> {
        match m {
            Message::Msg(t) => Got::Msg(t),
            Message::Exit(e) => Got::Exit {
                from: e.from,
                reason: e.reason,
            },
            Message::Down(d) => Got::Down {
                mref: d.mref,
                pid: d.pid,
                reason: d.reason,
            },
        }
    }
}

impl<T> Got<T> {
    /// Whether this is a plain message.
    pub(crate) fn is_msg(&self) -> bool {
        matches!(self, Got::Msg(_))
    }
}

/// Receives the next message of a process as a [`Got`].
pub(crate) async fn recv<T: Send + 'static>(ctx: &mut Ctx<T>) -> Got<T> {
    ctx.recv().await.into()
}

/// A process that records what it receives: it runs `setup` on its own context, reports that
/// it is ready, then forwards every message it receives to the test, in order.
///
/// If the probe dies, [`Probe::next`] returns `None` and [`Probe::pid`] tells whom to ask why.
#[derive(Debug)]
pub(crate) struct Probe<T> {
    addr: Addr<T>,
    rx: mpsc::UnboundedReceiver<Got<T>>,
}

impl<T: Send + Debug + 'static> Probe<T> {
    /// Spawns a probe that does not trap exits.
    pub(crate) async fn spawn(
        node: &Node,
        setup: impl FnOnce(&mut Ctx<T>) + Send + 'static,
    ) -> Self {
        Self::spawn_with(node, SpawnOpts::default(), setup).await
    }

    /// Spawns a probe that traps exits from its first instruction.
    pub(crate) async fn trapping(
        node: &Node,
        setup: impl FnOnce(&mut Ctx<T>) + Send + 'static,
    ) -> Self {
        let opts = SpawnOpts {
            trap_exit: true,
            ..SpawnOpts::default()
        };
        Self::spawn_with(node, opts, setup).await
    }

    /// Spawns a probe with options; returns once `setup` has run.
    pub(crate) async fn spawn_with(
        node: &Node,
        opts: SpawnOpts,
        setup: impl FnOnce(&mut Ctx<T>) + Send + 'static,
    ) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let (ready_tx, ready) = oneshot::channel();
        let addr = node
            .build()
            .opts(opts)
            .spawn(move |mut ctx: Ctx<T>| async move {
                setup(&mut ctx);
                let _ = ready_tx.send(());
                loop {
                    let m = recv(&mut ctx).await;
                    if tx.send(m).is_err() {
                        break;
                    }
                }
            })
            .expect("spawn a probe");
        within("a probe's setup", ready)
            .await
            .expect("the probe died during setup");
        Probe { addr, rx }
    }

    /// The probe's pid.
    pub(crate) fn pid(&self) -> Pid {
        self.addr.pid()
    }

    /// The probe's address.
    pub(crate) fn addr(&self) -> &Addr<T> {
        &self.addr
    }

    /// Sends the probe a message; the probe must be alive.
    pub(crate) fn send(&self, m: T) {
        self.addr.send(m).expect("the probe is alive");
    }

    /// The next thing the probe received; `None` if it died.
    pub(crate) async fn next(&mut self) -> Option<Got<T>> {
        within("a probe's next message", self.rx.recv()).await
    }
}

/// Spawns a process that does nothing until an exit signal ends it.
pub(crate) fn idle<T: Send + 'static>(node: &Node) -> Addr<T> {
    node.spawn(|_ctx: Ctx<T>| std::future::pending::<()>())
        .expect("spawn an idle process")
}

/// Spawns a process that ends at once with `reason`, and waits until it has ended: its pid is
/// then a dead pid.
pub(crate) async fn dead_pid(node: &Node, reason: Exit) -> Pid {
    let addr = node
        .spawn(move |_ctx: Ctx<()>| async move { reason })
        .expect("spawn a short-lived process");
    exit_of(node, addr.pid()).await;
    addr.pid()
}

/// A value whose drop the test can await: [`DropFlag::new`] gives the flag and a receiver that
/// resolves (with an error) once the flag is dropped.
#[derive(Debug)]
pub(crate) struct DropFlag(#[allow(dead_code)] oneshot::Sender<()>);

impl DropFlag {
    /// A flag and the means to wait for its drop.
    pub(crate) fn new() -> (DropFlag, oneshot::Receiver<()>) {
        let (tx, rx) = oneshot::channel();
        (DropFlag(tx), rx)
    }
}

/// Waits until the flag behind `rx` is dropped.
pub(crate) async fn dropped(rx: oneshot::Receiver<()>) {
    assert!(
        within("a value to be dropped", rx).await.is_err(),
        "a DropFlag never sends"
    );
}

/// A server that answers `Some(n)` with `n` at once and holds `None` calls for ever (a stuck
/// server, as far as its callers can tell). A cast asks how many calls it holds.
#[derive(Default)]
pub(crate) struct Stuck {
    held: Vec<beamish_process::ReplyTo<u32>>,
}

impl beamish_process::GenServer for Stuck {
    type Call = Option<u32>;
    type Reply = u32;
    type Cast = oneshot::Sender<usize>;
    type Info = ();

    async fn handle_call(
        &mut self,
        request: Option<u32>,
        caller: beamish_process::Caller<'_, u32>,
        _ctx: &mut beamish_process::ServerCtx<Self>,
    ) -> Result<beamish_process::Reply<u32>, Exit> {
        match request {
            Some(n) => Ok(beamish_process::Reply::Now(n)),
            None => {
                self.held.push(caller.defer());
                Ok(beamish_process::Reply::Later)
            }
        }
    }

    async fn handle_cast(
        &mut self,
        held: oneshot::Sender<usize>,
        _ctx: &mut beamish_process::ServerCtx<Self>,
    ) -> Result<(), Exit> {
        let _ = held.send(self.held.len());
        Ok(())
    }
}

/// Waits until `server` holds `n` calls (asking it, one message round trip at a time).
pub(crate) async fn until_held(server: &beamish_process::ServerRef<Stuck>, n: usize) {
    within("the held calls", async {
        loop {
            let (tx, rx) = oneshot::channel();
            server.cast(tx).unwrap();
            if rx.await.expect("the server answers") >= n {
                return;
            }
        }
    })
    .await;
}

/// How late a call timeout may fire on the real clock: tokio's timer has millisecond ticks,
/// and a loaded two-core test machine adds scheduling delay. The point is "not at the next
/// default timeout", which is seconds away.
pub(crate) const SLACK: Duration = Duration::from_millis(250);
