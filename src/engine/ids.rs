//! Newtypes for the identifiers the engine passes around, so a SHA is never
//! confused with a path or a repository name.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A rule identifier as it appears in output, exceptions and docs
/// (`privileged`, `tenant-namespace`, `kyverno/<policy>/<rule>`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RuleId(pub String);

impl RuleId {
    /// Builds a rule id from any string.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for RuleId {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

/// A Git commit SHA (40 or 64 hex characters as GitHub sends them).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CommitSha(pub String);

impl CommitSha {
    /// Wraps a SHA string.
    pub fn new(sha: impl Into<String>) -> Self {
        Self(sha.into())
    }
    /// The full SHA.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The 7-character abbreviation GitHub shows in its UI.
    pub fn short(&self) -> &str {
        &self.0[..self.0.len().min(7)]
    }
    /// True for the all-zero SHA GitHub sends for a created or deleted ref.
    pub fn is_zero(&self) -> bool {
        !self.0.is_empty() && self.0.bytes().all(|b| b == b'0')
    }
}

impl fmt::Display for CommitSha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A repository full name, `owner/name`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RepoName(pub String);

impl RepoName {
    /// Parses `owner/name`; `None` unless there is exactly one `/` with text on both sides.
    pub fn parse(s: &str) -> Option<Self> {
        let (o, n) = s.split_once('/')?;
        if o.is_empty() || n.is_empty() || n.contains('/') {
            return None;
        }
        Some(Self(s.to_owned()))
    }
    /// The owner (user or organisation) part.
    pub fn owner(&self) -> &str {
        self.0.split_once('/').map(|(o, _)| o).unwrap_or(&self.0)
    }
    /// The repository name part.
    pub fn name(&self) -> &str {
        self.0.split_once('/').map(|(_, n)| n).unwrap_or("")
    }
    /// The full name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_name_parse() {
        let r = RepoName::parse("acme/deploy").unwrap();
        assert_eq!((r.owner(), r.name()), ("acme", "deploy"));
        assert!(RepoName::parse("acme").is_none());
        assert!(RepoName::parse("a/b/c").is_none());
        assert!(RepoName::parse("/b").is_none());
    }

    #[test]
    fn sha_short_and_zero() {
        let s = CommitSha::new("0000000000000000000000000000000000000000");
        assert!(s.is_zero());
        let s = CommitSha::new("abcdef0123456789");
        assert_eq!(s.short(), "abcdef0");
        assert!(!s.is_zero());
    }
}
