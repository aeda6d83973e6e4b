//! Turning the raw runs into tables: one terminal table per case, a Markdown summary (for
//! `target/bench/results.md` and the README), and JSON with every raw run and every median.

use serde_json::{Value, json};

use super::plan::{self, Case, Metric};
use super::runner::{Outcome, Status};
use super::stats::{Spread, speedup};

/// One finished run of one system on one case.
#[derive(Debug, Clone)]
pub(crate) struct RunRecord {
    /// 1-based.
    pub(crate) round: usize,
    /// Index into [`Report::cases`].
    pub(crate) case: usize,
    pub(crate) system: String,
    pub(crate) outcome: Outcome,
}

/// Where and how the figures were taken.
#[derive(Debug, Clone, Default)]
pub(crate) struct RunContext {
    pub(crate) date: String,
    pub(crate) command: String,
    /// e.g. `AMD EPYC 7B13, 2 cores, Debian GNU/Linux 12 (bookworm), Linux 6.1.0`.
    pub(crate) machine: String,
    /// (system, version) pairs as far as known.
    pub(crate) versions: Vec<(String, String)>,
}

/// Everything one `cargo xtask bench` measured.
#[derive(Debug, Clone)]
pub(crate) struct Report {
    pub(crate) cases: Vec<Case>,
    /// Every system asked for, in table order, including those not installed.
    pub(crate) systems: Vec<String>,
    /// Systems asked for that could not run here (the BEAM without Erlang).
    pub(crate) not_installed: Vec<String>,
    pub(crate) rounds: usize,
    pub(crate) runs: Vec<RunRecord>,
    pub(crate) context: RunContext,
}

/// The aggregate of one (case, system) pair.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    /// The system does not implement the workload (see [`plan::implements`]); not a failure.
    NotImplemented,
    NotInstalled,
    /// No run at all (the run was cut short).
    Missing,
    Measured(Measured),
}

/// Aggregated runs of one (case, system) pair.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Measured {
    /// One entry per metric of the workload, over the runs whose check passed.
    pub(crate) metrics: Vec<Option<Spread>>,
    /// Median peak RSS in KiB over all runs that reported it.
    pub(crate) peak_rss_kb: Option<f64>,
    pub(crate) ok: usize,
    pub(crate) failed: usize,
    /// The first failure's reason, if any.
    pub(crate) first_failure: Option<String>,
}

impl Report {
    /// The reference system for ratios (beamish when present, else tokio-st, ...), among the
    /// systems that actually ran.
    pub(crate) fn reference(&self) -> Option<&str> {
        let ran: Vec<String> = self
            .systems
            .iter()
            .filter(|s| !self.not_installed.contains(s))
            .cloned()
            .collect();
        let r = plan::reference(&ran)?;
        self.systems.iter().find(|s| *s == r).map(String::as_str)
    }

    /// Runs that did not end with a passed check.
    pub(crate) fn failures(&self) -> Vec<&RunRecord> {
        self.runs
            .iter()
            .filter(|r| r.outcome.status != Status::Ok)
            .collect()
    }

    /// Aggregates the runs of `system` on case `case`.
    pub(crate) fn cell(&self, case: usize, system: &str) -> Cell {
        if !plan::implements(self.cases[case].workload, system) {
            return Cell::NotImplemented;
        }
        if self.not_installed.iter().any(|s| s == system) {
            return Cell::NotInstalled;
        }
        let runs: Vec<&RunRecord> = self
            .runs
            .iter()
            .filter(|r| r.case == case && r.system == system)
            .collect();
        if runs.is_empty() {
            return Cell::Missing;
        }
        let passed: Vec<&RunRecord> = runs
            .iter()
            .copied()
            .filter(|r| r.outcome.status == Status::Ok)
            .collect();
        let metrics = plan::metrics(self.cases[case].workload)
            .iter()
            .map(|m| {
                let values: Vec<f64> = passed
                    .iter()
                    .filter_map(|r| r.outcome.result.as_ref()?.number(m.key))
                    .collect();
                Spread::of(&values)
            })
            .collect();
        let rss: Vec<f64> = runs
            .iter()
            .filter_map(|r| r.outcome.peak_rss_kb.map(|k| k as f64))
            .collect();
        Cell::Measured(Measured {
            metrics,
            peak_rss_kb: Spread::of(&rss).map(|s| s.median),
            ok: passed.len(),
            failed: runs.len() - passed.len(),
            first_failure: runs
                .iter()
                .find_map(|r| r.outcome.status.detail().map(str::to_owned)),
        })
    }

    /// The median of metric `m` (by index) for `system` on `case`, when measured.
    fn median(&self, case: usize, system: &str, m: usize) -> Option<f64> {
        match self.cell(case, system) {
            Cell::Measured(c) => c.metrics.get(m).copied().flatten().map(|s| s.median),
            _ => None,
        }
    }

    /// `system` against the reference on metric `m` of `case`, > 1 = better.
    pub(crate) fn vs_reference(&self, case: usize, system: &str, m: usize) -> Option<f64> {
        let metric = plan::metrics(self.cases[case].workload).get(m)?;
        let reference = self.median(case, self.reference()?, m)?;
        speedup(
            self.median(case, system, m)?,
            reference,
            metric.higher_is_better,
        )
    }

    /// One table per case, for the terminal.
    pub(crate) fn terminal(&self) -> String {
        let reference = self.reference().unwrap_or("-");
        let mut out = String::new();
        for (ci, case) in self.cases.iter().enumerate() {
            let metrics = plan::metrics(case.workload);
            let Some(primary) = metrics.first() else {
                continue;
            };
            out.push_str(&format!(
                "\n{}: {} ({}), medians of {}\n",
                case.label(),
                primary.unit,
                primary.direction(),
                rounds(self.rounds)
            ));
            let mut header = vec![
                "system".to_owned(),
                "median".to_owned(),
                "min - max".to_owned(),
            ];
            header.extend(metrics[1..].iter().map(|m| m.unit.to_owned()));
            header.extend([
                "peak RSS".to_owned(),
                "runs".to_owned(),
                format!("vs {}", plan::display_name(reference)),
            ]);
            let rows = self
                .systems
                .iter()
                .map(|s| self.detail_row(ci, s, metrics))
                .collect::<Vec<_>>();
            out.push_str(&text_table(&header, &rows, "  "));
        }
        let failures = self.failures();
        if !failures.is_empty() {
            out.push_str(&format!("\n{} run(s) failed:\n", failures.len()));
            for f in failures {
                out.push_str(&format!(
                    "  round {} {} {}: {}\n",
                    f.round,
                    self.cases[f.case].label(),
                    plan::display_name(&f.system),
                    f.outcome.status.detail().unwrap_or("")
                ));
            }
        }
        out
    }

    /// The cells of one system's row in a per-case table.
    fn detail_row(&self, case: usize, system: &str, metrics: &[Metric]) -> Vec<String> {
        let name = plan::display_name(system).to_owned();
        let blank = |first: &str| {
            let mut row = vec![name.clone(), first.to_owned()];
            row.resize(metrics.len() + 5, "-".to_owned());
            row
        };
        match self.cell(case, system) {
            Cell::NotImplemented => blank("-"),
            Cell::NotInstalled => blank("not installed"),
            Cell::Missing => blank("not run"),
            Cell::Measured(c) => {
                let primary = c.metrics.first().copied().flatten();
                let mut row = vec![
                    name,
                    primary.map_or_else(|| "FAILED".to_owned(), |s| number(s.median)),
                    primary.map_or_else(
                        || "-".to_owned(),
                        |s| format!("{} - {}", number(s.min), number(s.max)),
                    ),
                ];
                for extra in c.metrics.iter().skip(1) {
                    row.push(extra.map_or_else(|| "-".to_owned(), |s| number(s.median)));
                }
                row.push(c.peak_rss_kb.map_or_else(|| "-".to_owned(), mib));
                row.push(if c.failed == 0 {
                    c.ok.to_string()
                } else {
                    format!("{} ok, {} failed", c.ok, c.failed)
                });
                row.push(
                    self.vs_reference(case, system, 0)
                        .map_or_else(|| "-".to_owned(), ratio),
                );
                row
            }
        }
    }

    /// The summary table: one row per (case, metric), one column per system, each cell the
    /// median and its ratio to the reference. This is what the README shows.
    pub(crate) fn markdown_summary(&self) -> String {
        let systems = self.summary_systems();
        let mut header = vec!["workload".to_owned()];
        header.extend(systems.iter().map(|s| plan::display_name(s).to_owned()));
        let mut rows = Vec::new();
        for (ci, case) in self.cases.iter().enumerate() {
            for (mi, metric) in plan::metrics(case.workload).iter().enumerate() {
                let mut row = vec![format!("{}, {}", case.label(), metric.unit)];
                for s in &systems {
                    row.push(self.summary_cell(ci, s, mi));
                }
                rows.push(row);
            }
        }
        let mut align = vec![false];
        align.extend(systems.iter().map(|_| true));
        markdown_table(&header, &rows, &align)
    }

    /// The summary's columns: the systems that implement at least one of the cases, so that a
    /// variant run for one workload only (`beamish-tokio`) adds no column of dashes to a run
    /// without that workload.
    fn summary_systems(&self) -> Vec<&str> {
        self.systems
            .iter()
            .map(String::as_str)
            .filter(|s| self.cases.iter().any(|c| plan::implements(c.workload, s)))
            .collect()
    }

    fn summary_cell(&self, case: usize, system: &str, m: usize) -> String {
        match self.cell(case, system) {
            Cell::NotInstalled => "not installed".to_owned(),
            Cell::Missing | Cell::NotImplemented => "-".to_owned(),
            Cell::Measured(c) => match c.metrics.get(m).copied().flatten() {
                None => "FAILED".to_owned(),
                Some(s) => {
                    let mut cell = number(s.median);
                    if let Some(r) = self.vs_reference(case, system, m) {
                        cell.push_str(&format!(" ({})", ratio(r)));
                    }
                    if c.failed > 0 {
                        cell.push_str(&format!(" ({} failed)", c.failed));
                    }
                    cell
                }
            },
        }
    }

    /// The sentence under the summary table saying how to read it.
    pub(crate) fn legend(&self) -> String {
        let reference = self.reference().map_or("-", plan::display_name);
        format!(
            "Medians of {} (systems interleaved, each round starting one system further on), each \
             run in its own OS process. In parentheses: \
             performance relative to {reference} (above 1 = better than {reference}, whichever \
             way the metric is read: times and bytes lower, rates higher).",
            rounds(self.rounds)
        )
    }

    /// `target/bench/results.md`: the summary, then one detail table per case.
    pub(crate) fn markdown(&self) -> String {
        let c = &self.context;
        let mut out = String::from("# beamish benchmarks\n\n");
        out.push_str(&format!(
            "- Date: {}\n- Machine: {}\n- Command: `{}`\n",
            c.date, c.machine, c.command
        ));
        if !c.versions.is_empty() {
            let v: Vec<String> = c.versions.iter().map(|(s, v)| format!("{s} {v}")).collect();
            out.push_str(&format!("- Versions: {}\n", v.join(", ")));
        }
        out.push_str("\n## Summary\n\n");
        out.push_str(&self.markdown_summary());
        out.push_str(&format!("\n{}\n", self.legend()));
        let reference = self.reference().map_or("-", plan::display_name);
        for (ci, case) in self.cases.iter().enumerate() {
            let metrics = plan::metrics(case.workload);
            let Some(primary) = metrics.first() else {
                continue;
            };
            out.push_str(&format!(
                "\n## {}\n\n{} ({}).\n\n",
                case.label(),
                primary.unit,
                primary.direction()
            ));
            let mut header = vec![
                "system".to_owned(),
                "median".to_owned(),
                "min - max".to_owned(),
            ];
            header.extend(metrics[1..].iter().map(|m| m.unit.to_owned()));
            header.extend([
                "peak RSS".to_owned(),
                "runs".to_owned(),
                format!("vs {reference}"),
            ]);
            let rows: Vec<Vec<String>> = self
                .systems
                .iter()
                .map(|s| self.detail_row(ci, s, metrics))
                .collect();
            let mut align = vec![false];
            align.extend(header.iter().skip(1).map(|_| true));
            out.push_str(&markdown_table(&header, &rows, &align));
        }
        let failures = self.failures();
        if !failures.is_empty() {
            out.push_str("\n## Failed runs\n\n");
            for f in failures {
                out.push_str(&format!(
                    "- round {}, {}, {}: {}\n",
                    f.round,
                    self.cases[f.case].label(),
                    plan::display_name(&f.system),
                    f.outcome.status.detail().unwrap_or("")
                ));
            }
        }
        out
    }

    /// `target/bench/results.json`: every raw run, then the medians.
    pub(crate) fn json(&self) -> Value {
        let runs: Vec<Value> = self
            .runs
            .iter()
            .map(|r| {
                let case = &self.cases[r.case];
                json!({
                    "round": r.round,
                    "case": case.label(),
                    "workload": case.workload,
                    "args": case.args,
                    "system": r.system,
                    "status": r.outcome.status.word(),
                    "detail": r.outcome.status.detail(),
                    "fields": r.outcome.result.as_ref().map(|l| &l.fields),
                    "peak_rss_kb": r.outcome.peak_rss_kb,
                    "wall_s": r.outcome.wall.as_secs_f64(),
                })
            })
            .collect();
        let mut medians = Vec::new();
        for (ci, case) in self.cases.iter().enumerate() {
            for s in &self.systems {
                let cell = self.cell(ci, s);
                for (mi, m) in plan::metrics(case.workload).iter().enumerate() {
                    let (spread, rss, ok, failed) = match &cell {
                        Cell::Measured(c) => (
                            c.metrics.get(mi).copied().flatten(),
                            c.peak_rss_kb,
                            c.ok,
                            c.failed,
                        ),
                        _ => (None, None, 0, 0),
                    };
                    medians.push(json!({
                        "case": case.label(),
                        "workload": case.workload,
                        "args": case.args,
                        "system": s,
                        "installed": cell != Cell::NotInstalled,
                        "implemented": cell != Cell::NotImplemented,
                        "metric": m.key,
                        "unit": m.unit,
                        "higher_is_better": m.higher_is_better,
                        "median": spread.map(|x| x.median),
                        "min": spread.map(|x| x.min),
                        "max": spread.map(|x| x.max),
                        "runs_ok": ok,
                        "runs_failed": failed,
                        "peak_rss_kb_median": rss,
                        "vs_reference": self.vs_reference(ci, s, mi),
                    }));
                }
            }
        }
        let c = &self.context;
        json!({
            "date": c.date,
            "command": c.command,
            "machine": c.machine,
            "versions": c.versions.iter().map(|(s, v)| json!({"system": s, "version": v})).collect::<Vec<_>>(),
            "rounds": self.rounds,
            "reference": self.reference(),
            "systems": self.systems,
            "not_installed": self.not_installed,
            "runs": runs,
            "medians": medians,
        })
    }
}

/// `1 round`, `3 rounds`.
pub(crate) fn rounds(n: usize) -> String {
    if n == 1 {
        "1 round".to_owned()
    } else {
        format!("{n} rounds")
    }
}

/// A figure for a table: `1.23M`, `12,345`, `590`, `57.4`.
pub(crate) fn number(x: f64) -> String {
    let a = x.abs();
    if a >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if a >= 100.0 {
        thousands(x.round() as i64)
    } else {
        format!("{x:.1}")
    }
}

fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A ratio: `2.41x`, `0.53x`.
pub(crate) fn ratio(r: f64) -> String {
    if r >= 100.0 {
        format!("{r:.0}x")
    } else {
        format!("{r:.2}x")
    }
}

/// KiB as MiB for a table.
fn mib(kb: f64) -> String {
    let m = kb / 1024.0;
    if m < 10.0 {
        format!("{m:.1} MiB")
    } else {
        format!("{m:.0} MiB")
    }
}

/// A plain-text table with aligned columns: the first left-aligned, the rest right-aligned.
pub(crate) fn text_table(header: &[String], rows: &[Vec<String>], indent: &str) -> String {
    let cols = header.len();
    let width = |c: usize| {
        rows.iter()
            .filter_map(|r| r.get(c))
            .chain(std::iter::once(&header[c]))
            .map(|s| s.chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..cols).map(width).collect();
    let line = |cells: &[String]| {
        let mut s = String::from(indent);
        for (c, w) in widths.iter().enumerate() {
            let cell = cells.get(c).map_or("", String::as_str);
            if c > 0 {
                s.push_str("  ");
            }
            if c == 0 {
                s.push_str(&format!("{cell:<w$}"));
            } else {
                s.push_str(&format!("{cell:>w$}"));
            }
        }
        s.trim_end().to_owned() + "\n"
    };
    let mut out = line(header);
    for r in rows {
        out.push_str(&line(r));
    }
    out
}

/// A Markdown table; `right[c]` right-aligns column `c`.
pub(crate) fn markdown_table(header: &[String], rows: &[Vec<String>], right: &[bool]) -> String {
    let row = |cells: &[String]| {
        let cells: Vec<String> = cells.iter().map(|c| c.replace('|', "\\|")).collect();
        format!("| {} |\n", cells.join(" | "))
    };
    let rule: Vec<&str> = (0..header.len())
        .map(|c| {
            if right.get(c).copied().unwrap_or(false) {
                "---:"
            } else {
                "---"
            }
        })
        .collect();
    let mut out = row(header);
    out.push_str(&format!("|{}|\n", rule.join("|")));
    for r in rows {
        out.push_str(&row(r));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::runner::ResultLine;
    use super::*;

    fn outcome(line: &str, rss: u64) -> Outcome {
        let result = ResultLine::parse(line).expect("a result line");
        let status = match result.check() {
            Ok(()) => Status::Ok,
            Err(e) => Status::CheckFailed(e),
        };
        Outcome {
            status,
            result: Some(result),
            peak_rss_kb: Some(rss),
            wall: Duration::from_millis(100),
        }
    }

    fn report() -> Report {
        let cases = vec![Case {
            workload: "ring",
            args: vec![10, 100],
        }];
        let mut runs = Vec::new();
        for (round, (st, tk, rc)) in [(4e6, 2e6, "ok"), (5e6, 3e6, "ok"), (6e6, 2.5e6, "FAILED")]
            .into_iter()
            .enumerate()
        {
            let mk = |sys: &str, v: f64, check: &str| RunRecord {
                round: round + 1,
                case: 0,
                system: sys.to_owned(),
                outcome: outcome(
                    &format!("RESULT\t{sys}\tring\tmsgs_per_s={v}\tcheck={check}"),
                    20_480,
                ),
            };
            runs.push(mk("tokio-st", st, "ok"));
            runs.push(mk("tokio", tk, rc));
        }
        Report {
            cases,
            systems: vec!["beam".into(), "tokio".into(), "tokio-st".into()],
            not_installed: vec!["beam".into()],
            rounds: 3,
            runs,
            context: RunContext {
                date: "2026-11-23".into(),
                command: "cargo xtask bench --quick".into(),
                machine: "test cpu, 2 cores".into(),
                versions: vec![],
            },
        }
    }

    #[test]
    fn cells_aggregate_passed_runs_only() {
        let r = report();
        let Cell::Measured(c) = r.cell(0, "tokio") else {
            panic!("measured")
        };
        assert_eq!((c.ok, c.failed), (2, 1));
        // The failed run's 2.5M is left out: median of 2M and 3M.
        assert_eq!(c.metrics[0].unwrap().median, 2.5e6);
        assert_eq!(r.cell(0, "beam"), Cell::NotInstalled);
        assert_eq!(r.reference(), Some("tokio-st"));
        assert_eq!(r.vs_reference(0, "tokio", 0), Some(0.5));
        assert_eq!(r.failures().len(), 1);
    }

    #[test]
    fn unimplemented_pairs_show_a_dash_and_are_not_failures() {
        let mut r = report();
        r.cases.push(Case {
            workload: "suprestart",
            args: vec![100],
        });
        // The runner starts no run for tokio and tokio-st on suprestart.
        assert_eq!(r.cell(1, "tokio"), Cell::NotImplemented);
        assert_eq!(r.cell(1, "beam"), Cell::NotInstalled);
        assert_eq!(r.failures().len(), 1, "only ring's failed run");
        let md = r.markdown_summary();
        assert!(
            md.contains("| sup restart 100 kills, us/restart | not installed | - | - |\n"),
            "{md}"
        );
        let t = r.terminal();
        assert!(
            t.lines().any(|l| l
                .split_whitespace()
                .eq(["tokio-st", "-", "-", "-", "-", "-", "-"])),
            "{t}"
        );
        let j = r.json();
        let medians = j["medians"].as_array().unwrap();
        assert!(
            medians
                .iter()
                .any(|m| m["workload"] == "suprestart" && m["implemented"] == false)
        );
    }

    #[test]
    fn terminal_table() {
        let t = report().terminal();
        let expected = "
ring 10 x 100: msgs/s (higher is better), medians of 3 rounds
  system           median      min - max  peak RSS            runs  vs tokio-st
  BEAM      not installed              -         -               -            -
  tokio             2.50M  2.00M - 3.00M    20 MiB  2 ok, 1 failed        0.50x
  tokio-st          5.00M  4.00M - 6.00M    20 MiB               3        1.00x

1 run(s) failed:
  round 3 ring 10 x 100 tokio: check=FAILED: (no detail)
";
        assert_eq!(t, expected);
    }

    #[test]
    fn markdown_summary_table() {
        let md = report().markdown_summary();
        assert_eq!(
            md,
            "| workload | BEAM | tokio | tokio-st |\n\
             |---|---:|---:|---:|\n\
             | ring 10 x 100, msgs/s | not installed | 2.50M (0.50x) (1 failed) | 5.00M (1.00x) |\n"
        );
    }

    #[test]
    fn summary_leaves_out_systems_with_no_case() {
        let mut r = report();
        r.systems.insert(0, "beamish-tokio".into());
        assert!(!r.markdown_summary().contains("beamish-tokio"));
        r.cases.push(Case {
            workload: "chat",
            args: vec![100, 10, 1, 1],
        });
        assert!(
            r.markdown_summary()
                .starts_with("| workload | beamish-tokio | BEAM | tokio | tokio-st |\n")
        );
    }

    #[test]
    fn json_has_runs_and_medians() {
        let j = report().json();
        assert_eq!(j["runs"].as_array().map(Vec::len), Some(6));
        assert_eq!(j["reference"], "tokio-st");
        let medians = j["medians"].as_array().unwrap();
        let tokio = medians.iter().find(|m| m["system"] == "tokio").unwrap();
        assert_eq!(tokio["median"], 2.5e6);
        assert_eq!(tokio["vs_reference"], 0.5);
        assert_eq!(tokio["runs_failed"], 1);
    }

    #[test]
    fn numbers() {
        assert_eq!(number(1_234_567.0), "1.23M");
        assert_eq!(number(12_345.4), "12,345");
        assert_eq!(number(590.12), "590");
        assert_eq!(number(57.44), "57.4");
        assert_eq!(number(-1234.0), "-1,234");
        assert_eq!(ratio(0.534), "0.53x");
        assert_eq!(ratio(250.0), "250x");
        assert_eq!(mib(20_480.0), "20 MiB");
        assert_eq!(mib(3_000.0), "2.9 MiB");
    }
}
