//! The chat load generator: `beamish-bench chatload PORT CLIENTS ROOMS BURST RATE`, run as its
//! own OS process by the server side (see [`super::load`]).
//!
//! It connects every client and joins it to its room (one at a time, each waiting for its
//! `JOINED`), then runs two phases on those connections:
//!
//! * **burst**: every client sends `BURST` messages as fast as it can; the phase ends when
//!   every client has received every message of its room (its own included), and the figure
//!   is deliveries per second over the phase;
//! * **paced**: the clients take turns sending `RATE` messages per second for
//!   [`PACED_SECS`](super::PACED_SECS); every receipt at a client other than the sender gives
//!   one latency, from just before the sender's write to the receiver's read of the line.
//!
//! Every client counts what it received per phase against what its room was sent: a lost or
//! foreign line fails the check. It runs on a current-thread runtime, so that it takes at most
//! one of the machine's cores from the server, whatever the server is. Each phase is bounded by
//! [`PHASE_TIMEOUT`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::task::JoinHandle;

use super::{ChatSize, REPORT_TAG, ensure_open_files, open_files_for, room_name};
use crate::common::{Latch, median, percentile};

/// How long one phase (joining, burst, paced) may take before the loader gives up.
const PHASE_TIMEOUT: Duration = Duration::from_secs(60);

/// What one client saw.
#[derive(Debug, Default)]
struct Tally {
    burst: usize,
    paced: usize,
    /// Lines that were not of its room or not of the protocol.
    foreign: usize,
    /// Paced latencies, in nanoseconds, of messages other clients sent.
    latencies: Vec<u64>,
    /// Why the connection ended early, if it did.
    error: Option<String>,
}

/// Runs the loader; prints one `CHATLOAD` line and returns the exit code.
pub(crate) fn main(args: &[String]) -> i32 {
    let parsed = (|| {
        let n = |i: usize| -> Result<usize, String> {
            args.get(i)
                .ok_or("chatload PORT CLIENTS ROOMS BURST RATE")?
                .parse::<usize>()
                .map_err(|e| format!("bad number {:?}: {e}", args[i]))
        };
        let port = u16::try_from(n(0)?).map_err(|e| e.to_string())?;
        let size = ChatSize {
            clients: n(1)?,
            rooms: n(2)?,
            burst: n(3)?,
            rate: n(4)?,
        };
        if size.valid() {
            Ok((port, size))
        } else {
            Err("chatload: ROOMS <= CLIENTS and every count positive".to_owned())
        }
    })();
    let report = match parsed {
        Err(e) => Err(e),
        Ok((port, size)) => ensure_open_files(open_files_for(size)).and_then(|_| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?
                .block_on(load(port, size))
        }),
    };
    match report {
        Ok(fields) => {
            println!("{REPORT_TAG}\t{fields}");
            if fields.ends_with("check=ok") { 0 } else { 1 }
        }
        Err(e) => {
            println!(
                "{REPORT_TAG}\tcheck=FAILED\tdetail={}",
                e.replace('\t', " ")
            );
            1
        }
    }
}

/// Loads the server on `port`: join, burst, paced. The report's fields, tab-separated.
async fn load(port: u16, size: ChatSize) -> Result<String, String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let epoch = Instant::now();
    let sent: Arc<[AtomicU64]> = (0..size.paced()).map(|_| AtomicU64::new(0)).collect();
    let burst_done = Latch::new(size.clients);
    let paced_done = Latch::new(size.clients);
    let mut writers = Vec::with_capacity(size.clients);
    let mut readers = Vec::with_capacity(size.clients);
    let joining = async {
        for me in 0..size.clients {
            let (lines, writer) = join(addr, size.room_of(me)).await?;
            writers.push(writer);
            let client = Client {
                me,
                size,
                epoch,
                sent: sent.clone(),
                burst_done: burst_done.clone(),
                paced_done: paced_done.clone(),
            };
            readers.push(tokio::spawn(client.read(lines)));
        }
        Ok::<(), String>(())
    };
    bounded("joining", joining).await??;

    // Burst: every client writes its messages, one line per write, as fast as it can.
    let t0 = Instant::now();
    let senders: Vec<JoinHandle<std::io::Result<OwnedWriteHalf>>> = writers
        .into_iter()
        .enumerate()
        .map(|(me, mut w)| {
            let room = room_name(size.room_of(me));
            tokio::spawn(async move {
                for seq in 0..size.burst {
                    w.write_all(format!("MSG {room} b {me} {seq}\n").as_bytes())
                        .await?;
                }
                Ok(w)
            })
        })
        .collect();
    let burst_ok = bounded("burst", burst_done.wait()).await;
    let burst_elapsed = t0.elapsed();
    let mut writers = Vec::with_capacity(size.clients);
    for s in senders {
        writers.push(
            s.await
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("burst write: {e}"))?,
        );
    }

    // Paced: message j at t0 + j / rate, from client j % clients.
    let paced_ok = if burst_ok.is_ok() {
        let t0 = tokio::time::Instant::now();
        let mut late = Duration::ZERO;
        for j in 0..size.paced() {
            let due = t0 + Duration::from_secs(1) * j as u32 / size.rate as u32;
            tokio::time::sleep_until(due).await;
            late = late.max(due.elapsed());
            let me = size.paced_sender(j);
            let line = format!("MSG {} p {me} {j}\n", room_name(size.room_of(me)));
            sent[j].store(epoch.elapsed().as_nanos() as u64, Ordering::Release);
            writers[me]
                .write_all(line.as_bytes())
                .await
                .map_err(|e| format!("paced write: {e}"))?;
        }
        bounded("paced", paced_done.wait()).await.map(|()| late)
    } else {
        Err("skipped after the burst failed".to_owned())
    };

    // Collect the tallies: the readers end once they have all they expect, or are cut short.
    let mut tallies = Vec::with_capacity(size.clients);
    for r in readers {
        if !r.is_finished() {
            r.abort();
        }
        tallies.push(r.await.unwrap_or_else(|_| Tally {
            error: Some("still waiting for lines".to_owned()),
            ..Tally::default()
        }));
    }
    drop(writers);
    Ok(report(size, burst_elapsed, burst_ok, paced_ok, tallies))
}

/// Runs `f`, failing after [`PHASE_TIMEOUT`].
async fn bounded<T>(phase: &str, f: impl Future<Output = T>) -> Result<T, String> {
    tokio::time::timeout(PHASE_TIMEOUT, f)
        .await
        .map_err(|_| format!("{phase} did not finish in {}s", PHASE_TIMEOUT.as_secs()))
}

/// Connects one client and joins it to `room`, waiting for the server's `JOINED`.
async fn join(
    addr: SocketAddr,
    room: usize,
) -> Result<(Lines<BufReader<OwnedReadHalf>>, OwnedWriteHalf), String> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let (r, mut w) = stream.into_split();
    let room = room_name(room);
    w.write_all(format!("JOIN {room}\n").as_bytes())
        .await
        .map_err(|e| format!("join: {e}"))?;
    let mut lines = BufReader::new(r).lines();
    match lines.next_line().await {
        Ok(Some(l)) if l == format!("JOINED {room}") => Ok((lines, w)),
        other => Err(format!("joining {room}: got {other:?}")),
    }
}

/// One client's reading side.
struct Client {
    me: usize,
    size: ChatSize,
    epoch: Instant,
    sent: Arc<[AtomicU64]>,
    burst_done: Arc<Latch>,
    paced_done: Arc<Latch>,
}

impl Client {
    /// Reads until it has every line its room was sent in both phases.
    async fn read(self, mut lines: Lines<BufReader<OwnedReadHalf>>) -> Tally {
        let size = self.size;
        let room = size.room_of(self.me);
        let want_burst = size.burst * size.members(room);
        let want_paced = (0..size.paced())
            .filter(|&j| size.room_of(size.paced_sender(j)) == room)
            .count();
        if want_paced == 0 {
            self.paced_done.count_down();
        }
        let prefix = format!("{}: ", room_name(room));
        let mut t = Tally::default();
        while t.burst < want_burst || t.paced < want_paced {
            let line = match lines.next_line().await {
                Ok(Some(line)) => line,
                Ok(None) => {
                    t.error = Some("the server closed the connection".to_owned());
                    break;
                }
                Err(e) => {
                    t.error = Some(format!("read: {e}"));
                    break;
                }
            };
            let received = self.epoch.elapsed().as_nanos() as u64;
            let mut words = line.strip_prefix(&prefix).unwrap_or("").split(' ');
            let kind = words.next();
            let (Some(sender), Some(seq)) = (
                words.next().and_then(|w| w.parse::<usize>().ok()),
                words.next().and_then(|w| w.parse::<usize>().ok()),
            ) else {
                t.foreign += 1;
                continue;
            };
            match kind {
                Some("b") => {
                    t.burst += 1;
                    if t.burst == want_burst {
                        self.burst_done.count_down();
                    }
                }
                Some("p") if seq < size.paced() => {
                    t.paced += 1;
                    if sender != self.me {
                        let at = self.sent[seq].load(Ordering::Acquire);
                        t.latencies.push(received.saturating_sub(at));
                    }
                    if t.paced == want_paced {
                        self.paced_done.count_down();
                    }
                }
                _ => t.foreign += 1,
            }
        }
        t
    }
}

/// The report line's fields, and the check: every client got all of its room's messages.
fn report(
    size: ChatSize,
    burst_elapsed: Duration,
    burst_ok: Result<(), String>,
    paced_ok: Result<Duration, String>,
    tallies: Vec<Tally>,
) -> String {
    let burst_deliveries: usize = tallies.iter().map(|t| t.burst).sum();
    let paced_deliveries: usize = tallies.iter().map(|t| t.paced).sum();
    let want_burst: usize = (0..size.rooms)
        .map(|r| size.members(r) * size.members(r) * size.burst)
        .sum();
    let want_paced: usize = (0..size.paced())
        .map(|j| size.members(size.room_of(size.paced_sender(j))))
        .sum();
    let mut lat: Vec<f64> = tallies
        .iter()
        .flat_map(|t| t.latencies.iter().map(|&ns| ns as f64 / 1e3))
        .collect();
    lat.sort_by(f64::total_cmp);
    let mut problems = Vec::new();
    if let Err(e) = &burst_ok {
        problems.push(e.clone());
    }
    if let Err(e) = &paced_ok {
        problems.push(e.clone());
    }
    if burst_deliveries != want_burst {
        problems.push(format!(
            "burst: {burst_deliveries} of {want_burst} deliveries"
        ));
    }
    if paced_deliveries != want_paced {
        problems.push(format!(
            "paced: {paced_deliveries} of {want_paced} deliveries"
        ));
    }
    let foreign: usize = tallies.iter().map(|t| t.foreign).sum();
    if foreign > 0 {
        problems.push(format!("{foreign} lines not of the client's room"));
    }
    if let Some(e) = tallies.iter().find_map(|t| t.error.as_ref()) {
        let n = tallies.iter().filter(|t| t.error.is_some()).count();
        problems.push(format!("{n} clients cut short, e.g. {e}"));
    }
    let mut s = format!(
        "deliveries_per_s={:.0}\tp50_us={:.1}\tp99_us={:.1}\tburst_ms={:.1}\t\
         burst_deliveries={burst_deliveries}\tpaced_deliveries={paced_deliveries}",
        burst_deliveries as f64 / burst_elapsed.as_secs_f64(),
        if lat.is_empty() { 0.0 } else { median(&lat) },
        if lat.is_empty() {
            0.0
        } else {
            percentile(&lat, 0.99)
        },
        burst_elapsed.as_secs_f64() * 1e3,
    );
    if let Ok(late) = paced_ok {
        // How far the pacer itself fell behind its schedule: latencies are only meaningful
        // while this stays small.
        s.push_str(&format!("\tpaced_late_ms={:.1}", late.as_secs_f64() * 1e3));
    }
    if problems.is_empty() {
        s.push_str("\tcheck=ok");
    } else {
        s.push_str(&format!(
            "\tcheck=FAILED\tdetail={}",
            problems.join("; ").replace(['\t', '\n'], " ")
        ));
    }
    s
}
