//! The rule-id check that `cargo xtask ci` runs: every OTP rule id (`R-LNK-1`, `R-SUP-INT`, ...)
//! cited in a `.rs` or `.md` file of the repository must be defined in [`RULES_DOC`].
//!
//! Tests and docs name the OTP rule they follow (STYLE.md), and a reader who clones the
//! repository must be able to look each one up. An id cited but not defined there is a dangling
//! reference: a typo, or a rule nobody wrote down. The check reads files only (no cargo, no
//! network), so it runs in well under a second and sits right after `fmt`.
//!
//! An id is `R-`, one or more capital letters, `-`, then capitals and digits, not preceded by a
//! letter, digit or `_`. A line of [`RULES_DOC`] defines the id it starts with, once list
//! markers (`- `, `* `), heading marks (`#`) and bold (`**`) are taken off.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::cmd;

/// Where the rules are defined, relative to the workspace root.
pub(crate) const RULES_DOC: &str = "docs/otp-rules.md";

/// Checks the workspace; prints a one-line summary on success and lists every offender
/// (`path:line: id`) on failure.
pub(crate) fn check_workspace() -> Result<()> {
    let root = cmd::workspace_root();
    let doc_path = root.join(RULES_DOC);
    let doc = std::fs::read_to_string(&doc_path)
        .with_context(|| format!("reading {}", doc_path.display()))?;
    let defined = defined_ids(&doc);
    if !defined.duplicates.is_empty() {
        bail!(
            "{RULES_DOC} defines these ids more than once: {}",
            defined.duplicates.join(", ")
        );
    }

    let mut files = Vec::new();
    cited_files(&root, &mut files)?;
    files.sort();
    let doc_rel = Path::new(RULES_DOC);
    let mut cited = BTreeSet::new();
    let mut offenders = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&root).unwrap_or(file);
        if rel == doc_rel {
            continue;
        }
        let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        for citation in citations(&String::from_utf8_lossy(&bytes)) {
            if !defined.ids.contains(citation.id) {
                offenders.push(format!(
                    "{}:{}: {}",
                    rel.display(),
                    citation.line,
                    citation.id
                ));
            }
            cited.insert(citation.id.to_owned());
        }
    }
    if !offenders.is_empty() {
        let mut message = format!(
            "{} citation(s) of rule ids that {RULES_DOC} does not define:",
            offenders.len()
        );
        for o in &offenders {
            let _ = write!(message, "\n  {o}");
        }
        message.push_str(
            "\ndefine each in that file (an entry starting with the id in bold), or fix the id",
        );
        bail!(message);
    }
    println!(
        "rule ids: {} distinct ids cited in {} files, all defined in {RULES_DOC} ({} defined)",
        cited.len(),
        files.len(),
        defined.ids.len()
    );
    Ok(())
}

/// Collects the `.rs` and `.md` files under `dir`, skipping hidden directories (`.git`,
/// `.cargo`), every directory named `target` (the workspace's and `bench/`'s build output) and
/// symbolic links.
fn cited_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
        let kind = entry.file_type()?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let path = entry.path();
        if kind.is_dir() {
            if !name.starts_with('.') && name != "target" {
                cited_files(&path, out)?;
            }
        } else if kind.is_file() && (name.ends_with(".rs") || name.ends_with(".md")) {
            out.push(path);
        }
    }
    Ok(())
}

/// One rule id found in a text, with its 1-based line number.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Citation<'a> {
    /// The line the id is on, counting from 1.
    pub(crate) line: usize,
    /// The id, such as `R-SUP-INT`.
    pub(crate) id: &'a str,
}

/// Every rule id in `text`, in order.
pub(crate) fn citations(text: &str) -> Vec<Citation<'_>> {
    text.lines()
        .enumerate()
        .flat_map(|(i, line)| ids_in_line(line).map(move |(_, id)| Citation { line: i + 1, id }))
        .collect()
}

/// The rule ids in one line, each with its byte offset.
fn ids_in_line(line: &str) -> impl Iterator<Item = (usize, &str)> {
    let bytes = line.as_bytes();
    let mut from = 0;
    std::iter::from_fn(move || {
        while let Some(found) = line[from..].find("R-") {
            let start = from + found;
            from = start + 2;
            let joined = start > 0 && {
                let before = bytes[start - 1];
                before.is_ascii_alphanumeric() || before == b'_'
            };
            if joined {
                continue;
            }
            if let Some(len) = id_len(&bytes[start..]) {
                from = start + len;
                return Some((start, &line[start..start + len]));
            }
        }
        None
    })
}

/// The length of the rule id at the start of `s` (`R-`, capitals, `-`, capitals and digits),
/// if there is one.
fn id_len(s: &[u8]) -> Option<usize> {
    let area = s[2..].iter().take_while(|b| b.is_ascii_uppercase()).count();
    if area == 0 || s.get(2 + area) != Some(&b'-') {
        return None;
    }
    let rest = &s[3 + area..];
    let name = rest
        .iter()
        .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        .count();
    (name > 0).then_some(3 + area + name)
}

/// The ids that the rules document defines, and those it defines more than once.
#[derive(Debug, Default)]
pub(crate) struct Defined {
    /// Every defined id.
    pub(crate) ids: BTreeSet<String>,
    /// Ids with more than one entry, sorted.
    pub(crate) duplicates: Vec<String>,
}

/// The ids defined in `doc`: those that start a line once list markers, heading marks and bold
/// are taken off (`- **R-LNK-1** ...`, `### R-LNK-1 ...`, `**R-LNK-1**: ...`).
pub(crate) fn defined_ids(doc: &str) -> Defined {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for line in doc.lines() {
        let mut rest = line.trim_start();
        for marker in ["- ", "* "] {
            if let Some(r) = rest.strip_prefix(marker) {
                rest = r.trim_start();
            }
        }
        rest = rest.trim_start_matches('#').trim_start();
        rest = rest.trim_start_matches('*');
        if let Some((0, id)) = ids_in_line(rest).next() {
            *counts.entry(id).or_default() += 1;
        }
    }
    Defined {
        duplicates: counts
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(id, _)| (*id).to_owned())
            .collect(),
        ids: counts.into_keys().map(str::to_owned).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds an id at run time, so that ids this file's tests use as undefined are not
    /// themselves citations in the source that the check reads.
    fn id(area: &str, name: &str) -> String {
        format!("R-{area}-{name}")
    }

    fn ids(text: &str) -> Vec<(usize, String)> {
        citations(text)
            .into_iter()
            .map(|c| (c.line, c.id.to_owned()))
            .collect()
    }

    #[test]
    fn ids_are_found_with_their_line_in_order() {
        let text = format!(
            "/// {} and {}: links\n\nfn f() {{}} // ({}, `{}`)\n",
            id("LNK", "1"),
            id("EXIT", "2"),
            id("SUP", "INT"),
            id("MON", "4")
        );
        assert_eq!(
            ids(&text),
            [
                (1, id("LNK", "1")),
                (1, id("EXIT", "2")),
                (3, id("SUP", "INT")),
                (3, id("MON", "4")),
            ]
        );
    }

    #[test]
    fn an_id_ends_at_the_first_character_that_cannot_continue_it() {
        // A range, a plural, a sentence's full stop and a lower-case suffix.
        let text = format!(
            "{}..3, {}s, {}. {}x",
            id("GS", "1"),
            id("SUP", "RT"),
            id("PROC", "1"),
            id("ORD", "4")
        );
        assert_eq!(
            ids(&text),
            [
                (1, id("GS", "1")),
                (1, id("SUP", "RT")),
                (1, id("PROC", "1")),
                (1, id("ORD", "4")),
            ]
        );
    }

    #[test]
    fn things_that_only_look_like_ids_are_not_ids() {
        // Glued to a word, no area, no name, lower case, a wildcard, an ellipsis.
        let text = format!(
            "X{} _{} R--1 R-SUP- R-sup-int R-Sup-INT R-SUP-* R-… 9{}",
            id("LNK", "1"),
            id("LNK", "2"),
            id("MON", "1")
        );
        assert_eq!(ids(&text), []);
    }

    #[test]
    fn an_id_after_a_false_start_on_the_same_line_is_found() {
        let text = format!("XR-A R- {}", id("TASK", "3"));
        assert_eq!(ids(&text), [(1, id("TASK", "3"))]);
    }

    #[test]
    fn lines_count_from_one_and_survive_crlf() {
        let text = format!("a\r\nb\r\n{}\r\n", id("REG", "2"));
        assert_eq!(ids(&text), [(3, id("REG", "2"))]);
    }

    #[test]
    fn an_entry_starting_with_the_id_defines_it_and_a_mention_does_not() {
        let doc = format!(
            "# OTP rules\n\
             ## 1.1 Links\n\
             - **{}** Links go both ways.\n\
             **{}** A bold paragraph.\n\
             ### {} (receive rules)\n\
             * **{}**: a starred item.\n\
             Mentioned in passing: {}, see also {}.\n\
             - Source: `supervisor.erl`, as {} says.\n",
            id("LNK", "1"),
            id("LNK", "2"),
            id("EXIT", "1"),
            id("SUP", "INT"),
            id("MON", "1"),
            id("LNK", "1"),
            id("GS", "1"),
        );
        let defined = defined_ids(&doc);
        let expected: BTreeSet<String> = [
            id("LNK", "1"),
            id("LNK", "2"),
            id("EXIT", "1"),
            id("SUP", "INT"),
        ]
        .into_iter()
        .collect();
        assert_eq!(defined.ids, expected);
        assert!(defined.duplicates.is_empty(), "{:?}", defined.duplicates);
    }

    #[test]
    fn an_id_defined_twice_is_reported() {
        let doc = format!(
            "- **{a}** one\n- **{b}** two\n### {a} again\n",
            a = id("MON", "3"),
            b = id("MON", "4")
        );
        assert_eq!(defined_ids(&doc).duplicates, [id("MON", "3")]);
    }

    #[test]
    fn the_files_walked_skip_build_output_and_hidden_directories() {
        let root = std::env::temp_dir().join(format!("xtask-rules-walk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for dir in ["src", "target/debug", "bench/target", ".git", "docs"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        for file in [
            "README.md",
            "src/lib.rs",
            "src/data.json",
            "target/debug/gen.rs",
            "bench/target/gen.md",
            ".git/HEAD.md",
            "docs/notes.md",
        ] {
            std::fs::write(root.join(file), "").unwrap();
        }
        let mut files = Vec::new();
        cited_files(&root, &mut files).unwrap();
        let mut rel: Vec<String> = files
            .iter()
            .map(|f| f.strip_prefix(&root).unwrap().display().to_string())
            .collect();
        rel.sort();
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(rel, ["README.md", "docs/notes.md", "src/lib.rs"]);
    }
}
