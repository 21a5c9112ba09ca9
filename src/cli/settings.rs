//! Process settings for `gitops-guard serve`, read from the environment
//! variables DESIGN.md names. Secrets are held as [`SecretString`] so they
//! never reach a log line or a `Debug` print, and everything is validated at
//! startup: a bad key or a missing secret stops the process before it binds
//! a port (fail fast), instead of failing on the first delivery.

use std::net::SocketAddr;
use std::time::Duration;

use secrecy::SecretString;

use crate::github::retry::RetryPolicy;
use crate::webhook::verify::parse_secrets;

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
    /// `GITOPS_GUARD_SHUTDOWN_SECONDS` (default 25): how long graceful
    /// shutdown waits for queued work. Keep it below the platform's kill
    /// timeout (Kubernetes `terminationGracePeriodSeconds`, Fly
    /// `kill_timeout`) minus the 5 s HTTP drain.
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
        let shutdown_secs = parse_num(
            non_empty("GITOPS_GUARD_SHUTDOWN_SECONDS"),
            "GITOPS_GUARD_SHUTDOWN_SECONDS",
            25,
        )?;
        Ok(Self {
            app_id,
            private_key_pem: SecretString::from(pem),
            webhook_secrets,
            api_url,
            listen_addr,
            workers: workers.max(1),
            queue_capacity: queue_capacity.max(1),
            shutdown_deadline: Duration::from_secs(shutdown_secs as u64),
            dedupe_ttl: Duration::from_secs(24 * 3600),
            retry: RetryPolicy::default(),
        })
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
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

    /// A real RSA key: GitHub's documented manifest-conversion example.
    fn test_pem() -> String {
        let v: serde_json::Value = serde_json::from_str(include_str!(
            "../../tests/data/github/api/apps-create-from-manifest.json"
        ))
        .unwrap();
        v["pem"].as_str().unwrap().to_owned()
    }

    fn lookup(pairs: Vec<(&'static str, String)>) -> impl Fn(&str) -> Option<String> {
        let env: HashMap<&'static str, String> = pairs.into_iter().collect();
        move |k: &str| env.get(k).cloned()
    }

    #[test]
    fn complete_environment_is_accepted() {
        // Escaped newlines (one-line secret stores) are accepted too.
        let pem = test_pem().replace('\n', "\\n");
        let s = Settings::from_lookup(lookup(vec![
            ("GITHUB_APP_ID", " 42 ".into()),
            ("GITHUB_APP_PRIVATE_KEY", pem),
            ("GITHUB_WEBHOOK_SECRET", "s1,s2\n".into()),
            ("GITHUB_API_URL", "https://ghe.example.com/api/v3/".into()),
            ("LISTEN_ADDR", "127.0.0.1:9000".into()),
            ("GITOPS_GUARD_WORKERS", "8".into()),
            ("GITOPS_GUARD_QUEUE", "10".into()),
            ("GITOPS_GUARD_SHUTDOWN_SECONDS", "7".into()),
        ]))
        .unwrap();
        assert_eq!(s.app_id, "42");
        assert_eq!(s.webhook_secrets.len(), 2);
        assert_eq!(s.api_url, "https://ghe.example.com/api/v3");
        assert_eq!(s.listen_addr, "127.0.0.1:9000".parse().unwrap());
        assert_eq!((s.workers, s.queue_capacity), (8, 10));
        assert_eq!(s.shutdown_deadline, Duration::from_secs(7));
        // Defaults.
        let d = Settings::from_lookup(lookup(vec![
            ("GITHUB_APP_ID", "42".into()),
            ("GITHUB_APP_PRIVATE_KEY", test_pem()),
            ("GITHUB_WEBHOOK_SECRET", "s".into()),
        ]))
        .unwrap();
        assert_eq!(d.api_url, DEFAULT_API_URL);
        assert_eq!(d.listen_addr, DEFAULT_LISTEN_ADDR.parse().unwrap());
        assert_eq!(d.shutdown_deadline, Duration::from_secs(25));
    }

    #[test]
    fn missing_secret_unreadable_key_and_bad_numbers_fail_fast() {
        let base = || {
            vec![
                ("GITHUB_APP_ID", "42".to_string()),
                ("GITHUB_APP_PRIVATE_KEY", test_pem()),
            ]
        };
        assert!(matches!(
            Settings::from_lookup(lookup(base())),
            Err(SettingsError::Missing("GITHUB_WEBHOOK_SECRET"))
        ));
        let mut only_commas = base();
        only_commas.push(("GITHUB_WEBHOOK_SECRET", " , ,".into()));
        assert!(matches!(
            Settings::from_lookup(lookup(only_commas)),
            Err(SettingsError::Missing("GITHUB_WEBHOOK_SECRET"))
        ));
        let path_env = vec![
            ("GITHUB_APP_ID", "42".to_string()),
            (
                "GITHUB_APP_PRIVATE_KEY_PATH",
                "/nonexistent/gitops-guard/key.pem".to_string(),
            ),
            ("GITHUB_WEBHOOK_SECRET", "s".to_string()),
        ];
        let err = Settings::from_lookup(lookup(path_env)).unwrap_err();
        assert!(matches!(
            err,
            SettingsError::Invalid {
                name: "GITHUB_APP_PRIVATE_KEY_PATH",
                ..
            }
        ));
        assert!(
            err.to_string()
                .contains("/nonexistent/gitops-guard/key.pem")
        );
        for (name, value) in [
            ("LISTEN_ADDR", "8080"),
            ("GITOPS_GUARD_WORKERS", "many"),
            ("GITOPS_GUARD_SHUTDOWN_SECONDS", "-1"),
            ("GITHUB_API_URL", "api.github.com"),
        ] {
            let mut env = base();
            env.push(("GITHUB_WEBHOOK_SECRET", "s".into()));
            env.push((name, value.into()));
            match Settings::from_lookup(lookup(env)) {
                Err(SettingsError::Invalid { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}={value}: {other:?}"),
            }
        }
    }
}
