//! `gitops-guard/reviews` for a pull request: approvals and code-owner
//! coverage, decided by the pure [`engine::gates::reviews`](crate::engine::gates::reviews).
//!
//! Gathered (shared with the other gates through the [`PrSnapshot`]):
//! the PR (author, head, base), the trusted base config and the base
//! commit's tree (cached by SHA, the same one the manifests gate reads),
//! the changed files (renames with their old path, deletions), all reviews
//! (all pages), and all PR commits (the compare API past 250) for authors,
//! committers and commit emails. CODEOWNERS is the first of `.github/`,
//! root, `docs/` in the **base** tree; a PR that edits it (or the config)
//! is judged by the base version, and the summary says so.
//!
//! Team owners are resolved with `GET /orgs/{org}/teams/{slug}/memberships/{user}`
//! only for the (team, reviewer) pairs the decision actually needs: the
//! engine is run once with a recording resolver, the pairs it asked about
//! are fetched (404 → not a member, `state` must be `active`), and it is
//! run again. Answers are cached with a TTL
//! ([`TEAM_MEMBERSHIP_TTL`](super::TEAM_MEMBERSHIP_TTL)) keyed by (org,
//! team, login). A 403 (the App cannot see the team) leaves the pair
//! unresolved: treated as "not a member" and named in the summary.
//!
//! Email owners are mapped to logins through the PR's own commits (GitHub
//! links a commit email to the account that verified it). GitHub offers
//! Apps no email lookup, so other email owners stay unresolved; the summary
//! names the ones that block.
//!
//! **Authority** is looked up the same lazy way, only for what the decision
//! asks about: a reviewer's permission (`GET /repos/{o}/{r}/collaborators/
//! {user}/permission`; `permission` admin/maintain/write counts, 404 is no
//! access) only when their approval would otherwise count, and a CODEOWNERS
//! team's own repository permission (`GET /orgs/{org}/teams/{slug}/repos/
//! {o}/{r}` with the repository media type; 404 is no access) only when a
//! counted approver might own through it or its line is still unsatisfied.
//! Definite answers are cached per (repository, login or team) for
//! [`PERMISSION_TTL`](super::PERMISSION_TTL) — a repository belongs to one
//! installation, so the repository names it — and dropped on `member`,
//! `membership`, `team` and `organization` events
//! ([`invalidate_authority`]). A failed lookup is never cached and counts
//! as no access; the summary says so (fail closed). Reviewers whose account
//! `type` is `Bot` are marked for the engine, which never counts bots.
//!
//! **Base changes**: GitHub's review carries only `commit_id`, so the merge
//! base at approval time is not recorded anywhere. We take GitHub's own
//! record of base changes instead: the PR timeline's `base_ref_changed`
//! (retarget), `automatic_base_change_succeeded` (GitHub retargeted after
//! the old base was merged and deleted) and `base_ref_force_pushed`
//! events. Approvals submitted at or before the latest of them are stale
//! (with `dismiss_stale`), as GitHub dismisses approvals when the merge
//! base changes. This needs no state of our own (a restart, a second
//! replica or a missed webhook cannot lose it). The timeline is read only
//! when there is an approval it could invalidate.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

use anyhow::Context as _;
use futures::StreamExt as _;

use super::PipelineContext;
use super::gate::{GateSpec, run_gate};
use super::pull_request::{BaseConfig, blob};
use super::snapshot::PrSnapshot;
use crate::engine::gates::codeowners::{self, CodeOwners, LOCATIONS, Owner, ParseError};
use crate::engine::gates::reviews::{
    self as engine, Access, BaseCodeOwners, PrCommit, PrFile, Review, ReviewState, ReviewsInput,
    ReviewsOutcome, TeamMembership,
};
use crate::engine::ids::{CommitSha, RepoName};
use crate::engine::input::ChangeStatus;
use crate::github::event::AccessEvent;
use crate::github::{CommitInfo, GitHub, GitHubError, ReviewInfo};
use crate::report::checkrun::{
    self, CheckRunOutput, Conclusion, MAX_SUMMARY_CHARS, MAX_TITLE_CHARS,
};
use chrono::{DateTime, Utc};

/// Check-run name (stable: branch protection requires it by name).
pub const REVIEWS_CHECK: &str = "gitops-guard/reviews";
/// Most team-membership lookups one evaluation may make; beyond it the
/// evaluation fails closed instead of hammering the API.
pub const MAX_TEAM_LOOKUPS: usize = 500;
/// Concurrent membership requests (GitHub asks for serial-ish traffic).
const LOOKUP_CONCURRENCY: usize = 4;
/// Most permission lookups (users and teams) one evaluation may make.
pub const MAX_PERMISSION_LOOKUPS: usize = 500;
/// Timeline events after which earlier approvals are stale: the PR's base
/// (and so its merge base) changed.
pub const BASE_CHANGE_EVENTS: &[&str] = &[
    "base_ref_changed",
    "automatic_base_change_succeeded",
    "base_ref_force_pushed",
];

/// Writes `gitops-guard/reviews` for `snap` (the caller holds the PR lock).
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
            name: REVIEWS_CHECK,
            force,
            evaluating: "Evaluating reviews…",
        },
        plan(gh, ctx, snap),
    )
    .await
}

/// Gathers, decides and renders the reviews check without writing it.
pub async fn plan(
    gh: &dyn GitHub,
    ctx: &PipelineContext,
    snap: &PrSnapshot,
) -> anyhow::Result<CheckRunOutput> {
    let base = snap.base_config(gh, ctx).await?;
    let trusted = match &*base {
        BaseConfig::Conclude(out) => return Ok(out.clone()),
        BaseConfig::Trusted(t) => t,
    };
    let (files, reviews, commits) = tokio::try_join!(
        snap.files(gh),
        // Shared with the verdict key (`gates`), read once per delivery.
        snap.reviews(gh),
        snap.commits(gh),
    )?;

    let codeowners = match LOCATIONS.iter().find_map(|l| trusted.base_tree.blob(l)) {
        None => None,
        Some(entry) => {
            let size = entry.size.unwrap_or(0);
            let file = if size >= codeowners::MAX_FILE_BYTES as u64 {
                // GitHub ignores it; do not download 3 MB to learn that.
                CodeOwners {
                    rules: Vec::new(),
                    errors: vec![ParseError {
                        line: 0,
                        text: String::new(),
                        reason: format!(
                            "the file is {size} bytes; GitHub ignores CODEOWNERS files of 3 MB or more, so nothing is owned"
                        ),
                    }],
                }
            } else {
                let bytes = blob(gh, ctx, &snap.repo, &entry.sha)
                    .await
                    .with_context(|| format!("reading {}", entry.path))?;
                CodeOwners::parse(&String::from_utf8_lossy(&bytes))
            };
            Some(BaseCodeOwners {
                path: entry.path.clone(),
                file,
            })
        }
    };

    let author = snap
        .pr
        .user
        .as_ref()
        .map(|u| u.login.clone())
        .context("GitHub returned the pull request without an author")?;
    let (reviews, skipped) = engine_reviews(&reviews);
    let config = trusted.config.reviews.clone();
    let base_changed_at =
        if config.dismiss_stale && reviews.iter().any(|r| r.state == ReviewState::Approved) {
            base_changed_at(gh, snap).await?
        } else {
            None
        };
    let mut input = ReviewsInput {
        author,
        head_sha: CommitSha::new(snap.pr.head.sha.clone()),
        files: files
            .iter()
            .map(|f| PrFile {
                path: f.filename.clone(),
                previous_path: f.previous_filename.clone(),
                status: change_status(&f.status),
            })
            .collect(),
        reviews,
        commits: commits.iter().map(engine_commit).collect(),
        codeowners,
        email_logins: email_logins(&commits),
        permissions: HashMap::new(),
        team_access: HashMap::new(),
        base_changed_at,
    };
    let outcome = decide(gh, ctx, &snap.repo, &mut input, &config).await?;
    Ok(render(&outcome, &input, &skipped))
}

/// The latest base change of the PR (see the module doc), from its timeline.
async fn base_changed_at(
    gh: &dyn GitHub,
    snap: &PrSnapshot,
) -> anyhow::Result<Option<DateTime<Utc>>> {
    let events = gh
        .list_timeline(&snap.repo, snap.pr.number)
        .await
        .context("reading the pull request timeline (base changes)")?;
    let mut latest: Option<DateTime<Utc>> = None;
    for e in events
        .iter()
        .filter(|e| BASE_CHANGE_EVENTS.contains(&e.event.as_str()))
    {
        // A base change we cannot place in time could postdate any approval.
        let at = e
            .created_at
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .with_context(|| {
                format!(
                    "GitHub listed a {} event without a readable time ({:?})",
                    e.event, e.created_at
                )
            })?
            .with_timezone(&Utc);
        latest = latest.max(Some(at));
    }
    Ok(latest)
}

/// Runs the engine, resolving exactly the team memberships and permissions
/// it asks about, and deciding again until it asks for nothing new.
async fn decide(
    gh: &dyn GitHub,
    ctx: &PipelineContext,
    repo: &RepoName,
    input: &mut ReviewsInput,
    config: &crate::engine::config::ReviewsConfig,
) -> anyhow::Result<ReviewsOutcome> {
    let mut known: HashMap<(String, String), Option<bool>> = HashMap::new();
    let mut lookups = 0usize;
    // Each pass can only ask about what the previous answers unlocked:
    // reviewers' permissions, then the teams counted approvers may own
    // through and their memberships, then owners of lines still unmet.
    // The bound is defensive.
    for _ in 0..8 {
        let rec = Recorder {
            known: &known,
            wanted: RefCell::new(BTreeSet::new()),
        };
        let outcome = engine::evaluate(input, config, &rec);
        let wanted = rec.wanted.into_inner();
        if wanted.is_empty()
            && outcome.permissions_needed.is_empty()
            && outcome.team_access_needed.is_empty()
        {
            return Ok(outcome);
        }
        lookups += outcome.permissions_needed.len() + outcome.team_access_needed.len();
        if lookups > MAX_PERMISSION_LOOKUPS {
            anyhow::bail!(
                "deciding needs more than {MAX_PERMISSION_LOOKUPS} permission lookups; \
                 list fewer owners per CODEOWNERS line"
            );
        }
        let users: Vec<(String, Access)> = futures::stream::iter(outcome.permissions_needed)
            .map(|login| async move {
                let a = user_access(gh, ctx, repo, &login).await;
                (login, a)
            })
            .buffer_unordered(LOOKUP_CONCURRENCY)
            .collect()
            .await;
        input.permissions.extend(users);
        let teams: Vec<(String, Access)> = futures::stream::iter(outcome.team_access_needed)
            .map(|team| async move {
                let a = team_access(gh, ctx, repo, &team).await;
                (team, a)
            })
            .buffer_unordered(LOOKUP_CONCURRENCY)
            .collect()
            .await;
        input.team_access.extend(teams);
        if wanted.is_empty() {
            continue;
        }
        if known.len() + wanted.len() > MAX_TEAM_LOOKUPS {
            anyhow::bail!(
                "deciding needs more than {MAX_TEAM_LOOKUPS} team-membership lookups; \
                 list fewer teams per CODEOWNERS line"
            );
        }
        let answers: Vec<_> = futures::stream::iter(wanted)
            .map(|(team, login)| async move {
                let r = team_member(gh, ctx, &team, &login).await;
                ((team, login), r)
            })
            .buffer_unordered(LOOKUP_CONCURRENCY)
            .collect()
            .await;
        for (key, r) in answers {
            known.insert(key, r?);
        }
    }
    anyhow::bail!("team-membership and permission resolution did not settle")
}

/// What a failed lookup says in the summary (short, no secrets: GitHub's
/// error kind, not the response body).
fn lookup_failure(e: &GitHubError) -> String {
    match e {
        GitHubError::Auth(_) => "GitHub refused the App access".into(),
        GitHubError::RateLimited { .. } => "GitHub rate limit exceeded".into(),
        _ => "GitHub API error".into(),
    }
}

/// `login`'s permission on `repo`, cached; a failure is `Unknown` (not
/// cached, counts as no access).
async fn user_access(
    gh: &dyn GitHub,
    ctx: &PipelineContext,
    repo: &RepoName,
    login: &str,
) -> Access {
    let key = (
        repo.to_string().to_ascii_lowercase(),
        login.to_ascii_lowercase(),
    );
    if let Some(a) = ctx.permissions.get(&key).await {
        crate::github::metrics::cache("permission", true);
        return a;
    }
    crate::github::metrics::cache("permission", false);
    let access = match gh.collaborator_permission(repo, login).await {
        Ok(Some(p)) if p.can_write() => Access::Write(p.role().to_owned()),
        Ok(Some(p)) => Access::NoWrite(p.role().to_owned()),
        Ok(None) => Access::NoWrite("none".into()),
        Err(e) => {
            tracing::warn!(%repo, login, error = %e, "permission lookup failed");
            return Access::Unknown(lookup_failure(&e));
        }
    };
    ctx.permissions.insert(key, access.clone()).await;
    access
}

/// The team's (`org/slug`) own permission on `repo`, cached like
/// [`user_access`].
async fn team_access(
    gh: &dyn GitHub,
    ctx: &PipelineContext,
    repo: &RepoName,
    team: &str,
) -> Access {
    let Some((org, slug)) = team.split_once('/') else {
        return Access::NoWrite("none".into());
    };
    let key = (
        repo.to_string().to_ascii_lowercase(),
        team.to_ascii_lowercase(),
    );
    if let Some(a) = ctx.team_access.get(&key).await {
        crate::github::metrics::cache("team_permission", true);
        return a;
    }
    crate::github::metrics::cache("team_permission", false);
    let access = match gh.team_repo_permission(org, slug, repo).await {
        Ok(Some(t)) if t.can_write() => Access::Write(t.role()),
        Ok(Some(t)) => Access::NoWrite(t.role()),
        Ok(None) => Access::NoWrite("none".into()),
        Err(e) => {
            tracing::warn!(%repo, team, error = %e, "team permission lookup failed");
            return Access::Unknown(lookup_failure(&e));
        }
    };
    ctx.team_access.insert(key, access.clone()).await;
    access
}

/// Drops cached permission and membership answers an access event may
/// have changed. Coarse on purpose (a dropped entry costs one lookup; a
/// kept stale one lets a removed user approve): everything for the named
/// user under the event's owner, and for `team` events every answer under
/// the owner (members' effective permissions follow the team's grant).
pub fn invalidate_authority(ctx: &PipelineContext, e: &AccessEvent) {
    let owner = e.owner().map(str::to_ascii_lowercase);
    let user = e.user().map(str::to_ascii_lowercase);
    let team = e
        .team
        .as_ref()
        .map(|t| t.slug.to_ascii_lowercase())
        .filter(|s| !s.is_empty());
    let whole_owner = e.kind == "team" || user.is_none();
    tracing::info!(
        event = e.kind,
        action = %e.action,
        owner = owner.as_deref().unwrap_or("?"),
        user = user.as_deref().unwrap_or("*"),
        "access changed: dropping cached permissions"
    );
    let (o1, u1) = (owner.clone(), user.clone());
    let r1 = ctx
        .permissions
        .invalidate_entries_if(move |(repo, login), _| {
            let in_owner = o1
                .as_deref()
                .is_none_or(|o| repo.split('/').next() == Some(o));
            in_owner && (whole_owner || u1.as_deref() == Some(login.as_str()))
        });
    let o2 = owner.clone();
    let r2 = ctx.team_access.invalidate_entries_if(move |(repo, _), _| {
        o2.as_deref()
            .is_none_or(|o| repo.split('/').next() == Some(o))
    });
    let (o3, u3, t3) = (owner, user, team);
    let r3 = ctx
        .team_memberships
        .invalidate_entries_if(move |(org, slug, login), _| {
            o3.as_deref().is_none_or(|o| org.eq_ignore_ascii_case(o))
                && t3.as_deref().is_none_or(|t| slug.eq_ignore_ascii_case(t))
                && u3.as_deref().is_none_or(|u| login.eq_ignore_ascii_case(u))
        });
    for r in [r1.err(), r2.err(), r3.err()].into_iter().flatten() {
        tracing::error!(error = %r, "cannot invalidate cached permissions");
    }
}

/// Answers from `known`; records what it was asked and does not know.
struct Recorder<'a> {
    known: &'a HashMap<(String, String), Option<bool>>,
    wanted: RefCell<BTreeSet<(String, String)>>,
}

impl TeamMembership for Recorder<'_> {
    fn is_member(&self, team: &str, login: &str) -> Option<bool> {
        let key = (team.to_ascii_lowercase(), login.to_ascii_lowercase());
        match self.known.get(&key) {
            Some(v) => *v,
            None => {
                self.wanted.borrow_mut().insert(key);
                None
            }
        }
    }
}

/// Is `login` an active member of `team` (`org/slug`)? `None`: GitHub would
/// not tell us (403: the App cannot see the team).
async fn team_member(
    gh: &dyn GitHub,
    ctx: &PipelineContext,
    team: &str,
    login: &str,
) -> anyhow::Result<Option<bool>> {
    let Some((org, slug)) = team.split_once('/') else {
        return Ok(None);
    };
    let key = (org.to_owned(), slug.to_owned(), login.to_owned());
    if let Some(v) = ctx.team_memberships.get(&key).await {
        crate::github::metrics::cache("team_membership", true);
        return Ok(Some(v));
    }
    crate::github::metrics::cache("team_membership", false);
    let member = match gh.team_membership(org, slug, login).await {
        Ok(Some(m)) => m.is_active(),
        Ok(None) => false,
        Err(GitHubError::Auth(e)) => {
            tracing::warn!(team, login, error = %e, "team membership not visible");
            return Ok(None);
        }
        Err(e) => {
            return Err(anyhow::Error::new(e)
                .context(format!("checking whether @{login} is a member of @{team}")));
        }
    };
    ctx.team_memberships.insert(key, member).await;
    Ok(Some(member))
}

/// A review state GitHub sent that we do not know, kept for the summary.
#[derive(Debug)]
struct Skipped {
    login: String,
    state: String,
}

/// REST reviews (chronological) as engine reviews. Reviews of deleted
/// accounts carry no login and cannot approve; undocumented states are
/// left out (they are not approvals) and reported.
fn engine_reviews(reviews: &[ReviewInfo]) -> (Vec<Review>, Vec<Skipped>) {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for (i, r) in reviews.iter().enumerate() {
        let Some(user) = &r.user else { continue };
        match r.state.parse::<ReviewState>() {
            Ok(state) => out.push(Review {
                id: r.id,
                user: user.login.clone(),
                state,
                commit_id: r.commit_id.clone().map(CommitSha::new),
                submitted_at: r.submitted_at.clone(),
                order: i as u64,
                bot: r.user_type.as_deref() == Some("Bot"),
            }),
            Err(_) => skipped.push(Skipped {
                login: user.login.clone(),
                state: r.state.clone(),
            }),
        }
    }
    (out, skipped)
}

/// Every listed status is a change to review; a mode-only change
/// (`unchanged`) still changes the file, so it needs its owners too.
fn change_status(s: &str) -> ChangeStatus {
    match s {
        "added" | "copied" => ChangeStatus::Added,
        "removed" => ChangeStatus::Removed,
        "renamed" => ChangeStatus::Renamed,
        _ => ChangeStatus::Modified,
    }
}

fn engine_commit(c: &CommitInfo) -> PrCommit {
    let author = c.commit.author.as_ref();
    PrCommit {
        sha: CommitSha::new(c.sha.clone()),
        author_login: c.author.as_ref().map(|u| u.login.clone()),
        committer_login: c.committer.as_ref().map(|u| u.login.clone()),
        author_name: author.and_then(|a| a.name.clone()),
        author_email: author.and_then(|a| a.email.clone()),
    }
}

/// Commit email (lower-cased) → the login GitHub linked it to.
fn email_logins(commits: &[CommitInfo]) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for c in commits {
        let pairs = [
            (c.commit.author.as_ref(), c.author.as_ref()),
            (c.commit.committer.as_ref(), c.committer.as_ref()),
        ];
        for (person, user) in pairs {
            if let (Some(email), Some(user)) = (person.and_then(|p| p.email.as_ref()), user) {
                map.entry(email.to_ascii_lowercase())
                    .or_insert_with(|| user.login.clone());
            }
        }
    }
    map
}

/// The engine's title and summary, plus what only the shell knows.
fn render(outcome: &ReviewsOutcome, input: &ReviewsInput, skipped: &[Skipped]) -> CheckRunOutput {
    let (title, mut summary) = engine::render_summary(outcome);
    let mut extra = Vec::new();
    let unresolved: BTreeSet<&str> = outcome
        .files_needing_owners
        .iter()
        .flat_map(|f| f.owners.iter())
        .filter_map(|o| match o {
            Owner::Email(e) if !input.email_logins.contains_key(&e.to_ascii_lowercase()) => {
                Some(e.as_str())
            }
            _ => None,
        })
        .collect();
    for e in unresolved {
        extra.push(format!(
            "Email owner `{}` could not be matched to a GitHub account (GitHub lets Apps match \
             only the emails of this PR's commit authors), so no approval can be attributed to \
             it. Name the owner as `@login` in CODEOWNERS.",
            e.replace('`', "'")
        ));
    }
    for s in skipped {
        extra.push(format!(
            "A review by @{} has a state gitops-guard does not know (`{}`); it was not counted.",
            s.login
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect::<String>(),
            s.state
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .take(40)
                .collect::<String>()
        ));
    }
    if !extra.is_empty() {
        summary.push_str("\n### Also\n");
        for e in extra.iter().take(50) {
            let _ = writeln!(summary, "- {e}");
        }
    }
    CheckRunOutput {
        conclusion: if outcome.passed {
            Conclusion::Success
        } else {
            Conclusion::Failure
        },
        title: checkrun::truncate_chars(&title, MAX_TITLE_CHARS),
        summary: checkrun::truncate_with_note(&summary, MAX_SUMMARY_CHARS),
        text: None,
        annotations: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::{GitCommit, GitPerson, UserRef};

    fn commit(sha: &str, email: &str, login: Option<&str>) -> CommitInfo {
        CommitInfo {
            sha: sha.into(),
            commit: GitCommit {
                author: Some(GitPerson {
                    name: Some("A".into()),
                    email: Some(email.into()),
                    date: None,
                }),
                committer: Some(GitPerson {
                    name: Some("A".into()),
                    email: Some(email.into()),
                    date: None,
                }),
                ..Default::default()
            },
            author: login.map(|l| UserRef { login: l.into() }),
            committer: login.map(|l| UserRef { login: l.into() }),
            parents: Vec::new(),
        }
    }

    #[test]
    fn emails_map_only_through_linked_accounts() {
        let m = email_logins(&[
            commit("a", "Alice@Example.com", Some("alice")),
            commit("b", "ghost@example.com", None),
        ]);
        assert_eq!(
            m.get("alice@example.com").map(String::as_str),
            Some("alice")
        );
        assert!(!m.contains_key("ghost@example.com"));
    }

    #[test]
    fn reviews_keep_order_and_skip_unknown_states_and_ghosts() {
        let r = |id, user: Option<&str>, state: &str| ReviewInfo {
            id,
            user: user.map(|l| UserRef { login: l.into() }),
            state: state.into(),
            commit_id: Some("h".into()),
            submitted_at: None,
            user_type: (user == Some("b0t")).then(|| "Bot".to_owned()),
        };
        let (out, skipped) = engine_reviews(&[
            r(5, Some("a"), "APPROVED"),
            r(3, None, "APPROVED"),
            r(9, Some("b"), "SOMETHING_NEW"),
            r(2, Some("c"), "changes_requested"),
        ]);
        assert_eq!(out.len(), 2);
        assert_eq!((out[0].user.as_str(), out[0].order), ("a", 0));
        assert_eq!(out[1].state, ReviewState::ChangesRequested);
        assert_eq!(out[1].order, 3);
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].login, "b");
        assert!(!out[0].bot);
        // `user.type: Bot` marks the reviewer for the engine.
        let (out, _) = engine_reviews(&[r(1, Some("b0t"), "APPROVED")]);
        assert!(out[0].bot);
    }

    #[test]
    fn mode_only_changes_still_need_owners() {
        assert_eq!(change_status("unchanged"), ChangeStatus::Modified);
        assert_eq!(change_status("copied"), ChangeStatus::Added);
        assert_eq!(change_status("removed"), ChangeStatus::Removed);
        assert_eq!(change_status("renamed"), ChangeStatus::Renamed);
    }
}
