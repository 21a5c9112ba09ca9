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
//! - Repositories with none of these are not deployment repositories and
//!   raise nothing. A config that does not parse is replaced by the
//!   built-in defaults (fail closed) and every alert says so.
//!
//! ## Facts and bounds
//!
//! A payload lists at most 2048 commits. Per push we make at most:
//! `MAX_PR_LOOKUPS` associated-PR lookups (`GET /commits/{sha}/pulls`;
//! one suffices when the head is the merge or squash commit GitHub made
//! for a merged PR, see [`gather`]), `MAX_LOGINS` org-membership lookups,
//! `MAX_TEAM_CHECKS` team-membership checks for `@org/team` entries, one
//! paginated compare `before...after` for signature verification (plus at
//! most `MAX_COMMIT_LOOKUPS` single-commit reads for commits it did not
//! list) and, for force-pushes, one compare `after...before` for the lost
//! commits. Anything beyond a bound stays unknown, which the engine treats
//! as suspicious (fail closed), and every alert names the bound that was hit.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context as _;

use super::PipelineContext;
use super::pull_request::{CONFIG_PATH, load_config};
use crate::engine::config::Config;
use crate::engine::ids::{CommitSha, RepoName};
use crate::engine::pushes::{
    self, Alert, AlertKind, AssociatedPr, Identity, PushCommit, PushFacts, PushInput, Verification,
    evaluate_push, is_protected_branch,
};
use crate::github::event::{GitIdentity, PushEvent};
use crate::github::{CommitInfo, GitHub, GitHubError};
use crate::pipeline::alerts::revert::{self, RevertPlan};
use crate::pipeline::alerts::{self, EnvLookup, Extras};

/// Most commits whose associated PRs we look up one by one.
pub const MAX_PR_LOOKUPS: usize = 100;
/// Most distinct logins whose organisation membership we look up.
pub const MAX_LOGINS: usize = 50;
/// Most team-membership checks for `@org/team` trusted entries.
pub const MAX_TEAM_CHECKS: usize = 50;
/// Most single-commit reads for verification the compare did not cover.
pub const MAX_COMMIT_LOOKUPS: usize = 50;
/// GitHub's cap on commits listed in a push payload.
pub const PAYLOAD_COMMIT_CAP: usize = 2048;

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
        cfg.push.tags.iter().any(|p| pushes::ref_glob(p, t))
    } else {
        false
    }
}

async fn config_at(
    gh: &dyn GitHub,
    repo: &RepoName,
    git_ref: &str,
    label: String,
) -> anyhow::Result<Option<TrustedConfig>> {
    let bytes = read_config_file(gh, repo, git_ref)
        .await
        .with_context(|| format!("reading {label}"))?;
    Ok(bytes.map(|b| parse(&b, label)))
}

/// `.github/gitops-guard.yml` at `git_ref` (a SHA or branch): the contents
/// API first (one small call); when it says "not found", the commit's tree
/// confirms (the pull-request pipeline reads config through trees and
/// blobs, and some GitHub-compatible servers only serve those). `None`:
/// no config there.
pub(crate) async fn read_config_file(
    gh: &dyn GitHub,
    repo: &RepoName,
    git_ref: &str,
) -> Result<Option<Vec<u8>>, GitHubError> {
    match gh.get_file(repo, CONFIG_PATH, git_ref).await {
        Ok(Some(b)) => return Ok(Some(b)),
        Ok(None) | Err(GitHubError::NotFound(_)) => {}
        Err(e) => return Err(e),
    }
    let tree = match gh.get_tree(repo, git_ref).await {
        Ok(t) => t,
        Err(GitHubError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    match tree.blob(CONFIG_PATH) {
        Some(entry) => gh.get_blob(repo, &entry.sha).await.map(Some),
        None => Ok(None),
    }
}

fn parse(bytes: &[u8], source: String) -> TrustedConfig {
    let parsed = std::str::from_utf8(bytes)
        .map_err(|_| "the file is not UTF-8".to_owned())
        .and_then(|text| load_config(&source, text));
    match parsed {
        Ok(config) => TrustedConfig {
            config,
            source,
            error: None,
        },
        Err(e) => TrustedConfig {
            config: Config::default(),
            error: Some(format!(
                "{source} does not parse ({e}); the built-in defaults were used"
            )),
            source,
        },
    }
}

async fn config_at_before(
    gh: &dyn GitHub,
    repo: &RepoName,
    before: &CommitSha,
) -> anyhow::Result<Option<TrustedConfig>> {
    if before.is_zero() {
        return Ok(None);
    }
    config_at(
        gh,
        repo,
        before.as_str(),
        format!("{repo}:{CONFIG_PATH}@{}", before.short()),
    )
    .await
}

async fn org_default(
    gh: &dyn GitHub,
    ctx: &PipelineContext,
    repo: &RepoName,
) -> anyhow::Result<Option<TrustedConfig>> {
    Ok(super::pull_request::org_config(gh, ctx, repo.owner())
        .await?
        .map(|text| {
            parse(
                text.as_bytes(),
                format!("{}/.github:gitops-guard.yml", repo.owner()),
            )
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
    let pushed_to_default = branch_of(&ev.ref_) == Some(default_branch);
    if pushed_to_default {
        let found = match config_at_before(gh, repo, &before).await? {
            Some(c) => Some(c),
            None => match org_default(gh, ctx, repo).await? {
                Some(c) => Some(c),
                None => {
                    config_at(
                        gh,
                        repo,
                        default_branch,
                        format!(
                            "{repo}:{CONFIG_PATH}@{default_branch} (no earlier version exists)"
                        ),
                    )
                    .await?
                }
            },
        };
        return Ok(found.filter(|c| protects(&c.config, default_branch, &ev.ref_)));
    }
    let main_cfg = match config_at(
        gh,
        repo,
        default_branch,
        format!("{repo}:{CONFIG_PATH}@{default_branch}"),
    )
    .await?
    {
        Some(c) => Some(c),
        None => org_default(gh, ctx, repo).await?,
    };
    if let Some(c) = &main_cfg
        && protects(&c.config, default_branch, &ev.ref_)
    {
        return Ok(main_cfg);
    }
    if ev.ref_.starts_with("refs/heads/")
        && let Some(own) = config_at_before(gh, repo, &before).await?
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

/// The payload as the engine's input (pure).
pub fn push_input(repo: &RepoName, ev: &PushEvent) -> PushInput {
    let commits: Vec<PushCommit> = ev
        .commits
        .iter()
        .map(|c| PushCommit {
            sha: CommitSha::new(c.id.clone()),
            title: c.message.lines().next().unwrap_or("").to_owned(),
            author: identity(&c.author),
            committer: identity(&c.committer),
        })
        .collect();
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
        commits_truncated: commits.len() >= PAYLOAD_COMMIT_CAP,
        commits,
    }
}

fn commit_from_api(c: &CommitInfo) -> PushCommit {
    let person =
        |p: &Option<crate::github::GitPerson>, login: &Option<crate::github::UserRef>| Identity {
            name: p.as_ref().and_then(|p| p.name.clone()).unwrap_or_default(),
            email: p.as_ref().and_then(|p| p.email.clone()).unwrap_or_default(),
            login: login.as_ref().map(|u| u.login.clone()),
        };
    PushCommit {
        sha: CommitSha::new(c.sha.clone()),
        title: c.commit.message.lines().next().unwrap_or("").to_owned(),
        author: person(&c.commit.author, &c.author),
        committer: person(&c.commit.committer, &c.committer),
    }
}

fn verification_of(c: &CommitInfo) -> Option<Verification> {
    c.commit.verification.as_ref().map(|v| Verification {
        verified: v.verified,
        reason: v.reason.clone(),
    })
}

fn associated(prs: Vec<crate::github::PullSummary>) -> Vec<AssociatedPr> {
    prs.into_iter()
        .map(|p| AssociatedPr {
            number: p.number,
            merged: p.merged_at.is_some(),
            base_ref: p.base.map(|b| b.ref_).unwrap_or_default(),
        })
        .collect()
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

    // 1. Associated PRs. The head first: when it is the merge or squash
    //    commit GitHub created for a PR merged into this branch, every commit
    //    of the push came with that PR (a commit's ancestors are fixed by
    //    its SHA), so one call covers them all.
    let mut lookups = 0usize;
    let head_prs = if input.commits.iter().any(|c| c.sha == input.after) {
        lookups += 1;
        match gh.commit_pulls(repo, input.after.as_str()).await {
            Ok(p) => Some(p),
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
    let merged_head_pr = head_prs.as_ref().and_then(|prs| {
        prs.iter().find(|p| {
            p.merged_at.is_some()
                && p.base.as_ref().is_some_and(|b| b.ref_ == branch)
                && p.merge_commit_sha.as_deref() == Some(input.after.as_str())
        })
    });
    if let Some(pr) = merged_head_pr {
        let summary = associated(vec![pr.clone()]);
        for c in &input.commits {
            facts
                .associated_prs
                .insert(c.sha.clone(), Some(summary.clone()));
        }
    } else {
        if let Some(p) = head_prs {
            facts
                .associated_prs
                .insert(input.after.clone(), Some(associated(p)));
        }
        let mut skipped = 0usize;
        for c in &input.commits {
            if facts.associated_prs.contains_key(&c.sha) {
                continue;
            }
            if c.author.is_github_web_flow() && c.committer.is_github_web_flow() {
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

    // 2. Organisation membership of every login, unless trusted by name.
    let org = repo.owner();
    let trusted_by_name = |login: &str| {
        config.push.trusted_authors.iter().any(|t| {
            let t = t.strip_prefix('@').unwrap_or(t);
            !t.contains('/') && !t.contains('@') && t.eq_ignore_ascii_case(login)
        })
    };
    let mut logins = BTreeSet::new();
    for c in &input.commits {
        for id in [&c.author, &c.committer] {
            if id.is_github_web_flow() {
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

    // 3. `@org/team` entries: only for logins that are not active members
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

    // 4. Signature verification, when required: one paginated compare.
    if config.signatures.required && !input.commits.is_empty() {
        let mut verified: BTreeMap<CommitSha, Option<Verification>> = BTreeMap::new();
        if !input.before.is_zero() {
            match gh
                .compare(repo, input.before.as_str(), input.after.as_str())
                .await
            {
                Ok(cmp) => {
                    for c in &cmp.commits {
                        verified.insert(CommitSha::new(c.sha.clone()), verification_of(c));
                    }
                }
                Err(e) => notes.push(format!("compare of the push could not be read: {e}")),
            }
        }
        let mut reads = 0usize;
        let mut skipped = 0usize;
        for c in &input.commits {
            if verified.contains_key(&c.sha) {
                continue;
            }
            if reads >= MAX_COMMIT_LOOKUPS {
                skipped += 1;
                verified.insert(c.sha.clone(), None);
                continue;
            }
            reads += 1;
            let v = gh
                .get_commit(repo, c.sha.as_str())
                .await
                .ok()
                .and_then(|ci| verification_of(&ci));
            verified.insert(c.sha.clone(), v);
        }
        if skipped > 0 {
            notes.push(format!(
                "signatures of {skipped} commits were not read (bound of {MAX_COMMIT_LOOKUPS} single-commit reads)"
            ));
        }
        facts.verification = verified;
    }

    // 5. Commits a force-push removed from the branch.
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
                && matches!(a.kind, AlertKind::ForcePush | AlertKind::DirectPush)
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
        assert_eq!(input.commits.len(), 1);
        assert_eq!(input.commits[0].author.login.as_deref(), Some("Codertocat"));
        assert_eq!(input.commits[0].committer.login, None);
        assert!(input.created && !input.forced && !input.commits_truncated);
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
        let c = parse(b"push: [", "x".into());
        assert!(c.error.is_some());
        assert_eq!(c.config, Config::default());
        let c = parse(b"push:\n  branches: [prod]\n", "x".into());
        assert!(c.error.is_none());
        assert_eq!(c.config.push.branches, vec!["prod".to_owned()]);
    }
}
