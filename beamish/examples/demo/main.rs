//! A short tour of beamish, run by `cargo xtask demo` (`cargo run --release -p beamish
//! --example demo`).
//!
//! It spawns a million processes, passes a token around a ring, and shows failures contained
//! and travelling by OTP's rules: a panicking GenServer, monitors, links, trapped exits and an
//! untrappable `kill`. Every section checks its own result; the demo exits with status 1 and a
//! message if anything is not as expected.
//!
//! With `--serve [ADDR] [--for SECS]` it runs a live node instead, serving metrics and
//! introspection for `cargo xtask observe` (see `live.rs`).

mod live;

use std::collections::VecDeque;
use std::error::Error;
use std::future::Future;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use beamish::prelude::*;

type Result<T, E = Box<dyn Error + Send + Sync>> = std::result::Result<T, E>;

/// Idle processes spawned in section 1.
const IDLE: usize = 1_000_000;
/// Processes in the ring of section 2, and the hops the token makes around it.
const RING: usize = 10_000;
const HOPS: u64 = 1_000_000;
/// Calls made to the healthy server in section 3.
const CALLS: u64 = 100_000;
/// How long any one wait may take before the demo gives up: generous, since the machine may
/// be shared, but a hang becomes an error instead of a stuck demo. (Calls need no such guard:
/// they time out by themselves, after five seconds by default.)
const STEP_LIMIT: Duration = Duration::from_secs(20);

/// Panics raised inside processes. Each becomes that process's exit reason, which the demo
/// checks; the panic hook only counts them, so that the output stays readable.
static CONTAINED_PANICS: AtomicUsize = AtomicUsize::new(0);

/// What the command line asked for.
enum Mode {
    /// The tour (no arguments).
    Tour,
    /// A live node served on this address, for this long (or until stopped).
    Serve(std::net::SocketAddr, Option<Duration>),
}

const USAGE: &str = "usage: demo [--serve [ADDR] [--for SECS]]";

fn parse_args() -> Result<Mode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        return Ok(Mode::Tour);
    }
    if args[0] != "--serve" {
        return Err(format!("unknown argument `{}`\n{USAGE}", args[0]).into());
    }
    let mut addr = live::DEFAULT_ADDR.parse()?;
    let mut run_for = None;
    let mut rest = args[1..].iter();
    while let Some(arg) = rest.next() {
        if arg == "--for" {
            let secs: u64 = rest.next().ok_or(USAGE)?.parse()?;
            run_for = Some(Duration::from_secs(secs));
        } else {
            addr = arg
                .parse()
                .map_err(|e| format!("`{arg}` is not an address (HOST:PORT): {e}"))?;
        }
    }
    Ok(Mode::Serve(addr, run_for))
}

fn main() -> ExitCode {
    let mode = match parse_args() {
        Ok(mode) => mode,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    quiet_panics_inside_processes();
    // The default multi-thread runtime: one worker per core.
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The tour runs on a worker thread like any task, not on the thread blocked in main.
    let result = rt.block_on(async {
        let driver = match mode {
            Mode::Tour => tokio::spawn(tour()),
            Mode::Serve(addr, run_for) => tokio::spawn(live::serve(addr, run_for)),
        };
        match driver.await {
            Ok(r) => r,
            Err(e) => Err(format!("the tour's driver task failed: {e}").into()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nerror: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Panics outside any process (in the driver) still print as usual.
fn quiet_panics_inside_processes() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if beamish::process::current_pid().is_some() {
            CONTAINED_PANICS.fetch_add(1, Ordering::Relaxed);
        } else {
            default(info);
        }
    }));
}

async fn tour() -> Result<()> {
    let started = Instant::now();
    let node = Node::start_default()?;
    let workers = node.workers();
    println!("beamish demo: Erlang/OTP's process model in Rust ({workers} scheduler threads)");

    let mut expected_panics = 0;
    million_idle_processes(&node).await?;
    ring(&node).await?;
    let counter = panicking_server(&node, &mut expected_panics).await?;
    let guardian = links(&node, &mut expected_panics).await?;
    kill(&node, guardian).await?;
    summary(&node, counter, expected_panics, started).await
}

// ---- 1. a million idle processes ----------------------------------------------------------

async fn million_idle_processes(node: &Node) -> Result<()> {
    heading(
        1,
        &format!("spawn {} idle processes, then stop them", thousands(IDLE)),
    );
    let baseline = node.process_count();
    // Room for the handles is reserved before the first reading; its pages become resident as
    // the handles are written, so the figure below includes one 8-byte `Addr` per process.
    let mut addrs: Vec<Addr<()>> = Vec::with_capacity(IDLE);
    let rss_before = resident_bytes();

    let t = Instant::now();
    for _ in 0..IDLE {
        // Each process waits for one message, then ends normally.
        addrs.push(node.spawn(|mut ctx: Ctx<()>| async move {
            ctx.recv().await;
        })?);
    }
    let spawn_time = t.elapsed();
    let rss_after = resident_bytes();
    let live = node.process_count() - baseline;
    ensure(live == IDLE, || {
        format!("{live} processes alive after spawning {IDLE}")
    })?;
    figure(
        "spawn",
        &format!("{} processes", thousands(IDLE)),
        Some(spawn_time),
        &per_item(spawn_time, IDLE, "spawn"),
    );
    match (rss_before, rss_after) {
        (Some(before), Some(after)) => {
            let grown = after.saturating_sub(before);
            figure(
                "resident memory",
                &format!("+{:.1} MiB", grown as f64 / (1024.0 * 1024.0)),
                None,
                &format!(
                    "{} B/process (with the 8-byte Addr the demo keeps)",
                    thousands((grown as f64 / IDLE as f64).round() as usize)
                ),
            );
        }
        _ => figure("resident memory", "n/a", None, "(needs /proc/self/status)"),
    }

    let t = Instant::now();
    for addr in &addrs {
        addr.send(())
            .map_err(|e| format!("stopping an idle process: {e}"))?;
    }
    wait_for_count(node, baseline).await?;
    let stop_time = t.elapsed();
    figure(
        "stop (send, receive, exit)",
        &format!("{} processes", thousands(IDLE)),
        Some(stop_time),
        &per_item(stop_time, IDLE, "process"),
    );
    Ok(())
}

// ---- 2. a ring ----------------------------------------------------------------------------

/// What travels around the ring.
#[derive(Debug)]
enum Ring {
    /// The head's successor, sent once the ring is built.
    Next(Addr<Ring>),
    /// The token, with the hops it has made so far.
    Token(u64),
    /// Passed once around the ring: each process forwards it and ends.
    Stop,
}

async fn ring(node: &Node) -> Result<()> {
    heading(
        2,
        &format!(
            "a ring of {} processes passes a token {} hops",
            thousands(RING),
            thousands(HOPS as usize)
        ),
    );
    let baseline = node.process_count();
    let (done, finished) = tokio::sync::oneshot::channel::<u64>();

    // The head is a ring member that also watches the token: once it has made `HOPS` hops,
    // the head reports the count and sends `Stop` around.
    let head = node.spawn(move |mut ctx: Ctx<Ring>| async move {
        let mut next = None;
        let mut done = Some(done);
        while let Message::Msg(msg) = ctx.recv().await {
            match (msg, &next) {
                (Ring::Next(addr), _) => next = Some(addr),
                (Ring::Token(hops), Some(next)) if hops >= HOPS => {
                    if let Some(done) = done.take() {
                        let _ = done.send(hops);
                    }
                    let _ = next.send(Ring::Stop);
                    return Ok(());
                }
                (Ring::Token(hops), Some(next)) => next.send(Ring::Token(hops + 1))?,
                (Ring::Stop, _) => return Ok(()),
                (Ring::Token(_), None) => return Err(Exit::error("token before the ring")),
            }
        }
        Ok::<(), Exit>(())
    })?;

    // The other members, built from the head's predecessor backwards, so each knows its next.
    let mut next = head.clone();
    for _ in 1..RING {
        let succ = next;
        next = node.spawn(move |mut ctx: Ctx<Ring>| async move {
            while let Message::Msg(msg) = ctx.recv().await {
                match msg {
                    Ring::Token(hops) => succ.send(Ring::Token(hops + 1))?,
                    Ring::Stop => {
                        // The last member's successor, the head, has already ended.
                        let _ = succ.send(Ring::Stop);
                        break;
                    }
                    Ring::Next(_) => {}
                }
            }
            Ok::<(), SendError<Ring>>(())
        })?;
    }
    ensure(node.process_count() == baseline + RING, || {
        "the ring is not complete".into()
    })?;
    head.send(Ring::Next(next))
        .map_err(|e| format!("closing the ring: {e}"))?;

    let t = Instant::now();
    head.send(Ring::Token(0))
        .map_err(|e| format!("starting the token: {e}"))?;
    let hops = within("the token's trip", finished).await??;
    let took = t.elapsed();
    ensure(hops == HOPS, || {
        format!("the token made {hops} hops, expected {HOPS}")
    })?;
    figure(
        "pass the token",
        &format!("{} hops", thousands(hops as usize)),
        Some(took),
        &format!(
            "{}, {:.2} M msgs/s",
            per_item(took, hops as usize, "hop"),
            hops as f64 / took.as_secs_f64() / 1e6
        ),
    );
    let t = Instant::now();
    wait_for_count(node, baseline).await?;
    figure(
        "stop the ring",
        &format!("{} processes", thousands(RING)),
        Some(t.elapsed()),
        "",
    );
    Ok(())
}

// ---- 3. a GenServer that panics -------------------------------------------------------------

/// A server with a bug: it indexes its table with whatever it is asked.
struct Lookup {
    items: Vec<&'static str>,
}

impl GenServer for Lookup {
    type Call = usize;
    type Reply = &'static str;
    type Cast = ();
    type Info = ();

    async fn handle_call(
        &mut self,
        index: usize,
        _: Caller<'_, &'static str>,
        _: &mut ServerCtx<Self>,
    ) -> Result<Reply<&'static str>, Exit> {
        Ok(Reply::Now(self.items[index]))
    }
}

/// A healthy server next to it: counts the calls it answers.
#[derive(Default)]
struct Counter(u64);

impl GenServer for Counter {
    type Call = ();
    type Reply = u64;
    type Cast = ();
    type Info = ();

    async fn handle_call(
        &mut self,
        _: (),
        _: Caller<'_, u64>,
        _: &mut ServerCtx<Self>,
    ) -> Result<Reply<u64>, Exit> {
        self.0 += 1;
        Ok(Reply::Now(self.0))
    }
}

async fn panicking_server(node: &Node, expected_panics: &mut usize) -> Result<ServerRef<Counter>> {
    heading(3, "a GenServer panics inside handle_call");
    let lookup = node
        .start(Lookup {
            items: vec!["zero", "one", "two"],
        })
        .await?;
    let counter = node.start(Counter::default()).await?;
    let first = lookup.call(1).await?;
    ensure(first == "one", || format!("lookup(1) answered {first:?}"))?;

    let down = node.monitor(lookup.pid());
    *expected_panics += 1;
    let result = lookup.call(7).await;
    let reason = match result {
        Err(CallError::Exit(reason @ Exit::Panic(_))) => reason,
        other => return Err(format!("call(7) gave {other:?}, expected a panic").into()),
    };
    let Exit::Panic(message) = &reason else {
        unreachable!("matched above")
    };
    fact(
        "lookup.call(7) returned",
        &format!("Err(CallError::Exit(Exit::Panic({message:?})))"),
    );
    let seen = within("the monitor", down).await?;
    ensure(seen == reason, || {
        format!("the monitor saw {seen}, the caller {reason}")
    })?;
    fact("Node::monitor saw", &format!("{seen}  (the same reason)"));
    ensure(!lookup.is_alive(), || "the crashed server is alive".into())?;

    let t = Instant::now();
    let mut count = 0;
    for _ in 0..CALLS {
        count = counter.call(()).await?;
    }
    let took = t.elapsed();
    ensure(count == CALLS, || {
        format!("the counter answered {count}, expected {CALLS}")
    })?;
    figure(
        "another server, after",
        &format!("{} calls", thousands(CALLS as usize)),
        Some(took),
        &format!(
            "{:.2} µs/call, all answered",
            took.as_secs_f64() * 1e6 / CALLS as f64
        ),
    );
    Ok(counter)
}

// ---- 4. links and trapped exits ---------------------------------------------------------------

/// Panics with the first message it receives.
async fn crash_on_message(mut ctx: Ctx<&'static str>) {
    if let Message::Msg(why) = ctx.recv().await {
        panic!("{why}");
    }
}

/// A server that traps exits: it starts linked workers and reports the exit signals it
/// receives, as messages, instead of dying with its workers.
#[derive(Default)]
struct Guardian {
    trapped: VecDeque<(Pid, Exit)>,
    waiting: Option<ReplyTo<GuardianReply>>,
}

#[derive(Debug)]
enum GuardianCall {
    /// Start a worker linked to the guardian (it crashes on its first message).
    StartWorker,
    /// The next exit signal received; the reply waits until one comes.
    NextExit,
}

#[derive(Debug)]
enum GuardianReply {
    Worker(Addr<&'static str>),
    Exit { from: Pid, reason: Exit },
}

impl GenServer for Guardian {
    type Call = GuardianCall;
    type Reply = GuardianReply;
    type Cast = ();
    type Info = ();

    async fn handle_call(
        &mut self,
        request: GuardianCall,
        caller: Caller<'_, GuardianReply>,
        ctx: &mut ServerCtx<Self>,
    ) -> Result<Reply<GuardianReply>, Exit> {
        match request {
            GuardianCall::StartWorker => {
                let worker = ctx.build().link().spawn(crash_on_message)?;
                Ok(Reply::Now(GuardianReply::Worker(worker)))
            }
            GuardianCall::NextExit => match self.trapped.pop_front() {
                Some((from, reason)) => Ok(Reply::Now(GuardianReply::Exit { from, reason })),
                None => {
                    self.waiting = Some(caller.defer());
                    Ok(Reply::Later)
                }
            },
        }
    }

    async fn handle_info(
        &mut self,
        message: Message<()>,
        _: &mut ServerCtx<Self>,
    ) -> Result<(), Exit> {
        if let Message::Exit(exit) = message {
            let (from, reason) = (exit.from, exit.reason);
            match self.waiting.take() {
                Some(to) => to.reply(GuardianReply::Exit { from, reason }),
                None => self.trapped.push_back((from, reason)),
            }
        }
        Ok(())
    }
}

async fn start_worker(guardian: &ServerRef<Guardian>) -> Result<Addr<&'static str>> {
    match guardian.call(GuardianCall::StartWorker).await? {
        GuardianReply::Worker(worker) => Ok(worker),
        other => Err(format!("StartWorker answered {other:?}").into()),
    }
}

async fn next_exit(guardian: &ServerRef<Guardian>) -> Result<(Pid, Exit)> {
    match guardian.call(GuardianCall::NextExit).await? {
        GuardianReply::Exit { from, reason } => Ok((from, reason)),
        other => Err(format!("NextExit answered {other:?}").into()),
    }
}

async fn links(node: &Node, expected_panics: &mut usize) -> Result<ServerRef<Guardian>> {
    heading(
        4,
        "links: a crash takes its linked partner down; a trapping process lives on",
    );

    // `a` links itself to `b`, then makes `b` crash. It waits for a go first, so that the
    // monitors below are in place before anything ends.
    let b = node.spawn(crash_on_message)?;
    let b_pid = b.pid();
    let a = node.spawn(move |mut ctx: Ctx<()>| async move {
        ctx.recv().await;
        ctx.link(b.pid())?;
        b.send("worker b: disk on fire")?;
        // The exit signal from `b` ends this process at this `.await`.
        ctx.recv().await;
        Ok::<(), Exit>(())
    })?;
    let (down_a, down_b) = (node.monitor(a.pid()), node.monitor(b_pid));
    *expected_panics += 1;
    a.send(()).map_err(|e| format!("starting a: {e}"))?;
    let reason_b = within("b's exit", down_b).await?;
    let reason_a = within("a's exit", down_a).await?;
    ensure(
        reason_b == Exit::Panic("worker b: disk on fire".into()),
        || format!("b ended with {reason_b}"),
    )?;
    ensure(reason_a == reason_b, || {
        format!("a ended with {reason_a}, expected b's reason {reason_b}")
    })?;
    fact("b", &format!("crashed:   {reason_b}"));
    fact(
        "a, linked to b",
        &format!("went down: {reason_a}  (b's reason, over the link)"),
    );

    // The guardian traps exits: its crashing worker's exit signal becomes a message.
    let opts = SpawnOpts {
        trap_exit: true,
        ..SpawnOpts::default()
    };
    let guardian = node.start_with(opts, Guardian::default()).await?;
    let worker = start_worker(&guardian).await?;
    let down_worker = node.monitor(worker.pid());
    *expected_panics += 1;
    worker
        .send("worker w: out of memory")
        .map_err(|e| format!("crashing the worker: {e}"))?;
    let (from, reason) = next_exit(&guardian).await?;
    let worker_reason = within("the worker's exit", down_worker).await?;
    ensure(from == worker.pid(), || {
        format!(
            "the trapped exit came from {from}, not the worker {}",
            worker.pid()
        )
    })?;
    ensure(
        reason == worker_reason && matches!(reason, Exit::Panic(_)),
        || format!("trapped {reason}, but the worker ended with {worker_reason}"),
    )?;
    ensure(guardian.is_alive(), || {
        "the guardian died with its worker".into()
    })?;
    fact(&format!("w {from}"), &format!("crashed:   {worker_reason}"));
    fact(
        "guardian, linked to w",
        &format!("traps exits, got Message::Exit from {from}: {reason}"),
    );
    fact(
        "",
        "and lives on: that message came back as the reply to a call",
    );
    Ok(guardian)
}

// ---- 5. kill ------------------------------------------------------------------------------

async fn kill(node: &Node, guardian: ServerRef<Guardian>) -> Result<()> {
    heading(
        5,
        "exit signals sent to a trapping process: shutdown is trapped, kill is not",
    );
    let worker = start_worker(&guardian).await?;
    let (down_guardian, down_worker) = (node.monitor(guardian.pid()), node.monitor(worker.pid()));

    node.exit(guardian.pid(), Exit::Shutdown);
    let (from, reason) = next_exit(&guardian).await?;
    ensure(from == node.pid() && reason == Exit::Shutdown, || {
        format!("exit(guardian, shutdown) was trapped as {{ from: {from}, reason: {reason} }}")
    })?;
    fact(
        "exit(guardian, shutdown)",
        &format!("trapped, got Message::Exit from {from} (the node): {reason}"),
    );

    node.exit(guardian.pid(), Exit::Kill);
    let reason = within("the guardian's exit", down_guardian).await?;
    ensure(reason == Exit::Killed, || {
        format!("the killed guardian ended with {reason}")
    })?;
    fact(
        "exit(guardian, kill)",
        &format!("not trapped, exit: {reason}"),
    );
    let reason = within("the worker's exit", down_worker).await?;
    ensure(reason == Exit::Killed, || {
        format!("the guardian's linked worker ended with {reason}, expected killed")
    })?;
    fact(
        "its linked worker",
        &format!("went down: {reason}  (links carry killed, not kill)"),
    );
    Ok(())
}

// ---- 6. summary ---------------------------------------------------------------------------

async fn summary(
    node: &Node,
    counter: ServerRef<Counter>,
    expected_panics: usize,
    started: Instant,
) -> Result<()> {
    heading(6, "summary");
    // The last live process: stop it the OTP way.
    let down = node.monitor(counter.pid());
    node.exit(counter.pid(), Exit::Shutdown);
    let reason = within("the counter's exit", down).await?;
    ensure(reason == Exit::Shutdown, || {
        format!("the counter ended with {reason}")
    })?;
    wait_for_count(node, 0).await?;

    let panics = CONTAINED_PANICS.load(Ordering::Relaxed);
    ensure(panics == expected_panics, || {
        format!("{panics} panics inside processes, expected {expected_panics}")
    })?;
    fact(
        "processes spawned",
        &thousands(node.spawned_count() as usize),
    );
    fact("processes alive now", &thousands(node.process_count()));
    fact(
        "panics inside processes",
        &format!("{panics}, each ended only its own process"),
    );
    fact("total time", &secs(started.elapsed()));
    println!("\nall checks passed");
    Ok(())
}

// ---- helpers ------------------------------------------------------------------------------

fn heading(n: u32, title: &str) {
    println!("\n{n}. {title}");
}

/// A measurement: what, how many, how long, and the rate.
fn figure(label: &str, amount: &str, took: Option<Duration>, rate: &str) {
    let took = took.map(secs).unwrap_or_default();
    let line = format!("   {label:<26} {amount:>20} {took:>9}   {rate}");
    println!("{}", line.trim_end());
}

/// An observation: what, and what happened.
fn fact(label: &str, text: &str) {
    let line = format!("   {label:<26} {text}");
    println!("{}", line.trim_end());
}

fn ensure(ok: bool, problem: impl FnOnce() -> String) -> Result<()> {
    if ok { Ok(()) } else { Err(problem().into()) }
}

/// Awaits `fut`, or fails after [`STEP_LIMIT`].
async fn within<F: Future>(what: &str, fut: F) -> Result<F::Output> {
    tokio::time::timeout(STEP_LIMIT, fut)
        .await
        .map_err(|_| format!("{what} took over {} s", STEP_LIMIT.as_secs()).into())
}

/// Waits until the node runs `count` processes. A process leaves the table as the last step
/// of its exit, after its monitors have fired, so this polls briefly.
async fn wait_for_count(node: &Node, count: usize) -> Result<()> {
    let deadline = Instant::now() + STEP_LIMIT;
    while node.process_count() != count {
        if Instant::now() > deadline {
            return Err(format!(
                "{} processes alive after {} s, expected {count}",
                node.process_count(),
                STEP_LIMIT.as_secs()
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Ok(())
}

/// The process's resident set size, from `VmRSS` in `/proc/self/status` (the same figure as
/// the second field of `/proc/self/statm`, but in kB, so no page size is needed). `None`
/// where there is no procfs.
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

/// `d / n` in nanoseconds, as `1,234 ns/unit`.
fn per_item(d: Duration, n: usize, unit: &str) -> String {
    let ns = (d.as_nanos() as f64 / n as f64).round() as usize;
    format!("{} ns/{unit}", thousands(ns))
}

/// `1234567` as `1,234,567`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
