//! Patches: strategic merge (as kustomize applies it, with kyaml's
//! `merge2` walker and the Kubernetes patch strategies of built-in
//! types), RFC 6902 JSON patches, and patch targets (selectors).
//!
//! kustomize's strategic merge is not apimachinery's: kyaml walks the
//! patch and the object together, looking list strategies up in the
//! built-in OpenAPI schema (Kubernetes 1.21.2) of the object's
//! `apiVersion`/`kind`. Lists the schema marks `merge` are merged by their
//! merge keys, patch elements first (kyaml prepends); every other list —
//! including all lists of kinds without a built-in schema (CRDs) — is
//! replaced; mappings merge; `null` deletes; `$patch: delete|replace|merge`
//! on a mapping or as a list element works as in kyaml. kyaml does not
//! implement `$setElementOrder`, `$retainKeys` or `$deleteFromPrimitiveList`
//! and neither do we: such keys stay in the output as ordinary fields, as
//! they do in kustomize's output.

use crate::engine::yaml::{Node, Value};

use super::resource::{Gvk, Resource, scalar_text, set_field};

/// Where in a built-in type the walk is; only what decides list strategies
/// is modelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    /// No schema: lists are replaced.
    None,
    /// A built-in kind's top level.
    Root(Root),
    /// `metadata` of a built-in kind.
    ObjectMeta,
    /// A workload's `spec` (has `template`).
    WorkloadSpec,
    /// CronJob `spec` (has `jobTemplate`).
    CronJobSpec,
    /// CronJob `spec.jobTemplate`.
    JobTemplate,
    /// A pod template.
    PodTemplateSpec,
    /// A pod spec.
    PodSpec,
    /// A container.
    Container,
    /// Service `spec`.
    ServiceSpec,
    /// Somewhere else inside a built-in type (lists there are atomic).
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Root {
    Workload,
    CronJob,
    Pod,
    PodTemplate,
    Service,
    Other,
}

/// API groups of the built-in schema kustomize embeds.
const BUILTIN_GROUPS: &[&str] = &[
    "",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "apps",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "networking.k8s.io",
    "node.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "scheduling.k8s.io",
    "storage.k8s.io",
];

fn root_ty(gvk: &Gvk) -> Ty {
    if !BUILTIN_GROUPS.contains(&gvk.group.as_str()) {
        return Ty::None;
    }
    let av = gvk.api_version();
    let r = match (av.as_str(), gvk.kind.as_str()) {
        ("apps/v1" | "apps/v1beta2", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("batch/v1", "Job")
        | ("v1", "ReplicationController") => Root::Workload,
        ("batch/v1" | "batch/v1beta1", "CronJob") => Root::CronJob,
        ("v1", "Pod") => Root::Pod,
        ("v1", "PodTemplate") => Root::PodTemplate,
        ("v1", "Service") => Root::Service,
        _ => Root::Other,
    };
    Ty::Root(r)
}

fn field_ty(parent: Ty, key: &str) -> Ty {
    match (parent, key) {
        (Ty::None, _) => Ty::None,
        (Ty::Root(_), "metadata") | (Ty::PodTemplateSpec | Ty::JobTemplate, "metadata") => {
            Ty::ObjectMeta
        }
        (Ty::Root(Root::Workload), "spec") => Ty::WorkloadSpec,
        (Ty::Root(Root::CronJob), "spec") => Ty::CronJobSpec,
        (Ty::Root(Root::Pod), "spec") => Ty::PodSpec,
        (Ty::Root(Root::PodTemplate), "template") => Ty::PodTemplateSpec,
        (Ty::Root(Root::Service), "spec") => Ty::ServiceSpec,
        (Ty::CronJobSpec, "jobTemplate") => Ty::JobTemplate,
        (Ty::JobTemplate, "spec") => Ty::WorkloadSpec,
        (Ty::WorkloadSpec, "template") => Ty::PodTemplateSpec,
        (Ty::PodTemplateSpec, "spec") => Ty::PodSpec,
        _ => Ty::Other,
    }
}

/// The merge keys of a list field (`Some(vec![])` merges a list of
/// scalars), or `None` for a list that is replaced.
fn list_keys(parent: Ty, key: &str) -> Option<(&'static [&'static str], Ty)> {
    match (parent, key) {
        (Ty::ObjectMeta, "finalizers") => Some((&[], Ty::Other)),
        (Ty::ObjectMeta, "ownerReferences") => Some((&["uid"], Ty::Other)),
        (Ty::PodSpec, "containers" | "initContainers" | "ephemeralContainers") => {
            Some((&["name"], Ty::Container))
        }
        (Ty::PodSpec, "volumes" | "imagePullSecrets") => Some((&["name"], Ty::Other)),
        (Ty::PodSpec, "hostAliases") => Some((&["ip"], Ty::Other)),
        (Ty::PodSpec, "topologySpreadConstraints") => {
            Some((&["topologyKey", "whenUnsatisfiable"], Ty::Other))
        }
        (Ty::Container, "env") => Some((&["name"], Ty::Other)),
        (Ty::Container, "ports") => Some((&["containerPort", "protocol"], Ty::Other)),
        (Ty::Container, "volumeMounts") => Some((&["mountPath"], Ty::Other)),
        (Ty::Container, "volumeDevices") => Some((&["devicePath"], Ty::Other)),
        (Ty::ServiceSpec, "ports") => Some((&["port", "protocol"], Ty::Other)),
        _ => None,
    }
}

enum Directive {
    Merge,
    Replace,
    Delete,
}

fn map_directive(patch: &mut Node) -> Result<Directive, String> {
    let Some(v) = patch.get("$patch") else {
        return Ok(Directive::Merge);
    };
    let d = match v.as_str() {
        Some("delete") => Directive::Delete,
        Some("replace") => Directive::Replace,
        Some("merge") => Directive::Merge,
        other => return Err(format!("unknown patch strategy '{}'", other.unwrap_or(""))),
    };
    super::resource::remove_field(patch, "$patch");
    Ok(d)
}

fn list_directive(patch: &mut Node) -> Result<Directive, String> {
    let Value::Seq(items) = &mut patch.value else {
        return Ok(Directive::Merge);
    };
    let Some(i) = items.iter().position(|e| e.get("$patch").is_some()) else {
        return Ok(Directive::Merge);
    };
    if items[i].as_map().map(<[_]>::len).unwrap_or(0) > 1 {
        return Ok(Directive::Merge);
    }
    let d = match items[i].get("$patch").and_then(Node::as_str) {
        Some("delete") => Directive::Delete,
        Some("replace") => Directive::Replace,
        Some("merge") => Directive::Merge,
        other => return Err(format!("unknown patch strategy '{}'", other.unwrap_or(""))),
    };
    items.remove(i);
    Ok(d)
}

/// Applies a strategic-merge `patch` to `dest`; `Ok(None)` when the patch
/// deletes the object.
pub fn strategic_merge(dest: Node, patch: &Node) -> Result<Option<Node>, String> {
    let gvk = Gvk::new(
        dest.get("apiVersion").and_then(Node::as_str).unwrap_or(""),
        dest.get("kind").and_then(Node::as_str).unwrap_or(""),
    );
    walk(Some(dest), Some(patch.clone()), root_ty(&gvk), None)
}

fn kind_of(n: &Node) -> u8 {
    match n.value {
        Value::Null => 0,
        Value::Seq(_) => 2,
        Value::Map(_) => 3,
        _ => 1,
    }
}

/// kyaml's `Walker.Walk` over `[dest, patch]`. `list` carries the list
/// strategy when the value is a list field.
fn walk(
    dest: Option<Node>,
    patch: Option<Node>,
    ty: Ty,
    list: Option<(&'static [&'static str], Ty)>,
) -> Result<Option<Node>, String> {
    let dk = dest.as_ref().map(kind_of).unwrap_or(0);
    let pk = patch.as_ref().map(kind_of).unwrap_or(0);
    if dk != 0 && pk != 0 && dk != pk {
        return Err("wrong node kind: the patch and the object disagree on a field's type".into());
    }
    let kind = if dk != 0 { dk } else { pk };
    match kind {
        2 => walk_list(dest, patch, list),
        1 => Ok(match patch {
            Some(p) if p.is_null() => None,
            Some(p) => Some(p),
            None => dest,
        }),
        3 => walk_map(dest, patch, ty),
        _ => Ok(match patch {
            // a null in the patch deletes; a null in the object stays
            Some(_) => None,
            None => dest,
        }),
    }
}

fn walk_map(dest: Option<Node>, patch: Option<Node>, ty: Ty) -> Result<Option<Node>, String> {
    let mut patch = match patch {
        None => return Ok(dest),
        Some(p) if p.is_null() => return Ok(None),
        Some(p) => p,
    };
    let dest = match dest {
        Some(d) if !d.is_null() => d,
        _ => {
            if let Directive::Delete = map_directive(&mut patch)? {
                return Ok(None);
            }
            Node::new(Value::Map(Vec::new()), patch.span)
        }
    };
    let mut dest = dest;
    match map_directive(&mut patch)? {
        Directive::Delete => return Ok(None),
        Directive::Replace => return Ok(Some(patch)),
        Directive::Merge => {}
    }
    let mut keys: Vec<String> = patch
        .as_map()
        .unwrap_or(&[])
        .iter()
        .map(|e| e.key.clone())
        .collect();
    keys.sort();
    keys.dedup();
    let Value::Map(pentries) = std::mem::replace(&mut patch.value, Value::Null) else {
        return Ok(Some(dest));
    };
    let mut pentries: Vec<_> = pentries.into_iter().map(Some).collect();
    for key in keys {
        let Some(pi) = pentries
            .iter()
            .position(|e| e.as_ref().is_some_and(|e| e.key == key))
        else {
            continue;
        };
        let pe = pentries[pi].take().expect("present");
        let key_span = pe.key_span;
        let d = match &mut dest.value {
            Value::Map(entries) => entries.iter().position(|e| e.key == key).map(|i| {
                std::mem::replace(&mut entries[i].value, Node::new(Value::Null, key_span))
            }),
            _ => None,
        };
        let existed = d.is_some();
        let lk = list_keys(ty, &key);
        let merged = walk(d, Some(pe.value.clone()), field_ty(ty, &key), lk)?;
        match merged {
            Some(v) => {
                if existed {
                    // keep the object's key position: the key was there
                    if let Value::Map(entries) = &mut dest.value
                        && let Some(e) = entries.iter_mut().find(|e| e.key == key)
                    {
                        e.value = v;
                    }
                } else {
                    set_field(&mut dest, &key, v, key_span);
                }
            }
            None => {
                super::resource::remove_field(&mut dest, &key);
            }
        }
    }
    Ok(Some(dest))
}

fn key_values(elem: &Node, keys: &[&str]) -> Vec<String> {
    keys.iter()
        .map(|k| {
            elem.get(k)
                .filter(|v| !v.is_null())
                .and_then(scalar_text)
                .unwrap_or_default()
        })
        .collect()
}

fn walk_list(
    dest: Option<Node>,
    patch: Option<Node>,
    list: Option<(&'static [&'static str], Ty)>,
) -> Result<Option<Node>, String> {
    let Some((keys, elem_ty)) = list else {
        return Ok(match patch {
            Some(p) if p.is_null() => None,
            Some(p) => Some(p),
            None => dest,
        });
    };
    let mut patch = match patch {
        None => return Ok(dest),
        Some(p) if p.is_null() => return Ok(None),
        Some(p) => p,
    };
    match list_directive(&mut patch)? {
        Directive::Delete => return Ok(None),
        Directive::Replace => return Ok(Some(patch)),
        Directive::Merge => {}
    }
    let span = patch.span;
    let dest = dest.filter(|d| !d.is_null());
    let dest_span = dest.as_ref().map(|d| d.span).unwrap_or(span);
    let mut ditems: Vec<Option<Node>> =
        match dest.map(|mut d| std::mem::replace(&mut d.value, Value::Null)) {
            Some(Value::Seq(mut items)) => items.drain(..).map(Some).collect(),
            _ => Vec::new(),
        };
    let Value::Seq(pitems) = std::mem::replace(&mut patch.value, Value::Null) else {
        return Ok(None);
    };
    let mut out = Vec::new();
    if keys.is_empty() {
        // a merged list of scalars: patch items, then the object's others
        let mut seen = std::collections::HashSet::new();
        for it in pitems.into_iter().chain(ditems.into_iter().flatten()) {
            let t = scalar_text(&it).unwrap_or_default();
            if seen.insert(t) {
                out.push(it);
            }
        }
        return Ok(Some(Node::new(Value::Seq(out), dest_span)));
    }
    // keys that have a value in some element (kyaml's validateKeys)
    let all: Vec<Vec<String>> = pitems
        .iter()
        .chain(ditems.iter().flatten())
        .map(|e| key_values(e, keys))
        .collect();
    let valid: Vec<usize> = (0..keys.len())
        .filter(|&i| all.iter().any(|v| !v[i].is_empty()))
        .collect();
    let valid = if valid.is_empty() { vec![0] } else { valid };
    let ident = |e: &Node| -> Vec<String> {
        let v = key_values(e, keys);
        valid.iter().map(|&i| v[i].clone()).collect()
    };
    let mut seen: Vec<Vec<String>> = Vec::new();
    let mut pitems: Vec<Option<Node>> = pitems.into_iter().map(Some).collect();
    let order: Vec<Vec<String>> = pitems
        .iter()
        .flatten()
        .chain(ditems.iter().flatten())
        .map(&ident)
        .collect();
    for id in order {
        if seen.contains(&id) {
            continue;
        }
        seen.push(id.clone());
        let p = pitems
            .iter()
            .position(|e| e.as_ref().is_some_and(|e| ident(e) == id))
            .and_then(|i| pitems[i].take());
        let d = ditems
            .iter()
            .position(|e| e.as_ref().is_some_and(|e| ident(e) == id))
            .and_then(|i| ditems[i].take());
        let merged = match (d, p) {
            (d, Some(p)) => walk(d, Some(p), elem_ty, None)?,
            (d, None) => d,
        };
        if let Some(m) = merged
            && !(matches!(&m.value, Value::Map(e) if e.is_empty()) || m.is_null())
        {
            out.push(m);
        }
    }
    Ok(Some(Node::new(Value::Seq(out), dest_span)))
}

/// One RFC 6902 operation.
struct Op {
    op: String,
    path: String,
    from: Option<String>,
    value: Option<Node>,
    line: u32,
}

/// Reads a JSON patch (a list of operations, JSON or YAML).
fn read_ops(ops: &Node) -> Result<Vec<Op>, String> {
    let items = ops
        .as_seq()
        .ok_or("a JSON patch must be a list of operations")?;
    let mut out = Vec::new();
    for it in items {
        let s = |k: &str| it.get(k).and_then(Node::as_str).map(str::to_owned);
        let op = s("op").ok_or_else(|| format!("line {}: operation has no `op`", it.span.line))?;
        let path =
            s("path").ok_or_else(|| format!("line {}: operation has no `path`", it.span.line))?;
        out.push(Op {
            op,
            path,
            from: s("from"),
            value: it.get("value").cloned(),
            line: it.span.line,
        });
    }
    Ok(out)
}

/// True when the text reads as a JSON patch (a list whose items have `op`).
pub fn is_json_patch(docs: &[Node]) -> bool {
    docs.len() == 1 && docs[0].as_seq().is_some()
}

fn pointer(path: &str) -> Result<Vec<String>, String> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let rest = path
        .strip_prefix('/')
        .ok_or_else(|| format!("JSON pointer `{path}` must start with /"))?;
    Ok(rest
        .split('/')
        .map(|p| p.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn index(tok: &str, len: usize, allow_end: bool) -> Result<usize, String> {
    if allow_end && tok == "-" {
        return Ok(len);
    }
    let i: usize = tok
        .parse()
        .map_err(|_| format!("index `{tok}` is not a number"))?;
    if i > len || (!allow_end && i == len) {
        return Err(format!("index {i} is out of range (length {len})"));
    }
    Ok(i)
}

fn parent<'a>(doc: &'a mut Node, toks: &[String]) -> Result<&'a mut Node, String> {
    let mut cur = doc;
    for t in toks {
        cur = match &mut cur.value {
            Value::Map(entries) => entries
                .iter_mut()
                .find(|e| &e.key == t)
                .map(|e| &mut e.value)
                .ok_or_else(|| format!("doc is missing path: {t}"))?,
            Value::Seq(items) => {
                let len = items.len();
                let i = index(t, len, false)?;
                &mut items[i]
            }
            _ => return Err(format!("doc is missing path: {t}")),
        };
    }
    Ok(cur)
}

fn get(doc: &Node, toks: &[String]) -> Result<Node, String> {
    let mut cur = doc;
    for t in toks {
        cur = match &cur.value {
            Value::Map(_) => cur
                .get(t)
                .ok_or_else(|| format!("doc is missing key: {t}"))?,
            Value::Seq(items) => &items[index(t, items.len(), false)?],
            _ => return Err(format!("doc is missing path: {t}")),
        };
    }
    Ok(cur.clone())
}

fn add(doc: &mut Node, toks: &[String], value: Node) -> Result<(), String> {
    let Some((last, init)) = toks.split_last() else {
        *doc = value;
        return Ok(());
    };
    let p = parent(doc, init)?;
    match &mut p.value {
        Value::Map(_) => {
            let span = value.span;
            set_field(p, last, value, span);
            Ok(())
        }
        Value::Seq(items) => {
            let i = index(last, items.len(), true)?;
            items.insert(i, value);
            Ok(())
        }
        _ => Err(format!("cannot add {last} to a scalar")),
    }
}

fn remove(doc: &mut Node, toks: &[String]) -> Result<Node, String> {
    let Some((last, init)) = toks.split_last() else {
        return Err("cannot remove the document".into());
    };
    let p = parent(doc, init)?;
    match &mut p.value {
        Value::Map(entries) => {
            let i = entries.iter().position(|e| &e.key == last).ok_or_else(|| {
                format!("remove operation does not apply: doc is missing key: {last}")
            })?;
            Ok(entries.remove(i).value)
        }
        Value::Seq(items) => {
            let i = index(last, items.len(), false)?;
            Ok(items.remove(i))
        }
        _ => Err(format!(
            "remove operation does not apply: doc is missing path: {last}"
        )),
    }
}

fn replace(doc: &mut Node, toks: &[String], value: Node) -> Result<(), String> {
    let Some((last, init)) = toks.split_last() else {
        *doc = value;
        return Ok(());
    };
    let p = parent(doc, init)?;
    match &mut p.value {
        Value::Map(entries) => {
            let e = entries.iter_mut().find(|e| &e.key == last).ok_or_else(|| {
                format!("replace operation does not apply: doc is missing key: {last}")
            })?;
            e.key_span = value.span;
            e.value = value;
            Ok(())
        }
        Value::Seq(items) => {
            let i = index(last, items.len(), false)?;
            items[i] = value;
            Ok(())
        }
        _ => Err(format!(
            "replace operation does not apply: doc is missing path: {last}"
        )),
    }
}

/// Applies a JSON patch to `doc`.
pub fn json_patch(doc: &mut Node, ops: &Node) -> Result<(), String> {
    for op in read_ops(ops)? {
        let at = |e: String| format!("line {}: {} {}: {e}", op.line, op.op, op.path);
        let toks = pointer(&op.path).map_err(at)?;
        let value = || {
            op.value
                .clone()
                .ok_or_else(|| at("operation has no `value`".into()))
        };
        match op.op.as_str() {
            "add" => add(doc, &toks, value()?).map_err(at)?,
            "remove" => {
                remove(doc, &toks).map_err(at)?;
            }
            "replace" => replace(doc, &toks, value()?).map_err(at)?,
            "move" | "copy" => {
                let from = pointer(
                    op.from
                        .as_deref()
                        .ok_or_else(|| at("operation has no `from`".into()))?,
                )
                .map_err(at)?;
                let v = if op.op == "move" {
                    remove(doc, &from).map_err(at)?
                } else {
                    get(doc, &from).map_err(at)?
                };
                add(doc, &toks, v).map_err(at)?;
            }
            "test" => {
                let got = get(doc, &toks).map_err(at)?;
                if got.to_json() != value()?.to_json() {
                    return Err(at("testing value failed".into()));
                }
            }
            other => return Err(at(format!("unexpected kind of operation `{other}`"))),
        }
    }
    Ok(())
}

/// A patch target (kustomize's `types.Selector`); the type, name and
/// namespace fields are regular expressions, anchored.
#[derive(Clone, Debug, Default)]
pub struct Selector {
    /// Group.
    pub group: String,
    /// Version.
    pub version: String,
    /// Kind.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// Label selector (Kubernetes syntax).
    pub label_selector: String,
    /// Annotation selector (same syntax, on annotations).
    pub annotation_selector: String,
}

fn anchored(p: &str) -> Result<Option<regex::Regex>, String> {
    if p.is_empty() {
        return Ok(None);
    }
    regex::Regex::new(&format!("^(?:{p})$"))
        .map(Some)
        .map_err(|e| format!("invalid regular expression `{p}`: {e}"))
}

enum Req {
    Exists(String, bool),
    Eq(String, String, bool),
    In(String, Vec<String>, bool),
}

fn parse_label_selector(s: &str) -> Result<Vec<Req>, String> {
    let mut reqs = Vec::new();
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    for p in parts {
        let p = p.trim();
        if p.is_empty() {
            continue;
        }
        if let Some(k) = p.strip_prefix('!') {
            reqs.push(Req::Exists(k.trim().to_owned(), false));
        } else if let Some((k, v)) = p.split_once("!=") {
            reqs.push(Req::Eq(k.trim().to_owned(), v.trim().to_owned(), false));
        } else if let Some((k, v)) = p.split_once("==").or_else(|| p.split_once('=')) {
            reqs.push(Req::Eq(k.trim().to_owned(), v.trim().to_owned(), true));
        } else if let Some((k, rest)) = p.split_once(' ') {
            let rest = rest.trim();
            let (neg, list) = if let Some(l) = rest.strip_prefix("notin") {
                (true, l)
            } else if let Some(l) = rest.strip_prefix("in") {
                (false, l)
            } else {
                return Err(format!("cannot parse selector requirement `{p}`"));
            };
            let list = list
                .trim()
                .strip_prefix('(')
                .and_then(|l| l.strip_suffix(')'))
                .ok_or_else(|| format!("cannot parse selector requirement `{p}`"))?;
            reqs.push(Req::In(
                k.trim().to_owned(),
                list.split(',').map(|v| v.trim().to_owned()).collect(),
                !neg,
            ));
        } else {
            reqs.push(Req::Exists(p.to_owned(), true));
        }
    }
    Ok(reqs)
}

fn matches_selector(sel: &str, map: Option<&Node>) -> Result<bool, String> {
    if sel.is_empty() {
        return Ok(true);
    }
    let get = |k: &str| map.and_then(|m| m.get(k)).and_then(scalar_text);
    for r in parse_label_selector(sel)? {
        let ok = match r {
            Req::Exists(k, want) => get(&k).is_some() == want,
            Req::Eq(k, v, want) => (get(&k).as_deref() == Some(v.as_str())) == want,
            Req::In(k, vs, want) => match get(&k) {
                Some(v) => vs.contains(&v) == want,
                None => !want,
            },
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

impl Selector {
    /// The indexes of the resources this selects (kustomize's
    /// `resWrangler.Select`: original or current name and namespace).
    pub fn select(&self, res: &[Resource]) -> Result<Vec<usize>, String> {
        let (g, v, k) = (
            anchored(&self.group)?,
            anchored(&self.version)?,
            anchored(&self.kind)?,
        );
        let (n, ns) = (anchored(&self.name)?, anchored(&self.namespace)?);
        let m = |re: &Option<regex::Regex>, s: &str| re.as_ref().is_none_or(|r| r.is_match(s));
        let mut out = Vec::new();
        for (i, r) in res.iter().enumerate() {
            let (cur, org) = (r.cur_id(), r.org_id());
            if !m(&ns, org.effective_namespace()) && !m(&ns, cur.effective_namespace()) {
                continue;
            }
            if !m(&n, &org.name) && !m(&n, &cur.name) {
                continue;
            }
            if !(m(&g, &cur.gvk.group) && m(&v, &cur.gvk.version) && m(&k, &cur.gvk.kind)) {
                continue;
            }
            let meta = r.node.get("metadata");
            if !matches_selector(&self.label_selector, meta.and_then(|m| m.get("labels")))? {
                continue;
            }
            if !matches_selector(
                &self.annotation_selector,
                meta.and_then(|m| m.get("annotations")),
            )? {
                continue;
            }
            out.push(i);
        }
        Ok(out)
    }
}
