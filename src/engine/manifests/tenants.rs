//! Tenant scoping: each manifest path is bound (`tenants.bindings`) to an
//! Argo CD AppProject, and every object under it must be something that
//! project lets Argo CD deploy — checked with Argo CD's own semantics
//! ([`crate::engine::manifests::appproject`]), before a PR merges rather than at sync time.
//!
//! Rules:
//! - `unbound-path`: a manifest file under no binding (when bindings exist).
//! - `tenant-source-repo`: the binding's repository (default: this one) is
//!   not permitted by the project's `sourceRepos`.
//! - `tenant-cluster-resource`: a cluster-scoped kind the project's
//!   `clusterResourceWhitelist`/`Blacklist` does not allow.
//! - `tenant-kind`: a namespaced kind the `namespaceResourceWhitelist`/
//!   `Blacklist` does not allow, or a kind whose scope is unknown.
//! - `tenant-namespace`: an effective namespace the project's destinations
//!   do not permit on the binding's server, or no namespace at all.
//!
//! The effective namespace of a namespaced object is what the cluster will
//! see: a Kustomize `namespace:` that renders the file (it overrides the
//! object's own), else `metadata.namespace`, else the binding's namespace
//! (Argo CD's destination namespace). When several kustomizations can render
//! a file, every namespace they produce is checked.
//!
//! Configuration problems (a binding naming a project that does not exist,
//! a bad path glob, an AppProject Argo CD would reject) are returned by
//! [`TenantContext::new`] as [`ConfigProblem`]s rather than as findings on
//! manifests: they are about the config, and they must fail the check.

use std::sync::Mutex;

use globset::{GlobSet, GlobSetBuilder};

use crate::engine::config::{Binding, TenantsConfig};
use crate::engine::finding::Severity;
use crate::engine::glob::{argo_filepath_match, path_glob, path_glob_parse};
use crate::engine::ids::RepoName;
use crate::engine::input::SourceFile;
use crate::engine::manifests::appproject::{
    AppProject, DestinationMatcher, ResourceItem, default_project,
};
use crate::engine::manifests::kinds::{KindTable, Scope};
use crate::engine::manifests::kustomize::{
    Kustomizations, is_kustomization_file, node_is_kustomization,
};
use crate::engine::manifests::object::{Object, load_objects};
use crate::engine::manifests::violation::Violation;
use crate::engine::yaml::Limits;

/// Argo CD's in-cluster API server, the default destination server.
pub const DEFAULT_SERVER: &str = "https://kubernetes.default.svc";
/// Argo CD's name for the in-cluster cluster (v3 passes it to destination
/// checks together with the server).
pub const IN_CLUSTER_NAME: &str = "in-cluster";
/// Host used to turn an `owner/name` repository into a Git URL.
pub const DEFAULT_GIT_HOST: &str = "github.com";

/// A problem with the tenants configuration or the AppProjects it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigProblem {
    /// `Error` fails the check (fail closed); `Warning`/`Notice` explain
    /// what could not be evaluated.
    pub severity: Severity,
    /// Index into `tenants.bindings`, when the problem is about one binding.
    pub binding: Option<usize>,
    /// File the problem is in, when it is in an AppProject file rather than
    /// the config.
    pub file: Option<String>,
    /// Line in `file` (1 when unknown).
    pub line: u32,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl ConfigProblem {
    fn binding(severity: Severity, index: usize, message: String) -> Self {
        Self {
            severity,
            binding: Some(index),
            file: None,
            line: 1,
            message,
        }
    }
}

/// Where an effective namespace comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NamespaceSource {
    /// A kustomization's `namespace:` (the file named) renders it.
    Kustomization(String),
    /// The object's own `metadata.namespace`.
    Metadata,
    /// The binding's `namespace` (Argo CD's destination namespace).
    Binding,
    /// Nothing sets one.
    Missing,
}

/// One namespace a namespaced object can be deployed into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EffectiveNamespace {
    /// The namespace (`None` with [`NamespaceSource::Missing`]).
    pub namespace: Option<String>,
    /// Where it comes from.
    pub source: NamespaceSource,
}

struct Bound {
    index: usize,
    binding: Binding,
    /// The project(s) named; more than one only when names are duplicated
    /// (then all must allow the object). Empty when missing.
    projects: Vec<AppProject>,
    /// `projects[i]`'s destinations, compiled once.
    destinations: Vec<DestinationMatcher>,
    server: String,
    cluster_name: String,
    /// Set when `sourceRepos` does not permit the binding's repository.
    source_violation: Option<String>,
}

/// Everything tenant scoping needs, prepared once per evaluation.
pub struct TenantContext {
    bound: Vec<Bound>,
    /// Every binding's path globs in one set (one automaton pass per path
    /// instead of one per binding); `owner[i]` is the index into `bound` of
    /// glob `i`.
    all_globs: GlobSet,
    owner: Vec<usize>,
    /// The last path looked up in `all_globs` and its binding: the rules
    /// ask several times per object, and objects arrive file by file.
    last_lookup: Mutex<Option<(String, Option<usize>)>>,
    kinds: KindTable,
    kustomizations: Kustomizations,
}

fn repo_urls(spec: &str) -> Vec<String> {
    match RepoName::parse(spec) {
        // `owner/name`: Argo CD Applications may use either URL form, and
        // NormalizeGitURL keeps them apart, so accept either.
        Some(r) => vec![
            format!("https://{DEFAULT_GIT_HOST}/{}", r.as_str()),
            format!("git@{DEFAULT_GIT_HOST}:{}.git", r.as_str()),
        ],
        None => vec![spec.to_owned()],
    }
}

fn gk(group: &str, kind: &str) -> String {
    if group.is_empty() {
        format!("`{kind}` (core group)")
    } else {
        format!("`{kind}` (group `{group}`)")
    }
}

fn item(i: &ResourceItem) -> String {
    let mut s = format!("{{group: '{}', kind: '{}'", i.group, i.kind);
    if !i.name.is_empty() {
        s.push_str(&format!(", name: '{}'", i.name));
    }
    s.push('}');
    s
}

fn describe(p: &AppProject) -> String {
    if p.file.is_empty() {
        format!("AppProject `{}` (Argo CD's built-in default)", p.name)
    } else {
        format!("AppProject `{}` ({}:{})", p.name, p.file, p.line)
    }
}

impl TenantContext {
    /// Prepares the bindings. `projects` are the AppProjects read from the
    /// files `config.projects` names (at the base commit); `kinds` holds the
    /// built-in kinds plus the repository's CRDs; `repo` is this repository
    /// (the default source repo of a binding). A binding naming `default`
    /// with no such AppProject file gets Argo CD's auto-created default
    /// project. Returns the context and the configuration problems found.
    pub fn new(
        config: &TenantsConfig,
        projects: Vec<AppProject>,
        kinds: KindTable,
        kustomizations: Kustomizations,
        repo: Option<&RepoName>,
    ) -> (Self, Vec<ConfigProblem>) {
        let mut problems = Vec::new();
        for p in &projects {
            for e in p.validation_errors() {
                problems.push(ConfigProblem {
                    severity: Severity::Error,
                    binding: None,
                    file: Some(p.file.clone()),
                    line: p.line,
                    message: format!("Argo CD rejects AppProject `{}`: {e}", p.name),
                });
            }
        }
        // Every binding's globs in one set (binding `i` becomes `bound[i]`).
        let mut all = GlobSetBuilder::new();
        let mut owner = Vec::new();
        for (i, b) in config.bindings.iter().enumerate() {
            for g in &b.paths {
                if let Ok(m) = path_glob_parse(g) {
                    all.add(m);
                    owner.push(i);
                }
            }
        }
        let combined = all.build();
        let mut bound = Vec::new();
        for (index, b) in config.bindings.iter().enumerate() {
            let mut globs = GlobSetBuilder::new();
            for g in &b.paths {
                match path_glob_parse(g) {
                    Ok(m) => {
                        globs.add(m);
                    }
                    Err(e) => problems.push(ConfigProblem::binding(
                        Severity::Error,
                        index,
                        format!("tenants.bindings[{index}].paths: {e}"),
                    )),
                }
            }
            if b.paths.is_empty() {
                problems.push(ConfigProblem::binding(
                    Severity::Error,
                    index,
                    format!("tenants.bindings[{index}] has no paths, so it binds nothing"),
                ));
            }
            let mut found: Vec<AppProject> = projects
                .iter()
                .filter(|p| p.name == b.project)
                .cloned()
                .collect();
            if b.project.is_empty() {
                problems.push(ConfigProblem::binding(
                    Severity::Error,
                    index,
                    format!("tenants.bindings[{index}] names no project"),
                ));
            } else if found.is_empty() && b.project == "default" {
                found.push(default_project());
            } else if found.is_empty() {
                problems.push(ConfigProblem::binding(
                    Severity::Error,
                    index,
                    format!(
                        "tenants.bindings[{index}]: AppProject `{}` is not defined in any file matched by tenants.projects; its paths cannot be checked (Argo CD would refuse to sync them)",
                        b.project
                    ),
                ));
            } else if found.len() > 1 {
                let files: Vec<&str> = found.iter().map(|p| p.file.as_str()).collect();
                problems.push(ConfigProblem::binding(
                    Severity::Error,
                    index,
                    format!(
                        "tenants.bindings[{index}]: AppProject `{}` is defined more than once ({}); objects must satisfy every definition",
                        b.project,
                        files.join(", ")
                    ),
                ));
            }
            for p in &found {
                if p.permit_only_project_scoped_clusters {
                    problems.push(ConfigProblem::binding(
                        Severity::Notice,
                        index,
                        format!(
                            "AppProject `{}` sets permitOnlyProjectScopedClusters; cluster secrets are not in the repository, so only its destinations are checked",
                            p.name
                        ),
                    ));
                }
            }
            let server = b
                .server
                .clone()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| DEFAULT_SERVER.to_owned());
            let cluster_name = if server == DEFAULT_SERVER {
                IN_CLUSTER_NAME.to_owned()
            } else {
                String::new()
            };
            let urls = match (&b.repo, repo) {
                (Some(r), _) if !r.trim().is_empty() => repo_urls(r.trim()),
                (_, Some(r)) => repo_urls(r.as_str()),
                _ => {
                    if !found.is_empty() {
                        problems.push(ConfigProblem::binding(
                            Severity::Warning,
                            index,
                            format!(
                                "tenants.bindings[{index}]: the source repository is unknown (no `repo:` and no --repo), so sourceRepos of `{}` is not checked",
                                b.project
                            ),
                        ));
                    }
                    Vec::new()
                }
            };
            let mut source_violation = None;
            if !urls.is_empty() {
                for p in &found {
                    if !urls.iter().any(|u| p.is_source_permitted(u)) {
                        source_violation = Some(format!(
                            "source repository `{}` is not permitted by spec.sourceRepos of {} (sourceRepos: [{}]), so Argo CD will refuse to sync this path",
                            urls[0],
                            describe(p),
                            p.source_repos.join(", ")
                        ));
                        break;
                    }
                }
            }
            // Compiled here only to report bad globs per binding, and only
            // when the combined set failed: a binding's set is a subset of
            // it, so it builds whenever the combined one does.
            if combined.is_err()
                && let Err(e) = globs.build()
            {
                problems.push(ConfigProblem::binding(
                    Severity::Error,
                    index,
                    format!("tenants.bindings[{index}].paths: {e}"),
                ));
            }
            bound.push(Bound {
                index,
                binding: b.clone(),
                destinations: found.iter().map(DestinationMatcher::new).collect(),
                projects: found,
                server,
                cluster_name,
                source_violation,
            });
        }
        // A set that does not build fails closed (every path unbound →
        // `unbound-path`); the per-binding builds above said why.
        let all_globs = combined.unwrap_or_else(|_| GlobSet::empty());
        (
            Self {
                bound,
                all_globs,
                owner,
                last_lookup: Mutex::new(None),
                kinds,
                kustomizations,
            },
            problems,
        )
    }

    /// True when tenant scoping is configured (at least one binding).
    pub fn enabled(&self) -> bool {
        !self.bound.is_empty()
    }

    fn bound_for(&self, path: &str) -> Option<&Bound> {
        let first = match self.last_lookup.lock() {
            Ok(mut last) => match &*last {
                Some((p, first)) if p == path => *first,
                _ => {
                    let first = self.first_binding(path);
                    *last = Some((path.to_owned(), first));
                    first
                }
            },
            Err(_) => self.first_binding(path),
        };
        self.bound.get(first?)
    }

    /// Index of the first binding (in config order) with a matching path glob.
    fn first_binding(&self, path: &str) -> Option<usize> {
        self.all_globs
            .matches(path)
            .into_iter()
            .map(|i| self.owner[i])
            .min()
    }

    /// The repository's kustomizations (as given to [`TenantContext::new`]).
    pub fn kustomizations(&self) -> &Kustomizations {
        &self.kustomizations
    }

    /// May the tenant that owns `path` deploy into `namespace`? True when
    /// every project of its binding permits the destination (Argo CD's
    /// `IsDestinationPermitted`), or when the path is under no binding or a
    /// platform binding. Used by rules that see a namespace in a field
    /// (Flux `targetNamespace`, cross-namespace references).
    pub fn namespace_permitted(&self, path: &str, namespace: &str) -> bool {
        let Some(b) = self.bound_for(path) else {
            return true;
        };
        if b.binding.platform {
            return true;
        }
        !b.projects.is_empty()
            && b.destinations
                .iter()
                .all(|dm| dm.is_permitted(&b.server, &b.cluster_name, namespace))
    }

    /// The binding (and its index) a repository path falls under.
    pub fn binding_for(&self, path: &str) -> Option<(usize, &Binding)> {
        self.bound_for(path).map(|b| (b.index, &b.binding))
    }

    /// Scope of an object's kind (built-in table plus registered CRDs).
    pub fn scope(&self, obj: &Object) -> Scope {
        self.kinds.lookup(obj.group(), &obj.kind)
    }

    /// File-level findings for one manifest file: `unbound-path` and
    /// `tenant-source-repo`, once per file at line 1. Kustomization files
    /// are build input, not manifests, and are skipped.
    pub fn check_file(&self, path: &str) -> Vec<Violation> {
        if is_kustomization_file(path) {
            return Vec::new();
        }
        self.check_root_file(path)
    }

    /// [`check_file`](Self::check_file) for the file that defines a render
    /// root (a kustomization file too): its rendered objects are bound
    /// through it.
    pub fn check_root_file(&self, path: &str) -> Vec<Violation> {
        if !self.enabled() {
            return Vec::new();
        }
        match self.bound_for(path) {
            None => vec![Violation::new(
                "unbound-path",
                1,
                format!(
                    "`{path}` is under no tenants.bindings entry, so no AppProject scopes what it deploys; add it to a binding's paths"
                ),
            )],
            Some(b) => b
                .source_violation
                .iter()
                .map(|m| Violation::new("tenant-source-repo", 1, m.clone()))
                .collect(),
        }
    }

    /// Every namespace a namespaced object can be deployed into (see the
    /// module docs); empty for cluster-scoped kinds.
    pub fn effective_namespaces(&self, obj: &Object) -> Vec<EffectiveNamespace> {
        if self.scope(obj) == Scope::Cluster {
            return Vec::new();
        }
        self.namespaces_under(obj, self.bound_for(&obj.file))
    }

    fn namespaces_under(&self, obj: &Object, b: Option<&Bound>) -> Vec<EffectiveNamespace> {
        let binding_ns = b
            .and_then(|b| b.binding.namespace.clone())
            .filter(|n| !n.is_empty());
        let fallback = match (obj.namespace.as_ref().filter(|n| !n.is_empty()), binding_ns) {
            (Some(own), _) => EffectiveNamespace {
                namespace: Some(own.clone()),
                source: NamespaceSource::Metadata,
            },
            (None, Some(b)) => EffectiveNamespace {
                namespace: Some(b),
                source: NamespaceSource::Binding,
            },
            (None, None) => EffectiveNamespace {
                namespace: None,
                source: NamespaceSource::Missing,
            },
        };
        let rendered = self.kustomizations.namespaces_for(&obj.file);
        if rendered.is_empty() {
            return vec![fallback];
        }
        let mut out: Vec<EffectiveNamespace> = Vec::new();
        for k in rendered {
            let e = match k.namespace {
                Some(ns) => EffectiveNamespace {
                    namespace: Some(ns),
                    source: NamespaceSource::Kustomization(k.via),
                },
                None => fallback.clone(),
            };
            if !out.iter().any(|o| o.namespace == e.namespace) {
                out.push(e);
            }
        }
        out
    }

    /// The object's effective namespace for other rules and for output:
    /// `None` for cluster-scoped kinds. The nearest kustomization that
    /// renders the file and sets `namespace:` (its own directory's, else a
    /// parent's that includes it, transitively), else `metadata.namespace`,
    /// else the binding's namespace. Checks use
    /// [`effective_namespaces`](Self::effective_namespaces), which also
    /// covers the other kustomization roots.
    pub fn effective_namespace(&self, obj: &Object) -> Option<String> {
        let all = self.effective_namespaces(obj);
        if all.is_empty() {
            return None;
        }
        if let Some(k) = self.kustomizations.nearest_namespace(&obj.file) {
            return k.namespace;
        }
        all.into_iter()
            .find(|e| !matches!(e.source, NamespaceSource::Kustomization(_)))
            .and_then(|e| e.namespace)
    }

    /// Object-level findings: `tenant-kind`, `tenant-cluster-resource`,
    /// `tenant-namespace`. Objects under no binding, or under a binding whose
    /// project is missing (a [`ConfigProblem`]), get none here.
    pub fn check(&self, obj: &Object) -> Vec<Violation> {
        let mut out = Vec::new();
        let Some(b) = self.bound_for(&obj.file) else {
            return out;
        };
        if b.projects.is_empty() || node_is_kustomization(&obj.root) {
            return out;
        }
        let group = obj.group();
        let kind = obj.kind.as_str();
        let kind_line = obj.line_of(&["kind"]);
        match self.kinds.lookup(group, kind) {
            Scope::Unknown => out.push(Violation::new(
                "tenant-kind",
                kind_line,
                format!(
                    "kind {} (apiVersion `{}`) is unknown: no built-in kind and no CustomResourceDefinition in the repository declares it, so whether it is namespaced or cluster-scoped — and whether AppProject `{}` allows it — cannot be decided; add its CustomResourceDefinition to the repository",
                    gk(group, kind),
                    obj.api_version,
                    b.binding.project
                ),
            )),
            Scope::Cluster => {
                for p in &b.projects {
                    if p.is_group_kind_name_permitted(group, kind, &obj.name, false) {
                        continue;
                    }
                    let mut why = Vec::new();
                    if let Some(hit) = p.blacklist_hit(group, kind, &obj.name, false) {
                        why.push(format!("its clusterResourceBlacklist entry {} denies it", item(hit)));
                    }
                    match &p.cluster_resource_whitelist {
                        None => why.push("it has no clusterResourceWhitelist, and Argo CD then allows no cluster-scoped resource".into()),
                        Some(l) if l.is_empty() => why.push("its clusterResourceWhitelist is empty, and Argo CD then allows no cluster-scoped resource".into()),
                        Some(_) if why.is_empty() => why.push(format!("no clusterResourceWhitelist entry matches it (name `{}`)", obj.name)),
                        Some(_) => {}
                    }
                    let why = why.join("; ");
                    out.push(Violation::new(
                        "tenant-cluster-resource",
                        kind_line,
                        format!(
                            "cluster-scoped {} `{}` is not allowed by {}: {why}",
                            gk(group, kind),
                            obj.name,
                            describe(p)
                        ),
                    ));
                }
            }
            Scope::Namespaced => {
                for p in &b.projects {
                    if p.is_group_kind_permitted(group, kind, true) {
                        continue;
                    }
                    let mut why = Vec::new();
                    if let Some(hit) = p.blacklist_hit(group, kind, "", true) {
                        why.push(format!("its namespaceResourceBlacklist entry {} denies it", item(hit)));
                    }
                    match &p.namespace_resource_whitelist {
                        Some(l) if l.is_empty() => why.push("its namespaceResourceWhitelist is empty (`[]`), which allows no namespaced kind".into()),
                        Some(l) if !l.iter().any(|i| {
                            argo_filepath_match(&i.kind, kind) && argo_filepath_match(&i.group, group)
                        }) => why.push("no namespaceResourceWhitelist entry matches it".into()),
                        _ => {}
                    }
                    let why = why.join("; ");
                    out.push(Violation::new(
                        "tenant-kind",
                        kind_line,
                        format!("{} is not allowed by {}: {why}", gk(group, kind), describe(p)),
                    ));
                }
                self.check_namespaces(obj, b, &mut out);
            }
        }
        out
    }

    fn check_namespaces(&self, obj: &Object, b: &Bound, out: &mut Vec<Violation>) {
        let ns_line = if obj.root.path(&["metadata", "namespace"]).is_some() {
            obj.line_of(&["metadata", "namespace"])
        } else {
            obj.line_of(&["metadata"])
        };
        for e in self.namespaces_under(obj, Some(b)) {
            let Some(ns) = &e.namespace else {
                out.push(Violation::new(
                    "tenant-namespace",
                    ns_line,
                    format!(
                        "namespaced {} `{}` has no namespace: no metadata.namespace, no kustomization `namespace:` and no namespace on binding {} (project `{}`), so where it lands depends on the Application, not on this repository; set metadata.namespace or the binding's namespace",
                        gk(obj.group(), &obj.kind),
                        obj.name,
                        b.index,
                        b.binding.project
                    ),
                ));
                continue;
            };
            for (p, dm) in b.projects.iter().zip(&b.destinations) {
                if dm.is_permitted(&b.server, &b.cluster_name, ns) {
                    continue;
                }
                let from = match &e.source {
                    NamespaceSource::Kustomization(f) => {
                        let own = match &obj.namespace {
                            Some(o) if !o.is_empty() && o != ns => {
                                format!(", overriding metadata.namespace `{o}`")
                            }
                            _ => String::new(),
                        };
                        format!(" (set by `namespace:` in {f}{own})")
                    }
                    NamespaceSource::Metadata => String::new(),
                    NamespaceSource::Binding => {
                        format!(" (the namespace of binding {})", b.index)
                    }
                    NamespaceSource::Missing => String::new(),
                };
                let allowed: Vec<String> = p
                    .destinations
                    .iter()
                    .map(|d| {
                        let cluster = if d.server.is_empty() {
                            &d.name
                        } else {
                            &d.server
                        };
                        format!("{} on {}", d.namespace, cluster)
                    })
                    .collect();
                out.push(Violation::new(
                    "tenant-namespace",
                    ns_line,
                    format!(
                        "namespace `{ns}`{from} is not a permitted destination of {} on server {} (destinations: [{}])",
                        describe(p),
                        b.server,
                        allowed.join(", ")
                    ),
                ));
            }
        }
    }
}

/// Reads the AppProjects among `files` whose paths match `config.projects`
/// (use the **base** commit's files). Unreadable or malformed AppProjects
/// are returned as error problems: a policy that cannot be read must fail.
pub fn load_projects(
    config: &TenantsConfig,
    files: &[SourceFile],
    limits: &Limits,
) -> (Vec<AppProject>, Vec<ConfigProblem>) {
    let mut projects = Vec::new();
    let mut problems = Vec::new();
    let mut globs = Vec::new();
    for (i, g) in config.projects.iter().enumerate() {
        match path_glob(g) {
            Ok(m) => globs.push(m),
            Err(e) => problems.push(ConfigProblem {
                severity: Severity::Error,
                binding: None,
                file: None,
                line: 1,
                message: format!("tenants.projects[{i}]: {e}"),
            }),
        }
    }
    for f in files {
        if !globs.iter().any(|g| g.is_match(&f.path)) {
            continue;
        }
        let fo = load_objects(&f.path, &f.text, limits);
        for finding in fo.findings {
            problems.push(ConfigProblem {
                severity: Severity::Error,
                binding: None,
                file: Some(finding.file),
                line: finding.line,
                message: format!("cannot read AppProject file: {}", finding.message),
            });
        }
        for o in fo.objects {
            if o.kind != "AppProject" || o.group() != "argoproj.io" {
                continue;
            }
            match AppProject::from_object(&o) {
                Ok(p) => projects.push(p),
                Err(e) => problems.push(ConfigProblem {
                    severity: Severity::Error,
                    binding: None,
                    file: Some(e.file.clone()),
                    line: e.line,
                    message: format!("AppProject `{}`: {}", e.name, e.message),
                }),
            }
        }
    }
    (projects, problems)
}
