//! Argo CD Applications against their own AppProject (`spec.project`), end
//! to end through `gitops-guard check`, plus Argo CD's own table tests for
//! the AppProject semantics (`IsSourcePermitted`, `isDestinationMatched`,
//! `ValidateProject`, `IsAppNamespacePermitted`), ported from
//! `pkg/apis/application/v1alpha1/types_test.go` (see
//! tests/data/applications/README.md for the commit and licence).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use gitops_guard::engine::manifests::appproject::{AppProject, Destination, Role};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_gitops-guard");

fn data(rel: &str) -> String {
    let p: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/applications")
        .join(rel);
    fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

const CONFIG: &str = "version: 1\ntenants:\n  projects: [\"argocd/projects/*.yaml\"]\n";

/// A repository holding the team-lab AppProject (from `project_dir`) and
/// the given Applications (files of tests/data/applications/apps).
fn repo(project_dir: &str, apps: &[&str]) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), ".github/gitops-guard.yml", CONFIG);
    write(
        t.path(),
        "argocd/projects/team-lab.yaml",
        &data(&format!("{project_dir}/team-lab.yaml")),
    );
    for a in apps {
        write(
            t.path(),
            &format!("argocd/apps/{a}"),
            &data(&format!("apps/{a}")),
        );
    }
    t
}

fn check(dir: &Path) -> (i32, Value, String) {
    let o: Output = Command::new(BIN)
        .args(["check", "--format", "json", "."])
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .output()
        .expect("run gitops-guard");
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {text}{}",
            String::from_utf8_lossy(&o.stderr)
        )
    });
    (o.status.code().expect("exit code"), v, text)
}

/// `(rule, file, line)` of every error.
fn errors(v: &Value) -> Vec<(String, String, u64)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["file"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn expect_clean(apps: &[&str]) {
    let t = repo("projects", apps);
    let (code, v, text) = check(t.path());
    assert_eq!(errors(&v), vec![], "{text}");
    assert_eq!(code, 0, "{text}");
}

fn expect_one(project_dir: &str, app: &str, rule: &str, file: &str, line: u64) -> String {
    let t = repo(project_dir, &[app]);
    let (code, v, text) = check(t.path());
    assert_eq!(
        errors(&v),
        vec![(rule.to_owned(), file.to_owned(), line)],
        "{text}"
    );
    assert_eq!(code, 1, "{text}");
    text
}

// --- the binary: attacks and their legitimate twins ------------------------

#[test]
fn legitimate_applications_pass() {
    expect_clean(&["lab.yaml"]);
    expect_clean(&["name-in-cluster.yaml"]);
    expect_clean(&["ci-staging-namespace.yaml"]);
    expect_clean(&["set.yaml"]);
}

#[test]
fn kube_system_destination_fails_on_the_namespace_line() {
    let text = expect_one(
        "projects",
        "kube-system.yaml",
        "tenant-namespace",
        "argocd/apps/kube-system.yaml",
        14,
    );
    assert!(
        text.contains("kube-system") && text.contains("team-lab"),
        "{text}"
    );
}

#[test]
fn repo_url_the_project_does_not_allow_fails_on_the_repo_line() {
    let text = expect_one(
        "projects",
        "foreign-repo.yaml",
        "tenant-source-repo",
        "argocd/apps/foreign-repo.yaml",
        9,
    );
    assert!(text.contains("attacker/manifests"), "{text}");
}

#[test]
fn unknown_project_fails_on_the_project_line() {
    let text = expect_one(
        "projects",
        "unknown-project.yaml",
        "unbound-path",
        "argocd/apps/unknown-project.yaml",
        7,
    );
    assert!(text.contains("team-labs"), "{text}");
}

#[test]
fn application_namespace_outside_source_namespaces_fails() {
    // `ci-prod` is excluded by the lookahead of `/^ci-(?!prod$)[a-z0-9-]+$/`
    expect_one(
        "projects",
        "ci-prod-namespace.yaml",
        "tenant-namespace",
        "argocd/apps/ci-prod-namespace.yaml",
        5,
    );
}

#[test]
fn applicationset_list_element_into_kube_system_fails_on_the_element() {
    expect_one(
        "projects",
        "set-kube-system.yaml",
        "tenant-namespace",
        "argocd/apps/set-kube-system.yaml",
        12,
    );
}

#[test]
fn invalid_appproject_is_reported_on_its_file() {
    let t = repo("projects-invalid", &["lab.yaml"]);
    let (code, v, text) = check(t.path());
    assert_eq!(code, 1, "{text}");
    let config: Vec<_> = errors(&v)
        .into_iter()
        .filter(|(r, _, _)| r == "config")
        .collect();
    assert_eq!(
        config,
        vec![
            (
                "config".to_owned(),
                "argocd/projects/team-lab.yaml".to_owned(),
                1
            );
            2
        ],
        "{text}"
    );
    assert!(
        text.contains("source namespace 'team-lab' already added"),
        "{text}"
    );
    assert!(text.contains("policy subject must be"), "{text}");
    // the valid twin of the project raises no config finding
    let t = repo("projects", &["lab.yaml"]);
    let (code, v, text) = check(t.path());
    assert!(errors(&v).is_empty() && code == 0, "{text}");
}

// --- Argo CD's own tables ----------------------------------------------------

fn repos(list: &[&str]) -> AppProject {
    AppProject {
        source_repos: list.iter().map(|s| s.to_string()).collect(),
        ..AppProject::default()
    }
}

#[test]
fn argo_is_source_permitted() {
    // TestAppProject_IsSourcePermitted
    let cases: &[(&[&str], &str, bool)] = &[
        (&["*"], "https://github.com/argoproj/test.git", true),
        (
            &["https://github.com/argoproj/test.git"],
            "https://github.com/argoproj/test.git",
            true,
        ),
        (
            &["ssh://git@GITHUB.com:argoproj/test"],
            "ssh://git@github.com:argoproj/test",
            true,
        ),
        (
            &["https://github.com/argoproj/*"],
            "https://github.com/argoproj/argoproj.git",
            true,
        ),
        (
            &[
                "https://github.com/test1/test.git",
                "https://github.com/test2/test.git",
            ],
            "https://github.com/test2/test.git",
            true,
        ),
        (
            &["https://github.com/argoproj/test1.git"],
            "https://github.com/argoproj/test2.git",
            false,
        ),
        (
            &["https://github.com/argoproj/*.git"],
            "https://github.com/argoproj1/test2.git",
            false,
        ),
        (
            &["https://github.com/argoproj/foo"],
            "https://github.com/argoproj/foo1",
            false,
        ),
        (
            &["https://gitlab.com/group/*"],
            "https://gitlab.com/group/repo/owner",
            false,
        ),
        (
            &["https://gitlab.com/group/*/*"],
            "https://gitlab.com/group/repo/owner",
            true,
        ),
        (
            &["https://gitlab.com/group/*/*/*"],
            "https://gitlab.com/group/sub-group/repo/owner",
            true,
        ),
        (
            &["https://gitlab.com/group/**"],
            "https://gitlab.com/group/sub-group/repo/owner",
            true,
        ),
    ];
    // TestAppProject_IsNegatedSourcePermitted
    let negated: &[(&[&str], &str, bool)] = &[
        (
            &["!https://github.com/argoproj/test.git"],
            "https://github.com/argoproj/test.git",
            false,
        ),
        (
            &["!ssh://git@GITHUB.com:argoproj/test"],
            "ssh://git@github.com:argoproj/test",
            false,
        ),
        (
            &["!https://github.com/argoproj/*"],
            "https://github.com/argoproj/argoproj.git",
            false,
        ),
        (
            &[
                "https://github.com/test1/test.git",
                "!https://github.com/test2/test.git",
            ],
            "https://github.com/test2/test.git",
            false,
        ),
        (
            &["!https://github.com/argoproj/foo*"],
            "https://github.com/argoproj/foo1",
            false,
        ),
        (
            &["!https://gitlab.com/group/*/*"],
            "https://gitlab.com/group/repo/owner",
            false,
        ),
        (
            &["!https://gitlab.com/group/*/*/*"],
            "https://gitlab.com/group/sub-group/repo/owner",
            false,
        ),
        (
            &["!https://gitlab.com/group/**"],
            "https://gitlab.com/group/sub-group/repo/owner",
            false,
        ),
        (&["*"], "https://github.com/argoproj/test.git", true),
        (
            &["https://github.com/argoproj/test1.git", "*"],
            "https://github.com/argoproj/test2.git",
            true,
        ),
        (
            &["!https://github.com/argoproj/*.git", "*"],
            "https://github.com/argoproj1/test2.git",
            true,
        ),
    ];
    for (list, url, want) in cases.iter().chain(negated) {
        assert_eq!(
            repos(list).is_source_permitted(url),
            *want,
            "{list:?} {url}"
        );
    }
}

type Dest = (&'static str, &'static str, &'static str); // (server, name, namespace)

fn dests(list: &[Dest]) -> AppProject {
    AppProject {
        destinations: list
            .iter()
            .map(|(s, n, ns)| Destination {
                server: s.to_string(),
                name: n.to_string(),
                namespace: ns.to_string(),
            })
            .collect(),
        ..AppProject::default()
    }
}

const SVC: &str = "https://kubernetes.default.svc";

#[test]
fn argo_is_destination_permitted() {
    // TestAppProject_IsDestinationPermitted (the Cluster passed is exactly
    // the app destination's server and name, as in the Go test).
    let eks = "https://eks-cluster-endpoint.ap-southeast-1.eks.amazonaws.com";
    let cases: &[(&[Dest], Dest, bool)] = &[
        (&[(SVC, "", "default")], (SVC, "", "default"), true),
        (&[(SVC, "", "default")], (SVC, "", "kube-system"), false),
        (
            &[("https://my-cluster", "", "default")],
            (SVC, "", "default"),
            false,
        ),
        (&[(SVC, "", "*")], (SVC, "", "kube-system"), true),
        (
            &[("https://*.default.svc", "", "default")],
            (SVC, "", "default"),
            true,
        ),
        (
            &[("https://team1-*", "", "default")],
            ("https://test2-dev-cluster", "", "default"),
            false,
        ),
        (&[(SVC, "", "test-*")], (SVC, "", "test-foo"), true),
        (&[(SVC, "", "test-*")], (SVC, "", "test"), false),
        (&[("*", "", "*")], (SVC, "", "test"), true),
        (&[("", "test", "*")], ("", "test", "test"), true),
        (&[("", "test2", "*")], ("", "test", "test"), false),
        (
            &[
                (SVC, "host-cluster", "!{kube-system,argocd}"),
                (eks, "destination-cluster-01", "*"),
            ],
            (eks, "", "kube-system"),
            true,
        ),
    ];
    // TestAppProject_IsNegatedDestinationPermitted
    let negated: &[(&[Dest], Dest, bool)] = &[
        (
            &[("!https://kubernetes.default.svc", "", "default")],
            (SVC, "", "default"),
            false,
        ),
        (&[(SVC, "", "!default")], (SVC, "", "kube-system"), true),
        (
            &[("!https://my-cluster", "", "default")],
            (SVC, "", "default"),
            true,
        ),
        (
            &[("!https://kubernetes.default.svc", "", "*")],
            (SVC, "", "kube-system"),
            false,
        ),
        (
            &[("!https://*.default.svc", "", "default")],
            (SVC, "", "default"),
            false,
        ),
        (
            &[("!https://team1-*", "", "default")],
            ("https://test2-dev-cluster", "", "default"),
            true,
        ),
        (&[(SVC, "", "!test-*")], (SVC, "", "test-foo"), false),
        (&[(SVC, "", "!test-*")], (SVC, "", "test"), true),
        (&[("", "!test", "*")], ("", "test", "test"), false),
        (&[("", "!test2", "*")], ("", "test", "test"), true),
        (
            &[("*", "", "kube-system"), ("*", "", "!kube-system")],
            (SVC, "", "kube-system"),
            false,
        ),
        (
            &[("*", "", "*"), ("*", "", "!kube-system")],
            (SVC, "", "kube-system"),
            false,
        ),
        (
            &[(SVC, "", "*"), ("!https://kubernetes.default.svc", "", "*")],
            (SVC, "", "kube-system"),
            false,
        ),
        (
            &[
                ("*", "", "*"),
                ("!https://kubernetes.default.svc", "", "kube-system"),
            ],
            (SVC, "", "kube-system"),
            false,
        ),
        (
            &[
                ("*", "", "*"),
                ("!https://kubernetes.default.svc", "", "kube-system"),
                ("*", "", "!kube-system"),
            ],
            (SVC, "", "kube-system"),
            false,
        ),
        (
            &[
                ("*", "", "*"),
                ("!https://kubernetes.default.svc", "", "kube-system"),
                ("*", "", "!kube-system"),
            ],
            (SVC, "", "default"),
            true,
        ),
        (
            &[
                ("*", "", "*"),
                ("!https://kubernetes.default.svc", "", "kube-system"),
                ("*", "", "!kube-system"),
            ],
            ("https://test-dev-cluster", "", "kube-system"),
            false,
        ),
        (
            &[("", "test", "*"), ("", "!test", "*")],
            ("", "test", "test"),
            false,
        ),
        // a `!server` entry denies only where its namespace matches …
        (
            &[("*", "", "test"), ("!https://test-server", "", "other")],
            ("https://test-server", "", "test"),
            true,
        ),
        // … and a `!namespace` entry only where its server matches
        (
            &[("*", "", "*"), ("https://test-server", "", "!other")],
            ("https://other-test-server", "", "other"),
            true,
        ),
    ];
    for (list, (server, name, ns), want) in cases.iter().chain(negated) {
        assert_eq!(
            dests(list).is_destination_permitted(server, name, ns),
            *want,
            "{list:?} -> ({server}, {name}, {ns})"
        );
    }
}

fn valid(p: &AppProject) -> bool {
    p.validation_errors().is_empty()
}

/// `newTestProject()`: one role `my-role`, one empty destination.
fn test_project() -> AppProject {
    AppProject {
        name: "my-proj".into(),
        roles: vec![Role {
            name: "my-role".into(),
            ..Role::default()
        }],
        destinations: vec![Destination::default()],
        ..AppProject::default()
    }
}

#[test]
fn argo_validate_sources_and_destinations() {
    // TestAppProject_ValidateSources
    let mut p = test_project();
    assert!(valid(&p));
    p.source_repos = vec!["!*".into()];
    assert!(!valid(&p));
    p.source_repos = vec!["foo".into(), "foo".into()];
    assert!(!valid(&p));
    // TestAppProject_ValidateDestinations
    let mut p = test_project();
    p.destinations[0].namespace = "!*".into();
    assert!(!valid(&p));
    for ns in ["*", "some-namespace"] {
        p.destinations[0].namespace = ns.into();
        assert!(valid(&p), "{ns}");
    }
    p.destinations[0].server = "!*".into();
    assert!(!valid(&p));
    for s in ["*", "some-server"] {
        p.destinations[0].server = s.into();
        assert!(valid(&p), "{s}");
    }
    p.destinations[0].name = "!*".into();
    assert!(!valid(&p));
    for n in ["*", "some-name"] {
        p.destinations[0].name = n.into();
        assert!(valid(&p), "{n}");
    }
    let d = Destination {
        server: "some-server".into(),
        namespace: "some-namespace".into(),
        ..Destination::default()
    };
    p.destinations = vec![d.clone()];
    assert!(valid(&p));
    p.destinations = vec![d.clone(), d];
    assert!(!valid(&p), "no duplicates allowed");
    let c = |n: &str| Destination {
        name: n.into(),
        namespace: "some-namespace".into(),
        ..Destination::default()
    };
    p.destinations = vec![c("cluster1"), c("cluster2")];
    assert!(
        valid(&p),
        "blank server, same namespace, unique cluster names"
    );
    p.source_namespaces = vec!["argocd".into(), "argocd".into()];
    assert_eq!(
        p.validation_errors(),
        vec!["source namespace 'argocd' already added".to_string()]
    );
}

#[test]
fn argo_validate_role_and_group_names() {
    // TestAppProject_ValidateRoleName
    let mut p = test_project();
    for bad in [
        "", " ", "my role", "my, role", "my,role", "my\nrole", "my\rrole", "my:role", "my-role-",
        "-my-role",
    ] {
        p.roles[0].name = bad.into();
        assert!(!valid(&p), "{bad:?}");
    }
    for good in ["MY-ROLE", "1MY-ROLE1"] {
        p.roles[0].name = good.into();
        assert!(valid(&p), "{good:?}");
    }
    // TestAppProject_ValidateGroupName
    let mut p = test_project();
    p.roles[0].groups = vec!["mygroup".into()];
    assert!(valid(&p));
    for bad in [
        "",
        " ",
        "my, group",
        "my,group",
        "my\ngroup",
        "my\rgroup",
        " my:group",
        "my:group ",
    ] {
        p.roles[0].groups = vec![bad.into()];
        assert!(!valid(&p), "{bad:?}");
    }
    p.roles[0].groups = vec!["my:group".into()];
    assert!(valid(&p));
}

#[test]
fn argo_validate_policies() {
    // validatePolicy's checks, each with an accepted twin
    let mut p = test_project();
    let ok = [
        "p, proj:my-proj:my-role, applications, get, my-proj/*, allow",
        "p, proj:my-proj:my-role, applications, action/apps/Deployment/restart, my-proj/ns/app, deny",
        "p,proj:my-proj:my-role,applicationsets,*,my-proj/*,allow",
    ];
    for policy in ok {
        p.roles[0].policies = vec![policy.into()];
        assert!(valid(&p), "{policy}: {:?}", p.validation_errors());
    }
    let bad = [
        "p, proj:my-proj:my-role, applications, get, my-proj/*",
        "g, proj:my-proj:my-role, applications, get, my-proj/*, allow",
        "p, proj:other:my-role, applications, get, my-proj/*, allow",
        "p, proj:my-proj:my-role, projects, get, my-proj/*, allow",
        "p, proj:my-proj:my-role, applications, destroy, my-proj/*, allow",
        "p, proj:my-proj:my-role, applications, get, other/*, allow",
        "p, proj:my-proj:my-role, applications, get, my-proj/a/b/c, allow",
        "p, proj:my-proj:my-role, applications, get, my-proj/*, maybe",
    ];
    for policy in bad {
        p.roles[0].policies = vec![policy.into()];
        assert!(!valid(&p), "{policy}");
    }
    let line = "p, proj:my-proj:my-role, applications, get, my-proj/*, allow";
    p.roles[0].policies = vec![line.into(), line.into()];
    assert!(!valid(&p), "duplicate policy");
}

#[test]
fn argo_is_app_namespace_permitted() {
    // TestAppProjectIsSourceNamespacePermitted
    let ns = |list: &[&str]| AppProject {
        source_namespaces: list.iter().map(|s| s.to_string()).collect(),
        ..AppProject::default()
    };
    let p = ns(&["other-ns"]);
    assert!(p.is_app_namespace_permitted("argocd", "argocd"));
    assert!(p.is_app_namespace_permitted("some-ns", "some-ns"));
    assert!(p.is_app_namespace_permitted("", "argocd"));
    let p = ns(&[]);
    assert!(p.is_app_namespace_permitted("argocd", "argocd"));
    assert!(!p.is_app_namespace_permitted("some-ns", "argocd"));
    let p = ns(&["some-ns"]);
    assert!(p.is_app_namespace_permitted("some-ns", "argocd"));
    assert!(!p.is_app_namespace_permitted("other-ns", "argocd"));
    let p = ns(&["some-*"]);
    assert!(p.is_app_namespace_permitted("some-ns1", "argocd"));
    assert!(p.is_app_namespace_permitted("some-ns2", "argocd"));
    assert!(!p.is_app_namespace_permitted("someotherns", "argocd"));
}
