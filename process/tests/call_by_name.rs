//! Call, cast and send accept a registered name wherever they accept a pid (R-ORD-4 for a
//! free name, R-GS-5 for casts).

use beamish_process::{CallError, Caller, Exit, GenServer, Node, Reply, SendError, ServerCtx};

struct Counter(u64);

impl GenServer for Counter {
    type Call = ();
    type Reply = u64;
    type Cast = u64;
    type Info = ();
    async fn handle_call(
        &mut self,
        _: (),
        _: Caller<'_, u64>,
        _: &mut ServerCtx<Self>,
    ) -> Result<Reply<u64>, Exit> {
        Ok(Reply::Now(self.0))
    }
    async fn handle_cast(&mut self, n: u64, _: &mut ServerCtx<Self>) -> Result<(), Exit> {
        self.0 += n;
        Ok(())
    }
}

#[tokio::test]
async fn calls_and_casts_by_name_or_pid() {
    let node = Node::start_default().unwrap();
    let server = node.start(Counter(0)).await.unwrap();
    node.register("counter", server.pid()).unwrap();

    node.cast::<Counter>("counter", 2).unwrap();
    node.cast::<Counter>(server.pid(), 3).unwrap();
    assert_eq!(node.call::<Counter>("counter", ()).await, Ok(5));
    assert_eq!(node.call::<Counter>(server.pid(), ()).await, Ok(5));
    assert_eq!(node.resolve("counter"), Some(server.pid()));
}

#[tokio::test]
async fn r_ord_4_a_free_name_is_an_error_not_a_silent_drop() {
    let node = Node::start_default().unwrap();
    assert_eq!(
        node.call::<Counter>("nobody", ()).await,
        Err(CallError::NotRegistered)
    );
    assert!(matches!(
        node.send_to("nobody", 1u64),
        Err(SendError::NotRegistered(1))
    ));
    // R-GS-5: a cast to nobody is fine.
    node.cast::<Counter>("nobody", 1).unwrap();
}

#[tokio::test]
async fn a_pid_that_is_not_a_server_of_that_type_is_noproc() {
    let node = Node::start_default().unwrap();
    let plain = node
        .spawn(|mut ctx: beamish_process::Ctx<u64>| async move {
            ctx.recv().await;
        })
        .unwrap();
    assert_eq!(
        node.call::<Counter>(plain.pid(), ()).await,
        Err(CallError::NoProc)
    );
    assert_eq!(node.send_to(plain.pid(), 7u64), Ok(()));
}
