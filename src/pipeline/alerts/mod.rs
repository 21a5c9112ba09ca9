//! Delivery of security [`Alert`]s (from `engine::pushes` and
//! `engine::pushes::protection`) to every configured sink:
//!
//! - a GitHub issue labelled `gitops-guard` and `security` ([`issue`]), one
//!   per incident: the engine's stable fingerprint is embedded in the body,
//!   and a repeat comments on the open issue instead of opening another
//!   (Allstar's issue noise, ossf/allstar#205);
//! - a Slack-compatible chat webhook ([`chat`]) when `push.alert.webhook_url_env`
//!   names a set environment variable;
//! - the Prometheus counter `gitops_guard_security_alerts_total{kind}`;
//! - one structured log line per alert.
//!
//! Each external sink is retried with backoff and its outcome logged and
//! counted; the sinks run concurrently and independently, so one failing
//! (or being slow) never blocks another. [`revert`] opens the optional
//! rollback pull request (`push.alert.revert_pr`).

pub mod chat;
pub mod issue;
pub mod revert;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::engine::config::AlertConfig;
use crate::engine::ids::RepoName;
use crate::engine::pushes::{Alert, AlertKind};
use crate::github::{GitHub, GitHubError};

/// Label every alert issue carries (also the dedupe search label).
pub const LABEL: &str = "gitops-guard";
/// Second label on alert issues.
pub const SECURITY_LABEL: &str = "security";
/// Environment variable naming where the runbook lives (e.g. an internal
/// wiki, or your copy of the README); each alert links
/// `<url>#<AlertKind::runbook_anchor>`.
pub const RUNBOOK_URL_ENV: &str = "GITOPS_GUARD_RUNBOOK_URL";
/// Key under which [`with_app_url`] answers the App's own page
/// (`html_url` of `GET /app`). Not an environment variable: the process
/// environment never answers it (see [`process_env`]).
pub const APP_URL_KEY: &str = "gitops-guard.app-html-url";

/// The App's page on GitHub, learned from `GET /app` once GitHub accepted
/// the credentials (the server's readiness check); empty until then.
pub type AppUrl = Arc<std::sync::OnceLock<String>>;

/// Reads an environment variable. Injected so tests (and embedders) can
/// supply values without mutating the process environment.
pub type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The process environment.
pub fn process_env() -> EnvLookup {
    Arc::new(|name| {
        if name == APP_URL_KEY {
            return None;
        }
        std::env::var(name).ok()
    })
}

/// `env`, plus the App's page under [`APP_URL_KEY`] once it is known: the
/// default runbook reference of every alert names the App that raised it
/// (there is no project-wide URL to link instead).
pub fn with_app_url(env: EnvLookup, app_url: AppUrl) -> EnvLookup {
    Arc::new(move |name| {
        if name == APP_URL_KEY {
            app_url.get().cloned()
        } else {
            env(name)
        }
    })
}

/// The static rule id of a kind (a bounded metric label).
pub fn kind_label(kind: AlertKind) -> &'static str {
    match kind {
        AlertKind::ForcePush => "force-push",
        AlertKind::BranchDeleted => "branch-deleted",
        AlertKind::DirectPush => "direct-push",
        AlertKind::UnknownAuthor => "unknown-author",
        AlertKind::UnsignedCommit => "unsigned-commit",
        AlertKind::TagPush => "tag-push",
        AlertKind::ProtectionWeakened => "protection-weakened",
        AlertKind::ReviewBypass => "review-bypass",
    }
}

fn http_url(u: String) -> Option<String> {
    let u = u.trim().to_owned();
    (u.starts_with("https://") || u.starts_with("http://")).then_some(u)
}

/// The runbook link for `kind` when `GITOPS_GUARD_RUNBOOK_URL` names one
/// (any fragment replaced by the kind's anchor).
pub fn runbook_link(env: &EnvLookup, kind: AlertKind) -> Option<String> {
    let base = env(RUNBOOK_URL_ENV).and_then(http_url)?;
    let base = base.split('#').next().unwrap_or_default();
    Some(format!("{base}#{}", kind.runbook_anchor()))
}

/// Where responders find the runbook for `kind`, as Markdown (`markdown`)
/// or plain text: the configured runbook link; otherwise the README
/// section (which ships with every copy of gitops-guard) and the App's own
/// page, so the reader knows which installation raised it.
pub fn runbook_reference(env: &EnvLookup, kind: AlertKind, markdown: bool) -> String {
    let label = kind_label(kind);
    if let Some(link) = runbook_link(env, kind) {
        return if markdown {
            format!("[{label}]({link})")
        } else {
            link
        };
    }
    let anchor = kind.runbook_anchor();
    let section = if markdown {
        format!(
            "`{label}` (`#{anchor}`) in the \"Security alert runbook\" of the gitops-guard README"
        )
    } else {
        format!("{label} (#{anchor}) in the \"Security alert runbook\" of the gitops-guard README")
    };
    match env(APP_URL_KEY).and_then(http_url) {
        Some(app) if markdown => format!("{section}; raised by the App [{app}]({app})"),
        Some(app) => format!("{section}; raised by the App {app}"),
        None => section,
    }
}

/// What one sink did with one alert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SinkOutcome {
    /// Not configured for this alert.
    Skipped,
    /// A new issue was opened (its URL).
    IssueOpened(String),
    /// The incident's open issue got a comment (its URL).
    IssueCommented(String),
    /// The chat webhook accepted the message.
    Sent,
    /// The sink failed after its retries (the reason, secret-free).
    Failed(String),
}

impl SinkOutcome {
    /// The sink was configured and failed.
    pub fn is_failure(&self) -> bool {
        matches!(self, SinkOutcome::Failed(_))
    }
}

/// Outcomes of every external sink for one alert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivered {
    /// The issue sink.
    pub issue: SinkOutcome,
    /// The chat webhook sink.
    pub webhook: SinkOutcome,
}

/// Per-delivery extras the sinks render alongside the alert.
#[derive(Clone, Debug, Default)]
pub struct Extras {
    /// URL of the rollback PR gitops-guard opened for this incident.
    pub revert_pr: Option<String>,
    /// Limits hit or facts missing while gathering (rendered under the body).
    pub notes: Vec<String>,
}

/// Sink-level retry policy (on top of the GitHub client's own retries,
/// which cover single requests; this covers the whole find-or-create).
#[derive(Clone, Debug)]
pub struct SinkRetry {
    /// Attempts per sink, first included.
    pub attempts: u32,
    /// First backoff, doubled per attempt.
    pub base_delay: Duration,
}

impl Default for SinkRetry {
    fn default() -> Self {
        Self {
            attempts: 3,
            base_delay: Duration::from_millis(250),
        }
    }
}

/// Runs `op` until it succeeds, fails permanently, or `policy.attempts`
/// are used; logs each failed attempt (the error text must be secret-free).
pub async fn with_retries<T, E, F, Fut>(
    sink: &'static str,
    policy: &SinkRetry,
    retryable: impl Fn(&E) -> bool,
    mut op: F,
) -> Result<T, E>
where
    E: std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let attempts = policy.attempts.max(1);
    let mut attempt = 1;
    loop {
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if attempt < attempts && retryable(&e) => {
                let wait = policy
                    .base_delay
                    .saturating_mul(1u32 << (attempt - 1).min(8));
                tracing::warn!(
                    sink,
                    attempt,
                    error = %e,
                    wait_ms = wait.as_millis() as u64,
                    "alert sink failed; retrying"
                );
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// GitHub errors worth another attempt: outages and rate limits. A 404,
/// 410 (issues disabled), 422 or a permission error will not heal.
pub fn github_retryable(e: &GitHubError) -> bool {
    matches!(
        e,
        GitHubError::Transient(_) | GitHubError::RateLimited { .. }
    )
}

/// The structured log line and the metric for one alert (never fail).
pub fn record(alert: &Alert) {
    let kind = kind_label(alert.kind);
    crate::pipeline::metrics::security_alert(kind);
    tracing::warn!(
        alert = kind,
        repo = %alert.repo,
        git_ref = %alert.git_ref,
        sha = alert.shas.first().map(|s| s.as_str()).unwrap_or(""),
        fingerprint = %alert.fingerprint,
        title = %alert.title,
        "security alert"
    );
}

/// Where the issue goes: `push.alert.repository` if set and valid, else
/// the repository the incident happened in.
pub fn issue_repo(cfg: &AlertConfig, incident: &RepoName) -> RepoName {
    cfg.repository
        .as_deref()
        .and_then(RepoName::parse)
        .unwrap_or_else(|| incident.clone())
}

/// Delivers one alert to every sink: log + metric at once, then the issue
/// and the chat webhook concurrently, each with its own retries.
pub async fn deliver(
    gh: &dyn GitHub,
    cfg: &AlertConfig,
    env: &EnvLookup,
    alert: &Alert,
    extras: &Extras,
) -> Delivered {
    record(alert);
    let retry = SinkRetry::default();
    let issue_fut = async {
        if !cfg.issue {
            return SinkOutcome::Skipped;
        }
        let target = issue_repo(cfg, &alert.repo);
        let outcome = issue::open_or_comment(gh, &target, env, alert, extras, &retry).await;
        match &outcome {
            SinkOutcome::Failed(e) => {
                crate::pipeline::metrics::alert_sink("issue", "failed");
                tracing::error!(sink = "issue", repo = %target, fingerprint = %alert.fingerprint, error = %e, "alert issue sink failed");
            }
            SinkOutcome::IssueOpened(url) | SinkOutcome::IssueCommented(url) => {
                crate::pipeline::metrics::alert_sink("issue", "ok");
                tracing::info!(sink = "issue", url = %url, fingerprint = %alert.fingerprint, "alert issue written");
            }
            _ => {}
        }
        outcome
    };
    let chat_fut = async {
        let Some(name) = cfg.webhook_url_env.as_deref() else {
            return SinkOutcome::Skipped;
        };
        let outcome = chat::send(name, env, alert, extras, &retry).await;
        match &outcome {
            SinkOutcome::Failed(e) => {
                crate::pipeline::metrics::alert_sink("webhook", "failed");
                // `e` never contains the URL (see chat::send).
                tracing::error!(sink = "webhook", env = name, error = %e, "alert webhook sink failed");
            }
            SinkOutcome::Sent => {
                crate::pipeline::metrics::alert_sink("webhook", "ok");
                tracing::info!(sink = "webhook", env = name, "alert webhook sent");
            }
            _ => crate::pipeline::metrics::alert_sink("webhook", "skipped"),
        }
        outcome
    };
    let (issue, webhook) = tokio::join!(issue_fut, chat_fut);
    Delivered { issue, webhook }
}

/// Cuts `s` to at most `max` bytes on a character boundary, saying so.
pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let marker = "\n\n… (truncated)";
    let mut end = max.saturating_sub(marker.len());
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{marker}", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_labels_match_rule_ids() {
        for k in [
            AlertKind::ForcePush,
            AlertKind::BranchDeleted,
            AlertKind::DirectPush,
            AlertKind::UnknownAuthor,
            AlertKind::UnsignedCommit,
            AlertKind::TagPush,
            AlertKind::ProtectionWeakened,
            AlertKind::ReviewBypass,
        ] {
            assert_eq!(kind_label(k), k.rule().as_str());
        }
    }

    #[test]
    fn runbook_links() {
        let none: EnvLookup = Arc::new(|_| None);
        assert_eq!(runbook_link(&none, AlertKind::ForcePush), None);
        let text = runbook_reference(&none, AlertKind::ForcePush, true);
        assert!(text.contains("`#runbook-force-push`"), "{text}");
        assert!(text.contains("Security alert runbook"), "{text}");
        assert!(!text.contains("http"), "no made-up URL: {text}");

        let set: EnvLookup =
            Arc::new(|n| (n == RUNBOOK_URL_ENV).then(|| "https://wiki.example/gg#old".to_owned()));
        assert_eq!(
            runbook_link(&set, AlertKind::DirectPush).as_deref(),
            Some("https://wiki.example/gg#runbook-direct-push")
        );
        assert_eq!(
            runbook_reference(&set, AlertKind::DirectPush, true),
            "[direct-push](https://wiki.example/gg#runbook-direct-push)"
        );
        let bad: EnvLookup = Arc::new(|_| Some("javascript:alert(1)".to_owned()));
        assert_eq!(runbook_link(&bad, AlertKind::TagPush), None);
        assert!(!runbook_reference(&bad, AlertKind::TagPush, true).contains("javascript"));
    }

    #[test]
    fn the_apps_own_page_is_named_once_known() {
        let url: AppUrl = Arc::default();
        let env = with_app_url(Arc::new(|_| None), url.clone());
        let before = runbook_reference(&env, AlertKind::UnknownAuthor, false);
        assert!(!before.contains("github.com"), "{before}");
        url.set("https://github.com/apps/acme-guard".into())
            .unwrap();
        let after = runbook_reference(&env, AlertKind::UnknownAuthor, true);
        assert!(
            after.contains(
                "[https://github.com/apps/acme-guard](https://github.com/apps/acme-guard)"
            ),
            "{after}"
        );
        assert!(after.contains("#runbook-unknown-author"), "{after}");
        // An operator's runbook URL wins over the App page.
        let both = with_app_url(
            Arc::new(|n| (n == RUNBOOK_URL_ENV).then(|| "https://wiki.example/gg".to_owned())),
            url,
        );
        assert_eq!(
            runbook_reference(&both, AlertKind::UnknownAuthor, false),
            "https://wiki.example/gg#runbook-unknown-author"
        );
        // The process environment can never inject the App page.
        assert_eq!(process_env()(APP_URL_KEY), None);
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        let s = "é".repeat(100);
        let t = truncate(&s, 51);
        assert!(t.len() <= 51 + 1);
        assert!(t.ends_with("(truncated)"));
        assert_eq!(truncate("short", 100), "short");
    }

    #[test]
    fn central_issue_repo() {
        let here = RepoName::parse("acme/deploy").unwrap();
        let mut cfg = AlertConfig::default();
        assert_eq!(issue_repo(&cfg, &here), here);
        cfg.repository = Some("acme/security-alerts".into());
        assert_eq!(issue_repo(&cfg, &here).as_str(), "acme/security-alerts");
        cfg.repository = Some("not a repo".into());
        assert_eq!(issue_repo(&cfg, &here), here);
    }

    #[tokio::test]
    async fn retries_only_retryable_errors() {
        let policy = SinkRetry {
            attempts: 3,
            base_delay: Duration::from_millis(1),
        };
        let mut n = 0;
        let r: Result<(), GitHubError> = with_retries("t", &policy, github_retryable, || {
            n += 1;
            async { Err(GitHubError::Transient("down".into())) }
        })
        .await;
        assert!(r.is_err());
        assert_eq!(n, 3);
        let mut n = 0;
        let r: Result<(), GitHubError> = with_retries("t", &policy, github_retryable, || {
            n += 1;
            async { Err(GitHubError::NotFound("gone".into())) }
        })
        .await;
        assert!(r.is_err());
        assert_eq!(n, 1);
    }
}
