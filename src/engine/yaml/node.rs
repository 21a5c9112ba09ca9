//! The loaded tree: JSON-like values where every node knows its line.

/// A position in the source file (1-based line and column).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
    /// Which file the position is in: 0 is the file the loader read; the
    /// kustomize renderer (`engine::render`) numbers the files a rendered
    /// object is assembled from (base, patch, kustomization) so that every
    /// value points at the file and line that introduced it.
    pub file: u32,
}

/// A loaded value, after YAML 1.1 resolution, alias and merge expansion.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `null`, `~`, empty.
    Null,
    /// A boolean (including YAML 1.1 `yes`/`no`/`on`/`off`/`y`/`n`).
    Bool(bool),
    /// An integer that fits `i64`.
    Int(i64),
    /// An integer above `i64::MAX` (go-yaml v2 gives `uint64`).
    UInt(u64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping with string keys (keys stringified as sigs.k8s.io/yaml does), in source order.
    Map(Vec<Entry>),
}

/// One mapping entry: the key's text and position, and the value.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The key, stringified the way sigs.k8s.io/yaml converts keys to JSON.
    pub key: String,
    /// Where the key is written (findings point here).
    pub key_span: Span,
    /// The value.
    pub value: Node,
}

/// A value with its position.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where the value starts.
    pub span: Span,
}

impl Node {
    /// A node at a position.
    pub fn new(value: Value, span: Span) -> Self {
        Self { value, span }
    }

    /// The entry for `key` if this is a mapping that has it.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    /// The value under `key` if this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// Follows a path of mapping keys.
    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        let mut cur = self;
        for k in keys {
            cur = cur.get(k)?;
        }
        Some(cur)
    }

    /// The line of `key` in this mapping, else this node's own line. Findings
    /// use it to point at the offending key.
    pub fn key_line(&self, key: &str) -> u32 {
        self.entry(key)
            .map(|e| e.key_span.line)
            .unwrap_or(self.span.line)
    }

    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if this is a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The integer, if this is an integer that fits `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match self.value {
            Value::Int(i) => Some(i),
            _ => None,
        }
    }

    /// The items, if this is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The entries, if this is a mapping.
    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// True for `null`.
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// A short name of the value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) | Value::UInt(_) => "integer",
            Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::Seq(_) => "list",
            Value::Map(_) => "mapping",
        }
    }

    /// Converts to `serde_json::Value` (the JSON the API server would see).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::UInt(u) => J::from(*u),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(J::Number)
                .unwrap_or(J::Null),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|e| (e.key.clone(), e.value.to_json()))
                    .collect(),
            ),
        }
    }

    /// Number of nodes in this subtree (used to budget alias expansion).
    pub fn count(&self) -> usize {
        1 + match &self.value {
            Value::Seq(items) => items.iter().map(Node::count).sum(),
            Value::Map(entries) => entries.iter().map(|e| e.value.count()).sum(),
            _ => 0,
        }
    }
}

impl Drop for Node {
    // Deep trees are bounded by `Limits::max_depth`, but drop iteratively
    // anyway so that no input can overflow the stack while being freed.
    // Recursion is allowed for the first `FREE_RECURSION` levels (no
    // allocation, which is the common case for manifests); anything deeper
    // is parked on an explicit stack.
    fn drop(&mut self) {
        if !matches!(self.value, Value::Seq(_) | Value::Map(_)) {
            return;
        }
        let value = std::mem::replace(&mut self.value, Value::Null);
        let mut deep: Vec<Value> = Vec::new();
        free(value, 0, &mut deep);
        while let Some(v) = deep.pop() {
            free(v, 0, &mut deep);
        }
    }
}

/// Levels freed by plain recursion before [`Node`]'s drop switches to its
/// explicit stack.
const FREE_RECURSION: usize = 32;

/// Frees `value`, recursing into nested collections up to
/// [`FREE_RECURSION`] levels and parking deeper ones on `deep`. Every child
/// is left as `Null` before it is dropped, so its own `Drop` does nothing.
fn free(value: Value, depth: usize, deep: &mut Vec<Value>) {
    let mut child = |v: &mut Value| {
        if matches!(v, Value::Seq(_) | Value::Map(_)) {
            let v = std::mem::replace(v, Value::Null);
            if depth < FREE_RECURSION {
                free(v, depth + 1, deep);
            } else {
                deep.push(v);
            }
        }
    };
    match value {
        Value::Seq(mut items) => items.iter_mut().for_each(|n| child(&mut n.value)),
        Value::Map(mut entries) => entries.iter_mut().for_each(|e| child(&mut e.value.value)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tree far deeper than the loader allows (other code may build
    /// nodes too) must be freed without overflowing the stack.
    #[test]
    fn dropping_a_very_deep_tree_does_not_overflow() {
        let at = Span::default();
        let mut node = Node::new(Value::Str("leaf".into()), at);
        for i in 0..200_000 {
            node = if i % 2 == 0 {
                Node::new(Value::Seq(vec![node, Node::new(Value::Int(1), at)]), at)
            } else {
                Node::new(
                    Value::Map(vec![Entry {
                        key: "k".into(),
                        key_span: at,
                        value: node,
                    }]),
                    at,
                )
            };
        }
        // Run on a small stack so that recursion per level would fail.
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || drop(node))
            .unwrap()
            .join()
            .unwrap();
    }
}
