//! A GenServer's idle timeout (`{noreply, State, Timeout}`, then `handle_info(timeout)`):
//! armed by a callback for the wait that follows, cancelled by any message, never early, and
//! for one wait only.

mod common;

use std::time::Duration;

use beamish_process::{Caller, Exit, GenServer, Reply, ServerCtx};
use common::{node, within};
use tokio::sync::mpsc;
use tokio::time::Instant;

const MS: Duration = Duration::from_millis(1);

/// A session that goes idle: every request re-arms a 100 ms timeout; `handle_timeout` reports
/// when it ran. Casts do not re-arm it.
struct Session {
    events: mpsc::UnboundedSender<(String, Instant)>,
    idle: Duration,
    /// Stop at the timeout (a session that ends when idle).
    stop_when_idle: bool,
}

impl Session {
    fn log(&self, what: impl Into<String>) {
        let _ = self.events.send((what.into(), Instant::now()));
    }
}

impl GenServer for Session {
    type Call = &'static str;
    type Reply = &'static str;
    type Cast = &'static str;
    type Info = ();

    async fn init(&mut self, ctx: &mut ServerCtx<Self>) -> Result<(), Exit> {
        ctx.idle_timeout(self.idle);
        Ok(())
    }

    async fn handle_call(
        &mut self,
        req: &'static str,
        _: Caller<'_, &'static str>,
        ctx: &mut ServerCtx<Self>,
    ) -> Result<Reply<&'static str>, Exit> {
        self.log(format!("call {req}"));
        ctx.idle_timeout(self.idle);
        if req == "twice" {
            // The later one counts.
            ctx.idle_timeout(self.idle * 2);
        }
        if req == "clear" {
            ctx.clear_idle_timeout();
        }
        Ok(Reply::Now(req))
    }

    async fn handle_cast(&mut self, m: &'static str, _: &mut ServerCtx<Self>) -> Result<(), Exit> {
        self.log(format!("cast {m}"));
        Ok(())
    }

    async fn handle_timeout(&mut self, _: &mut ServerCtx<Self>) -> Result<(), Exit> {
        self.log("timeout");
        if self.stop_when_idle {
            Err(Exit::Shutdown)
        } else {
            Ok(())
        }
    }
}

fn session(
    idle: Duration,
    stop_when_idle: bool,
) -> (Session, mpsc::UnboundedReceiver<(String, Instant)>) {
    let (events, rx) = mpsc::unbounded_channel();
    (
        Session {
            events,
            idle,
            stop_when_idle,
        },
        rx,
    )
}

async fn next(rx: &mut mpsc::UnboundedReceiver<(String, Instant)>) -> (String, Instant) {
    within("the session's next event", rx.recv()).await.unwrap()
}

#[tokio::test(start_paused = true)]
async fn the_timeout_set_by_init_fires_when_no_message_comes_and_not_before() {
    let node = node();
    let (s, mut rx) = session(100 * MS, true);
    let t0 = Instant::now();
    let server = node.start(s).await.unwrap();
    let down = node.monitor(server.pid());
    let (what, at) = next(&mut rx).await;
    assert_eq!(what, "timeout");
    assert!(at - t0 >= 100 * MS, "fired after {:?}", at - t0);
    assert!(at - t0 <= 101 * MS, "fired after {:?}", at - t0);
    // It stopped with the reason handle_timeout gave.
    assert_eq!(within("the exit", down).await, Exit::Shutdown);
}

#[tokio::test(start_paused = true)]
async fn every_message_cancels_it_and_a_callback_re_arms_it() {
    let node = node();
    let (s, mut rx) = session(100 * MS, false);
    let server = node.start(s).await.unwrap();
    // Calls every 60 ms keep the session from going idle.
    for _ in 0..5 {
        tokio::time::sleep(60 * MS).await;
        assert_eq!(server.call("ping").await.unwrap(), "ping");
        assert_eq!(next(&mut rx).await.0, "call ping");
    }
    let last = Instant::now();
    let (what, at) = next(&mut rx).await;
    assert_eq!(what, "timeout");
    assert!(at - last >= 100 * MS);
    // The timeout was for one wait: a cast does not re-arm it, so nothing fires after it.
    server.cast("hello").unwrap();
    assert_eq!(next(&mut rx).await.0, "cast hello");
    server.cast("still there").unwrap();
    assert_eq!(next(&mut rx).await.0, "cast still there");
    tokio::time::sleep(1_000 * MS).await;
    assert!(rx.try_recv().is_err(), "a timeout fired with none armed");
}

#[tokio::test(start_paused = true)]
async fn a_cast_cancels_the_timeout_too() {
    let node = node();
    let (s, mut rx) = session(100 * MS, false);
    let server = node.start(s).await.unwrap();
    tokio::time::sleep(50 * MS).await;
    server.cast("in time").unwrap();
    assert_eq!(next(&mut rx).await.0, "cast in time");
    // The cast did not re-arm it: no timeout at 100 ms, nor later.
    tokio::time::sleep(1_000 * MS).await;
    assert!(rx.try_recv().is_err(), "the timeout fired after a message");
}

#[tokio::test(start_paused = true)]
async fn the_later_setting_counts_and_a_cleared_one_never_fires() {
    let node = node();
    let (s, mut rx) = session(100 * MS, false);
    let server = node.start(s).await.unwrap();
    let t0 = Instant::now();
    server.call("twice").await.unwrap();
    assert_eq!(next(&mut rx).await.0, "call twice");
    let (what, at) = next(&mut rx).await;
    assert_eq!(what, "timeout");
    assert!(at - t0 >= 200 * MS, "fired after {:?}", at - t0);
    server.call("clear").await.unwrap();
    assert_eq!(next(&mut rx).await.0, "call clear");
    tokio::time::sleep(1_000 * MS).await;
    assert!(rx.try_recv().is_err(), "a cleared timeout fired");
}
