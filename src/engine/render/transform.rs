//! The builtin transformers kustomize runs for a kustomization's own
//! fields, each as its plugin in `api/internal/builtins` does it:
//! namespace, name prefix/suffix, labels, annotations, replicas, images,
//! and — once, at the top — name references and the output order.
//! Every value a transformer writes takes the span of the kustomization
//! entry that asked for it.

use std::collections::BTreeMap;

use crate::engine::yaml::{Node, Span, Value};

use super::fieldspec::{self, Create, FieldSpec};
use super::resource::{Gvk, ResId, Resource, get_mut, or_placeholder, set_field, str_node};

/// A string with the span of the kustomization entry it came from.
pub type Spanned = (String, Span);

/// `namespace:` (kustomize's NamespaceTransformer, `setRoleBindingSubjects:
/// defaultOnly`).
pub fn namespace(res: &mut [Resource], ns: &Spanned) -> Result<(), String> {
    let (ns, span) = (ns.0.as_str(), ns.1);
    let mut set = |n: &mut Node| -> Result<(), String> {
        if !matches!(
            n.value,
            Value::Null
                | Value::Str(_)
                | Value::Int(_)
                | Value::Bool(_)
                | Value::Float(_)
                | Value::UInt(_)
        ) {
            return Err("namespace field specs must target scalar nodes".into());
        }
        n.value = Value::Str(ns.to_owned());
        n.span = span;
        Ok(())
    };
    for r in res.iter_mut() {
        r.store_previous_id();
        let gvk = r.gvk();
        if !gvk.is_cluster_scoped() {
            let meta = super::resource::ensure_map(&mut r.node, "metadata", span);
            set_field(meta, "namespace", str_node(ns, span), span);
        }
        if (gvk.kind == "RoleBinding" || gvk.kind == "ClusterRoleBinding")
            && let Some(Value::Seq(subjects)) =
                get_mut(&mut r.node, "subjects").map(|s| &mut s.value)
        {
            for s in subjects.iter_mut() {
                if s.get("name").and_then(Node::as_str) == Some("default") {
                    set_field(s, "namespace", str_node(ns, span), span);
                }
            }
        }
        let api_version = gvk.api_version();
        for spec in fieldspec::NAMESPACE {
            if spec.path == "metadata/name" && api_version != "v1" {
                continue;
            }
            fieldspec::apply(&mut r.node, &gvk, spec, Create::Scalar, span, &mut set)?;
        }
    }
    // "namespace transformation produces ID conflict"
    for (i, a) in res.iter().enumerate() {
        let id = a.cur_id();
        if res[i + 1..].iter().any(|b| b.cur_id().equals(&id)) {
            return Err(format!(
                "namespace transformation produces ID conflict: {id}"
            ));
        }
    }
    Ok(())
}

/// Kinds kustomize never renames (`prefixFieldSpecsToSkip`).
fn skip_rename(id: &ResId) -> bool {
    id.gvk.kind == "CustomResourceDefinition"
        || (id.gvk.group == "apiregistration.k8s.io" && id.gvk.kind == "APIService")
        || id.gvk.kind == "Namespace"
}

/// `namePrefix:` / `nameSuffix:`.
pub fn rename(res: &mut [Resource], affix: &Spanned, prefix: bool) {
    let (affix, span) = (affix.0.as_str(), affix.1);
    for r in res.iter_mut() {
        let org = r.org_id();
        if skip_rename(&org) {
            continue;
        }
        if prefix {
            r.prefixes.push(affix.to_owned());
        } else {
            r.suffixes.push(affix.to_owned());
        }
        r.store_previous_id();
        let name = r.name().to_owned();
        let new = if prefix {
            format!("{affix}{name}")
        } else {
            format!("{name}{affix}")
        };
        if let Some(meta) = get_mut(&mut r.node, "metadata") {
            set_field(meta, "name", str_node(&new, span), span);
        }
    }
}

/// Labels or annotations: each `(key, value)` (kustomize sorts the keys)
/// at every field spec.
pub fn set_entries(
    res: &mut [Resource],
    pairs: &BTreeMap<String, Spanned>,
    specs: &[FieldSpec],
) -> Result<(), String> {
    for r in res.iter_mut() {
        let gvk = r.gvk();
        for (k, (v, span)) in pairs {
            let span = *span;
            let mut set = |n: &mut Node| -> Result<(), String> {
                match n.value {
                    Value::Map(_) | Value::Null => {
                        set_field(n, k, str_node(v, span), span);
                        Ok(())
                    }
                    _ => Err(format!("expected a mapping to set {k} in")),
                }
            };
            for spec in specs {
                fieldspec::apply(&mut r.node, &gvk, spec, Create::Map, span, &mut set)?;
            }
        }
    }
    Ok(())
}

/// One `replicas:` entry.
#[derive(Clone, Debug)]
pub struct Replica {
    /// Resource name (original or current).
    pub name: String,
    /// The count.
    pub count: i64,
    /// Where the entry is.
    pub span: Span,
}

/// `replicas:` (ReplicaCountTransformer).
pub fn replicas(res: &mut [Resource], rep: &Replica) -> Result<(), String> {
    let mut found = false;
    for r in res.iter_mut() {
        if !r.any_id(|id| id.name == rep.name) {
            continue;
        }
        let gvk = r.gvk();
        for spec in fieldspec::REPLICAS {
            if !spec.matches(&gvk) {
                continue;
            }
            found = true;
            let mut set = |n: &mut Node| -> Result<(), String> {
                n.value = Value::Int(rep.count);
                n.span = rep.span;
                Ok(())
            };
            fieldspec::apply(&mut r.node, &gvk, spec, Create::Scalar, rep.span, &mut set)?;
        }
    }
    if !found {
        return Err(format!(
            "resource with name {} does not match a config with the following GVK [Deployment ReplicationController ReplicaSet StatefulSet]",
            rep.name
        ));
    }
    Ok(())
}

/// One `images:` entry.
#[derive(Clone, Debug, Default)]
pub struct Image {
    /// Image name to match (a regular expression fragment, as in kustomize).
    pub name: String,
    /// Replacement name.
    pub new_name: String,
    /// Replacement tag.
    pub new_tag: String,
    /// Replacement digest.
    pub digest: String,
    /// Suffix appended to the tag.
    pub tag_suffix: String,
    /// Where the entry is.
    pub span: Span,
}

/// kustomize's `image.Split`: name, tag, digest.
pub fn split_image(image: &str) -> (String, String, String) {
    let slash = image.find('/').filter(|&i| i > 0).unwrap_or(0);
    let search = &image[slash..];
    let id = search.find('@');
    let ic = search.find(':');
    match (ic, id) {
        (None, None) => (image.to_owned(), String::new(), String::new()),
        (None, Some(id)) => {
            let id = id + slash;
            (
                image[..id].to_owned(),
                String::new(),
                image[id + 1..].to_owned(),
            )
        }
        (Some(ic), Some(id)) if id < ic => {
            let id = id + slash;
            (
                image[..id].to_owned(),
                String::new(),
                image[id + 1..].to_owned(),
            )
        }
        (Some(ic), Some(id)) => {
            let (ic, id) = (ic + slash, id + slash);
            (
                image[..ic].to_owned(),
                image[ic + 1..id].to_owned(),
                image[id + 1..].to_owned(),
            )
        }
        (Some(ic), None) => {
            let ic = ic + slash;
            (
                image[..ic].to_owned(),
                image[ic + 1..].to_owned(),
                String::new(),
            )
        }
    }
}

impl Image {
    /// kustomize's `IsImageMatched` regular expression.
    fn matcher(&self) -> Option<regex::Regex> {
        regex::Regex::new(&format!(
            "^{}(:[a-zA-Z0-9_.{{}}-]*)?(@[a-zA-Z0-9]+([.+_-][a-zA-Z0-9]+)*:[a-zA-Z0-9_.{{}}-]*)?$",
            self.name
        ))
        .ok()
    }

    fn update(&self, re: &regex::Regex, n: &mut Node) {
        let Some(value) = n.as_str() else { return };
        if !re.is_match(value) {
            return;
        }
        let (mut name, mut tag, mut digest) = split_image(value);
        if !self.new_name.is_empty() {
            name = self.new_name.clone();
        }
        if !self.new_tag.is_empty() && !self.digest.is_empty() {
            tag = self.new_tag.clone();
            digest = self.digest.clone();
        } else if !self.new_tag.is_empty() {
            tag = self.new_tag.clone();
            digest.clear();
        } else if !self.digest.is_empty() {
            tag.clear();
            digest = self.digest.clone();
        } else if !self.tag_suffix.is_empty() {
            tag.push_str(&self.tag_suffix);
            digest.clear();
        }
        if !tag.is_empty() {
            name = format!("{name}:{tag}");
        }
        if !digest.is_empty() {
            name = format!("{name}@{digest}");
        }
        n.value = Value::Str(name);
        n.span = self.span;
    }
}

/// `images:` (ImageTagTransformer: the legacy walk over every
/// `containers`/`initContainers` list, then the image field specs).
pub fn images(res: &mut [Resource], img: &Image) -> Result<(), String> {
    let Some(re) = img.matcher() else {
        return Ok(()); // kustomize: a bad pattern matches nothing
    };
    for r in res.iter_mut() {
        let gvk = r.gvk();
        if gvk.kind == "CustomResourceDefinition" {
            continue;
        }
        legacy_images(&mut r.node, img, &re);
        for spec in fieldspec::IMAGES {
            let mut set = |n: &mut Node| -> Result<(), String> {
                img.update(&re, n);
                Ok(())
            };
            fieldspec::apply(&mut r.node, &gvk, spec, Create::Never, img.span, &mut set)?;
        }
    }
    Ok(())
}

fn legacy_images(n: &mut Node, img: &Image, re: &regex::Regex) {
    match &mut n.value {
        Value::Map(entries) => {
            for e in entries.iter_mut() {
                legacy_images(&mut e.value, img, re);
                if (e.key == "containers" || e.key == "initContainers")
                    && let Value::Seq(items) = &mut e.value.value
                {
                    for item in items.iter_mut() {
                        if let Some(image) = get_mut(item, "image") {
                            img.update(re, image);
                        }
                    }
                }
            }
        }
        Value::Seq(items) => items.iter_mut().for_each(|i| legacy_images(i, img, re)),
        _ => {}
    }
}

/// utils.SameEndingSubSlice.
fn same_ending(a: &[String], b: &[String]) -> bool {
    let (short, long) = if a.len() > b.len() { (b, a) } else { (a, b) };
    let diff = long.len() - short.len();
    if short.is_empty() {
        return diff == 0;
    }
    short.iter().enumerate().all(|(i, s)| &long[i + diff] == s)
}

fn prefix_suffix_equals(r: &Resource, o: &Resource, allow_empty: bool) -> bool {
    if allow_empty {
        let pe = r.prefixes.is_empty() || o.prefixes.is_empty();
        let se = r.suffixes.is_empty() || o.suffixes.is_empty();
        (pe || same_ending(&r.prefixes, &o.prefixes))
            && (se || same_ending(&r.suffixes, &o.suffixes))
    } else {
        same_ending(&r.prefixes, &o.prefixes) && same_ending(&r.suffixes, &o.suffixes)
    }
}

/// Name references (kustomize's nameReferenceTransformer and
/// `filters/nameref`): a field that names a resource by an earlier name
/// is updated to that resource's current name.
pub fn fix_name_references(res: &mut [Resource]) -> Result<(), String> {
    // Decide every update from a snapshot, then write: kustomize reads the
    // referral's current names, which these updates do not change.
    let snapshot: Vec<Resource> = res.to_vec();
    for (ri, referrer) in snapshot.iter().enumerate() {
        let org = referrer.org_id();
        let cur = referrer.cur_id();
        let rb_namespaces: Vec<String> = if cur.gvk.kind == "RoleBinding" {
            referrer
                .node
                .get("subjects")
                .and_then(Node::as_seq)
                .unwrap_or(&[])
                .iter()
                .filter(|s| s.get("kind").and_then(Node::as_str) == Some("ServiceAccount"))
                .filter_map(|s| s.get("namespace").and_then(Node::as_str).map(str::to_owned))
                .collect()
        } else {
            Vec::new()
        };
        // SubsetThatCouldBeReferencedByResource
        let candidates: Vec<usize> = (0..snapshot.len())
            .filter(|&i| {
                if cur.gvk.is_cluster_scoped() {
                    return true;
                }
                let id = snapshot[i].cur_id();
                id.gvk.is_cluster_scoped()
                    || id.is_ns_equals(&cur)
                    || rb_namespaces.contains(&id.namespace)
            })
            .collect();
        for (g, v, k, specs) in fieldspec::NAME_REFERENCE {
            let target = Gvk {
                group: (*g).to_owned(),
                version: (*v).to_owned(),
                kind: (*k).to_owned(),
            };
            for spec in specs.iter() {
                if !org.gvk.is_selected(&spec.gvk()) {
                    continue;
                }
                let gvk = referrer.gvk();
                // kustomize sets the spec's type to the referrer's before
                // walking it: only the path matters from here on.
                let path_only = FieldSpec {
                    group: "".into(),
                    version: "".into(),
                    kind: "".into(),
                    path: spec.path.clone(),
                    create: false,
                };
                let mut set = |n: &mut Node| -> Result<(), String> {
                    set_reference(n, referrer, &snapshot, &candidates, &target, spec)
                };
                fieldspec::apply(
                    &mut res[ri].node,
                    &gvk,
                    &path_only,
                    Create::Never,
                    Span::default(),
                    &mut set,
                )
                .map_err(|e| {
                    format!(
                        "updating name reference in '{}' field of '{}': {e}",
                        spec.path, cur
                    )
                })?;
            }
        }
    }
    Ok(())
}

fn select_referral<'a>(
    old: &str,
    referrer: &Resource,
    snapshot: &'a [Resource],
    candidates: &[usize],
    target: &Gvk,
    spec: &FieldSpec,
    same_ns_too: bool,
) -> Result<Option<&'a Resource>, String> {
    let role_ref: Option<Gvk> = if spec.path.ends_with("roleRef/name") {
        let rr = referrer.node.get("roleRef");
        match (
            rr.and_then(|r| r.get("apiGroup")).and_then(Node::as_str),
            rr.and_then(|r| r.get("kind")).and_then(Node::as_str),
        ) {
            (Some(g), Some(k)) => Some(Gvk {
                group: g.to_owned(),
                version: String::new(),
                kind: k.to_owned(),
            }),
            _ => None,
        }
    } else {
        None
    };
    let rcur = referrer.cur_id();
    let mut c: Vec<&Resource> = candidates
        .iter()
        .map(|&i| &snapshot[i])
        .filter(|r| r.prev_ids.iter().any(|id| id.name == old))
        .filter(|r| r.prev_ids.iter().any(|id| id.gvk.is_selected(target)))
        .filter(|r| match &role_ref {
            Some(g) => r.prev_ids.iter().any(|id| id.gvk.is_selected(g)),
            None => true,
        })
        .filter(|r| {
            rcur.gvk.is_cluster_scoped() || {
                let id = r.cur_id();
                id.gvk.is_cluster_scoped()
                    || id.gvk.kind == "ServiceAccount"
                    || rcur.is_ns_equals(&id)
            }
        })
        .collect();
    if c.len() == 1 {
        return Ok(Some(c[0]));
    }
    c.retain(|r| prefix_suffix_equals(r, referrer, true));
    if c.len() > 1 {
        c.retain(|r| prefix_suffix_equals(r, referrer, false));
    }
    match c.len() {
        0 => Ok(None),
        1 => Ok(Some(c[0])),
        _ => {
            let first = c[0];
            let same = c.iter().all(|r| {
                r.name() == first.name() && (!same_ns_too || r.namespace() == first.namespace())
            });
            if same {
                Ok(Some(first))
            } else {
                let ids: Vec<String> = c.iter().map(|r| r.cur_id().to_string()).collect();
                Err(format!(
                    "found multiple possible referrals: {}",
                    ids.join(", ")
                ))
            }
        }
    }
}

fn set_reference(
    n: &mut Node,
    referrer: &Resource,
    snapshot: &[Resource],
    candidates: &[usize],
    target: &Gvk,
    spec: &FieldSpec,
) -> Result<(), String> {
    match &mut n.value {
        Value::Null => Ok(()),
        Value::Str(_) => set_scalar(n, referrer, snapshot, candidates, target, spec),
        Value::Map(_) => set_mapping(n, referrer, snapshot, candidates, target, spec),
        Value::Seq(items) => {
            for item in items.iter_mut() {
                match item.value {
                    Value::Str(_) => {
                        set_scalar(item, referrer, snapshot, candidates, target, spec)?
                    }
                    Value::Map(_) => {
                        set_mapping(item, referrer, snapshot, candidates, target, spec)?
                    }
                    _ => {}
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn set_scalar(
    n: &mut Node,
    referrer: &Resource,
    snapshot: &[Resource],
    candidates: &[usize],
    target: &Gvk,
    spec: &FieldSpec,
) -> Result<(), String> {
    let Some(old) = n.as_str().map(str::to_owned) else {
        return Ok(());
    };
    if let Some(r) = select_referral(&old, referrer, snapshot, candidates, target, spec, false)?
        && r.name() != old
    {
        n.value = Value::Str(r.name().to_owned());
    }
    Ok(())
}

fn set_mapping(
    n: &mut Node,
    referrer: &Resource,
    snapshot: &[Resource],
    candidates: &[usize],
    target: &Gvk,
    spec: &FieldSpec,
) -> Result<(), String> {
    let Some(old) = n.get("name").and_then(Node::as_str).map(str::to_owned) else {
        return Err("path config error; no 'name' field in node".into());
    };
    let cands: Vec<usize> = match n.get("namespace").and_then(Node::as_str) {
        None => candidates.to_vec(),
        Some(ns) => {
            let by_org: Vec<usize> = candidates
                .iter()
                .copied()
                .filter(|&i| snapshot[i].org_id().namespace == ns)
                .collect();
            if by_org.is_empty() {
                candidates
                    .iter()
                    .copied()
                    .filter(|&i| snapshot[i].namespace() == ns)
                    .collect()
            } else {
                by_org
            }
        }
    };
    let Some(r) = select_referral(&old, referrer, snapshot, &cands, target, spec, true)? else {
        return Ok(());
    };
    if r.name() == old && r.namespace().is_empty() {
        return Ok(());
    }
    let span = n.get("name").map(|v| v.span).unwrap_or_default();
    set_field(n, "name", str_node(r.name(), span), span);
    if !r.namespace().is_empty() {
        let span = n.get("namespace").map(|v| v.span).unwrap_or(span);
        set_field(n, "namespace", str_node(r.namespace(), span), span);
    }
    Ok(())
}

/// kustomize's default (legacy) order: kinds in `orderFirst`, then the
/// rest, then `orderLast`; ties by group/version/kind, then namespace and
/// name.
pub fn legacy_sort(res: &mut [Resource], first: &[String], last: &[String]) {
    let order = |kind: &str| -> i64 {
        if let Some(i) = first.iter().position(|k| k == kind) {
            return i as i64 - first.len() as i64;
        }
        if let Some(i) = last.iter().position(|k| k == kind) {
            return 1 + i as i64;
        }
        0
    };
    let gvk_string = |g: &Gvk| {
        format!(
            "{}_{}_{}",
            or_placeholder(&g.group, "~G"),
            or_placeholder(&g.version, "~V"),
            or_placeholder(&g.kind, "~K")
        )
    };
    let id_string = |id: &ResId| {
        format!(
            "{}|{}|{}",
            id.gvk.id_string(),
            or_placeholder(&id.namespace, "~X"),
            or_placeholder(&id.name, "~N")
        )
    };
    res.sort_by(|a, b| {
        let (ia, ib) = (a.cur_id(), b.cur_id());
        if ia.gvk != ib.gvk {
            let (oa, ob) = (order(&ia.gvk.kind), order(&ib.gvk.kind));
            if oa != ob {
                return oa.cmp(&ob);
            }
            if ia.gvk.kind == "Namespace"
                && ib.gvk.kind == "Namespace"
                && (ia.gvk.group.is_empty() || ib.gvk.group.is_empty())
            {
                return gvk_string(&ib.gvk).cmp(&gvk_string(&ia.gvk));
            }
            return gvk_string(&ia.gvk).cmp(&gvk_string(&ib.gvk));
        }
        id_string(&ia).cmp(&id_string(&ib))
    });
}

/// kustomize's default `orderFirst`.
pub const DEFAULT_ORDER_FIRST: &[&str] = &[
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];

/// kustomize's default `orderLast`.
pub const DEFAULT_ORDER_LAST: &[&str] = &[
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];
