//! A finding is data: what rule fired, where, on which object, and why.
//! Rules never return `Err` for a violation; they push a [`Finding`].

use serde::{Deserialize, Serialize};

use crate::engine::ids::RuleId;

/// How bad a finding is. Errors fail the check (exit 1 / conclusion failure).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational only.
    Notice,
    /// Reported, does not fail the check.
    Warning,
    /// Fails the check.
    Error,
}

impl Severity {
    /// The lowercase spelling used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Notice => "notice",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One result of a rule. Field names follow the JSON contract in DESIGN.md.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable rule id.
    pub rule: RuleId,
    /// Severity after levels and exceptions are applied.
    pub severity: Severity,
    /// Repository-relative path with `/` separators.
    pub file: String,
    /// 1-based line of the offending key (or of the document start).
    pub line: u32,
    /// `kind` of the object, when the finding is about an object.
    pub kind: Option<String>,
    /// `metadata.name` of the object.
    pub name: Option<String>,
    /// Effective namespace of the object.
    pub namespace: Option<String>,
    /// Human-readable explanation: what is wrong and, briefly, why.
    pub message: String,
    /// For a finding on a rendered object: the file that defines the root
    /// it was rendered from (a kustomization file, later an Application or
    /// Flux Kustomization). `None` for raw files; omitted from serialised
    /// output then, so non-rendered findings keep their shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
}

impl Finding {
    /// A finding about a file position, not tied to an object.
    pub fn at(
        rule: impl Into<RuleId>,
        severity: Severity,
        file: &str,
        line: u32,
        message: impl Into<String>,
    ) -> Self {
        Self {
            rule: rule.into(),
            severity,
            file: file.to_owned(),
            line: line.max(1),
            kind: None,
            name: None,
            namespace: None,
            message: message.into(),
            root: None,
        }
    }
}

/// Sort key used everywhere output must be deterministic: file, line, rule, message.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (a.file.as_str(), a.line, a.rule.as_str(), a.message.as_str()).cmp(&(
            b.file.as_str(),
            b.line,
            b.rule.as_str(),
            b.message.as_str(),
        ))
    });
}
