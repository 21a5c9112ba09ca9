//! Routing PR-related deliveries to the gates (`manifests`, `reviews`,
//! `signatures`) and judging a **head commit**: a check run belongs to a
//! commit, not to a pull request, so every run on a head SHA carries one
//! verdict over all the open PRs whose head is that SHA.
//!
//! For each delivery: find the head (the PR's current head, or the SHA the
//! event names), take the per-head lock, list the open PRs with that head,
//! and for each gate judge every PR whose base is a deployment branch
//! ([`BaseFacts::deployment`]); the worst conclusion wins and the summary
//! names each PR with its result ([`checkrun::head_verdict`]). A PR into a
//! non-deployment branch is named but never counted, so it cannot turn the
//! run a deployment PR needs `neutral` (or anything else); the run is
//! `neutral` only when no open PR with the head targets a deployment
//! branch. One PR read, one [`PrSnapshot`] per PR, shared by the gates.
//!
//! Finding the PRs of a head: `GET /pulls?state=open` (all pages), kept
//! when `head.sha` equals the head. Not `commits/{sha}/pulls`: for a commit
//! already on the default branch it returns only the merged PR that brought
//! it there, so a `develop` → `production` PR would be missed; not
//! `pulls?head=owner:branch`: the same commit can be pushed to any other
//! branch or fork. Each match is re-read (`GET /pulls/{n}`: the list omits
//! the commit count the gates check) and dropped unless still open at that
//! head. More than [`MAX_PRS_PER_HEAD`] PRs on one head fail closed.
//!
//! Which events re-evaluate (every gate unless said):
//! - `pull_request` opened / reopened / synchronize / ready_for_review, and
//!   `edited` with a base change: the PR's current head.
//! - `pull_request` closed (merged or not): the closed PR's head, over the
//!   PRs still open on it; with none left the runs are left as they are.
//! - `pull_request_review` submitted / edited / dismissed: `reviews`.
//! - `check_suite` requested (for a commit with PRs): its head;
//!   `rerequested`: forced.
//! - `check_run` rerequested for one of our runs: that gate, forced.
//!
//! Nothing is skipped because a completed run exists: the run's
//! `external_id` is a key over every fact the verdict reads (see
//! [`super::gate`]): the PR numbers on the head, each one's base branch,
//! base SHA (with the head SHA it fixes the merge base, so the diff and the
//! commit list), the config, CODEOWNERS and org-default contents, the
//! author, and for `reviews` every review (id, user, state, commit); the
//! `reviews` verdict further reads team-membership and permission answers,
//! so that gate is always evaluated and its key includes the verdict.

use std::collections::BTreeSet;
use std::sync::Arc;

use anyhow::Context as _;
use chrono::Utc;

use crate::engine::ids::RepoName;
use crate::github::event::Event;
use crate::github::{GitHub, GitHubError, PullRequestInfo};
use crate::report::checkrun::{self, MANIFESTS_CHECK, PrVerdict};

use super::PipelineContext;
use super::gate::{Evaluated, GateSpec, Skip, VerdictFacts, head_lock, run_check};
use super::pull_request::{self, failure_output};
use super::snapshot::{BaseFacts, PrSnapshot, SharedError};
use super::{reviews, signatures};

/// Most open PRs judged together on one head commit; more fail closed
/// (each costs a full evaluation per delivery).
pub const MAX_PRS_PER_HEAD: usize = 20;

/// One of our check runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Gate {
    /// `gitops-guard/manifests`.
    Manifests,
    /// `gitops-guard/reviews`.
    Reviews,
    /// `gitops-guard/signatures`.
    Signatures,
}

impl Gate {
    /// Every gate, in the order they run.
    pub const ALL: [Gate; 3] = [Gate::Manifests, Gate::Reviews, Gate::Signatures];

    /// The check-run name.
    pub fn check_name(self) -> &'static str {
        match self {
            Gate::Manifests => MANIFESTS_CHECK,
            Gate::Reviews => reviews::REVIEWS_CHECK,
            Gate::Signatures => signatures::SIGNATURES_CHECK,
        }
    }

    /// The gate owning check run `name`, if it is ours.
    pub fn from_check_name(name: &str) -> Option<Gate> {
        Gate::ALL.into_iter().find(|g| g.check_name() == name)
    }

    fn evaluating(self) -> &'static str {
        match self {
            Gate::Manifests => "Evaluating manifests…",
            Gate::Reviews => "Evaluating reviews…",
            Gate::Signatures => "Checking commit signatures…",
        }
    }
}

/// A head commit and the gates a delivery asks us to evaluate on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GateTarget {
    /// Repository.
    pub repo: RepoName,
    /// The PR the delivery names (0 when it names none).
    pub number: u64,
    /// The head commit to judge; `None`: PR `number`'s current head.
    pub head: Option<String>,
    /// Gates to run, in order.
    pub gates: Vec<Gate>,
    /// Write the runs even if they already hold this verdict.
    pub force: bool,
}

/// The gates a delivery asks for (pure).
pub fn targets(event: &Event) -> Vec<GateTarget> {
    let mk = |full: &str, number: u64, head: Option<&str>, gates: &[Gate], force: bool| {
        RepoName::parse(full)
            .map(|repo| GateTarget {
                repo,
                number,
                head: head.map(str::to_owned),
                gates: gates.to_vec(),
                force,
            })
            .into_iter()
            .collect()
    };
    match event {
        Event::PullRequest(e) => {
            let full = &e.repository.full_name;
            match e.action.as_str() {
                "opened" | "reopened" | "synchronize" | "ready_for_review"
                    if e.pull_request.state != "closed" =>
                {
                    mk(full, e.number, None, &Gate::ALL, false)
                }
                "edited"
                    if e.pull_request.state != "closed"
                        && e.changes.as_ref().is_some_and(|c| c.base.is_some()) =>
                {
                    mk(full, e.number, None, &Gate::ALL, false)
                }
                // The closed PR leaves its head's set: judge the rest.
                "closed" => mk(
                    full,
                    e.number,
                    Some(&e.pull_request.head.sha),
                    &Gate::ALL,
                    false,
                ),
                _ => Vec::new(),
            }
        }
        Event::PullRequestReview(e)
            if matches!(e.action.as_str(), "submitted" | "edited" | "dismissed")
                && e.pull_request.state != "closed" =>
        {
            mk(
                &e.repository.full_name,
                e.pull_request.number,
                None,
                &[Gate::Reviews],
                false,
            )
        }
        // A suite for a commit no PR of this repository names (a push to a
        // branch without PRs) has nothing to judge; fork PRs arrive as
        // `pull_request` events.
        Event::CheckSuite(e)
            if matches!(e.action.as_str(), "requested" | "rerequested")
                && !e.check_suite.pull_requests.is_empty() =>
        {
            mk(
                &e.repository.full_name,
                e.check_suite.pull_requests[0].number,
                Some(&e.check_suite.head_sha),
                &Gate::ALL,
                e.action == "rerequested",
            )
        }
        Event::CheckRun(e) if e.action == "rerequested" => {
            let Some(gate) = Gate::from_check_name(&e.check_run.name) else {
                return Vec::new();
            };
            mk(
                &e.repository.full_name,
                e.check_run.pull_requests.first().map_or(0, |p| p.number),
                Some(&e.check_run.head_sha),
                &[gate],
                true,
            )
        }
        _ => Vec::new(),
    }
}

/// Judges `target`'s head under the per-head lock. Every gate runs even if
/// an earlier one failed; the first error is returned.
pub async fn run(
    gh: &dyn GitHub,
    ctx: &PipelineContext,
    target: &GateTarget,
) -> anyhow::Result<()> {
    let repo = &target.repo;
    let (head, trigger) = match &target.head {
        Some(h) => (h.clone(), None),
        None => {
            let pr = gh
                .get_pull(repo, target.number)
                .await
                .context("reading the pull request")?;
            if pr.state == "closed" {
                tracing::info!(pr = pr.number, "pull request is closed; not evaluated");
                return Ok(());
            }
            (pr.head.sha.clone(), Some(pr))
        }
    };
    let _guard = head_lock(ctx, repo, &head).await;
    let prs = match open_prs_on_head(gh, repo, &head, trigger).await {
        Ok(prs) => prs,
        Err(e) => {
            // Without the full set no verdict is safe: every run fails closed.
            let e = SharedError(Arc::new(e));
            let mut first_err = None;
            for gate in &target.gates {
                let spec = spec(*gate, true);
                let err = anyhow::Error::new(e.clone());
                let r = run_check(
                    gh,
                    repo,
                    &head,
                    spec,
                    Skip::Evaluated(VerdictFacts::new()),
                    async { Err(err) },
                )
                .await;
                if let Err(e) = r {
                    first_err.get_or_insert(e);
                }
            }
            return first_err.map_or(Ok(()), Err);
        }
    };
    if prs.is_empty() {
        tracing::info!(
            head = head.as_str(),
            "no open pull request has this head; its runs are left as they are"
        );
        return Ok(());
    }
    let snaps: Vec<PrSnapshot> = prs
        .into_iter()
        .map(|pr| PrSnapshot::new(repo.clone(), pr))
        .collect();
    let mut first_err = None;
    for gate in &target.gates {
        if let Err(e) = run_head_gate(gh, ctx, repo, &head, &snaps, *gate, target.force).await {
            tracing::error!(
                head = head.as_str(),
                check = gate.check_name(),
                error = format!("{e:#}"),
                "gate failed"
            );
            first_err.get_or_insert(e);
        }
    }
    first_err.map_or(Ok(()), Err)
}

fn spec(gate: Gate, force: bool) -> GateSpec<'static> {
    GateSpec {
        name: gate.check_name(),
        force,
        evaluating: gate.evaluating(),
    }
}

/// The open PRs whose head is `head`, fresh, by number. `trigger` is the PR
/// the delivery named, already read (listing may lag behind an `opened`).
async fn open_prs_on_head(
    gh: &dyn GitHub,
    repo: &RepoName,
    head: &str,
    trigger: Option<PullRequestInfo>,
) -> anyhow::Result<Vec<PullRequestInfo>> {
    let listed = gh
        .list_open_pulls(repo)
        .await
        .context("listing the open pull requests (to find those sharing this head commit)")?;
    let mut numbers: BTreeSet<u64> = listed
        .iter()
        .filter(|p| p.head.as_ref().is_some_and(|h| h.sha == head))
        .map(|p| p.number)
        .collect();
    let trigger = trigger.filter(|t| t.state == "open" && t.head.sha == head);
    if let Some(t) = &trigger {
        numbers.insert(t.number);
    }
    if numbers.len() > MAX_PRS_PER_HEAD {
        anyhow::bail!(GitHubError::Limit(format!(
            "{} open pull requests have commit {} as their head; gitops-guard judges at most \
             {MAX_PRS_PER_HEAD} together — close the duplicates",
            numbers.len(),
            pull_request::short(head)
        )));
    }
    let mut out = Vec::with_capacity(numbers.len());
    for n in numbers {
        let pr = match &trigger {
            Some(t) if t.number == n => t.clone(),
            _ => gh
                .get_pull(repo, n)
                .await
                .with_context(|| format!("reading pull request #{n}"))?,
        };
        if pr.state == "open" && pr.head.sha == head {
            out.push(pr);
        }
    }
    Ok(out)
}

/// The facts of one PR that every gate's verdict reads.
fn pr_facts(facts: &mut VerdictFacts, snap: &PrSnapshot, base: &BaseFacts) {
    let pr = &snap.pr;
    let n = pr.number;
    facts
        .add(&format!("pr#{n}.base_ref"), &pr.base.ref_)
        .add(&format!("pr#{n}.base_sha"), &pr.base.sha)
        .add(&format!("pr#{n}.deployment"), base.deployment)
        .add(&format!("pr#{n}.commits"), pr.commits)
        .add(
            &format!("pr#{n}.author"),
            pr.user.as_ref().map_or("", |u| u.login.as_str()),
        )
        .add(&format!("pr#{n}.config"), opt(&base.config_blob))
        .add(&format!("pr#{n}.codeowners"), opt(&base.codeowners_blob))
        .add(&format!("pr#{n}.org_config"), opt(&base.org_config_digest));
}

fn opt(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("-")
}

/// Writes `gate`'s run on `head` from every PR in `snaps` (all open, all
/// with that head).
async fn run_head_gate(
    gh: &dyn GitHub,
    ctx: &PipelineContext,
    repo: &RepoName,
    head: &str,
    snaps: &[PrSnapshot],
    gate: Gate,
    force: bool,
) -> anyhow::Result<()> {
    let spec = spec(gate, force);
    let facts = match gate_facts(gh, ctx, head, snaps, gate).await {
        Ok(f) => f,
        Err(e) => {
            return run_check(
                gh,
                repo,
                head,
                spec,
                Skip::Evaluated(VerdictFacts::new()),
                async { Err(e) },
            )
            .await;
        }
    };
    let (facts, bases) = facts;
    let skip = match gate {
        // Membership and permission answers decide too: evaluate always.
        Gate::Reviews => Skip::Evaluated(facts),
        Gate::Manifests | Gate::Signatures => Skip::Facts(facts),
    };
    let evaluate = async {
        let mut judged = Vec::new();
        let mut ignored = Vec::new();
        let mut complete = true;
        for (snap, base) in snaps.iter().zip(&bases) {
            if !base.deployment {
                ignored.push((snap.pr.number, snap.pr.base.ref_.clone()));
                continue;
            }
            let out = match gate {
                Gate::Manifests => pull_request::plan_with(gh, ctx, snap).await,
                Gate::Reviews => reviews::plan(gh, ctx, snap).await,
                Gate::Signatures => signatures::plan(gh, ctx, snap).await,
            };
            let output = out.unwrap_or_else(|e| {
                tracing::warn!(
                    pr = snap.pr.number,
                    check = gate.check_name(),
                    error = format!("{e:#}"),
                    "evaluation failed; this pull request's verdict is failure"
                );
                complete = false;
                failure_output(&e)
            });
            judged.push(PrVerdict {
                number: snap.pr.number,
                base_ref: snap.pr.base.ref_.clone(),
                output,
            });
        }
        Ok(Evaluated {
            output: checkrun::head_verdict(judged, &ignored),
            complete,
        })
    };
    run_check(gh, repo, head, spec, skip, evaluate).await
}

/// The key facts of `gate`'s verdict on `head` over `snaps`, and each PR's
/// [`BaseFacts`] (in `snaps` order).
async fn gate_facts(
    gh: &dyn GitHub,
    ctx: &PipelineContext,
    head: &str,
    snaps: &[PrSnapshot],
    gate: Gate,
) -> anyhow::Result<(VerdictFacts, Vec<Arc<BaseFacts>>)> {
    let mut facts = VerdictFacts::new();
    facts.add("gate", gate.check_name()).add("head", head);
    if gate == Gate::Manifests {
        // Exceptions expire by date: a new day may change the verdict.
        facts.add("today", Utc::now().date_naive());
    }
    let mut bases = Vec::with_capacity(snaps.len());
    for snap in snaps {
        let base = snap.base_facts(gh, ctx).await?;
        pr_facts(&mut facts, snap, &base);
        if gate == Gate::Reviews && base.deployment {
            let n = snap.pr.number;
            for r in snap.reviews(gh).await?.iter() {
                facts.add(
                    &format!("pr#{n}.review"),
                    format_args!(
                        "{} {} {} {}",
                        r.id,
                        r.user.as_ref().map_or("", |u| u.login.as_str()),
                        r.state,
                        r.commit_id.as_deref().unwrap_or("-")
                    ),
                );
            }
        }
        bases.push(base);
    }
    Ok((facts, bases))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::event::decode;

    /// A vendored webhook payload as JSON, to edit before decoding.
    fn fixture(name: &str) -> serde_json::Value {
        let bytes = crate::github::event::fixtures::load(name);
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("webhook fixture {name} is not JSON: {e}"))
    }

    fn ev(name: &str, v: &serde_json::Value) -> Event {
        decode(name, &serde_json::to_vec(v).unwrap()).unwrap()
    }

    #[test]
    fn review_events_rerun_reviews_only() {
        let mut v = fixture("pull_request_review.submitted.json");
        for action in ["submitted", "edited", "dismissed"] {
            v["action"] = action.into();
            v["pull_request"]["state"] = "open".into();
            let t = targets(&ev("pull_request_review", &v));
            assert_eq!(t.len(), 1, "{action}");
            assert_eq!(t[0].gates, [Gate::Reviews]);
            // The reviews are part of the verdict's key: no need to force.
            assert!(!t[0].force);
            assert_eq!(t[0].head, None, "the PR's current head");
            assert_eq!(t[0].number, v["pull_request"]["number"].as_u64().unwrap());
        }
        v["pull_request"]["state"] = "closed".into();
        assert!(targets(&ev("pull_request_review", &v)).is_empty());
        v["pull_request"]["state"] = "open".into();
        v["action"] = "requested".into();
        assert!(targets(&ev("pull_request_review", &v)).is_empty());
    }

    #[test]
    fn pull_request_events_run_every_gate() {
        let v = fixture("pull_request.synchronize.json");
        let t = targets(&ev("pull_request", &v));
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].gates, Gate::ALL);
        assert!(!t[0].force);
    }

    #[test]
    fn closing_rejudges_the_closed_prs_head() {
        let mut v = fixture("pull_request.synchronize.json");
        v["action"] = "closed".into();
        v["pull_request"]["state"] = "closed".into();
        let head = v["pull_request"]["head"]["sha"]
            .as_str()
            .unwrap()
            .to_owned();
        let t = targets(&ev("pull_request", &v));
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].head.as_deref(), Some(head.as_str()));
        assert_eq!(t[0].gates, Gate::ALL);
        v["action"] = "labeled".into();
        assert!(targets(&ev("pull_request", &v)).is_empty());
    }

    #[test]
    fn check_run_rerequest_runs_only_that_gate() {
        let mut v = fixture("check_run.rerequested.json");
        v["check_run"]["pull_requests"] = serde_json::json!([{
            "url": "u", "id": 1, "number": 9,
            "head": {"ref": "f", "sha": "a", "repo": {"id": 1, "url": "u", "name": "n"}},
            "base": {"ref": "main", "sha": "b", "repo": {"id": 1, "url": "u", "name": "n"}}
        }]);
        for gate in Gate::ALL {
            v["check_run"]["name"] = gate.check_name().into();
            let t = targets(&ev("check_run", &v));
            assert_eq!(t.len(), 1);
            assert_eq!(t[0].gates, [gate]);
            assert!(t[0].force);
        }
        v["check_run"]["name"] = "someone-else/ci".into();
        assert!(targets(&ev("check_run", &v)).is_empty());
    }
}
