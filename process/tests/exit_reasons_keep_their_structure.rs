//! Exit reasons keep their structure (issue 13): a user's error returned with `?` reaches a
//! monitor's `DOWN`, a trapped `EXIT` and a failed call as the value itself, downcastable,
//! with its `source()` chain; a user's own term is matched by downcast (Erlang's
//! `{error, 42}`); a call timeout that ends the caller says what was called (R-GS-2); and
//! every reason crosses nodes through its wire form, keeping its display, type name, chain
//! and classification (R-EXIT-3).

mod common;

use std::error::Error;
use std::fmt;
use std::time::Duration;

use beamish_process::{
    CallError, CallTimeout, Caller, Ctx, Exit, GenServer, Message, Reply, ServerCtx, StartError,
    Term,
};
use common::{exit_of, node, within};
use serde::{Deserialize, Serialize};

/// A user's error with a source.
#[derive(Debug)]
struct ConfigError {
    path: &'static str,
    cause: std::io::Error,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot read {}", self.path)
    }
}

impl Error for ConfigError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.cause)
    }
}

fn config_error() -> ConfigError {
    ConfigError {
        path: "/etc/app.toml",
        cause: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
    }
}

fn load_config() -> Result<(), ConfigError> {
    Err(config_error())
}

/// A user's own reason, like Erlang's `{error, {overloaded, 42}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum MyReason {
    Overloaded { queue: usize },
}

fn chain(reason: &Exit) -> Vec<String> {
    reason
        .as_term()
        .expect("a user's reason")
        .sources()
        .map(|e| e.to_string())
        .collect()
}

fn assert_is_the_config_error(reason: &Exit) {
    let e = reason
        .downcast_ref::<ConfigError>()
        .unwrap_or_else(|| panic!("not a ConfigError: {reason}"));
    assert_eq!(e.path, "/etc/app.toml");
    assert_eq!(e.cause.kind(), std::io::ErrorKind::NotFound);
    assert_eq!(reason.to_string(), "error: cannot read /etc/app.toml");
    assert_eq!(chain(reason), ["no such file"]);
    assert!(reason.is_abnormal(), "R-EXIT-3: an error is abnormal");
}

/// R-MON-1: the `DOWN` of a body that failed with `?` carries the error itself.
#[tokio::test(start_paused = true)]
async fn r_mon_1_a_down_carries_the_users_error_and_its_chain() {
    let node = node();
    let p = node
        .spawn(|_: Ctx<()>| async move {
            load_config()?;
            Ok::<(), Exit>(())
        })
        .unwrap();
    assert_is_the_config_error(&exit_of(&node, p.pid()).await);
}

/// R-EXIT-1, R-LNK-2: a trapping process gets the linked process's error as the `EXIT`'s
/// reason, the same value (an `Arc`), downcastable.
#[tokio::test(start_paused = true)]
async fn r_exit_1_a_trapped_exit_carries_the_users_error() {
    let node = node();
    let (tx, rx) = tokio::sync::oneshot::channel();
    node.spawn(move |mut ctx: Ctx<()>| async move {
        ctx.trap_exit(true);
        ctx.build()
            .link()
            .spawn(|_: Ctx<()>| async move { load_config() })
            .unwrap();
        let _ = tx.send(ctx.recv().await);
    })
    .unwrap();
    match within("the EXIT", rx).await.unwrap() {
        Message::Exit(e) => assert_is_the_config_error(&e.reason),
        other => panic!("{other:?}"),
    }
}

/// A user's term is a reason matched by downcast, like Erlang's `{error, 42}`.
#[tokio::test(start_paused = true)]
async fn a_users_term_is_matched_by_downcast() {
    let node = node();
    let p = node
        .spawn(|_: Ctx<()>| async move { Exit::term(MyReason::Overloaded { queue: 42 }) })
        .unwrap();
    let reason = exit_of(&node, p.pid()).await;
    assert!(matches!(
        reason.downcast_ref::<MyReason>(),
        Some(MyReason::Overloaded { queue: 42 })
    ));
    assert_eq!(reason.to_string(), "error: Overloaded { queue: 42 }");
    assert!(reason.is_abnormal());
}

/// A server whose callbacks fail with a user's error through `?`.
struct Failing {
    in_init: bool,
}

impl GenServer for Failing {
    type Call = ();
    type Reply = ();
    type Cast = ();
    type Info = ();

    async fn init(&mut self, _: &mut ServerCtx<Self>) -> Result<(), Exit> {
        if self.in_init {
            load_config()?;
        }
        Ok(())
    }

    async fn handle_call(
        &mut self,
        _: (),
        _: Caller<'_, ()>,
        _: &mut ServerCtx<Self>,
    ) -> Result<Reply<()>, Exit> {
        load_config()?;
        Ok(Reply::Now(()))
    }
}

/// R-GS-3: a caller whose server failed in a callback with `?` gets the server's error
/// itself; so does the server's monitor.
#[tokio::test(start_paused = true)]
async fn r_gs_3_a_failed_call_carries_the_servers_error() {
    let node = node();
    let server = node.start(Failing { in_init: false }).await.unwrap();
    let down = node.monitor(server.pid());
    match server.call(()).await {
        Err(CallError::Exit(reason)) => assert_is_the_config_error(&reason),
        other => panic!("{other:?}"),
    }
    assert_is_the_config_error(&within("the DOWN", down).await);
}

/// A failed `init` is a typed start failure: `StartError::Init` with the init's error, and a
/// starter that lets it end it (`?`) exits with that error, as an OTP starter gets the init's
/// reason.
#[tokio::test(start_paused = true)]
async fn a_failed_init_keeps_its_typed_error() {
    let node = node();
    match node.start(Failing { in_init: true }).await {
        Err(StartError::Init(reason)) => assert_is_the_config_error(&reason),
        other => panic!("{other:?}"),
    }
    let starter = node
        .spawn(|ctx: Ctx<()>| async move {
            ctx.trap_exit(true);
            ctx.start_link(Failing { in_init: true }).await?;
            Ok::<(), Exit>(())
        })
        .unwrap();
    assert_is_the_config_error(&exit_of(&node, starter.pid()).await);
}

/// A server that never answers.
struct Silent;

impl GenServer for Silent {
    type Call = ();
    type Reply = ();
    type Cast = ();
    type Info = ();

    async fn handle_call(
        &mut self,
        _: (),
        caller: Caller<'_, ()>,
        _: &mut ServerCtx<Self>,
    ) -> Result<Reply<()>, Exit> {
        std::mem::forget(caller.defer());
        Ok(Reply::Later)
    }
}

/// R-GS-2: a caller that lets a call timeout end it exits with
/// `{timeout, {gen_server, call, [Server, _, Timeout]}}`: a variant naming the server (by
/// name when called by one) and the timeout.
#[tokio::test(start_paused = true)]
async fn r_gs_2_a_call_timeout_that_ends_the_caller_says_what_was_called() {
    let node = node();
    let server = node.start(Silent).await.unwrap();
    let s = server.clone();
    let caller = node
        .spawn(move |_: Ctx<()>| async move {
            s.call_timeout((), Duration::from_millis(250)).await?;
            Ok::<(), Exit>(())
        })
        .unwrap();
    let reason = exit_of(&node, caller.pid()).await;
    match &reason {
        Exit::CallTimeout(t) => {
            assert_eq!(t.server, server.pid());
            assert_eq!(t.name, None);
            assert_eq!(t.timeout, Duration::from_millis(250));
        }
        other => panic!("{other}"),
    }
    assert_eq!(
        reason.to_string(),
        format!(
            "{{timeout, {{gen_server, call, [{}, _, 250]}}}}",
            server.pid()
        )
    );
    assert!(reason.is_abnormal());

    node.register("silent", server.pid()).unwrap();
    let caller = node
        .spawn(|ctx: Ctx<()>| async move {
            ctx.node().call::<Silent>("silent", ()).await?;
            Ok::<(), Exit>(())
        })
        .unwrap();
    let reason = exit_of(&node, caller.pid()).await;
    let expected =
        CallTimeout::new(server.pid(), beamish_process::DEFAULT_CALL_TIMEOUT).by_name("silent");
    assert_eq!(reason, Exit::CallTimeout(expected.into()));
    assert_eq!(
        reason.to_string(),
        "{timeout, {gen_server, call, [silent, _, 5000]}}"
    );
}

/// R-EXIT-3 across nodes: a reason decoded from its wire form shows the same, has the same
/// type name and chain, compares equal, and is classified the same; a serde term decodes as
/// its type on the other side, where the original value cannot be downcast.
#[test]
fn r_exit_3_a_reason_crosses_nodes_by_its_wire_form() {
    let local = Exit::Error(Term::error(config_error()));
    let remote = Exit::from_bytes(&local.to_bytes()).unwrap();
    assert_eq!(remote, local);
    assert_eq!(remote.to_string(), local.to_string());
    assert_eq!(chain(&remote), ["no such file"]);
    let term = remote.as_term().unwrap();
    assert!(term.is_remote());
    assert_eq!(term.type_name(), std::any::type_name::<ConfigError>());
    assert!(remote.downcast_ref::<ConfigError>().is_none());
    assert!(remote.is_abnormal());

    let detail = Exit::ShutdownWith(Term::serde(MyReason::Overloaded { queue: 42 }));
    let remote = Exit::from_bytes(&detail.to_bytes()).unwrap();
    assert!(remote.is_normal_or_shutdown(), "R-EXIT-3: {{shutdown, _}}");
    assert_eq!(remote.to_string(), "{shutdown, Overloaded { queue: 42 }}");
    assert_eq!(
        remote.as_term().unwrap().decode::<MyReason>(),
        Some(MyReason::Overloaded { queue: 42 })
    );
    assert_eq!(
        detail.as_term().unwrap().decode::<MyReason>(),
        Some(MyReason::Overloaded { queue: 42 }),
        "decode works on the term's own node too"
    );
}
