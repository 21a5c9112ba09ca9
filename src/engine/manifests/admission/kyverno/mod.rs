//! The organisation's own Kyverno policies, evaluated at PR time with
//! Kyverno's verdicts (issue 8).
//!
//! [`load_policies`] turns `ClusterPolicy`/`Policy` objects into rules and
//! lists every construct it cannot evaluate; [`evaluate`] /
//! [`evaluate_with_pss`] apply them to one object. Findings use the rule id
//! `kyverno/<policy>/<rule>` — the Pod rule's name also for the rules
//! Kyverno generates for controllers (as the Kyverno CLI test results and
//! the corpus do); the message names the generated rule.
//!
//! Rule outcomes follow Kyverno: *pass*, *skip* (not matched, preconditions
//! false, conditional/global anchor mismatch), *fail*, and *error* (the rule
//! could not be evaluated — an unresolvable variable, a pattern with no
//! failing path). Fail and error are both reported: an error blocks
//! admission under the default `failurePolicy: Fail`.

pub mod autogen;
pub mod deny;
pub mod foreach;
pub mod matching;
pub mod operators;
pub mod pattern;
pub mod podsecurity;
pub mod policy;

use serde_json::Value as J;

pub use podsecurity::PssCheck;
pub use policy::{Action, Policy, PolicyProblem, Rule, load_policies};

use deny::{Mode, VarContext, eval_block, substitute, substitute_str};
use matching::{Target, block_excludes, block_matches};
use operators::wildcard_match;
use policy::{Check, Pat, json_to_node};

use crate::engine::finding::Severity;
use crate::engine::ids::RuleId;
use crate::engine::manifests::object::Object;
use crate::engine::yaml::Node;

/// A failing (or unevaluable) rule on one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KyvernoResult {
    /// `kyverno/<policy>/<rule>`.
    pub rule: RuleId,
    /// Enforce → error, Audit → warning.
    pub severity: Severity,
    /// Line of the offending key, else of the object.
    pub line: u32,
    /// Kyverno's message.
    pub message: String,
    /// The container concerned (podSecurity), if known.
    pub container: Option<String>,
    /// True when the rule could not be evaluated (Kyverno's `error`).
    pub error: bool,
}

/// What one rule concluded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Satisfied.
    Pass,
    /// Not applicable.
    Skip,
    /// Violated.
    Fail {
        /// Message.
        message: String,
        /// Line.
        line: u32,
    },
    /// Could not be evaluated.
    Error {
        /// Message.
        message: String,
        /// Line.
        line: u32,
    },
}

/// Lazily built variable context for one object.
pub(crate) struct Vars<'a> {
    obj: &'a Object,
    cx: Option<VarContext>,
}

impl<'a> Vars<'a> {
    fn new(obj: &'a Object) -> Self {
        Self { obj, cx: None }
    }

    pub(crate) fn get(&mut self) -> &VarContext {
        let obj = self.obj;
        self.cx.get_or_insert_with(|| {
            let version = match obj.api_version.split_once('/') {
                Some((_, v)) => v,
                None => obj.api_version.as_str(),
            };
            VarContext::new(
                &obj.root.to_json(),
                (obj.group(), version, &obj.kind),
                &obj.name,
                obj.namespace.as_deref().unwrap_or(""),
            )
        })
    }
}

/// Evaluates every policy on one object, without a PSS engine:
/// `podSecurity` rules then report an error result (fail closed). Use
/// [`evaluate_with_pss`] to evaluate them.
pub fn evaluate(policies: &[Policy], obj: &Object) -> Vec<KyvernoResult> {
    evaluate_inner(policies, obj, None)
}

/// Evaluates every policy on one object, with the built-in PSS engine for
/// `podSecurity` rules.
pub fn evaluate_with_pss(
    policies: &[Policy],
    obj: &Object,
    pss: PssCheck<'_>,
) -> Vec<KyvernoResult> {
    evaluate_inner(policies, obj, Some(pss))
}

/// The outcome of every rule that applies to the object, keyed by
/// `(policy, rule)` — for tests and explanations.
pub fn outcomes(
    policies: &[Policy],
    obj: &Object,
    pss: Option<PssCheck<'_>>,
) -> Vec<(String, String, Outcome)> {
    let mut vars = Vars::new(obj);
    let mut out = Vec::new();
    for p in policies {
        for r in &p.rules {
            for (o, _) in rule_outcomes(p, r, obj, &mut vars, pss) {
                out.push((p.name.clone(), r.name.clone(), o));
            }
        }
    }
    out
}

fn evaluate_inner(
    policies: &[Policy],
    obj: &Object,
    pss: Option<PssCheck<'_>>,
) -> Vec<KyvernoResult> {
    let mut vars = Vars::new(obj);
    let mut out = Vec::new();
    for p in policies {
        for r in &p.rules {
            for (o, container) in rule_outcomes(p, r, obj, &mut vars, pss) {
                let (message, line, error) = match o {
                    Outcome::Pass | Outcome::Skip => continue,
                    Outcome::Fail { message, line } => (message, line, false),
                    Outcome::Error { message, line } => (message, line, true),
                };
                let action = action_for(p, r, obj);
                out.push(KyvernoResult {
                    rule: RuleId::new(format!("kyverno/{}/{}", p.name, r.name)),
                    severity: match action {
                        Action::Enforce => Severity::Error,
                        Action::Audit => Severity::Warning,
                    },
                    line,
                    message,
                    container,
                    error,
                });
            }
        }
    }
    out
}

fn action_for(p: &Policy, r: &Rule, obj: &Object) -> Action {
    if let Some(a) = r.action {
        return a;
    }
    if let Some(ns) = obj.namespace.as_deref() {
        for o in &p.overrides {
            if o.namespaces.iter().any(|g| wildcard_match(g, ns)) {
                return o.action;
            }
        }
    }
    p.action
}

/// Does the rule (in its original or generated form) apply to the object?
fn applies(p: &Policy, r: &Rule, obj: &Object) -> bool {
    if let Some(ns) = &p.namespace
        && obj.namespace.as_deref().is_some_and(|o| o != ns)
    {
        return false;
    }
    let as_pod = match r.autogen {
        None => false,
        Some(form) => {
            if !p.controllers.contains(&obj.kind) || autogen::Form::of(&obj.kind) != form {
                return false;
            }
            true
        }
    };
    let t = Target { obj, as_pod };
    block_matches(&r.matcher, &t) && !r.exclude.as_ref().is_some_and(|e| block_excludes(e, &t))
}

fn rule_outcomes(
    p: &Policy,
    r: &Rule,
    obj: &Object,
    vars: &mut Vars<'_>,
    pss: Option<PssCheck<'_>>,
) -> Vec<(Outcome, Option<String>)> {
    if !applies(p, r, obj) {
        return Vec::new();
    }
    if let Some(pre) = &r.preconditions {
        let cx = vars.get();
        let ok = substitute(pre, cx, Mode::Lenient).and_then(|c| eval_block(&c));
        match ok {
            Ok(true) => {}
            Ok(false) => return vec![(Outcome::Skip, None)],
            Err(e) => {
                return vec![(
                    Outcome::Error {
                        message: format!("failed to evaluate preconditions: {e}"),
                        line: obj.line,
                    },
                    None,
                )];
            }
        }
    }
    let name = match r.autogen {
        Some(f) => f.rule_name(&r.name),
        None => r.name.clone(),
    };
    if let Check::PodSecurity(ps) = &r.check {
        let Some(pss) = pss else {
            return vec![(
                Outcome::Error {
                    message: format!(
                        "rule {name}: podSecurity needs the built-in Pod Security engine, which was not provided"
                    ),
                    line: obj.line,
                },
                None,
            )];
        };
        let label = format!(
            "{}:{}",
            match ps.level {
                crate::engine::config::PssLevel::Restricted => "restricted",
                crate::engine::config::PssLevel::Baseline => "baseline",
                crate::engine::config::PssLevel::None => "privileged",
            },
            ps.version
        );
        return ps
            .evaluate(obj, pss)
            .into_iter()
            .map(|v| {
                (
                    Outcome::Fail {
                        message: format!(
                            "Validation rule '{name}' failed. It violates PodSecurity \"{label}\": {}",
                            v.message
                        ),
                        line: v.line,
                    },
                    v.container,
                )
            })
            .collect();
    }
    let message = rule_message(r, vars);
    let o = check_outcome(
        &r.check,
        &name,
        message.as_deref(),
        &obj.root,
        obj.line,
        vars.get(),
    );
    vec![(o, None)]
}

fn rule_message(r: &Rule, vars: &mut Vars<'_>) -> Option<String> {
    let m = r.message.as_deref()?;
    if !m.contains("{{") {
        return Some(m.to_owned());
    }
    Some(match substitute_str(m, vars.get(), Mode::Strict) {
        Ok(J::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => m.to_owned(),
    })
}

/// Kyverno's `buildErrorMessage`.
fn pattern_message(msg: Option<&str>, rule: &str, path: &str, err: &str) -> String {
    match msg.map(|m| m.trim_end_matches('.')) {
        None | Some("") if !path.is_empty() => {
            format!("validation error: rule {rule} failed at path {path}")
        }
        None | Some("") => format!("validation error: rule {rule} execution error: {err}"),
        Some(m) if !path.is_empty() => {
            format!("validation error: {m}. rule {rule} failed at path {path}")
        }
        Some(m) => format!("validation error: {m}. rule {rule} execution error: {err}"),
    }
}

fn pattern_node<'p>(p: &'p Pat, cx: &VarContext) -> Result<std::borrow::Cow<'p, Node>, String> {
    if !p.has_vars {
        return Ok(std::borrow::Cow::Borrowed(&p.node));
    }
    let j = substitute(&p.json, cx, Mode::Strict)?;
    Ok(std::borrow::Cow::Owned(json_to_node(&j, 0)))
}

/// Evaluates a check against a resource (the object, or a foreach element).
pub(crate) fn check_outcome(
    check: &Check,
    rule: &str,
    message: Option<&str>,
    resource: &Node,
    obj_line: u32,
    cx: &VarContext,
) -> Outcome {
    match check {
        Check::Pattern(p) => {
            let pat = match pattern_node(p, cx) {
                Ok(p) => p,
                Err(e) => {
                    return Outcome::Error {
                        message: pattern_message(message, rule, "", &e),
                        line: obj_line,
                    };
                }
            };
            match pattern::match_pattern(resource, &pat) {
                Ok(()) => Outcome::Pass,
                Err(e) if e.skip => Outcome::Skip,
                Err(e) if e.path.is_empty() => Outcome::Error {
                    message: pattern_message(message, rule, "", &e.message),
                    line: e.line,
                },
                Err(e) => Outcome::Fail {
                    message: pattern_message(message, rule, &e.path, &e.message),
                    line: e.line,
                },
            }
        }
        Check::AnyPattern(ps) => {
            let mut failed = Vec::new();
            let mut skipped = 0;
            let mut line = obj_line;
            for (i, p) in ps.iter().enumerate() {
                let pat = match pattern_node(p, cx) {
                    Ok(p) => p,
                    Err(e) => {
                        failed.push(format!("rule {rule}[{i}] failed: {e}"));
                        continue;
                    }
                };
                match pattern::match_pattern(resource, &pat) {
                    Ok(()) => return Outcome::Pass,
                    Err(e) if e.skip => skipped += 1,
                    Err(e) => {
                        if failed.is_empty() {
                            line = e.line;
                        }
                        failed.push(if e.path.is_empty() {
                            format!("rule {rule}[{i}] failed: {}", e.message)
                        } else {
                            format!("rule {rule}[{i}] failed at path {}", e.path)
                        });
                    }
                }
            }
            if failed.is_empty() && skipped > 0 {
                return Outcome::Skip;
            }
            let m = message.unwrap_or("").trim_end_matches('.');
            Outcome::Fail {
                message: format!("validation error: {m}. {}", failed.join(" ")),
                line,
            }
        }
        Check::Deny(conditions) => {
            match substitute(conditions, cx, Mode::Strict).and_then(|c| eval_block(&c)) {
                Ok(false) => Outcome::Pass,
                Ok(true) => Outcome::Fail {
                    message: match message {
                        Some(m) if !m.is_empty() => m.to_owned(),
                        _ => format!("validation error: rule {rule} failed"),
                    },
                    line: obj_line,
                },
                Err(e) => Outcome::Error {
                    message: format!(
                        "rule {rule}: failed to substitute variables in deny conditions: {e}"
                    ),
                    line: obj_line,
                },
            }
        }
        Check::Foreach(list) => foreach::evaluate(list, rule, message, resource, obj_line, cx),
        Check::PodSecurity(_) => Outcome::Error {
            message: format!("rule {rule}: podSecurity inside foreach is not supported"),
            line: obj_line,
        },
    }
}

#[cfg(test)]
mod tests;
