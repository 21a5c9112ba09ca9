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
    self as engine, BaseCodeOwners, PrCommit, PrFile, Review, ReviewState, ReviewsInput,
    ReviewsOutcome, TeamMembership,
};
use crate::engine::ids::CommitSha;
use crate::engine::input::ChangeStatus;
use crate::github::{CommitInfo, GitHub, GitHubError, ReviewInfo};
use crate::report::checkrun::{
    self, CheckRunOutput, Conclusion, MAX_SUMMARY_CHARS, MAX_TITLE_CHARS,
};

/// Check-run name (stable: branch protection requires it by name).
pub const REVIEWS_CHECK: &str = "gitops-guard/reviews";
/// Most team-membership lookups one evaluation may make; beyond it the
/// evaluation fails closed instead of hammering the API.
pub const MAX_TEAM_LOOKUPS: usize = 500;
/// Concurrent membership requests (GitHub asks for serial-ish traffic).
const LOOKUP_CONCURRENCY: usize = 4;

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
        async {
            gh.list_reviews(&snap.repo, snap.pr.number)
                .await
                .context("listing reviews")
        },
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
    let input = ReviewsInput {
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
    };
    let config = trusted.config.reviews.clone();
    let outcome = decide(gh, ctx, &input, &config).await?;
    Ok(render(&outcome, &input, &skipped))
}

/// Runs the engine, resolving exactly the team memberships it asks about.
async fn decide(
    gh: &dyn GitHub,
    ctx: &PipelineContext,
    input: &ReviewsInput,
    config: &crate::engine::config::ReviewsConfig,
) -> anyhow::Result<ReviewsOutcome> {
    let mut known: HashMap<(String, String), Option<bool>> = HashMap::new();
    // The second pass asks about a subset of the first (a resolved member
    // short-circuits further owners), so two passes suffice; the bound is
    // defensive.
    for _ in 0..4 {
        let rec = Recorder {
            known: &known,
            wanted: RefCell::new(BTreeSet::new()),
        };
        let outcome = engine::evaluate(input, config, &rec);
        let wanted = rec.wanted.into_inner();
        if wanted.is_empty() {
            return Ok(outcome);
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
    anyhow::bail!("team-membership resolution did not settle")
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
    }

    #[test]
    fn mode_only_changes_still_need_owners() {
        assert_eq!(change_status("unchanged"), ChangeStatus::Modified);
        assert_eq!(change_status("copied"), ChangeStatus::Added);
        assert_eq!(change_status("removed"), ChangeStatus::Removed);
        assert_eq!(change_status("renamed"), ChangeStatus::Renamed);
    }
}
