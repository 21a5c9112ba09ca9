//! Organisation defaults and the tighten-only merge.
//!
//! The org's `gitops-guard.yml` (in its `.github` repository) is the floor;
//! a repository's `.github/gitops-guard.yml` may tighten it, never loosen
//! it. Only keys the repository file actually writes are compared and
//! taken over; every other value comes from the org file (whose own
//! unwritten keys are the built-in defaults, so the built-in secure
//! defaults are part of the floor too).
//!
//! What counts as looser, per key:
//! - numbers and levels: lower (`reviews.required_approvals`,
//!   `admission.level`; `admission.warn` is looser when the strictest level
//!   reported at all, `max(level, warn)`, drops);
//! - `admission.version` is neither: a repository may only restate the
//!   org's Pod Security version (namespace labels add versions instead);
//! - switches that guard something: `true` → `false` (`require_code_owners`,
//!   `dismiss_stale`, `ignore_contributors`, `signatures.required`,
//!   `signer_is_author`, `images.forbid_latest`, `alert.issue`,
//!   `alert.revert_pr`); `reviews.unowned: deny` → `allow`;
//! - lists whose entries add protection must keep every org entry
//!   (`push.branches`, `push.tags`, `gitops.production`, `admission.policies`,
//!   `tenants.projects`, `tenants.bindings`);
//! - lists whose entries grant trust may only drop entries
//!   (`push.trusted_authors`, `signatures.trusted_bots`);
//!   `admission.images.registries` must stay within the org's registries
//!   when the org restricts them;
//! - alert destinations (`alert.repository`, `alert.webhook_url_env`) the
//!   org sets cannot be redirected;
//! - `manifests.paths` / `manifests.ignore` describe the repository's
//!   layout, so they are compared only when the org file writes them: then
//!   the repo must keep every org path pattern and may not ignore more;
//!   `manifests.ignore_defaults` may go `true` → `false` (judge more
//!   files), never back.
//!
//! Exceptions are the one addition a repository may make, and only where
//! the org allows it: a repository exception is appended to the org's when
//! its rule is listed in the org file's `admission.exceptions_allowed_in_repo`
//! (default none); any other repository exception would waive what the org
//! enforces and is an error at its line. Each one is reviewed through
//! CODEOWNERS on the base branch, must carry a reason and name the workload,
//! and is reported when applied or expired; the org's own exceptions cannot
//! be removed. `exceptions_allowed_in_repo` itself is org-only
//! ([`repo_file_errors`]).

use super::parse::{ConfigError, ParsedConfig, read_config};
use super::{Config, PssLevel, Unowned};

struct M<'a> {
    org: &'a ParsedConfig,
    repo: &'a ParsedConfig,
    out: Config,
    errors: Vec<ConfigError>,
}

/// Why a repo value is looser, and optionally which list item.
struct Loose {
    item: Option<usize>,
    detail: String,
}

fn loose(detail: impl Into<String>) -> Result<(), Loose> {
    Err(Loose {
        item: None,
        detail: detail.into(),
    })
}

fn loose_item(i: usize, detail: impl Into<String>) -> Result<(), Loose> {
    Err(Loose {
        item: Some(i),
        detail: detail.into(),
    })
}

impl M<'_> {
    /// Compares and takes over one key the repo writes.
    fn field<T: Clone>(
        &mut self,
        path: &[&str],
        get: impl Fn(&Config) -> &T,
        set: impl Fn(&mut Config) -> &mut T,
        check: impl Fn(&T, &T) -> Result<(), Loose>,
    ) {
        let Some(entry) = self.repo.tree.as_ref().and_then(|t| t.entry_at(path)) else {
            return;
        };
        let (org, repo) = (get(&self.org.config), get(&self.repo.config));
        match check(org, repo) {
            Ok(()) => *set(&mut self.out) = repo.clone(),
            Err(l) => {
                let line = l
                    .item
                    .and_then(|i| entry.value.items().get(i))
                    .map_or(entry.key_line, |t| t.line);
                let key_path = match l.item {
                    Some(i) => format!("{}[{i}]", path.join(".")),
                    None => path.join("."),
                };
                self.errors.push(ConfigError::new(
                    &self.repo.file,
                    line,
                    key_path,
                    format!(
                        "loosens the organisation default in {}: {}; a repository config may only tighten it",
                        self.org.file, l.detail
                    ),
                ));
            }
        }
    }

    /// A switch where `true` is the stricter value.
    fn strict_bool(
        &mut self,
        path: &[&str],
        get: impl Fn(&Config) -> &bool,
        set: impl Fn(&mut Config) -> &mut bool,
    ) {
        let name = path.join(".");
        self.field(path, get, set, |o, r| {
            if *o && !*r {
                loose(format!("the org sets `{name}: true`"))
            } else {
                Ok(())
            }
        });
    }

    /// A list that must keep every org entry (entries add protection).
    fn superset(
        &mut self,
        path: &[&str],
        get: impl Fn(&Config) -> &Vec<String>,
        set: impl Fn(&mut Config) -> &mut Vec<String>,
    ) {
        self.field(path, get, set, |o, r| {
            let missing: Vec<_> = o.iter().filter(|x| !r.contains(x)).collect();
            if missing.is_empty() {
                Ok(())
            } else {
                loose(format!(
                    "it drops {} the org requires",
                    list(missing.iter().map(|s| s.as_str()))
                ))
            }
        });
    }

    /// A list that may only drop org entries (entries grant trust).
    fn subset(
        &mut self,
        path: &[&str],
        get: impl Fn(&Config) -> &Vec<String>,
        set: impl Fn(&mut Config) -> &mut Vec<String>,
        case_insensitive: bool,
    ) {
        self.field(path, get, set, |o, r| {
            for (i, x) in r.iter().enumerate() {
                let known = o.iter().any(|y| {
                    if case_insensitive {
                        y.eq_ignore_ascii_case(x)
                    } else {
                        y == x
                    }
                });
                if !known {
                    return loose_item(
                        i,
                        format!(
                            "`{x}` is not in the org's list ({}); adding entries grants trust",
                            list(o.iter().map(String::as_str))
                        ),
                    );
                }
            }
            Ok(())
        });
    }
}

fn list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<String> = items.map(|s| format!("`{s}`")).collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

fn level_name(l: PssLevel) -> &'static str {
    match l {
        PssLevel::None => "none",
        PssLevel::Baseline => "baseline",
        PssLevel::Restricted => "restricted",
    }
}

/// An alert destination the org sets cannot be changed or removed: sending
/// alerts elsewhere would hide them from the org's security team.
fn fixed_destination(
    key: &'static str,
) -> impl Fn(&Option<String>, &Option<String>) -> Result<(), Loose> {
    move |o, r| match o {
        Some(ov) if r.as_ref() != Some(ov) => loose(format!(
            "the org sends alerts to `push.alert.{key}: {ov}`; it cannot be redirected or removed"
        )),
        _ => Ok(()),
    }
}

/// Problems a file has only because it is a repository's file (not the
/// organisation's): keys that belong to the org file alone. Checked on
/// every path that reads a repository config, with or without an org file.
pub fn repo_file_errors(repo: &ParsedConfig) -> Vec<ConfigError> {
    const ORG_ONLY: &[&[&str]] = &[&["admission", "exceptions_allowed_in_repo"]];
    ORG_ONLY
        .iter()
        .filter(|p| repo.sets(p))
        .map(|p| {
            ConfigError::new(
                &repo.file,
                repo.line_of(p).unwrap_or(1),
                p.join("."),
                "belongs in the organisation default (`gitops-guard.yml` in the org's `.github` repository); a repository cannot decide which of its own exceptions the org allows",
            )
        })
        .collect()
}

/// Merges a repository config onto the org defaults, tighten-only. Errors
/// name the repository file, the line of the loosening key and the org
/// value it would loosen. A repository exception for a rule the org file
/// does not list in `admission.exceptions_allowed_in_repo` is an error.
pub fn merge_org(org: &ParsedConfig, repo: &ParsedConfig) -> Result<Config, Vec<ConfigError>> {
    let mut m = M {
        org,
        repo,
        out: org.config.clone(),
        errors: repo_file_errors(repo),
    };

    // manifests: layout, compared only when the org writes it.
    if org.sets(&["manifests", "paths"]) {
        m.superset(
            &["manifests", "paths"],
            |c| &c.manifests.paths,
            |c| &mut c.manifests.paths,
        );
    } else {
        m.field(
            &["manifests", "paths"],
            |c| &c.manifests.paths,
            |c| &mut c.manifests.paths,
            |_, _| Ok(()),
        );
    }
    if org.sets(&["manifests", "ignore"]) {
        m.subset(
            &["manifests", "ignore"],
            |c| &c.manifests.ignore,
            |c| &mut c.manifests.ignore,
            false,
        );
    } else {
        m.field(
            &["manifests", "ignore"],
            |c| &c.manifests.ignore,
            |c| &mut c.manifests.ignore,
            |_, _| Ok(()),
        );
    }
    // The default ignores skip files; judging more files is tighter, so a
    // repository may switch them off (`false`) under an org that keeps
    // them, but not back on under an org that switched them off. Unlike
    // the layout globs this is compared even when the org does not write
    // it: its default (`true`) is the loosest value, so nothing a
    // repository writes can loosen it.
    m.field(
        &["manifests", "ignore_defaults"],
        |c| &c.manifests.ignore_defaults,
        |c| &mut c.manifests.ignore_defaults,
        |o, r| {
            if !*o && *r {
                loose("the org sets `manifests.ignore_defaults: false` (every file is judged)")
            } else {
                Ok(())
            }
        },
    );

    // tenants
    m.superset(
        &["tenants", "projects"],
        |c| &c.tenants.projects,
        |c| &mut c.tenants.projects,
    );
    m.field(
        &["tenants", "bindings"],
        |c| &c.tenants.bindings,
        |c| &mut c.tenants.bindings,
        |o, r| match o.iter().find(|b| !r.contains(b)) {
            Some(b) => loose(format!(
                "it drops or changes the org's binding of project `{}`",
                b.project
            )),
            None => Ok(()),
        },
    );

    // admission
    m.field(
        &["admission", "level"],
        |c| &c.admission.level,
        |c| &mut c.admission.level,
        |o, r| {
            if r < o {
                loose(format!(
                    "the org enforces `admission.level: {}`",
                    level_name(*o)
                ))
            } else {
                Ok(())
            }
        },
    );
    let org_reported = org.config.admission.level.max(org.config.admission.warn);
    let repo_level = m.out.admission.level;
    m.field(
        &["admission", "warn"],
        |c| &c.admission.warn,
        |c| &mut c.admission.warn,
        |_, r| {
            if repo_level.max(*r) < org_reported {
                loose(format!(
                    "the org reports violations of the {} standard (level {}, warn {})",
                    level_name(org_reported),
                    level_name(org.config.admission.level),
                    level_name(org.config.admission.warn)
                ))
            } else {
                Ok(())
            }
        },
    );
    // A Pod Security version is neither tighter nor looser than another
    // (older ones lack checks, newer ones relax some), so a repository may
    // only restate the org's; a namespace's `enforce-version` label adds
    // another version's checks on top instead.
    m.field(
        &["admission", "version"],
        |c| &c.admission.version,
        |c| &mut c.admission.version,
        |o, r| {
            if o.same_policy(*r) {
                Ok(())
            } else {
                loose(format!(
                    "the org evaluates Pod Security at `admission.version: {o}`; versions are neither stricter nor looser, so a repository cannot change it (a Namespace's pod-security.kubernetes.io/enforce-version label adds a version's checks)"
                ))
            }
        },
    );
    m.superset(
        &["admission", "policies"],
        |c| &c.admission.policies,
        |c| &mut c.admission.policies,
    );
    m.field(
        &["admission", "images", "registries"],
        |c| &c.admission.images.registries,
        |c| &mut c.admission.images.registries,
        |o, r| {
            if o.is_empty() {
                return Ok(());
            }
            if r.is_empty() {
                return loose(format!(
                    "an empty list allows every registry, the org allows only {}",
                    list(o.iter().map(String::as_str))
                ));
            }
            for (i, x) in r.iter().enumerate() {
                let covered = o.iter().any(|y| {
                    x == y
                        || x.strip_prefix(y.as_str())
                            .is_some_and(|rest| rest.starts_with('/'))
                });
                if !covered {
                    return loose_item(
                        i,
                        format!(
                            "`{x}` is outside the org's registries ({})",
                            list(o.iter().map(String::as_str))
                        ),
                    );
                }
            }
            Ok(())
        },
    );
    m.strict_bool(
        &["admission", "images", "forbid_latest"],
        |c| &c.admission.images.forbid_latest,
        |c| &mut c.admission.images.forbid_latest,
    );
    if repo.sets(&["admission", "exceptions"]) {
        let allowed = &org.config.admission.exceptions_allowed_in_repo;
        for (i, ex) in repo.config.admission.exceptions.iter().enumerate() {
            if allowed.contains(&ex.rule) {
                m.out.admission.exceptions.push(ex.clone());
                continue;
            }
            // The org default enforces every rule it does not list; a
            // repository exception for it would waive the floor.
            let line = ex.source.as_ref().map_or_else(
                || repo.line_of(&["admission", "exceptions"]).unwrap_or(1),
                |s| s.line,
            );
            m.errors.push(ConfigError::new(
                &repo.file,
                line,
                format!("admission.exceptions[{i}].rule"),
                format!(
                    "waives `{}`, which the organisation default in {} enforces; a repository exception may only waive rules the org lists in `admission.exceptions_allowed_in_repo` ({}); ask the org to list it, or move the exception to the org file",
                    ex.rule,
                    org.file,
                    list(allowed.iter().map(String::as_str))
                ),
            ));
        }
    }

    // gitops
    m.superset(
        &["gitops", "production"],
        |c| &c.gitops.production,
        |c| &mut c.gitops.production,
    );

    // reviews
    m.field(
        &["reviews", "required_approvals"],
        |c| &c.reviews.required_approvals,
        |c| &mut c.reviews.required_approvals,
        |o, r| {
            if r < o {
                loose(format!(
                    "the org requires {o} approvals, this file asks for {r}"
                ))
            } else {
                Ok(())
            }
        },
    );
    m.strict_bool(
        &["reviews", "require_code_owners"],
        |c| &c.reviews.require_code_owners,
        |c| &mut c.reviews.require_code_owners,
    );
    m.strict_bool(
        &["reviews", "dismiss_stale"],
        |c| &c.reviews.dismiss_stale,
        |c| &mut c.reviews.dismiss_stale,
    );
    m.strict_bool(
        &["reviews", "ignore_contributors"],
        |c| &c.reviews.ignore_contributors,
        |c| &mut c.reviews.ignore_contributors,
    );
    m.field(
        &["reviews", "unowned"],
        |c| &c.reviews.unowned,
        |c| &mut c.reviews.unowned,
        |o, r| {
            if *o == Unowned::Deny && *r == Unowned::Allow {
                loose("the org sets `reviews.unowned: deny`")
            } else {
                Ok(())
            }
        },
    );

    // signatures
    m.strict_bool(
        &["signatures", "required"],
        |c| &c.signatures.required,
        |c| &mut c.signatures.required,
    );
    m.strict_bool(
        &["signatures", "signer_is_author"],
        |c| &c.signatures.signer_is_author,
        |c| &mut c.signatures.signer_is_author,
    );
    m.subset(
        &["signatures", "trusted_bots"],
        |c| &c.signatures.trusted_bots,
        |c| &mut c.signatures.trusted_bots,
        true,
    );

    // push
    m.field(
        &["push", "branches"],
        |c| &c.push.branches,
        |c| &mut c.push.branches,
        |o, r| {
            if o.is_empty() && !r.is_empty() {
                // Empty means "the default branch", which a list of names
                // cannot be shown to include.
                return loose(
                    "the org protects the default branch (`push.branches: []`); list it by name in the org config before adding branches here",
                );
            }
            let missing: Vec<_> = o.iter().filter(|x| !r.contains(x)).collect();
            if missing.is_empty() {
                Ok(())
            } else {
                loose(format!(
                    "it stops protecting {}",
                    list(missing.iter().map(|s| s.as_str()))
                ))
            }
        },
    );
    m.superset(&["push", "tags"], |c| &c.push.tags, |c| &mut c.push.tags);
    m.subset(
        &["push", "trusted_authors"],
        |c| &c.push.trusted_authors,
        |c| &mut c.push.trusted_authors,
        true,
    );
    m.strict_bool(
        &["push", "alert", "issue"],
        |c| &c.push.alert.issue,
        |c| &mut c.push.alert.issue,
    );
    m.strict_bool(
        &["push", "alert", "revert_pr"],
        |c| &c.push.alert.revert_pr,
        |c| &mut c.push.alert.revert_pr,
    );
    m.field(
        &["push", "alert", "repository"],
        |c| &c.push.alert.repository,
        |c| &mut c.push.alert.repository,
        fixed_destination("repository"),
    );
    m.field(
        &["push", "alert", "webhook_url_env"],
        |c| &c.push.alert.webhook_url_env,
        |c| &mut c.push.alert.webhook_url_env,
        fixed_destination("webhook_url_env"),
    );

    if m.errors.is_empty() {
        Ok(m.out)
    } else {
        Err(m.errors)
    }
}

/// The effective config from the optional org file and the optional repo
/// file, each given as `(file name, text)`. No org file: the repo file (or
/// built-in defaults) is used as is. Errors of both files are returned,
/// each naming its own file.
pub fn effective_config(
    org: Option<(&str, &str)>,
    repo: Option<(&str, &str)>,
) -> Result<Config, Vec<ConfigError>> {
    let org = org.map(|(f, t)| read_config(f, t)).transpose();
    let repo = repo.map(|(f, t)| read_config(f, t)).transpose();
    match (org, repo) {
        (Ok(None), Ok(None)) => Ok(Config::default()),
        (Ok(Some(o)), Ok(None)) => Ok(o.config),
        (Ok(None), Ok(Some(r))) => {
            let errors = repo_file_errors(&r);
            if errors.is_empty() {
                Ok(r.config)
            } else {
                Err(errors)
            }
        }
        (Ok(Some(o)), Ok(Some(r))) => merge_org(&o, &r),
        (Err(mut a), Err(b)) => {
            a.extend(b);
            Err(a)
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORG: &str = "org/.github/gitops-guard.yml";
    const REPO: &str = ".github/gitops-guard.yml";

    fn parsed(file: &str, text: &str) -> ParsedConfig {
        read_config(file, text).unwrap_or_else(|e| panic!("{e:#?}"))
    }

    fn merge(org: &str, repo: &str) -> Result<Config, Vec<ConfigError>> {
        merge_org(&parsed(ORG, org), &parsed(REPO, repo))
    }

    /// Asserts the merge fails with exactly one error at `line` / `key`.
    fn loosens(org: &str, repo: &str, line: u32, key: &str) -> ConfigError {
        let e = merge(org, repo).expect_err("expected a loosening error");
        assert_eq!(e.len(), 1, "{e:#?}");
        assert_eq!((e[0].line, e[0].key_path.as_str()), (line, key), "{e:#?}");
        assert_eq!(e[0].file, REPO);
        assert!(e[0].message.contains(ORG), "{}", e[0].message);
        e.into_iter().next().unwrap()
    }

    #[test]
    fn approvals_tighten_ok_loosen_error() {
        let org = "reviews:\n  required_approvals: 3\n";
        let e = loosens(
            org,
            "# repo\nreviews:\n  required_approvals: 2\n",
            3,
            "reviews.required_approvals",
        );
        assert!(e.message.contains("requires 3"), "{}", e.message);
        assert_eq!(
            merge(org, "reviews:\n  required_approvals: 4\n")
                .unwrap()
                .reviews
                .required_approvals,
            4
        );
        assert_eq!(
            merge(org, "reviews:\n  required_approvals: 3\n")
                .unwrap()
                .reviews
                .required_approvals,
            3
        );
    }

    #[test]
    fn unwritten_keys_keep_the_org_value() {
        let org = "reviews:\n  required_approvals: 3\nsignatures:\n  required: false\n";
        let c = merge(org, "admission:\n  level: restricted\n").unwrap();
        assert_eq!(c.reviews.required_approvals, 3);
        assert!(
            !c.signatures.required,
            "org value kept, not the built-in default"
        );
        assert_eq!(c.admission.level, PssLevel::Restricted);
        // And an empty repo file is exactly the org config.
        assert_eq!(merge(org, "").unwrap(), parsed(ORG, org).config);
    }

    #[test]
    fn org_floor_includes_builtin_defaults() {
        // The org file does not mention signatures: the built-in `true` is the floor.
        loosens(
            "reviews:\n  required_approvals: 3\n",
            "signatures:\n  required: false\n",
            2,
            "signatures.required",
        );
        // Turning a switch on is always fine.
        let c = merge(
            "signatures:\n  required: false\n",
            "signatures:\n  required: true\n",
        )
        .unwrap();
        assert!(c.signatures.required);
    }

    #[test]
    fn switches_true_to_false_are_errors() {
        for key in [
            "require_code_owners",
            "dismiss_stale",
            "ignore_contributors",
        ] {
            let repo = format!("reviews:\n  {key}: false\n");
            loosens("", &repo, 2, &format!("reviews.{key}"));
            assert!(merge("", &format!("reviews:\n  {key}: true\n")).is_ok());
        }
        loosens(
            "signatures:\n  signer_is_author: true\n",
            "signatures:\n  signer_is_author: false\n",
            2,
            "signatures.signer_is_author",
        );
        loosens(
            "",
            "admission:\n  images:\n    forbid_latest: false\n",
            3,
            "admission.images.forbid_latest",
        );
        loosens(
            "",
            "push:\n  alert:\n    issue: false\n",
            3,
            "push.alert.issue",
        );
        loosens(
            "push:\n  alert:\n    revert_pr: true\n",
            "push:\n  alert:\n    revert_pr: false\n",
            3,
            "push.alert.revert_pr",
        );
        assert!(
            merge("", "push:\n  alert:\n    revert_pr: true\n")
                .unwrap()
                .push
                .alert
                .revert_pr
        );
    }

    #[test]
    fn unowned_deny_to_allow() {
        loosens("", "reviews:\n  unowned: allow\n", 2, "reviews.unowned");
        assert_eq!(
            merge(
                "reviews:\n  unowned: allow\n",
                "reviews:\n  unowned: deny\n"
            )
            .unwrap()
            .reviews
            .unowned,
            Unowned::Deny
        );
    }

    #[test]
    fn admission_levels() {
        let org = "admission:\n  level: baseline\n  warn: restricted\n";
        loosens(org, "admission:\n  level: none\n", 2, "admission.level");
        loosens(org, "admission:\n  warn: none\n", 2, "admission.warn");
        loosens(org, "admission:\n  warn: baseline\n", 2, "admission.warn");
        // Enforcing restricted covers the org's restricted warnings.
        let c = merge(org, "admission:\n  level: restricted\n  warn: none\n").unwrap();
        assert_eq!(
            (c.admission.level, c.admission.warn),
            (PssLevel::Restricted, PssLevel::None)
        );
        let org = "admission:\n  level: restricted\n";
        loosens(
            org,
            "admission:\n  level: baseline\n  warn: restricted\n",
            2,
            "admission.level",
        );
    }

    #[test]
    fn admission_version_can_only_be_restated() {
        use crate::engine::manifests::admission::pss::PsaVersion;
        // Org default (latest): the repo may restate it, or name a version
        // newer than any known one (the same policy), not pin an old one.
        let c = merge("", "admission:\n  version: latest\n").unwrap();
        assert_eq!(c.admission.version, PsaVersion::Latest);
        assert!(merge("", "admission:\n  version: v1.99\n").is_ok());
        loosens("", "admission:\n  version: v1.24\n", 2, "admission.version");
        // An org pin: the repo may not move it either way.
        let org = "admission:\n  version: v1.30\n";
        let c = merge(org, "admission:\n  level: restricted\n").unwrap();
        assert_eq!(c.admission.version, PsaVersion::V1(30));
        assert!(merge(org, "admission:\n  version: v1.30\n").is_ok());
        loosens(
            org,
            "admission:\n  version: v1.29\n",
            2,
            "admission.version",
        );
        loosens(
            org,
            "admission:\n  version: latest\n",
            2,
            "admission.version",
        );
    }

    #[test]
    fn registries_must_stay_within_the_org() {
        let org = "admission:\n  images:\n    registries: [ghcr.io/acme, registry.acme.internal]\n";
        let e = loosens(
            org,
            "admission:\n  images:\n    registries:\n      - ghcr.io/acme/team\n      - docker.io\n",
            5,
            "admission.images.registries[1]",
        );
        assert!(e.message.contains("docker.io"));
        loosens(
            org,
            "admission:\n  images:\n    registries: []\n",
            3,
            "admission.images.registries",
        );
        // Prefix tricks are not sub-paths.
        loosens(
            org,
            "admission:\n  images:\n    registries: [ghcr.io/acme-evil]\n",
            3,
            "admission.images.registries[0]",
        );
        let c = merge(
            org,
            "admission:\n  images:\n    registries: [ghcr.io/acme/payments]\n",
        )
        .unwrap();
        assert_eq!(c.admission.images.registries, ["ghcr.io/acme/payments"]);
        // An org without a registry list lets repos restrict freely.
        assert!(merge("", "admission:\n  images:\n    registries: [docker.io]\n").is_ok());
    }

    #[test]
    fn protective_lists_keep_org_entries() {
        let org = "push:\n  branches: [main, \"release/*\"]\n  tags: [\"v*\"]\ngitops:\n  production: [\"prod-*\"]\nadmission:\n  policies: [\"policies/*.yaml\"]\ntenants:\n  projects: [\"projects/*.yaml\"]\n";
        let e = loosens(org, "push:\n  branches: [main]\n", 2, "push.branches");
        assert!(e.message.contains("release/*"));
        loosens(org, "push:\n  tags: []\n", 2, "push.tags");
        loosens(
            org,
            "gitops:\n  production: [\"staging-*\"]\n",
            2,
            "gitops.production",
        );
        loosens(org, "admission:\n  policies: []\n", 2, "admission.policies");
        loosens(
            org,
            "tenants:\n  projects: [other/*.yaml]\n",
            2,
            "tenants.projects",
        );
        let c = merge(org, "push:\n  branches: [main, \"release/*\", hotfix]\ngitops:\n  production: [\"prod-*\", live]\n").unwrap();
        assert_eq!(c.push.branches, ["main", "release/*", "hotfix"]);
        assert_eq!(c.gitops.production, ["prod-*", "live"]);
        // An org protecting "the default branch" cannot be shown to be kept.
        loosens(
            "push:\n  branches: []\n",
            "push:\n  branches: [main]\n",
            2,
            "push.branches",
        );
    }

    #[test]
    fn trust_lists_may_only_shrink() {
        let org = "push:\n  trusted_authors: [alice, \"@acme/platform\"]\nsignatures:\n  trusted_bots: [\"renovate[bot]\"]\n";
        let e = loosens(
            org,
            "push:\n  trusted_authors:\n    - alice\n    - mallory\n",
            4,
            "push.trusted_authors[1]",
        );
        assert!(e.message.contains("mallory"));
        loosens(
            org,
            "signatures:\n  trusted_bots: [\"renovate[bot]\", \"evil[bot]\"]\n",
            2,
            "signatures.trusted_bots[1]",
        );
        let c = merge(
            org,
            "push:\n  trusted_authors: [Alice]\nsignatures:\n  trusted_bots: []\n",
        )
        .unwrap();
        assert_eq!(c.push.trusted_authors, ["Alice"]);
        assert!(c.signatures.trusted_bots.is_empty());
    }

    #[test]
    fn alert_destinations_cannot_be_redirected() {
        let org = "push:\n  alert:\n    repository: acme/security\n    webhook_url_env: SEC_HOOK\n";
        loosens(
            org,
            "push:\n  alert:\n    repository: acme/quiet\n",
            3,
            "push.alert.repository",
        );
        loosens(
            org,
            "push:\n  alert:\n    webhook_url_env: null\n",
            3,
            "push.alert.webhook_url_env",
        );
        assert!(merge(org, "push:\n  alert:\n    repository: acme/security\n").is_ok());
        let c = merge("", "push:\n  alert:\n    repository: acme/team-alerts\n").unwrap();
        assert_eq!(c.push.alert.repository.as_deref(), Some("acme/team-alerts"));
    }

    #[test]
    fn manifests_layout_compared_only_when_the_org_writes_it() {
        // Org silent: the repo describes its own layout.
        let c = merge(
            "",
            "manifests:\n  paths: [\"apps/**/*.yaml\"]\n  ignore: [\".github/**\", \"docs/**\"]\n",
        )
        .unwrap();
        assert_eq!(c.manifests.paths, ["apps/**/*.yaml"]);
        // Org explicit: paths must be kept, ignores may not grow.
        let org = "manifests:\n  paths: [\"**/*.yaml\"]\n  ignore: [\".github/**\"]\n";
        loosens(
            org,
            "manifests:\n  paths: [\"apps/**/*.yaml\"]\n",
            2,
            "manifests.paths",
        );
        loosens(
            org,
            "manifests:\n  ignore: [\".github/**\", \"prod/**\"]\n",
            2,
            "manifests.ignore[1]",
        );
        let c = merge(
            org,
            "manifests:\n  paths: [\"**/*.yaml\", \"**/*.json\"]\n  ignore: []\n",
        )
        .unwrap();
        assert!(c.manifests.ignore.is_empty());
    }

    #[test]
    fn ignore_defaults_may_only_be_switched_off() {
        // Org silent (defaults on): a repo may judge every file.
        let c = merge("", "manifests:\n  ignore_defaults: false\n").unwrap();
        assert!(!c.manifests.ignore_defaults);
        assert!(merge("", "manifests:\n  ignore_defaults: true\n").is_ok());
        // Org judges every file: a repo may not skip the defaults again.
        let org = "manifests:\n  ignore_defaults: false\n";
        loosens(
            org,
            "version: 1\nmanifests:\n  ignore_defaults: true\n",
            3,
            "manifests.ignore_defaults",
        );
        let c = merge(org, "manifests:\n  ignore: [\"docs/**\"]\n").unwrap();
        assert!(!c.manifests.ignore_defaults, "the org floor is kept");
        assert_eq!(c.manifests.ignore, ["docs/**"]);
    }

    #[test]
    fn bindings_keep_org_bindings() {
        let org = "tenants:\n  bindings:\n    - project: platform\n      paths: [\"platform/**\"]\n      platform: true\n";
        loosens(
            org,
            "tenants:\n  bindings:\n    - project: team-a\n      paths: [\"a/**\"]\n",
            2,
            "tenants.bindings",
        );
        let c = merge(org, "tenants:\n  bindings:\n    - project: platform\n      paths: [\"platform/**\"]\n      platform: true\n    - project: team-a\n      paths: [\"a/**\"]\n").unwrap();
        assert_eq!(c.tenants.bindings.len(), 2);
    }

    #[test]
    fn repo_exceptions_are_added_to_org_exceptions() {
        let org = "admission:\n  exceptions:\n    - rule: host-namespaces\n      match: {namespace: monitoring}\n      reason: org-wide node exporter\n  exceptions_allowed_in_repo: [privileged]\n";
        let repo = "# repo\nadmission:\n  exceptions:\n    - rule: privileged\n      match: {name: csi-driver}\n      reason: CSI node plugin\n      expires: 2027-01-01\n";
        let c = merge(org, repo).unwrap();
        let ex = &c.admission.exceptions;
        assert_eq!(ex.len(), 2);
        assert_eq!(
            ex[0].source.as_ref().map(|s| (s.file.as_str(), s.line)),
            Some((ORG, 3))
        );
        assert_eq!(
            ex[1].source.as_ref().map(|s| (s.file.as_str(), s.line)),
            Some((REPO, 4))
        );
        // A repo cannot remove org exceptions by writing an empty list (it
        // can only add); removing one would be a tightening anyway.
        assert_eq!(
            merge(org, "admission:\n  exceptions: []\n")
                .unwrap()
                .admission
                .exceptions
                .len(),
            1
        );
    }

    #[test]
    fn repo_exceptions_need_the_org_to_allow_their_rule() {
        let repo = "# repo\nadmission:\n  exceptions:\n    - rule: privileged\n      match: {name: csi-driver}\n      reason: CSI node plugin\n";
        // The org says nothing: default none, the waiver is an error at its line.
        let e = merge("reviews:\n  required_approvals: 2\n", repo).unwrap_err();
        assert_eq!(e.len(), 1, "{e:#?}");
        assert_eq!(
            (e[0].file.as_str(), e[0].line, e[0].key_path.as_str()),
            (REPO, 4, "admission.exceptions[0].rule")
        );
        assert!(e[0].message.contains("`privileged`"), "{}", e[0].message);
        assert!(e[0].message.contains(ORG), "{}", e[0].message);
        // An org that allows another rule still does not allow this one.
        let other = "admission:\n  exceptions_allowed_in_repo: [host-ports]\n";
        assert!(
            merge(other, repo).unwrap_err()[0]
                .message
                .contains("`host-ports`")
        );
        // Twin: the org lists the rule, the exception applies.
        let allowing = "admission:\n  exceptions_allowed_in_repo: [privileged, host-ports]\n";
        let c = merge(allowing, repo).unwrap();
        assert_eq!(c.admission.exceptions.len(), 1);
        assert_eq!(c.admission.exceptions[0].rule, "privileged");
        // Without any org file the repository config is its own authority.
        let c = effective_config(None, Some((REPO, repo))).unwrap();
        assert_eq!(c.admission.exceptions.len(), 1);
    }

    #[test]
    fn exceptions_allowed_in_repo_is_org_only() {
        let repo = "admission:\n  exceptions_allowed_in_repo: [privileged]\n";
        for org in [
            None,
            Some((
                ORG,
                "admission:\n  exceptions_allowed_in_repo: [privileged]\n",
            )),
        ] {
            let e = effective_config(org, Some((REPO, repo))).unwrap_err();
            assert_eq!(e.len(), 1, "{e:#?}");
            assert_eq!(
                (e[0].file.as_str(), e[0].line, e[0].key_path.as_str()),
                (REPO, 2, "admission.exceptions_allowed_in_repo")
            );
        }
        // In the org file it is the point.
        let c = effective_config(Some((ORG, repo)), None).unwrap();
        assert_eq!(c.admission.exceptions_allowed_in_repo, ["privileged"]);
        // Unknown and unwaivable ids are errors at their item.
        let e = effective_config(
            Some((ORG, "admission:\n  exceptions_allowed_in_repo:\n    - privileged\n    - privilegd\n    - policy-change\n")),
            None,
        )
        .unwrap_err();
        let at: Vec<_> = e.iter().map(|e| (e.line, e.key_path.as_str())).collect();
        assert_eq!(
            at,
            [
                (4, "admission.exceptions_allowed_in_repo[1]"),
                (5, "admission.exceptions_allowed_in_repo[2]")
            ]
        );
    }

    #[test]
    fn several_loosenings_are_all_reported() {
        let e = merge(
            "",
            "reviews:\n  required_approvals: 1\n  unowned: allow\nsignatures:\n  required: false\n",
        )
        .unwrap_err();
        let lines: Vec<_> = e.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 3, 5]);
    }

    #[test]
    fn effective_config_combinations() {
        assert_eq!(effective_config(None, None).unwrap(), Config::default());
        let repo = "reviews:\n  required_approvals: 1\n";
        // No org file: the repo file stands alone.
        assert_eq!(
            effective_config(None, Some((REPO, repo)))
                .unwrap()
                .reviews
                .required_approvals,
            1
        );
        // With an org file the built-in 2 is the floor.
        let e = effective_config(Some((ORG, "version: 1\n")), Some((REPO, repo))).unwrap_err();
        assert_eq!(e[0].key_path, "reviews.required_approvals");
        // Errors from both files are reported, each with its own file.
        let e = effective_config(Some((ORG, "bogus: 1\n")), Some((REPO, "nope: 2\n"))).unwrap_err();
        let files: Vec<_> = e.iter().map(|e| e.file.as_str()).collect();
        assert_eq!(files, [ORG, REPO]);
    }

    proptest::proptest! {
        /// For numbers, switches and levels: the merge succeeds exactly when
        /// no written repo value is looser, and then takes the repo values.
        #[test]
        fn merge_is_tighten_only(
            oa in 1u32..=10, ra in 1u32..=10,
            ob: bool, rb: bool,
            ol in 0usize..3, rl in 0usize..3,
            write_a: bool, write_b: bool, write_l: bool,
        ) {
            let lv = ["none", "baseline", "restricted"];
            let org = format!(
                "reviews:\n  required_approvals: {oa}\n  dismiss_stale: {ob}\nadmission:\n  level: {}\n  warn: none\n",
                lv[ol]
            );
            let mut repo = String::from("reviews:\n  unowned: deny\n");
            if write_a { repo.push_str(&format!("  required_approvals: {ra}\n")); }
            if write_b { repo.push_str(&format!("  dismiss_stale: {rb}\n")); }
            if write_l { repo.push_str(&format!("admission:\n  level: {}\n", lv[rl])); }
            let looser = (write_a && ra < oa) || (write_b && ob && !rb) || (write_l && rl < ol);
            match merge(&org, &repo) {
                Ok(c) => {
                    proptest::prop_assert!(!looser);
                    proptest::prop_assert_eq!(c.reviews.required_approvals, if write_a { ra } else { oa });
                    proptest::prop_assert_eq!(c.reviews.dismiss_stale, if write_b { rb } else { ob });
                    let lvl = [PssLevel::None, PssLevel::Baseline, PssLevel::Restricted];
                    proptest::prop_assert_eq!(c.admission.level, lvl[if write_l { rl } else { ol }]);
                }
                Err(e) => {
                    proptest::prop_assert!(looser, "{:?}", e);
                    proptest::prop_assert!(e.iter().all(|e| e.file == REPO && e.line > 1));
                }
            }
        }
    }
}
