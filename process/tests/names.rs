//! Registered names: `register`, `whereis`, `send_named`, `unregister`; and a dead process's
//! name is released before its exit signals and `DOWN`s go out, so whoever sees the end can
//! take the name at once (R-LNK-2, R-ORD-4).

mod common;

use beamish_process::{Ctx, Exit, RegisterError, SendError};
use common::{Got, Probe, exit_after, idle, node, recv, within};
use tokio::sync::oneshot;

/// R-ORD-4: a name resolves to its process until it is unregistered; messages sent to it
/// arrive, and sending to it once it is free fails.
#[tokio::test(start_paused = true)]
async fn r_ord_4_register_whereis_send_named_unregister() {
    let node = node();
    let mut a = Probe::<&str>::spawn(&node, |ctx| ctx.register("a").unwrap()).await;
    assert_eq!(node.whereis("a"), Some(a.pid()));
    assert_eq!(node.registered(), vec![("a".into(), a.pid())]);
    node.send_named("a", "hello").unwrap();
    assert_eq!(a.next().await, Some(Got::Msg("hello")));
    assert_eq!(
        node.process_info(a.pid()).unwrap().name.as_deref(),
        Some("a")
    );

    assert!(node.unregister("a"));
    assert_eq!(node.whereis("a"), None);
    assert!(node.process_info(a.pid()).unwrap().name.is_none());
    assert!(matches!(
        node.send_named("a", "again"),
        Err(SendError::NotRegistered("again"))
    ));
    // The process may take a name again.
    node.register("a-again", a.pid()).unwrap();
    assert_eq!(node.whereis("a-again"), Some(a.pid()));
}

/// R-LNK-2, R-ORD-4: a dead process's name is free: `whereis` finds nothing, sending to it
/// fails, and someone else can take it.
#[tokio::test(start_paused = true)]
async fn r_lnk_2_name_is_released_on_death() {
    let node = node();
    let a = idle::<u32>(&node);
    node.register("svc", a.pid()).unwrap();
    exit_after(&node, a.pid(), Exit::error("crash")).await;
    assert_eq!(node.whereis("svc"), None);
    assert!(matches!(
        node.send_named("svc", 1u32),
        Err(SendError::NotRegistered(1))
    ));
    let b = idle::<u32>(&node);
    node.register("svc", b.pid()).unwrap();
}

/// What the watcher saw, and whether it could take the dead process's name right then.
type Seen = (Got<()>, Result<(), RegisterError>);

/// Spawns a process registered as `name`, and a watcher that links to it (or monitors it)
/// and, as soon as it learns of its end, registers itself under the same name.
async fn watch_and_take_over(
    node: &beamish_process::Node,
    name: &str,
    monitor: bool,
) -> (beamish_process::Pid, oneshot::Receiver<Seen>) {
    let owner = idle::<()>(node);
    let opid = owner.pid();
    node.register(name, opid).unwrap();
    let name = name.to_owned();
    let (ready_tx, ready) = oneshot::channel();
    let (tx, rx) = oneshot::channel();
    node.build()
        .trap_exit(true)
        .spawn(move |mut ctx: Ctx<()>| async move {
            if monitor {
                ctx.monitor(opid);
            } else {
                ctx.link(opid).unwrap();
            }
            let _ = ready_tx.send(());
            let seen = recv(&mut ctx).await;
            let took = ctx.register(&name);
            let _ = tx.send((seen, took));
            std::future::pending::<()>().await;
        })
        .unwrap();
    within("the watcher", ready).await.unwrap();
    (opid, rx)
}

/// R-LNK-2: a linked process that receives the exit signal can register the dead process's
/// name at once.
#[tokio::test(start_paused = true)]
async fn r_lnk_2_linked_process_takes_the_name_on_exit() {
    let node = node();
    let (owner, seen) = watch_and_take_over(&node, "svc", false).await;
    node.exit(owner, Exit::error("crash"));
    let (got, took) = within("the watcher's report", seen).await.unwrap();
    assert_eq!(
        got,
        Got::Exit {
            from: owner,
            reason: Exit::error("crash")
        }
    );
    assert_eq!(took, Ok(()));
    assert_ne!(node.whereis("svc"), Some(owner));
}

/// R-LNK-2: a monitoring process that receives the `DOWN` can register the dead process's
/// name at once.
#[tokio::test(start_paused = true)]
async fn r_lnk_2_monitoring_process_takes_the_name_on_down() {
    let node = node();
    let (owner, seen) = watch_and_take_over(&node, "svc", true).await;
    node.exit(owner, Exit::error("crash"));
    let (got, took) = within("the watcher's report", seen).await.unwrap();
    assert!(
        matches!(got, Got::Down { pid, .. } if pid == owner),
        "{got:?}"
    );
    assert_eq!(took, Ok(()));
}

/// R-LNK-2: the same with the watcher on another worker thread, racing the dead process's
/// termination, many times over: the name is always free by the time the signal arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_lnk_2_name_is_free_before_the_signal_across_threads() {
    let node = node();
    for i in 0..100 {
        let name = format!("svc-{i}");
        let (owner, seen) = watch_and_take_over(&node, &name, i % 2 == 1).await;
        node.exit(owner, Exit::error("crash"));
        let (got, took) = within("the watcher's report", seen).await.unwrap();
        assert!(!got.is_msg(), "{got:?}");
        assert_eq!(took, Ok(()), "round {i} ({name})");
    }
}

/// R-LNK-2: code outside any process that waits for the end with `Node::monitor` also finds
/// the name free.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_lnk_2_name_is_free_when_node_monitor_resolves() {
    let node = node();
    for i in 0..100 {
        let a = idle::<()>(&node);
        node.register("svc", a.pid()).unwrap();
        let down = node.monitor(a.pid());
        node.exit(a.pid(), Exit::error("crash"));
        within("the end", down).await;
        let b = idle::<()>(&node);
        assert_eq!(node.register("svc", b.pid()), Ok(()), "round {i}");
        exit_after(&node, b.pid(), Exit::Kill).await;
    }
}
