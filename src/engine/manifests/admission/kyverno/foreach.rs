//! `validate.foreach`: each element of a JMESPath list must satisfy a
//! nested pattern, anyPattern, deny or foreach, with `{{ element }}` and
//! `{{ elementIndex }}` bound (Kyverno's `validateForEach`). The rule fails
//! on the first failing element, errors on the first error, and is skipped
//! when every element was skipped.

use std::rc::Rc;

use super::deny::{Mode, VarContext, eval_block, substitute};
use super::policy::{ForEach, json_to_node};
use super::{Outcome, check_outcome};
use crate::engine::yaml::Node;

/// Evaluates a list of `foreach` declarations; all must hold.
pub fn evaluate(
    list: &[ForEach],
    rule: &str,
    message: Option<&str>,
    resource: &Node,
    obj_line: u32,
    cx: &VarContext,
) -> Outcome {
    let mut applied = 0usize;
    for f in list {
        match one(f, rule, message, resource, obj_line, cx) {
            Outcome::Pass => applied += 1,
            Outcome::Skip => {}
            other => return other,
        }
    }
    if applied == 0 && !list.is_empty() {
        Outcome::Skip
    } else {
        Outcome::Pass
    }
}

fn one(
    f: &ForEach,
    rule: &str,
    message: Option<&str>,
    resource: &Node,
    obj_line: u32,
    cx: &VarContext,
) -> Outcome {
    let items = match cx.query(&f.list) {
        Ok(v) => match v.as_array() {
            Some(a) => a.clone(),
            None if v.is_null() => Vec::new(),
            None => {
                return Outcome::Error {
                    message: format!("rule {rule}: foreach list `{}` is not a list", f.list),
                    line: obj_line,
                };
            }
        },
        Err(e) => {
            return Outcome::Error {
                message: format!("rule {rule}: failed to evaluate foreach list: {e}"),
                line: obj_line,
            };
        }
    };
    let mut applied = 0usize;
    for (i, item) in items.iter().enumerate() {
        let ecx = cx.with_element(Rc::clone(item), i);
        if let Some(pre) = &f.preconditions {
            match substitute(pre, &ecx, Mode::Lenient).and_then(|c| eval_block(&c)) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    return Outcome::Error {
                        message: format!(
                            "rule {rule}: failed to evaluate foreach preconditions: {e}"
                        ),
                        line: obj_line,
                    };
                }
            }
        }
        let element_json = super::deny::to_json(item);
        // Patterns apply to the element unless `elementScope: false`.
        let element_node;
        let target = if f.element_scope == Some(false) {
            resource
        } else {
            element_node = json_to_node(&element_json, obj_line);
            &element_node
        };
        match check_outcome(&f.check, rule, message, target, obj_line, &ecx) {
            Outcome::Pass => applied += 1,
            Outcome::Skip => {}
            other => return other,
        }
    }
    if applied == 0 && !items.is_empty() {
        Outcome::Skip
    } else {
        Outcome::Pass
    }
}
