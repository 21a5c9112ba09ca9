//! `protection-weakened` alerts for `branch_protection_rule` and
//! `repository_ruleset` edits and deletions, for repository rulesets and
//! organisation rulesets alike.
//!
//! Steps:
//! 1. The settings before the change: for a ruleset, the previous version
//!    from GitHub's ruleset history (`…/rulesets/{id}/history`, two calls:
//!    the only source that has the old bypass actors); when that cannot be
//!    read, rebuilt from the webhook's `changes`. For a classic rule, the
//!    webhook's `rule` with `changes.X.from` written back.
//! 2. The repositories concerned: the event's repository, or for an
//!    organisation ruleset every repository of the installation (at most
//!    [`MAX_ORG_REPOS`], one call per 100) that the ruleset targeted before
//!    or after.
//! 3. Per repository, the effective config of its default branch (the one
//!    reader, [`super::config`]; none: not a deployment repository), its
//!    protected refs, and the pure diff
//!    ([`crate::engine::pushes::protection`]). A loosening of anything
//!    that covers a protected ref raises one [`Alert`] listing every
//!    weakening with its before and after value, who made it and the
//!    rule's name. A broken config still raises the alert (judged by the
//!    organisation default) and the alert says the config is broken.
//!
//! The engine reads the raw JSON rather than our typed event structs, so
//! settings GitHub adds later are still compared.

use anyhow::Context as _;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::PipelineContext;
use super::config::{ConfigAt, EffectiveConfig, effective_config};
use crate::engine::config::Config;
use crate::engine::ids::RepoName;
use crate::engine::pushes::protection::{
    Scope, Weakening, classic_before, classic_covers, classic_deleted, classic_weakenings,
    ruleset_before, ruleset_covers, ruleset_deleted, ruleset_weakenings,
};
use crate::engine::pushes::{Alert, AlertKind};
use crate::github::{GitHub, RulesetScope};
use crate::pipeline::alerts::{self, EnvLookup, Extras};

/// Most repositories of an installation an organisation ruleset change is
/// judged for; beyond it the change is judged for none and fails (the
/// delivery is retried and logged), never silently for some.
pub const MAX_ORG_REPOS: usize = 1_000;

/// Which event a change came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// `branch_protection_rule`.
    BranchProtection,
    /// `repository_ruleset`.
    Ruleset,
}

/// The protected refs of a repository under `cfg`, as full ref globs.
pub fn protected_refs(cfg: &Config, default_branch: &str) -> Vec<String> {
    let mut refs: Vec<String> = if cfg.push.branches.is_empty() {
        vec![format!("refs/heads/{default_branch}")]
    } else {
        cfg.push
            .branches
            .iter()
            .map(|b| format!("refs/heads/{b}"))
            .collect()
    };
    refs.extend(cfg.push.tags.iter().map(|t| format!("refs/tags/{t}")));
    refs
}

/// Where the ruleset lives, from the payload (`source_type` / `source`,
/// else the event's repository or organisation).
fn ruleset_scope(object: &Value, payload: &Value) -> Option<(String, bool)> {
    let org_level = object.get("source_type").and_then(Value::as_str) == Some("Organization")
        || payload.get("repository").is_none_or(Value::is_null);
    if org_level {
        let org = object.get("source").and_then(Value::as_str).or_else(|| {
            payload
                .pointer("/organization/login")
                .and_then(Value::as_str)
        })?;
        Some((org.to_owned(), true))
    } else {
        let full = payload
            .pointer("/repository/full_name")
            .and_then(Value::as_str)?;
        Some((full.to_owned(), false))
    }
}

/// The ruleset before this edit: the history version saved just before
/// the one the webhook describes (matched by `updated_at`, so a later
/// edit does not shift the comparison), else rebuilt from `changes`.
async fn ruleset_previous(
    gh: &dyn GitHub,
    scope: RulesetScope<'_>,
    object: &Value,
    changes: &Value,
) -> (Value, Option<String>) {
    let rebuilt = || ruleset_before(object, changes);
    let Some(id) = object.get("id").and_then(Value::as_u64) else {
        return (rebuilt(), None);
    };
    let history = match gh.ruleset_history(scope, id).await {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!(error = %e, "ruleset history unavailable; old values rebuilt from the webhook");
            return (
                rebuilt(),
                Some(format!(
                    "GitHub's ruleset history could not be read ({e}); the old values were rebuilt from the webhook, which does not list bypass actors"
                )),
            );
        }
    };
    let updated = object
        .get("updated_at")
        .and_then(Value::as_str)
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
    let at = |v: &crate::github::RulesetVersion| {
        v.updated_at
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
    };
    let current = match updated {
        Some(u) => history
            .iter()
            .position(|v| at(v).is_none_or(|t| t <= u))
            .unwrap_or(0),
        None => 0,
    };
    let Some(prev) = history.get(current + 1) else {
        return (rebuilt(), None);
    };
    match gh.ruleset_version(scope, id, prev.version_id).await {
        Ok(state) => (state, None),
        Err(e) => (
            rebuilt(),
            Some(format!(
                "GitHub's ruleset version {} could not be read ({e}); the old values were rebuilt from the webhook, which does not list bypass actors",
                prev.version_id
            )),
        ),
    }
}

/// A repository the change may concern.
struct Target {
    repo: RepoName,
    id: Option<u64>,
    default_branch: String,
}

/// Handles one `branch_protection_rule` / `repository_ruleset` delivery
/// (`payload` is the raw JSON). Returns the alerts raised.
pub async fn run(
    gh: &dyn GitHub,
    ctx: &PipelineContext,
    env: &EnvLookup,
    source: Source,
    payload: &Value,
) -> anyhow::Result<Vec<Alert>> {
    let action = payload.get("action").and_then(Value::as_str).unwrap_or("");
    if !matches!(action, "edited" | "deleted") {
        return Ok(Vec::new());
    }
    let object = match source {
        Source::BranchProtection => payload.get("rule"),
        Source::Ruleset => payload.get("repository_ruleset"),
    }
    .cloned()
    .unwrap_or(Value::Null);
    let changes = payload.get("changes").cloned().unwrap_or(Value::Null);
    let sender = payload
        .pointer("/sender/login")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_owned();

    // Where the rule lives and which repositories it may concern.
    let (owner_path, org_level) = match source {
        Source::BranchProtection => match payload
            .pointer("/repository/full_name")
            .and_then(Value::as_str)
        {
            Some(f) => (f.to_owned(), false),
            None => return Ok(Vec::new()),
        },
        Source::Ruleset => match ruleset_scope(&object, payload) {
            Some(s) => s,
            None => {
                tracing::debug!("ruleset change without a repository or organisation; ignored");
                return Ok(Vec::new());
            }
        },
    };
    let targets: Vec<Target> = if org_level {
        gh.installation_repositories(MAX_ORG_REPOS)
            .await
            .context("listing the installation's repositories for an organisation ruleset")?
            .into_iter()
            .filter_map(|r| {
                let repo = RepoName::parse(&r.full_name)?;
                (repo.owner().eq_ignore_ascii_case(&owner_path)).then(|| Target {
                    repo,
                    id: Some(r.id),
                    default_branch: r.default_branch.unwrap_or_else(|| "main".into()),
                })
            })
            .collect()
    } else {
        let repo = RepoName::parse(&owner_path)
            .with_context(|| format!("bad repository name {owner_path:?}"))?;
        vec![Target {
            repo,
            id: payload.pointer("/repository/id").and_then(Value::as_u64),
            default_branch: payload
                .pointer("/repository/default_branch")
                .and_then(Value::as_str)
                .unwrap_or("main")
                .to_owned(),
        }]
    };

    // The settings before the change.
    let mut notes = Vec::new();
    let before = match (source, action) {
        (_, "deleted") => object.clone(),
        (Source::BranchProtection, _) => classic_before(&object, &changes),
        (Source::Ruleset, _) => {
            let org_repo;
            let scope = if org_level {
                RulesetScope::Org(&owner_path)
            } else {
                org_repo = RepoName::parse(&owner_path)
                    .with_context(|| format!("bad repository name {owner_path:?}"))?;
                RulesetScope::Repo(&org_repo)
            };
            let (b, note) = ruleset_previous(gh, scope, &object, &changes).await;
            notes.extend(note);
            b
        }
    };

    let mut raised = Vec::new();
    let mut failures = Vec::new();
    for t in targets {
        let Some(eff) = deployment_config(gh, ctx, &t.repo, &t.default_branch).await? else {
            continue;
        };
        let scope = Scope {
            default_branch: t.default_branch.clone(),
            protected: protected_refs(&eff.config, &t.default_branch),
            repo_name: t.repo.name().to_owned(),
            repo_id: t.id,
            app_id: gh.app_id().and_then(|id| i64::try_from(id).ok()),
        };
        let (covers, weakenings) = match (source, action) {
            (Source::BranchProtection, "deleted") => (
                classic_covers(name_of(&object), &scope),
                classic_deleted(&object),
            ),
            (Source::BranchProtection, _) => (
                classic_covers(name_of(&object), &scope)
                    || classic_covers(name_of(&before), &scope),
                classic_weakenings(&before, &object, &scope),
            ),
            (Source::Ruleset, "deleted") => {
                (ruleset_covers(&object, &scope), ruleset_deleted(&object))
            }
            (Source::Ruleset, _) => (
                ruleset_covers(&before, &scope) || ruleset_covers(&object, &scope),
                ruleset_weakenings(&before, &object, &scope),
            ),
        };
        if weakenings.is_empty() || !covers {
            tracing::debug!(repo = %t.repo, "protection change loosens nothing that guards a protected ref");
            continue;
        }
        let a = alert(
            &t.repo,
            source,
            org_level.then_some(owner_path.as_str()),
            action,
            &object,
            &sender,
            &weakenings,
        );
        let mut extras = Extras::default();
        extras.notes.extend(eff.error_note());
        extras.notes.extend(notes.iter().cloned());
        let d = alerts::deliver(gh, &eff.config.push.alert, env, &a, &extras).await;
        if d.issue.is_failure() || d.webhook.is_failure() {
            failures.push(format!(
                "{}: issue {:?}, webhook {:?}",
                t.repo, d.issue, d.webhook
            ));
        }
        raised.push(a);
    }
    if !failures.is_empty() {
        anyhow::bail!("alert sinks failed: {}", failures.join("; "));
    }
    Ok(raised)
}

fn name_of(v: &Value) -> &str {
    v.get("name").and_then(Value::as_str).unwrap_or("")
}

/// The effective config of a repository's default branch (the one reader,
/// [`super::config`]); `None`: not a deployment repository. A broken config
/// still marks a deployment repository: the org default (else built-in
/// defaults) decides, and the alert says the config is broken.
async fn deployment_config(
    gh: &dyn GitHub,
    ctx: &PipelineContext,
    repo: &RepoName,
    default_branch: &str,
) -> anyhow::Result<Option<EffectiveConfig>> {
    effective_config(gh, ctx, repo, ConfigAt::Ref(default_branch))
        .await
        .with_context(|| format!("reading the config of {repo}"))
}

/// Builds the alert (pure). `org` is set for an organisation ruleset.
pub fn alert(
    repo: &RepoName,
    source: Source,
    org: Option<&str>,
    action: &str,
    object: &Value,
    sender: &str,
    weakenings: &[Weakening],
) -> Alert {
    let name = name_of(object);
    let name = if name.is_empty() { "?" } else { name };
    let id = object.get("id").and_then(Value::as_u64).unwrap_or(0);
    let (what, settings_hint) = match (source, org) {
        (Source::BranchProtection, _) => (
            "Branch protection rule",
            format!("Settings → Branches → the rule for `{name}`"),
        ),
        (Source::Ruleset, None) => ("Ruleset", format!("Settings → Rules → Rulesets → `{name}`")),
        (Source::Ruleset, Some(o)) => (
            "Organisation ruleset",
            format!("the `{o}` organisation's Settings → Repository → Rulesets → `{name}`"),
        ),
    };
    let mut items: Vec<String> = weakenings
        .iter()
        .map(|w| {
            format!(
                "{} (before: {}; after: {})",
                w.what,
                one_line(&w.before),
                one_line(&w.after)
            )
        })
        .collect();
    items.sort_unstable();
    items.dedup();
    let mut h = Sha256::new();
    let kind = match source {
        Source::BranchProtection => "rule",
        Source::Ruleset => "ruleset",
    };
    for part in [
        "protection-weakened",
        repo.as_str(),
        kind,
        org.unwrap_or(""),
        &id.to_string(),
        action,
    ]
    .into_iter()
    .chain(items.iter().map(String::as_str))
    {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    let fingerprint = hex::encode(&h.finalize()[..8]);
    let mut body = format!(
        "{what} `{name}` covering `{repo}` was {action} by @{sender}, weakening the review gate of a deployment branch:\n\n"
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
            match (source, org) {
                (Source::BranchProtection, _) => format!(
                    "gh api repos/{repo}/branches/{}/protection",
                    name.replace('*', "%2A")
                ),
                (Source::Ruleset, None) => format!("gh api repos/{repo}/rulesets/{id}/history"),
                (Source::Ruleset, Some(o)) => format!("gh api orgs/{o}/rulesets/{id}/history"),
            },
        ],
        revert_branch: None,
    }
}

/// Values are JSON or words; keep each on one line and bounded, so a huge
/// conditions object cannot flood the issue.
fn one_line(s: &str) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() > 300 {
        let cut: String = flat.chars().take(300).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn protected_refs_from_config() {
        let mut c = Config::default();
        c.push.branches = vec!["main".into(), "release/*".into()];
        c.push.tags = vec!["v*".into()];
        assert_eq!(
            protected_refs(&c, "trunk"),
            ["refs/heads/main", "refs/heads/release/*", "refs/tags/v*"]
        );
        c.push.branches.clear();
        c.push.tags.clear();
        assert_eq!(protected_refs(&c, "trunk"), ["refs/heads/trunk"]);
    }

    #[test]
    fn ruleset_scope_from_payload() {
        let repo_level =
            json!({"repository": {"full_name": "acme/deploy"}, "organization": {"login": "acme"}});
        assert_eq!(
            ruleset_scope(&json!({"source_type": "Repository"}), &repo_level),
            Some(("acme/deploy".into(), false))
        );
        assert_eq!(
            ruleset_scope(
                &json!({"source_type": "Organization", "source": "acme"}),
                &repo_level
            ),
            Some(("acme".into(), true))
        );
        let org_level = json!({"organization": {"login": "acme"}});
        assert_eq!(
            ruleset_scope(&json!({}), &org_level),
            Some(("acme".into(), true))
        );
        assert_eq!(ruleset_scope(&json!({}), &json!({})), None);
    }

    #[test]
    fn alert_lists_every_weakening_with_before_after_and_stable_fingerprint() {
        let repo = RepoName::parse("acme/deploy").unwrap();
        let rule = json!({"id": 5, "name": "main"});
        let w = vec![
            Weakening {
                what: "required approving reviews lowered from 2 to 1".into(),
                before: "2".into(),
                after: "1".into(),
            },
            Weakening {
                what: "code-owner review is no longer required".into(),
                before: "true".into(),
                after: "false".into(),
            },
        ];
        let mk = |w: &[Weakening]| {
            alert(
                &repo,
                Source::BranchProtection,
                None,
                "edited",
                &rule,
                "eve",
                w,
            )
        };
        let a = mk(&w);
        assert_eq!(a.kind, AlertKind::ProtectionWeakened);
        assert!(
            a.body.contains("lowered from 2 to 1 (before: 2; after: 1)"),
            "{}",
            a.body
        );
        assert!(a.body.contains("code-owner review"));
        assert!(a.body.contains("@eve"));
        assert!(a.title.contains("`main`"));
        let mut rev = w.clone();
        rev.reverse();
        assert_eq!(a.fingerprint, mk(&rev).fingerprint);
        assert_ne!(a.fingerprint, mk(&w[..1]).fingerprint);
        let org = alert(
            &repo,
            Source::Ruleset,
            Some("acme"),
            "edited",
            &rule,
            "eve",
            &w,
        );
        assert!(
            org.title.starts_with("Organisation ruleset"),
            "{}",
            org.title
        );
        assert!(org.rollback[1].contains("orgs/acme/rulesets/5"));
        assert_ne!(org.fingerprint, a.fingerprint);
    }

    #[test]
    fn values_are_one_bounded_line() {
        assert_eq!(one_line("a\nb"), "a b");
        assert!(one_line(&"x".repeat(1000)).chars().count() <= 301);
    }
}
