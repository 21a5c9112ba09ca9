//! Prometheus metrics: one recorder for the process, names in one place.
//!
//! The `metrics` facade is global, so [`install`] is idempotent (tests build
//! several servers in one process). Every metric the App emits is declared
//! here with a helper, so `/metrics` stays documented in one module.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Deliveries by `event` and `outcome` (accepted, duplicate, ignored,
/// unauthorized, too_large, queue_full, bad_request, processed, failed).
pub const DELIVERIES: &str = "gitops_guard_deliveries_total";
/// Seconds spent in the pure engine per evaluation.
pub const EVALUATION_SECONDS: &str = "gitops_guard_evaluation_seconds";
/// GitHub REST calls by `endpoint` (route template) and `status`.
pub const API_CALLS: &str = "gitops_guard_github_api_calls_total";
/// Last `x-ratelimit-remaining` seen, by `installation`.
pub const RATE_LIMIT_REMAINING: &str = "gitops_guard_github_rate_limit_remaining";
/// Deliveries queued or in flight.
pub const QUEUE_DEPTH: &str = "gitops_guard_queue_depth";
/// Cache lookups by `cache` and `result` (hit, miss).
pub const CACHE_LOOKUPS: &str = "gitops_guard_cache_lookups_total";
/// API retries by `reason` (server_error, rate_limited, transport, auth).
pub const API_RETRIES: &str = "gitops_guard_github_api_retries_total";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the Prometheus recorder (once per process) and returns the
/// handle that renders `/metrics`.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Full(EVALUATION_SECONDS.into()),
                    &[
                        0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                    ],
                )
                .expect("static bucket list is non-empty");
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (a test harness); our
            // handle then renders nothing, which is acceptable there.
            let _ = metrics::set_global_recorder(recorder);
            describe();
            handle
        })
        .clone()
}

fn describe() {
    metrics::describe_counter!(DELIVERIES, "Webhook deliveries by event and outcome");
    metrics::describe_histogram!(EVALUATION_SECONDS, "Engine evaluation latency in seconds");
    metrics::describe_counter!(API_CALLS, "GitHub REST API calls by endpoint and status");
    metrics::describe_gauge!(RATE_LIMIT_REMAINING, "Last x-ratelimit-remaining seen");
    metrics::describe_gauge!(QUEUE_DEPTH, "Deliveries queued or in flight");
    metrics::describe_counter!(CACHE_LOOKUPS, "Cache lookups by cache and result");
    metrics::describe_counter!(API_RETRIES, "GitHub API retries by reason");
}

/// Counts one delivery outcome.
pub fn delivery(event: &str, outcome: &'static str) {
    // Event names come from an attacker-controlled header: bucket unknown
    // ones so label cardinality stays bounded.
    let event = crate::webhook::event::known_event_name(event).unwrap_or("other");
    metrics::counter!(DELIVERIES, "event" => event, "outcome" => outcome).increment(1);
}

/// Records one engine evaluation.
pub fn evaluation(elapsed: Duration) {
    metrics::histogram!(EVALUATION_SECONDS).record(elapsed.as_secs_f64());
}

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

/// Sets the queue depth.
pub fn queue_depth(depth: usize) {
    metrics::gauge!(QUEUE_DEPTH).set(depth as f64);
}

/// Counts a cache lookup.
pub fn cache(cache: &'static str, hit: bool) {
    let result = if hit { "hit" } else { "miss" };
    metrics::counter!(CACHE_LOOKUPS, "cache" => cache, "result" => result).increment(1);
}
