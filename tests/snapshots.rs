//! Snapshot tests (insta) of everything a user reads: the `check` reports
//! (text, JSON, SARIF) on the bundled sample, the title/summary/text of each
//! gate's check run on a PR, and the alert issues a bypassing push opens.
//! A change in wording, order or escaping shows up as a snapshot diff in
//! review (`tests/snapshots/`); accept it deliberately with
//! `INSTA_UPDATE=always` or `cargo insta review`.
//!
//! Commit SHAs are content hashes in the fake GitHub, so they are stable,
//! but they are still redacted: a snapshot should change when what users
//! read changes, not when a fixture's bytes do.

mod common;

use std::path::Path;
use std::process::Command;

use axum::http::StatusCode;
use common::fake_alerts::Who;
use common::fake_alerts::scenario::*;
use common::*;

/// Filters shared by every snapshot: SHAs, delivery ids, versions, times.
fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(r"\b[0-9a-f]{40}\b", "[sha]");
    s.add_filter(r"\b[0-9a-f]{7,12}\b", "[short-sha]");
    s.add_filter(
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
        "[time]",
    );
    s.add_filter(&regex_lite_escape(env!("CARGO_PKG_VERSION")), "[version]");
    s.set_prepend_module_to_snapshot(false);
    s
}

/// The package version as a literal regex.
fn regex_lite_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_ascii_alphanumeric() {
                vec![c]
            } else {
                vec!['\\', c]
            }
        })
        .collect()
}

/// `gitops-guard check --format FORMAT rules/sample-repo`, run from the
/// repository root as the README's first command is.
fn check_sample(format: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_gitops-guard"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .args(["check", "--format", format, "rules/sample-repo"])
        .env("NO_COLOR", "1")
        .output()
        .expect("run gitops-guard");
    assert_eq!(
        out.status.code(),
        Some(1),
        "the sample holds violations: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 report")
}

#[test]
fn check_text_report_of_the_sample() {
    settings().bind(|| insta::assert_snapshot!("check_text", check_sample("text")));
}

#[test]
fn check_json_report_of_the_sample() {
    settings().bind(|| insta::assert_snapshot!("check_json", check_sample("json")));
}

#[test]
fn check_sarif_report_of_the_sample() {
    settings().bind(|| insta::assert_snapshot!("check_sarif", check_sample("sarif")));
}

const CONFIG_PATH: &str = ".github/gitops-guard.yml";
const CODEOWNERS: &str = ".github/CODEOWNERS";
const PR_CONFIG: &str = "version: 1\nadmission:\n  level: baseline\n";
const OWNERS: &str = "* @acme/platform\napps/ @alice\n";
const PRIVILEGED: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: debug\n  namespace: apps\nspec:\n  containers:\n    - name: sh\n      image: registry.example.com/tools/sh:1.0\n      securityContext:\n        privileged: true\n";
const CM: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: apps\ndata:\n  k: v\n";

/// One check run as a user reads it on the PR's Checks tab.
fn rendered_run(h: &Harness, head: &str, name: &str) -> String {
    let runs = h.fake.runs(head, name);
    let run = runs
        .last()
        .unwrap_or_else(|| panic!("no {name} run: {:#?}", h.fake.call_log()));
    let mut out = format!(
        "name: {}\nstatus: {}\nconclusion: {}\ntitle: {}\n\n--- summary\n{}\n",
        run.name,
        run.status,
        run.conclusion.as_deref().unwrap_or("-"),
        run.title.as_deref().unwrap_or("-"),
        run.summary.as_deref().unwrap_or(""),
    );
    if let Some(text) = run.text.as_deref().filter(|t| !t.is_empty()) {
        out.push_str(&format!("\n--- text\n{text}\n"));
    }
    for a in &run.annotations {
        out.push_str(&format!(
            "\n--- annotation {}:{} {} {}\n{}\n",
            a["path"].as_str().unwrap_or(""),
            a["start_line"],
            a["annotation_level"].as_str().unwrap_or(""),
            a["title"].as_str().unwrap_or(""),
            a["message"].as_str().unwrap_or(""),
        ));
    }
    out
}

#[tokio::test]
async fn check_runs_of_each_gate_on_a_pr_adding_a_privileged_pod() {
    let h = Harness::start().await;
    let base = h.fake.commit(
        REPO,
        &[
            (CONFIG_PATH, PR_CONFIG),
            (CODEOWNERS, OWNERS),
            ("apps/cm.yaml", CM),
        ],
    );
    let head = h.fake.commit(
        REPO,
        &[
            (CONFIG_PATH, PR_CONFIG),
            (CODEOWNERS, OWNERS),
            ("apps/cm.yaml", CM),
            ("apps/debug.yaml", PRIVILEGED),
        ],
    );
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
    for (snap, name) in [
        ("run_manifests", "gitops-guard/manifests"),
        ("run_reviews", "gitops-guard/reviews"),
        ("run_signatures", "gitops-guard/signatures"),
    ] {
        let text = rendered_run(&h, &head, name);
        settings().bind(|| insta::assert_snapshot!(snap, text));
    }
}

#[tokio::test]
async fn alert_issues_of_a_direct_push_by_an_unknown_author() {
    let h = harness(None).await;
    let c0 = base(&h, BASIC);
    let c1 = h.fake.git_commit(
        REPO,
        &[(CONFIG, BASIC), ("apps/a.yaml", "kind: Evil\n")],
        &[&c0],
        "Update `apps/a.yaml` <b>now</b> *please*",
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
            "Update `apps/a.yaml` <b>now</b> *please*",
            Who::user("Codertocat"),
            Who::nobody("21031067+Codertocat@users.noreply.github.com"),
        )],
    };
    deliver_push_fixture(&h, "push.no-username-committer.json", &spec).await;
    let mut all = issues(&h);
    assert!(!all.is_empty(), "the push raises alerts");
    all.sort_by(|a, b| a.title.cmp(&b.title));
    for i in &all {
        let kind = i
            .title
            .strip_prefix('[')
            .and_then(|t| t.split_once(']'))
            .map(|(k, _)| k.to_owned())
            .unwrap_or_else(|| panic!("alert title names its kind: {}", i.title));
        let text = format!(
            "title: {}\nlabels: {}\n\n{}\n",
            i.title,
            i.labels.join(", "),
            i.body
        );
        settings().bind(|| insta::assert_snapshot!(format!("alert_{kind}"), text));
    }
}
