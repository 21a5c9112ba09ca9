//! The worker pool that drains a [`Journal`], and the [`Handler`] trait
//! the pipelines implement: one delivery in, `Ok` or `Err` out.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::task::JoinHandle;
use tracing::Instrument;

use super::journal::{Delivery, Journal};
use crate::github::event::DecodeError;

/// Processes one delivery (the pipelines implement it).
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    /// Handles a delivery. `Err` marks it failed in the journal; the
    /// handler itself decides what GitHub sees (e.g. a failed check run).
    async fn handle(&self, delivery: &Delivery) -> anyhow::Result<()>;
}

/// A fixed pool of workers draining a [`Journal`].
pub struct Workers {
    handles: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Starts `n` workers.
    pub fn spawn(n: usize, journal: Arc<dyn Journal>, handler: Arc<dyn Handler>) -> Self {
        let handles = (0..n.max(1))
            .map(|_| {
                let journal = journal.clone();
                let handler = handler.clone();
                tokio::spawn(async move { worker_loop(journal, handler).await })
            })
            .collect();
        Self { handles }
    }

    /// Closes the journal and waits for the workers to drain it, at most
    /// `deadline`. Returns `false` if work was still running at the deadline
    /// (those deliveries were acknowledged but not finished; the durable
    /// journal picks them up on restart).
    pub async fn drain(self, journal: &dyn Journal, deadline: Duration) -> bool {
        journal.close();
        let all = futures::future::join_all(self.handles);
        tokio::time::timeout(deadline, all).await.is_ok()
    }
}

/// A payload that does not decode for its event never will: retrying it
/// (for the whole backoff schedule) only hides it from the operator.
fn is_poison(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.is::<DecodeError>())
}

async fn worker_loop(journal: Arc<dyn Journal>, handler: Arc<dyn Handler>) {
    while let Some(delivery) = journal.claim().await {
        let span = tracing::info_span!(
            "delivery",
            delivery = %delivery.id,
            event = %delivery.event,
            action = delivery.action.as_deref().unwrap_or(""),
            repo = tracing::field::Empty,
            pr = tracing::field::Empty,
        );
        let event = delivery.event.clone();
        // A panicking handler must not kill the worker or leave the
        // delivery in flight forever: run it as its own task.
        let h = handler.clone();
        let d = delivery.clone();
        let result = tokio::spawn(async move { h.handle(&d).await }.instrument(span.clone())).await;
        let _enter = span.enter();
        match result {
            Ok(Ok(())) => {
                crate::queue::metrics::delivery(&event, "processed");
                journal.complete(&delivery.id).await;
            }
            Ok(Err(e)) if is_poison(&e) => {
                crate::queue::metrics::delivery(&event, "dead_lettered");
                tracing::error!(
                    error = format!("{e:#}"),
                    "delivery payload cannot be decoded"
                );
                journal.dead_letter(&delivery.id, &format!("{e:#}")).await;
            }
            Ok(Err(e)) => {
                crate::queue::metrics::delivery(&event, "failed");
                tracing::error!(error = format!("{e:#}"), "delivery failed");
                journal.fail(&delivery.id, &format!("{e:#}")).await;
            }
            Err(join) => {
                crate::queue::metrics::delivery(&event, "failed");
                tracing::error!(error = %join, "delivery handler panicked");
                journal.fail(&delivery.id, "handler panicked").await;
            }
        }
    }
}
