//! Redelivery reconciliation against a fake of GitHub's App delivery log
//! (`GET /app/hook/deliveries`, JWT-only, cursor pagination through
//! `Link`; `POST /app/hook/deliveries/{id}/attempts`): exactly the GUIDs
//! with no successful attempt and not in our journal are redelivered, each
//! once, across runs; only the lease holder reconciles. Runs the real REST
//! client (App JWT) over SQLite and PostgreSQL journals.

mod common;
mod store_support;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Duration as Chrono, Utc};
use common::{APP_ID, keys};
use gitops_guard::github::auth::AppAuth;
use gitops_guard::github::hook_deliveries::GitHubHookDeliveries;
use gitops_guard::github::retry::RetryPolicy as ApiRetry;
use gitops_guard::queue::redeliver::{RECONCILER, ReconcileConfig, Reconciler};
use serde_json::{Value, json};
use store_support::{Backend, delivery};

#[derive(Clone, Debug)]
struct Attempt {
    id: u64,
    guid: String,
    at: DateTime<Utc>,
    ok: bool,
    redelivery: bool,
}

#[derive(Default)]
struct Log {
    /// Newest first, as GitHub lists them.
    attempts: Vec<Attempt>,
    redelivered: Vec<u64>,
    list_calls: usize,
    next_id: u64,
}

type Shared = Arc<Mutex<Log>>;

fn authorized(headers: &HeaderMap) -> bool {
    let Some(token) = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(keys().public_pem.as_bytes()).unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    // `iss` is checked below (numeric app ids are not strings).
    v.set_required_spec_claims(&["exp", "iat"]);
    match jsonwebtoken::decode::<Value>(token, &key, &v) {
        Ok(t) => t.claims["iss"].to_string().trim_matches('"') == APP_ID,
        Err(_) => false,
    }
}

async fn list(
    State(log): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    if !authorized(&headers) {
        return (StatusCode::UNAUTHORIZED, "JWT required").into_response();
    }
    let per_page: usize = q
        .get("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(30)
        .min(100);
    let start: usize = q
        .get("cursor")
        .and_then(|c| c.strip_prefix("v1_"))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let mut log = log.lock().unwrap();
    log.list_calls += 1;
    let page: Vec<Value> = log
        .attempts
        .iter()
        .skip(start)
        .take(per_page)
        .map(|a| {
            json!({
                "id": a.id, "guid": a.guid, "delivered_at": a.at.to_rfc3339(),
                "redelivery": a.redelivery, "duration": 0.1,
                "status": if a.ok { "OK" } else { "Invalid HTTP Response: 503" },
                "status_code": if a.ok { 202 } else { 503 },
                "event": "pull_request", "action": "opened",
                "installation_id": 77, "repository_id": 1, "throttled_at": null
            })
        })
        .collect();
    let mut resp = axum::Json(page).into_response();
    if start + per_page < log.attempts.len() {
        let link = format!(
            "<http://fake/app/hook/deliveries?per_page={per_page}&cursor=v1_{}>; rel=\"next\"",
            start + per_page
        );
        resp.headers_mut().insert("link", link.parse().unwrap());
    }
    resp
}

async fn attempts(State(log): State<Shared>, headers: HeaderMap, Path(id): Path<u64>) -> Response {
    if !authorized(&headers) {
        return (StatusCode::UNAUTHORIZED, "JWT required").into_response();
    }
    let mut log = log.lock().unwrap();
    let Some(orig) = log.attempts.iter().find(|a| a.id == id).cloned() else {
        return (StatusCode::NOT_FOUND, "no such delivery").into_response();
    };
    log.redelivered.push(id);
    log.next_id += 1;
    let new = Attempt {
        id: log.next_id,
        guid: orig.guid,
        at: Utc::now(),
        ok: true,
        redelivery: true,
    };
    log.attempts.insert(0, new);
    (StatusCode::ACCEPTED, axum::Json(json!({}))).into_response()
}

async fn start_fake(log: Shared) -> String {
    let app = Router::new()
        .route("/app/hook/deliveries", get(list))
        .route("/app/hook/deliveries/{id}/attempts", post(attempts))
        .with_state(log);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

fn api(url: &str) -> Arc<GitHubHookDeliveries> {
    gitops_guard::cli::server::install_crypto_provider();
    let auth = AppAuth::new(
        APP_ID,
        &secrecy::SecretString::from(keys().private_pem.clone()),
        url,
        ApiRetry {
            max_attempts: 2,
            base_delay: std::time::Duration::from_millis(5),
            max_wait: std::time::Duration::from_secs(1),
            secondary_wait: std::time::Duration::from_millis(5),
        },
    )
    .unwrap();
    Arc::new(GitHubHookDeliveries::new(auth))
}

/// Builds a log of 250 attempts (three pages) newest first and returns
/// the attempt ids that must be redelivered.
fn scenario(log: &mut Log) -> BTreeSet<u64> {
    let now = Utc::now();
    let mut expect = BTreeSet::new();
    let mut all = Vec::new();
    let mut id = 1000;
    let mut push = |guid: String, mins_ago: i64, ok: bool, redelivery: bool| {
        id += 1;
        all.push(Attempt {
            id,
            guid,
            at: now - Chrono::minutes(mins_ago),
            ok,
            redelivery,
        });
        id
    };
    for i in 0..200 {
        let mins = 10 + i; // all within the first 24 h look-back
        match i % 5 {
            // Delivered fine.
            0 | 1 => {
                push(format!("ok-{i}"), mins, true, false);
            }
            // Failed, then someone redelivered it successfully.
            2 => {
                push(format!("fixed-{i}"), mins + 1, false, false);
                push(format!("fixed-{i}"), mins, true, true);
            }
            // Failed twice: redeliver once, the latest attempt.
            3 => {
                push(format!("lost-{i}"), mins + 1, false, false);
                let last = push(format!("lost-{i}"), mins, false, true);
                expect.insert(last);
            }
            // Failed once.
            _ => {
                let a = push(format!("lost1-{i}"), mins, false, false);
                expect.insert(a);
            }
        }
    }
    // Failed long ago, before the look-back: not ours to redeliver.
    for i in 0..10 {
        push(format!("ancient-{i}"), 60 * 30 + i, false, false);
    }
    all.sort_by_key(|a| std::cmp::Reverse(a.at));
    log.next_id = id + 1;
    log.attempts = all;
    expect
}

both_backends! {
    failed_deliveries_redelivered_exactly_once => crate::store_support::policy(5, 1000);
    only_the_lease_holder_reconciles => crate::store_support::policy(5, 1000);
}

async fn failed_deliveries_redelivered_exactly_once(b: Backend) {
    let log: Shared = Arc::default();
    let mut expect = scenario(&mut log.lock().unwrap());
    assert!(log.lock().unwrap().attempts.len() > 200, "several pages");
    // Two failed GUIDs reached us anyway (our 2xx came too late for GitHub):
    // the journal holds them, so they are not redelivered.
    for guid in ["lost-3", "lost1-4"] {
        b.store
            .insert_if_absent(&delivery(guid, "pull_request"))
            .await
            .unwrap();
        let id = log
            .lock()
            .unwrap()
            .attempts
            .iter()
            .filter(|a| a.guid == guid)
            .map(|a| a.id)
            .max()
            .unwrap();
        assert!(expect.remove(&id));
    }
    let url = start_fake(log.clone()).await;
    let rec = Reconciler::new(b.store.clone(), api(&url), ReconcileConfig::default());

    let report = rec.run_once().await.unwrap();
    assert!(report.ran);
    let got: BTreeSet<u64> = log.lock().unwrap().redelivered.iter().copied().collect();
    assert_eq!(got, expect, "exactly the failed, unjournaled GUIDs");
    assert_eq!(
        log.lock().unwrap().redelivered.len(),
        expect.len(),
        "each once"
    );
    assert_eq!(report.redelivered.len(), expect.len());
    assert_eq!(report.skipped_journaled, 2);
    assert_eq!(expect.len(), 78);
    assert!(
        log.lock().unwrap().list_calls >= 3,
        "paged through the Link cursor"
    );
    assert!(b.store.checkpoint(RECONCILER).await.unwrap().is_some());

    // A second run (the redeliveries are now in the log) asks for nothing.
    let again = rec.run_once().await.unwrap();
    assert!(again.ran);
    assert!(again.redelivered.is_empty(), "{again:?}");
    assert_eq!(log.lock().unwrap().redelivered.len(), expect.len());

    // Even if a redelivery failed again, the GUID is not redelivered twice
    // within the window (GitHub would get a storm from a broken receiver).
    {
        let mut l = log.lock().unwrap();
        for a in l.attempts.iter_mut().filter(|a| a.redelivery) {
            a.ok = false;
        }
    }
    let third = rec.run_once().await.unwrap();
    assert!(third.redelivered.is_empty(), "{third:?}");
}

async fn only_the_lease_holder_reconciles(b: Backend) {
    let log: Shared = Arc::default();
    let expect = scenario(&mut log.lock().unwrap());
    let url = start_fake(log.clone()).await;
    let other = b.another(b.store.policy().clone()).await;
    assert!(
        other
            .try_lease(RECONCILER, "replica-b", std::time::Duration::from_secs(60))
            .await
            .unwrap()
    );
    let cfg = ReconcileConfig {
        holder: "replica-a".into(),
        ..ReconcileConfig::default()
    };
    let rec = Reconciler::new(b.store.clone(), api(&url), cfg);
    let r = rec.run_once().await.unwrap();
    assert!(!r.ran);
    assert_eq!(
        log.lock().unwrap().list_calls,
        0,
        "no API calls without the lease"
    );
    other.release_lease(RECONCILER, "replica-b").await.unwrap();
    let r = rec.run_once().await.unwrap();
    assert!(r.ran);
    assert_eq!(r.redelivered.len(), expect.len());
}
