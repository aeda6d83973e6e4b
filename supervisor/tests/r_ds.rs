//! DynamicSupervisor: R-DS-1 (one for one, defaults, ids undefined), R-DS-2 (max_children),
//! R-DS-3 (terminate_child, not_found), R-DS-4 (intensity, concurrent shutdown), R-DS-5
//! (extra arguments prepended, reused on restart).

mod common;

use std::time::Duration;

use beamish_process::{Ctx, Exit, Message, Pid, SpawnOpts};
use beamish_supervisor::{
    ChildSpec, DEFAULT_INTENSITY, DEFAULT_PERIOD, DynamicSupervisor, Flavor, Shutdown,
    StartChildError, Started, TerminateChildError,
};
use common::{exit_of, node};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// A child that reports (extra, own) arguments with its pid, ends with the reason it is sent,
/// and, trapping exits, takes `linger` to shut down.
fn child(
    own: u32,
    linger: Duration,
    tx: mpsc::UnboundedSender<(String, u32, Pid)>,
) -> ChildSpec<String> {
    ChildSpec::with_args("dyn", move |linker, extra: String| {
        let tx = tx.clone();
        Box::pin(async move {
            let opts = SpawnOpts {
                trap_exit: true,
                ..SpawnOpts::default()
            };
            let addr = linker
                .build()
                .opts(opts)
                .spawn(move |mut ctx: Ctx<Exit>| async move {
                    loop {
                        match ctx.recv().await {
                            Message::Msg(r) => return r,
                            Message::Exit(e) if Some(e.from) == ctx.parent() => {
                                tokio::time::sleep(linger).await;
                                return e.reason;
                            }
                            _ => {}
                        }
                    }
                })?;
            let _ = tx.send((extra, own, addr.pid()));
            Ok(Started::Running(addr.pid()))
        })
    })
}

/// R-DS-1 and R-DS-5: no children at start; the extra arguments come first at every start,
/// restarts reuse the child's own arguments; one for one; ids are undefined; 3/5 defaults.
#[tokio::test(start_paused = true)]
async fn r_ds_1_and_5_extra_arguments_and_one_for_one() {
    let node = node();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let sup = DynamicSupervisor::with_extra_arguments("pool-7".to_string())
        .start(&node)
        .await
        .unwrap();
    assert!(sup.which_children().await.unwrap().is_empty());
    sup.start_child(child(1, Duration::ZERO, tx.clone()))
        .await
        .unwrap();
    sup.start_child(child(2, Duration::ZERO, tx.clone()))
        .await
        .unwrap();
    let (e1, a1, p1) = rx.recv().await.unwrap();
    let (_, _, p2) = rx.recv().await.unwrap();
    assert_eq!((e1.as_str(), a1), ("pool-7", 1));

    node.send(p1, Exit::error("boom")).unwrap();
    let (e, a, p1b) = rx.recv().await.unwrap();
    assert_eq!(
        (e.as_str(), a),
        ("pool-7", 1),
        "restart reuses the arguments"
    );
    assert_ne!(p1b, p1);
    assert!(node.is_alive(p2), "one for one");

    let kids = sup.which_children().await.unwrap();
    assert_eq!(kids.len(), 2);
    assert!(kids.iter().all(|c| c.id.is_none()));
    let tree = sup.tree().await.unwrap();
    assert_eq!(tree.flavor, Flavor::Dynamic);
    assert_eq!(
        (tree.intensity, tree.period),
        (DEFAULT_INTENSITY, DEFAULT_PERIOD)
    );
    assert_eq!(
        (DEFAULT_INTENSITY, DEFAULT_PERIOD),
        (3, Duration::from_secs(5))
    );
}

/// R-DS-2: at max_children, start_child fails with MaxChildren and spawns nothing.
#[tokio::test(start_paused = true)]
async fn r_ds_2_max_children() {
    let node = node();
    let (tx, _rx) = mpsc::unbounded_channel();
    let sup = DynamicSupervisor::with_extra_arguments(String::new())
        .max_children(2)
        .start(&node)
        .await
        .unwrap();
    let a = sup
        .start_child(child(1, Duration::ZERO, tx.clone()))
        .await
        .unwrap();
    sup.start_child(child(2, Duration::ZERO, tx.clone()))
        .await
        .unwrap();
    let before = node.spawned_count();
    assert_eq!(
        sup.start_child(child(3, Duration::ZERO, tx.clone())).await,
        Err(StartChildError::MaxChildren)
    );
    assert_eq!(node.spawned_count(), before, "nothing spawned");
    sup.terminate_child(a.pid().unwrap()).await.unwrap();
    sup.start_child(child(3, Duration::ZERO, tx)).await.unwrap();
}

/// R-DS-3: terminate_child stops a supervised child; an unknown pid is NotFound.
#[tokio::test(start_paused = true)]
async fn r_ds_3_terminate_child() {
    let node = node();
    let (tx, _rx) = mpsc::unbounded_channel();
    let sup = DynamicSupervisor::with_extra_arguments(String::new())
        .start(&node)
        .await
        .unwrap();
    let pid = sup
        .start_child(child(1, Duration::ZERO, tx))
        .await
        .unwrap()
        .pid()
        .unwrap();
    let down = node.monitor(pid);
    sup.terminate_child(pid).await.unwrap();
    assert_eq!(down.await, Exit::Shutdown);
    assert_eq!(
        sup.terminate_child(pid).await,
        Err(TerminateChildError::NotFound)
    );
    assert_eq!(
        sup.terminate_child(sup.pid()).await,
        Err(TerminateChildError::NotFound)
    );
    assert_eq!(sup.count_children().await.unwrap().specs, 0);
}

/// R-DS-4: past the intensity the supervisor stops with `shutdown`, every child with it.
#[tokio::test(start_paused = true)]
async fn r_ds_4_intensity_stops_it_with_shutdown() {
    let node = node();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let sup = DynamicSupervisor::with_extra_arguments(String::new())
        .start(&node)
        .await
        .unwrap();
    sup.start_child(child(0, Duration::ZERO, tx.clone()))
        .await
        .unwrap();
    let bystander = sup
        .start_child(child(1, Duration::ZERO, tx))
        .await
        .unwrap()
        .pid()
        .unwrap();
    let (_, _, mut pid) = rx.recv().await.unwrap();
    rx.recv().await.unwrap();
    for _ in 0..3 {
        node.send(pid, Exit::error("boom")).unwrap();
        pid = rx.recv().await.unwrap().2;
    }
    let down = node.monitor(bystander);
    node.send(pid, Exit::error("boom")).unwrap();
    assert_eq!(exit_of(&node, sup.pid()).await, Exit::Shutdown);
    assert_eq!(down.await, Exit::Shutdown);
}

/// R-DS-4, R-SUP-SHUT: all children are told at once, each is killed at its own timeout, so
/// the stop lasts as long as the slowest child, not the sum.
#[tokio::test(start_paused = true)]
async fn r_ds_4_children_shut_down_concurrently() {
    let node = node();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let sup = DynamicSupervisor::with_extra_arguments(String::new())
        .start(&node)
        .await
        .unwrap();
    for (i, ms) in [300u64, 100, 200].into_iter().enumerate() {
        sup.start_child(child(i as u32, Duration::from_millis(ms), tx.clone()))
            .await
            .unwrap();
    }
    // One that would linger past its timeout: killed at 250 ms.
    let slow = sup
        .start_child(
            child(9, Duration::from_secs(60), tx.clone())
                .shutdown(Shutdown::Timeout(Duration::from_millis(250))),
        )
        .await
        .unwrap()
        .pid()
        .unwrap();
    for _ in 0..4 {
        rx.recv().await.unwrap();
    }
    let down = node.monitor(slow);
    let t0 = Instant::now();
    sup.stop(Exit::Shutdown).await.unwrap();
    assert_eq!(t0.elapsed(), Duration::from_millis(300));
    assert_eq!(down.await, Exit::Killed);
}
