//! Operations of `gitops-guard serve`, run as the real binary against a
//! small fake GitHub: readiness only after GitHub accepts the App's JWT,
//! fail-fast on rejected credentials or missing settings, a graceful exit
//! on SIGTERM, the App's own page (from `GET /app`) as the alerts' default
//! reference, and `deliveries` commands that never create a journal.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use gitops_guard::cli::healthcheck::get_status;
use gitops_guard::cli::server::{StartupError, verify_until_ready};
use gitops_guard::github::retry::RetryPolicy;
use secrecy::SecretString;

const BIN: &str = env!("CARGO_BIN_EXE_gitops-guard");

fn pem() -> String {
    let v: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string("tests/data/github/api/apps-create-from-manifest.json").unwrap(),
    )
    .unwrap();
    v["pem"].as_str().unwrap().to_owned()
}

/// `GET /app`: `fail_first` answers with `status`, then 200 — after
/// `delay` (to observe the not-ready window).
#[derive(Clone)]
struct Fake {
    calls: Arc<AtomicUsize>,
    bearer: Arc<AtomicBool>,
    fail_first: usize,
    status: StatusCode,
    delay: Duration,
}

async fn app_endpoint(State(f): State<Fake>, headers: HeaderMap) -> impl IntoResponse {
    let n = f.calls.fetch_add(1, Ordering::SeqCst);
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // A JWT: three base64url segments after "Bearer ".
    if auth
        .strip_prefix("Bearer ")
        .is_some_and(|t| t.split('.').count() == 3)
    {
        f.bearer.store(true, Ordering::SeqCst);
    }
    tokio::time::sleep(f.delay).await;
    if n < f.fail_first {
        return (
            f.status,
            axum::Json(serde_json::json!({"message": "A JSON web token could not be decoded"})),
        )
            .into_response();
    }
    // GitHub's documented answer (tests/data/github/api), as this App.
    let mut app: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string("tests/data/github/api/apps-get-authenticated.json").unwrap(),
    )
    .unwrap();
    app["id"] = 4242.into();
    app["slug"] = "gitops-guard-test".into();
    app["html_url"] = "https://github.com/apps/gitops-guard-test".into();
    axum::Json(app).into_response()
}

async fn fake(fail_first: usize, status: StatusCode, delay: Duration) -> (SocketAddr, Fake) {
    let f = Fake {
        calls: Arc::new(AtomicUsize::new(0)),
        bearer: Arc::new(AtomicBool::new(false)),
        fail_first,
        status,
        delay,
    };
    let app = Router::new()
        .route("/app", get(app_endpoint))
        .with_state(f.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (addr, f)
}

fn auth(api: SocketAddr) -> Arc<gitops_guard::github::auth::AppAuth> {
    gitops_guard::cli::server::install_crypto_provider();
    gitops_guard::github::auth::AppAuth::new(
        "4242",
        &SecretString::from(pem()),
        &format!("http://{api}"),
        RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(5),
            max_wait: Duration::from_millis(50),
            secondary_wait: Duration::from_millis(5),
        },
    )
    .unwrap()
}

#[tokio::test]
async fn ready_only_after_github_accepts_the_jwt() {
    let (api, f) = fake(5, StatusCode::BAD_GATEWAY, Duration::ZERO).await;
    let ready = Arc::new(AtomicBool::new(false));
    let app = verify_until_ready(auth(api), ready.clone(), Duration::from_millis(20))
        .await
        .unwrap();
    assert_eq!(app.id, 4242);
    assert!(ready.load(Ordering::SeqCst));
    assert_eq!(
        f.calls.load(Ordering::SeqCst),
        6,
        "retried through the 5xx answers"
    );
    assert!(
        f.bearer.load(Ordering::SeqCst),
        "authenticated with the App JWT"
    );
}

#[tokio::test]
async fn alerts_name_the_app_page_github_reports() {
    let (api, _) = fake(0, StatusCode::OK, Duration::ZERO).await;
    let ready = Arc::new(AtomicBool::new(false));
    let identity = verify_until_ready(auth(api), ready, Duration::from_millis(20))
        .await
        .unwrap();
    assert_eq!(
        identity.html_url.as_deref(),
        Some("https://github.com/apps/gitops-guard-test")
    );
    let settings = gitops_guard::cli::settings::Settings::from_lookup(|k| match k {
        "GITHUB_APP_ID" => Some("4242".into()),
        "GITHUB_APP_PRIVATE_KEY" => Some(pem()),
        "GITHUB_WEBHOOK_SECRET" => Some("s".into()),
        "GITHUB_API_URL" => Some(format!("http://{api}")),
        _ => None,
    })
    .unwrap();
    let app = gitops_guard::cli::server::App::build(&settings).unwrap();
    assert!(
        app.app_url.get().is_none(),
        "unknown before GitHub answered"
    );
    app.remember_identity(&identity);
    let env = gitops_guard::pipeline::alerts::with_app_url(Arc::new(|_| None), app.app_url.clone());
    let text = gitops_guard::pipeline::alerts::runbook_reference(
        &env,
        gitops_guard::engine::pushes::AlertKind::ForcePush,
        true,
    );
    assert!(
        text.contains("(https://github.com/apps/gitops-guard-test)"),
        "{text}"
    );
    assert!(text.contains("#runbook-force-push"), "{text}");
    assert!(
        !text.contains("gitops-guard/gitops-guard"),
        "made-up repository: {text}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn rejected_credentials_and_wrong_api_url_are_fatal() {
    let (api, f) = fake(usize::MAX, StatusCode::UNAUTHORIZED, Duration::ZERO).await;
    let ready = Arc::new(AtomicBool::new(false));
    let err = verify_until_ready(auth(api), ready.clone(), Duration::from_millis(20))
        .await
        .unwrap_err();
    assert!(matches!(err, StartupError::Credentials(_)), "{err}");
    assert!(err.to_string().contains("GITHUB_APP_ID"), "{err}");
    assert!(!ready.load(Ordering::SeqCst));
    assert_eq!(
        f.calls.load(Ordering::SeqCst),
        1,
        "a rejection is not retried"
    );

    let (api, _) = fake(usize::MAX, StatusCode::NOT_FOUND, Duration::ZERO).await;
    let err = verify_until_ready(auth(api), ready.clone(), Duration::from_millis(20))
        .await
        .unwrap_err();
    assert!(matches!(err, StartupError::ApiUrl { .. }), "{err}");
    assert!(err.to_string().contains("/api/v3"), "{err}");
    assert!(!ready.load(Ordering::SeqCst));
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `serve` with its own journal in a fresh directory (returned, so it
/// lives as long as the child): never `./gitops-guard.sqlite`, which tests
/// running at the same time would migrate concurrently.
fn spawn_serve(api: SocketAddr, port: u16, extra: &[(&str, &str)]) -> (Child, tempfile::TempDir) {
    let journal = tempfile::tempdir().unwrap();
    let mut c = Command::new(BIN);
    c.arg("serve")
        .current_dir(journal.path())
        .env_clear()
        .env("GITOPS_GUARD_DB", journal.path().join("journal.sqlite"))
        .env("GITHUB_APP_ID", "4242")
        .env("GITHUB_APP_PRIVATE_KEY", pem())
        .env("GITHUB_WEBHOOK_SECRET", "s3cret")
        .env("GITHUB_API_URL", format!("http://{api}"))
        .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("GITOPS_GUARD_SHUTDOWN_SECONDS", "3")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in extra {
        c.env(k, v);
    }
    (c.spawn().unwrap(), journal)
}

fn status(port: u16, path: &str) -> Option<u16> {
    get_status(
        SocketAddr::from(([127, 0, 0, 1], port)),
        path,
        Duration::from_secs(2),
    )
    .ok()
}

fn wait_for(deadline: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn finish(mut child: Child, within: Duration) -> (std::process::ExitStatus, String) {
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            let mut err = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            return (st, err);
        }
        if start.elapsed() > within {
            let _ = child.kill();
            panic!("serve did not exit within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_is_unready_until_verified_and_exits_cleanly_on_sigterm() {
    // GitHub answers slowly: the window where the server is live but unready.
    let (api, f) = fake(0, StatusCode::OK, Duration::from_millis(1500)).await;
    let port = free_port();
    let (child, _journal) = spawn_serve(api, port, &[]);
    let pid = child.id().to_string();
    let result = tokio::task::spawn_blocking(move || {
        assert!(
            wait_for(Duration::from_secs(20), || status(port, "/healthz")
                == Some(200)),
            "server came up"
        );
        assert_eq!(
            status(port, "/readyz"),
            Some(503),
            "not ready before GET /app answered"
        );
        assert!(
            wait_for(Duration::from_secs(10), || status(port, "/readyz")
                == Some(200)),
            "ready once GitHub accepted the JWT"
        );
        let ok = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success();
        assert!(ok);
        finish(child, Duration::from_secs(15))
    })
    .await
    .unwrap();
    let (st, stderr) = result;
    assert!(st.success(), "exit {st:?}: {stderr}");
    assert!(stderr.contains("shutdown requested"), "{stderr}");
    assert!(f.calls.load(Ordering::SeqCst) >= 1);
    // The listener is closed.
    assert_eq!(status(port, "/healthz"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_exits_with_the_reason_when_github_rejects_the_key() {
    let (api, _) = fake(usize::MAX, StatusCode::UNAUTHORIZED, Duration::ZERO).await;
    let (child, _journal) = spawn_serve(api, free_port(), &[]);
    let (st, stderr) = tokio::task::spawn_blocking(move || finish(child, Duration::from_secs(20)))
        .await
        .unwrap();
    assert_eq!(st.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("GitHub rejected the App credentials"),
        "{stderr}"
    );
}

#[test]
fn serve_refuses_to_start_without_a_webhook_secret_or_with_a_bad_key() {
    let out = Command::new(BIN)
        .arg("serve")
        .env_clear()
        .env("GITHUB_APP_ID", "4242")
        .env("GITHUB_APP_PRIVATE_KEY", pem())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("GITHUB_WEBHOOK_SECRET is required"), "{err}");

    let out = Command::new(BIN)
        .arg("serve")
        .env_clear()
        .env("GITHUB_APP_ID", "4242")
        .env(
            "GITHUB_APP_PRIVATE_KEY",
            "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
        )
        .env("GITHUB_WEBHOOK_SECRET", "s")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("GITHUB_APP_PRIVATE_KEY"), "{err}");
    assert!(!err.contains("AAAA"), "key material echoed: {err}");
}

#[test]
fn healthcheck_subcommand_reports_down_when_nothing_listens() {
    let port = free_port();
    let out = Command::new(BIN)
        .arg("healthcheck")
        .env("LISTEN_ADDR", format!("0.0.0.0:{port}"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

/// `gitops-guard deliveries ARGS` in `dir` with only `env` set of the
/// journal variables.
fn deliveries(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .arg("deliveries")
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("GITOPS_GUARD_DB");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn deliveries_commands_never_create_a_journal() {
    let tmp = tempfile::tempdir().unwrap();
    // The default location (./gitops-guard.sqlite), a path and a sqlite URL.
    let missing = tmp.path().join("typo.sqlite");
    let url = format!("sqlite://{}", missing.display());
    let cases: Vec<(Vec<(&str, &str)>, String)> = vec![
        (vec![], "./gitops-guard.sqlite".to_owned()),
        (
            vec![("GITOPS_GUARD_DB", missing.to_str().unwrap())],
            missing.display().to_string(),
        ),
        (
            vec![("DATABASE_URL", url.as_str())],
            missing.display().to_string(),
        ),
    ];
    for (env, named) in &cases {
        for args in [&["list"][..], &["show", "abc"], &["requeue", "abc"]] {
            let (code, out, err) = deliveries(tmp.path(), args, env);
            assert_eq!(code, 2, "{args:?} {env:?}: {out}{err}");
            assert!(err.contains("no delivery journal at"), "{err}");
            assert!(err.contains(named.as_str()), "{named} not named: {err}");
            assert!(
                err.contains("DATABASE_URL") && err.contains("GITOPS_GUARD_DB"),
                "{err}"
            );
            assert!(
                entries(tmp.path()).is_empty(),
                "{args:?} {env:?} created {:?}",
                entries(tmp.path())
            );
        }
    }
}

#[tokio::test]
async fn deliveries_list_reads_an_existing_journal_without_writing_it() {
    use gitops_guard::queue::sqlite::{Durability, SqliteStore};
    use gitops_guard::queue::{NewDelivery, Store};
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("journal.sqlite");
    let store = SqliteStore::open(&path, Durability::Full, Default::default())
        .await
        .unwrap();
    store
        .insert_if_absent(&NewDelivery {
            id: "d-1".into(),
            event: "push".into(),
            action: None,
            payload: bytes::Bytes::from_static(b"{}"),
            received_at: chrono::Utc::now(),
        })
        .await
        .unwrap();
    store.close().await;
    let before = std::fs::read(&path).unwrap();
    let env = [("GITOPS_GUARD_DB", path.to_str().unwrap())];
    let (code, out, err) = deliveries(tmp.path(), &["list"], &env);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("d-1") && out.contains("1 pending"), "{out}");
    let (code, out, _) = deliveries(tmp.path(), &["show", "d-1"], &env);
    assert_eq!(code, 0);
    assert!(out.contains("state:           pending"), "{out}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "a read changed the journal"
    );
    // A file that is not a journal is named as such, not migrated.
    let other = tmp.path().join("other.sqlite");
    std::fs::write(&other, b"").unwrap();
    let (code, _, err) = deliveries(
        tmp.path(),
        &["list"],
        &[("GITOPS_GUARD_DB", other.to_str().unwrap())],
    );
    assert_eq!(code, 2);
    assert!(err.contains("not a gitops-guard journal"), "{err}");
    assert_eq!(std::fs::read(&other).unwrap(), b"");
}
