//! The webhook surface through the real router: signatures, size limit,
//! unknown events, dedupe, back-pressure, health and metrics routes.

mod common;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::http::{Method, StatusCode};
use common::*;
use gitops_guard::cli::server::App;
use gitops_guard::queue::journal::Delivery;
use gitops_guard::queue::pool::Handler;
use gitops_guard::webhook::verify::sign;

fn config_repo(h: &Harness) -> (String, String) {
    let base = h.fake.commit(
        REPO,
        &[
            (".github/gitops-guard.yml", "version: 1\n"),
            (
                "apps/a.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
            ),
        ],
    );
    let head = h.fake.commit(
        REPO,
        &[
            (".github/gitops-guard.yml", "version: 1\n"),
            (
                "apps/a.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n",
            ),
        ],
    );
    h.fake.open_pr(REPO, 1, &base, &head);
    (base, head)
}

#[tokio::test]
async fn missing_bad_and_malformed_signatures_are_401_and_do_nothing() {
    let h = Harness::start().await;
    let (base, head) = config_repo(&h);
    let body = pr_event("opened", REPO, 1, &base, &head);
    let (s, _) = h
        .post_raw("pull_request", &delivery_id(), body.clone(), None)
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let wrong = sign(b"not-the-secret", &body);
    let (s, _) = h
        .post_raw("pull_request", &delivery_id(), body.clone(), Some(wrong))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = h
        .post_raw(
            "pull_request",
            &delivery_id(),
            body.clone(),
            Some("sha256=zz".into()),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // A signature over different bytes (tampered payload).
    let mut tampered = body.clone();
    tampered.push(b' ');
    let (s, _) = h
        .post_raw(
            "pull_request",
            &delivery_id(),
            tampered,
            Some(sign(SECRET.as_bytes(), &body)),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Unsigned garbage is rejected before parsing (401, not 400).
    let (s, _) = h
        .post_raw("pull_request", &delivery_id(), b"{not json".to_vec(), None)
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    h.settle().await;
    assert_eq!(h.fake.total_calls(), 0, "nothing may reach GitHub");
}

#[tokio::test]
async fn rotated_secret_is_accepted() {
    let h = Harness::start().await;
    let (base, head) = config_repo(&h);
    let body = pr_event("opened", REPO, 1, &base, &head);
    let (s, _) = h
        .post_raw(
            "pull_request",
            &delivery_id(),
            body.clone(),
            Some(sign(b"old-secret", &body)),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    h.settle().await;
}

#[tokio::test]
async fn oversized_body_is_413() {
    let h = Harness::start().await;
    let body = vec![b' '; 25 * 1024 * 1024 + 1];
    let sig = sign(SECRET.as_bytes(), &body);
    let (s, _) = h.post_raw("push", &delivery_id(), body, Some(sig)).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    // Exactly at the limit is read (and then rejected as not JSON, signed).
    let body = vec![b' '; 25 * 1024 * 1024];
    let sig = sign(SECRET.as_bytes(), &body);
    let (s, _) = h.post_raw("push", &delivery_id(), body, Some(sig)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn unknown_events_and_actions_are_acknowledged_and_ignored() {
    let h = Harness::start().await;
    let star = br#"{"action":"created","starred_at":null}"#;
    assert_eq!(
        h.deliver("star", &delivery_id(), star).await,
        StatusCode::OK
    );
    let mut labeled = fixture("pull_request.closed.json");
    labeled["action"] = "labeled".into();
    let labeled = serde_json::to_vec(&labeled).unwrap();
    assert_eq!(
        h.deliver("pull_request", &delivery_id(), &labeled).await,
        StatusCode::OK
    );
    let ping = serde_json::to_vec(&fixture("ping.json")).unwrap();
    assert_eq!(
        h.deliver("ping", &delivery_id(), &ping).await,
        StatusCode::OK
    );
    // Missing delivery id (after a valid signature) is a client error.
    let (s, _) = h
        .post_raw(
            "push",
            "",
            star.to_vec(),
            Some(sign(SECRET.as_bytes(), star)),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    h.settle().await;
    assert_eq!(h.fake.total_calls(), 0);
}

#[tokio::test]
async fn every_fixture_is_acknowledged_when_signed() {
    let h = Harness::start().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/github/webhooks");
    let dir =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot list {} ({e})", dir.display()));
    let mut delivered = 0;
    for entry in dir {
        delivered += 1;
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let event = name.split('.').next().unwrap().to_owned();
        let body = std::fs::read(&path).unwrap();
        let s = h.deliver(&event, &delivery_id(), &body).await;
        assert!(s.is_success(), "{name}: {s}");
    }
    assert!(delivered >= 39, "only {delivered} fixtures delivered");
    h.settle().await;
}

#[tokio::test]
async fn duplicate_delivery_is_processed_once() {
    let h = Harness::start().await;
    let (base, head) = config_repo(&h);
    let body = pr_event("opened", REPO, 1, &base, &head);
    let id = delivery_id();
    assert_eq!(
        h.deliver("pull_request", &id, &body).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(h.deliver("pull_request", &id, &body).await, StatusCode::OK);
    h.settle().await;
    assert_eq!(h.deliver("pull_request", &id, &body).await, StatusCode::OK);
    h.settle().await;
    assert_eq!(
        h.fake
            .calls_exact(&Method::GET, "/repos/acme/deploy/pulls/1"),
        1,
        "PR read once"
    );
    // One run per gate (manifests, reviews, signatures), each created once.
    assert_eq!(h.fake.calls(&Method::POST, "/check-runs"), 3);
    let runs = h.fake.runs(&head, "gitops-guard/manifests");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].conclusion.as_deref(), Some("success"));
}

/// A handler that blocks until released, to fill the queue.
struct Blocking(Arc<tokio::sync::Semaphore>);

#[async_trait]
impl Handler for Blocking {
    async fn handle(&self, _d: &Delivery) -> anyhow::Result<()> {
        let _p = self.0.acquire().await?;
        Ok(())
    }
}

#[tokio::test]
async fn full_queue_answers_503_and_forgets_the_delivery() {
    let mut s = settings("http://127.0.0.1:9");
    s.workers = 1;
    s.queue_capacity = 2;
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let app = App::with_handler(&s, Arc::new(Blocking(gate.clone())));
    let body = br#"{"ref":"refs/heads/main"}"#.to_vec();
    let sig = || Some(sign(SECRET.as_bytes(), &body));
    let mut statuses = Vec::new();
    for i in 0..4 {
        statuses.push(
            post(&app, "push", &format!("q-{i}"), body.clone(), sig())
                .await
                .0,
        );
        // Let the worker claim the first one before the next arrives.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // One in flight, two queued, the fourth is refused.
    assert_eq!(
        statuses,
        [
            StatusCode::ACCEPTED,
            StatusCode::ACCEPTED,
            StatusCode::ACCEPTED,
            StatusCode::SERVICE_UNAVAILABLE
        ]
    );
    gate.add_permits(100);
    tokio::time::timeout(Duration::from_secs(10), app.journal.wait_idle())
        .await
        .unwrap();
    // The refused delivery was not remembered: GitHub's redelivery is accepted.
    assert_eq!(
        post(&app, "push", "q-3", body.clone(), sig()).await.0,
        StatusCode::ACCEPTED
    );
    assert!(app.shutdown().await, "drained within the deadline");
}

#[tokio::test]
async fn health_ready_and_metrics() {
    let h = Harness::start().await;
    assert_eq!(get(&h.app, "/healthz").await.0, StatusCode::OK);
    assert_eq!(get(&h.app, "/readyz").await.0, StatusCode::OK);
    let (base, head) = config_repo(&h);
    h.deliver(
        "pull_request",
        &delivery_id(),
        &pr_event("opened", REPO, 1, &base, &head),
    )
    .await;
    h.settle().await;
    let (s, text) = get(&h.app, "/metrics").await;
    assert_eq!(s, StatusCode::OK);
    for name in [
        "gitops_guard_deliveries_total",
        "gitops_guard_github_api_calls_total",
        "gitops_guard_evaluation_seconds",
        "gitops_guard_queue_depth",
        "gitops_guard_cache_lookups_total",
        "gitops_guard_github_rate_limit_remaining",
    ] {
        assert!(text.contains(name), "{name} missing from /metrics");
    }
    assert!(text.contains("outcome=\"accepted\""));
    h.app
        .ready
        .store(false, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(
        get(&h.app, "/readyz").await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
}
