//! Variables (`{{ jmespath }}`) and conditions (`preconditions`,
//! `validate.deny.conditions`), following `pkg/engine/variables`.
//!
//! JMESPath runs on the `jmespath` crate (the reference Rust
//! implementation, passing the JMESPath compliance suite) with Kyverno's
//! commonly used custom functions registered; any other function is
//! reported as unsupported when the policy is loaded.
//!
//! A variable that resolves to `null` is an error, as Kyverno's JMESPath
//! reports unknown keys; in `preconditions` it becomes `""` (Kyverno's
//! preconditions resolver). Use `|| default` in policies, as Kyverno's docs
//! advise.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::sync::LazyLock;

use jmespath::functions::{ArgumentType, CustomFunction, Signature};
use jmespath::{Expression, Rcvar, Runtime, Variable};
use serde_json::Value as J;

use super::operators::{
    Op, Scalar, go_sprint, match_string_pattern, operator_of, parse_duration, parse_quantity,
    split_range, wildcard_match,
};

/// Kyverno's custom JMESPath functions we implement.
pub const CUSTOM_FUNCTIONS: &[&str] = &[
    "to_upper",
    "to_lower",
    "trim",
    "split",
    "equal_fold",
    "regex_match",
    "truncate",
    "compare",
];

static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
    let mut rt = Runtime::new();
    rt.register_builtin_functions();
    let s = || ArgumentType::String;
    let str_fn = |f: fn(&str) -> String| {
        Box::new(CustomFunction::new(
            Signature::new(vec![ArgumentType::String], None),
            Box::new(move |args: &[Rcvar], _: &mut jmespath::Context<'_>| {
                let v = args[0].as_string().cloned().unwrap_or_default();
                Ok(Rc::new(Variable::String(f(&v))))
            }),
        ))
    };
    rt.register_function("to_upper", str_fn(|s| s.to_uppercase()));
    rt.register_function("to_lower", str_fn(|s| s.to_lowercase()));
    rt.register_function(
        "trim",
        Box::new(CustomFunction::new(
            Signature::new(vec![s(), s()], None),
            Box::new(|args: &[Rcvar], _: &mut jmespath::Context<'_>| {
                let a = args[0].as_string().cloned().unwrap_or_default();
                let cut: Vec<char> = args[1]
                    .as_string()
                    .map(|c| c.chars().collect())
                    .unwrap_or_default();
                Ok(Rc::new(Variable::String(
                    a.trim_matches(|c| cut.contains(&c)).to_owned(),
                )))
            }),
        )),
    );
    rt.register_function(
        "split",
        Box::new(CustomFunction::new(
            Signature::new(vec![s(), s()], None),
            Box::new(|args: &[Rcvar], _: &mut jmespath::Context<'_>| {
                let a = args[0].as_string().cloned().unwrap_or_default();
                let sep = args[1].as_string().cloned().unwrap_or_default();
                let parts: Vec<Rcvar> = if sep.is_empty() {
                    a.chars()
                        .map(|c| Rc::new(Variable::String(c.to_string())))
                        .collect()
                } else {
                    a.split(sep.as_str())
                        .map(|p| Rc::new(Variable::String(p.to_owned())))
                        .collect()
                };
                Ok(Rc::new(Variable::Array(parts)))
            }),
        )),
    );
    rt.register_function(
        "equal_fold",
        Box::new(CustomFunction::new(
            Signature::new(vec![s(), s()], None),
            Box::new(|args: &[Rcvar], _: &mut jmespath::Context<'_>| {
                let a = args[0].as_string().cloned().unwrap_or_default();
                let b = args[1].as_string().cloned().unwrap_or_default();
                Ok(Rc::new(Variable::Bool(
                    a.to_lowercase() == b.to_lowercase(),
                )))
            }),
        )),
    );
    rt.register_function(
        "regex_match",
        Box::new(CustomFunction::new(
            Signature::new(vec![s(), ArgumentType::Any], None),
            Box::new(|args: &[Rcvar], _: &mut jmespath::Context<'_>| {
                let re = args[0].as_string().cloned().unwrap_or_default();
                let v = match &*args[1] {
                    Variable::String(s) => s.clone(),
                    Variable::Number(n) => n.to_string(),
                    other => serde_json::to_string(other).unwrap_or_default(),
                };
                let ok = regex::RegexBuilder::new(&re)
                    .size_limit(1 << 20)
                    .build()
                    .map(|r| r.is_match(&v))
                    .unwrap_or(false);
                Ok(Rc::new(Variable::Bool(ok)))
            }),
        )),
    );
    rt.register_function(
        "truncate",
        Box::new(CustomFunction::new(
            Signature::new(vec![s(), ArgumentType::Number], None),
            Box::new(|args: &[Rcvar], _: &mut jmespath::Context<'_>| {
                let a = args[0].as_string().cloned().unwrap_or_default();
                let n = args[1].as_number().unwrap_or(0.0).max(0.0) as usize;
                Ok(Rc::new(Variable::String(a.chars().take(n).collect())))
            }),
        )),
    );
    rt.register_function(
        "compare",
        Box::new(CustomFunction::new(
            Signature::new(vec![s(), s()], None),
            Box::new(|args: &[Rcvar], _: &mut jmespath::Context<'_>| {
                let a = args[0].as_string().cloned().unwrap_or_default();
                let b = args[1].as_string().cloned().unwrap_or_default();
                Ok(Rc::new(Variable::Number(serde_json::Number::from(
                    a.cmp(&b) as i64,
                ))))
            }),
        )),
    );
    rt
});

thread_local! {
    static CACHE: RefCell<HashMap<String, Rc<Expression<'static>>>> = RefCell::new(HashMap::new());
}

const CACHE_MAX: usize = 4096;

fn compiled(expr: &str) -> Result<Rc<Expression<'static>>, String> {
    if let Some(e) = CACHE.with(|c| c.borrow().get(expr).cloned()) {
        return Ok(e);
    }
    let e = Rc::new(
        RUNTIME
            .compile(expr)
            .map_err(|e| format!("invalid JMESPath `{expr}`: {e}"))?,
    );
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHE_MAX {
            c.clear();
        }
        c.insert(expr.to_owned(), e.clone());
    });
    Ok(e)
}

/// Checks that an expression parses and uses only functions we implement;
/// returns a problem description otherwise.
pub fn check_expression(expr: &str) -> Result<(), String> {
    let ast = jmespath::parse(expr).map_err(|e| format!("invalid JMESPath `{expr}`: {e}"))?;
    let mut bad = Vec::new();
    walk_functions(&ast, &mut bad);
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "JMESPath function(s) {} in `{expr}` are not supported",
            bad.join(", ")
        ))
    }
}

fn walk_functions(ast: &jmespath::ast::Ast, bad: &mut Vec<String>) {
    use jmespath::ast::Ast;
    match ast {
        Ast::Function { name, args, .. } => {
            if RUNTIME.get_function(name).is_none() && !bad.contains(name) {
                bad.push(name.clone());
            }
            for a in args {
                walk_functions(a, bad);
            }
        }
        Ast::Comparison { lhs, rhs, .. }
        | Ast::And { lhs, rhs, .. }
        | Ast::Or { lhs, rhs, .. }
        | Ast::Subexpr { lhs, rhs, .. }
        | Ast::Projection { lhs, rhs, .. } => {
            walk_functions(lhs, bad);
            walk_functions(rhs, bad);
        }
        Ast::Condition {
            predicate, then, ..
        } => {
            walk_functions(predicate, bad);
            walk_functions(then, bad);
        }
        Ast::Not { node, .. } | Ast::Flatten { node, .. } | Ast::ObjectValues { node, .. } => {
            walk_functions(node, bad)
        }
        Ast::Expref { ast, .. } => walk_functions(ast, bad),
        Ast::MultiList { elements, .. } => {
            for e in elements {
                walk_functions(e, bad);
            }
        }
        Ast::MultiHash { elements, .. } => {
            for e in elements {
                walk_functions(&e.value, bad);
            }
        }
        _ => {}
    }
}

/// Every `{{ … }}` expression inside a string.
pub fn variables_in(s: &str) -> Vec<&str> {
    scan(s).into_iter().map(|(_, _, e)| e).collect()
}

/// (start, end, inner expression) of each `{{ … }}` (one level of `{}`
/// allowed inside, like Kyverno's `RegexVariables`; `\{{` is escaped).
fn scan(s: &str) -> Vec<(usize, usize, &str)> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] == b'{' && b[i + 1] == b'{' && (i == 0 || b[i - 1] != b'\\') {
            let start = i;
            let mut j = i + 2;
            let mut depth = 0usize;
            let mut end = None;
            while j < b.len() {
                match b[j] {
                    b'{' => depth += 1,
                    b'}' if depth > 0 => depth -= 1,
                    b'}' if j + 1 < b.len() && b[j + 1] == b'}' => {
                        end = Some(j + 2);
                        break;
                    }
                    _ => {}
                }
                j += 1;
            }
            match end {
                Some(e) => {
                    out.push((start, e, s[start + 2..e - 2].trim()));
                    i = e;
                }
                None => break,
            }
        } else {
            i += 1;
        }
    }
    out
}

/// The data variables are resolved against.
#[derive(Clone)]
pub struct VarContext {
    root: BTreeMap<String, Rcvar>,
    data: Rcvar,
}

impl VarContext {
    /// A context with `request.object` (and `request.operation: CREATE`,
    /// `request.name`, `request.namespace`, `request.kind`).
    pub fn new(object: &J, kind: (&str, &str, &str), name: &str, namespace: &str) -> Self {
        let obj = Variable::from_serializable(object).unwrap_or(Variable::Null);
        let mut req: BTreeMap<String, Rcvar> = BTreeMap::new();
        req.insert("object".into(), Rc::new(obj));
        req.insert("operation".into(), string("CREATE"));
        req.insert("name".into(), string(name));
        req.insert("namespace".into(), string(namespace));
        let mut k = BTreeMap::new();
        k.insert("group".to_owned(), string(kind.0));
        k.insert("version".to_owned(), string(kind.1));
        k.insert("kind".to_owned(), string(kind.2));
        req.insert("kind".into(), Rc::new(Variable::Object(k)));
        let mut root = BTreeMap::new();
        root.insert("request".to_owned(), Rc::new(Variable::Object(req)));
        let data = Rc::new(Variable::Object(root.clone()));
        Self { root, data }
    }

    /// Adds `element` and `elementIndex` (foreach).
    pub fn with_element(&self, element: Rcvar, index: usize) -> Self {
        let mut root = self.root.clone();
        root.insert("element".into(), element);
        root.insert(
            "elementIndex".into(),
            Rc::new(Variable::Number(serde_json::Number::from(index))),
        );
        let data = Rc::new(Variable::Object(root.clone()));
        Self { root, data }
    }

    /// Evaluates one JMESPath expression.
    pub fn query(&self, expr: &str) -> Result<Rcvar, String> {
        let e = compiled(expr)?;
        // `Expression::search` would re-serialize the whole object through
        // serde on every query; interpret the prebuilt tree instead.
        let mut ctx = jmespath::Context::new(e.as_str(), &RUNTIME);
        jmespath::interpret(&self.data, e.as_ast(), &mut ctx)
            .map_err(|e| format!("JMESPath `{expr}` failed: {e}"))
    }
}

fn string(s: &str) -> Rcvar {
    Rc::new(Variable::String(s.to_owned()))
}

/// A JMESPath value as JSON.
pub fn to_json(v: &Variable) -> J {
    serde_json::to_value(v).unwrap_or(J::Null)
}

/// How unresolvable variables are treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// An error (deny conditions, messages, foreach).
    Strict,
    /// Replaced by `""` (preconditions).
    Lenient,
}

/// Substitutes every variable in a JSON document (Kyverno's
/// `SubstituteAll`). A string that is exactly one variable takes the
/// variable's type.
pub fn substitute(doc: &J, cx: &VarContext, mode: Mode) -> Result<J, String> {
    Ok(match doc {
        J::String(s) => substitute_str(s, cx, mode)?,
        J::Array(items) => J::Array(
            items
                .iter()
                .map(|i| substitute(i, cx, mode))
                .collect::<Result<_, _>>()?,
        ),
        J::Object(m) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m {
                out.insert(k.clone(), substitute(v, cx, mode)?);
            }
            J::Object(out)
        }
        other => other.clone(),
    })
}

/// Substitutes the variables of one string.
pub fn substitute_str(s: &str, cx: &VarContext, mode: Mode) -> Result<J, String> {
    let vars = scan(s);
    if vars.is_empty() {
        return Ok(J::String(s.replace("\\{{", "{{")));
    }
    let resolve = |expr: &str| -> Result<J, String> {
        let r = cx.query(expr).map(|v| to_json(&v));
        match (r, mode) {
            (Ok(J::Null), Mode::Strict) => Err(format!("variable `{expr}` could not be resolved")),
            (Ok(v), _) => Ok(v),
            (Err(e), Mode::Strict) => Err(e),
            (Err(_), Mode::Lenient) => Ok(J::String(String::new())),
        }
        .map(|v| match (v, mode) {
            (J::Null, Mode::Lenient) => J::String(String::new()),
            (v, _) => v,
        })
    };
    if vars.len() == 1 && vars[0].0 == 0 && vars[0].1 == s.len() {
        return resolve(vars[0].2);
    }
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for (start, end, expr) in vars {
        out.push_str(&s[last..start]);
        match resolve(expr)? {
            J::String(v) => out.push_str(&v),
            v => out.push_str(&v.to_string()),
        }
        last = end;
    }
    out.push_str(&s[last..]);
    Ok(J::String(out))
}

/// The condition operators Kyverno accepts.
pub const OPERATORS: &[&str] = &[
    "Equal",
    "Equals",
    "NotEqual",
    "NotEquals",
    "In",
    "AnyIn",
    "AllIn",
    "NotIn",
    "AnyNotIn",
    "AllNotIn",
    "GreaterThanOrEquals",
    "GreaterThan",
    "LessThanOrEquals",
    "LessThan",
    "DurationGreaterThanOrEquals",
    "DurationGreaterThan",
    "DurationLessThanOrEquals",
    "DurationLessThan",
];

/// Evaluates a substituted condition block: `{any: [...], all: [...]}` or a
/// legacy list (all must hold).
pub fn eval_block(block: &J) -> Result<bool, String> {
    match block {
        J::Array(list) => list.iter().try_fold(true, |acc, c| Ok(acc && eval_one(c)?)),
        J::Object(m) => {
            let any = match m.get("any") {
                Some(J::Array(list)) if !list.is_empty() => {
                    let mut r = false;
                    for c in list {
                        if eval_one(c)? {
                            r = true;
                            break;
                        }
                    }
                    r
                }
                _ => true,
            };
            let mut all = true;
            if let Some(J::Array(list)) = m.get("all") {
                for c in list {
                    if !eval_one(c)? {
                        all = false;
                        break;
                    }
                }
            }
            Ok(any && all)
        }
        J::Null => Ok(true),
        _ => Err("conditions must be a list or {any, all}".into()),
    }
}

fn eval_one(c: &J) -> Result<bool, String> {
    let key = c.get("key").unwrap_or(&J::Null);
    let value = c.get("value").unwrap_or(&J::Null);
    let op = c.get("operator").and_then(J::as_str).unwrap_or_default();
    evaluate_operator(op, key, value).ok_or_else(|| format!("unknown operator `{op}`"))
}

/// One operator on substituted key and value; `None` for an unknown operator.
pub fn evaluate_operator(op: &str, key: &J, value: &J) -> Option<bool> {
    Some(match op {
        "Equal" | "Equals" => equals(key, value),
        "NotEqual" | "NotEquals" => !equals(key, value),
        "AnyIn" => set_op(key, value, SetOp::AnyIn),
        "AnyNotIn" => set_op(key, value, SetOp::AnyNotIn),
        "AllIn" | "In" => set_op(key, value, SetOp::AllIn),
        "AllNotIn" => set_op(key, value, SetOp::AllNotIn),
        "NotIn" => !set_op(key, value, SetOp::AllIn) && is_set_operand(key, value),
        "GreaterThanOrEquals" => numeric(key, value, Op::MoreEqual),
        "GreaterThan" => numeric(key, value, Op::More),
        "LessThanOrEquals" => numeric(key, value, Op::LessEqual),
        "LessThan" => numeric(key, value, Op::Less),
        "DurationGreaterThanOrEquals" => duration_op(key, value, Op::MoreEqual),
        "DurationGreaterThan" => duration_op(key, value, Op::More),
        "DurationLessThanOrEquals" => duration_op(key, value, Op::LessEqual),
        "DurationLessThan" => duration_op(key, value, Op::Less),
        _ => return None,
    })
}

fn sc(v: &J) -> Scalar<'_> {
    match v {
        J::Null => Scalar::Null,
        J::Bool(b) => Scalar::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Scalar::Int(i),
            None => Scalar::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Scalar::Str(s),
        _ => Scalar::Composite,
    }
}

fn sprint(v: &J) -> String {
    match v {
        J::Array(_) | J::Object(_) => v.to_string(),
        _ => go_sprint(sc(v)),
    }
}

/// Kyverno's `parseDuration`: at least one side is a duration string (not
/// `"0"`); the other may be a number of seconds.
fn durations(key: &J, value: &J) -> Option<(f64, f64)> {
    let as_d = |v: &J| match v {
        J::String(s) if s != "0" => parse_duration(s).map(|d| d as f64 / 1e9),
        _ => None,
    };
    let (kd, vd) = (as_d(key), as_d(value));
    if kd.is_none() && vd.is_none() {
        return None;
    }
    let secs = |v: &J| v.as_f64();
    Some((kd.or_else(|| secs(key))?, vd.or_else(|| secs(value))?))
}

fn equals(key: &J, value: &J) -> bool {
    match key {
        J::Bool(k) => value.as_bool() == Some(*k),
        J::Number(_) => match (sc(key), value) {
            (Scalar::Int(k), J::String(s)) => s.parse::<i64>().ok() == Some(k),
            (Scalar::Float(k), J::String(s)) => s.parse::<f64>().ok() == Some(k),
            (Scalar::Int(k), J::Number(_)) => match sc(value) {
                Scalar::Int(v) => v == k,
                Scalar::Float(f) => f.trunc() == f && f == k as f64,
                _ => false,
            },
            (Scalar::Float(k), J::Number(_)) => value.as_f64() == Some(k),
            _ => false,
        },
        J::String(k) => {
            if let Some((a, b)) = durations(key, value) {
                return a == b;
            }
            if let (Some(a), J::String(v)) = (parse_quantity(k), value)
                && let Some(b) = parse_quantity(v)
            {
                return a == b;
            }
            match value {
                J::String(v) => wildcard_match(v, k),
                _ => false,
            }
        }
        J::Array(_) | J::Object(_) => key == value,
        J::Null => false,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)] // Kyverno's operator names
enum SetOp {
    AnyIn,
    AnyNotIn,
    AllIn,
    AllNotIn,
}

fn is_set_operand(key: &J, value: &J) -> bool {
    !matches!(key, J::Null | J::Object(_))
        && matches!(value, J::Array(_) | J::String(_) | J::Number(_))
}

fn either_match(a: &str, b: &str) -> bool {
    wildcard_match(a, b) || wildcard_match(b, a)
}

/// `AnyIn`/`AnyNotIn`/`AllIn`/`AllNotIn` (`pkg/engine/variables/operator`):
/// keys and values are compared as Go-formatted strings with wildcards on
/// either side; a string value may be a range (`5000-6000`) or a JSON list.
fn set_op(key: &J, value: &J, op: SetOp) -> bool {
    let keys: Vec<String> = match key {
        J::Array(items) => items.iter().map(sprint).collect(),
        J::String(_) | J::Number(_) => vec![sprint(key)],
        J::Bool(_) if op == SetOp::AnyIn => vec![sprint(key)],
        _ => return false,
    };
    let single = !matches!(key, J::Array(_));
    let in_range = |k: &str, range: &str| match_string_pattern(Scalar::Str(k), range);
    let values: Vec<String> = match value {
        J::Array(items) => items.iter().map(sprint).collect(),
        J::Number(_) if !single => vec![sprint(value)],
        J::String(v) => {
            if single && wildcard_match(v, &keys[0]) {
                return matches!(op, SetOp::AnyIn | SetOp::AllIn);
            }
            if !single && keys.len() == 1 && &keys[0] == v {
                return matches!(op, SetOp::AnyIn | SetOp::AllIn);
            }
            if operator_of(v) == Op::InRange && split_range(v, "-").is_some() {
                let inside = |k: &String| in_range(k, v);
                return match op {
                    SetOp::AnyIn => keys.iter().any(inside),
                    SetOp::AllIn => keys.iter().all(inside),
                    SetOp::AnyNotIn => keys.iter().any(|k| !inside(k)),
                    SetOp::AllNotIn => keys.iter().all(|k| !inside(k)),
                };
            }
            // A JSON list of strings in a string (a ConfigMap value);
            // other valid JSON fails to decode as []string in Kyverno.
            match serde_json::from_str::<J>(v) {
                Ok(J::Array(items)) => items.iter().map(sprint).collect(),
                Ok(_) => return false,
                Err(_) => vec![v.clone()],
            }
        }
        _ => return false,
    };
    let found = |k: &String| values.iter().any(|v| either_match(k, v));
    match op {
        SetOp::AnyIn => keys.iter().any(found),
        SetOp::AllIn => keys.iter().all(found),
        SetOp::AnyNotIn => keys.iter().any(|k| !found(k)),
        SetOp::AllNotIn => keys.iter().all(|k| !found(k)),
    }
}

fn cmp(a: f64, b: f64, op: Op) -> bool {
    match op {
        Op::MoreEqual => a >= b,
        Op::More => a > b,
        Op::LessEqual => a <= b,
        Op::Less => a < b,
        _ => false,
    }
}

fn num_of_str(s: &str) -> Option<f64> {
    s.parse::<f64>().ok()
}

/// `GreaterThan` & co (`numeric.go`): durations, then quantities, then
/// numbers (strings parsed), then semantic versions.
fn numeric(key: &J, value: &J, op: Op) -> bool {
    if let Some((a, b)) = durations(key, value) {
        return cmp(a, b, op);
    }
    match key {
        J::Number(_) => {
            let k = key.as_f64().unwrap_or(f64::NAN);
            match value {
                J::Number(_) => cmp(k, value.as_f64().unwrap_or(f64::NAN), op),
                J::String(s) => num_of_str(s).is_some_and(|v| cmp(k, v, op)),
                _ => false,
            }
        }
        J::String(k) => {
            if let (Some(a), J::String(v)) = (parse_quantity(k), value)
                && let Some(b) = parse_quantity(v)
            {
                return cmp(a.cmp(&b) as i8 as f64, 0.0, op);
            }
            if let Some(kf) = num_of_str(k) {
                return numeric(&J::from(kf), value, op);
            }
            if let (Some(a), J::String(v)) = (semver(k), value)
                && let Some(b) = semver(v)
            {
                return cmp(a.cmp(&b) as i8 as f64, 0.0, op);
            }
            false
        }
        _ => false,
    }
}

fn semver(s: &str) -> Option<(u64, u64, u64)> {
    let core = s.split(['-', '+']).next()?;
    let mut it = core.split('.');
    let v = (
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
    );
    if it.next().is_some() {
        return None;
    }
    Some(v)
}

fn duration_op(key: &J, value: &J, op: Op) -> bool {
    let d = |v: &J| match v {
        J::String(s) => parse_duration(s).map(|d| d as f64 / 1e9),
        J::Number(_) => v.as_f64(),
        _ => None,
    };
    match (d(key), d(value)) {
        (Some(a), Some(b)) => cmp(a, b, op),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn op(o: &str, k: J, v: J) -> bool {
        evaluate_operator(o, &k, &v).unwrap()
    }

    #[test]
    fn equals_and_not_equals() {
        assert!(op("Equals", json!("CREATE"), json!("CREATE")));
        assert!(op("Equals", json!("nginx:1"), json!("nginx:*")));
        assert!(!op("Equals", json!("CREATE"), json!("DELETE")));
        assert!(op("NotEquals", json!("CREATE"), json!("DELETE")));
        assert!(op("Equals", json!(1), json!("1")));
        assert!(op("Equals", json!(true), json!(true)));
        assert!(!op("Equals", json!(true), json!("true")));
        assert!(op("Equals", json!("1Gi"), json!("1024Mi")));
        assert!(op("Equals", json!("1h"), json!("60m")));
        assert!(op("Equals", json!({"a": 1}), json!({"a": 1})));
    }

    #[test]
    fn set_operators() {
        let allowed = json!(["AUDIT_WRITE", "CHOWN"]);
        assert!(op(
            "AnyNotIn",
            json!(["CHOWN", "SYS_ADMIN"]),
            allowed.clone()
        ));
        assert!(!op("AnyNotIn", json!(["CHOWN"]), allowed.clone()));
        assert!(!op("AnyNotIn", json!([]), allowed.clone()));
        assert!(op("AnyIn", json!(["CHOWN", "X"]), allowed.clone()));
        assert!(!op("AnyIn", json!(["X"]), allowed.clone()));
        assert!(op(
            "AllIn",
            json!(["CHOWN", "AUDIT_WRITE"]),
            allowed.clone()
        ));
        assert!(!op("AllIn", json!(["CHOWN", "X"]), allowed.clone()));
        assert!(op("AllNotIn", json!(["X", "Y"]), allowed.clone()));
        assert!(!op("AllNotIn", json!(["X", "CHOWN"]), allowed.clone()));
        // a single key
        assert!(op("AnyNotIn", json!("ALL"), json!(["NET_RAW"])));
        assert!(!op("AnyNotIn", json!("ALL"), json!(["ALL"])));
        // wildcards on either side
        assert!(op("AnyIn", json!(["nginx:1"]), json!(["nginx:*"])));
        // JSON list in a string
        assert!(op("AnyIn", json!("b"), json!("[\"a\", \"b\"]")));
        // deprecated In / NotIn
        assert!(op("In", json!("a"), json!(["a", "b"])));
        assert!(op("NotIn", json!("c"), json!(["a", "b"])));
    }

    #[test]
    fn ranges_in_set_operators() {
        // disallow-host-ports-range: only 5000-6000 (or 0) allowed
        assert!(op("AnyNotIn", json!([80]), json!("5000-6000")));
        assert!(!op("AnyNotIn", json!([5500]), json!("5000-6000")));
        assert!(op("AnyNotIn", json!([5500, 7000]), json!("5000-6000")));
        assert!(op("AnyIn", json!([5500, 7000]), json!("5000-6000")));
        assert!(!op("AllIn", json!([5500, 7000]), json!("5000-6000")));
        assert!(op("AllNotIn", json!([1, 7000]), json!("5000-6000")));
        assert!(op("AnyNotIn", json!([80]), json!([0])));
        assert!(!op("AnyNotIn", json!([0]), json!([0])));
    }

    #[test]
    fn numeric_operators() {
        assert!(op("GreaterThan", json!(5), json!(3)));
        assert!(!op("GreaterThan", json!(3), json!(3)));
        assert!(op("GreaterThanOrEquals", json!(3), json!("3")));
        assert!(op("LessThan", json!("100Mi"), json!("1Gi")));
        assert!(op("LessThanOrEquals", json!("1.2.3"), json!("1.2.3")));
        assert!(op("GreaterThan", json!("1.10.0"), json!("1.9.0")));
        assert!(op("GreaterThan", json!("2h"), json!("90m")));
        assert!(op("DurationLessThan", json!("30m"), json!("1h")));
        assert!(!op("DurationGreaterThan", json!("30m"), json!("1h")));
        assert_eq!(evaluate_operator("Bogus", &json!(1), &json!(1)), None);
    }

    #[test]
    fn variables() {
        let obj = json!({"spec": {"containers": [{"name": "a", "ports": [{"hostPort": 80}]}],
            "volumes": [{"name": "v", "hostPath": {"path": "/"}}]}});
        let cx = VarContext::new(&obj, ("", "v1", "Pod"), "p", "default");
        let k = substitute_str(
            "{{ request.object.spec.[ephemeralContainers, initContainers, containers][].ports[].hostPort }}",
            &cx,
            Mode::Strict,
        )
        .unwrap();
        assert_eq!(k, json!([80]));
        let k = substitute_str(
            "{{ request.object.spec.volumes[].keys(@)[] || '' }}",
            &cx,
            Mode::Strict,
        )
        .unwrap();
        let mut keys: Vec<String> = k
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        keys.sort();
        assert_eq!(keys, ["hostPath", "name"]);
        assert_eq!(
            substitute_str("{{ request.operation || 'BACKGROUND' }}", &cx, Mode::Strict).unwrap(),
            json!("CREATE")
        );
        assert_eq!(
            substitute_str(
                "pod {{request.object.spec.containers[0].name}} bad",
                &cx,
                Mode::Strict
            )
            .unwrap(),
            json!("pod a bad")
        );
        assert!(substitute_str("{{ request.object.nope }}", &cx, Mode::Strict).is_err());
        assert_eq!(
            substitute_str("{{ request.object.nope }}", &cx, Mode::Lenient).unwrap(),
            json!("")
        );
        assert_eq!(
            substitute_str("{{ to_upper('x') }}", &cx, Mode::Strict).unwrap(),
            json!("X")
        );
    }

    #[test]
    fn function_support_is_checked() {
        assert!(check_expression("length(request.object.spec.containers)").is_ok());
        assert!(check_expression("to_string(`1`)").is_ok());
        let e = check_expression("images.containers | lookup(@, 'x')").unwrap_err();
        assert!(e.contains("lookup"));
        assert!(check_expression("a[").is_err());
    }

    #[test]
    fn blocks() {
        let t = json!({"key": 1, "operator": "Equals", "value": 1});
        let f = json!({"key": 1, "operator": "Equals", "value": 2});
        assert!(eval_block(&json!({"any": [f, t]})).unwrap());
        assert!(!eval_block(&json!({"all": [t, f]})).unwrap());
        assert!(eval_block(&json!([t])).unwrap());
        assert!(!eval_block(&json!({"any": [f], "all": [t]})).unwrap());
    }
}
