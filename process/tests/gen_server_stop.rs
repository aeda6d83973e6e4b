//! `ServerRef::stop` (OTP's `gen_server:stop/3`): queued messages first, then `terminate`,
//! then the exit with the given reason.

use beamish_process::{CallError, Caller, Exit, GenServer, Node, Reply, ServerCtx};
use std::time::Duration;
use tokio::sync::mpsc;

struct Recorder(mpsc::UnboundedSender<String>);

impl GenServer for Recorder {
    type Call = ();
    type Reply = ();
    type Cast = u32;
    type Info = ();
    async fn handle_call(
        &mut self,
        _: (),
        _: Caller<'_, ()>,
        _: &mut ServerCtx<Self>,
    ) -> Result<Reply<()>, Exit> {
        Ok(Reply::Now(()))
    }
    async fn handle_cast(&mut self, n: u32, _: &mut ServerCtx<Self>) -> Result<(), Exit> {
        let _ = self.0.send(format!("cast {n}"));
        Ok(())
    }
    async fn terminate(&mut self, reason: &Exit, _: &mut ServerCtx<Self>) {
        let _ = self.0.send(format!("terminate {reason}"));
    }
}

#[tokio::test]
async fn stop_handles_queued_messages_runs_terminate_and_exits_with_the_reason() {
    let node = Node::start_default().unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let server = node.start(Recorder(tx)).await.unwrap();
    let down = node.monitor(server.pid());
    server.cast(1).unwrap();
    server.cast(2).unwrap();
    server
        .stop(Exit::shutdown_with("maintenance"), Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(down.await, Exit::shutdown_with("maintenance"));
    let mut seen = Vec::new();
    while let Ok(line) = rx.try_recv() {
        seen.push(line);
    }
    assert_eq!(
        seen,
        ["cast 1", "cast 2", "terminate {shutdown, maintenance}"]
    );
    // A stopped server cannot be stopped again.
    assert_eq!(
        server.stop(Exit::Normal, Duration::from_secs(5)).await,
        Err(CallError::NoProc)
    );
}

#[tokio::test]
async fn node_spawn_monitor_reports_the_real_reason_of_a_process_that_ends_at_once() {
    let node = Node::start_default().unwrap();
    let (_addr, down) = node
        .build()
        .monitor()
        .spawn(|_ctx: beamish_process::Ctx<()>| async { Err::<(), _>(Exit::error("at once")) })
        .unwrap();
    assert_eq!(down.await, Exit::error("at once"));
}
