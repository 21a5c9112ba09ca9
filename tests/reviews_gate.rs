//! `gitops-guard/reviews` and `gitops-guard/signatures` end to end: signed
//! deliveries (from the upstream `pull_request*` fixtures, rewritten to the
//! fake's state) through the real router, the real octocrab client against
//! the stateful fake GitHub, and assertions on the check runs it holds.

mod common;

use axum::http::{Method, StatusCode};
use common::fake_github::FakeCheckRun;
use common::fake_reviews::{CommitSpec, fake_sha};
use common::*;
use gitops_guard::engine::gates::signatures::explain_reason;
use serde_json::Value;

const REVIEWS: &str = "gitops-guard/reviews";
const SIGNATURES: &str = "gitops-guard/signatures";
const MANIFESTS: &str = "gitops-guard/manifests";
const CONFIG: &str = ".github/gitops-guard.yml";
const CODEOWNERS: &str = ".github/CODEOWNERS";
const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n";
const CM2: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: w\n";
const PR: u64 = 7;

/// `pull_request_review.<action>` from the upstream fixture, rewritten.
fn review_event(action: &str, base: &str, head: &str, user: &str, state: &str) -> Vec<u8> {
    let mut v = fixture("pull_request_review.submitted.json");
    v["action"] = action.into();
    let (owner, name) = REPO.split_once('/').unwrap();
    v["repository"]["full_name"] = REPO.into();
    v["repository"]["name"] = name.into();
    v["repository"]["owner"]["login"] = owner.into();
    v["installation"] = serde_json::json!({ "id": INSTALLATION, "node_id": "x" });
    v["review"]["user"]["login"] = user.into();
    v["review"]["state"] = state.into();
    v["review"]["commit_id"] = head.into();
    let pr = &mut v["pull_request"];
    pr["number"] = PR.into();
    pr["state"] = "open".into();
    pr["head"]["sha"] = head.into();
    pr["base"]["sha"] = base.into();
    pr["base"]["ref"] = "main".into();
    serde_json::to_vec(&v).unwrap()
}

/// `check_run.rerequested` for our run `name` on `head`.
fn rerequest(name: &str, base: &str, head: &str) -> Vec<u8> {
    let mut v: Value =
        serde_json::from_slice(&check_run_rerequested(REPO, PR, base, head)).unwrap();
    v["check_run"]["name"] = name.into();
    serde_json::to_vec(&v).unwrap()
}

struct Pr {
    base: String,
    head: String,
}

/// A PR changing `apps/a.yaml` (plus `extra` head files), base holding
/// `config` and `codeowners`; commits signed by `author`.
fn setup(h: &Harness, config: &str, codeowners: &str, extra: &[(&str, &str)]) -> Pr {
    let base_files = [
        (CONFIG, config),
        (CODEOWNERS, codeowners),
        ("apps/a.yaml", CM),
    ];
    let base = h.fake.commit(REPO, &base_files);
    let mut head_files: Vec<(&str, &str)> = vec![
        (CONFIG, config),
        (CODEOWNERS, codeowners),
        ("apps/a.yaml", CM2),
    ];
    for (p, c) in extra {
        head_files.retain(|(q, _)| q != p);
        head_files.push((p, c));
    }
    let head = h.fake.commit(REPO, &head_files);
    h.fake.open_pr(REPO, PR, &base, &head);
    h.fake.set_pr_author(REPO, PR, "author");
    h.fake
        .set_pr_commits(REPO, PR, &[CommitSpec::signed(&fake_sha("c", 0), "author")]);
    Pr { base, head }
}

async fn deliver(h: &Harness, event: &str, body: &[u8]) {
    assert_eq!(
        h.deliver(event, &delivery_id(), body).await,
        StatusCode::ACCEPTED
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

async fn reviewed(h: &Harness, pr: &Pr, action: &str, user: &str, state: &str) {
    deliver(
        h,
        "pull_request_review",
        &review_event(action, &pr.base, &pr.head, user, state),
    )
    .await;
}

fn run(h: &Harness, head: &str, name: &str) -> FakeCheckRun {
    let runs = h.fake.runs(head, name);
    assert_eq!(runs.len(), 1, "one {name} run: {:#?}", h.fake.call_log());
    runs.into_iter().next().unwrap()
}

fn verdict(r: &FakeCheckRun) -> (String, String, String) {
    (
        r.conclusion.clone().unwrap_or_else(|| "none".into()),
        r.title.clone().unwrap_or_default(),
        r.summary.clone().unwrap_or_default(),
    )
}

const OWNERS_ALICE_BOB: &str = "* @alice @bob\n";

#[tokio::test]
async fn two_owner_approvals_succeed_and_one_names_what_is_missing() {
    let h = Harness::start().await;
    let pr = setup(&h, "version: 1\n", OWNERS_ALICE_BOB, &[]);
    opened(&h, &pr).await;
    let (c, title, _) = verdict(&run(&h, &pr.head, REVIEWS));
    assert_eq!(c, "failure");
    assert!(title.contains("2 more approvals needed"), "{title}");
    if std::env::var_os("SHOW_CALLS").is_some() {
        eprintln!("opened: {:#?}", h.fake.call_log());
    }

    h.fake.add_review(REPO, PR, "alice", "APPROVED", &pr.head);
    reviewed(&h, &pr, "submitted", "alice", "approved").await;
    let r = run(&h, &pr.head, REVIEWS);
    let (c, title, summary) = verdict(&r);
    assert_eq!(c, "failure");
    assert!(title.contains("1 more approval needed"), "{title}");
    assert!(
        summary.contains("1 more approval needed (1 of 2 required counted so far)"),
        "{summary}"
    );
    assert!(summary.contains("@alice"), "{summary}");

    h.fake.add_review(REPO, PR, "bob", "APPROVED", &pr.head);
    reviewed(&h, &pr, "submitted", "bob", "approved").await;
    let again = run(&h, &pr.head, REVIEWS);
    assert_eq!(again.id, r.id, "the run on this head is reused");
    let (c, title, summary) = verdict(&again);
    assert_eq!(c, "success", "{summary}");
    assert_eq!(title, "Review requirements met (2 approvals)");
    assert!(
        summary.contains("**Approvals counted (2 of 2 required):** @alice, @bob"),
        "{summary}"
    );
    // Review events never touch the other gates.
    assert_eq!(run(&h, &pr.head, MANIFESTS).patches, 1);
    assert_eq!(run(&h, &pr.head, SIGNATURES).patches, 1);
}

#[tokio::test]
async fn approvals_from_non_owners_name_the_missing_owner() {
    let h = Harness::start().await;
    let pr = setup(&h, "version: 1\n", "* @alice @bob\n/apps/ @carol\n", &[]);
    h.fake.add_review(REPO, PR, "alice", "APPROVED", &pr.head);
    h.fake.add_review(REPO, PR, "bob", "APPROVED", &pr.head);
    opened(&h, &pr).await;
    let (c, title, summary) = verdict(&run(&h, &pr.head, REVIEWS));
    assert_eq!(c, "failure");
    assert_eq!(title, "1 file needs a code owner's approval");
    assert!(
        summary.contains("`apps/a.yaml` needs an approval from @carol (CODEOWNERS line 2)"),
        "{summary}"
    );
    h.fake.add_review(REPO, PR, "carol", "APPROVED", &pr.head);
    reviewed(&h, &pr, "submitted", "carol", "approved").await;
    assert_eq!(verdict(&run(&h, &pr.head, REVIEWS)).0, "success");
}

#[tokio::test]
async fn stale_approval_does_not_count_after_a_push() {
    let h = Harness::start().await;
    let pr = setup(&h, "version: 1\n", OWNERS_ALICE_BOB, &[]);
    h.fake.add_review(REPO, PR, "alice", "APPROVED", &pr.head);
    h.fake.add_review(REPO, PR, "bob", "APPROVED", &pr.head);
    opened(&h, &pr).await;
    assert_eq!(verdict(&run(&h, &pr.head, REVIEWS)).0, "success");

    // A new commit lands; only bob re-approves.
    let head2 = h.fake.commit(
        REPO,
        &[
            (CONFIG, "version: 1\n"),
            (CODEOWNERS, OWNERS_ALICE_BOB),
            ("apps/a.yaml", "kind: ConfigMap\n"),
        ],
    );
    h.fake.push_head(REPO, PR, &head2);
    h.fake.set_pr_commits(
        REPO,
        PR,
        &[
            CommitSpec::signed(&fake_sha("c", 0), "author"),
            CommitSpec::signed(&fake_sha("c", 1), "author"),
        ],
    );
    h.fake.add_review(REPO, PR, "bob", "APPROVED", &head2);
    deliver(
        &h,
        "pull_request",
        &pr_event("synchronize", REPO, PR, &pr.base, &head2),
    )
    .await;
    let (c, title, summary) = verdict(&run(&h, &head2, REVIEWS));
    assert_eq!(c, "failure");
    assert!(title.contains("1 more approval needed"), "{title}");
    assert!(
        summary.contains(&format!(
            "@alice's approval was not counted: made on an older commit (`{}`); the head is now `{}`",
            &pr.head[..7],
            &head2[..7]
        )),
        "{summary}"
    );
    // With dismiss_stale off, the old approval counts.
    let h = Harness::start().await;
    let cfg = "version: 1\nreviews:\n  dismiss_stale: false\n";
    let pr = setup(&h, cfg, OWNERS_ALICE_BOB, &[]);
    h.fake
        .add_review(REPO, PR, "alice", "APPROVED", &fake_sha("old", 0));
    h.fake.add_review(REPO, PR, "bob", "APPROVED", &pr.head);
    opened(&h, &pr).await;
    assert_eq!(verdict(&run(&h, &pr.head, REVIEWS)).0, "success");
}

#[tokio::test]
async fn second_account_that_committed_cannot_approve() {
    let h = Harness::start().await;
    let pr = setup(&h, "version: 1\n", "* @alice @mallory-alt\n", &[]);
    h.fake.set_pr_commits(
        REPO,
        PR,
        &[
            CommitSpec::signed(&fake_sha("c", 0), "author"),
            CommitSpec::signed(&fake_sha("c", 1), "mallory-alt"),
        ],
    );
    h.fake.add_review(REPO, PR, "alice", "APPROVED", &pr.head);
    h.fake
        .add_review(REPO, PR, "mallory-alt", "APPROVED", &pr.head);
    // The author approving their own PR does not count either.
    h.fake.add_review(REPO, PR, "author", "APPROVED", &pr.head);
    opened(&h, &pr).await;
    let (c, title, summary) = verdict(&run(&h, &pr.head, REVIEWS));
    assert_eq!(c, "failure");
    assert!(title.contains("1 more approval needed"), "{title}");
    assert!(
        summary.contains(
            "@mallory-alt's approval was not counted: @mallory-alt authored or committed a commit in this PR"
        ),
        "{summary}"
    );
    assert!(
        summary.contains("@author's approval was not counted: @author opened this PR"),
        "{summary}"
    );
    // The same approvals count when contributors are allowed to approve.
    let h = Harness::start().await;
    let cfg = "version: 1\nreviews:\n  ignore_contributors: false\n";
    let pr = setup(&h, cfg, "* @alice @mallory-alt\n", &[]);
    h.fake.set_pr_commits(
        REPO,
        PR,
        &[
            CommitSpec::signed(&fake_sha("c", 0), "author"),
            CommitSpec::signed(&fake_sha("c", 1), "mallory-alt"),
        ],
    );
    h.fake.add_review(REPO, PR, "alice", "APPROVED", &pr.head);
    h.fake
        .add_review(REPO, PR, "mallory-alt", "APPROVED", &pr.head);
    opened(&h, &pr).await;
    assert_eq!(verdict(&run(&h, &pr.head, REVIEWS)).0, "success");
}

#[tokio::test]
async fn team_owner_is_resolved_through_the_membership_api_and_cached() {
    let h = Harness::start().await;
    let owners = "* @alice\n/apps/ @acme/platform\n";
    let pr = setup(&h, "version: 1\n", owners, &[]);
    h.fake.add_team_member("acme", "platform", "dave");
    h.fake.invite_team_member("acme", "platform", "erin");
    h.fake.add_review(REPO, PR, "alice", "APPROVED", &pr.head);
    h.fake.add_review(REPO, PR, "erin", "APPROVED", &pr.head);
    opened(&h, &pr).await;
    let (c, _, summary) = verdict(&run(&h, &pr.head, REVIEWS));
    assert_eq!(c, "failure", "a pending invitee is not a member");
    assert!(
        summary.contains("`apps/a.yaml` needs an approval from @acme/platform"),
        "{summary}"
    );
    // alice and erin were each asked about once.
    assert_eq!(
        h.fake.team_membership_calls(),
        2,
        "{:#?}",
        h.fake.call_log()
    );

    // Alice's and erin's permissions, the team's grant and one timeline.
    assert_eq!(h.fake.authority_calls(), (2, 1, 1));
    h.fake.add_review(REPO, PR, "dave", "APPROVED", &pr.head);
    let before = h.fake.total_calls();
    let authority_before = h.fake.authority_calls();
    reviewed(&h, &pr, "submitted", "dave", "approved").await;
    let per_event = h.fake.total_calls() - before;
    let authority = h.fake.authority_calls();
    let (c, _, summary) = verdict(&run(&h, &pr.head, REVIEWS));
    assert_eq!(c, "success", "{summary}");
    // Only dave was new: the cache answered for alice and erin.
    assert_eq!(h.fake.team_membership_calls(), 3);
    assert_eq!(
        h.fake
            .calls(&Method::GET, "/orgs/acme/teams/platform/memberships/dave"),
        1
    );
    // A review event: PR, the open PRs sharing its head, find run, mark in
    // progress, files, reviews, commits, the timeline (base changes), dave's
    // permission, one membership, complete. Tree, config, the team's grant
    // and the others' permissions come from the cache.
    assert_eq!(
        (
            authority.0 - authority_before.0,
            authority.1 - authority_before.1,
            authority.2 - authority_before.2
        ),
        (1, 0, 1)
    );
    assert!(per_event <= 11, "{per_event}: {:#?}", h.fake.call_log());

    // Another review event within the TTL: no membership or permission
    // call at all, one timeline read.
    let before = h.fake.total_calls();
    reviewed(&h, &pr, "edited", "dave", "approved").await;
    assert_eq!(h.fake.team_membership_calls(), 3);
    assert_eq!(h.fake.authority_calls(), (3, 1, 3));
    assert!(
        h.fake.total_calls() - before <= 9,
        "{:#?}",
        h.fake.call_log()
    );
}

#[tokio::test]
async fn membership_ttl_expiry_rechecks_and_removal_takes_effect() {
    use gitops_guard::github::Installations as _;
    use gitops_guard::github::retry::RetryPolicy;
    use gitops_guard::pipeline::PipelineContext;
    use gitops_guard::pipeline::gates::{Gate, GateTarget, run as run_gates};
    // Drive the pipeline directly to choose a short TTL.
    let h = Harness::start().await;
    let pr = setup(&h, "version: 1\n", "* @alice\n/apps/ @acme/platform\n", &[]);
    h.fake.add_team_member("acme", "platform", "dave");
    h.fake.add_review(REPO, PR, "alice", "APPROVED", &pr.head);
    h.fake.add_review(REPO, PR, "dave", "APPROVED", &pr.head);
    let auth = gitops_guard::github::auth::AppAuth::new(
        APP_ID,
        &secrecy::SecretString::from(keys().private_pem.clone()),
        &h.fake.url,
        RetryPolicy::default(),
    )
    .unwrap();
    let gh = gitops_guard::github::client::AppInstallations::new(auth).installation(INSTALLATION);
    let ctx =
        PipelineContext::default().with_team_membership_ttl(std::time::Duration::from_millis(300));
    let target = GateTarget {
        repo: gitops_guard::engine::ids::RepoName::parse(REPO).unwrap(),
        number: PR,
        head: None,
        gates: vec![Gate::Reviews],
        force: true,
    };
    run_gates(gh.as_ref(), &ctx, &target).await.unwrap();
    assert_eq!(verdict(&run(&h, &pr.head, REVIEWS)).0, "success");
    let calls = h.fake.team_membership_calls();
    run_gates(gh.as_ref(), &ctx, &target).await.unwrap();
    assert_eq!(
        h.fake.team_membership_calls(),
        calls,
        "cache hit within TTL"
    );
    h.fake.remove_team_member("acme", "platform", "dave");
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    run_gates(gh.as_ref(), &ctx, &target).await.unwrap();
    assert!(
        h.fake.team_membership_calls() > calls,
        "re-checked after TTL"
    );
    assert_eq!(verdict(&run(&h, &pr.head, REVIEWS)).0, "failure");
}

#[tokio::test]
async fn dismissal_turns_success_back_into_failure() {
    let h = Harness::start().await;
    let pr = setup(&h, "version: 1\n", OWNERS_ALICE_BOB, &[]);
    h.fake.add_review(REPO, PR, "alice", "APPROVED", &pr.head);
    let bob = h.fake.add_review(REPO, PR, "bob", "APPROVED", &pr.head);
    opened(&h, &pr).await;
    assert_eq!(verdict(&run(&h, &pr.head, REVIEWS)).0, "success");
    h.fake.dismiss_review(REPO, PR, bob);
    reviewed(&h, &pr, "dismissed", "bob", "dismissed").await;
    let (c, title, summary) = verdict(&run(&h, &pr.head, REVIEWS));
    assert_eq!(c, "failure");
    assert!(title.contains("1 more approval needed"), "{title}");
    assert!(summary.contains("@bob's review was dismissed"), "{summary}");
}

#[tokio::test]
async fn changes_requested_blocks_until_dismissed() {
    let h = Harness::start().await;
    let pr = setup(&h, "version: 1\n", OWNERS_ALICE_BOB, &[]);
    h.fake.add_review(REPO, PR, "alice", "APPROVED", &pr.head);
    h.fake.add_review(REPO, PR, "bob", "APPROVED", &pr.head);
    let carol = h
        .fake
        .add_review(REPO, PR, "carol", "CHANGES_REQUESTED", &pr.head);
    opened(&h, &pr).await;
    let (c, title, _) = verdict(&run(&h, &pr.head, REVIEWS));
    assert_eq!(
        (c.as_str(), title.as_str()),
        ("failure", "changes requested")
    );
    h.fake.dismiss_review(REPO, PR, carol);
    reviewed(&h, &pr, "dismissed", "carol", "dismissed").await;
    assert_eq!(verdict(&run(&h, &pr.head, REVIEWS)).0, "success");
}

#[tokio::test]
async fn codeowners_edited_in_the_pr_is_judged_by_the_base_version() {
    let h = Harness::start().await;
    // The PR hands ownership of everything to mallory and her friend.
    let pr = setup(
        &h,
        "version: 1\n",
        OWNERS_ALICE_BOB,
        &[(CODEOWNERS, "* @mallory @friend\n")],
    );
    h.fake.add_review(REPO, PR, "friend", "APPROVED", &pr.head);
    h.fake.add_review(REPO, PR, "mallory", "APPROVED", &pr.head);
    opened(&h, &pr).await;
    let (c, title, summary) = verdict(&run(&h, &pr.head, REVIEWS));
    assert_eq!(c, "failure");
    assert!(
        title.contains("files need a code owner's approval"),
        "{title}"
    );
    assert!(
        summary.contains("`.github/CODEOWNERS` needs an approval from @alice or @bob"),
        "{summary}"
    );
    assert!(
        summary
            .contains("This PR changes CODEOWNERS. It is judged by the base branch's CODEOWNERS"),
        "{summary}"
    );
    // The base owners approving is what it takes.
    h.fake.add_review(REPO, PR, "alice", "APPROVED", &pr.head);
    reviewed(&h, &pr, "submitted", "alice", "approved").await;
    let (c, _, summary) = verdict(&run(&h, &pr.head, REVIEWS));
    assert_eq!(c, "success", "{summary}");
    assert!(summary.contains("This PR changes CODEOWNERS"), "{summary}");
}

#[tokio::test]
async fn config_edited_in_the_pr_is_judged_by_the_base_version() {
    let h = Harness::start().await;
    let pr = setup(
        &h,
        "version: 1\n",
        OWNERS_ALICE_BOB,
        &[(
            CONFIG,
            "version: 1\nreviews:\n  required_approvals: 0\n  require_code_owners: false\n",
        )],
    );
    opened(&h, &pr).await;
    let (c, title, summary) = verdict(&run(&h, &pr.head, REVIEWS));
    assert_eq!(c, "failure");
    assert!(title.contains("2 more approvals needed"), "{title}");
    assert!(
        summary.contains("This PR changes `.github/gitops-guard.yml`. It is judged by the base branch's configuration"),
        "{summary}"
    );
}

#[tokio::test]
async fn renamed_file_needs_owners_of_both_paths() {
    let h = Harness::start().await;
    let owners = "* @alice @bob\n/apps/ @carol\n/attic/ @dave\n";
    let base = h.fake.commit(
        REPO,
        &[
            (CONFIG, "version: 1\n"),
            (CODEOWNERS, owners),
            ("apps/a.yaml", CM),
        ],
    );
    let head = h.fake.commit(
        REPO,
        &[
            (CONFIG, "version: 1\n"),
            (CODEOWNERS, owners),
            ("attic/a.yaml", CM),
        ],
    );
    h.fake.open_pr(REPO, PR, &base, &head);
    h.fake
        .set_pr_commits(REPO, PR, &[CommitSpec::signed(&fake_sha("c", 0), "author")]);
    h.fake.add_review(REPO, PR, "dave", "APPROVED", &head);
    h.fake.add_review(REPO, PR, "alice", "APPROVED", &head);
    let pr = Pr { base, head };
    opened(&h, &pr).await;
    let (c, _, summary) = verdict(&run(&h, &pr.head, REVIEWS));
    assert_eq!(c, "failure");
    assert!(
        summary.contains("`apps/a.yaml` needs an approval from @carol"),
        "moving a file out of apps/ needs apps/'s owner: {summary}"
    );
    assert!(!summary.contains("`attic/a.yaml` needs"), "{summary}");
}

#[tokio::test]
async fn unsigned_and_bad_email_commits_are_listed() {
    let h = Harness::start().await;
    let pr = setup(&h, "version: 1\n", OWNERS_ALICE_BOB, &[]);
    let good = CommitSpec::signed(&fake_sha("s", 0), "author");
    let unsigned = CommitSpec::signed(&fake_sha("s", 1), "author").unverified("unsigned");
    let mut bad = CommitSpec::signed(&fake_sha("s", 2), "helper").unverified("bad_email");
    bad.email = "not-an-email".into();
    h.fake
        .set_pr_commits(REPO, PR, &[good.clone(), unsigned.clone(), bad.clone()]);
    opened(&h, &pr).await;
    let (c, title, summary) = verdict(&run(&h, &pr.head, SIGNATURES));
    assert_eq!(c, "failure");
    assert_eq!(title, "2 of 3 commits are not verified");
    for (spec, who) in [(&unsigned, "@author"), (&bad, "@helper")] {
        let line = format!(
            "- `{}` by {who}: {} (`{}`)",
            &spec.sha[..7],
            explain_reason(&spec.reason),
            spec.reason
        );
        assert!(summary.contains(&line), "{line}\n{summary}");
    }
    assert!(!summary.contains(&good.sha[..7]), "{summary}");

    // All verified: success.
    h.fake.set_pr_commits(REPO, PR, &[good]);
    deliver(&h, "check_run", &rerequest(SIGNATURES, &pr.base, &pr.head)).await;
    let (c, title, _) = verdict(&run(&h, &pr.head, SIGNATURES));
    assert_eq!(
        (c.as_str(), title.as_str()),
        ("success", "The commit is verified")
    );
}

#[tokio::test]
async fn three_hundred_commits_are_all_checked() {
    let h = Harness::start().await;
    let pr = setup(&h, "version: 1\n", OWNERS_ALICE_BOB, &[]);
    let mut commits: Vec<CommitSpec> = (0..300)
        .map(|i| CommitSpec::signed(&fake_sha("big", i), "author"))
        .collect();
    commits[279] = commits[279].clone().unverified("unknown_key");
    h.fake.set_pr_commits(REPO, PR, &commits);
    opened(&h, &pr).await;
    let (c, title, summary) = verdict(&run(&h, &pr.head, SIGNATURES));
    assert_eq!(c, "failure");
    assert_eq!(title, "1 of 300 commits are not verified");
    assert!(summary.contains(&commits[279].sha[..7]), "{summary}");
    // Past 250, the commits came from the compare API, every page of it.
    assert!(
        h.fake.calls(&Method::GET, "/compare/") >= 3,
        "{:#?}",
        h.fake.call_log()
    );

    commits[279] = CommitSpec::signed(&fake_sha("big", 279), "author");
    h.fake.set_pr_commits(REPO, PR, &commits);
    deliver(&h, "check_run", &rerequest(SIGNATURES, &pr.base, &pr.head)).await;
    let (c, title, _) = verdict(&run(&h, &pr.head, SIGNATURES));
    assert_eq!(
        (c.as_str(), title.as_str()),
        ("success", "All 300 commits are verified")
    );
}

#[tokio::test]
async fn signatures_not_required_succeeds_and_says_so() {
    let h = Harness::start().await;
    let pr = setup(
        &h,
        "version: 1\nsignatures:\n  required: false\n",
        OWNERS_ALICE_BOB,
        &[],
    );
    h.fake.set_pr_commits(
        REPO,
        PR,
        &[CommitSpec::signed(&fake_sha("u", 0), "author").unverified("unsigned")],
    );
    opened(&h, &pr).await;
    let (c, title, _) = verdict(&run(&h, &pr.head, SIGNATURES));
    assert_eq!(c, "success");
    assert!(title.contains("not required"), "{title}");
}

#[tokio::test]
async fn repo_without_config_is_neutral_for_every_gate() {
    let h = Harness::start().await;
    let base = h.fake.commit(REPO, &[("a.yaml", CM)]);
    let head = h.fake.commit(REPO, &[("a.yaml", CM2)]);
    h.fake.open_pr(REPO, PR, &base, &head);
    deliver(
        &h,
        "pull_request",
        &pr_event("opened", REPO, PR, &base, &head),
    )
    .await;
    for name in [MANIFESTS, REVIEWS, SIGNATURES] {
        let (c, title, _) = verdict(&run(&h, &head, name));
        assert_eq!(c, "neutral", "{name}");
        assert!(title.contains("Not a deployment repository"), "{title}");
    }
    // The base tree and the org default were each read once for all three.
    assert_eq!(h.fake.calls(&Method::GET, "/git/trees/"), 1);
    assert_eq!(
        h.fake.calls(
            &Method::GET,
            "/repos/acme/.github/contents/gitops-guard.yml"
        ),
        1
    );
}

#[tokio::test]
async fn github_errors_fail_every_gate_with_one_bounded_round_of_retries() {
    let h = Harness::start().await;
    let pr = setup(&h, "version: 1\n", OWNERS_ALICE_BOB, &[]);
    h.fake
        .fail(Some(Method::GET), "/pulls/7/files", usize::MAX, 500, &[]);
    h.fake
        .fail(Some(Method::GET), "/pulls/7/reviews", usize::MAX, 500, &[]);
    opened(&h, &pr).await;
    let (c, title, _) = verdict(&run(&h, &pr.head, REVIEWS));
    assert_eq!(c, "failure");
    assert!(title.contains("Cannot evaluate"), "{title}");
    // The file list is shared by the gates: one round of 4 attempts.
    assert_eq!(h.fake.calls(&Method::GET, "/pulls/7/files"), 4);
    // Signatures does not need the file list and still completes.
    assert_eq!(verdict(&run(&h, &pr.head, SIGNATURES)).0, "success");
}

#[tokio::test]
async fn same_push_via_check_suite_is_not_reevaluated() {
    let h = Harness::start().await;
    let pr = setup(&h, "version: 1\n", OWNERS_ALICE_BOB, &[]);
    opened(&h, &pr).await;
    let before = h.fake.total_calls();
    deliver(
        &h,
        "check_suite",
        &check_suite_event("requested", REPO, PR, &pr.base, &pr.head),
    )
    .await;
    // List the open PRs on the head, read the PR once, find each gate's
    // completed run; reviews is re-evaluated (its verdict reads permission
    // answers: reviews, files, commits) and its unchanged write skipped.
    assert_eq!(h.fake.total_calls() - before, 8, "{:#?}", h.fake.call_log());
    for name in [MANIFESTS, REVIEWS, SIGNATURES] {
        assert_eq!(run(&h, &pr.head, name).patches, 1, "{name}");
    }
    // Re-run from the UI for the reviews run re-evaluates only it.
    deliver(&h, "check_run", &rerequest(REVIEWS, &pr.base, &pr.head)).await;
    assert_eq!(run(&h, &pr.head, REVIEWS).patches, 3);
    assert_eq!(run(&h, &pr.head, MANIFESTS).patches, 1);
}

#[tokio::test]
async fn email_owners_map_through_pr_commits_or_are_reported() {
    let h = Harness::start().await;
    let cfg = "version: 1\nreviews:\n  ignore_contributors: false\n";
    let pr = setup(
        &h,
        cfg,
        "* carol@example.com\n/apps/ zed@example.com carol@example.com\n",
        &[],
    );
    // carol's commit email is linked to her account by GitHub.
    h.fake.set_pr_commits(
        REPO,
        PR,
        &[
            CommitSpec::signed(&fake_sha("c", 0), "author"),
            CommitSpec::signed(&fake_sha("c", 1), "carol"),
        ],
    );
    h.fake.add_review(REPO, PR, "carol", "APPROVED", &pr.head);
    h.fake.add_review(REPO, PR, "bob", "APPROVED", &pr.head);
    opened(&h, &pr).await;
    let (c, _, summary) = verdict(&run(&h, &pr.head, REVIEWS));
    assert_eq!(c, "success", "{summary}");

    // An owner known only by an email no PR commit carries cannot be matched.
    let h = Harness::start().await;
    let pr = setup(&h, cfg, "* zed@example.com\n", &[]);
    h.fake.add_review(REPO, PR, "zed", "APPROVED", &pr.head);
    h.fake.add_review(REPO, PR, "bob", "APPROVED", &pr.head);
    opened(&h, &pr).await;
    let (c, _, summary) = verdict(&run(&h, &pr.head, REVIEWS));
    assert_eq!(c, "failure");
    assert!(
        summary.contains("Email owner `zed@example.com` could not be matched to a GitHub account"),
        "{summary}"
    );
}
