//! Routing PR-related deliveries to the gates (`manifests`, `reviews`,
//! `signatures`) and running the chosen ones together: one per-PR lock, one
//! PR read and one [`PrSnapshot`] per delivery, so the gates share the
//! changed files, the commit list and the base config instead of each
//! fetching them.
//!
//! Which gates an event re-evaluates:
//! - `pull_request` opened / synchronize / reopened / ready_for_review, and
//!   `edited` with a base change: all three (a new head or base changes
//!   what every gate judges).
//! - `pull_request_review` submitted / edited / dismissed: `reviews`, forced
//!   (reviews are not part of the run's `external_id`).
//! - `check_suite` requested: all three; `rerequested`: all three, forced.
//! - `check_run` rerequested for one of our runs: that gate, forced.
//!
//! Unforced gates skip a run that already holds this base+head evaluation,
//! so `pull_request.synchronize` and `check_suite.requested` for the same
//! push cost one evaluation.

use crate::engine::ids::RepoName;
use crate::github::GitHub;
use crate::github::event::Event;
use crate::report::checkrun::MANIFESTS_CHECK;

use super::PipelineContext;
use super::gate::pr_lock;
use super::snapshot::PrSnapshot;
use super::{pull_request, reviews, signatures};

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
}

/// A PR and the gates a delivery asks us to evaluate on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GateTarget {
    /// Repository.
    pub repo: RepoName,
    /// PR number.
    pub number: u64,
    /// Gates to run, in order.
    pub gates: Vec<Gate>,
    /// Re-evaluate even if a run already holds this evaluation.
    pub force: bool,
}

/// The gates a delivery asks for (pure).
pub fn targets(event: &Event) -> Vec<GateTarget> {
    match event {
        Event::PullRequest(_) | Event::CheckSuite(_) => pull_request::targets(event)
            .into_iter()
            .map(|t| GateTarget {
                repo: t.repo,
                number: t.number,
                gates: Gate::ALL.to_vec(),
                force: t.force,
            })
            .collect(),
        Event::CheckRun(e) if e.action == "rerequested" => {
            let Some(gate) = Gate::from_check_name(&e.check_run.name) else {
                return Vec::new();
            };
            e.check_run
                .pull_requests
                .iter()
                .filter_map(|p| {
                    Some(GateTarget {
                        repo: RepoName::parse(&e.repository.full_name)?,
                        number: p.number,
                        gates: vec![gate],
                        force: true,
                    })
                })
                .collect()
        }
        Event::PullRequestReview(e)
            if matches!(e.action.as_str(), "submitted" | "edited" | "dismissed")
                && e.pull_request.state != "closed" =>
        {
            RepoName::parse(&e.repository.full_name)
                .map(|repo| GateTarget {
                    repo,
                    number: e.pull_request.number,
                    gates: vec![Gate::Reviews],
                    force: true,
                })
                .into_iter()
                .collect()
        }
        _ => Vec::new(),
    }
}

/// Runs `target`'s gates under the PR lock on one fresh PR read. Every
/// gate runs even if an earlier one failed; the first error is returned.
pub async fn run(
    gh: &dyn GitHub,
    ctx: &PipelineContext,
    target: &GateTarget,
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let _guard = pr_lock(ctx, &target.repo, target.number).await;
    let pr = gh
        .get_pull(&target.repo, target.number)
        .await
        .context("reading the pull request")?;
    if pr.state == "closed" {
        tracing::info!(pr = pr.number, "pull request is closed; not evaluated");
        return Ok(());
    }
    let snap = PrSnapshot::new(target.repo.clone(), pr);
    let mut first_err = None;
    for gate in &target.gates {
        let r = match gate {
            Gate::Manifests => pull_request::run_with(gh, ctx, &snap, target.force).await,
            Gate::Reviews => reviews::run_with(gh, ctx, &snap, target.force).await,
            Gate::Signatures => signatures::run_with(gh, ctx, &snap, target.force).await,
        };
        if let Err(e) = r {
            tracing::error!(
                pr = target.number,
                check = gate.check_name(),
                error = format!("{e:#}"),
                "gate failed"
            );
            first_err.get_or_insert(e);
        }
    }
    first_err.map_or(Ok(()), Err)
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
            assert!(t[0].force);
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
