//! `gitops-guard serve`: wires settings, GitHub auth, the journal, the
//! worker pool and the routes, and shuts down gracefully (stop accepting,
//! drain the queue within a deadline).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use axum::Router;

use crate::github::Installations;
use crate::github::auth::AppAuth;
use crate::github::client::AppInstallations;
use crate::pipeline::{Dispatcher, PipelineContext};
use crate::queue::JournalSettings;
use crate::queue::redeliver::{GitHubHookDeliveries, ReconcileConfig, Reconciler};
use crate::queue::worker::{DurableQueue, QueueConfig};
use crate::settings::Settings;
use crate::webhook::journal::{Journal, MemoryJournal};
use crate::webhook::routes::{AppState, router};
use crate::webhook::{Handler, Workers};

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
        let handler: Arc<dyn Handler> = Arc::new(Dispatcher::new(
            installations,
            Arc::new(PipelineContext::default()),
        ));
        Ok(Self::with_handler(settings, handler))
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
                ..QueueConfig::default()
            },
        );
        let mut background =
            vec![queue.spawn_maintenance(journal.retention, std::time::Duration::from_secs(30))];
        if let Some(every) = journal.redeliver_every {
            let api = Arc::new(GitHubHookDeliveries::new(auth.clone()));
            let rec = Reconciler::new(store, api, ReconcileConfig::default());
            background.push(Arc::new(rec).spawn(every));
        }
        let installations: Arc<dyn Installations> = Arc::new(AppInstallations::new(auth));
        let handler: Arc<dyn Handler> = Arc::new(Dispatcher::new(
            installations,
            Arc::new(PipelineContext::default()),
        ));
        let mut app = Self::with_journal(settings, handler, queue.clone());
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
        let metrics = crate::metrics::install();
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
            workers,
            deadline: settings.shutdown_deadline,
            background: Vec::new(),
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

/// Runs the App until SIGTERM/SIGINT, then drains.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    init_tracing();
    let journal = JournalSettings::from_env().context("journal settings")?;
    let app = App::build_durable(&settings, &journal).await?;
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
    axum::serve(listener, app.router.clone())
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            ready.store(false, Ordering::Relaxed);
            tracing::info!("shutdown requested; no new deliveries accepted");
        })
        .await
        .context("HTTP server")?;
    app.shutdown().await;
    Ok(())
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
