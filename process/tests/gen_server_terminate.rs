//! When `GenServer::terminate` runs: on an exit signal from the parent only while trapping
//! exits (otherwise the server is killed without it), and after a callback fails or panics
//! (R-GS-7).

mod common;

use beamish_process::{
    CallError, Caller, Ctx, Exit, GenServer, Message, Pid, Reply, ServerCtx, ServerRef, SpawnOpts,
};
use common::{Got, node, within};
use tokio::sync::{mpsc, oneshot};

/// A server that reports its `terminate` (and, through `infos`, what `handle_info` gets).
struct Srv {
    terminated: Option<oneshot::Sender<Exit>>,
    infos: Option<mpsc::UnboundedSender<Got<()>>>,
    trap_in_init: bool,
}

impl Srv {
    fn new() -> (Srv, oneshot::Receiver<Exit>) {
        let (tx, rx) = oneshot::channel();
        let s = Srv {
            terminated: Some(tx),
            infos: None,
            trap_in_init: false,
        };
        (s, rx)
    }
}

enum Call {
    Panic,
    Ping,
}

impl GenServer for Srv {
    type Call = Call;
    type Reply = &'static str;
    type Cast = Exit;
    type Info = ();

    async fn init(&mut self, ctx: &mut ServerCtx<Self>) -> Result<(), Exit> {
        if self.trap_in_init {
            ctx.trap_exit(true);
        }
        Ok(())
    }

    async fn handle_call(
        &mut self,
        request: Call,
        _caller: Caller<'_, &'static str>,
        _ctx: &mut ServerCtx<Self>,
    ) -> Result<Reply<&'static str>, Exit> {
        match request {
            Call::Panic => panic!("handle_call blew up"),
            Call::Ping => Ok(Reply::Now("pong")),
        }
    }

    /// A cast is the reason to stop with.
    async fn handle_cast(&mut self, reason: Exit, _ctx: &mut ServerCtx<Self>) -> Result<(), Exit> {
        Err(reason)
    }

    async fn handle_info(
        &mut self,
        message: Message<()>,
        _ctx: &mut ServerCtx<Self>,
    ) -> Result<(), Exit> {
        if let Some(tx) = &self.infos {
            let _ = tx.send(message.into());
        }
        Ok(())
    }

    async fn terminate(&mut self, reason: &Exit, _ctx: &mut ServerCtx<Self>) {
        if let Some(tx) = self.terminated.take() {
            let _ = tx.send(reason.clone());
        }
    }
}

/// Starts `server` linked to a new parent process, which then waits for `go` and exits with
/// the reason sent. Returns the server's pid, the gate, and the parent's pid.
async fn under_parent(
    node: &beamish_process::Node,
    opts: SpawnOpts,
    server: Srv,
) -> (ServerRef<Srv>, oneshot::Sender<Exit>, Pid) {
    let (started_tx, started) = oneshot::channel();
    let (go_tx, go) = oneshot::channel::<Exit>();
    let parent = node
        .spawn(move |ctx: Ctx<()>| async move {
            let server = ctx.start_link_with(opts, server).await.unwrap();
            let _ = started_tx.send(server);
            go.await.unwrap_or(Exit::error("gate dropped"))
        })
        .unwrap();
    let server = within("the server's start", started).await.unwrap();
    (server, go_tx, parent.pid())
}

fn trapping() -> SpawnOpts {
    SpawnOpts {
        trap_exit: true,
        ..SpawnOpts::default()
    }
}

/// R-GS-7: a server that traps exits runs `terminate` when its parent shuts it down, and
/// exits with the parent's reason.
#[tokio::test(start_paused = true)]
async fn r_gs_7_terminate_runs_on_parent_shutdown_when_trapping() {
    let node = node();
    for reason in [Exit::Shutdown, Exit::shutdown_with("bye"), Exit::Normal] {
        let (srv, terminated) = Srv::new();
        let (server, go, _parent) = under_parent(&node, trapping(), srv).await;
        let down = node.monitor(server.pid());
        go.send(reason.clone()).unwrap();
        assert_eq!(within("terminate", terminated).await, Ok(reason.clone()));
        assert_eq!(within("the server's end", down).await, reason);
    }
}

/// R-GS-7: trapping turned on in `init` counts the same.
#[tokio::test(start_paused = true)]
async fn r_gs_7_trapping_set_in_init_also_runs_terminate() {
    let node = node();
    let (mut srv, terminated) = Srv::new();
    srv.trap_in_init = true;
    let (server, go, _parent) = under_parent(&node, SpawnOpts::default(), srv).await;
    let down = node.monitor(server.pid());
    go.send(Exit::Shutdown).unwrap();
    assert_eq!(within("terminate", terminated).await, Ok(Exit::Shutdown));
    assert_eq!(within("the server's end", down).await, Exit::Shutdown);
}

/// R-GS-7: a server that does not trap exits is killed by its parent's shutdown without
/// running `terminate` (its state is dropped unseen).
#[tokio::test(start_paused = true)]
async fn r_gs_7_without_trapping_no_terminate() {
    let node = node();
    let (srv, terminated) = Srv::new();
    let (server, go, _parent) = under_parent(&node, SpawnOpts::default(), srv).await;
    let down = node.monitor(server.pid());
    go.send(Exit::Shutdown).unwrap();
    assert_eq!(within("the server's end", down).await, Exit::Shutdown);
    assert!(
        within("the state's drop", terminated).await.is_err(),
        "terminate must not run"
    );
}

/// R-GS-7, R-EXIT-1: a parent that exits `normal` does not stop a non-trapping server (the
/// signal is dropped).
#[tokio::test(start_paused = true)]
async fn r_gs_7_normal_parent_exit_leaves_a_non_trapping_server_running() {
    let node = node();
    let (srv, _terminated) = Srv::new();
    let (server, go, parent) = under_parent(&node, SpawnOpts::default(), srv).await;
    let parent_down = node.monitor(parent);
    go.send(Exit::Normal).unwrap();
    assert_eq!(within("the parent's end", parent_down).await, Exit::Normal);
    assert_eq!(server.call(Call::Ping).await, Ok("pong"));
}

/// R-GS-7: an exit signal from a process other than the parent is an ordinary info for a
/// trapping server: `handle_info` gets it, `terminate` does not run.
#[tokio::test(start_paused = true)]
async fn r_gs_7_exit_from_a_non_parent_goes_to_handle_info() {
    let node = node();
    let (mut srv, mut terminated) = Srv::new();
    let (infos_tx, mut infos) = mpsc::unbounded_channel();
    srv.infos = Some(infos_tx);
    let (server, _go, _parent) = under_parent(&node, trapping(), srv).await;
    node.exit(server.pid(), Exit::Shutdown);
    assert_eq!(
        within("an info", infos.recv()).await,
        Some(Got::Exit {
            from: node.pid(),
            reason: Exit::Shutdown
        })
    );
    assert_eq!(server.call(Call::Ping).await, Ok("pong"));
    assert!(terminated.try_recv().is_err());
    assert!(server.is_alive());
}

/// R-GS-7, R-EXIT-2: an explicit `kill` ends even a trapping server at once, without
/// `terminate`.
#[tokio::test(start_paused = true)]
async fn r_gs_7_kill_skips_terminate_even_when_trapping() {
    let node = node();
    let (srv, terminated) = Srv::new();
    let (server, _go, _parent) = under_parent(&node, trapping(), srv).await;
    let down = node.monitor(server.pid());
    node.exit(server.pid(), Exit::Kill);
    assert_eq!(within("the server's end", down).await, Exit::Killed);
    assert!(within("the state's drop", terminated).await.is_err());
}

/// R-GS-3: `terminate` runs with the reason when a callback returns an error or panics, and
/// a caller sees the same reason.
#[tokio::test(start_paused = true)]
async fn r_gs_3_terminate_runs_after_a_callback_fails_or_panics() {
    let node = node();
    let (srv, terminated) = Srv::new();
    let server = node.start(srv).await.unwrap();
    let down = node.monitor(server.pid());
    server.cast(Exit::error("cast failed")).unwrap();
    assert_eq!(
        within("terminate", terminated).await,
        Ok(Exit::error("cast failed"))
    );
    assert_eq!(
        within("the server's end", down).await,
        Exit::error("cast failed")
    );

    let (srv, terminated) = Srv::new();
    let server = node.start(srv).await.unwrap();
    let down = node.monitor(server.pid());
    let panicked = Exit::Panic("handle_call blew up".into());
    assert_eq!(
        server.call(Call::Panic).await,
        Err(CallError::Exit(panicked.clone()))
    );
    assert_eq!(within("terminate", terminated).await, Ok(panicked.clone()));
    assert_eq!(within("the server's end", down).await, panicked);
}
