//! Reading `.github/gitops-guard.yml` for the CLI: a thin wrapper over
//! [`crate::engine::config::parse_config`] (positions, validation) that turns
//! its errors into one line each, `file:line: key: message`.

use crate::engine::config::Config;

pub use crate::engine::config::MAX_CONFIG_BYTES;

/// Parses config text. `file` names the source in messages.
pub fn parse_config(file: &str, text: &str) -> Result<Config, Vec<String>> {
    crate::engine::config::parse_config(file, text)
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
    fn wrong_type_and_bad_glob() {
        let errs = parse_config("c.yml", "reviews:\n  required_approvals: lots\n").unwrap_err();
        assert!(errs[0].starts_with("c.yml:2:"), "{}", errs[0]);
        let errs = parse_config("c.yml", "manifests:\n  paths: ['a/[b']\n").unwrap_err();
        assert!(errs[0].contains("manifests.paths"), "{}", errs[0]);
        let errs = parse_config("c.yml", "version: 2\n").unwrap_err();
        assert!(errs[0].contains("version"));
    }
}
