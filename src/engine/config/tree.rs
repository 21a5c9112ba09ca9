//! A generic, position-carrying view of a config document, read through
//! serde-saphyr with the same options as the typed parse. The typed
//! [`Config`](super::Config) says *what* the values are; this tree says
//! *where* each key is (for error lines and key paths) and *which* keys the
//! author actually wrote (for the tighten-only org merge, where an absent key
//! must not be compared).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// One node with the 1-based line and column of where it is used.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Tree {
    /// The value.
    pub value: TVal,
    /// 1-based line (0 when serde-saphyr could not tell).
    pub line: u32,
    /// 1-based column.
    pub col: u32,
}

/// A mapping entry: the key text with its own position, and the value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TEntry {
    /// The key as text (scalars rendered; complex keys as `<complex key>`).
    pub key: String,
    /// 1-based line of the key.
    pub key_line: u32,
    /// 1-based column of the key.
    pub key_col: u32,
    /// The value.
    pub value: Tree,
}

/// The value of a [`Tree`] node.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum TVal {
    /// `null`, `~` or empty.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i128),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence.
    Seq(Vec<Tree>),
    /// A mapping, in document order.
    Map(Vec<TEntry>),
}

impl TVal {
    /// Name of the type for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            TVal::Null => "null",
            TVal::Bool(_) => "boolean",
            TVal::Int(_) => "integer",
            TVal::Float(_) => "number",
            TVal::Str(_) => "string",
            TVal::Seq(_) => "list",
            TVal::Map(_) => "mapping",
        }
    }
}

impl Tree {
    /// The entry for `key` when this is a mapping.
    pub fn entry(&self, key: &str) -> Option<&TEntry> {
        match &self.value {
            TVal::Map(es) => es.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    /// The entry at a key path (`["reviews", "required_approvals"]`).
    pub fn entry_at(&self, path: &[&str]) -> Option<&TEntry> {
        let (last, parents) = path.split_last()?;
        let mut cur = self;
        for k in parents {
            cur = &cur.entry(k)?.value;
        }
        cur.entry(last)
    }

    /// The value at a key path, if every key on it is present.
    pub fn at(&self, path: &[&str]) -> Option<&Tree> {
        self.entry_at(path).map(|e| &e.value)
    }

    /// Items when this is a sequence.
    pub fn items(&self) -> &[Tree] {
        match &self.value {
            TVal::Seq(v) => v,
            _ => &[],
        }
    }

    /// Finds the key path, key line and value node of the last key or value
    /// that starts at or before `(line, col)` in document order.
    /// serde-saphyr reports errors at the offending key (unknown field) or
    /// value (wrong type), so this recovers which key an error is about.
    pub fn locate(&self, line: u32, col: u32) -> Located<'_> {
        let mut best = Located {
            path: String::new(),
            key_line: 0,
            node: None,
            pos: (0, 0),
        };
        let mut path = Vec::new();
        self.locate_into((line, col), &mut path, &mut best);
        best
    }

    fn locate_into<'a>(
        &'a self,
        target: (u32, u32),
        path: &mut Vec<String>,
        best: &mut Located<'a>,
    ) {
        fn consider<'a>(
            best: &mut Located<'a>,
            target: (u32, u32),
            pos: (u32, u32),
            path: &[String],
            key_line: u32,
            node: &'a Tree,
        ) {
            if pos <= target && pos >= best.pos {
                *best = Located {
                    path: path.join("."),
                    key_line,
                    node: Some(node),
                    pos,
                };
            }
        }
        match &self.value {
            TVal::Map(es) => {
                for e in es {
                    path.push(e.key.clone());
                    consider(
                        best,
                        target,
                        (e.key_line, e.key_col),
                        path,
                        e.key_line,
                        &e.value,
                    );
                    if !matches!(e.value.value, TVal::Map(_) | TVal::Seq(_)) {
                        let pos = (e.value.line, e.value.col);
                        consider(best, target, pos, path, e.key_line, &e.value);
                    }
                    e.value.locate_into(target, path, best);
                    path.pop();
                }
            }
            TVal::Seq(items) => {
                for (i, it) in items.iter().enumerate() {
                    let last = path.pop().unwrap_or_default();
                    path.push(format!("{last}[{i}]"));
                    consider(best, target, (it.line, it.col), path, it.line, it);
                    it.locate_into(target, path, best);
                    path.pop();
                    path.push(last);
                }
            }
            _ => {}
        }
    }
}

/// Result of [`Tree::locate`].
#[derive(Debug)]
pub(crate) struct Located<'a> {
    /// Dotted key path (`reviews.required_approvals`, `push.branches[1]`).
    pub path: String,
    /// Line of the key (or list item); 0 when nothing was found.
    pub key_line: u32,
    /// The value node at that key or item.
    pub node: Option<&'a Tree>,
    pos: (u32, u32),
}

fn loc_u32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Spanned::<TVal>::deserialize(d)?;
        Ok(Tree {
            value: s.value,
            line: loc_u32(s.referenced.line()),
            col: loc_u32(s.referenced.column()),
        })
    }
}

/// A mapping key: any scalar, rendered as text.
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = TVal::deserialize(d)?;
        Ok(KeyText(match v {
            TVal::Null => "null".into(),
            TVal::Bool(b) => b.to_string(),
            TVal::Int(i) => i.to_string(),
            TVal::Float(f) => f.to_string(),
            TVal::Str(s) => s,
            TVal::Seq(_) | TVal::Map(_) => "<complex key>".into(),
        }))
    }
}

impl<'de> Deserialize<'de> for TVal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TValVisitor)
    }
}

struct TValVisitor;

impl<'de> Visitor<'de> for TValVisitor {
    type Value = TVal;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<TVal, E> {
        Ok(TVal::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<TVal, E> {
        Ok(TVal::Int(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<TVal, E> {
        Ok(TVal::Int(v.into()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<TVal, E> {
        Ok(TVal::Int(v))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<TVal, E> {
        Ok(i128::try_from(v).map_or(TVal::Float(v as f64), TVal::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<TVal, E> {
        Ok(TVal::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<TVal, E> {
        Ok(TVal::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<TVal, E> {
        Ok(TVal::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<TVal, E> {
        Ok(TVal::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<TVal, E> {
        Ok(TVal::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<TVal, E> {
        Ok(TVal::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<TVal, D::Error> {
        TVal::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TVal, A::Error> {
        let mut out = Vec::new();
        while let Some(t) = seq.next_element::<Tree>()? {
            out.push(t);
        }
        Ok(TVal::Seq(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TVal, A::Error> {
        let mut out = Vec::new();
        while let Some(k) = map.next_key::<Spanned<KeyText>>()? {
            let value = map.next_value::<Tree>()?;
            out.push(TEntry {
                key: k.value.0,
                key_line: loc_u32(k.referenced.line()),
                key_col: loc_u32(k.referenced.column()),
                value,
            });
        }
        Ok(TVal::Map(out))
    }
}
