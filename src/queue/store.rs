//! The [`Store`] contract: a durable delivery journal with claims, leases,
//! retries and a dead-letter state, plus the small key/value and lease
//! tables the redelivery reconciler needs.
//!
//! Life of a delivery:
//!
//! ```text
//! insert_if_absent ──► pending ──claim──► running ──complete──► done ──cleanup──► (gone)
//!                        ▲                 │   │
//!                        └──── fail: Retry ┘   └── fail: Dead / lease expired N times ──► dead
//!                        └───────────────────── requeue (operator, or GitHub redelivery of a dead id)
//! ```
//!
//! A crash leaves a row `running` with a lease (`claimed_until`) that
//! expires; `claim` treats an expired lease like `pending`, so the work is
//! picked up after a restart (or by another replica). Every claim counts as
//! an attempt, so a delivery that crashes its worker every time still ends
//! in `dead` instead of looping forever.
//!
//! Each claim carries a caller-chosen token (`claimed_by`); `complete`,
//! `fail` and `extend` only act while that token still holds the row, so a
//! worker that stalled past its lease cannot overwrite the outcome of the
//! worker that took the row over.

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};

/// Longest error text stored per delivery (bounded: errors may quote
/// attacker-controlled content).
pub const MAX_ERROR_CHARS: usize = 4096;

/// Where a delivery is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Waiting for a worker (possibly until `next_attempt_at`).
    Pending,
    /// Claimed by a worker whose lease runs until `claimed_until`.
    Running,
    /// Processed.
    Done,
    /// Given up after the maximum attempts; only an operator (or a
    /// redelivery from GitHub) brings it back.
    Dead,
}

impl State {
    /// Every state, in life order.
    pub const ALL: [State; 4] = [State::Pending, State::Running, State::Done, State::Dead];

    /// The name stored in the database and shown by the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Running => "running",
            State::Done => "done",
            State::Dead => "dead",
        }
    }

    /// Parses a stored/CLI name.
    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A verified delivery to journal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDelivery {
    /// `X-GitHub-Delivery` (a GitHub redelivery keeps it).
    pub id: String,
    /// `X-GitHub-Event`.
    pub event: String,
    /// `action` of the payload, if any.
    pub action: Option<String>,
    /// The raw, verified payload.
    pub payload: Bytes,
    /// When the webhook route received it.
    pub received_at: DateTime<Utc>,
}

/// A journaled delivery as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryRecord {
    /// `X-GitHub-Delivery`.
    pub id: String,
    /// `X-GitHub-Event`.
    pub event: String,
    /// `action` of the payload, if any.
    pub action: Option<String>,
    /// The raw payload (empty in [`Store::list`] results).
    pub payload: Bytes,
    /// When it was received.
    pub received_at: DateTime<Utc>,
    /// Claims so far (a claim that crashed counts).
    pub attempts: u32,
    /// Current state.
    pub state: State,
    /// Earliest time a worker may claim it (backoff after a failure).
    pub next_attempt_at: DateTime<Utc>,
    /// The last failure, if any.
    pub last_error: Option<String>,
    /// Claim token of the current/last holder.
    pub claimed_by: Option<String>,
    /// End of the current lease.
    pub claimed_until: Option<DateTime<Utc>>,
    /// When it reached `done` or `dead`.
    pub finished_at: Option<DateTime<Utc>>,
}

/// Result of [`Store::insert_if_absent`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inserted {
    /// Journaled (new, or a `dead` delivery that GitHub redelivered and is
    /// queued again with a fresh attempt budget).
    Inserted,
    /// Already journaled and not dead: nothing changed.
    Duplicate,
}

/// Result of [`Store::fail`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOutcome {
    /// Back to `pending`, claimable from the given time.
    Retry(DateTime<Utc>),
    /// Attempts exhausted: dead-lettered.
    Dead,
    /// The claim token no longer held the row (lease lost); nothing changed.
    NotHeld,
}

/// Result of [`Store::requeue`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequeueOutcome {
    /// Pending again, attempts reset.
    Requeued,
    /// No such delivery.
    NotFound,
    /// A worker holds a live lease on it; requeueing would run it twice.
    Running,
}

/// Which deliveries [`Store::list`] returns (newest first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListFilter {
    /// Only this state.
    pub state: Option<State>,
    /// Only this event.
    pub event: Option<String>,
    /// At most this many rows (capped at [`ListFilter::MAX_LIMIT`]).
    pub limit: u32,
}

impl ListFilter {
    /// Largest page a list may return.
    pub const MAX_LIMIT: u32 = 10_000;

    /// The effective limit.
    pub fn bounded_limit(&self) -> i64 {
        i64::from(self.limit.clamp(1, Self::MAX_LIMIT))
    }
}

impl Default for ListFilter {
    fn default() -> Self {
        Self {
            state: None,
            event: None,
            limit: 50,
        }
    }
}

/// Rows per state (metrics, `/readyz`-style depth, the CLI).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StateCounts {
    /// `pending` rows.
    pub pending: u64,
    /// `running` rows.
    pub running: u64,
    /// `done` rows.
    pub done: u64,
    /// `dead` rows.
    pub dead: u64,
}

impl StateCounts {
    /// Work not finished yet (queued or in flight).
    pub fn depth(&self) -> u64 {
        self.pending + self.running
    }

    /// Count for one state.
    pub fn get(&self, st: State) -> u64 {
        match st {
            State::Pending => self.pending,
            State::Running => self.running,
            State::Done => self.done,
            State::Dead => self.dead,
        }
    }

    pub(crate) fn add(&mut self, st: State, n: u64) {
        match st {
            State::Pending => self.pending += n,
            State::Running => self.running += n,
            State::Done => self.done += n,
            State::Dead => self.dead += n,
        }
    }
}

/// Retry policy: exponential backoff and the dead-letter threshold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Claims after which a failing (or worker-crashing) delivery is dead.
    pub max_attempts: u32,
    /// Delay before the second attempt; doubles per attempt.
    pub base_backoff: Duration,
    /// Upper bound of one delay.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        // 5 attempts: 30 s, 1 min, 2 min, 4 min between them — longer than
        // a typical GitHub incident or a pod restart, well inside the
        // 30 days GitHub keeps deliveries for redelivery.
        Self {
            max_attempts: 5,
            base_backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(30 * 60),
        }
    }
}

impl RetryPolicy {
    /// The delay after the `attempts`-th failed attempt (1-based):
    /// `base * 2^(attempts-1)`, capped.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let shift = attempts.saturating_sub(1).min(20);
        self.base_backoff
            .saturating_mul(1u32 << shift)
            .min(self.max_backoff)
    }
}

/// Storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database answered with an error or could not be reached.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A row holds a value this version does not understand.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The database location is unusable.
    #[error("database configuration: {0}")]
    Config(String),
}

/// A durable delivery journal. Implemented by
/// [`SqliteStore`](super::sqlite::SqliteStore) and
/// [`PostgresStore`](super::postgres::PostgresStore); one test suite
/// (`tests/journal.rs`) runs against both.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Journals a delivery unless its id is known. Durable when it returns.
    /// A `dead` delivery that arrives again (GitHub redelivery) is queued
    /// again with its attempts reset and reported as `Inserted`.
    async fn insert_if_absent(&self, delivery: &NewDelivery) -> Result<Inserted, StoreError>;

    /// Takes the oldest claimable delivery (pending and due, or running
    /// with an expired lease) for `token` until now + `lease`, counting an
    /// attempt. A row whose lease expired after its last allowed attempt
    /// is dead-lettered instead of being handed out.
    async fn claim(
        &self,
        token: &str,
        lease: Duration,
    ) -> Result<Option<DeliveryRecord>, StoreError>;

    /// Prolongs `token`'s lease on `id`; `false` if it no longer holds it.
    async fn extend(&self, id: &str, token: &str, lease: Duration) -> Result<bool, StoreError>;

    /// Marks `id` done; `false` if `token` no longer held it.
    async fn complete(&self, id: &str, token: &str) -> Result<bool, StoreError>;

    /// Records a failed attempt: back to pending after the policy's backoff,
    /// or dead once the attempts are exhausted.
    async fn fail(&self, id: &str, token: &str, error: &str) -> Result<FailOutcome, StoreError>;

    /// Dead-letters `id` at once, whatever attempts are left: the delivery
    /// can never succeed (its payload does not decode for its event), so
    /// retrying it would only delay the operator's view of it. `false` if
    /// `token` no longer held it.
    async fn dead_letter(&self, id: &str, token: &str, error: &str) -> Result<bool, StoreError>;

    /// Ends the leases of running claims whose token starts with
    /// `holder_prefix` but not with `except_prefix` (an earlier boot of the
    /// same instance), so they are claimable at once. Returns the count.
    async fn release_claims(
        &self,
        holder_prefix: &str,
        except_prefix: &str,
    ) -> Result<u64, StoreError>;

    /// Operator requeue: pending now, attempts reset, error kept for the record.
    async fn requeue(&self, id: &str) -> Result<RequeueOutcome, StoreError>;

    /// One delivery with its payload.
    async fn get(&self, id: &str) -> Result<Option<DeliveryRecord>, StoreError>;

    /// Deliveries matching `filter`, newest first, without payloads.
    async fn list(&self, filter: &ListFilter) -> Result<Vec<DeliveryRecord>, StoreError>;

    /// Rows per state.
    async fn counts(&self) -> Result<StateCounts, StoreError>;

    /// Which of `ids` are journaled, in any state (the reconciler does not
    /// ask GitHub to redeliver what we already hold).
    async fn known_among(&self, ids: &[String]) -> Result<Vec<String>, StoreError>;

    /// Deletes `done` rows finished more than `older_than` ago; returns how many.
    async fn cleanup(&self, older_than: Duration) -> Result<u64, StoreError>;

    /// A stored checkpoint (reconciler position).
    async fn checkpoint(&self, name: &str) -> Result<Option<String>, StoreError>;

    /// Stores a checkpoint.
    async fn set_checkpoint(&self, name: &str, value: &str) -> Result<(), StoreError>;

    /// Takes or renews the named lease for `holder` for `ttl`; `false` while
    /// another holder's lease is live. Only one replica runs the reconciler.
    async fn try_lease(&self, name: &str, holder: &str, ttl: Duration) -> Result<bool, StoreError>;

    /// Gives the lease up early (shutdown).
    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError>;

    /// The retry policy this store applies in `fail` and `claim`.
    fn policy(&self) -> &RetryPolicy;
}

/// Truncates an error message to [`MAX_ERROR_CHARS`] on a char boundary.
pub fn bounded_error(error: &str) -> &str {
    match error.char_indices().nth(MAX_ERROR_CHARS) {
        Some((i, _)) => &error[..i],
        None => error,
    }
}

/// Duration as whole milliseconds for SQL arithmetic (saturating).
pub(crate) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(10),
        };
        assert_eq!(p.backoff(1), Duration::from_secs(1));
        assert_eq!(p.backoff(2), Duration::from_secs(2));
        assert_eq!(p.backoff(4), Duration::from_secs(8));
        assert_eq!(p.backoff(5), Duration::from_secs(10));
        assert_eq!(p.backoff(u32::MAX), Duration::from_secs(10));
    }

    #[test]
    fn state_names_round_trip() {
        for st in State::ALL {
            assert_eq!(State::parse(st.as_str()), Some(st));
        }
        assert_eq!(State::parse("Pending"), None);
    }

    #[test]
    fn error_text_is_bounded_on_char_boundary() {
        let long = "é".repeat(MAX_ERROR_CHARS + 10);
        assert_eq!(bounded_error(&long).chars().count(), MAX_ERROR_CHARS);
        assert_eq!(bounded_error("short"), "short");
    }
}
