//! `cargo xtask observe [--addr HOST:PORT] [--interval-ms N]`: a live terminal view of a running
//! node, read from its introspection endpoint (`GET /snapshot`, served by
//! `beamish_telemetry::http::Endpoint`).
//!
//! Modelled on what `observer_cli` and `tokio-console` users reach for first: node totals on
//! top, the process table sortable by mailbox length or message rate, the supervision tree with
//! restart counts beside it, and the recent events underneath. Keys: `m` mailbox, `r` rate,
//! `h` handled, `q` (or Esc, Ctrl-C) quits.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use beamish_telemetry::ProcessId;
use beamish_telemetry::introspect::{NodeSnapshot, SortBy, TreeRow};
use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};
use ratatui::{DefaultTerminal, Frame};

/// Where the demo serves its endpoint when started with `--serve` and no address.
pub(crate) const DEFAULT_ADDR: &str = "127.0.0.1:9464";

const USAGE: &str = "\
usage: cargo xtask observe [--addr HOST:PORT] [--interval-ms N] [--sort mailbox|rate|handled]

Attaches to a node's introspection endpoint (default 127.0.0.1:9464; start one with
`cargo xtask demo -- --serve`) and shows it live. Keys: m/r/h sort by mailbox length, message
rate, messages handled; q quits.";

/// What the command line asked for.
struct Options {
    addr: String,
    interval: Duration,
    sort: SortBy,
}

fn parse(args: &[String]) -> Result<Option<Options>> {
    let mut options = Options {
        addr: DEFAULT_ADDR.to_owned(),
        interval: Duration::from_millis(1000),
        sort: SortBy::MailboxLen,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .cloned()
                .with_context(|| format!("{name} needs a value\n\n{USAGE}"))
        };
        match arg.as_str() {
            "--addr" => options.addr = value("--addr")?,
            "--interval-ms" => {
                let ms: u64 = value("--interval-ms")?
                    .parse()
                    .context("--interval-ms takes a number of milliseconds")?;
                options.interval = Duration::from_millis(ms.max(50));
            }
            "--sort" => {
                options.sort = match value("--sort")?.as_str() {
                    "mailbox" => SortBy::MailboxLen,
                    "rate" => SortBy::MessageRate,
                    "handled" => SortBy::MessagesHandled,
                    other => bail!("unknown sort `{other}`\n\n{USAGE}"),
                }
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(None);
            }
            other => bail!("unknown argument `{other}` for `cargo xtask observe`\n\n{USAGE}"),
        }
    }
    Ok(Some(options))
}

/// Runs the observer until the user quits.
pub(crate) fn run(args: &[String]) -> Result<()> {
    let Some(options) = parse(args)? else {
        return Ok(());
    };
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(5)))
            .build(),
    );
    let mut app = App {
        agent,
        addr: options.addr,
        sort: options.sort,
        last: Err("connecting...".to_owned()),
        fetched_at: None,
    };
    let mut terminal = ratatui::init();
    let outcome = app.run(&mut terminal, options.interval);
    ratatui::restore();
    outcome
}

struct App {
    agent: ureq::Agent,
    addr: String,
    sort: SortBy,
    /// The last snapshot, or why there is none.
    last: Result<NodeSnapshot, String>,
    fetched_at: Option<Instant>,
}

impl App {
    fn run(&mut self, terminal: &mut DefaultTerminal, interval: Duration) -> Result<()> {
        loop {
            let due = self.fetched_at.is_none_or(|t| t.elapsed() >= interval);
            if due {
                self.refresh();
            }
            terminal.draw(|frame| self.draw(frame))?;
            let wait = interval.saturating_sub(self.fetched_at.map_or(interval, |t| t.elapsed()));
            if !event::poll(wait.max(Duration::from_millis(10)))? {
                continue;
            }
            let Event::Key(key) = event::read()? else {
                continue;
            };
            if key.kind != KeyEventKind::Press {
                continue;
            }
            let sort = match key.code {
                KeyCode::Char('q') | KeyCode::Esc => return Ok(()),
                KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                    return Ok(());
                }
                KeyCode::Char('m') => SortBy::MailboxLen,
                KeyCode::Char('r') => SortBy::MessageRate,
                KeyCode::Char('h') => SortBy::MessagesHandled,
                _ => continue,
            };
            if sort != self.sort {
                self.sort = sort;
                self.fetched_at = None;
            }
        }
    }

    fn refresh(&mut self) {
        let sort = match self.sort {
            SortBy::MailboxLen => "mailbox_len",
            SortBy::MessageRate => "message_rate",
            SortBy::MessagesHandled => "messages_handled",
        };
        let url = format!("http://{}/snapshot?sort={sort}&limit=200", self.addr);
        self.last = fetch(&self.agent, &url);
        self.fetched_at = Some(Instant::now());
    }

    fn draw(&self, frame: &mut Frame<'_>) {
        let [header, middle, events, help] = Layout::vertical([
            Constraint::Length(4),
            Constraint::Min(8),
            Constraint::Length(10),
            Constraint::Length(1),
        ])
        .areas(frame.area());
        let [processes, tree] =
            Layout::horizontal([Constraint::Percentage(62), Constraint::Percentage(38)])
                .areas(middle);
        frame.render_widget(
            Paragraph::new(
                " q quit · m sort by mailbox · r sort by message rate · h sort by messages handled",
            )
            .style(Style::default().fg(Color::DarkGray)),
            help,
        );
        let snapshot = match &self.last {
            Ok(s) => s,
            Err(why) => {
                let text = format!("cannot read http://{}/snapshot: {why}", self.addr);
                frame.render_widget(
                    Paragraph::new(text).block(block(" beamish observer ")),
                    header,
                );
                return;
            }
        };
        draw_header(frame, header, &self.addr, snapshot);
        draw_processes(frame, processes, snapshot, self.sort);
        draw_trees(frame, tree, &snapshot.trees);
        draw_events(frame, events, snapshot);
    }
}

fn fetch(agent: &ureq::Agent, url: &str) -> Result<NodeSnapshot, String> {
    let mut response = agent.get(url).call().map_err(|e| e.to_string())?;
    let body = response
        .body_mut()
        .read_to_string()
        .map_err(|e| e.to_string())?;
    serde_json::from_str(&body).map_err(|e| format!("bad snapshot: {e}"))
}

fn block(title: &str) -> Block<'_> {
    Block::default().borders(Borders::ALL).title(Span::styled(
        title,
        Style::default().add_modifier(Modifier::BOLD),
    ))
}

fn draw_header(frame: &mut Frame<'_>, area: Rect, addr: &str, s: &NodeSnapshot) {
    let t = &s.totals;
    let lines = vec![
        Line::from(format!(
            " node {}   endpoint {addr}   processes {}   restarts {}",
            t.node, t.processes, t.restarts
        )),
        Line::from(format!(
            " spawned {} ({:.1}/s)   exited {} ({:.1}/s)",
            t.spawned, t.spawn_rate, t.exited, t.exit_rate
        )),
    ];
    frame.render_widget(
        Paragraph::new(lines).block(block(" beamish observer ")),
        area,
    );
}

fn draw_processes(frame: &mut Frame<'_>, area: Rect, s: &NodeSnapshot, sort: SortBy) {
    let marked = |title: &'static str, by: SortBy| {
        if by == sort {
            format!("{title}▼")
        } else {
            title.to_owned()
        }
    };
    let header = Row::new(vec![
        Cell::from("pid"),
        Cell::from("name"),
        Cell::from("behaviour"),
        Cell::from("status"),
        Cell::from(marked("mailbox", SortBy::MailboxLen)),
        Cell::from(marked("msg/s", SortBy::MessageRate)),
        Cell::from(marked("handled", SortBy::MessagesHandled)),
        Cell::from("memory"),
    ])
    .style(Style::default().add_modifier(Modifier::BOLD));
    let rows = s.processes.iter().map(|p| {
        Row::new(vec![
            local(&p.pid),
            p.name.clone().unwrap_or_default(),
            p.behaviour.clone(),
            p.status.clone(),
            p.mailbox_len.to_string(),
            p.message_rate.map_or("-".to_owned(), |r| format!("{r:.0}")),
            p.messages_handled.to_string(),
            bytes(p.memory_bytes),
        ])
    });
    let widths = [
        Constraint::Length(20),
        Constraint::Min(8),
        Constraint::Length(10),
        Constraint::Length(8),
        Constraint::Length(9),
        Constraint::Length(8),
        Constraint::Length(10),
        Constraint::Length(8),
    ];
    let table = Table::new(rows, widths)
        .header(header)
        .block(block(" processes "));
    frame.render_widget(table, area);
}

fn draw_trees(frame: &mut Frame<'_>, area: Rect, trees: &[TreeRow]) {
    let mut lines = Vec::new();
    for tree in trees {
        let label = tree.name.as_deref().unwrap_or("supervisor");
        tree_lines(tree, label, 0, &mut lines);
    }
    if lines.is_empty() {
        lines.push(Line::from(" (no supervisors)"));
    }
    frame.render_widget(
        Paragraph::new(lines).block(block(" supervision tree ")),
        area,
    );
}

/// One supervisor's line (labelled by its name, or its id under its parent), then its
/// children, indented.
fn tree_lines(tree: &TreeRow, label: &str, depth: usize, out: &mut Vec<Line<'static>>) {
    let indent = "  ".repeat(depth);
    out.push(Line::from(Span::styled(
        format!(
            "{indent}{label} {} {} ({} in {}s)",
            local(&tree.pid),
            tree.strategy,
            tree.intensity,
            tree.period_ms / 1000
        ),
        Style::default().add_modifier(Modifier::BOLD),
    )));
    for child in &tree.children {
        let id = child.id.as_deref().unwrap_or("child");
        match &child.tree {
            Some(sub) => tree_lines(sub, id, depth + 1, out),
            None => {
                let pid = child.pid.as_ref().map_or("-".to_owned(), local);
                let style = if child.status == "running" {
                    Style::default()
                } else {
                    Style::default().fg(Color::Yellow)
                };
                out.push(Line::from(Span::styled(
                    format!(
                        "{indent}  {id} {pid} {} restarts {}",
                        child.status, child.restarts
                    ),
                    style,
                )));
            }
        }
    }
}

fn draw_events(frame: &mut Frame<'_>, area: Rect, s: &NodeSnapshot) {
    let room = usize::from(area.height.saturating_sub(2));
    let skip = s.events.len().saturating_sub(room);
    let lines: Vec<Line<'_>> = s.events[skip..]
        .iter()
        .map(|e| {
            let fields: Vec<String> = e
                .measurements
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .chain(e.metadata.iter().map(|(k, v)| format!("{k}={v}")))
                .collect();
            Line::from(format!(
                " {} {} {}",
                clock(e.at_ms),
                e.name,
                fields.join(" ")
            ))
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block(" recent events ")), area);
}

/// A pid of the observed node as Erlang's observer shows a local pid: `<0.N.G>` (the node
/// part is 0 for local processes; every process in a snapshot is local).
fn local(pid: &ProcessId) -> String {
    format!("<0.{}.{}>", pid.serial & 0xffff_ffff, pid.serial >> 32)
}

/// `HH:MM:SS` (UTC) of a time in milliseconds since the Unix epoch.
fn clock(at_ms: u64) -> String {
    let secs = at_ms / 1000 % 86_400;
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

fn bytes(n: u64) -> String {
    match n {
        0..1024 => format!("{n} B"),
        1024..1_048_576 => format!("{:.1} KiB", n as f64 / 1024.0),
        _ => format!("{:.1} MiB", n as f64 / 1_048_576.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parse() {
        let args: Vec<String> = ["--addr", "127.0.0.1:1", "--sort", "rate"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let o = parse(&args).unwrap().unwrap();
        assert_eq!(o.addr, "127.0.0.1:1");
        assert_eq!(o.sort, SortBy::MessageRate);
        assert!(parse(&["--sort".to_owned(), "size".to_owned()]).is_err());
    }

    #[test]
    fn clock_shows_utc_time_of_day() {
        assert_eq!(clock(0), "00:00:00");
        assert_eq!(clock(((13 * 60 + 5) * 60 + 9) * 1000 + 999), "13:05:09");
    }

    #[test]
    fn local_pids_read_as_in_erlang() {
        let pid = ProcessId {
            node: 0xdead_beef,
            serial: (7 << 32) | 130,
            creation: 1,
        };
        assert_eq!(local(&pid), "<0.130.7>");
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(2048), "2.0 KiB");
        assert_eq!(bytes(3 * 1_048_576), "3.0 MiB");
    }
}
