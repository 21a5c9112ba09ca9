//! Flux `postBuild` variable substitution, as kustomize-controller does it
//! (`fluxcd/pkg/kustomize/kustomize_varsub.go` with the `fluxcd/pkg/envsubst`
//! fork of drone/envsubst): `${var}`, the default forms `${var:=default}`,
//! `${var:-default}`, `${var=default}` (and `:?`/`:+`, which that fork also
//! evaluates as "default when empty"), `$$` as an escaped `$`, strict mode
//! (an unset variable without a default is an error), and the
//! `kustomize.toolkit.fluxcd.io/substitute: disabled` label or annotation.
//!
//! Flux substitutes the YAML text of each object and re-parses it, so
//! `hostIPC: ${HOST_IPC:=false}` reaches the cluster as the boolean `false`.
//! We substitute each scalar and key instead — which lets a substituted
//! value keep provenance (it points at the variable's line) — and re-type a
//! substituted plain scalar as the YAML loader would; a value that was
//! quoted in its source stays a string, as kyaml keeps the quoting when it
//! prints the object. A substitution whose result would change the YAML
//! structure (`a: b`, `[x]`, …) is refused (fail closed), and so are the
//! envsubst string functions (`${var,,}`, `${var/a/b}`, `${#var}`, …),
//! which are not implemented.

use std::collections::BTreeMap;

use crate::engine::yaml::{self, Node, Span, Value};

/// The label/annotation that turns substitution off for one object.
pub const SUBSTITUTE_KEY: &str = "kustomize.toolkit.fluxcd.io/substitute";

/// Why a substitution failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubstError {
    /// Flux itself fails the build (bad syntax, unset variable in strict mode).
    Invalid(String),
    /// Something we do not evaluate: the reference names it.
    Unrenderable(String, String),
}

/// A variable's value and where it is defined (file index of the render's
/// file table, and line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarValue {
    /// The value (newlines removed, as Flux removes them).
    pub value: String,
    /// Where it is defined.
    pub span: Span,
}

/// `^[_[:alpha:]][_[:alpha:][:digit:]]*$`: Flux rejects other variable names.
pub fn valid_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

#[derive(Debug)]
enum Part {
    Text(String),
    /// `${param}` (op empty) or `${param<op><args>}`.
    Func {
        param: String,
        op: &'static str,
        args: Vec<Vec<Part>>,
    },
}

struct Parser<'a> {
    s: &'a [char],
    pos: usize,
    whole: &'a str,
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.s.get(self.pos).copied()
    }

    fn at_lbrack(&self) -> bool {
        self.peek() == Some('$') && self.s.get(self.pos + 1) == Some(&'{')
    }

    fn bad(&self, what: &str) -> SubstError {
        SubstError::Invalid(format!(
            "variable substitution failed: {what} in `{}`",
            self.whole
        ))
    }

    /// The top level: text with `$$` escapes, and `${…}`.
    fn parse_any(&mut self) -> Result<Vec<Part>, SubstError> {
        let mut parts = Vec::new();
        let mut text = String::new();
        while let Some(c) = self.peek() {
            if self.at_lbrack() {
                if !text.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut text)));
                }
                self.pos += 2;
                parts.push(self.parse_func()?);
                continue;
            }
            if c == '$' && self.s.get(self.pos + 1) == Some(&'$') {
                // the scanner drops the first `$` and reads the second as
                // text, so whatever follows is read afresh (`$${x}` is the
                // text `${x}`, `$$${x}` is `$` and a substitution)
                text.push('$');
                self.pos += 2;
                if self.peek() == Some('{') {
                    text.push('{');
                    self.pos += 1;
                }
                continue;
            }
            text.push(c);
            self.pos += 1;
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(parts)
    }

    /// After `${`.
    fn parse_func(&mut self) -> Result<Part, SubstError> {
        if self.peek() == Some('#') {
            return Err(self.unimplemented("${#var}"));
        }
        let start = self.pos;
        while self.peek().is_some_and(is_ident) {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.bad("unable to parse variable name"));
        }
        let param: String = self.s[start..self.pos].iter().collect();
        match self.peek() {
            Some(':') => {
                let op = match self.s.get(self.pos + 1) {
                    Some('=') => ":=",
                    Some('-') => ":-",
                    Some('?') => ":?",
                    Some('+') => ":+",
                    _ => return Err(self.unimplemented("${var:offset:length}")),
                };
                self.pos += 2;
                self.parse_default(param, op)
            }
            Some('=') => {
                self.pos += 1;
                self.parse_default(param, "=")
            }
            Some(',' | '^') => Err(self.unimplemented("${var,} / ${var^}")),
            Some('/') => Err(self.unimplemented("${var/pattern/replacement}")),
            Some('#' | '%') => Err(self.unimplemented("${var#pattern} / ${var%pattern}")),
            Some('}') => {
                self.pos += 1;
                Ok(Part::Func {
                    param,
                    op: "",
                    args: Vec::new(),
                })
            }
            _ => Err(self.bad("missing closing brace")),
        }
    }

    fn unimplemented(&self, what: &str) -> SubstError {
        SubstError::Unrenderable(
            format!("postBuild {what}"),
            format!(
                "the envsubst function {what} in `{}` is not evaluated here",
                self.whole
            ),
        )
    }

    /// The default text: up to `}`, with nested `${…}` (no `$$` escapes
    /// there, as in the fork's scanner).
    fn parse_default(&mut self, param: String, op: &'static str) -> Result<Part, SubstError> {
        let mut args = Vec::new();
        loop {
            match self.peek() {
                None => return Err(self.bad("unable to parse substitution within function")),
                Some('}') => {
                    self.pos += 1;
                    return Ok(Part::Func { param, op, args });
                }
                _ if self.at_lbrack() => {
                    self.pos += 2;
                    args.push(vec![self.parse_func()?]);
                }
                _ => {
                    let mut text = String::new();
                    while let Some(c) = self.peek() {
                        if c == '}' || self.at_lbrack() {
                            break;
                        }
                        text.push(c);
                        self.pos += 1;
                    }
                    args.push(vec![Part::Text(text)]);
                }
            }
        }
    }
}

/// The result of evaluating one string.
#[derive(Debug, PartialEq, Eq)]
pub struct Evaluated {
    /// The substituted text.
    pub text: String,
    /// The first variable whose value was used (for provenance).
    pub first_var: Option<String>,
    /// Whether anything was substituted or unescaped.
    pub changed: bool,
}

/// Evaluates `s` as Flux's envsubst does with `vars`; in `strict` mode an
/// unset variable without a default is an error (otherwise it is empty).
pub fn eval(
    s: &str,
    vars: &BTreeMap<String, VarValue>,
    strict: bool,
) -> Result<Evaluated, SubstError> {
    if !s.contains('$') {
        return Ok(Evaluated {
            text: s.to_owned(),
            first_var: None,
            changed: false,
        });
    }
    let chars: Vec<char> = s.chars().collect();
    let mut p = Parser {
        s: &chars,
        pos: 0,
        whole: s,
    };
    let parts = p.parse_any()?;
    let mut out = String::new();
    let mut first = None;
    exec(&parts, vars, strict, &mut out, &mut first)?;
    Ok(Evaluated {
        changed: out != s,
        text: out,
        first_var: first,
    })
}

fn exec(
    parts: &[Part],
    vars: &BTreeMap<String, VarValue>,
    strict: bool,
    out: &mut String,
    first: &mut Option<String>,
) -> Result<(), SubstError> {
    for p in parts {
        match p {
            Part::Text(t) => out.push_str(t),
            Part::Func { param, op, args } => {
                let mut argv = String::new();
                for a in args {
                    exec(a, vars, strict, &mut argv, first)?;
                }
                let v = vars.get(param);
                if v.is_none() && strict && op.is_empty() {
                    return Err(SubstError::Invalid(format!(
                        "variable substitution failed: variable not set (strict mode): \"{param}\""
                    )));
                }
                let value = v.map_or("", |v| v.value.as_str());
                if value.is_empty() && !args.is_empty() {
                    out.push_str(&argv);
                } else {
                    if v.is_some() && first.is_none() {
                        *first = Some(param.clone());
                    }
                    out.push_str(value);
                }
            }
        }
    }
    Ok(())
}

/// True when the object opts out of substitution.
pub fn substitution_disabled(obj: &Node) -> bool {
    ["labels", "annotations"].iter().any(|k| {
        obj.path(&["metadata", k, SUBSTITUTE_KEY])
            .and_then(Node::as_str)
            == Some("disabled")
    })
}

/// How a scalar was written in its source, which decides whether a
/// substituted value is re-typed.
pub trait StyleOf {
    /// True when the string `s` at `span` was quoted (or a block scalar).
    fn quoted(&self, span: Span, s: &str) -> bool;
}

/// Substitutes every scalar and key of `obj`.
pub fn substitute(
    obj: &mut Node,
    vars: &BTreeMap<String, VarValue>,
    strict: bool,
    style: &dyn StyleOf,
) -> Result<(), SubstError> {
    let origin = |ev: &Evaluated, span: Span| -> Span {
        ev.first_var
            .as_ref()
            .and_then(|v| vars.get(v))
            .map_or(span, |v| Span { col: 1, ..v.span })
    };
    let mut stack: Vec<&mut Node> = vec![obj];
    while let Some(n) = stack.pop() {
        let span = n.span;
        if let Value::Str(s) = &n.value {
            let ev = eval(s, vars, strict)?;
            if ev.changed {
                let keep_string = s.contains('\n') || style.quoted(span, s);
                n.value = if keep_string {
                    Value::Str(ev.text.clone())
                } else {
                    retype(&ev.text)?
                };
                n.span = origin(&ev, span);
            }
            continue;
        }
        match &mut n.value {
            Value::Seq(items) => stack.extend(items.iter_mut()),
            Value::Map(entries) => {
                for e in entries.iter_mut() {
                    let ev = eval(&e.key, vars, strict)?;
                    if ev.changed {
                        e.key_span = origin(&ev, e.key_span);
                        e.key = ev.text;
                    }
                    stack.push(&mut e.value);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The value a plain scalar with text `t` has when the substituted YAML
/// is read again; a text that would be read as more than one plain
/// scalar is refused.
fn retype(t: &str) -> Result<Value, SubstError> {
    let trimmed = t.trim_matches(' ');
    let structural = trimmed.contains(": ")
        || trimmed.ends_with(':')
        || trimmed.contains(" #")
        || trimmed.contains('\t')
        || trimmed.starts_with([
            '[', '{', '*', '&', '!', '|', '>', '\'', '"', '%', '@', '`', '#',
        ])
        || trimmed.starts_with("- ")
        || trimmed == "-"
        || trimmed.starts_with("? ")
        || trimmed.starts_with("---")
        || trimmed.starts_with("...");
    if structural {
        return Err(SubstError::Unrenderable(
            "postBuild substitution".into(),
            format!(
                "the substituted value `{t}` would change the YAML structure when Flux re-reads it"
            ),
        ));
    }
    Ok(yaml::resolve_plain(trimmed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, VarValue> {
        pairs
            .iter()
            .enumerate()
            .map(|(i, (k, v))| {
                (
                    (*k).to_owned(),
                    VarValue {
                        value: (*v).to_owned(),
                        span: Span {
                            line: i as u32 + 1,
                            col: 1,
                            file: 7,
                        },
                    },
                )
            })
            .collect()
    }

    fn ev(s: &str, v: &[(&str, &str)], strict: bool) -> Result<String, SubstError> {
        eval(s, &vars(v), strict).map(|e| e.text)
    }

    #[test]
    fn plain_reference() {
        assert_eq!(ev("a-${X}-b", &[("X", "1")], false).unwrap(), "a-1-b");
        // unset, not strict: empty
        assert_eq!(ev("a-${X}-b", &[], false).unwrap(), "a--b");
    }

    #[test]
    fn defaults() {
        assert_eq!(ev("${X:=false}", &[], false).unwrap(), "false");
        assert_eq!(ev("${X:=false}", &[("X", "true")], false).unwrap(), "true");
        assert_eq!(ev("${X:-d}", &[], false).unwrap(), "d");
        assert_eq!(ev("${X=d}", &[("X", "")], false).unwrap(), "d");
        // the fork evaluates `:+` as a default too (not bash's alternative)
        assert_eq!(ev("${X:+alt}", &[("X", "v")], false).unwrap(), "v");
        assert_eq!(ev("${X:+alt}", &[], false).unwrap(), "alt");
        // nested reference in a default
        assert_eq!(ev("${X:=${Y:=z}}", &[("Y", "y")], false).unwrap(), "y");
        // a default may hold `:` and spaces
        assert_eq!(ev("${X:=a:b c}", &[], false).unwrap(), "a:b c");
    }

    #[test]
    fn escapes() {
        assert_eq!(ev("$${X}", &[("X", "1")], false).unwrap(), "${X}");
        assert_eq!(ev("$$${X}", &[("X", "1")], false).unwrap(), "$1");
        assert_eq!(ev("echo $$HOME", &[], false).unwrap(), "echo $HOME");
        // a lone `$` is text
        assert_eq!(ev("cost $5", &[], false).unwrap(), "cost $5");
        assert_eq!(ev("end$", &[], false).unwrap(), "end$");
    }

    #[test]
    fn strict_mode() {
        assert!(matches!(ev("${X}", &[], true), Err(SubstError::Invalid(_))));
        // the legitimate twin: set, or defaulted
        assert_eq!(ev("${X}", &[("X", "1")], true).unwrap(), "1");
        assert_eq!(ev("${X:=d}", &[], true).unwrap(), "d");
    }

    #[test]
    fn syntax_errors_and_unimplemented() {
        assert!(matches!(ev("${}", &[], false), Err(SubstError::Invalid(_))));
        assert!(matches!(ev("${X", &[], false), Err(SubstError::Invalid(_))));
        // `-` without `:` is not a default in the fork
        assert!(matches!(
            ev("${X-d}", &[], false),
            Err(SubstError::Invalid(_))
        ));
        assert!(matches!(
            ev("${X:=d", &[], false),
            Err(SubstError::Invalid(_))
        ));
        for f in [
            "${X,,}", "${X^^}", "${X/a/b}", "${#X}", "${X#a}", "${X%a}", "${X:1:2}",
        ] {
            assert!(
                matches!(
                    ev(f, &[("X", "abc")], false),
                    Err(SubstError::Unrenderable(..))
                ),
                "{f}"
            );
        }
    }

    #[test]
    fn var_names() {
        assert!(valid_var_name("HOST_IPC"));
        assert!(valid_var_name("_x1"));
        assert!(!valid_var_name("1x"));
        assert!(!valid_var_name("a-b"));
        assert!(!valid_var_name(""));
    }

    struct Quoted(bool);
    impl StyleOf for Quoted {
        fn quoted(&self, _: Span, _: &str) -> bool {
            self.0
        }
    }

    fn load(s: &str) -> Node {
        yaml::load_documents(s, &Default::default()).docs.remove(0)
    }

    #[test]
    fn retypes_plain_scalars_and_points_at_the_variable() {
        let mut obj = load("spec:\n  hostIPC: ${HOST_IPC:=false}\n  count: ${N}\n  s: x-${N}\n");
        substitute(&mut obj, &vars(&[("N", "3")]), false, &Quoted(false)).unwrap();
        assert_eq!(
            obj.path(&["spec", "hostIPC"]).unwrap().value,
            Value::Bool(false)
        );
        assert_eq!(obj.path(&["spec", "count"]).unwrap().value, Value::Int(3));
        assert_eq!(
            obj.path(&["spec", "s"]).unwrap().value,
            Value::Str("x-3".into())
        );
        // the value from N points at N's definition
        assert_eq!(obj.path(&["spec", "count"]).unwrap().span.file, 7);
        // the defaulted one keeps its own line
        assert_eq!(obj.path(&["spec", "hostIPC"]).unwrap().span.line, 2);

        let mut obj = load("spec:\n  hostIPC: ${HOST_IPC:=false}\n");
        substitute(
            &mut obj,
            &vars(&[("HOST_IPC", "true")]),
            false,
            &Quoted(false),
        )
        .unwrap();
        assert_eq!(
            obj.path(&["spec", "hostIPC"]).unwrap().value,
            Value::Bool(true)
        );
    }

    #[test]
    fn quoted_stays_string() {
        let mut obj = load("a: \"${X:=true}\"\n");
        substitute(&mut obj, &vars(&[]), false, &Quoted(true)).unwrap();
        assert_eq!(obj.get("a").unwrap().value, Value::Str("true".into()));
    }

    #[test]
    fn structural_result_refused() {
        let mut obj = load("a: ${X}\n");
        let r = substitute(&mut obj, &vars(&[("X", "b: c")]), false, &Quoted(false));
        assert!(matches!(r, Err(SubstError::Unrenderable(..))));
        // twin: a value with a colon but no space is one scalar
        let mut obj = load("a: ${X}\n");
        substitute(
            &mut obj,
            &vars(&[("X", "nginx:1.2")]),
            false,
            &Quoted(false),
        )
        .unwrap();
        assert_eq!(obj.get("a").unwrap().value, Value::Str("nginx:1.2".into()));
    }

    #[test]
    fn keys_are_substituted() {
        let mut obj = load("labels:\n  ${K:=team}: x\n");
        substitute(&mut obj, &vars(&[]), false, &Quoted(false)).unwrap();
        assert!(obj.path(&["labels", "team"]).is_some());
    }

    #[test]
    fn disabled_marker() {
        let on = load(
            "metadata:\n  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\n",
        );
        assert!(substitution_disabled(&on));
        let lbl =
            load("metadata:\n  labels:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\n");
        assert!(substitution_disabled(&lbl));
        let off = load(
            "metadata:\n  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: enabled\n",
        );
        assert!(!substitution_disabled(&off));
    }
}
