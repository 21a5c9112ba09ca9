//! Tenant scoping end to end: AppProject files (the team-payments project of
//! the reference security model, and projects exercising Argo CD's tricky
//! semantics), bindings, kustomizations and manifests → violations.

use std::path::Path;

use gitops_guard::engine::config::{Binding, TenantsConfig};
use gitops_guard::engine::finding::Severity;
use gitops_guard::engine::ids::RepoName;
use gitops_guard::engine::input::SourceFile;
use gitops_guard::engine::manifests::kinds::{KindTable, Scope};
use gitops_guard::engine::manifests::kustomize::Kustomizations;
use gitops_guard::engine::manifests::object::{Object, load_objects};
use gitops_guard::engine::manifests::tenants::{
    ConfigProblem, NamespaceSource, TenantContext, load_projects,
};
use gitops_guard::engine::manifests::violation::Violation;
use gitops_guard::engine::yaml::Limits;

const DATA: &str = "tests/data/tenants";

fn project_files() -> Vec<SourceFile> {
    ["team-payments.yaml", "platform.yaml"]
        .iter()
        .map(|f| {
            let path = format!("argocd/appprojects/{f}");
            let text =
                std::fs::read_to_string(Path::new(DATA).join("appprojects").join(f)).unwrap();
            SourceFile::new(path, text)
        })
        .collect()
}

fn binding(project: &str, paths: &[&str], namespace: Option<&str>) -> Binding {
    Binding {
        project: project.into(),
        paths: paths.iter().map(|s| s.to_string()).collect(),
        namespace: namespace.map(str::to_owned),
        ..Binding::default()
    }
}

fn config(bindings: Vec<Binding>) -> TenantsConfig {
    TenantsConfig {
        projects: vec!["argocd/appprojects/*.yaml".into()],
        bindings,
    }
}

struct Setup {
    ctx: TenantContext,
    problems: Vec<ConfigProblem>,
}

fn setup_with(
    cfg: TenantsConfig,
    kustomizations: &[(&str, &str)],
    crds: &[&str],
    repo: Option<&str>,
) -> Setup {
    let limits = Limits::default();
    let (projects, mut problems) = load_projects(&cfg, &project_files(), &limits);
    assert!(problems.is_empty(), "{problems:?}");
    let mut kinds = KindTable::new();
    for crd in crds {
        for o in load_objects("crds.yaml", crd, &limits).objects {
            kinds.register_crd(&o).unwrap();
        }
    }
    let (ks, kerr) = Kustomizations::from_files(kustomizations.iter().copied(), &limits);
    assert!(kerr.is_empty(), "{kerr:?}");
    let repo = repo.map(|r| RepoName::parse(r).unwrap());
    let (ctx, more) = TenantContext::new(&cfg, projects, kinds, ks, repo.as_ref());
    problems.extend(more);
    Setup { ctx, problems }
}

fn payments() -> Setup {
    setup_with(
        config(vec![binding(
            "team-payments",
            &["production/**"],
            Some("payments"),
        )]),
        &[],
        &[],
        Some("your-org/payments-manifests"),
    )
}

fn objs(path: &str, text: &str) -> Vec<Object> {
    let fo = load_objects(path, text, &Limits::default());
    assert!(fo.findings.is_empty(), "{:?}", fo.findings);
    fo.objects
}

fn check(s: &Setup, path: &str, text: &str) -> Vec<Violation> {
    objs(path, text)
        .iter()
        .flat_map(|o| s.ctx.check(o))
        .collect()
}

fn rules(v: &[Violation]) -> Vec<&str> {
    v.iter().map(|v| v.rule.as_str()).collect()
}

const DEPLOY_IN: &str =
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: payments\n";

fn deploy(ns: &str) -> String {
    format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: {ns}\n")
}

// --- unbound-path ---------------------------------------------------------

#[test]
fn unbound_path_only_when_bindings_exist() {
    let s = payments();
    let v = s.ctx.check_file("unbound/configmap.yaml");
    assert_eq!(rules(&v), ["unbound-path"]);
    assert_eq!(v[0].line, 1);
    assert!(s.ctx.check_file("production/app.yaml").is_empty());
    // kustomization files are build input, not manifests
    assert!(s.ctx.check_file("unbound/kustomization.yaml").is_empty());

    let none = setup_with(config(vec![]), &[], &[], Some("your-org/x"));
    assert!(!none.ctx.enabled());
    assert!(none.ctx.check_file("anywhere/x.yaml").is_empty());
    assert!(check(&none, "anywhere/x.yaml", &deploy("kube-system")).is_empty());
}

#[test]
fn first_matching_binding_wins() {
    let s = setup_with(
        config(vec![
            binding("platform", &["platform/**"], Some("platform")),
            binding("team-payments", &["**"], Some("payments")),
        ]),
        &[],
        &[],
        Some("your-org/infra"),
    );
    assert_eq!(s.ctx.binding_for("platform/a.yaml").unwrap().0, 0);
    assert_eq!(s.ctx.binding_for("production/a.yaml").unwrap().0, 1);
    // platform allows a DaemonSet; team-payments does not
    let ds = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: d, namespace: platform}\n";
    assert!(check(&s, "platform/ds.yaml", ds).is_empty());
    assert_eq!(
        rules(&check(&s, "production/ds.yaml", ds)),
        ["tenant-kind", "tenant-namespace"]
    );
}

// --- tenant-source-repo ---------------------------------------------------

#[test]
fn source_repo_default_is_this_repo() {
    let ok = payments();
    assert!(ok.problems.is_empty(), "{:?}", ok.problems);
    assert!(ok.ctx.check_file("production/a.yaml").is_empty());

    let other = setup_with(
        config(vec![binding("team-payments", &["production/**"], None)]),
        &[],
        &[],
        Some("your-org/other-repo"),
    );
    let v = other.ctx.check_file("production/a.yaml");
    assert_eq!(rules(&v), ["tenant-source-repo"]);
    assert!(
        v[0].message
            .contains("https://github.com/your-org/other-repo")
    );
}

#[test]
fn source_repo_binding_override_case_git_suffix_and_ssh() {
    let mut b = binding("team-payments", &["production/**"], None);
    // explicit URL with .git and odd case: normalised like Argo CD does
    b.repo = Some("https://GitHub.com/Your-Org/Payments-Manifests.git".into());
    let s = setup_with(
        config(vec![b.clone()]),
        &[],
        &[],
        Some("your-org/unrelated"),
    );
    assert!(s.ctx.check_file("production/a.yaml").is_empty());

    // the ssh form is a different URL to Argo CD: not permitted by an https entry
    b.repo = Some("git@github.com:your-org/payments-manifests.git".into());
    let s = setup_with(config(vec![b.clone()]), &[], &[], None);
    assert_eq!(
        rules(&s.ctx.check_file("production/a.yaml")),
        ["tenant-source-repo"]
    );

    // an owner/name repo is accepted in either form: ssh-only project
    let mut b = binding("ssh-only", &["teams/**"], Some("team-a"));
    b.repo = Some("your-org/ssh-repo".into());
    let s = setup_with(config(vec![b]), &[], &[], None);
    assert!(s.ctx.check_file("teams/a.yaml").is_empty());
}

#[test]
fn source_repo_negation_as_argo_evaluates_it() {
    // platform: allows your-org/* (https and ssh) but denies the https URL
    // of payments-manifests
    let mut b = binding("platform", &["platform/**"], None);
    b.repo = Some("https://github.com/your-org/payments-manifests.git".into());
    let s = setup_with(config(vec![b.clone()]), &[], &[], None);
    assert_eq!(
        rules(&s.ctx.check_file("platform/a.yaml")),
        ["tenant-source-repo"]
    );
    // ...and Argo CD really does accept the ssh URL of the same repository
    // (the deny names only the https form; a non-matching deny counts as a
    // match), so an owner/name binding, which may use either form, passes.
    b.repo = Some("git@github.com:your-org/payments-manifests.git".into());
    let s = setup_with(config(vec![b]), &[], &[], None);
    assert!(s.ctx.check_file("platform/a.yaml").is_empty());
    let s = setup_with(
        config(vec![binding("platform", &["platform/**"], None)]),
        &[],
        &[],
        Some("your-org/payments-manifests"),
    );
    assert!(s.ctx.check_file("platform/a.yaml").is_empty());
    let s = setup_with(
        config(vec![binding("platform", &["platform/**"], None)]),
        &[],
        &[],
        Some("your-org/infra"),
    );
    assert!(s.ctx.check_file("platform/a.yaml").is_empty());
    // deny-only list permits every other repository
    let s = setup_with(
        config(vec![binding("deny-only", &["x/**"], Some("apps"))]),
        &[],
        &[],
        Some("anyone/anything"),
    );
    assert!(s.ctx.check_file("x/a.yaml").is_empty());
    let mut b = binding("deny-only", &["x/**"], Some("apps"));
    b.repo = Some("https://github.com/evil/repo".into());
    let s = setup_with(config(vec![b.clone()]), &[], &[], None);
    assert_eq!(rules(&s.ctx.check_file("x/a.yaml")), ["tenant-source-repo"]);
    // the deny names the https form only; Argo CD permits the ssh form
    b.repo = Some("git@github.com:evil/repo.git".into());
    let s = setup_with(config(vec![b]), &[], &[], None);
    assert!(s.ctx.check_file("x/a.yaml").is_empty());
}

#[test]
fn unknown_repo_is_a_warning_not_a_pass_in_silence() {
    let s = setup_with(
        config(vec![binding("team-payments", &["production/**"], None)]),
        &[],
        &[],
        None,
    );
    assert_eq!(s.problems.len(), 1);
    assert_eq!(s.problems[0].severity, Severity::Warning);
    assert!(s.problems[0].message.contains("sourceRepos"));
}

// --- tenant-namespace -----------------------------------------------------

#[test]
fn namespace_permitted_and_foreign() {
    let s = payments();
    assert!(check(&s, "production/a.yaml", DEPLOY_IN).is_empty());
    assert!(check(&s, "production/a.yaml", &deploy("payments-staging")).is_empty());
    let v = check(&s, "production/a.yaml", &deploy("kube-system"));
    assert_eq!(rules(&v), ["tenant-namespace"]);
    assert_eq!(v[0].line, 5, "points at metadata.namespace");
    assert!(v[0].message.contains("kube-system"));
    // case-sensitive, as Argo CD's glob
    assert_eq!(
        rules(&check(&s, "production/a.yaml", &deploy("Payments"))),
        ["tenant-namespace"]
    );
}

#[test]
fn namespace_falls_back_to_binding_then_missing() {
    let s = payments();
    let no_ns = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n";
    assert!(check(&s, "production/c.yaml", no_ns).is_empty());
    let o = &objs("production/c.yaml", no_ns)[0];
    assert_eq!(s.ctx.effective_namespace(o).as_deref(), Some("payments"));
    // empty string is no namespace at all (Go treats "" as unset)
    let empty = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: ''\n";
    assert!(check(&s, "production/c.yaml", empty).is_empty());

    let bare = setup_with(
        config(vec![binding("team-payments", &["production/**"], None)]),
        &[],
        &[],
        Some("your-org/payments-manifests"),
    );
    let v = check(&bare, "production/c.yaml", no_ns);
    assert_eq!(rules(&v), ["tenant-namespace"]);
    assert!(v[0].message.contains("has no namespace"));
    assert_eq!(v[0].line, 3, "points at metadata");
}

#[test]
fn binding_namespace_outside_destinations_is_reported() {
    let s = setup_with(
        config(vec![binding(
            "team-payments",
            &["production/**"],
            Some("default"),
        )]),
        &[],
        &[],
        Some("your-org/payments-manifests"),
    );
    let v = check(
        &s,
        "production/c.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
    );
    assert_eq!(rules(&v), ["tenant-namespace"]);
    assert!(v[0].message.contains("binding 0"));
}

#[test]
fn destination_negation_and_server() {
    // deny-only destinations: anything but kube-system on the in-cluster server
    let cm = |ns: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c, namespace: {ns}}}\n")
    };
    let s = setup_with(
        config(vec![binding("platform", &["platform/**"], None)]),
        &[],
        &[],
        Some("your-org/infra"),
    );
    assert!(check(&s, "platform/a.yaml", &cm("monitoring")).is_empty());
    assert_eq!(
        rules(&check(&s, "platform/a.yaml", &cm("kube-system"))),
        ["tenant-namespace"]
    );

    let mut b = binding("deny-only", &["x/**"], None);
    b.server = Some("https://other-cluster.example".into());
    let s = setup_with(config(vec![b]), &[], &[], Some("a/b"));
    // the only destination is on the in-cluster server: another server fails
    let v: Vec<_> = check(&s, "x/a.yaml", &cm("apps"))
        .into_iter()
        .filter(|v| v.rule.as_str() == "tenant-namespace")
        .collect();
    assert_eq!(v.len(), 1);
    assert!(v[0].message.contains("https://other-cluster.example"));
}

#[test]
fn destination_by_cluster_name_and_brace_glob() {
    let mut b = binding("ssh-only", &["teams/**"], None);
    b.repo = Some("your-org/ssh-repo".into());
    let s = setup_with(config(vec![b]), &[], &[], None);
    let cm = |ns: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c, namespace: {ns}}}\n")
    };
    assert!(check(&s, "teams/a.yaml", &cm("team-a")).is_empty());
    assert!(check(&s, "teams/a.yaml", &cm("team-b")).is_empty());
    assert_eq!(
        rules(&check(&s, "teams/a.yaml", &cm("team-c"))),
        ["tenant-namespace"]
    );
}

// --- kustomize ------------------------------------------------------------

#[test]
fn kustomize_namespace_overrides_metadata_namespace() {
    // kustomization sets kube-system: a clean-looking manifest lands there
    let s = setup_with(
        config(vec![binding(
            "team-payments",
            &["production/**"],
            Some("payments"),
        )]),
        &[(
            "production/kustomization.yaml",
            "namespace: kube-system\nresources: [a.yaml]\n",
        )],
        &[],
        Some("your-org/payments-manifests"),
    );
    let v = check(&s, "production/a.yaml", DEPLOY_IN);
    assert_eq!(rules(&v), ["tenant-namespace"]);
    assert!(v[0].message.contains("production/kustomization.yaml"));
    assert!(
        v[0].message
            .contains("overriding metadata.namespace `payments`")
    );
    let o = &objs("production/a.yaml", DEPLOY_IN)[0];
    assert_eq!(s.ctx.effective_namespace(o).as_deref(), Some("kube-system"));
    // a file the kustomization does not list keeps its own namespace
    assert!(check(&s, "production/b.yaml", DEPLOY_IN).is_empty());

    // and the other way round: a foreign metadata.namespace is overridden
    let s = setup_with(
        config(vec![binding(
            "team-payments",
            &["production/**"],
            Some("payments"),
        )]),
        &[(
            "production/kustomization.yaml",
            "namespace: payments\nresources: [a.yaml]\n",
        )],
        &[],
        Some("your-org/payments-manifests"),
    );
    assert!(check(&s, "production/a.yaml", &deploy("kube-system")).is_empty());
}

#[test]
fn kustomize_parent_and_every_root() {
    let s = setup_with(
        config(vec![binding(
            "team-payments",
            &["production/**"],
            Some("payments"),
        )]),
        &[
            (
                "production/base/kustomization.yaml",
                "resources: [a.yaml]\n",
            ),
            (
                "production/overlay/kustomization.yaml",
                "namespace: payments-staging\nresources: [../base]\n",
            ),
            (
                "evil/kustomization.yaml",
                "namespace: kube-system\nresources: [../production/base]\n",
            ),
        ],
        &[],
        Some("your-org/payments-manifests"),
    );
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
    let v = check(&s, "production/base/a.yaml", cm);
    assert_eq!(rules(&v), ["tenant-namespace"]);
    assert!(
        v[0].message.contains("kube-system") && v[0].message.contains("evil/kustomization.yaml")
    );
    let o = &objs("production/base/a.yaml", cm)[0];
    let all: Vec<_> = s
        .ctx
        .effective_namespaces(o)
        .into_iter()
        .map(|e| e.namespace)
        .collect();
    assert!(all.contains(&Some("payments".into())), "{all:?}"); // built at base
    assert!(all.contains(&Some("payments-staging".into())));
    assert!(all.contains(&Some("kube-system".into())));
}

// --- tenant-kind / tenant-cluster-resource --------------------------------

#[test]
fn namespaced_kinds_against_whitelist() {
    let s = payments();
    let kind = |api: &str, k: &str| {
        format!("apiVersion: {api}\nkind: {k}\nmetadata:\n  name: x\n  namespace: payments\n")
    };
    for (api, k) in [
        ("v1", "ConfigMap"),
        ("v1", "Service"),
        ("apps/v1", "StatefulSet"),
        ("networking.k8s.io/v1", "Ingress"),
        ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ] {
        assert!(
            check(&s, "production/x.yaml", &kind(api, k)).is_empty(),
            "{k}"
        );
    }
    for (api, k) in [
        ("v1", "Secret"),
        ("apps/v1", "DaemonSet"),
        ("batch/v1", "Job"),
        ("rbac.authorization.k8s.io/v1", "Role"),
    ] {
        let v = check(&s, "production/x.yaml", &kind(api, k));
        assert_eq!(rules(&v), ["tenant-kind"], "{k}");
        assert_eq!(v[0].line, 2, "points at kind");
    }
    // group matters: Deployment in a made-up group is unknown, not apps
    let v = check(
        &s,
        "production/x.yaml",
        &kind("example.com/v1", "Deployment"),
    );
    assert_eq!(rules(&v), ["tenant-kind"]);
    assert!(v[0].message.contains("unknown"));
}

#[test]
fn empty_namespace_whitelist_allows_nothing_absent_allows_all() {
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: apps}\n";
    let s = setup_with(
        config(vec![binding("deny-only", &["x/**"], None)]),
        &[],
        &[],
        Some("a/b"),
    );
    let v = check(&s, "x/a.yaml", cm);
    assert_eq!(rules(&v), ["tenant-kind"]);
    assert!(v[0].message.contains("empty"));
    // platform has no namespace lists: all namespaced kinds
    let s = setup_with(
        config(vec![binding("platform", &["p/**"], None)]),
        &[],
        &[],
        Some("your-org/infra"),
    );
    assert!(check(&s, "p/a.yaml", cm).is_empty());
}

#[test]
fn cluster_scoped_kinds() {
    let s = payments();
    let ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: payments-new\n";
    let v = check(&s, "production/ns.yaml", ns);
    assert_eq!(rules(&v), ["tenant-cluster-resource"]);
    assert!(
        v[0].message
            .contains("clusterResourceBlacklist entry {group: '', kind: 'Namespace'}")
    );
    assert!(v[0].message.contains("no clusterResourceWhitelist"));
    // not blacklisted, but no whitelist at all: still denied
    let pv = "apiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: pv1\n";
    let v = check(&s, "production/pv.yaml", pv);
    assert_eq!(rules(&v), ["tenant-cluster-resource"]);
    assert!(v[0].message.contains("no clusterResourceWhitelist"));
    // a namespace on a cluster-scoped object is ignored (no tenant-namespace)
    let crb = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: x, namespace: payments}\n";
    assert_eq!(
        rules(&check(&s, "production/crb.yaml", crb)),
        ["tenant-cluster-resource"]
    );

    // platform: whitelist */* minus Namespaces named kube-*
    let p = setup_with(
        config(vec![binding("platform", &["p/**"], None)]),
        &[],
        &[],
        Some("your-org/infra"),
    );
    assert!(check(&p, "p/ns.yaml", ns).is_empty());
    assert!(check(&p, "p/crb.yaml", crb).is_empty());
    let kube = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: kube-evil\n";
    assert_eq!(
        rules(&check(&p, "p/ns.yaml", kube)),
        ["tenant-cluster-resource"]
    );
}

#[test]
fn crds_decide_custom_kinds_and_unknown_is_reported() {
    let widget =
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: monitoring}\n";
    let s = setup_with(
        config(vec![binding("platform", &["p/**"], None)]),
        &[],
        &[],
        Some("your-org/infra"),
    );
    let v = check(&s, "p/w.yaml", widget);
    assert_eq!(rules(&v), ["tenant-kind"]);
    assert!(v[0].message.contains("CustomResourceDefinition"));

    let crd = |scope: &str| {
        format!(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {{name: widgets.example.com}}\nspec:\n  group: example.com\n  names: {{kind: Widget, plural: widgets}}\n  scope: {scope}\n"
        )
    };
    let s = setup_with(
        config(vec![binding("platform", &["p/**"], None)]),
        &[],
        &[&crd("Namespaced")],
        Some("your-org/infra"),
    );
    assert!(check(&s, "p/w.yaml", widget).is_empty());
    assert_eq!(s.ctx.scope(&objs("p/w.yaml", widget)[0]), Scope::Namespaced);
    // a cluster-scoped custom kind is judged by the cluster lists
    let s = setup_with(
        config(vec![binding("team-payments", &["p/**"], Some("payments"))]),
        &[],
        &[&crd("Cluster")],
        Some("your-org/payments-manifests"),
    );
    assert_eq!(
        rules(&check(&s, "p/w.yaml", widget)),
        ["tenant-cluster-resource"]
    );
}

// --- config problems, default project -------------------------------------

#[test]
fn missing_project_is_a_config_error_and_default_is_builtin() {
    let s = setup_with(
        config(vec![binding("no-such-project", &["x/**"], Some("a"))]),
        &[],
        &[],
        Some("a/b"),
    );
    assert_eq!(s.problems.len(), 1);
    assert_eq!(s.problems[0].severity, Severity::Error);
    assert_eq!(s.problems[0].binding, Some(0));
    assert!(s.problems[0].message.contains("no-such-project"));
    assert!(check(&s, "x/a.yaml", &deploy("kube-system")).is_empty());

    // Argo CD's auto-created default project permits everything
    let d = setup_with(
        config(vec![binding("default", &["x/**"], None)]),
        &[],
        &[],
        Some("a/b"),
    );
    assert!(d.problems.is_empty(), "{:?}", d.problems);
    assert!(d.ctx.check_file("x/a.yaml").is_empty());
    assert!(check(&d, "x/a.yaml", &deploy("kube-system")).is_empty());
    assert!(
        check(
            &d,
            "x/a.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: n}\n"
        )
        .is_empty()
    );
}

#[test]
fn bad_globs_and_invalid_projects_are_config_errors() {
    let s = setup_with(
        config(vec![binding("platform", &["p/[", "q/**"], None)]),
        &[],
        &[],
        Some("your-org/x"),
    );
    assert_eq!(s.problems.len(), 1);
    assert!(s.problems[0].message.contains("paths"));
    // the good glob still binds; the bad one binds nothing (fail closed)
    assert!(s.ctx.binding_for("q/a.yaml").is_some());
    assert_eq!(rules(&s.ctx.check_file("p/[")), ["unbound-path"]);

    let cfg = config(vec![]);
    let files = vec![SourceFile::new(
        "argocd/appprojects/bad.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata: {name: bad}\nspec:\n  destinations: {server: x}\n",
    )];
    let (projects, problems) = load_projects(&cfg, &files, &Limits::default());
    assert!(projects.is_empty());
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].line, 5);

    let files = vec![SourceFile::new(
        "argocd/appprojects/star.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata: {name: star}\nspec:\n  sourceRepos: ['!*']\n",
    )];
    let (projects, problems) = load_projects(&cfg, &files, &Limits::default());
    assert!(problems.is_empty());
    let (_, problems) = TenantContext::new(
        &cfg,
        projects,
        KindTable::new(),
        Kustomizations::new(),
        None,
    );
    assert_eq!(problems.len(), 1);
    assert!(problems[0].message.contains("'!*'"));
}

// --- the sample repository ------------------------------------------------

#[test]
fn sample_repository_end_to_end() {
    let root = Path::new(DATA).join("repo");
    let mut files = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                files.push(SourceFile::new(rel, std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let limits = Limits::default();
    let cfg = config(vec![binding(
        "team-payments",
        &["production/**"],
        Some("payments"),
    )]);
    let (projects, problems) = load_projects(&cfg, &project_files(), &limits);
    assert!(problems.is_empty());
    let (ks, kerr) = Kustomizations::from_files(
        files.iter().map(|f| (f.path.as_str(), f.text.as_str())),
        &limits,
    );
    assert!(kerr.is_empty());
    let repo = RepoName::parse("your-org/payments-manifests").unwrap();
    let (ctx, problems) = TenantContext::new(&cfg, projects, KindTable::new(), ks, Some(&repo));
    assert!(problems.is_empty(), "{problems:?}");

    let mut got: Vec<(String, String, u32)> = Vec::new();
    for f in &files {
        for v in ctx.check_file(&f.path) {
            got.push((f.path.clone(), v.rule.0.clone(), v.line));
        }
        for o in load_objects(&f.path, &f.text, &limits).objects {
            for v in ctx.check(&o) {
                got.push((f.path.clone(), v.rule.0.clone(), v.line));
            }
        }
    }
    let want: Vec<(String, String, u32)> = [
        ("production/extra/daemonset.yaml", "tenant-kind", 2),
        (
            "production/extra/daemonset.yaml",
            "tenant-cluster-resource",
            17,
        ),
        // the Service is also rendered into kube-system by staging/
        ("production/service.yaml", "tenant-namespace", 3),
        ("unbound/configmap.yaml", "unbound-path", 1),
    ]
    .iter()
    .map(|(f, r, l)| (f.to_string(), r.to_string(), *l))
    .collect();
    let mut got_sorted = got.clone();
    got_sorted.sort();
    let mut want_sorted = want;
    want_sorted.sort();
    assert_eq!(got_sorted, want_sorted);

    // the Deployment's own `namespace: kube-system` is overridden by kustomize
    let dep = &load_objects(
        "production/deployment.yaml",
        &files
            .iter()
            .find(|f| f.path == "production/deployment.yaml")
            .unwrap()
            .text,
        &limits,
    )
    .objects[0];
    assert_eq!(ctx.effective_namespace(dep).as_deref(), Some("payments"));
    let e = ctx.effective_namespaces(dep);
    assert_eq!(e.len(), 1);
    assert_eq!(
        e[0].source,
        NamespaceSource::Kustomization("production/kustomization.yaml".into())
    );
}
