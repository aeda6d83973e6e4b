//! `cargo xtask demo -- --serve [ADDR]`: a live node worth observing, serving its metrics and
//! introspection over HTTP until stopped (Ctrl-C), for `cargo xtask observe` and Prometheus.
//!
//! Under one supervisor it runs: a process whose mailbox fills faster than it drains
//! (`backlog`, fed by `flood`), a busy ping-pong pair (`ping`, `pong`), a worker that crashes
//! every second and a half (`flaky`, so the restart count climbs), and a nested supervisor
//! with a few idle job workers (`jobs`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use beamish::prelude::*;
use beamish::supervisor::observe::NodeIntrospector;
use beamish::telemetry::http::Endpoint;
use beamish::telemetry::metrics::{Metric, PrometheusReporter};
use beamish::telemetry::{EventLog, Telemetry, events};

use crate::Result;

/// The address served when `--serve` comes without one (the observer's default).
pub(crate) const DEFAULT_ADDR: &str = "127.0.0.1:9464";

/// Most messages `flood` lets pile up in `backlog`'s mailbox, so a node left running for hours
/// stays bounded.
const BACKLOG_CAP: usize = 20_000;

/// Runs the live node until the process is stopped, or for `run_for` if given.
pub(crate) async fn serve(addr: SocketAddr, run_for: Option<Duration>) -> Result<()> {
    let telemetry = Telemetry::new();
    let log = EventLog::new(100);
    log.attach(&telemetry, "observer-log", events::NOTABLE)?;
    let metrics = PrometheusReporter::builder()
        .metrics(node_metrics())
        .build()?;
    metrics.attach(&telemetry)?;

    let node = Node::new(NodeConfig {
        name: Some("demo@localhost".into()),
        telemetry: telemetry.clone(),
        ..NodeConfig::default()
    })?;
    let app = Supervisor::new(Strategy::OneForOne)
        .intensity(1_000, Duration::from_secs(5))
        .child(ChildSpec::process("backlog", backlog))
        .child(ChildSpec::process("flood", flood))
        .child(ChildSpec::process("pong", pong))
        .child(ChildSpec::process("ping", ping))
        .child(ChildSpec::process("flaky", flaky))
        .child(
            Supervisor::new(Strategy::OneForOne)
                .children((1..=4).map(|i| ChildSpec::process(format!("job{i}"), job)))
                .into_child_spec("jobs"),
        )
        .start(&node)
        .await?;
    let introspector = NodeIntrospector::new(&node)
        .supervisor(app.pid())
        .events(log);
    let endpoint = Endpoint::builder()
        .metrics(metrics)
        .introspect(Arc::new(introspector))
        .bind(addr)
        .await?;
    let addr = endpoint.local_addr();
    println!("serving introspection and metrics on http://{addr} (Ctrl-C stops the node)");
    println!("  watch it:  cargo xtask observe --addr {addr}");
    println!("  scrape it: curl http://{addr}/metrics");
    match run_for {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending::<()>().await,
    }
    app.stop(Exit::Shutdown).await?;
    endpoint.shutdown().await;
    Ok(())
}

/// What the endpoint's `/metrics` shows: counts of process and supervisor events.
fn node_metrics() -> Vec<Metric> {
    vec![
        Metric::counter("beamish.process.spawned.count", &events::process::SPAWNED)
            .description("processes spawned"),
        Metric::counter("beamish.process.exited.count", &events::process::EXITED)
            .tags(["kind"])
            .description("processes exited"),
        Metric::counter(
            "beamish.supervisor.child_restarted.count",
            &events::supervisor::CHILD_RESTARTED,
        )
        .description("children restarted by supervisors"),
    ]
}

/// Receives slowly (100 messages a second), so its mailbox grows while `flood` feeds it.
async fn backlog(mut ctx: Ctx<u64>) -> Result<(), Exit> {
    ctx.register("backlog")
        .map_err(|e| Exit::error(e.to_string()))?;
    while let Message::Msg(_) = ctx.recv().await {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

/// Sends 500 messages a second to `backlog`, up to [`BACKLOG_CAP`] queued.
async fn flood(ctx: Ctx<()>) {
    let node = ctx.node().clone();
    let mut n = 0u64;
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let Some(pid) = node.whereis("backlog") else {
            continue;
        };
        let queued = node.process_info(pid).map_or(0, |i| i.mailbox_len);
        for _ in 0..50.min(BACKLOG_CAP.saturating_sub(queued)) {
            n += 1;
            let _ = node.send(pid, n);
        }
    }
}

/// Answers every ping.
async fn pong(mut ctx: Ctx<Pid>) -> Result<(), Exit> {
    ctx.register("pong")
        .map_err(|e| Exit::error(e.to_string()))?;
    let node = ctx.node().clone();
    while let Message::Msg(from) = ctx.recv().await {
        let _ = node.send(from, ());
    }
    Ok(())
}

/// Plays bursts of 200 round trips with `pong`, 20 bursts a second: the busiest process.
async fn ping(mut ctx: Ctx<()>) -> Result<(), Exit> {
    ctx.register("ping")
        .map_err(|e| Exit::error(e.to_string()))?;
    let node = ctx.node().clone();
    let me = ctx.pid();
    loop {
        let pong = node.whereis("pong").ok_or(Exit::error("pong is gone"))?;
        for _ in 0..200 {
            node.send(pong, me)
                .map_err(|e| Exit::error(e.to_string()))?;
            if !matches!(ctx.recv().await, Message::Msg(())) {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Crashes after a second and a half, every time: its supervisor restarts it.
async fn flaky(_ctx: Ctx<()>) -> Result<(), Exit> {
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    Err(Exit::error("flaky worker gave up"))
}

/// A job worker: idle until told something.
async fn job(mut ctx: Ctx<()>) {
    while let Message::Msg(()) = ctx.recv().await {}
}
