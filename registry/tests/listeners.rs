//! R-REG-7: listeners hear of every registration and every explicit unregistration, but not
//! of entries removed because their owner ended.

mod common;

use beamish_process::Exit;
use beamish_registry::{Event, Keys, Registry};
use common::{Agent, Probe, node};

/// R-REG-7: register and unregister events, in order; none for an owner's exit.
#[tokio::test]
async fn r_reg_7_listeners_hear_register_and_unregister_only() {
    let node = node();
    let mut listener = Probe::<Event<&'static str, u32>>::spawn(&node);
    let reg: Registry<&'static str, u32> = Registry::builder(Keys::Duplicate)
        .listener(listener.addr())
        .start(&node)
        .unwrap();
    let a = Agent::spawn(&node);
    let r = reg.clone();
    a.run(move |ctx| {
        r.register(ctx, "k", 1).unwrap();
        r.register(ctx, "k", 2).unwrap();
        r.unregister(ctx, &"k");
        r.register(ctx, "j", 3).unwrap();
    })
    .await;
    let pid = a.pid();
    assert_eq!(
        listener.next().await,
        Event::Register {
            key: "k",
            pid,
            value: 1
        }
    );
    assert_eq!(
        listener.next().await,
        Event::Register {
            key: "k",
            pid,
            value: 2
        }
    );
    assert_eq!(listener.next().await, Event::Unregister { key: "k", pid });
    assert_eq!(
        listener.next().await,
        Event::Register {
            key: "j",
            pid,
            value: 3
        }
    );

    // The owner ends: its entries go, silently.
    a.kill(&node, Exit::Shutdown).await;
    reg.sync().await;
    assert_eq!(reg.count(), 0);
    // The next event is the next registration's: nothing came in between.
    let b = Agent::spawn(&node);
    let r = reg.clone();
    b.run(move |ctx| r.register(ctx, "k", 4).unwrap()).await;
    assert_eq!(
        listener.next().await,
        Event::Register {
            key: "k",
            pid: b.pid(),
            value: 4
        }
    );
}

/// R-REG-7: a failed registration and an unregistration of nothing tell nobody.
#[tokio::test]
async fn r_reg_7_no_event_when_nothing_changed() {
    let node = node();
    let (tx, rx) = std::sync::mpsc::channel();
    let reg: Registry<&'static str, ()> = Registry::builder(Keys::Unique)
        .listener_fn(move |e| {
            let _ = tx.send(e.clone());
        })
        .start(&node)
        .unwrap();
    let (a, b) = (Agent::spawn(&node), Agent::spawn(&node));
    let r = reg.clone();
    a.run(move |ctx| r.register(ctx, "k", ()).unwrap()).await;
    let r = reg.clone();
    b.run(move |ctx| {
        assert!(r.register(ctx, "k", ()).is_err());
        r.unregister(ctx, &"k");
    })
    .await;
    let events: Vec<_> = rx.try_iter().collect();
    assert_eq!(
        events,
        vec![Event::Register {
            key: "k",
            pid: a.pid(),
            value: ()
        }]
    );
}
