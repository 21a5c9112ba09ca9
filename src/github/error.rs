//! Typed GitHub errors: callers branch on the variant (a 404 team
//! membership means "not a member", a rate limit names when to come back),
//! everything else is reported.

use chrono::{DateTime, Utc};

/// A failed GitHub request (after retries).
#[derive(Debug, Clone, thiserror::Error)]
pub enum GitHubError {
    /// 404: the object does not exist or the installation cannot see it.
    #[error("not found: {0}")]
    NotFound(String),
    /// Primary or secondary rate limit still in force after the retries we
    /// allow ourselves.
    #[error("GitHub rate limit exceeded{}", .reset.map(|r| format!(" until {r}")).unwrap_or_default())]
    RateLimited {
        /// When the limit resets, if GitHub said.
        reset: Option<DateTime<Utc>>,
    },
    /// 401/403 without rate limiting: bad JWT, token or missing permission.
    #[error("GitHub authentication/permission error: {0}")]
    Auth(String),
    /// 5xx or transport failure that persisted through the retries.
    #[error("GitHub unavailable: {0}")]
    Transient(String),
    /// A documented GitHub limit we refuse to work around silently
    /// (3,000 files per PR, truncated trees): we fail closed.
    #[error("{0}")]
    Limit(String),
    /// Anything else (422, malformed responses, …).
    #[error("GitHub error{}: {message}", .status.map(|s| format!(" {s}")).unwrap_or_default())]
    Other {
        /// HTTP status, if there was a response.
        status: Option<u16>,
        /// What went wrong.
        message: String,
    },
}

impl GitHubError {
    /// Builds an [`GitHubError::Other`] without status.
    pub fn other(message: impl Into<String>) -> Self {
        Self::Other {
            status: None,
            message: message.into(),
        }
    }

    /// True for 404.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound(_))
    }
}
