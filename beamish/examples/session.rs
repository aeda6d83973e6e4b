//! A user session as a GenServer, with timers and no task of its own: it loads its history in
//! `handle_continue` (after `init`, without holding up the starter), sends itself a heartbeat
//! every 20 ms (`send_info_interval`), and closes itself after 100 ms without a request (an
//! idle timeout). Run with `cargo run -p beamish --example session`; CI runs it as a doc test.
//!
//! In OTP any message cancels a gen_server's timeout, the heartbeat too; so the heartbeat
//! re-arms it with what is left of the idle time, and only requests start it afresh.

use std::time::Duration;

use beamish::prelude::*;
use tokio::time::Instant;

const IDLE: Duration = Duration::from_millis(100);
const HEARTBEAT: Duration = Duration::from_millis(20);

struct Session {
    user: String,
    history: Vec<String>,
    heartbeats: u32,
    last_request: Instant,
}

#[derive(Debug, Clone)]
enum Info {
    /// The continue from `init`: load the history.
    Load,
    Heartbeat,
}

enum Request {
    Say(String),
    History,
}

impl Session {
    /// Arms the idle timeout with what is left of the idle time since the last request.
    fn rearm(&self, ctx: &mut ServerCtx<Self>) {
        ctx.idle_timeout(IDLE.saturating_sub(self.last_request.elapsed()));
    }
}

impl GenServer for Session {
    type Call = Request;
    type Reply = Vec<String>;
    type Cast = ();
    type Info = Info;

    async fn init(&mut self, ctx: &mut ServerCtx<Self>) -> Result<(), Exit> {
        ctx.continue_with(Info::Load);
        ctx.send_info_interval(Info::Heartbeat, HEARTBEAT);
        self.last_request = Instant::now();
        self.rearm(ctx);
        Ok(())
    }

    async fn handle_continue(&mut self, arg: Info, ctx: &mut ServerCtx<Self>) -> Result<(), Exit> {
        if let Info::Load = arg {
            // A database read, say; the starter has its handle already.
            self.history.push(format!("welcome back, {}", self.user));
        }
        self.rearm(ctx);
        Ok(())
    }

    async fn handle_call(
        &mut self,
        request: Request,
        _: Caller<'_, Vec<String>>,
        ctx: &mut ServerCtx<Self>,
    ) -> Result<Reply<Vec<String>>, Exit> {
        if let Request::Say(line) = request {
            self.history.push(line);
        }
        self.last_request = Instant::now();
        self.rearm(ctx);
        Ok(Reply::Now(self.history.clone()))
    }

    async fn handle_info(
        &mut self,
        m: Message<Info>,
        ctx: &mut ServerCtx<Self>,
    ) -> Result<(), Exit> {
        if let Some(Info::Heartbeat) = m.into_msg() {
            self.heartbeats += 1;
        }
        self.rearm(ctx);
        Ok(())
    }

    async fn handle_timeout(&mut self, _: &mut ServerCtx<Self>) -> Result<(), Exit> {
        println!(
            "{}: idle for {IDLE:?} after {} heartbeats, closing",
            self.user, self.heartbeats
        );
        // A normal exit: the session's work is done.
        Err(Exit::Normal)
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let node = Node::start_default()?;
    let session = node
        .start(Session {
            user: "ada".into(),
            history: Vec::new(),
            heartbeats: 0,
            last_request: Instant::now(),
        })
        .await?;
    let closed = node.monitor(session.pid());
    let started = Instant::now();

    session.call(Request::Say("hello".into())).await?;
    let history = session.call(Request::History).await?;
    assert_eq!(history, ["welcome back, ada", "hello"]);
    println!("history: {history:?}");

    // No more requests: the heartbeats go on, and the session closes itself once idle.
    assert_eq!(closed.await, Exit::Normal);
    let lived = started.elapsed();
    assert!(
        lived >= IDLE,
        "closed after {lived:?}, before its idle timeout"
    );
    println!("closed after {lived:?}");
    // Its heartbeat timer went with it: the node has no timer left.
    tokio::task::yield_now().await;
    assert!(
        node.pending_timers() <= 1,
        "at most the last tick, due to find nobody"
    );
    Ok(())
}
