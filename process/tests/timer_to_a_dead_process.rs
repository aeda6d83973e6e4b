//! A timer to a process that has ended is harmless: setting one to a dead pid says
//! `NoProc` (R-ORD-4: a send to a dead pid is a no-op; beamish says so), one whose process
//! ends before it fires delivers nothing, and a repeating one stops at its next tick.

mod common;

use std::time::Duration;

use beamish_process::{Ctx, Exit, SendError};
use common::{Got, Probe, dead_pid, exit_of, node};

const MS: Duration = Duration::from_millis(1);

#[tokio::test(start_paused = true)]
async fn r_ord_4_a_timer_to_a_dead_pid_is_refused_with_its_message() {
    let node = node();
    let dead = dead_pid(&node, Exit::Normal).await;
    assert!(matches!(
        node.send_after(dead, 5u32, 10 * MS),
        Err(SendError::NoProc(5))
    ));
    // A live process of another message type: the message comes back too.
    let probe = Probe::<String>::spawn(&node, |_| {}).await;
    assert!(matches!(
        node.send_after(probe.pid(), 5u32, 10 * MS),
        Err(SendError::WrongType(5))
    ));
    assert_eq!(node.pending_timers(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_timer_whose_process_ends_first_delivers_nothing_and_harms_nothing() {
    let node = node();
    let (flag, dropped) = common::DropFlag::new();
    let short = node
        .spawn(|mut ctx: Ctx<common::DropFlag>| async move {
            // Ends at its first message.
            let _ = ctx.recv().await;
        })
        .unwrap();
    let tref = short.send_after(flag, 50 * MS);
    short
        .send(common::DropFlag::new().0)
        .expect("the process is alive");
    exit_of(&node, short.pid()).await;
    // The timer is still pending; when it fires, its message is dropped, not delivered.
    assert!(node.read_timer(tref).is_some());
    let _ = dropped.await;
    assert_eq!(node.pending_timers(), 0);
    assert_eq!(node.read_timer(tref), None);
    // The node goes on: timers to live processes still work.
    let mut probe = Probe::<u8>::spawn(&node, |_| {}).await;
    probe.addr().send_after(1, 10 * MS);
    assert_eq!(probe.next().await, Some(Got::Msg(1)));
}

#[tokio::test(start_paused = true)]
async fn a_repeating_timer_stops_once_its_process_has_ended() {
    let node = node();
    let ticker = node
        .spawn(|mut ctx: Ctx<&'static str>| async move {
            ctx.send_interval("tick", 10 * MS);
            // Two ticks, then end.
            let _ = ctx.recv().await;
            let _ = ctx.recv().await;
        })
        .unwrap();
    assert_eq!(exit_of(&node, ticker.pid()).await, Exit::Normal);
    assert_eq!(node.pending_timers(), 1);
    // The next tick finds nobody and removes the timer.
    let mut probe = Probe::<u8>::spawn(&node, |_| {}).await;
    probe.addr().send_after(1, 15 * MS);
    assert_eq!(probe.next().await, Some(Got::Msg(1)));
    assert_eq!(node.pending_timers(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_name_is_resolved_when_the_timer_fires() {
    let node = node();
    let t = node
        .send_after("later", 7u8, 20 * MS)
        .expect("a name is taken as it is");
    // Registered after the timer was set, before it fired: it gets the message.
    let mut probe = Probe::<u8>::spawn(&node, |ctx| ctx.register("later").unwrap()).await;
    assert!(node.read_timer(t).is_some());
    assert_eq!(probe.next().await, Some(Got::Msg(7)));
    // A free name at fire time drops the message.
    node.send_after("nobody", 8u8, 10 * MS).unwrap();
    probe.addr().send_after(9, 20 * MS);
    assert_eq!(probe.next().await, Some(Got::Msg(9)));
    assert_eq!(node.pending_timers(), 0);
}
