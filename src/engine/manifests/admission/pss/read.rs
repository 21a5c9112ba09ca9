//! Typed reading of pod fields, the way the API server decodes them.
//!
//! The API server decodes a manifest into typed Go structs: `null` leaves a
//! field unset, a value of the wrong JSON type (`privileged: "true"`) makes
//! the whole request fail. We mirror that: `null` is absent, and a wrongly
//! typed field is *reported* under the control that reads it (fail closed,
//! because "the cluster would reject it" is still a broken manifest and we
//! cannot know which way a later fix would go). A wrongly shaped container
//! node (`securityContext: yes`) is reported once, by the first control
//! that reads it.

use std::cell::OnceCell;
use std::collections::HashSet;
use std::rc::Rc;

use crate::engine::config::PssLevel;
use crate::engine::manifests::podspec::{ContainerView, PodView};
use crate::engine::manifests::violation::Violation;
use crate::engine::yaml::{Node, Value};

use super::PssFinding;

/// A typed leaf read from a mapping.
pub(super) enum Field<'a, T> {
    /// Absent or `null`.
    Absent,
    /// Present with the expected type.
    Ok {
        /// The value.
        value: T,
        /// Line of the key.
        line: u32,
    },
    /// Present with another type.
    Wrong {
        /// Line of the key.
        line: u32,
        /// The value as written.
        node: &'a Node,
    },
}

/// The entry for `key` in `parent`, ignoring `null` values (Go leaves a
/// pointer nil for JSON `null`).
pub(super) fn present<'a>(parent: Option<&'a Node>, key: &str) -> Option<(u32, &'a Node)> {
    let e = parent?.entry(key)?;
    if e.value.is_null() {
        None
    } else {
        Some((e.key_span.line, &e.value))
    }
}

/// Reads a boolean.
pub(super) fn bool_at<'a>(parent: Option<&'a Node>, key: &str) -> Field<'a, bool> {
    match present(parent, key) {
        None => Field::Absent,
        Some((line, node)) => match node.value {
            Value::Bool(b) => Field::Ok { value: b, line },
            _ => Field::Wrong { line, node },
        },
    }
}

/// Reads a string.
pub(super) fn str_at<'a>(parent: Option<&'a Node>, key: &str) -> Field<'a, &'a str> {
    match present(parent, key) {
        None => Field::Absent,
        Some((line, node)) => match &node.value {
            Value::Str(s) => Field::Ok { value: s, line },
            _ => Field::Wrong { line, node },
        },
    }
}

/// Reads an integer. A float with an integral value is accepted: go-yaml
/// gives `80.0` as a float64, which sigs.k8s.io/yaml re-encodes as JSON
/// `80`, which decodes into an int field.
pub(super) fn int_at<'a>(parent: Option<&'a Node>, key: &str) -> Field<'a, i128> {
    match present(parent, key) {
        None => Field::Absent,
        Some((line, node)) => match as_int(node) {
            Some(value) => Field::Ok { value, line },
            None => Field::Wrong { line, node },
        },
    }
}

fn as_int(node: &Node) -> Option<i128> {
    match node.value {
        Value::Int(i) => Some(i128::from(i)),
        Value::UInt(u) => Some(i128::from(u)),
        Value::Float(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.3e18 => Some(f as i128),
        _ => None,
    }
}

/// A short rendering of a value for messages.
pub(super) fn show(node: &Node) -> String {
    match &node.value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Str(s) => quote(s),
        Value::Seq(_) => "a list".into(),
        Value::Map(_) => "a mapping".into(),
    }
}

/// A string quoted for messages (escaped, at most 80 characters).
pub(super) fn quote(s: &str) -> String {
    if s.chars().count() > 80 {
        let cut: String = s.chars().take(80).collect();
        format!("{:?}…", cut)
    } else {
        format!("{s:?}")
    }
}

/// "is `v` (a string), not a boolean; the API server rejects it".
pub(super) fn wrong_type(node: &Node, expected: &str) -> String {
    format!(
        "is {} (a {}), not {expected}; the API server rejects the object",
        show(node),
        node.type_name()
    )
}

/// State for checking one pod.
pub(super) struct Ctx<'a, 'p> {
    /// The pod.
    pub pod: &'p PodView<'a>,
    /// Its containers, in PSA's visiting order.
    pub containers: Vec<ContainerView<'a>>,
    /// The PSA policy minor version being evaluated (`latest` already
    /// resolved to [`super::version::LATEST_MINOR`]).
    pub v: u32,
    /// `spec.os.name: windows` and a policy of v1.25 or later: PSA's
    /// Windows exemptions apply.
    pub windows: bool,
    /// `spec.hostUsers: false` and a policy of v1.35 or later: PSA's
    /// user-namespace relaxations apply (before v1.35 they sat behind a
    /// perma-alpha feature gate, which the policy dropped).
    pub user_ns: bool,
    /// Findings so far.
    pub out: Vec<PssFinding>,
    /// Wrongly shaped nodes already reported (by position).
    shapes: HashSet<(u32, u32)>,
    /// `spec.template.spec.` (or `spec.` for a Pod).
    spec_base: Rc<str>,
    /// `<container path>.`, built on first use.
    container_bases: Vec<OnceCell<Rc<str>>>,
}

impl<'a, 'p> Ctx<'a, 'p> {
    pub(super) fn new(pod: &'p PodView<'a>, containers: Vec<ContainerView<'a>>, v: u32) -> Self {
        let n = containers.len();
        let spec = Some(pod.spec);
        let os = present(spec, "os").map(|(_, n)| n);
        let windows = matches!(
            str_at(os, "name"),
            Field::Ok {
                value: "windows",
                ..
            }
        );
        let user_ns = matches!(bool_at(spec, "hostUsers"), Field::Ok { value: false, .. });
        Self {
            pod,
            containers,
            v,
            windows: windows && v >= 25,
            user_ns: user_ns && v >= 35,
            out: Vec::new(),
            shapes: HashSet::new(),
            spec_base: Rc::from(pod.spec_path("")),
            container_bases: vec![OnceCell::new(); n],
        }
    }

    /// Records a finding.
    pub(super) fn report(
        &mut self,
        level: PssLevel,
        rule: &str,
        line: u32,
        container: Option<usize>,
        message: String,
    ) {
        // Every per-container message starts by naming the container.
        let v = match container {
            Some(i) => Violation::new(rule, line, format!("{}{message}", self.who(Some(i))))
                .in_container(self.containers[i].name.clone()),
            None => Violation::new(rule, line, message),
        };
        self.out.push(PssFinding {
            level,
            violation: v,
            advisory: false,
        });
    }

    /// Records a warning that forbids nothing (a field that has no effect).
    pub(super) fn advise(
        &mut self,
        rule: &str,
        line: u32,
        container: Option<usize>,
        message: String,
    ) {
        self.report(PssLevel::Baseline, rule, line, container, message);
        if let Some(last) = self.out.last_mut() {
            last.advisory = true;
        }
    }

    /// Message prefix naming the container.
    pub(super) fn who(&self, container: Option<usize>) -> String {
        match container {
            Some(i) => format!("container {}: ", quote(&self.containers[i].name)),
            None => String::new(),
        }
    }

    /// The child mapping at `key`; a non-mapping is reported once (under
    /// `rule`, at `level`) and read as absent.
    pub(super) fn map_at(
        &mut self,
        parent: Option<&'a Node>,
        key: &str,
        at: &Place,
        level: PssLevel,
        rule: &str,
    ) -> Option<&'a Node> {
        let (line, node) = present(parent, key)?;
        if node.as_map().is_some() {
            return Some(node);
        }
        self.shape(
            node,
            line,
            &at.path(key),
            "a mapping",
            level,
            rule,
            at.container,
        );
        None
    }

    /// The child sequence at `key`; a non-sequence is reported once.
    pub(super) fn seq_at(
        &mut self,
        parent: Option<&'a Node>,
        key: &str,
        at: &Place,
        level: PssLevel,
        rule: &str,
    ) -> &'a [Node] {
        let Some((line, node)) = present(parent, key) else {
            return &[];
        };
        if let Some(items) = node.as_seq() {
            return items;
        }
        self.shape(
            node,
            line,
            &at.path(key),
            "a list",
            level,
            rule,
            at.container,
        );
        &[]
    }

    /// Reports a wrongly shaped node once.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn shape(
        &mut self,
        node: &Node,
        line: u32,
        path: &str,
        expected: &str,
        level: PssLevel,
        rule: &str,
        container: Option<usize>,
    ) {
        if self.shapes.insert((node.span.line, node.span.col)) {
            let msg = format!("{path} {}", wrong_type(node, expected));
            self.report(level, rule, line, container, msg);
        }
    }

    /// The pod-level `securityContext`.
    pub(super) fn pod_sc(&mut self, level: PssLevel, rule: &str) -> Option<&'a Node> {
        let spec = self.pod.spec;
        let place = self.pod_place();
        self.map_at(Some(spec), "securityContext", &place, level, rule)
    }

    /// A container's `securityContext`.
    pub(super) fn container_sc(
        &mut self,
        i: usize,
        level: PssLevel,
        rule: &str,
    ) -> Option<&'a Node> {
        let node = self.containers[i].node;
        let place = self.container_place(i);
        self.map_at(Some(node), "securityContext", &place, level, rule)
    }

    /// Where pod spec fields live.
    pub(super) fn pod_place(&self) -> Place {
        Place::at(self.spec_base.clone(), None)
    }

    /// Where pod metadata fields live.
    pub(super) fn meta_place(&self) -> Place {
        Place::at(Rc::from(self.pod.metadata_path("")), None)
    }

    /// Where a container's fields live.
    pub(super) fn container_place(&self, i: usize) -> Place {
        let base = self.container_bases[i]
            .get_or_init(|| Rc::from(format!("{}.", self.containers[i].path)))
            .clone();
        Place::at(base, Some(i))
    }

    /// The line to blame for a field that is missing: the deepest present
    /// ancestor key, else the container.
    pub(super) fn missing_line(&self, i: usize, keys: &[&str]) -> u32 {
        let mut node = self.containers[i].node;
        let mut line = self.containers[i].line;
        for k in keys {
            match node.entry(k) {
                Some(e) => {
                    line = e.key_span.line;
                    node = &e.value;
                }
                None => break,
            }
        }
        line
    }
}

/// Where a field lives, for messages: a shared base path (empty or ending
/// in `.`) plus a few static segments. Cheap to build and clone; the text
/// is only assembled when a violation is reported (the engine must stay
/// fast on repositories of 10,000 objects).
#[derive(Clone, Debug)]
pub(super) struct Place {
    base: Rc<str>,
    segs: [Seg; MAX_SEGS],
    len: usize,
    /// Index of the container, if any.
    pub container: Option<usize>,
}

const MAX_SEGS: usize = 4;

#[derive(Clone, Copy, Debug)]
enum Seg {
    Key(&'static str),
    Item(&'static str, usize),
}

impl Place {
    /// A place at a base path (empty or ending in `.`).
    pub(super) fn at(base: Rc<str>, container: Option<usize>) -> Place {
        Place {
            base,
            segs: [Seg::Key(""); MAX_SEGS],
            len: 0,
            container,
        }
    }

    fn prefix(&self) -> String {
        let mut s = String::from(&*self.base);
        for seg in &self.segs[..self.len] {
            match seg {
                Seg::Key(k) => {
                    s.push_str(k);
                    s.push('.');
                }
                Seg::Item(k, i) => {
                    s.push_str(k);
                    s.push('[');
                    s.push_str(&i.to_string());
                    s.push_str("].");
                }
            }
        }
        s
    }

    /// The dotted path of `key` at this place.
    pub(super) fn path(&self, key: &str) -> String {
        let mut s = self.prefix();
        s.push_str(key);
        s
    }

    fn push(&self, seg: Seg) -> Place {
        let mut p = self.clone();
        if p.len == MAX_SEGS {
            // Deeper than any PSA field; fold into the base.
            p = Place::at(Rc::from(p.prefix()), p.container);
        }
        p.segs[p.len] = seg;
        p.len += 1;
        p
    }

    /// A place one key deeper.
    pub(super) fn child(&self, key: &'static str) -> Place {
        self.push(Seg::Key(key))
    }

    /// A place one list item deeper (`key[i].`).
    pub(super) fn item(&self, key: &'static str, i: usize) -> Place {
        self.push(Seg::Item(key, i))
    }
}
