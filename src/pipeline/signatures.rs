//! `gitops-guard/signatures` for a pull request: every PR commit must carry
//! a signature GitHub verified, decided by the pure
//! [`engine::gates::signatures`](crate::engine::gates::signatures).
//!
//! The commit list comes from the shared [`PrSnapshot`]: the PR-commits
//! API with `commit.verification` on every entry, and the compare API for
//! PRs over 250 commits. A list shorter than GitHub's own commit count, or
//! an empty one, fails closed — commits are never silently left unchecked.
//!
//! The REST API does not name a signer. GitHub marks a signature verified
//! only when the key belongs to the account that owns the **committer**
//! email, so for `signatures.signer_is_author` the signer is the
//! committer's linked account; an unlinked committer leaves the signer
//! unknown and the engine fails the commit.
//!
//! With `signatures.required: false` the run succeeds without reading the
//! commits, and its title says signatures are not required.

use super::PipelineContext;
use super::gate::{GateSpec, run_gate};
use super::pull_request::BaseConfig;
use super::snapshot::PrSnapshot;
use crate::engine::gates::signatures::{self as engine, Commit, Verification};
use crate::engine::ids::CommitSha;
use crate::github::{CommitInfo, GitHub};
use crate::report::checkrun::{
    self, CheckRunOutput, Conclusion, MAX_SUMMARY_CHARS, MAX_TITLE_CHARS,
};

/// Check-run name (stable: branch protection requires it by name).
pub const SIGNATURES_CHECK: &str = "gitops-guard/signatures";

/// Writes `gitops-guard/signatures` for `snap` (the caller holds the PR lock).
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
            name: SIGNATURES_CHECK,
            force,
            evaluating: "Checking commit signatures…",
        },
        plan(gh, ctx, snap),
    )
    .await
}

/// Gathers, decides and renders the signatures check without writing it.
pub async fn plan(
    gh: &dyn GitHub,
    ctx: &PipelineContext,
    snap: &PrSnapshot,
) -> anyhow::Result<CheckRunOutput> {
    let base = snap.base_config(gh, ctx).await?;
    let config = match &*base {
        BaseConfig::Conclude(out) => return Ok(out.clone()),
        BaseConfig::Trusted(t) => &t.config.signatures,
    };
    if !config.required {
        let (_, summary) = engine::render_summary(&engine::evaluate(&[], config));
        return Ok(CheckRunOutput {
            conclusion: Conclusion::Success,
            title: "Signatures are not required (`signatures.required: false`)".into(),
            summary,
            text: None,
            annotations: Vec::new(),
        });
    }
    let commits = snap.commits(gh).await?;
    if commits.is_empty() {
        anyhow::bail!("GitHub listed no commits for this pull request");
    }
    let commits: Vec<Commit> = commits.iter().map(engine_commit).collect();
    let outcome = engine::evaluate(&commits, config);
    let (title, summary) = engine::render_summary(&outcome);
    Ok(CheckRunOutput {
        conclusion: if outcome.passed {
            Conclusion::Success
        } else {
            Conclusion::Failure
        },
        title: checkrun::truncate_chars(&title, MAX_TITLE_CHARS),
        summary: checkrun::truncate_with_note(&summary, MAX_SUMMARY_CHARS),
        text: None,
        annotations: Vec::new(),
    })
}

fn engine_commit(c: &CommitInfo) -> Commit {
    let author = c.commit.author.as_ref();
    let committer_login = c.committer.as_ref().map(|u| u.login.clone());
    Commit {
        sha: CommitSha::new(c.sha.clone()),
        author_login: c.author.as_ref().map(|u| u.login.clone()),
        author_name: author.and_then(|a| a.name.clone()),
        author_email: author.and_then(|a| a.email.clone()),
        committer_login: committer_login.clone(),
        verification: c.commit.verification.as_ref().map(|v| Verification {
            verified: v.verified,
            reason: v.reason.clone(),
            signer: if v.verified { committer_login } else { None },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::{GitCommit, UserRef};

    #[test]
    fn signer_is_the_committer_only_when_verified() {
        let mut c = CommitInfo {
            sha: "abc".into(),
            commit: GitCommit {
                verification: Some(crate::github::Verification {
                    verified: true,
                    reason: "valid".into(),
                }),
                ..Default::default()
            },
            author: Some(UserRef {
                login: "alice".into(),
            }),
            committer: Some(UserRef {
                login: "web-flow".into(),
            }),
            parents: Vec::new(),
        };
        let e = engine_commit(&c);
        assert_eq!(e.verification.unwrap().signer.as_deref(), Some("web-flow"));
        c.commit.verification.as_mut().unwrap().verified = false;
        assert_eq!(engine_commit(&c).verification.unwrap().signer, None);
        c.commit.verification = None;
        assert!(engine_commit(&c).verification.is_none());
    }
}
