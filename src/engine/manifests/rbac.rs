//! `rbac-escalation`: Kubernetes RBAC objects that hand out more than they
//! appear to.
//!
//! The list follows the Kubernetes "RBAC good practices" document
//! (privilege-escalation risks), matched with the authorizer's own rules:
//! `*` in `apiGroups`, `resources` or `verbs` matches everything, a resource
//! `*/sub` matches that subresource of every resource, everything else is
//! an exact, case-sensitive string (so `Escalate` grants nothing).
//!
//! Reported:
//! - bindings to `cluster-admin` (any binding), and `ClusterRoleBinding`s to
//!   the built-in `admin` or `edit` roles (those are meant for one namespace);
//! - bindings whose subjects are everyone: `system:anonymous`,
//!   `system:unauthenticated`, `system:authenticated`, or every service
//!   account in the cluster (`system:serviceaccounts`);
//! - Role/ClusterRole rules with wildcard verbs or wildcard resources;
//! - the verbs `escalate`, `bind` and `impersonate`;
//! - reading Secrets (`get`/`list`/`watch`) in a ClusterRole (every namespace);
//! - `nodes/proxy` (the kubelet API: exec into any pod on the node);
//! - `create` on `serviceaccounts/token` (mint tokens for any service account);
//! - CSR approval (`update` on `certificatesigningrequests/approval`,
//!   `approve` on `signers`);
//! - writing admission webhook configurations;
//! - creating or changing PersistentVolumes (a hostPath PV bypasses Pod
//!   Security);
//! - `update`/`patch` on Namespaces (relabelling switches Pod Security
//!   Admission off).
//!
//! Not reported, on purpose: workload creation and `pods/exec` inside a
//! namespace (that is what the `edit` role is for; whether it reaches other
//! namespaces depends on a binding we judge separately), and `apiGroups: ['*']`
//! on its own (it only widens a rule whose resources and verbs we check).

use crate::engine::manifests::object::Object;
use crate::engine::manifests::violation::Violation;
use crate::engine::yaml::Node;

const RULE: &str = "rbac-escalation";
const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// Subjects that stand for "everyone" (or every workload).
const EVERYONE: [(&str, &str, &str); 4] = [
    ("User", "system:anonymous", "every unauthenticated request"),
    (
        "Group",
        "system:unauthenticated",
        "every unauthenticated request",
    ),
    ("Group", "system:authenticated", "every authenticated user"),
    (
        "Group",
        "system:serviceaccounts",
        "every service account in the cluster",
    ),
];

/// A permission that allows escalation: group, resource, verbs that matter,
/// ClusterRole only, and what it means.
struct Dangerous {
    group: &'static str,
    resource: &'static str,
    verbs: &'static [&'static str],
    cluster_only: bool,
    why: &'static str,
}

const DANGEROUS: [Dangerous; 9] = [
    Dangerous {
        group: "",
        resource: "secrets",
        verbs: &["get", "list", "watch"],
        cluster_only: true,
        why: "reads Secrets in every namespace, including service-account tokens and credentials",
    },
    Dangerous {
        group: "",
        resource: "nodes/proxy",
        verbs: &["get", "create", "update", "patch", "delete"],
        cluster_only: false,
        why: "reaches the kubelet API through `nodes/proxy`, which can exec into any pod on the node",
    },
    Dangerous {
        group: "",
        resource: "serviceaccounts/token",
        verbs: &["create"],
        cluster_only: false,
        why: "mints tokens for any service account it can name, and so acts with their permissions",
    },
    Dangerous {
        group: "certificates.k8s.io",
        resource: "certificatesigningrequests/approval",
        verbs: &["update", "patch"],
        cluster_only: false,
        why: "approves certificate signing requests, which can issue client certificates for any user",
    },
    Dangerous {
        group: "certificates.k8s.io",
        resource: "signers",
        verbs: &["approve"],
        cluster_only: false,
        why: "approves certificate signing requests, which can issue client certificates for any user",
    },
    Dangerous {
        group: "admissionregistration.k8s.io",
        resource: "mutatingwebhookconfigurations",
        verbs: &["create", "update", "patch", "delete", "deletecollection"],
        cluster_only: false,
        why: "controls mutating admission webhooks, which see and rewrite every object",
    },
    Dangerous {
        group: "admissionregistration.k8s.io",
        resource: "validatingwebhookconfigurations",
        verbs: &["create", "update", "patch", "delete", "deletecollection"],
        cluster_only: false,
        why: "controls validating admission webhooks, which can switch admission policy off",
    },
    Dangerous {
        group: "",
        resource: "persistentvolumes",
        verbs: &["create", "update", "patch"],
        cluster_only: false,
        why: "creates PersistentVolumes, and a hostPath volume gives pods the host's filesystem past Pod Security",
    },
    Dangerous {
        group: "",
        resource: "namespaces",
        verbs: &["update", "patch"],
        cluster_only: false,
        why: "changes Namespace labels, which can switch Pod Security Admission off",
    },
];

fn strings(node: Option<&Node>) -> Vec<&str> {
    node.and_then(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .filter_map(Node::as_str)
        .collect()
}

/// Whether a rule's resource list covers `target` (`res` or `res/sub`).
fn resource_matches(patterns: &[&str], target: &str) -> bool {
    let sub = target.split_once('/').map(|(_, s)| s);
    patterns.iter().any(|p| {
        *p == "*"
            || *p == target
            || matches!((p.strip_prefix("*/"), sub), (Some(ps), Some(s)) if ps == s)
    })
}

/// `rbac-escalation` for one object.
pub fn check(obj: &Object) -> Vec<Violation> {
    if obj.group() != RBAC_GROUP {
        return Vec::new();
    }
    match obj.kind.as_str() {
        "RoleBinding" | "ClusterRoleBinding" => check_binding(obj),
        "Role" | "ClusterRole" => check_role(obj),
        _ => Vec::new(),
    }
}

fn check_binding(obj: &Object) -> Vec<Violation> {
    let mut out = Vec::new();
    let cluster = obj.kind == "ClusterRoleBinding";
    if let Some(role_ref) = obj.root.get("roleRef") {
        let kind = role_ref.get("kind").and_then(Node::as_str).unwrap_or("");
        let name = role_ref.get("name").and_then(Node::as_str).unwrap_or("");
        let line = role_ref.key_line("name");
        if kind == "ClusterRole" && name == "cluster-admin" {
            out.push(Violation::new(
                RULE,
                line,
                format!(
                    "{} `{}` grants `cluster-admin`, full control of {}; bind a role that lists only the needed permissions",
                    obj.kind,
                    obj.name,
                    if cluster { "the whole cluster" } else { "the namespace, including its RBAC and Secrets" }
                ),
            ));
        } else if cluster && kind == "ClusterRole" && (name == "admin" || name == "edit") {
            out.push(Violation::new(
                RULE,
                line,
                format!(
                    "ClusterRoleBinding `{}` grants `{name}` in every namespace; use a RoleBinding in the namespaces that need it",
                    obj.name
                ),
            ));
        }
    }
    for s in obj
        .root
        .get("subjects")
        .and_then(Node::as_seq)
        .unwrap_or_default()
    {
        let kind = s.get("kind").and_then(Node::as_str).unwrap_or("");
        let name = s.get("name").and_then(Node::as_str).unwrap_or("");
        if let Some((_, _, who)) = EVERYONE.iter().find(|(k, n, _)| *k == kind && *n == name) {
            out.push(Violation::new(
                RULE,
                s.key_line("name"),
                format!(
                    "{} `{}` binds {kind} `{name}`, that is {who}; bind specific users, groups or service accounts",
                    obj.kind, obj.name
                ),
            ));
        }
    }
    out
}

fn check_role(obj: &Object) -> Vec<Violation> {
    let mut out = Vec::new();
    let cluster = obj.kind == "ClusterRole";
    let who = format!("{} `{}`", obj.kind, obj.name);
    for rule in obj
        .root
        .get("rules")
        .and_then(Node::as_seq)
        .unwrap_or_default()
    {
        let groups = strings(rule.get("apiGroups"));
        let resources = strings(rule.get("resources"));
        let verbs = strings(rule.get("verbs"));
        let verbs_line = rule.key_line("verbs");
        let res_line = rule.key_line("resources");
        let all_verbs = verbs.contains(&"*");
        let all_resources = resources.contains(&"*");
        if all_verbs {
            out.push(Violation::new(
                RULE,
                verbs_line,
                format!(
                    "{who} grants wildcard verbs `*`, which include escalate, bind, impersonate and every future verb; list the verbs needed"
                ),
            ));
        }
        if all_resources {
            out.push(Violation::new(
                RULE,
                res_line,
                format!(
                    "{who} grants wildcard resources `*`, which cover Secrets, RBAC and every future resource; list the resources needed"
                ),
            ));
        }
        if all_verbs && all_resources {
            continue; // already "everything"; the details below would only repeat it
        }
        if !all_verbs {
            for v in ["escalate", "bind", "impersonate"] {
                if verbs.contains(&v) && !resources.is_empty() {
                    out.push(Violation::new(
                        RULE,
                        verbs_line,
                        format!(
                            "{who} grants `{v}` on {}: {}; remove it unless this is a platform controller that needs it",
                            resources.join(", "),
                            match v {
                                "escalate" => "it lets the holder create roles with permissions it does not have",
                                "bind" => "it lets the holder bind roles with permissions it does not have",
                                _ => "it lets the holder act as other users, groups or service accounts",
                            }
                        ),
                    ));
                }
            }
        }
        let group_ok = |g: &str| groups.contains(&"*") || groups.contains(&g);
        for d in &DANGEROUS {
            if d.cluster_only && !cluster {
                continue;
            }
            if !group_ok(d.group) || !resource_matches(&resources, d.resource) {
                continue;
            }
            let granted: Vec<&str> = if all_verbs {
                vec!["*"]
            } else {
                d.verbs
                    .iter()
                    .copied()
                    .filter(|v| verbs.contains(v))
                    .collect()
            };
            if granted.is_empty() {
                continue;
            }
            out.push(Violation::new(
                RULE,
                if all_verbs { res_line } else { verbs_line },
                format!(
                    "{who} grants `{}` on `{}`: it {}; narrow the rule (resourceNames, a namespaced Role) or remove it",
                    granted.join(", "),
                    d.resource,
                    d.why
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::manifests::object::load_objects;
    use crate::engine::yaml::Limits;

    fn obj(text: &str) -> Object {
        load_objects("f.yaml", text, &Limits::default())
            .objects
            .remove(0)
    }

    fn lines(text: &str) -> Vec<u32> {
        check(&obj(text)).iter().map(|v| v.line).collect()
    }

    const CRB: &str = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: b\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n";

    #[test]
    fn bindings() {
        assert_eq!(
            lines(&format!(
                "{CRB}  name: cluster-admin\nsubjects:\n- kind: Group\n  name: devs\n"
            )),
            vec![8]
        );
        assert_eq!(lines(&format!("{CRB}  name: admin\n")), vec![8]);
        assert_eq!(lines(&format!("{CRB}  name: view\n")), Vec::<u32>::new());
        let rb = "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: b\n  namespace: payments\nroleRef:\n  kind: ClusterRole\n  name: edit\nsubjects:\n- kind: ServiceAccount\n  name: ci\n  namespace: payments\n";
        assert_eq!(
            lines(rb),
            Vec::<u32>::new(),
            "edit inside one namespace is fine"
        );
        assert_eq!(
            lines(&rb.replace("name: edit", "name: cluster-admin")),
            vec![8]
        );
        let everyone = format!(
            "{CRB}  name: view\nsubjects:\n- kind: Group\n  name: system:authenticated\n- kind: User\n  name: system:anonymous\n- kind: Group\n  name: system:unauthenticated\n- kind: Group\n  name: system:serviceaccounts:payments\n"
        );
        assert_eq!(lines(&everyone), vec![11, 13, 15]);
    }

    const CR: &str = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: r\nrules:\n";

    #[test]
    fn wildcards() {
        let all = format!("{CR}- apiGroups: ['*']\n  resources: ['*']\n  verbs: ['*']\n");
        assert_eq!(lines(&all), vec![8, 7]);
        let verbs = format!("{CR}- apiGroups: ['']\n  resources: [configmaps]\n  verbs: ['*']\n");
        assert_eq!(lines(&verbs), vec![8]);
        let res = format!("{CR}- apiGroups: [apps]\n  resources: ['*']\n  verbs: [get]\n");
        assert_eq!(lines(&res), vec![7]);
    }

    #[test]
    fn escalation_verbs_and_sensitive_resources() {
        for (rule, hit) in [
            (
                "- apiGroups: [rbac.authorization.k8s.io]\n  resources: [clusterroles]\n  verbs: [bind, escalate]\n",
                2,
            ),
            (
                "- apiGroups: ['']\n  resources: [users, groups]\n  verbs: [impersonate]\n",
                1,
            ),
            (
                "- apiGroups: ['']\n  resources: [secrets]\n  verbs: [list]\n",
                1,
            ),
            (
                "- apiGroups: ['']\n  resources: [nodes/proxy]\n  verbs: [get]\n",
                1,
            ),
            (
                "- apiGroups: ['']\n  resources: ['*/proxy']\n  verbs: [get]\n",
                1,
            ),
            (
                "- apiGroups: ['']\n  resources: [serviceaccounts/token]\n  verbs: [create]\n",
                1,
            ),
            (
                "- apiGroups: [certificates.k8s.io]\n  resources: [signers]\n  verbs: [approve]\n",
                1,
            ),
            (
                "- apiGroups: [admissionregistration.k8s.io]\n  resources: [mutatingwebhookconfigurations]\n  verbs: [patch]\n",
                1,
            ),
            (
                "- apiGroups: ['']\n  resources: [persistentvolumes]\n  verbs: [create]\n",
                1,
            ),
            (
                "- apiGroups: ['']\n  resources: [namespaces]\n  verbs: [patch]\n",
                1,
            ),
            (
                "- apiGroups: ['*']\n  resources: [secrets]\n  verbs: [watch]\n",
                1,
            ),
            // Compliant look-alikes.
            (
                "- apiGroups: ['']\n  resources: [secrets]\n  verbs: [create]\n",
                0,
            ),
            (
                "- apiGroups: [apps]\n  resources: [secrets]\n  verbs: [get]\n",
                0,
            ),
            (
                "- apiGroups: ['']\n  resources: [namespaces]\n  verbs: [get, list]\n",
                0,
            ),
            (
                "- apiGroups: ['']\n  resources: [serviceaccounts]\n  verbs: [create]\n",
                0,
            ),
            (
                "- apiGroups: ['']\n  resources: [pods]\n  verbs: [Escalate, BIND]\n",
                0,
            ),
            (
                "- apiGroups: ['']\n  resources: [nodes]\n  verbs: [get]\n",
                0,
            ),
        ] {
            let text = format!("{CR}{rule}");
            assert_eq!(check(&obj(&text)).len(), hit, "{rule}");
        }
    }

    #[test]
    fn namespaced_role_may_read_its_secrets() {
        let role = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: r\n  namespace: payments\nrules:\n- apiGroups: ['']\n  resources: [secrets]\n  verbs: [get, list]\n";
        assert!(check(&obj(role)).is_empty());
        // The reference model's reconciler role is clean.
        let reconciler = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: flux-payments-reconciler\n  namespace: payments\nrules:\n- apiGroups: [\"\", \"apps\", \"networking.k8s.io\", \"autoscaling\"]\n  resources: [\"deployments\", \"services\", \"configmaps\", \"ingresses\", \"horizontalpodautoscalers\"]\n  verbs: [\"get\", \"list\", \"watch\", \"create\", \"update\", \"patch\", \"delete\"]\n";
        assert!(check(&obj(reconciler)).is_empty());
        // But minting tokens is an escalation even inside a namespace.
        let token = role
            .replace("[secrets]", "[serviceaccounts/token]")
            .replace("[get, list]", "[create]");
        assert_eq!(check(&obj(&token)).len(), 1);
    }

    #[test]
    fn other_groups_ignored() {
        let fake = "apiVersion: example.com/v1\nkind: ClusterRole\nmetadata:\n  name: r\nrules:\n- apiGroups: ['*']\n  resources: ['*']\n  verbs: ['*']\n";
        assert!(check(&obj(fake)).is_empty());
    }
}
