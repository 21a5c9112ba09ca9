//! Metrics the GitHub client emits: REST calls, retries, the rate limit
//! left, and cache lookups (shared with the pipeline's caches, which sit
//! above this part). The recorder and every description live in
//! `cli::metrics`.

/// GitHub REST calls by `endpoint` (route template) and `status`.
pub const API_CALLS: &str = "gitops_guard_github_api_calls_total";
/// Last `x-ratelimit-remaining` seen, by `installation`.
pub const RATE_LIMIT_REMAINING: &str = "gitops_guard_github_rate_limit_remaining";
/// API retries by `reason` (server_error, rate_limited, transport, auth).
pub const API_RETRIES: &str = "gitops_guard_github_api_retries_total";
/// Cache lookups by `cache` and `result` (hit, miss).
pub const CACHE_LOOKUPS: &str = "gitops_guard_cache_lookups_total";

/// Counts one GitHub API call.
pub fn api_call(endpoint: &'static str, status: u16) {
    metrics::counter!(API_CALLS, "endpoint" => endpoint, "status" => status.to_string())
        .increment(1);
}

/// Counts one retry.
pub fn api_retry(reason: &'static str) {
    metrics::counter!(API_RETRIES, "reason" => reason).increment(1);
}

/// Sets the remaining primary rate limit for an installation.
pub fn rate_limit_remaining(installation: u64, remaining: u64) {
    metrics::gauge!(RATE_LIMIT_REMAINING, "installation" => installation.to_string())
        .set(remaining as f64);
}

/// Counts a cache lookup.
pub fn cache(cache: &'static str, hit: bool) {
    let result = if hit { "hit" } else { "miss" };
    metrics::counter!(CACHE_LOOKUPS, "cache" => cache, "result" => result).increment(1);
}
