//! Admission rules: the checks an admission controller would apply to objects.

pub mod kyverno;
