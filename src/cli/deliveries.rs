//! `gitops-guard deliveries list|show ID|requeue ID`: the operator's view of
//! the delivery journal (the same store `serve` uses, chosen by
//! `DATABASE_URL` / `GITOPS_GUARD_DB`). `list` and `show` open it
//! read-only; no subcommand creates a journal (a missing file is an error
//! naming it). Exit codes: 0 done, 1 no such delivery or it cannot be
//! requeued now, 2 usage or database error.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::queue::{Access, DbTarget, DeliveryRecord, ListFilter, RequeueOutcome, State, Store};

/// `gitops-guard deliveries …`.
#[derive(clap::Args, Debug, Clone)]
pub struct DeliveriesArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: DeliveriesCommand,
}

/// The `deliveries` subcommands.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum DeliveriesCommand {
    /// List journaled deliveries, newest first.
    List {
        /// Only this state: pending, running, done or dead.
        #[arg(long)]
        state: Option<String>,
        /// Only this event (e.g. pull_request).
        #[arg(long)]
        event: Option<String>,
        /// At most this many rows.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Show one delivery.
    Show {
        /// The delivery id (`X-GitHub-Delivery`).
        id: String,
        /// Also print the payload.
        #[arg(long)]
        payload: bool,
    },
    /// Queue a delivery again (dead-lettered, or done to replay it).
    Requeue {
        /// The delivery id.
        id: String,
    },
}

/// Opens the journal from the environment and runs the command.
pub fn main(args: &DeliveriesArgs) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("gitops-guard deliveries: {e}");
            return ExitCode::from(2);
        }
    };
    let result = rt.block_on(async {
        let target = DbTarget::from_env();
        // Only requeue writes; none of them may create a journal.
        let access = match args.command {
            DeliveriesCommand::Requeue { .. } => Access::ReadWrite,
            DeliveriesCommand::List { .. } | DeliveriesCommand::Show { .. } => Access::ReadOnly,
        };
        let store = crate::queue::open_existing(&target, Default::default(), access)
            .await
            .with_context(|| format!("opening {}", target.redacted()))?;
        let mut out = std::io::stdout().lock();
        run(args, store.as_ref(), &mut out).await
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("gitops-guard deliveries: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn time(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| "-".to_owned())
}

/// Printable on one line: control characters (terminal escapes in an
/// attacker-influenced error text) replaced.
fn clean(s: &str, max: usize) -> String {
    s.chars()
        .take(max)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn row(d: &DeliveryRecord) -> String {
    format!(
        "{:<38} {:<8} {:>3}  {:<28} {}  {}",
        clean(&d.id, 38),
        d.state,
        d.attempts,
        clean(
            &format!(
                "{}{}",
                d.event,
                d.action
                    .as_deref()
                    .map(|a| format!(".{a}"))
                    .unwrap_or_default()
            ),
            28
        ),
        time(Some(d.received_at)),
        clean(d.last_error.as_deref().unwrap_or(""), 80)
    )
}

/// Runs one command against `store`, writing to `out`; returns the exit code.
pub async fn run(
    args: &DeliveriesArgs,
    store: &dyn Store,
    out: &mut dyn Write,
) -> anyhow::Result<u8> {
    match &args.command {
        DeliveriesCommand::List {
            state,
            event,
            limit,
        } => {
            let state = match state.as_deref().map(|s| (s, State::parse(s))) {
                None => None,
                Some((_, Some(st))) => Some(st),
                Some((s, None)) => {
                    anyhow::bail!("unknown state {s:?} (pending, running, done, dead)")
                }
            };
            let filter = ListFilter {
                state,
                event: event.clone(),
                limit: *limit,
            };
            let rows = store.list(&filter).await?;
            writeln!(
                out,
                "{:<38} {:<8} {:>3}  {:<28} {:<24}  LAST ERROR",
                "ID", "STATE", "TRY", "EVENT", "RECEIVED"
            )?;
            for d in &rows {
                writeln!(out, "{}", row(d))?;
            }
            let c = store.counts().await?;
            writeln!(
                out,
                "{} shown; journal: {} pending, {} running, {} done, {} dead",
                rows.len(),
                c.pending,
                c.running,
                c.done,
                c.dead
            )?;
            Ok(0)
        }
        DeliveriesCommand::Show { id, payload } => {
            let Some(d) = store.get(id).await? else {
                writeln!(out, "no delivery {}", clean(id, 128))?;
                return Ok(1);
            };
            writeln!(out, "id:              {}", clean(&d.id, 128))?;
            writeln!(out, "event:           {}", clean(&d.event, 128))?;
            writeln!(
                out,
                "action:          {}",
                clean(d.action.as_deref().unwrap_or("-"), 128)
            )?;
            writeln!(out, "state:           {}", d.state)?;
            writeln!(out, "attempts:        {}", d.attempts)?;
            writeln!(out, "received_at:     {}", time(Some(d.received_at)))?;
            writeln!(out, "next_attempt_at: {}", time(Some(d.next_attempt_at)))?;
            writeln!(
                out,
                "claimed_by:      {}",
                clean(d.claimed_by.as_deref().unwrap_or("-"), 128)
            )?;
            writeln!(out, "claimed_until:   {}", time(d.claimed_until))?;
            writeln!(out, "finished_at:     {}", time(d.finished_at))?;
            writeln!(
                out,
                "last_error:      {}",
                clean(d.last_error.as_deref().unwrap_or("-"), 4096)
            )?;
            writeln!(out, "payload:         {} bytes", d.payload.len())?;
            if *payload {
                writeln!(out, "{}", String::from_utf8_lossy(&d.payload))?;
            }
            Ok(0)
        }
        DeliveriesCommand::Requeue { id } => match store.requeue(id).await? {
            RequeueOutcome::Requeued => {
                writeln!(out, "requeued {}", clean(id, 128))?;
                Ok(0)
            }
            RequeueOutcome::NotFound => {
                writeln!(out, "no delivery {}", clean(id, 128))?;
                Ok(1)
            }
            RequeueOutcome::Running => {
                writeln!(
                    out,
                    "{} is being processed (live lease); not requeued",
                    clean(id, 128)
                )?;
                Ok(1)
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::sqlite::{Durability, SqliteStore};
    use crate::queue::{NewDelivery, RetryPolicy};
    use std::time::Duration;

    async fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let policy = RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        };
        let s = SqliteStore::open(&dir.path().join("j.sqlite"), Durability::Normal, policy)
            .await
            .unwrap();
        (dir, s)
    }

    async fn cmd(s: &SqliteStore, c: DeliveriesCommand) -> (u8, String) {
        let mut out = Vec::new();
        let code = run(&DeliveriesArgs { command: c }, s, &mut out)
            .await
            .unwrap();
        (code, String::from_utf8(out).unwrap())
    }

    fn new(id: &str) -> NewDelivery {
        NewDelivery {
            id: id.into(),
            event: "pull_request".into(),
            action: Some("opened".into()),
            payload: bytes::Bytes::from_static(b"{\"n\":1}"),
            received_at: chrono::Utc::now(),
        }
    }

    #[tokio::test]
    async fn list_show_requeue_a_dead_letter() {
        let (_d, s) = store().await;
        s.insert_if_absent(&new("good")).await.unwrap();
        s.insert_if_absent(&new("bad")).await.unwrap();
        let c = s
            .claim("w", Duration::from_secs(30))
            .await
            .unwrap()
            .unwrap();
        s.complete(&c.id, "w").await.unwrap();
        let c = s
            .claim("w", Duration::from_secs(30))
            .await
            .unwrap()
            .unwrap();
        s.fail(&c.id, "w", "boom\x1b[31m").await.unwrap();

        let (code, text) = cmd(
            &s,
            DeliveriesCommand::List {
                state: Some("dead".into()),
                event: None,
                limit: 10,
            },
        )
        .await;
        assert_eq!(code, 0);
        assert!(text.contains("bad") && !text.contains("good "), "{text}");
        assert!(text.contains("1 done, 1 dead"), "{text}");
        assert!(!text.contains('\x1b'), "escape sequences are neutralised");

        let (code, text) = cmd(
            &s,
            DeliveriesCommand::Show {
                id: "bad".into(),
                payload: true,
            },
        )
        .await;
        assert_eq!(code, 0);
        assert!(text.contains("state:           dead"), "{text}");
        assert!(text.contains("{\"n\":1}"), "{text}");

        let (code, _) = cmd(&s, DeliveriesCommand::Requeue { id: "bad".into() }).await;
        assert_eq!(code, 0);
        assert_eq!(s.get("bad").await.unwrap().unwrap().state, State::Pending);
        let (code, text) = cmd(&s, DeliveriesCommand::Requeue { id: "nope".into() }).await;
        assert_eq!((code, text.trim()), (1, "no delivery nope"));
        let (code, _) = cmd(
            &s,
            DeliveriesCommand::Show {
                id: "nope".into(),
                payload: false,
            },
        )
        .await;
        assert_eq!(code, 1);
    }

    #[tokio::test]
    async fn unknown_state_is_a_usage_error() {
        let (_d, s) = store().await;
        let args = DeliveriesArgs {
            command: DeliveriesCommand::List {
                state: Some("Dead".into()),
                event: None,
                limit: 1,
            },
        };
        assert!(run(&args, &s, &mut Vec::new()).await.is_err());
    }
}
