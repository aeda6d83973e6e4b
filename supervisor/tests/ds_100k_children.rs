//! A dynamic supervisor handles 100,000 children: started, counted, listed, then all shut
//! down at once (R-DS-4) in seconds.

mod common;

use std::time::Instant;

use beamish_process::{Ctx, Exit};
use beamish_supervisor::{ChildSpec, DynamicSupervisor};
use common::node;
use futures::future::join_all;

const CHILDREN: usize = 100_000;

#[tokio::test]
async fn r_ds_4_a_hundred_thousand_children() {
    let node = node();
    let t0 = Instant::now();
    let sup = DynamicSupervisor::new().start(&node).await.unwrap();
    let idle = ChildSpec::process("idle", |mut ctx: Ctx<()>| async move {
        ctx.recv().await;
    });
    // Many calls in flight at once: the supervisor takes them one by one from its mailbox.
    for _ in 0..CHILDREN / 1000 {
        let batch = (0..1000).map(|_| sup.start_child(idle.clone()));
        for r in join_all(batch).await {
            r.unwrap();
        }
    }
    let counts = sup.count_children().await.unwrap();
    assert_eq!((counts.specs, counts.active), (CHILDREN, CHILDREN));
    assert_eq!(sup.which_children().await.unwrap().len(), CHILDREN);
    assert_eq!(node.process_count(), CHILDREN + 1);
    let started = t0.elapsed();

    sup.stop(Exit::Shutdown).await.unwrap();
    assert_eq!(node.process_count(), 0);
    let total = t0.elapsed();
    // A guard against quadratic behaviour, generous for a loaded debug build.
    assert!(total.as_secs() < 60, "start {started:?}, total {total:?}");
    eprintln!("100k children: started in {started:?}, all stopped after {total:?}");
}
