//! `cargo xtask demo [ARGS...]`: runs the facade's `demo` example in release mode.

use anyhow::Result;

use crate::cmd;

/// Runs `cargo run --release -p beamish --example demo -- ARGS...`.
///
/// Release mode because the demo shows throughput and latency; debug numbers would mislead.
pub(crate) fn run(args: &[String]) -> Result<()> {
    // `cargo xtask demo -- --flag` and `cargo xtask demo --flag` mean the same thing.
    let args = args.strip_prefix(&["--".to_owned()]).unwrap_or(args);
    let mut demo = cmd::cargo(["run", "--release", "-p", "beamish", "--example", "demo"]);
    if !args.is_empty() {
        demo.arg("--").args(args);
    }
    cmd::run(demo)
}
