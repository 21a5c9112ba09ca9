//! The optional rollback pull request (`push.alert.revert_pr: true`).
//!
//! Exactly what the alert's copy-paste commands do, through the git data
//! API: a new commit whose tree is the last trusted commit's tree (`good`,
//! the push's `before`) with the current head as parent, on branch
//! `gitops-guard/revert-<sha>`, and a PR of it into the protected branch.
//! The PR goes through the same review gates as any other; nothing is
//! force-pushed and the protected branch is never written directly.
//!
//! It needs `contents: write` and `pull_requests: write`, which is why it
//! is off by default: with it, a stolen App key can push branches (not to
//! protected ones, which still need reviews) — see the README section "Security alerts".

use anyhow::Context as _;

use crate::engine::ids::{CommitSha, RepoName};
use crate::github::{GitHub, GitHubError, NewGitCommit, NewPull};

/// What to restore.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevertPlan {
    /// Repository.
    pub repo: RepoName,
    /// Protected branch to restore (the PR's base).
    pub branch: String,
    /// Last trusted commit (the push's `before`): its tree is restored.
    pub good: CommitSha,
    /// Current head (the push's `after`): the rollback commit's parent.
    pub head: CommitSha,
    /// Branch to create (`gitops-guard/revert-<short sha>`, from the alert).
    pub revert_branch: String,
    /// Why, for the commit message and PR body (e.g. the alert title).
    pub reason: String,
}

/// Opens the rollback PR and returns its URL. If the branch already exists
/// (a redelivery of the same push), the PR is not opened a second time.
pub async fn open(gh: &dyn GitHub, plan: &RevertPlan) -> anyhow::Result<Option<String>> {
    let good = gh
        .get_commit(&plan.repo, plan.good.as_str())
        .await
        .context("reading the last trusted commit")?;
    let tree = good
        .commit
        .tree
        .map(|t| t.sha)
        .filter(|s| !s.is_empty())
        .context("GitHub did not return the last trusted commit's tree")?;
    let message = format!(
        "Restore {} to {}\n\n{}\n\nOpened by gitops-guard: this commit's tree is the tree of {} (the last trusted state).",
        plan.branch,
        plan.good.short(),
        plan.reason,
        plan.good
    );
    let sha = gh
        .create_git_commit(
            &plan.repo,
            &NewGitCommit {
                message,
                tree,
                parents: vec![plan.head.to_string()],
            },
        )
        .await
        .context("creating the rollback commit")?;
    match gh
        .create_branch(&plan.repo, &plan.revert_branch, &sha)
        .await
    {
        Ok(()) => {}
        // 422 "Reference already exists": an earlier delivery of this push
        // already opened the rollback; do not open a second PR.
        Err(GitHubError::Other {
            status: Some(422), ..
        }) => {
            tracing::info!(branch = %plan.revert_branch, "rollback branch already exists");
            return Ok(None);
        }
        Err(e) => return Err(e).context("creating the rollback branch"),
    }
    let pr = gh
        .create_pull(
            &plan.repo,
            &NewPull {
                title: format!("Restore {} to {}", plan.branch, plan.good.short()),
                head: plan.revert_branch.clone(),
                base: plan.branch.clone(),
                body: format!(
                    "gitops-guard opened this pull request in response to a security alert:\n\n> {}\n\nMerging it restores `{}` to the tree of `{}` (the state before the push) on top of the current head `{}`. It needs the usual reviews. Close it if the push was legitimate.",
                    plan.reason.replace('\n', " "),
                    plan.branch,
                    plan.good,
                    plan.head
                ),
            },
        )
        .await
        .context("opening the rollback pull request")?;
    Ok(Some(pr.html_url))
}
