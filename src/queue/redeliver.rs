//! Redelivery reconciliation: GitHub never redelivers a failed webhook by
//! itself, so on startup and periodically we page the App's delivery log
//! ([`crate::github::hook_deliveries`]: newest first) back to the last
//! checkpoint, group the attempts by GUID, and ask
//! GitHub to redeliver (`POST /app/hook/deliveries/{id}/attempts`) every
//! GUID that has no successful attempt and that our journal does not hold
//! — GitHub's own recommended procedure, plus the journal check, which
//! catches deliveries we journaled but GitHub recorded as failed (e.g. our
//! 2xx arrived after GitHub's 10 s timeout).
//!
//! Only one replica reconciles at a time: the run holds the `redeliver`
//! lease in the store. The checkpoint (JSON in the store) keeps the newest
//! `delivered_at` seen and the GUIDs already redelivered, so overlapping
//! windows (we re-read a few minutes before the checkpoint, for clock skew
//! and deliveries still being recorded) never redeliver a GUID twice.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::store::{Store, StoreError};
use crate::github::error::GitHubError;
use crate::github::hook_deliveries::HookDeliveries;

/// Lease and checkpoint name.
pub const RECONCILER: &str = "redeliver";
/// Most GUIDs remembered as redelivered (bounded checkpoint).
const MAX_REMEMBERED: usize = 20_000;

/// Why a reconciliation pass failed.
#[derive(Debug, thiserror::Error)]
pub enum RedeliverError {
    /// The delivery log or a redelivery request failed.
    #[error("GitHub API: {0}")]
    Api(#[from] GitHubError),
    /// The checkpoint could not be encoded.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// The journal failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Tuning of the reconciler.
#[derive(Clone, Debug)]
pub struct ReconcileConfig {
    /// Look-back on the very first run (no checkpoint yet).
    pub first_lookback: Duration,
    /// Re-read this much before the checkpoint (clock skew, attempts still
    /// being recorded); safe because redelivered GUIDs are remembered.
    pub overlap: Duration,
    /// Pages read per run at most (100 attempts each).
    pub max_pages: usize,
    /// Redeliveries per run at most (GitHub rate limits apply).
    pub max_redeliveries: usize,
    /// The lease TTL (longer than one run).
    pub lease: Duration,
    /// Who holds the lease.
    pub holder: String,
}

impl Default for ReconcileConfig {
    fn default() -> Self {
        Self {
            first_lookback: Duration::from_secs(24 * 3600),
            overlap: Duration::from_secs(5 * 60),
            max_pages: 100,
            max_redeliveries: 500,
            lease: Duration::from_secs(10 * 60),
            holder: super::worker::default_instance(),
        }
    }
}

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    /// False when another replica held the lease (nothing was done).
    pub ran: bool,
    /// Attempts read.
    pub attempts_seen: usize,
    /// GUIDs without any successful attempt.
    pub failed_guids: usize,
    /// Attempt ids we asked GitHub to redeliver.
    pub redelivered: Vec<u64>,
    /// Failed GUIDs skipped because the journal holds them.
    pub skipped_journaled: usize,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Checkpoint {
    /// Newest `delivered_at` seen so far.
    since: Option<DateTime<Utc>>,
    /// GUID → when we asked for its redelivery.
    #[serde(default)]
    redelivered: BTreeMap<String, DateTime<Utc>>,
}

/// Finds and redelivers failed deliveries.
pub struct Reconciler {
    store: Arc<dyn Store>,
    api: Arc<dyn HookDeliveries>,
    cfg: ReconcileConfig,
}

impl Reconciler {
    /// A reconciler over the journal and GitHub.
    pub fn new(store: Arc<dyn Store>, api: Arc<dyn HookDeliveries>, cfg: ReconcileConfig) -> Self {
        Self { store, api, cfg }
    }

    /// One pass (no-op when another replica holds the lease).
    pub async fn run_once(&self) -> Result<ReconcileReport, RedeliverError> {
        if !self
            .store
            .try_lease(RECONCILER, &self.cfg.holder, self.cfg.lease)
            .await?
        {
            return Ok(ReconcileReport::default());
        }
        let result = self.pass().await;
        if let Err(e) = self.store.release_lease(RECONCILER, &self.cfg.holder).await {
            tracing::warn!(error = %e, "releasing the reconciler lease failed");
        }
        result
    }

    async fn pass(&self) -> Result<ReconcileReport, RedeliverError> {
        let now = Utc::now();
        let mut cp: Checkpoint = match self.store.checkpoint(RECONCILER).await? {
            Some(s) => serde_json::from_str(&s).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "unreadable reconciler checkpoint; starting over");
                Checkpoint::default()
            }),
            None => Checkpoint::default(),
        };
        let lookback = chrono::Duration::from_std(self.cfg.first_lookback)
            .unwrap_or(chrono::Duration::days(1));
        let overlap = chrono::Duration::from_std(self.cfg.overlap).unwrap_or_default();
        let since = cp.since.map(|s| s - overlap).unwrap_or(now - lookback);

        let mut report = ReconcileReport {
            ran: true,
            ..Default::default()
        };
        // guid → (latest attempt id, any success)
        let mut by_guid: HashMap<String, (u64, DateTime<Utc>, bool)> = HashMap::new();
        let mut newest = cp.since;
        let mut cursor: Option<String> = None;
        for _ in 0..self.cfg.max_pages {
            let page = self.api.list(cursor.as_deref()).await?;
            let mut reached_end = page.items.is_empty();
            for item in page.items {
                if item.delivered_at < since {
                    reached_end = true;
                    continue;
                }
                report.attempts_seen += 1;
                newest = Some(newest.map_or(item.delivered_at, |n| n.max(item.delivered_at)));
                let e =
                    by_guid
                        .entry(item.guid.clone())
                        .or_insert((item.id, item.delivered_at, false));
                if item.delivered_at > e.1 {
                    e.0 = item.id;
                    e.1 = item.delivered_at;
                }
                e.2 |= item.succeeded();
            }
            match page.next_cursor {
                Some(c) if !reached_end => cursor = Some(c),
                _ => break,
            }
        }

        let mut failed: Vec<(String, u64)> = by_guid
            .into_iter()
            .filter(|(_, (_, _, ok))| !ok)
            .map(|(guid, (id, _, _))| (guid, id))
            .collect();
        failed.sort_by_key(|(_, id)| *id);
        report.failed_guids = failed.len();
        let guids: Vec<String> = failed.iter().map(|(g, _)| g.clone()).collect();
        let journaled: HashSet<String> =
            self.store.known_among(&guids).await?.into_iter().collect();

        let mut result = Ok(());
        for (guid, id) in failed {
            if journaled.contains(&guid) {
                report.skipped_journaled += 1;
                continue;
            }
            if cp.redelivered.contains_key(&guid) {
                continue;
            }
            if report.redelivered.len() >= self.cfg.max_redeliveries {
                break;
            }
            if let Err(e) = self.api.redeliver(id).await {
                // Keep what was done; the next run retries the rest.
                result = Err(e);
                break;
            }
            tracing::info!(guid = %guid, attempt = id, "asked GitHub to redeliver");
            metrics::counter!("gitops_guard_redeliveries_requested_total").increment(1);
            cp.redelivered.insert(guid, now);
            report.redelivered.push(id);
        }

        // Forget redeliveries older than the window we will read next time.
        let keep_after = newest.unwrap_or(now) - overlap - overlap;
        cp.redelivered.retain(|_, at| *at >= keep_after);
        while cp.redelivered.len() > MAX_REMEMBERED {
            let oldest = cp
                .redelivered
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|(g, _)| g.clone());
            match oldest {
                Some(g) => cp.redelivered.remove(&g),
                None => break,
            };
        }
        if result.is_ok() {
            cp.since = newest.or(Some(since));
        }
        let json = serde_json::to_string(&cp)
            .map_err(|e| RedeliverError::Checkpoint(format!("encoding: {e}")))?;
        self.store.set_checkpoint(RECONCILER, &json).await?;
        result.map(|()| report).map_err(RedeliverError::from)
    }

    /// Runs a pass now and then every `every`, until the task is aborted.
    pub fn spawn(self: Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                match self.run_once().await {
                    Ok(r) if r.ran => tracing::info!(
                        seen = r.attempts_seen,
                        failed = r.failed_guids,
                        redelivered = r.redelivered.len(),
                        "redelivery reconciliation"
                    ),
                    Ok(_) => tracing::debug!("another replica reconciles"),
                    Err(e) => tracing::warn!(error = %e, "redelivery reconciliation failed"),
                }
                tokio::time::sleep(every).await;
            }
        })
    }
}
