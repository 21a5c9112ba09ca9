//! End-to-end tests of the `gitops-guard` binary: exit codes, output
//! formats, tree mode and `--base` change mode on real temporary Git
//! repositories. They rely only on `invalid-manifest` (the input rule every
//! engine build has), so they hold whatever other rules are wired in.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_gitops-guard");

/// A valid object no rule objects to (no pod, no RBAC, no secret).
const CONFIGMAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: team-a\ndata:\n  mode: fast\n";
/// Duplicate key `name` on line 5.
const DUPLICATE: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n";
/// A YAML syntax error on line 4 (unclosed flow sequence).
const BROKEN: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [oops\n";

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .output()
        .expect("run gitops-guard")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

/// `(file, line)` of every finding of a rule in JSON output.
fn hits(v: &Value, rule: &str) -> Vec<(String, u64)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn files_with_findings(v: &Value) -> Vec<String> {
    let mut f: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap().to_owned())
        .collect();
    f.dedup();
    f
}

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
        .expect("run git");
    assert!(
        st.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&st.stderr)
    );
}

fn git_repo() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    git(t.path(), &["init", "-q", "-b", "main"]);
    t
}

fn commit_all(dir: &Path, msg: &str) {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", msg]);
}

#[test]
fn clean_tree_exits_0_and_says_where_the_config_came_from() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "apps/settings.yaml", CONFIGMAP);
    write(t.path(), "README.md", "# not a manifest: [unclosed\n");
    fs::write(
        t.path().join("logo.png"),
        [0x89, b'P', b'N', b'G', 0xff, 0x00],
    )
    .unwrap();
    let o = run(t.path(), &["check", "."]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("built-in defaults"), "{out}");
    assert!(out.contains("PASS: 0 errors"), "{out}");
    assert!(
        !out.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
    let v = json(&run(t.path(), &["check", "--format", "json", "."]));
    assert_eq!(v["summary"]["files"], 1, "only the manifest is read");
    assert_eq!(v["summary"]["objects"], 1);
}

#[test]
fn invalid_yaml_exits_1_at_the_right_line_and_other_files_are_still_evaluated() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "a/dup.yaml", DUPLICATE);
    write(t.path(), "b/broken.yaml", BROKEN);
    write(t.path(), "c/ok.yaml", CONFIGMAP);
    write(
        t.path(),
        "d/multi.yaml",
        &format!("{CONFIGMAP}---\n{DUPLICATE}"),
    );
    let o = run(t.path(), &["check", "--format", "json", "."]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let v = json(&o);
    let inv = hits(&v, "invalid-manifest");
    assert!(inv.contains(&("a/dup.yaml".into(), 5)), "{inv:?}");
    assert!(
        inv.iter().any(|(f, l)| f == "b/broken.yaml" && *l >= 4),
        "{inv:?}"
    );
    // The second document of multi.yaml starts on line 9; its duplicate is line 13.
    assert!(inv.contains(&("d/multi.yaml".into(), 13)), "{inv:?}");
    assert!(!files_with_findings(&v).contains(&"c/ok.yaml".to_owned()));
    assert_eq!(v["summary"]["files"], 4);
    assert!(
        v["summary"]["objects"].as_u64().unwrap() >= 2,
        "objects before and after errors count"
    );

    // Text output: grouped by file, `file:line rule`, a fix hint, a summary.
    let o = run(t.path(), &["check", "."]);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    assert!(
        out.contains("\na/dup.yaml\n  a/dup.yaml:5 invalid-manifest [error] "),
        "{out}"
    );
    assert_eq!(
        out.matches("  invalid-manifest: ").count(),
        1,
        "one hint per rule: {out}"
    );
    assert!(out.contains("FAIL: "), "{out}");
}

#[test]
fn bad_config_exits_2_naming_file_and_line() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "apps/settings.yaml", CONFIGMAP);
    write(
        t.path(),
        "repo/.github/gitops-guard.yml",
        "version: 1\nadmission:\n  levle: baseline\n",
    );
    write(t.path(), "repo/apps/settings.yaml", CONFIGMAP);
    let o = run(t.path(), &["check", "repo"]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(err.contains("repo/.github/gitops-guard.yml:3:"), "{err}");
    assert!(err.contains("levle"), "{err}");
    assert!(stdout(&o).is_empty(), "no report on a config error");

    // Wrong type, through --config.
    write(
        t.path(),
        "other.yml",
        "reviews:\n  required_approvals: many\n",
    );
    let o = run(t.path(), &["check", "--config", "other.yml", "apps"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("other.yml:2:"), "{}", stderr(&o));
    // A missing --config file is an I/O error.
    let o = run(t.path(), &["check", "--config", "nope.yml", "apps"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("nope.yml"));
}

#[test]
fn config_under_path_is_used_and_named() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        "repo/.github/gitops-guard.yml",
        "manifests:\n  paths: ['apps/**/*.yaml']\n",
    );
    write(t.path(), "repo/apps/settings.yaml", CONFIGMAP);
    write(t.path(), "repo/scratch/junk.yaml", DUPLICATE);
    let o = run(t.path(), &["check", "--format", "json", "repo"]);
    assert_eq!(
        code(&o),
        0,
        "scratch/ is not a manifest path: {}",
        stdout(&o)
    );
    let v = json(&o);
    assert_eq!(v["summary"]["config"][0], "repo/.github/gitops-guard.yml");
    // Without the config the scratch file is a manifest.
    let o = run(
        t.path(),
        &["check", "--config", "/dev/null", "--format", "json", "repo"],
    );
    assert_eq!(code(&o), 1);
    assert_eq!(
        hits(&json(&o), "invalid-manifest"),
        [("scratch/junk.yaml".to_owned(), 5)]
    );
}

#[test]
fn missing_path_and_usage_errors_exit_2() {
    let t = tempfile::tempdir().unwrap();
    let o = run(t.path(), &["check", "does-not-exist"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("does-not-exist"));
    assert_eq!(code(&run(t.path(), &["check"])), 2);
    assert_eq!(code(&run(t.path(), &["check", "--format", "xml", "."])), 2);
    assert_eq!(
        code(&run(t.path(), &["check", "--repo", "not-a-repo-name", "."])),
        2
    );
    assert_eq!(code(&run(t.path(), &["frobnicate"])), 2);
    assert_eq!(code(&run(t.path(), &["--help"])), 0);
}

#[test]
fn serve_and_check_pr_fail_fast_without_credentials() {
    let t = tempfile::tempdir().unwrap();
    let bare = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .current_dir(t.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .output()
            .expect("run gitops-guard")
    };
    // The App refuses to start without its credentials, naming what is missing.
    let o = bare(&["serve"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("GITHUB_APP_ID"), "{}", stderr(&o));
    // check-pr needs a token and says so before any network access.
    let o = bare(&["check-pr", "acme/deploy#3"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("GITHUB_TOKEN"), "{}", stderr(&o));
    let o = bare(&["check-pr", "acme/deploy"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("OWNER/REPO#N"));
}

#[test]
fn json_has_the_contract_shape() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "x.yaml", DUPLICATE);
    write(
        t.path(),
        "y.json",
        "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"j\"}}",
    );
    let o = run(t.path(), &["check", "--format", "json", "."]);
    assert_eq!(code(&o), 1);
    let v = json(&o);
    let top: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(top, ["findings", "summary"]);
    for f in v["findings"].as_array().unwrap() {
        let keys: Vec<&str> = f.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "rule",
                "severity",
                "file",
                "line",
                "kind",
                "name",
                "namespace",
                "message"
            ]
        );
        assert!(["error", "warning", "notice"].contains(&f["severity"].as_str().unwrap()));
        assert!(f["line"].as_u64().unwrap() >= 1);
    }
    let s = &v["summary"];
    let n = v["findings"].as_array().unwrap().len() as u64;
    assert_eq!(s["findings"], n);
    let by_sev: u64 = ["error", "warning", "notice"]
        .iter()
        .map(|k| s["by_severity"][k].as_u64().unwrap())
        .sum();
    assert_eq!(by_sev, n);
    let by_rule: u64 = s["by_rule"]
        .as_object()
        .unwrap()
        .values()
        .map(|c| c.as_u64().unwrap())
        .sum();
    assert_eq!(by_rule, n);
    assert_eq!(s["exit_status"], 1);
    assert_eq!(s["files"], 2);
}

#[test]
fn sarif_output_is_well_formed() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "dir with space/x.yaml", DUPLICATE);
    let o = run(t.path(), &["check", "--format", "sarif", "."]);
    assert_eq!(code(&o), 1);
    let v = json(&o);
    assert_eq!(v["version"], "2.1.0");
    let run0 = &v["runs"][0];
    assert_eq!(run0["tool"]["driver"]["name"], "gitops-guard");
    let r = &run0["results"][0];
    assert_eq!(r["ruleId"], "invalid-manifest");
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "dir%20with%20space/x.yaml");
    assert_eq!(loc["region"]["startLine"], 5);
}

#[test]
fn symlinks_leaving_the_tree_are_reported_not_followed() {
    if cfg!(not(unix)) {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "evil.yaml", DUPLICATE);
    write(t.path(), "repo/apps/settings.yaml", CONFIGMAP);
    write(t.path(), "repo/apps/real.yaml", CONFIGMAP);
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(
            outside.path().join("evil.yaml"),
            t.path().join("repo/apps/link.yaml"),
        )
        .unwrap();
        std::os::unix::fs::symlink("real.yaml", t.path().join("repo/apps/inside.yaml")).unwrap();
    }
    let o = run(t.path(), &["check", "--format", "json", "repo"]);
    assert_eq!(code(&o), 1);
    let v = json(&o);
    let inv = hits(&v, "invalid-manifest");
    assert_eq!(
        inv,
        [("apps/link.yaml".to_owned(), 1)],
        "the target's duplicate key is never read"
    );
    // The in-tree link is read as its target: three manifest files.
    assert_eq!(v["summary"]["files"], 3);
}

#[test]
fn several_paths_are_shown_from_where_the_user_stands() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "one/x.yaml", DUPLICATE);
    write(t.path(), "two/x.yaml", DUPLICATE);
    let o = run(t.path(), &["check", "--format", "json", "one", "./two/"]);
    assert_eq!(code(&o), 1);
    let v = json(&o);
    assert_eq!(files_with_findings(&v), ["one/x.yaml", "two/x.yaml"]);
    assert_eq!(v["summary"]["config"].as_array().unwrap().len(), 2);
    // A single file keeps the path as given.
    let o = run(t.path(), &["check", "--format", "json", "one/x.yaml"]);
    assert_eq!(
        hits(&json(&o), "invalid-manifest"),
        [("one/x.yaml".to_owned(), 5)]
    );
}

#[test]
fn repository_defaults_to_the_origin_remote() {
    let t = git_repo();
    write(t.path(), "apps/settings.yaml", CONFIGMAP);
    git(
        t.path(),
        &[
            "remote",
            "add",
            "origin",
            "git@github.com:acme/payments-deploy.git",
        ],
    );
    let v = json(&run(t.path(), &["check", "--format", "json", "."]));
    assert_eq!(v["summary"]["repository"], "acme/payments-deploy");
    let v = json(&run(
        t.path(),
        &["check", "--format", "json", "--repo", "other/name", "."],
    ));
    assert_eq!(v["summary"]["repository"], "other/name");
}

#[test]
fn base_mode_reports_changed_files_only() {
    let t = git_repo();
    let r = t.path();
    write(r, "apps/unchanged.yaml", DUPLICATE);
    write(r, "apps/modified.yaml", CONFIGMAP);
    write(r, "apps/moved.yaml", CONFIGMAP);
    write(r, "apps/removed.yaml", CONFIGMAP);
    write(r, ".gitignore", "ignored/\n");
    commit_all(r, "base");

    write(r, "apps/modified.yaml", DUPLICATE); // uncommitted edit
    git(r, &["mv", "apps/moved.yaml", "apps/renamed.yaml"]); // staged rename
    write(r, "apps/renamed.yaml", BROKEN);
    fs::remove_file(r.join("apps/removed.yaml")).unwrap();
    write(r, "apps/new.yaml", DUPLICATE); // untracked, not ignored
    write(r, "ignored/junk.yaml", DUPLICATE); // ignored: not part of a PR

    let o = run(r, &["check", "--base", "HEAD", "--format", "json", "."]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let v = json(&o);
    let files = files_with_findings(&v);
    assert!(
        files.contains(&"apps/modified.yaml".to_owned()),
        "{files:?}"
    );
    assert!(files.contains(&"apps/renamed.yaml".to_owned()), "{files:?}");
    assert!(files.contains(&"apps/new.yaml".to_owned()), "{files:?}");
    assert!(
        !files.contains(&"apps/unchanged.yaml".to_owned()),
        "{files:?}"
    );
    assert!(
        !files.iter().any(|f| f.starts_with("ignored/")),
        "{files:?}"
    );
    assert!(hits(&v, "invalid-manifest").contains(&("apps/modified.yaml".into(), 5)));
    assert_eq!(v["summary"]["base"]["rev"], "HEAD");
    assert_eq!(v["summary"]["base"]["commit"].as_str().unwrap().len(), 40);

    // The same tree without --base reports the unchanged file too.
    let v = json(&run(r, &["check", "--format", "json", "."]));
    assert!(files_with_findings(&v).contains(&"apps/unchanged.yaml".to_owned()));

    // No change at all: nothing to report.
    commit_all(r, "head");
    let o = run(r, &["check", "--base", "HEAD", "--format", "json", "."]);
    assert_eq!(code(&o), 0);
    assert_eq!(json(&o)["findings"].as_array().unwrap().len(), 0);
}

#[test]
fn base_mode_reads_the_config_at_rev_not_from_the_work_tree() {
    // A valid config at REV, broken in the work tree: the work-tree config
    // is untrusted and must not even be parsed as policy.
    let t = git_repo();
    let r = t.path();
    write(r, ".github/gitops-guard.yml", "version: 1\n");
    write(r, "apps/settings.yaml", CONFIGMAP);
    commit_all(r, "base");
    write(
        r,
        ".github/gitops-guard.yml",
        "version: 1\nloosen_everything: true\n",
    );
    write(r, "apps/settings.yaml", DUPLICATE);
    let o = run(r, &["check", "--base", "HEAD", "--format", "json", "."]);
    assert_eq!(code(&o), 1, "config from REV is valid: {}", stderr(&o));
    let v = json(&o);
    let src = v["summary"]["config"][0].as_str().unwrap();
    assert!(src.starts_with(".github/gitops-guard.yml at HEAD"), "{src}");
    assert!(hits(&v, "invalid-manifest").contains(&("apps/settings.yaml".into(), 5)));

    // Broken at REV, fixed in the work tree: still the REV version, so a
    // config error (exit 2) naming the commit.
    let t = git_repo();
    let r = t.path();
    write(r, ".github/gitops-guard.yml", "version: 1\nadmision: {}\n");
    write(r, "apps/settings.yaml", CONFIGMAP);
    commit_all(r, "base");
    write(r, ".github/gitops-guard.yml", "version: 1\n");
    let o = run(r, &["check", "--base", "HEAD", "."]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(err.contains(".github/gitops-guard.yml:2:"), "{err}");
    assert!(err.contains("HEAD"), "{err}");

    // Manifest selection comes from REV too: at REV only apps/ holds
    // manifests, so a new broken file elsewhere is not a manifest.
    let t = git_repo();
    let r = t.path();
    write(
        r,
        ".github/gitops-guard.yml",
        "manifests:\n  paths: ['apps/**']\n",
    );
    write(r, "apps/settings.yaml", CONFIGMAP);
    commit_all(r, "base");
    write(
        r,
        ".github/gitops-guard.yml",
        "manifests:\n  paths: ['**']\n",
    );
    write(r, "docs/example.yaml", DUPLICATE);
    write(r, "apps/new.yaml", DUPLICATE);
    let v = json(&run(
        r,
        &["check", "--base", "HEAD", "--format", "json", "."],
    ));
    let files = files_with_findings(&v);
    assert!(files.contains(&"apps/new.yaml".to_owned()), "{files:?}");
    assert!(
        !files.contains(&"docs/example.yaml".to_owned()),
        "{files:?}"
    );
}

#[test]
fn base_mode_in_a_subdirectory_uses_paths_relative_to_it() {
    let t = git_repo();
    let r = t.path();
    write(r, "deploy/apps/a.yaml", CONFIGMAP);
    write(r, "other/b.yaml", CONFIGMAP);
    commit_all(r, "base");
    write(r, "deploy/apps/a.yaml", DUPLICATE);
    write(r, "other/b.yaml", DUPLICATE);
    let o = run(
        r,
        &["check", "--base", "HEAD", "--format", "json", "deploy"],
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert_eq!(files_with_findings(&json(&o)), ["apps/a.yaml"]);
    // SARIF paths are repository paths, for code scanning.
    let v = json(&run(
        r,
        &["check", "--base", "HEAD", "--format", "sarif", "deploy"],
    ));
    let uri =
        &v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
    assert_eq!(uri, "deploy/apps/a.yaml");
}

#[test]
fn base_mode_errors_exit_2() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "a.yaml", CONFIGMAP);
    let o = run(t.path(), &["check", "--base", "HEAD", "."]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("not inside a Git work tree"),
        "{}",
        stderr(&o)
    );

    let g = git_repo();
    write(g.path(), "a.yaml", CONFIGMAP);
    commit_all(g.path(), "one");
    for rev in ["no-such-branch", "--output=/tmp/gitops-guard-pwned"] {
        let o = run(g.path(), &["check", &format!("--base={rev}"), "."]);
        assert_eq!(code(&o), 2, "{rev}");
        assert!(
            stderr(&o).contains("does not name a commit"),
            "{}",
            stderr(&o)
        );
    }
    assert!(!Path::new("/tmp/gitops-guard-pwned").exists());
    let o = run(g.path(), &["check", "--base", "HEAD", "a.yaml"]);
    assert_eq!(code(&o), 2, "--base needs a directory");
}

#[test]
fn sample_repo_flags_every_attack_and_nothing_in_the_compliant_files() {
    // The README's first command: the bundled sample must show each attack
    // it advertises and must not flag the manifests it calls compliant.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let o = run(root, &["check", "rules/sample-repo", "--format", "json"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let v = json(&o);
    let errors = |file: &str| -> Vec<String> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["file"] == file && f["severity"] != "notice")
            .map(|f| format!("{}:{} {}", f["line"], f["rule"], f["message"]))
            .collect()
    };
    for clean in [
        "production/payments-api/deployment.yaml",
        "production/payments-api/config.yaml",
        "argocd/appprojects/team-payments.yaml",
        "argocd/appprojects/platform.yaml",
        "argocd/applications/payments-api.yaml",
        "platform/argocd/argocd-cm.yaml",
        "platform/argocd/argocd-rbac-cm.yaml",
        "kyverno/policies/block-privileged-from-gitops.yaml",
        "monitoring/argocd-drift-alerts.yaml",
    ] {
        assert!(errors(clean).is_empty(), "{clean}: {:?}", errors(clean));
    }
    for (file, rule) in [
        ("production/debug-pod.yaml", "host-namespaces"),
        ("production/debug-pod.yaml", "privileged"),
        ("production/debug-pod.yaml", "host-path"),
        ("production/debug-pod.yaml", "tenant-namespace"),
        ("production/escalate.yaml", "rbac-escalation"),
        ("production/db-credentials.yaml", "plaintext-secret"),
    ] {
        assert!(
            hits(&v, rule).iter().any(|(f, _)| f == file),
            "{file}: no `{rule}` finding"
        );
    }
}
