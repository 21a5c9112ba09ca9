//! The fake GitHub's review-gate surface: helpers to give a PR reviews,
//! commits with `commit.verification`, an author and team members, the
//! compare endpoint (PR commits past the 250 that `pulls/{n}/commits`
//! lists, paginated like GitHub), and rename detection for the PR file
//! list (`status: renamed` with `previous_filename`, exact-content matches).
//!
//! Authority: repository permissions per user
//! (`GET /repos/{o}/{r}/collaborators/{user}/permission`, GitHub's legacy
//! `permission` plus `role_name`), a team's grant on a repository
//! (`GET /orgs/{org}/teams/{slug}/repos/{o}/{r}`: the repository with
//! `permissions` under the `application/vnd.github.v3.repository+json`
//! media type, 204 without it, 404 without a grant), bot reviewers
//! (`user.type: Bot`), and the PR timeline
//! (`GET /repos/{o}/{r}/issues/{n}/timeline`) with `base_ref_changed` on a
//! retarget. Reviews and timeline events are stamped from one clock, so
//! "before the retarget" is well defined.
//!
//! **Defaults**, so scenarios written before permissions were modelled
//! keep asserting what they did: a user with no explicit permission has
//! `write`, and a team with no explicit grant has `push` (write) on every
//! repository. Attacks set `read`/`triage`/`none` explicitly.

#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::fake_github::{FakeGitHub, FakeState};

/// A PR commit as `GET /pulls/{n}/commits` and compare list it.
#[derive(Clone, Debug)]
pub struct CommitSpec {
    /// SHA (40 hex).
    pub sha: String,
    /// Login GitHub linked the author email to (`None`: unlinked).
    pub author_login: Option<String>,
    /// Login GitHub linked the committer email to.
    pub committer_login: Option<String>,
    /// Git author email.
    pub email: String,
    /// `verification.verified`.
    pub verified: bool,
    /// `verification.reason`.
    pub reason: String,
}

impl CommitSpec {
    /// A verified commit by `login` (author and committer).
    pub fn signed(sha: &str, login: &str) -> Self {
        Self {
            sha: sha.into(),
            author_login: Some(login.into()),
            committer_login: Some(login.into()),
            email: format!("{login}@example.com"),
            verified: true,
            reason: "valid".into(),
        }
    }

    /// The same commit, unverified for `reason`.
    pub fn unverified(mut self, reason: &str) -> Self {
        self.verified = false;
        self.reason = reason.into();
        self
    }

    /// The REST JSON.
    pub fn json(&self) -> Value {
        let name = self
            .author_login
            .clone()
            .unwrap_or_else(|| "Someone".into());
        json!({
            "sha": self.sha,
            "node_id": "C_x",
            "commit": {
                "author": {"name": name, "email": self.email, "date": "2026-01-01T00:00:00Z"},
                "committer": {"name": name, "email": self.email, "date": "2026-01-01T00:00:00Z"},
                "message": format!("commit {}", &self.sha[..7]),
                "tree": {"sha": "0".repeat(40), "url": "https://example"},
                "comment_count": 0,
                "verification": {
                    "verified": self.verified, "reason": self.reason,
                    "signature": if self.verified { json!("-----BEGIN PGP SIGNATURE-----") } else { Value::Null },
                    "payload": null, "verified_at": null
                }
            },
            "author": self.author_login.as_ref().map(|l| json!({"login": l, "id": 1, "type": "User"})),
            "committer": self.committer_login.as_ref().map(|l| json!({"login": l, "id": 2, "type": "User"})),
            "parents": [{"sha": "0".repeat(40), "url": "https://example"}]
        })
    }
}

/// Permissions, grants, bots and timelines (see the module doc).
#[derive(Default)]
pub struct AuthorityState {
    /// (repo, login lower-cased) → role: `admin`, `maintain`, `write`,
    /// `triage`, `read` or `none`. Absent: `write`.
    pub permissions: HashMap<(String, String), String>,
    /// (org, slug) lower-cased → role on every repository: `admin`,
    /// `maintain`, `push`, `triage`, `pull`, or `none` (no grant: 404).
    /// Absent: `push`.
    pub team_roles: HashMap<(String, String), String>,
    /// Logins whose account `type` is `Bot`.
    pub bots: HashSet<String>,
    /// (repo, number) → timeline events we record (base changes).
    pub timelines: HashMap<(String, u64), Vec<Value>>,
    /// Seconds since 2026-01-01T00:00:00Z, advanced by every stamp.
    pub clock: u64,
}

impl AuthorityState {
    /// The next timestamp (RFC 3339, one second after the previous).
    pub fn tick(&mut self) -> String {
        self.clock += 1;
        let base = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap();
        (base + chrono::Duration::seconds(self.clock as i64))
            .with_timezone(&chrono::Utc)
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    }
}

/// A deterministic 40-hex SHA for test commit `i`.
pub fn fake_sha(tag: &str, i: usize) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(tag.as_bytes());
    h.update(i.to_le_bytes());
    hex::encode(h.finalize())[..40].to_owned()
}

impl FakeGitHub {
    fn with_pull<R>(
        &self,
        repo: &str,
        number: u64,
        f: impl FnOnce(&mut super::fake_github::FakePull) -> R,
    ) -> R {
        let mut st = self.st();
        let p = st
            .pulls
            .get_mut(&(repo.to_owned(), number))
            .expect("PR exists in the fake");
        f(p)
    }

    /// Sets the PR author.
    pub fn set_pr_author(&self, repo: &str, number: u64, login: &str) {
        self.with_pull(repo, number, |p| p.user = login.to_owned());
    }

    /// Replaces the PR's commits.
    pub fn set_pr_commits(&self, repo: &str, number: u64, commits: &[CommitSpec]) {
        let list: Vec<Value> = commits.iter().map(CommitSpec::json).collect();
        self.with_pull(repo, number, |p| p.commits = list);
    }

    /// Moves the PR head (a push): reviews stay, as on GitHub without
    /// "dismiss stale reviews".
    pub fn push_head(&self, repo: &str, number: u64, head_sha: &str) {
        self.with_pull(repo, number, |p| p.head_sha = head_sha.to_owned());
    }

    /// Adds a submitted review (`state` upper-case as REST lists it) on
    /// `commit_id`; returns the review id.
    pub fn add_review(
        &self,
        repo: &str,
        number: u64,
        user: &str,
        state: &str,
        commit_id: &str,
    ) -> u64 {
        let mut st = self.st();
        let id = 5000
            + st.pulls
                .values()
                .map(|p| p.reviews.len() as u64)
                .sum::<u64>();
        let kind = if st.authority.bots.contains(&user.to_ascii_lowercase()) {
            "Bot"
        } else {
            "User"
        };
        let submitted_at = st.authority.tick();
        let p = st
            .pulls
            .get_mut(&(repo.to_owned(), number))
            .expect("PR exists in the fake");
        p.reviews.push(json!({
            "id": id, "node_id": "PRR_x",
            "user": {"login": user, "id": 3, "type": kind},
            "body": "", "state": state, "commit_id": commit_id,
            "submitted_at": submitted_at,
            "author_association": "MEMBER",
            "html_url": "https://example", "pull_request_url": "https://example"
        }));
        id
    }

    /// Dismisses review `id` (GitHub rewrites its state to `DISMISSED`).
    pub fn dismiss_review(&self, repo: &str, number: u64, id: u64) {
        self.with_pull(repo, number, |p| {
            for r in &mut p.reviews {
                if r["id"] == id {
                    r["state"] = "DISMISSED".into();
                }
            }
        });
    }

    /// Makes `user` an active member of `org/team`.
    pub fn add_team_member(&self, org: &str, team: &str, user: &str) {
        self.st()
            .team_members
            .insert((org.into(), team.into(), user.into()));
    }

    /// Removes `user` from `org/team`.
    pub fn remove_team_member(&self, org: &str, team: &str, user: &str) {
        self.st()
            .team_members
            .remove(&(org.into(), team.into(), user.into()));
    }

    /// Invites `user` to `org/team` (membership `pending`).
    pub fn invite_team_member(&self, org: &str, team: &str, user: &str) {
        self.st()
            .pending_team_members
            .insert((org.into(), team.into(), user.into()));
    }

    /// Sets `login`'s role on `repo` (`admin`, `maintain`, `write`,
    /// `triage`, `read`, `none`).
    pub fn set_permission(&self, repo: &str, login: &str, role: &str) {
        self.st()
            .authority
            .permissions
            .insert((repo.into(), login.to_ascii_lowercase()), role.into());
    }

    /// Sets `org/team`'s grant on every repository (`admin`, `maintain`,
    /// `push`, `triage`, `pull`, `none`).
    pub fn set_team_permission(&self, org: &str, team: &str, role: &str) {
        self.st().authority.team_roles.insert(
            (org.to_ascii_lowercase(), team.to_ascii_lowercase()),
            role.into(),
        );
    }

    /// Makes `login` a bot account (`type: Bot` on its reviews).
    pub fn set_bot(&self, login: &str) {
        self.st().authority.bots.insert(login.to_ascii_lowercase());
    }

    /// Retargets the PR onto `base_ref` at `base_sha`, as the web UI's
    /// "Edit → base" does: the timeline gets `base_ref_changed`. Reviews
    /// stay (GitHub dismisses them only with "dismiss stale"; the App must
    /// not count them either way).
    pub fn retarget_pr(&self, repo: &str, number: u64, base_ref: &str, base_sha: &str) {
        let mut st = self.st();
        let at = st.authority.tick();
        let id = 9_000_000 + st.authority.clock;
        st.authority
            .timelines
            .entry((repo.to_owned(), number))
            .or_default()
            .push(json!({
                "id": id, "node_id": "BRCE_x",
                "event": "base_ref_changed", "created_at": at,
                "actor": {"login": "author", "id": 1, "type": "User"},
                "commit_id": null, "commit_url": null
            }));
        let p = st
            .pulls
            .get_mut(&(repo.to_owned(), number))
            .expect("PR exists in the fake");
        p.base_ref = base_ref.to_owned();
        p.base_sha = base_sha.to_owned();
    }

    /// Permission, team-grant and timeline requests received so far.
    pub fn authority_calls(&self) -> (usize, usize, usize) {
        let st = self.st();
        let count = |f: &dyn Fn(&str) -> bool| {
            st.calls
                .iter()
                .filter(|c| c.method == Method::GET && f(&c.path))
                .count()
        };
        (
            count(&|p| p.contains("/collaborators/") && p.ends_with("/permission")),
            count(&|p| p.starts_with("/orgs/") && p.contains("/repos/")),
            count(&|p| p.ends_with("/timeline")),
        )
    }

    /// Team-membership lookups received so far.
    pub fn team_membership_calls(&self) -> usize {
        self.st()
            .calls
            .iter()
            .filter(|c| {
                c.method == Method::GET
                    && c.path.starts_with("/orgs/")
                    && c.path.contains("/teams/")
                    && c.path.contains("/memberships/")
            })
            .count()
    }
}

/// Routes added to the fake's router.
pub fn routes(state: Arc<Mutex<FakeState>>) -> Router {
    Router::new()
        .route(
            "/repos/{o}/{r}/collaborators/{user}/permission",
            get(collaborator_permission),
        )
        .route(
            "/orgs/{org}/teams/{team}/repos/{o}/{r}",
            get(team_repo_permission),
        )
        .route("/repos/{o}/{r}/issues/{n}/timeline", get(timeline))
        .with_state(state)
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"message": "Not Found"})),
    )
        .into_response()
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        axum::Json(json!({"message": "Bad credentials"})),
    )
        .into_response()
}

/// `GET /repos/{o}/{r}/collaborators/{user}/permission`: GitHub's legacy
/// `permission` folds maintain into write and triage into read.
async fn collaborator_permission(
    State(st): State<Arc<Mutex<FakeState>>>,
    Path((o, r, user)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let s = st.lock().unwrap();
    if !super::fake_github::token_ok(&s, &headers) {
        return unauthorized();
    }
    let repo = format!("{o}/{r}");
    let role = s
        .authority
        .permissions
        .get(&(repo, user.to_ascii_lowercase()))
        .cloned()
        .unwrap_or_else(|| "write".into());
    let legacy = match role.as_str() {
        "admin" => "admin",
        "maintain" | "write" => "write",
        "triage" | "read" => "read",
        _ => "none",
    };
    let kind = if s.authority.bots.contains(&user.to_ascii_lowercase()) {
        "Bot"
    } else {
        "User"
    };
    axum::Json(json!({
        "permission": legacy,
        "role_name": role,
        "user": {"login": user, "id": 9, "type": kind, "site_admin": false}
    }))
    .into_response()
}

/// `GET /orgs/{org}/teams/{team}/repos/{o}/{r}`.
async fn team_repo_permission(
    State(st): State<Arc<Mutex<FakeState>>>,
    Path((org, team, o, r)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let s = st.lock().unwrap();
    if !super::fake_github::token_ok(&s, &headers) {
        return unauthorized();
    }
    let role = s
        .authority
        .team_roles
        .get(&(org.to_ascii_lowercase(), team.to_ascii_lowercase()))
        .cloned()
        .unwrap_or_else(|| "push".into());
    if role == "none" {
        return not_found();
    }
    let accept = headers
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !accept.contains("application/vnd.github.v3.repository+json") {
        // GitHub: "204 if the team has access", no body.
        return StatusCode::NO_CONTENT.into_response();
    }
    let rank = ["pull", "triage", "push", "maintain", "admin"]
        .iter()
        .position(|x| *x == role)
        .unwrap_or(0);
    let role_name = ["read", "triage", "write", "maintain", "admin"][rank];
    axum::Json(json!({
        "id": 1296269, "name": r, "full_name": format!("{o}/{r}"),
        "owner": {"login": o, "id": 1, "type": "Organization"},
        "private": true,
        "permissions": {
            "pull": true, "triage": rank >= 1, "push": rank >= 2,
            "maintain": rank >= 3, "admin": rank >= 4
        },
        "role_name": role_name
    }))
    .into_response()
}

/// `GET /repos/{o}/{r}/issues/{n}/timeline`: the recorded base changes, a
/// `reviewed` entry per review and a `committed` entry (which, as on
/// GitHub, has no `created_at`), oldest first, paginated (30 / 100).
async fn timeline(
    State(st): State<Arc<Mutex<FakeState>>>,
    Path((o, r, n)): Path<(String, String, u64)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let s = st.lock().unwrap();
    if !super::fake_github::token_ok(&s, &headers) {
        return unauthorized();
    }
    let repo = format!("{o}/{r}");
    let Some(pull) = s.pulls.get(&(repo.clone(), n)) else {
        return not_found();
    };
    let mut items: Vec<(String, Value)> = vec![(
        String::new(),
        json!({"event": "committed", "sha": pull.head_sha, "node_id": "C_x"}),
    )];
    for rv in &pull.reviews {
        let at = rv["submitted_at"].as_str().unwrap_or("").to_owned();
        items.push((
            at.clone(),
            json!({"event": "reviewed", "id": rv["id"], "state": rv["state"].as_str().map(str::to_ascii_lowercase), "submitted_at": at, "user": rv["user"]}),
        ));
    }
    for e in s
        .authority
        .timelines
        .get(&(repo.clone(), n))
        .into_iter()
        .flatten()
    {
        items.push((e["created_at"].as_str().unwrap_or("").to_owned(), e.clone()));
    }
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let items: Vec<Value> = items.into_iter().map(|(_, v)| v).collect();
    let (per, page) = super::fake_github::page_params_with(&q, 30, 100);
    let slice: Vec<Value> = items
        .iter()
        .skip((page - 1) * per)
        .take(per)
        .cloned()
        .collect();
    let mut resp = axum::Json(Value::Array(slice)).into_response();
    if page * per < items.len() {
        resp.headers_mut().insert(
            "link",
            HeaderValue::from_str(&format!(
                "<http://fake/repos/{repo}/issues/{n}/timeline?per_page={per}&page={}>; rel=\"next\"",
                page + 1
            ))
            .unwrap(),
        );
    }
    resp
}

/// Collapses a removed and an added file with the same content into one
/// `renamed` entry, as GitHub's file list does.
pub fn detect_renames(files: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let mut removed: Vec<Value> = files
        .iter()
        .filter(|f| f["status"] == "removed")
        .cloned()
        .collect();
    for f in files {
        match f["status"].as_str() {
            Some("removed") => {}
            Some("added") => {
                if let Some(i) = removed.iter().position(|r| r["sha"] == f["sha"]) {
                    let old = removed.remove(i);
                    let mut f = f;
                    f["status"] = "renamed".into();
                    f["previous_filename"] = old["filename"].clone();
                    out.push(f);
                } else {
                    out.push(f);
                }
            }
            _ => out.push(f),
        }
    }
    out.extend(removed);
    out.sort_by(|a, b| a["filename"].as_str().cmp(&b["filename"].as_str()));
    out
}

/// `GET /repos/{o}/{r}/compare/{base}...{head}`: the commits of the open PR
/// with that base and head, paginated by `per_page`/`page` (default 250
/// per page, like GitHub without paging parameters).
/// `GET /repos/{o}/{r}/compare/{base}...{head}` for pull-request ranges (the
/// alerts fake routes here for commits it does not model).
pub async fn compare(
    State(st): State<Arc<Mutex<FakeState>>>,
    Path((o, r, basehead)): Path<(String, String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let s = st.lock().unwrap();
    if !super::fake_github::token_ok(&s, &headers) {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"message": "Bad credentials"})),
        )
            .into_response();
    }
    let Some((base, head)) = basehead.split_once("...") else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"message": "Not Found"})),
        )
            .into_response();
    };
    let repo = format!("{o}/{r}");
    let Some(pull) = s
        .pulls
        .values()
        .find(|p| p.repo == repo && p.base_sha == base && p.head_sha == head)
    else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"message": "Not Found"})),
        )
            .into_response();
    };
    let (per, page) = super::fake_github::page_params_with(&q, 250, 250);
    let total = pull.commits.len();
    let slice: Vec<Value> = pull
        .commits
        .iter()
        .skip((page - 1) * per)
        .take(per)
        .cloned()
        .collect();
    let mut resp = axum::Json(json!({
        "status": "ahead", "ahead_by": total, "behind_by": 0, "total_commits": total,
        "commits": slice, "files": []
    }))
    .into_response();
    if page * per < total {
        resp.headers_mut().insert(
            "link",
            HeaderValue::from_str(&format!(
                "<http://fake/repos/{repo}/compare/{basehead}?per_page={per}&page={}>; rel=\"next\"",
                page + 1
            ))
            .unwrap(),
        );
    }
    resp
}
