//! Change-level rules (a PR, or `check --base REV`), pure part:
//!
//! - `policy-change`: the change edits something that decides how changes
//!   are judged: the gitops-guard config, CODEOWNERS (any location GitHub
//!   reads), AppProject files (`tenants.projects`) or Kyverno policies
//!   (`admission.policies`). The evaluation always uses the base versions;
//!   this finding tells reviewers the policy itself is being edited.
//! - `critical-deletion`: the change removes an object whose deletion in the
//!   cluster is destructive or removes a guardrail ([`PROTECTED_KINDS`]).
//!   Objects are compared by (API group, kind, namespace, name) across all
//!   changed files, so moving an object to another file, or renaming the
//!   file, is not a deletion; a removed file removes all its objects; a
//!   file moved out of `manifests.paths` (or into `manifests.ignore`) is no
//!   longer deployed, so its objects count as removed.
//!
//! Globs and paths come from the **base** config.

use std::collections::HashSet;

use crate::engine::config::Config;
use crate::engine::config::globs::{GlobKind, GlobList, ManifestFilter};
use crate::engine::finding::{Finding, Severity};
use crate::engine::input::{ChangeInput, ChangeStatus, ChangedFile};
use crate::engine::manifests::object::load_objects;
use crate::engine::yaml::Limits;

/// The repository config's path (DESIGN.md "Configuration").
pub use crate::engine::config::CONFIG_PATH;

/// Every location GitHub reads CODEOWNERS from (it uses the first found, so
/// an edit to any of them can change who owns what).
pub use crate::engine::gates::codeowners::LOCATIONS as CODEOWNERS_PATHS;

/// A kind whose removal is a `critical-deletion`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProtectedKind {
    /// API group (`""` for the core group).
    pub group: &'static str,
    /// Kind.
    pub kind: &'static str,
    /// Cluster-scoped: identity ignores `metadata.namespace`.
    pub cluster_scoped: bool,
    /// What deleting it does, for the message.
    pub consequence: &'static str,
}

macro_rules! protected {
    ($group:literal, $kind:literal, $cluster:literal, $why:literal) => {
        ProtectedKind {
            group: $group,
            kind: $kind,
            cluster_scoped: $cluster,
            consequence: $why,
        }
    };
}

/// Kinds whose deletion is destructive (takes other objects or data with
/// it) or removes a guardrail. Deleting an ordinary workload is routine and
/// not listed; RBAC objects are not listed because deleting them only
/// removes permissions.
pub const PROTECTED_KINDS: &[ProtectedKind] = &[
    protected!(
        "",
        "Namespace",
        true,
        "the cluster deletes every object in the namespace"
    ),
    protected!(
        "apiextensions.k8s.io",
        "CustomResourceDefinition",
        true,
        "the cluster deletes every custom resource of this type, in every namespace"
    ),
    protected!(
        "argoproj.io",
        "AppProject",
        false,
        "it removes a tenant boundary; the project's Applications stop syncing"
    ),
    protected!(
        "argoproj.io",
        "Application",
        false,
        "with the resources finalizer Argo CD deletes everything the Application deployed"
    ),
    protected!(
        "argoproj.io",
        "ApplicationSet",
        false,
        "Argo CD deletes every Application it generated, and their resources"
    ),
    protected!(
        "kustomize.toolkit.fluxcd.io",
        "Kustomization",
        false,
        "with `prune: true` Flux deletes everything the Kustomization applied"
    ),
    protected!(
        "helm.toolkit.fluxcd.io",
        "HelmRelease",
        false,
        "Flux uninstalls the Helm release and its objects"
    ),
    protected!(
        "kyverno.io",
        "ClusterPolicy",
        true,
        "it removes an admission guardrail for the whole cluster"
    ),
    protected!(
        "kyverno.io",
        "Policy",
        false,
        "it removes an admission guardrail for the namespace"
    ),
    protected!(
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicy",
        true,
        "it removes an admission guardrail for the whole cluster"
    ),
    protected!(
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding",
        true,
        "it switches off an admission policy"
    ),
    protected!(
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
        true,
        "it switches off admission webhooks (policy engines among them)"
    ),
    protected!(
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
        true,
        "it switches off mutating webhooks that may inject security settings"
    ),
    protected!(
        "networking.k8s.io",
        "NetworkPolicy",
        false,
        "traffic the policy blocked is allowed again"
    ),
    protected!(
        "",
        "ResourceQuota",
        false,
        "the namespace's resource limits are lifted"
    ),
    protected!(
        "",
        "LimitRange",
        false,
        "the namespace's default and maximum container limits are lifted"
    ),
    protected!(
        "",
        "PersistentVolumeClaim",
        false,
        "the volume and its data may be deleted with it"
    ),
    protected!(
        "",
        "PersistentVolume",
        true,
        "the volume and its data may be deleted with it"
    ),
];

/// The protected-kind entry for an object's group and kind.
pub fn protected_kind(group: &str, kind: &str) -> Option<&'static ProtectedKind> {
    PROTECTED_KINDS
        .iter()
        .find(|p| p.group == group && p.kind == kind)
}

/// Both change-level rules.
pub fn change_findings(change: &ChangeInput, base: &Config) -> Vec<Finding> {
    let mut out = policy_changes(change, base);
    out.extend(critical_deletions(change, base, &Limits::default()));
    out
}

/// The paths a changed file had (head path, and base path for renames).
fn paths(c: &ChangedFile) -> impl Iterator<Item = &str> {
    std::iter::once(c.path.as_str()).chain(c.previous_path.as_deref())
}

fn status_word(s: ChangeStatus) -> &'static str {
    match s {
        ChangeStatus::Added => "adds",
        ChangeStatus::Modified => "edits",
        ChangeStatus::Removed => "deletes",
        ChangeStatus::Renamed => "moves",
    }
}

/// `policy-change` findings (warnings, at line 1 of each policy file).
pub fn policy_changes(change: &ChangeInput, base: &Config) -> Vec<Finding> {
    // An invalid glob matches nothing here; the config was validated on
    // parse, so this only happens with a config built in code.
    let projects = GlobList::new(&base.tenants.projects, GlobKind::Path).ok();
    let policies = GlobList::new(&base.admission.policies, GlobKind::Path).ok();
    let mut out = Vec::new();
    for c in &change.changed {
        let what = paths(c).find_map(|p| {
            if p == CONFIG_PATH {
                Some("the gitops-guard config")
            } else if CODEOWNERS_PATHS.contains(&p) {
                Some("CODEOWNERS")
            } else if projects.as_ref().is_some_and(|g| g.is_match(p)) {
                Some("an AppProject file (`tenants.projects`)")
            } else if policies.as_ref().is_some_and(|g| g.is_match(p)) {
                Some("a Kyverno policy file (`admission.policies`)")
            } else {
                None
            }
        });
        if let Some(what) = what {
            let moved = match (&c.previous_path, c.status) {
                (Some(prev), ChangeStatus::Renamed) => format!(" (from {prev})"),
                _ => String::new(),
            };
            out.push(Finding::at(
                "policy-change",
                Severity::Warning,
                &c.path,
                1,
                format!(
                    "this change {} {what}{moved}; it was evaluated with the base-branch versions of the config, CODEOWNERS, AppProjects and policies, never the new ones, so the policy edit itself needs review by its owners",
                    status_word(c.status)
                ),
            ));
        }
    }
    out
}

/// Identity of an object across files.
type Identity = (String, String, Option<String>, String);

fn identity(p: &ProtectedKind, namespace: Option<&str>, name: &str) -> Identity {
    let ns = if p.cluster_scoped {
        None
    } else {
        namespace.map(str::to_owned)
    };
    (p.group.to_owned(), p.kind.to_owned(), ns, name.to_owned())
}

/// An object on one side of a change, for `critical-deletion`: a raw
/// object of a changed file, or an object of a root's render (its file
/// and line are where the render took it from).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placed {
    /// API group.
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Namespace (as written, or as the render set it).
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// File the object is in (or was rendered from).
    pub file: String,
    /// Line of the object there.
    pub line: u32,
    /// The root it was rendered from, for rendered objects.
    pub root: Option<String>,
}

/// `critical-deletion` findings (errors, at the object's line in the base
/// version of its file).
pub fn critical_deletions(change: &ChangeInput, base: &Config, limits: &Limits) -> Vec<Finding> {
    critical_deletions_placed(change, base, limits, &|_| false, &|_| false, &[], &[])
}

/// [`critical_deletions`] with renders: `before`/`after` are the objects
/// of the roots the change re-rendered, at base and head; a changed file a
/// render consumed on a side (`consumed_base`, `consumed_head`) counts on
/// that side through the render, not as raw objects. An object that
/// disappears from a root's output is removed, unless it exists after the
/// change anywhere else the change touched.
pub fn critical_deletions_placed(
    change: &ChangeInput,
    base: &Config,
    limits: &Limits,
    consumed_base: &dyn Fn(&str) -> bool,
    consumed_head: &dyn Fn(&str) -> bool,
    before: &[Placed],
    after: &[Placed],
) -> Vec<Finding> {
    let Ok(filter) = ManifestFilter::new(&base.manifests) else {
        return Vec::new();
    };
    // Everything protected that exists after the change, in changed files
    // and in the re-rendered roots.
    let mut after_ids: HashSet<Identity> = HashSet::new();
    for o in after {
        if let Some(p) = protected_kind(&o.group, &o.kind)
            && !o.name.is_empty()
        {
            after_ids.insert(identity(p, o.namespace.as_deref(), &o.name));
        }
    }
    for c in &change.changed {
        let (Some(text), false) = (&c.head, c.status == ChangeStatus::Removed) else {
            continue;
        };
        if !filter.selects(&c.path) || consumed_head(&c.path) {
            continue;
        }
        for o in load_objects(&c.path, text, limits).objects {
            if let Some(p) = protected_kind(o.group(), &o.kind)
                && !o.name.is_empty()
            {
                after_ids.insert(identity(p, o.namespace.as_deref(), &o.name));
            }
        }
    }
    let mut candidates: Vec<Placed> = Vec::new();
    for c in &change.changed {
        let Some(text) = &c.base else { continue };
        if c.status == ChangeStatus::Added {
            continue;
        }
        let base_path = c.previous_path.as_deref().unwrap_or(&c.path);
        if !filter.selects(base_path) || consumed_base(base_path) {
            continue;
        }
        for o in load_objects(base_path, text, limits).objects {
            candidates.push(Placed {
                group: o.group().to_owned(),
                namespace: o.namespace.clone(),
                name: o.name.clone(),
                kind: o.kind,
                file: base_path.to_owned(),
                line: o.line,
                root: None,
            });
        }
    }
    candidates.extend(before.iter().cloned());
    let mut out = Vec::new();
    let mut reported: HashSet<Identity> = HashSet::new();
    for o in candidates {
        let Some(p) = protected_kind(&o.group, &o.kind) else {
            continue;
        };
        if o.name.is_empty() {
            continue;
        }
        let id = identity(p, o.namespace.as_deref(), &o.name);
        if after_ids.contains(&id) || !reported.insert(id) {
            continue;
        }
        let shown = match (&o.namespace, p.cluster_scoped) {
            (Some(ns), false) => format!("{ns}/{}", o.name),
            _ => o.name.clone(),
        };
        let from = match &o.root {
            Some(r) => format!(" in the output of {r}"),
            None => String::new(),
        };
        let mut f = Finding::at(
            "critical-deletion",
            Severity::Error,
            &o.file,
            o.line,
            format!(
                "{} `{shown}` is removed by this change (it was at {}:{}{from} on the base branch): {}. Restore it, or, if the deletion is intended, add an expiring exception for `critical-deletion` naming it in the base-branch config",
                o.kind, o.file, o.line, p.consequence
            ),
        );
        f.kind = Some(o.kind.clone());
        f.name = Some(o.name.clone());
        f.namespace = if p.cluster_scoped {
            None
        } else {
            o.namespace.clone()
        };
        f.root = o.root.clone();
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::config::parse_config;

    fn changed(
        path: &str,
        status: ChangeStatus,
        base: Option<&str>,
        head: Option<&str>,
    ) -> ChangedFile {
        ChangedFile {
            path: path.into(),
            previous_path: None,
            status,
            base: base.map(Into::into),
            head: head.map(Into::into),
        }
    }

    fn input(files: Vec<ChangedFile>) -> ChangeInput {
        ChangeInput {
            changed: files,
            head_context: Vec::new(),
        }
    }

    const NS: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: payments\n";
    const DEPLOY: &str =
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: payments\n";

    fn deletions(files: Vec<ChangedFile>) -> Vec<Finding> {
        critical_deletions(&input(files), &Config::default(), &Limits::default())
    }

    #[test]
    fn removed_file_removes_its_protected_objects() {
        let text = format!("{DEPLOY}---\n{NS}");
        let f = deletions(vec![changed(
            "apps/all.yaml",
            ChangeStatus::Removed,
            Some(&text),
            None,
        )]);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].rule.as_str(), "critical-deletion");
        assert_eq!(f[0].severity, Severity::Error);
        assert_eq!((f[0].file.as_str(), f[0].line), ("apps/all.yaml", 7));
        assert_eq!(
            (f[0].kind.as_deref(), f[0].name.as_deref()),
            (Some("Namespace"), Some("payments"))
        );
        assert!(f[0].message.contains("every object in the namespace"));
    }

    #[test]
    fn deleting_an_ordinary_workload_is_not_critical() {
        assert!(
            deletions(vec![changed(
                "a.yaml",
                ChangeStatus::Removed,
                Some(DEPLOY),
                None
            )])
            .is_empty()
        );
    }

    #[test]
    fn dropping_a_document_from_a_modified_file() {
        let base = format!("{NS}---\n{DEPLOY}");
        let f = deletions(vec![changed(
            "a.yaml",
            ChangeStatus::Modified,
            Some(&base),
            Some(DEPLOY),
        )]);
        assert_eq!(f.len(), 1);
        // Editing it (a label) keeps its identity.
        let head = format!("{NS}  labels: {{team: payments}}\n---\n{DEPLOY}");
        assert!(
            deletions(vec![changed(
                "a.yaml",
                ChangeStatus::Modified,
                Some(&base),
                Some(&head)
            )])
            .is_empty()
        );
    }

    #[test]
    fn moving_between_files_or_renaming_is_not_a_deletion() {
        let moved = vec![
            changed("a.yaml", ChangeStatus::Removed, Some(NS), None),
            changed(
                "namespaces/payments.yaml",
                ChangeStatus::Added,
                None,
                Some(NS),
            ),
        ];
        assert!(deletions(moved).is_empty());
        let mut renamed = changed("b.yaml", ChangeStatus::Renamed, Some(NS), Some(NS));
        renamed.previous_path = Some("a.yaml".into());
        assert!(deletions(vec![renamed]).is_empty());
        // A List in the new file still counts.
        let list = "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Namespace\n    metadata: {name: payments}\n";
        assert!(
            deletions(vec![
                changed("a.yaml", ChangeStatus::Removed, Some(NS), None),
                changed("b.yaml", ChangeStatus::Added, None, Some(list)),
            ])
            .is_empty()
        );
    }

    #[test]
    fn renaming_out_of_the_manifest_paths_is_a_deletion() {
        let mut renamed = changed(
            "attic/ns.yaml.orig",
            ChangeStatus::Renamed,
            Some(NS),
            Some(NS),
        );
        renamed.previous_path = Some("apps/ns.yaml".into());
        let f = deletions(vec![renamed]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].file, "apps/ns.yaml");
        // A default ignore (a tool's config name) does not hide an object:
        // the Namespace is still deployed from there.
        let mut renamed = changed(
            ".github/old/ns.yaml",
            ChangeStatus::Renamed,
            Some(NS),
            Some(NS),
        );
        renamed.previous_path = Some("apps/ns.yaml".into());
        assert!(deletions(vec![renamed]).is_empty());
    }

    #[test]
    fn identity_uses_group_and_namespace() {
        // kustomize's own Kustomization is not Flux's.
        let kust = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nmetadata:\n  name: x\n";
        assert!(
            deletions(vec![changed(
                "k.yaml",
                ChangeStatus::Removed,
                Some(kust),
                None
            )])
            .is_empty()
        );
        let flux = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\n";
        let f = deletions(vec![changed(
            "k.yaml",
            ChangeStatus::Removed,
            Some(flux),
            None,
        )]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].namespace.as_deref(), Some("flux-system"));
        // A NetworkPolicy moved to another namespace: the old one is deleted.
        let np = |ns: &str| {
            format!(
                "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: deny-all\n  namespace: {ns}\n"
            )
        };
        let f = deletions(vec![changed(
            "np.yaml",
            ChangeStatus::Modified,
            Some(&np("payments")),
            Some(&np("sandbox")),
        )]);
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("payments/deny-all"));
        // Cluster-scoped kinds ignore a stray namespace.
        let crd = |ns: &str| {
            format!(
                "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.acme.io\n  namespace: {ns}\n"
            )
        };
        assert!(
            deletions(vec![changed(
                "crd.yaml",
                ChangeStatus::Modified,
                Some(&crd("a")),
                Some(&crd("b"))
            )])
            .is_empty()
        );
    }

    #[test]
    fn each_deleted_object_is_reported_once() {
        let f = deletions(vec![
            changed("a.yaml", ChangeStatus::Removed, Some(NS), None),
            changed("b.yaml", ChangeStatus::Removed, Some(NS), None),
        ]);
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn policy_files_are_policy_changes() {
        let cfg = parse_config(
            CONFIG_PATH,
            "tenants:\n  projects: [\"projects/*.yaml\"]\nadmission:\n  policies: [\"policies/**/*.yaml\"]\n",
        )
        .unwrap();
        let mut renamed = changed("elsewhere.yml", ChangeStatus::Renamed, Some("x"), Some("x"));
        renamed.previous_path = Some(CONFIG_PATH.into());
        let files = vec![
            changed(CONFIG_PATH, ChangeStatus::Modified, Some("a"), Some("b")),
            changed(
                ".github/CODEOWNERS",
                ChangeStatus::Modified,
                Some("a"),
                Some("b"),
            ),
            changed("CODEOWNERS", ChangeStatus::Added, None, Some("b")),
            changed("docs/CODEOWNERS", ChangeStatus::Removed, Some("a"), None),
            changed(
                "projects/payments.yaml",
                ChangeStatus::Modified,
                Some("a"),
                Some("b"),
            ),
            changed(
                "policies/pss/block-privileged.yaml",
                ChangeStatus::Added,
                None,
                Some("b"),
            ),
            renamed,
            // Not policy: nested project path (`*` stops at `/`), manifests, other CODEOWNERS.
            changed(
                "projects/old/x.yaml",
                ChangeStatus::Modified,
                Some("a"),
                Some("b"),
            ),
            changed(
                "apps/web.yaml",
                ChangeStatus::Modified,
                Some("a"),
                Some("b"),
            ),
            changed(
                "src/CODEOWNERS",
                ChangeStatus::Modified,
                Some("a"),
                Some("b"),
            ),
        ];
        let f = policy_changes(&input(files), &cfg);
        let got: Vec<_> = f.iter().map(|f| f.file.as_str()).collect();
        assert_eq!(
            got,
            [
                CONFIG_PATH,
                ".github/CODEOWNERS",
                "CODEOWNERS",
                "docs/CODEOWNERS",
                "projects/payments.yaml",
                "policies/pss/block-privileged.yaml",
                "elsewhere.yml",
            ]
        );
        assert!(f.iter().all(|f| f.rule.as_str() == "policy-change"
            && f.severity == Severity::Warning
            && f.line == 1));
        assert!(f[0].message.contains("base-branch versions"));
        assert!(f[6].message.contains("from .github/gitops-guard.yml"));
        assert!(f[5].message.contains("adds a Kyverno policy file"));
    }

    #[test]
    fn change_findings_combines_both() {
        let f = change_findings(
            &input(vec![
                changed(CONFIG_PATH, ChangeStatus::Modified, Some("a"), Some("b")),
                changed("ns.yaml", ChangeStatus::Removed, Some(NS), None),
            ]),
            &Config::default(),
        );
        let rules: Vec<_> = f.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(rules, ["policy-change", "critical-deletion"]);
    }
}
