//! GitHub App authentication: the app JWT (RS256, `iat` 60 s back, `exp`
//! 9 min ahead, `iss` = app id or client id) and installation tokens.
//!
//! Decision: we do our own token exchange (`POST
//! /app/installations/{id}/access_tokens`) and build one octocrab client
//! per installation with `OctocrabBuilder::personal_token`, cached in moka
//! until five minutes before the token's `expires_at`. We do not use
//! octocrab's `installation()`: it builds a fresh token cache on every call
//! and `Clone` *copies* that cache (octocrab#435, open), so sharing it
//! correctly needs exactly the cache we keep anyway; our exchange also goes
//! through our retry/metrics path, treats the token as an opaque string of
//! any length (GitHub's stateless `ghs_APPID_JWT` tokens are long), and lets
//! us drop the cached client on a 401. moka's `try_get_with` makes
//! concurrent deliveries for one installation share a single exchange.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use octocrab::Octocrab;
use octocrab::service::middleware::retry::RetryConfig;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::client::{SendSpec, send_with_retries};
use super::error::GitHubError;
use crate::github::retry::RetryPolicy;

/// Refresh this long before a token expires.
const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);
/// JWT lifetime (GitHub allows at most 10 minutes; keep a margin for clock skew).
const JWT_LIFETIME_SECS: i64 = 9 * 60;

#[derive(Serialize)]
struct Claims {
    iat: i64,
    exp: i64,
    iss: serde_json::Value,
}

#[derive(Deserialize)]
struct TokenResponse {
    token: String,
    #[serde(default)]
    expires_at: Option<String>,
}

struct CachedClient {
    octocrab: Arc<Octocrab>,
    ttl: Duration,
}

struct TokenExpiry;

impl moka::Expiry<u64, Arc<CachedClient>> for TokenExpiry {
    fn expire_after_create(
        &self,
        _key: &u64,
        value: &Arc<CachedClient>,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// The App's credentials and its per-installation clients.
pub struct AppAuth {
    app_id: String,
    key: EncodingKey,
    api_url: String,
    bare: Arc<Octocrab>,
    policy: RetryPolicy,
    clients: moka::future::Cache<u64, Arc<CachedClient>>,
}

impl std::fmt::Debug for AppAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppAuth")
            .field("app_id", &self.app_id)
            .field("api_url", &self.api_url)
            .finish_non_exhaustive()
    }
}

impl AppAuth {
    /// Parses the key and prepares a client for `api_url` (which may carry
    /// a path prefix such as GHES's `/api/v3`).
    pub fn new(
        app_id: &str,
        private_key_pem: &SecretString,
        api_url: &str,
        policy: RetryPolicy,
    ) -> Result<Arc<Self>, GitHubError> {
        let key = EncodingKey::from_rsa_pem(private_key_pem.expose_secret().as_bytes())
            .map_err(|e| GitHubError::Auth(format!("invalid App private key: {e}")))?;
        let bare = Arc::new(build_octocrab(api_url, None)?);
        Ok(Arc::new(Self {
            app_id: app_id.to_owned(),
            key,
            api_url: api_url.to_owned(),
            bare,
            policy,
            clients: moka::future::Cache::builder()
                .max_capacity(10_000)
                .expire_after(TokenExpiry)
                .build(),
        }))
    }

    /// The API root.
    pub fn api_url(&self) -> &str {
        &self.api_url
    }

    /// The app id (JWT `iss`).
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// Retry policy shared by the clients.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// The unauthenticated client the JWT calls go through.
    pub(crate) fn bare(&self) -> Arc<Octocrab> {
        self.bare.clone()
    }

    /// A fresh app JWT.
    pub fn jwt(&self) -> Result<String, GitHubError> {
        let now = Utc::now().timestamp();
        // A numeric app id goes out as a number, a client id as a string:
        // GitHub accepts both forms of `iss`.
        let iss = self
            .app_id
            .parse::<u64>()
            .map(serde_json::Value::from)
            .unwrap_or_else(|_| serde_json::Value::from(self.app_id.clone()));
        let claims = Claims {
            iat: now - 60,
            exp: now + JWT_LIFETIME_SECS,
            iss,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.key)
            .map_err(|e| GitHubError::Auth(format!("cannot sign app JWT: {e}")))
    }

    /// A client acting as `installation_id`, from the cache or after a
    /// token exchange.
    pub async fn installation_client(
        self: &Arc<Self>,
        installation_id: u64,
    ) -> Result<Arc<Octocrab>, GitHubError> {
        if let Some(c) = self.clients.get(&installation_id).await {
            crate::github::metrics::cache("installation_token", true);
            return Ok(c.octocrab.clone());
        }
        crate::github::metrics::cache("installation_token", false);
        let this = self.clone();
        self.clients
            .try_get_with(installation_id, async move {
                this.exchange(installation_id).await.map(Arc::new)
            })
            .await
            .map(|c| c.octocrab.clone())
            .map_err(|e| (*e).clone())
    }

    /// Drops the cached client (after a 401: the token was revoked).
    pub async fn invalidate(&self, installation_id: u64) {
        self.clients.invalidate(&installation_id).await;
    }

    async fn exchange(self: &Arc<Self>, installation_id: u64) -> Result<CachedClient, GitHubError> {
        let path = format!("/app/installations/{installation_id}/access_tokens");
        let jwt = format!("Bearer {}", self.jwt()?);
        let raw = send_with_retries(
            &self.bare,
            Some(&jwt),
            &SendSpec {
                method: http::Method::POST,
                path: &path,
                body: Some(&serde_json::json!({})),
                accept: None,
                endpoint: "app.access_tokens",
            },
            &self.policy,
            installation_id,
        )
        .await
        .map_err(|e| match e.into_github() {
            GitHubError::NotFound(_) => GitHubError::Auth(format!(
                "installation {installation_id} not found for this App"
            )),
            other => other,
        })?;
        let resp: TokenResponse = serde_json::from_slice(&raw.body).map_err(|e| {
            GitHubError::Auth(format!("unexpected installation token response: {e}"))
        })?;
        if resp.token.is_empty() {
            return Err(GitHubError::Auth("empty installation token".into()));
        }
        let ttl = token_ttl(resp.expires_at.as_deref(), Utc::now());
        let octocrab = build_octocrab(&self.api_url, Some(SecretString::from(resp.token)))?;
        tracing::debug!(
            installation_id,
            ttl_secs = ttl.as_secs(),
            "installation token issued"
        );
        Ok(CachedClient {
            octocrab: Arc::new(octocrab),
            ttl,
        })
    }
}

/// How long to keep a token: until [`REFRESH_MARGIN`] before `expires_at`
/// (half the remaining time when it is shorter; ten minutes when GitHub
/// sent no parseable expiry).
pub fn token_ttl(expires_at: Option<&str>, now: DateTime<Utc>) -> Duration {
    let Some(exp) = expires_at.and_then(|s| DateTime::parse_from_rfc3339(s).ok()) else {
        return Duration::from_secs(600);
    };
    let left = (exp.with_timezone(&Utc) - now)
        .to_std()
        .unwrap_or(Duration::ZERO);
    if left > REFRESH_MARGIN * 2 {
        left - REFRESH_MARGIN
    } else {
        left / 2
    }
}

/// Builds an octocrab client for `api_url`, authenticated with `token` if
/// given. octocrab's own retry is off: [`RestClient`] retries with our
/// policy and counts each attempt.
pub fn build_octocrab(api_url: &str, token: Option<SecretString>) -> Result<Octocrab, GitHubError> {
    let builder = Octocrab::builder()
        .base_uri(api_url)
        .map_err(|e| GitHubError::other(format!("invalid GITHUB_API_URL: {e}")))?
        .add_retry_config(RetryConfig::None)
        .set_connect_timeout(Some(Duration::from_secs(10)))
        .set_read_timeout(Some(Duration::from_secs(60)));
    let builder = match token {
        Some(t) => builder.personal_token(t),
        None => builder,
    };
    builder
        .build()
        .map_err(|e| GitHubError::other(format!("cannot build GitHub client: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_refreshes_before_expiry() {
        let now = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            token_ttl(Some("2026-01-01T01:00:00Z"), now),
            Duration::from_secs(55 * 60)
        );
        assert_eq!(
            token_ttl(Some("2026-01-01T00:06:00Z"), now),
            Duration::from_secs(3 * 60)
        );
        assert_eq!(token_ttl(Some("2025-12-31T00:00:00Z"), now), Duration::ZERO);
        assert_eq!(token_ttl(Some("garbage"), now), Duration::from_secs(600));
    }
}
