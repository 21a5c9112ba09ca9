//! The `gitops-guard/reviews` decision: approvals and code-owner coverage,
//! evaluated purely from data the shell fetched (reviews, changed files, PR
//! commits, team memberships) and the base branch's CODEOWNERS and config.
//!
//! Rules, and why:
//! - Each reviewer's **latest** decisive review counts. `COMMENTED` (and
//!   `PENDING`) never change it, so a comment after an approval keeps the
//!   approval; `DISMISSED` (GitHub rewrites a dismissed review's state) resets
//!   the reviewer to no standing; a later `CHANGES_REQUESTED` replaces an
//!   approval.
//! - With `dismiss_stale`, a reviewer counts only if one of their approvals
//!   since their last change request or dismissal is on the current head SHA
//!   (GitHub dismisses on push, but an admin can turn that off and bypass
//!   tokens never trigger it, so we check the SHA ourselves).
//! - The PR author never counts. With `ignore_contributors`, nobody who
//!   authored or committed a PR commit counts (a second account that pushed a
//!   commit cannot approve). Commits whose author or committer GitHub could
//!   not link to an account are listed: they may hide a contributor
//!   (palantir/policy-bot#788).
//! - **Any** reviewer's `CHANGES_REQUESTED` blocks, until the review is
//!   dismissed or the same reviewer later gives an approval that would itself
//!   count (on the head commit with `dismiss_stale`; never from the author or
//!   a contributor) — so an approval of an older commit does not lift a
//!   request made about it, and adding an approval that does not count can
//!   never turn a failure into a success. GitHub blocks only on requests
//!   from reviewers with write access; we cannot see permissions here, so we
//!   are conservative (a maintainer can always dismiss a stray request). Each
//!   blocking request says whether it came from a code owner.
//! - `required_approvals` distinct qualifying approvers.
//! - With `require_code_owners`, every changed path — including deleted
//!   files and the old path of a rename, because removing or moving a file
//!   out of an owned directory is a change to that directory — needs an
//!   approval from one of the owners of its deciding CODEOWNERS line: the
//!   user, any member of the team (membership resolved by the shell;
//!   unresolved is treated as "not a member" and reported), or the account an
//!   email owner maps to. Paths no line owns (no match, or an explicit
//!   empty-owner line) are reported; `reviews.unowned: deny` (the default)
//!   fails them, `allow` lets them pass on the approval count alone. Without
//!   `require_code_owners` ownership is not checked at all.
//! - CODEOWNERS and the config come from the **base** commit. A PR that edits
//!   them is judged by the old versions, and the summary says so.
//! - **Authority, not names** (GitHub's own rule): an approval counts only
//!   from a reviewer whose permission on the repository is write, maintain
//!   or admin ([`ReviewsInput::permissions`], looked up by the shell). Bots
//!   (`type: Bot`, `…[bot]` logins, this App included) never count. A
//!   permission the shell could not learn is "no approval" and named
//!   (fail closed). A CODEOWNERS team owns a path only if the team itself
//!   has write access ([`ReviewsInput::team_access`]); a user or team owner
//!   without it owns nothing and is reported the way GitHub reports
//!   CODEOWNERS errors ("Unknown owner … write access").
//! - **Merge base**: with `dismiss_stale`, an approval submitted at or
//!   before the PR's latest base change ([`ReviewsInput::base_changed_at`]:
//!   a retarget, from the PR timeline) is stale even on the current head —
//!   GitHub dismisses approvals when the merge base changes. The base
//!   branch only moving forward leaves the merge base alone (GitHub keeps
//!   the approvals too); updating the PR branch moves the head, which the
//!   head check already covers.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::engine::config::{ReviewsConfig, Unowned};
use crate::engine::gates::codeowners::{CodeOwners, LOCATIONS, Owner, Ownership, ParseError};
use crate::engine::ids::CommitSha;
use crate::engine::input::{ChangeStatus, ChangedFile};

/// Where the repository config lives (DESIGN.md "Configuration"); a PR
/// touching it is reported as a policy change.
pub use crate::engine::config::CONFIG_PATH as REPO_CONFIG_PATH;

/// GitHub caps check-run summaries at 65535 characters; we stay below.
const MAX_SUMMARY: usize = 60_000;
/// Longest list rendered in full; the rest is counted.
const MAX_LIST: usize = 100;

/// A review's state, as the REST API (upper case) or webhooks (lower case) spell it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReviewState {
    /// `APPROVED`.
    Approved,
    /// `CHANGES_REQUESTED`.
    ChangesRequested,
    /// `DISMISSED`: the review was dismissed (whatever it was before).
    Dismissed,
    /// `COMMENTED`: never changes a reviewer's standing.
    Commented,
    /// `PENDING`: not submitted yet; ignored.
    Pending,
}

/// A review state string GitHub does not document.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("unknown review state {0:?}")]
pub struct UnknownReviewState(pub String);

impl FromStr for ReviewState {
    type Err = UnknownReviewState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.to_ascii_uppercase().as_str() {
            "APPROVED" => ReviewState::Approved,
            "CHANGES_REQUESTED" => ReviewState::ChangesRequested,
            "DISMISSED" => ReviewState::Dismissed,
            "COMMENTED" => ReviewState::Commented,
            "PENDING" => ReviewState::Pending,
            _ => return Err(UnknownReviewState(s.to_owned())),
        })
    }
}

/// One submitted review.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Review {
    /// GitHub's review id.
    pub id: u64,
    /// Reviewer login.
    pub user: String,
    /// State (after any dismissal: GitHub rewrites a dismissed review's state).
    pub state: ReviewState,
    /// The commit the review was made on (`None` if GitHub gave none).
    pub commit_id: Option<CommitSha>,
    /// `submitted_at` as GitHub sent it, for display only.
    pub submitted_at: Option<String>,
    /// Chronological position (GitHub lists reviews oldest first); ties are
    /// broken by `id`, which GitHub assigns increasingly.
    pub order: u64,
    /// The reviewer is a bot account (`user.type == "Bot"`); `…[bot]`
    /// logins are recognised without it.
    pub bot: bool,
}

/// Whether a review comes from a bot or App account: `type: Bot`, or a
/// login GitHub reserves for Apps (`slug[bot]`; no user can register one).
pub fn is_bot(review: &Review) -> bool {
    review.bot || review.user.to_ascii_lowercase().ends_with("[bot]")
}

/// A user's or team's access to the repository, as the shell learned it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    /// Write, maintain or admin (holds GitHub's role name).
    Write(String),
    /// Less than write: `read`, `triage`, `none`, or no access at all
    /// (holds the role name; `none` when GitHub has no grant).
    NoWrite(String),
    /// GitHub would not say (the lookup failed): why. Treated as no access.
    Unknown(String),
}

impl Access {
    /// Write access or more.
    pub fn can_write(&self) -> bool {
        matches!(self, Access::Write(_))
    }
}

/// One changed path of the PR.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrFile {
    /// Path at head (for deletions: the deleted path).
    pub path: String,
    /// For renames: the path at base. It needs its owners' approval too.
    pub previous_path: Option<String>,
    /// How it changed (`copied` maps to `Added`, `changed` to `Modified`).
    pub status: ChangeStatus,
}

impl From<&ChangedFile> for PrFile {
    fn from(c: &ChangedFile) -> Self {
        PrFile {
            path: c.path.clone(),
            previous_path: c.previous_path.clone(),
            status: c.status,
        }
    }
}

/// One PR commit, for `ignore_contributors`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrCommit {
    /// Commit SHA.
    pub sha: CommitSha,
    /// GitHub login of the author, when GitHub linked the author email to an account.
    pub author_login: Option<String>,
    /// GitHub login of the committer, likewise.
    pub committer_login: Option<String>,
    /// Git author name, for messages about unlinked commits.
    pub author_name: Option<String>,
    /// Git author email, likewise.
    pub author_email: Option<String>,
}

impl PrCommit {
    /// A commit with no identities filled in yet.
    pub fn new(sha: CommitSha) -> Self {
        PrCommit {
            sha,
            author_login: None,
            committer_login: None,
            author_name: None,
            author_email: None,
        }
    }
}

/// Team membership as resolved by the shell (`GET /orgs/{org}/teams/{slug}/memberships/{user}`).
pub trait TeamMembership {
    /// Is `login` an active member of `team` (`org/slug`)? `None` when unknown
    /// (not fetched, or the API failed); the engine treats that as "not a
    /// member" and reports it.
    fn is_member(&self, team: &str, login: &str) -> Option<bool>;
}

impl<F: Fn(&str, &str) -> Option<bool>> TeamMembership for F {
    fn is_member(&self, team: &str, login: &str) -> Option<bool> {
        self(team, login)
    }
}

/// A prefilled map of team (`org/slug`) to member logins. Teams not in the
/// map are unresolved; logins and team names compare case-insensitively.
#[derive(Clone, Debug, Default)]
pub struct TeamMembers {
    teams: HashMap<String, HashSet<String>>,
}

impl TeamMembers {
    /// An empty map (every team unresolved).
    pub fn new() -> Self {
        Self::default()
    }
    /// Records the full member list of `team` (`org/slug`).
    pub fn insert<I, S>(&mut self, team: &str, members: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.teams.insert(
            team.to_ascii_lowercase(),
            members
                .into_iter()
                .map(|m| m.as_ref().to_ascii_lowercase())
                .collect(),
        );
    }
}

impl TeamMembership for TeamMembers {
    fn is_member(&self, team: &str, login: &str) -> Option<bool> {
        self.teams
            .get(&team.to_ascii_lowercase())
            .map(|m| m.contains(&login.to_ascii_lowercase()))
    }
}

/// The base commit's CODEOWNERS file.
#[derive(Clone, Debug)]
pub struct BaseCodeOwners {
    /// Where it was found (one of [`LOCATIONS`]).
    pub path: String,
    /// The parsed file.
    pub file: CodeOwners,
}

/// Everything the reviews decision needs besides config and team lookups.
#[derive(Clone, Debug)]
pub struct ReviewsInput {
    /// PR author login.
    pub author: String,
    /// Current head SHA of the PR.
    pub head_sha: CommitSha,
    /// Changed files (all of them; the shell pages up to GitHub's 3000).
    pub files: Vec<PrFile>,
    /// All reviews, any order (sorted here by `order`, then `id`).
    pub reviews: Vec<Review>,
    /// All PR commits.
    pub commits: Vec<PrCommit>,
    /// CODEOWNERS from the base commit, `None` when there is none.
    pub codeowners: Option<BaseCodeOwners>,
    /// Email owner (lower-cased) → login, for email owners the shell could map.
    pub email_logins: HashMap<String, String>,
    /// Repository permission per login (lower-cased). A login the decision
    /// needs and that is missing here is listed in
    /// [`ReviewsOutcome::permissions_needed`] and treated as no access.
    pub permissions: HashMap<String, Access>,
    /// Repository permission per CODEOWNERS team (`org/slug`, lower-cased);
    /// missing ones are listed in [`ReviewsOutcome::team_access_needed`].
    pub team_access: HashMap<String, Access>,
    /// When the PR's base last changed (retarget); approvals submitted at or
    /// before it are stale (with `dismiss_stale`). `None`: never changed.
    pub base_changed_at: Option<DateTime<Utc>>,
}

/// Why an approval did not count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Made on an older commit (with `dismiss_stale`); holds that commit, if known.
    Stale(Option<CommitSha>),
    /// Made on the head commit but before the PR's base changed (the merge
    /// base moved; with `dismiss_stale`). Holds the time of the change.
    StaleBase(DateTime<Utc>),
    /// The reviewer's permission is below write (holds GitHub's role name).
    NoWriteAccess(String),
    /// The reviewer's permission could not be learned (holds why).
    PermissionUnknown(String),
    /// A bot or App account (this App included).
    Bot,
    /// The PR author.
    Author,
    /// Authored or committed a PR commit (with `ignore_contributors`).
    Contributor,
    /// Counts toward the total but owns none of the files still needing an owner.
    NotOwner,
    /// The reviewer's latest review was dismissed.
    Dismissed,
    /// A later `CHANGES_REQUESTED` from the same reviewer replaced it.
    Superseded,
}

/// An approval (or dismissed review) that did not count, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotCounted {
    /// Reviewer login.
    pub login: String,
    /// Why.
    pub reason: Reason,
}

/// A changed path still waiting for a code-owner approval.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileNeed {
    /// The path.
    pub path: String,
    /// Deciding CODEOWNERS line.
    pub line: usize,
    /// Any one of these may approve.
    pub owners: Vec<Owner>,
}

/// A changed path no CODEOWNERS line owns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnownedFile {
    /// The path.
    pub path: String,
    /// The empty-owner line that un-owns it; `None` when no line matches.
    pub line: Option<usize>,
}

/// A reviewer whose latest review requests changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeRequest {
    /// Reviewer login.
    pub login: String,
    /// Review id (to dismiss it).
    pub review_id: u64,
    /// Commit it was made on.
    pub commit_id: Option<CommitSha>,
    /// The reviewer owns at least one changed path.
    pub is_owner: bool,
}

/// A CODEOWNERS owner that owns nothing because it lacks write access (or
/// its access could not be learned), as GitHub reports CODEOWNERS errors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnerError {
    /// CODEOWNERS line naming the owner.
    pub line: usize,
    /// The owner.
    pub owner: Owner,
    /// Its access (`NoWrite` or `Unknown`).
    pub access: Access,
}

/// A PR commit whose author or committer GitHub did not link to an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnlinkedCommit {
    /// Commit SHA.
    pub sha: CommitSha,
    /// Which identity is unlinked: `author`, `committer` or `author and committer`.
    pub role: &'static str,
    /// Git author name and email as recorded, for the reader.
    pub identity: String,
}

/// The decision, with everything a reviewer needs to act on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewsOutcome {
    /// The check passes.
    pub passed: bool,
    /// Qualifying approvers, in approval order.
    pub approvals_counted: Vec<String>,
    /// `required_approvals` from the config.
    pub approvals_required: u32,
    /// How many more qualifying approvals are needed.
    pub approvals_missing: u32,
    /// Paths still needing an owner's approval.
    pub files_needing_owners: Vec<FileNeed>,
    /// Approvals that did not count, with reasons.
    pub not_counted: Vec<NotCounted>,
    /// Outstanding change requests (each blocks).
    pub blocking_change_requests: Vec<ChangeRequest>,
    /// Changed paths no line owns (fail only with `unowned: deny`).
    pub unowned_files: Vec<UnownedFile>,
    /// The `unowned` policy applied.
    pub unowned_policy: Unowned,
    /// Whether ownership was checked (`require_code_owners`).
    pub code_owners_required: bool,
    /// Where the base CODEOWNERS came from, `None` if there is none.
    pub codeowners_path: Option<String>,
    /// Invalid lines of the base CODEOWNERS.
    pub codeowners_errors: Vec<ParseError>,
    /// The PR edits a CODEOWNERS file (judged by the base version anyway).
    pub ownership_changed: bool,
    /// The PR edits the repository config (judged by the base version anyway).
    pub config_changed: bool,
    /// Team lookups the shell could not resolve: (`org/team`, login).
    pub unresolved_memberships: Vec<(String, String)>,
    /// Commits with an author or committer not linked to a GitHub account.
    pub unlinked_commits: Vec<UnlinkedCommit>,
    /// The head SHA the decision is for.
    pub head_sha: CommitSha,
    /// CODEOWNERS owners that own nothing (no write access), by line.
    pub owner_errors: Vec<OwnerError>,
    /// Logins whose permission the decision needed but the input lacked
    /// (the shell fetches them and decides again).
    pub permissions_needed: BTreeSet<String>,
    /// Teams (`org/slug`) whose repository access the decision needed but
    /// the input lacked.
    pub team_access_needed: BTreeSet<String>,
    /// Every permission fact the decision used (lower-cased login or
    /// `org/slug` team → access), for a cache key over what the verdict
    /// depends on.
    pub authority_used: BTreeMap<String, Access>,
    /// The base change the decision used (see [`ReviewsInput::base_changed_at`]).
    pub base_changed_at: Option<DateTime<Utc>>,
}

/// Permission facts from the input, recording which were used and which
/// were missing (the shell fetches those and decides again).
struct Authority {
    users: HashMap<String, Access>,
    teams: HashMap<String, Access>,
    used: RefCell<BTreeMap<String, Access>>,
    users_needed: RefCell<BTreeSet<String>>,
    teams_needed: RefCell<BTreeSet<String>>,
}

impl Authority {
    fn new(input: &ReviewsInput) -> Self {
        let lower = |m: &HashMap<String, Access>| {
            m.iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                .collect()
        };
        Authority {
            users: lower(&input.permissions),
            teams: lower(&input.team_access),
            used: RefCell::default(),
            users_needed: RefCell::default(),
            teams_needed: RefCell::default(),
        }
    }

    fn lookup(
        map: &HashMap<String, Access>,
        needed: &RefCell<BTreeSet<String>>,
        used: &RefCell<BTreeMap<String, Access>>,
        key: String,
    ) -> Access {
        match map.get(&key) {
            Some(a) => {
                used.borrow_mut().insert(key, a.clone());
                a.clone()
            }
            None => {
                needed.borrow_mut().insert(key);
                // Fail closed until the shell has looked it up.
                Access::Unknown("not looked up".into())
            }
        }
    }

    /// A user's permission on the repository.
    fn user(&self, login: &str) -> Access {
        Self::lookup(
            &self.users,
            &self.users_needed,
            &self.used,
            login.to_ascii_lowercase(),
        )
    }

    /// A user's permission if the shell already knows it (never asks).
    fn known_user(&self, login: &str) -> Option<Access> {
        let key = login.to_ascii_lowercase();
        let a = self.users.get(&key)?.clone();
        self.used.borrow_mut().insert(key, a.clone());
        Some(a)
    }

    /// A team's (`org/slug`) permission on the repository.
    fn team(&self, team: &str) -> Access {
        Self::lookup(
            &self.teams,
            &self.teams_needed,
            &self.used,
            team.to_ascii_lowercase(),
        )
    }
}

/// Per-evaluation owner resolution, memoising team lookups so the shell's
/// function is asked once per (team, login).
struct OwnerResolver<'a> {
    teams: &'a dyn TeamMembership,
    authority: &'a Authority,
    emails: HashMap<String, String>,
    memo: HashMap<(String, String), Option<bool>>,
    unresolved: BTreeSet<(String, String)>,
    /// (line, owner text) → error, for owners that own nothing.
    owner_errors: BTreeMap<(usize, String), OwnerError>,
}

impl OwnerResolver<'_> {
    fn owner_error(&mut self, line: usize, owner: &Owner, access: Access) {
        self.owner_errors
            .entry((line, owner.to_string().to_ascii_lowercase()))
            .or_insert_with(|| OwnerError {
                line,
                owner: owner.clone(),
                access,
            });
    }

    /// The account an owner stands for, when it is one account.
    fn owner_login(&self, owner: &Owner) -> Option<String> {
        match owner {
            Owner::User(u) => Some(u.clone()),
            Owner::Email(e) => self.emails.get(&e.to_ascii_lowercase()).cloned(),
            Owner::Team { .. } => None,
        }
    }

    /// Reports the owners of `line` that own nothing for lack of write
    /// access (only asked for lines still waiting for an owner, so a
    /// passing PR costs no extra lookups). Teams are looked up; user owners
    /// only when their permission is already known (they reviewed), so an
    /// unreviewed PR does not cost a lookup per listed owner.
    fn check_owners(&mut self, line: usize, owners: &[Owner]) {
        // While reviewers' permissions are still being looked up the
        // counted set is incomplete and the shell decides again; asking
        // about every owner now would cost lookups a passing PR never needs.
        if !self.authority.users_needed.borrow().is_empty() {
            return;
        }
        for o in owners {
            let access = match o {
                Owner::Team { org, slug } => self.authority.team(&format!("{org}/{slug}")),
                _ => match self
                    .owner_login(o)
                    .and_then(|l| self.authority.known_user(&l))
                {
                    Some(a) => a,
                    None => continue,
                },
            };
            if !access.can_write() {
                self.owner_error(line, o, access);
            }
        }
    }

    fn is_owner(&mut self, owner: &Owner, login: &str, line: usize) -> bool {
        match owner {
            Owner::User(_) => owner.is_user(login),
            Owner::Email(e) => self
                .emails
                .get(&e.to_ascii_lowercase())
                .is_some_and(|l| l.eq_ignore_ascii_case(login)),
            Owner::Team { org, slug } => {
                let team = format!("{org}/{slug}");
                // GitHub ignores a team owner without write access: its
                // members' approvals satisfy nothing through it.
                let access = self.authority.team(&team);
                if !access.can_write() {
                    self.owner_error(line, owner, access);
                    return false;
                }
                let key = (team.to_ascii_lowercase(), login.to_ascii_lowercase());
                let teams = self.teams;
                let r = *self
                    .memo
                    .entry(key)
                    .or_insert_with(|| teams.is_member(&team, login));
                if r.is_none() {
                    self.unresolved.insert((team, login.to_owned()));
                }
                r == Some(true)
            }
        }
    }

    fn owns_any(&mut self, owners: &[Owner], login: &str, line: usize) -> bool {
        owners.iter().any(|o| self.is_owner(o, login, line))
    }
}

/// A reviewer's standing after walking their reviews in order.
#[derive(Default)]
struct Standing<'a> {
    /// Approvals since the reviewer's last change request or dismissal; the
    /// reviewer counts when any of them is on the head commit.
    run: Vec<&'a Review>,
    /// An outstanding change request.
    block: Option<&'a Review>,
    /// The change request replaced an approval run (for `Superseded`).
    superseded: bool,
    /// The latest review that was not a comment.
    last: Option<&'a Review>,
}

/// Evaluates the reviews gate.
pub fn evaluate(
    input: &ReviewsInput,
    config: &ReviewsConfig,
    teams: &dyn TeamMembership,
) -> ReviewsOutcome {
    let lc = |s: &str| s.to_ascii_lowercase();
    let author = lc(&input.author);

    // Contributors and unlinked commits.
    let mut contributors: HashSet<String> = HashSet::new();
    let mut unlinked_commits = Vec::new();
    for c in &input.commits {
        for l in [&c.author_login, &c.committer_login].into_iter().flatten() {
            contributors.insert(lc(l));
        }
        let role = match (c.author_login.is_none(), c.committer_login.is_none()) {
            (true, true) => Some("author and committer"),
            (true, false) => Some("author"),
            (false, true) => Some("committer"),
            (false, false) => None,
        };
        if let Some(role) = role {
            let identity = match (&c.author_name, &c.author_email) {
                (Some(n), Some(e)) => format!("{n} <{e}>"),
                (Some(n), None) => n.clone(),
                (None, Some(e)) => format!("<{e}>"),
                (None, None) => "unknown".into(),
            };
            unlinked_commits.push(UnlinkedCommit {
                sha: c.sha.clone(),
                role,
                identity,
            });
        }
    }

    let authority = Authority::new(input);
    // Reviewer-level disqualification: nothing such a reviewer does counts.
    let disqualified = |key: &str, r: &Review| -> Option<Reason> {
        if key == author {
            Some(Reason::Author)
        } else if is_bot(r) {
            Some(Reason::Bot)
        } else if config.ignore_contributors && contributors.contains(key) {
            Some(Reason::Contributor)
        } else {
            None
        }
    };
    let on_head =
        |r: &Review| !config.dismiss_stale || r.commit_id.as_ref() == Some(&input.head_sha);
    // Submitted after the latest base change; an approval without a
    // readable time cannot prove it, so it is stale once the base changed.
    let after_base = |r: &Review| match (config.dismiss_stale, input.base_changed_at) {
        (false, _) | (true, None) => true,
        (true, Some(changed)) => r
            .submitted_at
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .is_some_and(|t| t.with_timezone(&Utc) > changed),
    };
    let fresh = |r: &Review| on_head(r) && after_base(r);
    // Authority is asked last, and only for a reviewer whose approval would
    // otherwise count, so stale or disqualified approvals cost no lookup.
    let no_authority = |login: &str| -> Option<Reason> {
        match authority.user(login) {
            Access::Write(_) => None,
            Access::NoWrite(role) => Some(Reason::NoWriteAccess(role)),
            Access::Unknown(why) => Some(Reason::PermissionUnknown(why)),
        }
    };

    // Walk each reviewer's reviews in chronological order.
    let mut reviews: Vec<&Review> = input.reviews.iter().collect();
    reviews.sort_by_key(|r| (r.order, r.id));
    let mut order: Vec<String> = Vec::new();
    let mut standing: HashMap<String, Standing> = HashMap::new();
    for r in &reviews {
        let key = lc(&r.user);
        let s = standing.entry(key.clone()).or_insert_with(|| {
            order.push(key.clone());
            Standing::default()
        });
        match r.state {
            ReviewState::Commented | ReviewState::Pending => {}
            ReviewState::Approved => {
                // Only an approval that would itself count lifts the
                // reviewer's own change request: a stale approval, or one
                // from a disqualified reviewer, leaves it standing.
                if disqualified(&key, r).is_none() && fresh(r) && no_authority(&key).is_none() {
                    s.block = None;
                }
                s.run.push(r);
                s.superseded = false;
                s.last = Some(r);
            }
            ReviewState::ChangesRequested => {
                s.superseded = !s.run.is_empty();
                s.run.clear();
                s.block = Some(r);
                s.last = Some(r);
            }
            ReviewState::Dismissed => {
                s.run.clear();
                s.block = None;
                s.superseded = false;
                s.last = Some(r);
            }
        }
    }
    // Order reviewers by their latest decisive review, so lists read chronologically.
    order.sort_by_key(|k| standing[k].last.map(|r| (r.order, r.id)));

    let mut counted: Vec<String> = Vec::new();
    let mut not_counted: Vec<NotCounted> = Vec::new();
    let mut change_requests: Vec<&Review> = Vec::new();
    for key in &order {
        let s = &standing[key];
        let Some(last) = s.last else { continue };
        let login = last.user.clone();
        if let Some(b) = s.block {
            change_requests.push(b);
        }
        if let Some(latest_approval) = s.run.last() {
            let reason = disqualified(key, latest_approval)
                .or_else(|| {
                    if s.run.iter().any(|r| fresh(r)) {
                        None
                    } else if let (true, Some(changed)) =
                        (s.run.iter().any(|r| on_head(r)), input.base_changed_at)
                    {
                        Some(Reason::StaleBase(changed))
                    } else {
                        Some(Reason::Stale(latest_approval.commit_id.clone()))
                    }
                })
                .or_else(|| no_authority(key));
            match reason {
                Some(reason) => not_counted.push(NotCounted { login, reason }),
                None if s.block.is_none() => counted.push(login),
                None => {}
            }
        } else if s.superseded {
            not_counted.push(NotCounted {
                login,
                reason: Reason::Superseded,
            });
        } else if last.state == ReviewState::Dismissed {
            not_counted.push(NotCounted {
                login,
                reason: Reason::Dismissed,
            });
        }
    }

    // Every path the PR touches, old paths of renames included, deduplicated.
    let mut paths: Vec<&str> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    for f in &input.files {
        for p in std::iter::once(f.path.as_str()).chain(f.previous_path.as_deref()) {
            if seen.insert(p) {
                paths.push(p);
            }
        }
    }

    let mut resolver = OwnerResolver {
        teams,
        authority: &authority,
        owner_errors: BTreeMap::new(),
        emails: input
            .email_logins
            .iter()
            .map(|(e, l)| (lc(e), l.clone()))
            .collect(),
        memo: HashMap::new(),
        unresolved: BTreeSet::new(),
    };
    let empty = CodeOwners::default();
    let co = input.codeowners.as_ref().map(|c| &c.file).unwrap_or(&empty);

    let mut files_needing_owners = Vec::new();
    let mut unowned_files = Vec::new();
    let mut owner_approvers: HashSet<String> = HashSet::new();
    if config.require_code_owners {
        for p in &paths {
            match co.owners_of(p) {
                Ownership::Owned { line, owners } => {
                    let mut satisfied = false;
                    for a in &counted {
                        if resolver.owns_any(owners, a, line) {
                            owner_approvers.insert(lc(a));
                            satisfied = true;
                        }
                    }
                    if !satisfied {
                        resolver.check_owners(line, owners);
                        files_needing_owners.push(FileNeed {
                            path: (*p).to_owned(),
                            line,
                            owners: owners.to_vec(),
                        });
                    }
                }
                Ownership::Unowned { line } => unowned_files.push(UnownedFile {
                    path: (*p).to_owned(),
                    line: Some(line),
                }),
                Ownership::NoMatch => unowned_files.push(UnownedFile {
                    path: (*p).to_owned(),
                    line: None,
                }),
            }
        }
        if !files_needing_owners.is_empty() {
            for a in &counted {
                if !owner_approvers.contains(&lc(a)) {
                    not_counted.push(NotCounted {
                        login: a.clone(),
                        reason: Reason::NotOwner,
                    });
                }
            }
        }
    }

    let blocking_change_requests: Vec<ChangeRequest> = change_requests
        .iter()
        .map(|r| {
            let is_owner = paths.iter().any(|p| match co.owners_of(p) {
                Ownership::Owned { owners, line } => resolver.owns_any(owners, &r.user, line),
                _ => false,
            });
            ChangeRequest {
                login: r.user.clone(),
                review_id: r.id,
                commit_id: r.commit_id.clone(),
                is_owner,
            }
        })
        .collect();

    let approvals_missing = config
        .required_approvals
        .saturating_sub(u32::try_from(counted.len()).unwrap_or(u32::MAX));
    let unowned_fail =
        config.require_code_owners && config.unowned == Unowned::Deny && !unowned_files.is_empty();
    let passed = approvals_missing == 0
        && files_needing_owners.is_empty()
        && blocking_change_requests.is_empty()
        && !unowned_fail;

    let touched = |target: &str| paths.contains(&target);
    ReviewsOutcome {
        passed,
        approvals_counted: counted,
        approvals_required: config.required_approvals,
        approvals_missing,
        files_needing_owners,
        not_counted,
        blocking_change_requests,
        unowned_files,
        unowned_policy: config.unowned,
        code_owners_required: config.require_code_owners,
        codeowners_path: input.codeowners.as_ref().map(|c| c.path.clone()),
        codeowners_errors: co.errors.clone(),
        ownership_changed: LOCATIONS.iter().any(|l| touched(l)),
        config_changed: touched(REPO_CONFIG_PATH),
        unresolved_memberships: resolver.unresolved.into_iter().collect(),
        unlinked_commits,
        head_sha: input.head_sha.clone(),
        owner_errors: resolver.owner_errors.into_values().collect(),
        permissions_needed: authority.users_needed.into_inner(),
        team_access_needed: authority.teams_needed.into_inner(),
        authority_used: authority.used.into_inner(),
        base_changed_at: input.base_changed_at,
    }
}

/// Inline code for Markdown that survives any path: a fence longer than
/// the longest backtick run, control characters made visible.
fn code(s: &str) -> String {
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect();
    let mut longest = 0;
    let mut run = 0;
    for c in clean.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest + 1);
    let pad = if clean.starts_with('`') || clean.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{clean}{pad}{fence}")
}

/// `@login` with anything outside GitHub's login alphabet removed, so a
/// hostile value cannot inject Markdown.
fn at(login: &str) -> String {
    let clean: String = login
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '[' | ']'))
        .collect();
    format!("@{clean}")
}

fn short(sha: &CommitSha) -> String {
    code(sha.short())
}

fn owners_text(owners: &[Owner]) -> String {
    let parts: Vec<String> = owners
        .iter()
        .map(|o| match o {
            Owner::Email(e) => code(e),
            other => other.to_string(),
        })
        .collect();
    match parts.len() {
        0 => String::new(),
        1 => parts[0].clone(),
        2 => format!("{} or {}", parts[0], parts[1]),
        n => format!("{}, or {}", parts[..n - 1].join(", "), parts[n - 1]),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

fn push_list(out: &mut String, items: &[String]) {
    for item in items.iter().take(MAX_LIST) {
        let _ = writeln!(out, "- {item}");
    }
    if items.len() > MAX_LIST {
        let _ = writeln!(out, "- …and {} more", items.len() - MAX_LIST);
    }
}

/// Renders the check-run output: `(title, summary)`, the summary in Markdown
/// under GitHub's 65535-character cap.
pub fn render_summary(o: &ReviewsOutcome) -> (String, String) {
    let unowned_fail = o.code_owners_required && o.unowned_policy == Unowned::Deny;
    let title = if o.passed {
        format!(
            "Review requirements met ({})",
            plural(o.approvals_counted.len(), "approval", "approvals")
        )
    } else {
        let mut parts = Vec::new();
        if o.approvals_missing > 0 {
            parts.push(format!(
                "{} more {} needed",
                o.approvals_missing,
                if o.approvals_missing == 1 {
                    "approval"
                } else {
                    "approvals"
                }
            ));
        }
        if !o.files_needing_owners.is_empty() {
            parts.push(format!(
                "{} a code owner's approval",
                plural(o.files_needing_owners.len(), "file needs", "files need")
            ));
        }
        if unowned_fail && !o.unowned_files.is_empty() {
            parts.push(format!(
                "{} no code owner",
                plural(o.unowned_files.len(), "file has", "files have")
            ));
        }
        if !o.blocking_change_requests.is_empty() {
            parts.push("changes requested".into());
        }
        parts.join("; ")
    };

    let mut s = String::new();
    let _ = writeln!(
        s,
        "Evaluated for head commit {} with the base branch's rules.\n",
        short(&o.head_sha)
    );

    let mut needed = Vec::new();
    for f in &o.files_needing_owners {
        needed.push(format!(
            "{} needs an approval from {} (CODEOWNERS line {})",
            code(&f.path),
            owners_text(&f.owners),
            f.line
        ));
    }
    if o.approvals_missing > 0 {
        needed.push(format!(
            "{} more {} needed ({} of {} required counted so far)",
            o.approvals_missing,
            if o.approvals_missing == 1 {
                "approval"
            } else {
                "approvals"
            },
            o.approvals_counted.len(),
            o.approvals_required,
        ));
    }
    for c in &o.blocking_change_requests {
        let on = c
            .commit_id
            .as_ref()
            .map(|s| format!(" on {}", short(s)))
            .unwrap_or_default();
        needed.push(format!(
            "{}{} requested changes{on}: the PR is blocked until {} approves or the review is dismissed",
            at(&c.login),
            if c.is_owner { " (a code owner)" } else { "" },
            at(&c.login)
        ));
    }
    if unowned_fail {
        for u in &o.unowned_files {
            needed.push(format!(
                "{} has no code owner ({}); `reviews.unowned: deny` requires every changed file to be owned",
                code(&u.path),
                unowned_why(o, u)
            ));
        }
    }
    if !needed.is_empty() {
        s.push_str("### Still needed\n");
        push_list(&mut s, &needed);
        s.push('\n');
    }

    if !o.approvals_counted.is_empty() {
        let names: Vec<String> = o.approvals_counted.iter().map(|l| at(l)).collect();
        let _ = writeln!(
            s,
            "**Approvals counted ({} of {} required):** {}\n",
            o.approvals_counted.len(),
            o.approvals_required,
            names.join(", ")
        );
    }

    if !o.not_counted.is_empty() {
        s.push_str("### About the other approvals\n");
        let items: Vec<String> = o
            .not_counted
            .iter()
            .map(|n| not_counted_text(n, &o.head_sha))
            .collect();
        push_list(&mut s, &items);
        s.push('\n');
    }

    let mut notes = Vec::new();
    if o.ownership_changed {
        notes.push(
            "This PR changes CODEOWNERS. It is judged by the base branch's CODEOWNERS; the new ownership rules apply only after it is merged.".to_owned(),
        );
    }
    if o.config_changed {
        notes.push(format!(
            "This PR changes {}. It is judged by the base branch's configuration; the new rules apply only after it is merged.",
            code(REPO_CONFIG_PATH)
        ));
    }
    if o.code_owners_required && o.codeowners_path.is_none() {
        notes.push(format!(
            "No CODEOWNERS file on the base branch (looked at {}), so no file has a code owner.",
            LOCATIONS
                .iter()
                .map(|l| code(l))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !unowned_fail && !o.unowned_files.is_empty() {
        let list: Vec<String> = o
            .unowned_files
            .iter()
            .take(20)
            .map(|u| code(&u.path))
            .collect();
        notes.push(format!(
            "{} no code owner ({}{}); allowed by `reviews.unowned: allow`.",
            plural(
                o.unowned_files.len(),
                "changed file has",
                "changed files have"
            ),
            list.join(", "),
            if o.unowned_files.len() > 20 {
                ", …"
            } else {
                ""
            }
        ));
    }
    let co_path = o.codeowners_path.as_deref().unwrap_or("CODEOWNERS");
    for e in &o.codeowners_errors {
        notes.push(format!("{} {}: this line is ignored.", code(co_path), e));
    }
    for e in &o.owner_errors {
        notes.push(owner_error_text(co_path, e));
    }
    if let Some(changed) = o.base_changed_at {
        notes.push(format!(
            "The base branch of this pull request changed at {}; approvals given before that are stale.",
            changed.format("%Y-%m-%d %H:%M:%S UTC")
        ));
    }
    for (team, login) in &o.unresolved_memberships {
        notes.push(format!(
            "Could not check whether {} is a member of @{}; treated as not a member.",
            at(login),
            team
        ));
    }
    for u in &o.unlinked_commits {
        notes.push(format!(
            "Commit {}: the {} ({}) is not linked to a GitHub account, so `ignore_contributors` cannot tell whether an approver wrote it.",
            short(&u.sha),
            u.role,
            code(&u.identity)
        ));
    }
    if !notes.is_empty() {
        s.push_str("### Notes\n");
        push_list(&mut s, &notes);
    }

    if s.len() > MAX_SUMMARY {
        let mut end = MAX_SUMMARY;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push_str("\n\n…(truncated)\n");
    }
    (title, s)
}

/// GitHub's CODEOWNERS error for an owner without write access ("Unknown
/// owner on line N: make sure @x exists and has write access to the
/// repository"), plus what it means here.
fn owner_error_text(co_path: &str, e: &OwnerError) -> String {
    let owner = owners_text(std::slice::from_ref(&e.owner));
    let why = match &e.access {
        Access::NoWrite(role) => format!("its role is {}", code(role)),
        Access::Unknown(why) => format!("could not check its access: {}", code(why)),
        Access::Write(_) => "it has write access".into(),
    };
    format!(
        "{} line {}: Unknown owner {owner}: make sure it exists and has write access to the repository ({why}). It owns nothing, so its approval does not satisfy this line.",
        code(co_path),
        e.line
    )
}

fn unowned_why(o: &ReviewsOutcome, u: &UnownedFile) -> String {
    match (u.line, &o.codeowners_path) {
        (Some(l), _) => format!("CODEOWNERS line {l} lists no owners"),
        (None, Some(_)) => "no CODEOWNERS line matches it".into(),
        (None, None) => "there is no CODEOWNERS file".into(),
    }
}

fn not_counted_text(n: &NotCounted, head: &CommitSha) -> String {
    let who = at(&n.login);
    match &n.reason {
        Reason::Stale(Some(c)) => format!(
            "{who}'s approval was not counted: made on an older commit ({}); the head is now {}",
            short(c),
            short(head)
        ),
        Reason::Stale(None) => {
            format!(
                "{who}'s approval was not counted: GitHub did not say which commit it was made on"
            )
        }
        Reason::StaleBase(at_) => format!(
            "{who}'s approval was not counted: it was given before the pull request's base branch changed ({}); the merge base moved, so it must be approved again",
            at_.format("%Y-%m-%d %H:%M:%S UTC")
        ),
        Reason::NoWriteAccess(role) => format!(
            "{who}'s approval was not counted: {who} has no write access to this repository (role {}); GitHub counts only approvals from users with write access",
            code(role)
        ),
        Reason::PermissionUnknown(why) => format!(
            "{who}'s approval was not counted: could not check {who}'s permission on this repository ({}), so it is treated as no write access",
            code(why)
        ),
        Reason::Bot => format!(
            "{who}'s approval was not counted: {who} is a bot or app account; approvals from bots and apps never count"
        ),
        Reason::Author => format!("{who}'s approval was not counted: {who} opened this PR"),
        Reason::Contributor => format!(
            "{who}'s approval was not counted: {who} authored or committed a commit in this PR"
        ),
        Reason::NotOwner => format!(
            "{who}'s approval counts toward the total, but {who} is not an owner of any file still waiting for a code owner"
        ),
        Reason::Dismissed => format!("{who}'s review was dismissed"),
        Reason::Superseded => {
            format!("{who}'s earlier approval was replaced by their later request for changes")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "1111111111111111111111111111111111111111";
    const OLD: &str = "0000000abc000000000000000000000000000000";

    fn review(id: u64, user: &str, state: &str, commit: &str) -> Review {
        Review {
            id,
            user: user.into(),
            state: state.parse().unwrap(),
            commit_id: Some(CommitSha::new(commit)),
            submitted_at: None,
            order: id,
            bot: false,
        }
    }

    /// Every reviewer and every CODEOWNERS team has write access (the
    /// tests of authority override entries).
    fn all_write(inp: &mut ReviewsInput) {
        for r in &inp.reviews {
            inp.permissions
                .insert(r.user.to_ascii_lowercase(), Access::Write("write".into()));
        }
        let teams: Vec<String> = inp
            .codeowners
            .iter()
            .flat_map(|c| c.file.rules.iter())
            .flat_map(|r| r.owners.iter())
            .filter_map(|o| match o {
                Owner::Team { org, slug } => Some(format!("{org}/{slug}").to_ascii_lowercase()),
                _ => None,
            })
            .collect();
        for t in teams {
            inp.team_access.insert(t, Access::Write("push".into()));
        }
    }

    fn file(path: &str) -> PrFile {
        PrFile {
            path: path.into(),
            previous_path: None,
            status: ChangeStatus::Modified,
        }
    }

    fn input(codeowners: &str, files: Vec<PrFile>, reviews: Vec<Review>) -> ReviewsInput {
        let mut inp = ReviewsInput {
            author: "author".into(),
            head_sha: CommitSha::new(HEAD),
            files,
            reviews,
            commits: vec![PrCommit {
                sha: CommitSha::new(HEAD),
                author_login: Some("author".into()),
                committer_login: Some("web-flow".into()),
                ..PrCommit::new(CommitSha::new(HEAD))
            }],
            codeowners: Some(BaseCodeOwners {
                path: ".github/CODEOWNERS".into(),
                file: CodeOwners::parse(codeowners),
            }),
            email_logins: HashMap::new(),
            permissions: HashMap::new(),
            team_access: HashMap::new(),
            base_changed_at: None,
        };
        all_write(&mut inp);
        inp
    }

    fn no_teams() -> TeamMembers {
        TeamMembers::new()
    }

    fn cfg() -> ReviewsConfig {
        ReviewsConfig::default()
    }

    #[test]
    fn two_owner_approvals_pass_one_fails() {
        let co = "* @alice @bob @carol\n";
        let files = vec![file("prod/app.yaml")];
        let ok = evaluate(
            &input(
                co,
                files.clone(),
                vec![
                    review(1, "alice", "APPROVED", HEAD),
                    review(2, "bob", "approved", HEAD),
                ],
            ),
            &cfg(),
            &no_teams(),
        );
        assert!(ok.passed, "{ok:?}");
        assert_eq!(ok.approvals_counted, vec!["alice", "bob"]);
        let one = evaluate(
            &input(co, files, vec![review(1, "alice", "APPROVED", HEAD)]),
            &cfg(),
            &no_teams(),
        );
        assert!(!one.passed);
        assert_eq!(one.approvals_missing, 1);
        let (title, summary) = render_summary(&one);
        assert!(title.contains("1 more approval needed"), "{title}");
        assert!(summary.contains("1 of 2 required"), "{summary}");
    }

    #[test]
    fn stale_approval_does_not_count_unless_dismiss_stale_off() {
        let co = "* @alice @bob\n";
        let inp = input(
            co,
            vec![file("a.yaml")],
            vec![
                review(1, "alice", "APPROVED", HEAD),
                review(2, "bob", "APPROVED", OLD),
            ],
        );
        let o = evaluate(&inp, &cfg(), &no_teams());
        assert!(!o.passed);
        assert_eq!(
            o.not_counted,
            vec![NotCounted {
                login: "bob".into(),
                reason: Reason::Stale(Some(CommitSha::new(OLD)))
            }]
        );
        let (_, summary) = render_summary(&o);
        assert!(
            summary.contains("made on an older commit (`0000000`)"),
            "{summary}"
        );
        let lax = ReviewsConfig {
            dismiss_stale: false,
            ..cfg()
        };
        assert!(evaluate(&inp, &lax, &no_teams()).passed);
    }

    #[test]
    fn author_never_counts_even_when_owner() {
        let co = "* @author @alice\n";
        let inp = input(
            co,
            vec![file("a.yaml")],
            vec![
                review(1, "Author", "APPROVED", HEAD),
                review(2, "alice", "APPROVED", HEAD),
            ],
        );
        let lax = ReviewsConfig {
            ignore_contributors: false,
            required_approvals: 1,
            ..cfg()
        };
        let o = evaluate(&inp, &lax, &no_teams());
        assert!(o.passed);
        assert_eq!(o.not_counted[0].reason, Reason::Author);
        let strict = ReviewsConfig {
            ignore_contributors: false,
            ..cfg()
        };
        assert!(!evaluate(&inp, &strict, &no_teams()).passed);
    }

    #[test]
    fn contributor_approval_ignored_only_with_ignore_contributors() {
        let co = "* @alice @mallory2\n";
        let mut inp = input(
            co,
            vec![file("a.yaml")],
            vec![
                review(1, "alice", "APPROVED", HEAD),
                review(2, "mallory2", "APPROVED", HEAD),
            ],
        );
        inp.commits.push(PrCommit {
            sha: CommitSha::new("2222222222222222222222222222222222222222"),
            author_login: Some("someone".into()),
            committer_login: Some("Mallory2".into()),
            ..PrCommit::new(CommitSha::new(HEAD))
        });
        let o = evaluate(&inp, &cfg(), &no_teams());
        assert!(!o.passed);
        assert!(o.not_counted.contains(&NotCounted {
            login: "mallory2".into(),
            reason: Reason::Contributor
        }));
        let lax = ReviewsConfig {
            ignore_contributors: false,
            ..cfg()
        };
        assert!(evaluate(&inp, &lax, &no_teams()).passed);
    }

    #[test]
    fn latest_state_wins_commented_does_not_reset_dismissed_removes() {
        let co = "* @alice @bob\n";
        let files = vec![file("a.yaml")];
        // Comment after approval keeps it.
        let o = evaluate(
            &input(
                co,
                files.clone(),
                vec![
                    review(1, "alice", "APPROVED", HEAD),
                    review(2, "bob", "APPROVED", HEAD),
                    review(3, "bob", "COMMENTED", HEAD),
                ],
            ),
            &cfg(),
            &no_teams(),
        );
        assert!(o.passed);
        // Dismissal turns success into failure.
        let o = evaluate(
            &input(
                co,
                files.clone(),
                vec![
                    review(1, "alice", "APPROVED", HEAD),
                    review(2, "bob", "DISMISSED", HEAD),
                ],
            ),
            &cfg(),
            &no_teams(),
        );
        assert!(!o.passed);
        assert_eq!(o.not_counted[0].reason, Reason::Dismissed);
        // Re-approval after a change request counts again and unblocks.
        let o = evaluate(
            &input(
                co,
                files,
                vec![
                    review(1, "alice", "APPROVED", HEAD),
                    review(2, "bob", "CHANGES_REQUESTED", HEAD),
                    review(3, "bob", "APPROVED", HEAD),
                ],
            ),
            &cfg(),
            &no_teams(),
        );
        assert!(o.passed, "{o:?}");
    }

    #[test]
    fn changes_requested_blocks_and_supersedes() {
        let co = "* @alice @bob @carol\n";
        let o = evaluate(
            &input(
                co,
                vec![file("a.yaml")],
                vec![
                    review(1, "alice", "APPROVED", HEAD),
                    review(2, "bob", "APPROVED", HEAD),
                    review(3, "carol", "APPROVED", HEAD),
                    review(4, "carol", "CHANGES_REQUESTED", HEAD),
                ],
            ),
            &cfg(),
            &no_teams(),
        );
        assert!(!o.passed);
        assert_eq!(o.approvals_missing, 0);
        assert_eq!(o.blocking_change_requests.len(), 1);
        assert!(o.blocking_change_requests[0].is_owner);
        assert!(o.not_counted.iter().any(|n| n.reason == Reason::Superseded));
        let (title, summary) = render_summary(&o);
        assert!(title.contains("changes requested"));
        assert!(
            summary.contains("@carol (a code owner) requested changes"),
            "{summary}"
        );
        // A non-owner's change request also blocks (conservative).
        let o = evaluate(
            &input(
                "* @alice @bob\n",
                vec![file("a.yaml")],
                vec![
                    review(1, "alice", "APPROVED", HEAD),
                    review(2, "bob", "APPROVED", HEAD),
                    review(3, "zed", "CHANGES_REQUESTED", OLD),
                ],
            ),
            &cfg(),
            &no_teams(),
        );
        assert!(!o.passed);
        assert!(!o.blocking_change_requests[0].is_owner);
    }

    #[test]
    fn code_owner_needed_per_file_with_team_owner() {
        let co = "* @alice @bob\n/production/ @acme/platform-team\n";
        let files = vec![file("production/app.yaml"), file("staging/app.yaml")];
        let reviews = vec![
            review(1, "alice", "APPROVED", HEAD),
            review(2, "bob", "APPROVED", HEAD),
        ];
        let o = evaluate(
            &input(co, files.clone(), reviews.clone()),
            &cfg(),
            &no_teams(),
        );
        assert!(!o.passed);
        assert_eq!(o.files_needing_owners.len(), 1);
        assert_eq!(o.files_needing_owners[0].path, "production/app.yaml");
        assert_eq!(
            o.unresolved_memberships,
            vec![
                ("acme/platform-team".into(), "alice".into()),
                ("acme/platform-team".into(), "bob".into())
            ]
        );
        let (title, summary) = render_summary(&o);
        assert!(
            title.contains("1 file needs a code owner's approval"),
            "{title}"
        );
        assert!(
            summary.contains("`production/app.yaml` needs an approval from @acme/platform-team"),
            "{summary}"
        );
        // Bob is in the team: passes.
        let mut teams = TeamMembers::new();
        teams.insert("acme/Platform-Team", ["BOB"]);
        let o = evaluate(&input(co, files.clone(), reviews.clone()), &cfg(), &teams);
        assert!(o.passed, "{o:?}");
        assert!(o.unresolved_memberships.is_empty());
        // A closure works too, and a `Some(false)` is not "unresolved".
        let f = |_: &str, _: &str| Some(false);
        let o = evaluate(&input(co, files, reviews), &cfg(), &f);
        assert!(!o.passed);
        assert!(o.unresolved_memberships.is_empty());
    }

    #[test]
    fn email_owner_maps_to_login() {
        let co = "* @alice dev@example.com\n";
        let mut inp = input(
            co,
            vec![file("a.yaml")],
            vec![review(1, "bob", "APPROVED", HEAD)],
        );
        let one = ReviewsConfig {
            required_approvals: 1,
            ..cfg()
        };
        assert!(!evaluate(&inp, &one, &no_teams()).passed);
        inp.email_logins
            .insert("Dev@Example.com".into(), "Bob".into());
        assert!(evaluate(&inp, &one, &no_teams()).passed);
    }

    #[test]
    fn deleted_and_renamed_from_paths_need_owners() {
        let co = "* @alice @bob\n/production/ @prod-owner\n";
        let reviews = vec![
            review(1, "alice", "APPROVED", HEAD),
            review(2, "bob", "APPROVED", HEAD),
        ];
        let renamed = PrFile {
            path: "staging/app.yaml".into(),
            previous_path: Some("production/app.yaml".into()),
            status: ChangeStatus::Renamed,
        };
        let o = evaluate(
            &input(co, vec![renamed], reviews.clone()),
            &cfg(),
            &no_teams(),
        );
        assert!(!o.passed);
        assert_eq!(o.files_needing_owners[0].path, "production/app.yaml");
        let deleted = PrFile {
            path: "production/ns.yaml".into(),
            previous_path: None,
            status: ChangeStatus::Removed,
        };
        let o = evaluate(
            &input(co, vec![deleted], reviews.clone()),
            &cfg(),
            &no_teams(),
        );
        assert!(!o.passed);
        let o = evaluate(
            &input(co, vec![file("staging/x.yaml")], reviews),
            &cfg(),
            &no_teams(),
        );
        assert!(o.passed);
    }

    #[test]
    fn unowned_files_deny_or_allow() {
        let co = "/prod/ @alice\n/prod/generated/\n";
        let reviews = vec![
            review(1, "alice", "APPROVED", HEAD),
            review(2, "bob", "APPROVED", HEAD),
        ];
        let files = vec![
            file("prod/a.yaml"),
            file("other.txt"),
            file("prod/generated/x"),
        ];
        let o = evaluate(
            &input(co, files.clone(), reviews.clone()),
            &cfg(),
            &no_teams(),
        );
        assert!(!o.passed);
        assert_eq!(
            o.unowned_files,
            vec![
                UnownedFile {
                    path: "other.txt".into(),
                    line: None
                },
                UnownedFile {
                    path: "prod/generated/x".into(),
                    line: Some(2)
                }
            ]
        );
        let (title, summary) = render_summary(&o);
        assert!(title.contains("2 files have no code owner"), "{title}");
        assert!(
            summary.contains("CODEOWNERS line 2 lists no owners"),
            "{summary}"
        );
        let allow = ReviewsConfig {
            unowned: Unowned::Allow,
            ..cfg()
        };
        let o = evaluate(
            &input(co, files.clone(), reviews.clone()),
            &allow,
            &no_teams(),
        );
        assert!(o.passed);
        assert_eq!(o.unowned_files.len(), 2);
        // No CODEOWNERS at all: everything is unowned.
        let mut inp = input(co, files, reviews);
        inp.codeowners = None;
        let o = evaluate(&inp, &cfg(), &no_teams());
        assert!(!o.passed);
        assert_eq!(o.unowned_files.len(), 3);
        assert!(render_summary(&o).1.contains("No CODEOWNERS file"));
    }

    #[test]
    fn without_require_code_owners_only_count_matters() {
        let off = ReviewsConfig {
            require_code_owners: false,
            ..cfg()
        };
        let o = evaluate(
            &input(
                "",
                vec![file("x")],
                vec![
                    review(1, "x1", "APPROVED", HEAD),
                    review(2, "x2", "APPROVED", HEAD),
                ],
            ),
            &off,
            &no_teams(),
        );
        assert!(o.passed);
        assert!(o.unowned_files.is_empty());
    }

    #[test]
    fn not_owner_reason_and_policy_change_notes() {
        let co = "* @alice\n";
        let inp = input(
            co,
            vec![file(".github/CODEOWNERS"), file(REPO_CONFIG_PATH)],
            vec![
                review(1, "bob", "APPROVED", HEAD),
                review(2, "carl", "APPROVED", HEAD),
            ],
        );
        let o = evaluate(&inp, &cfg(), &no_teams());
        assert!(!o.passed);
        assert!(o.ownership_changed && o.config_changed);
        assert!(
            o.not_counted
                .iter()
                .any(|n| n.login == "bob" && n.reason == Reason::NotOwner)
        );
        let (_, summary) = render_summary(&o);
        assert!(summary.contains("This PR changes CODEOWNERS"), "{summary}");
        assert!(summary.contains("judged by the base branch's configuration"));
        let inp = input(
            co,
            vec![file("a")],
            vec![review(1, "alice", "APPROVED", HEAD)],
        );
        let o = evaluate(&inp, &cfg(), &no_teams());
        assert!(!o.ownership_changed && !o.config_changed);
    }

    #[test]
    fn unlinked_commits_are_reported() {
        let mut inp = input("* @a\n", vec![file("x")], vec![]);
        inp.commits.push(PrCommit {
            sha: CommitSha::new("3333333333333333333333333333333333333333"),
            author_login: None,
            committer_login: Some("web-flow".into()),
            author_name: Some("Eve".into()),
            author_email: Some("eve@evil.test".into()),
        });
        let o = evaluate(&inp, &cfg(), &no_teams());
        assert_eq!(o.unlinked_commits.len(), 1);
        assert_eq!(o.unlinked_commits[0].role, "author");
        assert!(render_summary(&o).1.contains("Eve <eve@evil.test>"));
    }

    #[test]
    fn only_a_counting_approval_lifts_a_change_request() {
        let co = "* @alice @bob\n";
        let files = vec![file("a.yaml")];
        // Bob requested changes, then approved an older commit: still blocked.
        let o = evaluate(
            &input(
                co,
                files.clone(),
                vec![
                    review(1, "alice", "APPROVED", HEAD),
                    review(2, "bob", "CHANGES_REQUESTED", OLD),
                    review(3, "bob", "APPROVED", OLD),
                ],
            ),
            &cfg(),
            &no_teams(),
        );
        assert!(!o.passed);
        assert_eq!(o.blocking_change_requests.len(), 1);
        assert_eq!(o.blocking_change_requests[0].review_id, 2);
        // Dismissal lifts it (and leaves no approval behind).
        let o = evaluate(
            &input(
                co,
                files.clone(),
                vec![
                    review(1, "alice", "APPROVED", HEAD),
                    review(2, "bob", "DISMISSED", OLD),
                    review(3, "carl", "APPROVED", HEAD),
                ],
            ),
            &ReviewsConfig {
                required_approvals: 2,
                ..cfg()
            },
            &no_teams(),
        );
        assert!(o.passed, "{o:?}");
        // An approval on head followed by one on an older commit still counts.
        let o = evaluate(
            &input(
                co,
                files,
                vec![
                    review(1, "alice", "APPROVED", HEAD),
                    review(2, "alice", "APPROVED", OLD),
                ],
            ),
            &ReviewsConfig {
                required_approvals: 1,
                ..cfg()
            },
            &no_teams(),
        );
        assert!(o.passed, "{o:?}");
    }

    #[test]
    fn approval_without_write_access_does_not_count_and_says_why() {
        let co = "* @alice @bob\n";
        let mut inp = input(
            co,
            vec![file("a.yaml")],
            vec![
                review(1, "alice", "APPROVED", HEAD),
                review(2, "reader", "APPROVED", HEAD),
            ],
        );
        let loose = ReviewsConfig {
            require_code_owners: false,
            ..cfg()
        };
        assert!(
            evaluate(&inp, &loose, &no_teams()).passed,
            "legitimate twin"
        );
        inp.permissions
            .insert("reader".into(), Access::NoWrite("read".into()));
        let o = evaluate(&inp, &loose, &no_teams());
        assert!(!o.passed);
        assert_eq!(o.approvals_counted, vec!["alice"]);
        assert_eq!(
            o.not_counted,
            vec![NotCounted {
                login: "reader".into(),
                reason: Reason::NoWriteAccess("read".into())
            }]
        );
        let (_, summary) = render_summary(&o);
        assert!(
            summary.contains("@reader's approval was not counted: @reader has no write access to this repository (role `read`)"),
            "{summary}"
        );
        // maintain and admin are write or more (GitHub's role names).
        inp.permissions
            .insert("reader".into(), Access::Write("maintain".into()));
        assert!(evaluate(&inp, &loose, &no_teams()).passed);
    }

    #[test]
    fn unknown_permission_fails_closed_and_is_asked_for() {
        let mut inp = input(
            "* @alice @bob\n",
            vec![file("a.yaml")],
            vec![
                review(1, "alice", "APPROVED", HEAD),
                review(2, "bob", "APPROVED", HEAD),
            ],
        );
        inp.permissions.remove("bob");
        let o = evaluate(&inp, &cfg(), &no_teams());
        assert!(!o.passed);
        assert_eq!(o.permissions_needed, BTreeSet::from(["bob".to_owned()]));
        inp.permissions
            .insert("bob".into(), Access::Unknown("GitHub answered 502".into()));
        let o = evaluate(&inp, &cfg(), &no_teams());
        assert!(!o.passed && o.permissions_needed.is_empty());
        assert!(render_summary(&o).1.contains(
            "could not check @bob's permission on this repository (`GitHub answered 502`)"
        ));
        // Stale or disqualified approvals cost no lookup.
        let mut inp = input(
            "* @alice\n",
            vec![file("a.yaml")],
            vec![
                review(1, "old", "APPROVED", OLD),
                review(2, "author", "APPROVED", HEAD),
            ],
        );
        inp.permissions.clear();
        assert!(
            evaluate(&inp, &cfg(), &no_teams())
                .permissions_needed
                .is_empty()
        );
    }

    #[test]
    fn bots_and_apps_never_count() {
        let mut by_type = review(2, "renovate", "APPROVED", HEAD);
        by_type.bot = true;
        for bot in [by_type, review(2, "gitops-guard[bot]", "APPROVED", HEAD)] {
            let inp = input(
                "* @alice @renovate @gitops-guard[bot]\n",
                vec![file("a.yaml")],
                vec![review(1, "alice", "APPROVED", HEAD), bot.clone()],
            );
            let o = evaluate(&inp, &cfg(), &no_teams());
            assert!(!o.passed, "{o:?}");
            assert_eq!(o.not_counted[0].reason, Reason::Bot);
            assert!(render_summary(&o).1.contains("is a bot or app account"));
        }
    }

    #[test]
    fn team_without_write_access_owns_nothing() {
        let co = "* @alice\n/production/ @acme/readers\n";
        let mut teams = TeamMembers::new();
        teams.insert("acme/readers", ["bob"]);
        let mut inp = input(
            co,
            vec![file("production/app.yaml")],
            vec![
                review(1, "alice", "APPROVED", HEAD),
                review(2, "bob", "APPROVED", HEAD),
            ],
        );
        assert!(evaluate(&inp, &cfg(), &teams).passed, "legitimate twin");
        inp.team_access
            .insert("acme/readers".into(), Access::NoWrite("pull".into()));
        let o = evaluate(&inp, &cfg(), &teams);
        assert!(!o.passed);
        assert_eq!(o.files_needing_owners[0].path, "production/app.yaml");
        assert_eq!(o.owner_errors.len(), 1);
        assert_eq!(o.owner_errors[0].line, 2);
        // Membership is not even asked once the team cannot own.
        assert!(o.unresolved_memberships.is_empty());
        let (_, summary) = render_summary(&o);
        assert!(
            summary.contains("`.github/CODEOWNERS` line 2: Unknown owner @acme/readers: make sure it exists and has write access to the repository (its role is `pull`)"),
            "{summary}"
        );
    }

    #[test]
    fn user_owner_without_write_access_is_reported() {
        let mut inp = input(
            "* @alice\n/production/ @viewer\n",
            vec![file("production/app.yaml")],
            vec![
                review(1, "alice", "APPROVED", HEAD),
                review(2, "viewer", "APPROVED", HEAD),
            ],
        );
        inp.permissions
            .insert("viewer".into(), Access::NoWrite("triage".into()));
        let o = evaluate(&inp, &cfg(), &no_teams());
        assert!(!o.passed);
        assert_eq!(o.files_needing_owners.len(), 1);
        assert_eq!(
            o.owner_errors,
            vec![OwnerError {
                line: 2,
                owner: Owner::User("viewer".into()),
                access: Access::NoWrite("triage".into())
            }]
        );
    }

    #[test]
    fn approvals_before_a_base_change_are_stale() {
        let at = |t: &str| DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc);
        let timed = |id, user: &str, t: &str| Review {
            submitted_at: Some(t.into()),
            ..review(id, user, "APPROVED", HEAD)
        };
        let mut inp = input(
            "* @alice @bob\n",
            vec![file("a.yaml")],
            vec![
                timed(1, "alice", "2026-01-01T10:00:00Z"),
                timed(2, "bob", "2026-01-01T10:05:00Z"),
            ],
        );
        assert!(evaluate(&inp, &cfg(), &no_teams()).passed);
        // Retargeted between the two approvals: alice's is stale.
        inp.base_changed_at = Some(at("2026-01-01T10:02:00Z"));
        let o = evaluate(&inp, &cfg(), &no_teams());
        assert!(!o.passed);
        assert_eq!(
            o.not_counted,
            vec![NotCounted {
                login: "alice".into(),
                reason: Reason::StaleBase(at("2026-01-01T10:02:00Z"))
            }]
        );
        assert!(render_summary(&o).1.contains(
            "given before the pull request's base branch changed (2026-01-01 10:02:00 UTC)"
        ));
        // The same second is not "after"; no time at all cannot prove it.
        inp.base_changed_at = Some(at("2026-01-01T10:00:00Z"));
        assert!(!evaluate(&inp, &cfg(), &no_teams()).passed);
        inp.base_changed_at = None;
        inp.reviews[0].submitted_at = None;
        assert!(evaluate(&inp, &cfg(), &no_teams()).passed);
        inp.base_changed_at = Some(at("2025-12-31T00:00:00Z"));
        assert!(!evaluate(&inp, &cfg(), &no_teams()).passed);
        // Re-approval after the change counts again.
        inp.reviews.push(timed(3, "alice", "2026-01-02T00:00:00Z"));
        assert!(evaluate(&inp, &cfg(), &no_teams()).passed);
        // With dismiss_stale off, nothing is stale.
        inp.reviews.pop();
        let lax = ReviewsConfig {
            dismiss_stale: false,
            ..cfg()
        };
        assert!(evaluate(&inp, &lax, &no_teams()).passed);
    }

    #[test]
    fn review_state_parse() {
        assert_eq!(
            "changes_requested".parse(),
            Ok(ReviewState::ChangesRequested)
        );
        assert_eq!("DISMISSED".parse(), Ok(ReviewState::Dismissed));
        assert!("approve".parse::<ReviewState>().is_err());
    }

    #[test]
    fn codeowners_errors_are_shown() {
        let o = evaluate(
            &input("* @a\n!x @b\n", vec![file("x")], vec![]),
            &cfg(),
            &no_teams(),
        );
        assert_eq!(o.codeowners_errors.len(), 1);
        assert!(render_summary(&o).1.contains("line 2"));
    }

    #[test]
    fn hostile_path_cannot_break_markdown() {
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("x\ny"), "`x\u{fffd}y`");
        assert_eq!(at("bob](http://x)"), "@bob]httpx");
    }
}
