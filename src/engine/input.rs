//! Plain data the engine evaluates. The CLI fills these from the file system
//! or `git`; the App fills them from GitHub. Nothing here does I/O.

use chrono::NaiveDate;

use crate::engine::config::Config;
use crate::engine::ids::RepoName;
use crate::engine::render::Files;

/// A file's path and text as of one commit (or the work tree).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    /// Repository-relative path with `/` separators.
    pub path: String,
    /// UTF-8 content.
    pub text: String,
}

impl SourceFile {
    /// Builds a source file.
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            text: text.into(),
        }
    }
}

/// How a file changed in a PR (GitHub's `status` of `GET /pulls/{n}/files`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeStatus {
    /// New file.
    Added,
    /// Content changed.
    Modified,
    /// Deleted.
    Removed,
    /// Moved (maybe also changed); `previous_path` is set.
    Renamed,
}

/// One changed file with its base and head content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangedFile {
    /// Path at head (for removals: the removed path).
    pub path: String,
    /// For renames: the path at base.
    pub previous_path: Option<String>,
    /// Kind of change.
    pub status: ChangeStatus,
    /// Content at base (`None` for added files, or when not a manifest).
    pub base: Option<String>,
    /// Content at head (`None` for removed files).
    pub head: Option<String>,
}

/// Everything trusted: read at the **base** commit, never from the PR head.
#[derive(Clone, Debug)]
pub struct PolicyInputs {
    /// The effective config (repo config merged onto org defaults).
    pub config: Config,
    /// Where the config came from, for messages (`.github/gitops-guard.yml`, `built-in defaults`).
    pub config_source: String,
    /// Base-commit files the config points at: AppProjects
    /// (`tenants.projects`), Kyverno policies (`admission.policies`), and
    /// CRDs (for the scope of custom kinds).
    pub support: Vec<SourceFile>,
    /// This repository, for AppProject `sourceRepos` matching.
    pub repo: Option<RepoName>,
    /// Today's date, for exception expiry (passed in: the engine reads no clock).
    pub today: NaiveDate,
}

/// A whole tree to evaluate (`gitops-guard check PATH`).
#[derive(Clone, Debug, Default)]
pub struct TreeInput {
    /// Every file under the path (manifests are selected by the config).
    pub files: Vec<SourceFile>,
}

/// A change to evaluate (a PR, or `check --base REV`).
#[derive(Clone, Debug, Default)]
pub struct ChangeInput {
    /// Changed files.
    pub changed: Vec<ChangedFile>,
    /// Head-commit files that decide how changed manifests are rendered
    /// (the `kustomization.yaml` files in their directories and parents).
    /// Without [`ChangeTrees`], the renders of change mode read these plus
    /// the changed files (unchanged context files are the same at base).
    pub head_context: Vec<SourceFile>,
}

/// Both sides of a change as the renderer reads them: every file of the
/// base and head trees (read lazily by the shell: work tree, `git`, or
/// GitHub blobs), and the kustomization files each tree holds (the roots
/// are found from them). With these, change mode renders every root a
/// changed file feeds, at base and at head.
pub struct ChangeTrees<'a> {
    /// The head tree (the PR head, or the work tree).
    pub head: &'a dyn Files,
    /// The base tree.
    pub base: &'a dyn Files,
    /// Paths of every kustomization file at head.
    pub head_kustomizations: Vec<String>,
    /// Paths of every kustomization file at base.
    pub base_kustomizations: Vec<String>,
}

impl std::fmt::Debug for ChangeTrees<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeTrees")
            .field("head_kustomizations", &self.head_kustomizations)
            .field("base_kustomizations", &self.base_kustomizations)
            .finish_non_exhaustive()
    }
}
