//! `gitops-guard register` end to end: the real local server, a fake
//! GitHub serving the conversion endpoint with GitHub's documented response
//! (`tests/data/github/api/apps-create-from-manifest.json`), and the
//! browser's part (GET the page, follow GitHub's redirect to `/callback`)
//! played by a plain HTTP client. Also: `--listen` for a container
//! (every interface inside, the browser on the host's loopback).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use gitops_guard::cli::register::{
    APP_ID_FILE, MANIFEST_JSON, PRIVATE_KEY_FILE, RegisterError, RegisterOptions, Registration,
    WEBHOOK_SECRET_FILE,
};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const GOOD_CODE: &str = "a180b1a3d263c81bc6441d7b990bae27d4c10679";

fn fixture() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string("tests/data/github/api/apps-create-from-manifest.json").unwrap(),
    )
    .unwrap()
}

#[derive(Clone, Default)]
struct Fake {
    calls: Arc<AtomicUsize>,
    authorized_calls: Arc<AtomicUsize>,
}

/// The conversion endpoint: 201 with the fixture for the one valid code,
/// 404 otherwise (GitHub's answer for unknown or expired codes).
async fn conversions(
    State(f): State<Fake>,
    UrlPath(code): UrlPath<String>,
    headers: HeaderMap,
) -> impl IntoResponse {
    f.calls.fetch_add(1, Ordering::SeqCst);
    if headers.contains_key("authorization") {
        f.authorized_calls.fetch_add(1, Ordering::SeqCst);
    }
    if code == GOOD_CODE {
        (StatusCode::CREATED, axum::Json(fixture())).into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({"message": "Not Found"})),
        )
            .into_response()
    }
}

async fn fake_github() -> (SocketAddr, Fake) {
    let fake = Fake::default();
    let app = Router::new()
        .route("/app-manifests/{code}/conversions", post(conversions))
        .with_state(fake.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (addr, fake)
}

/// A minimal HTTP/1.1 GET: what the browser does when following GitHub's
/// redirect.
async fn http_get(url: &str) -> (u16, String) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text[9..12].parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|x| x.1)
        .unwrap_or("")
        .to_owned();
    (status, body)
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn attr<'a>(html: &'a str, name: &str) -> &'a str {
    let start = html.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
    let len = html[start..].find('"').unwrap();
    &html[start..start + len]
}

fn options(api: SocketAddr, out: &Path) -> RegisterOptions {
    RegisterOptions {
        org: "acme".into(),
        name: Some("acme-gitops-guard".into()),
        webhook_url: Some("https://guard.acme.test/webhook".into()),
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        out: out.to_owned(),
        github_url: "https://github.acme.test".into(),
        api_url: format!("http://{api}"),
    }
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn manifest_flow_end_to_end() {
    let (api, fake) = fake_github().await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("creds");
    let reg = Registration::start(options(api, &out)).await.unwrap();
    let base = reg.local_url();

    // The page posts the filled-in manifest to the org's new-App form.
    let (status, html) = http_get(&base).await;
    assert_eq!(status, 200);
    let action = unescape(attr(&html, "action"));
    let state = action
        .strip_prefix("https://github.acme.test/organizations/acme/settings/apps/new?state=")
        .unwrap_or_else(|| panic!("unexpected form action {action}"))
        .to_owned();
    assert_eq!(state.len(), 64);
    assert!(html.contains("method=\"post\""));
    let manifest: Value = serde_json::from_str(&unescape(attr(&html, "value"))).unwrap();
    let port = base.trim_end_matches('/').rsplit(':').next().unwrap();
    assert_eq!(
        manifest["redirect_url"],
        format!("http://127.0.0.1:{port}/callback")
    );
    assert_eq!(manifest["name"], "acme-gitops-guard");
    assert_eq!(
        manifest["hook_attributes"]["url"],
        "https://guard.acme.test/webhook"
    );
    assert_eq!(manifest["hook_attributes"]["active"], true);
    let shipped: Value = serde_json::from_str(MANIFEST_JSON).unwrap();
    assert_eq!(
        manifest["default_permissions"],
        shipped["default_permissions"]
    );
    assert_eq!(manifest["default_events"], shipped["default_events"]);

    let waiting = tokio::spawn(reg.wait());

    // A forged callback (wrong or missing state) is refused and never
    // reaches GitHub.
    let wrong = format!(
        "{}{}",
        &state[..63],
        if state.ends_with('0') { '1' } else { '0' }
    );
    let (s, _) = http_get(&format!("{base}callback?code={GOOD_CODE}&state={wrong}")).await;
    assert_eq!(s, 400);
    let (s, _) = http_get(&format!("{base}callback?code={GOOD_CODE}")).await;
    assert_eq!(s, 400);
    let (s, _) = http_get(&format!("{base}callback?code=..%2F..%2Fuser&state={state}")).await;
    assert_eq!(s, 400);
    assert_eq!(fake.calls.load(Ordering::SeqCst), 0);

    // GitHub's redirect.
    let (s, body) = http_get(&format!("{base}callback?code={GOOD_CODE}&state={state}")).await;
    assert_eq!(s, 200, "{body}");
    assert!(body.contains("octoapp"), "{body}");
    let done = waiting.await.unwrap().unwrap();
    assert_eq!(fake.calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        fake.authorized_calls.load(Ordering::SeqCst),
        0,
        "the code is the only credential"
    );
    let fx = fixture();
    assert_eq!(done.app_id, 1);
    assert_eq!(done.slug, "octoapp");
    assert!(done.webhook_active);
    assert_eq!(
        std::fs::read_to_string(out.join(APP_ID_FILE)).unwrap(),
        "1\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join(PRIVATE_KEY_FILE)).unwrap(),
        fx["pem"].as_str().unwrap()
    );
    assert_eq!(
        std::fs::read_to_string(out.join(WEBHOOK_SECRET_FILE)).unwrap(),
        fx["webhook_secret"].as_str().unwrap()
    );
    #[cfg(unix)]
    {
        for f in [APP_ID_FILE, PRIVATE_KEY_FILE, WEBHOOK_SECRET_FILE] {
            assert_eq!(mode(&out.join(f)), 0o600, "{f}");
        }
        assert_eq!(mode(&out), 0o700);
    }
    // The client secret (OAuth, unused) is not written anywhere.
    for entry in std::fs::read_dir(&out).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(!text.contains(fx["client_secret"].as_str().unwrap()));
    }

    // A second registration into the same directory refuses up front,
    // before any browser is sent to GitHub.
    match Registration::start(options(api, &out)).await {
        Err(RegisterError::Exists(p)) => assert_eq!(p, out.join(APP_ID_FILE)),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("existing credentials would be overwritten"),
    }
    assert_eq!(
        std::fs::read_to_string(out.join(APP_ID_FILE)).unwrap(),
        "1\n"
    );
}

#[tokio::test]
async fn expired_code_fails_cleanly_and_writes_nothing() {
    let (api, fake) = fake_github().await;
    let tmp = tempfile::tempdir().unwrap();
    let mut opts = options(api, tmp.path());
    opts.webhook_url = None;
    let reg = Registration::start(opts).await.unwrap();
    assert_eq!(reg.manifest()["hook_attributes"]["active"], false);
    let base = reg.local_url();
    let (_, html) = http_get(&base).await;
    let action = unescape(attr(&html, "action"));
    let state = action.rsplit_once("state=").unwrap().1.to_owned();
    let waiting = tokio::spawn(reg.wait());
    let (s, body) = http_get(&format!("{base}callback?code=expired123&state={state}")).await;
    assert_eq!(s, 502, "{body}");
    assert!(body.contains("expired"), "{body}");
    match waiting.await.unwrap() {
        Err(RegisterError::Exchange(msg)) => assert!(msg.contains("single-use"), "{msg}"),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(fake.calls.load(Ordering::SeqCst), 1);
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn bad_arguments_are_refused_before_binding() {
    let tmp = tempfile::tempdir().unwrap();
    let api: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let mut o = options(api, tmp.path());
    o.org = "acme/../../evil".into();
    assert!(matches!(
        Registration::start(o).await,
        Err(RegisterError::Usage(_))
    ));
    let mut o = options(api, tmp.path());
    o.webhook_url = Some("javascript:alert(1)".into());
    assert!(matches!(
        Registration::start(o).await,
        Err(RegisterError::Usage(_))
    ));
}

#[tokio::test]
async fn listening_on_every_interface_sends_the_browser_to_loopback() {
    // `docker run -p 127.0.0.1:3000:3000 IMAGE register --listen 0.0.0.0:3000`:
    // inside the container the page must listen on every interface (Docker
    // forwards to the container's address, not its loopback), while the
    // browser on the host opens 127.0.0.1 — and GitHub must redirect there.
    let (api, fake) = fake_github().await;
    let tmp = tempfile::tempdir().unwrap();
    let mut o = options(api, tmp.path());
    o.listen = "0.0.0.0:0".parse().unwrap();
    let reg = Registration::start(o).await.unwrap();
    let bound = reg.local_addr();
    assert!(bound.ip().is_unspecified(), "{bound}");
    let port = bound.port();
    assert_eq!(reg.local_url(), format!("http://127.0.0.1:{port}/"));
    assert_eq!(
        reg.manifest()["redirect_url"],
        format!("http://127.0.0.1:{port}/callback")
    );
    // The browser's part, on the address it was sent to.
    let (status, html) = http_get(&reg.local_url()).await;
    assert_eq!(status, 200);
    let state = unescape(attr(&html, "action"))
        .rsplit_once("state=")
        .unwrap()
        .1
        .to_owned();
    let waiting = tokio::spawn(reg.wait());
    let (s, body) = http_get(&format!(
        "http://127.0.0.1:{port}/callback?code={GOOD_CODE}&state={state}"
    ))
    .await;
    assert_eq!(s, 200, "{body}");
    waiting.await.unwrap().unwrap();
    assert_eq!(fake.calls.load(Ordering::SeqCst), 1);

    // The default stays loopback-only.
    let reg = Registration::start(options(api, &tmp.path().join("other")))
        .await
        .unwrap();
    assert!(reg.local_addr().ip().is_loopback());
}

#[test]
fn register_cli_takes_listen_and_keeps_port_as_a_shorthand() {
    const BIN: &str = env!("CARGO_BIN_EXE_gitops-guard");
    let help = std::process::Command::new(BIN)
        .args(["register", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    assert!(help.contains("--listen <ADDR>"), "{help}");
    assert!(help.contains("[default: 127.0.0.1:3000]"), "{help}");
    assert!(help.contains("--port <PORT>"), "{help}");
    // Both at once is a usage error (exit 2), before anything is bound.
    let out = std::process::Command::new(BIN)
        .args([
            "register",
            "--org",
            "acme",
            "--listen",
            "0.0.0.0:3000",
            "--port",
            "3001",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot be used with"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A malformed address is refused by the parser.
    let out = std::process::Command::new(BIN)
        .args(["register", "--org", "acme", "--listen", "3000"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
