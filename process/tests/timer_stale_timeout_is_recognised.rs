//! A timeout that was already on its way when its timer was cancelled is recognisable by its
//! ref: `erlang:start_timer/3` delivers `{timeout, TimerRef, Msg}`, and a process compares the
//! ref with the timer it keeps.

mod common;

use std::time::Duration;

use beamish_process::{Ctx, Message, Timeout, TimerRef};
use common::{node, within};
use tokio::sync::oneshot;

const MS: Duration = Duration::from_millis(1);

#[derive(Debug)]
enum Msg {
    Go,
    Timer(Timeout<&'static str>),
}

impl From<Timeout<&'static str>> for Msg {
    fn from(t: Timeout<&'static str>) -> Msg {
        Msg::Timer(t)
    }
}

#[tokio::test(start_paused = true)]
async fn a_timeout_cancelled_too_late_carries_a_stale_ref() {
    let node = node();
    let (report, transcript) = oneshot::channel::<Vec<String>>();
    let (set, first) = oneshot::channel::<TimerRef>();
    let p = node
        .spawn(move |mut ctx: Ctx<Msg>| async move {
            let mut log = Vec::new();
            let old = ctx.start_timer("old", 10 * MS);
            let _ = set.send(old);
            // Busy with something else until told: the old timer fires meanwhile, and its
            // message waits in the mailbox.
            let _ = ctx
                .recv_matching(|m| matches!(m, Message::Msg(Msg::Go)))
                .await;
            // Too late to cancel: it has fired (Erlang's `false`).
            log.push(format!("cancel old: {:?}", ctx.cancel_timer(old)));
            let current = ctx.start_timer("new", 10 * MS);
            for _ in 0..2 {
                if let Message::Msg(Msg::Timer(t)) = ctx.recv().await {
                    let kind = if t.tref == current {
                        "current"
                    } else {
                        "stale"
                    };
                    log.push(format!("{kind} {}", t.msg));
                }
            }
            let _ = report.send(log);
        })
        .unwrap();
    let old = within("the first timer", first).await.unwrap();
    // Wait for the old timer to fire: the paused clock jumps to its deadline.
    while node.read_timer(old).is_some() {
        tokio::time::sleep(MS).await;
    }
    p.send(Msg::Go).unwrap();
    assert_eq!(
        within("the transcript", transcript).await.unwrap(),
        ["cancel old: None", "stale old", "current new"]
    );
}
