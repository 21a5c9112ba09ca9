//! [`DurableQueue`]: the webhook route journals into it, workers claim from
//! it. It wraps a [`Store`] with what a running process adds:
//!
//! - a unique claim token per claim (`<instance>#<n>`), remembered by
//!   delivery id so workers can complete/fail by id;
//! - a lease heartbeat per claimed delivery (every third of the lease), so
//!   a slow but alive worker keeps its delivery while a crashed one's
//!   lease expires and the delivery is claimed again (here after a
//!   restart, or at once by another replica);
//! - wake-ups: a local enqueue wakes a waiting worker at once; otherwise
//!   workers poll, which picks up retries coming due, expired leases and
//!   deliveries journaled by other replicas;
//! - maintenance: retention cleanup of old `done` rows and the per-state
//!   gauges (dead-letter count, queue depth).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::journal::{Delivery, Enqueued, Journal, JournalError};
use super::store::{DeliveryRecord, FailOutcome, Inserted, NewDelivery, Store, StoreError};

/// Tuning of a [`DurableQueue`].
#[derive(Clone, Debug)]
pub struct QueueConfig {
    /// How long a claim holds a delivery without a heartbeat. A crashed
    /// worker's deliveries are claimable again this long after the crash.
    pub lease: Duration,
    /// How often an idle worker looks for work it was not woken for.
    pub poll_interval: Duration,
    /// Names this process in claim tokens (`claimed_by`).
    pub instance: String,
    /// Pending + running deliveries beyond which new ones are refused
    /// (the webhook answers 503 with `Retry-After`; GitHub records the
    /// failed delivery and the reconciler brings it back), so a flood
    /// cannot grow the journal without bound.
    pub max_pending: usize,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            // Short, so a dead replica's work moves within seconds; the
            // heartbeat renews it every third (5 s), one UPDATE per
            // in-flight delivery.
            lease: Duration::from_secs(15),
            poll_interval: Duration::from_millis(500),
            instance: default_instance(),
            max_pending: 10_000,
        }
    }
}

/// `<name>/<pid>-<start time>`: the instance's stable name (see
/// [`instance_name`]) and a boot id unique per process run, readable in the
/// CLI. The `/` separates the two: a name cannot contain one.
pub fn default_instance() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() % 1_000_000_000_000)
        .unwrap_or(0);
    format!("{}/{}-{nanos:x}", instance_name(), std::process::id())
}

/// The name that stays the same across restarts of one instance:
/// `GITOPS_GUARD_INSTANCE`, else `HOSTNAME` (a container keeps its pod
/// name across restarts), else `local`. Two live processes on one journal
/// must not share it: a booting process takes over every claim held under
/// its name by an earlier boot ([`DurableQueue::reclaim_previous_boots`]).
pub fn instance_name() -> String {
    let name = ["GITOPS_GUARD_INSTANCE", "HOSTNAME"]
        .into_iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "local".to_owned());
    name.chars()
        .filter(|c| *c != '/' && *c != '#' && !c.is_control())
        .take(64)
        .collect()
}

struct Held {
    token: String,
    heartbeat: JoinHandle<()>,
}

/// The queue shared by the webhook route and the workers.
pub struct DurableQueue {
    store: Arc<dyn Store>,
    cfg: QueueConfig,
    closed: AtomicBool,
    wake: Notify,
    seq: AtomicU64,
    depth: AtomicU64,
    held: Mutex<HashMap<String, Held>>,
}

impl std::fmt::Debug for DurableQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DurableQueue")
            .field("instance", &self.cfg.instance)
            .field("depth", &self.depth())
            .finish_non_exhaustive()
    }
}

impl DurableQueue {
    /// A queue over `store`.
    pub fn new(store: Arc<dyn Store>, cfg: QueueConfig) -> Arc<Self> {
        Arc::new(Self {
            store,
            cfg,
            closed: AtomicBool::new(false),
            wake: Notify::new(),
            seq: AtomicU64::new(0),
            depth: AtomicU64::new(0),
            held: Mutex::new(HashMap::new()),
        })
    }

    /// Makes the claims of this instance's earlier boots claimable now.
    /// Those processes are gone (their name is ours, and a name is live in
    /// one process at a time), so waiting out their leases only delays
    /// recovery after a crash by a whole lease. Call once at start, before
    /// the workers run. Returns how many deliveries were released.
    pub async fn reclaim_previous_boots(&self) -> Result<u64, StoreError> {
        let (name, _boot) = self
            .cfg
            .instance
            .split_once('/')
            .unwrap_or((self.cfg.instance.as_str(), ""));
        let n = self
            .store
            .release_claims(&format!("{name}/"), &format!("{}#", self.cfg.instance))
            .await?;
        if n > 0 {
            tracing::warn!(
                released = n,
                instance = name,
                "took over deliveries claimed by an earlier boot of this instance"
            );
            self.wake.notify_waiters();
        }
        Ok(n)
    }

    /// The store underneath.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Journals a delivery (durable when this returns `Ok`) and wakes a
    /// worker. Call before acknowledging the webhook.
    pub async fn enqueue(&self, delivery: &NewDelivery) -> Result<Inserted, StoreError> {
        let r = self.store.insert_if_absent(delivery).await?;
        if r == Inserted::Inserted {
            self.depth.fetch_add(1, Ordering::Relaxed);
            self.wake.notify_one();
        }
        Ok(r)
    }

    /// Waits for the next claimable delivery; `None` once closed. Storage
    /// errors are logged and retried after the poll interval (the rows
    /// are safe in the database; nothing is lost by waiting).
    pub async fn next(&self) -> Option<DeliveryRecord> {
        loop {
            if self.closed.load(Ordering::Acquire) {
                // Let every other waiting worker see the close too.
                self.wake.notify_one();
                return None;
            }
            let token = format!(
                "{}#{}",
                self.cfg.instance,
                self.seq.fetch_add(1, Ordering::Relaxed)
            );
            match self.store.claim(&token, self.cfg.lease).await {
                Ok(Some(rec)) => {
                    self.hold(&rec.id, token);
                    // More may be waiting: let another idle worker look.
                    self.wake.notify_one();
                    return Some(rec);
                }
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "claiming a delivery failed; retrying"),
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.cfg.poll_interval) => {}
            }
        }
    }

    fn hold(&self, id: &str, token: String) {
        let store = self.store.clone();
        let lease = self.cfg.lease;
        let (hb_id, hb_token) = (id.to_owned(), token.clone());
        let heartbeat = tokio::spawn(async move {
            let every = (lease / 3).max(Duration::from_millis(10));
            loop {
                tokio::time::sleep(every).await;
                match store.extend(&hb_id, &hb_token, lease).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(delivery = %hb_id, "lease lost; another worker may run it");
                        return;
                    }
                    Err(e) => tracing::warn!(delivery = %hb_id, error = %e, "lease renewal failed"),
                }
            }
        });
        let old = self
            .held
            .lock()
            .expect("held lock")
            .insert(id.to_owned(), Held { token, heartbeat });
        if let Some(old) = old {
            old.heartbeat.abort();
        }
    }

    fn release(&self, id: &str) -> Option<String> {
        let held = self.held.lock().expect("held lock").remove(id)?;
        held.heartbeat.abort();
        Some(held.token)
    }

    /// Marks a delivery claimed by this queue done.
    pub async fn complete(&self, id: &str) -> Result<bool, StoreError> {
        let Some(token) = self.release(id) else {
            return Ok(false);
        };
        let ok = self.store.complete(id, &token).await?;
        if ok {
            self.dec_depth();
        } else {
            tracing::warn!(delivery = id, "completed after its lease was lost");
        }
        Ok(ok)
    }

    /// Records a failed attempt of a delivery claimed by this queue.
    pub async fn fail(&self, id: &str, error: &str) -> Result<FailOutcome, StoreError> {
        let Some(token) = self.release(id) else {
            return Ok(FailOutcome::NotHeld);
        };
        let outcome = self.store.fail(id, &token, error).await?;
        match outcome {
            FailOutcome::Dead => {
                self.dec_depth();
                metrics::counter!("gitops_guard_deliveries_dead_lettered_total").increment(1);
                tracing::error!(
                    delivery = id,
                    "delivery dead-lettered after its last attempt"
                );
            }
            FailOutcome::Retry(at) => {
                metrics::counter!("gitops_guard_delivery_retries_total").increment(1);
                tracing::warn!(delivery = id, next_attempt_at = %at, "delivery will be retried");
            }
            FailOutcome::NotHeld => {}
        }
        Ok(outcome)
    }

    /// Dead-letters a delivery claimed by this queue at once (a payload
    /// that can never be processed; see [`Store::dead_letter`]).
    pub async fn dead_letter(&self, id: &str, error: &str) -> Result<bool, StoreError> {
        let Some(token) = self.release(id) else {
            return Ok(false);
        };
        let done = self.store.dead_letter(id, &token, error).await?;
        if done {
            self.dec_depth();
            metrics::counter!("gitops_guard_deliveries_dead_lettered_total").increment(1);
            tracing::error!(
                delivery = id,
                error,
                "delivery dead-lettered: it can never be processed"
            );
        }
        Ok(done)
    }

    fn dec_depth(&self) {
        let _ = self
            .depth
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |d| d.checked_sub(1));
    }

    /// Pending + running deliveries (refreshed by [`DurableQueue::refresh`],
    /// adjusted locally in between).
    pub fn depth(&self) -> usize {
        usize::try_from(self.depth.load(Ordering::Relaxed)).unwrap_or(usize::MAX)
    }

    /// Stops handing out work: waiting workers return `None`. Journaled
    /// deliveries stay in the store for the next start.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.wake.notify_waiters();
        self.wake.notify_one();
    }

    /// Whether [`DurableQueue::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Reads the per-state counts and publishes them as gauges
    /// (`gitops_guard_journal_deliveries{state}`; `state="dead"` is the
    /// dead-letter count).
    pub async fn refresh(&self) -> Result<(), StoreError> {
        let c = self.store.counts().await?;
        self.depth.store(c.depth(), Ordering::Relaxed);
        crate::queue::metrics::queue_depth(usize::try_from(c.depth()).unwrap_or(usize::MAX));
        for st in super::State::ALL {
            metrics::gauge!("gitops_guard_journal_deliveries", "state" => st.as_str())
                .set(c.get(st) as f64);
        }
        Ok(())
    }

    /// Runs maintenance every `every` until closed: gauges, and deletion of
    /// `done` rows older than `retention`.
    pub fn spawn_maintenance(
        self: &Arc<Self>,
        retention: Duration,
        every: Duration,
    ) -> JoinHandle<()> {
        let q = self.clone();
        tokio::spawn(async move {
            while !q.is_closed() {
                if let Err(e) = q.refresh().await {
                    tracing::warn!(error = %e, "journal metrics refresh failed");
                }
                match q.store.cleanup(retention).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(deleted = n, "journal retention cleanup"),
                    Err(e) => tracing::warn!(error = %e, "journal cleanup failed"),
                }
                tokio::time::sleep(every).await;
            }
        })
    }

    /// Waits until nothing is pending or running in the store (tests).
    pub async fn wait_idle(&self) {
        loop {
            match self.store.counts().await {
                Ok(c) if c.depth() == 0 => return,
                Ok(c) => self.depth.store(c.depth(), Ordering::Relaxed),
                Err(e) => tracing::warn!(error = %e, "counting deliveries failed"),
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// The webhook route and the worker pool use the durable queue through
/// the same [`Journal`] seam as the in-memory one.
#[async_trait::async_trait]
impl Journal for DurableQueue {
    async fn enqueue(&self, d: Delivery) -> Result<Enqueued, JournalError> {
        if self.is_closed() {
            return Err(JournalError::Closed);
        }
        if self.depth() >= self.cfg.max_pending {
            return Err(JournalError::Full);
        }
        let new = NewDelivery {
            id: d.id,
            event: d.event,
            action: d.action,
            payload: d.payload,
            received_at: d.received_at,
        };
        match DurableQueue::enqueue(self, &new).await {
            Ok(Inserted::Inserted) => Ok(Enqueued::Accepted),
            Ok(Inserted::Duplicate) => Ok(Enqueued::Duplicate),
            Err(e) => Err(JournalError::Storage(e.to_string())),
        }
    }

    async fn claim(&self) -> Option<Delivery> {
        let rec = self.next().await?;
        Some(Delivery {
            id: rec.id,
            event: rec.event,
            action: rec.action,
            payload: rec.payload,
            received_at: rec.received_at,
            attempts: rec.attempts.saturating_sub(1),
        })
    }

    async fn complete(&self, id: &str) {
        if let Err(e) = DurableQueue::complete(self, id).await {
            // The lease expires and the delivery runs again: at least once.
            tracing::error!(delivery = id, error = %e, "cannot mark delivery done");
        }
    }

    async fn fail(&self, id: &str, error: &str) {
        if let Err(e) = DurableQueue::fail(self, id, error).await {
            tracing::error!(delivery = id, error = %e, "cannot record delivery failure");
        }
    }

    async fn dead_letter(&self, id: &str, error: &str) {
        if let Err(e) = DurableQueue::dead_letter(self, id, error).await {
            tracing::error!(delivery = id, error = %e, "cannot dead-letter delivery");
        }
    }

    fn depth(&self) -> usize {
        DurableQueue::depth(self)
    }

    fn close(&self) {
        DurableQueue::close(self);
    }

    async fn wait_idle(&self) {
        DurableQueue::wait_idle(self).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_names_are_distinct_and_bounded() {
        let a = default_instance();
        std::thread::sleep(Duration::from_millis(2));
        let b = default_instance();
        assert_ne!(a, b);
        assert!(a.len() < 120);
    }
}
