//! How config globs are compiled, in one place, so validation and every
//! rule that matches them agree on the syntax.
//!
//! Two flavours:
//! - **path globs** (file paths, branch and tag names): `*` and `?` stop at
//!   `/`, `**` crosses it (`production/*` does not match
//!   `production/a/b.yaml`; `production/**` does). This is the gitignore /
//!   GitHub-ruleset reading users expect; globset's default would let `*`
//!   cross `/` and silently widen every pattern.
//! - **name globs** (namespaces, kinds, object and container names): no
//!   separator, `*` matches anything.
//!
//! Both are case-sensitive (Kubernetes names and Git paths are).

use globset::{GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};

use super::{DEFAULT_IGNORES, ManifestsConfig};

/// Which flavour of glob a config field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GlobKind {
    /// Repository-relative file paths.
    Path,
    /// Branch or tag names (`release/*`).
    Ref,
    /// Namespaces, kinds, names, containers.
    Name,
}

fn builder(pattern: &str, kind: GlobKind) -> GlobBuilder<'_> {
    let mut b = GlobBuilder::new(pattern);
    b.literal_separator(matches!(kind, GlobKind::Path | GlobKind::Ref))
        .backslash_escape(true)
        .case_insensitive(false);
    b
}

/// Checks a glob for the mistakes that would make it silently match
/// nothing, then compiles it. The error is a sentence for a config error.
pub fn check_glob(pattern: &str, kind: GlobKind) -> Result<GlobMatcher, String> {
    if pattern.trim().is_empty() {
        return Err("empty pattern".into());
    }
    if pattern != pattern.trim() {
        return Err(format!(
            "pattern `{pattern}` has leading or trailing spaces"
        ));
    }
    match kind {
        GlobKind::Path => {
            if pattern.starts_with('/') || pattern.starts_with("./") {
                return Err(format!(
                    "`{pattern}`: paths are relative to the repository root; drop the leading `{}`",
                    if pattern.starts_with('/') { "/" } else { "./" }
                ));
            }
        }
        GlobKind::Ref => {
            if pattern.starts_with("refs/") {
                return Err(format!(
                    "`{pattern}`: write branch and tag names without the `refs/heads/` or `refs/tags/` prefix"
                ));
            }
        }
        GlobKind::Name => {}
    }
    builder(pattern, kind)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| format!("invalid glob `{pattern}`: {}", e.kind()))
}

/// Compiles one glob that config parsing already validated; `None` for an
/// invalid pattern (only possible for configs built in code), which callers
/// treat as matching nothing.
pub fn glob(pattern: &str, kind: GlobKind) -> Option<GlobMatcher> {
    check_glob(pattern, kind).ok()
}

/// A compiled list of globs: matches when any pattern matches.
#[derive(Clone, Debug)]
pub struct GlobList {
    set: GlobSet,
}

impl GlobList {
    /// Compiles every pattern; the first invalid one is an error.
    pub fn new(patterns: &[String], kind: GlobKind) -> Result<Self, String> {
        let mut b = GlobSetBuilder::new();
        for p in patterns {
            check_glob(p, kind)?;
            b.add(builder(p, kind).build().map_err(|e| e.to_string())?);
        }
        Ok(Self {
            set: b.build().map_err(|e| e.to_string())?,
        })
    }

    /// True when any pattern matches `text`.
    pub fn is_match(&self, text: &str) -> bool {
        self.set.is_match(text)
    }

    /// True when the list has no patterns.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

/// `manifests.paths` minus `manifests.ignore`, and the default ignores:
/// which files are manifests. The CLI, the App and the engine all select
/// through this one type, so they agree on every path.
#[derive(Clone, Debug)]
pub struct ManifestFilter {
    paths: GlobList,
    ignore: GlobList,
    /// [`DEFAULT_IGNORES`], when `manifests.ignore_defaults` is on.
    defaults: Option<GlobList>,
}

impl ManifestFilter {
    /// Compiles the filter from the config section.
    pub fn new(cfg: &ManifestsConfig) -> Result<Self, String> {
        let defaults = if cfg.ignore_defaults {
            let d: Vec<String> = DEFAULT_IGNORES.iter().map(|p| (*p).to_owned()).collect();
            Some(GlobList::new(&d, GlobKind::Path)?)
        } else {
            None
        };
        Ok(Self {
            paths: GlobList::new(&cfg.paths, GlobKind::Path)?,
            ignore: GlobList::new(&cfg.ignore, GlobKind::Path)?,
            defaults,
        })
    }

    /// True when `path` (repository-relative, `/`-separated) may be a
    /// manifest: in `manifests.paths` and not in `manifests.ignore`. Such a
    /// file must be read; when [`Self::default_ignored`] also holds, it is
    /// judged only if it holds a Kubernetes object.
    pub fn selects(&self, path: &str) -> bool {
        self.paths.is_match(path) && !self.ignore.is_match(path)
    }

    /// True when `path` is excluded by the user's `manifests.ignore`.
    pub fn is_ignored(&self, path: &str) -> bool {
        self.ignore.is_match(path)
    }

    /// True when `path` is one of the [`DEFAULT_IGNORES`] (and they are on):
    /// a tool's config, skipped unless it holds a Kubernetes object.
    pub fn default_ignored(&self, path: &str) -> bool {
        self.defaults.as_ref().is_some_and(|d| d.is_match(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_star_stops_at_separator() {
        let g = check_glob("production/*", GlobKind::Path).unwrap();
        assert!(g.is_match("production/a.yaml"));
        assert!(!g.is_match("production/team/a.yaml"));
        let g = check_glob("production/**", GlobKind::Path).unwrap();
        assert!(g.is_match("production/team/a.yaml"));
        let g = check_glob("**/*.yaml", GlobKind::Path).unwrap();
        assert!(g.is_match("a.yaml") && g.is_match("x/y/a.yaml"));
        assert!(!g.is_match("a.yml"));
    }

    #[test]
    fn name_star_matches_everything_and_is_case_sensitive() {
        let g = check_glob("team-*", GlobKind::Name).unwrap();
        assert!(g.is_match("team-a") && g.is_match("team-a/b"));
        assert!(!g.is_match("Team-a"));
    }

    #[test]
    fn bad_globs_are_rejected_with_a_reason() {
        assert!(
            check_glob("a/[b", GlobKind::Path)
                .unwrap_err()
                .contains("invalid glob")
        );
        assert!(check_glob("{a,b", GlobKind::Name).is_err());
        assert!(check_glob("", GlobKind::Name).is_err());
        assert!(check_glob(" x", GlobKind::Name).is_err());
        assert!(
            check_glob("/production/**", GlobKind::Path)
                .unwrap_err()
                .contains("relative")
        );
        assert!(check_glob("./production/**", GlobKind::Path).is_err());
        assert!(
            check_glob("refs/heads/main", GlobKind::Ref)
                .unwrap_err()
                .contains("refs/")
        );
        assert!(check_glob("release/*", GlobKind::Ref).is_ok());
    }

    #[test]
    fn manifest_filter_applies_ignore() {
        let mut cfg = ManifestsConfig {
            ignore: vec!["docs/**".into()],
            ..ManifestsConfig::default()
        };
        let f = ManifestFilter::new(&cfg).unwrap();
        assert!(f.selects("apps/a.yaml"));
        assert!(f.selects("apps/a.json"));
        assert!(!f.selects("README.md"));
        assert!(!f.selects("docs/x.yaml") && f.is_ignored("docs/x.yaml"));
        // The user's ignore adds to the defaults, it does not replace them.
        assert!(f.default_ignored(".github/workflows/ci.yml"));
        assert!(!f.default_ignored("apps/a.yaml"));
        cfg.ignore_defaults = false;
        let f = ManifestFilter::new(&cfg).unwrap();
        assert!(!f.default_ignored(".github/workflows/ci.yml"));
        assert!(f.selects(".github/workflows/ci.yml"));
        assert!(!f.selects("docs/x.yaml"));
    }

    #[test]
    fn default_ignores_are_anchored_where_their_tools_look() {
        let f = ManifestFilter::new(&ManifestsConfig::default()).unwrap();
        for p in [
            ".github/workflows/ci.yml",
            ".github/dependabot.yml",
            ".github/renovate.json",
            "renovate.json",
            ".renovaterc.json",
            ".sops.yaml",
            "clusters/prod/.sops.yaml",
            ".pre-commit-config.yaml",
            "mkdocs.yml",
            "docs/team/mkdocs.yml",
            ".gitlab-ci.yml",
            ".yamllint.yaml",
            "apps/.yamllint.yml",
        ] {
            assert!(f.default_ignored(p), "{p} should be a default ignore");
            assert!(
                f.selects(p),
                "{p} is still read (judged if it holds objects)"
            );
        }
        // Root-only tools: the same name deeper is an ordinary file.
        for p in [
            "apps/.github/x.yaml",
            "apps/renovate.json",
            "apps/.pre-commit-config.yaml",
            "apps/.gitlab-ci.yml",
            "apps/deployment.yaml",
            "sops.yaml",
        ] {
            assert!(!f.default_ignored(p), "{p} is not a default ignore");
        }
        for p in DEFAULT_IGNORES {
            assert!(check_glob(p, GlobKind::Path).is_ok(), "{p}");
        }
    }
}
