//! What a bench run consists of: the cases (a workload with its sizes), the systems, and how each
//! workload's figures are read (which key, which unit, which direction is better).

/// The systems in the order tables and charts list them. `beamish` first: it is the reference
/// whenever it is built in.
pub(crate) const SYSTEM_ORDER: &[&str] = &[
    "beamish",
    "beamish-tokio",
    "beamish-st",
    "beam",
    "ractor",
    "kameo",
    "actix",
    "tokio",
    "tokio-st",
];

/// The system whose figures every ratio is taken against while beamish is not built in: the
/// current-thread tokio runtime is the practical floor for a tokio-based runtime here.
pub(crate) const FALLBACK_REFERENCE: &str = "tokio-st";

/// How a system is named in tables.
pub(crate) fn display_name(system: &str) -> &str {
    match system {
        "beam" => "BEAM",
        other => other,
    }
}

/// One figure a workload reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Metric {
    /// The key in the `RESULT` line.
    pub(crate) key: &'static str,
    /// Unit shown next to the figure.
    pub(crate) unit: &'static str,
    pub(crate) higher_is_better: bool,
}

impl Metric {
    /// "lower is better" or "higher is better".
    pub(crate) fn direction(self) -> &'static str {
        if self.higher_is_better {
            "higher is better"
        } else {
            "lower is better"
        }
    }
}

const fn m(key: &'static str, unit: &'static str, higher_is_better: bool) -> Metric {
    Metric {
        key,
        unit,
        higher_is_better,
    }
}

const SPAWN: &[Metric] = &[
    m("ns_per", "ns/actor", false),
    m("rss_bytes_per", "bytes/actor", false),
];
const PINGPONG: &[Metric] = &[m("ns_per_rt", "ns/round trip", false)];
const RING: &[Metric] = &[m("msgs_per_s", "msgs/s", true)];
const SKYNET: &[Metric] = &[m("ms", "ms", false)];
const CALL: &[Metric] = &[m("calls_per_s", "calls/s", true)];
const FANOUT: &[Metric] = &[m("deliveries_per_s", "deliveries/s", true)];
const OUTCALL: &[Metric] = &[
    m("calls_per_s", "calls/s", true),
    m("ns_per_call", "ns/call per caller", false),
];
const MAINCALL: &[Metric] = &[m("ns_per_call", "ns/call", false)];
const FAIRNESS: &[Metric] = &[
    m("worst_gap_ms", "ms worst tick gap", false),
    m("p99_gap_ms", "ms p99 tick gap", false),
];
const REGISTRY: &[Metric] = &[m("ops_per_s", "ops/s", true)];
const EMIT: &[Metric] = &[m("ns_per_emit", "ns/emit", false)];
const TIMERS: &[Metric] = &[
    m("fires_per_s", "fires/s", true),
    m("bytes_per_timer", "bytes/timer", false),
    m("set_ns_per", "ns/timer set", false),
];
const CHAT: &[Metric] = &[
    m("deliveries_per_s", "deliveries/s burst", true),
    m("p50_us", "us p50 paced", false),
    m("p99_us", "us p99 paced", false),
];
const SUPLOOP: &[Metric] = &[m("restarts_per_s", "restarts/s", true)];
const OBSERVE: &[Metric] = &[
    m("observed_ns_per_rt", "ns/round trip observed", false),
    m("alone_ns_per_rt", "ns/round trip alone", false),
    m("ratio", "observed/alone", false),
];
const SUPRESTART: &[Metric] = &[
    m("us_per_restart", "us/restart", false),
    m("p99_us", "us/restart p99", false),
];

/// The figures of `workload` that the summary shows, the headline one first. Spawn has two: what
/// a process costs in time and in memory.
pub(crate) fn metrics(workload: &str) -> &'static [Metric] {
    match workload {
        "spawn" => SPAWN,
        "pingpong" => PINGPONG,
        "ring" => RING,
        "skynet" => SKYNET,
        "call" => CALL,
        "fanout" | "pubsub" => FANOUT,
        "suprestart" => SUPRESTART,
        "suploop" => SUPLOOP,
        "observe" => OBSERVE,
        "registry" => REGISTRY,
        "emit" => EMIT,
        "outcall" => OUTCALL,
        "maincall" => MAINCALL,
        "fairness" => FAIRNESS,
        "timers" => TIMERS,
        "chat" => CHAT,
        _ => &[],
    }
}

/// All workload names, for `--only`.
pub(crate) const WORKLOADS: &[&str] = &[
    "spawn",
    "pingpong",
    "ring",
    "skynet",
    "call",
    "fanout",
    "suprestart",
    "suploop",
    "observe",
    "pubsub",
    "registry",
    "emit",
    "outcall",
    "maincall",
    "fairness",
    "timers",
    "chat",
];

/// Whether `system` implements `workload`. The actor workloads run everywhere; suprestart
/// needs a supervisor (beamish's crate, OTP's `supervisor`) and pubsub a pub/sub or process
/// group layer (beamish's `PubSub`, OTP's `pg`, `ractor::pg`). The runner does not start the
/// others, and tables show "-" for them; registry measures beamish's `Registry` on its own; `beamish-bench` itself refuses them (exit status 3,
/// no result line).
pub(crate) fn implements(workload: &str, system: &str) -> bool {
    match workload {
        // A TCP server loaded from another process; beamish also on `Executor::Tokio`
        // (`beamish-tokio`, this workload only), to compare its scheduler with tokio's where
        // the wake-ups come from tokio's I/O driver. The actor peers have no PubSub; the BEAM
        // uses gen_tcp and pg.
        "chat" => matches!(
            system,
            "beamish" | "beamish-tokio" | "beamish-st" | "beam" | "tokio" | "tokio-st"
        ),
        _ if system == "beamish-tokio" => false,
        "suprestart" | "suploop" => matches!(system, "beamish" | "beamish-st" | "beam"),
        "pubsub" => matches!(system, "beamish" | "beamish-st" | "beam" | "ractor"),
        "registry" | "observe" | "emit" => matches!(system, "beamish" | "beamish-st"),
        // The actor libraries on tokio share tokio's threads, and their timers are a tokio
        // task each: the tokio rows stand for them.
        "fairness" | "timers" => matches!(
            system,
            "beamish" | "beamish-st" | "beam" | "tokio" | "tokio-st"
        ),
        _ => true,
    }
}

/// One benchmark case: a workload and its sizes, as passed to the bench binaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Case {
    pub(crate) workload: &'static str,
    pub(crate) args: Vec<u64>,
}

impl Case {
    fn new(workload: &'static str, args: &[u64]) -> Self {
        Case {
            workload,
            args: args.to_vec(),
        }
    }

    /// Short human label, e.g. `ring 10k x 1M` or `call 100 callers`.
    pub(crate) fn label(&self) -> String {
        let a = &self.args;
        match (self.workload, a.as_slice()) {
            ("spawn", [n]) => format!("spawn {}", si(*n)),
            ("pingpong", [n]) => format!("ping-pong {}", si(*n)),
            ("ring", [nodes, hops]) => format!("ring {} x {}", si(*nodes), si(*hops)),
            ("skynet", [leaves]) => format!("skynet {}", si(*leaves)),
            ("call", [1, total]) => format!("call 1 caller {}", si(*total)),
            ("call", [callers, total]) => format!("call {callers} callers {}", si(*total)),
            ("fanout", [subs, msgs]) => format!("fanout {} x {msgs}", si(*subs)),
            ("suprestart", [kills]) => format!("sup restart {} kills", si(*kills)),
            ("suploop", [restarts]) => format!("sup crash loop {}", si(*restarts)),
            ("observe", [n, idle]) => format!("observe ping-pong {} among {}", si(*n), si(*idle)),
            ("pubsub", [subs, msgs]) => format!("pubsub {} x {msgs}", si(*subs)),
            ("registry", [procs, parts, rounds]) => {
                format!("registry {procs}p {parts}part {}", si(*rounds))
            }
            ("emit", [n]) => format!("emit, no handler {}", si(*n)),
            ("outcall", [1, total]) => format!("call from a tokio task {}", si(*total)),
            ("outcall", [callers, total]) => {
                format!("call from {callers} tokio tasks {}", si(*total))
            }
            ("maincall", [total]) => format!("call from the main body {}", si(*total)),
            ("fairness", [hogs]) => format!("fairness, {hogs} hogs on 2 workers"),
            ("timers", [n]) => format!("timers {} pending", si(*n)),
            ("chat", [clients, rooms, ..]) => {
                format!("chat {} clients {rooms} rooms", si(*clients))
            }
            (w, _) => format!("{w} {}", self.arg_strings().join(" ")),
        }
    }

    /// The arguments as command-line words.
    pub(crate) fn arg_strings(&self) -> Vec<String> {
        self.args.iter().map(u64::to_string).collect()
    }

    /// Whether the BEAM needs a process table larger than its default of 262,144 entries.
    pub(crate) fn needs_big_process_table(&self) -> bool {
        match (self.workload, self.args.as_slice()) {
            ("spawn", [n]) => *n > 200_000,
            // A tree with L leaves has about 1.11 L processes, most of them alive at once.
            ("skynet", [leaves]) => *leaves > 100_000,
            _ => false,
        }
    }
}

/// `1000000` -> `1M`, `10000` -> `10k`; other numbers as they are.
pub(crate) fn si(n: u64) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

/// The cases of a full run: the anchors' sizes.
pub(crate) fn full_cases() -> Vec<Case> {
    vec![
        Case::new("spawn", &[100_000]),
        Case::new("spawn", &[1_000_000]),
        Case::new("pingpong", &[1_000_000]),
        Case::new("ring", &[10_000, 1_000_000]),
        Case::new("skynet", &[1_000_000]),
        Case::new("call", &[1, 1_000_000]),
        Case::new("call", &[100, 1_000_000]),
        Case::new("fanout", &[10_000, 100]),
        Case::new("suprestart", &[10_000]),
        Case::new("suploop", &[10_000]),
        // Ping-pong while an observer reads the table of 10k processes every 10 ms.
        Case::new("observe", &[4_000_000, 10_000]),
        Case::new("pubsub", &[10_000, 100]),
        // Register, look up and unregister: 1 or 2 processes (one per runtime thread), 1 or 2
        // partitions. Kept small: the registry's watchers make long runs superlinear for now.
        Case::new("registry", &[1, 1, 20_000]),
        Case::new("registry", &[1, 2, 20_000]),
        Case::new("registry", &[2, 1, 20_000]),
        Case::new("registry", &[2, 2, 20_000]),
        // The cost of a telemetry event nobody listens to (issue 5): one atomic load.
        Case::new("emit", &[100_000_000]),
        // Calls from tokio code into the system (issue 14): an HTTP handler's view.
        Case::new("outcall", &[1, 200_000]),
        Case::new("outcall", &[100, 1_000_000]),
        Case::new("maincall", &[200_000]),
        // A 1 ms ticker beside processes computing 5 x 200 ms without an await (issue 14).
        Case::new("fairness", &[2]),
        Case::new("fairness", &[4]),
        // A million pending timers, all due at once (issue 14).
        Case::new("timers", &[1_000_000]),
        // A TCP chat server loaded from another process (issue 14): CLIENTS ROOMS BURST RATE,
        // each client sending BURST messages at once, then RATE messages/s for 2 s in all.
        // The paced rates keep about 20k deliveries/s, well below every system's burst rate,
        // so that latency is not queueing.
        Case::new("chat", &[100, 10, 500, 2_000]),
        Case::new("chat", &[2_000, 20, 10, 200]),
    ]
}

/// The cases of `--quick`: small enough that three rounds of every system take under two
/// minutes, large enough that start-up costs do not dominate.
pub(crate) fn quick_cases() -> Vec<Case> {
    vec![
        Case::new("spawn", &[100_000]),
        Case::new("pingpong", &[200_000]),
        Case::new("ring", &[10_000, 200_000]),
        // Skynet's 1M-leaf tree takes several seconds on the slower peers; 100k leaves (111k
        // actors) keeps the shape. The binaries check the sum for the leaf count they are given.
        Case::new("skynet", &[100_000]),
        Case::new("call", &[1, 200_000]),
        Case::new("call", &[100, 200_000]),
        Case::new("fanout", &[10_000, 20]),
        Case::new("suprestart", &[2_000]),
        Case::new("suploop", &[2_000]),
        Case::new("observe", &[1_000_000, 10_000]),
        Case::new("pubsub", &[10_000, 20]),
        Case::new("registry", &[1, 1, 10_000]),
        Case::new("registry", &[1, 2, 10_000]),
        Case::new("registry", &[2, 1, 10_000]),
        Case::new("registry", &[2, 2, 10_000]),
        Case::new("emit", &[10_000_000]),
        Case::new("outcall", &[1, 20_000]),
        Case::new("outcall", &[100, 200_000]),
        Case::new("maincall", &[20_000]),
        Case::new("fairness", &[2]),
        Case::new("fairness", &[4]),
        Case::new("timers", &[1_000_000]),
        Case::new("chat", &[100, 10, 200, 2_000]),
        Case::new("chat", &[2_000, 20, 5, 200]),
    ]
}

/// The reference system for ratios: `beamish` when it runs, else tokio-st, else the first.
pub(crate) fn reference(systems: &[String]) -> Option<&str> {
    ["beamish", FALLBACK_REFERENCE]
        .into_iter()
        .find(|r| systems.iter().any(|s| s == r))
        .or_else(|| systems.first().map(String::as_str))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_short() {
        let labels: Vec<String> = full_cases().iter().map(Case::label).collect();
        assert_eq!(
            labels,
            [
                "spawn 100k",
                "spawn 1M",
                "ping-pong 1M",
                "ring 10k x 1M",
                "skynet 1M",
                "call 1 caller 1M",
                "call 100 callers 1M",
                "fanout 10k x 100",
                "sup restart 10k kills",
                "sup crash loop 10k",
                "observe ping-pong 4M among 10k",
                "pubsub 10k x 100",
                "registry 1p 1part 20k",
                "registry 1p 2part 20k",
                "registry 2p 1part 20k",
                "registry 2p 2part 20k",
                "emit, no handler 100M",
                "call from a tokio task 200k",
                "call from 100 tokio tasks 1M",
                "call from the main body 200k",
                "fairness, 2 hogs on 2 workers",
                "fairness, 4 hogs on 2 workers",
                "timers 1M pending",
                "chat 100 clients 10 rooms",
                "chat 2k clients 20 rooms",
            ]
        );
    }

    #[test]
    fn every_case_has_metrics() {
        for case in full_cases().iter().chain(&quick_cases()) {
            assert!(!metrics(case.workload).is_empty(), "{}", case.workload);
            assert!(WORKLOADS.contains(&case.workload));
        }
    }

    #[test]
    fn reference_prefers_beamish_then_tokio_st() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            reference(&s(&["tokio", "beamish", "tokio-st"])),
            Some("beamish")
        );
        assert_eq!(reference(&s(&["tokio", "tokio-st"])), Some("tokio-st"));
        assert_eq!(reference(&s(&["kameo", "ractor"])), Some("kameo"));
        assert_eq!(reference(&[]), None);
    }

    #[test]
    fn only_some_systems_implement_the_library_workloads() {
        for s in SYSTEM_ORDER {
            assert_eq!(implements("ring", s), *s != "beamish-tokio", "{s}");
            let beamish = ["beamish", "beamish-st"].contains(s);
            assert_eq!(implements("registry", s), beamish, "{s}");
            assert_eq!(implements("observe", s), beamish, "{s}");
            assert_eq!(implements("emit", s), beamish, "{s}");
            assert_eq!(implements("suprestart", s), beamish || *s == "beam", "{s}");
            assert_eq!(
                implements("pubsub", s),
                beamish || ["beam", "ractor"].contains(s),
                "{s}"
            );
        }
    }

    #[test]
    fn beamish_tokio_runs_only_chat() {
        for w in WORKLOADS {
            assert_eq!(implements(w, "beamish-tokio"), *w == "chat", "{w}");
        }
        let chat: Vec<&str> = SYSTEM_ORDER
            .iter()
            .copied()
            .filter(|s| implements("chat", s))
            .collect();
        assert_eq!(
            chat,
            [
                "beamish",
                "beamish-tokio",
                "beamish-st",
                "beam",
                "tokio",
                "tokio-st"
            ]
        );
    }

    #[test]
    fn big_process_table_only_for_large_cases() {
        assert!(Case::new("spawn", &[1_000_000]).needs_big_process_table());
        assert!(!Case::new("spawn", &[100_000]).needs_big_process_table());
        assert!(Case::new("skynet", &[1_000_000]).needs_big_process_table());
        assert!(!Case::new("skynet", &[100_000]).needs_big_process_table());
    }
}
