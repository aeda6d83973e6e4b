//! `Node::scope`: tokio code that is a process for a while (issue 14 §2), as an ExUnit test
//! process is. The scope receives `EXIT` and `DOWN` messages, is linked and monitored, sends
//! exit signals as itself, and its end reaches its links and monitors as a process's does.

mod common;

use beamish_process::{
    Caller, Ctx, Executor, Exit, GenServer, Message, Node, NodeConfig, Reply, ScopeError,
    ServerCtx, current_pid,
};
use common::{Got, idle, recv, within};
use tokio::sync::oneshot;

fn workers_node() -> Node {
    Node::new(NodeConfig {
        executor: Executor::Workers(2),
        ..NodeConfig::default()
    })
    .expect("inside a tokio runtime")
}

/// R-MON-1: a monitor set from a scope delivers its `DOWN` into the scope's mailbox, and the
/// scope is a process while it lasts (its pid is current, is alive, and is gone after).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_mon_1_a_scope_receives_the_down_of_a_process_it_monitors() {
    let node = workers_node();
    let (pid, got) = within(
        "the scope",
        node.scope(|mut ctx: Ctx<()>| async move {
            assert_eq!(current_pid(), Some(ctx.pid()));
            assert!(ctx.node().is_alive(ctx.pid()));
            let worker = ctx
                .spawn(|_: Ctx<()>| async { Exit::error("disk full") })
                .unwrap();
            let mref = ctx.monitor(worker.pid());
            let got = recv(&mut ctx).await;
            (ctx.pid(), (got, mref, worker.pid()))
        }),
    )
    .await
    .unwrap();
    let (got, mref, worker) = got;
    assert_eq!(
        got,
        Got::Down {
            mref,
            pid: worker,
            reason: Exit::error("disk full")
        }
    );
    assert!(
        !node.is_alive(pid),
        "the scope's process ends with the scope"
    );
    assert_eq!(
        current_pid(),
        None,
        "outside the scope, no process is current"
    );
}

/// R-EXIT-1: a scope that traps exits receives a crashed link's exit signal as a message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_exit_1_a_trapping_scope_receives_a_linked_crash_as_a_message() {
    let node = workers_node();
    let got = within(
        "the scope",
        node.scope(|mut ctx: Ctx<()>| async move {
            ctx.trap_exit(true);
            let worker = ctx
                .build()
                .link()
                .spawn(|_: Ctx<()>| async { Exit::error("boom") })
                .unwrap();
            (recv(&mut ctx).await, worker.pid())
        }),
    )
    .await
    .unwrap();
    assert_eq!(
        got.0,
        Got::Exit {
            from: got.1,
            reason: Exit::error("boom")
        }
    );
}

/// R-EXIT-1: a scope that does not trap exits is ended by a linked process's crash: its body
/// is dropped at its next `.await`, and the caller gets the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_exit_1_a_linked_crash_ends_a_scope_that_does_not_trap() {
    let node = workers_node();
    let (flag, dropped) = common::DropFlag::new();
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let ended = within(
        "the scope",
        node.scope(|ctx: Ctx<()>| async move {
            let _state = flag;
            ctx.build()
                .link()
                .spawn(|_: Ctx<()>| async move {
                    let _ = go_rx.await;
                    Exit::error("boom")
                })
                .unwrap();
            go_tx.send(()).unwrap();
            std::future::pending::<()>().await
        }),
    )
    .await;
    assert_eq!(ended, Err(ScopeError::Exited(Exit::error("boom"))));
    within("the body's state to drop", dropped)
        .await
        .unwrap_err();
}

/// R-LNK-2, R-MON-1: processes linked to a scope and monitoring it hear its end: `normal`
/// when its body returns (a link ignores that), `shutdown` when the scope is dropped early.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_lnk_2_links_and_monitors_hear_the_scopes_end() {
    let node = workers_node();
    // Returned: normal, to a monitor.
    let (down_tx, down_rx) = oneshot::channel();
    node.scope(|ctx: Ctx<()>| async move {
        let _ = down_tx.send(ctx.node().monitor(ctx.pid()));
    })
    .await
    .unwrap();
    let down = down_rx.await.unwrap();
    assert_eq!(
        within("the returned scope's DOWN", down).await,
        Exit::Normal
    );

    // Dropped before its end: shutdown, to a link and to a monitor.
    let linked = idle::<()>(&node);
    let linked_down = node.monitor(linked.pid());
    let (pid_tx, pid_rx) = oneshot::channel();
    let mut scope = Box::pin(node.scope(|ctx: Ctx<()>| async move {
        ctx.link(linked.pid()).unwrap();
        pid_tx.send(ctx.pid()).unwrap();
        std::future::pending::<()>().await
    }));
    let scope_pid = tokio::select! {
        _ = &mut scope => unreachable!("the scope's body never returns"),
        pid = pid_rx => pid.unwrap(),
    };
    let scope_down = node.monitor(scope_pid);
    drop(scope);
    assert_eq!(
        within("the dropped scope's DOWN", scope_down).await,
        Exit::Shutdown
    );
    assert_eq!(
        within("the linked process's end", linked_down).await,
        Exit::Shutdown
    );
}

/// A scope sends exit signals as itself: a trapping process sees the scope's pid as `from`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exit_signal_from_a_scope_comes_from_the_scopes_pid() {
    let node = workers_node();
    let mut probe = common::Probe::<()>::trapping(&node, |_| {}).await;
    let from = node
        .scope(|ctx: Ctx<()>| {
            let target = probe.pid();
            async move {
                ctx.exit(target, Exit::error("stop"));
                ctx.pid()
            }
        })
        .await
        .unwrap();
    assert_eq!(
        probe.next().await,
        Some(Got::Exit {
            from,
            reason: Exit::error("stop")
        })
    );
}

/// A panic in the body reaches the scope's links as `Exit::Panic`, and goes on in the caller.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_a_scope_reaches_its_links_and_the_caller() {
    let node = workers_node();
    let mut probe = common::Probe::<()>::trapping(&node, |_| {}).await;
    let target = probe.pid();
    let inner = node.clone();
    let caught = tokio::spawn(async move {
        inner
            .scope(|ctx: Ctx<()>| async move {
                ctx.link(target).unwrap();
                tokio::task::yield_now().await;
                panic!("the handler's bug");
            })
            .await
    })
    .await;
    assert!(caught.unwrap_err().is_panic());
    match probe.next().await {
        Some(Got::Exit {
            reason: Exit::Panic(msg),
            ..
        }) => assert!(msg.contains("the handler's bug"), "{msg}"),
        other => panic!("expected the scope's panic, got {other:?}"),
    }
}

#[derive(Default)]
struct Counter(u64);

impl GenServer for Counter {
    type Call = ();
    type Reply = u64;
    type Cast = ();
    type Info = ();

    async fn handle_call(
        &mut self,
        _: (),
        _: Caller<'_, u64>,
        _: &mut ServerCtx<Self>,
    ) -> Result<Reply<u64>, Exit> {
        self.0 += 1;
        Ok(Reply::Now(self.0))
    }
}

/// The body may borrow from the caller and need not be `Send`: it runs in place, in the
/// caller's task (here `#[tokio::test]`'s body on a current-thread runtime), calls included.
#[tokio::test]
async fn a_scope_borrows_from_its_caller_and_calls_servers() {
    let node = common::node();
    let server = node.start(Counter::default()).await.unwrap();
    let mut seen = Vec::new();
    let local = std::rc::Rc::new(7u64);
    let (seen_ref, server, local) = (&mut seen, &server, &local);
    node.scope(|mut ctx: Ctx<u64>| async move {
        let seen = seen_ref;
        for _ in 0..3 {
            seen.push(server.call(()).await.unwrap());
        }
        ctx.addr().send(**local).unwrap();
        match ctx.recv().await {
            Message::Msg(v) => seen.push(v),
            other => panic!("{other:?}"),
        }
    })
    .await
    .unwrap();
    assert_eq!(seen, [1, 2, 3, 7]);
}
