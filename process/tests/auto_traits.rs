//! The public handles can be shared across threads and tasks, and pids and refs are plain
//! values: `Copy`, hashable, ordered, serialisable (they travel in messages and across nodes).

use std::fmt::Debug;
use std::hash::Hash;

use beamish_process::{
    Addr, CallError, Caller, Exit, GenServer, Message, Node, NodeId, Pid, ProcessInfo, Ref,
    RegisterError, Reply, ReplyTo, SendError, ServerCtx, ServerRef, SpawnError, StartError, Term,
    WireError,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

fn send_sync<T: Send + Sync>() {}
fn send<T: Send>() {}
fn value<
    T: Copy + Eq + Hash + Ord + Debug + Serialize + DeserializeOwned + Send + Sync + 'static,
>() {
}
fn error<T: std::error::Error + Send + Sync + 'static>() {}
fn boxed_error<T: Into<Box<dyn std::error::Error + Send + Sync + 'static>>>() {}

struct Srv;

impl GenServer for Srv {
    type Call = ();
    type Reply = ();
    type Cast = ();
    type Info = ();

    async fn handle_call(
        &mut self,
        _: (),
        _: Caller<'_, ()>,
        _: &mut ServerCtx<Self>,
    ) -> Result<Reply<()>, Exit> {
        Ok(Reply::Now(()))
    }
}

#[test]
fn handles_are_send_and_sync() {
    send_sync::<Node>();
    send_sync::<Addr<u32>>();
    // A handle to a process whose messages are `Send` but not `Sync` is still shareable.
    send_sync::<Addr<std::cell::Cell<u8>>>();
    send_sync::<ServerRef<Srv>>();
    send_sync::<Pid>();
    send_sync::<Ref>();
    send_sync::<Exit>();
    send_sync::<Term>();
    send_sync::<ProcessInfo>();
    send::<ReplyTo<u32>>();
    send::<Message<u32>>();
}

#[test]
fn pids_and_refs_are_plain_values() {
    value::<Pid>();
    value::<Ref>();
    value::<NodeId>();
}

#[test]
fn errors_are_errors() {
    // `Exit` is no `Error` itself, so that `?` can turn any error into one (see its docs);
    // it converts into a boxed error for a `main` that wants one.
    boxed_error::<Exit>();
    error::<WireError>();
    error::<CallError>();
    error::<SpawnError>();
    error::<StartError>();
    error::<RegisterError>();
    error::<SendError<u32>>();
}

#[test]
fn pids_round_trip_through_serde() {
    let pid = Pid::from_parts(NodeId::from_name("a@host"), 42, 3);
    let json = serde_json::to_string(&pid).unwrap();
    assert_eq!(serde_json::from_str::<Pid>(&json).unwrap(), pid);
    let reason = Exit::Panic("boom".into());
    let json = serde_json::to_string(&reason).unwrap();
    assert_eq!(serde_json::from_str::<Exit>(&json).unwrap(), reason);
}

/// The futures users hand to `tokio::spawn` are `Send + 'static`.
#[tokio::test]
async fn futures_can_be_spawned() {
    fn spawnable<F: std::future::Future + Send + 'static>(_: &F) {}
    let node = Node::start_default().unwrap();
    let server = node.start(Srv).await.unwrap();
    let call = {
        let s = server.clone();
        async move { s.call(()).await }
    };
    spawnable(&call);
    let down = node.monitor(server.pid());
    spawnable(&down);
    assert_eq!(tokio::spawn(call).await.unwrap(), Ok(()));
    node.exit(server.pid(), Exit::Kill);
    assert_eq!(tokio::spawn(down).await.unwrap(), Exit::Killed);
}
