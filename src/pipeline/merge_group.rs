//! `merge_group` (GitHub's merge queue): the queue builds a temporary
//! branch, `gh-readonly-queue/<base>/pr-<N>-<sha>`, holding the base branch
//! with the queued pull requests merged onto it, and waits for the required
//! checks on its head commit. Without our three check runs there a merge
//! queue with required gitops-guard checks never merges anything.
//!
//! What each gate means on a merge group:
//! - `manifests`: the change from the group's `base_sha` to its `head_sha`,
//!   judged with the policy at `base_sha`, exactly as a pull request from
//!   that base to that head would be (the merged result is what deploys, so
//!   it is evaluated, not only each PR on its own).
//! - `reviews`, `signatures`: the verdict on the pull request the group was
//!   built for (`pr-<N>` of the head ref), evaluated afresh on the PR. The
//!   PRs queued ahead of it are each the subject of their own, earlier
//!   merge group; every PR also had to pass the required checks before the
//!   queue accepted it.
//!
//! Fail closed: a head ref that names no pull request, a PR that is not
//! open or targets another branch, or a tree GitHub cannot list in full
//! concludes `failure` with the reason, never `success`.

use std::collections::BTreeMap;

use anyhow::Context as _;

use super::PipelineContext;
use super::gate::{GateSpec, run_group_gate};
use super::pull_request::{plan_with, tree};
use super::snapshot::PrSnapshot;
use super::{reviews, signatures};
use crate::engine::ids::RepoName;
use crate::github::event::MergeGroupEvent;
use crate::github::{GitHub, GitHubError, PrFile, PullRequestInfo, Side};
use crate::report::checkrun::{CheckRunOutput, MANIFESTS_CHECK};

/// The pull request a merge group was built for, from its head ref
/// `refs/heads/gh-readonly-queue/<base>/pr-<N>-<sha>` (the base branch may
/// itself contain `/`).
pub fn queued_pr(head_ref: &str) -> Option<u64> {
    let rest = head_ref.strip_prefix("refs/heads/").unwrap_or(head_ref);
    let rest = rest.strip_prefix("gh-readonly-queue/")?;
    let last = rest.rsplit('/').next()?;
    let (n, sha) = last.strip_prefix("pr-")?.split_once('-')?;
    if sha.is_empty() || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    n.parse().ok().filter(|&n| n > 0)
}

fn branch(r: &str) -> &str {
    r.strip_prefix("refs/heads/").unwrap_or(r)
}

/// Runs the three check runs on the merge group's head commit.
pub async fn run(
    gh: &dyn GitHub,
    ctx: &PipelineContext,
    e: &MergeGroupEvent,
) -> anyhow::Result<()> {
    if e.action != "checks_requested" {
        return Ok(());
    }
    let repo = RepoName::parse(&e.repository.full_name)
        .with_context(|| format!("bad repository name {:?}", e.repository.full_name))?;
    let g = &e.merge_group;
    let number = queued_pr(&g.head_ref);
    let group_pr = PullRequestInfo {
        number: number.unwrap_or(0),
        state: "open".into(),
        head: Side {
            ref_: branch(&g.head_ref).to_owned(),
            sha: g.head_sha.clone(),
        },
        base: Side {
            ref_: branch(&g.base_ref).to_owned(),
            sha: g.base_sha.clone(),
        },
        ..PullRequestInfo::default()
    };
    // The queued PR's lock: its own pipeline and its group do not race.
    let _guard = super::gate::pr_lock(ctx, &repo, number.unwrap_or(0)).await;
    let mut first_err = None;

    // manifests: base_sha → head_sha. An error listing the change becomes
    // the run's `failure` (through the gate), like an evaluation error.
    let r = match changed_files(gh, ctx, &repo, &g.base_sha, &g.head_sha).await {
        Ok(files) => {
            let mut pr = group_pr.clone();
            pr.changed_files = files.len() as u64;
            let snap = PrSnapshot::with_files(repo.clone(), pr, files);
            run_group_gate(
                gh,
                ctx,
                &snap,
                spec(MANIFESTS_CHECK),
                plan_with(gh, ctx, &snap),
            )
            .await
        }
        Err(e) => {
            let snap = PrSnapshot::with_files(repo.clone(), group_pr.clone(), Vec::new());
            run_group_gate(gh, ctx, &snap, spec(MANIFESTS_CHECK), async { Err(e) }).await
        }
    };
    if let Err(e) = r {
        first_err.get_or_insert(e);
    }

    // reviews and signatures: the queued PR's own verdict.
    let group_snap = PrSnapshot::with_files(repo.clone(), group_pr, Vec::new());
    let queued = queued_snapshot(gh, &repo, number, branch(&g.base_ref)).await;
    for name in [reviews::REVIEWS_CHECK, signatures::SIGNATURES_CHECK] {
        let verdict = async {
            let snap = match &queued {
                Ok(s) => s,
                Err(e) => anyhow::bail!("{e:#}"),
            };
            let out = if name == reviews::REVIEWS_CHECK {
                reviews::plan(gh, ctx, snap).await?
            } else {
                signatures::plan(gh, ctx, snap).await?
            };
            Ok(for_group(out, snap.pr.number))
        };
        if let Err(e) = run_group_gate(gh, ctx, &group_snap, spec(name), verdict).await {
            first_err.get_or_insert(e);
        }
    }
    first_err.map_or(Ok(()), Err)
}

/// Forced: a merge group is checked once, and reviews may have changed
/// since any earlier run on the same commit.
fn spec(name: &str) -> GateSpec<'_> {
    GateSpec {
        name,
        force: true,
        evaluating: "Evaluating the merge group…",
    }
}

/// The queued PR, read now; an error when the group names none, or the PR
/// is not open against the group's base branch.
async fn queued_snapshot(
    gh: &dyn GitHub,
    repo: &RepoName,
    number: Option<u64>,
    base: &str,
) -> anyhow::Result<PrSnapshot> {
    let Some(number) = number else {
        anyhow::bail!(
            "the merge group's head ref does not name a pull request \
             (expected gh-readonly-queue/<base>/pr-<N>-<sha>); its reviews and signatures cannot be judged"
        );
    };
    let pr = gh
        .get_pull(repo, number)
        .await
        .with_context(|| format!("reading pull request #{number} of the merge group"))?;
    if pr.state != "open" {
        anyhow::bail!("pull request #{number} of the merge group is {}", pr.state);
    }
    if pr.base.ref_ != base {
        anyhow::bail!(
            "pull request #{number} targets `{}`, the merge group `{base}`",
            pr.base.ref_
        );
    }
    Ok(PrSnapshot::new(repo.clone(), pr))
}

/// Says which PR the verdict is about.
fn for_group(mut out: CheckRunOutput, number: u64) -> CheckRunOutput {
    out.title = format!("PR #{number}: {}", out.title);
    out.summary = format!(
        "Merge group for pull request #{number}: its verdict, evaluated now.\n\n{}",
        out.summary
    );
    out
}

/// The files that differ between two commits, from their trees (no file
/// limit, unlike compare's 300): added, removed and modified blobs, each
/// with its blob id.
async fn changed_files(
    gh: &dyn GitHub,
    ctx: &PipelineContext,
    repo: &RepoName,
    base: &str,
    head: &str,
) -> anyhow::Result<Vec<PrFile>> {
    let (bt, ht) = tokio::try_join!(
        async {
            tree(gh, ctx, repo, base)
                .await
                .context("reading the base commit's tree")
        },
        async {
            tree(gh, ctx, repo, head)
                .await
                .context("reading the merge group's tree")
        },
    )?;
    if bt.truncated || ht.truncated {
        anyhow::bail!(GitHubError::Limit(
            "a tree of the merge group is too large for GitHub to list; its change cannot be evaluated completely".into()
        ));
    }
    let blobs = |t: &crate::github::Tree| -> BTreeMap<String, String> {
        t.tree
            .iter()
            .filter(|e| e.kind == "blob")
            .map(|e| (e.path.clone(), e.sha.clone()))
            .collect()
    };
    Ok(diff(&blobs(&bt), &blobs(&ht)))
}

/// The change between two path → blob maps, sorted by path.
fn diff(base: &BTreeMap<String, String>, head: &BTreeMap<String, String>) -> Vec<PrFile> {
    let file = |path: &str, status: &str, sha: &str| PrFile {
        filename: path.to_owned(),
        status: status.into(),
        sha: Some(sha.to_owned()),
        previous_filename: None,
    };
    let mut out: Vec<PrFile> = head
        .iter()
        .filter_map(|(p, sha)| match base.get(p) {
            None => Some(file(p, "added", sha)),
            Some(old) if old != sha => Some(file(p, "modified", sha)),
            Some(_) => None,
        })
        .collect();
    out.extend(
        base.iter()
            .filter(|(p, _)| !head.contains_key(*p))
            .map(|(p, sha)| file(p, "removed", sha)),
    );
    out.sort_by(|a, b| a.filename.cmp(&b.filename));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_pr_from_head_ref() {
        let sha = "0b4e5f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4";
        assert_eq!(
            queued_pr(&format!("refs/heads/gh-readonly-queue/main/pr-7-{sha}")),
            Some(7)
        );
        assert_eq!(
            queued_pr(&format!("gh-readonly-queue/release/v2/pr-123-{sha}")),
            Some(123)
        );
        for bad in [
            "refs/heads/main".to_owned(),
            format!("refs/heads/feature/pr-7-{sha}"),
            "refs/heads/gh-readonly-queue/main/pr-7-".to_owned(),
            "refs/heads/gh-readonly-queue/main/pr-x-abc".to_owned(),
            "refs/heads/gh-readonly-queue/main/pr-0-abc".to_owned(),
            "refs/heads/gh-readonly-queue/main/pr-7-nothex".to_owned(),
        ] {
            assert_eq!(queued_pr(&bad), None, "{bad}");
        }
    }

    #[test]
    fn tree_diff_lists_added_modified_removed() {
        let m = |v: &[(&str, &str)]| -> BTreeMap<String, String> {
            v.iter()
                .map(|(p, s)| ((*p).to_owned(), (*s).to_owned()))
                .collect()
        };
        let d = diff(
            &m(&[("a.yaml", "1"), ("b.yaml", "2"), ("c.yaml", "3")]),
            &m(&[("a.yaml", "1"), ("b.yaml", "9"), ("d.yaml", "4")]),
        );
        let got: Vec<(&str, &str)> = d
            .iter()
            .map(|f| (f.filename.as_str(), f.status.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("b.yaml", "modified"),
                ("c.yaml", "removed"),
                ("d.yaml", "added")
            ]
        );
    }
}
