//! Unit tests of controller roots: discovery, repoURL matching, every Argo
//! CD and Flux override (each with a legitimate twin) and provenance.

use std::collections::BTreeMap;

use super::*;
use crate::engine::yaml::load_documents;

type Repo = BTreeMap<String, Vec<u8>>;

fn repo(files: &[(&str, &str)]) -> Repo {
    files
        .iter()
        .map(|(p, t)| ((*p).to_owned(), t.as_bytes().to_vec()))
        .collect()
}

fn docs(r: &Repo, path: &str) -> Vec<Node> {
    load_documents(std::str::from_utf8(&r[path]).unwrap(), &Default::default()).docs
}

fn roots_of(r: &Repo, file: &str, name: Option<&str>) -> Vec<ControllerRoot> {
    let mut all: Vec<(String, Node)> = Vec::new();
    for (p, t) in r {
        if !(p.ends_with(".yaml") || p.ends_with(".yml")) {
            continue;
        }
        for d in load_documents(std::str::from_utf8(t).unwrap(), &Default::default()).docs {
            all.push((p.clone(), d));
        }
    }
    let objs: Vec<(&str, &Node)> = all.iter().map(|(p, d)| (p.as_str(), d)).collect();
    let rn = name.map(|n| RepoName::parse(n).unwrap());
    controller_roots(&objs, rn.as_ref(), r)
        .into_iter()
        .filter(|x| x.file == file)
        .collect()
}

fn render_one(r: &Repo, file: &str) -> Result<Rendered, RenderError> {
    let roots = roots_of(r, file, Some("acme/deploy"));
    assert_eq!(roots.len(), 1, "{roots:?}");
    render_controller_root(r, &roots[0], &Limits::default())
}

fn find<'a>(r: &'a Rendered, kind: &str, name: &str) -> &'a Node {
    r.objects
        .iter()
        .find(|o| {
            str_of(o, &["kind"]) == Some(kind) && str_of(o, &["metadata", "name"]) == Some(name)
        })
        .unwrap_or_else(|| {
            panic!(
                "no {kind}/{name} in {:?}",
                r.objects.iter().map(Node::to_json).collect::<Vec<_>>()
            )
        })
}

/// (file, line) a node's span points at.
fn at(r: &Rendered, n: &Node) -> (String, u32) {
    (r.file_of(n.span).to_owned(), n.span.line)
}

const DEPLOY: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
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
";

fn base_repo(app: &str) -> Repo {
    repo(&[
        ("apps/web/kustomization.yaml", "resources:\n- deploy.yaml\n"),
        ("apps/web/deploy.yaml", DEPLOY),
        ("argocd/app.yaml", app),
    ])
}

fn app(kustomize: &str) -> String {
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
    targetRevision: main
{kustomize}"
    )
}

// ---------------------------------------------------------------- identity

#[test]
fn repo_url_normalisation() {
    let r = RepoName::parse("Acme/Deploy").unwrap();
    for url in [
        "https://github.com/acme/deploy",
        "https://github.com/acme/deploy.git",
        "https://github.com/ACME/deploy/",
        "http://github.com/acme/deploy",
        "ssh://git@github.com/acme/deploy.git",
        "ssh://git@github.com:22/acme/deploy",
        "git@github.com:acme/deploy.git",
        "git@github.com:Acme/Deploy",
        "https://user@github.com/acme/deploy.git/",
    ] {
        assert!(url_is_repo(url, &r), "{url}");
    }
    for url in [
        "https://github.com/acme/other",
        "https://github.com/acme/deploy-extra",
        "git@github.com:acme/deploy2.git",
        "https://github.com/acme",
        "oci://registry/acme/deploy",
        "deploy",
    ] {
        assert!(!url_is_repo(url, &r), "{url}");
    }
}

#[test]
fn other_repository_is_not_a_root() {
    let r = base_repo(&app("").replace("acme/deploy.git", "acme/other.git"));
    assert!(roots_of(&r, "argocd/app.yaml", Some("acme/deploy")).is_empty());
    // twin: this repository in scp form
    let r = base_repo(&app("").replace(
        "https://github.com/acme/deploy.git",
        "git@github.com:acme/deploy",
    ));
    assert_eq!(
        roots_of(&r, "argocd/app.yaml", Some("acme/deploy")).len(),
        1
    );
}

#[test]
fn unknown_identity_counts_a_source_whose_path_exists() {
    let r = base_repo(&app("").replace("acme/deploy.git", "acme/other.git"));
    assert_eq!(roots_of(&r, "argocd/app.yaml", None).len(), 1);
    // twin: a path not in the tree is another repository's
    let r = base_repo(&app("").replace("path: apps/web", "path: apps/none"));
    assert!(roots_of(&r, "argocd/app.yaml", None).is_empty());
}

#[test]
fn root_records_project_and_destination() {
    let r = base_repo(&app(""));
    let roots = roots_of(&r, "argocd/app.yaml", Some("acme/deploy"));
    let x = &roots[0];
    assert_eq!(x.kind, ControllerKind::Application);
    assert_eq!(x.path, "apps/web");
    assert_eq!(x.project.as_deref(), Some("team-a"));
    assert_eq!(x.destination_namespace.as_deref(), Some("team-a"));
    assert_eq!(x.name, "web");
    assert_eq!(x.line, 12);
}

#[test]
fn multiple_sources_and_ref_only() {
    let a = "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: multi
spec:
  destination:
    namespace: ns
  sources:
  - repoURL: https://github.com/acme/deploy
    path: apps/web
  - repoURL: https://github.com/acme/deploy
    ref: values
  - repoURL: https://charts.example.com
    chart: redis
    targetRevision: 1.0.0
";
    let r = base_repo(a);
    let roots = roots_of(&r, "argocd/app.yaml", Some("acme/deploy"));
    assert_eq!(roots.len(), 1);
    assert_eq!(roots[0].source_index, Some(0));
    assert_eq!(roots[0].project.as_deref(), Some("default"));
}

// ---------------------------------------------------------------- Argo kustomize overrides

#[test]
fn plain_kustomize_gets_destination_namespace() {
    let r = base_repo(&app(""));
    let out = render_one(&r, "argocd/app.yaml").unwrap();
    let d = find(&out, "Deployment", "web");
    let ns = d.path(&["metadata", "namespace"]).unwrap();
    assert_eq!(ns.as_str(), Some("team-a"));
    assert_eq!(at(&out, ns), ("argocd/app.yaml".into(), 10));
    // twin: an object with its own namespace keeps it
    let r = repo(&[
        ("apps/web/kustomization.yaml", "resources:\n- deploy.yaml\n"),
        (
            "apps/web/deploy.yaml",
            &DEPLOY.replace("  name: web\n", "  name: web\n  namespace: own\n"),
        ),
        ("argocd/app.yaml", &app("")),
    ]);
    let out = render_one(&r, "argocd/app.yaml").unwrap();
    assert_eq!(
        str_of(find(&out, "Deployment", "web"), &["metadata", "namespace"]),
        Some("own")
    );
}

#[test]
fn cluster_scoped_objects_get_no_namespace() {
    let r = repo(&[
        ("apps/web/kustomization.yaml", "resources:\n- ns.yaml\n"),
        (
            "apps/web/ns.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n",
        ),
        ("argocd/app.yaml", &app("")),
    ]);
    let out = render_one(&r, "argocd/app.yaml").unwrap();
    assert!(
        find(&out, "Namespace", "x")
            .path(&["metadata", "namespace"])
            .is_none()
    );
}

#[test]
fn argo_patches_add_privileged_on_the_application_line() {
    let k = "    kustomize:
      patches:
      - target:
          kind: Deployment
          name: web
        patch: |-
          - op: add
            path: /spec/template/spec/containers/0/securityContext
            value:
              privileged: true
";
    let r = base_repo(&app(k));
    let out = render_one(&r, "argocd/app.yaml").unwrap();
    let d = find(&out, "Deployment", "web");
    let p = d
        .path(&["spec", "template", "spec", "containers"])
        .and_then(|c| c.as_seq())
        .and_then(|c| c[0].path(&["securityContext", "privileged"]))
        .unwrap();
    assert_eq!(p.value, Value::Bool(true));
    // the value's line in the Application: `privileged: true` is line 24
    assert_eq!(at(&out, p), ("argocd/app.yaml".into(), 24));
    // the image is unchanged and still points at the base
    let img = d
        .path(&["spec", "template", "spec", "containers"])
        .unwrap()
        .as_seq()
        .unwrap()[0]
        .get("image")
        .unwrap();
    assert_eq!(at(&out, img), ("apps/web/deploy.yaml".into(), 17));
}

#[test]
fn argo_patches_append_to_existing() {
    let r = repo(&[
        (
            "apps/web/kustomization.yaml",
            "resources:\n- deploy.yaml\npatches:\n- patch: |-\n    - op: replace\n      path: /spec/replicas\n      value: 2\n  target:\n    kind: Deployment\n",
        ),
        ("apps/web/deploy.yaml", DEPLOY),
        (
            "argocd/app.yaml",
            &app(
                "    kustomize:\n      patches:\n      - patch: |-\n          - op: replace\n            path: /spec/replicas\n            value: 5\n        target:\n          kind: Deployment\n",
            ),
        ),
    ]);
    let out = render_one(&r, "argocd/app.yaml").unwrap();
    let rep = find(&out, "Deployment", "web")
        .path(&["spec", "replicas"])
        .unwrap();
    assert_eq!(rep.value, Value::Int(5));
    assert_eq!(at(&out, rep).0, "argocd/app.yaml");
}

#[test]
fn argo_images() {
    let r = base_repo(&app(
        "    kustomize:\n      images:\n      - nginx=docker.io/evil/nginx:latest\n",
    ));
    let out = render_one(&r, "argocd/app.yaml").unwrap();
    let c = &find(&out, "Deployment", "web")
        .path(&["spec", "template", "spec", "containers"])
        .unwrap()
        .as_seq()
        .unwrap()[0];
    let img = c.get("image").unwrap();
    assert_eq!(img.as_str(), Some("docker.io/evil/nginx:latest"));
    assert_eq!(at(&out, img), ("argocd/app.yaml".into(), 17));
    // twin: an image of another name changes nothing
    let r = base_repo(&app("    kustomize:\n      images:\n      - redis:7\n"));
    let out = render_one(&r, "argocd/app.yaml").unwrap();
    let c = &find(&out, "Deployment", "web")
        .path(&["spec", "template", "spec", "containers"])
        .unwrap()
        .as_seq()
        .unwrap()[0];
    assert_eq!(c.get("image").unwrap().as_str(), Some("nginx:1.25"));
}

#[test]
fn argo_image_replaces_the_kustomization_entry_and_keeps_star() {
    let r = repo(&[
        (
            "apps/web/kustomization.yaml",
            "resources:\n- deploy.yaml\nimages:\n- name: nginx\n  newName: registry.local/nginx\n  newTag: \"1.0\"\n",
        ),
        ("apps/web/deploy.yaml", DEPLOY),
        (
            "argocd/app.yaml",
            &app("    kustomize:\n      images:\n      - nginx=*:2.0\n"),
        ),
    ]);
    let out = render_one(&r, "argocd/app.yaml").unwrap();
    let c = &find(&out, "Deployment", "web")
        .path(&["spec", "template", "spec", "containers"])
        .unwrap()
        .as_seq()
        .unwrap()[0];
    assert_eq!(
        c.get("image").unwrap().as_str(),
        Some("registry.local/nginx:2.0")
    );
}

#[test]
fn argo_invalid_image_argument() {
    let r = base_repo(&app("    kustomize:\n      images:\n      - nginx\n"));
    let e = render_one(&r, "argocd/app.yaml").unwrap_err();
    assert_eq!(e.kind, RenderErrorKind::Invalid);
    assert_eq!((e.file.as_str(), e.line), ("argocd/app.yaml", 17));
}

#[test]
fn argo_name_prefix_suffix_and_namespace() {
    let r = base_repo(&app(
        "    kustomize:\n      namePrefix: p-\n      nameSuffix: -s\n      namespace: kube-system\n",
    ));
    let out = render_one(&r, "argocd/app.yaml").unwrap();
    let d = find(&out, "Deployment", "p-web-s");
    let ns = d.path(&["metadata", "namespace"]).unwrap();
    assert_eq!(ns.as_str(), Some("kube-system"));
    assert_eq!(at(&out, ns), ("argocd/app.yaml".into(), 18));
    // twin: a kustomization prefix is replaced, not stacked (edit set)
    let r = repo(&[
        (
            "apps/web/kustomization.yaml",
            "namePrefix: k-\nresources:\n- deploy.yaml\n",
        ),
        ("apps/web/deploy.yaml", DEPLOY),
        (
            "argocd/app.yaml",
            &app("    kustomize:\n      namePrefix: a-\n"),
        ),
    ]);
    let out = render_one(&r, "argocd/app.yaml").unwrap();
    find(&out, "Deployment", "a-web");
}

#[test]
fn argo_replicas() {
    let r = base_repo(&app(
        "    kustomize:\n      replicas:\n      - name: web\n        count: \"7\"\n",
    ));
    let out = render_one(&r, "argocd/app.yaml").unwrap();
    let n = find(&out, "Deployment", "web")
        .path(&["spec", "replicas"])
        .unwrap();
    assert_eq!(n.value, Value::Int(7));
    assert_eq!(at(&out, n), ("argocd/app.yaml".into(), 18));
    let r = base_repo(&app(
        "    kustomize:\n      replicas:\n      - name: web\n        count: many\n",
    ));
    assert_eq!(
        render_one(&r, "argocd/app.yaml").unwrap_err().kind,
        RenderErrorKind::Invalid
    );
}

#[test]
fn argo_common_labels_and_annotations() {
    let r = base_repo(&app(
        "    kustomize:\n      commonLabels:\n        team: a\n      commonAnnotations:\n        note: \"${ARGOCD_APP_NAME}\"\n",
    ));
    let out = render_one(&r, "argocd/app.yaml").unwrap();
    let d = find(&out, "Deployment", "web");
    let l = d.path(&["metadata", "labels", "team"]).unwrap();
    assert_eq!(l.as_str(), Some("a"));
    assert_eq!(at(&out, l).0, "argocd/app.yaml");
    // commonLabels reach selectors (kustomize's field specs)
    assert_eq!(
        str_of(d, &["spec", "selector", "matchLabels", "team"]),
        Some("a")
    );
    // annotations are not env-substituted unless asked
    assert_eq!(
        str_of(d, &["metadata", "annotations", "note"]),
        Some("${ARGOCD_APP_NAME}")
    );
    let r = base_repo(&app(
        "    kustomize:\n      commonAnnotationsEnvsubst: true\n      commonAnnotations:\n        note: \"${ARGOCD_APP_NAME}-x\"\n",
    ));
    let out = render_one(&r, "argocd/app.yaml").unwrap();
    assert_eq!(
        str_of(
            find(&out, "Deployment", "web"),
            &["metadata", "annotations", "note"]
        ),
        Some("web-x")
    );
}

#[test]
fn argo_label_conflict_needs_force() {
    let k = "commonLabels:\n  team: k\nresources:\n- deploy.yaml\n";
    let r = repo(&[
        ("apps/web/kustomization.yaml", k),
        ("apps/web/deploy.yaml", DEPLOY),
        (
            "argocd/app.yaml",
            &app("    kustomize:\n      commonLabels:\n        team: a\n"),
        ),
    ]);
    assert_eq!(
        render_one(&r, "argocd/app.yaml").unwrap_err().kind,
        RenderErrorKind::Invalid
    );
    let r = repo(&[
        ("apps/web/kustomization.yaml", k),
        ("apps/web/deploy.yaml", DEPLOY),
        (
            "argocd/app.yaml",
            &app(
                "    kustomize:\n      forceCommonLabels: true\n      commonLabels:\n        team: a\n",
            ),
        ),
    ]);
    let out = render_one(&r, "argocd/app.yaml").unwrap();
    assert_eq!(
        str_of(
            find(&out, "Deployment", "web"),
            &["metadata", "labels", "team"]
        ),
        Some("a")
    );
}

#[test]
fn argo_labels_without_selector() {
    let r = base_repo(&app(
        "    kustomize:\n      labelWithoutSelector: true\n      commonLabels:\n        team: a\n",
    ));
    let out = render_one(&r, "argocd/app.yaml").unwrap();
    let d = find(&out, "Deployment", "web");
    assert_eq!(str_of(d, &["metadata", "labels", "team"]), Some("a"));
    assert!(
        d.path(&["spec", "selector", "matchLabels", "team"])
            .is_none()
    );
    assert!(
        d.path(&["spec", "template", "metadata", "labels", "team"])
            .is_none()
    );
    let r = base_repo(&app(
        "    kustomize:\n      labelWithoutSelector: true\n      labelIncludeTemplates: true\n      commonLabels:\n        team: a\n",
    ));
    let out = render_one(&r, "argocd/app.yaml").unwrap();
    let d = find(&out, "Deployment", "web");
    assert_eq!(
        str_of(d, &["spec", "template", "metadata", "labels", "team"]),
        Some("a")
    );
    assert!(
        d.path(&["spec", "selector", "matchLabels", "team"])
            .is_none()
    );
}

#[test]
fn argo_components() {
    let comp = "apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
- target:
    kind: Deployment
  patch: |-
    - op: add
      path: /spec/template/spec/hostNetwork
      value: true
";
    let mut r = base_repo(&app(
        "    kustomize:\n      components:\n      - ../../components/hostnet\n",
    ));
    r.insert(
        "components/hostnet/kustomization.yaml".into(),
        comp.as_bytes().to_vec(),
    );
    let out = render_one(&r, "argocd/app.yaml").unwrap();
    let h = find(&out, "Deployment", "web")
        .path(&["spec", "template", "spec", "hostNetwork"])
        .unwrap();
    assert_eq!(h.value, Value::Bool(true));
    assert_eq!(at(&out, h).0, "components/hostnet/kustomization.yaml");
    // a missing component fails, unless ignoreMissingComponents
    let r = base_repo(&app(
        "    kustomize:\n      components:\n      - ../../components/none\n",
    ));
    assert_eq!(
        render_one(&r, "argocd/app.yaml").unwrap_err().kind,
        RenderErrorKind::NotFound
    );
    let r = base_repo(&app(
        "    kustomize:\n      ignoreMissingComponents: true\n      components:\n      - ../../components/none\n",
    ));
    render_one(&r, "argocd/app.yaml").unwrap();
}

#[test]
fn argo_unknown_kustomize_field_fails_closed() {
    let r = base_repo(&app("    kustomize:\n      buildOptions: --enable-helm\n"));
    let e = render_one(&r, "argocd/app.yaml").unwrap_err();
    assert!(
        matches!(e.kind, RenderErrorKind::Unrenderable { .. }),
        "{e:?}"
    );
    // twin: a version pin changes nothing
    let r = base_repo(&app("    kustomize:\n      version: v5.4.0\n"));
    render_one(&r, "argocd/app.yaml").unwrap();
}

#[test]
fn argo_helm_plugin_and_override_files_fail_closed() {
    let r = base_repo(&app("    helm:\n      releaseName: x\n"));
    assert!(matches!(
        render_one(&r, "argocd/app.yaml").unwrap_err().kind,
        RenderErrorKind::Unrenderable { .. }
    ));
    let r = base_repo(&app("    plugin:\n      name: x\n"));
    assert!(matches!(
        render_one(&r, "argocd/app.yaml").unwrap_err().kind,
        RenderErrorKind::Unrenderable { .. }
    ));
    let mut r = base_repo(&app(""));
    r.insert(
        "apps/web/.argocd-source-web.yaml".into(),
        b"kustomize:\n  namePrefix: x-\n".to_vec(),
    );
    assert!(matches!(
        render_one(&r, "argocd/app.yaml").unwrap_err().kind,
        RenderErrorKind::Unrenderable { .. }
    ));
    let r = base_repo(&app("    helm: {}\n    kustomize: {}\n"));
    assert_eq!(
        render_one(&r, "argocd/app.yaml").unwrap_err().kind,
        RenderErrorKind::Invalid
    );
}

// ---------------------------------------------------------------- Argo directories

fn dir_repo(directory: &str) -> Repo {
    repo(&[
        ("apps/plain/a.yaml", &DEPLOY.replace("name: web", "name: a")),
        ("apps/plain/notes.txt", "not yaml"),
        ("apps/plain/values.yaml", "replicas: 3\n"),
        (
            "apps/plain/sub/b.yaml",
            &DEPLOY.replace("name: web", "name: b"),
        ),
        (
            "apps/plain/sub/skip.yaml",
            &format!(
                "# +argocd:skip-file-rendering\n{}",
                DEPLOY.replace("name: web", "name: skipped")
            ),
        ),
        (
            "apps/plain/c.json",
            "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"c\"}}",
        ),
        (
            "argocd/app.yaml",
            &app(directory).replace("path: apps/web", "path: apps/plain"),
        ),
    ])
}

fn names(r: &Rendered) -> Vec<String> {
    r.objects
        .iter()
        .map(|o| str_of(o, &["metadata", "name"]).unwrap_or("").to_owned())
        .collect()
}

#[test]
fn directory_source_top_level_only() {
    let r = dir_repo("");
    let out = render_one(&r, "argocd/app.yaml").unwrap();
    assert_eq!(names(&out), ["a", "c"]);
    let a = find(&out, "Deployment", "a");
    assert_eq!(
        at(&out, a.path(&["spec", "replicas"]).unwrap()),
        ("apps/plain/a.yaml".into(), 6)
    );
    assert_eq!(str_of(a, &["metadata", "namespace"]), Some("team-a"));
}

#[test]
fn directory_recurse_include_exclude() {
    let out = render_one(
        &dir_repo("    directory:\n      recurse: true\n"),
        "argocd/app.yaml",
    )
    .unwrap();
    assert_eq!(names(&out), ["a", "c", "b"]);
    let out = render_one(
        &dir_repo("    directory:\n      recurse: true\n      exclude: 'sub/*'\n"),
        "argocd/app.yaml",
    )
    .unwrap();
    assert_eq!(names(&out), ["a", "c"]);
    let out = render_one(
        &dir_repo("    directory:\n      recurse: true\n      include: '{sub/*,c.json}'\n"),
        "argocd/app.yaml",
    )
    .unwrap();
    assert_eq!(names(&out), ["c", "b"]);
    // Argo's globs have no separators: `*` crosses `/`
    let out = render_one(
        &dir_repo("    directory:\n      recurse: true\n      include: '*.yaml'\n"),
        "argocd/app.yaml",
    )
    .unwrap();
    assert_eq!(names(&out), ["a", "b"]);
}

#[test]
fn directory_jsonnet_fails_closed() {
    let mut r = dir_repo("");
    r.insert("apps/plain/x.jsonnet".into(), b"{}".to_vec());
    assert!(matches!(
        render_one(&r, "argocd/app.yaml").unwrap_err().kind,
        RenderErrorKind::Unrenderable { .. }
    ));
}

#[test]
fn walk_order_is_by_component() {
    let mut v = vec![
        "a-x.yaml".to_owned(),
        "a/b.yaml".to_owned(),
        "a.yaml".to_owned(),
    ];
    walk_order(&mut v);
    assert_eq!(v, ["a/b.yaml", "a-x.yaml", "a.yaml"]);
}

// ---------------------------------------------------------------- ApplicationSet

fn appset(generators: &str, go: bool) -> String {
    let (path, name) = if go {
        ("apps/{{ .app }}", "{{.app}}-{{ .env }}")
    } else {
        ("apps/{{app}}", "{{app}}-{{ env }}")
    };
    format!(
        "apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: set
spec:
  goTemplate: {go}
  generators:
{generators}
  template:
    metadata:
      name: '{name}'
    spec:
      project: team-a
      destination:
        namespace: '{{{{{}env}}}}'
      source:
        repoURL: https://github.com/acme/deploy
        path: '{path}'
",
        if go { "." } else { "" }
    )
}

#[test]
fn applicationset_list_generator() {
    for go in [false, true] {
        let g = "  - list:\n      elements:\n      - app: web\n        env: prod\n      - app: web\n        env: dev\n";
        let mut r = base_repo(&app(""));
        r.insert("argocd/set.yaml".into(), appset(g, go).into_bytes());
        let roots = roots_of(&r, "argocd/set.yaml", Some("acme/deploy"));
        assert_eq!(roots.len(), 2, "go={go}");
        assert_eq!(roots[0].name, "web-prod");
        assert_eq!(roots[0].path, "apps/web");
        assert_eq!(roots[0].destination_namespace.as_deref(), Some("prod"));
        assert_eq!(roots[1].destination_namespace.as_deref(), Some("dev"));
        assert_eq!(roots[0].kind, ControllerKind::ApplicationSet);
        let out = render_controller_root(&r, &roots[1], &Limits::default()).unwrap();
        assert_eq!(
            str_of(find(&out, "Deployment", "web"), &["metadata", "namespace"]),
            Some("dev")
        );
    }
}

#[test]
fn applicationset_other_generators_fail_closed() {
    let g = "  - git:\n      repoURL: https://github.com/acme/deploy\n      directories:\n      - path: apps/*\n";
    let mut r = base_repo(&app(""));
    r.insert("argocd/set.yaml".into(), appset(g, false).into_bytes());
    let roots = roots_of(&r, "argocd/set.yaml", Some("acme/deploy"));
    assert_eq!(roots.len(), 1);
    let e = roots[0].error().unwrap();
    assert!(
        matches!(&e.kind, RenderErrorKind::Unrenderable { reference } if reference == "generators.git"),
        "{e:?}"
    );
    assert_eq!(e.line, 8);
}

#[test]
fn fast_and_go_templates() {
    let p = load_documents("a: x\nvalues.b: w\n", &Default::default())
        .docs
        .remove(0);
    assert_eq!(fast_template("{{a}}-{{ values.b }}-{{c}}", &p), "x-w-{{c}}");
    let g = load_documents("a: x\nk:\n  m: 3\n", &Default::default())
        .docs
        .remove(0);
    assert_eq!(go_template("{{ .a }}/{{.k.m}}", &g, false).unwrap(), "x/3");
    assert_eq!(go_template("{{ .zz }}", &g, false).unwrap(), "<no value>");
    assert!(matches!(
        go_template("{{ .zz }}", &g, true),
        Err((false, _))
    ));
    assert!(matches!(
        go_template("{{ .a | upper }}", &g, false),
        Err((true, _))
    ));
}

// ---------------------------------------------------------------- Flux

fn flux_repo(ks_spec: &str, extra: &[(&str, &str)]) -> Repo {
    let mut files = vec![(
        "clusters/prod/sync.yaml",
        "apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  url: ssh://git@github.com/acme/deploy
",
    )];
    let ks = format!(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: web
  namespace: flux-system
spec:
  interval: 10m
  sourceRef:
    kind: GitRepository
    name: flux-system
{ks_spec}"
    );
    let ks: &'static str = Box::leak(ks.into_boxed_str());
    files.push(("clusters/prod/web.yaml", ks));
    files.extend_from_slice(extra);
    repo(&files)
}

const POD_VARS: &str = "apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  hostIPC: ${HOST_IPC:=false}
  containers:
  - name: c
    image: nginx:${TAG:=1.25}
";

#[test]
fn flux_root_needs_a_gitrepository_of_this_repo() {
    let r = flux_repo("  path: ./apps/p\n", &[("apps/p/pod.yaml", POD_VARS)]);
    let roots = roots_of(&r, "clusters/prod/web.yaml", Some("acme/deploy"));
    assert_eq!(roots.len(), 1);
    assert_eq!(roots[0].path, "apps/p");
    // twin: a GitRepository of another repository
    let mut r2 = r.clone();
    r2.insert(
        "clusters/prod/sync.yaml".into(),
        String::from_utf8(r["clusters/prod/sync.yaml"].clone())
            .unwrap()
            .replace("acme/deploy", "acme/other")
            .into_bytes(),
    );
    assert!(roots_of(&r2, "clusters/prod/web.yaml", Some("acme/deploy")).is_empty());
    // an OCIRepository source is not this repository
    let r3 = flux_repo("  path: ./apps/p\n", &[("apps/p/pod.yaml", POD_VARS)]);
    let mut r3 = r3;
    r3.insert(
        "clusters/prod/web.yaml".into(),
        String::from_utf8(r3["clusters/prod/web.yaml"].clone())
            .unwrap()
            .replace("kind: GitRepository", "kind: OCIRepository")
            .into_bytes(),
    );
    assert!(roots_of(&r3, "clusters/prod/web.yaml", Some("acme/deploy")).is_empty());
}

#[test]
fn flux_generated_kustomization_and_default_substitution() {
    let r = flux_repo(
        "  path: ./apps/p\n  postBuild:\n    substitute:\n      OTHER: x\n",
        &[
            ("apps/p/pod.yaml", POD_VARS),
            ("apps/p/.gitlab-ci.yml", "stages: []\n"),
        ],
    );
    let out = render_one(&r, "clusters/prod/web.yaml").unwrap();
    let p = find(&out, "Pod", "p");
    let h = p.path(&["spec", "hostIPC"]).unwrap();
    assert_eq!(h.value, Value::Bool(false));
    assert_eq!(at(&out, h), ("apps/p/pod.yaml".into(), 6));
    let img = p.path(&["spec", "containers"]).unwrap().as_seq().unwrap()[0]
        .get("image")
        .unwrap();
    assert_eq!(img.as_str(), Some("nginx:1.25"));
}

#[test]
fn flux_substitute_sets_true_on_the_variable_line() {
    let r = flux_repo(
        "  path: ./apps/p\n  postBuild:\n    substitute:\n      HOST_IPC: \"true\"\n",
        &[("apps/p/pod.yaml", POD_VARS)],
    );
    let out = render_one(&r, "clusters/prod/web.yaml").unwrap();
    let h = find(&out, "Pod", "p").path(&["spec", "hostIPC"]).unwrap();
    assert_eq!(h.value, Value::Bool(true));
    assert_eq!(at(&out, h), ("clusters/prod/web.yaml".into(), 14));
}

#[test]
fn flux_no_variables_means_no_substitution() {
    let r = flux_repo("  path: ./apps/p\n", &[("apps/p/pod.yaml", POD_VARS)]);
    let out = render_one(&r, "clusters/prod/web.yaml").unwrap();
    let h = find(&out, "Pod", "p").path(&["spec", "hostIPC"]).unwrap();
    assert_eq!(h.as_str(), Some("${HOST_IPC:=false}"));
    // twin: substituteStrategy Always substitutes with no variables
    let r = flux_repo(
        "  path: ./apps/p\n  postBuild:\n    substituteStrategy: Always\n",
        &[("apps/p/pod.yaml", POD_VARS)],
    );
    let out = render_one(&r, "clusters/prod/web.yaml").unwrap();
    assert_eq!(
        find(&out, "Pod", "p")
            .path(&["spec", "hostIPC"])
            .unwrap()
            .value,
        Value::Bool(false)
    );
}

#[test]
fn flux_substitute_disabled_annotation() {
    let pod = POD_VARS.replace(
        "  name: p\n",
        "  name: p\n  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\n",
    );
    let r = flux_repo(
        "  path: ./apps/p\n  postBuild:\n    substitute:\n      HOST_IPC: \"true\"\n",
        &[("apps/p/pod.yaml", &pod)],
    );
    let out = render_one(&r, "clusters/prod/web.yaml").unwrap();
    assert_eq!(
        find(&out, "Pod", "p")
            .path(&["spec", "hostIPC"])
            .unwrap()
            .as_str(),
        Some("${HOST_IPC:=false}")
    );
}

#[test]
fn flux_escaped_reference_is_left_as_text() {
    let pod = POD_VARS.replace("${HOST_IPC:=false}", "\"$${HOST_IPC}\"");
    let r = flux_repo(
        "  path: ./apps/p\n  postBuild:\n    substitute:\n      HOST_IPC: \"true\"\n",
        &[("apps/p/pod.yaml", &pod)],
    );
    let out = render_one(&r, "clusters/prod/web.yaml").unwrap();
    assert_eq!(
        find(&out, "Pod", "p")
            .path(&["spec", "hostIPC"])
            .unwrap()
            .as_str(),
        Some("${HOST_IPC}")
    );
}

#[test]
fn flux_substitute_from_repository_configmap_and_secret() {
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: vars\n  namespace: flux-system\ndata:\n  HOST_IPC: \"true\"\n";
    let sec = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: flux-system\ndata:\n  TAG: MS4yNg==\n";
    let spec = "  path: ./apps/p\n  postBuild:\n    substituteFrom:\n    - kind: ConfigMap\n      name: vars\n    - kind: Secret\n      name: s\n";
    let r = flux_repo(
        spec,
        &[
            ("apps/p/pod.yaml", POD_VARS),
            ("clusters/prod/vars.yaml", cm),
            ("clusters/prod/s.yaml", sec),
        ],
    );
    let out = render_one(&r, "clusters/prod/web.yaml").unwrap();
    let p = find(&out, "Pod", "p");
    let h = p.path(&["spec", "hostIPC"]).unwrap();
    assert_eq!(h.value, Value::Bool(true));
    assert_eq!(at(&out, h), ("clusters/prod/vars.yaml".into(), 7));
    let img = p.path(&["spec", "containers"]).unwrap().as_seq().unwrap()[0]
        .get("image")
        .unwrap();
    assert_eq!(img.as_str(), Some("nginx:1.26"));
    // a ConfigMap not in the repository: reported, naming it
    let r = flux_repo(
        spec,
        &[("apps/p/pod.yaml", POD_VARS), ("clusters/prod/s.yaml", sec)],
    );
    let e = render_one(&r, "clusters/prod/web.yaml").unwrap_err();
    assert!(
        matches!(&e.kind, RenderErrorKind::Unrenderable { reference } if reference == "ConfigMap/vars"),
        "{e:?}"
    );
    // twin: optional may be missing
    let r = flux_repo(
        &spec.replace(
            "      name: vars\n",
            "      name: vars\n      optional: true\n",
        ),
        &[("apps/p/pod.yaml", POD_VARS), ("clusters/prod/s.yaml", sec)],
    );
    render_one(&r, "clusters/prod/web.yaml").unwrap();
}

#[test]
fn flux_strict_mode() {
    let pod = POD_VARS.replace("${HOST_IPC:=false}", "${HOST_IPC}");
    let r = flux_repo(
        "  path: ./apps/p\n  postBuild:\n    substitute:\n      OTHER: x\n",
        &[("apps/p/pod.yaml", &pod)],
    );
    let mut roots = roots_of(&r, "clusters/prod/web.yaml", Some("acme/deploy"));
    let lax = render_controller_root(&r, &roots[0], &Limits::default()).unwrap();
    assert_eq!(
        find(&lax, "Pod", "p")
            .path(&["spec", "hostIPC"])
            .unwrap()
            .value,
        Value::Null
    );
    roots[0].flux_strict = true;
    let e = render_controller_root(&r, &roots[0], &Limits::default()).unwrap_err();
    assert_eq!(e.kind, RenderErrorKind::Invalid);
}

#[test]
fn flux_invalid_var_name() {
    let r = flux_repo(
        "  path: ./apps/p\n  postBuild:\n    substitute:\n      bad-name: x\n",
        &[("apps/p/pod.yaml", POD_VARS)],
    );
    let e = render_one(&r, "clusters/prod/web.yaml").unwrap_err();
    assert_eq!(
        (e.kind.clone(), e.line),
        (RenderErrorKind::Invalid, 14),
        "{e:?}"
    );
}

#[test]
fn flux_overrides() {
    let spec = "  path: ./apps/web
  targetNamespace: team-b
  namePrefix: f-
  images:
  - name: nginx
    newTag: \"1.27\"
  commonMetadata:
    labels:
      owner: team-b
  patches:
  - target:
      kind: Deployment
    patch: |
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: any
      spec:
        template:
          spec:
            hostIPC: true
";
    let r = flux_repo(
        spec,
        &[
            ("apps/web/kustomization.yaml", "resources:\n- deploy.yaml\n"),
            ("apps/web/deploy.yaml", DEPLOY),
        ],
    );
    let out = render_one(&r, "clusters/prod/web.yaml").unwrap();
    let d = find(&out, "Deployment", "f-web");
    assert_eq!(str_of(d, &["metadata", "namespace"]), Some("team-b"));
    let h = d.path(&["spec", "template", "spec", "hostIPC"]).unwrap();
    assert_eq!(h.value, Value::Bool(true));
    assert_eq!(at(&out, h), ("clusters/prod/web.yaml".into(), 31));
    let img = d
        .path(&["spec", "template", "spec", "containers"])
        .unwrap()
        .as_seq()
        .unwrap()[0]
        .get("image")
        .unwrap();
    assert_eq!(img.as_str(), Some("nginx:1.27"));
    assert_eq!(at(&out, img).0, "clusters/prod/web.yaml");
    let o = d.path(&["metadata", "labels", "owner"]).unwrap();
    assert_eq!(o.as_str(), Some("team-b"));
    assert_eq!(at(&out, o), ("clusters/prod/web.yaml".into(), 19));
    // commonMetadata does not touch selectors (it is applied after the build)
    assert!(
        d.path(&["spec", "selector", "matchLabels", "owner"])
            .is_none()
    );
}

#[test]
fn flux_generated_kustomization_lists_subkustomizations() {
    let r = flux_repo(
        "  path: ./apps\n",
        &[
            ("apps/web/kustomization.yaml", "resources:\n- deploy.yaml\n"),
            ("apps/web/deploy.yaml", DEPLOY),
            (
                "apps/web/ignored-by-kustomization.yaml",
                "not: a resource\n",
            ),
            (
                "apps/z.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: z\n",
            ),
        ],
    );
    let out = render_one(&r, "clusters/prod/web.yaml").unwrap();
    assert_eq!(names(&out), ["z", "web"]);
}

#[test]
fn flux_unknown_spec_field_fails_closed() {
    let r = flux_repo(
        "  path: ./apps/p\n  patchesStrategicMerge: []\n",
        &[("apps/p/pod.yaml", POD_VARS)],
    );
    assert!(matches!(
        render_one(&r, "clusters/prod/web.yaml").unwrap_err().kind,
        RenderErrorKind::Unrenderable { .. }
    ));
}

#[test]
fn flux_sourceignore_fails_closed_for_generated() {
    let r = flux_repo(
        "  path: ./apps/p\n",
        &[
            ("apps/p/pod.yaml", POD_VARS),
            ("apps/p/.sourceignore", "*.yaml\n"),
        ],
    );
    assert!(matches!(
        render_one(&r, "clusters/prod/web.yaml").unwrap_err().kind,
        RenderErrorKind::Unrenderable { .. }
    ));
}

// ---------------------------------------------------------------- emitter

#[test]
fn edited_kustomization_round_trips() {
    let src = "resources:\n- a.yaml\npatches:\n- patch: |\n    line one\n      indented\n\n    last\n  target:\n    kind: X\nn: 1\nb: true\nz: null\ns: \"yes\"\n";
    let d = load_documents(src, &Default::default()).docs.remove(0);
    let e = emit_doc(&d);
    let back = load_documents(&e.text, &Default::default());
    assert!(back.error.is_none(), "{}", e.text);
    assert_eq!(back.docs[0].to_json(), d.to_json(), "{}", e.text);
    // every line of the literal block maps to its source line
    let i = e.text.lines().position(|l| l.contains("indented")).unwrap();
    assert_eq!(e.origins[i].line, 6);
    let _ = docs;
}

#[test]
fn argo_envsubst_is_go_os_expand() {
    let r = base_repo(&app(""));
    let root = &roots_of(&r, "argocd/app.yaml", Some("acme/deploy"))[0];
    let ex = |s: &str| argo_envsubst(s, root, "argocd/app.yaml", 1);
    assert_eq!(
        ex("${ARGOCD_APP_NAME}-$ARGOCD_APP_NAMESPACE").unwrap(),
        "web-team-a"
    );
    assert_eq!(ex("a$$b").unwrap(), "a$b");
    assert_eq!(ex("x${UNKNOWN}y").unwrap(), "xy");
    assert_eq!(ex("end$").unwrap(), "end$");
    assert_eq!(ex("bad${").unwrap(), "bad");
    assert_eq!(ex("plain").unwrap(), "plain");
    // the revision is only known at sync time: refused, not guessed
    assert!(matches!(
        ex("img:${ARGOCD_APP_REVISION}").unwrap_err().kind,
        RenderErrorKind::Unrenderable { .. }
    ));
}

#[test]
fn an_error_in_an_application_patch_names_the_application_line() {
    let k = "    kustomize:\n      patches:\n      - target:\n          kind: Deployment\n        patch: |-\n          - op: remove\n            path: /spec/nothere\n";
    let r = base_repo(&app(k));
    let e = render_one(&r, "argocd/app.yaml").unwrap_err();
    assert_eq!(e.file, "argocd/app.yaml", "{e:?}");
    assert!(e.line >= 15, "{e:?}");
    // twin: the same patch on an existing path renders
    let r = base_repo(&app(&k.replace("/spec/nothere", "/spec/replicas")));
    let out = render_one(&r, "argocd/app.yaml").unwrap();
    assert!(
        find(&out, "Deployment", "web")
            .path(&["spec", "replicas"])
            .is_none()
    );
}

#[test]
fn argo_patch_fields_outside_the_typed_patch_fail_closed() {
    let k = "    kustomize:\n      patches:\n      - path: p.yaml\n        extra: 1\n";
    let r = base_repo(&app(k));
    assert!(matches!(
        render_one(&r, "argocd/app.yaml").unwrap_err().kind,
        RenderErrorKind::Unrenderable { .. }
    ));
}

#[test]
fn flux_secret_string_data_and_empty_path() {
    let sec = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: flux-system\nstringData:\n  HOST_IPC: \"true\"\n";
    let spec =
        "  path: ./apps/p\n  postBuild:\n    substituteFrom:\n    - kind: Secret\n      name: s\n";
    let r = flux_repo(
        spec,
        &[("apps/p/pod.yaml", POD_VARS), ("clusters/prod/s.yaml", sec)],
    );
    let out = render_one(&r, "clusters/prod/web.yaml").unwrap();
    let h = find(&out, "Pod", "p").path(&["spec", "hostIPC"]).unwrap();
    assert_eq!(h.value, Value::Bool(true));
    assert_eq!(at(&out, h), ("clusters/prod/s.yaml".into(), 7));
    // a path with no YAML: Flux's `_placeholder` kustomization renders nothing
    let r = flux_repo("  path: ./apps/p\n", &[("apps/p/README.md", "x")]);
    assert!(
        render_one(&r, "clusters/prod/web.yaml")
            .unwrap()
            .objects
            .is_empty()
    );
    // a path that does not exist is an error
    let r = flux_repo("  path: ./apps/none\n", &[("apps/p/pod.yaml", POD_VARS)]);
    let roots = roots_of(&r, "clusters/prod/web.yaml", Some("acme/deploy"));
    let e = render_controller_root(&r, &roots[0], &Limits::default()).unwrap_err();
    assert_eq!(e.kind, RenderErrorKind::NotFound);
}
