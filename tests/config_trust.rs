//! Config trust end to end (issue 14 item 7): every path reads the same
//! effective config — the repository file on the base branch merged
//! tighten-only onto the organisation default — and an exception cannot
//! waive what the organisation enforces. Real router and worker against
//! the fake GitHub; assertions on the check runs and issues it holds.

mod common;

use axum::http::StatusCode;
use common::fake_alerts::{Who, tree_of};
use common::fake_github::{FakeCheckRun, FakeIssue};
use common::*;
use serde_json::{Value, json};

const CHECK: &str = "gitops-guard/manifests";
const CONFIG: &str = ".github/gitops-guard.yml";
/// A privileged pod: `privileged` (baseline) is enforced by default.
const PRIVILEGED: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: csi-node\n  namespace: storage\nspec:\n  containers:\n    - name: driver\n      image: registry.example/csi:1.0\n      securityContext:\n        privileged: true\n";

fn org_default(h: &Harness, text: &str) {
    h.fake.commit("acme/.github", &[("gitops-guard.yml", text)]);
}

fn only_run(h: &Harness, head: &str) -> FakeCheckRun {
    let runs = h.fake.runs(head, CHECK);
    assert_eq!(runs.len(), 1, "exactly one run: {:#?}", h.fake.call_log());
    runs.into_iter().next().unwrap()
}

/// Opens a PR adding the privileged pod onto a base holding `config`.
async fn pr_with_config(h: &Harness, config: &str) -> FakeCheckRun {
    let base = h.fake.commit(REPO, &[(CONFIG, config)]);
    let head = h
        .fake
        .commit(REPO, &[(CONFIG, config), ("storage/csi.yaml", PRIVILEGED)]);
    h.fake.open_pr(REPO, 7, &base, &head);
    let s = h
        .deliver(
            "pull_request",
            &delivery_id(),
            &pr_event("opened", REPO, 7, &base, &head),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    h.settle().await;
    only_run(h, &head)
}

fn failure_titles(run: &FakeCheckRun) -> Vec<String> {
    run.annotations
        .iter()
        .filter(|a| a["annotation_level"] == "failure")
        .filter_map(|a| a["title"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn an_exception_with_an_empty_match_is_a_config_error() {
    let h = Harness::start().await;
    let cfg = "version: 1\nadmission:\n  exceptions:\n    - rule: privileged\n      match: {}\n      reason: waive it everywhere\n";
    let run = pr_with_config(&h, cfg).await;
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert!(
        run.title
            .as_deref()
            .unwrap()
            .contains("Configuration error"),
        "{:?}",
        run.title
    );
    let summary = run.summary.unwrap();
    assert!(
        summary.contains(".github/gitops-guard.yml:5") && summary.contains("namespace"),
        "{summary}"
    );
}

const REPO_EXCEPTION: &str = "version: 1\nadmission:\n  exceptions:\n    - rule: privileged\n      match: {kind: Pod, name: csi-node}\n      reason: CSI node plugins need the host\n      expires: 2099-12-31\n";

#[tokio::test]
async fn a_repo_exception_cannot_waive_what_the_org_enforces() {
    let h = Harness::start().await;
    org_default(&h, "version: 1\nadmission:\n  level: baseline\n");
    let run = pr_with_config(&h, REPO_EXCEPTION).await;
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert!(
        run.title
            .as_deref()
            .unwrap()
            .contains("Configuration error"),
        "{:?}",
        run.title
    );
    let summary = run.summary.unwrap();
    for needle in [
        ".github/gitops-guard.yml:4",
        "`privileged`",
        "exceptions_allowed_in_repo",
        "acme/.github/gitops-guard.yml",
    ] {
        assert!(summary.contains(needle), "{needle} in {summary}");
    }
}

#[tokio::test]
async fn a_repo_exception_applies_when_the_org_allows_its_rule() {
    let h = Harness::start().await;
    org_default(
        &h,
        "version: 1\nadmission:\n  exceptions_allowed_in_repo: [privileged]\n",
    );
    let run = pr_with_config(&h, REPO_EXCEPTION).await;
    assert!(
        !run.title
            .as_deref()
            .unwrap()
            .contains("Configuration error"),
        "{:?} {:?}",
        run.title,
        run.summary
    );
    assert!(
        !failure_titles(&run).contains(&"privileged".to_owned()),
        "the exception waived it: {:#?}",
        run.annotations
    );
    // And without the exception the same pod fails on `privileged`: the
    // exception is what made the difference.
    let h = Harness::start().await;
    org_default(
        &h,
        "version: 1\nadmission:\n  exceptions_allowed_in_repo: [privileged]\n",
    );
    let run = pr_with_config(&h, "version: 1\n").await;
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert!(
        failure_titles(&run).contains(&"privileged".to_owned()),
        "{:#?}",
        run.annotations
    );
}

#[tokio::test]
async fn the_org_only_key_in_a_repo_file_is_a_config_error() {
    let h = Harness::start().await;
    let run = pr_with_config(
        &h,
        "version: 1\nadmission:\n  exceptions_allowed_in_repo: [privileged]\n",
    )
    .await;
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    let summary = run.summary.unwrap();
    assert!(
        summary.contains(".github/gitops-guard.yml:3") && summary.contains("organisation default"),
        "{summary}"
    );
}

// ------------------------------------------------------------------ pushes

/// `push` of `after` onto `git_ref` (from `before`), one commit by mallory.
fn push_event(git_ref: &str, before: &str, after: &str) -> Vec<u8> {
    let mut v = fixture("push.json");
    let (owner, name) = REPO.split_once('/').unwrap();
    v["repository"]["full_name"] = REPO.into();
    v["repository"]["name"] = name.into();
    v["repository"]["owner"]["login"] = owner.into();
    v["repository"]["owner"]["name"] = owner.into();
    v["repository"]["default_branch"] = "main".into();
    v["repository"]["master_branch"] = "main".into();
    v["installation"] = json!({ "id": INSTALLATION, "node_id": "x" });
    v["ref"] = git_ref.into();
    v["before"] = before.into();
    v["after"] = after.into();
    v["created"] = false.into();
    v["deleted"] = false.into();
    v["forced"] = false.into();
    v["compare"] = format!(
        "https://github.com/{REPO}/compare/{}...{}",
        &before[..12],
        &after[..12]
    )
    .into();
    v["sender"]["login"] = "mallory".into();
    v["pusher"] = json!({"name": "mallory", "email": "mallory@example.com"});
    let mut c = v["commits"][0].clone();
    c["id"] = after.into();
    c["tree_id"] = tree_of(after).into();
    c["message"] = "quiet change".into();
    c["author"] = Who::user("mallory").payload();
    c["committer"] = Who::user("mallory").payload();
    c["distinct"] = true.into();
    v["head_commit"] = c.clone();
    v["commits"] = Value::Array(vec![c]);
    serde_json::to_vec(&v).unwrap()
}

/// `main` holds `repo_config`; mallory (not a member) pushes an unsigned
/// commit straight to `prod`. Returns the issues the App opened.
async fn direct_push_to_prod(org: Option<&str>, repo_config: &str) -> Vec<FakeIssue> {
    let h = Harness::start().await;
    if let Some(o) = org {
        org_default(&h, o);
    }
    h.fake.add_org_member("acme", "alice");
    let c0 = h.fake.git_commit(
        REPO,
        &[(CONFIG, repo_config), ("apps/a.yaml", "kind: ConfigMap\n")],
        &[],
        "initial",
        &Who::user("alice"),
        &Who::web_flow(),
        true,
    );
    h.fake.set_branch(REPO, "main", &c0);
    let c1 = h.fake.git_commit(
        REPO,
        &[(CONFIG, repo_config), ("apps/a.yaml", "kind: Secret\n")],
        &[&c0],
        "quiet change",
        &Who::user("mallory"),
        &Who::user("mallory"),
        false,
    );
    h.fake.set_branch(REPO, "prod", &c1);
    let s = h
        .deliver(
            "push",
            &delivery_id(),
            &push_event("refs/heads/prod", &c0, &c1),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    h.settle().await;
    h.fake.st().issues.clone()
}

#[tokio::test]
async fn pushes_are_judged_by_the_org_floor_when_the_repo_config_loosens_it() {
    // The org protects `prod`; the repository's file drops it. The merge
    // refuses the loosening, the org default alone decides, and the alert
    // says the repository config is broken.
    let org = "version: 1\npush:\n  branches: [main, prod]\n";
    let all = direct_push_to_prod(Some(org), "version: 1\npush:\n  branches: [main]\n").await;
    assert!(!all.is_empty(), "the push to prod raised nothing");
    let body = &all[0].body;
    assert!(body.contains("config is broken"), "{body}");
    assert!(body.contains(".github/gitops-guard.yml:3"), "{body}");
    // Twin: without the org floor, the repository's own choice stands and
    // `prod` is not a deployment branch.
    let all = direct_push_to_prod(None, "version: 1\npush:\n  branches: [main]\n").await;
    assert!(all.is_empty(), "{all:#?}");
}

#[tokio::test]
async fn pushes_use_the_merged_config_not_the_repo_file_alone() {
    // The org protects `main` and trusts nobody extra; the repository adds
    // `prod` (a tightening): the merged config protects both.
    let org = "version: 1\npush:\n  branches: [main]\n";
    let all = direct_push_to_prod(Some(org), "version: 1\npush:\n  branches: [main, prod]\n").await;
    assert!(!all.is_empty(), "the push to prod raised nothing");
    assert!(
        all.iter().all(|i| !i.body.contains("config is broken")),
        "{all:#?}"
    );
}
