//! R-MBX-2 with a real supervisor: a child whose mailbox passes its kill limit
//! (`Capacity::KillAbove`) dies with `killed`, and its supervisor restarts it with an empty
//! mailbox (R-MBX-3, R-SUP-RT). Here, in the facade, because `beamish-process` cannot use
//! `beamish-supervisor`, which is built on it.

use std::num::NonZeroUsize;
use std::time::Duration;

use beamish::prelude::*;
use beamish::process::Capacity;
use tokio::sync::mpsc;

/// R-MBX-2: the child is killed by the send that passes its limit and comes back as a new
/// process, whose mailbox starts empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_mbx_2_a_child_past_its_kill_limit_is_killed_and_restarted() {
    let node = Node::start_default().unwrap();
    let (started_tx, mut started) = mpsc::unbounded_channel::<Addr<u32>>();
    let spec = ChildSpec::new("hoarder", move |linker| {
        let started_tx = started_tx.clone();
        Box::pin(async move {
            let opts = SpawnOpts {
                capacity: Capacity::KillAbove(NonZeroUsize::new(4).unwrap()),
                ..SpawnOpts::default()
            };
            // A process that never reads its mailbox.
            let addr = linker.build().opts(opts).spawn(|_: Ctx<u32>| async move {
                std::future::pending::<()>().await;
            })?;
            let _ = started_tx.send(addr.clone());
            Ok(Started::Running(addr.pid()))
        })
    });
    let _sup = Supervisor::new(Strategy::OneForOne)
        .child(spec)
        .start(&node)
        .await
        .unwrap();
    let guard = Duration::from_secs(30);
    let first = tokio::time::timeout(guard, started.recv())
        .await
        .unwrap()
        .unwrap();
    let down = node.monitor(first.pid());
    for i in 0..5 {
        assert_eq!(
            first.send(i),
            Ok(()),
            "a kill limit never refuses a message"
        );
    }
    assert_eq!(
        tokio::time::timeout(guard, down).await.unwrap(),
        Exit::Killed
    );
    let second = tokio::time::timeout(guard, started.recv())
        .await
        .unwrap()
        .unwrap();
    assert_ne!(second.pid(), first.pid());
    assert!(second.is_alive());
    assert_eq!(second.mailbox_len(), 0);
}
