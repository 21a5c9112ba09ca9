//! `gitops-guard check` judges what Argo CD Applications and Flux
//! Kustomizations in the repository deploy: the path rendered with the
//! controller's overrides and `postBuild` substitution, each finding on the
//! line that introduced the value and naming the controller file as its
//! root. Each attack has its legitimate twin.

mod controller_fixtures;

use std::path::Path;
use std::process::{Command, Output};

use controller_fixtures::{argo_repo, flux_repo};

const BIN: &str = env!("CARGO_BIN_EXE_gitops-guard");

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

#[test]
fn an_application_patch_that_adds_privileged_fails_on_the_patch_line() {
    let d = argo_repo("true");
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
    let d = argo_repo("false");
    let (code, out) = check(d.path());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("[rendered from app.yaml]"), "{out}");
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
