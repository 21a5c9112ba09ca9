//! One verdict per head commit (issue 14, items 2 and 3): a check run
//! belongs to a SHA, so every run on a head is judged over all the open PRs
//! with that head whose base is a deployment branch, and a completed run is
//! reused only when its key covers every fact the verdict reads. Signed
//! deliveries go through the real router and workers to the real client
//! against the stateful fake GitHub; each attack has its legitimate twin.

mod common;

use axum::http::{Method, StatusCode};
use common::fake_github::FakeCheckRun;
use common::fake_reviews::{CommitSpec, fake_sha};
use common::*;

const REVIEWS: &str = "gitops-guard/reviews";
const SIGNATURES: &str = "gitops-guard/signatures";
const MANIFESTS: &str = "gitops-guard/manifests";
const ALL: [&str; 3] = [MANIFESTS, REVIEWS, SIGNATURES];
const CONFIG: &str = ".github/gitops-guard.yml";
const CODEOWNERS: &str = ".github/CODEOWNERS";
const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n";
const CM2: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: w\n";
const CM3: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: x\n";
const OWNERS: &str = "* @alice @bob\n";

/// The real PR's number (into `main`).
const REAL: u64 = 7;

/// A repository whose `main` holds the config and CODEOWNERS, and a head
/// commit (branch `feature`) that changes `apps/a.yaml`.
struct Repo {
    main: String,
    head: String,
}

fn repo(h: &Harness) -> Repo {
    let main = h.fake.commit(
        REPO,
        &[
            (CONFIG, "version: 1\n"),
            (CODEOWNERS, OWNERS),
            ("apps/a.yaml", CM),
        ],
    );
    let head = h.fake.commit(
        REPO,
        &[
            (CONFIG, "version: 1\n"),
            (CODEOWNERS, OWNERS),
            ("apps/a.yaml", CM2),
        ],
    );
    Repo { main, head }
}

/// Opens PR `number` from `head` into `base_ref` at `base_sha` in the fake
/// (signed commit by `author`) and delivers `pull_request.opened`.
async fn open(h: &Harness, number: u64, base_ref: &str, base_sha: &str, head: &str) {
    h.fake
        .open_pr_into(REPO, number, base_ref, base_sha, "feature", head);
    h.fake.set_pr_commits(
        REPO,
        number,
        &[CommitSpec::signed(&fake_sha(head, 0), "author")],
    );
    deliver(
        h,
        "pull_request",
        &pr_event_into("opened", REPO, number, base_ref, base_sha, head),
    )
    .await;
}

async fn deliver(h: &Harness, event: &str, body: &[u8]) {
    assert_eq!(
        h.deliver(event, &delivery_id(), body).await,
        StatusCode::ACCEPTED
    );
    h.settle().await;
}

/// `user` approves (or requests changes on) PR `number` at `head`, and the
/// review event is delivered.
async fn review(h: &Harness, number: u64, base_ref: &str, head: &str, user: &str, state: &str) {
    h.fake.add_review(REPO, number, user, state, head);
    let base = h.fake.st().pulls[&(REPO.to_owned(), number)]
        .base_sha
        .clone();
    deliver(
        h,
        "pull_request_review",
        &review_event_on(
            "submitted",
            REPO,
            number,
            base_ref,
            &base,
            head,
            user,
            &state.to_ascii_lowercase(),
        ),
    )
    .await;
}

fn run(h: &Harness, head: &str, name: &str) -> FakeCheckRun {
    let runs = h.fake.runs(head, name);
    assert_eq!(runs.len(), 1, "one {name} run: {:#?}", h.fake.call_log());
    runs.into_iter().next().unwrap()
}

fn conclusion(h: &Harness, head: &str, name: &str) -> String {
    run(h, head, name)
        .conclusion
        .unwrap_or_else(|| "none".into())
}

fn summary(h: &Harness, head: &str, name: &str) -> String {
    run(h, head, name).summary.unwrap_or_default()
}

/// A branch with no gitops-guard config (and no org default).
fn sandbox(h: &Harness) -> String {
    h.fake.commit(REPO, &[("apps/a.yaml", CM)])
}

#[tokio::test]
async fn decoy_into_an_unconfigured_branch_does_not_turn_the_runs_neutral() {
    let h = Harness::start().await;
    let r = repo(&h);
    open(&h, REAL, "main", &r.main, &r.head).await;
    // No approvals yet: reviews fail; manifests and signatures pass.
    let before: Vec<String> = ALL.iter().map(|c| conclusion(&h, &r.head, c)).collect();
    assert_eq!(before, ["success", "failure", "success"]);

    let sb = sandbox(&h);
    open(&h, 8, "sandbox", &sb, &r.head).await;
    let after: Vec<String> = ALL.iter().map(|c| conclusion(&h, &r.head, c)).collect();
    assert_eq!(after, before, "the decoy changed nothing");
    for c in ALL {
        let s = summary(&h, &r.head, c);
        assert!(s.contains("pull request #7 into `main`"), "{c}: {s}");
        assert!(s.contains("#8 into `sandbox`"), "{c} names the decoy: {s}");
    }
    // Closing the real PR leaves only the decoy open on that head; its
    // runs are re-judged over what is left: nothing deploys, so neutral.
    h.fake.set_pr_state(REPO, REAL, "closed");
    deliver(
        &h,
        "pull_request",
        &pr_event_into("closed", REPO, REAL, "main", &r.main, &r.head),
    )
    .await;
    for c in ALL {
        assert_eq!(conclusion(&h, &r.head, c), "neutral", "{c}");
    }
}

#[tokio::test]
async fn a_pr_into_a_non_deployment_branch_alone_is_neutral() {
    let h = Harness::start().await;
    let r = repo(&h);
    let sb = sandbox(&h);
    open(&h, 8, "sandbox", &sb, &r.head).await;
    for c in ALL {
        let run = run(&h, &r.head, c);
        assert_eq!(run.conclusion.as_deref(), Some("neutral"), "{c}");
        assert!(
            run.title
                .unwrap()
                .contains("Not a deployment repository or branch"),
            "{c}"
        );
    }
    // Retargeting it to `main` makes it a deployment PR: judged now.
    h.fake.retarget_pr(REPO, 8, "main", &r.main);
    deliver(
        &h,
        "pull_request",
        &pr_event_into("edited", REPO, 8, "main", &r.main, &r.head),
    )
    .await;
    let got: Vec<String> = ALL.iter().map(|c| conclusion(&h, &r.head, c)).collect();
    assert_eq!(got, ["success", "failure", "success"]);
}

#[tokio::test]
async fn org_default_makes_only_its_push_branches_deployment_branches() {
    let h = Harness::start().await;
    h.fake.commit(
        "acme/.github",
        &[(
            "gitops-guard.yml",
            "version: 1\npush:\n  branches: [\"prod\"]\n",
        )],
    );
    let base = h.fake.commit(REPO, &[("apps/a.yaml", CM)]);
    let head = h.fake.commit(REPO, &[("apps/a.yaml", CM2)]);
    // Into `prod`: judged with the org default (two approvals needed).
    open(&h, 7, "prod", &base, &head).await;
    assert_eq!(conclusion(&h, &head, REVIEWS), "failure");
    // Into `sandbox` from another head: not a deployment branch.
    let other = h.fake.commit(REPO, &[("apps/a.yaml", CM3)]);
    open(&h, 8, "sandbox", &base, &other).await;
    assert_eq!(conclusion(&h, &other, REVIEWS), "neutral");
}

/// A branch `evil` the attacker controls: a copy of the config with
/// CODEOWNERS giving every path to accomplices.
fn evil(h: &Harness) -> String {
    h.fake.commit(
        REPO,
        &[
            (CONFIG, "version: 1\n"),
            (CODEOWNERS, "* @accomplice @accomplice2\n"),
            ("apps/a.yaml", CM),
        ],
    )
}

#[tokio::test]
async fn decoy_into_a_branch_with_permissive_codeowners_does_not_pass_reviews() {
    let h = Harness::start().await;
    let r = repo(&h);
    open(&h, REAL, "main", &r.main, &r.head).await;
    let ev = evil(&h);
    open(&h, 8, "evil", &ev, &r.head).await;
    review(&h, 8, "evil", &r.head, "accomplice", "APPROVED").await;
    review(&h, 8, "evil", &r.head, "accomplice2", "APPROVED").await;
    let run = run(&h, &r.head, REVIEWS);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    let title = run.title.unwrap();
    assert!(title.starts_with("#7: "), "the worst PR leads: {title}");
    let s = run.summary.unwrap();
    assert!(s.contains("| #7 | `main` | **failure**"), "{s}");
    assert!(s.contains("| #8 | `evil` | **success**"), "{s}");
}

#[tokio::test]
async fn two_prs_on_one_head_both_approved_succeed() {
    let h = Harness::start().await;
    let r = repo(&h);
    open(&h, REAL, "main", &r.main, &r.head).await;
    let ev = evil(&h);
    open(&h, 8, "evil", &ev, &r.head).await;
    review(&h, REAL, "main", &r.head, "alice", "APPROVED").await;
    review(&h, REAL, "main", &r.head, "bob", "APPROVED").await;
    assert_eq!(
        conclusion(&h, &r.head, REVIEWS),
        "failure",
        "#8 is not approved"
    );
    review(&h, 8, "evil", &r.head, "accomplice", "APPROVED").await;
    review(&h, 8, "evil", &r.head, "accomplice2", "APPROVED").await;
    let run = run(&h, &r.head, REVIEWS);
    assert_eq!(run.conclusion.as_deref(), Some("success"));
    let s = run.summary.unwrap();
    assert!(s.contains("| #7 | `main` | **success**"), "{s}");
    assert!(s.contains("| #8 | `evil` | **success**"), "{s}");
    for c in [MANIFESTS, SIGNATURES] {
        assert_eq!(conclusion(&h, &r.head, c), "success", "{c}");
    }
}

#[tokio::test]
async fn closing_an_approved_pr_and_opening_a_new_one_at_the_same_sha_is_not_approved() {
    let h = Harness::start().await;
    let r = repo(&h);
    open(&h, REAL, "main", &r.main, &r.head).await;
    review(&h, REAL, "main", &r.head, "alice", "APPROVED").await;
    review(&h, REAL, "main", &r.head, "bob", "APPROVED").await;
    assert_eq!(conclusion(&h, &r.head, REVIEWS), "success");

    h.fake.set_pr_state(REPO, REAL, "closed");
    deliver(
        &h,
        "pull_request",
        &pr_event_into("closed", REPO, REAL, "main", &r.main, &r.head),
    )
    .await;
    open(&h, 9, "main", &r.main, &r.head).await;
    let run = run(&h, &r.head, REVIEWS);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert!(
        run.summary.unwrap().contains("pull request #9 into `main`"),
        "judged for the new PR"
    );
}

#[tokio::test]
async fn reopening_the_approved_pr_itself_keeps_its_approvals() {
    let h = Harness::start().await;
    let r = repo(&h);
    open(&h, REAL, "main", &r.main, &r.head).await;
    review(&h, REAL, "main", &r.head, "alice", "APPROVED").await;
    review(&h, REAL, "main", &r.head, "bob", "APPROVED").await;
    h.fake.set_pr_state(REPO, REAL, "closed");
    deliver(
        &h,
        "pull_request",
        &pr_event_into("closed", REPO, REAL, "main", &r.main, &r.head),
    )
    .await;
    h.fake.set_pr_state(REPO, REAL, "open");
    deliver(
        &h,
        "pull_request",
        &pr_event_into("reopened", REPO, REAL, "main", &r.main, &r.head),
    )
    .await;
    assert_eq!(conclusion(&h, &r.head, REVIEWS), "success");
}

/// Approvals at A, a push of B (GitHub dismisses the approvals), a change
/// request at B, a force-push back to A.
async fn push_b_then_back_to_a(h: &Harness, r: &Repo, request_changes: bool) {
    open(h, REAL, "main", &r.main, &r.head).await;
    let a1 = h.fake.add_review(REPO, REAL, "alice", "APPROVED", &r.head);
    let a2 = h.fake.add_review(REPO, REAL, "bob", "APPROVED", &r.head);
    deliver(
        h,
        "pull_request_review",
        &review_event_on(
            "submitted",
            REPO,
            REAL,
            "main",
            &r.main,
            &r.head,
            "bob",
            "approved",
        ),
    )
    .await;
    assert_eq!(conclusion(h, &r.head, REVIEWS), "success");

    let b = h.fake.commit(
        REPO,
        &[
            (CONFIG, "version: 1\n"),
            (CODEOWNERS, OWNERS),
            ("apps/a.yaml", CM3),
        ],
    );
    h.fake.push_head(REPO, REAL, &b);
    h.fake.dismiss_review(REPO, REAL, a1);
    h.fake.dismiss_review(REPO, REAL, a2);
    deliver(
        h,
        "pull_request",
        &pr_event_into("synchronize", REPO, REAL, "main", &r.main, &b),
    )
    .await;
    assert_eq!(conclusion(h, &b, REVIEWS), "failure");
    if request_changes {
        review(h, REAL, "main", &b, "alice", "CHANGES_REQUESTED").await;
    }

    h.fake.push_head(REPO, REAL, &r.head);
    deliver(
        h,
        "pull_request",
        &pr_event_into("synchronize", REPO, REAL, "main", &r.main, &r.head),
    )
    .await;
}

#[tokio::test]
async fn force_push_back_to_an_approved_sha_does_not_restore_its_success() {
    let h = Harness::start().await;
    let r = repo(&h);
    push_b_then_back_to_a(&h, &r, true).await;
    let run = run(&h, &r.head, REVIEWS);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("failure"),
        "{:?}",
        run.summary
    );
    // Re-approval after the change request restores it: the legitimate way.
    review(&h, REAL, "main", &r.head, "alice", "APPROVED").await;
    review(&h, REAL, "main", &r.head, "bob", "APPROVED").await;
    assert_eq!(conclusion(&h, &r.head, REVIEWS), "success");
}

#[tokio::test]
async fn dismissed_approvals_stay_dismissed_after_a_force_push_back() {
    let h = Harness::start().await;
    let r = repo(&h);
    push_b_then_back_to_a(&h, &r, false).await;
    assert_eq!(conclusion(&h, &r.head, REVIEWS), "failure");
}

#[tokio::test]
async fn a_redelivered_push_is_not_evaluated_twice_and_the_costs_are_bounded() {
    let h = Harness::start().await;
    let r = repo(&h);
    let start = h.fake.total_calls();
    open(&h, REAL, "main", &r.main, &r.head).await;
    let opened = h.fake.total_calls() - start;
    let patches =
        |h: &Harness| -> Vec<usize> { ALL.iter().map(|c| run(h, &r.head, c).patches).collect() };
    let first = patches(&h);

    // The same push again (check_suite.requested): no run is written; the
    // manifests and signatures runs are not even evaluated again.
    let before = h.fake.total_calls();
    let before_files = h.fake.calls(&Method::GET, "/pulls/7/files");
    deliver(
        &h,
        "check_suite",
        &check_suite_event("requested", REPO, REAL, &r.main, &r.head),
    )
    .await;
    let again = h.fake.total_calls() - before;
    assert_eq!(patches(&h), first, "nothing rewritten");
    assert_eq!(
        h.fake.calls(&Method::GET, "/pulls/7/files"),
        before_files + 1,
        "only reviews re-read the files: {:#?}",
        h.fake.call_log()
    );
    eprintln!("API calls: opened PR {opened}, redelivered push {again}");
    // Opened (22): installation token, the PR, the open-PR list, base
    // tree, org default, config blob, files, head tree, 2 blobs, reviews,
    // commits, CODEOWNERS blob, and for each of the three runs find +
    // create + complete.
    assert_eq!(opened, 22, "{:#?}", h.fake.call_log());
    // Again (8): the open-PR list, the PR, three finds, and the reviews
    // gate's reviews, files and commits (its verdict also reads permission
    // answers, so it is evaluated every time; only the write is skipped).
    assert_eq!(again, 8, "{:#?}", h.fake.call_log());
    assert_eq!(
        h.fake.calls_exact(&Method::GET, "/repos/acme/deploy/pulls"),
        2
    );

    // A new review changes the reviews verdict's facts: re-evaluated.
    review(&h, REAL, "main", &r.head, "alice", "APPROVED").await;
    let after = patches(&h);
    assert_eq!(after[0], first[0], "manifests untouched");
    assert!(after[1] > first[1], "reviews rewritten");
}

#[tokio::test]
async fn too_many_prs_on_one_head_fail_closed() {
    let h = Harness::start().await;
    let r = repo(&h);
    let sb = sandbox(&h);
    for n in 100..121 {
        h.fake
            .open_pr_into(REPO, n, "sandbox", &sb, &format!("f{n}"), &r.head);
    }
    open(&h, REAL, "main", &r.main, &r.head).await;
    for c in ALL {
        let run = run(&h, &r.head, c);
        assert_eq!(run.conclusion.as_deref(), Some("failure"), "{c}");
        assert!(run.summary.unwrap().contains("close the duplicates"), "{c}");
    }
}
