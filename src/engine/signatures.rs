//! Commit signatures.
