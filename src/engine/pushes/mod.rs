//! Push alerts: turns a `push` to a deployment branch, plus the facts the
//! shell gathered from GitHub (the commits the ref movement made new, their
//! associated PRs and whether each PR passed the reviews gate, org
//! membership, signature verification, commits lost by a force-push), into
//! [`Alert`]s.
//!
//! Every push that bypasses the review gate is an incident: a force-push
//! rewrote history, a branch was deleted, a commit arrived without a merged
//! PR, a PR was merged without passing the reviews gate (an admin merge, or
//! its head pushed to the base by hand, which GitHub also records as a
//! merge), a commit came from someone who is not an org member or trusted,
//! or a commit is unsigned where signatures are required. Each alert carries
//! what a responder needs, including the exact Git commands that restore the
//! last trusted state through a normal, reviewed PR (no cluster access
//! needed).
//!
//! A push is judged by what the ref now points at: the commits `after` has
//! that the branch did not have ([`NewCommits`], from a compare of the ref
//! movement), never by the webhook's `commits` array, which is empty when a
//! branch is created at, or fast-forwarded to, an existing commit and is cut
//! at 2,048 entries.
//!
//! Identity comes from proof, not text: a commit counts as made by GitHub
//! (web-flow) only when GitHub verified its signature and the committer is
//! the linked `web-flow` account ([`made_by_github`]); authors and
//! committers are identified by their linked accounts.
//!
//! Facts the shell could not establish are `None` / `Unknown` and fail
//! closed: an unverifiable commit is reported as such, never assumed fine.

/// Protection and ruleset diffs: the `protection-weakened` alert.
pub mod protection;

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use crate::engine::config::globs::{GlobKind, glob};
use crate::engine::config::{PushConfig, SignaturesConfig};
use crate::engine::ids::{CommitSha, RepoName, RuleId};

/// The login of the account GitHub links to the commits it creates and
/// signs itself (merge button, squash and rebase merges, web edits).
pub const WEB_FLOW_LOGIN: &str = "web-flow";

/// Most commits an alert body lists one by one (the rest are counted).
pub const MAX_LISTED_COMMITS: usize = 100;

/// A Git identity of a commit: the free-text name and email, plus the
/// GitHub account GitHub linked to it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// Git name (free text).
    pub name: String,
    /// Git email (free text).
    pub email: String,
    /// GitHub login of the linked account (the commit API's `author` /
    /// `committer` object), present only when GitHub matched the email to
    /// an account.
    pub login: Option<String>,
}

impl Identity {
    /// `login` if known (GitHub validates logins), else `Name <email>` as
    /// an inline code span: both are free text the committer chose, and
    /// must not become Markdown or HTML in an alert.
    pub fn display(&self) -> String {
        match &self.login {
            Some(l) => format!("@{l}"),
            None => code_span(&format!("{} <{}>", self.name, self.email)),
        }
    }

    /// The linked account is GitHub's `web-flow`. On its own this proves
    /// nothing (GitHub links any commit whose email is web-flow's to that
    /// account, signed or not); [`made_by_github`] adds the signature.
    pub fn is_web_flow_account(&self) -> bool {
        self.login.as_deref() == Some(WEB_FLOW_LOGIN)
    }
}

/// One commit made new to the branch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushCommit {
    /// SHA.
    pub sha: CommitSha,
    /// First line of the message.
    pub title: String,
    /// Author.
    pub author: Identity,
    /// Committer.
    pub committer: Identity,
    /// Parent SHAs (a PR's reviewed history is walked through them).
    pub parents: Vec<CommitSha>,
}

/// The `push` event, reduced to what the rules need. Its `commits` array is
/// deliberately absent: see [`NewCommits`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushInput {
    /// Repository.
    pub repo: RepoName,
    /// The repository's default branch.
    pub default_branch: String,
    /// Full ref (`refs/heads/main`, `refs/tags/v1`).
    pub git_ref: String,
    /// SHA before the push (all zeros when created).
    pub before: CommitSha,
    /// SHA after the push (all zeros when deleted).
    pub after: CommitSha,
    /// Ref created by this push.
    pub created: bool,
    /// Ref deleted by this push.
    pub deleted: bool,
    /// History rewritten.
    pub forced: bool,
    /// GitHub's compare URL.
    pub compare_url: String,
    /// The GitHub user who pushed (`sender.login`).
    pub sender: String,
    /// The Git identity of the pusher.
    pub pusher: Identity,
}

/// The commits the ref movement made new to the branch: `before...after`
/// for an update (the commits `after` has that `before` has not, so a
/// force-push counts what it brought in), the default branch `...after` for
/// a created branch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NewCommits {
    /// All of them, oldest first (empty: the branch now points at a commit
    /// it, or the default branch, already had).
    Listed(Vec<PushCommit>),
    /// More than the shell verifies: the push is too large to verify.
    TooLarge {
        /// Commits GitHub counted, when it said.
        total: Option<u64>,
        /// The bound.
        cap: usize,
    },
    /// Could not be established (why).
    Unknown(String),
}

impl Default for NewCommits {
    fn default() -> Self {
        NewCommits::Unknown("the commits of the push were not gathered".into())
    }
}

impl NewCommits {
    /// The listed commits (none when unknown or too large).
    pub fn listed(&self) -> &[PushCommit] {
        match self {
            NewCommits::Listed(c) => c,
            _ => &[],
        }
    }
}

/// What GitHub says about one commit's associated pull requests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AssociatedPr {
    /// PR number.
    pub number: u64,
    /// Merged (not just open or closed).
    pub merged: bool,
    /// Base branch of the PR.
    pub base_ref: String,
    /// The PR's final head (`head.sha`), whose reviews verdict counts.
    pub head_sha: Option<CommitSha>,
    /// The commit GitHub wrote to the base when it merged.
    pub merge_commit_sha: Option<CommitSha>,
}

/// Whether a merged PR passed the reviews gate on its final head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReviewGate {
    /// This App's `gitops-guard/reviews` run on the final head concluded
    /// `success`.
    Passed,
    /// It did not (why: the conclusion, no run, a run from another App).
    NotPassed(String),
    /// Could not be read (why).
    Unknown(String),
}

/// Signature verification of a commit, from GitHub's commit API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verification {
    /// `verification.verified`.
    pub verified: bool,
    /// `verification.reason`.
    pub reason: String,
}

/// Facts the shell gathered from GitHub. `None` means "could not be
/// established" and is treated as suspicious.
#[derive(Clone, Debug, Default)]
pub struct PushFacts {
    /// The commits the ref movement made new.
    pub new_commits: NewCommits,
    /// Per commit: its associated PRs.
    pub associated_prs: BTreeMap<CommitSha, Option<Vec<AssociatedPr>>>,
    /// Per merged PR number: its reviews verdict on its final head.
    pub review_gates: BTreeMap<u64, ReviewGate>,
    /// Per merged PR number: who merged it, when known.
    pub merged_by: BTreeMap<u64, String>,
    /// Per login: org membership (`Some(true)` active member).
    pub org_members: BTreeMap<String, Option<bool>>,
    /// Logins of members of the `@org/team` entries in `trusted_authors`.
    pub trusted_team_members: BTreeSet<String>,
    /// Per commit: verification.
    pub verification: BTreeMap<CommitSha, Option<Verification>>,
    /// Commits that disappeared from the branch in a force-push (from a
    /// compare of `after...before`), when the API could tell.
    pub lost_commits: Option<Vec<PushCommit>>,
}

/// Alert kinds; each is also a rule id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AlertKind {
    /// History of a protected branch was rewritten.
    ForcePush,
    /// A protected branch was deleted.
    BranchDeleted,
    /// Commits reached the branch without a merged PR.
    DirectPush,
    /// Commits from authors who are neither org members nor trusted.
    UnknownAuthor,
    /// Unsigned or unverified commits where signatures are required.
    UnsignedCommit,
    /// A push to a protected tag pattern.
    TagPush,
    /// Branch protection or a ruleset was weakened.
    ProtectionWeakened,
    /// Commits came with a PR that was merged without passing the reviews
    /// gate on its final head.
    ReviewBypass,
}

impl AlertKind {
    /// The rule id (`force-push`, …).
    pub fn rule(self) -> RuleId {
        RuleId::new(match self {
            AlertKind::ForcePush => "force-push",
            AlertKind::BranchDeleted => "branch-deleted",
            AlertKind::DirectPush => "direct-push",
            AlertKind::UnknownAuthor => "unknown-author",
            AlertKind::UnsignedCommit => "unsigned-commit",
            AlertKind::TagPush => "tag-push",
            AlertKind::ProtectionWeakened => "protection-weakened",
            AlertKind::ReviewBypass => "review-bypass",
        })
    }

    /// The README runbook anchor this alert links to.
    pub fn runbook_anchor(self) -> &'static str {
        match self {
            AlertKind::ForcePush => "runbook-force-push",
            AlertKind::BranchDeleted => "runbook-branch-deleted",
            AlertKind::DirectPush => "runbook-direct-push",
            AlertKind::UnknownAuthor => "runbook-unknown-author",
            AlertKind::UnsignedCommit => "runbook-unsigned-commit",
            AlertKind::TagPush => "runbook-tag-push",
            AlertKind::ProtectionWeakened => "runbook-protection-weakened",
            AlertKind::ReviewBypass => "runbook-review-bypass",
        }
    }
}

/// One security alert, ready for every sink (issue, chat webhook, metric, log).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    /// Kind.
    pub kind: AlertKind,
    /// Repository the incident happened in.
    pub repo: RepoName,
    /// Ref concerned.
    pub git_ref: String,
    /// Stable incident fingerprint: repeats of the same incident update one issue.
    pub fingerprint: String,
    /// One-line title (issue title, chat headline).
    pub title: String,
    /// Markdown body: what happened, the commits, what to do.
    pub body: String,
    /// SHAs the alert is about (the pushed `after` SHA first).
    pub shas: Vec<CommitSha>,
    /// Copy-paste shell commands restoring the last trusted state via a PR.
    pub rollback: Vec<String>,
    /// The branch a rollback PR would use (`gitops-guard/revert-<sha>`).
    pub revert_branch: Option<String>,
}

/// Does the `push.branches` / `push.tags` pattern match the branch or tag
/// name? Exactly the dialect config validation accepts
/// ([`crate::engine::config::globs`], [`GlobKind::Ref`]: `*` and `?` stop
/// at `/`, `**` crosses it, `{a,b}` alternatives, `[0-9]` classes, `\`
/// escapes), so a pattern that validates matches what it says. A pattern
/// validation would refuse (only possible for configs built in code)
/// matches nothing.
pub fn ref_glob(pattern: &str, name: &str) -> bool {
    glob(pattern, GlobKind::Ref).is_some_and(|g| g.is_match(name))
}

/// Is `branch` a protected deployment branch under `cfg`?
pub fn is_protected_branch(cfg: &PushConfig, default_branch: &str, branch: &str) -> bool {
    if cfg.branches.is_empty() {
        return branch == default_branch;
    }
    cfg.branches.iter().any(|p| ref_glob(p, branch))
}

/// Does a PR merged into `base` bring commits to the pushed branch
/// legitimately? Into the branch itself; for a branch the push created,
/// into any deployment branch too (a branch cut from another deployment
/// branch carries that branch's reviewed merges).
pub fn merge_base_counts(cfg: &PushConfig, input: &PushInput, base: &str) -> bool {
    let Some(branch) = input.git_ref.strip_prefix("refs/heads/") else {
        return false;
    };
    base == branch || (input.created && is_protected_branch(cfg, &input.default_branch, base))
}

/// Is `tag` a protected tag under `cfg`?
pub fn is_protected_tag(cfg: &PushConfig, tag: &str) -> bool {
    cfg.tags.iter().any(|p| ref_glob(p, tag))
}

/// GitHub made this commit itself: its signature is verified and the
/// committer is the linked `web-flow` account (GitHub signs what it commits
/// with web-flow's key, which nobody else holds; a committer merely written
/// as `GitHub <noreply@github.com>` is linked to web-flow too, but is not
/// signed by it).
pub fn made_by_github(c: &PushCommit, facts: &PushFacts) -> bool {
    c.committer.is_web_flow_account()
        && matches!(facts.verification.get(&c.sha), Some(Some(v)) if v.verified)
}

fn fingerprint(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    hex::encode(&h.finalize()[..8])
}

/// Attacker-chosen text (commit titles, Git names) as an inline code span:
/// Markdown, HTML and comments (a forged `<!-- gitops-guard:fingerprint=…
/// -->` included) stay literal. A backtick cannot be escaped inside a code
/// span, so it becomes `'`; line breaks become spaces.
fn code_span(s: &str) -> String {
    let flat: String = s
        .chars()
        .map(|c| match c {
            '`' => '\'',
            '\n' | '\r' => ' ',
            c => c,
        })
        .collect();
    format!("`{flat}`")
}

fn commit_line(c: &PushCommit) -> String {
    format!(
        "- `{}` {} — author {}, committer {}",
        c.sha.short(),
        code_span(&c.title),
        c.author.display(),
        c.committer.display()
    )
}

/// `lines`, at most [`MAX_LISTED_COMMITS`] of them, then a count of the rest.
fn bounded_list(lines: &[String]) -> String {
    let mut out = String::new();
    for l in lines.iter().take(MAX_LISTED_COMMITS) {
        out.push_str(l);
        out.push('\n');
    }
    if lines.len() > MAX_LISTED_COMMITS {
        out.push_str(&format!(
            "- … and {} more\n",
            lines.len() - MAX_LISTED_COMMITS
        ));
    }
    out
}

fn is_trusted(
    cfg: &PushConfig,
    facts: &PushFacts,
    c: &PushCommit,
    id: &Identity,
) -> Result<(), String> {
    // GitHub itself, proven by its signature: as committer of what it made,
    // and as author only of commits it also committed.
    if id.is_web_flow_account() && made_by_github(c, facts) {
        return Ok(());
    }
    // An email entry counts only where a signature proves the email: GitHub
    // verifies a signature against the committer's email, so a verified
    // commit whose committer email is the entry's, for whichever role has
    // that email. Free text alone (an unsigned commit claiming the email)
    // proves nothing.
    let email = id.email.to_ascii_lowercase();
    let proven_email = matches!(facts.verification.get(&c.sha), Some(Some(v)) if v.verified)
        && c.committer.email.eq_ignore_ascii_case(&id.email);
    if proven_email
        && cfg
            .trusted_authors
            .iter()
            .any(|t| !t.starts_with('@') && t.contains('@') && t.to_ascii_lowercase() == email)
    {
        return Ok(());
    }
    let Some(login) = &id.login else {
        return Err(format!("{} matches no GitHub account", id.display()));
    };
    if cfg.trusted_authors.iter().any(|t| {
        !t.contains('@') && t.eq_ignore_ascii_case(login)
            || t.strip_prefix('@')
                .is_some_and(|t| !t.contains('/') && t.eq_ignore_ascii_case(login))
    }) {
        return Ok(());
    }
    if facts
        .trusted_team_members
        .iter()
        .any(|m| m.eq_ignore_ascii_case(login))
    {
        return Ok(());
    }
    match facts.org_members.get(login) {
        Some(Some(true)) => Ok(()),
        Some(Some(false)) => Err(format!(
            "@{login} is not a member of the organisation and not in `push.trusted_authors`"
        )),
        _ => Err(format!(
            "the organisation membership of @{login} could not be verified"
        )),
    }
}

/// Commands that restore the branch's content to `good` through a PR: a new
/// commit on top of the current head whose tree is `good`'s tree.
fn restore_commands(
    repo: &RepoName,
    branch: &str,
    good: &CommitSha,
    bad: &CommitSha,
    why: &str,
) -> (Vec<String>, String) {
    let rb = format!("gitops-guard/revert-{}", bad.short());
    let cmds = vec![
        format!(
            "git clone https://github.com/{repo}.git && cd {}",
            repo.name()
        ),
        format!("git fetch origin {good} {branch}"),
        format!("git switch -c {rb} origin/{branch}"),
        format!("git read-tree -u --reset {good}"),
        format!(
            "git commit -m \"Restore {branch} to {} ({why})\"",
            good.short()
        ),
        format!("git push origin {rb}"),
        format!(
            "gh pr create --repo {repo} --base {branch} --head {rb} --title \"Restore {branch} to {}\" --body \"{why}\"",
            good.short()
        ),
    ];
    (cmds, rb)
}

/// Why one new commit is not covered by a reviewed merge.
enum Uncovered<'a> {
    /// No merged PR into the branch contains it (or that could not be read).
    Direct(&'static str),
    /// A merged PR contains it, but it did not pass the reviews gate.
    Bypass(&'a AssociatedPr),
}

/// The new commits a PR's reviews covered: its final head and the head's
/// ancestors among the new commits (what the reviews gate judged as the
/// PR's diff).
fn reviewed_commits<'a>(
    head: &CommitSha,
    new: &BTreeMap<&'a CommitSha, &'a PushCommit>,
) -> BTreeSet<&'a CommitSha> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![head];
    while let Some(s) = stack.pop() {
        if let Some((sha, c)) = new.get_key_value(s)
            && seen.insert(*sha)
        {
            stack.extend(c.parents.iter());
        }
    }
    seen
}

/// Judges one new commit against its associated PRs: covered when a merged
/// PR into an accepted base passed the gate and the commit is either one of
/// its reviewed commits or one GitHub wrote when merging it (merge, squash
/// or rebased commit). A commit merely associated with a passing PR (a
/// merge commit made by hand with changes of its own, an old PR commit
/// pushed again) is not covered.
fn coverage<'a>(
    c: &PushCommit,
    facts: &'a PushFacts,
    accepts_base: &dyn Fn(&str) -> bool,
    reviewed: &BTreeMap<u64, BTreeSet<&CommitSha>>,
) -> Option<Uncovered<'a>> {
    let prs = match facts.associated_prs.get(&c.sha) {
        Some(Some(prs)) => prs,
        _ => {
            return Some(Uncovered::Direct(
                "its pull requests could not be looked up",
            ));
        }
    };
    let merged: Vec<&AssociatedPr> = prs
        .iter()
        .filter(|p| p.merged && accepts_base(&p.base_ref))
        .collect();
    let passed = |p: &AssociatedPr| facts.review_gates.get(&p.number) == Some(&ReviewGate::Passed);
    if merged.iter().any(|p| {
        passed(p)
            && (made_by_github(c, facts)
                || reviewed.get(&p.number).is_some_and(|r| r.contains(&c.sha)))
    }) {
        return None;
    }
    if let Some(p) = merged.iter().find(|p| !passed(p)) {
        return Some(Uncovered::Bypass(p));
    }
    Some(Uncovered::Direct(if merged.is_empty() {
        "no merged pull request into this branch contains it"
    } else {
        "a reviewed pull request lists it, but it is neither one of the commits reviewed there nor one GitHub wrote when merging it"
    }))
}

fn gate_reason(facts: &PushFacts, number: u64) -> String {
    match facts.review_gates.get(&number) {
        Some(ReviewGate::Passed) => "passed".into(),
        Some(ReviewGate::NotPassed(why)) => why.clone(),
        Some(ReviewGate::Unknown(why)) => format!("its reviews verdict could not be read: {why}"),
        None => "its reviews verdict was not checked".into(),
    }
}

/// Evaluates a push. Returns no alerts for refs that are not protected.
pub fn evaluate_push(
    cfg: &PushConfig,
    sig: &SignaturesConfig,
    input: &PushInput,
    facts: &PushFacts,
) -> Vec<Alert> {
    let mut alerts = Vec::new();
    if let Some(tag) = input.git_ref.strip_prefix("refs/tags/") {
        if is_protected_tag(cfg, tag) {
            let what = if input.deleted {
                "deleted"
            } else if input.created {
                "created"
            } else {
                "moved"
            };
            alerts.push(Alert {
                kind: AlertKind::TagPush,
                repo: input.repo.clone(),
                git_ref: input.git_ref.clone(),
                fingerprint: fingerprint(&["tag-push", input.repo.as_str(), &input.git_ref, input.after.as_str()]),
                title: format!("Protected tag `{tag}` {what} in {} by @{}", input.repo, input.sender),
                body: format!(
                    "The protected tag `{tag}` was {what} by @{} (Git identity {}).\n\n- before: `{}`\n- after: `{}`\n- compare: {}\n",
                    input.sender, input.pusher.display(), input.before, input.after, input.compare_url
                ),
                shas: vec![input.after.clone()],
                rollback: if input.before.is_zero() {
                    vec![format!("git push origin :refs/tags/{tag}")]
                } else {
                    vec![format!("git push --force origin {}:refs/tags/{tag}", input.before)]
                },
                revert_branch: None,
            });
        }
        return alerts;
    }
    let Some(branch) = input.git_ref.strip_prefix("refs/heads/") else {
        return alerts;
    };
    if !is_protected_branch(cfg, &input.default_branch, branch) {
        return alerts;
    }
    let repo = &input.repo;
    let header = format!(
        "- repository: `{repo}`\n- branch: `{branch}`\n- pushed by: @{} (Git identity {})\n- before: `{}`\n- after: `{}`\n- compare: {}\n",
        input.sender,
        input.pusher.display(),
        input.before,
        input.after,
        input.compare_url
    );

    if input.deleted {
        let restore = format!("git push origin {}:refs/heads/{branch}", input.before);
        alerts.push(Alert {
            kind: AlertKind::BranchDeleted,
            repo: repo.clone(),
            git_ref: input.git_ref.clone(),
            fingerprint: fingerprint(&["branch-deleted", repo.as_str(), branch, input.before.as_str()]),
            title: format!("Deployment branch `{branch}` deleted in {repo} by @{}", input.sender),
            body: format!(
                "The protected deployment branch `{branch}` was deleted. Argo CD / Flux may prune everything it deployed from it.\n\n{header}"
            ),
            shas: vec![input.before.clone()],
            rollback: vec![
                format!("git clone https://github.com/{repo}.git && cd {}", repo.name()),
                format!("git fetch origin {}", input.before),
                restore,
            ],
            revert_branch: None,
        });
        return alerts;
    }

    if input.forced && !input.created {
        let why = format!("undo force-push by @{}", input.sender);
        let (rollback, rb) = restore_commands(repo, branch, &input.before, &input.after, &why);
        let lost = match &facts.lost_commits {
            Some(l) if l.is_empty() => {
                "No commits were lost (the old head is an ancestor of the new one).\n".to_owned()
            }
            Some(l) => format!(
                "Commits that disappeared from `{branch}`:\n{}",
                bounded_list(&l.iter().map(commit_line).collect::<Vec<_>>())
            ),
            None => {
                "GitHub could not tell which commits disappeared; compare the two SHAs above.\n"
                    .to_owned()
            }
        };
        alerts.push(Alert {
            kind: AlertKind::ForcePush,
            repo: repo.clone(),
            git_ref: input.git_ref.clone(),
            fingerprint: fingerprint(&["force-push", repo.as_str(), branch, input.before.as_str(), input.after.as_str()]),
            title: format!("Force-push to `{branch}` in {repo} by @{} ({})", input.sender, input.after.short()),
            body: format!("History of the protected deployment branch `{branch}` was rewritten.\n\n{header}\n{lost}"),
            shas: vec![input.after.clone(), input.before.clone()],
            rollback,
            revert_branch: Some(rb),
        });
    }

    // The rollback shared by the direct-push and review-bypass alerts:
    // restore `before` (nothing to restore to when the branch was created).
    let restore = |why: String| -> (Vec<String>, Option<String>) {
        if input.before.is_zero() {
            return (Vec::new(), None);
        }
        let (mut cmds, rb) = restore_commands(repo, branch, &input.before, &input.after, &why);
        cmds.push(format!(
            "# or, commit by commit: git revert --no-edit {}..{}",
            input.before, input.after
        ));
        (cmds, Some(rb))
    };

    // Every new commit must come with a PR merged into this branch (see
    // `merge_base_counts` for created branches) whose reviews gate passed on
    // its final head.
    let accepts_base = |base: &str| merge_base_counts(cfg, input, base);
    let commits = facts.new_commits.listed();
    let by_sha: BTreeMap<&CommitSha, &PushCommit> = commits.iter().map(|c| (&c.sha, c)).collect();
    let mut reviewed: BTreeMap<u64, BTreeSet<&CommitSha>> = BTreeMap::new();
    for p in facts.associated_prs.values().flatten().flatten() {
        if let Some(head) = &p.head_sha
            && !reviewed.contains_key(&p.number)
        {
            reviewed.insert(p.number, reviewed_commits(head, &by_sha));
        }
    }
    let mut direct: Vec<(&PushCommit, &'static str)> = Vec::new();
    let mut bypass: BTreeMap<u64, Vec<&PushCommit>> = BTreeMap::new();
    for c in commits {
        match coverage(c, facts, &accepts_base, &reviewed) {
            None => {}
            Some(Uncovered::Direct(why)) => direct.push((c, why)),
            Some(Uncovered::Bypass(pr)) => bypass.entry(pr.number).or_default().push(c),
        }
    }
    let unverifiable = match &facts.new_commits {
        NewCommits::Listed(_) => None,
        NewCommits::TooLarge { total, cap } => Some(format!(
            "The push is too large to verify: it makes {} commits new to `{branch}`, more than the {cap} gitops-guard checks. None of them were checked; review the whole range by hand.\n",
            total.map_or_else(|| "more".to_owned(), |t| t.to_string())
        )),
        NewCommits::Unknown(why) => Some(format!(
            "The commits this push made new to `{branch}` could not be listed ({why}); the push cannot be verified and must be reviewed by hand.\n"
        )),
    };
    if !direct.is_empty() || unverifiable.is_some() {
        let (rollback, rb) = restore(format!("revert direct push by @{}", input.sender));
        let mut body = format!(
            "Commits reached the protected branch `{branch}` without a merged, reviewed pull request.\n\n{header}\n"
        );
        body.push_str(&bounded_list(
            &direct
                .iter()
                .map(|(c, why)| format!("{} — {why}", commit_line(c)))
                .collect::<Vec<_>>(),
        ));
        if let Some(u) = &unverifiable {
            body.push('\n');
            body.push_str(u);
        }
        alerts.push(Alert {
            kind: AlertKind::DirectPush,
            repo: repo.clone(),
            git_ref: input.git_ref.clone(),
            fingerprint: fingerprint(&["direct-push", repo.as_str(), branch, &input.sender]),
            title: format!(
                "Direct push to `{branch}` in {repo} by @{} ({})",
                input.sender,
                input.after.short()
            ),
            body,
            shas: std::iter::once(input.after.clone())
                .chain(direct.iter().map(|(c, _)| c.sha.clone()))
                .collect(),
            rollback,
            revert_branch: rb,
        });
    }

    if !bypass.is_empty() {
        let who = |n: u64| {
            facts.merged_by.get(&n).map_or_else(
                || "an account GitHub did not name".to_owned(),
                |l| format!("@{l}"),
            )
        };
        let first = *bypass.keys().next().unwrap_or(&0);
        let (rollback, rb) = restore(format!(
            "revert PR #{first} merged by {} without passing review",
            who(first)
        ));
        let mut body = format!(
            "Pull requests were merged into the protected branch `{branch}` without passing the `gitops-guard/reviews` gate on their final head (an admin merge, or the head pushed to `{branch}` by hand, which GitHub records as a merge).\n\n{header}\n"
        );
        for (n, cs) in &bypass {
            let head = cs
                .first()
                .and_then(|c| facts.associated_prs.get(&c.sha))
                .and_then(|p| p.as_ref())
                .and_then(|prs| prs.iter().find(|p| p.number == *n))
                .and_then(|p| p.head_sha.as_ref())
                .map_or_else(|| "unknown".to_owned(), |s| format!("`{}`", s.short()));
            body.push_str(&format!(
                "- PR #{n}, merged by {}, final head {head}: {}\n",
                who(*n),
                gate_reason(facts, *n)
            ));
            body.push_str(&bounded_list(
                &cs.iter()
                    .map(|c| format!("  {}", commit_line(c)))
                    .collect::<Vec<_>>(),
            ));
        }
        let numbers: Vec<String> = bypass.keys().map(u64::to_string).collect();
        let mut fp = vec!["review-bypass", repo.as_str(), branch];
        fp.extend(numbers.iter().map(String::as_str));
        let mergers: BTreeSet<String> = bypass.keys().map(|n| who(*n)).collect();
        alerts.push(Alert {
            kind: AlertKind::ReviewBypass,
            repo: repo.clone(),
            git_ref: input.git_ref.clone(),
            fingerprint: fingerprint(&fp),
            title: format!(
                "Review bypass on `{branch}` in {repo}: PR #{} merged by {} without passing review ({})",
                numbers.join(", #"),
                mergers.into_iter().collect::<Vec<_>>().join(", "),
                input.after.short()
            ),
            body,
            shas: std::iter::once(input.after.clone())
                .chain(bypass.values().flatten().map(|c| c.sha.clone()))
                .collect(),
            rollback,
            revert_branch: rb,
        });
    }

    // Authors and committers that are neither members nor trusted.
    let mut unknown: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut unknown_shas = Vec::new();
    for c in commits {
        for (role, id) in [("author", &c.author), ("committer", &c.committer)] {
            if let Err(why) = is_trusted(cfg, facts, c, id) {
                unknown
                    .entry(why)
                    .or_default()
                    .push(format!("`{}` ({role})", c.sha.short()));
                if !unknown_shas.contains(&c.sha) {
                    unknown_shas.push(c.sha.clone());
                }
            }
        }
    }
    if !unknown.is_empty() {
        let mut body = format!(
            "Commits on `{branch}` come from identities that are not organisation members nor trusted.\n\n{header}\n"
        );
        for (why, commits) in &unknown {
            let shown: Vec<&str> = commits
                .iter()
                .take(MAX_LISTED_COMMITS)
                .map(String::as_str)
                .collect();
            let more = commits.len().saturating_sub(MAX_LISTED_COMMITS);
            body.push_str(&format!("- {why}: {}", shown.join(", ")));
            if more > 0 {
                body.push_str(&format!(" and {more} more"));
            }
            body.push('\n');
        }
        let mut keys: Vec<&str> = unknown.keys().map(String::as_str).collect();
        keys.sort_unstable();
        let mut fp = vec!["unknown-author", repo.as_str(), branch];
        fp.extend(keys);
        alerts.push(Alert {
            kind: AlertKind::UnknownAuthor,
            repo: repo.clone(),
            git_ref: input.git_ref.clone(),
            fingerprint: fingerprint(&fp),
            title: format!(
                "Unknown author on `{branch}` in {repo} ({})",
                input.after.short()
            ),
            body,
            shas: std::iter::once(input.after.clone())
                .chain(unknown_shas)
                .collect(),
            rollback: Vec::new(),
            revert_branch: None,
        });
    }

    if sig.required {
        let mut bad = Vec::new();
        for c in commits {
            match facts.verification.get(&c.sha) {
                Some(Some(v)) if v.verified => {}
                Some(Some(v)) => bad.push(format!("{} — {}", commit_line(c), v.reason)),
                _ => bad.push(format!(
                    "{} — verification could not be read",
                    commit_line(c)
                )),
            }
        }
        if !bad.is_empty() {
            alerts.push(Alert {
                kind: AlertKind::UnsignedCommit,
                repo: repo.clone(),
                git_ref: input.git_ref.clone(),
                fingerprint: fingerprint(&["unsigned-commit", repo.as_str(), branch, &input.sender]),
                title: format!("Unsigned commits on `{branch}` in {repo} ({})", input.after.short()),
                body: format!("Signatures are required on `{branch}`, but these commits are not verified:\n\n{}\n{header}", bounded_list(&bad)),
                shas: vec![input.after.clone()],
                rollback: Vec::new(),
                revert_branch: None,
            });
        }
    }

    // Alerts about the same push share one rollback: attach it to every alert
    // of the push so that each issue is self-contained.
    if let Some(shared) = alerts
        .iter()
        .find(|a| !a.rollback.is_empty())
        .map(|a| (a.rollback.clone(), a.revert_branch.clone()))
    {
        for a in alerts.iter_mut().filter(|a| a.rollback.is_empty()) {
            a.rollback = shared.0.clone();
            a.revert_branch = shared.1.clone();
        }
    }
    alerts
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const BEFORE: &str = "1111111111111111111111111111111111111111";
    const AFTER: &str = "2222222222222222222222222222222222222222";
    const ZERO: &str = "0000000000000000000000000000000000000000";

    #[test]
    fn attacker_text_stays_literal_in_alert_bodies() {
        // A commit title that would forge the dedupe fingerprint, inject
        // HTML and break out of a code span.
        let evil = "fix <!-- gitops-guard:fingerprint=0000 --> <b>ok</b> `x`\nsecond";
        assert_eq!(
            code_span(evil),
            "`fix <!-- gitops-guard:fingerprint=0000 --> <b>ok</b> 'x' second`"
        );
        let unlinked = Identity {
            name: "<img src=x> `n`".into(),
            email: "e@x".into(),
            login: None,
        };
        assert_eq!(unlinked.display(), "`<img src=x> 'n' <e@x>`");
        // A login is GitHub-validated and stays a mention.
        let linked = Identity {
            login: Some("octocat".into()),
            ..unlinked
        };
        assert_eq!(linked.display(), "@octocat");
    }

    fn id(login: Option<&str>, email: &str) -> Identity {
        Identity {
            name: login.unwrap_or("Someone").into(),
            email: email.into(),
            login: login.map(Into::into),
        }
    }

    fn commit(sha: &str, who: Option<&str>) -> PushCommit {
        PushCommit {
            sha: CommitSha::new(sha),
            title: "change".into(),
            author: id(who, &format!("{}@example.com", who.unwrap_or("x"))),
            committer: id(who, &format!("{}@example.com", who.unwrap_or("x"))),
            parents: vec![CommitSha::new(BEFORE)],
        }
    }

    fn web_flow() -> Identity {
        Identity {
            name: "GitHub".into(),
            email: "noreply@github.com".into(),
            login: Some(WEB_FLOW_LOGIN.into()),
        }
    }

    fn push() -> PushInput {
        PushInput {
            repo: RepoName::parse("acme/deploy").unwrap(),
            default_branch: "main".into(),
            git_ref: "refs/heads/main".into(),
            before: CommitSha::new(BEFORE),
            after: CommitSha::new(AFTER),
            created: false,
            deleted: false,
            forced: false,
            compare_url: "https://github.com/acme/deploy/compare/1111111...2222222".into(),
            sender: "alice".into(),
            pusher: id(Some("alice"), "alice@example.com"),
        }
    }

    fn merged(number: u64, base: &str) -> AssociatedPr {
        AssociatedPr {
            number,
            merged: true,
            base_ref: base.into(),
            head_sha: Some(CommitSha::new(AFTER)),
            merge_commit_sha: Some(CommitSha::new(AFTER)),
        }
    }

    /// Facts of a reviewed merge: every commit came with PR #7 into main,
    /// which passed the gate; signed; authors are members.
    fn good_facts(commits: Vec<PushCommit>) -> PushFacts {
        let mut f = PushFacts::default();
        for c in &commits {
            f.associated_prs
                .insert(c.sha.clone(), Some(vec![merged(7, "main")]));
            f.verification.insert(
                c.sha.clone(),
                Some(Verification {
                    verified: true,
                    reason: "valid".into(),
                }),
            );
            if let Some(l) = &c.author.login {
                f.org_members.insert(l.clone(), Some(true));
            }
        }
        f.review_gates.insert(7, ReviewGate::Passed);
        f.new_commits = NewCommits::Listed(commits);
        f
    }

    fn eval(p: &PushInput, f: &PushFacts) -> Vec<Alert> {
        evaluate_push(&PushConfig::default(), &SignaturesConfig::default(), p, f)
    }

    fn kinds(a: &[Alert]) -> Vec<AlertKind> {
        a.iter().map(|a| a.kind).collect()
    }

    #[test]
    fn merged_pr_push_is_quiet() {
        let f = good_facts(vec![commit(AFTER, Some("alice"))]);
        assert!(eval(&push(), &f).is_empty());
    }

    #[test]
    fn merge_button_commit_by_web_flow_is_quiet() {
        let mut c = commit(AFTER, Some("alice"));
        c.committer = web_flow();
        let f = good_facts(vec![c]);
        assert!(eval(&push(), &f).is_empty());
    }

    #[test]
    fn web_flow_text_on_an_unsigned_commit_proves_nothing() {
        // Committer written as GitHub, even linked to web-flow by its email,
        // but not signed: neither made by GitHub nor a trusted identity.
        for login in [None, Some(WEB_FLOW_LOGIN)] {
            let mut c = commit(AFTER, Some("alice"));
            c.committer = Identity {
                login: login.map(Into::into),
                ..web_flow()
            };
            c.author = c.committer.clone();
            let mut f = good_facts(vec![c.clone()]);
            f.associated_prs.insert(c.sha.clone(), Some(vec![]));
            f.org_members.insert(WEB_FLOW_LOGIN.into(), Some(false));
            f.verification.insert(
                c.sha.clone(),
                Some(Verification {
                    verified: false,
                    reason: "unsigned".into(),
                }),
            );
            assert!(!made_by_github(&c, &f));
            let a = eval(&push(), &f);
            assert_eq!(
                kinds(&a),
                vec![
                    AlertKind::DirectPush,
                    AlertKind::UnknownAuthor,
                    AlertKind::UnsignedCommit
                ],
                "{login:?}"
            );
        }
        // The same identity with GitHub's verified signature is GitHub.
        let mut c = commit(AFTER, None);
        c.committer = web_flow();
        c.author = web_flow();
        let f = good_facts(vec![c.clone()]);
        assert!(made_by_github(&c, &f));
        assert!(eval(&push(), &f).is_empty());
    }

    #[test]
    fn unprotected_branch_is_quiet() {
        let mut p = push();
        p.git_ref = "refs/heads/feature/x".into();
        p.forced = true;
        assert!(eval(&p, &PushFacts::default()).is_empty());
    }

    #[test]
    fn force_push_alert_has_restore_commands() {
        let mut p = push();
        p.forced = true;
        let mut f = good_facts(vec![commit(AFTER, Some("alice"))]);
        f.lost_commits = Some(vec![commit(
            "3333333333333333333333333333333333333333",
            Some("bob"),
        )]);
        let a = eval(&p, &f);
        assert_eq!(kinds(&a), vec![AlertKind::ForcePush]);
        let fp = &a[0];
        assert!(fp.body.contains("3333333"));
        assert!(fp.title.contains("2222222"));
        assert!(
            fp.rollback
                .iter()
                .any(|c| c == &format!("git read-tree -u --reset {BEFORE}"))
        );
        assert_eq!(
            fp.revert_branch.as_deref(),
            Some("gitops-guard/revert-2222222")
        );
    }

    #[test]
    fn direct_push_without_pr() {
        let p = push();
        let mut f = good_facts(vec![commit(AFTER, Some("alice"))]);
        let sha = CommitSha::new(AFTER);
        f.associated_prs.insert(
            sha.clone(),
            Some(vec![AssociatedPr {
                merged: false,
                ..merged(9, "main")
            }]),
        );
        let a = eval(&p, &f);
        assert_eq!(kinds(&a), vec![AlertKind::DirectPush]);
        assert!(
            a[0].rollback
                .iter()
                .any(|c| c.contains(&format!("git revert --no-edit {BEFORE}..{AFTER}")))
        );
        // A PR merged into another branch does not count either.
        f.associated_prs
            .insert(sha.clone(), Some(vec![merged(9, "staging")]));
        f.review_gates.insert(9, ReviewGate::Passed);
        assert_eq!(kinds(&eval(&p, &f)), vec![AlertKind::DirectPush]);
        // Unknown facts fail closed.
        f.associated_prs.insert(sha, None);
        assert_eq!(kinds(&eval(&p, &f)), vec![AlertKind::DirectPush]);
    }

    #[test]
    fn a_merged_pr_that_did_not_pass_review_is_a_bypass_naming_who_merged() {
        let p = push();
        for gate in [
            Some(ReviewGate::NotPassed(
                "`gitops-guard/reviews` concluded failure".into(),
            )),
            Some(ReviewGate::Unknown("HTTP 502".into())),
            None,
        ] {
            let mut f = good_facts(vec![commit(AFTER, Some("alice"))]);
            match &gate {
                Some(g) => f.review_gates.insert(7, g.clone()),
                None => f.review_gates.remove(&7),
            };
            f.merged_by.insert(7, "root-admin".into());
            let a = eval(&p, &f);
            assert_eq!(kinds(&a), vec![AlertKind::ReviewBypass], "{gate:?}");
            assert!(
                a[0].title.contains("PR #7 merged by @root-admin"),
                "{}",
                a[0].title
            );
            assert!(a[0].body.contains("final head `2222222`"), "{}", a[0].body);
            assert!(a[0].revert_branch.is_some());
            assert_eq!(a[0].kind.rule().as_str(), "review-bypass");
        }
        // Any passing merged PR covers the commit.
        let mut f = good_facts(vec![commit(AFTER, Some("alice"))]);
        f.associated_prs.insert(
            CommitSha::new(AFTER),
            Some(vec![merged(3, "main"), merged(7, "main")]),
        );
        f.review_gates
            .insert(3, ReviewGate::NotPassed("failure".into()));
        assert!(eval(&p, &f).is_empty());
    }

    #[test]
    fn only_reviewed_commits_and_githubs_own_are_covered_by_a_passing_pr() {
        // A merge commit made by hand on top of an approved head H: the
        // passing PR lists it, but nobody reviewed what it adds.
        let h = "3333333333333333333333333333333333333333";
        let head = commit(h, Some("alice"));
        let mut merge = commit(AFTER, Some("alice"));
        merge.parents = vec![CommitSha::new(BEFORE), CommitSha::new(h)];
        let mut f = good_facts(vec![head.clone(), merge.clone()]);
        let pr = AssociatedPr {
            head_sha: Some(CommitSha::new(h)),
            ..merged(7, "main")
        };
        for c in [&head, &merge] {
            f.associated_prs
                .insert(c.sha.clone(), Some(vec![pr.clone()]));
        }
        let a = eval(&push(), &f);
        assert_eq!(kinds(&a), vec![AlertKind::DirectPush]);
        assert!(
            a[0].body
                .contains("neither one of the commits reviewed there"),
            "{}",
            a[0].body
        );
        assert!(
            !a[0].body.contains("`3333333`"),
            "the head was reviewed: {}",
            a[0].body
        );
        // The same merge written and signed by GitHub is covered.
        merge.committer = web_flow();
        f.new_commits = NewCommits::Listed(vec![head, merge]);
        assert!(eval(&push(), &f).is_empty());
    }

    #[test]
    fn the_ref_movement_is_judged_not_the_payload() {
        // Nothing new (a branch created at, or moved to, a commit it had).
        let f = PushFacts {
            new_commits: NewCommits::Listed(vec![]),
            ..PushFacts::default()
        };
        assert!(eval(&push(), &f).is_empty());
        // Not established, or too large: fail closed, saying why.
        for (nc, says) in [
            (NewCommits::default(), "could not be listed"),
            (
                NewCommits::TooLarge {
                    total: Some(12_000),
                    cap: 10_000,
                },
                "too large to verify: it makes 12000 commits",
            ),
        ] {
            let f = PushFacts {
                new_commits: nc,
                ..PushFacts::default()
            };
            let a = eval(&push(), &f);
            assert_eq!(kinds(&a), vec![AlertKind::DirectPush]);
            assert!(a[0].body.contains(says), "{}", a[0].body);
        }
    }

    #[test]
    fn a_created_branch_accepts_merges_into_any_deployment_branch() {
        let cfg = PushConfig {
            branches: vec!["main".into(), "release/*".into()],
            ..PushConfig::default()
        };
        let mut p = push();
        p.git_ref = "refs/heads/release/2".into();
        p.created = true;
        p.before = CommitSha::new(ZERO);
        let mut f = good_facts(vec![commit(AFTER, Some("alice"))]);
        f.associated_prs
            .insert(CommitSha::new(AFTER), Some(vec![merged(7, "release/1")]));
        let sig = SignaturesConfig::default();
        assert!(evaluate_push(&cfg, &sig, &p, &f).is_empty());
        // An update of the branch must come through its own PRs.
        p.created = false;
        p.before = CommitSha::new(BEFORE);
        assert_eq!(
            kinds(&evaluate_push(&cfg, &sig, &p, &f)),
            vec![AlertKind::DirectPush]
        );
        // A feature branch is no deployment branch.
        p.created = true;
        p.before = CommitSha::new(ZERO);
        f.associated_prs
            .insert(CommitSha::new(AFTER), Some(vec![merged(7, "feature")]));
        let a = evaluate_push(&cfg, &sig, &p, &f);
        assert_eq!(kinds(&a), vec![AlertKind::DirectPush]);
        assert!(
            a[0].rollback.is_empty(),
            "nothing to restore a new branch to"
        );
    }

    #[test]
    fn unknown_authors() {
        let mut f = good_facts(vec![commit(AFTER, Some("mallory"))]);
        f.org_members.insert("mallory".into(), Some(false));
        let a = eval(&push(), &f);
        assert_eq!(kinds(&a), vec![AlertKind::UnknownAuthor]);
        assert!(a[0].body.contains("@mallory is not a member"));
        assert!(a[0].shas.iter().any(|s| s.as_str() == AFTER));
        // Trusted by login, by email (signed), by team.
        for t in ["mallory", "@mallory", "mallory@example.com"] {
            let cfg = PushConfig {
                trusted_authors: vec![t.into()],
                ..PushConfig::default()
            };
            assert!(
                evaluate_push(&cfg, &SignaturesConfig::default(), &push(), &f).is_empty(),
                "{t}"
            );
        }
        // An email entry needs the signature that proves the email.
        let cfg = PushConfig {
            trusted_authors: vec!["mallory@example.com".into()],
            ..PushConfig::default()
        };
        let mut unsigned = f.clone();
        unsigned.verification.insert(
            CommitSha::new(AFTER),
            Some(Verification {
                verified: false,
                reason: "unsigned".into(),
            }),
        );
        let off = SignaturesConfig {
            required: false,
            ..SignaturesConfig::default()
        };
        assert_eq!(
            kinds(&evaluate_push(&cfg, &off, &push(), &unsigned)),
            vec![AlertKind::UnknownAuthor]
        );
        let mut f2 = f.clone();
        f2.trusted_team_members.insert("mallory".into());
        assert!(eval(&push(), &f2).is_empty());
        // An email that matches no account.
        let f = good_facts(vec![commit(AFTER, None)]);
        let a = eval(&push(), &f);
        assert_eq!(kinds(&a), vec![AlertKind::UnknownAuthor]);
        assert!(a[0].body.contains("matches no GitHub account"));
    }

    #[test]
    fn unsigned_commits_only_when_required() {
        let mut f = good_facts(vec![commit(AFTER, Some("alice"))]);
        f.verification.insert(
            CommitSha::new(AFTER),
            Some(Verification {
                verified: false,
                reason: "unsigned".into(),
            }),
        );
        let a = eval(&push(), &f);
        assert_eq!(kinds(&a), vec![AlertKind::UnsignedCommit]);
        let off = SignaturesConfig {
            required: false,
            ..SignaturesConfig::default()
        };
        assert!(evaluate_push(&PushConfig::default(), &off, &push(), &f).is_empty());
    }

    #[test]
    fn long_lists_are_bounded() {
        let commits: Vec<PushCommit> = (0..250)
            .map(|i| commit(&format!("{i:040x}"), Some("alice")))
            .collect();
        let mut f = good_facts(commits.clone());
        for c in &commits {
            f.associated_prs.insert(c.sha.clone(), Some(vec![]));
        }
        let a = eval(&push(), &f);
        assert_eq!(kinds(&a), vec![AlertKind::DirectPush]);
        assert!(a[0].body.contains("- … and 150 more"), "{}", a[0].body);
        assert_eq!(a[0].shas.len(), 251, "every commit is named in the data");
    }

    #[test]
    fn branch_deletion() {
        let mut p = push();
        p.deleted = true;
        p.after = CommitSha::new(ZERO);
        let a = eval(&p, &PushFacts::default());
        assert_eq!(kinds(&a), vec![AlertKind::BranchDeleted]);
        assert!(
            a[0].rollback
                .iter()
                .any(|c| c == &format!("git push origin {BEFORE}:refs/heads/main"))
        );
    }

    #[test]
    fn protected_tags() {
        let mut p = push();
        p.git_ref = "refs/tags/v1.2".into();
        let cfg = PushConfig {
            tags: vec!["v*".into()],
            ..PushConfig::default()
        };
        let sig = SignaturesConfig::default();
        assert_eq!(
            kinds(&evaluate_push(&cfg, &sig, &p, &PushFacts::default())),
            vec![AlertKind::TagPush]
        );
        assert!(eval(&p, &PushFacts::default()).is_empty());
    }

    #[test]
    fn fingerprints_are_stable_and_distinct() {
        let mut p = push();
        p.forced = true;
        let f = good_facts(vec![commit(AFTER, Some("alice"))]);
        let a1 = eval(&p, &f);
        let a2 = eval(&p, &f);
        assert_eq!(a1[0].fingerprint, a2[0].fingerprint);
        p.after = CommitSha::new("4444444444444444444444444444444444444444");
        let a3 = eval(&p, &f);
        assert_ne!(a1[0].fingerprint, a3[0].fingerprint);
    }

    #[test]
    fn branch_globs() {
        assert!(ref_glob("release/*", "release/1.0"));
        assert!(!ref_glob("release/*", "release/1.0/hotfix"));
        assert!(ref_glob("release/**", "release/1.0/hotfix"));
        assert!(ref_glob("main", "main"));
        assert!(!ref_glob("main", "mainline"));
        // The dialect validation accepts: alternatives and classes match
        // (they were read literally before, silently switching alerts off).
        assert!(ref_glob("release/{a,b}", "release/a"));
        assert!(ref_glob("release/{a,b}", "release/b"));
        assert!(!ref_glob("release/{a,b}", "release/c"));
        assert!(ref_glob("v[0-9]*", "v1.2.3"));
        assert!(!ref_glob("v[0-9]*", "vx"));
        assert!(
            !ref_glob("release/[", "release/["),
            "invalid: matches nothing"
        );
        let cfg = PushConfig {
            branches: vec![],
            ..PushConfig::default()
        };
        assert!(is_protected_branch(&cfg, "trunk", "trunk"));
        assert!(!is_protected_branch(&cfg, "trunk", "main"));
        let cfg = PushConfig {
            branches: vec!["release/{a,b}".into()],
            tags: vec!["v[0-9]*".into()],
            ..PushConfig::default()
        };
        assert!(is_protected_branch(&cfg, "main", "release/b"));
        assert!(is_protected_tag(&cfg, "v2"));
    }

    fn pattern() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop::sample::select(vec![
                "a", "b", "1", "/", "-", ".", "*", "**", "?", "{", "}", ",", "[", "]", "!", "^",
                "\\", "0-9", "a,b",
            ]),
            1..7,
        )
        .prop_map(|v| v.concat())
    }

    fn name() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop::sample::select(vec!["a", "b", "1", "/", "-", ".", "ab", "{", "[", ","]),
            1..7,
        )
        .prop_map(|v| v.concat())
    }

    proptest! {
        /// Every `push.branches` / `push.tags` pattern that config
        /// validation accepts matches in evaluation exactly what the
        /// validator's compiled glob matches, for branches (alerts raised
        /// or not) and tags alike.
        #[test]
        fn validated_ref_patterns_match_in_evaluation_as_they_validate(
            p in pattern(),
            n in name(),
        ) {
            let Ok(validated) = crate::engine::config::globs::check_glob(&p, GlobKind::Ref) else {
                return Ok(());
            };
            let want = validated.is_match(&n);
            prop_assert_eq!(ref_glob(&p, &n), want);
            let cfg = PushConfig {
                branches: vec![p.clone()],
                tags: vec![p.clone()],
                ..PushConfig::default()
            };
            prop_assert_eq!(is_protected_branch(&cfg, "main", &n), want);
            prop_assert_eq!(is_protected_tag(&cfg, &n), want);
            let sig = SignaturesConfig::default();
            let mut input = push();
            input.git_ref = format!("refs/tags/{n}");
            prop_assert_eq!(!evaluate_push(&cfg, &sig, &input, &PushFacts::default()).is_empty(), want);
            input.git_ref = format!("refs/heads/{n}");
            input.deleted = true;
            prop_assert_eq!(!evaluate_push(&cfg, &sig, &input, &PushFacts::default()).is_empty(), want);
        }
    }
}
