//! `gitops-guard check` judges what Argo CD Applications and Flux
//! Kustomizations in the repository deploy: the path rendered with the
//! controller's overrides and `postBuild` substitution, each finding on the
//! line that introduced the value and naming the controller file as its
//! root. Each attack has its legitimate twin.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_gitops-guard");

fn write(root: &Path, files: &[(&str, &str)]) {
    for (p, t) in files {
        let f = root.join(p);
        fs::create_dir_all(f.parent().unwrap()).unwrap();
        fs::write(f, t).unwrap();
    }
}

fn check(root: &Path) -> (i32, String) {
    let o: Output = Command::new(BIN)
        .args(["check", "."])
        .current_dir(root)
        .env("NO_COLOR", "1")
        .output()
        .expect("run gitops-guard");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    (o.status.code().unwrap_or(-1), out)
}

const DEPLOY: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: registry.example.com/web:1.25
";

/// An Application whose inline JSON patch sets `privileged` (line 22).
fn application(privileged: bool) -> String {
    format!(
        "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web
  namespace: argocd
spec:
  project: team-a
  destination:
    server: https://kubernetes.default.svc
    namespace: team-a
  source:
    repoURL: https://github.com/acme/deploy.git
    path: apps/web
    kustomize:
      patches:
      - target:
          kind: Deployment
        patch: |-
          - op: add
            path: /spec/template/spec/containers/0/securityContext
            value:
              privileged: {privileged}
"
    )
}

fn argo_repo(privileged: bool) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        &[
            ("apps/web/kustomization.yaml", "resources:\n- deploy.yaml\n"),
            ("apps/web/deploy.yaml", DEPLOY),
            ("app.yaml", &application(privileged)),
        ],
    );
    d
}

#[test]
fn an_application_patch_that_adds_privileged_fails_on_the_patch_line() {
    let d = argo_repo(true);
    let (code, out) = check(d.path());
    assert_eq!(code, 1, "{out}");
    let line = out
        .lines()
        .find(|l| l.contains(" privileged [error]"))
        .unwrap_or_else(|| panic!("privileged finding: {out}"));
    assert!(line.trim_start().starts_with("app.yaml:22 "), "{line}");
    assert!(line.contains("[rendered from app.yaml]"), "{line}");
    // The destination namespace is applied as Argo CD applies it.
    assert!(line.contains("Deployment team-a/web"), "{line}");
}

#[test]
fn the_same_application_without_the_privilege_passes() {
    let d = argo_repo(false);
    let (code, out) = check(d.path());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("[rendered from app.yaml]"), "{out}");
}

fn flux_repo(substitute: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let ks = format!(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: web
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps/pod
  sourceRef:
    kind: GitRepository
    name: flux-system
  postBuild:
    substitute:
      CLUSTER: prod
{substitute}"
    );
    write(
        d.path(),
        &[
            (
                "clusters/prod/flux-system/gotk-sync.yaml",
                "apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m
  url: ssh://git@github.com/acme/deploy
",
            ),
            ("clusters/prod/web.yaml", &ks),
            (
                "apps/pod/pod.yaml",
                "apiVersion: v1
kind: Pod
metadata:
  name: p
  namespace: web
  labels:
    cluster: ${CLUSTER}
spec:
  hostIPC: ${HOST_IPC:=false}
  containers:
  - name: c
    image: registry.example.com/c:1.0
",
            ),
        ],
    );
    d
}

#[test]
fn a_flux_substitution_that_turns_on_host_ipc_fails_on_the_variable() {
    let d = flux_repo("      HOST_IPC: \"true\"\n");
    let (code, out) = check(d.path());
    assert_eq!(code, 1, "{out}");
    let line = out
        .lines()
        .find(|l| l.contains("host-namespaces [error]"))
        .unwrap_or_else(|| panic!("host-namespaces finding: {out}"));
    assert!(
        line.contains("[rendered from clusters/prod/web.yaml]"),
        "{line}"
    );
}

#[test]
fn the_flux_default_false_is_a_boolean_and_passes() {
    // Raw, `${HOST_IPC:=false}` is a string; the cluster receives `false`.
    let d = flux_repo("");
    let (code, out) = check(d.path());
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("host-namespaces"), "{out}");
}
