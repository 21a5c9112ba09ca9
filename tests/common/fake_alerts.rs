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
    /// (repo, number) → merged PRs as `GET /pulls/{n}` returns them (with
    /// `merged_by`), for PRs the pull-request fake does not hold.
    pub merged_pulls: HashMap<(String, u64), Value>,
    /// (`repos/{o}/{r}` or `orgs/{org}`, ruleset id) → saved versions,
    /// oldest first (the ruleset history API).
    pub ruleset_versions: HashMap<(String, u64), Vec<Value>>,
    /// `GET /installation/repositories` (`{id, full_name, default_branch}`).
    pub installation_repos: Vec<Value>,
}

/// `GET /pulls/{n}` for a PR recorded by [`FakeGitHub::merged_pr`].
pub fn merged_pull_json(st: &FakeState, repo: &str, number: u64) -> Option<Value> {
    st.alerts
        .merged_pulls
        .get(&(repo.to_owned(), number))
        .cloned()
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
        .route(
            "/repos/{o}/{r}/rulesets/{id}/history",
            get(repo_ruleset_history),
        )
        .route(
            "/repos/{o}/{r}/rulesets/{id}/history/{v}",
            get(repo_ruleset_version),
        )
        .route(
            "/orgs/{org}/rulesets/{id}/history",
            get(org_ruleset_history),
        )
        .route(
            "/orgs/{org}/rulesets/{id}/history/{v}",
            get(org_ruleset_version),
        )
        .route("/installation/repositories", get(installation_repos))
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
    // Branch names resolve through the refs, as on GitHub.
    let (base, head) = {
        let s = st.lock().unwrap();
        let resolve = |x: &str| {
            s.alerts
                .refs
                .get(&(repo.clone(), format!("heads/{x}")))
                .cloned()
                .unwrap_or_else(|| x.to_owned())
        };
        (resolve(base), resolve(head))
    };
    let (base, head) = (base.as_str(), head.as_str());
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
    /// `merge_sha`), an approved PR: its head (`sha`) carries this App's
    /// successful `gitops-guard/reviews` run.
    pub fn associate_pr(&self, repo: &str, sha: &str, number: u64, base: &str, merge_sha: &str) {
        self.reviews_run(repo, sha, "success", None);
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

    /// Records PR `number` merged into `base` through GitHub: every commit
    /// of `commits` lists it as associated, its final head is `head`, the
    /// commit GitHub wrote is `merge_sha`, and `merged_by` merged it. When
    /// `reviews_passed`, this App's `gitops-guard/reviews` run on `head`
    /// concluded `success` (an approved PR); otherwise there is none.
    #[allow(clippy::too_many_arguments)]
    pub fn merged_pr(
        &self,
        repo: &str,
        number: u64,
        base: &str,
        head: &str,
        merge_sha: &str,
        commits: &[&str],
        merged_by: &str,
        reviews_passed: bool,
    ) {
        let pr = json!({
            "number": number, "state": "closed", "merged_at": "2026-01-01T00:00:00Z",
            "merge_commit_sha": merge_sha,
            "base": {"ref": base, "sha": "0000000000000000000000000000000000000000"},
            "head": {"ref": format!("feature-{number}"), "sha": head},
            "user": {"login": "author", "id": 1},
            "merged_by": {"login": merged_by, "id": 2},
            "commits": commits.len(), "changed_files": 1, "draft": false
        });
        {
            let mut st = self.st();
            for c in commits {
                st.alerts
                    .commit_pulls
                    .entry((repo.to_owned(), (*c).to_owned()))
                    .or_default()
                    .push(pr.clone());
            }
            st.alerts.merged_pulls.insert((repo.to_owned(), number), pr);
        }
        if reviews_passed {
            self.reviews_run(repo, head, "success", None);
        }
    }

    /// A completed `gitops-guard/reviews` run on `head` concluding
    /// `conclusion`, posted by this App, or by the App `app_id` when given.
    pub fn reviews_run(&self, repo: &str, head: &str, conclusion: &str, app_id: Option<u64>) {
        let mut st = self.st();
        let app_id = app_id.unwrap_or_else(|| st.app_id.parse().unwrap_or(0));
        let id = 900_000 + st.check_runs.len() as u64;
        st.check_runs.push(super::fake_github::FakeCheckRun {
            id,
            repo: repo.to_owned(),
            name: "gitops-guard/reviews".into(),
            head_sha: head.to_owned(),
            status: "completed".into(),
            conclusion: Some(conclusion.to_owned()),
            external_id: String::new(),
            title: Some(conclusion.to_owned()),
            summary: Some(String::new()),
            text: None,
            annotations: Vec::new(),
            app_id,
            patches: 0,
            annotation_batches: Vec::new(),
        });
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

/// Push scenarios shared by `tests/push_alerts.rs` and
/// `tests/push_movement.rs`: a harness with the real router and worker
/// against the fake GitHub, signed `push` deliveries built from the upstream
/// fixtures, and the issues the alerts opened.
pub mod scenario {
    use std::sync::Arc;

    use axum::http::StatusCode;
    use gitops_guard::cli::server::App;
    use gitops_guard::github::auth::AppAuth;
    use gitops_guard::github::client::AppInstallations;
    use gitops_guard::pipeline::{Dispatcher, PipelineContext};
    use serde_json::{Value, json};

    use super::super::fake_github::{FakeGitHub, FakeIssue};
    use super::super::*;
    use super::{FakeSlack, Who, tree_of};

    pub const CONFIG: &str = ".github/gitops-guard.yml";
    pub const MANIFEST: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n";
    pub const BASIC: &str = "version: 1\npush:\n  branches: [main]\n";

    /// A harness whose App reads `SLACK_URL` from `slack` (not the process env).
    pub async fn harness(slack: Option<&FakeSlack>) -> Harness {
        gitops_guard::cli::server::install_crypto_provider();
        if std::env::var_os("TEST_LOG").is_some() {
            gitops_guard::cli::server::init_tracing();
        }
        let fake = FakeGitHub::start(APP_ID, &keys().public_pem).await;
        let s = settings(&fake.url);
        let auth =
            AppAuth::new(&s.app_id, &s.private_key_pem, &s.api_url, s.retry.clone()).unwrap();
        let url = slack.map(|s| s.url.clone());
        let env: gitops_guard::pipeline::alerts::EnvLookup =
            Arc::new(move |name| (name == "SLACK_URL").then(|| url.clone()).flatten());
        let dispatcher = Dispatcher::new(
            Arc::new(AppInstallations::new(auth)),
            Arc::new(PipelineContext::default()),
        )
        .with_env(env);
        let app = App::with_handler(&s, Arc::new(dispatcher));
        Harness { fake, app }
    }

    /// The trusted base: `main` at a commit holding `config`, made by a member.
    pub fn base(h: &Harness, config: &str) -> String {
        h.fake.add_org_member("acme", "alice");
        let c0 = h.fake.git_commit(
            REPO,
            &[(CONFIG, config), ("apps/a.yaml", MANIFEST)],
            &[],
            "initial",
            &Who::user("alice"),
            &Who::web_flow(),
            true,
        );
        h.fake.set_branch(REPO, "main", &c0);
        c0
    }

    pub struct PushSpec<'a> {
        pub git_ref: &'a str,
        pub before: &'a str,
        pub after: &'a str,
        pub forced: bool,
        pub deleted: bool,
        pub sender: &'a str,
        /// (sha, message, author, committer)
        pub commits: Vec<(String, &'a str, Who, Who)>,
    }

    /// `push` from the upstream fixture, rewritten to `spec`.
    pub fn push_event(fixture_name: &str, spec: &PushSpec) -> Vec<u8> {
        let mut v = fixture(fixture_name);
        let (owner, name) = REPO.split_once('/').unwrap();
        v["repository"]["full_name"] = REPO.into();
        v["repository"]["name"] = name.into();
        v["repository"]["owner"]["login"] = owner.into();
        v["repository"]["owner"]["name"] = owner.into();
        v["repository"]["default_branch"] = "main".into();
        v["repository"]["master_branch"] = "main".into();
        v["installation"] = json!({ "id": INSTALLATION, "node_id": "x" });
        v["ref"] = spec.git_ref.into();
        v["before"] = spec.before.into();
        v["after"] = spec.after.into();
        v["created"] = spec.before.starts_with("0000000").into();
        v["deleted"] = spec.deleted.into();
        v["forced"] = spec.forced.into();
        v["compare"] = format!(
            "https://github.com/{REPO}/compare/{}...{}",
            &spec.before[..12],
            &spec.after[..12]
        )
        .into();
        v["sender"]["login"] = spec.sender.into();
        v["pusher"] = json!({"name": spec.sender, "email": format!("{}@example.com", spec.sender)});
        // Keep the fixture's commit object shape; rewrite ids and identities.
        let template = v["commits"]
            .as_array()
            .and_then(|a| a.first().cloned())
            .unwrap_or_else(|| json!({}));
        let commits: Vec<Value> = spec
            .commits
            .iter()
            .map(|(sha, msg, author, committer)| {
                let mut c = template.clone();
                c["id"] = sha.as_str().into();
                c["tree_id"] = tree_of(sha).into();
                c["message"] = (*msg).into();
                c["author"] = author.payload();
                c["committer"] = committer.payload();
                c["distinct"] = true.into();
                c
            })
            .collect();
        v["head_commit"] = commits.last().cloned().unwrap_or(Value::Null);
        v["commits"] = commits.into();
        serde_json::to_vec(&v).unwrap()
    }

    pub async fn deliver_push(h: &Harness, spec: &PushSpec<'_>) {
        deliver_push_fixture(h, "push.json", spec).await;
    }

    pub async fn deliver_push_fixture(h: &Harness, fixture_name: &str, spec: &PushSpec<'_>) {
        let body = push_event(fixture_name, spec);
        assert_eq!(
            h.deliver("push", &delivery_id(), &body).await,
            StatusCode::ACCEPTED
        );
        h.settle().await;
    }

    pub fn issues(h: &Harness) -> Vec<FakeIssue> {
        h.fake.st().issues.clone()
    }

    pub fn issue_of<'a>(all: &'a [FakeIssue], kind: &str) -> Option<&'a FakeIssue> {
        all.iter()
            .find(|i| i.title.starts_with(&format!("[{kind}]")))
    }
}

// ------------------------------------------------------------- rulesets

/// A ruleset version as the history API lists it.
fn version_entry(v: &Value, i: usize) -> Value {
    json!({
        "version_id": i + 1,
        "actor": {"id": 1, "type": "User"},
        "updated_at": v["updated_at"].clone(),
    })
}

fn ruleset_history(s: &FakeState, scope: String, id: u64) -> Response {
    match s.alerts.ruleset_versions.get(&(scope, id)) {
        Some(vs) => {
            let mut list: Vec<Value> = vs
                .iter()
                .enumerate()
                .map(|(i, v)| version_entry(v, i))
                .collect();
            list.reverse();
            axum::Json(Value::Array(list)).into_response()
        }
        None => err(StatusCode::NOT_FOUND, "Not Found"),
    }
}

fn ruleset_version(s: &FakeState, scope: String, id: u64, v: usize) -> Response {
    match s
        .alerts
        .ruleset_versions
        .get(&(scope, id))
        .and_then(|vs| vs.get(v.wrapping_sub(1)).map(|x| (x, v)))
    {
        Some((state, v)) => {
            let mut e = version_entry(state, v - 1);
            e["state"] = state.clone();
            axum::Json(e).into_response()
        }
        None => err(StatusCode::NOT_FOUND, "Not Found"),
    }
}

async fn repo_ruleset_history(
    State(st): S,
    Path((o, r, id)): Path<(String, String, u64)>,
    headers: HeaderMap,
) -> Response {
    let s = st.lock().unwrap();
    guard!(s, headers);
    ruleset_history(&s, format!("repos/{o}/{r}"), id)
}

async fn repo_ruleset_version(
    State(st): S,
    Path((o, r, id, v)): Path<(String, String, u64, usize)>,
    headers: HeaderMap,
) -> Response {
    let s = st.lock().unwrap();
    guard!(s, headers);
    ruleset_version(&s, format!("repos/{o}/{r}"), id, v)
}

async fn org_ruleset_history(
    State(st): S,
    Path((org, id)): Path<(String, u64)>,
    headers: HeaderMap,
) -> Response {
    let s = st.lock().unwrap();
    guard!(s, headers);
    ruleset_history(&s, format!("orgs/{org}"), id)
}

async fn org_ruleset_version(
    State(st): S,
    Path((org, id, v)): Path<(String, u64, usize)>,
    headers: HeaderMap,
) -> Response {
    let s = st.lock().unwrap();
    guard!(s, headers);
    ruleset_version(&s, format!("orgs/{org}"), id, v)
}

async fn installation_repos(
    State(st): S,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let s = st.lock().unwrap();
    guard!(s, headers);
    let all = &s.alerts.installation_repos;
    let per: usize = q
        .get("per_page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page: usize = q
        .get("page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let items: Vec<Value> = all
        .iter()
        .skip((page - 1) * per)
        .take(per)
        .cloned()
        .collect();
    axum::Json(json!({"total_count": all.len(), "repositories": items})).into_response()
}

impl FakeGitHub {
    /// Saves a new version of a ruleset (`scope`: `repos/{o}/{r}` or
    /// `orgs/{org}`), as editing it on GitHub does; returns the saved state
    /// (with its `updated_at`), which is what the webhook then carries.
    pub fn save_ruleset(&self, scope: &str, mut ruleset: Value) -> Value {
        let mut s = self.st();
        let id = ruleset["id"].as_u64().expect("a ruleset needs an id");
        let versions = s
            .alerts
            .ruleset_versions
            .entry((scope.to_owned(), id))
            .or_default();
        ruleset["updated_at"] = format!("2026-01-01T00:00:{:02}Z", versions.len()).into();
        versions.push(ruleset.clone());
        ruleset
    }

    /// Lets the installation see a repository (`GET /installation/repositories`).
    pub fn add_installation_repo(&self, full_name: &str, id: u64, default_branch: &str) {
        self.st()
            .alerts
            .installation_repos
            .push(json!({"id": id, "full_name": full_name, "default_branch": default_branch}));
    }
}
