//! The I/O shell around the engine: gather data from GitHub → evaluate
//! (pure) → render → write back. [`Dispatcher`] is the worker's
//! [`Handler`]: it decodes a journaled delivery and routes it to a pipeline.
//! Shared caches (trees and blobs by SHA, org defaults with a TTL) live in
//! [`PipelineContext`].

pub mod alerts;
pub mod config;
pub mod gate;
pub mod gates;
pub mod merge_group;
pub mod metrics;
pub mod protection;
pub mod pull_request;
pub mod push;
pub mod reviews;
pub mod signatures;
pub mod snapshot;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::github::event::{Event, decode};
use crate::github::{Installations, Tree};
use crate::queue::journal::Delivery;
use crate::queue::pool::Handler;

/// Caches shared by all deliveries. Keys include the repository so one
/// installation never reads another's objects from the cache.
pub struct PipelineContext {
    /// Recursive trees by (repo, commit SHA): immutable, cached freely.
    pub trees: moka::future::Cache<(String, String), Arc<Tree>>,
    /// Blob bytes by (repo, blob SHA): immutable.
    pub blobs: moka::future::Cache<(String, String), Arc<Vec<u8>>>,
    /// Organisation default config text by owner (`None`: none exists);
    /// mutable upstream, so held for a short TTL.
    pub org_configs: moka::future::Cache<String, Option<Arc<String>>>,
    /// Serialises work on one PR, so `pull_request.synchronize` and
    /// `check_suite.requested` for the same push do not race to create two
    /// check runs.
    pub pr_locks: moka::future::Cache<String, Arc<tokio::sync::Mutex<()>>>,
    /// Team membership by (org, team slug, login), all lower-cased: `true`
    /// for an active member. Mutable upstream, so held for a short TTL
    /// ([`TEAM_MEMBERSHIP_TTL`]); a removed member keeps approving for at
    /// most that long.
    pub team_memberships: moka::future::Cache<(String, String, String), bool>,
    /// Repository permission by (repo `owner/name`, login), lower-cased;
    /// only definite answers. Held for [`PERMISSION_TTL`] and dropped on
    /// `member`, `membership`, `team` and `organization` events
    /// ([`reviews::invalidate_authority`]).
    pub permissions: moka::future::Cache<(String, String), crate::engine::gates::reviews::Access>,
    /// A team's permission on a repository by (repo, `org/slug`),
    /// lower-cased; like [`Self::permissions`].
    pub team_access: moka::future::Cache<(String, String), crate::engine::gates::reviews::Access>,
}

/// How long a repository-permission answer is trusted (events invalidate
/// it sooner).
pub const PERMISSION_TTL: Duration = Duration::from_secs(300);

/// How long a team-membership answer is trusted.
pub const TEAM_MEMBERSHIP_TTL: Duration = Duration::from_secs(300);

impl Default for PipelineContext {
    fn default() -> Self {
        Self::new(Duration::from_secs(300))
    }
}

impl PipelineContext {
    /// Caches with `org_config_ttl` for organisation defaults.
    pub fn new(org_config_ttl: Duration) -> Self {
        Self {
            trees: moka::future::Cache::builder()
                .weigher(|_k, v: &Arc<Tree>| (v.tree.len() * 128).min(u32::MAX as usize) as u32)
                .max_capacity(128 * 1024 * 1024)
                .build(),
            blobs: moka::future::Cache::builder()
                .weigher(|_k, v: &Arc<Vec<u8>>| (v.len() + 64).min(u32::MAX as usize) as u32)
                .max_capacity(256 * 1024 * 1024)
                .build(),
            org_configs: moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(org_config_ttl)
                .build(),
            pr_locks: moka::future::Cache::builder()
                .max_capacity(100_000)
                .time_to_idle(Duration::from_secs(3600))
                .build(),
            team_memberships: team_cache(TEAM_MEMBERSHIP_TTL),
            permissions: authority_cache(PERMISSION_TTL),
            team_access: authority_cache(PERMISSION_TTL),
        }
    }

    /// The same caches with permissions held for `ttl` instead.
    pub fn with_permission_ttl(mut self, ttl: Duration) -> Self {
        self.permissions = authority_cache(ttl);
        self.team_access = authority_cache(ttl);
        self
    }

    /// The same caches with team memberships held for `ttl` instead.
    pub fn with_team_membership_ttl(mut self, ttl: Duration) -> Self {
        self.team_memberships = team_cache(ttl);
        self
    }
}

fn team_cache(ttl: Duration) -> moka::future::Cache<(String, String, String), bool> {
    moka::future::Cache::builder()
        .max_capacity(100_000)
        .time_to_live(ttl)
        .support_invalidation_closures()
        .build()
}

fn authority_cache<V: Clone + Send + Sync + 'static>(
    ttl: Duration,
) -> moka::future::Cache<(String, String), V> {
    moka::future::Cache::builder()
        .max_capacity(100_000)
        .time_to_live(ttl)
        .support_invalidation_closures()
        .build()
}

/// Routes decoded deliveries to the pipelines.
pub struct Dispatcher {
    installations: Arc<dyn Installations>,
    ctx: Arc<PipelineContext>,
    env: crate::pipeline::alerts::EnvLookup,
}

impl Dispatcher {
    /// A dispatcher acting through `installations`.
    pub fn new(installations: Arc<dyn Installations>, ctx: Arc<PipelineContext>) -> Self {
        Self {
            installations,
            ctx,
            env: crate::pipeline::alerts::process_env(),
        }
    }

    /// Reads environment variables (the alert webhook URL) through `env`
    /// instead of the process environment (tests, embedding).
    pub fn with_env(mut self, env: crate::pipeline::alerts::EnvLookup) -> Self {
        self.env = env;
        self
    }
}

#[async_trait]
impl Handler for Dispatcher {
    async fn handle(&self, delivery: &Delivery) -> anyhow::Result<()> {
        let event = decode(&delivery.event, &delivery.payload)?;
        let span = tracing::Span::current();
        if let Some(repo) = event.repository() {
            span.record("repo", repo);
        }
        let Some(installation) = event.installation_id() else {
            tracing::info!("delivery carries no installation; ignored");
            return Ok(());
        };
        match &event {
            Event::PullRequest(_)
            | Event::PullRequestReview(_)
            | Event::CheckSuite(_)
            | Event::CheckRun(_) => {
                let targets = gates::targets(&event);
                if targets.is_empty() {
                    tracing::debug!("no pull request to evaluate");
                }
                let gh = self.installations.installation(installation);
                let mut first_err = None;
                for t in targets {
                    span.record("pr", t.number);
                    if let Err(e) = gates::run(gh.as_ref(), &self.ctx, &t).await {
                        tracing::error!(
                            pr = t.number,
                            error = format!("{e:#}"),
                            "pull request pipeline failed"
                        );
                        first_err.get_or_insert(e);
                    }
                }
                first_err.map_or(Ok(()), Err)
            }
            Event::MergeGroup(e) => {
                let gh = self.installations.installation(installation);
                merge_group::run(gh.as_ref(), &self.ctx, e).await
            }
            Event::Push(e) => {
                let gh = self.installations.installation(installation);
                push::run(gh.as_ref(), &self.ctx, &self.env, e)
                    .await
                    .map(|_| ())
            }
            Event::Access(e) => {
                reviews::invalidate_authority(&self.ctx, e);
                Ok(())
            }
            Event::BranchProtectionRule(_) | Event::RepositoryRuleset(_) => {
                let source = if matches!(event, Event::RepositoryRuleset(_)) {
                    protection::Source::Ruleset
                } else {
                    protection::Source::BranchProtection
                };
                // The engine compares raw settings (fields our structs omit too).
                let raw: serde_json::Value = serde_json::from_slice(&delivery.payload)?;
                let gh = self.installations.installation(installation);
                protection::run(gh.as_ref(), &self.ctx, &self.env, source, &raw)
                    .await
                    .map(|_| ())
            }
            _ => {
                tracing::debug!(event = %delivery.event, "no pipeline for this event yet");
                Ok(())
            }
        }
    }
}
