//! The durable delivery journal (issue 7): nothing acknowledged is lost.
//!
//! - [`store`]: the [`Store`] contract (journal, claims with leases,
//!   retries, dead letters, checkpoints, singleton leases);
//! - [`sqlite`] (embedded default) and [`postgres`] (several replicas):
//!   its two implementations, with migrations under `migrations/`;
//! - [`worker`]: the queue the webhook route and the workers share —
//!   claim → process → complete/fail, lease heartbeats, polling;
//! - [`journal`]: the hand-off contract between the webhook route and the
//!   workers, with its in-memory implementation;
//! - [`pool`]: the worker pool and the [`pool::Handler`] trait the
//!   pipelines implement;
//! - [`redeliver`]: finds deliveries GitHub failed to deliver and asks
//!   GitHub to redeliver them.
//!
//! [`open`] picks the backend from the environment:
//! `DATABASE_URL=postgres://…` (or `sqlite://…`), else `GITOPS_GUARD_DB`
//! (a path or URL), else `./gitops-guard.sqlite`.

pub mod journal;
pub mod metrics;
pub mod pool;
pub mod postgres;
pub mod redeliver;
pub mod sqlite;
pub mod store;
pub mod worker;

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

pub use store::{
    DeliveryRecord, FailOutcome, Inserted, ListFilter, NewDelivery, RequeueOutcome, RetryPolicy,
    State, StateCounts, Store, StoreError,
};

/// Default SQLite file, relative to the working directory.
pub const DEFAULT_SQLITE_PATH: &str = "./gitops-guard.sqlite";

/// Where the journal lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DbTarget {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A `sqlite:` URL (options such as `?mode=` kept).
    SqliteUrl(String),
    /// A `postgres://` / `postgresql://` URL.
    Postgres(String),
}

impl DbTarget {
    /// Parses a path or URL: `postgres://`/`postgresql://` → PostgreSQL,
    /// `sqlite:` → SQLite URL, anything else a file path.
    pub fn parse(s: &str) -> DbTarget {
        let lower = s.get(..11).unwrap_or(s).to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql:") {
            DbTarget::Postgres(s.to_owned())
        } else if lower.starts_with("sqlite:") {
            DbTarget::SqliteUrl(s.to_owned())
        } else {
            DbTarget::Sqlite(PathBuf::from(s))
        }
    }

    /// From the environment: `DATABASE_URL`, else `GITOPS_GUARD_DB`, else
    /// [`DEFAULT_SQLITE_PATH`]. Empty values count as unset.
    pub fn from_env() -> DbTarget {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// [`DbTarget::from_env`] over any variable lookup (tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> DbTarget {
        let val = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        match val("DATABASE_URL").or_else(|| val("GITOPS_GUARD_DB")) {
            Some(v) => DbTarget::parse(v.trim()),
            None => DbTarget::Sqlite(PathBuf::from(DEFAULT_SQLITE_PATH)),
        }
    }

    /// A description without credentials, for logs.
    pub fn redacted(&self) -> String {
        match self {
            DbTarget::Sqlite(p) => format!("sqlite file {}", p.display()),
            DbTarget::SqliteUrl(u) => format!("sqlite {u}"),
            DbTarget::Postgres(u) => match u.rsplit_once('@') {
                Some((_, host)) => format!("postgres …@{host}"),
                None => "postgres".to_owned(),
            },
        }
    }
}

/// Journal tuning for `serve`, from the environment (all optional):
/// `GITOPS_GUARD_JOURNAL=memory` (no durable journal; tests and
/// benchmarks only), `GITOPS_GUARD_MAX_ATTEMPTS` (5),
/// `GITOPS_GUARD_RETRY_BASE_SECS` (30), `GITOPS_GUARD_LEASE_SECS` (15),
/// `GITOPS_GUARD_RETENTION_HOURS` (168), `GITOPS_GUARD_REDELIVER_SECS`
/// (600; 0 turns the reconciler off).
#[derive(Clone, Debug)]
pub struct JournalSettings {
    /// `None`: in-memory journal.
    pub target: Option<DbTarget>,
    /// Retries and dead-lettering.
    pub policy: RetryPolicy,
    /// Claim lease.
    pub lease: std::time::Duration,
    /// How long done rows are kept.
    pub retention: std::time::Duration,
    /// Reconciler period (`None`: off).
    pub redeliver_every: Option<std::time::Duration>,
}

impl JournalSettings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, StoreError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads through `get` (tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, StoreError> {
        use std::time::Duration;
        let num = |k: &str, default: u64| -> Result<u64, StoreError> {
            match get(k).filter(|v| !v.trim().is_empty()) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse()
                    .map_err(|e| StoreError::Config(format!("{k}: {e}"))),
            }
        };
        let memory = get("GITOPS_GUARD_JOURNAL").is_some_and(|v| v.trim() == "memory");
        let redeliver = num("GITOPS_GUARD_REDELIVER_SECS", 600)?;
        Ok(Self {
            target: (!memory).then(|| DbTarget::from_lookup(&get)),
            policy: RetryPolicy {
                max_attempts: u32::try_from(num("GITOPS_GUARD_MAX_ATTEMPTS", 5)?.max(1))
                    .unwrap_or(u32::MAX),
                base_backoff: Duration::from_secs(num("GITOPS_GUARD_RETRY_BASE_SECS", 30)?),
                max_backoff: Duration::from_secs(30 * 60),
            },
            lease: Duration::from_secs(num("GITOPS_GUARD_LEASE_SECS", 15)?.max(1)),
            retention: Duration::from_secs(num("GITOPS_GUARD_RETENTION_HOURS", 168)? * 3600),
            redeliver_every: (redeliver > 0).then(|| Duration::from_secs(redeliver)),
        })
    }
}

/// Opens the journal at `target` (migrations applied).
/// SQLite commits are fully synced unless `GITOPS_GUARD_DB_SYNC=normal`.
pub async fn open(target: &DbTarget, policy: RetryPolicy) -> Result<Arc<dyn Store>, StoreError> {
    let durability = match std::env::var("GITOPS_GUARD_DB_SYNC").as_deref() {
        Ok("normal") => sqlite::Durability::Normal,
        _ => sqlite::Durability::Full,
    };
    Ok(match target {
        DbTarget::Sqlite(p) => Arc::new(sqlite::SqliteStore::open(p, durability, policy).await?),
        DbTarget::SqliteUrl(u) => {
            Arc::new(sqlite::SqliteStore::open_url(u, durability, policy).await?)
        }
        DbTarget::Postgres(u) => Arc::new(postgres::PostgresStore::open(u, policy).await?),
    })
}

/// How a command uses a journal it did not create.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Only reads (`deliveries list`, `show`).
    ReadOnly,
    /// Also writes rows (`deliveries requeue`), never the schema's creation.
    ReadWrite,
}

/// Opens the journal `serve` keeps at `target` for an operator command:
/// unlike [`open`], a missing SQLite file is an error naming the path and
/// the variables that choose it — a typo in `GITOPS_GUARD_DB`, or running
/// in the wrong directory, must not silently create an empty journal and
/// report "0 deliveries". [`Access::ReadOnly`] opens SQLite read-only.
pub async fn open_existing(
    target: &DbTarget,
    policy: RetryPolicy,
    access: Access,
) -> Result<Arc<dyn Store>, StoreError> {
    use std::str::FromStr as _;
    let read_only = access == Access::ReadOnly;
    let opts = match target {
        DbTarget::Sqlite(p) => sqlx::sqlite::SqliteConnectOptions::new().filename(p),
        DbTarget::SqliteUrl(u) => sqlx::sqlite::SqliteConnectOptions::from_str(u)?,
        DbTarget::Postgres(u) => {
            // A server database is never created by connecting to it.
            return Ok(Arc::new(postgres::PostgresStore::open(u, policy).await?));
        }
    };
    let path = opts.get_filename().to_owned();
    if path.as_os_str() == ":memory:" || !path.is_file() {
        return Err(StoreError::Config(missing_journal(&path)));
    }
    Ok(Arc::new(
        sqlite::SqliteStore::open_existing(opts, read_only, policy).await?,
    ))
}

/// The error for a journal file that does not exist.
fn missing_journal(path: &std::path::Path) -> String {
    format!(
        "no delivery journal at {}: `gitops-guard serve` creates it. Point DATABASE_URL \
         (postgres://… or sqlite://PATH) or GITOPS_GUARD_DB (a path) at the journal serve \
         uses; without either it is {DEFAULT_SQLITE_PATH} in the current directory",
        path.display()
    )
}

/// The migrations, embedded at build time (the `migrate!` macro would pull
/// in sqlx's proc-macro crate and its build-time database drivers; the
/// files are the same either way).
pub mod migrations {
    use super::*;

    const SQLITE: &[(i64, &str, &str)] = &[(
        1,
        "deliveries",
        include_str!("../../migrations/sqlite/0001_deliveries.sql"),
    )];
    const POSTGRES: &[(i64, &str, &str)] = &[(
        1,
        "deliveries",
        include_str!("../../migrations/postgres/0001_deliveries.sql"),
    )];

    fn build(list: &'static [(i64, &'static str, &'static str)]) -> Migrator {
        let migrations: Vec<Migration> = list
            .iter()
            .map(|(version, desc, sql)| {
                Migration::new(
                    *version,
                    Cow::Borrowed(*desc),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect();
        Migrator {
            migrations: Cow::Owned(migrations),
            ..Migrator::DEFAULT
        }
    }

    /// SQLite migrations (`migrations/sqlite`).
    pub fn sqlite() -> Migrator {
        build(SQLITE)
    }

    /// PostgreSQL migrations (`migrations/postgres`).
    pub fn postgres() -> Migrator {
        build(POSTGRES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_from_env_precedence() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            DbTarget::from_lookup(env(&[])),
            DbTarget::Sqlite(PathBuf::from(DEFAULT_SQLITE_PATH))
        );
        assert_eq!(
            DbTarget::from_lookup(env(&[("GITOPS_GUARD_DB", "/var/lib/gg.db")])),
            DbTarget::Sqlite(PathBuf::from("/var/lib/gg.db"))
        );
        assert_eq!(
            DbTarget::from_lookup(env(&[
                ("GITOPS_GUARD_DB", "/var/lib/gg.db"),
                ("DATABASE_URL", "postgres://u:p@db/gg")
            ])),
            DbTarget::Postgres("postgres://u:p@db/gg".into())
        );
        assert_eq!(
            DbTarget::from_lookup(env(&[
                ("DATABASE_URL", " "),
                ("GITOPS_GUARD_DB", "sqlite://x.db")
            ])),
            DbTarget::SqliteUrl("sqlite://x.db".into())
        );
        assert_eq!(
            DbTarget::parse("POSTGRESQL://h/db"),
            DbTarget::Postgres("POSTGRESQL://h/db".into())
        );
    }

    #[test]
    fn redacted_hides_credentials() {
        let t = DbTarget::parse("postgres://user:hunter2@db.internal:5432/gg");
        let r = t.redacted();
        assert!(!r.contains("hunter2"), "{r}");
        assert!(r.contains("db.internal:5432/gg"), "{r}");
    }
}
