//! One pull request as seen by one delivery: the PR read once, and the
//! data several check runs share (changed files, commits, the trusted base
//! config) fetched lazily at most once — **errors included**, so a GitHub
//! outage costs one bounded round of retries per delivery, not one per
//! check run, and every run reports the same reason.
//!
//! A snapshot lives only while the per-PR lock is held; nothing mutable
//! (reviews, PR state) outlives it. Immutable objects (trees, blobs by SHA)
//! are cached across deliveries in [`PipelineContext`].

use std::fmt;
use std::sync::Arc;

use tokio::sync::OnceCell;

use sha2::{Digest as _, Sha256};

use super::PipelineContext;
use super::pull_request::{
    BaseConfig, CONFIG_PATH, ORG_CONFIG_PATH, ORG_CONFIG_REPO, org_config, tree, trusted_config,
};
use crate::engine::gates::codeowners::LOCATIONS;
use crate::engine::ids::RepoName;
use crate::engine::pushes::is_protected_branch;
use crate::github::{CommitInfo, GitHub, GitHubError, PrFile, PullRequestInfo, ReviewInfo};

/// An error shared by every check run of a delivery. Displays like the
/// original (with its context chain); [`github_error`] sees through it.
#[derive(Clone, Debug)]
pub struct SharedError(pub Arc<anyhow::Error>);

impl fmt::Display for SharedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for SharedError {}

/// The [`GitHubError`] behind `e`, if any (directly, as context, or inside
/// a [`SharedError`]).
pub fn github_error(e: &anyhow::Error) -> Option<&GitHubError> {
    e.downcast_ref::<GitHubError>().or_else(|| {
        e.downcast_ref::<SharedError>()
            .and_then(|s| s.0.downcast_ref::<GitHubError>())
    })
}

type Memo<T> = OnceCell<Result<Arc<T>, SharedError>>;

/// A PR read once, with lazily fetched, memoised shared data.
pub struct PrSnapshot {
    /// Repository.
    pub repo: RepoName,
    /// The PR as read at the start of this delivery's work.
    pub pr: PullRequestInfo,
    base: Memo<BaseConfig>,
    files: Memo<Vec<PrFile>>,
    commits: Memo<Vec<CommitInfo>>,
    reviews: Memo<Vec<ReviewInfo>>,
    base_facts: Memo<BaseFacts>,
}

/// What a PR's base contributes to every verdict on it, read from the base
/// commit's tree (cached by SHA) and the organisation default (cached with
/// a TTL): enough to tell a deployment branch and to key a verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseFacts {
    /// The base is a deployment branch: its tree holds the repository
    /// config, or the organisation default's `push.branches` matches it.
    /// Unknown (an unreadable org default, a truncated tree, `branches: []`
    /// whose default branch we cannot see) counts as a deployment branch,
    /// so a doubt never makes a PR's verdict disappear.
    pub deployment: bool,
    /// Blob SHA of the repository config at the base, if any.
    pub config_blob: Option<String>,
    /// Blob SHA of the CODEOWNERS file GitHub uses at the base, if any.
    pub codeowners_blob: Option<String>,
    /// SHA-256 (hex) of the organisation default's text, if any.
    pub org_config_digest: Option<String>,
}

async fn memo<T, F>(cell: &Memo<T>, f: F) -> anyhow::Result<Arc<T>>
where
    F: std::future::Future<Output = anyhow::Result<T>>,
{
    let r = cell
        .get_or_init(|| async { f.await.map(Arc::new).map_err(|e| SharedError(Arc::new(e))) })
        .await;
    r.clone().map_err(anyhow::Error::new)
}

impl PrSnapshot {
    /// A snapshot of `pr` in `repo`.
    pub fn new(repo: RepoName, pr: PullRequestInfo) -> Self {
        Self {
            repo,
            pr,
            base: OnceCell::new(),
            files: OnceCell::new(),
            commits: OnceCell::new(),
            reviews: OnceCell::new(),
            base_facts: OnceCell::new(),
        }
    }

    /// The PR's reviews, all pages, chronological (read once per delivery;
    /// the verdict key and the reviews gate see the same list).
    pub async fn reviews(&self, gh: &dyn GitHub) -> anyhow::Result<Arc<Vec<ReviewInfo>>> {
        memo(&self.reviews, async {
            gh.list_reviews(&self.repo, self.pr.number)
                .await
                .map_err(|e| anyhow::Error::new(e).context("listing reviews"))
        })
        .await
    }

    /// See [`BaseFacts`].
    pub async fn base_facts(
        &self,
        gh: &dyn GitHub,
        ctx: &PipelineContext,
    ) -> anyhow::Result<Arc<BaseFacts>> {
        memo(&self.base_facts, async {
            let base_tree = tree(gh, ctx, &self.repo, &self.pr.base.sha)
                .await
                .map_err(|e| e.context("reading the base commit's tree"))?;
            let org = org_config(gh, ctx, self.repo.owner()).await?;
            let config_blob = base_tree.blob(CONFIG_PATH).map(|e| e.sha.clone());
            let codeowners_blob = LOCATIONS
                .iter()
                .find_map(|l| base_tree.blob(l))
                .map(|e| e.sha.clone());
            let deployment = base_tree.truncated
                || config_blob.is_some()
                || org
                    .as_deref()
                    .is_some_and(|text| org_matches(self.repo.owner(), text, &self.pr.base.ref_));
            Ok(BaseFacts {
                deployment,
                config_blob,
                codeowners_blob,
                org_config_digest: org.as_deref().map(|t| hex::encode(Sha256::digest(t))),
            })
        })
        .await
    }

    /// A snapshot whose changed files are already known (a merge group's
    /// base→head diff, which no pull request lists).
    pub fn with_files(repo: RepoName, pr: PullRequestInfo, files: Vec<PrFile>) -> Self {
        Self {
            files: OnceCell::new_with(Some(Ok(Arc::new(files)))),
            ..Self::new(repo, pr)
        }
    }

    /// The trusted config from the base commit (or the organisation
    /// default), or the output that ends every run (not a deployment
    /// repository, config error).
    pub async fn base_config(
        &self,
        gh: &dyn GitHub,
        ctx: &PipelineContext,
    ) -> anyhow::Result<Arc<BaseConfig>> {
        memo(&self.base, trusted_config(gh, ctx, &self.repo, &self.pr)).await
    }

    /// All changed files (fails closed past GitHub's 3,000).
    pub async fn files(&self, gh: &dyn GitHub) -> anyhow::Result<Arc<Vec<PrFile>>> {
        memo(&self.files, async {
            gh.list_pull_files(&self.repo, &self.pr)
                .await
                .map_err(|e| anyhow::Error::new(e).context("listing changed files"))
        })
        .await
    }

    /// All PR commits with verification (past 250 through compare; never
    /// truncated: a longer PR fails closed).
    pub async fn commits(&self, gh: &dyn GitHub) -> anyhow::Result<Arc<Vec<CommitInfo>>> {
        memo(&self.commits, async {
            let commits = gh
                .list_pull_commits(&self.repo, &self.pr)
                .await
                .map_err(|e| anyhow::Error::new(e).context("listing the PR's commits"))?;
            // GitHub's own count is the contract: a list that came back
            // shorter than it would leave commits unchecked.
            if (commits.len() as u64) < self.pr.commits {
                anyhow::bail!(GitHubError::Limit(format!(
                    "GitHub reports {} commits in PR #{} but listed only {}; \
                     refusing to judge a partial list",
                    self.pr.commits,
                    self.pr.number,
                    commits.len()
                )));
            }
            Ok(commits)
        })
        .await
    }
}

/// Does the organisation default (`text`) make `branch` a deployment
/// branch through its `push.branches`? An org default that does not parse
/// counts as matching: the PR is then judged, and its runs report the
/// config error, instead of the PR being ignored.
fn org_matches(owner: &str, text: &str, branch: &str) -> bool {
    let source = format!("{owner}/{ORG_CONFIG_REPO}/{ORG_CONFIG_PATH}");
    match crate::engine::config::effective_config(Some((source.as_str(), text)), None) {
        // `branches: []` means "the default branch", which a PR does not
        // name; judging the PR is the safe reading.
        Ok(config) => {
            config.push.branches.is_empty() || is_protected_branch(&config.push, "", branch)
        }
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_default_deploys_only_the_branches_it_names() {
        assert!(org_matches("acme", "version: 1\n", "main"));
        assert!(!org_matches("acme", "version: 1\n", "sandbox"));
        let prod = "version: 1\npush:\n  branches: [\"prod/*\"]\n";
        assert!(org_matches("acme", prod, "prod/eu"));
        assert!(!org_matches("acme", prod, "main"));
        assert!(org_matches(
            "acme",
            "version: 1\npush:\n  branches: []\n",
            "x"
        ));
        assert!(
            org_matches("acme", "version: [", "sandbox"),
            "unreadable: judged"
        );
    }

    #[tokio::test]
    async fn errors_are_memoised_and_keep_their_github_cause() {
        let cell: Memo<u32> = OnceCell::new();
        let calls = std::sync::atomic::AtomicUsize::new(0);
        for _ in 0..3 {
            let e = memo(&cell, async {
                calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Err::<u32, _>(
                    anyhow::Error::new(GitHubError::Limit("too big".into())).context("listing"),
                )
            })
            .await
            .unwrap_err();
            assert!(matches!(github_error(&e), Some(GitHubError::Limit(_))));
            assert_eq!(format!("{e:#}"), "listing: too big");
        }
        assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 1);
        let plain = anyhow::anyhow!("no github here");
        assert!(github_error(&plain).is_none());
    }
}
