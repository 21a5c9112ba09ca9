//! The orchestrator: selects manifest files, builds the trusted context
//! (AppProjects and CRDs from the base commit, kustomizations from the tree
//! being evaluated), runs every rule module on every object, maps Pod
//! Security levels to severities, applies exceptions, and returns an
//! [`Evaluation`]. Both shells (CLI and App) call [`evaluate_tree`] or
//! [`evaluate_change`] (or their `_rendered`/`_with` forms, which take the
//! files a render may read lazily); nothing here does I/O.
//!
//! **Rendered roots.** What a controller applies is a render, not the raw
//! files. Every kustomization directory no other kustomization includes is
//! a root ([`Kustomizations::roots`]); it is rendered natively
//! ([`crate::engine::render`]) and its output objects are judged, each as
//! the tenant of the root's file. The files a render read (bases,
//! patches, components, generator inputs) are not judged as raw objects;
//! everything else is, as before. A root that cannot be rendered is a
//! finding on the file and line that stopped it, never a pass. Other
//! controller roots (Argo CD Applications, Flux Kustomizations) enter
//! through the same seam, [`RootRender`] (see [`evaluate_tree_rendered`]).
//!
//! **Provenance.** Rules report a line, not a file. A rendered object
//! mixes files (its base, a patch, the kustomization's `images:` entry),
//! so before judging it we renumber its lines into one space — file `k`
//! of the object's file table owns the range after file `k-1`'s — and map
//! each finding's line back to (file, line) afterwards ([`LineMap`]). No
//! rule has to know it judges a rendered object.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::engine::catalog;
use crate::engine::config::Config;
use crate::engine::config::globs::{GlobKind, GlobList, ManifestFilter};
use crate::engine::finding::{Finding, Severity, sort_findings};
use crate::engine::input::{
    ChangeInput, ChangeStatus, ChangeTrees, PolicyInputs, SourceFile, TreeInput,
};
use crate::engine::manifests::admission::kyverno::{self, Policy};
use crate::engine::manifests::admission::{images, pss};
use crate::engine::manifests::application::Applications;
use crate::engine::manifests::change;
use crate::engine::manifests::exceptions;
use crate::engine::manifests::gitops::{self, GitopsContext, NamespaceGlobs};
use crate::engine::manifests::kinds::KindTable;
use crate::engine::manifests::kustomize::{Kustomizations, is_kustomization_file};
use crate::engine::manifests::object::{Object, load_objects};
use crate::engine::manifests::templates::{ChartIndex, check_file as check_template};
use crate::engine::manifests::tenants::{ConfigProblem, TenantContext, load_projects};
use crate::engine::manifests::violation::Violation;
use crate::engine::manifests::{rbac, secrets};
use crate::engine::render::controllers::{self, Tree};
use crate::engine::render::{self, Files, RenderError, RenderErrorKind, Rendered};
use crate::engine::yaml::{Limits, Node, Value, load_documents};

/// Counters for reports and benchmarks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Manifest files read.
    pub files: usize,
    /// Objects evaluated.
    pub objects: usize,
    /// Bytes of manifest text read.
    pub bytes: usize,
}

/// The result of one evaluation.
#[derive(Clone, Debug, Default)]
pub struct Evaluation {
    /// Every finding, sorted by file, line, rule.
    pub findings: Vec<Finding>,
    /// Counters.
    pub stats: Stats,
    /// Human-readable notes for summaries (exceptions applied or expired,
    /// policy changes), one line each.
    pub notes: Vec<String>,
}

impl Evaluation {
    /// True when any finding is an error (exit 1 / conclusion failure).
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

/// Everything built once per evaluation and shared by every object.
struct Context<'a> {
    config: &'a Config,
    tenants: TenantContext,
    /// Applications judged against their own `spec.project`.
    applications: Applications,
    production: NamespaceGlobs,
    charts: ChartIndex,
    /// The organisation's Kyverno policies (from the base commit).
    policies: Vec<Policy>,
    /// Pod Security labels of the Namespaces in the tree (they only add
    /// checks, so the evaluated tree may supply them).
    namespaces: pss::NamespacePolicies,
    /// Files a render consumed: judged through the rendered objects, not
    /// as raw objects of their own.
    consumed: HashSet<String>,
}

fn problem_finding(p: ConfigProblem, config_source: &str) -> Finding {
    let file = p.file.unwrap_or_else(|| config_source.to_owned());
    Finding::at("config", p.severity, &file, p.line, p.message)
}

/// Builds the shared context. `tree` holds the files being evaluated (for
/// kustomizations and chart detection), `policy.support` the trusted base
/// files (AppProjects, CRDs).
fn build_context<'a>(
    policy: &'a PolicyInputs,
    tree: &[&SourceFile],
    limits: &Limits,
    out: &mut Vec<Finding>,
) -> Context<'a> {
    let config = &policy.config;
    let (projects, problems) = load_projects(&config.tenants, &policy.support, limits);
    out.extend(
        problems
            .into_iter()
            .map(|p| problem_finding(p, &policy.config_source)),
    );

    // Custom kinds: CRDs from the trusted base files and from the tree (a PR
    // may add a CRD together with its first objects; the CRD itself is then
    // judged as a cluster-scoped object).
    let mut kinds = KindTable::new();
    for f in policy.support.iter().chain(tree.iter().copied()) {
        if !f.text.contains("CustomResourceDefinition") {
            continue;
        }
        for obj in load_objects(&f.path, &f.text, limits).objects {
            if obj.kind == "CustomResourceDefinition" {
                // A malformed CRD is reported when the file itself is evaluated.
                let _ = kinds.register_crd(&obj);
            }
        }
    }
    // A kustomization this graph cannot read is rendered as a root or by
    // the root including it, and that render reports it (file and line).
    let (kustomizations, _) = Kustomizations::from_files(
        tree.iter()
            .filter(|f| is_kustomization_file(&f.path))
            .map(|f| (f.path.as_str(), f.text.as_str())),
        limits,
    );
    let applications = Applications::new(&config.tenants, &projects);
    let (tenants, problems) = TenantContext::new(
        &config.tenants,
        projects,
        kinds,
        kustomizations,
        policy.repo.as_ref(),
    );
    out.extend(
        problems
            .into_iter()
            .map(|p| problem_finding(p, &policy.config_source)),
    );

    let production = match NamespaceGlobs::new(&config.gitops.production) {
        Ok(g) => g,
        Err(e) => {
            out.push(Finding::at(
                "config",
                Severity::Error,
                &policy.config_source,
                1,
                format!("gitops.production: {e}"),
            ));
            NamespaceGlobs::new(&[])
                .unwrap_or_else(|_| unreachable!("an empty glob list always compiles"))
        }
    };
    let charts = ChartIndex::new(tree.iter().map(|f| f.path.as_str()));
    let policies = load_kyverno(policy, limits, out);
    let namespaces = pss::NamespacePolicies::load(
        tree.iter().map(|f| (f.path.as_str(), f.text.as_str())),
        limits,
    );
    Context {
        config,
        tenants,
        applications,
        production,
        charts,
        policies,
        namespaces,
        consumed: HashSet::new(),
    }
}

/// Loads the Kyverno policies `admission.policies` names, from the trusted
/// base files. A rule gitops-guard cannot evaluate (mutate, CEL, API calls…)
/// is reported as a `config` warning naming the policy, rule and construct —
/// never skipped silently; the cluster's admission controller still enforces
/// it.
fn load_kyverno(policy: &PolicyInputs, limits: &Limits, out: &mut Vec<Finding>) -> Vec<Policy> {
    let globs = &policy.config.admission.policies;
    if globs.is_empty() {
        return Vec::new();
    }
    let list = match GlobList::new(globs, GlobKind::Path) {
        Ok(l) => l,
        Err(e) => {
            out.push(Finding::at(
                "config",
                Severity::Error,
                &policy.config_source,
                1,
                format!("admission.policies: {e}"),
            ));
            return Vec::new();
        }
    };
    let mut objects = Vec::new();
    let mut matched = 0usize;
    for f in policy.support.iter().filter(|f| list.is_match(&f.path)) {
        matched += 1;
        let fo = load_objects(&f.path, &f.text, limits);
        // An unreadable policy file must fail the check: its rules are unknown.
        out.extend(fo.findings);
        objects.extend(fo.objects.into_iter().filter(|o| {
            o.group() == "kyverno.io" && matches!(o.kind.as_str(), "ClusterPolicy" | "Policy")
        }));
    }
    if matched == 0 {
        out.push(Finding::at(
            "config",
            Severity::Warning,
            &policy.config_source,
            1,
            format!("admission.policies {globs:?} matches no file at the base commit; no Kyverno policy is evaluated"),
        ));
    }
    let (policies, problems) = kyverno::load_policies(&objects);
    for p in problems {
        let what = match &p.rule {
            Some(r) => format!("Kyverno policy `{}`, rule `{r}`: {}", p.policy, p.message),
            None => format!("Kyverno policy `{}`: {}", p.policy, p.message),
        };
        out.push(Finding::at(
            "config",
            Severity::Warning,
            &p.file,
            p.line,
            what,
        ));
    }
    policies
}

fn finding_for(
    obj: &Object,
    namespace: Option<&str>,
    v: Violation,
    severity: Severity,
) -> (Finding, Option<String>) {
    (
        Finding {
            rule: v.rule,
            severity,
            file: obj.file.clone(),
            line: v.line.max(1),
            kind: Some(obj.kind.clone()),
            name: (!obj.name.is_empty()).then(|| obj.name.clone()),
            namespace: namespace.map(str::to_owned),
            message: v.message,
            root: None,
        },
        v.container,
    )
}

/// Runs every per-object rule.
fn check_object(ctx: &Context<'_>, obj: &Object, out: &mut Vec<(Finding, Option<String>)>) {
    let cfg = ctx.config;
    let namespace = ctx.tenants.effective_namespace(obj);
    let ns = namespace.as_deref();
    let push = |out: &mut Vec<_>, vs: Vec<Violation>, sev: Severity| {
        out.extend(vs.into_iter().map(|v| finding_for(obj, ns, v, sev)));
    };

    push(out, ctx.tenants.check(obj), Severity::Error);
    push(out, ctx.applications.check(obj, ns), Severity::Error);

    // Pod Security: the configured level and version, plus what the
    // object's Namespace labels enforce (see `pss` for why labels only add).
    let configured = pss::LevelVersion {
        level: cfg.admission.level,
        version: cfg.admission.version,
    };
    let labels = ns.map_or(&[][..], |n| ctx.namespaces.labels(n));
    let psa = pss::Policy::new(configured, cfg.admission.warn, labels);
    for (sev, v) in pss::judge(obj, &psa) {
        out.push(finding_for(obj, ns, v, sev));
    }
    push(out, pss::read_labels(obj).1, Severity::Error);
    // Image rules are their own settings (`admission.images`), independent
    // of the Pod Security levels.
    push(
        out,
        images::check(obj, &cfg.admission.images),
        Severity::Error,
    );

    let binding = ctx.tenants.binding_for(&obj.file).map(|(_, b)| b);
    let platform = binding.is_none_or(|b| b.platform) && !ctx.tenants.enabled()
        || binding.is_some_and(|b| b.platform);
    let tenant_ok = |candidate: &str| -> bool {
        if platform {
            return true;
        }
        // A namespace is the tenant's when the object could be placed there
        // without a tenant-namespace finding: reuse the tenant rules.
        ctx.tenants.namespace_permitted(&obj.file, candidate)
    };
    let gctx = GitopsContext {
        platform,
        namespace: ns.unwrap_or(""),
        production: &ctx.production,
        tenant_namespace: &tenant_ok,
    };
    push(out, gitops::check(obj, &gctx), Severity::Error);
    push(out, rbac::check(obj), Severity::Error);
    push(out, secrets::check(obj), Severity::Error);

    if !ctx.policies.is_empty() {
        // Kyverno matches on the namespace the object will have; fill it in
        // from kustomize or the binding when the manifest names none.
        let placed;
        let target = match (&obj.namespace, ns) {
            (None, Some(n)) => {
                let mut o = obj.clone();
                o.namespace = Some(n.to_owned());
                placed = o;
                &placed
            }
            _ => obj,
        };
        for r in kyverno::evaluate_with_pss(&ctx.policies, target, &pss::check) {
            let v = Violation {
                rule: r.rule,
                line: r.line,
                message: r.message,
                container: r.container,
            };
            out.push(finding_for(obj, ns, v, r.severity));
        }
    }
}

/// Evaluates `files` (already selected) and appends to `ev`/`pending`.
fn evaluate_files(
    ctx: &Context<'_>,
    files: &[&SourceFile],
    limits: &Limits,
    ev: &mut Evaluation,
    pending: &mut Vec<(Finding, Option<String>)>,
) {
    for f in files {
        ev.stats.files += 1;
        ev.stats.bytes += f.text.len();
        if ctx.consumed.contains(f.path.as_str()) {
            // Build input of a render: its objects are judged rendered, as
            // the root's tenant. Template markers are still its own.
            let t = check_template(&f.path, &f.text, &ctx.charts);
            for v in t.violations {
                pending.push((
                    Finding::at(v.rule, Severity::Error, &f.path, v.line, v.message),
                    v.container,
                ));
            }
            continue;
        }
        for v in ctx.tenants.check_file(&f.path) {
            pending.push((
                Finding::at(v.rule, Severity::Error, &f.path, v.line, v.message),
                None,
            ));
        }
        let t = check_template(&f.path, &f.text, &ctx.charts);
        for v in t.violations {
            pending.push((
                Finding::at(v.rule, Severity::Error, &f.path, v.line, v.message),
                v.container,
            ));
        }
        if t.skip_objects || is_kustomization_file(&f.path) {
            continue;
        }
        let fo = load_objects(&f.path, &f.text, limits);
        ev.stats.objects += fo.objects.len();
        pending.extend(fo.findings.into_iter().map(|f| (f, None)));
        for obj in &fo.objects {
            check_object(ctx, obj, pending);
        }
    }
}

/// Applies exceptions, sorts, and fills notes.
fn finish(
    policy: &PolicyInputs,
    mut ev: Evaluation,
    pending: Vec<(Finding, Option<String>)>,
    keep_unused: bool,
) -> Evaluation {
    let outcome = exceptions::apply(&policy.config.admission.exceptions, pending, policy.today);
    ev.findings.extend(outcome.kept);
    ev.notes.extend(outcome.applied.iter().map(|a| a.note()));
    ev.findings.extend(outcome.expired);
    if keep_unused {
        ev.findings.extend(outcome.unused);
    }
    // Unknown rule ids cannot appear here (every module uses catalogued ids);
    // keep that true in debug builds.
    debug_assert!(
        ev.findings
            .iter()
            .all(|f| catalog::is_known(f.rule.as_str())),
        "uncatalogued rule id"
    );
    sort_findings(&mut ev.findings);
    ev.findings.dedup();
    ev
}

/// Selects the manifest files of `files` per `manifests.paths`/`ignore`
/// and the default ignores. Kustomization files are always kept (they
/// decide namespaces).
fn select<'f>(
    policy: &PolicyInputs,
    files: impl Iterator<Item = &'f SourceFile>,
    out: &mut Vec<Finding>,
) -> Vec<&'f SourceFile> {
    match ManifestFilter::new(&policy.config.manifests) {
        Ok(filter) => files
            .filter(|f| is_kustomization_file(&f.path) || is_selected(&filter, f))
            .collect(),
        Err(e) => {
            out.push(Finding::at(
                "config",
                Severity::Error,
                &policy.config_source,
                1,
                format!("manifests: {e}"),
            ));
            Vec::new()
        }
    }
}

/// Whether a file the shells read is judged as a manifest: one of the
/// default ignores (a tool's config) only when it holds a Kubernetes object,
/// so the defaults never hide a Deployment, whatever its file is called.
/// An unreadable one holds nothing a controller could apply.
pub fn is_selected(filter: &ManifestFilter, f: &SourceFile) -> bool {
    filter.selects(&f.path)
        && (!filter.default_ignored(&f.path)
            || !load_objects(&f.path, &f.text, &Limits::default())
                .objects
                .is_empty())
}

/// Evaluates every manifest in a tree.
pub fn evaluate_tree(policy: &PolicyInputs, tree: &TreeInput) -> Evaluation {
    evaluate_tree_with(policy, tree, 1)
}

/// [`evaluate_tree`] on up to `threads` threads. Files are independent once
/// the context (projects, policies, CRDs) is built, so they are evaluated in
/// parallel and their findings joined in file order: the result is the same
/// as the sequential run's, whatever the thread count. Renders read only
/// `tree.files`; use [`evaluate_tree_rendered`] to let them read more.
pub fn evaluate_tree_with(policy: &PolicyInputs, tree: &TreeInput, threads: usize) -> Evaluation {
    evaluate_tree_rendered(policy, tree, threads, None, Vec::new(), None)
}

/// Whether `text` may hold an Argo CD or Flux Kustomization object (a cheap
/// substring scan, so a tree without any pays nothing for controller roots).
fn mentions_controller(text: &str) -> bool {
    text.contains("argoproj.io") || text.contains("kustomize.toolkit.fluxcd.io")
}

/// Whether `path` is `dir` or below it (`""` is the top).
fn is_within(path: &str, dir: &str) -> bool {
    dir.is_empty() || path == dir || (path.starts_with(dir) && path[dir.len()..].starts_with('/'))
}

/// How a root's objects are bound to a tenant.
///
/// A kustomization root binds through its own file (the tenant of the
/// overlay, not of the base it pulls in). A controller root may say more.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BindingOverride {
    /// Path whose `tenants.bindings` entry the objects belong to (default:
    /// the root file). An Application root passes its own file.
    pub path: Option<String>,
    /// Namespace a namespaced object without one is deployed into (Argo
    /// CD's `destination.namespace`); a namespace the render set wins.
    pub namespace: Option<String>,
}

/// One render root and its output, to be judged.
#[derive(Debug)]
pub struct RootRender {
    /// The file that defines the root: a kustomization file, an Argo CD
    /// Application, a Flux Kustomization. Findings name it as their root.
    pub root: String,
    /// The render (`Rendered::files` are the files it consumed), or why it
    /// failed.
    pub output: Result<Rendered, RenderError>,
    /// Tenant binding.
    pub binding: BindingOverride,
    /// Files the root consumes beyond `Rendered::files` — for a failed
    /// render, what it would have read — so they are not judged raw.
    pub consumed: BTreeSet<String>,
}

impl RootRender {
    /// A root from its file and render, bound through its own file.
    pub fn new(root: impl Into<String>, output: Result<Rendered, RenderError>) -> Self {
        RootRender {
            root: root.into(),
            output,
            binding: BindingOverride::default(),
            consumed: BTreeSet::new(),
        }
    }

    /// Every file this root consumed.
    fn consumed_files(&self) -> impl Iterator<Item = &str> {
        let rendered = self.output.as_ref().ok().map(|r| r.files.iter());
        rendered
            .into_iter()
            .flatten()
            .chain(self.consumed.iter())
            .map(String::as_str)
    }

    /// The path whose binding applies.
    fn binding_path(&self) -> &str {
        self.binding.path.as_deref().unwrap_or(&self.root)
    }
}

/// The renderer's view of a tree: the files the shell passed (already
/// read), then `extra` for what they do not hold (generator inputs,
/// ignored files a render still reads).
struct TreeFiles<'a> {
    map: BTreeMap<&'a str, &'a str>,
    extra: Option<&'a dyn Files>,
}

impl<'a> TreeFiles<'a> {
    fn new(files: impl IntoIterator<Item = &'a SourceFile>, extra: Option<&'a dyn Files>) -> Self {
        TreeFiles {
            map: files
                .into_iter()
                .map(|f| (f.path.as_str(), f.text.as_str()))
                .collect(),
            extra,
        }
    }
}

impl Tree for TreeFiles<'_> {
    fn files_under(&self, dir: &str) -> Vec<String> {
        // Directory sources list what the tree holds; a lazy `extra` reader
        // cannot list, and everything `check` walks is in the map.
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        self.map
            .range(prefix.as_str()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| (*k).to_owned())
            .collect()
    }
}

/// The roots the repository's controller objects define (Argo CD
/// Applications and list-generated ApplicationSets, Flux Kustomizations
/// whose source is this repository), rendered as the controllers render
/// them: the path with the object's overrides, `postBuild` substitution and
/// destination namespace. Call only for a tree where
/// [`mentions_controller`] holds: it parses every file a second time.
fn controller_renders(
    files: &[&SourceFile],
    view: &dyn Tree,
    repo: Option<&crate::engine::ids::RepoName>,
    limits: &Limits,
) -> Vec<RootRender> {
    let loaded: Vec<(&str, Vec<Node>)> = files
        .iter()
        .map(|f| (f.path.as_str(), load_documents(&f.text, limits).docs))
        .collect();
    let objects: Vec<(&str, &Node)> = loaded
        .iter()
        .flat_map(|(p, docs)| docs.iter().map(move |d| (*p, d)))
        .collect();
    let roots = controllers::controller_roots(&objects, repo, view);
    let several: BTreeSet<&str> = {
        let mut seen = BTreeSet::new();
        roots
            .iter()
            .filter(|r| !seen.insert(r.file.as_str()))
            .map(|r| r.file.as_str())
            .collect()
    };
    roots
        .iter()
        .map(|r| {
            // One file may define several roots (sources[], ApplicationSet
            // elements): name each so findings and change pairing tell
            // them apart; the binding stays the file's.
            let name = if several.contains(r.file.as_str()) {
                r.describe()
            } else {
                r.file.clone()
            };
            RootRender {
                root: name,
                output: controllers::render_controller_root(view, r, &render::Limits::default()),
                binding: BindingOverride {
                    path: Some(r.file.clone()),
                    namespace: r
                        .destination_namespace
                        .clone()
                        .or_else(|| r.target_namespace.clone()),
                },
                consumed: BTreeSet::new(),
            }
        })
        .collect()
}

impl Files for TreeFiles<'_> {
    fn read(&self, path: &str) -> Option<std::borrow::Cow<'_, [u8]>> {
        match self.map.get(path) {
            Some(t) => Some(std::borrow::Cow::Borrowed(t.as_bytes())),
            None => self.extra.and_then(|e| e.read(path)),
        }
    }

    fn is_file(&self, path: &str) -> bool {
        self.map.contains_key(path) || self.extra.is_some_and(|e| e.is_file(path))
    }

    fn is_dir(&self, dir: &str) -> bool {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        self.map
            .range(prefix.as_str()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(&prefix))
            || self.extra.is_some_and(|e| e.is_dir(dir))
    }
}

/// The kustomization file of `dir` among `kfiles` (kustomize's lookup order).
fn kustomization_file_of(dir: &str, kfiles: &BTreeSet<&str>) -> String {
    render::KUSTOMIZATION_FILE_NAMES
        .iter()
        .map(|n| {
            if dir.is_empty() {
                (*n).to_owned()
            } else {
                format!("{dir}/{n}")
            }
        })
        .find(|p| kfiles.contains(p.as_str()))
        .unwrap_or_else(|| format!("{dir}/kustomization.yaml"))
}

/// Finds and renders the kustomization roots of a tree. `kpaths` are its
/// kustomization files, `paths` the files a failed root may be taken to
/// consume, `claimed` the directories controller roots already build, and
/// `wanted` says which root directories to render (change mode renders
/// only those a change feeds).
fn kustomize_roots(
    files: &dyn Files,
    kpaths: &[&str],
    paths: &[&str],
    claimed: &BTreeSet<String>,
    wanted: &dyn Fn(&Kustomizations, &str) -> bool,
    notes: &mut Vec<String>,
) -> Vec<RootRender> {
    let limits = Limits::default();
    let texts: Vec<(String, String)> = kpaths
        .iter()
        .filter_map(|p| {
            let bytes = files.read(p)?;
            Some((
                (*p).to_owned(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ))
        })
        .collect();
    let (graph, _) =
        Kustomizations::from_files(texts.iter().map(|(p, t)| (p.as_str(), t.as_str())), &limits);
    let kset: BTreeSet<&str> = kpaths.iter().copied().collect();
    let (roots, components) = graph.roots(kpaths.iter().copied(), claimed);
    for c in components {
        notes.push(format!(
            "{}: a kustomize Component that no kustomization includes; it deploys nothing on its own and is not rendered",
            kustomization_file_of(&c, &kset)
        ));
    }
    let rlimits = render::Limits::default();
    roots
        .into_iter()
        .filter(|d| wanted(&graph, d))
        .map(|dir| {
            let output = render::render(files, &dir, &rlimits);
            let mut r = RootRender::new(kustomization_file_of(&dir, &kset), output);
            if r.output.is_err() {
                r.consumed = graph.closure_files(&dir, paths.iter().copied());
            }
            r
        })
        .collect()
}

/// Renumbers the lines of a rendered object into one space so a rule's
/// line names its file too (see the module docs).
#[derive(Debug, Default)]
struct LineMap {
    /// (first global line − 1, file index, lines of that file in use),
    /// by offset.
    ranges: Vec<(u32, u32, u32)>,
}

impl LineMap {
    /// Rewrites `node`'s lines; returns the map back.
    fn encode(node: &mut Node) -> LineMap {
        // Rules report a scalar at its key's line. When a transformer or
        // patch replaced the value (an `images:` entry, a patched flag),
        // the key still points at the base: point it at the value.
        let mut stack: Vec<&mut Node> = vec![&mut *node];
        while let Some(n) = stack.pop() {
            match &mut n.value {
                Value::Seq(items) => stack.extend(items.iter_mut()),
                Value::Map(entries) => {
                    for e in entries.iter_mut() {
                        match e.value.value {
                            Value::Seq(_) | Value::Map(_) => stack.push(&mut e.value),
                            _ if e.value.span.file != e.key_span.file => {
                                e.key_span = e.value.span;
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        let mut max: BTreeMap<u32, u32> = BTreeMap::new();
        visit_spans(node, &mut |s| {
            let m = max.entry(s.file).or_default();
            *m = (*m).max(s.line);
        });
        let mut ranges = Vec::new();
        let mut acc: u32 = 0;
        for (&file, &lines) in &max {
            ranges.push((acc, file, lines));
            match acc.checked_add(lines) {
                Some(a) => acc = a,
                // Too many lines to share one u32 space: keep the
                // original lines (findings then name the object's file).
                None => return LineMap::default(),
            }
        }
        let offsets: HashMap<u32, u32> = ranges.iter().map(|&(o, f, _)| (f, o)).collect();
        visit_spans(node, &mut |s| {
            s.line += offsets.get(&s.file).copied().unwrap_or(0);
        });
        LineMap { ranges }
    }

    /// The file index and line of a renumbered line.
    fn decode(&self, global: u32) -> Option<(u32, u32)> {
        let i = self.ranges.partition_point(|&(o, _, _)| o < global);
        let &(offset, file, lines) = self.ranges.get(i.checked_sub(1)?)?;
        let line = global - offset;
        (line >= 1 && line <= lines).then_some((file, line))
    }
}

/// Calls `f` on every span of a node (values and keys).
fn visit_spans(n: &mut Node, f: &mut dyn FnMut(&mut crate::engine::yaml::Span)) {
    let mut stack: Vec<&mut Node> = vec![n];
    while let Some(n) = stack.pop() {
        f(&mut n.span);
        match &mut n.value {
            Value::Seq(items) => stack.extend(items.iter_mut()),
            Value::Map(entries) => {
                for e in entries.iter_mut() {
                    f(&mut e.key_span);
                    stack.push(&mut e.value);
                }
            }
            _ => {}
        }
    }
}

/// A rendered object as the rules see it: bound through `binding_path`,
/// lines renumbered.
fn rendered_object(
    binding_path: &str,
    doc: usize,
    mut node: Node,
    default_ns: Option<&str>,
) -> (Object, LineMap) {
    let map = LineMap::encode(&mut node);
    let text = |k: &str| node.get(k).and_then(Node::as_str).map(str::to_owned);
    let meta = |k: &str| {
        node.path(&["metadata", k])
            .and_then(Node::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let obj = Object {
        file: binding_path.to_owned(),
        doc,
        api_version: text("apiVersion").unwrap_or_default(),
        kind: text("kind").unwrap_or_default(),
        name: meta("name").unwrap_or_default(),
        namespace: meta("namespace").or_else(|| default_ns.map(str::to_owned)),
        line: node.span.line,
        root: node,
    };
    (obj, map)
}

/// The finding for a root that could not be rendered.
fn render_error_finding(root: &str, e: &RenderError) -> Finding {
    let rule = match e.kind {
        RenderErrorKind::Unrenderable { .. } => "unrendered-template",
        _ => "invalid-manifest",
    };
    let mut f = Finding::at(
        rule,
        Severity::Error,
        &e.file,
        e.line,
        format!(
            "cannot render {root}: {}; nothing it deploys can be judged, so it fails closed",
            e.message
        ),
    );
    f.root = Some(root.to_owned());
    f
}

/// Judges one rendered object: every per-object rule, findings moved to
/// the file and line their value came from and tagged with the root.
fn judge_rendered(
    ctx: &Context<'_>,
    root: &RootRender,
    rendered: &Rendered,
    doc: usize,
    node: &Node,
    pending: &mut Vec<(Finding, Option<String>)>,
) {
    let bpath = root.binding_path();
    let (mut obj, map) = rendered_object(bpath, doc, node.clone(), None);
    // Argo CD's destination namespace goes to namespaced kinds only.
    if obj.namespace.is_none()
        && let Some(ns) = &root.binding.namespace
        && ctx.tenants.scope(&obj) != crate::engine::manifests::kinds::Scope::Cluster
    {
        obj.namespace = Some(ns.clone());
    }
    let object_file = map
        .decode(obj.line)
        .map(|(f, _)| rendered.files.get(f as usize).cloned().unwrap_or_default());
    let mut found = Vec::new();
    check_object(ctx, &obj, &mut found);
    for (mut f, c) in found {
        if f.file == bpath {
            match map.decode(f.line) {
                Some((fi, line)) => {
                    f.file = rendered
                        .files
                        .get(fi as usize)
                        .cloned()
                        .unwrap_or_else(|| root.root.clone());
                    f.line = line.max(1);
                }
                None => {
                    f.file = object_file.clone().unwrap_or_else(|| root.root.clone());
                    f.line = 1;
                }
            }
        }
        f.root = Some(root.root.clone());
        pending.push((f, c));
    }
}

/// Judges a root: its render error, or its binding and every object for
/// which `judge` says yes.
fn judge_root(
    ctx: &Context<'_>,
    root: &RootRender,
    judge: &dyn Fn(&Node) -> bool,
    check_binding: bool,
    ev: &mut Evaluation,
    pending: &mut Vec<(Finding, Option<String>)>,
) {
    let rendered = match &root.output {
        Ok(r) => r,
        Err(e) => {
            let f = render_error_finding(&root.root, e);
            // The template rule already names a remote entry or
            // `helmCharts` on that line; one finding per line is enough.
            let dup = pending
                .iter()
                .any(|(p, _)| p.rule == f.rule && p.file == f.file && p.line == f.line);
            if !dup {
                pending.push((f, None));
            }
            return;
        }
    };
    if check_binding {
        for v in ctx.tenants.check_root_file(root.binding_path()) {
            let mut f = Finding::at(v.rule, Severity::Error, &root.root, v.line, v.message);
            f.root = Some(root.root.clone());
            pending.push((f, None));
        }
    }
    for (doc, node) in rendered.objects.iter().enumerate() {
        if !judge(node) {
            continue;
        }
        ev.stats.objects += 1;
        judge_rendered(ctx, root, rendered, doc, node, pending);
    }
}

/// [`evaluate_tree_with`], with renders that may read `extra` for files
/// `tree.files` does not hold (the CLI passes the work tree, the App its
/// blob fetcher), and with `controller_roots`: roots rendered elsewhere
/// (Argo CD Applications, Flux Kustomizations). The kustomization
/// directories a controller root read are not rendered again as roots of
/// their own; the files any root read are not judged as raw objects.
///
/// To add a root: build `RootRender { root: <its file>, output:
/// <its Rendered or RenderError>, binding: BindingOverride { path, namespace },
/// consumed: <files a failed render would read> }` and pass it here.
pub fn evaluate_tree_rendered(
    policy: &PolicyInputs,
    tree: &TreeInput,
    threads: usize,
    extra: Option<&dyn Files>,
    controller_roots: Vec<RootRender>,
    scope: Option<&str>,
) -> Evaluation {
    let limits = Limits::default();
    let mut ev = Evaluation::default();
    let mut pending = Vec::new();
    let mut early = Vec::new();
    let files = select(policy, tree.files.iter(), &mut early);
    let mut ctx = build_context(policy, &files, &limits, &mut early);
    pending.extend(early.into_iter().map(|f| (f, None)));

    let kpaths: Vec<&str> = files
        .iter()
        .map(|f| f.path.as_str())
        .filter(|p| is_kustomization_file(p))
        .collect();
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let mut roots = controller_roots;
    let has_controllers = files.iter().any(|f| mentions_controller(&f.text));
    if has_controllers || !kpaths.is_empty() {
        // Only a tree with kustomizations or controller objects pays for
        // the renderer's view.
        let view = TreeFiles::new(tree.files.iter(), extra);
        if has_controllers {
            roots.extend(
                controller_renders(&files, &view, policy.repo.as_ref(), &limits)
                    .into_iter()
                    .filter(|r| {
                        // `check SUBDIR`: a controller root counts when its
                        // file or anything it rendered is under SUBDIR.
                        scope.is_none_or(|s| {
                            is_within(r.binding_path(), s)
                                || r.consumed_files().any(|f| is_within(f, s))
                        })
                    }),
            );
        }
        let claimed = claimed_dirs(&roots);
        // `check SUBDIR` passes the kustomizations outside SUBDIR as
        // context: a root there is judged only when it reads something
        // under SUBDIR (or SUBDIR lies inside the root's directory).
        let in_scope = |graph: &Kustomizations, dir: &str| {
            scope.is_none_or(|s| {
                graph
                    .closure(dir)
                    .iter()
                    .any(|d| is_within(d, s) || is_within(s, d))
            })
        };
        if !kpaths.is_empty() {
            roots.extend(kustomize_roots(
                &view,
                &kpaths,
                &paths,
                &claimed,
                &in_scope,
                &mut ev.notes,
            ));
        }
    }
    ctx.consumed = roots
        .iter()
        .flat_map(RootRender::consumed_files)
        .map(str::to_owned)
        .collect();
    evaluate_files_on(&ctx, &files, &limits, threads, &mut ev, &mut pending);
    for r in &roots {
        judge_root(&ctx, r, &|_| true, true, &mut ev, &mut pending);
    }
    finish(policy, ev, pending, true)
}

/// Findings of one file batch, with the stats it adds.
type BatchResult = (Stats, Vec<(Finding, Option<String>)>);

/// [`evaluate_files`] on up to `threads` scoped threads. The files are cut
/// into contiguous batches of similar byte size (several per thread, so one
/// large file does not leave the other threads idle); threads take the next
/// batch from a shared counter, and the batches' results are joined in
/// order.
fn evaluate_files_on(
    ctx: &Context<'_>,
    files: &[&SourceFile],
    limits: &Limits,
    threads: usize,
    ev: &mut Evaluation,
    pending: &mut Vec<(Finding, Option<String>)>,
) {
    /// Below this much text a second thread costs more than it saves.
    const MIN_PARALLEL_BYTES: usize = 1 << 20;
    let total: usize = files.iter().map(|f| f.text.len()).sum();
    let threads = threads.min(files.len()).max(1);
    if threads == 1 || total < MIN_PARALLEL_BYTES {
        evaluate_files(ctx, files, limits, ev, pending);
        return;
    }
    let target = total.div_ceil(threads * 8).max(1);
    let mut batches: Vec<&[&SourceFile]> = Vec::new();
    let (mut start, mut acc) = (0, 0);
    for (i, f) in files.iter().enumerate() {
        acc += f.text.len();
        if acc >= target {
            batches.push(&files[start..=i]);
            (start, acc) = (i + 1, 0);
        }
    }
    if start < files.len() {
        batches.push(&files[start..]);
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut done: Vec<(usize, BatchResult)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(batch) = batches.get(i) else {
                            break out;
                        };
                        let mut part = Evaluation::default();
                        let mut found = Vec::new();
                        evaluate_files(ctx, batch, limits, &mut part, &mut found);
                        out.push((i, (part.stats, found)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    for (_, (stats, found)) in done {
        ev.stats.files += stats.files;
        ev.stats.objects += stats.objects;
        ev.stats.bytes += stats.bytes;
        pending.extend(found);
    }
}

/// Evaluates a change (a PR, or `check --base REV`): every object in added,
/// modified and renamed files that no render consumes, every object a
/// re-rendered root outputs differently, plus `policy-change` and
/// `critical-deletion`. Renders read `change.head_context` and the changed
/// files; [`evaluate_change_with`] takes the full trees.
pub fn evaluate_change(policy: &PolicyInputs, change: &ChangeInput) -> Evaluation {
    evaluate_change_with(policy, change, None)
}

/// Identity of an object in a render, to pair base and head outputs.
type ObjectKey = (String, String, String, String);

fn object_key(n: &Node) -> ObjectKey {
    let s = |p: &[&str]| {
        n.path(p)
            .and_then(Node::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let api = s(&["apiVersion"]);
    let group = api.split_once('/').map_or("", |(g, _)| g).to_owned();
    (
        group,
        s(&["kind"]),
        s(&["metadata", "namespace"]),
        s(&["metadata", "name"]),
    )
}

/// Equal values, whatever their positions (a moved line is no change).
fn same_value(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (Value::Seq(x), Value::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_value(a, b))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|(a, b)| a.key == b.key && same_value(&a.value, &b.value))
        }
        (x, y) => x == y,
    }
}

/// A rendered object as a deletion candidate, at the line it came from.
fn placed(root: &RootRender, rendered: &Rendered, node: &Node) -> change::Placed {
    let (group, kind, namespace, name) = object_key(node);
    change::Placed {
        group,
        kind,
        namespace: (!namespace.is_empty()).then_some(namespace),
        name,
        file: rendered.file_of(node.span).to_owned(),
        line: node.span.line,
        root: Some(root.root.clone()),
    }
}

/// [`evaluate_change`] with both trees (`trees`): each root a changed file
/// can feed (the file is in or below a directory of the root's
/// kustomization closure) is rendered at base and head; the head objects
/// that differ from the base render are judged, a head render error is a
/// finding, and a protected object that disappears from the output is a
/// `critical-deletion`. Without `trees`, the renders read the changed
/// files and `head_context` (context files are taken as unchanged).
pub fn evaluate_change_with(
    policy: &PolicyInputs,
    change: &ChangeInput,
    trees: Option<&ChangeTrees<'_>>,
) -> Evaluation {
    evaluate_change_rendered(policy, change, trees, Vec::new(), Vec::new())
}

/// Claimed directories: the kustomization directories a root's render read.
fn claimed_dirs(roots: &[RootRender]) -> BTreeSet<String> {
    roots
        .iter()
        .flat_map(RootRender::consumed_files)
        .filter(|p| is_kustomization_file(p))
        .map(|p| p.rsplit_once('/').map_or("", |(d, _)| d).to_owned())
        .collect()
}

/// [`evaluate_change_with`] plus controller roots rendered elsewhere, at
/// head and at base (Argo CD Applications, Flux Kustomizations a change
/// feeds): paired with each other by `RootRender::root`, judged like the
/// kustomization roots (only what differs from the base render), and the
/// kustomization directories they read are not roots of their own.
pub fn evaluate_change_rendered(
    policy: &PolicyInputs,
    change: &ChangeInput,
    trees: Option<&ChangeTrees<'_>>,
    head_controller_roots: Vec<RootRender>,
    base_controller_roots: Vec<RootRender>,
) -> Evaluation {
    let limits = Limits::default();
    let mut ev = Evaluation::default();
    let mut early = Vec::new();

    let heads: Vec<SourceFile> = change
        .changed
        .iter()
        .filter(|c| c.status != ChangeStatus::Removed)
        .filter_map(|c| {
            c.head
                .as_ref()
                .map(|t| SourceFile::new(&c.path, t.as_str()))
        })
        .collect();
    let changed_paths: BTreeSet<&str> = heads.iter().map(|f| f.path.as_str()).collect();
    let context_files: Vec<&SourceFile> = change
        .head_context
        .iter()
        .filter(|f| !changed_paths.contains(f.path.as_str()))
        .collect();
    let all: Vec<&SourceFile> = heads.iter().chain(context_files.iter().copied()).collect();
    let selected = select(policy, all.iter().copied(), &mut early);
    let mut ctx = build_context(policy, &selected, &limits, &mut early);

    // The two trees: given, or assembled from what the change carries.
    let (head_map, base_map);
    let assembled;
    let trees = match trees {
        Some(t) => t,
        None => {
            let mut h: BTreeMap<String, Vec<u8>> = BTreeMap::new();
            let mut b: BTreeMap<String, Vec<u8>> = BTreeMap::new();
            for f in &context_files {
                h.insert(f.path.clone(), f.text.clone().into_bytes());
                b.insert(f.path.clone(), f.text.clone().into_bytes());
            }
            for c in &change.changed {
                if let (Some(t), false) = (&c.head, c.status == ChangeStatus::Removed) {
                    h.insert(c.path.clone(), t.clone().into_bytes());
                }
                if let (Some(t), false) = (&c.base, c.status == ChangeStatus::Added) {
                    let p = c.previous_path.as_deref().unwrap_or(&c.path);
                    b.insert(p.to_owned(), t.clone().into_bytes());
                }
            }
            let kust = |m: &BTreeMap<String, Vec<u8>>| -> Vec<String> {
                m.keys()
                    .filter(|p| is_kustomization_file(p))
                    .cloned()
                    .collect()
            };
            assembled = (kust(&h), kust(&b));
            head_map = h;
            base_map = b;
            &ChangeTrees {
                head: &head_map,
                base: &base_map,
                head_kustomizations: assembled.0.clone(),
                base_kustomizations: assembled.1.clone(),
            }
        }
    };

    // Every path the change touches, on either side.
    let touched: BTreeSet<&str> = change
        .changed
        .iter()
        .flat_map(|c| std::iter::once(c.path.as_str()).chain(c.previous_path.as_deref()))
        .collect();
    let touched_list: Vec<&str> = touched.iter().copied().collect();
    let fed = |graph: &Kustomizations, dir: &str| -> bool {
        graph.closure(dir).iter().any(|d| {
            touched.iter().any(|p| {
                d.is_empty() || (p.starts_with(d.as_str()) && p[d.len()..].starts_with('/'))
            })
        })
    };
    let side = |files: &dyn Files,
                kpaths: &[String],
                mut roots: Vec<RootRender>,
                notes: &mut Vec<String>| {
        let k: Vec<&str> = kpaths.iter().map(String::as_str).collect();
        if !k.is_empty() {
            let claimed = claimed_dirs(&roots);
            roots.extend(kustomize_roots(
                files,
                &k,
                &touched_list,
                &claimed,
                &fed,
                notes,
            ));
        }
        roots
    };
    let mut ignored_notes = Vec::new();
    let head_roots = side(
        trees.head,
        &trees.head_kustomizations,
        head_controller_roots,
        &mut ev.notes,
    );
    let base_roots = side(
        trees.base,
        &trees.base_kustomizations,
        base_controller_roots,
        &mut ignored_notes,
    );

    let consumed_head: HashSet<String> = head_roots
        .iter()
        .flat_map(RootRender::consumed_files)
        .map(str::to_owned)
        .collect();
    let consumed_base: HashSet<String> = base_roots
        .iter()
        .flat_map(RootRender::consumed_files)
        .map(str::to_owned)
        .collect();
    ctx.consumed = consumed_head.clone();

    let to_evaluate: Vec<&SourceFile> = selected
        .iter()
        .copied()
        .filter(|f| changed_paths.contains(f.path.as_str()))
        .collect();
    let mut pending: Vec<(Finding, Option<String>)> =
        early.into_iter().map(|f| (f, None)).collect();
    evaluate_files(&ctx, &to_evaluate, &limits, &mut ev, &mut pending);

    // Re-rendered roots: judge what differs from the base render.
    let base_by_root: HashMap<&str, &Rendered> = base_roots
        .iter()
        .filter_map(|r| r.output.as_ref().ok().map(|o| (r.root.as_str(), o)))
        .collect();
    let mut after = Vec::new();
    for r in &head_roots {
        let before = base_by_root.get(r.root.as_str());
        let base_objects: HashMap<ObjectKey, &Node> = before
            .map(|b| b.objects.iter().map(|n| (object_key(n), n)).collect())
            .unwrap_or_default();
        let unchanged = |n: &Node| {
            base_objects
                .get(&object_key(n))
                .is_some_and(|b| same_value(b, n))
        };
        let new_root = before.is_none() || touched.contains(r.root.as_str());
        judge_root(&ctx, r, &|n| !unchanged(n), new_root, &mut ev, &mut pending);
        if let Ok(o) = &r.output {
            after.extend(o.objects.iter().map(|n| placed(r, o, n)));
        }
    }
    let before: Vec<change::Placed> = base_roots
        .iter()
        .filter_map(|r| r.output.as_ref().ok().map(|o| (r, o)))
        .flat_map(|(r, o)| o.objects.iter().map(move |n| placed(r, o, n)))
        .collect();

    for f in change::policy_changes(change, &policy.config) {
        ev.notes.push(format!("{}: {}", f.file, f.message));
        pending.push((f, None));
    }
    pending.extend(
        change::critical_deletions_placed(
            change,
            &policy.config,
            &limits,
            &|p| consumed_base.contains(p),
            &|p| consumed_head.contains(p),
            &before,
            &after,
        )
        .into_iter()
        .map(|f| (f, None)),
    );
    finish(policy, ev, pending, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::yaml::Span;

    #[test]
    fn line_map_round_trips_every_file() {
        let span = |file, line| Span { line, col: 1, file };
        let mut n =
            crate::engine::yaml::load_documents("a: 1\nb:\n  c: 2\n  d: 3\n", &Limits::default())
                .docs
                .remove(0);
        // b.c came from file 2 line 7, b.d from file 1 line 2 (a patch).
        if let Value::Map(es) = &mut n.value
            && let Value::Map(inner) = &mut es[1].value.value
        {
            inner[0].key_span = span(2, 7);
            inner[0].value.span = span(2, 7);
            inner[1].value.span = span(1, 2);
        }
        let map = LineMap::encode(&mut n);
        let lines: Vec<Option<(u32, u32)>> = match &n.value {
            Value::Map(es) => match &es[1].value.value {
                Value::Map(inner) => inner.iter().map(|e| map.decode(e.key_span.line)).collect(),
                _ => unreachable!(),
            },
            _ => unreachable!(),
        };
        // The scalar's key follows its value's file (the patch line).
        assert_eq!(lines, [Some((2, 7)), Some((1, 2))]);
        assert_eq!(map.decode(n.span.line), Some((0, 1)));
        assert_eq!(map.decode(0), None);
        assert_eq!(map.decode(10_000), None);
    }
}
