//! Checks on a typed config that serde cannot express: globs compile,
//! exceptions name known, waivable rules with a reason and a real date,
//! bindings name a project and paths, numbers are in range. Each problem
//! is reported at the line of the offending key or list item.

use chrono::NaiveDate;

use super::globs::{GlobKind, check_glob};
use super::parse::ConfigError;
use super::tree::Tree;
use super::{Config, Exception};
use crate::engine::catalog;
use crate::engine::ids::RepoName;

/// Most approvals a config may require: more than this is a typo (or a way
/// to make every PR unmergeable) rather than a policy.
pub(super) const MAX_APPROVALS: u32 = 10;

struct V<'a> {
    file: &'a str,
    tree: &'a Tree,
    errors: Vec<ConfigError>,
}

impl V<'_> {
    fn err(&mut self, line: u32, key_path: String, message: impl Into<String>) {
        self.errors
            .push(ConfigError::new(self.file, line, key_path, message));
    }

    /// Line of the key at `path` (1 when the key is not written, which
    /// only happens for defaults, and defaults are valid).
    fn key_line(&self, path: &[&str]) -> u32 {
        self.tree.entry_at(path).map_or(1, |e| e.key_line)
    }

    /// Line of item `i` of the list at `path`.
    fn item_line(&self, path: &[&str], i: usize) -> u32 {
        self.tree
            .at(path)
            .and_then(|t| t.items().get(i))
            .map_or_else(|| self.key_line(path), |t| t.line)
    }

    /// Checks every pattern of a glob list.
    fn globs(&mut self, path: &[&str], patterns: &[String], kind: GlobKind) {
        for (i, p) in patterns.iter().enumerate() {
            if let Err(e) = check_glob(p, kind) {
                let line = self.item_line(path, i);
                self.err(line, format!("{}[{i}]", path.join(".")), e);
            }
        }
    }

    /// Checks a list of plain names (no empty entries).
    fn names(&mut self, path: &[&str], names: &[String], what: &str, ok: impl Fn(&str) -> bool) {
        for (i, n) in names.iter().enumerate() {
            if n.trim().is_empty() || !ok(n) {
                let line = self.item_line(path, i);
                self.err(
                    line,
                    format!("{}[{i}]", path.join(".")),
                    format!("`{n}` is not a valid {what}"),
                );
            }
        }
    }
}

/// Validates `c` (parsed from the text `tree` describes).
pub(super) fn validate(file: &str, c: &Config, tree: &Tree) -> Vec<ConfigError> {
    let mut v = V {
        file,
        tree,
        errors: Vec::new(),
    };
    if c.version != 1 {
        let line = v.key_line(&["version"]);
        v.err(
            line,
            "version".into(),
            format!(
                "unsupported version {}; the only config version is 1",
                c.version
            ),
        );
    }
    v.globs(&["manifests", "paths"], &c.manifests.paths, GlobKind::Path);
    v.globs(
        &["manifests", "ignore"],
        &c.manifests.ignore,
        GlobKind::Path,
    );
    v.globs(
        &["tenants", "projects"],
        &c.tenants.projects,
        GlobKind::Path,
    );
    bindings(&mut v, c);
    v.globs(
        &["admission", "policies"],
        &c.admission.policies,
        GlobKind::Path,
    );
    registries(&mut v, &c.admission.images.registries);
    for (i, ex) in c.admission.exceptions.iter().enumerate() {
        exception(&mut v, i, ex);
    }
    allowed_in_repo(&mut v, &c.admission.exceptions_allowed_in_repo);
    v.globs(
        &["gitops", "production"],
        &c.gitops.production,
        GlobKind::Name,
    );
    let n = c.reviews.required_approvals;
    if n == 0 || n > MAX_APPROVALS {
        let line = v.key_line(&["reviews", "required_approvals"]);
        v.err(
            line,
            "reviews.required_approvals".into(),
            format!(
                "{n} is out of range: at least 1 approval is required (the review gate cannot be switched off) and at most {MAX_APPROVALS}"
            ),
        );
    }
    v.names(
        &["signatures", "trusted_bots"],
        &c.signatures.trusted_bots,
        "bot login",
        is_login,
    );
    v.globs(&["push", "branches"], &c.push.branches, GlobKind::Ref);
    v.globs(&["push", "tags"], &c.push.tags, GlobKind::Ref);
    v.names(
        &["push", "trusted_authors"],
        &c.push.trusted_authors,
        "author (a login, an email, or @org/team)",
        is_author,
    );
    if let Some(r) = &c.push.alert.repository
        && RepoName::parse(r).is_none()
    {
        let line = v.key_line(&["push", "alert", "repository"]);
        v.err(
            line,
            "push.alert.repository".into(),
            format!("`{r}` is not a repository name; write `owner/name`"),
        );
    }
    if let Some(name) = &c.push.alert.webhook_url_env
        && !is_env_name(name)
    {
        let line = v.key_line(&["push", "alert", "webhook_url_env"]);
        v.err(
            line,
            "push.alert.webhook_url_env".into(),
            format!(
                "`{name}` is not an environment variable name (letters, digits and `_`, not starting with a digit); name the variable that holds the URL, never the URL itself"
            ),
        );
    }
    v.errors
}

fn bindings(v: &mut V<'_>, c: &Config) {
    const B: &[&str] = &["tenants", "bindings"];
    for (i, b) in c.tenants.bindings.iter().enumerate() {
        let node = v.tree.at(B).and_then(|t| t.items().get(i)).cloned();
        let at = |key: &str| {
            node.as_ref()
                .map_or(1, |n| n.entry(key).map_or(n.line, |e| e.key_line))
        };
        let prefix = format!("tenants.bindings[{i}]");
        if b.project.trim().is_empty() {
            v.err(
                at("project"),
                format!("{prefix}.project"),
                "a binding needs `project`: the name of the AppProject its paths belong to",
            );
        } else if !is_dns_subdomain(&b.project) {
            v.err(
                at("project"),
                format!("{prefix}.project"),
                format!(
                    "`{}` is not a valid AppProject name (lowercase letters, digits, `-` and `.`)",
                    b.project
                ),
            );
        }
        if b.paths.is_empty() {
            v.err(
                at("paths"),
                format!("{prefix}.paths"),
                "a binding needs `paths`: the globs of the files this project deploys",
            );
        }
        for (j, p) in b.paths.iter().enumerate() {
            if let Err(e) = check_glob(p, GlobKind::Path) {
                let line = node
                    .as_ref()
                    .and_then(|n| n.at(&["paths"]))
                    .and_then(|t| t.items().get(j))
                    .map_or(at("paths"), |t| t.line);
                v.err(line, format!("{prefix}.paths[{j}]"), e);
            }
        }
        if let Some(ns) = &b.namespace
            && !is_dns_label(ns)
        {
            v.err(
                at("namespace"),
                format!("{prefix}.namespace"),
                format!("`{ns}` is not a valid namespace name (a DNS label: lowercase letters, digits and `-`, at most 63)"),
            );
        }
        if let Some(r) = &b.repo
            && !is_repo_ref(r)
        {
            v.err(
                at("repo"),
                format!("{prefix}.repo"),
                format!("`{r}` is neither `owner/name` nor a Git URL"),
            );
        }
        if let Some(s) = &b.server
            && !(s.starts_with("https://") || s.starts_with("http://"))
        {
            v.err(
                at("server"),
                format!("{prefix}.server"),
                format!("`{s}` is not a cluster URL (like `https://kubernetes.default.svc`)"),
            );
        }
    }
}

fn registries(v: &mut V<'_>, regs: &[String]) {
    const P: &[&str] = &["admission", "images", "registries"];
    for (i, r) in regs.iter().enumerate() {
        let problem = if r.trim().is_empty() {
            Some("an empty registry would allow nothing by mistake".to_owned())
        } else if r.contains("://") {
            Some("write the registry host (and optional path) without a scheme".into())
        } else if r
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '*' | '?' | '@' | '['))
        {
            Some("registries are plain host or host/path prefixes; globs, digests and spaces are not allowed".into())
        } else if r.ends_with('/') || r.starts_with('/') {
            Some("drop the leading or trailing `/`".into())
        } else {
            None
        };
        if let Some(p) = problem {
            let line = v.item_line(P, i);
            v.err(
                line,
                format!("admission.images.registries[{i}]"),
                format!("`{r}`: {p}"),
            );
        }
    }
}

fn exception(v: &mut V<'_>, i: usize, ex: &Exception) {
    let node = v
        .tree
        .at(&["admission", "exceptions"])
        .and_then(|t| t.items().get(i))
        .cloned();
    let item_line = node.as_ref().map_or(1, |n| n.line);
    let at = |key: &[&str]| {
        node.as_ref()
            .and_then(|n| n.entry_at(key))
            .map_or(item_line, |e| e.key_line)
    };
    let prefix = format!("admission.exceptions[{i}]");
    if ex.rule.trim().is_empty() {
        v.err(
            at(&["rule"]),
            format!("{prefix}.rule"),
            "an exception needs `rule`: the rule id it waives",
        );
    } else if !catalog::is_known(&ex.rule) {
        v.err(
            at(&["rule"]),
            format!("{prefix}.rule"),
            format!(
                "unknown rule id `{}` (see the rule catalogue; Kyverno rules are `kyverno/<policy>/<rule>`)",
                ex.rule
            ),
        );
    } else if !catalog::is_waivable(&ex.rule) {
        v.err(
            at(&["rule"]),
            format!("{prefix}.rule"),
            format!(
                "rule `{}` cannot be waived by an exception (it guards the policy itself or the readability of the input)",
                ex.rule
            ),
        );
    }
    if ex.reason.trim().is_empty() {
        v.err(
            at(&["reason"]),
            format!("{prefix}.reason"),
            "an exception needs a `reason` saying why the rule is waived",
        );
    }
    if let Some(d) = &ex.expires
        && parse_date(d).is_none()
    {
        v.err(
            at(&["expires"]),
            format!("{prefix}.expires"),
            format!("`{d}` is not a date; write `YYYY-MM-DD` (the last day the exception applies)"),
        );
    }
    let m = &ex.match_;
    if m.namespace.is_none() && m.kind.is_none() && m.name.is_none() {
        // An empty `match` (or one with only `path` / `container`) would
        // waive the rule for every object it reaches: fail closed.
        v.err(
            at(&["match"]),
            format!("{prefix}.match"),
            "an exception must name the workload it waives: give at least one of `namespace`, `kind`, `name` under `match`",
        );
    }
    let fields = [
        ("namespace", &m.namespace, GlobKind::Name),
        ("kind", &m.kind, GlobKind::Name),
        ("name", &m.name, GlobKind::Name),
        ("path", &m.path, GlobKind::Path),
        ("container", &m.container, GlobKind::Name),
    ];
    for (key, value, kind) in fields {
        if let Some(p) = value
            && let Err(e) = check_glob(p, kind)
        {
            v.err(at(&["match", key]), format!("{prefix}.match.{key}"), e);
        }
    }
}

/// `admission.exceptions_allowed_in_repo`: rule ids an exception could
/// waive (known and waivable); anything else is a typo that would silently
/// allow nothing, or an attempt to allow what can never be waived.
fn allowed_in_repo(v: &mut V<'_>, ids: &[String]) {
    const P: &[&str] = &["admission", "exceptions_allowed_in_repo"];
    for (i, id) in ids.iter().enumerate() {
        let problem = if !catalog::is_known(id) {
            format!(
                "unknown rule id `{id}` (see the rule catalogue; Kyverno rules are `kyverno/<policy>/<rule>`)"
            )
        } else if !catalog::is_waivable(id) {
            format!("rule `{id}` can never be waived by an exception, so allowing it means nothing")
        } else {
            continue;
        };
        let line = v.item_line(P, i);
        v.err(line, format!("{}[{i}]", P.join(".")), problem);
    }
}

/// Parses an `expires` date: exactly `YYYY-MM-DD` (no times, no other
/// spellings, so `03/04/2027` cannot be read two ways).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns_label)
}

fn is_repo_ref(s: &str) -> bool {
    RepoName::parse(s).is_some()
        || ((s.starts_with("https://")
            || s.starts_with("http://")
            || s.starts_with("ssh://")
            || s.starts_with("git@"))
            && !s.chars().any(char::is_whitespace))
}

fn is_login(s: &str) -> bool {
    // GitHub logins, plus the `[bot]` suffix of app accounts.
    let core = s.strip_suffix("[bot]").unwrap_or(s);
    !core.is_empty()
        && core.len() <= 39
        && core.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn is_author(s: &str) -> bool {
    if let Some(team) = s.strip_prefix('@') {
        return team
            .split_once('/')
            .is_some_and(|(o, t)| is_login(o) && !t.is_empty() && !t.contains('/'));
    }
    if s.contains('@') {
        let (local, domain) = s.rsplit_once('@').unwrap_or(("", ""));
        return !local.is_empty() && domain.contains('.') && !s.chars().any(char::is_whitespace);
    }
    is_login(s)
}

fn is_env_name(s: &str) -> bool {
    !s.is_empty()
        && !s.as_bytes()[0].is_ascii_digit()
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use crate::engine::config::{ConfigError, parse_config};

    fn errs(text: &str) -> Vec<ConfigError> {
        parse_config("c.yml", text).expect_err("expected errors")
    }

    /// Asserts exactly these (line, key path) errors, in any order.
    fn expect(text: &str, want: &[(u32, &str)]) -> Vec<ConfigError> {
        let e = errs(text);
        let mut got: Vec<_> = e.iter().map(|e| (e.line, e.key_path.as_str())).collect();
        got.sort();
        let mut want = want.to_vec();
        want.sort();
        assert_eq!(got, want, "{e:#?}");
        e
    }

    fn ok(text: &str) {
        if let Err(e) = parse_config("c.yml", text) {
            panic!("unexpected errors: {e:#?}");
        }
    }

    #[test]
    fn version_must_be_one() {
        let e = expect("# header\nversion: 2\n", &[(2, "version")]);
        assert!(e[0].message.contains("only config version is 1"));
        ok("version: 1\n");
    }

    #[test]
    fn every_glob_field_is_checked_at_its_item_line() {
        let text = "\
manifests:
  paths: [\"**/*.yaml\", \"a/[b\"]
  ignore:
    - \".github/**\"
    - \"/abs/**\"
tenants:
  projects: [\"p/{x\"]
  bindings:
    - project: team-a
      paths:
        - \"ok/**\"
        - \"bad/[\"
admission:
  policies: [\"\"]
  exceptions:
    - rule: privileged
      reason: r
      match: {namespace: \"ns-[\", kind: \"K{\", name: \"n[\", path: \"/x\", container: \"c[\"}
gitops:
  production: [\"prod-[\"]
push:
  branches: [main, \"refs/heads/release\"]
  tags: [\"v[\"]
";
        expect(
            text,
            &[
                (2, "manifests.paths[1]"),
                (5, "manifests.ignore[1]"),
                (7, "tenants.projects[0]"),
                (12, "tenants.bindings[0].paths[1]"),
                (14, "admission.policies[0]"),
                (18, "admission.exceptions[0].match.namespace"),
                (18, "admission.exceptions[0].match.kind"),
                (18, "admission.exceptions[0].match.name"),
                (18, "admission.exceptions[0].match.path"),
                (18, "admission.exceptions[0].match.container"),
                (20, "gitops.production[0]"),
                (22, "push.branches[1]"),
                (23, "push.tags[0]"),
            ],
        );
        ok(
            "manifests:\n  paths: [\"apps/**/*.yaml\", \"*.json\"]\npush:\n  branches: [main, \"release/*\"]\n  tags: [\"v*\"]\n",
        );
    }

    #[test]
    fn exceptions_need_known_waivable_rule_reason_and_date() {
        let text = "\
admission:
  exceptions:
    - rule: host-network
      match: {kind: DaemonSet}
      reason: typo in the rule id
    - match: {kind: DaemonSet}
      reason: no rule at all
    - rule: privileged
      match: {kind: DaemonSet}
      reason: \"  \"
    - rule: privileged
      match: {kind: DaemonSet}
      reason: r
      expires: 2027-02-30
    - rule: privileged
      match: {kind: DaemonSet}
      reason: r
      expires: 31/03/2027
    - rule: policy-change
      match: {kind: DaemonSet}
      reason: trying to waive the trust root
    - rule: kyverno/block-privileged/check
      match: {kind: DaemonSet}
      reason: fine
      expires: 2027-03-31
";
        let e = expect(
            text,
            &[
                (3, "admission.exceptions[0].rule"),
                (6, "admission.exceptions[1].rule"),
                (10, "admission.exceptions[2].reason"),
                (14, "admission.exceptions[3].expires"),
                (18, "admission.exceptions[4].expires"),
                (19, "admission.exceptions[5].rule"),
            ],
        );
        assert!(e.iter().any(|e| e.message.contains("cannot be waived")));
        ok(
            "admission:\n  exceptions:\n    - rule: host-namespaces\n      match: {namespace: monitoring, kind: DaemonSet, name: node-exporter}\n      reason: node metrics need the host network\n      expires: 2027-03-31\n",
        );
    }

    #[test]
    fn exceptions_must_name_namespace_kind_or_name() {
        let text = "\
admission:
  exceptions:
    - rule: privileged
      match: {}
      reason: waives it everywhere
    - rule: privileged
      reason: no match at all
    - rule: privileged
      match: {path: \"**\", container: \"*\"}
      reason: every file, every container
";
        let e = expect(
            text,
            &[
                (4, "admission.exceptions[0].match"),
                (6, "admission.exceptions[1].match"),
                (9, "admission.exceptions[2].match"),
            ],
        );
        assert!(e[0].message.contains("namespace"), "{}", e[0].message);
        // Twins: any one of the three is enough.
        for m in [
            "{namespace: monitoring}",
            "{kind: DaemonSet}",
            "{name: csi-*, path: a/**}",
        ] {
            ok(&format!(
                "admission:\n  exceptions:\n    - rule: privileged\n      match: {m}\n      reason: r\n"
            ));
        }
    }

    #[test]
    fn expires_date_shape() {
        assert!(super::parse_date("2027-03-31").is_some());
        assert!(super::parse_date("2028-02-29").is_some());
        assert!(super::parse_date("2027-02-29").is_none());
        assert!(super::parse_date("2027-3-31").is_none());
        assert!(super::parse_date("2027-03-31T00:00:00Z").is_none());
        assert!(super::parse_date("").is_none());
    }

    #[test]
    fn bindings_need_project_and_paths() {
        let text = "\
tenants:
  bindings:
    - paths: [\"a/**\"]
    - project: team-b
    - project: Team_C
      paths: [\"c/**\"]
      namespace: Bad_NS
      repo: not a repo
      server: kubernetes.default.svc
";
        expect(
            text,
            &[
                (3, "tenants.bindings[0].project"),
                (4, "tenants.bindings[1].paths"),
                (5, "tenants.bindings[2].project"),
                (7, "tenants.bindings[2].namespace"),
                (8, "tenants.bindings[2].repo"),
                (9, "tenants.bindings[2].server"),
            ],
        );
        ok(
            "tenants:\n  bindings:\n    - project: team-a\n      paths: [\"a/**\"]\n      repo: https://github.com/acme/a.git\n      server: https://kubernetes.default.svc\n",
        );
    }

    #[test]
    fn required_approvals_range() {
        for (v, bad) in [(0, true), (1, false), (10, false), (11, true), (1000, true)] {
            let text = format!("reviews:\n  dismiss_stale: true\n  required_approvals: {v}\n");
            if bad {
                expect(&text, &[(3, "reviews.required_approvals")]);
            } else {
                ok(&text);
            }
        }
    }

    #[test]
    fn names_and_destinations() {
        let text = "\
admission:
  images:
    registries: [\"ghcr.io/acme\", \"https://docker.io\", \"*.example.com\", \"\"]
signatures:
  trusted_bots: [\"renovate[bot]\", \"has space\"]
push:
  trusted_authors: [alice, \"bob@example.com\", \"@acme/platform\", \"@acme\", \"x y\"]
  alert:
    repository: just-a-name
    webhook_url_env: https://hooks.slack.com/x
";
        expect(
            text,
            &[
                (3, "admission.images.registries[1]"),
                (3, "admission.images.registries[2]"),
                (3, "admission.images.registries[3]"),
                (5, "signatures.trusted_bots[1]"),
                (7, "push.trusted_authors[3]"),
                (7, "push.trusted_authors[4]"),
                (9, "push.alert.repository"),
                (10, "push.alert.webhook_url_env"),
            ],
        );
        ok(
            "admission:\n  images:\n    registries: [ghcr.io/acme, \"localhost:5000\"]\npush:\n  alert:\n    repository: acme/alerts\n    webhook_url_env: SLACK_URL\n",
        );
    }
}
