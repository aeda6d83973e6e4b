//! `handle_continue` (`{continue, Arg}`): runs once the callback that asked for it has
//! returned and before the server takes any other message; from `init`, after the starter
//! has been released.

mod common;

use std::future::Future;

use beamish_process::{Caller, Exit, GenServer, Message, Reply, ServerCtx};
use common::within;
use tokio::sync::{mpsc, oneshot};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Info {
    /// A continue: finish loading after init.
    Load,
    /// A continue asked for by a call: another continue follows it.
    Chain(u8),
    /// A plain info.
    Note,
}

struct Server {
    log: mpsc::UnboundedSender<String>,
    /// Init waits for the test to let its continue finish, to show the starter is not held.
    gate: Option<oneshot::Receiver<()>>,
}

impl Server {
    fn log(&self, s: impl Into<String>) {
        let _ = self.log.send(s.into());
    }
}

impl GenServer for Server {
    type Call = &'static str;
    type Reply = &'static str;
    type Cast = &'static str;
    type Info = Info;

    async fn init(&mut self, ctx: &mut ServerCtx<Self>) -> Result<(), Exit> {
        self.log("init");
        ctx.continue_with(Info::Load);
        Ok(())
    }

    async fn handle_continue(&mut self, arg: Info, ctx: &mut ServerCtx<Self>) -> Result<(), Exit> {
        self.log(format!("continue {arg:?}"));
        match arg {
            Info::Load => {
                if let Some(gate) = self.gate.take() {
                    let _ = gate.await;
                }
            }
            Info::Chain(n) if n > 0 => ctx.continue_with(Info::Chain(n - 1)),
            _ => {}
        }
        Ok(())
    }

    async fn handle_call(
        &mut self,
        req: &'static str,
        _: Caller<'_, &'static str>,
        ctx: &mut ServerCtx<Self>,
    ) -> Result<Reply<&'static str>, Exit> {
        self.log(format!("call {req}"));
        ctx.continue_with(Info::Chain(1));
        Ok(Reply::Now(req))
    }

    async fn handle_cast(&mut self, m: &'static str, _: &mut ServerCtx<Self>) -> Result<(), Exit> {
        self.log(format!("cast {m}"));
        Ok(())
    }

    async fn handle_info(&mut self, m: Message<Info>, _: &mut ServerCtx<Self>) -> Result<(), Exit> {
        self.log(format!("info {:?}", m.into_msg()));
        Ok(())
    }
}

async fn take(rx: &mut mpsc::UnboundedReceiver<String>, n: usize) -> Vec<String> {
    let mut v = Vec::new();
    for _ in 0..n {
        v.push(within("the server's log", rx.recv()).await.unwrap());
    }
    v
}

#[tokio::test]
async fn a_continue_from_init_runs_after_the_start_and_before_any_message() {
    let node = common::node();
    let (log, mut rx) = mpsc::unbounded_channel();
    let (open, gate) = oneshot::channel();
    // The start returns while the continue still waits on the gate.
    let server = node
        .start(Server {
            log,
            gate: Some(gate),
        })
        .await
        .unwrap();
    server.cast("queued while loading").unwrap();
    server.send(Info::Note).unwrap();
    assert_eq!(take(&mut rx, 2).await, ["init", "continue Load"]);
    open.send(()).unwrap();
    assert_eq!(
        take(&mut rx, 2).await,
        ["cast queued while loading", "info Some(Note)"]
    );
}

#[tokio::test]
async fn a_continue_from_a_call_runs_after_the_reply_before_the_next_message() {
    let node = common::node();
    let (log, mut rx) = mpsc::unbounded_channel();
    let server = node.start(Server { log, gate: None }).await.unwrap();
    assert_eq!(take(&mut rx, 2).await, ["init", "continue Load"]);
    // Queue a cast behind the call (polled once, so its request is in the mailbox): the
    // call's continues (a chain of two) come first.
    let mut call = std::pin::pin!(server.call("first"));
    let _ = std::future::poll_fn(|cx| std::task::Poll::Ready(call.as_mut().poll(cx))).await;
    server.cast("behind").unwrap();
    assert_eq!(call.await.unwrap(), "first");
    assert_eq!(
        take(&mut rx, 4).await,
        [
            "call first",
            "continue Chain(1)",
            "continue Chain(0)",
            "cast behind"
        ]
    );
}

/// A server that does not override `handle_continue` gets its continues as infos.
#[tokio::test]
async fn by_default_a_continue_is_handled_as_an_info() {
    struct Plain(mpsc::UnboundedSender<Option<u8>>);
    impl GenServer for Plain {
        type Call = ();
        type Reply = ();
        type Cast = ();
        type Info = u8;
        async fn init(&mut self, ctx: &mut ServerCtx<Self>) -> Result<(), Exit> {
            ctx.continue_with(7);
            Ok(())
        }
        async fn handle_call(
            &mut self,
            _: (),
            _: Caller<'_, ()>,
            _: &mut ServerCtx<Self>,
        ) -> Result<Reply<()>, Exit> {
            Ok(Reply::Now(()))
        }
        async fn handle_info(
            &mut self,
            m: Message<u8>,
            _: &mut ServerCtx<Self>,
        ) -> Result<(), Exit> {
            let _ = self.0.send(m.into_msg());
            Ok(())
        }
    }
    let node = common::node();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let _server = node.start(Plain(tx)).await.unwrap();
    assert_eq!(within("the continue", rx.recv()).await, Some(Some(7)));
}

/// A continue that fails stops the server, after `terminate`, with its reason.
#[tokio::test]
async fn a_failing_continue_stops_the_server() {
    struct Failing(Option<oneshot::Receiver<()>>);
    impl GenServer for Failing {
        type Call = ();
        type Reply = ();
        type Cast = ();
        type Info = ();
        async fn init(&mut self, ctx: &mut ServerCtx<Self>) -> Result<(), Exit> {
            ctx.continue_with(());
            Ok(())
        }
        async fn handle_call(
            &mut self,
            _: (),
            _: Caller<'_, ()>,
            _: &mut ServerCtx<Self>,
        ) -> Result<Reply<()>, Exit> {
            Ok(Reply::Now(()))
        }
        async fn handle_continue(&mut self, _: (), _: &mut ServerCtx<Self>) -> Result<(), Exit> {
            if let Some(gate) = self.0.take() {
                let _ = gate.await;
            }
            Err(Exit::error("load failed"))
        }
    }
    let node = common::node();
    let (open, gate) = oneshot::channel();
    let server = node.start(Failing(Some(gate))).await.unwrap();
    let down = node.monitor(server.pid());
    open.send(()).unwrap();
    assert_eq!(within("the exit", down).await, Exit::error("load failed"));
}
