//! Building, showing and running the external commands that xtask drives.
//!
//! Every command runs from the workspace root with inherited stdio, so the user sees cargo's own
//! output as it happens; xtask only adds a header before and a verdict after.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// The workspace root: the parent of this crate's manifest directory.
///
/// Taken at compile time so that `cargo xtask` works from any subdirectory.
pub(crate) fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// Cargo's target directory (`CARGO_TARGET_DIR`, else `target/` at the root).
pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace_root().join("target"), Into::into)
}

/// True when running under CI (`CI=true`, as GitHub Actions and most CI systems set it).
pub(crate) fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A `cargo` command with `args`, run from the workspace root.
///
/// Uses the `CARGO` variable that cargo sets for `cargo run`, so the same toolchain that built
/// xtask does the work (a `rustup` override or `+nightly` is honoured). In CI, colour escapes are
/// turned off unless the caller chose otherwise, because CI logs show them as noise.
pub(crate) fn cargo<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(workspace_root());
    if in_ci() && std::env::var_os("CARGO_TERM_COLOR").is_none() {
        cmd.env("CARGO_TERM_COLOR", "never");
    }
    cmd
}

/// `existing` flags (for example the user's `RUSTFLAGS`) with `extra` appended.
///
/// Appending rather than replacing keeps whatever the user or CI already set.
pub(crate) fn append_flags(existing: Option<&OsStr>, extra: &str) -> String {
    match existing.map(|s| s.to_string_lossy()) {
        Some(s) if !s.trim().is_empty() => format!("{} {extra}", s.trim()),
        _ => extra.to_owned(),
    }
}

/// The command as a user would type it in a shell: the variables we set, then the program
/// (shown as `cargo`, whatever `$CARGO` points to) and its arguments.
pub(crate) fn display(cmd: &Command) -> String {
    let mut parts = Vec::new();
    for (key, value) in cmd.get_envs() {
        // CARGO_TERM_COLOR is cosmetic; leaving it out keeps the command copy-pasteable and short.
        if key == "CARGO_TERM_COLOR" {
            continue;
        }
        if let Some(value) = value {
            parts.push(format!(
                "{}={}",
                key.to_string_lossy(),
                quote(&value.to_string_lossy())
            ));
        }
    }
    let program = Path::new(cmd.get_program());
    let is_cargo = program.file_stem().is_some_and(|s| s == "cargo");
    parts.push(if is_cargo {
        "cargo".to_owned()
    } else {
        quote(&program.to_string_lossy())
    });
    parts.extend(cmd.get_args().map(|a| quote(&a.to_string_lossy())));
    parts.join(" ")
}

/// Single-quotes `word` for a POSIX shell if it holds anything a shell would split or expand.
fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Runs `cmd` with inherited stdio and fails, naming the exact command, unless it succeeds.
pub(crate) fn run(cmd: Command) -> Result<()> {
    let shown = display(&cmd);
    run_quiet(cmd).with_context(|| format!("`{shown}` failed"))
}

/// Like [`run`], but the error is only the exit status: for callers that name the command
/// themselves.
pub(crate) fn run_quiet(mut cmd: Command) -> Result<()> {
    let status = cmd.status().context("could not start it")?;
    if !status.success() {
        bail!("it ended with {status}");
    }
    Ok(())
}

/// Runs `cmd` and returns its standard output; stderr is inherited so cargo's errors show.
pub(crate) fn capture(mut cmd: Command) -> Result<String> {
    let shown = display(&cmd);
    let output = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("could not start `{shown}`"))?;
    if !output.status.success() {
        bail!("`{shown}` failed ({})", output.status);
    }
    String::from_utf8(output.stdout).with_context(|| format!("`{shown}` printed invalid UTF-8"))
}

/// True if `cmd` runs and exits successfully; all of its output is discarded.
///
/// Used to probe for optional tools such as `cargo nextest`.
pub(crate) fn succeeds(mut cmd: Command) -> bool {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_shows_env_then_cargo_then_quoted_args() {
        let mut cmd = Command::new("/home/u/.rustup/toolchains/stable/bin/cargo");
        cmd.args(["doc", "--workspace", "--no-deps"])
            .env("RUSTDOCFLAGS", "-D warnings")
            .env("CARGO_TERM_COLOR", "never");
        assert_eq!(
            display(&cmd),
            "RUSTDOCFLAGS='-D warnings' cargo doc --workspace --no-deps"
        );
    }

    #[test]
    fn quote_leaves_plain_words_and_escapes_the_rest() {
        assert_eq!(quote("--all-targets"), "--all-targets");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn append_flags_keeps_what_was_there() {
        assert_eq!(append_flags(None, "--cfg loom"), "--cfg loom");
        assert_eq!(
            append_flags(Some(OsStr::new("  ")), "-D warnings"),
            "-D warnings"
        );
        assert_eq!(
            append_flags(Some(OsStr::new("-C target-cpu=native")), "--cfg loom"),
            "-C target-cpu=native --cfg loom"
        );
    }
}
