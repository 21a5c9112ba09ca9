//! The App's webhook delivery log (`GET /app/hook/deliveries`, newest
//! first, cursor pagination via `Link`) and redelivery (`POST
//! /app/hook/deliveries/{id}/attempts`), both JWT-authenticated: the GitHub
//! half of the redelivery reconciler (`queue::redeliver`), which knows
//! nothing of paths, headers or JSON.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::error::GitHubError;

/// One attempt in the App's delivery log (fields we use).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct HookDelivery {
    /// Attempt id (what `POST …/attempts` takes).
    pub id: u64,
    /// `X-GitHub-Delivery`; shared by the original and its redeliveries.
    pub guid: String,
    /// When GitHub attempted it.
    pub delivered_at: DateTime<Utc>,
    /// Whether this attempt was a redelivery.
    #[serde(default)]
    pub redelivery: bool,
    /// `"OK"` on success, otherwise a description.
    #[serde(default)]
    pub status: String,
    /// Our HTTP status (0 or absent when no response arrived).
    #[serde(default)]
    pub status_code: Option<u16>,
    /// Event name.
    #[serde(default)]
    pub event: String,
    /// Action, if any.
    #[serde(default)]
    pub action: Option<String>,
}

impl HookDelivery {
    /// GitHub counts 2xx and 3xx as success (`status == "OK"`).
    pub fn succeeded(&self) -> bool {
        self.status == "OK" || matches!(self.status_code, Some(200..=399))
    }
}

/// One page of the delivery log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeliveryPage {
    /// Attempts, newest first.
    pub items: Vec<HookDelivery>,
    /// Cursor of the next (older) page, from the `Link` header.
    pub next_cursor: Option<String>,
}

/// The two App endpoints the reconciler needs (JWT-authenticated).
#[async_trait]
pub trait HookDeliveries: Send + Sync + 'static {
    /// `GET /app/hook/deliveries?per_page=100[&cursor=…]`.
    async fn list(&self, cursor: Option<&str>) -> Result<DeliveryPage, GitHubError>;
    /// `POST /app/hook/deliveries/{id}/attempts`.
    async fn redeliver(&self, id: u64) -> Result<(), GitHubError>;
}

/// The request path for one page.
pub fn list_path(cursor: Option<&str>) -> String {
    match cursor {
        Some(c) => format!(
            "/app/hook/deliveries?per_page=100&cursor={}",
            encode_query(c)
        ),
        None => "/app/hook/deliveries?per_page=100".to_owned(),
    }
}

fn encode_query(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn decode_query(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `cursor` of the `rel="next"` link in a `Link` header, if any.
pub fn next_cursor(link: &str) -> Option<String> {
    for part in link.split(',') {
        let mut segs = part.split(';');
        let url = segs.next()?.trim();
        let is_next = segs.any(|s| {
            let s = s.trim();
            s == "rel=\"next\"" || s == "rel=next"
        });
        if !is_next {
            continue;
        }
        let url = url.trim_start_matches('<').trim_end_matches('>');
        let query = url.split_once('?')?.1;
        return query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == "cursor")
            .map(|(_, v)| decode_query(v));
    }
    None
}

/// Parses one list response (JSON body + `Link` header).
pub fn parse_page(body: &[u8], link: Option<&str>) -> Result<DeliveryPage, GitHubError> {
    let items: Vec<HookDelivery> =
        serde_json::from_slice(body).map_err(|e| GitHubError::Other {
            status: None,
            message: format!("unexpected delivery list: {e}"),
        })?;
    Ok(DeliveryPage {
        items,
        next_cursor: link.and_then(next_cursor),
    })
}

/// [`HookDeliveries`] over the REST client, authenticated as the App (JWT).
pub struct GitHubHookDeliveries {
    client: super::client::RestClient,
}

impl GitHubHookDeliveries {
    /// Uses the App's credentials (and the client's retry policy).
    pub fn new(auth: Arc<super::auth::AppAuth>) -> Self {
        let policy = auth.policy().clone();
        Self {
            client: super::client::RestClient::new(super::client::Credentials::App(auth), policy),
        }
    }
}

#[async_trait]
impl HookDeliveries for GitHubHookDeliveries {
    async fn list(&self, cursor: Option<&str>) -> Result<DeliveryPage, GitHubError> {
        let r = self
            .client
            .send(
                http::Method::GET,
                &list_path(cursor),
                None,
                None,
                "/app/hook/deliveries",
            )
            .await?;
        if !r.status.is_success() {
            return Err(GitHubError::Other {
                status: Some(r.status.as_u16()),
                message: "listing the App's webhook deliveries".into(),
            });
        }
        let link = r
            .headers
            .get(http::header::LINK)
            .and_then(|v| v.to_str().ok());
        parse_page(&r.body, link)
    }

    async fn redeliver(&self, id: u64) -> Result<(), GitHubError> {
        let r = self
            .client
            .send(
                http::Method::POST,
                &format!("/app/hook/deliveries/{id}/attempts"),
                None,
                None,
                "/app/hook/deliveries/{id}/attempts",
            )
            .await?;
        if !r.status.is_success() {
            return Err(GitHubError::Other {
                status: Some(r.status.as_u16()),
                message: format!("redelivering webhook delivery {id}"),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_cursor_from_github_link_header() {
        let link = "<https://api.github.com/app/hook/deliveries?per_page=100&cursor=v1_12077215967>; rel=\"next\"";
        assert_eq!(next_cursor(link).as_deref(), Some("v1_12077215967"));
        let both = "<https://x/app/hook/deliveries?cursor=a%2Bb&per_page=100>; rel=\"prev\", \
                    <https://x/app/hook/deliveries?per_page=100&cursor=c%3D>; rel=\"next\"";
        assert_eq!(next_cursor(both).as_deref(), Some("c="));
        assert_eq!(next_cursor("<https://x/a?cursor=z>; rel=\"prev\""), None);
        assert_eq!(next_cursor(""), None);
    }

    #[test]
    fn list_path_encodes_cursor() {
        assert_eq!(list_path(None), "/app/hook/deliveries?per_page=100");
        assert_eq!(
            list_path(Some("a+b=")),
            "/app/hook/deliveries?per_page=100&cursor=a%2Bb%3D"
        );
    }

    #[test]
    fn success_is_ok_status_or_2xx_3xx() {
        let mut d = HookDelivery {
            id: 1,
            guid: "g".into(),
            delivered_at: Utc::now(),
            redelivery: false,
            status: "Invalid HTTP Response: 503".into(),
            status_code: Some(503),
            event: "push".into(),
            action: None,
        };
        assert!(!d.succeeded());
        d.status_code = Some(302);
        assert!(d.succeeded());
        d.status_code = None;
        d.status = "OK".into();
        assert!(d.succeeded());
        d.status = "timed out".into();
        d.status_code = Some(0);
        assert!(!d.succeeded());
    }

    #[test]
    fn parses_documented_list_item() {
        let body = br#"[{"id":12345678,"guid":"0b989ba4-242f-11e5-81e1-c7b6966d2516",
            "delivered_at":"2019-06-03T00:57:16Z","redelivery":false,"duration":0.27,
            "status":"OK","status_code":200,"event":"issues","action":"opened",
            "installation_id":123,"repository_id":456,"throttled_at":"2019-06-03T00:57:16Z"}]"#;
        let p = parse_page(body, None).unwrap();
        assert_eq!(p.items.len(), 1);
        assert_eq!(p.items[0].id, 12345678);
        assert!(p.items[0].succeeded());
        assert!(parse_page(b"{\"message\":\"Bad credentials\"}", None).is_err());
    }
}
