//! `configMapGenerator` / `secretGenerator` (kustomize's
//! `api/internal/generators`, `api/kv`) and the content hash kustomize
//! appends to generated names (`api/hasher`).

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::engine::yaml::{Entry, Node, Span, Value};

use super::resource::{Behavior, Resource, str_node};

/// Generator options (`generatorOptions` or a generator's `options`).
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Labels to add.
    pub labels: BTreeMap<String, String>,
    /// Annotations to add.
    pub annotations: BTreeMap<String, String>,
    /// No hash suffix.
    pub disable_hash: bool,
    /// `immutable: true`.
    pub immutable: bool,
}

impl Options {
    /// kustomize's `MergeGlobalOptionsIntoLocal`: the global options win.
    pub fn merged_with(&self, global: Option<&Options>) -> Options {
        let mut o = self.clone();
        if let Some(g) = global {
            o.labels.extend(g.labels.clone());
            o.annotations.extend(g.annotations.clone());
            o.disable_hash |= g.disable_hash;
            o.immutable |= g.immutable;
        }
        o
    }
}

/// One generator entry.
#[derive(Clone, Debug)]
pub struct Generator {
    /// `ConfigMap` or `Secret`.
    pub kind: &'static str,
    /// Name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// Behaviour.
    pub behavior: Behavior,
    /// `envs` (and legacy `env`) file paths.
    pub envs: Vec<String>,
    /// `literals`.
    pub literals: Vec<String>,
    /// `files`.
    pub files: Vec<String>,
    /// Secret `type`.
    pub secret_type: String,
    /// Options (merged with the global ones).
    pub options: Options,
    /// Where the entry is.
    pub span: Span,
}

/// kustomize's `removeQuotes` on literal values.
fn remove_quotes(s: &str) -> &str {
    let b = s.as_bytes();
    if b.len() >= 2 && b[0] == b[b.len() - 1] && (b[0] == b'"' || b[0] == b'\'') {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

/// Key/value pairs from an env file (kustomize's `keyValuesFromLines`).
fn env_pairs(content: &[u8], file: &str) -> Result<Vec<(String, String)>, String> {
    let text = std::str::from_utf8(content).map_err(|_| format!("{file}: invalid UTF-8"))?;
    let mut out = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let line = if i == 0 {
            line.trim_start_matches('\u{feff}')
        } else {
            line
        };
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (k, v) = line.split_once('=').unwrap_or((line, ""));
        if k.is_empty()
            || k.chars().next().is_some_and(|c| c.is_ascii_digit())
            || !k
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        {
            return Err(format!(
                "{file}:{}: `{k}` is not a valid environment variable name",
                i + 1
            ));
        }
        out.push((k.to_owned(), v.to_owned()));
    }
    Ok(out)
}

/// kustomize's `ParseFileSource`: `[key=]path`.
pub fn file_source(s: &str) -> Result<(String, String), String> {
    match s.matches('=').count() {
        0 => Ok((s.rsplit('/').next().unwrap_or(s).to_owned(), s.to_owned())),
        1 if s.starts_with('=') => Err(format!("missing key name for file path in source {s:?}")),
        1 if s.ends_with('=') => Err(format!("missing file path for key name in source {s:?}")),
        1 => {
            let (k, p) = s.split_once('=').expect("one =");
            Ok((k.to_owned(), p.to_owned()))
        }
        _ => Err(format!("source {s:?} key name or file path contains '='")),
    }
}

/// Go's `base64.StdEncoding` split into 70-character lines, as kyaml's
/// `encodeBase64` writes Secret data.
fn encode_base64(data: &[u8]) -> String {
    use base64::Engine;
    let enc = base64::engine::general_purpose::STANDARD.encode(data);
    let lines = enc.len() / 70 + 1;
    if lines <= 1 {
        return enc;
    }
    let mut out = String::new();
    for chunk in enc.as_bytes().chunks(70) {
        out.push_str(std::str::from_utf8(chunk).expect("ascii"));
        out.push('\n');
    }
    out
}

/// Builds the generated object. `load` reads a file named relative to the
/// kustomization (with kustomize's load restrictions).
pub fn generate(
    g: &Generator,
    load: &mut dyn FnMut(&str) -> Result<Vec<u8>, String>,
) -> Result<Resource, String> {
    if g.name.is_empty() {
        return Err(format!("a {} generator must have a name", g.kind));
    }
    let mut pairs: Vec<(String, Vec<u8>)> = Vec::new();
    for e in &g.envs {
        for (k, v) in env_pairs(&load(e)?, e)? {
            pairs.push((k, v.into_bytes()));
        }
    }
    for l in &g.literals {
        match l.split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                pairs.push((k.to_owned(), remove_quotes(v).as_bytes().to_vec()))
            }
            _ => return Err(format!("invalid literal source {l}, expected key=value")),
        }
    }
    for f in &g.files {
        let (k, p) = file_source(f)?;
        pairs.push((k, load(&p)?));
    }
    let mut data: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for (k, v) in pairs {
        if k.is_empty()
            || !k
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        {
            return Err(format!("{k:?} is not a valid key name for a {}", g.kind));
        }
        if data.insert(k.clone(), v).is_some() {
            return Err(format!(
                "{} {} illegally repeats the key `{k}`",
                g.kind.to_lowercase(),
                g.name
            ));
        }
    }
    let sp = g.span;
    let entry = |k: &str, v: Node| Entry {
        key: k.to_owned(),
        key_span: sp,
        value: v,
    };
    let mut meta = vec![entry("name", str_node(&g.name, sp))];
    if !g.namespace.is_empty() {
        meta.push(entry("namespace", str_node(&g.namespace, sp)));
    }
    let strmap = |m: &BTreeMap<String, String>| {
        Node::new(
            Value::Map(m.iter().map(|(k, v)| entry(k, str_node(v, sp))).collect()),
            sp,
        )
    };
    if !g.options.labels.is_empty() {
        meta.push(entry("labels", strmap(&g.options.labels)));
    }
    if !g.options.annotations.is_empty() {
        meta.push(entry("annotations", strmap(&g.options.annotations)));
    }
    let mut top = vec![
        entry("apiVersion", str_node("v1", sp)),
        entry("kind", str_node(g.kind, sp)),
        entry("metadata", Node::new(Value::Map(meta), sp)),
    ];
    if g.kind == "Secret" {
        let t = if g.secret_type.is_empty() {
            "Opaque"
        } else {
            &g.secret_type
        };
        top.push(entry("type", str_node(t, sp)));
        let d = data
            .iter()
            .map(|(k, v)| entry(k, str_node(&encode_base64(v), sp)))
            .collect();
        top.push(entry("data", Node::new(Value::Map(d), sp)));
    } else {
        let (mut text, mut bin) = (Vec::new(), Vec::new());
        for (k, v) in &data {
            match std::str::from_utf8(v) {
                Ok(s) => text.push(entry(k, str_node(s, sp))),
                Err(_) => bin.push(entry(k, str_node(&encode_base64(v), sp))),
            }
        }
        if !text.is_empty() {
            top.push(entry("data", Node::new(Value::Map(text), sp)));
        }
        if !bin.is_empty() {
            top.push(entry("binaryData", Node::new(Value::Map(bin), sp)));
        }
    }
    if g.options.immutable {
        top.push(entry("immutable", Node::new(Value::Bool(true), sp)));
    }
    let mut r = Resource::new(Node::new(Value::Map(top), sp));
    r.needs_hash = !g.options.disable_hash;
    r.behavior = Some(g.behavior);
    Ok(r)
}

/// Go's `encoding/json` string escaping (HTML-safe, as `json.Marshal`).
fn go_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Go's `json.Marshal` of a JSON value: map keys sorted, compact.
fn go_json(v: &serde_json::Value, out: &mut String) {
    use serde_json::Value as J;
    match v {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Number(n) => out.push_str(&n.to_string()),
        J::String(s) => go_string(s, out),
        J::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json(x, out);
            }
            out.push(']');
        }
        J::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_string(k, out);
                out.push(':');
                go_json(&m[*k], out);
            }
            out.push('}');
        }
    }
}

/// kustomize's `hasher.encode(hex256(...))`.
fn encode_hash(data: &str) -> String {
    let hex = hex::encode(Sha256::digest(data.as_bytes()));
    hex[..10]
        .chars()
        .map(|c| match c {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            c => c,
        })
        .collect()
}

/// The hash kustomize appends to a generated ConfigMap's or Secret's name.
pub fn hash(node: &Node) -> String {
    use serde_json::Value as J;
    let field = |k: &str| -> J {
        match node.get(k) {
            None => J::String(String::new()),
            Some(v) => match v.to_json() {
                J::Null => J::String(String::new()),
                J::Bool(b) => J::String(b.to_string()),
                J::Number(n) => J::String(n.to_string()),
                other => other,
            },
        }
    };
    // kustomize looks the name up as `yaml.Lookup("metadata/name")`: one
    // field literally called `metadata/name`, which no object has, so the
    // name in the hashed document is always empty (and a prefix does not
    // change the hash).
    let name = field("metadata/name");
    let kind = node.get("kind").and_then(Node::as_str).unwrap_or("");
    let mut m = serde_json::Map::new();
    m.insert("kind".into(), J::String(kind.to_owned()));
    m.insert("name".into(), name);
    m.insert("data".into(), field("data"));
    match kind {
        "ConfigMap" => {
            if let J::Object(_) = field("binaryData") {
                m.insert("binaryData".into(), field("binaryData"));
            }
        }
        "Secret" => {
            m.insert("type".into(), field("type"));
            if let J::Object(_) = field("stringData") {
                m.insert("stringData".into(), field("stringData"));
            }
        }
        _ => {
            let mut out = String::new();
            go_json(&node.to_json(), &mut out);
            return encode_hash(&out);
        }
    }
    let mut out = String::new();
    go_json(&J::Object(m), &mut out);
    encode_hash(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(s: &str) -> Node {
        let l = crate::engine::yaml::load_documents(s, &Default::default());
        l.docs.into_iter().next().expect("one document")
    }

    /// The cases of kustomize's api/hasher/hasher_test.go (TestConfigMapHash,
    /// TestSecretHash), with their expected hashes.
    #[test]
    fn hashes_match_kustomize() {
        let cm = "apiVersion: v1\nkind: ConfigMap\n";
        let sec = "apiVersion: v1\nkind: Secret\ntype: my-type\n";
        let cases = [
            (cm.to_owned(), "6ct58987ht"),
            (format!("{cm}data:\n  one: \"\"\n"), "9g67k2htb6"),
            (
                format!("{cm}data:\n  two: 2\n  one: \"\"\n  three: 3\n"),
                "7757f9kkct",
            ),
            (format!("{cm}binaryData:\n  one: \"\"\n"), "6mtk2m274t"),
            (
                format!("{cm}binaryData:\n  two: 2\n  one: \"\"\n  three: 3\n"),
                "9th7kc28dg",
            ),
            (
                format!("{cm}data:\n  one: \"\"\nbinaryData:\n  two: \"\"\n"),
                "698h7c7t9m",
            ),
            (sec.to_owned(), "5gmgkf8578"),
            (format!("{sec}data:\n  one: \"\"\n"), "74bd68bm66"),
            (
                format!("{sec}data:\n  two: 2\n  one: \"\"\n  three: 3\n"),
                "4gf75c7476",
            ),
            (
                format!("{sec}data:\n  one: \"\"\nstringData:\n  two: 2\n"),
                "c4h4264gdb",
            ),
        ];
        for (y, want) in cases {
            assert_eq!(hash(&load(&y)), want, "{y}");
        }
    }

    #[test]
    fn long_secret_values_wrap_at_70_columns_as_kyaml() {
        let v = encode_base64(&[b'x'; 60]);
        assert_eq!(v.lines().next().map(str::len), Some(70));
        assert!(v.ends_with('\n'));
        assert_eq!(encode_base64(b"ab"), "YWI=");
    }
}
