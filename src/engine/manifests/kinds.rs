//! Which kinds are namespaced and which are cluster-scoped.
//!
//! Argo CD asks the cluster's discovery API; offline we have a built-in table
//! of the Kubernetes API (as of 1.35) and of widely used CRDs whose scope is
//! fixed by their projects, plus the `CustomResourceDefinition`s found in the
//! repository. A kind in none of them is [`Scope::Unknown`] and is reported:
//! assuming "namespaced" would let a cluster-scoped custom resource slip past
//! `clusterResourceWhitelist`.

use std::collections::HashMap;

use crate::engine::manifests::object::Object;
use crate::engine::yaml::Node;

/// How a kind is scoped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Lives in a namespace.
    Namespaced,
    /// Cluster-wide (`Namespace`, `ClusterRole`, CRDs, …).
    Cluster,
    /// Not in the built-in table and no CRD in the repository declares it
    /// (or two CRDs declare it with different scopes).
    Unknown,
}

use Scope::{Cluster as C, Namespaced as N};

/// `(group, kind, scope)` of the built-in API and well-known CRDs.
const BUILTIN: &[(&str, &str, Scope)] = &[
    // core/v1
    ("", "Binding", N),
    ("", "ConfigMap", N),
    ("", "Endpoints", N),
    ("", "Event", N),
    ("", "LimitRange", N),
    ("", "PersistentVolumeClaim", N),
    ("", "Pod", N),
    ("", "PodTemplate", N),
    ("", "ReplicationController", N),
    ("", "ResourceQuota", N),
    ("", "Secret", N),
    ("", "Service", N),
    ("", "ServiceAccount", N),
    ("", "ComponentStatus", C),
    ("", "Namespace", C),
    ("", "Node", C),
    ("", "PersistentVolume", C),
    // admissionregistration.k8s.io
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
        C,
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
        C,
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicy",
        C,
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding",
        C,
    ),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicy", C),
    (
        "admissionregistration.k8s.io",
        "MutatingAdmissionPolicyBinding",
        C,
    ),
    // apiextensions / apiregistration
    ("apiextensions.k8s.io", "CustomResourceDefinition", C),
    ("apiregistration.k8s.io", "APIService", C),
    // apps
    ("apps", "ControllerRevision", N),
    ("apps", "DaemonSet", N),
    ("apps", "Deployment", N),
    ("apps", "ReplicaSet", N),
    ("apps", "StatefulSet", N),
    // authentication / authorization (review objects)
    ("authentication.k8s.io", "TokenReview", C),
    ("authentication.k8s.io", "SelfSubjectReview", C),
    ("authorization.k8s.io", "LocalSubjectAccessReview", N),
    ("authorization.k8s.io", "SelfSubjectAccessReview", C),
    ("authorization.k8s.io", "SelfSubjectRulesReview", C),
    ("authorization.k8s.io", "SubjectAccessReview", C),
    // autoscaling / batch
    ("autoscaling", "HorizontalPodAutoscaler", N),
    ("batch", "CronJob", N),
    ("batch", "Job", N),
    // certificates / coordination / discovery / events
    ("certificates.k8s.io", "CertificateSigningRequest", C),
    ("certificates.k8s.io", "ClusterTrustBundle", C),
    ("certificates.k8s.io", "PodCertificateRequest", N),
    ("coordination.k8s.io", "Lease", N),
    ("coordination.k8s.io", "LeaseCandidate", N),
    ("discovery.k8s.io", "EndpointSlice", N),
    ("events.k8s.io", "Event", N),
    // flowcontrol
    ("flowcontrol.apiserver.k8s.io", "FlowSchema", C),
    (
        "flowcontrol.apiserver.k8s.io",
        "PriorityLevelConfiguration",
        C,
    ),
    // internal / storage migration
    ("internal.apiserver.k8s.io", "StorageVersion", C),
    ("storagemigration.k8s.io", "StorageVersionMigration", C),
    // networking
    ("networking.k8s.io", "Ingress", N),
    ("networking.k8s.io", "NetworkPolicy", N),
    ("networking.k8s.io", "IngressClass", C),
    ("networking.k8s.io", "IPAddress", C),
    ("networking.k8s.io", "ServiceCIDR", C),
    ("policy.networking.k8s.io", "AdminNetworkPolicy", C),
    ("policy.networking.k8s.io", "BaselineAdminNetworkPolicy", C),
    // node / policy / rbac
    ("node.k8s.io", "RuntimeClass", C),
    ("policy", "PodDisruptionBudget", N),
    ("policy", "PodSecurityPolicy", C),
    ("policy", "Eviction", N),
    ("rbac.authorization.k8s.io", "ClusterRole", C),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding", C),
    ("rbac.authorization.k8s.io", "Role", N),
    ("rbac.authorization.k8s.io", "RoleBinding", N),
    // resource (DRA)
    ("resource.k8s.io", "DeviceClass", C),
    ("resource.k8s.io", "ResourceSlice", C),
    ("resource.k8s.io", "DeviceTaintRule", C),
    ("resource.k8s.io", "ResourceClaim", N),
    ("resource.k8s.io", "ResourceClaimTemplate", N),
    // scheduling / storage
    ("scheduling.k8s.io", "PriorityClass", C),
    ("scheduling.k8s.io", "Workload", N),
    ("storage.k8s.io", "CSIDriver", C),
    ("storage.k8s.io", "CSINode", C),
    ("storage.k8s.io", "StorageClass", C),
    ("storage.k8s.io", "VolumeAttachment", C),
    ("storage.k8s.io", "VolumeAttributesClass", C),
    ("storage.k8s.io", "CSIStorageCapacity", N),
    ("snapshot.storage.k8s.io", "VolumeSnapshot", N),
    ("snapshot.storage.k8s.io", "VolumeSnapshotClass", C),
    ("snapshot.storage.k8s.io", "VolumeSnapshotContent", C),
    ("autoscaling.k8s.io", "VerticalPodAutoscaler", N),
    // Argo CD, Argo Rollouts, Workflows, Events
    ("argoproj.io", "Application", N),
    ("argoproj.io", "ApplicationSet", N),
    ("argoproj.io", "AppProject", N),
    ("argoproj.io", "Rollout", N),
    ("argoproj.io", "AnalysisTemplate", N),
    ("argoproj.io", "AnalysisRun", N),
    ("argoproj.io", "Experiment", N),
    ("argoproj.io", "ClusterAnalysisTemplate", C),
    ("argoproj.io", "Workflow", N),
    ("argoproj.io", "WorkflowTemplate", N),
    ("argoproj.io", "CronWorkflow", N),
    ("argoproj.io", "WorkflowEventBinding", N),
    ("argoproj.io", "ClusterWorkflowTemplate", C),
    ("argoproj.io", "EventSource", N),
    ("argoproj.io", "Sensor", N),
    ("argoproj.io", "EventBus", N),
    // Flux
    ("source.toolkit.fluxcd.io", "GitRepository", N),
    ("source.toolkit.fluxcd.io", "HelmRepository", N),
    ("source.toolkit.fluxcd.io", "HelmChart", N),
    ("source.toolkit.fluxcd.io", "Bucket", N),
    ("source.toolkit.fluxcd.io", "OCIRepository", N),
    ("source.toolkit.fluxcd.io", "ExternalArtifact", N),
    ("source.extensions.fluxcd.io", "ArtifactGenerator", N),
    ("kustomize.toolkit.fluxcd.io", "Kustomization", N),
    ("helm.toolkit.fluxcd.io", "HelmRelease", N),
    ("notification.toolkit.fluxcd.io", "Alert", N),
    ("notification.toolkit.fluxcd.io", "Provider", N),
    ("notification.toolkit.fluxcd.io", "Receiver", N),
    ("image.toolkit.fluxcd.io", "ImageRepository", N),
    ("image.toolkit.fluxcd.io", "ImagePolicy", N),
    ("image.toolkit.fluxcd.io", "ImageUpdateAutomation", N),
    // cert-manager
    ("cert-manager.io", "Certificate", N),
    ("cert-manager.io", "CertificateRequest", N),
    ("cert-manager.io", "Issuer", N),
    ("cert-manager.io", "ClusterIssuer", C),
    ("acme.cert-manager.io", "Order", N),
    ("acme.cert-manager.io", "Challenge", N),
    ("trust.cert-manager.io", "Bundle", C),
    // Kyverno
    ("kyverno.io", "ClusterPolicy", C),
    ("kyverno.io", "Policy", N),
    ("kyverno.io", "ClusterCleanupPolicy", C),
    ("kyverno.io", "CleanupPolicy", N),
    ("kyverno.io", "PolicyException", N),
    ("kyverno.io", "UpdateRequest", N),
    ("kyverno.io", "GlobalContextEntry", C),
    ("policies.kyverno.io", "ValidatingPolicy", C),
    ("policies.kyverno.io", "NamespacedValidatingPolicy", N),
    ("policies.kyverno.io", "ImageValidatingPolicy", C),
    ("policies.kyverno.io", "NamespacedImageValidatingPolicy", N),
    ("policies.kyverno.io", "MutatingPolicy", C),
    ("policies.kyverno.io", "NamespacedMutatingPolicy", N),
    ("policies.kyverno.io", "GeneratingPolicy", C),
    ("policies.kyverno.io", "NamespacedGeneratingPolicy", N),
    ("policies.kyverno.io", "DeletingPolicy", C),
    ("policies.kyverno.io", "NamespacedDeletingPolicy", N),
    ("policies.kyverno.io", "PolicyException", N),
    ("wgpolicyk8s.io", "PolicyReport", N),
    ("wgpolicyk8s.io", "ClusterPolicyReport", C),
    // Gatekeeper
    ("templates.gatekeeper.sh", "ConstraintTemplate", C),
    ("config.gatekeeper.sh", "Config", N),
    ("mutations.gatekeeper.sh", "Assign", C),
    ("mutations.gatekeeper.sh", "AssignMetadata", C),
    ("mutations.gatekeeper.sh", "ModifySet", C),
    // Prometheus operator
    ("monitoring.coreos.com", "Prometheus", N),
    ("monitoring.coreos.com", "PrometheusAgent", N),
    ("monitoring.coreos.com", "Alertmanager", N),
    ("monitoring.coreos.com", "AlertmanagerConfig", N),
    ("monitoring.coreos.com", "ServiceMonitor", N),
    ("monitoring.coreos.com", "PodMonitor", N),
    ("monitoring.coreos.com", "Probe", N),
    ("monitoring.coreos.com", "PrometheusRule", N),
    ("monitoring.coreos.com", "ScrapeConfig", N),
    ("monitoring.coreos.com", "ThanosRuler", N),
    // Gateway API
    ("gateway.networking.k8s.io", "GatewayClass", C),
    ("gateway.networking.k8s.io", "Gateway", N),
    ("gateway.networking.k8s.io", "HTTPRoute", N),
    ("gateway.networking.k8s.io", "GRPCRoute", N),
    ("gateway.networking.k8s.io", "TLSRoute", N),
    ("gateway.networking.k8s.io", "TCPRoute", N),
    ("gateway.networking.k8s.io", "UDPRoute", N),
    ("gateway.networking.k8s.io", "ReferenceGrant", N),
    ("gateway.networking.k8s.io", "BackendTLSPolicy", N),
    ("gateway.networking.k8s.io", "ListenerSet", N),
    ("gateway.networking.x-k8s.io", "XListenerSet", N),
    ("gateway.networking.x-k8s.io", "XBackendTrafficPolicy", N),
    // Istio
    ("networking.istio.io", "VirtualService", N),
    ("networking.istio.io", "DestinationRule", N),
    ("networking.istio.io", "Gateway", N),
    ("networking.istio.io", "ServiceEntry", N),
    ("networking.istio.io", "Sidecar", N),
    ("networking.istio.io", "EnvoyFilter", N),
    ("networking.istio.io", "WorkloadEntry", N),
    ("networking.istio.io", "WorkloadGroup", N),
    ("networking.istio.io", "ProxyConfig", N),
    ("security.istio.io", "AuthorizationPolicy", N),
    ("security.istio.io", "PeerAuthentication", N),
    ("security.istio.io", "RequestAuthentication", N),
    ("telemetry.istio.io", "Telemetry", N),
    // Cilium / Calico
    ("cilium.io", "CiliumNetworkPolicy", N),
    ("cilium.io", "CiliumClusterwideNetworkPolicy", C),
    ("crd.projectcalico.org", "NetworkPolicy", N),
    ("crd.projectcalico.org", "GlobalNetworkPolicy", C),
    ("projectcalico.org", "NetworkPolicy", N),
    ("projectcalico.org", "GlobalNetworkPolicy", C),
    // Secrets
    ("external-secrets.io", "ExternalSecret", N),
    ("external-secrets.io", "SecretStore", N),
    ("external-secrets.io", "PushSecret", N),
    ("external-secrets.io", "ClusterSecretStore", C),
    ("external-secrets.io", "ClusterExternalSecret", C),
    ("external-secrets.io", "ClusterPushSecret", C),
    ("bitnami.com", "SealedSecret", N),
    // KEDA
    ("keda.sh", "ScaledObject", N),
    ("keda.sh", "ScaledJob", N),
    ("keda.sh", "TriggerAuthentication", N),
    ("keda.sh", "ClusterTriggerAuthentication", C),
    // Traefik
    ("traefik.io", "IngressRoute", N),
    ("traefik.io", "IngressRouteTCP", N),
    ("traefik.io", "IngressRouteUDP", N),
    ("traefik.io", "Middleware", N),
    ("traefik.io", "MiddlewareTCP", N),
    ("traefik.io", "TLSOption", N),
    ("traefik.io", "TLSStore", N),
    ("traefik.io", "TraefikService", N),
    ("traefik.io", "ServersTransport", N),
    // Knative, OpenShift, Kruise
    ("serving.knative.dev", "Service", N),
    ("serving.knative.dev", "Configuration", N),
    ("serving.knative.dev", "Route", N),
    ("serving.knative.dev", "Revision", N),
    ("apps.openshift.io", "DeploymentConfig", N),
    ("route.openshift.io", "Route", N),
    ("apps.kruise.io", "CloneSet", N),
    // Velero
    ("velero.io", "Backup", N),
    ("velero.io", "Restore", N),
    ("velero.io", "Schedule", N),
];

/// Why a CRD could not be registered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CrdError {
    /// Not a `CustomResourceDefinition`, or a required field is missing.
    #[error("not a usable CustomResourceDefinition: {0}")]
    Invalid(String),
    /// The CRD redefines a built-in kind; the built-in scope is kept, so a
    /// PR cannot turn `ClusterRole` into a namespaced kind.
    #[error("CustomResourceDefinition redefines built-in kind {kind} in group {group:?}; ignored")]
    Builtin {
        /// API group.
        group: String,
        /// Kind.
        kind: String,
    },
    /// Another CRD declares the same group/kind with a different scope; the
    /// kind becomes [`Scope::Unknown`].
    #[error("CustomResourceDefinitions disagree on the scope of {kind} in group {group:?}")]
    Conflict {
        /// API group.
        group: String,
        /// Kind.
        kind: String,
    },
}

/// Built-in kinds plus CRDs registered from the repository.
#[derive(Clone, Debug)]
pub struct KindTable {
    // group → kind → scope; nested so lookups allocate nothing.
    builtin: HashMap<String, HashMap<String, Scope>>,
    crds: HashMap<String, HashMap<String, Scope>>,
}

impl Default for KindTable {
    fn default() -> Self {
        Self::new()
    }
}

impl KindTable {
    /// The built-in table only.
    pub fn new() -> Self {
        let mut builtin: HashMap<String, HashMap<String, Scope>> = HashMap::new();
        for &(g, k, s) in BUILTIN {
            builtin
                .entry(g.to_owned())
                .or_default()
                .insert(k.to_owned(), s);
        }
        Self {
            builtin,
            crds: HashMap::new(),
        }
    }

    /// Scope of `kind` in API `group` (`""` for core). Exact and
    /// case-sensitive, as the API server's discovery is.
    pub fn lookup(&self, group: &str, kind: &str) -> Scope {
        if let Some(s) = self.builtin.get(group).and_then(|m| m.get(kind)) {
            return *s;
        }
        self.crds
            .get(group)
            .and_then(|m| m.get(kind))
            .copied()
            .unwrap_or(Scope::Unknown)
    }

    /// True when the kind comes from the built-in table (not from a CRD).
    pub fn is_builtin(&self, group: &str, kind: &str) -> bool {
        self.builtin
            .get(group)
            .is_some_and(|m| m.contains_key(kind))
    }

    /// Registers a `CustomResourceDefinition` object: `spec.group`,
    /// `spec.names.kind`, `spec.scope` (`Namespaced` | `Cluster`, as the API
    /// server requires). Returns the registered `(group, kind, scope)`.
    pub fn register_crd(&mut self, obj: &Object) -> Result<(String, String, Scope), CrdError> {
        if obj.kind != "CustomResourceDefinition" || obj.group() != "apiextensions.k8s.io" {
            return Err(CrdError::Invalid(format!(
                "{} {} is not an apiextensions.k8s.io CustomResourceDefinition",
                obj.api_version, obj.kind
            )));
        }
        self.register_crd_node(&obj.root)
    }

    /// As [`register_crd`](Self::register_crd), from the object's root node.
    pub fn register_crd_node(&mut self, root: &Node) -> Result<(String, String, Scope), CrdError> {
        let text = |path: &[&str]| root.path(path).and_then(Node::as_str).map(str::to_owned);
        let group =
            text(&["spec", "group"]).ok_or_else(|| CrdError::Invalid("no spec.group".into()))?;
        let kind = text(&["spec", "names", "kind"])
            .ok_or_else(|| CrdError::Invalid("no spec.names.kind".into()))?;
        let scope = match text(&["spec", "scope"]).as_deref() {
            Some("Namespaced") => Scope::Namespaced,
            Some("Cluster") => Scope::Cluster,
            other => {
                return Err(CrdError::Invalid(format!(
                    "spec.scope is {other:?}, not Namespaced or Cluster"
                )));
            }
        };
        if self.is_builtin(&group, &kind) {
            return Err(CrdError::Builtin { group, kind });
        }
        let kinds = self.crds.entry(group.clone()).or_default();
        match kinds.get(&kind) {
            Some(&prev) if prev != scope => {
                kinds.insert(kind.clone(), Scope::Unknown);
                return Err(CrdError::Conflict { group, kind });
            }
            _ => {
                kinds.insert(kind.clone(), scope);
            }
        }
        Ok((group, kind, scope))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::manifests::object::load_objects;
    use crate::engine::yaml::Limits;

    fn obj(text: &str) -> Object {
        load_objects("crd.yaml", text, &Limits::default())
            .objects
            .remove(0)
    }

    #[test]
    fn builtin_scopes() {
        let t = KindTable::new();
        assert_eq!(t.lookup("", "Namespace"), Scope::Cluster);
        assert_eq!(t.lookup("", "ConfigMap"), Scope::Namespaced);
        assert_eq!(t.lookup("apps", "Deployment"), Scope::Namespaced);
        assert_eq!(
            t.lookup("rbac.authorization.k8s.io", "ClusterRole"),
            Scope::Cluster
        );
        assert_eq!(t.lookup("kyverno.io", "ClusterPolicy"), Scope::Cluster);
        assert_eq!(t.lookup("argoproj.io", "AppProject"), Scope::Namespaced);
        // group matters, and so does case
        assert_eq!(t.lookup("", "Deployment"), Scope::Unknown);
        assert_eq!(t.lookup("apps", "deployment"), Scope::Unknown);
        assert_eq!(t.lookup("example.com", "Widget"), Scope::Unknown);
    }

    #[test]
    fn crds_register_and_cannot_override_builtins() {
        let mut t = KindTable::new();
        let crd = obj(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n  scope: Cluster\n",
        );
        assert_eq!(
            t.register_crd(&crd).unwrap(),
            ("example.com".into(), "Widget".into(), Scope::Cluster)
        );
        assert_eq!(t.lookup("example.com", "Widget"), Scope::Cluster);

        let evil = obj(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: x}\nspec:\n  group: rbac.authorization.k8s.io\n  names: {kind: ClusterRole}\n  scope: Namespaced\n",
        );
        assert!(matches!(
            t.register_crd(&evil),
            Err(CrdError::Builtin { .. })
        ));
        assert_eq!(
            t.lookup("rbac.authorization.k8s.io", "ClusterRole"),
            Scope::Cluster
        );

        let conflicting = obj(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: y}\nspec:\n  group: example.com\n  names: {kind: Widget}\n  scope: Namespaced\n",
        );
        assert!(matches!(
            t.register_crd(&conflicting),
            Err(CrdError::Conflict { .. })
        ));
        assert_eq!(t.lookup("example.com", "Widget"), Scope::Unknown);

        let bad = obj(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: z}\nspec:\n  group: example.com\n  names: {kind: Gadget}\n  scope: namespaced\n",
        );
        assert!(matches!(t.register_crd(&bad), Err(CrdError::Invalid(_))));
        let not_crd = obj("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: z}\n");
        assert!(matches!(
            t.register_crd(&not_crd),
            Err(CrdError::Invalid(_))
        ));
    }
}
