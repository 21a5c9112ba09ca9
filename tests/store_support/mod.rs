//! Backends for the store test suites: a fresh SQLite file per test, and a
//! fresh PostgreSQL schema per test on `TEST_DATABASE_URL` (required when
//! `CI=true`; without it, locally, the PostgreSQL half is skipped loudly).

#![allow(dead_code)]

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use chrono::Utc;
use gitops_guard::queue::postgres::PostgresStore;
use gitops_guard::queue::sqlite::{Durability, SqliteStore};
use gitops_guard::queue::{NewDelivery, RetryPolicy, Store};
use sqlx::postgres::PgConnectOptions;

/// A store plus what keeps it alive (temp dir) and how to open a second
/// handle on the same database (a second replica).
pub struct Backend {
    pub store: Arc<dyn Store>,
    pub reopen: Reopen,
    _dir: Option<tempfile::TempDir>,
}

/// How to open another store on the same database.
#[derive(Clone)]
pub enum Reopen {
    Sqlite(std::path::PathBuf),
    Postgres(Box<PgConnectOptions>),
}

impl Backend {
    /// Another store on the same database (another replica).
    pub async fn another(&self, policy: RetryPolicy) -> Arc<dyn Store> {
        match &self.reopen {
            Reopen::Sqlite(p) => Arc::new(
                SqliteStore::open(p, Durability::Normal, policy)
                    .await
                    .expect("reopen sqlite"),
            ),
            Reopen::Postgres(o) => Arc::new(
                PostgresStore::connect_with((**o).clone(), 10, policy)
                    .await
                    .expect("reopen postgres"),
            ),
        }
    }
}

pub async fn sqlite(policy: RetryPolicy) -> Option<Backend> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("journal.sqlite");
    let store = SqliteStore::open(&path, Durability::Normal, policy)
        .await
        .expect("open sqlite");
    Some(Backend {
        store: Arc::new(store),
        reopen: Reopen::Sqlite(path),
        _dir: Some(dir),
    })
}

/// `TEST_DATABASE_URL`, or `None` locally; panics under `CI=true`.
pub fn pg_url() -> Option<String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("TEST_DATABASE_URL must be set in CI (scripts/pg-test.sh starts one)");
            }
            eprintln!("SKIPPED: PostgreSQL half (set TEST_DATABASE_URL; scripts/pg-test.sh)");
            None
        }
    }
}

/// A fresh schema on the test database, as connect options.
pub async fn pg_schema() -> Option<PgConnectOptions> {
    let (url, schema) = pg_fresh_schema().await?;
    let base = PgConnectOptions::from_str(&url).expect("TEST_DATABASE_URL");
    Some(base.options([("search_path", schema.as_str())]))
}

/// A `postgres://` URL whose connections use a fresh schema (for child
/// processes configured through `DATABASE_URL`).
pub async fn pg_url_with_fresh_schema() -> Option<String> {
    let (url, schema) = pg_fresh_schema().await?;
    let sep = if url.contains('?') { '&' } else { '?' };
    Some(format!("{url}{sep}options=-c%20search_path%3D{schema}"))
}

/// Creates a fresh schema; returns the base URL and the schema name.
pub async fn pg_fresh_schema() -> Option<(String, String)> {
    static N: AtomicU64 = AtomicU64::new(0);
    let url = pg_url()?;
    let base = PgConnectOptions::from_str(&url).expect("TEST_DATABASE_URL");
    let schema = format!(
        "gg_t{}_{}_{}",
        std::process::id(),
        Utc::now().timestamp_micros(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let pool = sqlx::PgPool::connect_with(base.clone())
        .await
        .expect("connect postgres");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&pool)
        .await
        .expect("create schema");
    pool.close().await;
    Some((url, schema))
}

pub async fn postgres(policy: RetryPolicy) -> Option<Backend> {
    let opts = pg_schema().await?;
    let store = PostgresStore::connect_with(opts.clone(), 10, policy)
        .await
        .expect("open postgres");
    Some(Backend {
        store: Arc::new(store),
        reopen: Reopen::Postgres(Box::new(opts)),
        _dir: None,
    })
}

pub fn delivery(id: &str, event: &str) -> NewDelivery {
    NewDelivery {
        id: id.to_owned(),
        event: event.to_owned(),
        action: Some("opened".to_owned()),
        payload: Bytes::from(format!("{{\"id\":\"{id}\"}}")),
        received_at: Utc::now(),
    }
}

pub fn policy(max_attempts: u32, base_ms: u64) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_backoff: std::time::Duration::from_millis(base_ms),
        max_backoff: std::time::Duration::from_secs(60),
    }
}

/// Generates `mod sqlite` and `mod postgres` with one `#[tokio::test]` per
/// listed suite function `async fn(Backend)`, built with `$policy`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident => $policy:expr;)*) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let b = $crate::store_support::sqlite($policy).await.unwrap();
                    super::$name(b).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let Some(b) = $crate::store_support::postgres($policy).await else { return };
                    super::$name(b).await;
                }
            )*
        }
    };
}
