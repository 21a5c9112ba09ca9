//! `gitops-guard serve`: wires settings, GitHub auth, the journal, the
//! worker pool and the routes, and shuts down gracefully (stop accepting,
//! drain the queue within a deadline).
//!
//! Readiness: `/readyz` answers 503 from startup until GitHub has accepted
//! the App's JWT (`GET /app`, retried while GitHub is unreachable) — the
//! journal is opened before the port is bound, so by then it is usable.
//! GitHub *rejecting* the credentials (wrong key for the App id, a revoked
//! key, a skewed clock) or a `GITHUB_API_URL` without `/app` is fatal: the
//! process exits with the reason instead of idling unready.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use std::future::IntoFuture as _;

use anyhow::Context as _;
use axum::Router;

use crate::cli::settings::Settings;
use crate::github::Installations;
use crate::github::auth::AppAuth;
use crate::github::client::{AppInstallations, Credentials, RestClient};
use crate::github::error::GitHubError;
use crate::github::hook_deliveries::GitHubHookDeliveries;
use crate::pipeline::{Dispatcher, PipelineContext};
use crate::queue::JournalSettings;
use crate::queue::journal::{Journal, MemoryJournal};
use crate::queue::pool::{Handler, Workers};
use crate::queue::redeliver::{ReconcileConfig, Reconciler};
use crate::queue::worker::{DurableQueue, QueueConfig};
use crate::webhook::routes::{AppState, router};

/// A built, running App (router + workers), for `serve` and tests.
pub struct App {
    /// The HTTP routes.
    pub router: Router,
    /// The journal: in-memory, or the durable queue.
    pub journal: Arc<dyn Journal>,
    /// The durable queue, when the journal is durable.
    pub durable: Option<Arc<DurableQueue>>,
    /// Readiness flag (`/readyz`).
    pub ready: Arc<AtomicBool>,
    /// The App's page (`GET /app` `html_url`), set once GitHub accepted
    /// the credentials; alerts name it (see [`crate::pipeline::alerts::runbook_reference`]).
    pub app_url: crate::pipeline::alerts::AppUrl,
    workers: Workers,
    deadline: std::time::Duration,
    background: Vec<tokio::task::JoinHandle<()>>,
}

impl App {
    /// Builds the App from settings, acting on GitHub through the App's
    /// credentials. Fails fast on a bad key.
    pub fn build(settings: &Settings) -> anyhow::Result<Self> {
        install_crypto_provider();
        let auth = AppAuth::new(
            &settings.app_id,
            &settings.private_key_pem,
            &settings.api_url,
            settings.retry.clone(),
        )
        .context("GitHub App credentials")?;
        let installations: Arc<dyn Installations> = Arc::new(AppInstallations::new(auth));
        let app_url = crate::pipeline::alerts::AppUrl::default();
        let handler: Arc<dyn Handler> = Arc::new(dispatcher(installations, &app_url));
        let mut app = Self::with_handler(settings, handler);
        app.app_url = app_url;
        Ok(app)
    }

    /// Builds the App with the durable journal of `journal` (opening the
    /// store and applying migrations), its maintenance task and — unless
    /// turned off — the redelivery reconciler.
    pub async fn build_durable(
        settings: &Settings,
        journal: &JournalSettings,
    ) -> anyhow::Result<Self> {
        install_crypto_provider();
        let Some(target) = &journal.target else {
            return Self::build(settings);
        };
        let store = crate::queue::open(target, journal.policy.clone())
            .await
            .with_context(|| format!("opening the delivery journal ({})", target.redacted()))?;
        tracing::info!(journal = %target.redacted(), "delivery journal open");
        let auth = AppAuth::new(
            &settings.app_id,
            &settings.private_key_pem,
            &settings.api_url,
            settings.retry.clone(),
        )
        .context("GitHub App credentials")?;
        let queue = DurableQueue::new(
            store.clone(),
            QueueConfig {
                lease: journal.lease,
                max_pending: settings.queue_capacity,
                ..QueueConfig::default()
            },
        );
        queue
            .reclaim_previous_boots()
            .await
            .context("taking over the claims of this instance's earlier boot")?;
        let mut background =
            vec![queue.spawn_maintenance(journal.retention, std::time::Duration::from_secs(30))];
        if let Some(every) = journal.redeliver_every {
            let api = Arc::new(GitHubHookDeliveries::new(auth.clone()));
            let rec = Reconciler::new(store, api, ReconcileConfig::default());
            background.push(Arc::new(rec).spawn(every));
        }
        let installations: Arc<dyn Installations> = Arc::new(AppInstallations::new(auth));
        let app_url = crate::pipeline::alerts::AppUrl::default();
        let handler: Arc<dyn Handler> = Arc::new(dispatcher(installations, &app_url));
        let mut app = Self::with_journal(settings, handler, queue.clone());
        app.app_url = app_url;
        app.durable = Some(queue);
        app.background = background;
        Ok(app)
    }

    /// Builds the App around any handler (tests inject slow or failing ones).
    pub fn with_handler(settings: &Settings, handler: Arc<dyn Handler>) -> Self {
        let journal = MemoryJournal::new(settings.queue_capacity, settings.dedupe_ttl);
        Self::with_journal(settings, handler, journal)
    }

    /// Builds the App around any handler and journal.
    pub fn with_journal(
        settings: &Settings,
        handler: Arc<dyn Handler>,
        journal: Arc<dyn Journal>,
    ) -> Self {
        let metrics = crate::cli::metrics::install();
        let ready = Arc::new(AtomicBool::new(true));
        let state = AppState {
            secrets: Arc::new(settings.webhook_secrets.clone()),
            journal: journal.clone(),
            metrics,
            ready: ready.clone(),
        };
        let workers = Workers::spawn(settings.workers, journal.clone(), handler);
        Self {
            router: router(state),
            journal,
            durable: None,
            ready,
            app_url: crate::pipeline::alerts::AppUrl::default(),
            workers,
            deadline: settings.shutdown_deadline,
            background: Vec::new(),
        }
    }

    /// Records what `GET /app` said about the App (its page, for alerts).
    /// The first answer wins: it cannot change while the process runs.
    pub fn remember_identity(&self, identity: &AppIdentity) {
        if let Some(url) = identity
            .html_url
            .as_deref()
            .filter(|u| u.starts_with("http"))
        {
            let _ = self.app_url.set(url.to_owned());
        }
    }

    /// Stops taking work and drains the queue within the deadline.
    pub async fn shutdown(self) -> bool {
        self.ready.store(false, Ordering::Relaxed);
        for task in &self.background {
            task.abort();
        }
        let drained = self
            .workers
            .drain(self.journal.as_ref(), self.deadline)
            .await;
        if !drained {
            tracing::warn!(
                remaining = self.journal.depth(),
                "shutdown deadline passed with deliveries unfinished"
            );
        }
        drained
    }
}

/// Installs aws-lc-rs as rustls's process-wide crypto provider (the only
/// backend in the build); idempotent.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// Initialises tracing: JSON lines when stderr is not a terminal (log
/// collectors), human-readable otherwise; `RUST_LOG` filters (default
/// `info`). Does nothing if a subscriber is already set.
pub fn init_tracing() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if std::io::stderr().is_terminal() {
        builder.try_init()
    } else {
        builder.json().with_current_span(true).try_init()
    };
}

/// How long in-flight HTTP requests may take to finish after a shutdown
/// signal (they only verify and journal); the queue drain follows with
/// its own deadline, so `terminationGracePeriodSeconds` must exceed
/// `GITOPS_GUARD_SHUTDOWN_SECONDS` plus this.
pub const HTTP_DRAIN: std::time::Duration = std::time::Duration::from_secs(5);
/// Longest pause between two startup credential checks.
pub const STARTUP_RETRY_MAX: std::time::Duration = std::time::Duration::from_secs(30);

/// Why the App cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// GitHub refused the App's JWT.
    #[error(
        "GitHub rejected the App credentials ({0}). Check that GITHUB_APP_ID is the id of the App \
         whose private key is configured, that the key was not revoked, and that the clock is in sync"
    )]
    Credentials(String),
    /// The API root does not serve `/app`.
    #[error(
        "GITHUB_API_URL {url} does not serve GET /app ({reason}); GitHub Enterprise Server needs \
         https://HOST/api/v3"
    )]
    ApiUrl {
        /// The configured API root.
        url: String,
        /// GitHub's answer.
        reason: String,
    },
}

/// The App as `GET /app` describes it.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct AppIdentity {
    /// Numeric App id.
    pub id: u64,
    /// URL slug.
    #[serde(default)]
    pub slug: String,
    /// The App's page on GitHub (`https://github.com/apps/{slug}`).
    #[serde(default)]
    pub html_url: Option<String>,
}

/// The pipelines' dispatcher, reading alert settings from the process
/// environment plus the App's page once known.
fn dispatcher(
    installations: Arc<dyn Installations>,
    app_url: &crate::pipeline::alerts::AppUrl,
) -> Dispatcher {
    Dispatcher::new(installations, Arc::new(PipelineContext::default())).with_env(
        crate::pipeline::alerts::with_app_url(
            crate::pipeline::alerts::process_env(),
            app_url.clone(),
        ),
    )
}

/// One `GET /app` with the App's JWT.
pub async fn authenticated_app(auth: &std::sync::Arc<AppAuth>) -> Result<AppIdentity, GitHubError> {
    RestClient::new(Credentials::App(auth.clone()), auth.policy().clone())
        .json::<AppIdentity, ()>(http::Method::GET, "/app", None, "apps.get_authenticated")
        .await
}

/// Checks the credentials until GitHub answers, then marks the App ready.
/// Transient failures (network, 5xx, rate limits) are retried with
/// backoff up to `max_pause`; a rejection is returned at once.
pub async fn verify_until_ready(
    auth: std::sync::Arc<AppAuth>,
    ready: Arc<AtomicBool>,
    max_pause: std::time::Duration,
) -> Result<AppIdentity, StartupError> {
    let mut pause = std::time::Duration::from_millis(250).min(max_pause);
    loop {
        match authenticated_app(&auth).await {
            Ok(app) => {
                ready.store(true, Ordering::Relaxed);
                tracing::info!(app_id = app.id, slug = %app.slug, "GitHub accepted the App credentials; ready");
                return Ok(app);
            }
            Err(GitHubError::Auth(msg)) => return Err(StartupError::Credentials(msg)),
            Err(GitHubError::NotFound(msg)) => {
                return Err(StartupError::ApiUrl {
                    url: auth.api_url().to_owned(),
                    reason: msg,
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in_ms = pause.as_millis() as u64, "cannot reach GitHub to verify the App credentials; not ready");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(max_pause);
            }
        }
    }
}

/// Runs the App until SIGTERM/SIGINT, then drains: readiness drops, the
/// listener stops accepting, in-flight requests get [`HTTP_DRAIN`], then
/// the workers finish the queue within `settings.shutdown_deadline`.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    init_tracing();
    let journal = JournalSettings::from_env().context("journal settings")?;
    let app = App::build_durable(&settings, &journal).await?;
    // Not ready until GitHub accepts the credentials.
    app.ready.store(false, Ordering::Relaxed);
    let auth = AppAuth::new(
        &settings.app_id,
        &settings.private_key_pem,
        &settings.api_url,
        settings.retry.clone(),
    )
    .context("GitHub App credentials")?;
    let listener = tokio::net::TcpListener::bind(settings.listen_addr)
        .await
        .with_context(|| format!("binding {}", settings.listen_addr))?;
    tracing::info!(
        addr = %settings.listen_addr,
        api = %settings.api_url,
        workers = settings.workers,
        queue = settings.queue_capacity,
        "gitops-guard serving"
    );
    let ready = app.ready.clone();
    let mut check = tokio::spawn(verify_until_ready(auth, ready.clone(), STARTUP_RETRY_MAX));
    let stop = Arc::new(tokio::sync::Notify::new());
    let stop_rx = stop.clone();
    let mut server = tokio::spawn(
        axum::serve(listener, app.router.clone())
            .with_graceful_shutdown(async move { stop_rx.notified().await })
            .into_future(),
    );
    let mut fatal = None;
    let mut checking = true;
    let signal = shutdown_signal();
    tokio::pin!(signal);
    loop {
        tokio::select! {
            _ = &mut signal => {
                tracing::info!("shutdown requested; no new deliveries accepted");
                break;
            }
            r = &mut check, if checking => {
                checking = false;
                match r {
                    Ok(Ok(identity)) => {
                        app.remember_identity(&identity);
                        continue;
                    }
                    Ok(Err(e)) => {
                        tracing::error!(error = %e, "startup failed");
                        fatal = Some(anyhow::Error::new(e));
                    }
                    Err(join) => fatal = Some(anyhow::anyhow!("credential check panicked: {join}")),
                }
                break;
            }
            r = &mut server => {
                check.abort();
                app.shutdown().await;
                return match r {
                    Ok(r) => r.context("HTTP server"),
                    Err(join) => Err(anyhow::anyhow!("HTTP server task: {join}")),
                };
            }
        }
    }
    check.abort();
    ready.store(false, Ordering::Relaxed);
    stop.notify_one();
    if tokio::time::timeout(HTTP_DRAIN, &mut server).await.is_err() {
        tracing::warn!("HTTP connections still open after the drain period; closing them");
        server.abort();
    }
    app.shutdown().await;
    match fatal {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
