//! Running one (case, system) pair in its own OS process, under `/usr/bin/time -v` for the peak
//! resident set, with a timeout; and reading what it printed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// One `RESULT\t<system>\t<workload>\tkey=value...` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResultLine {
    pub(crate) system: String,
    pub(crate) workload: String,
    pub(crate) fields: BTreeMap<String, String>,
}

impl ResultLine {
    /// The last `RESULT` line in `stdout` (a run prints one; anything else is noise).
    pub(crate) fn find(stdout: &str) -> Option<Self> {
        stdout.lines().rev().find_map(Self::parse)
    }

    /// Parses one line; `None` unless it is a well-formed `RESULT` line.
    pub(crate) fn parse(line: &str) -> Option<Self> {
        let mut parts = line.trim_end_matches(['\r', '\n']).split('\t');
        if parts.next()? != "RESULT" {
            return None;
        }
        let system = parts.next().filter(|s| !s.is_empty())?.to_owned();
        let workload = parts.next().filter(|s| !s.is_empty())?.to_owned();
        let fields = parts
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Some(ResultLine {
            system,
            workload,
            fields,
        })
    }

    /// A numeric field.
    pub(crate) fn number(&self, key: &str) -> Option<f64> {
        self.fields
            .get(key)?
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
    }

    /// `Ok` when the workload verified its own result (`check=ok`), else why not.
    pub(crate) fn check(&self) -> Result<(), String> {
        match self.fields.get("check").map(String::as_str) {
            Some("ok") => Ok(()),
            Some(other) => Err(format!(
                "check={other}: {}",
                self.fields
                    .get("detail")
                    .map_or("(no detail)", String::as_str)
            )),
            None => Err("no check field in the result line".to_owned()),
        }
    }
}

/// Peak resident set size in KiB from `/usr/bin/time -v` output.
pub(crate) fn parse_peak_rss_kb(time_output: &str) -> Option<u64> {
    time_output.lines().find_map(|l| {
        l.trim()
            .strip_prefix("Maximum resident set size (kbytes):")
            .and_then(|v| v.trim().parse().ok())
    })
}

/// How one run ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Status {
    /// A result line with `check=ok` and the metric present.
    Ok,
    /// The workload ran but its own check failed, or the line lacked what we need.
    CheckFailed(String),
    /// No usable result: a crash, a non-zero exit without a line, or the timeout.
    Crashed(String),
}

impl Status {
    /// A word for JSON and progress lines.
    pub(crate) fn word(&self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::CheckFailed(_) => "check_failed",
            Status::Crashed(_) => "crashed",
        }
    }

    /// The reason, when not ok.
    pub(crate) fn detail(&self) -> Option<&str> {
        match self {
            Status::Ok => None,
            Status::CheckFailed(d) | Status::Crashed(d) => Some(d),
        }
    }
}

/// What one process produced.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub(crate) status: Status,
    pub(crate) result: Option<ResultLine>,
    pub(crate) peak_rss_kb: Option<u64>,
    pub(crate) wall: Duration,
}

/// Judges a finished process: its exit, its output, and whether `metric` is in its line.
pub(crate) fn judge(
    exit: Exit,
    stdout: &str,
    stderr: &str,
    metric: &str,
) -> (Status, Option<ResultLine>) {
    let result = ResultLine::find(stdout);
    let tail = || {
        let lines: Vec<&str> = stderr.lines().rev().take(3).collect();
        let tail = lines.into_iter().rev().collect::<Vec<_>>().join(" | ");
        if tail.is_empty() {
            String::new()
        } else {
            format!("; stderr: {tail}")
        }
    };
    let status = match (&exit, &result) {
        (Exit::TimedOut(t), _) => Status::Crashed(format!("timed out after {}s", t.as_secs())),
        (_, Some(r)) => match r.check() {
            Err(why) => Status::CheckFailed(why),
            Ok(()) if r.number(metric).is_none() => {
                Status::CheckFailed(format!("no numeric `{metric}` in the result line"))
            }
            Ok(()) if !matches!(exit, Exit::Code(0)) => {
                Status::CheckFailed(format!("check=ok but the process {}", exit.describe()))
            }
            Ok(()) => Status::Ok,
        },
        (_, None) => Status::Crashed(format!(
            "no RESULT line; the process {}{}",
            exit.describe(),
            tail()
        )),
    };
    (status, result)
}

/// How a process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Exit {
    Code(i32),
    Signal,
    TimedOut(Duration),
}

impl Exit {
    fn describe(&self) -> String {
        match self {
            Exit::Code(c) => format!("exited with status {c}"),
            Exit::Signal => "was killed by a signal".to_owned(),
            Exit::TimedOut(t) => format!("timed out after {}s", t.as_secs()),
        }
    }
}

/// Runs `program args` with `timeout`, under `/usr/bin/time -v` when `time_v` is given (the file
/// it writes to). The process gets its own process group so that a timeout kills the whole tree
/// (time, the bench binary, and for the BEAM its helper processes).
pub(crate) fn run_one(
    program: &Path,
    args: &[String],
    time_v: Option<&Path>,
    timeout: Duration,
    metric: &str,
) -> Result<Outcome> {
    use std::os::unix::process::CommandExt;

    let mut cmd = match time_v {
        Some(out) => {
            let mut c = Command::new(TIME);
            c.arg("-v").arg("-o").arg(out).arg(program);
            c
        }
        None => Command::new(program),
    };
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let start = Instant::now();
    let child = cmd
        .spawn()
        .with_context(|| format!("starting {}", program.display()))?;
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let (exit, stdout, stderr) = match rx.recv_timeout(timeout) {
        Ok(output) => {
            let output = output.context("waiting for the bench process")?;
            let exit = output.status.code().map_or(Exit::Signal, Exit::Code);
            (exit, output.stdout, output.stderr)
        }
        Err(_) => {
            kill_group(pid);
            // Collect what it printed so far; the group is dead, so this returns promptly.
            let output = rx
                .recv_timeout(Duration::from_secs(10))
                .ok()
                .and_then(|o| o.ok());
            let (out, err) = output.map_or((Vec::new(), Vec::new()), |o| (o.stdout, o.stderr));
            (Exit::TimedOut(timeout), out, err)
        }
    };
    let wall = start.elapsed();
    let stdout = String::from_utf8_lossy(&stdout);
    let stderr = String::from_utf8_lossy(&stderr);
    let (status, result) = judge(exit, &stdout, &stderr, metric);
    let peak_rss_kb = time_v
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|s| parse_peak_rss_kb(&s));
    Ok(Outcome {
        status,
        result,
        peak_rss_kb,
        wall,
    })
}

/// GNU time, which reports the peak resident set of the process it runs.
pub(crate) const TIME: &str = "/usr/bin/time";

/// Kills the process group `pgid` (std has no killpg, and xtask stays free of libc).
fn kill_group(pgid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stderr(Stdio::null())
        .status();
}

/// Looks `program` up on `PATH`.
pub(crate) fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_result_line() {
        let r =
            ResultLine::parse("RESULT\ttokio\tring\tnodes=10\thops=100\tmsgs_per_s=123\tcheck=ok")
                .expect("parses");
        assert_eq!(r.system, "tokio");
        assert_eq!(r.workload, "ring");
        assert_eq!(r.number("msgs_per_s"), Some(123.0));
        assert_eq!(r.number("nodes"), Some(10.0));
        assert_eq!(r.check(), Ok(()));
    }

    #[test]
    fn rejects_other_lines() {
        assert_eq!(ResultLine::parse("hello"), None);
        assert_eq!(ResultLine::parse("RESULT\t\tspawn"), None);
        assert_eq!(ResultLine::parse("RESULT\ttokio"), None);
    }

    #[test]
    fn finds_the_last_result_line_among_noise() {
        let out = "warming up\nRESULT\tbeam\tskynet\tms=1\tcheck=ok\n=ERROR REPORT==== whatever\n";
        let r = ResultLine::find(out).expect("found");
        assert_eq!((r.system.as_str(), r.number("ms")), ("beam", Some(1.0)));
    }

    #[test]
    fn failed_check_carries_the_detail() {
        let r = ResultLine::parse("RESULT\tkameo\tskynet\tms=5\tcheck=FAILED\tdetail=sum 1 != 2")
            .unwrap();
        assert_eq!(r.check(), Err("check=FAILED: sum 1 != 2".to_owned()));
        let r = ResultLine::parse("RESULT\tkameo\tskynet\tms=5").unwrap();
        assert!(r.check().is_err());
    }

    #[test]
    fn judges_runs() {
        let ok = "RESULT\ttokio\tskynet\tms=5.0\tcheck=ok\n";
        assert_eq!(judge(Exit::Code(0), ok, "", "ms").0, Status::Ok);
        // The metric must be there and numeric.
        assert!(matches!(
            judge(Exit::Code(0), ok, "", "calls_per_s").0,
            Status::CheckFailed(_)
        ));
        let failed = "RESULT\ttokio\tskynet\tms=5.0\tcheck=FAILED\tdetail=x\n";
        assert!(matches!(
            judge(Exit::Code(1), failed, "", "ms").0,
            Status::CheckFailed(_)
        ));
        let (status, _) = judge(Exit::Code(101), "", "thread 'main' panicked\nboom", "ms");
        assert_eq!(
            status,
            Status::Crashed(
                "no RESULT line; the process exited with status 101; stderr: thread 'main' panicked | boom"
                    .to_owned()
            )
        );
        let t = Exit::TimedOut(Duration::from_secs(3));
        assert_eq!(
            judge(t, ok, "", "ms").0,
            Status::Crashed("timed out after 3s".to_owned())
        );
    }

    #[test]
    fn reads_peak_rss_from_time_v() {
        let out = "\tCommand being timed: \"x\"\n\tMaximum resident set size (kbytes): 114768\n\tExit status: 0\n";
        assert_eq!(parse_peak_rss_kb(out), Some(114_768));
        assert_eq!(parse_peak_rss_kb("nothing"), None);
    }
}
