//! Resources in a build: the object tree plus what kustomize keeps in its
//! internal build annotations (previous ids, prefixes and suffixes, the
//! generator behaviour), and small tree helpers that keep provenance.

use crate::engine::yaml::{Entry, Node, Span, Value};

/// Kinds kustomize treats as cluster-scoped: the `false` entries of
/// kyaml's `precomputedIsNamespaceScoped` (kyaml/openapi/openapi.go), by
/// `(apiVersion, kind)`. Any other kind, CRDs' kinds included, counts as
/// namespaced, as in kustomize.
const CLUSTER_SCOPED: &[(&str, &str)] = &[
    (
        "admissionregistration.k8s.io/v1",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "ValidatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1",
        "ValidatingAdmissionPolicy",
    ),
    (
        "admissionregistration.k8s.io/v1",
        "ValidatingAdmissionPolicyBinding",
    ),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
    ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"),
    ("apiregistration.k8s.io/v1", "APIService"),
    ("apiregistration.k8s.io/v1beta1", "APIService"),
    ("certificates.k8s.io/v1", "CertificateSigningRequest"),
    ("certificates.k8s.io/v1beta1", "CertificateSigningRequest"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema"),
    (
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "PriorityLevelConfiguration",
    ),
    ("networking.k8s.io/v1", "IngressClass"),
    ("networking.k8s.io/v1beta1", "IngressClass"),
    ("node.k8s.io/v1", "RuntimeClass"),
    ("node.k8s.io/v1beta1", "RuntimeClass"),
    ("policy/v1beta1", "PodSecurityPolicy"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding"),
    ("scheduling.k8s.io/v1", "PriorityClass"),
    ("scheduling.k8s.io/v1beta1", "PriorityClass"),
    ("storage.k8s.io/v1", "CSIDriver"),
    ("storage.k8s.io/v1", "CSINode"),
    ("storage.k8s.io/v1", "StorageClass"),
    ("storage.k8s.io/v1", "VolumeAttachment"),
    ("storage.k8s.io/v1beta1", "CSIDriver"),
    ("storage.k8s.io/v1beta1", "CSINode"),
    ("storage.k8s.io/v1beta1", "StorageClass"),
    ("storage.k8s.io/v1beta1", "VolumeAttachment"),
    ("v1", "ComponentStatus"),
    ("v1", "Namespace"),
    ("v1", "Node"),
    ("v1", "NodeProxyOptions"),
    ("v1", "PersistentVolume"),
];

/// Group, version and kind (kustomize's `resid.Gvk`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gvk {
    /// API group (`""` for core).
    pub group: String,
    /// API version.
    pub version: String,
    /// Kind.
    pub kind: String,
}

impl Gvk {
    /// From `apiVersion` and `kind`.
    pub fn new(api_version: &str, kind: &str) -> Self {
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g.to_owned(), v.to_owned()),
            None => (String::new(), api_version.to_owned()),
        };
        Gvk {
            group,
            version,
            kind: kind.to_owned(),
        }
    }

    /// `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// kustomize's `Gvk.IsSelected`: empty selector fields match anything.
    pub fn is_selected(&self, sel: &Gvk) -> bool {
        (sel.group.is_empty() || self.group == sel.group)
            && (sel.version.is_empty() || self.version == sel.version)
            && (sel.kind.is_empty() || self.kind == sel.kind)
    }

    /// Whether kustomize treats the kind as cluster-scoped.
    pub fn is_cluster_scoped(&self) -> bool {
        let av = self.api_version();
        CLUSTER_SCOPED
            .iter()
            .any(|(a, k)| *a == av && *k == self.kind)
    }

    /// kustomize's `Gvk.String()`: `kind.version.group` with placeholders.
    pub fn id_string(&self) -> String {
        format!(
            "{}.{}.{}",
            or_placeholder(&self.kind, "[noKind]"),
            or_placeholder(&self.version, "[noVer]"),
            or_placeholder(&self.group, "[noGrp]")
        )
    }
}

/// A resource id (kustomize's `resid.ResId`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ResId {
    /// Type.
    pub gvk: Gvk,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace` (`""` when unset).
    pub namespace: String,
}

impl ResId {
    /// kustomize's `EffectiveNamespace`: cluster-scoped kinds have none, an
    /// empty namespace means `default`.
    pub fn effective_namespace(&self) -> &str {
        if self.gvk.is_cluster_scoped() {
            "~X"
        } else if self.namespace.is_empty() {
            "default"
        } else {
            &self.namespace
        }
    }

    /// kustomize's `ResId.Equals`.
    pub fn equals(&self, o: &ResId) -> bool {
        self.gvk == o.gvk && self.name == o.name && self.is_ns_equals(o)
    }

    /// kustomize's `IsNsEquals`.
    pub fn is_ns_equals(&self, o: &ResId) -> bool {
        self.effective_namespace() == o.effective_namespace()
    }
}

impl std::fmt::Display for ResId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ns = if self.namespace.is_empty() {
            "[noNs]"
        } else {
            &self.namespace
        };
        write!(f, "{}/{}.{}", self.gvk.id_string(), self.name, ns)
    }
}

/// How a generated ConfigMap/Secret combines with one of the same id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behavior {
    /// A new object (the default).
    Create,
    /// Replace the data of an existing one.
    Replace,
    /// Merge into an existing one.
    Merge,
}

/// One resource of the build.
#[derive(Clone, Debug)]
pub struct Resource {
    /// The object.
    pub node: Node,
    /// Ids this resource had before renames, oldest first (kustomize's
    /// `previousNames`/`previousKinds`/`previousNamespaces` annotations).
    pub prev_ids: Vec<ResId>,
    /// Name prefixes applied, innermost first.
    pub prefixes: Vec<String>,
    /// Name suffixes applied, innermost first.
    pub suffixes: Vec<String>,
    /// A generated ConfigMap/Secret that still needs its content hash.
    pub needs_hash: bool,
    /// Generator behaviour (generated resources only).
    pub behavior: Option<Behavior>,
}

impl Resource {
    /// A resource read from a file.
    pub fn new(node: Node) -> Self {
        Resource {
            node,
            prev_ids: Vec::new(),
            prefixes: Vec::new(),
            suffixes: Vec::new(),
            needs_hash: false,
            behavior: None,
        }
    }

    /// Type of the object now.
    pub fn gvk(&self) -> Gvk {
        Gvk::new(
            str_at(&self.node, &["apiVersion"]).unwrap_or(""),
            str_at(&self.node, &["kind"]).unwrap_or(""),
        )
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        str_at(&self.node, &["metadata", "name"]).unwrap_or("")
    }

    /// `metadata.namespace`.
    pub fn namespace(&self) -> &str {
        str_at(&self.node, &["metadata", "namespace"]).unwrap_or("")
    }

    /// The current id.
    pub fn cur_id(&self) -> ResId {
        ResId {
            gvk: self.gvk(),
            name: self.name().to_owned(),
            namespace: self.namespace().to_owned(),
        }
    }

    /// The original id (before any rename).
    pub fn org_id(&self) -> ResId {
        self.prev_ids
            .first()
            .cloned()
            .unwrap_or_else(|| self.cur_id())
    }

    /// Records the current id as a previous one (kustomize's
    /// `StorePreviousId`).
    pub fn store_previous_id(&mut self) {
        let id = self.cur_id();
        self.prev_ids.push(id);
    }

    /// Whether any previous or the current id satisfies `f`.
    pub fn any_id(&self, f: impl Fn(&ResId) -> bool) -> bool {
        self.prev_ids.iter().any(&f) || f(&self.cur_id())
    }
}

/// The string at a path of mapping keys.
pub fn str_at<'a>(n: &'a Node, path: &[&str]) -> Option<&'a str> {
    n.path(path).and_then(Node::as_str)
}

/// A string node.
pub fn str_node(s: &str, span: Span) -> Node {
    Node::new(Value::Str(s.to_owned()), span)
}

/// An empty mapping node.
pub fn map_node(span: Span) -> Node {
    Node::new(Value::Map(Vec::new()), span)
}

/// The value under `key`, mutably.
pub fn get_mut<'a>(n: &'a mut Node, key: &str) -> Option<&'a mut Node> {
    match &mut n.value {
        Value::Map(entries) => entries
            .iter_mut()
            .find(|e| e.key == key)
            .map(|e| &mut e.value),
        _ => None,
    }
}

/// Sets `key` to `value` (in place if present, else appended); the key
/// takes `key_span`, so a finding on the key points where it was set.
pub fn set_field(n: &mut Node, key: &str, value: Node, key_span: Span) {
    if let Value::Null = n.value {
        n.value = Value::Map(Vec::new());
    }
    if let Value::Map(entries) = &mut n.value {
        if let Some(e) = entries.iter_mut().find(|e| e.key == key) {
            e.value = value;
            e.key_span = key_span;
        } else {
            entries.push(Entry {
                key: key.to_owned(),
                key_span,
                value,
            });
        }
    }
}

/// Removes `key`; true when it was there.
pub fn remove_field(n: &mut Node, key: &str) -> bool {
    if let Value::Map(entries) = &mut n.value
        && let Some(i) = entries.iter().position(|e| e.key == key)
    {
        entries.remove(i);
        return true;
    }
    false
}

/// The mapping under `key`, created (at `span`) when absent or null.
pub fn ensure_map<'a>(n: &'a mut Node, key: &str, span: Span) -> &'a mut Node {
    let present = matches!(n.get(key), Some(v) if !v.is_null());
    if !present {
        set_field(n, key, map_node(span), span);
    }
    get_mut(n, key).expect("just set")
}

/// Sets every node's file to `file` (a freshly loaded file is file 0).
pub fn set_file(n: &mut Node, file: u32) {
    let mut stack: Vec<&mut Node> = vec![n];
    while let Some(n) = stack.pop() {
        n.span.file = file;
        match &mut n.value {
            Value::Seq(items) => stack.extend(items.iter_mut()),
            Value::Map(entries) => {
                for e in entries.iter_mut() {
                    e.key_span.file = file;
                    stack.push(&mut e.value);
                }
            }
            _ => {}
        }
    }
}

/// The scalar's text as kustomize (go-yaml `Node.Value`) sees it: strings
/// as they are, other scalars in their canonical form.
pub fn scalar_text(n: &Node) -> Option<String> {
    match &n.value {
        Value::Str(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Int(i) => Some(i.to_string()),
        Value::UInt(u) => Some(u.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Null | Value::Seq(_) | Value::Map(_) => None,
    }
}

/// `s`, or kustomize's placeholder `d` for an empty field (its id strings
/// name missing parts instead of leaving them blank).
pub(crate) fn or_placeholder<'a>(s: &'a str, d: &'a str) -> &'a str {
    if s.is_empty() { d } else { s }
}
