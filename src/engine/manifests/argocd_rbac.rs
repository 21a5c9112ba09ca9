//! `argocd-rbac`: Argo CD RBAC policy lines that grant across projects.
//!
//! Argo CD projects are the tenancy boundary, but its RBAC (a casbin model,
//! `util/rbac` in argo-cd) is global: a line in `argocd-rbac-cm` whose object
//! is `*/*` lets its subject act on every tenant's applications, and a role
//! that may edit AppProjects can widen its own boundary. We read the policy
//! the way Argo CD loads it:
//!
//! - `policy.csv`, then every `policy.<x>.csv` key (sorted by key), one CSV
//!   record per line (Go `encoding/csv` with leading spaces trimmed, quotes
//!   allowed), `#` comments and blank lines skipped;
//! - `p, <subject>, <resource>, <action>, <object>[, <effect>]` and
//!   `g, <user|group|role>, <role>`;
//! - `policy.matchMode`: `glob` (default; gobwas glob without separators,
//!   so `*` crosses `/`) or `regex` (Go `regexp.MatchString`, which is
//!   **unanchored**: `team-a/.*` also matches `not-team-a/app`);
//! - effect `some(allow) && !some(deny)`: a deny always wins, whatever the
//!   order, so an allow that a deny of the same subject fully covers is dead
//!   and not reported.
//!
//! The rule, in one sentence: an `allow` line is reported when its object
//! can name applications of more than one project, when it lets its subject
//! edit AppProjects, or when it writes Argo CD-wide settings (clusters,
//! repositories, certificates, accounts, GPG keys) outside one project.
//! The built-in `role:admin` is the one designated cross-project role, so its
//! own `p` lines are not reported; assigning it (or `role:readonly`) with a
//! `g` line is reported outside platform-owned paths, and always when the
//! assignee is another role or a project role (inheritance turns a tenant
//! role into an administrator). AppProject `spec.roles[].policies` must stay
//! inside their own project: Argo CD's API rejects anything else, but a
//! project applied from Git is not validated by that API, so we report it.

use crate::engine::manifests::object::Object;
use crate::engine::manifests::violation::Violation;
use crate::engine::yaml::{Node, Value};

const RULE: &str = "argocd-rbac";

/// Built-in roles that cover every project.
const CROSS_PROJECT_BUILTIN_ROLES: [&str; 2] = ["role:admin", "role:readonly"];

/// Argo CD resources that are not scoped to one project: writing them
/// changes what every project sees.
const GLOBAL_RESOURCES: [&str; 6] = [
    "clusters",
    "repositories",
    "write-repositories",
    "certificates",
    "accounts",
    "gpgkeys",
];

/// Actions that change state (anything but `get`).
const WRITE_ACTIONS: [&str; 4] = ["create", "update", "delete", "override"];

/// Resources an AppProject role policy may name (Argo CD validation).
const PROJECT_ROLE_RESOURCES: [&str; 6] = [
    "applications",
    "applicationsets",
    "repositories",
    "exec",
    "logs",
    "clusters",
];

/// Longest policy text we analyse per key; longer values are reported.
const MAX_POLICY_BYTES: usize = 1 << 20;

/// How Argo CD matches resource, action and object patterns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchMode {
    /// gobwas glob without separators (the default).
    Glob,
    /// Go regular expressions, matched unanchored.
    Regex,
}

impl MatchMode {
    /// Reads `policy.matchMode` as Argo CD does: `regex` selects regex
    /// mode, anything else (absent, empty, misspelt) is glob.
    pub fn from_config(value: Option<&str>) -> Self {
        match value {
            Some("regex") => MatchMode::Regex,
            _ => MatchMode::Glob,
        }
    }

    /// Whether `pattern` matches `value` in this mode. A pattern that does
    /// not compile never matches, as in Argo CD.
    pub fn matches(self, pattern: &str, value: &str) -> bool {
        match self {
            MatchMode::Glob => globset::GlobBuilder::new(pattern)
                .literal_separator(false)
                .backslash_escape(true)
                .build()
                .map(|g| g.compile_matcher().is_match(value))
                .unwrap_or(false),
            MatchMode::Regex => regex::RegexBuilder::new(pattern)
                .size_limit(1 << 20)
                .build()
                .map(|r| r.is_match(value))
                .unwrap_or(false),
        }
    }

    /// True when `pattern` matches every string (`*` in glob mode, `.*`
    /// in regex mode): used to decide whether a deny fully covers an allow.
    fn matches_everything(self, pattern: &str) -> bool {
        match self {
            MatchMode::Glob => !pattern.is_empty() && pattern.chars().all(|c| c == '*'),
            MatchMode::Regex => {
                let p = pattern.strip_prefix('^').unwrap_or(pattern);
                let p = p.strip_suffix('$').unwrap_or(p);
                matches!(p, "" | ".*")
            }
        }
    }
}

/// One parsed policy line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyLine {
    /// `p, sub, res, act, obj[, eft]`.
    Permission {
        /// Subject (role, user or group).
        subject: String,
        /// Resource pattern.
        resource: String,
        /// Action pattern.
        action: String,
        /// Object pattern.
        object: String,
        /// Effect as written (`allow`, `deny`, or empty when absent).
        effect: String,
    },
    /// `g, member, role`.
    Grouping {
        /// User, group or role that receives the role.
        member: String,
        /// Role granted.
        role: String,
    },
}

impl PolicyLine {
    fn is_allow(&self) -> bool {
        // casbin compares `p.eft == allow` literally; a line without an effect
        // is treated as an allow here so that it is reviewed, not skipped.
        matches!(self, PolicyLine::Permission { effect, .. } if effect == "allow" || effect.is_empty())
    }
}

/// A policy line with its 1-based line number in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NumberedLine {
    /// Line in the manifest file.
    pub line: u32,
    /// The parsed line.
    pub policy: PolicyLine,
}

/// Splits one CSV record the way Go's `encoding/csv` does with
/// `TrimLeadingSpace`; quoted fields may contain commas and `""`. Fields
/// are also trimmed at the end for analysis (Argo CD keeps trailing spaces,
/// which only makes a pattern match less, so trimming errs towards reporting).
fn split_csv(line: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while matches!(chars.peek(), Some(' ' | '\t')) {
            chars.next();
        }
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => return None, // unterminated quote: Argo CD rejects the policy
                }
            }
            while matches!(chars.peek(), Some(' ' | '\t')) {
                chars.next();
            }
            match chars.next() {
                Some(',') => fields.push(field),
                None => {
                    fields.push(field);
                    return Some(fields);
                }
                Some(_) => return None,
            }
        } else {
            loop {
                match chars.next() {
                    Some(',') => {
                        fields.push(field.trim_end().to_owned());
                        break;
                    }
                    Some(c) => field.push(c),
                    None => {
                        fields.push(field.trim_end().to_owned());
                        return Some(fields);
                    }
                }
            }
        }
    }
}

/// Parses one policy line. `None` for blank lines and comments; `Err` with
/// a reason for lines Argo CD would refuse.
pub fn parse_line(raw: &str) -> Result<Option<PolicyLine>, String> {
    let line = raw.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let fields = split_csv(line).ok_or_else(|| "is not a valid CSV record".to_owned())?;
    let f = |i: usize| fields.get(i).cloned().unwrap_or_default();
    match fields.first().map(String::as_str) {
        Some("p") if (5..=6).contains(&fields.len()) => Ok(Some(PolicyLine::Permission {
            subject: f(1),
            resource: f(2),
            action: f(3),
            object: f(4),
            effect: f(5),
        })),
        Some("g") if fields.len() == 3 => Ok(Some(PolicyLine::Grouping {
            member: f(1),
            role: f(2),
        })),
        Some("p") => Err(
            "is a `p` line without the fields `p, subject, resource, action, object, effect`"
                .into(),
        ),
        Some("g") => Err("is a `g` line without the fields `g, member, role`".into()),
        _ => Err("starts with neither `p` nor `g`".into()),
    }
}

/// Which projects an object pattern can name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObjectScope {
    /// Every object starts with this literal `<project>/`.
    Project(String),
    /// A literal object without `/` (a project name for `projects`, a
    /// name for global resources).
    Literal(String),
    /// The pattern can match objects of more than one project.
    Many,
}

fn glob_meta(c: char) -> bool {
    matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | '\\')
}

fn regex_meta(c: char) -> bool {
    matches!(
        c,
        '.' | '*' | '+' | '?' | '(' | ')' | '[' | ']' | '{' | '}' | '|' | '^' | '$'
    )
}

/// The project scope of an object pattern (`<project>/<app>` or
/// `<project>/<ns>/<app>`) under a match mode.
pub fn object_scope(object: &str, mode: MatchMode) -> ObjectScope {
    match mode {
        MatchMode::Glob => {
            let mut prefix = String::new();
            for c in object.chars() {
                if c == '/' {
                    return ObjectScope::Project(prefix);
                }
                if glob_meta(c) {
                    return ObjectScope::Many;
                }
                prefix.push(c);
            }
            ObjectScope::Literal(prefix)
        }
        MatchMode::Regex => {
            // Unanchored: without `^` the pattern matches inside any object.
            let Some(rest) = object.strip_prefix('^') else {
                return ObjectScope::Many;
            };
            let mut prefix = String::new();
            let mut chars = rest.chars();
            while let Some(c) = chars.next() {
                match c {
                    '/' => return ObjectScope::Project(prefix),
                    '\\' => match chars.next() {
                        Some(e) if !e.is_ascii_alphanumeric() => prefix.push(e),
                        _ => return ObjectScope::Many,
                    },
                    '$' if chars.as_str().is_empty() => return ObjectScope::Literal(prefix),
                    c if regex_meta(c) => return ObjectScope::Many,
                    c => prefix.push(c),
                }
            }
            // `^team-a` without `$` also matches `team-abc/...`.
            ObjectScope::Many
        }
    }
}

fn covers(mode: MatchMode, deny: &str, allow: &str) -> bool {
    deny == allow || mode.matches_everything(deny)
}

/// True when a deny line of the same subject makes this allow line dead.
fn neutralised(allow: &PolicyLine, lines: &[NumberedLine], mode: MatchMode) -> bool {
    let PolicyLine::Permission {
        subject,
        resource,
        action,
        object,
        ..
    } = allow
    else {
        return false;
    };
    lines.iter().any(|l| match &l.policy {
        PolicyLine::Permission {
            subject: s,
            resource: r,
            action: a,
            object: o,
            effect,
        } => {
            effect == "deny"
                && s == subject
                && covers(mode, r, resource)
                && covers(mode, a, action)
                && covers(mode, o, object)
        }
        _ => false,
    })
}

fn matches_any(mode: MatchMode, pattern: &str, values: &[&str]) -> bool {
    values.iter().any(|v| mode.matches(pattern, v))
}

/// Why an allow line grants across projects, or `None`.
fn cross_project_reason(
    resource: &str,
    action: &str,
    object: &str,
    mode: MatchMode,
) -> Option<String> {
    let scope = object_scope(object, mode);
    let writes = matches_any(mode, action, &WRITE_ACTIONS) || mode.matches(action, "*");
    if scope == ObjectScope::Many {
        return Some(format!(
            "its object `{object}` matches applications of more than one project{}",
            if mode == MatchMode::Regex && !object.starts_with('^') {
                " (regex match mode is unanchored: start the pattern with `^<project>/`)"
            } else {
                ""
            }
        ));
    }
    if mode.matches(resource, "projects") && writes {
        return Some(format!(
            "it lets the subject `{action}` AppProjects (`{object}`), so it can rewrite a project's allowed repos, destinations and kinds"
        ));
    }
    let project_scoped =
        matches!(&scope, ObjectScope::Project(p) if !p.contains(':') && !p.is_empty());
    if writes
        && !project_scoped
        && let Some(global) = GLOBAL_RESOURCES.iter().find(|g| mode.matches(resource, g))
    {
        return Some(format!(
            "it lets the subject `{action}` Argo CD-wide `{global}` (`{object}`), which every project uses"
        ));
    }
    None
}

/// Analyses policy lines (global policy or an AppProject's role policies).
/// `platform` says whether the file is platform-owned.
fn check_lines(lines: &[NumberedLine], mode: MatchMode, platform: bool, out: &mut Vec<Violation>) {
    for l in lines {
        match &l.policy {
            PolicyLine::Permission {
                subject,
                resource,
                action,
                object,
                ..
            } => {
                if !l.policy.is_allow()
                    || subject == "role:admin"
                    || neutralised(&l.policy, lines, mode)
                {
                    continue;
                }
                if let Some(why) = cross_project_reason(resource, action, object, mode) {
                    out.push(Violation::new(
                        RULE,
                        l.line,
                        format!(
                            "policy `p, {subject}, {resource}, {action}, {object}` grants across projects: {why}; \
                             scope the object to one project (`<project>/*`) or give this access through `role:admin` held by the platform team"
                        ),
                    ));
                }
            }
            PolicyLine::Grouping { member, role } => {
                if !CROSS_PROJECT_BUILTIN_ROLES.contains(&role.as_str()) {
                    continue;
                }
                if member.starts_with("role:") || member.starts_with("proj:") {
                    out.push(Violation::new(
                        RULE,
                        l.line,
                        format!(
                            "`g, {member}, {role}` makes `{member}` inherit `{role}`, which covers every project; \
                             assign `{role}` only to platform users or SSO groups, never to another role or a project role"
                        ),
                    ));
                } else if !platform {
                    out.push(Violation::new(
                        RULE,
                        l.line,
                        format!(
                            "`g, {member}, {role}` gives `{member}` `{role}` over every project from a path that is not platform-owned; \
                             move role assignments to the platform binding or grant a project-scoped role"
                        ),
                    ));
                }
            }
        }
    }
}

/// Line number of line `idx` inside a string value. A multi-line value
/// written as a block scalar (`|`) starts on the line after its key.
fn text_line(value: &Node, key_line: u32, idx: usize) -> u32 {
    let first = if value.span.line == key_line
        && matches!(&value.value, Value::Str(s) if s.contains('\n'))
    {
        key_line + 1
    } else {
        value.span.line
    };
    first.saturating_add(u32::try_from(idx).unwrap_or(u32::MAX))
}

/// Parses a policy text; unparsable lines become violations (Argo CD
/// refuses the whole policy, so what it then enforces is unknown).
fn parse_text(
    text: &str,
    value: &Node,
    key_line: u32,
    key: &str,
    out: &mut Vec<Violation>,
) -> Vec<NumberedLine> {
    let mut lines = Vec::new();
    if text.len() > MAX_POLICY_BYTES {
        out.push(Violation::new(
            RULE,
            key_line,
            format!(
                "`{key}` is larger than {MAX_POLICY_BYTES} bytes and was not analysed; split it"
            ),
        ));
        return lines;
    }
    for (i, raw) in text.split('\n').enumerate() {
        let line = text_line(value, key_line, i);
        match parse_line(raw) {
            Ok(Some(policy)) => lines.push(NumberedLine { line, policy }),
            Ok(None) => {}
            Err(why) => out.push(Violation::new(
                RULE,
                line,
                format!(
                    "`{key}` line `{}` {why}; Argo CD refuses a policy with such a line, so fix or remove it",
                    raw.trim()
                ),
            )),
        }
    }
    lines
}

/// The global policy of an `argocd-rbac-cm` data map: every line of
/// `policy.csv` and `policy.<x>.csv` (sorted by key), with the match mode.
/// Errors (unparsable lines) are pushed to `out`.
pub fn global_policy(obj: &Object, out: &mut Vec<Violation>) -> (Vec<NumberedLine>, MatchMode) {
    let Some(data) = obj.root.get("data") else {
        return (Vec::new(), MatchMode::Glob);
    };
    let mode = MatchMode::from_config(data.get("policy.matchMode").and_then(Node::as_str));
    let mut keys: Vec<&crate::engine::yaml::Entry> = data
        .as_map()
        .unwrap_or_default()
        .iter()
        .filter(|e| {
            e.key == "policy.csv"
                || (e.key.starts_with("policy.") && e.key.ends_with(".csv") && e.key.len() > 11)
        })
        .collect();
    // `policy.csv` first, then the others sorted by key, as Argo CD appends them.
    keys.sort_by(|a, b| (a.key != "policy.csv", &a.key).cmp(&(b.key != "policy.csv", &b.key)));
    let mut lines = Vec::new();
    for e in keys {
        match e.value.as_str() {
            Some(text) => lines.extend(parse_text(text, &e.value, e.key_span.line, &e.key, out)),
            None if e.value.is_null() => {}
            None => out.push(Violation::new(
                RULE,
                e.key_span.line,
                format!(
                    "`{}` is a {}, not a string, so the policy cannot be read (and the ConfigMap is invalid); write it as a block string `|`",
                    e.key,
                    e.value.type_name()
                ),
            )),
        }
    }
    (lines, mode)
}

/// True for the `argocd-rbac-cm` ConfigMap.
pub fn is_rbac_configmap(obj: &Object) -> bool {
    obj.kind == "ConfigMap" && obj.group().is_empty() && obj.name == "argocd-rbac-cm"
}

/// Roles (and direct subjects) whose allow lines in `lines` grant across
/// projects, plus the built-in cross-project roles. Used by
/// `argocd-anonymous` to judge `policy.default`.
pub fn cross_project_subjects(lines: &[NumberedLine], mode: MatchMode) -> Vec<String> {
    let mut out: Vec<String> = CROSS_PROJECT_BUILTIN_ROLES
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    for l in lines {
        if let PolicyLine::Permission {
            subject,
            resource,
            action,
            object,
            ..
        } = &l.policy
            && l.policy.is_allow()
            && !neutralised(&l.policy, lines, mode)
            && cross_project_reason(resource, action, object, mode).is_some()
            && !out.contains(subject)
        {
            out.push(subject.clone());
        }
    }
    // Roles that inherit a cross-project role are cross-project too.
    loop {
        let mut added = false;
        for l in lines {
            if let PolicyLine::Grouping { member, role } = &l.policy
                && out.contains(role)
                && !out.contains(member)
            {
                out.push(member.clone());
                added = true;
            }
        }
        if !added {
            break;
        }
    }
    out
}

/// `argocd-rbac` for one object: `argocd-rbac-cm` policy lines and
/// AppProject role policies. `platform` is the binding's `platform: true`.
pub fn check(obj: &Object, platform: bool) -> Vec<Violation> {
    let mut out = Vec::new();
    if is_rbac_configmap(obj) {
        let (lines, mode) = global_policy(obj, &mut out);
        check_lines(&lines, mode, platform, &mut out);
    } else if obj.kind == "AppProject" && obj.group() == "argoproj.io" {
        check_project_roles(obj, &mut out);
    }
    out
}

fn check_project_roles(obj: &Object, out: &mut Vec<Violation>) {
    let project = obj.name.as_str();
    let Some(roles) = obj.root.path(&["spec", "roles"]).and_then(Node::as_seq) else {
        return;
    };
    for role in roles {
        let role_name = role.get("name").and_then(Node::as_str).unwrap_or_default();
        let Some(policies) = role.get("policies").and_then(Node::as_seq) else {
            continue;
        };
        let want_subject = format!("proj:{project}:{role_name}");
        for p in policies {
            let Some(text) = p.as_str() else { continue };
            let line = p.span.line;
            let policy = match parse_line(text) {
                Ok(Some(policy)) => policy,
                Ok(None) => continue,
                Err(why) => {
                    out.push(Violation::new(
                        RULE,
                        line,
                        format!(
                            "role `{role_name}` policy `{}` {why}; Argo CD rejects it",
                            text.trim()
                        ),
                    ));
                    continue;
                }
            };
            match &policy {
                PolicyLine::Grouping { .. } => out.push(Violation::new(
                    RULE,
                    line,
                    format!(
                        "role `{role_name}` policy `{}` is a `g` line; project roles may only hold `p` lines (use `groups:` to assign the role)",
                        text.trim()
                    ),
                )),
                PolicyLine::Permission {
                    subject,
                    resource,
                    object,
                    ..
                } => {
                    if subject != &want_subject {
                        out.push(Violation::new(
                            RULE,
                            line,
                            format!(
                                "role `{role_name}` policy names subject `{subject}`, not `{want_subject}`; a project role may only grant to itself"
                            ),
                        ));
                    }
                    if !PROJECT_ROLE_RESOURCES.contains(&resource.as_str()) {
                        out.push(Violation::new(
                            RULE,
                            line,
                            format!(
                                "role `{role_name}` policy names resource `{resource}`; project roles may only use {}",
                                PROJECT_ROLE_RESOURCES.join(", ")
                            ),
                        ));
                    }
                    if policy.is_allow() {
                        match object_scope(object, MatchMode::Glob) {
                            ObjectScope::Project(p) if p == project => {}
                            _ => out.push(Violation::new(
                                RULE,
                                line,
                                format!(
                                    "role `{role_name}` policy object `{object}` is outside project `{project}`; write it as `{project}/<app>` or `{project}/*`"
                                ),
                            )),
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::manifests::object::load_objects;
    use crate::engine::yaml::Limits;

    fn obj(text: &str) -> Object {
        load_objects("f.yaml", text, &Limits::default())
            .objects
            .remove(0)
    }

    fn rbac_cm(data: &str) -> Object {
        obj(&format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-rbac-cm\n  namespace: argocd\ndata:\n{data}"
        ))
    }

    #[test]
    fn csv_parsing() {
        assert_eq!(
            parse_line("p, role:x, applications, get, a/*, allow").unwrap(),
            Some(PolicyLine::Permission {
                subject: "role:x".into(),
                resource: "applications".into(),
                action: "get".into(),
                object: "a/*".into(),
                effect: "allow".into()
            })
        );
        assert_eq!(
            parse_line(r#"p, "role:x", applications, get, "a/*,b", allow"#).unwrap(),
            Some(PolicyLine::Permission {
                subject: "role:x".into(),
                resource: "applications".into(),
                action: "get".into(),
                object: "a/*,b".into(),
                effect: "allow".into()
            })
        );
        assert_eq!(parse_line("  # comment").unwrap(), None);
        assert_eq!(parse_line("").unwrap(), None);
        assert!(parse_line("x, a, b").is_err());
        assert!(parse_line("p, a").is_err());
        assert!(parse_line(r#"p, "unterminated, a, b, c, allow"#).is_err());
        assert_eq!(
            parse_line("g, alice, role:admin").unwrap(),
            Some(PolicyLine::Grouping {
                member: "alice".into(),
                role: "role:admin".into()
            })
        );
    }

    #[test]
    fn scopes() {
        use ObjectScope::*;
        let g = MatchMode::Glob;
        assert_eq!(object_scope("team-a/*", g), Project("team-a".into()));
        assert_eq!(object_scope("team-a/ns/app", g), Project("team-a".into()));
        assert_eq!(object_scope("*", g), Many);
        assert_eq!(object_scope("*/*", g), Many);
        assert_eq!(object_scope("team-*/*", g), Many);
        assert_eq!(object_scope("team-a*", g), Many);
        assert_eq!(object_scope("{a,b}/*", g), Many);
        assert_eq!(object_scope("team-a", g), Literal("team-a".into()));
        let r = MatchMode::Regex;
        assert_eq!(object_scope("team-a/.*", r), Many, "unanchored");
        assert_eq!(object_scope("^team-a/.*", r), Project("team-a".into()));
        assert_eq!(object_scope("^team\\.a/.*", r), Project("team.a".into()));
        assert_eq!(object_scope("^team.a/.*", r), Many);
        assert_eq!(object_scope("^team-a", r), Many);
        assert_eq!(object_scope("^team-a$", r), Literal("team-a".into()));
    }

    #[test]
    fn glob_semantics_cross_slash() {
        assert!(MatchMode::Glob.matches("*", "a/b/c"));
        assert!(MatchMode::Glob.matches("team-a/*", "team-a/ns/app"));
        assert!(!MatchMode::Glob.matches("team-a/*", "team-b/app"));
        assert!(MatchMode::Regex.matches("team-a/.*", "not-team-a/app"));
        assert!(
            !MatchMode::Glob.matches("[", "["),
            "bad pattern never matches"
        );
    }

    #[test]
    fn reference_model_policy_is_clean_on_platform() {
        let o = rbac_cm(
            "  policy.default: ''\n  policy.csv: |\n    p, role:team-payments, applications, get, team-payments/*, allow\n    p, role:team-payments, applications, sync, team-payments/*, allow\n    p, role:team-payments, applications, action/*, team-payments/*, allow\n    p, role:team-payments, logs, get, team-payments/*, allow\n    p, role:team-payments, applications, *, default/*, deny\n    g, payments-team@company.com, role:team-payments\n    g, platform-admins@company.com, role:admin\n",
        );
        assert_eq!(check(&o, true), vec![]);
        // The same file outside a platform path: the admin assignment is reported.
        let v = check(&o, false);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].line, 15);
        assert!(v[0].message.contains("role:admin"));
    }

    #[test]
    fn cross_project_allow_lines() {
        let o = rbac_cm(
            "  policy.csv: |\n    p, role:dev, applications, get, */*, allow\n    p, role:dev, applications, sync, team-*/*, allow\n    p, role:dev, projects, update, team-a, allow\n    p, role:dev, clusters, update, https://kubernetes.default.svc, allow\n    p, role:dev, repositories, create, team-a/*, allow\n    p, role:dev, applications, delete, *, deny\n    p, role:admin, *, *, */*, allow\n    p, role:ci, applications, sync, team-a/*, allow\n",
        );
        let v = check(&o, true);
        let lines: Vec<u32> = v.iter().map(|v| v.line).collect();
        assert_eq!(lines, vec![8, 9, 10, 11], "{v:?}");
        assert!(v[2].message.contains("AppProjects"));
        assert!(v[3].message.contains("clusters"));
    }

    #[test]
    fn deny_always_wins() {
        let o = rbac_cm(
            "  policy.csv: |\n    p, role:dev, applications, get, */*, allow\n    p, role:dev, applications, *, *, deny\n",
        );
        assert_eq!(check(&o, true), vec![]);
        // A narrower deny does not cancel the allow.
        let o = rbac_cm(
            "  policy.csv: |\n    p, role:dev, applications, get, */*, allow\n    p, role:dev, applications, get, team-b/*, deny\n",
        );
        assert_eq!(check(&o, true).len(), 1);
    }

    #[test]
    fn extra_policy_keys_and_regex_mode() {
        let o = rbac_cm(
            "  policy.matchMode: regex\n  policy.team.csv: |\n    p, role:a, applications, get, team-a/.*, allow\n    p, role:b, applications, get, ^team-b/.*, allow\n",
        );
        let v = check(&o, true);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].line, 9);
        assert!(v[0].message.contains("unanchored"));
    }

    #[test]
    fn inheritance_of_admin_is_reported_even_on_platform() {
        let o = rbac_cm(
            "  policy.csv: |\n    g, role:team-a, role:admin\n    g, proj:team-a:ci, role:readonly\n",
        );
        assert_eq!(check(&o, true).len(), 2);
    }

    #[test]
    fn non_string_policy_is_reported() {
        let o = rbac_cm("  policy.csv:\n  - p, role:x, applications, get, '*', allow\n");
        let v = check(&o, true);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].line, 7);
    }

    #[test]
    fn bad_lines_are_reported() {
        let o = rbac_cm("  policy.csv: \"p, role:x\"\n");
        let v = check(&o, true);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].line, 7);
    }

    #[test]
    fn project_role_policies() {
        let ok = obj(
            "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata:\n  name: team-a\nspec:\n  roles:\n  - name: ci\n    policies:\n    - p, proj:team-a:ci, applications, sync, team-a/*, allow\n    - p, proj:team-a:ci, applications, delete, team-b/*, deny\n",
        );
        assert_eq!(check(&ok, false), vec![]);
        let bad = obj(
            "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata:\n  name: team-a\nspec:\n  roles:\n  - name: ci\n    policies:\n    - p, proj:team-a:ci, applications, sync, */*, allow\n    - p, role:x, applications, get, team-a/*, allow\n    - p, proj:team-a:ci, projects, update, team-a/x, allow\n    - g, bob, role:admin\n",
        );
        let v = check(&bad, false);
        let lines: Vec<u32> = v.iter().map(|v| v.line).collect();
        assert_eq!(lines, vec![9, 10, 11, 12], "{v:?}");
    }

    #[test]
    fn cross_project_subjects_follow_inheritance() {
        let o = rbac_cm(
            "  policy.csv: |\n    p, role:all, applications, get, */*, allow\n    g, role:wrapper, role:all\n    p, role:narrow, applications, get, a/*, allow\n",
        );
        let mut out = Vec::new();
        let (lines, mode) = global_policy(&o, &mut out);
        let s = cross_project_subjects(&lines, mode);
        assert!(s.contains(&"role:all".to_owned()));
        assert!(s.contains(&"role:wrapper".to_owned()));
        assert!(!s.contains(&"role:narrow".to_owned()));
    }
}
