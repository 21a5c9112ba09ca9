//! Reading `.github/gitops-guard.yml` for the CLI: thin wrappers over the
//! engine's one effective-config function
//! ([`crate::engine::config::effective_config`], which the App's reader
//! [`crate::pipeline::config`] uses too) that turn its errors into one line
//! each, `file:line: key: message`. `check --org-config FILE` merges through
//! the same function ([`super::check::choose_config`]), so the CLI and the
//! App accept and refuse exactly the same configs.

use crate::engine::config::Config;

pub use crate::engine::config::MAX_CONFIG_BYTES;

/// Parses a repository config on its own (no organisation default).
/// `file` names the source in messages.
pub fn parse_config(file: &str, text: &str) -> Result<Config, Vec<String>> {
    effective_config(None, Some((file, text)))
}

/// The effective config of an optional org file and an optional repository
/// file, each `(file name, text)`, merged tighten-only.
pub fn effective_config(
    org: Option<(&str, &str)>,
    repo: Option<(&str, &str)>,
) -> Result<Config, Vec<String>> {
    crate::engine::config::effective_config(org, repo)
        .map_err(|errs| errs.iter().map(ToString::to_string).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_valid_configs() {
        assert_eq!(parse_config("c.yml", "").unwrap(), Config::default());
        assert_eq!(
            parse_config("c.yml", "# nothing\n---\n").unwrap(),
            Config::default()
        );
        let c = parse_config("c.yml", "admission:\n  level: restricted\n").unwrap();
        assert_eq!(
            c.admission.level,
            crate::engine::config::PssLevel::Restricted
        );
    }

    #[test]
    fn unknown_key_names_file_and_line() {
        let errs = parse_config(
            "x/.github/gitops-guard.yml",
            "version: 1\nadmission:\n  levle: baseline\n",
        )
        .unwrap_err();
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0].starts_with("x/.github/gitops-guard.yml:3:"),
            "{}",
            errs[0]
        );
        assert!(errs[0].contains("levle"), "{}", errs[0]);
    }

    #[test]
    fn repo_exceptions_follow_the_org_file() {
        let repo = "admission:\n  exceptions:\n    - rule: privileged\n      match: {kind: Pod}\n      reason: r\n";
        // Alone, the repository file is its own authority.
        assert!(parse_config("r.yml", repo).is_ok());
        // Under an org file that does not allow the rule: an error at its line.
        let errs =
            effective_config(Some(("org.yml", "version: 1\n")), Some(("r.yml", repo))).unwrap_err();
        assert!(errs[0].starts_with("r.yml:3:"), "{}", errs[0]);
        assert!(
            errs[0].contains("exceptions_allowed_in_repo"),
            "{}",
            errs[0]
        );
        // Twin: the org allows it.
        let org = "admission:\n  exceptions_allowed_in_repo: [privileged]\n";
        let c = effective_config(Some(("org.yml", org)), Some(("r.yml", repo))).unwrap();
        assert_eq!(c.admission.exceptions.len(), 1);
        // The org-only key in a repository file.
        let errs = parse_config("r.yml", org).unwrap_err();
        assert!(errs[0].starts_with("r.yml:2:"), "{}", errs[0]);
    }

    #[test]
    fn wrong_type_and_bad_glob() {
        let errs = parse_config("c.yml", "reviews:\n  required_approvals: lots\n").unwrap_err();
        assert!(errs[0].starts_with("c.yml:2:"), "{}", errs[0]);
        let errs = parse_config("c.yml", "manifests:\n  paths: ['a/[b']\n").unwrap_err();
        assert!(errs[0].contains("manifests.paths"), "{}", errs[0]);
        let errs = parse_config("c.yml", "version: 2\n").unwrap_err();
        assert!(errs[0].contains("version"));
    }
}
