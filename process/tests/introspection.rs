//! Introspection: the live processes as data (`processes`, `process_info`, `top_by_mailbox`),
//! as `erlang:processes/0` and `process_info/1` give them.

mod common;

use beamish_process::{Ctx, Exit, Kind, Message, Status};
use common::{Got, Probe, exit_after, exit_of, idle, node, recv, within};
use tokio::sync::oneshot;

/// `processes` lists exactly the live processes, with their kind; ended ones leave the list.
#[tokio::test(start_paused = true)]
async fn processes_lists_the_live_ones() {
    let node = node();
    let a = idle::<()>(&node);
    let b = idle::<u32>(&node);
    let mut pids: Vec<_> = node.processes().iter().map(|i| i.pid).collect();
    pids.sort();
    let mut want = vec![a.pid(), b.pid()];
    want.sort();
    assert_eq!(pids, want);
    assert!(node.processes().iter().all(|i| i.kind == Kind::Process));
    assert_eq!(node.process_count(), 2);
    assert_eq!(node.spawned_count(), 2);

    exit_after(&node, a.pid(), Exit::Kill).await;
    let pids: Vec<_> = node.processes().iter().map(|i| i.pid).collect();
    assert_eq!(pids, vec![b.pid()]);
    assert!(node.process_info(a.pid()).is_none());
    assert_eq!(node.process_count(), 1);
    assert_eq!(node.spawned_count(), 2);
}

/// `process_info` shows a process's name, links, monitors, watchers, trap flag, status and
/// kind.
#[tokio::test(start_paused = true)]
async fn process_info_describes_a_process() {
    let node = node();
    let mut b = Probe::<&str>::spawn(&node, |_| {}).await;
    let bpid = b.pid();
    let c = idle::<()>(&node);
    let cpid = c.pid();
    let a = Probe::<()>::trapping(&node, move |ctx| {
        ctx.link(bpid).unwrap();
        ctx.monitor(cpid);
        ctx.register("observed").unwrap();
    })
    .await;
    b.send("sync"); // B has handled the link
    assert_eq!(b.next().await, Some(Got::Msg("sync")));

    let info = node.process_info(a.pid()).unwrap();
    assert_eq!(info.pid, a.pid());
    assert_eq!(info.name.as_deref(), Some("observed"));
    assert_eq!(info.links, vec![bpid]);
    assert_eq!(info.monitors, vec![cpid]);
    assert_eq!(info.monitored_by, 0);
    assert!(info.trap_exit);
    assert_eq!(info.status, Status::Waiting);
    assert_eq!(info.kind, Kind::Process);
    assert_eq!(info.mailbox_len, 0);

    let info_b = node.process_info(bpid).unwrap();
    assert_eq!((info_b.links, info_b.trap_exit), (vec![a.pid()], false));

    let server = node.start(Nop).await.unwrap();
    assert_eq!(
        node.process_info(server.pid()).unwrap().kind,
        Kind::GenServer
    );
}

/// `top_by_mailbox` finds the process with the longest queue first.
#[tokio::test(start_paused = true)]
async fn top_by_mailbox_finds_a_flooded_mailbox_first() {
    let node = node();
    let quiet: Vec<_> = (0..5).map(|_| idle::<u32>(&node)).collect();
    let flooded = idle::<u32>(&node);
    let busy = idle::<u32>(&node);
    for n in 0..1_000 {
        flooded.send(n).unwrap();
    }
    for n in 0..10 {
        busy.send(n).unwrap();
    }
    quiet[0].send(1).unwrap();
    let top = node.top_by_mailbox(2);
    assert_eq!(top.len(), 2);
    assert_eq!((top[0].pid, top[0].mailbox_len), (flooded.pid(), 1_000));
    assert_eq!((top[1].pid, top[1].mailbox_len), (busy.pid(), 10));
    assert_eq!(node.top_by_mailbox(100).len(), 7);
}

/// `messages_handled` counts every message a process has received, whichever way it received
/// it (plain, selective, non-blocking, trapped exits and `DOWN`s included), and
/// `mailbox_len` what is still queued.
#[tokio::test(start_paused = true)]
async fn messages_handled_counts_received_messages() {
    let node = node();
    let (ready_tx, ready) = oneshot::channel();
    let (done_tx, done) = oneshot::channel();
    let a = node
        .spawn(move |mut ctx: Ctx<u32>| async move {
            ctx.trap_exit(true);
            let _ = ready_tx.send(());
            for _ in 0..4 {
                let _ = recv(&mut ctx).await;
            }
            let _ = ctx
                .recv_matching(|m| matches!(m, Message::Msg(n) if *n == 9))
                .await;
            let _ = ctx.try_recv();
            let _ = ctx
                .recv_matching(|m| matches!(m, Message::Exit { .. }))
                .await;
            let _ = done_tx.send(());
            std::future::pending::<()>().await;
        })
        .unwrap();
    within("A ready", ready).await.unwrap();
    for n in [1, 2, 3, 4, 5, 9, 6, 7] {
        a.send(n).unwrap();
    }
    node.exit(a.pid(), Exit::Shutdown);
    within("A done", done).await.unwrap();
    let info = node.process_info(a.pid()).unwrap();
    // 4 plain (1..4), 1 selective (9), 1 non-blocking (5), 1 trapped exit.
    assert_eq!(info.messages_handled, 7);
    // 6 and 7 are left.
    assert_eq!(info.mailbox_len, 2);
    assert_eq!(a.mailbox_len(), 2);
}

/// Introspection is safe while processes spawn, send and end on two worker threads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_while_processes_come_and_go() {
    let node = node();
    let (tx, rx) = oneshot::channel();
    node.spawn(move |ctx: Ctx<()>| async move {
        for _ in 0..500 {
            let p = ctx
                .spawn(|mut c: Ctx<u32>| async move {
                    let _ = c.recv().await;
                })
                .unwrap();
            p.send(1).unwrap();
        }
        let _ = tx.send(());
    })
    .unwrap();
    let mut rx = rx;
    loop {
        let _ = node.processes();
        let _ = node.top_by_mailbox(3);
        tokio::select! {
            done = &mut rx => break done.unwrap(),
            _ = tokio::task::yield_now() => {}
        }
    }
}

/// `top_by_mailbox` ranks mailboxes whose lengths change while it sorts them (it must not
/// trip over a key that is not stable): queues here grow and shrink on two worker threads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_by_mailbox_while_mailboxes_change() {
    let node = node();
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let mut workers = Vec::new();
    for _ in 0..48 {
        let stop = stop.clone();
        let w = node
            .spawn(move |mut ctx: Ctx<u32>| async move {
                let me = ctx.addr();
                while !*stop.borrow() {
                    for n in 0..8 {
                        let _ = me.send(n);
                    }
                    tokio::task::yield_now().await;
                    while ctx.try_recv().is_some() {
                        tokio::task::yield_now().await;
                    }
                }
            })
            .unwrap();
        workers.push(w);
    }
    for _ in 0..500 {
        let top = node.top_by_mailbox(4);
        assert!(top.len() <= 4);
    }
    stop_tx.send(true).unwrap();
    for w in workers {
        exit_of(&node, w.pid()).await;
    }
}

struct Nop;

impl beamish_process::GenServer for Nop {
    type Call = ();
    type Reply = ();
    type Cast = ();
    type Info = ();

    async fn handle_call(
        &mut self,
        _: (),
        _: beamish_process::Caller<'_, ()>,
        _: &mut beamish_process::ServerCtx<Self>,
    ) -> Result<beamish_process::Reply<()>, Exit> {
        Ok(beamish_process::Reply::Now(()))
    }
}

/// A process that has ended is gone from the table by the time its `DOWN` arrives.
#[tokio::test]
async fn an_ended_process_is_gone_from_the_table_when_its_down_arrives() {
    let node = beamish_process::Node::start_default().unwrap();
    for _ in 0..100 {
        let (addr, down) = node
            .build()
            .monitor()
            .spawn(|_ctx: beamish_process::Ctx<()>| async {})
            .unwrap();
        assert_eq!(down.await, beamish_process::Exit::Normal);
        assert!(node.process_info(addr.pid()).is_none());
        assert!(!node.is_alive(addr.pid()));
    }
}

/// A behaviour built on plain processes spawns with its own kind (`SpawnBuilder::kind`), from a
/// node or from a process, and introspection shows it.
#[tokio::test(start_paused = true)]
async fn spawn_kind_sets_the_kind_introspection_shows() {
    let node = node();
    let top = node
        .build()
        .kind(Kind::Supervisor)
        .spawn(|mut ctx: Ctx<()>| async move {
            let child = ctx
                .build()
                .kind(Kind::Other)
                .link()
                .spawn(|mut c: Ctx<()>| async move {
                    recv(&mut c).await;
                })
                .unwrap();
            assert_eq!(ctx.links(), vec![child.pid()]);
            let info = ctx.node().process_info(child.pid()).unwrap();
            assert_eq!(info.kind, Kind::Other);
            recv(&mut ctx).await;
        })
        .unwrap();
    assert_eq!(node.process_info(top.pid()).unwrap().kind, Kind::Supervisor);
    top.send(()).unwrap();
    assert_eq!(exit_of(&node, top.pid()).await, Exit::Normal);
}
