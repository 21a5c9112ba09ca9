//! `gitops-guard render FILE` for controller files: an Argo CD Application
//! renders its path with its `spec.source.kustomize` overrides, a Flux
//! Kustomization with its overrides and `postBuild` substitution, each
//! root preceded by a `# root:` comment (YAML) or all objects in one array
//! (JSON). Each case has a legitimate twin.

mod controller_fixtures;

use std::path::Path;
use std::process::{Command, Output};

use controller_fixtures::*;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_gitops-guard");

fn render(root: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("render")
        .args(args)
        .current_dir(root)
        .output()
        .expect("run gitops-guard")
}

fn json(o: &Output) -> Vec<Value> {
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice::<Vec<Value>>(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not a JSON array ({e}): {}",
            String::from_utf8_lossy(&o.stdout)
        )
    })
}

fn privileged(objs: &[Value]) -> &Value {
    &objs[0]["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"]
}

#[test]
fn application_patch_adds_privileged() {
    let d = argo_repo("true");
    let objs = json(&render(d.path(), &["--format", "json", "app.yaml"]));
    assert_eq!(objs.len(), 1);
    assert_eq!(privileged(&objs), &Value::Bool(true));
    // the destination namespace is set as Argo CD sets it
    assert_eq!(objs[0]["metadata"]["namespace"], "team-a");
    // YAML output names the root
    let o = render(d.path(), &["app.yaml"]);
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.starts_with("# root: Application web (app.yaml:"),
        "{text}"
    );
    assert!(text.contains("privileged: true"), "{text}");
}

#[test]
fn application_patch_twin_keeps_unprivileged() {
    let d = argo_repo("false");
    let objs = json(&render(d.path(), &["--format", "json", "app.yaml"]));
    assert_eq!(privileged(&objs), &Value::Bool(false));
    // the directory itself renders without the Application's patch
    let objs = json(&render(d.path(), &["--format", "json", "apps/web"]));
    assert!(privileged(&objs).is_null());
}

#[test]
fn flux_default_renders_boolean_false() {
    let d = flux_repo("");
    let objs = json(&render(
        d.path(),
        &["--format", "json", "clusters/prod/web.yaml"],
    ));
    assert_eq!(objs.len(), 1);
    assert_eq!(objs[0]["spec"]["hostIPC"], Value::Bool(false));
    assert_eq!(objs[0]["metadata"]["labels"]["cluster"], "prod");
}

#[test]
fn flux_variable_set_to_true_renders_true() {
    let d = flux_repo("      HOST_IPC: \"true\"\n");
    let objs = json(&render(
        d.path(),
        &["--format", "json", "clusters/prod/web.yaml"],
    ));
    assert_eq!(objs[0]["spec"]["hostIPC"], Value::Bool(true));
    let o = render(d.path(), &["clusters/prod/web.yaml"]);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("hostIPC: true"), "{text}");
}

#[test]
fn several_roots_each_with_a_root_comment() {
    let d = argo_repo("true");
    let two = "apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: set
spec:
  generators:
  - list:
      elements:
      - env: prod
      - env: dev
  template:
    metadata:
      name: 'web-{{env}}'
    spec:
      project: team-a
      destination:
        namespace: '{{env}}'
      source:
        repoURL: https://github.com/acme/deploy
        path: apps/web
";
    write(d.path(), &[("set.yaml", two)]);
    let o = render(d.path(), &["set.yaml"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    assert_eq!(
        text.matches("# root: ApplicationSet web-").count(),
        2,
        "{text}"
    );
    assert!(
        text.contains("namespace: prod") && text.contains("namespace: dev"),
        "{text}"
    );
    let objs = json(&render(d.path(), &["--format", "json", "set.yaml"]));
    assert_eq!(objs.len(), 2);
}

#[test]
fn unrenderable_controller_fails_closed_naming_the_field() {
    let d = argo_repo("true");
    let git = "apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: set
spec:
  generators:
  - git:
      repoURL: https://github.com/acme/deploy
      directories:
      - path: apps/*
  template:
    metadata:
      name: '{{path.basename}}'
    spec:
      project: team-a
      destination:
        namespace: x
      source:
        repoURL: https://github.com/acme/deploy
        path: '{{path}}'
";
    write(d.path(), &[("set.yaml", git)]);
    let o = render(d.path(), &["set.yaml"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("set.yaml:7") && err.contains("`git`"), "{err}");
}

#[test]
fn a_file_that_defines_no_root_is_an_error() {
    let d = argo_repo("true");
    let o = render(d.path(), &["apps/web/deploy.yaml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("defines no root"));
}
