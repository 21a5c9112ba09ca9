//! `gitops-guard/reviews` judges GitHub's authority, not names (issue 14):
//! approvals count only from accounts with write access, CODEOWNERS
//! owners (users or teams) without write access own nothing, bots and the
//! App never count, approvals given before a retarget are stale, and a
//! permission GitHub will not tell us fails closed. Each attack beside its
//! legitimate twin, end to end: signed deliveries through the real router
//! and worker, the real octocrab client against the stateful fake GitHub.

mod common;

use axum::http::{Method, StatusCode};
use common::fake_github::FakeCheckRun;
use common::fake_reviews::{CommitSpec, fake_sha};
use common::*;
use serde_json::Value;

const REVIEWS: &str = "gitops-guard/reviews";
const CONFIG: &str = ".github/gitops-guard.yml";
const CODEOWNERS: &str = ".github/CODEOWNERS";
const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n";
const CM2: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: w\n";
const PR: u64 = 7;

struct Pr {
    base: String,
    head: String,
}

/// A PR changing `apps/a.yaml` into `main`, whose base holds `codeowners`.
fn setup(h: &Harness, codeowners: &str) -> Pr {
    let base = h.fake.commit(
        REPO,
        &[
            (CONFIG, "version: 1\n"),
            (CODEOWNERS, codeowners),
            ("apps/a.yaml", CM),
        ],
    );
    let head = h.fake.commit(
        REPO,
        &[
            (CONFIG, "version: 1\n"),
            (CODEOWNERS, codeowners),
            ("apps/a.yaml", CM2),
        ],
    );
    h.fake.open_pr(REPO, PR, &base, &head);
    h.fake.set_pr_author(REPO, PR, "author");
    h.fake
        .set_pr_commits(REPO, PR, &[CommitSpec::signed(&fake_sha("c", 0), "author")]);
    Pr { base, head }
}

async fn deliver(h: &Harness, event: &str, body: &[u8]) {
    assert_eq!(
        h.deliver(event, &delivery_id(), body).await,
        StatusCode::ACCEPTED,
        "{event} accepted"
    );
    h.settle().await;
}

async fn opened(h: &Harness, pr: &Pr) {
    deliver(
        h,
        "pull_request",
        &pr_event("opened", REPO, PR, &pr.base, &pr.head),
    )
    .await;
}

/// `user` approves the head (on the fake) and GitHub tells the App.
async fn approve(h: &Harness, pr: &Pr, base_ref: &str, user: &str) {
    h.fake.add_review(REPO, PR, user, "APPROVED", &pr.head);
    deliver(
        h,
        "pull_request_review",
        &review_event_on(
            "submitted",
            REPO,
            PR,
            base_ref,
            &pr.base,
            &pr.head,
            user,
            "approved",
        ),
    )
    .await;
}

fn run(h: &Harness, head: &str) -> FakeCheckRun {
    let runs = h.fake.runs(head, REVIEWS);
    assert_eq!(runs.len(), 1, "one reviews run: {:#?}", h.fake.call_log());
    runs.into_iter().next().unwrap()
}

fn verdict(h: &Harness, head: &str) -> (String, String) {
    let r = run(h, head);
    (
        r.conclusion.unwrap_or_else(|| "none".into()),
        r.summary.unwrap_or_default(),
    )
}

/// An access-change webhook (`member`, `membership`, `team`,
/// `organization`) from the upstream fixture, for our repository and
/// installation.
fn access_event(fixture_name: &str, login: Option<&str>) -> Vec<u8> {
    let mut v: Value = fixture(fixture_name);
    let (owner, name) = REPO.split_once('/').unwrap();
    if v.get("repository").is_some() {
        v["repository"]["full_name"] = REPO.into();
        v["repository"]["name"] = name.into();
        v["repository"]["owner"]["login"] = owner.into();
    }
    if v.get("organization").is_some() {
        v["organization"]["login"] = owner.into();
    }
    if let Some(l) = login {
        if v.get("member").is_some() {
            v["member"]["login"] = l.into();
        }
        if v.get("membership").is_some() {
            v["membership"]["user"]["login"] = l.into();
        }
    }
    v["installation"] = serde_json::json!({ "id": INSTALLATION, "node_id": "x" });
    serde_json::to_vec(&v).unwrap()
}

#[tokio::test]
async fn read_only_second_approval_does_not_count() {
    let h = Harness::start().await;
    let pr = setup(&h, "* @alice @reader\n");
    h.fake.set_permission(REPO, "reader", "read");
    opened(&h, &pr).await;
    approve(&h, &pr, "main", "alice").await;
    approve(&h, &pr, "main", "reader").await;
    let (c, summary) = verdict(&h, &pr.head);
    assert_eq!(c, "failure", "{summary}");
    assert!(
        summary.contains(
            "@reader's approval was not counted: @reader has no write access to this repository (role `read`)"
        ),
        "{summary}"
    );
    assert!(summary.contains("1 more approval needed"), "{summary}");

    // Triage is not write either.
    let h2 = Harness::start().await;
    let pr2 = setup(&h2, "* @alice @reader\n");
    h2.fake.set_permission(REPO, "reader", "triage");
    h2.fake.add_review(REPO, PR, "alice", "APPROVED", &pr2.head);
    h2.fake
        .add_review(REPO, PR, "reader", "APPROVED", &pr2.head);
    opened(&h2, &pr2).await;
    let (c, summary) = verdict(&h2, &pr2.head);
    assert_eq!(c, "failure");
    assert!(summary.contains("(role `triage`)"), "{summary}");
}

#[tokio::test]
async fn write_maintain_and_admin_approvals_count() {
    for role in ["write", "maintain", "admin"] {
        let h = Harness::start().await;
        let pr = setup(&h, "* @alice @bob\n");
        h.fake.set_permission(REPO, "bob", role);
        opened(&h, &pr).await;
        approve(&h, &pr, "main", "alice").await;
        approve(&h, &pr, "main", "bob").await;
        let (c, summary) = verdict(&h, &pr.head);
        assert_eq!(c, "success", "{role}: {summary}");
        assert!(
            summary.contains("**Approvals counted (2 of 2 required):** @alice, @bob"),
            "{summary}"
        );
    }
}

#[tokio::test]
async fn codeowners_team_with_only_read_owns_nothing() {
    let owners = "* @alice\n/apps/ @acme/readers\n";
    let h = Harness::start().await;
    let pr = setup(&h, owners);
    h.fake.add_team_member("acme", "readers", "bob");
    h.fake.set_team_permission("acme", "readers", "pull");
    h.fake.add_review(REPO, PR, "alice", "APPROVED", &pr.head);
    h.fake.add_review(REPO, PR, "bob", "APPROVED", &pr.head);
    opened(&h, &pr).await;
    let (c, summary) = verdict(&h, &pr.head);
    assert_eq!(c, "failure", "{summary}");
    assert!(
        summary.contains("`apps/a.yaml` needs an approval from @acme/readers (CODEOWNERS line 2)"),
        "{summary}"
    );
    assert!(
        summary.contains(
            "`.github/CODEOWNERS` line 2: Unknown owner @acme/readers: make sure it exists and has write access to the repository (its role is `read`)"
        ),
        "{summary}"
    );
    // Once the team cannot own, its membership is not even asked.
    assert_eq!(
        h.fake.team_membership_calls(),
        0,
        "{:#?}",
        h.fake.call_log()
    );

    // A team with no grant at all (404) is the same.
    let h = Harness::start().await;
    let pr = setup(&h, owners);
    h.fake.add_team_member("acme", "readers", "bob");
    h.fake.set_team_permission("acme", "readers", "none");
    h.fake.add_review(REPO, PR, "alice", "APPROVED", &pr.head);
    h.fake.add_review(REPO, PR, "bob", "APPROVED", &pr.head);
    opened(&h, &pr).await;
    let (c, summary) = verdict(&h, &pr.head);
    assert_eq!(c, "failure");
    assert!(summary.contains("(its role is `none`)"), "{summary}");

    // Legitimate twin: the team has write, a member approves.
    let h = Harness::start().await;
    let pr = setup(&h, owners);
    h.fake.add_team_member("acme", "readers", "bob");
    h.fake.set_team_permission("acme", "readers", "push");
    h.fake.add_review(REPO, PR, "alice", "APPROVED", &pr.head);
    h.fake.add_review(REPO, PR, "bob", "APPROVED", &pr.head);
    opened(&h, &pr).await;
    let (c, summary) = verdict(&h, &pr.head);
    assert_eq!(c, "success", "{summary}");
}

#[tokio::test]
async fn code_owner_user_without_write_is_reported_and_cannot_satisfy() {
    let h = Harness::start().await;
    let pr = setup(&h, "* @alice\n/apps/ @viewer\n");
    h.fake.set_permission(REPO, "viewer", "read");
    h.fake.add_review(REPO, PR, "alice", "APPROVED", &pr.head);
    h.fake.add_review(REPO, PR, "viewer", "APPROVED", &pr.head);
    opened(&h, &pr).await;
    let (c, summary) = verdict(&h, &pr.head);
    assert_eq!(c, "failure");
    assert!(
        summary.contains("line 2: Unknown owner @viewer: make sure it exists and has write access"),
        "{summary}"
    );
    assert!(
        summary.contains("@viewer has no write access to this repository"),
        "{summary}"
    );
}

#[tokio::test]
async fn bot_and_app_approvals_never_count() {
    let h = Harness::start().await;
    let pr = setup(&h, "* @alice @carol\n");
    // A bot account with write access (type Bot), and an App login.
    h.fake.set_bot("renovate");
    h.fake.set_permission(REPO, "renovate", "admin");
    opened(&h, &pr).await;
    approve(&h, &pr, "main", "alice").await;
    approve(&h, &pr, "main", "renovate").await;
    approve(&h, &pr, "main", "gitops-guard[bot]").await;
    let (c, summary) = verdict(&h, &pr.head);
    assert_eq!(c, "failure", "{summary}");
    assert!(
        summary.contains("@renovate's approval was not counted: @renovate is a bot or app account"),
        "{summary}"
    );
    assert!(
        summary.contains("@gitops-guard[bot]'s approval was not counted: @gitops-guard[bot] is a bot or app account"),
        "{summary}"
    );
    // Bots cost no permission lookup.
    assert_eq!(h.fake.authority_calls().0, 1, "{:#?}", h.fake.call_log());
    // Legitimate twin: a human with write access gives the second approval.
    approve(&h, &pr, "main", "carol").await;
    let (c, summary) = verdict(&h, &pr.head);
    assert_eq!(c, "success", "{summary}");
}

#[tokio::test]
async fn retarget_after_approval_makes_approvals_stale() {
    let h = Harness::start().await;
    let pr = setup(&h, "* @alice @bob\n");
    opened(&h, &pr).await;
    approve(&h, &pr, "main", "alice").await;
    approve(&h, &pr, "main", "bob").await;
    assert_eq!(verdict(&h, &pr.head).0, "success");

    // Retarget onto `release`, whose tip differs (a different diff).
    let release = h.fake.commit(
        REPO,
        &[
            (CONFIG, "version: 1\n"),
            (CODEOWNERS, "* @alice @bob\n"),
            ("apps/a.yaml", CM),
            ("apps/old.yaml", CM),
        ],
    );
    h.fake.retarget_pr(REPO, PR, "release", &release);
    deliver(
        &h,
        "pull_request",
        &pr_event_into("edited", REPO, PR, "release", &release, &pr.head),
    )
    .await;
    let (c, summary) = verdict(&h, &pr.head);
    assert_eq!(c, "failure", "{summary}");
    for who in ["alice", "bob"] {
        assert!(
            summary.contains(&format!(
                "@{who}'s approval was not counted: it was given before the pull request's base branch changed"
            )),
            "{summary}"
        );
    }
    assert!(
        summary.contains("The base branch of this pull request changed at"),
        "{summary}"
    );

    // Legitimate twin: both approve again after the retarget.
    let moved = Pr {
        base: release,
        head: pr.head.clone(),
    };
    approve(&h, &moved, "release", "alice").await;
    approve(&h, &moved, "release", "bob").await;
    let (c, summary) = verdict(&h, &pr.head);
    assert_eq!(c, "success", "{summary}");
}

#[tokio::test]
async fn dismiss_stale_off_keeps_approvals_across_a_retarget() {
    let h = Harness::start().await;
    let cfg = "version: 1\nreviews:\n  dismiss_stale: false\n";
    let base = h.fake.commit(
        REPO,
        &[
            (CONFIG, cfg),
            (CODEOWNERS, "* @alice @bob\n"),
            ("apps/a.yaml", CM),
        ],
    );
    let head = h.fake.commit(
        REPO,
        &[
            (CONFIG, cfg),
            (CODEOWNERS, "* @alice @bob\n"),
            ("apps/a.yaml", CM2),
        ],
    );
    h.fake.open_pr(REPO, PR, &base, &head);
    h.fake.add_review(REPO, PR, "alice", "APPROVED", &head);
    h.fake.add_review(REPO, PR, "bob", "APPROVED", &head);
    h.fake.retarget_pr(REPO, PR, "main", &base);
    opened(
        &h,
        &Pr {
            base,
            head: head.clone(),
        },
    )
    .await;
    assert_eq!(verdict(&h, &head).0, "success");
    // With dismiss_stale off the timeline is not even read.
    assert_eq!(h.fake.authority_calls().2, 0);
}

#[tokio::test]
async fn failed_permission_lookup_fails_closed_and_says_why() {
    let h = Harness::start().await;
    let pr = setup(&h, "* @alice @bob\n");
    h.fake.fail(
        Some(Method::GET),
        "/collaborators/bob/permission",
        usize::MAX,
        502,
        &[],
    );
    h.fake.add_review(REPO, PR, "alice", "APPROVED", &pr.head);
    h.fake.add_review(REPO, PR, "bob", "APPROVED", &pr.head);
    opened(&h, &pr).await;
    let (c, summary) = verdict(&h, &pr.head);
    assert_eq!(c, "failure", "{summary}");
    assert!(
        summary
            .contains("could not check @bob's permission on this repository (`GitHub API error`)"),
        "{summary}"
    );
    // The failure is not cached: once GitHub answers, bob counts.
    h.fake.clear_faults();
    deliver(
        &h,
        "pull_request_review",
        &review_event_on(
            "edited", REPO, PR, "main", &pr.base, &pr.head, "bob", "approved",
        ),
    )
    .await;
    assert_eq!(verdict(&h, &pr.head).0, "success");
}

#[tokio::test]
async fn access_events_drop_cached_permissions() {
    let h = Harness::start().await;
    let pr = setup(&h, "* @alice @bob\n");
    opened(&h, &pr).await;
    approve(&h, &pr, "main", "alice").await;
    approve(&h, &pr, "main", "bob").await;
    assert_eq!(verdict(&h, &pr.head).0, "success");
    let asked = h.fake.authority_calls().0;

    // Another review event: permissions come from the cache.
    let edited = review_event_on(
        "edited", REPO, PR, "main", &pr.base, &pr.head, "bob", "approved",
    );
    deliver(&h, "pull_request_review", &edited).await;
    assert_eq!(h.fake.authority_calls().0, asked, "cached");

    // bob is demoted to read; GitHub sends `member` (edited).
    h.fake.set_permission(REPO, "bob", "read");
    deliver(
        &h,
        "member",
        &access_event("member.added.json", Some("bob")),
    )
    .await;
    deliver(&h, "pull_request_review", &edited).await;
    assert_eq!(
        h.fake.calls(
            &Method::GET,
            "/repos/acme/deploy/collaborators/bob/permission"
        ),
        2,
        "{:#?}",
        h.fake.call_log()
    );
    assert_eq!(h.fake.authority_calls().0, asked + 1, "only bob re-asked");
    let (c, summary) = verdict(&h, &pr.head);
    assert_eq!(c, "failure");
    assert!(summary.contains("@bob has no write access"), "{summary}");

    // Team and org events drop everything under the owner.
    h.fake.set_permission(REPO, "bob", "write");
    for (event, file) in [
        ("team", "team.edited.json"),
        ("membership", "membership.removed.json"),
        ("organization", "organization.member_added.json"),
    ] {
        let before = h.fake.authority_calls().0;
        let login = (event != "team").then_some("alice");
        deliver(&h, event, &access_event(file, login)).await;
        deliver(&h, "pull_request_review", &edited).await;
        assert!(
            h.fake.authority_calls().0 > before,
            "{event}: permissions re-asked"
        );
    }
    assert_eq!(verdict(&h, &pr.head).0, "success");
}

#[tokio::test]
async fn typical_pr_costs_a_bounded_number_of_authority_calls() {
    let h = Harness::start().await;
    let pr = setup(&h, "* @alice @bob\n/apps/ @acme/platform\n");
    h.fake.add_team_member("acme", "platform", "bob");
    opened(&h, &pr).await;
    // No approval yet: no permission or timeline call; the team's grant is
    // asked once, to report an owner that cannot approve.
    assert_eq!(h.fake.authority_calls(), (0, 1, 0));
    let before = h.fake.total_calls();
    approve(&h, &pr, "main", "alice").await;
    let first = h.fake.total_calls() - before;
    let before = h.fake.total_calls();
    approve(&h, &pr, "main", "bob").await;
    let second = h.fake.total_calls() - before;
    let log = h.fake.call_log()[before..].to_vec();
    let (c, summary) = verdict(&h, &pr.head);
    assert_eq!(c, "success", "{summary}");
    // Each reviewer's permission once (then cached), the team's grant once,
    // the timeline once per evaluation with an approval.
    assert_eq!(
        h.fake.authority_calls(),
        (2, 1, 2),
        "{:#?}",
        h.fake.call_log()
    );
    eprintln!("review event calls: first approval {first}, second approval {second}");
    // The rest is the PR snapshot and the check run (shared with the other
    // gates; see tests/reviews_gate.rs).
    assert!(first <= 12 && second <= 12, "{first} {second}: {log:#?}");
}
