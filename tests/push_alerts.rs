//! Push and protection alerts end to end: signed deliveries built from the
//! upstream `push*.json` / `branch_protection_rule.*.json` fixtures (repo
//! and SHAs rewritten to the fake's state) through the real router and
//! worker, the real octocrab client against the fake GitHub, and a fake
//! Slack receiver. Assertions are on the issues, comments, git data writes
//! and chat messages the fakes hold afterwards.

mod common;

use axum::http::{Method, StatusCode};
use common::fake_alerts::scenario::*;
use common::fake_alerts::{FakeSlack, Who, tree_of};
use common::fake_github::FakeIssue;
use common::*;
use serde_json::json;

fn assert_alert_issue(i: &FakeIssue, sha: &str) {
    assert!(
        i.labels.contains(&"gitops-guard".to_owned()),
        "{:?}",
        i.labels
    );
    assert!(i.labels.contains(&"security".to_owned()), "{:?}", i.labels);
    assert!(
        i.title.contains(sha),
        "title names the pushed SHA: {}",
        i.title
    );
    assert!(
        i.body.contains("<!-- gitops-guard:fingerprint="),
        "{}",
        i.body
    );
    assert!(i.body.contains("#runbook-"), "{}", i.body);
}

/// Force-push scenario: main moved C0 → C1 (merged PR), then force-pushed
/// to C2 (child of C0), dropping C1. C2 itself is a merged PR's squash
/// commit, so the only alert is the force-push.
struct ForceSetup {
    c0: String,
    c1: String,
    c2: String,
}

fn force_setup(h: &Harness, config: &str) -> ForceSetup {
    let c0 = base(h, config);
    let c1 = h.fake.git_commit(
        REPO,
        &[
            (CONFIG, config),
            ("apps/a.yaml", MANIFEST),
            ("apps/b.yaml", MANIFEST),
        ],
        &[&c0],
        "add b",
        &Who::user("alice"),
        &Who::web_flow(),
        true,
    );
    h.fake.associate_pr(REPO, &c1, 1, "main", &c1);
    let c2 = h.fake.git_commit(
        REPO,
        &[(CONFIG, config), ("apps/a.yaml", "kind: Evil\n")],
        &[&c0],
        "rewrite",
        &Who::user("alice"),
        &Who::web_flow(),
        true,
    );
    h.fake.associate_pr(REPO, &c2, 2, "main", &c2);
    h.fake.set_branch(REPO, "main", &c2);
    ForceSetup { c0, c1, c2 }
}

fn forced_spec<'a>(s: &'a ForceSetup) -> PushSpec<'a> {
    PushSpec {
        git_ref: "refs/heads/main",
        before: &s.c1,
        after: &s.c2,
        forced: true,
        deleted: false,
        sender: "mallory",
        commits: vec![(s.c2.clone(), "rewrite", Who::user("alice"), Who::web_flow())],
    }
}

#[tokio::test]
async fn force_push_to_main_opens_a_labelled_issue_naming_the_sha() {
    let h = harness(None).await;
    let s = force_setup(&h, BASIC);
    deliver_push(&h, &forced_spec(&s)).await;
    let all = issues(&h);
    assert_eq!(all.len(), 1, "only the force-push alert: {all:#?}");
    let i = issue_of(&all, "force-push").expect("force-push issue");
    assert_alert_issue(i, &s.c2);
    // The lost commit, the restore commands and the previous head.
    assert!(
        i.body.contains(&s.c1[..7]),
        "lost commit listed: {}",
        i.body
    );
    assert!(
        i.body
            .contains(&format!("git read-tree -u --reset {}", s.c1))
    );
    assert!(i.body.contains("```sh"));
    // Dedupe looked for an open issue first, through the list endpoint.
    assert_eq!(h.fake.calls(&Method::GET, "/repos/acme/deploy/issues"), 1);
    assert_eq!(
        h.fake.calls(&Method::POST, "/pulls"),
        0,
        "revert_pr is off by default"
    );
    let _ = s.c0;
}

#[tokio::test]
async fn a_repeated_incident_comments_on_the_open_issue() {
    let h = harness(None).await;
    let s = force_setup(&h, BASIC);
    deliver_push(&h, &forced_spec(&s)).await;
    deliver_push(&h, &forced_spec(&s)).await;
    let all = issues(&h);
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(all[0].comments.len(), 1);
    assert!(all[0].comments[0].contains("happened again"));
    // Closed: the next occurrence opens a new issue.
    h.fake.st().issues[0].state = "closed".into();
    deliver_push(&h, &forced_spec(&s)).await;
    assert_eq!(issues(&h).len(), 2);
}

#[tokio::test]
async fn unknown_author_push_opens_an_issue() {
    let h = harness(None).await;
    let c0 = base(&h, BASIC);
    // The fixture's commit: author Codertocat (an account, not a member),
    // committer whose email matches no account.
    let c1 = h.fake.git_commit(
        REPO,
        &[(CONFIG, BASIC), ("apps/a.yaml", "kind: Evil\n")],
        &[&c0],
        "Update README.md",
        &Who::user("Codertocat"),
        &Who::nobody("21031067+Codertocat@users.noreply.github.com"),
        true,
    );
    h.fake.set_branch(REPO, "main", &c1);
    let spec = PushSpec {
        git_ref: "refs/heads/main",
        before: &c0,
        after: &c1,
        forced: false,
        deleted: false,
        sender: "Codertocat",
        commits: vec![(
            c1.clone(),
            "Update README.md",
            Who::user("Codertocat"),
            Who::nobody("21031067+Codertocat@users.noreply.github.com"),
        )],
    };
    deliver_push_fixture(&h, "push.no-username-committer.json", &spec).await;
    let all = issues(&h);
    let i = issue_of(&all, "unknown-author").expect("unknown-author issue");
    assert_alert_issue(i, &c1);
    assert!(i.body.contains("matches no GitHub account"), "{}", i.body);
    assert!(i.body.contains("@Codertocat is not a member"), "{}", i.body);
    // Pushed straight to main: also a direct push, with a revert range.
    let d = issue_of(&all, "direct-push").expect("direct-push issue");
    assert!(d.body.contains(&format!("git revert --no-edit {c0}..{c1}")));
}

#[tokio::test]
async fn merge_button_and_squash_merges_raise_nothing() {
    let h = harness(None).await;
    let c0 = base(&h, BASIC);
    // Merge commit of approved PR #5 (one feature commit P1).
    let p1 = h.fake.git_commit(
        REPO,
        &[
            (CONFIG, BASIC),
            ("apps/a.yaml", MANIFEST),
            ("apps/c.yaml", MANIFEST),
        ],
        &[&c0],
        "add c",
        &Who::user("alice"),
        &Who::user("alice"),
        true,
    );
    let m = h.fake.git_commit(
        REPO,
        &[
            (CONFIG, BASIC),
            ("apps/a.yaml", MANIFEST),
            ("apps/c.yaml", MANIFEST),
        ],
        &[&c0, &p1],
        "Merge pull request #5 from acme/feature-5",
        &Who::user("alice"),
        &Who::web_flow(),
        true,
    );
    h.fake.associate_pr(REPO, &m, 5, "main", &m);
    h.fake.associate_pr(REPO, &p1, 5, "main", &m);
    h.fake.set_branch(REPO, "main", &m);
    deliver_push(
        &h,
        &PushSpec {
            git_ref: "refs/heads/main",
            before: &c0,
            after: &m,
            forced: false,
            deleted: false,
            sender: "alice",
            commits: vec![
                (p1.clone(), "add c", Who::user("alice"), Who::user("alice")),
                (
                    m.clone(),
                    "Merge pull request #5",
                    Who::user("alice"),
                    Who::web_flow(),
                ),
            ],
        },
    )
    .await;
    // Squash merge of PR #6 on top.
    let sq = h.fake.git_commit(
        REPO,
        &[(CONFIG, BASIC), ("apps/a.yaml", MANIFEST)],
        &[&m],
        "Remove c (#6)",
        &Who::user("alice"),
        &Who::web_flow(),
        true,
    );
    h.fake.associate_pr(REPO, &sq, 6, "main", &sq);
    h.fake.set_branch(REPO, "main", &sq);
    deliver_push(
        &h,
        &PushSpec {
            git_ref: "refs/heads/main",
            before: &m,
            after: &sq,
            forced: false,
            deleted: false,
            sender: "alice",
            commits: vec![(
                sq.clone(),
                "Remove c (#6)",
                Who::user("alice"),
                Who::web_flow(),
            )],
        },
    )
    .await;
    assert!(issues(&h).is_empty(), "{:#?}", issues(&h));
    assert_eq!(h.fake.calls(&Method::POST, "/issues"), 0);
    // The merge commit's PR covered both commits: one lookup per push.
    assert_eq!(
        h.fake.calls(&Method::GET, "/pulls"),
        2,
        "{:#?}",
        h.fake.call_log()
    );
}

#[tokio::test]
async fn trusted_bot_commits_raise_nothing_untrusted_ones_do() {
    for (config, expect_alert) in [
        (
            "version: 1\npush:\n  trusted_authors: [\"renovate[bot]\"]\n",
            false,
        ),
        (BASIC, true),
    ] {
        let h = harness(None).await;
        let c0 = base(&h, config);
        let bot = Who::user("renovate[bot]");
        let c1 = h.fake.git_commit(
            REPO,
            &[(CONFIG, config), ("apps/a.yaml", "kind: ConfigMap\n")],
            &[&c0],
            "chore(deps): update image",
            &bot,
            &bot,
            true,
        );
        h.fake.associate_pr(REPO, &c1, 9, "main", &c1);
        h.fake.set_branch(REPO, "main", &c1);
        deliver_push(
            &h,
            &PushSpec {
                git_ref: "refs/heads/main",
                before: &c0,
                after: &c1,
                forced: false,
                deleted: false,
                sender: "renovate[bot]",
                commits: vec![(c1.clone(), "chore(deps): update image", bot.clone(), bot)],
            },
        )
        .await;
        let all = issues(&h);
        assert_eq!(
            issue_of(&all, "unknown-author").is_some(),
            expect_alert,
            "{config}: {all:#?}"
        );
        assert_eq!(all.len(), usize::from(expect_alert));
    }
}

#[tokio::test]
async fn team_members_in_trusted_authors_raise_nothing() {
    let h = harness(None).await;
    let config = "version: 1\npush:\n  trusted_authors: [\"@vendor/deployers\"]\n";
    let c0 = base(&h, config);
    h.fake.add_team_member("vendor", "deployers", "vbot");
    let c1 = h.fake.git_commit(
        REPO,
        &[(CONFIG, config), ("apps/a.yaml", "kind: ConfigMap\n")],
        &[&c0],
        "deploy",
        &Who::user("vbot"),
        &Who::user("vbot"),
        true,
    );
    h.fake.associate_pr(REPO, &c1, 3, "main", &c1);
    h.fake.set_branch(REPO, "main", &c1);
    deliver_push(
        &h,
        &PushSpec {
            git_ref: "refs/heads/main",
            before: &c0,
            after: &c1,
            forced: false,
            deleted: false,
            sender: "vbot",
            commits: vec![(c1.clone(), "deploy", Who::user("vbot"), Who::user("vbot"))],
        },
    )
    .await;
    assert!(issues(&h).is_empty(), "{:#?}", issues(&h));
    assert_eq!(
        h.fake.calls(
            &Method::GET,
            "/orgs/vendor/teams/deployers/memberships/vbot"
        ),
        1
    );
}

#[tokio::test]
async fn pushes_to_unprotected_branches_raise_nothing() {
    let h = harness(None).await;
    let c0 = base(&h, BASIC);
    let c1 = h.fake.git_commit(
        REPO,
        &[(CONFIG, BASIC)],
        &[&c0],
        "wip",
        &Who::nobody("x@evil.example"),
        &Who::nobody("x@evil.example"),
        false,
    );
    h.fake.set_branch(REPO, "feature", &c1);
    deliver_push(
        &h,
        &PushSpec {
            git_ref: "refs/heads/feature",
            before: &c0,
            after: &c1,
            forced: true,
            deleted: false,
            sender: "mallory",
            commits: vec![(
                c1.clone(),
                "wip",
                Who::nobody("x@evil.example"),
                Who::nobody("x@evil.example"),
            )],
        },
    )
    .await;
    assert!(issues(&h).is_empty());
    assert_eq!(h.fake.calls(&Method::GET, "/issues"), 0);
    assert_eq!(
        h.fake.calls(&Method::GET, "/commits/"),
        0,
        "no facts gathered"
    );
}

#[tokio::test]
async fn a_push_cannot_switch_off_its_own_protection() {
    let h = harness(None).await;
    let c0 = base(&h, BASIC);
    let lax = "version: 1\npush:\n  branches: [nothing]\n  trusted_authors: [mallory]\n";
    let c1 = h.fake.git_commit(
        REPO,
        &[(CONFIG, lax)],
        &[&c0],
        "quiet",
        &Who::user("mallory"),
        &Who::user("mallory"),
        true,
    );
    h.fake.set_branch(REPO, "main", &c1);
    deliver_push(
        &h,
        &PushSpec {
            git_ref: "refs/heads/main",
            before: &c0,
            after: &c1,
            forced: false,
            deleted: false,
            sender: "mallory",
            commits: vec![(
                c1.clone(),
                "quiet",
                Who::user("mallory"),
                Who::user("mallory"),
            )],
        },
    )
    .await;
    let all = issues(&h);
    assert!(issue_of(&all, "unknown-author").is_some(), "{all:#?}");
    assert!(issue_of(&all, "direct-push").is_some(), "{all:#?}");
}

#[tokio::test]
async fn branch_deletion_opens_an_issue() {
    let h = harness(None).await;
    let c0 = base(&h, BASIC);
    deliver_push_fixture(
        &h,
        "push.deleted.json",
        &PushSpec {
            git_ref: "refs/heads/main",
            before: &c0,
            after: "0000000000000000000000000000000000000000",
            forced: false,
            deleted: true,
            sender: "mallory",
            commits: vec![],
        },
    )
    .await;
    let all = issues(&h);
    assert_eq!(all.len(), 1, "{all:#?}");
    let i = issue_of(&all, "branch-deleted").expect("branch-deleted issue");
    assert!(i.title.contains(&c0), "{}", i.title);
    assert!(
        i.body
            .contains(&format!("git push origin {c0}:refs/heads/main"))
    );
}

fn protection_event(action: &str, rule_name: &str) -> Vec<u8> {
    let mut v = fixture(&format!("branch_protection_rule.{action}.json"));
    let (owner, name) = REPO.split_once('/').unwrap();
    v["repository"]["full_name"] = REPO.into();
    v["repository"]["name"] = name.into();
    v["repository"]["owner"]["login"] = owner.into();
    v["repository"]["default_branch"] = "main".into();
    v["installation"] = json!({ "id": INSTALLATION, "node_id": "x" });
    v["rule"]["name"] = rule_name.into();
    v["sender"]["login"] = "eve".into();
    serde_json::to_vec(&v).unwrap()
}

#[tokio::test]
async fn weakened_protection_opens_an_issue() {
    let h = harness(None).await;
    base(&h, BASIC);
    // Rules for other branches and created rules are not alerts.
    for (action, rule) in [("edited", "feature/*"), ("created", "main")] {
        assert_eq!(
            h.deliver(
                "branch_protection_rule",
                &delivery_id(),
                &protection_event(action, rule)
            )
            .await,
            StatusCode::ACCEPTED
        );
    }
    h.settle().await;
    assert!(issues(&h).is_empty(), "{:#?}", issues(&h));
    h.deliver(
        "branch_protection_rule",
        &delivery_id(),
        &protection_event("edited", "main"),
    )
    .await;
    h.settle().await;
    let all = issues(&h);
    assert_eq!(all.len(), 1, "{all:#?}");
    let i = issue_of(&all, "protection-weakened").unwrap();
    assert!(i.labels.contains(&"security".to_owned()));
    for w in [
        "required approving reviews lowered from 2 to 1",
        "code-owner review is no longer required",
        "stale reviews are no longer dismissed",
        "signed-commit requirement lowered",
        "@eve",
        "`main`",
    ] {
        assert!(i.body.contains(w), "{w} in {}", i.body);
    }
    // Deleting the rule is another incident.
    h.deliver(
        "branch_protection_rule",
        &delivery_id(),
        &protection_event("deleted", "main"),
    )
    .await;
    h.settle().await;
    assert_eq!(issues(&h).len(), 2);
}

#[tokio::test]
async fn repositories_without_config_raise_nothing() {
    let h = harness(None).await;
    let c0 = h.fake.git_commit(
        REPO,
        &[("README.md", "hi")],
        &[],
        "init",
        &Who::user("alice"),
        &Who::user("alice"),
        true,
    );
    let c1 = h.fake.git_commit(
        REPO,
        &[("README.md", "bye")],
        &[],
        "rewrite",
        &Who::nobody("x@evil.example"),
        &Who::nobody("x@evil.example"),
        false,
    );
    h.fake.set_branch(REPO, "main", &c1);
    deliver_push(
        &h,
        &PushSpec {
            git_ref: "refs/heads/main",
            before: &c0,
            after: &c1,
            forced: true,
            deleted: false,
            sender: "mallory",
            commits: vec![(
                c1.clone(),
                "rewrite",
                Who::nobody("x@evil.example"),
                Who::nobody("x@evil.example"),
            )],
        },
    )
    .await;
    assert!(issues(&h).is_empty());
}

const SLACK_CONFIG: &str = "version: 1\npush:\n  alert:\n    webhook_url_env: SLACK_URL\n";

#[tokio::test]
async fn the_chat_webhook_receives_the_alert() {
    let slack = FakeSlack::start().await;
    let h = harness(Some(&slack)).await;
    let s = force_setup(&h, SLACK_CONFIG);
    deliver_push(&h, &forced_spec(&s)).await;
    let texts = slack.texts();
    assert_eq!(texts.len(), 1, "{texts:#?}");
    assert!(texts[0].contains("force-push"));
    assert!(texts[0].contains(&s.c2));
    assert!(texts[0].contains("git read-tree"));
    assert_eq!(issues(&h).len(), 1);
}

#[tokio::test]
async fn a_failing_issue_sink_does_not_block_the_webhook() {
    let slack = FakeSlack::start().await;
    let h = harness(Some(&slack)).await;
    let s = force_setup(&h, SLACK_CONFIG);
    h.fake
        .fail(Some(Method::POST), "/issues", usize::MAX, 500, &[]);
    deliver_push(&h, &forced_spec(&s)).await;
    assert!(issues(&h).is_empty());
    assert!(
        h.fake.calls(&Method::POST, "/repos/acme/deploy/issues") >= 2,
        "retried"
    );
    let texts = slack.texts();
    assert_eq!(texts.len(), 1, "{texts:#?}");
    assert!(texts[0].contains(&s.c2));
}

#[tokio::test]
async fn a_failing_webhook_does_not_block_the_issue() {
    let slack = FakeSlack::start().await;
    *slack.status.lock().unwrap() = 500;
    let h = harness(Some(&slack)).await;
    let s = force_setup(&h, SLACK_CONFIG);
    deliver_push(&h, &forced_spec(&s)).await;
    assert_eq!(issues(&h).len(), 1);
    assert!(slack.texts().len() >= 2, "the webhook was retried");
}

#[tokio::test]
async fn revert_pr_opens_the_rollback_pull_request() {
    let h = harness(None).await;
    let config = "version: 1\npush:\n  alert:\n    revert_pr: true\n";
    let s = force_setup(&h, config);
    deliver_push(&h, &forced_spec(&s)).await;
    let (commits, pulls) = {
        let st = h.fake.st();
        (
            st.alerts.created_commits.clone(),
            st.alerts.created_pulls.clone(),
        )
    };
    assert_eq!(commits.len(), 1);
    assert_eq!(
        commits[0].tree,
        tree_of(&s.c1),
        "tree of the last trusted commit"
    );
    assert_eq!(
        commits[0].parents,
        vec![s.c2.clone()],
        "on top of the current head"
    );
    assert_eq!(pulls.len(), 1);
    let branch = format!("gitops-guard/revert-{}", &s.c2[..7]);
    assert_eq!(pulls[0].head, branch);
    assert_eq!(pulls[0].base, "main");
    assert_eq!(
        h.fake
            .st()
            .alerts
            .refs
            .get(&(REPO.to_owned(), format!("heads/{branch}"))),
        Some(&commits[0].sha)
    );
    let all = issues(&h);
    let i = issue_of(&all, "force-push").unwrap();
    assert!(
        i.body.contains(&format!("/pull/{}", pulls[0].number)),
        "the issue links the PR: {}",
        i.body
    );
    // A redelivery does not open a second PR.
    deliver_push(&h, &forced_spec(&s)).await;
    assert_eq!(h.fake.st().alerts.created_pulls.len(), 1);
}

#[tokio::test]
async fn issues_go_to_the_central_alerts_repository() {
    let h = harness(None).await;
    let config = "version: 1\npush:\n  alert:\n    repository: acme/security-alerts\n";
    let s = force_setup(&h, config);
    deliver_push(&h, &forced_spec(&s)).await;
    let all = issues(&h);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].repo, "acme/security-alerts");
    assert!(all[0].body.contains("acme/deploy"));
}

#[tokio::test]
async fn config_is_found_through_the_tree_when_contents_says_not_found() {
    let h = harness(None).await;
    let s = force_setup(&h, BASIC);
    h.fake
        .fail(Some(Method::GET), "/contents/", usize::MAX, 404, &[]);
    deliver_push(&h, &forced_spec(&s)).await;
    let all = issues(&h);
    assert!(issue_of(&all, "force-push").is_some(), "{all:#?}");
    assert!(h.fake.calls(&Method::GET, &format!("/git/trees/{}", s.c1)) >= 1);
}

#[tokio::test]
async fn large_pushes_are_bounded_and_say_so() {
    let h = harness(None).await;
    let c0 = base(&h, BASIC);
    let mut parent = c0.clone();
    let mut commits = Vec::new();
    for i in 0..130 {
        let msg = format!("direct {i}");
        let c = h.fake.git_commit(
            REPO,
            &[(CONFIG, BASIC)],
            &[&parent],
            &msg,
            &Who::user("alice"),
            &Who::user("alice"),
            true,
        );
        commits.push((c.clone(), "direct", Who::user("alice"), Who::user("alice")));
        parent = c;
    }
    h.fake.set_branch(REPO, "main", &parent);
    deliver_push(
        &h,
        &PushSpec {
            git_ref: "refs/heads/main",
            before: &c0,
            after: &parent,
            forced: false,
            deleted: false,
            sender: "alice",
            commits,
        },
    )
    .await;
    let lookups = h.fake.calls(&Method::GET, "/pulls");
    assert_eq!(lookups, 100, "associated-PR lookups are capped");
    // The new commits, their identities and signatures came from one
    // compare page (250 commits a page).
    assert_eq!(h.fake.calls(&Method::GET, "/compare/"), 1);
    assert_eq!(
        h.fake
            .calls(&Method::GET, &format!("/repos/{REPO}/commits/"))
            - lookups,
        0,
        "no single-commit reads"
    );
    let all = issues(&h);
    let d = issue_of(&all, "direct-push").expect("direct-push issue");
    assert!(
        d.body
            .contains("looked up for the first 100 commits only; 30 more were not checked"),
        "{}",
        d.body
    );
    assert!(issue_of(&all, "unsigned-commit").is_none(), "{all:#?}");
}
