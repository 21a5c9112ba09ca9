//! `validate.pattern`: Kyverno's overlay pattern matcher
//! (`pkg/engine/validate/validate.go` and `pkg/engine/anchor`), on our YAML
//! nodes so that a failure points at a line.
//!
//! Semantics followed from the source:
//! - A map pattern needs a map; anchors (`(k)`, `^(k)`, `=(k)`, `X(k)`) are
//!   evaluated before plain keys; plain keys whose pattern holds anchors, and
//!   global anchors `<(k)`, go first (Kyverno's `getSortedNestedAnchorResource`).
//! - A list pattern whose first item is a map applies that map to every
//!   element (further items are ignored, as in Kyverno); elements where a
//!   conditional anchor fails are skipped, and if every element is skipped
//!   the whole list is a skip. A scalar first item applies to every element.
//!   Other lists compare position by position.
//! - A conditional or global anchor mismatch makes the rule *skip*; a
//!   negation anchor match is a *fail*; any other mismatch is a fail, or an
//!   *error* when a conditional/existence/negation anchor key never occurred
//!   in the resource (Kyverno's `KeysAreMissing`).
//! - Wildcard keys under `metadata.labels`/`metadata.annotations` expand to
//!   the resource keys they match (`wildcards.ExpandInMetadata`). Kyverno
//!   picks one matching key at random; we check every matching key, so a
//!   resource fails here whenever Kyverno could fail it.

use std::collections::{HashMap, VecDeque};

use super::operators::{Scalar, has_wildcard, match_value, wildcard_match};
use crate::engine::yaml::{Entry, Node, Span, Value};

/// Anchor kinds (`pkg/engine/anchor`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnchorKind {
    /// `(key)`: if the key's value does not match, skip.
    Condition,
    /// `<(key)`: if it does not match, the whole rule is skipped.
    Global,
    /// `^(key)`: at least one list element must match.
    Existence,
    /// `=(key)`: if present, must match.
    Equality,
    /// `X(key)`: must be absent.
    Negation,
    /// `+(key)`: add-if-absent (mutate only).
    AddIfAbsent,
}

/// Parses an anchored key (`^([+<=X^])?\((.+)\)$`).
pub fn parse_anchor(key: &str) -> Option<(AnchorKind, &str)> {
    let (kind, rest) = match key.as_bytes().first()? {
        b'(' => (AnchorKind::Condition, key),
        b'+' => (AnchorKind::AddIfAbsent, &key[1..]),
        b'<' => (AnchorKind::Global, &key[1..]),
        b'=' => (AnchorKind::Equality, &key[1..]),
        b'X' => (AnchorKind::Negation, &key[1..]),
        b'^' => (AnchorKind::Existence, &key[1..]),
        _ => return None,
    };
    let inner = rest.strip_prefix('(')?.strip_suffix(')')?;
    if inner.is_empty() {
        return None;
    }
    Some((kind, inner))
}

/// Why a pattern did not match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatternError {
    /// Kyverno's error text.
    pub message: String,
    /// Kyverno's path (`/spec/containers/0/securityContext/privileged/`),
    /// empty when Kyverno reports no path (an execution error).
    pub path: String,
    /// Line of the deepest resource key reached.
    pub line: u32,
    /// A conditional or global anchor did not match: the rule is skipped.
    pub skip: bool,
}

#[derive(Debug)]
struct Err {
    msg: String,
    path: String,
    line: u32,
    cond: bool,
    global: bool,
    neg: bool,
}

impl Err {
    fn plain(msg: String, path: &str, line: u32) -> Self {
        Self {
            msg,
            path: path.to_owned(),
            line,
            cond: false,
            global: false,
            neg: false,
        }
    }
    fn is_skip(&self) -> bool {
        self.cond || self.global
    }
}

#[derive(Default)]
struct Ctx {
    /// raw anchor key → seen in the resource
    anchors: HashMap<String, bool>,
}

/// Matches a resource against a pattern (`validate.MatchPattern`).
pub fn match_pattern(resource: &Node, pattern: &Node) -> Result<(), PatternError> {
    let mut cx = Ctx::default();
    match element(&mut cx, resource, pattern, "/", resource.span.line) {
        Ok(()) => Ok(()),
        Err(e) => {
            let skip = e.is_skip();
            let path = if skip || (!e.neg && cx.anchors.values().any(|v| !v)) {
                String::new()
            } else {
                e.path
            };
            Err(PatternError {
                message: e.msg,
                path,
                line: e.line,
                skip,
            })
        }
    }
}

/// A view of a node as a leaf value.
pub fn scalar(n: &Node) -> Scalar<'_> {
    match &n.value {
        Value::Null => Scalar::Null,
        Value::Bool(b) => Scalar::Bool(*b),
        Value::Int(i) => Scalar::Int(*i),
        Value::UInt(u) => Scalar::Float(*u as f64),
        Value::Float(f) => Scalar::Float(*f),
        Value::Str(s) => Scalar::Str(s),
        Value::Seq(_) | Value::Map(_) => Scalar::Composite,
    }
}

fn show(n: &Node) -> String {
    match &n.value {
        Value::Str(s) => s.clone(),
        Value::Null => "<nil>".into(),
        _ => n.to_json().to_string(),
    }
}

fn element(cx: &mut Ctx, res: &Node, pat: &Node, path: &str, line: u32) -> Result<(), Err> {
    match &pat.value {
        Value::Map(pentries) => {
            let Value::Map(rentries) = &res.value else {
                return Err(Err::plain(
                    format!(
                        "pattern and resource have different structures. Path: {path}. Expected map, found {}",
                        res.type_name()
                    ),
                    path,
                    line,
                ));
            };
            check_anchors_in_resource(cx, pentries, rentries);
            validate_map(cx, rentries, pentries, path, line)
        }
        Value::Seq(pitems) => {
            let Value::Seq(ritems) = &res.value else {
                return Err(Err::plain(
                    format!(
                        "validation rule failed at path {path}, resource does not satisfy the expected overlay pattern"
                    ),
                    path,
                    line,
                ));
            };
            validate_array(cx, res, ritems, pitems, path, line)
        }
        _ => {
            let p = scalar(pat);
            let ok = match &res.value {
                Value::Seq(items) => items.iter().all(|i| match_value(scalar(i), p)),
                _ => match_value(scalar(res), p),
            };
            if ok {
                Ok(())
            } else {
                Err(Err::plain(
                    format!(
                        "resource value '{}' does not match '{}' at path {path}",
                        show(res),
                        show(pat)
                    ),
                    path,
                    line,
                ))
            }
        }
    }
}

fn check_anchors_in_resource(cx: &mut Ctx, pentries: &[Entry], rentries: &[Entry]) {
    for e in pentries {
        if let Some((kind, key)) = parse_anchor(&e.key)
            && matches!(
                kind,
                AnchorKind::Condition | AnchorKind::Existence | AnchorKind::Negation
            )
        {
            let seen = cx.anchors.entry(e.key.clone()).or_insert(false);
            if !*seen && rentries.iter().any(|r| r.key == key) {
                *seen = true;
            }
        }
    }
}

fn has_nested_anchors(n: &Node) -> bool {
    match &n.value {
        Value::Map(entries) => entries.iter().any(|e| {
            matches!(
                parse_anchor(&e.key),
                Some((
                    AnchorKind::Condition
                        | AnchorKind::Existence
                        | AnchorKind::Equality
                        | AnchorKind::Negation
                        | AnchorKind::Global,
                    _
                ))
            ) || has_nested_anchors(&e.value)
        }),
        Value::Seq(items) => items.iter().any(has_nested_anchors),
        _ => false,
    }
}

fn get<'a>(rentries: &'a [Entry], key: &str) -> Option<&'a Entry> {
    rentries.iter().find(|e| e.key == key)
}

fn null_at(line: u32) -> Node {
    Node::new(
        Value::Null,
        Span {
            line,
            col: 0,
            file: 0,
        },
    )
}

fn validate_map(
    cx: &mut Ctx,
    rentries: &[Entry],
    pentries: &[Entry],
    path: &str,
    line: u32,
) -> Result<(), Err> {
    let expanded = expand_in_metadata(pentries, rentries);
    let pentries: &[Entry] = match &expanded {
        Some(v) => v,
        None => pentries,
    };
    let mut anchors: Vec<(&Entry, AnchorKind, &str)> = Vec::new();
    let mut plain: Vec<&Entry> = Vec::new();
    for e in pentries {
        match parse_anchor(&e.key) {
            Some((
                k @ (AnchorKind::Condition
                | AnchorKind::Existence
                | AnchorKind::Equality
                | AnchorKind::Negation),
                key,
            )) => anchors.push((e, k, key)),
            _ => plain.push(e),
        }
    }
    // Kyverno iterates a Go map here (random order); conditions first keeps
    // the documented if-then reading deterministic.
    anchors.sort_by_key(|(_, k, _)| *k != AnchorKind::Condition);
    for (e, kind, key) in anchors {
        let cur = format!("{path}{key}/");
        let found = get(rentries, key);
        match kind {
            AnchorKind::Condition => match found {
                Some(r) => {
                    if let Err(mut err) = element(cx, &r.value, &e.value, &cur, r.key_span.line) {
                        err.msg = format!("conditional anchor mismatch: {}", err.msg);
                        err.cond = true;
                        return Err(err);
                    }
                }
                None => {
                    let mut err = Err::plain(
                        "conditional anchor mismatch: conditional anchor key doesn't exist in the resource".into(),
                        &cur,
                        line,
                    );
                    err.cond = true;
                    return Err(err);
                }
            },
            AnchorKind::Equality => {
                if let Some(r) = found {
                    element(cx, &r.value, &e.value, &cur, r.key_span.line)?;
                }
            }
            AnchorKind::Negation => {
                if let Some(r) = found {
                    let mut err = Err::plain(
                        format!("negation anchor matched in resource: {cur} is not allowed"),
                        &cur,
                        r.key_span.line,
                    );
                    err.neg = true;
                    return Err(err);
                }
            }
            AnchorKind::Existence => {
                if let Some(r) = found {
                    existence(cx, r, &e.value, &cur)?;
                }
            }
            AnchorKind::Global | AnchorKind::AddIfAbsent => unreachable!(),
        }
    }
    // Plain keys: sorted; global anchors and keys whose pattern holds
    // anchors are pushed to the front (so in reverse sorted order).
    plain.sort_by(|a, b| a.key.cmp(&b.key));
    let mut order: VecDeque<&Entry> = VecDeque::with_capacity(plain.len());
    for e in plain {
        let global = matches!(parse_anchor(&e.key), Some((AnchorKind::Global, _)));
        if global || has_nested_anchors(&e.value) {
            order.push_front(e);
        } else {
            order.push_back(e);
        }
    }
    for e in order {
        if let Some((AnchorKind::Global, key)) = parse_anchor(&e.key) {
            let cur = format!("{path}{key}/");
            if let Some(r) = get(rentries, key)
                && let Err(mut err) = element(cx, &r.value, &e.value, &cur, r.key_span.line)
            {
                err.msg = format!("global anchor mismatch: {}", err.msg);
                err.global = true;
                return Err(err);
            }
            continue;
        }
        // Default handler: the raw key (an unsupported `+(k)` stays literal,
        // as in Kyverno).
        let cur = format!("{path}{}/", e.key);
        let r = get(rentries, &e.key).filter(|r| !r.value.is_null());
        if e.value.as_str() == Some("*") {
            if r.is_none() {
                return Err(Err::plain(
                    format!("{path}/{} not found", e.key),
                    path,
                    line,
                ));
            }
            continue;
        }
        match r {
            Some(r) => element(cx, &r.value, &e.value, &cur, r.key_span.line)?,
            None => {
                let null = match get(rentries, &e.key) {
                    Some(r) => null_at(r.key_span.line),
                    None => null_at(line),
                };
                element(cx, &null, &e.value, &cur, line)?;
            }
        }
    }
    Ok(())
}

fn existence(cx: &mut Ctx, r: &Entry, pat: &Node, cur: &str) -> Result<(), Err> {
    let line = r.key_span.line;
    let Value::Seq(items) = &r.value.value else {
        return Err(Err::plain(
            format!(
                "invalid resource type {}: Existence ^ () anchor can be used only on list/array type resource",
                r.value.type_name()
            ),
            cur,
            line,
        ));
    };
    let Value::Seq(pitems) = &pat.value else {
        return Err(Err::plain(
            "invalid pattern type: Pattern has to be of list to compare against resource".into(),
            cur,
            line,
        ));
    };
    for p in pitems {
        if !matches!(p.value, Value::Map(_)) {
            return Err(Err::plain(
                "invalid pattern type: Pattern has to be of type map to compare against items in resource".into(),
                cur,
                line,
            ));
        }
        let ok = items.iter().enumerate().any(|(i, item)| {
            let p_i = format!("{cur}{i}/");
            element(cx, item, p, &p_i, item.span.line).is_ok()
        });
        if !ok {
            return Err(Err::plain(
                format!("existence anchor validation failed at path {cur}"),
                cur,
                line,
            ));
        }
    }
    Ok(())
}

fn validate_array(
    cx: &mut Ctx,
    res: &Node,
    ritems: &[Node],
    pitems: &[Node],
    path: &str,
    line: u32,
) -> Result<(), Err> {
    let Some(first) = pitems.first() else {
        return Err(Err::plain("pattern Array empty".into(), path, line));
    };
    match &first.value {
        Value::Map(_) => per_element(cx, ritems, |_| first, ritems.len(), path),
        Value::Seq(_) => {
            if ritems.len() < pitems.len() {
                return Err(Err::plain(
                    format!(
                        "validate Array failed, array length mismatch, resource Array len is {} and pattern Array len is {}",
                        ritems.len(),
                        pitems.len()
                    ),
                    "",
                    line,
                ));
            }
            per_element(cx, ritems, |i| &pitems[i], pitems.len(), path)
        }
        _ => element(cx, res, first, path, line),
    }
}

fn per_element<'p>(
    cx: &mut Ctx,
    ritems: &[Node],
    pat: impl Fn(usize) -> &'p Node,
    n: usize,
    path: &str,
) -> Result<(), Err> {
    let mut applied = 0usize;
    let mut skips: Vec<Err> = Vec::new();
    for (i, item) in ritems.iter().take(n).enumerate() {
        let cur = format!("{path}{i}/");
        match element(cx, item, pat(i), &cur, item.span.line) {
            Ok(()) => applied += 1,
            Err(e) if e.is_skip() => skips.push(e),
            Err(e) => return Err(e),
        }
    }
    if applied == 0 && !skips.is_empty() {
        let mut e = Err::plain(
            skips
                .iter()
                .map(|s| s.msg.as_str())
                .collect::<Vec<_>>()
                .join("; "),
            path,
            skips[0].line,
        );
        e.cond = skips.iter().any(|s| s.cond);
        e.global = skips.iter().any(|s| s.global);
        return Err(e);
    }
    Ok(())
}

/// `wildcards.ExpandInMetadata`: wildcard keys of `metadata.labels` and
/// `metadata.annotations` in the pattern become the resource keys they
/// match. Returns a rewritten copy of the map's entries, or `None` when
/// nothing changes.
fn expand_in_metadata(pentries: &[Entry], rentries: &[Entry]) -> Option<Vec<Entry>> {
    let pm_idx = pentries.iter().position(|e| {
        e.key == "metadata" || parse_anchor(&e.key).is_some_and(|(_, k)| k == "metadata")
    })?;
    let rmeta = get(rentries, "metadata")?.value.as_map()?;
    let pmeta = pentries[pm_idx].value.as_map()?;
    let mut changed = false;
    let mut new_meta: Vec<Entry> = Vec::with_capacity(pmeta.len());
    for tag in pmeta {
        let is_tag = |t: &str| tag.key == t || parse_anchor(&tag.key).is_some_and(|(_, k)| k == t);
        let which = if is_tag("labels") {
            "labels"
        } else if is_tag("annotations") {
            "annotations"
        } else {
            new_meta.push(tag.clone());
            continue;
        };
        let (Some(pdata), Some(rdata)) = (
            tag.value.as_map(),
            get(rmeta, which).and_then(|e| e.value.as_map()),
        ) else {
            new_meta.push(tag.clone());
            continue;
        };
        let mut out: Vec<Entry> = Vec::with_capacity(pdata.len());
        for pe in pdata {
            let (anchor, key) = match parse_anchor(&pe.key) {
                Some((k, inner)) => (Some((k, &pe.key[..pe.key.len() - inner.len() - 2])), inner),
                None => (None, pe.key.as_str()),
            };
            if !has_wildcard(key) {
                out.push(pe.clone());
                continue;
            }
            let matches: Vec<&Entry> = rdata
                .iter()
                .filter(|r| r.value.as_str().is_some() && wildcard_match(key, &r.key))
                .collect();
            if matches.is_empty() {
                out.push(pe.clone());
                continue;
            }
            changed = true;
            for m in matches {
                let k = match anchor {
                    Some((_, prefix)) => format!("{prefix}({})", m.key),
                    None => m.key.clone(),
                };
                out.push(Entry {
                    key: k,
                    key_span: pe.key_span,
                    value: pe.value.clone(),
                });
            }
        }
        new_meta.push(Entry {
            key: tag.key.clone(),
            key_span: tag.key_span,
            value: Node::new(Value::Map(out), tag.value.span),
        });
    }
    if !changed {
        return None;
    }
    let mut entries = pentries.to_vec();
    entries[pm_idx].value = Node::new(Value::Map(new_meta), pentries[pm_idx].value.span);
    Some(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::yaml::{Limits, load_documents};

    fn node(y: &str) -> Node {
        load_documents(y, &Limits::default()).docs.remove(0)
    }
    fn check(res: &str, pat: &str) -> Result<(), PatternError> {
        match_pattern(&node(res), &node(pat))
    }
    fn pass(res: &str, pat: &str) {
        assert_eq!(check(res, pat), Ok(()), "{res} vs {pat}");
    }
    fn fail(res: &str, pat: &str) -> PatternError {
        let e = check(res, pat).expect_err("expected a mismatch");
        assert!(!e.skip, "expected fail, got skip: {e:?}");
        e
    }
    fn skip(res: &str, pat: &str) {
        let e = check(res, pat).expect_err("expected a skip");
        assert!(e.skip, "expected skip: {e:?}");
    }

    #[test]
    fn anchor_parsing() {
        assert_eq!(parse_anchor("(a)"), Some((AnchorKind::Condition, "a")));
        assert_eq!(parse_anchor("=(a)"), Some((AnchorKind::Equality, "a")));
        assert_eq!(parse_anchor("X(a)"), Some((AnchorKind::Negation, "a")));
        assert_eq!(parse_anchor("^(a)"), Some((AnchorKind::Existence, "a")));
        assert_eq!(parse_anchor("<(a)"), Some((AnchorKind::Global, "a")));
        assert_eq!(parse_anchor("+(a)"), Some((AnchorKind::AddIfAbsent, "a")));
        assert_eq!(parse_anchor("a"), None);
        assert_eq!(parse_anchor("()"), None);
        assert_eq!(parse_anchor("Y(a)"), None);
    }

    // kyverno.io "Validate Rules" → "Anchors": equality anchor
    #[test]
    fn equality_anchor() {
        let pat = "spec:\n  =(hostNetwork): false\n";
        pass("spec: {}", pat);
        pass("spec: {hostNetwork: false}", pat);
        let e = fail("spec: {hostNetwork: true}", pat);
        assert_eq!(e.path, "/spec/hostNetwork/");
        assert_eq!(e.line, 1);
    }

    #[test]
    fn string_false_matches_bool() {
        let pat = "spec:\n  =(hostPID): \"false\"\n";
        pass("spec:\n  hostPID: false\n", pat);
        let e = fail("kind: Pod\nspec:\n  hostPID: true\n", pat);
        assert_eq!(e.line, 3);
    }

    // Docs example: conditional anchor on image tag → imagePullPolicy
    #[test]
    fn conditional_anchor_in_list() {
        let pat = "spec:\n  containers:\n  - (image): \"*:latest\"\n    imagePullPolicy: \"!IfNotPresent\"\n";
        pass(
            "spec:\n  containers:\n  - image: nginx:latest\n    imagePullPolicy: Always\n  - image: nginx:1\n",
            pat,
        );
        fail(
            "spec:\n  containers:\n  - image: nginx:latest\n    imagePullPolicy: IfNotPresent\n",
            pat,
        );
        // every element skipped → the rule is skipped
        skip("spec:\n  containers:\n  - image: nginx:1\n", pat);
    }

    #[test]
    fn conditional_anchor_missing_key_skips() {
        skip("metadata: {}", "metadata:\n  (labels):\n    app: x\n");
        skip(
            "metadata: {labels: {app: y}}",
            "metadata:\n  (labels):\n    app: x\n",
        );
    }

    // Docs: negation anchor X(hostPath)
    #[test]
    fn negation_anchor() {
        let pat = "spec:\n  =(volumes):\n  - X(hostPath): \"null\"\n";
        pass("spec:\n  volumes:\n  - name: a\n    emptyDir: {}\n", pat);
        pass("spec: {}", pat);
        let e = fail(
            "spec:\n  volumes:\n  - name: a\n    hostPath:\n      path: /\n",
            pat,
        );
        assert_eq!(e.line, 4);
        assert_eq!(e.path, "/spec/volumes/0/hostPath/");
    }

    // Docs: existence anchor ^(containers) — at least one element matches
    #[test]
    fn existence_anchor() {
        let pat = "spec:\n  ^(containers):\n  - image: \"nginx:*\"\n";
        pass(
            "spec:\n  containers:\n  - image: busybox\n  - image: nginx:1\n",
            pat,
        );
        fail("spec:\n  containers:\n  - image: busybox\n", pat);
        pass("spec: {}", pat);
    }

    // Docs: global anchor — if the image is from a registry, pull secrets
    #[test]
    fn global_anchor() {
        let pat = "spec:\n  containers:\n  - name: \"*\"\n    <(image): \"corp.io/*\"\n  imagePullSecrets:\n  - name: my-secret\n";
        pass(
            "spec:\n  containers:\n  - name: a\n    image: corp.io/x\n  imagePullSecrets:\n  - name: my-secret\n",
            pat,
        );
        fail(
            "spec:\n  containers:\n  - name: a\n    image: corp.io/x\n  imagePullSecrets:\n  - name: other\n",
            pat,
        );
        skip(
            "spec:\n  containers:\n  - name: a\n    image: docker.io/x\n  imagePullSecrets:\n  - name: other\n",
            pat,
        );
    }

    #[test]
    fn star_means_present() {
        let pat = "metadata:\n  labels:\n    app: \"*\"\n";
        pass("metadata: {labels: {app: x}}", pat);
        fail("metadata: {labels: {other: x}}", pat);
        fail("metadata: {labels: {app: null}}", pat);
    }

    #[test]
    fn required_key_absent_fails() {
        let pat = "spec:\n  securityContext:\n    runAsNonRoot: true\n";
        fail("spec: {}", pat);
        pass("spec: {securityContext: {runAsNonRoot: true}}", pat);
    }

    #[test]
    fn scalar_pattern_over_list() {
        let pat = "spec:\n  args: \"!--privileged\"\n";
        pass("spec: {args: [a, b]}", pat);
        fail("spec: {args: [a, --privileged]}", pat);
        // a one-scalar list pattern applies to each element too
        pass("spec: {args: [a, b]}", "spec:\n  args: [\"?*\"]\n");
        fail("spec: {args: [a, \"\"]}", "spec:\n  args: [\"?*\"]\n");
    }

    #[test]
    fn only_first_map_of_a_list_pattern_is_used() {
        let pat = "spec:\n  containers:\n  - name: \"a*\"\n  - name: \"b*\"\n";
        pass("spec:\n  containers:\n  - name: ax\n", pat);
        fail("spec:\n  containers:\n  - name: bx\n", pat);
    }

    #[test]
    fn structure_mismatch() {
        fail("spec: x", "spec:\n  a: 1\n");
        fail("spec: {a: x}", "spec:\n  a: [1]\n");
    }

    #[test]
    fn metadata_wildcards_expand_to_every_match() {
        let pat = "=(metadata):\n  =(annotations):\n    =(container.apparmor.security.beta.kubernetes.io/*): \"runtime/default | localhost/*\"\n";
        pass("metadata: {}", pat);
        pass(
            "metadata:\n  annotations:\n    container.apparmor.security.beta.kubernetes.io/a: runtime/default\n",
            pat,
        );
        let e = fail(
            "metadata:\n  annotations:\n    container.apparmor.security.beta.kubernetes.io/a: runtime/default\n    container.apparmor.security.beta.kubernetes.io/b: unconfined\n",
            pat,
        );
        assert_eq!(e.line, 4);
    }

    #[test]
    fn missing_anchor_key_turns_fail_into_error() {
        // `X(user)` never occurs and a plain key fails: Kyverno reports an
        // execution error (no path), not a path failure.
        let e = fail("spec: {a: 1}", "spec:\n  X(user): \"null\"\n  a: 2\n");
        assert_eq!(e.path, "");
        let e = fail(
            "spec: {a: 1, user: x}",
            "spec:\n  a: 2\n  X(user): \"null\"\n",
        );
        assert_eq!(e.path, "/spec/user/");
    }

    #[test]
    fn numbers_and_ranges() {
        let pat = "spec:\n  replicas: \"1-3\"\n";
        pass("spec: {replicas: 2}", pat);
        fail("spec: {replicas: 4}", pat);
        pass("spec: {memory: 100Mi}", "spec:\n  memory: \"<1Gi\"\n");
        fail("spec: {memory: 2Gi}", "spec:\n  memory: \"<1Gi\"\n");
        pass("spec: {port: 0}", "spec:\n  port: 0\n");
        fail("spec: {port: 80}", "spec:\n  port: 0\n");
    }
}
