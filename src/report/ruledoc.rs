//! Per-rule documentation used by the renderers: a title, what the rule
//! checks, why it matters, how to fix it, and SARIF metadata (tags,
//! precision, security severity).
//!
//! [`lookup`] is the ONE place the renderers get rule text from; the text
//! itself lives in the engine's rule catalogue (`engine::catalog`), this
//! module only adds SARIF metadata.

use crate::engine::catalog;
use crate::engine::finding::Severity;

/// Documentation for one rule id.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleDoc {
    /// The rule id (`privileged`, `kyverno/<policy>/<rule>`, …).
    pub id: String,
    /// A short PascalCase name (SARIF `reportingDescriptor.name`).
    pub name: String,
    /// One sentence: what the rule reports.
    pub summary: String,
    /// Why it matters (the threat it closes).
    pub why: String,
    /// How to fix a finding.
    pub fix: String,
    /// The severity the rule usually reports with (SARIF default level).
    pub default_severity: Severity,
    /// SARIF `properties.tags`.
    pub tags: Vec<String>,
    /// SARIF `properties.precision` (`very-high`, `high`, `medium`, `low`).
    pub precision: &'static str,
    /// SARIF `properties.security-severity` (0.0–10.0, GitHub's scale).
    pub security_severity: f32,
}

/// The documentation for a rule id. Unknown ids (a rule added to the engine
/// before it is documented) get a generic entry, never a panic: output must
/// not depend on which rules exist.
pub fn lookup(id: &str) -> RuleDoc {
    if let Some(rest) = id.strip_prefix("kyverno/") {
        let (policy, rule) = rest.split_once('/').unwrap_or((rest, ""));
        return RuleDoc {
            id: id.to_owned(),
            name: pascal(&format!("kyverno-{policy}-{rule}")),
            summary: format!("Kyverno policy `{policy}`, rule `{rule}`, does not allow this object."),
            why: "The organisation's admission policies are enforced at review time, so a manifest the cluster would reject (or should never run) is caught before merge.".to_owned(),
            fix: format!("Change the object so it satisfies the `{rule}` pattern of the `{policy}` policy (see its `validate.message`), or ask the policy owners for a documented exception."),
            default_severity: Severity::Error,
            tags: tags(&["security", "kubernetes", "kyverno"]),
            precision: "high",
            security_severity: 7.0,
        };
    }
    match TABLE.iter().find(|e| e.0 == id) {
        Some(&(id, name, sev, score)) => RuleDoc {
            id: id.to_owned(),
            name: name.to_owned(),
            summary: catalog::lookup(id).map_or_else(
                || format!("gitops-guard rule `{id}`."),
                |r| r.title.to_owned(),
            ),
            why: catalog::lookup(id).map_or_else(String::new, |r| r.why.to_owned()),
            fix: catalog::lookup(id).map_or_else(String::new, |r| r.fix.to_owned()),
            default_severity: sev,
            tags: tags(&tag_set(id)),
            precision: if id == "unbound-path" || id == "unrendered-template" {
                "high"
            } else {
                "very-high"
            },
            security_severity: score,
        },
        None => {
            // Catalogued but without SARIF metadata here: catalogue text,
            // middle-of-the-road metadata. Unknown ids: generic text, never a
            // panic (output must not depend on which rules exist).
            let info = catalog::lookup(id);
            RuleDoc {
                id: id.to_owned(),
                name: pascal(id),
                summary: info.map_or_else(
                    || format!("gitops-guard rule `{id}`."),
                    |r| r.title.to_owned(),
                ),
                why: info.map_or_else(
                    || "See the gitops-guard rule catalogue.".to_owned(),
                    |r| r.why.to_owned(),
                ),
                fix: info.map_or_else(
                    || {
                        "See the gitops-guard rule catalogue for how to fix this finding."
                            .to_owned()
                    },
                    |r| r.fix.to_owned(),
                ),
                default_severity: Severity::Error,
                tags: tags(&["security"]),
                precision: "high",
                security_severity: 5.0,
            }
        }
    }
}

fn tags(t: &[&str]) -> Vec<String> {
    t.iter().map(|s| (*s).to_owned()).collect()
}

fn tag_set(id: &str) -> Vec<&'static str> {
    const PSS: &[&str] = &[
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
        "volume-types",
        "privilege-escalation",
        "run-as-non-root",
        "run-as-user",
    ];
    if PSS.contains(&id) {
        vec!["security", "kubernetes", "pod-security"]
    } else if id.starts_with("tenant-") || id == "unbound-path" {
        vec!["security", "kubernetes", "tenancy"]
    } else if id.starts_with("image-") {
        vec!["security", "kubernetes", "supply-chain"]
    } else if id == "invalid-manifest" || id == "unrendered-template" {
        vec!["security", "kubernetes", "correctness"]
    } else {
        vec!["security", "kubernetes", "gitops"]
    }
}

/// `host-ports` → `HostPorts`.
fn pascal(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

type Entry = (&'static str, &'static str, Severity, f32);

use Severity::{Error as E, Warning as W};

/// id, SARIF name, default severity, security severity. The text (title,
/// why, fix) comes from the engine's rule catalogue.
const TABLE: &[Entry] = &[
    ("host-process", "HostProcess", E, 9.0),
    ("host-namespaces", "HostNamespaces", E, 8.5),
    ("privileged", "PrivilegedContainer", E, 9.0),
    ("capabilities", "AddedCapabilities", E, 7.5),
    ("host-path", "HostPathVolume", E, 8.0),
    ("host-ports", "HostPorts", E, 6.0),
    ("apparmor", "AppArmorProfile", E, 6.0),
    ("selinux", "SELinuxOptions", E, 6.0),
    ("proc-mount", "ProcMount", E, 6.0),
    ("seccomp", "SeccompProfile", E, 6.5),
    ("sysctls", "UnsafeSysctls", E, 6.0),
    ("volume-types", "RestrictedVolumeTypes", W, 5.0),
    ("privilege-escalation", "AllowPrivilegeEscalation", W, 6.0),
    ("run-as-non-root", "RunAsNonRoot", W, 5.5),
    ("run-as-user", "RunAsUser", W, 5.5),
    ("image-tag", "ImageTag", E, 4.0),
    ("image-registry", "ImageRegistry", E, 6.0),
    ("tenant-namespace", "TenantNamespace", E, 7.5),
    ("tenant-cluster-resource", "TenantClusterResource", E, 8.0),
    ("tenant-kind", "TenantKind", E, 7.0),
    ("tenant-source-repo", "TenantSourceRepo", E, 7.0),
    ("unbound-path", "UnboundPath", E, 5.0),
    ("gitops-resource", "GitopsResource", E, 8.5),
    ("appproject-wildcard", "AppProjectWildcard", E, 8.0),
    ("auto-sync", "AutoSyncProduction", E, 6.5),
    ("argocd-anonymous", "ArgoCdAnonymous", E, 9.0),
    ("argocd-rbac", "ArgoCdRbac", E, 8.0),
    ("flux-service-account", "FluxServiceAccount", E, 7.0),
    ("flux-cross-namespace", "FluxCrossNamespace", E, 7.0),
    ("rbac-escalation", "RbacEscalation", E, 8.5),
    ("plaintext-secret", "PlaintextSecret", E, 7.5),
    ("invalid-manifest", "InvalidManifest", E, 5.0),
    ("unrendered-template", "UnrenderedTemplate", E, 5.0),
    ("policy-change", "PolicyChange", W, 6.0),
    ("critical-deletion", "CriticalDeletion", E, 8.0),
    ("approvals", "Approvals", E, 7.0),
    ("code-owners", "CodeOwners", E, 7.0),
    ("unsigned-commit", "UnsignedCommit", E, 6.0),
    ("force-push", "ForcePush", E, 8.0),
    ("branch-deleted", "BranchDeleted", E, 8.0),
    ("direct-push", "DirectPush", E, 8.0),
    ("review-bypass", "ReviewBypass", E, 8.0),
    ("unknown-author", "UnknownAuthor", W, 6.0),
    ("protection-weakened", "ProtectionWeakened", E, 8.0),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_design_rule_id_is_documented() {
        // Every catalogued rule (the catalogue's own test checks it against
        // DESIGN.md); a missing one would fall back to the generic text.
        for id in crate::engine::catalog::all().iter().map(|r| r.id) {
            let d = lookup(id);
            assert!(
                !d.fix.starts_with("See the gitops-guard"),
                "{id} undocumented"
            );
            assert!(d.name.chars().next().unwrap().is_ascii_uppercase());
            assert!((0.0..=10.0).contains(&d.security_severity));
        }
    }

    #[test]
    fn unknown_and_kyverno_ids_get_docs() {
        let d = lookup("kyverno/block-privileged/no-priv");
        assert_eq!(d.name, "KyvernoBlockPrivilegedNoPriv");
        assert!(d.fix.contains("block-privileged"));
        let d = lookup("brand-new-rule");
        assert_eq!(d.name, "BrandNewRule");
        assert_eq!(d.id, "brand-new-rule");
    }
}
