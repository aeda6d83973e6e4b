//! A panic ends only the process that panicked, with `Exit::Panic(message)`: callers, links and
//! monitors see that reason (R-GS-3, R-LNK-2, R-MON-1), and the node and every other process
//! carry on (the crate's invariant: nothing panics across a process boundary).

mod common;

use beamish_process::{CallError, Caller, Ctx, Exit, GenServer, Reply, ServerCtx, StartError};
use common::{Got, Probe, exit_of, node, recv, within};
use tokio::sync::oneshot;

struct Fragile {
    panic_in_init: bool,
    panic_in_terminate: bool,
}

enum Call {
    Ok(u32),
    Panic(u32),
    Fail,
}

impl GenServer for Fragile {
    type Call = Call;
    type Reply = u32;
    type Cast = ();
    type Info = ();

    async fn init(&mut self, _: &mut ServerCtx<Self>) -> Result<(), Exit> {
        if self.panic_in_init {
            panic!("init blew up");
        }
        Ok(())
    }

    async fn handle_call(
        &mut self,
        request: Call,
        _: Caller<'_, u32>,
        _: &mut ServerCtx<Self>,
    ) -> Result<Reply<u32>, Exit> {
        match request {
            Call::Ok(n) => Ok(Reply::Now(n)),
            Call::Panic(n) => panic!("kaboom {n}"),
            Call::Fail => Err(Exit::error("failed")),
        }
    }

    async fn terminate(&mut self, _: &Exit, _: &mut ServerCtx<Self>) {
        if self.panic_in_terminate {
            panic!("terminate blew up too");
        }
    }
}

fn fragile() -> Fragile {
    Fragile {
        panic_in_init: false,
        panic_in_terminate: false,
    }
}

/// R-GS-3: a panic while handling a call ends the server with `Exit::Panic` carrying the
/// panic's message; the caller gets that reason; the node and other servers carry on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_gs_3_panic_in_handle_call_reaches_the_caller() {
    let node = node();
    let victim = node.start(fragile()).await.unwrap();
    let bystander = node.start(fragile()).await.unwrap();
    let down = node.monitor(victim.pid());
    let got = within("the call", victim.call(Call::Panic(42))).await;
    match &got {
        Err(CallError::Exit(Exit::Panic(msg))) => assert!(msg.contains("kaboom 42"), "{msg}"),
        other => panic!("expected a panic exit, got {other:?}"),
    }
    assert_eq!(got, Err(CallError::Exit(Exit::Panic("kaboom 42".into()))));
    assert_eq!(
        within("the server's end", down).await,
        Exit::Panic("kaboom 42".into())
    );
    // The node and the other server carry on.
    assert_eq!(
        within("the other server", bystander.call(Call::Ok(7))).await,
        Ok(7)
    );
    let again = node.start(fragile()).await.unwrap();
    assert_eq!(within("a new server", again.call(Call::Ok(8))).await, Ok(8));
}

/// R-LNK-2, R-MON-1: a panicking process ends with `Exit::Panic(message)`; monitors and links
/// see that reason, and a non-trapping linked process dies of it.
#[tokio::test(start_paused = true)]
async fn r_lnk_2_panic_is_the_exit_reason_for_links_and_monitors() {
    let node = node();
    let (go_tx, go) = oneshot::channel::<u32>();
    let b = node
        .spawn(move |_: Ctx<()>| async move {
            let n = go.await.unwrap();
            if n > 0 {
                panic!("bad number {n}");
            }
        })
        .unwrap();
    let bpid = b.pid();
    let mut trapping = Probe::<()>::trapping(&node, move |ctx| ctx.link(bpid).unwrap()).await;
    let plain = Probe::<()>::spawn(&node, move |ctx| ctx.link(bpid).unwrap()).await;
    let plain_down = node.monitor(plain.pid());
    let down = node.monitor(bpid);
    go_tx.send(3).unwrap();
    let reason = Exit::Panic("bad number 3".into());
    assert_eq!(within("B's end", down).await, reason);
    assert_eq!(
        trapping.next().await,
        Some(Got::Exit {
            from: bpid,
            reason: reason.clone()
        })
    );
    assert_eq!(within("the plain one's end", plain_down).await, reason);
}

/// A panic in `init` makes the start fail with that reason (`{error, Reason}` from
/// `gen_server:start`), and leaves no process behind.
#[tokio::test(start_paused = true)]
async fn panic_in_init_fails_the_start() {
    let node = node();
    let mut f = fragile();
    f.panic_in_init = true;
    assert_eq!(
        node.start(f).await.err(),
        Some(StartError::Init(Exit::Panic("init blew up".into())))
    );
    assert_eq!(node.process_count(), 0);
}

/// A panic in `terminate` does not change the exit reason, nor escape.
#[tokio::test(start_paused = true)]
async fn panic_in_terminate_keeps_the_reason() {
    let node = node();
    let mut f = fragile();
    f.panic_in_terminate = true;
    let server = node.start(f).await.unwrap();
    let down = node.monitor(server.pid());
    assert_eq!(
        server.call(Call::Fail).await,
        Err(CallError::Exit(Exit::error("failed")))
    );
    assert_eq!(within("the end", down).await, Exit::error("failed"));
}

/// A panic in the spawn closure itself (before it returns its future) stays in the process.
#[tokio::test(start_paused = true)]
async fn panic_in_the_spawn_closure_is_contained() {
    let node = node();
    let p = node
        .spawn(|_: Ctx<()>| -> std::future::Ready<()> { panic!("in the closure") })
        .expect("the spawn itself succeeds");
    assert_eq!(
        exit_of(&node, p.pid()).await,
        Exit::Panic("in the closure".into())
    );
}

/// A panic with a payload that is not a string still ends the process cleanly.
#[tokio::test(start_paused = true)]
async fn panic_with_a_non_string_payload() {
    let node = node();
    let p = node
        .spawn(|_: Ctx<()>| async {
            if true {
                std::panic::panic_any(42u32);
            }
        })
        .unwrap();
    assert!(matches!(exit_of(&node, p.pid()).await, Exit::Panic(_)));
}

/// R-LNK-2: a process ended by an exit signal while it holds a value whose destructor panics:
/// the panic while its state is dropped stays inside, the process ends with the signal's
/// reason, and its links hear of it.
#[tokio::test(start_paused = true)]
async fn r_lnk_2_panic_in_a_destructor_is_contained() {
    struct Bomb;
    impl Drop for Bomb {
        fn drop(&mut self) {
            panic!("drop blew up");
        }
    }
    let node = node();
    let b = node
        .spawn(move |_: Ctx<()>| async move {
            let _bomb = Bomb;
            std::future::pending::<()>().await;
        })
        .unwrap();
    let bpid = b.pid();
    let mut a = Probe::<()>::trapping(&node, move |ctx| ctx.link(bpid).unwrap()).await;
    node.exit(bpid, Exit::error("stop"));
    assert_eq!(
        a.next().await,
        Some(Got::Exit {
            from: bpid,
            reason: Exit::error("stop")
        })
    );
    a.send(());
    assert_eq!(a.next().await, Some(Got::Msg(())));
}

/// R-LNK-2: many processes panicking at once on two worker threads: each one's linked parent
/// gets its reason, and the node still spawns and delivers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_lnk_2_many_panics_at_once() {
    let node = node();
    let mut downs = Vec::new();
    for i in 0..100u32 {
        let (tx, rx) = oneshot::channel();
        node.build()
            .trap_exit(true)
            .spawn(move |mut ctx: Ctx<()>| async move {
                let child = ctx
                    .build()
                    .link()
                    .spawn(move |_: Ctx<()>| async move {
                        if true {
                            panic!("child {i}");
                        }
                    })
                    .unwrap();
                let _ = tx.send((child.pid(), recv(&mut ctx).await));
            })
            .unwrap();
        downs.push((i, rx));
    }
    for (i, rx) in downs {
        let (child, got) = within("a child's exit", rx).await.unwrap();
        assert_eq!(
            got,
            Got::Exit {
                from: child,
                reason: Exit::Panic(format!("child {i}").into())
            }
        );
    }
    let mut p = Probe::<&str>::spawn(&node, |_| {}).await;
    p.send("alive");
    assert_eq!(p.next().await, Some(Got::Msg("alive")));
}
