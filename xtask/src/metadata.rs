//! The slice of `cargo metadata --format-version 1` that the dependency checks read.
//!
//! Parsed from a `serde_json::Value` into small owned types, so that the rules in `deps.rs` are
//! plain functions over plain data and can be tested on hand-made JSON without running cargo.

use std::collections::{BTreeMap, HashMap};

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// What the checks need from one `cargo metadata` document.
#[derive(Debug)]
pub(crate) struct Metadata {
    /// The workspace members, as declared in their manifests.
    pub(crate) members: Vec<Package>,
    /// Every package in the resolved dependency graph (`resolve.nodes`), members included.
    pub(crate) resolved: Vec<Node>,
}

/// A workspace member and its declared dependencies.
#[derive(Debug)]
pub(crate) struct Package {
    /// The package name, e.g. `beamish-mailbox`.
    pub(crate) name: String,
    /// Dependencies as written in the manifest (after workspace inheritance), all kinds.
    pub(crate) dependencies: Vec<Dependency>,
    /// The package's `[features]` table: feature name to what it enables.
    pub(crate) features: BTreeMap<String, Vec<String>>,
}

/// One declared dependency of a workspace member.
#[derive(Debug)]
pub(crate) struct Dependency {
    /// The depended-on package's real name (not the `package = ...` rename).
    pub(crate) name: String,
    /// The name the manifest refers to it by: the rename if any, else `name`.
    pub(crate) local_name: String,
    /// Normal, dev or build dependency.
    pub(crate) kind: DepKind,
    /// Features the manifest enables on it.
    pub(crate) features: Vec<String>,
    /// Declared `optional = true`: built only when a feature of the package turns it on.
    pub(crate) optional: bool,
}

/// Which section of the manifest declares a dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DepKind {
    /// `[dependencies]` (or a `[target.*.dependencies]` table).
    Normal,
    /// `[dev-dependencies]`: tests, examples and benches only.
    Dev,
    /// `[build-dependencies]`.
    Build,
}

impl DepKind {
    /// The manifest section name, for messages.
    pub(crate) fn section(self) -> &'static str {
        match self {
            DepKind::Normal => "dependencies",
            DepKind::Dev => "dev-dependencies",
            DepKind::Build => "build-dependencies",
        }
    }
}

/// One package in the resolved graph.
#[derive(Debug)]
pub(crate) struct Node {
    /// Package name.
    pub(crate) name: String,
    /// Package version.
    pub(crate) version: String,
    /// Names (with versions) of the packages this one depends on in the resolved graph.
    pub(crate) deps: Vec<String>,
}

impl Metadata {
    /// Parses the JSON printed by `cargo metadata --format-version 1` (without `--no-deps`).
    pub(crate) fn parse(json: &str) -> Result<Self> {
        let value: Value =
            serde_json::from_str(json).context("`cargo metadata` did not print valid JSON")?;
        Self::from_value(&value)
    }

    /// Builds the model from an already parsed metadata document.
    pub(crate) fn from_value(value: &Value) -> Result<Self> {
        let packages = array(value, "packages")?;
        let member_ids: Vec<&str> = array(value, "workspace_members")?
            .iter()
            .map(|id| {
                id.as_str()
                    .context("`workspace_members` holds a non-string")
            })
            .collect::<Result<_>>()?;

        // Node ids are opaque (their format changed in cargo 1.77), so names come from the
        // package list, which holds every resolved package when `--no-deps` is not given.
        let mut by_id = HashMap::new();
        for package in packages {
            by_id.insert(string(package, "id")?, package);
        }

        let members = member_ids
            .iter()
            .map(|id| {
                let package = by_id
                    .get(id)
                    .with_context(|| format!("workspace member `{id}` is not in `packages`"))?;
                Package::from_value(package)
            })
            .collect::<Result<_>>()?;

        let resolve = value.get("resolve").filter(|r| !r.is_null()).context(
            "`cargo metadata` printed no `resolve` section (was it run with `--no-deps`?)",
        )?;
        let name_of = |id: &str| -> Result<String> {
            let package = by_id
                .get(id)
                .with_context(|| format!("resolved package `{id}` is not in `packages`"))?;
            Ok(format!(
                "{} v{}",
                string(package, "name")?,
                string(package, "version")?
            ))
        };
        let resolved = array(resolve, "nodes")?
            .iter()
            .map(|node| {
                let package = by_id
                    .get(string(node, "id")?)
                    .with_context(|| "a resolved node is not in `packages`")?;
                let deps = array(node, "dependencies")?
                    .iter()
                    .map(|d| name_of(d.as_str().context("a node dependency is not a string")?))
                    .collect::<Result<_>>()?;
                Ok(Node {
                    name: string(package, "name")?.to_owned(),
                    version: string(package, "version")?.to_owned(),
                    deps,
                })
            })
            .collect::<Result<_>>()?;

        Ok(Metadata { members, resolved })
    }
}

impl Package {
    fn from_value(value: &Value) -> Result<Self> {
        let name = string(value, "name")?.to_owned();
        let dependencies = array(value, "dependencies")?
            .iter()
            .map(Dependency::from_value)
            .collect::<Result<_>>()
            .with_context(|| format!("reading the dependencies of `{name}`"))?;
        let mut features = BTreeMap::new();
        if let Some(table) = value.get("features").and_then(Value::as_object) {
            for (feature, enables) in table {
                let enables = enables
                    .as_array()
                    .with_context(|| format!("feature `{feature}` of `{name}` is not a list"))?
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect();
                features.insert(feature.clone(), enables);
            }
        }
        Ok(Package {
            name,
            dependencies,
            features,
        })
    }
}

impl Dependency {
    fn from_value(value: &Value) -> Result<Self> {
        let name = string(value, "name")?.to_owned();
        let local_name = value
            .get("rename")
            .and_then(Value::as_str)
            .unwrap_or(&name)
            .to_owned();
        let kind = match value.get("kind").and_then(Value::as_str) {
            None => DepKind::Normal,
            Some("dev") => DepKind::Dev,
            Some("build") => DepKind::Build,
            Some(other) => bail!("dependency `{name}` has unknown kind `{other}`"),
        };
        let features = value
            .get("features")
            .and_then(Value::as_array)
            .map(|fs| {
                fs.iter()
                    .filter_map(|f| f.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let optional = value
            .get("optional")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        Ok(Dependency {
            name,
            local_name,
            kind,
            features,
            optional,
        })
    }
}

fn array<'a>(value: &'a Value, key: &str) -> Result<&'a Vec<Value>> {
    value
        .get(key)
        .and_then(Value::as_array)
        .with_context(|| format!("`cargo metadata` output lacks the list `{key}`"))
}

fn string<'a>(value: &'a Value, key: &str) -> Result<&'a str> {
    value
        .get(key)
        .and_then(Value::as_str)
        .with_context(|| format!("`cargo metadata` output lacks the string `{key}`"))
}
