//! A restart storm (R-SUP-STRAT, one_for_one): 1,000 children of one static supervisor
//! crash at once; every one is restarted, each exactly once, and the supervisor's mailbox is
//! empty afterwards.

mod common;

use std::time::Duration;

use beamish_process::{Ctx, Exit};
use beamish_supervisor::{ChildSpec, Strategy, Supervisor};
use common::node;
use futures::future::join_all;

const CHILDREN: usize = 1_000;

#[tokio::test(start_paused = true)]
async fn a_thousand_children_crashing_at_once_are_all_restarted() {
    let node = node();
    let sup = Supervisor::new(Strategy::OneForOne)
        .intensity(CHILDREN as u32, Duration::from_secs(5))
        .children((0..CHILDREN).map(|i| {
            ChildSpec::process(format!("w{i}"), |mut ctx: Ctx<()>| async move {
                ctx.recv().await;
            })
        }))
        .start(&node)
        .await
        .unwrap();
    let before: Vec<_> = sup
        .which_children()
        .await
        .unwrap()
        .iter()
        .map(|c| c.status.pid().unwrap())
        .collect();
    let downs: Vec<_> = before.iter().map(|p| node.monitor(*p)).collect();
    for p in &before {
        node.exit(*p, Exit::error("storm"));
    }
    join_all(downs).await;
    let after = sup.which_children().await.unwrap();
    assert!(
        after
            .iter()
            .all(|c| c.restarts == 1 && c.status.pid().is_some())
    );
    assert!(
        after
            .iter()
            .all(|c| !before.contains(&c.status.pid().unwrap()))
    );
    assert_eq!(node.process_info(sup.pid()).unwrap().mailbox_len, 0);
    assert!(sup.is_alive());
}
