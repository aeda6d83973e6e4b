//! `cargo xtask ci [--full]`: every check CI runs, in order, stopping at the first failure.
//!
//! Cheap checks come first (fmt, then clippy) so a typo fails in seconds, not after a full test
//! build. Each step prints the exact command it runs, so a failure can be reproduced by pasting.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::{cmd, deps, observe_check};

/// Runs the CI pipeline; `args` are what follows `ci` on the command line.
pub(crate) fn run(args: &[String]) -> Result<()> {
    let mut full = false;
    for arg in args {
        match arg.as_str() {
            "--full" => full = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => bail!("unknown argument `{other}` for `cargo xtask ci`\n\n{USAGE}"),
        }
    }
    let steps = steps(full);
    let total = steps.len();
    let mut report = Vec::with_capacity(total);
    let started = Instant::now();
    for (i, step) in steps.into_iter().enumerate() {
        eprintln!("\n==> [{}/{total}] {}: {}", i + 1, step.name, step.shown);
        let t = Instant::now();
        let result = (step.run)();
        report.push((step.name, t.elapsed(), result.is_ok()));
        if let Err(err) = result {
            print_summary(&report, started.elapsed());
            return Err(err)
                .with_context(|| format!("ci step `{}` failed: {}", step.name, step.shown));
        }
    }
    print_summary(&report, started.elapsed());
    Ok(())
}

/// Usage of the `ci` subcommand.
const USAGE: &str = "\
usage: cargo xtask ci [--full]

Runs, in order, stopping at the first failure: cargo fmt --check, clippy -D warnings, tests
(nextest if installed, else cargo test), doc tests, cargo doc -D warnings (all features, then
the default ones), the benchmark harness's clippy and unit tests (bench/), dependency rules,
the terminal observer under tmux against the demo's live node.
  --full   also run the loom models of beamish-mailbox (mailbox/tests/loom.rs, release mode)";

/// One CI step: a name for the summary, the command as shown to the user, and the work.
struct Step {
    name: &'static str,
    shown: String,
    run: Box<dyn FnOnce() -> Result<()>>,
}

impl Step {
    /// A step that runs one command.
    fn command(name: &'static str, command: Command) -> Self {
        Step {
            name,
            shown: cmd::display(&command),
            run: Box::new(move || cmd::run_quiet(command)),
        }
    }
}

/// The steps of a CI run, in order.
fn steps(full: bool) -> Vec<Step> {
    // Every crate's optional features are built and tested too (they only add), so that
    // feature-gated code such as the supervisor's signal handling cannot rot.
    let mut steps = vec![
        Step::command("fmt", cmd::cargo(["fmt", "--all", "--", "--check"])),
        Step {
            name: "rules",
            shown: "every R-... id cited in a .rs or .md file, against docs/otp-rules.md".into(),
            run: Box::new(crate::rules::check_workspace),
        },
        Step::command(
            "clippy",
            cmd::cargo([
                "clippy",
                "--workspace",
                "--all-targets",
                "--all-features",
                "--",
                "-D",
                "warnings",
            ]),
        ),
    ];

    // nextest runs test binaries in parallel and reports better, but CI has only the plain
    // toolchain, so cargo test is the fallback. Neither runs doc tests, hence the next step.
    if cmd::succeeds(cmd::cargo(["nextest", "--version"])) {
        steps.push(Step::command(
            "tests",
            cmd::cargo(["nextest", "run", "--workspace", "--all-features"]),
        ));
    } else {
        steps.push(Step::command(
            "tests",
            cmd::cargo(["test", "--workspace", "--all-targets", "--all-features"]),
        ));
    }
    steps.push(Step::command(
        "doctests",
        cmd::cargo(["test", "--workspace", "--doc", "--all-features"]),
    ));

    // The docs are built both ways: a doc link to an item behind a feature breaks only in the
    // build without it, which is the one a user of the default features reads.
    let rustdocflags = std::env::var_os("RUSTDOCFLAGS");
    for (name, features) in [("docs", Some("--all-features")), ("docs-default", None)] {
        let mut doc = cmd::cargo(["doc", "--workspace", "--no-deps"]);
        doc.args(features);
        doc.env(
            "RUSTDOCFLAGS",
            cmd::append_flags(rustdocflags.as_deref(), "-D warnings"),
        );
        steps.push(Step::command(name, doc));
    }

    // The benchmark harness is a workspace of its own (it pulls in the peers); CI builds it,
    // lints it and runs its unit tests, so that `cargo xtask bench` cannot rot unseen.
    steps.push(Step::command(
        "bench",
        cmd::cargo([
            "clippy",
            "--manifest-path",
            "bench/Cargo.toml",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    ));
    steps.push(Step::command(
        "bench-tests",
        cmd::cargo(["test", "--manifest-path", "bench/Cargo.toml"]),
    ));

    steps.push(Step {
        name: "deps",
        shown: "cargo metadata --format-version 1, then the rules in xtask/src/deps.rs".into(),
        run: Box::new(deps::check_workspace),
    });

    steps.push(observer_step());

    if full {
        steps.push(loom_step());
    }
    steps
}

/// The terminal observer driven under tmux against the demo's live node (see
/// `observe_check.rs`). Without tmux the step fails in CI and is skipped, loudly, elsewhere.
fn observer_step() -> Step {
    Step {
        name: "observer",
        shown: "demo --serve, then `xtask observe` under tmux, read with capture-pane".into(),
        run: Box::new(|| {
            if !observe_check::tmux_available() && !cmd::in_ci() {
                eprintln!(
                    "SKIPPED: the observer check needs tmux, which is not installed here \
                     (Debian: apt-get install -y tmux). CI installs it and runs this step."
                );
                return Ok(());
            }
            observe_check::run()
        }),
    }
}

/// The loom models of the mailbox, built with `--cfg loom` in their own target directory.
///
/// `--cfg loom` changes every crate's flags, so sharing `target/` would throw away the normal
/// build each time; `target/loom` keeps both warm. Release mode because loom explores many
/// interleavings and a debug build is an order of magnitude slower.
fn loom_step() -> Step {
    let root = cmd::workspace_root();
    let target_dir = cmd::target_dir().join("loom");
    let mut loom = cmd::cargo([
        "test",
        "--release",
        "-p",
        "beamish-mailbox",
        "--test",
        "loom",
    ]);
    let rustflags = std::env::var_os("RUSTFLAGS");
    loom.env(
        "RUSTFLAGS",
        cmd::append_flags(rustflags.as_deref(), "--cfg loom"),
    )
    .env("CARGO_TARGET_DIR", &target_dir);
    let shown = cmd::display(&loom);
    Step {
        name: "loom",
        shown,
        run: Box::new(move || {
            let models = root.join("mailbox").join("tests").join("loom.rs");
            // Passing with nothing to run would claim a check that did not happen.
            if !models.is_file() {
                bail!(
                    "`--full` runs the mailbox's loom models, but {} does not exist yet: \
                     write the models there (under `#![cfg(loom)]`) or run `cargo xtask ci` \
                     without `--full`",
                    models.display()
                );
            }
            cmd::run_quiet(loom)
        }),
    }
}

/// Prints each finished step with its duration and verdict, then the total.
fn print_summary(report: &[(&'static str, Duration, bool)], total: Duration) {
    let failed = report.iter().any(|(_, _, ok)| !ok);
    println!("\nci summary:");
    for (name, took, ok) in report {
        let verdict = if *ok { "ok" } else { "FAILED" };
        println!("  {name:<10} {:>7.1}s  {verdict}", took.as_secs_f64());
    }
    let verdict = if failed { "FAILED" } else { "ok" };
    println!("  {:<10} {:>7.1}s  {verdict}", "total", total.as_secs_f64());
}
