//! Change mode (`evaluate_change`): what a PR is judged on.

use chrono::NaiveDate;
use gitops_guard::engine::config::parse_config;
use gitops_guard::engine::input::{
    ChangeInput, ChangeStatus, ChangedFile, PolicyInputs, SourceFile,
};
use gitops_guard::engine::manifests::evaluate::evaluate_change;

const CONFIG: &str = "version: 1\ntenants:\n  projects: [\"projects/*.yaml\"]\n  bindings:\n    - project: team-a\n      paths: [\"apps/**\"]\n      namespace: team-a\n      repo: acme/deploy\n";
const PROJECT: &str = "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata:\n  name: team-a\n  namespace: argocd\nspec:\n  sourceRepos: [\"https://github.com/acme/deploy\"]\n  destinations:\n    - server: https://kubernetes.default.svc\n      namespace: team-a\n";
const BASE_DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n        - name: web\n          image: ghcr.io/acme/web:1.0\n";

fn policy() -> PolicyInputs {
    PolicyInputs {
        config: parse_config(".github/gitops-guard.yml", CONFIG).unwrap(),
        config_source: ".github/gitops-guard.yml".into(),
        support: vec![SourceFile::new("projects/team-a.yaml", PROJECT)],
        repo: gitops_guard::engine::ids::RepoName::parse("acme/deploy"),
        today: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
    }
}

fn overlay(ns: &str) -> String {
    format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: {ns}\nresources:\n  - ../../base\n"
    )
}

fn change(overlay_head: &str) -> ChangeInput {
    ChangeInput {
        changed: vec![ChangedFile {
            path: "apps/overlays/prod/kustomization.yaml".into(),
            previous_path: None,
            status: ChangeStatus::Modified,
            base: Some(overlay("team-a")),
            head: Some(overlay_head.to_owned()),
        }],
        head_context: vec![
            SourceFile::new(
                "apps/base/kustomization.yaml",
                "resources:\n  - deployment.yaml\n",
            ),
            SourceFile::new("apps/base/deployment.yaml", BASE_DEPLOY),
        ],
    }
}

#[test]
fn overlay_retargeting_an_unchanged_base_is_caught() {
    let ev = evaluate_change(&policy(), &change(&overlay("kube-system")));
    let hits: Vec<_> = ev
        .findings
        .iter()
        // The rendered Deployment's namespace comes from the overlay's
        // `namespace:` line (provenance), and the overlay is its root.
        .filter(|f| {
            f.rule.as_str() == "tenant-namespace"
                && f.file == "apps/overlays/prod/kustomization.yaml"
                && f.line == 3
                && f.root.as_deref() == Some("apps/overlays/prod/kustomization.yaml")
        })
        .collect();
    assert_eq!(hits.len(), 1, "{:#?}", ev.findings);
    assert!(
        hits[0].message.contains("kube-system"),
        "{}",
        hits[0].message
    );
}

#[test]
fn overlay_staying_in_the_tenant_namespace_passes() {
    let ev = evaluate_change(&policy(), &change(&overlay("team-a")));
    assert!(!ev.has_errors(), "{:#?}", ev.findings);
}

#[test]
fn unchanged_files_outside_the_change_are_not_evaluated() {
    // A broken file that the PR does not touch and no changed kustomization
    // includes is not the PR's finding.
    let mut c = change(&overlay("team-a"));
    c.head_context
        .push(SourceFile::new("apps/other/broken.yaml", "a: [\n"));
    let ev = evaluate_change(&policy(), &c);
    assert!(
        ev.findings
            .iter()
            .all(|f| f.file != "apps/other/broken.yaml"),
        "{:#?}",
        ev.findings
    );
}

#[test]
fn config_edit_is_a_policy_change_note() {
    let mut c = change(&overlay("team-a"));
    c.changed.push(ChangedFile {
        path: ".github/gitops-guard.yml".into(),
        previous_path: None,
        status: ChangeStatus::Modified,
        base: Some(CONFIG.into()),
        head: Some("version: 1\n".into()),
    });
    let ev = evaluate_change(&policy(), &c);
    assert!(
        ev.findings
            .iter()
            .any(|f| f.rule.as_str() == "policy-change"),
        "{:#?}",
        ev.findings
    );
    assert!(ev.notes.iter().any(|n| n.contains("gitops-guard.yml")));
}

#[test]
fn image_rules_apply_even_with_pod_security_off() {
    // `admission.images` is its own setting: turning Pod Security off must
    // not silently turn off `forbid_latest`.
    let mut p = policy();
    p.config.admission.level = gitops_guard::engine::config::PssLevel::None;
    p.config.admission.warn = gitops_guard::engine::config::PssLevel::None;
    let latest = BASE_DEPLOY.replace("ghcr.io/acme/web:1.0", "ghcr.io/acme/web:latest");
    let c = ChangeInput {
        changed: vec![ChangedFile {
            path: "apps/web.yaml".into(),
            previous_path: None,
            status: ChangeStatus::Added,
            base: None,
            head: Some(latest.replace("name: web\nspec", "name: web\n  namespace: team-a\nspec")),
        }],
        head_context: vec![],
    };
    let ev = evaluate_change(&p, &c);
    assert!(
        ev.findings.iter().any(|f| f.rule.as_str() == "image-tag"),
        "{:#?}",
        ev.findings
    );
    // And with forbid_latest off, the tag is accepted.
    p.config.admission.images.forbid_latest = false;
    let ev = evaluate_change(&p, &c);
    assert!(
        ev.findings.iter().all(|f| f.rule.as_str() != "image-tag"),
        "{:#?}",
        ev.findings
    );
}
