//! Image rules (placeholder, filled below).
use crate::engine::config::ImagesConfig;
use crate::engine::object::Object;
use crate::engine::violation::Violation;
/// Checks images.
pub fn check(_obj: &Object, _cfg: &ImagesConfig) -> Vec<Violation> { Vec::new() }
