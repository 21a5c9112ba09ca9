//! Ruleset and branch-protection loosenings end to end: a ruleset is saved
//! in the fake GitHub's ruleset history (as editing it on GitHub does), the
//! `repository_ruleset` / `branch_protection_rule` webhook GitHub would
//! send is delivered through the real router and worker, and the test
//! asserts on the issues the App opened. Each attack has its legitimate
//! twin (a tightening, or a change that concerns no protected branch),
//! which must raise nothing.

mod common;

use axum::http::StatusCode;
use common::fake_github::FakeIssue;
use common::*;
use serde_json::{Value, json};

const CONFIG: &str = ".github/gitops-guard.yml";
const BASIC: &str = "version: 1\npush:\n  branches: [main]\n";

/// `main` of `repo` holds `config`.
fn deployment_repo(h: &Harness, repo: &str, config: &str) {
    let c = h.fake.commit(repo, &[(CONFIG, config)]);
    h.fake.set_branch(repo, "main", &c);
}

/// The ruleset on `main` a careful admin sets up: reviews, our checks
/// pinned to the App, signatures, no force-push or deletion, one team that
/// may bypass only through a PR.
fn strong(id: u64) -> Value {
    json!({
        "id": id, "name": "production", "target": "branch", "enforcement": "active",
        "source_type": "Repository", "source": REPO,
        "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []}},
        "bypass_actors": [{"actor_id": 11, "actor_type": "Team", "bypass_mode": "pull_request"}],
        "rules": [
            {"type": "pull_request", "parameters": {"required_approving_review_count": 2,
                "dismiss_stale_reviews_on_push": true, "require_code_owner_review": true,
                "require_last_push_approval": true, "required_review_thread_resolution": false}},
            {"type": "required_status_checks", "parameters": {"strict_required_status_checks_policy": false,
                "required_status_checks": [
                    {"context": "gitops-guard/reviews", "integration_id": 4242},
                    {"context": "gitops-guard/signatures", "integration_id": 4242}]}},
            {"type": "required_signatures"},
            {"type": "non_fast_forward"},
            {"type": "deletion"}
        ]
    })
}

fn repo_json(full: &str, id: u64) -> Value {
    let (owner, name) = full.split_once('/').unwrap();
    json!({"id": id, "name": name, "full_name": full, "default_branch": "main",
           "owner": {"login": owner, "id": 1, "type": "Organization"}})
}

/// The `repository_ruleset` webhook for `ruleset` (`repo: None`: an
/// organisation ruleset, delivered without a repository).
fn ruleset_event(action: &str, ruleset: &Value, changes: Value, repo: Option<&str>) -> Vec<u8> {
    let mut v = json!({
        "action": action,
        "repository_ruleset": ruleset,
        "changes": changes,
        "organization": {"login": "acme", "id": 1},
        "installation": {"id": INSTALLATION, "node_id": "x"},
        "sender": {"login": "eve", "id": 66, "type": "User"},
    });
    if let Some(r) = repo {
        v["repository"] = repo_json(r, 7);
    }
    serde_json::to_vec(&v).unwrap()
}

async fn send(h: &Harness, event: &str, body: &[u8]) {
    assert_eq!(
        h.deliver(event, &delivery_id(), body).await,
        StatusCode::ACCEPTED
    );
    h.settle().await;
}

fn issues(h: &Harness) -> Vec<FakeIssue> {
    h.fake.st().issues.clone()
}

fn weakened(h: &Harness) -> Vec<FakeIssue> {
    issues(h)
        .into_iter()
        .filter(|i| i.title.starts_with("[protection-weakened]"))
        .collect()
}

/// Saves `before` then `after` (edited by `f`) as two versions of a
/// repository ruleset and delivers the edit with GitHub's `changes`.
async fn edit_ruleset(h: &Harness, f: impl FnOnce(&mut Value), changes: Value) -> Value {
    let scope = format!("repos/{REPO}");
    h.fake.save_ruleset(&scope, strong(1));
    let mut after = strong(1);
    f(&mut after);
    let after = h.fake.save_ruleset(&scope, after);
    send(
        h,
        "repository_ruleset",
        &ruleset_event("edited", &after, changes, Some(REPO)),
    )
    .await;
    after
}

#[tokio::test]
async fn retargeting_a_ruleset_away_from_main_is_an_alert() {
    let h = Harness::start().await;
    deployment_repo(&h, REPO, BASIC);
    edit_ruleset(
        &h,
        |v| v["conditions"]["ref_name"]["include"] = json!(["refs/heads/staging"]),
        json!({"conditions": {"updated": [{
            "condition": {"ref_name": {"include": ["refs/heads/staging"], "exclude": []}},
            "changes": {"include": {"from": ["~DEFAULT_BRANCH"]}}}]}}),
    )
    .await;
    let all = weakened(&h);
    assert_eq!(all.len(), 1, "{all:#?}");
    let body = &all[0].body;
    assert!(
        body.contains("no longer applies to protected `refs/heads/main`"),
        "{body}"
    );
    assert!(
        body.contains("~DEFAULT_BRANCH") && body.contains("refs/heads/staging"),
        "before and after: {body}"
    );
    assert!(body.contains("@eve"), "{body}");
}

#[tokio::test]
async fn swapping_a_bypass_mode_with_the_same_count_is_an_alert() {
    let h = Harness::start().await;
    deployment_repo(&h, REPO, BASIC);
    // GitHub's `changes` do not mention bypass actors at all: only the
    // ruleset history shows the old mode.
    edit_ruleset(
        &h,
        |v| v["bypass_actors"][0]["bypass_mode"] = json!("always"),
        json!({}),
    )
    .await;
    let all = weakened(&h);
    assert_eq!(all.len(), 1, "{all:#?}");
    assert!(
        all[0]
            .body
            .contains("may now bypass `always` (was `pull_request`)"),
        "{}",
        all[0].body
    );
}

#[tokio::test]
async fn unpinning_our_check_from_the_app_is_an_alert() {
    let h = Harness::start().await;
    deployment_repo(&h, REPO, BASIC);
    let before_params = strong(1)["rules"][1]["parameters"].clone();
    edit_ruleset(
        &h,
        |v| {
            v["rules"][1]["parameters"]["required_status_checks"][0]["integration_id"] =
                Value::Null
        },
        json!({"rules": {"updated": [{"rule": {"type": "required_status_checks"},
            "changes": {"configuration": {"from": serde_json::to_string(&before_params).unwrap()}}}]}}),
    )
    .await;
    let all = weakened(&h);
    assert_eq!(all.len(), 1, "{all:#?}");
    let body = &all[0].body;
    assert!(
        body.contains("`gitops-guard/reviews` is no longer pinned"),
        "{body}"
    );
    assert!(
        body.contains("before: app 4242; after: any source"),
        "{body}"
    );
}

#[tokio::test]
async fn tightening_a_ruleset_raises_nothing() {
    let h = Harness::start().await;
    deployment_repo(&h, REPO, BASIC);
    edit_ruleset(
        &h,
        |v| {
            v["rules"][0]["parameters"]["required_approving_review_count"] = json!(3);
            v["rules"][0]["parameters"]["required_review_thread_resolution"] = json!(true);
            v["rules"][1]["parameters"]["strict_required_status_checks_policy"] = json!(true);
            v["bypass_actors"] = json!([]);
            v["conditions"]["ref_name"]["include"] = json!(["~ALL"]);
            v["rules"]
                .as_array_mut()
                .unwrap()
                .push(json!({"type": "required_linear_history"}));
        },
        json!({}),
    )
    .await;
    assert!(issues(&h).is_empty(), "{:#?}", issues(&h));
}

#[tokio::test]
async fn a_ruleset_for_other_branches_or_repositories_raises_nothing() {
    let h = Harness::start().await;
    deployment_repo(&h, REPO, BASIC);
    let scope = format!("repos/{REPO}");
    let mut dev = strong(2);
    dev["conditions"]["ref_name"]["include"] = json!(["refs/heads/dev"]);
    h.fake.save_ruleset(&scope, dev.clone());
    dev["enforcement"] = json!("disabled");
    let dev = h.fake.save_ruleset(&scope, dev);
    send(
        &h,
        "repository_ruleset",
        &ruleset_event(
            "edited",
            &dev,
            json!({"enforcement": {"from": "active"}}),
            Some(REPO),
        ),
    )
    .await;
    // A repository without config is not a deployment repository.
    let other = "acme/website";
    let mut web = strong(3);
    web["source"] = json!(other);
    h.fake.save_ruleset(&format!("repos/{other}"), web.clone());
    web["enforcement"] = json!("disabled");
    let web = h.fake.save_ruleset(&format!("repos/{other}"), web);
    send(
        &h,
        "repository_ruleset",
        &ruleset_event(
            "edited",
            &web,
            json!({"enforcement": {"from": "active"}}),
            Some(other),
        ),
    )
    .await;
    assert!(issues(&h).is_empty(), "{:#?}", issues(&h));
}

#[tokio::test]
async fn without_history_the_old_values_come_from_the_webhook() {
    let h = Harness::start().await;
    deployment_repo(&h, REPO, BASIC);
    // Never saved in the history: the fake answers 404, as GitHub does for
    // a token without access to it.
    let mut after = strong(9);
    after["enforcement"] = json!("evaluate");
    send(
        &h,
        "repository_ruleset",
        &ruleset_event(
            "edited",
            &after,
            json!({"enforcement": {"from": "active"}}),
            Some(REPO),
        ),
    )
    .await;
    let all = weakened(&h);
    assert_eq!(all.len(), 1, "{all:#?}");
    assert!(
        all[0].body.contains("from `active` to `evaluate`"),
        "{}",
        all[0].body
    );
    assert!(
        all[0].body.contains("ruleset history could not be read"),
        "the alert says what it could not compare: {}",
        all[0].body
    );
}

#[tokio::test]
async fn deleting_a_ruleset_is_an_alert() {
    let h = Harness::start().await;
    deployment_repo(&h, REPO, BASIC);
    send(
        &h,
        "repository_ruleset",
        &ruleset_event("deleted", &strong(1), json!({}), Some(REPO)),
    )
    .await;
    let all = weakened(&h);
    assert_eq!(all.len(), 1, "{all:#?}");
    assert!(all[0].body.contains("was deleted"), "{}", all[0].body);
}

/// An organisation ruleset targeting repositories by name.
fn org_ruleset(exclude: &[&str]) -> Value {
    let mut v = strong(50);
    v["source_type"] = json!("Organization");
    v["source"] = json!("acme");
    v["conditions"]["repository_name"] =
        json!({"include": ["~ALL"], "exclude": exclude, "protected": false});
    v
}

#[tokio::test]
async fn loosening_an_org_ruleset_alerts_every_deployment_repository_it_covered() {
    let h = Harness::start().await;
    deployment_repo(&h, REPO, BASIC);
    deployment_repo(&h, "acme/payments", BASIC);
    h.fake.add_installation_repo(REPO, 7, "main");
    h.fake.add_installation_repo("acme/payments", 8, "main");
    // Not a deployment repository: no config.
    h.fake.add_installation_repo("acme/website", 9, "main");
    h.fake.save_ruleset("orgs/acme", org_ruleset(&[]));
    // Excludes `deploy` from the ruleset and lowers reviews for everyone.
    let mut after = org_ruleset(&["deploy"]);
    after["rules"][0]["parameters"]["required_approving_review_count"] = json!(1);
    let after = h.fake.save_ruleset("orgs/acme", after);
    send(
        &h,
        "repository_ruleset",
        &ruleset_event("edited", &after, json!({}), None),
    )
    .await;
    let all = weakened(&h);
    assert_eq!(all.len(), 2, "{all:#?}");
    let deploy = all.iter().find(|i| i.repo == REPO).expect("deploy alerted");
    assert!(
        deploy
            .body
            .contains("no longer applies to repository `deploy`"),
        "{}",
        deploy.body
    );
    let payments = all
        .iter()
        .find(|i| i.repo == "acme/payments")
        .expect("payments alerted");
    assert!(
        payments.body.contains("lowered from 2 to 1"),
        "{}",
        payments.body
    );
    assert!(
        payments
            .title
            .starts_with("[protection-weakened] Organisation ruleset"),
        "{}",
        payments.title
    );

    // The twin: tightening the org ruleset raises nothing more.
    let mut tighter = org_ruleset(&[]);
    tighter["rules"][0]["parameters"]["required_approving_review_count"] = json!(3);
    let tighter = h.fake.save_ruleset("orgs/acme", tighter);
    send(
        &h,
        "repository_ruleset",
        &ruleset_event("edited", &tighter, json!({}), None),
    )
    .await;
    assert_eq!(weakened(&h).len(), 2, "{:#?}", weakened(&h));
}

fn classic_event(rule: &Value, changes: Value) -> Vec<u8> {
    let mut v = fixture("branch_protection_rule.edited.json");
    v["repository"] = repo_json(REPO, 7);
    v["installation"] = json!({ "id": INSTALLATION, "node_id": "x" });
    v["rule"] = rule.clone();
    v["changes"] = changes;
    v["sender"]["login"] = "eve".into();
    serde_json::to_vec(&v).unwrap()
}

#[tokio::test]
async fn classic_protection_admin_and_push_restrictions() {
    let h = Harness::start().await;
    deployment_repo(&h, REPO, BASIC);
    let mut rule = fixture("branch_protection_rule.edited.json")["rule"].clone();
    rule["name"] = "main".into();
    rule["admin_enforced"] = false.into();
    rule["authorized_actors_only"] = true.into();
    rule["authorized_actor_names"] = json!(["release-bot", "mallory"]);
    send(
        &h,
        "branch_protection_rule",
        &classic_event(
            &rule,
            json!({"admin_enforced": {"from": true},
                   "authorized_actor_names": {"from": ["release-bot"]}}),
        ),
    )
    .await;
    let all = weakened(&h);
    assert_eq!(all.len(), 1, "{all:#?}");
    for needle in [
        "no longer enforced for administrators",
        "may now push: `mallory`",
    ] {
        assert!(all[0].body.contains(needle), "{needle} in {}", all[0].body);
    }
    // Twin: turning admin enforcement on and dropping a pusher.
    rule["admin_enforced"] = true.into();
    rule["authorized_actor_names"] = json!(["release-bot"]);
    send(
        &h,
        "branch_protection_rule",
        &classic_event(
            &rule,
            json!({"admin_enforced": {"from": false},
                   "authorized_actor_names": {"from": ["release-bot", "mallory"]}}),
        ),
    )
    .await;
    assert_eq!(weakened(&h).len(), 1, "{:#?}", weakened(&h));
}
