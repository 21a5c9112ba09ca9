//! Loading `ClusterPolicy`/`Policy` objects (`kyverno.io/v1`, `v2beta1`)
//! into evaluable rules. Anything we cannot evaluate exactly as Kyverno does
//! is reported as a [`PolicyProblem`] naming the policy, rule and construct;
//! such a rule is not evaluated, and the problem says so.

use serde_json::Value as J;

use super::autogen::{self, Form};
use super::deny::{OPERATORS, check_expression, variables_in};
use super::matching::{Block, parse_block, selects_pod};
use super::pattern::{AnchorKind, parse_anchor};
use super::podsecurity::PodSecurity;
use crate::engine::manifests::object::Object;
use crate::engine::yaml::{Node, Span, Value};

/// `Enforce` (blocks admission → error) or `Audit` (reports → warning).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Reject the request.
    Enforce,
    /// Admit and report.
    Audit,
}

impl Action {
    /// Case-insensitive, as Kyverno accepts `enforce`/`audit`.
    pub fn parse(s: &str) -> Option<Action> {
        if s.eq_ignore_ascii_case("enforce") {
            Some(Action::Enforce)
        } else if s.eq_ignore_ascii_case("audit") {
            Some(Action::Audit)
        } else {
            None
        }
    }
}

/// A construct we cannot evaluate, or an invalid policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyProblem {
    /// File of the policy.
    pub file: String,
    /// Line of the offending key (else the policy's).
    pub line: u32,
    /// Policy name.
    pub policy: String,
    /// Rule name, when the problem is inside a rule.
    pub rule: Option<String>,
    /// What is wrong and what we do about it.
    pub message: String,
}

/// A pattern, kept both as JSON (for variable substitution) and as a node
/// tree (for matching).
#[derive(Clone, Debug)]
pub struct Pat {
    /// The pattern.
    pub json: J,
    /// The same as a node tree.
    pub node: Node,
    /// It holds `{{ }}` variables to substitute first.
    pub has_vars: bool,
}

impl Pat {
    /// Builds a pattern.
    pub fn new(json: &J) -> Pat {
        Pat {
            node: json_to_node(json, 0),
            has_vars: json.to_string().contains("{{"),
            json: json.clone(),
        }
    }
}

/// What a rule checks.
#[derive(Clone, Debug)]
pub enum Check {
    /// `validate.pattern`.
    Pattern(Pat),
    /// `validate.anyPattern`.
    AnyPattern(Vec<Pat>),
    /// `validate.deny.conditions`.
    Deny(J),
    /// `validate.foreach`.
    Foreach(Vec<ForEach>),
    /// `validate.podSecurity`.
    PodSecurity(PodSecurity),
}

/// One `foreach` declaration.
#[derive(Clone, Debug)]
pub struct ForEach {
    /// JMESPath of the list.
    pub list: String,
    /// `elementScope` (default: patterns apply to the element).
    pub element_scope: Option<bool>,
    /// Per-element `preconditions`.
    pub preconditions: Option<J>,
    /// What each element must satisfy.
    pub check: Box<Check>,
}

/// One evaluable rule (an original or a generated autogen rule).
#[derive(Clone, Debug)]
pub struct Rule {
    /// The rule name as written (findings use it).
    pub name: String,
    /// The autogen form, for generated rules.
    pub autogen: Option<Form>,
    /// `match`.
    pub matcher: Block,
    /// `exclude`.
    pub exclude: Option<Block>,
    /// `preconditions`.
    pub preconditions: Option<J>,
    /// `validate.message`.
    pub message: Option<String>,
    /// `validate.failureAction` (overrides the policy's).
    pub action: Option<Action>,
    /// The check.
    pub check: Check,
    /// Line of the rule in the policy file.
    pub line: u32,
}

/// `validationFailureActionOverrides` entry.
#[derive(Clone, Debug)]
pub struct Override {
    /// The action.
    pub action: Action,
    /// Namespace globs.
    pub namespaces: Vec<String>,
}

/// A loaded policy.
#[derive(Clone, Debug)]
pub struct Policy {
    /// `metadata.name`.
    pub name: String,
    /// For a namespaced `Policy`, its namespace (it applies only there).
    pub namespace: Option<String>,
    /// The file it came from.
    pub file: String,
    /// `spec.validationFailureAction` (default Audit).
    pub action: Action,
    /// `spec.validationFailureActionOverrides`.
    pub overrides: Vec<Override>,
    /// Controllers autogen extends Pod rules to.
    pub controllers: Vec<String>,
    /// Original rules, then their generated forms.
    pub rules: Vec<Rule>,
}

/// True for Kyverno policy kinds.
pub fn is_policy(obj: &Object) -> bool {
    obj.api_version.starts_with("kyverno.io/")
        && (obj.kind == "ClusterPolicy" || obj.kind == "Policy")
}

/// Converts JSON back into a node (patterns built by autogen or foreach
/// elements); every node gets `line`.
pub fn json_to_node(v: &J, line: u32) -> Node {
    let span = Span {
        line,
        col: 0,
        file: 0,
    };
    let value = match v {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::Int(i),
            (None, Some(u)) => Value::UInt(u),
            _ => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Value::Str(s.clone()),
        J::Array(items) => Value::Seq(items.iter().map(|i| json_to_node(i, line)).collect()),
        J::Object(m) => Value::Map(
            m.iter()
                .map(|(k, v)| crate::engine::yaml::Entry {
                    key: k.clone(),
                    key_span: span,
                    value: json_to_node(v, line),
                })
                .collect(),
        ),
    };
    Node::new(value, span)
}

struct Loader<'a> {
    obj: &'a Object,
    policy: String,
    problems: Vec<PolicyProblem>,
}

impl Loader<'_> {
    fn problem(&mut self, rule: Option<&str>, line: u32, message: String) {
        self.problems.push(PolicyProblem {
            file: self.obj.file.clone(),
            line,
            policy: self.policy.clone(),
            rule: rule.map(str::to_owned),
            message,
        });
    }
}

/// Collects problems in every string's variables and every anchor of a
/// pattern.
fn check_strings(v: &J, out: &mut Vec<String>) {
    match v {
        J::String(s) => {
            for e in variables_in(s) {
                if let Err(m) = check_expression(e) {
                    out.push(m);
                }
            }
        }
        J::Array(items) => items.iter().for_each(|i| check_strings(i, out)),
        J::Object(m) => m.values().for_each(|i| check_strings(i, out)),
        _ => {}
    }
}

fn check_pattern(v: &J, out: &mut Vec<String>) {
    match v {
        J::Object(m) => {
            for (k, val) in m {
                if let Some((AnchorKind::AddIfAbsent, _)) = parse_anchor(k) {
                    out.push(format!(
                        "add-if-absent anchor `{k}` is a mutate construct; Kyverno rejects it in validate patterns"
                    ));
                }
                check_pattern(val, out);
            }
        }
        J::Array(items) => items.iter().for_each(|i| check_pattern(i, out)),
        _ => {}
    }
}

fn check_conditions(v: &J, out: &mut Vec<String>) {
    let list: Vec<&J> = match v {
        J::Array(l) => l.iter().collect(),
        J::Object(m) => ["any", "all"]
            .iter()
            .filter_map(|k| m.get(*k).and_then(J::as_array))
            .flatten()
            .collect(),
        J::Null => Vec::new(),
        _ => {
            out.push("conditions must be a list or {any, all}".into());
            Vec::new()
        }
    };
    for c in list {
        let op = c.get("operator").and_then(J::as_str).unwrap_or_default();
        if !OPERATORS.contains(&op) {
            out.push(format!("condition operator `{op}` is not supported"));
        }
    }
    check_strings(v, out);
}

fn parse_check(validate: &J, out: &mut Vec<String>) -> Option<Check> {
    let unsupported = [
        ("cel", "CEL validation (`validate.cel`)"),
        (
            "manifests",
            "manifest signature verification (`validate.manifests`)",
        ),
        ("assert", "assertion trees (`validate.assert`)"),
    ];
    for (k, what) in unsupported {
        if validate.get(k).is_some() {
            out.push(format!("{what} is not supported"));
            return None;
        }
    }
    if let Some(p) = validate.get("pattern") {
        check_pattern(p, out);
        check_strings(p, out);
        return Some(Check::Pattern(Pat::new(p)));
    }
    if let Some(J::Array(ps)) = validate.get("anyPattern") {
        for p in ps {
            check_pattern(p, out);
            check_strings(p, out);
        }
        return Some(Check::AnyPattern(ps.iter().map(Pat::new).collect()));
    }
    if let Some(d) = validate.get("deny") {
        let c = d.get("conditions").cloned().unwrap_or(J::Null);
        check_conditions(&c, out);
        return Some(Check::Deny(c));
    }
    if let Some(J::Array(fs)) = validate.get("foreach") {
        let mut list = Vec::new();
        for f in fs {
            list.push(parse_foreach(f, out)?);
        }
        return Some(Check::Foreach(list));
    }
    if let Some(ps) = validate.get("podSecurity") {
        return PodSecurity::parse(ps, out).map(Check::PodSecurity);
    }
    out.push("validate rule has none of pattern, anyPattern, deny, foreach, podSecurity".into());
    None
}

fn parse_foreach(f: &J, out: &mut Vec<String>) -> Option<ForEach> {
    let list = f
        .get("list")
        .and_then(J::as_str)
        .unwrap_or_default()
        .to_owned();
    if list.is_empty() {
        out.push("foreach without `list`".into());
        return None;
    }
    if let Err(m) = check_expression(&list) {
        out.push(m);
    }
    if f.get("context").is_some() {
        out.push(
            "foreach `context` entries (API calls, ConfigMaps, variables) are not supported".into(),
        );
        return None;
    }
    if let Some(p) = f.get("preconditions") {
        check_conditions(p, out);
    }
    let check = if let Some(p) = f.get("pattern") {
        check_pattern(p, out);
        check_strings(p, out);
        Check::Pattern(Pat::new(p))
    } else if let Some(J::Array(ps)) = f.get("anyPattern") {
        ps.iter().for_each(|p| check_strings(p, out));
        Check::AnyPattern(ps.iter().map(Pat::new).collect())
    } else if let Some(d) = f.get("deny") {
        let c = d.get("conditions").cloned().unwrap_or(J::Null);
        check_conditions(&c, out);
        Check::Deny(c)
    } else if let Some(J::Array(nested)) = f.get("foreach") {
        let mut l = Vec::new();
        for n in nested {
            l.push(parse_foreach(n, out)?);
        }
        Check::Foreach(l)
    } else {
        out.push("foreach has none of pattern, anyPattern, deny, foreach".into());
        return None;
    };
    Some(ForEach {
        list,
        element_scope: f.get("elementScope").and_then(J::as_bool),
        preconditions: f.get("preconditions").cloned(),
        check: Box::new(check),
    })
}

/// Loads every Kyverno policy among `objects` (other objects are ignored).
pub fn load_policies(objects: &[Object]) -> (Vec<Policy>, Vec<PolicyProblem>) {
    let mut policies = Vec::new();
    let mut problems = Vec::new();
    for obj in objects.iter().filter(|o| is_policy(o)) {
        let (p, mut pr) = load_one(obj);
        policies.extend(p);
        problems.append(&mut pr);
    }
    (policies, problems)
}

fn load_one(obj: &Object) -> (Option<Policy>, Vec<PolicyProblem>) {
    let mut l = Loader {
        obj,
        policy: obj.name.clone(),
        problems: Vec::new(),
    };
    let spec = obj.root.get("spec").map(Node::to_json).unwrap_or(J::Null);
    let spec_line = obj.line_of(&["spec"]);
    let action = match spec.get("validationFailureAction").and_then(J::as_str) {
        None => Action::Audit,
        Some(s) => Action::parse(s).unwrap_or_else(|| {
            l.problem(
                None,
                obj.line_of(&["spec", "validationFailureAction"]),
                format!(
                    "validationFailureAction `{s}` is neither Enforce nor Audit; treated as Enforce"
                ),
            );
            Action::Enforce
        }),
    };
    let mut overrides = Vec::new();
    if let Some(J::Array(list)) = spec.get("validationFailureActionOverrides") {
        for o in list {
            let a = o
                .get("action")
                .and_then(J::as_str)
                .and_then(Action::parse)
                .unwrap_or(Action::Enforce);
            if o.get("namespaceSelector").is_some() {
                l.problem(
                    None,
                    spec_line,
                    "validationFailureActionOverrides `namespaceSelector` needs Namespace labels; that override is ignored".into(),
                );
            }
            let namespaces = match o.get("namespaces") {
                Some(J::Array(ns)) => ns
                    .iter()
                    .filter_map(|n| n.as_str().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            };
            overrides.push(Override {
                action: a,
                namespaces,
            });
        }
    }
    let raw_rules: Vec<J> = match spec.get("rules") {
        Some(J::Array(r)) => r.clone(),
        _ => {
            l.problem(None, spec_line, "policy has no `spec.rules`".into());
            Vec::new()
        }
    };
    let annotation = obj
        .root
        .path(&["metadata", "annotations", autogen::ANNOTATION])
        .and_then(Node::as_str);
    let controllers = autogen::controllers(&raw_rules, annotation);
    let rule_nodes = obj.root.path(&["spec", "rules"]).and_then(Node::as_seq);
    let mut rules = Vec::new();
    for (i, raw) in raw_rules.iter().enumerate() {
        let name = raw
            .get("name")
            .and_then(J::as_str)
            .unwrap_or_default()
            .to_owned();
        let line = rule_nodes
            .and_then(|r| r.get(i))
            .map(|n| n.span.line)
            .unwrap_or(spec_line);
        if let Some(r) = load_rule(&mut l, raw, &name, line, None) {
            let pod_rule = r.matcher.any.iter().chain(&r.matcher.all).any(selects_pod);
            rules.push(r);
            if pod_rule && !controllers.is_empty() {
                let forms: Vec<Form> = [Form::Template, Form::CronJob]
                    .into_iter()
                    .filter(|f| controllers.iter().any(|c| Form::of(c) == *f))
                    .collect();
                for form in forms {
                    let g = autogen::generate(raw, form);
                    // problems were already reported for the original
                    let mut quiet = Loader {
                        obj,
                        policy: l.policy.clone(),
                        problems: Vec::new(),
                    };
                    if let Some(r) = load_rule(&mut quiet, &g, &name, line, Some(form)) {
                        rules.push(r);
                    }
                }
            }
        }
    }
    let namespace = if obj.kind == "Policy" {
        Some(obj.namespace.clone().unwrap_or_else(|| "default".into()))
    } else {
        None
    };
    let policy = Policy {
        name: obj.name.clone(),
        namespace,
        file: obj.file.clone(),
        action,
        overrides,
        controllers,
        rules,
    };
    (Some(policy), l.problems)
}

fn load_rule(
    l: &mut Loader<'_>,
    raw: &J,
    name: &str,
    line: u32,
    form: Option<Form>,
) -> Option<Rule> {
    for (k, what) in [
        ("mutate", "mutate rules"),
        ("generate", "generate rules"),
        ("verifyImages", "verifyImages rules"),
    ] {
        if raw.get(k).is_some() {
            l.problem(
                Some(name),
                line,
                format!("{what} are not evaluated at PR time; this rule is skipped"),
            );
            return None;
        }
    }
    let Some(validate) = raw.get("validate") else {
        l.problem(Some(name), line, "rule has no `validate`; skipped".into());
        return None;
    };
    let mut out = Vec::new();
    if raw.get("context").is_some() {
        out.push(
            "rule `context` (API calls, ConfigMaps, image registries, variables) is not supported"
                .into(),
        );
    }
    let mut match_problems = Vec::new();
    let matcher = match raw.get("match") {
        Some(m) => parse_block(m, &mut match_problems),
        None => {
            out.push("rule has no `match`".into());
            Block::default()
        }
    };
    let exclude = raw
        .get("exclude")
        .map(|e| parse_block(e, &mut match_problems));
    for p in match_problems {
        l.problem(Some(name), line, p);
    }
    if let Some(p) = raw.get("preconditions") {
        check_conditions(p, &mut out);
    }
    let check = parse_check(validate, &mut out);
    let action = match validate.get("failureAction").and_then(J::as_str) {
        Some(s) => match Action::parse(s) {
            Some(a) => Some(a),
            None => {
                out.push(format!(
                    "failureAction `{s}` is neither Enforce nor Audit; treated as Enforce"
                ));
                Some(Action::Enforce)
            }
        },
        None => None,
    };
    if let Some(m) = validate.get("message") {
        check_strings(m, &mut out);
    }
    let fatal = check.is_none()
        || raw.get("context").is_some()
        || out
            .iter()
            .any(|m| m.contains("not supported") || m.contains("invalid JMESPath"));
    for m in out {
        let suffix = if fatal {
            "; this rule is not evaluated"
        } else {
            ""
        };
        l.problem(Some(name), line, format!("{m}{suffix}"));
    }
    if fatal {
        return None;
    }
    Some(Rule {
        name: name.to_owned(),
        autogen: form,
        matcher,
        exclude,
        preconditions: raw.get("preconditions").cloned(),
        message: validate
            .get("message")
            .and_then(J::as_str)
            .map(str::to_owned),
        action,
        check: check?,
        line,
    })
}
