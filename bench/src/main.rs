//! `beamish-bench <system> <workload> [args]`: runs one workload on one actor system and prints
//! one line `RESULT\t<system>\t<workload>\tkey=value...` ending in `check=ok`, or
//! `check=FAILED\tdetail=...` (and a non-zero exit) when the workload's own result is wrong.
//!
//! Systems: `beamish` (two workers), `beamish-tokio` (the same code on `Executor::Tokio`, chat
//! only), `beamish-st` (beamish on a current-thread runtime), `tokio` (two workers), `tokio-st` (current-thread runtime), `ractor`, `kameo`,
//! `actix`. Workloads: `spawn N`, `pingpong N`, `ring NODES HOPS`, `skynet [LEAVES]`,
//! `call CALLERS TOTAL`, `fanout SUBS MSGS`, `suprestart KILLS` (beamish only), `suploop RESTARTS` (beamish only),
//! `observe N IDLE` (beamish only), `pubsub SUBS MSGS`
//! (beamish and ractor), `registry PROCS PARTITIONS ROUNDS` (beamish only), `timers N` (beamish
//! and tokio). `beamish-bench systems` lists the systems built in.
//!
//! A system that does not implement a workload prints nothing on stdout and exits with
//! [`NOT_IMPLEMENTED`]; `cargo xtask bench` knows the same list and does not run it.
//!
//! Each run is meant to be its own OS process (`cargo xtask bench` does that), so that one
//! workload's leftovers (memory, threads) never weigh on the next.

mod actix_sys;
mod beamish_sys;
mod chat;
mod common;
mod kameo_sys;
mod ractor_sys;
mod tokio_sys;

use std::future::Future;
use std::process::ExitCode;

use common::{Outcome, Workload};

/// The systems this binary can run, in the order tables list them.
const SYSTEMS: &[&str] = &[
    "beamish",
    "beamish-tokio",
    "beamish-st",
    "ractor",
    "kameo",
    "actix",
    "tokio",
    "tokio-st",
];

const USAGE: &str = "usage: beamish-bench <system> <workload> [args]\n       \
     beamish-bench systems\n\
     workloads: spawn N | pingpong N | ring NODES HOPS | skynet [LEAVES] | \
     call CALLERS TOTAL | fanout SUBS MSGS | suprestart KILLS | suploop RESTARTS | observe N IDLE | \
     pubsub SUBS MSGS | \
     registry PROCS PARTITIONS ROUNDS | timers N | chat CLIENTS ROOMS BURST RATE\n       \
     beamish-bench chatload PORT CLIENTS ROOMS BURST RATE   (the chat workload's load generator)";

/// The exit status of a run whose system does not implement the workload.
const NOT_IMPLEMENTED: i32 = 3;

/// Whether `system` implements `w`: every system runs the actor workloads; the supervisor and
/// pub/sub ones need a library the peers lack (ractor has process groups, no supervisor
/// restarts of a server a caller could wait for).
fn implements(system: &str, w: Workload) -> bool {
    match w {
        // beamish on `Executor::Tokio` is a variant of this workload only: on the others the
        // README's figures for tokio and beamish-st tell the story.
        Workload::Chat(_) => matches!(
            system,
            "beamish" | "beamish-tokio" | "beamish-st" | "tokio" | "tokio-st"
        ),
        _ if system == "beamish-tokio" => false,
        Workload::SupRestart { .. }
        | Workload::SupLoop { .. }
        | Workload::Observe { .. }
        | Workload::Registry { .. }
        | Workload::Emit { .. } => matches!(system, "beamish" | "beamish-st"),
        Workload::PubSub { .. } => matches!(system, "beamish" | "beamish-st" | "ractor"),
        // The peers' timers are a tokio task each, which the tokio rows already measure.
        Workload::MainCall { .. } | Workload::Fairness { .. } | Workload::Timers { .. } => {
            matches!(system, "beamish" | "beamish-st" | "tokio" | "tokio-st")
        }
        _ => true,
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [cmd, rest @ ..] if cmd == "chatload" => std::process::exit(chat::load::main(rest)),
        [cmd] if cmd == "systems" => {
            println!("{}", SYSTEMS.join(" "));
            ExitCode::SUCCESS
        }
        [system, workload, rest @ ..] => match Workload::parse(workload, rest) {
            Ok(w) if SYSTEMS.contains(&system.as_str()) && !implements(system, w) => {
                eprintln!("beamish-bench: {system} does not implement {}", w.name());
                std::process::exit(NOT_IMPLEMENTED)
            }
            Ok(w) if SYSTEMS.contains(&system.as_str()) => {
                let code = run(system, w);
                // Exit without dropping the runtime: tearing down a million tasks would only
                // slow the harness down and is not part of any workload.
                std::process::exit(code)
            }
            Ok(_) => usage(&format!("unknown system {system:?}")),
            Err(e) => usage(&e),
        },
        _ => usage("missing arguments"),
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("beamish-bench: {problem}\n{USAGE}");
    ExitCode::from(2)
}

/// Runs `w` on `system` with the same runtime setup as the anchors; returns the exit code.
fn run(system: &str, w: Workload) -> i32 {
    let outcome = match system {
        "tokio-st" => current_thread(tokio_sys::run(w)),
        // actix's default: one single-threaded System arbiter runs every actor.
        "actix" => actix::System::new().block_on(actix_sys::run(w)),
        // From the `block_on` body itself, as `#[tokio::main]` code calls.
        "beamish" if matches!(w, Workload::MainCall { .. }) => {
            two_workers_main(beamish_sys::run(w))
        }
        "tokio" if matches!(w, Workload::MainCall { .. }) => two_workers_main(tokio_sys::run(w)),
        "beamish" => two_workers(beamish_sys::run(w)),
        // The same beamish code with its processes as tasks of the same two-worker runtime.
        "beamish-tokio" => two_workers(beamish_sys::run_on(w, beamish_process::Executor::Tokio)),
        // The same beamish code on one scheduler thread, as actix runs by default: what
        // beamish costs without cross-thread wake-ups.
        "beamish-st" => current_thread(beamish_sys::run(w)),
        "tokio" => two_workers(tokio_sys::run(w)),
        "ractor" => two_workers(ractor_sys::run(w)),
        "kameo" => two_workers(kameo_sys::run(w)),
        _ => unreachable!("checked against SYSTEMS"),
    };
    outcome.print(system)
}

fn current_thread(driver: impl Future<Output = Outcome>) -> Outcome {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(driver)
}

/// The same runtime, the driver running in `block_on`'s own thread (`#[tokio::main]`'s
/// body).
fn two_workers_main(driver: impl Future<Output = Outcome>) -> Outcome {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(driver)
}

/// A multi-thread runtime with two workers (one per core here). The driver runs as a spawned
/// task, so only the two worker threads execute workload code; `block_on`'s thread just waits.
fn two_workers(driver: impl Future<Output = Outcome> + Send + 'static) -> Outcome {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        tokio::spawn(driver)
            .await
            .expect("the driver panicked; its message is above")
    })
}
