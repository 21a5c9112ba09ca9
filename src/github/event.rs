//! Our own serde structs for the webhook payload fields we use
//! (octocrab's webhook models have gaps, octocrab#810). Unknown fields are
//! ignored and every field a real payload may omit is optional or
//! defaulted, so a new GitHub field never breaks decoding.
//!
//! Reference: docs.github.com/webhooks/webhook-events-and-payloads and the
//! octokit/webhooks schemas (fixtures under `shared/fixtures/github/`).

use serde::Deserialize;

/// `merge_group` object: a temporary branch GitHub's merge queue built by
/// merging the queued pull requests onto the base branch.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct MergeGroup {
    /// The commit the required checks must pass on.
    pub head_sha: String,
    /// `refs/heads/gh-readonly-queue/<base>/pr-<N>-<sha>`.
    pub head_ref: String,
    /// The base branch's commit the group was built on.
    pub base_sha: String,
    /// `refs/heads/<base>`.
    #[serde(default)]
    pub base_ref: String,
}

/// `merge_group` event.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct MergeGroupEvent {
    /// `checks_requested` (run the checks) or `destroyed`.
    pub action: String,
    /// The group.
    pub merge_group: MergeGroup,
    /// Repository.
    pub repository: Repository,
    /// Installation.
    #[serde(default)]
    pub installation: Option<InstallationRef>,
}

/// A GitHub user or organisation, as embedded in payloads.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct Account {
    /// Login.
    #[serde(default)]
    pub login: String,
    /// Numeric id.
    #[serde(default)]
    pub id: u64,
    /// `User`, `Organization` or `Bot`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

/// The repository a delivery is about.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct Repository {
    /// Numeric id.
    pub id: u64,
    /// Short name.
    pub name: String,
    /// `owner/name`.
    pub full_name: String,
    /// Owner account.
    pub owner: Account,
    /// Default branch (absent in some embedded copies).
    #[serde(default)]
    pub default_branch: Option<String>,
    /// Private repository.
    #[serde(default)]
    pub private: bool,
}

/// `installation` on App deliveries (`{id, node_id}`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct InstallationRef {
    /// Installation id: which token to act with.
    pub id: u64,
}

/// One side (`head` / `base`) of a pull request.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct PrSide {
    /// Branch name.
    #[serde(rename = "ref")]
    pub ref_: String,
    /// Commit SHA.
    pub sha: String,
    /// The repository the branch lives in (`None` for a deleted fork).
    #[serde(default)]
    pub repo: Option<PrSideRepo>,
}

/// The minimal repository embedded in PR sides (check_run/check_suite
/// payloads carry only `id`, `url`, `name`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct PrSideRepo {
    /// Numeric id.
    pub id: u64,
    /// Short name.
    #[serde(default)]
    pub name: String,
}

/// `pull_request` object in a payload.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct PullRequest {
    /// PR number.
    pub number: u64,
    /// `open` or `closed`.
    #[serde(default)]
    pub state: String,
    /// Draft PR.
    #[serde(default)]
    pub draft: bool,
    /// Author.
    #[serde(default)]
    pub user: Option<Account>,
    /// Head side.
    pub head: PrSide,
    /// Base side.
    pub base: PrSide,
    /// Merged (closed events).
    #[serde(default)]
    pub merged: Option<bool>,
}

/// `changes.base` of `pull_request.edited`: present when the base branch
/// was retargeted, which changes the trusted config and the diff.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct PrChanges {
    /// Base change, if any.
    #[serde(default)]
    pub base: Option<serde_json::Value>,
}

/// `pull_request` event.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct PullRequestEvent {
    /// `opened`, `synchronize`, …
    pub action: String,
    /// PR number.
    pub number: u64,
    /// The PR.
    pub pull_request: PullRequest,
    /// Repository.
    pub repository: Repository,
    /// Installation (App deliveries).
    #[serde(default)]
    pub installation: Option<InstallationRef>,
    /// Present on `edited`.
    #[serde(default)]
    pub changes: Option<PrChanges>,
    /// Head before a `synchronize`.
    #[serde(default)]
    pub before: Option<String>,
    /// Head after a `synchronize`.
    #[serde(default)]
    pub after: Option<String>,
    /// Who triggered it.
    #[serde(default)]
    pub sender: Option<Account>,
}

/// `review` in a `pull_request_review` event. Webhook states are
/// lower-case (`approved`), the REST list is upper-case.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct Review {
    /// Review id.
    pub id: u64,
    /// Reviewer (null for deleted accounts).
    #[serde(default)]
    pub user: Option<Account>,
    /// `approved`, `changes_requested`, `commented`, `dismissed`.
    pub state: String,
    /// Commit the review was made on.
    #[serde(default)]
    pub commit_id: Option<String>,
    /// Submission time (RFC 3339).
    #[serde(default)]
    pub submitted_at: Option<String>,
}

/// `pull_request_review` event.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct PullRequestReviewEvent {
    /// `submitted`, `edited`, `dismissed`.
    pub action: String,
    /// The review.
    pub review: Review,
    /// The PR (simple form).
    pub pull_request: PullRequest,
    /// Repository.
    pub repository: Repository,
    /// Installation.
    #[serde(default)]
    pub installation: Option<InstallationRef>,
}

/// A PR reference inside check_suite/check_run payloads.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct PrRef {
    /// PR number.
    pub number: u64,
    /// Head side.
    pub head: PrSide,
    /// Base side.
    pub base: PrSide,
}

/// `check_suite` object.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct CheckSuite {
    /// Suite id.
    pub id: u64,
    /// Head SHA.
    pub head_sha: String,
    /// Head branch (null for fork pushes).
    #[serde(default)]
    pub head_branch: Option<String>,
    /// PRs in this repository whose head is this SHA (empty for forks).
    #[serde(default)]
    pub pull_requests: Vec<PrRef>,
}

/// `check_suite` event.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct CheckSuiteEvent {
    /// `requested`, `rerequested`, `completed`.
    pub action: String,
    /// The suite.
    pub check_suite: CheckSuite,
    /// Repository.
    pub repository: Repository,
    /// Installation.
    #[serde(default)]
    pub installation: Option<InstallationRef>,
}

/// `check_run` object.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct CheckRun {
    /// Run id.
    pub id: u64,
    /// Run name (`gitops-guard/manifests`, …).
    pub name: String,
    /// Head SHA.
    pub head_sha: String,
    /// PRs for the head SHA.
    #[serde(default)]
    pub pull_requests: Vec<PrRef>,
}

/// `requested_action` of a `check_run.requested_action` event.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct RequestedAction {
    /// The button identifier.
    pub identifier: String,
}

/// `check_run` event.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct CheckRunEvent {
    /// `created`, `completed`, `rerequested`, `requested_action`.
    pub action: String,
    /// The run.
    pub check_run: CheckRun,
    /// Repository.
    pub repository: Repository,
    /// Installation.
    #[serde(default)]
    pub installation: Option<InstallationRef>,
    /// Button pressed, for `requested_action`.
    #[serde(default)]
    pub requested_action: Option<RequestedAction>,
}

/// A git identity in a push payload.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct GitIdentity {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Email (may be absent or a noreply address).
    #[serde(default)]
    pub email: Option<String>,
    /// GitHub login, present only when GitHub matched the email.
    #[serde(default)]
    pub username: Option<String>,
}

/// One commit of a push.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct PushCommit {
    /// SHA.
    pub id: String,
    /// Tree SHA.
    #[serde(default)]
    pub tree_id: Option<String>,
    /// New to the repository (not already on another branch).
    #[serde(default)]
    pub distinct: bool,
    /// Message.
    #[serde(default)]
    pub message: String,
    /// Commit time.
    #[serde(default)]
    pub timestamp: Option<String>,
    /// Author identity.
    #[serde(default)]
    pub author: GitIdentity,
    /// Committer identity.
    #[serde(default)]
    pub committer: GitIdentity,
    /// Paths added (may be empty for huge commits).
    #[serde(default)]
    pub added: Vec<String>,
    /// Paths removed.
    #[serde(default)]
    pub removed: Vec<String>,
    /// Paths modified.
    #[serde(default)]
    pub modified: Vec<String>,
}

/// `push` event (no `action`).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct PushEvent {
    /// `refs/heads/…` or `refs/tags/…`.
    #[serde(rename = "ref")]
    pub ref_: String,
    /// SHA before (all zeros when created).
    pub before: String,
    /// SHA after (all zeros when deleted).
    pub after: String,
    /// Ref created.
    #[serde(default)]
    pub created: bool,
    /// Ref deleted.
    #[serde(default)]
    pub deleted: bool,
    /// History rewritten.
    #[serde(default)]
    pub forced: bool,
    /// Base ref for new branches.
    #[serde(default)]
    pub base_ref: Option<String>,
    /// Compare URL.
    #[serde(default)]
    pub compare: Option<String>,
    /// Commits (max 2048).
    #[serde(default)]
    pub commits: Vec<PushCommit>,
    /// The head commit (null on deletion).
    #[serde(default)]
    pub head_commit: Option<PushCommit>,
    /// Git identity of the pusher (not a login).
    #[serde(default)]
    pub pusher: GitIdentity,
    /// GitHub user who pushed.
    #[serde(default)]
    pub sender: Option<Account>,
    /// Repository.
    pub repository: Repository,
    /// Installation.
    #[serde(default)]
    pub installation: Option<InstallationRef>,
}

/// `rule` of a `branch_protection_rule` event: the settings the
/// protection-weakened check compares. Multi-level values are
/// `off` / `non_admins` / `everyone`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[allow(missing_docs)] // field names are GitHub's, documented at the link above
pub struct BranchProtectionRule {
    pub id: u64,
    /// Branch name pattern.
    pub name: String,
    #[serde(default)]
    pub pull_request_reviews_enforcement_level: Option<String>,
    #[serde(default)]
    pub required_approving_review_count: Option<u32>,
    #[serde(default)]
    pub dismiss_stale_reviews_on_push: Option<bool>,
    #[serde(default)]
    pub require_code_owner_review: Option<bool>,
    #[serde(default)]
    pub ignore_approvals_from_contributors: Option<bool>,
    #[serde(default)]
    pub required_status_checks: Vec<String>,
    #[serde(default)]
    pub required_status_checks_enforcement_level: Option<String>,
    #[serde(default)]
    pub signature_requirement_enforcement_level: Option<String>,
    #[serde(default)]
    pub linear_history_requirement_enforcement_level: Option<String>,
    #[serde(default)]
    pub admin_enforced: Option<bool>,
    #[serde(default)]
    pub allow_force_pushes_enforcement_level: Option<String>,
    #[serde(default)]
    pub allow_deletions_enforcement_level: Option<String>,
}

/// `branch_protection_rule` event.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct BranchProtectionRuleEvent {
    /// `created`, `edited`, `deleted`.
    pub action: String,
    /// The rule after the change (before it, for `deleted`).
    pub rule: BranchProtectionRule,
    /// `{field: {from: old}}` for `edited`; kept raw because every rule
    /// field may appear.
    #[serde(default)]
    pub changes: Option<serde_json::Map<String, serde_json::Value>>,
    /// Repository.
    pub repository: Repository,
    /// Installation.
    #[serde(default)]
    pub installation: Option<InstallationRef>,
    /// Who changed it.
    #[serde(default)]
    pub sender: Option<Account>,
}

/// `repository_ruleset` object (fields we read; rules kept raw because the
/// rule catalogue grows).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct Ruleset {
    /// Ruleset id.
    pub id: u64,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// `branch`, `tag`, `push`.
    #[serde(default)]
    pub target: Option<String>,
    /// `active`, `evaluate`, `disabled`.
    #[serde(default)]
    pub enforcement: Option<String>,
    /// `conditions` (ref include/exclude).
    #[serde(default)]
    pub conditions: Option<serde_json::Value>,
    /// `rules[]` (`{type, parameters}`).
    #[serde(default)]
    pub rules: Vec<serde_json::Value>,
}

/// `repository_ruleset` event.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct RepositoryRulesetEvent {
    /// `created`, `edited`, `deleted`.
    pub action: String,
    /// The ruleset.
    pub repository_ruleset: Ruleset,
    /// What changed (`edited`).
    #[serde(default)]
    pub changes: Option<serde_json::Value>,
    /// Repository (absent for org-level rulesets).
    #[serde(default)]
    pub repository: Option<Repository>,
    /// Installation.
    #[serde(default)]
    pub installation: Option<InstallationRef>,
    /// Who changed it.
    #[serde(default)]
    pub sender: Option<Account>,
}

/// `team` in `team` and `membership` events.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct TeamRef {
    /// Slug (`@org/<slug>` in CODEOWNERS).
    #[serde(default)]
    pub slug: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
}

/// `membership` of an `organization` event.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct OrgMembershipRef {
    /// The member.
    #[serde(default)]
    pub user: Option<Account>,
}

/// `member` (repository collaborators), `membership` (team members),
/// `team` (team grants on repositories, team edits) and `organization`
/// (members joining or leaving) events: who may approve changed, so cached
/// permission and membership answers are dropped.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct AccessEvent {
    /// `X-GitHub-Event` (set by [`decode`]).
    #[serde(skip)]
    pub kind: &'static str,
    /// `added`, `removed`, `edited`, `added_to_repository`, `member_removed`, …
    #[serde(default)]
    pub action: String,
    /// The user whose access changed (`member`, `membership`).
    #[serde(default)]
    pub member: Option<Account>,
    /// The organisation membership that changed (`organization`).
    #[serde(default)]
    pub membership: Option<OrgMembershipRef>,
    /// The team (`team`, `membership`).
    #[serde(default)]
    pub team: Option<TeamRef>,
    /// The organisation (absent for `member` on a user-owned repository).
    #[serde(default)]
    pub organization: Option<Account>,
    /// The repository (`member`; `team` for repository grants).
    #[serde(default)]
    pub repository: Option<Repository>,
    /// Installation.
    #[serde(default)]
    pub installation: Option<InstallationRef>,
}

impl AccessEvent {
    /// The user whose access changed, if the event names one.
    pub fn user(&self) -> Option<&str> {
        self.member
            .as_ref()
            .or_else(|| self.membership.as_ref().and_then(|m| m.user.as_ref()))
            .map(|a| a.login.as_str())
            .filter(|l| !l.is_empty())
    }

    /// The account (organisation or user) whose repositories are affected.
    pub fn owner(&self) -> Option<&str> {
        self.organization
            .as_ref()
            .map(|o| o.login.as_str())
            .or_else(|| self.repository.as_ref().map(|r| r.owner.login.as_str()))
            .filter(|l| !l.is_empty())
    }
}

/// `installation` object of an `installation` event.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct Installation {
    /// Installation id.
    pub id: u64,
    /// Account it is installed on.
    pub account: Account,
    /// App id.
    #[serde(default)]
    pub app_id: Option<u64>,
}

/// `installation` event.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct InstallationEvent {
    /// `created`, `deleted`, `suspend`, `unsuspend`, `new_permissions_accepted`.
    pub action: String,
    /// The installation.
    pub installation: Installation,
}

/// `hook` of a `ping` event.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct Hook {
    /// Hook id.
    pub id: u64,
    /// `Repository`, `Organization` or `App`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// App id for App hooks.
    #[serde(default)]
    pub app_id: Option<u64>,
}

/// `ping` event, sent when a hook is created.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct PingEvent {
    /// GitHub zen.
    #[serde(default)]
    pub zen: String,
    /// Hook id.
    pub hook_id: u64,
    /// The hook.
    #[serde(default)]
    pub hook: Option<Hook>,
}

/// A decoded delivery we act on.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// `pull_request`.
    PullRequest(Box<PullRequestEvent>),
    /// `pull_request_review`.
    PullRequestReview(Box<PullRequestReviewEvent>),
    /// `check_suite`.
    CheckSuite(Box<CheckSuiteEvent>),
    /// `check_run`.
    CheckRun(Box<CheckRunEvent>),
    /// `push`.
    Push(Box<PushEvent>),
    /// `branch_protection_rule`.
    BranchProtectionRule(Box<BranchProtectionRuleEvent>),
    /// `repository_ruleset`.
    RepositoryRuleset(Box<RepositoryRulesetEvent>),
    /// `installation`.
    Installation(Box<InstallationEvent>),
    /// `ping`.
    Ping(Box<PingEvent>),
    /// `merge_group` (merge queue).
    MergeGroup(Box<MergeGroupEvent>),
    /// `member`, `membership`, `team` or `organization`.
    Access(Box<AccessEvent>),
}

/// The event names we decode (`X-GitHub-Event`).
pub const KNOWN_EVENTS: &[&str] = &[
    "pull_request",
    "pull_request_review",
    "check_suite",
    "check_run",
    "push",
    "branch_protection_rule",
    "repository_ruleset",
    "installation",
    "ping",
    "merge_group",
    "member",
    "membership",
    "team",
    "organization",
];

/// The canonical static name of a known event (for metric labels).
pub fn known_event_name(event: &str) -> Option<&'static str> {
    KNOWN_EVENTS.iter().copied().find(|e| *e == event)
}

/// Whether a delivery is work for a worker. Everything else is answered
/// 2xx and ignored (GitHub adds actions over time; they must not fail).
/// `ping` and `installation` are acknowledged without queuing.
pub fn is_actionable(event: &str, action: Option<&str>) -> bool {
    match (event, action) {
        ("pull_request", Some(a)) => matches!(
            a,
            "opened" | "synchronize" | "reopened" | "ready_for_review" | "edited"
                // A closed PR leaves its head's set: the rest are re-judged.
                | "closed"
        ),
        ("pull_request_review", Some(a)) => matches!(a, "submitted" | "edited" | "dismissed"),
        ("check_suite", Some(a)) => matches!(a, "requested" | "rerequested"),
        ("check_run", Some(a)) => matches!(a, "rerequested" | "requested_action"),
        ("push", _) => true,
        ("merge_group", Some(a)) => a == "checks_requested",
        // Every action changes who may approve (or is cheap to handle).
        ("member" | "membership" | "team" | "organization", _) => true,
        ("branch_protection_rule", Some(a)) | ("repository_ruleset", Some(a)) => {
            matches!(a, "created" | "edited" | "deleted")
        }
        _ => false,
    }
}

/// Just the `action` field, read before queuing to drop irrelevant
/// deliveries cheaply (serde skips the rest of the document).
#[derive(Deserialize)]
pub struct ActionOnly {
    /// The action, if the event has one.
    #[serde(default)]
    pub action: Option<String>,
}

/// Why a payload could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Not an event we decode.
    #[error("unsupported event {0:?}")]
    Unsupported(String),
    /// JSON does not match the expected shape.
    #[error("invalid {event} payload: {source}")]
    Json {
        /// Event name.
        event: &'static str,
        /// serde error (names the line and column).
        source: serde_json::Error,
    },
}

/// Decodes a payload by its `X-GitHub-Event` name.
pub fn decode(event: &str, body: &[u8]) -> Result<Event, DecodeError> {
    fn de<T: serde::de::DeserializeOwned>(
        event: &'static str,
        body: &[u8],
    ) -> Result<Box<T>, DecodeError> {
        serde_json::from_slice(body)
            .map(Box::new)
            .map_err(|source| DecodeError::Json { event, source })
    }
    let name = known_event_name(event).ok_or_else(|| DecodeError::Unsupported(event.into()))?;
    Ok(match name {
        "pull_request" => Event::PullRequest(de(name, body)?),
        "pull_request_review" => Event::PullRequestReview(de(name, body)?),
        "check_suite" => Event::CheckSuite(de(name, body)?),
        "check_run" => Event::CheckRun(de(name, body)?),
        "push" => Event::Push(de(name, body)?),
        "branch_protection_rule" => Event::BranchProtectionRule(de(name, body)?),
        "repository_ruleset" => Event::RepositoryRuleset(de(name, body)?),
        "installation" => Event::Installation(de(name, body)?),
        "merge_group" => Event::MergeGroup(de(name, body)?),
        "member" | "membership" | "team" | "organization" => {
            let mut e: Box<AccessEvent> = de(name, body)?;
            e.kind = name;
            Event::Access(e)
        }
        _ => Event::Ping(de(name, body)?),
    })
}

impl Event {
    /// Installation id the delivery is for, if any.
    pub fn installation_id(&self) -> Option<u64> {
        match self {
            Event::PullRequest(e) => e.installation.as_ref().map(|i| i.id),
            Event::PullRequestReview(e) => e.installation.as_ref().map(|i| i.id),
            Event::CheckSuite(e) => e.installation.as_ref().map(|i| i.id),
            Event::CheckRun(e) => e.installation.as_ref().map(|i| i.id),
            Event::Push(e) => e.installation.as_ref().map(|i| i.id),
            Event::BranchProtectionRule(e) => e.installation.as_ref().map(|i| i.id),
            Event::RepositoryRuleset(e) => e.installation.as_ref().map(|i| i.id),
            Event::Installation(e) => Some(e.installation.id),
            Event::MergeGroup(e) => e.installation.as_ref().map(|i| i.id),
            Event::Access(e) => e.installation.as_ref().map(|i| i.id),
            Event::Ping(_) => None,
        }
    }

    /// Repository full name, if the event is about one.
    pub fn repository(&self) -> Option<&str> {
        match self {
            Event::PullRequest(e) => Some(&e.repository.full_name),
            Event::PullRequestReview(e) => Some(&e.repository.full_name),
            Event::CheckSuite(e) => Some(&e.repository.full_name),
            Event::CheckRun(e) => Some(&e.repository.full_name),
            Event::Push(e) => Some(&e.repository.full_name),
            Event::BranchProtectionRule(e) => Some(&e.repository.full_name),
            Event::RepositoryRuleset(e) => e.repository.as_ref().map(|r| r.full_name.as_str()),
            Event::MergeGroup(e) => Some(&e.repository.full_name),
            Event::Access(e) => e.repository.as_ref().map(|r| r.full_name.as_str()),
            Event::Installation(_) | Event::Ping(_) => None,
        }
    }
}

/// The vendored GitHub webhook payloads (`tests/data/github/webhooks`), for
/// the unit tests of every module that decodes them.
#[cfg(test)]
pub(crate) mod fixtures {
    use std::path::{Path, PathBuf};

    /// The folder (part of the repository).
    pub(crate) fn dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/github/webhooks")
    }

    /// One payload's bytes; a missing file is a broken checkout, so it
    /// panics instead of letting a test skip.
    pub(crate) fn load(name: &str) -> Vec<u8> {
        let path = dir().join(name);
        std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "cannot read webhook fixture {} ({e}); it is part of the repository",
                path.display()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{dir as fixture_dir, load};
    use super::*;

    /// Every fixture of an event we decode decodes; the others are
    /// rejected as unsupported (and acknowledged by the route).
    #[test]
    fn every_fixture_decodes() {
        let dir = std::fs::read_dir(fixture_dir())
            .unwrap_or_else(|e| panic!("cannot list {} ({e})", fixture_dir().display()));
        let mut decoded = 0;
        for entry in dir {
            let path = entry.unwrap().path();
            let file = path.file_name().unwrap().to_str().unwrap().to_owned();
            let event = file.split('.').next().unwrap();
            let body = std::fs::read(&path).unwrap();
            match decode(event, &body) {
                Ok(ev) => {
                    decoded += 1;
                    if event != "ping" {
                        // Org-level access events concern no one repository.
                        assert!(
                            ev.repository().is_some()
                                || event == "installation"
                                || matches!(ev, Event::Access(_)),
                            "{file}: no repository"
                        );
                    }
                }
                Err(DecodeError::Unsupported(_)) => assert!(known_event_name(event).is_none()),
                Err(e) => panic!("{file}: {e}"),
            }
        }
        assert!(decoded >= 25, "decoded {decoded}");
    }

    /// A `merge_group` payload as GitHub documents it (no upstream
    /// example ships with the vendored fixtures).
    pub(crate) const MERGE_GROUP: &str = r#"{
        "action": "checks_requested",
        "merge_group": {
            "head_sha": "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
            "head_ref": "refs/heads/gh-readonly-queue/main/pr-7-0b4e5f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4",
            "base_sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
            "base_ref": "refs/heads/main",
            "head_commit": {"id": "ec26c3e57ca3a959ca5aad62de7213c562f8c821", "tree_id": "t", "message": "Merge pull request #7"}
        },
        "repository": {"id": 1, "name": "deploy", "full_name": "acme/deploy", "owner": {"login": "acme", "id": 2}},
        "installation": {"id": 42, "node_id": "x"},
        "sender": {"login": "octocat", "id": 3}
    }"#;

    #[test]
    fn merge_group_fields() {
        let Event::MergeGroup(e) = decode("merge_group", MERGE_GROUP.as_bytes()).unwrap() else {
            panic!("not a merge group")
        };
        assert_eq!(e.action, "checks_requested");
        assert_eq!(e.merge_group.base_ref, "refs/heads/main");
        assert_eq!(e.merge_group.head_sha.len(), 40);
        let ev = Event::MergeGroup(e);
        assert_eq!(ev.installation_id(), Some(42));
        assert_eq!(ev.repository(), Some("acme/deploy"));
        assert!(is_actionable("merge_group", Some("checks_requested")));
        assert!(!is_actionable("merge_group", Some("destroyed")));
    }

    #[test]
    fn pull_request_fields() {
        let Event::PullRequest(e) =
            decode("pull_request", &load("pull_request.opened.json")).unwrap()
        else {
            panic!()
        };
        assert_eq!(e.action, "opened");
        assert_eq!(e.number, 2);
        assert_eq!(e.repository.full_name, "Codertocat/Hello-World");
        assert_eq!(e.pull_request.head.sha.len(), 40);
        assert_eq!(e.pull_request.base.ref_, "master");
        let Event::PullRequest(e) =
            decode("pull_request", &load("pull_request.ready_for_review.json")).unwrap()
        else {
            panic!()
        };
        assert!(e.installation.is_some());
    }

    #[test]
    fn review_push_check_protection_fields() {
        let Event::PullRequestReview(r) = decode(
            "pull_request_review",
            &load("pull_request_review.submitted.json"),
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(r.review.state, "commented");
        assert!(r.review.commit_id.is_some());
        let Event::Push(p) = decode("push", &load("push.deleted.json")).unwrap() else {
            panic!()
        };
        assert!(p.deleted && p.head_commit.is_none());
        let Event::Push(p) = decode("push", &load("push.no-username-committer.json")).unwrap()
        else {
            panic!()
        };
        assert!(p.commits.iter().any(|c| c.committer.username.is_none()));
        let Event::CheckRun(c) = decode("check_run", &load("check_run.rerequested.json")).unwrap()
        else {
            panic!()
        };
        assert_eq!(c.action, "rerequested");
        let Event::BranchProtectionRule(b) = decode(
            "branch_protection_rule",
            &load("branch_protection_rule.edited.json"),
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(b.rule.required_approving_review_count, Some(1));
        assert!(
            b.changes
                .unwrap()
                .contains_key("required_approving_review_count")
        );
    }

    #[test]
    fn ruleset_without_upstream_fixture() {
        // No upstream example exists; shape from the octokit/webhooks schema.
        let body = br#"{"action":"edited","repository_ruleset":{"id":42,"name":"main",
          "target":"branch","enforcement":"active","rules":[{"type":"deletion"}]},
          "changes":{"enforcement":{"from":"active"}},
          "repository":{"id":1,"name":"r","full_name":"o/r","owner":{"login":"o","id":2}},
          "installation":{"id":7}}"#;
        let Event::RepositoryRuleset(r) = decode("repository_ruleset", body).unwrap() else {
            panic!()
        };
        assert_eq!(r.repository_ruleset.rules.len(), 1);
        assert_eq!(r.installation.unwrap().id, 7);
    }

    #[test]
    fn access_events_name_the_user_and_owner() {
        let Event::Access(m) = decode("member", &load("member.added.json")).unwrap() else {
            panic!("not an access event")
        };
        assert_eq!((m.kind, m.user()), ("member", Some("hacktocat")));
        assert_eq!(m.owner(), Some("Codertocat"));
        let Event::Access(m) = decode("membership", &load("membership.removed.json")).unwrap()
        else {
            panic!("not an access event")
        };
        assert!(m.team.as_ref().is_some_and(|t| !t.slug.is_empty()));
        assert!(m.user().is_some() && m.owner().is_some());
        let Event::Access(o) =
            decode("organization", &load("organization.member_added.json")).unwrap()
        else {
            panic!("not an access event")
        };
        assert!(o.user().is_some(), "organization events name the member");
        let Event::Access(t) = decode("team", &load("team.edited.json")).unwrap() else {
            panic!("not an access event")
        };
        assert!(t.user().is_none() && t.owner().is_some());
        for e in ["member", "membership", "team", "organization"] {
            assert!(is_actionable(e, Some("added")));
        }
    }

    #[test]
    fn malformed_payload_is_an_error_not_a_panic() {
        assert!(matches!(
            decode("pull_request", b"{\"action\":1}"),
            Err(DecodeError::Json { .. })
        ));
        assert!(matches!(
            decode("fork", b"{}"),
            Err(DecodeError::Unsupported(_))
        ));
    }

    #[test]
    fn actionable_matrix() {
        assert!(is_actionable("pull_request", Some("synchronize")));
        assert!(is_actionable("pull_request", Some("closed")));
        assert!(!is_actionable("pull_request", Some("labeled")));
        assert!(is_actionable("check_suite", Some("rerequested")));
        assert!(!is_actionable("check_suite", Some("completed")));
        assert!(is_actionable("push", None));
        assert!(!is_actionable("ping", None));
        assert!(!is_actionable("star", Some("created")));
    }
}
