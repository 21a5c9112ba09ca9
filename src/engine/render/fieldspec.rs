//! Field specs (kustomize's `types.FieldSpec`): which field of which kinds a
//! builtin transformer touches, and the tables kustomize ships
//! (`api/internal/konfig/builtinpluginconsts`, copied verbatim from
//! kubernetes-sigs/kustomize, Apache-2.0, by `gen` from the Go sources).

use std::borrow::Cow;

use crate::engine::yaml::{Node, Span, Value};

use super::resource::Gvk;

/// One field spec: a path (`/`-separated, `\/` escapes a slash, `x[]`
/// names a list) in objects of a group/version/kind (empty = any).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldSpec {
    /// Group, empty for any.
    pub group: Cow<'static, str>,
    /// Version, empty for any.
    pub version: Cow<'static, str>,
    /// Kind, empty for any.
    pub kind: Cow<'static, str>,
    /// The path.
    pub path: Cow<'static, str>,
    /// Create missing fields on the way.
    pub create: bool,
}

const fn fs(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    path: &'static str,
    create: bool,
) -> FieldSpec {
    FieldSpec {
        group: Cow::Borrowed(group),
        version: Cow::Borrowed(version),
        kind: Cow::Borrowed(kind),
        path: Cow::Borrowed(path),
        create,
    }
}

/// `metadata/labels`, created: what `labels:` without selectors touches.
pub const METADATA_LABELS: FieldSpec = fs("", "", "", "metadata/labels", true);

impl FieldSpec {
    /// The spec's type selector.
    pub fn gvk(&self) -> Gvk {
        Gvk {
            group: self.group.to_string(),
            version: self.version.to_string(),
            kind: self.kind.to_string(),
        }
    }

    /// kustomize's `isMatchGVK` against an object.
    pub fn matches(&self, obj: &Gvk) -> bool {
        (self.kind.is_empty() || self.kind == obj.kind)
            && (self.group.is_empty() || self.group == obj.group)
            && (self.version.is_empty() || self.version == obj.version)
    }
}

/// What a missing last path element is created as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Create {
    /// Never create (the transformer only updates).
    Never,
    /// A scalar (namespace, replicas).
    Scalar,
    /// A mapping (labels, annotations).
    Map,
}

/// kustomize's `utils.PathSplitter(path, "/")`: `\/` is a literal slash.
pub fn split_path(path: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek() == Some(&'/') {
            chars.next();
            out.last_mut().expect("non-empty").push('/');
        } else if c == '/' {
            out.push(String::new());
        } else {
            out.last_mut().expect("non-empty").push(c);
        }
    }
    out
}

/// Applies `set` at every node `spec` reaches in `obj` (kustomize's
/// `fieldspec.Filter`): lists on the way are entered element by element;
/// missing fields are created when the spec says so (with `origin` as
/// their position); `Err` is the message for a path that runs into a
/// scalar.
pub fn apply(
    obj: &mut Node,
    obj_gvk: &Gvk,
    spec: &FieldSpec,
    create: Create,
    origin: Span,
    set: &mut dyn FnMut(&mut Node) -> Result<(), String>,
) -> Result<(), String> {
    if !spec.matches(obj_gvk) {
        return Ok(());
    }
    let path = split_path(&spec.path);
    walk(obj, &path, spec.create, create, origin, set)
        .map_err(|e| format!("considering field '{}': {e}", spec.path))
}

fn walk(
    obj: &mut Node,
    path: &[String],
    spec_create: bool,
    create: Create,
    origin: Span,
    set: &mut dyn FnMut(&mut Node) -> Result<(), String>,
) -> Result<(), String> {
    let Some((first, rest)) = path.split_first() else {
        return set(obj);
    };
    match &mut obj.value {
        Value::Null => Ok(()),
        Value::Seq(items) => {
            for item in items.iter_mut() {
                walk(item, path, spec_create, create, origin, set)?;
            }
            Ok(())
        }
        Value::Map(_) => {
            let (name, is_seq) = match first.strip_suffix("[]") {
                Some(n) => (n, true),
                None => (first.as_str(), false),
            };
            if name.is_empty() {
                return Err("cannot set or create an empty field name".into());
            }
            let lookup_only = !spec_create || create == Create::Never || is_seq;
            if lookup_only {
                return match super::resource::get_mut(obj, name) {
                    Some(field) => walk(field, rest, spec_create, create, origin, set),
                    None => Ok(()),
                };
            }
            let make_map = !rest.is_empty() || create == Create::Map;
            let exists = obj.get(name).is_some();
            if !exists {
                let v = if make_map {
                    Value::Map(Vec::new())
                } else {
                    Value::Null
                };
                super::resource::set_field(obj, name, Node::new(v, origin), origin);
            }
            let field = super::resource::get_mut(obj, name).expect("present");
            if field.is_null() && make_map {
                field.value = Value::Map(Vec::new());
                field.span = origin;
            }
            walk(field, rest, spec_create, create, origin, set)
        }
        _ => Err("expected sequence or mapping node".into()),
    }
}

/// kustomize `commonLabelFieldSpecs`.
pub const COMMON_LABELS: &[FieldSpec] = &[
    fs("", "v1", "Service", "spec/selector", true),
    fs("", "v1", "ReplicationController", "spec/selector", true),
    fs("", "", "Deployment", "spec/selector/matchLabels", true),
    fs(
        "apps",
        "",
        "Deployment",
        "spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
        false,
    ),
    fs(
        "apps",
        "",
        "Deployment",
        "spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
        false,
    ),
    fs(
        "apps",
        "",
        "Deployment",
        "spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
        false,
    ),
    fs(
        "apps",
        "",
        "Deployment",
        "spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
        false,
    ),
    fs(
        "apps",
        "",
        "Deployment",
        "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels",
        false,
    ),
    fs("", "", "ReplicaSet", "spec/selector/matchLabels", true),
    fs("", "", "DaemonSet", "spec/selector/matchLabels", true),
    fs("apps", "", "StatefulSet", "spec/selector/matchLabels", true),
    fs(
        "apps",
        "",
        "StatefulSet",
        "spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
        false,
    ),
    fs(
        "apps",
        "",
        "StatefulSet",
        "spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
        false,
    ),
    fs(
        "apps",
        "",
        "StatefulSet",
        "spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
        false,
    ),
    fs(
        "apps",
        "",
        "StatefulSet",
        "spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
        false,
    ),
    fs(
        "apps",
        "",
        "StatefulSet",
        "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels",
        false,
    ),
    fs("batch", "", "Job", "spec/selector/matchLabels", false),
    fs(
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/spec/selector/matchLabels",
        false,
    ),
    fs(
        "policy",
        "",
        "PodDisruptionBudget",
        "spec/selector/matchLabels",
        false,
    ),
    fs(
        "networking.k8s.io",
        "",
        "NetworkPolicy",
        "spec/podSelector/matchLabels",
        false,
    ),
    fs(
        "networking.k8s.io",
        "",
        "NetworkPolicy",
        "spec/ingress/from/podSelector/matchLabels",
        false,
    ),
    fs(
        "networking.k8s.io",
        "",
        "NetworkPolicy",
        "spec/egress/to/podSelector/matchLabels",
        false,
    ),
    fs("", "", "", "metadata/labels", true),
    fs(
        "",
        "v1",
        "ReplicationController",
        "spec/template/metadata/labels",
        true,
    ),
    fs("", "", "Deployment", "spec/template/metadata/labels", true),
    fs("", "", "ReplicaSet", "spec/template/metadata/labels", true),
    fs("", "", "DaemonSet", "spec/template/metadata/labels", true),
    fs(
        "apps",
        "",
        "StatefulSet",
        "spec/template/metadata/labels",
        true,
    ),
    fs("batch", "", "Job", "spec/template/metadata/labels", true),
    fs(
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/metadata/labels",
        true,
    ),
    fs(
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/spec/template/metadata/labels",
        true,
    ),
    fs(
        "apps",
        "",
        "StatefulSet",
        "spec/volumeClaimTemplates[]/metadata/labels",
        true,
    ),
];

/// kustomize `templateLabelFieldSpecs`.
pub const TEMPLATE_LABELS: &[FieldSpec] = &[
    fs("", "", "", "metadata/labels", true),
    fs(
        "",
        "v1",
        "ReplicationController",
        "spec/template/metadata/labels",
        true,
    ),
    fs("", "", "Deployment", "spec/template/metadata/labels", true),
    fs("", "", "ReplicaSet", "spec/template/metadata/labels", true),
    fs("", "", "DaemonSet", "spec/template/metadata/labels", true),
    fs(
        "apps",
        "",
        "StatefulSet",
        "spec/template/metadata/labels",
        true,
    ),
    fs("batch", "", "Job", "spec/template/metadata/labels", true),
    fs(
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/metadata/labels",
        true,
    ),
    fs(
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/spec/template/metadata/labels",
        true,
    ),
];

/// kustomize `volumeClaimTemplateLabelFieldSpecs`.
pub const VOLUME_CLAIM_TEMPLATE_LABELS: &[FieldSpec] = &[fs(
    "apps",
    "",
    "StatefulSet",
    "spec/volumeClaimTemplates[]/metadata/labels",
    true,
)];

/// kustomize `commonAnnotationFieldSpecs`.
pub const COMMON_ANNOTATIONS: &[FieldSpec] = &[
    fs("", "", "", "metadata/annotations", true),
    fs(
        "",
        "v1",
        "ReplicationController",
        "spec/template/metadata/annotations",
        true,
    ),
    fs(
        "",
        "",
        "Deployment",
        "spec/template/metadata/annotations",
        true,
    ),
    fs(
        "",
        "",
        "ReplicaSet",
        "spec/template/metadata/annotations",
        true,
    ),
    fs(
        "",
        "",
        "DaemonSet",
        "spec/template/metadata/annotations",
        true,
    ),
    fs(
        "",
        "",
        "StatefulSet",
        "spec/template/metadata/annotations",
        true,
    ),
    fs(
        "batch",
        "",
        "Job",
        "spec/template/metadata/annotations",
        true,
    ),
    fs(
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/metadata/annotations",
        true,
    ),
    fs(
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/spec/template/metadata/annotations",
        true,
    ),
];

/// kustomize `imagesFieldSpecs`.
pub const IMAGES: &[FieldSpec] = &[
    fs("", "", "", "spec/containers[]/image", true),
    fs("", "", "", "spec/initContainers[]/image", true),
    fs("", "", "", "spec/volumes[]/image/reference", true),
    fs("", "", "", "spec/template/spec/containers[]/image", true),
    fs(
        "",
        "",
        "",
        "spec/template/spec/initContainers[]/image",
        true,
    ),
    fs(
        "",
        "",
        "",
        "spec/template/spec/volumes[]/image/reference",
        true,
    ),
];

/// kustomize `namespaceFieldSpecs`.
pub const NAMESPACE: &[FieldSpec] = &[
    fs("", "", "Namespace", "metadata/name", true),
    fs(
        "apiregistration.k8s.io",
        "",
        "APIService",
        "spec/service/namespace",
        true,
    ),
    fs(
        "apiextensions.k8s.io",
        "",
        "CustomResourceDefinition",
        "spec/conversion/webhook/clientConfig/service/namespace",
        false,
    ),
];

/// kustomize `replicasFieldSpecs`.
pub const REPLICAS: &[FieldSpec] = &[
    fs("", "", "Deployment", "spec/replicas", true),
    fs("", "", "ReplicationController", "spec/replicas", true),
    fs("", "", "ReplicaSet", "spec/replicas", true),
    fs("", "", "StatefulSet", "spec/replicas", true),
];

/// kustomize `nameReferenceFieldSpecs`: (referral group, version, kind) and the referrer fields.
pub const NAME_REFERENCE: &[(&str, &str, &str, &[FieldSpec])] = &[
    (
        "",
        "",
        "Deployment",
        &[fs(
            "",
            "",
            "HorizontalPodAutoscaler",
            "spec/scaleTargetRef/name",
            false,
        )],
    ),
    (
        "",
        "",
        "ReplicationController",
        &[fs(
            "",
            "",
            "HorizontalPodAutoscaler",
            "spec/scaleTargetRef/name",
            false,
        )],
    ),
    (
        "",
        "",
        "ReplicaSet",
        &[fs(
            "",
            "",
            "HorizontalPodAutoscaler",
            "spec/scaleTargetRef/name",
            false,
        )],
    ),
    (
        "",
        "",
        "StatefulSet",
        &[fs(
            "",
            "",
            "HorizontalPodAutoscaler",
            "spec/scaleTargetRef/name",
            false,
        )],
    ),
    (
        "",
        "v1",
        "ConfigMap",
        &[
            fs("", "v1", "Pod", "spec/volumes/configMap/name", false),
            fs(
                "",
                "v1",
                "Pod",
                "spec/containers/env/valueFrom/configMapKeyRef/name",
                false,
            ),
            fs(
                "",
                "v1",
                "Pod",
                "spec/initContainers/env/valueFrom/configMapKeyRef/name",
                false,
            ),
            fs(
                "",
                "v1",
                "Pod",
                "spec/containers/envFrom/configMapRef/name",
                false,
            ),
            fs(
                "",
                "v1",
                "Pod",
                "spec/initContainers/envFrom/configMapRef/name",
                false,
            ),
            fs(
                "",
                "v1",
                "Pod",
                "spec/volumes/projected/sources/configMap/name",
                false,
            ),
            fs(
                "",
                "",
                "PodTemplate",
                "template/spec/volumes/configMap/name",
                false,
            ),
            fs(
                "",
                "",
                "PodTemplate",
                "template/spec/containers/env/valueFrom/configMapKeyRef/name",
                false,
            ),
            fs(
                "",
                "",
                "PodTemplate",
                "template/spec/initContainers/env/valueFrom/configMapKeyRef/name",
                false,
            ),
            fs(
                "",
                "",
                "PodTemplate",
                "template/spec/containers/envFrom/configMapRef/name",
                false,
            ),
            fs(
                "",
                "",
                "PodTemplate",
                "template/spec/initContainers/envFrom/configMapRef/name",
                false,
            ),
            fs(
                "",
                "",
                "PodTemplate",
                "template/spec/volumes/projected/sources/configMap/name",
                false,
            ),
            fs(
                "",
                "",
                "Deployment",
                "spec/template/spec/volumes/configMap/name",
                false,
            ),
            fs(
                "",
                "",
                "Deployment",
                "spec/template/spec/containers/env/valueFrom/configMapKeyRef/name",
                false,
            ),
            fs(
                "",
                "",
                "Deployment",
                "spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name",
                false,
            ),
            fs(
                "",
                "",
                "Deployment",
                "spec/template/spec/containers/envFrom/configMapRef/name",
                false,
            ),
            fs(
                "",
                "",
                "Deployment",
                "spec/template/spec/initContainers/envFrom/configMapRef/name",
                false,
            ),
            fs(
                "",
                "",
                "Deployment",
                "spec/template/spec/volumes/projected/sources/configMap/name",
                false,
            ),
            fs(
                "",
                "",
                "ReplicaSet",
                "spec/template/spec/volumes/configMap/name",
                false,
            ),
            fs(
                "",
                "",
                "ReplicaSet",
                "spec/template/spec/containers/env/valueFrom/configMapKeyRef/name",
                false,
            ),
            fs(
                "",
                "",
                "ReplicaSet",
                "spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name",
                false,
            ),
            fs(
                "",
                "",
                "ReplicaSet",
                "spec/template/spec/containers/envFrom/configMapRef/name",
                false,
            ),
            fs(
                "",
                "",
                "ReplicaSet",
                "spec/template/spec/initContainers/envFrom/configMapRef/name",
                false,
            ),
            fs(
                "",
                "",
                "ReplicaSet",
                "spec/template/spec/volumes/projected/sources/configMap/name",
                false,
            ),
            fs(
                "",
                "",
                "DaemonSet",
                "spec/template/spec/volumes/configMap/name",
                false,
            ),
            fs(
                "",
                "",
                "DaemonSet",
                "spec/template/spec/containers/env/valueFrom/configMapKeyRef/name",
                false,
            ),
            fs(
                "",
                "",
                "DaemonSet",
                "spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name",
                false,
            ),
            fs(
                "",
                "",
                "DaemonSet",
                "spec/template/spec/containers/envFrom/configMapRef/name",
                false,
            ),
            fs(
                "",
                "",
                "DaemonSet",
                "spec/template/spec/initContainers/envFrom/configMapRef/name",
                false,
            ),
            fs(
                "",
                "",
                "DaemonSet",
                "spec/template/spec/volumes/projected/sources/configMap/name",
                false,
            ),
            fs(
                "",
                "",
                "StatefulSet",
                "spec/template/spec/volumes/configMap/name",
                false,
            ),
            fs(
                "",
                "",
                "StatefulSet",
                "spec/template/spec/containers/env/valueFrom/configMapKeyRef/name",
                false,
            ),
            fs(
                "",
                "",
                "StatefulSet",
                "spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name",
                false,
            ),
            fs(
                "",
                "",
                "StatefulSet",
                "spec/template/spec/containers/envFrom/configMapRef/name",
                false,
            ),
            fs(
                "",
                "",
                "StatefulSet",
                "spec/template/spec/initContainers/envFrom/configMapRef/name",
                false,
            ),
            fs(
                "",
                "",
                "StatefulSet",
                "spec/template/spec/volumes/projected/sources/configMap/name",
                false,
            ),
            fs(
                "",
                "",
                "Job",
                "spec/template/spec/volumes/configMap/name",
                false,
            ),
            fs(
                "",
                "",
                "Job",
                "spec/template/spec/containers/env/valueFrom/configMapKeyRef/name",
                false,
            ),
            fs(
                "",
                "",
                "Job",
                "spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name",
                false,
            ),
            fs(
                "",
                "",
                "Job",
                "spec/template/spec/containers/envFrom/configMapRef/name",
                false,
            ),
            fs(
                "",
                "",
                "Job",
                "spec/template/spec/initContainers/envFrom/configMapRef/name",
                false,
            ),
            fs(
                "",
                "",
                "Job",
                "spec/template/spec/volumes/projected/sources/configMap/name",
                false,
            ),
            fs(
                "",
                "",
                "CronJob",
                "spec/jobTemplate/spec/template/spec/volumes/configMap/name",
                false,
            ),
            fs(
                "",
                "",
                "CronJob",
                "spec/jobTemplate/spec/template/spec/volumes/projected/sources/configMap/name",
                false,
            ),
            fs(
                "",
                "",
                "CronJob",
                "spec/jobTemplate/spec/template/spec/containers/env/valueFrom/configMapKeyRef/name",
                false,
            ),
            fs(
                "",
                "",
                "CronJob",
                "spec/jobTemplate/spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name",
                false,
            ),
            fs(
                "",
                "",
                "CronJob",
                "spec/jobTemplate/spec/template/spec/containers/envFrom/configMapRef/name",
                false,
            ),
            fs(
                "",
                "",
                "CronJob",
                "spec/jobTemplate/spec/template/spec/initContainers/envFrom/configMapRef/name",
                false,
            ),
            fs("", "", "Node", "spec/configSource/configMap", false),
            fs("", "", "Role", "rules/resourceNames", false),
            fs("", "", "ClusterRole", "rules/resourceNames", false),
            fs(
                "",
                "",
                "Ingress",
                "metadata/annotations/nginx.ingress.kubernetes.io\\/fastcgi-params-configmap",
                false,
            ),
        ],
    ),
    (
        "",
        "v1",
        "Secret",
        &[
            fs("", "v1", "Pod", "spec/volumes/secret/secretName", false),
            fs(
                "",
                "v1",
                "Pod",
                "spec/containers/env/valueFrom/secretKeyRef/name",
                false,
            ),
            fs(
                "",
                "v1",
                "Pod",
                "spec/initContainers/env/valueFrom/secretKeyRef/name",
                false,
            ),
            fs(
                "",
                "v1",
                "Pod",
                "spec/containers/envFrom/secretRef/name",
                false,
            ),
            fs(
                "",
                "v1",
                "Pod",
                "spec/initContainers/envFrom/secretRef/name",
                false,
            ),
            fs("", "v1", "Pod", "spec/imagePullSecrets/name", false),
            fs(
                "",
                "v1",
                "Pod",
                "spec/volumes/projected/sources/secret/name",
                false,
            ),
            fs(
                "",
                "",
                "PodTemplate",
                "template/spec/volumes/secret/secretName",
                false,
            ),
            fs(
                "",
                "",
                "PodTemplate",
                "template/spec/containers/env/valueFrom/secretKeyRef/name",
                false,
            ),
            fs(
                "",
                "",
                "PodTemplate",
                "template/spec/initContainers/env/valueFrom/secretKeyRef/name",
                false,
            ),
            fs(
                "",
                "",
                "PodTemplate",
                "template/spec/containers/envFrom/secretRef/name",
                false,
            ),
            fs(
                "",
                "",
                "PodTemplate",
                "template/spec/initContainers/envFrom/secretRef/name",
                false,
            ),
            fs(
                "",
                "",
                "PodTemplate",
                "template/spec/imagePullSecrets/name",
                false,
            ),
            fs(
                "",
                "",
                "PodTemplate",
                "template/spec/volumes/projected/sources/secret/name",
                false,
            ),
            fs(
                "",
                "",
                "Deployment",
                "spec/template/spec/volumes/secret/secretName",
                false,
            ),
            fs(
                "",
                "",
                "Deployment",
                "spec/template/spec/containers/env/valueFrom/secretKeyRef/name",
                false,
            ),
            fs(
                "",
                "",
                "Deployment",
                "spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name",
                false,
            ),
            fs(
                "",
                "",
                "Deployment",
                "spec/template/spec/containers/envFrom/secretRef/name",
                false,
            ),
            fs(
                "",
                "",
                "Deployment",
                "spec/template/spec/initContainers/envFrom/secretRef/name",
                false,
            ),
            fs(
                "",
                "",
                "Deployment",
                "spec/template/spec/imagePullSecrets/name",
                false,
            ),
            fs(
                "",
                "",
                "Deployment",
                "spec/template/spec/volumes/projected/sources/secret/name",
                false,
            ),
            fs(
                "",
                "",
                "ReplicaSet",
                "spec/template/spec/volumes/secret/secretName",
                false,
            ),
            fs(
                "",
                "",
                "ReplicaSet",
                "spec/template/spec/containers/env/valueFrom/secretKeyRef/name",
                false,
            ),
            fs(
                "",
                "",
                "ReplicaSet",
                "spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name",
                false,
            ),
            fs(
                "",
                "",
                "ReplicaSet",
                "spec/template/spec/containers/envFrom/secretRef/name",
                false,
            ),
            fs(
                "",
                "",
                "ReplicaSet",
                "spec/template/spec/initContainers/envFrom/secretRef/name",
                false,
            ),
            fs(
                "",
                "",
                "ReplicaSet",
                "spec/template/spec/imagePullSecrets/name",
                false,
            ),
            fs(
                "",
                "",
                "ReplicaSet",
                "spec/template/spec/volumes/projected/sources/secret/name",
                false,
            ),
            fs(
                "",
                "",
                "DaemonSet",
                "spec/template/spec/volumes/secret/secretName",
                false,
            ),
            fs(
                "",
                "",
                "DaemonSet",
                "spec/template/spec/containers/env/valueFrom/secretKeyRef/name",
                false,
            ),
            fs(
                "",
                "",
                "DaemonSet",
                "spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name",
                false,
            ),
            fs(
                "",
                "",
                "DaemonSet",
                "spec/template/spec/containers/envFrom/secretRef/name",
                false,
            ),
            fs(
                "",
                "",
                "DaemonSet",
                "spec/template/spec/initContainers/envFrom/secretRef/name",
                false,
            ),
            fs(
                "",
                "",
                "DaemonSet",
                "spec/template/spec/imagePullSecrets/name",
                false,
            ),
            fs(
                "",
                "",
                "DaemonSet",
                "spec/template/spec/volumes/projected/sources/secret/name",
                false,
            ),
            fs(
                "",
                "",
                "StatefulSet",
                "spec/template/spec/volumes/secret/secretName",
                false,
            ),
            fs(
                "",
                "",
                "StatefulSet",
                "spec/template/spec/containers/env/valueFrom/secretKeyRef/name",
                false,
            ),
            fs(
                "",
                "",
                "StatefulSet",
                "spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name",
                false,
            ),
            fs(
                "",
                "",
                "StatefulSet",
                "spec/template/spec/containers/envFrom/secretRef/name",
                false,
            ),
            fs(
                "",
                "",
                "StatefulSet",
                "spec/template/spec/initContainers/envFrom/secretRef/name",
                false,
            ),
            fs(
                "",
                "",
                "StatefulSet",
                "spec/template/spec/imagePullSecrets/name",
                false,
            ),
            fs(
                "",
                "",
                "StatefulSet",
                "spec/template/spec/volumes/projected/sources/secret/name",
                false,
            ),
            fs(
                "",
                "",
                "Job",
                "spec/template/spec/volumes/secret/secretName",
                false,
            ),
            fs(
                "",
                "",
                "Job",
                "spec/template/spec/containers/env/valueFrom/secretKeyRef/name",
                false,
            ),
            fs(
                "",
                "",
                "Job",
                "spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name",
                false,
            ),
            fs(
                "",
                "",
                "Job",
                "spec/template/spec/containers/envFrom/secretRef/name",
                false,
            ),
            fs(
                "",
                "",
                "Job",
                "spec/template/spec/initContainers/envFrom/secretRef/name",
                false,
            ),
            fs(
                "",
                "",
                "Job",
                "spec/template/spec/imagePullSecrets/name",
                false,
            ),
            fs(
                "",
                "",
                "Job",
                "spec/template/spec/volumes/projected/sources/secret/name",
                false,
            ),
            fs(
                "",
                "",
                "CronJob",
                "spec/jobTemplate/spec/template/spec/volumes/secret/secretName",
                false,
            ),
            fs(
                "",
                "",
                "CronJob",
                "spec/jobTemplate/spec/template/spec/volumes/projected/sources/secret/name",
                false,
            ),
            fs(
                "",
                "",
                "CronJob",
                "spec/jobTemplate/spec/template/spec/containers/env/valueFrom/secretKeyRef/name",
                false,
            ),
            fs(
                "",
                "",
                "CronJob",
                "spec/jobTemplate/spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name",
                false,
            ),
            fs(
                "",
                "",
                "CronJob",
                "spec/jobTemplate/spec/template/spec/containers/envFrom/secretRef/name",
                false,
            ),
            fs(
                "",
                "",
                "CronJob",
                "spec/jobTemplate/spec/template/spec/initContainers/envFrom/secretRef/name",
                false,
            ),
            fs(
                "",
                "",
                "CronJob",
                "spec/jobTemplate/spec/template/spec/imagePullSecrets/name",
                false,
            ),
            fs("", "", "Ingress", "spec/tls/secretName", false),
            fs(
                "",
                "",
                "Ingress",
                "metadata/annotations/ingress.kubernetes.io\\/auth-secret",
                false,
            ),
            fs(
                "",
                "",
                "Ingress",
                "metadata/annotations/nginx.ingress.kubernetes.io\\/auth-secret",
                false,
            ),
            fs(
                "",
                "",
                "Ingress",
                "metadata/annotations/nginx.ingress.kubernetes.io\\/auth-tls-secret",
                false,
            ),
            fs("", "", "Ingress", "spec/tls/secretName", false),
            fs("", "", "ServiceAccount", "imagePullSecrets/name", false),
            fs("", "", "StorageClass", "parameters/secretName", false),
            fs("", "", "StorageClass", "parameters/adminSecretName", false),
            fs("", "", "StorageClass", "parameters/userSecretName", false),
            fs("", "", "StorageClass", "parameters/secretRef", false),
            fs("", "", "Role", "rules/resourceNames", false),
            fs("", "", "ClusterRole", "rules/resourceNames", false),
            fs(
                "serving.knative.dev",
                "v1",
                "Service",
                "spec/template/spec/containers/env/valueFrom/secretKeyRef/name",
                false,
            ),
            fs(
                "",
                "",
                "PersistentVolume",
                "spec/azureFile/secretName",
                false,
            ),
        ],
    ),
    (
        "",
        "v1",
        "Service",
        &[
            fs("apps", "", "StatefulSet", "spec/serviceName", false),
            fs(
                "",
                "",
                "Ingress",
                "spec/rules/http/paths/backend/serviceName",
                false,
            ),
            fs("", "", "Ingress", "spec/backend/serviceName", false),
            fs(
                "",
                "",
                "Ingress",
                "spec/rules/http/paths/backend/service/name",
                false,
            ),
            fs("", "", "Ingress", "spec/defaultBackend/service/name", false),
            fs(
                "apiregistration.k8s.io",
                "",
                "APIService",
                "spec/service/name",
                false,
            ),
            fs(
                "admissionregistration.k8s.io",
                "",
                "ValidatingWebhookConfiguration",
                "webhooks/clientConfig/service",
                false,
            ),
            fs(
                "admissionregistration.k8s.io",
                "",
                "MutatingWebhookConfiguration",
                "webhooks/clientConfig/service",
                false,
            ),
        ],
    ),
    (
        "rbac.authorization.k8s.io",
        "",
        "Role",
        &[fs(
            "rbac.authorization.k8s.io",
            "",
            "RoleBinding",
            "roleRef/name",
            false,
        )],
    ),
    (
        "rbac.authorization.k8s.io",
        "",
        "ClusterRole",
        &[
            fs(
                "rbac.authorization.k8s.io",
                "",
                "RoleBinding",
                "roleRef/name",
                false,
            ),
            fs(
                "rbac.authorization.k8s.io",
                "",
                "ClusterRoleBinding",
                "roleRef/name",
                false,
            ),
        ],
    ),
    (
        "",
        "v1",
        "ServiceAccount",
        &[
            fs(
                "rbac.authorization.k8s.io",
                "",
                "RoleBinding",
                "subjects",
                false,
            ),
            fs(
                "rbac.authorization.k8s.io",
                "",
                "ClusterRoleBinding",
                "subjects",
                false,
            ),
            fs("", "", "Pod", "spec/serviceAccountName", false),
            fs(
                "",
                "",
                "StatefulSet",
                "spec/template/spec/serviceAccountName",
                false,
            ),
            fs(
                "",
                "",
                "Deployment",
                "spec/template/spec/serviceAccountName",
                false,
            ),
            fs(
                "",
                "",
                "ReplicationController",
                "spec/template/spec/serviceAccountName",
                false,
            ),
            fs(
                "",
                "",
                "CronJob",
                "spec/jobTemplate/spec/template/spec/serviceAccountName",
                false,
            ),
            fs(
                "",
                "",
                "Job",
                "spec/template/spec/serviceAccountName",
                false,
            ),
            fs(
                "",
                "",
                "DaemonSet",
                "spec/template/spec/serviceAccountName",
                false,
            ),
        ],
    ),
    (
        "",
        "v1",
        "PersistentVolumeClaim",
        &[
            fs(
                "",
                "",
                "Pod",
                "spec/volumes/persistentVolumeClaim/claimName",
                false,
            ),
            fs(
                "",
                "",
                "StatefulSet",
                "spec/template/spec/volumes/persistentVolumeClaim/claimName",
                false,
            ),
            fs(
                "",
                "",
                "Deployment",
                "spec/template/spec/volumes/persistentVolumeClaim/claimName",
                false,
            ),
            fs(
                "",
                "",
                "ReplicationController",
                "spec/template/spec/volumes/persistentVolumeClaim/claimName",
                false,
            ),
            fs(
                "",
                "",
                "CronJob",
                "spec/jobTemplate/spec/template/spec/volumes/persistentVolumeClaim/claimName",
                false,
            ),
            fs(
                "",
                "",
                "Job",
                "spec/template/spec/volumes/persistentVolumeClaim/claimName",
                false,
            ),
            fs(
                "",
                "",
                "DaemonSet",
                "spec/template/spec/volumes/persistentVolumeClaim/claimName",
                false,
            ),
        ],
    ),
    (
        "",
        "v1",
        "PersistentVolume",
        &[
            fs("", "", "PersistentVolumeClaim", "spec/volumeName", false),
            fs("", "", "ClusterRole", "rules/resourceNames", false),
        ],
    ),
    (
        "storage.k8s.io",
        "v1",
        "StorageClass",
        &[
            fs("", "", "PersistentVolume", "spec/storageClassName", false),
            fs(
                "",
                "",
                "PersistentVolumeClaim",
                "spec/storageClassName",
                false,
            ),
            fs(
                "",
                "",
                "StatefulSet",
                "spec/volumeClaimTemplates/spec/storageClassName",
                false,
            ),
        ],
    ),
    (
        "scheduling.k8s.io",
        "v1",
        "PriorityClass",
        &[
            fs("", "", "Pod", "spec/priorityClassName", false),
            fs(
                "",
                "",
                "StatefulSet",
                "spec/template/spec/priorityClassName",
                false,
            ),
            fs(
                "",
                "",
                "Deployment",
                "spec/template/spec/priorityClassName",
                false,
            ),
            fs(
                "",
                "",
                "ReplicationController",
                "spec/template/spec/priorityClassName",
                false,
            ),
            fs(
                "",
                "",
                "CronJob",
                "spec/jobTemplate/spec/template/spec/priorityClassName",
                false,
            ),
            fs("", "", "Job", "spec/template/spec/priorityClassName", false),
            fs(
                "",
                "",
                "DaemonSet",
                "spec/template/spec/priorityClassName",
                false,
            ),
        ],
    ),
    (
        "networking.k8s.io/v1",
        "v1",
        "IngressClass",
        &[fs("", "", "Ingress", "spec/ingressClassName", false)],
    ),
    (
        "admissionregistration.k8s.io",
        "",
        "ValidatingAdmissionPolicy",
        &[fs(
            "admissionregistration.k8s.io",
            "",
            "ValidatingAdmissionPolicyBinding",
            "spec/policyName",
            false,
        )],
    ),
];
