//! What every renderer shows besides the findings: where the policy came
//! from, and counts by severity and by rule, with the exit status they imply.

use std::collections::BTreeMap;

use crate::engine::finding::{Finding, Severity};
use crate::engine::manifests::evaluate::Evaluation;

/// Facts about the run that are not findings (shown in summaries).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunInfo {
    /// Where the policy came from, one line per evaluated PATH
    /// (`.github/gitops-guard.yml`, `built-in defaults`, `deploy/.github/gitops-guard.yml at 1a2b3c4`).
    pub config_sources: Vec<String>,
    /// In change mode: the base revision as given and its commit id.
    pub base: Option<(String, String)>,
    /// The repository used for `sourceRepos` matching, when known.
    pub repo: Option<String>,
}

/// Counts derived from an evaluation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Error findings.
    pub errors: usize,
    /// Warning findings.
    pub warnings: usize,
    /// Notice findings.
    pub notices: usize,
    /// Findings per rule id.
    pub by_rule: BTreeMap<String, usize>,
    /// Manifest files read.
    pub files: usize,
    /// Objects evaluated.
    pub objects: usize,
    /// The process exit status the findings imply (0 or 1).
    pub exit_status: i32,
}

impl Summary {
    /// Counts the findings of an evaluation.
    pub fn of(ev: &Evaluation) -> Self {
        let mut s = Summary {
            files: ev.stats.files,
            objects: ev.stats.objects,
            ..Summary::default()
        };
        for f in &ev.findings {
            match f.severity {
                Severity::Error => s.errors += 1,
                Severity::Warning => s.warnings += 1,
                Severity::Notice => s.notices += 1,
            }
            *s.by_rule.entry(f.rule.as_str().to_owned()).or_default() += 1;
        }
        s.exit_status = exit_status(&ev.findings);
        s
    }

    /// Total findings.
    pub fn total(&self) -> usize {
        self.errors + self.warnings + self.notices
    }
}

/// 1 when any finding is an error, else 0 (DESIGN.md "CLI").
pub fn exit_status(findings: &[Finding]) -> i32 {
    i32::from(findings.iter().any(|f| f.severity == Severity::Error))
}

/// `1 error`, `2 errors`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(rule: &str, sev: Severity) -> Finding {
        Finding::at(rule, sev, "a.yaml", 1, "m")
    }

    #[test]
    fn counts_and_exit_status() {
        let mut ev = Evaluation {
            findings: vec![f("a", Severity::Warning), f("a", Severity::Notice)],
            ..Evaluation::default()
        };
        let s = Summary::of(&ev);
        assert_eq!(
            (s.errors, s.warnings, s.notices, s.exit_status),
            (0, 1, 1, 0)
        );
        assert_eq!(s.by_rule["a"], 2);
        ev.findings.push(f("b", Severity::Error));
        let s = Summary::of(&ev);
        assert_eq!((s.errors, s.exit_status, s.total()), (1, 1, 3));
    }

    #[test]
    fn plural_words() {
        assert_eq!(plural(1, "error"), "1 error");
        assert_eq!(plural(0, "error"), "0 errors");
    }
}
