//! Misuse gives a typed error that hands back what was not delivered, and hurts nothing else:
//! calls and sends to dead pids, full bounded mailboxes, spawning past the limit, the wrong
//! message type, free names, double registration, a node outside a runtime.

mod common;

use std::num::NonZeroUsize;
use std::time::Duration;

use beamish_process::{
    CallError, CallTimeout, Caller, Capacity, CastError, Ctx, Exit, GenServer, Node, NodeConfig,
    NodeError, RegisterError, Reply, SendError, ServerCtx, SpawnError, SpawnOpts,
};
use common::{Got, Probe, dead_pid, exit_of, node, recv, within};
use tokio::sync::oneshot;

fn bounded(n: usize) -> SpawnOpts {
    SpawnOpts {
        capacity: Capacity::Bounded(NonZeroUsize::new(n).unwrap()),
        ..SpawnOpts::default()
    }
}

struct Echo;

impl GenServer for Echo {
    type Call = u32;
    type Reply = u32;
    type Cast = ();
    type Info = ();

    async fn handle_call(
        &mut self,
        n: u32,
        _: Caller<'_, u32>,
        _: &mut ServerCtx<Self>,
    ) -> Result<Reply<u32>, Exit> {
        Ok(Reply::Now(n))
    }
}

/// R-GS-3, R-ORD-4: calling or sending to a process that has ended fails at once, giving the
/// message back.
#[tokio::test(start_paused = true)]
async fn r_gs_3_call_and_send_to_a_dead_pid() {
    let node = node();
    let server = node.start(Echo).await.unwrap();
    let down = node.monitor(server.pid());
    node.exit(server.pid(), Exit::Kill);
    assert_eq!(within("the end", down).await, Exit::Killed);
    assert_eq!(server.call(1).await, Err(CallError::NoProc));
    assert!(matches!(server.send(()), Err(SendError::NoProc(()))));

    let dead = dead_pid(&node, Exit::Normal).await;
    assert!(matches!(node.send(dead, 5u32), Err(SendError::NoProc(5))));
    assert!(node.addr::<u32>(dead).is_none());
    assert!(!node.is_alive(dead));
}

/// R-MBX-2 (opt-in bound): a full bounded mailbox refuses a message with `Full`, handing it
/// back; once the process takes one, there is room again.
#[tokio::test(start_paused = true)]
async fn r_mbx_2_send_to_a_full_bounded_mailbox() {
    let node = node();
    let (go_tx, go) = oneshot::channel::<()>();
    let (took_tx, took) = oneshot::channel();
    let a = node
        .build()
        .opts(bounded(2))
        .spawn(move |mut ctx: Ctx<String>| async move {
            let _ = go.await;
            let first = recv(&mut ctx).await;
            let _ = took_tx.send(first);
            std::future::pending::<()>().await;
        })
        .unwrap();
    a.send("one".into()).unwrap();
    node.send(a.pid(), "two".to_string()).unwrap();
    match a.send("three".into()) {
        Err(SendError::Full(m)) => assert_eq!(m, "three"),
        other => panic!("expected Full, got {other:?}"),
    }
    match node.send(a.pid(), "four".to_string()) {
        Err(e @ SendError::Full(_)) => assert_eq!(e.into_inner(), "four"),
        other => panic!("expected Full, got {other:?}"),
    }
    assert_eq!(a.mailbox_len(), 2);
    go_tx.send(()).unwrap();
    assert_eq!(within("a take", took).await, Ok(Got::Msg("one".into())));
    a.send("five".into()).unwrap();
    assert!(matches!(a.send("six".into()), Err(SendError::Full(_))));
}

/// R-MBX-2 (opt-in bound): `send_wait` waits for room in a full bounded mailbox instead of
/// failing.
#[tokio::test(start_paused = true)]
async fn r_mbx_2_send_wait_waits_for_room() {
    let node = node();
    let (tx, rx) = oneshot::channel();
    let a = node
        .build()
        .opts(bounded(1))
        .spawn(move |mut ctx: Ctx<u32>| async move {
            let mut got = Vec::new();
            for _ in 0..3 {
                got.push(recv(&mut ctx).await);
            }
            let _ = tx.send(got);
        })
        .unwrap();
    for n in 1..=3 {
        within("room", a.send_wait(n)).await.unwrap();
    }
    let got = within("A's report", rx).await.unwrap();
    assert_eq!(got, vec![Got::Msg(1), Got::Msg(2), Got::Msg(3)]);
}

/// R-GS-1: a call to a server whose bounded mailbox stays full times out. R-GS-5 (where
/// beamish differs): a cast to that full mailbox is not dropped in silence but comes back in
/// `CastError::Full`, and a cast with room succeeds.
#[tokio::test(start_paused = true)]
async fn r_gs_1_call_to_a_full_server_times_out() {
    let node = node();
    let (go_tx, go) = oneshot::channel::<()>();
    let (entered_tx, entered) = oneshot::channel::<()>();
    /// Blocks in its first call until the gate opens.
    struct Stuck(Option<(oneshot::Sender<()>, oneshot::Receiver<()>)>);
    impl GenServer for Stuck {
        type Call = u32;
        type Reply = u32;
        type Cast = ();
        type Info = ();
        async fn handle_call(
            &mut self,
            n: u32,
            _: Caller<'_, u32>,
            _: &mut ServerCtx<Self>,
        ) -> Result<Reply<u32>, Exit> {
            if let Some((entered, gate)) = self.0.take() {
                let _ = entered.send(());
                let _ = gate.await;
            }
            Ok(Reply::Now(n))
        }
    }
    let server = node
        .start_with(bounded(1), Stuck(Some((entered_tx, go))))
        .await
        .unwrap();
    let s = server.clone();
    let first = tokio::spawn(async move { s.call_timeout(1, Duration::from_secs(60)).await });
    within("the first call", entered).await.unwrap();
    assert_eq!(server.cast(()), Ok(())); // fills the mailbox
    assert_eq!(server.cast(()), Err(CastError::Full(())));
    assert_eq!(
        server.call_timeout(2, Duration::from_millis(100)).await,
        Err(CallError::Timeout(
            CallTimeout::new(server.pid(), Duration::from_millis(100)).into()
        ))
    );
    go_tx.send(()).unwrap();
    assert_eq!(within("the first call", first).await.unwrap(), Ok(1));
    assert_eq!(server.call(3).await, Ok(3));
}

/// R-EXIT-1, R-MBX-2: exit signals are never refused for lack of room: a trapping process
/// with a full bounded mailbox still receives the trapped exit, beyond its capacity.
#[tokio::test(start_paused = true)]
async fn r_exit_1_exit_signals_pass_a_full_mailbox() {
    let node = node();
    let opts = SpawnOpts {
        trap_exit: true,
        ..bounded(1)
    };
    let (go_tx, go) = oneshot::channel::<()>();
    let (tx, rx) = oneshot::channel();
    let a = node
        .build()
        .opts(opts)
        .spawn(move |mut ctx: Ctx<&'static str>| async move {
            let _ = go.await;
            let _ = tx.send([recv(&mut ctx).await, recv(&mut ctx).await]);
        })
        .unwrap();
    a.send("fill").unwrap();
    assert!(matches!(a.send("over"), Err(SendError::Full("over"))));
    node.exit(a.pid(), Exit::Shutdown);
    go_tx.send(()).unwrap();
    let got = within("A's report", rx).await.unwrap();
    assert_eq!(
        got,
        [
            Got::Msg("fill"),
            Got::Exit {
                from: node.pid(),
                reason: Exit::Shutdown
            }
        ]
    );
}

/// R-PROC-1: spawning past the limit is an error value, not a crash (more in
/// `process_limit.rs`).
#[tokio::test(start_paused = true)]
async fn r_proc_1_spawn_past_the_limit() {
    let node = Node::new(NodeConfig {
        process_limit: 1,
        ..NodeConfig::default()
    })
    .unwrap();
    let _one = Probe::<()>::spawn(&node, |_| {}).await;
    assert_eq!(
        node.spawn(|_: Ctx<()>| async {}).err(),
        Some(SpawnError::SystemLimit { limit: 1 })
    );
}

/// `Node::send` with a type the process does not take fails with `WrongType`, handing the
/// message back; the process is unaffected. (No OTP counterpart: a BEAM process takes any
/// term.)
#[tokio::test(start_paused = true)]
async fn node_send_with_the_wrong_type() {
    let node = node();
    let mut a = Probe::<u32>::spawn(&node, |_| {}).await;
    match node.send(a.pid(), "not a number") {
        Err(SendError::WrongType(m)) => assert_eq!(m, "not a number"),
        other => panic!("expected WrongType, got {other:?}"),
    }
    assert!(node.addr::<&str>(a.pid()).is_none());
    node.send(a.pid(), 7u32).unwrap();
    assert_eq!(a.next().await, Some(Got::Msg(7)));
}

/// R-ORD-4: sending to a name nobody holds fails with `NotRegistered`, handing the message
/// back.
#[tokio::test(start_paused = true)]
async fn r_ord_4_send_named_to_a_free_name() {
    let node = node();
    match node.send_named("nobody", 1u8) {
        Err(SendError::NotRegistered(m)) => assert_eq!(m, 1),
        other => panic!("expected NotRegistered, got {other:?}"),
    }
}

/// `register/2`'s `badarg` cases, as typed errors: a taken name, a second name, a dead pid.
#[tokio::test(start_paused = true)]
async fn bad_registrations() {
    let node = node();
    let a = Probe::<()>::spawn(&node, |_| {}).await;
    let b = Probe::<()>::spawn(&node, |_| {}).await;
    node.register("a", a.pid()).unwrap();
    assert_eq!(
        node.register("a", b.pid()),
        Err(RegisterError::AlreadyRegistered(a.pid()))
    );
    assert_eq!(
        node.register("a2", a.pid()),
        Err(RegisterError::HasName("a".into()))
    );
    let dead = dead_pid(&node, Exit::Normal).await;
    assert_eq!(node.register("d", dead), Err(RegisterError::NoProc));
    assert_eq!(node.whereis("d"), None);
    assert!(!node.unregister("never registered"));
}

/// A process that keeps calling a dead server gets `NoProc` every time and stays alive;
/// letting the error end it gives `noproc` as its reason (R-GS-3).
#[tokio::test(start_paused = true)]
async fn r_gs_3_caller_of_a_dead_server_exits_noproc() {
    let node = node();
    let server = node.start(Echo).await.unwrap();
    let down = node.monitor(server.pid());
    node.exit(server.pid(), Exit::Kill);
    within("the end", down).await;
    let caller = node
        .spawn(move |_: Ctx<()>| async move {
            for _ in 0..3 {
                assert_eq!(server.call(1).await, Err(CallError::NoProc));
            }
            server.call(1).await?;
            Ok::<(), CallError>(())
        })
        .unwrap();
    assert_eq!(exit_of(&node, caller.pid()).await, Exit::NoProc);
}

/// A node needs a tokio runtime.
#[test]
fn node_outside_a_runtime() {
    assert_eq!(Node::start_default().err(), Some(NodeError::NoRuntime));
}
