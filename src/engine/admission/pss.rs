//! Pod Security Standards, baseline and restricted, as upstream
//! `k8s.io/pod-security-admission` evaluates them at policy version
//! `latest` (v1.37: the v1.37 safe sysctls, the v1.35 `hostUsers: false`
//! relaxations, the v1.34 probe-host control, the v1.25 Windows exemptions).
//!
//! Every pod of an object is checked (see [`crate::engine::podspec`]),
//! with all three container lists. Where PSA and this module differ it is on
//! purpose, and stricter:
//! - PSA enforces on Pods only; we check templates too (a workload whose
//!   template fails would create pods that fail).
//! - A wrongly typed field (`privileged: "true"`) makes the API server
//!   reject the object; we report it under the control that reads it.
//! - PSA's restricted profile drops the baseline capability/seccomp checks
//!   for Windows pods; we keep the baseline halves (the API server rejects
//!   Linux security fields on Windows pods anyway).
//! - A `hostPath` volume is reported as `host-path` at both levels (PSA
//!   names it `restrictedVolumes` at restricted), so one exception covers it.
//!
//! Rule ids (DESIGN.md), plus `host-probes` for PSA's
//! `hostProbesAndHostLifecycle`, which DESIGN.md predates.

mod baseline;
mod read;
mod restricted;
#[cfg(test)]
mod tests;

use crate::engine::config::PssLevel;
use crate::engine::object::Object;
use crate::engine::podspec::{PodTemplateTable, default_table, pod_templates_with};
use crate::engine::violation::Violation;

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
}

/// Checks an object against a level (restricted includes baseline;
/// `None` checks nothing).
pub fn check(obj: &Object, level: PssLevel) -> Vec<Violation> {
    if level == PssLevel::None {
        return Vec::new();
    }
    evaluate(obj)
        .into_iter()
        .filter(|f| f.level <= level)
        .map(|f| f.violation)
        .collect()
}

/// Every Pod Security violation of an object, each tagged with the lowest
/// level that forbids it. Lets the orchestrator report `level` as errors
/// and `warn` as warnings in one pass.
pub fn evaluate(obj: &Object) -> Vec<PssFinding> {
    evaluate_with(obj, default_table())
}

/// [`evaluate`] with a custom pod template table.
pub fn evaluate_with(obj: &Object, table: &PodTemplateTable) -> Vec<PssFinding> {
    let templates = pod_templates_with(obj, table);
    let mut out: Vec<PssFinding> = templates
        .problems
        .iter()
        .map(|p| shape_finding(p.line, &p.message))
        .collect();
    for pod in &templates.pods {
        let (containers, problems) = pod.containers();
        out.extend(problems.iter().map(|p| shape_finding(p.line, &p.message)));
        let mut cx = read::Ctx::new(pod, containers);
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

fn shape_finding(line: u32, message: &str) -> PssFinding {
    PssFinding {
        level: PssLevel::Baseline,
        violation: Violation::new(INVALID_MANIFEST, line, message),
    }
}
