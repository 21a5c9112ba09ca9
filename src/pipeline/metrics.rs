//! Metrics the pipelines emit: engine latency, security alerts raised and
//! alert sink outcomes. The recorder and every description live in
//! `cli::metrics`.

use std::time::Duration;

/// Seconds spent in the pure engine per evaluation.
pub const EVALUATION_SECONDS: &str = "gitops_guard_evaluation_seconds";
/// Security alerts raised, by `kind` (rule id: `force-push`, …).
pub const SECURITY_ALERTS: &str = "gitops_guard_security_alerts_total";
/// Alert sink outcomes by `sink` (issue, webhook) and `outcome`.
pub const ALERT_SINKS: &str = "gitops_guard_alert_sink_total";

/// Records one engine evaluation.
pub fn evaluation(elapsed: Duration) {
    metrics::histogram!(EVALUATION_SECONDS).record(elapsed.as_secs_f64());
}

/// Counts one security alert (`kind` is a static rule id: bounded labels).
pub fn security_alert(kind: &'static str) {
    metrics::counter!(SECURITY_ALERTS, "kind" => kind).increment(1);
}

/// Counts one alert sink outcome (`ok`, `failed`, `skipped`).
pub fn alert_sink(sink: &'static str, outcome: &'static str) {
    metrics::counter!(ALERT_SINKS, "sink" => sink, "outcome" => outcome).increment(1);
}
