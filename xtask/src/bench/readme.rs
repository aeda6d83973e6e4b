//! `--readme`: rewrites the part of `/README.md` between the bench markers with the latest
//! summary, leaving the rest of the file byte for byte as it was.

use anyhow::{Result, bail};

/// Opens the generated section.
pub(crate) const BEGIN: &str = "<!-- bench:begin -->";
/// Closes the generated section.
pub(crate) const END: &str = "<!-- bench:end -->";

/// `readme` with everything between the markers replaced by `body`. The markers stay; the body
/// sits on its own lines between them.
pub(crate) fn replace_section(readme: &str, body: &str) -> Result<String> {
    let (Some(begin), Some(end)) = (readme.find(BEGIN), readme.find(END)) else {
        bail!(
            "README.md has no bench section: add a line `{BEGIN}` and a line `{END}` where the \
             table should go, then run `cargo xtask bench --readme` again"
        );
    };
    if end < begin {
        bail!("README.md: `{END}` comes before `{BEGIN}`");
    }
    if readme[begin + BEGIN.len()..].contains(BEGIN) || readme[end + END.len()..].contains(END) {
        bail!("README.md has more than one bench section; keep one pair of markers");
    }
    let head = &readme[..begin + BEGIN.len()];
    let tail = &readme[end..];
    Ok(format!("{head}\n{}\n{tail}", body.trim_matches('\n')))
}

/// The section body: the table, how to read it, and what produced it.
pub(crate) fn section(
    summary: &str,
    legend: &str,
    machine: &str,
    date: &str,
    command: &str,
) -> String {
    format!(
        "{summary}\n{legend}\n\nMeasured on {date} on {machine} with `{command}` \
         (full tables and chart: `target/bench/results.md`, `target/bench/results.svg`)."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_only_the_section() {
        let readme =
            "# beamish\n\nintro\n\n<!-- bench:begin -->\nold table\n<!-- bench:end -->\n\nafter\n";
        let out = replace_section(readme, "| new |\n").unwrap();
        assert_eq!(
            out,
            "# beamish\n\nintro\n\n<!-- bench:begin -->\n| new |\n<!-- bench:end -->\n\nafter\n"
        );
        // Running it again with the same body changes nothing.
        assert_eq!(replace_section(&out, "| new |").unwrap(), out);
    }

    #[test]
    fn markers_on_one_line() {
        let out = replace_section("a <!-- bench:begin --><!-- bench:end --> b", "t").unwrap();
        assert_eq!(out, "a <!-- bench:begin -->\nt\n<!-- bench:end --> b");
    }

    #[test]
    fn missing_or_misplaced_markers_are_errors() {
        let err = replace_section("# beamish\n", "t").unwrap_err().to_string();
        assert!(err.contains("add a line `<!-- bench:begin -->`"), "{err}");
        assert!(replace_section("<!-- bench:begin -->\n", "t").is_err());
        assert!(replace_section("<!-- bench:end -->\n<!-- bench:begin -->\n", "t").is_err());
        let twice = "<!-- bench:begin --><!-- bench:end --><!-- bench:begin --><!-- bench:end -->";
        assert!(replace_section(twice, "t").is_err());
    }

    #[test]
    fn section_names_its_origin() {
        let s = section(
            "| t |\n",
            "Legend.",
            "cpu, 2 cores",
            "2026-11-23",
            "cargo xtask bench",
        );
        assert!(s.starts_with(
            "| t |\n\nLegend.\n\nMeasured on 2026-11-23 on cpu, 2 cores with `cargo xtask bench`"
        ));
    }
}
