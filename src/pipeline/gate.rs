//! The life of one check run on a head commit, shared by every gate
//! (`manifests`, `reviews`, `signatures`): find our run by name + head SHA,
//! decide from its `external_id` whether it already holds this verdict,
//! mark it in progress (reusing the run), evaluate, and complete it. An
//! evaluation error concludes `failure` with the reason and clears the
//! `external_id`, so the next delivery retries.
//!
//! A check run belongs to a commit, not to a pull request, so the
//! `external_id` is a [`VerdictKey`]: a hash over **every** fact the verdict
//! depends on, for every PR it was computed over ([`VerdictFacts`]). A
//! completed run is left alone only when its key equals the key of the
//! facts as they are now ([`Skip`]); a fact the key cannot see before
//! evaluating (membership and permission answers, cached with a TTL) makes
//! the gate evaluate every time and hash the verdict itself into the key,
//! so only an unchanged write is skipped.
//!
//! Callers hold the per-head lock ([`head_lock`]) for the whole sequence, so
//! two deliveries for the same commit never create two runs.

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

/// Takes the per-head lock: one evaluation of a head commit's runs at a
/// time (every PR sharing the head writes the same runs).
pub async fn head_lock(
    ctx: &PipelineContext,
    repo: &RepoName,
    head_sha: &str,
) -> tokio::sync::OwnedMutexGuard<()> {
    let lock = ctx
        .pr_locks
        .get_with(format!("{repo}@{head_sha}"), async {
            Arc::new(tokio::sync::Mutex::new(()))
        })
        .await;
    lock.lock_owned().await
}

/// The facts a verdict depends on, as labelled lines, hashed into the run's
/// `external_id`. Gates add what their verdict reads; order-insensitive
/// (lines are sorted before hashing), so the same facts always give the
/// same key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerdictFacts {
    lines: Vec<String>,
}

impl VerdictFacts {
    /// No facts yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the fact `label` = `value`. Values are escaped so that no value
    /// can forge a line boundary.
    pub fn add(&mut self, label: &str, value: impl std::fmt::Display) -> &mut Self {
        let v = value.to_string().replace('\\', "\\\\").replace('\n', "\\n");
        self.lines.push(format!("{label}={v}"));
        self
    }

    /// Adds every fact of `other`.
    pub fn extend(&mut self, other: &VerdictFacts) -> &mut Self {
        self.lines.extend(other.lines.iter().cloned());
        self
    }

    /// The key: `gg<version>:<sha256 of the sorted lines, hex>`.
    pub fn key(&self) -> VerdictKey {
        use sha2::{Digest as _, Sha256};
        let mut lines = self.lines.clone();
        lines.sort();
        let mut h = Sha256::new();
        for l in &lines {
            h.update(l.as_bytes());
            h.update(b"\n");
        }
        VerdictKey(format!(
            "{EXTERNAL_ID_VERSION}:{}",
            hex::encode(h.finalize())
        ))
    }
}

/// A run's `external_id`: see [`VerdictFacts::key`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerdictKey(pub String);

/// When a completed run may be left as it is.
#[derive(Clone, Debug)]
pub enum Skip {
    /// The verdict is a function of these facts alone: a completed run
    /// whose `external_id` is their key is not evaluated again.
    Facts(VerdictFacts),
    /// The verdict also reads facts only evaluating reveals (team
    /// membership and repository permission answers): always evaluate;
    /// the key is these facts plus the verdict itself, so only a write
    /// that would change nothing is skipped.
    Evaluated(VerdictFacts),
}

/// What an evaluation produced.
pub struct Evaluated {
    /// The run's output.
    pub output: CheckRunOutput,
    /// Every part was evaluated (no PR's evaluation failed): only then is
    /// the key stored, so a transient error is retried by the next delivery.
    pub complete: bool,
}

/// The digest of a rendered verdict, for [`Skip::Evaluated`] keys.
pub fn output_fact(out: &CheckRunOutput) -> String {
    use sha2::{Digest as _, Sha256};
    let mut h = Sha256::new();
    h.update(out.conclusion.as_str());
    for part in [&out.title, &out.summary, out.text.as_deref().unwrap_or("")] {
        h.update([0]);
        h.update(part.as_bytes());
    }
    for a in &out.annotations {
        h.update([1]);
        h.update(format!("{a:?}").as_bytes());
    }
    hex::encode(h.finalize())
}

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

/// What a gate needs to run its check.
pub struct GateSpec<'a> {
    /// Check-run name (stable).
    pub name: &'a str,
    /// Re-evaluate even when the run already holds this evaluation.
    pub force: bool,
    /// Title shown while evaluating.
    pub evaluating: &'a str,
}

/// Runs one check run on `head` (the caller holds the head lock) under the
/// [`Skip`] rule `skip`: `evaluate` produces the output; its error becomes
/// a `failure` whose run keeps no key, so the next delivery retries.
pub async fn run_check<F>(
    gh: &dyn GitHub,
    repo: &RepoName,
    head: &str,
    spec: GateSpec<'_>,
    skip: Skip,
    evaluate: F,
) -> anyhow::Result<()>
where
    F: std::future::Future<Output = anyhow::Result<Evaluated>>,
{
    let existing = gh
        .find_check_run(repo, head, spec.name)
        .await
        .with_context(|| format!("looking up the existing {} check run", spec.name))?;
    let holds = |key: &VerdictKey| {
        existing.as_ref().is_some_and(|run| {
            !spec.force
                && run.status == "completed"
                && run.external_id.as_deref() == Some(key.0.as_str())
        })
    };
    let started = Instant::now();
    let (run, output, id) = match skip {
        Skip::Facts(facts) => {
            let key = facts.key();
            if holds(&key) {
                tracing::info!(check = spec.name, "check run already holds this verdict");
                return Ok(());
            }
            let run = start_run(gh, repo, head, existing, &spec).await?;
            match evaluate.await {
                Ok(ev) => {
                    let id = ev.complete.then_some(key.0);
                    (run, ev.output, id)
                }
                Err(e) => (run, evaluation_failed(&spec, &e), None),
            }
        }
        Skip::Evaluated(mut facts) => {
            let (output, key) = match evaluate.await {
                Ok(ev) => {
                    facts.add("verdict", output_fact(&ev.output));
                    let key = ev.complete.then(|| facts.key());
                    (ev.output, key)
                }
                Err(e) => (evaluation_failed(&spec, &e), None),
            };
            if let Some(k) = &key
                && holds(k)
            {
                tracing::info!(check = spec.name, "check run already holds this verdict");
                return Ok(());
            }
            let run = start_run(gh, repo, head, existing, &spec).await?;
            (run, output, key.map(|k| k.0))
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

fn evaluation_failed(spec: &GateSpec<'_>, e: &anyhow::Error) -> CheckRunOutput {
    tracing::warn!(
        check = spec.name,
        error = format!("{e:#}"),
        "evaluation failed; concluding failure"
    );
    failure_output(e)
}

/// Runs one gate's check run for `snap` alone (a merge group, whose head
/// commit no pull request has): the verdict is a function of base + head
/// and the organisation default when unforced (the merge group's
/// `manifests`); `evaluate` produces the output; its error becomes a
/// `failure`.
pub async fn run_group_gate<F>(
    gh: &dyn GitHub,
    ctx: &PipelineContext,
    snap: &PrSnapshot,
    spec: GateSpec<'_>,
    evaluate: F,
) -> anyhow::Result<()>
where
    F: std::future::Future<Output = anyhow::Result<CheckRunOutput>>,
{
    let mut facts = VerdictFacts::new();
    facts
        .add("gate", spec.name)
        .add("base_sha", &snap.pr.base.sha)
        .add("head", &snap.pr.head.sha)
        .add("today", Utc::now().date_naive());
    let org = super::pull_request::org_config(gh, ctx, snap.repo.owner()).await;
    let evaluate = async {
        evaluate.await.map(|output| Evaluated {
            output,
            complete: true,
        })
    };
    match org {
        Ok(org) => {
            facts.add(
                "org_config",
                org.as_deref().map_or_else(
                    || "-".to_owned(),
                    |t| {
                        use sha2::{Digest as _, Sha256};
                        hex::encode(Sha256::digest(t.as_bytes()))
                    },
                ),
            );
            let head = snap.pr.head.sha.clone();
            run_check(gh, &snap.repo, &head, spec, Skip::Facts(facts), evaluate).await
        }
        Err(e) => {
            let head = snap.pr.head.sha.clone();
            let skip = Skip::Evaluated(facts);
            run_check(gh, &snap.repo, &head, spec, skip, async { Err(e) }).await
        }
    }
}

/// Runs one gate's check run for `snap` alone, keyed by gate, base and
/// head only. Kept for the per-PR `run_with` entry points; deliveries go
/// through [`super::gates`], which judges every PR sharing the head, and
/// merge groups through [`run_group_gate`].
pub async fn run_gate<F>(
    gh: &dyn GitHub,
    snap: &PrSnapshot,
    spec: GateSpec<'_>,
    evaluate: F,
) -> anyhow::Result<()>
where
    F: std::future::Future<Output = anyhow::Result<CheckRunOutput>>,
{
    let mut facts = VerdictFacts::new();
    facts
        .add("gate", spec.name)
        .add("base_sha", &snap.pr.base.sha)
        .add("head", &snap.pr.head.sha);
    let head = snap.pr.head.sha.clone();
    let evaluate = async {
        evaluate.await.map(|output| Evaluated {
            output,
            complete: true,
        })
    };
    run_check(gh, &snap.repo, &head, spec, Skip::Facts(facts), evaluate).await
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
