//! A Namespace's Pod Security labels (`pod-security.kubernetes.io/enforce`,
//! `…/enforce-version`), read as PSA's `api.PolicyToEvaluate` reads them.
//!
//! The labels add a (level, version) pair to the pods of that namespace; they
//! never replace the configured one (see the module doc of
//! [`crate::engine::manifests::admission::pss`] for why). As in PSA, a label that is
//! absent falls back to the default — here the configured
//! `admission.level`/`admission.version`, which play the role of the
//! cluster's `AdmissionConfiguration` defaults — and an invalid level is
//! `restricted`, an invalid version `latest` (PSA fails closed the same
//! way; the API server also rejects such a Namespace, which we report).

use std::collections::HashMap;

use crate::engine::config::PssLevel;
use crate::engine::manifests::object::{Object, load_objects};
use crate::engine::manifests::violation::Violation;
use crate::engine::yaml::{Limits, Node, Value};

use super::INVALID_MANIFEST;
use super::read::{quote, show};
use super::version::PsaVersion;

/// `pod-security.kubernetes.io/enforce`.
pub const ENFORCE_LABEL: &str = "pod-security.kubernetes.io/enforce";
/// `pod-security.kubernetes.io/enforce-version`.
pub const ENFORCE_VERSION_LABEL: &str = "pod-security.kubernetes.io/enforce-version";

/// A level at a version (PSA's `api.LevelVersion`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LevelVersion {
    /// The level (`None` is PSA's `privileged`).
    pub level: PssLevel,
    /// The policy version.
    pub version: PsaVersion,
}

/// What a Namespace's labels ask for; a `None` half falls back to the
/// configured default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NamespaceLabels {
    /// From `enforce` (an invalid value reads as restricted).
    pub level: Option<PssLevel>,
    /// From `enforce-version` (an invalid value reads as latest).
    pub version: Option<PsaVersion>,
}

impl NamespaceLabels {
    /// The pair this namespace enforces, given the configured default.
    pub fn resolve(self, default: LevelVersion) -> LevelVersion {
        LevelVersion {
            level: self.level.unwrap_or(default.level),
            version: self.version.unwrap_or(default.version),
        }
    }
}

/// Reads the enforce labels of a Namespace object: `None` for other kinds
/// and for a Namespace with neither label. Problems (values the API server
/// rejects) are returned as `invalid-manifest` violations.
pub fn read_labels(obj: &Object) -> (Option<NamespaceLabels>, Vec<Violation>) {
    let mut problems = Vec::new();
    if obj.kind != "Namespace" || obj.api_version != "v1" {
        return (None, problems);
    }
    let Some(labels) = obj.root.get("metadata").and_then(|m| m.get("labels")) else {
        return (None, problems);
    };
    let read = |key: &str| -> Option<(u32, Result<&str, &Node>)> {
        let e = labels.entry(key)?;
        match &e.value.value {
            Value::Str(s) => Some((e.key_span.line, Ok(s.as_str()))),
            // A label value must be a string; `null` or a number makes the
            // API server reject the object.
            _ => Some((e.key_span.line, Err(&e.value))),
        }
    };
    let level = read(ENFORCE_LABEL).map(|(line, v)| match v {
        Ok("privileged") => PssLevel::None,
        Ok("baseline") => PssLevel::Baseline,
        Ok("restricted") => PssLevel::Restricted,
        other => {
            let shown = match other {
                Ok(s) => quote(s),
                Err(n) => format!("{} (a {})", show(n), n.type_name()),
            };
            problems.push(Violation::new(
                INVALID_MANIFEST,
                line,
                format!(
                    "metadata.labels[{}] is {shown}; must be one of privileged, baseline, restricted (the API server rejects the Namespace, and Pod Security reads an invalid level as restricted, which is applied to its pods)",
                    quote(ENFORCE_LABEL)
                ),
            ));
            PssLevel::Restricted
        }
    });
    let version = read(ENFORCE_VERSION_LABEL).map(|(line, v)| {
        let parsed = match v {
            Ok(s) => PsaVersion::parse(s).map_err(|e| e.to_string()),
            Err(n) => Err(format!(
                "{} (a {}) is not a string",
                show(n),
                n.type_name()
            )),
        };
        parsed.unwrap_or_else(|why| {
            problems.push(Violation::new(
                INVALID_MANIFEST,
                line,
                format!(
                    "metadata.labels[{}]: {why} (the API server rejects the Namespace, and Pod Security reads an invalid version as latest, which is applied to its pods)",
                    quote(ENFORCE_VERSION_LABEL)
                ),
            ));
            PsaVersion::Latest
        })
    });
    if level.is_none() && version.is_none() {
        return (None, problems);
    }
    (Some(NamespaceLabels { level, version }), problems)
}

/// The labelled Namespaces of a set of files, by name. A namespace declared
/// more than once (overlays for several clusters) keeps every declaration:
/// each one's labels apply.
#[derive(Clone, Debug, Default)]
pub struct NamespacePolicies {
    by_name: HashMap<String, Vec<NamespaceLabels>>,
}

impl NamespacePolicies {
    /// Collects the labelled Namespaces of `files` (path, text). Only files
    /// that mention the label prefix are parsed; unreadable files are
    /// reported when they are evaluated themselves.
    pub fn load<'a>(files: impl Iterator<Item = (&'a str, &'a str)>, limits: &Limits) -> Self {
        let mut out = Self::default();
        for (path, text) in files {
            if !text.contains("pod-security.kubernetes.io/enforce") {
                continue;
            }
            for obj in load_objects(path, text, limits).objects {
                out.add(&obj);
            }
        }
        out
    }

    /// Adds one object (ignored unless it is a labelled Namespace).
    pub fn add(&mut self, obj: &Object) {
        if let (Some(labels), _) = read_labels(obj)
            && !obj.name.is_empty()
        {
            self.by_name
                .entry(obj.name.clone())
                .or_default()
                .push(labels);
        }
    }

    /// The labels declared for namespace `name`.
    pub fn labels(&self, name: &str) -> &[NamespaceLabels] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }

    /// True when no Namespace carries a label.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}
