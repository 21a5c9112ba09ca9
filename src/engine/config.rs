//! `.github/gitops-guard.yml`: the schema (DESIGN.md "Configuration"), with
//! defaults. Parsing with positions ([`read_config`], [`parse_config`]),
//! validation, glob compilation ([`globs`]) and the tighten-only merge with
//! organisation defaults ([`merge_org`]) live in `config/` below this module.
//!
//! The config is trusted only from the base branch; a PR that edits it is
//! evaluated with the base version and reported as `policy-change`.

use serde::{Deserialize, Serialize};

/// The repository config file, read at the base commit (the one
/// definition: every path that reads or recognises the file uses it).
pub const CONFIG_PATH: &str = ".github/gitops-guard.yml";
/// The organisation default lives in this repository of the owner.
pub const ORG_CONFIG_REPO: &str = ".github";
/// Path of the organisation default inside [`ORG_CONFIG_REPO`].
pub const ORG_CONFIG_PATH: &str = "gitops-guard.yml";

/// The whole repository configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Schema version; only `1` exists.
    pub version: u32,
    /// Which files are manifests.
    pub manifests: ManifestsConfig,
    /// Tenant scoping: AppProject files and path bindings.
    pub tenants: TenantsConfig,
    /// Pod Security levels, Kyverno policies, images, exceptions.
    pub admission: AdmissionConfig,
    /// GitOps hardening settings.
    pub gitops: GitopsConfig,
    /// Review gate.
    pub reviews: ReviewsConfig,
    /// Signature gate.
    pub signatures: SignaturesConfig,
    /// Push alerts.
    pub push: PushConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            version: 1,
            manifests: ManifestsConfig::default(),
            tenants: TenantsConfig::default(),
            admission: AdmissionConfig::default(),
            gitops: GitopsConfig::default(),
            reviews: ReviewsConfig::default(),
            signatures: SignaturesConfig::default(),
            push: PushConfig::default(),
        }
    }
}

/// `manifests:`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ManifestsConfig {
    /// Globs of manifest files.
    pub paths: Vec<String>,
    /// Globs excluded from `paths`, in addition to [`DEFAULT_IGNORES`]
    /// (while `ignore_defaults` is on).
    pub ignore: Vec<String>,
    /// Skip the files of [`DEFAULT_IGNORES`] unless they hold a Kubernetes
    /// object (`false`: judge them like any other file).
    pub ignore_defaults: bool,
}

impl Default for ManifestsConfig {
    fn default() -> Self {
        Self {
            paths: vec!["**/*.yaml".into(), "**/*.yml".into(), "**/*.json".into()],
            ignore: Vec::new(),
            ignore_defaults: true,
        }
    }
}

/// Files that are never Kubernetes manifests but match the default
/// `manifests.paths` (`*.yaml`, `*.yml`, `*.json`): tool configs a newcomer's
/// repository is likely to hold. Files the default paths cannot match
/// (`renovate.json5`, `.yamllint` without an extension) need no entry.
///
/// Each pattern is anchored where its tool looks for the file: at the root
/// when the tool reads only the repository root, at any depth when it
/// searches from the working directory upwards (so a repository may keep
/// one per directory).
///
/// Unlike `manifests.ignore`, these only skip files that hold no
/// Kubernetes object: a file among them with an `apiVersion` and a `kind`
/// is judged as a manifest, so naming a Deployment `mkdocs.yml` (which Argo
/// CD or Flux would still apply from a synced directory) cannot hide it.
pub const DEFAULT_IGNORES: &[&str] = &[
    // GitHub reads workflows, issue forms, dependabot.yml, CODEOWNERS and
    // this tool's own config from `.github/` at the root only.
    ".github/**",
    // Renovate reads its config from the root only (`.github/renovate.json`
    // is covered above).
    "renovate.json",
    ".renovaterc.json",
    // sops looks for `.sops.yaml` in the working directory and its parents.
    "**/.sops.yaml",
    // pre-commit reads its config from the root of the repository.
    ".pre-commit-config.yaml",
    // MkDocs reads `mkdocs.yml` in the directory it runs in; monorepos keep
    // one per documentation project.
    "**/mkdocs.yml",
    // GitLab CI reads `.gitlab-ci.yml` at the root.
    ".gitlab-ci.yml",
    // yamllint looks for `.yamllint`, `.yamllint.yaml` and `.yamllint.yml`
    // in the working directory and its parents.
    "**/.yamllint*",
];

/// `tenants:`
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TenantsConfig {
    /// Globs of Argo CD AppProject files in this repository.
    pub projects: Vec<String>,
    /// Which paths belong to which AppProject.
    pub bindings: Vec<Binding>,
}

/// One `tenants.bindings[]` entry.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Binding {
    /// AppProject `metadata.name`.
    pub project: String,
    /// Globs of the paths this project deploys.
    pub paths: Vec<String>,
    /// Namespace for manifests that name none.
    pub namespace: Option<String>,
    /// Source repository (`owner/name` or URL); default: this repository.
    pub repo: Option<String>,
    /// Destination server; default `https://kubernetes.default.svc`.
    pub server: Option<String>,
    /// Platform-owned: may hold Argo CD / Flux objects.
    pub platform: bool,
}

/// A Pod Security Standards level.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum PssLevel {
    /// No Pod Security checks.
    None,
    /// The baseline standard.
    #[default]
    Baseline,
    /// The restricted standard (includes baseline).
    Restricted,
}

/// `admission:`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdmissionConfig {
    /// Enforced as errors.
    pub level: PssLevel,
    /// Stricter standard reported as warnings.
    pub warn: PssLevel,
    /// Pod Security Admission policy version (`latest` or `v1.N`, as PSA's
    /// `enforce-version`) for `level` and `warn`.
    pub version: crate::engine::manifests::admission::pss::PsaVersion,
    /// Globs of Kyverno ClusterPolicy/Policy files.
    pub policies: Vec<String>,
    /// Image rules.
    pub images: ImagesConfig,
    /// Documented, expiring exceptions.
    pub exceptions: Vec<Exception>,
    /// Organisation file only: rule ids a repository's own
    /// `admission.exceptions` may waive. Default none: under an org file, a
    /// repository cannot waive what the org enforces (DESIGN.md
    /// "Configuration"). Written in a repository file it is a config error.
    pub exceptions_allowed_in_repo: Vec<String>,
}

impl Default for AdmissionConfig {
    fn default() -> Self {
        Self {
            level: PssLevel::Baseline,
            warn: PssLevel::Restricted,
            version: crate::engine::manifests::admission::pss::PsaVersion::Latest,
            policies: Vec::new(),
            images: ImagesConfig::default(),
            exceptions: Vec::new(),
            exceptions_allowed_in_repo: Vec::new(),
        }
    }
}

/// `admission.images:`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImagesConfig {
    /// Allowed registries (host or host/path prefixes); empty allows any.
    pub registries: Vec<String>,
    /// Forbid `:latest` and untagged images.
    pub forbid_latest: bool,
}

impl Default for ImagesConfig {
    fn default() -> Self {
        Self {
            registries: Vec::new(),
            forbid_latest: true,
        }
    }
}

/// One `admission.exceptions[]` entry.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Exception {
    /// Rule id the exception waives.
    pub rule: String,
    /// Which objects it applies to.
    #[serde(rename = "match")]
    pub match_: ExceptionMatch,
    /// Why (required).
    pub reason: String,
    /// Last day (inclusive, `YYYY-MM-DD`) the exception applies.
    pub expires: Option<String>,
    /// Where the exception was written (set by [`read_config`]; `None` when
    /// built in code). Expired exceptions are reported at this line.
    #[serde(skip)]
    pub source: Option<ConfigSite>,
}

/// A position in a config file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigSite {
    /// The config file (`.github/gitops-guard.yml`, or the org file).
    pub file: String,
    /// 1-based line.
    pub line: u32,
}

/// `admission.exceptions[].match`: every given field must match (globs).
/// At least one of `namespace`, `kind`, `name` must be given, so an
/// exception always names the workload it waives (a `path` or `container`
/// alone would waive the rule for every object in a file or every pod).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExceptionMatch {
    /// Namespace glob.
    pub namespace: Option<String>,
    /// Kind glob.
    pub kind: Option<String>,
    /// Name glob.
    pub name: Option<String>,
    /// File path glob.
    pub path: Option<String>,
    /// Container name glob (per-container waivers).
    pub container: Option<String>,
}

/// `gitops:`
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GitopsConfig {
    /// Namespace globs treated as production (no auto-sync).
    pub production: Vec<String>,
}

/// What to do with changed files no CODEOWNERS line owns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unowned {
    /// Unowned files fail the reviews check.
    #[default]
    Deny,
    /// Unowned files need only the approval count.
    Allow,
}

/// `reviews:`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReviewsConfig {
    /// Distinct qualifying approvals needed.
    pub required_approvals: u32,
    /// Every changed file needs an approval from one of its owners.
    pub require_code_owners: bool,
    /// Approvals count only for the current head commit.
    pub dismiss_stale: bool,
    /// Authors and committers of PR commits cannot approve.
    pub ignore_contributors: bool,
    /// Changed files without owner.
    pub unowned: Unowned,
}

impl Default for ReviewsConfig {
    fn default() -> Self {
        Self {
            required_approvals: 2,
            require_code_owners: true,
            dismiss_stale: true,
            ignore_contributors: true,
            unowned: Unowned::Deny,
        }
    }
}

/// `signatures:`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignaturesConfig {
    /// Every PR commit must be verified.
    pub required: bool,
    /// The signer must be the commit author.
    pub signer_is_author: bool,
    /// Bot logins whose unsigned commits are accepted.
    pub trusted_bots: Vec<String>,
}

impl Default for SignaturesConfig {
    fn default() -> Self {
        Self {
            required: true,
            signer_is_author: false,
            trusted_bots: Vec::new(),
        }
    }
}

/// `push:`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PushConfig {
    /// Protected deployment branches (globs). Empty means the default branch.
    pub branches: Vec<String>,
    /// Protected tag patterns (globs).
    pub tags: Vec<String>,
    /// Logins, emails or `@org/team` trusted besides org members.
    pub trusted_authors: Vec<String>,
    /// Where alerts go.
    pub alert: AlertConfig,
}

impl Default for PushConfig {
    fn default() -> Self {
        Self {
            branches: vec!["main".into()],
            tags: Vec::new(),
            trusted_authors: Vec::new(),
            alert: AlertConfig::default(),
        }
    }
}

/// `push.alert:`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertConfig {
    /// Open an issue labelled `gitops-guard`, `security`.
    pub issue: bool,
    /// `owner/name` of a central alerts repository.
    pub repository: Option<String>,
    /// Environment variable holding a Slack-compatible webhook URL.
    pub webhook_url_env: Option<String>,
    /// Open a rollback PR for each alert (needs write permissions).
    pub revert_pr: bool,
}

impl Default for AlertConfig {
    fn default() -> Self {
        Self {
            issue: true,
            repository: None,
            webhook_url_env: None,
            revert_pr: false,
        }
    }
}

pub mod globs;
mod merge;
mod parse;
mod tree;
mod validate;

pub use merge::{effective_config, merge_org, repo_file_errors};
pub use parse::{ConfigError, MAX_CONFIG_BYTES, ParsedConfig, parse_config, read_config};
pub use validate::parse_date as parse_expires;
