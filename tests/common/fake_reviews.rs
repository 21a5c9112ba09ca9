//! The fake GitHub's review-gate surface: helpers to give a PR reviews,
//! commits with `commit.verification`, an author and team members, the
//! compare endpoint (PR commits past the 250 that `pulls/{n}/commits`
//! lists, paginated like GitHub), and rename detection for the PR file
//! list (`status: renamed` with `previous_filename`, exact-content matches).

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
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
        let p = st
            .pulls
            .get_mut(&(repo.to_owned(), number))
            .expect("PR exists in the fake");
        p.reviews.push(json!({
            "id": id, "node_id": "PRR_x",
            "user": {"login": user, "id": 3, "type": "User"},
            "body": "", "state": state, "commit_id": commit_id,
            "submitted_at": format!("2026-01-01T00:{:02}:00Z", p.reviews.len() % 60),
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

    /// Team-membership lookups received so far.
    pub fn team_membership_calls(&self) -> usize {
        self.st()
            .calls
            .iter()
            .filter(|c| {
                c.method == Method::GET
                    && c.path.starts_with("/orgs/")
                    && c.path.contains("/teams/")
            })
            .count()
    }
}

/// Routes added to the fake's router.
pub fn routes(state: Arc<Mutex<FakeState>>) -> Router {
    Router::new().with_state(state)
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
