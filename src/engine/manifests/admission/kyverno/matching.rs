//! `match` / `exclude` resource filters (`pkg/engine/utils/match.go`):
//! `any`/`all` lists or the legacy flat form, each filter with `kinds`
//! (`Kind`, `version/Kind`, `group/version/Kind`, wildcards), `names`/`name`,
//! `namespaces`, `annotations`, `selector` and `operations`.
//!
//! What a Git checkout cannot know — the requesting user (`subjects`,
//! `roles`, `clusterRoles`), Namespace labels (`namespaceSelector`), and the
//! namespace of an object that names none — is decided fail-closed: such a
//! filter is assumed to match in `match` and not to match in `exclude`, and
//! the policy loader reports it.

use serde_json::Value as J;

use super::operators::wildcard_match;
use crate::engine::manifests::object::Object;
use crate::engine::yaml::Node;

/// A label selector.
#[derive(Clone, Debug, Default)]
pub struct Selector {
    /// `matchLabels` (wildcards allowed, as Kyverno expands them).
    pub labels: Vec<(String, String)>,
    /// `matchExpressions` (key, operator, values).
    pub expressions: Vec<(String, String, Vec<String>)>,
}

/// One resource filter.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// `resources.kinds`.
    pub kinds: Vec<String>,
    /// `resources.names` plus the deprecated `resources.name`.
    pub names: Vec<String>,
    /// `resources.namespaces`.
    pub namespaces: Vec<String>,
    /// `resources.annotations`.
    pub annotations: Vec<(String, String)>,
    /// `resources.selector`.
    pub selector: Option<Selector>,
    /// `resources.operations`.
    pub operations: Vec<String>,
    /// The filter needs facts a checkout lacks (user info, namespace labels).
    pub unknowable: bool,
}

/// A `match` or `exclude` block.
#[derive(Clone, Debug, Default)]
pub struct Block {
    /// `any:` filters.
    pub any: Vec<Filter>,
    /// `all:` filters (the legacy flat form is one `all` filter).
    pub all: Vec<Filter>,
}

/// Facts about the object being matched.
pub struct Target<'a> {
    /// The object.
    pub obj: &'a Object,
    /// Match as a core/v1 Pod (an autogen rule applying to a controller).
    pub as_pod: bool,
}

fn strings(v: Option<&J>) -> Vec<String> {
    match v {
        Some(J::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        Some(J::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn string_map(v: Option<&J>) -> Vec<(String, String)> {
    match v {
        Some(J::Object(m)) => m
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| v.to_string()),
                )
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn selector(v: Option<&J>) -> Option<Selector> {
    let v = v?;
    Some(Selector {
        labels: string_map(v.get("matchLabels")),
        expressions: match v.get("matchExpressions") {
            Some(J::Array(list)) => list
                .iter()
                .map(|e| {
                    (
                        e.get("key")
                            .and_then(J::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                        e.get("operator")
                            .and_then(J::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                        strings(e.get("values")),
                    )
                })
                .collect(),
            _ => Vec::new(),
        },
    })
}

/// Parses one filter (`{resources: …, subjects: …}`); notes what cannot be
/// evaluated offline into `problems`.
pub fn parse_filter(v: &J, problems: &mut Vec<String>) -> Filter {
    let r = v.get("resources").cloned().unwrap_or(J::Null);
    let mut names = strings(r.get("names"));
    if let Some(n) = r.get("name").and_then(J::as_str) {
        names.push(n.to_owned());
    }
    let mut f = Filter {
        kinds: strings(r.get("kinds")),
        names,
        namespaces: strings(r.get("namespaces")),
        annotations: string_map(r.get("annotations")),
        selector: selector(r.get("selector")),
        operations: strings(r.get("operations")),
        unknowable: false,
    };
    for k in ["subjects", "roles", "clusterRoles"] {
        if v.get(k).is_some() {
            f.unknowable = true;
            problems.push(format!(
                "`{k}` depends on the requesting user, unknown at PR time; assumed to match in `match` and not in `exclude`"
            ));
        }
    }
    if r.get("namespaceSelector").is_some() {
        f.unknowable = true;
        problems.push(
            "`namespaceSelector` needs the Namespace's labels, unknown at PR time; assumed to match in `match` and not in `exclude`".into(),
        );
    }
    f
}

/// Parses a `match`/`exclude` block.
pub fn parse_block(v: &J, problems: &mut Vec<String>) -> Block {
    let list = |k: &str, problems: &mut Vec<String>| match v.get(k) {
        Some(J::Array(items)) => items.iter().map(|i| parse_filter(i, problems)).collect(),
        _ => Vec::new(),
    };
    let any = list("any", problems);
    let mut all = list("all", problems);
    if any.is_empty() && all.is_empty() {
        let has_legacy = ["resources", "subjects", "roles", "clusterRoles"]
            .iter()
            .any(|k| v.get(*k).is_some());
        if has_legacy {
            all.push(parse_filter(v, problems));
        }
    }
    Block { any, all }
}

/// Kyverno's `ParseKindSelector`: (group, version, kind, subresource).
fn kind_selector(s: &str) -> (&str, &str, &str, &str) {
    let parts: Vec<&str> = s.split('/').collect();
    let upper = |k: &str| k == "*" || k.chars().next().is_some_and(char::is_uppercase);
    match parts.as_slice() {
        [k] => ("*", "*", k, ""),
        [a, b] if upper(a) => ("*", "*", a, b),
        [v, k] => ("*", v, k, ""),
        [v, k, sub] if k.chars().next().is_some_and(char::is_uppercase) => ("*", v, k, sub),
        [g, v, k] => (g, v, k, ""),
        [g, v, k, sub] => (g, v, k, sub),
        _ => ("", "", "\u{0}", ""),
    }
}

fn kind_matches(sel: &str, t: &Target<'_>) -> bool {
    let (g, v, k, sub) = kind_selector(sel);
    let (og, ov, ok) = if t.as_pod {
        ("", "v1", "Pod")
    } else {
        let version = match t.obj.api_version.split_once('/') {
            Some((_, v)) => v,
            None => t.obj.api_version.as_str(),
        };
        (t.obj.group(), version, t.obj.kind.as_str())
    };
    (sub.is_empty() || sub == "*")
        && wildcard_match(g, og)
        && wildcard_match(v, ov)
        && wildcard_match(k, ok)
}

fn labels_of(obj: &Object) -> Vec<(&str, &str)> {
    obj.root
        .path(&["metadata", "labels"])
        .and_then(Node::as_map)
        .map(|m| {
            m.iter()
                .filter_map(|e| e.value.as_str().map(|v| (e.key.as_str(), v)))
                .collect()
        })
        .unwrap_or_default()
}

fn annotations_of(obj: &Object) -> Vec<(&str, &str)> {
    obj.root
        .path(&["metadata", "annotations"])
        .and_then(Node::as_map)
        .map(|m| {
            m.iter()
                .filter_map(|e| e.value.as_str().map(|v| (e.key.as_str(), v)))
                .collect()
        })
        .unwrap_or_default()
}

fn selector_matches(s: &Selector, obj: &Object) -> bool {
    let labels = labels_of(obj);
    let get = |k: &str| labels.iter().find(|(lk, _)| *lk == k).map(|(_, v)| *v);
    s.labels.iter().all(|(k, v)| {
        labels
            .iter()
            .any(|(lk, lv)| wildcard_match(k, lk) && wildcard_match(v, lv))
    }) && s.expressions.iter().all(|(k, op, vals)| match op.as_str() {
        "In" => get(k).is_some_and(|v| vals.iter().any(|x| x == v)),
        "NotIn" => get(k).is_none_or(|v| !vals.iter().any(|x| x == v)),
        "Exists" => get(k).is_some(),
        "DoesNotExist" => get(k).is_none(),
        _ => false,
    })
}

/// The object's namespace for matching: a Namespace matches by its own
/// name; `None` when the manifest does not say.
fn namespace_of(obj: &Object) -> Option<&str> {
    if obj.kind == "Namespace" {
        return Some(&obj.name);
    }
    obj.namespace.as_deref()
}

/// Does one filter match? `unknown` is the answer for facts we cannot know.
pub fn filter_matches(f: &Filter, t: &Target<'_>, unknown: bool) -> bool {
    if !f.kinds.is_empty() && !f.kinds.iter().any(|k| kind_matches(k, t)) {
        return false;
    }
    if !f.names.is_empty() && !f.names.iter().any(|n| wildcard_match(n, &t.obj.name)) {
        return false;
    }
    if !f.namespaces.is_empty() {
        match namespace_of(t.obj) {
            Some(ns) if !f.namespaces.iter().any(|n| wildcard_match(n, ns)) => return false,
            Some(_) => {}
            None if !unknown => return false,
            None => {}
        }
    }
    if !f.annotations.is_empty() {
        let ann = annotations_of(t.obj);
        let ok = f.annotations.iter().all(|(k, v)| {
            ann.iter()
                .any(|(ak, av)| wildcard_match(k, ak) && wildcard_match(v, av))
        });
        if !ok {
            return false;
        }
    }
    if let Some(s) = &f.selector
        && !selector_matches(s, t.obj)
    {
        return false;
    }
    // A manifest in Git is created or updated.
    if !f.operations.is_empty()
        && !f
            .operations
            .iter()
            .any(|o| o.eq_ignore_ascii_case("CREATE") || o.eq_ignore_ascii_case("UPDATE"))
    {
        return false;
    }
    if f.unknowable {
        return unknown;
    }
    true
}

fn is_empty_filter(f: &Filter) -> bool {
    f.kinds.is_empty()
        && f.names.is_empty()
        && f.namespaces.is_empty()
        && f.annotations.is_empty()
        && f.selector.is_none()
        && f.operations.is_empty()
        && !f.unknowable
}

/// Does the `match` block select the object?
pub fn block_matches(b: &Block, t: &Target<'_>) -> bool {
    if !b.any.is_empty() {
        return b.any.iter().any(|f| filter_matches(f, t, true));
    }
    if !b.all.is_empty() {
        return b.all.iter().all(|f| filter_matches(f, t, true));
    }
    false
}

/// Does the `exclude` block exclude the object?
pub fn block_excludes(b: &Block, t: &Target<'_>) -> bool {
    if !b.any.is_empty() {
        return b
            .any
            .iter()
            .any(|f| !is_empty_filter(f) && filter_matches(f, t, false));
    }
    if !b.all.is_empty() {
        return b
            .all
            .iter()
            .all(|f| !is_empty_filter(f) && filter_matches(f, t, false));
    }
    false
}

/// Does a filter name the Pod kind (the condition for autogen)?
pub fn selects_pod(f: &Filter) -> bool {
    f.kinds.iter().any(|k| kind_selector(k).2 == "Pod")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::manifests::object::load_objects;
    use crate::engine::yaml::Limits;
    use serde_json::json;

    fn obj(y: &str) -> Object {
        load_objects("f.yaml", y, &Limits::default())
            .objects
            .remove(0)
    }
    fn block(v: J) -> Block {
        parse_block(&v, &mut Vec::new())
    }
    fn matches(b: &Block, o: &Object) -> bool {
        block_matches(
            b,
            &Target {
                obj: o,
                as_pod: false,
            },
        )
    }

    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-1\n  namespace: prod\n  labels: {app: web}\n  annotations: {team: a}\n";
    const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n";

    #[test]
    fn kinds() {
        let p = obj(POD);
        let d = obj(DEPLOY);
        for (sel, pod, dep) in [
            ("Pod", true, false),
            ("v1/Pod", true, false),
            ("apps/v1/Deployment", false, true),
            ("apps/*/Deployment", false, true),
            ("v1/Deployment", false, true),
            ("v2/Deployment", false, false),
            ("*", true, true),
            ("Pod/status", false, false),
        ] {
            let b = block(json!({"any": [{"resources": {"kinds": [sel]}}]}));
            assert_eq!(matches(&b, &p), pod, "{sel} on Pod");
            assert_eq!(matches(&b, &d), dep, "{sel} on Deployment");
        }
        let b = block(json!({"resources": {"kinds": ["Pod"]}}));
        assert!(block_matches(
            &b,
            &Target {
                obj: &d,
                as_pod: true
            }
        ));
    }

    #[test]
    fn names_namespaces_selectors_annotations() {
        let p = obj(POD);
        let m = |v: J| matches(&block(v), &p);
        assert!(m(
            json!({"any": [{"resources": {"kinds": ["Pod"], "names": ["web-*"]}}]})
        ));
        assert!(!m(
            json!({"any": [{"resources": {"kinds": ["Pod"], "names": ["db-*"]}}]})
        ));
        assert!(m(json!({"any": [{"resources": {"namespaces": ["pr*"]}}]})));
        assert!(!m(json!({"any": [{"resources": {"namespaces": ["dev"]}}]})));
        assert!(m(
            json!({"any": [{"resources": {"selector": {"matchLabels": {"app": "web"}}}}]})
        ));
        assert!(!m(
            json!({"any": [{"resources": {"selector": {"matchLabels": {"app": "db"}}}}]})
        ));
        assert!(m(
            json!({"any": [{"resources": {"selector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]}}}]})
        ));
        assert!(m(
            json!({"any": [{"resources": {"selector": {"matchExpressions": [{"key": "x", "operator": "DoesNotExist"}]}}}]})
        ));
        assert!(m(
            json!({"any": [{"resources": {"annotations": {"team": "*"}}}]})
        ));
        assert!(!m(
            json!({"any": [{"resources": {"annotations": {"owner": "*"}}}]})
        ));
        assert!(!m(
            json!({"any": [{"resources": {"operations": ["DELETE"]}}]})
        ));
        assert!(m(
            json!({"all": [{"resources": {"kinds": ["Pod"]}}, {"resources": {"names": ["web-1"]}}]})
        ));
        assert!(!m(
            json!({"all": [{"resources": {"kinds": ["Pod"]}}, {"resources": {"names": ["x"]}}]})
        ));
    }

    #[test]
    fn unknown_facts_fail_closed() {
        let nons = obj("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n");
        let b = block(json!({"any": [{"resources": {"namespaces": ["prod"]}}]}));
        assert!(block_matches(
            &b,
            &Target {
                obj: &nons,
                as_pod: false
            }
        ));
        assert!(!block_excludes(
            &b,
            &Target {
                obj: &nons,
                as_pod: false
            }
        ));
        let mut problems = Vec::new();
        let b = parse_block(
            &json!({"any": [{"resources": {"kinds": ["Pod"]}, "subjects": [{"kind": "User", "name": "x"}]}]}),
            &mut problems,
        );
        assert_eq!(problems.len(), 1);
        assert!(block_matches(
            &b,
            &Target {
                obj: &nons,
                as_pod: false
            }
        ));
        assert!(!block_excludes(
            &b,
            &Target {
                obj: &nons,
                as_pod: false
            }
        ));
    }
}
