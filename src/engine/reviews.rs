//! Review approvals.
