//! Renderers: pure functions from an [`Evaluation`](crate::engine::evaluate::Evaluation)
//! to text, JSON and SARIF (and, for the App, check-run output).

pub mod json;
pub mod ruledoc;
pub mod sarif;
pub mod summary;
pub mod text;
