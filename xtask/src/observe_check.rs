//! The observer tested as a person uses it: the demo serves a live node, `cargo xtask observe`
//! runs in a real terminal (a detached tmux session), and we read the screen with
//! `tmux capture-pane`, press keys with `tmux send-keys`, and check what a person would see.
//!
//! Run by `cargo xtask ci` (step `observer`) and on its own by `cargo xtask observe-check`.
//! It needs tmux: in CI (`CI=true`) a missing tmux fails the step; elsewhere the step says
//! loudly that it was skipped (`.ci/run` installs tmux).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::cmd;

/// How long the screen may take to show what we wait for (a debug build on a loaded
/// 2-core machine).
const SCREEN_LIMIT: Duration = Duration::from_secs(60);

/// Whether tmux can be run here.
pub(crate) fn tmux_available() -> bool {
    Command::new("tmux")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs the check: builds the demo, serves a live node, drives the observer under tmux.
pub(crate) fn run() -> Result<()> {
    if !tmux_available() {
        bail!(
            "the observer check needs tmux, which is not installed here \
             (Debian: `apt-get install -y tmux`; `.ci/run` installs it in CI)"
        );
    }
    // The same features as the test step, so the build is reused rather than redone.
    let build = cmd::cargo([
        "build",
        "--workspace",
        "--all-features",
        "--example",
        "demo",
    ]);
    cmd::run_quiet(build)?;
    let demo_path = cmd::target_dir()
        .join("debug")
        .join("examples")
        .join("demo");
    let mut demo = LiveDemo::start(&demo_path)?;
    let addr = demo.addr.clone();
    let observer = std::env::current_exe().context("where is the xtask binary?")?;
    let session = Session::start(&format!(
        "{} observe --addr {addr} --interval-ms 250",
        observer.display()
    ))?;

    // 1. Node totals, the flooded process first by mailbox, the tree, the events.
    let screen = session.wait_for("the first screen, sorted by mailbox", |s| {
        s.contains("beamish observer")
            && first_process_row(s).is_some_and(|row| row.contains("backlog"))
            && s.contains("mailbox▼")
            && tree_restarts(s, "flaky").is_some_and(|n| n >= 1)
            && s.contains("beamish.supervisor.child_restarted")
    })?;
    println!("observer: first screen ok (backlog first by mailbox, flaky restarted)");

    // 2. Restart counts go up live, without a key press.
    let before = tree_restarts(&screen, "flaky").unwrap_or(0);
    session.wait_for("the flaky worker's restart count to rise", |s| {
        tree_restarts(s, "flaky").is_some_and(|n| n > before)
    })?;
    println!("observer: restart count rose past {before} while watching");

    // 3. `r` sorts by message rate: the ping-pong pair is busiest.
    session.keys("r")?;
    session.wait_for(
        "the table sorted by message rate, ping or pong first",
        |s| {
            s.contains("msg/s▼")
                && first_process_row(s)
                    .is_some_and(|row| row.contains("ping") || row.contains("pong"))
        },
    )?;
    println!("observer: sorted by rate, ping/pong first");

    // 4. `q` quits, and leaves the node running.
    session.keys("q")?;
    session.wait_gone()?;
    if let Some(status) = demo.child.try_wait()? {
        bail!("the demo node stopped while observed: {status}");
    }
    println!("observer: q quit cleanly; the node kept running");
    Ok(())
}

/// The first row of the process table: the line after the header row (which has `behaviour`).
fn first_process_row(screen: &str) -> Option<&str> {
    let mut lines = screen.lines().skip_while(|l| !l.contains("behaviour"));
    lines.next()?;
    lines.next()
}

/// The restart count the tree pane shows for child `id`: `id <pid>|- status restarts N`.
/// (The process table shares screen lines with the tree, so the shape is matched, not just
/// the id.)
fn tree_restarts(screen: &str, id: &str) -> Option<u64> {
    let needle = format!(" {id} ");
    screen.lines().find_map(|line| {
        line.match_indices(&needle).find_map(|(at, _)| {
            let tokens: Vec<&str> = line[at + needle.len()..].split_whitespace().collect();
            let pid_like = tokens.first()?.starts_with('<') || tokens.first() == Some(&"-");
            if !pid_like || tokens.get(2) != Some(&"restarts") {
                return None;
            }
            let n = tokens.get(3)?;
            n.trim_end_matches(|c: char| !c.is_ascii_digit())
                .parse()
                .ok()
        })
    })
}

/// The demo serving a live node, killed when dropped.
struct LiveDemo {
    child: Child,
    addr: String,
}

impl LiveDemo {
    fn start(path: &Path) -> Result<LiveDemo> {
        let mut child = Command::new(path)
            .args(["--serve", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start {}", path.display()))?;
        let stdout = child.stdout.take().context("demo stdout")?;
        let (tx, rx) = mpsc::channel();
        // Keep reading (and echoing) so the demo never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                println!("demo: {line}");
                if let Some(addr) = line
                    .split("http://")
                    .nth(1)
                    .filter(|_| line.contains("serving"))
                {
                    let addr = addr.split_whitespace().next().unwrap_or("").to_owned();
                    let _ = tx.send(addr);
                }
            }
        });
        let mut demo = LiveDemo {
            child,
            addr: String::new(),
        };
        demo.addr = rx
            .recv_timeout(SCREEN_LIMIT)
            .context("the demo did not say where it serves (`serving ... on http://ADDR`)")?;
        Ok(demo)
    }
}

impl Drop for LiveDemo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A detached tmux session running one command, killed when dropped.
struct Session {
    name: String,
}

impl Session {
    fn start(command: &str) -> Result<Session> {
        let name = format!("beamish-observe-{}", std::process::id());
        let status = Command::new("tmux")
            .args(["new-session", "-d", "-s", &name, "-x", "180", "-y", "50"])
            .arg(command)
            .status()
            .context("tmux new-session")?;
        if !status.success() {
            bail!("tmux new-session failed: {status}");
        }
        // Keep the pane after the program exits only if it failed, so we can show why.
        Ok(Session { name })
    }

    fn capture(&self) -> Result<String> {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.name])
            .output()
            .context("tmux capture-pane")?;
        if !out.status.success() {
            bail!(
                "tmux capture-pane failed (did the observer exit?): {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Polls the screen until `ready` holds, or fails with the last screen shown.
    fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> Result<String> {
        let started = Instant::now();
        let mut last = String::new();
        while started.elapsed() < SCREEN_LIMIT {
            last = self.capture()?;
            if ready(&last) {
                return Ok(last);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!(
            "waited {}s for {what}; the screen showed:\n{last}",
            SCREEN_LIMIT.as_secs()
        )
    }

    fn keys(&self, keys: &str) -> Result<()> {
        let status = Command::new("tmux")
            .args(["send-keys", "-t", &self.name, keys])
            .status()?;
        if !status.success() {
            bail!("tmux send-keys {keys} failed");
        }
        Ok(())
    }

    /// Waits until the program in the session has exited (the session closes with it).
    fn wait_gone(&self) -> Result<()> {
        let started = Instant::now();
        while started.elapsed() < SCREEN_LIMIT {
            let alive = Command::new("tmux")
                .args(["has-session", "-t", &self.name])
                .stderr(Stdio::null())
                .status()?
                .success();
            if !alive {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("the observer did not quit on `q`")
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.name])
            .stderr(Stdio::null())
            .status();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCREEN: &str = "\
┌ processes ───────────────┐┌ supervision tree ─────────────┐
│pid   name  behaviour     ││app <0.3.0> one_for_one (100 in 5s)
│<0.9.0> backlog process   ││  flaky <0.77.0> running restarts 12
│<0.8.0> ping  gen_server  ││  backlog <0.9.0> running restarts 0
";

    #[test]
    fn reads_the_screen() {
        assert!(first_process_row(SCREEN).unwrap().contains("backlog"));
        assert_eq!(tree_restarts(SCREEN, "flaky"), Some(12));
        assert_eq!(tree_restarts(SCREEN, "backlog"), Some(0));
        assert_eq!(tree_restarts(SCREEN, "absent"), None);
    }
}
