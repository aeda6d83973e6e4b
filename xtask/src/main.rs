//! Project automation for beamish, run as `cargo xtask <command>`.
//!
//! Minimal entry point of the bench branch: only `bench` is here. The xtask branch has the full
//! `main.rs` (ci, demo); merging adds `mod bench;` and the `"bench"` arm to it.

mod bench;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.split_first() {
        Some((command, rest)) if command == "bench" => bench::run(rest),
        _ => {
            eprintln!(
                "usage: cargo xtask bench [--quick] [...]   (see `cargo xtask bench --help`)"
            );
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
