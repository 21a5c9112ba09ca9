//! The life of one check run on a PR's head commit, shared by every gate
//! (`manifests`, `reviews`, `signatures`): find our run by name + head SHA,
//! skip it when its `external_id` says it already holds this exact
//! evaluation (unless re-requested), mark it in progress (reusing the run),
//! evaluate, and complete it. An evaluation error concludes `failure` with
//! the reason and clears the `external_id`, so the next delivery retries.
//!
//! Callers hold the per-PR lock ([`pr_lock`]) for the whole sequence, so two
//! deliveries for the same push never create two runs.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use chrono::Utc;

use super::PipelineContext;
use super::pull_request::{failure_output, publish};
use super::snapshot::PrSnapshot;
use crate::engine::ids::RepoName;
use crate::github::{CheckRunInfo, CheckRunOutputBody, CheckRunUpdate, GitHub, NewCheckRun};
use crate::report::checkrun::CheckRunOutput;

/// Version tag of our `external_id`s, bumped when evaluation semantics change.
pub const EXTERNAL_ID_VERSION: &str = concat!("gg", env!("CARGO_PKG_VERSION"));

/// Takes the per-PR lock (one evaluation of a PR at a time).
pub async fn pr_lock(
    ctx: &PipelineContext,
    repo: &RepoName,
    number: u64,
) -> tokio::sync::OwnedMutexGuard<()> {
    let lock = ctx
        .pr_locks
        .get_with(format!("{repo}#{number}"), async {
            Arc::new(tokio::sync::Mutex::new(()))
        })
        .await;
    lock.lock_owned().await
}

/// `external_id` for an evaluation of base+head (what every gate's result
/// depends on besides mutable data such as reviews, which re-request it).
pub fn external_id(snap: &PrSnapshot) -> String {
    format!(
        "{EXTERNAL_ID_VERSION}:{}:{}",
        snap.pr.base.sha, snap.pr.head.sha
    )
}

/// What a gate needs to run its check.
pub struct GateSpec<'a> {
    /// Check-run name (stable).
    pub name: &'a str,
    /// Re-evaluate even when the run already holds this evaluation.
    pub force: bool,
    /// Title shown while evaluating.
    pub evaluating: &'a str,
}

/// Runs one gate's check run for `snap` (caller holds the PR lock):
/// `evaluate` produces the output; its error becomes a `failure`.
pub async fn run_gate<F>(
    gh: &dyn GitHub,
    snap: &PrSnapshot,
    spec: GateSpec<'_>,
    evaluate: F,
) -> anyhow::Result<()>
where
    F: std::future::Future<Output = anyhow::Result<CheckRunOutput>>,
{
    let repo = &snap.repo;
    let head = snap.pr.head.sha.clone();
    let done_id = external_id(snap);
    let existing = gh
        .find_check_run(repo, &head, spec.name)
        .await
        .with_context(|| format!("looking up the existing {} check run", spec.name))?;
    if let Some(run) = &existing
        && !spec.force
        && run.status == "completed"
        && run.external_id.as_deref() == Some(done_id.as_str())
    {
        tracing::info!(
            run = run.id,
            check = spec.name,
            "check run already holds this evaluation"
        );
        return Ok(());
    }
    let run = start_run(gh, repo, &head, existing, &spec).await?;

    let started = Instant::now();
    let (output, id) = match evaluate.await {
        Ok(out) => (out, Some(done_id)),
        Err(e) => {
            tracing::warn!(
                check = spec.name,
                error = format!("{e:#}"),
                "evaluation failed; concluding failure"
            );
            (failure_output(&e), None)
        }
    };
    tracing::info!(
        run = run.id,
        check = spec.name,
        conclusion = output.conclusion.as_str(),
        annotations = output.annotations.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "completing check run"
    );
    publish(gh, repo, &run, &output, id).await
}

async fn start_run(
    gh: &dyn GitHub,
    repo: &RepoName,
    head: &str,
    existing: Option<CheckRunInfo>,
    spec: &GateSpec<'_>,
) -> anyhow::Result<CheckRunInfo> {
    let output = CheckRunOutputBody {
        title: spec.evaluating.into(),
        summary: format!("gitops-guard is evaluating `{}`.", spec.name),
        ..Default::default()
    };
    match existing {
        Some(run) => {
            let update = CheckRunUpdate {
                status: Some("in_progress".into()),
                external_id: Some(String::new()),
                output: Some(output),
                ..Default::default()
            };
            let mut updated = gh
                .update_check_run(repo, run.id, &update)
                .await
                .context("marking the check run in progress")?;
            // Keep the annotation count we saw: the PATCH response may omit it.
            if updated.output.is_none() {
                updated.output = run.output;
            }
            Ok(updated)
        }
        None => gh
            .create_check_run(
                repo,
                &NewCheckRun {
                    name: spec.name.into(),
                    head_sha: head.into(),
                    status: "in_progress".into(),
                    external_id: Some(String::new()),
                    started_at: Some(Utc::now().to_rfc3339()),
                    output: Some(output),
                },
            )
            .await
            .context("creating the check run"),
    }
}
