//! Admission rules: the checks an admission controller would apply to the
//! pods an object creates — Pod Security Standards ([`pss`]) and image
//! rules ([`images`]).

pub mod images;
pub mod pss;
