//! Pushes are judged by what the ref now points at (issue 14, items 4, 5
//! and 8): bors-style scenarios through the real router and worker, the
//! real octocrab client and the stateful fake GitHub. Each attack beside
//! its legitimate twin:
//!
//! - a deployment branch created at an unreviewed commit, or `main`
//!   fast-forwarded to one, with an empty `commits` array → `direct-push`;
//!   a branch created at `main`'s head → nothing;
//! - more than the payload's 2,048 commits → every one judged through the
//!   paginated compare; more than the bound → "too large to verify";
//! - an admin pushing an open, unapproved PR's head to `main` (GitHub marks
//!   the PR merged) → `review-bypass` naming who merged; a verdict posted by
//!   another App does not count; the approved twin → nothing;
//! - `GitHub <noreply@github.com>` written on an unsigned commit → alerts;
//! - squash and rebase merges of an approved PR → nothing, in a handful of
//!   API calls.

mod common;

use axum::http::Method;
use common::fake_alerts::Who;
use common::fake_alerts::scenario::*;
use common::*;

const ZERO: &str = "0000000000000000000000000000000000000000";
/// `release/{1,2}` is the glob dialect validation accepts (alternatives);
/// it used to validate and then never match.
const RELEASES: &str = "version: 1\npush:\n  branches: [main, \"release/{1,2}\"]\n";

fn spec<'a>(git_ref: &'a str, before: &'a str, after: &'a str, sender: &'a str) -> PushSpec<'a> {
    PushSpec {
        git_ref,
        before,
        after,
        forced: false,
        deleted: false,
        sender,
        commits: Vec::new(),
    }
}

/// A commit on top of `parent` by `who`, signed by them.
fn child(h: &Harness, parent: &str, msg: &str, who: &Who, config: &str) -> String {
    h.fake.git_commit(
        REPO,
        &[(CONFIG, config), ("apps/a.yaml", MANIFEST), ("msg", msg)],
        &[parent],
        msg,
        who,
        who,
        true,
    )
}

/// A commit GitHub wrote itself (merge button, squash, rebase): committer
/// web-flow, signed by GitHub.
fn by_github(h: &Harness, parents: &[&str], msg: &str, author: &Who) -> String {
    h.fake.git_commit(
        REPO,
        &[(CONFIG, BASIC), ("apps/a.yaml", MANIFEST), ("msg", msg)],
        parents,
        msg,
        author,
        &Who::web_flow(),
        true,
    )
}

fn kinds(h: &Harness) -> Vec<String> {
    let mut k: Vec<String> = issues(h)
        .iter()
        .map(|i| {
            i.title
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    k.sort();
    k
}

#[tokio::test]
async fn a_branch_created_at_an_unreviewed_commit_alerts() {
    let h = harness(None).await;
    let c0 = base(&h, RELEASES);
    let u = child(&h, &c0, "unreviewed", &Who::user("alice"), RELEASES);
    h.fake.set_branch(REPO, "release/1", &u);
    // GitHub lists no commits: `u` already existed in the repository.
    deliver_push(&h, &spec("refs/heads/release/1", ZERO, &u, "alice")).await;
    let all = issues(&h);
    assert_eq!(kinds(&h), vec!["direct-push"], "{all:#?}");
    let d = issue_of(&all, "direct-push").unwrap();
    assert!(d.body.contains(&u[..7]), "names the commit: {}", d.body);
    assert!(
        d.body
            .contains("no merged pull request into this branch contains it"),
        "{}",
        d.body
    );
    // Judged against the default branch.
    assert_eq!(
        h.fake.calls(&Method::GET, &format!("/compare/main...{u}")),
        1,
        "{:#?}",
        h.fake.call_log()
    );
}

#[tokio::test]
async fn a_branch_created_at_mains_head_raises_nothing() {
    let h = harness(None).await;
    let c0 = base(&h, RELEASES);
    h.fake.set_branch(REPO, "release/2", &c0);
    deliver_push(&h, &spec("refs/heads/release/2", ZERO, &c0, "alice")).await;
    assert!(issues(&h).is_empty(), "{:#?}", issues(&h));
    assert_eq!(h.fake.calls(&Method::GET, "/compare/"), 1);
    assert_eq!(
        h.fake.calls(&Method::GET, "/pulls"),
        0,
        "nothing new, nothing to look up"
    );
}

#[tokio::test]
async fn a_branch_cut_from_another_deployment_branch_raises_nothing() {
    let h = harness(None).await;
    let c0 = base(&h, RELEASES);
    // release/1 holds an approved merge that main does not have.
    let head = child(&h, &c0, "fix", &Who::user("alice"), RELEASES);
    let sq = by_github(&h, &[&c0], "fix (#30)", &Who::user("alice"));
    h.fake
        .merged_pr(REPO, 30, "release/1", &head, &sq, &[&sq], "alice", true);
    h.fake.set_branch(REPO, "release/1", &sq);
    h.fake.set_branch(REPO, "release/2", &sq);
    deliver_push(&h, &spec("refs/heads/release/2", ZERO, &sq, "alice")).await;
    assert!(issues(&h).is_empty(), "{:#?}", issues(&h));
}

#[tokio::test]
async fn a_fast_forward_to_an_unreviewed_commit_with_no_listed_commits_alerts() {
    let h = harness(None).await;
    let c0 = base(&h, BASIC);
    let u = child(&h, &c0, "unreviewed", &Who::user("alice"), BASIC);
    h.fake.set_branch(REPO, "main", &u);
    deliver_push(&h, &spec("refs/heads/main", &c0, &u, "alice")).await;
    let all = issues(&h);
    assert_eq!(kinds(&h), vec!["direct-push"], "{all:#?}");
    let d = issue_of(&all, "direct-push").unwrap();
    assert!(d.body.contains(&u[..7]), "{}", d.body);
    assert!(d.body.contains(&format!("git revert --no-edit {c0}..{u}")));
}

#[tokio::test]
async fn a_fast_forward_to_an_approved_squash_merge_with_no_listed_commits_raises_nothing() {
    let h = harness(None).await;
    let c0 = base(&h, BASIC);
    let head = child(&h, &c0, "feature", &Who::user("alice"), BASIC);
    let sq = by_github(&h, &[&c0], "feature (#4)", &Who::user("alice"));
    h.fake
        .merged_pr(REPO, 4, "main", &head, &sq, &[&sq, &head], "alice", true);
    h.fake.set_branch(REPO, "main", &sq);
    deliver_push(&h, &spec("refs/heads/main", &c0, &sq, "alice")).await;
    assert!(issues(&h).is_empty(), "{:#?}", issues(&h));
}

/// `n` commits on top of `c0` (the first `n - 1` by alice, signed; commit
/// `odd` by an outsider and unsigned, when given), merged by GitHub in an
/// approved PR whose merge commit is returned.
fn long_history(h: &Harness, c0: &str, n: usize, odd: Option<usize>) -> (String, Vec<String>) {
    let mut parent = c0.to_owned();
    let mut shas = Vec::with_capacity(n);
    for i in 0..n {
        let msg = format!("step {i}");
        let c = if odd == Some(i) {
            h.fake.git_commit(
                REPO,
                &[(CONFIG, BASIC), ("msg", &msg)],
                &[&parent],
                &msg,
                &Who::user("outsider"),
                &Who::user("outsider"),
                false,
            )
        } else {
            h.fake.git_commit(
                REPO,
                &[(CONFIG, BASIC), ("msg", &msg)],
                &[&parent],
                &msg,
                &Who::user("alice"),
                &Who::user("alice"),
                true,
            )
        };
        shas.push(c.clone());
        parent = c;
    }
    let m = by_github(
        h,
        &[c0, &parent],
        "Merge pull request #8",
        &Who::user("alice"),
    );
    let all: Vec<&str> = shas
        .iter()
        .map(String::as_str)
        .chain([m.as_str()])
        .collect();
    h.fake
        .merged_pr(REPO, 8, "main", &parent, &m, &all, "alice", true);
    h.fake.set_branch(REPO, "main", &m);
    (m, shas)
}

#[tokio::test]
async fn pushes_beyond_the_payload_cap_are_judged_commit_by_commit() {
    let h = harness(None).await;
    let c0 = base(&h, BASIC);
    // 2,100 commits: beyond GitHub's 2,048 listed in a payload (and its 20
    // with details); the odd one is number 2,060.
    let (m, shas) = long_history(&h, &c0, 2100, Some(2060));
    let mut s = spec("refs/heads/main", &c0, &m, "alice");
    s.commits = shas
        .iter()
        .take(20)
        .map(|c| (c.clone(), "step", Who::user("alice"), Who::user("alice")))
        .collect();
    deliver_push(&h, &s).await;
    let all = issues(&h);
    assert_eq!(
        kinds(&h),
        vec!["unknown-author", "unsigned-commit"],
        "{all:#?}"
    );
    let odd = &shas[2060][..7];
    for k in ["unknown-author", "unsigned-commit"] {
        let i = issue_of(&all, k).unwrap();
        assert!(i.body.contains(odd), "{k} names {odd}: {}", i.body);
    }
    // All 2,101 commits came through the paginated compare, 250 a page.
    assert_eq!(h.fake.calls(&Method::GET, "/compare/"), 9);
    // The merge commit's PR covered every commit: one lookup.
    assert_eq!(h.fake.calls(&Method::GET, "/pulls"), 1);
}

#[tokio::test]
async fn a_long_reviewed_history_raises_nothing() {
    let h = harness(None).await;
    let c0 = base(&h, BASIC);
    let (m, _) = long_history(&h, &c0, 2100, None);
    deliver_push(&h, &spec("refs/heads/main", &c0, &m, "alice")).await;
    assert!(issues(&h).is_empty(), "{:#?}", issues(&h));
}

#[tokio::test]
async fn a_push_too_large_to_verify_fails_closed() {
    let h = harness(None).await;
    let c0 = base(&h, BASIC);
    let (m, _) = long_history(&h, &c0, 10_000, None);
    deliver_push(&h, &spec("refs/heads/main", &c0, &m, "alice")).await;
    let all = issues(&h);
    assert_eq!(kinds(&h), vec!["direct-push"], "{all:#?}");
    let d = issue_of(&all, "direct-push").unwrap();
    assert!(d.body.contains("too large to verify"), "{}", d.body);
    assert!(d.body.contains("more than the 10000"), "{}", d.body);
    // GitHub's `total_commits` on the first page was enough to know.
    assert_eq!(h.fake.calls(&Method::GET, "/compare/"), 1);
}

/// PR #12 is open with head `head` (a child of main's head) and the
/// reviews run there concluded `verdict`. An admin pushes `head` to main:
/// GitHub marks the PR merged, by the admin, with `head` as its merge
/// commit.
async fn admin_pushes_pr_head(verdict: &str, app: Option<u64>) -> Harness {
    let h = harness(None).await;
    let c0 = base(&h, BASIC);
    let head = child(&h, &c0, "risky change", &Who::user("alice"), BASIC);
    h.fake.reviews_run(REPO, &head, verdict, app);
    h.fake.merged_pr(
        REPO,
        12,
        "main",
        &head,
        &head,
        &[&head],
        "root-admin",
        false,
    );
    h.fake.set_branch(REPO, "main", &head);
    let mut s = spec("refs/heads/main", &c0, &head, "root-admin");
    s.commits = vec![(
        head.clone(),
        "risky change",
        Who::user("alice"),
        Who::user("alice"),
    )];
    deliver_push(&h, &s).await;
    h
}

#[tokio::test]
async fn an_admin_pushing_an_unapproved_prs_head_is_a_review_bypass_naming_who() {
    let h = admin_pushes_pr_head("failure", None).await;
    let all = issues(&h);
    assert_eq!(kinds(&h), vec!["review-bypass"], "{all:#?}");
    let i = issue_of(&all, "review-bypass").unwrap();
    assert!(
        i.title.contains("PR #12 merged by @root-admin"),
        "{}",
        i.title
    );
    assert!(i.body.contains("concluded failure"), "{}", i.body);
    assert!(i.body.contains("#runbook-review-bypass"), "{}", i.body);
    // Who merged comes from the full PR, read only because it did not pass.
    assert_eq!(h.fake.calls(&Method::GET, "/repos/acme/deploy/pulls/12"), 1);
}

#[tokio::test]
async fn a_success_posted_by_another_app_does_not_count() {
    let h = admin_pushes_pr_head("success", Some(999)).await;
    let all = issues(&h);
    assert_eq!(kinds(&h), vec!["review-bypass"], "{all:#?}");
    let i = issue_of(&all, "review-bypass").unwrap();
    assert!(
        i.body.contains("no `gitops-guard/reviews` run of this App"),
        "{}",
        i.body
    );
}

#[tokio::test]
async fn pushing_an_approved_prs_head_raises_nothing() {
    let h = admin_pushes_pr_head("success", None).await;
    assert!(issues(&h).is_empty(), "{:#?}", issues(&h));
    assert_eq!(
        h.fake.calls(&Method::GET, "/repos/acme/deploy/pulls/12"),
        0,
        "who merged is read only for an alert"
    );
}

#[tokio::test]
async fn github_written_as_committer_text_on_an_unsigned_commit_alerts() {
    let h = harness(None).await;
    let c0 = base(&h, BASIC);
    // The committer (and author) text is GitHub's; GitHub even links the
    // email to the web-flow account. Nothing signed it.
    let forged = h.fake.git_commit(
        REPO,
        &[(CONFIG, BASIC), ("apps/a.yaml", "kind: Evil\n")],
        &[&c0],
        "Merge pull request #1 from acme/feature",
        &Who::web_flow(),
        &Who::web_flow(),
        false,
    );
    h.fake.set_branch(REPO, "main", &forged);
    let mut s = spec("refs/heads/main", &c0, &forged, "mallory");
    s.commits = vec![(
        forged.clone(),
        "Merge pull request #1",
        Who::web_flow(),
        Who::web_flow(),
    )];
    deliver_push(&h, &s).await;
    let all = issues(&h);
    assert_eq!(
        kinds(&h),
        vec!["direct-push", "unknown-author", "unsigned-commit"],
        "{all:#?}"
    );
    let u = issue_of(&all, "unknown-author").unwrap();
    assert!(u.body.contains("@web-flow"), "{}", u.body);
}

#[tokio::test]
async fn squash_and_rebase_merges_of_an_approved_pr_raise_nothing() {
    let h = harness(None).await;
    let c0 = base(&h, BASIC);
    // Squash merge of PR #20: GitHub writes one commit on main.
    let head20 = child(&h, &c0, "feature 20", &Who::user("alice"), BASIC);
    let sq = by_github(&h, &[&c0], "feature 20 (#20)", &Who::user("alice"));
    h.fake.merged_pr(
        REPO,
        20,
        "main",
        &head20,
        &sq,
        &[&sq, &head20],
        "alice",
        true,
    );
    h.fake.set_branch(REPO, "main", &sq);
    let mut s = spec("refs/heads/main", &c0, &sq, "alice");
    s.commits = vec![(
        sq.clone(),
        "feature 20 (#20)",
        Who::user("alice"),
        Who::web_flow(),
    )];
    let before_calls = h.fake.st().calls.len();
    deliver_push(&h, &s).await;
    let squash_calls: Vec<String> = h.fake.st().calls[before_calls..]
        .iter()
        .filter(|c| !c.path.contains("/access_tokens"))
        .map(|c| format!("{} {}", c.method, c.path))
        .collect();
    // Rebase merge of PR #21 (two commits): GitHub rewrites both onto main.
    let a21 = child(&h, &c0, "part 1", &Who::user("alice"), BASIC);
    let b21 = child(&h, &a21, "part 2", &Who::user("alice"), BASIC);
    let r1 = by_github(&h, &[&sq], "part 1", &Who::user("alice"));
    let r2 = by_github(&h, &[&r1], "part 2", &Who::user("alice"));
    h.fake.merged_pr(
        REPO,
        21,
        "main",
        &b21,
        &r2,
        &[&r1, &r2, &a21, &b21],
        "alice",
        true,
    );
    h.fake.set_branch(REPO, "main", &r2);
    let mut s = spec("refs/heads/main", &sq, &r2, "alice");
    s.commits = vec![
        (r1.clone(), "part 1", Who::user("alice"), Who::web_flow()),
        (r2.clone(), "part 2", Who::user("alice"), Who::web_flow()),
    ];
    deliver_push(&h, &s).await;
    assert!(issues(&h).is_empty(), "{:#?}", issues(&h));
    // A typical merge: config (contents), compare, associated PRs, the
    // reviews run, one membership lookup (web-flow needs none), and the
    // open-issue search is never reached.
    let judged: Vec<&String> = squash_calls
        .iter()
        .filter(|c| !c.contains("/contents/"))
        .collect();
    assert_eq!(judged.len(), 4, "{squash_calls:#?}");
    for want in ["/compare/", "/pulls", "/check-runs", "/memberships/alice"] {
        assert!(
            judged.iter().any(|c| c.contains(want)),
            "{want}: {squash_calls:#?}"
        );
    }
}
