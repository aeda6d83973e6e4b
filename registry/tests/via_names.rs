//! R-REG-4: a GenServer started under a via name on a unique registry; a taken name gives
//! `AlreadyStarted(pid)`; calls, casts and sends by name reach it; a free name is an error,
//! not a silent drop; a via name on a duplicate registry is a programming error.

mod common;

use std::time::Duration;

use beamish_process::{
    CallError, Caller, Ctx, Exit, GenServer, Message, Reply, SendError, ServerCtx, StartError,
};
use beamish_registry::{Keys, Registry, ViaError};
use common::{node, within};

/// Counts casts and infos; a call reads the count.
#[derive(Default)]
struct Counter(u64);

impl GenServer for Counter {
    type Call = ();
    type Reply = u64;
    type Cast = u64;
    type Info = u64;

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

    async fn handle_info(&mut self, m: Message<u64>, _: &mut ServerCtx<Self>) -> Result<(), Exit> {
        if let Message::Msg(n) = m {
            self.0 += n;
        }
        Ok(())
    }
}

fn key(s: &str) -> String {
    s.to_owned()
}

/// R-REG-4: start under a name, call, cast and send by that name; the name is taken.
#[tokio::test]
async fn r_reg_4_start_call_cast_send_by_via_name() {
    let node = node();
    let reg: Registry<String, &'static str> = Registry::start(&node, Keys::Unique).unwrap();
    let server = reg
        .start_via(key("counter"), "meta", Counter::default())
        .await
        .unwrap();
    assert_eq!(reg.lookup(&key("counter")), vec![(server.pid(), "meta")]);

    reg.cast::<Counter>(&key("counter"), 2).unwrap();
    assert_eq!(
        reg.send(
            &key("counter"),
            beamish_process::ServerMsg::<Counter>::Info(3)
        )
        .map_err(|e| e.to_string()),
        Ok(())
    );
    assert_eq!(reg.call::<Counter>(&key("counter"), ()).await, Ok(5));
    assert_eq!(
        reg.call_timeout::<Counter>(&key("counter"), (), Duration::from_secs(1))
            .await,
        Ok(5)
    );
    assert_eq!(
        reg.server::<Counter>(&key("counter")).map(|s| s.pid()),
        Ok(server.pid())
    );

    match reg
        .start_via(key("counter"), "other", Counter::default())
        .await
    {
        Err(StartError::AlreadyStarted(pid)) => assert_eq!(pid, server.pid()),
        other => panic!("expected AlreadyStarted, got {other:?}"),
    }
}

/// R-REG-4, R-ORD-4: a free name is an error for call, cast and send alike.
#[tokio::test]
async fn r_reg_4_free_via_name_is_an_error() {
    let node = node();
    let reg: Registry<String, ()> = Registry::start(&node, Keys::Unique).unwrap();
    assert_eq!(
        reg.call::<Counter>(&key("nobody"), ()).await,
        Err(CallError::NotRegistered)
    );
    assert_eq!(
        reg.server::<Counter>(&key("nobody")).map(|s| s.pid()),
        Err(ViaError::NotRegistered)
    );
    assert!(matches!(
        reg.cast::<Counter>(&key("nobody"), 1),
        Err(SendError::NotRegistered(1))
    ));
    assert!(matches!(
        reg.send(&key("nobody"), 7u32),
        Err(SendError::NotRegistered(7))
    ));
}

/// R-REG-4, R-REG-2: a stopped server frees its name, and a new one starts under it.
#[tokio::test]
async fn r_reg_4_name_is_free_again_after_the_server_stops() {
    let node = node();
    let reg: Registry<String, ()> = Registry::start(&node, Keys::Unique).unwrap();
    let first = reg
        .start_via(key("svc"), (), Counter::default())
        .await
        .unwrap();
    first
        .stop(Exit::Shutdown, Duration::from_secs(5))
        .await
        .unwrap();
    let second = reg
        .start_via(key("svc"), (), Counter::default())
        .await
        .unwrap();
    assert_ne!(first.pid(), second.pid());
    second.cast(4).unwrap();
    assert_eq!(reg.call::<Counter>(&key("svc"), ()).await, Ok(4));
}

/// R-REG-4: a process started linked by a via name is the caller's linked child.
#[tokio::test]
async fn r_reg_4_start_link_via_links_to_the_caller() {
    let node = node();
    let reg: Registry<String, ()> = Registry::start(&node, Keys::Unique).unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let r = reg.clone();
    let parent = node
        .spawn(move |mut ctx: Ctx<()>| async move {
            let server = r
                .start_link_via(&ctx, key("child"), (), Counter::default())
                .await;
            let _ = tx.send(server.map(|s| (s.pid(), ctx.links())));
            ctx.recv().await;
        })
        .unwrap();
    let (child, links) = within("the linked start", rx).await.unwrap().unwrap();
    assert_eq!(links, vec![child]);
    assert_eq!(reg.whereis(&key("child")), Some(child));
    // The parent's death takes the child (linked), and with it the name.
    let child_down = node.monitor(child);
    node.exit(parent.pid(), Exit::error("parent crash"));
    assert_eq!(
        within("the child's exit", child_down).await,
        Exit::error("parent crash")
    );
    reg.sync().await;
    assert_eq!(reg.whereis(&key("child")), None);
}

/// R-REG-4: a via name on a duplicate registry is a programming error: the process that
/// tries it crashes (Elixir raises `ArgumentError`).
#[tokio::test]
async fn r_reg_4_via_on_a_duplicate_registry_crashes_the_caller() {
    let node = node();
    let reg: Registry<String, ()> = Registry::start(&node, Keys::Duplicate).unwrap();
    let r = reg.clone();
    let (_, down) = node
        .build()
        .monitor()
        .spawn(move |_ctx: Ctx<()>| async move {
            let _ = r.send(&key("x"), ());
        })
        .unwrap();
    let reason = within("the caller's crash", down).await;
    assert!(
        matches!(&reason, Exit::Panic(m) if m.contains("unique registry")),
        "{reason:?}"
    );
}

/// A server that registers itself under a key in its own `init`, with plain `register`.
struct SelfNamed {
    registry: Registry<String, ()>,
    name: String,
    count: u64,
}

impl GenServer for SelfNamed {
    type Call = ();
    type Reply = u64;
    type Cast = u64;
    type Info = ();

    async fn init(&mut self, ctx: &mut ServerCtx<Self>) -> Result<(), Exit> {
        self.registry.register(ctx, self.name.clone(), ())?;
        Ok(())
    }

    async fn handle_call(
        &mut self,
        _: (),
        _: Caller<'_, u64>,
        _: &mut ServerCtx<Self>,
    ) -> Result<Reply<u64>, Exit> {
        Ok(Reply::Now(self.count))
    }

    async fn handle_cast(&mut self, n: u64, _: &mut ServerCtx<Self>) -> Result<(), Exit> {
        self.count += n;
        Ok(())
    }
}

/// R-REG-4: a via name is a plain lookup of the key, as `{:via, Registry, {reg, key}}`'s
/// `whereis_name` is: a server that registered itself with `register` in its own `init` is
/// called and cast to by the key like one started by `start_via`.
#[tokio::test]
async fn r_reg_4_via_call_and_cast_reach_a_server_that_registered_itself() {
    let node = node();
    let reg: Registry<String, ()> = Registry::start(&node, Keys::Unique).unwrap();
    let server = node
        .start(SelfNamed {
            registry: reg.clone(),
            name: key("self-named"),
            count: 0,
        })
        .await
        .unwrap();
    assert_eq!(reg.whereis(&key("self-named")), Some(server.pid()));

    reg.cast::<SelfNamed>(&key("self-named"), 2).unwrap();
    reg.cast::<SelfNamed>(&key("self-named"), 3).unwrap();
    assert_eq!(
        within(
            "the via call",
            reg.call::<SelfNamed>(&key("self-named"), ())
        )
        .await,
        Ok(5)
    );
    assert_eq!(
        reg.server::<SelfNamed>(&key("self-named")).map(|s| s.pid()),
        Ok(server.pid())
    );
}

/// R-REG-4: the key's owner found by a via name may be of another type than the caller
/// asks for (a plain process that registered itself, or another server): a typed error for
/// `server` and `cast`, `NoProc` for `call` (as `Node::call` to such a pid), never a panic.
#[tokio::test]
async fn r_reg_4_via_name_held_by_another_type_is_a_typed_error() {
    let node = node();
    let reg: Registry<String, ()> = Registry::start(&node, Keys::Unique).unwrap();
    let (registered_tx, registered) = tokio::sync::oneshot::channel();
    let r = reg.clone();
    let plain = node
        .spawn(move |mut ctx: Ctx<u64>| async move {
            let _ = registered_tx.send(r.register(&ctx, key("plain"), ()));
            ctx.recv().await;
        })
        .unwrap();
    within("the registration", registered)
        .await
        .unwrap()
        .unwrap();
    let server = reg
        .start_via(key("counter"), (), Counter::default())
        .await
        .unwrap();

    assert_eq!(
        reg.server::<Counter>(&key("plain")).map(|s| s.pid()),
        Err(ViaError::WrongType {
            pid: plain.pid(),
            expected: std::any::type_name::<Counter>(),
        })
    );
    assert!(matches!(
        reg.server::<SelfNamed>(&key("counter")),
        Err(ViaError::WrongType { pid, .. }) if pid == server.pid()
    ));
    assert!(matches!(
        reg.cast::<Counter>(&key("plain"), 1),
        Err(SendError::WrongType(1))
    ));
    assert_eq!(
        reg.call::<Counter>(&key("plain"), ()).await,
        Err(CallError::NoProc)
    );
    // The plain process still takes its own messages by the key.
    assert_eq!(
        reg.send(&key("plain"), 7u64).map_err(|e| e.to_string()),
        Ok(())
    );
}
