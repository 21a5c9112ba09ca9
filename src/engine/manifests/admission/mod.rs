//! Admission rules: the checks an admission controller would apply to the
//! pods an object creates — Pod Security Standards ([`pss`]), image rules
//! ([`images`]) and the organisation's own Kyverno policies ([`kyverno`]).

pub mod images;
pub mod kyverno;
pub mod pss;
