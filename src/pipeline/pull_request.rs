//! `gitops-guard/manifests` for a pull request.
//!
//! Triggers: `pull_request` opened / synchronize / reopened /
//! ready_for_review, `edited` only when the base branch changed;
//! `check_suite` requested / rerequested; `check_run` rerequested for our
//! run. Steps:
//!
//! 1. Under a per-PR lock, read the PR (fresh head/base SHAs) and find our
//!    run on the head SHA. A completed run whose `external_id` says it
//!    evaluated this exact base+head is left alone unless re-requested (the
//!    same push also triggers `check_suite.requested`).
//! 2. Mark the run `in_progress` (create it, or reuse the existing one).
//! 3. Gather with few calls: one recursive tree of the **base** commit
//!    (config, AppProjects, policies and base versions, as blobs by SHA),
//!    the changed-file list (paginated, fail closed past 3,000), the head
//!    tree for kustomizations, blobs by SHA; trees and blobs are cached by
//!    SHA. Trust comes only from the base: a PR that edits the config is
//!    evaluated with the base version, and the summary says so.
//! 4. Evaluate (pure engine, on a blocking thread), render, and complete
//!    the run: annotations in batches of 50; only annotations the run does
//!    not already hold are sent, so a redelivery does not duplicate them.
//!
//! The run's lifecycle (lock, find-or-create by name + head SHA,
//! `external_id` idempotency, failure on error) lives in [`super::gate`] and
//! is shared with the reviews and signatures gates; the PR read, the file
//! list and the trusted config are shared through a [`PrSnapshot`] when
//! [`super::gates`] runs several gates for one delivery.
//!
//! Repositories without config (neither `.github/gitops-guard.yml` on the
//! base nor `gitops-guard.yml` in the owner's `.github` repository) are not
//! deployment repositories: the run concludes `neutral` with a title that
//! says so. Any error — GitHub, config, limits — concludes `failure` with
//! the reason; nothing concludes `success` without a complete evaluation.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use chrono::Utc;
use globset::{GlobSet, GlobSetBuilder};

use super::PipelineContext;
use super::gate::{GateSpec, run_gate};
use super::snapshot::{PrSnapshot, github_error};
use crate::engine::config::Config;
use crate::engine::finding::{Finding, Severity, sort_findings};
use crate::engine::ids::RepoName;
use crate::engine::input::{
    ChangeInput, ChangeStatus, ChangeTrees, ChangedFile, PolicyInputs, SourceFile,
};
use crate::engine::manifests::evaluate::{Evaluation, evaluate_change_with};
use crate::engine::manifests::kustomize::{
    KUSTOMIZATION_FILE_NAMES, Kustomization, Kustomizations, is_kustomization_file,
};
use crate::engine::yaml::Limits;
use crate::github::event::Event;
use crate::github::{
    self, CheckRunInfo, CheckRunOutputBody, CheckRunUpdate, GitHub, GitHubError, PrFile,
    PullRequestInfo, Tree,
};
use crate::report::checkrun::{
    self, Annotation, AnnotationLevel, CheckRunOutput, MANIFESTS_CHECK, RenderContext,
};

pub(crate) use super::config::org_config;
/// Config file locations (one definition, in the engine).
pub use super::config::{CONFIG_PATH, ORG_CONFIG_PATH, ORG_CONFIG_REPO};
/// Largest file we fetch and evaluate; larger changed manifests are
/// reported as `invalid-manifest` (never silently skipped).
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Most files fetched because a changed kustomization includes them; beyond
/// it the check fails closed and asks for a local `check --base`.
pub const MAX_RETARGETED_FILES: usize = 300;
/// Most support files (AppProjects, policies) read from the base.
const MAX_SUPPORT_FILES: usize = 5_000;

/// A PR to evaluate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrTarget {
    /// Repository.
    pub repo: RepoName,
    /// PR number.
    pub number: u64,
    /// Re-evaluate even if the run already holds this exact evaluation
    /// (the user pressed "Re-run").
    pub force: bool,
}

/// The PRs a delivery asks us to evaluate (pure).
pub fn targets(event: &Event) -> Vec<PrTarget> {
    let mk = |full: &str, number: u64, force: bool| {
        RepoName::parse(full).map(|repo| PrTarget {
            repo,
            number,
            force,
        })
    };
    match event {
        Event::PullRequest(e) => {
            let wanted = match e.action.as_str() {
                "opened" | "synchronize" | "reopened" | "ready_for_review" => true,
                "edited" => e.changes.as_ref().is_some_and(|c| c.base.is_some()),
                _ => false,
            };
            if wanted && e.pull_request.state != "closed" {
                mk(&e.repository.full_name, e.number, false)
                    .into_iter()
                    .collect()
            } else {
                Vec::new()
            }
        }
        Event::CheckSuite(e) if matches!(e.action.as_str(), "requested" | "rerequested") => {
            let force = e.action == "rerequested";
            e.check_suite
                .pull_requests
                .iter()
                .filter_map(|p| mk(&e.repository.full_name, p.number, force))
                .collect()
        }
        Event::CheckRun(e) if e.action == "rerequested" && e.check_run.name == MANIFESTS_CHECK => e
            .check_run
            .pull_requests
            .iter()
            .filter_map(|p| mk(&e.repository.full_name, p.number, true))
            .collect(),
        _ => Vec::new(),
    }
}

/// Parses one config file (positions, validation); errors as one line each.
pub fn load_config(file: &str, text: &str) -> Result<Config, String> {
    crate::engine::config::parse_config(file, text).map_err(|errs| join_errors(&errs))
}

fn join_errors(errs: &[crate::engine::config::ConfigError]) -> String {
    errs.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Writes `gitops-guard/manifests` for `snap` (the caller holds the PR
/// lock and has checked that the PR is open).
pub async fn run_with(
    gh: &dyn GitHub,
    ctx: &PipelineContext,
    snap: &PrSnapshot,
    force: bool,
) -> anyhow::Result<()> {
    run_gate(
        gh,
        snap,
        GateSpec {
            name: MANIFESTS_CHECK,
            force,
            evaluating: "Evaluating manifests…",
        },
        plan_with(gh, ctx, snap),
    )
    .await
}

/// The failing output for an evaluation error, headlined by its GitHub cause.
pub(crate) fn failure_output(e: &anyhow::Error) -> CheckRunOutput {
    let headline = match github_error(e) {
        Some(GitHubError::Limit(_)) => "Cannot evaluate: the pull request exceeds a GitHub limit",
        Some(GitHubError::RateLimited { .. }) => "Cannot evaluate: GitHub rate limit exceeded",
        Some(_) => "Cannot evaluate: GitHub API error",
        None => "Cannot evaluate this pull request",
    };
    checkrun::could_not_evaluate(headline, &format!("{e:#}"))
}

/// Writes `output` to `run`: annotation batches of 50 while the run is in
/// progress, then the conclusion with the last batch. Annotations the run
/// already holds (from an earlier attempt on this SHA) are not re-sent.
pub async fn publish(
    gh: &dyn GitHub,
    repo: &RepoName,
    run: &CheckRunInfo,
    output: &CheckRunOutput,
    external_id: Option<String>,
) -> anyhow::Result<()> {
    let already = run.output.as_ref().map_or(0, |o| o.annotations_count);
    let mut to_send: Vec<Annotation> = output.annotations.clone();
    if already > 0 {
        let existing = gh
            .list_annotations(repo, run.id)
            .await
            .context("listing existing annotations")?;
        let mut have: HashMap<Annotation, usize> = HashMap::new();
        for a in existing {
            *have.entry(normalize(from_github(a))).or_default() += 1;
        }
        to_send.retain(|a| match have.get_mut(&normalize(a.clone())) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        });
    }
    let batches: Vec<&[Annotation]> = checkrun::batches(&to_send).collect();
    let body = |annotations: &[Annotation]| CheckRunOutputBody {
        title: output.title.clone(),
        summary: output.summary.clone(),
        text: output.text.clone(),
        annotations: annotations.iter().map(to_github).collect(),
    };
    let (last, rest) = match batches.split_last() {
        Some((last, rest)) => (*last, rest),
        None => (&[][..], &[][..]),
    };
    for batch in rest {
        gh.update_check_run(
            repo,
            run.id,
            &CheckRunUpdate {
                output: Some(body(batch)),
                ..Default::default()
            },
        )
        .await
        .context("sending annotations")?;
    }
    gh.update_check_run(
        repo,
        run.id,
        &CheckRunUpdate {
            status: Some("completed".into()),
            conclusion: Some(output.conclusion.as_str().into()),
            completed_at: Some(Utc::now().to_rfc3339()),
            external_id,
            output: Some(body(last)),
        },
    )
    .await
    .context("completing the check run")?;
    Ok(())
}

/// A rendered annotation in GitHub's wire type (`report` and `github`
/// know nothing of each other, so the shell converts).
fn to_github(a: &Annotation) -> github::Annotation {
    github::Annotation {
        path: a.path.clone(),
        start_line: a.start_line,
        end_line: a.end_line,
        annotation_level: match a.annotation_level {
            AnnotationLevel::Notice => github::AnnotationLevel::Notice,
            AnnotationLevel::Warning => github::AnnotationLevel::Warning,
            AnnotationLevel::Failure => github::AnnotationLevel::Failure,
        },
        title: a.title.clone(),
        message: a.message.clone(),
    }
}

/// An annotation GitHub returned, compared with rendered ones.
fn from_github(a: github::Annotation) -> Annotation {
    Annotation {
        path: a.path,
        start_line: a.start_line,
        end_line: a.end_line,
        annotation_level: match a.annotation_level {
            github::AnnotationLevel::Notice => AnnotationLevel::Notice,
            github::AnnotationLevel::Warning => AnnotationLevel::Warning,
            github::AnnotationLevel::Failure => AnnotationLevel::Failure,
        },
        title: a.title,
        message: a.message,
    }
}

/// Annotations as GitHub echoes them (title may come back empty).
fn normalize(mut a: Annotation) -> Annotation {
    if a.title.as_deref() == Some("") {
        a.title = None;
    }
    a
}

/// The trusted config of a PR, read from its **base** commit (or the
/// organisation default), or the output that ends every check run without
/// evaluating: `neutral` for a repository that is not a deployment
/// repository, `failure` for a config error. Shared by all gates, so they
/// make the same decision.
pub enum BaseConfig {
    /// A config to evaluate with.
    Trusted(Box<TrustedConfig>),
    /// Conclude every run with this output.
    Conclude(CheckRunOutput),
}

/// A config read from the base commit or the organisation default.
pub struct TrustedConfig {
    /// The parsed config.
    pub config: Config,
    /// Where it came from (for summaries).
    pub source: String,
    /// The base commit's recursive tree (CODEOWNERS, policies).
    pub base_tree: Arc<Tree>,
}

/// Reads the trusted config for `pr` (see [`BaseConfig`]).
pub async fn trusted_config(
    gh: &dyn GitHub,
    ctx: &PipelineContext,
    repo: &RepoName,
    pr: &PullRequestInfo,
) -> anyhow::Result<BaseConfig> {
    let base_tree = tree(gh, ctx, repo, &pr.base.sha)
        .await
        .context("reading the base commit's tree")?;
    if base_tree.truncated {
        anyhow::bail!(GitHubError::Limit(format!(
            "the base commit's tree is too large for GitHub to list ({} entries returned, \
             truncated); gitops-guard cannot find the policy files reliably",
            base_tree.tree.len()
        )));
    }
    // Trusted config: the one reader ([`super::config`]) merges the file at
    // the base commit onto the organisation default; neither → not a
    // deployment repository; a config error fails every run.
    let Some(eff) =
        super::config::effective_config(gh, ctx, repo, super::config::ConfigAt::Tree(&base_tree))
            .await?
    else {
        return Ok(BaseConfig::Conclude(checkrun::not_a_deployment_repo(
            CONFIG_PATH,
        )));
    };
    if !eff.errors.is_empty() {
        return Ok(BaseConfig::Conclude(checkrun::could_not_evaluate(
            "Configuration error: fix the gitops-guard config",
            &format!(
                "At base commit {}:\n{}",
                short(&pr.base.sha),
                eff.error_text()
            ),
        )));
    }
    Ok(BaseConfig::Trusted(Box::new(TrustedConfig {
        config: eff.config,
        source: eff.source,
        base_tree,
    })))
}

/// Gathers, evaluates and renders without writing anything: what the run
/// would say. `gitops-guard check-pr` prints this.
pub async fn plan(
    gh: &dyn GitHub,
    ctx: &PipelineContext,
    repo: &RepoName,
    pr: &PullRequestInfo,
) -> anyhow::Result<CheckRunOutput> {
    plan_with(gh, ctx, &PrSnapshot::new(repo.clone(), pr.clone())).await
}

pub(crate) async fn plan_with(
    gh: &dyn GitHub,
    ctx: &PipelineContext,
    snap: &PrSnapshot,
) -> anyhow::Result<CheckRunOutput> {
    let (repo, pr) = (&snap.repo, &snap.pr);
    let base = snap.base_config(gh, ctx).await?;
    let trusted = match &*base {
        BaseConfig::Conclude(out) => return Ok(out.clone()),
        BaseConfig::Trusted(t) => t,
    };
    let base_tree = trusted.base_tree.clone();
    let config = trusted.config.clone();
    let config_source = trusted.source.clone();
    // The engine's filter, as `check` uses: a default-ignored file is read
    // too, and the engine judges it only if it holds a Kubernetes object.
    let manifests = crate::engine::config::globs::ManifestFilter::new(&config.manifests)
        .map_err(|e| anyhow::anyhow!("manifests: {e}"))?;
    let is_manifest = |p: &str| manifests.selects(p);
    let mut policy_globs = config.tenants.projects.clone();
    policy_globs.extend(config.admission.policies.iter().cloned());
    let policy_set = globs(&policy_globs).context("tenants.projects / admission.policies")?;

    let files = snap.files(gh).await?;

    // Support files at base: AppProjects and policies the config points at.
    let mut support = Vec::new();
    let mut shell_findings = Vec::new();
    for entry in base_tree
        .tree
        .iter()
        .filter(|e| e.kind == "blob" && policy_set.is_match(&e.path))
    {
        if support.len() >= MAX_SUPPORT_FILES {
            anyhow::bail!("more than {MAX_SUPPORT_FILES} policy files match the config");
        }
        if entry.size.unwrap_or(0) > MAX_FILE_BYTES {
            shell_findings.push(too_large(&entry.path));
            continue;
        }
        match text_or_finding(gh, ctx, repo, &entry.sha, &entry.path).await? {
            Ok(text) => support.push(SourceFile::new(&entry.path, text)),
            Err(f) => shell_findings.push(f),
        }
    }

    let mut notes = Vec::new();
    let mut changed = Vec::new();
    let mut head_tree: Option<Arc<Tree>> = None;
    let mut manifest_dirs = BTreeSet::new();
    for f in files.iter() {
        let Some(status) = change_status(&f.status) else {
            continue;
        };
        let base_path = f.previous_filename.as_deref().unwrap_or(&f.filename);
        if f.filename == CONFIG_PATH
            || base_path == CONFIG_PATH
            || policy_set.is_match(&f.filename)
            || policy_set.is_match(base_path)
            || is_codeowners(&f.filename)
        {
            notes.push(format!(
                "This PR changes `{}`; it was evaluated with the base branch's version.",
                f.filename.replace('`', "'")
            ));
        }
        let relevant = is_manifest(&f.filename) || is_manifest(base_path);
        if !relevant {
            changed.push(ChangedFile {
                path: f.filename.clone(),
                previous_path: f.previous_filename.clone(),
                status,
                base: None,
                head: None,
            });
            continue;
        }
        let head = if status == ChangeStatus::Removed || !is_manifest(&f.filename) {
            None
        } else {
            let ht = match &head_tree {
                Some(t) => t.clone(),
                None => {
                    let t = tree(gh, ctx, repo, &pr.head.sha)
                        .await
                        .context("reading the head commit's tree")?;
                    head_tree = Some(t.clone());
                    t
                }
            };
            manifest_dirs.insert(parent_dir(&f.filename).to_owned());
            head_text(gh, ctx, repo, f, &ht, &mut shell_findings).await?
        };
        let base = match (status, base_tree.blob(base_path)) {
            (ChangeStatus::Added, _) | (_, None) => None,
            (_, Some(entry)) if entry.size.unwrap_or(0) > MAX_FILE_BYTES => None,
            (_, Some(entry)) => text_or_finding(gh, ctx, repo, &entry.sha, base_path)
                .await?
                .ok(),
        };
        changed.push(ChangedFile {
            path: f.filename.clone(),
            previous_path: f.previous_filename.clone(),
            status,
            base,
            head,
        });
    }

    // Kustomizations in the changed manifests' directories and parents, at head.
    let mut head_context = Vec::new();
    if let Some(ht) = &head_tree {
        let mut dirs = BTreeSet::new();
        for d in &manifest_dirs {
            let mut d = d.as_str();
            loop {
                dirs.insert(d.to_owned());
                if d.is_empty() {
                    break;
                }
                d = parent_dir(d);
            }
        }
        for d in dirs {
            for name in KUSTOMIZATION_FILE_NAMES {
                let path = if d.is_empty() {
                    name.to_owned()
                } else {
                    format!("{d}/{name}")
                };
                if let Some(entry) = ht.blob(&path) {
                    if entry.size.unwrap_or(0) > MAX_FILE_BYTES {
                        shell_findings.push(too_large(&path));
                        continue;
                    }
                    if let Ok(text) = text_or_finding(gh, ctx, repo, &entry.sha, &path).await? {
                        head_context.push(SourceFile::new(path, text));
                    }
                }
            }
        }
    }

    // A changed kustomization re-targets everything it includes (also an
    // overlay's `../base`): give the engine those files' head content.
    if let Some(ht) = &head_tree {
        let mut queue: Vec<String> = changed
            .iter()
            .filter(|c| is_kustomization_file(&c.path) && c.head.is_some())
            .map(|c| c.path.clone())
            .collect();
        let mut seen: BTreeSet<String> = head_context.iter().map(|f| f.path.clone()).collect();
        seen.extend(changed.iter().map(|c| c.path.clone()));
        let mut fetched = 0usize;
        while let Some(kpath) = queue.pop() {
            let text = match head_context.iter().find(|f| f.path == kpath) {
                Some(f) => f.text.clone(),
                None => match changed
                    .iter()
                    .find(|c| c.path == kpath)
                    .and_then(|c| c.head.clone())
                {
                    Some(t) => t,
                    None => continue,
                },
            };
            let Ok(k) = Kustomization::parse(&kpath, &text, &Limits::default()) else {
                continue; // the engine reports the unreadable kustomization
            };
            for res in k.resources {
                let dir_k = KUSTOMIZATION_FILE_NAMES
                    .iter()
                    .map(|n| format!("{res}/{n}"))
                    .find(|p| ht.blob(p).is_some());
                let target = dir_k.unwrap_or(res);
                if !seen.insert(target.clone()) {
                    continue;
                }
                let Some(entry) = ht.blob(&target) else {
                    continue;
                };
                fetched += 1;
                if fetched > MAX_RETARGETED_FILES {
                    shell_findings.push(Finding::at(
                        "invalid-manifest",
                        Severity::Error,
                        &kpath,
                        1,
                        format!(
                            "this change re-targets more than {MAX_RETARGETED_FILES} files through kustomizations; \
                             gitops-guard does not fetch them all from the API — run `gitops-guard check --base` \
                             on the change locally and split the PR"
                        ),
                    ));
                    queue.clear();
                    break;
                }
                if entry.size.unwrap_or(0) > MAX_FILE_BYTES {
                    shell_findings.push(too_large(&target));
                    continue;
                }
                if let Ok(text) = text_or_finding(gh, ctx, repo, &entry.sha, &target).await? {
                    if is_kustomization_file(&target) {
                        queue.push(target.clone());
                    }
                    head_context.push(SourceFile::new(target, text));
                }
            }
        }
    }

    // The roots a changed file feeds are re-rendered at base and head:
    // fetch what those renders can read, from each side's tree.
    let touched: BTreeSet<String> = files
        .iter()
        .flat_map(|f| std::iter::once(f.filename.clone()).chain(f.previous_filename.clone()))
        .collect();
    let any_kustomization = touched.iter().any(|p| is_kustomization_file(p))
        || base_tree
            .tree
            .iter()
            .any(|e| e.kind == "blob" && is_kustomization_file(&e.path));
    let (head_side, base_side) = if any_kustomization {
        let ht = match &head_tree {
            Some(t) => t.clone(),
            None => tree(gh, ctx, repo, &pr.head.sha)
                .await
                .context("reading the head commit's tree")?,
        };
        (
            render_side(gh, ctx, repo, &ht, &touched, "head", &mut shell_findings).await?,
            render_side(
                gh,
                ctx,
                repo,
                &base_tree,
                &touched,
                "base",
                &mut shell_findings,
            )
            .await?,
        )
    } else {
        (RenderSide::default(), RenderSide::default())
    };

    let policy = PolicyInputs {
        config,
        config_source: config_source.clone(),
        support,
        repo: Some(repo.clone()),
        today: Utc::now().date_naive(),
    };
    let change = ChangeInput {
        changed,
        head_context,
    };
    let started = Instant::now();
    let mut ev: Evaluation = tokio::task::spawn_blocking(move || {
        let trees = ChangeTrees {
            head: &head_side.files,
            base: &base_side.files,
            head_kustomizations: head_side.kustomizations.clone(),
            base_kustomizations: base_side.kustomizations.clone(),
        };
        evaluate_change_with(&policy, &change, Some(&trees))
    })
    .await
    .context("evaluation task")?;
    crate::pipeline::metrics::evaluation(started.elapsed());
    ev.findings.extend(shell_findings);
    sort_findings(&mut ev.findings);
    notes.dedup();
    Ok(checkrun::render(
        &ev,
        &RenderContext {
            config_source,
            base_sha: pr.base.sha.clone(),
            notes,
        },
    ))
}

/// Most kustomization files read from one side's tree to find its roots.
pub const MAX_RENDER_KUSTOMIZATIONS: usize = 2_000;
/// Most files fetched for the renders of one side.
pub const MAX_RENDER_FILES: usize = 2_000;
/// Most bytes fetched for the renders of one side.
pub const MAX_RENDER_BYTES: u64 = 64 * 1024 * 1024;

/// One side of a change as the renderer reads it: the files the roots a
/// change feeds can read, and every kustomization file of the tree.
#[derive(Default)]
struct RenderSide {
    files: std::collections::BTreeMap<String, Vec<u8>>,
    kustomizations: Vec<String>,
}

fn render_limit(path: &str, side: &str, what: String) -> Finding {
    Finding::at(
        "invalid-manifest",
        Severity::Error,
        path,
        1,
        format!(
            "the kustomization roots this change feeds need {what} from the {side} commit, over what gitops-guard fetches from the API; \
             they are not rendered, so nothing they deploy is judged — run `gitops-guard check --base` on the change locally"
        ),
    )
}

/// Fetches, from `tree`, the kustomization files (to find the roots) and
/// every file under the kustomization directories of the roots a touched
/// path feeds: kustomize's load restriction keeps every file a build reads
/// in or below one of them. Bounded by [`MAX_RENDER_KUSTOMIZATIONS`],
/// [`MAX_RENDER_FILES`], [`MAX_RENDER_BYTES`] and [`MAX_FILE_BYTES`]; a
/// bound reached is an `invalid-manifest` finding and that side renders
/// nothing (fail closed: the finding fails the run).
async fn render_side(
    gh: &dyn GitHub,
    ctx: &PipelineContext,
    repo: &RepoName,
    tree: &Tree,
    touched: &BTreeSet<String>,
    side: &str,
    out: &mut Vec<Finding>,
) -> anyhow::Result<RenderSide> {
    // Symlinks and submodules are not files to a render: it fails closed
    // naming them.
    let blobs: Vec<&github::TreeEntry> = tree
        .tree
        .iter()
        .filter(|e| e.kind == "blob" && e.mode != "120000")
        .collect();
    let kentries: Vec<&github::TreeEntry> = blobs
        .iter()
        .copied()
        .filter(|e| is_kustomization_file(&e.path))
        .collect();
    if kentries.is_empty() {
        return Ok(RenderSide::default());
    }
    if kentries.len() > MAX_RENDER_KUSTOMIZATIONS {
        out.push(render_limit(
            &kentries[0].path,
            side,
            format!("more than {MAX_RENDER_KUSTOMIZATIONS} kustomization files"),
        ));
        return Ok(RenderSide::default());
    }
    let mut files = std::collections::BTreeMap::new();
    let mut texts = Vec::new();
    for e in &kentries {
        if e.size.unwrap_or(0) > MAX_FILE_BYTES {
            out.push(too_large(&e.path));
            continue;
        }
        let bytes = blob(gh, ctx, repo, &e.sha)
            .await
            .with_context(|| format!("reading {} at {side}", e.path))?;
        texts.push((e.path.clone(), String::from_utf8_lossy(&bytes).into_owned()));
        files.insert(e.path.clone(), bytes.to_vec());
    }
    let (graph, _) = Kustomizations::from_files(
        texts.iter().map(|(p, t)| (p.as_str(), t.as_str())),
        &Limits::default(),
    );
    let under =
        |p: &str, d: &str| d.is_empty() || (p.starts_with(d) && p[d.len()..].starts_with('/'));
    let (roots, _) = graph.roots(kentries.iter().map(|e| e.path.as_str()), &BTreeSet::new());
    let mut dirs: BTreeSet<String> = BTreeSet::new();
    for r in roots {
        let closure = graph.closure(&r);
        if closure.iter().any(|d| touched.iter().any(|p| under(p, d))) {
            dirs.extend(closure);
        }
    }
    let needed: Vec<&github::TreeEntry> = blobs
        .iter()
        .copied()
        .filter(|e| !files.contains_key(&e.path) && dirs.iter().any(|d| under(&e.path, d)))
        .collect();
    let bytes: u64 = needed.iter().map(|e| e.size.unwrap_or(0)).sum();
    let first = needed
        .first()
        .map_or(kentries[0].path.as_str(), |e| e.path.as_str());
    if needed.len() > MAX_RENDER_FILES {
        out.push(render_limit(
            first,
            side,
            format!("more than {MAX_RENDER_FILES} files"),
        ));
        return Ok(RenderSide::default());
    }
    if bytes > MAX_RENDER_BYTES {
        out.push(render_limit(
            first,
            side,
            format!("more than {MAX_RENDER_BYTES} bytes"),
        ));
        return Ok(RenderSide::default());
    }
    for e in needed {
        if e.size.unwrap_or(0) > MAX_FILE_BYTES {
            // Absent to the render, which then fails naming it.
            continue;
        }
        let b = blob(gh, ctx, repo, &e.sha)
            .await
            .with_context(|| format!("reading {} at {side}", e.path))?;
        files.insert(e.path.clone(), b.to_vec());
    }
    Ok(RenderSide {
        files,
        kustomizations: kentries.iter().map(|e| e.path.clone()).collect(),
    })
}

pub(crate) fn change_status(s: &str) -> Option<ChangeStatus> {
    Some(match s {
        "added" | "copied" => ChangeStatus::Added,
        "removed" => ChangeStatus::Removed,
        "renamed" => ChangeStatus::Renamed,
        "modified" | "changed" => ChangeStatus::Modified,
        // `unchanged` (mode-only changes) carries no content change.
        _ => return None,
    })
}

pub(crate) fn is_codeowners(p: &str) -> bool {
    matches!(p, "CODEOWNERS" | ".github/CODEOWNERS" | "docs/CODEOWNERS")
}

fn parent_dir(p: &str) -> &str {
    p.rsplit_once('/').map_or("", |(d, _)| d)
}

pub(crate) fn short(sha: &str) -> &str {
    &sha[..sha.len().min(7)]
}

fn globs(patterns: &[String]) -> anyhow::Result<GlobSet> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let g = globset::GlobBuilder::new(p)
            .literal_separator(true)
            .build()
            .map_err(|e| anyhow::anyhow!("invalid glob {p:?}: {e}"))?;
        b.add(g);
    }
    b.build().map_err(|e| anyhow::anyhow!("{e}"))
}

fn too_large(path: &str) -> Finding {
    Finding::at(
        "invalid-manifest",
        Severity::Error,
        path,
        1,
        format!(
            "file is larger than {} MiB and is not evaluated; split it into smaller files",
            MAX_FILE_BYTES / (1024 * 1024)
        ),
    )
}

async fn head_text(
    gh: &dyn GitHub,
    ctx: &PipelineContext,
    repo: &RepoName,
    f: &PrFile,
    head_tree: &Tree,
    findings: &mut Vec<Finding>,
) -> anyhow::Result<Option<String>> {
    // Prefer the head tree's entry (it carries the size); the file list's
    // `sha` is the same blob.
    let (sha, size) = match head_tree.blob(&f.filename) {
        Some(e) => (e.sha.clone(), e.size.unwrap_or(0)),
        None => match &f.sha {
            Some(s) => (s.clone(), 0),
            None => anyhow::bail!("{}: GitHub listed no blob for the changed file", f.filename),
        },
    };
    if size > MAX_FILE_BYTES {
        findings.push(too_large(&f.filename));
        return Ok(None);
    }
    match text_or_finding(gh, ctx, repo, &sha, &f.filename).await? {
        Ok(t) => Ok(Some(t)),
        Err(finding) => {
            findings.push(finding);
            Ok(None)
        }
    }
}

/// A blob as UTF-8 text, or an `invalid-manifest` finding if it is not.
async fn text_or_finding(
    gh: &dyn GitHub,
    ctx: &PipelineContext,
    repo: &RepoName,
    sha: &str,
    path: &str,
) -> anyhow::Result<Result<String, Finding>> {
    let bytes = blob(gh, ctx, repo, sha)
        .await
        .with_context(|| format!("reading {path}"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Ok(Err(too_large(path)));
    }
    Ok(String::from_utf8(bytes.to_vec()).map_err(|_| {
        Finding::at(
            "invalid-manifest",
            Severity::Error,
            path,
            1,
            "file is not valid UTF-8 and cannot be evaluated",
        )
    }))
}

pub(crate) async fn tree(
    gh: &dyn GitHub,
    ctx: &PipelineContext,
    repo: &RepoName,
    sha: &str,
) -> anyhow::Result<Arc<Tree>> {
    let key = (repo.to_string(), sha.to_owned());
    if let Some(t) = ctx.trees.get(&key).await {
        crate::github::metrics::cache("tree", true);
        return Ok(t);
    }
    crate::github::metrics::cache("tree", false);
    let t = ctx
        .trees
        .try_get_with(key, async { gh.get_tree(repo, sha).await.map(Arc::new) })
        .await
        .map_err(|e| (*e).clone())?;
    Ok(t)
}

pub(crate) async fn blob(
    gh: &dyn GitHub,
    ctx: &PipelineContext,
    repo: &RepoName,
    sha: &str,
) -> anyhow::Result<Arc<Vec<u8>>> {
    let key = (repo.to_string(), sha.to_owned());
    if let Some(b) = ctx.blobs.get(&key).await {
        crate::github::metrics::cache("blob", true);
        return Ok(b);
    }
    crate::github::metrics::cache("blob", false);
    let b = ctx
        .blobs
        .try_get_with(key, async { gh.get_blob(repo, sha).await.map(Arc::new) })
        .await
        .map_err(|e| (*e).clone())?;
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::event::decode;

    use crate::github::event::fixtures::load as fixture;

    #[test]
    fn targets_from_events() {
        let body = fixture("pull_request.opened.json");
        let ev = decode("pull_request", &body).unwrap();
        assert_eq!(
            targets(&ev),
            [PrTarget {
                repo: RepoName::parse("Codertocat/Hello-World").unwrap(),
                number: 2,
                force: false
            }]
        );
        let closed = decode("pull_request", &fixture("pull_request.closed.json")).unwrap();
        assert!(targets(&closed).is_empty());
        // check_suite.requested for a push without PRs: nothing to do.
        let cs = decode("check_suite", &fixture("check_suite.requested.json")).unwrap();
        assert!(targets(&cs).is_empty());
        // check_run.rerequested for another app's run: ignored.
        let cr = decode("check_run", &fixture("check_run.rerequested.json")).unwrap();
        assert!(targets(&cr).is_empty());
    }

    #[test]
    fn edited_only_with_base_change() {
        let body = fixture("pull_request.opened.json");
        let mut v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        v["action"] = "edited".into();
        v["changes"] = serde_json::json!({"title": {"from": "x"}});
        let ev = decode("pull_request", &serde_json::to_vec(&v).unwrap()).unwrap();
        assert!(targets(&ev).is_empty());
        v["changes"] =
            serde_json::json!({"base": {"ref": {"from": "dev"}, "sha": {"from": "abc"}}});
        let ev = decode("pull_request", &serde_json::to_vec(&v).unwrap()).unwrap();
        assert_eq!(targets(&ev).len(), 1);
    }

    #[test]
    fn config_loading() {
        assert_eq!(load_config("c.yml", "").unwrap(), Config::default());
        let c = load_config("c.yml", "reviews:\n  required_approvals: 3\n").unwrap();
        assert_eq!(c.reviews.required_approvals, 3);
        assert!(
            load_config("c.yml", "reviews:\n  required_aprovals: 3\n")
                .unwrap_err()
                .contains("c.yml:2")
        );
        assert!(load_config("c.yml", "version: [").is_err());
    }

    #[test]
    fn globs_respect_separators() {
        let g = globs(&["production/*.yaml".into()]).unwrap();
        assert!(g.is_match("production/a.yaml"));
        assert!(!g.is_match("production/sub/a.yaml"));
        assert!(globs(&["[".into()]).is_err());
    }
}
