//! Process settings for `gitops-guard serve`, read from the environment
//! variables DESIGN.md names. Secrets are held as [`SecretString`] so they
//! never reach a log line or a `Debug` print, and everything is validated at
//! startup: a bad key or a missing secret stops the process before it binds
//! a port (fail fast), instead of failing on the first delivery.

use std::net::SocketAddr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

/// Default REST API root (github.com).
pub const DEFAULT_API_URL: &str = "https://api.github.com";
/// Default listen address.
pub const DEFAULT_LISTEN_ADDR: &str = "0.0.0.0:8080";

/// Why the settings could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A required variable is unset or empty.
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    /// A variable is set but unusable.
    #[error("environment variable {name}: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// What is wrong (never includes the value of a secret).
        reason: String,
    },
}

/// How the GitHub client retries transient failures and rate limits.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Total attempts per request (first try included).
    pub max_attempts: u32,
    /// First backoff for 5xx/transport errors; doubled per attempt.
    pub base_delay: Duration,
    /// Longest single wait we accept (from `retry-after`,
    /// `x-ratelimit-reset` or the backoff). A longer wait is not slept:
    /// the request fails with `RateLimited` so the worker is not parked
    /// for an hour and the check run concludes `failure` with the reason.
    pub max_wait: Duration,
    /// Wait for a secondary rate limit that names no time (GitHub says
    /// "at least one minute"), capped by `max_wait`.
    pub secondary_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_wait: Duration::from_secs(90),
            secondary_wait: Duration::from_secs(60),
        }
    }
}

/// Everything `serve` needs.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `GITHUB_APP_ID`: the JWT `iss`. A numeric app id or a client id
    /// (`Iv1.…`), both accepted by GitHub.
    pub app_id: String,
    /// `GITHUB_APP_PRIVATE_KEY` (PEM text) or the file named by
    /// `GITHUB_APP_PRIVATE_KEY_PATH`.
    pub private_key_pem: SecretString,
    /// `GITHUB_WEBHOOK_SECRET`: comma-separated, so a secret can be rotated
    /// (configure the new one next to the old, switch GitHub, drop the old).
    pub webhook_secrets: Vec<SecretString>,
    /// `GITHUB_API_URL` without trailing `/` (GHES: `https://host/api/v3`).
    pub api_url: String,
    /// `LISTEN_ADDR`.
    pub listen_addr: SocketAddr,
    /// `GITOPS_GUARD_WORKERS`: concurrent deliveries processed.
    pub workers: usize,
    /// `GITOPS_GUARD_QUEUE`: deliveries waiting; beyond it the webhook answers 503.
    pub queue_capacity: usize,
    /// How long graceful shutdown waits for queued work.
    pub shutdown_deadline: Duration,
    /// How long a delivery id is remembered for deduplication.
    pub dedupe_ttl: Duration,
    /// GitHub client retries.
    pub retry: RetryPolicy,
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `get` (the environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let non_empty = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let app_id = non_empty("GITHUB_APP_ID")
            .ok_or(SettingsError::Missing("GITHUB_APP_ID"))?
            .trim()
            .to_owned();
        let pem = match (
            non_empty("GITHUB_APP_PRIVATE_KEY"),
            non_empty("GITHUB_APP_PRIVATE_KEY_PATH"),
        ) {
            (Some(pem), _) => pem.replace("\\n", "\n"),
            (None, Some(path)) => {
                std::fs::read_to_string(path.trim()).map_err(|e| SettingsError::Invalid {
                    name: "GITHUB_APP_PRIVATE_KEY_PATH",
                    reason: format!("cannot read {}: {e}", path.trim()),
                })?
            }
            (None, None) => return Err(SettingsError::Missing("GITHUB_APP_PRIVATE_KEY")),
        };
        validate_key(&pem)?;
        let secrets = non_empty("GITHUB_WEBHOOK_SECRET")
            .ok_or(SettingsError::Missing("GITHUB_WEBHOOK_SECRET"))?;
        let webhook_secrets = parse_secrets(&secrets);
        if webhook_secrets.is_empty() {
            return Err(SettingsError::Missing("GITHUB_WEBHOOK_SECRET"));
        }
        let api_url = normalize_api_url(
            &non_empty("GITHUB_API_URL").unwrap_or_else(|| DEFAULT_API_URL.to_owned()),
        )?;
        let listen = non_empty("LISTEN_ADDR").unwrap_or_else(|| DEFAULT_LISTEN_ADDR.to_owned());
        let listen_addr = listen.trim().parse().map_err(|e| SettingsError::Invalid {
            name: "LISTEN_ADDR",
            reason: format!("{e}"),
        })?;
        let workers = parse_num(non_empty("GITOPS_GUARD_WORKERS"), "GITOPS_GUARD_WORKERS", 4)?;
        let queue_capacity =
            parse_num(non_empty("GITOPS_GUARD_QUEUE"), "GITOPS_GUARD_QUEUE", 1024)?;
        Ok(Self {
            app_id,
            private_key_pem: SecretString::from(pem),
            webhook_secrets,
            api_url,
            listen_addr,
            workers: workers.max(1),
            queue_capacity: queue_capacity.max(1),
            shutdown_deadline: Duration::from_secs(25),
            dedupe_ttl: Duration::from_secs(24 * 3600),
            retry: RetryPolicy::default(),
        })
    }
}

/// Splits a comma-separated secret list, dropping empty entries and
/// surrounding whitespace (a trailing newline from a mounted file is common).
pub fn parse_secrets(list: &str) -> Vec<SecretString> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| SecretString::from(s.to_owned()))
        .collect()
}

/// Checks the PEM is an RSA private key jsonwebtoken can sign RS256 with.
fn validate_key(pem: &str) -> Result<(), SettingsError> {
    jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes())
        .map(|_| ())
        .map_err(|e| SettingsError::Invalid {
            name: "GITHUB_APP_PRIVATE_KEY",
            reason: format!("not an RSA private key in PEM format ({e})"),
        })
}

/// `https://host/api/v3/` → `https://host/api/v3`; rejects non-http(s) URLs.
pub fn normalize_api_url(url: &str) -> Result<String, SettingsError> {
    let url = url.trim().trim_end_matches('/');
    let parsed: http::Uri = url.parse().map_err(|e| SettingsError::Invalid {
        name: "GITHUB_API_URL",
        reason: format!("{e}"),
    })?;
    match (parsed.scheme_str(), parsed.authority()) {
        (Some("http" | "https"), Some(_)) if parsed.query().is_none() => Ok(url.to_owned()),
        _ => Err(SettingsError::Invalid {
            name: "GITHUB_API_URL",
            reason: "must be an absolute http(s) URL without query".into(),
        }),
    }
}

fn parse_num(
    v: Option<String>,
    name: &'static str,
    default: usize,
) -> Result<usize, SettingsError> {
    match v {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|e| SettingsError::Invalid {
            name,
            reason: format!("{e}"),
        }),
    }
}

/// Exposes a secret's bytes for HMAC keys; kept here so call sites that
/// touch secret material are easy to find.
pub fn secret_bytes(s: &SecretString) -> &[u8] {
    s.expose_secret().as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn secrets_split_and_trim() {
        let s = parse_secrets(" old , new,,\n");
        let got: Vec<&str> = s.iter().map(|s| s.expose_secret()).collect();
        assert_eq!(got, ["old", "new"]);
    }

    #[test]
    fn api_url_normalized_and_checked() {
        assert_eq!(
            normalize_api_url("https://ghe.example.com/api/v3/").unwrap(),
            "https://ghe.example.com/api/v3"
        );
        assert!(normalize_api_url("ftp://x").is_err());
        assert!(normalize_api_url("not a url").is_err());
    }

    #[test]
    fn missing_and_bad_values_fail_fast() {
        let mut env: HashMap<&'static str, &'static str> = HashMap::new();
        fn get(env: &HashMap<&'static str, &'static str>) -> impl Fn(&str) -> Option<String> {
            let env = env.clone();
            move |k: &str| env.get(k).map(|v| v.to_string())
        }
        assert!(matches!(
            Settings::from_lookup(get(&env)),
            Err(SettingsError::Missing("GITHUB_APP_ID"))
        ));
        env.insert("GITHUB_APP_ID", "1");
        assert!(matches!(
            Settings::from_lookup(get(&env)),
            Err(SettingsError::Missing("GITHUB_APP_PRIVATE_KEY"))
        ));
        env.insert("GITHUB_APP_PRIVATE_KEY", "-----BEGIN NONSENSE-----");
        let err = Settings::from_lookup(get(&env)).unwrap_err();
        assert!(matches!(
            err,
            SettingsError::Invalid {
                name: "GITHUB_APP_PRIVATE_KEY",
                ..
            }
        ));
        // The message never echoes the key material.
        assert!(!err.to_string().contains("NONSENSE"));
    }
}
