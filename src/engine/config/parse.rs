//! Reading a config file: serde-saphyr with duplicate keys as errors and
//! tight budgets, a typed parse into [`Config`] (unknown keys and wrong types
//! are errors), a position tree for lines and key paths, then validation.
//!
//! Every error names the file, the line of the offending key and its key
//! path, so the check run can annotate the exact line (fail closed: any
//! config error fails the check).

use std::fmt;

use serde_saphyr::{DuplicateKeyPolicy, Error as YamlError, Options};

use super::tree::{TVal, Tree};
use super::validate::validate;
use super::{Config, ConfigSite};
use crate::engine::finding::{Finding, Severity};

/// Largest accepted config file. Real configs are a few kilobytes; the cap
/// bounds what an attacker-controlled base branch can make us allocate.
pub const MAX_CONFIG_BYTES: usize = 256 * 1024;

/// One configuration problem, at a line of a file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The config file.
    pub file: String,
    /// 1-based line of the offending key (or value / list item).
    pub line: u32,
    /// Dotted key path (`reviews.required_approvals`,
    /// `admission.exceptions[2].expires`); empty for whole-file problems.
    pub key_path: String,
    /// What is wrong and what is expected.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key_path.is_empty() {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        } else {
            write!(
                f,
                "{}:{}: {}: {}",
                self.file, self.line, self.key_path, self.message
            )
        }
    }
}

impl ConfigError {
    /// Builds an error.
    pub fn new(
        file: &str,
        line: u32,
        key_path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            file: file.to_owned(),
            line: line.max(1),
            key_path: key_path.into(),
            message: message.into(),
        }
    }

    /// The error as a `config` finding (severity error: a bad config fails
    /// the check run).
    pub fn to_finding(&self) -> Finding {
        let msg = if self.key_path.is_empty() {
            self.message.clone()
        } else {
            format!("{}: {}", self.key_path, self.message)
        };
        Finding::at("config", Severity::Error, &self.file, self.line, msg)
    }
}

/// A parsed config together with where each key was written.
#[derive(Clone, Debug)]
pub struct ParsedConfig {
    /// The file it came from (used in error messages).
    pub file: String,
    /// The typed config, defaults filled in.
    pub config: Config,
    /// Positions and presence of the keys actually written (`None` for an
    /// empty file or built-in defaults).
    pub(super) tree: Option<Tree>,
}

impl ParsedConfig {
    /// Built-in defaults, as if from an empty file named `file`.
    pub fn defaults(file: &str) -> Self {
        Self {
            file: file.to_owned(),
            config: Config::default(),
            tree: None,
        }
    }

    /// True when the file wrote the key at `path` (even with a default value).
    pub fn sets(&self, path: &[&str]) -> bool {
        self.tree.as_ref().and_then(|t| t.at(path)).is_some()
    }

    /// Line of the key at `path`, if written.
    pub fn line_of(&self, path: &[&str]) -> Option<u32> {
        self.tree
            .as_ref()
            .and_then(|t| t.entry_at(path))
            .map(|e| e.key_line)
    }
}

/// Options shared by the position tree and the typed parse, so both read
/// the text identically. `strict: false` is only used to re-read a file
/// that failed, to find the key path of the error.
fn options(strict: bool) -> Options {
    let duplicates = if strict {
        DuplicateKeyPolicy::Error
    } else {
        DuplicateKeyPolicy::FirstWins
    };
    let budget = serde_saphyr::budget! {
        max_reader_input_bytes: Some(MAX_CONFIG_BYTES),
        max_events: 100_000,
        max_aliases: 200,
        max_anchors: 200,
        max_recorded_anchor_events: 20_000,
        max_recorded_anchor_bytes: 256 * 1024,
        max_depth: 24,
        max_documents: 1,
        max_nodes: 50_000,
        max_total_scalar_bytes: MAX_CONFIG_BYTES,
        max_merge_keys: 200,
    };
    serde_saphyr::options! {
        budget: budget,
        duplicate_keys: duplicates,
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 50_000,
            max_replay_stack_depth: 16,
            max_alias_expansions_per_anchor: 200,
        },
        // A custom `!tag` in a config is a mistake, never a feature.
        reject_unsupported_tags: strict,
        with_snippet: false,
    }
}

/// Parses and validates a config file. On success the config has defaults
/// for every key not written.
pub fn parse_config(file: &str, text: &str) -> Result<Config, Vec<ConfigError>> {
    read_config(file, text).map(|p| p.config)
}

/// Like [`parse_config`], keeping positions (needed by [`super::merge_org`]).
pub fn read_config(file: &str, text: &str) -> Result<ParsedConfig, Vec<ConfigError>> {
    if text.len() > MAX_CONFIG_BYTES {
        return Err(vec![ConfigError::new(
            file,
            1,
            "",
            format!(
                "config file is {} bytes; the limit is {MAX_CONFIG_BYTES}",
                text.len()
            ),
        )]);
    }
    let tree = match serde_saphyr::from_str_with_options::<Option<Tree>>(text, options(true)) {
        Ok(t) => t,
        Err(e) => {
            // Re-read permissively only to name the key path of the error.
            let loose = serde_saphyr::from_str_with_options::<Option<Tree>>(text, options(false))
                .ok()
                .flatten();
            return Err(vec![yaml_error(file, &e, loose.as_ref())]);
        }
    };
    let tree = match tree {
        None => return Ok(ParsedConfig::defaults(file)),
        Some(t) if t.value == TVal::Null => return Ok(ParsedConfig::defaults(file)),
        Some(t) => t,
    };
    if !matches!(tree.value, TVal::Map(_)) {
        return Err(vec![ConfigError::new(
            file,
            tree.line,
            "",
            format!(
                "the config must be a mapping of sections (version, manifests, …), found a {}",
                tree.value.type_name()
            ),
        )]);
    }
    let mut config: Config = serde_saphyr::from_str_with_options(text, options(true))
        .map_err(|e| vec![yaml_error(file, &e, Some(&tree))])?;
    let errors = validate(file, &config, &tree);
    if !errors.is_empty() {
        return Err(errors);
    }
    let items = tree
        .at(&["admission", "exceptions"])
        .map(Tree::items)
        .unwrap_or(&[]);
    for (ex, node) in config.admission.exceptions.iter_mut().zip(items) {
        ex.source = Some(ConfigSite {
            file: file.to_owned(),
            line: node.line.max(1),
        });
    }
    Ok(ParsedConfig {
        file: file.to_owned(),
        config,
        tree: Some(tree),
    })
}

/// Turns a serde-saphyr error into a config error at the offending key.
fn yaml_error(file: &str, e: &YamlError, tree: Option<&Tree>) -> ConfigError {
    let (line, col) = e
        .location()
        .map(|l| (to_u32(l.line()), to_u32(l.column())))
        .unwrap_or((1, 1));
    let (key_path, key_line, found) = match tree {
        Some(t) => {
            let at = t.locate(line, col);
            (at.path, at.key_line, at.node.map(describe))
        }
        None => (String::new(), 0, None),
    };
    let inner = innermost(e);
    let message = match inner {
        YamlError::DuplicateMappingKey { key, .. } => format!(
            "duplicate key{}: every key may appear only once (which value applies would be ambiguous)",
            key.as_deref()
                .map(|k| format!(" `{k}`"))
                .unwrap_or_default()
        ),
        YamlError::MultipleDocuments { .. }
        | YamlError::Budget {
            breach: serde_saphyr::budget::BudgetBreach::Documents { .. },
            ..
        } => "the config must be a single YAML document (found a second `---` document)".into(),
        YamlError::Budget { breach, .. } => {
            format!(
                "config exceeds a parsing limit ({breach:?}); aliases, nesting and size are bounded"
            )
        }
        _ => {
            let raw = bare_message(inner);
            let raw = raw
                .replace("expected mapping start", "expected a mapping")
                .replace("expected sequence start", "expected a list");
            match found {
                Some(f) if !raw.contains("unknown field") => format!("{raw}, found {f}"),
                _ => raw,
            }
        }
    };
    // Duplicate keys are reported where the second key is, not at the first.
    let line = match inner {
        YamlError::DuplicateMappingKey { .. } => line,
        _ if key_line > 0 => key_line,
        _ => line,
    };
    ConfigError::new(file, line, key_path, message)
}

fn describe(t: &Tree) -> String {
    match &t.value {
        TVal::Null => "null (an empty value)".into(),
        TVal::Bool(b) => format!("boolean `{b}`"),
        TVal::Int(i) => format!("integer `{i}`"),
        TVal::Float(f) => format!("number `{f}`"),
        TVal::Str(s) => {
            let short: String = s.chars().take(60).collect();
            format!("string `{}`", short.escape_debug())
        }
        other => format!("a {}", other.type_name()),
    }
}

/// The error an alias replay wraps (budget breaches inside aliases are
/// reported as such).
fn innermost(e: &YamlError) -> &YamlError {
    match e.without_snippet() {
        YamlError::AliasError { error, .. } => innermost(error),
        other => other,
    }
}

/// The error text without a location suffix (the line is reported
/// separately) and without control characters.
fn bare_message(e: &YamlError) -> String {
    use serde_saphyr::{DefaultMessageFormatter, MessageFormatter};
    DefaultMessageFormatter
        .format_message(e)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn to_u32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::config::{PssLevel, Unowned};

    const F: &str = ".github/gitops-guard.yml";

    fn errs(text: &str) -> Vec<ConfigError> {
        parse_config(F, text).expect_err("expected config errors")
    }

    /// The single error of `text`, as (line, key path).
    fn one(text: &str) -> (u32, String, String) {
        let e = errs(text);
        assert_eq!(e.len(), 1, "{e:?}");
        (e[0].line, e[0].key_path.clone(), e[0].message.clone())
    }

    #[test]
    fn empty_and_comment_only_files_give_defaults() {
        for t in ["", "# nothing\n", "~\n", "---\n"] {
            assert_eq!(parse_config(F, t).unwrap(), Config::default(), "{t:?}");
        }
    }

    #[test]
    fn full_design_example_parses() {
        let text = r#"
version: 1
manifests:
  paths: ["**/*.yaml", "**/*.yml", "**/*.json"]
  ignore: [".github/**"]
tenants:
  projects: ["projects/*.yaml"]
  bindings:
    - project: team-payments
      paths: ["production/**"]
      namespace: payments
      repo: your-org/payments-manifests
    - project: platform
      paths: ["platform/**"]
      namespace: argocd
      platform: true
admission:
  level: restricted
  warn: none
  policies: ["policies/*.yaml"]
  images: { registries: [ghcr.io/acme], forbid_latest: true }
  exceptions:
    - rule: host-network-typo-free
      match: { namespace: monitoring }
      reason: "x"
gitops:
  production: ["prod-*"]
reviews:
  required_approvals: 3
  require_code_owners: true
  dismiss_stale: true
  ignore_contributors: true
  unowned: allow
signatures:
  required: true
push:
  branches: ["main", "release/*"]
  trusted_authors: ["alice", "bot@example.com", "@acme/platform"]
  alert:
    issue: true
    repository: acme/security-alerts
    webhook_url_env: SLACK_WEBHOOK
    revert_pr: false
"#;
        // The exception's rule id is deliberately unknown: one error at its line.
        let (line, path, msg) = one(text);
        assert_eq!((line, path.as_str()), (23, "admission.exceptions[0].rule"));
        assert!(msg.contains("unknown rule id"), "{msg}");
        let good = text.replace("host-network-typo-free", "host-namespaces");
        let c = parse_config(F, &good).unwrap();
        assert_eq!(c.tenants.bindings.len(), 2);
        assert!(c.tenants.bindings[1].platform);
        assert_eq!(c.tenants.bindings[0].namespace.as_deref(), Some("payments"));
        assert_eq!(c.admission.level, PssLevel::Restricted);
        assert_eq!(c.admission.warn, PssLevel::None);
        assert_eq!(c.reviews.required_approvals, 3);
        assert_eq!(c.reviews.unowned, Unowned::Allow);
        assert_eq!(
            c.push.alert.repository.as_deref(),
            Some("acme/security-alerts")
        );
        let ex = &c.admission.exceptions[0];
        assert_eq!(
            ex.source,
            Some(ConfigSite {
                file: F.into(),
                line: 23
            })
        );
    }

    #[test]
    fn unknown_keys_name_line_and_path() {
        let (line, path, msg) =
            one("version: 1\nreviews:\n  required_approvals: 2\n  requried_owners: true\n");
        assert_eq!((line, path.as_str()), (4, "reviews.requried_owners"));
        assert!(msg.contains("unknown field"), "{msg}");
        let (line, path, _) = one(
            "admission:\n  exceptions:\n    - rule: privileged\n      reason: r\n      match: {nmespace: a}\n",
        );
        assert_eq!(
            (line, path.as_str()),
            (5, "admission.exceptions[0].match.nmespace")
        );
        let (line, path, _) = one("foo: 1\n");
        assert_eq!((line, path.as_str()), (1, "foo"));
        let (line, path, _) = one(
            "tenants:\n  bindings:\n    - project: a\n      paths: [\"a/**\"]\n    - project: b\n      paths: [\"b/**\"]\n      namepsace: b\n",
        );
        assert_eq!((line, path.as_str()), (7, "tenants.bindings[1].namepsace"));
    }

    #[test]
    fn wrong_types_name_line_and_path() {
        let (line, path, msg) = one("reviews:\n  required_approvals: two\n");
        assert_eq!((line, path.as_str()), (2, "reviews.required_approvals"));
        assert!(msg.contains("found string `two`"), "{msg}");
        let (line, path, _) = one("reviews:\n  required_approvals: -1\n");
        assert_eq!((line, path.as_str()), (2, "reviews.required_approvals"));
        let (line, path, msg) = one("manifests:\n  paths: \"**/*.yaml\"\n");
        assert_eq!((line, path.as_str()), (2, "manifests.paths"));
        assert!(msg.contains("expected a list"), "{msg}");
        let (line, path, msg) = one("version: 1\nreviews:\n");
        assert_eq!((line, path.as_str()), (2, "reviews"));
        assert!(
            msg.contains("expected a mapping") && msg.contains("null"),
            "{msg}"
        );
        let (line, path, msg) = one("admission:\n  level: strict\n");
        assert_eq!((line, path.as_str()), (2, "admission.level"));
        assert!(msg.contains("unknown variant"), "{msg}");
        let (line, path, msg) = one("push:\n  branches:\n    - main\n    - {name: release}\n");
        assert_eq!((line, path.as_str()), (4, "push.branches[1]"));
        assert!(msg.contains("found a mapping"), "{msg}");
        let (line, path, _) = one("reviews:\n  required_approvals: !custom 2\n");
        assert_eq!((line, path.as_str()), (2, "reviews.required_approvals"));
        let (line, _, msg) = one("- a\n- b\n");
        assert_eq!(line, 1);
        assert!(msg.contains("mapping"), "{msg}");
    }

    #[test]
    fn yes_no_booleans_follow_yaml_1_1_for_configs() {
        // serde-saphyr accepts YAML 1.1 spellings for boolean fields, so the
        // author's intent (`no` = false) is kept rather than silently true.
        let c = parse_config(F, "signatures:\n  required: no\n").unwrap();
        assert!(!c.signatures.required);
    }

    #[test]
    fn duplicate_keys_are_errors_at_the_second_key() {
        let (line, path, msg) =
            one("version: 1\nreviews:\n  required_approvals: 1\n  required_approvals: 3\n");
        assert_eq!(line, 4);
        assert_eq!(path, "reviews.required_approvals");
        assert!(msg.contains("duplicate key `required_approvals`"), "{msg}");
        let (line, _, _) = one("signatures: {required: true, required: false}\n");
        assert_eq!(line, 1);
    }

    #[test]
    fn multiple_documents_are_rejected() {
        let (line, _, msg) = one("version: 1\n---\nversion: 1\n");
        assert!((2..=3).contains(&line), "{line}");
        assert!(msg.contains("single YAML document"), "{msg}");
    }

    #[test]
    fn alias_bombs_and_size_are_bounded() {
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = (b'a' + (i - 1) as u8) as char;
            let cur = (b'a' + i as u8) as char;
            bomb.push_str(&format!(
                "{cur}: &{cur} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        // 10^11 nodes if expanded: without the alias budget this would not
        // return at all, so reaching the assertion shows the bound holds (no
        // wall-clock check: it flakes on a loaded debug build).
        let e = errs(&bomb);
        assert!(e[0].message.contains("limit"), "{:?}", e[0]);
        let big = format!("version: 1\n# {}\n", "x".repeat(MAX_CONFIG_BYTES));
        let (line, _, msg) = one(&big);
        assert_eq!(line, 1);
        assert!(msg.contains("limit"), "{msg}");
        let deep = format!("version: 1\nx: {}{}\n", "[".repeat(200), "]".repeat(200));
        assert!(!errs(&deep).is_empty());
    }

    #[test]
    fn merge_keys_and_aliases_are_read_like_any_yaml() {
        let text = "x-common: &m {namespace: monitoring}\n";
        // Top-level helper keys are unknown keys: anchors must live inside
        // known structure.
        assert_eq!(one(text).1, "x-common");
        let text = "admission:\n  exceptions:\n    - rule: host-namespaces\n      match: &m {namespace: monitoring, kind: DaemonSet}\n      reason: node metrics\n    - rule: host-ports\n      match: *m\n      reason: node metrics\n";
        let c = parse_config(F, text).unwrap();
        assert_eq!(
            c.admission.exceptions[1].match_.kind.as_deref(),
            Some("DaemonSet")
        );
        assert_eq!(c.admission.exceptions[1].source.as_ref().unwrap().line, 6);
    }

    #[test]
    fn display_and_finding() {
        let e = &errs("reviews:\n  required_approvals: 0\n")[0];
        assert_eq!(
            e.to_string(),
            format!(
                ".github/gitops-guard.yml:2: reviews.required_approvals: {}",
                e.message
            )
        );
        let f = e.to_finding();
        assert_eq!(
            (f.rule.as_str(), f.line, f.severity),
            ("config", 2, Severity::Error)
        );
        assert_eq!(f.file, F);
    }

    proptest::proptest! {
        /// Arbitrary YAML-ish text never panics, and every error has a line
        /// within the file.
        #[test]
        fn arbitrary_text_gives_config_or_located_errors(
            s in "([a-z_]{1,12}|[ :\\-\\[\\]{},&*!|>'\"#]|\n  |\n|[0-9]{1,3}){0,60}"
        ) {
            if let Err(errs) = parse_config(F, &s) {
                let lines = s.lines().count().max(1) as u32 + 1;
                for e in errs {
                    proptest::prop_assert!(e.line >= 1 && e.line <= lines, "{e:?} in {s:?}");
                    proptest::prop_assert!(!e.message.is_empty());
                }
            }
        }
    }
}
