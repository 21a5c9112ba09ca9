//! Shared harness for the App's integration tests: a test RSA key
//! (generated with `openssl` at test time), a fake GitHub, the REAL router
//! built by `server::App`, and signed deliveries built from the upstream
//! fixtures with repository and SHAs rewritten to match the fake's state.

#![allow(dead_code)]

pub mod fake_alerts;
pub mod fake_github;
pub mod fake_reviews;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use gitops_guard::cli::server::App;
use gitops_guard::cli::settings::Settings;
use gitops_guard::github::retry::RetryPolicy;
use gitops_guard::webhook::verify::sign;
use secrecy::SecretString;
use serde_json::Value;
use tower::ServiceExt;

use fake_github::FakeGitHub;

/// The webhook secret of the test App.
pub const SECRET: &str = "test-webhook-secret";
/// The test App's id.
pub const APP_ID: &str = "4242";
/// Installation the deliveries carry.
pub const INSTALLATION: u64 = 77;
/// Repository used by most tests.
pub const REPO: &str = "acme/deploy";

/// An RSA key pair (PEM).
pub struct Keys {
    /// PKCS#1/PKCS#8 private key.
    pub private_pem: String,
    /// SubjectPublicKeyInfo public key.
    pub public_pem: String,
}

/// A 2048-bit RSA key generated once per test binary with `openssl`.
pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key.pem");
        let pubkey = dir.path().join("pub.pem");
        let ok = std::process::Command::new("openssl")
            .args(["genrsa", "-out"])
            .arg(&key)
            .arg("2048")
            .output()
            .expect("openssl is needed to generate the test key")
            .status
            .success();
        assert!(ok, "openssl genrsa failed");
        let ok = std::process::Command::new("openssl")
            .args(["rsa", "-pubout", "-in"])
            .arg(&key)
            .arg("-out")
            .arg(&pubkey)
            .output()
            .unwrap()
            .status
            .success();
        assert!(ok, "openssl rsa -pubout failed");
        Keys {
            private_pem: std::fs::read_to_string(&key).unwrap(),
            public_pem: std::fs::read_to_string(&pubkey).unwrap(),
        }
    })
}

/// Settings for a test App against `api_url`: fast retries.
pub fn settings(api_url: &str) -> Settings {
    Settings {
        app_id: APP_ID.into(),
        private_key_pem: SecretString::from(keys().private_pem.clone()),
        webhook_secrets: gitops_guard::webhook::verify::parse_secrets(&format!(
            "old-secret,{SECRET}"
        )),
        api_url: api_url.trim_end_matches('/').to_owned(),
        listen_addr: "127.0.0.1:0".parse().unwrap(),
        workers: 2,
        queue_capacity: 64,
        shutdown_deadline: Duration::from_secs(5),
        dedupe_ttl: Duration::from_secs(3600),
        retry: RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(5),
            max_wait: Duration::from_secs(2),
            secondary_wait: Duration::from_millis(20),
        },
    }
}

/// The App under test and its fake GitHub.
pub struct Harness {
    /// Fake GitHub.
    pub fake: FakeGitHub,
    /// The App (real router, workers, journal).
    pub app: App,
}

static DELIVERY: AtomicU64 = AtomicU64::new(1);

/// A fresh delivery id.
pub fn delivery_id() -> String {
    format!(
        "00000000-0000-4000-8000-{:012}",
        DELIVERY.fetch_add(1, Ordering::Relaxed)
    )
}

impl Harness {
    /// Starts a fake GitHub and the App pointed at it.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Like [`Harness::start`], with settings adjusted by `f` (the API URL
    /// is already set to the fake's).
    pub async fn start_with(f: impl FnOnce(&mut Settings)) -> Self {
        gitops_guard::cli::server::install_crypto_provider();
        if std::env::var_os("TEST_LOG").is_some() {
            gitops_guard::cli::server::init_tracing();
        }
        let fake = FakeGitHub::start(APP_ID, &keys().public_pem).await;
        let mut s = settings(&fake.url);
        f(&mut s);
        let app = App::build(&s).expect("app builds");
        Self { fake, app }
    }

    /// POSTs a webhook with explicit headers; `signature: None` omits it.
    pub async fn post_raw(
        &self,
        event: &str,
        delivery: &str,
        body: Vec<u8>,
        signature: Option<String>,
    ) -> (StatusCode, String) {
        post(&self.app, event, delivery, body, signature).await
    }

    /// POSTs a correctly signed delivery.
    pub async fn deliver(&self, event: &str, delivery: &str, body: &[u8]) -> StatusCode {
        let sig = sign(SECRET.as_bytes(), body);
        self.post_raw(event, delivery, body.to_vec(), Some(sig))
            .await
            .0
    }

    /// Waits until the queue is empty and nothing is in flight.
    pub async fn settle(&self) {
        tokio::time::timeout(Duration::from_secs(30), self.app.journal.wait_idle())
            .await
            .expect("deliveries processed within 30 s");
    }
}

/// POSTs to `/webhook` of `app` through the real router.
pub async fn post(
    app: &App,
    event: &str,
    delivery: &str,
    body: Vec<u8>,
    signature: Option<String>,
) -> (StatusCode, String) {
    let mut req = Request::post("/webhook")
        .header("content-type", "application/json")
        .header("x-github-event", event)
        .header("x-github-delivery", delivery)
        .header("user-agent", "GitHub-Hookshot/test");
    if let Some(sig) = signature {
        req = req.header("x-hub-signature-256", sig);
    }
    let resp = app
        .router
        .clone()
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// GETs a path of the router.
pub async fn get(app: &App, path: &str) -> (StatusCode, String) {
    let resp = app
        .router
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 24)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// An upstream webhook payload, vendored under `tests/data/github/webhooks`.
pub fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/github/webhooks")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read webhook fixture {} ({e}); it is part of the repository",
            path.display()
        )
    });
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("webhook fixture {} is not JSON: {e}", path.display()))
}

fn set_repo(v: &mut Value, repo: &str) {
    let (owner, name) = repo.split_once('/').unwrap();
    v["repository"]["full_name"] = repo.into();
    v["repository"]["name"] = name.into();
    v["repository"]["owner"]["login"] = owner.into();
    v["installation"] = serde_json::json!({ "id": INSTALLATION, "node_id": "x" });
}

/// `pull_request.<action>` from the upstream fixture, rewritten to `repo`,
/// PR `number`, and the given SHAs.
pub fn pr_event(action: &str, repo: &str, number: u64, base: &str, head: &str) -> Vec<u8> {
    let mut v = fixture("pull_request.opened.json");
    v["action"] = action.into();
    v["number"] = number.into();
    set_repo(&mut v, repo);
    let pr = &mut v["pull_request"];
    pr["number"] = number.into();
    pr["state"] = "open".into();
    pr["head"]["sha"] = head.into();
    pr["base"]["sha"] = base.into();
    pr["base"]["ref"] = "main".into();
    serde_json::to_vec(&v).unwrap()
}

/// `check_run.rerequested` for our run on `head`, linked to PR `number`.
pub fn check_run_rerequested(repo: &str, number: u64, base: &str, head: &str) -> Vec<u8> {
    let mut v = fixture("check_run.rerequested.json");
    set_repo(&mut v, repo);
    v["check_run"]["name"] = "gitops-guard/manifests".into();
    v["check_run"]["head_sha"] = head.into();
    v["check_run"]["pull_requests"] = serde_json::json!([{
        "url": "https://example", "id": 1, "number": number,
        "head": {"ref": "feature", "sha": head, "repo": {"id": 1, "url": "https://example", "name": "deploy"}},
        "base": {"ref": "main", "sha": base, "repo": {"id": 1, "url": "https://example", "name": "deploy"}}
    }]);
    serde_json::to_vec(&v).unwrap()
}

/// `check_suite.<action>` for `head`, linked to PR `number`.
pub fn check_suite_event(action: &str, repo: &str, number: u64, base: &str, head: &str) -> Vec<u8> {
    let mut v = fixture("check_suite.requested.json");
    v["action"] = action.into();
    set_repo(&mut v, repo);
    v["check_suite"]["head_sha"] = head.into();
    v["check_suite"]["pull_requests"] = serde_json::json!([{
        "url": "https://example", "id": 1, "number": number,
        "head": {"ref": "feature", "sha": head, "repo": {"id": 1, "url": "https://example", "name": "deploy"}},
        "base": {"ref": "main", "sha": base, "repo": {"id": 1, "url": "https://example", "name": "deploy"}}
    }]);
    serde_json::to_vec(&v).unwrap()
}

/// `pull_request.<action>` for PR `number` from `head` into branch
/// `base_ref` at `base` (PRs sharing a head, retargets); `closed` closes it
/// unmerged, `edited` says the base changed from `sandbox`.
pub fn pr_event_into(
    action: &str,
    repo: &str,
    number: u64,
    base_ref: &str,
    base: &str,
    head: &str,
) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(&pr_event(action, repo, number, base, head)).unwrap();
    v["pull_request"]["base"]["ref"] = base_ref.into();
    match action {
        "closed" => {
            v["pull_request"]["state"] = "closed".into();
            v["pull_request"]["merged"] = false.into();
        }
        "edited" => {
            v["changes"] = serde_json::json!({
                "base": {"ref": {"from": "sandbox"}, "sha": {"from": "0".repeat(40)}}
            });
        }
        _ => {}
    }
    serde_json::to_vec(&v).unwrap()
}

/// `pull_request_review.<action>` by `user` (`state` as the webhook spells
/// it) on PR `number` at `head`, into `base_ref`.
#[allow(clippy::too_many_arguments)]
pub fn review_event_on(
    action: &str,
    repo: &str,
    number: u64,
    base_ref: &str,
    base: &str,
    head: &str,
    user: &str,
    state: &str,
) -> Vec<u8> {
    let mut v = fixture("pull_request_review.submitted.json");
    v["action"] = action.into();
    set_repo(&mut v, repo);
    v["review"]["user"]["login"] = user.into();
    v["review"]["state"] = state.into();
    v["review"]["commit_id"] = head.into();
    let pr = &mut v["pull_request"];
    pr["number"] = number.into();
    pr["state"] = "open".into();
    pr["head"]["sha"] = head.into();
    pr["base"]["sha"] = base.into();
    pr["base"]["ref"] = base_ref.into();
    serde_json::to_vec(&v).unwrap()
}
