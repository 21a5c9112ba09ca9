//! The Slack-compatible chat webhook sink: `POST {"text": …}` to the URL
//! held in the environment variable `push.alert.webhook_url_env` names
//! (Slack incoming webhooks; Mattermost, Rocket.Chat and Microsoft Teams
//! workflows accept the same shape).
//!
//! The URL is a credential (anyone holding it can post to the channel): it
//! is never logged, never put in an error, and read fresh for every alert
//! (rotating it needs no restart). The repository config only *names* the
//! variable, so a config cannot point alerts at a host the operator did not
//! configure; names of the App's own settings (`GITHUB_*`, `DATABASE_URL`)
//! are refused so a config cannot make us send a secret as a request line.
//!
//! HTTP client: hyper-util's client with hyper-rustls on aws-lc-rs — the
//! exact stack octocrab already links, so no second TLS or crypto backend
//! (reqwest would pull its own connector stack and, by default, ring).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::{
    EnvLookup, Extras, SinkOutcome, SinkRetry, kind_label, runbook_reference, with_retries,
};
use crate::engine::pushes::Alert;

/// Per-attempt timeout.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Longest alert body quoted in a chat message (chat is a pager, the issue
/// holds the details).
const MAX_QUOTED_BODY: usize = 2_500;

type HttpClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

fn client() -> Result<&'static HttpClient, String> {
    static CLIENT: OnceLock<Result<HttpClient, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            let https = hyper_rustls::HttpsConnectorBuilder::new()
                .with_provider_and_native_roots(provider)
                .map_err(|e| format!("no TLS root certificates: {e}"))?
                // Plain http is refused by `webhook_url` except for loopback.
                .https_or_http()
                .enable_http1()
                .build();
            Ok(Client::builder(TokioExecutor::new()).build(https))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Why the webhook URL cannot be used (secret-free text).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// The variable name is malformed or names one of the App's secrets.
    #[error("environment variable name {0:?} is not allowed")]
    BadName(String),
    /// The variable holds something that is not an https URL.
    #[error("environment variable {0} does not hold an https URL")]
    NotHttps(String),
}

/// Resolves the webhook URL: `Ok(None)` when the variable is unset or empty
/// (the sink is simply off).
pub fn webhook_url(name: &str, env: &EnvLookup) -> Result<Option<Uri>, UrlError> {
    let valid_name = !name.is_empty()
        && name.len() <= 128
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit();
    let upper = name.to_ascii_uppercase();
    if !valid_name || upper.starts_with("GITHUB_") || upper == "DATABASE_URL" {
        return Err(UrlError::BadName(name.to_owned()));
    }
    let Some(value) = env(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    let uri: Uri = value
        .parse()
        .map_err(|_| UrlError::NotHttps(name.to_owned()))?;
    let host = uri.host().unwrap_or("");
    let ok = match uri.scheme_str() {
        Some("https") => !host.is_empty(),
        // Plain http only to this machine (a local relay, tests).
        Some("http") => matches!(host, "127.0.0.1" | "localhost" | "[::1]" | "::1"),
        _ => false,
    };
    if !ok {
        return Err(UrlError::NotHttps(name.to_owned()));
    }
    Ok(Some(uri))
}

/// The chat message text (Slack mrkdwn; plain enough for the others).
pub fn message(env: &EnvLookup, alert: &Alert, extras: &Extras) -> String {
    let mut t = format!(
        ":rotating_light: *gitops-guard security alert* `{}` in `{}`\n*{}*\n",
        kind_label(alert.kind),
        alert.repo,
        alert.title
    );
    if let Some(sha) = alert.shas.first() {
        t.push_str(&format!("SHA: `{sha}`\n"));
    }
    t.push('\n');
    t.push_str(&super::truncate(&alert.body, MAX_QUOTED_BODY));
    t.push('\n');
    if let Some(url) = &extras.revert_pr {
        t.push_str(&format!("\nRollback PR: {url}\n"));
    }
    if !alert.rollback.is_empty() {
        t.push_str("\nRoll back:\n```\n");
        t.push_str(&alert.rollback.join("\n"));
        t.push_str("\n```\n");
    }
    t.push_str(&format!(
        "Runbook: {}\n",
        runbook_reference(env, alert.kind, false)
    ));
    t
}

#[derive(Debug)]
struct SendFailure {
    message: String,
    retryable: bool,
}

impl std::fmt::Display for SendFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

async fn post_once(uri: &Uri, body: &Bytes) -> Result<(), SendFailure> {
    let client = client().map_err(|message| SendFailure {
        message,
        retryable: false,
    })?;
    let req = Request::builder()
        .method(Method::POST)
        .uri(uri.clone())
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::USER_AGENT, "gitops-guard")
        .body(Full::new(body.clone()))
        .map_err(|_| SendFailure {
            message: "cannot build the webhook request".into(),
            retryable: false,
        })?;
    let resp = match tokio::time::timeout(TIMEOUT, client.request(req)).await {
        Err(_) => {
            return Err(SendFailure {
                message: "webhook timed out".into(),
                retryable: true,
            });
        }
        // hyper's error text can carry the host; say only what kind it was.
        Ok(Err(e)) => {
            return Err(SendFailure {
                message: if e.is_connect() {
                    "cannot connect to the webhook host".into()
                } else {
                    "webhook request failed".into()
                },
                retryable: true,
            });
        }
        Ok(Ok(r)) => r,
    };
    let status = resp.status();
    // Drain a little of the body so the connection can be reused.
    let _ = http_body_util::Limited::new(resp.into_body(), 64 * 1024)
        .collect()
        .await;
    if status.is_success() {
        Ok(())
    } else {
        Err(SendFailure {
            message: format!("webhook answered HTTP {}", status.as_u16()),
            retryable: status.is_server_error() || status.as_u16() == 429,
        })
    }
}

/// Sends the alert to the webhook named by `env_name` (with retries).
pub async fn send(
    env_name: &str,
    env: &EnvLookup,
    alert: &Alert,
    extras: &Extras,
    retry: &SinkRetry,
) -> SinkOutcome {
    let uri = match webhook_url(env_name, env) {
        Ok(Some(u)) => u,
        Ok(None) => {
            tracing::debug!(env = env_name, "chat webhook variable not set; sink off");
            return SinkOutcome::Skipped;
        }
        Err(e) => return SinkOutcome::Failed(e.to_string()),
    };
    let body = Bytes::from(
        serde_json::to_vec(&serde_json::json!({ "text": message(env, alert, extras) }))
            .unwrap_or_default(),
    );
    match with_retries(
        "webhook",
        retry,
        |e: &SendFailure| e.retryable,
        || post_once(&uri, &body),
    )
    .await
    {
        Ok(()) => SinkOutcome::Sent,
        Err(e) => SinkOutcome::Failed(e.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ids::{CommitSha, RepoName};
    use crate::engine::pushes::AlertKind;

    fn env_with(value: &'static str) -> EnvLookup {
        Arc::new(move |n| (n == "SLACK_URL").then(|| value.to_owned()))
    }

    #[test]
    fn url_rules() {
        let e = env_with("https://hooks.slack.com/services/T/B/X");
        assert!(webhook_url("SLACK_URL", &e).unwrap().is_some());
        assert_eq!(webhook_url("OTHER", &e), Ok(None));
        assert!(matches!(
            webhook_url("GITHUB_WEBHOOK_SECRET", &e),
            Err(UrlError::BadName(_))
        ));
        assert!(matches!(webhook_url("A-B", &e), Err(UrlError::BadName(_))));
        assert!(matches!(
            webhook_url("SLACK_URL", &env_with("http://hooks.example.com/x")),
            Err(UrlError::NotHttps(_))
        ));
        assert!(
            webhook_url("SLACK_URL", &env_with("http://127.0.0.1:9/x"))
                .unwrap()
                .is_some()
        );
        // A non-URL value is refused without echoing it.
        let err = webhook_url("SLACK_URL", &env_with("-----BEGIN PRIVATE KEY-----"))
            .unwrap_err()
            .to_string();
        assert!(!err.contains("BEGIN"));
        assert_eq!(webhook_url("SLACK_URL", &env_with("  ")), Ok(None));
    }

    #[test]
    fn message_is_self_contained() {
        let a = Alert {
            kind: AlertKind::UnknownAuthor,
            repo: RepoName::parse("acme/deploy").unwrap(),
            git_ref: "refs/heads/main".into(),
            fingerprint: "f".into(),
            title: "Unknown author on `main`".into(),
            body: "who".into(),
            shas: vec![CommitSha::new("2222222222222222222222222222222222222222")],
            rollback: vec!["git revert x".into()],
            revert_branch: None,
        };
        let none: EnvLookup = Arc::new(|_| None);
        let m = message(&none, &a, &Extras::default());
        assert!(m.contains("unknown-author"));
        assert!(m.contains("2222222222222222222222222222222222222222"));
        assert!(m.contains("git revert x"));
        assert!(m.contains("#runbook-unknown-author"));
    }

    #[tokio::test]
    async fn unreachable_webhook_fails_without_leaking_the_url() {
        let e: EnvLookup = Arc::new(|_| Some("http://127.0.0.1:9/secret-token-path".to_owned()));
        let a = Alert {
            kind: AlertKind::ForcePush,
            repo: RepoName::parse("acme/deploy").unwrap(),
            git_ref: "refs/heads/main".into(),
            fingerprint: "f".into(),
            title: "t".into(),
            body: "b".into(),
            shas: vec![],
            rollback: vec![],
            revert_branch: None,
        };
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let policy = SinkRetry {
            attempts: 2,
            base_delay: Duration::from_millis(1),
        };
        match send("SLACK_URL", &e, &a, &Extras::default(), &policy).await {
            SinkOutcome::Failed(msg) => assert!(!msg.contains("secret-token-path"), "{msg}"),
            other => panic!("{other:?}"),
        }
    }
}
