//! The one effective-config reader of the App: every path (the PR gates,
//! push alerts, protection alerts) asks [`effective_config`] for the config
//! it judges by, so all of them see the same thing.
//!
//! The effective config is the repository's `.github/gitops-guard.yml` at a
//! trusted commit (a PR's base, a push's `before`, the default branch)
//! merged tighten-only onto the organisation default (`gitops-guard.yml`
//! in the owner's `.github` repository) by the engine's
//! [`crate::engine::config::effective_config`], the same function the CLI's
//! `--org-config` uses. Neither file: not a deployment repository (`None`).
//!
//! A file that does not parse, validate or merge is a config error on
//! every path, never silently the defaults: [`EffectiveConfig::errors`]
//! holds the errors (file, line, key). The PR gates fail their runs with
//! them; the push and protection paths cannot refuse an event that already
//! happened, so they still judge it, by the organisation default alone (or
//! the built-in defaults when that is broken too), and every alert says
//! the repository config is broken ([`EffectiveConfig::error_note`]).

use std::sync::Arc;

use anyhow::Context as _;

use super::PipelineContext;
use crate::engine::config::{self as engine_config, Config, ConfigError};
use crate::engine::ids::RepoName;
use crate::github::{GitHub, GitHubError, Tree};

pub use crate::engine::config::{CONFIG_PATH, ORG_CONFIG_PATH, ORG_CONFIG_REPO};

/// Where the repository's config file is read.
#[derive(Clone, Copy, Debug)]
pub enum ConfigAt<'a> {
    /// A commit's recursive tree, already read (the PR gates' base tree):
    /// the file is read as a blob by SHA (cached).
    Tree(&'a Tree),
    /// A commit SHA or a branch name (push and protection paths).
    Ref(&'a str),
    /// No trusted commit exists (a push that created the branch): the
    /// organisation default alone.
    OrgOnly,
}

/// The config to judge by, where it came from, and any config error.
#[derive(Clone, Debug)]
pub struct EffectiveConfig {
    /// The merged config; when [`Self::errors`] is non-empty, the fallback
    /// (organisation default alone, else built-in defaults).
    pub config: Config,
    /// Human-readable source, for summaries and logs.
    pub source: String,
    /// Config errors of the files read (empty: the config is sound).
    pub errors: Vec<ConfigError>,
    /// What [`Self::config`] is when there are errors (for the note).
    pub fallback: &'static str,
}

impl EffectiveConfig {
    /// All errors, one per line (`file:line: key: message`).
    pub fn error_text(&self) -> String {
        self.errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// For alerts: the config is broken and what was used instead.
    pub fn error_note(&self) -> Option<String> {
        if self.errors.is_empty() {
            return None;
        }
        Some(format!(
            "The gitops-guard config is broken, so this event was judged by {} (fail closed); fix it:\n{}",
            self.fallback,
            self.error_text()
        ))
    }
}

/// Pure: the effective config from the optional org file and the optional
/// repository file, each `(file name, text)`; `None` when neither exists.
pub fn resolve(
    org: Option<(&str, &str)>,
    repo: Option<(&str, &str)>,
    source: String,
) -> Option<EffectiveConfig> {
    if org.is_none() && repo.is_none() {
        return None;
    }
    Some(match engine_config::effective_config(org, repo) {
        Ok(config) => EffectiveConfig {
            config,
            source,
            errors: Vec::new(),
            fallback: "",
        },
        Err(errors) => {
            // The org file alone, if it is sound, is the floor the
            // repository could only have tightened.
            let (config, fallback) =
                match org.map(|o| engine_config::effective_config(Some(o), None)) {
                    Some(Ok(c)) if repo.is_some() => (c, "the organisation default alone"),
                    _ => (Config::default(), "the built-in defaults"),
                };
            EffectiveConfig {
                config,
                source,
                errors,
                fallback,
            }
        }
    })
}

/// Reads and merges the config of `repo` at `at` (see the module docs).
/// `Err` only for GitHub failures; config problems are in the result.
pub async fn effective_config(
    gh: &dyn GitHub,
    ctx: &PipelineContext,
    repo: &RepoName,
    at: ConfigAt<'_>,
) -> anyhow::Result<Option<EffectiveConfig>> {
    let repo_bytes = match at {
        ConfigAt::Tree(tree) => match tree.blob(CONFIG_PATH) {
            Some(entry) => Some(
                super::pull_request::blob(gh, ctx, repo, &entry.sha)
                    .await
                    .with_context(|| format!("reading {CONFIG_PATH}"))?,
            ),
            None => None,
        },
        ConfigAt::Ref(git_ref) => read_config_file(gh, repo, git_ref)
            .await
            .with_context(|| format!("reading {repo}:{CONFIG_PATH}@{git_ref}"))?
            .map(Arc::new),
        ConfigAt::OrgOnly => None,
    };
    let org_text = org_config(gh, ctx, repo.owner()).await?;
    let org_source = format!("{}/{ORG_CONFIG_REPO}/{ORG_CONFIG_PATH}", repo.owner());
    let repo_text = match &repo_bytes {
        None => None,
        Some(b) => match std::str::from_utf8(b) {
            Ok(t) => Some(t),
            Err(_) => {
                // Cannot be read at all: a config error like any other.
                let org = resolve(
                    org_text
                        .as_deref()
                        .map(|t| (org_source.as_str(), t.as_str())),
                    None,
                    org_source.clone(),
                );
                let mut errors = vec![ConfigError::new(
                    CONFIG_PATH,
                    1,
                    "",
                    "the file is not UTF-8 text",
                )];
                let (config, fallback) = match org {
                    Some(o) if o.errors.is_empty() => (o.config, "the organisation default alone"),
                    Some(o) => {
                        errors.extend(o.errors);
                        (Config::default(), "the built-in defaults")
                    }
                    None => (Config::default(), "the built-in defaults"),
                };
                return Ok(Some(EffectiveConfig {
                    config,
                    source: CONFIG_PATH.to_owned(),
                    errors,
                    fallback,
                }));
            }
        },
    };
    let source = match (at, repo_text.is_some(), org_text.is_some()) {
        (ConfigAt::Tree(_), true, _) => CONFIG_PATH.to_owned(),
        (ConfigAt::Ref(r), true, false) => format!("{repo}:{CONFIG_PATH}@{}", short(r)),
        (ConfigAt::Ref(r), true, true) => {
            format!("{repo}:{CONFIG_PATH}@{} merged onto {org_source}", short(r))
        }
        (ConfigAt::OrgOnly, _, _) | (_, false, _) => org_source.clone(),
    };
    Ok(resolve(
        org_text
            .as_deref()
            .map(|t| (org_source.as_str(), t.as_str())),
        repo_text.map(|t| (CONFIG_PATH, t)),
        source,
    ))
}

fn short(r: &str) -> &str {
    // SHAs are shortened; branch names are kept whole.
    if r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit()) {
        &r[..7]
    } else {
        r
    }
}

/// `.github/gitops-guard.yml` at `git_ref` (a SHA or branch): the contents
/// API first (one small call); when it says "not found", the commit's tree
/// confirms (some GitHub-compatible servers only serve trees and blobs).
/// `None`: no config there.
pub(crate) async fn read_config_file(
    gh: &dyn GitHub,
    repo: &RepoName,
    git_ref: &str,
) -> Result<Option<Vec<u8>>, GitHubError> {
    match gh.get_file(repo, CONFIG_PATH, git_ref).await {
        Ok(Some(b)) => return Ok(Some(b)),
        Ok(None) | Err(GitHubError::NotFound(_)) => {}
        Err(e) => return Err(e),
    }
    let tree = match gh.get_tree(repo, git_ref).await {
        Ok(t) => t,
        Err(GitHubError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    match tree.blob(CONFIG_PATH) {
        Some(entry) => gh.get_blob(repo, &entry.sha).await.map(Some),
        None => Ok(None),
    }
}

/// The organisation default's text for `owner` (`None`: there is none, or
/// the App cannot read the org's `.github` repository), cached for the
/// context's TTL.
pub(crate) async fn org_config(
    gh: &dyn GitHub,
    ctx: &PipelineContext,
    owner: &str,
) -> anyhow::Result<Option<Arc<String>>> {
    if let Some(v) = ctx.org_configs.get(owner).await {
        crate::github::metrics::cache("org_config", true);
        return Ok(v);
    }
    crate::github::metrics::cache("org_config", false);
    let Some(repo) = RepoName::parse(&format!("{owner}/{ORG_CONFIG_REPO}")) else {
        return Ok(None);
    };
    let v = match gh.get_file(&repo, ORG_CONFIG_PATH, "").await {
        Ok(Some(bytes)) => Some(Arc::new(String::from_utf8(bytes).map_err(|_| {
            anyhow::anyhow!("{owner}/{ORG_CONFIG_REPO}/{ORG_CONFIG_PATH} is not UTF-8")
        })?)),
        Ok(None) => None,
        // No access to the org's .github repository: no org default.
        Err(GitHubError::Auth(_)) => None,
        Err(e) => return Err(e).context("reading the organisation default config"),
    };
    ctx.org_configs.insert(owner.to_owned(), v.clone()).await;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORG: &str = "acme/.github/gitops-guard.yml";

    fn eff(org: Option<&str>, repo: Option<&str>) -> Option<EffectiveConfig> {
        resolve(
            org.map(|t| (ORG, t)),
            repo.map(|t| (CONFIG_PATH, t)),
            "src".into(),
        )
    }

    #[test]
    fn neither_file_is_not_a_deployment_repository() {
        assert!(eff(None, None).is_none());
    }

    #[test]
    fn repo_config_is_merged_onto_the_org_floor() {
        let org = "reviews:\n  required_approvals: 3\npush:\n  branches: [main, prod]\n";
        let e = eff(Some(org), Some("admission:\n  level: restricted\n")).unwrap();
        assert!(e.errors.is_empty(), "{:#?}", e.errors);
        assert_eq!(e.config.reviews.required_approvals, 3);
        assert_eq!(e.config.push.branches, ["main", "prod"]);
        assert!(e.error_note().is_none());
    }

    #[test]
    fn a_loosening_repo_config_is_an_error_and_the_org_floor_applies() {
        let org = "push:\n  branches: [main, prod]\n";
        let e = eff(Some(org), Some("push:\n  branches: [main]\n")).unwrap();
        assert_eq!(e.errors.len(), 1, "{:#?}", e.errors);
        assert_eq!(e.errors[0].file, CONFIG_PATH);
        assert_eq!(e.config.push.branches, ["main", "prod"]);
        let note = e.error_note().unwrap();
        assert!(note.contains("organisation default alone"), "{note}");
        assert!(note.contains(".github/gitops-guard.yml:2"), "{note}");
    }

    #[test]
    fn broken_files_never_become_silent_defaults() {
        // Broken repo file, no org: built-in defaults, and the error is kept.
        let e = eff(None, Some("push: [")).unwrap();
        assert!(!e.errors.is_empty());
        assert_eq!(e.config, Config::default());
        assert!(e.error_note().unwrap().contains("built-in defaults"));
        // Broken org file: the error names the org file.
        let e = eff(Some("reviews: {required_approvals: lots}"), None).unwrap();
        assert_eq!(e.errors[0].file, ORG);
        // A sound file has no errors.
        let e = eff(None, Some("push:\n  branches: [prod]\n")).unwrap();
        assert!(e.errors.is_empty());
        assert_eq!(e.config.push.branches, ["prod"]);
    }

    #[test]
    fn shas_are_shortened_branches_are_not() {
        assert_eq!(short(&"a".repeat(40)), "aaaaaaa");
        assert_eq!(short("main"), "main");
    }
}
