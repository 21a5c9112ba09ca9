//! The App manifest flow's one API call: `POST
//! /app-manifests/{code}/conversions` turns the code GitHub hands the
//! browser into the new App's id, private key and webhook secret
//! (`cli::register` drives the flow and writes the files).

use secrecy::SecretString;
use serde::Deserialize;

use super::auth::build_octocrab;
use super::client::{SendSpec, send_with_retries};
use super::error::GitHubError;
use super::retry::RetryPolicy;

/// The fields of the conversion response we use (the rest is ignored).
#[derive(Deserialize)]
pub struct Conversion {
    /// The new App's id.
    pub id: u64,
    /// Its URL slug.
    #[serde(default)]
    pub slug: String,
    /// Its settings page.
    #[serde(default)]
    pub html_url: String,
    /// Its private key (PEM).
    pub pem: SecretString,
    /// The webhook secret from the manifest's hook, if GitHub returned one.
    #[serde(default)]
    pub webhook_secret: Option<SecretString>,
}

/// `POST /app-manifests/{code}/conversions`, unauthenticated and tried
/// once: a code is single-use, so a retry after a lost response could
/// only fail.
pub async fn convert_manifest(api_url: &str, code: &str) -> Result<Conversion, GitHubError> {
    let octo = build_octocrab(api_url, None)?;
    let path = format!("/app-manifests/{code}/conversions");
    let policy = RetryPolicy {
        max_attempts: 1,
        ..RetryPolicy::default()
    };
    let raw = send_with_retries(
        &octo,
        None,
        &SendSpec {
            method: http::Method::POST,
            path: &path,
            body: None,
            accept: None,
            endpoint: "apps.create_from_manifest",
        },
        &policy,
        0,
    )
    .await
    .map_err(|e| e.into_github())?;
    serde_json::from_slice(&raw.body).map_err(|e| GitHubError::Other {
        status: None,
        message: format!("unexpected conversion response: {e}"),
    })
}
