//! Routes: `POST /webhook`, `GET /healthz`, `GET /readyz`, `GET /metrics`.
//!
//! `/webhook` does the minimum before answering: cap the body while reading
//! it (25 MB, GitHub's own payload cap → 413 beyond), verify the signature
//! before anything is parsed (401), read only `action` to drop irrelevant
//! deliveries (2xx), journal (dedupe by `X-GitHub-Delivery`), answer 202.
//! A full queue is 503 so GitHub records a failure that can be redelivered.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use metrics_exporter_prometheus::PrometheusHandle;
use secrecy::SecretString;

use super::verify::verify_signature;
use crate::github::event::{ActionOnly, is_actionable, known_event_name};
use crate::queue::journal::{Delivery, Enqueued, Journal, JournalError};
use crate::queue::metrics;

/// GitHub's payload cap; larger events are never sent by GitHub.
pub const MAX_BODY_BYTES: usize = 25 * 1024 * 1024;
/// Longest `X-GitHub-Delivery` we accept (GUIDs are 36 chars).
const MAX_DELIVERY_ID: usize = 128;

/// Shared state of the routes.
#[derive(Clone)]
pub struct AppState {
    /// Accepted webhook secrets (rotation: any of them).
    pub secrets: Arc<Vec<SecretString>>,
    /// Where verified deliveries go.
    pub journal: Arc<dyn Journal>,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
    /// False while shutting down (`/readyz` → 503).
    pub ready: Arc<AtomicBool>,
}

/// Builds the router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/webhook",
            post(webhook).layer(DefaultBodyLimit::max(MAX_BODY_BYTES)),
        )
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(render_metrics))
        .with_state(state)
}

async fn readyz(State(st): State<AppState>) -> Response {
    if st.ready.load(Ordering::Relaxed) {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response()
    }
}

async fn render_metrics(State(st): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        st.metrics.render(),
    )
        .into_response()
}

fn reply(status: StatusCode, msg: &'static str) -> Response {
    (status, msg).into_response()
}

async fn webhook(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let event = headers
        .get("x-github-event")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    // The limit is enforced while the body streams in (axum wraps it in
    // `http_body_util::Limited`), so at most 25 MB is ever buffered.
    let body = match body {
        Ok(b) => b,
        Err(rej) => {
            let status = rej.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                metrics::delivery(&event, "too_large");
                return reply(status, "payload too large");
            }
            metrics::delivery(&event, "bad_request");
            return reply(status, "cannot read body");
        }
    };
    let sig = headers.get("x-hub-signature-256").map(|v| v.as_bytes());
    if let Err(e) = verify_signature(&st.secrets, &body, sig) {
        metrics::delivery(&event, "unauthorized");
        tracing::warn!(reason = %e, "webhook rejected");
        return reply(StatusCode::UNAUTHORIZED, "invalid signature");
    }
    let Some(id) = headers
        .get("x-github-delivery")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= MAX_DELIVERY_ID)
    else {
        metrics::delivery(&event, "bad_request");
        return reply(StatusCode::BAD_REQUEST, "missing X-GitHub-Delivery");
    };
    if known_event_name(&event).is_none() {
        metrics::delivery(&event, "ignored");
        return reply(StatusCode::OK, "event ignored");
    }
    let action = match serde_json::from_slice::<ActionOnly>(&body) {
        Ok(a) => a.action,
        Err(_) => {
            metrics::delivery(&event, "bad_request");
            return reply(StatusCode::BAD_REQUEST, "payload is not a JSON object");
        }
    };
    if !is_actionable(&event, action.as_deref()) {
        metrics::delivery(&event, "ignored");
        return reply(StatusCode::OK, "action ignored");
    }
    let delivery = Delivery {
        id: id.to_owned(),
        event: event.clone(),
        action,
        payload: body,
        received_at: Utc::now(),
        attempts: 0,
    };
    match st.journal.enqueue(delivery).await {
        Ok(Enqueued::Accepted) => {
            metrics::delivery(&event, "accepted");
            reply(StatusCode::ACCEPTED, "accepted")
        }
        Ok(Enqueued::Duplicate) => {
            metrics::delivery(&event, "duplicate");
            reply(StatusCode::OK, "duplicate delivery")
        }
        Err(JournalError::Full) => {
            metrics::delivery(&event, "queue_full");
            tracing::warn!(
                delivery = id,
                "queue full; asking GitHub to record a failure"
            );
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, "30")],
                "queue full",
            )
                .into_response()
        }
        Err(e) => {
            metrics::delivery(&event, "queue_full");
            tracing::error!(delivery = id, error = %e, "cannot journal delivery");
            reply(StatusCode::SERVICE_UNAVAILABLE, "cannot accept delivery")
        }
    }
}
