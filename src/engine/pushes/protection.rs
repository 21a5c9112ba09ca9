//! `protection-weakened`: compares a branch-protection rule or a ruleset
//! before and after a change and lists every loosening of what guards a
//! deployment branch, each with its old and new value. Pure: no I/O.
//!
//! Rulesets are compared as whole REST objects (`GET …/rulesets/{id}` and
//! the ruleset history's `state`, the same shape as the webhook's
//! `repository_ruleset`):
//! - **conditions**: `ref_name.include` / `exclude` (`~ALL`,
//!   `~DEFAULT_BRANCH`, `refs/heads/…` fnmatch patterns) — a protected ref
//!   that stops being included, or starts being excluded, is a loosening;
//!   for organisation rulesets also `repository_name` (include, exclude),
//!   `repository_id` and `repository_property` targeting; a changed
//!   `target` (branch → tag);
//! - **enforcement**: `active` > `evaluate` > `disabled`;
//! - **bypass actors** by identity (`actor_type` + `actor_id`) and mode
//!   (`pull_request` < `always` < `exempt`): a new actor, or one whose mode
//!   widens, is a loosening even when the count stays the same;
//! - **rules**: a protective rule removed, and every parameter that guards
//!   the branch (review count, stale dismissal, code-owner review,
//!   last-push approval, thread resolution; required checks, their
//!   `integration_id` pin — un-pinning from an App lets anyone post the
//!   status —, strict policy; update/fetch-and-merge, deployments,
//!   workflows).
//!
//! Classic branch protection is compared the same way on the webhook's
//! `rule` object (enforcement levels `off` < `non_admins` < `everyone`),
//! with the old values rebuilt from `changes.X.from` ([`classic_before`]).
//! When the ruleset history cannot be read, [`ruleset_before`] rebuilds the
//! old ruleset from the webhook's `changes` the same way.

use serde_json::{Map, Value};

use super::ref_glob;

/// Our check-run names: dropping one of them from required checks is the
/// most direct way to bypass this App.
pub const OUR_CHECKS: [&str; 3] = [
    "gitops-guard/manifests",
    "gitops-guard/reviews",
    "gitops-guard/signatures",
];

/// One loosening: what, and the value before and after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Weakening {
    /// What changed, e.g. "required approving reviews lowered".
    pub what: String,
    /// The old value, in words or as written (`2`, `active`, `app 123`).
    pub before: String,
    /// The new value.
    pub after: String,
}

fn w(what: impl Into<String>, before: impl Into<String>, after: impl Into<String>) -> Weakening {
    Weakening {
        what: what.into(),
        before: before.into(),
        after: after.into(),
    }
}

/// What a change is judged against: the repository's protected refs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    /// The default branch (`~DEFAULT_BRANCH`).
    pub default_branch: String,
    /// Protected refs as full ref globs (`refs/heads/main`,
    /// `refs/heads/release/*`, `refs/tags/v*`).
    pub protected: Vec<String>,
    /// Repository name without owner (organisation rulesets' targeting).
    pub repo_name: String,
    /// Repository id, when known.
    pub repo_id: Option<u64>,
    /// This App's id, when known: a check re-pinned *to* it is a
    /// tightening; pinned away from any App it was pinned to, a loosening.
    pub app_id: Option<i64>,
}

/// `refs/heads/x` → (`heads`, `x`); `refs/tags/x` → (`tags`, `x`).
fn split_ref(r: &str) -> Option<(&str, &str)> {
    r.strip_prefix("refs/heads/")
        .map(|rest| ("heads", rest))
        .or_else(|| r.strip_prefix("refs/tags/").map(|rest| ("tags", rest)))
}

/// Do two full ref globs (or a glob and a ref) share a ref? The names
/// below `refs/heads/` / `refs/tags/` are compared in the `push.branches`
/// dialect ([`ref_glob`]). Unsure (another ref namespace, a pattern that
/// dialect cannot read) means yes.
fn overlap(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (split_ref(a), split_ref(b)) {
        (Some((ka, ra)), Some((kb, rb))) => {
            ka == kb
                && (ra == rb
                    || ref_glob(ra, rb)
                    || ref_glob(rb, ra)
                    // A pattern the dialect refuses cannot be ruled out.
                    || crate::engine::config::globs::glob(ra, crate::engine::config::globs::GlobKind::Ref).is_none()
                    || crate::engine::config::globs::glob(rb, crate::engine::config::globs::GlobKind::Ref).is_none())
        }
        _ => true,
    }
}

fn strs(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn show(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "unset".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn list_text(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

// ---------------------------------------------------------------- classic

/// The classic rule as it was before an `edited` event: `rule` with every
/// `changes.X.from` written back.
pub fn classic_before(rule: &Value, changes: &Value) -> Value {
    let mut before = rule.clone();
    if let (Some(b), Some(ch)) = (before.as_object_mut(), changes.as_object()) {
        for (k, c) in ch {
            if let Some(from) = c.get("from") {
                b.insert(k.clone(), from.clone());
            }
        }
    }
    before
}

fn level_rank(v: Option<&Value>) -> i32 {
    match v.and_then(Value::as_str) {
        Some("everyone") => 2,
        Some("non_admins") => 1,
        _ => 0,
    }
}

/// Does a classic rule with branch pattern `pattern` cover a protected
/// branch? Unsure means yes: an extra alert beats a missed one.
pub fn classic_covers(pattern: &str, scope: &Scope) -> bool {
    let p = format!("refs/heads/{pattern}");
    scope
        .protected
        .iter()
        .filter(|r| r.starts_with("refs/heads/"))
        .any(|r| overlap(&p, r))
}

/// Settings a classic rule enforces (for deletions), in words.
fn classic_enforced(rule: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let n = rule
        .get("required_approving_review_count")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if level_rank(rule.get("pull_request_reviews_enforcement_level")) > 0 || n > 0 {
        out.push(format!("{n} required approving reviews"));
    }
    if level_rank(rule.get("signature_requirement_enforcement_level")) > 0 {
        out.push("signed commits".into());
    }
    let checks = check_list(rule.get("required_status_checks"));
    if !checks.is_empty() {
        out.push(format!(
            "required status checks {}",
            list_text(&checks.iter().map(|c| c.context.clone()).collect::<Vec<_>>())
        ));
    }
    if level_rank(rule.get("allow_force_pushes_enforcement_level")) == 0 {
        out.push("the block on force-pushes".into());
    }
    out
}

/// Every loosening from `before` to `after` of a classic rule.
pub fn classic_weakenings(before: &Value, after: &Value, scope: &Scope) -> Vec<Weakening> {
    let mut out = Vec::new();
    let b = |k: &str| before.get(k);
    let a = |k: &str| after.get(k);
    let count = |v: Option<&Value>| v.and_then(Value::as_i64).unwrap_or(0);
    let (from, to) = (
        count(b("required_approving_review_count")),
        count(a("required_approving_review_count")),
    );
    if to < from {
        out.push(w(
            format!("required approving reviews lowered from {from} to {to}"),
            from.to_string(),
            to.to_string(),
        ));
    }
    for (key, what) in [
        (
            "require_code_owner_review",
            "code-owner review is no longer required",
        ),
        (
            "dismiss_stale_reviews_on_push",
            "stale reviews are no longer dismissed on push",
        ),
        (
            "ignore_approvals_from_contributors",
            "approvals from contributors now count",
        ),
        (
            "require_last_push_approval",
            "approval of the last push is no longer required",
        ),
        (
            "admin_enforced",
            "rules are no longer enforced for administrators",
        ),
        (
            "strict_required_status_checks_policy",
            "branches no longer need to be up to date before merging",
        ),
        (
            "authorized_actors_only",
            "pushes are no longer restricted to named actors",
        ),
        (
            "authorized_dismissal_actors_only",
            "anyone with write access may now dismiss reviews",
        ),
    ] {
        if b(key).and_then(Value::as_bool) == Some(true)
            && a(key).and_then(Value::as_bool) != Some(true)
        {
            out.push(w(what, "true", show(a(key))));
        }
    }
    for (key, what) in [
        (
            "pull_request_reviews_enforcement_level",
            "pull request reviews enforcement",
        ),
        (
            "signature_requirement_enforcement_level",
            "signed-commit requirement",
        ),
        (
            "required_status_checks_enforcement_level",
            "required status checks enforcement",
        ),
        (
            "linear_history_requirement_enforcement_level",
            "linear history requirement",
        ),
        (
            "required_conversation_resolution_level",
            "conversation resolution requirement",
        ),
        ("merge_queue_enforcement_level", "merge queue requirement"),
        (
            "required_deployments_enforcement_level",
            "required deployments",
        ),
        ("lock_branch_enforcement_level", "branch lock"),
    ] {
        if level_rank(a(key)) < level_rank(b(key)) {
            out.push(w(
                format!(
                    "{what} lowered from `{}` to `{}`",
                    show(b(key)),
                    show(a(key)).replace("unset", "off")
                ),
                show(b(key)),
                show(a(key)),
            ));
        }
    }
    for (key, what) in [
        ("allow_force_pushes_enforcement_level", "force-pushes"),
        ("allow_deletions_enforcement_level", "branch deletion"),
    ] {
        // For "allow_*" a HIGHER level means more people may do it.
        if level_rank(a(key)) > level_rank(b(key)) {
            out.push(w(
                format!("{what} now allowed for `{}`", show(a(key))),
                show(b(key)).replace("unset", "off"),
                show(a(key)),
            ));
        }
    }
    // Named push allowances: a new name may push.
    let (nb, na) = (
        strs(b("authorized_actor_names")),
        strs(a("authorized_actor_names")),
    );
    let added: Vec<String> = na.iter().filter(|x| !nb.contains(x)).cloned().collect();
    if !added.is_empty() && a("authorized_actors_only").and_then(Value::as_bool) == Some(true) {
        out.push(w(
            format!("may now push: {}", list_text(&added)),
            list_text(&nb),
            list_text(&na),
        ));
    }
    checks_weakenings(
        "",
        &check_list(b("required_status_checks")),
        &check_list(a("required_status_checks")),
        scope.app_id,
        &mut out,
    );
    out
}

/// Classic rule deleted: one weakening naming what it enforced.
pub fn classic_deleted(rule: &Value) -> Vec<Weakening> {
    let name = rule.get("name").and_then(Value::as_str).unwrap_or("?");
    let enforced = classic_enforced(rule);
    vec![w(
        format!("branch protection rule `{name}` was deleted"),
        if enforced.is_empty() {
            "the rule".to_owned()
        } else {
            enforced.join(", ")
        },
        "no rule",
    )]
}

// ---------------------------------------------------------- status checks

/// A required status check and the App it is pinned to (`None`: any
/// source may post it).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Check {
    context: String,
    app: Option<i64>,
}

/// Required checks in any of GitHub's shapes: plain context strings
/// (classic webhook), `{context, app_id}` (classic REST) or
/// `{context, integration_id}` (rulesets).
fn check_list(v: Option<&Value>) -> Vec<Check> {
    let v = match v {
        // Classic REST nests them: `{strict, checks: [...]}`.
        Some(Value::Object(o)) => o.get("checks").or_else(|| o.get("contexts")),
        other => other,
    };
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| match x {
                    Value::String(s) => Some(Check {
                        context: s.clone(),
                        app: None,
                    }),
                    Value::Object(o) => Some(Check {
                        context: o.get("context")?.as_str()?.to_owned(),
                        app: o
                            .get("integration_id")
                            .or_else(|| o.get("app_id"))
                            .and_then(Value::as_i64),
                    }),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

fn app_text(app: Option<i64>) -> String {
    match app {
        Some(id) => format!("app {id}"),
        None => "any source".into(),
    }
}

fn checks_weakenings(
    prefix: &str,
    before: &[Check],
    after: &[Check],
    our_app: Option<i64>,
    out: &mut Vec<Weakening>,
) {
    for c in before {
        let ours = if OUR_CHECKS.contains(&c.context.as_str()) {
            " (a gitops-guard check)"
        } else {
            ""
        };
        match after.iter().find(|x| x.context == c.context) {
            None => out.push(w(
                format!("{prefix}required status check `{}` removed{ours}", c.context),
                format!("required ({})", app_text(c.app)),
                "not required",
            )),
            // Un-pinning (or re-pinning to another App) lets a status
            // from anyone else satisfy the requirement.
            Some(x) if c.app.is_some() && x.app != c.app && (x.app.is_none() || x.app != our_app) => out.push(w(
                format!(
                    "{prefix}required status check `{}` is no longer pinned to the App that posts it{ours}",
                    c.context
                ),
                app_text(c.app),
                app_text(x.app),
            )),
            Some(_) => {}
        }
    }
}

// --------------------------------------------------------------- rulesets

fn enforcement_rank(v: Option<&Value>) -> i32 {
    match v.and_then(Value::as_str) {
        Some("active") => 2,
        Some("evaluate") => 1,
        _ => 0,
    }
}

fn target(rs: &Value) -> &str {
    rs.get("target").and_then(Value::as_str).unwrap_or("branch")
}

/// Is protected ref `r` included by the ruleset's ref patterns?
fn ref_included(rs: &Value, r: &str, scope: &Scope) -> bool {
    match target(rs) {
        // Push rulesets apply to every ref.
        "push" => return true,
        "tag" if !r.starts_with("refs/tags/") => return false,
        "branch" if !r.starts_with("refs/heads/") => return false,
        _ => {}
    }
    let Some(cond) = rs.pointer("/conditions/ref_name") else {
        // Org rulesets may target repositories only: every ref.
        return true;
    };
    strs(cond.get("include"))
        .iter()
        .any(|p| ref_pattern_matches(rs, p, r, scope))
}

/// Is protected ref `r` (possibly) excluded by the ruleset?
fn ref_excluded(rs: &Value, r: &str, scope: &Scope) -> bool {
    rs.pointer("/conditions/ref_name/exclude")
        .map(|e| {
            strs(Some(e))
                .iter()
                .any(|p| ref_pattern_matches(rs, p, r, scope))
        })
        .unwrap_or(false)
}

fn ref_pattern_matches(rs: &Value, p: &str, r: &str, scope: &Scope) -> bool {
    match p {
        "~ALL" => true,
        "~DEFAULT_BRANCH" => *r == format!("refs/heads/{}", scope.default_branch),
        p if p.starts_with("refs/") => overlap(p, r),
        // A bare pattern is relative to the ruleset's ref kind.
        p => {
            let kind = if target(rs) == "tag" { "tags" } else { "heads" };
            overlap(&format!("refs/{kind}/{p}"), r)
        }
    }
}

/// Does the ruleset target this repository? `None`: cannot tell here
/// (custom-property targeting).
fn repo_targeted(rs: &Value, scope: &Scope) -> Option<bool> {
    let Some(cond) = rs.get("conditions") else {
        return Some(true);
    };
    if let Some(n) = cond.get("repository_name") {
        let m = |p: &str| p == "~ALL" || p == scope.repo_name || ref_glob(p, &scope.repo_name);
        let inc = strs(n.get("include")).iter().any(|p| m(p));
        let exc = strs(n.get("exclude")).iter().any(|p| m(p));
        return Some(inc && !exc);
    }
    if let Some(ids) = cond.pointer("/repository_id/repository_ids") {
        let id = scope.repo_id?;
        return Some(
            ids.as_array()
                .is_some_and(|a| a.iter().any(|x| x.as_u64() == Some(id))),
        );
    }
    if cond.get("repository_property").is_some() {
        return None;
    }
    Some(true)
}

/// Could this ruleset apply to a protected ref of the repository?
pub fn ruleset_covers(rs: &Value, scope: &Scope) -> bool {
    repo_targeted(rs, scope) != Some(false)
        && scope
            .protected
            .iter()
            .any(|r| ref_included(rs, r, scope) && !ref_excluded_exactly(rs, r, scope))
}

/// Only an exact exclusion removes a protected ref for sure (coverage
/// errs towards "covers").
fn ref_excluded_exactly(rs: &Value, r: &str, scope: &Scope) -> bool {
    strs(rs.pointer("/conditions/ref_name/exclude"))
        .iter()
        .any(|p| {
            p == r
                || (p == "~DEFAULT_BRANCH" && *r == format!("refs/heads/{}", scope.default_branch))
        })
}

/// Rule types whose removal weakens a ruleset.
fn protective_rule(t: &str) -> Option<&'static str> {
    Some(match t {
        "pull_request" => "pull request reviews",
        "required_signatures" => "signed commits",
        "non_fast_forward" => "the block on force-pushes",
        "deletion" => "the block on branch deletion",
        "required_status_checks" => "required status checks",
        "update" => "the block on updates",
        "required_linear_history" => "linear history",
        "creation" => "the block on creation",
        "merge_queue" => "the merge queue",
        "required_deployments" => "required deployments",
        "workflows" => "required workflows",
        "code_scanning" => "required code scanning results",
        _ => return None,
    })
}

fn rules(rs: &Value) -> Vec<&Value> {
    rs.get("rules")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

fn rule_type(r: &Value) -> &str {
    r.get("type").and_then(Value::as_str).unwrap_or("")
}

fn params(r: &Value) -> &Value {
    r.get("parameters").unwrap_or(&Value::Null)
}

fn rule_params_weakenings(
    name: &str,
    t: &str,
    b: &Value,
    a: &Value,
    our_app: Option<i64>,
    out: &mut Vec<Weakening>,
) {
    let bool_of = |v: &Value, k: &str| v.get(k).and_then(Value::as_bool);
    match t {
        "pull_request" => {
            let n = |v: &Value| {
                v.get("required_approving_review_count")
                    .and_then(Value::as_i64)
                    .unwrap_or(0)
            };
            if n(a) < n(b) {
                out.push(w(
                    format!(
                        "ruleset `{name}` required approving reviews lowered from {} to {}",
                        n(b),
                        n(a)
                    ),
                    n(b).to_string(),
                    n(a).to_string(),
                ));
            }
            for (key, what) in [
                (
                    "require_code_owner_review",
                    "no longer requires code-owner review",
                ),
                (
                    "dismiss_stale_reviews_on_push",
                    "no longer dismisses stale reviews",
                ),
                (
                    "require_last_push_approval",
                    "no longer requires approval of the last push",
                ),
                (
                    "required_review_thread_resolution",
                    "no longer requires review threads to be resolved",
                ),
            ] {
                if bool_of(b, key) == Some(true) && bool_of(a, key) != Some(true) {
                    out.push(w(
                        format!("ruleset `{name}` {what}"),
                        format!("{key}: true"),
                        format!("{key}: {}", show(a.get(key))),
                    ));
                }
            }
        }
        "required_status_checks" => {
            checks_weakenings(
                &format!("ruleset `{name}`: "),
                &check_list(b.get("required_status_checks")),
                &check_list(a.get("required_status_checks")),
                our_app,
                out,
            );
            let key = "strict_required_status_checks_policy";
            if bool_of(b, key) == Some(true) && bool_of(a, key) != Some(true) {
                out.push(w(
                    format!("ruleset `{name}` no longer requires branches to be up to date"),
                    "true",
                    show(a.get(key)),
                ));
            }
            let key = "do_not_enforce_on_create";
            if bool_of(b, key) != Some(true) && bool_of(a, key) == Some(true) {
                out.push(w(
                    format!("ruleset `{name}` no longer checks statuses when a branch is created"),
                    show(b.get(key)),
                    "true",
                ));
            }
        }
        "update" => {
            let key = "update_allows_fetch_and_merge";
            if bool_of(b, key) != Some(true) && bool_of(a, key) == Some(true) {
                out.push(w(
                    format!("ruleset `{name}` now allows updates by fetch and merge"),
                    show(b.get(key)),
                    "true",
                ));
            }
        }
        "required_deployments" => {
            let key = "required_deployment_environments";
            let (eb, ea) = (strs(b.get(key)), strs(a.get(key)));
            let gone: Vec<String> = eb.iter().filter(|x| !ea.contains(x)).cloned().collect();
            if !gone.is_empty() {
                out.push(w(
                    format!(
                        "ruleset `{name}` no longer requires deployments to {}",
                        list_text(&gone)
                    ),
                    list_text(&eb),
                    list_text(&ea),
                ));
            }
        }
        "workflows" => {
            let wf = |v: &Value| -> Vec<String> {
                v.get("workflows")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .map(|x| {
                                format!("{}@{}", show(x.get("path")), show(x.get("repository_id")))
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let (wb, wa) = (wf(b), wf(a));
            let gone: Vec<String> = wb.iter().filter(|x| !wa.contains(x)).cloned().collect();
            if !gone.is_empty() {
                out.push(w(
                    format!(
                        "ruleset `{name}` no longer requires workflows {}",
                        list_text(&gone)
                    ),
                    list_text(&wb),
                    list_text(&wa),
                ));
            }
        }
        _ => {}
    }
}

fn actor_key(a: &Value) -> (String, String) {
    (show(a.get("actor_type")), show(a.get("actor_id")))
}

fn actor_text(a: &Value) -> String {
    format!(
        "{} {} ({})",
        show(a.get("actor_type")),
        show(a.get("actor_id")),
        show(a.get("bypass_mode")).replace("unset", "always")
    )
}

fn mode_rank(a: &Value) -> i32 {
    match a.get("bypass_mode").and_then(Value::as_str) {
        Some("pull_request") => 1,
        Some("exempt") => 3,
        // `always` is GitHub's default.
        _ => 2,
    }
}

/// Every loosening from `before` to `after` of one ruleset, judged for the
/// repository and protected refs of `scope`.
pub fn ruleset_weakenings(before: &Value, after: &Value, scope: &Scope) -> Vec<Weakening> {
    let mut out = Vec::new();
    let name = after
        .get("name")
        .or_else(|| before.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("?");
    let (eb, ea) = (before.get("enforcement"), after.get("enforcement"));
    if enforcement_rank(ea) < enforcement_rank(eb) {
        out.push(w(
            format!(
                "ruleset `{name}` enforcement changed from `{}` to `{}`",
                show(eb),
                show(ea)
            ),
            show(eb),
            show(ea),
        ));
    }
    if target(before) != target(after) {
        out.push(w(
            format!(
                "ruleset `{name}` now targets {}s instead of {}s",
                target(after),
                target(before)
            ),
            target(before),
            target(after),
        ));
    }
    // Repository targeting (organisation rulesets).
    if repo_targeted(before, scope) != Some(false) && repo_targeted(after, scope) == Some(false) {
        out.push(w(
            format!(
                "ruleset `{name}` no longer applies to repository `{}`",
                scope.repo_name
            ),
            show(before.get("conditions")),
            show(after.get("conditions")),
        ));
    }
    let prop = |rs: &Value, k: &str| -> Vec<Value> {
        rs.pointer(&format!("/conditions/repository_property/{k}"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let (pib, pia) = (prop(before, "include"), prop(after, "include"));
    let (peb, pea) = (prop(before, "exclude"), prop(after, "exclude"));
    if pib.iter().any(|x| !pia.contains(x)) || pea.iter().any(|x| !peb.contains(x)) {
        out.push(w(
            format!("ruleset `{name}` repository property targeting narrowed"),
            show(before.pointer("/conditions/repository_property")),
            show(after.pointer("/conditions/repository_property")),
        ));
    }
    // Ref targeting: per protected ref, judged by the same functions on
    // both sides, so an unchanged ruleset never reads as a loosening.
    let refs_b = before.pointer("/conditions/ref_name");
    let refs_a = after.pointer("/conditions/ref_name");
    for r in &scope.protected {
        let (ib, ia) = (
            ref_included(before, r, scope),
            ref_included(after, r, scope),
        );
        let (xb, xa) = (
            ref_excluded(before, r, scope),
            ref_excluded(after, r, scope),
        );
        if (ib && !ia) || (ia && xa && !xb) {
            out.push(w(
                format!("ruleset `{name}` no longer applies to protected `{r}`"),
                show(refs_b),
                show(refs_a),
            ));
        }
    }
    // Bypass actors, by identity and mode.
    let actors = |rs: &Value| -> Vec<Value> {
        rs.get("bypass_actors")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let (bb, ba) = (actors(before), actors(after));
    for a in &ba {
        match bb.iter().find(|b| actor_key(b) == actor_key(a)) {
            None => out.push(w(
                format!("ruleset `{name}` gained bypass actor {}", actor_text(a)),
                bb.iter().map(actor_text).collect::<Vec<_>>().join(", "),
                ba.iter().map(actor_text).collect::<Vec<_>>().join(", "),
            )),
            Some(b) if mode_rank(a) > mode_rank(b) => out.push(w(
                format!(
                    "ruleset `{name}` bypass actor {} {} may now bypass `{}` (was `{}`)",
                    show(a.get("actor_type")),
                    show(a.get("actor_id")),
                    show(a.get("bypass_mode")).replace("unset", "always"),
                    show(b.get("bypass_mode")).replace("unset", "always"),
                ),
                actor_text(b),
                actor_text(a),
            )),
            Some(_) => {}
        }
    }
    // Rules: removed, or their parameters loosened.
    let (rb, ra) = (rules(before), rules(after));
    let mut seen: Vec<&str> = Vec::new();
    for r in &rb {
        let t = rule_type(r);
        let Some(what) = protective_rule(t) else {
            continue;
        };
        let nb = rb.iter().filter(|x| rule_type(x) == t).count();
        let same: Vec<&&Value> = ra.iter().filter(|x| rule_type(x) == t).collect();
        if same.is_empty() {
            if !seen.contains(&t) {
                out.push(w(
                    format!("ruleset `{name}` no longer enforces {what}"),
                    format!("`{t}` rule"),
                    "no rule",
                ));
                seen.push(t);
            }
            continue;
        }
        if seen.contains(&t) {
            continue;
        }
        seen.push(t);
        if nb == 1 && same.len() == 1 {
            rule_params_weakenings(name, t, params(r), params(same[0]), scope.app_id, &mut out);
        } else {
            // Several rules of one type: compare each old one with the
            // loosest reading of the new ones (any may be the survivor).
            for old in rb.iter().filter(|x| rule_type(x) == t) {
                let mut best: Option<Vec<Weakening>> = None;
                for new in &same {
                    let mut tmp = Vec::new();
                    rule_params_weakenings(
                        name,
                        t,
                        params(old),
                        params(new),
                        scope.app_id,
                        &mut tmp,
                    );
                    if best.as_ref().is_none_or(|b| tmp.len() < b.len()) {
                        best = Some(tmp);
                    }
                }
                out.extend(best.unwrap_or_default());
            }
        }
    }
    out.dedup();
    out
}

/// A deleted ruleset: one weakening naming the protective rules it held.
pub fn ruleset_deleted(rs: &Value) -> Vec<Weakening> {
    let name = rs.get("name").and_then(Value::as_str).unwrap_or("?");
    let mut prot: Vec<&str> = rules(rs)
        .iter()
        .filter_map(|r| protective_rule(rule_type(r)))
        .collect();
    prot.dedup();
    vec![w(
        if prot.is_empty() {
            format!("ruleset `{name}` was deleted")
        } else {
            format!(
                "ruleset `{name}` was deleted (it enforced {})",
                prot.join(", ")
            )
        },
        show(rs.get("enforcement")),
        "deleted",
    )]
}

/// The ruleset as it was before an `edited` event, rebuilt from the
/// webhook's `changes` (`enforcement.from`, `name.from`, `conditions` and
/// `rules` added / deleted / updated). GitHub's `changes` do not carry
/// bypass actors; a `bypass_actors.from` is honoured when present.
pub fn ruleset_before(after: &Value, changes: &Value) -> Value {
    let mut before = after.clone();
    let Some(b) = before.as_object_mut() else {
        return before;
    };
    for key in ["name", "enforcement", "target", "bypass_actors"] {
        if let Some(from) = changes.pointer(&format!("/{key}/from")) {
            b.insert(key.into(), from.clone());
        }
    }
    // Conditions.
    let mut cond: Map<String, Value> = b
        .get("conditions")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for added in strs_objs(changes.pointer("/conditions/added")) {
        for k in added.keys() {
            cond.remove(k);
        }
    }
    for deleted in strs_objs(changes.pointer("/conditions/deleted")) {
        for (k, v) in deleted {
            cond.insert(k.clone(), v.clone());
        }
    }
    if let Some(updated) = changes
        .pointer("/conditions/updated")
        .and_then(Value::as_array)
    {
        for u in updated {
            let ch = u.get("changes").unwrap_or(&Value::Null);
            let now_keys: Vec<String> = u
                .get("condition")
                .and_then(Value::as_object)
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default();
            let key = ch
                .pointer("/target/from")
                .or_else(|| ch.pointer("/condition_type/from"))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| now_keys.first().cloned())
                .unwrap_or_else(|| "ref_name".into());
            let mut c = u
                .pointer(&format!("/condition/{key}"))
                .or_else(|| {
                    now_keys
                        .first()
                        .and_then(|k| u.pointer(&format!("/condition/{k}")))
                })
                .or_else(|| cond.get(&key))
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            for f in ["include", "exclude", "repository_ids", "protected"] {
                if let Some(from) = ch.pointer(&format!("/{f}/from")) {
                    c.insert(f.into(), from.clone());
                }
            }
            for k in &now_keys {
                if *k != key {
                    cond.remove(k);
                }
            }
            cond.insert(key, Value::Object(c));
        }
    }
    b.insert("conditions".into(), Value::Object(cond));
    // Rules.
    let mut rs: Vec<Value> = b
        .get("rules")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for added in changes
        .pointer("/rules/added")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(i) = rs.iter().position(|r| r == added) {
            rs.remove(i);
        } else if let Some(i) = rs.iter().position(|r| rule_type(r) == rule_type(added)) {
            rs.remove(i);
        }
    }
    for deleted in changes
        .pointer("/rules/deleted")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        rs.push(deleted.clone());
    }
    for u in changes
        .pointer("/rules/updated")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let new_rule = u.get("rule").unwrap_or(&Value::Null);
        let t = u
            .pointer("/changes/rule_type/from")
            .and_then(Value::as_str)
            .unwrap_or(rule_type(new_rule))
            .to_owned();
        let old_params = u.pointer("/changes/configuration/from").map(|from| {
            // `configuration.from` is JSON text (or an object), holding the
            // parameters or the whole rule.
            let v = match from {
                Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
                other => other.clone(),
            };
            v.get("parameters").cloned().unwrap_or(v)
        });
        let pos = rs
            .iter()
            .position(|r| r == new_rule)
            .or_else(|| rs.iter().position(|r| rule_type(r) == rule_type(new_rule)));
        let mut old = pos.map_or_else(|| new_rule.clone(), |i| rs[i].clone());
        if let Some(o) = old.as_object_mut() {
            o.insert("type".into(), Value::String(t));
            if let Some(p) = old_params {
                o.insert("parameters".into(), p);
            }
        }
        match pos {
            Some(i) => rs[i] = old,
            None => rs.push(old),
        }
    }
    b.insert("rules".into(), Value::Array(rs));
    before
}

fn strs_objs(v: Option<&Value>) -> Vec<Map<String, Value>> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|x| x.as_object().cloned()).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scope() -> Scope {
        Scope {
            default_branch: "main".into(),
            protected: vec!["refs/heads/main".into()],
            repo_name: "deploy".into(),
            repo_id: Some(7),
            app_id: Some(123),
        }
    }

    fn whats(v: &[Weakening]) -> Vec<&str> {
        v.iter().map(|w| w.what.as_str()).collect()
    }

    /// A ruleset on `main` with every protective rule, pinned checks and
    /// one PR-only bypass actor: the "before" of most tests.
    fn strong() -> Value {
        json!({
            "id": 9, "name": "prod", "target": "branch", "enforcement": "active",
            "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []}},
            "bypass_actors": [{"actor_id": 5, "actor_type": "Team", "bypass_mode": "pull_request"}],
            "rules": [
                {"type": "pull_request", "parameters": {"required_approving_review_count": 2,
                    "dismiss_stale_reviews_on_push": true, "require_code_owner_review": true,
                    "require_last_push_approval": true, "required_review_thread_resolution": true}},
                {"type": "required_status_checks", "parameters": {"strict_required_status_checks_policy": true,
                    "required_status_checks": [{"context": "gitops-guard/reviews", "integration_id": 123},
                                               {"context": "ci", "integration_id": 15368}]}},
                {"type": "required_signatures"},
                {"type": "non_fast_forward"},
                {"type": "deletion"},
                {"type": "merge_queue", "parameters": {"merge_method": "SQUASH"}},
                {"type": "update", "parameters": {"update_allows_fetch_and_merge": false}}
            ]
        })
    }

    fn edit(f: impl FnOnce(&mut Value)) -> Value {
        let mut v = strong();
        f(&mut v);
        v
    }

    fn one(after: &Value, needle: &str) -> Weakening {
        let got = ruleset_weakenings(&strong(), after, &scope());
        assert_eq!(got.len(), 1, "{got:#?}");
        assert!(got[0].what.contains(needle), "{needle} in {got:#?}");
        // The tightening twin: the reverse change raises nothing.
        let back = ruleset_weakenings(after, &strong(), &scope());
        assert!(back.is_empty(), "reverse of {needle}: {back:#?}");
        got.into_iter().next().unwrap()
    }

    #[test]
    fn unchanged_ruleset_is_quiet() {
        assert!(ruleset_weakenings(&strong(), &strong(), &scope()).is_empty());
    }

    #[test]
    fn ref_name_retarget_away_from_main() {
        let a = edit(|v| v["conditions"]["ref_name"]["include"] = json!(["refs/heads/dev"]));
        let w = one(&a, "no longer applies to protected `refs/heads/main`");
        assert!(
            w.before.contains("DEFAULT_BRANCH") && w.after.contains("dev"),
            "{w:?}"
        );
        let a = edit(|v| v["conditions"]["ref_name"]["exclude"] = json!(["refs/heads/ma*"]));
        one(&a, "no longer applies");
        // Equivalent patterns are not a loosening.
        for inc in [
            json!(["~ALL"]),
            json!(["refs/heads/main"]),
            json!(["refs/heads/*"]),
        ] {
            let a = edit(|v| v["conditions"]["ref_name"]["include"] = inc.clone());
            assert!(
                ruleset_weakenings(&strong(), &a, &scope()).is_empty(),
                "{inc}"
            );
        }
    }

    #[test]
    fn target_and_enforcement() {
        let w = one(
            &edit(|v| v["enforcement"] = json!("evaluate")),
            "from `active` to `evaluate`",
        );
        assert_eq!(
            (w.before.as_str(), w.after.as_str()),
            ("active", "evaluate")
        );
        one(
            &edit(|v| v["enforcement"] = json!("disabled")),
            "to `disabled`",
        );
        let got = ruleset_weakenings(&strong(), &edit(|v| v["target"] = json!("tag")), &scope());
        assert!(
            whats(&got).iter().any(|w| w.contains("targets tags")),
            "{got:#?}"
        );
    }

    #[test]
    fn bypass_actor_identity_and_mode() {
        // Same count, mode widened.
        let a = edit(|v| v["bypass_actors"][0]["bypass_mode"] = json!("always"));
        let w = one(&a, "may now bypass `always` (was `pull_request`)");
        assert!(w.before.contains("pull_request") && w.after.contains("always"));
        // Same count, another actor.
        let a = edit(|v| v["bypass_actors"][0]["actor_id"] = json!(6));
        let got = ruleset_weakenings(&strong(), &a, &scope());
        assert_eq!(got.len(), 1, "{got:#?}");
        assert!(
            got[0].what.contains("gained bypass actor Team 6"),
            "{got:#?}"
        );
        // A new actor; a missing mode means `always`.
        let a = edit(|v| {
            v["bypass_actors"]
                .as_array_mut()
                .unwrap()
                .push(json!({"actor_id": 1, "actor_type": "OrganizationAdmin"}))
        });
        one(&a, "gained bypass actor OrganizationAdmin 1 (always)");
        one(
            &edit(|v| v["bypass_actors"][0]["bypass_mode"] = json!("exempt")),
            "exempt",
        );
    }

    #[test]
    fn each_pull_request_parameter() {
        for (key, val, needle) in [
            ("required_approving_review_count", json!(1), "from 2 to 1"),
            ("dismiss_stale_reviews_on_push", json!(false), "stale"),
            ("require_code_owner_review", json!(false), "code-owner"),
            ("require_last_push_approval", json!(false), "last push"),
            ("required_review_thread_resolution", json!(false), "threads"),
        ] {
            one(
                &edit(|v| v["rules"][0]["parameters"][key] = val.clone()),
                needle,
            );
        }
    }

    #[test]
    fn status_checks_and_their_app_pin() {
        let w = one(
            &edit(|v| {
                v["rules"][1]["parameters"]["required_status_checks"][0]["integration_id"] =
                    Value::Null
            }),
            "`gitops-guard/reviews` is no longer pinned",
        );
        assert_eq!(
            (w.before.as_str(), w.after.as_str()),
            ("app 123", "any source")
        );
        one(
            &edit(|v| {
                v["rules"][1]["parameters"]["required_status_checks"][0]["integration_id"] =
                    json!(999)
            }),
            "no longer pinned",
        );
        one(
            &edit(|v| {
                v["rules"][1]["parameters"]["required_status_checks"]
                    .as_array_mut()
                    .unwrap()
                    .remove(0);
            }),
            "`gitops-guard/reviews` removed (a gitops-guard check)",
        );
        one(
            &edit(|v| {
                v["rules"][1]["parameters"]["strict_required_status_checks_policy"] = json!(false)
            }),
            "up to date",
        );
        one(
            &edit(|v| v["rules"][6]["parameters"]["update_allows_fetch_and_merge"] = json!(true)),
            "fetch and merge",
        );
        // Pinning an unpinned check is a tightening.
        let unpinned = edit(|v| {
            v["rules"][1]["parameters"]["required_status_checks"][1]["integration_id"] = Value::Null
        });
        assert!(ruleset_weakenings(&unpinned, &strong(), &scope()).is_empty());
    }

    #[test]
    fn every_protective_rule_removed() {
        for (i, needle) in [
            (0, "pull request reviews"),
            (1, "required status checks"),
            (2, "signed commits"),
            (3, "force-pushes"),
            (4, "deletion"),
            (5, "merge queue"),
            (6, "updates"),
        ] {
            let a = edit(|v| {
                v["rules"].as_array_mut().unwrap().remove(i);
            });
            one(&a, needle);
        }
    }

    #[test]
    fn org_ruleset_repository_targeting() {
        let org = |cond: Value| edit(|v| v["conditions"] = cond);
        let by_name = org(json!({"ref_name": {"include": ["~ALL"], "exclude": []},
            "repository_name": {"include": ["dep*"], "exclude": [], "protected": true}}));
        let away = org(json!({"ref_name": {"include": ["~ALL"], "exclude": []},
            "repository_name": {"include": ["dep*"], "exclude": ["deploy"], "protected": true}}));
        let got = ruleset_weakenings(&by_name, &away, &scope());
        assert_eq!(
            whats(&got),
            ["ruleset `prod` no longer applies to repository `deploy`"]
        );
        assert!(ruleset_weakenings(&away, &by_name, &scope()).is_empty());
        let by_id = org(
            json!({"ref_name": {"include": ["~ALL"]}, "repository_id": {"repository_ids": [7, 8]}}),
        );
        let other = org(
            json!({"ref_name": {"include": ["~ALL"]}, "repository_id": {"repository_ids": [8]}}),
        );
        assert_eq!(ruleset_weakenings(&by_id, &other, &scope()).len(), 1);
        assert!(ruleset_weakenings(&other, &by_id, &scope()).is_empty());
        let prop = |inc: Value| {
            org(json!({"ref_name": {"include": ["~ALL"]},
            "repository_property": {"include": inc, "exclude": []}}))
        };
        let p1 = prop(json!([{"name": "tier", "property_values": ["prod"]}]));
        let p0 = prop(json!([]));
        assert_eq!(ruleset_weakenings(&p1, &p0, &scope()).len(), 1);
        assert!(ruleset_weakenings(&p0, &p1, &scope()).is_empty());
        // Coverage: a ruleset for other repositories does not concern this one.
        assert!(!ruleset_covers(&away, &scope()));
        assert!(ruleset_covers(&by_name, &scope()));
        assert!(
            ruleset_covers(&p1, &scope()),
            "unknown property targeting covers"
        );
    }

    #[test]
    fn coverage_of_refs() {
        let s = scope();
        let rs = |inc: Value, exc: Value| json!({"target": "branch", "conditions": {"ref_name": {"include": inc, "exclude": exc}}});
        assert!(ruleset_covers(
            &rs(json!(["~DEFAULT_BRANCH"]), json!([])),
            &s
        ));
        assert!(ruleset_covers(&rs(json!(["~ALL"]), json!([])), &s));
        assert!(ruleset_covers(
            &rs(json!(["refs/heads/main"]), json!([])),
            &s
        ));
        assert!(!ruleset_covers(
            &rs(json!(["refs/heads/dev"]), json!([])),
            &s
        ));
        assert!(!ruleset_covers(
            &rs(json!(["~ALL"]), json!(["refs/heads/main"])),
            &s
        ));
        assert!(ruleset_covers(&json!({"target": "branch"}), &s));
        assert!(!ruleset_covers(&json!({"target": "tag"}), &s));
        let mut t = scope();
        t.protected.push("refs/tags/v*".into());
        assert!(ruleset_covers(
            &json!({"target": "tag", "conditions": {"ref_name": {"include": ["refs/tags/v*"], "exclude": []}}}),
            &t
        ));
        assert!(classic_covers("main", &s));
        assert!(classic_covers("*", &s));
        assert!(!classic_covers("feature/*", &s));
        let mut r = scope();
        r.protected = vec!["refs/heads/release/1".into()];
        assert!(classic_covers("release/*", &r));
    }

    #[test]
    fn deletions() {
        let w = ruleset_deleted(&strong());
        assert_eq!(w.len(), 1);
        assert!(w[0].what.contains("force-pushes"), "{w:?}");
        let w = classic_deleted(
            &json!({"name": "main", "required_approving_review_count": 2,
            "pull_request_reviews_enforcement_level": "everyone"}),
        );
        assert!(
            w[0].what.contains("`main` was deleted") && w[0].before.contains("2 required"),
            "{w:?}"
        );
    }

    #[test]
    fn before_is_rebuilt_from_webhook_changes() {
        // GitHub's `changes` shape for an edit that retargets, disables and
        // loosens the review rule.
        let after = edit(|v| {
            v["enforcement"] = json!("evaluate");
            v["conditions"]["ref_name"]["include"] = json!(["refs/heads/dev"]);
            v["rules"][0]["parameters"]["required_approving_review_count"] = json!(1);
            v["rules"].as_array_mut().unwrap().remove(2);
        });
        let changes = json!({
            "enforcement": {"from": "active"},
            "conditions": {"updated": [{"condition": {"ref_name": {"include": ["refs/heads/dev"], "exclude": []}},
                "changes": {"include": {"from": ["~DEFAULT_BRANCH"]}}}]},
            "rules": {"deleted": [{"type": "required_signatures"}],
                      "updated": [{"rule": after["rules"][0].clone(),
                                   "changes": {"configuration": {"from": serde_json::to_string(&strong()["rules"][0]["parameters"]).unwrap()}}}]}
        });
        let before = ruleset_before(&after, &changes);
        let got = ruleset_weakenings(&before, &after, &scope());
        let got = whats(&got);
        for needle in [
            "`active` to `evaluate`",
            "no longer applies to protected",
            "from 2 to 1",
            "signed commits",
        ] {
            assert!(
                got.iter().any(|w| w.contains(needle)),
                "{needle} in {got:#?}"
            );
        }
        assert_eq!(got.len(), 4, "{got:#?}");
        // An edit that only renames is quiet.
        let renamed = edit(|v| v["name"] = json!("production"));
        let b = ruleset_before(&renamed, &json!({"name": {"from": "prod"}}));
        assert!(ruleset_weakenings(&b, &renamed, &scope()).is_empty());
    }

    #[test]
    fn fixture_edit_lowers_reviews_and_more() {
        // GitHub's own example payload (octokit/webhooks), copied into tests/data.
        let text = include_str!("../../../tests/data/github/branch_protection_rule.edited.json");
        let v: Value = serde_json::from_str(text).unwrap();
        let before = classic_before(&v["rule"], &v["changes"]);
        let w = classic_weakenings(&before, &v["rule"], &scope());
        let w = whats(&w);
        assert!(w.iter().any(|w| w.contains("from 2 to 1")), "{w:?}");
        assert!(w.iter().any(|w| w.contains("code-owner")), "{w:?}");
        assert!(w.iter().any(|w| w.contains("signed-commit")), "{w:?}");
    }

    fn classic_strong() -> Value {
        json!({"name": "main", "required_approving_review_count": 2, "require_code_owner_review": true,
            "dismiss_stale_reviews_on_push": true, "require_last_push_approval": true,
            "ignore_approvals_from_contributors": true, "admin_enforced": true,
            "strict_required_status_checks_policy": true,
            "signature_requirement_enforcement_level": "everyone",
            "pull_request_reviews_enforcement_level": "everyone",
            "required_status_checks_enforcement_level": "everyone",
            "allow_force_pushes_enforcement_level": "off", "allow_deletions_enforcement_level": "off",
            "authorized_actors_only": true, "authorized_actor_names": ["release-bot"],
            "required_status_checks": [{"context": "gitops-guard/reviews", "app_id": 123}, {"context": "ci", "app_id": null}]})
    }

    #[test]
    fn classic_each_loosening_and_its_twin() {
        let base = classic_strong();
        for (key, val, needle) in [
            ("required_approving_review_count", json!(1), "from 2 to 1"),
            ("require_code_owner_review", json!(false), "code-owner"),
            ("dismiss_stale_reviews_on_push", json!(false), "stale"),
            ("require_last_push_approval", json!(false), "last push"),
            (
                "ignore_approvals_from_contributors",
                json!(false),
                "contributors",
            ),
            ("admin_enforced", json!(false), "administrators"),
            (
                "strict_required_status_checks_policy",
                json!(false),
                "up to date",
            ),
            (
                "signature_requirement_enforcement_level",
                json!("non_admins"),
                "signed-commit",
            ),
            (
                "pull_request_reviews_enforcement_level",
                json!("off"),
                "reviews enforcement",
            ),
            (
                "required_status_checks_enforcement_level",
                json!("off"),
                "status checks enforcement",
            ),
            (
                "allow_force_pushes_enforcement_level",
                json!("everyone"),
                "force-pushes now allowed",
            ),
            (
                "allow_deletions_enforcement_level",
                json!("non_admins"),
                "deletion now allowed",
            ),
            ("authorized_actors_only", json!(false), "restricted"),
            (
                "authorized_actor_names",
                json!(["release-bot", "mallory"]),
                "`mallory`",
            ),
            (
                "required_status_checks",
                json!([{"context": "ci", "app_id": null}]),
                "`gitops-guard/reviews` removed",
            ),
            (
                "required_status_checks",
                json!([{"context": "gitops-guard/reviews", "app_id": null}, {"context": "ci"}]),
                "no longer pinned",
            ),
        ] {
            let mut after = base.clone();
            after[key] = val;
            let got = classic_weakenings(&base, &after, &scope());
            assert_eq!(got.len(), 1, "{key}: {got:#?}");
            assert!(got[0].what.contains(needle), "{needle} in {got:#?}");
            assert!(
                classic_weakenings(&after, &base, &scope()).is_empty(),
                "twin of {key}"
            );
        }
        assert!(classic_weakenings(&base, &base, &scope()).is_empty());
    }
}
