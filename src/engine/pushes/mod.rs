//! Push alerts: turns a `push` to a deployment branch, plus the facts the
//! shell gathered from GitHub (associated PRs, org membership, signature
//! verification, commits lost by a force-push), into [`Alert`]s.
//!
//! Every push that bypasses the review gate is an incident: a force-push
//! rewrote history, a branch was deleted, a commit arrived without a merged
//! PR, a commit came from someone who is not an org member or trusted, or a
//! commit is unsigned where signatures are required. Each alert carries what
//! a responder needs, including the exact Git commands that restore the last
//! trusted state through a normal, reviewed PR (no cluster access needed).
//!
//! Facts the shell could not establish are `None` and fail closed: an
//! unverifiable commit is reported as such, never assumed fine.

/// Protection and ruleset diffs: the `protection-weakened` alert.
pub mod protection;

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use crate::engine::config::{PushConfig, SignaturesConfig};
use crate::engine::ids::{CommitSha, RepoName, RuleId};

/// A Git identity as the push payload carries it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// Git name.
    pub name: String,
    /// Git email.
    pub email: String,
    /// GitHub login, present only when GitHub matched the email to an account.
    pub login: Option<String>,
}

impl Identity {
    /// `login` if known, else `Name <email>`.
    pub fn display(&self) -> String {
        match &self.login {
            Some(l) => format!("@{l}"),
            None => format!("{} <{}>", self.name, self.email),
        }
    }

    /// GitHub's own identity for commits made in the web UI (merge button,
    /// web edits): GitHub signs them and they are not made by a person.
    pub fn is_github_web_flow(&self) -> bool {
        self.login.as_deref() == Some("web-flow")
            || (self.email == "noreply@github.com" && self.name == "GitHub")
    }
}

/// One commit of the push.
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
}

/// The `push` event, reduced to what the rules need.
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
    /// Commits pushed (at most 2048 in a payload).
    pub commits: Vec<PushCommit>,
    /// True when the payload's commit list was cut at GitHub's 2048 cap.
    pub commits_truncated: bool,
}

/// What GitHub says about one commit's associated pull requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssociatedPr {
    /// PR number.
    pub number: u64,
    /// Merged (not just open or closed).
    pub merged: bool,
    /// Base branch of the PR.
    pub base_ref: String,
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
    /// Per commit: its associated PRs.
    pub associated_prs: BTreeMap<CommitSha, Option<Vec<AssociatedPr>>>,
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

/// Glob match for branch and tag patterns (`*` any run of characters except
/// `/`, `**` any run including `/`, `?` one character) — the fnmatch-style
/// patterns GitHub branch protection uses.
pub fn ref_glob(pattern: &str, name: &str) -> bool {
    fn rec(p: &[u8], s: &[u8]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some(b'*') if p.get(1) == Some(&b'*') => (0..=s.len()).any(|i| rec(&p[2..], &s[i..])),
            Some(b'*') => {
                let mut i = 0;
                loop {
                    if rec(&p[1..], &s[i..]) {
                        return true;
                    }
                    if i == s.len() || s[i] == b'/' {
                        return false;
                    }
                    i += 1;
                }
            }
            Some(b'?') => !s.is_empty() && s[0] != b'/' && rec(&p[1..], &s[1..]),
            Some(&c) => s.first() == Some(&c) && rec(&p[1..], &s[1..]),
        }
    }
    // Patterns are short config strings; bound the work anyway.
    pattern.len() <= 256 && name.len() <= 1024 && rec(pattern.as_bytes(), name.as_bytes())
}

/// Is `branch` a protected deployment branch under `cfg`?
pub fn is_protected_branch(cfg: &PushConfig, default_branch: &str, branch: &str) -> bool {
    if cfg.branches.is_empty() {
        return branch == default_branch;
    }
    cfg.branches.iter().any(|p| ref_glob(p, branch))
}

fn fingerprint(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    hex::encode(&h.finalize()[..8])
}

fn commit_line(c: &PushCommit) -> String {
    format!(
        "- `{}` {} — author {}, committer {}",
        c.sha.short(),
        c.title,
        c.author.display(),
        c.committer.display()
    )
}

fn is_trusted(cfg: &PushConfig, facts: &PushFacts, id: &Identity) -> Result<(), String> {
    if id.is_github_web_flow() {
        return Ok(());
    }
    let email = id.email.to_ascii_lowercase();
    if cfg
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

/// Evaluates a push. Returns no alerts for refs that are not protected.
pub fn evaluate_push(
    cfg: &PushConfig,
    sig: &SignaturesConfig,
    input: &PushInput,
    facts: &PushFacts,
) -> Vec<Alert> {
    let mut alerts = Vec::new();
    if let Some(tag) = input.git_ref.strip_prefix("refs/tags/") {
        if cfg.tags.iter().any(|p| ref_glob(p, tag)) {
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
                "Commits that disappeared from `{branch}`:\n{}\n",
                l.iter().map(commit_line).collect::<Vec<_>>().join("\n")
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

    // Commits without a merged PR into this branch.
    let mut direct: Vec<(&PushCommit, &'static str)> = Vec::new();
    for c in &input.commits {
        if c.committer.is_github_web_flow() && c.author.is_github_web_flow() {
            continue;
        }
        match facts.associated_prs.get(&c.sha) {
            Some(Some(prs)) if prs.iter().any(|p| p.merged && p.base_ref == branch) => {}
            Some(Some(_)) => {
                direct.push((c, "no merged pull request into this branch contains it"))
            }
            _ => direct.push((c, "its pull requests could not be looked up")),
        }
    }
    if !direct.is_empty() || input.commits_truncated {
        let good = if input.before.is_zero() {
            None
        } else {
            Some(&input.before)
        };
        let (rollback, rb) = match good {
            Some(g) => {
                let (mut cmds, rb) = restore_commands(
                    repo,
                    branch,
                    g,
                    &input.after,
                    &format!("revert direct push by @{}", input.sender),
                );
                cmds.push(format!(
                    "# or, commit by commit: git revert --no-edit {}..{}",
                    g, input.after
                ));
                (cmds, Some(rb))
            }
            None => (Vec::new(), None),
        };
        let mut body = format!(
            "Commits reached the protected branch `{branch}` without a merged, reviewed pull request.\n\n{header}\n"
        );
        for (c, why) in &direct {
            body.push_str(&format!("{} — {why}\n", commit_line(c)));
        }
        if input.commits_truncated {
            body.push_str("\nThe push held more commits than GitHub lists in a webhook (2048); the rest were not checked and must be reviewed by hand.\n");
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

    // Authors and committers that are neither members nor trusted.
    let mut unknown: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut unknown_shas = Vec::new();
    for c in &input.commits {
        for (role, id) in [("author", &c.author), ("committer", &c.committer)] {
            if let Err(why) = is_trusted(cfg, facts, id) {
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
            body.push_str(&format!("- {why}: {}\n", commits.join(", ")));
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
        for c in &input.commits {
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
                body: format!("Signatures are required on `{branch}`, but these commits are not verified:\n\n{}\n\n{header}", bad.join("\n")),
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
        }
    }

    fn push(commits: Vec<PushCommit>) -> PushInput {
        PushInput {
            repo: RepoName::parse("acme/deploy").unwrap(),
            default_branch: "main".into(),
            git_ref: "refs/heads/main".into(),
            before: CommitSha::new("1111111111111111111111111111111111111111"),
            after: CommitSha::new("2222222222222222222222222222222222222222"),
            created: false,
            deleted: false,
            forced: false,
            compare_url: "https://github.com/acme/deploy/compare/1111111...2222222".into(),
            sender: "alice".into(),
            pusher: id(Some("alice"), "alice@example.com"),
            commits,
            commits_truncated: false,
        }
    }

    fn good_facts(p: &PushInput) -> PushFacts {
        let mut f = PushFacts::default();
        for c in &p.commits {
            f.associated_prs.insert(
                c.sha.clone(),
                Some(vec![AssociatedPr {
                    number: 7,
                    merged: true,
                    base_ref: "main".into(),
                }]),
            );
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
        f
    }

    fn kinds(a: &[Alert]) -> Vec<AlertKind> {
        a.iter().map(|a| a.kind).collect()
    }

    #[test]
    fn merged_pr_push_is_quiet() {
        let p = push(vec![commit(
            "2222222222222222222222222222222222222222",
            Some("alice"),
        )]);
        let f = good_facts(&p);
        assert!(
            evaluate_push(&PushConfig::default(), &SignaturesConfig::default(), &p, &f).is_empty()
        );
    }

    #[test]
    fn merge_button_commit_by_web_flow_is_quiet() {
        let mut c = commit("2222222222222222222222222222222222222222", Some("alice"));
        c.committer = Identity {
            name: "GitHub".into(),
            email: "noreply@github.com".into(),
            login: Some("web-flow".into()),
        };
        let p = push(vec![c]);
        let f = good_facts(&p);
        assert!(
            evaluate_push(&PushConfig::default(), &SignaturesConfig::default(), &p, &f).is_empty()
        );
    }

    #[test]
    fn unprotected_branch_is_quiet() {
        let mut p = push(vec![commit(
            "2222222222222222222222222222222222222222",
            None,
        )]);
        p.git_ref = "refs/heads/feature/x".into();
        p.forced = true;
        assert!(
            evaluate_push(
                &PushConfig::default(),
                &SignaturesConfig::default(),
                &p,
                &PushFacts::default()
            )
            .is_empty()
        );
    }

    #[test]
    fn force_push_alert_has_restore_commands() {
        let mut p = push(vec![commit(
            "2222222222222222222222222222222222222222",
            Some("alice"),
        )]);
        p.forced = true;
        let mut f = good_facts(&p);
        f.lost_commits = Some(vec![commit(
            "3333333333333333333333333333333333333333",
            Some("bob"),
        )]);
        let a = evaluate_push(&PushConfig::default(), &SignaturesConfig::default(), &p, &f);
        assert_eq!(kinds(&a), vec![AlertKind::ForcePush]);
        let fp = &a[0];
        assert!(fp.body.contains("3333333"));
        assert!(fp.title.contains("2222222"));
        assert!(
            fp.rollback
                .iter()
                .any(|c| c == "git read-tree -u --reset 1111111111111111111111111111111111111111")
        );
        assert_eq!(
            fp.revert_branch.as_deref(),
            Some("gitops-guard/revert-2222222")
        );
    }

    #[test]
    fn direct_push_without_pr() {
        let p = push(vec![commit(
            "2222222222222222222222222222222222222222",
            Some("alice"),
        )]);
        let mut f = good_facts(&p);
        f.associated_prs.insert(
            p.commits[0].sha.clone(),
            Some(vec![AssociatedPr {
                number: 9,
                merged: false,
                base_ref: "main".into(),
            }]),
        );
        let a = evaluate_push(&PushConfig::default(), &SignaturesConfig::default(), &p, &f);
        assert_eq!(kinds(&a), vec![AlertKind::DirectPush]);
        assert!(a[0].rollback.iter().any(|c| c.contains("git revert --no-edit 1111111111111111111111111111111111111111..2222222222222222222222222222222222222222")));
        // A PR merged into another branch does not count either.
        f.associated_prs.insert(
            p.commits[0].sha.clone(),
            Some(vec![AssociatedPr {
                number: 9,
                merged: true,
                base_ref: "staging".into(),
            }]),
        );
        assert_eq!(
            kinds(&evaluate_push(
                &PushConfig::default(),
                &SignaturesConfig::default(),
                &p,
                &f
            )),
            vec![AlertKind::DirectPush]
        );
        // Unknown facts fail closed.
        f.associated_prs.insert(p.commits[0].sha.clone(), None);
        assert_eq!(
            kinds(&evaluate_push(
                &PushConfig::default(),
                &SignaturesConfig::default(),
                &p,
                &f
            )),
            vec![AlertKind::DirectPush]
        );
    }

    #[test]
    fn unknown_authors() {
        let p = push(vec![commit(
            "2222222222222222222222222222222222222222",
            Some("mallory"),
        )]);
        let mut f = good_facts(&p);
        f.org_members.insert("mallory".into(), Some(false));
        let a = evaluate_push(&PushConfig::default(), &SignaturesConfig::default(), &p, &f);
        assert_eq!(kinds(&a), vec![AlertKind::UnknownAuthor]);
        assert!(a[0].body.contains("@mallory is not a member"));
        assert!(
            a[0].shas
                .iter()
                .any(|s| s.as_str() == "2222222222222222222222222222222222222222")
        );
        // Trusted by login, by email, by team.
        for t in ["mallory", "@mallory", "mallory@example.com"] {
            let cfg = PushConfig {
                trusted_authors: vec![t.into()],
                ..PushConfig::default()
            };
            assert!(
                evaluate_push(&cfg, &SignaturesConfig::default(), &p, &f).is_empty(),
                "{t}"
            );
        }
        let mut f2 = f.clone();
        f2.trusted_team_members.insert("mallory".into());
        assert!(
            evaluate_push(
                &PushConfig::default(),
                &SignaturesConfig::default(),
                &p,
                &f2
            )
            .is_empty()
        );
        // An email that matches no account.
        let p = push(vec![commit(
            "2222222222222222222222222222222222222222",
            None,
        )]);
        let f = good_facts(&p);
        let a = evaluate_push(&PushConfig::default(), &SignaturesConfig::default(), &p, &f);
        assert_eq!(kinds(&a), vec![AlertKind::UnknownAuthor]);
        assert!(a[0].body.contains("matches no GitHub account"));
    }

    #[test]
    fn unsigned_commits_only_when_required() {
        let p = push(vec![commit(
            "2222222222222222222222222222222222222222",
            Some("alice"),
        )]);
        let mut f = good_facts(&p);
        f.verification.insert(
            p.commits[0].sha.clone(),
            Some(Verification {
                verified: false,
                reason: "unsigned".into(),
            }),
        );
        let a = evaluate_push(&PushConfig::default(), &SignaturesConfig::default(), &p, &f);
        assert_eq!(kinds(&a), vec![AlertKind::UnsignedCommit]);
        let off = SignaturesConfig {
            required: false,
            ..SignaturesConfig::default()
        };
        assert!(evaluate_push(&PushConfig::default(), &off, &p, &f).is_empty());
    }

    #[test]
    fn branch_deletion() {
        let mut p = push(vec![]);
        p.deleted = true;
        p.after = CommitSha::new("0000000000000000000000000000000000000000");
        let a = evaluate_push(
            &PushConfig::default(),
            &SignaturesConfig::default(),
            &p,
            &PushFacts::default(),
        );
        assert_eq!(kinds(&a), vec![AlertKind::BranchDeleted]);
        assert!(a[0].rollback.iter().any(
            |c| c == "git push origin 1111111111111111111111111111111111111111:refs/heads/main"
        ));
    }

    #[test]
    fn protected_tags() {
        let mut p = push(vec![]);
        p.git_ref = "refs/tags/v1.2".into();
        let cfg = PushConfig {
            tags: vec!["v*".into()],
            ..PushConfig::default()
        };
        assert_eq!(
            kinds(&evaluate_push(
                &cfg,
                &SignaturesConfig::default(),
                &p,
                &PushFacts::default()
            )),
            vec![AlertKind::TagPush]
        );
        assert!(
            evaluate_push(
                &PushConfig::default(),
                &SignaturesConfig::default(),
                &p,
                &PushFacts::default()
            )
            .is_empty()
        );
    }

    #[test]
    fn fingerprints_are_stable_and_distinct() {
        let mut p = push(vec![commit(
            "2222222222222222222222222222222222222222",
            Some("alice"),
        )]);
        p.forced = true;
        let f = good_facts(&p);
        let a1 = evaluate_push(&PushConfig::default(), &SignaturesConfig::default(), &p, &f);
        let a2 = evaluate_push(&PushConfig::default(), &SignaturesConfig::default(), &p, &f);
        assert_eq!(a1[0].fingerprint, a2[0].fingerprint);
        p.after = CommitSha::new("4444444444444444444444444444444444444444");
        let a3 = evaluate_push(&PushConfig::default(), &SignaturesConfig::default(), &p, &f);
        assert_ne!(a1[0].fingerprint, a3[0].fingerprint);
    }

    #[test]
    fn branch_globs() {
        assert!(ref_glob("release/*", "release/1.0"));
        assert!(!ref_glob("release/*", "release/1.0/hotfix"));
        assert!(ref_glob("release/**", "release/1.0/hotfix"));
        assert!(ref_glob("main", "main"));
        assert!(!ref_glob("main", "mainline"));
        let cfg = PushConfig {
            branches: vec![],
            ..PushConfig::default()
        };
        assert!(is_protected_branch(&cfg, "trunk", "trunk"));
        assert!(!is_protected_branch(&cfg, "trunk", "main"));
    }
}
