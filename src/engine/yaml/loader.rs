//! Builds [`Node`] trees from saphyr-parser events, with go-yaml v2 semantics
//! and hard limits.
//!
//! Why our own builder: saphyr's tree loader deep-clones aliases without any
//! limit (saphyr#109) and knows nothing of merge keys or YAML 1.1 scalars.
//! Here every alias expansion is charged against [`Limits::max_nodes`] before
//! it is copied, so an alias bomb fails fast in bounded memory.
//!
//! The layers, in order: up-front checks on the text that libyaml's reader
//! makes and saphyr does not ([`check_printable`], a leading `...`); the
//! parse itself, with [`check_source`] looking at the source text behind
//! events where saphyr's YAML 1.2 reading can differ from libyaml's; and,
//! when saphyr refuses something libyaml reads, a bounded re-parse after the
//! minimal repair from [`repair_for`].

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Tag};

use super::Limits;
use super::node::{Entry, Node, Span, Value};
use super::scalar::{ScalarTag, key_string, resolve_plain_cow, resolve_tagged};

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

/// Most times a file is re-parsed after repairing a spot where saphyr is
/// stricter than go-yaml (see [`repair_for`]), and the most bytes all those
/// parses may read together: repairs must not become a way to burn CPU.
const MAX_REPAIRS: usize = 32;
const REPAIR_BUDGET_BYTES: usize = 64 << 20;

/// Stand-in for a byte order mark inside the stream while saphyr parses it.
/// go-yaml keeps such a BOM as content; saphyr refuses it. U+FFFE has the
/// same UTF-8 length (so every position stays put), and go-yaml refuses it
/// in input, so a file that really contains it was rejected before.
const BOM_STAND_IN: char = '\u{fffe}';

/// Reads every YAML document of `text`.
pub fn load_documents(text: &str, limits: &Limits) -> Loaded {
    let fail = |error: LoadError| Loaded {
        docs: Vec::new(),
        error: Some(error),
    };
    if text.len() > limits.max_bytes {
        return fail(LoadError {
            line: 1,
            col: 1,
            message: format!(
                "file is {} bytes, over the limit of {} bytes",
                text.len(),
                limits.max_bytes
            ),
        });
    }
    // Nearly every manifest is plain ASCII: then there is nothing for
    // `check_printable` to find, no byte order mark, and no character
    // index to map, all decided by this one pass.
    let simple = plain_ascii(text);
    if !simple && let Some(e) = check_printable(text) {
        return fail(e);
    }
    if let Some(e) = check_leading_document_end(text) {
        return fail(e);
    }
    let body = text
        .strip_prefix('\u{feff}')
        .map_or(0, |_| '\u{feff}'.len_utf8());
    let inner_bom = !simple && text[body..].contains('\u{feff}');
    let mut owned: Option<String> = inner_bom.then(|| {
        let mut s = String::with_capacity(text.len());
        s.push_str(&text[..body]);
        s.extend(
            text[body..]
                .chars()
                .map(|c| if c == '\u{feff}' { BOM_STAND_IN } else { c }),
        );
        s
    });
    let mut repairs = 0;
    let mut work = 0;
    loop {
        let cur = owned.as_deref().unwrap_or(text);
        work += cur.len();
        // A repair may change the text, so only the original keeps `simple`.
        let (loaded, repair) = parse(cur, limits, inner_bom, owned.is_none() && simple);
        match repair {
            Some((range, with))
                if repairs < MAX_REPAIRS && work + cur.len() <= REPAIR_BUDGET_BYTES =>
            {
                let mut next = cur.to_owned();
                next.replace_range(range, with);
                owned = Some(next);
                repairs += 1;
            }
            _ => return loaded,
        }
    }
}

/// True when every byte is printable ASCII, tab, LF or CR. Checked in
/// blocks without early exit so that the compiler can vectorise it.
fn plain_ascii(text: &str) -> bool {
    let good = |b: u8| (0x20..0x7f).contains(&b) | (b == b'\t') | (b == b'\n') | (b == b'\r');
    text.as_bytes()
        .chunks(64)
        .all(|block| block.iter().fold(true, |ok, &b| ok & good(b)))
}

/// go-yaml's reader refuses characters outside YAML's printable set before
/// it parses anything (saphyr lets most of them through).
fn check_printable(text: &str) -> Option<LoadError> {
    let ok = |c: char| {
        matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
            || c >= '\u{10000}'
    };
    let (mut line, mut col) = (1u32, 1u32);
    for c in text.chars() {
        if !ok(c) {
            return Some(LoadError {
                line,
                col,
                message: format!(
                    "control character U+{:04X} is not allowed in YAML (Kubernetes' reader refuses the file)",
                    c as u32
                ),
            });
        }
        if c == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    None
}

/// go-yaml refuses a stream whose first marker is `...` (a document end
/// before any document); saphyr ignores it.
fn check_leading_document_end(text: &str) -> Option<LoadError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start_matches([' ', '\t']);
        if t.is_empty() || t.starts_with('#') || line.starts_with('%') {
            continue;
        }
        let is_end = line
            .strip_prefix("...")
            .is_some_and(|r| r.is_empty() || r.starts_with([' ', '\t', '\r']));
        return is_end.then(|| LoadError {
            line: i as u32 + 1,
            col: 1,
            message: "document end marker `...` before any document".into(),
        });
    }
    None
}

/// Maps saphyr's character indices to byte offsets, cheaply for the
/// mostly-forward order in which events arrive.
struct Source<'t> {
    text: &'t str,
    ascii: bool,
    chars: usize,
    bytes: usize,
}

impl<'t> Source<'t> {
    /// `known_ascii`: the caller already knows `text` is ASCII (else it is checked).
    fn new(text: &'t str, known_ascii: bool) -> Self {
        Self {
            text,
            ascii: known_ascii || text.is_ascii(),
            chars: 0,
            bytes: 0,
        }
    }

    /// The text from character index `ci` on.
    fn from(&mut self, ci: usize) -> &'t str {
        if self.ascii {
            return self.text.get(ci..).unwrap_or("");
        }
        while self.chars < ci {
            let Some(c) = self.text[self.bytes..].chars().next() else {
                break;
            };
            self.bytes += c.len_utf8();
            self.chars += 1;
        }
        while self.chars > ci {
            let Some(c) = self.text[..self.bytes].chars().next_back() else {
                break;
            };
            self.bytes -= c.len_utf8();
            self.chars -= 1;
        }
        &self.text[self.bytes..]
    }
}

/// One parse of the (possibly repaired) text. On a saphyr error that go-yaml
/// would not raise, also returns the repair to try.
fn parse(
    text: &str,
    limits: &Limits,
    restore_bom: bool,
    known_ascii: bool,
) -> (Loaded, Option<(std::ops::Range<usize>, &'static str)>) {
    let mut out = Loaded::default();
    let mut src = Source::new(text, known_ascii);
    let mut b = Builder::new(limits, restore_bom);
    let mut parser = Parser::new_from_str(text);
    let mut documents_started = 0usize;
    // Per open collection: is it in flow style (or inside one)?
    let mut flow: Vec<bool> = Vec::new();
    while let Some(ev) = parser.next_event() {
        let (event, span) = match ev {
            Ok(ev) => ev,
            Err(e) => {
                out.error = Some(LoadError {
                    line: e.marker().line().max(1) as u32,
                    col: e.marker().col() as u32 + 1,
                    message: e.info().to_owned(),
                });
                let repair = repair_for(&e, &mut src);
                return (out, repair);
            }
        };
        let at = Span {
            line: span.start.line() as u32,
            col: span.start.col() as u32 + 1,
            file: 0,
        };
        let mut result = check_source(&event, span, &mut src, &mut flow);
        if let (Ok(()), Event::DocumentStart(explicit)) = (&result, &event) {
            // libyaml lets only the first document start without `---`.
            if !explicit && documents_started > 0 {
                result = Err("a document after `...` must start with `---`".into());
            }
            documents_started += 1;
        }
        if matches!(event, Event::DocumentStart(_)) && out.docs.len() >= limits.max_documents {
            // Stop before reading one more document.
            out.error = Some(LoadError {
                line: at.line.max(1),
                col: at.col,
                message: format!("more than {} documents in one file", limits.max_documents),
            });
            return (out, None);
        }
        match result.and_then(|()| b.event(event, at)) {
            Ok(Some(doc)) => out.docs.push(doc),
            Ok(None) => {}
            Err(message) => {
                out.error = Some(LoadError {
                    line: at.line.max(1),
                    col: at.col,
                    message,
                });
                return (out, None);
            }
        }
    }
    (out, None)
}

/// libyaml's anchor characters: ASCII letters, digits, `_` and `-`.
fn is_anchor_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Checks, on the source text, what saphyr accepts but go-yaml refuses:
/// anchor and alias names outside libyaml's alphabet, and the `\/` escape
/// (YAML 1.2 only).
fn check_source(
    event: &Event<'_>,
    span: saphyr_parser::Span,
    src: &mut Source<'_>,
    flow: &mut Vec<bool>,
) -> Result<(), String> {
    let in_flow = flow.last().copied().unwrap_or(false);
    let (anchored, quoted) = match event {
        Event::Alias(_) => (true, false),
        Event::Scalar(v, style, anchor, _) => {
            if in_flow && *style == ScalarStyle::Plain {
                check_flow_plain(v, span, src)?;
            }
            (
                *anchor != 0,
                *style == ScalarStyle::DoubleQuoted && v.contains('/'),
            )
        }
        Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
            let opens_flow = skip_properties(src.from(span.start.index())).starts_with(['[', '{']);
            flow.push(in_flow || opens_flow);
            (*anchor != 0, false)
        }
        Event::SequenceEnd | Event::MappingEnd => {
            flow.pop();
            (false, false)
        }
        _ => (false, false),
    };
    if !anchored && !quoted {
        return Ok(());
    }
    let rest = src.from(span.start.index());
    let len = span.end.index().saturating_sub(span.start.index());
    if anchored {
        // Node properties may come in either order: skip a tag first.
        let mut r = rest;
        if r.starts_with('!') {
            r = r.trim_start_matches(|c: char| !c.is_whitespace());
            r = r.trim_start();
        }
        if let Some(name) = r.strip_prefix(['&', '*']) {
            let end = name
                .find(|c: char| c.is_whitespace() || matches!(c, ',' | '[' | ']' | '{' | '}'))
                .unwrap_or(name.len());
            let (name, after) = name.split_at(end);
            if name.is_empty() || !name.chars().all(is_anchor_char) || after.starts_with(['[', '{'])
            {
                return Err(format!(
                    "anchor or alias name `{name}`: Kubernetes' YAML reader allows only ASCII \
                     letters, digits, `_` and `-` there"
                ));
            }
        }
    }
    if quoted {
        let raw = rest.find('"').map_or("", |q| &rest[q + 1..]);
        let mut chars = raw.chars().take(len);
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' if chars.next() == Some('/') => {
                    return Err("unknown escape `\\/` in a double-quoted string \
                                (Kubernetes reads YAML 1.1, which has no `\\/`)"
                        .into());
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// The text after a node's properties (tag, anchor) and blanks.
fn skip_properties(mut r: &str) -> &str {
    // Most collections start right at their first key or item: nothing to
    // skip (the loop below would leave such a text unchanged).
    if r.chars()
        .next()
        .is_some_and(|c| !c.is_whitespace() && c != '!' && c != '&')
    {
        return r;
    }
    for _ in 0..2 {
        r = r.trim_start();
        if r.starts_with(['!', '&']) {
            r = r.trim_start_matches(|c: char| !c.is_whitespace() && !matches!(c, '[' | '{'));
        }
    }
    r.trim_start()
}

/// Plain scalars inside flow collections are where YAML 1.1 (libyaml, so
/// Kubernetes) and YAML 1.2 (saphyr) split text differently: libyaml ends a
/// plain scalar at `?` and treats a leading `?`/`:` as indicators, and it
/// keeps a `:` that is followed by `,]}` inside the scalar (`{x:}` has the
/// key `x:`), where saphyr reads a key `x`. Each of these is refused rather
/// than read the 1.2 way.
fn check_flow_plain(
    v: &str,
    span: saphyr_parser::Span,
    src: &mut Source<'_>,
) -> Result<(), String> {
    let mut after_colon = || {
        let after = src.from(span.end.index());
        after.starts_with(':') && after[1..].starts_with([',', '[', ']', '{', '}'])
    };
    if v.contains('?') || v.starts_with([':', '|', '>']) || after_colon() {
        return Err(format!(
            "plain scalar `{v}` in a flow collection is read differently by YAML 1.1 \
             (Kubernetes) and YAML 1.2 readers; quote it"
        ));
    }
    Ok(())
}

/// Where saphyr rejects what go-yaml accepts, the smallest edit that makes
/// saphyr read it as go-yaml does:
/// - a tab separating `:` from a value (`key:\tvalue`) becomes a space;
/// - the escape `\'` (libyaml accepts it in double quotes) becomes `\x27`;
/// - a lone `-` in a flow collection (libyaml: the string "-") becomes `"-"`;
/// - an alias key written `*a:` gets a space before the `:`.
fn repair_for(
    e: &saphyr_parser::ScanError,
    src: &mut Source<'_>,
) -> Option<(std::ops::Range<usize>, &'static str)> {
    let base = src.text.len() - src.from(e.marker().index()).len();
    let info = e.info();
    if info.contains("':' must be followed by a valid YAML whitespace") {
        // The marker is just past the blanks that follow the ':'.
        let before = &src.text[..base];
        let blanks = before.len() - before.trim_end_matches([' ', '\t']).len();
        let start = base - blanks;
        if blanks > 0 && before[..start].ends_with(':') {
            let tab = before[start..].find('\t')? + start;
            return Some((tab..tab + 1, " "));
        }
    } else if info.contains("unknown anchor") {
        // `*a: v`: YAML 1.2 lets `:` into alias names, libyaml ends the name
        // at the first character outside its alphabet, so the alias is `a`
        // and `:` the value indicator. A space makes saphyr read it so.
        let rest = &src.text[base..];
        let name = rest.strip_prefix('*')?;
        let len = name
            .find(|c: char| !is_anchor_char(c))
            .unwrap_or(name.len());
        let after = &name[len..];
        if len > 0
            && after.starts_with(':')
            && (after.len() == 1 || after[1..].starts_with([' ', '\t', '\r', '\n', ',', ']', '}']))
        {
            let at = base + 1 + len;
            return Some((at..at, " "));
        }
    } else if info.contains("plain scalar cannot start with '-' followed by") {
        // `[-]`: libyaml reads the plain scalar "-", which resolves to the
        // string "-" exactly as the quoted `"-"` does.
        let rest = &src.text[base..];
        if rest.starts_with('-') && rest[1..].starts_with([',', '[', ']', '{', '}']) {
            return Some((base..base + 1, "\"-\""));
        }
    } else if info.contains("unknown escape character") {
        let rest = &src.text[base..];
        let q = rest.find('"')?;
        let mut it = rest[q + 1..].char_indices();
        while let Some((i, c)) = it.next() {
            match c {
                '"' => return None,
                '\\' => match it.next() {
                    Some((_, '\'')) => {
                        let at = base + q + 1 + i;
                        return Some((at..at + 2, "\\x27"));
                    }
                    Some((_, c)) if "0abt\tnvfre \"/\\N_LPxuU\r\n".contains(c) => {}
                    _ => return None,
                },
                _ => {}
            }
        }
    }
    None
}

/// A mapping under construction.
struct MapFrame {
    entries: Vec<Entry>,
    /// Per entry: set by an explicit key (true) or by a merge (false).
    /// `None` until the first merge: before it, every entry is explicit
    /// (merges are rare, so most mappings never pay for this).
    explicit: Option<Vec<bool>>,
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
        match &mut self.explicit {
            Some(flags) => flags.push(explicit),
            None if explicit => {}
            None => {
                let mut flags = vec![true; self.entries.len()];
                flags[self.entries.len() - 1] = false;
                self.explicit = Some(flags);
            }
        }
    }

    /// Was entry `i` set by an explicit key (rather than a merge)?
    fn is_explicit(&self, i: usize) -> bool {
        self.explicit.as_ref().is_none_or(|flags| flags[i])
    }

    /// An explicit `key: value`. A repeated key is ambiguous (kubectl rejects
    /// it, the API server keeps the last, a first-wins checker keeps the
    /// first), so it is an error. Overriding a merged key is normal YAML.
    fn set_explicit(&mut self, key: String, key_span: Span, value: Node) -> Result<(), String> {
        match self.find(&key) {
            Some(i) if self.is_explicit(i) => Err(format!(
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
                if let Some(flags) = &mut self.explicit {
                    flags[i] = true;
                }
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
                Some(i) if self.is_explicit(i) => {
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
        /// go-yaml decode operations for this node (see [`AliasRatio`]).
        cost: u64,
        /// The value of a `<<` key: go-yaml decodes its items last-to-first.
        merge_list: bool,
    },
    Map {
        map: MapFrame,
        span: Span,
        anchor: usize,
        cost: u64,
    },
}

/// An anchored node, ready to be copied by its aliases.
struct Anchored {
    node: Node,
    /// Our node count (charged against `Limits::max_nodes` per alias).
    count: usize,
    /// go-yaml's decode operations for one copy.
    cost: u64,
}

/// go-yaml v2's own alias-bomb guard (`decode.go`): every node decoded
/// counts one operation (keys too, merge keys not), and every operation
/// inside an alias expansion also counts as aliased. A document is refused
/// ("excessive aliasing") as soon as more than 100 aliased operations make
/// up more than `allowedAliasRatio` of over 1000 operations. The cluster
/// refuses such documents, so we do too — at the same point, which means
/// replaying go-yaml's decode order: document order, except that the maps
/// of a `<<: [a, b]` list are decoded last-to-first.
#[derive(Default)]
struct AliasRatio {
    decode: u64,
    aliased: u64,
    /// One buffer per open merge list, holding each item's steps.
    merge_lists: Vec<MergeList>,
}

#[derive(Default)]
struct MergeList {
    items: Vec<Vec<Step>>,
    current: Vec<Step>,
}

#[derive(Clone, Copy)]
enum Step {
    /// `n` nodes decoded outside any alias.
    Plain(u64),
    /// A whole alias expansion of this many operations.
    Alias(u64),
}

impl AliasRatio {
    /// Counts one decode step. Nearly every step is a plain node outside
    /// merge lists while at most 100 operations are aliased, where `check`
    /// cannot fail: that case is a single addition.
    #[inline(always)]
    fn step(&mut self, s: Step) -> Result<(), String> {
        match s {
            Step::Plain(n) if self.aliased <= 100 && self.merge_lists.is_empty() => {
                self.decode = self.decode.saturating_add(n);
                Ok(())
            }
            _ => self.step_slow(s),
        }
    }

    #[inline(never)]
    fn step_slow(&mut self, s: Step) -> Result<(), String> {
        if let Some(list) = self.merge_lists.last_mut() {
            match (list.current.last_mut(), s) {
                (Some(Step::Plain(n)), Step::Plain(m)) => *n += m,
                _ => list.current.push(s),
            }
            return Ok(());
        }
        // Outside merge lists, `step` handled plain steps while at most 100
        // operations are aliased; from here on `check` can fail on any one.
        match s {
            Step::Plain(n) => {
                for _ in 0..n {
                    self.decode += 1;
                    self.check()?;
                }
                Ok(())
            }
            // Within one expansion the aliased share only grows and the
            // allowance only shrinks, so checking at its end is exact.
            Step::Alias(c) => {
                self.decode = self.decode.saturating_add(c);
                self.aliased = self.aliased.saturating_add(c);
                self.check()
            }
        }
    }

    fn check(&self) -> Result<(), String> {
        let allowed = match self.decode {
            d if d <= 400_000 => 0.99,
            d if d >= 4_000_000 => 0.10,
            d => 0.99 - 0.89 * ((d - 400_000) as f64 / 3_600_000.0),
        };
        if self.aliased > 100
            && self.decode > 1000
            && self.aliased as f64 / self.decode as f64 > allowed
        {
            return Err(format!(
                "document contains excessive aliasing ({} of {} nodes come from aliases); \
                 Kubernetes' YAML reader refuses it",
                self.aliased, self.decode
            ));
        }
        Ok(())
    }

    fn item_done(&mut self) {
        if let Some(list) = self.merge_lists.last_mut() {
            let steps = std::mem::take(&mut list.current);
            list.items.push(steps);
        }
    }

    fn close_merge_list(&mut self) -> Result<(), String> {
        let Some(list) = self.merge_lists.pop() else {
            return Ok(());
        };
        for item in list.items.into_iter().rev() {
            for s in item {
                self.step(s)?;
            }
        }
        for s in list.current {
            self.step(s)?;
        }
        Ok(())
    }
}

struct Builder<'l> {
    limits: &'l Limits,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Anchored>,
    nodes: usize,
    root: Option<Node>,
    /// Scalars may hold [`BOM_STAND_IN`], to be turned back into U+FEFF.
    restore_bom: bool,
    ratio: AliasRatio,
}

impl<'l> Builder<'l> {
    fn new(limits: &'l Limits, restore_bom: bool) -> Self {
        Self {
            limits,
            stack: Vec::new(),
            anchors: HashMap::new(),
            nodes: 0,
            root: None,
            restore_bom,
            ratio: AliasRatio::default(),
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
                // Anchors and go-yaml's alias accounting are per document.
                self.anchors.clear();
                self.root = None;
                self.ratio = AliasRatio::default();
                self.ratio.step(Step::Plain(1))?;
                Ok(None)
            }
            Event::DocumentEnd => Ok(Some(
                self.root
                    .take()
                    .unwrap_or_else(|| Node::new(Value::Null, at)),
            )),
            Event::Alias(id) => {
                let Some((count, cost)) = self.anchors.get(&id).map(|a| (a.count, a.cost)) else {
                    return Err(
                        "alias refers to an anchor that is not defined yet (or to itself)".into(),
                    );
                };
                self.ratio.step(Step::Plain(1))?;
                self.ratio.step(Step::Alias(cost))?;
                self.charge(count)?;
                let node = self.anchors[&id].node.clone();
                self.finish(node, 0, true, cost.saturating_add(1))
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.charge(1)?;
                let text = if self.restore_bom && text.contains(BOM_STAND_IN) {
                    Cow::Owned(text.replace(BOM_STAND_IN, "\u{feff}"))
                } else {
                    text
                };
                // go-yaml's `isMerge`: the text `<<`, plain and untagged, or
                // tagged `!!merge`, or with the non-specific tag `!`.
                let merge_key = self.expecting_key()
                    && text == "<<"
                    && match tag.as_deref() {
                        None => style == ScalarStyle::Plain,
                        Some(t) => matches!(
                            tag_kind(t),
                            Some(TagKind::Scalar(ScalarTag::Merge) | TagKind::NonSpecific)
                        ),
                    };
                if merge_key {
                    if anchor != 0 {
                        // An alias to a merge key is just the text `<<`.
                        self.anchors.insert(
                            anchor,
                            Anchored {
                                node: Node::new(Value::Str("<<".into()), at),
                                count: 1,
                                cost: 1,
                            },
                        );
                    }
                    if let Some(Frame::Map { map, .. }) = self.stack.last_mut() {
                        map.pending = Some(PendingKey::Merge(at));
                    }
                    return Ok(None);
                }
                self.ratio.step(Step::Plain(1))?;
                let value = match tag.as_deref() {
                    None if style == ScalarStyle::Plain => resolve_plain_cow(text),
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
                self.finish(Node::new(value, at), anchor, false, 1)
            }
            Event::SequenceStart(anchor, tag) => {
                self.check_collection_tag(tag.as_deref(), TagKind::Seq)?;
                let merge_list = matches!(
                    self.stack.last(),
                    Some(Frame::Map { map, .. }) if matches!(map.pending, Some(PendingKey::Merge(_)))
                );
                self.open(Frame::Seq {
                    items: Vec::new(),
                    span: at,
                    anchor,
                    cost: u64::from(!merge_list),
                    merge_list,
                })
            }
            Event::MappingStart(anchor, tag) => {
                self.check_collection_tag(tag.as_deref(), TagKind::Map)?;
                self.open(Frame::Map {
                    map: MapFrame {
                        entries: Vec::new(),
                        explicit: None,
                        index: None,
                        pending: None,
                    },
                    span: at,
                    anchor,
                    cost: 1,
                })
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Err("unbalanced collection end".into());
                };
                let (node, anchor, cost) = match frame {
                    Frame::Seq {
                        items,
                        span,
                        anchor,
                        cost,
                        merge_list,
                    } => {
                        if merge_list {
                            self.ratio.close_merge_list()?;
                        }
                        (Node::new(Value::Seq(items), span), anchor, cost)
                    }
                    Frame::Map {
                        map,
                        span,
                        anchor,
                        cost,
                    } => (Node::new(Value::Map(map.entries), span), anchor, cost),
                };
                self.finish(node, anchor, false, cost)
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
        match &frame {
            Frame::Seq {
                merge_list: true, ..
            } => self.ratio.merge_lists.push(MergeList::default()),
            _ => self.ratio.step(Step::Plain(1))?,
        }
        self.stack.push(frame);
        Ok(None)
    }

    /// Places a completed node into its parent (or as the document root).
    /// `cost` is its go-yaml decode cost, added to the parent's.
    fn finish(
        &mut self,
        mut node: Node,
        anchor: usize,
        from_alias: bool,
        cost: u64,
    ) -> Result<Option<Node>, String> {
        if anchor != 0 {
            let count = node.count();
            self.anchors.insert(
                anchor,
                Anchored {
                    node: node.clone(),
                    count,
                    cost,
                },
            );
        }
        match self.stack.last_mut() {
            None => {
                self.root = Some(node);
                Ok(None)
            }
            Some(Frame::Seq {
                items,
                cost: c,
                merge_list,
                ..
            }) => {
                *c = c.saturating_add(cost);
                items.push(node);
                if *merge_list {
                    self.ratio.item_done();
                }
                Ok(None)
            }
            Some(Frame::Map { map, cost: c, .. }) => {
                *c = c.saturating_add(cost);
                match map.pending.take() {
                    None => {
                        // This node is a key.
                        if matches!(node.value, Value::Seq(_) | Value::Map(_)) {
                            return Err(if from_alias {
                                "an alias to a collection cannot be a mapping key".into()
                            } else {
                                "complex keys are not supported by Kubernetes".into()
                            });
                        }
                        // The key node is not kept: take its text rather than copy it.
                        let key = match &mut node.value {
                            Value::Str(s) => Some(std::mem::take(s)),
                            v => key_string(v),
                        };
                        let Some(key) = key else {
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
                        apply_merge(map, node, at, from_alias)?;
                        Ok(None)
                    }
                }
            }
        }
    }
}

fn apply_merge(
    map: &mut MapFrame,
    mut node: Node,
    at: Span,
    from_alias: bool,
) -> Result<(), String> {
    const WANT: &str = "a merge key `<<` needs a mapping, an alias to one, or a list of them";
    match &mut node.value {
        Value::Map(entries) => map.merge(std::mem::take(entries), at),
        // go-yaml takes a list only when written in place: an alias to a
        // list of mappings is refused.
        Value::Seq(_) if from_alias => Err(WANT.into()),
        Value::Seq(items) => {
            let mut items = std::mem::take(items);
            // Earlier maps in the list take precedence (go-yaml applies them
            // last-to-first), so collect first-wins and apply once.
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
        "tag:yaml.org,2002:binary" => TagKind::Scalar(ScalarTag::Binary),
        // go-yaml ignores tags on collections; the YAML 1.1 collection
        // types keep their node kind (a set is a mapping, an omap a list).
        "tag:yaml.org,2002:map" | "tag:yaml.org,2002:set" => TagKind::Map,
        "tag:yaml.org,2002:seq" | "tag:yaml.org,2002:omap" | "tag:yaml.org,2002:pairs" => {
            TagKind::Seq
        }
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
        assert_eq!(
            json("a: !!binary aGk=\n")[0],
            serde_json::json!({"a": "hi"})
        );
        assert!(load("a: !!binary a=Gk\n").error.is_some());
        assert!(load("a: !!timestamp soon\n").error.is_some());
        assert_eq!(
            json("a: !!timestamp 2001-12-14t21:59:43.10-05:00\n")[0],
            serde_json::json!({"a": "2001-12-14t21:59:43.10-05:00"})
        );
        // go-yaml ignores collection tags; the YAML 1.1 kinds keep theirs.
        assert_eq!(
            json("a: !!set {x: ~}\n")[0],
            serde_json::json!({"a": {"x": null}})
        );
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
        let e = l.error.unwrap().message;
        assert!(e.contains("excessive aliasing"), "{e}");
        assert!(t.elapsed().as_secs() < 5);
        // Past go-yaml's ratio guard our own node budget still holds.
        let tight = Limits {
            max_nodes: 50,
            ..Limits::default()
        };
        let l = load_documents(
            "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nb: [*a, *a, *a, *a, *a]\n",
            &tight,
        );
        assert!(
            l.error
                .unwrap()
                .message
                .contains("expands to more than 50 nodes")
        );
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
