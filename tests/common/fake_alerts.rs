//! The parts of the fake GitHub that push and protection alerts use, kept
//! beside `fake_github.rs` (its router merges [`routes`]; its state holds
//! an [`AlertState`]): commit metadata (parents, identities, signature
//! verification, tree), PRs associated with commits, compare (computed
//! from the parent graph, paginated like GitHub), branches, git data writes
//! (commits, refs) and pull-request creation. Also a fake Slack receiver.
//!
//! Calls are recorded by `fake_github`'s middleware, so
//! `FakeGitHub::calls(method, path)` counts these too.

#![allow(dead_code)]

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::fake_github::{FakeGitHub, FakeState};

/// Metadata of one commit.
#[derive(Clone, Debug, Default)]
pub struct CommitMeta {
    pub parents: Vec<String>,
    pub message: String,
    pub author_name: String,
    pub author_email: String,
    pub author_login: Option<String>,
    pub committer_name: String,
    pub committer_email: String,
    pub committer_login: Option<String>,
    pub verified: bool,
    pub reason: String,
}

/// A pull request created through `POST /pulls`.
#[derive(Clone, Debug)]
pub struct CreatedPull {
    pub repo: String,
    pub number: u64,
    pub title: String,
    pub head: String,
    pub base: String,
    pub body: String,
}

/// A commit created through the git data API.
#[derive(Clone, Debug)]
pub struct CreatedCommit {
    pub repo: String,
    pub sha: String,
    pub tree: String,
    pub parents: Vec<String>,
    pub message: String,
}

/// Alert-related fake state.
#[derive(Default)]
pub struct AlertState {
    /// (repo, sha) → metadata.
    pub meta: HashMap<(String, String), CommitMeta>,
    /// (repo, sha) → associated PRs (JSON as GitHub returns them).
    pub commit_pulls: HashMap<(String, String), Vec<Value>>,
    /// (repo, ref name without `refs/`) → sha.
    pub refs: HashMap<(String, String), String>,
    pub created_commits: Vec<CreatedCommit>,
    pub created_pulls: Vec<CreatedPull>,
}

fn err(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "message": message }))).into_response()
}

macro_rules! guard {
    ($st:expr, $headers:expr) => {
        if !super::fake_github::token_ok(&$st, &$headers) {
            return err(StatusCode::UNAUTHORIZED, "Bad credentials");
        }
    };
}

/// Tree id of a fake commit (the fake has no tree objects of its own).
pub fn tree_of(sha: &str) -> String {
    format!("tree-{sha}")
}

fn commit_json(repo: &str, sha: &str, m: &CommitMeta) -> Value {
    let user = |l: &Option<String>| match l {
        Some(l) => json!({"login": l, "id": 1, "type": "User"}),
        None => Value::Null,
    };
    json!({
        "sha": sha,
        "url": format!("https://api.example/repos/{repo}/commits/{sha}"),
        "commit": {
            "message": m.message,
            "author": {"name": m.author_name, "email": m.author_email, "date": "2026-01-01T00:00:00Z"},
            "committer": {"name": m.committer_name, "email": m.committer_email, "date": "2026-01-01T00:00:00Z"},
            "tree": {"sha": tree_of(sha), "url": "https://api.example/tree"},
            "verification": {"verified": m.verified, "reason": m.reason, "signature": null, "payload": null, "verified_at": null},
        },
        "author": user(&m.author_login),
        "committer": user(&m.committer_login),
        "parents": m.parents.iter().map(|p| json!({"sha": p, "url": "https://api.example"})).collect::<Vec<_>>(),
    })
}

/// Ancestors of `sha` (itself included), by the recorded parents.
fn ancestors(st: &AlertState, repo: &str, sha: &str) -> HashSet<String> {
    let mut seen = HashSet::new();
    let mut q = VecDeque::from([sha.to_owned()]);
    while let Some(s) = q.pop_front() {
        if !seen.insert(s.clone()) {
            continue;
        }
        if let Some(m) = st.meta.get(&(repo.to_owned(), s)) {
            q.extend(m.parents.iter().cloned());
        }
    }
    seen
}

/// Commits reachable from `head` but not from `base`, oldest first.
fn range(st: &AlertState, repo: &str, base: &str, head: &str) -> Vec<String> {
    let exclude = ancestors(st, repo, base);
    // Walk first parents back from head, then reverse (chronological).
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut stack = vec![head.to_owned()];
    while let Some(s) = stack.pop() {
        if exclude.contains(&s) || !seen.insert(s.clone()) {
            continue;
        }
        out.push(s.clone());
        if let Some(m) = st.meta.get(&(repo.to_owned(), s)) {
            stack.extend(m.parents.iter().rev().cloned());
        }
    }
    out.reverse();
    out
}

type S = State<Arc<Mutex<FakeState>>>;

/// Routes merged into the fake GitHub's router.
pub fn routes() -> Router<Arc<Mutex<FakeState>>> {
    Router::new()
        .route("/repos/{o}/{r}/commits/{sha}", get(get_commit))
        .route("/repos/{o}/{r}/commits/{sha}/pulls", get(commit_pulls))
        .route("/repos/{o}/{r}/compare/{spec}", get(compare))
        .route("/repos/{o}/{r}/git/commits", post(create_commit))
        .route("/repos/{o}/{r}/git/refs", post(create_ref))
        .route("/repos/{o}/{r}/pulls", post(create_pull))
}

async fn get_commit(
    State(st): S,
    Path((o, r, sha)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let s = st.lock().unwrap();
    guard!(s, headers);
    let repo = format!("{o}/{r}");
    match s.alerts.meta.get(&(repo.clone(), sha.clone())) {
        Some(m) => axum::Json(commit_json(&repo, &sha, m)).into_response(),
        None => err(StatusCode::NOT_FOUND, "No commit found for SHA"),
    }
}

async fn commit_pulls(
    State(st): S,
    Path((o, r, sha)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let s = st.lock().unwrap();
    guard!(s, headers);
    let repo = format!("{o}/{r}");
    if !s.alerts.meta.contains_key(&(repo.clone(), sha.clone())) {
        return err(StatusCode::NOT_FOUND, "No commit found for SHA");
    }
    let prs = s
        .alerts
        .commit_pulls
        .get(&(repo, sha))
        .cloned()
        .unwrap_or_default();
    axum::Json(Value::Array(prs)).into_response()
}

async fn compare(
    State(st): S,
    Path((o, r, spec)): Path<(String, String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let repo = format!("{o}/{r}");
    let Some((base, head)) = spec.split_once("...") else {
        return err(StatusCode::NOT_FOUND, "Not Found");
    };
    // One compare route for the whole fake: commits this module does not
    // model are pull-request ranges, answered by the reviews fake.
    let modelled = {
        let s = st.lock().unwrap();
        [base, head].iter().all(|sha| {
            s.alerts
                .meta
                .contains_key(&(repo.clone(), (*sha).to_owned()))
        })
    };
    if !modelled {
        return super::fake_reviews::compare(State(st), Path((o, r, spec)), Query(q), headers)
            .await;
    }
    let s = st.lock().unwrap();
    guard!(s, headers);
    let ahead = range(&s.alerts, &repo, base, head);
    let behind = range(&s.alerts, &repo, head, base);
    let (per, page) = super::fake_github::page_params_with(&q, 250, 250);
    let commits: Vec<Value> = ahead
        .iter()
        .skip((page - 1) * per)
        .take(per)
        .map(|c| commit_json(&repo, c, &s.alerts.meta[&(repo.clone(), c.clone())]))
        .collect();
    let status = match (ahead.is_empty(), behind.is_empty()) {
        (true, true) => "identical",
        (false, true) => "ahead",
        (true, false) => "behind",
        (false, false) => "diverged",
    };
    axum::Json(json!({
        "status": status, "ahead_by": ahead.len(), "behind_by": behind.len(),
        "total_commits": ahead.len(), "commits": commits, "files": []
    }))
    .into_response()
}

async fn create_commit(
    State(st): S,
    Path((o, r)): Path<(String, String)>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut s = st.lock().unwrap();
    guard!(s, headers);
    let repo = format!("{o}/{r}");
    let (Some(tree), Some(message)) = (body["tree"].as_str(), body["message"].as_str()) else {
        return err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "tree and message are required",
        );
    };
    let parents: Vec<String> = body["parents"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let sha = super::fake_github::blob_sha(format!("{tree}{parents:?}{message}").as_bytes());
    s.alerts.meta.insert(
        (repo.clone(), sha.clone()),
        CommitMeta {
            parents: parents.clone(),
            message: message.to_owned(),
            author_name: "gitops-guard[bot]".into(),
            committer_name: "GitHub".into(),
            committer_email: "noreply@github.com".into(),
            verified: true,
            reason: "valid".into(),
            ..Default::default()
        },
    );
    s.alerts.created_commits.push(CreatedCommit {
        repo,
        sha: sha.clone(),
        tree: tree.to_owned(),
        parents,
        message: message.to_owned(),
    });
    (
        StatusCode::CREATED,
        axum::Json(json!({"sha": sha, "tree": {"sha": tree}})),
    )
        .into_response()
}

async fn create_ref(
    State(st): S,
    Path((o, r)): Path<(String, String)>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut s = st.lock().unwrap();
    guard!(s, headers);
    let repo = format!("{o}/{r}");
    let (Some(name), Some(sha)) = (body["ref"].as_str(), body["sha"].as_str()) else {
        return err(StatusCode::UNPROCESSABLE_ENTITY, "ref and sha are required");
    };
    let Some(name) = name.strip_prefix("refs/") else {
        return err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "ref must start with refs/",
        );
    };
    let key = (repo, name.to_owned());
    if s.alerts.refs.contains_key(&key) {
        return err(StatusCode::UNPROCESSABLE_ENTITY, "Reference already exists");
    }
    s.alerts.refs.insert(key, sha.to_owned());
    (
        StatusCode::CREATED,
        axum::Json(
            json!({"ref": format!("refs/{name}"), "object": {"sha": sha, "type": "commit"}}),
        ),
    )
        .into_response()
}

async fn create_pull(
    State(st): S,
    Path((o, r)): Path<(String, String)>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut s = st.lock().unwrap();
    guard!(s, headers);
    let repo = format!("{o}/{r}");
    let (Some(title), Some(head), Some(base)) = (
        body["title"].as_str(),
        body["head"].as_str(),
        body["base"].as_str(),
    ) else {
        return err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "title, head and base are required",
        );
    };
    if !s
        .alerts
        .refs
        .contains_key(&(repo.clone(), format!("heads/{head}")))
    {
        return err(StatusCode::UNPROCESSABLE_ENTITY, "head does not exist");
    }
    let number = 500 + s.alerts.created_pulls.len() as u64;
    s.alerts.created_pulls.push(CreatedPull {
        repo: repo.clone(),
        number,
        title: title.to_owned(),
        head: head.to_owned(),
        base: base.to_owned(),
        body: body["body"].as_str().unwrap_or("").to_owned(),
    });
    (
        StatusCode::CREATED,
        axum::Json(json!({"number": number, "html_url": format!("https://github.com/{repo}/pull/{number}"), "state": "open"})),
    )
        .into_response()
}

/// Who made a commit, for [`FakeGitHub::git_commit`].
#[derive(Clone, Debug)]
pub struct Who {
    pub name: String,
    pub email: String,
    pub login: Option<String>,
}

impl Who {
    /// A GitHub user `login` with a noreply email.
    pub fn user(login: &str) -> Self {
        Self {
            name: login.to_owned(),
            email: format!("{login}@users.noreply.github.com"),
            login: Some(login.to_owned()),
        }
    }

    /// An identity whose email matches no account.
    pub fn nobody(email: &str) -> Self {
        Self {
            name: "Unknown".into(),
            email: email.to_owned(),
            login: None,
        }
    }

    /// GitHub's merge-button committer.
    pub fn web_flow() -> Self {
        Self {
            name: "GitHub".into(),
            email: "noreply@github.com".into(),
            login: Some("web-flow".into()),
        }
    }

    /// The push payload's identity object.
    pub fn payload(&self) -> Value {
        let mut v = json!({"name": self.name, "email": self.email});
        if let Some(l) = &self.login {
            v["username"] = l.clone().into();
        }
        v
    }
}

impl FakeGitHub {
    /// Records a commit with `files`, `parents`, identities and a signature
    /// state (`verified`); returns its SHA (unique per parents + message).
    #[allow(clippy::too_many_arguments)]
    pub fn git_commit(
        &self,
        repo: &str,
        files: &[(&str, &str)],
        parents: &[&str],
        message: &str,
        author: &Who,
        committer: &Who,
        verified: bool,
    ) -> String {
        // Salt the content with the parents and message so equal trees in
        // different commits get different SHAs.
        let salt = format!("{parents:?}{message}");
        let mut with_salt: Vec<(&str, &str)> = files.to_vec();
        with_salt.push((".fake-commit-salt", &salt));
        let sha = self.commit(repo, &with_salt);
        let mut st = self.st();
        st.alerts.meta.insert(
            (repo.to_owned(), sha.clone()),
            CommitMeta {
                parents: parents.iter().map(|p| (*p).to_owned()).collect(),
                message: message.to_owned(),
                author_name: author.name.clone(),
                author_email: author.email.clone(),
                author_login: author.login.clone(),
                committer_name: committer.name.clone(),
                committer_email: committer.email.clone(),
                committer_login: committer.login.clone(),
                verified,
                reason: if verified { "valid" } else { "unsigned" }.into(),
            },
        );
        sha
    }

    /// Points branch `name` at `sha`: contents with `ref=name` resolve to
    /// that commit's files, and it becomes the default head if it is
    /// `main`.
    pub fn set_branch(&self, repo: &str, name: &str, sha: &str) {
        let mut st = self.st();
        let files = st.commits.get(&(repo.to_owned(), sha.to_owned())).cloned();
        if let Some(f) = files {
            st.commits.insert((repo.to_owned(), name.to_owned()), f);
        }
        st.alerts
            .refs
            .insert((repo.to_owned(), format!("heads/{name}")), sha.to_owned());
        if name == "main" {
            st.default_heads.insert(repo.to_owned(), sha.to_owned());
        }
    }

    /// Says `sha` came with PR `number` merged into `base` (merge commit
    /// `merge_sha`).
    pub fn associate_pr(&self, repo: &str, sha: &str, number: u64, base: &str, merge_sha: &str) {
        self.st()
            .alerts
            .commit_pulls
            .entry((repo.to_owned(), sha.to_owned()))
            .or_default()
            .push(json!({
                "number": number, "state": "closed", "merged_at": "2026-01-01T00:00:00Z",
                "merge_commit_sha": merge_sha,
                "base": {"ref": base, "sha": "0000000000000000000000000000000000000000"},
                "head": {"ref": format!("feature-{number}"), "sha": sha}
            }));
    }

    /// Makes `login` an active member of `org`.
    pub fn add_org_member(&self, org: &str, login: &str) {
        self.st()
            .org_members
            .insert((org.to_owned(), login.to_owned()));
    }
}

/// A Slack-compatible receiver: records every JSON body; answers `status`.
#[derive(Clone)]
pub struct FakeSlack {
    pub url: String,
    pub received: Arc<Mutex<Vec<Value>>>,
    pub status: Arc<Mutex<u16>>,
}

impl FakeSlack {
    /// Starts the receiver on 127.0.0.1.
    pub async fn start() -> Self {
        let received = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(Mutex::new(200u16));
        let (rx, st) = (received.clone(), status.clone());
        let app = Router::new().route(
            "/services/T000/B000/secret",
            post(move |axum::Json(v): axum::Json<Value>| {
                let (rx, st) = (rx.clone(), st.clone());
                async move {
                    rx.lock().unwrap().push(v);
                    let code = *st.lock().unwrap();
                    (StatusCode::from_u16(code).unwrap(), "ok").into_response()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            url: format!("http://{addr}/services/T000/B000/secret"),
            received,
            status,
        }
    }

    /// Messages received so far (`text` fields).
    pub fn texts(&self) -> Vec<String> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(|v| v["text"].as_str().unwrap_or("").to_owned())
            .collect()
    }
}
