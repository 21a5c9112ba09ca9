//! `unrendered-template`: files whose real content only exists after a
//! render step we do not run (Helm, Jsonnet, Go templates, kustomize Helm
//! inflation, remote kustomize bases). They are reported as errors ("cannot
//! be evaluated"), never silently passed: a chart template can hold a
//! privileged pod that no rule would see.
//!
//! What is reported, precisely (one finding per file, except kustomization
//! entries, which get one each):
//!
//! 1. Jsonnet: `*.jsonnet`, `*.libsonnet` (Argo CD renders Jsonnet in
//!    directory sources).
//! 2. Helm charts: `Chart.yaml` and every file under a directory that holds
//!    a `Chart.yaml` (templates, values, helpers), as listed in the
//!    [`ChartIndex`] built from the whole tree, so a pull request that only
//!    touches `templates/deployment.yaml` is still reported. A file under a
//!    `templates/` directory that uses Helm's built-in objects (`.Values`,
//!    `.Release`, `.Chart`, `.Capabilities`, `.Files`, `.Template`,
//!    `include`) is a Helm template even when its `Chart.yaml` is elsewhere.
//! 3. Go-template sources: `*.tpl`, `*.gotmpl`, `helmfile.yaml`.
//! 4. Go template actions where YAML structure would be: a `{{` that the
//!    YAML parser reads as two nested flow mappings (`replicas: {{ .n }}`),
//!    or any `{{ … }}` in a file that does not parse. `{{ }}` *inside a
//!    string* in a file that parses is fine: Argo CD ApplicationSets,
//!    Kyverno policies and PrometheusRule annotations (`{{ $labels.name }}`)
//!    carry such strings to controllers that evaluate them at run time.
//! 5. kustomizations (`kustomization.yaml|yml`, `Kustomization`, or a
//!    `kustomize.config.k8s.io` document): `helmCharts` and
//!    `helmChartInflationGenerator` (Helm rendered by kustomize), and remote
//!    `resources`/`bases`/`components` (URLs, `github.com/…`, `git@…`,
//!    `?ref=`), whose content is not in this repository. A kustomization
//!    without `apiVersion` is not an object, so its `secretGenerator`
//!    literals are checked here (`plaintext-secret`).
//!
//! Not reported: Flux `postBuild` `${VAR}` substitution (the variables land
//! in values, and tenant rules judge the literal namespace, which fails
//! closed), and `{{` in comments of a file that parses.

use saphyr_parser::{Event, Parser};

use crate::engine::manifests::secrets;
use crate::engine::manifests::violation::Violation;
use crate::engine::yaml::{Limits, Node, Value, load_documents};

const RULE: &str = "unrendered-template";

/// Directories that hold a Helm chart (`Chart.yaml`), from the tree's paths.
#[derive(Clone, Debug, Default)]
pub struct ChartIndex {
    /// Chart roots with a trailing `/` (`""` for a chart at the repo root).
    roots: Vec<String>,
}

fn dir_of(path: &str) -> &str {
    path.rfind('/').map(|i| &path[..=i]).unwrap_or("")
}

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

impl ChartIndex {
    /// Indexes every `Chart.yaml` among `paths` (repository-relative, `/`).
    pub fn new<'a>(paths: impl IntoIterator<Item = &'a str>) -> Self {
        let mut roots: Vec<String> = paths
            .into_iter()
            .filter(|p| base_name(p) == "Chart.yaml")
            .map(|p| dir_of(p).to_owned())
            .collect();
        roots.sort();
        roots.dedup();
        Self { roots }
    }

    /// The chart directory (with trailing `/`, `""` for the root) that
    /// contains `path`, the deepest when charts nest (`charts/` subcharts).
    pub fn chart_of(&self, path: &str) -> Option<&str> {
        self.roots
            .iter()
            .filter(|r| path.starts_with(r.as_str()))
            .max_by_key(|r| r.len())
            .map(String::as_str)
    }
}

/// The result of the file-level check.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TemplateCheck {
    /// Findings (`unrendered-template`, and `plaintext-secret` for
    /// `secretGenerator` literals in a kustomization without `apiVersion`).
    pub violations: Vec<Violation>,
    /// The file is not a plain manifest (chart file, Jsonnet, template):
    /// do not load it as objects, the finding above covers it.
    pub skip_objects: bool,
}

/// Helm's built-in objects and functions that only `helm template` resolves.
const HELM_MARKERS: [&str; 8] = [
    ".Values",
    ".Release",
    ".Chart",
    ".Capabilities",
    ".Files",
    ".Template",
    "include ",
    "tpl ",
];

/// Upper bound on template actions inspected per file (the scan is linear,
/// this only bounds work on adversarial input).
const MAX_ACTIONS: usize = 100_000;

/// Line (1-based) of the first `{{ … }}` action whose body satisfies `pred`.
fn find_action(text: &str, pred: impl Fn(&str) -> bool) -> Option<u32> {
    let mut rest = text;
    let mut offset = 0;
    for _ in 0..MAX_ACTIONS {
        let start = rest.find("{{")?;
        let after = &rest[start + 2..];
        let end = after.find("}}").unwrap_or(after.len());
        if pred(&after[..end]) {
            let at = offset + start;
            return Some(line_at(text, at));
        }
        let consumed = start + 2 + end;
        offset += consumed;
        rest = &rest[consumed..];
    }
    None
}

fn line_at(text: &str, byte: usize) -> u32 {
    let n = text.as_bytes()[..byte]
        .iter()
        .filter(|b| **b == b'\n')
        .count();
    u32::try_from(n + 1).unwrap_or(u32::MAX)
}

/// Where a `{{` is YAML structure (two flow mappings opened at adjacent
/// characters), or `Err(line)` when the file does not parse at all.
fn structural_action(text: &str) -> Result<Option<u32>, u32> {
    let mut parser = Parser::new_from_str(text);
    let mut prev_map_start: Option<usize> = None;
    let mut events = 0usize;
    while let Some(ev) = parser.next_event() {
        events += 1;
        if events > 4_000_000 {
            return Ok(None); // bounded; the manifest loader reports the size
        }
        match ev {
            Ok((Event::MappingStart(..), span)) => {
                let idx = span.start.index();
                if prev_map_start == Some(idx.wrapping_sub(1)) {
                    return Ok(Some(span.start.line() as u32));
                }
                prev_map_start = Some(idx);
            }
            Ok(_) => prev_map_start = None,
            Err(e) => return Err(e.marker().line() as u32),
        }
    }
    Ok(None)
}

fn is_kustomization_name(path: &str) -> bool {
    matches!(
        base_name(path),
        "kustomization.yaml" | "kustomization.yml" | "Kustomization"
    )
}

fn is_remote(target: &str) -> bool {
    let t = target.trim();
    t.contains("://")
        || t.starts_with("git@")
        || t.starts_with("github.com/")
        || t.starts_with("gitlab.com/")
        || t.starts_with("bitbucket.org/")
        || t.contains("?ref=")
        || t.contains(".git//")
}

fn check_kustomization(root: &Node, has_api_version: bool, out: &mut Vec<Violation>) {
    for key in ["helmCharts", "helmChartInflationGenerator"] {
        if let Some(e) = root.entry(key)
            && !e.value.is_null()
        {
            out.push(Violation::new(
                RULE,
                e.key_span.line,
                format!(
                    "kustomization `{key}` renders Helm charts at build time, so the resulting manifests cannot be evaluated here; \
                     commit the rendered manifests (`kustomize build --enable-helm`) instead"
                ),
            ));
        }
    }
    for key in ["resources", "bases", "components"] {
        for item in root.get(key).and_then(Node::as_seq).unwrap_or_default() {
            if let Some(t) = item.as_str()
                && is_remote(t)
            {
                out.push(Violation::new(
                    RULE,
                    item.span.line,
                    format!(
                        "kustomization `{key}` entry `{t}` is a remote base whose manifests are not in this repository and cannot be evaluated; \
                         vendor it into the repository"
                    ),
                ));
            }
        }
    }
    if !has_api_version {
        out.extend(secrets::kustomize_literals(root));
    }
}

fn finding(line: u32, message: String) -> TemplateCheck {
    TemplateCheck {
        violations: vec![Violation::new(RULE, line.max(1), message)],
        skip_objects: true,
    }
}

/// The file-level check for one manifest file. `charts` indexes the whole
/// tree (head side in a change), so chart membership does not depend on
/// which files a change touches.
pub fn check_file(path: &str, text: &str, charts: &ChartIndex) -> TemplateCheck {
    let name = base_name(path);
    if name.ends_with(".jsonnet") || name.ends_with(".libsonnet") {
        return finding(
            1,
            "Jsonnet is rendered by Argo CD and cannot be evaluated here; commit the rendered YAML or JSON instead".into(),
        );
    }
    if let Some(root) = charts.chart_of(path) {
        let chart = if root.is_empty() {
            "."
        } else {
            root.trim_end_matches('/')
        };
        return finding(
            1,
            format!(
                "part of the Helm chart `{chart}`, whose templates cannot be evaluated without rendering; \
                 commit the output of `helm template` (or check the chart in CI with its values) instead"
            ),
        );
    }
    if name.ends_with(".tpl")
        || name.ends_with(".gotmpl")
        || name.starts_with("helmfile.yaml")
        || name.starts_with("helmfile.yml")
    {
        return finding(
            1,
            "a Go/Helm template source that cannot be evaluated without rendering; commit the rendered manifests instead".into(),
        );
    }
    let has_actions = text.contains("{{");
    if has_actions
        && path.split('/').any(|seg| seg == "templates")
        && let Some(line) = find_action(text, |a| HELM_MARKERS.iter().any(|m| a.contains(m)))
    {
        return finding(
            line,
            "a Helm template (uses Helm's built-in objects) outside any chart in this repository; it cannot be evaluated without rendering, \
             so commit the output of `helm template` instead"
                .into(),
        );
    }
    if has_actions {
        match structural_action(text) {
            Ok(Some(line)) => {
                return finding(
                    line,
                    "a Go template action `{{ … }}` stands where YAML structure belongs, so the file is a template, not a manifest, \
                     and cannot be evaluated; commit the rendered manifest instead"
                        .into(),
                );
            }
            Ok(None) => {}
            Err(err_line) => {
                let line = find_action(text, |_| true).unwrap_or(err_line);
                return finding(
                    line,
                    format!(
                        "contains Go template actions `{{{{ … }}}}` and is not valid YAML (parse error at line {err_line}), so it is an unrendered template \
                         and cannot be evaluated; commit the rendered manifest instead"
                    ),
                );
            }
        }
    }
    // kustomizations: by file name, or any kustomize.config.k8s.io document.
    let mut out = TemplateCheck::default();
    if is_kustomization_name(path) || text.contains("kustomize.config.k8s.io") {
        let loaded = load_documents(text, &Limits::default());
        for doc in &loaded.docs {
            let api = doc.get("apiVersion").and_then(Node::as_str);
            let is_kustomize = match api {
                Some(a) => {
                    a.starts_with("kustomize.config.k8s.io/")
                        && doc.get("kind").and_then(Node::as_str) == Some("Kustomization")
                }
                None => is_kustomization_name(path) && matches!(doc.value, Value::Map(_)),
            };
            if is_kustomize {
                check_kustomization(doc, api.is_some(), &mut out.violations);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(path: &str, text: &str) -> TemplateCheck {
        check_file(path, text, &ChartIndex::default())
    }

    fn lines(c: &TemplateCheck) -> Vec<u32> {
        c.violations.iter().map(|v| v.line).collect()
    }

    const PROMETHEUS_RULE: &str = r#"apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: argocd-drift
  namespace: monitoring
spec:
  groups:
  - name: argocd.drift
    rules:
    - alert: ArgoCDApplicationOutOfSync
      expr: |
        argocd_app_info{sync_status="OutOfSync"} == 1
      for: 10m
      labels:
        severity: warning
      annotations:
        summary: "ArgoCD application {{ $labels.name }} is out of sync"
        description: "Application has been out of sync for 10 minutes."
"#;

    #[test]
    fn strings_with_actions_are_fine() {
        assert_eq!(
            check("monitoring/argocd-drift-alerts.yaml", PROMETHEUS_RULE),
            TemplateCheck::default()
        );
        let appset = "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: s\nspec:\n  goTemplate: true\n  template:\n    metadata:\n      name: '{{.path.basename}}'\n    spec:\n      destination:\n        namespace: '{{ .path.basename }}'\n";
        assert_eq!(
            check("platform/appset.yaml", appset),
            TemplateCheck::default()
        );
        let kyverno = "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: p\nspec:\n  rules:\n  - name: r\n    validate:\n      deny:\n        conditions:\n          any:\n          - key: \"{{ request.object.spec.hostNetwork || `false` }}\"\n            operator: Equals\n            value: true\n";
        assert_eq!(check("policies/p.yaml", kyverno), TemplateCheck::default());
        // A plain scalar containing braces mid-text is a string too.
        let cm =
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  cmd: echo {{x}}\n";
        assert_eq!(check("apps/cm.yaml", cm), TemplateCheck::default());
    }

    #[test]
    fn structural_actions_are_reported() {
        let t = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: {{ .Values.replicas }}\n";
        let c = check("apps/deploy.yaml", t);
        assert_eq!(lines(&c), vec![6]);
        assert!(c.skip_objects);
        let t = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n{{- if .Values.priv }}\nspec:\n  hostPID: true\n{{- end }}\n";
        let c = check("apps/pod.yaml", t);
        assert_eq!(lines(&c), vec![5]);
        assert!(c.violations[0].message.contains("not valid YAML"));
    }

    #[test]
    fn helm_template_dirs_and_charts() {
        let t = "apiVersion: v1\nkind: Service\nmetadata:\n  name: \"{{ include \\\"x.fullname\\\" . }}\"\n  namespace: \"{{ .Release.Namespace }}\"\n";
        assert_eq!(lines(&check("charts/x/templates/svc.yaml", t)), vec![4]);
        // Same text outside a templates dir and outside a chart parses; it is not reported.
        assert!(check("apps/svc.yaml", t).violations.is_empty());
        let idx = ChartIndex::new([
            "charts/x/Chart.yaml",
            "charts/x/charts/sub/Chart.yaml",
            "apps/a.yaml",
        ]);
        assert_eq!(idx.chart_of("charts/x/values.yaml"), Some("charts/x/"));
        assert_eq!(
            idx.chart_of("charts/x/charts/sub/templates/a.yaml"),
            Some("charts/x/charts/sub/")
        );
        assert_eq!(idx.chart_of("apps/a.yaml"), None);
        assert_eq!(idx.chart_of("charts/xy/a.yaml"), None);
        let c = check_file("charts/x/values.yaml", "replicas: 1\n", &idx);
        assert_eq!(lines(&c), vec![1]);
        assert!(c.violations[0].message.contains("charts/x"));
        let root = ChartIndex::new(["Chart.yaml"]);
        assert!(check_file("templates/a.yaml", "a: 1\n", &root).skip_objects);
    }

    #[test]
    fn jsonnet_and_template_sources() {
        for p in [
            "apps/main.jsonnet",
            "lib/k.libsonnet",
            "helmfile.yaml",
            "x/helmfile.yaml.gotmpl",
            "x/_helpers.tpl",
        ] {
            let c = check(p, "{}");
            assert_eq!(lines(&c), vec![1], "{p}");
        }
    }

    #[test]
    fn kustomizations() {
        let k = "resources:\n- ../base\n- https://github.com/evil/repo//deploy?ref=main\n- github.com/org/repo/deploy\nhelmCharts:\n- name: x\n  repo: https://charts.example.com\nsecretGenerator:\n- name: db\n  literals:\n  - password=x\n";
        let c = check("overlays/prod/kustomization.yaml", k);
        let got: Vec<(&str, u32)> = c
            .violations
            .iter()
            .map(|v| (v.rule.as_str(), v.line))
            .collect();
        assert_eq!(
            got,
            vec![(RULE, 5), (RULE, 3), (RULE, 4), ("plaintext-secret", 10)]
        );
        assert!(!c.skip_objects);
        let local = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: payments\nresources:\n- deploy.yaml\n- ../../base\n";
        assert_eq!(
            check("overlays/prod/kustomization.yaml", local),
            TemplateCheck::default()
        );
        // With apiVersion, literals are left to the object rule (no duplicate).
        let with_api = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nsecretGenerator:\n- name: db\n  literals: [a=b]\n";
        assert!(
            check("k/kustomization.yaml", with_api)
                .violations
                .is_empty()
        );
    }
}
