//! Security alerts for `push` events: read the trusted config, gather the
//! facts the pure core needs with few, bounded GitHub calls, call
//! [`evaluate_push`], and deliver every alert to the sinks
//! ([`crate::pipeline::alerts`]).
//!
//! ## Which config is trusted
//!
//! Only what existed *before* the push: a push that edits
//! `.github/gitops-guard.yml` (say, to drop its own branch from
//! `push.branches` or to trust its author) is judged by the old version.
//!
//! - Push to the default branch: the config at `before` (the branch's
//!   previous head). If it has none — the branch was just created, or the
//!   file did not exist — the organisation default (`<owner>/.github`), and
//!   only when neither exists the config at the default branch's head
//!   (nothing earlier exists; such a repository was not protected before).
//! - Push to any other branch or a tag: the default branch's config (the
//!   reviewed deployment config) decides, and the config at `before` of
//!   that branch can only *add* protection: it is used when the default
//!   branch's config does not protect the ref but the branch's own one
//!   does. A branch's own config can therefore never switch protection off.
//! - Each of these is the repository file merged tighten-only onto the
//!   organisation default by the one reader ([`super::config`]), as on the
//!   PR path. Repositories with neither file are not deployment
//!   repositories and raise nothing. A config that does not parse,
//!   validate or merge is replaced by the organisation default alone (else
//!   the built-in defaults) — fail closed — and every alert says so.
//!
//! ## Facts and bounds
//!
//! A push is judged by its ref movement, never by the payload's `commits`
//! array (empty when a branch is created at, or fast-forwarded to, an
//! existing commit; cut at 2,048). Per push we make at most:
//! - one compare of the movement (`before...after`, or
//!   `{default_branch}...after` for a created branch), paged 250 commits a
//!   page; beyond [`MAX_PUSH_COMMITS`] (GitHub's `total_commits` on the
//!   first page says so) the push is too large to verify and raises an
//!   alert without further pages. The same pages carry each commit's
//!   linked accounts and signature verification;
//! - `MAX_PR_LOOKUPS` associated-PR lookups (`GET /commits/{sha}/pulls`;
//!   one suffices when the head is the commit GitHub wrote for a merged PR,
//!   see [`gather`]);
//! - per merged PR (at most `MAX_GATE_LOOKUPS`): one check-run read for its
//!   reviews verdict on its final head, plus one `GET /pulls/{n}` naming who
//!   merged it when it did not pass;
//! - `MAX_LOGINS` org-membership lookups, `MAX_TEAM_CHECKS` team-membership
//!   checks for `@org/team` entries and, for force-pushes, one compare
//!   `after...before` for the lost commits.
//!
//! A typical merge-button, squash or rebase merge costs five calls beyond
//! the config read: the compare, one associated-PR lookup, one check-run
//! read and one membership lookup per distinct author. Anything beyond a
//! bound stays unknown, which the engine treats as suspicious (fail
//! closed), and every alert names the bound that was hit.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context as _;

use super::PipelineContext;
use super::config::{ConfigAt, effective_config};
use crate::engine::config::Config;
use crate::engine::ids::{CommitSha, RepoName};
use crate::engine::pushes::{
    Alert, AlertKind, AssociatedPr, Identity, NewCommits, PushCommit, PushFacts, PushInput,
    ReviewGate, Verification, evaluate_push, is_protected_branch, is_protected_tag, made_by_github,
    merge_base_counts,
};
use crate::github::event::{GitIdentity, PushEvent};
use crate::github::{CommitInfo, GitHub, GitHubError, PullSummary};
use crate::pipeline::alerts::revert::{self, RevertPlan};
use crate::pipeline::alerts::{self, EnvLookup, Extras};
use crate::pipeline::reviews::REVIEWS_CHECK;

/// Most commits whose associated PRs we look up one by one.
pub const MAX_PR_LOOKUPS: usize = 100;
/// Most distinct logins whose organisation membership we look up.
pub const MAX_LOGINS: usize = 50;
/// Most team-membership checks for `@org/team` trusted entries.
pub const MAX_TEAM_CHECKS: usize = 50;
/// Most commits a push may make new to a branch: beyond it the push is
/// too large to verify and raises a `direct-push` alert saying so (fail
/// closed). At 250 commits a compare page, 40 pages.
pub const MAX_PUSH_COMMITS: usize = 10_000;
/// Most merged PRs per push whose reviews verdict is read.
pub const MAX_GATE_LOOKUPS: usize = 20;

/// The config a push is judged by, and where it came from.
#[derive(Clone, Debug)]
pub struct TrustedConfig {
    /// The config.
    pub config: Config,
    /// Human-readable source (`acme/deploy:.github/gitops-guard.yml@1234567`).
    pub source: String,
    /// Set when the config did not parse (defaults were used).
    pub error: Option<String>,
}

/// `refs/heads/x` → `x`.
fn branch_of(git_ref: &str) -> Option<&str> {
    git_ref.strip_prefix("refs/heads/")
}

fn protects(cfg: &Config, default_branch: &str, git_ref: &str) -> bool {
    if let Some(b) = branch_of(git_ref) {
        is_protected_branch(&cfg.push, default_branch, b)
    } else if let Some(t) = git_ref.strip_prefix("refs/tags/") {
        is_protected_tag(&cfg.push, t)
    } else {
        false
    }
}

/// The push path's view of the one effective-config reader
/// ([`super::config::effective_config`]): the repository file at `at`
/// merged onto the organisation default; a broken config still judges the
/// push (by the org default, else the built-in defaults) and every alert
/// says so.
async fn config_at(
    gh: &dyn GitHub,
    ctx: &PipelineContext,
    repo: &RepoName,
    at: ConfigAt<'_>,
) -> anyhow::Result<Option<TrustedConfig>> {
    Ok(effective_config(gh, ctx, repo, at)
        .await?
        .map(|e| TrustedConfig {
            error: e.error_note(),
            config: e.config,
            source: e.source,
        }))
}

/// Finds the config to judge `ev` by (see the module docs); `None` when the
/// repository is not a deployment repository or the ref is not protected.
pub async fn trusted_config(
    gh: &dyn GitHub,
    ctx: &PipelineContext,
    repo: &RepoName,
    ev: &PushEvent,
) -> anyhow::Result<Option<TrustedConfig>> {
    let default_branch = ev.repository.default_branch.as_deref().unwrap_or("main");
    let before = CommitSha::new(ev.before.clone());
    let at_before = if before.is_zero() {
        ConfigAt::OrgOnly
    } else {
        ConfigAt::Ref(before.as_str())
    };
    let pushed_to_default = branch_of(&ev.ref_) == Some(default_branch);
    if pushed_to_default {
        let found = match config_at(gh, ctx, repo, at_before).await? {
            Some(c) => Some(c),
            // Nothing earlier exists (no config before, no org default):
            // such a repository was not protected before; its head decides.
            None => config_at(gh, ctx, repo, ConfigAt::Ref(default_branch)).await?,
        };
        return Ok(found.filter(|c| protects(&c.config, default_branch, &ev.ref_)));
    }
    let main_cfg = config_at(gh, ctx, repo, ConfigAt::Ref(default_branch)).await?;
    if let Some(c) = &main_cfg
        && protects(&c.config, default_branch, &ev.ref_)
    {
        return Ok(main_cfg);
    }
    if ev.ref_.starts_with("refs/heads/")
        && !before.is_zero()
        && let Some(own) = config_at(gh, ctx, repo, at_before).await?
        && protects(&own.config, default_branch, &ev.ref_)
    {
        return Ok(Some(own));
    }
    Ok(None)
}

fn identity(g: &GitIdentity) -> Identity {
    Identity {
        name: g.name.clone(),
        email: g.email.clone().unwrap_or_default(),
        login: g.username.clone().filter(|l| !l.is_empty()),
    }
}

/// The payload as the engine's input (pure). The payload's `commits` array
/// is not part of it: the commits are read from the ref movement.
pub fn push_input(repo: &RepoName, ev: &PushEvent) -> PushInput {
    PushInput {
        repo: repo.clone(),
        default_branch: ev
            .repository
            .default_branch
            .clone()
            .unwrap_or_else(|| "main".into()),
        git_ref: ev.ref_.clone(),
        before: CommitSha::new(ev.before.clone()),
        after: CommitSha::new(ev.after.clone()),
        created: ev.created,
        deleted: ev.deleted,
        forced: ev.forced,
        compare_url: ev.compare.clone().unwrap_or_default(),
        sender: ev
            .sender
            .as_ref()
            .map(|s| s.login.clone())
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| ev.pusher.name.clone()),
        pusher: identity(&ev.pusher),
    }
}

/// A commit from the commit API: identities carry the linked accounts
/// (`author.login`, `committer.login`), the only logins the engine trusts.
fn commit_from_api(c: &CommitInfo) -> PushCommit {
    let person =
        |p: &Option<crate::github::GitPerson>, login: &Option<crate::github::UserRef>| Identity {
            name: p.as_ref().and_then(|p| p.name.clone()).unwrap_or_default(),
            email: p.as_ref().and_then(|p| p.email.clone()).unwrap_or_default(),
            login: login
                .as_ref()
                .map(|u| u.login.clone())
                .filter(|l| !l.is_empty()),
        };
    PushCommit {
        sha: CommitSha::new(c.sha.clone()),
        title: c.commit.message.lines().next().unwrap_or("").to_owned(),
        author: person(&c.commit.author, &c.author),
        committer: person(&c.commit.committer, &c.committer),
        parents: c
            .parents
            .iter()
            .map(|p| CommitSha::new(p.sha.clone()))
            .collect(),
    }
}

fn verification_of(c: &CommitInfo) -> Option<Verification> {
    c.commit.verification.as_ref().map(|v| Verification {
        verified: v.verified,
        reason: v.reason.clone(),
    })
}

fn associated(prs: Vec<PullSummary>) -> Vec<AssociatedPr> {
    prs.into_iter()
        .map(|p| AssociatedPr {
            number: p.number,
            merged: p.merged_at.is_some(),
            base_ref: p.base.map(|b| b.ref_).unwrap_or_default(),
            head_sha: p.head.map(|h| CommitSha::new(h.sha)),
            merge_commit_sha: p.merge_commit_sha.map(CommitSha::new),
        })
        .collect()
}

/// The commits `input` made new to its branch (see [`NewCommits`]): one
/// bounded, paginated compare. `before...after` for an update; for a
/// created branch, the default branch `...after` (what the new branch has
/// that the default branch has not; merges into other deployment branches
/// are accepted by the engine).
async fn new_commits(
    gh: &dyn GitHub,
    input: &PushInput,
    branch: &str,
) -> (NewCommits, Vec<CommitInfo>) {
    let base = if input.before.is_zero() {
        if branch == input.default_branch {
            return (
                NewCommits::Unknown(format!(
                    "the default branch `{branch}` itself was created, so there is no branch to compare it with"
                )),
                Vec::new(),
            );
        }
        input.default_branch.clone()
    } else {
        input.before.as_str().to_owned()
    };
    match gh
        .compare_commits(&input.repo, &base, input.after.as_str(), MAX_PUSH_COMMITS)
        .await
    {
        Ok(cmp) if cmp.commits.len() as u64 == cmp.total_commits => (
            NewCommits::Listed(cmp.commits.iter().map(commit_from_api).collect()),
            cmp.commits,
        ),
        Ok(cmp) => (
            NewCommits::Unknown(format!(
                "GitHub listed {} of the {} commits of {base}...{}",
                cmp.commits.len(),
                cmp.total_commits,
                input.after.short()
            )),
            Vec::new(),
        ),
        Err(GitHubError::Limit(_)) => (
            NewCommits::TooLarge {
                total: None,
                cap: MAX_PUSH_COMMITS,
            },
            Vec::new(),
        ),
        Err(e) => (
            NewCommits::Unknown(format!(
                "the compare {base}...{} could not be read: {e}",
                input.after.short()
            )),
            Vec::new(),
        ),
    }
}

/// The reviews verdict of a merged PR on its final head: this App's
/// `gitops-guard/reviews` run there concluded `success`. The run is the
/// gate's own record, so reading it is one call instead of re-evaluating
/// the reviews (reviews, files, CODEOWNERS, permissions) at merge time; the
/// run's `app.id` must be this App's, because anyone with `checks: write`
/// can post a run of that name.
async fn review_gate(gh: &dyn GitHub, repo: &RepoName, pr: &AssociatedPr) -> ReviewGate {
    let Some(head) = &pr.head_sha else {
        return ReviewGate::Unknown("GitHub did not name the pull request's final head".into());
    };
    let Some(ours) = gh.app_id() else {
        return ReviewGate::Unknown(
            "gitops-guard does not act as an App here, so the origin of a check run cannot be proven"
                .into(),
        );
    };
    match gh.find_check_run(repo, head.as_str(), REVIEWS_CHECK).await {
        Ok(Some(run)) if run.app.as_ref().map(|a| a.id) != Some(ours) => {
            ReviewGate::NotPassed(format!(
                "the `{REVIEWS_CHECK}` run on `{}` was not posted by this App",
                head.short()
            ))
        }
        Ok(Some(run)) if run.status != "completed" => ReviewGate::NotPassed(format!(
            "`{REVIEWS_CHECK}` was still {} on `{}`",
            run.status,
            head.short()
        )),
        Ok(Some(run)) if run.conclusion.as_deref() == Some("success") => ReviewGate::Passed,
        Ok(Some(run)) => ReviewGate::NotPassed(format!(
            "`{REVIEWS_CHECK}` concluded {} on `{}`",
            run.conclusion.as_deref().unwrap_or("nothing"),
            head.short()
        )),
        Ok(None) => ReviewGate::NotPassed(format!(
            "no `{REVIEWS_CHECK}` run of this App exists on `{}`",
            head.short()
        )),
        Err(e) => ReviewGate::Unknown(e.to_string()),
    }
}

/// Gathers the facts for `input` (see the module docs for the bounds).
/// Returns the facts and notes about bounds hit or calls that failed.
pub async fn gather(
    gh: &dyn GitHub,
    config: &Config,
    input: &PushInput,
) -> (PushFacts, Vec<String>) {
    let mut facts = PushFacts::default();
    let mut notes = Vec::new();
    let repo = &input.repo;
    let Some(branch) = branch_of(&input.git_ref) else {
        return (facts, notes); // tags: the engine needs no facts
    };
    if input.deleted {
        return (facts, notes);
    }

    // 1. The ref movement: which commits are new, with identities (linked
    //    accounts) and signature verification from the same pages.
    let (new, listed) = new_commits(gh, input, branch).await;
    for c in &listed {
        facts
            .verification
            .insert(CommitSha::new(c.sha.clone()), verification_of(c));
    }
    facts.new_commits = new;
    let commits: Vec<PushCommit> = facts.new_commits.listed().to_vec();
    let counts = |base: &str| merge_base_counts(&config.push, input, base);

    // 2. Associated PRs. The head first: when it is the commit GitHub wrote
    //    for a PR merged into this branch (merge, squash or last rebased
    //    commit, or the head itself when it was pushed by hand), every new
    //    commit came with that PR (a commit's ancestors are fixed by its
    //    SHA), so one call covers them all; the PR's verdict decides.
    let mut lookups = 0usize;
    let head_prs = if commits.iter().any(|c| c.sha == input.after) {
        lookups += 1;
        match gh.commit_pulls(repo, input.after.as_str()).await {
            Ok(p) => Some(associated(p)),
            Err(e) => {
                notes.push(format!(
                    "associated pull requests of {} could not be read: {e}",
                    input.after.short()
                ));
                None
            }
        }
    } else {
        None
    };
    let head_merge = head_prs.as_ref().and_then(|prs| {
        prs.iter().find(|p| {
            p.merged && counts(&p.base_ref) && p.merge_commit_sha.as_ref() == Some(&input.after)
        })
    });
    if let Some(pr) = head_merge {
        for c in &commits {
            facts
                .associated_prs
                .insert(c.sha.clone(), Some(vec![pr.clone()]));
        }
    } else {
        if let Some(p) = head_prs {
            facts.associated_prs.insert(input.after.clone(), Some(p));
        }
        let mut skipped = 0usize;
        for c in &commits {
            if facts.associated_prs.contains_key(&c.sha) {
                continue;
            }
            if lookups >= MAX_PR_LOOKUPS {
                skipped += 1;
                facts.associated_prs.insert(c.sha.clone(), None);
                continue;
            }
            lookups += 1;
            let r = gh.commit_pulls(repo, c.sha.as_str()).await;
            facts
                .associated_prs
                .insert(c.sha.clone(), r.ok().map(associated));
        }
        if skipped > 0 {
            notes.push(format!(
                "pull requests were looked up for the first {MAX_PR_LOOKUPS} commits only; {skipped} more were not checked"
            ));
        }
    }

    // 3. The reviews verdict of every merged PR that brought commits, and
    //    who merged those that did not pass.
    let mut merged_prs: BTreeMap<u64, AssociatedPr> = BTreeMap::new();
    for p in facts.associated_prs.values().flatten().flatten() {
        if p.merged && counts(&p.base_ref) {
            merged_prs.entry(p.number).or_insert_with(|| p.clone());
        }
    }
    let mut unread = 0usize;
    for (i, (number, pr)) in merged_prs.iter().enumerate() {
        if i >= MAX_GATE_LOOKUPS {
            unread += 1;
            facts.review_gates.insert(
                *number,
                ReviewGate::Unknown(format!(
                    "verdicts are read for {MAX_GATE_LOOKUPS} pull requests per push"
                )),
            );
            continue;
        }
        let gate = review_gate(gh, repo, pr).await;
        if gate != ReviewGate::Passed {
            match gh.get_pull(repo, *number).await {
                Ok(full) => {
                    if let Some(u) = full.merged_by {
                        facts.merged_by.insert(*number, u.login);
                    }
                }
                Err(e) => notes.push(format!(
                    "who merged pull request #{number} could not be read: {e}"
                )),
            }
        }
        facts.review_gates.insert(*number, gate);
    }
    if unread > 0 {
        notes.push(format!(
            "the reviews verdict was read for {MAX_GATE_LOOKUPS} merged pull requests only; {unread} more count as not passed"
        ));
    }

    // 4. Organisation membership of every login, unless trusted by name or
    //    GitHub itself (proven by its signature).
    let org = repo.owner();
    let trusted_by_name = |login: &str| {
        config.push.trusted_authors.iter().any(|t| {
            let t = t.strip_prefix('@').unwrap_or(t);
            !t.contains('/') && !t.contains('@') && t.eq_ignore_ascii_case(login)
        })
    };
    let mut logins = BTreeSet::new();
    for c in &commits {
        for id in [&c.author, &c.committer] {
            if id.is_web_flow_account() && made_by_github(c, &facts) {
                continue;
            }
            if let Some(l) = &id.login
                && !trusted_by_name(l)
            {
                logins.insert(l.clone());
            }
        }
    }
    let mut unchecked = 0usize;
    for (i, login) in logins.iter().enumerate() {
        if login.eq_ignore_ascii_case(org) {
            // The owner of a user-owned repository.
            facts.org_members.insert(login.clone(), Some(true));
            continue;
        }
        if i >= MAX_LOGINS {
            unchecked += 1;
            facts.org_members.insert(login.clone(), None);
            continue;
        }
        let m = match gh.org_membership(org, login).await {
            Ok(m) => Some(m.is_some_and(|m| m.is_active())),
            Err(e) => {
                tracing::warn!(login = %login, error = %e, "org membership lookup failed");
                None
            }
        };
        facts.org_members.insert(login.clone(), m);
    }
    if unchecked > 0 {
        notes.push(format!(
            "organisation membership was checked for {MAX_LOGINS} identities only; {unchecked} more were not checked"
        ));
    }

    // 5. `@org/team` entries: only for logins that are not active members
    //    (team members of this org are org members anyway).
    let teams: Vec<(&str, &str)> = config
        .push
        .trusted_authors
        .iter()
        .filter_map(|t| t.strip_prefix('@')?.split_once('/'))
        .collect();
    let mut team_checks = 0usize;
    let mut team_skipped = false;
    for login in &logins {
        if facts.org_members.get(login) == Some(&Some(true)) {
            continue;
        }
        for (team_org, slug) in &teams {
            if team_checks >= MAX_TEAM_CHECKS {
                team_skipped = true;
                break;
            }
            team_checks += 1;
            if let Ok(Some(m)) = gh.team_membership(team_org, slug, login).await
                && m.is_active()
            {
                facts.trusted_team_members.insert(login.clone());
                break;
            }
        }
    }
    if team_skipped {
        notes.push(format!(
            "team membership was checked {MAX_TEAM_CHECKS} times only; the remaining identities count as untrusted"
        ));
    }

    // 6. Commits a force-push removed from the branch.
    if input.forced && !input.before.is_zero() && !input.after.is_zero() {
        match gh
            .compare(repo, input.after.as_str(), input.before.as_str())
            .await
        {
            Ok(cmp) => {
                facts.lost_commits = Some(cmp.commits.iter().map(commit_from_api).collect());
            }
            Err(e) => notes.push(format!(
                "the commits that disappeared could not be listed: {e}"
            )),
        }
    }
    (facts, notes)
}

/// Handles one `push` delivery end to end.
pub async fn run(
    gh: &dyn GitHub,
    ctx: &PipelineContext,
    env: &EnvLookup,
    ev: &PushEvent,
) -> anyhow::Result<Vec<Alert>> {
    let repo = RepoName::parse(&ev.repository.full_name)
        .with_context(|| format!("bad repository name {:?}", ev.repository.full_name))?;
    if !ev.ref_.starts_with("refs/heads/") && !ev.ref_.starts_with("refs/tags/") {
        return Ok(Vec::new());
    }
    let Some(trusted) = trusted_config(gh, ctx, &repo, ev).await? else {
        tracing::debug!(git_ref = %ev.ref_, "not a protected ref of a deployment repository");
        return Ok(Vec::new());
    };
    let input = push_input(&repo, ev);
    let (facts, mut notes) = gather(gh, &trusted.config, &input).await;
    if let Some(e) = &trusted.error {
        notes.insert(0, e.clone());
    }
    let cfg = trusted.config.clone();
    let alerts = evaluate_push(&cfg.push, &cfg.signatures, &input, &facts);
    tracing::info!(
        git_ref = %ev.ref_,
        after = %input.after,
        config = %trusted.source,
        alerts = alerts.len(),
        "push evaluated"
    );
    if alerts.is_empty() {
        return Ok(alerts);
    }

    // One rollback PR per push, shared by its alerts.
    let mut revert_pr = None;
    if cfg.push.alert.revert_pr
        && !input.before.is_zero()
        && !input.after.is_zero()
        && let Some(branch) = branch_of(&input.git_ref)
        && let Some(a) = alerts.iter().find(|a| {
            a.revert_branch.is_some()
                && matches!(
                    a.kind,
                    AlertKind::ForcePush | AlertKind::DirectPush | AlertKind::ReviewBypass
                )
        })
    {
        let plan = RevertPlan {
            repo: repo.clone(),
            branch: branch.to_owned(),
            good: input.before.clone(),
            head: input.after.clone(),
            revert_branch: a.revert_branch.clone().unwrap_or_default(),
            reason: a.title.clone(),
        };
        match revert::open(gh, &plan).await {
            Ok(url) => revert_pr = url,
            Err(e) => {
                tracing::error!(error = format!("{e:#}"), "rollback pull request failed");
                notes.push(format!(
                    "gitops-guard could not open the rollback pull request: {e:#}"
                ));
            }
        }
    }
    let extras = Extras { revert_pr, notes };
    let mut failed = Vec::new();
    for a in &alerts {
        let d = alerts::deliver(gh, &cfg.push.alert, env, a, &extras).await;
        for (sink, o) in [("issue", &d.issue), ("webhook", &d.webhook)] {
            if let alerts::SinkOutcome::Failed(e) = o {
                failed.push(format!("{} {sink}: {e}", alerts::kind_label(a.kind)));
            }
        }
    }
    if !failed.is_empty() {
        anyhow::bail!("alert sinks failed: {}", failed.join("; "));
    }
    Ok(alerts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::event::{Event, decode};

    use crate::github::event::fixtures::load as fixture;

    #[test]
    fn payload_to_input() {
        let body = fixture("push.no-username-committer.json");
        let Event::Push(ev) = decode("push", &body).unwrap() else {
            panic!()
        };
        let repo = RepoName::parse(&ev.repository.full_name).unwrap();
        let input = push_input(&repo, &ev);
        assert_eq!(input.git_ref, "refs/heads/master");
        assert_eq!(input.default_branch, "master");
        assert_eq!(input.sender, "Codertocat");
        assert_eq!(input.pusher.name, "Codertocat");
        assert!(input.created && !input.forced);
        assert!(input.before.is_zero());
    }

    #[test]
    fn protection_by_ref_kind() {
        let mut cfg = Config::default();
        assert!(protects(&cfg, "main", "refs/heads/main"));
        assert!(!protects(&cfg, "main", "refs/heads/feature"));
        assert!(!protects(&cfg, "main", "refs/tags/v1"));
        cfg.push.tags = vec!["v*".into()];
        assert!(protects(&cfg, "main", "refs/tags/v1"));
        assert!(!protects(&cfg, "main", "refs/pull/1/head"));
    }

    #[test]
    fn broken_config_falls_back_to_defaults() {
        use crate::pipeline::config::{CONFIG_PATH, resolve};
        let c = resolve(None, Some((CONFIG_PATH, "push: [")), "x".into()).unwrap();
        assert!(c.error_note().is_some());
        assert_eq!(c.config, Config::default());
        let c = resolve(
            None,
            Some((CONFIG_PATH, "push:\n  branches: [prod]\n")),
            "x".into(),
        )
        .unwrap();
        assert!(c.error_note().is_none());
        assert_eq!(c.config.push.branches, vec!["prod".to_owned()]);
    }
}
