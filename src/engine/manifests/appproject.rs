//! Argo CD `AppProject` objects and the permission checks Argo CD runs with
//! them, reproduced from `pkg/apis/application/v1alpha1/app_project_types.go`
//! and `util/git.NormalizeGitURL` (Argo CD v3):
//!
//! - `sourceRepos`: both sides normalised; gobwas glob with separator `/`;
//!   `!p` rejects what p matches, and a `!p` that does not match counts as a
//!   match, so a list of only denies permits every other repository (the
//!   docs say otherwise; the code is what runs).
//! - `destinations`: gobwas glob without separator, `!` on server, name and
//!   namespace, evaluated with Argo CD's exact boolean logic
//!   (`isDestinationMatched`): a `!name` entry denies wherever its name does
//!   not match, a `!server` entry only where that entry's namespace matches,
//!   a `!namespace` entry only where that entry's server matches.
//! - `sourceNamespaces`: glob, or `/regex/` matched as Argo CD's regexp2
//!   does (lookaround and backreferences: `fancy-regex`, unanchored).
//! - `ValidateProject`: `!*` entries; duplicate destinations, sourceRepos,
//!   sourceNamespaces, roles, role policies and groups; role names, policy
//!   lines and group names; destination service accounts. Sync windows are
//!   not validated (their cron schedules need Argo CD's parser).
//! - group/kind lists: Go `filepath.Match`; `namespaceResourceWhitelist`
//!   absent = all, `[]` = none; `clusterResourceWhitelist` absent or empty =
//!   none; blacklists subtract; cluster items may carry a `name` glob (v3.3).

use std::collections::HashSet;

use crate::engine::glob::{GobwasGlob, argo_filepath_match, argo_glob_match};
use crate::engine::manifests::object::Object;
use crate::engine::yaml::{Node, Value};

/// One `spec.destinations[]` entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Destination {
    /// Cluster API server URL glob (may start with `!`).
    pub server: String,
    /// Cluster name glob (may start with `!`).
    pub name: String,
    /// Namespace glob (may start with `!`).
    pub namespace: String,
}

/// One resource list entry (`group`, `kind`, and for cluster lists `name`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourceItem {
    /// API group glob (`''` is the core group; `*` matches it too).
    pub group: String,
    /// Kind glob.
    pub kind: String,
    /// Object name glob (cluster lists, Argo CD ≥ 3.3); empty = any name.
    pub name: String,
}

/// One `spec.roles[]` entry (only what `ValidateProject` checks).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Role {
    /// `name`.
    pub name: String,
    /// `policies[]` (Casbin lines `p, proj:<project>:<role>, …`).
    pub policies: Vec<String>,
    /// `groups[]` (OIDC groups).
    pub groups: Vec<String>,
}

/// One `spec.destinationServiceAccounts[]` entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DestinationServiceAccount {
    /// Server glob.
    pub server: String,
    /// Namespace glob.
    pub namespace: String,
    /// `defaultServiceAccount`.
    pub default_service_account: String,
}

/// An `AppProject` as Argo CD evaluates it. `Option` on the lists keeps
/// "absent" (or `null`) apart from "empty", which Argo CD treats differently.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppProject {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: Option<String>,
    /// File it was read from (empty for the built-in default project).
    pub file: String,
    /// Line of the object in that file.
    pub line: u32,
    /// `spec.sourceRepos`.
    pub source_repos: Vec<String>,
    /// `spec.destinations`.
    pub destinations: Vec<Destination>,
    /// `spec.clusterResourceWhitelist`.
    pub cluster_resource_whitelist: Option<Vec<ResourceItem>>,
    /// `spec.clusterResourceBlacklist`.
    pub cluster_resource_blacklist: Option<Vec<ResourceItem>>,
    /// `spec.namespaceResourceWhitelist`.
    pub namespace_resource_whitelist: Option<Vec<ResourceItem>>,
    /// `spec.namespaceResourceBlacklist`.
    pub namespace_resource_blacklist: Option<Vec<ResourceItem>>,
    /// `spec.sourceNamespaces`.
    pub source_namespaces: Vec<String>,
    /// `spec.roles`.
    pub roles: Vec<Role>,
    /// `spec.destinationServiceAccounts`.
    pub destination_service_accounts: Vec<DestinationServiceAccount>,
    /// `spec.permitOnlyProjectScopedClusters` (needs cluster secrets, which
    /// a repository does not hold; reported by callers, not evaluated here).
    pub permit_only_project_scoped_clusters: bool,
}

/// Why an object could not be read as an `AppProject` (the API server would
/// reject it, so Argo CD would never see it).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: AppProject {name:?}: {message}")]
pub struct AppProjectError {
    /// File.
    pub file: String,
    /// Line of the offending key.
    pub line: u32,
    /// `metadata.name`, if readable.
    pub name: String,
    /// What is wrong.
    pub message: String,
}

/// Argo CD's auto-created `default` project: any repo, any destination, any
/// kind (namespace lists absent; cluster whitelist `*/*`).
pub fn default_project() -> AppProject {
    AppProject {
        name: "default".into(),
        namespace: Some("argocd".into()),
        source_repos: vec!["*".into()],
        destinations: vec![Destination {
            server: "*".into(),
            name: "*".into(),
            namespace: "*".into(),
        }],
        cluster_resource_whitelist: Some(vec![ResourceItem {
            group: "*".into(),
            kind: "*".into(),
            name: String::new(),
        }]),
        ..AppProject::default()
    }
}

fn is_deny(p: &str) -> bool {
    p.starts_with('!')
}

/// Argo CD's `globMatch(pattern, val, allowNegation, separators...)`.
fn glob_match(pattern: &str, val: &str, allow_negation: bool, seps: &[char]) -> bool {
    if allow_negation && is_deny(pattern) {
        return !argo_glob_match(&pattern[1..], val, seps);
    }
    if pattern == "*" {
        return true;
    }
    argo_glob_match(pattern, val, seps)
}

impl AppProject {
    /// Reads an `AppProject` object. Wrong types (a list that is not a list,
    /// an entry that is not a string or mapping) are errors: the API server
    /// would reject the object, so it protects nothing.
    pub fn from_object(obj: &Object) -> Result<Self, AppProjectError> {
        let err = |line: u32, message: String| AppProjectError {
            file: obj.file.clone(),
            line,
            name: obj.name.clone(),
            message,
        };
        if obj.kind != "AppProject" || obj.group() != "argoproj.io" {
            return Err(err(
                obj.line,
                format!(
                    "{} {} is not an argoproj.io AppProject",
                    obj.api_version, obj.kind
                ),
            ));
        }
        if obj.name.is_empty() {
            return Err(err(obj.line, "has no metadata.name".into()));
        }
        let mut p = AppProject {
            name: obj.name.clone(),
            namespace: obj.namespace.clone(),
            file: obj.file.clone(),
            line: obj.line,
            ..AppProject::default()
        };
        let Some(spec) = obj.root.get("spec") else {
            return Ok(p);
        };
        let spec_line = obj.line_of(&["spec"]);
        if spec.is_null() {
            return Ok(p);
        }
        if spec.as_map().is_none() {
            return Err(err(spec_line, "spec is not a mapping".into()));
        }

        // A list field: None when absent or null, Some(items) otherwise.
        let list = |key: &str| -> Result<Option<&[Node]>, AppProjectError> {
            match spec.get(key) {
                None => Ok(None),
                Some(n) if n.is_null() => Ok(None),
                Some(n) => n
                    .as_seq()
                    .map(Some)
                    .ok_or_else(|| err(spec.key_line(key), format!("spec.{key} is not a list"))),
            }
        };
        let string = |n: &Node, what: &str| -> Result<String, AppProjectError> {
            match &n.value {
                Value::Str(s) => Ok(s.clone()),
                Value::Null => Ok(String::new()),
                _ => Err(err(
                    n.span.line,
                    format!("{what} is a {}, not a string", n.type_name()),
                )),
            }
        };
        let field = |m: &Node, key: &str, what: &str| -> Result<String, AppProjectError> {
            if m.as_map().is_none() {
                return Err(err(m.span.line, format!("{what} is not a mapping")));
            }
            match m.get(key) {
                None => Ok(String::new()),
                Some(v) => string(v, &format!("{what}.{key}")),
            }
        };
        let strings = |key: &str| -> Result<Vec<String>, AppProjectError> {
            let mut out = Vec::new();
            for n in list(key)?.unwrap_or_default() {
                out.push(string(n, &format!("spec.{key}[]"))?);
            }
            Ok(out)
        };
        let resources =
            |key: &str, with_name: bool| -> Result<Option<Vec<ResourceItem>>, AppProjectError> {
                let Some(items) = list(key)? else {
                    return Ok(None);
                };
                let mut out = Vec::with_capacity(items.len());
                for n in items {
                    let what = format!("spec.{key}[]");
                    out.push(ResourceItem {
                        group: field(n, "group", &what)?,
                        kind: field(n, "kind", &what)?,
                        name: if with_name {
                            field(n, "name", &what)?
                        } else {
                            String::new()
                        },
                    });
                }
                Ok(Some(out))
            };

        p.source_repos = strings("sourceRepos")?;
        p.source_namespaces = strings("sourceNamespaces")?;
        for n in list("destinations")?.unwrap_or_default() {
            let what = "spec.destinations[]";
            p.destinations.push(Destination {
                server: field(n, "server", what)?,
                name: field(n, "name", what)?,
                namespace: field(n, "namespace", what)?,
            });
        }
        // A list of strings inside one entry (`roles[].policies`).
        let inner_strings =
            |m: &Node, key: &str, what: &str| -> Result<Vec<String>, AppProjectError> {
                match m.get(key) {
                    None => Ok(Vec::new()),
                    Some(n) if n.is_null() => Ok(Vec::new()),
                    Some(n) => {
                        let items = n.as_seq().ok_or_else(|| {
                            err(m.key_line(key), format!("{what}.{key} is not a list"))
                        })?;
                        items
                            .iter()
                            .map(|i| string(i, &format!("{what}.{key}[]")))
                            .collect()
                    }
                }
            };
        for n in list("roles")?.unwrap_or_default() {
            let what = "spec.roles[]";
            p.roles.push(Role {
                name: field(n, "name", what)?,
                policies: inner_strings(n, "policies", what)?,
                groups: inner_strings(n, "groups", what)?,
            });
        }
        for n in list("destinationServiceAccounts")?.unwrap_or_default() {
            let what = "spec.destinationServiceAccounts[]";
            p.destination_service_accounts
                .push(DestinationServiceAccount {
                    server: field(n, "server", what)?,
                    namespace: field(n, "namespace", what)?,
                    default_service_account: field(n, "defaultServiceAccount", what)?,
                });
        }
        p.cluster_resource_whitelist = resources("clusterResourceWhitelist", true)?;
        p.cluster_resource_blacklist = resources("clusterResourceBlacklist", true)?;
        p.namespace_resource_whitelist = resources("namespaceResourceWhitelist", false)?;
        p.namespace_resource_blacklist = resources("namespaceResourceBlacklist", false)?;
        if let Some(v) = spec.get("permitOnlyProjectScopedClusters") {
            p.permit_only_project_scoped_clusters = match v.value {
                Value::Bool(b) => b,
                Value::Null => false,
                _ => {
                    return Err(err(
                        spec.key_line("permitOnlyProjectScopedClusters"),
                        "spec.permitOnlyProjectScopedClusters is not a boolean".into(),
                    ));
                }
            };
        }
        Ok(p)
    }

    /// Problems Argo CD's `ValidateProject` would reject the project for
    /// (`!*` entries, duplicates, bad roles, bad destination service
    /// accounts), all of them rather than Argo CD's first, plus patterns
    /// that do not compile as globs: Argo CD never matches those, so a `!`
    /// entry built on one denies nothing and the project is not what it
    /// reads as (fail closed).
    pub fn validation_errors(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for d in &self.destinations {
            for (what, v) in [
                ("name", &d.name),
                ("server", &d.server),
                ("namespace", &d.namespace),
            ] {
                if v == "!*" {
                    out.push(format!("destination {what} has an invalid format, '!*'"));
                }
            }
            let key = if d.server.is_empty() && !d.name.is_empty() {
                format!("{}/{}", d.name, d.namespace)
            } else {
                format!("{}/{}", d.server, d.namespace)
            };
            if !seen.insert(key.clone()) {
                out.push(format!("destination '{key}' already added"));
            }
            for (what, v) in [
                ("name", &d.name),
                ("server", &d.server),
                ("namespace", &d.namespace),
            ] {
                bad_glob(&mut out, &format!("destination {what}"), v, &[]);
            }
        }
        let mut seen = HashSet::new();
        for ns in &self.source_namespaces {
            if !seen.insert(ns) {
                out.push(format!("source namespace '{ns}' already added"));
            }
            if let Some(re) = regex_pattern(ns) {
                if let Err(e) = fancy_regex::Regex::new(re) {
                    out.push(format!(
                        "source namespace regex {ns} does not compile ({e}), so it permits nothing"
                    ));
                }
            } else {
                bad_glob(&mut out, "source namespace", ns, &[]);
            }
        }
        let mut seen = HashSet::new();
        for s in &self.source_repos {
            if s == "!*" {
                out.push("source repository has an invalid format, '!*'".into());
            }
            if !seen.insert(s) {
                out.push(format!("source repository '{s}' already added"));
            }
            let inner = s.strip_prefix('!').unwrap_or(s);
            bad_glob(
                &mut out,
                "source repository",
                &normalize_git_url(inner),
                &['/'],
            );
        }
        let mut roles = HashSet::new();
        for role in &self.roles {
            if !roles.insert(&role.name) {
                out.push(format!("role '{}' already exists", role.name));
            }
            if !valid_role_name(&role.name) {
                out.push(format!(
                    "invalid role name '{}'. Must consist of alphanumeric characters, '-' or '_', and must start and end with an alphanumeric character",
                    role.name
                ));
            }
            let mut policies = HashSet::new();
            for policy in &role.policies {
                if !policies.insert(policy) {
                    out.push(format!(
                        "policy '{policy}' already exists for role '{}'",
                        role.name
                    ));
                }
                if let Err(e) = validate_policy(&self.name, &role.name, policy) {
                    out.push(e);
                }
            }
            let mut groups = HashSet::new();
            for group in &role.groups {
                if !groups.insert(group) {
                    out.push(format!(
                        "group '{group}' already exists for role '{}'",
                        role.name
                    ));
                }
                if let Err(e) = validate_group_name(group) {
                    out.push(e);
                }
            }
        }
        let mut seen = HashSet::new();
        for a in &self.destination_service_accounts {
            if a.server.contains('!') || GobwasGlob::compile(&a.server, &[]).is_err() {
                out.push(format!("server has an invalid format, '{}'", a.server));
            }
            if a.namespace.contains('!') || GobwasGlob::compile(&a.namespace, &[]).is_err() {
                out.push(format!(
                    "namespace has an invalid format, '{}'",
                    a.namespace
                ));
            }
            let sa = &a.default_service_account;
            if sa.trim_matches(' ').is_empty() || sa.contains(SERVICE_ACCOUNT_DISALLOWED) {
                out.push(format!(
                    "defaultServiceAccount has an invalid format, '{sa}'"
                ));
            }
            let key = format!("{}/{}", a.server, a.namespace);
            if !seen.insert(key.clone()) {
                out.push(format!("destinationServiceAccount '{key}' already added"));
            }
        }
        out
    }

    /// Argo CD's `IsSourcePermitted` for a repository URL.
    pub fn is_source_permitted(&self, repo_url: &str) -> bool {
        let src = normalize_git_url(repo_url);
        let mut any = false;
        for repo in &self.source_repos {
            let pattern = match repo.strip_prefix('!') {
                Some(inner) => format!("!{}", normalize_git_url(inner)),
                None => normalize_git_url(repo),
            };
            let matched = glob_match(&pattern, &src, true, &['/']);
            if matched {
                any = true;
            } else if is_deny(&pattern) {
                return false;
            }
        }
        any
    }

    /// Argo CD's `isDestinationMatched` (server, cluster name, namespace).
    /// `name` or `server` may be empty when unknown; as in Argo CD an empty
    /// value never matches a (non-negated) pattern. Compiles the globs on
    /// every call: use [`DestinationMatcher`] to check many objects.
    pub fn is_destination_permitted(&self, server: &str, name: &str, namespace: &str) -> bool {
        DestinationMatcher::new(self).is_permitted(server, name, namespace)
    }

    /// Argo CD's `IsGroupKindPermitted` (no name).
    pub fn is_group_kind_permitted(&self, group: &str, kind: &str, namespaced: bool) -> bool {
        self.is_group_kind_name_permitted(group, kind, "", namespaced)
    }

    /// Argo CD's `IsGroupKindNamePermitted`: namespaced kinds need the
    /// namespace whitelist (absent = all, `[]` = none) and no blacklist hit;
    /// cluster kinds need a non-empty whitelist hit (name glob included) and
    /// no blacklist hit.
    pub fn is_group_kind_name_permitted(
        &self,
        group: &str,
        kind: &str,
        name: &str,
        namespaced: bool,
    ) -> bool {
        if namespaced {
            let white = match &self.namespace_resource_whitelist {
                None => true,
                Some(list) => !list.is_empty() && in_list(group, kind, None, list),
            };
            let black = self
                .namespace_resource_blacklist
                .as_deref()
                .is_some_and(|l| !l.is_empty() && in_list(group, kind, None, l));
            return white && !black;
        }
        let white = self
            .cluster_resource_whitelist
            .as_deref()
            .is_some_and(|l| !l.is_empty() && in_list(group, kind, Some(name), l));
        let black = self
            .cluster_resource_blacklist
            .as_deref()
            .is_some_and(|l| !l.is_empty() && in_list(group, kind, Some(name), l));
        white && !black
    }

    /// The blacklist entry that denies a kind, for messages.
    pub fn blacklist_hit(
        &self,
        group: &str,
        kind: &str,
        name: &str,
        namespaced: bool,
    ) -> Option<&ResourceItem> {
        let (list, name) = if namespaced {
            (&self.namespace_resource_blacklist, None)
        } else {
            (&self.cluster_resource_blacklist, Some(name))
        };
        list.as_deref()?
            .iter()
            .find(|i| item_matches(group, kind, name, i))
    }

    /// Argo CD's `IsAppNamespacePermitted` for an Application in `app_ns`:
    /// the control-plane namespace is always allowed; others need a
    /// `sourceNamespaces` entry (glob, or `/regex/`).
    pub fn is_app_namespace_permitted(&self, app_ns: &str, control_plane_ns: &str) -> bool {
        if app_ns.is_empty() || app_ns == control_plane_ns {
            return true;
        }
        // glob.MatchStringInList(list, ns, REGEXP): a `/…/` entry that does
        // not match (or does not compile) is still tried as a glob.
        self.source_namespaces.iter().any(|p| {
            if let Some(re) = regex_pattern(p)
                && fancy_regex::Regex::new(re).is_ok_and(|r| r.is_match(app_ns).unwrap_or(false))
            {
                return true;
            }
            argo_glob_match(p, app_ns, &[])
        })
    }
}

/// One destination glob, compiled once, with Argo CD's `globMatch`
/// semantics (`!` negation, a bare `*` matching everything, a pattern that
/// does not compile matching nothing).
#[derive(Clone, Debug)]
struct DestPattern {
    deny: bool,
    star: bool,
    glob: Option<GobwasGlob>,
}

impl DestPattern {
    fn new(pattern: &str) -> Self {
        let (deny, inner) = match pattern.strip_prefix('!') {
            Some(i) => (true, i),
            None => (false, pattern),
        };
        Self {
            deny,
            star: !deny && pattern == "*",
            glob: GobwasGlob::compile(inner, &[]).ok(),
        }
    }

    fn matches(&self, val: &str) -> bool {
        if self.star {
            return true;
        }
        let m = self.glob.as_ref().is_some_and(|g| g.is_match(val));
        if self.deny { !m } else { m }
    }
}

/// A project's `destinations`, compiled once, evaluated exactly like
/// Argo CD's `isDestinationMatched`: an entry matches when (server or the
/// non-empty cluster name) and namespace match; the destination is permitted
/// when some entry matches and no negated part of a non-matching entry
/// fired. Order is irrelevant.
#[derive(Clone, Debug)]
pub struct DestinationMatcher {
    items: Vec<(DestPattern, DestPattern, DestPattern)>,
}

impl DestinationMatcher {
    /// Compiles the destinations of `project`.
    pub fn new(project: &AppProject) -> Self {
        Self {
            items: project
                .destinations
                .iter()
                .map(|d| {
                    (
                        DestPattern::new(&d.server),
                        DestPattern::new(&d.name),
                        DestPattern::new(&d.namespace),
                    )
                })
                .collect(),
        }
    }

    /// True when Argo CD permits deploying to `namespace` on the cluster
    /// `server` / `name`. The deny cases are Go's
    /// `(!nameMatched && isDeny(name)) || (!serverMatched && isDeny(server)) && nsMatched`
    /// (`&&` binds tighter) and `!nsMatched && isDeny(namespace) && serverMatched`:
    /// a `!server` entry denies only within its namespaces, a `!namespace`
    /// entry only on its servers (matched by server, not by name).
    pub fn is_permitted(&self, server: &str, name: &str, namespace: &str) -> bool {
        let mut any_matched = false;
        for (s, n, ns) in &self.items {
            let name_matched = !name.is_empty() && n.matches(name);
            let server_matched = !server.is_empty() && s.matches(server);
            let ns_matched = ns.matches(namespace);
            // Go's switch: the first case that holds wins.
            let denied = (!name_matched && n.deny)
                || (!server_matched && s.deny && ns_matched)
                || (!ns_matched && ns.deny && server_matched);
            if (server_matched || name_matched) && ns_matched {
                any_matched = true;
            } else if denied {
                return false;
            }
        }
        any_matched
    }
}

/// Argo CD's `serviceAccountDisallowedCharSet`.
const SERVICE_ACCOUNT_DISALLOWED: &[char] = &['!', '*', '[', ']', '{', '}', '\\', '/'];

/// The regex of a `/…/` entry (`MatchStringInList` with `REGEXP`).
pub fn regex_pattern(p: &str) -> Option<&str> {
    (p.len() >= 2 && p.starts_with('/') && p.ends_with('/')).then(|| &p[1..p.len() - 1])
}

/// Reports `pattern` when gobwas cannot compile it (Argo CD then never
/// matches it, and as a `!` entry it denies nothing).
fn bad_glob(out: &mut Vec<String>, what: &str, pattern: &str, seps: &[char]) {
    let inner = pattern.strip_prefix('!').unwrap_or(pattern);
    if let Err(e) = GobwasGlob::compile(inner, seps) {
        out.push(format!(
            "{what} pattern '{pattern}' is not a valid glob ({e}): Argo CD never matches it{}",
            if inner.len() < pattern.len() {
                ", so this deny entry denies nothing"
            } else {
                ""
            }
        ));
    }
}

/// `^[a-zA-Z0-9]([-_a-zA-Z0-9]*[a-zA-Z0-9])?$`
fn valid_role_name(name: &str) -> bool {
    let b = name.as_bytes();
    let alnum = |c: &u8| c.is_ascii_alphanumeric();
    !b.is_empty()
        && alnum(&b[0])
        && alnum(&b[b.len() - 1])
        && b.iter().all(|c| alnum(c) || *c == b'-' || *c == b'_')
}

/// Argo CD's `isValidAction`: the fixed actions, or an (unanchored) match
/// of `action/.*`, `update/.*` or `delete/.*`.
fn valid_action(action: &str) -> bool {
    matches!(
        action,
        "get" | "create" | "update" | "delete" | "sync" | "override" | "rollback" | "*"
    ) || ["action/", "update/", "delete/"]
        .iter()
        .any(|p| action.contains(p))
}

/// Argo CD's `isValidObject`: `^<proj>(/[*\w-.]+)?/[*\w-.]+$`.
fn valid_object(project: &str, object: &str) -> bool {
    let Some(rest) = object.strip_prefix(project) else {
        return false;
    };
    let Some(rest) = rest.strip_prefix('/') else {
        return false;
    };
    let segs: Vec<&str> = rest.split('/').collect();
    segs.len() <= 2
        && segs.iter().all(|s| {
            !s.is_empty()
                && s.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'*' | b'_' | b'-' | b'.'))
        })
}

/// Argo CD's `validatePolicy` for one role policy line.
fn validate_policy(project: &str, role: &str, policy: &str) -> Result<(), String> {
    let parts: Vec<&str> = policy.split(',').collect();
    let t = |s: &str| s.trim_matches(' ').to_owned();
    if parts.len() != 6 || t(parts[0]) != "p" {
        return Err(format!(
            "invalid policy rule '{policy}': must be of the form: 'p, sub, res, act, obj, eft'"
        ));
    }
    let subject = t(parts[1]);
    let expected = format!("proj:{project}:{role}");
    if subject != expected {
        return Err(format!(
            "invalid policy rule '{policy}': policy subject must be: '{expected}', not '{subject}'"
        ));
    }
    let resource = t(parts[2]);
    if !matches!(
        resource.as_str(),
        "applications" | "applicationsets" | "logs" | "exec" | "clusters" | "repositories"
    ) {
        return Err(format!(
            "invalid policy rule '{policy}': project resource must be: 'applications', 'applicationsets', 'repositories', 'exec', 'logs' or 'clusters', not '{resource}'"
        ));
    }
    let action = t(parts[3]);
    if !valid_action(&action) {
        return Err(format!(
            "invalid policy rule '{policy}': invalid action '{action}'"
        ));
    }
    let object = t(parts[4]);
    if !valid_object(project, &object) {
        return Err(format!(
            "invalid policy rule '{policy}': object must be of form '{project}/*', '{project}[/<NAMESPACE>]/<APPNAME>' or '{project}/<APPNAME>', not '{object}'"
        ));
    }
    let effect = t(parts[5]);
    if effect != "allow" && effect != "deny" {
        return Err(format!(
            "invalid policy rule '{policy}': effect must be: 'allow' or 'deny'"
        ));
    }
    Ok(())
}

/// Argo CD's `validateGroupName`, checks in its order.
fn validate_group_name(group: &str) -> Result<(), String> {
    let original: Vec<char> = group.chars().collect();
    let mut name = group.trim();
    if name.len() > 1 && name.starts_with('"') && name.ends_with('"') {
        name = &name[1..name.len() - 1];
    } else if name.contains(',') {
        return Err(format!("group '{name}' must be quoted"));
    }
    if name.is_empty() {
        return Err(format!("group '{name}' is empty"));
    }
    if name.contains(['"', '\n', '\r', '\t']) {
        return Err(format!("group '{name}' contains invalid characters"));
    }
    if original.len() > 1 && original[0].is_whitespace() {
        return Err(format!("group '{name}' contains a leading space"));
    }
    if original.len() > 1 && original[original.len() - 1].is_whitespace() {
        return Err(format!("group '{name}' contains a trailing space"));
    }
    Ok(())
}

fn item_matches(group: &str, kind: &str, name: Option<&str>, item: &ResourceItem) -> bool {
    argo_filepath_match(&item.kind, kind)
        && argo_filepath_match(&item.group, group)
        && match name {
            Some(n) => item.name.is_empty() || argo_filepath_match(&item.name, n),
            None => true,
        }
}

fn in_list(group: &str, kind: &str, name: Option<&str>, list: &[ResourceItem]) -> bool {
    list.iter().any(|i| item_matches(group, kind, name, i))
}

/// Argo CD's `git.NormalizeGitURL`: trim, lowercase, `git@host:o/r` →
/// `git@host/o/r`, strip one `.git` suffix, then Go's `url.Parse` +
/// `String()` round trip (an unparsable URL normalises to `""`). Note that
/// the ssh and https forms of one repository stay different, as in Argo CD.
pub fn normalize_git_url(repo: &str) -> String {
    let mut repo = repo.trim().to_lowercase();
    if is_ssh_url(&repo) && !repo.starts_with("ssh://") {
        repo = format!("ssh://{}", repo.replacen(':', "/", 1));
    }
    if let Some(s) = repo.strip_suffix(".git") {
        repo = s.to_owned();
    }
    match go_url_roundtrip(&repo) {
        Some(u) => u.strip_prefix("ssh://").map(str::to_owned).unwrap_or(u),
        None => String::new(),
    }
}

/// `^(ssh://)?([^/:]*?)@[^@]+$`
fn is_ssh_url(s: &str) -> bool {
    let s = s.strip_prefix("ssh://").unwrap_or(s);
    let Some(at) = s.find('@') else {
        return false;
    };
    let (user, rest) = (&s[..at], &s[at + 1..]);
    !user.contains('/') && !user.contains(':') && !rest.is_empty() && !rest.contains('@')
}

fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

/// Go `url.shouldEscape(c, encodePath)`.
fn should_escape_path(c: u8) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'@' => false,
        b'?' => true,
        _ => true,
    }
}

/// Go `url.validEncoded(s, encodePath)`.
fn valid_encoded_path(s: &str) -> bool {
    s.bytes().all(|b| {
        matches!(
            b,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'['
                | b']'
                | b'%'
        ) || !should_escape_path(b)
    })
}

/// Percent-decodes; `None` on a malformed escape (Go returns an error).
fn unescape(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if i + 2 >= b.len() || !is_hex(b[i + 1]) || !is_hex(b[i + 2]) {
                return None;
            }
            let v = u8::from_str_radix(&s[i + 1..i + 3], 16).ok()?;
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Go's `EscapedPath()` for a path as written: kept when it is validly
/// encoded, else decoded and re-escaped.
fn escaped_path(raw: &str) -> Option<String> {
    let decoded = unescape(raw)?;
    if valid_encoded_path(raw) {
        return Some(raw.to_owned());
    }
    let mut out = String::new();
    for b in decoded {
        if should_escape_path(b) && b != b'/' {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(b as char);
        }
    }
    Some(out)
}

/// The parts of Go's `url.Parse(s).String()` that matter for repository
/// URLs: rejects what Go rejects (control characters, bad escapes, a
/// missing scheme before `:`, a colon in a scheme-less first segment, bad
/// ports, bad host characters) and re-escapes paths Go would re-escape.
fn go_url_roundtrip(s: &str) -> Option<String> {
    if s.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return None;
    }
    let (s, fragment) = match s.split_once('#') {
        Some((a, f)) => {
            unescape(f)?;
            (a, Some(f))
        }
        None => (s, None),
    };
    if s == "*" {
        return Some(match fragment {
            Some(f) => format!("*#{f}"),
            None => "*".into(),
        });
    }
    // getScheme
    let mut scheme = "";
    let mut rest = s;
    for (i, c) in s.char_indices() {
        if c.is_ascii_alphabetic() {
            continue;
        }
        if c.is_ascii_digit() || c == '+' || c == '-' || c == '.' {
            if i == 0 {
                break;
            }
            continue;
        }
        if c == ':' {
            if i == 0 {
                return None; // missing protocol scheme
            }
            scheme = &s[..i];
            rest = &s[i + 1..];
        }
        break;
    }
    let (rest, query) = match rest.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (rest, None),
    };
    let mut out = String::new();
    if !scheme.is_empty() {
        out.push_str(scheme);
        out.push(':');
    }
    if !rest.starts_with('/') && !scheme.is_empty() {
        // opaque URL: kept as written
        out.push_str(rest);
    } else {
        if scheme.is_empty() {
            let seg = rest.split('/').next().unwrap_or("");
            if seg.contains(':') {
                return None; // first path segment in URL cannot contain colon
            }
        }
        let mut path = rest;
        if let Some(after) = rest.strip_prefix("//") {
            let (authority, p) = match after.find('/') {
                Some(i) => (&after[..i], &after[i..]),
                None => (after, ""),
            };
            path = p;
            let (userinfo, host) = match authority.rfind('@') {
                Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
                None => (None, authority),
            };
            if let Some(u) = userinfo {
                let ok = u
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._:~!$&'()*+,;=%@".contains(&b));
                if !ok {
                    return None;
                }
                unescape(u)?;
            }
            if !host.starts_with('[')
                && let Some(i) = host.rfind(':')
                && !host[i + 1..].bytes().all(|b| b.is_ascii_digit())
            {
                return None; // invalid port
            }
            let host_ok = host.bytes().all(|b| {
                b >= 0x80 || b.is_ascii_alphanumeric() || b"-_.~!$&'()*+,;=:[]<>\"%".contains(&b)
            });
            if !host_ok {
                return None;
            }
            unescape(host)?;
            out.push_str("//");
            if let Some(u) = userinfo {
                out.push_str(u);
                out.push('@');
            }
            out.push_str(host);
        }
        out.push_str(&escaped_path(path)?);
    }
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::manifests::object::load_objects;
    use crate::engine::yaml::Limits;

    fn project(spec: &str) -> AppProject {
        let text = format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata:\n  name: p\n  namespace: argocd\nspec:\n{spec}"
        );
        let o = load_objects("p.yaml", &text, &Limits::default())
            .objects
            .remove(0);
        AppProject::from_object(&o).unwrap()
    }

    fn repos(list: &[&str]) -> AppProject {
        AppProject {
            source_repos: list.iter().map(|s| s.to_string()).collect(),
            ..AppProject::default()
        }
    }

    #[test]
    fn normalize() {
        assert_eq!(
            normalize_git_url(" https://GitHub.com/Org/Repo.git "),
            "https://github.com/org/repo"
        );
        assert_eq!(
            normalize_git_url("git@github.com:org/repo.git"),
            "git@github.com/org/repo"
        );
        assert_eq!(
            normalize_git_url("ssh://git@github.com/org/repo"),
            "git@github.com/org/repo"
        );
        assert_eq!(normalize_git_url("*"), "*");
        assert_eq!(
            normalize_git_url("https://github.com/org/*"),
            "https://github.com/org/*"
        );
        // braces are re-escaped by Go's url package, so they stop globbing
        assert_eq!(
            normalize_git_url("https://github.com/org/{a,b}"),
            "https://github.com/org/%7Ba,b%7D"
        );
        assert_eq!(normalize_git_url("https://github.com/%zz"), "");
        assert_eq!(normalize_git_url("https://github.com:abc/x"), "");
        assert_eq!(normalize_git_url(":foo"), "");
        // only one .git suffix is removed
        assert_eq!(
            normalize_git_url("https://h/o/r.git.git"),
            "https://h/o/r.git"
        );
    }

    #[test]
    fn source_exact_case_git_suffix() {
        let p = repos(&["https://github.com/your-org/payments-manifests"]);
        assert!(p.is_source_permitted("https://github.com/your-org/payments-manifests"));
        assert!(p.is_source_permitted("https://github.com/Your-Org/Payments-Manifests.git"));
        assert!(!p.is_source_permitted("https://github.com/your-org/other"));
        // ssh form of the same repo is a different URL to Argo CD
        assert!(!p.is_source_permitted("git@github.com:your-org/payments-manifests.git"));
        let p = repos(&["git@github.com:your-org/payments-manifests.git"]);
        assert!(p.is_source_permitted("git@github.com:Your-Org/payments-manifests"));
        assert!(p.is_source_permitted("ssh://git@github.com/your-org/payments-manifests"));
    }

    #[test]
    fn source_globs_and_separators() {
        let p = repos(&["https://github.com/org/*"]);
        assert!(p.is_source_permitted("https://github.com/org/a"));
        assert!(!p.is_source_permitted("https://github.com/org/a/b"));
        let p = repos(&["https://github.com/org/**"]);
        assert!(p.is_source_permitted("https://github.com/org/a/b"));
        let p = repos(&["*"]);
        assert!(p.is_source_permitted("https://anything/at/all"));
        let p = repos(&[]);
        assert!(!p.is_source_permitted("https://github.com/org/a"));
    }

    #[test]
    fn source_negation_exactly_as_argo() {
        // deny-only list: every other repo is permitted (code, not docs)
        let p = repos(&["!https://github.com/org/secret"]);
        assert!(p.is_source_permitted("https://github.com/org/public"));
        assert!(!p.is_source_permitted("https://github.com/org/secret.git"));
        // allow + deny: deny wins, order irrelevant
        for list in [
            ["https://github.com/org/*", "!https://github.com/org/secret"],
            ["!https://github.com/org/secret", "https://github.com/org/*"],
        ] {
            let p = repos(&list);
            assert!(p.is_source_permitted("https://github.com/org/ok"));
            assert!(!p.is_source_permitted("https://github.com/org/secret"));
            // a non-matching deny counts as a match
            assert!(p.is_source_permitted("https://gitlab.com/x/y"));
        }
        // a glob deny
        let p = repos(&["*", "!https://github.com/evil/*"]);
        assert!(!p.is_source_permitted("https://github.com/evil/x"));
        assert!(p.is_source_permitted("https://github.com/good/x"));
        assert!(repos(&["!*"]).validation_errors().len() == 1);
    }

    fn dests(list: &[(&str, &str, &str)]) -> AppProject {
        AppProject {
            destinations: list
                .iter()
                .map(|(s, n, ns)| Destination {
                    server: s.to_string(),
                    name: n.to_string(),
                    namespace: ns.to_string(),
                })
                .collect(),
            ..AppProject::default()
        }
    }

    const SVC: &str = "https://kubernetes.default.svc";

    #[test]
    fn destinations_basic() {
        let p = dests(&[(SVC, "", "payments"), (SVC, "", "payments-*")]);
        assert!(p.is_destination_permitted(SVC, "in-cluster", "payments"));
        assert!(p.is_destination_permitted(SVC, "", "payments-staging"));
        assert!(!p.is_destination_permitted(SVC, "", "kube-system"));
        assert!(!p.is_destination_permitted("https://other", "", "payments"));
        assert!(!p.is_destination_permitted(SVC, "", "Payments")); // case-sensitive
        // name-only destination matches by cluster name
        let p = dests(&[("", "in-cluster", "payments")]);
        assert!(p.is_destination_permitted(SVC, "in-cluster", "payments"));
        assert!(!p.is_destination_permitted(SVC, "", "payments"));
        // no separator: `*` crosses `/`
        let p = dests(&[("https://*", "", "*")]);
        assert!(p.is_destination_permitted("https://a/b/c", "", "x"));
    }

    #[test]
    fn destinations_negation() {
        // deny-only namespace: everything else on that server is permitted
        let p = dests(&[(SVC, "", "!kube-system")]);
        assert!(p.is_destination_permitted(SVC, "", "payments"));
        assert!(!p.is_destination_permitted(SVC, "", "kube-system"));
        // allow all + deny
        let p = dests(&[("*", "", "*"), ("*", "", "!kube-*")]);
        assert!(p.is_destination_permitted(SVC, "", "payments"));
        assert!(!p.is_destination_permitted(SVC, "", "kube-public"));
        // server deny applies while that entry's namespace matches
        let p = dests(&[("*", "", "*"), ("!https://prod.example", "", "*")]);
        assert!(!p.is_destination_permitted("https://prod.example", "", "a"));
        assert!(p.is_destination_permitted(SVC, "", "a"));
        // name deny
        let p = dests(&[("*", "*", "*"), ("", "!prod", "*")]);
        assert!(!p.is_destination_permitted("https://x", "prod", "a"));
        assert!(p.is_destination_permitted("https://x", "dev", "a"));
        // order irrelevant
        let p = dests(&[("*", "", "!kube-*"), ("*", "", "*")]);
        assert!(!p.is_destination_permitted(SVC, "", "kube-system"));
        assert_eq!(
            dests(&[(SVC, "", "!*")]).validation_errors(),
            vec!["destination namespace has an invalid format, '!*'".to_string()]
        );
    }

    #[test]
    fn deny_entries_fire_only_within_their_other_half() {
        // `!server` denies only where that entry's namespace matches
        let p = dests(&[("*", "", "*"), ("!https://prod", "", "kube-system")]);
        assert!(!p.is_destination_permitted("https://prod", "", "kube-system"));
        assert!(p.is_destination_permitted("https://prod", "", "apps"));
        // `!namespace` denies only where that entry's server matches
        let p = dests(&[("*", "", "*"), ("https://prod", "", "!apps")]);
        assert!(!p.is_destination_permitted("https://prod", "", "apps"));
        assert!(p.is_destination_permitted("https://dev", "", "apps"));
        // … by server: a cluster matched only by name does not arm it
        let p = dests(&[("*", "*", "*"), ("https://prod", "prod", "!apps")]);
        assert!(p.is_destination_permitted("", "prod", "apps"));
        assert!(!p.is_destination_permitted("https://prod", "prod", "apps"));
        // `!name` denies wherever its name does not match, whatever the namespace
        let p = dests(&[("*", "", "*"), ("", "!prod", "only-this")]);
        assert!(!p.is_destination_permitted(SVC, "prod", "other"));
        assert!(p.is_destination_permitted(SVC, "dev", "other"));
        // an unknown (empty) name leaves a `!name` entry armed: fail closed
        assert!(!p.is_destination_permitted(SVC, "", "other"));
    }

    #[test]
    fn source_namespace_regex_has_lookaround() {
        let p = project("  sourceNamespaces: ['/^team-(?!admin)[a-z]+$/', '/(a)\\1/']\n");
        assert!(p.is_app_namespace_permitted("team-lab", "argocd"));
        assert!(!p.is_app_namespace_permitted("team-admin", "argocd"));
        // backreference (regexp2 has them)
        assert!(p.is_app_namespace_permitted("xaax", "argocd"));
        assert!(!p.is_app_namespace_permitted("xax", "argocd"));
        // unanchored, as regexp2's MatchString
        let p = project("  sourceNamespaces: ['/ci-/']\n");
        assert!(p.is_app_namespace_permitted("my-ci-1", "argocd"));
        // a regex that does not compile permits nothing and is reported
        let p = project("  sourceNamespaces: ['/(/']\n");
        assert!(!p.is_app_namespace_permitted("(", "argocd"));
        assert_eq!(
            p.validation_errors().len(),
            1,
            "{:?}",
            p.validation_errors()
        );
    }

    #[test]
    fn validation_duplicates_globs_roles_service_accounts() {
        let p = project("  sourceNamespaces: [a, b]\n");
        assert_eq!(p.validation_errors(), Vec::<String>::new());
        let p = project("  sourceNamespaces: [a, a]\n");
        assert_eq!(
            p.validation_errors(),
            vec!["source namespace 'a' already added".to_string()]
        );
        // a deny built on a broken glob denies nothing: reported
        let p = dests(&[("*", "", "*"), ("*", "", "!kube-[system")]);
        assert!(p.is_destination_permitted(SVC, "", "kube-system"));
        let e = p.validation_errors();
        assert!(e.len() == 1 && e[0].contains("denies nothing"), "{e:?}");
        let p = repos(&["https://github.com/org/[x"]);
        assert_eq!(p.validation_errors().len(), 1);
        // roles
        let p = project(
            "  roles:\n  - name: ci\n    policies:\n    - p, proj:p:ci, applications, sync, p/*, allow\n    groups: [my-org:ci]\n",
        );
        assert_eq!(p.validation_errors(), Vec::<String>::new());
        let p = project(
            "  roles:\n  - name: ci\n  - name: ci\n  - name: 'bad name'\n    groups: ['a,b', a, a]\n",
        );
        let e = p.validation_errors();
        assert_eq!(e.len(), 4, "{e:?}");
        // destination service accounts
        let p = project(
            "  destinationServiceAccounts:\n  - server: https://kubernetes.default.svc\n    namespace: lab\n    defaultServiceAccount: lab-deployer\n",
        );
        assert_eq!(p.validation_errors(), Vec::<String>::new());
        let p = project(
            "  destinationServiceAccounts:\n  - server: '!x'\n    namespace: '[a'\n    defaultServiceAccount: 'a/b'\n  - server: '!x'\n    namespace: '[a'\n    defaultServiceAccount: ' '\n",
        );
        assert_eq!(
            p.validation_errors().len(),
            7,
            "{:?}",
            p.validation_errors()
        );
    }

    #[test]
    fn namespace_lists_absent_vs_empty() {
        let absent = project("  sourceRepos: ['*']\n");
        assert!(absent.is_group_kind_permitted("apps", "Deployment", true));
        let null = project("  namespaceResourceWhitelist: null\n");
        assert!(null.is_group_kind_permitted("apps", "Deployment", true));
        let empty = project("  namespaceResourceWhitelist: []\n");
        assert!(!empty.is_group_kind_permitted("apps", "Deployment", true));
        let listed = project(
            "  namespaceResourceWhitelist:\n  - group: ''\n    kind: ConfigMap\n  - group: apps\n    kind: '*'\n",
        );
        assert!(listed.is_group_kind_permitted("", "ConfigMap", true));
        assert!(listed.is_group_kind_permitted("apps", "StatefulSet", true));
        assert!(!listed.is_group_kind_permitted("", "Secret", true));
        assert!(!listed.is_group_kind_permitted("", "configmap", true));
        let black = project("  namespaceResourceBlacklist:\n  - group: '*'\n    kind: Secret\n");
        assert!(!black.is_group_kind_permitted("", "Secret", true));
        assert!(black.is_group_kind_permitted("", "ConfigMap", true));
        let empty_black = project("  namespaceResourceBlacklist: []\n");
        assert!(empty_black.is_group_kind_permitted("", "Secret", true));
    }

    #[test]
    fn cluster_lists_absent_empty_names() {
        let absent = project("  sourceRepos: ['*']\n");
        assert!(!absent.is_group_kind_permitted("", "Namespace", false));
        let empty = project("  clusterResourceWhitelist: []\n");
        assert!(!empty.is_group_kind_permitted("", "Namespace", false));
        // blacklist alone permits nothing (whitelist absent)
        let black_only =
            project("  clusterResourceBlacklist:\n  - group: ''\n    kind: Namespace\n");
        assert!(!black_only.is_group_kind_permitted("", "PersistentVolume", false));
        let all = project(
            "  clusterResourceWhitelist:\n  - group: '*'\n    kind: '*'\n  clusterResourceBlacklist:\n  - group: rbac.authorization.k8s.io\n    kind: 'Cluster*'\n",
        );
        assert!(all.is_group_kind_permitted("", "Namespace", false));
        assert!(!all.is_group_kind_permitted("rbac.authorization.k8s.io", "ClusterRole", false));
        let named = project(
            "  clusterResourceWhitelist:\n  - group: ''\n    kind: Namespace\n    name: 'team1-*'\n",
        );
        assert!(named.is_group_kind_name_permitted("", "Namespace", "team1-a", false));
        assert!(!named.is_group_kind_name_permitted("", "Namespace", "kube-system", false));
        let named_black = project(
            "  clusterResourceWhitelist:\n  - group: ''\n    kind: Namespace\n  clusterResourceBlacklist:\n  - group: ''\n    kind: Namespace\n    name: 'kube-*'\n",
        );
        assert!(named_black.is_group_kind_name_permitted("", "Namespace", "apps", false));
        assert!(!named_black.is_group_kind_name_permitted("", "Namespace", "kube-x", false));
        // bad pattern never matches
        let bad = project("  clusterResourceWhitelist:\n  - group: '['\n    kind: '*'\n");
        assert!(!bad.is_group_kind_permitted("", "Namespace", false));
    }

    #[test]
    fn default_project_allows_everything() {
        let d = default_project();
        assert!(d.is_source_permitted("https://x/y"));
        assert!(d.is_destination_permitted(SVC, "", "anything"));
        assert!(d.is_group_kind_permitted("", "Namespace", false));
        assert!(d.is_group_kind_permitted("apps", "Deployment", true));
    }

    #[test]
    fn parse_errors_and_source_namespaces() {
        let text = "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata: {name: p}\nspec:\n  sourceRepos: https://x\n";
        let o = load_objects("p.yaml", text, &Limits::default())
            .objects
            .remove(0);
        let e = AppProject::from_object(&o).unwrap_err();
        assert_eq!(e.line, 5);
        let p = project("  sourceNamespaces: ['team-*', '/^ci-[0-9]+$/']\n");
        assert!(p.is_app_namespace_permitted("argocd", "argocd"));
        assert!(p.is_app_namespace_permitted("team-a", "argocd"));
        assert!(p.is_app_namespace_permitted("ci-42", "argocd"));
        assert!(!p.is_app_namespace_permitted("other", "argocd"));
    }
}
