//! Test helpers for the HTTP endpoint: a minimal HTTP/1.1 client over a real TCP connection, and
//! a parser of the Prometheus text exposition format (version 0.0.4).
// Each test binary compiles this module on its own and uses only part of it, so the parts one
// binary leaves unused are not dead code.
#![allow(dead_code, unreachable_pub)]

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A guard against a server that never answers: a failing test, not a hanging one.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A parsed HTTP response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `raw` on a fresh connection and reads until the server closes it.
pub async fn exchange(addr: SocketAddr, raw: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    // The server may close before it has read everything (garbage), so a failed write is fine.
    let _ = stream.write_all(raw).await;
    // Half-close: the server sees the end of the request stream (a truncated head included).
    let _ = stream.shutdown().await;
    let mut out = Vec::new();
    let read = tokio::time::timeout(PATIENCE, async {
        let mut buf = [0u8; 8192];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server neither answered nor closed");
    out
}

/// `METHOD path` with `Connection: close`, parsed.
pub async fn request(addr: SocketAddr, method: &str, path: &str) -> Reply {
    let raw = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    parse_reply(&exchange(addr, raw.as_bytes()).await)
}

pub async fn get(addr: SocketAddr, path: &str) -> Reply {
    request(addr, "GET", path).await
}

/// Parses one HTTP/1.1 response with a `Content-Length` body.
pub fn parse_reply(raw: &[u8]) -> Reply {
    let text = std::str::from_utf8(raw).expect("a UTF-8 response");
    let (head, body) = text.split_once("\r\n\r\n").expect("a response head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let mut parts = status_line.splitn(3, ' ');
    assert_eq!(parts.next(), Some("HTTP/1.1"), "{status_line}");
    let status = parts.next().unwrap().parse().expect("a status code");
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (k, v) = l.split_once(':').expect("a header line");
            (k.trim().to_owned(), v.trim().to_owned())
        })
        .collect();
    let reply = Reply {
        status,
        headers,
        body: body.to_owned(),
    };
    let length: usize = reply
        .header("content-length")
        .expect("a content-length")
        .parse()
        .unwrap();
    assert_eq!(length, reply.body.len(), "the whole body arrived");
    reply
}

/// One sample line: `name{labels} value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// A scrape: `# TYPE` and `# HELP` per family, and the samples in order.
#[derive(Debug, Default)]
pub struct Exposition {
    pub types: HashMap<String, String>,
    pub help: HashMap<String, String>,
    pub samples: Vec<Sample>,
}

impl Exposition {
    /// The value of the one sample named `name` whose labels are exactly `labels`.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let want: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let found: Vec<&Sample> = self
            .samples
            .iter()
            .filter(|s| s.name == name && s.labels == want)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "one sample {name}{want:?} in {:#?}",
            self.samples
        );
        found[0].value
    }

    /// The samples of `name` that carry every label in `labels`.
    pub fn matching(&self, name: &str, labels: &[(&str, &str)]) -> Vec<&Sample> {
        self.samples
            .iter()
            .filter(|s| {
                s.name == name
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .collect()
    }
}

fn valid_name(name: &str, colons: bool) -> bool {
    let mut chars = name.chars();
    let first = chars.next();
    let ok = |c: char| c.is_ascii_alphanumeric() || c == '_' || (colons && c == ':');
    first.is_some_and(|c| !c.is_ascii_digit() && ok(c)) && chars.all(ok)
}

/// Parses the text format, checking what Prometheus would check: valid metric and label names,
/// well-formed escapes, a `# TYPE` before every family's samples, and the summary, histogram
/// and counter suffixes where they belong.
pub fn parse_exposition(text: &str) -> Exposition {
    let mut out = Exposition::default();
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let keyword = parts.next().unwrap();
            let name = parts.next().expect("a family name").to_owned();
            let tail = parts.next().unwrap_or("").to_owned();
            assert!(valid_name(&name, true), "bad family name {name:?}");
            match keyword {
                "TYPE" => {
                    assert!(
                        ["counter", "gauge", "summary", "histogram", "untyped"]
                            .contains(&tail.as_str()),
                        "bad type {tail:?}"
                    );
                    assert!(out.types.insert(name, tail).is_none(), "TYPE twice");
                }
                "HELP" => {
                    assert!(out.help.insert(name, tail).is_none(), "HELP twice");
                }
                _ => {}
            }
            continue;
        }
        let sample = parse_sample(line);
        let family = family_of(&out.types, &sample.name)
            .unwrap_or_else(|| panic!("sample {:?} has no # TYPE before it", sample.name));
        let kind = out.types[&family].as_str();
        let suffix = &sample.name[family.len()..];
        match kind {
            "histogram" => {
                assert!(["_bucket", "_sum", "_count"].contains(&suffix), "{line}");
                assert_eq!(
                    suffix == "_bucket",
                    sample.labels.contains_key("le"),
                    "{line}"
                );
            }
            "summary" => {
                assert!(["", "_sum", "_count"].contains(&suffix), "{line}");
                assert_eq!(
                    suffix.is_empty(),
                    sample.labels.contains_key("quantile"),
                    "{line}"
                );
            }
            "counter" => assert!(family.ends_with("_total") && suffix.is_empty(), "{line}"),
            _ => assert!(suffix.is_empty(), "{line}"),
        }
        out.samples.push(sample);
    }
    out
}

fn family_of(types: &HashMap<String, String>, name: &str) -> Option<String> {
    if types.contains_key(name) {
        return Some(name.to_owned());
    }
    ["_bucket", "_sum", "_count"].iter().find_map(|suffix| {
        let base = name.strip_suffix(suffix)?;
        types.contains_key(base).then(|| base.to_owned())
    })
}

fn parse_sample(line: &str) -> Sample {
    let name_end = line
        .find(['{', ' '])
        .unwrap_or_else(|| panic!("no value in {line:?}"));
    let name = &line[..name_end];
    assert!(valid_name(name, true), "bad metric name {name:?}");
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(after) = rest.strip_prefix('{') {
        let mut chars = after.char_indices().peekable();
        loop {
            // label name
            let start = chars.peek().map(|(i, _)| *i).unwrap();
            let mut key_end = start;
            while let Some(&(i, c)) = chars.peek() {
                if c == '=' || c == '}' {
                    key_end = i;
                    break;
                }
                chars.next();
            }
            let (_, c) = chars.next().expect("label end");
            if c == '}' {
                assert_eq!(start, key_end, "dangling label in {line:?}");
                rest = &after[key_end + 1..];
                break;
            }
            let key = &after[start..key_end];
            assert!(valid_name(key, false), "bad label name {key:?} in {line:?}");
            assert_eq!(chars.next().map(|(_, c)| c), Some('"'), "{line:?}");
            let mut value = String::new();
            loop {
                let (_, c) = chars.next().expect("unterminated label value");
                match c {
                    '"' => break,
                    '\\' => match chars.next().expect("escape").1 {
                        '\\' => value.push('\\'),
                        '"' => value.push('"'),
                        'n' => value.push('\n'),
                        other => panic!("bad escape \\{other} in {line:?}"),
                    },
                    c => value.push(c),
                }
            }
            assert!(
                labels.insert(key.to_owned(), value).is_none(),
                "label twice"
            );
            match chars.next().expect("label separator") {
                (_, ',') => {
                    if let Some(&(i, '}')) = chars.peek() {
                        rest = &after[i + 1..];
                        break;
                    }
                }
                (i, '}') => {
                    rest = &after[i + 1..];
                    break;
                }
                (_, other) => panic!("unexpected {other:?} in {line:?}"),
            }
        }
    }
    let mut fields = rest.split_whitespace();
    let value = fields
        .next()
        .unwrap_or_else(|| panic!("no value in {line:?}"));
    let value: f64 = value
        .parse()
        .unwrap_or_else(|_| panic!("bad value {value:?} in {line:?}"));
    if let Some(ts) = fields.next() {
        ts.parse::<i64>().expect("a timestamp");
    }
    assert!(fields.next().is_none(), "trailing junk in {line:?}");
    Sample {
        name: name.to_owned(),
        labels,
        value,
    }
}

#[test]
fn the_parser_reads_what_the_format_allows() {
    let text = "# HELP a_total Things.\n# TYPE a_total counter\na_total{x=\"q\\\"\\\\\\n\",y=\"\"} 3\n\n\
                # TYPE h histogram\nh_bucket{le=\"+Inf\",} 2\nh_sum 1.5\nh_count 2\n";
    let e = parse_exposition(text);
    assert_eq!(e.value("a_total", &[("x", "q\"\\\n"), ("y", "")]), 3.0);
    assert_eq!(e.value("h_bucket", &[("le", "+Inf")]), 2.0);
    assert_eq!(e.help["a_total"], "Things.");
    let caught = std::panic::catch_unwind(|| parse_exposition("b 1\n"));
    assert!(caught.is_err(), "a sample without # TYPE is refused");
    let caught = std::panic::catch_unwind(|| parse_exposition("# TYPE 1b gauge\n"));
    assert!(caught.is_err(), "a bad name is refused");
}
