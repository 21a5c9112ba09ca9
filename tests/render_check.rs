//! `check` judges what the cluster receives: every kustomization root is
//! rendered natively and its output objects are judged, each finding on
//! the line that introduced the offending value and naming its root.
//!
//! Each evasion of issue 15 is a repository under
//! `tests/data/render_check/<case>/bad` (exit 1, the finding on the patch
//! or `images` line, the root named) with a clean twin in `good` (exit 0).
//! Change mode (`check --base`) re-renders the roots a change feeds, and
//! so does the App's manifests run on a pull request (against the fake
//! GitHub): its annotations land on the patch line.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_gitops-guard");
const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/render_check");

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run gitops-guard")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// A copy of a data case in a fresh temporary directory (outside any Git
/// work tree, so the case is its own repository root).
fn case(name: &str) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    copy_dir(&Path::new(DATA).join(name), t.path());
    t
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

/// 1-based line of the first line of `rel` containing `needle`.
fn line_of(root: &Path, rel: &str, needle: &str) -> u64 {
    let text = fs::read_to_string(root.join(rel)).unwrap();
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in {rel}")) as u64
        + 1
}

fn errors(v: &Value) -> Vec<&Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .collect()
}

/// Checks a violating repository: exit 1 and an error of `rule` at
/// `file:line` whose root is `root`.
fn assert_caught(dir: &Path, args: &[&str], rule: &str, file: &str, line: u64, root: &str) {
    let o = run(dir, args);
    let v = json(&o);
    assert_eq!(code(&o), 1, "{v:#}");
    let hit = errors(&v)
        .into_iter()
        .any(|f| f["rule"] == rule && f["file"] == file && f["line"] == line && f["root"] == root);
    assert!(
        hit,
        "no {rule} at {file}:{line} rendered from {root}: {v:#}"
    );
}

/// Checks a clean repository: exit 0 and no error.
fn assert_clean(dir: &Path, args: &[&str]) -> Value {
    let o = run(dir, args);
    let v = json(&o);
    assert!(errors(&v).is_empty(), "{v:#}");
    assert_eq!(code(&o), 0, "{v:#}");
    v
}

fn check_case(name: &str, rule: &str, file: &str, needle: &str, root: &str) {
    let bad = case(&format!("{name}/bad"));
    let line = line_of(bad.path(), file, needle);
    assert_caught(
        bad.path(),
        &["check", "--format", "json", "."],
        rule,
        file,
        line,
        root,
    );
    let good = case(&format!("{name}/good"));
    assert_clean(good.path(), &["check", "--format", "json", "."]);
}

#[test]
fn inline_json6902_patch_adding_privileged() {
    check_case(
        "json6902-privileged",
        "privileged",
        "overlay/kustomization.yaml",
        "privileged: true",
        "overlay/kustomization.yaml",
    );
}

#[test]
fn inline_strategic_merge_patch_adding_host_network() {
    check_case(
        "smp-hostnetwork",
        "host-namespaces",
        "overlay/kustomization.yaml",
        "hostNetwork: true",
        "overlay/kustomization.yaml",
    );
}

#[test]
fn a_patch_file_is_build_input_not_an_object() {
    // The twin patches by file: a container without an image, which
    // judged on its own is an error ("image is not set").
    let good = case("smp-hostnetwork/good");
    let v = assert_clean(good.path(), &["check", "--format", "json", "."]);
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["file"] != "overlay/patches/replicas.yaml"),
        "{v:#}"
    );
    // The same file outside any kustomization is judged as an object.
    let t = tempfile::tempdir().unwrap();
    let patch = fs::read_to_string(good.path().join("overlay/patches/replicas.yaml")).unwrap();
    write(t.path(), "loose/replicas.yaml", &patch);
    let o = run(t.path(), &["check", "--format", "json", "."]);
    let v = json(&o);
    assert_eq!(code(&o), 1, "{v:#}");
    assert!(
        errors(&v)
            .iter()
            .any(|f| f["rule"] == "image-tag" && f["file"] == "loose/replicas.yaml"),
        "{v:#}"
    );
}

#[test]
fn json_patch_file_is_not_an_invalid_manifest() {
    let t = case("json6902-privileged/good");
    write(
        t.path(),
        "overlay/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: team-a\nresources:\n  - ../base\npatches:\n  - target:\n      kind: Deployment\n    path: ops.yaml\n",
    );
    write(
        t.path(),
        "overlay/ops.yaml",
        "- op: replace\n  path: /spec/replicas\n  value: 2\n",
    );
    assert_clean(t.path(), &["check", "--format", "json", "."]);
    // The same operations adding privileged are caught on the file's line.
    write(
        t.path(),
        "overlay/ops.yaml",
        "- op: add\n  path: /spec/template/spec/containers/0/securityContext\n  value:\n    privileged: true\n",
    );
    assert_caught(
        t.path(),
        &["check", "--format", "json", "."],
        "privileged",
        "overlay/ops.yaml",
        4,
        "overlay/kustomization.yaml",
    );
}

#[test]
fn patch_targeted_by_label_selector() {
    check_case(
        "label-selector",
        "host-namespaces",
        "overlay/kustomization.yaml",
        "hostPID: true",
        "overlay/kustomization.yaml",
    );
}

#[test]
fn component_patching_every_deployment() {
    check_case(
        "component",
        "privileged",
        "components/everywhere/kustomization.yaml",
        "privileged: true",
        "overlay/kustomization.yaml",
    );
}

#[test]
fn overlay_of_an_overlay() {
    check_case(
        "overlay-of-overlay",
        "privileged",
        "top/kustomization.yaml",
        "privileged: true",
        "top/kustomization.yaml",
    );
}

#[test]
fn an_overlay_that_fixes_its_base_is_clean() {
    // The twin's base is privileged; the only root (top) patches it to
    // false. The base is not a root, so it is not reported.
    let good = case("overlay-of-overlay/good");
    assert!(
        fs::read_to_string(good.path().join("base/deploy.yaml"))
            .unwrap()
            .contains("privileged: true")
    );
    let v = assert_clean(good.path(), &["check", "--format", "json", "."]);
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["file"] != "base/deploy.yaml" || f["root"] == "top/kustomization.yaml"),
        "{v:#}"
    );
    // The same base checked as a root of its own is an error.
    fs::remove_dir_all(good.path().join("mid")).unwrap();
    fs::remove_dir_all(good.path().join("top")).unwrap();
    let line = line_of(good.path(), "base/deploy.yaml", "privileged: true");
    assert_caught(
        good.path(),
        &["check", "--format", "json", "."],
        "privileged",
        "base/deploy.yaml",
        line,
        "base/kustomization.yaml",
    );
}

#[test]
fn images_override_to_latest() {
    // The finding lands on the `images` entry, not the base's `image:`.
    let bad = case("images-latest/bad");
    let line = line_of(
        bad.path(),
        "overlay/kustomization.yaml",
        "- name: ghcr.io/acme/web",
    );
    assert_caught(
        bad.path(),
        &["check", "--format", "json", "."],
        "image-tag",
        "overlay/kustomization.yaml",
        line,
        "overlay/kustomization.yaml",
    );
    assert_clean(
        case("images-latest/good").path(),
        &["check", "--format", "json", "."],
    );
}

#[test]
fn namespace_override_moving_a_tenant_into_kube_system() {
    // The tenant overlay pulls a platform base: its objects are the
    // tenant's (binding of the root), and the namespace is the overlay's.
    check_case(
        "namespace-kube-system",
        "tenant-namespace",
        "tenants/team-a/overlay/kustomization.yaml",
        "namespace: kube-system",
        "tenants/team-a/overlay/kustomization.yaml",
    );
}

#[test]
fn reporters_name_the_root() {
    let bad = case("json6902-privileged/bad");
    let o = run(bad.path(), &["check", "."]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with("  overlay/kustomization.yaml:")
                && l.contains("privileged [error]")
                && l.ends_with("[rendered from overlay/kustomization.yaml]")),
        "{text}"
    );
    let o = run(bad.path(), &["check", "--format", "sarif", "."]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert!(
        results.iter().any(|r| r["ruleId"] == "privileged"
            && r["properties"]["root"] == "overlay/kustomization.yaml"
            && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                == "overlay/kustomization.yaml"),
        "{v:#}"
    );
    // A raw file's finding has no root, in JSON too.
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        "pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: a\nspec:\n  hostNetwork: true\n  containers:\n    - name: c\n      image: ghcr.io/acme/web:1.0.0\n",
    );
    let v = json(&run(t.path(), &["check", "--format", "json", "."]));
    let f = &v["findings"].as_array().unwrap()[0];
    assert!(f.get("root").is_none(), "{v:#}");
}

#[test]
fn an_unrenderable_root_is_an_error_not_a_pass() {
    let bad = case("unrenderable/bad");
    let o = run(bad.path(), &["check", "--format", "json", "."]);
    let v = json(&o);
    assert_eq!(code(&o), 1, "{v:#}");
    let line = line_of(bad.path(), "overlay/kustomization.yaml", "https://");
    assert!(
        errors(&v).iter().any(|f| f["rule"] == "unrendered-template"
            && f["file"] == "overlay/kustomization.yaml"
            && f["line"] == line),
        "{v:#}"
    );
    assert_clean(
        case("unrenderable/good").path(),
        &["check", "--format", "json", "."],
    );
    // A feature the renderer refuses: the root's own error, naming it.
    let t = case("unrenderable/good");
    let k = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../base\nreplacements:\n  - path: r.yaml\n";
    write(t.path(), "overlay/kustomization.yaml", k);
    let o = run(t.path(), &["check", "--format", "json", "."]);
    let v = json(&o);
    assert_eq!(code(&o), 1, "{v:#}");
    assert!(
        errors(&v).iter().any(|f| f["rule"] == "unrendered-template"
            && f["file"] == "overlay/kustomization.yaml"
            && f["line"] == 5
            && f["root"] == "overlay/kustomization.yaml"),
        "{v:#}"
    );
    // A root that does not build (a missing base) is invalid, and the rest
    // of the tree is still judged.
    let t = case("unrenderable/good");
    write(
        t.path(),
        "overlay/kustomization.yaml",
        "resources:\n  - ../missing\n",
    );
    write(
        t.path(),
        "loose/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: a\nspec:\n  hostPID: true\n  containers:\n    - name: c\n      image: ghcr.io/acme/web:1.0.0\n",
    );
    let v = json(&run(t.path(), &["check", "--format", "json", "."]));
    let rules: Vec<(&str, &str)> = errors(&v)
        .iter()
        .map(|f| (f["rule"].as_str().unwrap(), f["file"].as_str().unwrap()))
        .collect();
    assert!(
        rules.contains(&("invalid-manifest", "overlay/kustomization.yaml"))
            && rules.contains(&("host-namespaces", "loose/pod.yaml")),
        "{v:#}"
    );
}

// ---- change mode ----

fn git(dir: &Path, args: &[&str]) {
    let st = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("run git (install it: apt-get install git)");
    assert!(
        st.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&st.stderr)
    );
}

/// The change-mode starting point, committed.
fn committed() -> tempfile::TempDir {
    let t = case("change/base");
    git(t.path(), &["init", "-q", "-b", "main"]);
    git(t.path(), &["add", "-A"]);
    git(t.path(), &["commit", "-q", "-m", "base"]);
    t
}

const OVERLAY: &str = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: team-a\nresources:\n  - ../base\n";

#[test]
fn change_mode_reports_an_overlay_edit_adding_privileged() {
    let t = committed();
    assert_clean(
        t.path(),
        &["check", "--format", "json", "--base", "HEAD", "."],
    );
    let bad = format!(
        "{OVERLAY}patches:\n  - target:\n      kind: Deployment\n    patch: |-\n      - op: add\n        path: /spec/template/spec/containers/0/securityContext\n        value:\n          privileged: true\n"
    );
    write(t.path(), "overlay/kustomization.yaml", &bad);
    assert_caught(
        t.path(),
        &["check", "--format", "json", "--base", "HEAD", "."],
        "privileged",
        "overlay/kustomization.yaml",
        13,
        "overlay/kustomization.yaml",
    );
    // A benign edit to the same overlay passes.
    let good = format!(
        "{OVERLAY}patches:\n  - target:\n      kind: Deployment\n    patch: |-\n      - op: replace\n        path: /spec/replicas\n        value: 2\n"
    );
    write(t.path(), "overlay/kustomization.yaml", &good);
    assert_clean(
        t.path(),
        &["check", "--format", "json", "--base", "HEAD", "."],
    );
}

#[test]
fn change_mode_reports_a_base_edit_through_its_root() {
    // Only the base changes; the overlay (the root) renders it as team-a.
    let t = committed();
    let deploy = fs::read_to_string(t.path().join("base/deploy.yaml")).unwrap();
    write(
        t.path(),
        "base/deploy.yaml",
        &deploy.replace(
            "    spec:\n      containers:",
            "    spec:\n      hostIPC: true\n      containers:",
        ),
    );
    let line = line_of(t.path(), "base/deploy.yaml", "hostIPC: true");
    assert_caught(
        t.path(),
        &["check", "--format", "json", "--base", "HEAD", "."],
        "host-namespaces",
        "base/deploy.yaml",
        line,
        "overlay/kustomization.yaml",
    );
}

#[test]
fn change_mode_reports_an_object_leaving_a_roots_output_as_a_deletion() {
    // The file stays; the kustomization stops listing it. The Namespace
    // leaves the render, so the cluster deletes it.
    let t = committed();
    write(
        t.path(),
        "base/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - deploy.yaml\n",
    );
    assert_caught(
        t.path(),
        &["check", "--format", "json", "--base", "HEAD", "."],
        "critical-deletion",
        "base/namespace.yaml",
        1,
        "overlay/kustomization.yaml",
    );
    // Moving it to another file the build still lists is no deletion.
    let t = committed();
    fs::rename(
        t.path().join("base/namespace.yaml"),
        t.path().join("base/ns.yaml"),
    )
    .unwrap();
    write(
        t.path(),
        "base/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ns.yaml\n  - deploy.yaml\n",
    );
    let v = assert_clean(
        t.path(),
        &["check", "--format", "json", "--base", "HEAD", "."],
    );
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["rule"] != "critical-deletion"),
        "{v:#}"
    );
}

// ---- the App: a pull request ----

/// The change-mode starting point as (path, text) pairs, with a config.
fn app_files(overlay: &str) -> Vec<(String, String)> {
    let root = Path::new(DATA).join("change/base");
    let mut out = vec![(
        ".github/gitops-guard.yml".to_owned(),
        "version: 1\n".to_owned(),
    )];
    for rel in [
        "base/kustomization.yaml",
        "base/deploy.yaml",
        "base/namespace.yaml",
    ] {
        out.push((rel.to_owned(), fs::read_to_string(root.join(rel)).unwrap()));
    }
    out.push(("overlay/kustomization.yaml".to_owned(), overlay.to_owned()));
    out
}

async fn app_run(
    base: &[(String, String)],
    head: &[(String, String)],
) -> common::fake_github::FakeCheckRun {
    let h = common::Harness::start().await;
    let pairs = |v: &[(String, String)]| -> Vec<(String, String)> { v.to_vec() };
    let b: Vec<(String, String)> = pairs(base);
    let hd: Vec<(String, String)> = pairs(head);
    let b: Vec<(&str, &str)> = b.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    let hd: Vec<(&str, &str)> = hd.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    let bs = h.fake.commit(common::REPO, &b);
    let hs = h.fake.commit(common::REPO, &hd);
    h.fake.open_pr(common::REPO, 7, &bs, &hs);
    let st = h
        .deliver(
            "pull_request",
            &common::delivery_id(),
            &common::pr_event("opened", common::REPO, 7, &bs, &hs),
        )
        .await;
    assert_eq!(st, axum::http::StatusCode::ACCEPTED);
    h.settle().await;
    let runs = h.fake.runs(&hs, "gitops-guard/manifests");
    assert_eq!(runs.len(), 1, "{:#?}", h.fake.call_log());
    runs.into_iter().next().unwrap()
}

#[tokio::test]
async fn app_annotates_the_patch_line_of_an_overlay_edit() {
    let base = app_files(OVERLAY);
    let bad = format!(
        "{OVERLAY}patches:\n  - target:\n      kind: Deployment\n    patch: |-\n      - op: add\n        path: /spec/template/spec/containers/0/securityContext\n        value:\n          privileged: true\n"
    );
    let run = app_run(&base, &app_files(&bad)).await;
    assert_eq!(
        run.conclusion.as_deref(),
        Some("failure"),
        "{:#?}",
        run.annotations
    );
    assert!(
        run.annotations.iter().any(|a| a["title"] == "privileged"
            && a["path"] == "overlay/kustomization.yaml"
            && a["start_line"] == 13
            && a["message"]
                .as_str()
                .is_some_and(|m| m.ends_with("(rendered from overlay/kustomization.yaml)"))),
        "{:#?}",
        run.annotations
    );
    // The clean twin: a benign overlay edit.
    let good = format!(
        "{OVERLAY}patches:\n  - target:\n      kind: Deployment\n    patch: |-\n      - op: replace\n        path: /spec/replicas\n        value: 2\n"
    );
    let run = app_run(&base, &app_files(&good)).await;
    assert_eq!(
        run.conclusion.as_deref(),
        Some("success"),
        "{:#?}",
        run.annotations
    );
}

#[tokio::test]
async fn app_reports_an_object_leaving_a_roots_output_as_a_deletion() {
    let base = app_files(OVERLAY);
    let mut head = base.clone();
    head[1].1 = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - deploy.yaml\n".to_owned();
    let run = app_run(&base, &head).await;
    assert_eq!(
        run.conclusion.as_deref(),
        Some("failure"),
        "{:#?}",
        run.annotations
    );
    assert!(
        run.annotations
            .iter()
            .any(|a| a["title"] == "critical-deletion"
                && a["path"] == "base/namespace.yaml"
                && a["start_line"] == 1),
        "{:#?}",
        run.annotations
    );
}
