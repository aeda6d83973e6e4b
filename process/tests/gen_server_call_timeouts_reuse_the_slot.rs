//! A `ServerRef` keeps its reply slot from one call to the next, and the node's deadline
//! sweeper looks at the slot for as long as it lives (R-GS-1): a timeout still fires on time
//! through a handle whose earlier calls were answered, whether the sweeper has looked (and
//! changed its promise) since or not, and a handle dropped mid-wait leaves nothing behind.

mod common;

use std::time::Duration;

use beamish_process::{
    CallError, CallTimeout, Caller, Exit, GenServer, Node, Reply, ServerCtx, ServerRef,
};
use common::{SLACK, Stuck, within};
use futures::FutureExt;
use tokio::time::Instant;

async fn stuck_call_on_time(server: &ServerRef<Stuck>, timeout: Duration) {
    let start = Instant::now();
    let r = within("the call", server.call_timeout(None, timeout)).await;
    let waited = start.elapsed();
    assert_eq!(
        r,
        Err(CallError::Timeout(
            CallTimeout::new(server.pid(), timeout).into()
        ))
    );
    assert!(
        waited >= timeout && waited < timeout + SLACK,
        "timeout {timeout:?}, waited {waited:?}"
    );
}

/// R-GS-1: answered calls, then a stuck one through the same handle with an earlier deadline
/// than the sweeper's promise: it fires at its own deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_gs_1_reused_slot_times_out_before_the_promise() {
    let node = Node::start_default().unwrap();
    let server = node.start(Stuck::default()).await.unwrap();
    for n in 0..1_000 {
        assert_eq!(server.call(Some(n)).await, Ok(n));
    }
    stuck_call_on_time(&server, Duration::from_millis(40)).await;
    assert_eq!(server.call(Some(7)).await, Ok(7));
}

/// R-GS-1: answered calls with a short timeout, a pause long enough for the sweeper to look
/// and withdraw its promise, then a stuck call through the same handle: it fires on time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_gs_1_reused_slot_times_out_after_a_sweep() {
    let node = Node::start_default().unwrap();
    let server = node.start(Stuck::default()).await.unwrap();
    for round in 0..3 {
        for n in 0..100 {
            let r = server
                .call_timeout(Some(n), Duration::from_millis(20))
                .await;
            assert_eq!(r, Ok(n), "round {round}");
        }
        // Time itself is what this test needs to pass: past every deadline above, so that
        // the sweeper looks and withdraws its promise (no event marks that moment).
        tokio::time::sleep(Duration::from_millis(60)).await;
        stuck_call_on_time(&server, Duration::from_millis(30)).await;
    }
}

/// R-GS-1: many handles (each with its own slot), some dropped while they wait; the others'
/// timeouts still fire on time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_gs_1_dropped_handles_leave_the_others_on_time() {
    let node = Node::start_default().unwrap();
    let server = node.start(Stuck::default()).await.unwrap();
    for _ in 0..50 {
        let handle = server.clone();
        // One poll sends the request and arms the 10 ms deadline; dropping the future then
        // abandons the wait mid-way, with no race against a second timer.
        let abandoned = handle
            .call_timeout(None, Duration::from_millis(10))
            .now_or_never();
        assert_eq!(abandoned, None, "a stuck server cannot answer at once");
        drop(handle);
    }
    let mut waits = Vec::new();
    for i in 0..20u64 {
        let handle = server.clone();
        waits.push(tokio::spawn(async move {
            stuck_call_on_time(&handle, Duration::from_millis(20 + 3 * i)).await;
        }));
    }
    for w in waits {
        w.await.unwrap();
    }
}

/// Holds `None` calls until told (by a cast) to answer them all with a given value.
#[derive(Default)]
struct Late {
    held: Vec<beamish_process::ReplyTo<u32>>,
}

impl GenServer for Late {
    type Call = Option<u32>;
    type Reply = u32;
    type Cast = u32;
    type Info = ();

    async fn handle_call(
        &mut self,
        request: Option<u32>,
        caller: Caller<'_, u32>,
        _ctx: &mut ServerCtx<Self>,
    ) -> Result<Reply<u32>, Exit> {
        match request {
            Some(n) => Ok(Reply::Now(n)),
            None => {
                self.held.push(caller.defer());
                Ok(Reply::Later)
            }
        }
    }

    async fn handle_cast(&mut self, answer: u32, _ctx: &mut ServerCtx<Self>) -> Result<(), Exit> {
        for r in self.held.drain(..) {
            assert!(!r.is_waiting(), "its caller gave up");
            r.reply(answer);
        }
        Ok(())
    }
}

/// R-GS-2: a reply that comes after its caller gave up is dropped, through the same handle
/// calls go on being answered with their own replies (never the late one), before and after
/// the late reply frees the handle's slot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_gs_2_a_late_reply_never_answers_the_next_call() {
    let node = Node::start_default().unwrap();
    let server = node.start(Late::default()).await.unwrap();
    for round in 0..20u32 {
        let r = server.call_timeout(None, Duration::from_millis(5)).await;
        assert_eq!(
            r,
            Err(CallError::Timeout(
                CallTimeout::new(server.pid(), Duration::from_millis(5)).into()
            )),
            "round {round}"
        );
        // The slot is still out with the server's held handle.
        assert_eq!(server.call(Some(round)).await, Ok(round));
        server.cast(1_000 + round).unwrap();
        for n in 0..10 {
            assert_eq!(server.call(Some(n)).await, Ok(n), "round {round}");
        }
    }
}
