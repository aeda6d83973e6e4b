//! `GenServer` calls: the default timeout, timeouts whose late replies vanish, the server's
//! death seen at once, `noproc`, `calling_self`, casts that never fail, and deferred replies
//! routed to the right caller (R-GS-1..6).

mod common;

use std::time::Duration;

use beamish_process::{
    CallError, CallTimeout, Caller, Ctx, DEFAULT_CALL_TIMEOUT, Exit, GenServer, Pid, Reply,
    ReplyTo, ServerCtx, ServerRef,
};
use common::{Got, exit_of, node, recv, within};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// A server whose calls say what to do with the call.
#[derive(Default)]
struct Srv {
    /// Calls answered later, with the caller's pid.
    held: Vec<(u32, Option<Pid>, ReplyTo<Ans>)>,
    /// Told each time a call is held, dropped or started slowly: its value and the caller's
    /// pid.
    on_hold: Option<mpsc::UnboundedSender<(u32, Option<Pid>)>>,
    me: Option<ServerRef<Srv>>,
}

#[derive(Debug)]
enum Call {
    Echo(u32),
    /// Defer the reply until a `Release` cast.
    Hold(u32),
    /// Return an error from `handle_call`.
    Fail(Exit),
    /// Take the reply handle and drop it; stay alive.
    DropReply,
    /// Call itself through its own `ServerRef`.
    Myself,
    /// Take this long (on the paused clock) to answer.
    Slow(Duration, u32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Ans {
    N(u32),
    CallErr(CallError),
}

enum Cast {
    SetMe(ServerRef<Srv>),
    /// Answer every held call with ten times its value, newest first; then tell each caller
    /// process whether it was still waiting.
    Release,
    Stop(Exit),
}

/// What a caller process hears from the server after a release.
type Note = (&'static str, bool);

impl GenServer for Srv {
    type Call = Call;
    type Reply = Ans;
    type Cast = Cast;
    type Info = ();

    async fn handle_call(
        &mut self,
        request: Call,
        caller: Caller<'_, Ans>,
        _ctx: &mut ServerCtx<Self>,
    ) -> Result<Reply<Ans>, Exit> {
        match request {
            Call::Echo(n) => Ok(Reply::Now(Ans::N(n))),
            Call::Hold(n) => {
                let pid = caller.pid();
                self.held.push((n, pid, caller.defer()));
                if let Some(tx) = &self.on_hold {
                    let _ = tx.send((n, pid));
                }
                Ok(Reply::Later)
            }
            Call::Fail(reason) => Err(reason),
            Call::DropReply => {
                let pid = caller.pid();
                drop(caller.defer());
                if let Some(tx) = &self.on_hold {
                    let _ = tx.send((0, pid));
                }
                Ok(Reply::Later)
            }
            Call::Myself => {
                let me = self.me.clone().expect("SetMe first");
                Ok(Reply::Now(match me.call(Call::Echo(1)).await {
                    Ok(a) => a,
                    Err(e) => Ans::CallErr(e),
                }))
            }
            Call::Slow(d, n) => {
                if let Some(tx) = &self.on_hold {
                    let _ = tx.send((n, caller.pid()));
                }
                tokio::time::sleep(d).await;
                Ok(Reply::Now(Ans::N(n)))
            }
        }
    }

    async fn handle_cast(&mut self, cast: Cast, ctx: &mut ServerCtx<Self>) -> Result<(), Exit> {
        match cast {
            Cast::SetMe(me) => self.me = Some(me),
            Cast::Release => {
                while let Some((n, pid, to)) = self.held.pop() {
                    let waiting = to.is_waiting();
                    to.reply(Ans::N(n * 10));
                    if let Some(pid) = pid {
                        let note: Note = ("released", waiting);
                        let _ = ctx.node().send(pid, note);
                    }
                }
            }
            Cast::Stop(reason) => return Err(reason),
        }
        Ok(())
    }
}

/// A server that reports each held call.
async fn start_reporting(
    node: &beamish_process::Node,
) -> (ServerRef<Srv>, mpsc::UnboundedReceiver<(u32, Option<Pid>)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let server = node
        .start(Srv {
            on_hold: Some(tx),
            ..Srv::default()
        })
        .await
        .unwrap();
    (server, rx)
}

/// R-GS-1: a call returns the server's reply.
#[tokio::test(start_paused = true)]
async fn r_gs_1_call_returns_the_reply() {
    let node = node();
    let server = node.start(Srv::default()).await.unwrap();
    assert_eq!(server.call(Call::Echo(7)).await, Ok(Ans::N(7)));
    assert_eq!(
        server
            .call_timeout(Call::Echo(8), Duration::from_millis(1))
            .await,
        Ok(Ans::N(8))
    );
}

/// R-GS-1: `call` has a default timeout of five seconds, after which it fails with `Timeout`.
#[tokio::test(start_paused = true)]
async fn r_gs_1_default_call_timeout_is_five_seconds() {
    assert_eq!(DEFAULT_CALL_TIMEOUT, Duration::from_secs(5));
    let node = node();
    let server = node.start(Srv::default()).await.unwrap();
    let start = Instant::now();
    assert_eq!(
        within("the call", server.call(Call::Hold(1))).await,
        Err(CallError::Timeout(
            CallTimeout::new(server.pid(), DEFAULT_CALL_TIMEOUT).into()
        ))
    );
    let waited = start.elapsed();
    assert!(
        waited >= DEFAULT_CALL_TIMEOUT && waited < DEFAULT_CALL_TIMEOUT + Duration::from_secs(1),
        "{waited:?}"
    );
}

/// R-GS-1: a call with no timeout (`infinity`) waits as long as the server takes.
#[tokio::test(start_paused = true)]
async fn r_gs_1_call_infinity_waits_past_the_default() {
    let node = node();
    let server = node.start(Srv::default()).await.unwrap();
    let start = Instant::now();
    let slow = Call::Slow(4 * DEFAULT_CALL_TIMEOUT, 9);
    assert_eq!(
        within("the call", server.call_infinity(slow)).await,
        Ok(Ans::N(9))
    );
    assert!(start.elapsed() >= 4 * DEFAULT_CALL_TIMEOUT);
}

/// R-GS-2: a call that times out fails with `Timeout`; the reply the server sends later is
/// dropped: it never reaches the caller's mailbox, nor a later call's result.
#[tokio::test(start_paused = true)]
async fn r_gs_2_late_reply_is_dropped() {
    let node = node();
    let server = node.start(Srv::default()).await.unwrap();
    let (tx, rx) = oneshot::channel();
    let s = server.clone();
    node.spawn(move |mut ctx: Ctx<Note>| async move {
        let timed_out = s
            .call_timeout(Call::Hold(1), Duration::from_millis(100))
            .await;
        // The server now answers the held call, then tells us so. Had the late reply gone to
        // our mailbox, it would come first (R-ORD-1).
        s.cast(Cast::Release).unwrap();
        let next = recv(&mut ctx).await;
        let left = ctx.mailbox_len();
        let fresh = s.call(Call::Echo(2)).await;
        let _ = tx.send((timed_out, next, left, fresh));
    })
    .unwrap();
    let (timed_out, next, left, fresh) = within("the caller's report", rx).await.unwrap();
    assert_eq!(
        timed_out,
        Err(CallError::Timeout(
            CallTimeout::new(server.pid(), Duration::from_millis(100)).into()
        ))
    );
    // The server saw that the caller had stopped waiting.
    assert_eq!(next, Got::Msg(("released", false)));
    assert_eq!(left, 0);
    assert_eq!(fresh, Ok(Ans::N(2)));
}

/// R-GS-3: when the server dies before replying, the caller gets the server's reason at once,
/// not at the timeout: the server fails in `handle_call`, is killed while holding the call, or
/// stops after dropping the reply handle.
#[tokio::test(start_paused = true)]
async fn r_gs_3_server_death_ends_the_call_at_once() {
    let node = node();
    let long = Duration::from_secs(60);

    // handle_call returns an error.
    let server = node.start(Srv::default()).await.unwrap();
    let start = Instant::now();
    assert_eq!(
        server
            .call_timeout(Call::Fail(Exit::error("bad request")), long)
            .await,
        Err(CallError::Exit(Exit::error("bad request")))
    );
    assert!(start.elapsed() < long);

    // Killed while holding the call.
    let (server, mut held) = start_reporting(&node).await;
    let s = server.clone();
    let call = tokio::spawn(async move { s.call_timeout(Call::Hold(1), long).await });
    within("the hold", held.recv()).await.unwrap();
    let start = Instant::now();
    node.exit(server.pid(), Exit::Kill);
    assert_eq!(
        within("the call", call).await.unwrap(),
        Err(CallError::Exit(Exit::Killed))
    );
    assert!(start.elapsed() < long);

    // The reply handle is dropped while the server lives on; the caller waits for the
    // server's end, and gets its reason.
    let (server, mut handled) = start_reporting(&node).await;
    let s = server.clone();
    let call = tokio::spawn(async move { s.call_timeout(Call::DropReply, long).await });
    within("the drop", handled.recv()).await.unwrap();
    let start = Instant::now();
    server.cast(Cast::Stop(Exit::error("stopped"))).unwrap();
    assert_eq!(
        within("the call", call).await.unwrap(),
        Err(CallError::Exit(Exit::error("stopped")))
    );
    assert!(start.elapsed() < long);
}

/// R-GS-3: a call queued behind another, when the server is killed, ends with the server's
/// reason.
#[tokio::test(start_paused = true)]
async fn r_gs_3_queued_call_sees_the_servers_death() {
    let node = node();
    let (server, mut held) = start_reporting(&node).await;
    let long = Duration::from_secs(60);
    let s = server.clone();
    let first = tokio::spawn(async move { s.call_timeout(Call::Hold(1), long).await });
    within("the hold", held.recv()).await.unwrap();
    // The server is busy in a slow call; the next call waits in its mailbox.
    let s = server.clone();
    let slow = tokio::spawn(async move {
        s.call_timeout(Call::Slow(Duration::from_secs(30), 2), long)
            .await
    });
    within("the slow call", held.recv()).await.unwrap();
    let s = server.clone();
    let queued = tokio::spawn(async move { s.call_timeout(Call::Echo(3), long).await });
    // Let the queued call's task run up to its wait for the reply.
    tokio::task::yield_now().await;
    assert_eq!(server.addr().mailbox_len(), 1, "the third call is queued");
    node.exit(server.pid(), Exit::error("gone"));
    for call in [first, slow, queued] {
        assert_eq!(
            within("a call", call).await.unwrap(),
            Err(CallError::Exit(Exit::error("gone")))
        );
    }
}

/// R-GS-3: a server that drops the reply handle and lives on leaves the caller to time out.
#[tokio::test(start_paused = true)]
async fn r_gs_3_dropped_reply_handle_times_out_while_the_server_lives() {
    let node = node();
    let server = node.start(Srv::default()).await.unwrap();
    assert_eq!(
        server
            .call_timeout(Call::DropReply, Duration::from_secs(1))
            .await,
        Err(CallError::Timeout(
            CallTimeout::new(server.pid(), Duration::from_secs(1)).into()
        ))
    );
    assert!(server.is_alive());
    assert_eq!(server.call(Call::Echo(4)).await, Ok(Ans::N(4)));
}

/// R-GS-1, R-MON-4: the monitor a call takes on the server is removed when the call ends, so
/// timed-out calls leave nothing behind at a server that lives on (OTP's `gen:call` does
/// `demonitor(Mref, [flush])`).
#[tokio::test(start_paused = true)]
async fn r_gs_1_timed_out_calls_leave_no_monitor_behind() {
    let node = node();
    let server = node.start(Srv::default()).await.unwrap();
    for _ in 0..3 {
        assert_eq!(
            server
                .call_timeout(Call::DropReply, Duration::from_secs(1))
                .await,
            Err(CallError::Timeout(
                CallTimeout::new(server.pid(), Duration::from_secs(1)).into()
            ))
        );
    }
    // The server handles pending signals before this call.
    assert_eq!(server.call(Call::Echo(0)).await, Ok(Ans::N(0)));
    assert_eq!(node.process_info(server.pid()).unwrap().monitored_by, 0);
}

/// R-GS-3: a caller process that lets a failed call end it (`?`) exits with the server's
/// reason, as in OTP.
#[tokio::test(start_paused = true)]
async fn r_gs_3_caller_exits_with_the_servers_reason() {
    let node = node();
    let server = node.start(Srv::default()).await.unwrap();
    let caller = node
        .spawn(move |_: Ctx<()>| async move {
            server.call(Call::Fail(Exit::error("server broke"))).await?;
            Ok::<(), CallError>(())
        })
        .unwrap();
    assert_eq!(
        exit_of(&node, caller.pid()).await,
        Exit::error("server broke")
    );
}

/// R-GS-3: calling a server that has ended fails with `NoProc`, at once.
#[tokio::test(start_paused = true)]
async fn r_gs_3_call_to_a_dead_server_is_noproc() {
    let node = node();
    let server = node.start(Srv::default()).await.unwrap();
    let down = node.monitor(server.pid());
    server.cast(Cast::Stop(Exit::Normal)).unwrap();
    assert_eq!(within("the server's end", down).await, Exit::Normal);
    assert!(!server.is_alive());
    let start = Instant::now();
    assert_eq!(server.call(Call::Echo(1)).await, Err(CallError::NoProc));
    assert_eq!(
        server.call_infinity(Call::Echo(1)).await,
        Err(CallError::NoProc)
    );
    assert_eq!(start.elapsed(), Duration::ZERO);
}

/// R-GS-4: a server calling itself fails with `CallingSelf` instead of waiting for ever.
#[tokio::test(start_paused = true)]
async fn r_gs_4_calling_self_fails() {
    let node = node();
    let server = node.start(Srv::default()).await.unwrap();
    server.cast(Cast::SetMe(server.clone())).unwrap();
    assert_eq!(
        server.call(Call::Myself).await,
        Ok(Ans::CallErr(CallError::CallingSelf))
    );
    // The server is unharmed.
    assert_eq!(server.call(Call::Echo(5)).await, Ok(Ans::N(5)));
}

/// R-GS-5: a cast returns at once whether or not the server exists, and a live server handles
/// casts in order with the calls of the same sender.
#[tokio::test(start_paused = true)]
async fn r_gs_5_cast_never_fails() {
    let node = node();
    let (server, mut held) = start_reporting(&node).await;
    let s = server.clone();
    let held_call = tokio::spawn(async move { s.call(Call::Hold(3)).await });
    within("the hold", held.recv()).await.unwrap();
    server.cast(Cast::Release).unwrap();
    assert_eq!(within("the call", held_call).await.unwrap(), Ok(Ans::N(30)));

    let down = node.monitor(server.pid());
    server.cast(Cast::Stop(Exit::Normal)).unwrap();
    assert_eq!(within("the server's end", down).await, Exit::Normal);
    // Casting to a dead server is fine, as often as one likes.
    for _ in 0..3 {
        server.cast(Cast::Release).unwrap();
    }
    assert!(!server.is_alive());
}

/// R-GS-6: a server answers later with `ReplyTo::reply`; replies go by call, so several
/// callers waiting at once each get their own answer, in whatever order the server replies.
/// The callers are processes on two worker threads; the server sees each caller's pid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_gs_6_deferred_replies_reach_their_own_callers() {
    let node = node();
    let (server, mut held) = start_reporting(&node).await;
    let mut callers = Vec::new();
    for n in 1..=5u32 {
        let s = server.clone();
        let (tx, rx) = oneshot::channel();
        let p = node
            .spawn(move |_: Ctx<()>| async move {
                let _ = tx.send(s.call(Call::Hold(n)).await);
            })
            .unwrap();
        callers.push((n, p.pid(), rx));
    }
    let mut seen = Vec::new();
    for _ in 0..5 {
        seen.push(within("a hold", held.recv()).await.unwrap());
    }
    seen.sort();
    let want: Vec<(u32, Option<Pid>)> = callers.iter().map(|(n, p, _)| (*n, Some(*p))).collect();
    assert_eq!(seen, want, "Caller::pid names each calling process");
    // Replies go out newest first.
    server.cast(Cast::Release).unwrap();
    for (n, _, rx) in callers {
        assert_eq!(within("a reply", rx).await.unwrap(), Ok(Ans::N(n * 10)));
    }
}

/// R-GS-6: a call made from outside any process has no caller pid, and still gets its
/// deferred reply.
#[tokio::test(start_paused = true)]
async fn r_gs_6_deferred_reply_to_a_caller_outside_any_process() {
    let node = node();
    let (server, mut held) = start_reporting(&node).await;
    let s = server.clone();
    let call = tokio::spawn(async move { s.call(Call::Hold(4)).await });
    assert_eq!(within("the hold", held.recv()).await, Some((4, None)));
    server.cast(Cast::Release).unwrap();
    assert_eq!(within("the call", call).await.unwrap(), Ok(Ans::N(40)));
}
