//! `gitops-guard/manifests` end to end: signed deliveries through the real
//! router, the real octocrab client against the stateful fake GitHub, and
//! assertions on the check runs and annotations the fake holds afterwards.

mod common;

use axum::http::{Method, StatusCode};
use common::fake_github::FakeCheckRun;
use common::*;
use gitops_guard::engine::finding::Severity;
use gitops_guard::engine::manifests::object::load_objects;
use gitops_guard::engine::yaml::Limits;
use serde_json::{Value, json};

const CHECK: &str = "gitops-guard/manifests";
const CONFIG: &str = ".github/gitops-guard.yml";
const GOOD: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\ndata:\n  a: b\n";
/// Unterminated flow sequence on line 5: the loader reports it.
const BROKEN: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\ndata: [\n";

/// The annotations GitHub should hold for `files`, derived from the engine
/// the App calls (the shell must pass every finding through unchanged).
fn expected_annotations(files: &[(&str, &str)]) -> Vec<Value> {
    let mut out = Vec::new();
    for (path, text) in files {
        for f in load_objects(path, text, &Limits::default()).findings {
            out.push(json!({
                "path": f.file, "start_line": f.line, "end_line": f.line,
                "annotation_level": match f.severity { Severity::Error => "failure", Severity::Warning => "warning", Severity::Notice => "notice" },
                "title": f.rule.as_str(), "message": f.message,
            }));
        }
    }
    out.sort_by_key(|a| {
        (
            a["path"].as_str().unwrap().to_owned(),
            a["start_line"].as_u64(),
        )
    });
    out
}

fn held_annotations(run: &FakeCheckRun) -> Vec<Value> {
    let mut got: Vec<Value> = run
        .annotations
        .iter()
        .map(|a| {
            json!({
                "path": a["path"], "start_line": a["start_line"], "end_line": a["end_line"],
                "annotation_level": a["annotation_level"], "title": a["title"], "message": a["message"],
            })
        })
        .collect();
    got.sort_by_key(|a| {
        (
            a["path"].as_str().unwrap().to_owned(),
            a["start_line"].as_u64(),
        )
    });
    got
}

fn only_run(h: &Harness, head: &str) -> FakeCheckRun {
    let runs = h.fake.runs(head, CHECK);
    assert_eq!(runs.len(), 1, "exactly one run: {:#?}", h.fake.call_log());
    runs.into_iter().next().unwrap()
}

async fn open_and_deliver(
    h: &Harness,
    base: &[(&str, &str)],
    head: &[(&str, &str)],
) -> (String, String) {
    let b = h.fake.commit(REPO, base);
    let hd = h.fake.commit(REPO, head);
    h.fake.open_pr(REPO, 7, &b, &hd);
    let s = h
        .deliver(
            "pull_request",
            &delivery_id(),
            &pr_event("opened", REPO, 7, &b, &hd),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    h.settle().await;
    (b, hd)
}

#[tokio::test]
async fn violations_fail_with_exact_annotations() {
    let h = Harness::start().await;
    let base = [(CONFIG, "version: 1\n"), ("apps/good.yaml", GOOD)];
    let head = [
        (CONFIG, "version: 1\n"),
        ("apps/good.yaml", GOOD),
        ("apps/broken.yaml", BROKEN),
        ("apps/also-broken.yml", "a: 1\na: 2\n"),
        ("README.md", "not: [a manifest"),
    ];
    let (_, hd) = open_and_deliver(&h, &base, &head).await;
    let run = only_run(&h, &hd);
    assert_eq!(run.status, "completed");
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    let want = expected_annotations(&[
        ("apps/broken.yaml", BROKEN),
        ("apps/also-broken.yml", "a: 1\na: 2\n"),
    ]);
    assert_eq!(want.len(), 2, "the engine reports both files: {want:#?}");
    assert_eq!(held_annotations(&run), want);
    assert!(
        want.iter()
            .all(|a| a["title"] == "invalid-manifest" && a["annotation_level"] == "failure")
    );
    assert!(
        want.iter()
            .find(|a| a["path"] == "apps/broken.yaml")
            .unwrap()["start_line"]
            .as_u64()
            .unwrap()
            >= 5
    );
    let title = run.title.unwrap();
    assert!(title.contains("2 blocking violations"), "{title}");
    let summary = run.summary.unwrap();
    assert!(
        summary.contains("| `invalid-manifest` | error | 2 |"),
        "{summary}"
    );
    assert!(
        !run.annotations.iter().any(|a| a["path"] == "README.md"),
        "non-manifests are not evaluated"
    );
    // The run was created in progress before the evaluation, then completed
    // once (the other POSTs create the reviews and signatures runs).
    let creates = h
        .fake
        .st()
        .calls
        .iter()
        .filter(|c| c.method == Method::POST && c.path.ends_with("/check-runs"))
        .filter(|c| c.body.as_ref().is_some_and(|b| b["name"] == CHECK))
        .count();
    assert_eq!(creates, 1);
    assert_eq!(run.patches, 1);
}

#[tokio::test]
async fn clean_pr_succeeds() {
    let h = Harness::start().await;
    let (_, hd) = open_and_deliver(
        &h,
        &[(CONFIG, "version: 1\n")],
        &[(CONFIG, "version: 1\n"), ("apps/good.yaml", GOOD)],
    )
    .await;
    let run = only_run(&h, &hd);
    assert_eq!(run.conclusion.as_deref(), Some("success"));
    assert!(run.annotations.is_empty());
    assert!(run.title.unwrap().starts_with("Passed"));
}

#[tokio::test]
async fn sixty_annotations_arrive_in_two_batches() {
    let h = Harness::start().await;
    let mut head: Vec<(String, String)> = vec![(CONFIG.into(), "version: 1\n".into())];
    for i in 0..63 {
        head.push((format!("apps/f{i:02}.yaml"), BROKEN.into()));
    }
    let head_ref: Vec<(&str, &str)> = head.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let (_, hd) = open_and_deliver(&h, &[(CONFIG, "version: 1\n")], &head_ref).await;
    let run = only_run(&h, &hd);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert_eq!(run.annotation_batches, [50, 13]);
    assert_eq!(
        run.patches, 2,
        "one PATCH per batch, the last one completes"
    );
    assert_eq!(held_annotations(&run), expected_annotations(&head_ref[1..]));
}

#[tokio::test]
async fn pr_loosening_the_config_is_judged_by_the_base_config() {
    let h = Harness::start().await;
    // The PR tries to exclude its broken manifest from evaluation.
    let loosened = "version: 1\nmanifests:\n  ignore: [\"apps/**\", \".github/**\"]\n";
    let (_, hd) = open_and_deliver(
        &h,
        &[(CONFIG, "version: 1\n")],
        &[(CONFIG, loosened), ("apps/evil.yaml", BROKEN)],
    )
    .await;
    let run = only_run(&h, &hd);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    let held = held_annotations(&run);
    // The broken manifest is still evaluated (the loosened ignore list is not
    // trusted), and the config edit itself is flagged for its owners.
    let mut expected = expected_annotations(&[("apps/evil.yaml", BROKEN)]);
    let policy_change: Vec<_> = held
        .iter()
        .filter(|a| a["title"] == "policy-change")
        .cloned()
        .collect();
    assert_eq!(policy_change.len(), 1, "{held:?}");
    assert_eq!(policy_change[0]["path"], CONFIG);
    assert_eq!(policy_change[0]["annotation_level"], "warning");
    expected.extend(policy_change);
    let mut held_sorted = held.clone();
    held_sorted.sort_by_key(|a| a.to_string());
    expected.sort_by_key(|a| a.to_string());
    assert_eq!(held_sorted, expected);
    let summary = run.summary.unwrap();
    assert!(
        summary.contains("This PR changes `.github/gitops-guard.yml`"),
        "{summary}"
    );

    // And the base config's exclusions do apply (the same file under an
    // ignored path passes), so the test above cannot pass by accident.
    let h = Harness::start().await;
    let strict_base = "version: 1\nmanifests:\n  ignore: [\"vendor/**\"]\n";
    let (_, hd) = open_and_deliver(
        &h,
        &[(CONFIG, strict_base)],
        &[(CONFIG, strict_base), ("vendor/x.yaml", BROKEN)],
    )
    .await;
    assert_eq!(only_run(&h, &hd).conclusion.as_deref(), Some("success"));
}

#[tokio::test]
async fn repo_without_config_is_neutral() {
    let h = Harness::start().await;
    let (_, hd) = open_and_deliver(&h, &[("x.yaml", GOOD)], &[("x.yaml", BROKEN)]).await;
    let run = only_run(&h, &hd);
    assert_eq!(run.conclusion.as_deref(), Some("neutral"));
    assert!(run.title.unwrap().contains("Not a deployment repository"));
    // The org default was looked up in the owner's .github repository.
    assert_eq!(
        h.fake.calls(
            &Method::GET,
            "/repos/acme/.github/contents/gitops-guard.yml"
        ),
        1
    );
}

#[tokio::test]
async fn org_default_config_makes_it_a_deployment_repo() {
    let h = Harness::start().await;
    h.fake
        .commit("acme/.github", &[("gitops-guard.yml", "version: 1\n")]);
    let (_, hd) = open_and_deliver(&h, &[("x.yaml", GOOD)], &[("x.yaml", BROKEN)]).await;
    let run = only_run(&h, &hd);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert!(
        run.summary
            .unwrap()
            .contains("acme/.github/gitops-guard.yml")
    );
}

#[tokio::test]
async fn config_error_fails_with_the_reason() {
    let h = Harness::start().await;
    let bad = "version: 1\nreviews:\n  required_aprovals: 1\n";
    let (_, hd) = open_and_deliver(&h, &[(CONFIG, bad)], &[(CONFIG, bad), ("a.yaml", GOOD)]).await;
    let run = only_run(&h, &hd);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert!(run.title.unwrap().contains("Configuration error"));
    let summary = run.summary.unwrap();
    assert!(summary.contains("required_aprovals"), "{summary}");
}

#[tokio::test]
async fn transient_5xx_is_retried_and_the_result_is_correct() {
    let h = Harness::start().await;
    h.fake
        .fail(Some(Method::GET), "/pulls/7/files", 2, 502, &[]);
    h.fake.fail(
        Some(Method::GET),
        "/git/blobs/",
        1,
        503,
        &[("retry-after", "0")],
    );
    let (_, hd) = open_and_deliver(
        &h,
        &[(CONFIG, "version: 1\n")],
        &[(CONFIG, "version: 1\n"), ("apps/broken.yaml", BROKEN)],
    )
    .await;
    let run = only_run(&h, &hd);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert_eq!(
        held_annotations(&run),
        expected_annotations(&[("apps/broken.yaml", BROKEN)])
    );
    assert_eq!(h.fake.calls(&Method::GET, "/pulls/7/files"), 3);
}

#[tokio::test]
async fn secondary_rate_limits_are_retried() {
    let h = Harness::start().await;
    h.fake.fail(
        Some(Method::GET),
        "/pulls/7/files",
        1,
        429,
        &[("retry-after", "1")],
    );
    h.fake.fail(
        Some(Method::GET),
        "/git/trees/",
        1,
        403,
        &[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "0")],
    );
    let started = std::time::Instant::now();
    let (_, hd) = open_and_deliver(
        &h,
        &[(CONFIG, "version: 1\n")],
        &[(CONFIG, "version: 1\n"), ("apps/good.yaml", GOOD)],
    )
    .await;
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "retry-after honoured"
    );
    assert_eq!(only_run(&h, &hd).conclusion.as_deref(), Some("success"));
    assert_eq!(h.fake.calls(&Method::GET, "/pulls/7/files"), 2);
}

#[tokio::test]
async fn persistent_failures_never_conclude_success() {
    // Persistent 5xx on a gather step: the run concludes failure with the reason.
    let h = Harness::start().await;
    h.fake
        .fail(Some(Method::GET), "/pulls/7/files", usize::MAX, 500, &[]);
    let (_, hd) = open_and_deliver(
        &h,
        &[(CONFIG, "version: 1\n")],
        &[(CONFIG, "version: 1\n"), ("apps/good.yaml", GOOD)],
    )
    .await;
    let run = only_run(&h, &hd);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert!(run.title.unwrap().contains("Cannot evaluate"));
    assert_eq!(
        h.fake.calls(&Method::GET, "/pulls/7/files"),
        4,
        "bounded attempts"
    );

    // A primary rate limit that outlasts our patience: failure names it.
    let h = Harness::start().await;
    let reset = (chrono::Utc::now().timestamp() + 3600).to_string();
    h.fake.fail(
        Some(Method::GET),
        "/git/trees/",
        usize::MAX,
        403,
        &[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", &reset),
        ],
    );
    let (_, hd) = open_and_deliver(
        &h,
        &[(CONFIG, "version: 1\n")],
        &[(CONFIG, "version: 1\n"), ("apps/good.yaml", GOOD)],
    )
    .await;
    let run = only_run(&h, &hd);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert!(run.summary.unwrap().contains("rate limit"));
    assert_eq!(
        h.fake.calls(&Method::GET, "/git/trees/"),
        1,
        "an hour-long wait is not slept"
    );

    // Every write refused too: the run stays in progress — never success.
    let h = Harness::start().await;
    h.fake.fail(
        Some(Method::PATCH),
        "/check-runs/",
        usize::MAX,
        429,
        &[("retry-after", "3600")],
    );
    let (_, hd) = open_and_deliver(
        &h,
        &[(CONFIG, "version: 1\n")],
        &[(CONFIG, "version: 1\n"), ("apps/good.yaml", GOOD)],
    )
    .await;
    let run = only_run(&h, &hd);
    assert_eq!(run.status, "in_progress");
    assert_ne!(run.conclusion.as_deref(), Some("success"));
}

#[tokio::test]
async fn rerequest_updates_the_same_run_without_duplicating_annotations() {
    let h = Harness::start().await;
    let (b, hd) = open_and_deliver(
        &h,
        &[(CONFIG, "version: 1\n")],
        &[(CONFIG, "version: 1\n"), ("apps/broken.yaml", BROKEN)],
    )
    .await;
    let first = only_run(&h, &hd);
    assert_eq!(first.annotations.len(), 1);
    let s = h
        .deliver(
            "check_run",
            &delivery_id(),
            &check_run_rerequested(REPO, 7, &b, &hd),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    h.settle().await;
    let again = only_run(&h, &hd);
    assert_eq!(again.id, first.id, "the run for this SHA is reused");
    assert_eq!(again.conclusion.as_deref(), Some("failure"));
    assert_eq!(again.annotations.len(), 1, "annotations are not duplicated");
    assert!(again.patches > first.patches, "re-evaluated on request");
}

#[tokio::test]
async fn same_push_via_check_suite_is_not_evaluated_twice() {
    let h = Harness::start().await;
    let (b, hd) = open_and_deliver(
        &h,
        &[(CONFIG, "version: 1\n")],
        &[(CONFIG, "version: 1\n"), ("apps/good.yaml", GOOD)],
    )
    .await;
    let before = h.fake.total_calls();
    let s = h
        .deliver(
            "check_suite",
            &delivery_id(),
            &check_suite_event("requested", REPO, 7, &b, &hd),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    h.settle().await;
    // Only: list the open PRs sharing the head, read the PR, find the
    // completed run of each gate (manifests, reviews, signatures), and the
    // reviews gate's reviews, files and commits (its verdict also reads
    // permission answers, so it is re-evaluated; the write is skipped).
    assert_eq!(h.fake.total_calls() - before, 8, "{:#?}", h.fake.call_log());
    assert_eq!(only_run(&h, &hd).patches, 1);
    // A rerequested suite is re-evaluated.
    h.deliver(
        "check_suite",
        &delivery_id(),
        &check_suite_event("rerequested", REPO, 7, &b, &hd),
    )
    .await;
    h.settle().await;
    assert_eq!(only_run(&h, &hd).patches, 3);
}

#[tokio::test]
async fn installation_token_is_cached_and_any_format_works() {
    let h = Harness::start().await;
    let (b, hd) = open_and_deliver(
        &h,
        &[(CONFIG, "version: 1\n")],
        &[(CONFIG, "version: 1\n"), ("apps/good.yaml", GOOD)],
    )
    .await;
    h.deliver(
        "pull_request",
        &delivery_id(),
        &pr_event("synchronize", REPO, 7, &b, &hd),
    )
    .await;
    h.deliver(
        "check_run",
        &delivery_id(),
        &check_run_rerequested(REPO, 7, &b, &hd),
    )
    .await;
    h.settle().await;
    assert_eq!(
        h.fake.st().tokens_issued,
        1,
        "one token exchange for all deliveries"
    );
    // A revoked token is replaced once and the work still completes.
    h.fake.st().tokens.clear();
    h.deliver(
        "check_run",
        &delivery_id(),
        &check_run_rerequested(REPO, 7, &b, &hd),
    )
    .await;
    h.settle().await;
    assert_eq!(h.fake.st().tokens_issued, 2);
    assert_eq!(only_run(&h, &hd).conclusion.as_deref(), Some("success"));
}

#[tokio::test]
async fn enterprise_server_api_prefix_is_honoured() {
    let h = Harness::start_with(|s| s.api_url = format!("{}/api/v3", s.api_url)).await;
    let (_, hd) = open_and_deliver(
        &h,
        &[(CONFIG, "version: 1\n")],
        &[(CONFIG, "version: 1\n"), ("apps/broken.yaml", BROKEN)],
    )
    .await;
    assert_eq!(only_run(&h, &hd).conclusion.as_deref(), Some("failure"));
}

#[tokio::test]
async fn many_changed_files_are_paginated() {
    let h = Harness::start().await;
    let mut head: Vec<(String, String)> = vec![(CONFIG.into(), "version: 1\n".into())];
    for i in 0..230 {
        head.push((format!("docs/{i:03}.md"), format!("doc {i}")));
    }
    head.push(("zz/broken.yaml".into(), BROKEN.into()));
    let head_ref: Vec<(&str, &str)> = head.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let (_, hd) = open_and_deliver(&h, &[(CONFIG, "version: 1\n")], &head_ref).await;
    let run = only_run(&h, &hd);
    // The broken manifest is on the third page of files.
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert_eq!(h.fake.calls(&Method::GET, "/pulls/7/files"), 3);
    // Non-manifest files are never downloaded.
    // The config and the one manifest: nothing else.
    assert_eq!(
        h.fake.calls(&Method::GET, "/git/blobs/"),
        2,
        "{:#?}",
        h.fake.call_log()
    );
}

/// A `merge_group.checks_requested` delivery (GitHub's documented payload:
/// no upstream example ships with the vendored fixtures).
fn merge_group_event(head_ref: &str, base: &str, head: &str) -> Vec<u8> {
    let (owner, name) = REPO.split_once('/').unwrap();
    serde_json::to_vec(&json!({
        "action": "checks_requested",
        "merge_group": {
            "head_sha": head,
            "head_ref": head_ref,
            "base_sha": base,
            "base_ref": "refs/heads/main",
            "head_commit": {"id": head, "tree_id": head, "message": "Merge pull request #7"}
        },
        "repository": {"id": 1, "name": name, "full_name": REPO, "owner": {"login": owner, "id": 2}},
        "installation": {"id": INSTALLATION, "node_id": "x"},
        "sender": {"login": "octocat", "id": 3}
    }))
    .unwrap()
}

#[tokio::test]
async fn merge_group_gets_all_three_runs_on_its_head() {
    // A merge queue waits for the required checks on the group's head
    // commit: the merged result is judged base → head.
    let h = Harness::start().await;
    let base_files = [(CONFIG, "version: 1\n"), ("apps/good.yaml", GOOD)];
    let pr_head = [
        (CONFIG, "version: 1\n"),
        ("apps/good.yaml", GOOD),
        ("apps/new.yaml", GOOD),
    ];
    let (b, pr_hd) = open_and_deliver(&h, &base_files, &pr_head).await;
    // The attack: what the queue merges carries a broken manifest (another
    // queued change, or a bad merge) that the PR itself did not show.
    let group_head = h.fake.commit(
        REPO,
        &[
            (CONFIG, "version: 1\n"),
            ("apps/good.yaml", GOOD),
            ("apps/new.yaml", GOOD),
            ("apps/broken.yaml", BROKEN),
        ],
    );
    let head_ref = format!("refs/heads/gh-readonly-queue/main/pr-7-{pr_hd}");
    let s = h
        .deliver(
            "merge_group",
            &delivery_id(),
            &merge_group_event(&head_ref, &b, &group_head),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    h.settle().await;
    let run = only_run(&h, &group_head);
    assert_eq!(run.status, "completed");
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert_eq!(
        held_annotations(&run),
        expected_annotations(&[("apps/broken.yaml", BROKEN)])
    );
    for name in ["gitops-guard/reviews", "gitops-guard/signatures"] {
        let runs = h.fake.runs(&group_head, name);
        assert_eq!(runs.len(), 1, "{name}: {:#?}", h.fake.call_log());
        assert_eq!(runs[0].status, "completed", "{name}");
        let title = runs[0].title.clone().unwrap_or_default();
        assert!(
            title.starts_with("PR #7: "),
            "{name} judges the queued PR: {title}"
        );
        // The PR's own runs (on its head) hold the same verdict.
        let own = h.fake.runs(&pr_hd, name);
        assert_eq!(own.len(), 1, "{name}");
        assert_eq!(runs[0].conclusion, own[0].conclusion, "{name}");
    }

    // The legitimate twin: a clean merged result passes the manifests gate.
    let clean_head = h.fake.commit(
        REPO,
        &[
            (CONFIG, "version: 1\n"),
            ("apps/good.yaml", GOOD),
            ("apps/new.yaml", GOOD),
            ("apps/other.yaml", GOOD),
        ],
    );
    let s = h
        .deliver(
            "merge_group",
            &delivery_id(),
            &merge_group_event(&head_ref, &b, &clean_head),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    h.settle().await;
    let run = only_run(&h, &clean_head);
    assert_eq!(run.conclusion.as_deref(), Some("success"));
    assert!(run.annotations.is_empty());
}

#[tokio::test]
async fn merge_group_naming_no_pull_request_fails_closed() {
    let h = Harness::start().await;
    let b = h.fake.commit(REPO, &[(CONFIG, "version: 1\n")]);
    let hd = h
        .fake
        .commit(REPO, &[(CONFIG, "version: 1\n"), ("apps/good.yaml", GOOD)]);
    let s = h
        .deliver(
            "merge_group",
            &delivery_id(),
            &merge_group_event("refs/heads/some-other-branch", &b, &hd),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    h.settle().await;
    // The change itself is still judged (and clean)…
    assert_eq!(only_run(&h, &hd).conclusion.as_deref(), Some("success"));
    // …but reviews and signatures cannot be attributed: never success.
    for name in ["gitops-guard/reviews", "gitops-guard/signatures"] {
        let runs = h.fake.runs(&hd, name);
        assert_eq!(runs.len(), 1, "{name}");
        assert_eq!(runs[0].conclusion.as_deref(), Some("failure"), "{name}");
        let summary = runs[0].summary.clone().unwrap_or_default();
        assert!(
            summary.contains("does not name a pull request"),
            "{name}: {summary}"
        );
    }
}
