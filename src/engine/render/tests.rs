//! Unit tests of the renderer: provenance, fail-closed errors, bounds, and
//! kustomize behaviours taken from its own tests (api/krusty).

use std::collections::BTreeMap;

use super::*;

fn files(list: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
    list.iter()
        .map(|(p, c)| ((*p).to_owned(), c.as_bytes().to_vec()))
        .collect()
}

const DEPLOY: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: app
        image: nginx:1.25
";

fn ok(f: &BTreeMap<String, Vec<u8>>, root: &str) -> Rendered {
    render(f, root, &Limits::default()).unwrap_or_else(|e| panic!("render failed: {e}"))
}

fn err(f: &BTreeMap<String, Vec<u8>>, root: &str) -> RenderError {
    render(f, root, &Limits::default()).expect_err("render must fail")
}

fn container(r: &Rendered) -> &Node {
    &r.objects[0]
        .path(&["spec", "template", "spec", "containers"])
        .unwrap()
        .as_seq()
        .unwrap()[0]
}

#[test]
fn an_inline_json_patch_value_points_at_its_line_in_the_overlay() {
    let f = files(&[
        ("base/kustomization.yaml", "resources:\n- deploy.yaml\n"),
        ("base/deploy.yaml", DEPLOY),
        (
            "overlay/kustomization.yaml",
            "resources:\n- ../base\npatches:\n- target:\n    kind: Deployment\n  patch: |-\n    - op: add\n      path: /spec/template/spec/containers/0/securityContext\n      value:\n        privileged: true\n",
        ),
    ]);
    let r = ok(&f, "overlay");
    let sc = container(&r).get("securityContext").unwrap();
    let p = sc.get("privileged").unwrap();
    assert_eq!(p.as_bool(), Some(true));
    assert_eq!(r.file_of(p.span), "overlay/kustomization.yaml");
    assert_eq!(
        p.span.line, 10,
        "the `privileged: true` line of the inline patch"
    );
    // the unchanged image still points at the base
    let image = container(&r).get("image").unwrap();
    assert_eq!(
        (r.file_of(image.span), image.span.line),
        ("base/deploy.yaml", 10)
    );
}

#[test]
fn a_strategic_merge_patch_file_and_an_images_entry_keep_their_lines() {
    let f = files(&[
        (
            "kustomization.yaml",
            "resources:\n- deploy.yaml\npatches:\n- path: patch.yaml\nimages:\n- name: nginx\n  newTag: latest\n",
        ),
        ("deploy.yaml", DEPLOY),
        (
            "patch.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      hostNetwork: true\n",
        ),
    ]);
    let r = ok(&f, "");
    let spec = r.objects[0].path(&["spec", "template", "spec"]).unwrap();
    let hn = spec.get("hostNetwork").unwrap();
    assert_eq!((r.file_of(hn.span), hn.span.line), ("patch.yaml", 8));
    let image = container(&r).get("image").unwrap();
    assert_eq!(image.as_str(), Some("nginx:latest"));
    assert_eq!(
        (r.file_of(image.span), image.span.line),
        ("kustomization.yaml", 6)
    );
}

#[test]
fn remote_resources_helm_and_plugins_are_unrenderable_with_the_reference() {
    for (k, reference) in [
        (
            "resources:\n- https://github.com/org/repo//base?ref=v1\n",
            "https://github.com/org/repo//base?ref=v1",
        ),
        (
            "resources:\n- github.com/org/repo/base\n",
            "github.com/org/repo/base",
        ),
        (
            "helmCharts:\n- name: x\n  repo: https://charts.example.com\n",
            "helmCharts",
        ),
        ("transformers:\n- t.yaml\n", "transformers"),
        ("generators:\n- g.yaml\n", "generators"),
        ("replacements:\n- path: r.yaml\n", "replacements"),
    ] {
        let e = err(&files(&[("kustomization.yaml", k)]), "");
        assert_eq!(
            e.kind,
            RenderErrorKind::Unrenderable {
                reference: reference.to_owned()
            },
            "{k}"
        );
        assert_eq!(
            (e.file.as_str(), e.line),
            (
                "kustomization.yaml",
                if k.starts_with("resources") { 2 } else { 1 }
            )
        );
    }
}

#[test]
fn a_file_outside_the_kustomization_root_is_refused_but_a_directory_is_not() {
    let f = files(&[
        ("common/deploy.yaml", DEPLOY),
        ("common/kustomization.yaml", "resources:\n- deploy.yaml\n"),
        (
            "app/kustomization.yaml",
            "resources:\n- ../common/deploy.yaml\n",
        ),
        ("ok/kustomization.yaml", "resources:\n- ../common\n"),
    ]);
    assert_eq!(err(&f, "app").kind, RenderErrorKind::OutsideRoot);
    assert_eq!(ok(&f, "ok").objects.len(), 1);
}

#[test]
fn cycles_depth_and_size_are_bounded() {
    let f = files(&[
        ("a/kustomization.yaml", "resources:\n- ../b\n"),
        ("b/kustomization.yaml", "resources:\n- ../a\n"),
    ]);
    assert_eq!(err(&f, "a").kind, RenderErrorKind::Cycle);
    let mut chain = vec![(
        "d0/kustomization.yaml".to_owned(),
        "resources:\n- deploy.yaml\n".to_owned(),
    )];
    chain.push(("d0/deploy.yaml".to_owned(), DEPLOY.to_owned()));
    for i in 1..40 {
        chain.push((
            format!("d{i}/kustomization.yaml"),
            format!("resources:\n- ../d{}\n", i - 1),
        ));
    }
    let f: BTreeMap<String, Vec<u8>> = chain
        .into_iter()
        .map(|(p, c)| (p, c.into_bytes()))
        .collect();
    assert_eq!(err(&f, "d39").kind, RenderErrorKind::Limit);
    assert_eq!(ok(&f, "d10").objects.len(), 1);
    let limits = Limits {
        max_output_nodes: 5,
        ..Limits::default()
    };
    assert_eq!(
        render(&f, "d0", &limits).unwrap_err().kind,
        RenderErrorKind::Limit
    );
}

#[test]
fn unknown_fields_and_bad_yaml_name_file_and_line() {
    let e = err(
        &files(&[("kustomization.yaml", "resources: []\nnamePrefx: a-\n")]),
        "",
    );
    assert_eq!((e.kind, e.line), (RenderErrorKind::Invalid, 2));
    let e = err(
        &files(&[
            ("kustomization.yaml", "resources:\n- d.yaml\n"),
            ("d.yaml", "a: [\n"),
        ]),
        "",
    );
    assert_eq!((e.kind, e.file.as_str()), (RenderErrorKind::Yaml, "d.yaml"));
    let e = err(
        &files(&[("kustomization.yaml", "resources:\n- missing.yaml\n")]),
        "",
    );
    assert_eq!((e.kind, e.line), (RenderErrorKind::NotFound, 2));
}

/// A generated ConfigMap gets a 10-character hash suffix after the prefix,
/// and a volume naming it follows the new name.
#[test]
fn generated_names_get_kustomizes_hash_and_references_follow() {
    let f = files(&[
        (
            "kustomization.yaml",
            "namePrefix: p-\nresources:\n- deploy.yaml\nconfigMapGenerator:\n- name: cfg\n  literals:\n  - a=b\n",
        ),
        (
            "deploy.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      volumes:\n      - name: v\n        configMap:\n          name: cfg\n",
        ),
    ]);
    let r = ok(&f, "");
    let cm = &r.objects[0];
    let name = cm
        .path(&["metadata", "name"])
        .and_then(Node::as_str)
        .unwrap();
    assert!(
        name.starts_with("p-cfg-") && name.len() == "p-cfg-".len() + 10,
        "{name}"
    );
    let vol = r.objects[1]
        .path(&["spec", "template", "spec", "volumes"])
        .unwrap()
        .as_seq()
        .unwrap()[0]
        .path(&["configMap", "name"])
        .and_then(Node::as_str)
        .unwrap();
    assert_eq!(vol, name);
}

#[test]
fn strategic_merge_puts_patched_containers_first_as_kyaml_does() {
    let f = files(&[
        (
            "kustomization.yaml",
            "resources:\n- d.yaml\npatches:\n- patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata: {name: web}\n    spec:\n      template:\n        spec:\n          containers:\n          - name: b\n            image: b:2\n",
        ),
        (
            "d.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers:\n      - {name: a, image: a:1}\n      - {name: b, image: b:1}\n",
        ),
    ]);
    let r = ok(&f, "");
    let names: Vec<_> = r.objects[0]
        .path(&["spec", "template", "spec", "containers"])
        .unwrap()
        .as_seq()
        .unwrap()
        .iter()
        .map(|c| c.get("image").and_then(Node::as_str).unwrap().to_owned())
        .collect();
    assert_eq!(names, ["b:2", "a:1"]);
}

#[test]
fn image_names_split_as_kustomize() {
    use super::transform::split_image;
    let s = |i: &str| split_image(i);
    assert_eq!(s("nginx"), ("nginx".into(), "".into(), "".into()));
    assert_eq!(s("nginx:1.25"), ("nginx".into(), "1.25".into(), "".into()));
    assert_eq!(
        s("localhost:5000/app:v1"),
        ("localhost:5000/app".into(), "v1".into(), "".into())
    );
    assert_eq!(
        s("app@sha256:abc"),
        ("app".into(), "".into(), "sha256:abc".into())
    );
    assert_eq!(
        s("r.io/app:v1@sha256:abc"),
        ("r.io/app".into(), "v1".into(), "sha256:abc".into())
    );
}
