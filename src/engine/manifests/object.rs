//! Kubernetes objects found in manifest files: one per YAML document, with
//! `List` objects expanded into their items as kubectl and Argo CD do.

use crate::engine::finding::{Finding, Severity};
use crate::engine::yaml::{Limits, Node, Value, load_documents};

/// One Kubernetes object as written in a file.
#[derive(Clone, Debug)]
pub struct Object {
    /// Repository-relative path.
    pub file: String,
    /// Index of the YAML document in the file (0-based).
    pub doc: usize,
    /// The object.
    pub root: Node,
    /// `apiVersion` (empty when missing).
    pub api_version: String,
    /// `kind` (empty when missing).
    pub kind: String,
    /// `metadata.name` (empty when missing; `generateName` is not a name).
    pub name: String,
    /// `metadata.namespace` as written, if any.
    pub namespace: Option<String>,
    /// Line of the object's first key.
    pub line: u32,
}

impl Object {
    /// API group from `apiVersion` (`apps/v1` → `apps`, `v1` → ``).
    pub fn group(&self) -> &str {
        match self.api_version.split_once('/') {
            Some((g, _)) => g,
            None => "",
        }
    }

    /// The line of a key path inside the object (the deepest key that exists).
    pub fn line_of(&self, path: &[&str]) -> u32 {
        let mut cur = &self.root;
        let mut line = self.line;
        for k in path {
            match cur.entry(k) {
                Some(e) => {
                    line = e.key_span.line;
                    cur = &e.value;
                }
                None => break,
            }
        }
        line
    }
}

/// Result of reading one manifest file.
#[derive(Debug, Default)]
pub struct FileObjects {
    /// Every object found.
    pub objects: Vec<Object>,
    /// `invalid-manifest` findings (parse errors, non-objects, limits).
    pub findings: Vec<Finding>,
}

fn invalid(file: &str, line: u32, msg: String) -> Finding {
    Finding::at("invalid-manifest", Severity::Error, file, line, msg)
}

/// How to stop a file that is not a manifest from being judged as one.
const EXCLUDE_HINT: &str = "if this file is not a manifest, exclude it with `manifests.ignore` in .github/gitops-guard.yml";

/// Reads every object of a manifest file. Errors become `invalid-manifest`
/// findings; documents before an error are still returned.
pub fn load_objects(file: &str, text: &str, limits: &Limits) -> FileObjects {
    let loaded = load_documents(text, limits);
    let mut out = FileObjects::default();
    for (i, doc) in loaded.docs.into_iter().enumerate() {
        push_object(file, i, doc, &mut out, 0);
    }
    if let Some(e) = loaded.error {
        out.findings.push(invalid(
            file,
            e.line,
            format!("cannot read YAML: {}", e.message),
        ));
    }
    out
}

fn push_object(file: &str, doc: usize, node: Node, out: &mut FileObjects, depth: usize) {
    match &node.value {
        Value::Null => return, // empty document
        Value::Map(_) => {}
        _ => {
            out.findings.push(invalid(
                file,
                node.span.line,
                format!(
                    "document is a {}, not a Kubernetes object; {EXCLUDE_HINT}",
                    node.type_name()
                ),
            ));
            return;
        }
    }
    let text = |k: &str| node.get(k).and_then(Node::as_str).map(str::to_owned);
    let kind = text("kind").unwrap_or_default();
    // kubectl and Argo CD expand any object whose `items` is a list
    // (`kind: List`, `*List`); `items: null` is ignored.
    if let Some(items) = node.get("items")
        && (kind == "List" || kind.ends_with("List") || matches!(items.value, Value::Seq(_)))
    {
        match &items.value {
            Value::Seq(list) if depth < 4 => {
                for item in list {
                    push_object(file, doc, item.clone(), out, depth + 1);
                }
                return;
            }
            Value::Null => return,
            _ if depth >= 4 => {
                out.findings.push(invalid(
                    file,
                    items.span.line,
                    "lists nested too deeply".into(),
                ));
                return;
            }
            _ => {}
        }
    }
    let api_version = text("apiVersion").unwrap_or_default();
    let meta = node.get("metadata");
    let name = meta
        .and_then(|m| m.get("name"))
        .and_then(Node::as_str)
        .unwrap_or_default()
        .to_owned();
    let namespace = meta
        .and_then(|m| m.get("namespace"))
        .and_then(Node::as_str)
        .map(str::to_owned);
    if kind.is_empty() || api_version.is_empty() {
        out.findings.push(invalid(
            file,
            node.span.line,
            format!(
                "document has no `apiVersion` and `kind`, so it is not a Kubernetes object; {EXCLUDE_HINT}"
            ),
        ));
        return;
    }
    let line = node.span.line;
    out.objects.push(Object {
        file: file.to_owned(),
        doc,
        root: node,
        api_version,
        kind,
        name,
        namespace,
        line,
    });
}
