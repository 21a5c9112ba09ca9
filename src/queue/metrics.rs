//! Metrics of the delivery path (intake and workers): outcomes per delivery
//! and the queue depth. The recorder and every description live in
//! `cli::metrics`.

/// Deliveries by `event` and `outcome` (accepted, duplicate, ignored,
/// unauthorized, too_large, queue_full, bad_request, processed, failed,
/// dead_lettered).
pub const DELIVERIES: &str = "gitops_guard_deliveries_total";
/// Deliveries queued or in flight.
pub const QUEUE_DEPTH: &str = "gitops_guard_queue_depth";

/// Counts one delivery outcome.
pub fn delivery(event: &str, outcome: &'static str) {
    // Event names come from an attacker-controlled header: bucket unknown
    // ones so label cardinality stays bounded.
    let event = crate::github::event::known_event_name(event).unwrap_or("other");
    metrics::counter!(DELIVERIES, "event" => event, "outcome" => outcome).increment(1);
}

/// Sets the queue depth.
pub fn queue_depth(depth: usize) {
    metrics::gauge!(QUEUE_DEPTH).set(depth as f64);
}
