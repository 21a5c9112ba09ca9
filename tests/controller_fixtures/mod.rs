//! Repositories with Argo CD and Flux controller objects, shared by the
//! `render` tests (`tests/render_controllers.rs`) and the `check` tests
//! (`tests/controller_check.rs`), so both judge the same fixtures.

#![allow(dead_code)]

use std::fs;
use std::path::Path;

pub fn write(root: &Path, files: &[(&str, &str)]) {
    for (p, t) in files {
        let f = root.join(p);
        fs::create_dir_all(f.parent().unwrap()).unwrap();
        fs::write(f, t).unwrap();
    }
}

pub const DEPLOY: &str = "apiVersion: apps/v1
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
        image: nginx:1.25
";

pub fn application(patch_value: &str) -> String {
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
              privileged: {patch_value}
"
    )
}

pub fn argo_repo(patch_value: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        &[
            ("apps/web/kustomization.yaml", "resources:\n- deploy.yaml\n"),
            ("apps/web/deploy.yaml", DEPLOY),
            ("app.yaml", &application(patch_value)),
        ],
    );
    d
}

pub fn flux_repo(substitute: &str) -> tempfile::TempDir {
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
  labels:
    cluster: ${CLUSTER}
spec:
  hostIPC: ${HOST_IPC:=false}
  containers:
  - name: c
    image: nginx:1.25
",
            ),
        ],
    );
    d
}
