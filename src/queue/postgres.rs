//! [`PostgresStore`]: the journal for several replicas.
//!
//! Claims use `FOR UPDATE SKIP LOCKED`, so replicas polling the same table
//! never block on, or both take, one row. Lease, backoff and retention
//! times come from the database clock (`now()`), so replicas with skewed
//! clocks agree on when a lease has expired.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};

use super::migrations;
use super::sqlite::LEASE_EXHAUSTED;
use super::store::{
    DeliveryRecord, FailOutcome, Inserted, ListFilter, NewDelivery, RequeueOutcome, RetryPolicy,
    State, StateCounts, Store, StoreError, bounded_error, millis,
};

/// Bound on dead-lettering loops inside one `claim`.
const MAX_DEAD_PER_CLAIM: usize = 64;

/// The PostgreSQL journal.
#[derive(Clone, Debug)]
pub struct PostgresStore {
    pool: PgPool,
    policy: RetryPolicy,
}

fn record(row: &PgRow, with_payload: bool) -> Result<DeliveryRecord, StoreError> {
    let state: String = row.try_get("state")?;
    let attempts: i32 = row.try_get("attempts")?;
    Ok(DeliveryRecord {
        id: row.try_get("id")?,
        event: row.try_get("event")?,
        action: row.try_get("action")?,
        payload: if with_payload {
            Bytes::from(row.try_get::<Vec<u8>, _>("payload")?)
        } else {
            Bytes::new()
        },
        received_at: row.try_get("received_at")?,
        attempts: u32::try_from(attempts)
            .map_err(|_| StoreError::Corrupt(format!("attempts {attempts}")))?,
        state: State::parse(&state).ok_or_else(|| StoreError::Corrupt(format!("state {state}")))?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        last_error: row.try_get("last_error")?,
        claimed_by: row.try_get("claimed_by")?,
        claimed_until: row.try_get::<Option<DateTime<Utc>>, _>("claimed_until")?,
        finished_at: row.try_get::<Option<DateTime<Utc>>, _>("finished_at")?,
    })
}

fn max_attempts(p: &RetryPolicy) -> i32 {
    i32::try_from(p.max_attempts).unwrap_or(i32::MAX)
}

impl PostgresStore {
    /// Connects to a `postgres://` URL and applies the migrations.
    pub async fn open(url: &str, policy: RetryPolicy) -> Result<Self, StoreError> {
        Self::connect_with(PgConnectOptions::from_str(url)?, 10, policy).await
    }

    /// Connects with explicit options (tests put each run in its own
    /// schema via `search_path`) and at most `max_connections`.
    pub async fn connect_with(
        opts: PgConnectOptions,
        max_connections: u32,
        policy: RetryPolicy,
    ) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        migrations::postgres().run(&pool).await?;
        Ok(Self { pool, policy })
    }

    /// The connection pool (tests, diagnostics).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn insert_if_absent(&self, d: &NewDelivery) -> Result<Inserted, StoreError> {
        let res = sqlx::query(
            "INSERT INTO deliveries (id, event, action, payload, received_at, attempts, state, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, 0, 'pending', now()) \
             ON CONFLICT (id) DO UPDATE SET state = 'pending', attempts = 0, next_attempt_at = now(), \
                 claimed_by = NULL, claimed_until = NULL, finished_at = NULL \
             WHERE deliveries.state = 'dead'",
        )
        .bind(&d.id)
        .bind(&d.event)
        .bind(&d.action)
        .bind(d.payload.as_ref())
        .bind(d.received_at)
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
            let row = sqlx::query(
                "WITH c AS ( \
                   SELECT id FROM deliveries \
                   WHERE (state = 'pending' AND next_attempt_at <= now()) \
                      OR (state = 'running' AND claimed_until < now()) \
                   ORDER BY next_attempt_at, received_at LIMIT 1 \
                   FOR UPDATE SKIP LOCKED) \
                 UPDATE deliveries d SET \
                   state = CASE WHEN d.state = 'running' AND d.attempts >= $1 THEN 'dead' ELSE 'running' END, \
                   attempts = CASE WHEN d.state = 'running' AND d.attempts >= $1 THEN d.attempts ELSE d.attempts + 1 END, \
                   claimed_by = CASE WHEN d.state = 'running' AND d.attempts >= $1 THEN d.claimed_by ELSE $2 END, \
                   claimed_until = CASE WHEN d.state = 'running' AND d.attempts >= $1 THEN NULL \
                                   ELSE now() + $3 * interval '1 millisecond' END, \
                   finished_at = CASE WHEN d.state = 'running' AND d.attempts >= $1 THEN now() ELSE NULL END, \
                   last_error = CASE WHEN d.state = 'running' AND d.attempts >= $1 THEN $4 ELSE d.last_error END \
                 FROM c WHERE d.id = c.id \
                 RETURNING d.id, d.event, d.action, d.payload, d.received_at, d.attempts, d.state, \
                   d.next_attempt_at, d.last_error, d.claimed_by, d.claimed_until, d.finished_at",
            )
            .bind(max_attempts(&self.policy))
            .bind(token)
            .bind(millis(lease) as f64)
            .bind(LEASE_EXHAUSTED)
            .fetch_optional(&self.pool)
            .await?;
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
            "UPDATE deliveries SET claimed_until = now() + $3 * interval '1 millisecond' \
             WHERE id = $1 AND claimed_by = $2 AND state = 'running'",
        )
        .bind(id)
        .bind(token)
        .bind(millis(lease) as f64)
        .execute(&self.pool)
        .await?;
        Ok(res.rows_affected() > 0)
    }

    async fn complete(&self, id: &str, token: &str) -> Result<bool, StoreError> {
        let res = sqlx::query(
            "UPDATE deliveries SET state = 'done', finished_at = now(), claimed_until = NULL \
             WHERE id = $1 AND claimed_by = $2 AND state = 'running'",
        )
        .bind(id)
        .bind(token)
        .execute(&self.pool)
        .await?;
        Ok(res.rows_affected() > 0)
    }

    async fn fail(&self, id: &str, token: &str, error: &str) -> Result<FailOutcome, StoreError> {
        let mut tx = self.pool.begin().await?;
        let attempts: Option<i32> = sqlx::query_scalar(
            "SELECT attempts FROM deliveries WHERE id = $1 AND claimed_by = $2 AND state = 'running' \
             FOR UPDATE",
        )
        .bind(id)
        .bind(token)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(attempts) = attempts else {
            tx.rollback().await?;
            return Ok(FailOutcome::NotHeld);
        };
        let attempts = u32::try_from(attempts).unwrap_or(0);
        let outcome = if attempts >= self.policy.max_attempts {
            sqlx::query(
                "UPDATE deliveries SET state = 'dead', last_error = $2, finished_at = now(), \
                 claimed_until = NULL WHERE id = $1",
            )
            .bind(id)
            .bind(bounded_error(error))
            .execute(&mut *tx)
            .await?;
            FailOutcome::Dead
        } else {
            let next: DateTime<Utc> = sqlx::query_scalar(
                "UPDATE deliveries SET state = 'pending', last_error = $2, \
                 next_attempt_at = now() + $3 * interval '1 millisecond', claimed_until = NULL \
                 WHERE id = $1 RETURNING next_attempt_at",
            )
            .bind(id)
            .bind(bounded_error(error))
            .bind(millis(self.policy.backoff(attempts)) as f64)
            .fetch_one(&mut *tx)
            .await?;
            FailOutcome::Retry(next)
        };
        tx.commit().await?;
        Ok(outcome)
    }

    async fn dead_letter(&self, id: &str, token: &str, error: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE deliveries SET state = 'dead', last_error = $3, finished_at = now(), \
             claimed_until = NULL WHERE id = $1 AND claimed_by = $2 AND state = 'running'",
        )
        .bind(id)
        .bind(token)
        .bind(bounded_error(error))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn release_claims(
        &self,
        holder_prefix: &str,
        except_prefix: &str,
    ) -> Result<u64, StoreError> {
        // starts_with, not LIKE: instance names may hold `%` or `_`.
        let done = sqlx::query(
            "UPDATE deliveries SET claimed_until = now() - interval '1 second' \
             WHERE state = 'running' AND starts_with(claimed_by, $1) \
             AND NOT starts_with(claimed_by, $2)",
        )
        .bind(holder_prefix)
        .bind(except_prefix)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn requeue(&self, id: &str) -> Result<RequeueOutcome, StoreError> {
        let mut tx = self.pool.begin().await?;
        let row: Option<(String, bool)> = sqlx::query_as(
            "SELECT state, COALESCE(claimed_until >= now(), false) FROM deliveries \
             WHERE id = $1 FOR UPDATE",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let outcome = match row {
            None => RequeueOutcome::NotFound,
            Some((state, true)) if state == "running" => RequeueOutcome::Running,
            Some(_) => {
                sqlx::query(
                    "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = now(), \
                     claimed_by = NULL, claimed_until = NULL, finished_at = NULL WHERE id = $1",
                )
                .bind(id)
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
             FROM deliveries WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| record(&r, true)).transpose()
    }

    async fn list(&self, filter: &ListFilter) -> Result<Vec<DeliveryRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, event, action, ''::bytea AS payload, received_at, attempts, state, \
             next_attempt_at, last_error, claimed_by, claimed_until, finished_at \
             FROM deliveries WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR event = $2) \
             ORDER BY received_at DESC, id LIMIT $3",
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
        for chunk in ids.chunks(1000) {
            let found: Vec<String> =
                sqlx::query_scalar("SELECT id FROM deliveries WHERE id = ANY($1)")
                    .bind(chunk)
                    .fetch_all(&self.pool)
                    .await?;
            out.extend(found);
        }
        Ok(out)
    }

    async fn cleanup(&self, older_than: Duration) -> Result<u64, StoreError> {
        let res = sqlx::query(
            "DELETE FROM deliveries WHERE state = 'done' \
             AND finished_at < now() - $1 * interval '1 millisecond'",
        )
        .bind(millis(older_than) as f64)
        .execute(&self.pool)
        .await?;
        Ok(res.rows_affected())
    }

    async fn checkpoint(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT value FROM checkpoints WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn set_checkpoint(&self, name: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO checkpoints (name, value, updated_at) VALUES ($1, $2, now()) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = now()",
        )
        .bind(name)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn try_lease(&self, name: &str, holder: &str, ttl: Duration) -> Result<bool, StoreError> {
        let res = sqlx::query(
            "INSERT INTO leases (name, holder, expires_at) \
             VALUES ($1, $2, now() + $3 * interval '1 millisecond') \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE leases.holder = excluded.holder OR leases.expires_at < now()",
        )
        .bind(name)
        .bind(holder)
        .bind(millis(ttl) as f64)
        .execute(&self.pool)
        .await?;
        Ok(res.rows_affected() > 0)
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
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
