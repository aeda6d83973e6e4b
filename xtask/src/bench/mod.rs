//! `cargo xtask bench`: the same workloads on beamish, its peers (ractor, kameo, actix), raw
//! tokio and the BEAM, each run in its own OS process, systems interleaved within each round
//! (each round starting one system further on);
//! then medians, spreads and ratios in the terminal and under `target/bench/` (Markdown, JSON
//! and an SVG chart), and with `--readme` in the README's bench section.
//!
//! The workloads themselves live in `bench/` (its own cargo workspace, so that CI never builds
//! the peers) and `bench/erl/`. Every run verifies its own result; a failed check fails the
//! whole command, after the tables are printed.

mod machine;
mod plan;
mod readme;
mod report;
mod runner;
mod stats;
mod svg;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};

use plan::Case;
use report::{Report, RunContext, RunRecord};
use runner::Status;

const USAGE: &str = "\
usage: cargo xtask bench [--quick] [--only WORKLOAD[,...]] [--systems SYSTEM[,...]]
                         [--rounds N] [--timeout SECS] [--readme]

  --quick      smaller sizes and 3 rounds (about two minutes)
  --only       workloads: spawn, pingpong, ring, skynet, call, fanout, suprestart, suploop,
               observe, pubsub, registry, emit, outcall, maincall, fairness, timers, chat (suprestart,
               suploop: beamish and BEAM only; pubsub: beamish, BEAM and ractor; registry,
               observe, emit (telemetry with no handler): beamish only; outcall (calls from
               tokio tasks): all but the BEAM; maincall (from the block_on body): beamish and
               tokio; fairness (a 1 ms ticker beside CPU hogs) and timers: beamish, BEAM and
               tokio; chat (a TCP chat server loaded from another process): beamish,
               beamish-tokio, beamish-st, BEAM, tokio, tokio-st)
  --systems    beamish, beamish-tokio (beamish on Executor::Tokio, chat only), beamish-st (on
               one scheduler thread), beam, ractor, kameo, actix, tokio, tokio-st (default: all
               available)
  --rounds     rounds of interleaved runs (default 5, --quick 3)
  --timeout    seconds before one run is killed (default 300, --quick 120)
  --readme     also rewrite the section of README.md between <!-- bench:begin --> and
               <!-- bench:end --> with the summary table";

/// What the command line asked for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Options {
    quick: bool,
    only: Option<Vec<String>>,
    systems: Option<Vec<String>>,
    rounds: Option<usize>,
    timeout: Option<u64>,
    readme: bool,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options> {
        let mut o = Options::default();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            // Both `--flag value` and `--flag=value`.
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
                _ => (arg.as_str(), None),
            };
            let mut value = |name: &str| {
                inline
                    .clone()
                    .or_else(|| it.next().cloned())
                    .with_context(|| format!("{name} needs a value\n\n{USAGE}"))
            };
            match flag {
                "--quick" => o.quick = true,
                "--readme" => o.readme = true,
                "--only" => o.only = Some(list(&value("--only")?, plan::WORKLOADS, "workload")?),
                "--systems" => {
                    o.systems = Some(list(&value("--systems")?, plan::SYSTEM_ORDER, "system")?);
                }
                "--rounds" => {
                    let n: usize = value("--rounds")?
                        .parse()
                        .context("--rounds takes a number")?;
                    ensure!(n > 0, "--rounds must be at least 1");
                    o.rounds = Some(n);
                }
                "--timeout" => {
                    let s: u64 = value("--timeout")?
                        .parse()
                        .context("--timeout takes seconds")?;
                    ensure!(s > 0, "--timeout must be at least 1 second");
                    o.timeout = Some(s);
                }
                "-h" | "--help" => bail!("{USAGE}"),
                other => bail!("unknown argument `{other}`\n\n{USAGE}"),
            }
        }
        Ok(o)
    }

    fn rounds(&self) -> usize {
        self.rounds.unwrap_or(if self.quick { 3 } else { 5 })
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout.unwrap_or(if self.quick { 120 } else { 300 }))
    }

    fn cases(&self) -> Vec<Case> {
        let all = if self.quick {
            plan::quick_cases()
        } else {
            plan::full_cases()
        };
        all.into_iter()
            .filter(|c| {
                self.only
                    .as_ref()
                    .is_none_or(|o| o.iter().any(|w| w == c.workload))
            })
            .collect()
    }
}

/// A comma-separated list whose items must all be `known`.
fn list(value: &str, known: &[&str], what: &str) -> Result<Vec<String>> {
    let items: Vec<String> = value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    ensure!(!items.is_empty(), "empty {what} list");
    for i in &items {
        ensure!(
            known.contains(&i.as_str()),
            "unknown {what} `{i}` (known: {})",
            known.join(", ")
        );
    }
    Ok(items)
}

/// The workspace root: the parent of this crate's manifest directory, taken at compile time so
/// that `cargo xtask bench` works from any subdirectory.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// The BEAM side: ready to run, or why not.
enum Beam {
    Ready {
        erl: PathBuf,
        ebin: PathBuf,
        version: String,
    },
    NotInstalled,
}

/// Entry point of `cargo xtask bench`.
pub(crate) fn run(args: &[String]) -> Result<()> {
    let opts = Options::parse(args)?;
    let root = workspace_root();
    let out_dir = root.join("target").join("bench");
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let readme_path = root.join("README.md");
    if opts.readme {
        // Fail before minutes of measuring, not after.
        let text = std::fs::read_to_string(&readme_path)
            .with_context(|| format!("reading {}", readme_path.display()))?;
        readme::replace_section(&text, "")?;
    }

    let bin = build_bench(&root)?;
    let built_in = systems_of(&bin)?;
    let wants_beam = opts
        .systems
        .as_ref()
        .is_none_or(|s| s.iter().any(|x| x == "beam"));
    let beam = if wants_beam {
        prepare_beam(&root, &out_dir)?
    } else {
        Beam::NotInstalled
    };

    let mut systems = Vec::new();
    let mut not_installed = Vec::new();
    for &s in plan::SYSTEM_ORDER {
        let asked = opts
            .systems
            .as_ref()
            .is_none_or(|list| list.iter().any(|x| x == s));
        if !asked {
            continue;
        }
        if s == "beam" {
            if matches!(beam, Beam::NotInstalled) {
                not_installed.push(s.to_owned());
            }
            systems.push(s.to_owned());
        } else if built_in.iter().any(|b| b == s) {
            systems.push(s.to_owned());
        } else if opts.systems.is_some() {
            bail!(
                "system `{s}` is not built into bench/ (it has: {})",
                built_in.join(", ")
            );
        }
    }
    let cases = opts.cases();
    ensure!(!cases.is_empty(), "no workload selected");

    let time_v = Path::new(runner::TIME)
        .is_file()
        .then(|| out_dir.join("time-v.txt"));
    if time_v.is_none() {
        eprintln!(
            "note: {} not found (apt-get install time); peak RSS will be blank",
            runner::TIME
        );
    }
    let runnable: Vec<&String> = systems
        .iter()
        .filter(|s| !not_installed.contains(s))
        .collect();
    let rounds = opts.rounds();
    eprintln!(
        "bench: {} case(s) x {} system(s) x {rounds} round(s), systems interleaved",
        cases.len(),
        runnable.len()
    );

    let mut runs = Vec::new();
    for round in 1..=rounds {
        for (ci, case) in cases.iter().enumerate() {
            let metric = plan::metrics(case.workload)[0];
            // Each round starts one system further on, so that no system always runs in
            // the same place: a run is measurably faster or slower depending on what ran
            // just before it (about 8% for spawn in alternating A/B pairs on this machine).
            let shift = (round - 1) % runnable.len().max(1);
            for system in runnable.iter().cycle().skip(shift).take(runnable.len()) {
                if !plan::implements(case.workload, system) {
                    // Not a failure: the table shows "-" for it.
                    continue;
                }
                let (program, args) = command_for(system, case, &bin, &beam);
                if let Some(t) = &time_v {
                    let _ = std::fs::remove_file(t);
                }
                let outcome = runner::run_one(
                    &program,
                    &args,
                    time_v.as_deref(),
                    opts.timeout(),
                    metric.key,
                )?;
                let figure = outcome
                    .result
                    .as_ref()
                    .and_then(|r| r.number(metric.key))
                    .map_or_else(|| "-".to_owned(), report::number);
                eprintln!(
                    "[{round}/{rounds}] {:<22} {:<9} {:>12} {:<14} {}",
                    case.label(),
                    plan::display_name(system),
                    figure,
                    metric.unit,
                    match &outcome.status {
                        Status::Ok => "ok".to_owned(),
                        other => format!("{}: {}", other.word(), other.detail().unwrap_or("")),
                    }
                );
                runs.push(RunRecord {
                    round,
                    case: ci,
                    system: (*system).clone(),
                    outcome,
                });
            }
        }
    }

    let mut versions = Vec::new();
    if let Beam::Ready { version, .. } = &beam {
        versions.push(("BEAM".to_owned(), version.clone()));
    }
    versions.extend(peer_versions(&root.join("bench").join("Cargo.lock")));
    let command = format!("cargo xtask bench {}", args.join(" "))
        .trim_end()
        .to_owned();
    let report = Report {
        cases,
        systems,
        not_installed,
        rounds,
        runs,
        context: RunContext {
            date: machine::today(),
            command: command.clone(),
            machine: machine::describe(),
            versions,
        },
    };

    print!("{}", report.terminal());
    let write = |name: &str, text: String| -> Result<()> {
        let p = out_dir.join(name);
        std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))
    };
    write("results.md", report.markdown())?;
    write(
        "results.json",
        serde_json::to_string_pretty(&report.json())? + "\n",
    )?;
    write("results.svg", svg::chart(&report))?;
    println!(
        "\nwrote {0}/results.md, results.json, results.svg",
        out_dir.display()
    );

    let failures = report.failures();
    if opts.readme {
        if failures.is_empty() {
            let c = &report.context;
            let body = readme::section(
                &report.markdown_summary(),
                &report.legend(),
                &c.machine,
                &c.date,
                &c.command,
            );
            let text = std::fs::read_to_string(&readme_path)?;
            std::fs::write(&readme_path, readme::replace_section(&text, &body)?)?;
            println!("updated the bench section of {}", readme_path.display());
        } else {
            eprintln!("README.md left as it was: some runs failed");
        }
    }
    ensure!(
        failures.is_empty(),
        "{} run(s) failed their check or crashed (listed above)",
        failures.len()
    );
    Ok(())
}

/// Builds `bench/` in release mode and returns the path of its binary, as cargo reports it.
fn build_bench(root: &Path) -> Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = root.join("bench").join("Cargo.toml");
    eprintln!("bench: cargo build --release --manifest-path bench/Cargo.toml");
    // JSON messages on stdout name the binary wherever the target directory is configured;
    // diagnostics still render on stderr as usual.
    let out = Command::new(cargo)
        .current_dir(root)
        .args([
            "build",
            "--release",
            "--message-format=json-render-diagnostics",
            "--manifest-path",
        ])
        .arg(&manifest)
        .stderr(Stdio::inherit())
        .output()
        .context("running cargo build for bench/")?;
    ensure!(out.status.success(), "building bench/ failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "beamish-bench")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .context("cargo did not report the beamish-bench executable")
}

/// The systems built into the bench binary (`beamish-bench systems`).
fn systems_of(bin: &Path) -> Result<Vec<String>> {
    let out = Command::new(bin)
        .arg("systems")
        .output()
        .with_context(|| format!("running {}", bin.display()))?;
    ensure!(out.status.success(), "`beamish-bench systems` failed");
    Ok(String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect())
}

/// Compiles the Erlang side when `erl` and `erlc` are on PATH.
fn prepare_beam(root: &Path, out_dir: &Path) -> Result<Beam> {
    let (Some(erl), Some(erlc)) = (runner::on_path("erl"), runner::on_path("erlc")) else {
        eprintln!("BEAM: not installed (apt-get install erlang-nox)");
        return Ok(Beam::NotInstalled);
    };
    let ebin = out_dir.join("erl");
    std::fs::create_dir_all(&ebin)?;
    let sources: Vec<PathBuf> = std::fs::read_dir(root.join("bench").join("erl"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "erl"))
        .collect();
    ensure!(!sources.is_empty(), "no .erl files in bench/erl");
    let status = Command::new(&erlc)
        .arg("-o")
        .arg(&ebin)
        .args(&sources)
        .status()
        .context("running erlc")?;
    ensure!(status.success(), "erlc failed on bench/erl");
    let version = Command::new(&erl)
        .args([
            "-noshell",
            "-eval",
            "io:put_chars(erlang:system_info(otp_release)), halt().",
        ])
        .output()
        .ok()
        .map(|o| format!("Erlang/OTP {}", String::from_utf8_lossy(&o.stdout).trim()))
        .unwrap_or_else(|| "Erlang/OTP (unknown)".to_owned());
    Ok(Beam::Ready { erl, ebin, version })
}

/// The program and arguments that run `case` on `system`.
fn command_for(system: &str, case: &Case, bin: &Path, beam: &Beam) -> (PathBuf, Vec<String>) {
    match (system, beam) {
        ("beam", Beam::Ready { erl, ebin, .. }) => {
            let mut args = vec!["-noshell".to_owned()];
            if case.needs_big_process_table() {
                args.extend(["+P".to_owned(), "5000000".to_owned()]);
            }
            args.extend(["-pa".to_owned(), ebin.display().to_string()]);
            args.extend(["-run", "beamish_bench", "main", case.workload].map(str::to_owned));
            args.extend(case.arg_strings());
            if case.workload == "chat" {
                // The BEAM's chat server runs the Rust loader (`beamish-bench chatload`).
                args.push(bin.display().to_string());
            }
            (erl.clone(), args)
        }
        _ => {
            let mut args = vec![system.to_owned(), case.workload.to_owned()];
            args.extend(case.arg_strings());
            (bin.to_path_buf(), args)
        }
    }
}

/// Resolved versions of the peers from `bench/Cargo.lock`.
fn peer_versions(lock: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(lock).unwrap_or_default();
    ["ractor", "kameo", "actix", "tokio"]
        .iter()
        .filter_map(|name| lock_version(&text, name).map(|v| ((*name).to_owned(), v)))
        .collect()
}

/// The version of package `name` in a Cargo.lock text.
fn lock_version(lock: &str, name: &str) -> Option<String> {
    let mut lines = lock.lines();
    while let Some(l) = lines.next() {
        if l.trim() == format!("name = \"{name}\"") {
            let v = lines
                .next()?
                .trim()
                .strip_prefix("version = \"")?
                .strip_suffix('"')?;
            return Some(v.to_owned());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn parses_options() {
        let o = Options::parse(&args(
            "--quick --only spawn,call --systems=tokio,beam --rounds 2 --readme",
        ))
        .unwrap();
        assert!(o.quick && o.readme);
        assert_eq!(o.only, Some(vec!["spawn".to_owned(), "call".to_owned()]));
        assert_eq!(o.systems, Some(vec!["tokio".to_owned(), "beam".to_owned()]));
        assert_eq!(o.rounds(), 2);
        assert_eq!(
            o.cases().iter().map(|c| c.workload).collect::<Vec<_>>(),
            ["spawn", "call", "call"]
        );
        assert_eq!(Options::parse(&[]).unwrap().rounds(), 5);
        assert_eq!(Options::parse(&args("--quick")).unwrap().rounds(), 3);
    }

    #[test]
    fn rejects_bad_options() {
        assert!(Options::parse(&args("--only nope")).is_err());
        assert!(Options::parse(&args("--systems tokio,erlang")).is_err());
        assert!(Options::parse(&args("--rounds 0")).is_err());
        assert!(Options::parse(&args("--rounds")).is_err());
        assert!(Options::parse(&args("--fast")).is_err());
    }

    #[test]
    fn beam_command_line() {
        let beam = Beam::Ready {
            erl: "/usr/bin/erl".into(),
            ebin: "/r/target/bench/erl".into(),
            version: String::new(),
        };
        let spawn_1m = Case {
            workload: "spawn",
            args: vec![1_000_000],
        };
        let (p, a) = command_for("beam", &spawn_1m, Path::new("/b"), &beam);
        assert_eq!(p, PathBuf::from("/usr/bin/erl"));
        assert_eq!(
            a.join(" "),
            "-noshell +P 5000000 -pa /r/target/bench/erl -run beamish_bench main spawn 1000000"
        );
        let chat = Case {
            workload: "chat",
            args: vec![100, 10, 5, 200],
        };
        let (_, a) = command_for("beam", &chat, Path::new("/b"), &beam);
        assert_eq!(
            a.join(" "),
            "-noshell -pa /r/target/bench/erl -run beamish_bench main chat 100 10 5 200 /b"
        );
        let (p, a) = command_for("tokio-st", &spawn_1m, Path::new("/b"), &beam);
        assert_eq!(
            (p, a.join(" ")),
            (PathBuf::from("/b"), "tokio-st spawn 1000000".to_owned())
        );
    }

    #[test]
    fn reads_lock_versions() {
        let lock = "[[package]]\nname = \"tokio\"\nversion = \"1.54.1\"\n\n[[package]]\nname = \"tokio-macros\"\nversion = \"2.6.0\"\n";
        assert_eq!(lock_version(lock, "tokio").as_deref(), Some("1.54.1"));
        assert_eq!(lock_version(lock, "kameo"), None);
    }
}
