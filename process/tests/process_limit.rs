//! The process limit: spawning past it fails with `system_limit`, the node keeps running, and
//! the capacity comes back as processes end (R-PROC-1).

mod common;

use beamish_process::{
    Caller, Ctx, DEFAULT_PROCESS_LIMIT, Exit, GenServer, Node, NodeConfig, Reply, ServerCtx,
    SpawnError, StartError,
};
use common::{Got, Probe, exit_of, recv, within};
use tokio::sync::oneshot;

fn node_with_limit(limit: usize) -> Node {
    Node::new(NodeConfig {
        process_limit: limit,
        ..NodeConfig::default()
    })
    .unwrap()
}

struct Nop;

impl GenServer for Nop {
    type Call = ();
    type Reply = ();
    type Cast = ();
    type Info = ();

    async fn handle_call(
        &mut self,
        _: (),
        _: Caller<'_, ()>,
        _: &mut ServerCtx<Self>,
    ) -> Result<Reply<()>, Exit> {
        Ok(Reply::Now(()))
    }
}

/// R-PROC-1: the default limit is the BEAM's, 2^20.
#[test]
fn r_proc_1_default_limit_is_the_beams() {
    assert_eq!(DEFAULT_PROCESS_LIMIT, 1 << 20);
    assert_eq!(NodeConfig::default().process_limit, DEFAULT_PROCESS_LIMIT);
}

/// R-PROC-1: at the limit, every way of spawning fails with `SystemLimit`, and the processes
/// already running carry on.
#[tokio::test(start_paused = true)]
async fn r_proc_1_spawn_past_the_limit_fails_and_the_node_keeps_working() {
    let node = node_with_limit(3);
    let (tx, rx) = oneshot::channel();
    // One process that will try to spawn from inside, when asked.
    let spawner = node
        .spawn(move |mut ctx: Ctx<()>| async move {
            let _ = recv(&mut ctx).await;
            let plain = ctx.spawn(|_: Ctx<()>| async {}).err();
            let linked = ctx.build().link().spawn(|_: Ctx<()>| async {}).err();
            let monitored = ctx.build().monitor().spawn(|_: Ctx<()>| async {}).err();
            let server = ctx.start_link(Nop).await.err();
            let _ = tx.send((plain, linked, monitored, server, ctx.links()));
            std::future::pending::<()>().await;
        })
        .unwrap();
    let mut a = Probe::<&str>::spawn(&node, |_| {}).await;
    let _b = Probe::<&str>::spawn(&node, |_| {}).await;
    assert_eq!(node.process_count(), 3);

    let limit = SpawnError::SystemLimit { limit: 3 };
    assert_eq!(node.spawn(|_: Ctx<()>| async {}).err(), Some(limit.clone()));
    assert_eq!(
        node.build().spawn(|_: Ctx<()>| async {}).err(),
        Some(limit.clone())
    );
    assert_eq!(
        node.start(Nop).await.err(),
        Some(StartError::Spawn(limit.clone()))
    );
    spawner.send(()).unwrap();
    let (plain, linked, monitored, server, links) = within("the spawner", rx).await.unwrap();
    assert_eq!(plain, Some(limit.clone()));
    assert_eq!(linked, Some(limit.clone()));
    assert_eq!(monitored, Some(limit.clone()));
    assert_eq!(server, Some(StartError::Spawn(limit.clone())));
    assert!(links.is_empty(), "a failed spawn_link leaves no link");

    // The node carries on.
    assert_eq!(node.process_count(), 3);
    a.send("still working");
    assert_eq!(a.next().await, Some(Got::Msg("still working")));
}

/// R-PROC-1: the capacity comes back when processes end, however they end: by returning, by
/// panicking, killed, or with links and monitors to tell.
#[tokio::test(start_paused = true)]
async fn r_proc_1_capacity_comes_back_after_exits() {
    let node = node_with_limit(2);
    let keeper = Probe::<()>::trapping(&node, |_| {}).await;
    let kpid = keeper.pid();
    for round in 0..50 {
        let p = match round % 4 {
            0 => node.spawn(|_: Ctx<()>| async {}).unwrap(),
            1 => node
                .spawn(|_: Ctx<()>| async {
                    if true {
                        panic!("on purpose");
                    }
                })
                .unwrap(),
            2 => {
                let p = node
                    .spawn(|_: Ctx<()>| std::future::pending::<()>())
                    .unwrap();
                node.exit(p.pid(), Exit::Kill);
                p
            }
            _ => node
                .spawn(move |ctx: Ctx<()>| async move {
                    ctx.link(kpid).unwrap();
                    Exit::error("linked and failed")
                })
                .unwrap(),
        };
        assert!(node.spawn(|_: Ctx<()>| async {}).is_err(), "round {round}");
        exit_of(&node, p.pid()).await;
        assert_eq!(node.process_count(), 1, "round {round}");
    }
    assert_eq!(node.spawned_count(), 51);
}

/// R-PROC-1: a process's slot is free by the time anyone learns of its end: a trapping parent
/// at the limit can start a replacement as soon as it receives the exit signal (what a
/// supervisor does), with the child ending on another worker thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_proc_1_capacity_is_back_when_the_exit_signal_arrives() {
    let node = node_with_limit(2);
    let (tx, rx) = oneshot::channel();
    node.build()
        .trap_exit(true)
        .spawn(move |mut ctx: Ctx<()>| async move {
            let mut outcome = Ok(());
            for round in 0..2_000u32 {
                let child = match ctx
                    .build()
                    .link()
                    .spawn(|_: Ctx<()>| async { Exit::error("done") })
                {
                    Ok(child) => child,
                    Err(e) => {
                        outcome = Err(format!("round {round}: {e}"));
                        break;
                    }
                };
                let got = recv(&mut ctx).await;
                let want = Got::Exit {
                    from: child.pid(),
                    reason: Exit::error("done"),
                };
                if got != want {
                    outcome = Err(format!("round {round}: {got:?}"));
                    break;
                }
            }
            let _ = tx.send(outcome);
        })
        .unwrap();
    assert_eq!(within("2000 restarts", rx).await, Ok(Ok(())));
}
