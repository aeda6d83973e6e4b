//! A dying process tells its links and monitors before it drops its queued messages
//! (R-LNK-2, R-MBX-3): with a long mailbox, dropping the messages first would make its
//! supervisor hear of the death late, after its callers and after its name was free.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use beamish_process::{Ctx, Exit, Message, Node, block_in_place};
use common::{Got, recv, within};
use tokio::sync::oneshot;

/// How many messages the dying process holds.
const QUEUED: usize = 1_000_000;

/// What the queued messages' destructors record.
struct Log {
    /// Set by the first destructor to run.
    first_drop_started: AtomicBool,
    /// The linked process's report that it received the EXIT.
    exit_seen: Mutex<mpsc::Receiver<()>>,
    /// Whether the EXIT had arrived when the first message was dropped.
    exit_before_first_drop: Mutex<Option<bool>>,
    dropped: AtomicUsize,
    /// Told when the last message has dropped.
    all_dropped: Mutex<Option<oneshot::Sender<()>>>,
}

/// A queued message that records its drop. The first one to drop waits (handing its worker's
/// other tasks to the others, see `block_in_place`) for the linked process's word that the
/// EXIT has arrived: if the links are told first, the word comes at once; if the messages
/// go first, it cannot come until the wait gives up.
struct Tracked(Arc<Log>);

impl Drop for Tracked {
    fn drop(&mut self) {
        let log = &self.0;
        if !log.first_drop_started.swap(true, Ordering::AcqRel) {
            let seen = block_in_place(|| {
                let rx = log.exit_seen.lock().unwrap();
                rx.recv_timeout(Duration::from_secs(5)).is_ok()
            });
            *log.exit_before_first_drop.lock().unwrap() = Some(seen);
        }
        if log.dropped.fetch_add(1, Ordering::AcqRel) + 1 == QUEUED {
            if let Some(tx) = log.all_dropped.lock().unwrap().take() {
                let _ = tx.send(());
            }
        }
    }
}

enum Msg {
    Go,
    Tracked(#[allow(dead_code)] Tracked),
}

/// R-LNK-2, R-MBX-3: a process holding a million messages (taken into its private buffer by
/// a receive) is killed; the linked process that traps exits has its EXIT before the first
/// of those messages is dropped, and every one of them is dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_lnk_2_links_hear_of_a_death_before_the_queued_messages_drop() {
    let node = Node::start_default().unwrap();
    let (seen_tx, seen_rx) = mpsc::channel();
    let (all_dropped_tx, all_dropped) = oneshot::channel();
    let log = Arc::new(Log {
        all_dropped: Mutex::new(Some(all_dropped_tx)),
        first_drop_started: AtomicBool::new(false),
        exit_seen: Mutex::new(seen_rx),
        exit_before_first_drop: Mutex::new(None),
        dropped: AtomicUsize::new(0),
    });

    let (start_tx, start_rx) = oneshot::channel::<()>();
    let (holding_tx, holding) = oneshot::channel::<()>();
    let (victim_tx, victim_rx) = oneshot::channel();
    let (heard_tx, heard) = oneshot::channel();
    let watcher = node
        .spawn(move |mut ctx: Ctx<()>| async move {
            ctx.trap_exit(true);
            let victim = ctx
                .build()
                .link()
                .spawn(move |mut ctx: Ctx<Msg>| async move {
                    let _ = start_rx.await;
                    // One receive moves the whole queue into the private buffer.
                    let first = ctx.recv().await;
                    assert!(matches!(first, Message::Msg(Msg::Go)));
                    let _ = holding_tx.send(());
                    std::future::pending::<()>().await;
                })?;
            let _ = victim_tx.send(victim);
            let got = recv(&mut ctx).await;
            let _ = seen_tx.send(());
            let _ = heard_tx.send(got);
            Ok::<(), Exit>(())
        })
        .unwrap();
    let watcher_down = node.monitor(watcher.pid());
    let victim = within("the victim's address", victim_rx).await.unwrap();
    victim.send(Msg::Go).unwrap();
    for _ in 0..QUEUED {
        if victim.send(Msg::Tracked(Tracked(log.clone()))).is_err() {
            panic!("the victim ended early");
        }
    }
    start_tx.send(()).unwrap();
    within("the victim to hold its messages", holding)
        .await
        .unwrap();
    assert_eq!(victim.mailbox_len(), QUEUED);

    let victim_down = node.monitor(victim.pid());
    node.exit(victim.pid(), Exit::error("die"));
    assert_eq!(
        within("the EXIT", heard).await.unwrap(),
        Got::Exit {
            from: victim.pid(),
            reason: Exit::error("die")
        }
    );
    assert_eq!(
        within("the victim's end", victim_down).await,
        Exit::error("die")
    );
    assert_eq!(
        within("the watcher's end", watcher_down).await,
        Exit::Normal
    );
    // Every queued message is dropped (R-MBX-3), whichever came first.
    within("the queued messages to drop", all_dropped)
        .await
        .unwrap();
    assert_eq!(
        *log.exit_before_first_drop.lock().unwrap(),
        Some(true),
        "the queued messages were dropped before the linked process heard of the death"
    );
}
