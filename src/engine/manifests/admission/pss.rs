//! Pod Security Standards, baseline and restricted, as upstream
//! `k8s.io/pod-security-admission` evaluates them at a policy version
//! (`admission.version`, PSA's `enforce-version`; default `latest`, v1.37).
//!
//! Every PSA check is registered with versioned implementations
//! (`VersionedCheck{MinimumVersion, CheckPod}`); each control here follows
//! them (see `baseline.rs`, `restricted.rs`): `allowPrivilegeEscalation` from
//! v1.8, the seccomp fields from v1.19 (annotations before), restricted
//! capabilities from v1.22, `runAsUser` from v1.23, the Windows exemptions
//! from v1.25, the sysctl lists of v1.27/1.29/1.32/1.37, `container_engine_t`
//! from v1.31, probe and lifecycle hosts from v1.34, the `hostUsers: false`
//! relaxations and restricted `procMount` from v1.35. A version newer than
//! the newest known one is `latest`, as in PSA.
//!
//! The legacy seccomp annotations are judged as each version sees them
//! (read by PSA before v1.19, copied into the fields by the API server
//! until v1.26, without effect from v1.27 — then reported as a warning that
//! says so, an *advisory* finding that fails no level).
//!
//! # Namespace labels
//!
//! A Namespace in the repository with `pod-security.kubernetes.io/enforce`
//! and/or `…/enforce-version` labels applies that (level, version) to the
//! pods of the namespace, as PSA does at admission (an absent label falls
//! back to `admission.level`/`admission.version`, as PSA falls back to the
//! cluster defaults). It is applied **in addition to** the configured pair,
//! never instead of it: the org/repo config is the floor, and a tenant
//! controls its namespace's labels (a PR may change them), so a label must
//! not be able to weaken it. A pod must pass both: a stricter label
//! (`restricted` where the config says `baseline`) turns its violations
//! into errors; a looser one (`privileged`, or an old version that lacks
//! checks) removes nothing. Versions are neither tighter nor looser in
//! general (older ones lack checks, newer ones relax some), so a label's
//! version adds its own checks to the configured version's. Only `enforce`
//! labels are read (`warn`/`audit` deny nothing in PSA).
//!
//! Every pod of an object is checked (see [`crate::engine::manifests::podspec`]),
//! with all three container lists. Where PSA and this module differ it is on
//! purpose, and stricter:
//! - PSA enforces on Pods only; we check templates too (a workload whose
//!   template fails would create pods that fail).
//! - A wrongly typed field (`privileged: "true"`) makes the API server
//!   reject the object; we report it under the control that reads it.
//! - PSA's restricted profile drops the baseline capability/seccomp checks
//!   for Windows pods (v1.25+); we keep the baseline halves (the API server
//!   rejects Linux security fields on Windows pods anyway).
//! - Before v1.19 PSA reads only the seccomp annotations; we also judge an
//!   explicit `seccompProfile` field by the baseline rule (clusters that
//!   know the field apply it).
//! - A `hostPath` volume is reported as `host-path` at both levels (PSA
//!   names it `restrictedVolumes` at restricted), so one exception covers it.
//!
//! Rule ids (DESIGN.md), plus `host-probes` for PSA's
//! `hostProbesAndHostLifecycle`, which DESIGN.md predates.

mod baseline;
mod namespace;
mod read;
mod restricted;
#[cfg(test)]
mod tests;
mod version;

pub use namespace::{
    ENFORCE_LABEL, ENFORCE_VERSION_LABEL, LevelVersion, NamespaceLabels, NamespacePolicies,
    read_labels,
};
pub use version::{LATEST_MINOR, PsaVersion, VersionError};

use std::collections::HashMap;

use crate::engine::config::PssLevel;
use crate::engine::finding::Severity;
use crate::engine::manifests::object::Object;
use crate::engine::manifests::podspec::{PodTemplateTable, default_table, pod_templates_with};
use crate::engine::manifests::violation::Violation;

/// Baseline rule ids.
pub const BASELINE_RULES: &[&str] = &[
    "host-process",
    "host-namespaces",
    "privileged",
    "capabilities",
    "host-path",
    "host-ports",
    "apparmor",
    "selinux",
    "proc-mount",
    "seccomp",
    "sysctls",
    "host-probes",
];

/// Rule ids only restricted adds (it also tightens `capabilities`,
/// `seccomp` and `proc-mount`).
pub const RESTRICTED_RULES: &[&str] = &[
    "volume-types",
    "privilege-escalation",
    "run-as-non-root",
    "run-as-user",
];

/// Rule id for a pod template that has the wrong shape (`containers: x`).
pub const INVALID_MANIFEST: &str = "invalid-manifest";

/// One violation and the lowest level at which it fails: a `Baseline`
/// finding fails both standards, a `Restricted` one only restricted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PssFinding {
    /// The lowest level that forbids this.
    pub level: PssLevel,
    /// The violation.
    pub violation: Violation,
    /// Forbids nothing: a warning that something written has no effect
    /// (a legacy seccomp annotation from v1.27 on). `level` is then
    /// meaningless.
    pub advisory: bool,
}

/// Checks an object against a level at `latest` (restricted includes
/// baseline; `None` checks nothing). Advisories are not violations.
pub fn check(obj: &Object, level: PssLevel) -> Vec<Violation> {
    check_at(obj, level, PsaVersion::Latest)
}

/// [`check`] at a policy version.
pub fn check_at(obj: &Object, level: PssLevel, version: PsaVersion) -> Vec<Violation> {
    if level == PssLevel::None {
        return Vec::new();
    }
    evaluate_at(obj, version)
        .into_iter()
        .filter(|f| !f.advisory && f.level <= level)
        .map(|f| f.violation)
        .collect()
}

/// Every Pod Security violation of an object at `latest`, each tagged with
/// the lowest level that forbids it. Lets the orchestrator report `level`
/// as errors and `warn` as warnings in one pass.
pub fn evaluate(obj: &Object) -> Vec<PssFinding> {
    evaluate_at(obj, PsaVersion::Latest)
}

/// [`evaluate`] at a policy version.
pub fn evaluate_at(obj: &Object, version: PsaVersion) -> Vec<PssFinding> {
    evaluate_with_at(obj, default_table(), version)
}

/// [`evaluate`] with a custom pod template table.
pub fn evaluate_with(obj: &Object, table: &PodTemplateTable) -> Vec<PssFinding> {
    evaluate_with_at(obj, table, PsaVersion::Latest)
}

/// [`evaluate_at`] with a custom pod template table.
pub fn evaluate_with_at(
    obj: &Object,
    table: &PodTemplateTable,
    version: PsaVersion,
) -> Vec<PssFinding> {
    let v = version.minor();
    let templates = pod_templates_with(obj, table);
    let mut out: Vec<PssFinding> = templates
        .problems
        .iter()
        .map(|p| shape_finding(p.line, &p.message))
        .collect();
    for pod in &templates.pods {
        let (containers, problems) = pod.containers();
        out.extend(problems.iter().map(|p| shape_finding(p.line, &p.message)));
        let mut cx = read::Ctx::new(pod, containers, v);
        // Order matters only for which rule reports a wrongly shaped
        // `securityContext` (the first reader does): baseline first.
        baseline::host_process(&mut cx);
        baseline::host_namespaces(&mut cx);
        baseline::privileged(&mut cx);
        baseline::capabilities(&mut cx);
        baseline::host_path(&mut cx);
        baseline::host_ports(&mut cx);
        baseline::apparmor(&mut cx);
        baseline::selinux(&mut cx);
        baseline::proc_mount(&mut cx);
        baseline::seccomp(&mut cx);
        baseline::sysctls(&mut cx);
        baseline::host_probes(&mut cx);
        restricted::volume_types(&mut cx);
        restricted::privilege_escalation(&mut cx);
        restricted::run_as_non_root(&mut cx);
        restricted::run_as_user(&mut cx);
        out.append(&mut cx.out);
    }
    out
}

/// What an object in one namespace is judged against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Pairs whose violations are errors: the configured `admission.level`
    /// at `admission.version` first, then the namespace's labels.
    pub enforce: Vec<LevelVersion>,
    /// `admission.warn` at `admission.version`: violations reported as
    /// warnings.
    pub warn: LevelVersion,
}

impl Policy {
    /// The configured pairs plus the labels of the object's namespace
    /// (each resolved against the configured defaults).
    pub fn new(configured: LevelVersion, warn: PssLevel, labels: &[NamespaceLabels]) -> Self {
        let mut enforce = vec![configured];
        for l in labels {
            let pair = l.resolve(configured);
            if !enforce.contains(&pair) {
                enforce.push(pair);
            }
        }
        Policy {
            enforce,
            warn: LevelVersion {
                level: warn,
                version: configured.version,
            },
        }
    }
}

/// Every Pod Security finding of an object under `policy`, with its
/// severity: an error when an enforced (level, version) forbids it, a
/// warning when only the warn level does, advisories as warnings, and a
/// wrongly shaped pod template always an error.
///
/// Each distinct version is evaluated once. The first enforced version's
/// findings are kept as they are; another version adds a finding only for a
/// (rule, line, container) the first did not report (its message may name
/// that version's lists), and raises an existing one to an error when it
/// forbids it there.
pub fn judge(obj: &Object, policy: &Policy) -> Vec<(Severity, Violation)> {
    let mut minors: Vec<u32> = Vec::new();
    let active = policy
        .enforce
        .iter()
        .chain(std::iter::once(&policy.warn))
        .filter(|p| p.level != PssLevel::None);
    for p in active {
        if !minors.contains(&p.version.minor()) {
            minors.push(p.version.minor());
        }
    }
    let judged = !minors.is_empty();
    if minors.is_empty() {
        // Nothing enforced: only broken pod templates are reported.
        minors.push(policy.enforce[0].version.minor());
    }
    let mut out: Vec<(Severity, Violation)> = Vec::new();
    let mut seen: HashMap<(String, u32, Option<String>), usize> = HashMap::new();
    for (n, &m) in minors.iter().enumerate() {
        let at = |lv: &LevelVersion| lv.level != PssLevel::None && lv.version.minor() == m;
        for f in evaluate_at(obj, PsaVersion::V1(u64::from(m))) {
            let sev = if f.violation.rule.as_str() == INVALID_MANIFEST {
                Some(Severity::Error)
            } else if !judged {
                None
            } else if f.advisory {
                Some(Severity::Warning)
            } else if policy
                .enforce
                .iter()
                .any(|lv| at(lv) && f.level <= lv.level)
            {
                Some(Severity::Error)
            } else if at(&policy.warn) && f.level <= policy.warn.level {
                Some(Severity::Warning)
            } else {
                None
            };
            let Some(sev) = sev else { continue };
            if minors.len() == 1 {
                // One version (no namespace label adds another): nothing to
                // merge, so no keys to build (the common case, kept cheap).
                out.push((sev, f.violation));
                continue;
            }
            let key = (
                f.violation.rule.0.clone(),
                f.violation.line,
                f.violation.container.clone(),
            );
            if n == 0 {
                seen.entry(key).or_insert(out.len());
                out.push((sev, f.violation));
            } else if let Some(&i) = seen.get(&key) {
                out[i].0 = out[i].0.max(sev);
            } else {
                seen.insert(key, out.len());
                out.push((sev, f.violation));
            }
        }
    }
    out
}

fn shape_finding(line: u32, message: &str) -> PssFinding {
    PssFinding {
        level: PssLevel::Baseline,
        violation: Violation::new(INVALID_MANIFEST, line, message),
        advisory: false,
    }
}
