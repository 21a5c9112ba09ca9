//! `protection-weakened` alerts for `branch_protection_rule` and
//! `repository_ruleset` edits and deletions in deployment repositories.
//!
//! The pure core (`engine::pushes::protection`) compares the new settings with
//! `changes.*.from`; this shell reads the trusted config (default branch,
//! else the organisation default; none: not a deployment repository),
//! decides whether the rule or ruleset can cover a protected branch (or
//! protected tag), builds one [`Alert`] listing every weakening with who
//! made it and the rule's name, and delivers it.
//!
//! The engine reads the raw JSON (`rule`, `repository_ruleset`, `changes`)
//! rather than our typed event structs, so settings GitHub adds later are
//! still compared.

use anyhow::Context as _;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::PipelineContext;
use super::pull_request::load_config;
use crate::engine::config::Config;
use crate::engine::ids::RepoName;
use crate::engine::pushes::protection::{
    Weakening, branch_protection_weakenings, ruleset_weakenings,
};
use crate::engine::pushes::{Alert, AlertKind, ref_glob};
use crate::github::GitHub;
use crate::pipeline::alerts::{self, EnvLookup, Extras};

/// Which event a change came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// `branch_protection_rule`.
    BranchProtection,
    /// `repository_ruleset`.
    Ruleset,
}

/// Can a classic protection rule with branch pattern `pattern` cover a
/// branch the config protects? Patterns are compared both ways (a rule
/// `release/*` covers config `release/1`; a config glob equal to the rule
/// is the same set). Unsure means yes: an extra alert beats a missed one.
pub fn rule_covers(cfg: &Config, default_branch: &str, pattern: &str) -> bool {
    let protected: Vec<&str> = if cfg.push.branches.is_empty() {
        vec![default_branch]
    } else {
        cfg.push.branches.iter().map(String::as_str).collect()
    };
    protected
        .iter()
        .any(|p| *p == pattern || ref_glob(pattern, p) || ref_glob(p, pattern))
}

/// Can a ruleset with these `conditions` cover a protected ref? GitHub's
/// `ref_name.include` holds `~ALL`, `~DEFAULT_BRANCH` or `refs/heads/…` /
/// `refs/tags/…` fnmatch patterns; `exclude` removes refs. Missing
/// conditions (org rulesets targeting repositories only) cover everything.
pub fn ruleset_covers(cfg: &Config, default_branch: &str, ruleset: &Value) -> bool {
    let target = ruleset
        .get("target")
        .and_then(Value::as_str)
        .unwrap_or("branch");
    if target == "push" {
        // Push rulesets (file paths, sizes) apply to every ref.
        return true;
    }
    let refs: Vec<String> = if target == "tag" {
        cfg.push
            .tags
            .iter()
            .map(|t| format!("refs/tags/{t}"))
            .collect()
    } else if cfg.push.branches.is_empty() {
        vec![format!("refs/heads/{default_branch}")]
    } else {
        cfg.push
            .branches
            .iter()
            .map(|b| format!("refs/heads/{b}"))
            .collect()
    };
    if refs.is_empty() {
        return false;
    }
    let Some(cond) = ruleset.pointer("/conditions/ref_name") else {
        return true;
    };
    let list = |k: &str| -> Vec<String> {
        cond.get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let matches = |pat: &str, r: &str| match pat {
        "~ALL" => true,
        "~DEFAULT_BRANCH" => r == format!("refs/heads/{default_branch}"),
        p => p == r || ref_glob(p, r) || ref_glob(r, p),
    };
    let include = list("include");
    let exclude = list("exclude");
    refs.iter().any(|r| {
        include.iter().any(|p| matches(p, r))
            && !exclude.iter().any(|p| {
                // Only an exact exclusion removes a protected ref for sure.
                p == r || (p == "~DEFAULT_BRANCH" && *r == format!("refs/heads/{default_branch}"))
            })
    })
}

/// Builds the alert (pure).
pub fn alert(
    repo: &RepoName,
    source: Source,
    action: &str,
    object: &Value,
    sender: &str,
    weakenings: &[Weakening],
) -> Alert {
    let name = object.get("name").and_then(Value::as_str).unwrap_or("?");
    let id = object.get("id").and_then(Value::as_u64).unwrap_or(0);
    let (what, settings_hint) = match source {
        Source::BranchProtection => (
            "Branch protection rule",
            format!("Settings → Branches → the rule for `{name}`"),
        ),
        Source::Ruleset => ("Ruleset", format!("Settings → Rules → Rulesets → `{name}`")),
    };
    let mut items: Vec<&str> = weakenings.iter().map(|w| w.what.as_str()).collect();
    items.sort_unstable();
    items.dedup();
    let mut h = Sha256::new();
    for part in [
        "protection-weakened",
        repo.as_str(),
        match source {
            Source::BranchProtection => "rule",
            Source::Ruleset => "ruleset",
        },
        &id.to_string(),
        action,
    ]
    .into_iter()
    .chain(items.iter().copied())
    {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    let fingerprint = hex::encode(&h.finalize()[..8]);
    let mut body = format!(
        "{what} `{name}` in `{repo}` was {action} by @{sender}, weakening the review gate of a deployment branch:\n\n"
    );
    for i in &items {
        body.push_str(&format!("- {i}\n"));
    }
    body.push_str(&format!(
        "\nAsk @{sender} why; if the change was not agreed, restore the previous values listed above in {settings_hint}, and review every push made to the protected branches since (their gitops-guard alerts, `git log`).\n"
    ));
    Alert {
        kind: AlertKind::ProtectionWeakened,
        repo: repo.clone(),
        git_ref: String::new(),
        fingerprint,
        title: format!("{what} `{name}` weakened in {repo} by @{sender}"),
        body,
        shas: Vec::new(),
        rollback: vec![
            format!(
                "# inspect the current settings, then restore the old values in {settings_hint}"
            ),
            match source {
                Source::BranchProtection => format!(
                    "gh api repos/{repo}/branches/{}/protection",
                    name.replace('*', "%2A")
                ),
                Source::Ruleset => format!("gh api repos/{repo}/rulesets/{id}"),
            },
        ],
        revert_branch: None,
    }
}

async fn deployment_config(
    gh: &dyn GitHub,
    ctx: &PipelineContext,
    repo: &RepoName,
    default_branch: &str,
) -> anyhow::Result<Option<Config>> {
    let text = super::push::read_config_file(gh, repo, default_branch)
        .await
        .context("reading the repository config")?
        .map(|b| String::from_utf8_lossy(&b).into_owned());
    let text = match text {
        Some(t) => t,
        None => match super::pull_request::org_config(gh, ctx, repo.owner()).await? {
            Some(t) => (*t).clone(),
            None => return Ok(None),
        },
    };
    // A broken config still marks a deployment repository: defaults apply.
    Ok(Some(
        load_config(super::pull_request::CONFIG_PATH, &text).unwrap_or_default(),
    ))
}

/// Handles one `branch_protection_rule` / `repository_ruleset` delivery
/// (`payload` is the raw JSON). Returns the alert raised, if any.
pub async fn run(
    gh: &dyn GitHub,
    ctx: &PipelineContext,
    env: &EnvLookup,
    source: Source,
    payload: &Value,
) -> anyhow::Result<Option<Alert>> {
    let action = payload.get("action").and_then(Value::as_str).unwrap_or("");
    if !matches!(action, "edited" | "deleted") {
        return Ok(None);
    }
    let Some(full) = payload
        .pointer("/repository/full_name")
        .and_then(Value::as_str)
    else {
        tracing::debug!("organisation-level change without a repository; ignored");
        return Ok(None);
    };
    let repo = RepoName::parse(full).with_context(|| format!("bad repository name {full:?}"))?;
    let default_branch = payload
        .pointer("/repository/default_branch")
        .and_then(Value::as_str)
        .unwrap_or("main")
        .to_owned();
    let object = match source {
        Source::BranchProtection => payload.get("rule"),
        Source::Ruleset => payload.get("repository_ruleset"),
    }
    .cloned()
    .unwrap_or(Value::Null);
    let changes = payload.get("changes").cloned().unwrap_or(Value::Null);
    let weakenings = match source {
        Source::BranchProtection => branch_protection_weakenings(action, &object, &changes),
        Source::Ruleset => ruleset_weakenings(action, &object, &changes),
    };
    if weakenings.is_empty() {
        return Ok(None);
    }
    let Some(cfg) = deployment_config(gh, ctx, &repo, &default_branch).await? else {
        tracing::debug!("not a deployment repository; protection change ignored");
        return Ok(None);
    };
    let covers = match source {
        Source::BranchProtection => rule_covers(
            &cfg,
            &default_branch,
            object.get("name").and_then(Value::as_str).unwrap_or(""),
        ),
        Source::Ruleset => ruleset_covers(&cfg, &default_branch, &object),
    };
    if !covers {
        tracing::debug!("protection change does not cover a protected branch");
        return Ok(None);
    }
    let sender = payload
        .pointer("/sender/login")
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    let a = alert(&repo, source, action, &object, sender, &weakenings);
    let d = alerts::deliver(gh, &cfg.push.alert, env, &a, &Extras::default()).await;
    if d.issue.is_failure() || d.webhook.is_failure() {
        anyhow::bail!(
            "alert sinks failed: issue {:?}, webhook {:?}",
            d.issue,
            d.webhook
        );
    }
    Ok(Some(a))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cfg(branches: &[&str]) -> Config {
        let mut c = Config::default();
        c.push.branches = branches.iter().map(|s| (*s).to_owned()).collect();
        c
    }

    #[test]
    fn rule_coverage() {
        assert!(rule_covers(&cfg(&["main"]), "main", "main"));
        assert!(rule_covers(&cfg(&["main"]), "main", "*"));
        assert!(rule_covers(&cfg(&["release/*"]), "main", "release/*"));
        assert!(rule_covers(&cfg(&["release/1"]), "main", "release/*"));
        assert!(!rule_covers(&cfg(&["main"]), "main", "feature/*"));
        assert!(rule_covers(&cfg(&[]), "trunk", "trunk"));
    }

    #[test]
    fn ruleset_coverage() {
        let c = cfg(&["main"]);
        let rs = |inc: Value, exc: Value| json!({"target": "branch", "conditions": {"ref_name": {"include": inc, "exclude": exc}}});
        assert!(ruleset_covers(
            &c,
            "main",
            &rs(json!(["~DEFAULT_BRANCH"]), json!([]))
        ));
        assert!(ruleset_covers(&c, "main", &rs(json!(["~ALL"]), json!([]))));
        assert!(ruleset_covers(
            &c,
            "main",
            &rs(json!(["refs/heads/main"]), json!([]))
        ));
        assert!(!ruleset_covers(
            &c,
            "main",
            &rs(json!(["refs/heads/dev"]), json!([]))
        ));
        assert!(!ruleset_covers(
            &c,
            "main",
            &rs(json!(["~ALL"]), json!(["refs/heads/main"]))
        ));
        assert!(ruleset_covers(&c, "main", &json!({"target": "branch"})));
        // Tag rulesets matter only when tags are protected.
        assert!(!ruleset_covers(&c, "main", &json!({"target": "tag"})));
        let mut t = cfg(&["main"]);
        t.push.tags = vec!["v*".into()];
        assert!(ruleset_covers(
            &t,
            "main",
            &json!({"target": "tag", "conditions": {"ref_name": {"include": ["refs/tags/v*"], "exclude": []}}})
        ));
    }

    #[test]
    fn alert_lists_every_weakening_with_stable_fingerprint() {
        let repo = RepoName::parse("acme/deploy").unwrap();
        let rule = json!({"id": 5, "name": "main"});
        let w = vec![
            Weakening {
                what: "required approving reviews lowered from 2 to 1".into(),
            },
            Weakening {
                what: "code-owner review is no longer required".into(),
            },
        ];
        let a = alert(&repo, Source::BranchProtection, "edited", &rule, "eve", &w);
        assert_eq!(a.kind, AlertKind::ProtectionWeakened);
        assert!(a.body.contains("lowered from 2 to 1"));
        assert!(a.body.contains("code-owner review"));
        assert!(a.body.contains("@eve"));
        assert!(a.title.contains("`main`"));
        let mut rev = w.clone();
        rev.reverse();
        let b = alert(
            &repo,
            Source::BranchProtection,
            "edited",
            &rule,
            "eve",
            &rev,
        );
        assert_eq!(a.fingerprint, b.fingerprint);
        let c = alert(
            &repo,
            Source::BranchProtection,
            "edited",
            &rule,
            "eve",
            &w[..1],
        );
        assert_ne!(a.fingerprint, c.fingerprint);
    }
}
