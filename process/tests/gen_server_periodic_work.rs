//! Periodic work in a GenServer without a task of its own: `send_info_interval` ticks into
//! `handle_info` (`timer:send_interval/2`), `start_timer`'s `Timeout` arrives as an info, and
//! both stop when cancelled or when the server ends.

mod common;

use std::time::Duration;

use beamish_process::{Caller, Exit, GenServer, Message, Reply, ServerCtx, Timeout, TimerRef};
use common::within;
use tokio::sync::mpsc;
use tokio::time::Instant;

const MS: Duration = Duration::from_millis(1);

#[derive(Debug, Clone)]
enum Info {
    Tick,
    Deadline(Timeout<&'static str>),
}

impl From<Timeout<&'static str>> for Info {
    fn from(t: Timeout<&'static str>) -> Info {
        Info::Deadline(t)
    }
}

struct Ticker {
    events: mpsc::UnboundedSender<(String, Instant)>,
    ticks: u32,
    tick: Option<TimerRef>,
    deadline: Option<TimerRef>,
}

impl GenServer for Ticker {
    type Call = ();
    type Reply = u32;
    type Cast = ();
    type Info = Info;

    async fn init(&mut self, ctx: &mut ServerCtx<Self>) -> Result<(), Exit> {
        self.tick = Some(ctx.send_info_interval(Info::Tick, 10 * MS));
        self.deadline = Some(ctx.start_timer("deadline", 35 * MS));
        Ok(())
    }

    async fn handle_call(
        &mut self,
        _: (),
        _: Caller<'_, u32>,
        _: &mut ServerCtx<Self>,
    ) -> Result<Reply<u32>, Exit> {
        Ok(Reply::Now(self.ticks))
    }

    async fn handle_info(
        &mut self,
        m: Message<Info>,
        ctx: &mut ServerCtx<Self>,
    ) -> Result<(), Exit> {
        match m.into_msg() {
            Some(Info::Tick) => {
                self.ticks += 1;
                let _ = self
                    .events
                    .send((format!("tick {}", self.ticks), Instant::now()));
            }
            Some(Info::Deadline(t)) if Some(t.tref) == self.deadline => {
                // Enough ticking: stop the interval.
                let left = self.tick.take().and_then(|t| ctx.cancel_timer(t));
                let _ = self
                    .events
                    .send((format!("{} {left:?}", t.msg), Instant::now()));
            }
            _ => {}
        }
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn an_interval_ticks_into_handle_info_until_a_timeout_cancels_it() {
    let node = common::node();
    let (events, mut rx) = mpsc::unbounded_channel();
    let t0 = Instant::now();
    let server = node
        .start(Ticker {
            events,
            ticks: 0,
            tick: None,
            deadline: None,
        })
        .await
        .unwrap();
    let mut log = Vec::new();
    for _ in 0..4 {
        let (what, at) = within("an event", rx.recv()).await.unwrap();
        log.push(format!("{what} at {:?}", at - t0));
    }
    assert_eq!(
        log,
        [
            "tick 1 at 10ms",
            "tick 2 at 20ms",
            "tick 3 at 30ms",
            "deadline Some(5ms) at 35ms"
        ]
    );
    // No more ticks: a call a second later still counts three, and nothing is pending.
    tokio::time::sleep(1_000 * MS).await;
    assert_eq!(server.call(()).await.unwrap(), 3);
    assert!(rx.try_recv().is_err());
    assert_eq!(node.pending_timers(), 0);
}
