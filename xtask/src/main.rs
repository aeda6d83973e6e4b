//! Project automation for beamish, run as `cargo xtask <command>` (an alias in
//! `.cargo/config.toml`).
//!
//! xtask is plain Rust so that CI and developers run the very same steps with nothing to install
//! but the toolchain; CI scripts only call these commands. See `usage` below for the commands.

mod bench;
mod ci;
mod cmd;
mod demo;
mod deps;
mod metadata;
mod observe;
mod observe_check;
mod rules;

use std::process::ExitCode;

/// What `cargo xtask help` prints.
const USAGE: &str = "\
usage: cargo xtask <command> [args]

commands:
  ci [--full]     fmt, clippy, tests, doc tests, docs and dependency rules, as CI runs them;
                  --full adds the loom models of beamish-mailbox
  demo [args]     run the demo example in release mode (args go to the demo)
  bench [...]     run the benchmark suite against the peers (table and chart in target/bench/)
  observe [...]   live terminal view of a running node (start one: cargo xtask demo -- --serve)
  observe-check   drive the observer under tmux against the demo's live node (a ci step)
  help            this text";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let result = match command.as_str() {
        "ci" => ci::run(rest),
        "demo" => demo::run(rest),
        "bench" => bench::run(rest),
        "observe" => observe::run(rest),
        "observe-check" => observe_check::run(),
        "help" | "-h" | "--help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => {
            eprintln!("error: unknown command `{other}`\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("\nerror: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}
