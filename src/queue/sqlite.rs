//! [`SqliteStore`]: the embedded default journal — one SQLite file in WAL
//! mode, shared by the webhook route, the workers and the `deliveries` CLI.
//!
//! Every write that reads before it writes (`claim`) runs in
//! `BEGIN IMMEDIATE`: the write lock is taken up front, so two claimers
//! never both read the same row as claimable, and SQLite's busy handler
//! (not a `SQLITE_BUSY_SNAPSHOT` error) resolves the contention. Times are
//! Unix milliseconds from this process's clock (one host).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};

use super::migrations;
use super::store::{
    DeliveryRecord, FailOutcome, Inserted, ListFilter, NewDelivery, RequeueOutcome, RetryPolicy,
    State, StateCounts, Store, StoreError, bounded_error, millis,
};

/// Error recorded when a lease expires after the last allowed attempt.
pub(crate) const LEASE_EXHAUSTED: &str =
    "lease expired after the last allowed attempt (worker crashed or stalled)";
/// Bound on dead-lettering loops inside one `claim`.
const MAX_DEAD_PER_CLAIM: usize = 64;
/// Ids per `known_among` query.
const IDS_PER_QUERY: usize = 500;

/// How hard SQLite syncs each commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous=FULL`: a journaled delivery survives power loss.
    Full,
    /// `synchronous=NORMAL`: survives a process crash (SIGKILL), may lose
    /// the last commits on power loss; faster on slow disks.
    Normal,
}

/// The SQLite journal.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    policy: RetryPolicy,
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn to_time(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .ok_or_else(|| StoreError::Corrupt(format!("timestamp {ms} out of range")))
}

fn opt_time(ms: Option<i64>) -> Result<Option<DateTime<Utc>>, StoreError> {
    ms.map(to_time).transpose()
}

fn record(row: &SqliteRow, with_payload: bool) -> Result<DeliveryRecord, StoreError> {
    let state: String = row.try_get("state")?;
    let attempts: i64 = row.try_get("attempts")?;
    Ok(DeliveryRecord {
        id: row.try_get("id")?,
        event: row.try_get("event")?,
        action: row.try_get("action")?,
        payload: if with_payload {
            Bytes::from(row.try_get::<Vec<u8>, _>("payload")?)
        } else {
            Bytes::new()
        },
        received_at: to_time(row.try_get("received_at")?)?,
        attempts: u32::try_from(attempts)
            .map_err(|_| StoreError::Corrupt(format!("attempts {attempts}")))?,
        state: State::parse(&state).ok_or_else(|| StoreError::Corrupt(format!("state {state}")))?,
        next_attempt_at: to_time(row.try_get("next_attempt_at")?)?,
        last_error: row.try_get("last_error")?,
        claimed_by: row.try_get("claimed_by")?,
        claimed_until: opt_time(row.try_get("claimed_until")?)?,
        finished_at: opt_time(row.try_get("finished_at")?)?,
    })
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path`, applies the
    /// migrations, and returns the store.
    pub async fn open(
        path: &Path,
        durability: Durability,
        policy: RetryPolicy,
    ) -> Result<Self, StoreError> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true);
        Self::connect_with(opts, durability, policy).await
    }

    /// Opens a `sqlite:` URL (e.g. `sqlite://./gitops-guard.sqlite`).
    pub async fn open_url(
        url: &str,
        durability: Durability,
        policy: RetryPolicy,
    ) -> Result<Self, StoreError> {
        let opts = SqliteConnectOptions::from_str(url)?.create_if_missing(true);
        Self::connect_with(opts, durability, policy).await
    }

    /// Opens a journal that must already exist (the `deliveries` CLI):
    /// never creates a file. `read_only` opens it `SQLITE_OPEN_READONLY`
    /// and applies no migration (a schema check instead); otherwise the
    /// migrations are applied as `serve` would. The caller has checked the
    /// file exists, to name it in the error.
    pub async fn open_existing(
        opts: SqliteConnectOptions,
        read_only: bool,
        policy: RetryPolicy,
    ) -> Result<Self, StoreError> {
        let opts = opts
            .create_if_missing(false)
            .read_only(read_only)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .min_connections(0)
            .max_connections(2)
            .connect_with(opts)
            .await?;
        if read_only {
            let tables: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'deliveries'",
            )
            .fetch_one(&pool)
            .await?;
            if tables == 0 {
                return Err(StoreError::Config(
                    "the file has no deliveries table: it is not a gitops-guard journal".into(),
                ));
            }
        } else {
            migrations::sqlite().run(&pool).await?;
        }
        Ok(Self { pool, policy })
    }

    /// Opens with explicit connect options.
    pub async fn connect_with(
        opts: SqliteConnectOptions,
        durability: Durability,
        policy: RetryPolicy,
    ) -> Result<Self, StoreError> {
        let opts = opts
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match durability {
                Durability::Full => SqliteSynchronous::Full,
                Durability::Normal => SqliteSynchronous::Normal,
            })
            // Writers queue on SQLite's busy handler rather than failing.
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .min_connections(1)
            .max_connections(8)
            .connect_with(opts)
            .await?;
        migrations::sqlite().run(&pool).await?;
        Ok(Self { pool, policy })
    }

    /// The connection pool (tests, diagnostics).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes the pool (flushes the WAL on the last connection).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn insert_if_absent(&self, d: &NewDelivery) -> Result<Inserted, StoreError> {
        let now = now_ms();
        let res = sqlx::query(
            "INSERT INTO deliveries (id, event, action, payload, received_at, attempts, state, next_attempt_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, 0, 'pending', ?6) \
             ON CONFLICT (id) DO UPDATE SET state = 'pending', attempts = 0, next_attempt_at = ?6, \
                 claimed_by = NULL, claimed_until = NULL, finished_at = NULL \
             WHERE deliveries.state = 'dead'",
        )
        .bind(&d.id)
        .bind(&d.event)
        .bind(&d.action)
        .bind(d.payload.as_ref())
        .bind(d.received_at.timestamp_millis())
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(if res.rows_affected() > 0 {
            Inserted::Inserted
        } else {
            Inserted::Duplicate
        })
    }

    async fn claim(
        &self,
        token: &str,
        lease: Duration,
    ) -> Result<Option<DeliveryRecord>, StoreError> {
        for _ in 0..MAX_DEAD_PER_CLAIM {
            let now = now_ms();
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            let row = sqlx::query(
                "UPDATE deliveries SET \
                   state = CASE WHEN state = 'running' AND attempts >= ?1 THEN 'dead' ELSE 'running' END, \
                   attempts = CASE WHEN state = 'running' AND attempts >= ?1 THEN attempts ELSE attempts + 1 END, \
                   claimed_by = CASE WHEN state = 'running' AND attempts >= ?1 THEN claimed_by ELSE ?2 END, \
                   claimed_until = CASE WHEN state = 'running' AND attempts >= ?1 THEN NULL ELSE ?3 END, \
                   finished_at = CASE WHEN state = 'running' AND attempts >= ?1 THEN ?4 ELSE NULL END, \
                   last_error = CASE WHEN state = 'running' AND attempts >= ?1 THEN ?5 ELSE last_error END \
                 WHERE id = (SELECT id FROM deliveries \
                             WHERE (state = 'pending' AND next_attempt_at <= ?4) \
                                OR (state = 'running' AND claimed_until < ?4) \
                             ORDER BY next_attempt_at, received_at LIMIT 1) \
                 RETURNING id, event, action, payload, received_at, attempts, state, \
                   next_attempt_at, last_error, claimed_by, claimed_until, finished_at",
            )
            .bind(i64::from(self.policy.max_attempts))
            .bind(token)
            .bind(now.saturating_add(millis(lease)))
            .bind(now)
            .bind(LEASE_EXHAUSTED)
            .fetch_optional(&mut *tx)
            .await?;
            tx.commit().await?;
            let Some(row) = row else { return Ok(None) };
            let rec = record(&row, true)?;
            if rec.state == State::Running {
                return Ok(Some(rec));
            }
            tracing::warn!(delivery = %rec.id, attempts = rec.attempts, "dead-lettered: {LEASE_EXHAUSTED}");
        }
        Ok(None)
    }

    async fn extend(&self, id: &str, token: &str, lease: Duration) -> Result<bool, StoreError> {
        let res = sqlx::query(
            "UPDATE deliveries SET claimed_until = ?3 \
             WHERE id = ?1 AND claimed_by = ?2 AND state = 'running'",
        )
        .bind(id)
        .bind(token)
        .bind(now_ms().saturating_add(millis(lease)))
        .execute(&self.pool)
        .await?;
        Ok(res.rows_affected() > 0)
    }

    async fn complete(&self, id: &str, token: &str) -> Result<bool, StoreError> {
        let res = sqlx::query(
            "UPDATE deliveries SET state = 'done', finished_at = ?3, claimed_until = NULL \
             WHERE id = ?1 AND claimed_by = ?2 AND state = 'running'",
        )
        .bind(id)
        .bind(token)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(res.rows_affected() > 0)
    }

    async fn fail(&self, id: &str, token: &str, error: &str) -> Result<FailOutcome, StoreError> {
        let now = now_ms();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let attempts: Option<i64> = sqlx::query_scalar(
            "SELECT attempts FROM deliveries WHERE id = ?1 AND claimed_by = ?2 AND state = 'running'",
        )
        .bind(id)
        .bind(token)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(attempts) = attempts else {
            tx.rollback().await?;
            return Ok(FailOutcome::NotHeld);
        };
        let attempts = u32::try_from(attempts).unwrap_or(u32::MAX);
        let outcome = if attempts >= self.policy.max_attempts {
            sqlx::query(
                "UPDATE deliveries SET state = 'dead', last_error = ?2, finished_at = ?3, \
                 claimed_until = NULL WHERE id = ?1",
            )
            .bind(id)
            .bind(bounded_error(error))
            .bind(now)
            .execute(&mut *tx)
            .await?;
            FailOutcome::Dead
        } else {
            let next = now.saturating_add(millis(self.policy.backoff(attempts)));
            sqlx::query(
                "UPDATE deliveries SET state = 'pending', last_error = ?2, next_attempt_at = ?3, \
                 claimed_until = NULL WHERE id = ?1",
            )
            .bind(id)
            .bind(bounded_error(error))
            .bind(next)
            .execute(&mut *tx)
            .await?;
            FailOutcome::Retry(to_time(next)?)
        };
        tx.commit().await?;
        Ok(outcome)
    }

    async fn dead_letter(&self, id: &str, token: &str, error: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE deliveries SET state = 'dead', last_error = ?3, finished_at = ?4, \
             claimed_until = NULL WHERE id = ?1 AND claimed_by = ?2 AND state = 'running'",
        )
        .bind(id)
        .bind(token)
        .bind(bounded_error(error))
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn release_claims(
        &self,
        holder_prefix: &str,
        except_prefix: &str,
    ) -> Result<u64, StoreError> {
        // substr, not LIKE: instance names may hold `%` or `_`.
        let done = sqlx::query(
            "UPDATE deliveries SET claimed_until = 0 WHERE state = 'running' \
             AND substr(claimed_by, 1, length(?1)) = ?1 \
             AND substr(claimed_by, 1, length(?2)) <> ?2",
        )
        .bind(holder_prefix)
        .bind(except_prefix)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn requeue(&self, id: &str) -> Result<RequeueOutcome, StoreError> {
        let now = now_ms();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let row: Option<(String, Option<i64>)> =
            sqlx::query_as("SELECT state, claimed_until FROM deliveries WHERE id = ?1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let outcome = match row {
            None => RequeueOutcome::NotFound,
            Some((state, Some(until))) if state == "running" && until >= now => {
                RequeueOutcome::Running
            }
            Some(_) => {
                sqlx::query(
                    "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?2, \
                     claimed_by = NULL, claimed_until = NULL, finished_at = NULL WHERE id = ?1",
                )
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                RequeueOutcome::Requeued
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    async fn get(&self, id: &str) -> Result<Option<DeliveryRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, event, action, payload, received_at, attempts, state, \
             next_attempt_at, last_error, claimed_by, claimed_until, finished_at \
             FROM deliveries WHERE id = ?1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| record(&r, true)).transpose()
    }

    async fn list(&self, filter: &ListFilter) -> Result<Vec<DeliveryRecord>, StoreError> {
        // NULL filters match everything; the payload is not read.
        let rows = sqlx::query(
            "SELECT id, event, action, x'' AS payload, received_at, attempts, state, \
             next_attempt_at, last_error, claimed_by, claimed_until, finished_at \
             FROM deliveries WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR event = ?2) \
             ORDER BY received_at DESC, id LIMIT ?3",
        )
        .bind(filter.state.map(State::as_str))
        .bind(filter.event.as_deref())
        .bind(filter.bounded_limit())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| record(r, false)).collect()
    }

    async fn counts(&self) -> Result<StateCounts, StoreError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, COUNT(*) FROM deliveries GROUP BY state")
                .fetch_all(&self.pool)
                .await?;
        let mut c = StateCounts::default();
        for (st, n) in rows {
            let st = State::parse(&st).ok_or_else(|| StoreError::Corrupt(format!("state {st}")))?;
            c.add(st, u64::try_from(n).unwrap_or(0));
        }
        Ok(c)
    }

    async fn known_among(&self, ids: &[String]) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let json = serde_json::to_string(chunk)
                .map_err(|e| StoreError::Corrupt(format!("id list: {e}")))?;
            let found: Vec<String> = sqlx::query_scalar(
                "SELECT id FROM deliveries WHERE id IN (SELECT value FROM json_each(?1))",
            )
            .bind(json)
            .fetch_all(&self.pool)
            .await?;
            out.extend(found);
        }
        Ok(out)
    }

    async fn cleanup(&self, older_than: Duration) -> Result<u64, StoreError> {
        let cutoff = now_ms().saturating_sub(millis(older_than));
        let res = sqlx::query("DELETE FROM deliveries WHERE state = 'done' AND finished_at < ?1")
            .bind(cutoff)
            .execute(&self.pool)
            .await?;
        Ok(res.rows_affected())
    }

    async fn checkpoint(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT value FROM checkpoints WHERE name = ?1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn set_checkpoint(&self, name: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO checkpoints (name, value, updated_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(name)
        .bind(value)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn try_lease(&self, name: &str, holder: &str, ttl: Duration) -> Result<bool, StoreError> {
        let now = now_ms();
        let res = sqlx::query(
            "INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE leases.holder = excluded.holder OR leases.expires_at < ?4",
        )
        .bind(name)
        .bind(holder)
        .bind(now.saturating_add(millis(ttl)))
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(res.rows_affected() > 0)
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM leases WHERE name = ?1 AND holder = ?2")
            .bind(name)
            .bind(holder)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    fn policy(&self) -> &RetryPolicy {
        &self.policy
    }
}
