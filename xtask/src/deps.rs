//! The dependency rules that `cargo xtask ci` checks on `cargo metadata`.
//!
//! * Direction: beamish crates depend only on crates below them (the [`LAYERS`] table), so the
//!   core stays small and can never grow a cycle.
//! * Sockets: only `beamish-dist` talks to the network; everything else must stay usable (and
//!   testable) without it. One exception, in [`GATED_SOCKET_USERS`]: `beamish-telemetry` may serve
//!   an operator-facing HTTP endpoint, but only from its `http` feature, which is off by default,
//!   so that its core (which every crate depends on) stays network-free.
//! * Banned crates: nothing in the resolved graph may be a crate listed in [`BANNED`].
//!
//! All rules are pure functions over [`Metadata`] and report every violation at once, so one CI
//! run shows the whole list rather than one problem per run.

use std::fmt::Write as _;

use anyhow::{Result, bail};

use crate::cmd;
use crate::metadata::{DepKind, Metadata, Package};

/// The beamish crates from the bottom of the stack up, each with the beamish crates it may use.
///
/// A crate may only list crates that appear *above* it in this table (a unit test checks it), so
/// dependencies point one way and cannot form a cycle. Crates on the same level (pubsub, flow
/// and dist) do not use each other. A new crate must be added here before
/// CI passes: deciding where it sits is the point.
pub(crate) const LAYERS: &[(&str, &[&str])] = &[
    // Leaves: everything else emits into telemetry or is built on the mailbox.
    ("beamish-telemetry", &[]),
    ("beamish-mailbox", &[]),
    ("beamish-process", &["beamish-telemetry", "beamish-mailbox"]),
    (
        "beamish-supervisor",
        &["beamish-telemetry", "beamish-mailbox", "beamish-process"],
    ),
    // A registry (like Elixir's, itself a supervisor) is a child of a supervision tree:
    // its child specs (`registry/src/child.rs`) use the supervisor crate.
    (
        "beamish-registry",
        &[
            "beamish-telemetry",
            "beamish-mailbox",
            "beamish-process",
            "beamish-supervisor",
        ],
    ),
    (
        "beamish-pubsub",
        &[
            "beamish-telemetry",
            "beamish-mailbox",
            "beamish-process",
            "beamish-supervisor",
            "beamish-registry",
        ],
    ),
    (
        "beamish-flow",
        &[
            "beamish-telemetry",
            "beamish-mailbox",
            "beamish-process",
            "beamish-supervisor",
            "beamish-registry",
        ],
    ),
    (
        "beamish-dist",
        &[
            "beamish-telemetry",
            "beamish-mailbox",
            "beamish-process",
            "beamish-supervisor",
            "beamish-registry",
        ],
    ),
    // The facade re-exports everything.
    (
        "beamish",
        &[
            "beamish-telemetry",
            "beamish-mailbox",
            "beamish-process",
            "beamish-supervisor",
            "beamish-registry",
            "beamish-pubsub",
            "beamish-flow",
            "beamish-dist",
        ],
    ),
];

/// The only beamish crate allowed to open sockets.
const SOCKET_OWNER: &str = "beamish-dist";

/// Crates that may use sockets, but only from one feature of theirs that is off by default: a
/// socket-capable dependency (a [`SOCKET_CRATES`] crate, or tokio with a [`TOKIO_NET_FEATURES`]
/// feature) must be optional and turned on by that feature alone, and a feature entry such as
/// `"tokio/net"` may appear only in that feature's list. Either way no socket code is compiled
/// unless the feature is asked for, and the rule checks that `default` does not ask for it.
///
/// `beamish-telemetry`'s `http` feature is its Prometheus and snapshot endpoint: a server an
/// operator opts into, not a network dependency of the runtime.
pub(crate) const GATED_SOCKET_USERS: &[(&str, &str)] = &[("beamish-telemetry", "http")];

/// Crates that exist to do socket I/O; only [`SOCKET_OWNER`] may declare them (and the crates in
/// [`GATED_SOCKET_USERS`], behind their feature).
const SOCKET_CRATES: &[&str] = &["mio", "socket2"];

/// tokio features that pull in its networking (`full` implies `net`).
const TOKIO_NET_FEATURES: &[&str] = &["net", "full"];

/// Crates that may not appear anywhere in the resolved graph, with the reason shown on failure.
pub(crate) const BANNED: &[(&str, &str)] = &[(
    "bincode",
    "bincode is unmaintained, and its 3.0.0 release is a tombstone that does not compile; \
     use a maintained format such as postcard instead",
)];

/// Runs `cargo metadata` in the workspace and applies every rule; prints a one-line summary.
pub(crate) fn check_workspace() -> Result<()> {
    let json = cmd::capture(cmd::cargo(["metadata", "--format-version", "1"]))?;
    let metadata = Metadata::parse(&json)?;
    let problems = check(&metadata);
    if !problems.is_empty() {
        let mut message = format!("{} dependency rule violation(s):", problems.len());
        for problem in &problems {
            let _ = write!(message, "\n  - {problem}");
        }
        bail!(message);
    }
    println!("{}", summary(&metadata));
    Ok(())
}

/// Every violation of every rule, as messages that say what to change.
pub(crate) fn check(metadata: &Metadata) -> Vec<String> {
    let mut problems = check_direction(metadata);
    problems.extend(check_sockets(metadata));
    problems.extend(check_banned(metadata));
    problems
}

/// The one line printed when all rules pass.
pub(crate) fn summary(metadata: &Metadata) -> String {
    let banned: Vec<&str> = BANNED.iter().map(|(name, _)| *name).collect();
    let crates = match beamish_members(metadata).count() {
        1 => "1 beamish crate depends".to_owned(),
        n => format!("{n} beamish crates depend"),
    };
    let gated: Vec<String> = GATED_SOCKET_USERS
        .iter()
        .map(|(name, feature)| format!("{name} only behind its off-by-default `{feature}` feature"))
        .collect();
    format!(
        "deps ok: {crates} only downward; only {SOCKET_OWNER} uses \
         sockets (tokio/net, {}), and {}; none of [{}] among {} resolved packages",
        SOCKET_CRATES.join(", "),
        gated.join(", "),
        banned.join(", "),
        metadata.resolved.len(),
    )
}

/// True for the facade and for every `beamish-*` crate.
fn is_beamish(name: &str) -> bool {
    name == "beamish" || name.starts_with("beamish-")
}

/// The workspace members the rules apply to (xtask and other tooling are not checked).
fn beamish_members(metadata: &Metadata) -> impl Iterator<Item = &Package> {
    metadata.members.iter().filter(|p| is_beamish(&p.name))
}

/// The beamish crates `name` may use, or `None` if it is not in [`LAYERS`].
fn allowed(name: &str) -> Option<&'static [&'static str]> {
    LAYERS
        .iter()
        .find(|(crate_name, _)| *crate_name == name)
        .map(|(_, uses)| *uses)
}

const ADD_TO_TABLE: &str = "add it to `LAYERS` in xtask/src/deps.rs with the beamish crates it \
                            may use (only crates above it in the table)";

/// Direction rule, on every kind of dependency: a dev-dependency that points up the stack is
/// still a layering leak (cross-crate scenarios belong in the root `tests/`).
fn check_direction(metadata: &Metadata) -> Vec<String> {
    let mut problems = Vec::new();
    for package in beamish_members(metadata) {
        let Some(may_use) = allowed(&package.name) else {
            problems.push(format!(
                "workspace crate `{}` is not in the dependency-direction table: {ADD_TO_TABLE}",
                package.name
            ));
            continue;
        };
        for dep in package.dependencies.iter().filter(|d| is_beamish(&d.name)) {
            if allowed(&dep.name).is_none() {
                problems.push(format!(
                    "`{}` depends on `{}` ([{}]), which is not in the dependency-direction \
                     table: {ADD_TO_TABLE}",
                    package.name,
                    dep.name,
                    dep.kind.section()
                ));
            } else if !may_use.contains(&dep.name.as_str()) {
                let may_use = if may_use.is_empty() {
                    "no beamish crate".to_owned()
                } else {
                    format!("only {}", may_use.join(", "))
                };
                problems.push(format!(
                    "`{}` may not depend on `{}` ([{}]): dependencies point down the stack, and \
                     `{}` may use {may_use} (see `LAYERS` in xtask/src/deps.rs)",
                    package.name,
                    dep.name,
                    dep.kind.section(),
                    package.name
                ));
            }
        }
    }
    problems
}

/// Socket rule, on what a crate ships (normal and build dependencies). Dev-dependencies are
/// exempt: a test may use a socket-capable tokio (`features = ["full"]`) without the library
/// gaining any network code.
///
/// [`SOCKET_OWNER`] may use sockets freely; a crate in [`GATED_SOCKET_USERS`] only from its
/// feature (see there); every other crate not at all.
fn check_sockets(metadata: &Metadata) -> Vec<String> {
    let mut problems = Vec::new();
    for package in beamish_members(metadata).filter(|p| p.name != SOCKET_OWNER) {
        let gate = GATED_SOCKET_USERS
            .iter()
            .find(|(name, _)| *name == package.name)
            .map(|(_, feature)| *feature);
        let only = match gate {
            Some(feature) => format!(
                "only {SOCKET_OWNER} may use sockets, and `{}` only through optional \
                 dependencies that its `{feature}` feature alone turns on",
                package.name
            ),
            None => format!("only {SOCKET_OWNER} may use sockets"),
        };
        let shipped = package
            .dependencies
            .iter()
            .filter(|d| d.kind != DepKind::Dev);
        for dep in shipped {
            let net_features: Vec<&String> = if dep.name == "tokio" {
                dep.features.iter().filter(|f| is_tokio_net(f)).collect()
            } else {
                Vec::new()
            };
            let socket_crate = SOCKET_CRATES.contains(&dep.name.as_str());
            if socket_crate || !net_features.is_empty() {
                match gate {
                    Some(feature) if dep.optional => {
                        for other in enabled_by(package, &dep.local_name, feature) {
                            problems.push(format!(
                                "feature `{other}` of `{}` turns on `{}`, which brings in \
                                 sockets: {only}",
                                package.name, dep.local_name
                            ));
                        }
                    }
                    _ => {
                        if socket_crate {
                            problems.push(format!(
                                "`{}` depends directly on `{}` ([{}]): {only}",
                                package.name,
                                dep.name,
                                dep.kind.section()
                            ));
                        }
                        for feature in net_features {
                            problems.push(format!(
                                "`{}` enables tokio feature `{feature}` ([{}]), which brings in \
                                 sockets: {only}",
                                package.name,
                                dep.kind.section()
                            ));
                        }
                    }
                }
            }
            if dep.name != "tokio" {
                continue;
            }
            // A crate feature such as `net = ["tokio/net"]` turns the same thing on indirectly;
            // only the gate feature of a gated crate may.
            for (feature, enables) in &package.features {
                if gate == Some(feature.as_str()) {
                    continue;
                }
                for enabled in enables {
                    let Some((target, tokio_feature)) = enabled.split_once('/') else {
                        continue;
                    };
                    let target = target.trim_end_matches('?');
                    if target == dep.local_name && is_tokio_net(tokio_feature) {
                        problems.push(format!(
                            "feature `{feature}` of `{}` enables `{enabled}`, which brings in \
                             sockets: {only}",
                            package.name
                        ));
                    }
                }
            }
        }
        if let Some(feature) = gate {
            if let Some(path) = default_path_to(package, feature) {
                problems.push(format!(
                    "`{}` turns on its `{feature}` feature by default ({}): the feature that may \
                     use sockets must be off unless asked for",
                    package.name,
                    path.join(" -> ")
                ));
            }
        }
    }
    problems
}

/// The features of `package` other than `gate` that turn on the optional dependency `local`
/// (`dep:local`, the implicit feature `local`, or `local/feature` without a `?`).
fn enabled_by<'a>(package: &'a Package, local: &str, gate: &str) -> Vec<&'a str> {
    package
        .features
        .iter()
        .filter(|(feature, _)| feature.as_str() != gate)
        .filter(|(_, enables)| {
            enables.iter().any(|e| {
                e.strip_prefix("dep:") == Some(local)
                    || e == local
                    || e.split_once('/').is_some_and(|(target, _)| target == local)
            })
        })
        .map(|(feature, _)| feature.as_str())
        .collect()
}

/// The chain of features from `default` to `feature`, if `default` turns it on.
fn default_path_to(package: &Package, feature: &str) -> Option<Vec<String>> {
    let mut paths = vec![vec!["default".to_owned()]];
    let mut seen = vec!["default".to_owned()];
    while let Some(path) = paths.pop() {
        let last = path.last().expect("a path is never empty");
        if last == feature {
            return Some(path);
        }
        for next in package.features.get(last).into_iter().flatten() {
            if package.features.contains_key(next) && !seen.contains(next) {
                seen.push(next.clone());
                let mut longer = path.clone();
                longer.push(next.clone());
                paths.push(longer);
            }
        }
    }
    None
}

fn is_tokio_net(feature: &str) -> bool {
    TOKIO_NET_FEATURES.contains(&feature)
}

/// Banned-crate rule, on the whole resolved graph (all targets, all kinds), since a banned crate
/// is a problem however deep it sits.
fn check_banned(metadata: &Metadata) -> Vec<String> {
    let mut problems = Vec::new();
    for (banned, why) in BANNED {
        for node in metadata.resolved.iter().filter(|n| n.name == *banned) {
            let id = format!("{} v{}", node.name, node.version);
            let dependents: Vec<String> = metadata
                .resolved
                .iter()
                .filter(|n| n.deps.contains(&id))
                .map(|n| format!("{} v{}", n.name, n.version))
                .collect();
            let via = if dependents.is_empty() {
                String::new()
            } else {
                format!(", pulled in by {}", dependents.join(", "))
            };
            problems.push(format!(
                "`{id}` is in the dependency graph{via}: {why} (see `cargo tree -i {}@{}`)",
                node.name, node.version
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    /// A declared dependency in `cargo metadata`'s shape.
    fn dep(name: &str, kind: Option<&str>, features: &[&str]) -> Value {
        json!({
            "name": name, "source": null, "req": "*", "kind": kind, "rename": null,
            "optional": false, "uses_default_features": true, "features": features,
            "target": null,
        })
    }

    fn id(name: &str) -> String {
        format!("path+file:///ws/{name}#{name}@0.1.0")
    }

    /// A metadata document whose workspace is `members` (name, declared deps, features table)
    /// and whose resolved graph is `graph` (name, version, names of its resolved deps).
    fn metadata(
        members: Vec<(&str, Vec<Value>, Value)>,
        graph: &[(&str, &str, &[&str])],
    ) -> Metadata {
        let mut packages: Vec<Value> = members
            .iter()
            .map(|(name, deps, features)| {
                json!({
                    "name": name, "version": "0.1.0", "id": id(name),
                    "dependencies": deps, "features": features,
                })
            })
            .collect();
        let node_id = |name: &str| {
            graph
                .iter()
                .find(|(n, _, _)| *n == name)
                .map(|(n, v, _)| format!("registry+https://example.invalid#{n}@{v}"))
                .unwrap_or_else(|| id(name))
        };
        for (name, version, _) in graph {
            packages.push(json!({
                "name": name, "version": version, "id": node_id(name),
                "dependencies": [], "features": {},
            }));
        }
        let mut nodes: Vec<Value> = graph
            .iter()
            .map(|(name, _, deps)| {
                let deps: Vec<String> = deps.iter().map(|d| node_id(d)).collect();
                json!({ "id": node_id(name), "dependencies": deps, "deps": [] })
            })
            .collect();
        for (name, _, _) in &members {
            nodes.push(json!({ "id": id(name), "dependencies": [], "deps": [] }));
        }
        let doc = json!({
            "packages": packages,
            "workspace_members": members.iter().map(|(n, _, _)| id(n)).collect::<Vec<_>>(),
            "resolve": { "nodes": nodes, "root": null },
            "version": 1,
        });
        Metadata::from_value(&doc).expect("test metadata parses")
    }

    fn member(name: &str, deps: Vec<Value>) -> (&str, Vec<Value>, Value) {
        (name, deps, json!({}))
    }

    fn normal(name: &str) -> Value {
        dep(name, None, &[])
    }

    /// The workspace as ARCHITECTURE.md plans it, plus a tokio that the process crate uses.
    fn healthy() -> Vec<(&'static str, Vec<Value>, Value)> {
        vec![
            member("beamish-mailbox", vec![dep("loom", Some("dev"), &[])]),
            member(
                "beamish-process",
                vec![
                    normal("beamish-mailbox"),
                    dep("tokio", None, &["rt", "sync", "time"]),
                    dep("tokio", Some("dev"), &["full"]),
                ],
            ),
            member(
                "beamish",
                vec![normal("beamish-mailbox"), normal("beamish-process")],
            ),
            member(
                "xtask",
                vec![normal("anyhow"), dep("beamish-dist", None, &[])],
            ),
        ]
    }

    #[test]
    fn the_table_only_points_down() {
        for (i, (name, uses)) in LAYERS.iter().enumerate() {
            assert!(is_beamish(name), "{name} is not a beamish crate name");
            let below: Vec<&str> = LAYERS[..i].iter().map(|(n, _)| *n).collect();
            for used in *uses {
                assert!(
                    below.contains(used),
                    "{name} may use {used}, which is not below it"
                );
            }
            assert_eq!(
                LAYERS.iter().filter(|(n, _)| n == name).count(),
                1,
                "{name} is listed twice"
            );
        }
    }

    #[test]
    fn the_table_says_what_the_architecture_says() {
        assert_eq!(allowed("beamish-mailbox"), Some(&[][..]));
        assert_eq!(allowed("beamish-telemetry"), Some(&[][..]));
        let registry = allowed("beamish-registry").unwrap();
        let supervisor = allowed("beamish-supervisor").unwrap();
        // A registry is a supervised child (its child specs); a supervisor knows no registry.
        assert!(registry.contains(&"beamish-supervisor"));
        assert!(!supervisor.contains(&"beamish-registry"));
        let top = ["beamish-pubsub", "beamish-flow", "beamish-dist"];
        for a in top {
            assert!(allowed(a).unwrap().contains(&"beamish-process"));
            for b in top {
                assert!(!allowed(a).unwrap().contains(&b), "{a} may use {b}");
            }
        }
        assert!(
            allowed("beamish-pubsub")
                .unwrap()
                .contains(&"beamish-registry")
        );
        assert_eq!(allowed("beamish").unwrap().len(), LAYERS.len() - 1);
    }

    #[test]
    fn a_healthy_workspace_passes_and_ignores_tooling() {
        let meta = metadata(healthy(), &[("tokio", "1.48.0", &[])]);
        assert_eq!(check(&meta), Vec::<String>::new());
        let line = summary(&meta);
        assert!(line.starts_with("deps ok: 3 beamish crates"), "{line}");
        assert!(line.contains("among 5 resolved packages"), "{line}");
    }

    #[test]
    fn mailbox_may_not_use_process_even_in_tests() {
        let mut members = healthy();
        members[0].1.push(dep("beamish-process", Some("dev"), &[]));
        let problems = check(&metadata(members, &[]));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with(
                "`beamish-mailbox` may not depend on `beamish-process` ([dev-dependencies])"
            ),
            "{}",
            problems[0]
        );
        assert!(problems[0].contains("`beamish-mailbox` may use no beamish crate ("));
    }

    #[test]
    fn siblings_may_not_use_each_other() {
        let members = vec![
            member("beamish-supervisor", vec![normal("beamish-registry")]),
            member("beamish-registry", vec![normal("beamish-supervisor")]),
            member("beamish-dist", vec![normal("beamish-pubsub")]),
            member("beamish-flow", vec![normal("beamish-dist")]),
            member(
                "beamish-pubsub",
                vec![normal("beamish-registry"), normal("beamish-supervisor")],
            ),
        ];
        let problems = check(&metadata(members, &[]));
        let offenders: Vec<&str> = problems
            .iter()
            .map(|p| p.split(" may not").next().unwrap())
            .collect();
        assert_eq!(
            offenders,
            ["`beamish-supervisor`", "`beamish-dist`", "`beamish-flow`"]
        );
        assert!(
            problems[0].contains(
                "`beamish-supervisor` may use only beamish-telemetry, beamish-mailbox, \
                 beamish-process ("
            ),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn unknown_crates_ask_to_be_added_to_the_table() {
        let members = vec![
            member("beamish-cluster", vec![]),
            member("beamish-process", vec![normal("beamish-timer")]),
        ];
        let problems = check(&metadata(members, &[]));
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("workspace crate `beamish-cluster` is not in the"));
        assert!(problems[1].starts_with("`beamish-process` depends on `beamish-timer`"));
        for p in &problems {
            assert!(p.contains("add it to `LAYERS` in xtask/src/deps.rs"), "{p}");
        }
    }

    #[test]
    fn only_dist_may_use_sockets() {
        let members = vec![
            member(
                "beamish-dist",
                vec![dep("tokio", None, &["net"]), normal("socket2")],
            ),
            member("beamish-process", vec![dep("tokio", None, &["rt", "net"])]),
            member(
                "beamish-registry",
                vec![dep("tokio", Some("build"), &["full"])],
            ),
            member("beamish-pubsub", vec![normal("mio")]),
            member("beamish-flow", vec![dep("socket2", Some("dev"), &[])]),
        ];
        let problems = check(&metadata(members, &[]));
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems[0]
                .starts_with("`beamish-process` enables tokio feature `net` ([dependencies])")
        );
        assert!(
            problems[1].starts_with(
                "`beamish-registry` enables tokio feature `full` ([build-dependencies])"
            )
        );
        assert!(problems[2].starts_with("`beamish-pubsub` depends directly on `mio`"));
    }

    #[test]
    fn a_crate_feature_that_enables_tokio_net_is_caught() {
        let mut tokio = dep("tokio", None, &["rt"]);
        tokio["rename"] = json!("rt");
        tokio["optional"] = json!(true);
        let members = vec![(
            "beamish-process",
            vec![tokio],
            json!({ "default": [], "tcp": ["rt?/net"], "timers": ["rt/time"] }),
        )];
        let problems = check(&metadata(members, &[]));
        assert_eq!(
            problems,
            [
                "feature `tcp` of `beamish-process` enables `rt?/net`, which brings in sockets: \
              only beamish-dist may use sockets"
            ]
        );
    }

    /// An optional dependency, renamed to `local` (as one declares a second, socket-capable
    /// tokio next to the always-on one).
    fn optional(name: &str, local: &str, features: &[&str]) -> Value {
        let mut d = dep(name, None, features);
        d["rename"] = json!(local);
        d["optional"] = json!(true);
        d
    }

    /// telemetry's core tokio (time only) plus what a test adds, with a features table.
    fn telemetry(extra: Vec<Value>, features: Value) -> (&'static str, Vec<Value>, Value) {
        let mut deps = vec![
            dep("tokio", None, &["time"]),
            dep("tokio", Some("dev"), &["full"]),
        ];
        deps.extend(extra);
        ("beamish-telemetry", deps, features)
    }

    #[test]
    fn telemetry_may_use_sockets_behind_its_optional_http_feature() {
        // An optional socket-capable tokio that only `http` turns on.
        let optional_dep = telemetry(
            vec![
                optional("tokio", "tokio-net", &["net", "rt"]),
                optional("socket2", "socket2", &[]),
            ],
            json!({
                "default": [],
                "metrics": [],
                "http": ["metrics", "dep:tokio-net", "dep:socket2"],
                "everything": ["http"],
            }),
        );
        assert_eq!(
            check(&metadata(vec![optional_dep], &[])),
            Vec::<String>::new()
        );

        // The same through a feature of the always-on tokio, as telemetry's manifest does it:
        // nothing socket-capable is compiled unless `http` is asked for.
        let feature_of_tokio = telemetry(
            vec![],
            json!({ "default": [], "http": ["tokio/net", "tokio/rt"] }),
        );
        let meta = metadata(vec![feature_of_tokio], &[]);
        assert_eq!(check(&meta), Vec::<String>::new());
        let line = summary(&meta);
        assert!(
            line.contains(
                "only beamish-dist uses sockets (tokio/net, mio, socket2), and \
                 beamish-telemetry only behind its off-by-default `http` feature;"
            ),
            "{line}"
        );
    }

    #[test]
    fn telemetry_may_not_use_sockets_outside_its_http_feature() {
        let not_optional = telemetry(
            vec![dep("tokio", None, &["net"]), normal("mio")],
            json!({ "default": [], "http": [] }),
        );
        let problems = check(&metadata(vec![not_optional], &[]));
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].starts_with(
                "`beamish-telemetry` enables tokio feature `net` ([dependencies]), which brings \
                 in sockets: only beamish-dist may use sockets, and `beamish-telemetry` only \
                 through optional dependencies that its `http` feature alone turns on"
            ),
            "{}",
            problems[0]
        );
        assert!(
            problems[1].starts_with("`beamish-telemetry` depends directly on `mio`"),
            "{}",
            problems[1]
        );

        // Optional, but another feature (or the implicit one named after it) turns it on.
        let other_feature = telemetry(
            vec![
                optional("tokio", "tokio-net", &["net"]),
                optional("socket2", "socket2", &[]),
            ],
            json!({
                "http": ["dep:tokio-net"],
                "raw": ["tokio-net/rt"],
                "socket2": ["dep:socket2"],
                "weak": ["tokio-net?/rt"],
            }),
        );
        let problems = check(&metadata(vec![other_feature], &[]));
        assert_eq!(
            problems,
            [
                "feature `raw` of `beamish-telemetry` turns on `tokio-net`, which brings in \
                 sockets: only beamish-dist may use sockets, and `beamish-telemetry` only \
                 through optional dependencies that its `http` feature alone turns on",
                "feature `socket2` of `beamish-telemetry` turns on `socket2`, which brings in \
                 sockets: only beamish-dist may use sockets, and `beamish-telemetry` only \
                 through optional dependencies that its `http` feature alone turns on",
            ]
        );

        // `tokio/net` from a feature other than `http`.
        let wrong_feature = telemetry(vec![], json!({ "http": [], "tcp": ["tokio/net"] }));
        let problems = check(&metadata(vec![wrong_feature], &[]));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("feature `tcp` of `beamish-telemetry` enables `tokio/net`")
        );
    }

    #[test]
    fn telemetrys_http_feature_may_not_be_on_by_default() {
        let by_default = telemetry(
            vec![optional("tokio", "tokio-net", &["net"])],
            json!({
                "default": ["batteries"],
                "batteries": ["metrics", "http"],
                "metrics": [],
                "http": ["dep:tokio-net"],
            }),
        );
        let problems = check(&metadata(vec![by_default], &[]));
        assert_eq!(
            problems,
            [
                "`beamish-telemetry` turns on its `http` feature by default (default -> \
                 batteries -> http): the feature that may use sockets must be off unless asked \
                 for"
            ]
        );
    }

    #[test]
    fn no_other_crate_gets_the_http_exception() {
        let process = (
            "beamish-process",
            vec![optional("tokio", "tokio-net", &["net"])],
            json!({ "http": ["dep:tokio-net", "tokio-net/rt"] }),
        );
        let problems = check(&metadata(vec![process], &[]));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            problems[0],
            "`beamish-process` enables tokio feature `net` ([dependencies]), which brings in \
             sockets: only beamish-dist may use sockets"
        );
    }

    #[test]
    fn bincode_anywhere_in_the_graph_fails_and_names_who_pulls_it_in() {
        let graph: &[(&str, &str, &[&str])] = &[
            ("some-codec", "0.2.0", &["bincode"]),
            ("bincode", "3.0.0", &[]),
            ("serde", "1.0.0", &[]),
        ];
        let problems = check(&metadata(healthy(), graph));
        assert_eq!(problems.len(), 1, "{problems:?}");
        let p = &problems[0];
        assert!(
            p.starts_with(
                "`bincode v3.0.0` is in the dependency graph, pulled in by some-codec v0.2.0:"
            ),
            "{p}"
        );
        assert!(p.contains("unmaintained") && p.contains("tombstone"), "{p}");
        assert!(p.ends_with("(see `cargo tree -i bincode@3.0.0`)"), "{p}");
    }

    #[test]
    fn metadata_without_a_resolve_section_is_an_error() {
        let doc = json!({ "packages": [], "workspace_members": [], "resolve": null });
        let err = Metadata::from_value(&doc).unwrap_err().to_string();
        assert!(err.contains("--no-deps"), "{err}");
    }
}
