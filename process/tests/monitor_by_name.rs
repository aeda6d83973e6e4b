//! Monitors by registered name (R-MON-2): the name is looked up once, a free name gives
//! `DOWN` with `noproc` at once, and the `DOWN` names its object as `{Name, Node}`.

mod common;

use beamish_process::{Ctx, DownMsg, Exit, Message, Monitored, Node};
use common::{exit_after, idle, node, within};
use tokio::sync::oneshot;

/// The object a name monitor's `DOWN` carries for `name` on `node`.
fn name_object(node: &Node, name: &str) -> Monitored {
    Monitored::Name {
        name: name.into(),
        node: node.name().into(),
    }
}

/// Runs `watch` in a new process, then sends the test the first `DOWN` that process gets.
async fn first_down(node: &Node, watch: impl FnOnce(&Ctx<()>) + Send + 'static) -> DownMsg {
    let (tx, rx) = oneshot::channel();
    node.spawn(move |mut ctx: Ctx<()>| async move {
        watch(&ctx);
        loop {
            if let Message::Down(down) = ctx.recv().await {
                let _ = tx.send(*down);
                break;
            }
        }
    })
    .unwrap();
    within("the DOWN", rx).await.unwrap()
}

/// R-MON-2: monitoring a name nobody holds gives `DOWN` with `noproc` at once, and its
/// object is `{Name, Node}`.
#[tokio::test(start_paused = true)]
async fn r_mon_2_a_free_name_gives_noproc_at_once() {
    let node = node();
    let (mref_tx, mref_rx) = oneshot::channel();
    let down = first_down(&node, move |ctx| {
        let _ = mref_tx.send(ctx.monitor_name("nobody"));
    })
    .await;
    assert_eq!(down.mref, mref_rx.await.unwrap());
    assert_eq!(down.reason, Exit::NoProc);
    assert_eq!(down.object, name_object(&node, "nobody"));
    assert_eq!(down.pid, node.pid(), "no process: the node's pid stands in");
}

/// R-MON-2: a monitor by name watches the process the name stood for when the monitor was
/// set; its `DOWN` has that process's reason and pid, and the object `{Name, Node}`.
#[tokio::test(start_paused = true)]
async fn r_mon_2_a_name_monitor_reports_name_and_node() {
    let node = node();
    let worker = idle::<()>(&node).pid();
    node.register("worker", worker).unwrap();
    let (set_tx, set) = oneshot::channel();
    let watcher = {
        let node = node.clone();
        tokio::spawn(async move {
            first_down(&node, move |ctx| {
                ctx.monitor_name("worker");
                let _ = set_tx.send(());
            })
            .await
        })
    };
    within("the monitor", set).await.unwrap();
    assert_eq!(
        exit_after(&node, worker, Exit::error("crashed")).await,
        Exit::error("crashed")
    );
    let down = within("the watcher", watcher).await.unwrap();
    assert_eq!(down.reason, Exit::error("crashed"));
    assert_eq!(down.pid, worker);
    assert_eq!(down.object, name_object(&node, "worker"));
}

/// R-MON-2, R-MON-4: a name monitor removed with `demonitor` delivers nothing, like any
/// other; a pid monitor set afterwards still reports by pid.
#[tokio::test(start_paused = true)]
async fn r_mon_4_a_removed_name_monitor_delivers_nothing() {
    let node = node();
    let worker = idle::<()>(&node).pid();
    node.register("worker", worker).unwrap();
    let (set_tx, set) = oneshot::channel();
    let watcher = {
        let node = node.clone();
        tokio::spawn(async move {
            let (tx, rx) = oneshot::channel();
            node.spawn(move |mut ctx: Ctx<()>| async move {
                let by_name = ctx.monitor_name("worker");
                assert!(ctx.demonitor(by_name, false));
                let by_pid = ctx.monitor(worker);
                let _ = set_tx.send(());
                if let Message::Down(down) = ctx.recv().await {
                    let _ = tx.send((by_pid, *down));
                }
            })
            .unwrap();
            rx.await.unwrap()
        })
    };
    within("the monitors", set).await.unwrap();
    exit_after(&node, worker, Exit::Shutdown).await;
    let (by_pid, down) = within("the watcher", watcher).await.unwrap();
    assert_eq!(down.mref, by_pid);
    assert_eq!(down.object, Monitored::Pid(worker));
}

/// R-MON-2: from outside any process, `Node::monitor_name` resolves to the reason, or to
/// `noproc` at once for a free name.
#[tokio::test(start_paused = true)]
async fn r_mon_2_node_monitor_name() {
    let node = node();
    assert_eq!(node.monitor_name("nobody").await, Exit::NoProc);
    let worker = idle::<()>(&node).pid();
    node.register("worker", worker).unwrap();
    let down = node.monitor_name("worker");
    node.exit(worker, Exit::error("bye"));
    assert_eq!(within("the worker's end", down).await, Exit::error("bye"));
}
