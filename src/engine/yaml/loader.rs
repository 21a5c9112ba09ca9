//! Builds [`Node`] trees from saphyr-parser events, with go-yaml v2 semantics
//! and hard limits.
//!
//! Why our own builder: saphyr's tree loader deep-clones aliases without any
//! limit (saphyr#109) and knows nothing of merge keys or YAML 1.1 scalars.
//! Here every alias expansion is charged against [`Limits::max_nodes`] before
//! it is copied, so an alias bomb fails fast in bounded memory.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Tag};

use super::Limits;
use super::node::{Entry, Node, Span, Value};
use super::scalar::{ScalarTag, key_string, resolve_plain, resolve_tagged};

/// Why a file could not be read, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {col}: {message}")]
pub struct LoadError {
    /// 1-based line of the problem.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
    /// What is wrong.
    pub message: String,
}

/// The documents of one file. Documents before an error are kept so they are
/// still evaluated; the error itself becomes an `invalid-manifest` finding.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Every document's root, in order. Empty documents are `Value::Null`.
    pub docs: Vec<Node>,
    /// The first error, if the file is not entirely valid.
    pub error: Option<LoadError>,
}

/// Reads every YAML document of `text`.
pub fn load_documents(text: &str, limits: &Limits) -> Loaded {
    let mut out = Loaded::default();
    if text.len() > limits.max_bytes {
        out.error = Some(LoadError {
            line: 1,
            col: 1,
            message: format!(
                "file is {} bytes, over the limit of {} bytes",
                text.len(),
                limits.max_bytes
            ),
        });
        return out;
    }
    let mut b = Builder::new(limits);
    let mut parser = Parser::new_from_str(text);
    loop {
        let Some(ev) = parser.next_event() else { break };
        match ev {
            Ok((event, span)) => {
                let at = Span {
                    line: span.start.line() as u32,
                    col: span.start.col() as u32 + 1,
                };
                match b.event(event, at) {
                    Ok(Some(doc)) => {
                        if out.docs.len() >= limits.max_documents {
                            out.error = Some(LoadError {
                                line: at.line,
                                col: at.col,
                                message: format!(
                                    "more than {} documents in one file",
                                    limits.max_documents
                                ),
                            });
                            return out;
                        }
                        out.docs.push(doc)
                    }
                    Ok(None) => {}
                    Err(message) => {
                        out.error = Some(LoadError {
                            line: at.line.max(1),
                            col: at.col,
                            message,
                        });
                        return out;
                    }
                }
            }
            Err(e) => {
                out.error = Some(LoadError {
                    line: e.marker().line().max(1) as u32,
                    col: e.marker().col() as u32 + 1,
                    message: e.info().to_owned(),
                });
                return out;
            }
        }
    }
    out
}

/// A mapping under construction.
struct MapFrame {
    entries: Vec<Entry>,
    /// Per entry: set by an explicit key (true) or by a merge (false).
    explicit: Vec<bool>,
    /// Key index, built once the mapping is large enough for scans to hurt.
    index: Option<HashMap<String, usize>>,
    pending: Option<PendingKey>,
}

enum PendingKey {
    Key(String, Span),
    Merge(Span),
}

impl MapFrame {
    fn find(&mut self, key: &str) -> Option<usize> {
        if self.index.is_none() && self.entries.len() > 32 {
            self.index = Some(
                self.entries
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (e.key.clone(), i))
                    .collect(),
            );
        }
        match &self.index {
            Some(ix) => ix.get(key).copied(),
            None => self.entries.iter().position(|e| e.key == key),
        }
    }

    fn push(&mut self, entry: Entry, explicit: bool) {
        if let Some(ix) = &mut self.index {
            ix.insert(entry.key.clone(), self.entries.len());
        }
        self.entries.push(entry);
        self.explicit.push(explicit);
    }

    /// An explicit `key: value`. A repeated key is ambiguous (kubectl rejects
    /// it, the API server keeps the last, a first-wins checker keeps the
    /// first), so it is an error. Overriding a merged key is normal YAML.
    fn set_explicit(&mut self, key: String, key_span: Span, value: Node) -> Result<(), String> {
        match self.find(&key) {
            Some(i) if self.explicit[i] => Err(format!(
                "duplicate key `{key}` (first set on line {}); Kubernetes tools disagree on which \
                 value wins, so duplicates are rejected",
                self.entries[i].key_span.line
            )),
            Some(i) => {
                self.entries[i] = Entry {
                    key,
                    key_span,
                    value,
                };
                self.explicit[i] = true;
                Ok(())
            }
            None => {
                self.push(
                    Entry {
                        key,
                        key_span,
                        value,
                    },
                    true,
                );
                Ok(())
            }
        }
    }

    /// Applies one merged mapping. go-yaml v2 (what Kubernetes uses) applies
    /// `<<` in place, so a merge written *after* an explicit key overwrites
    /// it, while the YAML merge spec and most checkers keep the explicit
    /// value. That disagreement is exactly what an attacker would use, so it
    /// is refused.
    fn merge(&mut self, entries: Vec<Entry>, at: Span) -> Result<(), String> {
        for e in entries {
            match self.find(&e.key) {
                Some(i) if self.explicit[i] => {
                    return Err(format!(
                        "merge key on line {} overrides `{}` set explicitly on line {}; \
                         Kubernetes' YAML reader lets the merge win, other tools the explicit \
                         key. Put `<<` first or remove one of them",
                        at.line, e.key, self.entries[i].key_span.line
                    ));
                }
                Some(i) => self.entries[i] = e,
                None => self.push(e, false),
            }
        }
        Ok(())
    }
}

enum Frame {
    Seq {
        items: Vec<Node>,
        span: Span,
        anchor: usize,
    },
    Map {
        map: MapFrame,
        span: Span,
        anchor: usize,
    },
}

struct Builder<'l> {
    limits: &'l Limits,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, usize)>,
    nodes: usize,
    root: Option<Node>,
}

impl<'l> Builder<'l> {
    fn new(limits: &'l Limits) -> Self {
        Self {
            limits,
            stack: Vec::new(),
            anchors: HashMap::new(),
            nodes: 0,
            root: None,
        }
    }

    fn charge(&mut self, n: usize) -> Result<(), String> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > self.limits.max_nodes {
            return Err(format!(
                "document expands to more than {} nodes (alias expansion or size limit); \
                 refusing to read further",
                self.limits.max_nodes
            ));
        }
        Ok(())
    }

    /// Feeds one event; returns a finished document root at `DocumentEnd`.
    fn event(&mut self, ev: Event<'_>, at: Span) -> Result<Option<Node>, String> {
        match ev {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => Ok(None),
            Event::DocumentStart(_) => {
                // Anchors are scoped to one document.
                self.anchors.clear();
                self.root = None;
                Ok(None)
            }
            Event::DocumentEnd => Ok(Some(
                self.root
                    .take()
                    .unwrap_or_else(|| Node::new(Value::Null, at)),
            )),
            Event::Alias(id) => {
                let Some(count) = self.anchors.get(&id).map(|(_, c)| *c) else {
                    return Err(
                        "alias refers to an anchor that is not defined yet (or to itself)".into(),
                    );
                };
                self.charge(count)?;
                let node = self.anchors[&id].0.clone();
                self.finish(node, 0, true)
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.charge(1)?;
                let merge_key = self.expecting_key()
                    && text == "<<"
                    && ((style == ScalarStyle::Plain && tag.is_none())
                        || tag.as_deref().map(tag_kind)
                            == Some(Some(TagKind::Scalar(ScalarTag::Merge))));
                if merge_key {
                    if let Some(Frame::Map { map, .. }) = self.stack.last_mut() {
                        map.pending = Some(PendingKey::Merge(at));
                    }
                    return Ok(None);
                }
                let value = match tag.as_deref() {
                    None if style == ScalarStyle::Plain => resolve_plain(&text),
                    None => Value::Str(text.into_owned()),
                    Some(t) => match tag_kind(t) {
                        Some(TagKind::Scalar(st)) => resolve_tagged(st, &text)?,
                        Some(TagKind::NonSpecific) => Value::Str(text.into_owned()),
                        Some(TagKind::Map | TagKind::Seq) | None => {
                            return Err(format!(
                                "unsupported tag `{}` on a scalar; only the YAML core tags are accepted",
                                show_tag(t)
                            ));
                        }
                    },
                };
                self.finish(Node::new(value, at), anchor, false)
            }
            Event::SequenceStart(anchor, tag) => {
                self.check_collection_tag(tag.as_deref(), TagKind::Seq)?;
                self.open(Frame::Seq {
                    items: Vec::new(),
                    span: at,
                    anchor,
                })
            }
            Event::MappingStart(anchor, tag) => {
                self.check_collection_tag(tag.as_deref(), TagKind::Map)?;
                self.open(Frame::Map {
                    map: MapFrame {
                        entries: Vec::new(),
                        explicit: Vec::new(),
                        index: None,
                        pending: None,
                    },
                    span: at,
                    anchor,
                })
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Err("unbalanced collection end".into());
                };
                let (node, anchor) = match frame {
                    Frame::Seq {
                        items,
                        span,
                        anchor,
                    } => (Node::new(Value::Seq(items), span), anchor),
                    Frame::Map { map, span, anchor } => {
                        (Node::new(Value::Map(map.entries), span), anchor)
                    }
                };
                self.finish(node, anchor, false)
            }
        }
    }

    fn expecting_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map { map, .. }) if map.pending.is_none())
    }

    fn check_collection_tag(&self, tag: Option<&Tag>, want: TagKind) -> Result<(), String> {
        match tag {
            None => Ok(()),
            Some(t) => match tag_kind(t) {
                Some(k) if k == want || k == TagKind::NonSpecific => Ok(()),
                _ => Err(format!("unsupported tag `{}` on a collection", show_tag(t))),
            },
        }
    }

    fn open(&mut self, frame: Frame) -> Result<Option<Node>, String> {
        if self.expecting_key() {
            return Err(
                "complex (mapping or sequence) keys are not supported by Kubernetes".into(),
            );
        }
        self.charge(1)?;
        if self.stack.len() >= self.limits.max_depth {
            return Err(format!(
                "nesting deeper than {} levels",
                self.limits.max_depth
            ));
        }
        self.stack.push(frame);
        Ok(None)
    }

    /// Places a completed node into its parent (or as the document root).
    fn finish(
        &mut self,
        node: Node,
        anchor: usize,
        from_alias: bool,
    ) -> Result<Option<Node>, String> {
        if anchor != 0 {
            let count = node.count();
            self.anchors.insert(anchor, (node.clone(), count));
        }
        match self.stack.last_mut() {
            None => {
                self.root = Some(node);
                Ok(None)
            }
            Some(Frame::Seq { items, .. }) => {
                items.push(node);
                Ok(None)
            }
            Some(Frame::Map { map, .. }) => match map.pending.take() {
                None => {
                    // This node is a key.
                    if matches!(node.value, Value::Seq(_) | Value::Map(_)) {
                        return Err(if from_alias {
                            "an alias to a collection cannot be a mapping key".into()
                        } else {
                            "complex keys are not supported by Kubernetes".into()
                        });
                    }
                    let Some(key) = key_string(&node.value) else {
                        return Err(format!(
                            "a {} cannot be a mapping key in Kubernetes",
                            node.type_name()
                        ));
                    };
                    map.pending = Some(PendingKey::Key(key, node.span));
                    Ok(None)
                }
                Some(PendingKey::Key(key, key_span)) => {
                    map.set_explicit(key, key_span, node)?;
                    Ok(None)
                }
                Some(PendingKey::Merge(at)) => {
                    apply_merge(map, node, at)?;
                    Ok(None)
                }
            },
        }
    }
}

fn apply_merge(map: &mut MapFrame, mut node: Node, at: Span) -> Result<(), String> {
    const WANT: &str = "a merge key `<<` needs a mapping, an alias to one, or a list of them";
    match &mut node.value {
        Value::Map(entries) => map.merge(std::mem::take(entries), at),
        Value::Seq(items) => {
            let mut items = std::mem::take(items);
            // Earlier maps in the list take precedence: apply the first one
            // last... but a later merge may not override an earlier merged
            // key either, so collect first-wins and apply once.
            let mut merged: Vec<Entry> = Vec::new();
            let mut seen: HashMap<String, ()> = HashMap::new();
            for item in items.iter_mut() {
                let Value::Map(entries) = &mut item.value else {
                    return Err(WANT.into());
                };
                for e in std::mem::take(entries) {
                    if seen.insert(e.key.clone(), ()).is_none() {
                        merged.push(e);
                    }
                }
            }
            map.merge(merged, at)
        }
        _ => Err(WANT.into()),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TagKind {
    Scalar(ScalarTag),
    Map,
    Seq,
    /// The non-specific tag `!`.
    NonSpecific,
}

fn tag_kind(t: &Tag) -> Option<TagKind> {
    let full = format!("{}{}", t.handle, t.suffix);
    Some(match full.as_str() {
        "tag:yaml.org,2002:str" => TagKind::Scalar(ScalarTag::Str),
        "tag:yaml.org,2002:bool" => TagKind::Scalar(ScalarTag::Bool),
        "tag:yaml.org,2002:int" => TagKind::Scalar(ScalarTag::Int),
        "tag:yaml.org,2002:float" => TagKind::Scalar(ScalarTag::Float),
        "tag:yaml.org,2002:null" => TagKind::Scalar(ScalarTag::Null),
        "tag:yaml.org,2002:timestamp" => TagKind::Scalar(ScalarTag::Timestamp),
        "tag:yaml.org,2002:merge" => TagKind::Scalar(ScalarTag::Merge),
        "tag:yaml.org,2002:map" => TagKind::Map,
        "tag:yaml.org,2002:seq" => TagKind::Seq,
        "!" => TagKind::NonSpecific,
        _ => return None,
    })
}

fn show_tag(t: &Tag) -> String {
    if let Some(s) = t.handle.strip_prefix("tag:yaml.org,2002:") {
        format!("!!{s}{}", t.suffix)
    } else if t.handle == "tag:yaml.org,2002:" {
        format!("!!{}", t.suffix)
    } else {
        format!("{}{}", t.handle, t.suffix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(s: &str) -> Loaded {
        load_documents(s, &Limits::default())
    }

    fn json(s: &str) -> Vec<serde_json::Value> {
        let l = load(s);
        assert!(l.error.is_none(), "{:?}", l.error);
        l.docs.iter().map(Node::to_json).collect()
    }

    #[test]
    fn yaml11_scalars_and_lines() {
        let l = load("a: yes\nb:\n  c: 0x10\n  d: \"on\"\n");
        let d = &l.docs[0];
        assert_eq!(d.get("a").unwrap().as_bool(), Some(true));
        assert_eq!(d.path(&["b", "c"]).unwrap().as_i64(), Some(16));
        assert_eq!(d.path(&["b", "d"]).unwrap().as_str(), Some("on"));
        assert_eq!(d.get("b").unwrap().key_line("d"), 4);
        assert_eq!(d.key_line("a"), 1);
    }

    #[test]
    fn tags() {
        assert_eq!(
            json("a: !!bool \"true\"\nb: !!str yes\n")[0],
            serde_json::json!({"a": true, "b": "yes"})
        );
        assert!(load("a: !custom x\n").error.is_some());
        assert!(load("a: !!bool 1\n").error.is_some());
        assert!(load("a: !!binary aGk=\n").error.is_some());
    }

    #[test]
    fn duplicate_keys_rejected() {
        let l = load("a: 1\nb: 2\na: 3\n");
        let e = l.error.unwrap();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("duplicate key `a`"));
        // `true` and `yes` are the same key after resolution.
        assert!(load("true: 1\nyes: 2\n").error.is_some());
    }

    #[test]
    fn merge_keys() {
        let v = json("base: &b {privileged: true, x: 1}\nc:\n  <<: *b\n  x: 2\n");
        assert_eq!(v[0]["c"], serde_json::json!({"privileged": true, "x": 2}));
        // Earlier maps in a merge list win.
        let v = json("a: &a {k: 1}\nb: &b {k: 2, j: 3}\nc:\n  <<: [*a, *b]\n");
        assert_eq!(v[0]["c"], serde_json::json!({"k": 1, "j": 3}));
        // A merge after an explicit key is ambiguous between tools.
        let l = load("a: &a {privileged: true}\nc:\n  privileged: false\n  <<: *a\n");
        assert!(l.error.unwrap().message.contains("overrides `privileged`"));
        // Quoted "<<" is an ordinary key.
        assert_eq!(json("\"<<\": 1\n")[0], serde_json::json!({"<<": 1}));
    }

    #[test]
    fn multi_document_and_empty() {
        let l = load("---\na: 1\n---\n# just a comment\n---\nb: 2\n...\n");
        assert!(l.error.is_none());
        let non_null: Vec<_> = l.docs.iter().filter(|d| !d.is_null()).collect();
        assert_eq!(non_null.len(), 2);
    }

    #[test]
    fn error_keeps_earlier_documents() {
        let l = load("a: 1\n---\nb: [unclosed\n");
        assert_eq!(l.docs.len(), 1);
        assert!(l.error.is_some());
    }

    #[test]
    fn alias_bomb_is_bounded() {
        let mut s = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..30 {
            s.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n",
                p = i - 1
            ));
        }
        let t = std::time::Instant::now();
        let l = load(&s);
        assert!(l.error.unwrap().message.contains("expands to more than"));
        assert!(t.elapsed().as_secs() < 5);
    }

    #[test]
    fn depth_is_bounded() {
        let s = "[".repeat(10_000);
        let l = load(&s);
        let e = l.error.unwrap();
        assert!(
            e.message.contains("nesting deeper") || e.message.contains("recursion limit"),
            "{e}"
        );
    }

    #[test]
    fn json_input() {
        let v = json("{\"kind\": \"Pod\", \"spec\": {\"hostNetwork\": true}}");
        assert_eq!(v[0]["spec"]["hostNetwork"], serde_json::json!(true));
    }
}
