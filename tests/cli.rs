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
fn base_mode_in_a_subdirectory_evaluates_it_with_paths_from_the_root() {
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
    // Only the change under PATH, shown from the repository root (as the
    // App shows it).
    assert_eq!(files_with_findings(&json(&o)), ["deploy/apps/a.yaml"]);
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
    // A revision that looks like an option must not reach git as one: the
    // file it names (in a directory of our own) must not be created.
    let out_dir = tempfile::tempdir().unwrap();
    let pwned = out_dir.path().join("gitops-guard-pwned");
    let injected = format!("--output={}", pwned.display());
    for rev in ["no-such-branch", injected.as_str()] {
        let o = run(g.path(), &["check", &format!("--base={rev}"), "."]);
        assert_eq!(code(&o), 2, "{rev}");
        assert!(
            stderr(&o).contains("does not name a commit"),
            "{}",
            stderr(&o)
        );
    }
    assert!(!pwned.exists());
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

/// A Pod the baseline standard admits and the restricted one does not.
const BASELINE_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: team-a\nspec:\n  containers:\n    - name: web\n      image: registry.example.com/web:1.25.3\n";
/// The same Pod, restricted-compliant.
const RESTRICTED_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: team-a\nspec:\n  securityContext:\n    runAsNonRoot: true\n    seccompProfile:\n      type: RuntimeDefault\n  containers:\n    - name: web\n      image: registry.example.com/web:1.25.3\n      securityContext:\n        allowPrivilegeEscalation: false\n        capabilities:\n          drop: [\"ALL\"]\n";
const RESTRICTED_CONFIG: &str = "version: 1\nadmission:\n  level: restricted\n";

/// Rules of the error findings in JSON output.
fn error_rules(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| {
            format!(
                "{}:{}",
                f["file"].as_str().unwrap(),
                f["rule"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn subdirectory_check_uses_the_repository_config() {
    // The attack: the root config enforces restricted; checking only the
    // subdirectory must not fall back to the built-in baseline and pass.
    let t = git_repo();
    let r = t.path();
    write(r, ".github/gitops-guard.yml", RESTRICTED_CONFIG);
    write(r, "deploy/pod.yaml", BASELINE_POD);
    write(r, "other/broken.yaml", DUPLICATE);
    let o = run(r, &["check", "--format", "json", "deploy"]);
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    let v = json(&o);
    assert_eq!(v["summary"]["config"][0], ".github/gitops-guard.yml");
    let errors = error_rules(&v);
    assert!(
        errors.contains(&"deploy/pod.yaml:run-as-non-root".to_owned()),
        "{errors:?}"
    );
    // Only files under PATH are evaluated.
    assert!(
        errors.iter().all(|e| e.starts_with("deploy/")),
        "{errors:?}"
    );
    assert_eq!(v["summary"]["files"], 1);
    // From inside the subdirectory: the same root, paths still from it.
    let o = run(&r.join("deploy"), &["check", "--format", "json", "."]);
    assert_eq!(code(&o), 1);
    let v = json(&o);
    assert_eq!(v["summary"]["config"][0], "../.github/gitops-guard.yml");
    assert!(error_rules(&v).contains(&"deploy/pod.yaml:run-as-non-root".to_owned()));
    // Text output names the root's config too.
    let out = stdout(&run(r, &["check", "deploy"]));
    assert!(out.contains("config: .github/gitops-guard.yml"), "{out}");

    // The legitimate twin: a compliant Pod passes under the same config.
    write(r, "deploy/pod.yaml", RESTRICTED_POD);
    let o = run(r, &["check", "--format", "json", "deploy"]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert_eq!(json(&o)["summary"]["config"][0], ".github/gitops-guard.yml");
    // `--config` still overrides the root's file.
    write(r, "deploy/pod.yaml", BASELINE_POD);
    let o = run(
        r,
        &[
            "check",
            "--config",
            "/dev/null",
            "--format",
            "json",
            "deploy",
        ],
    );
    assert_eq!(code(&o), 0, "baseline admits the pod: {}", stdout(&o));
    // Outside any work tree PATH stays the root: a plain directory with the
    // same layout has no config under `deploy/`, so the defaults apply.
    let plain = tempfile::tempdir().unwrap();
    write(plain.path(), ".github/gitops-guard.yml", RESTRICTED_CONFIG);
    write(plain.path(), "deploy/pod.yaml", BASELINE_POD);
    let o = run(plain.path(), &["check", "--format", "json", "deploy"]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(
        json(&o)["summary"]["config"][0]
            .as_str()
            .unwrap()
            .starts_with("built-in defaults")
    );
}

#[test]
fn subdirectory_check_reads_the_roots_appprojects_and_globs() {
    let t = git_repo();
    let r = t.path();
    write(
        r,
        ".github/gitops-guard.yml",
        "version: 1\nmanifests:\n  paths: ['deploy/apps/**/*.yaml', 'argocd/*.yaml']\ntenants:\n  projects: ['argocd/*.yaml']\n  bindings:\n    - project: team-a\n      paths: ['deploy/apps/team-a/**']\n      namespace: team-a\n      repo: acme/deploy\n",
    );
    write(
        r,
        "argocd/team-a.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata:\n  name: team-a\n  namespace: argocd\nspec:\n  sourceRepos: ['https://github.com/acme/deploy']\n  destinations:\n    - namespace: team-a\n      server: https://kubernetes.default.svc\n  namespaceResourceWhitelist:\n    - group: ''\n      kind: ConfigMap\n",
    );
    // Not a manifest path of the root config (relative to the root).
    write(r, "deploy/scratch/junk.yaml", DUPLICATE);
    // The attack: a tenant deploying into another team's namespace.
    let escape = CONFIGMAP.replace("namespace: team-a", "namespace: kube-system");
    write(r, "deploy/apps/team-a/settings.yaml", &escape);
    let o = run(r, &["check", "--format", "json", "deploy"]);
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    let v = json(&o);
    assert!(
        hits(&v, "tenant-namespace")
            .iter()
            .any(|(f, _)| f == "deploy/apps/team-a/settings.yaml"),
        "{:?}",
        error_rules(&v)
    );
    assert!(!files_with_findings(&v).contains(&"deploy/scratch/junk.yaml".to_owned()));
    // The same subdirectory on its own (no root policy) would have passed
    // the namespace escape: that is what reading the root prevents.
    let o = run(
        r,
        &[
            "check",
            "--config",
            "/dev/null",
            "--format",
            "json",
            "deploy/apps",
        ],
    );
    assert!(hits(&json(&o), "tenant-namespace").is_empty());

    // The legitimate twin: the tenant's own namespace.
    write(r, "deploy/apps/team-a/settings.yaml", CONFIGMAP);
    let o = run(r, &["check", "--format", "json", "deploy"]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert_eq!(json(&o)["summary"]["files"], 1);

    // --base works below the root too: the root config at REV applies.
    commit_all(r, "base");
    write(r, "deploy/apps/team-a/settings.yaml", &escape);
    write(
        r,
        "deploy/scratch/junk.yaml",
        &format!("{DUPLICATE}# edited\n"),
    );
    let o = run(
        r,
        &["check", "--base", "HEAD", "--format", "json", "deploy"],
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(
        files_with_findings(&v),
        ["deploy/apps/team-a/settings.yaml"]
    );
    assert!(
        v["summary"]["config"][0]
            .as_str()
            .unwrap()
            .starts_with(".github/gitops-guard.yml at HEAD")
    );
}

#[test]
fn nested_tree_with_its_own_config_is_its_own_root_when_the_top_has_none() {
    // A repository laid out inside another (like rules/sample-repo): with no
    // config at the top of the work tree, its own config applies.
    let t = git_repo();
    let r = t.path();
    write(
        r,
        "examples/repo/.github/gitops-guard.yml",
        RESTRICTED_CONFIG,
    );
    write(r, "examples/repo/apps/pod.yaml", BASELINE_POD);
    let o = run(r, &["check", "--format", "json", "examples/repo/apps"]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    let v = json(&o);
    assert_eq!(
        v["summary"]["config"][0],
        "examples/repo/.github/gitops-guard.yml"
    );
    assert!(error_rules(&v).contains(&"apps/pod.yaml:run-as-non-root".to_owned()));
    // A config at the top is what the App reads: it wins.
    write(r, ".github/gitops-guard.yml", "version: 1\n");
    let o = run(r, &["check", "--format", "json", "examples/repo/apps"]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert_eq!(json(&o)["summary"]["config"][0], ".github/gitops-guard.yml");
}

/// A pod the baseline standard forbids, whatever the file is called.
const PRIVILEGED_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: debug\n  namespace: team-a\nspec:\n  containers:\n    - name: debug\n      image: registry.example.com/debug:1.0\n      securityContext:\n        privileged: true\n";

/// Tool configs a newcomer's repository holds, by path.
const TOOL_CONFIGS: &[(&str, &str)] = &[
    (
        ".github/workflows/ci.yml",
        "on: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make test\n",
    ),
    (".github/dependabot.yml", "version: 2\nupdates: []\n"),
    ("renovate.json", "{\"extends\": [\"config:recommended\"]}\n"),
    (
        ".sops.yaml",
        "creation_rules:\n  - path_regex: .*\\.enc\\.yaml$\n    age: age1example\n",
    ),
    ("clusters/prod/.sops.yaml", "creation_rules: []\n"),
    (
        ".pre-commit-config.yaml",
        "repos:\n  - repo: https://github.com/adrienverge/yamllint\n    rev: v1.35.1\n    hooks:\n      - id: yamllint\n",
    ),
    ("mkdocs.yml", "site_name: Deployments\nnav:\n  - index.md\n"),
    (
        ".gitlab-ci.yml",
        "stages: [test]\ntest:\n  script: [make test]\n",
    ),
    (".yamllint.yaml", "extends: default\n"),
];

#[test]
fn tool_configs_are_not_judged_as_manifests_by_default() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    write(r, "apps/settings.yaml", CONFIGMAP);
    for (p, text) in TOOL_CONFIGS {
        write(r, p, text);
    }
    let o = run(r, &["check", "--format", "json", "."]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    let v = json(&o);
    assert!(v["findings"].as_array().unwrap().is_empty(), "{v}");
    assert_eq!(v["summary"]["files"], 1, "only the manifest is judged");

    // A user's manifests.ignore adds to the defaults.
    write(r, "docs/example.yaml", "- not\n- an object\n");
    write(r, "apps/list.yaml", "- not\n- an object\n");
    write(
        r,
        ".github/gitops-guard.yml",
        "manifests:\n  ignore: ['docs/**']\n",
    );
    let o = run(r, &["check", "--format", "json", "."]);
    assert_eq!(code(&o), 1);
    let v = json(&o);
    assert_eq!(files_with_findings(&v), ["apps/list.yaml"], "{v}");
    // The finding on a non-object says how to exclude the file.
    let msg = v["findings"][0]["message"].as_str().unwrap();
    assert!(
        msg.contains("manifests.ignore") && msg.contains(".github/gitops-guard.yml"),
        "{msg}"
    );

    // ignore_defaults: false judges every file again.
    write(
        r,
        ".github/gitops-guard.yml",
        "manifests:\n  ignore: ['docs/**', 'apps/list.yaml']\n  ignore_defaults: false\n",
    );
    let o = run(r, &["check", "--format", "json", "."]);
    assert_eq!(code(&o), 1);
    let files = files_with_findings(&json(&o));
    for (p, _) in TOOL_CONFIGS {
        assert!(files.contains(&(*p).to_owned()), "{p} judged: {files:?}");
    }
    assert!(!files.contains(&"docs/example.yaml".to_owned()));
}

#[test]
fn default_ignores_cannot_hide_a_kubernetes_object() {
    // The attack: a privileged Pod named like a tool config, in a directory
    // Argo CD syncs; the default ignores must not hide it.
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    write(r, "mkdocs.yml", PRIVILEGED_POD);
    write(r, ".github/pod.yaml", PRIVILEGED_POD);
    write(r, "apps/.sops.yaml", PRIVILEGED_POD);
    let o = run(r, &["check", "--format", "json", "."]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    let v = json(&o);
    for p in ["mkdocs.yml", ".github/pod.yaml", "apps/.sops.yaml"] {
        assert!(
            hits(&v, "privileged").iter().any(|(f, _)| f == p),
            "{p}: {v}"
        );
    }
    // The twin: the real tool config in the same place is skipped.
    write(r, "mkdocs.yml", "site_name: Deployments\n");
    write(r, ".github/pod.yaml", "name: ci\non: [push]\n");
    write(r, "apps/.sops.yaml", "creation_rules: []\n");
    let o = run(r, &["check", "--format", "json", "."]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));

    // Change mode selects the same way.
    let g = git_repo();
    write(g.path(), "apps/settings.yaml", CONFIGMAP);
    commit_all(g.path(), "base");
    write(g.path(), "mkdocs.yml", "site_name: Deployments\n");
    write(g.path(), ".pre-commit-config.yaml", "repos: []\n");
    let o = run(
        g.path(),
        &["check", "--base", "HEAD", "--format", "json", "."],
    );
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    write(g.path(), "mkdocs.yml", PRIVILEGED_POD);
    let o = run(
        g.path(),
        &["check", "--base", "HEAD", "--format", "json", "."],
    );
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(
        hits(&json(&o), "privileged")
            .iter()
            .any(|(f, _)| f == "mkdocs.yml")
    );
}

#[test]
fn org_config_is_a_floor_the_repository_may_only_tighten() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    let org = tempfile::tempdir().unwrap();
    let org_file = org.path().join("gitops-guard.yml");
    fs::write(&org_file, RESTRICTED_CONFIG).unwrap();
    let org_arg = org_file.to_str().unwrap();
    write(r, "apps/pod.yaml", BASELINE_POD);

    // No repo config: the org floor applies (restricted), where the
    // built-in defaults would pass the pod.
    assert_eq!(code(&run(r, &["check", "."])), 0);
    let o = run(
        r,
        &["check", "--org-config", org_arg, "--format", "json", "."],
    );
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    let v = json(&o);
    assert!(error_rules(&v).contains(&"apps/pod.yaml:run-as-non-root".to_owned()));
    let src = v["summary"]["config"][0].as_str().unwrap();
    assert!(
        src.contains("organisation default") && src.contains(org_arg),
        "{src}"
    );

    // A repo config that loosens the floor is a config error naming file,
    // line and key (exit 2), as in the App.
    write(
        r,
        ".github/gitops-guard.yml",
        "version: 1\nadmission:\n  level: baseline\n",
    );
    let o = run(r, &["check", "--org-config", org_arg, "."]);
    assert_eq!(code(&o), 2, "{}", stdout(&o));
    let err = stderr(&o);
    assert!(
        err.contains(".github/gitops-guard.yml:3: admission.level"),
        "{err}"
    );
    assert!(err.contains("loosens") && err.contains(org_arg), "{err}");
    assert!(stdout(&o).is_empty());
    // Without the org file the same repo config is fine.
    assert_eq!(code(&run(r, &["check", "."])), 0);

    // Tightening is accepted and merged: the org's level stays, the repo
    // adds its own stricter image rule.
    write(
        r,
        ".github/gitops-guard.yml",
        "version: 1\nadmission:\n  images:\n    registries: ['ghcr.io/acme']\n",
    );
    write(r, "apps/pod.yaml", RESTRICTED_POD);
    let o = run(
        r,
        &["check", "--org-config", org_arg, "--format", "json", "."],
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let v = json(&o);
    let errors = error_rules(&v);
    assert!(
        errors.iter().all(|e| !e.contains("run-as-non-root")),
        "{errors:?}"
    );
    assert!(
        !errors.is_empty(),
        "the repo's registry rule applies: {errors:?}"
    );
    let src = v["summary"]["config"][0].as_str().unwrap();
    assert!(
        src.contains("merged onto the organisation default"),
        "{src}"
    );
    // A missing org file is an I/O error.
    let o = run(r, &["check", "--org-config", "nope.yml", "."]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("nope.yml"));
}

#[test]
fn every_command_lists_its_environment_variables() {
    // Every variable the code reads, found in the source itself so a new
    // one cannot be forgotten.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut vars = std::collections::BTreeSet::new();
    let mut stack = vec![src];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = fs::read_to_string(&p).unwrap();
                for prefix in ["\"GITOPS_GUARD_", "\"GITHUB_", "\"DATABASE_", "\"LISTEN_"] {
                    for (i, _) in text.match_indices(prefix) {
                        let name: String = text[i + 1..]
                            .chars()
                            .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                            .collect();
                        if text[i + 1 + name.len()..].starts_with('"') && !name.ends_with('_') {
                            vars.insert(name);
                        }
                    }
                }
            }
        }
    }
    assert!(
        vars.len() >= 20,
        "the scan found too few variables: {vars:?}"
    );
    let t = tempfile::tempdir().unwrap();
    let help = |args: &[&str]| {
        let o = run(t.path(), args);
        assert_eq!(code(&o), 0, "{args:?}");
        stdout(&o)
    };
    let mut all = String::new();
    for cmd in [
        "check",
        "serve",
        "bench",
        "check-pr",
        "register",
        "healthcheck",
        "deliveries",
    ] {
        let h = help(&[cmd, "--help"]);
        assert!(h.contains("Environment variables"), "{cmd} --help: {h}");
        all.push_str(&h);
    }
    for v in &vars {
        assert!(all.contains(v.as_str()), "no --help lists {v}");
    }
    // serve reads all but the CLI-only ones.
    let serve = help(&["serve", "--help"]);
    for v in &vars {
        if !matches!(v.as_str(), "GITHUB_TOKEN" | "GITHUB_URL") {
            assert!(serve.contains(v.as_str()), "serve --help does not list {v}");
        }
    }
    for v in [
        "HOSTNAME",
        "RUST_LOG",
        "[default: ./gitops-guard.sqlite]",
        "[default: 0.0.0.0:8080]",
    ] {
        assert!(serve.contains(v), "serve --help: {v}");
    }
    assert!(help(&["check-pr", "--help"]).contains("GITHUB_TOKEN"));
    assert!(help(&["check", "--help"]).contains("NO_COLOR"));
    // No help points at a file the repository does not have.
    for word in all.split_whitespace() {
        let w = word.trim_matches(|c: char| {
            !c.is_ascii_alphanumeric() && c != '.' && c != '/' && c != '-' && c != '_'
        });
        if w.ends_with(".md") && !w.contains("://") {
            assert!(
                Path::new(env!("CARGO_MANIFEST_DIR")).join(w).exists(),
                "--help names {w}, which does not exist"
            );
        }
    }
}

/// `render` prints what kustomize would build: an overlay's inline JSON 6902
/// patch reaches the output (the attack a raw-file check misses), a base
/// outside the overlay directory is read lazily, files the build does not
/// reference are never read (an unreadable one beside it does not matter),
/// and a symlink leaving the repository fails closed.
#[test]
fn render_prints_the_built_objects_and_fails_closed() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    fs::create_dir(root.join(".git")).unwrap();
    write(
        root,
        "base/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: registry.example.com/web:1.0\n",
    );
    write(
        root,
        "base/kustomization.yaml",
        "resources:\n- deploy.yaml\n",
    );
    write(
        root,
        "overlay/kustomization.yaml",
        "resources:\n- ../base\nnamespace: team-a\npatches:\n- target: {kind: Deployment}\n  patch: |\n    - op: add\n      path: /spec/template/spec/containers/0/securityContext\n      value: {privileged: true}\n",
    );
    write(root, "unrelated/broken.yaml", "{{ not yaml");

    let o = run(root, &["render", "--format", "json", "overlay"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v = json(&o);
    let objs = v.as_array().expect("a JSON array");
    assert_eq!(objs.len(), 1);
    assert_eq!(objs[0]["metadata"]["namespace"], "team-a");
    assert_eq!(
        objs[0]["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"],
        true
    );
    // The legitimate twin: the base alone has no securityContext.
    let o = run(root, &["render", "base"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("kind: Deployment"));
    assert!(!stdout(&o).contains("privileged"));

    // Not a kustomization: exit 1 with the reason; no such path: exit 2.
    let o = run(root, &["render", "unrelated"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("kustomization"), "{}", stderr(&o));
    assert_eq!(code(&run(root, &["render", "nowhere"])), 2);

    // A resource that is a symlink out of the repository is never read.
    let outside = tempfile::tempdir().unwrap();
    write(
        outside.path(),
        "secret.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
    );
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(
            outside.path().join("secret.yaml"),
            root.join("base/link.yaml"),
        )
        .unwrap();
        write(
            root,
            "base/kustomization.yaml",
            "resources:\n- deploy.yaml\n- link.yaml\n",
        );
        let o = run(root, &["render", "overlay"]);
        assert_eq!(code(&o), 2, "{}", stdout(&o));
        assert!(
            stderr(&o).contains("leaves the repository"),
            "{}",
            stderr(&o)
        );
    }
}
