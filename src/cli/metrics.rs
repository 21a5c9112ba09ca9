//! Prometheus metrics: one recorder for the process, every description in
//! one place.
//!
//! The `metrics` facade is global, so [`install`] is idempotent (tests build
//! several servers in one process). Each metric is declared, with its
//! helper, by the part that emits it ([`crate::github::metrics`],
//! [`crate::queue::metrics`], [`crate::pipeline::metrics`]) so no part
//! imports upwards; `describe` (below) documents all of them for `/metrics`.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::github::metrics::{API_CALLS, API_RETRIES, CACHE_LOOKUPS, RATE_LIMIT_REMAINING};
use crate::pipeline::metrics::{ALERT_SINKS, EVALUATION_SECONDS, SECURITY_ALERTS};
use crate::queue::metrics::{DELIVERIES, QUEUE_DEPTH};

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
    metrics::describe_counter!(SECURITY_ALERTS, "Security alerts raised by kind");
    metrics::describe_counter!(ALERT_SINKS, "Alert sink deliveries by sink and outcome");
}
