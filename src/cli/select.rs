//! Which files of a tree the CLI reads: manifests (`manifests.paths` minus
//! `manifests.ignore`), kustomization files (they decide namespaces), and
//! the support files the policy needs (AppProjects, Kyverno policies, CRDs).
//! Globs match like `.gitignore`/CODEOWNERS: `*` stops at `/`, `**` crosses.

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

use crate::engine::config::Config;

/// Builds one glob with our matching rules.
pub fn glob(pattern: &str) -> Result<Glob, globset::Error> {
    GlobBuilder::new(pattern).literal_separator(true).build()
}

fn set(patterns: &[String]) -> GlobSet {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        // Config validation has already rejected bad globs.
        if let Ok(g) = glob(p) {
            b.add(g);
        }
    }
    b.build().unwrap_or_else(|_| GlobSet::empty())
}

/// File names Kustomize accepts for a kustomization (owned by the engine).
pub use crate::engine::kustomize::KUSTOMIZATION_FILE_NAMES as KUSTOMIZATION_NAMES;

/// The compiled file selection of one config.
pub struct Selection {
    paths: GlobSet,
    ignore: GlobSet,
    support: GlobSet,
}

impl Selection {
    /// Compiles the config's globs.
    pub fn new(config: &Config) -> Self {
        let mut support = config.tenants.projects.clone();
        support.extend(config.admission.policies.iter().cloned());
        Selection {
            paths: set(&config.manifests.paths),
            ignore: set(&config.manifests.ignore),
            support: set(&support),
        }
    }

    /// A manifest the engine evaluates.
    pub fn is_manifest(&self, path: &str) -> bool {
        self.paths.is_match(path) && !self.ignore.is_match(path)
    }

    /// Excluded by `manifests.ignore`.
    pub fn is_ignored(&self, path: &str) -> bool {
        self.ignore.is_match(path)
    }

    /// A kustomization file (any directory).
    pub fn is_kustomization(path: &str) -> bool {
        crate::engine::kustomize::is_kustomization_file(path)
    }

    /// An AppProject or policy file named by the config.
    pub fn is_support(&self, path: &str) -> bool {
        self.support.is_match(path)
    }

    /// Worth reading at all.
    pub fn wanted(&self, path: &str) -> bool {
        self.is_manifest(path) || Self::is_kustomization(path) || self.is_support(path)
    }
}

/// Where GitHub looks for CODEOWNERS (first match wins on GitHub; any of
/// them changing is a policy change). Owned by the engine.
pub use crate::engine::codeowners::LOCATIONS as CODEOWNERS_PATHS;

/// A cheap pre-filter for CRD-bearing files: the engine parses them
/// properly; a file without this text cannot define a CRD.
pub fn may_hold_crd(text: &str) -> bool {
    text.contains("CustomResourceDefinition")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_selection() {
        let s = Selection::new(&Config::default());
        assert!(s.is_manifest("a.yaml"));
        assert!(s.is_manifest("prod/x/a.yml"));
        assert!(s.is_manifest("b.json"));
        assert!(!s.is_manifest("README.md"));
        assert!(!s.is_manifest(".github/gitops-guard.yml"));
        assert!(Selection::is_kustomization("x/Kustomization"));
        assert!(!s.wanted("x/values.txt"));
    }

    #[test]
    fn star_does_not_cross_directories() {
        let mut c = Config::default();
        c.manifests.paths = vec!["prod/*.yaml".into()];
        c.tenants.projects = vec!["projects/*.yaml".into()];
        let s = Selection::new(&c);
        assert!(s.is_manifest("prod/a.yaml"));
        assert!(!s.is_manifest("prod/sub/a.yaml"));
        assert!(s.is_support("projects/p.yaml"));
        assert!(!s.is_support("prod/a.yaml"));
    }
}
