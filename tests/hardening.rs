//! Integration test of the GitOps/RBAC hardening rules and the
//! unrendered-template check over the files in `tests/data/hardening`.
//!
//! Expectations live in the data files, next to what they describe: a
//! comment line `# expect-next: <rule>` (or `// expect-next:` in Jsonnet;
//! inside a `policy.csv` block the `#` line is a policy comment, which Argo
//! CD skips) says that the *next* line carries a finding of that rule. Every
//! finding must be expected and every expectation found; `expect-file:`
//! expects a finding at line 1 (file-level findings). Files under a
//! `platform/` directory are evaluated as a `platform: true` binding, the
//! others as the `team-payments` tenant (namespaces `payments`,
//! `payments-staging`). Production namespaces: `payments`, `*-prod`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use gitops_guard::engine::manifests::gitops::{self, GitopsContext, NamespaceGlobs};
use gitops_guard::engine::manifests::object::load_objects;
use gitops_guard::engine::manifests::templates::{self, ChartIndex};
use gitops_guard::engine::manifests::{rbac, secrets};
use gitops_guard::engine::yaml::Limits;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/hardening")
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

type Hit = (String, u32, String);

/// Runs every hardening rule over one file, as the orchestrator will.
fn evaluate(rel: &str, text: &str, charts: &ChartIndex) -> Vec<Hit> {
    let platform = rel.split('/').any(|s| s == "platform");
    let production = NamespaceGlobs::new(&["payments".into(), "*-prod".into()]).unwrap();
    let tenant = |ns: &str| ns == "payments" || ns == "payments-staging";
    let everything = |_: &str| true;
    let mut hits = Vec::new();
    let t = templates::check_file(rel, text, charts);
    for v in &t.violations {
        hits.push((rel.to_owned(), v.line, v.rule.to_string()));
    }
    let base = rel.rsplit('/').next().unwrap();
    if t.skip_objects || base.starts_with("kustomization.") {
        return hits;
    }
    let fo = load_objects(rel, text, &Limits::default());
    assert!(fo.findings.is_empty(), "{rel}: {:?}", fo.findings);
    for obj in &fo.objects {
        let ns = obj.namespace.as_deref().unwrap_or("payments");
        let ctx = GitopsContext {
            platform,
            namespace: ns,
            production: &production,
            tenant_namespace: if platform { &everything } else { &tenant },
        };
        let mut v = gitops::check(obj, &ctx);
        v.extend(rbac::check(obj));
        v.extend(secrets::check(obj));
        for v in v {
            assert!(!v.message.is_empty());
            hits.push((rel.to_owned(), v.line, v.rule.to_string()));
        }
    }
    hits
}

fn expectations(rel: &str, text: &str) -> Vec<Hit> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.trim_start();
        let body = l.strip_prefix('#').or_else(|| l.strip_prefix("//"));
        let body = body.map(str::trim);
        if let Some(rule) = body.and_then(|b| b.strip_prefix("expect-next:")) {
            out.push((rel.to_owned(), i as u32 + 2, rule.trim().to_owned()));
        } else if let Some(rule) = body.and_then(|b| b.strip_prefix("expect-file:")) {
            let rule = rule.split_whitespace().next().unwrap_or_default();
            out.push((rel.to_owned(), 1, rule.to_owned()));
        }
    }
    out
}

fn run(sub: &str) -> (BTreeSet<Hit>, BTreeSet<Hit>) {
    let root = data_dir();
    let mut files = Vec::new();
    walk(&root.join(sub), &mut files);
    let rels: Vec<String> = files
        .iter()
        .map(|p| {
            p.strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    let charts = ChartIndex::new(rels.iter().map(String::as_str));
    let (mut got, mut want) = (BTreeSet::new(), BTreeSet::new());
    for (path, rel) in files.iter().zip(&rels) {
        let text = fs::read_to_string(path).unwrap();
        got.extend(evaluate(rel, &text, &charts));
        want.extend(expectations(rel, &text));
    }
    (got, want)
}

#[test]
fn security_model_setup_is_clean() {
    let (got, want) = run("good");
    assert!(want.is_empty());
    assert_eq!(
        got,
        BTreeSet::new(),
        "false positives on the reference setup"
    );
}

#[test]
fn every_violation_is_found_at_its_line() {
    let (got, want) = run("bad");
    assert!(
        want.len() >= 30,
        "the corpus lost expectations: {}",
        want.len()
    );
    let missing: Vec<_> = want.difference(&got).collect();
    let unexpected: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && unexpected.is_empty(),
        "missing: {missing:#?}\nunexpected: {unexpected:#?}"
    );
}

#[test]
fn tenant_gitops_objects_are_allowed_on_platform_paths() {
    let text = fs::read_to_string(data_dir().join("bad/tenant/gitops-objects.yaml")).unwrap();
    let charts = ChartIndex::default();
    let as_tenant = evaluate("tenant/x.yaml", &text, &charts);
    let as_platform = evaluate("platform/x.yaml", &text, &charts);
    let count = |h: &[Hit]| h.iter().filter(|h| h.2 == "gitops-resource").count();
    assert_eq!(count(&as_tenant), 3);
    assert_eq!(count(&as_platform), 0);
}

#[test]
fn helm_chart_files_are_reported_even_when_only_one_changes() {
    let paths = [
        "apps/web/Chart.yaml",
        "apps/web/values.yaml",
        "apps/web/templates/deploy.yaml",
    ];
    let charts = ChartIndex::new(paths);
    // A change touching only the template: still reported, via the tree's index.
    let t = templates::check_file(
        "apps/web/templates/deploy.yaml",
        "kind: Deployment\n",
        &charts,
    );
    assert_eq!(t.violations.len(), 1);
    assert!(t.skip_objects);
    assert_eq!(t.violations[0].rule.as_str(), "unrendered-template");
}
