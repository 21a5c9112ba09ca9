//! How the GitHub client retries: the policy [`client`](super::client) and
//! [`auth`](super::auth) follow for transient failures and rate limits.

use std::time::Duration;

/// How the GitHub client retries transient failures and rate limits.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Total attempts per request (first try included).
    pub max_attempts: u32,
    /// First backoff for 5xx/transport errors; doubled per attempt.
    pub base_delay: Duration,
    /// Longest single wait we accept (from `retry-after`,
    /// `x-ratelimit-reset` or the backoff). A longer wait is not slept:
    /// the request fails with `RateLimited` so the worker is not parked
    /// for an hour and the check run concludes `failure` with the reason.
    pub max_wait: Duration,
    /// Wait for a secondary rate limit that names no time (GitHub says
    /// "at least one minute"), capped by `max_wait`.
    pub secondary_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_wait: Duration::from_secs(90),
            secondary_wait: Duration::from_secs(60),
        }
    }
}
