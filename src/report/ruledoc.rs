//! Per-rule documentation used by the renderers: a title, what the rule
//! checks, why it matters, how to fix it, and SARIF metadata (tags,
//! precision, security severity).
//!
//! [`lookup`] is the ONE place the renderers get rule text from. The engine's
//! rule catalogue (`engine::catalog`) will replace the table below; switching
//! means changing the body of [`lookup`] only.

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
        Some(&(id, name, sev, score, summary, why, fix)) => RuleDoc {
            id: id.to_owned(),
            name: name.to_owned(),
            summary: summary.to_owned(),
            why: why.to_owned(),
            fix: fix.to_owned(),
            default_severity: sev,
            tags: tags(&tag_set(id)),
            precision: if id == "unbound-path" || id == "unrendered-template" {
                "high"
            } else {
                "very-high"
            },
            security_severity: score,
        },
        None => RuleDoc {
            id: id.to_owned(),
            name: pascal(id),
            summary: format!("gitops-guard rule `{id}`."),
            why: "See the gitops-guard rule catalogue.".to_owned(),
            fix: "See the gitops-guard rule catalogue for how to fix this finding.".to_owned(),
            default_severity: Severity::Error,
            tags: tags(&["security"]),
            precision: "high",
            security_severity: 5.0,
        },
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

type Entry = (
    &'static str,
    &'static str,
    Severity,
    f32,
    &'static str,
    &'static str,
    &'static str,
);

use Severity::{Error as E, Warning as W};

/// id, name, default severity, security severity, summary, why, fix.
const TABLE: &[Entry] = &[
    (
        "host-process",
        "HostProcess",
        E,
        9.0,
        "A Windows pod or container runs as a HostProcess container.",
        "HostProcess containers have full access to the Windows node; Pod Security baseline forbids them.",
        "Remove `hostProcess: true` from `securityContext.windowsOptions` of the pod and every container.",
    ),
    (
        "host-namespaces",
        "HostNamespaces",
        E,
        8.5,
        "The pod shares the node's network, PID or IPC namespace.",
        "Host namespaces let a container see and attack node processes and traffic; Pod Security baseline forbids them.",
        "Remove `hostNetwork`, `hostPID` and `hostIPC` from the pod spec (or set them to false).",
    ),
    (
        "privileged",
        "PrivilegedContainer",
        E,
        9.0,
        "A container runs privileged.",
        "A privileged container has every capability and all host devices: it can take over the node. Pod Security baseline forbids it.",
        "Remove `securityContext.privileged: true` (or set it to false) on every container, init container and ephemeral container.",
    ),
    (
        "capabilities",
        "AddedCapabilities",
        E,
        7.5,
        "A container adds Linux capabilities outside the allowed set (restricted: does not drop ALL, adds more than NET_BIND_SERVICE).",
        "Extra capabilities widen what a compromised container can do to the node; Pod Security baseline allows only a small default set, restricted requires dropping ALL.",
        "Remove capabilities outside the baseline list from `securityContext.capabilities.add`; for restricted, set `capabilities.drop: [\"ALL\"]` and add at most `NET_BIND_SERVICE`.",
    ),
    (
        "host-path",
        "HostPathVolume",
        E,
        8.0,
        "The pod mounts a hostPath volume.",
        "hostPath volumes expose the node's file system (credentials, the container runtime socket); Pod Security baseline forbids them.",
        "Replace the `hostPath` volume with a ConfigMap, Secret, emptyDir or PersistentVolumeClaim.",
    ),
    (
        "host-ports",
        "HostPorts",
        E,
        6.0,
        "A container binds a port on the node (`hostPort`).",
        "Host ports bypass network policy and collide with node services; Pod Security baseline forbids them.",
        "Remove `hostPort` from `ports` (or set it to 0) and expose the workload through a Service.",
    ),
    (
        "apparmor",
        "AppArmorProfile",
        E,
        6.0,
        "An AppArmor profile other than the runtime default or a localhost profile is set (e.g. `unconfined`).",
        "Disabling AppArmor removes a kernel-level confinement layer; Pod Security baseline forbids overriding it.",
        "Remove the AppArmor override, or use `RuntimeDefault` / `Localhost` in `securityContext.appArmorProfile` (or the matching annotation).",
    ),
    (
        "selinux",
        "SELinuxOptions",
        E,
        6.0,
        "SELinux options set a custom type or user/role.",
        "A custom SELinux type or user can escape the container's confinement; Pod Security baseline allows only the container types.",
        "Remove `seLinuxOptions.user` and `role`, and use only `container_t`, `container_init_t`, `container_kvm_t` or `container_engine_t` as `type`.",
    ),
    (
        "proc-mount",
        "ProcMount",
        E,
        6.0,
        "A container sets `procMount` to something other than `Default`.",
        "An unmasked /proc exposes kernel interfaces to the container; Pod Security baseline requires the default mask.",
        "Remove `securityContext.procMount` or set it to `Default`.",
    ),
    (
        "seccomp",
        "SeccompProfile",
        E,
        6.5,
        "The seccomp profile is `Unconfined` (restricted: no `RuntimeDefault`/`Localhost` profile set).",
        "Without seccomp every system call is reachable, widening the kernel attack surface.",
        "Set `securityContext.seccompProfile.type: RuntimeDefault` at pod level (or `Localhost` with a profile) and do not override it with `Unconfined` on containers.",
    ),
    (
        "sysctls",
        "UnsafeSysctls",
        E,
        6.0,
        "The pod sets a sysctl outside the safe set.",
        "Unsafe sysctls change node-wide kernel settings; Pod Security baseline allows only namespaced, safe sysctls.",
        "Remove sysctls not in the Pod Security safe list from `securityContext.sysctls`.",
    ),
    (
        "volume-types",
        "RestrictedVolumeTypes",
        W,
        5.0,
        "The pod uses a volume type outside the restricted allow-list.",
        "Pod Security restricted allows only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected and secret volumes.",
        "Replace the volume with one of the allowed types (usually a PersistentVolumeClaim).",
    ),
    (
        "privilege-escalation",
        "AllowPrivilegeEscalation",
        W,
        6.0,
        "A container does not set `allowPrivilegeEscalation: false`.",
        "Without it a process can gain more privileges than its parent (setuid binaries); Pod Security restricted requires it to be false.",
        "Set `securityContext.allowPrivilegeEscalation: false` on every container.",
    ),
    (
        "run-as-non-root",
        "RunAsNonRoot",
        W,
        5.5,
        "The pod or a container may run as root (`runAsNonRoot` not true).",
        "Root in a container is one kernel bug away from root on the node; Pod Security restricted requires `runAsNonRoot: true`.",
        "Set `securityContext.runAsNonRoot: true` at pod level (or on every container) and build the image with a non-root user.",
    ),
    (
        "run-as-user",
        "RunAsUser",
        W,
        5.5,
        "A pod or container sets `runAsUser: 0`.",
        "UID 0 is root; Pod Security restricted forbids it.",
        "Set `runAsUser` to a non-zero UID or remove it and rely on the image's non-root user.",
    ),
    (
        "image-tag",
        "ImageTag",
        E,
        4.0,
        "An image uses `:latest` or no tag.",
        "A mutable tag means what runs is not what was reviewed; a pushed image changes production without a PR.",
        "Pin every image to an explicit version tag, or better a digest (`image: repo@sha256:…`).",
    ),
    (
        "image-registry",
        "ImageRegistry",
        E,
        6.0,
        "An image comes from a registry outside `admission.images.registries`.",
        "Untrusted registries bypass the organisation's image scanning and signing.",
        "Use an image from one of the allowed registries (mirror it there if needed).",
    ),
    (
        "tenant-namespace",
        "TenantNamespace",
        E,
        7.5,
        "An object targets a namespace its AppProject does not allow.",
        "A tenant deploying into another team's namespace breaks tenant isolation; Argo CD would refuse it at sync, after merge.",
        "Deploy into a namespace listed in the AppProject's `destinations`, or move the file to the binding that owns the namespace.",
    ),
    (
        "tenant-cluster-resource",
        "TenantClusterResource",
        E,
        8.0,
        "A cluster-scoped object is not allowed by the AppProject (`clusterResourceWhitelist`).",
        "Cluster-scoped objects (ClusterRoles, webhooks, CRDs, Namespaces) affect every tenant.",
        "Remove the object, or have the platform team add it under a platform binding.",
    ),
    (
        "tenant-kind",
        "TenantKind",
        E,
        7.0,
        "A namespaced kind is not allowed by the AppProject (`namespaceResourceWhitelist/Blacklist`), or the kind is unknown.",
        "Projects restrict kinds so a tenant cannot create objects that escalate (RoleBindings, webhooks) or that the platform owns.",
        "Use an allowed kind, ask the platform team to allow it in the AppProject, or add the CRD that defines it to the repository.",
    ),
    (
        "tenant-source-repo",
        "TenantSourceRepo",
        E,
        7.0,
        "The repository is not in the AppProject's `sourceRepos`.",
        "Argo CD only deploys from allowed repositories; a mismatch means the binding or the project is wrong.",
        "Add the repository to the AppProject's `sourceRepos` (through the platform team) or fix the binding's `repo`.",
    ),
    (
        "unbound-path",
        "UnboundPath",
        E,
        5.0,
        "A manifest is under no `tenants.bindings` path.",
        "A manifest no project owns is checked against no tenant policy; fail closed.",
        "Move the file under a bound path, or add a binding for its directory in `.github/gitops-guard.yml`.",
    ),
    (
        "gitops-resource",
        "GitopsResource",
        E,
        8.5,
        "An Argo CD or Flux object (Application, AppProject, Kustomization, HelmRelease, …) is under a binding not marked `platform: true`.",
        "GitOps objects decide what gets deployed where; a tenant who can write them can deploy anything, anywhere.",
        "Move the object to a platform-owned path, or mark the binding `platform: true` if the platform team owns it.",
    ),
    (
        "appproject-wildcard",
        "AppProjectWildcard",
        E,
        8.0,
        "An AppProject allows `*` source repos, destinations or cluster resources.",
        "A wildcard AppProject removes tenant scoping altogether.",
        "List the exact repositories, destination namespaces and cluster kinds the project needs.",
    ),
    (
        "auto-sync",
        "AutoSyncProduction",
        E,
        6.5,
        "An Argo CD Application targeting a production namespace syncs automatically.",
        "Automated sync turns every merge (or branch push) into a production change with no human gate.",
        "Remove `spec.syncPolicy.automated` from the Application, or move it out of `gitops.production`.",
    ),
    (
        "argocd-anonymous",
        "ArgoCdAnonymous",
        E,
        9.0,
        "Argo CD allows anonymous access (`users.anonymous.enabled: \"true\"`).",
        "Anonymous users get the default role on the Argo CD API and UI.",
        "Set `users.anonymous.enabled: \"false\"` (or remove it) in `argocd-cm`.",
    ),
    (
        "argocd-rbac",
        "ArgoCdRbac",
        E,
        8.0,
        "An Argo CD RBAC policy line grants access across projects (`*` project or a broad default role).",
        "Cross-project grants let one tenant sync or delete another tenant's applications.",
        "Scope `p, role, resource, action, <project>/<object>` lines to the tenant's project and keep `policy.default` empty or read-only.",
    ),
    (
        "flux-service-account",
        "FluxServiceAccount",
        E,
        7.0,
        "A Flux Kustomization or HelmRelease has no `serviceAccountName`.",
        "Without it Flux applies with the controller's cluster-admin identity, bypassing tenant RBAC.",
        "Set `spec.serviceAccountName` to the tenant's service account (and enforce `--default-service-account` on the controllers).",
    ),
    (
        "flux-cross-namespace",
        "FluxCrossNamespace",
        E,
        7.0,
        "A Flux object references a source or target in another namespace.",
        "Cross-namespace references let a tenant use another tenant's sources or deploy into its namespace.",
        "Reference sources in the object's own namespace and drop `targetNamespace`/cross-namespace `sourceRef`s (and run Flux with `--no-cross-namespace-refs`).",
    ),
    (
        "rbac-escalation",
        "RbacEscalation",
        E,
        8.5,
        "An RBAC object grants cluster-admin, wildcard verbs or resources, or escalate/bind/impersonate.",
        "These grants let the subject give itself any permission in the cluster.",
        "Grant the specific verbs on the specific resources needed; never bind cluster-admin or allow escalate, bind or impersonate from a tenant path.",
    ),
    (
        "plaintext-secret",
        "PlaintextSecret",
        E,
        7.5,
        "A Kubernetes Secret with data is committed to Git.",
        "Base64 is not encryption: everyone with read access to the repository (and its history) has the secret.",
        "Remove the Secret from Git, rotate the credential, and use Sealed Secrets, SOPS or External Secrets instead.",
    ),
    (
        "invalid-manifest",
        "InvalidManifest",
        E,
        5.0,
        "A file cannot be read as Kubernetes would read it (YAML/JSON error, duplicate key, not an object, limits exceeded, unreadable file).",
        "What cannot be read cannot be checked; tools that skip such files let an attacker hide objects. Fail closed.",
        "Fix the syntax at the reported line (duplicate keys must be removed, every document must be a mapping with apiVersion and kind).",
    ),
    (
        "unrendered-template",
        "UnrenderedTemplate",
        E,
        5.0,
        "A Helm chart or templated file cannot be evaluated as written.",
        "Templates render to objects nobody checked; a pass would be a silent skip.",
        "Commit rendered manifests (e.g. `helm template` output), or exclude the chart via `manifests.ignore` and review it with another control.",
    ),
    (
        "policy-change",
        "PolicyChange",
        W,
        6.0,
        "The change edits the config, CODEOWNERS, AppProjects or admission policies.",
        "Policy is trusted only from the base branch; edits to it need the policy owners' review and take effect only after merge.",
        "Have the policy owners review this change; it was evaluated with the base-branch policy.",
    ),
    (
        "critical-deletion",
        "CriticalDeletion",
        E,
        8.0,
        "The change removes a Namespace, CRD, AppProject or other protected object.",
        "Deleting these cascades: every object in the namespace, every custom resource of the CRD, every app of the project is pruned.",
        "Make sure the deletion is intended and approved by the platform team; prefer removing dependants first.",
    ),
    (
        "approvals",
        "Approvals",
        E,
        7.0,
        "The pull request lacks the required number of approvals on its current head.",
        "Review is the last human gate before a cluster.",
        "Get the required approvals on the latest commit.",
    ),
    (
        "code-owners",
        "CodeOwners",
        E,
        7.0,
        "A changed file has no approval from one of its code owners.",
        "Owners are the people accountable for that path.",
        "Ask an owner of each listed file to approve.",
    ),
    (
        "unsigned-commit",
        "UnsignedCommit",
        E,
        6.0,
        "A commit is not verified by GitHub.",
        "Unsigned commits can be authored under any name.",
        "Sign the commits (GPG, SSH or S/MIME) and push again.",
    ),
    (
        "force-push",
        "ForcePush",
        E,
        8.0,
        "A protected branch was force-pushed.",
        "A force-push rewrites reviewed history.",
        "Investigate the push and restore the branch from the previous head if it was not authorised.",
    ),
    (
        "branch-deleted",
        "BranchDeleted",
        E,
        8.0,
        "A protected branch was deleted.",
        "Deleting a deployment branch can prune everything it deployed.",
        "Restore the branch and investigate who deleted it.",
    ),
    (
        "direct-push",
        "DirectPush",
        E,
        8.0,
        "A protected branch received commits not from a merged pull request.",
        "Direct pushes bypass review.",
        "Investigate the push, revert it if unauthorised, and tighten branch protection.",
    ),
    (
        "unknown-author",
        "UnknownAuthor",
        W,
        6.0,
        "A pushed commit's author is not a trusted author or organisation member.",
        "Unknown authors may be stolen credentials or spoofed identities.",
        "Verify the author; add them to `push.trusted_authors` if legitimate.",
    ),
    (
        "protection-weakened",
        "ProtectionWeakened",
        E,
        8.0,
        "Branch protection of a deployment branch was weakened.",
        "Weakened protection is the first step of an attack on the review gate.",
        "Restore the branch protection rules and investigate the change.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_design_rule_id_is_documented() {
        // The rule ids of DESIGN.md "Rule ids"; a missing one falls back to
        // the generic text, which this test refuses.
        for id in [
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
            "image-tag",
            "image-registry",
            "tenant-namespace",
            "tenant-cluster-resource",
            "tenant-kind",
            "tenant-source-repo",
            "unbound-path",
            "gitops-resource",
            "appproject-wildcard",
            "auto-sync",
            "argocd-anonymous",
            "argocd-rbac",
            "flux-service-account",
            "flux-cross-namespace",
            "rbac-escalation",
            "plaintext-secret",
            "invalid-manifest",
            "unrendered-template",
            "policy-change",
            "critical-deletion",
            "approvals",
            "code-owners",
            "unsigned-commit",
            "force-push",
            "branch-deleted",
            "direct-push",
            "unknown-author",
            "protection-weakened",
        ] {
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
