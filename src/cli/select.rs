//! Which files of a tree the CLI reads: manifests (`manifests.paths` minus
//! `manifests.ignore`), kustomization files (they decide namespaces), and
//! the support files the policy needs (AppProjects, Kyverno policies, CRDs).
//! Globs match like `.gitignore`/CODEOWNERS: `*` stops at `/`, `**` crosses
//! (compiled by [`crate::engine::config::globs`], as everywhere else).

use crate::engine::config::Config;
use crate::engine::config::globs::{GlobKind, GlobList, ManifestFilter};

/// File names Kustomize accepts for a kustomization (owned by the engine).
pub use crate::engine::manifests::kustomize::KUSTOMIZATION_FILE_NAMES as KUSTOMIZATION_NAMES;

/// The compiled file selection of one config. Manifests are chosen by the
/// engine's [`ManifestFilter`], the one the App uses too, so `check` and the
/// App read the same files.
pub struct Selection {
    manifests: ManifestFilter,
    support: GlobList,
}

impl Selection {
    /// Compiles the config's globs (an invalid one is an error naming its
    /// key; parsed configs were validated already).
    pub fn new(config: &Config) -> Result<Self, String> {
        let mut support = config.tenants.projects.clone();
        support.extend(config.admission.policies.iter().cloned());
        Ok(Selection {
            manifests: ManifestFilter::new(&config.manifests)
                .map_err(|e| format!("manifests: {e}"))?,
            support: GlobList::new(&support, GlobKind::Path)
                .map_err(|e| format!("tenants.projects / admission.policies: {e}"))?,
        })
    }

    /// A file that may be a manifest: read and passed to the engine, which
    /// judges a default-ignored one only if it holds a Kubernetes object.
    pub fn is_manifest(&self, path: &str) -> bool {
        self.manifests.selects(path)
    }

    /// Excluded by `manifests.ignore`.
    pub fn is_ignored(&self, path: &str) -> bool {
        self.manifests.is_ignored(path)
    }

    /// A kustomization file (any directory).
    pub fn is_kustomization(path: &str) -> bool {
        crate::engine::manifests::kustomize::is_kustomization_file(path)
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
pub use crate::engine::gates::codeowners::LOCATIONS as CODEOWNERS_PATHS;

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
        let s = Selection::new(&Config::default()).unwrap();
        assert!(s.is_manifest("a.yaml"));
        assert!(s.is_manifest("prod/x/a.yml"));
        assert!(s.is_manifest("b.json"));
        assert!(!s.is_manifest("README.md"));
        // Default ignores are still read: the engine judges them when they
        // hold a Kubernetes object.
        assert!(s.is_manifest(".github/gitops-guard.yml"));
        assert!(!s.is_ignored(".github/gitops-guard.yml"));
        assert!(Selection::is_kustomization("x/Kustomization"));
        assert!(!s.wanted("x/values.txt"));
    }

    #[test]
    fn star_does_not_cross_directories() {
        let mut c = Config::default();
        c.manifests.paths = vec!["prod/*.yaml".into()];
        c.tenants.projects = vec!["projects/*.yaml".into()];
        let s = Selection::new(&c).unwrap();
        assert!(s.is_manifest("prod/a.yaml"));
        assert!(!s.is_manifest("prod/sub/a.yaml"));
        assert!(s.is_support("projects/p.yaml"));
        assert!(!s.is_support("prod/a.yaml"));
    }

    #[test]
    fn invalid_globs_are_errors_not_empty_selections() {
        let mut c = Config::default();
        c.manifests.ignore = vec!["a/[b".into()];
        let Err(e) = Selection::new(&c) else {
            panic!("an invalid glob must not compile to a selection")
        };
        assert!(e.contains("manifests"), "{e}");
    }
}
