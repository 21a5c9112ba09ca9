//! The orchestrator: selects manifest files, builds the trusted context
//! (AppProjects and CRDs from the base commit, kustomizations from the tree
//! being evaluated), runs every rule module on every object, maps Pod
//! Security levels to severities, applies exceptions, and returns an
//! [`Evaluation`]. Both shells (CLI and App) call [`evaluate_tree`] or
//! [`evaluate_change`]; nothing here does I/O.

use std::collections::BTreeSet;

use crate::engine::catalog;
use crate::engine::config::Config;
use crate::engine::config::globs::{GlobKind, GlobList, ManifestFilter};
use crate::engine::finding::{Finding, Severity, sort_findings};
use crate::engine::input::{ChangeInput, ChangeStatus, PolicyInputs, SourceFile, TreeInput};
use crate::engine::manifests::admission::kyverno::{self, Policy};
use crate::engine::manifests::admission::{images, pss};
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
use crate::engine::yaml::Limits;

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
    production: NamespaceGlobs,
    charts: ChartIndex,
    /// The organisation's Kyverno policies (from the base commit).
    policies: Vec<Policy>,
    /// Pod Security labels of the Namespaces in the tree (they only add
    /// checks, so the evaluated tree may supply them).
    namespaces: pss::NamespacePolicies,
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
    let (kustomizations, kerrors) = Kustomizations::from_files(
        tree.iter()
            .filter(|f| is_kustomization_file(&f.path))
            .map(|f| (f.path.as_str(), f.text.as_str())),
        limits,
    );
    out.extend(kerrors.into_iter().map(|e| {
        Finding::at(
            "invalid-manifest",
            Severity::Error,
            &e.file,
            e.line,
            e.message,
        )
    }));
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
        production,
        charts,
        policies,
        namespaces,
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
/// as the sequential run's, whatever the thread count.
pub fn evaluate_tree_with(policy: &PolicyInputs, tree: &TreeInput, threads: usize) -> Evaluation {
    let limits = Limits::default();
    let mut ev = Evaluation::default();
    let mut pending = Vec::new();
    let mut early = Vec::new();
    let files = select(policy, tree.files.iter(), &mut early);
    let ctx = build_context(policy, &files, &limits, &mut early);
    pending.extend(early.into_iter().map(|f| (f, None)));
    evaluate_files_on(&ctx, &files, &limits, threads, &mut ev, &mut pending);
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
/// modified and renamed files, every file re-targeted by a changed
/// kustomization (when its content is in `head_context`), plus
/// `policy-change` and `critical-deletion`.
pub fn evaluate_change(policy: &PolicyInputs, change: &ChangeInput) -> Evaluation {
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
    // Directories whose kustomization changed: every manifest under them may
    // now land in another namespace, so they are evaluated too.
    let retargeted: Vec<String> = change
        .changed
        .iter()
        .filter(|c| is_kustomization_file(&c.path))
        .map(|c| {
            c.path
                .rsplit_once('/')
                .map(|(d, _)| format!("{d}/"))
                .unwrap_or_default()
        })
        .collect();
    let context_files: Vec<&SourceFile> = change
        .head_context
        .iter()
        .filter(|f| !changed_paths.contains(f.path.as_str()))
        .collect();
    let all: Vec<&SourceFile> = heads.iter().chain(context_files.iter().copied()).collect();
    let selected = select(policy, all.iter().copied(), &mut early);
    let ctx = build_context(policy, &selected, &limits, &mut early);

    // Files a changed kustomization includes (directly, or an overlay's
    // `../base`) render differently now: evaluate them too.
    let changed_kustomizations: BTreeSet<&str> = change
        .changed
        .iter()
        .filter(|c| is_kustomization_file(&c.path))
        .map(|c| c.path.as_str())
        .collect();
    let to_evaluate: Vec<&SourceFile> = selected
        .iter()
        .copied()
        .filter(|f| {
            changed_paths.contains(f.path.as_str())
                || retargeted.iter().any(|d| f.path.starts_with(d.as_str()))
                || (!changed_kustomizations.is_empty()
                    && ctx
                        .tenants
                        .kustomizations()
                        .includers(&f.path)
                        .iter()
                        .any(|k| changed_kustomizations.contains(k.as_str())))
        })
        .collect();
    let mut pending: Vec<(Finding, Option<String>)> =
        early.into_iter().map(|f| (f, None)).collect();
    evaluate_files(&ctx, &to_evaluate, &limits, &mut ev, &mut pending);
    for f in change::change_findings(change, &policy.config) {
        if f.rule.as_str() == "policy-change" {
            ev.notes.push(format!("{}: {}", f.file, f.message));
        }
        pending.push((f, None));
    }
    finish(policy, ev, pending, false)
}
