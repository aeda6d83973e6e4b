//! The chat workload: a TCP chat server on 127.0.0.1, loaded from another OS process.
//!
//! The protocol is one line per message, both ways:
//!
//! * client to server: `JOIN <room>` (the server answers `JOINED <room>` once the client is a
//!   member) and `MSG <room> <text>`;
//! * server to client: `<room>: <text>` for every message posted to a room the client is in,
//!   its own included.
//!
//! Each system serves it its own way (`beamish.rs`, `tokio.rs`); this module holds what they
//! share: the sizes, the open-file limit, and starting the load generator
//! ([`load`](mod@load), the same binary run as `beamish-bench chatload ...`) as a child process
//! and turning what it reports into the result line. Sender and receivers are in the loader,
//! so its latencies are taken on one clock.

pub(crate) mod beamish;
pub(crate) mod load;
pub(crate) mod tokio;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use crate::common::Outcome;

/// How long the paced phase sends, in seconds: `rate` messages per second for this long.
pub(crate) const PACED_SECS: u64 = 2;

/// The sizes of one chat run, as given on the command line: `chat CLIENTS ROOMS BURST RATE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChatSize {
    /// Client connections, each in one room.
    pub(crate) clients: usize,
    /// Rooms; client `i` joins room `i % rooms`.
    pub(crate) rooms: usize,
    /// Messages every client sends, as fast as it can, in the burst phase.
    pub(crate) burst: usize,
    /// Messages per second, over all clients, in the paced phase.
    pub(crate) rate: usize,
}

impl ChatSize {
    /// The command-line words after `chat` (and after the port, for `chatload`).
    pub(crate) fn args(self) -> [String; 4] {
        [self.clients, self.rooms, self.burst, self.rate].map(|n| n.to_string())
    }

    /// The messages of the paced phase.
    pub(crate) fn paced(self) -> usize {
        self.rate * PACED_SECS as usize
    }

    /// The room of client `i`.
    pub(crate) fn room_of(self, client: usize) -> usize {
        client % self.rooms
    }

    /// The sender of paced message `j`: the clients take turns.
    pub(crate) fn paced_sender(self, j: usize) -> usize {
        j % self.clients
    }

    /// How many clients room `r` has.
    pub(crate) fn members(self, room: usize) -> usize {
        self.clients / self.rooms + usize::from(room < self.clients % self.rooms)
    }

    /// Whether the sizes make a run: at least one client per room, something to send.
    pub(crate) fn valid(self) -> bool {
        self.rooms > 0 && self.clients >= self.rooms && self.burst > 0 && self.rate > 0
    }
}

/// The name of room `r` on the wire.
pub(crate) fn room_name(r: usize) -> String {
    format!("room{r}")
}

/// Raises this process's soft limit on open files to at least `needed` (up to the hard
/// limit): 2,000 clients are 2,000 sockets in the loader and 2,000 in the server, above the
/// common default of 1,024. Returns the soft limit in force, or why it could not be raised.
pub(crate) fn ensure_open_files(needed: u64) -> Result<u64, String> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit` writes one `rlimit` through a valid pointer to a local.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(format!("getrlimit: {}", std::io::Error::last_os_error()));
    }
    if lim.rlim_cur >= needed {
        return Ok(lim.rlim_cur);
    }
    if lim.rlim_max < needed {
        return Err(format!(
            "{needed} open files needed, hard limit {} (raise it with ulimit -Hn)",
            lim.rlim_max
        ));
    }
    lim.rlim_cur = needed;
    // SAFETY: `setrlimit` reads one `rlimit` through a valid pointer to a local.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
        return Err(format!("setrlimit: {}", std::io::Error::last_os_error()));
    }
    Ok(needed)
}

/// Sockets and the rest a process of this workload may hold open: one per client, and some
/// for the runtime, the listener and the pipes.
pub(crate) fn open_files_for(size: ChatSize) -> u64 {
    size.clients as u64 + 256
}

/// Runs the load generator against the server listening on `port` of 127.0.0.1, as another
/// OS process, and turns its report into the result line. Blocks a blocking-pool thread (not
/// a runtime worker) while the loader runs; the loader bounds each of its phases itself.
pub(crate) async fn load(port: u16, size: ChatSize) -> Outcome {
    let output = ::tokio::task::spawn_blocking(move || {
        let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
        Command::new(exe)
            .arg("chatload")
            .arg(port.to_string())
            .args(size.args())
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("starting the loader: {e}"))
    })
    .await
    .expect("the loader's waiting thread");
    let (report, status) = match output {
        Ok(out) => (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            out.status.to_string(),
        ),
        Err(e) => (String::new(), e),
    };
    LoadReport::parse(&report).outcome(size, &status)
}

/// What the loader printed: its `CHATLOAD` line's fields.
#[derive(Debug, Default)]
pub(crate) struct LoadReport {
    fields: BTreeMap<String, String>,
}

/// The first word of the loader's report line.
pub(crate) const REPORT_TAG: &str = "CHATLOAD";

impl LoadReport {
    fn parse(stdout: &str) -> Self {
        let fields = stdout
            .lines()
            .rev()
            .find(|l| l.starts_with(REPORT_TAG))
            .map(|l| {
                l.split('\t')
                    .skip(1)
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        LoadReport { fields }
    }

    fn get(&self, key: &str) -> &str {
        self.fields.get(key).map_or("", String::as_str)
    }

    fn outcome(&self, size: ChatSize, status: &str) -> Outcome {
        let mut o = Outcome::new("chat")
            .field("clients", size.clients)
            .field("rooms", size.rooms);
        // The loader's own figures, in its order, as they are.
        for key in [
            "deliveries_per_s",
            "p50_us",
            "p99_us",
            "burst_ms",
            "burst_deliveries",
            "paced_deliveries",
            "paced_late_ms",
        ] {
            if let Some(v) = self.fields.get(key) {
                o = o.field(key, v);
            }
        }
        let check = self.get("check");
        o.require(check == "ok", || {
            if self.fields.is_empty() {
                format!("the loader printed no report (it {status})")
            } else {
                format!("loader: {}", self.get("detail"))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_add_up() {
        let s = ChatSize {
            clients: 103,
            rooms: 10,
            burst: 1,
            rate: 1,
        };
        assert_eq!((0..10).map(|r| s.members(r)).sum::<usize>(), 103);
        for r in 0..10 {
            let n = (0..103).filter(|&c| s.room_of(c) == r).count();
            assert_eq!(s.members(r), n);
        }
    }

    #[test]
    fn reads_the_loader_report() {
        let r = LoadReport::parse("noise\nCHATLOAD\tdeliveries_per_s=5\tp50_us=7\tcheck=ok\n");
        assert_eq!((r.get("p50_us"), r.get("check")), ("7", "ok"));
        assert_eq!(LoadReport::parse("no report\n").get("check"), "");
    }
}
