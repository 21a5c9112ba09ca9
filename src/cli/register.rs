//! `gitops-guard register`: creates the GitHub App through GitHub's
//! [manifest flow](https://docs.github.com/en/apps/sharing-github-apps/registering-a-github-app-from-a-manifest).
//!
//! 1. We serve a page on `--listen` (default `127.0.0.1:3000`) that POSTs
//!    the manifest (the shipped `app-manifest/app.json` with the name,
//!    homepage, webhook URL and our `redirect_url` filled in) to
//!    `{GITHUB_URL}/organizations/ORG/settings/apps/new?state=RANDOM`.
//! 2. The org owner confirms on GitHub, which redirects the browser to
//!    `/callback?code=…&state=…`. The state is compared in constant time:
//!    a page from anywhere else cannot make us exchange a code it chose.
//! 3. We exchange the code (single use, valid one hour) at
//!    `POST {GITHUB_API_URL}/app-manifests/{code}/conversions` — no
//!    authentication, the code is the credential — and write the app id,
//!    the private key and the webhook secret to `OUT/` with mode 0600.
//!
//! Files are created with `create_new`: an existing credential is never
//! overwritten, and all three names are checked before the browser is
//! sent to GitHub, so a refusal costs nothing. The OAuth client secret is
//! not written: the App does not use OAuth (it can be generated later).

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use secrecy::ExposeSecret;
use serde::Deserialize;
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::github::app_manifest::{Conversion, convert_manifest};

/// The shipped manifest (`app-manifest/app.json`), with least permissions.
pub const MANIFEST_JSON: &str = include_str!("../../app-manifest/app.json");
/// File holding the numeric App id (`GITHUB_APP_ID`).
pub const APP_ID_FILE: &str = "app-id";
/// File holding the App's private key (`GITHUB_APP_PRIVATE_KEY_PATH`).
pub const PRIVATE_KEY_FILE: &str = "private-key.pem";
/// File holding the webhook secret (`GITHUB_WEBHOOK_SECRET`).
pub const WEBHOOK_SECRET_FILE: &str = "webhook-secret";
/// GitHub lets the whole flow take at most one hour.
pub const FLOW_TIMEOUT: Duration = Duration::from_secs(3600);
/// Longest conversion code we accept (GitHub's are ~20 hex characters).
const MAX_CODE_LEN: usize = 256;
/// GitHub App names are at most 34 characters.
const MAX_APP_NAME: usize = 34;
/// Longest organisation login GitHub allows.
const MAX_ORG_LEN: usize = 39;

/// Why registration failed.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// A bad argument (org, name, URL, output directory).
    #[error("{0}")]
    Usage(String),
    /// An output file already exists.
    #[error("{0} already exists; refusing to overwrite a credential (move it away or use --out)")]
    Exists(PathBuf),
    /// Local I/O (binding the port, writing files).
    #[error("{context}: {source}")]
    Io {
        /// What we were doing.
        context: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// GitHub refused or failed the conversion.
    #[error("exchanging the code with GitHub failed: {0}")]
    Exchange(String),
    /// Nobody completed the flow in time.
    #[error("no callback from GitHub within {} minutes", FLOW_TIMEOUT.as_secs() / 60)]
    Timeout,
}

fn io_err(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> RegisterError {
    let context = context.into();
    move |source| RegisterError::Io { context, source }
}

/// What `register` needs.
#[derive(Clone, Debug)]
pub struct RegisterOptions {
    /// Organisation login the App is registered on.
    pub org: String,
    /// App name (GitHub-wide unique); default: the manifest's.
    pub name: Option<String>,
    /// Public webhook URL (`https://…/webhook`). Without it the App is
    /// created with its webhook inactive, to be set later.
    pub webhook_url: Option<String>,
    /// Address the redirect page listens on (port 0: any free port).
    /// Loopback by default; `0.0.0.0:PORT` inside a container whose port
    /// is published on the host's loopback (`docker run -p
    /// 127.0.0.1:PORT:PORT`). For an unspecified address the browser is
    /// sent to `http://127.0.0.1:PORT/`, so the published host port must
    /// equal PORT.
    pub listen: SocketAddr,
    /// Directory the credentials are written to.
    pub out: PathBuf,
    /// GitHub web root (`https://github.com`, or a GHES host).
    pub github_url: String,
    /// REST API root (`https://api.github.com`, or `https://HOST/api/v3`).
    pub api_url: String,
}

/// The created App, as the conversion answered.
#[derive(Clone, Debug)]
pub struct Registered {
    /// Numeric App id.
    pub app_id: u64,
    /// URL slug (`https://github.com/apps/{slug}`).
    pub slug: String,
    /// The App's public page.
    pub html_url: String,
    /// Files written, in order (app id, key, webhook secret).
    pub files: Vec<PathBuf>,
    /// Whether the webhook was created active (a URL was given).
    pub webhook_active: bool,
}

type Outcome = Result<Registered, String>;
/// A verified code, and where to report the outcome to the browser.
type CodeMsg = (String, oneshot::Sender<Outcome>);

#[derive(Clone)]
struct PageState {
    html: Arc<String>,
    state: Arc<String>,
    codes: mpsc::Sender<CodeMsg>,
    /// Set once a valid callback is being processed: later ones are refused.
    taken: Arc<Mutex<bool>>,
}

/// A registration in progress: the local server is listening.
pub struct Registration {
    addr: SocketAddr,
    opts: RegisterOptions,
    manifest: serde_json::Value,
    codes: mpsc::Receiver<CodeMsg>,
    server: tokio::task::JoinHandle<()>,
    stop: Option<oneshot::Sender<()>>,
}

impl Registration {
    /// Validates the options, checks no output file exists, binds
    /// `listen` and starts serving the page.
    pub async fn start(opts: RegisterOptions) -> Result<Self, RegisterError> {
        validate_org(&opts.org)?;
        if let Some(name) = &opts.name {
            validate_name(name)?;
        }
        if let Some(url) = &opts.webhook_url {
            validate_url(url, "--webhook-url")?;
        }
        let github_url = validate_url(&opts.github_url, "GITHUB_URL")?;
        validate_url(&opts.api_url, "GITHUB_API_URL")?;
        prepare_out_dir(&opts.out)?;
        let listener = tokio::net::TcpListener::bind(opts.listen)
            .await
            .map_err(io_err(format!("binding {} (--listen)", opts.listen)))?;
        let addr = listener
            .local_addr()
            .map_err(io_err("reading the local address"))?;
        let manifest = build_manifest(&opts, &github_url, browser_addr(addr))?;
        let state = random_state();
        let action = format!(
            "{github_url}/organizations/{}/settings/apps/new?state={state}",
            opts.org
        );
        let html = render_page(&action, &manifest.to_string());
        let (tx, rx) = mpsc::channel(1);
        let page = PageState {
            html: Arc::new(html),
            state: Arc::new(state),
            codes: tx,
            taken: Arc::new(Mutex::new(false)),
        };
        let router = Router::new()
            .route("/", get(serve_page))
            .route("/callback", get(callback))
            .with_state(page);
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stop_rx.await;
                })
                .await;
        });
        Ok(Self {
            addr,
            opts,
            manifest,
            codes: rx,
            server,
            stop: Some(stop_tx),
        })
    }

    /// The page to open in a browser: `http://127.0.0.1:PORT/` when
    /// listening on every interface (a container: the browser runs on the
    /// host), else the address itself.
    pub fn local_url(&self) -> String {
        format!("http://{}/", browser_addr(self.addr))
    }

    /// The address actually bound (the port chosen for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The manifest that will be posted.
    pub fn manifest(&self) -> &serde_json::Value {
        &self.manifest
    }

    /// Waits for GitHub's redirect, exchanges the code and writes the
    /// credentials. A failed exchange is reported to the browser and ends
    /// the registration (codes are single-use).
    pub async fn wait(mut self) -> Result<Registered, RegisterError> {
        let result = match tokio::time::timeout(FLOW_TIMEOUT, self.codes.recv()).await {
            Err(_) | Ok(None) => Err(RegisterError::Timeout),
            Ok(Some((code, reply))) => {
                let r = exchange_and_write(&self.opts, &self.manifest, &code).await;
                let _ = reply.send(match &r {
                    Ok(reg) => Ok(reg.clone()),
                    Err(e) => Err(e.to_string()),
                });
                r
            }
        };
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Let the browser's response go out before the process exits.
        let _ = tokio::time::timeout(Duration::from_secs(5), &mut self.server).await;
        result
    }
}

async fn serve_page(State(st): State<PageState>) -> Response {
    (
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        Html(st.html.as_str().to_owned()),
    )
        .into_response()
}

#[derive(Deserialize)]
struct CallbackQuery {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    state: Option<String>,
}

async fn callback(State(st): State<PageState>, Query(q): Query<CallbackQuery>) -> Response {
    let state_ok = q
        .state
        .as_deref()
        .is_some_and(|s| constant_time_eq(s.as_bytes(), st.state.as_bytes()));
    if !state_ok {
        return (
            StatusCode::BAD_REQUEST,
            "state mismatch: this callback did not come from the registration started here",
        )
            .into_response();
    }
    let Some(code) = q.code.filter(|c| valid_code(c)) else {
        return (StatusCode::BAD_REQUEST, "missing or malformed code").into_response();
    };
    {
        let mut taken = st.taken.lock().await;
        if *taken {
            return (StatusCode::GONE, "this registration was already completed").into_response();
        }
        *taken = true;
    }
    let (tx, rx) = oneshot::channel();
    if st.codes.send((code, tx)).await.is_err() {
        return (StatusCode::GONE, "registration is no longer running").into_response();
    }
    match rx.await {
        Ok(Ok(reg)) => Html(format!(
            "<!doctype html><meta charset=utf-8><title>gitops-guard registered</title>\
             <h1>GitHub App {} created</h1><p>App id {}. The credentials were written on the \
             machine running <code>gitops-guard register</code>; return to the terminal for \
             the next steps, then <a href=\"{}/installations/new\">install the App</a>.</p>",
            html_escape(&reg.slug),
            reg.app_id,
            html_escape(&reg.html_url)
        ))
        .into_response(),
        Ok(Err(msg)) => (
            StatusCode::BAD_GATEWAY,
            format!("registration failed: {msg}"),
        )
            .into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "registration aborted").into_response(),
    }
}

async fn exchange_and_write(
    opts: &RegisterOptions,
    manifest: &serde_json::Value,
    code: &str,
) -> Result<Registered, RegisterError> {
    let conv = exchange(&opts.api_url, code).await?;
    jsonwebtoken::EncodingKey::from_rsa_pem(conv.pem.expose_secret().as_bytes()).map_err(|e| {
        RegisterError::Exchange(format!("GitHub returned a private key we cannot use: {e}"))
    })?;
    let mut files = Vec::new();
    let id_path = opts.out.join(APP_ID_FILE);
    write_new_0600(&id_path, format!("{}\n", conv.id).as_bytes())?;
    files.push(id_path);
    let key_path = opts.out.join(PRIVATE_KEY_FILE);
    write_new_0600(&key_path, conv.pem.expose_secret().as_bytes())?;
    files.push(key_path);
    match conv
        .webhook_secret
        .as_ref()
        .filter(|s| !s.expose_secret().is_empty())
    {
        Some(secret) => {
            let p = opts.out.join(WEBHOOK_SECRET_FILE);
            write_new_0600(&p, secret.expose_secret().as_bytes())?;
            files.push(p);
        }
        None => {
            return Err(RegisterError::Exchange(format!(
                "GitHub returned no webhook secret. The App id and key were written to {}; \
                 set a webhook secret in the App's settings and save it as {}",
                opts.out.display(),
                opts.out.join(WEBHOOK_SECRET_FILE).display()
            )));
        }
    }
    let webhook_active = manifest
        .pointer("/hook_attributes/active")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    Ok(Registered {
        app_id: conv.id,
        slug: conv.slug,
        html_url: conv.html_url,
        files,
        webhook_active,
    })
}

/// Exchanges the code (once: see [`convert_manifest`]), with our wording
/// for an unknown or expired code.
async fn exchange(api_url: &str, code: &str) -> Result<Conversion, RegisterError> {
    crate::cli::server::install_crypto_provider();
    convert_manifest(api_url, code).await.map_err(|e| {
        if e.is_not_found() {
            RegisterError::Exchange(
                "the code is unknown or expired (codes are single-use and valid for one hour); \
                 run register again"
                    .into(),
            )
        } else {
            RegisterError::Exchange(e.to_string())
        }
    })
}

/// Where the browser reaches a page bound to `addr`: the address itself,
/// or loopback for an unspecified address (`0.0.0.0`, `::`), which a
/// browser cannot open.
pub fn browser_addr(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], addr.port()))
    } else {
        addr
    }
}

/// The shipped manifest with the per-installation fields filled in;
/// GitHub redirects the browser to `http://{page}/callback`.
pub fn build_manifest(
    opts: &RegisterOptions,
    github_url: &str,
    page: SocketAddr,
) -> Result<serde_json::Value, RegisterError> {
    let mut m: serde_json::Value = serde_json::from_str(MANIFEST_JSON)
        .map_err(|e| RegisterError::Usage(format!("embedded app manifest is invalid: {e}")))?;
    let obj = m
        .as_object_mut()
        .ok_or_else(|| RegisterError::Usage("embedded app manifest is not an object".into()))?;
    if let Some(name) = &opts.name {
        obj.insert("name".into(), name.clone().into());
    }
    // `url` (the homepage) is required; the org's page is always valid.
    obj.insert("url".into(), format!("{github_url}/{}", opts.org).into());
    let hook = match &opts.webhook_url {
        Some(url) => serde_json::json!({ "url": url, "active": true }),
        // GitHub requires a hook URL; keep the placeholder but inactive so
        // GitHub does not send deliveries into the void.
        None => {
            let placeholder = obj
                .get("hook_attributes")
                .and_then(|h| h.get("url"))
                .cloned()
                .unwrap_or_else(|| "https://gitops-guard.example.com/webhook".into());
            serde_json::json!({ "url": placeholder, "active": false })
        }
    };
    obj.insert("hook_attributes".into(), hook);
    obj.insert(
        "redirect_url".into(),
        format!("http://{page}/callback").into(),
    );
    Ok(m)
}

/// The page: a form that posts the manifest, submitted on load (with a
/// button for browsers without JavaScript).
fn render_page(action: &str, manifest: &str) -> String {
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\">\
         <title>Register gitops-guard</title></head>\
         <body onload=\"document.getElementById('f').submit()\">\
         <form id=\"f\" method=\"post\" action=\"{}\">\
         <input type=\"hidden\" name=\"manifest\" value=\"{}\">\
         <p>Sending the gitops-guard App manifest to GitHub…</p>\
         <button type=\"submit\">Continue to GitHub</button></form></body></html>\n",
        html_escape(action),
        html_escape(manifest)
    )
}

/// Escapes text for an HTML attribute or element.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// 32 random bytes, hex: unguessable by another page.
fn random_state() -> String {
    let mut buf = [0u8; 32];
    crate::cli::server::install_crypto_provider();
    rustls::crypto::aws_lc_rs::default_provider()
        .secure_random
        .fill(&mut buf)
        .expect("the system random source is available");
    hex::encode(buf)
}

/// Compares without an early exit on the first differing byte.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Codes go into a URL path: only URL-safe characters, bounded length.
fn valid_code(c: &str) -> bool {
    !c.is_empty()
        && c.len() <= MAX_CODE_LEN
        && c.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// GitHub logins: alphanumerics and single inner hyphens, ≤ 39 characters.
fn validate_org(org: &str) -> Result<(), RegisterError> {
    let ok = !org.is_empty()
        && org.len() <= MAX_ORG_LEN
        && org.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !org.starts_with('-')
        && !org.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(RegisterError::Usage(format!(
            "--org {org:?} is not a GitHub organisation login"
        )))
    }
}

fn validate_name(name: &str) -> Result<(), RegisterError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > MAX_APP_NAME {
        return Err(RegisterError::Usage(format!(
            "--name must be 1 to {MAX_APP_NAME} characters (GitHub's limit)"
        )));
    }
    Ok(())
}

/// An absolute http(s) URL without query or fragment; returns it without
/// a trailing `/`.
fn validate_url(url: &str, what: &str) -> Result<String, RegisterError> {
    let trimmed = url.trim().trim_end_matches('/');
    let parsed: http::Uri = trimmed
        .parse()
        .map_err(|e| RegisterError::Usage(format!("{what}: {e}")))?;
    match (parsed.scheme_str(), parsed.authority()) {
        (Some("http" | "https"), Some(_)) if parsed.query().is_none() && !trimmed.contains('#') => {
            Ok(trimmed.to_owned())
        }
        _ => Err(RegisterError::Usage(format!(
            "{what} must be an absolute http(s) URL without query, got {url:?}"
        ))),
    }
}

/// Creates `out` (0700 when new) and checks no credential file exists yet.
fn prepare_out_dir(out: &Path) -> Result<(), RegisterError> {
    if !out.exists() {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            b.mode(0o700);
        }
        b.create(out)
            .map_err(io_err(format!("creating {}", out.display())))?;
    } else if !out.is_dir() {
        return Err(RegisterError::Usage(format!(
            "--out {} is not a directory",
            out.display()
        )));
    }
    for f in [APP_ID_FILE, PRIVATE_KEY_FILE, WEBHOOK_SECRET_FILE] {
        let p = out.join(f);
        // symlink_metadata: a dangling symlink also counts as "exists".
        if p.symlink_metadata().is_ok() {
            return Err(RegisterError::Exists(p));
        }
    }
    Ok(())
}

/// Writes a new file readable by its owner only; fails if it exists
/// (`O_EXCL`: also refuses to follow a symlink planted in its place).
fn write_new_0600(path: &Path, bytes: &[u8]) -> Result<(), RegisterError> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            RegisterError::Exists(path.to_owned())
        } else {
            RegisterError::Io {
                context: format!("creating {}", path.display()),
                source: e,
            }
        }
    })?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(io_err(format!("writing {}", path.display())))
}

/// The instructions printed after a successful registration.
pub fn next_steps(reg: &Registered, out: &Path) -> String {
    let p = |f: &str| out.join(f).display().to_string();
    let mut s = format!(
        "Created GitHub App {slug} (id {id}): {url}\n\
         Wrote (mode 0600): {files}\n\n\
         Next steps:\n\
         1. Install it on the organisation: {url}/installations/new\n\
            (choose the deployment repositories, or all repositories).\n\
         2. Store the credentials as secrets, e.g. Kubernetes:\n\
            kubectl -n gitops-guard create secret generic gitops-guard \\\n\
              --from-file=app-id={id_file} \\\n\
              --from-file=private-key.pem={key_file} \\\n\
              --from-file=webhook-secret={secret_file} \\\n\
              --from-literal=database-url=postgres://...\n\
            or Fly.io:\n\
            fly secrets set GITHUB_APP_ID={id} \\\n\
              GITHUB_APP_PRIVATE_KEY=\"$(cat {key_file})\" \\\n\
              GITHUB_WEBHOOK_SECRET=\"$(cat {secret_file})\"\n\
         3. Deploy (README: Installing gitops-guard), then require the check runs\n\
            gitops-guard/manifests, gitops-guard/reviews and gitops-guard/signatures\n\
            in branch protection or a ruleset.\n\
         Keep these files out of Git; delete them once stored as secrets.\n",
        slug = reg.slug,
        id = reg.app_id,
        url = reg.html_url,
        files = reg
            .files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        id_file = p(APP_ID_FILE),
        key_file = p(PRIVATE_KEY_FILE),
        secret_file = p(WEBHOOK_SECRET_FILE),
    );
    if !reg.webhook_active {
        s.push_str(
            "\nThe webhook was created INACTIVE (no --webhook-url): once deployed, set the \
             Webhook URL to https://YOUR-HOST/webhook in the App's settings and tick Active.\n",
        );
    }
    s
}

/// Runs the whole flow for the CLI: start, print the URL, wait, print the
/// next steps.
pub async fn run(opts: RegisterOptions) -> Result<Registered, RegisterError> {
    let out = opts.out.clone();
    let reg = Registration::start(opts).await?;
    let port = reg.local_addr().port();
    if !reg.local_addr().ip().is_loopback() {
        // The page holds the one-time state: whoever loads it can complete
        // the flow with an App of their own choosing.
        eprintln!(
            "warning: listening on {}: anyone who can reach this port can load the \
             registration page. In a container publish it on the host's loopback only \
             (docker run -p 127.0.0.1:{port}:{port} …).",
            reg.local_addr()
        );
    }
    eprintln!(
        "Open {} in a browser signed in as an owner of the organisation\n\
         (on a remote machine: ssh -L {port}:127.0.0.1:{port} HOST, then open it locally).\n\
         Waiting for GitHub (at most {} minutes)…",
        reg.local_url(),
        FLOW_TIMEOUT.as_secs() / 60
    );
    let done = reg.wait().await?;
    println!("{}", next_steps(&done, &out));
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(out: &Path) -> RegisterOptions {
        RegisterOptions {
            org: "acme".into(),
            name: Some("acme-guard".into()),
            webhook_url: Some("https://guard.acme.test/webhook".into()),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            out: out.to_owned(),
            github_url: "https://github.com".into(),
            api_url: "https://api.github.com".into(),
        }
    }

    #[test]
    fn manifest_filled_in() {
        let dir = tempfile::tempdir().unwrap();
        let page = SocketAddr::from(([127, 0, 0, 1], 4321));
        let m = build_manifest(&opts(dir.path()), "https://github.com", page).unwrap();
        assert_eq!(m["name"], "acme-guard");
        assert_eq!(m["url"], "https://github.com/acme");
        assert_eq!(
            m["hook_attributes"]["url"],
            "https://guard.acme.test/webhook"
        );
        assert_eq!(m["hook_attributes"]["active"], true);
        assert_eq!(m["redirect_url"], "http://127.0.0.1:4321/callback");
        // Permissions come from the shipped file untouched.
        let shipped: serde_json::Value = serde_json::from_str(MANIFEST_JSON).unwrap();
        assert_eq!(m["default_permissions"], shipped["default_permissions"]);
        let mut o = opts(dir.path());
        o.webhook_url = None;
        let m = build_manifest(&o, "https://github.com", page).unwrap();
        assert_eq!(m["hook_attributes"]["active"], false);
    }

    #[test]
    fn browser_goes_to_loopback_for_an_unspecified_address() {
        let any: SocketAddr = "0.0.0.0:3000".parse().unwrap();
        assert_eq!(browser_addr(any), "127.0.0.1:3000".parse().unwrap());
        let any6: SocketAddr = "[::]:3000".parse().unwrap();
        assert_eq!(browser_addr(any6), "127.0.0.1:3000".parse().unwrap());
        let lo: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        assert_eq!(browser_addr(lo), lo);
        let lan: SocketAddr = "192.168.1.5:3000".parse().unwrap();
        assert_eq!(browser_addr(lan), lan);
    }

    #[test]
    fn page_escapes_the_manifest() {
        let html = render_page("https://x/?state=a&b", r#"{"n":"<\"'&>"}"#);
        assert!(html.contains(r#"action="https://x/?state=a&amp;b""#));
        assert!(html.contains("{&quot;n&quot;:&quot;&lt;\\&quot;&#39;&amp;&gt;&quot;}"));
        assert!(!html.contains("<\\\""));
    }

    #[test]
    fn inputs_validated() {
        assert!(validate_org("acme-corp").is_ok());
        for bad in ["", "-acme", "acme/evil", "a b", "acme?x=1", &"a".repeat(40)] {
            assert!(validate_org(bad).is_err(), "{bad:?}");
        }
        assert!(validate_name(&"n".repeat(34)).is_ok());
        assert!(validate_name(&"n".repeat(35)).is_err());
        assert!(
            validate_url("https://ghe.example.com/", "X").unwrap() == "https://ghe.example.com"
        );
        assert!(validate_url("javascript:alert(1)", "X").is_err());
        assert!(validate_url("https://x/?q=1", "X").is_err());
        assert!(valid_code("a1b2-C_3"));
        assert!(!valid_code("../../user"));
        assert!(!valid_code(""));
        assert!(!valid_code(&"a".repeat(257)));
    }

    #[test]
    fn state_is_random_and_compared_exactly() {
        let (a, b) = (random_state(), random_state());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(constant_time_eq(a.as_bytes(), a.clone().as_bytes()));
        assert!(!constant_time_eq(a.as_bytes(), b.as_bytes()));
        assert!(!constant_time_eq(a.as_bytes(), &a.as_bytes()[..63]));
    }

    #[cfg(unix)]
    #[test]
    fn files_are_0600_and_never_overwritten() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        write_new_0600(&p, b"x").unwrap();
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(matches!(
            write_new_0600(&p, b"y"),
            Err(RegisterError::Exists(_))
        ));
        assert_eq!(std::fs::read(&p).unwrap(), b"x");
        // A planted symlink is not followed.
        let target = dir.path().join("target");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(write_new_0600(&link, b"z").is_err());
        assert!(!target.exists());
        std::fs::write(dir.path().join(PRIVATE_KEY_FILE), "old").unwrap();
        assert!(matches!(
            prepare_out_dir(dir.path()),
            Err(RegisterError::Exists(_))
        ));
    }
}
