//! Where pods hide inside Kubernetes objects: every pod template of an
//! object, with its pod metadata (for annotation-based controls), its pod
//! spec and the containers of all three lists.
//!
//! The built-in table mirrors the resources pod-security-admission extracts
//! templates from (`DefaultPodSpecExtractor`), plus the common CRDs that
//! embed a pod template (Argo Rollouts, OpenShift, KEDA, Knative,
//! OpenKruise). Checkers that skip those CRDs let a privileged pod through
//! under another kind name, so the table is extensible
//! ([`PodTemplateTable::with`]).

use crate::engine::manifests::object::Object;
use crate::engine::yaml::{Node, Value};

/// Where one kind keeps its pod template(s).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateLocation {
    /// API group (`""` for the core group).
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Key paths from the object root to a node holding `metadata` and
    /// `spec` of a pod (the empty path is the object itself, as for `Pod`).
    /// Every path that exists in an object is checked.
    pub paths: Vec<Vec<String>>,
}

/// The kinds whose objects carry pods, keyed by API group and kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodTemplateTable {
    entries: Vec<TemplateLocation>,
}

const TEMPLATE: &[&str] = &["spec", "template"];
const JOB_TEMPLATE: &[&str] = &["spec", "jobTemplate", "spec", "template"];

/// One built-in row: the groups, the kind, the template paths.
type BuiltIn = (
    &'static [&'static str],
    &'static str,
    &'static [&'static [&'static str]],
);

/// The built-in table.
const BUILT_IN: &[BuiltIn] = &[
    // Core Kubernetes, as pod-security-admission's DefaultPodSpecExtractor.
    // `extensions` and the beta `apps` versions are long gone from the API
    // server, but a manifest may still name them; checking costs nothing.
    (&[""], "Pod", &[&[]]),
    (&[""], "PodTemplate", &[&["template"]]),
    (&[""], "ReplicationController", &[TEMPLATE]),
    (&["apps", "extensions"], "Deployment", &[TEMPLATE]),
    (&["apps", "extensions"], "ReplicaSet", &[TEMPLATE]),
    (&["apps", "extensions"], "DaemonSet", &[TEMPLATE]),
    (&["apps"], "StatefulSet", &[TEMPLATE]),
    (&["batch"], "Job", &[TEMPLATE]),
    (&["batch"], "CronJob", &[JOB_TEMPLATE]),
    // CRDs that embed a pod template.
    (&["argoproj.io"], "Rollout", &[TEMPLATE]),
    (&["apps.openshift.io", ""], "DeploymentConfig", &[TEMPLATE]),
    (&["keda.sh"], "ScaledJob", &[JOB_TEMPLATE]),
    (&["serving.knative.dev"], "Service", &[TEMPLATE]),
    (&["serving.knative.dev"], "Configuration", &[TEMPLATE]),
    (&["apps.kruise.io"], "CloneSet", &[TEMPLATE]),
    (&["apps.kruise.io"], "StatefulSet", &[TEMPLATE]),
    (&["apps.kruise.io"], "DaemonSet", &[TEMPLATE]),
    (&["apps.kruise.io"], "BroadcastJob", &[TEMPLATE]),
    (
        &["apps.kruise.io"],
        "AdvancedCronJob",
        &[
            &["spec", "template", "jobTemplate", "spec", "template"],
            &[
                "spec",
                "template",
                "broadcastJobTemplate",
                "spec",
                "template",
            ],
        ],
    ),
];

impl Default for PodTemplateTable {
    fn default() -> Self {
        let mut entries = Vec::new();
        for (groups, kind, paths) in BUILT_IN {
            for group in *groups {
                entries.push(TemplateLocation {
                    group: (*group).to_owned(),
                    kind: (*kind).to_owned(),
                    paths: paths
                        .iter()
                        .map(|p| p.iter().map(|s| (*s).to_owned()).collect())
                        .collect(),
                });
            }
        }
        Self { entries }
    }
}

impl PodTemplateTable {
    /// A table with no entries.
    pub fn empty() -> Self {
        Self {
            entries: Vec::new(),
        }
    }

    /// Adds a kind (or more template paths for a kind already present).
    pub fn with(mut self, group: &str, kind: &str, path: &[&str]) -> Self {
        let path: Vec<String> = path.iter().map(|s| (*s).to_owned()).collect();
        match self
            .entries
            .iter_mut()
            .find(|e| e.group == group && e.kind == kind)
        {
            Some(e) if !e.paths.contains(&path) => e.paths.push(path),
            Some(_) => {}
            None => self.entries.push(TemplateLocation {
                group: group.to_owned(),
                kind: kind.to_owned(),
                paths: vec![path],
            }),
        }
        self
    }

    /// The template paths of a group and kind, if the kind carries pods.
    pub fn lookup(&self, group: &str, kind: &str) -> Option<&TemplateLocation> {
        self.entries
            .iter()
            .find(|e| e.group == group && e.kind == kind)
    }

    /// Every entry.
    pub fn entries(&self) -> &[TemplateLocation] {
        &self.entries
    }
}

/// The three container lists of a pod spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ContainerList {
    /// `initContainers` (including `restartPolicy: Always` sidecars, which
    /// PSA treats like any other init container).
    InitContainers,
    /// `containers`.
    Containers,
    /// `ephemeralContainers`.
    EphemeralContainers,
}

impl ContainerList {
    /// All lists, in the order pod-security-admission visits them.
    pub const ALL: [ContainerList; 3] = [
        ContainerList::InitContainers,
        ContainerList::Containers,
        ContainerList::EphemeralContainers,
    ];

    /// The pod spec key.
    pub fn key(self) -> &'static str {
        match self {
            ContainerList::InitContainers => "initContainers",
            ContainerList::Containers => "containers",
            ContainerList::EphemeralContainers => "ephemeralContainers",
        }
    }
}

/// A node that has the wrong shape for where it sits (e.g. `containers: x`).
/// The API server would reject the object; checkers report it instead of
/// silently skipping what they cannot read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeProblem {
    /// Line of the offending key.
    pub line: u32,
    /// What is wrong.
    pub message: String,
}

/// One pod (a Pod object, or a template inside a workload).
#[derive(Clone, Debug)]
pub struct PodView<'a> {
    /// Dotted path of the template node (`""` for a Pod,
    /// `spec.template`, `spec.jobTemplate.spec.template`, …).
    pub path: String,
    /// The pod's `metadata` mapping, if present.
    pub metadata: Option<&'a Node>,
    /// The pod spec mapping.
    pub spec: &'a Node,
    /// Line of the template key (or of the object for a Pod).
    pub line: u32,
}

/// One container of a pod.
#[derive(Clone, Debug)]
pub struct ContainerView<'a> {
    /// Which list it is in.
    pub list: ContainerList,
    /// Index in that list.
    pub index: usize,
    /// `name`, or `<list>[<index>]` when the name is missing or not a string.
    pub name: String,
    /// The container mapping.
    pub node: &'a Node,
    /// Dotted path from the object root (`spec.containers[0]`).
    pub path: String,
    /// Line where the container starts.
    pub line: u32,
}

impl<'a> PodView<'a> {
    /// Dotted path of a pod spec field (`spec.template.spec.<field>`).
    pub fn spec_path(&self, field: &str) -> String {
        join3(&self.path, "spec", field)
    }

    /// Dotted path of a pod metadata field.
    pub fn metadata_path(&self, field: &str) -> String {
        join3(&self.path, "metadata", field)
    }

    /// The containers of all three lists, in PSA's visiting order, plus
    /// shape problems (a list that is not a list, an item that is not a
    /// mapping).
    pub fn containers(&self) -> (Vec<ContainerView<'a>>, Vec<ShapeProblem>) {
        let mut out = Vec::new();
        let mut problems = Vec::new();
        for list in ContainerList::ALL {
            let Some(entry) = self.spec.entry(list.key()) else {
                continue;
            };
            let list_path = self.spec_path(list.key());
            match &entry.value.value {
                Value::Null => {}
                Value::Seq(items) => {
                    for (index, node) in items.iter().enumerate() {
                        let path = format!("{list_path}[{index}]");
                        if node.as_map().is_none() {
                            problems.push(ShapeProblem {
                                line: node.span.line,
                                message: format!(
                                    "{path} is a {}, not a container mapping; the API server rejects it",
                                    node.type_name()
                                ),
                            });
                            continue;
                        }
                        let name = match node.get("name").and_then(Node::as_str) {
                            Some(n) if !n.is_empty() => n.to_owned(),
                            _ => format!("{}[{index}]", list.key()),
                        };
                        out.push(ContainerView {
                            list,
                            index,
                            name,
                            node,
                            path,
                            line: node.span.line,
                        });
                    }
                }
                _ => problems.push(ShapeProblem {
                    line: entry.key_span.line,
                    message: format!(
                        "{list_path} is a {}, not a list; the API server rejects it",
                        entry.value.type_name()
                    ),
                }),
            }
        }
        (out, problems)
    }
}

/// Every pod template of an object, plus shape problems on the way to them.
#[derive(Clone, Debug, Default)]
pub struct PodTemplates<'a> {
    /// The pods found.
    pub pods: Vec<PodView<'a>>,
    /// Nodes on a template path that have the wrong type.
    pub problems: Vec<ShapeProblem>,
}

/// Every pod template of an object, using the built-in table.
pub fn pod_templates(obj: &Object) -> PodTemplates<'_> {
    pod_templates_with(obj, default_table())
}

/// The built-in table, built once.
pub fn default_table() -> &'static PodTemplateTable {
    static TABLE: std::sync::OnceLock<PodTemplateTable> = std::sync::OnceLock::new();
    TABLE.get_or_init(PodTemplateTable::default)
}

/// Every pod template of an object, using the given table.
pub fn pod_templates_with<'a>(obj: &'a Object, table: &PodTemplateTable) -> PodTemplates<'a> {
    let mut out = PodTemplates::default();
    let Some(loc) = table.lookup(obj.group(), &obj.kind) else {
        return out;
    };
    for path in &loc.paths {
        let mut node = &obj.root;
        let mut line = obj.line;
        let mut dotted = String::new();
        let mut found = true;
        for key in path {
            let next = match node.entry(key) {
                Some(e) => e,
                None => {
                    found = false;
                    break;
                }
            };
            dotted = join(&dotted, key);
            line = next.key_span.line;
            match &next.value.value {
                Value::Map(_) => node = &next.value,
                Value::Null => {
                    found = false;
                    break;
                }
                _ => {
                    out.problems.push(ShapeProblem {
                        line,
                        message: format!(
                            "{dotted} is a {}, not a mapping; the API server rejects it",
                            next.value.type_name()
                        ),
                    });
                    found = false;
                    break;
                }
            }
        }
        if !found {
            continue;
        }
        let metadata = match node.entry("metadata") {
            Some(e) if e.value.as_map().is_some() => Some(&e.value),
            Some(e) if !e.value.is_null() => {
                out.problems.push(ShapeProblem {
                    line: e.key_span.line,
                    message: format!(
                        "{} is a {}, not a mapping; the API server rejects it",
                        join(&dotted, "metadata"),
                        e.value.type_name()
                    ),
                });
                None
            }
            _ => None,
        };
        match node.entry("spec") {
            Some(e) if e.value.as_map().is_some() => out.pods.push(PodView {
                path: dotted,
                metadata,
                spec: &e.value,
                line,
            }),
            Some(e) if !e.value.is_null() => out.problems.push(ShapeProblem {
                line: e.key_span.line,
                message: format!(
                    "{} is a {}, not a mapping; the API server rejects it",
                    join(&dotted, "spec"),
                    e.value.type_name()
                ),
            }),
            _ => {}
        }
    }
    out
}

/// Joins dotted path segments, skipping an empty prefix.
pub fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        // Built by hand: these paths are made for every pod, finding or not,
        // and `format!` costs several times more.
        let mut s = String::with_capacity(prefix.len() + 1 + key.len());
        s.push_str(prefix);
        s.push('.');
        s.push_str(key);
        s
    }
}

/// `join(&join(prefix, a), b)` in one allocation.
fn join3(prefix: &str, a: &str, b: &str) -> String {
    let mut s = String::with_capacity(prefix.len() + a.len() + b.len() + 2);
    if !prefix.is_empty() {
        s.push_str(prefix);
        s.push('.');
    }
    s.push_str(a);
    s.push('.');
    s.push_str(b);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::manifests::object::load_objects;
    use crate::engine::yaml::Limits;

    fn obj(text: &str) -> Object {
        let mut fo = load_objects("t.yaml", text, &Limits::default());
        assert!(fo.findings.is_empty(), "{:?}", fo.findings);
        fo.objects.remove(0)
    }

    fn names(o: &Object) -> Vec<(String, String, String)> {
        let t = pod_templates(o);
        let mut out = Vec::new();
        for p in &t.pods {
            let (cs, _) = p.containers();
            for c in cs {
                out.push((p.path.clone(), c.name, c.path));
            }
        }
        out
    }

    const CONTAINERS: &str = "
      initContainers: [{name: i, image: a}]
      containers: [{name: c, image: a}]
      ephemeralContainers: [{name: e, image: a}]";

    #[test]
    fn pod_uses_its_own_spec_and_visits_all_lists() {
        let o = obj(&format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:{}",
            CONTAINERS.replace("\n      ", "\n  ")
        ));
        let n = names(&o);
        assert_eq!(
            n,
            vec![
                ("".into(), "i".into(), "spec.initContainers[0]".into()),
                ("".into(), "c".into(), "spec.containers[0]".into()),
                ("".into(), "e".into(), "spec.ephemeralContainers[0]".into()),
            ]
        );
        let t = pod_templates(&o);
        assert_eq!(
            t.pods[0].metadata.unwrap().get("name").unwrap().as_str(),
            Some("p")
        );
    }

    #[test]
    fn workload_templates() {
        for (api, kind, prefix, path) in [
            (
                "apps/v1",
                "Deployment",
                "spec:\n  template:\n    spec:",
                "spec.template",
            ),
            (
                "apps/v1",
                "StatefulSet",
                "spec:\n  template:\n    spec:",
                "spec.template",
            ),
            (
                "apps/v1",
                "DaemonSet",
                "spec:\n  template:\n    spec:",
                "spec.template",
            ),
            (
                "apps/v1",
                "ReplicaSet",
                "spec:\n  template:\n    spec:",
                "spec.template",
            ),
            (
                "batch/v1",
                "Job",
                "spec:\n  template:\n    spec:",
                "spec.template",
            ),
            (
                "v1",
                "ReplicationController",
                "spec:\n  template:\n    spec:",
                "spec.template",
            ),
            ("v1", "PodTemplate", "template:\n  spec:", "template"),
            (
                "batch/v1",
                "CronJob",
                "spec:\n  jobTemplate:\n    spec:\n      template:\n        spec:",
                "spec.jobTemplate.spec.template",
            ),
            (
                "argoproj.io/v1alpha1",
                "Rollout",
                "spec:\n  template:\n    spec:",
                "spec.template",
            ),
            (
                "keda.sh/v1alpha1",
                "ScaledJob",
                "spec:\n  jobTemplate:\n    spec:\n      template:\n        spec:",
                "spec.jobTemplate.spec.template",
            ),
            (
                "serving.knative.dev/v1",
                "Service",
                "spec:\n  template:\n    spec:",
                "spec.template",
            ),
            (
                "apps.kruise.io/v1alpha1",
                "CloneSet",
                "spec:\n  template:\n    spec:",
                "spec.template",
            ),
            (
                "apps.openshift.io/v1",
                "DeploymentConfig",
                "spec:\n  template:\n    spec:",
                "spec.template",
            ),
        ] {
            let indent = " ".repeat(prefix.lines().count() * 2);
            let body = CONTAINERS.replace("\n      ", &format!("\n{indent}"));
            let text =
                format!("apiVersion: {api}\nkind: {kind}\nmetadata: {{name: x}}\n{prefix}{body}\n");
            let o = obj(&text);
            let n = names(&o);
            assert_eq!(n.len(), 3, "{kind}: {n:?}\n{text}");
            assert!(n.iter().all(|(p, _, _)| p == path), "{kind}: {n:?}");
            assert_eq!(n[1].2, format!("{path}.spec.containers[0]"));
        }
    }

    #[test]
    fn unknown_kinds_and_wrong_groups_have_no_template() {
        let o = obj(
            "apiVersion: example.com/v1\nkind: Widget\nspec:\n  template:\n    spec:\n      containers: [{name: c}]\n",
        );
        assert!(pod_templates(&o).pods.is_empty());
        // A Service in the core group is not a Knative Service.
        let o = obj(
            "apiVersion: v1\nkind: Service\nspec:\n  template:\n    spec:\n      containers: [{name: c}]\n",
        );
        assert!(pod_templates(&o).pods.is_empty());
    }

    #[test]
    fn table_is_extensible() {
        let o = obj(
            "apiVersion: example.com/v1\nkind: Widget\nspec:\n  podTemplate:\n    spec:\n      containers: [{name: c}]\n",
        );
        let table =
            PodTemplateTable::default().with("example.com", "Widget", &["spec", "podTemplate"]);
        let t = pod_templates_with(&o, &table);
        assert_eq!(t.pods.len(), 1);
        assert_eq!(
            t.pods[0].spec_path("containers"),
            "spec.podTemplate.spec.containers"
        );
    }

    #[test]
    fn missing_templates_are_not_problems_but_wrong_shapes_are() {
        let o = obj("apiVersion: v1\nkind: ReplicationController\nspec: {replicas: 1}\n");
        let t = pod_templates(&o);
        assert!(t.pods.is_empty() && t.problems.is_empty());
        let o = obj("apiVersion: apps/v1\nkind: Deployment\nspec:\n  template: nope\n");
        let t = pod_templates(&o);
        assert!(t.pods.is_empty());
        assert_eq!(t.problems.len(), 1);
        assert_eq!(t.problems[0].line, 4);
        let o = obj(
            "apiVersion: v1\nkind: Pod\nspec:\n  containers: {name: c}\n  initContainers: [x]\n",
        );
        let t = pod_templates(&o);
        let (cs, problems) = t.pods[0].containers();
        assert!(cs.is_empty());
        assert_eq!(problems.len(), 2, "{problems:?}");
    }

    #[test]
    fn unnamed_containers_get_a_positional_name() {
        let o = obj("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: a\n  - name: 7\n");
        let (cs, _) = pod_templates(&o).pods[0].containers();
        assert_eq!(cs[0].name, "containers[0]");
        assert_eq!(cs[1].name, "containers[1]");
        assert_eq!(cs[1].line, 6);
    }
}
