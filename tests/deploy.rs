//! What we ship is checked like what we guard:
//! (a) `deploy/k8s` passes our own `check` at the restricted level (the
//!     real binary), and a weakened copy does not;
//! (b) `app-manifest/app.json` grants exactly the permissions the code
//!     needs: every REST path template in `src/github/` (and the startup
//!     check in `src/cli/server.rs`) is classified in [`ENDPOINTS`] and needs
//!     only a granted permission, every granted permission is needed, and
//!     every webhook event the App handles is subscribed;
//! (c) `deploy/Dockerfile` parses, is multi-stage, runs as a numeric
//!     non-root user, pins every base image, has a HEALTHCHECK, and ships
//!     the release build; its build stage copies everything the build
//!     reads (exactly those paths, minus `.dockerignore`, resolve offline
//!     with `cargo metadata --locked`, and every embedded file is among
//!     them), and removing any one COPY fails that check;
//! (d) the shipped PodMonitor scrapes the pods and port the PrometheusRule
//!     needs data from.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_gitops-guard");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

// ---------------------------------------------------------------- (a) check

fn check_json(config: &Path, dir: &Path) -> (i32, Value) {
    let out = Command::new(BIN)
        .current_dir(root())
        .arg("check")
        .arg("--config")
        .arg(config)
        .args(["--format", "json"])
        .arg(dir)
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), json)
}

#[test]
fn deploy_manifests_pass_our_own_check_at_restricted() {
    let cfg = root().join("rules/restricted.yml");
    assert!(read("rules/restricted.yml").contains("level: restricted"));
    let (code, json) = check_json(&cfg, &root().join("deploy/k8s"));
    assert_eq!(json["findings"], serde_json::json!([]), "{json:#}");
    assert_eq!(code, 0);
    // Every manifest was read: the seven objects (the kustomization is not
    // an object).
    assert_eq!(json["summary"]["objects"], 7, "{json:#}");
    // The kustomization lists exactly the files shipped next to it.
    let kust = read("deploy/k8s/kustomization.yaml");
    let mut listed: Vec<String> = kust
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- "))
        .map(|s| s.trim().to_owned())
        .collect();
    listed.sort();
    let mut files: Vec<String> = std::fs::read_dir(root().join("deploy/k8s"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f != "kustomization.yaml")
        .collect();
    files.sort();
    assert_eq!(listed, files);
}

/// The objects of one shipped YAML file, parsed by our own loader.
fn shipped_object(rel: &str) -> Value {
    let text = read(rel);
    let loaded = gitops_guard::engine::yaml::load_documents(
        &text,
        &gitops_guard::engine::yaml::Limits::default(),
    );
    assert!(loaded.error.is_none(), "{rel}: {:?}", loaded.error);
    assert_eq!(loaded.docs.len(), 1, "{rel}: one object per file");
    loaded.docs[0].to_json()
}

#[test]
fn the_podmonitor_scrapes_the_deployments_metrics_port() {
    // The shipped PrometheusRule alerts on gitops_guard_* series; without a
    // scrape config the Prometheus Operator collects none of them.
    let pm = shipped_object("deploy/k8s/podmonitor.yaml");
    let dep = shipped_object("deploy/k8s/deployment.yaml");
    let rule = shipped_object("deploy/k8s/prometheusrule.yaml");
    assert_eq!(pm["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(pm["kind"], "PodMonitor");
    assert_eq!(pm["metadata"]["namespace"], dep["metadata"]["namespace"]);
    assert_eq!(rule["metadata"]["namespace"], dep["metadata"]["namespace"]);
    // It selects the pods the Deployment creates.
    let pod_labels = dep["spec"]["template"]["metadata"]["labels"]
        .as_object()
        .unwrap();
    let selector = pm["spec"]["selector"]["matchLabels"].as_object().unwrap();
    assert!(!selector.is_empty());
    for (k, v) in selector {
        assert_eq!(
            pod_labels.get(k),
            Some(v),
            "selector {k}={v} matches no pod label"
        );
    }
    // Each endpoint names a container port that exists, at /metrics.
    let ports: Vec<&Value> = dep["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["ports"].as_array().unwrap().iter())
        .collect();
    let endpoints = pm["spec"]["podMetricsEndpoints"].as_array().unwrap();
    assert!(!endpoints.is_empty());
    for ep in endpoints {
        let port = ports
            .iter()
            .find(|p| p["name"] == ep["port"])
            .unwrap_or_else(|| panic!("no container port named {}", ep["port"]));
        assert_eq!(
            port["containerPort"], 8080,
            "the server's port (LISTEN_ADDR)"
        );
        assert_eq!(ep["path"], "/metrics");
    }
    // The NetworkPolicy admits the scrape.
    assert!(read("deploy/k8s/networkpolicy.yaml").contains("port: 8080"));
    // And the rules query series that the parts' metrics modules define.
    let metrics = ["src/queue/metrics.rs", "src/pipeline/metrics.rs"]
        .map(read)
        .concat();
    let rules = read("deploy/k8s/prometheusrule.yaml");
    for name in [
        "gitops_guard_security_alerts_total",
        "gitops_guard_deliveries_total",
    ] {
        assert!(rules.contains(name) && metrics.contains(name), "{name}");
    }
}

#[test]
fn a_weakened_deployment_fails_the_same_check() {
    // The control: the check above could not pass vacuously.
    let tmp = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(root().join("deploy/k8s")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), tmp.path().join(e.file_name())).unwrap();
    }
    let dep = tmp.path().join("deployment.yaml");
    let text = std::fs::read_to_string(&dep).unwrap();
    let weakened = text
        .replace(
            "allowPrivilegeEscalation: false",
            "allowPrivilegeEscalation: true",
        )
        .replace(
            "capabilities: { drop: [\"ALL\"] }",
            "capabilities: { add: [\"NET_ADMIN\"] }",
        );
    assert_ne!(
        weakened, text,
        "the deployment changed shape; update this control"
    );
    std::fs::write(&dep, weakened).unwrap();
    let (code, json) = check_json(&root().join("rules/restricted.yml"), tmp.path());
    assert_eq!(code, 1, "{json:#}");
    let rules: BTreeSet<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains("privilege-escalation"), "{rules:?}");
    assert!(rules.contains("capabilities"), "{rules:?}");
}

// ------------------------------------------------------- (b) permissions

/// A GitHub App permission and its level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Need {
    /// `permission: read` (or `write`, which includes read).
    Read(&'static str),
    /// `permission: write`.
    Write(&'static str),
    /// Authenticated as the App itself (JWT): no installation permission.
    AppJwt,
    /// Needs a permission the default manifest deliberately does not grant;
    /// only used by an opt-in feature (see the README section "Permissions").
    OptIn(&'static str, &'static str),
}

/// Endpoint prefix → permission, from GitHub's "Permissions required for
/// GitHub Apps" (docs.github.com/en/rest/authentication/permissions-required-for-github-apps).
/// Longest matching prefix wins, per method. `{}` stands for any path
/// segment; repository paths start `/repos/{}/{}`. A new endpoint in the
/// code that no row covers fails the test: classify it here (and in
/// the README "Permissions" section) rather than widening the manifest blindly.
const ENDPOINTS: &[(&str, &str, Need)] = &[
    // Pull requests, their files, commits and reviews.
    ("GET", "/repos/{}/{}/pulls", Need::Read("pull_requests")),
    // Trees, blobs, file contents, commits and comparisons.
    ("GET", "/repos/{}/{}/git/", Need::Read("contents")),
    ("GET", "/repos/{}/{}/contents/", Need::Read("contents")),
    ("GET", "/repos/{}/{}/commits/", Need::Read("contents")),
    ("GET", "/repos/{}/{}/compare/", Need::Read("contents")),
    // PRs a pushed commit came from (direct-push detection).
    (
        "GET",
        "/repos/{}/{}/commits/{}/pulls",
        Need::Read("pull_requests"),
    ),
    // Our own check runs: find, create, update, list annotations.
    (
        "GET",
        "/repos/{}/{}/commits/{}/check-runs",
        Need::Read("checks"),
    ),
    ("GET", "/repos/{}/{}/check-runs/", Need::Read("checks")),
    ("POST", "/repos/{}/{}/check-runs", Need::Write("checks")),
    ("PATCH", "/repos/{}/{}/check-runs/", Need::Write("checks")),
    // Team and org membership (CODEOWNERS teams, trusted authors).
    (
        "GET",
        "/orgs/{}/teams/{}/memberships/",
        Need::Read("members"),
    ),
    ("GET", "/orgs/{}/memberships/", Need::Read("members")),
    // A CODEOWNERS team's own permission on the repository.
    ("GET", "/orgs/{}/teams/{}/repos/", Need::Read("members")),
    // Security alerts as issues (find the open one, create, comment).
    ("GET", "/repos/{}/{}/issues", Need::Read("issues")),
    ("POST", "/repos/{}/{}/issues", Need::Write("issues")),
    // Branch protection and rules (protection-weakened alerts).
    (
        "GET",
        "/repos/{}/{}/branches/{}/protection",
        Need::Read("administration"),
    ),
    ("GET", "/repos/{}/{}/rulesets", Need::Read("metadata")),
    ("GET", "/repos/{}/{}/rules/", Need::Read("metadata")),
    ("GET", "/repos/{}/{}/collaborators/", Need::Read("metadata")),
    // Org-level ruleset history (the old version of a changed org
    // ruleset): organization administration, which the default manifest
    // does not grant; without it the previous version is rebuilt from the
    // webhook's `changes` and the alert says so.
    (
        "GET",
        "/orgs/{}",
        Need::OptIn("organization_administration", "read"),
    ),
    // The installation's own repositories (org rulesets cover several).
    ("GET", "/installation/repositories", Need::Read("metadata")),
    // App-level (JWT): installation tokens, startup check, redelivery.
    ("POST", "/app/installations/{}/access_tokens", Need::AppJwt),
    ("GET", "/app", Need::AppJwt),
    ("GET", "/app/hook/deliveries", Need::AppJwt),
    ("POST", "/app/hook/deliveries/", Need::AppJwt),
    // `register`: the manifest flow's code exchange, made before the App
    // exists (unauthenticated); it needs no installation permission either.
    ("POST", "/app-manifests/", Need::AppJwt),
    ("GET", "/repos/{}/{}/installation", Need::AppJwt),
    // revert_pr (off by default): a commit with the trusted tree, a branch
    // and a pull request.
    (
        "POST",
        "/repos/{}/{}/git/commits",
        Need::OptIn("contents", "write"),
    ),
    (
        "POST",
        "/repos/{}/{}/git/refs",
        Need::OptIn("contents", "write"),
    ),
    (
        "POST",
        "/repos/{}/{}/pulls",
        Need::OptIn("pull_requests", "write"),
    ),
];

/// Events we subscribe to → the permission GitHub requires for it.
const EVENT_PERMISSIONS: &[(&str, Need)] = &[
    ("pull_request", Need::Read("pull_requests")),
    ("pull_request_review", Need::Read("pull_requests")),
    ("push", Need::Read("contents")),
    ("check_run", Need::Read("checks")),
    ("check_suite", Need::Read("checks")),
    ("branch_protection_rule", Need::Read("administration")),
    ("repository_ruleset", Need::Read("administration")),
    ("merge_group", Need::Read("merge_queues")),
    // Who may approve changed: drop cached permissions (reviews gate).
    ("member", Need::Read("members")),
    ("membership", Need::Read("members")),
    ("team", Need::Read("members")),
    ("organization", Need::Read("members")),
];

/// Delivered to every App without a subscription (cannot be listed in
/// `default_events`).
const IMPLICIT_EVENTS: &[&str] = &["installation", "ping"];

/// The permissions the App needs, exactly (issue #6).
const EXPECTED_PERMISSIONS: &[(&str, &str)] = &[
    ("administration", "read"),
    ("checks", "write"),
    ("contents", "read"),
    ("issues", "write"),
    ("members", "read"),
    ("merge_queues", "read"),
    ("metadata", "read"),
    ("pull_requests", "read"),
];

fn manifest() -> Value {
    serde_json::from_str(&read("app-manifest/app.json")).expect("app-manifest/app.json is JSON")
}

/// The string literals of a Rust source, with their byte offsets (plain
/// and raw strings; escapes kept as written).
fn string_literals(src: &str) -> Vec<(usize, String)> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'\'' => {
                // A char literal ('"' must not open a string); lifetimes
                // ('a) are skipped by the same rule.
                if b.get(i + 2) == Some(&b'\'') {
                    i += 3;
                } else if b.get(i + 1) == Some(&b'\\') {
                    i += 4;
                } else {
                    i += 1;
                }
            }
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j] != b'"' {
                    if b[j] == b'\\' {
                        j += 1;
                    }
                    j += 1;
                }
                out.push((i, src[start..j.min(b.len())].to_owned()));
                i = j + 1;
            }
            _ => i += 1,
        }
    }
    out
}

/// A REST path template: `/x…` or `{}/x…` (a repository path built on
/// `Self::repo_path`), normalized to `{}` placeholders, without query.
fn as_endpoint(lit: &str) -> Option<String> {
    let path = if let Some(rest) = lit.strip_prefix("{}/") {
        format!("/repos/{{}}/{{}}/{rest}")
    } else if lit.starts_with('/') && lit[1..].starts_with(|c: char| c.is_ascii_lowercase()) {
        lit.to_owned()
    } else {
        return None;
    };
    if path.contains(char::is_whitespace) || path.contains("://") {
        return None;
    }
    let path = path.split('?').next().unwrap();
    // `{name}` / `{}` → `{}`; `{base}...{head}` stays one segment.
    let mut norm = String::new();
    let mut in_brace = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_brace = true;
                norm.push_str("{}");
            }
            '}' => in_brace = false,
            c if !in_brace => norm.push(c),
            _ => {}
        }
    }
    // The `repo_path` helper itself is a prefix, not an endpoint.
    (norm != "/repos/{}/{}").then_some(norm)
}

/// The HTTP method of the call a path literal at `at` belongs to: the
/// nearest `Method::X` in the same function (GET when none: `self.get`,
/// `get_pages`).
fn method_near(src: &str, at: usize) -> &'static str {
    let fn_start = src[..at].rfind("fn ").unwrap_or(0);
    let fn_end = [
        "\n    fn ",
        "\n    async fn ",
        "\n    pub ",
        "\nfn ",
        "\nasync fn ",
        "\npub ",
    ]
    .iter()
    .filter_map(|p| src[at..].find(p))
    .min()
    .map_or(src.len(), |e| at + e);
    let body = &src[fn_start..fn_end];
    let rel = at - fn_start;
    let mut best: Option<(usize, &'static str)> = None;
    for m in ["GET", "POST", "PATCH", "PUT", "DELETE"] {
        let token = format!("Method::{m}");
        for (pos, _) in body.match_indices(&token) {
            let d = pos.abs_diff(rel);
            if best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, m));
            }
        }
    }
    best.map_or("GET", |(_, m)| m)
}

fn called_endpoints() -> BTreeSet<(String, &'static str, String)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("src/github"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.push(root().join("src/cli/server.rs"));
    let mut out = BTreeSet::new();
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap();
        // Unit tests build paths too; only the shipped code counts.
        let src = match src.find("#[cfg(test)]") {
            Some(i) => &src[..i],
            None => &src[..],
        };
        for (at, lit) in string_literals(src) {
            if let Some(ep) = as_endpoint(&lit) {
                let name = f.file_name().unwrap().to_string_lossy().into_owned();
                out.insert((name, method_near(src, at), ep));
            }
        }
    }
    out
}

fn classify(method: &str, path: &str) -> Option<Need> {
    ENDPOINTS
        .iter()
        .filter(|(m, prefix, _)| {
            *m == method
                && (path == *prefix
                    || (path.starts_with(prefix)
                        && (prefix.ends_with('/') || path[prefix.len()..].starts_with('/'))))
        })
        .max_by_key(|(_, prefix, _)| prefix.len())
        .map(|(_, _, need)| *need)
}

fn granted() -> BTreeMap<String, String> {
    manifest()["default_permissions"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}

fn satisfied(need: Need, granted: &BTreeMap<String, String>) -> bool {
    match need {
        Need::AppJwt | Need::OptIn(..) => true,
        Need::Read(p) => granted.get(p).is_some_and(|l| l == "read" || l == "write"),
        Need::Write(p) => granted.get(p).is_some_and(|l| l == "write"),
    }
}

#[test]
fn manifest_is_valid_json_with_exactly_the_least_permissions() {
    let m = manifest();
    for key in [
        "name",
        "url",
        "hook_attributes",
        "redirect_url",
        "default_events",
    ] {
        assert!(m.get(key).is_some(), "manifest lacks {key}");
    }
    assert_eq!(m["public"], false, "the App is private to its org");
    assert!(
        m["hook_attributes"]["url"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    let expected: BTreeMap<String, String> = EXPECTED_PERMISSIONS
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(granted(), expected);
    // The embedded copy `register` posts is this file.
    assert_eq!(
        serde_json::from_str::<Value>(gitops_guard::cli::register::MANIFEST_JSON).unwrap(),
        m
    );
}

#[test]
fn every_called_endpoint_needs_only_granted_permissions() {
    let endpoints = called_endpoints();
    // The scan finds the client's calls (guards against a scan that
    // silently matches nothing).
    assert!(endpoints.len() >= 15, "{endpoints:#?}");
    for must in [
        ("POST", "/repos/{}/{}/check-runs"),
        ("PATCH", "/repos/{}/{}/check-runs/{}"),
        ("GET", "/repos/{}/{}/pulls/{}/reviews"),
        ("POST", "/app/installations/{}/access_tokens"),
        ("GET", "/app"),
    ] {
        assert!(
            endpoints.iter().any(|(_, m, p)| (*m, p.as_str()) == must),
            "{must:?} not found by the scan: {endpoints:#?}"
        );
    }
    let granted = granted();
    let mut needed: BTreeMap<&'static str, &'static str> = BTreeMap::new();
    let mut note = |need: Need| match need {
        Need::Read(p) => {
            needed.entry(p).or_insert("read");
        }
        Need::Write(p) => {
            needed.insert(p, "write");
        }
        _ => {}
    };
    for (file, method, path) in &endpoints {
        let need = classify(method, path).unwrap_or_else(|| {
            panic!("{file}: {method} {path} is not in ENDPOINTS: classify its permission")
        });
        assert!(
            satisfied(need, &granted),
            "{file}: {method} {path} needs {need:?}, which app-manifest/app.json does not grant"
        );
        note(need);
    }
    for (event, need) in EVENT_PERMISSIONS {
        if manifest()["default_events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == event)
        {
            assert!(satisfied(*need, &granted), "event {event} needs {need:?}");
            note(*need);
        }
    }
    // Least privilege: nothing granted that no endpoint or event needs
    // (metadata is mandatory for every App).
    needed.entry("metadata").or_insert("read");
    let needed: BTreeMap<String, String> = needed
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert_eq!(granted, needed, "granted vs needed by the code and events");
}

#[test]
fn handled_events_are_subscribed() {
    let m = manifest();
    let subscribed: BTreeSet<&str> = m["default_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    for event in gitops_guard::github::event::KNOWN_EVENTS {
        if IMPLICIT_EVENTS.contains(event) {
            assert!(!subscribed.contains(event), "{event} cannot be subscribed");
            continue;
        }
        assert!(
            subscribed.contains(event),
            "{event} is handled but not subscribed"
        );
        assert!(
            EVENT_PERMISSIONS.iter().any(|(e, _)| e == event),
            "{event}: add its permission to EVENT_PERMISSIONS"
        );
    }
    // Nothing subscribed that the App ignores (each delivery costs us).
    for event in &subscribed {
        assert!(
            gitops_guard::github::event::KNOWN_EVENTS.contains(event),
            "{event} is subscribed but never handled"
        );
    }
}

#[test]
fn endpoint_scan_and_table_behave() {
    assert_eq!(
        as_endpoint("{}/pulls/{number}/files").as_deref(),
        Some("/repos/{}/{}/pulls/{}/files")
    );
    assert_eq!(
        as_endpoint("{}/git/trees/{}?recursive=1").as_deref(),
        Some("/repos/{}/{}/git/trees/{}")
    );
    assert_eq!(as_endpoint("application/vnd.github+json"), None);
    assert_eq!(as_endpoint("/repos/{}/{}"), None);
    assert_eq!(
        classify("GET", "/repos/{}/{}/commits/{}/check-runs"),
        Some(Need::Read("checks"))
    );
    assert_eq!(
        classify("GET", "/repos/{}/{}/commits/{}"),
        Some(Need::Read("contents"))
    );
    assert_eq!(classify("GET", "/app"), Some(Need::AppJwt));
    assert_eq!(
        classify("GET", "/apps/x"),
        None,
        "prefix match is per segment"
    );
    assert_eq!(classify("DELETE", "/repos/{}/{}/git/refs/{}"), None);
    let g = granted();
    assert!(!satisfied(Need::Write("contents"), &g));
    assert!(satisfied(Need::Read("checks"), &g));
    let lits = string_literals("let c = '\"'; let s = \"/app\"; // \"/nope\"\n");
    assert_eq!(lits, vec![(21, "/app".to_owned())]);
}

// -------------------------------------------------------- (c) Dockerfile

/// One Dockerfile instruction.
#[derive(Debug, Clone)]
struct Instr {
    line: usize,
    keyword: String,
    args: String,
}

/// One build stage.
#[derive(Debug)]
struct Stage {
    from: String,
    name: Option<String>,
    instrs: Vec<Instr>,
}

/// Parses a Dockerfile the way BuildKit reads it: parser directives,
/// comments, line continuations (with the `escape` directive), heredocs,
/// `ARG` before `FROM`, and stages.
/// Pre-`FROM` `ARG` defaults and the stages.
type Parsed = (Vec<(String, String)>, Vec<Stage>);

fn parse_dockerfile(text: &str) -> Result<Parsed, String> {
    let mut escape = '\\';
    let mut global_args: Vec<(String, String)> = Vec::new();
    let mut stages: Vec<Stage> = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    let mut directives_open = true;
    while i < lines.len() {
        let raw = lines[i];
        let start_line = i + 1;
        let t = raw.trim();
        if t.is_empty() {
            directives_open = false;
            i += 1;
            continue;
        }
        if let Some(c) = t.strip_prefix('#') {
            if directives_open && let Some((k, v)) = c.split_once('=') {
                if k.trim().eq_ignore_ascii_case("escape") {
                    escape = v.trim().chars().next().ok_or("empty escape directive")?;
                }
                i += 1;
                continue;
            }
            directives_open = false;
            i += 1;
            continue;
        }
        directives_open = false;
        // Join continuation lines; comment lines inside are dropped.
        let mut logical = String::new();
        let mut cur = raw.trim_end().to_owned();
        loop {
            if cur.ends_with(escape) {
                cur.pop();
                logical.push_str(&cur);
                logical.push(' ');
                i += 1;
                loop {
                    let Some(next) = lines.get(i) else {
                        return Err(format!("line {start_line}: continuation at end of file"));
                    };
                    if next.trim_start().starts_with('#') {
                        i += 1;
                        continue;
                    }
                    cur = next.trim_end().to_owned();
                    break;
                }
            } else {
                logical.push_str(&cur);
                i += 1;
                break;
            }
        }
        // Heredocs (`RUN <<EOF`): skip the body up to the terminator.
        if let Some(pos) = logical.find("<<") {
            let word: String = logical[pos + 2..]
                .trim_start_matches('-')
                .trim_start_matches(['"', '\''])
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !word.is_empty() {
                while i < lines.len() && lines[i].trim() != word {
                    i += 1;
                }
                if i == lines.len() {
                    return Err(format!("line {start_line}: unterminated heredoc {word}"));
                }
                i += 1;
            }
        }
        let logical = logical.trim();
        let (kw, args) = logical
            .split_once(char::is_whitespace)
            .unwrap_or((logical, ""));
        let keyword = kw.to_ascii_uppercase();
        const KNOWN: &[&str] = &[
            "FROM",
            "RUN",
            "CMD",
            "LABEL",
            "MAINTAINER",
            "EXPOSE",
            "ENV",
            "ADD",
            "COPY",
            "ENTRYPOINT",
            "VOLUME",
            "USER",
            "WORKDIR",
            "ARG",
            "ONBUILD",
            "STOPSIGNAL",
            "HEALTHCHECK",
            "SHELL",
        ];
        if !KNOWN.contains(&keyword.as_str()) {
            return Err(format!("line {start_line}: unknown instruction {kw}"));
        }
        let instr = Instr {
            line: start_line,
            keyword: keyword.clone(),
            args: args.trim().to_owned(),
        };
        if keyword == "FROM" {
            let words: Vec<&str> = instr
                .args
                .split_whitespace()
                .filter(|w| !w.starts_with("--"))
                .collect();
            let (from, name) = match words.as_slice() {
                [image] => (image.to_string(), None),
                [image, as_, name] if as_.eq_ignore_ascii_case("as") => {
                    (image.to_string(), Some(name.to_ascii_lowercase()))
                }
                _ => return Err(format!("line {start_line}: malformed FROM {}", instr.args)),
            };
            stages.push(Stage {
                from: substitute(&from, &global_args),
                name,
                instrs: Vec::new(),
            });
        } else if let Some(stage) = stages.last_mut() {
            stage.instrs.push(instr);
        } else if keyword == "ARG" {
            let (k, v) = instr.args.split_once('=').unwrap_or((&instr.args, ""));
            global_args.push((k.trim().to_owned(), v.trim().trim_matches('"').to_owned()));
        } else {
            return Err(format!(
                "line {start_line}: {keyword} before the first FROM"
            ));
        }
    }
    if stages.is_empty() {
        return Err("no FROM".into());
    }
    Ok((global_args, stages))
}

/// `${NAME}` / `$NAME` from the pre-FROM ARG defaults.
fn substitute(s: &str, args: &[(String, String)]) -> String {
    let mut out = s.to_owned();
    for (k, v) in args {
        out = out
            .replace(&format!("${{{k}}}"), v)
            .replace(&format!("${k}"), v);
    }
    out
}

/// Whether an image reference is pinned: a `sha256` digest, or an
/// explicit version tag (has a digit, is not `latest`).
fn pinned(image: &str) -> Result<(), String> {
    if image.contains('$') {
        return Err(format!("{image}: unresolved variable"));
    }
    if let Some((_, digest)) = image.split_once('@') {
        let hex = digest
            .strip_prefix("sha256:")
            .ok_or_else(|| format!("{image}: digest is not sha256"))?;
        return if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(())
        } else {
            Err(format!("{image}: malformed digest"))
        };
    }
    let last = image.rsplit('/').next().unwrap();
    let Some((_, tag)) = last.split_once(':') else {
        return Err(format!("{image}: no tag (means latest)"));
    };
    if tag.eq_ignore_ascii_case("latest") || tag.is_empty() {
        return Err(format!("{image}: latest"));
    }
    if !tag.bytes().any(|b| b.is_ascii_digit()) {
        return Err(format!("{image}: tag {tag} is not a version; pin a digest"));
    }
    Ok(())
}

/// Parses JSON (exec) form `["a", "b"]`.
fn exec_form(args: &str) -> Option<Vec<String>> {
    serde_json::from_str(args).ok()
}

/// Everything we require of the shipped image.
fn audit_dockerfile(text: &str) -> Result<(), String> {
    let (_, stages) = parse_dockerfile(text)?;
    if stages.len() < 2 {
        return Err("not multi-stage: the toolchain would ship in the image".into());
    }
    let mut names: Vec<String> = Vec::new();
    for st in &stages {
        let refers_to_stage = names.iter().any(|n| n.eq_ignore_ascii_case(&st.from));
        if !refers_to_stage && st.from != "scratch" {
            pinned(&st.from)?;
        }
        if let Some(n) = &st.name {
            names.push(n.clone());
        }
    }
    let last = stages.last().unwrap();
    // Non-root, numeric (kubelet's runAsNonRoot can only verify a UID).
    let user = last
        .instrs
        .iter()
        .rev()
        .find(|i| i.keyword == "USER")
        .ok_or("final stage has no USER: runs as root")?;
    let mut ids = user.args.split(':');
    for id in ids.by_ref() {
        let n: u32 = id
            .parse()
            .map_err(|_| format!("line {}: USER {} is not numeric", user.line, user.args))?;
        if n == 0 {
            return Err(format!("line {}: USER {} is root", user.line, user.args));
        }
    }
    // HEALTHCHECK that runs our probe (no curl in distroless).
    let hc = last
        .instrs
        .iter()
        .rev()
        .find(|i| i.keyword == "HEALTHCHECK")
        .ok_or("final stage has no HEALTHCHECK")?;
    let cmd = hc
        .args
        .split_once("CMD")
        .map(|x| x.1.trim())
        .ok_or("HEALTHCHECK NONE or without CMD")?;
    let cmd = exec_form(cmd).ok_or("HEALTHCHECK CMD must be exec form (no shell in the image)")?;
    // The binary: copied from a stage that built it with --release.
    let copy = last
        .instrs
        .iter()
        .find(|i| i.keyword == "COPY" && i.args.contains("/target/release/gitops-guard"))
        .ok_or("the final stage does not copy target/release/gitops-guard")?;
    let from = copy
        .args
        .split_whitespace()
        .find_map(|w| w.strip_prefix("--from="))
        .ok_or("binary COPY has no --from")?
        .to_ascii_lowercase();
    let dest = copy.args.split_whitespace().last().unwrap().to_owned();
    let builder = stages
        .iter()
        .find(|s| s.name.as_deref() == Some(from.as_str()))
        .ok_or_else(|| format!("no stage named {from}"))?;
    let build = builder
        .instrs
        .iter()
        .find(|i| i.keyword == "RUN" && i.args.contains("cargo build"))
        .ok_or("the build stage does not run cargo build")?;
    for flag in ["--release", "--locked"] {
        if !build.args.split_whitespace().any(|w| w == flag) {
            return Err(format!("line {}: cargo build without {flag}", build.line));
        }
    }
    if build.args.contains("--profile") || build.args.contains("--debug") {
        return Err(format!("line {}: not the release profile", build.line));
    }
    let entry = last
        .instrs
        .iter()
        .rev()
        .find(|i| i.keyword == "ENTRYPOINT")
        .and_then(|i| exec_form(&i.args))
        .ok_or("no exec-form ENTRYPOINT")?;
    if entry.first() != Some(&dest) || cmd.first() != Some(&dest) {
        return Err(format!(
            "ENTRYPOINT {entry:?} / HEALTHCHECK {cmd:?} do not run the copied binary {dest}"
        ));
    }
    if cmd.get(1).map(String::as_str) != Some("healthcheck") {
        return Err(format!("HEALTHCHECK {cmd:?} does not run `healthcheck`"));
    }
    // Build inputs exist (a missing COPY source breaks the build).
    for i in &builder.instrs {
        if i.keyword == "COPY" && !i.args.contains("--from") {
            let words: Vec<&str> = i.args.split_whitespace().collect();
            for src in &words[..words.len() - 1] {
                if !root().join(src).exists() {
                    return Err(format!("line {}: COPY source {src} does not exist", i.line));
                }
            }
        }
    }
    Ok(())
}

#[test]
fn dockerfile_is_multistage_nonroot_pinned_and_ships_the_release_build() {
    let text = read("deploy/Dockerfile");
    audit_dockerfile(&text).unwrap();
    // Everything the release build embeds from outside src/ is copied in.
    let (_, stages) = parse_dockerfile(&text).unwrap();
    let copied: Vec<String> = stages[0]
        .instrs
        .iter()
        .filter(|i| i.keyword == "COPY")
        .flat_map(|i| {
            let w: Vec<String> = i.args.split_whitespace().map(str::to_owned).collect();
            w[..w.len() - 1].to_vec()
        })
        .collect();
    let src = read("src/cli/register.rs");
    assert!(src.contains("include_str!(\"../../app-manifest/app.json\")"));
    assert!(
        copied
            .iter()
            .any(|c| c.trim_end_matches('/') == "app-manifest"),
        "{copied:?}"
    );
    // The k8s Deployment runs the same UID the image declares.
    assert!(text.contains("USER 65532:65532"));
    assert!(read("deploy/k8s/deployment.yaml").contains("runAsUser: 65532"));
}

#[test]
fn dockerfile_audit_rejects_what_it_must() {
    let good = read("deploy/Dockerfile");
    let cases: Vec<(String, &str)> = vec![
        (good.replace("rust:1.95.0-slim-bookworm", "rust:latest"), "latest"),
        (good.replace("rust:1.95.0-slim-bookworm", "rust"), "no tag"),
        (
            good.replace(
                "cc-debian12:nonroot@sha256:9dac0a79194e45a7da0158a9c6da57b217585af0786db3845d1f0ec1a0dd182f",
                "cc-debian12:nonroot",
            ),
            "not a version",
        ),
        (good.replace("USER 65532:65532", "USER root"), "not numeric"),
        (good.replace("USER 65532:65532", "USER 0:0"), "root"),
        (good.replace("USER 65532:65532\n", ""), "no USER"),
        (
            good.lines()
                .filter(|l| !l.starts_with("HEALTHCHECK"))
                .collect::<Vec<_>>()
                .join("\n"),
            "no HEALTHCHECK",
        ),
        (good.replace(" --release", ""), "without --release"),
        (good.replace("--release --locked", "--release --locked --profile dev"), "release profile"),
        (good.replace("COPY app-manifest", "COPY app-manifests"), "does not exist"),
        (
            "FROM docker.io/library/rust:1.95.0 AS build\nRUN cargo build --release --locked\n".into(),
            "multi-stage",
        ),
        ("RUN echo hi\n".into(), "before the first FROM"),
        ("FROM x:1 \\\n".into(), "continuation"),
    ];
    for (text, why) in cases {
        match audit_dockerfile(&text) {
            Ok(()) => panic!("accepted ({why}):\n{text}"),
            Err(e) => assert!(e.contains(why), "expected {why:?}, got {e:?}"),
        }
    }
}

#[test]
fn dockerfile_parser_handles_continuations_args_and_heredocs() {
    let text = "# syntax=docker/dockerfile:1\n# escape=\\\nARG RUST=1.95.0\n\
                FROM --platform=$BUILDPLATFORM rust:${RUST}-slim AS Build\n\
                RUN apt-get update \\\n  # a comment inside\n  && echo done\n\
                RUN <<EOF\nset -e\nFROM inside heredoc\nEOF\n\
                FROM build\nUSER 10001\n";
    let (args, stages) = parse_dockerfile(text).unwrap();
    assert_eq!(args, vec![("RUST".to_owned(), "1.95.0".to_owned())]);
    assert_eq!(stages.len(), 2);
    assert_eq!(stages[0].from, "rust:1.95.0-slim");
    assert_eq!(stages[0].name.as_deref(), Some("build"));
    assert_eq!(stages[0].instrs[0].args, "apt-get update    && echo done");
    assert_eq!(stages[0].instrs.len(), 2);
    assert_eq!(stages[1].from, "build");
    assert!(pinned("rust:1.95.0-slim").is_ok());
    assert!(
        pinned("registry:5000/team/img").is_err(),
        "a registry port is not a tag"
    );
    assert!(pinned("registry:5000/team/img:2.1").is_ok());
}

#[test]
fn fly_toml_matches_the_image() {
    let fly = read("fly.toml");
    assert!(fly.contains("dockerfile = \"deploy/Dockerfile\""));
    assert!(fly.contains("internal_port = 8080"));
    assert!(fly.contains("path = \"/healthz\""));
    // Fly's default kill timeout (5 s) is shorter than our drain deadline.
    assert!(fly.contains("kill_signal = \"SIGTERM\""));
    assert!(fly.contains("GITOPS_GUARD_SHUTDOWN_SECONDS"));
}

// ------------------------------------------- (c') the Docker build context

/// The sources of the build stage's `COPY` instructions (no `--from`):
/// what the image build can read. The build stage is the one the final
/// stage copies the binary from.
fn build_stage_copies(text: &str) -> Result<Vec<(usize, String)>, String> {
    let (_, stages) = parse_dockerfile(text)?;
    let builder = stages
        .iter()
        .find(|s| {
            s.instrs
                .iter()
                .any(|i| i.keyword == "RUN" && i.args.contains("cargo build"))
        })
        .ok_or("no stage runs cargo build")?;
    let mut out = Vec::new();
    for i in &builder.instrs {
        if i.keyword == "ADD" {
            return Err(format!("line {}: use COPY, not ADD", i.line));
        }
        if i.keyword != "COPY" || i.args.contains("--from") {
            continue;
        }
        let words: Vec<&str> = i
            .args
            .split_whitespace()
            .filter(|w| !w.starts_with("--"))
            .collect();
        if words.len() < 2 {
            return Err(format!(
                "line {}: COPY needs a source and a destination",
                i.line
            ));
        }
        for src in &words[..words.len() - 1] {
            if src.contains(['*', '?', '[', '$']) || src.starts_with('/') || src.contains("..") {
                return Err(format!(
                    "line {}: COPY source {src} must be a plain relative path",
                    i.line
                ));
            }
            out.push((i.line, src.trim_end_matches('/').to_owned()));
        }
    }
    Ok(out)
}

/// The `.dockerignore` patterns (comments and blanks dropped).
fn dockerignore() -> Vec<String> {
    read(".dockerignore")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.trim_end_matches('/').to_owned())
        .collect()
}

/// Whether `.dockerignore` drops `rel` (the forms it uses: a top-level name,
/// `*.ext` anywhere at the top level, or a name with a `**/` prefix).
fn ignored(rel: &Path, patterns: &[String]) -> bool {
    let first = rel
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned());
    let name = rel.file_name().map(|n| n.to_string_lossy().into_owned());
    patterns.iter().any(|p| {
        if let Some(ext) = p.strip_prefix("*.") {
            rel.components().count() == 1
                && rel.extension().is_some_and(|e| e.to_string_lossy() == ext)
        } else if let Some(n) = p.strip_prefix("**/") {
            match n.strip_prefix("*.") {
                Some(ext) => rel.extension().is_some_and(|e| e.to_string_lossy() == ext),
                None => name.as_deref() == Some(n),
            }
        } else if !p.contains('/') {
            first.as_deref() == Some(p.as_str())
        } else {
            rel == Path::new(p)
        }
    })
}

/// Copies `rel` (a file or directory of the repository) to `dest/rel`,
/// leaving out what `.dockerignore` drops (Docker never sends it).
fn copy_into(rel: &Path, dest: &Path, patterns: &[String]) {
    if ignored(rel, patterns) {
        return;
    }
    let from = root().join(rel);
    let to = dest.join(rel);
    let meta = std::fs::metadata(&from).unwrap_or_else(|e| panic!("{}: {e}", rel.display()));
    if meta.is_dir() {
        std::fs::create_dir_all(&to).unwrap();
        for e in std::fs::read_dir(&from).unwrap() {
            copy_into(&rel.join(e.unwrap().file_name()), dest, patterns);
        }
    } else {
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&from, &to).unwrap();
    }
}

/// `include_str!`/`include_bytes!` paths of shipped code (test modules
/// excluded), relative to the repository root.
fn embedded_files(dir: &Path, out: &mut BTreeSet<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            embedded_files(&p, out);
            continue;
        }
        if p.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let src = std::fs::read_to_string(&p).unwrap();
        let shipped = match src.find("#[cfg(test)]") {
            Some(i) => &src[..i],
            None => &src[..],
        };
        for mac in ["include_str!(", "include_bytes!("] {
            for (at, _) in shipped.match_indices(mac) {
                let rest = shipped[at + mac.len()..].trim_start();
                let Some(lit) = rest.strip_prefix('"').and_then(|r| r.split('"').next()) else {
                    continue;
                };
                let mut path = p.parent().unwrap().to_owned();
                for part in Path::new(lit).components() {
                    match part {
                        std::path::Component::ParentDir => {
                            path.pop();
                        }
                        c => path.push(c),
                    }
                }
                out.insert(path.strip_prefix(root()).unwrap().to_owned());
            }
        }
    }
}

/// Names of the `[[bin]]`, `[[bench]]`, `[[test]]` and `[[example]]`
/// targets a Cargo.toml declares.
fn declared_targets(manifest: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_target = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_target = matches!(line, "[[bin]]" | "[[bench]]" | "[[test]]" | "[[example]]");
        } else if in_target && let Some(v) = line.strip_prefix("name") {
            let v = v
                .trim_start()
                .trim_start_matches('=')
                .trim()
                .trim_matches('"');
            out.push(v.to_owned());
        }
    }
    out
}

/// The host's target triple (`rustc -vV`).
fn host_triple() -> String {
    let out = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .arg("-vV")
        .output()
        .expect("rustc runs (it built this test)");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .trim()
        .to_owned()
}

/// Builds exactly the Docker build context the build stage sees and
/// resolves the package there offline; `Err` carries cargo's message.
fn resolve_in_build_context(dockerfile: &str) -> Result<(), String> {
    let copies = build_stage_copies(dockerfile)?;
    let patterns = dockerignore();
    let tmp = tempfile::tempdir().unwrap();
    for (line, src) in &copies {
        if !root().join(src).exists() {
            return Err(format!("line {line}: COPY source {src} does not exist"));
        }
        copy_into(Path::new(src), tmp.path(), &patterns);
    }
    // Files the binary embeds must be inside the context.
    let mut embedded = BTreeSet::new();
    embedded_files(&root().join("src"), &mut embedded);
    for f in &embedded {
        if !tmp.path().join(f).is_file() {
            return Err(format!(
                "{} is embedded by the build (include_str!/include_bytes!) but not copied",
                f.display()
            ));
        }
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // Resolved for this machine's platform: offline, cargo has the sources
    // of the packages it builds here, not of every platform's.
    let out = Command::new(cargo)
        .current_dir(tmp.path())
        .args(["metadata", "--locked", "--offline", "--format-version", "1"])
        .args(["--filter-platform", &host_triple()])
        // The temporary directory has no target/ of its own to pollute.
        .env("CARGO_TARGET_DIR", tmp.path().join("target"))
        .output()
        .expect("cargo runs (it built this test)");
    if !out.status.success() {
        return Err(format!(
            "cargo metadata in the build context failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let meta: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    let ours = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "gitops-guard")
        .ok_or("gitops-guard missing from cargo metadata")?;
    let targets = ours["targets"].as_array().unwrap();
    if !targets
        .iter()
        .any(|t| t["name"] == "gitops-guard" && t["kind"][0] == "bin")
    {
        return Err("the gitops-guard binary target is missing in the build context".into());
    }
    // cargo metadata silently drops a declared target whose file is
    // missing, and does not open explicitly declared paths; the build
    // refuses both.
    for name in declared_targets(&read("Cargo.toml")) {
        if !targets.iter().any(|t| t["name"] == name.as_str()) {
            return Err(format!(
                "Cargo.toml declares target {name}, whose file is not copied"
            ));
        }
    }
    for t in targets {
        let path = t["src_path"].as_str().unwrap_or_default();
        if !Path::new(path).is_file() {
            return Err(format!(
                "target {} reads {path}, which is not copied",
                t["name"]
            ));
        }
    }
    Ok(())
}

#[test]
fn dockerfile_copies_everything_the_build_reads() {
    let text = read("deploy/Dockerfile");
    resolve_in_build_context(&text).unwrap();
    // The embedded-file scan found what it must (it cannot pass vacuously).
    let mut embedded = BTreeSet::new();
    embedded_files(&root().join("src"), &mut embedded);
    for must in [
        "app-manifest/app.json",
        "migrations/sqlite/0001_deliveries.sql",
        "migrations/postgres/0001_deliveries.sql",
    ] {
        assert!(embedded.contains(Path::new(must)), "{must}: {embedded:?}");
    }
    // The context never carries local credentials or the build directory.
    let ignore = dockerignore();
    for must in [
        "target",
        ".git",
        "*.pem",
        "**/*.pem",
        "app-id",
        "**/app-id",
        "webhook-secret",
        "**/webhook-secret",
    ] {
        assert!(
            ignore.iter().any(|p| p == must),
            "{must} not in .dockerignore"
        );
    }
    assert!(ignored(Path::new("private-key.pem"), &ignore));
    assert!(ignored(
        Path::new("gitops-guard-credentials/private-key.pem"),
        &ignore
    ));
    assert!(ignored(Path::new("creds/webhook-secret"), &ignore));
    assert!(!ignored(
        Path::new("vendor/saphyr-parser/src/lib.rs"),
        &ignore
    ));
}

#[test]
fn removing_any_copy_breaks_the_build_context_check() {
    // Every COPY source of the build stage is needed: drop each in turn and
    // the same check fails (so a COPY that goes missing fails CI).
    let text = read("deploy/Dockerfile");
    let copies = build_stage_copies(&text).unwrap();
    assert!(copies.len() >= 6, "{copies:?}");
    let lines: Vec<&str> = text.lines().collect();
    for (line, src) in &copies {
        let without: String = lines
            .iter()
            .enumerate()
            .filter(|(n, _)| n + 1 != *line)
            .map(|(_, l)| format!("{l}\n"))
            .collect();
        match resolve_in_build_context(&without) {
            Ok(()) => panic!("the build context check passes without COPY {src} (line {line})"),
            Err(e) => assert!(!e.is_empty(), "{src}"),
        }
    }
    assert_eq!(
        declared_targets(&read("Cargo.toml")),
        ["gitops-guard", "engine", "kyverno"],
        "the declared-target scan reads Cargo.toml"
    );
    assert!(
        build_stage_copies("FROM a:1 AS build\nCOPY ../x ./\nRUN cargo build\nFROM b:1\n")
            .unwrap_err()
            .contains("plain relative path")
    );
}
