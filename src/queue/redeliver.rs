//! Redelivery reconciliation: GitHub never redelivers a failed webhook by
//! itself, so on startup and periodically we page the App's delivery log
//! (`GET /app/hook/deliveries`, newest first, cursor pagination via
//! `Link`) back to the last checkpoint, group the attempts by GUID, and ask
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

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::store::{Store, StoreError};

/// Lease and checkpoint name.
pub const RECONCILER: &str = "redeliver";
/// Most GUIDs remembered as redelivered (bounded checkpoint).
const MAX_REMEMBERED: usize = 20_000;

/// One attempt in the App's delivery log (fields we use).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct HookDelivery {
    /// Attempt id (what `POST …/attempts` takes).
    pub id: u64,
    /// `X-GitHub-Delivery`; shared by the original and its redeliveries.
    pub guid: String,
    /// When GitHub attempted it.
    pub delivered_at: DateTime<Utc>,
    /// Whether this attempt was a redelivery.
    #[serde(default)]
    pub redelivery: bool,
    /// `"OK"` on success, otherwise a description.
    #[serde(default)]
    pub status: String,
    /// Our HTTP status (0 or absent when no response arrived).
    #[serde(default)]
    pub status_code: Option<u16>,
    /// Event name.
    #[serde(default)]
    pub event: String,
    /// Action, if any.
    #[serde(default)]
    pub action: Option<String>,
}

impl HookDelivery {
    /// GitHub counts 2xx and 3xx as success (`status == "OK"`).
    pub fn succeeded(&self) -> bool {
        self.status == "OK" || matches!(self.status_code, Some(200..=399))
    }
}

/// One page of the delivery log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeliveryPage {
    /// Attempts, newest first.
    pub items: Vec<HookDelivery>,
    /// Cursor of the next (older) page, from the `Link` header.
    pub next_cursor: Option<String>,
}

/// Failure talking to GitHub.
#[derive(Debug, thiserror::Error)]
pub enum RedeliverError {
    /// The API call failed.
    #[error("GitHub API: {0}")]
    Api(String),
    /// The journal failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The two App endpoints the reconciler needs (JWT-authenticated).
#[async_trait]
pub trait HookDeliveries: Send + Sync + 'static {
    /// `GET /app/hook/deliveries?per_page=100[&cursor=…]`.
    async fn list(&self, cursor: Option<&str>) -> Result<DeliveryPage, RedeliverError>;
    /// `POST /app/hook/deliveries/{id}/attempts`.
    async fn redeliver(&self, id: u64) -> Result<(), RedeliverError>;
}

/// The request path for one page.
pub fn list_path(cursor: Option<&str>) -> String {
    match cursor {
        Some(c) => format!(
            "/app/hook/deliveries?per_page=100&cursor={}",
            encode_query(c)
        ),
        None => "/app/hook/deliveries?per_page=100".to_owned(),
    }
}

fn encode_query(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn decode_query(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `cursor` of the `rel="next"` link in a `Link` header, if any.
pub fn next_cursor(link: &str) -> Option<String> {
    for part in link.split(',') {
        let mut segs = part.split(';');
        let url = segs.next()?.trim();
        let is_next = segs.any(|s| {
            let s = s.trim();
            s == "rel=\"next\"" || s == "rel=next"
        });
        if !is_next {
            continue;
        }
        let url = url.trim_start_matches('<').trim_end_matches('>');
        let query = url.split_once('?')?.1;
        return query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == "cursor")
            .map(|(_, v)| decode_query(v));
    }
    None
}

/// Parses one list response (JSON body + `Link` header).
pub fn parse_page(body: &[u8], link: Option<&str>) -> Result<DeliveryPage, RedeliverError> {
    let items: Vec<HookDelivery> = serde_json::from_slice(body)
        .map_err(|e| RedeliverError::Api(format!("unexpected delivery list: {e}")))?;
    Ok(DeliveryPage {
        items,
        next_cursor: link.and_then(next_cursor),
    })
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
            .map_err(|e| RedeliverError::Api(format!("checkpoint encoding: {e}")))?;
        self.store.set_checkpoint(RECONCILER, &json).await?;
        result.map(|()| report)
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

/// [`HookDeliveries`] over the REST client, authenticated as the App (JWT).
pub struct GitHubHookDeliveries {
    client: crate::github::client::RestClient,
}

impl GitHubHookDeliveries {
    /// Uses the App's credentials (and the client's retry policy).
    pub fn new(auth: Arc<crate::github::auth::AppAuth>) -> Self {
        let policy = auth.policy().clone();
        Self {
            client: crate::github::client::RestClient::new(
                crate::github::client::Credentials::App(auth),
                policy,
            ),
        }
    }
}

#[async_trait]
impl HookDeliveries for GitHubHookDeliveries {
    async fn list(&self, cursor: Option<&str>) -> Result<DeliveryPage, RedeliverError> {
        let r = self
            .client
            .send(
                http::Method::GET,
                &list_path(cursor),
                None,
                None,
                "/app/hook/deliveries",
            )
            .await
            .map_err(|e| RedeliverError::Api(e.to_string()))?;
        if !r.status.is_success() {
            return Err(RedeliverError::Api(format!(
                "listing deliveries: {}",
                r.status
            )));
        }
        let link = r
            .headers
            .get(http::header::LINK)
            .and_then(|v| v.to_str().ok());
        parse_page(&r.body, link)
    }

    async fn redeliver(&self, id: u64) -> Result<(), RedeliverError> {
        let r = self
            .client
            .send(
                http::Method::POST,
                &format!("/app/hook/deliveries/{id}/attempts"),
                None,
                None,
                "/app/hook/deliveries/{id}/attempts",
            )
            .await
            .map_err(|e| RedeliverError::Api(e.to_string()))?;
        if !r.status.is_success() {
            return Err(RedeliverError::Api(format!(
                "redelivering {id}: {}",
                r.status
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_cursor_from_github_link_header() {
        let link = "<https://api.github.com/app/hook/deliveries?per_page=100&cursor=v1_12077215967>; rel=\"next\"";
        assert_eq!(next_cursor(link).as_deref(), Some("v1_12077215967"));
        let both = "<https://x/app/hook/deliveries?cursor=a%2Bb&per_page=100>; rel=\"prev\", \
                    <https://x/app/hook/deliveries?per_page=100&cursor=c%3D>; rel=\"next\"";
        assert_eq!(next_cursor(both).as_deref(), Some("c="));
        assert_eq!(next_cursor("<https://x/a?cursor=z>; rel=\"prev\""), None);
        assert_eq!(next_cursor(""), None);
    }

    #[test]
    fn list_path_encodes_cursor() {
        assert_eq!(list_path(None), "/app/hook/deliveries?per_page=100");
        assert_eq!(
            list_path(Some("a+b=")),
            "/app/hook/deliveries?per_page=100&cursor=a%2Bb%3D"
        );
    }

    #[test]
    fn success_is_ok_status_or_2xx_3xx() {
        let mut d = HookDelivery {
            id: 1,
            guid: "g".into(),
            delivered_at: Utc::now(),
            redelivery: false,
            status: "Invalid HTTP Response: 503".into(),
            status_code: Some(503),
            event: "push".into(),
            action: None,
        };
        assert!(!d.succeeded());
        d.status_code = Some(302);
        assert!(d.succeeded());
        d.status_code = None;
        d.status = "OK".into();
        assert!(d.succeeded());
        d.status = "timed out".into();
        d.status_code = Some(0);
        assert!(!d.succeeded());
    }

    #[test]
    fn parses_documented_list_item() {
        let body = br#"[{"id":12345678,"guid":"0b989ba4-242f-11e5-81e1-c7b6966d2516",
            "delivered_at":"2019-06-03T00:57:16Z","redelivery":false,"duration":0.27,
            "status":"OK","status_code":200,"event":"issues","action":"opened",
            "installation_id":123,"repository_id":456,"throttled_at":"2019-06-03T00:57:16Z"}]"#;
        let p = parse_page(body, None).unwrap();
        assert_eq!(p.items.len(), 1);
        assert_eq!(p.items[0].id, 12345678);
        assert!(p.items[0].succeeded());
        assert!(parse_page(b"{\"message\":\"Bad credentials\"}", None).is_err());
    }
}
