//! [`RestClient`]: the [`GitHub`] trait over octocrab raw requests.
//!
//! Every request goes through [`RestClient::send`]: one place that adds
//! headers, counts the call (metric by endpoint template and status),
//! records the remaining rate limit, and retries with bounded attempts —
//! 5xx and transport errors with exponential backoff, 403/429 rate limits
//! honouring `retry-after` / `x-ratelimit-reset` (a wait longer than the
//! policy allows is not slept: the call fails with `RateLimited`), a 401 on
//! an installation token once after dropping the cached token.
//! Paths are relative so octocrab's base URI (with any `/api/v3` prefix)
//! applies to every call.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use bytes::Bytes;
use chrono::{DateTime, TimeZone, Utc};
use http::{HeaderMap, Method, StatusCode};
use http_body_util::BodyExt;
use octocrab::Octocrab;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::auth::AppAuth;
use super::error::GitHubError;
use super::*;
use crate::engine::ids::RepoName;
use crate::github::retry::RetryPolicy;

/// Largest response body we read (blobs are ≤ 100 MB on GitHub; manifests
/// we evaluate are far smaller, and the pipeline skips large blobs first).
const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;
/// Items per page for list endpoints (GitHub's maximum).
const PER_PAGE: usize = 100;
/// Open issues scanned when looking for an alert's fingerprint.
const MAX_ISSUES_SCANNED: usize = 1000;

/// Who a request is made as.
#[derive(Clone)]
pub enum Credentials {
    /// An App installation (token from [`AppAuth`]).
    Installation {
        /// App credentials.
        auth: Arc<AppAuth>,
        /// Installation id.
        id: u64,
    },
    /// The App itself (JWT), for `/app/...` endpoints.
    App(Arc<AppAuth>),
    /// A fixed token (the `check-pr` CLI with `GITHUB_TOKEN`).
    Token(Arc<Octocrab>),
}

/// A response read into memory.
#[derive(Debug)]
pub struct RawResponse {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
}

/// The REST implementation of [`GitHub`].
#[derive(Clone)]
pub struct RestClient {
    creds: Credentials,
    policy: RetryPolicy,
}

impl RestClient {
    /// A client with the given credentials.
    pub fn new(creds: Credentials, policy: RetryPolicy) -> Self {
        Self { creds, policy }
    }

    /// A client authenticated with a plain token (`GITHUB_TOKEN`) against
    /// `api_url`.
    pub fn with_token(
        api_url: &str,
        token: secrecy::SecretString,
        policy: RetryPolicy,
    ) -> Result<Self, GitHubError> {
        let octo = super::auth::build_octocrab(api_url, Some(token))?;
        Ok(Self::new(Credentials::Token(Arc::new(octo)), policy))
    }

    fn installation_label(&self) -> u64 {
        match &self.creds {
            Credentials::Installation { id, .. } => *id,
            _ => 0,
        }
    }

    async fn client(&self) -> Result<(Arc<Octocrab>, Option<String>), GitHubError> {
        match &self.creds {
            Credentials::Installation { auth, id } => {
                Ok((auth.installation_client(*id).await?, None))
            }
            Credentials::App(auth) => Ok((auth.bare(), Some(format!("Bearer {}", auth.jwt()?)))),
            Credentials::Token(o) => Ok((o.clone(), None)),
        }
    }

    /// Sends one request with retries (see [`send_with_retries`]); on a
    /// 401 with an installation token, drops the cached token and tries
    /// once more with a fresh one.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        accept: Option<&str>,
        endpoint: &'static str,
    ) -> Result<RawResponse, GitHubError> {
        let spec = SendSpec {
            method,
            path,
            body,
            accept,
            endpoint,
        };
        let mut refreshed = false;
        loop {
            let (octo, auth_header) = self.client().await?;
            match send_with_retries(
                &octo,
                auth_header.as_deref(),
                &spec,
                &self.policy,
                self.installation_label(),
            )
            .await
            {
                Ok(r) => return Ok(r),
                Err(SendError::Unauthorized(msg)) => match (&self.creds, refreshed) {
                    (Credentials::Installation { auth, id }, false) => {
                        // Revoked or expired early: one retry with a new token.
                        auth.invalidate(*id).await;
                        refreshed = true;
                        crate::github::metrics::api_retry("auth");
                    }
                    _ => return Err(GitHubError::Auth(msg)),
                },
                Err(SendError::GitHub(e)) => return Err(e),
            }
        }
    }

    /// Sends and decodes JSON.
    pub async fn json<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        endpoint: &'static str,
    ) -> Result<T, GitHubError> {
        let body = body
            .map(serde_json::to_value)
            .transpose()
            .map_err(|e| GitHubError::other(format!("cannot encode request: {e}")))?;
        let raw = self
            .send(method, path, body.as_ref(), None, endpoint)
            .await?;
        serde_json::from_slice(&raw.body)
            .map_err(|e| GitHubError::other(format!("{endpoint}: unexpected response: {e}")))
    }

    async fn get<T: DeserializeOwned>(&self, path: &str, endpoint: &'static str) -> GhResult<T> {
        self.json::<T, ()>(Method::GET, path, None, endpoint).await
    }

    /// GETs every page of a list endpoint, up to `max` items. Returns the
    /// items and whether more exist beyond `max`.
    async fn get_pages<T: DeserializeOwned>(
        &self,
        path: &str,
        endpoint: &'static str,
        max: usize,
    ) -> GhResult<(Vec<T>, bool)> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut out: Vec<T> = Vec::new();
        for page in 1.. {
            let url = format!("{path}{sep}per_page={PER_PAGE}&page={page}");
            let raw = self.send(Method::GET, &url, None, None, endpoint).await?;
            let items: Vec<T> = serde_json::from_slice(&raw.body)
                .map_err(|e| GitHubError::other(format!("{endpoint}: unexpected response: {e}")))?;
            let n = items.len();
            out.extend(items);
            if out.len() > max {
                out.truncate(max);
                return Ok((out, true));
            }
            if !has_next_page(&raw.headers, n) {
                break;
            }
            if out.len() == max {
                return Ok((out, true));
            }
        }
        Ok((out, false))
    }

    fn repo_path(repo: &RepoName) -> String {
        format!(
            "/repos/{}/{}",
            encode_segment(repo.owner()),
            encode_segment(repo.name())
        )
    }
}

/// One request to send.
pub struct SendSpec<'a> {
    /// Method.
    pub method: Method,
    /// Path relative to the API root (with query).
    pub path: &'a str,
    /// JSON body.
    pub body: Option<&'a serde_json::Value>,
    /// `Accept` header (default `application/vnd.github+json`).
    pub accept: Option<&'a str>,
    /// Static route template for the metric (bounded labels).
    pub endpoint: &'static str,
}

/// Failure of [`send_with_retries`].
#[derive(Debug)]
pub enum SendError {
    /// 401: the caller may refresh its credentials and retry.
    Unauthorized(String),
    /// Anything else.
    GitHub(GitHubError),
}

impl SendError {
    /// As a [`GitHubError`].
    pub fn into_github(self) -> GitHubError {
        match self {
            SendError::Unauthorized(m) => GitHubError::Auth(m),
            SendError::GitHub(e) => e,
        }
    }
}

impl From<GitHubError> for SendError {
    fn from(e: GitHubError) -> Self {
        SendError::GitHub(e)
    }
}

fn backoff(policy: &RetryPolicy, attempt: u32) -> Duration {
    let exp = policy
        .base_delay
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(10));
    exp.min(policy.max_wait)
}

/// Sends one request through `octo` with bounded retries: 5xx and
/// transport errors with exponential backoff (or `retry-after`), 403/429
/// rate limits after the wait GitHub asks for (a wait beyond
/// `policy.max_wait` is not slept: `RateLimited` at once). Counts every
/// attempt in the API-call metric and records the remaining rate limit.
pub async fn send_with_retries(
    octo: &Octocrab,
    auth_header: Option<&str>,
    spec: &SendSpec<'_>,
    policy: &RetryPolicy,
    installation: u64,
) -> Result<RawResponse, SendError> {
    let endpoint = spec.endpoint;
    let attempts = policy.max_attempts.max(1);
    let mut last_err = GitHubError::Transient("no attempt made".into());
    for attempt in 1..=attempts {
        let mut builder = http::Request::builder()
            .method(spec.method.clone())
            .uri(spec.path)
            .header(
                http::header::ACCEPT,
                spec.accept.unwrap_or("application/vnd.github+json"),
            );
        if let Some(h) = auth_header {
            builder = builder.header(http::header::AUTHORIZATION, h);
        }
        let request = octo
            .build_request(builder, spec.body)
            .map_err(|e| GitHubError::other(format!("cannot build request: {e}")))?;
        let response = match octo.execute(request).await {
            Ok(r) => r,
            Err(e) => {
                crate::github::metrics::api_call(endpoint, 0);
                last_err = GitHubError::Transient(format!("{endpoint}: {e}"));
                if attempt < attempts {
                    crate::github::metrics::api_retry("transport");
                    tokio::time::sleep(backoff(policy, attempt)).await;
                }
                continue;
            }
        };
        let status = response.status();
        let headers = response.headers().clone();
        let body = match http_body_util::Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
            .collect()
            .await
        {
            Ok(b) => b.to_bytes(),
            Err(e) => {
                crate::github::metrics::api_call(endpoint, status.as_u16());
                last_err = GitHubError::Transient(format!("{endpoint}: reading body: {e}"));
                if attempt < attempts {
                    crate::github::metrics::api_retry("transport");
                    tokio::time::sleep(backoff(policy, attempt)).await;
                }
                continue;
            }
        };
        crate::github::metrics::api_call(endpoint, status.as_u16());
        if let Some(rem) = header_u64(&headers, "x-ratelimit-remaining") {
            crate::github::metrics::rate_limit_remaining(installation, rem);
        }
        if status.is_success() || status == StatusCode::NOT_MODIFIED {
            return Ok(RawResponse {
                status,
                headers,
                body,
            });
        }
        let message = error_message(&body);
        match status.as_u16() {
            401 => {
                return Err(SendError::Unauthorized(format!(
                    "{endpoint}: 401 {message}"
                )));
            }
            403 | 429 => {
                let Some((wait, reset)) =
                    rate_limit_wait(status, &headers, &message, policy, Utc::now())
                else {
                    return Err(GitHubError::Auth(format!(
                        "{endpoint}: {} {message}",
                        status.as_u16()
                    ))
                    .into());
                };
                if attempt >= attempts || wait > policy.max_wait {
                    tracing::warn!(endpoint, wait_secs = wait.as_secs(), "rate limited");
                    return Err(GitHubError::RateLimited { reset }.into());
                }
                crate::github::metrics::api_retry("rate_limited");
                tracing::info!(
                    endpoint,
                    wait_ms = wait.as_millis() as u64,
                    "rate limited; waiting"
                );
                tokio::time::sleep(wait).await;
                last_err = GitHubError::RateLimited { reset };
            }
            404 | 410 => return Err(GitHubError::NotFound(format!("{endpoint}: {message}")).into()),
            500..=599 => {
                last_err =
                    GitHubError::Transient(format!("{endpoint}: {} {message}", status.as_u16()));
                if attempt < attempts {
                    crate::github::metrics::api_retry("server_error");
                    let wait = retry_after(&headers)
                        .unwrap_or_else(|| backoff(policy, attempt))
                        .min(policy.max_wait);
                    tokio::time::sleep(wait).await;
                }
            }
            code => {
                return Err(GitHubError::Other {
                    status: Some(code),
                    message: format!("{endpoint}: {message}"),
                }
                .into());
            }
        }
    }
    Err(last_err.into())
}

/// Whether another page follows: GitHub's `Link: <…>; rel="next"` when a
/// `Link` header is present; otherwise a full page suggests more.
fn has_next_page(headers: &HeaderMap, items: usize) -> bool {
    match headers
        .get(http::header::LINK)
        .and_then(|v| v.to_str().ok())
    {
        Some(link) => link
            .split(',')
            .any(|part| part.contains("rel=\"next\"") || part.contains("rel=next")),
        None => items >= PER_PAGE,
    }
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    header_u64(headers, "retry-after").map(Duration::from_secs)
}

fn error_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Msg {
        message: Option<String>,
    }
    let msg = serde_json::from_slice::<Msg>(body)
        .ok()
        .and_then(|m| m.message)
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned());
    msg.chars().take(300).collect()
}

/// Decides whether a 403/429 is a rate limit and how long to wait, per
/// GitHub's guidance: `retry-after` first; else, with
/// `x-ratelimit-remaining: 0`, until `x-ratelimit-reset`; else (429, or a
/// 403 whose message names a secondary rate limit) the policy's
/// secondary wait. `None`: a plain permission error.
pub fn rate_limit_wait(
    status: StatusCode,
    headers: &HeaderMap,
    message: &str,
    policy: &RetryPolicy,
    now: DateTime<Utc>,
) -> Option<(Duration, Option<DateTime<Utc>>)> {
    let reset = header_u64(headers, "x-ratelimit-reset")
        .and_then(|s| Utc.timestamp_opt(s as i64, 0).single());
    if let Some(wait) = retry_after(headers) {
        return Some((
            wait,
            reset.or_else(|| chrono::Duration::from_std(wait).ok().map(|d| now + d)),
        ));
    }
    if header_u64(headers, "x-ratelimit-remaining") == Some(0) {
        let wait = reset
            .map(|r| (r - now).to_std().unwrap_or(Duration::ZERO) + Duration::from_secs(1))
            .unwrap_or(policy.secondary_wait);
        return Some((wait, reset));
    }
    if status == StatusCode::TOO_MANY_REQUESTS
        || message.to_ascii_lowercase().contains("rate limit")
    {
        return Some((policy.secondary_wait, reset));
    }
    None
}

/// REST root of a ruleset's owner.
fn ruleset_root(scope: RulesetScope<'_>) -> String {
    match scope {
        RulesetScope::Repo(repo) => RestClient::repo_path(repo),
        RulesetScope::Org(org) => format!("/orgs/{}", encode_segment(org)),
    }
}

/// Percent-encodes one path segment (RFC 3986 unreserved characters kept).
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Percent-encodes a repository path, keeping `/` separators.
pub fn encode_path(path: &str) -> String {
    path.split('/')
        .map(encode_segment)
        .collect::<Vec<_>>()
        .join("/")
}

fn decode_base64(content: &str) -> GhResult<Vec<u8>> {
    let cleaned: String = content
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(cleaned)
        .map_err(|e| GitHubError::other(format!("invalid base64 content: {e}")))
}

#[derive(serde::Deserialize)]
struct BlobBody {
    #[serde(default)]
    content: String,
    #[serde(default)]
    encoding: String,
}

#[derive(serde::Deserialize)]
struct CheckRunList {
    #[serde(default)]
    check_runs: Vec<CheckRunInfo>,
}

#[async_trait]
impl GitHub for RestClient {
    async fn get_pull(&self, repo: &RepoName, number: u64) -> GhResult<PullRequestInfo> {
        self.get(
            &format!("{}/pulls/{number}", Self::repo_path(repo)),
            "pulls.get",
        )
        .await
    }

    async fn list_pull_files(
        &self,
        repo: &RepoName,
        pr: &PullRequestInfo,
    ) -> GhResult<Vec<PrFile>> {
        let too_many = || {
            GitHubError::Limit(format!(
                "PR #{} changes more than {MAX_PR_FILES} files, GitHub's limit for listing a \
                 pull request's files; it cannot be evaluated completely. Split it into smaller PRs.",
                pr.number
            ))
        };
        if pr.changed_files as usize > MAX_PR_FILES {
            return Err(too_many());
        }
        let path = format!("{}/pulls/{}/files", Self::repo_path(repo), pr.number);
        let (files, more) = self.get_pages(&path, "pulls.files", MAX_PR_FILES).await?;
        if more {
            return Err(too_many());
        }
        Ok(files)
    }

    async fn list_pull_commits(
        &self,
        repo: &RepoName,
        pr: &PullRequestInfo,
    ) -> GhResult<Vec<CommitInfo>> {
        if pr.commits <= MAX_PR_COMMITS_LISTED {
            let path = format!("{}/pulls/{}/commits", Self::repo_path(repo), pr.number);
            let (commits, more) = self
                .get_pages::<CommitInfo>(&path, "pulls.commits", MAX_PR_COMMITS_LISTED as usize)
                .await?;
            // GitHub reports ≤ 250 but lists more: the count was stale; use compare.
            if !more {
                return Ok(commits);
            }
        }
        let cmp = self.compare(repo, &pr.base.sha, &pr.head.sha).await?;
        Ok(cmp.commits)
    }

    async fn list_reviews(&self, repo: &RepoName, number: u64) -> GhResult<Vec<ReviewInfo>> {
        let path = format!("{}/pulls/{number}/reviews", Self::repo_path(repo));
        let (raw, more) = self
            .get_pages::<serde_json::Value>(&path, "pulls.reviews", 10_000)
            .await?;
        if more {
            return Err(GitHubError::Limit(format!(
                "PR #{number} has more than 10000 reviews"
            )));
        }
        // `UserRef` keeps only the login; the account type (bots never
        // count as approvers) is read from the same object.
        raw.into_iter()
            .map(|v| {
                let user_type = v["user"]["type"].as_str().map(str::to_owned);
                let mut r: ReviewInfo = serde_json::from_value(v).map_err(|e| {
                    GitHubError::other(format!("pulls.reviews: unexpected response: {e}"))
                })?;
                r.user_type = user_type;
                Ok(r)
            })
            .collect()
    }

    async fn get_tree(&self, repo: &RepoName, sha: &str) -> GhResult<Tree> {
        let tree: Tree = self
            .get(
                &format!(
                    "{}/git/trees/{}?recursive=1",
                    Self::repo_path(repo),
                    encode_segment(sha)
                ),
                "git.trees",
            )
            .await?;
        Ok(tree)
    }

    async fn get_blob(&self, repo: &RepoName, sha: &str) -> GhResult<Vec<u8>> {
        let blob: BlobBody = self
            .get(
                &format!(
                    "{}/git/blobs/{}",
                    Self::repo_path(repo),
                    encode_segment(sha)
                ),
                "git.blobs",
            )
            .await?;
        match blob.encoding.as_str() {
            "base64" => decode_base64(&blob.content),
            "utf-8" | "utf8" | "" => Ok(blob.content.into_bytes()),
            other => Err(GitHubError::other(format!(
                "unsupported blob encoding {other:?}"
            ))),
        }
    }

    async fn get_file(
        &self,
        repo: &RepoName,
        path: &str,
        git_ref: &str,
    ) -> GhResult<Option<Vec<u8>>> {
        #[derive(serde::Deserialize)]
        struct Content {
            #[serde(rename = "type", default)]
            kind: String,
            #[serde(default)]
            content: String,
            #[serde(default)]
            encoding: String,
            #[serde(default)]
            sha: String,
        }
        let url = format!(
            "{}/contents/{}?ref={}",
            Self::repo_path(repo),
            encode_path(path),
            encode_segment(git_ref)
        );
        // A directory listing is a JSON array: not a file.
        let raw = match self
            .send(Method::GET, &url, None, None, "repos.contents")
            .await
        {
            Ok(r) => r,
            Err(GitHubError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let Ok(c) = serde_json::from_slice::<Content>(&raw.body) else {
            return Ok(None);
        };
        if c.kind != "file" {
            return Ok(None);
        }
        match c.encoding.as_str() {
            "base64" => decode_base64(&c.content).map(Some),
            // Files of 1–100 MB come back with `encoding: none`: fetch the blob.
            _ => self.get_blob(repo, &c.sha).await.map(Some),
        }
    }

    async fn get_commit(&self, repo: &RepoName, sha: &str) -> GhResult<CommitInfo> {
        self.get(
            &format!("{}/commits/{}", Self::repo_path(repo), encode_segment(sha)),
            "repos.commit",
        )
        .await
    }

    async fn find_check_run(
        &self,
        repo: &RepoName,
        head_sha: &str,
        name: &str,
    ) -> GhResult<Option<CheckRunInfo>> {
        let app_id = match &self.creds {
            Credentials::Installation { auth, .. } | Credentials::App(auth) => {
                auth.app_id().parse::<u64>().ok()
            }
            Credentials::Token(_) => None,
        };
        let mut url = format!(
            "{}/commits/{}/check-runs?check_name={}&filter=latest&per_page=100",
            Self::repo_path(repo),
            encode_segment(head_sha),
            encode_segment(name)
        );
        if let Some(id) = app_id {
            url.push_str(&format!("&app_id={id}"));
        }
        let list: CheckRunList = self.get(&url, "checks.list_for_ref").await?;
        Ok(list
            .check_runs
            .into_iter()
            .filter(|r| r.name == name && r.head_sha == head_sha)
            .filter(|r| match (app_id, &r.app) {
                (Some(ours), Some(app)) => app.id == ours,
                _ => true,
            })
            .max_by_key(|r| r.id))
    }

    async fn create_check_run(&self, repo: &RepoName, run: &NewCheckRun) -> GhResult<CheckRunInfo> {
        self.json(
            Method::POST,
            &format!("{}/check-runs", Self::repo_path(repo)),
            Some(run),
            "checks.create",
        )
        .await
    }

    async fn update_check_run(
        &self,
        repo: &RepoName,
        id: u64,
        update: &CheckRunUpdate,
    ) -> GhResult<CheckRunInfo> {
        self.json(
            Method::PATCH,
            &format!("{}/check-runs/{id}", Self::repo_path(repo)),
            Some(update),
            "checks.update",
        )
        .await
    }

    async fn list_annotations(&self, repo: &RepoName, id: u64) -> GhResult<Vec<Annotation>> {
        let path = format!("{}/check-runs/{id}/annotations", Self::repo_path(repo));
        Ok(self.get_pages(&path, "checks.annotations", 50_000).await?.0)
    }

    async fn team_membership(
        &self,
        org: &str,
        team_slug: &str,
        user: &str,
    ) -> GhResult<Option<Membership>> {
        let url = format!(
            "/orgs/{}/teams/{}/memberships/{}",
            encode_segment(org),
            encode_segment(team_slug),
            encode_segment(user)
        );
        match self.get(&url, "teams.membership").await {
            Ok(m) => Ok(Some(m)),
            Err(GitHubError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn org_membership(&self, org: &str, user: &str) -> GhResult<Option<Membership>> {
        let url = format!(
            "/orgs/{}/memberships/{}",
            encode_segment(org),
            encode_segment(user)
        );
        match self.get(&url, "orgs.membership").await {
            Ok(m) => Ok(Some(m)),
            Err(GitHubError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn commit_pulls(&self, repo: &RepoName, sha: &str) -> GhResult<Vec<PullSummary>> {
        let path = format!(
            "{}/commits/{}/pulls",
            Self::repo_path(repo),
            encode_segment(sha)
        );
        Ok(self.get_pages(&path, "repos.commit_pulls", 1000).await?.0)
    }

    async fn list_open_pulls(&self, repo: &RepoName) -> GhResult<Vec<PullSummary>> {
        let path = format!("{}/pulls?state=open", Self::repo_path(repo));
        let (pulls, more) = self
            .get_pages(&path, "pulls.list", crate::github::MAX_OPEN_PULLS)
            .await?;
        if more {
            return Err(GitHubError::Limit(format!(
                "the repository has more than {} open pull requests; gitops-guard cannot \
                 find every pull request sharing a head commit",
                crate::github::MAX_OPEN_PULLS
            )));
        }
        Ok(pulls)
    }

    async fn create_issue(&self, repo: &RepoName, issue: &NewIssue) -> GhResult<IssueInfo> {
        self.json(
            Method::POST,
            &format!("{}/issues", Self::repo_path(repo)),
            Some(issue),
            "issues.create",
        )
        .await
    }

    async fn comment_issue(&self, repo: &RepoName, number: u64, body: &str) -> GhResult<()> {
        let _: serde_json::Value = self
            .json(
                Method::POST,
                &format!("{}/issues/{number}/comments", Self::repo_path(repo)),
                Some(&serde_json::json!({ "body": body })),
                "issues.comment",
            )
            .await?;
        Ok(())
    }

    async fn find_open_issue(
        &self,
        repo: &RepoName,
        label: &str,
        fingerprint: &str,
    ) -> GhResult<Option<IssueInfo>> {
        // The issues list (not search): no indexing delay, so an alert
        // raised seconds after the previous one still finds its issue.
        let path = format!(
            "{}/issues?state=open&labels={}&sort=created&direction=desc",
            Self::repo_path(repo),
            encode_segment(label)
        );
        let (issues, _) = self
            .get_pages::<IssueInfo>(&path, "issues.list", MAX_ISSUES_SCANNED)
            .await?;
        Ok(issues.into_iter().find(|i| {
            i.state == "open"
                && i.labels.iter().any(|l| l.name == label)
                && i.body.as_deref().is_some_and(|b| b.contains(fingerprint))
        }))
    }

    async fn ruleset_history(
        &self,
        scope: RulesetScope<'_>,
        id: u64,
    ) -> GhResult<Vec<RulesetVersion>> {
        let path = format!("{}/rulesets/{id}/history?per_page=30", ruleset_root(scope));
        self.get(&path, "rulesets.history").await
    }

    async fn ruleset_version(
        &self,
        scope: RulesetScope<'_>,
        id: u64,
        version_id: u64,
    ) -> GhResult<serde_json::Value> {
        let path = format!("{}/rulesets/{id}/history/{version_id}", ruleset_root(scope));
        let v: serde_json::Value = self.get(&path, "rulesets.version").await?;
        match v.get("state") {
            Some(state) if state.is_object() => Ok(state.clone()),
            _ => Err(GitHubError::other(
                "rulesets.version: unexpected response: no `state` object",
            )),
        }
    }

    async fn installation_repositories(&self, max: usize) -> GhResult<Vec<InstalledRepo>> {
        #[derive(serde::Deserialize)]
        struct Page {
            #[serde(default)]
            total_count: u64,
            repositories: Vec<InstalledRepo>,
        }
        let mut out = Vec::new();
        for page in 1.. {
            let p: Page = self
                .get(
                    &format!("/installation/repositories?per_page={PER_PAGE}&page={page}"),
                    "installation.repositories",
                )
                .await?;
            let n = p.repositories.len();
            out.extend(p.repositories);
            if out.len() > max || p.total_count as usize > max {
                return Err(GitHubError::Limit(format!(
                    "the installation can access {} repositories, more than {max}",
                    p.total_count.max(out.len() as u64)
                )));
            }
            if n == 0 || out.len() as u64 >= p.total_count {
                break;
            }
        }
        Ok(out)
    }

    async fn compare(&self, repo: &RepoName, base: &str, head: &str) -> GhResult<Comparison> {
        let path = format!(
            "{}/compare/{}...{}",
            Self::repo_path(repo),
            encode_segment(base),
            encode_segment(head)
        );
        let mut all = Comparison::default();
        for page in 1.. {
            let url = format!("{path}?per_page={PER_PAGE}&page={page}");
            let cmp: Comparison = self.get(&url, "repos.compare").await?;
            let n = cmp.commits.len();
            if page == 1 {
                all = Comparison {
                    commits: Vec::new(),
                    ..cmp.clone()
                };
            }
            all.commits.extend(cmp.commits);
            if n == 0 || all.commits.len() as u64 >= all.total_commits {
                break;
            }
            if all.commits.len() >= MAX_PR_COMMITS {
                return Err(GitHubError::Limit(format!(
                    "comparison {base}...{head} has more than {MAX_PR_COMMITS} commits"
                )));
            }
        }
        Ok(all)
    }

    async fn compare_commits(
        &self,
        repo: &RepoName,
        base: &str,
        head: &str,
        max_commits: usize,
    ) -> GhResult<Comparison> {
        // GitHub lists at most 250 commits per compare page; `total_commits`
        // on the first page bounds the work before any further page.
        const COMPARE_PER_PAGE: usize = 250;
        let path = format!(
            "{}/compare/{}...{}",
            Self::repo_path(repo),
            encode_segment(base),
            encode_segment(head)
        );
        let too_many = |n: u64| {
            GitHubError::Limit(format!(
                "comparison {base}...{head} has {n} commits, more than {max_commits}"
            ))
        };
        let mut all = Comparison::default();
        for page in 1.. {
            let url = format!("{path}?per_page={COMPARE_PER_PAGE}&page={page}");
            let cmp: Comparison = self.get(&url, "repos.compare").await?;
            let n = cmp.commits.len();
            if page == 1 {
                if cmp.total_commits as usize > max_commits {
                    return Err(too_many(cmp.total_commits));
                }
                all = Comparison {
                    commits: Vec::new(),
                    ..cmp.clone()
                };
            }
            all.commits.extend(cmp.commits);
            if all.commits.len() > max_commits {
                return Err(too_many(all.commits.len() as u64));
            }
            if n == 0 || all.commits.len() as u64 >= all.total_commits {
                break;
            }
        }
        Ok(all)
    }

    fn app_id(&self) -> Option<u64> {
        match &self.creds {
            Credentials::Installation { auth, .. } | Credentials::App(auth) => {
                auth.app_id().parse::<u64>().ok()
            }
            Credentials::Token(_) => None,
        }
    }

    async fn create_git_commit(&self, repo: &RepoName, commit: &NewGitCommit) -> GhResult<String> {
        let made: ShaRef = self
            .json(
                Method::POST,
                &format!("{}/git/commits", Self::repo_path(repo)),
                Some(commit),
                "git.create_commit",
            )
            .await?;
        Ok(made.sha)
    }

    async fn create_branch(&self, repo: &RepoName, branch: &str, sha: &str) -> GhResult<()> {
        let _: serde_json::Value = self
            .json(
                Method::POST,
                &format!("{}/git/refs", Self::repo_path(repo)),
                Some(&serde_json::json!({ "ref": format!("refs/heads/{branch}"), "sha": sha })),
                "git.create_ref",
            )
            .await?;
        Ok(())
    }

    async fn collaborator_permission(
        &self,
        repo: &RepoName,
        user: &str,
    ) -> GhResult<Option<RepoPermission>> {
        let url = format!(
            "{}/collaborators/{}/permission",
            Self::repo_path(repo),
            encode_segment(user)
        );
        match self.get(&url, "repos.collaborator_permission").await {
            Ok(p) => Ok(Some(p)),
            Err(GitHubError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn team_repo_permission(
        &self,
        org: &str,
        team_slug: &str,
        repo: &RepoName,
    ) -> GhResult<Option<TeamRepoAccess>> {
        let url = format!(
            "/orgs/{}/teams/{}/repos/{}/{}",
            encode_segment(org),
            encode_segment(team_slug),
            encode_segment(repo.owner()),
            encode_segment(repo.name())
        );
        // Without this media type GitHub answers 204 with no body.
        let raw = match self
            .send(
                Method::GET,
                &url,
                None,
                Some("application/vnd.github.v3.repository+json"),
                "teams.repo_permission",
            )
            .await
        {
            Ok(r) => r,
            Err(GitHubError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        serde_json::from_slice(&raw.body).map(Some).map_err(|e| {
            GitHubError::other(format!("teams.repo_permission: unexpected response: {e}"))
        })
    }

    async fn list_timeline(&self, repo: &RepoName, number: u64) -> GhResult<Vec<TimelineEvent>> {
        let path = format!("{}/issues/{number}/timeline", Self::repo_path(repo));
        let (events, more) = self.get_pages(&path, "issues.timeline", 20_000).await?;
        if more {
            // A partial timeline could hide a base change: fail closed.
            return Err(GitHubError::Limit(format!(
                "PR #{number} has more than 20000 timeline events"
            )));
        }
        Ok(events)
    }

    async fn create_pull(&self, repo: &RepoName, pull: &NewPull) -> GhResult<CreatedPull> {
        self.json(
            Method::POST,
            &format!("{}/pulls", Self::repo_path(repo)),
            Some(pull),
            "pulls.create",
        )
        .await
    }
}

/// [`Installations`] backed by the App's credentials.
pub struct AppInstallations {
    auth: Arc<AppAuth>,
}

impl AppInstallations {
    /// Wraps the App credentials.
    pub fn new(auth: Arc<AppAuth>) -> Self {
        Self { auth }
    }
}

impl Installations for AppInstallations {
    fn installation(&self, installation_id: u64) -> Arc<dyn GitHub> {
        Arc::new(RestClient::new(
            Credentials::Installation {
                auth: self.auth.clone(),
                id: installation_id,
            },
            self.auth.policy().clone(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hdrs(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn rate_limit_classification() {
        let p = RetryPolicy::default();
        let now = Utc.timestamp_opt(1_000, 0).unwrap();
        let s403 = StatusCode::FORBIDDEN;
        assert_eq!(
            rate_limit_wait(s403, &hdrs(&[("retry-after", "7")]), "", &p, now)
                .unwrap()
                .0,
            Duration::from_secs(7)
        );
        let (wait, reset) = rate_limit_wait(
            s403,
            &hdrs(&[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", "1010"),
            ]),
            "",
            &p,
            now,
        )
        .unwrap();
        assert_eq!(wait, Duration::from_secs(11));
        assert_eq!(reset.unwrap().timestamp(), 1010);
        assert_eq!(
            rate_limit_wait(
                s403,
                &HeaderMap::new(),
                "You have exceeded a secondary rate limit",
                &p,
                now
            )
            .unwrap()
            .0,
            p.secondary_wait
        );
        assert!(
            rate_limit_wait(
                s403,
                &hdrs(&[("x-ratelimit-remaining", "4000")]),
                "Resource not accessible by integration",
                &p,
                now
            )
            .is_none()
        );
        assert!(
            rate_limit_wait(
                StatusCode::TOO_MANY_REQUESTS,
                &HeaderMap::new(),
                "",
                &p,
                now
            )
            .is_some()
        );
    }

    #[test]
    fn paths_are_encoded() {
        assert_eq!(encode_path("a b/c#d/ü.yaml"), "a%20b/c%23d/%C3%BC.yaml");
        assert_eq!(encode_segment("feature/x"), "feature%2Fx");
    }

    #[test]
    fn next_page_detection() {
        assert!(has_next_page(
            &hdrs(&[(
                "link",
                "<https://x/?page=2>; rel=\"next\", <https://x/?page=5>; rel=\"last\""
            )]),
            3
        ));
        assert!(!has_next_page(
            &hdrs(&[("link", "<https://x/?page=1>; rel=\"prev\"")]),
            100
        ));
        assert!(has_next_page(&HeaderMap::new(), 100));
        assert!(!has_next_page(&HeaderMap::new(), 99));
    }

    #[test]
    fn base64_with_newlines() {
        assert_eq!(decode_base64("aGVs\nbG8=\n").unwrap(), b"hello");
    }
}
