//! `target/bench/results.svg`: grouped bars, one group per summary row (case and metric), one
//! colour per system, height = performance relative to the reference on a log scale.
//!
//! Plotting ratios rather than raw figures puts every workload on one axis whatever its unit,
//! and "higher is better" holds for every bar. Hand-written SVG: no plotting crate for a chart
//! this simple.

use std::fmt::Write as _;

use super::plan;
use super::report::{Cell, Report, number, ratio, rounds};

const BAR: f64 = 16.0;
const GROUP_GAP: f64 = 28.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 78.0;
const PLOT_H: f64 = 300.0;
const BOTTOM: f64 = 64.0;

/// One colour per system, stable across runs so charts can be compared by eye.
fn colour(system: &str) -> &'static str {
    match system {
        "beamish" => "#d9480f",
        "beamish-st" => "#f08c00",
        "beam" => "#7048e8",
        "ractor" => "#1c7ed6",
        "kameo" => "#0ca678",
        "actix" => "#d6336c",
        "tokio" => "#868e96",
        "tokio-st" => "#343a40",
        _ => "#fab005",
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One bar group: a label and, per system, the ratio (if measured) and a tooltip.
struct Group {
    label: String,
    unit: String,
    bars: Vec<(String, Option<f64>, String)>,
}

fn groups(report: &Report) -> Vec<Group> {
    let mut out = Vec::new();
    for (ci, case) in report.cases.iter().enumerate() {
        for (mi, metric) in plan::metrics(case.workload).iter().enumerate() {
            let bars = report
                .systems
                .iter()
                .map(|s| {
                    let name = plan::display_name(s);
                    let r = report.vs_reference(ci, s, mi);
                    let tip = match report.cell(ci, s) {
                        Cell::NotInstalled => format!("{name}: not installed"),
                        Cell::Measured(c) => match (c.metrics.get(mi).copied().flatten(), r) {
                            (Some(sp), Some(r)) => {
                                format!(
                                    "{name}: {} {} ({})",
                                    number(sp.median),
                                    metric.unit,
                                    ratio(r)
                                )
                            }
                            (Some(sp), None) => {
                                format!("{name}: {} {}", number(sp.median), metric.unit)
                            }
                            (None, _) => format!("{name}: FAILED"),
                        },
                        Cell::Missing => format!("{name}: not run"),
                        Cell::NotImplemented => format!("{name}: not implemented"),
                    };
                    (s.clone(), r, tip)
                })
                .collect();
            out.push(Group {
                label: case.label(),
                unit: metric.unit.to_owned(),
                bars,
            });
        }
    }
    out
}

/// The whole chart as SVG text.
pub(crate) fn chart(report: &Report) -> String {
    let groups = groups(report);
    let n_sys = report.systems.len().max(1) as f64;
    let group_w = n_sys * BAR + GROUP_GAP;
    let legend: Vec<(String, String, f64)> = legend_entries(report);
    let legend_w = legend
        .last()
        .map_or(0.0, |(_, n, x)| x + 15.0 + text_width(n));
    // Wide enough for the bars, the legend and the title, whichever is widest.
    let width = (LEFT + RIGHT + group_w * groups.len().max(1) as f64)
        .max(LEFT + RIGHT + legend_w)
        .max(620.0);
    let height = TOP + PLOT_H + BOTTOM;
    let ratios: Vec<f64> = groups
        .iter()
        .flat_map(|g| g.bars.iter().filter_map(|b| b.1))
        .collect();
    let (lo, hi) = decades(&ratios);
    let y = |r: f64| TOP + PLOT_H * (1.0 - (r.log10() - lo) / (hi - lo));
    let reference = report.reference().map_or("-", plan::display_name);

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(s, r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="20" font-size="14" font-weight="bold">Performance relative to {} (log scale, higher is better)</text>"#,
        escape(reference)
    );
    let _ = writeln!(
        s,
        r##"<text x="{LEFT}" y="37" fill="#555">{}; medians of {}</text>"##,
        escape(&report.context.machine),
        rounds(report.rounds)
    );

    // Legend, one row across the top.
    for (sys, name, dx) in &legend {
        let x = LEFT + dx;
        let _ = writeln!(
            s,
            r#"<rect x="{x:.1}" y="50" width="11" height="11" fill="{}"/><text x="{:.1}" y="60">{}</text>"#,
            colour(sys),
            x + 15.0,
            escape(name)
        );
    }

    // Gridlines at each power of ten, the reference line at 1 drawn darker.
    let mut decade = lo;
    while decade <= hi + 1e-9 {
        let v = 10f64.powf(decade);
        let yy = y(v);
        let (stroke, dash) = if decade.abs() < 1e-9 {
            ("#222", "")
        } else {
            ("#ddd", r#" stroke-dasharray="3,3""#)
        };
        let _ = writeln!(
            s,
            r#"<line x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="{stroke}"{dash}/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            width - RIGHT,
            LEFT - 6.0,
            yy + 4.0,
            tick(v)
        );
        decade += 1.0;
    }

    for (gi, g) in groups.iter().enumerate() {
        let gx = LEFT + GROUP_GAP / 2.0 + gi as f64 * group_w;
        for (bi, (sys, r, tip)) in g.bars.iter().enumerate() {
            let bx = gx + bi as f64 * BAR;
            match r {
                Some(r) => {
                    let top = y(*r);
                    let _ = writeln!(
                        s,
                        r#"<rect x="{bx:.1}" y="{top:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{}</title></rect>"#,
                        BAR - 2.0,
                        (TOP + PLOT_H - top).max(0.5),
                        colour(sys),
                        escape(tip)
                    );
                }
                None => {
                    // No bar: say why on hover; a small mark keeps the slot visible.
                    let _ = writeln!(
                        s,
                        r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#aaa">-<title>{}</title></text>"##,
                        bx + (BAR - 2.0) / 2.0,
                        TOP + PLOT_H - 3.0,
                        escape(tip)
                    );
                }
            }
        }
        let cx = gx + n_sys * BAR / 2.0;
        let _ = writeln!(
            s,
            r##"<text x="{cx:.1}" y="{:.1}" text-anchor="middle">{}</text><text x="{cx:.1}" y="{:.1}" text-anchor="middle" fill="#555">{}</text>"##,
            TOP + PLOT_H + 16.0,
            escape(&g.label),
            TOP + PLOT_H + 30.0,
            escape(&g.unit)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// (system, label, x offset) of each legend entry, laid out left to right.
fn legend_entries(report: &Report) -> Vec<(String, String, f64)> {
    let mut x = 0.0;
    let mut out = Vec::new();
    for sys in &report.systems {
        let mut name = plan::display_name(sys).to_owned();
        if report.not_installed.contains(sys) {
            name.push_str(" (not installed)");
        }
        let w = 15.0 + text_width(&name) + 14.0;
        out.push((sys.clone(), name, x));
        x += w;
    }
    out
}

/// Rough width of `s` at font size 11 (no font metrics here; generous so labels never overlap).
fn text_width(s: &str) -> f64 {
    6.5 * s.chars().count() as f64
}

/// The log10 range spanning all `ratios` and 1, rounded out to whole decades.
fn decades(ratios: &[f64]) -> (f64, f64) {
    let lo = ratios
        .iter()
        .copied()
        .fold(1.0f64, f64::min)
        .log10()
        .floor();
    let hi = ratios.iter().copied().fold(1.0f64, f64::max).log10().ceil();
    if hi - lo < 1.0 {
        (lo - 1.0, hi + 1.0)
    } else {
        (lo, hi)
    }
}

/// A tick label: `0.01x`, `0.1x`, `1x`, `10x`.
fn tick(v: f64) -> String {
    if v >= 1.0 {
        format!("{v:.0}x")
    } else {
        let digits = (-v.log10()).round() as usize;
        format!("{v:.digits$}x")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decades_round_out() {
        assert_eq!(decades(&[0.3, 2.0]), (-1.0, 1.0));
        assert_eq!(decades(&[0.03, 1.0]), (-2.0, 0.0));
        // All ratios 1: one decade either side so that the bars have room.
        assert_eq!(decades(&[1.0]), (-1.0, 1.0));
        assert_eq!(decades(&[]), (-1.0, 1.0));
    }

    #[test]
    fn ticks() {
        assert_eq!(tick(0.01), "0.01x");
        assert_eq!(tick(0.1), "0.1x");
        assert_eq!(tick(1.0), "1x");
        assert_eq!(tick(100.0), "100x");
    }

    #[test]
    fn escapes_text() {
        assert_eq!(escape("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
    }
}
