//! All GitHub I/O, behind one trait, [`GitHub`] (the test seam).
//!
//! [`client::RestClient`] implements it with octocrab raw requests and our
//! own response structs (below): only the fields we read, so a GitHub
//! schema addition never breaks decoding. [`auth`] owns the App JWT and
//! installation tokens. Pipelines get a `dyn GitHub` for an installation
//! from an [`Installations`] provider.
//!
//! The webhook payload types GitHub sends live here too ([`event`]), with
//! the client's [`retry`] policy and the [`metrics`] it emits.

pub mod app_manifest;
pub mod auth;
pub mod client;
pub mod error;
pub mod event;
pub mod hook_deliveries;
pub mod metrics;
pub mod retry;

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::engine::ids::RepoName;
pub use error::GitHubError;

/// Result of a GitHub call.
pub type GhResult<T> = Result<T, GitHubError>;

/// GitHub caps `GET /pulls/{n}/files` at 3,000 files.
pub const MAX_PR_FILES: usize = 3000;
/// `GET /pulls/{n}/commits` returns at most 250 commits.
pub const MAX_PR_COMMITS_LISTED: u64 = 250;
/// We page commits of a larger PR through compare up to this many.
pub const MAX_PR_COMMITS: usize = 10_000;
/// Annotations per check-run request (GitHub's limit).
pub const ANNOTATIONS_PER_REQUEST: usize = 50;
/// Most open PRs we page through to find the PRs sharing a head commit.
pub const MAX_OPEN_PULLS: usize = 5_000;

/// A login holder.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct UserRef {
    /// Login.
    pub login: String,
}

/// `head`/`base` of a PR.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct Side {
    /// Branch.
    #[serde(rename = "ref")]
    pub ref_: String,
    /// Commit SHA.
    pub sha: String,
}

/// `GET /repos/{o}/{r}/pulls/{n}`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct PullRequestInfo {
    /// Number.
    pub number: u64,
    /// `open` / `closed`.
    #[serde(default)]
    pub state: String,
    /// Draft.
    #[serde(default)]
    pub draft: bool,
    /// Author.
    #[serde(default)]
    pub user: Option<UserRef>,
    /// Head.
    pub head: Side,
    /// Base.
    pub base: Side,
    /// Commit count.
    #[serde(default)]
    pub commits: u64,
    /// Changed file count.
    #[serde(default)]
    pub changed_files: u64,
    /// Merge time.
    #[serde(default)]
    pub merged_at: Option<String>,
    /// Who merged it (GitHub also marks a PR merged, naming the pusher,
    /// when its head is pushed to the base by hand).
    #[serde(default)]
    pub merged_by: Option<UserRef>,
    /// The commit GitHub wrote to the base when it merged (merge, squash or
    /// last rebased commit; the head itself for a hand-pushed head).
    #[serde(default)]
    pub merge_commit_sha: Option<String>,
}

/// One entry of `GET /pulls/{n}/files`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct PrFile {
    /// Path at head.
    pub filename: String,
    /// `added|removed|modified|renamed|copied|changed|unchanged`.
    pub status: String,
    /// Blob SHA at head (at base for removed files).
    #[serde(default)]
    pub sha: Option<String>,
    /// Path at base for renames.
    #[serde(default)]
    pub previous_filename: Option<String>,
}

/// `commit.author` / `commit.committer`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct GitPerson {
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Date.
    #[serde(default)]
    pub date: Option<String>,
}

/// `commit.verification`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct Verification {
    /// Verified signature.
    #[serde(default)]
    pub verified: bool,
    /// GitHub's reason (`unsigned`, `valid`, `unknown_key`, …).
    #[serde(default)]
    pub reason: String,
}

/// The git part of a commit.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct GitCommit {
    /// Author identity.
    #[serde(default)]
    pub author: Option<GitPerson>,
    /// Committer identity.
    #[serde(default)]
    pub committer: Option<GitPerson>,
    /// Message.
    #[serde(default)]
    pub message: String,
    /// Signature verification.
    #[serde(default)]
    pub verification: Option<Verification>,
    /// The commit's tree (`GET /commits/{sha}` returns it; list endpoints too).
    #[serde(default)]
    pub tree: Option<ShaRef>,
}

/// A parent reference.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct ShaRef {
    /// SHA.
    pub sha: String,
}

/// A commit as the REST API lists it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct CommitInfo {
    /// SHA.
    pub sha: String,
    /// Git data.
    pub commit: GitCommit,
    /// GitHub account of the author (null when the email matches none).
    #[serde(default)]
    pub author: Option<UserRef>,
    /// GitHub account of the committer.
    #[serde(default)]
    pub committer: Option<UserRef>,
    /// Parents.
    #[serde(default)]
    pub parents: Vec<ShaRef>,
}

/// A PR review from `GET /pulls/{n}/reviews` (states upper-case).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct ReviewInfo {
    /// Id.
    pub id: u64,
    /// Reviewer (null for deleted accounts).
    #[serde(default)]
    pub user: Option<UserRef>,
    /// `APPROVED`, `CHANGES_REQUESTED`, `COMMENTED`, `DISMISSED`, `PENDING`.
    pub state: String,
    /// Commit reviewed.
    #[serde(default)]
    pub commit_id: Option<String>,
    /// Submission time.
    #[serde(default)]
    pub submitted_at: Option<String>,
    /// The reviewer's account type (`User`, `Bot`, …): `user.type` in
    /// GitHub's JSON, filled in by the client (the `user` field keeps only
    /// the login).
    #[serde(default)]
    pub user_type: Option<String>,
}

/// `GET /repos/{o}/{r}/collaborators/{user}/permission`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct RepoPermission {
    /// Legacy level: `admin`, `write`, `read` or `none` (maintain reads as
    /// write, triage as read; custom roles as their base role).
    #[serde(default)]
    pub permission: String,
    /// The role as named in the repository settings (`admin`, `maintain`,
    /// `write`, `triage`, `read`, or a custom role).
    #[serde(default)]
    pub role_name: Option<String>,
}

impl RepoPermission {
    /// Write, maintain or admin: what GitHub requires of an approver.
    pub fn can_write(&self) -> bool {
        // `permission` already folds maintain and custom roles into their
        // base level; the role name alone never grants anything.
        matches!(self.permission.as_str(), "admin" | "maintain" | "write")
    }

    /// The most specific name GitHub gave for the role.
    pub fn role(&self) -> &str {
        self.role_name
            .as_deref()
            .filter(|r| !r.is_empty())
            .unwrap_or(&self.permission)
    }
}

/// `permissions` of a repository as seen by a team.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct RepoPermissions {
    /// Admin.
    #[serde(default)]
    pub admin: bool,
    /// Maintain.
    #[serde(default)]
    pub maintain: bool,
    /// Write (GitHub calls it push).
    #[serde(default)]
    pub push: bool,
    /// Triage.
    #[serde(default)]
    pub triage: bool,
    /// Read (pull).
    #[serde(default)]
    pub pull: bool,
}

/// `GET /orgs/{org}/teams/{slug}/repos/{owner}/{repo}` with
/// `Accept: application/vnd.github.v3.repository+json`: the repository
/// with the team's permissions on it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct TeamRepoAccess {
    /// The team's permissions.
    #[serde(default)]
    pub permissions: Option<RepoPermissions>,
    /// The team's role on the repository.
    #[serde(default)]
    pub role_name: Option<String>,
}

impl TeamRepoAccess {
    /// Write, maintain or admin.
    pub fn can_write(&self) -> bool {
        self.permissions
            .as_ref()
            .is_some_and(|p| p.admin || p.maintain || p.push)
    }

    /// The role, as GitHub names it (derived from the flags when absent).
    pub fn role(&self) -> String {
        if let Some(r) = self.role_name.as_deref().filter(|r| !r.is_empty()) {
            return r.to_owned();
        }
        let p = self.permissions.clone().unwrap_or_default();
        match (p.admin, p.maintain, p.push, p.triage, p.pull) {
            (true, ..) => "admin",
            (_, true, ..) => "maintain",
            (_, _, true, ..) => "write",
            (_, _, _, true, _) => "triage",
            (_, _, _, _, true) => "read",
            _ => "none",
        }
        .to_owned()
    }
}

/// One entry of `GET /repos/{o}/{r}/issues/{n}/timeline` (only the fields
/// we read; `event` names what happened, e.g. `base_ref_changed`).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct TimelineEvent {
    /// Event type.
    #[serde(default)]
    pub event: String,
    /// When (RFC 3339); some timeline entries (commits) carry none.
    #[serde(default)]
    pub created_at: Option<String>,
}

/// One tree entry.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct TreeEntry {
    /// Path from the root.
    pub path: String,
    /// File mode (`100644`, `120000` symlink, `160000` submodule).
    #[serde(default)]
    pub mode: String,
    /// `blob`, `tree`, `commit`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Object SHA.
    pub sha: String,
    /// Blob size.
    #[serde(default)]
    pub size: Option<u64>,
}

/// `GET /git/trees/{sha}?recursive=1`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct Tree {
    /// Tree SHA.
    #[serde(default)]
    pub sha: String,
    /// Entries.
    pub tree: Vec<TreeEntry>,
    /// GitHub stopped listing (over 100,000 entries or 7 MB).
    #[serde(default)]
    pub truncated: bool,
}

impl Tree {
    /// The blob entry at `path`, if any.
    pub fn blob(&self, path: &str) -> Option<&TreeEntry> {
        self.tree
            .iter()
            .find(|e| e.kind == "blob" && e.path == path)
    }
}

/// One check-run annotation, as GitHub takes and returns it (GitHub's field
/// names). `report::checkrun` renders its own annotation type (`report`
/// knows nothing of GitHub's wire format); the pipeline converts.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Annotation {
    /// Repository-relative path.
    pub path: String,
    /// 1-based start line.
    pub start_line: u32,
    /// 1-based end line.
    pub end_line: u32,
    /// Level.
    pub annotation_level: AnnotationLevel,
    /// Rule id.
    #[serde(default)]
    pub title: Option<String>,
    /// Explanation.
    pub message: String,
}

/// `annotation_level`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnnotationLevel {
    /// Notice.
    Notice,
    /// Warning.
    Warning,
    /// Failure.
    Failure,
}

/// `output` of a check run we send.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct CheckRunOutputBody {
    /// Title.
    pub title: String,
    /// Markdown summary (≤ 65535 chars).
    pub summary: String,
    /// Details (≤ 65535 chars).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// At most 50 annotations; GitHub appends them to the run.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub annotations: Vec<Annotation>,
}

/// `POST /repos/{o}/{r}/check-runs`.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct NewCheckRun {
    /// Name (stable; branch protection requires it).
    pub name: String,
    /// Head SHA.
    pub head_sha: String,
    /// `queued`, `in_progress`, `completed`.
    pub status: String,
    /// Our id for the run (idempotency).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Start time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// Output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<CheckRunOutputBody>,
}

/// `PATCH /repos/{o}/{r}/check-runs/{id}`.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct CheckRunUpdate {
    /// New status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Conclusion (forces `completed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conclusion: Option<String>,
    /// Completion time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    /// Our id for the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Output (annotations appended).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<CheckRunOutputBody>,
}

/// `output` of a check run as GitHub returns it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct CheckRunOutputInfo {
    /// Title.
    #[serde(default)]
    pub title: Option<String>,
    /// Annotation count.
    #[serde(default)]
    pub annotations_count: u64,
}

/// An app reference.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct AppRef {
    /// App id.
    pub id: u64,
}

/// A check run as GitHub returns it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct CheckRunInfo {
    /// Id.
    pub id: u64,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Head SHA.
    #[serde(default)]
    pub head_sha: String,
    /// Status.
    #[serde(default)]
    pub status: String,
    /// Conclusion.
    #[serde(default)]
    pub conclusion: Option<String>,
    /// Our external id.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Output summary.
    #[serde(default)]
    pub output: Option<CheckRunOutputInfo>,
    /// Owning app.
    #[serde(default)]
    pub app: Option<AppRef>,
}

/// Team or organisation membership (`state`: `active`/`pending`).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct Membership {
    /// `active` or `pending`.
    #[serde(default)]
    pub state: String,
    /// `member`/`maintainer` (teams) or `admin`/`member` (orgs).
    #[serde(default)]
    pub role: String,
}

impl Membership {
    /// Active (pending invitations do not count).
    pub fn is_active(&self) -> bool {
        self.state == "active"
    }
}

/// A PR as listed for a commit.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct PullSummary {
    /// Number.
    pub number: u64,
    /// `open`/`closed`.
    #[serde(default)]
    pub state: String,
    /// Merge time (merged PRs).
    #[serde(default)]
    pub merged_at: Option<String>,
    /// Base.
    #[serde(default)]
    pub base: Option<Side>,
    /// Head.
    #[serde(default)]
    pub head: Option<Side>,
    /// Merge commit SHA.
    #[serde(default)]
    pub merge_commit_sha: Option<String>,
}

/// A label.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct Label {
    /// Name.
    pub name: String,
}

/// An issue.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct IssueInfo {
    /// Number.
    pub number: u64,
    /// Title.
    #[serde(default)]
    pub title: String,
    /// Body.
    #[serde(default)]
    pub body: Option<String>,
    /// `open`/`closed`.
    #[serde(default)]
    pub state: String,
    /// Web URL.
    #[serde(default)]
    pub html_url: String,
    /// Labels.
    #[serde(default)]
    pub labels: Vec<Label>,
}

/// `POST /repos/{o}/{r}/issues`.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct NewIssue {
    /// Title.
    pub title: String,
    /// Markdown body (include the fingerprint marker for dedupe).
    pub body: String,
    /// Labels.
    pub labels: Vec<String>,
}

/// A changed file in a comparison.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct CompareFile {
    /// Path.
    pub filename: String,
    /// Status.
    #[serde(default)]
    pub status: String,
    /// Previous path for renames.
    #[serde(default)]
    pub previous_filename: Option<String>,
}

/// `GET /compare/{base}...{head}` (all commit pages merged).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct Comparison {
    /// `ahead`, `behind`, `diverged`, `identical`.
    #[serde(default)]
    pub status: String,
    /// Commits head is ahead.
    #[serde(default)]
    pub ahead_by: u64,
    /// Commits head is behind (non-zero after a force-push).
    #[serde(default)]
    pub behind_by: u64,
    /// Commit count.
    #[serde(default)]
    pub total_commits: u64,
    /// Commits, chronological.
    #[serde(default)]
    pub commits: Vec<CommitInfo>,
    /// Files (first page only; at most 300).
    #[serde(default)]
    pub files: Vec<CompareFile>,
}

/// `POST /repos/{o}/{r}/git/commits`.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct NewGitCommit {
    /// Message.
    pub message: String,
    /// Tree SHA.
    pub tree: String,
    /// Parent SHAs.
    pub parents: Vec<String>,
}

/// `POST /repos/{o}/{r}/pulls`.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct NewPull {
    /// Title.
    pub title: String,
    /// Head branch.
    pub head: String,
    /// Base branch.
    pub base: String,
    /// Markdown body.
    pub body: String,
}

/// A created pull request (number and web link).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct CreatedPull {
    /// Number.
    pub number: u64,
    /// Web URL.
    #[serde(default)]
    pub html_url: String,
}

/// Where a ruleset lives: repository rulesets and organisation rulesets
/// have the same shape but different REST paths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RulesetScope<'a> {
    /// `/repos/{owner}/{repo}/rulesets/…`.
    Repo(&'a RepoName),
    /// `/orgs/{org}/rulesets/…`.
    Org(&'a str),
}

/// One entry of a ruleset's history (`GET …/rulesets/{id}/history`),
/// newest first.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct RulesetVersion {
    /// Version id (`…/history/{version_id}` returns its `state`).
    pub version_id: u64,
    /// When this version was saved (RFC 3339).
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// A repository the installation can access (`GET /installation/repositories`).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct InstalledRepo {
    /// Repository id.
    pub id: u64,
    /// `owner/name`.
    pub full_name: String,
    /// Default branch.
    #[serde(default)]
    pub default_branch: Option<String>,
}

/// Every GitHub operation the pipelines need, for one installation.
#[async_trait]
pub trait GitHub: Send + Sync {
    /// `GET /repos/{o}/{r}/pulls/{n}`.
    async fn get_pull(&self, repo: &RepoName, number: u64) -> GhResult<PullRequestInfo>;
    /// All changed files; fails closed ([`GitHubError::Limit`]) beyond
    /// GitHub's 3,000-file cap instead of evaluating a partial list.
    async fn list_pull_files(&self, repo: &RepoName, pr: &PullRequestInfo)
    -> GhResult<Vec<PrFile>>;
    /// All commits of a PR (the compare API beyond 250).
    async fn list_pull_commits(
        &self,
        repo: &RepoName,
        pr: &PullRequestInfo,
    ) -> GhResult<Vec<CommitInfo>>;
    /// All reviews, chronological.
    async fn list_reviews(&self, repo: &RepoName, number: u64) -> GhResult<Vec<ReviewInfo>>;
    /// Recursive tree of a commit or tree SHA.
    async fn get_tree(&self, repo: &RepoName, sha: &str) -> GhResult<Tree>;
    /// Blob bytes by SHA.
    async fn get_blob(&self, repo: &RepoName, sha: &str) -> GhResult<Vec<u8>>;
    /// A file at a ref (`None` if absent).
    async fn get_file(
        &self,
        repo: &RepoName,
        path: &str,
        git_ref: &str,
    ) -> GhResult<Option<Vec<u8>>>;
    /// One commit (with verification).
    async fn get_commit(&self, repo: &RepoName, sha: &str) -> GhResult<CommitInfo>;
    /// The latest run named `name` on `head_sha` created by this App.
    async fn find_check_run(
        &self,
        repo: &RepoName,
        head_sha: &str,
        name: &str,
    ) -> GhResult<Option<CheckRunInfo>>;
    /// Creates a check run.
    async fn create_check_run(&self, repo: &RepoName, run: &NewCheckRun) -> GhResult<CheckRunInfo>;
    /// Updates a check run (annotations are appended by GitHub).
    async fn update_check_run(
        &self,
        repo: &RepoName,
        id: u64,
        update: &CheckRunUpdate,
    ) -> GhResult<CheckRunInfo>;
    /// Annotations already on a run (to avoid re-sending them).
    async fn list_annotations(&self, repo: &RepoName, id: u64) -> GhResult<Vec<Annotation>>;
    /// Team membership; `None` for 404 (not a member).
    async fn team_membership(
        &self,
        org: &str,
        team_slug: &str,
        user: &str,
    ) -> GhResult<Option<Membership>>;
    /// Organisation membership; `None` for 404.
    async fn org_membership(&self, org: &str, user: &str) -> GhResult<Option<Membership>>;
    /// PRs associated with a commit.
    async fn commit_pulls(&self, repo: &RepoName, sha: &str) -> GhResult<Vec<PullSummary>>;
    /// Every open PR of the repository (`GET /pulls?state=open`, all pages,
    /// forks included); fails closed ([`GitHubError::Limit`]) past
    /// [`MAX_OPEN_PULLS`] instead of returning a partial list.
    async fn list_open_pulls(&self, repo: &RepoName) -> GhResult<Vec<PullSummary>>;
    /// Opens an issue.
    async fn create_issue(&self, repo: &RepoName, issue: &NewIssue) -> GhResult<IssueInfo>;
    /// Comments on an issue.
    async fn comment_issue(&self, repo: &RepoName, number: u64, body: &str) -> GhResult<()>;
    /// The open issue with `label` whose body contains `fingerprint`.
    async fn find_open_issue(
        &self,
        repo: &RepoName,
        label: &str,
        fingerprint: &str,
    ) -> GhResult<Option<IssueInfo>>;
    /// Compares two commits (all commit pages).
    async fn compare(&self, repo: &RepoName, base: &str, head: &str) -> GhResult<Comparison>;
    /// Compares two commits, listing at most `max_commits` commits: beyond
    /// that (GitHub's `total_commits` says so on the first page) it fails
    /// with [`GitHubError::Limit`] without reading further pages. The push
    /// alerts judge a ref movement by it. The default pages through
    /// [`GitHub::compare`]; the REST client stops early.
    async fn compare_commits(
        &self,
        repo: &RepoName,
        base: &str,
        head: &str,
        max_commits: usize,
    ) -> GhResult<Comparison> {
        let c = self.compare(repo, base, head).await?;
        if c.total_commits as usize > max_commits || c.commits.len() > max_commits {
            return Err(GitHubError::Limit(format!(
                "comparison {base}...{head} has {} commits, more than {max_commits}",
                c.total_commits.max(c.commits.len() as u64)
            )));
        }
        Ok(c)
    }
    /// The id of the App these calls act as, when known (installation and
    /// App credentials). Push alerts accept a check-run verdict only when
    /// the run's `app.id` is this id; `None` (a plain token) proves nothing.
    fn app_id(&self) -> Option<u64> {
        None
    }
    /// A ruleset's history, newest first (first page: the protection
    /// alerts need only the versions around one edit).
    async fn ruleset_history(
        &self,
        scope: RulesetScope<'_>,
        id: u64,
    ) -> GhResult<Vec<RulesetVersion>>;
    /// The ruleset as it was at `version_id` (the history entry's `state`).
    async fn ruleset_version(
        &self,
        scope: RulesetScope<'_>,
        id: u64,
        version_id: u64,
    ) -> GhResult<serde_json::Value>;
    /// The repositories this installation can access, up to `max`;
    /// `Limit` beyond it.
    async fn installation_repositories(&self, max: usize) -> GhResult<Vec<InstalledRepo>>;
    /// Creates a commit object (git data API); returns its SHA. Used only
    /// by the opt-in rollback PR (`push.alert.revert_pr`). The default
    /// refuses, so test doubles need not implement write paths they skip.
    async fn create_git_commit(&self, repo: &RepoName, commit: &NewGitCommit) -> GhResult<String> {
        let _ = (repo, commit);
        Err(GitHubError::other("creating commits is not supported"))
    }
    /// Creates `refs/heads/{branch}` at `sha`.
    async fn create_branch(&self, repo: &RepoName, branch: &str, sha: &str) -> GhResult<()> {
        let _ = (repo, branch, sha);
        Err(GitHubError::other("creating branches is not supported"))
    }
    /// Opens a pull request.
    async fn create_pull(&self, repo: &RepoName, pull: &NewPull) -> GhResult<CreatedPull> {
        let _ = (repo, pull);
        Err(GitHubError::other("opening pull requests is not supported"))
    }
    /// A user's permission on a repository; `None` for 404 (no such user,
    /// or GitHub will not say: no access). The default refuses, so a test
    /// double that does not model permissions fails closed.
    async fn collaborator_permission(
        &self,
        repo: &RepoName,
        user: &str,
    ) -> GhResult<Option<RepoPermission>> {
        let _ = (repo, user);
        Err(GitHubError::other("permission lookups are not supported"))
    }
    /// A team's permission on a repository; `None` for 404 (the team has
    /// no access, or does not exist). Defaults to refusing (fail closed).
    async fn team_repo_permission(
        &self,
        org: &str,
        team_slug: &str,
        repo: &RepoName,
    ) -> GhResult<Option<TeamRepoAccess>> {
        let _ = (org, team_slug, repo);
        Err(GitHubError::other(
            "team permission lookups are not supported",
        ))
    }
    /// Every timeline event of an issue or pull request, oldest first.
    /// Defaults to refusing (fail closed).
    async fn list_timeline(&self, repo: &RepoName, number: u64) -> GhResult<Vec<TimelineEvent>> {
        let _ = (repo, number);
        Err(GitHubError::other("timelines are not supported"))
    }
}

/// Hands out a [`GitHub`] acting as one installation.
pub trait Installations: Send + Sync {
    /// The client for `installation_id` (cheap; tokens are fetched lazily).
    fn installation(&self, installation_id: u64) -> Arc<dyn GitHub>;
}
