//! A stateful fake of the GitHub REST API, served by axum on 127.0.0.1:0,
//! modelled on rust-lang/bors's test harness: the REAL octocrab client
//! talks HTTP to it, so JWT signing, the installation-token exchange,
//! pagination, retries and check-run batching are all exercised.
//!
//! Modelled: repositories as commits (full file maps), the open-PR list
//! (`GET /pulls?state=`; PRs may share a head commit), recursive trees and
//! blobs by SHA, contents, pull requests (files computed from the base and
//! head commits), reviews, PR commits, check runs (annotations appended per
//! request, ≤ 50 per request enforced, GitHub's text limits enforced),
//! issues and comments, team and org memberships, installation tokens
//! (the app JWT is verified with the App's public key). Failure injection:
//! status codes (rate limits, 5xx) with headers for N matching requests.
//! Every request is recorded for per-endpoint call counts.
//!
//! Served both at `/` and under `/api/v3` (GitHub Enterprise Server).

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// One recorded request.
#[derive(Clone, Debug)]
pub struct Call {
    /// Method.
    pub method: Method,
    /// Path without the `/api/v3` prefix.
    pub path: String,
    /// Query string.
    pub query: String,
    /// JSON body, if any.
    pub body: Option<Value>,
}

/// An injected failure.
#[derive(Clone, Debug)]
pub struct Fault {
    /// Method to match (any if `None`).
    pub method: Option<Method>,
    /// Substring of the path to match.
    pub path_contains: String,
    /// How many more matching requests fail (`usize::MAX`: forever).
    pub remaining: usize,
    /// Status to answer.
    pub status: u16,
    /// Headers to add.
    pub headers: Vec<(String, String)>,
    /// Body (`{"message": …}`).
    pub message: String,
}

/// A check run as the fake holds it.
#[derive(Clone, Debug)]
pub struct FakeCheckRun {
    pub id: u64,
    pub repo: String,
    pub name: String,
    pub head_sha: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub external_id: String,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub text: Option<String>,
    pub annotations: Vec<Value>,
    pub app_id: u64,
    /// PATCH requests received for this run.
    pub patches: usize,
    /// Annotation count of each request that carried annotations (create and patches).
    pub annotation_batches: Vec<usize>,
}

/// A pull request.
#[derive(Clone, Debug)]
pub struct FakePull {
    pub repo: String,
    pub number: u64,
    pub base_ref: String,
    pub base_sha: String,
    pub head_ref: String,
    pub head_sha: String,
    pub state: String,
    pub user: String,
    pub reviews: Vec<Value>,
    pub commits: Vec<Value>,
}

/// An issue.
#[derive(Clone, Debug)]
pub struct FakeIssue {
    pub repo: String,
    pub number: u64,
    pub title: String,
    pub body: String,
    pub labels: Vec<String>,
    pub state: String,
    pub comments: Vec<String>,
}

/// The whole fake state.
#[derive(Default)]
pub struct FakeState {
    pub app_id: String,
    pub public_key_pem: String,
    pub tokens: HashSet<String>,
    pub tokens_issued: usize,
    /// (repo, commit sha) → path → bytes.
    pub commits: HashMap<(String, String), BTreeMap<String, Vec<u8>>>,
    /// Default-branch head per repo (for contents without `ref`).
    pub default_heads: HashMap<String, String>,
    pub blobs: HashMap<String, Vec<u8>>,
    pub pulls: HashMap<(String, u64), FakePull>,
    pub check_runs: Vec<FakeCheckRun>,
    pub issues: Vec<FakeIssue>,
    pub team_members: HashSet<(String, String, String)>,
    /// Invited but not yet accepted: GitHub answers `state: pending`.
    pub pending_team_members: HashSet<(String, String, String)>,
    pub org_members: HashSet<(String, String)>,
    pub faults: Vec<Fault>,
    pub calls: Vec<Call>,
    /// Commit metadata, associated PRs, refs, git data writes (alerts).
    pub alerts: super::fake_alerts::AlertState,
    /// Repository permissions, team grants, PR timelines and the review
    /// clock (reviews gate).
    pub authority: super::fake_reviews::AuthorityState,
    next_id: u64,
}

impl FakeState {
    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

/// Git-like blob id: hex SHA-256 prefix (40 chars) of the content.
pub fn blob_sha(content: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(b"blob\0");
    h.update(content);
    hex::encode(h.finalize())[..40].to_owned()
}

/// The running fake.
#[derive(Clone)]
pub struct FakeGitHub {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Shared state.
    pub state: Arc<Mutex<FakeState>>,
}

impl FakeGitHub {
    /// Starts the fake for an App with `app_id` whose public key is `public_key_pem`.
    pub async fn start(app_id: &str, public_key_pem: &str) -> Self {
        let state = Arc::new(Mutex::new(FakeState {
            app_id: app_id.to_owned(),
            public_key_pem: public_key_pem.to_owned(),
            next_id: 1000,
            ..Default::default()
        }));
        let api = routes(state.clone());
        let app = Router::new().nest("/api/v3", api.clone()).merge(api).layer(
            middleware::from_fn_with_state(state.clone(), record_and_inject),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            url: format!("http://{addr}"),
            state,
        }
    }

    /// Locks the state.
    pub fn st(&self) -> std::sync::MutexGuard<'_, FakeState> {
        self.state.lock().unwrap()
    }

    /// Records a commit with exactly `files`; returns its SHA.
    pub fn commit(&self, repo: &str, files: &[(&str, &str)]) -> String {
        let mut map = BTreeMap::new();
        let mut h = Sha256::new();
        h.update(repo.as_bytes());
        for (p, c) in files {
            map.insert((*p).to_owned(), c.as_bytes().to_vec());
            h.update(p.as_bytes());
            h.update([0]);
            h.update(c.as_bytes());
            h.update([0]);
        }
        let sha = hex::encode(h.finalize())[..40].to_owned();
        let mut st = self.st();
        for content in map.values() {
            st.blobs.insert(blob_sha(content), content.clone());
        }
        st.commits.insert((repo.to_owned(), sha.clone()), map);
        st.default_heads
            .entry(repo.to_owned())
            .or_insert_with(|| sha.clone());
        sha
    }

    /// Opens PR `number` from `head_sha` onto `base_sha`.
    pub fn open_pr(&self, repo: &str, number: u64, base_sha: &str, head_sha: &str) {
        self.st().pulls.insert(
            (repo.to_owned(), number),
            FakePull {
                repo: repo.to_owned(),
                number,
                base_ref: "main".into(),
                base_sha: base_sha.to_owned(),
                head_ref: format!("feature-{number}"),
                head_sha: head_sha.to_owned(),
                state: "open".into(),
                user: "author".into(),
                reviews: Vec::new(),
                // A PR always has a commit; by default one verified commit by its author.
                commits: vec![
                    super::fake_reviews::CommitSpec::signed(
                        &super::fake_reviews::fake_sha(head_sha, 0),
                        "author",
                    )
                    .json(),
                ],
            },
        );
    }

    /// Opens PR `number` from branch `head_ref` at `head_sha` into branch
    /// `base_ref` at `base_sha` (PRs may share a head commit, as on GitHub).
    pub fn open_pr_into(
        &self,
        repo: &str,
        number: u64,
        base_ref: &str,
        base_sha: &str,
        head_ref: &str,
        head_sha: &str,
    ) {
        self.open_pr(repo, number, base_sha, head_sha);
        let mut st = self.st();
        let p = st.pulls.get_mut(&(repo.to_owned(), number)).unwrap();
        p.base_ref = base_ref.to_owned();
        p.head_ref = head_ref.to_owned();
    }

    /// Sets PR `number`'s state (`open` / `closed`).
    pub fn set_pr_state(&self, repo: &str, number: u64, state: &str) {
        self.st()
            .pulls
            .get_mut(&(repo.to_owned(), number))
            .expect("PR exists in the fake")
            .state = state.to_owned();
    }

    /// Injects a failure for the next `times` matching requests.
    pub fn fail(
        &self,
        method: Option<Method>,
        path_contains: &str,
        times: usize,
        status: u16,
        headers: &[(&str, &str)],
    ) {
        self.st().faults.push(Fault {
            method,
            path_contains: path_contains.to_owned(),
            remaining: times,
            status,
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            message: match status {
                403 | 429 => "API rate limit exceeded for installation.".into(),
                _ => "Server Error".into(),
            },
        });
    }

    /// Removes all injected failures.
    pub fn clear_faults(&self) {
        self.st().faults.clear();
    }

    /// Requests whose method matches and whose path contains `path_contains`.
    pub fn calls(&self, method: &Method, path_contains: &str) -> usize {
        self.st()
            .calls
            .iter()
            .filter(|c| c.method == *method && c.path.contains(path_contains))
            .count()
    }

    /// Requests with exactly this method and path.
    pub fn calls_exact(&self, method: &Method, path: &str) -> usize {
        self.st()
            .calls
            .iter()
            .filter(|c| c.method == *method && c.path == path)
            .count()
    }

    /// `METHOD path` of every request, in order (for failure messages).
    pub fn call_log(&self) -> Vec<String> {
        self.st()
            .calls
            .iter()
            .map(|c| format!("{} {}", c.method, c.path))
            .collect()
    }

    /// Total requests.
    pub fn total_calls(&self) -> usize {
        self.st().calls.len()
    }

    /// Check runs on `head_sha` named `name`.
    pub fn runs(&self, head_sha: &str, name: &str) -> Vec<FakeCheckRun> {
        self.st()
            .check_runs
            .iter()
            .filter(|r| r.head_sha == head_sha && r.name == name)
            .cloned()
            .collect()
    }
}

async fn record_and_inject(
    State(st): State<Arc<Mutex<FakeState>>>,
    req: Request,
    next: Next,
) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let path = parts
        .uri
        .path()
        .strip_prefix("/api/v3")
        .unwrap_or(parts.uri.path())
        .to_owned();
    let fault = {
        let mut s = st.lock().unwrap();
        s.calls.push(Call {
            method: parts.method.clone(),
            path: path.clone(),
            query: parts.uri.query().unwrap_or("").to_owned(),
            body: serde_json::from_slice(&bytes).ok(),
        });
        let hit = s.faults.iter_mut().find(|f| {
            f.remaining > 0
                && f.method.as_ref().is_none_or(|m| m == parts.method)
                && path.contains(&f.path_contains)
        });
        hit.map(|f| {
            if f.remaining != usize::MAX {
                f.remaining -= 1;
            }
            f.clone()
        })
    };
    if let Some(f) = fault {
        let mut resp = (
            StatusCode::from_u16(f.status).unwrap(),
            axum::Json(json!({ "message": f.message, "documentation_url": "https://docs.github.com/rest" })),
        )
            .into_response();
        for (k, v) in &f.headers {
            resp.headers_mut().insert(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        return resp;
    }
    let mut resp = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    resp.headers_mut()
        .insert("x-ratelimit-limit", HeaderValue::from_static("5000"));
    resp.headers_mut()
        .insert("x-ratelimit-remaining", HeaderValue::from_static("4990"));
    resp
}

type S = State<Arc<Mutex<FakeState>>>;

fn routes(state: Arc<Mutex<FakeState>>) -> Router {
    Router::new()
        .route("/app", get(get_app))
        .route("/app/installations/{id}/access_tokens", post(access_token))
        .route("/repos/{o}/{r}/pulls", get(list_pulls))
        .route("/repos/{o}/{r}/pulls/{n}", get(get_pull))
        .route("/repos/{o}/{r}/pulls/{n}/files", get(pull_files))
        .route("/repos/{o}/{r}/pulls/{n}/commits", get(pull_commits))
        .route("/repos/{o}/{r}/pulls/{n}/reviews", get(pull_reviews))
        .route("/repos/{o}/{r}/git/trees/{sha}", get(get_tree))
        .route("/repos/{o}/{r}/git/blobs/{sha}", get(get_blob))
        .route("/repos/{o}/{r}/contents/{*path}", get(get_contents))
        .route(
            "/repos/{o}/{r}/commits/{sha}/check-runs",
            get(list_check_runs),
        )
        .route("/repos/{o}/{r}/check-runs", post(create_check_run))
        .route("/repos/{o}/{r}/check-runs/{id}", patch(update_check_run))
        .route(
            "/repos/{o}/{r}/check-runs/{id}/annotations",
            get(list_annotations),
        )
        .route("/repos/{o}/{r}/issues", post(create_issue).get(list_issues))
        .route("/repos/{o}/{r}/issues/{n}/comments", post(comment_issue))
        .route(
            "/orgs/{org}/teams/{team}/memberships/{user}",
            get(team_membership),
        )
        .route("/orgs/{org}/memberships/{user}", get(org_membership))
        .merge(super::fake_alerts::routes())
        .with_state(state.clone())
        .merge(super::fake_reviews::routes(state))
}

fn err(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "message": message }))).into_response()
}

/// Requires a token this fake issued.
/// `Some(401 response)` unless authorised.
/// True when the request carries an installation token this fake issued
/// (`Bearer` or `token` scheme). Shared by every fake module.
pub fn token_ok(st: &FakeState, headers: &HeaderMap) -> bool {
    let h = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let token = h
        .strip_prefix("Bearer ")
        .or_else(|| h.strip_prefix("token "))
        .unwrap_or("");
    st.tokens.contains(token)
}

fn unauthorized(st: &FakeState, headers: &HeaderMap) -> Option<Response> {
    (!token_ok(st, headers)).then(|| err(StatusCode::UNAUTHORIZED, "Bad credentials"))
}

macro_rules! guard {
    ($st:expr, $headers:expr) => {
        if let Some(r) = unauthorized(&$st, &$headers) {
            return r;
        }
    };
}

fn page_params(q: &HashMap<String, String>) -> (usize, usize) {
    page_params_with(q, 30, 100)
}

/// `per_page` (default `default`, at most `max`) and `page` (from 1), as
/// GitHub reads them; compare pages hold up to 250 commits.
pub fn page_params_with(q: &HashMap<String, String>, default: usize, max: usize) -> (usize, usize) {
    let per = q
        .get("per_page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
        .clamp(1, max);
    let page = q
        .get("page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1usize)
        .max(1);
    (per, page)
}

/// A paginated JSON array with GitHub's `Link` header.
fn paged(items: Vec<Value>, q: &HashMap<String, String>, path: &str) -> Response {
    let (per, page) = page_params(q);
    let total = items.len();
    let start = (page - 1) * per;
    let slice: Vec<Value> = items.into_iter().skip(start).take(per).collect();
    let mut resp = axum::Json(Value::Array(slice)).into_response();
    let last = total.div_ceil(per).max(1);
    let mut links = Vec::new();
    if page < last {
        links.push(format!(
            "<http://fake{path}?per_page={per}&page={}>; rel=\"next\"",
            page + 1
        ));
        links.push(format!(
            "<http://fake{path}?per_page={per}&page={last}>; rel=\"last\""
        ));
    }
    if page > 1 {
        links.push(format!(
            "<http://fake{path}?per_page={per}&page={}>; rel=\"prev\"",
            page - 1
        ));
    }
    if !links.is_empty() {
        resp.headers_mut()
            .insert("link", HeaderValue::from_str(&links.join(", ")).unwrap());
    }
    resp
}

#[derive(serde::Deserialize)]
struct Claims {
    iat: i64,
    exp: i64,
    iss: Value,
}

/// Verifies the App JWT as GitHub does (RS256 with the App's public key,
/// `iss` = app id, `exp` at most 10 minutes ahead); `Err` is the response.
fn verify_app_jwt(s: &FakeState, headers: &HeaderMap) -> Result<(), String> {
    let h = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(jwt) = h.strip_prefix("Bearer ") else {
        return Err("A JSON web token could not be decoded".into());
    };
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(s.public_key_pem.as_bytes()).unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    // `iss` is checked below: GitHub accepts a numeric app id, which
    // jsonwebtoken's own `iss` check would treat as missing.
    v.set_required_spec_claims(&["exp", "iat"]);
    v.validate_aud = false;
    let claims = match jsonwebtoken::decode::<Claims>(jwt, &key, &v) {
        Ok(d) => d.claims,
        Err(e) => return Err(format!("invalid JWT: {e}")),
    };
    let now = chrono::Utc::now().timestamp();
    let iss_ok = match &claims.iss {
        Value::String(x) => *x == s.app_id,
        Value::Number(n) => n.to_string() == s.app_id,
        _ => false,
    };
    if !iss_ok || claims.exp > now + 600 || claims.iat > now + 1 || claims.exp <= claims.iat {
        return Err("'Expiration time' claim ('exp') is too far in the future".into());
    }
    Ok(())
}

/// `GET /app` (JWT): the authenticated App, as the server checks at startup.
async fn get_app(State(st): S, headers: HeaderMap) -> Response {
    let s = st.lock().unwrap();
    if let Err(m) = verify_app_jwt(&s, &headers) {
        return err(StatusCode::UNAUTHORIZED, &m);
    }
    let id: u64 = s.app_id.parse().unwrap_or(1);
    axum::Json(json!({"id": id, "slug": "gitops-guard", "name": "gitops-guard", "owner": {"login": "acme"}}))
        .into_response()
}

async fn access_token(State(st): S, Path(id): Path<u64>, headers: HeaderMap) -> Response {
    let mut s = st.lock().unwrap();
    if let Err(m) = verify_app_jwt(&s, &headers) {
        return err(StatusCode::UNAUTHORIZED, &m);
    }
    // Opaque, long, not 40 characters: the App must not assume a format.
    let token = format!("ghs_{id}_{}.{}", s.next_id(), "x".repeat(300));
    s.tokens.insert(token.clone());
    s.tokens_issued += 1;
    let expires = chrono::Utc::now() + chrono::Duration::hours(1);
    (
        StatusCode::CREATED,
        axum::Json(json!({
            "token": token,
            "expires_at": expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "permissions": {"checks": "write", "contents": "read", "pull_requests": "read"},
            "repository_selection": "all"
        })),
    )
        .into_response()
}

fn pull_json(p: &FakePull, changed_files: usize) -> Value {
    json!({
        "number": p.number, "state": p.state, "draft": false,
        "user": {"login": p.user, "id": 1},
        "head": {"ref": p.head_ref, "sha": p.head_sha, "label": "x", "repo": null},
        "base": {"ref": p.base_ref, "sha": p.base_sha, "label": "y", "repo": null},
        "commits": p.commits.len().max(1), "changed_files": changed_files,
        "merged_at": null, "mergeable": true
    })
}

fn diff(s: &FakeState, p: &FakePull) -> Vec<Value> {
    let empty = BTreeMap::new();
    let base = s
        .commits
        .get(&(p.repo.clone(), p.base_sha.clone()))
        .unwrap_or(&empty);
    let head = s
        .commits
        .get(&(p.repo.clone(), p.head_sha.clone()))
        .unwrap_or(&empty);
    let paths: BTreeSet<&String> = base.keys().chain(head.keys()).collect();
    let files: Vec<Value> = paths
        .into_iter()
        .filter_map(|path| {
            let (status, sha) = match (base.get(path), head.get(path)) {
                (None, Some(h)) => ("added", blob_sha(h)),
                (Some(b), None) => ("removed", blob_sha(b)),
                (Some(b), Some(h)) if b != h => ("modified", blob_sha(h)),
                _ => return None,
            };
            Some(json!({
                "sha": sha, "filename": path, "status": status,
                "additions": 1, "deletions": 0, "changes": 1,
                "blob_url": "https://example/blob", "raw_url": "https://example/raw",
                "contents_url": "https://example/contents", "patch": "@@ -0,0 +1 @@"
            }))
        })
        .collect();
    super::fake_reviews::detect_renames(files)
}

async fn get_pull(
    State(st): S,
    Path((o, r, n)): Path<(String, String, u64)>,
    headers: HeaderMap,
) -> Response {
    let s = st.lock().unwrap();
    guard!(s, headers);
    match s.pulls.get(&(format!("{o}/{r}"), n)) {
        Some(p) => axum::Json(pull_json(p, diff(&s, p).len())).into_response(),
        // Merged PRs recorded for push alerts.
        None => match super::fake_alerts::merged_pull_json(&s, &format!("{o}/{r}"), n) {
            Some(v) => axum::Json(v).into_response(),
            None => err(StatusCode::NOT_FOUND, "Not Found"),
        },
    }
}

/// `GET /pulls?state=…` (default `open`), newest first as GitHub lists
/// them; the list omits `commits` and `changed_files`, as GitHub's does.
async fn list_pulls(
    State(st): S,
    Path((o, r)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let s = st.lock().unwrap();
    guard!(s, headers);
    let repo = format!("{o}/{r}");
    let state = q.get("state").map_or("open", String::as_str);
    let mut pulls: Vec<&FakePull> = s
        .pulls
        .values()
        .filter(|p| p.repo == repo && (state == "all" || p.state == state))
        .collect();
    pulls.sort_by_key(|p| std::cmp::Reverse(p.number));
    let items = pulls
        .into_iter()
        .map(|p| {
            let mut v = pull_json(p, 0);
            let o = v.as_object_mut().unwrap();
            o.remove("commits");
            o.remove("changed_files");
            v
        })
        .collect();
    paged(items, &q, &format!("/repos/{o}/{r}/pulls"))
}

async fn pull_files(
    State(st): S,
    Path((o, r, n)): Path<(String, String, u64)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let s = st.lock().unwrap();
    guard!(s, headers);
    match s.pulls.get(&(format!("{o}/{r}"), n)) {
        Some(p) => {
            let mut files = diff(&s, p);
            files.truncate(3000); // GitHub's cap
            paged(files, &q, &format!("/repos/{o}/{r}/pulls/{n}/files"))
        }
        None => err(StatusCode::NOT_FOUND, "Not Found"),
    }
}

async fn pull_commits(
    State(st): S,
    Path((o, r, n)): Path<(String, String, u64)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let s = st.lock().unwrap();
    guard!(s, headers);
    match s.pulls.get(&(format!("{o}/{r}"), n)) {
        Some(p) => paged(
            // GitHub lists at most 250 commits here; the rest only via compare.
            p.commits.iter().take(250).cloned().collect(),
            &q,
            &format!("/repos/{o}/{r}/pulls/{n}/commits"),
        ),
        None => err(StatusCode::NOT_FOUND, "Not Found"),
    }
}

async fn pull_reviews(
    State(st): S,
    Path((o, r, n)): Path<(String, String, u64)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let s = st.lock().unwrap();
    guard!(s, headers);
    match s.pulls.get(&(format!("{o}/{r}"), n)) {
        Some(p) => paged(
            p.reviews.clone(),
            &q,
            &format!("/repos/{o}/{r}/pulls/{n}/reviews"),
        ),
        None => err(StatusCode::NOT_FOUND, "Not Found"),
    }
}

async fn get_tree(
    State(st): S,
    Path((o, r, sha)): Path<(String, String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let s = st.lock().unwrap();
    guard!(s, headers);
    let Some(files) = s.commits.get(&(format!("{o}/{r}"), sha.clone())) else {
        return err(StatusCode::NOT_FOUND, "Not Found");
    };
    let recursive = q.contains_key("recursive");
    let mut entries = Vec::new();
    let mut dirs = BTreeSet::new();
    for (path, content) in files {
        let mut d = path.as_str();
        while let Some((parent, _)) = d.rsplit_once('/') {
            dirs.insert(parent.to_owned());
            d = parent;
        }
        if recursive || !path.contains('/') {
            entries.push(json!({
                "path": path, "mode": "100644", "type": "blob",
                "sha": blob_sha(content), "size": content.len(), "url": "https://example/blob"
            }));
        }
    }
    for d in dirs {
        if recursive || !d.contains('/') {
            entries.push(json!({"path": d, "mode": "040000", "type": "tree", "sha": blob_sha(d.as_bytes()), "url": "https://example/tree"}));
        }
    }
    axum::Json(json!({"sha": sha, "url": "https://example", "tree": entries, "truncated": false}))
        .into_response()
}

fn b64_wrapped(bytes: &[u8]) -> String {
    let enc = base64::engine::general_purpose::STANDARD.encode(bytes);
    // GitHub wraps base64 content at 60 columns.
    enc.as_bytes()
        .chunks(60)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

async fn get_blob(
    State(st): S,
    Path((_o, _r, sha)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let s = st.lock().unwrap();
    guard!(s, headers);
    match s.blobs.get(&sha) {
        Some(b) => axum::Json(json!({
            "sha": sha, "size": b.len(), "encoding": "base64", "content": b64_wrapped(b),
            "url": "https://example", "node_id": "x"
        }))
        .into_response(),
        None => err(StatusCode::NOT_FOUND, "Not Found"),
    }
}

async fn get_contents(
    State(st): S,
    Path((o, r, path)): Path<(String, String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let s = st.lock().unwrap();
    guard!(s, headers);
    let repo = format!("{o}/{r}");
    let git_ref = match q.get("ref").filter(|v| !v.is_empty()) {
        Some(r) => r.clone(),
        None => match s.default_heads.get(&repo) {
            Some(h) => h.clone(),
            None => return err(StatusCode::NOT_FOUND, "Not Found"),
        },
    };
    match s.commits.get(&(repo, git_ref)).and_then(|f| f.get(&path)) {
        Some(b) => axum::Json(json!({
            "type": "file", "encoding": "base64", "size": b.len(), "name": path.rsplit('/').next(),
            "path": path, "content": b64_wrapped(b), "sha": blob_sha(b)
        }))
        .into_response(),
        None => err(StatusCode::NOT_FOUND, "Not Found"),
    }
}

fn run_json(r: &FakeCheckRun) -> Value {
    json!({
        "id": r.id, "name": r.name, "head_sha": r.head_sha, "status": r.status,
        "conclusion": r.conclusion, "external_id": r.external_id,
        "output": {"title": r.title, "summary": r.summary, "text": r.text, "annotations_count": r.annotations.len(),
                   "annotations_url": format!("https://example/check-runs/{}/annotations", r.id)},
        "app": {"id": r.app_id.to_string().parse::<u64>().unwrap_or(0), "slug": "gitops-guard"},
        "pull_requests": []
    })
}

async fn list_check_runs(
    State(st): S,
    Path((o, r, sha)): Path<(String, String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let s = st.lock().unwrap();
    guard!(s, headers);
    let repo = format!("{o}/{r}");
    let mut runs: Vec<&FakeCheckRun> = s
        .check_runs
        .iter()
        .filter(|c| c.repo == repo && c.head_sha == sha)
        .filter(|c| q.get("check_name").is_none_or(|n| *n == c.name))
        .collect();
    runs.sort_by_key(|c| std::cmp::Reverse(c.id));
    if q.get("filter").is_none_or(|f| f == "latest") {
        let mut seen = HashSet::new();
        runs.retain(|c| seen.insert(c.name.clone()));
    }
    let list: Vec<Value> = runs.iter().map(|r| run_json(r)).collect();
    axum::Json(json!({"total_count": list.len(), "check_runs": list})).into_response()
}

/// Validates and applies `output` the way GitHub does; `Err` is a 422.
fn apply_output(run: &mut FakeCheckRun, output: &Value) -> Result<(), String> {
    let title = output
        .get("title")
        .and_then(Value::as_str)
        .ok_or("output.title is required")?;
    let summary = output
        .get("summary")
        .and_then(Value::as_str)
        .ok_or("output.summary is required")?;
    if summary.chars().count() > 65535 {
        return Err("output.summary is too long (maximum is 65535 characters)".into());
    }
    if let Some(text) = output.get("text").and_then(Value::as_str)
        && text.chars().count() > 65535
    {
        return Err("output.text is too long".into());
    }
    let anns = output
        .get("annotations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if anns.len() > 50 {
        return Err("Only 50 annotations are allowed per request".into());
    }
    for a in &anns {
        for k in [
            "path",
            "start_line",
            "end_line",
            "annotation_level",
            "message",
        ] {
            if a.get(k).is_none() {
                return Err(format!("annotation missing {k}"));
            }
        }
        let lvl = a["annotation_level"].as_str().unwrap_or("");
        if !["notice", "warning", "failure"].contains(&lvl) {
            return Err(format!("invalid annotation_level {lvl}"));
        }
        if a["start_line"].as_u64().unwrap_or(0) < 1 {
            return Err("start_line must be >= 1".into());
        }
        if a["message"].as_str().unwrap_or("").len() > 64 * 1024 {
            return Err("annotation message too long".into());
        }
        if a.get("title")
            .and_then(Value::as_str)
            .is_some_and(|t| t.chars().count() > 255)
        {
            return Err("annotation title too long".into());
        }
    }
    run.title = Some(title.to_owned());
    run.summary = Some(summary.to_owned());
    run.text = output
        .get("text")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if !anns.is_empty() {
        run.annotation_batches.push(anns.len());
    }
    run.annotations.extend(anns);
    Ok(())
}

fn apply_fields(run: &mut FakeCheckRun, body: &Value) -> Result<(), String> {
    if let Some(s) = body.get("status").and_then(Value::as_str) {
        if !["queued", "in_progress", "completed"].contains(&s) {
            return Err(format!("invalid status {s}"));
        }
        run.status = s.to_owned();
        if s != "completed" {
            run.conclusion = None;
        }
    }
    if let Some(c) = body.get("conclusion").and_then(Value::as_str) {
        if ![
            "action_required",
            "cancelled",
            "failure",
            "neutral",
            "success",
            "skipped",
            "timed_out",
        ]
        .contains(&c)
        {
            return Err(format!("invalid conclusion {c}"));
        }
        run.conclusion = Some(c.to_owned());
        run.status = "completed".into();
    }
    if let Some(e) = body.get("external_id").and_then(Value::as_str) {
        run.external_id = e.to_owned();
    }
    if let Some(o) = body.get("output") {
        apply_output(run, o)?;
    }
    Ok(())
}

async fn create_check_run(
    State(st): S,
    Path((o, r)): Path<(String, String)>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut s = st.lock().unwrap();
    guard!(s, headers);
    let (Some(name), Some(head_sha)) = (body["name"].as_str(), body["head_sha"].as_str()) else {
        return err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "name and head_sha are required",
        );
    };
    let id = s.next_id();
    let app_id = s.app_id.parse().unwrap_or(0);
    let mut run = FakeCheckRun {
        id,
        repo: format!("{o}/{r}"),
        name: name.to_owned(),
        head_sha: head_sha.to_owned(),
        status: "queued".into(),
        conclusion: None,
        external_id: String::new(),
        title: None,
        summary: None,
        text: None,
        annotations: Vec::new(),
        app_id,
        patches: 0,
        annotation_batches: Vec::new(),
    };
    if let Err(e) = apply_fields(&mut run, &body) {
        return err(StatusCode::UNPROCESSABLE_ENTITY, &e);
    }
    let json = run_json(&run);
    s.check_runs.push(run);
    (StatusCode::CREATED, axum::Json(json)).into_response()
}

async fn update_check_run(
    State(st): S,
    Path((o, r, id)): Path<(String, String, u64)>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut s = st.lock().unwrap();
    guard!(s, headers);
    let repo = format!("{o}/{r}");
    let Some(run) = s
        .check_runs
        .iter_mut()
        .find(|c| c.id == id && c.repo == repo)
    else {
        return err(StatusCode::NOT_FOUND, "Not Found");
    };
    let mut updated = run.clone();
    if let Err(e) = apply_fields(&mut updated, &body) {
        return err(StatusCode::UNPROCESSABLE_ENTITY, &e);
    }
    updated.patches += 1;
    *run = updated;
    axum::Json(run_json(run)).into_response()
}

async fn list_annotations(
    State(st): S,
    Path((o, r, id)): Path<(String, String, u64)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let s = st.lock().unwrap();
    guard!(s, headers);
    let Some(run) = s.check_runs.iter().find(|c| c.id == id) else {
        return err(StatusCode::NOT_FOUND, "Not Found");
    };
    // GitHub echoes extra fields and nulls for unset ones.
    let items: Vec<Value> = run
        .annotations
        .iter()
        .map(|a| {
            let mut a = a.clone();
            a["blob_href"] = json!("https://example/blob");
            a["raw_details"] = a.get("raw_details").cloned().unwrap_or(Value::Null);
            a["start_column"] = a.get("start_column").cloned().unwrap_or(Value::Null);
            a["end_column"] = a.get("end_column").cloned().unwrap_or(Value::Null);
            a
        })
        .collect();
    paged(
        items,
        &q,
        &format!("/repos/{o}/{r}/check-runs/{id}/annotations"),
    )
}

fn issue_json(i: &FakeIssue) -> Value {
    json!({
        "number": i.number, "title": i.title, "body": i.body, "state": i.state,
        "html_url": format!("https://github.com/{}/issues/{}", i.repo, i.number),
        "labels": i.labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>()
    })
}

async fn create_issue(
    State(st): S,
    Path((o, r)): Path<(String, String)>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut s = st.lock().unwrap();
    guard!(s, headers);
    let Some(title) = body["title"].as_str() else {
        return err(StatusCode::UNPROCESSABLE_ENTITY, "title is required");
    };
    let repo = format!("{o}/{r}");
    let number = s.issues.iter().filter(|i| i.repo == repo).count() as u64 + 1;
    let issue = FakeIssue {
        repo,
        number,
        title: title.to_owned(),
        body: body["body"].as_str().unwrap_or("").to_owned(),
        labels: body["labels"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        state: "open".into(),
        comments: Vec::new(),
    };
    let json = issue_json(&issue);
    s.issues.push(issue);
    (StatusCode::CREATED, axum::Json(json)).into_response()
}

async fn list_issues(
    State(st): S,
    Path((o, r)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let s = st.lock().unwrap();
    guard!(s, headers);
    let repo = format!("{o}/{r}");
    let labels: Vec<&str> = q
        .get("labels")
        .map(|l| l.split(',').collect())
        .unwrap_or_default();
    let state = q.get("state").map(String::as_str).unwrap_or("open");
    let items: Vec<Value> = s
        .issues
        .iter()
        .rev()
        .filter(|i| i.repo == repo && (state == "all" || i.state == state))
        .filter(|i| labels.iter().all(|l| i.labels.iter().any(|x| x == l)))
        .map(issue_json)
        .collect();
    paged(items, &q, &format!("/repos/{o}/{r}/issues"))
}

async fn comment_issue(
    State(st): S,
    Path((o, r, n)): Path<(String, String, u64)>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut s = st.lock().unwrap();
    guard!(s, headers);
    let repo = format!("{o}/{r}");
    let id = s.next_id();
    match s
        .issues
        .iter_mut()
        .find(|i| i.repo == repo && i.number == n)
    {
        Some(i) => {
            i.comments
                .push(body["body"].as_str().unwrap_or("").to_owned());
            (
                StatusCode::CREATED,
                axum::Json(json!({"id": id, "body": body["body"]})),
            )
                .into_response()
        }
        None => err(StatusCode::NOT_FOUND, "Not Found"),
    }
}

async fn team_membership(
    State(st): S,
    Path((org, team, user)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let s = st.lock().unwrap();
    guard!(s, headers);
    let key = (org, team, user);
    if s.team_members.contains(&key) {
        axum::Json(json!({"url": "https://example", "role": "member", "state": "active"}))
            .into_response()
    } else if s.pending_team_members.contains(&key) {
        axum::Json(json!({"url": "https://example", "role": "member", "state": "pending"}))
            .into_response()
    } else {
        err(StatusCode::NOT_FOUND, "Not Found")
    }
}

async fn org_membership(
    State(st): S,
    Path((org, user)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let s = st.lock().unwrap();
    guard!(s, headers);
    if s.org_members.contains(&(org, user)) {
        axum::Json(json!({"url": "https://example", "role": "member", "state": "active"}))
            .into_response()
    } else {
        err(StatusCode::NOT_FOUND, "Not Found")
    }
}
