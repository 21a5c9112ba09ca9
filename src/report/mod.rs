//! Pure renderers from an engine [`crate::engine::evaluate::Evaluation`] to
//! the outputs users see.

pub mod checkrun;
