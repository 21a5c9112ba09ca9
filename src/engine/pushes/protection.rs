//! `protection-weakened`: detects edits to classic branch protection
//! (`branch_protection_rule`) and rulesets (`repository_ruleset`) that lower
//! the review gate: fewer required reviews, code-owner review or stale-review
//! dismissal dropped, signed commits no longer required, required status
//! checks (ours above all) removed, force-pushes or deletions allowed, or the
//! whole rule / ruleset deleted or disabled.
//!
//! Input is the webhook's JSON (`rule` / `repository_ruleset` and `changes`,
//! where `changes.X.from` holds the old value). Pure: no I/O.

use serde_json::Value;

/// Our check-run names: dropping one of them from required checks is the
/// most direct way to bypass this App.
pub const OUR_CHECKS: [&str; 3] = [
    "gitops-guard/manifests",
    "gitops-guard/reviews",
    "gitops-guard/signatures",
];

/// One weakening, in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Weakening {
    /// What changed, e.g. "required approving reviews lowered from 2 to 1".
    pub what: String,
}

fn level_rank(v: &Value) -> i32 {
    // Enforcement levels: off < non_admins < everyone.
    match v.as_str() {
        Some("everyone") => 2,
        Some("non_admins") => 1,
        _ => 0,
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| {
                    x.as_str()
                        .map(str::to_owned)
                        .or_else(|| x.get("context").and_then(Value::as_str).map(str::to_owned))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Classic branch protection: `action` is `edited` or `deleted`.
pub fn branch_protection_weakenings(action: &str, rule: &Value, changes: &Value) -> Vec<Weakening> {
    let mut out = Vec::new();
    let name = rule.get("name").and_then(Value::as_str).unwrap_or("?");
    if action == "deleted" {
        out.push(Weakening {
            what: format!("branch protection rule `{name}` was deleted"),
        });
        return out;
    }
    if action != "edited" {
        return out;
    }
    let old = |k: &str| changes.get(k).and_then(|c| c.get("from"));
    let new = |k: &str| rule.get(k).unwrap_or(&Value::Null);
    if let Some(from) = old("required_approving_review_count").and_then(Value::as_i64) {
        let to = new("required_approving_review_count").as_i64().unwrap_or(0);
        if to < from {
            out.push(Weakening {
                what: format!("required approving reviews lowered from {from} to {to}"),
            });
        }
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
    ] {
        if old(key).and_then(Value::as_bool) == Some(true) && new(key).as_bool() != Some(true) {
            out.push(Weakening { what: what.into() });
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
    ] {
        if let Some(from) = old(key)
            && level_rank(new(key)) < level_rank(from)
        {
            out.push(Weakening {
                what: format!(
                    "{what} lowered from `{}` to `{}`",
                    from.as_str().unwrap_or("?"),
                    new(key).as_str().unwrap_or("off")
                ),
            });
        }
    }
    for (key, what) in [
        ("allow_force_pushes_enforcement_level", "force-pushes"),
        ("allow_deletions_enforcement_level", "branch deletion"),
    ] {
        // For "allow_*" a HIGHER level means more people may do it.
        if let Some(from) = old(key)
            && level_rank(new(key)) > level_rank(from)
        {
            out.push(Weakening {
                what: format!(
                    "{what} now allowed for `{}`",
                    new(key).as_str().unwrap_or("?")
                ),
            });
        }
    }
    if let Some(from) = old("admin_enforced").and_then(Value::as_bool)
        && from
        && new("admin_enforced").as_bool() != Some(true)
    {
        out.push(Weakening {
            what: "rules are no longer enforced for administrators".into(),
        });
    }
    if let Some(from) = old("required_status_checks") {
        let before = strings(from);
        let after = strings(new("required_status_checks"));
        for c in before.iter().filter(|c| !after.contains(c)) {
            let ours = if OUR_CHECKS.contains(&c.as_str()) {
                " (a gitops-guard check)"
            } else {
                ""
            };
            out.push(Weakening {
                what: format!("required status check `{c}` removed{ours}"),
            });
        }
    }
    out
}

fn rule_type(r: &Value) -> &str {
    r.get("type").and_then(Value::as_str).unwrap_or("")
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
        _ => return None,
    })
}

fn pr_params_weakenings(old: &Value, new: &Value, out: &mut Vec<Weakening>) {
    let o = |k: &str| old.get(k);
    let n = |k: &str| new.get(k).unwrap_or(&Value::Null);
    if let Some(from) = o("required_approving_review_count").and_then(Value::as_i64) {
        let to = n("required_approving_review_count").as_i64().unwrap_or(0);
        if to < from {
            out.push(Weakening {
                what: format!("ruleset required approving reviews lowered from {from} to {to}"),
            });
        }
    }
    for (key, what) in [
        (
            "require_code_owner_review",
            "ruleset no longer requires code-owner review",
        ),
        (
            "dismiss_stale_reviews_on_push",
            "ruleset no longer dismisses stale reviews",
        ),
        (
            "require_last_push_approval",
            "ruleset no longer requires approval of the last push",
        ),
    ] {
        if o(key).and_then(Value::as_bool) == Some(true) && n(key).as_bool() != Some(true) {
            out.push(Weakening { what: what.into() });
        }
    }
}

fn parse_config(v: &Value) -> Value {
    // `changes.configuration.from` may be a JSON object or a JSON string.
    match v {
        Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
        other => other.clone(),
    }
}

/// Rulesets: `action` is `edited` or `deleted`; `ruleset` is `repository_ruleset`.
pub fn ruleset_weakenings(action: &str, ruleset: &Value, changes: &Value) -> Vec<Weakening> {
    let mut out = Vec::new();
    let name = ruleset.get("name").and_then(Value::as_str).unwrap_or("?");
    let rules: Vec<&Value> = ruleset
        .get("rules")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    if action == "deleted" {
        let prot: Vec<&str> = rules
            .iter()
            .filter_map(|r| protective_rule(rule_type(r)))
            .collect();
        out.push(Weakening {
            what: if prot.is_empty() {
                format!("ruleset `{name}` was deleted")
            } else {
                format!(
                    "ruleset `{name}` was deleted (it enforced {})",
                    prot.join(", ")
                )
            },
        });
        return out;
    }
    if action != "edited" {
        return out;
    }
    if let Some(from) = changes.pointer("/enforcement/from").and_then(Value::as_str) {
        let to = ruleset
            .get("enforcement")
            .and_then(Value::as_str)
            .unwrap_or("");
        if from == "active" && to != "active" {
            out.push(Weakening {
                what: format!("ruleset `{name}` enforcement changed from `active` to `{to}`"),
            });
        }
    }
    if let Some(deleted) = changes.pointer("/rules/deleted").and_then(Value::as_array) {
        for r in deleted {
            if let Some(what) = protective_rule(rule_type(r)) {
                out.push(Weakening {
                    what: format!("ruleset `{name}` no longer enforces {what}"),
                });
            }
        }
    }
    if let Some(updated) = changes.pointer("/rules/updated").and_then(Value::as_array) {
        for u in updated {
            let new_rule = u.get("rule").unwrap_or(&Value::Null);
            let Some(from) = u.pointer("/changes/configuration/from") else {
                continue;
            };
            let old_params = parse_config(from);
            let old_params = old_params.get("parameters").cloned().unwrap_or(old_params);
            let new_params = new_rule.get("parameters").unwrap_or(&Value::Null);
            match rule_type(new_rule) {
                "pull_request" => pr_params_weakenings(&old_params, new_params, &mut out),
                "required_status_checks" => {
                    let before = strings(
                        old_params
                            .get("required_status_checks")
                            .unwrap_or(&Value::Null),
                    );
                    let after = strings(
                        new_params
                            .get("required_status_checks")
                            .unwrap_or(&Value::Null),
                    );
                    for c in before.iter().filter(|c| !after.contains(c)) {
                        out.push(Weakening {
                            what: format!("ruleset `{name}` no longer requires status check `{c}`"),
                        });
                    }
                }
                _ => {}
            }
        }
    }
    if let Some(bypass) = changes
        .pointer("/bypass_actors/from")
        .and_then(Value::as_array)
    {
        let now = ruleset
            .get("bypass_actors")
            .and_then(Value::as_array)
            .map(Vec::len)
            .unwrap_or(0);
        if now > bypass.len() {
            out.push(Weakening {
                what: format!(
                    "ruleset `{name}` gained bypass actors ({} → {now})",
                    bypass.len()
                ),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fixture_edit_lowers_reviews_and_more() {
        // GitHub's own example payload (octokit/webhooks), copied into tests/data.
        let text = include_str!("../../../tests/data/github/branch_protection_rule.edited.json");
        let v: Value = serde_json::from_str(text).unwrap();
        let w = branch_protection_weakenings("edited", &v["rule"], &v["changes"]);
        let w: Vec<&str> = w.iter().map(|w| w.what.as_str()).collect();
        assert!(w.iter().any(|w| w.contains("from 2 to 1")), "{w:?}");
        assert!(w.iter().any(|w| w.contains("code-owner")), "{w:?}");
        assert!(w.iter().any(|w| w.contains("signed-commit")), "{w:?}");
    }

    #[test]
    fn classic_rule_weakenings() {
        let rule = json!({"name": "main", "required_approving_review_count": 1, "require_code_owner_review": false,
            "dismiss_stale_reviews_on_push": false, "signature_requirement_enforcement_level": "off",
            "allow_force_pushes_enforcement_level": "everyone", "required_status_checks": ["ci"], "admin_enforced": true});
        let changes = json!({"required_approving_review_count": {"from": 2}, "require_code_owner_review": {"from": true},
            "dismiss_stale_reviews_on_push": {"from": true}, "signature_requirement_enforcement_level": {"from": "non_admins"},
            "allow_force_pushes_enforcement_level": {"from": "off"},
            "required_status_checks": {"from": ["ci", "gitops-guard/manifests"]}});
        let w: Vec<String> = branch_protection_weakenings("edited", &rule, &changes)
            .into_iter()
            .map(|w| w.what)
            .collect();
        assert!(w.iter().any(|s| s.contains("from 2 to 1")), "{w:?}");
        assert!(w.iter().any(|s| s.contains("code-owner")));
        assert!(w.iter().any(|s| s.contains("stale")));
        assert!(w.iter().any(|s| s.contains("signed-commit")));
        assert!(w.iter().any(|s| s.contains("force-pushes now allowed")));
        assert!(
            w.iter()
                .any(|s| s.contains("`gitops-guard/manifests` removed (a gitops-guard check)"))
        );
        assert_eq!(w.len(), 6);
    }

    #[test]
    fn tightening_is_not_weakening() {
        let rule = json!({"name": "main", "required_approving_review_count": 3, "require_code_owner_review": true,
            "signature_requirement_enforcement_level": "everyone", "allow_force_pushes_enforcement_level": "off",
            "required_status_checks": ["ci", "gitops-guard/manifests"]});
        let changes = json!({"required_approving_review_count": {"from": 2}, "require_code_owner_review": {"from": false},
            "signature_requirement_enforcement_level": {"from": "non_admins"},
            "allow_force_pushes_enforcement_level": {"from": "everyone"}, "required_status_checks": {"from": ["ci"]}});
        assert!(branch_protection_weakenings("edited", &rule, &changes).is_empty());
        assert!(branch_protection_weakenings("created", &rule, &json!({})).is_empty());
    }

    #[test]
    fn deletion_is_weakening() {
        let w = branch_protection_weakenings("deleted", &json!({"name": "main"}), &json!({}));
        assert_eq!(w.len(), 1);
        let w = ruleset_weakenings(
            "deleted",
            &json!({"name": "prod", "rules": [{"type": "non_fast_forward"}]}),
            &json!({}),
        );
        assert!(w[0].what.contains("force-pushes"));
    }

    #[test]
    fn ruleset_edits() {
        let rs = json!({"name": "prod", "enforcement": "evaluate", "rules": [
            {"type": "pull_request", "parameters": {"required_approving_review_count": 1, "require_code_owner_review": false}}]});
        let changes = json!({"enforcement": {"from": "active"},
            "rules": {"deleted": [{"type": "required_signatures"}, {"type": "commit_message_pattern"}],
                      "updated": [{"rule": {"type": "pull_request", "parameters": {"required_approving_review_count": 1, "require_code_owner_review": false}},
                                   "changes": {"configuration": {"from": "{\"required_approving_review_count\":2,\"require_code_owner_review\":true}"}}}]}});
        let w: Vec<String> = ruleset_weakenings("edited", &rs, &changes)
            .into_iter()
            .map(|w| w.what)
            .collect();
        assert!(
            w.iter().any(|s| s.contains("from `active` to `evaluate`")),
            "{w:?}"
        );
        assert!(w.iter().any(|s| s.contains("signed commits")));
        assert!(!w.iter().any(|s| s.contains("commit_message")));
        assert!(w.iter().any(|s| s.contains("from 2 to 1")));
        assert!(w.iter().any(|s| s.contains("code-owner")));
        let quiet = ruleset_weakenings(
            "edited",
            &json!({"name": "x", "enforcement": "active"}),
            &json!({"name": {"from": "y"}}),
        );
        assert!(quiet.is_empty());
    }
}
