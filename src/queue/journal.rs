//! The hand-off between the webhook route and the workers.
//!
//! [`Journal`] is deliberately small so a durable SQLite/PostgreSQL store
//! (issue 7) can implement it unchanged: `enqueue` records a verified
//! delivery (deduplicated by `X-GitHub-Delivery`) **before** the route
//! answers, and workers `claim` → `complete` / `fail`. [`MemoryJournal`] is
//! the in-process implementation: bounded, deduplicating with a moka TTL
//! cache, but lost on a crash (the durable store closes that hole).

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use tokio::sync::Notify;

/// One verified delivery.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// `X-GitHub-Delivery` (GUID; a redelivery keeps it).
    pub id: String,
    /// `X-GitHub-Event`.
    pub event: String,
    /// `action` of the payload, if any.
    pub action: Option<String>,
    /// Raw, verified payload.
    pub payload: Bytes,
    /// When we received it.
    pub received_at: DateTime<Utc>,
    /// Attempts so far (0 on first claim).
    pub attempts: u32,
}

/// Result of [`Journal::enqueue`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enqueued {
    /// New delivery, queued.
    Accepted,
    /// Already seen (queued, in flight or done): not queued again.
    Duplicate,
}

/// Why a delivery could not be journaled. Either way the route answers
/// 503 so GitHub records a failed delivery that can be redelivered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JournalError {
    /// The bounded queue is full.
    #[error("queue full")]
    Full,
    /// Shutting down; no new work.
    #[error("shutting down")]
    Closed,
    /// Storage failure (durable implementations).
    #[error("journal storage: {0}")]
    Storage(String),
}

/// Where verified deliveries wait for a worker.
#[async_trait]
pub trait Journal: Send + Sync + 'static {
    /// Records a delivery unless its id was seen; must be durable (for the
    /// durable implementations) before returning `Accepted`.
    async fn enqueue(&self, delivery: Delivery) -> Result<Enqueued, JournalError>;
    /// Waits for the next delivery; `None` once closed and drained.
    async fn claim(&self) -> Option<Delivery>;
    /// Marks a claimed delivery done.
    async fn complete(&self, id: &str);
    /// Marks a claimed delivery failed (`error` for the record). The id is
    /// forgotten for deduplication so a manual redelivery is processed.
    async fn fail(&self, id: &str, error: &str);
    /// Gives up on a claimed delivery for good: it can never be processed
    /// (see [`Store::dead_letter`](super::Store::dead_letter)).
    async fn dead_letter(&self, id: &str, error: &str);
    /// Deliveries queued or in flight.
    fn depth(&self) -> usize;
    /// Stops accepting deliveries; `claim` drains what is queued, then
    /// returns `None`.
    fn close(&self);
    /// Waits until nothing is queued or in flight (tests, shutdown). The
    /// default polls [`Journal::depth`].
    async fn wait_idle(&self) {
        while self.depth() > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[derive(Default)]
struct State {
    queue: VecDeque<Delivery>,
    in_flight: HashSet<String>,
    closed: bool,
}

/// In-memory bounded journal.
pub struct MemoryJournal {
    state: Mutex<State>,
    notify: Notify,
    idle: Notify,
    capacity: usize,
    seen: moka::sync::Cache<String, ()>,
}

impl MemoryJournal {
    /// A journal holding at most `capacity` queued deliveries, remembering
    /// delivery ids for `dedupe_ttl` (bounded to 1M ids).
    pub fn new(capacity: usize, dedupe_ttl: Duration) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State::default()),
            notify: Notify::new(),
            idle: Notify::new(),
            capacity: capacity.max(1),
            seen: moka::sync::Cache::builder()
                .max_capacity(1_000_000)
                .time_to_live(dedupe_ttl)
                .build(),
        })
    }

    /// Waits until nothing is queued or in flight (tests, shutdown).
    pub async fn wait_idle(&self) {
        loop {
            let notified = self.idle.notified();
            if self.depth() == 0 {
                return;
            }
            notified.await;
        }
    }

    fn publish_depth(&self, st: &State) {
        let depth = st.queue.len() + st.in_flight.len();
        crate::queue::metrics::queue_depth(depth);
        if depth == 0 {
            self.idle.notify_waiters();
        }
    }
}

#[async_trait]
impl Journal for MemoryJournal {
    async fn enqueue(&self, delivery: Delivery) -> Result<Enqueued, JournalError> {
        // One lock covers the dedupe check, the capacity check and the
        // insert, so two copies of one delivery racing in cannot both be
        // queued, and a rejected delivery is not remembered as seen.
        let mut st = self.state.lock().expect("journal lock");
        if st.closed {
            return Err(JournalError::Closed);
        }
        if self.seen.contains_key(&delivery.id) {
            return Ok(Enqueued::Duplicate);
        }
        if st.queue.len() >= self.capacity {
            return Err(JournalError::Full);
        }
        self.seen.insert(delivery.id.clone(), ());
        st.queue.push_back(delivery);
        self.publish_depth(&st);
        drop(st);
        self.notify.notify_one();
        Ok(Enqueued::Accepted)
    }

    async fn claim(&self) -> Option<Delivery> {
        loop {
            let notified = self.notify.notified();
            {
                let mut st = self.state.lock().expect("journal lock");
                if let Some(d) = st.queue.pop_front() {
                    st.in_flight.insert(d.id.clone());
                    // Wake another worker if more is waiting.
                    if !st.queue.is_empty() {
                        self.notify.notify_one();
                    }
                    return Some(d);
                }
                if st.closed {
                    // Let every other waiting worker see the close too.
                    self.notify.notify_waiters();
                    return None;
                }
            }
            notified.await;
        }
    }

    async fn complete(&self, id: &str) {
        let mut st = self.state.lock().expect("journal lock");
        st.in_flight.remove(id);
        self.publish_depth(&st);
    }

    async fn fail(&self, id: &str, _error: &str) {
        self.seen.invalidate(id);
        let mut st = self.state.lock().expect("journal lock");
        st.in_flight.remove(id);
        self.publish_depth(&st);
    }

    async fn dead_letter(&self, id: &str, error: &str) {
        // No dead letters in memory: the delivery is dropped with the reason
        // logged (and stays deduplicated: a redelivery would fail the same way).
        tracing::error!(
            delivery = id,
            error,
            "delivery can never be processed; dropped"
        );
        let mut st = self.state.lock().expect("journal lock");
        st.in_flight.remove(id);
        self.publish_depth(&st);
    }

    fn depth(&self) -> usize {
        let st = self.state.lock().expect("journal lock");
        st.queue.len() + st.in_flight.len()
    }

    fn close(&self) {
        self.state.lock().expect("journal lock").closed = true;
        self.notify.notify_waiters();
    }

    async fn wait_idle(&self) {
        MemoryJournal::wait_idle(self).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(id: &str) -> Delivery {
        Delivery {
            id: id.into(),
            event: "push".into(),
            action: None,
            payload: Bytes::from_static(b"{}"),
            received_at: Utc::now(),
            attempts: 0,
        }
    }

    #[tokio::test]
    async fn dedupe_capacity_and_drain() {
        let j = MemoryJournal::new(2, Duration::from_secs(60));
        assert_eq!(j.enqueue(d("a")).await, Ok(Enqueued::Accepted));
        assert_eq!(j.enqueue(d("a")).await, Ok(Enqueued::Duplicate));
        assert_eq!(j.enqueue(d("b")).await, Ok(Enqueued::Accepted));
        assert_eq!(j.enqueue(d("c")).await, Err(JournalError::Full));
        // A rejected delivery is not remembered: its redelivery is accepted later.
        let a = j.claim().await.unwrap();
        assert_eq!(a.id, "a");
        assert_eq!(j.enqueue(d("c")).await, Ok(Enqueued::Accepted));
        j.complete("a").await;
        // Done deliveries stay deduplicated.
        assert_eq!(j.enqueue(d("a")).await, Ok(Enqueued::Duplicate));
        j.close();
        assert_eq!(j.enqueue(d("z")).await, Err(JournalError::Closed));
        assert_eq!(j.claim().await.unwrap().id, "b");
        assert_eq!(j.claim().await.unwrap().id, "c");
        assert!(j.claim().await.is_none());
    }

    #[tokio::test]
    async fn failed_delivery_can_be_redelivered() {
        let j = MemoryJournal::new(4, Duration::from_secs(60));
        j.enqueue(d("x")).await.unwrap();
        let x = j.claim().await.unwrap();
        j.fail(&x.id, "boom").await;
        assert_eq!(j.depth(), 0);
        assert_eq!(j.enqueue(d("x")).await, Ok(Enqueued::Accepted));
    }
}
