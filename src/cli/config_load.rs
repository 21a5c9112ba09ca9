//! Reading `.github/gitops-guard.yml` for the CLI.
//!
//! [`parse_config`] is the ONE function that turns config text into a
//! [`Config`]; it will switch to `engine::config::parse_config` (spans,
//! validation, org-defaults merge) once that lands. Until then it uses
//! serde-saphyr directly, which already rejects unknown keys and wrong types
//! with a line and column, and checks that every glob compiles.

use crate::engine::config::Config;

/// Most bytes accepted for a config file.
pub const MAX_CONFIG_BYTES: usize = 1024 * 1024;

/// Parses config text. `file` names the source in messages; each error is
/// one line, `file:line:column: message` (or `file: message` when no
/// position applies).
pub fn parse_config(file: &str, text: &str) -> Result<Config, Vec<String>> {
    if text.len() > MAX_CONFIG_BYTES {
        return Err(vec![format!(
            "{file}: config is {} bytes, more than the {MAX_CONFIG_BYTES}-byte limit",
            text.len()
        )]);
    }
    // An empty file (or comments only) means "all defaults".
    let blank = text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#') || l.trim() == "---");
    let config: Config = if blank {
        Config::default()
    } else {
        match serde_saphyr::from_str::<Config>(text) {
            Ok(c) => c,
            Err(e) => {
                let e = e.without_snippet();
                let msg = e.to_string();
                return Err(vec![match e.location() {
                    Some(loc) => format!(
                        "{file}:{}:{}: {}",
                        loc.line(),
                        loc.column(),
                        strip_location_suffix(&msg)
                    ),
                    None => format!("{file}: {msg}"),
                }]);
            }
        }
    };
    let mut errors = Vec::new();
    if config.version != 1 {
        errors.push(format!(
            "{file}: version: unsupported config version {} (only 1 exists)",
            config.version
        ));
    }
    let globs: [(&str, &[String]); 4] = [
        ("manifests.paths", &config.manifests.paths),
        ("manifests.ignore", &config.manifests.ignore),
        ("tenants.projects", &config.tenants.projects),
        ("admission.policies", &config.admission.policies),
    ];
    for (key, list) in globs {
        for g in list {
            if let Err(e) = super::select::glob(g) {
                errors.push(format!("{file}: {key}: bad glob {g:?}: {e}"));
            }
        }
    }
    for (i, b) in config.tenants.bindings.iter().enumerate() {
        for g in &b.paths {
            if let Err(e) = super::select::glob(g) {
                errors.push(format!(
                    "{file}: tenants.bindings[{i}].paths: bad glob {g:?}: {e}"
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(config)
    } else {
        Err(errors)
    }
}

/// serde-saphyr appends ` at line L column C` to plain messages; we already
/// lead with `file:line:column`.
fn strip_location_suffix(msg: &str) -> &str {
    match msg.rfind(" at line ") {
        Some(i) if msg[i..].contains("column") => &msg[..i],
        _ => msg,
    }
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
