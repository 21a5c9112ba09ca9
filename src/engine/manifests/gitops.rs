//! GitOps hardening rules over single objects: `gitops-resource`,
//! `appproject-wildcard`, `auto-sync`, `argocd-anonymous`,
//! `flux-service-account` and `flux-cross-namespace` (plus a call into
//! [`argocd_rbac`](crate::engine::manifests::argocd_rbac) so one entry point, [`check`], runs
//! every GitOps rule).
//!
//! Decisions, with the reason for each (the README rule catalogue repeats
//! them):
//!
//! - **gitops-resource** matches on API *group*, never on kind alone: Argo CD
//!   kinds of `argoproj.io` (Application, ApplicationSet, AppProject, ArgoCD,
//!   ArgoCDExport, NotificationsConfiguration), any group of Argo CD add-ons
//!   (`*.argoproj.io` containing `argocd`), every `fluxcd.io` group (the
//!   toolkit controllers: sources, kustomize, helm, notification, image) and
//!   the Flux Operator (`fluxcd.controlplane.io`). Argo CD's own declarative
//!   configuration is a GitOps control object too: the `argocd-*` ConfigMaps
//!   and Secrets, and Secrets labelled `argocd.argoproj.io/secret-type`
//!   (cluster and repository credentials). A kustomize build file
//!   (`kustomize.config.k8s.io` Kustomization) is not an object and is
//!   ignored; a tenant CRD that happens to be called `Kustomization` is not
//!   Flux.
//! - **appproject-wildcard** reports `sourceRepos` entries whose host or
//!   owner is a wildcard (anyone can create a repository under
//!   `github.com/*`), lists made only of `!` denials (Argo CD then permits
//!   every other repo), destinations whose server, name or namespace is
//!   wildcard-only or whose namespace pattern admits `kube-system`,
//!   `sourceNamespaces` wildcards, and wildcard `clusterResourceWhitelist`
//!   entries that admit every kind or an RBAC/admission/CRD kind (after the
//!   blacklist). A wildcard `namespaceResourceWhitelist` is *not* reported:
//!   it equals Argo CD's default when the list is absent, and tenant scoping
//!   judges each namespaced object on its own.
//! - **auto-sync**: `spec.syncPolicy.automated` set and not null enables
//!   automated sync (`automated: {}` included) unless `automated.enabled`
//!   is the boolean `false` (Argo CD ≥ 2.14). A production destination is a
//!   `gitops.production` glob match; a destination namespace that is absent or
//!   templated (ApplicationSet) cannot be judged and is reported when any
//!   production glob is configured, as is an ApplicationSet `templatePatch`
//!   that mentions `automated`.
//! - **argocd-anonymous**: Argo CD reads `users.anonymous.enabled` with
//!   `== "true"`. We report that, and also any other truthy spelling
//!   (`True`, `1`, `yes`, an unquoted YAML boolean), because the intent is
//!   clear and the reading could change. `policy.default` is reported when it
//!   names `role:admin`, `role:readonly` or any role whose lines grant across
//!   projects: the default role applies to every authenticated (and, when
//!   enabled, anonymous) user.
//! - **flux-service-account**: Flux Kustomization, HelmRelease and Flux
//!   Operator ResourceSet without a non-empty `spec.serviceAccountName`
//!   reconcile with the controller's (cluster-admin) identity.
//! - **flux-cross-namespace**: any `namespace` under `sourceRef`,
//!   `chart.spec.sourceRef`, `chartRef`, `dependsOn[]`,
//!   `imageRepositoryRef`, `eventSources[]` or `resources[]` that differs
//!   from the object's namespace (what `--no-cross-namespace-refs` rejects),
//!   `kubeConfig` (reconciles into another cluster), and `targetNamespace` /
//!   `storageNamespace` outside the namespaces the tenant may use.

use crate::engine::manifests::argocd_rbac;
use crate::engine::manifests::object::Object;
use crate::engine::manifests::violation::Violation;
use crate::engine::yaml::{Node, Value};

/// Namespace globs (`gitops.production`), matched like every other config
/// glob: `*` matches any run of characters.
#[derive(Clone, Debug)]
pub struct NamespaceGlobs {
    set: globset::GlobSet,
    len: usize,
}

impl NamespaceGlobs {
    /// Compiles the globs. A bad glob is an error (config validation reports it).
    pub fn new(globs: &[String]) -> Result<Self, globset::Error> {
        let mut b = globset::GlobSetBuilder::new();
        for g in globs {
            b.add(
                globset::GlobBuilder::new(g)
                    .literal_separator(false)
                    .build()?,
            );
        }
        Ok(Self {
            set: b.build()?,
            len: globs.len(),
        })
    }

    /// No globs configured.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether a namespace matches any glob.
    pub fn matches(&self, namespace: &str) -> bool {
        self.set.is_match(namespace)
    }
}

/// What the GitOps rules need to know about the object's place in the repo.
pub struct GitopsContext<'a> {
    /// The binding is marked `platform: true`.
    pub platform: bool,
    /// The object's effective namespace (own, kustomization, or binding's).
    pub namespace: &'a str,
    /// `gitops.production` globs.
    pub production: &'a NamespaceGlobs,
    /// Whether the tenant may use a namespace (AppProject destinations);
    /// platform bindings pass a predicate that accepts everything.
    pub tenant_namespace: &'a dyn Fn(&str) -> bool,
}

/// Runs every GitOps rule (including `argocd-rbac`) on one object.
pub fn check(obj: &Object, ctx: &GitopsContext<'_>) -> Vec<Violation> {
    let mut v = gitops_resource(obj, ctx.platform);
    v.extend(appproject_wildcard(obj));
    v.extend(auto_sync(obj, ctx.production));
    v.extend(argocd_anonymous(obj));
    v.extend(argocd_rbac::check(obj, ctx.platform));
    v.extend(flux_service_account(obj));
    v.extend(flux_cross_namespace(
        obj,
        ctx.namespace,
        ctx.tenant_namespace,
    ));
    v
}

const ARGOCD_KINDS: [&str; 6] = [
    "Application",
    "ApplicationSet",
    "AppProject",
    "ArgoCD",
    "ArgoCDExport",
    "NotificationsConfiguration",
];

const ARGOCD_CONFIGMAPS: [&str; 7] = [
    "argocd-cm",
    "argocd-rbac-cm",
    "argocd-cmd-params-cm",
    "argocd-ssh-known-hosts-cm",
    "argocd-tls-certs-cm",
    "argocd-gpg-keys-cm",
    "argocd-notifications-cm",
];

/// True for Flux API groups (toolkit controllers and the Flux Operator).
pub fn is_flux_group(group: &str) -> bool {
    group == "fluxcd.io" || group.ends_with(".fluxcd.io") || group == "fluxcd.controlplane.io"
}

/// What kind of GitOps control object this is, if any (for messages).
pub fn gitops_control(obj: &Object) -> Option<&'static str> {
    let group = obj.group();
    if group == "argoproj.io" && ARGOCD_KINDS.contains(&obj.kind.as_str()) {
        return Some("Argo CD");
    }
    if group.ends_with(".argoproj.io") && group.contains("argocd") {
        return Some("Argo CD add-on");
    }
    if is_flux_group(group) {
        return Some("Flux");
    }
    if group.is_empty() {
        if obj.kind == "ConfigMap" && ARGOCD_CONFIGMAPS.contains(&obj.name.as_str()) {
            return Some("Argo CD configuration");
        }
        if obj.kind == "Secret"
            && (obj.name == "argocd-secret"
                || obj.name == "argocd-notifications-secret"
                || obj
                    .root
                    .path(&["metadata", "labels", "argocd.argoproj.io/secret-type"])
                    .is_some())
        {
            return Some("Argo CD credentials");
        }
    }
    None
}

/// `gitops-resource`: an Argo CD or Flux control object under a binding
/// that is not platform-owned.
pub fn gitops_resource(obj: &Object, platform: bool) -> Vec<Violation> {
    if platform {
        return Vec::new();
    }
    let Some(what) = gitops_control(obj) else {
        return Vec::new();
    };
    vec![Violation::new(
        "gitops-resource",
        obj.line_of(&["kind"]),
        format!(
            "{what} object {} `{}` ({}) is in a path whose binding is not `platform: true`: \
             a tenant that creates its own GitOps objects escapes its AppProject; \
             move it to a platform-owned path or ask the platform team to create it",
            obj.kind, obj.name, obj.api_version
        ),
    )]
}

fn glob_meta(s: &str) -> bool {
    s.contains(['*', '?', '[', '{'])
}

/// `*`, `**`, `*?`…: a pattern that matches every non-empty string.
fn wildcard_only(s: &str) -> bool {
    s.contains('*') && s.chars().all(|c| c == '*' || c == '?')
}

/// Glob match with no separator (gobwas as Argo CD uses for destinations,
/// `filepath.Match` for kinds behaves the same on names without `/`).
fn glob_match(pattern: &str, value: &str) -> bool {
    globset::GlobBuilder::new(pattern)
        .literal_separator(false)
        .backslash_escape(true)
        .build()
        .map(|g| g.compile_matcher().is_match(value))
        .unwrap_or(false)
}

/// Host and owner of a repository URL or pattern, normalised as Argo CD's
/// `NormalizeGitURL` does (lowercase, scheme and user stripped,
/// `git@host:o/r` → `host/o/r`).
fn repo_segments(url: &str) -> Vec<String> {
    let mut s = url.trim().to_lowercase();
    if let Some(i) = s.find("://") {
        s = s[i + 3..].to_owned();
    } else if let Some((user_host, path)) = s.split_once(':')
        && !user_host.contains('/')
    {
        // scp-like `git@host:owner/repo`
        s = format!("{user_host}/{path}");
    }
    if let Some((before, after)) = s.split_once('@')
        && !before.contains('/')
    {
        s = after.to_owned();
    }
    s.split('/').map(str::to_owned).collect()
}

/// `appproject-wildcard`.
pub fn appproject_wildcard(obj: &Object) -> Vec<Violation> {
    const RULE: &str = "appproject-wildcard";
    let mut out = Vec::new();
    if obj.kind != "AppProject" || obj.group() != "argoproj.io" {
        return out;
    }
    let Some(spec) = obj.root.get("spec") else {
        return out;
    };
    // sourceRepos
    if let Some(repos) = spec.get("sourceRepos").and_then(Node::as_seq) {
        let mut any_allow = false;
        for r in repos {
            let Some(p) = r.as_str() else { continue };
            if p.starts_with('!') {
                continue;
            }
            any_allow = true;
            let segs = repo_segments(p);
            let host = segs.first().map(String::as_str).unwrap_or("");
            let owner = segs.get(1).map(String::as_str);
            if glob_meta(host) || host.is_empty() {
                out.push(Violation::new(
                    RULE,
                    r.span.line,
                    format!(
                        "sourceRepos entry `{p}` allows repositories on any host; list the organisation's repositories (e.g. `https://github.com/your-org/*`)"
                    ),
                ));
            } else if owner.is_none_or(|o| glob_meta(o) || o.is_empty()) {
                out.push(Violation::new(
                    RULE,
                    r.span.line,
                    format!(
                        "sourceRepos entry `{p}` allows any owner on `{host}`, so anyone who can create a repository there can deploy; name the owner (e.g. `https://{host}/your-org/*`)"
                    ),
                ));
            }
        }
        if !any_allow && !repos.is_empty() {
            out.push(Violation::new(
                RULE,
                spec.key_line("sourceRepos"),
                "sourceRepos holds only `!` denials, and Argo CD then permits every other repository; add the allowed repositories".to_owned(),
            ));
        }
    }
    // destinations
    if let Some(dests) = spec.get("destinations").and_then(Node::as_seq) {
        for d in dests {
            for field in ["server", "name", "namespace"] {
                let Some(p) = d.get(field).and_then(Node::as_str) else {
                    continue;
                };
                if p.starts_with('!') {
                    continue;
                }
                let line = d.key_line(field);
                if wildcard_only(p) {
                    out.push(Violation::new(
                        RULE,
                        line,
                        format!(
                            "destination {field} `{p}` allows every {}; list the {field}s this project may deploy to",
                            if field == "namespace" { "namespace" } else { "cluster" }
                        ),
                    ));
                } else if field == "namespace" && glob_match(p, "kube-system") {
                    out.push(Violation::new(
                        RULE,
                        line,
                        format!(
                            "destination namespace `{p}` admits `kube-system`; use a pattern that only covers the team's namespaces"
                        ),
                    ));
                }
            }
        }
    }
    // sourceNamespaces
    if let Some(ns) = spec.get("sourceNamespaces").and_then(Node::as_seq) {
        for n in ns {
            if let Some(p) = n.as_str()
                && (wildcard_only(p) || p == "/.*/")
            {
                out.push(Violation::new(
                    RULE,
                    n.span.line,
                    format!(
                        "sourceNamespaces entry `{p}` lets Applications in any namespace use this project; list the team's namespaces"
                    ),
                ));
            }
        }
    }
    // clusterResourceWhitelist
    let black: Vec<(String, String)> = spec
        .get("clusterResourceBlacklist")
        .and_then(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .map(|e| {
            let f = |k| e.get(k).and_then(Node::as_str).unwrap_or("").to_owned();
            (f("group"), f("kind"))
        })
        .collect();
    let blacklisted = |g: &str, k: &str| {
        black
            .iter()
            .any(|(bg, bk)| glob_match(bg, g) && glob_match(bk, k))
    };
    const DANGEROUS: [(&str, &str); 6] = [
        ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
        ("rbac.authorization.k8s.io", "ClusterRole"),
        (
            "admissionregistration.k8s.io",
            "MutatingWebhookConfiguration",
        ),
        (
            "admissionregistration.k8s.io",
            "ValidatingWebhookConfiguration",
        ),
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
        ("", "Namespace"),
    ];
    if let Some(white) = spec.get("clusterResourceWhitelist").and_then(Node::as_seq) {
        for e in white {
            let group = e.get("group").and_then(Node::as_str).unwrap_or("");
            let kind = e.get("kind").and_then(Node::as_str).unwrap_or("");
            if !glob_meta(group) && !glob_meta(kind) {
                continue; // an explicit kind is a deliberate choice, judged by tenant scoping
            }
            let line = e.key_line("kind");
            if wildcard_only(group) && wildcard_only(kind) {
                out.push(Violation::new(
                    RULE,
                    line,
                    format!(
                        "clusterResourceWhitelist `{{group: '{group}', kind: '{kind}'}}` allows every cluster-scoped kind (ClusterRoleBindings, webhooks, CRDs, Namespaces); list only the kinds the team needs"
                    ),
                ));
                continue;
            }
            let hits: Vec<&str> = DANGEROUS
                .iter()
                .filter(|(g, k)| glob_match(group, g) && glob_match(kind, k) && !blacklisted(g, k))
                .map(|(_, k)| *k)
                .collect();
            if !hits.is_empty() {
                out.push(Violation::new(
                    RULE,
                    line,
                    format!(
                        "clusterResourceWhitelist `{{group: '{group}', kind: '{kind}'}}` allows {}, which give cluster-wide control; list only the kinds the team needs",
                        hits.join(", ")
                    ),
                ));
            }
        }
    }
    out
}

/// Whether `spec.syncPolicy.automated` (under `spec`) enables automated
/// sync. Returns the line of `automated`.
fn automated(spec: &Node) -> Option<u32> {
    let policy = spec.get("syncPolicy")?;
    let e = policy.entry("automated")?;
    match &e.value.value {
        Value::Null | Value::Bool(false) => None,
        _ => {
            if e.value.get("enabled").and_then(Node::as_bool) == Some(false) {
                None
            } else {
                Some(e.key_span.line)
            }
        }
    }
}

/// `auto-sync`: automated sync of an Application (or an ApplicationSet's
/// template) whose destination namespace is production.
pub fn auto_sync(obj: &Object, production: &NamespaceGlobs) -> Vec<Violation> {
    const RULE: &str = "auto-sync";
    let mut out = Vec::new();
    if production.is_empty() || obj.group() != "argoproj.io" {
        return out;
    }
    let spec = match obj.kind.as_str() {
        "Application" => obj.root.get("spec"),
        "ApplicationSet" => {
            if let Some(e) = obj.root.get("spec").and_then(|s| s.entry("templatePatch"))
                && e.value.as_str().is_some_and(|t| t.contains("automated"))
            {
                out.push(Violation::new(
                    RULE,
                    e.key_span.line,
                    "templatePatch sets `automated` sync, and a template patch cannot be evaluated before rendering; \
                     set the sync policy in `template` so it can be checked against production namespaces"
                        .to_owned(),
                ));
            }
            obj.root.path(&["spec", "template", "spec"])
        }
        _ => None,
    };
    let Some(spec) = spec else { return out };
    let Some(line) = automated(spec) else {
        return out;
    };
    let ns = spec
        .path(&["destination", "namespace"])
        .and_then(Node::as_str)
        .unwrap_or("");
    let fix = "remove `syncPolicy.automated` (or set `automated.enabled: false`) and sync production by hand";
    if ns.is_empty() {
        out.push(Violation::new(
            RULE,
            line,
            format!(
                "automated sync with no destination namespace: the synced objects may land in a production namespace; set `destination.namespace` or {fix}"
            ),
        ));
    } else if ns.contains("{{") {
        out.push(Violation::new(
            RULE,
            line,
            format!(
                "automated sync to the templated namespace `{ns}`, which cannot be checked against the production namespaces; {fix}"
            ),
        ));
    } else if production.matches(ns) {
        out.push(Violation::new(
            RULE,
            line,
            format!("automated sync to production namespace `{ns}`; {fix}"),
        ));
    }
    out
}

/// Truthy spellings of `strconv.ParseBool` and YAML 1.1.
fn truthy(s: &str) -> bool {
    matches!(
        s,
        "1" | "t"
            | "T"
            | "TRUE"
            | "true"
            | "True"
            | "y"
            | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "on"
            | "On"
            | "ON"
    )
}

/// `argocd-anonymous`: anonymous access in `argocd-cm`, and a
/// `policy.default` in `argocd-rbac-cm` that grants across projects.
pub fn argocd_anonymous(obj: &Object) -> Vec<Violation> {
    const RULE: &str = "argocd-anonymous";
    let mut out = Vec::new();
    if obj.kind != "ConfigMap" || !obj.group().is_empty() {
        return out;
    }
    let Some(data) = obj.root.get("data") else {
        return out;
    };
    if obj.name == "argocd-cm"
        && let Some(e) = data.entry("users.anonymous.enabled")
    {
        let hit = match &e.value.value {
            Value::Str(s) if s == "true" => Some(String::new()),
            Value::Str(s) if truthy(s.trim()) => Some(format!(
                " (Argo CD reads only the exact string \"true\" today, but `{s}` plainly means to enable it)"
            )),
            Value::Bool(true) | Value::Int(1) => Some(
                " (an unquoted YAML boolean; ConfigMap values must be strings, so this is also invalid)".to_owned(),
            ),
            _ => None,
        };
        if let Some(note) = hit {
            out.push(Violation::new(
                RULE,
                e.key_span.line,
                format!(
                    "`users.anonymous.enabled` turns on anonymous access to Argo CD{note}: anyone who reaches the UI or API gets `policy.default`; set it to \"false\" and use SSO"
                ),
            ));
        }
    }
    if argocd_rbac::is_rbac_configmap(obj)
        && let Some(e) = data.entry("policy.default")
        && let Some(role) = e.value.as_str()
        && !role.trim().is_empty()
    {
        let role = role.trim();
        let mut ignored = Vec::new();
        let (lines, mode) = argocd_rbac::global_policy(obj, &mut ignored);
        if argocd_rbac::cross_project_subjects(&lines, mode)
            .iter()
            .any(|s| s == role)
        {
            let what = if role == "role:admin" {
                "makes every user (and the anonymous user, if enabled) an administrator"
            } else {
                "gives every user (and the anonymous user, if enabled) access to every project"
            };
            out.push(Violation::new(
                RULE,
                e.key_span.line,
                format!(
                    "`policy.default: {role}` {what}; set `policy.default: ''` and grant project roles to SSO groups"
                ),
            ));
        }
    }
    out
}

fn is_flux_kind(obj: &Object, group: &str, kind: &str) -> bool {
    obj.group() == group && obj.kind == kind
}

/// `flux-service-account`: Flux Kustomization, HelmRelease or Flux
/// Operator ResourceSet without `spec.serviceAccountName`.
pub fn flux_service_account(obj: &Object) -> Vec<Violation> {
    let applies = is_flux_kind(obj, "kustomize.toolkit.fluxcd.io", "Kustomization")
        || is_flux_kind(obj, "helm.toolkit.fluxcd.io", "HelmRelease")
        || is_flux_kind(obj, "fluxcd.controlplane.io", "ResourceSet");
    if !applies {
        return Vec::new();
    }
    let sa = obj
        .root
        .path(&["spec", "serviceAccountName"])
        .and_then(Node::as_str)
        .map(str::trim)
        .unwrap_or("");
    if !sa.is_empty() {
        return Vec::new();
    }
    let line = match obj
        .root
        .get("spec")
        .and_then(|s| s.entry("serviceAccountName"))
    {
        Some(e) => e.key_span.line,
        None => obj.line_of(&["spec"]),
    };
    vec![Violation::new(
        "flux-service-account",
        line,
        format!(
            "{} `{}` has no `spec.serviceAccountName`, so Flux applies it with the controller's cluster-admin identity; \
             set `serviceAccountName` to a service account bound only to the tenant's namespace",
            obj.kind, obj.name
        ),
    )]
}

/// `flux-cross-namespace`: references out of the object's own namespace,
/// remote clusters, and target namespaces the tenant may not use.
/// `namespace` is the object's effective namespace; `allowed` says whether
/// the tenant may deploy to a namespace.
pub fn flux_cross_namespace(
    obj: &Object,
    namespace: &str,
    allowed: &dyn Fn(&str) -> bool,
) -> Vec<Violation> {
    const RULE: &str = "flux-cross-namespace";
    let mut out = Vec::new();
    if !is_flux_group(obj.group()) {
        return out;
    }
    let Some(spec) = obj.root.get("spec") else {
        return out;
    };
    let mut check_ref = |node: Option<&Node>, what: &str| {
        let Some(node) = node else { return };
        if let Some(e) = node.entry("namespace")
            && let Some(ns) = e.value.as_str()
            && !ns.is_empty()
            && ns != namespace
        {
            out.push(Violation::new(
                RULE,
                e.key_span.line,
                format!(
                    "{what} points to namespace `{ns}`, outside this object's namespace `{namespace}`; \
                     reference objects in `{namespace}` only (Flux's `--no-cross-namespace-refs` rejects this)"
                ),
            ));
        }
    };
    check_ref(spec.get("sourceRef"), "`sourceRef`");
    check_ref(
        spec.path(&["chart", "spec", "sourceRef"]),
        "`chart.spec.sourceRef`",
    );
    check_ref(spec.get("chartRef"), "`chartRef`");
    check_ref(spec.get("imageRepositoryRef"), "`imageRepositoryRef`");
    for (list, what) in [
        ("dependsOn", "`dependsOn` entry"),
        ("eventSources", "`eventSources` entry"),
        ("resources", "`resources` entry"),
    ] {
        for item in spec.get(list).and_then(Node::as_seq).unwrap_or_default() {
            check_ref(Some(item), what);
        }
    }
    if let Some(e) = spec.entry("kubeConfig")
        && !e.value.is_null()
    {
        out.push(Violation::new(
            RULE,
            e.key_span.line,
            "`kubeConfig` makes Flux reconcile into another cluster, where this repository's tenant boundaries do not apply; \
             remove it or move the object to a platform-owned path"
                .to_owned(),
        ));
    }
    for field in ["targetNamespace", "storageNamespace"] {
        if let Some(e) = spec.entry(field)
            && let Some(ns) = e.value.as_str()
            && !ns.is_empty()
            && !allowed(ns)
        {
            out.push(Violation::new(
                RULE,
                e.key_span.line,
                format!(
                    "`{field}: {ns}` sends the reconciled objects to a namespace this tenant may not deploy to; use one of the tenant's namespaces"
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::manifests::object::load_objects;
    use crate::engine::yaml::Limits;

    fn obj(text: &str) -> Object {
        load_objects("f.yaml", text, &Limits::default())
            .objects
            .remove(0)
    }

    fn rules(v: &[Violation]) -> Vec<(&str, u32)> {
        v.iter().map(|v| (v.rule.as_str(), v.line)).collect()
    }

    fn prod() -> NamespaceGlobs {
        NamespaceGlobs::new(&["payments".into(), "*-prod".into()]).unwrap()
    }

    #[test]
    fn gitops_resource_matches_on_group() {
        let app =
            obj("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: a\n");
        assert_eq!(
            rules(&gitops_resource(&app, false)),
            vec![("gitops-resource", 2)]
        );
        assert!(
            gitops_resource(&app, true).is_empty(),
            "platform paths may hold them"
        );
        let flux = obj(
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: a\n",
        );
        assert_eq!(gitops_resource(&flux, false).len(), 1);
        for other in [
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nmetadata:\n  name: a\n",
            "apiVersion: example.com/v1\nkind: Kustomization\nmetadata:\n  name: a\n",
            "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: a\n",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\n",
        ] {
            assert!(gitops_resource(&obj(other), false).is_empty(), "{other}");
        }
        for flux_kind in [
            "source.toolkit.fluxcd.io/v1\nkind: GitRepository",
            "helm.toolkit.fluxcd.io/v2\nkind: HelmRelease",
            "notification.toolkit.fluxcd.io/v1\nkind: Receiver",
            "image.toolkit.fluxcd.io/v1beta2\nkind: ImageUpdateAutomation",
            "fluxcd.controlplane.io/v1\nkind: ResourceSet",
        ] {
            let o = obj(&format!("apiVersion: {flux_kind}\nmetadata:\n  name: a\n"));
            assert_eq!(gitops_resource(&o, false).len(), 1, "{flux_kind}");
        }
        let repo_secret = obj(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: repo\n  labels:\n    argocd.argoproj.io/secret-type: repository\n",
        );
        assert_eq!(gitops_resource(&repo_secret, false).len(), 1);
        let rbac = obj("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-rbac-cm\n");
        assert_eq!(gitops_resource(&rbac, false).len(), 1);
    }

    const PROJECT: &str =
        "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata:\n  name: p\nspec:\n";

    #[test]
    fn appproject_reference_is_clean() {
        let o = obj(&format!(
            "{PROJECT}  sourceRepos:\n  - https://github.com/your-org/payments-manifests\n  - git@github.com:your-org/*\n  destinations:\n  - namespace: payments\n    server: https://kubernetes.default.svc\n  - namespace: payments-*\n    server: https://kubernetes.default.svc\n  clusterResourceBlacklist:\n  - group: ''\n    kind: Namespace\n  namespaceResourceWhitelist:\n  - group: '*'\n    kind: '*'\n"
        ));
        assert_eq!(appproject_wildcard(&o), vec![]);
    }

    #[test]
    fn appproject_wildcards() {
        let o = obj(&format!(
            "{PROJECT}  sourceRepos:\n  - '*'\n  - https://github.com/*/*\n  - 'git@GitHub.com:*'\n  destinations:\n  - namespace: '*'\n    server: https://kubernetes.default.svc\n  - namespace: team\n    server: '*'\n  - namespace: '[a-z]*'\n    name: in-cluster\n  - namespace: '!kube-system'\n    server: https://kubernetes.default.svc\n  sourceNamespaces: ['*']\n  clusterResourceWhitelist:\n  - group: '*'\n    kind: '*'\n  - group: 'rbac.authorization.k8s.io'\n    kind: 'Cluster*'\n  - group: ''\n    kind: 'Persistent*'\n"
        ));
        let found = appproject_wildcard(&o);
        let got = rules(&found);
        let lines: Vec<u32> = got.iter().map(|g| g.1).collect();
        assert_eq!(lines, vec![7, 8, 9, 11, 14, 15, 19, 22, 24], "{got:?}");
    }

    #[test]
    fn appproject_deny_only_repos_and_blacklist() {
        let o = obj(&format!(
            "{PROJECT}  sourceRepos:\n  - '!https://github.com/evil/*'\n"
        ));
        assert_eq!(
            rules(&appproject_wildcard(&o)),
            vec![("appproject-wildcard", 6)]
        );
        // A wildcard whitelist whose dangerous kinds are all blacklisted is fine.
        let o = obj(&format!(
            "{PROJECT}  clusterResourceWhitelist:\n  - group: rbac.authorization.k8s.io\n    kind: '*'\n  clusterResourceBlacklist:\n  - group: rbac.authorization.k8s.io\n    kind: '*'\n"
        ));
        assert_eq!(appproject_wildcard(&o), vec![]);
    }

    const APP: &str = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: a\nspec:\n  destination:\n    namespace: payments\n  syncPolicy:\n";

    #[test]
    fn auto_sync_variants() {
        for (policy, hit) in [
            ("    automated: {}\n", true),
            ("    automated:\n      prune: yes\n", true),
            ("    automated:\n      enabled: true\n", true),
            ("    automated:\n      enabled: no\n", false),
            ("    automated:\n      enabled: 'false'\n", true), // a string is not the boolean false
            ("    automated: null\n", false),
            ("    automated: ~\n", false),
            ("    syncOptions: [Validate=true]\n", false),
        ] {
            let o = obj(&format!("{APP}{policy}"));
            let v = auto_sync(&o, &prod());
            assert_eq!(v.len(), usize::from(hit), "{policy}: {v:?}");
            if hit {
                assert_eq!(v[0].line, 9);
            }
        }
        // Not production, or no production configured.
        let o = obj(&APP
            .replace("payments", "payments-staging")
            .replace("syncPolicy:\n", "syncPolicy:\n    automated: {}\n"));
        assert!(auto_sync(&o, &prod()).is_empty());
        let o = obj(&format!("{APP}    automated: {{}}\n"));
        assert!(auto_sync(&o, &NamespaceGlobs::new(&[]).unwrap()).is_empty());
        // Glob match.
        let o = obj(&APP
            .replace("payments", "shop-prod")
            .replace("syncPolicy:\n", "syncPolicy:\n    automated: {}\n"));
        assert_eq!(auto_sync(&o, &prod()).len(), 1);
    }

    #[test]
    fn auto_sync_applicationset() {
        let set = "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: s\nspec:\n  template:\n    spec:\n      destination:\n        namespace: '{{.path.basename}}'\n      syncPolicy:\n        automated: {}\n";
        assert_eq!(
            rules(&auto_sync(&obj(set), &prod())),
            vec![("auto-sync", 11)]
        );
        let fixed = set.replace("'{{.path.basename}}'", "team-dev");
        assert!(auto_sync(&obj(&fixed), &prod()).is_empty());
        let patch = "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: s\nspec:\n  templatePatch: |\n    spec:\n      syncPolicy:\n        automated: {}\n";
        assert_eq!(
            rules(&auto_sync(&obj(patch), &prod())),
            vec![("auto-sync", 6)]
        );
    }

    #[test]
    fn anonymous_access_spellings() {
        let cm = |v: &str| {
            obj(&format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\ndata:\n  users.anonymous.enabled: {v}\n"
            ))
        };
        for v in ["'true'", "\"True\"", "'1'", "yes", "on", "true", "'YES'"] {
            assert_eq!(
                rules(&argocd_anonymous(&cm(v))),
                vec![("argocd-anonymous", 6)],
                "{v}"
            );
        }
        for v in ["'false'", "false", "no", "''", "'0'"] {
            assert!(argocd_anonymous(&cm(v)).is_empty(), "{v}");
        }
    }

    #[test]
    fn policy_default() {
        let cm = |d: &str| {
            obj(&format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-rbac-cm\ndata:\n  policy.default: {d}\n  policy.csv: |\n    p, role:all-apps, applications, get, */*, allow\n    p, role:team-a, applications, get, team-a/*, allow\n"
            ))
        };
        for d in ["role:admin", "role:readonly", "role:all-apps"] {
            assert_eq!(
                rules(&argocd_anonymous(&cm(d))),
                vec![("argocd-anonymous", 6)],
                "{d}"
            );
        }
        for d in ["''", "role:team-a"] {
            assert!(argocd_anonymous(&cm(d)).is_empty(), "{d}");
        }
    }

    #[test]
    fn flux_service_accounts() {
        let ks = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: a\n  namespace: payments\nspec:\n  interval: 10m\n";
        assert_eq!(
            rules(&flux_service_account(&obj(ks))),
            vec![("flux-service-account", 6)]
        );
        let empty = format!("{ks}  serviceAccountName: ''\n");
        assert_eq!(
            rules(&flux_service_account(&obj(&empty))),
            vec![("flux-service-account", 8)]
        );
        let ok = format!("{ks}  serviceAccountName: flux-payments-reconciler\n");
        assert!(flux_service_account(&obj(&ok)).is_empty());
        let hr = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: a\nspec: {}\n";
        assert_eq!(flux_service_account(&obj(hr)).len(), 1);
        let other = "apiVersion: example.com/v1\nkind: Kustomization\nmetadata:\n  name: a\n";
        assert!(flux_service_account(&obj(other)).is_empty());
    }

    #[test]
    fn flux_cross_namespace_refs() {
        let tenant = |ns: &str| ns == "payments" || ns == "payments-staging";
        let ok = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: a\n  namespace: payments\nspec:\n  sourceRef:\n    kind: GitRepository\n    name: x\n    namespace: payments\n  targetNamespace: payments-staging\n  dependsOn:\n  - name: base\n";
        assert!(flux_cross_namespace(&obj(ok), "payments", &tenant).is_empty());
        let bad = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: a\n  namespace: payments\nspec:\n  sourceRef:\n    kind: GitRepository\n    name: x\n    namespace: flux-system\n  targetNamespace: kube-system\n  dependsOn:\n  - name: base\n    namespace: infra\n  kubeConfig:\n    secretRef:\n      name: remote\n";
        let found = flux_cross_namespace(&obj(bad), "payments", &tenant);
        let got = rules(&found);
        assert_eq!(
            got,
            vec![
                ("flux-cross-namespace", 10),
                ("flux-cross-namespace", 14),
                ("flux-cross-namespace", 15),
                ("flux-cross-namespace", 11)
            ]
        );
        let hr = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: a\nspec:\n  chart:\n    spec:\n      chart: x\n      sourceRef:\n        kind: HelmRepository\n        name: r\n        namespace: flux-system\n  storageNamespace: default\n";
        let found = flux_cross_namespace(&obj(hr), "payments", &tenant);
        let got = rules(&found);
        assert_eq!(
            got,
            vec![("flux-cross-namespace", 12), ("flux-cross-namespace", 13)]
        );
    }

    #[test]
    fn check_runs_everything() {
        let app = obj(&format!("{APP}    automated: {{}}\n"));
        let prod = prod();
        let ctx = GitopsContext {
            platform: false,
            namespace: "payments",
            production: &prod,
            tenant_namespace: &|_| true,
        };
        let found = check(&app, &ctx);
        let got = rules(&found);
        assert_eq!(got, vec![("gitops-resource", 2), ("auto-sync", 9)]);
    }
}
